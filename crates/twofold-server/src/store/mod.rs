//! Where the server keeps its state: one trait, so SQLite (the default, [`SqliteStore`]) and
//! PostgreSQL (`PgStore`, feature `postgres`) serve the same routes. Every method that decides
//! something (claiming a token, deciding a request, the one pending request per user, using a
//! nonce) is atomic in the store, and every audit entry is written in the transaction of the
//! action it records, so several server instances can share one database and a crash never
//! leaves an action without its entry or the reverse.

pub mod chain;
pub mod oidc;
pub mod portal;
#[cfg(feature = "postgres")]
mod postgres;
mod remembered;
mod rows;
mod sqlite;

use std::future::Future;
use std::net::IpAddr;

use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};

use twofold_protocol::api::{AuditEntry, AuditEvent, Status};
use twofold_protocol::offline::SEED_LEN;
use twofold_protocol::{Mode, PublicKey};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::policy::SigninQuota;

#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A database failure. Never shown to clients: they get a generic message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached or refused a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The SQLite database could not be opened or refused a statement.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database could not be brought to the current schema.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value is not what this server writes (a damaged or foreign database).
    #[error("the database holds an unreadable {what}")]
    Corrupt {
        /// What could not be read.
        what: &'static str,
    },
    /// A unique value already exists.
    #[error("{what} already exists")]
    Conflict {
        /// What already exists.
        what: &'static str,
    },
    /// Another process serves this SQLite database.
    #[error(
        "another twofold-server is serving {} (one serving process per SQLite file; several \
         instances need PostgreSQL)",
        path.display()
    )]
    InUse {
        /// The lock file the other process holds.
        path: std::path::PathBuf,
    },
    /// A database file could not be made private to its owner.
    #[error("making {} readable by its owner only: {source}", path.display())]
    Permissions {
        /// The file.
        path: std::path::PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The thread that checkpoints a SQLite database's WAL could not be started.
    #[error("starting the database's checkpoint thread: {0}")]
    CheckpointThread(#[source] std::io::Error),
    /// The lock file that marks a served SQLite database could not be opened.
    #[error("opening the lock file {}: {source}", path.display())]
    LockFile {
        /// The lock file.
        path: std::path::PathBuf,
        /// Why it could not be opened.
        #[source]
        source: std::io::Error,
    },
}

/// A relying party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its identity.
    pub id: Uuid,
    /// Its unique name, shown to users on their devices.
    pub name: String,
    /// When its API key stops working, Unix seconds; `None`: never.
    pub expires_at: Option<u64>,
    /// Whether its API key was revoked.
    pub revoked: bool,
}

/// A new relying party, with the SHA-256 of its API key.
#[derive(Debug, Clone)]
pub struct NewService {
    /// Its identity.
    pub id: Uuid,
    /// Its unique name.
    pub name: String,
    /// SHA-256 of the API key.
    pub key_hash: [u8; 32],
    /// When it was added.
    pub created_at: u64,
    /// When its API key stops working; `None`: never.
    pub expires_at: Option<u64>,
}

/// A pairing token issued to a service for one of its users (the token itself is not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    /// SHA-256 of the token.
    pub token_hash: [u8; 32],
    /// The service.
    pub service_id: Uuid,
    /// The user.
    pub user: String,
    /// When it was issued.
    pub created_at: u64,
    /// When it stops working.
    pub expires_at: u64,
    /// When a device used it.
    pub used_at: Option<u64>,
}

/// What became of an attempt to pair with a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairingClaim {
    /// The device is paired to the pairing's service and user.
    Paired(Pairing),
    /// No such token.
    Unknown,
    /// The token was already used.
    Used,
    /// The token expired.
    Expired,
}

/// The seed of a device's offline codes. Redacted in `Debug`, zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct OfflineSeed(pub Zeroizing<[u8; SEED_LEN]>);

impl std::fmt::Debug for OfflineSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OfflineSeed(<redacted>)")
    }
}

