//! The SQLite store: one file, WAL journal, migrations embedded in the binary.
//!
//! Statements run on the calling thread (rusqlite), each in tens of microseconds: handing them
//! to a connection's own thread and back, as sqlx does, cost more than SQLite itself (about
//! 60 % of a sign-in's time went to those thread switches). sqlx still runs the migrations, so
//! databases made before keep their migration history; both use the same linked SQLite. The
//! WAL is copied into the database file by a thread of its own (`checkpoints`), not by the
//! commit that crosses SQLite's threshold, which would hold the writer through two file syncs.
//!
//! A row cap is written `LIMIT ? + 0`, never `LIMIT ?`: SQLite reads a bare bound `LIMIT` while
//! planning, so rebinding it makes the statement parse and plan again at every run (issue 25:
//! the sign-in's two hot statements were re-prepared each time).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Params, Row, TransactionBehavior};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use twofold_protocol::PublicKey;
use twofold_protocol::api::{AuditEntry, AuditEvent, Status};
use uuid::Uuid;

mod checkpoints;
mod oidc;
mod portal;
use super::chain::AuditRecord;
use super::remembered::Remembered;
use super::rows::{
    Fields, activity_of, audit_of, audit_record_of, count, device_of, int, offline_key_of,
    pairing_of, service_of, signin_of,
};
use super::{
    Activity, Device, NewAuditEntry, NewDevice, NewService, Notice, Notices, OfflineAttempt,
    OfflineKey, OfflineOutcome, Pairing, PairingClaim, Service, Signin, Store, StoreError,
    StoredAudit,
};
use crate::address::limit_key;
use crate::policy::SigninQuota;
use checkpoints::Checkpoints;

/// The schema, in order; a migration is never edited once released, only followed by another.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../migrations/0001_initial.sql")),
    (2, "pending index", include_str!("../../migrations/0002_pending_index.sql")),
    (1801, "address keys", include_str!("../../migrations/0018_01_address_keys.sql")),
    (1802, "audit chain", include_str!("../../migrations/0018_02_audit_chain.sql")),
    (2100, "portal", include_str!("../../migrations/0021_portal.sql")),
    (2101, "portal guesses", include_str!("../../migrations/0021_02_portal_guesses.sql")),
    (2200, "oidc", include_str!("../../migrations/0022_oidc.sql")),
    (2600, "portal user email", include_str!("../../migrations/0026_portal_user_email.sql")),
    (2601, "oidc expiry", include_str!("../../migrations/0026_02_oidc_expiry.sql")),
    (
        2603,
        "sign-ins by user, covering",
        include_str!("../../migrations/0026_04_signins_by_user_covering.sql"),
    ),
];

/// Stores a sign-in if its user's and its address's counts in the window leave room and, for a
/// pending one, no other is pending for the user from the address (one statement: the limits
/// and the insert are one).
const ADD_SIGNIN: &str = "INSERT INTO signins (id, service_id, user, ip, country, request, \
     digest, mode, number, code, created_at, expires_at, status, decided_at, verified, \
     code_attempts, ip_key) \
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17 \
     WHERE (SELECT COUNT(*) FROM signins WHERE service_id = ?2 AND user = ?3 \
       AND created_at > ?18) < ?19 \
     AND (SELECT COUNT(*) FROM (SELECT 1 FROM signins WHERE service_id = ?2 \
       AND ip_key = ?17 AND created_at > ?18 LIMIT ?20 + 0)) < ?20 \
     AND (?13 <> 'pending' OR NOT EXISTS (SELECT 1 FROM signins WHERE service_id = ?2 \
       AND user = ?3 AND ip_key = ?17 AND status = 'pending' AND expires_at > ?11))";

/// The counts the abuse rules weigh. The address is counted by its own index in a subquery:
/// `user = ? OR ip = ?` in one scan used neither index.
const ACTIVITY: &str = "SELECT \
       SUM(status = 'pending' AND expires_at > ?1 AND ip_key = ?4) AS pending, \
       SUM(created_at > ?2) AS recent, \
       SUM(status = 'denied' AND decided_at > ?3) AS denials, \
       SUM(status = 'reported' AND decided_at > ?3) AS reports, \
       SUM(status = 'reported' AND ip_key = ?4) AS ip_reports, \
       SUM(status = 'allowed') AS allowed, \
       SUM(status = 'allowed' AND country = ?7) AS allowed_here, \
       (SELECT COUNT(*) FROM (SELECT 1 FROM signins \
        WHERE service_id = ?5 AND ip_key = ?4 AND created_at > ?2 LIMIT ?8 + 0)) AS from_ip \
     FROM signins WHERE service_id = ?5 AND user = ?6";

