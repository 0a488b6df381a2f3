//! Stratum's backup (the app was called Authenticator Pro before): JSON, encrypted, or encrypted
//! the way versions before 1.15 did it.
//!
//! Format: the app's backup code, <https://github.com/stratumauth/app/blob/master/Stratum.Core/src/Backup/Backup.cs>
//! and `Encryption/` beside it. Plain: `{Authenticators: [{Type, Issuer, Username, Secret
//! (base32), Pin, Algorithm, Digits, Period, Counter, Icon, Ranking}], Categories,
//! AuthenticatorCategories, CustomIcons}`; `Type` is 1 HOTP, 2 TOTP, 3 mOTP, 4 Steam, 5 Yandex;
//! `Algorithm` 0 SHA1, 1 SHA256, 2 SHA512. Encrypted: the 16 bytes `AUTHENTICATORPRO`, a 16-byte
//! salt, a 12-byte nonce, then AES-256-GCM of that JSON (tag appended) under Argon2id of the
//! password (3 passes, 64 MiB, 4 lanes, 32 bytes). Older encryption: `AuthenticatorPro`, a
//! 20-byte salt, a 16-byte IV, then AES-256-CBC (PKCS#7) under PBKDF2-HMAC-SHA1 (64 000 rounds).
//!
//! The app's own database (Android app data, `databases/authenticator.db3`, SQLite) holds the
//! same fields in table `authenticator (type, issuer, username, secret, algorithm, digits,
//! period, counter, ...)`.
//!
//! What the import loses: categories, custom icons, the order, and mOTP and Yandex accounts
//! (reported): Stratum keeps an mOTP secret as the text typed in rather than base32, and no
//! Stratum fixture holds either kind to check a reading against.

use serde_json::Value;
use sha1::Sha1;
use zeroize::Zeroizing;

use super::json::{self, Entry, Fields};
use super::{Content, Format, ImportError, Imported, Password, Place};
use crate::{Algorithm, Kind};

const FORMAT: Format = Format::Stratum;

/// Header of the current encryption, and of the older one.
const HEADER: &[u8; 16] = b"AUTHENTICATORPRO";
const LEGACY_HEADER: &[u8; 16] = b"AuthenticatorPro";

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const LEGACY_SALT_LEN: usize = 20;
const LEGACY_IV_LEN: usize = 16;

/// Argon2id cost Stratum uses: passes, KiB, lanes.
const ARGON2_PASSES: u32 = 3;
const ARGON2_KIB: u32 = 64 * 1024;
const ARGON2_LANES: u32 = 4;

/// PBKDF2 rounds of the older encryption.
const LEGACY_ROUNDS: u32 = 64_000;

/// The app database's table of accounts and the columns read.
const TABLE: &str = "authenticator";
const COLUMNS: [&str; 8] =
    ["issuer", "username", "secret", "type", "algorithm", "digits", "period", "counter"];

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    match content {
        Content::Binary(bytes) => {
            (bytes.starts_with(HEADER) || bytes.starts_with(LEGACY_HEADER)).then_some(true)
        }
        Content::Json(document) => {
            Fields::of(document.value())?.array("Authenticators").ok()?.map(|_| false)
        }
        Content::Sqlite(database) => database.has(TABLE, &COLUMNS).then_some(false),
        _ => None,
    }
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    let bytes = match content {
        Content::Binary(bytes) => *bytes,
        Content::Text(text) => text.as_bytes(),
        Content::Sqlite(database) => return database_rows(database),
        _ => return authenticators(content.json(FORMAT)?),
    };
    let plaintext = if let Some(rest) = bytes.strip_prefix(HEADER) {
        let (salt, rest) = rest.split_at_checked(SALT_LEN).ok_or_else(cut_short)?;
        let (nonce, sealed) = rest.split_at_checked(NONCE_LEN).ok_or_else(cut_short)?;
        let password = password.ok_or(ImportError::PasswordNeeded)?;
        let params = argon2::Params::new(ARGON2_KIB, ARGON2_PASSES, ARGON2_LANES, Some(32))
            .map_err(|_| damaged("its key parameters are not valid"))?;
        let mut key = Zeroizing::new([0u8; 32]);
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into(password.expose(), salt, key.as_mut_slice())
            .map_err(|_| damaged("its salt is not valid"))?;
        super::open_aes_gcm_appended(key.as_slice(), nonce, sealed)
            .ok_or(ImportError::WrongPassword { format: FORMAT })?
    } else if let Some(rest) = bytes.strip_prefix(LEGACY_HEADER) {
        let (salt, rest) = rest.split_at_checked(LEGACY_SALT_LEN).ok_or_else(cut_short)?;
        let (iv, sealed) = rest.split_at_checked(LEGACY_IV_LEN).ok_or_else(cut_short)?;
        let password = password.ok_or(ImportError::PasswordNeeded)?;
        let mut key = Zeroizing::new([0u8; 32]);
        pbkdf2::pbkdf2_hmac::<Sha1>(password.expose(), salt, LEGACY_ROUNDS, key.as_mut_slice());
        // CBC has no tag: a wrong key shows as bad padding, or as bytes that are not JSON.
        super::open_aes_cbc(key.as_slice(), iv, sealed)
            .filter(|plain| plain.first() == Some(&b'{'))
            .ok_or(ImportError::WrongPassword { format: FORMAT })?
    } else {
        return Err(damaged("it does not start with Stratum's header: it is not a Stratum backup"));
    };
    let text = super::decrypted_text(FORMAT, &plaintext)?;
    let document = json::Document::parse(text).map_err(|e| damaged(json::problem(&e)))?;
    authenticators(document.value())
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

