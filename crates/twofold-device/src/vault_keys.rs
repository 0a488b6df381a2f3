//! The device's keys follow the vault's keystore: a move takes them along with the account
//! secrets (what `twofold keystore move` and the app's Settings both call), and a vault whose
//! secrets are in its file takes in the keys an earlier pairing left in the system keyring.

use twofold_core::keystore::{Keystore, KeystoreError, OsKeystore, VaultKeystore};
use twofold_core::vault::{Destination, Moved, Vault, VaultError};

use crate::DIR_IN_DATA;
use crate::device::{Device, DeviceError};

/// Why a move did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MoveError {
    /// The vault refused or failed (nothing moved).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The device's list of paired servers could not be read (nothing moved).
    #[error(transparent)]
    Device(#[from] DeviceError),
}

/// Moves every secret of `vault` and the keys of every server its device is paired with to
/// `destination`, all or nothing; returns the keystore to reopen the vault over.
pub fn move_with_device_keys(
    vault: &Vault<VaultKeystore>,
    destination: Destination,
) -> Result<(VaultKeystore, Moved), MoveError> {
    if vault.keystore().kind() == destination.kind() {
        return Err(VaultError::SameKeystore { kind: destination.kind() }.into());
    }
    let device = Device::open(vault.dir().join(DIR_IN_DATA), vault.keystore().device_keys())?;
    let device_keys = device.key_entries()?;
    Ok(vault.move_keystore(destination, &device_keys)?)
}

/// Copies into `device`'s keystore the key of each paired server that it lacks and `keyring`
/// holds, then deletes the keyring's copy; returns how many were taken in. For a file vault
/// paired before its keys followed it.
pub fn take_in_keys<K: Keystore + Send + Sync + 'static>(
    device: &Device<K>,
    keyring: &impl Keystore,
) -> Result<usize, DeviceError> {
    let mut taken = 0;
    for entry in device.key_entries()? {
        if device.keystore.load(entry.id)?.is_some() {
            continue;
        }
        let Some(secret) = keyring.load(entry.id)? else { continue };
        device.keystore.store(entry.id, uuid::Uuid::nil(), &entry.label, &secret)?;
        if let Err(err) = keyring.delete(entry.id) {
            tracing::warn!(server = %entry.id, error = %err, "a device key stays in the keyring too");
        }
        taken += 1;
    }
    Ok(taken)
}

/// [`take_in_keys`] from the system keyring for the device of a vault whose secrets are in its
/// file; a keyring that is missing or locked has nothing to give, and that is no error.
pub fn take_in_keyring_keys<K: Keystore + Send + Sync + 'static>(device: &Device<K>) -> usize {
    match take_in_keys(device, &OsKeystore::device_keys()) {
        Ok(taken) => {
            if taken > 0 {
                tracing::info!(taken, "device keys taken in from the system keyring");
            }
            taken
        }
        Err(DeviceError::Keystore(KeystoreError::Unavailable { .. })) => 0,
        Err(err) => {
            tracing::warn!(error = %err, "device keys left in the system keyring");
            0
        }
    }
}
