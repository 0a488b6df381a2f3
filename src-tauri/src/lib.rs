//! The Twofold desktop app: one window listing the vault's accounts with live codes, adding
//! accounts from QR images and other apps' exports, exporting and backing up. A thin shell
//! over `twofold-core`: the commands delegate, the UI in `../ui` only displays.

pub mod accounts;
pub mod clipboard;
pub mod commands;
pub mod deletions;
pub mod error;
pub mod scan;
pub mod settings;
pub mod transfer;
pub mod watch;

use std::ffi::OsString;
use std::path::PathBuf;

use tauri::{Manager, Runtime};
use twofold_core::Secret;
use twofold_core::keystore::{Keystore, KeystoreError, OsKeystore};
use twofold_core::vault::{self, Vault};
use uuid::Uuid;

use crate::accounts::Accounts;
use crate::error::ApiError;

/// The keystore behind the app's state: the OS keyring when the app runs; command tests on the
/// mock runtime put an in-memory one here.
pub struct AppKeystore(Box<dyn Keystore + Send + Sync>);

impl AppKeystore {
    /// Wraps any keystore.
    pub fn new(keystore: impl Keystore + Send + Sync + 'static) -> Self {
        Self(Box::new(keystore))
    }
}

impl std::fmt::Debug for AppKeystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppKeystore")
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
        self.0.store(id, vault, label, secret)
    }

    fn load(&self, id: Uuid) -> Result<Option<Secret>, KeystoreError> {
        self.0.load(id)
    }

    fn delete(&self, id: Uuid) -> Result<(), KeystoreError> {
        self.0.delete(id)
    }

    fn ids(&self, vault: Uuid) -> Result<Option<Vec<Uuid>>, KeystoreError> {
        self.0.ids(vault)
    }
}

/// What the commands share: the accounts, or why the vault could not be opened (shown in the
/// window rather than a silent exit).
#[derive(Debug)]
pub struct AppState(Result<Accounts<AppKeystore>, ApiError>);

impl AppState {
    /// Opens the vault in `data_dir`, or the default one (`$TWOFOLD_DATA_DIR`, else the XDG data
    /// directory), over the OS keyring.
    pub fn open(data_dir: Option<PathBuf>) -> Self {
        let vault = data_dir
            .map_or_else(vault::default_dir, Ok)
            .and_then(|dir| Vault::open(dir, AppKeystore::new(OsKeystore::default())));
        Self(vault.map(Accounts::new).map_err(ApiError::from))
    }

    /// The state over an already open vault (tests use one over an in-memory keystore).
    pub fn with_vault(vault: Vault<AppKeystore>) -> Self {
        Self(Ok(Accounts::new(vault)))
    }

    /// The accounts, or the error that kept the vault closed.
    pub fn accounts(&self) -> Result<&Accounts<AppKeystore>, ApiError> {
        self.0.as_ref().map_err(Clone::clone)
    }
}

/// The app with its plugin, state, commands and vault watcher, on any runtime.
pub fn builder<R: Runtime>(state: AppState) -> tauri::Builder<R> {
    with_app(tauri::Builder::<R>::new(), state)
}

/// `base` (e.g. `tauri::test::mock_builder()`) with the app's plugin, state, commands and vault
/// watcher.
pub fn with_app<R: Runtime>(base: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    base.plugin(tauri_plugin_clipboard_manager::init())
        .manage(state)
        .manage(scan::Scans::default())
        .manage(clipboard::ClipboardTimer::default())
        .manage(deletions::Deletions::default())
        .manage(transfer::ImportFiles::default())
        .invoke_handler(tauri::generate_handler![
            commands::list_accounts,
            commands::copy_code,
            commands::next_hotp,
            commands::search_accounts,
            commands::add_account,
            commands::edit_account,
            commands::set_favourite,
            commands::reorder_accounts,
            commands::set_icon,
            commands::account_icon,
            commands::delete_account,
            commands::undo_delete,
            commands::account_qr,
            commands::get_settings,
            commands::set_settings,
            commands::scan_image,
            commands::scan_screen,
            commands::scan_clipboard,
            commands::add_scanned,
            commands::discard_scan,
            commands::open_import,
            commands::unlock_import,
            commands::default_export_path,
            commands::export_file,
            commands::export_migration,
            commands::backup_status,
            commands::set_backups,
            commands::backup_now,
            commands::restore_backup
        ])
        .setup(|app| Ok(watch::spawn(app.handle().clone())?))
}

/// Starts the app: `twofold-app [--data-dir DIR]`.
pub fn run() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    let state = AppState::open(data_dir_arg(std::env::args_os().skip(1)));
    match builder::<tauri::Wry>(state).build(tauri::generate_context!()) {
        Ok(app) => app.run(finish_on_exit),
        Err(err) => {
            tracing::error!(error = %err, "the app could not start");
            std::process::exit(1);
        }
    }
}

/// Deletions still in their undo window are finished when the app quits, so their keyring
/// entries do not outlive them.
pub fn finish_on_exit<R: Runtime>(app: &tauri::AppHandle<R>, event: tauri::RunEvent) {
    if let tauri::RunEvent::Exit = event
        && let Ok(accounts) = app.state::<AppState>().accounts()
    {
        app.state::<deletions::Deletions>().finish_all(accounts.vault());
    }
}

/// The value of `--data-dir DIR` (or `--data-dir=DIR`), which wins over `TWOFOLD_DATA_DIR`.
/// Other arguments are ignored: WebKit's WebDriver adds its own when it starts the app.
fn data_dir_arg(args: impl IntoIterator<Item = OsString>) -> Option<PathBuf> {
    let mut args = args.into_iter();
    let mut found = None;
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            found = args.next().map(PathBuf::from);
        } else if let Some(dir) = arg.to_str().and_then(|a| a.strip_prefix("--data-dir=")) {
            found = Some(PathBuf::from(dir));
        } else {
            tracing::debug!(?arg, "ignored argument");
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn data_dir_is_read_in_both_spellings_among_other_arguments() {
        assert_eq!(
            data_dir_arg(args(&["--automation", "--data-dir", "/tmp/v"])),
            Some(PathBuf::from("/tmp/v"))
        );
        assert_eq!(data_dir_arg(args(&["--data-dir=/tmp/w"])), Some(PathBuf::from("/tmp/w")));
        assert_eq!(data_dir_arg(args(&["--automation"])), None);
        assert_eq!(data_dir_arg(args(&["--data-dir"])), None);
    }
}
