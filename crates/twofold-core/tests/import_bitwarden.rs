//! Bitwarden exports, written here from Bitwarden's import/export description: the password
//! manager's and the Authenticator app's unencrypted JSON (`items[].login.totp`) and CSV
//! (`login_totp` column); `totp` values as otpauth URIs, `steam://` secrets and bare secrets.

#![allow(clippy::unwrap_used)]

mod import_support;

use import_support::{ACCOUNTS, Account, assert_imports};
use serde_json::{Value, json};
use twofold_core::import::{self, Detected, Format, ImportError, Place};

fn item(name: &str, username: &str, totp: Option<&str>) -> Value {
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

fn export(items: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "encrypted": false, "folders": [], "items": items })).unwrap()
}

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

#[test]
fn encrypted_export_says_to_export_unencrypted() {
    let file = serde_json::to_vec(&json!({
        "encrypted": true,
        "passwordProtected": true,
        "salt": "c2FsdA==",
        "kdfType": 0,
        "kdfIterations": 600000,
        "data": "2.abc|def|ghi",
    }))
    .unwrap();
    let err = Format::Bitwarden.read(&file, None).unwrap_err();
    assert!(matches!(err, ImportError::Unsupported { format: Format::Bitwarden, .. }), "{err}");
    assert!(err.to_string().contains("unencrypted"), "{err}");
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
