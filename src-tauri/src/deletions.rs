//! Deleting with undo: the account leaves the list at once ([`Vault::detach`]), its keyring entry
//! stays for [`UNDO_WINDOW`] so Undo can put it back ([`Vault::reattach`]), then the entry goes
//! ([`Vault::forget_secret`]). Deletions still pending when the app quits are finished then; if the
//! app is killed, the entry is left as an orphan that the vault's reconcile reports (never an
//! account without its secret).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};
use twofold_core::Account;
use twofold_core::keystore::Keystore;
use twofold_core::vault::Vault;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// How long Undo stays possible.
pub const UNDO_WINDOW: Duration = Duration::from_secs(6);

/// Deletes account `id` from the app's vault, and its keyring entry once [`UNDO_WINDOW`] has passed
/// without an undo. Returns the account's label.
pub fn delete_with_undo<R: Runtime>(app: &AppHandle<R>, id: Uuid) -> Result<String, ApiError> {
    let label = app.state::<Deletions>().delete(app.state::<AppState>().accounts()?.vault(), id)?;
    let app = app.clone();
    let finish = move || {
        std::thread::sleep(UNDO_WINDOW);
        if let Ok(accounts) = app.state::<AppState>().accounts_even_locked() {
            app.state::<Deletions>().finish(accounts.vault(), id);
        }
    };
    if let Err(err) = std::thread::Builder::new().name("undo-window".to_owned()).spawn(finish) {
        // The entry is then deleted when the app quits.
        tracing::warn!(error = %err, "cannot start the undo timer");
    }
    Ok(label)
}

/// Accounts deleted whose keyring entries are still kept for Undo.
#[derive(Debug, Default)]
pub struct Deletions {
    pending: Mutex<HashMap<Uuid, Account>>,
}

impl Deletions {
    /// Takes account `id` out of the list, keeping its secret for Undo; returns its label.
    pub fn delete<K: Keystore>(&self, vault: &Vault<K>, id: Uuid) -> Result<String, ApiError> {
        let account = vault.detach(id)?;
        let label = account.label();
        self.lock().insert(id, account);
        Ok(label)
    }

    /// Puts a deleted account back, if its undo window is still open.
    pub fn undo<K: Keystore>(&self, vault: &Vault<K>, id: Uuid) -> Result<String, ApiError> {
        let account = self.lock().remove(&id).ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                "the account was deleted for good; undo is no longer possible",
            )
        })?;
        let label = account.label();
        if let Err(err) = vault.reattach(account.clone()) {
            // Keep it pending so its secret is still deleted when the window closes.
            self.lock().insert(id, account);
            return Err(err.into());
        }
        Ok(label)
    }

    /// Deletes the keyring entry of `id` if its deletion was not undone.
    pub fn finish<K: Keystore>(&self, vault: &Vault<K>, id: Uuid) {
        let pending = self.lock().remove(&id).is_some();
        if pending && let Err(err) = vault.forget_secret(id) {
            tracing::warn!(%id, error = %err, "could not delete the secret of a deleted account");
        }
    }

    /// Finishes every pending deletion (the app is quitting).
    pub fn finish_all<K: Keystore>(&self, vault: &Vault<K>) {
        let ids: Vec<Uuid> = self.lock().keys().copied().collect();
        for id in ids {
            self.finish(vault, id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Account>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use twofold_core::keystore::MemoryKeystore;
    use twofold_core::{Credential, OtpParams, Secret};

    use super::*;

    fn vault_with_one() -> (tempfile::TempDir, Vault<MemoryKeystore>, Account) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), MemoryKeystore::default()).unwrap();
        let credential = Credential {
            issuer: "Example".to_owned(),
            name: "alice".to_owned(),
            secret: Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
            otp: OtpParams::default(),
            icon: None,
        };
        let account = vault.add(credential, 0).unwrap();
        (dir, vault, account)
    }

    #[test]
    fn the_secret_stays_until_the_window_closes_and_undo_brings_the_account_back() {
        let (_dir, vault, account) = vault_with_one();
        let deletions = Deletions::default();
        assert_eq!(deletions.delete(&vault, account.id).unwrap(), "Example (alice)");
        assert!(vault.accounts().unwrap().is_empty());
        assert!(vault.keystore().load(account.id).unwrap().is_some());

        deletions.undo(&vault, account.id).unwrap();
        assert_eq!(vault.accounts().unwrap(), std::slice::from_ref(&account));
        // The window closing after an undo deletes nothing.
        deletions.finish(&vault, account.id);
        assert!(vault.keystore().load(account.id).unwrap().is_some());
    }

    #[test]
    fn once_the_window_closes_the_secret_is_gone_and_undo_says_so() {
        let (_dir, vault, account) = vault_with_one();
        let deletions = Deletions::default();
        deletions.delete(&vault, account.id).unwrap();
        deletions.finish_all(&vault);
        assert!(vault.keystore().load(account.id).unwrap().is_none());
        let err = deletions.undo(&vault, account.id).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        assert!(vault.accounts().unwrap().is_empty());
    }
}
