//! Moving a vault between the real keyring (gnome-keyring under `scripts/with-services`) and its
//! secrets file, with 100 accounts and a device paired with a real server on loopback: every
//! secret and the device key arrive intact, nothing is left behind, and a move that fails
//! changes nothing.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

mod support;

use std::path::Path;

use support::Server;
use twofold_core::backup::KdfCost;
use twofold_core::import::Password;
use twofold_core::keystore::{
    FileKeystore, Keystore as _, KeystoreKind, OsKeystore, VaultKeystore,
};
use twofold_core::lock::AppLock;
use twofold_core::vault::{Destination, Vault, VaultError};
use twofold_core::{Credential, OtpParams, Secret};
use twofold_device::vault_keys::{MoveError, move_with_device_keys, take_in_keyring_keys};
use twofold_device::{DIR_IN_DATA, Device, DeviceError, ServerRecord};
use twofold_protocol::client::ServiceClient;
use uuid::Uuid;

/// A cheap cost: the test is about moving, not about Argon2id's price.
const CHEAP: KdfCost = KdfCost { memory_kib: 256, passes: 1, lanes: 1 };
const PASSPHRASE: &str = "a file passphrase";

fn passphrase() -> Password {
    Password::new(PASSPHRASE.to_owned())
}

fn reopen(dir: &Path) -> Vault<VaultKeystore> {
    Vault::open_chosen(dir, || Ok::<_, VaultError>(passphrase())).unwrap()
}

fn device(dir: &Path, vault: &Vault<VaultKeystore>) -> Device<VaultKeystore> {
    Device::open(dir.join(DIR_IN_DATA), vault.keystore().device_keys()).unwrap()
}

/// The device's key signs what the service accepts: it moved intact. The service takes each
/// 30-second step's code once and one step either side of its own, so the `nth` check (0, 1, 2)
/// reads the code of the step `nth - 1` from now: three checks, three fresh steps.
async fn offline_code_accepted(
    device: Device<VaultKeystore>,
    service: &ServiceClient,
    record: &ServerRecord,
    nth: u64,
) {
    let step = twofold_protocol::offline::STEP;
    let now =
        || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // Away from a step's end, so the service's step is the one the device's time was set from.
    if now() % step >= step - 2 {
        std::thread::sleep(std::time::Duration::from_secs(3));
    }
    let at = (now() / step + nth - 1) * step + step / 2;
    let device = device.with_clock(std::sync::Arc::new(move || at));
    let code = device.offline_code(record.id).await.unwrap();
    let verified = service.verify_offline_code("alice", &code.code).await.unwrap();
    assert!(verified.verified, "code {} refused", code.code);
    assert_eq!(verified.device_id, Some(record.device_id));
}

fn assert_secrets(vault: &Vault<VaultKeystore>, expected: &[(Uuid, Secret)]) {
    let accounts = vault.accounts().unwrap();
    assert_eq!(accounts.len(), expected.len());
    for (id, secret) in expected {
        let account = accounts.iter().find(|a| a.id == *id).unwrap();
        assert_eq!(&vault.secret(account).unwrap(), secret, "{}", account.label());
    }
    assert!(vault.reconcile().unwrap().is_clean());
}

