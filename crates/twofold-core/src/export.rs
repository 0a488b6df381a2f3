//! Exports for moving to another app: Aegis JSON, 2FAS's `.2fas` ([`twofas_plain`],
//! [`twofas_encrypted`]) and Ente Auth's ([`ente_plain`], [`ente_encrypted`]), each plain or
//! password-encrypted. (The otpauth URI list is [`crate::uri::format`] per account; Google
//! Authenticator batches are [`crate::migration::encode`].)
//!
//! Aegis format: <https://github.com/beemdevelopment/Aegis/blob/master/docs/vault.md>, written as
//! Aegis writes it and as [`crate::import`]'s Aegis reader reads it: `{version: 1, header: {slots,
//! params}, db}` with `db` = `{version: 3, entries, groups: []}`. Encrypted: a random 256-bit
//! master key encrypts `db` with AES-256-GCM (hex `nonce` and `tag` in `header.params`, base64
//! ciphertext as `db`); one password slot (type 1) wraps the master key with AES-256-GCM under
//! scrypt(password, 256-bit salt, N = 2^15, r = 8, p = 1), Aegis's own cost.
//!
//! What the export loses: icons (Aegis embeds images; Twofold holds a reference) and tags.
//! mOTP and Yandex accounts go into Aegis exports with their PINs; 2FAS and Ente have no such
//! kinds, so their exports leave those accounts out and say which ([`Exported::left_out`]).

use aes_gcm::aead::{AeadInOut as _, KeyInit as _};
use base64::Engine as _;
use serde::Serialize;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::import::Password;
use crate::seal::{fill_random, json_zeroizing};
use crate::{Algorithm, Credential, Kind};

mod ente;
mod twofas;

pub use ente::{EnteKeys, ente_encrypted, ente_plain};
pub use twofas::{TwoFasKeys, twofas_encrypted, twofas_plain};

/// scrypt cost of the password slot, log2 of N: Aegis's default (N = 2^15, r = 8, p = 1).
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// Why an export could not be made. Never holds a secret or the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// An encrypted export was asked for with an empty password.
    #[error("the password is empty: choose one to protect the export")]
    EmptyPassword,
    /// The operating system gave no random bytes.
    #[error("the system's random number generator failed: {reason}")]
    Random {
        /// What the platform said.
        reason: String,
    },
    /// The encryption library refused its inputs.
    #[error("the export could not be encrypted: {reason}")]
    Encryption {
        /// What failed.
        reason: String,
    },
}

/// An account an export's format cannot hold, left out of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// Position in the credentials given, from 0 (the message counts from 1).
    pub index: usize,
    /// "Issuer (name)", so a person knows which account it is.
    pub label: String,
    /// Why it was left out.
    pub reason: String,
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "account {} ({}) was not exported: {}", self.index + 1, self.label, self.reason)
    }
}

/// An export's file, and the accounts its format could not hold.
pub struct Exported {
    /// The file's text. A plain export holds the secrets in clear.
    pub text: Zeroizing<String>,
    /// Accounts left out, in input order.
    pub left_out: Vec<LeftOut>,
}

impl std::fmt::Debug for Exported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exported")
            .field("text", &format_args!("<redacted {} bytes>", self.text.len()))
            .field("left_out", &self.left_out)
            .finish()
    }
}

/// The credentials a format with only TOTP, HOTP and Steam (`format` names it) can hold, and the
/// others, left out.
fn without_pin_kinds<'c>(
    credentials: &'c [Credential],
    format: &str,
) -> (Vec<&'c Credential>, Vec<LeftOut>) {
    let mut held = Vec::with_capacity(credentials.len());
    let mut left_out = Vec::new();
    for (index, credential) in credentials.iter().enumerate() {
        let kind = match credential.otp.kind {
            Kind::Motp => "mOTP",
            Kind::Yandex => "Yandex",
            Kind::Totp | Kind::Hotp | Kind::Steam => {
                held.push(credential);
                continue;
            }
        };
        left_out.push(LeftOut {
            index,
            label: credential.label(),
            reason: format!("{format} has no {kind} accounts"),
        });
    }
    (held, left_out)
}

/// The fewest characters a new password for an encrypted export or a backup may have: the file
/// holds every secret and can be attacked offline for as long as anyone likes.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why a new password for an encrypted export or a backup, typed twice, is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NewPasswordError {
    /// The two fields differ.
    #[error("the two passwords differ: type the same one twice")]
    Differ,
    /// No password was typed.
    #[error("the password is empty: choose one to protect the file")]
    Empty,
    /// The password is shorter than [`MIN_PASSWORD_CHARS`].
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
}

