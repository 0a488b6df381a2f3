//! Where the secrets are kept, end to end in the real app: a start screen for each case, never an
//! error on every row. On a private D-Bus session with no Secret Service at all, the window says
//! what to install, Retry says it is still missing, and "Use an encrypted file instead" (a
//! passphrase typed twice) starts a file vault that the same passphrase locks and unlocks. On one
//! whose gnome-keyring is locked, Retry opens once the keyring is unlocked. A file vault starts on
//! its unlock screen (a wrong passphrase refused, the right one shows the codes). From Settings,
//! the secrets move to an encrypted file and back to the keyring, the codes the same throughout. A
//! pairing made in the app over a file vault keeps its key in the file, where the CLI finds it,
//! and the app started again connects to the server once the file is unlocked.

#[path = "../crates/twofold-cli/tests/support/dbus_session.rs"]
mod dbus_session;
mod support;

// The device library's own test server: a real approval server on loopback.
#[path = "../crates/twofold-device/tests/support/mod.rs"]
mod server;

use fantoccini::{Client, Locator};
use serde_json::json;
use support::{
    APPEAR, ONE_APP, TestResult, TestVault, click, content_of, displayed, ensure, eventually,
    invoke, open_settings, row_button, start_app, start_app_on_bus, type_into, type_passphrase,
    unix_now, wait_locked,
};
use twofold_core::backup::KdfCost;
use twofold_core::import::Password;
use twofold_core::keystore::{FileKeystore, Keystore, KeystoreKind};
use twofold_core::seal::CostLevel;
use twofold_core::vault::{Destination, Vault};
use twofold_core::{Credential, OtpParams, Secret, otp};
use uuid::Uuid;

/// RFC 6238's SHA-1 seed.
const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const OTHER_SECRET: &str = "JBSWY3DPEHPK3PXP";
const PASSPHRASE: &str = "correct horse battery";
/// A cheap Argon2id cost for vaults this test makes itself: the key derivation is not its subject.
const CHEAP: KdfCost = KdfCost { memory_kib: 256, passes: 1, lanes: 1 };

/// Waits until the row of account `id` shows a code of `secret` (this period's or a neighbour's).
async fn shows_code(client: &Client, id: Uuid, secret: &str) -> TestResult {
    let secret = Secret::from_base32(secret)?;
    let row = client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(id))).await?;
    eventually(APPEAR, "the row never showed the account's code", || async {
        let shown = row.text().await?.replace(' ', "");
        let now = unix_now();
        for t in [now.saturating_sub(30), now, now + 30] {
            if shown.contains(&otp::generate(&secret, &OtpParams::default(), t)?.current) {
                return Ok(Some(()));
            }
        }
        Ok(None)
    })
    .await
}

/// Waits until the element `id` shows text containing `part`.
async fn says(client: &Client, id: &str, part: &str) -> TestResult {
    let found = eventually(APPEAR, &format!("#{id} never said {part:?}"), || async {
        let text = content_of(client, &format!("#{id}")).await.unwrap_or_default();
        Ok(text.contains(part).then_some(()))
    })
    .await;
    if found.is_err() {
        let text = content_of(client, &format!("#{id}")).await.unwrap_or_default();
        return Err(format!("#{id} never said {part:?}; it says {text:?}").into());
    }
    found
}

