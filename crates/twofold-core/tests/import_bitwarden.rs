//! Bitwarden exports, written here from Bitwarden's import/export description: the password
//! manager's and the Authenticator app's unencrypted JSON (`items[].login.totp`) and CSV
//! (`login_totp` column); `totp` values as otpauth URIs, `steam://` secrets and bare secrets; the
//! password-protected JSON export (PBKDF2 or Argon2id, HKDF, AES-256-CBC + HMAC-SHA256).

#![allow(clippy::unwrap_used)]

mod import_support;

use import_support::bitwarden::{Kdf, enc_string, export, item, keys, password_protected};
use import_support::{ACCOUNTS, Account, assert_imports};
use serde_json::{Value, json};
use twofold_core::import::{self, Detected, Format, ImportError, Password, Place};

fn uri_items() -> Vec<Value> {
    ACCOUNTS.iter().map(|a| item(a.issuer, a.name, Some(&a.uri()))).collect()
}

#[test]
fn json_export_round_trips_uris_and_skips_logins_without_codes() {
    let mut items = uri_items();
    items.insert(2, item("Forum", "eve", None));
    let file = export(items);
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Bitwarden, encrypted: false }));
    assert_imports(&Format::Bitwarden.read(&file, None).unwrap(), &ACCOUNTS);
}

#[test]
fn bare_and_steam_secrets_take_the_item_name_and_username() {
    let plain: &Account = &ACCOUNTS[0];
    let steam: &Account = &ACCOUNTS[4];
    let file = export(vec![
        item(plain.issuer, plain.name, Some(&plain.secret.to_lowercase())),
        item(steam.issuer, steam.name, Some(&format!("steam://{}", steam.secret))),
    ]);
    let imported = Format::Bitwarden.read(&file, None).unwrap();
    assert_imports(&imported, &[*plain, *steam]);
}

#[test]
fn csv_export_reads_the_login_totp_column() {
    let mut csv = String::from(
        "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n",
    );
    for a in &ACCOUNTS {
        csv.push_str(&format!(
            ",,login,{},\"a note, with a comma\",,0,https://example.com,{},pw,{}\n",
            a.issuer,
            a.name,
            a.uri()
        ));
    }
    csv.push_str(",,login,Forum,,,0,,eve,pw,\n");
    csv.push_str(",,login,Broken,,,0,,mallory,pw,otpauth://totp/Broken?secret=1\n");
    let file = csv.into_bytes();
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Bitwarden, encrypted: false }));
    let mut imported = Format::Bitwarden.read(&file, None).unwrap();
    let errors = std::mem::take(&mut imported.errors);
    assert_imports(&imported, &ACCOUNTS);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].place, Place::Line(8));
    assert_eq!(errors[0].name.as_deref(), Some("Broken (mallory)"));
}

const PASSWORD: &str = "correct horse battery staple";

/// Few rounds, so the tests stay quick; the cost is the file's to name.
const CHEAP: Kdf = Kdf::Pbkdf2(1_000);

fn protected(kdf: Kdf) -> Vec<u8> {
    password_protected(&export(uri_items()), PASSWORD, kdf)
}

fn read_with(file: &[u8], password: &str) -> Result<import::Imported, ImportError> {
    Format::Bitwarden.read(file, Some(&Password::new(password.to_owned())))
}

fn edited(file: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(file).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn password_protected_export_with_pbkdf2_round_trips_and_asks_for_its_password() {
    let file = protected(CHEAP);
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Bitwarden, encrypted: true }));
    assert_eq!(Format::Bitwarden.read(&file, None).unwrap_err(), ImportError::PasswordNeeded);
    assert_imports(&read_with(&file, PASSWORD).unwrap(), &ACCOUNTS);
}

#[test]
fn password_protected_export_with_argon2id_round_trips() {
    // Bitwarden's smallest Argon2id settings: 2 passes over 16 MiB; 2 lanes to check they count.
    let file = protected(Kdf::Argon2id(2, 16, 2));
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Bitwarden, encrypted: true }));
    assert_imports(&read_with(&file, PASSWORD).unwrap(), &ACCOUNTS);
}

#[test]
fn wrong_password_says_so() {
    for kdf in [CHEAP, Kdf::Argon2id(2, 16, 1)] {
        let err = read_with(&protected(kdf), "Correct horse battery staple").unwrap_err();
        assert_eq!(err, ImportError::WrongPassword { format: Format::Bitwarden }, "{kdf:?}");
        assert!(err.to_string().contains("wrong password"), "{err}");
    }
}

