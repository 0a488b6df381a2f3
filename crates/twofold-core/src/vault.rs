//! The account store: metadata in one JSON file, secrets in a [`Keystore`].
//!
//! Every change takes an exclusive lock on `accounts.lock`, re-reads `accounts.json`, and replaces it
//! atomically (temporary file, fsync, rename, fsync of the directory), so the app and the CLI never
//! lose each other's changes and a crash leaves either the old file or the new one. Secrets are
//! written before the metadata that names them and deleted after it, so a crash can leave a secret
//! without an account (reported by [`Vault::reconcile`]) but never an account added earlier without
//! its secret.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::keystore::{Keystore, KeystoreError, OsKeystore};
use crate::otp::OtpError;
use crate::{Account, Credential, Secret};

mod manage;
mod relocate;
mod trash;
pub use manage::{AccountEdit, ICON_DIR, MAX_ICON_BYTES};
pub use relocate::{Destination, DeviceKeyEntry, Moved};
pub use trash::{TRASH_KEPT_SECONDS, Trashed};

/// Name of the metadata file inside the data directory.
pub const METADATA_FILE: &str = "accounts.json";
const LOCK_FILE: &str = "accounts.lock";
/// Names this vault in the keyring, so vaults sharing one keyring don't see each other's entries.
const ID_FILE: &str = "vault-id";
const TEMP_PREFIX: &str = ".tmp-";
const FORMAT_VERSION: u32 = 1;

/// Why a vault operation failed, in words for the user. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// Neither `TWOFOLD_DATA_DIR` nor a home directory is known.
    #[error("cannot find a data directory: set TWOFOLD_DATA_DIR or HOME")]
    NoDataDir,
    /// Reading or writing a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", "lock", ...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The metadata file exists but cannot be understood; it is left untouched.
    #[error("the account list {} is damaged ({reason}); it was left as it is", path.display())]
    Damaged {
        /// The metadata file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// The metadata file was written by a newer Twofold.
    #[error("the account list {} has format version {found}; this Twofold reads version {FORMAT_VERSION}: update Twofold", path.display())]
    NewerFormat {
        /// The metadata file.
        path: PathBuf,
        /// The version found in it.
        found: u32,
    },
    /// The keyring failed.
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// No account has this id.
    #[error("no account has the id {id}")]
    NotFound {
        /// The id asked for.
        id: Uuid,
    },
    /// The account exists but its secret is not in the keyring.
    #[error("the secret of {label} is missing from the system keyring; re-add the account")]
    MissingSecret {
        /// The account's label.
        label: String,
    },
    /// The same issuer, account name and secret are already stored.
    #[error("{label} is already in Twofold with the same secret")]
    Duplicate {
        /// The label of the existing account.
        label: String,
        /// Its id.
        id: Uuid,
    },
    /// The credential's parameters cannot make codes.
    #[error("cannot add {label}: {source}")]
    Invalid {
        /// The label of the refused credential.
        label: String,
        /// What is wrong with its parameters.
        source: OtpError,
    },
    /// A keystore was chosen for a vault that already has one, or a move goes where the secrets
    /// already are.
    #[error("the secrets are already in {kind}")]
    SameKeystore {
        /// Where they are.
        kind: crate::keystore::KeystoreKind,
    },
    /// A keystore can be chosen only for a new vault.
    #[error("this vault already has accounts; use `twofold keystore move` to change its keystore")]
    NotNew,
    /// An image cannot be an account's icon.
    #[error("cannot use this image as an icon: {reason}")]
    Icon {
        /// Why it was refused.
        reason: String,
    },
}

/// What [`Vault::reconcile`] found out of step between metadata and keyring. Nothing is deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// Keyring entries that no account names (e.g. an add interrupted before its metadata landed).
    pub orphan_secrets: Vec<Uuid>,
    /// Accounts whose secret is not in the keyring: shown as broken, never dropped.
    pub missing_secrets: Vec<Uuid>,
}

impl Reconciliation {
    /// Whether metadata and keyring agree.
    pub fn is_clean(&self) -> bool {
        self.orphan_secrets.is_empty() && self.missing_secrets.is_empty()
    }
}

/// Identity of one version of the metadata file: changes whenever the file is replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

#[derive(Default, Serialize, Deserialize)]
struct MetadataFile {
    version: u32,
    accounts: Vec<Account>,
    /// Deleted accounts kept for a while (their secrets stay in the keystore): see `trash`.
    /// Absent when empty, so a file without deletions reads the same in older versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    trash: Vec<Trashed>,
}

