//! FreeOTP+ JSON backups, written here from the app's token model (tokens with `secret` as signed
//! bytes, `issuerExt`, `label`, `algo`, `type`, `digits`, `period`, `counter`; `tokenOrder`).

#![allow(clippy::unwrap_used)]

mod import_support;

use import_support::{Account, assert_entry_error, assert_imports, without_steam};
use serde_json::{Value, json};
use twofold_core::import::{self, Detected, Format, ImportError};

fn token(account: &Account) -> Value {
    let secret: Vec<i8> = account.secret_bytes().into_iter().map(|b| b as i8).collect();
    json!({
        "algo": account.algorithm_name(),
        "counter": account.counter,
        "digits": account.digits,
        "issuerExt": account.issuer,
        "issuerInt": account.issuer.to_lowercase(),
        "label": account.name,
        "period": account.period,
        "secret": secret,
        "type": account.kind_name(),
    })
}

fn backup(tokens: Vec<Value>) -> Vec<u8> {
    let order: Vec<String> =
        without_steam().iter().map(|a| format!("{}:{}", a.issuer, a.name)).collect();
    serde_json::to_vec(&json!({ "tokenOrder": order, "tokens": tokens })).unwrap()
}

#[test]
fn backup_round_trips_totp_and_hotp_with_signed_byte_secrets() {
    let accounts = without_steam();
    let file = backup(accounts.iter().map(token).collect());
    assert_eq!(
        import::detect(&file),
        Ok(Detected { format: Format::FreeOtpPlus, encrypted: false })
    );
    assert_imports(&Format::FreeOtpPlus.read(&file, None).unwrap(), &accounts);
}

#[test]
fn names_changed_in_the_app_win() {
    let mut renamed = token(&without_steam()[0]);
    renamed["issuerAlt"] = json!("GitHub");
    renamed["issuerExt"] = json!("github.com");
    let imported = Format::FreeOtpPlus.read(&backup(vec![renamed]), None).unwrap();
    assert_imports(&imported, &without_steam()[..1]);
}

#[test]
fn truncated_backups_are_damaged_never_a_panic() {
    let file = backup(without_steam().iter().map(token).collect());
    for cut in import_support::truncations(&file) {
        let result = Format::FreeOtpPlus.read(cut, None);
        assert!(matches!(result, Err(ImportError::Damaged { .. })), "{}: {result:?}", cut.len());
    }
}

#[test]
fn damaged_entry_is_reported_while_the_rest_import() {
    let mut tokens: Vec<Value> = without_steam().iter().map(token).collect();
    tokens[1]["secret"] = json!([1, 2, 300]);
    let imported = Format::FreeOtpPlus.read(&backup(tokens), None).unwrap();
    assert_eq!(imported.credentials.len(), 3);
    assert_entry_error(&imported, 2, "Bank of Examples (bob)", "not a list of bytes");
}
