//! Bitwarden's exports: the password manager's JSON (unencrypted or password-protected) or CSV
//! (its logins' `totp` field), and the Bitwarden Authenticator app's JSON or CSV export, which has
//! the same shape.
//!
//! Format: <https://bitwarden.com/help/condition-bitwarden-import/> (JSON: `{encrypted: false,
//! folders, items: [{type, name, login: {username, totp, ...}}]}`, older versions without
//! `encrypted`; CSV: a header row naming
//! `name`, `login_username` and `login_totp` among other columns). A `totp` value is an
//! `otpauth://` URI, `steam://` followed by a base32 secret, or a bare base32 secret (TOTP, SHA1,
//! 6 digits, 30 s). Items without a `totp` are passwords, not accounts, and are passed over.
//!
//! Password-protected export (<https://bitwarden.com/help/encrypted-export/>): `{encrypted: true,
//! passwordProtected: true, salt, kdfType, kdfIterations, kdfMemory, kdfParallelism,
//! encKeyValidation_DO_NOT_EDIT, data}`. The key is PBKDF2-HMAC-SHA256 of the password over the
//! salt text (`kdfType` 0, `kdfIterations` rounds) or Argon2id over the SHA-256 of the salt text
//! (`kdfType` 1; `kdfIterations` passes, `kdfMemory` MiB, `kdfParallelism` lanes), 32 bytes,
//! stretched by HKDF-SHA256 expand into an encryption key (info "enc") and a MAC key (info "mac").
//! `encKeyValidation_DO_NOT_EDIT` (a random GUID) and `data` (the unencrypted JSON export) are
//! Bitwarden "EncStrings" of type 2, `2.<iv>|<ciphertext>|<mac>` in standard base64:
//! AES-256-CBC (PKCS#7 padding) with HMAC-SHA256 over IV and ciphertext.
//!
//! What the import loses: everything that is not the one-time code (passwords, URLs, notes,
//! folders). "Account restricted" encrypted exports are not read: only the Bitwarden account that
//! made them holds their key; export again choosing "Password protected" or unencrypted `.json`.

use base64::Engine as _;
use hmac::{KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::json::{self, Fields};
use super::{Content, EntryError, Format, ImportError, Imported, Password, Place, steam_uri};
use crate::{Credential, OtpParams, uri};

const FORMAT: Format = Format::Bitwarden;

/// The CSV column holding the code's URI or secret.
const TOTP_COLUMN: &str = "login_totp";

/// Most PBKDF2 rounds: the most Bitwarden lets an account choose.
const MAX_PBKDF2_ROUNDS: u64 = 2_000_000;

/// Most Argon2id passes, memory (MiB) and lanes: the most Bitwarden lets an account choose.
const MAX_ARGON2_PASSES: u64 = 10;
const MAX_ARGON2_MIB: u64 = 1024;
const MAX_ARGON2_LANES: u64 = 16;

/// The EncString type Bitwarden writes: AES-256-CBC, HMAC-SHA256, base64.
const AES_CBC_HMAC: &str = "2";
const IV_LEN: usize = 16;
const MAC_LEN: usize = 32;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    match content {
        Content::Json(document) => {
            let top = Fields::of(document.value())?;
            let protected = top.flag("passwordProtected") && top.has("data");
            // Older exports have no "encrypted" field: their items' logins mark them.
            let logins = || {
                top.array("items").ok().flatten().is_some_and(|items| {
                    items.iter().any(|item| Fields::of(item).is_some_and(|i| i.has("login")))
                })
            };
            let plain = top.has("items") && (top.has("encrypted") || logins());
            (plain || (top.has("encrypted") && protected)).then_some(protected)
        }
        Content::Text(text) => text.lines().next()?.contains(TOTP_COLUMN).then_some(false),
        _ => None,
    }
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    if let Content::Text(text) = content {
        return csv(text);
    }
    let top =
        Fields::of(content.json(FORMAT)?).ok_or_else(|| damaged("it is not a JSON object"))?;
    if top.flag("passwordProtected") {
        let plaintext = decrypt(top, password)?;
        let text = super::decrypted_text(FORMAT, &plaintext)?;
        let document = json::Document::parse(text).map_err(|e| damaged(json::problem(&e)))?;
        let inner =
            Fields::of(document.value()).ok_or_else(|| damaged("its data is not a JSON object"))?;
        return items(inner);
    }
    if top.flag("encrypted") {
        return Err(ImportError::Unsupported {
            format: FORMAT,
            problem: "it is encrypted with your Bitwarden account's own key, which only Bitwarden \
                      holds: export again choosing \"Password protected\" or the unencrypted \
                      .json format"
                .to_owned(),
        });
    }
    items(top)
}

