//! Aegis Authenticator's vault export, plain or encrypted.
//!
//! Format: <https://github.com/beemdevelopment/Aegis/blob/master/docs/vault.md>. A JSON object
//! `{version, header: {slots, params}, db}`. Plain: `db` is `{version, entries: [...]}` and the
//! header's `slots` and `params` are null. Encrypted: `db` is base64 of the AES-256-GCM ciphertext
//! of that object under a random master key, with `params` holding its hex `nonce` and `tag`; each
//! slot holds the master key wrapped (AES-256-GCM, hex `key`, `key_params`) by a credential.
//! Password slots (type 1) derive that credential with scrypt (`n`, `r`, `p`, hex `salt`; Aegis
//! writes N = 2^15, r = 8, p = 1). Entries: `type` (totp, hotp, steam, motp, yandex), `name`,
//! `issuer`, `info: {secret (base32), algo, digits, period, counter, pin}` (`pin`: mOTP and
//! Yandex only, as typed; the Yandex secret is its 16-byte key).
//!
//! What the import loses:
//! - icons (JPEG/PNG/SVG embedded in the entry), groups, notes, favourites and usage counts;
//! - vaults that only biometric or key-file slots open (no password slot) cannot be decrypted here.

use base64::Engine as _;
use serde_json::Value;
use zeroize::Zeroizing;

use super::json::{self, Entry, Fields};
use super::{Content, Format, ImportError, Imported, Password, open_aes_gcm};

const FORMAT: Format = Format::Aegis;

/// Slot type of a password-derived credential.
const PASSWORD_SLOT: u64 = 1;

/// Most memory one scrypt run may take, in bytes (128 · r · N): 32 times what Aegis uses.
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;

/// Most scrypt work (memory times parallel runs) a file may ask for.
const MAX_SCRYPT_WORK: u64 = 1 << 31;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Json(document) = content else { return None };
    let top = Fields::of(document.value())?;
    (top.has("header") && top.has("db"))
        .then(|| matches!(document.value().get("db"), Some(Value::String(_))))
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    let value = content.json(FORMAT)?;
    let top = Fields::of(value).ok_or_else(|| damaged("it is not a JSON object"))?;
    match value.get("db") {
        Some(db @ Value::Object(_)) => entries(db),
        Some(Value::String(sealed)) => {
            let password = password.ok_or(ImportError::PasswordNeeded)?;
            let header = top
                .object("header")
                .map_err(damaged)?
                .ok_or_else(|| damaged("it has no header"))?;
            let master_key = master_key(header, password)?;
            let params = header
                .object("params")
                .map_err(damaged)?
                .ok_or_else(|| damaged("its header has no \"params\""))?;
            let (nonce, tag) = nonce_and_tag(params)?;
            let ciphertext = base64::engine::general_purpose::STANDARD
                .decode(sealed.trim())
                .map_err(|_| damaged("its encrypted accounts are not valid base64"))?;
            let plaintext =
                open_aes_gcm(&master_key, &nonce, &ciphertext, &tag).ok_or_else(|| {
                    damaged("its accounts do not decrypt with the key its password opened")
                })?;
            let text = super::decrypted_text(FORMAT, &plaintext)?;
            let document = json::Document::parse(text).map_err(|e| damaged(json::problem(&e)))?;
            entries(document.value())
        }
        Some(_) => Err(damaged("its \"db\" is neither a list of accounts nor encrypted accounts")),
        None => Err(damaged("it has no \"db\" holding the accounts")),
    }
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

/// The master key, unwrapped by the first password slot the password opens.
fn master_key(header: Fields<'_>, password: &Password) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let slots = header.array("slots").map_err(damaged)?.unwrap_or_default();
    let mut password_slots = 0;
    for slot in slots {
        let slot = Fields::of(slot).ok_or_else(|| damaged("a key slot is not an object"))?;
        if slot.number("type").map_err(damaged)? != Some(PASSWORD_SLOT) {
            continue;
        }
        password_slots += 1;
        let key = derive_slot_key(slot, password)?;
        let params = slot
            .object("key_params")
            .map_err(damaged)?
            .ok_or_else(|| damaged("a key slot has no \"key_params\""))?;
        let (nonce, tag) = nonce_and_tag(params)?;
        let wrapped = hex(slot, "key")?;
        if let Some(master_key) = open_aes_gcm(key.as_slice(), &nonce, &wrapped, &tag) {
            return Ok(master_key);
        }
    }
    if password_slots == 0 {
        return Err(ImportError::Unsupported {
            format: FORMAT,
            problem: "only a fingerprint or key file opens it, not a password: export again from \
                      Aegis with a password (or unencrypted)"
                .to_owned(),
        });
    }
    Err(ImportError::WrongPassword { format: FORMAT })
}

