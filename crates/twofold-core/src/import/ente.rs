//! Ente Auth's export: encrypted JSON, or plain text (read as an otpauth URI list).
//!
//! Format: <https://github.com/ente-io/ente/blob/main/docs/docs/auth/migration/export.md>. The
//! encrypted export is `{version: 1, kdfParams: {memLimit, opsLimit, salt}, encryptedData,
//! encryptionNonce}` (standard base64). The key is libsodium's `crypto_pwhash` (Argon2id v1.3,
//! one lane, `opsLimit` passes over `memLimit` bytes, 32-byte output) of the password; the data is
//! one message of libsodium's `crypto_secretstream_xchacha20poly1305` whose 24-byte header is
//! `encryptionNonce`. Decrypted, and in the plain export, it is `otpauth://` URIs, one per line
//! (with Ente's own extra parameters, such as `codeDisplay`, which are ignored).
//!
//! What the import loses: Ente's tags, notes, pinning and trash state (the extra parameters).

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use poly1305::Poly1305;
use poly1305::universal_hash::KeyInit;
use zeroize::{Zeroize, Zeroizing};

use super::json::Fields;
use super::{Content, Format, ImportError, Imported, Password, uri_list};

const FORMAT: Format = Format::Ente;

/// The export versions this module knows.
const VERSION: u64 = 1;

/// Most Argon2 memory a file may ask for: libsodium's "sensitive" level, the most Ente uses.
const MAX_MEMORY: u64 = 1 << 30;

/// Most Argon2 work (memory times passes): the sensitive level's 4 passes over 1 GiB, which Ente
/// trades for more passes over less memory on small phones.
const MAX_WORK: u64 = 4 << 30;

/// libsodium's secretstream header: 16 bytes for HChaCha20, 8 for the nonce.
const HEADER_LEN: usize = 24;

/// Poly1305 tag length.
const MAC_LEN: usize = 16;

/// Standard base64, as libsodium's `ORIGINAL` variant writes it; padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Json(document) = content else { return None };
    let top = Fields::of(document.value())?;
    (top.has("kdfParams") && top.has("encryptedData")).then_some(true)
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    if let Content::Text(text) = content {
        return Ok(uri_list(text));
    }
    let top =
        Fields::of(content.json(FORMAT)?).ok_or_else(|| damaged("it is not a JSON object"))?;
    match top.number("version").map_err(damaged)? {
        Some(VERSION) => {}
        Some(other) => {
            return Err(ImportError::Unsupported {
                format: FORMAT,
                problem: format!("it has format version {other}; this Twofold reads version 1"),
            });
        }
        None => return Err(damaged("it has no \"version\"")),
    }
    let kdf = top
        .object("kdfParams")
        .map_err(damaged)?
        .ok_or_else(|| damaged("it has no \"kdfParams\""))?;
    let bytes = |fields: Fields<'_>, key: &str| {
        let text = fields.required_text(key).map_err(damaged)?;
        BASE64
            .decode(text.trim())
            .map_err(|_| damaged(format!("its \"{key}\" is not valid base64")))
    };
    let (salt, ciphertext, header) =
        (bytes(kdf, "salt")?, bytes(top, "encryptedData")?, bytes(top, "encryptionNonce")?);
    let password = password.ok_or(ImportError::PasswordNeeded)?;
    let key = derive_key(kdf, &salt, password)?;
    let header: &[u8; HEADER_LEN] = header
        .as_slice()
        .try_into()
        .map_err(|_| damaged("its \"encryptionNonce\" is not 24 bytes long"))?;
    if ciphertext.len() < 1 + MAC_LEN {
        return Err(damaged("its encrypted data is too short: the file is cut short"));
    }
    let plaintext = open_secretstream(&key, header, &ciphertext)
        .ok_or(ImportError::WrongPassword { format: FORMAT })?;
    let text = super::decrypted_text(FORMAT, &plaintext)?;
    Ok(uri_list(text))
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

