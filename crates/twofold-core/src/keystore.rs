//! Where secrets live: the OS keyring (Secret Service, Keychain, Credential Manager) through the
//! `keyring` crate, one entry per account keyed by the account's UUID, or one encrypted file in the
//! data directory ([`file`]). Which of the two a vault uses is its own property ([`choice`]).

use uuid::Uuid;

use crate::Secret;

pub mod choice;
pub mod file;

pub use choice::{KeystoreKind, VaultKeystore};
pub use file::FileKeystore;

/// The keyring service name under which Twofold stores account secrets.
pub const SERVICE: &str = "twofold";
/// The keyring service name of trusted-device keys (one entry per paired approval server), kept
/// apart from account secrets so account listings and `twofold check` never see them.
pub const DEVICE_KEY_SERVICE: &str = "twofold-device";
/// How long an unlock prompt of the Secret Service is waited for.
pub const UNLOCK_PROMPT_SECONDS: u64 = 120;
/// The keyring attribute naming the vault an entry belongs to.
pub const VAULT_ATTRIBUTE: &str = "twofold-vault";

/// Why the keystore could not do what was asked. Never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// The keyring cannot be reached or is locked.
    #[error(
        "the system keyring is not available ({reason}); start and unlock a Secret Service \
         such as GNOME Keyring, KeePassXC or KWallet, or keep the secrets in an encrypted file \
         instead (twofold keystore --help)"
    )]
    Unavailable {
        /// What the platform said.
        reason: String,
    },
    /// The keyring answered with an error.
    #[error("the system keyring failed: {reason}")]
    Failure {
        /// What the platform said.
        reason: String,
    },
    /// An entry exists but does not hold a secret ([`Secret::to_stored`]'s form).
    #[error("the keyring entry of account {id} does not hold a valid secret")]
    Damaged {
        /// The account whose entry is damaged.
        id: Uuid,
    },
    /// The passphrase does not open the secrets file.
    #[error("wrong passphrase: it does not open the secrets file")]
    WrongPassphrase,
    /// An empty passphrase was given for a new secrets file.
    #[error("the passphrase is empty: choose one to protect the secrets file")]
    EmptyPassphrase,
    /// The secrets file cannot be read or written, or is damaged.
    #[error("{reason}")]
    File {
        /// What is wrong and what to do, in words (names the file).
        reason: String,
    },
}

/// Storage for account secrets, keyed by account id.
pub trait Keystore {
    /// Stores (or replaces) the secret of `id` for the vault `vault`; `label` names the entry for
    /// keyring browsers.
    fn store(
        &self,
        id: Uuid,
        vault: Uuid,
        label: &str,
        secret: &Secret,
    ) -> Result<(), KeystoreError>;
    /// The secret of `id`, or `None` when there is no entry.
    fn load(&self, id: Uuid) -> Result<Option<Secret>, KeystoreError>;
    /// The secrets of `ids`, each as [`Keystore::load`] gives it: a keystore with a cheaper way
    /// to read many at once (the OS keyring: one session for all) says so here.
    fn load_many(&self, ids: &[Uuid]) -> Vec<Result<Option<Secret>, KeystoreError>> {
        ids.iter().map(|id| self.load(*id)).collect()
    }
    /// Deletes the secret of `id`; deleting a missing entry is not an error.
    fn delete(&self, id: Uuid) -> Result<(), KeystoreError>;
    /// Every id with an entry stored for `vault` (several vaults can share one keyring), or `None`
    /// when the platform cannot enumerate entries.
    fn ids(&self, vault: Uuid) -> Result<Option<Vec<Uuid>>, KeystoreError>;
}

/// A shared keystore is a keystore: a test can keep a handle on the one a vault or app uses.
impl<K: Keystore + ?Sized> Keystore for std::sync::Arc<K> {
    fn store(
        &self,
        id: Uuid,
        vault: Uuid,
        label: &str,
        secret: &Secret,
    ) -> Result<(), KeystoreError> {
        (**self).store(id, vault, label, secret)
    }

    fn load(&self, id: Uuid) -> Result<Option<Secret>, KeystoreError> {
        (**self).load(id)
    }

    fn load_many(&self, ids: &[Uuid]) -> Vec<Result<Option<Secret>, KeystoreError>> {
        (**self).load_many(ids)
    }

