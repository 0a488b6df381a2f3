//! The window lock end to end: a passphrase set in the settings (an Argon2id hash in the real
//! keyring, the passphrase in no file), locking from the header takes every code out of the page
//! and Rust refuses the account commands, a wrong passphrase is refused, the right one brings the
//! codes back; with a passphrase set the app starts locked, and locks after the idle time and when
//! the desktop's screen saver says the screen locked.

mod support;

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;
use support::{
    APPEAR, LockCleanup, TestResult, TestVault, displayed, ensure, eventually, files_under, invoke,
    row_button, script, start_app, type_passphrase, wait_locked,
};
use twofold_core::keystore::Keystore;
use twofold_core::lock::AppLock;
use twofold_core::{Account, OtpParams};

const PASSPHRASE: &str = "correct horse battery";

// One test in two parts: tauri-driver drives one app at a time.
#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn the_window_lock() -> TestResult {
    locking_takes_the_codes_out_of_the_page_until_the_passphrase_is_typed().await?;
    starts_locked_and_locks_after_idle_time_and_on_screen_lock().await
}

async fn locking_takes_the_codes_out_of_the_page_until_the_passphrase_is_typed() -> TestResult {
    let test = TestVault::new()?;
    let _cleanup = LockCleanup(&test);
    let alice = test.add("Example", "alice", "JBSWY3DPEHPK3PXP", OtpParams::default())?;
    let client = start_app(test.dir.path()).await?;
    let outcome = lock_and_unlock(&client, &test, &alice).await;
    client.close().await?;
    outcome
}

async fn lock_and_unlock(client: &Client, test: &TestVault, alice: &Account) -> TestResult {
    client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(alice.id))).await?;
    ensure!(!displayed(client, "#lock-button").await?, "a lock button without a passphrase");

    // The passphrase is set in the settings.
    client.find(Locator::Id("open-settings")).await?.click().await?;
    client.find(Locator::Id("passphrase-open")).await?.click().await?;
    client.find(Locator::Id("passphrase-new")).await?.send_keys(PASSPHRASE).await?;
    client.find(Locator::Id("passphrase-repeat")).await?.send_keys(PASSPHRASE).await?;
    client.find(Locator::Id("passphrase-save")).await?.click().await?;
    eventually(APPEAR, "the passphrase was never saved", || async {
        Ok(displayed(client, "#lock-button").await?.then_some(()))
    })
    .await?;
    client.find(Locator::Id("settings-cancel")).await?.click().await?;

    // In the keyring as an Argon2id hash, under the vault's lock entry, and in no file.
    let stored = test.vault.keystore().ids(test.vault.id())?;
    ensure!(
        stored == Some(vec![alice.id]),
        "the lock entry is listed among the accounts: {stored:?}"
    );
    let listed = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", "twofold"])
        .output()?;
    let listed = String::from_utf8_lossy(&listed.stdout) + String::from_utf8_lossy(&listed.stderr);
    ensure!(listed.contains("Twofold: app lock"), "no lock entry in the keyring:\n{listed}");
    for (file, bytes) in files_under(test.dir.path())? {
        ensure!(
            !String::from_utf8_lossy(&bytes).contains(PASSPHRASE),
            "the passphrase is in {}",
            file.display()
        );
    }

    // Locked from the header: no row, no code anywhere in the page, commands refused.
    client.find(Locator::Id("lock-button")).await?.click().await?;
    wait_locked(client).await?;
    let page = script(client, "return document.documentElement.outerHTML").await?;
    let page = page.as_str().unwrap_or_default();
    for code in test.acceptable_codes(alice)? {
        ensure!(!page.contains(&code), "code {code} is still in the page while locked");
    }
    ensure!(!page.contains("alice"), "the account is still in the page while locked");
    let refused = invoke(client, "list_accounts", json!({})).await?;
    ensure!(refused == json!({"error": "locked"}), "list_accounts while locked gave {refused}");
    let refused = invoke(client, "account_qr", json!({"id": alice.id})).await?;
    ensure!(refused == json!({"error": "locked"}), "account_qr while locked gave {refused}");

    // A wrong passphrase is refused with a reason; the right one brings the codes back.
    type_passphrase(client, "wrong horse").await?;
    let error = client.wait().at_most(APPEAR).for_element(Locator::Id("lock-error")).await?;
    eventually(APPEAR, "no message for a wrong passphrase", || async {
        Ok(error.text().await?.contains("not the passphrase").then_some(()))
    })
    .await?;
    ensure!(displayed(client, "#lock-screen").await?, "unlocked by a wrong passphrase");
    type_passphrase(client, PASSPHRASE).await?;
    let row =
        client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(alice.id))).await?;
    let shown = row.text().await?.replace(' ', "");
    let codes = test.acceptable_codes(alice)?;
    ensure!(codes.iter().any(|c| shown.contains(c.as_str())), "after unlocking: {shown:?}");
    ensure!(!displayed(client, "#lock-screen").await?, "the lock screen stayed");
    Ok(())
}

async fn starts_locked_and_locks_after_idle_time_and_on_screen_lock() -> TestResult {
    let test = TestVault::new()?;
    let _cleanup = LockCleanup(&test);
    let alice = test.add("Example", "alice", "JBSWY3DPEHPK3PXP", OtpParams::default())?;
    AppLock::new(test.vault.keystore(), test.vault.id()).set(PASSPHRASE)?;
    std::fs::write(test.dir.path().join("settings.json"), r#"{"lock_after_seconds": 3}"#)?;
    let client = start_app(test.dir.path()).await?;
    let outcome = lock_by_itself(&client, &alice).await;
    client.close().await?;
    outcome
}

async fn lock_by_itself(client: &Client, alice: &Account) -> TestResult {
    // Locked from the start.
    wait_locked(client).await?;
    let rows = client.find_all(Locator::Css("li.row")).await?;
    ensure!(rows.is_empty(), "{} rows shown before unlocking", rows.len());

    // Left alone after unlocking, it locks again after the idle time (3 s here).
    type_passphrase(client, PASSPHRASE).await?;
    client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(alice.id))).await?;
    wait_locked(client).await?;

    // With the idle lock off, the screen saver's signal on the session bus locks it.
    // The idle lock goes off as soon as the unlock lands: on a slow machine 3 s could pass before
    // the rows show, and lock the window under the test again.
    type_passphrase(client, PASSPHRASE).await?;
    let settings = json!({
        "lockAfterSeconds": 0, "lockOnScreenLock": true, "closeToTray": true, "startMinimised": false,
    });
    let saved = eventually(APPEAR, "the settings were never saved", || async {
        let saved = invoke(client, "set_desktop_settings", settings.clone()).await?;
        Ok(saved.get("error").is_none().then_some(saved))
    })
    .await?;
    ensure!(saved["lock_after_seconds"] == 0, "settings not saved: {saved}");
    client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(alice.id))).await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    ensure!(!displayed(client, "#lock-screen").await?, "locked although the idle lock is off");
    let signal = std::process::Command::new("dbus-send")
        .args([
            "--session",
            "--type=signal",
            "/org/freedesktop/ScreenSaver",
            "org.freedesktop.ScreenSaver.ActiveChanged",
            "boolean:true",
        ])
        .status()?;
    ensure!(signal.success(), "dbus-send failed: {signal}");
    wait_locked(client).await
}
