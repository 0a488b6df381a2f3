//! 2FAS and Ente Auth exports, plain and encrypted, read back by the importers: the same
//! accounts, by secret and by generated code.

#![allow(clippy::unwrap_used)]

mod backup_support;

use backup_support::{assert_same, credentials, credentials_without_pins};
use twofold_core::Credential;
use twofold_core::export::{self, EnteKeys, ExportError, TwoFasKeys};
use twofold_core::import::{self, Detected, Format, ImportError, Password};

/// What a `.2fas` file keeps of an account: everything but the icon.
fn without_icons(credentials: Vec<Credential>) -> Vec<Credential> {
    credentials.into_iter().map(|c| Credential { icon: None, ..c }).collect()
}

/// Asserts an export left out the mOTP and Yandex accounts (the last two), naming each.
fn assert_left_out(left_out: &[export::LeftOut], format: &str) {
    let count = credentials().len();
    let messages: Vec<String> = left_out.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            format!(
                "account {} (Motp (pin)) was not exported: {format} has no mOTP accounts",
                count - 1
            ),
            format!(
                "account {count} (Yandex (key)) was not exported: {format} has no Yandex accounts"
            ),
        ]
    );
}

#[test]
fn plain_2fas_export_imports_back_identically() {
    let exported = export::twofas_plain(&credentials(), 1_700_000_000_000);
    assert_left_out(&exported.left_out, "2FAS");
    let text = exported.text;
    assert_eq!(
        import::detect(text.as_bytes()).unwrap(),
        Detected { format: Format::TwoFas, encrypted: false }
    );
    let imported = Format::TwoFas.read(text.as_bytes(), None).unwrap();
    assert!(imported.errors.is_empty(), "{:?}", imported.errors);
    assert_same(&imported.credentials, &without_icons(credentials_without_pins()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["schemaVersion"], 4);
    assert_eq!(json["updatedAt"], 1_700_000_000_000u64);
}

#[test]
fn encrypted_2fas_export_imports_back_with_its_password_only() {
    let password = Password::new("entre nous".into());
    let keys = TwoFasKeys::fresh().unwrap();
    let exported = export::twofas_encrypted(&credentials(), &password, &keys, 0).unwrap();
    assert_left_out(&exported.left_out, "2FAS");
    let text = exported.text;
    assert!(!text.contains("GitHub") && !text.contains("JBSWY3DP"), "nothing in clear");
    assert_eq!(
        import::detect(text.as_bytes()).unwrap(),
        Detected { format: Format::TwoFas, encrypted: true }
    );
    let imported = Format::TwoFas.read(text.as_bytes(), Some(&password)).unwrap();
    assert_same(&imported.credentials, &without_icons(credentials_without_pins()));
    assert_eq!(
        Format::TwoFas
            .read(text.as_bytes(), Some(&Password::new("entre vous".into())))
            .unwrap_err(),
        ImportError::WrongPassword { format: Format::TwoFas }
    );
    // The reference 2FAS checks a password with, and a 256-byte salt, as the apps write them.
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let reference = json["reference"].as_str().unwrap();
    let salt = reference.split(':').nth(1).unwrap();
    assert_eq!(salt.len(), 344, "base64 of 256 bytes");
    assert_eq!(
        export::twofas_encrypted(&[], &Password::new(String::new()), &keys, 0).unwrap_err(),
        ExportError::EmptyPassword
    );
}

#[test]
fn plain_ente_export_imports_back_identically() {
    let exported = export::ente_plain(&credentials());
    assert_left_out(&exported.left_out, "Ente Auth");
    let text = exported.text;
    assert_eq!(
        import::detect(text.as_bytes()).unwrap(),
        Detected { format: Format::Text, encrypted: false }
    );
    let imported = Format::Ente.read(text.as_bytes(), None).unwrap();
    assert!(imported.errors.is_empty(), "{:?}", imported.errors);
    assert_same(&imported.credentials, &credentials_without_pins());
}

#[test]
fn encrypted_ente_export_imports_back_with_its_password_only() {
    let password = Password::new("entre nous".into());
    let exported =
        export::ente_encrypted(&credentials(), &password, &EnteKeys::fresh().unwrap()).unwrap();
    assert_left_out(&exported.left_out, "Ente Auth");
    let text = exported.text;
    assert!(!text.contains("GitHub") && !text.contains("JBSWY3DP"), "nothing in clear");
    assert_eq!(
        import::detect(text.as_bytes()).unwrap(),
        Detected { format: Format::Ente, encrypted: true }
    );
    let imported = Format::Ente.read(text.as_bytes(), Some(&password)).unwrap();
    assert_same(&imported.credentials, &credentials_without_pins());
    assert_eq!(
        Format::Ente.read(text.as_bytes(), Some(&Password::new("entre vous".into()))).unwrap_err(),
        ImportError::WrongPassword { format: Format::Ente }
    );
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["kdfParams"]["memLimit"], 256 << 20);
    assert_eq!(json["kdfParams"]["opsLimit"], 16);
}
