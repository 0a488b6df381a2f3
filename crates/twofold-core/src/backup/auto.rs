//! Automatic backups: after each change to the vault, an encrypted backup into a folder, keeping the
//! last N.
//!
//! The hook is [`after_change`], which the app and the CLI call once a change has succeeded, rather
//! than code inside the vault: the vault's write order (secret first, metadata second, under its
//! lock) stays as it is, the backup reads the finished state the way any reader does, and the slow
//! key derivation runs outside the vault's lock, so other writers never wait for it. A failed backup
//! never undoes the change it follows; callers report it as a warning.
//!
//! Settings live in `backup-settings.json` in the data directory (on or off, how many to keep, the
//! folder: default `<data dir>/backups`). The passphrase lives in the OS keyring, in one entry of the
//! vault's keystore under an id derived from the vault's id (and not tagged with the vault, so
//! [`Vault::reconcile`] does not take it for an orphaned account secret).

use std::fs;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{BackupError, Header, KdfCost, Sealing};
use crate::Secret;
use crate::import::Password;
use crate::keystore::{Keystore, KeystoreError};
use crate::vault::{Vault, VaultError, replace_file};

/// Name of the settings file inside the data directory.
pub const SETTINGS_FILE: &str = "backup-settings.json";
/// How many automatic backups are kept unless told otherwise.
pub const DEFAULT_KEEP: u32 = 10;
/// The default folder's name inside the data directory.
pub const DEFAULT_FOLDER: &str = "backups";
/// How automatic backups' file names start (see [`file_name`]).
const FILE_PREFIX: &str = "twofold-";
/// The extension of every backup file Twofold names.
pub const FILE_EXTENSION: &str = "backup";
const SETTINGS_VERSION: u32 = 1;
/// Mixed into the vault's id to name the passphrase's keyring entry.
const PASSPHRASE_ID_MASK: u128 = 0x6261_636b_7570_2d70_6173_7370_6872_6173;
pub(crate) const PASSPHRASE_LABEL: &str = "automatic backup passphrase";

/// How automatic backups are made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Whether a backup is written after each change.
    pub enabled: bool,
    /// How many of the newest automatic backups are kept (at least 1).
    pub keep: u32,
    /// The folder; `None` means `<data dir>/backups`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self { enabled: false, keep: DEFAULT_KEEP, dir: None }
    }
}

#[derive(Serialize, Deserialize)]
struct SettingsFile {
    version: u32,
    #[serde(flatten)]
    settings: Settings,
}

/// The data directory of a vault (where its metadata file is).
fn data_dir<K: Keystore>(vault: &Vault<K>) -> &Path {
    vault.metadata_path().parent().unwrap_or(Path::new("."))
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BackupError {
    let path = path.to_owned();
    move |source| BackupError::Io { action, path, source }
}

/// The automatic backup settings of `vault` (the defaults, off, when none were saved).
pub fn settings<K: Keystore>(vault: &Vault<K>) -> Result<Settings, BackupError> {
    let path = data_dir(vault).join(SETTINGS_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(e) => return Err(io_error("read", &path)(e)),
    };
    let file: SettingsFile = serde_json::from_slice(&bytes).map_err(|e| BackupError::Damaged {
        problem: format!("the settings file {} cannot be read: {e}", path.display()),
    })?;
    if file.version > SETTINGS_VERSION {
        return Err(BackupError::Damaged {
            problem: format!(
                "the settings file {} was written by a newer Twofold (version {})",
                path.display(),
                file.version
            ),
        });
    }
    Ok(file.settings)
}

fn save_settings<K: Keystore>(vault: &Vault<K>, settings: &Settings) -> Result<(), BackupError> {
    let dir = data_dir(vault);
    let path = dir.join(SETTINGS_FILE);
    let file = SettingsFile { version: SETTINGS_VERSION, settings: settings.clone() };
    let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| BackupError::Damaged {
        problem: format!("the settings cannot be written: {e}"),
    })?;
    bytes.push(b'\n');
    replace_file(dir, &path, &bytes).map_err(io_error("write", &path))
}

/// The folder automatic backups go to under `settings`.
pub fn folder<K: Keystore>(vault: &Vault<K>, settings: &Settings) -> PathBuf {
    settings.dir.clone().unwrap_or_else(|| data_dir(vault).join(DEFAULT_FOLDER))
}

/// The keyring id of `vault`'s automatic backup passphrase.
pub(crate) fn passphrase_id(vault: Uuid) -> Uuid {
    Uuid::from_u128(vault.as_u128() ^ PASSPHRASE_ID_MASK)
}

