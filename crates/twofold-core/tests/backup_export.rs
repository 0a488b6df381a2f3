//! Aegis exports, plain and encrypted, read back by the Aegis importer: the same accounts, by
//! secret and by generated code.

#![allow(clippy::unwrap_used)]

mod backup_support;

use backup_support::{assert_same, credentials};
use twofold_core::export::{self, AegisKeys, ExportError};
use twofold_core::import::{self, Detected, Format, ImportError, Password};
use twofold_core::{Credential, Kind};

/// What Aegis keeps of an account: everything but the icon.
fn as_aegis_keeps(credentials: Vec<Credential>) -> Vec<Credential> {
    credentials.into_iter().map(|c| Credential { icon: None, ..c }).collect()
}

#[test]
fn plain_aegis_export_imports_back_identically() {
    let text = export::aegis_plain(&credentials());
    let detected = import::detect(text.as_bytes()).unwrap();
    assert_eq!(detected, Detected { format: Format::Aegis, encrypted: false });
    let imported = Format::Aegis.read(text.as_bytes(), None).unwrap();
    assert!(imported.errors.is_empty(), "{:?}", imported.errors);
    assert_same(&imported.credentials, &as_aegis_keeps(credentials()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["db"]["version"], 3);
    let steam = &json["db"]["entries"][4];
    assert_eq!(
        (steam["type"].as_str(), steam["info"]["digits"].as_u64()),
        (Some("steam"), Some(5))
    );
}

#[test]
fn encrypted_aegis_export_imports_back_with_its_password_only() {
    let password = Password::new("entre nous".into());
    let text =
        export::aegis_encrypted(&credentials(), &password, &AegisKeys::fresh().unwrap()).unwrap();
    assert!(!text.contains("GitHub") && !text.contains("JBSWY3DP"), "nothing in clear");
    let detected = import::detect(text.as_bytes()).unwrap();
    assert_eq!(detected, Detected { format: Format::Aegis, encrypted: true });
    let imported = Format::Aegis.read(text.as_bytes(), Some(&password)).unwrap();
    assert_same(&imported.credentials, &as_aegis_keeps(credentials()));
    assert_eq!(
        Format::Aegis.read(text.as_bytes(), Some(&Password::new("entre vous".into()))).unwrap_err(),
        ImportError::WrongPassword { format: Format::Aegis }
    );
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let slot = &json["header"]["slots"][0];
    assert_eq!((slot["type"].as_u64(), slot["n"].as_u64()), (Some(1), Some(32768)));
    assert_eq!(slot["salt"].as_str().unwrap().len(), 64, "a 256-bit salt, as Aegis writes");
}

#[test]
fn two_encrypted_exports_share_no_key_or_nonce() {
    let password = Password::new("entre nous".into());
    let one = export::aegis_encrypted(&[], &password, &AegisKeys::fresh().unwrap()).unwrap();
    let two = export::aegis_encrypted(&[], &password, &AegisKeys::fresh().unwrap()).unwrap();
    assert_ne!(one, two);
    assert!(Format::Aegis.read(one.as_bytes(), Some(&password)).unwrap().credentials.is_empty());
    assert_eq!(
        export::aegis_encrypted(&[], &Password::new(String::new()), &AegisKeys::fresh().unwrap()),
        Err(ExportError::EmptyPassword)
    );
}

#[test]
fn steam_accounts_export_as_aegis_writes_them() {
    let steam: Vec<Credential> =
        credentials().into_iter().filter(|c| c.otp.kind == Kind::Steam).collect();
    let text = export::aegis_plain(&steam);
    let back = Format::Aegis.read(text.as_bytes(), None).unwrap().credentials;
    assert_eq!(back[0].otp.kind, Kind::Steam);
    assert_same(&back, &steam);
}
