//! FreeOTP's accounts: the 1.x app's `tokens.xml` (Android app data; FreeOTP+ keeps the same
//! file), and the encrypted backup of FreeOTP 2 (`externalBackup.xml`).
//!
//! Format: the app's token model and backup code,
//! <https://github.com/freeotp/freeotp-android/blob/master/mobile/src/main/java/org/fedorahosted/freeotp/Token.java>
//! and `.../main/Backup.java` (2.x). 1.x: an Android preferences `<map>` whose entries, except
//! `tokenOrder`, are JSON tokens `{issuerExt, issuerInt, label, type (TOTP, HOTP), algo, digits,
//! period, counter, secret (signed bytes)}`; `counter` is that of the next code.
//!
//! 2.x: a Java-serialized `java.util.HashMap` of strings: `masterKey` is `{mAlgorithm
//! (PBKDF2withHmacSHA1 or PBKDF2withHmacSHA512), mIterations, mSalt, mEncryptedKey}`; each
//! account is `<uuid>` = `{key: "<encrypted key>"}` beside `<uuid>-token` = the token above
//! without its secret. An encrypted key is `{mCipher: "AES/GCM/NoPadding", mCipherText (signed
//! bytes, tag appended), mParameters (DER GCM parameters: the 12-byte nonce and the tag length),
//! mToken}`, its associated data the `mToken` text. The password's PBKDF2 key (256 bits) opens
//! the master key, and the master key each account's secret.
//!
//! What the import loses: token images and the order (`tokenOrder`).

use sha1::Sha1;
use sha2::Sha512;
use zeroize::Zeroizing;

use super::json::{self, Entry, Fields};
use super::{Content, Format, ImportError, Imported, Password, Place};
use crate::{Credential, Kind, OtpParams, Secret};

const FORMAT: Format = Format::FreeOtp;

/// The preference listing the accounts' order, not an account.
const ORDER: &str = "tokenOrder";

/// Java serialization's stream header: magic 0xaced, version 5.
const JAVA_MAGIC: [u8; 4] = [0xac, 0xed, 0x00, 0x05];

/// Most PBKDF2 rounds a backup may ask for: FreeOTP writes 100 000.
const MAX_ROUNDS: u64 = 10_000_000;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    match content {
        Content::Binary(bytes) => bytes.starts_with(&JAVA_MAGIC).then_some(true),
        Content::Prefs(prefs) => {
            let mut tokens = prefs.entries().filter(|(name, _)| *name != ORDER).peekable();
            tokens.peek()?;
            tokens
                .all(|(_, value)| {
                    json::Document::parse(value).ok().is_some_and(|d| {
                        Fields::of(d.value()).is_some_and(|t| t.has("secret") && t.has("type"))
                    })
                })
                .then_some(false)
        }
        _ => None,
    }
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    if let Content::Binary(bytes) = content {
        return backup(bytes, password);
    }
    let prefs = content.prefs(FORMAT)?;
    let mut imported = Imported::default();
    for (index, (key, value)) in prefs.entries().filter(|(name, _)| *name != ORDER).enumerate() {
        let place = Place::Entry(index + 1);
        let result = json::Document::parse(value)
            .map_err(|_| (Some(key.to_owned()), "it is not a JSON token".to_owned()))
            .and_then(|document| {
                let token = Fields::of(document.value())
                    .ok_or_else(|| (Some(key.to_owned()), "it is not a token".to_owned()))?;
                let secret = token
                    .array("secret")
                    .and_then(|s| s.ok_or_else(|| "it has no secret".to_owned()))
                    .and_then(super::freeotp_plus::signed_bytes);
                token_credential(token, secret).map_err(|m| (Some(key.to_owned()), m))
            });
        let (name, result) = split(result);
        imported.push(place, name, result);
    }
    Ok(imported)
}

/// A token's credential: its fields, and its secret (read from the token or decrypted).
fn token_credential(
    token: Fields<'_>,
    secret: Result<Secret, String>,
) -> Result<Credential, String> {
    let issuer = token.text("issuerExt")?.unwrap_or_default().trim().to_owned();
    let name = token.text("label")?.unwrap_or_default().trim().to_owned();
    let secret = secret?;
    let kind = json::kind(token.text("type")?.unwrap_or("TOTP"))?;
    // FreeOTP marks Steam only by its issuer (its URI importer turns otpauth://steam into it).
    if kind == Kind::Totp && issuer == "Steam" {
        return Ok(Credential { issuer, name, secret, otp: OtpParams::STEAM, icon: None });
    }
    Entry {
        issuer,
        name,
        algorithm: token.text("algo")?.map(json::algorithm).transpose()?,
        digits: token.number("digits")?,
        period: token.number("period")?,
        counter: token.number("counter")?,
        ..Entry::new(kind)
    }
    .credential(secret)
}

