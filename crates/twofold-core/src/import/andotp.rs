//! andOTP's backup: plain JSON, or encrypted (`.json.aes`) with the old or the new key derivation.
//!
//! Format: the app's backup code, <https://github.com/andOTP/andOTP/blob/master/app/src/main/java/org/shadowice/flocke/andotp/Utilities/BackupHelper.java>
//! and `EncryptionHelper.java` beside it. Plain: a JSON list of `{secret (base32), issuer, label,
//! digits, type (TOTP, HOTP, STEAM), algorithm, period, counter, tags, thumbnail}`; older versions
//! put "Issuer:account" in `label`. Encrypted, new derivation: a 4-byte big-endian PBKDF2 iteration
//! count (140 000–160 000), a 12-byte salt, a 12-byte IV, then AES-256-GCM ciphertext with its tag;
//! the key is PBKDF2-HMAC-SHA1 of the password (256 bits). Old derivation: the 12-byte IV then the
//! ciphertext, under the key SHA-256(password). Both are tried, new first. The new layout is
//! recognised by its iteration count; the old one is nothing but random-looking bytes, so it is
//! what detection assumes last, for binary content no other format claims.
//!
//! What the import loses: tags, thumbnails and usage statistics.

use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::json::{self, Entry, Fields};
use super::{Content, Format, GCM_TAG_LEN, ImportError, Imported, Password, open_aes_gcm_appended};

const FORMAT: Format = Format::AndOtp;

const SALT_LEN: usize = 12;
const IV_LEN: usize = 12;
const ITERATIONS_LEN: usize = 4;

/// Most PBKDF2 rounds tried: andOTP writes at most 160 000; an old-derivation file starts with its
/// random IV, whose first bytes read as a count are almost always far above this.
const MAX_ITERATIONS: u32 = 1_000_000;

/// The iteration counts andOTP writes, which mark a file of the new layout. Files of the old layout
/// start with random bytes and are read only when the format is named.
const WRITTEN_ITERATIONS: std::ops::RangeInclusive<u32> = 140_000..=160_000;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    match content {
        Content::Binary(bytes) => {
            let (count, rest) = bytes.split_first_chunk::<ITERATIONS_LEN>()?;
            (WRITTEN_ITERATIONS.contains(&u32::from_be_bytes(*count))
                && rest.len() > SALT_LEN + IV_LEN + GCM_TAG_LEN)
                .then_some(true)
        }
        Content::Json(document) => {
            let first = Fields::of(document.value().as_array()?.first()?)?;
            (first.has("secret") && first.has("type") && first.has("label")).then_some(false)
        }
        _ => None,
    }
}

/// Whether binary content no other format claimed may be an old-layout encrypted backup: long
/// enough for an IV, a tag and a JSON list, not a well-known file type, and as varied as
/// ciphertext is (random bytes of length n hold about 256·(1 − (255/256)^n) distinct values).
pub(super) fn recognise_old(content: &Content<'_>) -> Option<bool> {
    const KNOWN_MAGIC: [&[u8]; 7] =
        [b"SQLite format 3\0", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"\x1f\x8b", b"PK"];
    let Content::Binary(bytes) = content else { return None };
    if bytes.len() < IV_LEN + GCM_TAG_LEN + 2 || KNOWN_MAGIC.iter().any(|m| bytes.starts_with(m)) {
        return None;
    }
    let mut seen = [false; 256];
    bytes.iter().for_each(|b| seen[usize::from(*b)] = true);
    let distinct = seen.iter().filter(|s| **s).count() as f64;
    let expected = 256.0 * (1.0 - (255.0f64 / 256.0).powi(i32::try_from(bytes.len()).ok()?));
    (distinct >= 0.8 * expected).then_some(true)
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    let bytes = match content {
        Content::Binary(bytes) => *bytes,
        // Encrypted bytes are valid UTF-8 once in a while.
        Content::Text(text) => text.as_bytes(),
        _ => return entries(content.json(FORMAT)?),
    };
    if bytes.len() <= IV_LEN + GCM_TAG_LEN {
        return Err(damaged("it is too short to hold encrypted accounts: the file is cut short"));
    }
    let password = password.ok_or(ImportError::PasswordNeeded)?;
    let plaintext = decrypt(bytes, password)?;
    let text = super::decrypted_text(FORMAT, &plaintext)?;
    let document = json::Document::parse(text).map_err(|e| damaged(json::problem(&e)))?;
    entries(document.value())
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

fn decrypt(bytes: &[u8], password: &Password) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    if let Some(plaintext) = decrypt_new(bytes, password) {
        return Ok(plaintext);
    }
    let mut digest = Sha256::digest(password.expose());
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&digest);
    digest.as_mut_slice().zeroize();
    let (iv, sealed) = bytes.split_at_checked(IV_LEN).ok_or_else(|| damaged("it is cut short"))?;
    open_aes_gcm_appended(key.as_slice(), iv, sealed)
        .ok_or(ImportError::WrongPassword { format: FORMAT })
}

/// The new layout: iteration count, salt, IV, ciphertext and tag.
fn decrypt_new(bytes: &[u8], password: &Password) -> Option<Zeroizing<Vec<u8>>> {
    let (count, rest) = bytes.split_first_chunk::<ITERATIONS_LEN>()?;
    let iterations = u32::from_be_bytes(*count);
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return None;
    }
    let (salt, rest) = rest.split_first_chunk::<SALT_LEN>()?;
    let (iv, sealed) = rest.split_first_chunk::<IV_LEN>()?;
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha1>(password.expose(), salt, iterations, key.as_mut_slice());
    open_aes_gcm_appended(key.as_slice(), iv, sealed)
}

fn entries(value: &Value) -> Result<Imported, ImportError> {
    let items = value.as_array().ok_or_else(|| damaged("it is not a list of accounts"))?;
    Ok(json::each_entry(items, |fields| {
        let (issuer, name) = names(fields);
        entry(fields, issuer.clone(), name.clone())
            .map_err(|message| (json::label(&issuer, &name), message))
    }))
}

/// Issuer and account, from `issuer` and a `label` that may be "Issuer:account", or in exports
/// before 2020 (no `issuer`) "Issuer - Issuer:account".
fn names(fields: Fields<'_>) -> (String, String) {
    let issuer = fields.text("issuer").ok().flatten().unwrap_or_default().trim().to_owned();
    let mut label = fields.text("label").ok().flatten().unwrap_or_default().trim();
    if let Some((prefix, rest)) = label.split_once(" - ")
        && issuer.is_empty()
        && rest.split_once(':').is_some_and(|(again, _)| again.trim() == prefix.trim())
    {
        label = rest.trim();
    }
    match label.split_once(':') {
        Some((prefix, account)) if issuer.is_empty() || prefix.trim() == issuer => {
            (prefix.trim().to_owned(), account.trim().to_owned())
        }
        _ => (issuer, label.to_owned()),
    }
}

fn entry(fields: Fields<'_>, issuer: String, name: String) -> Result<crate::Credential, String> {
    let secret = json::base32_secret(fields.required_text("secret")?)?;
    Entry {
        issuer,
        name,
        algorithm: fields.text("algorithm")?.map(json::algorithm).transpose()?,
        digits: fields.number("digits")?,
        period: fields.number("period")?,
        counter: fields.number("counter")?,
        ..Entry::new(json::kind(fields.required_text("type")?)?)
    }
    .credential(secret)
}
