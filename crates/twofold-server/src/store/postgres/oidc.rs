//! [`OidcStore`] on PostgreSQL.

use super::PgStore;
use crate::store::StoreError;
use crate::store::oidc::rows::{client_of, code_of, code_used, token_of, uris_text};
use crate::store::oidc::{AccessToken, AuthCode, Client, OidcStore, PURGE, Redeemed};
use crate::store::rows::{conflict, int};

impl OidcStore for PgStore {
    async fn add_client(&self, client: &Client) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oidc_clients (id, name, secret_hash, redirect_uris, post_logout_uris, \
             id_token_alg, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&client.id)
        .bind(&client.name)
        .bind(client.secret_hash.as_ref().map(<[u8; 32]>::as_slice))
        .bind(uris_text(&client.redirect_uris))
        .bind(uris_text(&client.post_logout_uris))
        .bind(&client.id_token_alg)
        .bind(int(client.created_at))
        .execute(&self.pool)
        .await
        .map_err(|error| conflict(error, "a client with this name"))?;
        Ok(())
    }

    async fn client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        sqlx::query("SELECT * FROM oidc_clients WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(client_of)
            .transpose()
    }

    async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        sqlx::query("SELECT * FROM oidc_clients ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(client_of)
            .collect()
    }

    async fn remove_client(&self, name: &str, now: u64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM oidc_clients WHERE name = $1 OR id = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(id) = id else { return Ok(false) };
        sqlx::query(
            "UPDATE oidc_tokens SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL",
        )
        .bind(int(now))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        for sql in [
            "DELETE FROM oidc_codes WHERE client_id = $1",
            "DELETE FROM oidc_clients WHERE id = $1",
        ] {
            sqlx::query(sql).bind(&id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn add_code(&self, code: &AuthCode) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for purge in PURGE {
            sqlx::query(purge).bind(int(code.created_at)).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, \"user\", scope, nonce, \
             challenge, auth_time, amr, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(code.code_hash.as_slice())
        .bind(&code.client_id)
        .bind(&code.redirect_uri)
        .bind(&code.user)
        .bind(&code.scope)
        .bind(&code.nonce)
        .bind(&code.challenge)
        .bind(int(code.auth_time))
        .bind(&code.amr)
        .bind(int(code.created_at))
        .bind(int(code.expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn redeem_code(
        &self,
        code_hash: &[u8; 32],
        now: u64,
    ) -> Result<Option<Redeemed>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The row stays locked until commit: of two redemptions at once, one sees it used.
        let Some(row) = sqlx::query("SELECT * FROM oidc_codes WHERE code_hash = $1 FOR UPDATE")
            .bind(code_hash.as_slice())
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let code = code_of(&row)?;
        if code_used(&row)? {
            return Ok(Some(Redeemed::Again(code)));
        }
        sqlx::query("UPDATE oidc_codes SET used_at = $1 WHERE code_hash = $2")
            .bind(int(now))
            .bind(code_hash.as_slice())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(Redeemed::First(code)))
    }

    async fn add_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oidc_tokens (token_hash, code_hash, client_id, \"user\", scope, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.token_hash.as_slice())
        .bind(token.code_hash.as_slice())
        .bind(&token.client_id)
        .bind(&token.user)
        .bind(&token.scope)
        .bind(int(token.created_at))
        .bind(int(token.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn token(&self, token_hash: &[u8; 32]) -> Result<Option<AccessToken>, StoreError> {
        sqlx::query("SELECT * FROM oidc_tokens WHERE token_hash = $1")
            .bind(token_hash.as_slice())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(token_of)
            .transpose()
    }

    async fn revoke_code_tokens(&self, code_hash: &[u8; 32], now: u64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_tokens SET revoked_at = $1 WHERE code_hash = $2 AND revoked_at IS NULL",
        )
        .bind(int(now))
        .bind(code_hash.as_slice())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
