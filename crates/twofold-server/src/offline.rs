//! `POST /v1/users/{user}/offline-code`: the service checks a code the user read off one of
//! their devices when push could not reach it. Each code works once; wrong codes are limited.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use twofold_protocol::api::{AuditEvent, OfflineCodeVerified, VerifyOfflineCode};
use twofold_protocol::offline;

use crate::app::{AppState, Body, Param, ServiceAuth, check_user, same_code};
use crate::error::AppError;
use crate::store::{NewAuditEntry, Store};

/// Wrong offline codes per user per rate window.
const MAX_WRONG_CODES: u32 = 5;

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
    let since = now.saturating_sub(state.settings.limits.window_secs);
    let wrong =
        state.store.count_audit(service.id, &user, AuditEvent::OfflineCodeRejected, since).await?;
    if wrong >= MAX_WRONG_CODES {
        return Err(AppError::client(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many wrong codes for this user lately: try again in a few minutes",
        ));
    }
    let current = offline::step_at(now);
    let audit = |event, device_id| NewAuditEntry {
        service_id: service.id,
        at: now,
        user: user.clone(),
        event,
        signin_id: None,
        device_id,
        ip: None,
    };
    for key in state.store.offline_keys(service.id, &user).await? {
        // One step either side: the device's clock and the typing take time.
        for step in current.saturating_sub(1)..=current + 1 {
            let unused = key.last_step.is_none_or(|last| step > last);
            let verified = audit(AuditEvent::OfflineCodeVerified, Some(key.device_id));
            if unused
                && same_code(&offline::code_at_step(key.seed.0.as_slice(), step), code)
                && state.store.use_offline_step(key.device_id, step, &verified).await?
            {
                let device_id = Some(key.device_id);
                return Ok(Json(OfflineCodeVerified { verified: true, device_id }));
            }
        }
    }
    state.store.append_audit(&audit(AuditEvent::OfflineCodeRejected, None)).await?;
    Ok(Json(OfflineCodeVerified { verified: false, device_id: None }))
}
