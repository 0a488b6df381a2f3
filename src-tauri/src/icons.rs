//! Service icons: the icon a row shows when it has no custom one (a built-in brand or an
//! imported Aegis icon pack's), and importing, listing and removing icon packs. Thin commands
//! over `twofold-icons`.

use tauri::State;
use tauri::ipc::{InvokeBody, Request, Response};
use twofold_icons::library::PackSummary;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// The service icon `key` (a listing's `brand.key`) as raw bytes.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn brand_icon(state: State<'_, AppState>, key: String) -> Result<Response, ApiError> {
    Ok(Response::new(state.accounts()?.icons().icon(&key)?.bytes))
}

/// Imports the Aegis icon pack in the raw request body (the ZIP) into the vault's directory.
#[tauri::command(async)]
#[tracing::instrument(skip_all)]
pub fn import_icon_pack(
    request: Request<'_>,
    state: State<'_, AppState>,
) -> Result<PackSummary, ApiError> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(ApiError::new(
            ErrorCode::FileUnreadable,
            "the icon pack did not arrive as bytes",
        ));
    };
    Ok(state.accounts()?.icons().import(bytes)?)
}

/// The imported icon packs.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn icon_packs(state: State<'_, AppState>) -> Result<Vec<PackSummary>, ApiError> {
    Ok(state.accounts()?.icons().list())
}

/// Removes the imported icon pack `uuid`.
#[tauri::command(async)]
#[tracing::instrument(skip(state))]
pub fn remove_icon_pack(state: State<'_, AppState>, uuid: Uuid) -> Result<(), ApiError> {
    Ok(state.accounts()?.icons().remove(uuid)?)
}
