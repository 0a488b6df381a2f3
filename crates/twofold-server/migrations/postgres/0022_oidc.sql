-- OpenID Connect (issue 22): clients registered by the administrator, authorization codes and
-- access tokens. Client secrets, codes and access tokens are kept as SHA-256 hashes (each is 256
-- bits of randomness).

CREATE TABLE oidc_clients (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    -- NULL: a public client (no secret; PKCE required).
    secret_hash     BYTEA,
    -- JSON arrays of exact URIs.
    redirect_uris   TEXT NOT NULL,
    post_logout_uris TEXT NOT NULL,
    id_token_alg    TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE oidc_codes (
    code_hash       BYTEA PRIMARY KEY,
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    "user"          TEXT NOT NULL,
    scope           TEXT NOT NULL,
    nonce           TEXT,
    -- PKCE S256 code_challenge; NULL when the client sent none.
    challenge       TEXT,
    auth_time       BIGINT NOT NULL,
    -- How the user proved it: space-separated amr values.
    amr             TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);

CREATE TABLE oidc_tokens (
    token_hash      BYTEA PRIMARY KEY,
    -- The code it was issued for: a replayed code revokes what it issued.
    code_hash       BYTEA NOT NULL,
    client_id       TEXT NOT NULL,
    "user"          TEXT NOT NULL,
    scope           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX oidc_tokens_by_code ON oidc_tokens(code_hash);

-- How a portal session was proved, for the ID token's amr: a recovery code rather than a device.
ALTER TABLE portal_sessions ADD COLUMN by_recovery_code BOOLEAN NOT NULL DEFAULT FALSE;