/// The key a password slot's scrypt parameters derive from `password`.
fn derive_slot_key(
    slot: Fields<'_>,
    password: &Password,
) -> Result<Zeroizing<[u8; 32]>, ImportError> {
    let number = |key: &str| {
        slot.number(key)
            .map_err(damaged)?
            .ok_or_else(|| damaged(format!("a key slot has no \"{key}\"")))
    };
    let (n, r, p) = (number("n")?, number("r")?, number("p")?);
    let too_costly = || ImportError::TooCostly {
        format: FORMAT,
        detail: format!("scrypt N = {n}, r = {r}, p = {p}"),
    };
    if !n.is_power_of_two() || n < 2 || r == 0 || p == 0 {
        return Err(damaged(format!(
            "a key slot's scrypt parameters (N = {n}, r = {r}, p = {p}) are not valid"
        )));
    }
    let memory = n.checked_mul(r).and_then(|m| m.checked_mul(128)).ok_or_else(too_costly)?;
    if memory > MAX_SCRYPT_MEMORY || memory.saturating_mul(p) > MAX_SCRYPT_WORK {
        return Err(too_costly());
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| too_costly())?;
    let (r, p) =
        (u32::try_from(r).map_err(|_| too_costly())?, u32::try_from(p).map_err(|_| too_costly())?);
    let params = scrypt::Params::new(log_n, r, p).map_err(|_| too_costly())?;
    let salt = hex(slot, "salt")?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password.expose(), &salt, &params, key.as_mut_slice())
        .map_err(|_| damaged("a key slot's scrypt parameters are not valid"))?;
    Ok(key)
}

fn nonce_and_tag(params: Fields<'_>) -> Result<(Vec<u8>, Vec<u8>), ImportError> {
    Ok((hex(params, "nonce")?, hex(params, "tag")?))
}

fn hex(fields: Fields<'_>, key: &str) -> Result<Vec<u8>, ImportError> {
    let text = fields.required_text(key).map_err(damaged)?;
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.trim().as_bytes())
        .map_err(|_| damaged(format!("its \"{key}\" is not hexadecimal")))
}

/// The accounts of the (decrypted) `db` object.
fn entries(db: &Value) -> Result<Imported, ImportError> {
    let db = Fields::of(db).ok_or_else(|| damaged("its accounts are not a JSON object"))?;
    let items = db
        .array("entries")
        .map_err(damaged)?
        .ok_or_else(|| damaged("it has no list of entries"))?;
    Ok(json::each_entry(items, |fields| {
        let issuer = fields.text("issuer").unwrap_or_default().unwrap_or_default();
        let name = fields.text("name").unwrap_or_default().unwrap_or_default();
        entry(fields).map_err(|message| (json::label(issuer, name), message))
    }))
}

fn entry(fields: Fields<'_>) -> Result<crate::Credential, String> {
    let kind = json::kind(fields.required_text("type")?)?;
    let info = fields.object("info")?.ok_or("it has no \"info\" with its secret")?;
    let mut secret = json::base32_secret(info.required_text("secret")?)?;
    if kind.needs_pin()
        && let Some(pin) = info.text("pin")?
    {
        secret = secret.with_pin(pin).map_err(|e| format!("its PIN cannot be used: {e}"))?;
    }
    // mOTP's "MD5" is no HMAC algorithm; the kinds that fix theirs ignore what is written.
    let algorithm = match kind.fixed_params() {
        Some(_) => None,
        None => info.text("algo")?.map(json::algorithm).transpose()?,
    };
    let entry = Entry {
        issuer: fields.text("issuer")?.unwrap_or_default().to_owned(),
        name: fields.text("name")?.unwrap_or_default().to_owned(),
        algorithm,
        digits: info.number("digits")?,
        period: info.number("period")?,
        counter: info.number("counter")?,
        ..Entry::new(kind)
    };
    entry.credential(secret)
}
