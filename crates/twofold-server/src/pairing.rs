//! Pairing (links, QR codes, completion) and the devices it creates (list, revoke).

use std::io::Cursor;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use qrcode::QrCode;
use twofold_protocol::api::{
    AuditEvent, CompletePairing, CreatePairing, DeviceInfo, DeviceList, PairingCompleted,
    PairingCreated, SecretText,
};
use twofold_protocol::offline::SEED_LEN;
use twofold_protocol::{Fingerprint, PairingLink, Signed};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::app::{AppState, Body, Param, ServiceAuth, check_user, secret_hash};
use crate::clock::{Entropy, random, random_uuid};
use crate::error::AppError;
use crate::hub::{HubEvent, HubKind};
use crate::store::{
    NewAuditEntry, NewDevice, OfflineSeed, Pairing, PairingClaim, Service, Store, StoreError,
};

/// Longest device name, in characters.
const MAX_DEVICE_NAME_CHARS: usize = 64;

/// `POST /v1/pairings`: a single-use pairing link for one of the service's users.
pub(crate) async fn create<S: Store>(
    State(state): State<AppState<S>>,
    ServiceAuth(service): ServiceAuth,
    Body(body): Body<CreatePairing>,
) -> Result<(StatusCode, Json<PairingCreated>), AppError> {
    Ok((StatusCode::CREATED, Json(issue(&state, &service, &body.user).await?)))
}

/// A single-use pairing link for `user` of `service` (the API and the portal's enrolment).
pub(crate) async fn issue<S: Store>(
    state: &AppState<S>,
    service: &Service,
    user: &str,
) -> Result<PairingCreated, AppError> {
    let state = state.get();
    let base = &state.settings.public_url;
    let created = new_link(
        &state.store,
        service,
        user,
        base,
        state.fingerprint,
        state.settings.pairing_lifetime,
        state.clock.now(),
        state.entropy.as_ref(),
    )
    .await?;
    let qr = |format: &str| format!("{base}v1/pairings/{}/qr.{format}", created.token.as_str());
    Ok(PairingCreated {
        link: created.link.to_string(),
        expires_at: created.expires_at,
        qr_png: qr("png"),
        qr_svg: qr("svg"),
    })
}

/// A pairing link just made.
pub(crate) struct NewLink {
    /// The link, holding the token: show it to the user only.
    pub link: PairingLink,
    /// The token alone (the QR routes name it).
    pub token: Zeroizing<String>,
    /// When it stops working, Unix seconds.
    pub expires_at: u64,
}

/// Makes a single-use pairing link for `user` of `service`, valid `lifetime` seconds: only the
/// token's hash is stored, with its audit entry. The API route and `twofold-server pairing` share it.
#[allow(clippy::too_many_arguments, reason = "the server's parts, passed apart for the CLI")]
pub(crate) async fn new_link<S: Store>(
    store: &S,
    service: &Service,
    user: &str,
    public_url: &url::Url,
    fingerprint: Fingerprint,
    lifetime: u64,
    now: u64,
    entropy: &dyn Entropy,
) -> Result<NewLink, AppError> {
    check_user(user)?;
    let token = Zeroizing::new(BASE64URL_NOPAD.encode(&random::<32>(entropy)?));
    let pairing = Pairing {
        token_hash: secret_hash(&token),
        service_id: service.id,
        user: user.to_owned(),
        created_at: now,
        expires_at: now + lifetime,
        used_at: None,
    };
    let audit = NewAuditEntry {
        service_id: service.id,
        at: now,
        user: pairing.user.clone(),
        event: AuditEvent::PairingCreated,
        signin_id: None,
        device_id: None,
        ip: None,
    };
    store.add_pairing(&pairing, &audit).await?;
    let link = PairingLink::new(public_url.as_str(), &token, fingerprint, Some(&service.name))
        .map_err(|e| AppError::bad_request("unusable_service_name", e.to_string()))?;
    Ok(NewLink { link, token, expires_at: pairing.expires_at })
}

/// The link of a token that can still pair. Anyone holding the token could pair with it anyway,
/// so showing its QR code to the token's holder needs no other credential.
async fn usable_link<S: Store>(state: &AppState<S>, token: &str) -> Result<String, AppError> {
    let state = state.get();
    let pairing = state
        .store
        .pairing(&secret_hash(token))
        .await?
        .ok_or_else(|| AppError::not_found("unknown_pairing", "no such pairing link"))?;
    if pairing.used_at.is_some() {
        return Err(AppError::gone("pairing_used", "this pairing link was already used"));
    }
    if state.clock.now() >= pairing.expires_at {
        return Err(AppError::gone("pairing_expired", "this pairing link has expired"));
    }
    let service = state.store.service(pairing.service_id).await?;
    let link = PairingLink::new(
        state.settings.public_url.as_str(),
        token,
        state.fingerprint,
        service.as_ref().map(|s| s.name.as_str()),
    )
    .map_err(|e| AppError::bad_request("bad_pairing_token", e.to_string()))?;
    Ok(link.to_string())
}

pub(crate) fn qr_code(link: &str) -> Result<QrCode, AppError> {
    // A link is a few hundred bytes: always within QR capacity; refuse rather than panic anyway.
    QrCode::new(link.as_bytes()).map_err(|_| {
        AppError::bad_request("link_too_long", "the pairing link is too long for a QR code")
    })
}