/// How long a statement waits for another process's write lock (the command line adding or
/// revoking a service) before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How a database file is opened (each connection is used by one thread at a time).
const FILE: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE.union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

/// Idle reading connections kept; more are opened when more threads read at once.
const IDLE_READERS: usize = 8;

impl Fields for Row<'_> {
    fn text(&self, column: &str) -> Result<String, StoreError> {
        Ok(self.get(column)?)
    }
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.get(column)?)
    }
    fn int(&self, column: &str) -> Result<i64, StoreError> {
        Ok(self.get(column)?)
    }
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.get(column)?)
    }
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError> {
        Ok(self.get(column)?)
    }
    fn opt_bytes(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get(column)?)
    }
    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        Ok(self.get(column)?)
    }
}

/// Takes a lock whose connection stays usable even if a holder panicked: an open transaction
/// was rolled back when the panic dropped it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `what` if `error` says a unique value exists already, else the error as it is.
fn conflict(error: StoreError, what: &'static str) -> StoreError {
    match &error {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _))
            if matches!(
                failure.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            StoreError::Conflict { what }
        }
        _ => error,
    }
}

/// The first row `sql` returns, read by `of`.
fn one<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    of: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    rows.next()?.map(of).transpose()
}

/// Every row `sql` returns, read by `of`.
fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    of: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(of(row)?);
    }
    Ok(found)
}

/// Runs `sql`; the number of rows it changed.
fn change(conn: &Connection, sql: &str, params: impl Params) -> Result<usize, StoreError> {
    Ok(conn.prepare_cached(sql)?.execute(params)?)
}

/// Appends `entry` on `conn`: inside the transaction of the change it records, chained to the
/// last entry (the one writer makes entries take turns).
fn insert_audit(conn: &Connection, entry: &NewAuditEntry) -> Result<(), StoreError> {
    let previous = one(conn, "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1", [], |row| {
        row.opt_bytes("hash")
    })?
    .flatten();
    let stored = StoredAudit::new(entry);
    let hash = stored.hash_after(previous.as_deref());
    change(
        conn,
        "INSERT INTO audit (service_id, at, user, event, signin_id, device_id, ip, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            &stored.service_id,
            stored.at,
            &stored.user,
            stored.event,
            &stored.signin_id,
            &stored.device_id,
            &stored.ip,
            hash.as_slice(),
        ),
    )?;
    Ok(())
}

/// Runs `sql` on `conn` and, if it changed a row, appends `audit`; whether it changed a row.
fn change_then_audit(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    audit: &NewAuditEntry,
) -> Result<bool, StoreError> {
    let changed = change(conn, sql, params)? == 1;
    if changed {
        insert_audit(conn, audit)?;
    }
    Ok(changed)
}

/// The connections of one database.
struct Connections {
    /// The one connection that writes: SQLite takes one writer at a time, and a writer waiting
    /// here waits microseconds, not in SQLite's busy handler, which sleeps. The wait is async:
    /// a thread blocked on it could serve no other request meanwhile (issue 25: a third of the
    /// server's context switches under load were its two threads blocked here).
    writer: tokio::sync::Mutex<Connection>,
    /// Idle reading connections (WAL lets them read beside the writer); `None` for an
    /// in-memory database, which exists once per connection: it is read through the writer's.
    readers: Option<Mutex<Vec<Connection>>>,
    /// Where the database is, to open another reader.
    path: PathBuf,
    /// For the serving process, its lock on `<database>.serving`, held while the store lives.
    _serving: Option<std::fs::File>,
    /// The checkpoint thread's nudges; `None` for an in-memory database, which has no WAL.
    checkpoints: Option<Checkpoints>,
}

/// Opens a connection to `path` with the settings every connection here uses.
fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}

/// Makes the database at `path` and its WAL and shared-memory files readable by their owner
/// only (0600): the database holds offline-code seeds and the audit log. Files made by earlier
/// versions were readable by all.
fn make_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt as _;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        let Ok(metadata) = std::fs::metadata(&file) else { continue };
        if metadata.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(|source| StoreError::Permissions { path: file, source })?;
        }
    }
    Ok(())
}

