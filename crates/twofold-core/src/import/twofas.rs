//! 2FAS Authenticator's `.2fas` backup, plain or encrypted.
//!
//! Format: the app's backup model,
//! <https://github.com/twofas/2fas-android/blob/main/data/services/src/main/java/com/twofasapp/data/services/domain/BackupContent.kt>.
//! A JSON object `{services: [...], groups, schemaVersion, appOrigin, ...}`. Each service has a
//! `name`, a base32 `secret` and `otp: {account, issuer, label, digits, period, algorithm,
//! counter, tokenType (TOTP, HOTP, STEAM)}`. Encrypted: `services` is empty and
//! `servicesEncrypted` is `ciphertext:salt:iv`, each standard base64; the key is
//! PBKDF2-HMAC-SHA256 of the password over the salt (10 000 iterations, 256 bits) and the
//! ciphertext (tag appended) is AES-256-GCM of the JSON list of services.
//!
//! What the import loses: icons and badges, groups, the manual order (file order is kept), and the
//! times of last use.

use base64::Engine as _;
use serde_json::Value;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::json::{self, Entry, Fields};
use super::{Content, Format, ImportError, Imported, Password, open_aes_gcm_appended};
use crate::Kind;

const FORMAT: Format = Format::TwoFas;

/// PBKDF2 rounds the 2FAS apps use.
const ITERATIONS: u32 = 10_000;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Json(document) = content else { return None };
    let top = Fields::of(document.value())?;
    let encrypted = top.text("servicesEncrypted").ok().flatten().is_some_and(|s| !s.is_empty());
    (top.has("services") && (top.has("schemaVersion") || encrypted)).then_some(encrypted)
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    let value = content.json(FORMAT)?;
    let top = Fields::of(value).ok_or_else(|| damaged("it is not a JSON object"))?;
    match top.text("servicesEncrypted").map_err(damaged)? {
        Some(sealed) if !sealed.is_empty() => {
            let password = password.ok_or(ImportError::PasswordNeeded)?;
            let plaintext = decrypt(sealed, password)?;
            let text = super::decrypted_text(FORMAT, &plaintext)?;
            let document = json::Document::parse(text).map_err(|e| damaged(json::problem(&e)))?;
            let services = document
                .value()
                .as_array()
                .ok_or_else(|| damaged("its decrypted services are not a list"))?;
            Ok(services_of(services))
        }
        _ => {
            let services = top
                .array("services")
                .map_err(damaged)?
                .ok_or_else(|| damaged("it has no list of services"))?;
            Ok(services_of(services))
        }
    }
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

fn decrypt(sealed: &str, password: &Password) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let parts: Vec<&str> = sealed.split(':').collect();
    let [ciphertext, salt, iv] = parts.as_slice() else {
        return Err(damaged("its encrypted services are not three parts (data, salt, IV)"));
    };
    let decode = |part: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(part.trim())
            .map_err(|_| damaged("its encrypted services are not valid base64"))
    };
    let (ciphertext, salt, iv) = (decode(ciphertext)?, decode(salt)?, decode(iv)?);
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password.expose(), &salt, ITERATIONS, key.as_mut_slice());
    open_aes_gcm_appended(key.as_slice(), &iv, &ciphertext)
        .ok_or(ImportError::WrongPassword { format: FORMAT })
}

fn services_of(services: &[Value]) -> Imported {
    json::each_entry(services, |service| {
        let otp = service.object("otp").ok().flatten();
        let (issuer, name) = names(service, otp);
        service_entry(service, otp, issuer.clone(), name.clone())
            .map_err(|message| (json::label(&issuer, &name), message))
    })
}

/// Issuer and account: the `otp` fields when set, else the service's name and the label.
fn names(service: Fields<'_>, otp: Option<Fields<'_>>) -> (String, String) {
    let text = |fields: Option<Fields<'_>>, key| {
        fields
            .and_then(|f| f.text(key).ok().flatten())
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let mut issuer = text(otp, "issuer");
    let account = text(otp, "account");
    let service_name = text(Some(service), "name");
    // 2FAS shows the service's name as the issuer; an account without one is named after itself.
    if issuer.is_empty() && service_name != account {
        issuer = service_name;
    }
    let mut name = account;
    if name.is_empty() {
        let label = text(otp, "label");
        // The label is often "Issuer:account", as in an otpauth URI.
        name = match label.split_once(':') {
            Some((prefix, account)) if prefix.trim() == issuer => account.trim().to_owned(),
            _ => label,
        };
    }
    (issuer, name)
}

fn service_entry(
    service: Fields<'_>,
    otp: Option<Fields<'_>>,
    issuer: String,
    name: String,
) -> Result<crate::Credential, String> {
    let secret = json::base32_secret(service.required_text("secret")?)?;
    let Some(otp) = otp else {
        return Entry { issuer, name, ..Entry::new(Kind::Totp) }.credential(secret);
    };
    let kind = otp.text("tokenType")?.map(json::kind).transpose()?.unwrap_or(Kind::Totp);
    Entry {
        issuer,
        name,
        algorithm: otp.text("algorithm")?.map(json::algorithm).transpose()?,
        digits: otp.number("digits")?,
        period: otp.number("period")?,
        counter: otp.number("counter")?,
        ..Entry::new(kind)
    }
    .credential(secret)
}
