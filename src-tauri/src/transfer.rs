//! Moving accounts in and out: other apps' export files (format detected and read by core), exports
//! to a file or to migration QR codes for a phone, and Twofold's own backups. Formats and
//! encryption are core's; this module holds what waits between two clicks and words the results.
//!
//! An export file's accounts wait in [`Scans`] like a QR scan's, so the preview and "Import N
//! accounts" are the scan's. An encrypted file waits here, still encrypted, until its password
//! comes: a wrong password leaves it in place for another try.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use twofold_core::backup::{self, BackupError, auto};
use twofold_core::export::{self, AegisKeys};
use twofold_core::import::{self, Format, Password};
use twofold_core::keystore::Keystore;
use twofold_core::vault::Vault;
use twofold_core::{Credential, migration, uri};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::accounts::dense_svg_qr;
use crate::error::{ApiError, ErrorCode};
use crate::scan::{ScanPreview, Scans};

/// The largest file read: more than any real export (the CLI's limit too).
pub const MAX_FILE_LEN: usize = 64 << 20;

/// An export file as the import screen shows it: its format, and either its accounts' preview or
/// that it waits for a password.
#[derive(Debug, Clone, Serialize)]
pub struct FileOpened {
    /// The file's handle, for giving its password.
    pub file: Uuid,
    /// The format's name ("Aegis", "Twofold backup").
    pub format: &'static str,
    /// The accounts it holds, or `None` while it waits for its password.
    pub preview: Option<ScanPreview>,
}

/// An encrypted export file waiting for its password; a newer file replaces it.
#[derive(Debug, Default)]
pub struct ImportFiles {
    locked: Mutex<Option<Locked>>,
}

#[derive(Debug)]
struct Locked {
    id: Uuid,
    format: Format,
    bytes: Vec<u8>,
}

impl ImportFiles {
    /// Detects `bytes`' format; a plain file is read at once into a pending scan, an encrypted one
    /// waits for [`unlock`](Self::unlock).
    pub fn open<K: Keystore>(
        &self,
        scans: &Scans,
        vault: &Vault<K>,
        bytes: Vec<u8>,
    ) -> Result<FileOpened, ApiError> {
        if bytes.len() > MAX_FILE_LEN {
            return Err(ApiError::new(
                ErrorCode::FileUnreadable,
                format!("the file is larger than any export ({} MiB)", MAX_FILE_LEN >> 20),
            ));
        }
        let detected = import::detect(&bytes)?;
        let file = Uuid::new_v4();
        let format = detected.format;
        if detected.encrypted {
            *self.lock() = Some(Locked { id: file, format, bytes });
            return Ok(FileOpened { file, format: format.name(), preview: None });
        }
        let preview = scans.preview_imported(vault, format.read(&bytes, None)?)?;
        Ok(FileOpened { file, format: format.name(), preview: Some(preview) })
    }

