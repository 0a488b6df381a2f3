//! andOTP backups, plain and encrypted with both key derivations, written here from the app's
//! backup code (BackupHelper / EncryptionHelper): new = iterations (4 bytes, big-endian), salt (12),
//! IV (12), AES-256-GCM with PBKDF2-HMAC-SHA1; old = IV (12) then AES-256-GCM under SHA-256(password).

#![allow(clippy::unwrap_used)]

mod import_support;

use import_support::{
    ACCOUNTS, Account, aes_gcm_seal_appended, assert_entry_error, assert_imports,
};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use twofold_core::import::{self, Detected, Format, ImportError, Password};

fn entry(account: &Account) -> Value {
    json!({
        "secret": account.secret,
        "issuer": account.issuer,
        "label": account.name,
        "digits": account.digits,
        "type": account.kind_name(),
        "algorithm": account.algorithm_name(),
        "thumbnail": "Default",
        "last_used": 1_700_000_000_000u64,
        "used_frequency": 0,
        "period": account.period,
        "counter": account.counter,
        "tags": ["work"],
    })
}

fn plain() -> Vec<u8> {
    serde_json::to_vec(&ACCOUNTS.iter().map(entry).collect::<Vec<_>>()).unwrap()
}

fn new_derivation(password: &str, plaintext: &[u8]) -> Vec<u8> {
    let iterations: u32 = 150_000;
    let (salt, iv) = ([5u8; 12], [6u8; 12]);
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha1>(password.as_bytes(), &salt, iterations, &mut key);
    let mut file = iterations.to_be_bytes().to_vec();
    file.extend_from_slice(&salt);
    file.extend_from_slice(&iv);
    file.extend(aes_gcm_seal_appended(&key, &iv, plaintext));
    file
}

fn old_derivation(password: &str, plaintext: &[u8]) -> Vec<u8> {
    // The IV is random; a high first byte keeps it from reading as a plausible iteration count.
    let iv = [0xa7u8; 12];
    let key = Sha256::digest(password.as_bytes());
    let mut file = iv.to_vec();
    file.extend(aes_gcm_seal_appended(&key, &iv, plaintext));
    file
}

#[test]
fn plain_backup_round_trips_every_kind() {
    let file = plain();
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::AndOtp, encrypted: false }));
    assert_imports(&Format::AndOtp.read(&file, None).unwrap(), &ACCOUNTS);
}

#[test]
fn both_key_derivations_decrypt_and_a_wrong_password_is_told() {
    let right = Password::new("s3cret pass".to_owned());
    let wrong = Password::new("s3cret pass ".to_owned());
    let new = new_derivation("s3cret pass", &plain());
    assert_eq!(import::detect(&new), Ok(Detected { format: Format::AndOtp, encrypted: true }));
    // The old layout is random bytes from the first one: what detection assumes last, for
    // ciphertext-like bytes no other format claims, but not for a well-known file type.
    let old = old_derivation("s3cret pass", &plain());
    assert_eq!(import::detect(&old), Ok(Detected { format: Format::AndOtp, encrypted: true }));
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&old);
    assert_eq!(import::detect(&png), Err(ImportError::UnknownFormat));
    assert_eq!(import::detect(&[7u8; 400]), Err(ImportError::UnknownFormat), "not varied enough");
    for file in [new, old] {
        assert_eq!(Format::AndOtp.read(&file, None).unwrap_err(), ImportError::PasswordNeeded);
        assert_imports(&Format::AndOtp.read(&file, Some(&right)).unwrap(), &ACCOUNTS);
        assert_eq!(
            Format::AndOtp.read(&file, Some(&wrong)).unwrap_err(),
            ImportError::WrongPassword { format: Format::AndOtp }
        );
    }
}

#[test]
fn issuer_in_the_label_of_older_versions_is_split_off() {
    let mut old = entry(&ACCOUNTS[0]);
    old["label"] = json!("GitHub:alice@example.com");
    old.as_object_mut().unwrap().remove("issuer");
    let file = serde_json::to_vec(&json!([old])).unwrap();
    assert_imports(&Format::AndOtp.read(&file, None).unwrap(), &ACCOUNTS[..1]);
}

#[test]
fn truncated_backups_fail_cleanly() {
    let password = Password::new("s3cret pass".to_owned());
    for cut in import_support::truncations(&plain()) {
        let result = Format::AndOtp.read(cut, None);
        assert!(matches!(result, Err(ImportError::Damaged { .. })), "{}: {result:?}", cut.len());
    }
    // A cut encrypted file loses its tag: it no longer decrypts, whichever the reason.
    let file = new_derivation("s3cret pass", &plain());
    // A few cuts: each wrong guess costs a full key derivation.
    for len in [1, 20, 28, 29, 45, file.len() - 1] {
        let result = Format::AndOtp.read(&file[..len], Some(&password));
        assert!(
            matches!(result, Err(ImportError::Damaged { .. } | ImportError::WrongPassword { .. })),
            "{len}: {result:?}"
        );
    }
}

#[test]
fn damaged_entry_is_reported_while_the_rest_import() {
    let mut entries: Vec<Value> = ACCOUNTS.iter().map(entry).collect();
    entries[3]["secret"] = json!(null);
    let file = serde_json::to_vec(&entries).unwrap();
    let imported = Format::AndOtp.read(&file, None).unwrap();
    assert_eq!(imported.credentials.len(), 4);
    assert_entry_error(&imported, 4, "Cloud (dave)", "it has no \"secret\"");
}