/// A device about to pair: the pairing gives its service and user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    /// Its identity.
    pub id: Uuid,
    /// Its key.
    pub public_key: PublicKey,
    /// The name it was given.
    pub name: String,
    /// The seed of its offline codes, sealed ([`crate::seal`]): the store never sees it plain.
    pub sealed_offline_seed: Vec<u8>,
}

/// What verifying a device's offline codes needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineKey {
    /// The device.
    pub device_id: Uuid,
    /// Its seed, sealed ([`crate::seal`]).
    pub sealed_seed: Vec<u8>,
    /// The last time step whose code was accepted.
    pub last_step: Option<u64>,
}

/// An offline code to check for a user, within the wrong-code limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineAttempt {
    /// The service asking.
    pub service_id: Uuid,
    /// The user whose devices' codes are tried.
    pub user: String,
    /// Now.
    pub at: u64,
    /// Wrong codes since this time count.
    pub since: u64,
    /// Wrong codes allowed since `since`.
    pub max_wrong: u32,
}

/// What became of an [`OfflineAttempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineOutcome {
    /// The code was the device's, for a step not used before.
    Verified {
        /// The device.
        device_id: Uuid,
    },
    /// The code was wrong (or used).
    Rejected,
    /// Too many wrong codes lately: the code was not checked.
    RateLimited,
}

/// The audit entry of an offline code attempt.
fn offline_audit(
    attempt: &OfflineAttempt,
    event: AuditEvent,
    device_id: Option<Uuid>,
) -> NewAuditEntry {
    NewAuditEntry {
        service_id: attempt.service_id,
        at: attempt.at,
        user: attempt.user.clone(),
        event,
        signin_id: None,
        device_id,
        ip: None,
    }
}

/// A paired device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its identity.
    pub id: Uuid,
    /// The service of its user.
    pub service_id: Uuid,
    /// Its user.
    pub user: String,
    /// Its key.
    pub public_key: PublicKey,
    /// The name it was given.
    pub name: String,
    /// When it paired.
    pub paired_at: u64,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// A sign-in request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signin {
    /// Its identity.
    pub id: Uuid,
    /// The service that asked.
    pub service_id: Uuid,
    /// The user asked.
    pub user: String,
    /// The address the sign-in comes from.
    pub ip: IpAddr,
    /// ISO country code of the address, when known.
    pub country: Option<String>,
    /// JSON of the server-signed request, as devices receive it.
    pub request_json: String,
    /// Digest of the request.
    pub digest: [u8; 32],
    /// How the person confirms.
    pub mode: Mode,
    /// Number mode: the number to enter.
    pub number: Option<u32>,
    /// Code mode: the code Allow reveals.
    pub code: Option<String>,
    /// When it was made.
    pub created_at: u64,
    /// When it expires.
    pub expires_at: u64,
    /// As stored: `Pending` past `expires_at` is expired too, before the expiry sweep marks it
    /// (see [`Signin::status`]).
    pub stored_status: Status,
    /// When a device decided.
    pub decided_at: Option<u64>,
    /// Code mode: whether the service verified the code.
    pub verified: bool,
    /// Code mode: codes tried so far.
    pub code_attempts: u32,
}

impl Signin {
    /// The status at `now`: pending turns expired once `expires_at` has passed.
    pub fn status(&self, now: u64) -> Status {
        if self.stored_status == Status::Pending && now >= self.expires_at {
            Status::Expired
        } else {
            self.stored_status
        }
    }
}

