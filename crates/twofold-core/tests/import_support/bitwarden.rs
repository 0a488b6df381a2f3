//! Bitwarden's password-protected JSON export, written from its description
//! (<https://bitwarden.com/help/encrypted-export/>): the password's key (PBKDF2-HMAC-SHA256 over
//! the salt text, or Argon2id over the salt text's SHA-256) is stretched by HKDF-SHA256 expand into
//! an encryption key ("enc") and a MAC key ("mac"); `encKeyValidation_DO_NOT_EDIT` and `data` are
//! type-2 EncStrings, `2.<iv>|<ciphertext>|<mac>`: AES-256-CBC (PKCS#7) and HMAC-SHA256 over IV and
//! ciphertext, standard base64. Shared by the import tests and the import benchmark.

#![allow(dead_code)] // the benchmark uses one part, the tests another
#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use base64::Engine as _;
use cbc::cipher::{BlockModeEncrypt as _, KeyIvInit as _, block_padding::Pkcs7};
use hmac::{KeyInit as _, Mac as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// The key derivation an export names (`kdfType` 0 or 1) and its cost.
#[derive(Clone, Copy, Debug)]
pub enum Kdf {
    /// PBKDF2-HMAC-SHA256 with this many rounds (Bitwarden's default: 600 000).
    Pbkdf2(u32),
    /// Argon2id: passes, MiB, lanes (Bitwarden's default: 3, 64, 4).
    Argon2id(u32, u32, u32),
}

/// The salt text an export carries (Bitwarden writes base64 of 16 random bytes; the text itself
/// is the salt).
pub const SALT: &str = "c2FsdHNhbHRzYWx0c2FsdA==";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The encryption and MAC keys of `password` under `kdf`.
pub fn keys(password: &str, kdf: Kdf) -> ([u8; 32], [u8; 32]) {
    let mut key = [0u8; 32];
    match kdf {
        Kdf::Pbkdf2(rounds) => {
            pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), SALT.as_bytes(), rounds, &mut key)
        }
        Kdf::Argon2id(passes, mib, lanes) => {
            let params = argon2::Params::new(mib * 1024, passes, lanes, Some(32)).unwrap();
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                .hash_password_into(password.as_bytes(), &Sha256::digest(SALT.as_bytes()), &mut key)
                .unwrap();
        }
    }
    let hkdf = hkdf::Hkdf::<Sha256>::from_prk(&key).unwrap();
    let (mut enc, mut mac) = ([0u8; 32], [0u8; 32]);
    hkdf.expand(b"enc", &mut enc).unwrap();
    hkdf.expand(b"mac", &mut mac).unwrap();
    (enc, mac)
}

/// A type-2 EncString of `plaintext` under `keys`, with IV `iv`.
pub fn enc_string(keys: &([u8; 32], [u8; 32]), iv: [u8; 16], plaintext: &[u8]) -> String {
    // PKCS#7 always adds 1 to 16 bytes.
    let mut ciphertext = plaintext.to_vec();
    ciphertext.resize(plaintext.len() / 16 * 16 + 16, 0);
    cbc::Encryptor::<aes_gcm::aes::Aes256>::new(&keys.0.into(), &iv.into())
        .encrypt_padded::<Pkcs7>(&mut ciphertext, plaintext.len())
        .unwrap();
    let mut mac = <hmac::Hmac<Sha256>>::new_from_slice(&keys.1).unwrap();
    mac.update(&iv);
    mac.update(&ciphertext);
    let mac = mac.finalize().into_bytes();
    format!("2.{}|{}|{}", b64(&iv), b64(&ciphertext), b64(&mac))
}

/// The password-protected export of the unencrypted export `plain` (its JSON text).
pub fn password_protected(plain: &[u8], password: &str, kdf: Kdf) -> Vec<u8> {
    let keys = keys(password, kdf);
    let mut file = json!({
        "encrypted": true,
        "passwordProtected": true,
        "salt": SALT,
        "kdfType": 0,
        "kdfIterations": 0,
        "encKeyValidation_DO_NOT_EDIT":
            enc_string(&keys, [1; 16], b"5e2e2bd2-5d4c-4c39-9a5b-b3a300b7e2b4"),
        "data": enc_string(&keys, [2; 16], plain),
    });
    match kdf {
        Kdf::Pbkdf2(rounds) => file["kdfIterations"] = json!(rounds),
        Kdf::Argon2id(passes, mib, lanes) => {
            file["kdfType"] = json!(1);
            file["kdfIterations"] = json!(passes);
            file["kdfMemory"] = json!(mib);
            file["kdfParallelism"] = json!(lanes);
        }
    }
    serde_json::to_vec_pretty(&file).unwrap()
}

/// One login item of an unencrypted export.
pub fn item(name: &str, username: &str, totp: Option<&str>) -> Value {
    json!({
        "id": "3b2e2c58-4a52-4f3e-8f39-b0f2011c0d07",
        "organizationId": null,
        "folderId": null,
        "type": 1,
        "reprompt": 0,
        "name": name,
        "notes": null,
        "favorite": false,
        "login": {
            "uris": [{ "match": null, "uri": "https://example.com" }],
            "username": username,
            "password": "not a code",
            "totp": totp,
        },
        "collectionIds": null,
    })
}

/// The unencrypted JSON export of `items`.
pub fn export(items: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "encrypted": false, "folders": [], "items": items })).unwrap()
}
