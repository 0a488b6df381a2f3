//! The PostgreSQL store (sqlx), for several server instances sharing one database: every
//! decision is one atomic statement or transaction, and the instances tell each other what
//! happened through `LISTEN`/`NOTIFY` (see [`crate::hub`]).

use std::net::IpAddr;

use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};

use twofold_protocol::PublicKey;
use twofold_protocol::api::{AuditEntry, AuditEvent, Status};
use uuid::Uuid;

use super::chain::AuditRecord;
use super::rows::{
    Fields as _, activity_of, audit_of, audit_record_of, conflict, count, device_of, fields, int,
    offline_key_of, pairing_of, service_of, signin_of,
};
use super::{
    Activity, Device, NewAuditEntry, NewDevice, NewService, Notice, NoticeKind, Notices,
    OfflineAttempt, OfflineKey, OfflineOutcome, Pairing, PairingClaim, Service, Signin, Store,
    StoreError, StoredAudit,
};
use crate::address::limit_key;
use crate::policy::SigninQuota;

mod oidc;
mod portal;

fields!(PgRow);

/// The schema, in order; a migration is never edited once released, only followed by another.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../migrations/postgres/0001_initial.sql")),
    (1801, "address keys", include_str!("../../migrations/postgres/0018_01_address_keys.sql")),
    (1802, "audit chain", include_str!("../../migrations/postgres/0018_02_audit_chain.sql")),
    (2100, "portal", include_str!("../../migrations/postgres/0021_portal.sql")),
    (2101, "portal guesses", include_str!("../../migrations/postgres/0021_02_portal_guesses.sql")),
    (2200, "oidc", include_str!("../../migrations/postgres/0022_oidc.sql")),
    (2501, "audit in the database", include_str!("../../migrations/postgres/0025_audit.sql")),
    (
        2600,
        "portal user email",
        include_str!("../../migrations/postgres/0026_portal_user_email.sql"),
    ),
    (2601, "oidc expiry", include_str!("../../migrations/postgres/0026_02_oidc_expiry.sql")),
    (
        2602,
        "audit hash inlined",
        include_str!("../../migrations/postgres/0026_03_audit_hash_inlined.sql"),
    ),
];

/// Connections per instance: the database, not the pool, is what several instances share. Each
/// statement is short, and more backends than the database's cores only wait for one another
/// (the audit log's lock, the CPU): in the load bench on 2 cores, PostgreSQL's CPU per sign-in
/// was 1.17–1.19 ms with 16 per instance, 1.03–1.07 ms with 8 (issue 25; 4 varied too much).
const MAX_CONNECTIONS: u32 = 8;

/// The longest notice sent: PostgreSQL refuses a `NOTIFY` payload of 8000 bytes or more.
const MAX_NOTICE: usize = 7900;

/// The channel instances notify each other on.
const CHANNEL: &str = "twofold";

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// This instance, so it skips its own notices (its hub had them first).
    instance: Uuid,
}

/// A notice as sent on the channel (`N` is [`Notice`] as read, `&Notice` as written).
#[derive(Serialize, Deserialize)]
struct Envelope<N> {
    from: Uuid,
    #[serde(flatten)]
    notice: N,
}

/// `query` with an audit entry's columns bound after its own arguments, for
/// `twofold_append_audit` (migration 2501).
fn bind_audit<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    stored: &'q StoredAudit,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(&stored.service_id)
        .bind(stored.at)
        .bind(&stored.user)
        .bind(stored.event)
        .bind(&stored.signin_id)
        .bind(&stored.device_id)
        .bind(&stored.ip)
}

