-- A portal user's email address (issue 22: the ID token's and userinfo's `email` claim when the
-- `email` scope is asked); NULL when the administrator set none.
ALTER TABLE portal_users ADD COLUMN email TEXT;
