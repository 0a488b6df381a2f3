//! The router, its shared state, and the extractors every route uses (JSON bodies and paths whose
//! rejections become [`AppError`]s; relying-party authentication by API key).

use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tower_http::limit::RequestBodyLimitLayer;
use twofold_protocol::api::{About, Status};
use twofold_protocol::{Fingerprint, KeyPair};
use url::Url;
use uuid::Uuid;

use crate::clock::{Clock, Entropy};
use crate::enrich::Enricher;
use crate::error::AppError;
use crate::hub::{Hub, HubEvent, HubKind};
use crate::policy;
use crate::rate::WindowCounter;
use crate::seal::SeedSealer;
use crate::slots::Slots;
use crate::store::{Notice, NoticeKind, Service, Store};
use crate::{audit, delivery, offline, pairing, signins};

/// Tunable limits and lifetimes.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The URL devices and services reach this server at (pairing links and QR URLs use it).
    pub public_url: Url,
    /// Seconds a sign-in request waits for a decision.
    pub request_lifetime: u64,
    /// Seconds a pairing token stays usable.
    pub pairing_lifetime: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest long poll, in seconds.
    pub max_wait: u64,
    /// How far a device's clock may be from the server's, in seconds.
    pub clock_skew: u64,
    /// Rate limits and lockout.
    pub limits: Limits,
}

/// Rate limits and lockout, against push fatigue and abuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The window of the rate limits, in seconds.
    pub window_secs: u64,
    /// Sign-ins per user per window.
    pub signins_per_user: u32,
    /// Sign-ins from one address per service per window.
    pub signins_per_ip: u32,
    /// Denials within `lockout_secs` that lock a user out.
    pub lockout_denials: u32,
    /// How long a lockout lasts after the last denial or report, in seconds.
    pub lockout_secs: u64,
}

impl Default for Limits {
    /// Per 10 min at most 10 sign-ins per user and 30 per address; 3 denials or a report lock
    /// the user out for 15 min.
    fn default() -> Self {
        Self {
            window_secs: 600,
            signins_per_user: 10,
            signins_per_ip: 30,
            lockout_denials: 3,
            lockout_secs: 900,
        }
    }
}

impl Settings {
    /// The defaults: requests live 120 s, pairing tokens 10 min, bodies up to 16 KiB, long polls
    /// up to 60 s, device clocks within ±60 s, the default [`Limits`].
    pub fn new(public_url: Url) -> Self {
        Self {
            public_url,
            request_lifetime: 120,
            pairing_lifetime: 600,
            max_body_bytes: 16 * 1024,
            max_wait: 60,
            clock_skew: 60,
            limits: Limits::default(),
        }
    }
}

/// Everything the routes share.
pub struct AppState<S> {
    inner: Arc<Inner<S>>,
}

/// How long to wait before listening to other instances again after the database refused.
const RELISTEN_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

pub(crate) struct Inner<S> {
    pub store: S,
    pub key: KeyPair,
    pub fingerprint: Fingerprint,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub enricher: Enricher,
    pub hub: Hub,
    /// Seals offline-code seeds with a key derived from `key`.
    pub sealer: SeedSealer,
    /// Open event streams per device.
    pub streams: Arc<Slots<Uuid>>,
    /// Device authentications per device per minute.
    pub device_auths: WindowCounter<Uuid>,
}

impl<S: Store> Inner<S> {
    /// Tells this instance's streams and long polls, then the other instances.
    pub(crate) async fn announce(&self, event: HubEvent) {
        let notice = event.notice();
        self.hub.send(event);
        // Already committed: if the others miss it, their devices catch up on reconnect and
        // their long polls on timeout.
        if let Err(error) = self.store.publish(&notice).await {
            tracing::warn!(%error, "telling other instances failed");
        }
    }

