//! The commands the UI invokes: each delegates to [`Accounts`](crate::accounts::Accounts) and
//! returns errors as `{code, message}`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tauri::ipc::{InvokeBody, Request, Response};
use tauri::{AppHandle, Manager, Runtime, State, WebviewWindow};
use tauri_plugin_autostart::ManagerExt;
use twofold_core::account::Sort;
use twofold_core::entry::ManualEntry;
use twofold_core::import::Password;
use twofold_core::keystore::KeystoreKind;
use twofold_core::lock::AppLock;
use twofold_core::qr;
use twofold_core::seal::CostLevel;
use twofold_device::history::HistoryEntry;
use twofold_device::{OfflineCode, Outcome, PairedServer, PairingPreview, RequestView};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::accounts::{EditForm, Listing};
use crate::approvals::{self, Approvals, Unpaired, Waiting};
use crate::clipboard;
use crate::deletions::{self, TrashedView};
use crate::error::{ApiError, ErrorCode};
use crate::keystore::{self, CostLevelView};
use crate::lock::{self, LockStatus, Screen};
use crate::scan::{self, ScanAdded, ScanPreview, Scans};
use crate::settings::Settings;
use crate::transfer::{
    self, BackupForm, BackupStatus, ExportFormat, FileOpened, ImportFiles, MigrationCodes,
    RestoreReport, Saved,
};
use crate::{AppState, desktop, save_dialog};

/// How long a wrong passphrase holds the answer back.
const WRONG_PASSPHRASE_PAUSE: Duration = Duration::from_secs(1);

/// The request header naming the account an icon upload is for (the body is the image).
pub const ICON_ACCOUNT_HEADER: &str = "account-id";

/// Every account with its current code. `async` so keyring calls stay off the main thread.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn list_accounts(state: State<'_, AppState>) -> Result<Listing, ApiError> {
    state.accounts()?.list(unix_now())
}

/// Puts the current code of account `id` on the clipboard, and clears it after the chosen time if
/// it is still there; the code is made here, never read back from the page.
#[tauri::command(async)]
#[tracing::instrument(skip(app, state))]
pub fn copy_code<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: Uuid,
) -> Result<(), ApiError> {
    clipboard::copy_code(&app, state.accounts()?, id)
}

/// Moves the HOTP account `id` on to its next code without copying.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn next_hotp(state: State<'_, AppState>, id: Uuid) -> Result<(), ApiError> {
    state.accounts()?.next_hotp(id)
}

/// The ids of the accounts whose issuer, name or tags match `query` (search as you type).
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn search_accounts(state: State<'_, AppState>, query: String) -> Result<Vec<Uuid>, ApiError> {
    state.accounts()?.search(&query)
}

/// Adds an account typed into the add form (checked by core); returns its label.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn add_account(state: State<'_, AppState>, entry: ManualEntry) -> Result<String, ApiError> {
    state.accounts()?.add_manual(&entry, unix_now())
}

/// Changes account `id` as the edit form says; returns its new label.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn edit_account(
    state: State<'_, AppState>,
    id: Uuid,
    form: EditForm,
) -> Result<String, ApiError> {
    state.accounts()?.edit(id, form)
}

/// Pins account `id` on top of the list, or unpins it.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn set_favourite(
    state: State<'_, AppState>,
    id: Uuid,
    favourite: bool,
) -> Result<(), ApiError> {
    state.accounts()?.set_favourite(id, favourite)
}

/// Stores the manual order after a drag: `ids` from top to bottom.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn reorder_accounts(state: State<'_, AppState>, ids: Vec<Uuid>) -> Result<(), ApiError> {
    Ok(state.accounts()?.vault().reorder(&ids)?)
}

/// Sets the custom icon of the account named by the `account-id` header to the image in the raw
/// body; an empty body goes back to the letter avatar.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn set_icon(request: Request<'_>, state: State<'_, AppState>) -> Result<(), ApiError> {
    let id = request
        .headers()
        .get(ICON_ACCOUNT_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| Uuid::parse_str(value).ok())
        .ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, "the icon did not say which account it is for")
        })?;
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(ApiError::new(ErrorCode::ImageUnreadable, "the icon did not arrive as bytes"));
    };
    let image = (!bytes.is_empty()).then_some(bytes.as_slice());
    state.accounts()?.vault().set_icon(id, image)?;
    Ok(())
}

