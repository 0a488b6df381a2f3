//! The app's commands through Tauri's own IPC on the mock runtime: arguments as the UI sends them,
//! results and `{code, message}` errors as the UI receives them, over an in-memory keystore.
#![allow(clippy::unwrap_used)] // test harness: a failed step should stop the test loudly

use std::sync::Arc;

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};
use twofold_app::{AppKeystore, AppState};
use twofold_core::export::AegisKeys;
use twofold_core::import::{Format, Password};
use twofold_core::keystore::{Keystore, MemoryKeystore};
use twofold_core::vault::Vault;
use twofold_core::{Credential, OtpParams, Secret};
use uuid::Uuid;

#[path = "../../crates/twofold-core/tests/import_support/bitwarden.rs"]
mod bitwarden_export;

struct Harness {
    _dir: tempfile::TempDir,
    keystore: Arc<MemoryKeystore>,
    /// A second handle on the app's vault, for the test's own checks.
    vault: Vault<Arc<MemoryKeystore>>,
    app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

fn harness() -> Harness {
    harness_over(Arc::new(MemoryKeystore::default()))
}

/// The app over `keystore` (which may be failing when the app starts).
fn harness_over(keystore: Arc<MemoryKeystore>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let app_vault = Vault::open(dir.path(), AppKeystore::new(keystore.clone())).unwrap();
    let app = twofold_app::with_app(mock_builder(), AppState::with_vault(app_vault))
        .build(tauri::generate_context!(test = true))
        .unwrap();
    // The real configuration and capabilities, so a command the capability lacks is refused here too.
    let window = match app.get_webview_window("main") {
        Some(window) => window,
        None => WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap(),
    };
    let vault = Vault::open(dir.path(), keystore.clone()).unwrap();
    Harness { _dir: dir, keystore, vault, app, window }
}

impl Harness {
    /// Invokes `command` with JSON `args` as the UI does; Ok(result) or Err(`{code, message}`).
    fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        invoke_on(&self.window, command, args)
    }

    /// Invokes `command` with `bytes` as the raw body, as the UI sends a file.
    fn invoke_raw(&self, command: &str, bytes: Vec<u8>) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: command.to_owned(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Raw(bytes),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_owned(),
        };
        get_ipc_response(&self.window, request).map(|body| body.deserialize::<Value>().unwrap())
    }

    fn add(&self, issuer: &str, otp: OtpParams) -> Uuid {
        let credential = Credential {
            issuer: issuer.to_owned(),
            name: "alice".to_owned(),
            secret: Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(),
            otp,
            icon: None,
        };
        self.vault.add(credential, 0).unwrap().id
    }

    fn issuers(&self) -> Vec<String> {
        let listing = self.invoke("list_accounts", json!({})).unwrap();
        let rows = listing["accounts"].as_array().unwrap();
        rows.iter().map(|row| row["issuer"].as_str().unwrap().to_owned()).collect()
    }
}

fn entry(issuer: &str, secret: &str) -> Value {
    json!({"entry": {
        "issuer": issuer, "name": "bob", "secret": secret, "kind": "totp",
        "algorithm": "SHA1", "digits": 6, "period": 30
    }})
}

#[test]
fn add_account_is_checked_by_core_and_errors_are_code_and_message() {
    let h = harness();
    let label = h.invoke("add_account", entry("Example", "jbsw y3dp ehpk 3pxp")).unwrap();
    assert_eq!(label, "Example (bob)");
    assert_eq!(h.issuers(), ["Example"]);

    let err = h.invoke("add_account", entry("Bad", "JBSW1DP")).unwrap_err();
    assert_eq!(err["code"], "invalid_account");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("character 5"), "{message}");
    assert!(!message.contains("JBSW"), "{message}");

    let err = h.invoke("add_account", entry("Example", "JBSWY3DPEHPK3PXP")).unwrap_err();
    assert_eq!(err["code"], "duplicate");
}

#[test]
fn search_matches_tags_set_by_edit() {
    let h = harness();
    let github = h.add("GitHub", OtpParams::default());
    h.add("GitLab", OtpParams::default());
    let form = json!({"id": github, "form": {"tags": ["work", " "]}});
    assert_eq!(h.invoke("edit_account", form).unwrap(), "GitHub (alice)");
    assert_eq!(h.invoke("search_accounts", json!({"query": "WORK"})).unwrap(), json!([github]));
    assert_eq!(
        h.invoke("search_accounts", json!({"query": "git"})).unwrap().as_array().unwrap().len(),
        2
    );
    let listing = h.invoke("list_accounts", json!({})).unwrap();
    assert_eq!(listing["accounts"][0]["tags"], json!(["work"]));

    let bad = json!({"id": github, "form": {"digits": 4}});
    assert_eq!(h.invoke("edit_account", bad).unwrap_err()["code"], "invalid_account");
}