    fn delete(&self, id: Uuid) -> Result<(), KeystoreError> {
        (**self).delete(id)
    }

    fn ids(&self, vault: Uuid) -> Result<Option<Vec<Uuid>>, KeystoreError> {
        (**self).ids(vault)
    }
}

/// The OS keyring.
#[derive(Debug, Clone)]
pub struct OsKeystore {
    service: String,
}

impl Default for OsKeystore {
    fn default() -> Self {
        Self { service: SERVICE.to_owned() }
    }
}

impl OsKeystore {
    /// The OS keyring's trusted-device keys, under [`DEVICE_KEY_SERVICE`] rather than [`SERVICE`].
    pub fn device_keys() -> Self {
        Self { service: DEVICE_KEY_SERVICE.to_owned() }
    }

    fn entry(&self, id: Uuid) -> Result<keyring::Entry, KeystoreError> {
        keyring::Entry::new(&self.service, &id.hyphenated().to_string()).map_err(from_keyring)
    }

    /// The stored text of each of `ids` whose entry is unlocked and alone under its id, read in
    /// one Secret Service session. The keyring crate opens a session (with its key exchange) for
    /// every read: ≈ 6 ms each, 1.2 s for 200 accounts at the app's start.
    #[cfg(target_os = "linux")]
    fn unlocked_texts(
        &self,
        ids: &[Uuid],
    ) -> Result<
        std::collections::HashMap<Uuid, zeroize::Zeroizing<String>>,
        dbus_secret_service::Error,
    > {
        use std::collections::HashMap;

        use dbus_secret_service::{EncryptionType, SecretService};
        let service = SecretService::connect(EncryptionType::Dh)?;
        // The keyring crate's own search attributes, so the same entries are found.
        let query = HashMap::from([("service", self.service.as_str()), ("target", "default")]);
        let found = service.search_items(query)?;
        let wanted: std::collections::HashSet<&Uuid> = ids.iter().collect();
        let mut entries: HashMap<Uuid, usize> = HashMap::new();
        let mut texts = HashMap::new();
        for item in &found.unlocked {
            // An item deleted since the search is simply not read here (`load` decides).
            let Ok(attributes) = item.get_attributes() else { continue };
            let Some(id) = attributes.get("username").and_then(|u| Uuid::parse_str(u).ok()) else {
                continue;
            };
            if !wanted.contains(&id) {
                continue;
            }
            *entries.entry(id).or_default() += 1;
            let Ok(bytes) = item.get_secret().map(zeroize::Zeroizing::new) else { continue };
            if let Ok(text) = std::str::from_utf8(&bytes) {
                texts.insert(id, zeroize::Zeroizing::new(text.to_owned()));
            }
        }
        // Two entries under one id are the keyring crate's "ambiguous" error: `load` reports it.
        texts.retain(|id, _| entries.get(id) == Some(&1));
        Ok(texts)
    }
}

/// What the OS keyring can do now, found without prompting anyone: the cases the app's start
/// screen and the CLI's messages tell apart.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyringState {
    /// Reachable and unlocked.
    Ready,
    /// No Secret Service runs: no D-Bus session, or nothing on it provides
    /// `org.freedesktop.secrets`.
    Missing {
        /// What D-Bus said.
        reason: String,
    },
    /// A Secret Service runs, but its default keyring is locked (or not made yet: making it
    /// prompts, as unlocking does).
    Locked,
    /// It answered with another error.
    Failed {
        /// What the platform said.
        reason: String,
    },
}

impl KeyringState {
    /// The keyring's state now: one D-Bus connection and two property reads, never a prompt.
    #[cfg(target_os = "linux")]
    pub fn now() -> Self {
        use dbus_secret_service::{EncryptionType, Error, SecretService};
        // Only properties are read, never secrets, so no session encryption is needed.
        let service = match SecretService::connect(EncryptionType::Plain) {
            Ok(service) => service,
            Err(err) => return Self::of_error(&err),
        };
        match service.get_default_collection() {
            Ok(collection) => match collection.is_locked() {
                Ok(false) => Self::Ready,
                Ok(true) => Self::Locked,
                Err(err) => Self::of_error(&err),
            },
            // No default keyring yet: gnome-keyring prompts for a password to make one.
            Err(Error::NoResult) => Self::Locked,
            Err(err) => Self::of_error(&err),
        }
    }

