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

use serde_json::Value;

use super::json::{self, Entry, Fields};
use super::{Content, Format, ImportError, Imported, Password, archive};

const FORMAT: Format = Format::Raivo;

/// The archive member holding the accounts.
const MEMBER: &str = "raivo-otp-export.json";

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    match content {
        Content::Zip(bytes) => archive::recognise(bytes, MEMBER),
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
    let text = archive::member(bytes, MEMBER, password, FORMAT)?;
    let text = super::decrypted_text(FORMAT, &text)?;
    let document = json::Document::parse(text).map_err(|e| damaged(json::problem(&e)))?;
    entries(document.value())
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
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
