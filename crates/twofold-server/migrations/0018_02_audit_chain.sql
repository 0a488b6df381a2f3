-- Twofold server schema, issue 18: each audit entry keeps SHA-256 over the previous entry's hash
-- and its own columns (src/store/chain.rs), so that an edit or a deletion made past the triggers
-- shows (`twofold-server audit verify`). Entries from before have none.
ALTER TABLE audit ADD COLUMN hash BLOB;