/// The custom icon of account `id` as raw bytes (empty when it has none).
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn account_icon(state: State<'_, AppState>, id: Uuid) -> Result<Response, ApiError> {
    Ok(Response::new(state.accounts()?.icon(id)?.unwrap_or_default()))
}

/// The computer's host name: the trusted device's name unless the person types another.
#[tauri::command]
#[tracing::instrument]
pub fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// Moves account `id` to "Recently deleted", where it stays restorable for 30 days. Returns the
/// account's label.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn delete_account(state: State<'_, AppState>, id: Uuid) -> Result<String, ApiError> {
    deletions::delete(state.accounts()?.vault(), id, unix_now())
}

/// Brings deleted account `id` back from "Recently deleted"; returns its label.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn restore_account(state: State<'_, AppState>, id: Uuid) -> Result<String, ApiError> {
    deletions::restore(state.accounts()?.vault(), id)
}

/// The accounts in "Recently deleted", newest first (expired ones are deleted for good first).
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn trashed_accounts(state: State<'_, AppState>) -> Result<Vec<TrashedView>, ApiError> {
    deletions::list(state.accounts()?.vault(), unix_now())
}

/// Deletes account `id` of "Recently deleted" for good, its secret included; returns its label.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn purge_account(state: State<'_, AppState>, id: Uuid) -> Result<String, ApiError> {
    deletions::purge(state.accounts()?.vault(), id)
}

/// Account `id` as an otpauth QR code (SVG) to scan with a phone. It holds the secret: the page
/// asks first, and it is never logged.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn account_qr(state: State<'_, AppState>, id: Uuid) -> Result<String, ApiError> {
    Ok(state.accounts()?.qr_svg(id)?.to_string())
}

/// The app's settings.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn get_settings(state: State<'_, AppState>) -> Result<Settings, ApiError> {
    Ok(state.accounts()?.settings().get())
}

/// Changes how long a copied code stays on the clipboard (0: always) and the list's order.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn set_settings(
    state: State<'_, AppState>,
    clipboard_clear_seconds: u32,
    sort: Sort,
) -> Result<Settings, ApiError> {
    state.accounts()?.settings().update(|s| {
        s.clipboard_clear_seconds = clipboard_clear_seconds;
        s.sort = sort;
    })
}

/// Whether a lock passphrase is set and whether the window is locked.
#[tauri::command]
pub fn lock_status(state: State<'_, AppState>) -> LockStatus {
    state.lock().status()
}

/// Unlocks the window with the passphrase (the app lock's, or the secrets file's, which opens
/// it); a wrong one is refused after a pause, so guessing through the window is slow.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn unlock<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    approvals: State<'_, Approvals>,
    passphrase: Zeroizing<String>,
) -> Result<LockStatus, ApiError> {
    let status = state.unlock(&passphrase).inspect_err(pause_if_wrong)?;
    if status.screen == Screen::SecretsFile
        && let Ok(supervisor) = approvals.supervisor()
    {
        twofold_device::vault_keys::take_in_keyring_keys(supervisor.device());
        // Connections that waited for the file's keys try again now.
        supervisor.wake();
    }
    lock::announce(&app, status.clone());
    Ok(status)
}

/// The start screen's Retry: asks the system keyring again (its unlock prompt may show).
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn retry_keyring<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<LockStatus, ApiError> {
    let status = state.retry_keyring()?;
    lock::announce(&app, status.clone());
    Ok(status)
}

/// With no Secret Service: keeps this (new) vault's secrets in an encrypted file with
/// `passphrase`, typed twice, at cost `level`.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn use_secrets_file<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    passphrase: Zeroizing<String>,
    again: Zeroizing<String>,
    level: CostLevel,
) -> Result<LockStatus, ApiError> {
    let status = state.use_secrets_file(&password(&passphrase), &password(&again), level)?;
    lock::announce(&app, status.clone());
    Ok(status)
}

