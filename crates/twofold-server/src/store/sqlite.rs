//! The SQLite store (sqlx): one file, WAL journal, migrations embedded in the binary.

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};

use twofold_protocol::PublicKey;
use twofold_protocol::api::{AuditEntry, AuditEvent, Status};
use uuid::Uuid;

use super::remembered::Remembered;
use super::rows::{
    audit_of, conflict, count, device_of, fields, int, offline_key_of, pairing_of, service_of,
    signin_of,
};
use super::{
    Activity, Device, NewAuditEntry, NewDevice, NewService, Notice, Notices, OfflineKey, Pairing,
    PairingClaim, Service, Signin, Store, StoreError,
};

fields!(SqliteRow);

/// The schema, in order; a migration is never edited once released, only followed by another.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../migrations/0001_initial.sql")),
    (2, "pending index", include_str!("../../migrations/0002_pending_index.sql")),
];

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Readers: WAL lets them run beside the writer.
    pool: SqlitePool,
    /// The one connection that writes. SQLite takes one writer at a time; queueing writers here,
    /// asynchronously, beats several connections contending for the lock and backing off in
    /// SQLite's busy handler, which sleeps.
    writer: SqlitePool,
    /// Devices and sign-ins this process wrote or read, so most reads need no statement.
    remembered: Arc<Remembered>,
}