    /// Elsewhere the platform's keystore is part of the system: it is assumed ready, and its
    /// errors say the rest.
    #[cfg(not(target_os = "linux"))]
    pub fn now() -> Self {
        Self::Ready
    }

    /// Asks the Secret Service to unlock its default keyring (it shows its unlock prompt, and is
    /// waited for up to [`UNLOCK_PROMPT_SECONDS`]), then says the state: the start screen's Retry.
    #[cfg(target_os = "linux")]
    pub fn after_unlock_prompt() -> Self {
        use dbus_secret_service::{EncryptionType, SecretService};
        let service = SecretService::connect_with_max_prompt_timeout(
            EncryptionType::Plain,
            UNLOCK_PROMPT_SECONDS,
        );
        if let Ok(collection) = service.as_ref().map(SecretService::get_default_collection)
            && let Ok(collection) = collection
            && let Err(err) = collection.ensure_unlocked()
        {
            // Dismissed, or no prompt could be shown: the state below says which.
            tracing::info!(error = %err, "the keyring was not unlocked");
        }
        Self::now()
    }

    /// Elsewhere there is nothing to unlock from here.
    #[cfg(not(target_os = "linux"))]
    pub fn after_unlock_prompt() -> Self {
        Self::now()
    }

    /// The state a Secret Service error shows.
    #[cfg(target_os = "linux")]
    fn of_error(err: &dbus_secret_service::Error) -> Self {
        use dbus_secret_service::Error;
        match err {
            Error::Locked | Error::Prompt | Error::NoResult => Self::Locked,
            Error::Unavailable => Self::Missing { reason: err.to_string() },
            Error::Dbus(dbus) if dbus.name() == Some("org.freedesktop.Secret.Error.IsLocked") => {
                Self::Locked
            }
            Error::Dbus(dbus) if dbus.name().is_some_and(means_no_secret_service) => {
                Self::Missing { reason: dbus.message().unwrap_or_default().to_owned() }
            }
            other => Self::Failed { reason: other.to_string() },
        }
    }
}

/// Whether a D-Bus error named `name` means there is no session bus or no Secret Service on it.
#[cfg(target_os = "linux")]
fn means_no_secret_service(name: &str) -> bool {
    const NAMES: [&str; 7] = [
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.NoServer",
        "org.freedesktop.DBus.Error.FileNotFound",
        "org.freedesktop.DBus.Error.NotSupported",
        "org.freedesktop.DBus.Error.BadAddress",
        "org.freedesktop.DBus.Error.Disconnected",
    ];
    NAMES.contains(&name) || name.starts_with("org.freedesktop.DBus.Error.Spawn.")
}

impl std::fmt::Display for KeyringState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ready => f.write_str("the system keyring is unlocked"),
            Self::Missing { reason } => write!(
                f,
                "no Secret Service runs here ({reason}): install and start one (GNOME Keyring, \
                 KeePassXC or KWallet's Secret Service), or keep the secrets in an encrypted file \
                 (twofold keystore init file, or twofold keystore move file)"
            ),
            Self::Locked => f.write_str(
                "the system keyring is locked: unlock it (log in to the desktop, or open Passwords \
                 and Keys) and try again",
            ),
            Self::Failed { reason } => write!(f, "the system keyring failed: {reason}"),
        }
    }
}

/// Maps a keyring error to ours without keeping it: `keyring::Error::BadEncoding` holds the stored
/// bytes, which could be a secret. A missing or locked Secret Service is `Unavailable`, whatever
/// kind of error the `keyring` crate filed it under.
fn from_keyring(err: keyring::Error) -> KeystoreError {
    match err {
        keyring::Error::NoStorageAccess(e) => KeystoreError::Unavailable {
            reason: unavailable(e.as_ref()).unwrap_or_else(|| e.to_string()),
        },
        keyring::Error::PlatformFailure(e) => match unavailable(e.as_ref()) {
            Some(reason) => KeystoreError::Unavailable { reason },
            None => KeystoreError::Failure { reason: e.to_string() },
        },
        keyring::Error::BadEncoding(_) => {
            KeystoreError::Failure { reason: "an entry is not valid UTF-8".to_owned() }
        }
        other => KeystoreError::Failure { reason: other.to_string() },
    }
}