/// Settings' move of every secret and the device keys to `to` (`file`: a new passphrase typed
/// twice, at `level`; `keyring`: the file's passphrase).
#[tauri::command(async)]
#[tracing::instrument(skip(state, approvals, passphrase, again))]
pub fn move_keystore(
    state: State<'_, AppState>,
    approvals: State<'_, Approvals>,
    to: KeystoreKind,
    passphrase: Zeroizing<String>,
    again: Option<Zeroizing<String>>,
    level: CostLevel,
) -> Result<LockStatus, ApiError> {
    let again = again.map(|again| password(&again));
    let status = state
        .move_keystore(to, &password(&passphrase), again.as_ref(), level)
        .inspect_err(pause_if_wrong)?;
    // The device's keys are in their new place: connections waiting for them try again.
    if let Ok(supervisor) = approvals.supervisor() {
        supervisor.wake();
    }
    Ok(status)
}

/// Each Argon2id level a secrets file can be sealed at, with its settings and how long one
/// unlock takes on this machine (measured now).
#[tauri::command(async)]
pub fn cost_levels() -> Result<Vec<CostLevelView>, ApiError> {
    keystore::cost_levels()
}

fn password(text: &Zeroizing<String>) -> Password {
    Password::new(text.as_str().to_owned())
}

/// A wrong passphrase holds the answer back, so guessing through the window is slow.
fn pause_if_wrong(err: &ApiError) {
    if err.code == ErrorCode::WrongPassword {
        std::thread::sleep(WRONG_PASSPHRASE_PAUSE);
    }
}

/// Locks the window now (a passphrase must be set).
#[tauri::command]
pub fn lock_now<R: Runtime>(app: AppHandle<R>) {
    lock::lock_now(&app);
}

/// Sets, changes (`new`) or removes (`new` null) the lock passphrase; `current` must match the
/// one set, if any.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn set_passphrase(
    state: State<'_, AppState>,
    current: Option<Zeroizing<String>>,
    new: Option<Zeroizing<String>>,
) -> Result<LockStatus, ApiError> {
    let vault = state.accounts()?.vault();
    if state.lock().screen() == Screen::SecretsFile {
        return Err(ApiError::new(
            ErrorCode::InvalidAccount,
            "The secrets file's passphrase locks this window: move the secrets to the system \
             keyring first to lock it with a passphrase of its own",
        ));
    }
    let app_lock = AppLock::new(vault.keystore(), vault.id());
    if app_lock.is_set()? && !app_lock.verify(current.as_deref().map_or("", String::as_str))? {
        std::thread::sleep(WRONG_PASSPHRASE_PAUSE);
        return Err(ApiError::new(ErrorCode::WrongPassword, "The current passphrase is wrong"));
    }
    match &new {
        Some(new) => app_lock.set(new)?,
        None => app_lock.remove()?,
    }
    state.lock().set_enabled(new.is_some());
    Ok(state.lock().status())
}

/// The person did something in the window: the idle time before locking starts again.
#[tauri::command]
pub fn touch(state: State<'_, AppState>) {
    state.lock().touch();
}

/// Changes when the window locks and how the app lives on the desktop.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn set_desktop_settings(
    state: State<'_, AppState>,
    lock_after_seconds: u32,
    lock_on_screen_lock: bool,
    close_to_tray: bool,
    start_minimised: bool,
) -> Result<Settings, ApiError> {
    state.accounts()?.settings().update(|s| {
        s.lock_after_seconds = lock_after_seconds;
        s.lock_on_screen_lock = lock_on_screen_lock;
        s.close_to_tray = close_to_tray;
        s.start_minimised = start_minimised;
    })
}

/// Whether this desktop has a tray to keep the app in: the tray settings are offered only then.
#[tauri::command(async)]
pub fn tray_available() -> bool {
    desktop::tray_available()
}

/// Whether the app starts with the session (the desktop's autostart entry exists).
#[tauri::command]
pub fn autostart_enabled<R: Runtime>(app: AppHandle<R>) -> Result<bool, ApiError> {
    app.autolaunch().is_enabled().map_err(|err| ApiError::new(ErrorCode::Storage, err))
}

