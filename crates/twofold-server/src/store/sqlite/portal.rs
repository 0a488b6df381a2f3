//! [`PortalStore`] on SQLite.

use rusqlite::Connection;
use uuid::Uuid;

use super::{SqliteStore, all, change, conflict, insert_audit, one};
use crate::store::portal::rows::{app_password_of, attempt_of, session_of, signed_in_of, user_of};
use crate::store::portal::{
    AppPassword, Attempt, Guess, NewPortalUser, PortalStore, PortalUser, SESSION_BY_ID, Session,
    SignedIn,
};
use crate::store::rows::{Fields as _, count, int};
use crate::store::{NewAuditEntry, StoreError};

/// Gives `user` exactly these recovery codes.
fn set_codes(
    conn: &Connection,
    user: &str,
    codes: &[[u8; 32]],
    now: u64,
) -> Result<(), StoreError> {
    change(conn, "DELETE FROM portal_recovery_codes WHERE user = ?", [user])?;
    for code in codes {
        change(
            conn,
            "INSERT INTO portal_recovery_codes (user, code_hash, created_at) VALUES (?, ?, ?)",
            (user, code.as_slice(), int(now)),
        )?;
    }
    Ok(())
}

impl PortalStore for SqliteStore {
    async fn reserve_guess(&self, guess: &Guess, since: u64, max: u32) -> Result<bool, StoreError> {
        let kind = guess.kind.as_str();
        // The one writer makes guesses take turns.
        self.write(|conn| {
            change(
                conn,
                "DELETE FROM portal_guesses WHERE user = ? AND kind = ? AND at <= ?",
                (&guess.user, kind, int(since)),
            )?;
            let wrong = one(
                conn,
                "SELECT COUNT(*) AS n FROM portal_guesses WHERE user = ? AND kind = ?",
                (&guess.user, kind),
                |row| row.opt_int("n"),
            )?;
            if count(wrong.flatten()) >= max {
                return Ok(false);
            }
            change(
                conn,
                "INSERT INTO portal_guesses (id, user, kind, at) VALUES (?, ?, ?, ?)",
                (guess.id.to_string(), &guess.user, kind, int(guess.at)),
            )?;
            Ok(true)
        })
        .await
    }

    async fn forgive_guess(&self, id: Uuid) -> Result<(), StoreError> {
        self.write(|conn| {
            change(conn, "DELETE FROM portal_guesses WHERE id = ?", [id.to_string()])
        })
        .await?;
        Ok(())
    }

    async fn add_portal_user(&self, new: &NewPortalUser) -> Result<(), StoreError> {
        let user = &new.user;
        self.write(|conn| {
            change(
                conn,
                "INSERT INTO portal_users \
                 (name, display_name, email, created_at, enrol_hash, enrol_expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
                (
                    &user.name,
                    &user.display_name,
                    user.email.as_deref(),
                    int(user.created_at),
                    new.enrol_hash.as_slice(),
                    user.enrol_expires_at.map(int),
                ),
            )
        })
        .await
        .map_err(|error| conflict(error, "a user with this name"))?;
        Ok(())
    }

    async fn set_portal_user_profile(
        &self,
        name: &str,
        display_name: &str,
        email: Option<&str>,
    ) -> Result<bool, StoreError> {
        let changed = self
            .write(|conn| {
                change(
                    conn,
                    "UPDATE portal_users SET display_name = ?, email = ? WHERE name = ?",
                    (display_name, email, name),
                )
            })
            .await?;
        Ok(changed == 1)
    }

    async fn portal_user(&self, name: &str) -> Result<Option<PortalUser>, StoreError> {
        self.read(|conn| {
            one(conn, "SELECT * FROM portal_users WHERE name = ?", [name], |row| user_of(row))
        })
        .await
    }

    async fn user_by_enrolment(
        &self,
        enrol_hash: &[u8; 32],
    ) -> Result<Option<PortalUser>, StoreError> {
        self.read(|conn| {
            one(
                conn,
                "SELECT * FROM portal_users WHERE enrol_hash = ?",
                [enrol_hash.as_slice()],
                |row| user_of(row),
            )
        })
        .await
    }

