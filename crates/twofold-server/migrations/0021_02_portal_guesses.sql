-- Guesses at a portal user's recovery codes and app passwords (issue 21), counted for their
-- limits. A guess is recorded, as wrong, in the same transaction that counts the ones before it,
-- before it is checked; a right one is taken back. So guesses checked at once, on one instance or
-- several, never pass the limit together. Rows older than the limit's window are dropped as new
-- guesses come.
CREATE TABLE portal_guesses (
    id      TEXT PRIMARY KEY,
    user    TEXT NOT NULL,
    -- The audit event a wrong guess of this kind records: what the limit counts.
    kind    TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX portal_guesses_by_user ON portal_guesses(user, kind, at);
