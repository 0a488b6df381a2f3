//! The relying party's sign-in routes: create a request, wait for its outcome, verify a code.

use std::net::IpAddr;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use twofold_protocol::api::{
    AuditEvent, CodeVerified, CreateSignin, SigninCreated, SigninState, Status, VerifyCode,
};
use twofold_protocol::{Location, Mode, NUMBER_CHOICES, Signed, SigninRequest};
use uuid::Uuid;

use crate::app::{AppState, Body, Inner, Param, ServiceAuth, check_user, same_code};
use crate::clock::{Entropy, EntropyError, below, random_uuid};
use crate::error::AppError;
use crate::hub::{HubEvent, HubKind};
use crate::policy::{self, Admission, MAX_CODE_ATTEMPTS, Refusal, SigninQuota};
use crate::store::{Activity, NewAuditEntry, Service, Signin, Store, StoreError};

/// Longest user agent kept, in characters; longer ones are cut.
const MAX_USER_AGENT_CHARS: usize = 512;
/// Longest context, in characters.
const MAX_CONTEXT_CHARS: usize = 200;

/// The smallest number shown in number mode; numbers have two digits, 10 to 99.
const FIRST_NUMBER: u32 = 10;
/// How many numbers there are to draw from.
const NUMBERS: u32 = 90;

/// Number mode's draw: the number the sign-in page shows and the choices the device offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NumberDraw {
    /// The number on the sign-in page, the only right pick.
    pub(crate) number: u32,
    /// [`NUMBER_CHOICES`] distinct numbers: `number` at a random place among decoys drawn
    /// uniformly from the same two-digit range, so neither the place nor the value gives it away.
    pub(crate) choices: Vec<u32>,
}

/// Draws number mode's number and its choices.
pub(crate) fn draw_number(entropy: &dyn Entropy) -> Result<NumberDraw, EntropyError> {
    let number = FIRST_NUMBER + below(entropy, NUMBERS)?;
    let mut choices = Vec::with_capacity(NUMBER_CHOICES);
    while choices.len() < NUMBER_CHOICES - 1 {
        let decoy = FIRST_NUMBER + below(entropy, NUMBERS)?;
        if decoy != number && !choices.contains(&decoy) {
            choices.push(decoy);
        }
    }
    // NUMBER_CHOICES is a small constant: the place fits a u32 and the vector.
    let place = below(entropy, NUMBER_CHOICES as u32)? as usize;
    choices.insert(place, number);
    Ok(NumberDraw { number, choices })
}

/// The answer to a sign-in the policy refuses.
fn refused(refusal: Refusal) -> AppError {
    let too_many = |message: &str| {
        AppError::client(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message.to_owned())
    };
    match refusal {
        Refusal::UserRateLimited => {
            too_many("too many sign-ins for this user lately: try again in a few minutes")
        }
        Refusal::AddressRateLimited => {
            too_many("too many sign-ins from this address lately: try again in a few minutes")
        }
        Refusal::Pending => AppError::conflict(
            "signin_pending",
            "a sign-in from this address is already waiting for this user's answer: wait for \
             it to finish or expire",
        ),
    }
}

/// What the policy weighs about a sign-in of `user` from `ip` placed in `country`, at `now`.
async fn recent_activity<S: Store>(
    state: &Inner<S>,
    service_id: Uuid,
    user: &str,
    ip: IpAddr,
    country: Option<&str>,
    now: u64,
) -> Result<Activity, StoreError> {
    let limits = &state.settings.limits;
    let since = SigninQuota::at(limits, now).since;
    let denials_since = policy::lockout_since(limits, now);
    let ip_limit = limits.signins_per_ip;
    state.store.activity(service_id, user, ip, country, now, since, denials_since, ip_limit).await
}

/// `POST /v1/signins`: asks every device of the user to confirm.
pub(crate) async fn create<S: Store>(
    State(state): State<AppState<S>>,
    ServiceAuth(service): ServiceAuth,
    Body(body): Body<CreateSignin>,
) -> Result<(StatusCode, Json<SigninCreated>), AppError> {
    Ok((StatusCode::CREATED, Json(start(&state, &service, body).await?)))
}