/// What to say when `err` (a Secret Service error) means the keyring is missing or locked.
#[cfg(target_os = "linux")]
fn unavailable(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let err = err.downcast_ref::<dbus_secret_service::Error>()?;
    match KeyringState::of_error(err) {
        KeyringState::Missing { reason } => Some(format!("no Secret Service runs: {reason}")),
        KeyringState::Locked => Some("it is locked".to_owned()),
        _ => None,
    }
}

/// Runs a keyring call, and once more when what it reached went away under it: an entry deleted
/// between the keyring's search and its use by another process (the app's undo window closing
/// while the CLI reads), which the second search then does not find; or the Secret Service itself,
/// gone in the middle of the call (gnome-keyring-daemon aborts when a client leaves in the middle
/// of opening a session), which the session bus starts again for the second call.
fn once_more_if_gone<T>(call: impl Fn() -> keyring::Result<T>) -> keyring::Result<T> {
    match call() {
        Err(err) if gone(&err) => {
            std::thread::sleep(std::time::Duration::from_millis(100));
            call()
        }
        other => other,
    }
}

/// Whether `err` says the item or the service a call reached was gone when it answered.
#[cfg(target_os = "linux")]
fn gone(err: &keyring::Error) -> bool {
    let keyring::Error::PlatformFailure(err) = err else { return false };
    matches!(
        err.downcast_ref::<dbus_secret_service::Error>(),
        Some(dbus_secret_service::Error::Dbus(dbus)) if matches!(
            dbus.name(),
            Some(
                "org.freedesktop.DBus.Error.UnknownMethod"
                    | "org.freedesktop.DBus.Error.UnknownObject"
                    | "org.freedesktop.DBus.Error.NoReply"
                    | "org.freedesktop.Secret.Error.NoSession"
            )
        )
    )
}

#[cfg(not(target_os = "linux"))]
fn gone(_err: &keyring::Error) -> bool {
    false
}