    /// Decrypts file `file` with `password` into a pending scan. A wrong password is an error and
    /// the file stays for another try; once read, the file is forgotten.
    pub fn unlock<K: Keystore>(
        &self,
        scans: &Scans,
        vault: &Vault<K>,
        file: Uuid,
        password: &Password,
    ) -> Result<FileOpened, ApiError> {
        let mut slot = self.lock();
        let Some(locked) = slot.as_ref().filter(|l| l.id == file) else {
            return Err(ApiError::new(ErrorCode::ScanClosed, FILE_CLOSED));
        };
        let format = locked.format;
        let imported = format.read(&locked.bytes, Some(password))?;
        *slot = None;
        drop(slot);
        let preview = scans.preview_imported(vault, imported)?;
        Ok(FileOpened { file, format: format.name(), preview: Some(preview) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Locked>> {
        self.locked.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why an encrypted file's password comes too late.
const FILE_CLOSED: &str = "this file is no longer open (another file replaced it): choose it again";

/// The file formats the export screen writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExportFormat {
    /// Aegis's JSON vault: plain, or encrypted when a password is given.
    Aegis,
    /// One `otpauth://` URI a line.
    Uris,
}

/// The name an export in `format` made at `now_unix` gets unless the person chooses another:
/// `twofold-export-YYYY-MM-DD.json` (Aegis) or `.txt` (URIs).
pub fn export_file_name(format: ExportFormat, now_unix: u64) -> String {
    let date = auto::utc_text(now_unix);
    let day = date.get(..10).unwrap_or("export");
    let extension = match format {
        ExportFormat::Aegis => "json",
        ExportFormat::Uris => "txt",
    };
    format!("twofold-export-{day}.{extension}")
}

/// What an export or a backup wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    /// The file written.
    pub path: PathBuf,
    /// How many accounts it holds.
    pub accounts: usize,
    /// Accounts left out, one message each (a secret missing from the keyring).
    pub left_out: Vec<String>,
}

/// Every account with its secret, and the labels of those whose secret is missing.
fn credentials<K: Keystore>(vault: &Vault<K>) -> Result<(Vec<Credential>, Vec<String>), ApiError> {
    let (entries, missing) = backup::snapshot(vault)?;
    let left_out = missing
        .into_iter()
        .map(|label| format!("{label} was left out: its secret is missing from the keyring"))
        .collect();
    Ok((entries.iter().map(backup::Entry::to_credential).collect(), left_out))
}

/// A new password typed twice, held to core's rule; a refusal is reported as `code`.
fn check_new_password(first: &Password, again: &Password, code: ErrorCode) -> Result<(), ApiError> {
    export::check_new_password(first, again).map_err(|err| ApiError::new(code, err))
}

/// Writes every account to a new file at `path` (never replacing one) in `format`; an Aegis
/// export is encrypted with `password` when one is given, once `again` repeats it.
pub fn export_file<K: Keystore>(
    vault: &Vault<K>,
    format: ExportFormat,
    path: &Path,
    password: Option<&Password>,
    again: Option<&Password>,
) -> Result<Saved, ApiError> {
    if !path.is_absolute() {
        return Err(ApiError::new(
            ErrorCode::ExportFailed,
            format!("\"{}\" is not a full path: start it with /", path.display()),
        ));
    }
    if let (ExportFormat::Aegis, Some(password)) = (format, password) {
        let again = again.cloned().unwrap_or_else(|| Password::new(String::new()));
        check_new_password(password, &again, ErrorCode::ExportFailed)?;
    }
    let (credentials, left_out) = credentials(vault)?;
    let text: Zeroizing<String> = match (format, password) {
        (ExportFormat::Aegis, Some(password)) => {
            Zeroizing::new(export::aegis_encrypted(&credentials, password, &AegisKeys::fresh()?)?)
        }
        (ExportFormat::Aegis, None) => export::aegis_plain(&credentials),
        (ExportFormat::Uris, None) => {
            let mut text = Zeroizing::new(String::new());
            for credential in &credentials {
                text.push_str(&Zeroizing::new(uri::format(credential)));
                text.push('\n');
            }
            text
        }
        (ExportFormat::Uris, Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::ExportFailed,
                "a list of otpauth URIs cannot be encrypted: choose Aegis to protect the file",
            ));
        }
    };
    backup::write_new_file(path, text.as_bytes()).map_err(export_failed)?;
    Ok(Saved { path: path.to_owned(), accounts: credentials.len(), left_out })
}

/// A file that could not be saved is the export's failure, whatever the backup module calls it.
fn export_failed(err: BackupError) -> ApiError {
    ApiError::new(ErrorCode::ExportFailed, err)
}

/// Google Authenticator's migration QR codes of every account, in scanning order.
#[derive(Serialize)]
pub struct MigrationCodes {
    /// One SVG QR code per batch. They hold the secrets: shown, never kept.
    pub batches: Vec<String>,
    /// Accounts the format cannot carry, one message each.
    pub left_out: Vec<String>,
}

impl std::fmt::Debug for MigrationCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationCodes")
            .field("batches", &format_args!("<{} redacted>", self.batches.len()))
            .field("left_out", &self.left_out)
            .finish()
    }
}