/// An entry's outcome with the name, when known, taken out of its error.
fn split(
    result: Result<Credential, (Option<String>, String)>,
) -> (Option<String>, Result<Credential, String>) {
    match result {
        Ok(credential) => (None, Ok(credential)),
        Err((name, message)) => (name, Err(message)),
    }
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

/// A FreeOTP 2 backup: the serialized map, its master key, then each account.
fn backup(bytes: &[u8], password: Option<&Password>) -> Result<Imported, ImportError> {
    let map = java_string_map(bytes).ok_or_else(|| {
        damaged("it is not the serialized map of strings FreeOTP 2 writes: the file is cut short or changed")
    })?;
    let get = |key: &str| map.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let master = get("masterKey").ok_or_else(|| damaged("it has no master key"))?;
    let master = json::Document::parse(master).map_err(|e| damaged(json::problem(&e)))?;
    let password = password.ok_or(ImportError::PasswordNeeded)?;
    let master_key = master_key(master.value(), password)?;
    let mut imported = Imported::default();
    let accounts = map.iter().filter(|(k, _)| k != "masterKey" && !k.ends_with("-token"));
    for (index, (uuid, encrypted)) in accounts.enumerate() {
        let place = Place::Entry(index + 1);
        let token_key = format!("{uuid}-token");
        let Some(token_text) = get(&token_key) else {
            imported.push(place, None, Err("its token details are missing".to_owned()));
            continue;
        };
        let result = json::Document::parse(token_text)
            .ok()
            .zip(json::Document::parse(encrypted).ok())
            .ok_or_else(|| (None, "its token is not JSON".to_owned()))
            .and_then(|(token, encrypted)| {
                let token = Fields::of(token.value())
                    .ok_or_else(|| (None, "its token is not an object".to_owned()))?;
                let label = json::label(
                    token.text("issuerExt").ok().flatten().unwrap_or_default(),
                    token.text("label").ok().flatten().unwrap_or_default(),
                );
                let secret = Fields::of(encrypted.value())
                    .ok_or_else(|| "its key is not an object".to_owned())
                    .and_then(|e| e.required_text("key").map(str::to_owned))
                    .and_then(|key| {
                        let key = json::Document::parse(&key)
                            .map_err(|_| "its key is not JSON".to_owned())?;
                        let key = Fields::of(key.value()).ok_or("its key is not an object")?;
                        let sealed = Sealed::of(key)?;
                        sealed
                            .open(&master_key)
                            .map(|bytes| Secret::new(bytes.to_vec()))
                            .ok_or_else(|| {
                                "its secret does not decrypt with the master key".to_owned()
                            })
                    });
                token_credential(token, secret).map_err(|m| (label, m))
            });
        let (name, result) = split(result);
        imported.push(place, name, result);
    }
    Ok(imported)
}

/// The master key, opened by the password's PBKDF2 key.
fn master_key(
    master: &serde_json::Value,
    password: &Password,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let master = Fields::of(master).ok_or_else(|| damaged("its master key is not an object"))?;
    let algorithm = master.required_text("mAlgorithm").map_err(damaged)?;
    let rounds = master
        .number("mIterations")
        .map_err(damaged)?
        .ok_or_else(|| damaged("its master key has no \"mIterations\""))?;
    if rounds > MAX_ROUNDS {
        return Err(ImportError::TooCostly {
            format: FORMAT,
            detail: format!("PBKDF2 with {rounds} rounds"),
        });
    }
    let rounds = u32::try_from(rounds)
        .ok()
        .filter(|r| *r > 0)
        .ok_or_else(|| damaged("its PBKDF2 rounds are not valid"))?;
    let salt = master
        .array("mSalt")
        .map_err(damaged)?
        .ok_or_else(|| damaged("its master key has no \"mSalt\""))?;
    let salt = super::freeotp_plus::signed_bytes(salt).map_err(damaged)?;
    let encrypted_key = master
        .object("mEncryptedKey")
        .map_err(damaged)?
        .ok_or_else(|| damaged("its master key has no \"mEncryptedKey\""))?;
    let sealed = Sealed::of(encrypted_key).map_err(damaged)?;
    let mut key = Zeroizing::new([0u8; 32]);
    match algorithm {
        "PBKDF2withHmacSHA1" => pbkdf2::pbkdf2_hmac::<Sha1>(
            password.expose(),
            salt.expose(),
            rounds,
            key.as_mut_slice(),
        ),
        "PBKDF2withHmacSHA512" => pbkdf2::pbkdf2_hmac::<Sha512>(
            password.expose(),
            salt.expose(),
            rounds,
            key.as_mut_slice(),
        ),
        other => {
            return Err(ImportError::Unsupported {
                format: FORMAT,
                problem: format!(
                    "its master key uses {}, not PBKDF2 with SHA1 or SHA512",
                    json::shown(other)
                ),
            });
        }
    }
    sealed.open(key.as_slice()).ok_or(ImportError::WrongPassword { format: FORMAT })
}

/// One of FreeOTP's encrypted keys: AES-GCM ciphertext (tag appended), nonce and associated data.
struct Sealed {
    ciphertext: Secret,
    nonce: Vec<u8>,
    aad: String,
}

impl Sealed {
    fn of(fields: Fields<'_>) -> Result<Self, String> {
        let cipher = fields.required_text("mCipher")?;
        if cipher != "AES/GCM/NoPadding" {
            return Err(format!("its key is encrypted with {}, not AES-GCM", json::shown(cipher)));
        }
        let bytes = |key: &str| {
            fields
                .array(key)?
                .ok_or_else(|| format!("its encrypted key has no \"{key}\""))
                .and_then(super::freeotp_plus::signed_bytes)
        };
        let parameters = bytes("mParameters")?;
        let nonce =
            gcm_nonce(parameters.expose()).ok_or("its encryption parameters are not valid")?;
        Ok(Sealed {
            ciphertext: bytes("mCipherText")?,
            nonce,
            aad: fields.required_text("mToken")?.to_owned(),
        })
    }

    fn open(&self, key: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        super::open_aes_gcm_appended_with_aad(
            key,
            &self.nonce,
            self.ciphertext.expose(),
            self.aad.as_bytes(),
        )
    }
}

/// The nonce in DER-encoded GCM parameters: `SEQUENCE { OCTET STRING nonce, INTEGER tagLength }`,
/// or (Android 6) the bare `OCTET STRING`.
fn gcm_nonce(der: &[u8]) -> Option<Vec<u8>> {
    let body = match der {
        [0x30, length, rest @ ..] => rest.get(..usize::from(*length))?,
        _ => der,
    };
    let [0x04, nonce_length, rest @ ..] = body else { return None };
    Some(rest.get(..usize::from(*nonce_length))?.to_vec())
}

/// The string pairs of a Java-serialized `java.util.HashMap<String, String>`: class descriptor,
/// the fields' values, then a block of capacity and size and the key and value objects. `None` when
/// the bytes are anything else.
fn java_string_map(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    const TC_OBJECT: u8 = 0x73;
    const TC_CLASSDESC: u8 = 0x72;
    const TC_STRING: u8 = 0x74;
    const TC_ENDBLOCKDATA: u8 = 0x78;
    const TC_NULL: u8 = 0x70;
    const TC_BLOCKDATA: u8 = 0x77;
    let mut reader = Reader(bytes.strip_prefix(&JAVA_MAGIC)?);
    (reader.byte()? == TC_OBJECT && reader.byte()? == TC_CLASSDESC).then_some(())?;
    (reader.utf()? == "java.util.HashMap").then_some(())?;
    reader.take(8)?; // serialVersionUID
    reader.byte()?; // flags
    let mut values_len = 0usize;
    for _ in 0..reader.u16()? {
        let kind = reader.byte()?;
        reader.utf()?;
        values_len += match kind {
            b'F' | b'I' => 4,
            _ => return None,
        };
    }
    (reader.byte()? == TC_ENDBLOCKDATA && reader.byte()? == TC_NULL).then_some(())?;
    reader.take(values_len)?;
    (reader.byte()? == TC_BLOCKDATA && reader.byte()? == 8).then_some(())?;
    reader.take(4)?; // capacity
    let size = reader.take(4)?;
    let size = u32::from_be_bytes(size.try_into().ok()?);
    let mut map = Vec::new();
    for _ in 0..size {
        let mut string = || {
            if reader.byte()? != TC_STRING {
                return None;
            }
            reader.utf()
        };
        let key = string()?;
        let value = string()?;
        map.push((key, value));
    }
    Some(map)
}

/// A cursor over serialized bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    /// A length-prefixed (modified) UTF-8 string, as `DataOutput.writeUTF` writes it.
    fn utf(&mut self) -> Option<String> {
        let length = usize::from(self.u16()?);
        String::from_utf8(self.take(length)?.to_vec()).ok()
    }
}
