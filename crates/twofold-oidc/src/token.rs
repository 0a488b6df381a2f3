//! The token request: how it names its client, and what redeeming a code must prove about it
//! (its client, redirect URI, PKCE verifier, age).

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::pkce;

/// An authorization code issued to a client, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    /// SHA-256 of the code.
    pub code_hash: [u8; 32],
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request (the token request must repeat it).
    pub redirect_uri: String,
    /// The signed-in user.
    pub user: String,
    /// The scopes granted, space-separated.
    pub scope: String,
    /// The client's `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
    /// The PKCE S256 `code_challenge`.
    pub challenge: Option<String>,
    /// When the user signed in (the session's start).
    pub auth_time: u64,
    /// How the user proved it (`amr` values, space-separated).
    pub amr: String,
    /// When it was issued.
    pub created_at: u64,
    /// When it stops being redeemable.
    pub expires_at: u64,
}

/// The token request's form (RFC 6749 4.1.3), as sent. Its Debug shows whether the code, the
/// verifier and the secret were sent, never what they are.
#[derive(Default, Deserialize)]
pub struct TokenForm {
    /// Must be `authorization_code`.
    pub grant_type: Option<String>,
    /// The code.
    pub code: Option<Zeroizing<String>>,
    /// The authorization request's redirect URI, repeated.
    pub redirect_uri: Option<String>,
    /// The PKCE verifier.
    pub code_verifier: Option<String>,
    /// The client (`client_secret_post`, or a public client).
    pub client_id: Option<String>,
    /// The client's secret (`client_secret_post`).
    pub client_secret: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for TokenForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sent = |value: bool| if value { "(sent)" } else { "(none)" };
        f.debug_struct("TokenForm")
            .field("grant_type", &self.grant_type)
            .field("code", &sent(self.code.is_some()))
            .field("redirect_uri", &self.redirect_uri)
            .field("code_verifier", &sent(self.code_verifier.is_some()))
            .field("client_id", &self.client_id)
            .field("client_secret", &sent(self.client_secret.is_some()))
            .finish()
    }
}

/// Why a token request names no client to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// Neither HTTP Basic nor `client_id` in the form.
    #[error("client authentication is missing")]
    Missing,
    /// Both HTTP Basic and `client_secret` in the form (RFC 6749 2.3: one method only).
    #[error("use one client authentication method")]
    Twice,
}

/// The client id and secret (none for a public client) of a token request: from its
/// `Authorization` header's HTTP Basic (`client_secret_basic`, each part form-urlencoded, RFC
/// 6749 2.3.1) or its form (`client_secret_post`). A header that is not usable Basic counts as
/// absent, so the client then fails to authenticate rather than being told why.
pub fn client_credentials(
    authorization: Option<&str>,
    form: &TokenForm,
) -> Result<(String, Option<Zeroizing<String>>), CredentialsError> {
    match (authorization.and_then(basic_client), &form.client_secret) {
        (Some(_), Some(_)) => Err(CredentialsError::Twice),
        (Some((id, secret)), None) => Ok((id, Some(secret))),
        (None, secret) => match &form.client_id {
            Some(id) => Ok((id.clone(), secret.clone())),
            None => Err(CredentialsError::Missing),
        },
    }
}

/// `client_id:client_secret` of an HTTP Basic `Authorization` value.
fn basic_client(authorization: &str) -> Option<(String, Zeroizing<String>)> {
    let encoded = authorization.strip_prefix("Basic ")?;
    let decoded = Zeroizing::new(data_encoding::BASE64.decode(encoded.trim().as_bytes()).ok()?);
    let text = std::str::from_utf8(&decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    Some((decode(id)?, Zeroizing::new(decode(secret)?)))
}

/// Seconds an authorization code may be redeemed after it is issued.
pub const CODE_LIFETIME_SECS: u64 = 60;

/// Why a code cannot be redeemed (all are `invalid_grant` to the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// Issued to another client.
    #[error("the code was issued to another client")]
    OtherClient,
    /// The redirect URI differs from the authorization request's.
    #[error("redirect_uri differs from the authorization request's")]
    OtherRedirect,
    /// Past its lifetime.
    #[error("the code has expired")]
    Expired,
    /// The PKCE verifier is missing or does not match.
    #[error("code_verifier is missing or does not match the code_challenge")]
    Verifier,
    /// A verifier was sent for a code issued without a challenge.
    #[error("code_verifier sent for a code issued without code_challenge")]
    UnexpectedVerifier,
}