/// Checks a new password for an encrypted export or a backup, typed as `first` and `again`: the
/// one rule the app and the CLI share.
pub fn check_new_password(first: &Password, again: &Password) -> Result<(), NewPasswordError> {
    if first.expose() != again.expose() {
        return Err(NewPasswordError::Differ);
    }
    let chars = std::str::from_utf8(first.expose()).map_or(0, |text| text.chars().count());
    match chars {
        0 => Err(NewPasswordError::Empty),
        n if n < MIN_PASSWORD_CHARS => Err(NewPasswordError::TooShort),
        _ => Ok(()),
    }
}

/// The random inputs of an encrypted Aegis export.
pub struct AegisKeys {
    master_key: Zeroizing<[u8; 32]>,
    salt: [u8; 32],
    slot_nonce: [u8; 12],
    db_nonce: [u8; 12],
    slot_uuid: Uuid,
}

impl std::fmt::Debug for AegisKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AegisKeys(<redacted>)")
    }
}

impl AegisKeys {
    /// Fresh keys, salt and nonces from the operating system's random number generator.
    pub fn fresh() -> Result<Self, ExportError> {
        let mut keys = Self {
            master_key: Zeroizing::new([0; 32]),
            salt: [0; 32],
            slot_nonce: [0; 12],
            db_nonce: [0; 12],
            slot_uuid: Uuid::new_v4(),
        };
        random(keys.master_key.as_mut_slice())?;
        random(&mut keys.salt)?;
        random(&mut keys.slot_nonce)?;
        random(&mut keys.db_nonce)?;
        Ok(keys)
    }
}

#[derive(Serialize)]
struct Db<'a> {
    version: u32,
    entries: Vec<DbEntry<'a>>,
    groups: [(); 0],
}

#[derive(Serialize)]
struct DbEntry<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    uuid: Uuid,
    name: &'a str,
    issuer: &'a str,
    note: &'static str,
    favorite: bool,
    icon: Option<()>,
    info: Info<'a>,
    groups: [(); 0],
}

#[derive(Serialize)]
struct Info<'a> {
    secret: &'a str,
    algo: &'static str,
    digits: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counter: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin: Option<&'a str>,
}

#[derive(Serialize)]
struct File<D, S, P> {
    version: u32,
    header: FileHeader<S, P>,
    db: D,
}

#[derive(Serialize)]
struct FileHeader<S, P> {
    slots: S,
    params: P,
}

#[derive(Serialize)]
struct GcmParams {
    nonce: String,
    tag: String,
}

#[derive(Serialize)]
struct PasswordSlot {
    #[serde(rename = "type")]
    kind: u32,
    uuid: Uuid,
    key: String,
    key_params: GcmParams,
    n: u64,
    r: u32,
    p: u32,
    salt: String,
    repaired: bool,
    is_backup: bool,
}

/// The `db` object of `credentials`, serialised into memory wiped on drop.
fn db_json(credentials: &[Credential]) -> Zeroizing<Vec<u8>> {
    let secrets: Vec<Zeroizing<String>> =
        credentials.iter().map(|c| c.secret.to_base32()).collect();
    let entries = credentials
        .iter()
        .zip(&secrets)
        .map(|(c, secret)| {
            let (kind, algo, digits, period, counter) = match c.otp.kind {
                Kind::Totp => (
                    "totp",
                    algorithm_name(c.otp.algorithm),
                    c.otp.digits,
                    Some(c.otp.period),
                    None,
                ),
                Kind::Hotp => (
                    "hotp",
                    algorithm_name(c.otp.algorithm),
                    c.otp.digits,
                    None,
                    Some(c.otp.counter),
                ),
                // Aegis's Steam entries: always 5 characters, SHA-1, 30 seconds.
                Kind::Steam => ("steam", "SHA1", 5, Some(30), None),
                // Aegis's MotpInfo and YandexInfo: their fixed algorithm, digits and period.
                Kind::Motp => ("motp", "MD5", 6, Some(10), None),
                Kind::Yandex => ("yandex", "SHA256", 8, Some(30), None),
            };
            let pin = c.secret.pin().filter(|_| c.otp.kind.needs_pin());
            DbEntry {
                kind,
                uuid: Uuid::new_v4(),
                name: &c.name,
                issuer: &c.issuer,
                note: "",
                favorite: false,
                icon: None,
                info: Info { secret, algo, digits, period, counter, pin },
                groups: [],
            }
        })
        .collect();
    json_zeroizing(&Db { version: 3, entries, groups: [] })
}

fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Sha1 => "SHA1",
        Algorithm::Sha256 => "SHA256",
        Algorithm::Sha512 => "SHA512",
    }
}

