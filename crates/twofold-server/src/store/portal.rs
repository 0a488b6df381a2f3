//! What the sign-in portal keeps (issue 21): its users, their recovery codes and app passwords,
//! sign-ins in progress in a browser, and browser sessions. The portal's devices, sign-in
//! requests and audit entries are the [`Store`]'s own, under the portal's service.
//!
//! Secrets are never stored: enrolment tokens, recovery codes, attempt and session ids as
//! SHA-256 hashes (each is 128 bits or more of randomness), app passwords as Argon2id strings.

use std::future::Future;
use std::net::IpAddr;

use uuid::Uuid;

use super::{NewAuditEntry, Store, StoreError};
use twofold_protocol::api::AuditEvent;

/// A user of the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalUser {
    /// The name typed on the sign-in page (the `Remote-User` header).
    pub name: String,
    /// The name shown (the `Remote-Name` header).
    pub display_name: String,
    /// The email address the administrator set (the OpenID Connect `email` claim).
    pub email: Option<String>,
    /// When the administrator added it.
    pub created_at: u64,
    /// Until when its enrolment link works; `None` once enrolled.
    pub enrol_expires_at: Option<u64>,
}

/// A new portal user with its enrolment token's hash.
#[derive(Debug, Clone)]
pub struct NewPortalUser {
    /// The user.
    pub user: PortalUser,
    /// SHA-256 of the enrolment token.
    pub enrol_hash: [u8; 32],
}

/// A sign-in started in a browser: what turns into a session once a device allows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// SHA-256 of the id in the browser's attempt cookie.
    pub id_hash: [u8; 32],
    /// The user name typed (known or not).
    pub user: String,
    /// The protected domain the session will be for.
    pub domain: String,
    /// Where the browser goes once signed in (already checked against the domain).
    pub return_url: String,
    /// Whether "Trust this browser" was ticked.
    pub trust: bool,
    /// The request sent to the user's devices; `None` when none was (unknown user, no device).
    pub signin_id: Option<Uuid>,
    /// The number shown for number matching.
    pub number: Option<u32>,
    /// When it started.
    pub created_at: u64,
    /// When it stops being usable.
    pub expires_at: u64,
}

/// A browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the id in the session cookie.
    pub id_hash: [u8; 32],
    /// Names the session on the account page; not a credential.
    pub handle: Uuid,
    /// The user.
    pub user: String,
    /// The protected domain it is valid for, and no other.
    pub domain: String,
    /// A trusted browser (long lifetime, persistent cookie).
    pub trusted: bool,
    /// The address it signed in from.
    pub ip: IpAddr,
    /// The browser's user agent.
    pub user_agent: String,
    /// When it started.
    pub created_at: u64,
    /// When it was last used (updated at most once a minute).
    pub last_seen_at: u64,
    /// Seconds without use that end it; `None`: only `expires_at` does.
    pub idle_secs: Option<u64>,
    /// When it ends however much it is used.
    pub expires_at: u64,
    /// When it was signed out.
    pub ended_at: Option<u64>,
    /// Whether a recovery code started it (else a device's approval).
    pub by_recovery_code: bool,
}

impl Session {
    /// Whether it still signs its browser in at `now`.
    pub fn is_live(&self, now: u64) -> bool {
        self.ended_at.is_none()
            && now < self.expires_at
            && self.idle_secs.is_none_or(|idle| now < self.last_seen_at.saturating_add(idle))
    }
}

/// A session with its user's display name: what every signed-in request needs, read in one
/// statement (forward auth runs before every request a proxy passes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The session.
    pub session: Session,
    /// Its user's display name (the user name if the user is gone).
    pub display_name: String,
}

/// [`PortalStore::session`]'s statement, in both stores' syntax.
pub(super) const SESSION_BY_ID: &str = "SELECT s.*, COALESCE(u.display_name, s.\"user\") AS user_display_name \
     FROM portal_sessions s LEFT JOIN portal_users u ON u.name = s.\"user\" WHERE s.id_hash = $1";

