//! Duo Mobile's `accounts.json` (Android app data, `files/duokit/accounts.json`).
//!
//! Format: Duo documents none; the fields are those Aegis reads (`DuoImporter.java`). A JSON list
//! of `{name, accountType, otpGenerator: {otpSecret (base32), counter}, logoUri, pkey}`. An entry
//! with a `counter` is HOTP, otherwise TOTP; both with SHA1, 6 digits and 30 s.
//!
//! What the import loses: logos, and Duo Push accounts (`accountType` other than `OtpAccount`),
//! which are Duo's own sign-in approvals and hold no one-time password: those are reported.

use super::json::{self, Entry, Fields};
use super::{Content, Format, ImportError, Imported};
use crate::Kind;

const FORMAT: Format = Format::Duo;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Json(document) = content else { return None };
    let first = Fields::of(document.value().as_array()?.first()?)?;
    (first.has("otpGenerator") || first.has("accountType") && first.has("pkey")).then_some(false)
}

pub(super) fn read(content: &Content<'_>) -> Result<Imported, ImportError> {
    let items = content
        .json(FORMAT)?
        .as_array()
        .ok_or_else(|| ImportError::damaged(FORMAT, "it is not a list of accounts"))?;
    Ok(json::each_entry(items, |account| {
        let name = account.text("name").ok().flatten().unwrap_or_default().trim().to_owned();
        entry(account, name.clone()).map_err(|message| (json::label("", &name), message))
    }))
}

fn entry(account: Fields<'_>, name: String) -> Result<crate::Credential, String> {
    let Some(generator) = account.object("otpGenerator")? else {
        return Err("it is a Duo Push account, which has no one-time password".to_owned());
    };
    let secret = json::base32_secret(generator.required_text("otpSecret")?)?;
    let counter = generator.number("counter")?;
    let kind = if counter.is_some() { Kind::Hotp } else { Kind::Totp };
    Entry { name, counter, ..Entry::new(kind) }.credential(secret)
}