/// libsodium's `crypto_pwhash` with Argon2id at the file's limits.
fn derive_key(
    kdf: Fields<'_>,
    salt: &[u8],
    password: &Password,
) -> Result<Zeroizing<[u8; 32]>, ImportError> {
    let number = |key: &str| {
        kdf.number(key)
            .map_err(damaged)?
            .ok_or_else(|| damaged(format!("its key parameters have no \"{key}\"")))
    };
    let (memory, passes) = (number("memLimit")?, number("opsLimit")?);
    if memory > MAX_MEMORY || memory.saturating_mul(passes) > MAX_WORK {
        return Err(ImportError::TooCostly {
            format: FORMAT,
            detail: format!("Argon2id over {} MiB, {passes} passes", memory >> 20),
        });
    }
    let invalid = || {
        damaged(format!("its key parameters (memLimit {memory}, opsLimit {passes}) are not valid"))
    };
    let kib = u32::try_from(memory / 1024).map_err(|_| invalid())?;
    let passes = u32::try_from(passes).map_err(|_| invalid())?;
    let params = argon2::Params::new(kib, passes, 1, Some(32)).map_err(|_| invalid())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password.expose(), salt, key.as_mut_slice())
        .map_err(|_| damaged("its key salt is not valid"))?;
    Ok(key)
}

/// Decrypts the first message of a libsodium `crypto_secretstream_xchacha20poly1305` stream
/// (`crypto_secretstream_xchacha20poly1305_pull`): `None` when its tag does not verify.
///
/// The stream key is HChaCha20(key, header[..16]); the ChaCha20 nonce is the 32-bit message counter
/// (1 for the first message) then header[16..]. Block 0 of the keystream keys Poly1305; block 1
/// encrypts the message tag byte (the message's first byte); the message itself starts at block 2.
/// The MAC covers that whole tag block, the ciphertext, `len % 16` zero bytes, and the lengths of
/// the (empty) associated data and of tag block plus ciphertext.
fn open_secretstream(
    key: &[u8; 32],
    header: &[u8; HEADER_LEN],
    message: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let (hchacha_input, nonce_tail) = header.split_first_chunk::<16>()?;
    let mut derived = chacha20::hchacha::<chacha20::R20>(key.into(), hchacha_input.into());
    let stream_key = Zeroizing::new(<[u8; 32]>::from(derived));
    derived.as_mut_slice().zeroize();
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(&1u32.to_le_bytes());
    nonce[4..].copy_from_slice(nonce_tail);
    let mut chacha = ChaCha20::new((&*stream_key).into(), (&nonce).into());

    let mut block = Zeroizing::new([0u8; 64]);
    chacha.apply_keystream(block.as_mut_slice());
    let mac = Poly1305::new_from_slice(&block[..32]).ok()?;

    let (tag_byte, rest) = message.split_first()?;
    let (ciphertext, expected) = rest.split_at(rest.len().checked_sub(MAC_LEN)?);
    block.fill(0);
    chacha.seek(64u64);
    chacha.apply_keystream(block.as_mut_slice());
    block[0] = *tag_byte;
    // libsodium pads the ciphertext with `(16 - 64 + len) & 15` zeros, that is `len % 16`, not
    // up to a multiple of 16; the MAC runs over the bytes as one unpadded stream.
    let mut covered = Vec::with_capacity(block.len() + ciphertext.len() + 2 * MAC_LEN);
    covered.extend_from_slice(block.as_slice());
    covered.extend_from_slice(ciphertext);
    covered.resize(covered.len() + ciphertext.len() % 16, 0);
    covered.extend_from_slice(&0u64.to_le_bytes());
    let length = u64::try_from(block.len() + ciphertext.len()).ok()?;
    covered.extend_from_slice(&length.to_le_bytes());
    let computed = mac.compute_unpadded(&covered);
    // Compared without an early exit, so timing does not tell how much of the tag matched.
    let difference = computed.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if difference != 0 {
        return None;
    }

    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    chacha.seek(128u64);
    chacha.apply_keystream(plaintext.as_mut_slice());
    Some(plaintext)
}
