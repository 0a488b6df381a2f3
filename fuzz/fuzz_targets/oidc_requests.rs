//! Arbitrary bytes as the OpenID Connect provider's requests: an authorization request's query
//! and a token request (`Authorization` header, newline, form). Parsing never panics; an accepted
//! authorization request only ever names a registered redirect URI, asks `openid`, and (for a
//! public client) carries a PKCE challenge; a refusal sent back to the client goes only to a
//! registered redirect URI; the URLs built from an accepted request parse; only the right PKCE
//! verifier matches.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_server::oidc::authorize::{self, AuthorizeQuery, Refusal};
use twofold_server::oidc::pkce;
use twofold_server::oidc::tokens::{self, TokenForm};
use twofold_server::store::oidc::Client;
use url::Url;

/// RFC 7636, appendix B.
const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REGISTERED: &str = "https://app.example.com/cb?tenant=1";

fn client(public: bool) -> Client {
    Client {
        id: "c1".into(),
        name: "App".into(),
        secret_hash: (!public).then_some([7; 32]),
        redirect_uris: vec![REGISTERED.into()],
        post_logout_uris: vec![],
        id_token_alg: "RS256".into(),
        created_at: 0,
    }
}

fn authorization(data: &[u8]) {
    let Ok(query) = serde_urlencoded::from_bytes::<AuthorizeQuery>(data) else { return };
    let base = Url::parse("https://id.example.com/twofold/oidc/authorize").unwrap();
    for public in [false, true] {
        match authorize::check(&query, Some(&client(public))) {
            Ok(request) => {
                assert_eq!(request.redirect_uri, REGISTERED);
                assert!(request.scope.split(' ').any(|s| s == "openid"), "{request:?}");
                assert!(!public || request.challenge.is_some(), "a public client without PKCE");
                let since = authorize::signed_in_since(&request, query.auth_since, 1_000_000);
                let back = authorize::after_signin(
                    &base,
                    &String::from_utf8_lossy(data),
                    since.unwrap_or(1_000_000),
                );
                assert_eq!(back.path(), base.path());
                let state = request.state.as_deref().unwrap_or_default();
                let to = authorize::redirect_to(
                    &request.redirect_uri,
                    &[("code", "x"), ("state", state)],
                );
                let to = to.expect("a registered redirect URI takes parameters");
                assert!(to.as_str().starts_with(REGISTERED));
            }
            Err(Refusal::Redirect { redirect_uri, .. }) => assert_eq!(redirect_uri, REGISTERED),
            Err(Refusal::Page(_)) => {}
        }
    }
}

fn token(data: &[u8]) {
    let (header, form) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (Some(&data[..at]), &data[at + 1..]),
        None => (None, data),
    };
    let header = header.and_then(|h| std::str::from_utf8(h).ok());
    let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(form) else { return };
    if let Ok((id, _)) = tokens::client_credentials(header, &form) {
        assert!(header.is_some() || form.client_id.as_ref() == Some(&id));
    }
    if let Some(verifier) = &form.code_verifier {
        // Only RFC 7636's own verifier hashes to its challenge.
        let matches = pkce::verifier_matches(RFC_CHALLENGE, verifier);
        assert_eq!(matches, verifier == RFC_VERIFIER, "{verifier:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    authorization(data);
    token(data);
});
