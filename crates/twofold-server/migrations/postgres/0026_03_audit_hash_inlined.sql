-- The audit hash's helpers were declared IMMUTABLE over convert_to, which PostgreSQL marks
-- STABLE (it reads the database's encoding). The planner inlines a SQL function only when its
-- body is no more volatile than its declaration, so these were not inlined: every audit entry
-- parsed and planned their bodies again, 13 % of PostgreSQL's CPU in the load bench (issue 25).
-- Declared STABLE, they are inlined into the callers' cached plans. The bytes are the same.
ALTER FUNCTION twofold_chain_text(TEXT) STABLE;
ALTER FUNCTION twofold_chain_optional(TEXT) STABLE;
ALTER FUNCTION twofold_audit_hash(BYTEA, TEXT, BIGINT, TEXT, TEXT, TEXT, TEXT, TEXT) STABLE;