/// Accounts and their secrets.
#[derive(Debug)]
pub struct Vault<K: Keystore = OsKeystore> {
    dir: PathBuf,
    metadata: PathBuf,
    id: Uuid,
    keystore: K,
}

impl Vault<OsKeystore> {
    /// The user's vault: `$TWOFOLD_DATA_DIR`, else the XDG data directory's `twofold`, over the OS
    /// keyring.
    pub fn open_default() -> Result<Self, VaultError> {
        Self::open(default_dir()?, OsKeystore::default())
    }
}

/// The data directory: `$TWOFOLD_DATA_DIR` when set, else `<XDG data dir>/twofold`.
pub fn default_dir() -> Result<PathBuf, VaultError> {
    if let Some(dir) = std::env::var_os("TWOFOLD_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::BaseDirs::new().map(|b| b.data_dir().join("twofold")).ok_or(VaultError::NoDataDir)
}

impl<K: Keystore> Vault<K> {
    /// Opens (creating the directory if needed, private to the user) the vault in `dir`.
    pub fn open(dir: impl Into<PathBuf>, keystore: K) -> Result<Self, VaultError> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|source| VaultError::Io {
            action: "create",
            path: dir.clone(),
            source,
        })?;
        let metadata = dir.join(METADATA_FILE);
        let id = match read_id(&dir)? {
            Some(id) => id,
            None => {
                let _lock = lock(&dir)?;
                match read_id(&dir)? {
                    Some(id) => id,
                    None => {
                        let id = Uuid::new_v4();
                        let path = dir.join(ID_FILE);
                        replace_file(&dir, &path, format!("{id}\n").as_bytes())
                            .map_err(|source| VaultError::Io { action: "write", path, source })?;
                        id
                    }
                }
            }
        };
        Ok(Self { dir, metadata, id, keystore })
    }

    /// The data directory the vault lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This vault's identity (also on its keyring entries).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The metadata file (holds no secret).
    pub fn metadata_path(&self) -> &Path {
        &self.metadata
    }

    /// The keystore holding the secrets.
    pub fn keystore(&self) -> &K {
        &self.keystore
    }

    /// Every account, in display order.
    pub fn accounts(&self) -> Result<Vec<Account>, VaultError> {
        // No lock: the file is only ever replaced by rename, so a read sees one whole version.
        let mut accounts = self.read()?;
        accounts.sort_by_key(|a| a.order);
        Ok(accounts)
    }

    /// The account with this id.
    pub fn account(&self, id: Uuid) -> Result<Account, VaultError> {
        self.read()?.into_iter().find(|a| a.id == id).ok_or(VaultError::NotFound { id })
    }

    /// The secret of an account, from the keystore.
    pub fn secret(&self, account: &Account) -> Result<Secret, VaultError> {
        self.keystore
            .load(account.id)?
            .ok_or_else(|| VaultError::MissingSecret { label: account.label() })
    }

    /// The secrets of `accounts`, each as [`Vault::secret`] gives it, read together (one keyring
    /// session for all: the app's list at start).
    pub fn secrets(&self, accounts: &[Account]) -> Vec<Result<Secret, VaultError>> {
        let ids: Vec<Uuid> = accounts.iter().map(|a| a.id).collect();
        self.keystore
            .load_many(&ids)
            .into_iter()
            .zip(accounts)
            .map(|(loaded, account)| {
                loaded?.ok_or_else(|| VaultError::MissingSecret { label: account.label() })
            })
            .collect()
    }

    /// Adds an account: secret first, then metadata. Refuses a duplicate (same issuer, account name
    /// and secret) and an account that cannot make codes (parameters, empty secret, missing PIN).
    pub fn add(&self, credential: Credential, now_unix: u64) -> Result<Account, VaultError> {
        let label = credential.label();
        crate::otp::generate(&credential.secret, &credential.otp, now_unix)
            .map_err(|source| VaultError::Invalid { label: label.clone(), source })?;

        let _lock = self.lock()?;
        let mut accounts = self.read()?;
        if let Some(existing) = self.duplicate_in(&accounts, &credential)? {
            return Err(VaultError::Duplicate { label: existing.label(), id: existing.id });
        }

        let account = Account {
            id: Uuid::new_v4(),
            issuer: credential.issuer,
            name: credential.name,
            otp: credential.otp,
            icon: credential.icon,
            tags: Vec::new(),
            order: accounts.iter().map(|a| a.order.saturating_add(1)).max().unwrap_or(0),
            created: now_unix,
        };
        self.keystore.store(account.id, self.id, &label, &credential.secret)?;
        accounts.push(account.clone());
        if let Err(err) = self.write(&accounts) {
            // The metadata never named this secret: take it back so nothing is left behind.
            if let Err(cleanup) = self.keystore.delete(account.id) {
                tracing::warn!(id = %account.id, error = %cleanup, "could not remove the secret of a failed add");
            }
            return Err(err);
        }
        tracing::info!(id = %account.id, "account added");
        Ok(account)
    }

    /// The stored account with the same issuer, account name and secret, if any: what `add` refuses.
    pub fn find_duplicate(&self, credential: &Credential) -> Result<Option<Account>, VaultError> {
        self.duplicate_in(&self.read()?, credential)
    }

    fn duplicate_in(
        &self,
        accounts: &[Account],
        credential: &Credential,
    ) -> Result<Option<Account>, VaultError> {
        for existing in
            accounts.iter().filter(|a| a.issuer == credential.issuer && a.name == credential.name)
        {
            if self.keystore.load(existing.id)?.as_ref() == Some(&credential.secret) {
                return Ok(Some(existing.clone()));
            }
        }
        Ok(None)
    }

    /// Removes an account: metadata first, then its secret.
    pub fn remove(&self, id: Uuid) -> Result<Account, VaultError> {
        let account = {
            let _lock = self.lock()?;
            let mut accounts = self.read()?;
            let index =
                accounts.iter().position(|a| a.id == id).ok_or(VaultError::NotFound { id })?;
            let account = accounts.remove(index);
            self.write(&accounts)?;
            account
        };
        // Metadata is already gone; a failure here leaves an orphan that `reconcile` reports.
        self.keystore.delete(id)?;
        tracing::info!(%id, "account removed");
        Ok(account)
    }

    /// Changes an account's issuer and name.
    pub fn rename(&self, id: Uuid, issuer: String, name: String) -> Result<Account, VaultError> {
        self.update(id, |a| {
            a.issuer = issuer;
            a.name = name;
        })
    }

    /// Takes the HOTP counter to use now and saves the next one, under the lock, so two callers
    /// never get the same counter.
    pub fn consume_counter(&self, id: Uuid) -> Result<u64, VaultError> {
        let mut used = 0;
        self.update(id, |a| {
            used = a.otp.counter;
            a.otp.counter = a.otp.counter.saturating_add(1);
        })?;
        Ok(used)
    }

    /// Compares metadata and keyring; reports, never deletes.
    pub fn reconcile(&self) -> Result<Reconciliation, VaultError> {
        let MetadataFile { accounts, trash, .. } = self.read_file()?;
        let mut report = Reconciliation::default();
        match self.keystore.ids(self.id)? {
            Some(ids) => {
                // A trashed account's secret is kept on purpose: it is no orphan.
                let known: HashSet<Uuid> =
                    accounts.iter().chain(trash.iter().map(|t| &t.account)).map(|a| a.id).collect();
                let stored: HashSet<Uuid> = ids.iter().copied().collect();
                report.orphan_secrets = ids.into_iter().filter(|id| !known.contains(id)).collect();
                report.missing_secrets =
                    accounts.iter().map(|a| a.id).filter(|id| !stored.contains(id)).collect();
            }
            // The platform cannot list entries: ask for each account instead.
            None => {
                for account in &accounts {
                    if self.keystore.load(account.id)?.is_none() {
                        report.missing_secrets.push(account.id);
                    }
                }
            }
        }
        if !report.is_clean() {
            tracing::warn!(
                orphans = report.orphan_secrets.len(),
                missing = report.missing_secrets.len(),
                "metadata and keyring disagree"
            );
        }
        Ok(report)
    }

    /// The current version of the metadata file (`None` before the first account): one `stat`.
    pub fn stamp(&self) -> Result<Option<Stamp>, VaultError> {
        match fs::metadata(&self.metadata) {
            Ok(meta) => Ok(Some(Stamp {
                modified: meta.modified().ok(),
                len: meta.len(),
                #[cfg(unix)]
                inode: std::os::unix::fs::MetadataExt::ino(&meta),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(self.io("read", &self.metadata, source)),
        }
    }

    fn update(&self, id: Uuid, change: impl FnOnce(&mut Account)) -> Result<Account, VaultError> {
        let _lock = self.lock()?;
        let mut accounts = self.read()?;
        let account =
            accounts.iter_mut().find(|a| a.id == id).ok_or(VaultError::NotFound { id })?;
        change(account);
        let account = account.clone();
        self.write(&accounts)?;
        Ok(account)
    }

    fn io(&self, action: &'static str, path: &Path, source: io::Error) -> VaultError {
        VaultError::Io { action, path: path.to_owned(), source }
    }

    fn lock(&self) -> Result<File, VaultError> {
        lock(&self.dir)
    }

    fn read(&self) -> Result<Vec<Account>, VaultError> {
        Ok(self.read_file()?.accounts)
    }

    fn read_file(&self) -> Result<MetadataFile, VaultError> {
        let bytes = match fs::read(&self.metadata) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(MetadataFile::default()),
            Err(e) => return Err(self.io("read", &self.metadata, e)),
        };
        let damaged = |reason: String| VaultError::Damaged { path: self.metadata.clone(), reason };
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let version: Version =
            serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))?;
        if version.version > FORMAT_VERSION {
            return Err(VaultError::NewerFormat {
                path: self.metadata.clone(),
                found: version.version,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))
    }

    /// Replaces the accounts of the metadata file atomically, keeping its trash. Call with the
    /// lock held.
    fn write(&self, accounts: &[Account]) -> Result<(), VaultError> {
        let trash = self.read_file()?.trash;
        self.write_file(accounts, &trash)
    }

    /// Replaces the metadata file atomically. Call with the lock held.
    fn write_file(&self, accounts: &[Account], trash: &[Trashed]) -> Result<(), VaultError> {
        let file = MetadataFile {
            version: FORMAT_VERSION,
            accounts: accounts.to_vec(),
            trash: trash.to_vec(),
        };
        let mut bytes = serde_json::to_vec_pretty(&file)
            .map_err(|e| self.io("encode", &self.metadata, io::Error::other(e)))?;
        bytes.push(b'\n');
        replace_file(&self.dir, &self.metadata, &bytes)
            .map_err(|e| self.io("write", &self.metadata, e))
    }
}