/// Every account as Google Authenticator migration QR codes, `batch_id` marking them as one export.
pub fn migration_codes<K: Keystore>(
    vault: &Vault<K>,
    batch_id: i32,
) -> Result<MigrationCodes, ApiError> {
    let (credentials, mut left_out) = credentials(vault)?;
    let encoded = migration::encode(&credentials, batch_id);
    left_out.extend(encoded.skipped.iter().map(ToString::to_string));
    let batches = encoded
        .uris
        .iter()
        .enumerate()
        .map(|(n, link)| {
            dense_svg_qr(link.as_bytes(), &format!("batch {} of the export", n + 1))
                .map(|svg| svg.to_string())
        })
        .collect::<Result<_, _>>()?;
    Ok(MigrationCodes { batches, left_out })
}

/// The automatic backups' settings and the backups there are, as the backup screen shows them.
#[derive(Debug, Clone, Serialize)]
pub struct BackupStatus {
    /// Whether a backup is written after each change.
    pub enabled: bool,
    /// How many of the newest are kept.
    pub keep: u32,
    /// The folder they go to.
    pub folder: PathBuf,
    /// Whether that is the default folder.
    pub default_folder: bool,
    /// The backups in the folder, newest first.
    pub backups: Vec<BackupFile>,
}

/// One backup in the folder.
#[derive(Debug, Clone, Serialize)]
pub struct BackupFile {
    /// The file's name in the folder: the handle for restoring it.
    pub name: String,
    /// The file, for showing where it is.
    pub path: PathBuf,
    /// When it was made ("2026-11-24 01:40:39 UTC"), when its header can be read.
    pub created: Option<String>,
    /// How many accounts it holds, when its header can be read.
    pub accounts: Option<u32>,
    /// Why its header cannot be read.
    pub problem: Option<String>,
}

/// The backup settings of `vault` and its automatic backups, newest first.
pub fn backup_status<K: Keystore>(vault: &Vault<K>) -> Result<BackupStatus, ApiError> {
    let settings = auto::settings(vault)?;
    let backups = auto::list(vault)?
        .into_iter()
        .map(|listed| (file_name(&listed.path), listed))
        .map(|(name, listed)| match listed.header {
            Ok(header) => BackupFile {
                name,
                path: listed.path,
                created: Some(auto::utc_text(header.created)),
                accounts: Some(header.accounts),
                problem: None,
            },
            Err(err) => BackupFile {
                name,
                path: listed.path,
                created: None,
                accounts: None,
                problem: Some(err.to_string()),
            },
        })
        .collect();
    Ok(BackupStatus {
        enabled: settings.enabled,
        keep: settings.keep,
        folder: auto::folder(vault, &settings),
        default_folder: settings.dir.is_none(),
        backups,
    })
}

/// The last part of `path`, as text.
fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

/// What the backup screen sends besides the passphrase: on or off, how many to keep, the folder.
#[derive(Debug, Clone, Deserialize)]
pub struct BackupForm {
    /// Whether to write a backup after each change.
    pub enabled: bool,
    /// How many to keep (at least 1).
    pub keep: u32,
    /// The folder, a full path; empty for the default.
    pub folder: String,
}

