//! Rows to values and back, shared by the SQLite and PostgreSQL stores: both keep the same
//! columns with the same meaning, so one set of conversions serves both.

use std::net::IpAddr;

use twofold_protocol::api::{AuditEntry, AuditEvent, Status};
use twofold_protocol::{Mode, PublicKey};
use uuid::Uuid;

use super::chain::AuditRecord;
use super::{Activity, Device, OfflineKey, Pairing, Service, Signin, StoreError};

/// Typed column reads of one row, whatever the database.
pub(super) trait Fields {
    /// A text column.
    fn text(&self, column: &str) -> Result<String, StoreError>;
    /// A nullable text column.
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    /// An integer column.
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    /// A nullable integer column.
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    /// A byte column.
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError>;
    /// A nullable byte column.
    fn opt_bytes(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// A boolean column.
    fn flag(&self, column: &str) -> Result<bool, StoreError>;
}

/// [`Fields`] for a sqlx row type.
#[cfg(feature = "postgres")]
macro_rules! fields {
    ($row:ty) => {
        impl $crate::store::rows::Fields for $row {
            fn text(&self, column: &str) -> Result<String, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn int(&self, column: &str) -> Result<i64, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn opt_bytes(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn flag(&self, column: &str) -> Result<bool, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
        }
    };
}
#[cfg(feature = "postgres")]
pub(super) use fields;

/// Database integers are signed; times and counters here are far below `i64::MAX`.
pub(super) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(super) fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(super) fn uuid(row: &impl Fields, column: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(&row.text(column)?).map_err(|_| StoreError::Corrupt { what: "id" })
}

pub(super) fn hash(row: &impl Fields, column: &str) -> Result<[u8; 32], StoreError> {
    let bytes = row.bytes(column)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| StoreError::Corrupt { what: "hash" })
}

pub(super) fn ip(text: &str) -> Result<IpAddr, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt { what: "address" })
}

pub(super) fn count(value: Option<i64>) -> u32 {
    value.and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
}

/// The abuse rules' counts from the row of either store's counts query; `devices` is counted
/// apart (SQLite remembers them).
pub(super) fn activity_of(row: &impl Fields, devices: u32) -> Result<Activity, StoreError> {
    // SQLite's SUM over no row is NULL: none.
    let counted = |column: &str| -> Result<u32, StoreError> { Ok(count(row.opt_int(column)?)) };
    Ok(Activity {
        devices,
        pending_from_address: counted("pending")?,
        recent_for_user: counted("recent")?,
        // Its own scan, capped: an address shared by many users must not widen the per-user one.
        recent_for_ip: counted("from_ip")?,
        recent_denials: counted("denials")?,
        recent_reports: counted("reports")?,
        ip_reported: counted("ip_reports")? > 0,
        allowed: counted("allowed")?,
        allowed_from_country: counted("allowed_here")?,
    })
}

pub(super) fn audit_of(row: &impl Fields) -> Result<AuditEntry, StoreError> {
    let optional_id = |column: &str| -> Result<Option<Uuid>, StoreError> {
        row.opt_text(column)?
            .map(|text| Uuid::parse_str(&text).map_err(|_| StoreError::Corrupt { what: "id" }))
            .transpose()
    };
    Ok(AuditEntry {
        seq: uint(row.int("seq")?),
        at: uint(row.int("at")?),
        user: row.text("user")?,
        event: AuditEvent::from_name(&row.text("event")?)
            .ok_or(StoreError::Corrupt { what: "audit event" })?,
        signin_id: optional_id("signin_id")?,
        device_id: optional_id("device_id")?,
        ip: row.opt_text("ip")?.as_deref().map(ip).transpose()?,
    })
}

pub(super) fn audit_record_of(row: &impl Fields) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: uint(row.int("seq")?),
        service_id: row.text("service_id")?,
        at: row.int("at")?,
        user: row.text("user")?,
        event: row.text("event")?,
        signin_id: row.opt_text("signin_id")?,
        device_id: row.opt_text("device_id")?,
        ip: row.opt_text("ip")?,
        hash: row.opt_bytes("hash")?,
    })
}

pub(super) fn status(text: &str) -> Result<Status, StoreError> {
    Ok(match text {
        "pending" => Status::Pending,
        "expired" => Status::Expired,
        "allowed" => Status::Allowed,
        "denied" => Status::Denied,
        "reported" => Status::Reported,
        "locked" => Status::Locked,
        _ => return Err(StoreError::Corrupt { what: "sign-in status" }),
    })
}

pub(super) fn mode(text: &str) -> Result<Mode, StoreError> {
    Ok(match text {
        "push" => Mode::Push,
        "number" => Mode::Number,
        "code" => Mode::Code,
        _ => return Err(StoreError::Corrupt { what: "sign-in mode" }),
    })
}

#[cfg(feature = "postgres")]
pub(super) fn conflict(error: sqlx::Error, what: &'static str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { what },
        _ => StoreError::Database(error),
    }
}

pub(super) fn service_of(row: &impl Fields) -> Result<Service, StoreError> {
    Ok(Service {
        id: uuid(row, "id")?,
        name: row.text("name")?,
        expires_at: row.opt_int("expires_at")?.map(uint),
        revoked: row.opt_int("revoked_at")?.is_some(),
    })
}

pub(super) fn pairing_of(row: &impl Fields) -> Result<Pairing, StoreError> {
    Ok(Pairing {
        token_hash: hash(row, "token_hash")?,
        service_id: uuid(row, "service_id")?,
        user: row.text("user")?,
        created_at: uint(row.int("created_at")?),
        expires_at: uint(row.int("expires_at")?),
        used_at: row.opt_int("used_at")?.map(uint),
    })
}

pub(super) fn device_of(row: &impl Fields) -> Result<Device, StoreError> {
    let key = hash(row, "public_key")?;
    Ok(Device {
        id: uuid(row, "id")?,
        service_id: uuid(row, "service_id")?,
        user: row.text("user")?,
        public_key: PublicKey::from_bytes(&key)
            .map_err(|_| StoreError::Corrupt { what: "device key" })?,
        name: row.text("name")?,
        paired_at: uint(row.int("paired_at")?),
        revoked: row.opt_int("revoked_at")?.is_some(),
    })
}

pub(super) fn signin_of(row: &impl Fields) -> Result<Signin, StoreError> {
    let number = row.opt_int("number")?;
    Ok(Signin {
        id: uuid(row, "id")?,
        service_id: uuid(row, "service_id")?,
        user: row.text("user")?,
        ip: ip(&row.text("ip")?)?,
        country: row.opt_text("country")?,
        request_json: row.text("request")?,
        digest: hash(row, "digest")?,
        mode: mode(&row.text("mode")?)?,
        number: number
            .map(u32::try_from)
            .transpose()
            .map_err(|_| StoreError::Corrupt { what: "number" })?,
        code: row.opt_text("code")?,
        created_at: uint(row.int("created_at")?),
        expires_at: uint(row.int("expires_at")?),
        stored_status: status(&row.text("status")?)?,
        decided_at: row.opt_int("decided_at")?.map(uint),
        verified: row.flag("verified")?,
        code_attempts: u32::try_from(row.int("code_attempts")?).unwrap_or(u32::MAX),
    })
}

/// The offline-code key of a device row (`id`, `offline_seed`, `offline_step`).
pub(super) fn offline_key_of(row: &impl Fields) -> Result<OfflineKey, StoreError> {
    Ok(OfflineKey {
        device_id: uuid(row, "id")?,
        sealed_seed: row.bytes("offline_seed")?,
        last_step: row.opt_int("offline_step")?.map(uint),
    })
}