fn cut_short() -> ImportError {
    damaged("it is too short to hold encrypted accounts: the file is cut short")
}

fn authenticators(value: &Value) -> Result<Imported, ImportError> {
    let top = Fields::of(value).ok_or_else(|| damaged("it is not a JSON object"))?;
    let items = top
        .array("Authenticators")
        .map_err(damaged)?
        .ok_or_else(|| damaged("it has no list of authenticators"))?;
    Ok(json::each_entry(items, |fields| {
        let text = |key| fields.text(key).ok().flatten().unwrap_or_default().trim().to_owned();
        let (issuer, name) = (text("Issuer"), text("Username"));
        let entry = Entry { issuer: issuer.clone(), name: name.clone(), ..Entry::new(Kind::Totp) };
        let label = json::label(&issuer, &name);
        (|| {
            let secret = json::base32_secret(fields.required_text("Secret")?)?;
            let numbers = Numbers {
                kind: fields.number("Type")?,
                algorithm: fields.number("Algorithm")?,
                digits: fields.number("Digits")?,
                period: fields.number("Period")?,
                counter: fields.number("Counter")?,
            };
            numbers.entry(entry)?.credential(secret)
        })()
        .map_err(|message| (label, message))
    }))
}

/// The accounts of the app's database.
fn database_rows(database: &super::sqlite::Database) -> Result<Imported, ImportError> {
    let rows = database
        .rows(TABLE, &COLUMNS)
        .map_err(|_| damaged("its authenticator table cannot be read: the file is damaged"))?;
    let mut imported = Imported::default();
    for (index, row) in rows.iter().enumerate() {
        let (issuer, name) = (row.text(0).to_owned(), row.text(1).to_owned());
        let entry = Entry { issuer: issuer.clone(), name: name.clone(), ..Entry::new(Kind::Totp) };
        let numbers = Numbers {
            kind: row.number(3),
            algorithm: row.number(4),
            digits: row.number(5),
            period: row.number(6),
            counter: row.number(7),
        };
        let result = json::base32_secret(row.text(2))
            .and_then(|secret| numbers.entry(entry)?.credential(secret));
        imported.push(Place::Entry(index + 1), json::label(&issuer, &name), result);
    }
    Ok(imported)
}

/// An authenticator's numeric fields, as the JSON backup and the app's database hold them.
struct Numbers {
    kind: Option<u64>,
    algorithm: Option<u64>,
    digits: Option<u64>,
    period: Option<u64>,
    counter: Option<u64>,
}

impl Numbers {
    /// `entry` (issuer and name set) with these parameters.
    fn entry(self, entry: Entry) -> Result<Entry, String> {
        let kind = match self.kind {
            Some(1) => Kind::Hotp,
            Some(2) | None => Kind::Totp,
            Some(4) => Kind::Steam,
            Some(3) => {
                return Err("it is an mOTP account, which Twofold does not read from Stratum \
                            backups yet"
                    .to_owned());
            }
            Some(5) => {
                return Err("it is a Yandex account, which Twofold does not read from Stratum \
                            backups yet"
                    .to_owned());
            }
            Some(other) => return Err(format!("its type {other} is not one Stratum writes")),
        };
        let algorithm = match self.algorithm {
            Some(0) | None => Algorithm::Sha1,
            Some(1) => Algorithm::Sha256,
            Some(2) => Algorithm::Sha512,
            Some(other) => return Err(format!("its algorithm {other} is not one Stratum writes")),
        };
        Ok(Entry {
            kind,
            algorithm: Some(algorithm),
            digits: self.digits,
            period: self.period,
            counter: self.counter,
            ..entry
        })
    }
}