/// A user's devices and recent sign-ins, as a new sign-in's checks weigh them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// The user's paired, unrevoked devices.
    pub devices: u32,
    /// Pending, unexpired requests of the user from the address (by its limit key).
    pub pending_from_address: u32,
    /// Sign-ins of the user created since `since`.
    pub recent_for_user: u32,
    /// Sign-ins of the service from the address (by its limit key) created since `since`, at
    /// most the `ip_limit` asked for.
    pub recent_for_ip: u32,
    /// Denials of the user's sign-ins since `denials_since`.
    pub recent_denials: u32,
    /// Reports of the user's sign-ins since `denials_since`.
    pub recent_reports: u32,
    /// Whether a sign-in of the user from this address (by its limit key) was ever reported.
    pub ip_reported: bool,
    /// Allowed sign-ins of the user, ever.
    pub allowed: u32,
    /// Allowed sign-ins of the user from the country asked about.
    pub allowed_from_country: u32,
}

/// A new audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// The service whose log it goes in.
    pub service_id: Uuid,
    /// When.
    pub at: u64,
    /// The user concerned.
    pub user: String,
    /// What happened.
    pub event: AuditEvent,
    /// The sign-in concerned.
    pub signin_id: Option<Uuid>,
    /// The device concerned.
    pub device_id: Option<Uuid>,
    /// The sign-in's address.
    pub ip: Option<IpAddr>,
}

/// A new audit entry's columns as stored: both stores write exactly what the hash covers
/// (SQLite hashes them here, PostgreSQL in the database: migration 2501).
struct StoredAudit {
    service_id: String,
    user: String,
    event: &'static str,
    signin_id: Option<String>,
    device_id: Option<String>,
    ip: Option<String>,
    at: i64,
}

impl StoredAudit {
    fn new(entry: &NewAuditEntry) -> Self {
        Self {
            service_id: entry.service_id.to_string(),
            user: entry.user.clone(),
            event: entry.event.as_str(),
            signin_id: entry.signin_id.map(|id| id.to_string()),
            device_id: entry.device_id.map(|id| id.to_string()),
            ip: entry.ip.map(|ip| ip.to_string()),
            at: rows::int(entry.at),
        }
    }

    /// Its hash after the entry whose hash is `previous` (the genesis hash after none, or after
    /// entries from before the chain).
    fn hash_after(&self, previous: Option<&[u8]>) -> [u8; 32] {
        let previous =
            previous.and_then(|p| <[u8; 32]>::try_from(p).ok()).unwrap_or(chain::GENESIS);
        chain::link_hash(
            &previous,
            &chain::ChainFields {
                service_id: &self.service_id,
                at: self.at,
                user: &self.user,
                event: self.event,
                signin_id: self.signin_id.as_deref(),
                device_id: self.device_id.as_deref(),
                ip: self.ip.as_deref(),
            },
        )
    }
}

/// A migrator over a store's schema files, in order.
fn migrator(schema: &[(i64, &'static str, &'static str)]) -> sqlx::migrate::Migrator {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    let migrations = schema
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                std::borrow::Cow::Borrowed(description),
                MigrationType::Simple,
                sqlx::SqlStr::from_static(sql),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// The audit entry of a device pairing through `pairing`.
fn paired_audit(pairing: &Pairing, device_id: Uuid, now: u64) -> NewAuditEntry {
    NewAuditEntry {
        service_id: pairing.service_id,
        at: now,
        user: pairing.user.clone(),
        event: AuditEvent::DevicePaired,
        signin_id: None,
        device_id: Some(device_id),
        ip: None,
    }
}

/// The audit entry of revoking `device`.
fn revoked_audit(device: &Device, now: u64) -> NewAuditEntry {
    NewAuditEntry {
        service_id: device.service_id,
        at: now,
        user: device.user.clone(),
        event: AuditEvent::DeviceRevoked,
        signin_id: None,
        device_id: Some(device.id),
        ip: None,
    }
}

/// The audit entry of `signin` expiring unanswered, dated when it expired.
fn expired_audit(signin: &Signin) -> NewAuditEntry {
    NewAuditEntry {
        service_id: signin.service_id,
        at: signin.expires_at,
        user: signin.user.clone(),
        event: AuditEvent::SigninExpired,
        signin_id: Some(signin.id),
        device_id: None,
        ip: Some(signin.ip),
    }
}

/// What one server instance tells the others sharing its database, so that their device
/// streams and long polls hear of it (PostgreSQL `NOTIFY`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The service of the user concerned.
    pub service_id: Uuid,
    /// The user concerned.
    pub user: String,
    /// What happened.
    pub kind: NoticeKind,
}

