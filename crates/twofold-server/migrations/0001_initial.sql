-- Twofold server schema, version 1. Applied once; never edited: later changes get new files.
-- Times are Unix seconds. Ids are UUID text. Secrets (API keys, pairing tokens) are stored as
-- SHA-256 hashes only.

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    key_hash    BLOB NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
);

CREATE TABLE pairings (
    token_hash  BLOB PRIMARY KEY,
    service_id  TEXT NOT NULL REFERENCES services(id),
    user        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    service_id  TEXT NOT NULL REFERENCES services(id),
    user        TEXT NOT NULL,
    public_key  BLOB NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    paired_at   INTEGER NOT NULL,
    revoked_at  INTEGER,
    -- Seed of the device's offline codes (TOTP): the server must hold it to verify them.
    offline_seed BLOB NOT NULL,
    -- The last time step whose offline code was accepted: each code works once.
    offline_step INTEGER
);
CREATE INDEX devices_by_user ON devices(service_id, user);

CREATE TABLE signins (
    id              TEXT PRIMARY KEY,
    service_id      TEXT NOT NULL REFERENCES services(id),
    user            TEXT NOT NULL,
    ip              TEXT NOT NULL,
    -- ISO country code of the address, when GeoIP knows it.
    country         TEXT,
    -- The server-signed request as JSON, sent to devices byte for byte.
    request         TEXT NOT NULL,
    digest          BLOB NOT NULL,
    mode            TEXT NOT NULL,
    number          INTEGER,
    code            TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    -- pending, allowed, denied, reported or locked; "expired" is pending past expires_at.
    status          TEXT NOT NULL,
    decided_at      INTEGER,
    decided_by      TEXT REFERENCES devices(id),
    verified        INTEGER NOT NULL DEFAULT 0,
    code_attempts   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX signins_by_user ON signins(service_id, user, created_at);
CREATE INDEX signins_by_ip ON signins(service_id, ip, created_at);

-- Nonces of device authentications, kept until they could no longer pass the freshness check.
CREATE TABLE device_nonces (
    device_id   TEXT NOT NULL,
    nonce       BLOB NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
CREATE INDEX device_nonces_by_expiry ON device_nonces(expires_at);

-- What happened, for the service to read: append-only (the triggers refuse changes).
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id  TEXT NOT NULL,
    at          INTEGER NOT NULL,
    user        TEXT NOT NULL,
    event       TEXT NOT NULL,
    signin_id   TEXT,
    device_id   TEXT,
    ip          TEXT
);
CREATE INDEX audit_by_service ON audit(service_id, seq);
CREATE INDEX audit_by_user ON audit(service_id, user, event, at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
