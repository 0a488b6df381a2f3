//! Proton Authenticator's JSON export.
//!
//! Format: the app's exporter, <https://github.com/protonpass/proton-pass-common/blob/main/proton-authenticator/src/entry/exporter.rs>.
//! `{version: 1, entries: [{id, content: {uri, entry_type, name}, note}]}`: `entry_type` is
//! `Totp` (an `otpauth://totp/` URI) or `Steam` (`steam://` and the base32 secret, Steam's fixed
//! parameters); `name` is the account name shown, or the issuer when there is no account name.
//!
//! What the import loses: notes. Password-protected exports are not read (none was at hand to
//! check against): export without a password.

use super::json::{self, Fields};
use super::{Content, Format, ImportError, Imported, steam_uri};
use crate::{Credential, OtpParams, uri};

const FORMAT: Format = Format::ProtonAuthenticator;

/// The export versions this module knows.
const VERSION: u64 = 1;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Json(document) = content else { return None };
    let top = Fields::of(document.value())?;
    let first = Fields::of(top.array("entries").ok()??.first()?)?;
    let inner = first.object("content").ok()??;
    (top.has("version") && inner.has("uri") && inner.has("entry_type")).then_some(false)
}

pub(super) fn read(content: &Content<'_>) -> Result<Imported, ImportError> {
    let top = Fields::of(content.json(FORMAT)?)
        .ok_or_else(|| ImportError::damaged(FORMAT, "it is not a JSON object"))?;
    match top.number("version").map_err(|e| ImportError::damaged(FORMAT, e))? {
        Some(VERSION) => {}
        Some(other) => {
            return Err(ImportError::Unsupported {
                format: FORMAT,
                problem: format!("it has format version {other}; this Twofold reads version 1"),
            });
        }
        None => return Err(ImportError::damaged(FORMAT, "it has no \"version\"")),
    }
    let entries = top
        .array("entries")
        .map_err(|e| ImportError::damaged(FORMAT, e))?
        .ok_or_else(|| ImportError::damaged(FORMAT, "it has no list of entries"))?;
    Ok(json::each_entry(entries, |entry| {
        let inner = entry.object("content").ok().flatten();
        let name =
            inner.and_then(|c| c.text("name").ok().flatten()).unwrap_or_default().trim().to_owned();
        credential(inner, &name).map_err(|message| (json::label("", &name), message))
    }))
}

fn credential(content: Option<Fields<'_>>, name: &str) -> Result<Credential, String> {
    let content = content.ok_or("it has no \"content\"")?;
    let text = content.required_text("uri")?;
    let kind = content.required_text("entry_type")?;
    if kind.eq_ignore_ascii_case("steam") {
        let secret = steam_uri(text).ok_or("its Steam entry has no steam:// URI")??;
        let issuer = "Steam".to_owned();
        return Ok(Credential {
            issuer,
            name: name.to_owned(),
            secret,
            otp: OtpParams::STEAM,
            icon: None,
        });
    }
    if !kind.eq_ignore_ascii_case("totp") {
        return Err(format!("its type \"{}\" is not TOTP or Steam", json::shown(kind)));
    }
    let mut credential = uri::parse(text).map_err(|e| e.to_string())?;
    // `name` is the account name, or the issuer when the account has none.
    if !name.is_empty() && name != credential.issuer {
        credential.name = name.to_owned();
    }
    Ok(credential)
}