/// Adds or removes the autostart entry, which starts the app hidden in the tray.
#[tauri::command]
#[tracing::instrument(skip(app, state))]
pub fn set_autostart<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    enabled: bool,
) -> Result<bool, ApiError> {
    state.ensure_unlocked()?;
    let autolaunch = app.autolaunch();
    let changed = if enabled { autolaunch.enable() } else { autolaunch.disable() };
    changed.and_then(|()| autolaunch.is_enabled()).map_err(|err| {
        ApiError::new(ErrorCode::Storage, format!("cannot change the autostart entry: {err}"))
    })
}

/// Closes the window (Ctrl+W): into the tray when the person chose that, else the app quits.
#[tauri::command]
pub fn close_window<R: Runtime>(app: AppHandle<R>) {
    desktop::close_window(&app);
}

/// Quits the app (Ctrl+Q), tray and all.
#[tauri::command]
pub fn quit<R: Runtime>(app: AppHandle<R>) {
    app.exit(0);
}

/// Scans an image file's bytes, sent as the raw request body (a screenshot is megabytes: no JSON),
/// and opens a scan of the accounts its QR codes hold.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn scan_image(
    request: Request<'_>,
    state: State<'_, AppState>,
    scans: State<'_, Scans>,
) -> Result<ScanPreview, ApiError> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(ApiError::new(ErrorCode::ImageUnreadable, "the image did not arrive as bytes"));
    };
    scans.preview(state.accounts()?.vault(), &qr::scan_image_bytes(bytes)?)
}

/// Hides the window, captures every screen, shows the window again, and opens a scan of the
/// accounts the screens show. `async`: the capture takes a moment and must not block the window.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn scan_screen<R: Runtime>(
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
    scans: State<'_, Scans>,
) -> Result<ScanPreview, ApiError> {
    let captures = scan::capture_without_window(
        || window.hide(),
        || window.show().and_then(|()| window.set_focus()),
        twofold_capture::screens,
    )?;
    scans.preview(state.accounts()?.vault(), &scan::found_on_screens(&captures)?)
}

/// Reads the clipboard (its image, else its text) and opens a scan of the accounts its QR codes
/// or links hold: Ctrl+V when the page's paste event carries no image (WebKitGTK never gives it
/// one).
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn scan_clipboard(
    state: State<'_, AppState>,
    scans: State<'_, Scans>,
) -> Result<ScanPreview, ApiError> {
    let found = scan::found_in_clipboard(twofold_capture::clipboard_content)?;
    scans.preview(state.accounts()?.vault(), &found)
}

/// Reads the `otpauth://` or `otpauth-migration://` links in text pasted into the window and
/// opens a scan (as scan_image).
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn scan_text(
    state: State<'_, AppState>,
    scans: State<'_, Scans>,
    text: Zeroizing<String>,
) -> Result<ScanPreview, ApiError> {
    scans.preview(state.accounts()?.vault(), &scan::found_in_text(&text)?)
}

/// Adds the accounts at `chosen` (indexes in the preview) of scan `scan`.
#[tauri::command(async)]
#[tracing::instrument(skip(state, scans))]
pub fn add_scanned(
    state: State<'_, AppState>,
    scans: State<'_, Scans>,
    scan: Uuid,
    chosen: Vec<usize>,
) -> Result<ScanAdded, ApiError> {
    scans.add(state.accounts()?, scan, &chosen, unix_now())
}

/// Forgets scan `scan` and the secrets it held (the preview was closed without adding).
#[tauri::command]
#[tracing::instrument(skip(scans))]
pub fn discard_scan(scans: State<'_, Scans>, scan: Uuid) {
    scans.discard(scan);
}

/// Reads another app's export file (or a Twofold backup), sent as the raw request body: its format,
/// and its accounts' preview, or that it waits for a password. Add them with `add_scanned`.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn open_import(
    request: Request<'_>,
    state: State<'_, AppState>,
    scans: State<'_, Scans>,
    files: State<'_, ImportFiles>,
) -> Result<FileOpened, ApiError> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(ApiError::new(ErrorCode::FileUnreadable, "the file did not arrive as bytes"));
    };
    files.open(&scans, state.accounts()?.vault(), bytes.clone())
}