#[test]
fn favourites_sort_and_manual_order() {
    let h = harness();
    let b = h.add("b", OtpParams::default());
    let c = h.add("c", OtpParams::default());
    let a = h.add("a", OtpParams::default());
    assert_eq!(h.issuers(), ["b", "c", "a"]);

    let settings =
        h.invoke("set_settings", json!({"clipboardClearSeconds": 10, "sort": "alphabetical"}));
    assert_eq!(settings.unwrap()["clipboard_clear_seconds"], 10);
    assert_eq!(h.issuers(), ["a", "b", "c"]);
    h.invoke("set_favourite", json!({"id": c, "favourite": true})).unwrap();
    assert_eq!(h.issuers(), ["c", "a", "b"]);
    h.invoke("set_favourite", json!({"id": c, "favourite": false})).unwrap();

    h.invoke("set_settings", json!({"clipboardClearSeconds": 10, "sort": "manual"})).unwrap();
    h.invoke("reorder_accounts", json!({"ids": [a, b, c]})).unwrap();
    assert_eq!(h.issuers(), ["a", "b", "c"]);
    assert_eq!(h.invoke("get_settings", json!({})).unwrap()["sort"], "manual");
}

#[test]
fn delete_keeps_the_secret_in_the_trash_for_restore() {
    let h = harness();
    let id = h.add("Example", OtpParams::default());
    assert_eq!(h.invoke("delete_account", json!({"id": id})).unwrap(), "Example (alice)");
    assert!(h.issuers().is_empty());
    assert!(h.keystore.load(id).unwrap().is_some(), "a trashed account's secret went");
    let trash = h.invoke("trashed_accounts", json!({})).unwrap();
    assert_eq!(trash[0]["label"], "Example (alice)");
    assert_eq!(h.invoke("restore_account", json!({"id": id})).unwrap(), "Example (alice)");
    assert_eq!(h.issuers(), ["Example"]);
    let err = h.invoke("restore_account", json!({"id": id})).unwrap_err();
    assert_eq!(err["code"], "not_found");

    h.invoke("delete_account", json!({"id": id})).unwrap();
    assert_eq!(h.invoke("purge_account", json!({"id": id})).unwrap(), "Example (alice)");
    assert!(h.keystore.load(id).unwrap().is_none(), "a purged account's secret stayed");
    assert_eq!(h.invoke("trashed_accounts", json!({})).unwrap(), json!([]));
}

#[test]
fn hotp_next_and_qr_code() {
    let h = harness();
    let totp = h.add("Time", OtpParams::default());
    let hotp =
        h.add("Counter", OtpParams { kind: twofold_core::Kind::Hotp, ..OtpParams::default() });
    h.invoke("next_hotp", json!({"id": hotp})).unwrap();
    assert_eq!(h.vault.account(hotp).unwrap().otp.counter, 1);
    let listing = h.invoke("list_accounts", json!({})).unwrap();
    // RFC 4226 appendix D, counters 1 and 2.
    assert_eq!(listing["accounts"][1]["code"]["current"], "287082");
    assert_eq!(listing["accounts"][1]["code"]["next"], "359152");
    assert_eq!(h.invoke("next_hotp", json!({"id": totp})).unwrap_err()["code"], "invalid_account");

    let svg = h.invoke("account_qr", json!({"id": totp})).unwrap();
    assert!(svg.as_str().unwrap().contains("<svg"), "{svg}");
    let err = h.invoke("account_qr", json!({"id": Uuid::new_v4()})).unwrap_err();
    assert_eq!(err["code"], "not_found");
}

#[test]
fn settings_default_to_clearing_after_30_seconds() {
    let h = harness();
    let settings = h.invoke("get_settings", json!({})).unwrap();
    assert_eq!(settings["clipboard_clear_seconds"], 30);
    assert_eq!(settings["sort"], "manual");
}

