//! The keystore file: every secret of one vault (account secrets, the app lock's hash, the
//! automatic backup's passphrase, the trusted device's keys) in one file of the data directory,
//! encrypted with a passphrase, for machines without a Secret Service or people who prefer a file.
//!
//! # Format, version 1
//!
//! The sealed-file layout of [`crate::seal`] (Argon2id, XChaCha20-Poly1305, the same primitives as
//! backups) with magic `TWOFOLDK` and no readable fields of its own: the 64 common bytes, the
//! 16-byte key check, then the payload and its tag. Keys are split off Argon2id's output with the
//! labels "twofold keystore v1 encryption key" and "twofold keystore v1 key check", so a keystore
//! and a backup never share a key. The payload is UTF-8 JSON: `{"entries": [{"service", "id",
//! "vault", "label", "secret"}]}`, `secret` as [`Secret::to_stored`] writes it (base32 without
//! padding, then `:` and the PIN for the kinds that have one).
//!
//! The passphrase is derived once per process, when the file is unlocked; each write keeps the
//! salt and cost (so the same key) and draws a fresh nonce. Writes take `secrets.lock`, re-read the
//! file (another process may have changed it), and replace it atomically (temporary file, fsync,
//! rename, fsync of the directory): a writer killed at any moment leaves the old file or the new one.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

use super::{DEVICE_KEY_SERVICE, Keystore, KeystoreError, SERVICE};
use crate::Secret;
use crate::import::Password;
use crate::seal::{self, HeaderProblem, KdfCost, Keys, Labels, Sealing};
use crate::vault::{remove_leftovers, replace_file_via};

/// Name of the keystore file inside the data directory.
pub const FILE_NAME: &str = "secrets.twofold";
/// The first bytes of a keystore file.
pub const MAGIC: &[u8; 8] = b"TWOFOLDK";
/// The format version this Twofold writes and the newest it reads.
pub const VERSION: u16 = 1;
const HEADER_LEN: usize = seal::COMMON_LEN + seal::KEY_CHECK_LEN;
const LOCK_FILE: &str = "secrets.lock";
/// Temporary files of keystore writes; apart from the vault's, whose writers clean theirs under a
/// different lock.
const TEMP_PREFIX: &str = ".secrets-tmp-";
const LABELS: Labels = Labels {
    encryption: b"twofold keystore v1 encryption key",
    check: b"twofold keystore v1 key check",
};

/// One secret of the file: which keystore view it belongs to (account secrets or device keys),
/// its id, the vault it is filed under, and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// [`SERVICE`] or [`DEVICE_KEY_SERVICE`].
    pub service: String,
    /// The entry's id (an account's, a paired server's, or a derived one).
    pub id: Uuid,
    /// The vault it is filed under (what [`Keystore::ids`] filters on).
    pub vault: Uuid,
    /// What it is, for people.
    pub label: String,
    /// The secret.
    pub secret: Secret,
}

#[derive(Serialize)]
struct PayloadOut<'a> {
    entries: Vec<StoredOut<'a>>,
}

#[derive(Serialize)]
struct StoredOut<'a> {
    service: &'a str,
    id: Uuid,
    vault: Uuid,
    label: &'a str,
    secret: &'a str,
}

#[derive(Deserialize)]
struct PayloadIn {
    entries: Vec<StoredIn>,
}

/// An entry as read; its base32 secret is wiped on drop.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredIn {
    service: String,
    id: Uuid,
    vault: Uuid,
    label: String,
    secret: String,
}