/// Asks every device of the user to confirm a sign-in to `service` (the relying-party API and
/// the portal both start sign-ins here).
pub(crate) async fn start<S: Store>(
    state: &AppState<S>,
    service: &Service,
    body: CreateSignin,
) -> Result<SigninCreated, AppError> {
    check_user(&body.user)?;
    if let Some(context) = &body.context
        && (context.chars().count() > MAX_CONTEXT_CHARS
            || twofold_protocol::text::has_deceptive(context))
    {
        return Err(AppError::bad_request(
            "invalid_context",
            "the context must be at most 200 characters without control, bidirectional or invisible characters",
        ));
    }
    let user_agent: String =
        body.user_agent.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT_CHARS).collect();
    let state = state.get();
    let now = state.clock.now();
    let limits = &state.settings.limits;
    let location = state.enricher.location(body.ip);
    let country = match &location {
        Location::Place { country_code, .. } => country_code.clone(),
        Location::Unknown | Location::PrivateNetwork => None,
    };
    let quota = SigninQuota::at(limits, now);
    // The user's devices are counted with the rest: one statement fewer on PostgreSQL.
    let activity =
        recent_activity(state, service.id, &body.user, body.ip, country.as_deref(), now).await?;
    if activity.devices == 0 {
        return Err(AppError::conflict(
            "no_devices",
            "this user has no paired device: pair one before asking for sign-in approval",
        ));
    }
    // The store checks the counted limits again, atomically, when the request is stored: this
    // early answer saves the work.
    let Admission { locked, mode } =
        policy::admit(&activity, limits, body.mode, country.is_some()).map_err(refused)?;
    let entropy = state.entropy.as_ref();
    let draw = match mode {
        Mode::Number if !locked => Some(draw_number(entropy)?),
        _ => None,
    };
    let number = draw.as_ref().map(|d| d.number);
    let code = match mode {
        Mode::Code if !locked => Some(format!("{:06}", below(entropy, 1_000_000)?)),
        _ => None,
    };
    let request = SigninRequest {
        id: random_uuid(entropy)?,
        server: state.fingerprint,
        service: service.name.clone(),
        user: body.user.clone(),
        created_at: now,
        expires_at: now + state.settings.request_lifetime,
        ip: body.ip,
        location,
        device_description: state.enricher.describe(&user_agent),
        user_agent,
        mode,
        context: body.context,
        choices: draw.map(|d| d.choices).unwrap_or_default(),
    };
    let digest = request.digest();
    let (id, expires_at) = (request.id, request.expires_at);
    let signed = Signed::sign(request, &state.key);
    let request_json = serde_json::to_string(&signed)
        .map_err(|_| AppError::bad_request("unencodable", "the request could not be encoded"))?;
    let signin = Signin {
        id,
        service_id: service.id,
        user: body.user,
        ip: body.ip,
        country,
        request_json,
        digest: *digest.as_bytes(),
        mode,
        number,
        code,
        created_at: now,
        expires_at,
        stored_status: if locked { Status::Locked } else { Status::Pending },
        decided_at: locked.then_some(now),
        verified: false,
        code_attempts: 0,
    };
    let audit = NewAuditEntry {
        service_id: service.id,
        at: now,
        user: signin.user.clone(),
        event: if locked { AuditEvent::SigninLocked } else { AuditEvent::SigninCreated },
        signin_id: Some(id),
        device_id: None,
        ip: Some(signin.ip),
    };
    if !state.store.add_signin(&signin, &audit, &quota).await? {
        // A parallel sign-in took the last place: say which limit, as the early check would.
        let (user, ip, country) = (&signin.user, signin.ip, signin.country.as_deref());
        let activity = recent_activity(state, service.id, user, ip, country, now).await?;
        let refusal = policy::refusal(&activity, limits, locked);
        return Err(refused(refusal.unwrap_or(Refusal::UserRateLimited)));
    }
    if !locked {
        // The store told the other instances as it stored the request.
        state.hub.send(HubEvent {
            service_id: service.id,
            user: signin.user.as_str().into(),
            kind: HubKind::Request { id, json: signin.request_json.as_str().into() },
        });
    }
    Ok(SigninCreated { id, status: signin.stored_status, expires_at, number })
}

/// The sign-in `id` if it is the service's: another service's looks like none at all.
async fn own_signin<S: Store>(
    state: &AppState<S>,
    service: &Service,
    id: Uuid,
) -> Result<Signin, AppError> {
    state
        .get()
        .store
        .signin(id)
        .await?
        .filter(|s| s.service_id == service.id)
        .ok_or_else(|| AppError::not_found("unknown_signin", "no such sign-in"))
}

/// Query of `GET /v1/signins/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WaitQuery {
    /// Seconds to hold the answer while the sign-in is pending.
    wait: Option<u64>,
}

/// `GET /v1/signins/{id}?wait=SECONDS`: the status, held up to `wait` seconds while pending.
pub(crate) async fn state<S: Store>(
    State(state): State<AppState<S>>,
    ServiceAuth(service): ServiceAuth,
    Param(id): Param<Uuid>,
    query: Result<Query<WaitQuery>, QueryRejection>,
) -> Result<Json<SigninState>, AppError> {
    let Query(query) = query.map_err(|e| AppError::bad_request("bad_query", e.body_text()))?;
    let inner = state.get();
    let signin = own_signin(&state, &service, id).await?;
    let wait = query.wait.unwrap_or(0).min(inner.settings.max_wait);
    let signin = settled(&state, signin, wait).await?;
    Ok(Json(SigninState {
        id,
        status: signin.status(inner.clock.now()),
        expires_at: signin.expires_at,
        decided_at: signin.decided_at,
        verified: signin.verified,
    }))
}

