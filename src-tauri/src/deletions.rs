//! Deleting through the trash ("Recently deleted", [`twofold_core::vault::Trashed`]): a deleted
//! account leaves the list at once and stays restorable for 30 days, across restarts, its secret
//! kept in the keystore; the Undo bar and the trash list both restore it. Expired entries are
//! purged at start-up and whenever the trash is listed.

use serde::Serialize;
use twofold_core::keystore::Keystore;
use twofold_core::vault::{Trashed, Vault};
use uuid::Uuid;

use crate::error::ApiError;

/// One account of the trash, as the "Recently deleted" list shows it (no secret).
#[derive(Debug, Clone, Serialize)]
pub struct TrashedView {
    /// The account's id, to restore or purge it.
    pub id: Uuid,
    /// "Issuer (name)".
    pub label: String,
    /// When it was deleted, in Unix seconds.
    pub deleted: u64,
    /// When it is deleted for good, in Unix seconds.
    pub expires: u64,
}

impl From<Trashed> for TrashedView {
    fn from(trashed: Trashed) -> Self {
        Self {
            id: trashed.account.id,
            label: trashed.account.label(),
            deleted: trashed.deleted,
            expires: trashed.expires(),
        }
    }
}

/// Moves account `id` to the trash at `now`; returns its label.
pub fn delete<K: Keystore>(vault: &Vault<K>, id: Uuid, now: u64) -> Result<String, ApiError> {
    Ok(vault.trash(id, now)?.label())
}

/// Puts trashed account `id` back in the list; returns its label.
pub fn restore<K: Keystore>(vault: &Vault<K>, id: Uuid) -> Result<String, ApiError> {
    Ok(vault.restore(id)?.label())
}

/// The trash at `now`, newest first, after purging what expired.
pub fn list<K: Keystore>(vault: &Vault<K>, now: u64) -> Result<Vec<TrashedView>, ApiError> {
    purge_expired(vault, now);
    Ok(vault.trashed()?.into_iter().map(TrashedView::from).collect())
}

/// Deletes trashed account `id` for good, secret included; returns its label.
pub fn purge<K: Keystore>(vault: &Vault<K>, id: Uuid) -> Result<String, ApiError> {
    Ok(vault.purge(id)?.label())
}

/// Deletes for good what has been in the trash too long; a failure is logged, not shown (it is
/// tried again at the next listing).
pub fn purge_expired<K: Keystore>(vault: &Vault<K>, now: u64) {
    match vault.purge_expired(now) {
        Ok(purged) if !purged.is_empty() => {
            tracing::info!(count = purged.len(), "expired accounts left the trash");
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "could not empty the expired trash"),
    }
}

#[cfg(test)]
mod tests {
    use twofold_core::keystore::MemoryKeystore;
    use twofold_core::vault::TRASH_KEPT_SECONDS;
    use twofold_core::{Credential, OtpParams, Secret};

    use super::*;
    use crate::error::ErrorCode;

    fn vault_with_one() -> (tempfile::TempDir, Vault<MemoryKeystore>, Uuid) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), MemoryKeystore::default()).unwrap();
        let credential = Credential {
            issuer: "Example".to_owned(),
            name: "alice".to_owned(),
            secret: Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
            otp: OtpParams::default(),
            icon: None,
        };
        let id = vault.add(credential, 0).unwrap().id;
        (dir, vault, id)
    }

    #[test]
    fn a_deleted_account_is_listed_with_its_expiry_and_restored() {
        let (_dir, vault, id) = vault_with_one();
        assert_eq!(delete(&vault, id, 10).unwrap(), "Example (alice)");
        assert!(vault.accounts().unwrap().is_empty());
        let [shown] = list(&vault, 20).unwrap().try_into().unwrap();
        assert_eq!((shown.id, shown.deleted, shown.expires), (id, 10, 10 + TRASH_KEPT_SECONDS));
        assert_eq!(restore(&vault, id).unwrap(), "Example (alice)");
        assert_eq!(vault.accounts().unwrap().len(), 1);
        let json = serde_json::to_string(&list(&vault, 20).unwrap()).unwrap();
        assert_eq!(json, "[]");
    }

    #[test]
    fn listing_after_thirty_days_purges_and_restore_then_says_not_found() {
        let (_dir, vault, id) = vault_with_one();
        delete(&vault, id, 0).unwrap();
        assert!(list(&vault, TRASH_KEPT_SECONDS).unwrap().is_empty());
        assert!(vault.keystore().load(id).unwrap().is_none());
        assert_eq!(restore(&vault, id).unwrap_err().code, ErrorCode::NotFound);
    }
}
