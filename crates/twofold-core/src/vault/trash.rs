//! "Recently deleted": a deleted account moves to the trash list of the metadata file and keeps
//! its secret (and icon) for [`TRASH_KEPT_SECONDS`], so it can be restored, even after a restart,
//! as Ente Auth's trash allows. Once it leaves the trash (emptied, or expired) its secret goes.
//!
//! The write order is the design's: [`Vault::trash`] and [`Vault::restore`] change only the
//! metadata file (one atomic replace, so an account is in the list or in the trash, never both
//! or neither); [`Vault::purge`] removes the metadata first, then the secret, so a crash leaves
//! an orphan secret that [`Vault::reconcile`] reports, never an entry without its secret.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Vault, VaultError};
use crate::keystore::Keystore;
use crate::{Account, Credential};

/// How long a deleted account stays restorable: 30 days, as Ente Auth keeps its trash.
pub const TRASH_KEPT_SECONDS: u64 = 30 * 24 * 60 * 60;

/// A deleted account waiting in the trash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trashed {
    /// The account as it was when deleted.
    pub account: Account,
    /// When it was deleted, in Unix seconds.
    pub deleted: u64,
}

impl Trashed {
    /// When it leaves the trash for good, in Unix seconds.
    pub fn expires(&self) -> u64 {
        self.deleted.saturating_add(TRASH_KEPT_SECONDS)
    }

    /// Whether its time in the trash is over at `now` (Unix seconds).
    pub fn is_expired(&self, now: u64) -> bool {
        now >= self.expires()
    }
}

impl<K: Keystore> Vault<K> {
    /// Moves account `id` to the trash at `now` (Unix seconds); its secret stays in the keystore.
    pub fn trash(&self, id: Uuid, now: u64) -> Result<Account, VaultError> {
        let _lock = self.lock()?;
        let mut file = self.read_file()?;
        let index =
            file.accounts.iter().position(|a| a.id == id).ok_or(VaultError::NotFound { id })?;
        let account = file.accounts.remove(index);
        file.trash.push(Trashed { account: account.clone(), deleted: now });
        self.write_file(&file.accounts, &file.trash)?;
        tracing::info!(%id, "account moved to the trash");
        Ok(account)
    }

    /// The accounts in the trash, the most recently deleted first.
    pub fn trashed(&self) -> Result<Vec<Trashed>, VaultError> {
        let mut trash = self.read_file()?.trash;
        trash.sort_by_key(|t| std::cmp::Reverse(t.deleted));
        Ok(trash)
    }

    /// Puts trashed account `id` back at the end of the list. Refuses when its secret is gone, or
    /// when the same account (issuer, name and secret) was added again meanwhile.
    pub fn restore(&self, id: Uuid) -> Result<Account, VaultError> {
        let _lock = self.lock()?;
        let mut file = self.read_file()?;
        let index = position_in(&file.trash, id)?;
        let mut account = file.trash[index].account.clone();
        let secret = self
            .keystore
            .load(id)?
            .ok_or_else(|| VaultError::MissingSecret { label: account.label() })?;
        let credential = Credential {
            issuer: account.issuer.clone(),
            name: account.name.clone(),
            secret,
            otp: account.otp,
            icon: None,
        };
        if let Some(existing) = self.duplicate_in(&file.accounts, &credential)? {
            return Err(VaultError::Duplicate { label: existing.label(), id: existing.id });
        }
        file.trash.remove(index);
        account.order = file.accounts.iter().map(|a| a.order.saturating_add(1)).max().unwrap_or(0);
        file.accounts.push(account.clone());
        self.write_file(&file.accounts, &file.trash)?;
        tracing::info!(%id, "account restored from the trash");
        Ok(account)
    }

    /// Deletes trashed account `id` for good: its trash entry, then its icon and its secret.
    pub fn purge(&self, id: Uuid) -> Result<Account, VaultError> {
        let account = {
            let _lock = self.lock()?;
            let mut file = self.read_file()?;
            let index = position_in(&file.trash, id)?;
            let trashed = file.trash.remove(index);
            self.write_file(&file.accounts, &file.trash)?;
            trashed.account
        };
        self.forget(id)?;
        Ok(account)
    }

    /// Deletes for good every trashed account whose time is over at `now` (Unix seconds); returns
    /// them. Start-up and each listing of the trash call this.
    pub fn purge_expired(&self, now: u64) -> Result<Vec<Account>, VaultError> {
        let expired = {
            let _lock = self.lock()?;
            let file = self.read_file()?;
            let (expired, kept): (Vec<Trashed>, Vec<Trashed>) =
                file.trash.into_iter().partition(|t| t.is_expired(now));
            if expired.is_empty() {
                return Ok(Vec::new());
            }
            self.write_file(&file.accounts, &kept)?;
            expired
        };
        let mut purged = Vec::with_capacity(expired.len());
        for trashed in expired {
            self.forget(trashed.account.id)?;
            purged.push(trashed.account);
        }
        Ok(purged)
    }

    /// Deletes the icon and secret of an account no entry names any more.
    fn forget(&self, id: Uuid) -> Result<(), VaultError> {
        self.remove_icon_files(id)?;
        self.keystore.delete(id)?;
        tracing::info!(%id, "secret of a deleted account removed");
        Ok(())
    }
}