/// What happened, in a [`Notice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticeKind {
    /// A new sign-in request.
    Request {
        /// The request.
        id: Uuid,
        /// Its signed JSON as devices receive it, when it fits in a notice; without it the
        /// receiver reads it from the database.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        json: Option<String>,
    },
    /// A request was decided, by this device if any.
    Decided {
        /// The request.
        id: Uuid,
        /// The device that decided.
        by: Option<Uuid>,
    },
    /// A request expired unanswered.
    Expired {
        /// The request.
        id: Uuid,
    },
    /// A device was revoked.
    Revoked {
        /// The device.
        device: Uuid,
    },
}

/// Notices from the other instances, as they arrive.
pub type Notices = BoxStream<'static, Result<Notice, StoreError>>;

/// The server's storage.
pub trait Store: Send + Sync + 'static {
    /// Adds a service; fails with [`StoreError::Conflict`] if the name is taken.
    fn add_service(
        &self,
        service: &NewService,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Revokes a service's API key by name; false if no such service.
    fn revoke_service(
        &self,
        name: &str,
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The service whose API key has this hash.
    fn service_by_key(
        &self,
        key_hash: &[u8; 32],
    ) -> impl Future<Output = Result<Option<Service>, StoreError>> + Send;

    /// The service of this name (revoked or not).
    fn service_by_name(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Service>, StoreError>> + Send;

    /// The service with this id.
    fn service(&self, id: Uuid)
    -> impl Future<Output = Result<Option<Service>, StoreError>> + Send;

    /// Records a new pairing token, and `audit` in the same transaction.
    fn add_pairing(
        &self,
        pairing: &Pairing,
        audit: &NewAuditEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The pairing of a token hash.
    fn pairing(
        &self,
        token_hash: &[u8; 32],
    ) -> impl Future<Output = Result<Option<Pairing>, StoreError>> + Send;

    /// Uses the token (once, before expiry) to pair `device` to the pairing's service and user,
    /// auditing [`AuditEvent::DevicePaired`] in the same transaction. Fails with
    /// [`StoreError::Conflict`] if the key is already paired.
    fn complete_pairing(
        &self,
        token_hash: &[u8; 32],
        device: &NewDevice,
        now: u64,
    ) -> impl Future<Output = Result<PairingClaim, StoreError>> + Send;

    /// The device with this key, revoked or not.
    fn device_by_key(
        &self,
        key: &PublicKey,
    ) -> impl Future<Output = Result<Option<Device>, StoreError>> + Send;

    /// Unrevoked devices of a user, oldest first.
    fn devices(
        &self,
        service_id: Uuid,
        user: &str,
    ) -> impl Future<Output = Result<Vec<Device>, StoreError>> + Send;

    /// Revokes a device of the service's, auditing [`AuditEvent::DeviceRevoked`] in the same
    /// transaction; the device, if it was one and not yet revoked.
    fn revoke_device(
        &self,
        service_id: Uuid,
        device_id: Uuid,
        now: u64,
    ) -> impl Future<Output = Result<Option<Device>, StoreError>> + Send;

    /// Records a new sign-in request, and `audit` in the same transaction, if the user and the
    /// address (by its limit key) are within `quota` and, for a pending request, the user has
    /// no other pending, unexpired one from that address: all checked in the same write (so
    /// concurrent sign-ins, on one instance or several, cannot both pass). False, and nothing
    /// written, if a limit was reached. A pending request is announced to the other instances
    /// (as [`Store::publish`] would) when it commits.
    fn add_signin(
        &self,
        signin: &Signin,
        audit: &NewAuditEntry,
        quota: &SigninQuota,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The sign-in with this id.
    fn signin(&self, id: Uuid) -> impl Future<Output = Result<Option<Signin>, StoreError>> + Send;

    /// A user's pending requests not expired at `now`, oldest first.
    fn pending_signins(
        &self,
        service_id: Uuid,
        user: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<Signin>, StoreError>> + Send;

    /// Sets the outcome of a request pending and unexpired at `audit.at`, and appends `audit`, in
    /// one transaction, announced to the other instances (as [`Store::publish`] would) when it
    /// commits; false (and nothing written) if it was already decided or expired, so the first
    /// decision wins.
    fn decide(
        &self,
        id: Uuid,
        status: Status,
        device_id: Option<Uuid>,
        audit: &NewAuditEntry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Marks pending requests whose `expires_at` has passed at `now` as expired, auditing
    /// [`AuditEvent::SigninExpired`] for each in the same transaction; the requests marked, at
    /// most `limit`. Each is marked once, even by several instances sharing the database.
    fn expire_signins(
        &self,
        now: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Signin>, StoreError>> + Send;

    /// Counts one code attempt if fewer than `max` were made, marking the sign-in verified when
    /// `correct`, and appends `audit`, in one transaction; false (and nothing written) if the
    /// attempts were used up or it was already verified.
    fn record_code_attempt(
        &self,
        id: Uuid,
        correct: bool,
        max: u32,
        audit: &NewAuditEntry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// `user`'s devices, and what the abuse rules need about `user`, `ip` and its `country` at
    /// `now`. Sign-ins from `ip` are counted up to `ip_limit` only: enough to tell whether the
    /// limit is reached, and an address many users share (a company's) costs no more than that.
    #[expect(clippy::too_many_arguments, reason = "one query's parameters, each named")]
    fn activity(
        &self,
        service_id: Uuid,
        user: &str,
        ip: IpAddr,
        country: Option<&str>,
        now: u64,
        since: u64,
        denials_since: u64,
        ip_limit: u32,
    ) -> impl Future<Output = Result<Activity, StoreError>> + Send;

    /// Appends to the audit log on its own (an event that changes nothing else); entries are
    /// never changed or removed.
    fn append_audit(
        &self,
        entry: &NewAuditEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every service's audit entries after `after`, as stored with their hashes, oldest first,
    /// at most `limit`: what [`chain::ChainVerifier`] checks.
    fn audit_records(
        &self,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<chain::AuditRecord>, StoreError>> + Send;

    /// A service's audit entries after `after`, oldest first, at most `limit`.
    fn audit(
        &self,
        service_id: Uuid,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;

    /// Checks an offline code against the user's unrevoked devices, in one transaction with
    /// the wrong-code limit: if fewer than `attempt.max_wrong` wrong codes were recorded since
    /// `attempt.since`, `matches` is asked for each device's key which of its steps the code is
    /// (one not used yet), the first match marks that step used and audits
    /// [`AuditEvent::OfflineCodeVerified`], and no match audits
    /// [`AuditEvent::OfflineCodeRejected`]. Parallel attempts for one user take turns, so the
    /// limit holds whatever their number.
    fn verify_offline_code(
        &self,
        attempt: &OfflineAttempt,
        matches: impl Fn(&OfflineKey) -> Option<u64> + Send + Sync,
    ) -> impl Future<Output = Result<OfflineOutcome, StoreError>> + Send;

    /// Tells the other server instances sharing the database about `notice`; nothing to do
    /// where none can exist (SQLite).
    fn publish(&self, notice: &Notice) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The notices other instances publish from now on; `None` where none can exist (SQLite).
    fn notices(&self) -> impl Future<Output = Result<Option<Notices>, StoreError>> + Send;

    /// Records a device authentication nonce; false if it was seen before (a replay).
    fn use_nonce(
        &self,
        device_id: Uuid,
        nonce: &[u8; 16],
        expires_at: u64,
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