/// Decrypts the encrypted export `file` with `password` and previews its accounts; a wrong
/// password leaves it open for another try.
#[tauri::command(async)]
#[tracing::instrument(skip(state, scans, files, password))]
pub fn unlock_import(
    state: State<'_, AppState>,
    scans: State<'_, Scans>,
    files: State<'_, ImportFiles>,
    file: Uuid,
    password: String,
) -> Result<FileOpened, ApiError> {
    files.unlock(&scans, state.accounts()?.vault(), file, &Password::new(password))
}

/// Where an export in `format` is saved unless the person says otherwise: a new name in their
/// documents folder (else their home).
#[tauri::command]
#[tracing::instrument(skip(app))]
pub fn default_export_path<R: Runtime>(app: AppHandle<R>, format: ExportFormat) -> String {
    let folder = app.path().document_dir().or_else(|_| app.path().home_dir()).unwrap_or_default();
    folder.join(transfer::export_file_name(format, unix_now())).display().to_string()
}

/// Opens the desktop's save dialog at `suggested` (the export dialog's path); the path chosen, or
/// `None` when the person cancelled.
#[tauri::command(async)]
#[tracing::instrument]
pub fn choose_export_path(suggested: String) -> Result<Option<String>, ApiError> {
    let chosen = save_dialog::choose("Export accounts", std::path::Path::new(&suggested))?;
    Ok(chosen.map(|path| path.display().to_string()))
}

/// Writes every account to a new file at `path` in `format` (Aegis encrypted with `password` when
/// one is given, `password_again` repeating it). The file holds every secret: the page warns first.
#[tauri::command(async)]
#[tracing::instrument(skip(state, password, password_again))]
pub fn export_file(
    state: State<'_, AppState>,
    format: ExportFormat,
    path: String,
    password: Option<String>,
    password_again: Option<String>,
) -> Result<Saved, ApiError> {
    let (password, again) = (password.map(Password::new), password_again.map(Password::new));
    transfer::export_file(
        state.accounts()?.vault(),
        format,
        std::path::Path::new(&path),
        password.as_ref(),
        again.as_ref(),
    )
}

/// Every account as Google Authenticator migration QR codes (SVG), one batch after another. They
/// hold every secret: the page warns first and drops them when closed.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn export_migration(state: State<'_, AppState>) -> Result<MigrationCodes, ApiError> {
    // Only needs to differ between exports so a phone does not mix batches; no secrecy involved.
    let batch_id = i32::try_from(unix_now() % (i32::MAX as u64)).unwrap_or_default();
    transfer::migration_codes(state.accounts()?.vault(), batch_id)
}

/// The automatic backups' settings and the backups in their folder, newest first.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn backup_status(state: State<'_, AppState>) -> Result<BackupStatus, ApiError> {
    transfer::backup_status(state.accounts()?.vault())
}

/// Applies the backup settings; `passphrase`, typed again as `passphrase_again` (both empty:
/// unchanged), is needed to turn them on. Returns the first backup when one was written.
#[tauri::command(async)]
#[tracing::instrument(skip(state, passphrase, passphrase_again))]
pub fn set_backups(
    state: State<'_, AppState>,
    form: BackupForm,
    passphrase: String,
    passphrase_again: String,
) -> Result<Option<Saved>, ApiError> {
    let (passphrase, again) = (Password::new(passphrase), Password::new(passphrase_again));
    transfer::set_backups(state.accounts()?.vault(), &form, &passphrase, &again, unix_now_ms())
}

/// Writes an automatic backup now.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn backup_now(state: State<'_, AppState>) -> Result<Saved, ApiError> {
    transfer::backup_now(state.accounts()?.vault(), unix_now_ms())
}

/// Merges the automatic backup `name` (as `backup_status` lists it) into the vault: reports what
/// was added and what was already here. Other backup files go through `open_import`.
#[tauri::command(async)]
#[tracing::instrument(skip(state, passphrase))]
pub fn restore_backup(
    state: State<'_, AppState>,
    name: String,
    passphrase: String,
) -> Result<RestoreReport, ApiError> {
    let passphrase = Password::new(passphrase);
    transfer::restore(state.accounts()?.vault(), &name, &passphrase, unix_now())
}

