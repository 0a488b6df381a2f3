//! [`OidcStore`] on SQLite.

use super::{SqliteStore, all, change, conflict, one};
use crate::store::StoreError;
use crate::store::oidc::rows::{client_of, code_of, code_used, token_of, uris_text};
use crate::store::oidc::{AccessToken, AuthCode, Client, OidcStore, PURGE, Redeemed};
use crate::store::rows::int;

impl OidcStore for SqliteStore {
    async fn add_client(&self, client: &Client) -> Result<(), StoreError> {
        self.write(|conn| {
            change(
                conn,
                "INSERT INTO oidc_clients (id, name, secret_hash, redirect_uris, post_logout_uris, \
                 id_token_alg, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    &client.id,
                    &client.name,
                    client.secret_hash.as_ref().map(<[u8; 32]>::as_slice),
                    uris_text(&client.redirect_uris),
                    uris_text(&client.post_logout_uris),
                    &client.id_token_alg,
                    int(client.created_at),
                ),
            )
        })
        .await
        .map_err(|error| conflict(error, "a client with this name"))?;
        Ok(())
    }

    async fn client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        self.read(|conn| {
            one(conn, "SELECT * FROM oidc_clients WHERE id = ?", [id], |row| client_of(row))
        })
        .await
    }

    async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        self.read(|conn| {
            all(conn, "SELECT * FROM oidc_clients ORDER BY name", [], |row| client_of(row))
        })
        .await
    }

    async fn remove_client(&self, name: &str, now: u64) -> Result<bool, StoreError> {
        self.write(|conn| {
            let Some(id) = one(
                conn,
                "SELECT id FROM oidc_clients WHERE name = ? OR id = ?",
                [name, name],
                |row| Ok(row.get::<_, String>(0)?),
            )?
            else {
                return Ok(false);
            };
            change(
                conn,
                "UPDATE oidc_tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL",
                (int(now), &id),
            )?;
            change(conn, "DELETE FROM oidc_codes WHERE client_id = ?", [&id])?;
            change(conn, "DELETE FROM oidc_clients WHERE id = ?", [&id])?;
            Ok(true)
        })
        .await
    }

    async fn add_code(&self, code: &AuthCode) -> Result<(), StoreError> {
        self.write(|conn| {
            for purge in PURGE {
                change(conn, purge, [int(code.created_at)])?;
            }
            change(
                conn,
                "INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, user, scope, nonce, \
                 challenge, auth_time, amr, created_at, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    code.code_hash.as_slice(),
                    &code.client_id,
                    &code.redirect_uri,
                    &code.user,
                    &code.scope,
                    &code.nonce,
                    &code.challenge,
                    int(code.auth_time),
                    &code.amr,
                    int(code.created_at),
                    int(code.expires_at),
                ),
            )
        })
        .await?;
        Ok(())
    }

    async fn redeem_code(
        &self,
        code_hash: &[u8; 32],
        now: u64,
    ) -> Result<Option<Redeemed>, StoreError> {
        self.write(|conn| {
            let Some((code, used)) = one(
                conn,
                "SELECT * FROM oidc_codes WHERE code_hash = ?",
                [code_hash.as_slice()],
                |row| Ok((code_of(row)?, code_used(row)?)),
            )?
            else {
                return Ok(None);
            };
            if used {
                return Ok(Some(Redeemed::Again(code)));
            }
            change(
                conn,
                "UPDATE oidc_codes SET used_at = ? WHERE code_hash = ?",
                (int(now), code_hash.as_slice()),
            )?;
            Ok(Some(Redeemed::First(code)))
        })
        .await
    }

    async fn add_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        self.write(|conn| {
            change(
                conn,
                "INSERT INTO oidc_tokens (token_hash, code_hash, client_id, user, scope, \
                 created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    token.token_hash.as_slice(),
                    token.code_hash.as_slice(),
                    &token.client_id,
                    &token.user,
                    &token.scope,
                    int(token.created_at),
                    int(token.expires_at),
                ),
            )
        })
        .await?;
        Ok(())
    }

    async fn token(&self, token_hash: &[u8; 32]) -> Result<Option<AccessToken>, StoreError> {
        self.read(|conn| {
            one(
                conn,
                "SELECT * FROM oidc_tokens WHERE token_hash = ?",
                [token_hash.as_slice()],
                |row| token_of(row),
            )
        })
        .await
    }

    async fn revoke_code_tokens(&self, code_hash: &[u8; 32], now: u64) -> Result<u64, StoreError> {
        let changed = self.write(|conn| {
            change(
                conn,
                "UPDATE oidc_tokens SET revoked_at = ? WHERE code_hash = ? AND revoked_at IS NULL",
                (int(now), code_hash.as_slice()),
            )
        }).await?;
        Ok(changed as u64)
    }
}
