//! Ente Auth exports, written here from Ente's description of the export
//! (docs/docs/auth/migration/export.md: Argon2id key, XChaCha20-Poly1305) and libsodium's
//! documented `crypto_secretstream_xchacha20poly1305` construction; the plain export is a list of
//! otpauth URIs.

#![allow(clippy::unwrap_used)]

mod import_support;

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use import_support::{ACCOUNTS, assert_imports, base64};
use poly1305::Poly1305;
use poly1305::universal_hash::KeyInit;
use serde_json::{Value, json};
use twofold_core::import::{self, Detected, Format, ImportError, Password, Place};

/// libsodium's TAG_FINAL, which Ente's single-message export uses.
const TAG_FINAL: u8 = 3;

/// `crypto_secretstream_xchacha20poly1305_push` of one message after `init_push` with `header`.
fn secretstream_push(key: &[u8; 32], header: &[u8; 24], message: &[u8], tag: u8) -> Vec<u8> {
    let stream_key =
        chacha20::hchacha::<chacha20::R20>(key.into(), (&header[..16]).try_into().unwrap());
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(&1u32.to_le_bytes());
    nonce[4..].copy_from_slice(&header[16..]);
    let mut chacha = ChaCha20::new(&stream_key, (&nonce).into());
    let mut block = [0u8; 64];
    chacha.apply_keystream(&mut block);
    let mac = Poly1305::new_from_slice(&block[..32]).unwrap();
    let mut block = [0u8; 64];
    block[0] = tag;
    chacha.seek(64u64);
    chacha.apply_keystream(&mut block);
    let mut ciphertext = message.to_vec();
    chacha.seek(128u64);
    chacha.apply_keystream(&mut ciphertext);
    // The MAC input as libsodium feeds it: tag block, ciphertext, `(0x10 - 64 + mlen) & 0xf`
    // zeros, then the lengths of the associated data (none) and of tag block plus ciphertext.
    let mut covered = block.to_vec();
    covered.extend_from_slice(&ciphertext);
    covered
        .resize(covered.len() + (0x10usize.wrapping_sub(64).wrapping_add(message.len()) & 0xf), 0);
    covered.extend_from_slice(&0u64.to_le_bytes());
    covered.extend_from_slice(&((64 + message.len()) as u64).to_le_bytes());
    let mut out = vec![block[0]];
    out.extend_from_slice(&ciphertext);
    out.extend_from_slice(&mac.compute_unpadded(&covered));
    out
}

fn uris() -> String {
    let mut text: String = ACCOUNTS
        .iter()
        .map(|a| format!("{}&codeDisplay=%7B%22pinned%22%3Afalse%7D\n", a.uri()))
        .collect();
    text.push('\n');
    text
}

/// Ente's interactive limits, which keep the test quick: 64 MiB, 2 passes.
fn export(password: &str, plaintext: &str, memory: u64, passes: u32) -> Vec<u8> {
    let salt = [8u8; 16];
    let params = argon2::Params::new((memory / 1024) as u32, passes, 1, Some(32)).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; 32];
    argon.hash_password_into(password.as_bytes(), &salt, &mut key).unwrap();
    let header = [0x5au8; 24];
    let sealed = secretstream_push(&key, &header, plaintext.as_bytes(), TAG_FINAL);
    serde_json::to_vec(&json!({
        "version": 1,
        "kdfParams": { "memLimit": memory, "opsLimit": passes, "salt": base64(&salt) },
        "encryptedData": base64(&sealed),
        "encryptionNonce": base64(&header),
    }))
    .unwrap()
}

fn small(password: &str) -> Vec<u8> {
    export(password, &uris(), 8 << 20, 2)
}

#[test]
fn encrypted_export_round_trips_at_the_interactive_cost() {
    let file = export("ente pass", &uris(), 64 << 20, 2);
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Ente, encrypted: true }));
    let imported = Format::Ente.read(&file, Some(&Password::new("ente pass".to_owned()))).unwrap();
    assert_imports(&imported, &ACCOUNTS);
}

#[test]
fn plain_export_is_a_uri_list_and_reads_either_way() {
    let file = uris().into_bytes();
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Text, encrypted: false }));
    assert_imports(&Format::Ente.read(&file, None).unwrap(), &ACCOUNTS);
    assert_imports(&Format::Text.read(&file, None).unwrap(), &ACCOUNTS);
}

#[test]
fn password_is_asked_for_and_a_wrong_one_is_told() {
    let file = small("ente pass");
    assert_eq!(Format::Ente.read(&file, None).unwrap_err(), ImportError::PasswordNeeded);
    assert_eq!(
        Format::Ente.read(&file, Some(&Password::new("Ente pass".to_owned()))).unwrap_err(),
        ImportError::WrongPassword { format: Format::Ente }
    );
}

#[test]
fn hostile_memory_limit_is_refused_before_running() {
    let mut file: Value = serde_json::from_slice(&small("p")).unwrap();
    file["kdfParams"]["memLimit"] = json!(1u64 << 40);
    let err =
        Format::Ente.read(&serde_json::to_vec(&file).unwrap(), Some(&Password::new("p".into())));
    assert!(matches!(err, Err(ImportError::TooCostly { .. })), "{err:?}");
}

#[test]
fn truncated_exports_fail_cleanly() {
    let file = small("p");
    let password = Password::new("p".to_owned());
    for cut in import_support::truncations(&file) {
        let result = Format::Ente.read(cut, Some(&password));
        assert!(matches!(result, Err(ImportError::Damaged { .. })), "{}: {result:?}", cut.len());
    }
    // Cut inside the encrypted data, with the JSON still whole: it no longer authenticates.
    let mut whole: Value = serde_json::from_slice(&file).unwrap();
    let data = whole["encryptedData"].as_str().unwrap();
    whole["encryptedData"] = json!(data[..data.len() - 8].to_owned());
    let result = Format::Ente.read(&serde_json::to_vec(&whole).unwrap(), Some(&password));
    assert!(matches!(result, Err(ImportError::WrongPassword { .. })), "{result:?}");
}

#[test]
fn damaged_line_is_reported_while_the_rest_import() {
    let mut text = uris();
    text = text.replacen("digits=8", "digits=3", 1);
    let file = export("p", &text, 8 << 20, 2);
    let imported = Format::Ente.read(&file, Some(&Password::new("p".to_owned()))).unwrap();
    assert_eq!(imported.credentials.len(), 4);
    assert_eq!(imported.errors.len(), 1);
    assert_eq!(imported.errors[0].place, Place::Line(2));
}
