//! Arbitrary OpenID Connect requests as a relying party (or an attacker) sends them: an
//! authorization query, a token form and its `Authorization` header (split by NUL bytes), read
//! as axum reads them and checked against a registered client and an issued code. The first
//! byte picks which well-formed parameters go before each part, so the accepted paths are
//! reached from the first runs, not only after the fuzzer has guessed a whole valid request. Nothing
//! panics, and what is accepted keeps the provider's promises: only a registered redirect URI
//! is ever redirected to, a public client always uses PKCE, and a code is redeemed only by its
//! client, at its redirect URI, with its verifier.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_oidc::authorize::{self, AuthorizeQuery, Refusal};
use twofold_oidc::token::{self, TokenForm};
use twofold_oidc::{AuthCode, Client, pkce};

const REDIRECT: &str = "https://app.example.com/cb";
/// RFC 7636, appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The authorization query's well-formed parameters, each chosen by one bit.
const AUTHORIZE: [&str; 5] = [
    "response_type=code&",
    "client_id=c1&",
    "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&",
    "scope=openid+profile&",
    "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&",
];
/// The token form's well-formed parameters, each chosen by one bit.
const TOKEN: [&str; 3] = [
    "client_id=c1&",
    "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&",
    "code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&",
];

/// The parameters of `all` whose bit is set in `bits`, then `tail`.
fn with_params(all: &[&str], bits: u8, tail: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .flat_map(|(_, p)| p.bytes())
        .collect();
    out.extend_from_slice(tail);
    out
}

fn client(public: bool) -> Client {
    Client {
        id: "c1".into(),
        name: "App".into(),
        secret_hash: (!public).then_some([1; 32]),
        redirect_uris: vec![REDIRECT.into(), "http://127.0.0.1:8080/cb?x=1".into()],
        post_logout_uris: vec![],
        id_token_alg: "RS256".into(),
        created_at: 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&bits, data)) = data.split_first() else {
        return;
    };
    let mut parts = data.split(|b| *b == 0);
    let raw_query = with_params(&AUTHORIZE, bits, parts.next().unwrap_or_default());
    let form = with_params(&TOKEN, bits >> 5, parts.next().unwrap_or_default());
    let authorization = parts.next().and_then(|h| std::str::from_utf8(h).ok());

    if let Ok(query) = serde_urlencoded::from_bytes::<AuthorizeQuery>(&raw_query) {
        for public in [false, true] {
            let client = client(public);
            match authorize::check(&query, Some(&client)) {
                Ok(request) => {
                    assert!(client.redirect_uris.contains(&request.redirect_uri));
                    assert!(!public || request.challenge.is_some(), "a public client without PKCE");
                    let since = authorize::signed_in_since(&request, query.auth_since, 1_000);
                    assert!(since.is_none_or(|s| query.auth_since.is_some() || s <= 1_000));
                    let base = url::Url::parse("https://id.example.com/twofold/oidc/authorize")
                        .expect("a valid URL");
                    let raw = std::str::from_utf8(&raw_query).unwrap_or_default();
                    let back = authorize::after_signin(&base, raw, 5);
                    assert_eq!(back.origin(), base.origin(), "sign-in returns elsewhere");
                    let response = authorize::redirect_to(&request.redirect_uri, &[("code", "x")])
                        .expect("a registered URI parses");
                    assert!(response.as_str().starts_with(&request.redirect_uri));
                }
                Err(Refusal::Redirect { redirect_uri, .. }) => {
                    assert!(client.redirect_uris.contains(&redirect_uri), "an open redirect");
                }
                Err(Refusal::Page(_)) => {}
            }
        }
        assert!(matches!(authorize::check(&query, None), Err(Refusal::Page(_))));
    }

    if let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(&form) {
        let _ = token::client_credentials(authorization, &form);
        let verifier = form.code_verifier.as_deref();
        let code = AuthCode {
            code_hash: [0; 32],
            client_id: "c1".into(),
            redirect_uri: REDIRECT.into(),
            user: "alice".into(),
            scope: "openid".into(),
            nonce: None,
            challenge: Some(CHALLENGE.to_owned()),
            auth_time: 0,
            amr: "mfa".into(),
            created_at: 0,
            expires_at: 60,
        };
        let client_id = form.client_id.as_deref().unwrap_or_default();
        let redirect = form.redirect_uri.as_deref();
        if token::check_grant(&code, client_id, redirect, verifier, 10).is_ok() {
            assert_eq!((client_id, redirect, verifier), ("c1", Some(REDIRECT), Some(VERIFIER)));
        }
        // Sending the challenge as the verifier (what `plain` would accept) never works.
        assert!(token::check_grant(&code, "c1", Some(REDIRECT), Some(CHALLENGE), 10).is_err());
        if let Some(verifier) = verifier {
            assert!(!pkce::verifier_matches(verifier, verifier), "plain PKCE accepted");
        }
    }
});
