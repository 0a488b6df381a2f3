//! The desktop's own preferences, in `settings.json` beside the account list: how long a copied
//! code stays on the clipboard, the list's order, favourites, when each code was last copied, when
//! the window locks, and how it lives on the desktop (tray, start hidden).
//!
//! They live in the app, not in core: they are about this window (the CLI has no clipboard timer
//! and no pinned rows), and keeping them out of `Account` leaves the shared account format, which
//! backups and imports also build, unchanged.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use twofold_core::account::Sort;
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};

/// Name of the settings file inside the data directory.
pub const SETTINGS_FILE: &str = "settings.json";
/// Seconds a copied code stays on the clipboard unless the person chose otherwise.
pub const DEFAULT_CLEAR_SECONDS: u32 = 30;
/// Idle seconds before the window locks unless the person chose otherwise: five minutes.
pub const DEFAULT_LOCK_AFTER_SECONDS: u32 = 300;
/// Longest clipboard time accepted: an hour; longer is the same as never clearing.
pub const MAX_CLEAR_SECONDS: u32 = 3600;

/// What the person chose, with defaults for whatever the file does not say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Seconds before a copied code is cleared from the clipboard; 0 keeps it.
    pub clipboard_clear_seconds: u32,
    /// The order of the list.
    pub sort: Sort,
    /// Accounts pinned on top.
    pub favourites: Vec<Uuid>,
    /// When each account's code was last copied (Unix milliseconds), for the "recently used" order.
    pub last_used: HashMap<Uuid, u64>,
    /// Seconds without activity before the window locks (with a passphrase set); 0 never.
    pub lock_after_seconds: u32,
    /// Lock when the desktop's screen locks.
    pub lock_on_screen_lock: bool,
    /// Closing the window keeps the app running in the tray (requests still arrive).
    pub close_to_tray: bool,
    /// Start with the window hidden in the tray.
    pub start_minimised: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            clipboard_clear_seconds: DEFAULT_CLEAR_SECONDS,
            sort: Sort::Manual,
            favourites: Vec::new(),
            last_used: HashMap::new(),
            lock_after_seconds: DEFAULT_LOCK_AFTER_SECONDS,
            lock_on_screen_lock: true,
            close_to_tray: true,
            start_minimised: false,
        }
    }
}

/// The settings file and its current content.
#[derive(Debug)]
pub struct SettingsFile {
    path: PathBuf,
    current: Mutex<Settings>,
}

impl SettingsFile {
    /// Reads `settings.json` in `dir`; a missing or damaged file gives the defaults (a damaged one
    /// is logged and replaced at the next change, never fatal).
    pub fn open(dir: &Path) -> Self {
        let path = dir.join(SETTINGS_FILE);
        let current = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                tracing::warn!(path = %path.display(), error = %err, "settings file damaged; using defaults");
                Settings::default()
            }),
            Err(err) => {
                if err.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(path = %path.display(), error = %err, "cannot read the settings");
                }
                Settings::default()
            }
        };
        Self { path, current: Mutex::new(current) }
    }

    /// A copy of the current settings.
    pub fn get(&self) -> Settings {
        self.lock().clone()
    }

    /// Changes the settings with `change` and saves them (temporary file, then rename).
    pub fn update(&self, change: impl FnOnce(&mut Settings)) -> Result<Settings, ApiError> {
        let mut current = self.lock();
        let mut changed = current.clone();
        change(&mut changed);
        changed.clipboard_clear_seconds = changed.clipboard_clear_seconds.min(MAX_CLEAR_SECONDS);
        self.save(&changed).map_err(|err| {
            ApiError::new(
                ErrorCode::Storage,
                format!("cannot save the settings in {}: {err}", self.path.display()),
            )
        })?;
        *current = changed.clone();
        Ok(changed)
    }

    fn save(&self, settings: &Settings) -> io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(settings).map_err(io::Error::other)?;
        bytes.push(b'\n');
        let temp = self.path.with_extension("json.tmp");
        let mut file = fs::File::create(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&temp, &self.path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Settings> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_until_changed_then_read_back_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::open(dir.path());
        assert_eq!(file.get().clipboard_clear_seconds, 30);
        assert_eq!(file.get().sort, Sort::Manual);
        let id = Uuid::new_v4();
        file.update(|s| {
            s.clipboard_clear_seconds = 10;
            s.sort = Sort::Alphabetical;
            s.favourites.push(id);
        })
        .unwrap();
        let again = SettingsFile::open(dir.path()).get();
        assert_eq!(again.clipboard_clear_seconds, 10);
        assert_eq!(again.sort, Sort::Alphabetical);
        assert_eq!(again.favourites, [id]);
    }

    #[test]
    fn a_damaged_file_gives_defaults_and_long_times_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(SETTINGS_FILE), "{ not json").unwrap();
        let file = SettingsFile::open(dir.path());
        assert_eq!(file.get(), Settings::default());
        let saved = file.update(|s| s.clipboard_clear_seconds = u32::MAX).unwrap();
        assert_eq!(saved.clipboard_clear_seconds, MAX_CLEAR_SECONDS);
    }
}
