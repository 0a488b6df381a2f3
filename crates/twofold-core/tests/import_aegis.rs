//! Aegis vaults, plain and encrypted, written here from the format description
//! (https://github.com/beemdevelopment/Aegis/blob/master/docs/vault.md).

#![allow(clippy::unwrap_used)]

mod import_support;

use import_support::{ACCOUNTS, Account, aes_gcm_seal, assert_entry_error, assert_imports, base64};
use serde_json::{Value, json};
use twofold_core::import::{self, Detected, Format, ImportError, Password};

/// Aegis's default scrypt cost: N = 2^15, r = 8, p = 1.
const N: u64 = 1 << 15;

fn entry(account: &Account) -> Value {
    json!({
        "type": account.kind_name().to_lowercase(),
        "uuid": "01234567-89ab-cdef-0123-456789abcdef",
        "name": account.name,
        "issuer": account.issuer,
        "note": "",
        "favorite": false,
        "icon": null,
        "info": {
            "secret": account.secret,
            "algo": account.algorithm_name(),
            "digits": account.digits,
            "period": account.period,
            "counter": account.counter,
        },
        "groups": [],
    })
}

fn db(entries: Vec<Value>) -> Value {
    json!({ "version": 3, "entries": entries, "groups": [] })
}

fn plain(db: Value) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({
        "version": 1,
        "header": { "slots": null, "params": null },
        "db": db,
    }))
    .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// A password slot wrapping `master_key` for `password` at scrypt cost `n`.
fn password_slot(password: &str, master_key: &[u8; 32], salt: [u8; 32], n: u64) -> Value {
    let params = scrypt::Params::new(n.trailing_zeros() as u8, 8, 1).unwrap();
    let mut key = [0u8; 32];
    scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key).unwrap();
    let nonce = [salt[0]; 12];
    let (wrapped, tag) = aes_gcm_seal(&key, &nonce, master_key);
    json!({
        "type": 1,
        "uuid": "01234567-89ab-cdef-0123-456789abcdef",
        "key": hex(&wrapped),
        "key_params": { "nonce": hex(&nonce), "tag": hex(&tag) },
        "n": n, "r": 8, "p": 1,
        "salt": hex(&salt),
        "repaired": true,
        "is_backup": false,
    })
}

fn encrypted(db: &Value, slots: Vec<Value>, master_key: &[u8; 32]) -> Vec<u8> {
    let nonce = [7u8; 12];
    let (ciphertext, tag) = aes_gcm_seal(master_key, &nonce, &serde_json::to_vec(db).unwrap());
    serde_json::to_vec_pretty(&json!({
        "version": 1,
        "header": {
            "slots": slots,
            "params": { "nonce": hex(&nonce), "tag": hex(&tag) },
        },
        "db": base64(&ciphertext),
    }))
    .unwrap()
}

const MASTER_KEY: [u8; 32] = [0x42; 32];

fn password(text: &str) -> Password {
    Password::new(text.to_owned())
}

fn encrypted_vault() -> Vec<u8> {
    let all = db(ACCOUNTS.iter().map(entry).collect());
    // A biometric slot (which only the phone opens), a slot of another password, then ours.
    let biometric = json!({ "type": 2, "uuid": "x", "key": "00", "key_params": { "nonce": "00", "tag": "00" } });
    let slots = vec![
        biometric,
        password_slot("other password", &MASTER_KEY, [1; 32], 1 << 10),
        password_slot("correct horse", &MASTER_KEY, [2; 32], N),
    ];
    encrypted(&all, slots, &MASTER_KEY)
}

#[test]
fn plain_vault_round_trips_every_kind() {
    let file = plain(db(ACCOUNTS.iter().map(entry).collect()));
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Aegis, encrypted: false }));
    assert_imports(&Format::Aegis.read(&file, None).unwrap(), &ACCOUNTS);
}

#[test]
fn encrypted_vault_opens_with_any_password_slot_at_the_default_cost() {
    let file = encrypted_vault();
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Aegis, encrypted: true }));
    let imported = Format::Aegis.read(&file, Some(&password("correct horse"))).unwrap();
    assert_imports(&imported, &ACCOUNTS);
    let other = Format::Aegis.read(&file, Some(&password("other password"))).unwrap();
    assert_imports(&other, &ACCOUNTS);
}

