//! Raivo OTP's export: a ZIP archive, encrypted with a password (WinZip AES), holding
//! `raivo-otp-export.json`; that JSON file taken out of the archive reads too.
//!
//! Format: the app's exporter and password model,
//! <https://github.com/raivo-otp/ios-application/blob/master/Raivo/Features/DataExportFeature.swift>
//! and `Raivo/Models/Password.swift`. The JSON is a list of `{issuer, account, secret (base32),
//! algorithm, digits, kind (TOTP, HOTP), timer (the period), counter, iconType, iconValue,
//! pinned}`, every value written as text ("6", "30"). The archive also holds an HTML page of QR
//! codes, which is not needed.
//!
//! What the import loses: icons and pinning.

use std::io::{Cursor, Read};

use serde_json::Value;
use zeroize::Zeroizing;

use super::json::{self, Entry, Fields};
use super::{Content, Format, ImportError, Imported, Password};

const FORMAT: Format = Format::Raivo;

/// The archive member holding the accounts.
const MEMBER: &str = "raivo-otp-export.json";

/// Most bytes read out of the archive: far beyond any real export, short of a ZIP bomb.
const MAX_MEMBER_LEN: u64 = 64 << 20;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    match content {
        Content::Zip(bytes) => {
            let mut archive = zip::ZipArchive::new(Cursor::new(*bytes)).ok()?;
            let index = member_index(&archive)?;
            let encrypted = archive.by_index_raw(index).ok()?.encrypted();
            Some(encrypted)
        }
        Content::Json(document) => {
            let first = Fields::of(document.value().as_array()?.first()?)?;
            (first.has("secret") && first.has("kind") && first.has("timer")).then_some(false)
        }
        _ => None,
    }
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    let Content::Zip(bytes) = content else {
        return entries(content.json(FORMAT)?);
    };
    let text = member(bytes, password)?;
    let text = super::decrypted_text(FORMAT, &text)?;
    let document = json::Document::parse(text).map_err(|e| damaged(json::problem(&e)))?;
    entries(document.value())
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

fn member_index<R: std::io::Read + std::io::Seek>(archive: &zip::ZipArchive<R>) -> Option<usize> {
    archive
        .file_names()
        .position(|name| name.is_ok_and(|name| name.rsplit('/').next() == Some(MEMBER)))
}

/// The bytes of `raivo-otp-export.json`, decrypted with `password` when the archive is encrypted.
fn member(bytes: &[u8], password: Option<&Password>) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| {
        damaged("it is not a readable ZIP archive: the file is cut short or changed")
    })?;
    let index =
        member_index(&archive).ok_or_else(|| damaged(format!("the archive holds no {MEMBER}")))?;
    let encrypted =
        archive.by_index_raw(index).map_err(|_| damaged("the archive cannot be read"))?.encrypted();
    let file = if encrypted {
        let password = password.ok_or(ImportError::PasswordNeeded)?;
        archive.by_index_decrypt(index, password.expose())
    } else {
        archive.by_index(index)
    };
    let file = file.map_err(|e| match e {
        zip::result::ZipError::InvalidPassword => ImportError::WrongPassword { format: FORMAT },
        zip::result::ZipError::UnsupportedArchive(_)
        | zip::result::ZipError::CompressionMethodNotSupported(_) => ImportError::Unsupported {
            format: FORMAT,
            problem: "the archive uses a compression or encryption method Twofold cannot read"
                .to_owned(),
        },
        _ => damaged("the archive cannot be read: the file is cut short or changed"),
    })?;
    let mut text = Zeroizing::new(Vec::new());
    file.take(MAX_MEMBER_LEN).read_to_end(&mut text).map_err(|_| {
        // WinZip AES checks the password with two bytes only; the full check is the MAC at the end.
        if encrypted {
            ImportError::WrongPassword { format: FORMAT }
        } else {
            damaged(format!("{MEMBER} in the archive is damaged"))
        }
    })?;
    Ok(text)
}

fn entries(value: &Value) -> Result<Imported, ImportError> {
    let items = value.as_array().ok_or_else(|| damaged("it is not a list of accounts"))?;
    Ok(json::each_entry(items, |fields| {
        let text = |key| fields.text(key).ok().flatten().unwrap_or_default().trim().to_owned();
        let (issuer, name) = (text("issuer"), text("account"));
        entry(fields, issuer.clone(), name.clone())
            .map_err(|message| (json::label(&issuer, &name), message))
    }))
}

fn entry(fields: Fields<'_>, issuer: String, name: String) -> Result<crate::Credential, String> {
    let secret = json::base32_secret(fields.required_text("secret")?)?;
    Entry {
        issuer,
        name,
        algorithm: fields.text("algorithm")?.map(json::algorithm).transpose()?,
        digits: fields.number("digits")?,
        period: fields.number("timer")?,
        counter: fields.number("counter")?,
        ..Entry::new(json::kind(fields.text("kind")?.unwrap_or("TOTP"))?)
    }
    .credential(secret)
}
