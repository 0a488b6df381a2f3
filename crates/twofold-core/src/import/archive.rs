//! One file out of a ZIP archive, possibly password-encrypted (WinZip AES or the older
//! ZipCrypto): what Raivo OTP, Authenticator Plus and Proton Pass export.

use std::io::{Cursor, Read};

use zeroize::Zeroizing;

use super::{Format, ImportError, Password};

/// Most bytes read out of an archive: far beyond any real export, short of a ZIP bomb.
const MAX_MEMBER_LEN: u64 = 64 << 20;

/// Whether the archive holds a file named `member` (in any folder), and if so whether it is
/// encrypted; `None` when it does not or is no readable archive.
pub(super) fn recognise(bytes: &[u8], member: &str) -> Option<bool> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let index = index(&archive, member)?;
    Some(archive.by_index_raw(index).ok()?.encrypted())
}

fn index<R: Read + std::io::Seek>(archive: &zip::ZipArchive<R>, member: &str) -> Option<usize> {
    archive
        .file_names()
        .position(|name| name.is_ok_and(|name| name.rsplit('/').next() == Some(member)))
}

/// The bytes of `member`, decrypted with `password` when the archive is encrypted; errors are
/// `format`'s.
pub(super) fn member(
    bytes: &[u8],
    member: &str,
    password: Option<&Password>,
    format: Format,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let damaged = |problem: String| ImportError::damaged(format, problem);
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| {
        damaged("it is not a readable ZIP archive: the file is cut short or changed".to_owned())
    })?;
    let index =
        index(&archive, member).ok_or_else(|| damaged(format!("the archive holds no {member}")))?;
    let encrypted = archive
        .by_index_raw(index)
        .map_err(|_| damaged("the archive cannot be read".to_owned()))?
        .encrypted();
    let file = if encrypted {
        let password = password.ok_or(ImportError::PasswordNeeded)?;
        archive.by_index_decrypt(index, password.expose())
    } else {
        archive.by_index(index)
    };
    let file = file.map_err(|e| match e {
        zip::result::ZipError::InvalidPassword => ImportError::WrongPassword { format },
        zip::result::ZipError::UnsupportedArchive(_)
        | zip::result::ZipError::CompressionMethodNotSupported(_) => ImportError::Unsupported {
            format,
            problem: "the archive uses a compression or encryption method Twofold cannot read"
                .to_owned(),
        },
        _ => damaged("the archive cannot be read: the file is cut short or changed".to_owned()),
    })?;
    let mut content = Zeroizing::new(Vec::new());
    file.take(MAX_MEMBER_LEN).read_to_end(&mut content).map_err(|_| {
        // Both encryptions check a password with one or two bytes only; the full check is
        // WinZip AES's MAC or ZipCrypto's CRC at the end, so a wrong one fails here.
        if encrypted {
            ImportError::WrongPassword { format }
        } else {
            damaged(format!("{member} in the archive is damaged"))
        }
    })?;
    Ok(content)
}