/// `signin` once it is no longer pending, or after `wait` seconds, whichever comes first.
pub(crate) async fn settled<S: Store>(
    state: &AppState<S>,
    mut signin: Signin,
    wait: u64,
) -> Result<Signin, AppError> {
    let inner = state.get();
    let id = signin.id;
    let reread = || async {
        let gone = crate::store::StoreError::Corrupt { what: "sign-in that was there" };
        inner.store.signin(id).await?.ok_or(AppError::Store(gone))
    };
    if wait > 0 && signin.status(inner.clock.now()) == Status::Pending {
        // Subscribed, then read again: a decision landing between the two reads is seen.
        let mut events = inner.hub.subscribe(signin.service_id, &signin.user);
        signin = reread().await?;
        let now = inner.clock.now();
        if signin.status(now) == Status::Pending {
            let wait = wait.min(signin.expires_at.saturating_sub(now));
            let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
            loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Ok(Ok(HubEvent {
                        kind: HubKind::Decided { id: ended, .. } | HubKind::Expired { id: ended },
                        ..
                    })) if ended == id => break,
                    Ok(Ok(_)) => {}
                    // Timed out, or missed events: the database has the answer either way.
                    Err(_) | Ok(Err(RecvError::Lagged(_) | RecvError::Closed)) => break,
                }
            }
            signin = reread().await?;
        }
    }
    Ok(signin)
}

/// `POST /v1/signins/{id}/verify`: checks the code the person typed (code mode, once allowed).
pub(crate) async fn verify<S: Store>(
    State(state): State<AppState<S>>,
    ServiceAuth(service): ServiceAuth,
    Param(id): Param<Uuid>,
    Body(body): Body<VerifyCode>,
) -> Result<Json<CodeVerified>, AppError> {
    let signin = own_signin(&state, &service, id).await?;
    Ok(Json(check_code(&state, &signin, &body.code).await?))
}

/// Checks a code typed for `signin` (code mode, once allowed), counting the attempt.
pub(crate) async fn check_code<S: Store>(
    state: &AppState<S>,
    signin: &Signin,
    typed: &str,
) -> Result<CodeVerified, AppError> {
    let id = signin.id;
    let inner = state.get();
    let Some(code) = &signin.code else {
        return Err(AppError::bad_request("not_code_mode", "this sign-in is not in code mode"));
    };
    let status = signin.status(inner.clock.now());
    if status != Status::Allowed {
        return Err(AppError::conflict(
            "not_allowed",
            format!("the sign-in has not been allowed on a device (it is {})", status.as_str()),
        ));
    }
    let decided_at = signin.decided_at.unwrap_or(signin.created_at);
    if inner.clock.now() >= decided_at + inner.settings.request_lifetime {
        return Err(AppError::gone("code_expired", "the code has expired: start a new sign-in"));
    }
    if signin.verified {
        return Err(AppError::conflict("already_verified", "the code was already verified"));
    }
    let too_many = || {
        AppError::client(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many wrong codes for this sign-in: start a new sign-in",
        )
    };
    if signin.code_attempts >= MAX_CODE_ATTEMPTS {
        return Err(too_many());
    }
    let typed = typed.trim();
    let correct = same_code(typed, code);
    let audit = NewAuditEntry {
        service_id: signin.service_id,
        at: inner.clock.now(),
        user: signin.user.clone(),
        event: if correct { AuditEvent::CodeVerified } else { AuditEvent::CodeRejected },
        signin_id: Some(id),
        device_id: None,
        ip: Some(signin.ip),
    };
    if !inner.store.record_code_attempt(id, correct, MAX_CODE_ATTEMPTS, &audit).await? {
        return Err(too_many());
    }
    Ok(CodeVerified {
        verified: correct,
        attempts_left: MAX_CODE_ATTEMPTS.saturating_sub(signin.code_attempts + 1),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::clock::OsEntropy;

    #[test]
    fn the_number_is_among_distinct_two_digit_choices_at_any_place() {
        let mut places = [0u32; NUMBER_CHOICES];
        for _ in 0..600 {
            let NumberDraw { number, choices } = draw_number(&OsEntropy).unwrap();
            assert_eq!(choices.len(), NUMBER_CHOICES);
            assert!(choices.iter().all(|c| (10..=99).contains(c)), "{choices:?}");
            let mut sorted = choices.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), NUMBER_CHOICES, "repeated: {choices:?}");
            let place = choices.iter().position(|&c| c == number).unwrap();
            places[place] += 1;
        }
        // 200 expected at each place; fewer than 100 is about 12 standard deviations off.
        assert!(places.iter().all(|&n| n > 100), "the right number's places: {places:?}");
    }
}