#[test]
fn encrypted_vault_asks_for_its_password_and_tells_a_wrong_one() {
    let file = encrypted_vault();
    assert_eq!(Format::Aegis.read(&file, None).unwrap_err(), ImportError::PasswordNeeded);
    assert_eq!(
        ImportError::PasswordNeeded.to_string(),
        "this file is encrypted: give its password"
    );
    let wrong = Format::Aegis.read(&file, Some(&password("Correct horse"))).unwrap_err();
    assert_eq!(wrong, ImportError::WrongPassword { format: Format::Aegis });
    assert_eq!(wrong.to_string(), "wrong password: it does not decrypt this Aegis export");
}

#[test]
fn vault_without_a_password_slot_says_what_to_do() {
    let biometric = json!({ "type": 2, "uuid": "x", "key": "00", "key_params": { "nonce": "00", "tag": "00" } });
    let file = encrypted(&db(vec![]), vec![biometric], &MASTER_KEY);
    let err = Format::Aegis.read(&file, Some(&password("anything"))).unwrap_err();
    assert!(matches!(err, ImportError::Unsupported { format: Format::Aegis, .. }), "{err}");
    assert!(err.to_string().contains("export again"), "{err}");
}

#[test]
fn hostile_scrypt_cost_is_refused_before_running() {
    let mut vault: Value = serde_json::from_slice(&encrypted_vault()).unwrap();
    vault["header"]["slots"][2]["n"] = json!(1u64 << 40);
    let file = serde_json::to_vec(&vault).unwrap();
    let err = Format::Aegis.read(&file, Some(&password("correct horse"))).unwrap_err();
    assert!(matches!(err, ImportError::TooCostly { .. }), "{err}");
}

#[test]
fn changed_ciphertext_is_damage_not_a_wrong_password() {
    let mut vault: Value = serde_json::from_slice(&encrypted_vault()).unwrap();
    let db = vault["db"].as_str().unwrap().to_owned();
    let flipped =
        if db.starts_with('A') { db.replacen('A', "B", 1) } else { format!("A{}", &db[1..]) };
    vault["db"] = json!(flipped);
    let file = serde_json::to_vec(&vault).unwrap();
    let err = Format::Aegis.read(&file, Some(&password("correct horse"))).unwrap_err();
    assert!(matches!(err, ImportError::Damaged { format: Some(Format::Aegis), .. }), "{err}");
}

#[test]
fn truncated_vaults_are_damaged_never_a_panic() {
    for file in [plain(db(ACCOUNTS.iter().map(entry).collect())), encrypted_vault()] {
        for cut in import_support::truncations(&file) {
            match Format::Aegis.read(cut, Some(&password("wrong, fast"))) {
                Err(ImportError::Damaged { .. }) => {}
                other => panic!("{} bytes: {other:?}", cut.len()),
            }
            // Detection of a cut file never panics either; what it says is checked below.
            let _ = import::detect(cut);
        }
        let cut = &file[..file.len() / 2];
        let err = import::detect(cut).unwrap_err();
        assert!(err.to_string().contains("cut short"), "{err}");
    }
}

#[test]
fn damaged_and_unsupported_entries_are_reported_while_the_rest_import() {
    let mut entries: Vec<Value> = ACCOUNTS.iter().map(entry).collect();
    entries[1]["info"]["digits"] = json!("eight");
    let mut yandex = entry(&ACCOUNTS[0]);
    yandex["type"] = json!("yandex");
    yandex["issuer"] = json!("Yandex");
    entries.push(yandex);
    let imported = Format::Aegis.read(&plain(db(entries)), None).unwrap();
    let expected: Vec<Account> =
        ACCOUNTS.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, a)| *a).collect();
    assert_eq!(imported.credentials.len(), expected.len());
    let messages: Vec<String> = imported.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "entry 2 (Bank of Examples (bob)): its \"digits\" is not a whole number",
            "entry 6 (Yandex (alice@example.com)): it has no PIN, which its codes need, and the \
             export holds none",
        ]
    );
    let only_good =
        twofold_core::import::Imported { credentials: imported.credentials, errors: Vec::new() };
    assert_imports(&only_good, &expected);
}

#[test]
fn a_bad_secret_is_named_without_being_repeated() {
    let mut entries = vec![entry(&ACCOUNTS[0])];
    entries[0]["info"]["secret"] = json!("NOT!BASE32SECRET");
    let imported = Format::Aegis.read(&plain(db(entries)), None).unwrap();
    assert_entry_error(&imported, 1, "GitHub (alice@example.com)", "its secret cannot be read");
    assert!(!imported.errors[0].to_string().contains("BASE32SECRET"));
}
