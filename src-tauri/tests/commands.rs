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
use twofold_core::keystore::{Keystore, MemoryKeystore};
use twofold_core::vault::Vault;
use twofold_core::{Credential, OtpParams, Secret};
use uuid::Uuid;

struct Harness {
    _dir: tempfile::TempDir,
    keystore: Arc<MemoryKeystore>,
    /// A second handle on the app's vault, for the test's own checks.
    vault: Vault<Arc<MemoryKeystore>>,
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let keystore = Arc::new(MemoryKeystore::default());
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
    Harness { _dir: dir, keystore, vault, _app: app, window }
}

impl Harness {
    /// Invokes `command` with JSON `args` as the UI does; Ok(result) or Err(`{code, message}`).
    fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: command.to_owned(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
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
fn delete_keeps_the_secret_for_undo() {
    let h = harness();
    let id = h.add("Example", OtpParams::default());
    assert_eq!(h.invoke("delete_account", json!({"id": id})).unwrap(), "Example (alice)");
    assert!(h.issuers().is_empty());
    assert!(
        h.keystore.load(id).unwrap().is_some(),
        "the secret went before the undo window closed"
    );
    assert_eq!(h.invoke("undo_delete", json!({"id": id})).unwrap(), "Example (alice)");
    assert_eq!(h.issuers(), ["Example"]);
    let err = h.invoke("undo_delete", json!({"id": id})).unwrap_err();
    assert_eq!(err["code"], "not_found");
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

#[test]
fn the_lock_refuses_account_commands_until_the_passphrase_is_given() {
    let h = harness();
    let id = h.add("Example", OtpParams::default());
    assert_eq!(
        h.invoke("lock_status", json!({})).unwrap(),
        json!({"enabled": false, "locked": false})
    );
    // Without a passphrase there is nothing to lock with.
    h.invoke("lock_now", json!({})).unwrap();
    assert_eq!(h.issuers(), ["Example"]);

    let set = h.invoke("set_passphrase", json!({"current": null, "new": "open sesame"})).unwrap();
    assert_eq!(set, json!({"enabled": true, "locked": false}));
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
    ] {
        let err = h.invoke(command, args).unwrap_err();
        assert_eq!(err["code"], "locked", "{command}: {err}");
    }
    let wrong = h.invoke("unlock", json!({"passphrase": "open sesam"})).unwrap_err();
    assert_eq!(wrong["code"], "wrong_passphrase");
    let open = h.invoke("unlock", json!({"passphrase": "open sesame"})).unwrap();
    assert_eq!(open, json!({"enabled": true, "locked": false}));
    assert_eq!(h.issuers(), ["Example"]);

    // Changing needs the current passphrase; removing it turns the lock off.
    let err = h.invoke("set_passphrase", json!({"current": "nope", "new": "new one"}));
    assert_eq!(err.unwrap_err()["code"], "wrong_passphrase");
    let off = h.invoke("set_passphrase", json!({"current": "open sesame", "new": null})).unwrap();
    assert_eq!(off, json!({"enabled": false, "locked": false}));
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