/// The app over a new vault whose secrets are in its file, sealed with `passphrase`.
fn file_vault_app(
    passphrase: &str,
) -> (tempfile::TempDir, App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let dir = tempfile::tempdir().unwrap();
    let destination = twofold_core::vault::Destination::File {
        passphrase: Password::new(passphrase.to_owned()),
        cost: twofold_core::backup::KdfCost { memory_kib: 64, passes: 1, lanes: 1 },
    };
    Vault::create(dir.path(), destination).unwrap();
    let app = twofold_app::with_app(mock_builder(), AppState::open(Ok(dir.path().to_owned())))
        .build(tauri::generate_context!(test = true))
        .unwrap();
    let window = match app.get_webview_window("main") {
        Some(window) => window,
        None => WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap(),
    };
    (dir, app, window)
}

/// Invokes `command` on `window` with JSON `args`, as the UI does.
fn invoke_on(
    window: &WebviewWindow<MockRuntime>,
    command: &str,
    args: Value,
) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: command.to_owned(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_owned(),
    };
    get_ipc_response(window, request).map(|body| body.deserialize::<Value>().unwrap())
}

#[test]
fn a_file_vault_opens_with_its_passphrase_only_and_locking_seals_it_again() {
    let (_dir, _app, window) = file_vault_app("a file passphrase");
    let call = |command: &str, args: Value| invoke_on(&window, command, args);
    let sealed = json!({"enabled": true, "locked": true, "screen": "secrets_file"});
    assert_eq!(call("lock_status", json!({})).unwrap(), sealed);
    assert_eq!(call("list_accounts", json!({})).unwrap_err()["code"], "locked");
    // The app lock's own passphrase cannot be set over it: the file's is the lock.
    let wrong = call("unlock", json!({"passphrase": "not the passphrase"})).unwrap_err();
    assert_eq!(wrong["code"], "wrong_password", "{wrong}");
    assert_eq!(call("lock_status", json!({})).unwrap(), sealed);

    let open = call("unlock", json!({"passphrase": "a file passphrase"})).unwrap();
    assert_eq!(open, json!({"enabled": true, "locked": false, "screen": "secrets_file"}));
    call("add_account", entry("RFC", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")).unwrap();
    let listed = call("list_accounts", json!({})).unwrap();
    assert!(listed["accounts"][0]["code"]["current"].is_string(), "{listed}");
    let refused =
        call("set_passphrase", json!({"current": null, "new": "another one"})).unwrap_err();
    assert!(
        refused["message"].as_str().unwrap().contains("secrets file's passphrase"),
        "{refused}"
    );

    // Locked: the key is dropped, so even the app's own reads fail until the passphrase again.
    call("lock_now", json!({})).unwrap();
    assert_eq!(call("lock_status", json!({})).unwrap(), sealed);
    let state = window.state::<AppState>();
    let vault = state.accounts_even_locked().unwrap().vault();
    let id = vault.accounts().unwrap()[0].id;
    let err = vault.keystore().load(id).unwrap_err();
    assert!(err.to_string().contains("secrets file is locked"), "{err}");
    call("unlock", json!({"passphrase": "a file passphrase"})).unwrap();
    assert_eq!(
        call("list_accounts", json!({})).unwrap()["accounts"][0]["code"],
        listed["accounts"][0]["code"]
    );
}

#[test]
fn keystore_commands_refuse_what_the_screen_does_not_offer() {
    let h = harness();
    // The keyring answers: no encrypted file is offered in its place.
    let args =
        json!({"passphrase": "a long passphrase", "again": "a long passphrase", "level": "quick"});
    let refused = h.invoke("use_secrets_file", args).unwrap_err();
    assert!(
        refused["message"].as_str().unwrap().contains("only when no Secret Service"),
        "{refused}"
    );
    // A keystore the vault did not choose (this in-memory one) is not moved.
    let args = json!({"to": "file", "passphrase": "a long passphrase", "again": "a long passphrase", "level": "quick"});
    let refused = h.invoke("move_keystore", args).unwrap_err();
    assert!(refused["message"].as_str().unwrap().contains("cannot be moved"), "{refused}");
    let levels = h.invoke("cost_levels", json!({})).unwrap();
    let names: Vec<&str> =
        levels.as_array().unwrap().iter().map(|l| l["level"].as_str().unwrap()).collect();
    assert_eq!(names, ["quick", "standard", "strong"]);
    assert!(levels[1]["settings"].as_str().unwrap().contains("65536 KiB, 3 passes"), "{levels}");
}

#[test]
fn the_lock_never_fails_open_when_the_keyring_cannot_say_whether_it_is_set() {
    // Regression (issue 17): the app opened unlocked when the keyring did not answer at start.
    let keystore = Arc::new(MemoryKeystore::default());
    keystore.set_unavailable(true);
    let h = harness_over(keystore.clone());
    let status = h.invoke("lock_status", json!({})).unwrap();
    assert_eq!(status["locked"], true, "{status}");
    let reason = status["reason"].as_str().unwrap();
    assert!(reason.contains("cannot tell whether a lock passphrase is set"), "{reason}");
    assert_eq!(h.invoke("list_accounts", json!({})).unwrap_err()["code"], "locked");
    // Unlocking asks the keyring again: still no answer, still locked, and the page is told why.
    let err = h.invoke("unlock", json!({"passphrase": "anything"})).unwrap_err();
    assert_eq!(err["code"], "keyring_unavailable", "{err}");
    assert_eq!(h.invoke("lock_status", json!({})).unwrap()["locked"], true);

    // The keyring answers, with a passphrase set: only that passphrase opens.
    keystore.set_unavailable(false);
    twofold_core::lock::AppLock::new(&*keystore, h.vault.id()).set("open sesame").unwrap();
    let wrong = h.invoke("unlock", json!({"passphrase": "anything"})).unwrap_err();
    assert_eq!(wrong["code"], "wrong_password", "{wrong}");
    let open = h.invoke("unlock", json!({"passphrase": "open sesame"})).unwrap();
    assert_eq!(open, json!({"enabled": true, "locked": false, "screen": "passphrase"}));
}

#[test]
fn a_lock_locked_for_want_of_an_answer_opens_when_the_keyring_says_none_is_set() {
    let keystore = Arc::new(MemoryKeystore::default());
    keystore.set_unavailable(true);
    let h = harness_over(keystore.clone());
    keystore.set_unavailable(false);
    let open = h.invoke("unlock", json!({"passphrase": ""})).unwrap();
    assert_eq!(open, json!({"enabled": false, "locked": false, "screen": "passphrase"}));
    assert!(h.invoke("list_accounts", json!({})).is_ok());
}

#[test]
fn the_lock_refuses_account_commands_until_the_passphrase_is_given() {
    let h = harness();
    let id = h.add("Example", OtpParams::default());
    assert_eq!(
        h.invoke("lock_status", json!({})).unwrap(),
        json!({"enabled": false, "locked": false, "screen": "passphrase"})
    );
    // Without a passphrase there is nothing to lock with.
    h.invoke("lock_now", json!({})).unwrap();
    assert_eq!(h.issuers(), ["Example"]);

    let set = h.invoke("set_passphrase", json!({"current": null, "new": "open sesame"})).unwrap();
    assert_eq!(set, json!({"enabled": true, "locked": false, "screen": "passphrase"}));
    let short = h.invoke("set_passphrase", json!({"current": "open sesame", "new": "abc"}));
    assert!(short.unwrap_err()["message"].as_str().unwrap().contains("at least 4"));

    // The tray's Lock item, as the tray menu calls it.
    twofold_app::desktop::on_menu(h.window.app_handle(), "lock");
    assert_eq!(h.invoke("lock_status", json!({})).unwrap()["locked"], true);
    for (command, args) in [
        ("list_accounts", json!({})),
        ("copy_code", json!({"id": id})),
        ("account_qr", json!({"id": id})),
        ("search_accounts", json!({"query": "ex"})),
        ("get_settings", json!({})),
        // The trusted device's commands too: no answer, pairing or listing through the lock.
        ("decide", json!({"server": id, "request": id, "decision": "allow", "number": null})),
        ("pending_requests", json!({})),
        ("pairing_preview", json!({"link": "twofold+pair://pair?v=1"})),
        ("pair", json!({"link": "twofold+pair://pair?v=1", "deviceName": "Intruder"})),
        ("paired_servers", json!({})),
        ("unpair", json!({"id": id})),
        ("approval_history", json!({})),
        ("offline_code", json!({"server": id})),
        ("set_autostart", json!({"enabled": true})),
    ] {
        let err = h.invoke(command, args).unwrap_err();
        assert_eq!(err["code"], "locked", "{command}: {err}");
    }
    let wrong = h.invoke("unlock", json!({"passphrase": "open sesam"})).unwrap_err();
    assert_eq!(wrong["code"], "wrong_password");
    let open = h.invoke("unlock", json!({"passphrase": "open sesame"})).unwrap();
    assert_eq!(open, json!({"enabled": true, "locked": false, "screen": "passphrase"}));
    assert_eq!(h.issuers(), ["Example"]);

    // Changing needs the current passphrase; removing it turns the lock off.
    let err = h.invoke("set_passphrase", json!({"current": "nope", "new": "new one"}));
    assert_eq!(err.unwrap_err()["code"], "wrong_password");
    let off = h.invoke("set_passphrase", json!({"current": "open sesame", "new": null})).unwrap();
    assert_eq!(off, json!({"enabled": false, "locked": false, "screen": "passphrase"}));
}

#[test]
fn desktop_settings_are_saved() {
    let h = harness();
    let settings = h.invoke("get_settings", json!({})).unwrap();
    assert_eq!(settings["lock_after_seconds"], 300);
    assert_eq!(settings["close_to_tray"], true);
    let args = json!({
        "lockAfterSeconds": 60, "lockOnScreenLock": false, "closeToTray": false,
        "startMinimised": true,
    });
    let saved = h.invoke("set_desktop_settings", args).unwrap();
    assert_eq!(saved["lock_after_seconds"], 60);
    assert_eq!(saved["lock_on_screen_lock"], false);
    assert_eq!(saved["close_to_tray"], false);
    assert_eq!(saved["start_minimised"], true);
    assert_eq!(h.invoke("get_settings", json!({})).unwrap(), saved);
}

#[test]
fn what_the_capability_does_not_grant_is_refused() {
    let h = harness();
    let err = h.invoke("plugin:clipboard-manager|read_text", json!({})).unwrap_err();
    assert!(err.as_str().unwrap().contains("not allowed"), "{err}");
}

fn credential(issuer: &str, secret: &str) -> Credential {
    Credential {
        issuer: issuer.to_owned(),
        name: "carol".to_owned(),
        secret: Secret::from_base32(secret).unwrap(),
        otp: OtpParams::default(),
        icon: None,
    }
}

fn labels(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

#[test]
fn an_encrypted_export_asks_for_its_password_until_the_right_one_then_imports() {
    let h = harness();
    h.add("Already", OtpParams::default());
    let file = twofold_core::export::aegis_encrypted(
        &[credential("Fresh", "JBSWY3DPEHPK3PXP"), {
            let mut same = credential("Already", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
            same.name = "alice".to_owned();
            same
        }],
        &Password::new("correct horse".to_owned()),
        &AegisKeys::fresh().unwrap(),
    )
    .unwrap();

    let opened = h.invoke_raw("open_import", file.into_bytes()).unwrap();
    assert_eq!(opened["format"], "Aegis");
    assert!(opened["preview"].is_null(), "{opened}");
    let handle = opened["file"].clone();

    let wrong = json!({"file": handle, "password": "battery staple"});
    let err = h.invoke("unlock_import", wrong).unwrap_err();
    assert_eq!(err["code"], "wrong_password");
    assert!(err["message"].as_str().unwrap().contains("wrong password"), "{err}");

    // The file stays open for another try.
    let right = json!({"file": handle, "password": "correct horse"});
    let opened = h.invoke("unlock_import", right).unwrap();
    let preview = &opened["preview"];
    let entries = preview["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{preview}");
    assert_eq!(entries[0]["label"], "Fresh (carol)");
    assert_eq!(entries[0]["duplicate"], false);
    assert_eq!(entries[1]["duplicate"], true);
    assert!(!preview.to_string().contains("JBSWY3DP"), "{preview}");

    let added = h.invoke("add_scanned", json!({"scan": preview["scan"], "chosen": [0]})).unwrap();
    assert_eq!(labels(&added["added"]), ["Fresh (carol)"]);
    assert_eq!(h.issuers(), ["Already", "Fresh"]);
    let again = json!({"file": handle, "password": "correct horse"});
    assert_eq!(h.invoke("unlock_import", again).unwrap_err()["code"], "scan_closed");
}

#[test]
fn a_password_protected_bitwarden_export_asks_for_its_password_then_previews() {
    let h = harness();
    let item = bitwarden_export::item("Vaultwarden", "dana", Some("JBSWY3DPEHPK3PXP"));
    let file = bitwarden_export::password_protected(
        &bitwarden_export::export(vec![item]),
        "correct horse",
        bitwarden_export::Kdf::Pbkdf2(1_000),
    );

    let opened = h.invoke_raw("open_import", file).unwrap();
    assert_eq!(opened["format"], "Bitwarden");
    assert!(opened["preview"].is_null(), "asks for the password: {opened}");
    let handle = opened["file"].clone();
    let wrong = h.invoke("unlock_import", json!({"file": handle, "password": "correct"}));
    assert_eq!(wrong.unwrap_err()["code"], "wrong_password");
    let right = json!({"file": handle, "password": "correct horse"});
    let preview = h.invoke("unlock_import", right).unwrap()["preview"].clone();
    let entries = preview["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{preview}");
    assert_eq!(entries[0]["label"], "Vaultwarden (dana)");
}

#[test]
fn a_damaged_entry_is_named_by_position_while_the_others_import() {
    let h = harness();
    let plain = twofold_core::export::aegis_plain(&[
        credential("First", "JBSWY3DPEHPK3PXP"),
        credential("Broken", "GEZDGNBVGY3TQOJQ"),
        credential("Third", "ONSWG4TFOQYTEMZU"),
    ]);
    let mut file: Value = serde_json::from_str(&plain).unwrap();
    file["db"]["entries"][1]["info"]["secret"] = json!("not base32!");
    let opened = h.invoke_raw("open_import", file.to_string().into_bytes()).unwrap();
    let preview = &opened["preview"];
    let entries: Vec<_> =
        preview["entries"].as_array().unwrap().iter().map(|e| e["label"].clone()).collect();
    assert_eq!(entries, [json!("First (carol)"), json!("Third (carol)")]);
    let problems = labels(&preview["problems"]);
    let [problem] = problems.as_slice() else { panic!("{preview}") };
    assert!(problem.starts_with("entry 2 (Broken (carol)): "), "{problem}");

    let added = h.invoke("add_scanned", json!({"scan": preview["scan"], "chosen": [0, 1]}));
    assert_eq!(labels(&added.unwrap()["added"]).len(), 2);
    assert_eq!(h.issuers(), ["First", "Third"]);

    let err = h.invoke_raw("open_import", b"hello, world".to_vec()).unwrap_err();
    assert_eq!(err["code"], "file_unreadable");
}

#[test]
fn exports_an_encrypted_aegis_file_that_core_reads_back_and_never_overwrites() {
    let h = harness();
    h.add("Example", OtpParams::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aegis.json");
    // The two passwords are checked in Rust: typed differently, or too short, nothing is written.
    for (again, says) in [("s3cret pas", "differ"), ("", "differ")] {
        let args = json!({"format": "aegis", "path": path, "password": "s3cret pass", "passwordAgain": again});
        let err = h.invoke("export_file", args).unwrap_err();
        assert_eq!(err["code"], "export_failed");
        assert!(err["message"].as_str().unwrap().contains(says), "{err}");
    }
    let short =
        json!({"format": "aegis", "path": path, "password": "s3cret", "passwordAgain": "s3cret"});
    let err = h.invoke("export_file", short).unwrap_err();
    assert!(err["message"].as_str().unwrap().contains("at least 8 characters"), "{err}");
    assert!(!path.exists(), "a refused password wrote the file");

    let args = json!({
        "format": "aegis", "path": path, "password": "s3cret pass", "passwordAgain": "s3cret pass"
    });
    let saved = h.invoke("export_file", args.clone()).unwrap();
    assert_eq!(saved["accounts"], 1);

    let bytes = std::fs::read(&path).unwrap();
    let detected = twofold_core::import::detect(&bytes).unwrap();
    assert_eq!((detected.format, detected.encrypted), (Format::Aegis, true));
    let read = Format::Aegis.read(&bytes, Some(&Password::new("s3cret pass".to_owned()))).unwrap();
    let [back] = read.credentials.as_slice() else { panic!("{read:?}") };
    assert_eq!(back.label(), "Example (alice)");
    assert_eq!(back.secret, Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap());

    let err = h.invoke("export_file", args).unwrap_err();
    assert_eq!(err["code"], "export_failed");
    assert!(err["message"].as_str().unwrap().contains("already exists"), "{err}");
    let uris = json!({"format": "uris", "path": dir.path().join("u.txt"), "password": "x"});
    assert_eq!(h.invoke("export_file", uris).unwrap_err()["code"], "export_failed");
    let uris = json!({"format": "uris", "path": dir.path().join("u.txt")});
    h.invoke("export_file", uris).unwrap();
    let text = std::fs::read_to_string(dir.path().join("u.txt")).unwrap();
    assert!(text.starts_with("otpauth://totp/Example:alice?"), "{text}");

    let suggested = h.invoke("default_export_path", json!({"format": "aegis"})).unwrap();
    assert!(suggested.as_str().unwrap().ends_with(".json"), "{suggested}");
}

#[test]
fn migration_codes_come_in_batches_of_svg() {
    let h = harness();
    for n in 0..30 {
        h.add(&format!("Service number {n} with a long name"), OtpParams::default());
    }
    let codes = h.invoke("export_migration", json!({})).unwrap();
    let batches = codes["batches"].as_array().unwrap();
    assert!(batches.len() > 1, "30 accounts fit one code? {}", batches.len());
    assert!(batches.iter().all(|b| b.as_str().unwrap().starts_with("<?xml")), "{codes}");
    assert!(codes["left_out"].as_array().unwrap().is_empty());
}

#[test]
fn backups_turn_on_with_a_passphrase_back_up_now_and_restore() {
    let h = harness();
    let id = h.add("Example", OtpParams::default());
    let form = json!({"enabled": true, "keep": 3, "folder": ""});

    let err = h
        .invoke("set_backups", json!({"form": form, "passphrase": "", "passphraseAgain": ""}))
        .unwrap_err();
    assert_eq!(err["code"], "backup_failed");
    for (first, again, says) in
        [("backup pass", "backup pas", "differ"), ("short", "short", "at least 8 characters")]
    {
        let args = json!({"form": form, "passphrase": first, "passphraseAgain": again});
        let err = h.invoke("set_backups", args).unwrap_err();
        assert_eq!(err["code"], "backup_failed");
        assert!(err["message"].as_str().unwrap().contains(says), "{err}");
    }
    assert_eq!(h.invoke("backup_status", json!({})).unwrap()["enabled"], false);
    let first = h.invoke(
        "set_backups",
        json!({"form": form, "passphrase": "backup pass", "passphraseAgain": "backup pass"}),
    );
    assert_eq!(first.unwrap()["accounts"], 1);
    let now = h.invoke("backup_now", json!({})).unwrap();
    let status = h.invoke("backup_status", json!({})).unwrap();
    assert_eq!((status["enabled"].clone(), status["keep"].clone()), (json!(true), json!(3)));
    assert_eq!(status["default_folder"], true);
    let backups = status["backups"].as_array().unwrap();
    assert_eq!(backups.len(), 2, "{status}");
    assert_eq!(backups[0]["path"], now["path"], "newest first");
    assert_eq!(backups[0]["accounts"], 1);

    // Keep and folder change without the passphrase once they are on.
    let fewer = json!({"form": {"enabled": true, "keep": 1, "folder": ""}, "passphrase": "", "passphraseAgain": ""});
    assert!(h.invoke("set_backups", fewer).unwrap().is_null());
    h.invoke("backup_now", json!({})).unwrap();
    let status = h.invoke("backup_status", json!({})).unwrap();
    assert_eq!(status["backups"].as_array().unwrap().len(), 1, "{status}");
    let name = status["backups"][0]["name"].clone();
    let path = status["backups"][0]["path"].as_str().unwrap().to_owned();
    assert!(path.ends_with(&format!("/{}", name.as_str().unwrap())), "{status}");

    h.vault.remove(id).unwrap();
    let wrong = json!({"name": name, "passphrase": "nope"});
    assert_eq!(h.invoke("restore_backup", wrong).unwrap_err()["code"], "wrong_password");
    let right = json!({"name": name, "passphrase": "backup pass"});
    let report = h.invoke("restore_backup", right.clone()).unwrap();
    assert_eq!(labels(&report["added"]), ["Example (alice)"]);
    assert_eq!(h.issuers(), ["Example"]);
    let report = h.invoke("restore_backup", right).unwrap();
    assert_eq!(labels(&report["duplicates"]), ["Example (alice)"]);

    let off = json!({"form": {"enabled": false, "keep": 1, "folder": ""}, "passphrase": "", "passphraseAgain": ""});
    h.invoke("set_backups", off).unwrap();
    assert_eq!(h.invoke("backup_now", json!({})).unwrap_err()["code"], "backup_failed");
    let relative = json!({"form": {"enabled": false, "keep": 1, "folder": "rel"}, "passphrase": "", "passphraseAgain": ""});
    assert_eq!(h.invoke("set_backups", relative).unwrap_err()["code"], "backup_failed");
}

#[test]
fn restore_opens_only_listed_backups_and_another_backup_file_goes_through_import() {
    let h = harness();
    h.add("Example", OtpParams::default());
    let form = json!({"enabled": true, "keep": 3, "folder": ""});
    let written = h.invoke(
        "set_backups",
        json!({"form": form, "passphrase": "backup pass", "passphraseAgain": "backup pass"}),
    );
    let listed = written.unwrap()["path"].as_str().unwrap().to_owned();
    // A backup file elsewhere, which the person would pick in the file dialog or drop.
    let elsewhere = tempfile::tempdir().unwrap();
    let picked = elsewhere.path().join("twofold-20261124-014039-000.backup");
    std::fs::copy(&listed, &picked).unwrap();
    let name = picked.file_name().unwrap().to_str().unwrap();

    for refused in [listed.as_str(), picked.to_str().unwrap(), name, "../accounts.json", ""] {
        let args = json!({"name": refused, "passphrase": "backup pass"});
        let err = h.invoke("restore_backup", args).unwrap_err();
        assert_eq!(err["code"], "file_unreadable", "{refused}: {err}");
        assert!(err["message"].as_str().unwrap().contains("Import a file"), "{err}");
    }
    // The old argument is not taken either: a path cannot sneak in beside the name.
    let by_path = json!({"path": picked, "passphrase": "backup pass"});
    assert!(h.invoke("restore_backup", by_path).is_err());

    let opened = h.invoke_raw("open_import", std::fs::read(&picked).unwrap()).unwrap();
    assert_eq!(opened["format"], "Twofold backup");
    assert!(opened["preview"].is_null(), "asks for the passphrase: {opened}");
    let unlock = json!({"file": opened["file"], "password": "backup pass"});
    let preview = h.invoke("unlock_import", unlock).unwrap()["preview"].clone();
    let entries = preview["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{preview}");
    assert_eq!(
        (entries[0]["label"].clone(), entries[0]["duplicate"].clone()),
        (json!("Example (alice)"), json!(true))
    );
}

#[test]
fn a_change_made_in_the_app_is_backed_up_automatically_when_backups_are_on() {
    let h = harness();
    // The mock runtime never runs the app's setup, which starts the watcher in the real app.
    twofold_app::watch::spawn(h.app.handle().clone()).unwrap();
    let form = json!({"enabled": true, "keep": 5, "folder": ""});
    h.invoke(
        "set_backups",
        json!({"form": form, "passphrase": "backup pass", "passphraseAgain": "backup pass"}),
    )
    .unwrap();
    h.invoke("add_account", entry("Example", "JBSWY3DPEHPK3PXP")).unwrap();

    // The vault watcher notices the change within a second and writes the backup.
    let start = std::time::Instant::now();
    loop {
        let status = h.invoke("backup_status", json!({})).unwrap();
        if status["backups"].as_array().unwrap().len() == 2 {
            assert_eq!(status["backups"][0]["accounts"], 1, "{status}");
            break;
        }
        assert!(start.elapsed().as_secs() < 15, "no backup of the change: {status}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_failed_automatic_backup_is_told_to_the_window() {
    use tauri::Listener;
    let h = harness();
    twofold_app::watch::spawn(h.app.handle().clone()).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let backups = folder.path().join("backups");
    let form = json!({"enabled": true, "keep": 5, "folder": backups});
    h.invoke(
        "set_backups",
        json!({"form": form, "passphrase": "backup pass", "passphraseAgain": "backup pass"}),
    )
    .unwrap();
    // The folder becomes a file: the next backup cannot be written.
    std::fs::remove_dir_all(&backups).unwrap();
    std::fs::write(&backups, b"in the way").unwrap();
    let (sender, told) = std::sync::mpsc::channel();
    h.app.listen(twofold_app::watch::BACKUP_FAILED, move |event| {
        let _ = sender.send(event.payload().to_owned());
    });

    h.invoke("add_account", entry("Example", "JBSWY3DPEHPK3PXP")).unwrap();
    let message = told.recv_timeout(std::time::Duration::from_secs(15)).unwrap();
    // The payload is the message as JSON.
    let message: String = serde_json::from_str(&message).unwrap();
    assert!(message.starts_with("The automatic backup failed: cannot "), "{message}");
    assert!(message.contains(&backups.display().to_string()), "{message}");
    assert_eq!(h.issuers(), ["Example"], "the change stands");
}
