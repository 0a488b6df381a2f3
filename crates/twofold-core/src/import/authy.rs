//! Authy's token file (Android app data, `shared_prefs/com.authy.storage.tokens.authenticator.xml`
//! and `com.authy.storage.tokens.authy.xml`). Authy has no export; this file, copied off a rooted
//! phone, is the way out.
//!
//! Format: Authy documents none; read as Aegis reads it (`AuthyImporter.java`). The preference
//! `com.authy.storage.tokens.authenticator.key` (or `...authy.key`) holds a JSON list of tokens
//! `{name, originalName, originalIssuer, accountType, digits, decryptedSecret (base32)}`. With
//! backups enabled, `decryptedSecret` is replaced by `encryptedSecret` (standard base64) and
//! `salt` (text): AES-256-CBC (PKCS#7, IV of 16 zero bytes) under PBKDF2-HMAC-SHA1 of the backup
//! password over the salt text (1 000 rounds, 256 bits); decrypted, it is the base32 secret.
//! Authy's own tokens (`secretSeed`, hex) make 7-digit codes every 10 s. Others are TOTP, SHA1,
//! 30 s: Authy keeps no algorithm or period for them.
//!
//! What the import loses: logos, and the period or algorithm a service set at enrolment when it
//! was not 30 s / SHA1 (Authy ignored them too, so its codes were those of 30 s / SHA1).

use base64::Engine as _;
use serde_json::Value;
use sha1::Sha1;
use zeroize::Zeroizing;

use super::json::{self, Entry, Fields};
use super::{Content, Format, ImportError, Imported, Password};
use crate::{Kind, Secret};

const FORMAT: Format = Format::Authy;

/// The preferences holding tokens: services' (authenticator) and Authy's own.
const KEYS: [&str; 2] =
    ["com.authy.storage.tokens.authenticator.key", "com.authy.storage.tokens.authy.key"];

/// PBKDF2 rounds Authy uses for backup passwords.
const ROUNDS: u32 = 1000;

/// Period of Authy's own tokens, in seconds.
const AUTHY_PERIOD: u64 = 10;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Prefs(prefs) = content else { return None };
    let tokens = KEYS.iter().find_map(|key| prefs.get(key))?;
    let document = json::Document::parse(tokens).ok()?;
    let items = document.value().as_array()?;
    Some(items.iter().any(is_encrypted))
}

fn is_encrypted(token: &Value) -> bool {
    Fields::of(token).is_some_and(|t| !t.has("decryptedSecret") && !t.has("secretSeed"))
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    let prefs = content.prefs(FORMAT)?;
    let tokens = KEYS
        .iter()
        .find_map(|key| prefs.get(key))
        .ok_or_else(|| damaged("it holds no Authy tokens"))?;
    let document = json::Document::parse(tokens).map_err(|e| damaged(json::problem(&e)))?;
    let items = document.value().as_array().ok_or_else(|| damaged("its tokens are not a list"))?;
    let password = match items.iter().any(is_encrypted) {
        true => Some(password.ok_or(ImportError::PasswordNeeded)?),
        false => None,
    };
    // One token checks the password for all: they share it, and a wrong one should not read as
    // every entry being damaged.
    let first = items.iter().filter_map(Fields::of).find(|t| t.has("encryptedSecret"));
    if let (Some(password), Some(first)) = (password, first)
        && matches!(decrypt(first, password), Err(Failure::WrongPassword))
    {
        return Err(ImportError::WrongPassword { format: FORMAT });
    }
    Ok(json::each_entry(items, |token| {
        let (issuer, name) = names(token);
        entry(token, password, issuer.clone(), name.clone())
            .map_err(|message| (json::label(&issuer, &name), message))
    }))
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

enum Failure {
    WrongPassword,
    Damaged(String),
}

/// The base32 text of an encrypted token's secret.
fn decrypt(token: Fields<'_>, password: &Password) -> Result<Zeroizing<String>, Failure> {
    let text = |key| token.required_text(key).map_err(Failure::Damaged);
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(text("encryptedSecret")?.trim())
        .map_err(|_| Failure::Damaged("its encrypted secret is not base64".to_owned()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha1>(
        password.expose(),
        text("salt")?.as_bytes(),
        ROUNDS,
        key.as_mut_slice(),
    );
    let plain =
        super::open_aes_cbc(key.as_slice(), &[0; 16], &sealed).ok_or(Failure::WrongPassword)?;
    let text = std::str::from_utf8(&plain).map_err(|_| Failure::WrongPassword)?;
    // A wrong key passes the padding check once in 256 tries; its "secret" is then not base32.
    Secret::from_base32(text).map_err(|_| Failure::WrongPassword)?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Issuer and account name, as Authy shows them ("Issuer: account" in `name`).
fn names(token: Fields<'_>) -> (String, String) {
    let text = |key| token.text(key).ok().flatten().unwrap_or_default().trim().to_owned();
    let name = text("name");
    if token.has("secretSeed") {
        return (name, String::new());
    }
    let (original_issuer, original_name) = (text("originalIssuer"), text("originalName"));
    let (issuer, separator) = if !original_issuer.is_empty() {
        (original_issuer, "")
    } else if let Some((issuer, _)) = original_name.split_once(':') {
        (issuer.trim().to_owned(), ":")
    } else if let Some((issuer, _)) = name.split_once(" - ") {
        (issuer.trim().to_owned(), " - ")
    } else {
        let mut kind = text("accountType");
        if let Some(first) = kind.get(..1) {
            kind = first.to_uppercase() + &kind[1..];
        }
        (kind, "")
    };
    let mut account = name.replace(&format!("{issuer}{separator}"), "");
    if let Some(rest) = account.strip_prefix(": ") {
        account = rest.to_owned();
    }
    (issuer, account.trim().to_owned())
}

fn entry(
    token: Fields<'_>,
    password: Option<&Password>,
    issuer: String,
    name: String,
) -> Result<crate::Credential, String> {
    let digits = token.number("digits")?;
    if let Some(seed) = token.text("secretSeed")? {
        let key = data_encoding::HEXLOWER_PERMISSIVE
            .decode(seed.trim().as_bytes())
            .map_err(|_| "its secret seed is not hexadecimal".to_owned())?;
        let entry =
            Entry { issuer, name, digits, period: Some(AUTHY_PERIOD), ..Entry::new(Kind::Totp) };
        return entry.credential(Secret::new(key));
    }
    let secret = match (token.text("decryptedSecret")?, password) {
        (Some(text), _) => json::base32_secret(text)?,
        (None, Some(password)) => match decrypt(token, password) {
            Ok(text) => json::base32_secret(&text)?,
            Err(Failure::WrongPassword) => {
                return Err("its secret does not decrypt with the password".to_owned());
            }
            Err(Failure::Damaged(message)) => return Err(message),
        },
        (None, None) => return Err("it has no secret".to_owned()),
    };
    Entry { issuer, name, digits, ..Entry::new(Kind::Totp) }.credential(secret)
}
