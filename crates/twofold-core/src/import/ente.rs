//! Ente Auth's export: encrypted JSON, or plain text (read as an otpauth URI list).
//!
//! Format: <https://github.com/ente-io/ente/blob/main/docs/docs/auth/migration/export.md>. The
//! encrypted export is `{version: 1, kdfParams: {memLimit, opsLimit, salt}, encryptedData,
//! encryptionNonce}` (standard base64). The key is libsodium's `crypto_pwhash` (Argon2id v1.3,
//! one lane, `opsLimit` passes over `memLimit` bytes, 32-byte output) of the password; the data is
//! one message of libsodium's `crypto_secretstream_xchacha20poly1305` whose 24-byte header is
//! `encryptionNonce`. Decrypted, and in the plain export, it is `otpauth://` URIs, one per line
//! (with Ente's own extra parameters, such as `codeDisplay`, which are ignored).
//!
//! What the import loses: Ente's tags, notes, pinning and trash state (the extra parameters).

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

use super::json::Fields;
use super::{Content, Format, ImportError, Imported, Password, uri_list};

const FORMAT: Format = Format::Ente;

/// The export versions this module knows.
const VERSION: u64 = 1;

/// Most Argon2 memory a file may ask for: libsodium's "sensitive" level, the most Ente uses.
const MAX_MEMORY: u64 = 1 << 30;

/// Most Argon2 work (memory times passes): the sensitive level's 4 passes over 1 GiB, which Ente
/// trades for more passes over less memory on small phones.
const MAX_WORK: u64 = 4 << 30;

/// Standard base64, as libsodium's `ORIGINAL` variant writes it; padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Json(document) = content else { return None };
    let top = Fields::of(document.value())?;
    (top.has("kdfParams") && top.has("encryptedData")).then_some(true)
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    if let Content::Text(text) = content {
        return Ok(uri_list(text));
    }
    let top =
        Fields::of(content.json(FORMAT)?).ok_or_else(|| damaged("it is not a JSON object"))?;
    match top.number("version").map_err(damaged)? {
        Some(VERSION) => {}
        Some(other) => {
            return Err(ImportError::Unsupported {
                format: FORMAT,
                problem: format!("it has format version {other}; this Twofold reads version 1"),
            });
        }
        None => return Err(damaged("it has no \"version\"")),
    }
    let kdf = top
        .object("kdfParams")
        .map_err(damaged)?
        .ok_or_else(|| damaged("it has no \"kdfParams\""))?;
    let bytes = |fields: Fields<'_>, key: &str| {
        let text = fields.required_text(key).map_err(damaged)?;
        BASE64
            .decode(text.trim())
            .map_err(|_| damaged(format!("its \"{key}\" is not valid base64")))
    };
    let (salt, ciphertext, header) =
        (bytes(kdf, "salt")?, bytes(top, "encryptedData")?, bytes(top, "encryptionNonce")?);
    let password = password.ok_or(ImportError::PasswordNeeded)?;
    let key = derive_key(kdf, &salt, password)?;
    let header: &[u8; crate::secretstream::HEADER_LEN] = header
        .as_slice()
        .try_into()
        .map_err(|_| damaged("its \"encryptionNonce\" is not 24 bytes long"))?;
    if ciphertext.len() < 1 + crate::secretstream::MAC_LEN {
        return Err(damaged("its encrypted data is too short: the file is cut short"));
    }
    let plaintext = crate::secretstream::open(&key, header, &ciphertext)
        .ok_or(ImportError::WrongPassword { format: FORMAT })?;
    let text = super::decrypted_text(FORMAT, &plaintext)?;
    Ok(uri_list(text))
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

/// libsodium's `crypto_pwhash` with Argon2id at the file's limits.
fn derive_key(
    kdf: Fields<'_>,
    salt: &[u8],
    password: &Password,
) -> Result<Zeroizing<[u8; 32]>, ImportError> {
    let number = |key: &str| {
        kdf.number(key)
            .map_err(damaged)?
            .ok_or_else(|| damaged(format!("its key parameters have no \"{key}\"")))
    };
    let (memory, passes) = (number("memLimit")?, number("opsLimit")?);
    if memory > MAX_MEMORY || memory.saturating_mul(passes) > MAX_WORK {
        return Err(ImportError::TooCostly {
            format: FORMAT,
            detail: format!("Argon2id over {} MiB, {passes} passes", memory >> 20),
        });
    }
    let invalid = || {
        damaged(format!("its key parameters (memLimit {memory}, opsLimit {passes}) are not valid"))
    };
    let kib = u32::try_from(memory / 1024).map_err(|_| invalid())?;
    let passes = u32::try_from(passes).map_err(|_| invalid())?;
    let params = argon2::Params::new(kib, passes, 1, Some(32)).map_err(|_| invalid())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password.expose(), salt, key.as_mut_slice())
        .map_err(|_| damaged("its key salt is not valid"))?;
    Ok(key)
}