/// Checks a first redemption of `code` by `client_id` at `now`.
pub fn check_grant(
    code: &AuthCode,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: u64,
) -> Result<(), GrantError> {
    if code.client_id != client_id {
        return Err(GrantError::OtherClient);
    }
    if now >= code.expires_at {
        return Err(GrantError::Expired);
    }
    // The authorization request always carries a redirect URI here, so the token request must
    // repeat it (RFC 6749 4.1.3).
    if redirect_uri != Some(code.redirect_uri.as_str()) {
        return Err(GrantError::OtherRedirect);
    }
    match (&code.challenge, verifier) {
        (Some(challenge), Some(verifier)) if pkce::verifier_matches(challenge, verifier) => Ok(()),
        (Some(_), _) => Err(GrantError::Verifier),
        (None, Some(_)) => Err(GrantError::UnexpectedVerifier),
        (None, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn code(challenge: Option<&str>) -> AuthCode {
        AuthCode {
            code_hash: [0; 32],
            client_id: "c1".into(),
            redirect_uri: "https://app.example.com/cb".into(),
            user: "alice".into(),
            scope: "openid profile".into(),
            nonce: Some("n-1".into()),
            challenge: challenge.map(str::to_owned),
            auth_time: 900,
            amr: "mfa".into(),
            created_at: 1000,
            expires_at: 1000 + CODE_LIFETIME_SECS,
        }
    }

    const URI: Option<&str> = Some("https://app.example.com/cb");

    #[test]
    fn a_code_is_bound_to_its_client_redirect_and_lifetime() {
        let code = code(None);
        assert_eq!(check_grant(&code, "c1", URI, None, 1010), Ok(()));
        assert_eq!(check_grant(&code, "c2", URI, None, 1010), Err(GrantError::OtherClient));
        for uri in [None, Some("https://app.example.com/cb/"), Some("https://app.example.com/c")] {
            assert_eq!(check_grant(&code, "c1", uri, None, 1010), Err(GrantError::OtherRedirect));
        }
        assert_eq!(check_grant(&code, "c1", URI, None, 1060), Err(GrantError::Expired));
        assert_eq!(
            check_grant(&code, "c1", URI, Some(VERIFIER), 1010),
            Err(GrantError::UnexpectedVerifier)
        );
    }

    #[test]
    fn a_code_with_a_challenge_needs_its_verifier() {
        let code = code(Some(CHALLENGE));
        assert_eq!(check_grant(&code, "c1", URI, Some(VERIFIER), 1010), Ok(()));
        assert_eq!(check_grant(&code, "c1", URI, None, 1010), Err(GrantError::Verifier));
        let wrong = VERIFIER.replace('d', "x");
        assert_eq!(check_grant(&code, "c1", URI, Some(&wrong), 1010), Err(GrantError::Verifier));
    }

    #[test]
    fn the_forms_debug_shows_no_code_verifier_or_secret() {
        let form = TokenForm {
            code: Some(Zeroizing::new("the-code-value".into())),
            code_verifier: Some(VERIFIER.into()),
            client_secret: Some(Zeroizing::new("the-secret-value".into())),
            client_id: Some("c1".into()),
            ..TokenForm::default()
        };
        let shown = format!("{form:?}");
        for secret in ["the-code-value", VERIFIER, "the-secret-value"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("c1") && shown.contains("(sent)"), "{shown}");
    }

    #[test]
    fn the_client_authenticates_one_way() {
        let basic = |text: &str| format!("Basic {}", data_encoding::BASE64.encode(text.as_bytes()));
        let form = TokenForm { client_id: Some("c1".into()), ..TokenForm::default() };
        let (id, secret) =
            client_credentials(Some(&basic("c%3A1:s+%2B")), &TokenForm::default()).unwrap();
        assert_eq!((id.as_str(), secret.as_deref().map(String::as_str)), ("c:1", Some("s +")));
        let (id, secret) = client_credentials(None, &form).unwrap();
        assert_eq!((id.as_str(), secret), ("c1", None), "a public client");
        let post = TokenForm { client_secret: Some(Zeroizing::new("s".into())), ..form };
        assert_eq!(
            client_credentials(Some(&basic("c1:s")), &post).unwrap_err(),
            CredentialsError::Twice
        );
        for unusable in ["Bearer x", "Basic !!", &basic("no colon")] {
            assert_eq!(
                client_credentials(Some(unusable), &TokenForm::default()).unwrap_err(),
                CredentialsError::Missing
            );
        }
    }
}
