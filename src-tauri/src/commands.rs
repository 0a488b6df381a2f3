//! The commands the UI invokes: each delegates to [`Accounts`](crate::accounts::Accounts) and
//! returns errors as `{code, message}`.

use std::time::{SystemTime, UNIX_EPOCH};

use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Runtime, State, WebviewWindow};
use tauri_plugin_clipboard_manager::ClipboardExt;
use twofold_core::qr;
use uuid::Uuid;

use crate::AppState;
use crate::accounts::Listing;
use crate::error::{ApiError, ErrorCode};
use crate::scan::{self, ScanAdded, ScanPreview, Scans};

/// Every account with its current code. `async` so keyring calls stay off the main thread.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn list_accounts(state: State<'_, AppState>) -> Result<Listing, ApiError> {
    state.accounts()?.list(unix_now())
}

/// Puts the current code of account `id` on the clipboard; the code is made here, never read
/// back from the page.
#[tauri::command(async)]
#[tracing::instrument(skip(app, state))]
pub fn copy_code<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: Uuid,
) -> Result<(), ApiError> {
    let code = state.accounts()?.code_to_copy(id, unix_now())?;
    app.clipboard().write_text(code).map_err(|err| ApiError::new(ErrorCode::Clipboard, err))
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

/// Reads the image on the clipboard and opens a scan of the accounts its QR codes hold: Ctrl+V
/// when the page's paste event carries no image (WebKitGTK never gives it one).
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn scan_clipboard(
    state: State<'_, AppState>,
    scans: State<'_, Scans>,
) -> Result<ScanPreview, ApiError> {
    let found = scan::found_in_clipboard(twofold_capture::clipboard_image)?;
    scans.preview(state.accounts()?.vault(), &found)
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

/// The clock, read here at the edge; a clock before 1970 reads as 1970.
fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
