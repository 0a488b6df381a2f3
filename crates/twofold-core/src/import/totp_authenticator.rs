//! TOTP Authenticator's (Binary Boot's `com.authenticator.authservice2`) backup, and its
//! preferences file (Android app data, `shared_prefs/TOTP_Authenticator_Preferences.xml`).
//!
//! Format: the app documents none; read as Aegis reads it (`TotpAuthenticatorImporter.java`).
//! The backup is standard base64 of AES-256-CBC (PKCS#7, IV of 16 zero bytes) under the SHA-256
//! of the password; decrypted, it is a JSON object whose first key is the JSON text of the list of
//! accounts. The preferences file holds that list in `STATIC_TOTP_CODES_LIST`. An account is
//! `{issuer, name, key, base (16, 32 or 64: how `key` is written), digits, period}`. The app
//! makes 6-digit, 30 s, SHA1 codes whatever `digits` and `period` say (Aegis's importer and its
//! tests read them so), and so does the import.
//!
//! What the import loses: icons, favourites and widgets.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::json::{self, Entry, Fields};
use super::{Content, Format, ImportError, Imported, Password};
use crate::{Kind, Secret};

const FORMAT: Format = Format::TotpAuthenticator;

/// The preference holding the accounts.
const PREF: &str = "STATIC_TOTP_CODES_LIST";

/// AES block length: the backup is whole blocks.
const BLOCK: usize = 16;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    match content {
        Content::Prefs(prefs) => prefs.get(PREF).map(|_| false),
        Content::Text(text) => {
            let bytes = base64_bytes(text)?;
            (bytes.len() >= 2 * BLOCK && bytes.len() % BLOCK == 0).then_some(true)
        }
        _ => None,
    }
}

/// The bytes of text that is standard base64 and nothing else.
fn base64_bytes(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=\r\n".contains(&b))
    {
        return None;
    }
    let joined: String = text.split_ascii_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(joined).ok()
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    if let Content::Prefs(prefs) = content {
        let list = prefs.get(PREF).ok_or_else(|| damaged(format!("it has no {PREF}")))?;
        return accounts(list);
    }
    let Content::Text(text) = content else {
        return Err(damaged("it is not the base64 text of a TOTP Authenticator backup"));
    };
    let sealed =
        base64_bytes(text).filter(|b| !b.is_empty() && b.len() % BLOCK == 0).ok_or_else(|| {
            damaged("it is not whole encrypted blocks in base64: the file is cut short or changed")
        })?;
    let password = password.ok_or(ImportError::PasswordNeeded)?;
    let key = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(password.expose())));
    let plaintext = super::open_aes_cbc(key.as_slice(), &[0; BLOCK], &sealed)
        .filter(|plain| plain.first() == Some(&b'{'))
        .ok_or(ImportError::WrongPassword { format: FORMAT })?;
    let text = super::decrypted_text(FORMAT, &plaintext)?;
    let document = json::Document::parse(text).map_err(|e| damaged(json::problem(&e)))?;
    let list = document
        .value()
        .as_object()
        .and_then(|object| object.keys().next())
        .ok_or_else(|| damaged("its decrypted contents hold no list of accounts"))?;
    let list = Zeroizing::new(list.clone());
    accounts(&list)
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

fn accounts(list: &str) -> Result<Imported, ImportError> {
    let document = json::Document::parse(list).map_err(|e| damaged(json::problem(&e)))?;
    let items =
        document.value().as_array().ok_or_else(|| damaged("its accounts are not a list"))?;
    Ok(json::each_entry(items, |account| {
        let text = |key| account.text(key).ok().flatten().unwrap_or_default().trim().to_owned();
        let (issuer, name) = (text("issuer"), text("name"));
        entry(account, issuer.clone(), name.clone()).map_err(|m| (json::label(&issuer, &name), m))
    }))
}

fn entry(account: Fields<'_>, issuer: String, name: String) -> Result<crate::Credential, String> {
    let key = account.required_text("key")?.trim();
    let secret = match account.number("base")? {
        Some(16) => data_encoding::HEXLOWER_PERMISSIVE
            .decode(key.as_bytes())
            .map(Secret::new)
            .map_err(|_| "its key is not hexadecimal".to_owned())?,
        Some(32) => json::base32_secret(key)?,
        Some(64) => base64::engine::general_purpose::STANDARD
            .decode(key)
            .map(Secret::new)
            .map_err(|_| "its key is not base64".to_owned())?,
        other => {
            return Err(format!(
                "its key is written in base {}, not 16, 32 or 64",
                other.map_or_else(|| "(none)".to_owned(), |b| b.to_string())
            ));
        }
    };
    Entry { issuer, name, ..Entry::new(Kind::Totp) }.credential(secret)
}
