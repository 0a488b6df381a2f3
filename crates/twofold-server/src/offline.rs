//! `POST /v1/users/{user}/offline-code`: the service checks a code the user read off one of
//! their devices when push could not reach it. Each code works once; wrong codes are limited
//! ([`policy::MAX_WRONG_OFFLINE_CODES`] per window), in the store's transaction.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use twofold_protocol::api::{OfflineCodeVerified, VerifyOfflineCode};
use twofold_protocol::offline;

use crate::app::{AppState, Body, Param, ServiceAuth, check_user, same_code};
use crate::error::AppError;
use crate::policy;
use crate::store::{OfflineAttempt, OfflineKey, OfflineOutcome, Store};

/// `POST /v1/users/{user}/offline-code`.
pub(crate) async fn verify<S: Store>(
    State(state): State<AppState<S>>,
    ServiceAuth(service): ServiceAuth,
    Param(user): Param<String>,
    Body(body): Body<VerifyOfflineCode>,
) -> Result<Json<OfflineCodeVerified>, AppError> {
    check_user(&user)?;
    let code = body.code.trim();
    if code.len() != offline::DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_request("invalid_code", "the code must be six digits"));
    }
    let state = state.get();
    let now = state.clock.now();
    let attempt = OfflineAttempt {
        service_id: service.id,
        user,
        at: now,
        since: now.saturating_sub(state.settings.limits.window_secs),
        max_wrong: policy::MAX_WRONG_OFFLINE_CODES,
    };
    let current = offline::step_at(now);
    let matches = |key: &OfflineKey| {
        let seed = match state.sealer.open(key.device_id, &key.sealed_seed) {
            Ok(seed) => seed,
            Err(error) => {
                tracing::warn!(device = %key.device_id, %error, "skipping a device's offline codes");
                return None;
            }
        };
        // One step either side: the device's clock and the typing take time.
        (current.saturating_sub(1)..=current + 1).find(|&step| {
            key.last_step.is_none_or(|last| step > last)
                && same_code(&offline::code_at_step(seed.0.as_slice(), step), code)
        })
    };
    match state.store.verify_offline_code(&attempt, matches).await? {
        OfflineOutcome::Verified { device_id } => {
            Ok(Json(OfflineCodeVerified { verified: true, device_id: Some(device_id) }))
        }
        OfflineOutcome::Rejected => {
            Ok(Json(OfflineCodeVerified { verified: false, device_id: None }))
        }
        OfflineOutcome::RateLimited => Err(AppError::client(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many wrong codes for this user lately: try again in a few minutes",
        )),
    }
}
