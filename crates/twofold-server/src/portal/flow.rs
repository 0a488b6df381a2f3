//! A sign-in in a browser, from the user name to a session: the request to the user's devices,
//! number matching or a code, the outcome; and the recovery-code path.
//!
//! The answer does not depend on whether the user exists: an unknown user (or one without a
//! device) gets the same waiting page, a number when the site uses number matching, and after
//! the request's lifetime the same "no answer" as a user who did not answer, and the server does
//! the same work (the abuse check, a signed request, a stored attempt) both ways.

use twofold_protocol::api::{AuditEvent, CreateSignin, Status};
use twofold_protocol::{Location, Mode, Signed, SigninRequest};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::Portal;
use super::secrets::{new_token, recovery_code_hash};
use super::sessions::{NewSession, Started};
use super::sites::Site;
use super::web::Browser;
use crate::app::secret_hash;
use crate::clock::random_uuid;
use crate::error::AppError;
use crate::signins;
use crate::store::portal::{Attempt, PortalStore};

/// Wrong recovery codes per user name within the window before all are refused.
pub(super) const MAX_WRONG_RECOVERY_CODES: u32 = 5;
/// The least time a sign-in's start takes, whether the user exists or not: above what a real
/// request costs (a few milliseconds), unnoticeable to a person.
const SIGNIN_FLOOR: std::time::Duration = std::time::Duration::from_millis(50);
/// Seconds after a request's expiry that a code may still be typed.
const CODE_GRACE_SECS: u64 = 120;

/// A sign-in just started: the attempt id for the browser's cookie.
pub(super) struct Begun {
    /// The attempt id (exists nowhere else).
    pub attempt_id: Zeroizing<String>,
    /// Seconds the attempt lasts.
    pub lifetime: u64,
}

/// Where a sign-in in progress stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Progress {
    /// Waiting for the device; the number to match, if any.
    Waiting {
        /// Number matching: the number the device asks for.
        number: Option<u32>,
    },
    /// Allowed in code mode: the code the device shows must be typed here.
    NeedsCode {
        /// Whether a wrong code was just typed.
        wrong: bool,
    },
    /// Allowed: a session can start.
    Allowed,
    /// Over without a session: refused, reported, locked, expired, or unknown.
    Over {
        /// Why, for the person.
        reason: &'static str,
    },
}

impl<S: PortalStore> Portal<S> {
    /// Sends a sign-in request for `user` to the user's devices (or, for an unknown user or one
    /// without a device, does the same work and sends none) and records the attempt.
    pub(super) async fn begin(
        &self,
        user: &str,
        site: &Site,
        browser: &Browser,
        trust: bool,
        return_url: &str,
    ) -> Result<Begun, AppError> {
        // Known and unknown users answered alike in time too: a real request writes to the
        // database where the decoy does not, so both wait until the same floor.
        let floor = tokio::time::Instant::now() + SIGNIN_FLOOR;
        let begun = self.begin_now(user, site, browser, trust, return_url).await;
        tokio::time::sleep_until(floor).await;
        begun
    }

