//! The one error type of every route: a 4xx JSON body saying what was wrong for bad input, a
//! generic 500 (details only in the log) for the server's own failures.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use twofold_protocol::api::ErrorBody;

use crate::clock::EntropyError;
use crate::store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The client's fault: the status, a stable code and a sentence.
    #[error("{message}")]
    Client {
        /// A 4xx status.
        status: StatusCode,
        /// Stable snake_case code.
        code: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

impl AppError {
    /// A client error.
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Client { status, code, message: message.into() }
    }

    /// 400: the request is malformed or invalid.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: missing or invalid credentials or signature.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::FORBIDDEN, code, message)
    }

    /// 404: no such thing (or not the caller's).
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_FOUND, code, message)
    }

    /// 409: the thing's state does not allow this.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, code, message)
    }

    /// 410: it expired.
    pub fn gone(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::GONE, code, message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Client { status, .. } => *status,
            Self::Store(_) | Self::Entropy(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = match self {
            Self::Client { status, code, message } => {
                return (status, Json(ErrorBody { error: code.into(), message })).into_response();
            }
            Self::Store(error) => {
                tracing::error!(%error, "storage failed");
                ErrorBody {
                    error: "internal".into(),
                    message: "the server's database failed; try again later".into(),
                }
            }
            Self::Entropy(error) => {
                tracing::error!(%error, "no randomness");
                ErrorBody {
                    error: "internal".into(),
                    message: "the server could not make random values; try again later".into(),
                }
            }
        };
        (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
    }
}
