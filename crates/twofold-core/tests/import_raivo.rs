//! Raivo OTP exports, written here from the app's exporter: a ZIP archive encrypted with the
//! password (WinZip AES-256) holding `raivo-otp-export.json`, a list of accounts whose values are
//! all text.

#![allow(clippy::unwrap_used)]

mod import_support;

use std::io::{Cursor, Write};

use import_support::{Account, assert_entry_error, assert_imports, without_steam};
use serde_json::{Value, json};
use twofold_core::import::{self, Detected, Format, ImportError, Password};
use zip::write::SimpleFileOptions;

fn entry(account: &Account) -> Value {
    json!({
        "issuer": account.issuer,
        "account": account.name,
        "secret": account.secret,
        "algorithm": account.algorithm_name(),
        "digits": account.digits.to_string(),
        "kind": account.kind_name(),
        "timer": account.period.to_string(),
        "counter": account.counter.to_string(),
        "iconType": "",
        "iconValue": "",
        "pinned": "false",
    })
}

fn json_file(entries: &[Value]) -> Vec<u8> {
    serde_json::to_vec(entries).unwrap()
}

fn archive(json: &[u8], password: Option<&str>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let options = match password {
        Some(password) => options.with_aes_encryption(zip::AesMode::Aes256, password),
        None => options,
    };
    zip.start_file("raivo-otp-export.html", options).unwrap();
    zip.write_all(b"<html>QR codes</html>").unwrap();
    zip.start_file("raivo-otp-export.json", options).unwrap();
    zip.write_all(json).unwrap();
    zip.finish().unwrap().into_inner()
}

fn entries() -> Vec<Value> {
    without_steam().iter().map(entry).collect()
}

#[test]
fn encrypted_archive_round_trips_and_tells_a_wrong_password() {
    let file = archive(&json_file(&entries()), Some("raivo pass"));
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Raivo, encrypted: true }));
    assert_eq!(Format::Raivo.read(&file, None).unwrap_err(), ImportError::PasswordNeeded);
    let right = Password::new("raivo pass".to_owned());
    assert_imports(&Format::Raivo.read(&file, Some(&right)).unwrap(), &without_steam());
    let wrong = Password::new("raivo Pass".to_owned());
    assert_eq!(
        Format::Raivo.read(&file, Some(&wrong)).unwrap_err(),
        ImportError::WrongPassword { format: Format::Raivo }
    );
}

#[test]
fn unencrypted_archive_and_the_bare_json_read_too() {
    let json = json_file(&entries());
    let file = archive(&json, None);
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Raivo, encrypted: false }));
    assert_imports(&Format::Raivo.read(&file, None).unwrap(), &without_steam());
    assert_eq!(import::detect(&json), Ok(Detected { format: Format::Raivo, encrypted: false }));
    assert_imports(&Format::Raivo.read(&json, None).unwrap(), &without_steam());
}

#[test]
fn an_archive_without_the_export_says_so() {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("photo.jpg", SimpleFileOptions::default()).unwrap();
    zip.write_all(b"jpeg").unwrap();
    let file = zip.finish().unwrap().into_inner();
    assert_eq!(import::detect(&file), Err(ImportError::UnknownFormat));
    let err = Format::Raivo.read(&file, None).unwrap_err();
    assert!(err.to_string().contains("holds no raivo-otp-export.json"), "{err}");
}

#[test]
fn truncated_archives_are_damaged_never_a_panic() {
    let file = archive(&json_file(&entries()), Some("p"));
    let password = Password::new("p".to_owned());
    for cut in import_support::truncations(&file) {
        let result = Format::Raivo.read(cut, Some(&password));
        assert!(matches!(result, Err(ImportError::Damaged { .. })), "{}: {result:?}", cut.len());
    }
}

#[test]
fn damaged_entry_is_reported_while_the_rest_import() {
    let mut all = entries();
    all[0]["timer"] = json!("thirty");
    let file = archive(&json_file(&all), Some("p"));
    let imported = Format::Raivo.read(&file, Some(&Password::new("p".to_owned()))).unwrap();
    assert_eq!(imported.credentials.len(), 3);
    assert_entry_error(
        &imported,
        1,
        "GitHub (alice@example.com)",
        "\"timer\" is not a whole number",
    );
}
