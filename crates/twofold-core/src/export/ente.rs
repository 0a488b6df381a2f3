//! Ente Auth's export, plain text or encrypted, written as Ente writes it and as
//! [`crate::import`]'s Ente and text readers read it.
//!
//! Format: <https://github.com/ente-io/ente/blob/main/docs/docs/auth/migration/export.md>. Plain:
//! `otpauth://` URIs, one per line. Encrypted: `{version: 1, kdfParams: {memLimit, opsLimit,
//! salt}, encryptedData, encryptionNonce}` (standard base64): the key is libsodium's
//! `crypto_pwhash` (Argon2id v1.3, one lane, 32 bytes) of the password over a 16-byte salt, and
//! the URIs are one message of `crypto_secretstream_xchacha20poly1305` whose header is
//! `encryptionNonce`. The cost is what Ente's apps settle on on phones: 256 MiB, 16 passes (the
//! same work as libsodium's "sensitive" 1 GiB and 4 passes, in a quarter of the memory).
//!
//! What the export loses: nothing Ente shows (it has no icons of its own in the URI), but mOTP and
//! Yandex accounts, which Ente has no kinds for ([`super::Exported::left_out`] names them).

use base64::Engine as _;
use serde::Serialize;
use zeroize::Zeroizing;

use super::{ExportError, Exported, random, without_pin_kinds};
use crate::import::Password;
use crate::secretstream::{self, HEADER_LEN};
use crate::{Credential, uri};

/// Argon2id memory (bytes) and passes of the export's key.
const MEMORY: u32 = 256 << 20;
const PASSES: u32 = 16;

/// The random inputs of an encrypted Ente export.
pub struct EnteKeys {
    salt: [u8; 16],
    header: [u8; HEADER_LEN],
}

impl std::fmt::Debug for EnteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnteKeys(<redacted>)")
    }
}

impl EnteKeys {
    /// A fresh salt and stream header from the operating system's random number generator.
    pub fn fresh() -> Result<Self, ExportError> {
        let mut keys = Self { salt: [0; 16], header: [0; HEADER_LEN] };
        random(&mut keys.salt)?;
        random(&mut keys.header)?;
        Ok(keys)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File {
    version: u32,
    kdf_params: KdfParams,
    encrypted_data: String,
    encryption_nonce: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KdfParams {
    mem_limit: u32,
    ops_limit: u32,
    salt: String,
}

/// Ente's plain export of `credentials`: one otpauth URI a line (it holds the secrets in clear).
pub fn ente_plain(credentials: &[Credential]) -> Exported {
    let (held, left_out) = without_pin_kinds(credentials, "Ente Auth");
    let mut text = Zeroizing::new(String::new());
    for credential in held {
        text.push_str(&Zeroizing::new(uri::format(credential)));
        text.push('\n');
    }
    Exported { text, left_out }
}

/// Ente's encrypted export of `credentials` under `password`.
pub fn ente_encrypted(
    credentials: &[Credential],
    password: &Password,
    keys: &EnteKeys,
) -> Result<Exported, ExportError> {
    if password.expose().is_empty() {
        return Err(ExportError::EmptyPassword);
    }
    let failed = |reason: &str| ExportError::Encryption { reason: reason.to_owned() };
    let params = argon2::Params::new(MEMORY / 1024, PASSES, 1, Some(32))
        .map_err(|_| failed("Argon2 refused its parameters"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password.expose(), &keys.salt, key.as_mut_slice())
        .map_err(|_| failed("Argon2 refused the salt"))?;
    let Exported { text, left_out } = ente_plain(credentials);
    let sealed = secretstream::seal(&key, &keys.header, text.as_bytes())
        .ok_or_else(|| failed("the stream cipher refused its key"))?;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let file = File {
        version: 1,
        kdf_params: KdfParams { mem_limit: MEMORY, ops_limit: PASSES, salt: b64(&keys.salt) },
        encrypted_data: b64(&sealed),
        encryption_nonce: b64(&keys.header),
    };
    let text = serde_json::to_string(&file)
        .map_err(|_| failed("the file could not be written as JSON"))?;
    Ok(Exported { text: Zeroizing::new(text), left_out })
}
