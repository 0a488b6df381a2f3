//! Steam's mobile authenticator file: the Steam app's `Steamguard-<steamid>` (Android app data),
//! or a `.maFile` of Steam Desktop Authenticator (SDA, unencrypted), which has the same fields.
//!
//! Format: Valve documents none; the fields are those of Steam's `AddAuthenticator` response
//! (<https://github.com/DoctorMcKay/node-steamcommunity/wiki/SteamCommunity#enabletwofactorcallback>),
//! as SDA and Aegis (`SteamImporter.java`) read them. One account is `{shared_secret (standard
//! base64), account_name, serial_number, revocation_code, identity_secret, uri, steamid, ...}`.
//! Newer versions of the app keep every account in `{accounts: {<key>: {...}}}`.
//!
//! What the import loses: everything but the code: the revocation code (write it down before
//! moving: it is the only way to remove the authenticator without the phone), the identity
//! secret that confirms trades, and the device ID. SDA's encrypted `.maFile`s are not read:
//! remove SDA's encryption first.

use super::json::{self, Fields};
use super::{Content, Format, ImportError, Imported};
use crate::{Credential, OtpParams, Secret};
use base64::Engine as _;

const FORMAT: Format = Format::Steam;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Json(document) = content else { return None };
    let top = Fields::of(document.value())?;
    let one = match top.object("accounts").ok()? {
        Some(accounts) => Fields::of(accounts.values().next()?)?,
        None => top,
    };
    (one.has("shared_secret") && one.has("account_name")).then_some(false)
}

pub(super) fn read(content: &Content<'_>) -> Result<Imported, ImportError> {
    let value = content.json(FORMAT)?;
    let top =
        Fields::of(value).ok_or_else(|| ImportError::damaged(FORMAT, "it is not a JSON object"))?;
    let read_one = |account: Fields<'_>| {
        let name =
            account.text("account_name").ok().flatten().unwrap_or_default().trim().to_owned();
        credential(account, &name).map_err(|message| (json::label("Steam", &name), message))
    };
    Ok(match top.object("accounts").map_err(|e| ImportError::damaged(FORMAT, e))? {
        Some(accounts) => json::each_entry(accounts.values(), read_one),
        None => json::each_entry([value], read_one),
    })
}

fn credential(account: Fields<'_>, name: &str) -> Result<Credential, String> {
    let encoded = account.required_text("shared_secret")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| "its shared_secret is not base64".to_owned())?;
    let secret = Secret::new(bytes);
    if secret.is_empty() {
        return Err("it has no secret".to_owned());
    }
    let issuer = "Steam".to_owned();
    Ok(Credential { issuer, name: name.to_owned(), secret, otp: OtpParams::STEAM, icon: None })
}
