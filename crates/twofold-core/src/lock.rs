//! The app lock's passphrase: an Argon2id hash (PHC string, the crate's default cost) kept in the
//! keyring beside the vault's secrets, never the passphrase itself.
//!
//! The entry is filed under its own identity, derived from the vault's, so it is one entry per
//! vault and never shows among the vault's account secrets (`Keystore::ids`), which `check` would
//! otherwise report as an orphan.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::Secret;
use crate::keystore::{Keystore, KeystoreError};

/// What the lock's entry is called in keystores.
pub(crate) const LABEL: &str = "app lock (passphrase hash)";

/// The keystore id of `vault`'s lock entry (also the vault it is filed under).
pub(crate) fn entry_id(vault: Uuid) -> Uuid {
    Uuid::new_v5(&vault, b"twofold app lock")
}

/// Fewest characters a passphrase may have: a lock anyone can guess in a few tries protects nothing.
pub const MIN_PASSPHRASE_CHARS: usize = 4;

/// Why the lock could not be set, removed or checked. Never carries the passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The new passphrase is too short.
    #[error("the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")]
    TooShort,
    /// The keyring failed.
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// The keyring holds something that is not a passphrase hash.
    #[error(
        "the app lock's keyring entry is damaged; remove it in the keyring manager to reset the lock"
    )]
    Damaged,
    /// Hashing failed (the random salt could not be drawn).
    #[error("cannot hash the passphrase: {reason}")]
    Hashing {
        /// What failed.
        reason: String,
    },
}

/// The lock passphrase of one vault, over a keystore.
#[derive(Debug)]
pub struct AppLock<'k, K: Keystore + ?Sized> {
    keystore: &'k K,
    id: Uuid,
}

impl<'k, K: Keystore + ?Sized> AppLock<'k, K> {
    /// The lock of the vault `vault` (its id), kept in `keystore`.
    pub fn new(keystore: &'k K, vault: Uuid) -> Self {
        Self { keystore, id: entry_id(vault) }
    }

    /// Whether a passphrase is set.
    pub fn is_set(&self) -> Result<bool, LockError> {
        Ok(self.keystore.load(self.id)?.is_some())
    }

    /// Sets (or replaces) the passphrase.
    pub fn set(&self, passphrase: &str) -> Result<(), LockError> {
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(LockError::TooShort);
        }
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| LockError::Hashing { reason: e.to_string() })?;
        let hash = Argon2::default()
            .hash_password_with_salt(passphrase.as_bytes(), &salt)
            .map_err(|e| LockError::Hashing { reason: e.to_string() })?;
        let hash = Secret::new(hash.to_string().into_bytes());
        Ok(self.keystore.store(self.id, self.id, LABEL, &hash)?)
    }

    /// Removes the passphrase: the app no longer locks.
    pub fn remove(&self) -> Result<(), LockError> {
        Ok(self.keystore.delete(self.id)?)
    }

    /// Whether `passphrase` is the one set; `false` too when none is set.
    pub fn verify(&self, passphrase: &str) -> Result<bool, LockError> {
        let Some(hash) = self.keystore.load(self.id)? else { return Ok(false) };
        let hash = Zeroizing::new(
            String::from_utf8(hash.expose().to_vec()).map_err(|_| LockError::Damaged)?,
        );
        let parsed = argon2::password_hash::phc::PasswordHash::new(hash.as_str())
            .map_err(|_| LockError::Damaged)?;
        // The cost is read from the stored hash, so raising the default later keeps old ones valid.
        Ok(Argon2::default().verify_password(passphrase.as_bytes(), &parsed).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::MemoryKeystore;

    #[test]
    fn a_set_passphrase_verifies_and_another_does_not() {
        let keystore = MemoryKeystore::default();
        let vault = Uuid::new_v4();
        let lock = AppLock::new(&keystore, vault);
        assert!(!lock.is_set().unwrap());
        assert!(!lock.verify("anything").unwrap());
        lock.set("correct horse").unwrap();
        assert!(lock.is_set().unwrap());
        assert!(lock.verify("correct horse").unwrap());
        assert!(!lock.verify("correct hors").unwrap());
        assert!(!lock.verify("").unwrap());
    }

    #[test]
    fn the_keyring_holds_an_argon2id_hash_outside_the_vaults_ids() {
        let keystore = MemoryKeystore::default();
        let vault = Uuid::new_v4();
        let lock = AppLock::new(&keystore, vault);
        lock.set("correct horse").unwrap();
        assert_eq!(keystore.ids(vault).unwrap(), Some(vec![]));
        let stored = keystore.load(lock.id).unwrap().unwrap();
        let text = std::str::from_utf8(stored.expose()).unwrap();
        assert!(text.starts_with("$argon2id$v=19$"), "{text}");
        assert!(!text.contains("correct horse"));
        // Each vault has its own lock.
        assert!(!AppLock::new(&keystore, Uuid::new_v4()).is_set().unwrap());
    }

    #[test]
    fn replacing_and_removing_the_passphrase() {
        let keystore = MemoryKeystore::default();
        let lock = AppLock::new(&keystore, Uuid::new_v4());
        lock.set("first one").unwrap();
        lock.set("second one").unwrap();
        assert!(!lock.verify("first one").unwrap());
        assert!(lock.verify("second one").unwrap());
        lock.remove().unwrap();
        assert!(!lock.is_set().unwrap());
        assert!(!lock.verify("second one").unwrap());
    }

    #[test]
    fn short_passphrases_and_damaged_entries_are_refused_with_a_reason() {
        let keystore = MemoryKeystore::default();
        let lock = AppLock::new(&keystore, Uuid::new_v4());
        assert_eq!(lock.set("abc"), Err(LockError::TooShort));
        assert!(!lock.is_set().unwrap());
        keystore.store(lock.id, lock.id, "x", &Secret::new(b"not a hash".to_vec())).unwrap();
        assert_eq!(lock.verify("whatever"), Err(LockError::Damaged));
    }
}