/// Turns automatic backups on: stores the passphrase in the keyring, saves the settings (`keep`
/// at least 1; `dir` `None` for the default folder) and writes a first backup now.
pub fn turn_on<K: Keystore>(
    vault: &Vault<K>,
    passphrase: &Password,
    keep: u32,
    dir: Option<PathBuf>,
    now_unix_ms: u64,
) -> Result<Written, BackupError> {
    if passphrase.expose().is_empty() {
        return Err(BackupError::EmptyPassphrase);
    }
    let settings = Settings { enabled: true, keep: keep.max(1), dir };
    let id = passphrase_id(vault.id());
    vault
        .keystore()
        .store(id, id, PASSPHRASE_LABEL, &Secret::new(passphrase.expose().to_vec()))
        .map_err(VaultError::from)?;
    save_settings(vault, &settings)?;
    write_now(vault, &settings, passphrase, now_unix_ms)
}

/// Changes how many backups are kept and where (`dir` `None` for the default folder), leaving them
/// on or off and their passphrase as they are. Takes effect at the next backup.
pub fn set_options<K: Keystore>(
    vault: &Vault<K>,
    keep: u32,
    dir: Option<PathBuf>,
) -> Result<Settings, BackupError> {
    let settings = Settings { keep: keep.max(1), dir, ..settings(vault)? };
    save_settings(vault, &settings)?;
    Ok(settings)
}

/// Turns automatic backups off and removes their passphrase from the keyring. Backups already
/// written stay.
pub fn turn_off<K: Keystore>(vault: &Vault<K>) -> Result<(), BackupError> {
    let settings = Settings { enabled: false, ..settings(vault)? };
    save_settings(vault, &settings)?;
    vault.keystore().delete(passphrase_id(vault.id())).map_err(VaultError::from)?;
    Ok(())
}

/// One automatic backup written.
#[derive(Debug)]
pub struct Written {
    /// The new file.
    pub path: PathBuf,
    /// How many accounts it holds.
    pub accounts: usize,
    /// Accounts left out because their secret is missing from the keyring (by label).
    pub missing: Vec<String>,
    /// Older automatic backups deleted to keep the newest N.
    pub pruned: Vec<PathBuf>,
}

/// Call after each successful change to the vault: writes an automatic backup when they are on
/// (`Ok(None)` when they are off) and prunes the folder to the newest N.
pub fn after_change<K: Keystore>(
    vault: &Vault<K>,
    now_unix_ms: u64,
) -> Result<Option<Written>, BackupError> {
    let settings = settings(vault)?;
    if !settings.enabled {
        return Ok(None);
    }
    let id = passphrase_id(vault.id());
    let stored = vault.keystore().load(id).map_err(VaultError::from)?.ok_or_else(|| {
        VaultError::Keystore(KeystoreError::Failure {
            reason: "automatic backups are on but their passphrase is not in the keyring; turn \
                     them on again to set it"
                .to_owned(),
        })
    })?;
    let text = std::str::from_utf8(stored.expose())
        .map_err(|_| VaultError::Keystore(KeystoreError::Damaged { id }))?;
    let passphrase = Password::new(text.to_owned());
    write_now(vault, &settings, &passphrase, now_unix_ms).map(Some)
}

/// [`after_change`] for a program that notices changes rather than making them (the app, which
/// watches the account list that it and the CLI change): writes a backup only when the newest
/// automatic backup is older than the account list, so a change the CLI has already backed up is
/// not backed up twice.
pub fn catch_up<K: Keystore>(
    vault: &Vault<K>,
    now_unix_ms: u64,
) -> Result<Option<Written>, BackupError> {
    let settings = settings(vault)?;
    if !settings.enabled {
        return Ok(None);
    }
    let modified = |path: &Path| fs::metadata(path).and_then(|m| m.modified());
    let list = vault.metadata_path();
    let changed = match modified(list) {
        Ok(time) => time,
        // No account list yet: nothing has changed.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", list)(e)),
    };
    let newest = automatic_files(&folder(vault, &settings))?.last().map(|p| modified(p));
    // Strictly newer: file times tick coarsely (a few ms), and a tie is backed up to be safe.
    if newest.is_some_and(|written| written.is_ok_and(|written| written > changed)) {
        return Ok(None);
    }
    after_change(vault, now_unix_ms)
}

fn write_now<K: Keystore>(
    vault: &Vault<K>,
    settings: &Settings,
    passphrase: &Password,
    now_unix_ms: u64,
) -> Result<Written, BackupError> {
    let (entries, missing) = super::snapshot(vault)?;
    let bytes = super::write(
        &entries,
        passphrase,
        now_unix_ms / 1000,
        &Sealing::fresh(KdfCost::default())?,
    )?;
    let folder = folder(vault, settings);
    create_private_dir(&folder).map_err(io_error("create", &folder))?;
    let path = free_name(&folder, now_unix_ms);
    replace_file(&folder, &path, &bytes).map_err(io_error("write", &path))?;
    let pruned = prune(&folder, settings.keep)?;
    tracing::info!(path = %path.display(), accounts = entries.len(), "automatic backup written");
    Ok(Written { path, accounts: entries.len(), missing, pruned })
}

