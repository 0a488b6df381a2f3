//! Bitwarden's exports: the password manager's unencrypted JSON or CSV (its logins' `totp`
//! field), and the Bitwarden Authenticator app's JSON or CSV export, which has the same shape.
//!
//! Format: <https://bitwarden.com/help/condition-bitwarden-import/> (JSON: `{encrypted: false,
//! folders, items: [{type, name, login: {username, totp, ...}}]}`; CSV: a header row naming
//! `name`, `login_username` and `login_totp` among other columns). A `totp` value is an
//! `otpauth://` URI, `steam://` followed by a base32 secret, or a bare base32 secret (TOTP, SHA1,
//! 6 digits, 30 s). Items without a `totp` are passwords, not accounts, and are passed over.
//!
//! What the import loses: everything that is not the one-time code (passwords, URLs, notes,
//! folders). Encrypted Bitwarden exports are not read: export again as unencrypted `.json`.

use super::json::{self, Fields};
use super::{Content, EntryError, Format, ImportError, Imported, Place};
use crate::{Credential, Kind, OtpParams, uri};

const FORMAT: Format = Format::Bitwarden;

/// The CSV column holding the code's URI or secret.
const TOTP_COLUMN: &str = "login_totp";

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    match content {
        Content::Json(document) => {
            let top = Fields::of(document.value())?;
            (top.has("items") && top.has("encrypted")).then_some(false)
        }
        Content::Text(text) => text.lines().next()?.contains(TOTP_COLUMN).then_some(false),
        _ => None,
    }
}

pub(super) fn read(content: &Content<'_>) -> Result<Imported, ImportError> {
    if let Content::Text(text) = content {
        return csv(text);
    }
    let top =
        Fields::of(content.json(FORMAT)?).ok_or_else(|| damaged("it is not a JSON object"))?;
    if top.flag("encrypted") {
        return Err(ImportError::Unsupported {
            format: FORMAT,
            problem: "it is encrypted: export again from Bitwarden choosing the unencrypted .json \
                      format"
                .to_owned(),
        });
    }
    let items =
        top.array("items").map_err(damaged)?.ok_or_else(|| damaged("it has no list of items"))?;
    let mut imported = Imported::default();
    for (index, item) in items.iter().enumerate() {
        let place = Place::Entry(index + 1);
        let Some(item) = Fields::of(item) else {
            imported.errors.push(error(
                place,
                None,
                "it is not an object, as items are".to_owned(),
            ));
            continue;
        };
        let login = item.object("login").ok().flatten();
        let totp = match login.map(|l| l.text("totp")).transpose() {
            Ok(totp) => totp.flatten().unwrap_or_default(),
            Err(message) => {
                imported.errors.push(error(
                    place,
                    json::label(text(Some(item), "name"), ""),
                    message,
                ));
                continue;
            }
        };
        code(totp, text(Some(item), "name"), text(login, "username"), place, &mut imported);
    }
    Ok(imported)
}

/// A text field of `fields` (if any), trimmed; empty when absent or not text.
fn text<'a>(fields: Option<Fields<'a>>, key: &str) -> &'a str {
    fields.and_then(|f| f.text(key).ok().flatten()).unwrap_or_default().trim()
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

fn error(place: Place, name: Option<String>, message: String) -> EntryError {
    EntryError { place, entry: None, name, message }
}

/// Reads the CSV export: the row's `login_totp`, named by its `name` and `login_username`.
fn csv(text: &str) -> Result<Imported, ImportError> {
    let mut reader = ::csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers =
        reader.headers().map_err(|_| damaged("its first row is not a CSV header"))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let totp_column = column(TOTP_COLUMN).ok_or_else(|| damaged("it has no login_totp column"))?;
    let (name_column, user_column) = (column("name"), column("login_username"));
    let mut imported = Imported::default();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
                imported.errors.push(error(
                    Place::Line(line),
                    None,
                    "this row is not valid CSV".to_owned(),
                ));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
        let cell =
            |column: Option<usize>| column.and_then(|c| record.get(c)).unwrap_or_default().trim();
        code(
            cell(Some(totp_column)),
            cell(name_column),
            cell(user_column),
            Place::Line(line),
            &mut imported,
        );
    }
    Ok(imported)
}

/// Reads one item's `totp` value (if any) named `item_name` / `username` into `imported`.
fn code(totp: &str, item_name: &str, username: &str, place: Place, imported: &mut Imported) {
    if totp.is_empty() {
        return;
    }
    let named = |mut credential: Credential| {
        if credential.issuer.is_empty() {
            credential.issuer = item_name.to_owned();
        }
        if credential.name.is_empty() {
            credential.name = username.to_owned();
        }
        credential
    };
    let result = if totp.get(..10).is_some_and(|s| s.eq_ignore_ascii_case("otpauth://")) {
        uri::parse(totp).map(named).map_err(|e| e.to_string())
    } else {
        let steam = totp.get(..8).filter(|s| s.eq_ignore_ascii_case("steam://")).and(totp.get(8..));
        let (kind, secret) = match steam {
            Some(secret) => (Kind::Steam, secret),
            None => (Kind::Totp, totp),
        };
        json::base32_secret(secret).map(|secret| {
            named(Credential {
                issuer: String::new(),
                name: String::new(),
                secret,
                otp: OtpParams { kind, ..OtpParams::default() },
                icon: None,
            })
        })
    };
    match result {
        Ok(credential) => imported.credentials.push(credential),
        Err(message) => {
            imported.errors.push(error(place, json::label(item_name, username), message))
        }
    }
}