/// The accounts of an unencrypted JSON export's `items`.
fn items(top: Fields<'_>) -> Result<Imported, ImportError> {
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

/// The plaintext of a password-protected export's `data`. The file's structure is checked before
/// the password is asked for, so a damaged file says so at once.
fn decrypt(
    top: Fields<'_>,
    password: Option<&Password>,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let salt = top.required_text("salt").map_err(damaged)?;
    let kdf = Kdf::of(top)?;
    let validation = EncString::parse(top, "encKeyValidation_DO_NOT_EDIT")?;
    let data = EncString::parse(top, "data")?;
    let password = password.ok_or(ImportError::PasswordNeeded)?;
    let keys = Keys::stretch(&*kdf.derive(password, salt.as_bytes())?);
    // The validation string is Bitwarden's password check: its MAC fails only for another key.
    validation.open(&keys).ok_or(ImportError::WrongPassword { format: FORMAT })?;
    data.open(&keys).ok_or_else(|| {
        damaged("its data does not match its password check: the file was changed or cut")
    })
}

/// The key derivation an export names, within Bitwarden's own limits.
enum Kdf {
    Pbkdf2 { rounds: u32 },
    Argon2id { params: argon2::Params },
}

impl Kdf {
    fn of(top: Fields<'_>) -> Result<Self, ImportError> {
        let number = |key: &str| {
            top.number(key).map_err(damaged)?.ok_or_else(|| damaged(format!("it has no \"{key}\"")))
        };
        let invalid =
            |what: &str| damaged(format!("its key derivation parameters ({what}) are not valid"));
        let iterations = number("kdfIterations")?;
        match number("kdfType")? {
            0 => {
                if iterations > MAX_PBKDF2_ROUNDS {
                    return Err(too_costly(format!("PBKDF2 with {iterations} rounds")));
                }
                let rounds = u32::try_from(iterations)
                    .ok()
                    .filter(|&r| r > 0)
                    .ok_or_else(|| invalid(&format!("{iterations} rounds")))?;
                Ok(Kdf::Pbkdf2 { rounds })
            }
            1 => {
                let (mib, lanes) = (number("kdfMemory")?, number("kdfParallelism")?);
                let shown = format!("{iterations} passes, {mib} MiB, {lanes} lanes");
                if iterations > MAX_ARGON2_PASSES
                    || mib > MAX_ARGON2_MIB
                    || lanes > MAX_ARGON2_LANES
                {
                    return Err(too_costly(format!("Argon2id with {shown}")));
                }
                // Within the limits above every value fits a u32.
                let fit = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
                let params =
                    argon2::Params::new(fit(mib) * 1024, fit(iterations), fit(lanes), Some(32))
                        .map_err(|_| invalid(&shown))?;
                Ok(Kdf::Argon2id { params })
            }
            other => Err(ImportError::Unsupported {
                format: FORMAT,
                problem: format!(
                    "it names key derivation {other}; Twofold reads 0 (PBKDF2) and 1 (Argon2id)"
                ),
            }),
        }
    }

    /// The 32-byte key of `password` over the export's salt text.
    fn derive(&self, password: &Password, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, ImportError> {
        let mut key = Zeroizing::new([0u8; 32]);
        match self {
            Kdf::Pbkdf2 { rounds } => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password.expose(), salt, *rounds, key.as_mut_slice());
            }
            Kdf::Argon2id { params } => {
                // Bitwarden hashes the salt first, so a salt of any length meets Argon2's rules.
                let salt = Sha256::digest(salt);
                argon2::Argon2::new(
                    argon2::Algorithm::Argon2id,
                    argon2::Version::V0x13,
                    params.clone(),
                )
                .hash_password_into(password.expose(), &salt, key.as_mut_slice())
                .map_err(|_| damaged("its key derivation parameters are not valid"))?;
            }
        }
        Ok(key)
    }
}