    async fn finish_enrolment(
        &self,
        enrol_hash: &[u8; 32],
        codes: &[[u8; 32]],
        now: u64,
    ) -> Result<bool, StoreError> {
        self.write(|conn| {
            let Some(name) = one(
                conn,
                "SELECT name FROM portal_users WHERE enrol_hash = ? AND enrol_expires_at > ?",
                (enrol_hash.as_slice(), int(now)),
                |row| Ok(row.get::<_, String>(0)?),
            )?
            else {
                return Ok(false);
            };
            change(
                conn,
                "UPDATE portal_users SET enrol_hash = NULL, enrol_expires_at = NULL WHERE name = ?",
                [&name],
            )?;
            set_codes(conn, &name, codes, now)?;
            Ok(true)
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        user: &str,
        codes: &[[u8; 32]],
        now: u64,
    ) -> Result<(), StoreError> {
        self.write(|conn| set_codes(conn, user, codes, now)).await
    }

    async fn recovery_codes_left(&self, user: &str) -> Result<u32, StoreError> {
        self.read(|conn| {
            one(
                conn,
                "SELECT count(*) FROM portal_recovery_codes WHERE user = ? AND used_at IS NULL",
                [user],
                |row| Ok(count(row.get(0)?)),
            )
        })
        .await
        .map(Option::unwrap_or_default)
    }

    async fn use_recovery_code(
        &self,
        user: &str,
        code_hash: &[u8; 32],
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.change_with_audit(
            "UPDATE portal_recovery_codes SET used_at = ? \
             WHERE user = ? AND code_hash = ? AND used_at IS NULL",
            (int(audit.at), user, code_hash.as_slice()),
            audit,
        )
        .await
    }

    async fn add_attempt(&self, attempt: &Attempt) -> Result<(), StoreError> {
        self.write(|conn| {
            change(
                conn,
                "INSERT INTO portal_attempts (id_hash, user, domain, return_url, trust, \
                 signin_id, number, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    attempt.id_hash.as_slice(),
                    &attempt.user,
                    &attempt.domain,
                    &attempt.return_url,
                    attempt.trust,
                    attempt.signin_id.map(|id| id.to_string()),
                    attempt.number,
                    int(attempt.created_at),
                    int(attempt.expires_at),
                ),
            )
        })
        .await?;
        Ok(())
    }

    async fn attempt(&self, id_hash: &[u8; 32]) -> Result<Option<Attempt>, StoreError> {
        self.read(|conn| {
            one(
                conn,
                "SELECT * FROM portal_attempts WHERE id_hash = ?",
                [id_hash.as_slice()],
                |row| attempt_of(row),
            )
        })
        .await
    }

    async fn start_session(
        &self,
        attempt_hash: Option<&[u8; 32]>,
        session: &Session,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.write(|conn| {
            if let Some(hash) = attempt_hash
                && change(
                    conn,
                    "UPDATE portal_attempts SET used_at = ?1 \
                     WHERE id_hash = ?2 AND used_at IS NULL AND expires_at > ?1",
                    (int(session.created_at), hash.as_slice()),
                )? != 1
            {
                return Ok(false);
            }
            change(
                conn,
                "INSERT INTO portal_sessions (id_hash, handle, user, domain, trusted, ip, \
                 user_agent, created_at, last_seen_at, idle_secs, expires_at, by_recovery_code) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session.id_hash.as_slice(),
                    session.handle.to_string(),
                    &session.user,
                    &session.domain,
                    session.trusted,
                    session.ip.to_string(),
                    &session.user_agent,
                    int(session.created_at),
                    int(session.last_seen_at),
                    session.idle_secs.map(int),
                    int(session.expires_at),
                    session.by_recovery_code,
                ),
            )?;
            insert_audit(conn, audit)?;
            Ok(true)
        })
        .await
    }

    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SignedIn>, StoreError> {
        self.read(|conn| one(conn, SESSION_BY_ID, [id_hash.as_slice()], |row| signed_in_of(row)))
            .await
    }

    async fn touch_session(&self, id_hash: &[u8; 32], now: u64) -> Result<(), StoreError> {
        self.write(|conn| {
            change(
                conn,
                "UPDATE portal_sessions SET last_seen_at = ?1 \
                 WHERE id_hash = ?2 AND last_seen_at < ?1",
                (int(now), id_hash.as_slice()),
            )
        })
        .await?;
        Ok(())
    }

    async fn sessions(&self, user: &str, now: u64) -> Result<Vec<Session>, StoreError> {
        self.read(|conn| {
            all(
                conn,
                "SELECT * FROM portal_sessions \
                 WHERE user = ? AND expires_at > ? AND ended_at IS NULL \
                 ORDER BY created_at DESC",
                (user, int(now)),
                |row| session_of(row),
            )
        })
        .await
    }

    async fn end_session(
        &self,
        user: &str,
        handle: Uuid,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.change_with_audit(
            "UPDATE portal_sessions SET ended_at = ? \
             WHERE user = ? AND handle = ? AND ended_at IS NULL",
            (int(audit.at), user, handle.to_string()),
            audit,
        )
        .await
    }

    async fn add_app_password(&self, password: &AppPassword) -> Result<(), StoreError> {
        self.write(|conn| {
            change(
                conn,
                "INSERT INTO portal_app_passwords (id, user, name, phc, created_at) \
                 VALUES (?, ?, ?, ?, ?)",
                (
                    password.id.to_string(),
                    &password.user,
                    &password.name,
                    &password.phc,
                    int(password.created_at),
                ),
            )
        })
        .await?;
        Ok(())
    }

    async fn app_passwords(&self, user: &str) -> Result<Vec<AppPassword>, StoreError> {
        self.read(|conn| {
            all(
                conn,
                "SELECT * FROM portal_app_passwords WHERE user = ? AND revoked_at IS NULL \
                 ORDER BY created_at, id",
                [user],
                |row| app_password_of(row),
            )
        })
        .await
    }

    async fn revoke_app_password(
        &self,
        user: &str,
        id: Uuid,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.write(|conn| {
            change(
                conn,
                "UPDATE portal_app_passwords SET revoked_at = ? \
                 WHERE user = ? AND id = ? AND revoked_at IS NULL",
                (int(now), user, id.to_string()),
            )
        })
        .await
        .map(|changed| changed == 1)
    }

    async fn use_app_password(&self, id: Uuid, audit: &NewAuditEntry) -> Result<bool, StoreError> {
        self.change_with_audit(
            "UPDATE portal_app_passwords SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL",
            (int(audit.at), id.to_string()),
            audit,
        )
        .await
    }
}
