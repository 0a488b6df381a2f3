//! The vault's keystore in the app: the system keyring or the encrypted secrets file, open or
//! sealed (a file vault's key is derived when the window unlocks and dropped, zeroized, when it
//! locks), and what the start screens and Settings do with it: ask the keyring again, start a
//! file vault, unlock and lock it, move the secrets between the two.

use std::sync::{Arc, PoisonError, RwLock};

use twofold_core::Secret;
use twofold_core::export;
use twofold_core::import::Password;
use twofold_core::keystore::{
    FileKeystore, KeyringState, Keystore, KeystoreError, KeystoreKind, OsKeystore, VaultKeystore,
};
use twofold_core::lock::AppLock;
use twofold_core::seal::CostLevel;
use twofold_core::vault::{Destination, Vault, VaultError};
use twofold_device::vault_keys::{self, MoveError};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::lock::{LockStatus, Screen, WindowLock};

/// What the keystore holds now; shared by the account view and the device-key view.
enum Slot {
    /// The keystore the vault chose, open.
    Chosen(VaultKeystore),
    /// Another keystore: command tests put an in-memory one here.
    Other(Arc<dyn Keystore + Send + Sync>),
    /// The secrets file, locked: its key is not in memory.
    Sealed,
}

/// The keystore behind the app's state and its trusted device; it can change while the app runs
/// (unlocked, sealed, moved), so every handle reads the one current slot.
#[derive(Clone)]
pub struct AppKeystore {
    slot: Arc<RwLock<Slot>>,
    device_keys: bool,
}

impl std::fmt::Debug for AppKeystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppKeystore")
    }
}

/// What reading a sealed secrets file says (the window is locked, so the page never sees it).
const SEALED: &str = "the secrets file is locked: unlock Twofold with its passphrase";

impl AppKeystore {
    /// Wraps any keystore (the command tests' in-memory one).
    pub fn new(keystore: impl Keystore + Send + Sync + 'static) -> Self {
        Self::over(Slot::Other(Arc::new(keystore)))
    }

    /// The keystore the vault chose, open.
    pub fn chosen(keystore: VaultKeystore) -> Self {
        Self::over(Slot::Chosen(keystore))
    }

    /// The secrets file, not unlocked yet.
    pub fn sealed() -> Self {
        Self::over(Slot::Sealed)
    }

    fn over(slot: Slot) -> Self {
        Self { slot: Arc::new(RwLock::new(slot)), device_keys: false }
    }

    /// The trusted device's keys, in the same place as the account secrets.
    pub fn device_keys(&self) -> Self {
        Self { slot: Arc::clone(&self.slot), device_keys: true }
    }

    /// The chosen keystore now, if open.
    pub fn current(&self) -> Option<VaultKeystore> {
        match &*self.slot.read().unwrap_or_else(PoisonError::into_inner) {
            Slot::Chosen(keystore) => Some(keystore.clone()),
            Slot::Other(_) | Slot::Sealed => None,
        }
    }

    /// Puts `keystore` in place (unlocked, or moved to).
    fn open(&self, keystore: VaultKeystore) {
        *self.slot.write().unwrap_or_else(PoisonError::into_inner) = Slot::Chosen(keystore);
    }

    /// Drops the secrets file's key and entries (zeroized with the last handle, which is this).
    fn seal(&self) {
        *self.slot.write().unwrap_or_else(PoisonError::into_inner) = Slot::Sealed;
    }

    fn with<T>(
        &self,
        call: impl FnOnce(&dyn Keystore) -> Result<T, KeystoreError>,
    ) -> Result<T, KeystoreError> {
        match &*self.slot.read().unwrap_or_else(PoisonError::into_inner) {
            Slot::Chosen(keystore) if self.device_keys => call(&keystore.device_keys()),
            Slot::Chosen(keystore) => call(keystore),
            Slot::Other(keystore) => call(keystore.as_ref()),
            Slot::Sealed => Err(KeystoreError::File { reason: SEALED.to_owned() }),
        }
    }
}

impl Keystore for AppKeystore {
    fn store(
        &self,
        id: Uuid,
        vault: Uuid,
        label: &str,
        secret: &Secret,
    ) -> Result<(), KeystoreError> {
        self.with(|k| k.store(id, vault, label, secret))
    }

    fn load(&self, id: Uuid) -> Result<Option<Secret>, KeystoreError> {
        self.with(|k| k.load(id))
    }

    fn load_many(&self, ids: &[Uuid]) -> Vec<Result<Option<Secret>, KeystoreError>> {
        self.with(|k| Ok(k.load_many(ids)))
            .unwrap_or_else(|err| ids.iter().map(|_| Err(err.clone())).collect())
    }