/// An unencrypted Aegis export of `credentials` (it holds the secrets in clear).
pub fn aegis_plain(credentials: &[Credential]) -> Zeroizing<String> {
    let db = db_json(credentials);
    // `db_json` wrote JSON, so it is UTF-8 and a valid raw value to embed.
    let db_text = std::str::from_utf8(&db).unwrap_or("{}");
    let mut text = Zeroizing::new(String::with_capacity(db_text.len() + 96));
    text.push_str(r#"{"version":1,"header":{"slots":null,"params":null},"db":"#);
    text.push_str(db_text);
    text.push('}');
    text
}

/// An Aegis export of `credentials` encrypted with `password`, as Aegis writes it.
pub fn aegis_encrypted(
    credentials: &[Credential],
    password: &Password,
    keys: &AegisKeys,
) -> Result<String, ExportError> {
    if password.expose().is_empty() {
        return Err(ExportError::EmptyPassword);
    }
    let failed = |reason: &str| ExportError::Encryption { reason: reason.to_owned() };
    let params = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)
        .map_err(|_| failed("scrypt refused its parameters"))?;
    let mut slot_key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password.expose(), &keys.salt, &params, slot_key.as_mut_slice())
        .map_err(|_| failed("scrypt refused its output length"))?;
    let mut wrapped = *keys.master_key;
    let slot_tag = seal(slot_key.as_slice(), &keys.slot_nonce, &mut wrapped)
        .ok_or_else(|| failed("AES-GCM refused the slot key"))?;
    let mut db = db_json(credentials);
    let db_tag = seal(keys.master_key.as_slice(), &keys.db_nonce, &mut db)
        .ok_or_else(|| failed("AES-GCM refused the accounts"))?;
    let hex = |bytes: &[u8]| data_encoding::HEXLOWER.encode(bytes);
    let file = File {
        version: 1,
        header: FileHeader {
            slots: [PasswordSlot {
                kind: 1,
                uuid: keys.slot_uuid,
                key: hex(&wrapped),
                key_params: GcmParams { nonce: hex(&keys.slot_nonce), tag: hex(&slot_tag) },
                n: 1 << SCRYPT_LOG_N,
                r: SCRYPT_R,
                p: SCRYPT_P,
                salt: hex(&keys.salt),
                // The slot key derives from the password's UTF-8 bytes, as Aegis since 1.x does.
                repaired: true,
                is_backup: false,
            }],
            params: GcmParams { nonce: hex(&keys.db_nonce), tag: hex(&db_tag) },
        },
        db: base64::engine::general_purpose::STANDARD.encode(db.as_slice()),
    };
    serde_json::to_string(&file).map_err(|_| failed("the file could not be written as JSON"))
}

/// Fills `bytes` from the operating system's random number generator.
fn random(bytes: &mut [u8]) -> Result<(), ExportError> {
    fill_random(bytes).map_err(|e| ExportError::Random { reason: e.to_string() })
}

/// AES-256-GCM of `plaintext` with the tag appended, as Java's and Web Crypto's GCM write it.
fn seal_appended(key: &[u8], nonce: &[u8; 12], plaintext: &[u8]) -> Result<Vec<u8>, ExportError> {
    let mut sealed = plaintext.to_vec();
    let tag = seal(key, nonce, &mut sealed)
        .ok_or_else(|| ExportError::Encryption { reason: "AES-GCM refused its key".to_owned() })?;
    sealed.extend_from_slice(&tag);
    Ok(sealed)
}

/// AES-256-GCM in place; returns the tag (`None` only if the cipher refuses its key length).
fn seal(key: &[u8], nonce: &[u8; 12], buffer: &mut [u8]) -> Option<[u8; 16]> {
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).ok()?;
    let tag = cipher.encrypt_inout_detached(&(*nonce).into(), &[], buffer.into()).ok()?;
    let mut out = [0u8; 16];
    out.copy_from_slice(&tag);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(first: &str, again: &str) -> Result<(), NewPasswordError> {
        check_new_password(&Password::new(first.into()), &Password::new(again.into()))
    }

    #[test]
    fn a_new_password_must_be_typed_the_same_twice_and_be_long_enough() {
        assert_eq!(check("correct horse", "correct horse"), Ok(()));
        assert_eq!(check("correct horse", "correct horse "), Err(NewPasswordError::Differ));
        assert_eq!(check("", ""), Err(NewPasswordError::Empty));
        assert_eq!(check("", "x"), Err(NewPasswordError::Differ));
        assert_eq!(check("seven77", "seven77"), Err(NewPasswordError::TooShort));
        // Characters, not bytes: eight accented letters are enough, four are not.
        assert_eq!(check("éééééééé", "éééééééé"), Ok(()));
        assert_eq!(check("éééé", "éééé"), Err(NewPasswordError::TooShort));
        let message = check("seven77", "seven77").unwrap_err().to_string();
        assert!(message.contains("at least 8 characters"), "{message}");
        assert!(!message.contains("seven77"), "{message}");
    }
}