/// Applies the backup screen's form with `passphrase`, typed again as `again`: needed to turn
/// backups on; when they are on, both empty keep the one stored and a new one replaces it. Turning
/// backups on (or giving a new passphrase) writes a first backup at once, returned as `Some`.
pub fn set_backups<K: Keystore>(
    vault: &Vault<K>,
    form: &BackupForm,
    passphrase: &Password,
    again: &Password,
    now_unix_ms: u64,
) -> Result<Option<Saved>, ApiError> {
    let folder = form.folder.trim();
    let dir = (!folder.is_empty()).then(|| PathBuf::from(folder));
    if let Some(dir) = dir.as_ref().filter(|d| !d.is_absolute()) {
        return Err(ApiError::new(
            ErrorCode::BackupFailed,
            format!("\"{}\" is not a full path: start the folder with /", dir.display()),
        ));
    }
    let was_on = auto::settings(vault)?.enabled;
    if !form.enabled {
        if was_on {
            auto::turn_off(vault)?;
        }
        auto::set_options(vault, form.keep, dir)?;
        return Ok(None);
    }
    if passphrase.expose().is_empty() && again.expose().is_empty() {
        if !was_on {
            return Err(ApiError::new(
                ErrorCode::BackupFailed,
                "choose a passphrase to turn automatic backups on: you need it to restore them",
            ));
        }
        auto::set_options(vault, form.keep, dir)?;
        return Ok(None);
    }
    check_new_password(passphrase, again, ErrorCode::BackupFailed)?;
    let written = auto::turn_on(vault, passphrase, form.keep, dir, now_unix_ms)?;
    Ok(Some(written_to_saved(written)))
}

fn written_to_saved(written: auto::Written) -> Saved {
    let left_out = written
        .missing
        .into_iter()
        .map(|label| format!("{label} was left out: its secret is missing from the keyring"))
        .collect();
    Saved { path: written.path, accounts: written.accounts, left_out }
}

/// Writes an automatic backup now, with the stored passphrase.
pub fn backup_now<K: Keystore>(vault: &Vault<K>, now_unix_ms: u64) -> Result<Saved, ApiError> {
    match auto::after_change(vault, now_unix_ms)? {
        Some(written) => Ok(written_to_saved(written)),
        None => Err(ApiError::new(
            ErrorCode::BackupFailed,
            "automatic backups are off: turn them on with a passphrase first",
        )),
    }
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// Labels of the accounts added.
    pub added: Vec<String>,
    /// Labels of the accounts already in Twofold (skipped).
    pub duplicates: Vec<String>,
    /// Accounts that could not be restored, one message each.
    pub refused: Vec<String>,
}

/// Merges the automatic backup named `name` into the vault with `passphrase`. Only a backup the
/// backup screen lists can be restored this way: any other backup file is opened by the person
/// (file dialog or drop) and goes through the import screen, which reads Twofold backups too.
pub fn restore<K: Keystore>(
    vault: &Vault<K>,
    name: &str,
    passphrase: &Password,
    now_unix: u64,
) -> Result<RestoreReport, ApiError> {
    let Some(path) = auto::named(vault, name)? else {
        let shown: String = name.chars().take(80).collect();
        return Err(ApiError::new(
            ErrorCode::FileUnreadable,
            format!(
                "\"{shown}\" is not one of the automatic backups: to restore another backup \
                 file, open it with Import a file… (or drop it on the window)"
            ),
        ));
    };
    let bytes = std::fs::read(&path).map_err(|err| {
        ApiError::new(ErrorCode::FileUnreadable, format!("cannot read {}: {err}", path.display()))
    })?;
    let opened = backup::read(&bytes, passphrase)?;
    let restored = backup::restore(vault, &opened.entries, now_unix)?;
    Ok(RestoreReport {
        added: restored.added.iter().map(twofold_core::Account::label).collect(),
        duplicates: restored.duplicates.into_iter().map(|(label, _)| label).collect(),
        refused: restored
            .refused
            .into_iter()
            .map(|(label, reason)| format!("{label}: {reason}"))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_files_are_named_by_format_and_day() {
        // 2026-11-24 01:40:39 UTC.
        assert_eq!(
            export_file_name(ExportFormat::Aegis, 1_795_484_439),
            "twofold-export-2026-11-24.json"
        );
        assert_eq!(export_file_name(ExportFormat::Uris, 0), "twofold-export-1970-01-01.txt");
    }
}
