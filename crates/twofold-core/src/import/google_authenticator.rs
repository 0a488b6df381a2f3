//! Google Authenticator's own database (Android app data, `databases/databases`), from the app's
//! versions before 5.10 (later ones encrypt the secrets with a key kept in the phone's keystore;
//! use the app's "Transfer accounts" QR codes instead, which Twofold scans).
//!
//! Format: the app's (once open-source) `AccountDb.java`,
//! <https://github.com/google/google-authenticator-android/blob/master/java/com/google/android/apps/authenticator/otp/AccountDb.java>.
//! Table `accounts (_id, email, secret (base32), counter, type (0 TOTP, 1 HOTP), provider,
//! issuer, original_name)`; `email` is the label, "Issuer:account" or the account alone. Codes
//! are SHA1, 6 digits, 30 s: the app supported nothing else.
//!
//! What the import loses: nothing the app showed.

use super::{Content, Format, ImportError, Imported, Place, json};
use crate::Kind;

const FORMAT: Format = Format::GoogleAuthenticator;

const TABLE: &str = "accounts";
const COLUMNS: [&str; 5] = ["email", "secret", "counter", "type", "issuer"];

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Sqlite(database) = content else { return None };
    database.has(TABLE, &COLUMNS).then_some(false)
}

pub(super) fn read(content: &Content<'_>) -> Result<Imported, ImportError> {
    let Content::Sqlite(database) = content else {
        return Err(ImportError::damaged(
            FORMAT,
            "it is not an SQLite database, as the app's file is",
        ));
    };
    let rows = database.rows(TABLE, &COLUMNS).map_err(|_| {
        ImportError::damaged(FORMAT, "its accounts table cannot be read: the file is damaged")
    })?;
    let mut imported = Imported::default();
    for (index, row) in rows.iter().enumerate() {
        let label = row.text(0);
        let issuer = row.text(4).to_owned();
        let name = match label.split_once(':') {
            Some((_, account)) if !account.contains(':') => account.trim().to_owned(),
            _ => label.to_owned(),
        };
        let kind = match row.number(3) {
            Some(0) | None => Ok(Kind::Totp),
            Some(1) => Ok(Kind::Hotp),
            Some(other) => Err(format!("its type {other} is not TOTP (0) or HOTP (1)")),
        };
        let result = kind.and_then(|kind| {
            let secret = json::base32_secret(row.text(1))?;
            let counter = (kind == Kind::Hotp).then(|| row.number(2)).flatten();
            json::Entry {
                issuer: issuer.clone(),
                name: name.clone(),
                counter,
                ..json::Entry::new(kind)
            }
            .credential(secret)
        });
        imported.push(Place::Entry(index + 1), json::label(&issuer, &name), result);
    }
    Ok(imported)
}
