//! The Twofold desktop app: one window listing the vault's accounts with live codes, adding
//! accounts from QR images. A thin shell
//! over `twofold-core`: the commands delegate, the UI in `../ui` only displays.

pub mod accounts;
pub mod commands;
pub mod error;
pub mod scan;
pub mod watch;

use std::ffi::OsString;
use std::path::PathBuf;

use tauri::Runtime;
use twofold_core::keystore::OsKeystore;
use twofold_core::vault::Vault;

use crate::accounts::Accounts;
use crate::error::ApiError;

/// What the commands share: the accounts, or why the vault could not be opened (shown in the
/// window rather than a silent exit).
#[derive(Debug)]
pub struct AppState(Result<Accounts, ApiError>);

impl AppState {
    /// Opens the vault in `data_dir`, or the default one (`$TWOFOLD_DATA_DIR`, else the XDG data
    /// directory), over the OS keyring.
    pub fn open(data_dir: Option<PathBuf>) -> Self {
        let vault = match data_dir {
            Some(dir) => Vault::open(dir, OsKeystore::default()),
            None => Vault::open_default(),
        };
        Self(vault.map(Accounts::new).map_err(ApiError::from))
    }

    /// The accounts, or the error that kept the vault closed.
    pub fn accounts(&self) -> Result<&Accounts, ApiError> {
        self.0.as_ref().map_err(Clone::clone)
    }
}

/// The app with its plugin, state, commands and vault watcher, on any runtime.
pub fn builder<R: Runtime>(state: AppState) -> tauri::Builder<R> {
    tauri::Builder::<R>::new()
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(state)
        .manage(scan::Scans::default())
        .invoke_handler(tauri::generate_handler![
            commands::list_accounts,
            commands::copy_code,
            commands::scan_image,
            commands::scan_screen,
            commands::scan_clipboard,
            commands::add_scanned,
            commands::discard_scan
        ])
        .setup(|app| Ok(watch::spawn(app.handle().clone())?))
}

/// Starts the app: `twofold-app [--data-dir DIR]`.
pub fn run() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    let state = AppState::open(data_dir_arg(std::env::args_os().skip(1)));
    if let Err(err) = builder::<tauri::Wry>(state).run(tauri::generate_context!()) {
        tracing::error!(error = %err, "the app stopped");
        std::process::exit(1);
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
