-- Expired authorization codes and access tokens are deleted as new codes are issued (issue 22):
-- by their expiry.
CREATE INDEX oidc_codes_by_expiry ON oidc_codes(expires_at);
CREATE INDEX oidc_tokens_by_expiry ON oidc_tokens(expires_at);