#[test]
fn changed_data_under_the_right_password_is_damaged_not_a_wrong_password() {
    let file = protected(CHEAP);
    let other = enc_string(&keys("another password", CHEAP), [2; 16], &export(uri_items()));
    let file = edited(&file, |v| v["data"] = json!(other));
    let err = read_with(&file, PASSWORD).unwrap_err();
    assert!(matches!(err, ImportError::Damaged { format: Some(Format::Bitwarden), .. }), "{err}");
    assert!(err.to_string().contains("changed or cut"), "{err}");
}

#[test]
fn damaged_entry_inside_a_protected_export_is_reported_while_the_rest_import() {
    let mut items = uri_items();
    items[1]["login"]["totp"] = json!("otpauth://totp/Bank?secret=JBSWY3DPEHPK3PXP&digits=12");
    let file = password_protected(&export(items), PASSWORD, CHEAP);
    let imported = read_with(&file, PASSWORD).unwrap();
    assert_eq!(imported.credentials.len(), 4);
    import_support::assert_entry_error(&imported, 2, "Bank of Examples (bob)", "12 digits");
}

#[test]
fn truncated_protected_exports_are_damaged_before_a_password_is_asked() {
    let file = protected(CHEAP);
    for cut in import_support::truncations(&file) {
        for password in [None, Some(&Password::new(PASSWORD.to_owned()))] {
            let result = Format::Bitwarden.read(cut, password);
            assert!(
                matches!(result, Err(ImportError::Damaged { .. })),
                "{}: {result:?}",
                cut.len()
            );
        }
    }
    // Whole JSON, cut EncStrings: the data's last base64 characters, or its MAC part.
    let data = serde_json::from_slice::<Value>(&file).unwrap()["data"].as_str().unwrap().to_owned();
    let (without_mac, _) = data.rsplit_once('|').unwrap();
    for cut in [&data[..data.len() - 4], without_mac, "2.", "2.||"] {
        let file = edited(&file, |v| v["data"] = json!(cut));
        let err = Format::Bitwarden.read(&file, None).unwrap_err();
        assert!(matches!(err, ImportError::Damaged { .. }), "{cut}: {err}");
    }
}

#[test]
fn costs_beyond_what_bitwarden_allows_are_refused_before_deriving() {
    let file = protected(CHEAP);
    for (kdf_type, iterations, memory) in [(0, 10_000_000, 0), (1, 3, 4096), (1, 1_000, 64)] {
        let file = edited(&file, |v| {
            v["kdfType"] = json!(kdf_type);
            v["kdfIterations"] = json!(iterations);
            v["kdfMemory"] = json!(memory);
            v["kdfParallelism"] = json!(4);
        });
        let err = read_with(&file, PASSWORD).unwrap_err();
        assert!(matches!(err, ImportError::TooCostly { .. }), "{iterations}/{memory}: {err}");
    }
    let zero = edited(&file, |v| v["kdfIterations"] = json!(0));
    assert!(matches!(read_with(&zero, PASSWORD), Err(ImportError::Damaged { .. })));
    let unknown = edited(&file, |v| v["kdfType"] = json!(7));
    assert!(matches!(read_with(&unknown, PASSWORD), Err(ImportError::Unsupported { .. })));
}

#[test]
fn account_restricted_export_says_to_choose_password_protected() {
    let file = serde_json::to_vec(&json!({
        "encrypted": true,
        "encKeyValidation_DO_NOT_EDIT": "2.abc|def|ghi",
        "folders": [],
        "items": [{ "type": 1, "name": "2.abc|def|ghi", "login": { "totp": "2.abc|def|ghi" } }],
    }))
    .unwrap();
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Bitwarden, encrypted: false }));
    let err = Format::Bitwarden.read(&file, None).unwrap_err();
    assert!(matches!(err, ImportError::Unsupported { format: Format::Bitwarden, .. }), "{err}");
    assert!(err.to_string().contains("Password protected"), "{err}");
}

#[test]
fn truncated_exports_are_damaged_never_a_panic() {
    let file = export(uri_items());
    for cut in import_support::truncations(&file) {
        let result = Format::Bitwarden.read(cut, None);
        assert!(matches!(result, Err(ImportError::Damaged { .. })), "{}: {result:?}", cut.len());
    }
}

#[test]
fn damaged_entry_is_reported_while_the_rest_import() {
    let mut items = uri_items();
    items[1]["login"]["totp"] = json!("otpauth://totp/Bank?secret=JBSWY3DPEHPK3PXP&digits=12");
    let imported = Format::Bitwarden.read(&export(items), None).unwrap();
    assert_eq!(imported.credentials.len(), 4);
    import_support::assert_entry_error(&imported, 2, "Bank of Examples (bob)", "12 digits");
}
