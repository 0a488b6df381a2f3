-- Twofold server schema for PostgreSQL, version 1: the same tables and meaning as the SQLite
-- schema (../0001_initial.sql), in PostgreSQL's types. Applied once; never edited.
-- Times are Unix seconds. Ids are UUID text. Secrets are stored as SHA-256 hashes only.

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    key_hash    BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);

CREATE TABLE pairings (
    token_hash  BYTEA PRIMARY KEY,
    service_id  TEXT NOT NULL REFERENCES services(id),
    "user"      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    service_id   TEXT NOT NULL REFERENCES services(id),
    "user"       TEXT NOT NULL,
    public_key   BYTEA NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    paired_at    BIGINT NOT NULL,
    revoked_at   BIGINT,
    offline_seed BYTEA NOT NULL,
    offline_step BIGINT,
    -- Insertion order, for "oldest first" among devices paired in the same second.
    seq          BIGSERIAL
);
CREATE INDEX devices_by_user ON devices(service_id, "user");

CREATE TABLE signins (
    id              TEXT PRIMARY KEY,
    service_id      TEXT NOT NULL REFERENCES services(id),
    "user"          TEXT NOT NULL,
    ip              TEXT NOT NULL,
    country         TEXT,
    request         TEXT NOT NULL,
    digest          BYTEA NOT NULL,
    mode            TEXT NOT NULL,
    number          BIGINT,
    code            TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    -- pending, expired, allowed, denied, reported or locked.
    status          TEXT NOT NULL,
    decided_at      BIGINT,
    decided_by      TEXT REFERENCES devices(id),
    verified        BOOLEAN NOT NULL DEFAULT FALSE,
    code_attempts   BIGINT NOT NULL DEFAULT 0,
    seq             BIGSERIAL
);
CREATE INDEX signins_by_user ON signins(service_id, "user", created_at);
CREATE INDEX signins_by_ip ON signins(service_id, ip, created_at);
-- The expiry sweep looks only at pending requests.
CREATE INDEX signins_pending ON signins(expires_at) WHERE status = 'pending';

CREATE TABLE device_nonces (
    device_id   TEXT NOT NULL,
    nonce       BYTEA NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
CREATE INDEX device_nonces_by_expiry ON device_nonces(expires_at);

CREATE TABLE audit (
    seq         BIGSERIAL PRIMARY KEY,
    service_id  TEXT NOT NULL,
    at          BIGINT NOT NULL,
    "user"      TEXT NOT NULL,
    event       TEXT NOT NULL,
    signin_id   TEXT,
    device_id   TEXT,
    ip          TEXT
);
CREATE INDEX audit_by_service ON audit(service_id, seq);
CREATE INDEX audit_by_user ON audit(service_id, "user", event, at);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
