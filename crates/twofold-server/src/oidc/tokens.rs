//! Codes and tokens: what a token request must prove about the code it redeems (its client,
//! redirect URI, PKCE verifier, age), and the ID token's claims.

use std::time::{Duration, UNIX_EPOCH};

use data_encoding::BASE64URL_NOPAD;
use josekit::jwt::JwtPayload;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::pkce;
use crate::store::oidc::AuthCode;

/// The token request's form (RFC 6749 4.1.3), as sent.
#[derive(Debug, Default, Deserialize)]
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

/// Why a token request names no client to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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

/// What the ID token says about a sign-in.
#[derive(Debug, Clone)]
pub struct IdClaims<'a> {
    /// The issuer URL.
    pub issuer: &'a str,
    /// The redeemed code (user, client, nonce, auth_time, amr, scope).
    pub code: &'a AuthCode,
    /// The user's display name.
    pub name: &'a str,
    /// The user's email address, if the administrator set one.
    pub email: Option<&'a str>,
    /// The access token issued beside it (for `at_hash`).
    pub access_token: &'a str,
    /// Now.
    pub now: u64,
    /// Seconds the ID token is valid.
    pub lifetime: u64,
}

/// The `acr` of a sign-in approved on a paired device.
pub const ACR_DEVICE: &str = "urn:twofold:acr:device-approval";
/// The `acr` of a sign-in with a recovery code.
pub const ACR_RECOVERY: &str = "urn:twofold:acr:recovery-code";

fn at(seconds: u64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// `at_hash`: the left half of SHA-256 of the access token (for RS256 and ES256 alike).
pub fn access_token_hash(token: &str) -> String {
    BASE64URL_NOPAD.encode(&Sha256::digest(token.as_bytes())[..16])
}

/// The ID token's payload.
pub fn id_token(claims: &IdClaims<'_>) -> JwtPayload {
    let code = claims.code;
    let mut payload = JwtPayload::new();
    payload.set_issuer(claims.issuer);
    payload.set_subject(&code.user);
    payload.set_audience(vec![code.client_id.clone()]);
    payload.set_issued_at(&at(claims.now));
    payload.set_expires_at(&at(claims.now.saturating_add(claims.lifetime)));
    let amr: Vec<Value> = code.amr.split(' ').map(Value::from).collect();
    let acr = if code.amr.split(' ').any(|m| m == "mfa") { ACR_DEVICE } else { ACR_RECOVERY };
    let mut extra: Vec<(&str, Value)> = vec![
        ("auth_time", Value::from(code.auth_time)),
        ("amr", Value::from(amr)),
        ("acr", Value::from(acr)),
        ("azp", Value::from(code.client_id.as_str())),
        ("at_hash", Value::from(access_token_hash(claims.access_token))),
    ];
    if let Some(nonce) = &code.nonce {
        extra.push(("nonce", Value::from(nonce.as_str())));
    }
    extra.extend(scope_claims(&code.scope, &code.user, claims.name, claims.email));
    for (key, value) in extra {
        // Only registered claim names with a wrong type are refused; these are not.
        let _ = payload.set_claim(key, Some(value));
    }
    payload
}

/// The claims `scope` grants about the user (the ID token's and userinfo's alike): `profile`
/// the names, `email` the address when there is one. The administrator entered the address,
/// so it is as verified as the user's name (`email_verified`).
pub fn scope_claims(
    scope: &str,
    user: &str,
    name: &str,
    email: Option<&str>,
) -> Vec<(&'static str, Value)> {
    let mut claims = Vec::new();
    if scope.split(' ').any(|s| s == "profile") {
        claims.push(("preferred_username", Value::from(user)));
        claims.push(("name", Value::from(name)));
    }
    if let Some(email) = email.filter(|_| scope.split(' ').any(|s| s == "email")) {
        claims.push(("email", Value::from(email)));
        claims.push(("email_verified", Value::from(true)));
    }
    claims
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

    #[test]
    fn the_id_token_carries_the_sign_in() {
        let code = code(None);
        let claims = IdClaims {
            issuer: "https://id.example.com/twofold",
            code: &code,
            name: "Alice",
            email: Some("alice@example.com"),
            access_token: "at",
            now: 1000,
            lifetime: 300,
        };
        let payload = id_token(&claims);
        assert_eq!(payload.issuer(), Some("https://id.example.com/twofold"));
        assert_eq!(payload.subject(), Some("alice"));
        assert_eq!(payload.audience(), Some(vec!["c1"]));
        assert_eq!(payload.expires_at(), Some(at(1300)));
        assert_eq!(payload.claim("nonce"), Some(&Value::from("n-1")));
        assert_eq!(payload.claim("auth_time"), Some(&Value::from(900)));
        assert_eq!(payload.claim("name"), Some(&Value::from("Alice")));
        // RFC 7515 A.3's access token hash example is for a different header; check the shape.
        assert_eq!(access_token_hash("at").len(), 22);
        assert_eq!(payload.claim("email"), None, "the email scope was not asked");
        let mut no_profile = code.clone();
        no_profile.scope = "openid".into();
        let claims = IdClaims { code: &no_profile, ..claims };
        assert_eq!(id_token(&claims).claim("name"), None);
        let mut email = code.clone();
        email.scope = "openid email".into();
        let payload = id_token(&IdClaims { code: &email, ..claims.clone() });
        assert_eq!(payload.claim("email"), Some(&Value::from("alice@example.com")));
        assert_eq!(payload.claim("email_verified"), Some(&Value::from(true)));
        assert_eq!(payload.claim("name"), None);
        let payload = id_token(&IdClaims { code: &email, email: None, ..claims });
        assert_eq!(payload.claim("email"), None, "no address, no claim");
    }
}