/// Takes the directory's exclusive lock (released when the file is dropped).
fn lock(dir: &Path) -> Result<File, VaultError> {
    let path = dir.join(LOCK_FILE);
    let io = |action, source| VaultError::Io { action, path: path.clone(), source };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io("open", e))?;
    file.lock().map_err(|e| io("lock", e))?;
    remove_leftovers(dir, TEMP_PREFIX);
    Ok(file)
}

/// Removes the temporary files named `prefix…` in `dir`. Call with the lock their writers take
/// held: they are only alive while it is, so any found are leftovers of a writer that was killed.
pub(crate) fn remove_leftovers(dir: &Path, prefix: &str) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(prefix) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// Replaces `target` (in `dir`) with `bytes` atomically: temporary file (readable by the user
/// only), fsync, rename, fsync of the directory. Every small file Twofold rewrites goes through
/// here. In the vault's directory, call with the vault's lock held: taking it removes leftover
/// temporary files.
pub fn replace_file(dir: &Path, target: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_file_via(dir, target, bytes, TEMP_PREFIX)
}

/// [`replace_file`] with temporary files named `prefix…`, for writers that clean their leftovers
/// under a lock of their own.
pub(crate) fn replace_file_via(
    dir: &Path,
    target: &Path,
    bytes: &[u8],
    prefix: &str,
) -> io::Result<()> {
    // Unique per process and call, so concurrent writers never share a temporary file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = dir.join(format!("{prefix}{}-{n}", std::process::id()));
    let mut options = OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| {
        let mut out = options.open(&temp)?;
        out.write_all(bytes)?;
        out.sync_all()?;
        fs::rename(&temp, target)?;
        // The rename itself must reach the disk before the change counts as done.
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn read_id(dir: &Path) -> Result<Option<Uuid>, VaultError> {
    let path = dir.join(ID_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => Uuid::parse_str(text.trim())
            .map(Some)
            .map_err(|e| VaultError::Damaged { path, reason: e.to_string() }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(VaultError::Io { action: "read", path, source }),
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::MemoryKeystore;
    use crate::{Kind, OtpParams};

    fn credential(issuer: &str, name: &str, secret: &str) -> Credential {
        Credential {
            issuer: issuer.into(),
            name: name.into(),
            secret: Secret::from_base32(secret).unwrap(),
            otp: OtpParams::default(),
            icon: None,
        }
    }

    fn vault() -> (tempfile::TempDir, Vault<MemoryKeystore>) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path().join("data"), MemoryKeystore::default()).unwrap();
        (dir, vault)
    }

    #[test]
    fn add_stores_secret_in_keystore_and_never_in_metadata() {
        let (_dir, vault) = vault();
        let account = vault.add(credential("GitHub", "alice", "JBSWY3DPEHPK3PXP"), 100).unwrap();
        let text = fs::read_to_string(vault.metadata_path()).unwrap();
        assert!(text.contains("GitHub") && text.contains(&account.id.to_string()));
        assert!(!text.to_uppercase().contains("JBSWY3DP"), "{text}");
        assert_eq!(
            vault.secret(&account).unwrap(),
            Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap()
        );
        assert_eq!(vault.accounts().unwrap(), vec![account]);
    }

    #[test]
    fn a_pin_is_kept_with_the_secret_and_a_pin_kind_without_one_is_refused() {
        let (_dir, vault) = vault();
        let key = Secret::new(vec![0xe3, 0x15, 0x2a, 0xfe, 0xe6, 0x25, 0x99, 0xc8]);
        let motp = Credential { otp: OtpParams::MOTP, ..credential("Motp", "alice", "JBSWY3DP") };
        let err = vault.add(Credential { secret: key.clone(), ..motp.clone() }, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot add Motp (alice): mOTP codes need the account's PIN, and none is stored \
             with its secret"
        );
        let pinned = key.with_pin("sesame").unwrap();
        let account = vault.add(Credential { secret: pinned.clone(), ..motp }, 1).unwrap();
        assert_eq!(account.otp.kind, Kind::Motp);
        assert_eq!(vault.secret(&account).unwrap(), pinned);
        let text = fs::read_to_string(vault.metadata_path()).unwrap();
        assert!(text.contains("\"motp\"") && !text.contains("sesame"), "{text}");
    }

    #[test]
    fn duplicate_needs_same_issuer_name_and_secret() {
        let (_dir, vault) = vault();
        let first = vault.add(credential("GitHub", "alice", "JBSWY3DPEHPK3PXP"), 1).unwrap();
        let err = vault.add(credential("GitHub", "alice", "jbsw y3dp ehpk 3pxp"), 2).unwrap_err();
        assert!(matches!(err, VaultError::Duplicate { id, .. } if id == first.id));
        let again = credential("GitHub", "alice", "JBSWY3DPEHPK3PXP");
        assert_eq!(vault.find_duplicate(&again).unwrap().map(|a| a.id), Some(first.id));
        let other = credential("GitHub", "alice", "GEZDGNBVGY3TQOJQ");
        assert_eq!(vault.find_duplicate(&other).unwrap(), None);
        assert_eq!(err.to_string(), "GitHub (alice) is already in Twofold with the same secret");
        vault.add(credential("GitHub", "alice", "GEZDGNBVGY3TQOJQ"), 3).unwrap();
        vault.add(credential("GitHub", "bob", "JBSWY3DPEHPK3PXP"), 4).unwrap();
        assert_eq!(vault.accounts().unwrap().len(), 3);
    }

    #[test]
    fn failed_keystore_write_leaves_metadata_unchanged() {
        let (_dir, vault) = vault();
        vault.add(credential("A", "a", "JBSWY3DPEHPK3PXP"), 1).unwrap();
        let before = fs::read(vault.metadata_path()).unwrap();
        vault.keystore().fail_next_store();
        let err = vault.add(credential("B", "b", "GEZDGNBVGY3TQOJQ"), 2).unwrap_err();
        assert!(matches!(err, VaultError::Keystore(_)), "{err}");
        assert_eq!(fs::read(vault.metadata_path()).unwrap(), before);
        assert_eq!(vault.keystore().len(), 1);
    }

    #[test]
    fn invalid_parameters_are_refused_before_anything_is_written() {
        let (_dir, vault) = vault();
        let mut bad = credential("A", "a", "JBSWY3DPEHPK3PXP");
        bad.otp.digits = 12;
        let err = vault.add(bad, 1).unwrap_err();
        assert!(err.to_string().starts_with("cannot add A (a): 12 digits"), "{err}");
        assert!(vault.keystore().is_empty());
        assert!(vault.stamp().unwrap().is_none());
    }

    #[test]
    fn remove_deletes_metadata_then_secret() {
        let (_dir, vault) = vault();
        let a = vault.add(credential("A", "a", "JBSWY3DPEHPK3PXP"), 1).unwrap();
        let b = vault.add(credential("B", "b", "GEZDGNBVGY3TQOJQ"), 1).unwrap();
        assert_eq!(vault.remove(a.id).unwrap().id, a.id);
        assert_eq!(vault.accounts().unwrap(), vec![b]);
        assert!(vault.keystore().load(a.id).unwrap().is_none());
        assert!(matches!(vault.remove(a.id), Err(VaultError::NotFound { .. })));
    }

    #[test]
    fn reconcile_reports_orphans_and_missing_without_deleting() {
        let (_dir, vault) = vault();
        let a = vault.add(credential("A", "a", "JBSWY3DPEHPK3PXP"), 1).unwrap();
        let orphan = Uuid::new_v4();
        vault.keystore().store(orphan, vault.id(), "x", &Secret::new(vec![1; 10])).unwrap();
        // An entry of another vault in the same keyring is not an orphan of this one.
        vault
            .keystore()
            .store(Uuid::new_v4(), Uuid::new_v4(), "y", &Secret::new(vec![2; 10]))
            .unwrap();
        vault.keystore().forget(a.id);
        let report = vault.reconcile().unwrap();
        assert_eq!(report.orphan_secrets, vec![orphan]);
        assert_eq!(report.missing_secrets, vec![a.id]);
        assert_eq!(vault.accounts().unwrap().len(), 1);
        assert!(vault.keystore().load(orphan).unwrap().is_some());
        let err = vault.secret(&a).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the secret of A (a) is missing from the system keyring; re-add the account"
        );
    }

    #[test]
    fn consume_counter_hands_out_each_counter_once() {
        let (_dir, vault) = vault();
        let mut c = credential("H", "h", "JBSWY3DPEHPK3PXP");
        c.otp = OtpParams { kind: Kind::Hotp, counter: 5, ..OtpParams::default() };
        let a = vault.add(c, 1).unwrap();
        assert_eq!(vault.consume_counter(a.id).unwrap(), 5);
        assert_eq!(vault.consume_counter(a.id).unwrap(), 6);
        assert_eq!(vault.account(a.id).unwrap().otp.counter, 7);
    }

    #[test]
    fn damaged_or_newer_file_is_reported_and_left_alone() {
        let (_dir, vault) = vault();
        fs::write(vault.metadata_path(), b"{\"version\":1,\"accounts\":[{").unwrap();
        let err = vault.accounts().unwrap_err();
        assert!(err.to_string().contains("is damaged"), "{err}");
        assert!(vault.add(credential("A", "a", "JBSWY3DPEHPK3PXP"), 1).is_err());
        assert_eq!(fs::read(vault.metadata_path()).unwrap(), b"{\"version\":1,\"accounts\":[{");
        fs::write(vault.metadata_path(), b"{\"version\":9,\"accounts\":[]}").unwrap();
        assert!(matches!(vault.accounts(), Err(VaultError::NewerFormat { found: 9, .. })));
    }

    #[test]
    fn stale_temp_files_are_cleaned_and_stamp_changes_on_write() {
        let (_dir, vault) = vault();
        let stale = vault.dir.join(format!("{TEMP_PREFIX}999999"));
        fs::write(&stale, b"partial").unwrap();
        let a = vault.add(credential("A", "a", "JBSWY3DPEHPK3PXP"), 1).unwrap();
        assert!(!stale.exists());
        let before = vault.stamp().unwrap().unwrap();
        vault.rename(a.id, "A2".into(), "a2".into()).unwrap();
        assert_ne!(vault.stamp().unwrap().unwrap(), before);
        assert_eq!(vault.account(a.id).unwrap().issuer, "A2");
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let (_dir, vault) = vault();
        let dir = vault.dir.clone();
        std::thread::scope(|s| {
            for t in 0..4 {
                let dir = dir.clone();
                s.spawn(move || {
                    // Separate Vault values, as separate processes would have.
                    let v = Vault::open(dir, MemoryKeystore::default()).unwrap();
                    for i in 0..10 {
                        let secret = Secret::new(vec![t as u8, i as u8, 1, 2, 3, 4, 5, 6, 7, 8]);
                        let c = Credential {
                            secret,
                            ..credential(&format!("T{t}"), &format!("{i}"), "AA")
                        };
                        v.add(c, 1).unwrap();
                    }
                });
            }
        });
        assert_eq!(vault.accounts().unwrap().len(), 40);
    }
}
