//! What the OpenID Connect provider keeps (issue 22): registered clients, authorization codes
//! and access tokens. Client secrets, codes and tokens are stored as SHA-256 hashes (each is 256
//! bits of randomness); the users, sessions and audit log are the portal's.

use std::future::Future;

use super::StoreError;
use super::portal::PortalStore;

pub use twofold_oidc::{AuthCode, Client};

/// An access token (for the userinfo endpoint), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// SHA-256 of the token.
    pub token_hash: [u8; 32],
    /// The code it was issued for.
    pub code_hash: [u8; 32],
    /// The client.
    pub client_id: String,
    /// The user.
    pub user: String,
    /// The scopes, space-separated.
    pub scope: String,
    /// When it was issued.
    pub created_at: u64,
    /// When it stops working.
    pub expires_at: u64,
    /// When it was revoked.
    pub revoked_at: Option<u64>,
}

/// A code redeemed: the first time, or again (a replay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The first redemption: the code is now used.
    First(AuthCode),
    /// The code had been used before.
    Again(AuthCode),
}

/// What [`OidcStore::add_code`] deletes, given the time as `$1` (both stores' syntax): the
/// tokens expired by then, then the codes expired by then that no token remains of.
pub(super) const PURGE: [&str; 2] = [
    "DELETE FROM oidc_tokens WHERE expires_at <= $1",
    "DELETE FROM oidc_codes WHERE expires_at <= $1 AND NOT EXISTS \
     (SELECT 1 FROM oidc_tokens t WHERE t.code_hash = oidc_codes.code_hash)",
];

/// The provider's storage, beside the portal's it builds on.
pub trait OidcStore: PortalStore {
    /// Registers a client; [`StoreError::Conflict`] if the name is taken.
    fn add_client(&self, client: &Client) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The client with this `client_id`.
    fn client(&self, id: &str) -> impl Future<Output = Result<Option<Client>, StoreError>> + Send;

    /// Every client, by name.
    fn clients(&self) -> impl Future<Output = Result<Vec<Client>, StoreError>> + Send;

    /// Removes the client named `name` (or with this id) and revokes its tokens; false if none.
    fn remove_client(
        &self,
        name: &str,
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Stores a new code, and deletes the access tokens expired at its `created_at` and the
    /// codes expired then with no token still live (a code is kept while its tokens live, so
    /// that presenting it again still revokes them).
    fn add_code(&self, code: &AuthCode) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks the code used at `now` in one write: the first redemption, a repeated one, or
    /// `None` for no such code.
    fn redeem_code(
        &self,
        code_hash: &[u8; 32],
        now: u64,
    ) -> impl Future<Output = Result<Option<Redeemed>, StoreError>> + Send;

    /// Stores an access token.
    fn add_token(&self, token: &AccessToken)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The access token with this hash.
    fn token(
        &self,
        token_hash: &[u8; 32],
    ) -> impl Future<Output = Result<Option<AccessToken>, StoreError>> + Send;

    /// Revokes every token issued for the code; how many were live.
    fn revoke_code_tokens(
        &self,
        code_hash: &[u8; 32],
        now: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Rows to values, shared by both stores.
pub(super) mod rows {
    use super::super::rows::{Fields, hash, uint};
    use super::{AccessToken, AuthCode, Client, StoreError};

    fn uris(row: &impl Fields, column: &str) -> Result<Vec<String>, StoreError> {
        serde_json::from_str(&row.text(column)?).map_err(|_| StoreError::Corrupt { what: "uris" })
    }

    /// A list of URIs as stored.
    pub(in crate::store) fn uris_text(uris: &[String]) -> String {
        serde_json::Value::from(uris).to_string()
    }

    /// An `oidc_clients` row.
    pub(in crate::store) fn client_of(row: &impl Fields) -> Result<Client, StoreError> {
        let secret_hash = row
            .opt_bytes("secret_hash")?
            .map(|bytes| bytes.try_into().map_err(|_| StoreError::Corrupt { what: "hash" }))
            .transpose()?;
        Ok(Client {
            id: row.text("id")?,
            name: row.text("name")?,
            secret_hash,
            redirect_uris: uris(row, "redirect_uris")?,
            post_logout_uris: uris(row, "post_logout_uris")?,
            id_token_alg: row.text("id_token_alg")?,
            created_at: uint(row.int("created_at")?),
        })
    }

    /// An `oidc_codes` row.
    pub(in crate::store) fn code_of(row: &impl Fields) -> Result<AuthCode, StoreError> {
        Ok(AuthCode {
            code_hash: hash(row, "code_hash")?,
            client_id: row.text("client_id")?,
            redirect_uri: row.text("redirect_uri")?,
            user: row.text("user")?,
            scope: row.text("scope")?,
            nonce: row.opt_text("nonce")?,
            challenge: row.opt_text("challenge")?,
            auth_time: uint(row.int("auth_time")?),
            amr: row.text("amr")?,
            created_at: uint(row.int("created_at")?),
            expires_at: uint(row.int("expires_at")?),
        })
    }

    /// Whether an `oidc_codes` row had been used before.
    pub(in crate::store) fn code_used(row: &impl Fields) -> Result<bool, StoreError> {
        Ok(row.opt_int("used_at")?.is_some())
    }

    /// An `oidc_tokens` row.
    pub(in crate::store) fn token_of(row: &impl Fields) -> Result<AccessToken, StoreError> {
        Ok(AccessToken {
            token_hash: hash(row, "token_hash")?,
            code_hash: hash(row, "code_hash")?,
            client_id: row.text("client_id")?,
            user: row.text("user")?,
            scope: row.text("scope")?,
            created_at: uint(row.int("created_at")?),
            expires_at: uint(row.int("expires_at")?),
            revoked_at: row.opt_int("revoked_at")?.map(uint),
        })
    }
}