/// Takes the lock that marks the database at `path` served by this process (released when the
/// process ends, however it ends).
fn lock_for_serving(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".serving");
    let lock = PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|source| StoreError::LockFile { path: lock.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse { path: lock }),
        Err(std::fs::TryLockError::Error(source)) => {
            Err(StoreError::LockFile { path: lock, source })
        }
    }
}

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    connections: Arc<Connections>,
    /// Devices and sign-ins this process wrote or read, so most reads need no statement.
    remembered: Arc<Remembered>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.connections.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path` or `sqlite::memory:`),
    /// in WAL mode, and brings it to the current schema.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_as(url, false).await
    }

    /// Opens the database as [`Self::open`] does, for the process that serves it: fails with
    /// [`StoreError::InUse`] while another process serves it, since each would keep devices and
    /// sign-ins in memory without seeing the other's changes. (`twofold-server service ...`
    /// opens it with [`Self::open`] beside the serving process.)
    pub async fn open_to_serve(url: &str) -> Result<Self, StoreError> {
        Self::open_as(url, true).await
    }

    async fn open_as(url: &str, serving: bool) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let path = options.get_filename().to_path_buf();
        let in_memory = url.contains(":memory:");
        let serving = if serving && !in_memory { Some(lock_for_serving(&path)?) } else { None };
        let flags = if in_memory {
            // sqlx names its in-memory database as a shared-cache URI: the writer below opens
            // the same one, and keeps it alive once the migrating connection is gone.
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_MEMORY
                | OpenFlags::SQLITE_OPEN_SHARED_CACHE
        } else {
            FILE
        };
        // A one-connection pool rather than a connection: `run` on a `&mut` connection makes
        // this future not `Send` (sqlx's `Acquire` is not general enough for it).
        let migrating = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        let writer = connect(&path, flags)?;
        if !in_memory {
            make_private(&path)?;
        }
        super::migrator(MIGRATIONS).run(&migrating).await?;
        migrating.close().await;
        let readers = (!in_memory).then(|| Mutex::new(Vec::new()));
        let checkpoints = if in_memory { None } else { Some(Checkpoints::start(&path, &writer)?) };
        Ok(Self {
            connections: Arc::new(Connections {
                writer: tokio::sync::Mutex::new(writer),
                readers,
                path,
                _serving: serving,
                checkpoints,
            }),
            remembered: Arc::default(),
        })
    }

    /// Runs `read` on an idle reading connection (opening one if none is idle).
    async fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let connections = &*self.connections;
        let Some(readers) = &connections.readers else {
            return read(&*connections.writer.lock().await);
        };
        let idle = lock(readers).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => connect(&connections.path, FILE)?,
        };
        let result = read(&conn);
        let mut idle = lock(readers);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }

    /// Runs `write` in one immediate transaction on the writer, committed if it returns `Ok`.
    async fn write<T>(
        &self,
        write: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.connections.writer.lock().await;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let result = write(&tx)?;
        tx.commit()?;
        if let Some(checkpoints) = &self.connections.checkpoints {
            checkpoints.committed();
        }
        Ok(result)
    }

    /// Runs `change` and, if it changed a row, appends `audit`, in one transaction; whether it
    /// changed a row.
    async fn change_with_audit(
        &self,
        sql: &str,
        params: impl Params + Send,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.write(|conn| change_then_audit(conn, sql, params, audit)).await
    }
}

impl Store for SqliteStore {
    async fn add_service(&self, service: &NewService) -> Result<(), StoreError> {
        self.write(|conn| {
            change(
                conn,
                "INSERT INTO services (id, name, key_hash, created_at, expires_at) \
                 VALUES (?, ?, ?, ?, ?)",
                (
                    service.id.to_string(),
                    &service.name,
                    service.key_hash.as_slice(),
                    int(service.created_at),
                    service.expires_at.map(int),
                ),
            )
        })
        .await
        .map_err(|error| conflict(error, "a service with this name"))?;
        Ok(())
    }

    async fn revoke_service(&self, name: &str, now: u64) -> Result<bool, StoreError> {
        self.write(|conn| {
            change(
                conn,
                "UPDATE services SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                (int(now), name),
            )
        })
        .await
        .map(|changed| changed == 1)
    }

    async fn service_by_key(&self, key_hash: &[u8; 32]) -> Result<Option<Service>, StoreError> {
        self.read(|conn| {
            one(conn, "SELECT * FROM services WHERE key_hash = ?", [key_hash.as_slice()], |row| {
                service_of(row)
            })
        })
        .await
    }

    async fn service_by_name(&self, name: &str) -> Result<Option<Service>, StoreError> {
        self.read(|conn| {
            one(conn, "SELECT * FROM services WHERE name = ?", [name], |row| service_of(row))
        })
        .await
    }

    async fn service(&self, id: Uuid) -> Result<Option<Service>, StoreError> {
        self.read(|conn| {
            one(conn, "SELECT * FROM services WHERE id = ?", [id.to_string()], |row| {
                service_of(row)
            })
        })
        .await
    }

    async fn add_pairing(
        &self,
        pairing: &Pairing,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        self.change_with_audit(
            "INSERT INTO pairings (token_hash, service_id, user, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?)",
            (
                pairing.token_hash.as_slice(),
                pairing.service_id.to_string(),
                &pairing.user,
                int(pairing.created_at),
                int(pairing.expires_at),
            ),
            audit,
        )
        .await?;
        Ok(())
    }

    async fn pairing(&self, token_hash: &[u8; 32]) -> Result<Option<Pairing>, StoreError> {
        self.read(|conn| {
            one(
                conn,
                "SELECT * FROM pairings WHERE token_hash = ?",
                [token_hash.as_slice()],
                |row| pairing_of(row),
            )
        })
        .await
    }

    async fn complete_pairing(
        &self,
        token_hash: &[u8; 32],
        device: &NewDevice,
        now: u64,
    ) -> Result<PairingClaim, StoreError> {
        let key = device.public_key.to_bytes();
        let claim = self
            .write(|conn| {
                let claimed = change(
                    conn,
                    "UPDATE pairings SET used_at = ?1 \
                     WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1",
                    (int(now), token_hash.as_slice()),
                )?;
                let pairing = one(
                    conn,
                    "SELECT * FROM pairings WHERE token_hash = ?",
                    [token_hash.as_slice()],
                    |row| pairing_of(row),
                )?;
                let Some(pairing) = pairing else {
                    return Ok(PairingClaim::Unknown);
                };
                if claimed != 1 {
                    return Ok(if pairing.used_at.is_some() {
                        PairingClaim::Used
                    } else {
                        PairingClaim::Expired
                    });
                }
                change(
                    conn,
                    "INSERT INTO devices \
                     (id, service_id, user, public_key, name, paired_at, offline_seed) \
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        device.id.to_string(),
                        pairing.service_id.to_string(),
                        &pairing.user,
                        key.as_slice(),
                        &device.name,
                        int(now),
                        device.sealed_offline_seed.as_slice(),
                    ),
                )
                .map_err(|error| conflict(error, "a device with this key"))?;
                insert_audit(conn, &super::paired_audit(&pairing, device.id, now))?;
                Ok(PairingClaim::Paired(pairing))
            })
            .await?;
        if let PairingClaim::Paired(pairing) = &claim {
            self.remembered.device_changed(pairing.service_id, &pairing.user, &key);
        }
        Ok(claim)
    }

    async fn device_by_key(&self, key: &PublicKey) -> Result<Option<Device>, StoreError> {
        let key = key.to_bytes();
        if let Some(device) = self.remembered.device(&key) {
            return Ok(Some(device));
        }
        let mark = self.remembered.device_mark();
        let device = self
            .read(|conn| {
                one(conn, "SELECT * FROM devices WHERE public_key = ?", [key.as_slice()], |row| {
                    device_of(row)
                })
            })
            .await?;
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
        let devices = self.read(|conn| {
            all(
                conn,
                "SELECT * FROM devices WHERE service_id = ? AND user = ? AND revoked_at IS NULL \
                 ORDER BY paired_at, rowid",
                (service_id.to_string(), user),
                |row| device_of(row),
            )
        }).await?;
        self.remembered.devices_read(mark, service_id, user, &devices);
        Ok(devices)
    }

    async fn revoke_device(
        &self,
        service_id: Uuid,
        device_id: Uuid,
        now: u64,
    ) -> Result<Option<Device>, StoreError> {
        let device = self
            .write(|conn| {
                let device = one(
                    conn,
                    "UPDATE devices SET revoked_at = ? \
                     WHERE id = ? AND service_id = ? AND revoked_at IS NULL RETURNING *",
                    (int(now), device_id.to_string(), service_id.to_string()),
                    |row| device_of(row),
                )?;
                if let Some(device) = &device {
                    insert_audit(conn, &super::revoked_audit(device, now))?;
                }
                Ok(device)
            })
            .await?;
        if let Some(device) = &device {
            self.remembered.device_changed(
                device.service_id,
                &device.user,
                &device.public_key.to_bytes(),
            );
        }
        Ok(device)
    }

    async fn add_signin(
        &self,
        signin: &Signin,
        audit: &NewAuditEntry,
        quota: &SigninQuota,
    ) -> Result<bool, StoreError> {
        // The parameters are made inside: a list of `&dyn ToSql` may not wait for the writer.
        let added = self
            .write(|conn| {
                let params = rusqlite::params![
                    signin.id.to_string(),
                    signin.service_id.to_string(),
                    &signin.user,
                    signin.ip.to_string(),
                    &signin.country,
                    &signin.request_json,
                    signin.digest.as_slice(),
                    signin.mode.as_str(),
                    signin.number,
                    &signin.code,
                    int(signin.created_at),
                    int(signin.expires_at),
                    signin.stored_status.as_str(),
                    signin.decided_at.map(int),
                    signin.verified,
                    signin.code_attempts,
                    limit_key(signin.ip).to_string(),
                    int(quota.since),
                    quota.per_user,
                    quota.per_address,
                ];
                change_then_audit(conn, ADD_SIGNIN, params, audit)
            })
            .await?;
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
        self.read(|conn| {
            one(conn, "SELECT * FROM signins WHERE id = ?", [id.to_string()], |row| signin_of(row))
        })
        .await
    }

    async fn pending_signins(
        &self,
        service_id: Uuid,
        user: &str,
        now: u64,
    ) -> Result<Vec<Signin>, StoreError> {
        self.read(|conn| {
            all(
                conn,
                "SELECT * FROM signins WHERE service_id = ? AND user = ? AND status = 'pending' \
                 AND expires_at > ? ORDER BY created_at, rowid",
                (service_id.to_string(), user, int(now)),
                |row| signin_of(row),
            )
        })
        .await
    }

    async fn decide(
        &self,
        id: Uuid,
        status: Status,
        device_id: Option<Uuid>,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let decided = self
            .change_with_audit(
                "UPDATE signins SET status = ?1, decided_at = ?2, decided_by = ?3 \
                 WHERE id = ?4 AND status = 'pending' AND expires_at > ?2",
                (status.as_str(), int(audit.at), device_id.map(|d| d.to_string()), id.to_string()),
                audit,
            )
            .await?;
        if decided {
            self.remembered.signin_changed(id, |signin| {
                signin.stored_status = status;
                signin.decided_at = Some(audit.at);
            });
        }
        Ok(decided)
    }

    async fn expire_signins(&self, now: u64, limit: u32) -> Result<Vec<Signin>, StoreError> {
        let expired = self
            .write(|conn| {
                let expired = all(
                    conn,
                    "UPDATE signins SET status = 'expired' WHERE id IN (SELECT id FROM signins \
                     WHERE status = 'pending' AND expires_at <= ? LIMIT ? + 0) RETURNING *",
                    (int(now), limit),
                    |row| signin_of(row),
                )?;
                for signin in &expired {
                    insert_audit(conn, &super::expired_audit(signin))?;
                }
                Ok(expired)
            })
            .await?;
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
        let counted = self
            .change_with_audit(
                "UPDATE signins SET code_attempts = code_attempts + 1, verified = ? \
                 WHERE id = ? AND code_attempts < ? AND verified = 0",
                (correct, id.to_string(), max),
                audit,
            )
            .await?;
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
        ip_limit: u32,
    ) -> Result<Activity, StoreError> {
        // Remembered: most often no statement.
        let devices =
            u32::try_from(self.devices(service_id, user).await?.len()).unwrap_or(u32::MAX);
        let activity = self
            .read(|conn| {
                one(
                    conn,
                    ACTIVITY,
                    (
                        int(now),
                        int(since),
                        int(denials_since),
                        limit_key(ip).to_string(),
                        service_id.to_string(),
                        user,
                        country,
                        ip_limit,
                    ),
                    |row| activity_of(row, devices),
                )
            })
            .await?;
        // An aggregate without GROUP BY always has its one row.
        activity.ok_or(StoreError::Corrupt { what: "sign-in counts" })
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        self.write(|conn| insert_audit(conn, entry)).await
    }

    async fn audit_records(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        self.read(|conn| {
            all(
                conn,
                "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ? + 0",
                (int(after), limit),
                |row| audit_record_of(row),
            )
        })
        .await
    }

    async fn audit(
        &self,
        service_id: Uuid,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|conn| {
            all(
                conn,
                "SELECT * FROM audit WHERE service_id = ? AND seq > ? ORDER BY seq LIMIT ? + 0",
                (service_id.to_string(), int(after), limit),
                |row| audit_of(row),
            )
        })
        .await
    }

    async fn verify_offline_code(
        &self,
        attempt: &OfflineAttempt,
        matches: impl Fn(&OfflineKey) -> Option<u64> + Send + Sync,
    ) -> Result<OfflineOutcome, StoreError> {
        // On the writer, in one immediate transaction: parallel attempts take turns.
        self.write(|conn| {
            let service_id = attempt.service_id.to_string();
            let wrong = one(
                conn,
                "SELECT COUNT(*) AS n FROM audit \
                 WHERE service_id = ? AND user = ? AND event = ? AND at > ?",
                (
                    &service_id,
                    &attempt.user,
                    AuditEvent::OfflineCodeRejected.as_str(),
                    int(attempt.since),
                ),
                |row| row.opt_int("n"),
            )?;
            if count(wrong.flatten()) >= attempt.max_wrong {
                return Ok(OfflineOutcome::RateLimited);
            }
            let keys = all(
                conn,
                "SELECT id, offline_seed, offline_step FROM devices WHERE service_id = ? \
                 AND user = ? AND revoked_at IS NULL ORDER BY paired_at, rowid",
                (&service_id, &attempt.user),
                |row| offline_key_of(row),
            )?;
            for key in &keys {
                let Some(step) = matches(key) else { continue };
                let used = change(
                    conn,
                    "UPDATE devices SET offline_step = ?1 WHERE id = ?2 \
                     AND (offline_step IS NULL OR offline_step < ?1)",
                    (int(step), key.device_id.to_string()),
                )?;
                if used == 1 {
                    let event = AuditEvent::OfflineCodeVerified;
                    insert_audit(conn, &super::offline_audit(attempt, event, Some(key.device_id)))?;
                    return Ok(OfflineOutcome::Verified { device_id: key.device_id });
                }
            }
            let event = AuditEvent::OfflineCodeRejected;
            insert_audit(conn, &super::offline_audit(attempt, event, None))?;
            Ok(OfflineOutcome::Rejected)
        })
        .await
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
        self.write(|conn| {
            change(conn, "DELETE FROM device_nonces WHERE expires_at <= ?", [int(now)])?;
            let added = change(
                conn,
                "INSERT OR IGNORE INTO device_nonces (device_id, nonce, expires_at) \
                 VALUES (?, ?, ?)",
                (device_id.to_string(), nonce.as_slice(), int(expires_at)),
            )?;
            Ok(added == 1)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service named `name`, its key's hash all `key` bytes.
    fn service(id: Uuid, name: &str, key: u8) -> NewService {
        NewService { id, name: name.into(), key_hash: [key; 32], created_at: 1, expires_at: None }
    }

    /// Servers open their store inside spawned tasks (the device crate's tests do), which needs
    /// the future to be `Send`; a migration run on a `&mut` connection once made it not.
    #[test]
    fn opening_can_happen_in_a_spawned_task() {
        fn spawnable<T: Send>(_: &T) {}
        spawnable(&SqliteStore::open("sqlite::memory:"));
    }

    #[tokio::test]
    async fn a_database_others_could_read_is_made_private_when_opened() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let url = format!("sqlite://{}", path.display());
        drop(SqliteStore::open(&url).await.unwrap());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(SqliteStore::open(&url).await.unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    /// The sign-in's hot statements are planned once per connection: with a bare bound
    /// `LIMIT`, SQLite parsed and planned them again at every run.
    #[tokio::test]
    async fn the_sign_in_statements_are_not_planned_again_at_each_run() {
        use rusqlite::StatementStatus;
        use twofold_protocol::Mode;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let service_id = Uuid::new_v4();
        store.add_service(&service(service_id, "svc", 7)).await.unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for n in 0..3_u32 {
            let id = Uuid::new_v4();
            let signin = Signin {
                id,
                service_id,
                user: "ann".into(),
                ip,
                country: None,
                request_json: "{}".into(),
                digest: [0; 32],
                mode: Mode::Push,
                number: None,
                code: None,
                created_at: 100 + u64::from(n),
                expires_at: 200,
                stored_status: Status::Denied,
                decided_at: None,
                verified: false,
                code_attempts: 0,
            };
            let audit = NewAuditEntry {
                service_id,
                at: 100,
                user: "ann".into(),
                event: AuditEvent::SigninCreated,
                signin_id: Some(id),
                device_id: None,
                ip: Some(ip),
            };
            // The caps change at each run, as the limits' settings would between servers.
            let quota = SigninQuota { since: 0, per_user: 10 + n, per_address: 20 + n };
            assert!(store.add_signin(&signin, &audit, &quota).await.unwrap());
            let counted = store.activity(service_id, "ann", ip, None, 150, 0, 0, 5 + n).await;
            assert_eq!(counted.unwrap().recent_for_user, n + 1);
        }
        let planned_again = |conn: &Connection, sql: &str| {
            conn.prepare_cached(sql).unwrap().get_status(StatementStatus::RePrepare)
        };
        assert_eq!(planned_again(&*store.connections.writer.lock().await, ADD_SIGNIN), 0);
        assert_eq!(store.read(|conn| Ok(planned_again(conn, ACTIVITY))).await.unwrap(), 0);
    }

    /// The abuse rules' counts read only the index of a user's sign-ins, never the table, where
    /// each of the user's earlier sign-ins would be a page read of its own.
    #[tokio::test]
    async fn the_counts_read_only_the_index() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        let plan = store
            .read(|conn| {
                let unbound = rusqlite::params_from_iter([rusqlite::types::Null; 8]);
                all(conn, &format!("EXPLAIN QUERY PLAN {ACTIVITY}"), unbound, |row| {
                    row.text("detail")
                })
            })
            .await
            .unwrap();
        let user_scan: Vec<_> = plan.iter().filter(|step| step.contains("user=?")).collect();
        assert_eq!(user_scan.len(), 1, "{plan:?}");
        assert!(user_scan[0].contains("COVERING INDEX signins_by_user"), "{plan:?}");
    }

    /// Commits leave the WAL to the checkpoint thread, which copies it into the database file:
    /// no commit holds the writer through a checkpoint's file syncs.
    #[tokio::test]
    async fn the_wal_reaches_the_database_file_through_the_checkpoint_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap();
        let automatic: i64 = store
            .connections
            .writer
            .lock()
            .await
            .pragma_query_value(None, "wal_autocheckpoint", |row| row.get(0))
            .unwrap();
        assert_eq!(automatic, 0, "the writer checkpoints by itself");
        let before = std::fs::metadata(&path).unwrap().len();
        // Far fewer WAL pages than SQLite's automatic threshold (1 000): only the thread copies
        // them.
        for n in 0..250_u8 {
            store.add_service(&service(Uuid::new_v4(), &format!("service {n}"), n)).await.unwrap();
        }
        let copied = || std::fs::metadata(&path).unwrap().len() > before;
        for _ in 0..100 {
            if copied() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(copied(), "the database file is still {before} bytes");
    }

    /// A write waiting for the writer leaves its thread to other requests: on a one-thread
    /// runtime, the holder gets to run again and let it go. Were the wait blocking, that thread
    /// would wait for itself.
    #[test]
    fn a_write_waiting_for_the_writer_does_not_block_its_thread() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let store = SqliteStore::open(&url).await.unwrap();
                let held = store.connections.writer.lock().await;
                let waiting = store.clone();
                let writing = tokio::spawn(async move {
                    waiting.add_service(&service(Uuid::new_v4(), "svc", 7)).await
                });
                // The write starts and waits for the writer.
                tokio::task::yield_now().await;
                drop(held);
                writing.await.unwrap().unwrap();
                assert!(store.service_by_name("svc").await.unwrap().is_some());
            });
            done.send(()).unwrap();
        });
        finished
            .recv_timeout(Duration::from_secs(20))
            .expect("the waiting write blocked the thread holding the writer");
    }
}
