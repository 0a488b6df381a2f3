//! Browser sessions: started once per approval (a fresh random id each time, so an id planted
//! in the browser beforehand is worthless), checked on every proxied request, ended by signing
//! out (from the browser, or from the account page of another).

use std::net::IpAddr;

use twofold_protocol::api::AuditEvent;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::Portal;
use super::secrets::new_token;
use super::sites::{Lifetime, Site};
use crate::app::secret_hash;
use crate::clock::random_uuid;
use crate::error::AppError;
use crate::store::NewAuditEntry;
use crate::store::portal::{PortalStore, Session, SignedIn};

/// A session's last use is written at most this often, in seconds: the idle limit is coarse by
/// as much, and most checks need no write.
pub(super) const TOUCH_EVERY: u64 = 60;

/// What starting a session needs besides the store.
pub(super) struct NewSession<'a> {
    /// The user.
    pub user: &'a str,
    /// The site it is for.
    pub site: &'a Site,
    /// "Trust this browser".
    pub trusted: bool,
    /// The browser's address and user agent.
    pub ip: IpAddr,
    /// The browser's user agent.
    pub user_agent: &'a str,
    /// The approved request it comes from, if any (none for a recovery code).
    pub signin_id: Option<Uuid>,
}

/// A session just started: the id for the cookie (exists nowhere else) and its lifetime.
pub(super) struct Started {
    /// The session id.
    pub id: Zeroizing<String>,
    /// How long it lasts.
    pub lifetime: Lifetime,
}

impl<S: PortalStore> Portal<S> {
    /// Starts a session, using the attempt `attempt_hash` if given (once: false when it was
    /// used); audited as [`AuditEvent::SessionStarted`].
    pub(super) async fn start_session(
        &self,
        attempt_hash: Option<&[u8; 32]>,
        new: &NewSession<'_>,
    ) -> Result<Option<Started>, AppError> {
        let app = self.app().get();
        let now = app.clock.now();
        let (id, id_hash) = new_token(app.entropy.as_ref())?;
        let lifetime = new.site.lifetime(new.trusted);
        let session = Session {
            id_hash,
            handle: random_uuid(app.entropy.as_ref())?,
            user: new.user.to_owned(),
            domain: new.site.domain.to_ascii_lowercase(),
            trusted: new.trusted,
            ip: new.ip,
            user_agent: new.user_agent.to_owned(),
            created_at: now,
            last_seen_at: now,
            idle_secs: lifetime.idle_secs,
            expires_at: now.saturating_add(lifetime.absolute_secs),
            ended_at: None,
            by_recovery_code: new.signin_id.is_none(),
        };
        let audit = self.audit(new.user, AuditEvent::SessionStarted, new.signin_id, Some(new.ip));
        let started = app.store.start_session(attempt_hash, &session, &audit).await?;
        Ok(started.then_some(Started { id, lifetime }))
    }

    /// The live session of cookie value `id` if it is valid for `host`, with its user's display
    /// name; records the use.
    pub(crate) async fn live_session(
        &self,
        id: &str,
        host: &str,
    ) -> Result<Option<SignedIn>, AppError> {
        let app = self.app().get();
        let hash = secret_hash(id);
        let Some(signed_in) = app.store.session(&hash).await? else { return Ok(None) };
        let session = &signed_in.session;
        let now = app.clock.now();
        // A cookie lifted from one site is worth nothing on another.
        if !session.is_live(now) || !session.domain.eq_ignore_ascii_case(host) {
            return Ok(None);
        }
        if now >= session.last_seen_at + TOUCH_EVERY {
            app.store.touch_session(&hash, now).await?;
        }
        Ok(Some(signed_in))
    }

    /// Ends `user`'s session `handle`; false if it was not theirs or already ended.
    pub(crate) async fn end_session(
        &self,
        user: &str,
        handle: Uuid,
        ip: IpAddr,
    ) -> Result<bool, AppError> {
        let audit = self.audit(user, AuditEvent::SessionEnded, None, Some(ip));
        Ok(self.app().get().store.end_session(user, handle, &audit).await?)
    }

    /// An audit entry of the portal's service, now.
    pub(crate) fn audit(
        &self,
        user: &str,
        event: AuditEvent,
        signin_id: Option<Uuid>,
        ip: Option<IpAddr>,
    ) -> NewAuditEntry {
        NewAuditEntry {
            service_id: self.service().id,
            at: self.app().get().clock.now(),
            user: user.to_owned(),
            event,
            signin_id,
            device_id: None,
            ip,
        }
    }
}
