-- Twofold server schema, issue 25: the abuse rules' counts (store `ACTIVITY`) read every sign-in
-- of the user. Through an index of (service, user, time) alone, each counted row was fetched
-- from the table, where a user's rows lie one to a page among everyone's: at each sign-in, a
-- page read per earlier sign-in of that user. The index now holds every column the counts and
-- the sign-in's own limits read, so they read only its pages, where a user's rows lie together.
DROP INDEX signins_by_user;
CREATE INDEX signins_by_user
    ON signins(service_id, user, created_at, status, decided_at, expires_at, ip_key, country);
