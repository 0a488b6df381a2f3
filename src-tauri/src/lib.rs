//! The Twofold desktop app: one window listing the vault's accounts with live codes, adding
//! accounts from QR images and other apps' exports, exporting and backing up. A thin shell
//! over `twofold-core`: the commands delegate, the UI in `../ui` only displays.

pub mod accounts;
pub mod approvals;
pub mod clipboard;
pub mod commands;
pub mod deletions;
pub mod desktop;
pub mod error;
pub mod icons;
pub mod keystore;
pub mod lock;
pub mod save_dialog;
pub mod scan;
pub mod search_provider;
pub mod settings;
pub mod transfer;
pub mod watch;

use std::ffi::OsString;
use std::path::PathBuf;

use tauri::{Manager, Runtime};
use twofold_core::keystore::KeystoreKind;
use twofold_core::lock::AppLock;
use twofold_core::vault::{self, Vault, VaultError};

use crate::accounts::Accounts;
use crate::error::{ApiError, ErrorCode};
pub use crate::keystore::AppKeystore;

/// What the commands share: the accounts, or why the vault could not be opened (shown in the
/// window rather than a silent exit), and the window lock that guards them.
#[derive(Debug)]
pub struct AppState {
    accounts: Result<Accounts<AppKeystore>, ApiError>,
    lock: lock::WindowLock,
}

impl AppState {
    /// Opens the vault in `dir` over the keystore it chose (or keeps why the directory is
    /// unknown). A secrets file starts sealed behind its passphrase; a keyring that is missing
    /// or locked starts behind its own screen rather than failing on every row.
    pub fn open(dir: Result<PathBuf, VaultError>) -> Self {
        let opened = dir.map_err(ApiError::from).and_then(|dir| {
            let (keystore, lock) = keystore::at_start(KeystoreKind::of(&dir)?);
            Ok((Vault::open(dir, keystore)?, lock))
        });
        match opened {
            Ok((vault, None)) => Self::with_vault(vault),
            Ok((vault, Some(lock))) => Self { accounts: Ok(Accounts::new(vault)), lock },
            Err(err) => Self { accounts: Err(err), lock: lock::WindowLock::new(false) },
        }
    }

    /// The state over an already open vault (tests use one over an in-memory keystore); locked
    /// when a lock passphrase is set, and when the keyring cannot say whether one is: the lock
    /// never fails open.
    pub fn with_vault(vault: Vault<AppKeystore>) -> Self {
        let lock = match AppLock::new(vault.keystore(), vault.id()).is_set() {
            Ok(enabled) => lock::WindowLock::new(enabled),
            Err(err) => {
                tracing::warn!(error = %err, "cannot tell whether a lock passphrase is set: locked");
                lock::WindowLock::unknown(format!(
                    "Twofold stays locked because it cannot tell whether a lock passphrase is set: \
                     {err}"
                ))
            }
        };
        Self { accounts: Ok(Accounts::new(vault)), lock }
    }

    /// The accounts, or why not: the vault is closed, or the window is locked.
    pub fn accounts(&self) -> Result<&Accounts<AppKeystore>, ApiError> {
        self.ensure_unlocked()?;
        self.accounts_even_locked()
    }

    /// Refuses while the window is locked: every command the page may not use behind the lock
    /// (accounts, answers, pairing, autostart) asks this first.
    pub fn ensure_unlocked(&self) -> Result<(), ApiError> {
        if self.lock.is_locked() {
            return Err(ApiError::new(
                ErrorCode::Locked,
                "Twofold is locked: unlock it with your passphrase",
            ));
        }
        Ok(())
    }

    /// The accounts even while the window is locked, for the app's own work (finishing
    /// deletions, following the vault, reading its settings), never for the page.
    pub fn accounts_even_locked(&self) -> Result<&Accounts<AppKeystore>, ApiError> {
        self.accounts.as_ref().map_err(Clone::clone)
    }

    /// The window lock.
    pub fn lock(&self) -> &lock::WindowLock {
        &self.lock
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
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![desktop::HIDDEN_ARG]),
        ))
        .manage(state)
        .manage(scan::Scans::default())
        .manage(clipboard::ClipboardTimer::default())
        .manage(approvals::Approvals::default())
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
            commands::restore_account,
            commands::host_name,
            commands::trashed_accounts,
            commands::purge_account,
            commands::account_qr,
            commands::get_settings,
            commands::set_settings,
            commands::scan_image,
            commands::scan_screen,
            commands::scan_clipboard,
            commands::scan_text,
            commands::add_scanned,
            commands::discard_scan,
            commands::lock_status,
            commands::unlock,
            commands::retry_keyring,
            commands::use_secrets_file,
            commands::move_keystore,
            commands::cost_levels,
            commands::lock_now,
            commands::set_passphrase,
            commands::touch,
            commands::set_desktop_settings,
            commands::autostart_enabled,
            commands::set_autostart,
            commands::tray_available,
            commands::close_window,
            commands::quit,
            commands::open_import,
            commands::unlock_import,
            commands::default_export_path,
            commands::choose_export_path,
            commands::export_file,
            commands::export_migration,
            commands::backup_status,
            commands::set_backups,
            commands::backup_now,
            commands::restore_backup,
            commands::pairing_preview,
            commands::pair,
            commands::paired_servers,
            commands::unpair,
            commands::pending_requests,
            commands::waiting_requests,
            commands::decide,
            commands::approval_history,
            commands::offline_code,
            icons::brand_icon,
            icons::import_icon_pack,
            icons::icon_packs,
            icons::remove_icon_pack
        ])
        .on_window_event(desktop::on_window_event)
        .setup(|app| {
            watch::spawn(app.handle().clone())?;
            if let Ok(accounts) = app.state::<AppState>().accounts_even_locked() {
                deletions::purge_expired(accounts.vault(), commands::unix_now());
            }
            lock::spawn(app.handle())?;
            approvals::start(app.handle());
            Ok(())
        })
}