/// The clock in milliseconds, read here at the edge; a clock before 1970 reads as 1970.
pub(crate) fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The clock, read here at the edge; a clock before 1970 reads as 1970.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What a pairing link would pair with (server, service, key fingerprint), before anything is sent.
#[tauri::command]
pub fn pairing_preview(
    state: State<'_, AppState>,
    link: String,
) -> Result<PairingPreview, ApiError> {
    state.ensure_unlocked()?;
    twofold_device::pairing::preview(&link).map_err(|err| ApiError::new(ErrorCode::Approval, err))
}

/// Pairs this device with the server of `link` under `device_name`: a new key in the keyring.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn pair(
    state: State<'_, AppState>,
    approvals: State<'_, Approvals>,
    link: String,
    device_name: String,
) -> Result<PairedServer, ApiError> {
    state.ensure_unlocked()?;
    let supervisor = approvals.supervisor()?;
    let record = supervisor.pair(&link, &device_name).await.map_err(approvals::from_device)?;
    let servers = supervisor.servers().map_err(approvals::from_device)?;
    servers.into_iter().find(|server| server.pairing.id == record.id).ok_or_else(|| {
        ApiError::new(ErrorCode::Approval, "the new pairing is not in the list of servers")
    })
}

/// The paired servers with the state of their connections.
#[tauri::command]
pub fn paired_servers(
    state: State<'_, AppState>,
    approvals: State<'_, Approvals>,
) -> Result<Vec<PairedServer>, ApiError> {
    state.ensure_unlocked()?;
    approvals.supervisor()?.servers().map_err(approvals::from_device)
}

/// Unpairs server `id`: revoked on the server (best effort), the key deleted from the keyring.
#[tauri::command]
#[tracing::instrument(skip(state, approvals))]
pub async fn unpair(
    state: State<'_, AppState>,
    approvals: State<'_, Approvals>,
    id: Uuid,
) -> Result<Unpaired, ApiError> {
    state.ensure_unlocked()?;
    let unpaired = approvals.supervisor()?.unpair(id).await.map_err(approvals::from_device)?;
    Ok(Unpaired { revoke_failed: unpaired.revoke_failed.map(|err| err.to_string()) })
}

/// The sign-in requests waiting for an answer (none while locked).
#[tauri::command]
pub fn pending_requests(
    state: State<'_, AppState>,
    approvals: State<'_, Approvals>,
) -> Result<Vec<RequestView>, ApiError> {
    state.ensure_unlocked()?;
    Ok(approvals.device()?.shown())
}

/// What the lock screen may say of the requests waiting: service and expiry, nothing else.
#[tauri::command]
pub fn waiting_requests(approvals: State<'_, Approvals>) -> Result<Vec<Waiting>, ApiError> {
    approvals::waiting(&approvals)
}

/// Answers `request` of paired server `server` ("allow", "deny" or "report"; the choice picked
/// in number mode), signed by this device's key over the request shown. Refused while locked.
#[tauri::command]
#[tracing::instrument(skip(state, approvals, number))]
pub async fn decide(
    state: State<'_, AppState>,
    approvals: State<'_, Approvals>,
    server: Uuid,
    request: Uuid,
    decision: String,
    number: Option<String>,
) -> Result<Outcome, ApiError> {
    let answer = approvals::answer(&decision)?;
    let number = approvals::number(number.as_deref())?;
    approvals::decide(&state, &approvals, (server, request), answer, number).await
}

/// Past requests and their outcomes, newest first.
#[tauri::command]
pub fn approval_history(
    state: State<'_, AppState>,
    approvals: State<'_, Approvals>,
) -> Result<Vec<HistoryEntry>, ApiError> {
    state.ensure_unlocked()?;
    approvals.device()?.history().map_err(approvals::from_device)
}

/// The offline verification code for paired server `server`, for when push cannot reach it.
#[tauri::command]
pub async fn offline_code(
    state: State<'_, AppState>,
    approvals: State<'_, Approvals>,
    server: Uuid,
) -> Result<OfflineCode, ApiError> {
    state.ensure_unlocked()?;
    approvals.device()?.offline_code(server).await.map_err(approvals::from_device)
}
