//! The vault over the keystore it chose ([`KeystoreKind`]): opening it, choosing for a new vault,
//! and moving every secret (account secrets, the app lock's hash, the automatic backup's
//! passphrase, the trusted device's keys) from one keystore to the other, all or nothing.
//!
//! A move writes every secret into the destination first, then records the new choice (one atomic
//! file replace: the switch), then clears the source. Killed before the switch, the vault still
//! uses the source, which still holds everything; killed after it, the destination holds
//! everything and the source keeps copies that the next move overwrites.

use std::path::PathBuf;

use uuid::Uuid;

use super::{Vault, VaultError};
use crate::Account;
use crate::backup::auto;
use crate::import::Password;
use crate::keystore::file::FileEntry;
use crate::keystore::{
    DEVICE_KEY_SERVICE, FileKeystore, Keystore, KeystoreKind, OsKeystore, SERVICE, VaultKeystore,
};
use crate::lock;
use crate::seal::KdfCost;

/// A trusted-device key to move with the vault: the paired server's id and its entry's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceKeyEntry {
    /// The pairing's id (its keystore entry).
    pub id: Uuid,
    /// What the entry is called in keystores.
    pub label: String,
}

/// Where a move takes the secrets.
#[derive(Debug)]
pub enum Destination {
    /// Into the OS keyring.
    Keyring,
    /// Into a new secrets file sealed with this passphrase at this cost.
    File {
        /// The file's passphrase.
        passphrase: Password,
        /// Its Argon2id cost.
        cost: KdfCost,
    },
}

impl Destination {
    /// The keystore this destination is.
    pub fn kind(&self) -> KeystoreKind {
        match self {
            Destination::Keyring => KeystoreKind::Keyring,
            Destination::File { .. } => KeystoreKind::File,
        }
    }
}

/// What a move did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    /// Account secrets moved (orphans included).
    pub accounts: usize,
    /// Trusted-device keys moved.
    pub device_keys: usize,
    /// The app lock's hash and the automatic backup passphrase, where set.
    pub others: usize,
    /// Accounts whose secret was already missing (by label): they stay broken.
    pub missing: Vec<String>,
    /// Copies the source kept because deleting them failed (the destination has them all).
    pub left_behind: usize,
}

impl Vault<VaultKeystore> {
    /// Opens the vault in `dir` over the keystore it chose. `passphrase` is called only when that
    /// is the secrets file.
    pub fn open_chosen<E: From<VaultError>>(
        dir: impl Into<PathBuf>,
        passphrase: impl FnOnce() -> Result<Password, E>,
    ) -> Result<Self, E> {
        let dir = dir.into();
        let keystore = match KeystoreKind::of(&dir)? {
            KeystoreKind::Keyring => VaultKeystore::Keyring(OsKeystore::default()),
            KeystoreKind::File => {
                let passphrase = passphrase()?;
                VaultKeystore::File(
                    FileKeystore::unlock(&dir, &passphrase).map_err(VaultError::from)?,
                )
            }
        };
        Ok(Self::open(dir, keystore)?)
    }

    /// Creates the vault in `dir` with its secrets in `destination`: only for a vault that has
    /// no account and no chosen keystore yet.
    pub fn create(dir: impl Into<PathBuf>, destination: Destination) -> Result<Self, VaultError> {
        let dir = dir.into();
        if dir.join(crate::keystore::choice::KIND_FILE).exists() {
            return Err(VaultError::SameKeystore { kind: KeystoreKind::of(&dir)? });
        }
        let plain = Vault::open(&dir, OsKeystore::default())?;
        let _lock = plain.lock()?;
        if !plain.read()?.is_empty() {
            return Err(VaultError::NotNew);
        }
        let keystore = match destination {
            Destination::Keyring => VaultKeystore::Keyring(OsKeystore::default()),
            Destination::File { passphrase, cost } => {
                VaultKeystore::File(FileKeystore::create(&dir, &passphrase, cost, Vec::new())?)
            }
        };
        keystore.kind().record(&dir)?;
        let id = plain.id;
        Ok(Vault { dir: plain.dir.clone(), metadata: plain.metadata.clone(), id, keystore })
    }