impl Drop for StoredIn {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// Identity of one version of the file: changes whenever it is replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    modified: Option<std::time::SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

fn version_of(meta: &fs::Metadata) -> Version {
    Version {
        modified: meta.modified().ok(),
        len: meta.len(),
        #[cfg(unix)]
        inode: std::os::unix::fs::MetadataExt::ino(meta),
    }
}

struct State {
    sealing: Sealing,
    keys: Keys,
    entries: Vec<FileEntry>,
    seen: Option<Version>,
}

struct Shared {
    dir: PathBuf,
    path: PathBuf,
    state: Mutex<State>,
}

/// The keystore file of one vault, unlocked. Clones share one unlocked state.
#[derive(Clone)]
pub struct FileKeystore {
    shared: Arc<Shared>,
    service: &'static str,
}

impl std::fmt::Debug for FileKeystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKeystore")
            .field("path", &self.shared.path)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

fn file_error(path: &Path, action: &str, err: impl std::fmt::Display) -> KeystoreError {
    KeystoreError::File { reason: format!("cannot {action} {}: {err}", path.display()) }
}

fn damaged(path: &Path, problem: impl std::fmt::Display) -> KeystoreError {
    KeystoreError::File {
        reason: format!(
            "the secrets file {} is damaged: {problem}; restore it from a backup",
            path.display()
        ),
    }
}

/// The keystore file of the vault in `dir`.
pub fn path_in(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

impl FileKeystore {
    /// Creates the keystore file in `dir` holding `entries`, sealed with `passphrase` at `cost`,
    /// replacing any file there (the caller decides whether one may be replaced).
    pub fn create(
        dir: &Path,
        passphrase: &Password,
        cost: KdfCost,
        entries: Vec<FileEntry>,
    ) -> Result<Self, KeystoreError> {
        if passphrase.expose().is_empty() {
            return Err(KeystoreError::EmptyPassphrase);
        }
        let sealing =
            Sealing::fresh(cost).map_err(|e| KeystoreError::Failure { reason: e.to_string() })?;
        let keys = Keys::derive(&sealing, passphrase.expose(), &LABELS)
            .ok_or_else(|| KeystoreError::Failure { reason: format!("cannot use {cost}") })?;
        let shared = Shared {
            dir: dir.to_owned(),
            path: path_in(dir),
            state: Mutex::new(State { sealing, keys, entries, seen: None }),
        };
        let keystore = Self { shared: Arc::new(shared), service: SERVICE };
        {
            let _lock = keystore.lock()?;
            let mut state = keystore.state();
            keystore.write(&mut state)?;
        }
        Ok(keystore)
    }

    /// Opens the keystore file in `dir` with its passphrase (the slow step: Argon2id at the cost
    /// the file names, refused beyond the cap).
    pub fn unlock(dir: &Path, passphrase: &Password) -> Result<Self, KeystoreError> {
        let path = path_in(dir);
        let (bytes, seen) = read_file(&path)?;
        let sealing = parse(&path, &bytes)?;
        let keys = Keys::derive(&sealing, passphrase.expose(), &LABELS).ok_or_else(|| {
            damaged(&path, format!("its key derivation settings ({}) are not valid", sealing.cost))
        })?;
        if !keys.opens(&bytes[seal::COMMON_LEN..HEADER_LEN]) {
            return Err(KeystoreError::WrongPassphrase);
        }
        let entries = open(&path, &keys, &sealing, &bytes)?;
        let shared = Shared {
            dir: dir.to_owned(),
            path,
            state: Mutex::new(State { sealing, keys, entries, seen: Some(seen) }),
        };
        Ok(Self { shared: Arc::new(shared), service: SERVICE })
    }

    /// Whether the vault in `dir` has a keystore file.
    pub fn exists(dir: &Path) -> bool {
        path_in(dir).exists()
    }

    /// The same file's trusted-device keys, under [`DEVICE_KEY_SERVICE`] rather than [`SERVICE`].
    pub fn device_keys(&self) -> Self {
        Self { shared: Arc::clone(&self.shared), service: DEVICE_KEY_SERVICE }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The key derivation cost the file was sealed with.
    pub fn cost(&self) -> KdfCost {
        self.state().sealing.cost
    }

    /// Every entry of the file, of every view, as it is now on disk.
    pub fn entries(&self) -> Result<Vec<FileEntry>, KeystoreError> {
        let mut state = self.state();
        self.refresh(&mut state)?;
        Ok(state.entries.clone())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A thread that panicked mid-call left whole entries behind (each change is one push,
        // retain or assignment): the state is still usable.
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the file's exclusive lock (released when dropped) and clears what killed writers left.
    fn lock(&self) -> Result<File, KeystoreError> {
        let path = self.shared.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| file_error(&path, "open", e))?;
        file.lock().map_err(|e| file_error(&path, "lock", e))?;
        remove_leftovers(&self.shared.dir, TEMP_PREFIX);
        Ok(file)
    }

    /// Re-reads the file when another process (or another handle) replaced it since.
    fn refresh(&self, state: &mut State) -> Result<(), KeystoreError> {
        let path = &self.shared.path;
        let meta = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(KeystoreError::File {
                    reason: format!(
                        "the secrets file {} is gone; restore it from a backup",
                        path.display()
                    ),
                });
            }
            Err(e) => return Err(file_error(path, "read", e)),
        };
        if state.seen.as_ref() == Some(&version_of(&meta)) {
            return Ok(());
        }
        let (bytes, seen) = read_file(path)?;
        let sealing = parse(path, &bytes)?;
        if sealing.salt != state.sealing.salt
            || sealing.cost != state.sealing.cost
            || !state.keys.opens(&bytes[seal::COMMON_LEN..HEADER_LEN])
        {
            return Err(KeystoreError::File {
                reason:
                    "the secrets file was sealed again with another passphrase; unlock it again"
                        .to_owned(),
            });
        }
        state.entries = open(path, &state.keys, &sealing, &bytes)?;
        state.sealing = sealing;
        state.seen = Some(seen);
        Ok(())
    }

    /// Seals the state's entries under a fresh nonce and replaces the file. Call with the lock held.
    fn write(&self, state: &mut State) -> Result<(), KeystoreError> {
        let path = &self.shared.path;
        let sealing = state
            .sealing
            .renewed()
            .map_err(|e| KeystoreError::Failure { reason: e.to_string() })?;
        let secrets: Vec<Zeroizing<String>> =
            state.entries.iter().map(|e| e.secret.to_stored()).collect();
        let payload = PayloadOut {
            entries: state
                .entries
                .iter()
                .zip(&secrets)
                .map(|(e, secret)| StoredOut {
                    service: &e.service,
                    id: e.id,
                    vault: e.vault,
                    label: &e.label,
                    secret,
                })
                .collect(),
        };
        let buffer = seal::json_zeroizing(&payload);
        let mut header = [0u8; HEADER_LEN];
        sealing.write_common(&mut header, MAGIC, VERSION);
        header[seal::COMMON_LEN..].copy_from_slice(state.keys.check());
        let bytes = state.keys.seal(&sealing.nonce, &header, buffer).ok_or_else(|| {
            KeystoreError::Failure { reason: "the secrets are too large to seal".to_owned() }
        })?;
        replace_file_via(&self.shared.dir, path, &bytes, TEMP_PREFIX)
            .map_err(|e| file_error(path, "write", e))?;
        state.sealing = sealing;
        state.seen = fs::metadata(path).ok().map(|m| version_of(&m));
        Ok(())
    }

    /// Applies `change` to the newest entries and writes them, under the lock.
    fn change(&self, change: impl FnOnce(&mut Vec<FileEntry>)) -> Result<(), KeystoreError> {
        let _lock = self.lock()?;
        let mut state = self.state();
        self.refresh(&mut state)?;
        let before = state.entries.clone();
        change(&mut state.entries);
        if let Err(err) = self.write(&mut state) {
            // The file on disk is the old one: keep memory the same.
            state.entries = before;
            return Err(err);
        }
        Ok(())
    }
}

fn read_file(path: &Path) -> Result<(Zeroizing<Vec<u8>>, Version), KeystoreError> {
    let mut file = File::open(path).map_err(|e| file_error(path, "open", e))?;
    let meta = file.metadata().map_err(|e| file_error(path, "read", e))?;
    let mut bytes = Zeroizing::new(Vec::new());
    io::Read::read_to_end(&mut file, &mut bytes).map_err(|e| file_error(path, "read", e))?;
    Ok((bytes, version_of(&meta)))
}

/// The header's sealing, checked against the cap before any key derivation runs.
fn parse(path: &Path, bytes: &[u8]) -> Result<Sealing, KeystoreError> {
    let (_, sealing) = seal::read_common(bytes, MAGIC, VERSION).map_err(|p| match p {
        HeaderProblem::Foreign => damaged(path, "it is not a Twofold secrets file"),
        HeaderProblem::Newer(found) => KeystoreError::File {
            reason: format!(
                "the secrets file {} was written by a newer Twofold (format {found}; this one \
                 reads up to {VERSION}): update Twofold",
                path.display()
            ),
        },
        HeaderProblem::Damaged(problem) => damaged(path, problem),
    })?;
    if bytes.len() < HEADER_LEN + seal::TAG_LEN {
        return Err(damaged(path, "it is cut short"));
    }
    if !sealing.cost.within_limits() {
        return Err(damaged(
            path,
            format!(
                "it asks for a key derivation far costlier than Twofold makes ({})",
                sealing.cost
            ),
        ));
    }
    Ok(sealing)
}

fn open(
    path: &Path,
    keys: &Keys,
    sealing: &Sealing,
    bytes: &[u8],
) -> Result<Vec<FileEntry>, KeystoreError> {
    let buffer = keys.open(&sealing.nonce, bytes, HEADER_LEN).ok_or_else(|| {
        damaged(path, "its contents were cut short or changed after it was written")
    })?;
    let payload: PayloadIn = serde_json::from_slice(&buffer).map_err(|e| {
        // serde's message can quote a value, which could be a secret: give only the place.
        damaged(
            path,
            format!("its entries cannot be read (line {}, column {})", e.line(), e.column()),
        )
    })?;
    let mut entries = Vec::with_capacity(payload.entries.len());
    for mut stored in payload.entries {
        let secret = Secret::from_stored(&stored.secret)
            .map_err(|_| damaged(path, format!("entry {} does not hold a secret", stored.id)))?;
        entries.push(FileEntry {
            service: std::mem::take(&mut stored.service),
            id: stored.id,
            vault: stored.vault,
            label: std::mem::take(&mut stored.label),
            secret,
        });
    }
    Ok(entries)
}

impl Keystore for FileKeystore {
    fn store(
        &self,
        id: Uuid,
        vault: Uuid,
        label: &str,
        secret: &Secret,
    ) -> Result<(), KeystoreError> {
        let entry = FileEntry {
            service: self.service.to_owned(),
            id,
            vault,
            label: label.to_owned(),
            secret: secret.clone(),
        };
        self.change(|entries| {
            entries.retain(|e| !(e.service == self.service && e.id == id));
            entries.push(entry);
        })
    }

    fn load(&self, id: Uuid) -> Result<Option<Secret>, KeystoreError> {
        let mut state = self.state();
        self.refresh(&mut state)?;
        Ok(state
            .entries
            .iter()
            .find(|e| e.service == self.service && e.id == id)
            .map(|e| e.secret.clone()))
    }

    fn delete(&self, id: Uuid) -> Result<(), KeystoreError> {
        if self.load(id)?.is_none() {
            return Ok(());
        }
        self.change(|entries| entries.retain(|e| !(e.service == self.service && e.id == id)))
    }

    fn ids(&self, vault: Uuid) -> Result<Option<Vec<Uuid>>, KeystoreError> {
        let mut state = self.state();
        self.refresh(&mut state)?;
        let mut ids: Vec<Uuid> = state
            .entries
            .iter()
            .filter(|e| e.service == self.service && e.vault == vault)
            .map(|e| e.id)
            .collect();
        ids.sort_unstable();
        Ok(Some(ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: KdfCost = KdfCost { memory_kib: 64, passes: 1, lanes: 1 };

    fn password(text: &str) -> Password {
        Password::new(text.to_owned())
    }

    #[test]
    fn secrets_round_trip_through_the_file_and_never_appear_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let keystore =
            FileKeystore::create(dir.path(), &password("pass phrase"), CHEAP, vec![]).unwrap();
        let (vault, id, server) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        keystore.store(id, vault, "GitHub (alice)", &secret).unwrap();
        let (motp, pinned) = (Uuid::new_v4(), Secret::new(vec![0xe3; 8]).with_pin("4711").unwrap());
        keystore.store(motp, vault, "Motp", &pinned).unwrap();
        keystore
            .device_keys()
            .store(server, Uuid::nil(), "device", &Secret::new(vec![9; 40]))
            .unwrap();
        let bytes = fs::read(keystore.path()).unwrap();
        assert!(bytes.starts_with(MAGIC));
        let text = String::from_utf8_lossy(&bytes).to_uppercase();
        assert!(!text.contains("JBSWY3DP") && !text.contains("GITHUB"));

        assert!(!text.contains("4711"), "the PIN is sealed with the key");

        let again = FileKeystore::unlock(dir.path(), &password("pass phrase")).unwrap();
        assert_eq!(again.load(id).unwrap(), Some(secret));
        assert_eq!(again.load(motp).unwrap().unwrap().pin(), Some("4711"));
        let mut ids = vec![id, motp];
        ids.sort_unstable();
        assert_eq!(again.ids(vault).unwrap(), Some(ids));
        // The views are apart: device keys are not account secrets and the other way round.
        assert_eq!(again.load(server).unwrap(), None);
        assert_eq!(again.device_keys().load(id).unwrap(), None);
        assert_eq!(again.device_keys().ids(Uuid::nil()).unwrap(), Some(vec![server]));
        assert_eq!(again.cost(), CHEAP);
    }

    #[test]
    fn a_wrong_passphrase_is_told_apart_from_damage() {
        let dir = tempfile::tempdir().unwrap();
        FileKeystore::create(dir.path(), &password("right one"), CHEAP, vec![]).unwrap();
        let err = FileKeystore::unlock(dir.path(), &password("wrong one")).unwrap_err();
        assert_eq!(err, KeystoreError::WrongPassphrase);
        let path = path_in(dir.path());
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let err = FileKeystore::unlock(dir.path(), &password("right one")).unwrap_err();
        assert!(err.to_string().contains("is damaged"), "{err}");
        // A forged cost far beyond the cap is refused before any derivation runs.
        bytes[11..15].copy_from_slice(&u32::MAX.to_be_bytes());
        fs::write(&path, &bytes).unwrap();
        let err = FileKeystore::unlock(dir.path(), &password("right one")).unwrap_err();
        assert!(err.to_string().contains("far costlier"), "{err}");
        assert!(FileKeystore::create(dir.path(), &password(""), CHEAP, vec![]).is_err());
    }

    #[test]
    fn two_handles_see_each_others_writes_and_lose_none() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Uuid::new_v4();
        FileKeystore::create(dir.path(), &password("shared"), CHEAP, vec![]).unwrap();
        std::thread::scope(|s| {
            for t in 0..4u8 {
                let dir = dir.path().to_owned();
                s.spawn(move || {
                    // Separate unlocks, as separate processes would have.
                    let k = FileKeystore::unlock(&dir, &password("shared")).unwrap();
                    for i in 0..5u8 {
                        k.store(Uuid::new_v4(), vault, "x", &Secret::new(vec![t, i, 1, 2]))
                            .unwrap();
                    }
                });
            }
        });
        let k = FileKeystore::unlock(dir.path(), &password("shared")).unwrap();
        let ids = k.ids(vault).unwrap().unwrap();
        assert_eq!(ids.len(), 20);
        k.delete(ids[0]).unwrap();
        k.delete(ids[0]).unwrap();
        assert_eq!(k.ids(vault).unwrap().unwrap().len(), 19);
    }

    #[test]
    fn a_file_sealed_again_under_another_passphrase_asks_to_unlock_again() {
        let dir = tempfile::tempdir().unwrap();
        let first = FileKeystore::create(dir.path(), &password("first"), CHEAP, vec![]).unwrap();
        FileKeystore::create(dir.path(), &password("second"), CHEAP, vec![]).unwrap();
        let err = first.load(Uuid::new_v4()).unwrap_err();
        assert!(err.to_string().contains("unlock it again"), "{err}");
    }
}