/// The full-window keyring screen shows, titled `title`, with no account row and no row error.
async fn keyring_screen(client: &Client, title: &str) -> TestResult {
    eventually(APPEAR, "the keyring screen never showed", || async {
        Ok(displayed(client, "#keyring-screen").await?.then_some(()))
    })
    .await?;
    says(client, "keyring-title", title).await?;
    ensure!(!displayed(client, "#lock-form").await?, "the passphrase form shows too");
    let rows = client.find_all(Locator::Css("li.row")).await?;
    ensure!(rows.is_empty(), "{} rows under the keyring screen", rows.len());
    Ok(())
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn no_secret_service_offers_what_to_install_and_an_encrypted_file() -> TestResult {
    let _one = ONE_APP.lock().await;
    let session = dbus_session::Session::start();
    let data = session.dir.path().join("vault");
    let client = start_app_on_bus(&data, &session.address, session.dir.path()).await?;
    let outcome = no_secret_service(&client, &data).await;
    client.close().await?;
    outcome
}

async fn no_secret_service(client: &Client, data: &std::path::Path) -> TestResult {
    keyring_screen(client, "No keyring").await?;
    for name in ["GNOME Keyring", "KeePassXC", "KWallet"] {
        says(client, "keyring-install", name).await?;
    }
    says(client, "keyring-reason", "org.freedesktop.secrets").await?;
    let refused = invoke(client, "list_accounts", json!({})).await?;
    ensure!(refused == json!({"error": "locked"}), "list_accounts behind the screen: {refused}");

    // Retry asks again: still none.
    click(client, "#keyring-retry").await?;
    says(client, "keyring-error", "Still not available").await?;

    // Two different passphrases are refused; the same one twice makes the file vault.
    type_into(client, "#file-passphrase", PASSPHRASE).await?;
    type_into(client, "#file-repeat", "correct horse battery!").await?;
    click(client, "#file-create").await?;
    says(client, "file-error", "differ").await?;
    ensure!(!data.join("secrets.twofold").exists(), "a file made from differing passphrases");
    type_into(client, "#file-repeat", PASSPHRASE).await?;
    click(client, "#file-level option[value=quick]").await?;
    click(client, "#file-create").await?;
    eventually(APPEAR, "the window never opened over the file", || async {
        Ok((!displayed(client, "#lock-screen").await?).then_some(()))
    })
    .await?;
    ensure!(KeystoreKind::of(data)? == KeystoreKind::File, "the vault did not choose its file");
    let file = FileKeystore::unlock(data, &Password::new(PASSPHRASE.to_owned()))?;
    ensure!(file.cost() == CostLevel::Quick.cost(), "sealed at {}, not quick", file.cost());
    drop(file);

    // An account added now has its secret in the file, and shows its code.
    let entry = json!({"entry": {
        "issuer": "RFC", "name": "alice", "secret": RFC_SECRET, "kind": "totp",
        "algorithm": "SHA1", "digits": 6, "period": 30
    }});
    let added = invoke(client, "add_account", entry).await?;
    ensure!(added.get("error").is_none(), "add_account: {added}");
    let id = Vault::open(data, twofold_core::keystore::OsKeystore::default())?.accounts()?[0].id;
    shows_code(client, id, RFC_SECRET).await?;

    // The file's passphrase is the lock: locked, the codes go; wrong is refused; right opens.
    click(client, "#lock-button").await?;
    wait_locked(client).await?;
    says(client, "lock-title", "Unlock your secrets").await?;
    type_passphrase(client, "wrong horse").await?;
    says(client, "lock-error", "not the passphrase").await?;
    ensure!(displayed(client, "#lock-screen").await?, "unlocked by a wrong passphrase");
    type_passphrase(client, PASSPHRASE).await?;
    shows_code(client, id, RFC_SECRET).await
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn with_no_secret_service_a_vault_with_accounts_is_not_sealed_into_an_empty_file()
-> TestResult {
    let _one = ONE_APP.lock().await;
    // Accounts whose secrets are in the test services' keyring, opened where none runs.
    let test = TestVault::new()?;
    test.add("RFC", "alice", RFC_SECRET, OtpParams::default())?;
    let session = dbus_session::Session::start();
    let client = start_app_on_bus(test.dir.path(), &session.address, session.dir.path()).await?;
    let outcome = async {
        keyring_screen(&client, "No keyring").await?;
        type_into(&client, "#file-passphrase", PASSPHRASE).await?;
        type_into(&client, "#file-repeat", PASSPHRASE).await?;
        click(&client, "#file-create").await?;
        says(&client, "file-error", "already has accounts").await?;
        ensure!(displayed(&client, "#keyring-screen").await?, "the screen went");
        ensure!(!test.dir.path().join("secrets.twofold").exists(), "a file without the secrets");
        ensure!(
            KeystoreKind::of(test.dir.path())? == KeystoreKind::Keyring,
            "the vault left its keyring"
        );
        Ok(())
    }
    .await;
    client.close().await?;
    outcome
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn a_locked_keyring_shows_retry_until_it_is_unlocked() -> TestResult {
    let _one = ONE_APP.lock().await;
    let mut session = dbus_session::Session::start();
    session.start_locked_keyring();
    let data = session.dir.path().join("vault");
    let client = start_app_on_bus(&data, &session.address, session.dir.path()).await?;
    let outcome = locked_keyring(&client, &mut session).await;
    client.close().await?;
    outcome
}

async fn locked_keyring(client: &Client, session: &mut dbus_session::Session) -> TestResult {
    keyring_screen(client, "The keyring is locked").await?;
    ensure!(!displayed(client, "#file-form").await?, "a file is offered over a locked keyring");
    // Retry shows the unlock prompt; on this session none can show, so it stays locked.
    click(client, "#keyring-retry").await?;
    says(client, "keyring-error", "locked").await?;
    ensure!(displayed(client, "#keyring-screen").await?, "the screen went with the keyring locked");

    session.unlock_keyring();
    click(client, "#keyring-retry").await?;
    eventually(APPEAR, "Retry never opened the window", || async {
        Ok((!displayed(client, "#lock-screen").await?).then_some(()))
    })
    .await?;
    ensure!(displayed(client, "#empty").await?, "the empty vault's note does not show");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn a_file_vault_starts_on_its_unlock_screen() -> TestResult {
    let _one = ONE_APP.lock().await;
    let dir = tempfile::tempdir()?;
    let destination =
        Destination::File { passphrase: Password::new(PASSPHRASE.to_owned()), cost: CHEAP };
    let vault = Vault::create(dir.path(), destination)?;
    let credential = Credential {
        issuer: "RFC".to_owned(),
        name: "alice".to_owned(),
        secret: Secret::from_base32(RFC_SECRET)?,
        otp: OtpParams::default(),
        icon: None,
    };
    let alice = vault.add(credential, unix_now())?;
    let client = start_app(dir.path()).await?;
    let outcome = file_vault_start(&client, alice.id).await;
    client.close().await?;
    outcome
}

async fn file_vault_start(client: &Client, id: Uuid) -> TestResult {
    wait_locked(client).await?;
    says(client, "lock-title", "Unlock your secrets").await?;
    ensure!(!displayed(client, "#keyring-screen").await?, "the keyring screen over a file vault");
    type_passphrase(client, "wrong horse").await?;
    says(client, "lock-error", "not the passphrase").await?;
    ensure!(displayed(client, "#lock-screen").await?, "unlocked by a wrong passphrase");
    let page = support::script(client, "return document.documentElement.outerHTML").await?;
    ensure!(!page.as_str().unwrap_or_default().contains("alice"), "the account shows while locked");
    type_passphrase(client, PASSPHRASE).await?;
    shows_code(client, id, RFC_SECRET).await
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn settings_move_the_secrets_to_a_file_and_back() -> TestResult {
    let _one = ONE_APP.lock().await;
    let test = TestVault::new()?;
    let alice = test.add("RFC", "alice", RFC_SECRET, OtpParams::default())?;
    let bob = test.add("Example", "bob", OTHER_SECRET, OtpParams::default())?;
    let client = start_app(test.dir.path()).await?;
    let outcome =
        move_both_ways(&client, &test, &[(alice.id, RFC_SECRET), (bob.id, OTHER_SECRET)]).await;
    client.close().await?;
    outcome
}

/// Opens the settings' move dialog, fills it and moves.
async fn move_from_settings(client: &Client, passphrase: &str, again: Option<&str>) -> TestResult {
    open_settings(client).await?;
    click(client, "#keystore-move-open").await?;
    type_into(client, "#move-passphrase", passphrase).await?;
    if let Some(again) = again {
        type_into(client, "#move-repeat", again).await?;
    }
    click(client, "#move-save").await
}

async fn move_both_ways(
    client: &Client,
    test: &TestVault,
    accounts: &[(Uuid, &str)],
) -> TestResult {
    let dir = test.dir.path();
    for &(id, secret) in accounts {
        shows_code(client, id, secret).await?;
    }

    // To the file: the keyring no longer holds the secrets, the file does, codes unchanged.
    move_from_settings(client, PASSPHRASE, Some(PASSPHRASE)).await?;
    says(client, "toast", "moved to the encrypted file").await?;
    ensure!(KeystoreKind::of(dir)? == KeystoreKind::File, "the vault still names the keyring");
    ensure!(dir.join("secrets.twofold").exists(), "no secrets file");
    for &(id, secret) in accounts {
        ensure!(test.vault.keystore().load(id)?.is_none(), "a secret stayed in the keyring");
        shows_code(client, id, secret).await?;
    }
    click(client, "#settings-cancel").await?;

    // Its passphrase is now the lock.
    click(client, "#lock-button").await?;
    wait_locked(client).await?;
    type_passphrase(client, PASSPHRASE).await?;
    shows_code(client, accounts[0].0, accounts[0].1).await?;

    // Back to the keyring: a wrong passphrase moves nothing; the right one moves everything.
    move_from_settings(client, "wrong horse", None).await?;
    says(client, "move-error", "not the passphrase").await?;
    ensure!(dir.join("secrets.twofold").exists(), "a wrong passphrase moved the secrets");
    type_into(client, "#move-passphrase", PASSPHRASE).await?;
    click(client, "#move-save").await?;
    says(client, "toast", "moved to the system keyring").await?;
    ensure!(KeystoreKind::of(dir)? == KeystoreKind::Keyring, "the vault still names its file");
    ensure!(!dir.join("secrets.twofold").exists(), "the secrets file stayed");
    for &(id, secret) in accounts {
        ensure!(test.vault.keystore().load(id)?.is_some(), "a secret is not back in the keyring");
        shows_code(client, id, secret).await?;
    }
    // No passphrase was set for the lock: the window no longer locks.
    ensure!(!displayed(client, "#lock-button").await?, "a lock button with no passphrase");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn a_pairing_made_in_the_app_keeps_its_key_in_the_file_for_the_cli() -> TestResult {
    let _one = ONE_APP.lock().await;
    let server = server::Server::start();
    let service = server.service("Example Mail");
    let dir = tempfile::tempdir()?;
    let destination =
        Destination::File { passphrase: Password::new(PASSPHRASE.to_owned()), cost: CHEAP };
    Vault::create(dir.path(), destination)?;
    let client = start_app(dir.path()).await?;
    let outcome: TestResult<Uuid> = async {
        wait_locked(&client).await?;
        type_passphrase(&client, PASSPHRASE).await?;
        eventually(APPEAR, "the window never unlocked", || async {
            Ok((!displayed(&client, "#lock-screen").await?).then_some(()))
        })
        .await?;
        let link = service.create_pairing("alice").await?.link;
        let paired = invoke(&client, "pair", json!({ "link": link, "deviceName": "Desk" })).await?;
        ensure!(paired.get("error").is_none(), "pairing failed: {paired}");
        Ok(Uuid::parse_str(paired["id"].as_str().unwrap_or_default())?)
    }
    .await;
    client.close().await?;
    let server_id = outcome?;

    // In the file, not the keyring; and the device the CLI opens over the file signs with it.
    ensure!(
        twofold_core::keystore::OsKeystore::device_keys().load(server_id)?.is_none(),
        "the device key went to the keyring"
    );
    let vault = Vault::open_chosen(dir.path(), || {
        Ok::<_, twofold_core::vault::VaultError>(Password::new(PASSPHRASE.to_owned()))
    })?;
    ensure!(vault.keystore().kind() == KeystoreKind::File, "the vault left its file");
    ensure!(vault.keystore().device_keys().load(server_id)?.is_some(), "no device key in the file");
    let device = twofold_device::Device::open(
        dir.path().join(twofold_device::DIR_IN_DATA),
        vault.keystore().device_keys(),
    )?;
    let code = device.offline_code(server_id).await?;
    let verified = service.verify_offline_code("alice", &code.code).await?;
    ensure!(verified.verified, "the service refused the CLI's offline code");
    drop((device, vault));

    // Started again, the app cannot connect before the file is unlocked, and does right after.
    let client = start_app(dir.path()).await?;
    let outcome = reconnects_after_unlock(&client).await;
    client.close().await?;
    outcome
}

async fn reconnects_after_unlock(client: &Client) -> TestResult {
    wait_locked(client).await?;
    let refused = invoke(client, "paired_servers", json!({})).await?;
    ensure!(refused == json!({"error": "locked"}), "paired servers behind the lock: {refused}");
    type_passphrase(client, PASSPHRASE).await?;
    eventually(APPEAR, "the paired server never connected after the unlock", || async {
        let servers = invoke(client, "paired_servers", json!({})).await?;
        Ok((servers[0]["state"] == "connected").then_some(()))
    })
    .await
}