    /// Moves every secret of this vault, and the given trusted-device keys, to `destination`, all
    /// or nothing, and returns the keystore to reopen the vault over.
    pub fn move_keystore(
        &self,
        destination: Destination,
        device_keys: &[DeviceKeyEntry],
    ) -> Result<(VaultKeystore, Moved), VaultError> {
        // No account comes or goes meanwhile: adds store their secret under this lock.
        let _lock = self.lock()?;
        let mut moved = Moved::default();
        let entries = self.gather(device_keys, &mut moved)?;
        let kind = self.keystore.kind();
        match destination {
            Destination::File { .. } if kind == KeystoreKind::File => {
                Err(VaultError::SameKeystore { kind })
            }
            Destination::Keyring if kind == KeystoreKind::Keyring => {
                Err(VaultError::SameKeystore { kind })
            }
            Destination::File { passphrase, cost } => {
                let file = FileKeystore::create(&self.dir, &passphrase, cost, entries.clone())?;
                KeystoreKind::File.record(&self.dir)?;
                for entry in &entries {
                    let delete = || keyring_view(&entry.service).delete(entry.id);
                    // Once more on failure: a keyring daemon that died under the move is started
                    // again by the next call (D-Bus activation), and a copy left behind is a
                    // secret where the user no longer expects one.
                    if let Err(err) = delete().or_else(|_| delete()) {
                        tracing::warn!(id = %entry.id, error = %err, "a moved secret stays in the keyring");
                        moved.left_behind += 1;
                    }
                }
                tracing::info!(secrets = entries.len(), "secrets moved into the secrets file");
                Ok((VaultKeystore::File(file), moved))
            }
            Destination::Keyring => {
                for (done, entry) in entries.iter().enumerate() {
                    let stored = keyring_view(&entry.service).store(
                        entry.id,
                        entry.vault,
                        &entry.label,
                        &entry.secret,
                    );
                    if let Err(err) = stored {
                        // Take back what was written: the vault stays wholly in its file.
                        for written in &entries[..done] {
                            let _ = keyring_view(&written.service).delete(written.id);
                        }
                        return Err(err.into());
                    }
                }
                KeystoreKind::Keyring.record(&self.dir)?;
                let path = crate::keystore::file::path_in(&self.dir);
                if let Err(err) = std::fs::remove_file(&path) {
                    tracing::warn!(path = %path.display(), error = %err, "the old secrets file stays");
                    moved.left_behind += entries.len();
                }
                tracing::info!(secrets = entries.len(), "secrets moved into the keyring");
                Ok((VaultKeystore::Keyring(OsKeystore::default()), moved))
            }
        }
    }

    /// Every secret the vault has in its keystore now, counted into `moved`. Call with the lock.
    fn gather(
        &self,
        device_keys: &[DeviceKeyEntry],
        moved: &mut Moved,
    ) -> Result<Vec<FileEntry>, VaultError> {
        let file = self.read_file()?;
        // Trashed accounts keep their secrets until purged: they move with the others.
        let accounts: Vec<&Account> =
            file.accounts.iter().chain(file.trash.iter().map(|t| &t.account)).collect();
        let mut entries = Vec::new();
        let mut take = |service: &str, id: Uuid, vault: Uuid, label: String| {
            let view = match service {
                DEVICE_KEY_SERVICE => self.keystore.device_keys(),
                _ => self.keystore.clone(),
            };
            Ok::<_, VaultError>(view.load(id)?.map(|secret| {
                entries.push(FileEntry { service: service.to_owned(), id, vault, label, secret })
            }))
        };
        for account in &accounts {
            match take(SERVICE, account.id, self.id, account.label())? {
                Some(()) => moved.accounts += 1,
                None => moved.missing.push(account.label()),
            }
        }
        // Secrets no account names (an interrupted add) move too: a move loses nothing.
        let known: std::collections::HashSet<Uuid> = accounts.iter().map(|a| a.id).collect();
        for id in self.keystore.ids(self.id)?.unwrap_or_default() {
            if !known.contains(&id) && take(SERVICE, id, self.id, format!("orphan {id}"))?.is_some()
            {
                moved.accounts += 1;
            }
        }
        let lock_id = lock::entry_id(self.id);
        let backup_id = auto::passphrase_id(self.id);
        for (id, label) in [(lock_id, lock::LABEL), (backup_id, auto::PASSPHRASE_LABEL)] {
            if take(SERVICE, id, id, label.to_owned())?.is_some() {
                moved.others += 1;
            }
        }
        for key in device_keys {
            if take(DEVICE_KEY_SERVICE, key.id, Uuid::nil(), key.label.clone())?.is_some() {
                moved.device_keys += 1;
            }
        }
        Ok(entries)
    }
}

/// The keyring's view holding entries of `service`.
fn keyring_view(service: &str) -> OsKeystore {
    match service {
        DEVICE_KEY_SERVICE => OsKeystore::device_keys(),
        _ => OsKeystore::default(),
    }
}