    fn delete(&self, id: Uuid) -> Result<(), KeystoreError> {
        self.with(|k| k.delete(id))
    }

    fn ids(&self, vault: Uuid) -> Result<Option<Vec<Uuid>>, KeystoreError> {
        self.with(|k| k.ids(vault))
    }
}

/// What the window says when the passphrase is wrong.
const WRONG_PASSPHRASE: &str = "That is not the passphrase";

impl AppState {
    /// Unlocks the window with `passphrase`: the app lock's, or the secrets file's (which opens
    /// the file). A keyring that is missing or locked is not unlocked by a passphrase.
    pub fn unlock(&self, passphrase: &str) -> Result<LockStatus, ApiError> {
        let vault = self.accounts_even_locked()?.vault();
        match self.lock.screen() {
            Screen::NoKeyring | Screen::KeyringLocked => {
                return Err(ApiError::new(
                    ErrorCode::KeyringUnavailable,
                    "The system keyring is not available: use Retry once it is",
                ));
            }
            Screen::SecretsFile => {
                let passphrase = Password::new(passphrase.to_owned());
                let file = FileKeystore::unlock(vault.dir(), &passphrase).map_err(file_error)?;
                vault.keystore().open(VaultKeystore::File(file));
            }
            Screen::Passphrase => {
                let app_lock = AppLock::new(vault.keystore(), vault.id());
                // Locked at start because the keyring could not say whether a passphrase is
                // set: ask again.
                if self.lock.is_unknown() {
                    let enabled = app_lock.is_set()?;
                    self.lock.set_enabled(enabled);
                    if !enabled {
                        return Ok(self.lock.status());
                    }
                }
                if !app_lock.verify(passphrase)? {
                    return Err(ApiError::new(ErrorCode::WrongPassword, WRONG_PASSPHRASE));
                }
            }
        }
        self.lock.unlock();
        Ok(self.lock.status())
    }

    /// Locks the window (when a passphrase locks it); a secrets file is sealed and every secret
    /// read so far forgotten. Whether that changed anything.
    pub fn lock_window(&self) -> bool {
        let changed = self.lock.lock();
        if changed && let Ok(accounts) = self.accounts_even_locked() {
            if self.lock.screen() == Screen::SecretsFile {
                accounts.vault().keystore().seal();
            }
            accounts.forget_secrets();
        }
        changed
    }

    /// The start screen's Retry: asks the keyring again (its unlock prompt may show); once it
    /// answers, the app lock's passphrase decides whether the window stays locked.
    pub fn retry_keyring(&self) -> Result<LockStatus, ApiError> {
        if !matches!(self.lock.screen(), Screen::NoKeyring | Screen::KeyringLocked) {
            return Ok(self.lock.status());
        }
        match KeyringState::after_unlock_prompt() {
            KeyringState::Ready => {
                let vault = self.accounts_even_locked()?.vault();
                let enabled = AppLock::new(vault.keystore(), vault.id()).is_set()?;
                self.lock.set_enabled(enabled);
                Ok(self.lock.status())
            }
            other => Err(ApiError::new(
                ErrorCode::KeyringUnavailable,
                format!("Still not available. {}", keyring_reason(&other)),
            )),
        }
    }

    /// The no-keyring screen's "Use an encrypted file instead": makes the vault's secrets file
    /// with `passphrase` (typed twice) at `level`, and opens the window over it. Only for a
    /// vault with no account yet: the secrets of existing ones are in the keyring out of reach.
    pub fn use_secrets_file(
        &self,
        passphrase: &Password,
        again: &Password,
        level: CostLevel,
    ) -> Result<LockStatus, ApiError> {
        if self.lock.screen() != Screen::NoKeyring {
            return Err(ApiError::new(
                ErrorCode::Locked,
                "An encrypted file is offered only when no Secret Service runs",
            ));
        }
        export::check_new_password(passphrase, again)
            .map_err(|err| ApiError::new(ErrorCode::InvalidAccount, err))?;
        let vault = self.accounts_even_locked()?.vault();
        let destination = Destination::File { passphrase: passphrase.clone(), cost: level.cost() };
        let created = Vault::create(vault.dir(), destination).map_err(|err| match err {
            VaultError::NotNew => ApiError::new(
                ErrorCode::Storage,
                "This vault already has accounts whose secrets are in the system keyring: start \
                 a Secret Service, then move them to a file from Settings",
            ),
            other => other.into(),
        })?;
        vault.keystore().open(created.keystore().clone());
        self.lock.use_secrets_file();
        Ok(self.lock.status())
    }