    /// Passes on what another instance announced.
    async fn relay(&self, notice: Notice) {
        let user: Arc<str> = notice.user.into();
        let kind = match notice.kind {
            NoticeKind::Request { .. } if !self.hub.listens(notice.service_id, &user) => return,
            // Sent as the request was stored: it was pending then, and a decision or expiry
            // since follows on the channel and withdraws it.
            NoticeKind::Request { id, json: Some(json) } => {
                HubKind::Request { id, json: json.into() }
            }
            NoticeKind::Request { id, json: None } => match self.store.signin(id).await {
                Ok(Some(signin)) if signin.stored_status == Status::Pending => {
                    HubKind::Request { id, json: signin.request_json.into() }
                }
                Ok(_) => return,
                Err(error) => {
                    tracing::warn!(%error, "reading another instance's request failed");
                    return;
                }
            },
            NoticeKind::Decided { id, by } => HubKind::Decided { id, by },
            NoticeKind::Expired { id } => HubKind::Expired { id },
            NoticeKind::Revoked { device } => HubKind::Revoked { device },
        };
        self.hub.send(HubEvent { service_id: notice.service_id, user, kind });
    }
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<S: Store> AppState<S> {
    /// State over `store`, signing with the server `key`, with injected time and randomness, and
    /// `enricher` to locate and describe sign-ins.
    pub fn new(
        store: S,
        key: KeyPair,
        settings: Settings,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        enricher: Enricher,
    ) -> Self {
        let fingerprint = key.public().fingerprint();
        let sealer = SeedSealer::new(&key);
        Self {
            inner: Arc::new(Inner {
                sealer,
                streams: Arc::default(),
                device_auths: WindowCounter::new(60, policy::DEVICE_AUTHS_PER_MINUTE),
                store,
                key,
                fingerprint,
                settings,
                clock,
                entropy,
                enricher,
                hub: Hub::new(),
            }),
        }
    }

    pub(crate) fn get(&self) -> &Inner<S> {
        &self.inner
    }

    /// The server's own work beside the routes: marks expired requests (withdrawing them from
    /// devices) every second, and passes on what other instances sharing the database announce.
    /// Runs until dropped; the caller spawns it next to [`app`].
    pub fn background(&self) -> impl Future<Output = ()> + Send + 'static {
        let (sweeper, relay) = (self.clone(), self.clone());
        let sweep = async move {
            let mut ticks = tokio::time::interval(crate::expiry::SWEEP_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = crate::expiry::sweep(sweeper.get()).await {
                    tracing::warn!(%error, "marking expired sign-in requests failed; retrying");
                }
            }
        };
        let relay = async move {
            loop {
                match relay.get().store.notices().await {
                    Ok(None) => return,
                    Ok(Some(mut notices)) => {
                        while let Some(notice) = notices.next().await {
                            match notice {
                                Ok(notice) => relay.get().relay(notice).await,
                                Err(error) => tracing::warn!(%error, "a notice was lost"),
                            }
                        }
                    }
                    Err(error) => tracing::warn!(%error, "listening to other instances failed"),
                }
                tokio::time::sleep(RELISTEN_AFTER).await;
            }
        };
        async move {
            futures_util::future::join(sweep, relay).await;
        }
    }
}

/// The HTTP API (routes in the crate docs).
pub fn app<S: Store>(state: AppState<S>) -> Router {
    let body_limit = state.get().settings.max_body_bytes;
    Router::new()
        .route("/v1/pairings", post(pairing::create::<S>))
        .route("/v1/pairings/complete", post(pairing::complete::<S>))
        .route("/v1/pairings/{token}/qr.png", get(pairing::qr_png::<S>))
        .route("/v1/pairings/{token}/qr.svg", get(pairing::qr_svg::<S>))
        .route("/v1/users/{user}/devices", get(pairing::devices::<S>))
        .route("/v1/devices/{id}", delete(pairing::revoke_device::<S>))
        .route("/v1/signins", post(signins::create::<S>))
        .route("/v1/signins/{id}", get(signins::state::<S>))
        .route("/v1/signins/{id}/verify", post(signins::verify::<S>))
        .route("/v1/signins/{id}/decision", post(delivery::decide::<S>))
        .route("/v1/device", delete(delivery::unpair::<S>))
        .route("/v1/device/stream", get(delivery::stream::<S>))
        .route("/v1/device/requests", get(delivery::poll::<S>))
        .route("/v1/users/{user}/offline-code", post(offline::verify::<S>))
        .route("/v1/audit", get(audit::read::<S>))
        .route("/v1/about", get(about::<S>))
        .fallback(|| async { AppError::not_found("no_such_route", "there is no such API route") })
        .method_not_allowed_fallback(|| async {
            AppError::client(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this API route does not take that method",
            )
        })
        // tower-http's limit answers 413 at once when the declared Content-Length is over it
        // (axum's own counts only the bytes received, so it waited for a body never sent), and
        // still counts the bytes of a body without one; its bare 413 becomes our JSON error.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(axum::middleware::map_response(json_payload_too_large))
        .with_state(state)
}