/// The name Twofold gives a backup made at `now_unix_ms`: `twofold-YYYYMMDD-HHMMSS-mmm.backup`
/// (UTC), so that names sort by time.
pub fn file_name(now_unix_ms: u64) -> String {
    format!("{}.{FILE_EXTENSION}", stem(now_unix_ms))
}

fn stem(now_unix_ms: u64) -> String {
    let ((year, month, day), (hour, minute, second)) = utc_parts(now_unix_ms / 1000);
    format!(
        "{FILE_PREFIX}{year:04}{month:02}{day:02}-{hour:02}{minute:02}{second:02}-{:03}",
        now_unix_ms % 1000
    )
}

/// A file name for a backup made at `now_unix_ms` that no file in `folder` has yet.
fn free_name(folder: &Path, now_unix_ms: u64) -> PathBuf {
    let mut path = folder.join(file_name(now_unix_ms));
    let mut n = 1;
    while path.exists() {
        path = folder.join(format!("{}-{n}.{FILE_EXTENSION}", stem(now_unix_ms)));
        n += 1;
    }
    path
}

/// Whether `name` is an automatic backup's file name.
fn is_automatic(name: &str) -> bool {
    name.starts_with(FILE_PREFIX)
        && name.ends_with(&format!(".{FILE_EXTENSION}"))
        && name.as_bytes().get(FILE_PREFIX.len()).is_some_and(u8::is_ascii_digit)
}

/// The automatic backups in `folder`, oldest first (by name, which sorts by time).
fn automatic_files(folder: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("read", folder)(e)),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(is_automatic))
        .map(|e| e.path())
        .collect();
    files.sort();
    Ok(files)
}

/// Deletes all but the newest `keep` automatic backups in `folder`; returns what was deleted.
fn prune(folder: &Path, keep: u32) -> Result<Vec<PathBuf>, BackupError> {
    let files = automatic_files(folder)?;
    let excess = files.len().saturating_sub(keep.max(1) as usize);
    let mut pruned = Vec::with_capacity(excess);
    for path in files.into_iter().take(excess) {
        fs::remove_file(&path).map_err(io_error("delete", &path))?;
        pruned.push(path);
    }
    Ok(pruned)
}

/// One automatic backup found in the folder.
#[derive(Debug)]
pub struct Listed {
    /// The file.
    pub path: PathBuf,
    /// Its date and account count, or why its header cannot be read.
    pub header: Result<Header, BackupError>,
}

/// The automatic backups of `vault`'s folder, newest first, with their dates and counts (read from
/// their headers, without the passphrase).
pub fn list<K: Keystore>(vault: &Vault<K>) -> Result<Vec<Listed>, BackupError> {
    let folder = folder(vault, &settings(vault)?);
    let mut listed = Vec::new();
    for path in automatic_files(&folder)?.into_iter().rev() {
        let mut head = Vec::with_capacity(super::HEADER_LEN);
        let read = fs::File::open(&path)
            .and_then(|f| f.take(super::HEADER_LEN as u64).read_to_end(&mut head));
        let header = match read {
            Ok(_) => super::inspect(&head),
            Err(e) => Err(io_error("read", &path)(e)),
        };
        listed.push(Listed { path, header });
    }
    Ok(listed)
}

/// The automatic backup of `vault`'s folder whose file name is `name`, or `None` when no backup
/// listed there has that name (a path, another folder's file, a file Twofold did not name). What
/// a restore by name may open: only what [`list`] shows.
pub fn named<K: Keystore>(vault: &Vault<K>, name: &str) -> Result<Option<PathBuf>, BackupError> {
    let folder = folder(vault, &settings(vault)?);
    Ok(automatic_files(&folder)?
        .into_iter()
        .find(|path| path.file_name().is_some_and(|file| file == std::ffi::OsStr::new(name))))
}

/// `unix` seconds as "YYYY-MM-DD HH:MM:SS UTC".
pub fn utc_text(unix: u64) -> String {
    let ((y, m, d), (h, min, s)) = utc_parts(unix);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02} UTC")
}

/// The UTC calendar date and time of day of `unix` seconds (proleptic Gregorian calendar).
fn utc_parts(unix: u64) -> ((i64, u32, u32), (u64, u64, u64)) {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Days since 1970-01-01 to a civil date, counting in 400-year eras from 0000-03-01 so that
    // leap days fall at the end of each counted year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    ((year, month, day), (secs / 3600, secs / 60 % 60, secs % 60))
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

    #[test]
    fn utc_dates_match_known_moments() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_text(1_795_484_439), "2026-11-24 01:40:39 UTC");
        assert_eq!(utc_text(4_107_542_399), "2100-02-28 23:59:59 UTC");
    }

    #[test]
    fn only_automatic_names_are_pruned() {
        assert!(is_automatic("twofold-20261124-014039-123.backup"));
        assert!(is_automatic("twofold-20261124-014039-123-1.backup"));
        assert!(!is_automatic("twofold-mine.backup"));
        assert!(!is_automatic("twofold-20261124-014039-123.backup.txt"));
        assert!(!is_automatic("notes.txt"));
    }
}
