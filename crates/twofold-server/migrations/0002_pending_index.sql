-- Twofold server schema, version 2: the expiry sweep runs every second and looks only at pending
-- requests; without this index it scanned every sign-in ever made while holding the writer.
CREATE INDEX signins_pending ON signins(expires_at) WHERE status = 'pending';