    /// Settings' move: every secret and the trusted device's keys to `to`, all or nothing (the
    /// library's move, as `twofold keystore move`). Into a file, `passphrase` is its new one
    /// (typed twice); into the keyring, `passphrase` must be the file's current one.
    pub fn move_keystore(
        &self,
        to: KeystoreKind,
        passphrase: &Password,
        again: Option<&Password>,
        level: CostLevel,
    ) -> Result<LockStatus, ApiError> {
        let accounts = self.accounts()?;
        let vault = accounts.vault();
        let current = vault.keystore().current().ok_or_else(|| {
            ApiError::new(ErrorCode::KeyringFailed, "This keystore cannot be moved")
        })?;
        let destination = match to {
            KeystoreKind::File => {
                let again = again.ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidAccount, "Type the new passphrase twice")
                })?;
                export::check_new_password(passphrase, again)
                    .map_err(|err| ApiError::new(ErrorCode::InvalidAccount, err))?;
                Destination::File { passphrase: passphrase.clone(), cost: level.cost() }
            }
            KeystoreKind::Keyring => {
                // Taking the file's protection away asks for what it is protected with.
                if let VaultKeystore::File(_) = &current {
                    FileKeystore::unlock(vault.dir(), passphrase).map_err(file_error)?;
                }
                Destination::Keyring
            }
        };
        let chosen = Vault::open(vault.dir(), current)?;
        let (moved_to, moved) =
            vault_keys::move_with_device_keys(&chosen, destination).map_err(|err| match err {
                MoveError::Vault(err) => ApiError::from(err),
                MoveError::Device(err) => ApiError::new(ErrorCode::Approval, err),
                other => ApiError::new(ErrorCode::Unknown, other),
            })?;
        tracing::info!(
            accounts = moved.accounts,
            device_keys = moved.device_keys,
            without_secret = moved.missing.len(),
            left_behind = moved.left_behind,
            "secrets moved"
        );
        vault.keystore().open(moved_to);
        accounts.forget_secrets();
        match to {
            KeystoreKind::File => self.lock.use_secrets_file(),
            _ => self.lock.set_enabled(AppLock::new(vault.keystore(), vault.id()).is_set()?),
        }
        Ok(self.lock.status())
    }
}

/// A secrets file that did not open, as the window says it: a wrong passphrase in its words.
fn file_error(err: KeystoreError) -> ApiError {
    match err {
        KeystoreError::WrongPassphrase => ApiError::new(ErrorCode::WrongPassword, WRONG_PASSPHRASE),
        other => VaultError::from(other).into(),
    }
}

/// The keystore a vault of `kind` opens over at start, and the lock it starts with when that is
/// not the app lock's: the secrets file sealed, or the keyring's start screen when it is missing
/// or locked.
pub(crate) fn at_start(kind: KeystoreKind) -> (AppKeystore, Option<WindowLock>) {
    if kind == KeystoreKind::File {
        return (AppKeystore::sealed(), Some(WindowLock::secrets_file()));
    }
    let keyring = AppKeystore::chosen(VaultKeystore::Keyring(OsKeystore::default()));
    let state = KeyringState::now();
    let screen = match state {
        KeyringState::Missing { .. } => Screen::NoKeyring,
        KeyringState::Locked => Screen::KeyringLocked,
        _ => return (keyring, None),
    };
    (keyring, Some(WindowLock::keyring(screen, keyring_reason(&state))))
}

/// The keyring's state under its start screen, which already says what to install: a missing
/// one in D-Bus's words, the others in the CLI's.
fn keyring_reason(state: &KeyringState) -> String {
    match state {
        KeyringState::Missing { reason } => format!("D-Bus said: {reason}"),
        other => other.to_string(),
    }
}

/// One Argon2id level as the page offers it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CostLevelView {
    /// `quick`, `standard` or `strong`.
    pub level: CostLevel,
    /// Its settings in words ("Argon2id, 65536 KiB, 3 passes, 1 lanes").
    pub settings: String,
    /// Its memory, in MiB.
    pub memory_mib: u32,
    /// Its passes over the memory.
    pub passes: u32,
    /// One unlock on this machine now, in milliseconds.
    pub millis: u64,
}

/// Every level with its settings, each timed once now.
pub fn cost_levels() -> Result<Vec<CostLevelView>, ApiError> {
    CostLevel::ALL
        .into_iter()
        .map(|level| {
            let took = level.measure().map_err(|err| ApiError::new(ErrorCode::Unknown, err))?;
            Ok(CostLevelView {
                level,
                settings: level.cost().to_string(),
                memory_mib: level.cost().memory_kib / 1024,
                passes: level.cost().passes,
                millis: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            })
        })
        .collect()
}
