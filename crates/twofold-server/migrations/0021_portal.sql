-- The sign-in portal (issue 21): its users, their recovery codes and app passwords, sign-ins in
-- progress in a browser, and browser sessions. Secrets (enrolment tokens, recovery codes, session
-- ids, attempt ids) are kept as SHA-256 hashes; app passwords as Argon2id PHC strings.

CREATE TABLE portal_users (
    name            TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    -- The one-time enrolment link's token; NULL once used.
    enrol_hash      BLOB UNIQUE,
    enrol_expires_at INTEGER
);

CREATE TABLE portal_recovery_codes (
    user        TEXT NOT NULL REFERENCES portal_users(name),
    code_hash   BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (user, code_hash)
);

CREATE TABLE portal_app_passwords (
    id          TEXT PRIMARY KEY,
    user        TEXT NOT NULL REFERENCES portal_users(name),
    name        TEXT NOT NULL,
    phc         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX portal_app_passwords_by_user ON portal_app_passwords(user);

-- A sign-in started in a browser and not yet turned into a session.
CREATE TABLE portal_attempts (
    id_hash     BLOB PRIMARY KEY,
    user        TEXT NOT NULL,
    domain      TEXT NOT NULL,
    return_url  TEXT NOT NULL,
    trust       INTEGER NOT NULL,
    -- NULL when no request went out (an unknown user, or one without devices).
    signin_id   TEXT,
    number      INTEGER,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE TABLE portal_sessions (
    id_hash     BLOB PRIMARY KEY,
    -- A handle that names the session on the account page (not a credential).
    handle      TEXT NOT NULL UNIQUE,
    user        TEXT NOT NULL,
    domain      TEXT NOT NULL,
    trusted     INTEGER NOT NULL,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    -- Seconds without use after which the session ends; NULL: only the absolute end applies.
    idle_secs   INTEGER,
    expires_at  INTEGER NOT NULL,
    ended_at    INTEGER
);
CREATE INDEX portal_sessions_by_user ON portal_sessions(user, expires_at);
