-- Twofold server schema, issue 25: audit entries are chained and appended inside PostgreSQL, and
-- a sign-in is checked against its limits and stored in one call, so the locks every writer of
-- every instance waits for are held for no network round trip (before: three, each a wait
-- for the server's turn on a busy machine).
--
-- twofold_audit_hash is src/store/chain.rs's link_hash, byte for byte: "twofold audit v1", the
-- previous hash, then each text as its UTF-8 length (8 bytes, big-endian) and bytes, `at` as 8
-- bytes big-endian, and each optional text after a 0 (absent) or 1 (present) byte.

CREATE FUNCTION twofold_chain_text(value TEXT) RETURNS BYTEA
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT int8send(octet_length(convert_to(value, 'UTF8'))::BIGINT) || convert_to(value, 'UTF8') $$;

CREATE FUNCTION twofold_chain_optional(value TEXT) RETURNS BYTEA
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN value IS NULL THEN '\x00'::BYTEA
               ELSE '\x01'::BYTEA || twofold_chain_text(value) END $$;

CREATE FUNCTION twofold_audit_hash(p_previous BYTEA, p_service_id TEXT, p_at BIGINT,
                                   p_user TEXT, p_event TEXT, p_signin_id TEXT,
                                   p_device_id TEXT, p_ip TEXT)
RETURNS BYTEA LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT sha256(convert_to('twofold audit v1', 'UTF8')
                 -- The genesis hash after none, or after an entry from before the chain.
                 || CASE WHEN octet_length(p_previous) = 32 THEN p_previous
                         ELSE '\x0000000000000000000000000000000000000000000000000000000000000000'::BYTEA END
                 || twofold_chain_text(p_service_id) || int8send(p_at) || twofold_chain_text(p_user)
                 || twofold_chain_text(p_event) || twofold_chain_optional(p_signin_id)
                 || twofold_chain_optional(p_device_id) || twofold_chain_optional(p_ip)) $$;

-- Appends an entry chained to the last one. Writers take turns (a transaction-scoped lock, the
-- same key as before) so sequence numbers become visible in order and each hash follows the
-- one committed before it; each statement of a volatile function reads afresh, so the read
-- after the lock sees the entry of the writer before.
CREATE FUNCTION twofold_append_audit(a_service_id TEXT, a_at BIGINT, a_user TEXT, a_event TEXT,
                                     a_signin_id TEXT, a_device_id TEXT, a_ip TEXT)
RETURNS VOID LANGUAGE plpgsql AS
$$
DECLARE
    previous BYTEA;
BEGIN
    PERFORM pg_advisory_xact_lock(7020);
    SELECT hash INTO previous FROM audit ORDER BY seq DESC LIMIT 1;
    INSERT INTO audit (service_id, at, "user", event, signin_id, device_id, ip, hash)
    VALUES (a_service_id, a_at, a_user, a_event, a_signin_id, a_device_id, a_ip,
            twofold_audit_hash(previous, a_service_id, a_at, a_user, a_event, a_signin_id,
                               a_device_id, a_ip));
END
$$;

-- Stores a sign-in if the user's and the address's counts in the window leave room and, for a
-- pending one, no other is pending for the user from the address, appends its audit entry and
-- sends `notice` on `channel`.
-- Sign-ins of one user, and from one address, take turns until commit (user first, then
-- address, then the audit lock: no two callers wait on each other), so each count sees the
-- others' rows.
CREATE FUNCTION twofold_add_signin(
    s_id TEXT, s_service_id TEXT, s_user TEXT, s_ip TEXT, s_country TEXT, s_request TEXT,
    s_digest BYTEA, s_mode TEXT, s_number BIGINT, s_code TEXT, s_created_at BIGINT,
    s_expires_at BIGINT, s_status TEXT, s_decided_at BIGINT, s_verified BOOLEAN,
    s_code_attempts BIGINT, s_ip_key TEXT,
    since BIGINT, per_user BIGINT, per_address BIGINT,
    a_service_id TEXT, a_at BIGINT, a_user TEXT, a_event TEXT, a_signin_id TEXT,
    a_device_id TEXT, a_ip TEXT, channel TEXT, notice TEXT)
RETURNS BOOLEAN LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('user/' || s_service_id || '/' || s_user, 0));
    PERFORM pg_advisory_xact_lock(hashtextextended('address/' || s_service_id || '/' || s_ip_key, 0));
    INSERT INTO signins (id, service_id, "user", ip, country, request, digest, mode, number, code,
                         created_at, expires_at, status, decided_at, verified, code_attempts,
                         ip_key)
    SELECT s_id, s_service_id, s_user, s_ip, s_country, s_request, s_digest, s_mode, s_number,
           s_code, s_created_at, s_expires_at, s_status, s_decided_at, s_verified, s_code_attempts,
           s_ip_key
    WHERE (SELECT COUNT(*) FROM signins
           WHERE service_id = s_service_id AND "user" = s_user AND created_at > since) < per_user
      AND (SELECT COUNT(*) FROM (SELECT 1 FROM signins WHERE service_id = s_service_id
             AND ip_key = s_ip_key AND created_at > since LIMIT per_address) AS capped) < per_address
      AND (s_status <> 'pending' OR NOT EXISTS (SELECT 1 FROM signins
             WHERE service_id = s_service_id AND "user" = s_user AND ip_key = s_ip_key
               AND status = 'pending' AND expires_at > s_created_at));
    IF NOT FOUND THEN
        RETURN FALSE;
    END IF;
    PERFORM twofold_append_audit(a_service_id, a_at, a_user, a_event, a_signin_id, a_device_id, a_ip);
    -- Told to the other instances at commit (none for a request that waits for no device).
    IF notice IS NOT NULL THEN
        PERFORM pg_notify(channel, notice);
    END IF;
    RETURN TRUE;
END
$$;
