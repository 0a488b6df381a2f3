//! 2FAS Authenticator's `.2fas` backup, plain or encrypted, written as the 2FAS apps write it
//! (schema 4) and as [`crate::import`]'s 2FAS reader reads it.
//!
//! Format: the app's backup model,
//! <https://github.com/twofas/2fas-android/blob/main/data/services/src/main/java/com/twofasapp/data/services/domain/BackupContent.kt>.
//! `{services, groups: [], updatedAt, schemaVersion: 4, appVersionCode, appVersionName,
//! appOrigin}`; a service is `{name, secret, updatedAt, otp: {link, label, account, issuer,
//! digits, period, algorithm, counter, tokenType, source}, order: {position}}`. Encrypted:
//! `services` is empty, `servicesEncrypted` and `reference` are `ciphertext:salt:iv` (standard
//! base64): AES-256-GCM (tag appended) under PBKDF2-HMAC-SHA256 of the password (10 000 rounds)
//! over a 256-byte salt, of the JSON list of services and of 2FAS's fixed reference text (which
//! the app decrypts to check the password).
//!
//! What the export loses: icons (2FAS picks them by issuer), and mOTP and Yandex accounts, which
//! 2FAS has no kinds for ([`super::Exported::left_out`] names them).

use base64::Engine as _;
use serde::Serialize;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{ExportError, Exported, random, seal_appended, without_pin_kinds};
use crate::import::Password;
use crate::seal::json_zeroizing;
use crate::{Algorithm, Credential, Kind, uri};

/// PBKDF2 rounds the 2FAS apps use.
const ROUNDS: u32 = 10_000;

/// The salt length the 2FAS apps write.
const SALT_LEN: usize = 256;

/// The text every encrypted 2FAS backup carries encrypted as `reference`.
const REFERENCE: &str = "tRViSsLKzd86Hprh4ceC2OP7xazn4rrt4xhfEUbOjxLX8Rc3mkISXE0lWbmnWfggogbBJhtYgpK6fMl1D6mtsy92R3HkdGfwuXbzLebqVFJsR7IZ2w58t938iymwG4824igYy1wi6n2WDpO1Q1P69zwJGs2F5a1qP4MyIiDSD7NCV2OvidXQCBnDlGfmz0f1BQySRkkt4ryiJeCjD2o4QsveJ9uDBUn8ELyOrESv5R5DMDkD4iAF8TXU7KyoJujd";

/// The random inputs of an encrypted 2FAS export.
pub struct TwoFasKeys {
    salt: [u8; SALT_LEN],
    services_iv: [u8; 12],
    reference_iv: [u8; 12],
}

impl std::fmt::Debug for TwoFasKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TwoFasKeys(<redacted>)")
    }
}

impl TwoFasKeys {
    /// A fresh salt and IVs from the operating system's random number generator.
    pub fn fresh() -> Result<Self, ExportError> {
        let mut keys = Self { salt: [0; SALT_LEN], services_iv: [0; 12], reference_iv: [0; 12] };
        random(&mut keys.salt)?;
        random(&mut keys.services_iv)?;
        random(&mut keys.reference_iv)?;
        Ok(keys)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Backup<'a> {
    services: Vec<Service<'a>>,
    groups: [(); 0],
    updated_at: u64,
    schema_version: u32,
    app_version_code: u32,
    app_version_name: &'static str,
    app_origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    services_encrypted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Service<'a> {
    name: &'a str,
    #[serde(serialize_with = "text")]
    secret: Zeroizing<String>,
    updated_at: u64,
    otp: Otp<'a>,
    order: Order,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Otp<'a> {
    #[serde(serialize_with = "text")]
    link: Zeroizing<String>,
    label: &'a str,
    account: &'a str,
    issuer: &'a str,
    digits: u8,
    period: u32,
    algorithm: &'static str,
    counter: u64,
    token_type: &'static str,
    source: &'static str,
}

/// Writes wiped-on-drop text as a JSON string.
fn text<S: serde::Serializer>(value: &Zeroizing<String>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value)
}