fn keyring_holds_none(expected: &[(Uuid, Secret)], server: Uuid) {
    for (id, _) in expected {
        assert!(OsKeystore::default().load(*id).unwrap().is_none(), "{id} stayed in the keyring");
    }
    assert!(OsKeystore::device_keys().load(server).unwrap().is_none());
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn keyring_to_file_and_back_moves_100_secrets_and_the_device_key() {
    let server = Server::start();
    let service = server.service("Example Mail");
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    let vault = Vault::create(&dir, Destination::Keyring).unwrap();
    let mut expected = Vec::new();
    for i in 0..100u8 {
        let secret = Secret::new((0..20).map(|j| i.wrapping_mul(7).wrapping_add(j)).collect());
        let credential = Credential {
            issuer: format!("Issuer {i}"),
            name: format!("user{i}@example.com"),
            secret: secret.clone(),
            otp: OtpParams::default(),
            icon: None,
        };
        expected.push((vault.add(credential, 1).unwrap().id, secret));
    }
    AppLock::new(vault.keystore(), vault.id()).set("lock passphrase").unwrap();
    let paired = device(&dir, &vault);
    let link = service.create_pairing("alice").await.unwrap().link;
    let record = paired.pair(&link, "Test desktop").await.unwrap();
    offline_code_accepted(device(&dir, &vault), &service, &record, 0).await;

    // Keyring → file, the device's keys found by the move the CLI and the app share.
    let keys = paired.key_entries().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].label, "trusted-device key for Example Mail (127.0.0.1)");
    let destination = Destination::File { passphrase: passphrase(), cost: CHEAP };
    let vault = reopen(&dir);
    let (_, moved) = move_with_device_keys(&vault, destination).unwrap();
    assert_eq!((moved.accounts, moved.device_keys, moved.others), (100, 1, 1));
    assert!(moved.missing.is_empty() && moved.left_behind == 0, "{moved:?}");
    keyring_holds_none(&expected, record.id);
    let vault = reopen(&dir);
    assert_eq!(vault.keystore().kind(), KeystoreKind::File);
    assert_secrets(&vault, &expected);
    assert!(AppLock::new(vault.keystore(), vault.id()).verify("lock passphrase").unwrap());
    let in_file = device(&dir, &vault);
    offline_code_accepted(device(&dir, &vault), &service, &record, 1).await;
    // Moving where the secrets already are is refused.
    let again = Destination::File { passphrase: passphrase(), cost: CHEAP };
    assert!(matches!(
        move_with_device_keys(&vault, again),
        Err(MoveError::Vault(VaultError::SameKeystore { kind: KeystoreKind::File }))
    ));

    // File → keyring.
    assert_eq!(in_file.key_entries().unwrap(), keys);
    let (_, moved) = move_with_device_keys(&vault, Destination::Keyring).unwrap();
    assert_eq!((moved.accounts, moved.device_keys, moved.others), (100, 1, 1));
    assert!(!FileKeystore::exists(&dir));
    let vault = reopen(&dir);
    assert_eq!(vault.keystore().kind(), KeystoreKind::Keyring);
    assert_secrets(&vault, &expected);
    assert!(AppLock::new(vault.keystore(), vault.id()).verify("lock passphrase").unwrap());
    offline_code_accepted(device(&dir, &vault), &service, &record, 2).await;

    // Clean up the shared keyring.
    for (id, _) in &expected {
        vault.remove(*id).unwrap();
    }
    AppLock::new(vault.keystore(), vault.id()).remove().unwrap();
    OsKeystore::device_keys().delete(record.id).unwrap();
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn a_move_that_cannot_write_the_file_changes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    let vault = Vault::create(&dir, Destination::Keyring).unwrap();
    let secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let credential = Credential {
        issuer: "Stays".into(),
        name: "put".into(),
        secret: secret.clone(),
        otp: OtpParams::default(),
        icon: None,
    };
    let account = vault.add(credential, 1).unwrap();
    // A real fault even for root: a directory where the file would be renamed to.
    std::fs::create_dir_all(dir.join(twofold_core::keystore::file::FILE_NAME).join("in-the-way"))
        .unwrap();
    let destination = Destination::File { passphrase: passphrase(), cost: CHEAP };
    let err = vault.move_keystore(destination, &[]).unwrap_err();
    assert!(err.to_string().contains("cannot write"), "{err}");
    let vault = reopen(&dir);
    assert_eq!(vault.keystore().kind(), KeystoreKind::Keyring);
    assert_eq!(vault.secret(&account).unwrap(), secret);
    vault.remove(account.id).unwrap();
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn a_file_vault_takes_in_the_device_keys_a_move_left_in_the_keyring() {
    let server = Server::start();
    let service = server.service("Example Mail");
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    let vault = Vault::create(&dir, Destination::Keyring).unwrap();
    let link = service.create_pairing("alice").await.unwrap().link;
    let record = device(&dir, &vault).pair(&link, "Test desktop").await.unwrap();
    // Moved without the device's keys, as before they followed the vault: the file lacks them.
    let destination = Destination::File { passphrase: passphrase(), cost: CHEAP };
    vault.move_keystore(destination, &[]).unwrap();
    let vault = reopen(&dir);
    let in_file = device(&dir, &vault);
    let missing = in_file.offline_code(record.id).await.unwrap_err();
    assert!(matches!(missing, DeviceError::MissingKey { .. }), "{missing}");

    assert_eq!(take_in_keyring_keys(&in_file), 1);
    assert!(OsKeystore::device_keys().load(record.id).unwrap().is_none(), "a copy stayed");
    offline_code_accepted(device(&dir, &vault), &service, &record, 0).await;
    assert_eq!(take_in_keyring_keys(&in_file), 0, "taken in twice");
}
