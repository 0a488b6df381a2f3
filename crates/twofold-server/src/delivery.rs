//! The device's side: its authenticated event stream, the polling alternative, and decisions.

use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt as _, stream};
use tokio::sync::broadcast::error::RecvError;
use twofold_protocol::api::{
    self, AuditEvent, DecisionAccepted, PendingRequests, PostDecision, Status, Withdrawn,
    WithdrawnReason,
};
use twofold_protocol::{Answer, AuthPurpose, Mode, Signed, SigninRequest};
use uuid::Uuid;

use crate::app::{AppState, Body, Param};
use crate::error::AppError;
use crate::hub::{HubEvent, HubKind};
use crate::policy;
use crate::store::{Device, NewAuditEntry, Signin, Store};

/// The paired, unrevoked device behind a request's key.
async fn paired_device<S: Store>(
    state: &AppState<S>,
    key: &twofold_protocol::PublicKey,
) -> Result<Device, AppError> {
    let device = state.get().store.device_by_key(key).await?.ok_or_else(|| {
        AppError::unauthorized("unknown_device", "this device is not paired with this server")
    })?;
    if device.revoked {
        return Err(AppError::forbidden(
            "device_revoked",
            "this device was revoked; pair it again",
        ));
    }
    Ok(device)
}

/// Checks a device authentication: this server, this purpose, fresh, signed, never seen before.
async fn authenticate<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    purpose: AuthPurpose,
) -> Result<Device, AppError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            AppError::unauthorized(
                "missing_device_auth",
                "this route needs a signed device authentication in the Authorization header",
            )
        })?;
    let signed = api::parse_device_auth(header)
        .map_err(|e| AppError::unauthorized("bad_device_auth", e.to_string()))?;
    let auth = &signed.message;
    let inner = state.get();
    if auth.server != inner.fingerprint {
        return Err(AppError::unauthorized(
            "wrong_server",
            "the device authentication was made for another server",
        ));
    }
    if auth.purpose != purpose {
        return Err(AppError::unauthorized(
            "wrong_purpose",
            format!(
                "the device authentication is for {}, not {}",
                auth.purpose.as_str(),
                purpose.as_str()
            ),
        ));
    }
    let now = inner.clock.now();
    if now.abs_diff(auth.time) > inner.settings.clock_skew {
        return Err(AppError::unauthorized(
            "stale_device_auth",
            "the device authentication is not fresh: check the device's clock",
        ));
    }
    let device = paired_device(state, &auth.device).await?;
    signed
        .verify(&auth.device)
        .map_err(|e| AppError::unauthorized("bad_signature", e.to_string()))?;
    // After the signature: only the device's own key can use up its allowance.
    if !inner.device_auths.allow(device.id, now) {
        return Err(AppError::client(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "this device authenticated too often lately: try again in a minute",
        ));
    }
    // Kept past the last moment the freshness check could pass, so a replay always meets it.
    let keep_until = auth.time + inner.settings.clock_skew + 1;
    if !inner.store.use_nonce(device.id, &auth.nonce.0, keep_until, now).await? {
        return Err(AppError::unauthorized(
            "replayed_device_auth",
            "this device authentication was already used",
        ));
    }
    Ok(device)
}

fn request_event(json: &str) -> Event {
    Event::default().event(api::EVENT_REQUEST).data(json)
}

fn withdrawn_event(id: Uuid, reason: WithdrawnReason) -> Event {
    let data = serde_json::to_string(&Withdrawn { id, reason }).unwrap_or_default();
    Event::default().event(api::EVENT_WITHDRAWN).data(data)
}

/// What a live stream does with a hub event.
enum Step {
    Send(Event),
    Skip,
    End,
}