/// Starts the app: `twofold-app [--data-dir DIR] [--hidden] [--search-provider]`.
pub fn run() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    let args = Arguments::parse(std::env::args_os().skip(1));
    let dir = args.data_dir.clone().map_or_else(vault::default_dir, Ok);
    let instance = match dir.as_deref().map(desktop::instance_name) {
        Ok(name) => match desktop::claim_instance(&name, std::env::args().collect()) {
            Ok(desktop::Start::Second) => {
                tracing::info!("Twofold already has this vault open: its window was shown");
                return;
            }
            Ok(desktop::Start::First(first)) => Some(first),
            Err(err) => {
                tracing::warn!(error = %err, "no session bus: a second start opens a second window");
                None
            }
        },
        Err(_) => None,
    };
    let state = AppState::open(dir);
    let mut context = tauri::generate_context!();
    // Decided before the window exists, so a start into the tray never flashes it.
    // Started by D-Bus for GNOME Shell's search: no window until the person asks for one.
    let hidden = args.search_provider || desktop::starts_hidden(&state, args.hidden);
    for window in &mut context.config_mut().app.windows {
        window.visible &= !hidden;
    }
    match builder::<tauri::Wry>(state).build(context) {
        Ok(app) => {
            if let Some(first) = &instance {
                let handle = app.handle().clone();
                first.on_second_start(move |args| desktop::on_second_start(&handle, &args));
            }
            if let Err(err) = desktop::add_tray(app.handle()) {
                tracing::warn!(error = %err, "no tray icon");
            }
            let provider = serve_search(app.handle());
            app.run(move |_app, _event| {
                // The instance's and the search provider's names are held as long as the app runs.
                let _held = (&instance, &provider);
            });
        }
        Err(err) => {
            tracing::error!(error = %err, "the app could not start");
            std::process::exit(1);
        }
    }
}

/// GNOME Shell's search provider, when there is a session bus.
fn serve_search(app: &tauri::AppHandle<tauri::Wry>) -> Option<search_provider::Served> {
    search_provider::serve(app)
        .inspect_err(|err| tracing::warn!(error = %err, "no GNOME Shell search provider"))
        .ok()
}

/// The command line: `--data-dir DIR` (or `--data-dir=DIR`), which wins over
/// `TWOFOLD_DATA_DIR`, `--hidden`, and `--search-provider` (D-Bus started it for GNOME Shell). Other arguments are ignored: WebKit's WebDriver adds its own
/// when it starts the app.
#[derive(Debug, Default, PartialEq, Eq)]
struct Arguments {
    data_dir: Option<PathBuf>,
    hidden: bool,
    search_provider: bool,
}

impl Arguments {
    fn parse(args: impl IntoIterator<Item = OsString>) -> Self {
        let mut args = args.into_iter();
        let mut found = Self::default();
        while let Some(arg) = args.next() {
            if arg == "--data-dir" {
                found.data_dir = args.next().map(PathBuf::from);
            } else if let Some(dir) = arg.to_str().and_then(|a| a.strip_prefix("--data-dir=")) {
                found.data_dir = Some(PathBuf::from(dir));
            } else if arg == desktop::HIDDEN_ARG {
                found.hidden = true;
            } else if arg == search_provider::START_ARG {
                found.search_provider = true;
            } else {
                tracing::debug!(?arg, "ignored argument");
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn arguments_are_read_in_both_spellings_among_others() {
        let dir = |list: &[&str]| Arguments::parse(args(list)).data_dir;
        assert_eq!(dir(&["--automation", "--data-dir", "/tmp/v"]), Some(PathBuf::from("/tmp/v")));
        assert_eq!(dir(&["--data-dir=/tmp/w"]), Some(PathBuf::from("/tmp/w")));
        assert_eq!(dir(&["--automation"]), None);
        assert_eq!(dir(&["--data-dir"]), None);
        assert!(Arguments::parse(args(&["--hidden", "--automation"])).hidden);
        assert!(!Arguments::parse(args(&["--automation"])).hidden);
        assert!(Arguments::parse(args(&["--search-provider"])).search_provider);
    }
}
