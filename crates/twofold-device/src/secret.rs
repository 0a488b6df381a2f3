//! A paired server's device secret in the keyring: the Ed25519 key seed (32 bytes) followed by the
//! offline-code seed the server gave at pairing. One entry per paired server, under the keyring's
//! trusted-device service, so nothing secret is ever written to a file.

use twofold_core::Secret;
use twofold_core::keystore::{Keystore, KeystoreError};
use twofold_protocol::KeyPair;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::device::DeviceError;

const KEY_SEED_LEN: usize = 32;

/// A device key and its offline-code seed, loaded into memory to sign; zeroized on drop.
pub(crate) struct DeviceSecret {
    /// The device's Ed25519 key pair (zeroizes itself).
    pub(crate) key: KeyPair,
    /// The offline-code seed; empty until pairing completes.
    pub(crate) offline_seed: Zeroizing<Vec<u8>>,
}

impl DeviceSecret {
    fn to_secret(&self) -> Secret {
        let mut bytes = Vec::with_capacity(KEY_SEED_LEN + self.offline_seed.len());
        bytes.extend_from_slice(self.key.seed().as_ref());
        bytes.extend_from_slice(&self.offline_seed);
        Secret::new(bytes)
    }

    fn from_secret(secret: &Secret) -> Option<Self> {
        let bytes = secret.expose();
        let seed: Zeroizing<[u8; KEY_SEED_LEN]> =
            Zeroizing::new(bytes.get(..KEY_SEED_LEN)?.try_into().ok()?);
        Some(Self {
            key: KeyPair::from_seed(&seed),
            offline_seed: Zeroizing::new(bytes.get(KEY_SEED_LEN..)?.to_vec()),
        })
    }
}

/// Stores (or replaces) the secret of paired server `server`; `label` names it in keyring browsers.
pub(crate) fn store<K: Keystore>(
    keystore: &K,
    server: Uuid,
    label: &str,
    secret: &DeviceSecret,
) -> Result<(), DeviceError> {
    // Device keys belong to no vault: the nil id keeps them out of every vault's listing.
    Ok(keystore.store(server, Uuid::nil(), label, &secret.to_secret())?)
}

/// The secret of paired server `server`.
pub(crate) fn load<K: Keystore>(keystore: &K, server: Uuid) -> Result<DeviceSecret, DeviceError> {
    let secret = match keystore.load(server) {
        Ok(Some(secret)) => secret,
        Ok(None) => return Err(DeviceError::MissingKey { server }),
        // The keystore words this for accounts; say which pairing it is.
        Err(KeystoreError::Damaged { .. }) => return Err(DeviceError::DamagedKey { server }),
        Err(error) => return Err(error.into()),
    };
    DeviceSecret::from_secret(&secret).ok_or(DeviceError::DamagedKey { server })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_secret_round_trips_and_short_entries_are_refused() {
        let secret = DeviceSecret {
            key: KeyPair::from_seed(&[5; 32]),
            offline_seed: Zeroizing::new(vec![7; 20]),
        };
        let back = DeviceSecret::from_secret(&secret.to_secret()).unwrap();
        assert_eq!(back.key.public(), secret.key.public());
        assert_eq!(*back.offline_seed, vec![7; 20]);
        assert!(DeviceSecret::from_secret(&Secret::new(vec![1; 31])).is_none());
    }
}
