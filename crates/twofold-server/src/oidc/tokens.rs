//! The ID token's claims and the access token's hash (what a token request must prove is in
//! `twofold_oidc::token`).

use std::time::{Duration, UNIX_EPOCH};

use data_encoding::BASE64URL_NOPAD;
use josekit::jwt::JwtPayload;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::store::oidc::AuthCode;

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
    use twofold_oidc::token::CODE_LIFETIME_SECS;

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