/// Appends `entry` on `conn`: inside the transaction of the change it records.
async fn insert_audit(
    conn: &mut SqliteConnection,
    entry: &NewAuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit (service_id, at, user, event, signin_id, device_id, ip) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(entry.service_id.to_string())
    .bind(int(entry.at))
    .bind(&entry.user)
    .bind(entry.event.as_str())
    .bind(entry.signin_id.map(|id| id.to_string()))
    .bind(entry.device_id.map(|id| id.to_string()))
    .bind(entry.ip.map(|ip| ip.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

/// `BEGIN IMMEDIATE; $change; <append an audit entry if $change changed a row>; COMMIT`: one
/// batch, so the writer's thread gets one message instead of four (the hand-offs between the
/// async tasks and SQLite's thread, not SQLite, were most of the time per sign-in). The
/// audit entry's seven values are bound after the change's.
macro_rules! with_audit {
    ($change:literal) => {
        concat!(
            "BEGIN IMMEDIATE; ",
            $change,
            "; INSERT INTO audit (service_id, at, user, event, signin_id, device_id, ip) \
             SELECT ?, ?, ?, ?, ?, ?, ? WHERE changes() = 1 RETURNING seq; COMMIT"
        )
    };
}

/// Binds an audit entry's values after a change's, for [`with_audit!`].
fn bind_audit<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    entry: &NewAuditEntry,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    query
        .bind(entry.service_id.to_string())
        .bind(int(entry.at))
        .bind(entry.user.clone())
        .bind(entry.event.as_str())
        .bind(entry.signin_id.map(|id| id.to_string()))
        .bind(entry.device_id.map(|id| id.to_string()))
        .bind(entry.ip.map(|ip| ip.to_string()))
}

impl SqliteStore {
    /// Runs a [`with_audit!`] batch on the writer; whether the change changed a row (and so was
    /// audited). A failure rolls the whole batch back.
    async fn change_with_audit(
        &self,
        batch: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await?;
        match batch.fetch_all(&mut *conn).await {
            Ok(audited) => Ok(!audited.is_empty()),
            Err(error) => {
                // The batch stopped inside its transaction: end it before the connection is
                // used again. (Nothing to roll back if it failed at BEGIN: that error is moot.)
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                Err(error.into())
            }
        }
    }

    /// Opens (creating if missing) the database at `url` (`sqlite://path` or `sqlite::memory:`),
    /// in WAL mode, and brings it to the current schema.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // sqlx pings a pooled connection before handing it out by default: for SQLite that only
        // checks its thread is alive, and costs a second hand-off per statement.
        let pool_options = || SqlitePoolOptions::new().test_before_acquire(false);
        let writer = pool_options().max_connections(1).connect_with(options.clone()).await?;
        // An in-memory database exists once per connection: read through the writer's.
        let pool = if url.contains(":memory:") {
            writer.clone()
        } else {
            pool_options().max_connections(8).connect_with(options).await?
        };
        super::migrator(MIGRATIONS).run(&writer).await?;
        Ok(Self { pool, writer, remembered: Arc::default() })
    }
}

impl Store for SqliteStore {
    async fn add_service(&self, service: &NewService) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO services (id, name, key_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(service.id.to_string())
        .bind(&service.name)
        .bind(service.key_hash.as_slice())
        .bind(int(service.created_at))
        .bind(service.expires_at.map(int))
        .execute(&self.writer)
        .await
        .map_err(|e| conflict(e, "a service with this name"))?;
        Ok(())
    }

    async fn revoke_service(&self, name: &str, now: u64) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE services SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL")
                .bind(int(now))
                .bind(name)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn service_by_key(&self, key_hash: &[u8; 32]) -> Result<Option<Service>, StoreError> {
        sqlx::query("SELECT * FROM services WHERE key_hash = ?")
            .bind(key_hash.as_slice())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(service_of)
            .transpose()
    }

    async fn service(&self, id: Uuid) -> Result<Option<Service>, StoreError> {
        sqlx::query("SELECT * FROM services WHERE id = ?")
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
        let batch = sqlx::query(with_audit!(
            "INSERT INTO pairings (token_hash, service_id, user, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?)"
        ))
        .bind(pairing.token_hash.as_slice().to_vec())
        .bind(pairing.service_id.to_string())
        .bind(pairing.user.clone())
        .bind(int(pairing.created_at))
        .bind(int(pairing.expires_at));
        self.change_with_audit(bind_audit(batch, audit)).await?;
        Ok(())
    }

    async fn pairing(&self, token_hash: &[u8; 32]) -> Result<Option<Pairing>, StoreError> {
        sqlx::query("SELECT * FROM pairings WHERE token_hash = ?")
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
        let mut tx = self.writer.begin().await?;
        // Writing first takes SQLite's write lock at once: two claims of one token serialise.
        let claimed = sqlx::query(
            "UPDATE pairings SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        )
        .bind(int(now))
        .bind(token_hash.as_slice())
        .bind(int(now))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT * FROM pairings WHERE token_hash = ?")
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
            "INSERT INTO devices (id, service_id, user, public_key, name, paired_at, offline_seed) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(device.id.to_string())
        .bind(pairing.service_id.to_string())
        .bind(&pairing.user)
        .bind(device.public_key.to_bytes().as_slice())
        .bind(&device.name)
        .bind(int(now))
        .bind(device.offline_seed.0.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, "a device with this key"))?;
        insert_audit(&mut tx, &super::paired_audit(&pairing, device.id, now)).await?;
        tx.commit().await?;
        self.remembered.device_changed(
            pairing.service_id,
            &pairing.user,
            &device.public_key.to_bytes(),
        );
        Ok(PairingClaim::Paired(pairing))
    }

    async fn device_by_key(&self, key: &PublicKey) -> Result<Option<Device>, StoreError> {
        let key = key.to_bytes();
        if let Some(device) = self.remembered.device(&key) {
            return Ok(Some(device));
        }
        let mark = self.remembered.device_mark();
        let device = sqlx::query("SELECT * FROM devices WHERE public_key = ?")
            .bind(key.as_slice())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(device_of)
            .transpose()?;
        if let Some(device) = &device {
            self.remembered.device_read(mark, device);
        }
        Ok(device)
    }

    async fn devices(&self, service_id: Uuid, user: &str) -> Result<Vec<Device>, StoreError> {
        if let Some(devices) = self.remembered.devices(service_id, user) {
            return Ok(devices);
        }
        let mark = self.remembered.device_mark();
        let devices = sqlx::query(
            "SELECT * FROM devices WHERE service_id = ? AND user = ? AND revoked_at IS NULL \
             ORDER BY paired_at, rowid",
        )
        .bind(service_id.to_string())
        .bind(user)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(device_of)
        .collect::<Result<Vec<_>, _>>()?;
        self.remembered.devices_read(mark, service_id, user, &devices);
        Ok(devices)
    }

    async fn revoke_device(
        &self,
        service_id: Uuid,
        device_id: Uuid,
        now: u64,
    ) -> Result<Option<Device>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let device = sqlx::query(
            "UPDATE devices SET revoked_at = ? WHERE id = ? AND service_id = ? AND revoked_at IS NULL \
             RETURNING *",
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
        if let Some(device) = &device {
            self.remembered.device_changed(
                device.service_id,
                &device.user,
                &device.public_key.to_bytes(),
            );
        }
        Ok(device)
    }

    async fn add_signin(&self, signin: &Signin, audit: &NewAuditEntry) -> Result<bool, StoreError> {
        // The batch holds the write lock from BEGIN IMMEDIATE: the check and the insert are one.
        let batch = sqlx::query(with_audit!(
            "INSERT INTO signins (id, service_id, user, ip, country, request, digest, mode, \
             number, code, created_at, expires_at, status, decided_at, verified, code_attempts) \
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? \
             WHERE ? <> 'pending' OR NOT EXISTS (SELECT 1 FROM signins WHERE service_id = ? \
             AND user = ? AND status = 'pending' AND expires_at > ?)"
        ))
        .bind(signin.id.to_string())
        .bind(signin.service_id.to_string())
        .bind(signin.user.clone())
        .bind(signin.ip.to_string())
        .bind(signin.country.clone())
        .bind(signin.request_json.clone())
        .bind(signin.digest.as_slice().to_vec())
        .bind(signin.mode.as_str())
        .bind(signin.number.map(i64::from))
        .bind(signin.code.clone())
        .bind(int(signin.created_at))
        .bind(int(signin.expires_at))
        .bind(signin.stored_status.as_str())
        .bind(signin.decided_at.map(int))
        .bind(signin.verified)
        .bind(i64::from(signin.code_attempts))
        .bind(signin.stored_status.as_str())
        .bind(signin.service_id.to_string())
        .bind(signin.user.clone())
        .bind(int(signin.created_at));
        let added = self.change_with_audit(bind_audit(batch, audit)).await?;
        if added {
            self.remembered.signin_added(signin);
        }
        Ok(added)
    }

    async fn signin(&self, id: Uuid) -> Result<Option<Signin>, StoreError> {
        if let Some(signin) = self.remembered.signin(id) {
            return Ok(Some(signin));
        }
        // Not remembered from a read: a change racing this read could be overwritten.
        sqlx::query("SELECT * FROM signins WHERE id = ?")
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
            "SELECT * FROM signins WHERE service_id = ? AND user = ? AND status = 'pending' \
             AND expires_at > ? ORDER BY created_at, rowid",
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
        let batch = sqlx::query(with_audit!(
            "UPDATE signins SET status = ?, decided_at = ?, decided_by = ? \
             WHERE id = ? AND status = 'pending' AND expires_at > ?"
        ))
        .bind(status.as_str())
        .bind(int(audit.at))
        .bind(device_id.map(|d| d.to_string()))
        .bind(id.to_string())
        .bind(int(audit.at));
        let decided = self.change_with_audit(bind_audit(batch, audit)).await?;
        if decided {
            self.remembered.signin_changed(id, |signin| {
                signin.stored_status = status;
                signin.decided_at = Some(audit.at);
            });
        }
        Ok(decided)
    }

    async fn expire_signins(&self, now: u64, limit: u32) -> Result<Vec<Signin>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let expired: Vec<Signin> = sqlx::query(
            "UPDATE signins SET status = 'expired' WHERE id IN (SELECT id FROM signins \
             WHERE status = 'pending' AND expires_at <= ? LIMIT ?) RETURNING *",
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
        for signin in &expired {
            self.remembered.signin_changed(signin.id, |remembered| {
                remembered.stored_status = Status::Expired;
            });
        }
        Ok(expired)
    }

    async fn record_code_attempt(
        &self,
        id: Uuid,
        correct: bool,
        max: u32,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let batch = sqlx::query(with_audit!(
            "UPDATE signins SET code_attempts = code_attempts + 1, verified = ? \
             WHERE id = ? AND code_attempts < ? AND verified = 0"
        ))
        .bind(correct)
        .bind(id.to_string())
        .bind(i64::from(max));
        let counted = self.change_with_audit(bind_audit(batch, audit)).await?;
        if counted {
            self.remembered.signin_changed(id, |signin| {
                signin.code_attempts += 1;
                signin.verified = correct;
            });
        }
        Ok(counted)
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
    ) -> Result<Activity, StoreError> {
        // One statement (one hand-off); the address is counted by its own index in a
        // subquery, since `user = ? OR ip = ?` in one scan used neither index.
        let row = sqlx::query(
            "SELECT \
               SUM(status = 'pending' AND expires_at > ?1) AS pending, \
               SUM(created_at > ?2) AS recent, \
               SUM(status = 'denied' AND decided_at > ?3) AS denials, \
               SUM(status = 'reported' AND decided_at > ?3) AS reports, \
               SUM(status = 'reported' AND ip = ?4) AS ip_reports, \
               SUM(status = 'allowed') AS allowed, \
               SUM(status = 'allowed' AND country = ?7) AS allowed_here, \
               (SELECT COUNT(*) FROM signins \
                WHERE service_id = ?5 AND ip = ?4 AND created_at > ?2) AS from_ip \
             FROM signins WHERE service_id = ?5 AND user = ?6",
        )
        .bind(int(now))
        .bind(int(since))
        .bind(int(denials_since))
        .bind(ip.to_string())
        .bind(service_id.to_string())
        .bind(user)
        .bind(country)
        .fetch_one(&self.pool)
        .await?;
        let counted = |column: &str| -> Result<u32, StoreError> { Ok(count(row.try_get(column)?)) };
        Ok(Activity {
            pending: counted("pending")?,
            recent_for_user: counted("recent")?,
            recent_for_ip: counted("from_ip")?,
            recent_denials: counted("denials")?,
            recent_reports: counted("reports")?,
            ip_reported: counted("ip_reports")? > 0,
            allowed: counted("allowed")?,
            allowed_from_country: counted("allowed_here")?,
        })
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await?;
        insert_audit(&mut conn, entry).await
    }

    async fn audit(
        &self,
        service_id: Uuid,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        sqlx::query("SELECT * FROM audit WHERE service_id = ? AND seq > ? ORDER BY seq LIMIT ?")
            .bind(service_id.to_string())
            .bind(int(after))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_of)
            .collect()
    }

    async fn offline_keys(
        &self,
        service_id: Uuid,
        user: &str,
    ) -> Result<Vec<OfflineKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, offline_seed, offline_step FROM devices \
             WHERE service_id = ? AND user = ? AND revoked_at IS NULL ORDER BY paired_at, rowid",
        )
        .bind(service_id.to_string())
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(offline_key_of).collect()
    }

    async fn use_offline_step(
        &self,
        device_id: Uuid,
        step: u64,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let batch = sqlx::query(with_audit!(
            "UPDATE devices SET offline_step = ? \
             WHERE id = ? AND revoked_at IS NULL AND (offline_step IS NULL OR offline_step < ?)"
        ))
        .bind(int(step))
        .bind(device_id.to_string())
        .bind(int(step));
        self.change_with_audit(bind_audit(batch, audit)).await
    }

    async fn count_audit(
        &self,
        service_id: Uuid,
        user: &str,
        event: AuditEvent,
        since: u64,
    ) -> Result<u32, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit WHERE service_id = ? AND user = ? AND event = ? AND at > ?",
        )
        .bind(service_id.to_string())
        .bind(user)
        .bind(event.as_str())
        .bind(int(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(count(Some(n)))
    }

    async fn publish(&self, _notice: &Notice) -> Result<(), StoreError> {
        // One process owns a SQLite file: its hub already told everyone.
        Ok(())
    }

    async fn notices(&self) -> Result<Option<Notices>, StoreError> {
        Ok(None)
    }

    async fn use_nonce(
        &self,
        device_id: Uuid,
        nonce: &[u8; 16],
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM device_nonces WHERE expires_at <= ?")
            .bind(int(now))
            .execute(&self.writer)
            .await?;
        let done = sqlx::query(
            "INSERT OR IGNORE INTO device_nonces (device_id, nonce, expires_at) VALUES (?, ?, ?)",
        )
        .bind(device_id.to_string())
        .bind(nonce.as_slice())
        .bind(int(expires_at))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