    /// [`Self::begin`] without the time floor.
    async fn begin_now(
        &self,
        user: &str,
        site: &Site,
        browser: &Browser,
        trust: bool,
        return_url: &str,
    ) -> Result<Begun, AppError> {
        let app = self.app().get();
        let known = match app.store.portal_user(user).await? {
            Some(_) => !app.store.devices(self.service().id, user).await?.is_empty(),
            None => false,
        };
        let started = if known {
            let named = match self.inner.namer.get() {
                Some(namer) => namer(return_url.to_owned()).await,
                None => None,
            };
            let body = CreateSignin {
                user: user.to_owned(),
                ip: browser.ip,
                user_agent: browser.user_agent.clone(),
                mode: site.mode,
                context: Some(named.unwrap_or_else(|| format!("Sign in to {}", site.domain))),
            };
            match signins::start(self.app(), self.service(), body).await {
                Ok(created) => Some((created.id, created.number)),
                // A request already waiting, or too many lately: only a known user can meet
                // these, so the browser sees what an unknown user's would (and no request).
                Err(AppError::Client { code: "signin_pending" | "rate_limited", .. }) => None,
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let (signin_id, number) = match started {
            Some((id, number)) => (Some(id), number),
            None => (None, self.decoy_request(user, site, browser).await?),
        };
        let now = app.clock.now();
        let (attempt_id, id_hash) = new_token(app.entropy.as_ref())?;
        let lifetime = app.settings.request_lifetime + CODE_GRACE_SECS;
        let attempt = Attempt {
            id_hash,
            user: user.to_owned(),
            domain: site.domain.to_ascii_lowercase(),
            return_url: return_url.to_owned(),
            trust,
            signin_id,
            number,
            created_at: now,
            expires_at: now + lifetime,
        };
        app.store.add_attempt(&attempt).await?;
        Ok(Begun { attempt_id, lifetime })
    }

    /// The work a real request costs (the abuse rules' query, a signed request), for a user who
    /// gets none; the number to show, drawn as for a real one.
    async fn decoy_request(
        &self,
        user: &str,
        site: &Site,
        browser: &Browser,
    ) -> Result<Option<u32>, AppError> {
        let app = self.app().get();
        let now = app.clock.now();
        let limits = &app.settings.limits;
        app.store
            .activity(
                self.service().id,
                user,
                browser.ip,
                None,
                now,
                now.saturating_sub(limits.window_secs),
                now.saturating_sub(limits.lockout_secs),
                limits.signins_per_ip,
            )
            .await?;
        let entropy = app.entropy.as_ref();
        let draw = match site.mode {
            Mode::Number => Some(signins::draw_number(entropy)?),
            Mode::Push | Mode::Code => None,
        };
        let request = SigninRequest {
            id: random_uuid(entropy)?,
            server: app.fingerprint,
            service: self.service().name.clone(),
            user: user.to_owned(),
            created_at: now,
            expires_at: now + app.settings.request_lifetime,
            ip: browser.ip,
            location: Location::Unknown,
            device_description: app.enricher.describe(&browser.user_agent),
            user_agent: browser.user_agent.clone(),
            mode: site.mode,
            context: None,
            choices: draw.as_ref().map(|d| d.choices.clone()).unwrap_or_default(),
        };
        let _ = serde_json::to_string(&Signed::sign(request, &app.key));
        Ok(draw.map(|d| d.number))
    }

    /// The attempt of cookie value `id`, if it is for `host`.
    pub(super) async fn attempt(&self, id: &str, host: &str) -> Result<Option<Attempt>, AppError> {
        let attempt = self.app().get().store.attempt(&secret_hash(id)).await?;
        Ok(attempt.filter(|a| a.domain.eq_ignore_ascii_case(host)))
    }

    /// Where `attempt` stands, waiting up to `wait` seconds while the device has not answered;
    /// in code mode, `code` is checked once the request is allowed.
    pub(super) async fn progress(
        &self,
        attempt: &Attempt,
        wait: u64,
        code: Option<&str>,
    ) -> Result<Progress, AppError> {
        let app = self.app().get();
        let now = app.clock.now();
        if now >= attempt.expires_at {
            return Ok(Progress::Over { reason: "No answer in time: the sign-in expired." });
        }
        let Some(id) = attempt.signin_id else {
            if wait > 0 {
                let left = attempt.created_at + app.settings.request_lifetime;
                let wait = wait.min(left.saturating_sub(now));
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            }
            return Ok(if app.clock.now() >= attempt.created_at + app.settings.request_lifetime {
                Progress::Over { reason: "No answer in time: the sign-in expired." }
            } else {
                Progress::Waiting { number: attempt.number }
            });
        };
        let signin = app
            .store
            .signin(id)
            .await?
            .ok_or_else(|| AppError::not_found("unknown_signin", "no such sign-in"))?;
        let signin = signins::settled(self.app(), signin, wait).await?;
        match signin.status(app.clock.now()) {
            Status::Pending => Ok(Progress::Waiting { number: attempt.number }),
            Status::Allowed if signin.mode == Mode::Code && !signin.verified => {
                let Some(code) = code else { return Ok(Progress::NeedsCode { wrong: false }) };
                match signins::check_code(self.app(), &signin, code).await {
                    Ok(checked) if checked.verified => Ok(Progress::Allowed),
                    Ok(_) => Ok(Progress::NeedsCode { wrong: true }),
                    Err(AppError::Client { .. }) => Ok(Progress::Over {
                        reason: "The code can no longer be used: start again.",
                    }),
                    Err(e) => Err(e),
                }
            }
            Status::Allowed => Ok(Progress::Allowed),
            Status::Denied => {
                Ok(Progress::Over { reason: "The sign-in was refused on your device." })
            }
            Status::Reported => {
                Ok(Progress::Over { reason: "The sign-in was reported and refused." })
            }
            Status::Locked => Ok(Progress::Over {
                reason: "Sign-ins are locked for a while after refused or reported ones.",
            }),
            Status::Expired => {
                Ok(Progress::Over { reason: "No answer in time: the sign-in expired." })
            }
        }
    }

    /// Starts the session of an allowed attempt (once).
    pub(super) async fn finish(
        &self,
        attempt: &Attempt,
        site: &Site,
        browser: &Browser,
    ) -> Result<Option<Started>, AppError> {
        let new = NewSession {
            user: &attempt.user,
            site,
            trusted: attempt.trust,
            ip: browser.ip,
            user_agent: &browser.user_agent,
            signin_id: attempt.signin_id,
        };
        self.start_session(Some(&attempt.id_hash), &new).await
    }

    /// Signs in with a recovery code: a session, or `None` for a wrong code, an unknown user or
    /// too many wrong codes lately (all alike to the browser).
    pub(super) async fn recover(
        &self,
        user: &str,
        code: &str,
        site: &Site,
        browser: &Browser,
        trust: bool,
    ) -> Result<Option<Started>, AppError> {
        let app = self.app().get();
        let Some(guess) = self
            .guess_turn(user, AuditEvent::RecoveryCodeRejected, MAX_WRONG_RECOVERY_CODES)
            .await?
        else {
            return Ok(None);
        };
        let used = self.audit(user, AuditEvent::RecoveryCodeUsed, None, Some(browser.ip));
        let hash = recovery_code_hash(code);
        if app.store.use_recovery_code(user, &hash, &used).await? {
            self.right_guess(guess).await?;
            let new = NewSession {
                user,
                site,
                trusted: trust,
                ip: browser.ip,
                user_agent: &browser.user_agent,
                signin_id: None,
            };
            return self.start_session(None, &new).await;
        }
        let rejected = self.audit(user, AuditEvent::RecoveryCodeRejected, None, Some(browser.ip));
        app.store.append_audit(&rejected).await?;
        Ok(None)
    }

    /// Removes `user`'s device `id` (as the app's Remove does): false if it is not theirs.
    pub(super) async fn remove_device(&self, user: &str, id: Uuid) -> Result<bool, AppError> {
        let devices = self.app().get().store.devices(self.service().id, user).await?;
        if !devices.iter().any(|d| d.id == id) {
            return Ok(false);
        }
        crate::pairing::revoke(self.app(), self.service().id, id).await?;
        Ok(true)
    }
}