fn step(device: &Device, event: &HubEvent) -> Step {
    match &event.kind {
        HubKind::Request { json, .. } => Step::Send(request_event(json)),
        HubKind::Decided { id, by } if *by != Some(device.id) => {
            Step::Send(withdrawn_event(*id, WithdrawnReason::DecidedElsewhere))
        }
        HubKind::Decided { .. } => Step::Skip,
        HubKind::Expired { id } => Step::Send(withdrawn_event(*id, WithdrawnReason::Expired)),
        HubKind::Revoked { device: revoked } if *revoked == device.id => Step::End,
        HubKind::Revoked { .. } => Step::Skip,
    }
}

/// `DELETE /v1/device`: the device unpairs itself; it is revoked as a service would revoke it.
pub(crate) async fn unpair<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
) -> Result<axum::http::StatusCode, AppError> {
    let device = authenticate(&state, &headers, AuthPurpose::Unpair).await?;
    crate::pairing::revoke(&state, device.service_id, device.id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /v1/device/stream`: the device's pending requests, then every new request of its user
/// and withdrawals, as server-sent events, until the device is revoked or disconnects.
pub(crate) async fn stream<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let device = authenticate(&state, &headers, AuthPurpose::Stream).await?;
    let inner = state.get();
    let Some(slot) = inner.streams.take(device.id, policy::MAX_STREAMS_PER_DEVICE) else {
        return Err(AppError::client(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too_many_streams",
            "this device holds as many event streams as it may: close one first",
        ));
    };
    // Subscribed before reading what is pending, so nothing falls between the two.
    let events = inner.hub.subscribe(device.service_id, &device.user);
    let pending =
        inner.store.pending_signins(device.service_id, &device.user, inner.clock.now()).await?;
    let first = stream::iter(pending_events(pending));
    // The slot lives as long as the stream: it is given back when the device disconnects. The
    // reads from the store are boxed: an idle stream's state is only what waits for events.
    let live = stream::unfold(
        (events, device, state, slot),
        |(mut events, device, state, slot)| async move {
            loop {
                let sent = match events.recv().await {
                    Ok(event) => match step(&device, &event) {
                        // The revocation notice from another instance may have been lost: a request
                        // goes out only to a device the database still has unrevoked.
                        Step::Send(sse) if matches!(event.kind, HubKind::Request { .. }) => {
                            if !Box::pin(still_paired(&state, &device)).await {
                                return None;
                            }
                            vec![Ok(sse)]
                        }
                        Step::Send(sse) => vec![Ok(sse)],
                        Step::Skip => continue,
                        Step::End => return None,
                    },
                    // Events this stream was too slow for were dropped: what is still pending
                    // goes out again (a failed read ends the stream; the device reconnects).
                    Err(RecvError::Lagged(_)) => {
                        let inner = state.get();
                        let now = inner.clock.now();
                        let pending = inner.store.pending_signins(device.service_id, &device.user, now);
                        match Box::pin(pending).await {
                            Ok(pending) => pending_events(pending),
                            Err(error) => {
                                tracing::warn!(%error, "re-reading a lagging stream's requests failed");
                                return None;
                            }
                        }
                    }
                    Err(RecvError::Closed) => return None,
                };
                return Some((stream::iter(sent), (events, device, state, slot)));
            }
        },
    )
    .flatten();
    Ok(Sse::new(first.chain(live)).keep_alive(KeepAlive::default()))
}

/// The request events of `pending` sign-ins.
fn pending_events(pending: Vec<Signin>) -> Vec<Result<Event, Infallible>> {
    pending.iter().map(|s| Ok(request_event(&s.request_json))).collect()
}

/// Whether `device` is still paired and unrevoked, as the database says; a failed read ends the
/// stream too (the device reconnects and is checked afresh).
async fn still_paired<S: Store>(state: &AppState<S>, device: &Device) -> bool {
    match state.get().store.device_by_key(&device.public_key).await {
        Ok(Some(now)) => !now.revoked,
        Ok(None) => false,
        Err(error) => {
            tracing::warn!(%error, "re-checking a device before sending failed; ending its stream");
            false
        }
    }
}

/// `GET /v1/device/requests`: pending requests, for devices that cannot hold a stream.
pub(crate) async fn poll<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
) -> Result<Json<PendingRequests>, AppError> {
    let device = authenticate(&state, &headers, AuthPurpose::Poll).await?;
    let inner = state.get();
    let pending =
        inner.store.pending_signins(device.service_id, &device.user, inner.clock.now()).await?;
    let requests = pending
        .iter()
        .map(|s| serde_json::from_str::<Signed<SigninRequest>>(&s.request_json))
        .collect::<Result<_, _>>()
        .map_err(|_| crate::store::StoreError::Corrupt { what: "stored request" })?;
    Ok(Json(PendingRequests { requests }))
}

/// `POST /v1/signins/{id}/decision`: a device's signed answer. Accepted once per request, from
/// a device of that user, before expiry, over the exact request sent, with the right number.
pub(crate) async fn decide<S: Store>(
    State(state): State<AppState<S>>,
    Param(id): Param<Uuid>,
    Body(body): Body<PostDecision>,
) -> Result<Json<DecisionAccepted>, AppError> {
    let decision = &body.message;
    if decision.request_id != id {
        return Err(AppError::bad_request(
            "id_mismatch",
            "the decision is for another sign-in than the URL names",
        ));
    }
    let device = paired_device(&state, &decision.device).await?;
    body.verify(&decision.device)
        .map_err(|e| AppError::unauthorized("bad_signature", e.to_string()))?;
    let inner = state.get();
    let signin = inner
        .store
        .signin(id)
        .await?
        .ok_or_else(|| AppError::not_found("unknown_signin", "no such sign-in"))?;
    if signin.service_id != device.service_id || signin.user != device.user {
        return Err(AppError::forbidden(
            "not_your_signin",
            "this sign-in is for another user's devices",
        ));
    }
    let now = inner.clock.now();
    match signin.status(now) {
        Status::Pending => {}
        Status::Expired => {
            return Err(AppError::gone("signin_expired", "the sign-in request has expired"));
        }
        _ => {
            return Err(AppError::conflict(
                "already_decided",
                "the sign-in request was already decided",
            ));
        }
    }
    if decision.request_digest.as_bytes() != &signin.digest {
        return Err(AppError::bad_request(
            "digest_mismatch",
            "the decision is over a request other than the one this server sent",
        ));
    }
    if decision.time.abs_diff(now) > inner.settings.clock_skew {
        return Err(AppError::bad_request(
            "stale_decision",
            "the decision is not fresh: check the device's clock",
        ));
    }
    let wrong_number = decision.answer == Answer::Allow
        && signin.mode == Mode::Number
        && decision.number != signin.number;
    let status = match decision.answer {
        // A wrong number denies: an attacker's push gets one guess, not many.
        Answer::Allow if wrong_number => Status::Denied,
        Answer::Allow => Status::Allowed,
        Answer::Deny => Status::Denied,
        Answer::Report => Status::Reported,
    };
    let event = match status {
        _ if wrong_number => AuditEvent::WrongNumber,
        Status::Allowed => AuditEvent::SigninAllowed,
        Status::Reported => AuditEvent::SigninReported,
        _ => AuditEvent::SigninDenied,
    };
    let audit = NewAuditEntry {
        service_id: signin.service_id,
        at: now,
        user: signin.user.clone(),
        event,
        signin_id: Some(id),
        device_id: Some(device.id),
        ip: Some(signin.ip),
    };
    if !inner.store.decide(id, status, Some(device.id), &audit).await? {
        return Err(AppError::conflict(
            "already_decided",
            "the sign-in request was already decided",
        ));
    }
    // The store told the other instances as it stored the decision.
    inner.hub.send(HubEvent {
        service_id: signin.service_id,
        user: signin.user.as_str().into(),
        kind: HubKind::Decided { id, by: Some(device.id) },
    });
    if wrong_number {
        return Err(AppError::forbidden(
            "wrong_number",
            "the number does not match the one on the sign-in page; the sign-in was refused",
        ));
    }
    let code = if status == Status::Allowed { signin.code } else { None };
    Ok(Json(DecisionAccepted { status, code }))
}