#[derive(Serialize)]
struct Order {
    position: usize,
}

/// The name the messages give the format.
const NAME: &str = "2FAS";

fn services<'c>(credentials: &[&'c Credential], now_ms: u64) -> Vec<Service<'c>> {
    credentials
        .iter()
        .copied()
        .enumerate()
        .map(|(position, c)| {
            let token_type = match c.otp.kind {
                Kind::Totp => "TOTP",
                Kind::Hotp => "HOTP",
                Kind::Steam => "STEAM",
                // Left out by `without_pin_kinds` before this: 2FAS has neither.
                Kind::Motp | Kind::Yandex => "TOTP",
            };
            let algorithm = match c.otp.algorithm {
                Algorithm::Sha1 => "SHA1",
                Algorithm::Sha256 => "SHA256",
                Algorithm::Sha512 => "SHA512",
            };
            Service {
                // 2FAS shows the service's name; with no issuer the account name stands in.
                name: if c.issuer.is_empty() { &c.name } else { &c.issuer },
                secret: c.secret.to_base32(),
                updated_at: now_ms,
                otp: Otp {
                    link: Zeroizing::new(uri::format(c)),
                    label: &c.name,
                    account: &c.name,
                    issuer: &c.issuer,
                    digits: c.otp.digits,
                    period: c.otp.period,
                    algorithm,
                    counter: c.otp.counter,
                    token_type,
                    source: "Link",
                },
                order: Order { position },
            }
        })
        .collect()
}

fn backup(services: Vec<Service<'_>>, now_ms: u64) -> Backup<'_> {
    Backup {
        services,
        groups: [],
        updated_at: now_ms,
        schema_version: 4,
        app_version_code: 5_000_009,
        app_version_name: "5.1.0",
        app_origin: "android",
        services_encrypted: None,
        reference: None,
    }
}

/// An unencrypted `.2fas` backup of `credentials` (it holds the secrets in clear), made at
/// `now_ms` (Unix milliseconds, the backup's `updatedAt`).
pub fn twofas_plain(credentials: &[Credential], now_ms: u64) -> Exported {
    let (held, left_out) = without_pin_kinds(credentials, NAME);
    let json = json_zeroizing(&backup(services(&held, now_ms), now_ms));
    // `json_zeroizing` wrote JSON, which is UTF-8.
    Exported { text: Zeroizing::new(String::from_utf8_lossy(&json).into_owned()), left_out }
}

/// A `.2fas` backup of `credentials` encrypted with `password`, as 2FAS encrypts it.
pub fn twofas_encrypted(
    credentials: &[Credential],
    password: &Password,
    keys: &TwoFasKeys,
    now_ms: u64,
) -> Result<Exported, ExportError> {
    if password.expose().is_empty() {
        return Err(ExportError::EmptyPassword);
    }
    let (held, left_out) = without_pin_kinds(credentials, NAME);
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password.expose(), &keys.salt, ROUNDS, key.as_mut_slice());
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let sealed = |iv: &[u8; 12], plaintext: &[u8]| -> Result<String, ExportError> {
        let ciphertext = seal_appended(key.as_slice(), iv, plaintext)?;
        Ok(format!("{}:{}:{}", b64(&ciphertext), b64(&keys.salt), b64(iv)))
    };
    let list = json_zeroizing(&services(&held, now_ms));
    let mut file = backup(Vec::new(), now_ms);
    file.services_encrypted = Some(sealed(&keys.services_iv, &list)?);
    file.reference = Some(sealed(&keys.reference_iv, REFERENCE.as_bytes())?);
    let text = serde_json::to_string(&file).map_err(|_| ExportError::Encryption {
        reason: "the file could not be written as JSON".to_owned(),
    })?;
    Ok(Exported { text: Zeroizing::new(text), left_out })
}
