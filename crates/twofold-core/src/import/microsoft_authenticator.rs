//! Microsoft Authenticator's database (Android app data, `databases/PhoneFactor`).
//!
//! Format: Microsoft documents none; read as Aegis reads it (`MicrosoftAuthImporter.java`).
//! Table `accounts (name (the issuer), username, oath_secret_key, account_type, ...)`.
//! `account_type` 0 is a TOTP account (base32 secret, 6 digits), 1 a Microsoft personal account
//! (base64 secret, 8 digits); both SHA1, 30 s. Other types are Microsoft's push sign-in
//! (work or school accounts) and hold no one-time password.
//!
//! What the import loses: push sign-in accounts (reported), and any period, digits or algorithm a
//! service set other than the above (the app ignores them as well).

use base64::Engine as _;

use super::{Content, Format, ImportError, Imported, Place, json};
use crate::{Kind, Secret};

const FORMAT: Format = Format::MicrosoftAuthenticator;

const TABLE: &str = "accounts";
const COLUMNS: [&str; 4] = ["name", "username", "oath_secret_key", "account_type"];

/// `account_type` of a standard TOTP account, and of a Microsoft personal account.
const TOTP: u64 = 0;
const MICROSOFT: u64 = 1;

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
        let (issuer, name) = (row.text(0).to_owned(), row.text(1).to_owned());
        let result = match row.number(3) {
            Some(TOTP) => json::base32_secret(row.text(2)).and_then(|secret| {
                json::Entry {
                    issuer: issuer.clone(),
                    name: name.clone(),
                    ..json::Entry::new(Kind::Totp)
                }
                .credential(secret)
            }),
            Some(MICROSOFT) => base64::engine::general_purpose::STANDARD
                .decode(row.text(2))
                .map_err(|_| "its secret is not base64".to_owned())
                .and_then(|bytes| {
                    json::Entry {
                        issuer: issuer.clone(),
                        name: name.clone(),
                        digits: Some(8),
                        ..json::Entry::new(Kind::Totp)
                    }
                    .credential(Secret::new(bytes))
                }),
            _ => Err("it is a push sign-in account, which has no one-time password".to_owned()),
        };
        imported.push(Place::Entry(index + 1), json::label(&issuer, &name), result);
    }
    Ok(imported)
}