fn too_costly(detail: String) -> ImportError {
    ImportError::TooCostly { format: FORMAT, detail }
}

/// The encryption and MAC keys HKDF stretches the password key into.
struct Keys {
    enc: Zeroizing<[u8; 32]>,
    mac: Zeroizing<[u8; 32]>,
}

impl Keys {
    fn stretch(key: &[u8; 32]) -> Self {
        let mut keys = Keys { enc: Zeroizing::new([0; 32]), mac: Zeroizing::new([0; 32]) };
        // A 32-byte PRK and 32-byte outputs are always within HKDF-SHA256's limits.
        if let Ok(hkdf) = hkdf::Hkdf::<Sha256>::from_prk(key) {
            let _ = hkdf.expand(b"enc", keys.enc.as_mut_slice());
            let _ = hkdf.expand(b"mac", keys.mac.as_mut_slice());
        }
        keys
    }
}

/// A type-2 EncString: IV, ciphertext and the MAC over both.
struct EncString {
    iv: [u8; IV_LEN],
    ciphertext: Vec<u8>,
    mac: [u8; MAC_LEN],
}

impl EncString {
    /// The EncString in field `key` of `top`.
    fn parse(top: Fields<'_>, key: &str) -> Result<Self, ImportError> {
        let text = top.required_text(key).map_err(damaged)?;
        let broken = |what: &str| damaged(format!("its \"{key}\" {what}"));
        let (kind, rest) =
            text.trim().split_once('.').ok_or_else(|| broken("is not encrypted text"))?;
        if kind != AES_CBC_HMAC {
            return Err(ImportError::Unsupported {
                format: FORMAT,
                problem: format!(
                    "its \"{key}\" uses encryption type {}; Twofold reads type 2 (AES-CBC with \
                     HMAC), the one Bitwarden writes",
                    json::shown(kind)
                ),
            });
        }
        let parts: Vec<&str> = rest.split('|').collect();
        let [iv, ciphertext, mac] = parts.as_slice() else {
            return Err(broken("is not three parts (IV, data, MAC)"));
        };
        let decode = |part: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(part)
                .map_err(|_| broken("is not valid base64: the file was changed or cut"))
        };
        let iv = decode(iv)?.try_into().map_err(|_| broken("has an IV that is not 16 bytes"))?;
        let mac = decode(mac)?.try_into().map_err(|_| broken("has a MAC that is not 32 bytes"))?;
        let ciphertext = decode(ciphertext)?;
        if ciphertext.is_empty() || ciphertext.len() % IV_LEN != 0 {
            return Err(broken("is not whole AES blocks: the file was changed or cut"));
        }
        Ok(EncString { iv, ciphertext, mac })
    }

    /// The plaintext, or `None` when the MAC does not verify under `keys` (or the padding is
    /// wrong, which a verified MAC rules out for anything Bitwarden wrote).
    fn open(&self, keys: &Keys) -> Option<Zeroizing<Vec<u8>>> {
        let mut mac = <hmac::Hmac<Sha256>>::new_from_slice(keys.mac.as_slice()).ok()?;
        mac.update(&self.iv);
        mac.update(&self.ciphertext);
        // Constant-time comparison, checked before anything is decrypted.
        mac.verify_slice(&self.mac).ok()?;
        super::open_aes_cbc(keys.enc.as_slice(), &self.iv, &self.ciphertext)
    }
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
        let (otp, secret) = match steam_uri(totp) {
            Some(secret) => (OtpParams::STEAM, secret),
            None => (OtpParams::default(), json::base32_secret(totp)),
        };
        secret.map(|secret| {
            named(Credential {
                issuer: String::new(),
                name: String::new(),
                secret,
                otp,
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
