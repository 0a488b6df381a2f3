//! 2FAS `.2fas` backups, plain and encrypted, written here from the app's backup model
//! (https://github.com/twofas/2fas-android, `BackupContent.kt`: services, servicesEncrypted as
//! `ciphertext:salt:iv`, PBKDF2-HMAC-SHA256 with 10 000 rounds, AES-256-GCM).

#![allow(clippy::unwrap_used)]

mod import_support;

use import_support::{
    ACCOUNTS, Account, aes_gcm_seal_appended, assert_entry_error, assert_imports, base64,
};
use serde_json::{Value, json};
use sha2::Sha256;
use twofold_core::import::{self, Detected, Format, ImportError, Password};

fn service(account: &Account, position: usize) -> Value {
    json!({
        "name": account.issuer,
        "secret": account.secret,
        "updatedAt": 1_704_874_073_731u64,
        "otp": {
            "label": format!("{}:{}", account.issuer, account.name),
            "account": account.name,
            "issuer": account.issuer,
            "digits": account.digits,
            "period": account.period,
            "algorithm": account.algorithm_name(),
            "counter": account.counter,
            "tokenType": account.kind_name(),
            "source": "Manual",
        },
        "order": { "position": position },
        "icon": { "selected": "Label", "label": { "text": "EX", "backgroundColor": "Orange" } },
    })
}

fn services() -> Vec<Value> {
    ACCOUNTS.iter().enumerate().map(|(i, a)| service(a, i)).collect()
}

fn plain(services: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "services": services,
        "groups": [],
        "updatedAt": 1_704_874_073_731u64,
        "schemaVersion": 4,
        "appVersionCode": 5_000_000,
        "appVersionName": "5.0.0",
        "appOrigin": "android",
    }))
    .unwrap()
}

fn encrypted(services: &[Value], password: &str) -> Vec<u8> {
    let salt = [9u8; 256];
    let iv = [3u8; 12];
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, 10_000, &mut key);
    let sealed = aes_gcm_seal_appended(&key, &iv, &serde_json::to_vec(services).unwrap());
    let reference = aes_gcm_seal_appended(&key, &[4u8; 12], b"reference text");
    serde_json::to_vec(&json!({
        "services": [],
        "groups": [],
        "updatedAt": 1_704_874_073_731u64,
        "schemaVersion": 4,
        "appOrigin": "ios",
        "servicesEncrypted": format!("{}:{}:{}", base64(&sealed), base64(&salt), base64(&iv)),
        "reference": format!("{}:{}:{}", base64(&reference), base64(&salt), base64(&[4u8; 12])),
    }))
    .unwrap()
}

#[test]
fn plain_backup_round_trips_every_kind() {
    let file = plain(services());
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::TwoFas, encrypted: false }));
    assert_imports(&Format::TwoFas.read(&file, None).unwrap(), &ACCOUNTS);
}

#[test]
fn encrypted_backup_round_trips_and_tells_a_wrong_password() {
    let file = encrypted(&services(), "pässword");
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::TwoFas, encrypted: true }));
    assert_eq!(Format::TwoFas.read(&file, None).unwrap_err(), ImportError::PasswordNeeded);
    let right = Password::new("pässword".to_owned());
    assert_imports(&Format::TwoFas.read(&file, Some(&right)).unwrap(), &ACCOUNTS);
    let wrong = Password::new("password".to_owned());
    assert_eq!(
        Format::TwoFas.read(&file, Some(&wrong)).unwrap_err(),
        ImportError::WrongPassword { format: Format::TwoFas }
    );
}

#[test]
fn old_services_without_issuer_take_the_service_name_and_label() {
    let mut old = service(&ACCOUNTS[0], 0);
    old["otp"] = json!({ "label": "GitHub:alice@example.com", "tokenType": "TOTP" });
    let imported = Format::TwoFas.read(&plain(vec![old]), None).unwrap();
    assert_imports(&imported, &ACCOUNTS[..1]);
}

#[test]
fn truncated_backups_are_damaged_never_a_panic() {
    let password = Password::new("x".to_owned());
    for file in [plain(services()), encrypted(&services(), "x")] {
        for cut in import_support::truncations(&file) {
            let result = Format::TwoFas.read(cut, Some(&password));
            assert!(
                matches!(result, Err(ImportError::Damaged { .. })),
                "{}: {result:?}",
                cut.len()
            );
        }
    }
}

#[test]
fn damaged_entry_is_reported_while_the_rest_import() {
    let mut all = services();
    all[2]["otp"]["algorithm"] = json!("MD5");
    let imported = Format::TwoFas.read(&plain(all), None).unwrap();
    assert_eq!(imported.credentials.len(), 4);
    assert_entry_error(&imported, 3, "Work (carol)", "MD5");
}
