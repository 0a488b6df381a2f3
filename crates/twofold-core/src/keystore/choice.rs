//! Which keystore a vault keeps its secrets in: a property of the vault, chosen when it is created
//! and changed only by moving every secret ([`crate::vault::Vault::move_keystore`]). It is written
//! in the file `keystore` of the data directory (`keyring` or `file`); a vault without that file
//! predates the choice and uses the keyring.

use std::fs;
use std::io;
use std::path::Path;

use uuid::Uuid;

use super::{FileKeystore, Keystore, KeystoreError, OsKeystore};
use crate::Secret;
use crate::vault::{VaultError, replace_file};

/// Name of the file naming a vault's keystore.
pub const KIND_FILE: &str = "keystore";

/// The two places a vault's secrets can live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeystoreKind {
    /// The OS keyring (Secret Service on Linux).
    Keyring,
    /// One encrypted file in the data directory, opened with a passphrase.
    File,
}

impl KeystoreKind {
    /// The word in the `keystore` file and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            KeystoreKind::Keyring => "keyring",
            KeystoreKind::File => "file",
        }
    }

    /// The keystore of the vault in `dir` (the keyring when none was chosen).
    pub fn of(dir: &Path) -> Result<Self, VaultError> {
        let path = dir.join(KIND_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => match text.trim() {
                "keyring" => Ok(KeystoreKind::Keyring),
                "file" => Ok(KeystoreKind::File),
                other => Err(VaultError::Damaged {
                    reason: format!("it names the keystore {other:?}; write keyring or file"),
                    path,
                }),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(KeystoreKind::Keyring),
            Err(source) => Err(VaultError::Io { action: "read", path, source }),
        }
    }

    /// Records this as the keystore of the vault in `dir` (atomically: the switch of a move).
    pub(crate) fn record(self, dir: &Path) -> Result<(), VaultError> {
        let path = dir.join(KIND_FILE);
        replace_file(dir, &path, format!("{}\n", self.as_str()).as_bytes())
            .map_err(|source| VaultError::Io { action: "write", path, source })
    }
}

impl std::fmt::Display for KeystoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeystoreKind::Keyring => "the system keyring",
            KeystoreKind::File => "the encrypted secrets file",
        })
    }
}

/// The keystore a vault chose, opened: what the app and the CLI use.
#[derive(Debug, Clone)]
pub enum VaultKeystore {
    /// The OS keyring.
    Keyring(OsKeystore),
    /// The secrets file, unlocked.
    File(FileKeystore),
}

impl VaultKeystore {
    /// Which of the two this is.
    pub fn kind(&self) -> KeystoreKind {
        match self {
            VaultKeystore::Keyring(_) => KeystoreKind::Keyring,
            VaultKeystore::File(_) => KeystoreKind::File,
        }
    }

    /// The same place's trusted-device keys: the device's keys follow the vault's keystore.
    pub fn device_keys(&self) -> Self {
        match self {
            VaultKeystore::Keyring(_) => VaultKeystore::Keyring(OsKeystore::device_keys()),
            VaultKeystore::File(file) => VaultKeystore::File(file.device_keys()),
        }
    }
}

impl Keystore for VaultKeystore {
    fn store(
        &self,
        id: Uuid,
        vault: Uuid,
        label: &str,
        secret: &Secret,
    ) -> Result<(), KeystoreError> {
        match self {
            VaultKeystore::Keyring(k) => k.store(id, vault, label, secret),
            VaultKeystore::File(k) => k.store(id, vault, label, secret),
        }
    }

    fn load(&self, id: Uuid) -> Result<Option<Secret>, KeystoreError> {
        match self {
            VaultKeystore::Keyring(k) => k.load(id),
            VaultKeystore::File(k) => k.load(id),
        }
    }

    fn load_many(&self, ids: &[Uuid]) -> Vec<Result<Option<Secret>, KeystoreError>> {
        match self {
            VaultKeystore::Keyring(k) => k.load_many(ids),
            VaultKeystore::File(k) => k.load_many(ids),
        }
    }

    fn delete(&self, id: Uuid) -> Result<(), KeystoreError> {
        match self {
            VaultKeystore::Keyring(k) => k.delete(id),
            VaultKeystore::File(k) => k.delete(id),
        }
    }

    fn ids(&self, vault: Uuid) -> Result<Option<Vec<Uuid>>, KeystoreError> {
        match self {
            VaultKeystore::Keyring(k) => k.ids(vault),
            VaultKeystore::File(k) => k.ids(vault),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_defaults_to_the_keyring_and_a_strange_one_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(KeystoreKind::of(dir.path()).unwrap(), KeystoreKind::Keyring);
        KeystoreKind::File.record(dir.path()).unwrap();
        assert_eq!(KeystoreKind::of(dir.path()).unwrap(), KeystoreKind::File);
        fs::write(dir.path().join(KIND_FILE), "vault\n").unwrap();
        let err = KeystoreKind::of(dir.path()).unwrap_err();
        assert!(err.to_string().contains("names the keystore \"vault\""), "{err}");
    }
}