/// Where trashed account `id` is in `trash`.
fn position_in(trash: &[Trashed], id: Uuid) -> Result<usize, VaultError> {
    trash.iter().position(|t| t.account.id == id).ok_or(VaultError::NotFound { id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::MemoryKeystore;
    use crate::{OtpParams, Secret};

    const DAY: u64 = 24 * 60 * 60;

    fn vault() -> (tempfile::TempDir, Vault<MemoryKeystore>) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), MemoryKeystore::default()).unwrap();
        (dir, vault)
    }

    fn credential(issuer: &str) -> Credential {
        Credential {
            issuer: issuer.to_owned(),
            name: "alice".to_owned(),
            secret: Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
            otp: OtpParams::default(),
            icon: None,
        }
    }

    #[test]
    fn a_trashed_account_leaves_the_list_keeps_its_secret_and_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let keystore = std::sync::Arc::new(MemoryKeystore::default());
        let vault = Vault::open(dir.path(), keystore.clone()).unwrap();
        let account = vault.add(credential("GitHub"), 0).unwrap();
        let other = vault.add(credential("GitLab"), 0).unwrap();
        vault.trash(account.id, 100).unwrap();

        assert_eq!(vault.accounts().unwrap(), std::slice::from_ref(&other));
        let [trashed] = vault.trashed().unwrap().try_into().unwrap();
        assert_eq!((trashed.account.id, trashed.deleted), (account.id, 100));
        assert!(vault.keystore().load(account.id).unwrap().is_some());
        // Kept on purpose: not an orphan.
        assert!(vault.reconcile().unwrap().is_clean());

        // A restart: the trash is in the file, not in memory.
        drop(vault);
        let vault = Vault::open(dir.path(), keystore).unwrap();
        let restored = vault.restore(account.id).unwrap();
        assert!(restored.order > other.order, "restored at the end");
        assert!(vault.trashed().unwrap().is_empty());
        let ids: Vec<Uuid> = vault.accounts().unwrap().iter().map(|a| a.id).collect();
        assert_eq!(ids, [other.id, account.id]);
        assert!(matches!(vault.restore(account.id), Err(VaultError::NotFound { .. })));
    }

    #[test]
    fn other_changes_keep_the_trash() {
        let (_dir, vault) = vault();
        let account = vault.add(credential("GitHub"), 0).unwrap();
        vault.trash(account.id, 0).unwrap();
        let other = vault.add(credential("GitLab"), 0).unwrap();
        vault.rename(other.id, "GitLab".to_owned(), "bob".to_owned()).unwrap();
        assert_eq!(vault.trashed().unwrap().len(), 1);
    }

    #[test]
    fn purging_deletes_the_secret_and_ends_the_restore() {
        let (_dir, vault) = vault();
        let account = vault.add(credential("GitHub"), 0).unwrap();
        vault.trash(account.id, 0).unwrap();
        vault.purge(account.id).unwrap();
        assert!(vault.trashed().unwrap().is_empty());
        assert!(vault.keystore().load(account.id).unwrap().is_none());
        assert!(matches!(vault.restore(account.id), Err(VaultError::NotFound { .. })));
        // Only trashed accounts can be purged: a listed one is not touched.
        let listed = vault.add(credential("GitLab"), 0).unwrap();
        assert!(matches!(vault.purge(listed.id), Err(VaultError::NotFound { .. })));
        assert!(vault.keystore().load(listed.id).unwrap().is_some());
    }

    #[test]
    fn accounts_leave_the_trash_for_good_after_thirty_days() {
        let (_dir, vault) = vault();
        let old = vault.add(credential("Old"), 0).unwrap();
        let new = vault.add(credential("New"), 0).unwrap();
        vault.trash(old.id, DAY).unwrap();
        vault.trash(new.id, 20 * DAY).unwrap();

        assert!(vault.purge_expired(31 * DAY - 1).unwrap().is_empty());
        let purged = vault.purge_expired(31 * DAY).unwrap();
        assert_eq!(purged.iter().map(|a| a.id).collect::<Vec<_>>(), [old.id]);
        assert!(vault.keystore().load(old.id).unwrap().is_none());
        let [left] = vault.trashed().unwrap().try_into().unwrap();
        assert_eq!(left.account.id, new.id);
        assert_eq!(left.expires(), 50 * DAY);
        assert!(vault.keystore().load(new.id).unwrap().is_some());
    }

    #[test]
    fn restoring_is_refused_when_the_account_was_added_again_or_its_secret_is_gone() {
        let (_dir, vault) = vault();
        let account = vault.add(credential("GitHub"), 0).unwrap();
        vault.trash(account.id, 0).unwrap();
        vault.add(credential("GitHub"), 0).unwrap();
        let err = vault.restore(account.id).unwrap_err();
        assert!(matches!(err, VaultError::Duplicate { .. }), "{err}");
        assert_eq!(vault.trashed().unwrap().len(), 1, "left in the trash");

        let gone = vault.add(credential("GitLab"), 0).unwrap();
        vault.trash(gone.id, 0).unwrap();
        vault.keystore().delete(gone.id).unwrap();
        let err = vault.restore(gone.id).unwrap_err();
        assert!(matches!(err, VaultError::MissingSecret { .. }), "{err}");
    }

    #[test]
    fn a_file_without_trash_has_no_trash_field_and_the_trash_is_newest_first() {
        let (dir, vault) = vault();
        let a = vault.add(credential("A"), 0).unwrap();
        let b = vault.add(credential("B"), 0).unwrap();
        let text = std::fs::read_to_string(dir.path().join(super::super::METADATA_FILE)).unwrap();
        assert!(!text.contains("trash"), "{text}");
        vault.trash(a.id, 5).unwrap();
        vault.trash(b.id, 9).unwrap();
        let order: Vec<Uuid> = vault.trashed().unwrap().iter().map(|t| t.account.id).collect();
        assert_eq!(order, [b.id, a.id]);
    }
}