/// `GET /v1/pairings/{token}/qr.png`.
pub(crate) async fn qr_png<S: Store>(
    State(state): State<AppState<S>>,
    Param(token): Param<String>,
) -> Result<impl IntoResponse, AppError> {
    let code = qr_code(&usable_link(&state, &token).await?)?;
    let image = code.render::<image::Luma<u8>>().min_dimensions(256, 256).build();
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|_| AppError::bad_request("qr_failed", "the QR code could not be drawn"))?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "no-store")], png))
}

/// `GET /v1/pairings/{token}/qr.svg`.
pub(crate) async fn qr_svg<S: Store>(
    State(state): State<AppState<S>>,
    Param(token): Param<String>,
) -> Result<impl IntoResponse, AppError> {
    let code = qr_code(&usable_link(&state, &token).await?)?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(256, 256).build();
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "no-store")], svg))
}

/// `POST /v1/pairings/complete`: a device registers its key with a token.
pub(crate) async fn complete<S: Store>(
    State(state): State<AppState<S>>,
    Body(body): Body<CompletePairing>,
) -> Result<(StatusCode, Json<PairingCompleted>), AppError> {
    let state = state.get();
    let completion = &body.message;
    if completion.server != state.fingerprint {
        return Err(AppError::bad_request(
            "wrong_server",
            "the pairing was made for another server (its fingerprint does not match this server's key)",
        ));
    }
    let name = completion.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_DEVICE_NAME_CHARS
        || twofold_protocol::text::has_deceptive(name)
    {
        return Err(AppError::bad_request(
            "invalid_device_name",
            "the device name must be 1 to 64 characters without control, bidirectional or invisible characters",
        ));
    }
    Signed::verify(&body, &completion.device)
        .map_err(|e| AppError::unauthorized("bad_signature", e.to_string()))?;
    let now = state.clock.now();
    let id = random_uuid(state.entropy.as_ref())?;
    let offline_seed = OfflineSeed(Zeroizing::new(random::<SEED_LEN>(state.entropy.as_ref())?));
    let device = NewDevice {
        id,
        public_key: completion.device,
        name: name.to_owned(),
        sealed_offline_seed: state.sealer.seal(id, &offline_seed, state.entropy.as_ref())?,
    };
    let pairing =
        match state.store.complete_pairing(&secret_hash(&completion.token), &device, now).await {
            Ok(PairingClaim::Paired(pairing)) => pairing,
            Ok(PairingClaim::Unknown) => {
                return Err(AppError::not_found("unknown_pairing", "no such pairing token"));
            }
            Ok(PairingClaim::Used) => {
                return Err(AppError::gone("pairing_used", "this pairing link was already used"));
            }
            Ok(PairingClaim::Expired) => {
                return Err(AppError::gone("pairing_expired", "this pairing link has expired"));
            }
            Err(StoreError::Conflict { .. }) => {
                return Err(AppError::conflict(
                    "key_already_paired",
                    "this device key is already paired",
                ));
            }
            Err(e) => return Err(e.into()),
        };
    let service = state
        .store
        .service(pairing.service_id)
        .await?
        .ok_or(StoreError::Corrupt { what: "service of a pairing" })?;
    let completed = PairingCompleted {
        device_id: device.id,
        user: pairing.user,
        service: service.name,
        server_key: state.key.public(),
        offline_seed: SecretText::new(BASE32_NOPAD.encode(offline_seed.0.as_slice())),
    };
    Ok((StatusCode::CREATED, Json(completed)))
}

/// `GET /v1/users/{user}/devices`.
pub(crate) async fn devices<S: Store>(
    State(state): State<AppState<S>>,
    ServiceAuth(service): ServiceAuth,
    Param(user): Param<String>,
) -> Result<Json<DeviceList>, AppError> {
    check_user(&user)?;
    let devices = state.get().store.devices(service.id, &user).await?;
    let devices = devices
        .into_iter()
        .map(|d| DeviceInfo {
            id: d.id,
            name: d.name,
            fingerprint: d.public_key.fingerprint(),
            paired_at: d.paired_at,
        })
        .collect();
    Ok(Json(DeviceList { devices }))
}

/// `DELETE /v1/devices/{id}`: the device gets no more requests; its stream ends.
pub(crate) async fn revoke_device<S: Store>(
    State(state): State<AppState<S>>,
    ServiceAuth(service): ServiceAuth,
    Param(id): Param<Uuid>,
) -> Result<StatusCode, AppError> {
    revoke(&state, service.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes device `id` of service `service_id`, audits it and ends its stream.
pub(crate) async fn revoke<S: Store>(
    state: &AppState<S>,
    service_id: Uuid,
    id: Uuid,
) -> Result<(), AppError> {
    let state = state.get();
    let device =
        state.store.revoke_device(service_id, id, state.clock.now()).await?.ok_or_else(|| {
            AppError::not_found("unknown_device", "no such device (or already revoked)")
        })?;
    state
        .announce(HubEvent {
            service_id: device.service_id,
            user: device.user.into(),
            kind: HubKind::Revoked { device: device.id },
        })
        .await;
    Ok(())
}
