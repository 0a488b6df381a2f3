//! The commands the UI invokes: each delegates to [`Accounts`](crate::accounts::Accounts) and
//! returns errors as `{code, message}`.

use std::time::{SystemTime, UNIX_EPOCH};

use tauri::{AppHandle, Runtime, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use uuid::Uuid;

use crate::AppState;
use crate::accounts::Listing;
use crate::error::{ApiError, ErrorCode};

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

/// The clock, read here at the edge; a clock before 1970 reads as 1970.
fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
