//! [`PortalStore`] on PostgreSQL.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{PgStore, insert_audit, take_turns};
use crate::store::portal::rows::{app_password_of, attempt_of, session_of, signed_in_of, user_of};
use crate::store::portal::{
    AppPassword, Attempt, Guess, NewPortalUser, PortalStore, PortalUser, SESSION_BY_ID, Session,
    SignedIn,
};
use crate::store::rows::{conflict, count, int};
use crate::store::{NewAuditEntry, StoreError};

/// Gives `user` exactly these recovery codes.
async fn set_codes(
    conn: &mut PgConnection,
    user: &str,
    codes: &[[u8; 32]],
    now: u64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM portal_recovery_codes WHERE \"user\" = $1")
        .bind(user)
        .execute(&mut *conn)
        .await?;
    for code in codes {
        sqlx::query(
            "INSERT INTO portal_recovery_codes (\"user\", code_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user)
        .bind(code.as_slice())
        .bind(int(now))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl PgStore {
    /// Runs `query` (one changed row or none) and, if it changed a row, appends `audit`, in one
    /// transaction; whether it changed a row.
    async fn change_with_audit(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = query.execute(&mut *tx).await?.rows_affected() == 1;
        if changed {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }
}

impl PortalStore for PgStore {
    async fn reserve_guess(&self, guess: &Guess, since: u64, max: u32) -> Result<bool, StoreError> {
        let kind = guess.kind.as_str();
        let mut tx = self.pool.begin().await?;
        // Guesses for one user take turns, on every instance: each counts those before it.
        take_turns(&mut tx, "guess", &format!("{kind}/{}", guess.user)).await?;
        sqlx::query("DELETE FROM portal_guesses WHERE \"user\" = $1 AND kind = $2 AND at <= $3")
            .bind(&guess.user)
            .bind(kind)
            .bind(int(since))
            .execute(&mut *tx)
            .await?;
        let wrong: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM portal_guesses WHERE \"user\" = $1 AND kind = $2",
        )
        .bind(&guess.user)
        .bind(kind)
        .fetch_one(&mut *tx)
        .await?;
        if count(Some(wrong)) >= max {
            return Ok(false);
        }
        sqlx::query("INSERT INTO portal_guesses (id, \"user\", kind, at) VALUES ($1, $2, $3, $4)")
            .bind(guess.id.to_string())
            .bind(&guess.user)
            .bind(kind)
            .bind(int(guess.at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn forgive_guess(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM portal_guesses WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn add_portal_user(&self, new: &NewPortalUser) -> Result<(), StoreError> {
        let user = &new.user;
        sqlx::query(
            "INSERT INTO portal_users \
             (name, display_name, email, created_at, enrol_hash, enrol_expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&user.name)
        .bind(&user.display_name)
        .bind(user.email.as_deref())
        .bind(int(user.created_at))
        .bind(new.enrol_hash.as_slice())
        .bind(user.enrol_expires_at.map(int))
        .execute(&self.pool)
        .await
        .map_err(|e| conflict(e, "a user with this name"))?;
        Ok(())
    }

    async fn set_portal_user_profile(
        &self,
        name: &str,
        display_name: &str,
        email: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE portal_users SET display_name = $1, email = $2 WHERE name = $3")
                .bind(display_name)
                .bind(email)
                .bind(name)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn portal_user(&self, name: &str) -> Result<Option<PortalUser>, StoreError> {
        sqlx::query("SELECT * FROM portal_users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_of)
            .transpose()
    }

    async fn user_by_enrolment(
        &self,
        enrol_hash: &[u8; 32],
    ) -> Result<Option<PortalUser>, StoreError> {
        sqlx::query("SELECT * FROM portal_users WHERE enrol_hash = $1")
            .bind(enrol_hash.as_slice())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_of)
            .transpose()
    }

    async fn finish_enrolment(
        &self,
        enrol_hash: &[u8; 32],
        codes: &[[u8; 32]],
        now: u64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let name: Option<String> = sqlx::query_scalar(
            "UPDATE portal_users SET enrol_hash = NULL, enrol_expires_at = NULL \
             WHERE enrol_hash = $1 AND enrol_expires_at > $2 RETURNING name",
        )
        .bind(enrol_hash.as_slice())
        .bind(int(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(name) = name else {
            return Ok(false);
        };
        set_codes(&mut tx, &name, codes, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn replace_recovery_codes(
        &self,
        user: &str,
        codes: &[[u8; 32]],
        now: u64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        set_codes(&mut tx, user, codes, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn recovery_codes_left(&self, user: &str) -> Result<u32, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM portal_recovery_codes WHERE \"user\" = $1 AND used_at IS NULL",
        )
        .bind(user)
        .fetch_one(&self.pool)
        .await?;
        Ok(count(Some(n)))
    }

    async fn use_recovery_code(
        &self,
        user: &str,
        code_hash: &[u8; 32],
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.change_with_audit(
            sqlx::query(
                "UPDATE portal_recovery_codes SET used_at = $1 \
                 WHERE \"user\" = $2 AND code_hash = $3 AND used_at IS NULL",
            )
            .bind(int(audit.at))
            .bind(user)
            .bind(code_hash.as_slice()),
            audit,
        )
        .await
    }

    async fn add_attempt(&self, attempt: &Attempt) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO portal_attempts (id_hash, \"user\", domain, return_url, trust, \
             signin_id, number, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(attempt.id_hash.as_slice())
        .bind(&attempt.user)
        .bind(&attempt.domain)
        .bind(&attempt.return_url)
        .bind(attempt.trust)
        .bind(attempt.signin_id.map(|id| id.to_string()))
        .bind(attempt.number.map(i64::from))
        .bind(int(attempt.created_at))
        .bind(int(attempt.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn attempt(&self, id_hash: &[u8; 32]) -> Result<Option<Attempt>, StoreError> {
        sqlx::query("SELECT * FROM portal_attempts WHERE id_hash = $1")
            .bind(id_hash.as_slice())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(attempt_of)
            .transpose()
    }

    async fn start_session(
        &self,
        attempt_hash: Option<&[u8; 32]>,
        session: &Session,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(hash) = attempt_hash {
            let used = sqlx::query(
                "UPDATE portal_attempts SET used_at = $1 \
                 WHERE id_hash = $2 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(int(session.created_at))
            .bind(hash.as_slice())
            .execute(&mut *tx)
            .await?;
            if used.rows_affected() != 1 {
                return Ok(false);
            }
        }
        sqlx::query(
            "INSERT INTO portal_sessions (id_hash, handle, \"user\", domain, trusted, ip, \
             user_agent, created_at, last_seen_at, idle_secs, expires_at, by_recovery_code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(session.id_hash.as_slice())
        .bind(session.handle.to_string())
        .bind(&session.user)
        .bind(&session.domain)
        .bind(session.trusted)
        .bind(session.ip.to_string())
        .bind(&session.user_agent)
        .bind(int(session.created_at))
        .bind(int(session.last_seen_at))
        .bind(session.idle_secs.map(int))
        .bind(int(session.expires_at))
        .bind(session.by_recovery_code)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SignedIn>, StoreError> {
        sqlx::query(SESSION_BY_ID)
            .bind(id_hash.as_slice())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(signed_in_of)
            .transpose()
    }

    async fn touch_session(&self, id_hash: &[u8; 32], now: u64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE portal_sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at < $1",
        )
        .bind(int(now))
        .bind(id_hash.as_slice())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn sessions(&self, user: &str, now: u64) -> Result<Vec<Session>, StoreError> {
        sqlx::query(
            "SELECT * FROM portal_sessions WHERE \"user\" = $1 AND expires_at > $2 \
             AND ended_at IS NULL ORDER BY created_at DESC",
        )
        .bind(user)
        .bind(int(now))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(session_of)
        .collect()
    }

    async fn end_session(
        &self,
        user: &str,
        handle: Uuid,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.change_with_audit(
            sqlx::query(
                "UPDATE portal_sessions SET ended_at = $1 \
                 WHERE \"user\" = $2 AND handle = $3 AND ended_at IS NULL",
            )
            .bind(int(audit.at))
            .bind(user)
            .bind(handle.to_string()),
            audit,
        )
        .await
    }

    async fn add_app_password(&self, password: &AppPassword) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO portal_app_passwords (id, \"user\", name, phc, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(password.id.to_string())
        .bind(&password.user)
        .bind(&password.name)
        .bind(&password.phc)
        .bind(int(password.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn app_passwords(&self, user: &str) -> Result<Vec<AppPassword>, StoreError> {
        sqlx::query(
            "SELECT * FROM portal_app_passwords WHERE \"user\" = $1 AND revoked_at IS NULL \
             ORDER BY created_at, id",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(app_password_of)
        .collect()
    }

    async fn revoke_app_password(
        &self,
        user: &str,
        id: Uuid,
        now: u64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE portal_app_passwords SET revoked_at = $1 \
             WHERE \"user\" = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(int(now))
        .bind(user)
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_app_password(&self, id: Uuid, audit: &NewAuditEntry) -> Result<bool, StoreError> {
        self.change_with_audit(
            sqlx::query(
                "UPDATE portal_app_passwords SET last_used_at = $1 \
                 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(int(audit.at))
            .bind(id.to_string()),
            audit,
        )
        .await
    }
}