#[cfg(not(target_os = "linux"))]
fn unavailable(_err: &(dyn std::error::Error + 'static)) -> Option<String> {
    None
}

impl Keystore for OsKeystore {
    fn store(
        &self,
        id: Uuid,
        vault: Uuid,
        label: &str,
        secret: &Secret,
    ) -> Result<(), KeystoreError> {
        let entry = self.entry(id)?;
        let stored = secret.to_stored();
        once_more_if_gone(|| entry.set_password(&stored)).map_err(from_keyring)?;
        // A readable label for Seahorse and friends (the default names only the UUID), and the
        // vault the entry belongs to, which `ids` filters on.
        let label = format!("Twofold: {label}");
        let vault = vault.hyphenated().to_string();
        let attributes = std::collections::HashMap::from([
            ("label", label.as_str()),
            (VAULT_ATTRIBUTE, vault.as_str()),
        ]);
        if let Err(err) = once_more_if_gone(|| entry.update_attributes(&attributes)) {
            let _ = entry.delete_credential();
            return Err(from_keyring(err));
        }
        Ok(())
    }

    fn load(&self, id: Uuid) -> Result<Option<Secret>, KeystoreError> {
        let entry = self.entry(id)?;
        match once_more_if_gone(|| entry.get_password()) {
            Ok(text) => {
                let text = zeroize::Zeroizing::new(text);
                Secret::from_stored(&text).map(Some).map_err(|_| KeystoreError::Damaged { id })
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(from_keyring(err)),
        }
    }

    #[cfg(target_os = "linux")]
    fn load_many(&self, ids: &[Uuid]) -> Vec<Result<Option<Secret>, KeystoreError>> {
        // What one session could not read (locked, ambiguous, gone, or no session at all) is
        // read one at a time, so each gets exactly the answer `load` gives.
        let mut texts = self.unlocked_texts(ids).unwrap_or_default();
        ids.iter()
            .map(|id| match texts.remove(id) {
                Some(text) => Secret::from_stored(&text)
                    .map(Some)
                    .map_err(|_| KeystoreError::Damaged { id: *id }),
                None => self.load(*id),
            })
            .collect()
    }

    fn delete(&self, id: Uuid) -> Result<(), KeystoreError> {
        let entry = self.entry(id)?;
        match once_more_if_gone(|| entry.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(from_keyring(err)),
        }
    }

    #[cfg(target_os = "linux")]
    fn ids(&self, vault: Uuid) -> Result<Option<Vec<Uuid>>, KeystoreError> {
        use dbus_secret_service::{EncryptionType, SecretService};
        let not_there = |e: dbus_secret_service::Error| KeystoreError::Unavailable {
            reason: unavailable(&e).unwrap_or_else(|| e.to_string()),
        };
        // Only attributes are read, never secrets, so no session encryption is needed.
        let service = SecretService::connect(EncryptionType::Plain).map_err(not_there)?;
        let vault = vault.hyphenated().to_string();
        let query = std::collections::HashMap::from([
            ("service", self.service.as_str()),
            (VAULT_ATTRIBUTE, vault.as_str()),
        ]);
        let found = service.search_items(query).map_err(not_there)?;
        let mut ids = Vec::new();
        for item in found.unlocked.iter().chain(found.locked.iter()) {
            // An item deleted between the search and this read (another process removing an
            // account) is simply not there any more.
            let Ok(attributes) = item.get_attributes() else { continue };
            if let Some(id) = attributes.get("username").and_then(|u| Uuid::parse_str(u).ok()) {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(Some(ids))
    }

    #[cfg(not(target_os = "linux"))]
    fn ids(&self, _vault: Uuid) -> Result<Option<Vec<Uuid>>, KeystoreError> {
        Ok(None)
    }
}

/// A keystore in memory, for tests of code above the keystore (never used by the app or CLI; the
/// `memory-keystore` feature lets other crates' tests use it).
#[cfg(any(test, feature = "memory-keystore"))]
#[derive(Debug, Default)]
pub struct MemoryKeystore {
    entries: std::sync::Mutex<std::collections::BTreeMap<Uuid, (Uuid, Secret)>>,
    loads: std::sync::atomic::AtomicUsize,
    fail_next_store: std::sync::atomic::AtomicBool,
    unavailable: std::sync::atomic::AtomicBool,
}

#[cfg(any(test, feature = "memory-keystore"))]
impl MemoryKeystore {
    /// Makes the next `store` fail, standing in for a keyring that errors mid-write (a fault that
    /// cannot be produced on demand with a real daemon).
    pub fn fail_next_store(&self) {
        self.fail_next_store.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Makes every call fail as a keyring that stopped answering does (`Unavailable`) until set
    /// back: the app's start over a keyring that cannot say whether a lock is set.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, std::sync::atomic::Ordering::SeqCst);
    }

    fn check_available(&self) -> Result<(), KeystoreError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(KeystoreError::Unavailable { reason: "injected: no answer".to_owned() });
        }
        Ok(())
    }

    /// How many times a secret was read: what a cache above the keystore saves.
    pub fn loads(&self) -> usize {
        self.loads.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Number of entries, of every vault.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether there is no entry at all.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// Drops an entry behind the vault's back, as a user clearing it in a keyring browser would.
    pub fn forget(&self, id: Uuid) {
        self.entries().remove(&id);
    }

    fn entries(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<Uuid, (Uuid, Secret)>> {
        // A test that panicked while holding the lock already failed; its data is still usable.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(any(test, feature = "memory-keystore"))]
impl Keystore for MemoryKeystore {
    fn store(
        &self,
        id: Uuid,
        vault: Uuid,
        _label: &str,
        secret: &Secret,
    ) -> Result<(), KeystoreError> {
        self.check_available()?;
        if self.fail_next_store.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(KeystoreError::Failure { reason: "injected fault".to_owned() });
        }
        self.entries().insert(id, (vault, secret.clone()));
        Ok(())
    }

    fn load(&self, id: Uuid) -> Result<Option<Secret>, KeystoreError> {
        self.check_available()?;
        self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(self.entries().get(&id).map(|(_, s)| s.clone()))
    }

    fn delete(&self, id: Uuid) -> Result<(), KeystoreError> {
        self.check_available()?;
        self.entries().remove(&id);
        Ok(())
    }

    fn ids(&self, vault: Uuid) -> Result<Option<Vec<Uuid>>, KeystoreError> {
        self.check_available()?;
        let entries = self.entries();
        Ok(Some(entries.iter().filter(|(_, (v, _))| *v == vault).map(|(id, _)| *id).collect()))
    }
}