/// An app-specific password (its Argon2id string stays in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPassword {
    /// Its identity.
    pub id: Uuid,
    /// Its user.
    pub user: String,
    /// The name the user gave it ("Calendar on the phone").
    pub name: String,
    /// Argon2id PHC string of the password.
    pub phc: String,
    /// When it was made.
    pub created_at: u64,
    /// When it last let a request through.
    pub last_used_at: Option<u64>,
}

/// A guess at a user's recovery code or app password, counted against its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    /// Its identity.
    pub id: Uuid,
    /// The user name guessed for (known or not).
    pub user: String,
    /// What a wrong guess of this kind records in the audit log: the limit is per kind.
    pub kind: AuditEvent,
    /// When it was made.
    pub at: u64,
}

/// The portal's storage, beside the [`Store`] it extends.
pub trait PortalStore: Store {
    /// Counts `guess.user`'s wrong guesses of `guess.kind` after `since` and, when there are
    /// fewer than `max`, records this one as wrong until [`PortalStore::forgive_guess`] takes it
    /// back, in one step that guesses on any instance take in turn; false (nothing written) when
    /// the limit is reached.
    fn reserve_guess(
        &self,
        guess: &Guess,
        since: u64,
        max: u32,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Takes back the guess `id`: it was right.
    fn forgive_guess(&self, id: Uuid) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds a user; [`StoreError::Conflict`] if the name is taken.
    fn add_portal_user(
        &self,
        user: &NewPortalUser,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets the user's display name and email address; false if there is no such user.
    fn set_portal_user_profile(
        &self,
        name: &str,
        display_name: &str,
        email: Option<&str>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The user of this name.
    fn portal_user(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<PortalUser>, StoreError>> + Send;

    /// The user whose unused enrolment token has this hash.
    fn user_by_enrolment(
        &self,
        enrol_hash: &[u8; 32],
    ) -> impl Future<Output = Result<Option<PortalUser>, StoreError>> + Send;

    /// Uses the enrolment token (once, before `now` passes its expiry) and gives the user these
    /// recovery codes, in one transaction; false (nothing written) if it was used or expired.
    fn finish_enrolment(
        &self,
        enrol_hash: &[u8; 32],
        codes: &[[u8; 32]],
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Replaces all the user's recovery codes with these.
    fn replace_recovery_codes(
        &self,
        user: &str,
        codes: &[[u8; 32]],
        now: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Unused recovery codes of the user.
    fn recovery_codes_left(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;

    /// Marks the code used and appends `audit`, in one transaction; false (nothing written) if
    /// the user has no such unused code.
    fn use_recovery_code(
        &self,
        user: &str,
        code_hash: &[u8; 32],
        audit: &NewAuditEntry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records an attempt.
    fn add_attempt(&self, attempt: &Attempt)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The attempt with this id hash, used or not.
    fn attempt(
        &self,
        id_hash: &[u8; 32],
    ) -> impl Future<Output = Result<Option<Attempt>, StoreError>> + Send;

    /// Uses an unused, unexpired attempt and starts `session` with `audit`, in one transaction;
    /// false (nothing written) if the attempt was used (a session starts once per approval).
    fn start_session(
        &self,
        attempt_hash: Option<&[u8; 32]>,
        session: &Session,
        audit: &NewAuditEntry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The session with this id hash, live or not, with its user's display name.
    fn session(
        &self,
        id_hash: &[u8; 32],
    ) -> impl Future<Output = Result<Option<SignedIn>, StoreError>> + Send;

    /// Records a use of the session at `now`.
    fn touch_session(
        &self,
        id_hash: &[u8; 32],
        now: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The user's sessions not ended and not past `expires_at` at `now`, newest first.
    fn sessions(
        &self,
        user: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;

    /// Ends the user's session named `handle` and appends `audit`, in one transaction; false if
    /// it was not the user's or already ended.
    fn end_session(
        &self,
        user: &str,
        handle: Uuid,
        audit: &NewAuditEntry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Adds an app password.
    fn add_app_password(
        &self,
        password: &AppPassword,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The user's unrevoked app passwords, oldest first.
    fn app_passwords(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<Vec<AppPassword>, StoreError>> + Send;

    /// Revokes the user's app password `id`; false if it was not the user's or already revoked.
    fn revoke_app_password(
        &self,
        user: &str,
        id: Uuid,
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a use of an unrevoked app password and appends `audit`, in one transaction;
    /// false (nothing written) if it was revoked meanwhile.
    fn use_app_password(
        &self,
        id: Uuid,
        audit: &NewAuditEntry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Rows to values, shared by both stores.
pub(super) mod rows {
    use super::super::rows::{Fields, hash, ip, uint, uuid};
    use super::{AppPassword, Attempt, PortalUser, Session, SignedIn, StoreError};

    fn opt_uint(row: &impl Fields, column: &str) -> Result<Option<u64>, StoreError> {
        Ok(row.opt_int(column)?.map(uint))
    }

    /// A `portal_users` row.
    pub(in crate::store) fn user_of(row: &impl Fields) -> Result<PortalUser, StoreError> {
        Ok(PortalUser {
            name: row.text("name")?,
            display_name: row.text("display_name")?,
            email: row.opt_text("email")?,
            created_at: uint(row.int("created_at")?),
            enrol_expires_at: opt_uint(row, "enrol_expires_at")?,
        })
    }

    /// A `portal_attempts` row.
    pub(in crate::store) fn attempt_of(row: &impl Fields) -> Result<Attempt, StoreError> {
        let signin_id = row
            .opt_text("signin_id")?
            .map(|id| id.parse().map_err(|_| StoreError::Corrupt { what: "id" }))
            .transpose()?;
        Ok(Attempt {
            id_hash: hash(row, "id_hash")?,
            user: row.text("user")?,
            domain: row.text("domain")?,
            return_url: row.text("return_url")?,
            trust: row.flag("trust")?,
            signin_id,
            number: opt_uint(row, "number")?
                .map(|n| u32::try_from(n).map_err(|_| StoreError::Corrupt { what: "number" }))
                .transpose()?,
            created_at: uint(row.int("created_at")?),
            expires_at: uint(row.int("expires_at")?),
        })
    }

    /// A `portal_sessions` row.
    pub(in crate::store) fn session_of(row: &impl Fields) -> Result<Session, StoreError> {
        Ok(Session {
            id_hash: hash(row, "id_hash")?,
            handle: uuid(row, "handle")?,
            user: row.text("user")?,
            domain: row.text("domain")?,
            trusted: row.flag("trusted")?,
            ip: ip(&row.text("ip")?)?,
            user_agent: row.text("user_agent")?,
            created_at: uint(row.int("created_at")?),
            last_seen_at: uint(row.int("last_seen_at")?),
            idle_secs: opt_uint(row, "idle_secs")?,
            expires_at: uint(row.int("expires_at")?),
            ended_at: opt_uint(row, "ended_at")?,
            by_recovery_code: row.flag("by_recovery_code")?,
        })
    }

    /// A [`super::SESSION_BY_ID`] row.
    pub(in crate::store) fn signed_in_of(row: &impl Fields) -> Result<SignedIn, StoreError> {
        Ok(SignedIn { session: session_of(row)?, display_name: row.text("user_display_name")? })
    }

    /// A `portal_app_passwords` row.
    pub(in crate::store) fn app_password_of(row: &impl Fields) -> Result<AppPassword, StoreError> {
        Ok(AppPassword {
            id: uuid(row, "id")?,
            user: row.text("user")?,
            name: row.text("name")?,
            phc: row.text("phc")?,
            created_at: uint(row.int("created_at")?),
            last_used_at: opt_uint(row, "last_used_at")?,
        })
    }
}