/// Appends `entry` on `conn`, inside the transaction of the change it records. The database
/// chains it to the last entry under the audit log's lock (migration 2501: writers take turns
/// so sequence numbers become visible in order and each hash follows the one committed before
/// it), held from this statement to the commit.
async fn insert_audit(conn: &mut PgConnection, entry: &NewAuditEntry) -> Result<(), StoreError> {
    let stored = StoredAudit::new(entry);
    bind_audit(sqlx::query("SELECT twofold_append_audit($1, $2, $3, $4, $5, $6, $7)"), &stored)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes transactions that take the same `key` (within `scope`) take turns until they end, so
/// that what one counts includes what the other wrote. Scopes are taken in a fixed order
/// (user, then address, then the audit log's lock) so that no two transactions wait on each
/// other.
async fn take_turns(conn: &mut PgConnection, scope: &str, key: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("{scope}/{key}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// `notice` as sent on the channel from instance `from`. Ids and a user name of at most 256
/// characters are far below NOTIFY's 8000-byte limit; a request's JSON may not be, and is left
/// out when it does not fit (the receivers then read it from the database).
fn envelope(from: Uuid, mut notice: Notice) -> Result<String, StoreError> {
    let encode = |notice: &Notice| {
        serde_json::to_string(&Envelope { from, notice })
            .map_err(|_| StoreError::Corrupt { what: "notice" })
    };
    let envelope = encode(&notice)?;
    match &mut notice.kind {
        NoticeKind::Request { json, .. } if envelope.len() > MAX_NOTICE && json.is_some() => {
            *json = None;
            encode(&notice)
        }
        _ => Ok(envelope),
    }
}

impl PgStore {
    /// `notice` as sent on the channel, from this instance.
    fn envelope(&self, notice: Notice) -> Result<String, StoreError> {
        envelope(self.instance, notice)
    }

    /// Connects to `url` (`postgres://...`) and brings the database to the current schema.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        // No ping before each statement (sqlx's default): a round trip per statement for a
        // connection that, if broken, fails the statement and is dropped from the pool anyway.
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .test_before_acquire(false)
            .connect(url)
            .await?;
        super::migrator(MIGRATIONS).run(&pool).await?;
        Ok(Self { pool, instance: Uuid::new_v4() })
    }
}

impl Store for PgStore {
    async fn add_service(&self, service: &NewService) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO services (id, name, key_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(service.id.to_string())
        .bind(&service.name)
        .bind(service.key_hash.as_slice())
        .bind(int(service.created_at))
        .bind(service.expires_at.map(int))
        .execute(&self.pool)
        .await
        .map_err(|e| conflict(e, "a service with this name"))?;
        Ok(())
    }

    async fn revoke_service(&self, name: &str, now: u64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE services SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
        )
        .bind(int(now))
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn service_by_key(&self, key_hash: &[u8; 32]) -> Result<Option<Service>, StoreError> {
        sqlx::query("SELECT * FROM services WHERE key_hash = $1")
            .bind(key_hash.as_slice())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(service_of)
            .transpose()
    }

    async fn service_by_name(&self, name: &str) -> Result<Option<Service>, StoreError> {
        sqlx::query("SELECT * FROM services WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(service_of)
            .transpose()
    }

    async fn service(&self, id: Uuid) -> Result<Option<Service>, StoreError> {
        sqlx::query("SELECT * FROM services WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(service_of)
            .transpose()
    }

    async fn add_pairing(
        &self,
        pairing: &Pairing,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        // One statement: the pairing and its audit entry commit together.
        let stored = StoredAudit::new(audit);
        let query = sqlx::query(
            "WITH added AS (INSERT INTO pairings (token_hash, service_id, \"user\", created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING 1) \
             SELECT twofold_append_audit($6, $7, $8, $9, $10, $11, $12) FROM added",
        )
        .bind(pairing.token_hash.as_slice())
        .bind(pairing.service_id.to_string())
        .bind(&pairing.user)
        .bind(int(pairing.created_at))
        .bind(int(pairing.expires_at));
        bind_audit(query, &stored).execute(&self.pool).await?;
        Ok(())
    }

    async fn pairing(&self, token_hash: &[u8; 32]) -> Result<Option<Pairing>, StoreError> {
        sqlx::query("SELECT * FROM pairings WHERE token_hash = $1")
            .bind(token_hash.as_slice())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(pairing_of)
            .transpose()
    }

    async fn complete_pairing(
        &self,
        token_hash: &[u8; 32],
        device: &NewDevice,
        now: u64,
    ) -> Result<PairingClaim, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The update locks the row: a second claim of the token waits, then finds it used.
        let claimed = sqlx::query(
            "UPDATE pairings SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(int(now))
        .bind(token_hash.as_slice())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT * FROM pairings WHERE token_hash = $1")
            .bind(token_hash.as_slice())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(pairing) = row.as_ref().map(pairing_of).transpose()? else {
            return Ok(PairingClaim::Unknown);
        };
        if claimed.rows_affected() != 1 {
            return Ok(if pairing.used_at.is_some() {
                PairingClaim::Used
            } else {
                PairingClaim::Expired
            });
        }
        sqlx::query(
            "INSERT INTO devices (id, service_id, \"user\", public_key, name, paired_at, \
             offline_seed) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(device.id.to_string())
        .bind(pairing.service_id.to_string())
        .bind(&pairing.user)
        .bind(device.public_key.to_bytes().as_slice())
        .bind(&device.name)
        .bind(int(now))
        .bind(device.sealed_offline_seed.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, "a device with this key"))?;
        insert_audit(&mut tx, &super::paired_audit(&pairing, device.id, now)).await?;
        tx.commit().await?;
        Ok(PairingClaim::Paired(pairing))
    }

    async fn device_by_key(&self, key: &PublicKey) -> Result<Option<Device>, StoreError> {
        sqlx::query("SELECT * FROM devices WHERE public_key = $1")
            .bind(key.to_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(device_of)
            .transpose()
    }

    async fn devices(&self, service_id: Uuid, user: &str) -> Result<Vec<Device>, StoreError> {
        sqlx::query(
            "SELECT * FROM devices WHERE service_id = $1 AND \"user\" = $2 AND revoked_at IS NULL \
             ORDER BY paired_at, seq",
        )
        .bind(service_id.to_string())
        .bind(user)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(device_of)
        .collect()
    }

    async fn revoke_device(
        &self,
        service_id: Uuid,
        device_id: Uuid,
        now: u64,
    ) -> Result<Option<Device>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let device = sqlx::query(
            "UPDATE devices SET revoked_at = $1 \
             WHERE id = $2 AND service_id = $3 AND revoked_at IS NULL RETURNING *",
        )
        .bind(int(now))
        .bind(device_id.to_string())
        .bind(service_id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(device_of)
        .transpose()?;
        if let Some(device) = &device {
            insert_audit(&mut tx, &super::revoked_audit(device, now)).await?;
        }
        tx.commit().await?;
        Ok(device)
    }

    async fn add_signin(
        &self,
        signin: &Signin,
        audit: &NewAuditEntry,
        quota: &SigninQuota,
    ) -> Result<bool, StoreError> {
        // One call (migration 2501): the limits' locks and the audit log's are held for no
        // round trip.
        let stored = StoredAudit::new(audit);
        let notice = (signin.stored_status == Status::Pending).then(|| Notice {
            service_id: signin.service_id,
            user: signin.user.clone(),
            kind: NoticeKind::Request { id: signin.id, json: Some(signin.request_json.clone()) },
        });
        let query = sqlx::query(
            "SELECT twofold_add_signin($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)",
        )
        .bind(signin.id.to_string())
        .bind(signin.service_id.to_string())
        .bind(&signin.user)
        .bind(signin.ip.to_string())
        .bind(&signin.country)
        .bind(&signin.request_json)
        .bind(signin.digest.as_slice())
        .bind(signin.mode.as_str())
        .bind(signin.number.map(i64::from))
        .bind(&signin.code)
        .bind(int(signin.created_at))
        .bind(int(signin.expires_at))
        .bind(signin.stored_status.as_str())
        .bind(signin.decided_at.map(int))
        .bind(signin.verified)
        .bind(i64::from(signin.code_attempts))
        .bind(limit_key(signin.ip).to_string())
        .bind(int(quota.since))
        .bind(i64::from(quota.per_user))
        .bind(i64::from(quota.per_address));
        let query = bind_audit(query, &stored)
            .bind(CHANNEL)
            .bind(notice.map(|notice| self.envelope(notice)).transpose()?);
        Ok(sqlx::Row::try_get(&query.fetch_one(&self.pool).await?, 0)?)
    }

    async fn signin(&self, id: Uuid) -> Result<Option<Signin>, StoreError> {
        sqlx::query("SELECT * FROM signins WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(signin_of)
            .transpose()
    }

    async fn pending_signins(
        &self,
        service_id: Uuid,
        user: &str,
        now: u64,
    ) -> Result<Vec<Signin>, StoreError> {
        sqlx::query(
            "SELECT * FROM signins WHERE service_id = $1 AND \"user\" = $2 \
             AND status = 'pending' AND expires_at > $3 ORDER BY created_at, seq",
        )
        .bind(service_id.to_string())
        .bind(user)
        .bind(int(now))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(signin_of)
        .collect()
    }

    async fn decide(
        &self,
        id: Uuid,
        status: Status,
        device_id: Option<Uuid>,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        // One statement: the decision, its audit entry and the notice commit together, or none.
        let stored = StoredAudit::new(audit);
        let notice = Notice {
            service_id: audit.service_id,
            user: audit.user.clone(),
            kind: NoticeKind::Decided { id, by: device_id },
        };
        let query = sqlx::query(
            "WITH done AS (UPDATE signins SET status = $1, decided_at = $2, decided_by = $3 \
             WHERE id = $4 AND status = 'pending' AND expires_at > $2 RETURNING 1) \
             SELECT twofold_append_audit($7, $8, $9, $10, $11, $12, $13), pg_notify($5, $6) \
             FROM done",
        )
        .bind(status.as_str())
        .bind(int(audit.at))
        .bind(device_id.map(|d| d.to_string()))
        .bind(id.to_string())
        .bind(CHANNEL)
        .bind(self.envelope(notice)?);
        let done = bind_audit(query, &stored).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn expire_signins(&self, now: u64, limit: u32) -> Result<Vec<Signin>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // SKIP LOCKED: instances sweeping at once split the work; each request is marked once.
        let expired: Vec<Signin> = sqlx::query(
            "UPDATE signins SET status = 'expired' WHERE id IN (SELECT id FROM signins \
             WHERE status = 'pending' AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING *",
        )
        .bind(int(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(signin_of)
        .collect::<Result<_, _>>()?;
        for signin in &expired {
            insert_audit(&mut tx, &super::expired_audit(signin)).await?;
        }
        tx.commit().await?;
        Ok(expired)
    }

    async fn record_code_attempt(
        &self,
        id: Uuid,
        correct: bool,
        max: u32,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let stored = StoredAudit::new(audit);
        let query = sqlx::query(
            "WITH done AS (UPDATE signins SET code_attempts = code_attempts + 1, verified = $1 \
             WHERE id = $2 AND code_attempts < $3 AND NOT verified RETURNING 1) \
             SELECT twofold_append_audit($4, $5, $6, $7, $8, $9, $10) FROM done",
        )
        .bind(correct)
        .bind(id.to_string())
        .bind(i64::from(max));
        let done = bind_audit(query, &stored).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn activity(
        &self,
        service_id: Uuid,
        user: &str,
        ip: IpAddr,
        country: Option<&str>,
        now: u64,
        since: u64,
        denials_since: u64,
        ip_limit: u32,
    ) -> Result<Activity, StoreError> {
        let ip = limit_key(ip).to_string();
        let row = sqlx::query(
            "SELECT \
               COUNT(*) FILTER (WHERE status = 'pending' AND expires_at > $1 AND ip_key = $4) \
                 AS pending, \
               COUNT(*) FILTER (WHERE created_at > $2) AS recent, \
               COUNT(*) FILTER (WHERE status = 'denied' AND decided_at > $3) AS denials, \
               COUNT(*) FILTER (WHERE status = 'reported' AND decided_at > $3) AS reports, \
               COUNT(*) FILTER (WHERE status = 'reported' AND ip_key = $4) AS ip_reports, \
               COUNT(*) FILTER (WHERE status = 'allowed') AS allowed, \
               COUNT(*) FILTER (WHERE status = 'allowed' AND country = $7) AS allowed_here, \
               (SELECT COUNT(*) FROM (SELECT 1 FROM signins \
                 WHERE service_id = $5 AND ip_key = $4 AND created_at > $2 LIMIT $8) AS capped) \
                 AS from_ip, \
               (SELECT COUNT(*) FROM devices \
                 WHERE service_id = $5 AND \"user\" = $6 AND revoked_at IS NULL) AS devices \
             FROM signins WHERE service_id = $5 AND \"user\" = $6",
        )
        .bind(int(now))
        .bind(int(since))
        .bind(int(denials_since))
        .bind(&ip)
        .bind(service_id.to_string())
        .bind(user)
        .bind(country)
        .bind(i64::from(ip_limit))
        .fetch_one(&self.pool)
        .await?;
        activity_of(&row, count(row.opt_int("devices")?))
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_audit(&mut conn, entry).await
    }

    async fn audit_records(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        sqlx::query("SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(int(after))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_record_of)
            .collect()
    }

    async fn audit(
        &self,
        service_id: Uuid,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        sqlx::query("SELECT * FROM audit WHERE service_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
            .bind(service_id.to_string())
            .bind(int(after))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_of)
            .collect()
    }

    async fn verify_offline_code(
        &self,
        attempt: &OfflineAttempt,
        matches: impl Fn(&OfflineKey) -> Option<u64> + Send + Sync,
    ) -> Result<OfflineOutcome, StoreError> {
        let service_id = attempt.service_id.to_string();
        let mut tx = self.pool.begin().await?;
        // The user's attempts take turns: each counts the wrong codes of those before it.
        take_turns(&mut tx, "user", &format!("{service_id}/{}", attempt.user)).await?;
        let wrong: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit \
             WHERE service_id = $1 AND \"user\" = $2 AND event = $3 AND at > $4",
        )
        .bind(&service_id)
        .bind(&attempt.user)
        .bind(AuditEvent::OfflineCodeRejected.as_str())
        .bind(int(attempt.since))
        .fetch_one(&mut *tx)
        .await?;
        if count(Some(wrong)) >= attempt.max_wrong {
            return Ok(OfflineOutcome::RateLimited);
        }
        let keys = sqlx::query(
            "SELECT id, offline_seed, offline_step FROM devices \
             WHERE service_id = $1 AND \"user\" = $2 AND revoked_at IS NULL \
             ORDER BY paired_at, seq",
        )
        .bind(&service_id)
        .bind(&attempt.user)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(offline_key_of)
        .collect::<Result<Vec<_>, _>>()?;
        for key in &keys {
            let Some(step) = matches(key) else { continue };
            let used = sqlx::query(
                "UPDATE devices SET offline_step = $1 WHERE id = $2 \
                 AND (offline_step IS NULL OR offline_step < $1)",
            )
            .bind(int(step))
            .bind(key.device_id.to_string())
            .execute(&mut *tx)
            .await?;
            if used.rows_affected() == 1 {
                let event = AuditEvent::OfflineCodeVerified;
                insert_audit(&mut tx, &super::offline_audit(attempt, event, Some(key.device_id)))
                    .await?;
                tx.commit().await?;
                return Ok(OfflineOutcome::Verified { device_id: key.device_id });
            }
        }
        insert_audit(
            &mut tx,
            &super::offline_audit(attempt, AuditEvent::OfflineCodeRejected, None),
        )
        .await?;
        tx.commit().await?;
        Ok(OfflineOutcome::Rejected)
    }

    async fn publish(&self, notice: &Notice) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(self.envelope(notice.clone())?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn notices(&self) -> Result<Option<Notices>, StoreError> {
        // The listener reconnects by itself; notices sent while it was away are lost, which
        // costs a device a reconnect and a long poll its timeout, never a decision.
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        let me = self.instance;
        let notices = listener.into_stream().filter_map(move |received| async move {
            match received {
                Err(error) => Some(Err(StoreError::Database(error))),
                Ok(notification) => {
                    match serde_json::from_str::<Envelope<Notice>>(notification.payload()) {
                        Ok(envelope) if envelope.from == me => None,
                        Ok(envelope) => Some(Ok(envelope.notice)),
                        Err(_) => Some(Err(StoreError::Corrupt { what: "notice" })),
                    }
                }
            }
        });
        Ok(Some(notices.boxed()))
    }

    async fn use_nonce(
        &self,
        device_id: Uuid,
        nonce: &[u8; 16],
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM device_nonces WHERE expires_at <= $1")
            .bind(int(now))
            .execute(&self.pool)
            .await?;
        let done = sqlx::query(
            "INSERT INTO device_nonces (device_id, nonce, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(device_id.to_string())
        .bind(nonce.as_slice())
        .bind(int(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: String) -> Notice {
        Notice {
            service_id: Uuid::new_v4(),
            user: "alice".into(),
            kind: NoticeKind::Request { id: Uuid::new_v4(), json: Some(json) },
        }
    }

    fn read(envelope: &str) -> Notice {
        serde_json::from_str::<Envelope<Notice>>(envelope).unwrap().notice
    }

    #[test]
    fn a_request_travels_in_its_notice_when_it_fits() {
        let notice = request(r#"{"message":{"user":"alice \"a\""}}"#.into());
        let sent = envelope(Uuid::new_v4(), notice.clone()).unwrap();
        assert_eq!(read(&sent), notice);
    }

    #[test]
    fn a_request_too_long_for_a_notice_is_left_for_the_receiver_to_read() {
        // Quotes double as they are escaped: the JSON fits alone, not inside the notice.
        let notice = request("\"".repeat(MAX_NOTICE / 2 + 100));
        let sent = envelope(Uuid::new_v4(), notice.clone()).unwrap();
        assert!(sent.len() <= MAX_NOTICE, "{} bytes", sent.len());
        let NoticeKind::Request { id, .. } = notice.kind else { unreachable!() };
        assert_eq!(read(&sent).kind, NoticeKind::Request { id, json: None });
    }
}
