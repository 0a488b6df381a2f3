//! `GET /v1/audit`: the service reads its append-only log of pairings, requests and decisions.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;
use twofold_protocol::api::AuditLog;

use crate::app::{AppState, ServiceAuth};
use crate::error::AppError;
use crate::store::Store;

/// Most entries per read.
const MAX_ENTRIES: u32 = 1000;

/// Query of `GET /v1/audit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    /// Entries after this sequence number (0: from the start).
    #[serde(default)]
    after: u64,
    /// At most this many entries (default and maximum 1000).
    limit: Option<u32>,
}

/// `GET /v1/audit?after=SEQ&limit=N`.
pub(crate) async fn read<S: Store>(
    State(state): State<AppState<S>>,
    ServiceAuth(service): ServiceAuth,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditLog>, AppError> {
    let Query(query) = query.map_err(|e| AppError::bad_request("bad_query", e.body_text()))?;
    let limit = query.limit.unwrap_or(MAX_ENTRIES).clamp(1, MAX_ENTRIES);
    let entries = state.get().store.audit(service.id, query.after, limit).await?;
    Ok(Json(AuditLog { entries }))
}