/// tower-http's plain-text 413 as the API's JSON error.
async fn json_payload_too_large(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return body_too_large().into_response();
    }
    response
}

/// The answer to a body over the size limit.
fn body_too_large() -> AppError {
    AppError::client(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "the request body is too large",
    )
}

/// `GET /v1/about`: the server's fingerprint and the credits its data needs; no authentication.
async fn about<S: Store>(State(state): State<AppState<S>>) -> Json<About> {
    let state = state.get();
    Json(About { fingerprint: state.fingerprint, attributions: state.enricher.attributions() })
}

/// A JSON body; a missing, oversized or malformed one is a 4xx [`AppError`] saying why.
pub(crate) struct Body<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequest<St> for Body<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &St) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(body_rejection(&rejection)),
        }
    }
}

fn body_rejection(rejection: &JsonRejection) -> AppError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return body_too_large();
    }
    let code = match rejection {
        JsonRejection::MissingJsonContentType(_) => "not_json",
        JsonRejection::JsonSyntaxError(_) => "malformed_json",
        _ => "invalid_body",
    };
    AppError::client(status, code, rejection.body_text())
}

/// A path parameter; an unreadable one is a 400 saying why.
pub(crate) struct Param<T>(pub T);

impl<T: DeserializeOwned + Send, St: Send + Sync> FromRequestParts<St> for Param<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection| AppError::bad_request("bad_path", rejection.body_text()))
    }
}

/// SHA-256 of an API key or pairing token: what the store keeps instead of the secret.
pub(crate) fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The relying party calling, authenticated by `Authorization: Bearer <API key>`.
pub(crate) struct ServiceAuth(pub Service);

impl<S: Store> FromRequestParts<AppState<S>> for ServiceAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, AppError> {
        let key = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                AppError::unauthorized(
                    "missing_api_key",
                    "this route needs the service's API key: Authorization: Bearer <key>",
                )
            })?;
        let state = state.get();
        let service =
            state.store.service_by_key(&secret_hash(key.trim())).await?.ok_or_else(|| {
                AppError::unauthorized("unknown_api_key", "the API key is not known")
            })?;
        if service.revoked {
            return Err(AppError::unauthorized("revoked_api_key", "the API key was revoked"));
        }
        if service.expires_at.is_some_and(|at| state.clock.now() >= at) {
            return Err(AppError::unauthorized("expired_api_key", "the API key has expired"));
        }
        Ok(Self(service))
    }
}

/// Checks a user name from a service: 1 to 256 characters, no control, bidirectional or invisible characters.
pub(crate) fn check_user(user: &str) -> Result<(), AppError> {
    if user.is_empty() || user.chars().count() > 256 || twofold_protocol::text::has_deceptive(user)
    {
        return Err(AppError::bad_request(
            "invalid_user",
            "the user must be 1 to 256 characters without control, bidirectional or invisible characters",
        ));
    }
    Ok(())
}

/// Compares two codes in time independent of where they differ.
pub(crate) fn same_code(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_compare_by_value() {
        assert!(same_code("123456", "123456"));
        assert!(!same_code("123456", "123457"));
        assert!(!same_code("12345", "123456"));
    }
}
