//! Twofold as an OpenID Connect provider, over HTTP on loopback: a real server with the portal
//! and the provider, a browser that keeps its cookies, a paired device that answers, and clients
//! that redeem codes. Each attack test fails without the protection it names.

#![allow(clippy::unwrap_used)] // tests: a failed step should stop the test loudly

mod support;

use std::collections::HashMap;

use josekit::jwk::JwkSet;
use josekit::jws::{ES256, RS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::Value;
use twofold_protocol::client::DeviceClient;
use twofold_protocol::{Answer, Mode};
use twofold_server::clock::Clock as _;
use twofold_server::oidc::keys::{Alg, SigningKeys};

use support::next_request;
use support::portal::{Page, PortalServer, WebBrowser, between};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const APP: &str = "https://app.example.com/callback";

/// A server with the provider, "alice" enrolled with her device.
struct Bench {
    server: PortalServer,
    device: DeviceClient,
    /// Alice's recovery codes.
    codes: Vec<String>,
    http: reqwest::Client,
    /// What the device was shown, in order.
    contexts: std::sync::Mutex<Vec<String>>,
}

impl Bench {
    async fn start() -> Self {
        let server = PortalServer::start_oidc(Mode::Push).await;
        let (device, codes) = server.enrolled_user("alice", "Alice Example").await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Self { server, device, codes, http, contexts: std::sync::Mutex::default() }
    }

    fn browser(&self) -> WebBrowser {
        WebBrowser::direct(&self.server.url)
    }

    fn authorize_url(&self, client_id: &str, redirect_uri: &str, extra: &[(&str, &str)]) -> String {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("state", "st-1"),
            ("nonce", "nonce-1"),
        ];
        if !extra.iter().any(|(key, _)| *key == "scope") {
            params.push(("scope", "openid profile"));
        }
        params.extend_from_slice(extra);
        let query: String =
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        format!("{}/oidc/authorize?{query}", self.server.issuer())
    }

    /// Opens the authorization URL, signs "alice" in with Allow on her device if asked, and
    /// returns the redirect to the client (its `Location` parsed) and whether the device was asked.
    async fn authorize(&self, browser: &WebBrowser, url: &str) -> (HashMap<String, String>, bool) {
        let page = browser.get(url).await;
        assert_eq!(page.status, 303, "{page:?}");
        let location = page.location.clone().unwrap();
        if !location.starts_with("/twofold/signin") {
            return (redirect_params(&page), false);
        }
        let mut events = Box::pin(self.device.events().await.unwrap());
        let form = browser.get(&location).await;
        assert_eq!(form.status, 200, "{form:?}");
        let rd = between(&form.body, "name=rd value=\"", "\"").replace("&amp;", "&");
        let posted = browser
            .post("/twofold/signin", &[("csrf", &form.csrf()), ("user", "alice"), ("rd", &rd)])
            .await;
        assert_eq!(posted.status, 303, "{posted:?}");
        let waiting = browser.get("/twofold/signin/pending").await;
        let request = next_request(&mut events).await;
        assert!(request.context.as_deref().unwrap().starts_with("Sign in to "), "{request:?}");
        self.contexts.lock().unwrap().push(request.context.clone().unwrap());
        self.device.decide(&request, Answer::Allow, waiting.number()).await.unwrap();
        let done = browser.post("/twofold/signin/continue", &[("csrf", &waiting.csrf())]).await;
        assert_eq!(done.status, 303, "{done:?}");
        // Back from the sign-in form: a page that goes on to the client by itself.
        let back = browser.get(done.location.as_deref().unwrap()).await;
        assert_eq!(back.status, 200, "{back:?}");
        (redirect_params(&back), true)
    }

    /// A token request: the status and the JSON answer.
    async fn token(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}/oidc/token", self.server.issuer()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish());
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn userinfo(&self, access_token: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}/oidc/userinfo", self.server.issuer()))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn jwks(&self) -> JwkSet {
        let text = self
            .http
            .get(format!("{}/oidc/jwks", self.server.issuer()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        JwkSet::from_bytes(text.as_bytes()).unwrap()
    }

    /// The ID token's payload, verified with the published JWKS as a relying party would.
    async fn verified(&self, id_token: &str) -> (JwtPayload, String) {
        let header = jwt::decode_header(id_token).unwrap();
        let alg = header.claim("alg").unwrap().as_str().unwrap().to_owned();
        let kid = header.claim("kid").unwrap().as_str().unwrap().to_owned();
        let set = self.jwks().await;
        let jwk = set.get(&kid)[0].clone();
        let payload = match alg.as_str() {
            "RS256" => jwt::decode_with_verifier(id_token, &RS256.verifier_from_jwk(&jwk).unwrap()),
            "ES256" => jwt::decode_with_verifier(id_token, &ES256.verifier_from_jwk(&jwk).unwrap()),
            other => panic!("ID token signed with {other}"),
        }
        .unwrap()
        .0;
        (payload, alg)
    }

    /// A code for `client_id` through a full sign-in (or the live session).
    async fn code(&self, browser: &WebBrowser, client_id: &str, extra: &[(&str, &str)]) -> String {
        let (params, _) = self.authorize(browser, &self.authorize_url(client_id, APP, extra)).await;
        params.get("code").unwrap_or_else(|| panic!("no code: {params:?}")).clone()
    }
}

/// The query of the URL `page` sends the browser to (a client's redirect URI).
fn redirect_params(page: &Page) -> HashMap<String, String> {
    let location = page.forward();
    let url = url::Url::parse(&location).unwrap();
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn redeem<'a>(code: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form =
        vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", APP)];
    form.extend_from_slice(extra);
    form
}

#[tokio::test]
async fn discovery_and_jwks_describe_the_provider() {
    let bench = Bench::start().await;
    let issuer = bench.server.issuer();
    let discovery: Value = bench
        .http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], Value::from(issuer.as_str()));
    assert_eq!(discovery["token_endpoint"], Value::from(format!("{issuer}/oidc/token")));
    assert_eq!(discovery["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "ES256"])
    );
    let set = bench.jwks().await;
    let algs: Vec<&str> = set.keys().iter().map(|k| k.algorithm().unwrap()).collect();
    assert_eq!(algs, ["RS256", "ES256"]);
    assert!(set.keys().iter().all(|k| k.parameter("d").is_none()), "no private part is published");
}

#[tokio::test]
async fn a_confidential_client_signs_the_user_in_with_the_device() {
    let bench = Bench::start().await;
    let (id, secret) = bench.server.add_client("Grafana", &[APP], &[], false, Alg::Rs256).await;
    let secret = secret.unwrap();
    let browser = bench.browser();
    let (params, asked) = bench.authorize(&browser, &bench.authorize_url(&id, APP, &[])).await;
    assert!(asked, "the device was asked");
    assert_eq!(params["state"], "st-1");
    assert_eq!(params["iss"], bench.server.issuer());
    let (status, tokens) = bench.token(&redeem(&params["code"], &[]), Some((&id, &secret))).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let (payload, alg) = bench.verified(tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(alg, "RS256");
    assert_eq!(payload.issuer(), Some(bench.server.issuer().as_str()));
    assert_eq!(payload.audience(), Some(vec![id.as_str()]));
    assert_eq!(payload.subject(), Some("alice"));
    assert_eq!(payload.claim("nonce"), Some(&Value::from("nonce-1")));
    assert_eq!(payload.claim("name"), Some(&Value::from("Alice Example")));
    assert!(payload.expires_at().unwrap() > std::time::SystemTime::now());
    let (status, info) = bench.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (info["sub"].as_str(), info["name"].as_str()),
        (Some("alice"), Some("Alice Example"))
    );
    // The session is reused: a second authorization does not ask the device.
    let (params, asked) = bench.authorize(&browser, &bench.authorize_url(&id, APP, &[])).await;
    assert!(!asked && params.contains_key("code"), "{params:?}");
    assert_eq!(bench.server.audit_count("alice", "oidc_token_issued").await, 1);
    assert_eq!(bench.server.audit_count("alice", "oidc_code_issued").await, 2);
    assert_eq!(*bench.contexts.lock().unwrap(), ["Sign in to Grafana"], "the device named the app");
}

#[tokio::test]
async fn client_secret_post_and_es256_work_too() {
    let bench = Bench::start().await;
    let (id, secret) = bench.server.add_client("Gitea", &[APP], &[], false, Alg::Es256).await;
    let browser = bench.browser();
    let code = bench.code(&browser, &id, &[]).await;
    let secret = secret.unwrap();
    let (status, tokens) =
        bench.token(&redeem(&code, &[("client_id", &id), ("client_secret", &secret)]), None).await;
    assert_eq!(status, 200, "{tokens}");
    let (payload, alg) = bench.verified(tokens["id_token"].as_str().unwrap()).await;
    assert_eq!((alg.as_str(), payload.subject()), ("ES256", Some("alice")));
}

#[tokio::test]
async fn prompt_login_and_max_age_zero_ask_the_device_again() {
    let bench = Bench::start().await;
    let (id, _) = bench.server.add_client("Admin", &[APP], &[], false, Alg::Rs256).await;
    let browser = bench.browser();
    let (_, asked) = bench.authorize(&browser, &bench.authorize_url(&id, APP, &[])).await;
    assert!(asked);
    for extra in [("prompt", "login"), ("max_age", "0")] {
        bench.server.clock.advance(5);
        let (params, asked) =
            bench.authorize(&browser, &bench.authorize_url(&id, APP, &[extra])).await;
        assert!(asked, "{extra:?} asks the device again");
        assert!(params.contains_key("code"), "{params:?}");
    }
    // prompt=none without a session: an error to the client, no page.
    let fresh = bench.browser();
    let page = fresh.get(&bench.authorize_url(&id, APP, &[("prompt", "none")])).await;
    assert_eq!(redirect_params(&page)["error"], "login_required");
}

#[tokio::test]
async fn a_public_client_must_prove_its_pkce_verifier() {
    let bench = Bench::start().await;
    let (id, secret) = bench.server.add_client("SPA", &[APP], &[], true, Alg::Rs256).await;
    assert!(secret.is_none());
    let browser = bench.browser();
    // No challenge: refused.
    let (params, _) = bench.authorize(&browser, &bench.authorize_url(&id, APP, &[])).await;
    assert_eq!(params["error"], "invalid_request", "{params:?}");
    let pkce = [("code_challenge", CHALLENGE), ("code_challenge_method", "S256")];
    for (verifier, expected) in
        [(None, 400), (Some(&VERIFIER.replace('d', "x")), 400), (Some(&VERIFIER.to_owned()), 200)]
    {
        let code = bench.code(&browser, &id, &pkce).await;
        let mut extra = vec![("client_id", id.as_str())];
        if let Some(verifier) = verifier {
            extra.push(("code_verifier", verifier));
        }
        let (status, answer) = bench.token(&redeem(&code, &extra), None).await;
        assert_eq!(status, expected, "{verifier:?}: {answer}");
        if expected == 400 {
            assert_eq!(answer["error"], "invalid_grant");
        }
    }
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_issued() {
    let bench = Bench::start().await;
    let (id, secret) = bench.server.add_client("App", &[APP], &[], false, Alg::Rs256).await;
    let secret = secret.unwrap();
    let code = bench.code(&bench.browser(), &id, &[]).await;
    let (status, tokens) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(bench.userinfo(access).await.0, 200);
    let (status, answer) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(bench.userinfo(access).await.0, 401, "the first redemption's token is revoked");
    assert_eq!(bench.server.audit_count("alice", "oidc_code_replayed").await, 1);
}

#[tokio::test]
async fn expired_codes_and_tokens_are_deleted_once_no_token_of_theirs_lives() {
    let bench = Bench::start().await;
    let (id, secret) = bench.server.add_client("App", &[APP], &[], false, Alg::Rs256).await;
    let secret = secret.unwrap();
    let browser = bench.browser();
    let code = bench.code(&browser, &id, &[]).await;
    let (_, tokens) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    // The code has expired but its token lives: issuing another code keeps both, so the code
    // presented again still revokes the token.
    bench.server.clock.advance(120);
    let unredeemed = bench.code(&browser, &id, &[]).await;
    assert!(bench.server.token_stored(&access).await);
    let (_, answer) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    assert_eq!(answer["error_description"], "the code was already used", "{answer}");
    assert_eq!(bench.userinfo(&access).await.0, 401);
    // Past the token's lifetime (60 minutes): the next code issued deletes the token, its code
    // and the code never redeemed.
    bench.server.clock.advance(3600);
    let (_, answer) = bench.token(&redeem(&unredeemed, &[]), Some((&id, &secret))).await;
    assert_eq!(answer["error_description"], "the code has expired", "still stored: {answer}");
    bench.code(&browser, &id, &[]).await;
    assert!(!bench.server.token_stored(&access).await, "the expired token is deleted");
    for old in [&code, &unredeemed] {
        let (status, answer) = bench.token(&redeem(old, &[]), Some((&id, &secret))).await;
        assert_eq!((status, answer["error_description"].as_str()), (400, Some("no such code")));
    }
}

#[tokio::test]
async fn the_email_scope_gives_the_address_the_administrator_set() {
    let bench = Bench::start().await;
    let (id, secret) = bench.server.add_client("Wiki", &[APP], &[], false, Alg::Es256).await;
    let secret = secret.unwrap();
    let browser = bench.browser();
    let email_scope = [("scope", "openid profile email")];
    let signed_in = async |extra: &[(&str, &str)]| {
        let (params, _) = bench.authorize(&browser, &bench.authorize_url(&id, APP, extra)).await;
        let (status, tokens) =
            bench.token(&redeem(&params["code"], &[]), Some((&id, &secret))).await;
        assert_eq!(status, 200, "{tokens}");
        let (payload, _) = bench.verified(tokens["id_token"].as_str().unwrap()).await;
        let (_, info) = bench.userinfo(tokens["access_token"].as_str().unwrap()).await;
        (payload, info)
    };
    // No address set: no email claim even when asked.
    let (payload, info) = signed_in(&email_scope).await;
    assert_eq!((payload.claim("email"), info.get("email")), (None, None), "{info}");
    bench.server.set_email("alice", "alice@example.com").await;
    let (payload, info) = signed_in(&email_scope).await;
    assert_eq!(payload.claim("email"), Some(&Value::from("alice@example.com")));
    assert_eq!(payload.claim("email_verified"), Some(&Value::from(true)));
    assert_eq!(
        (info["email"].as_str(), info["email_verified"].as_bool()),
        (Some("alice@example.com"), Some(true))
    );
    assert_eq!(info["name"], "Alice Example");
    // Not asked for: not given.
    let (payload, info) = signed_in(&[]).await;
    assert_eq!((payload.claim("email"), info.get("email")), (None, None), "{info}");
}

#[tokio::test]
async fn a_code_is_bound_to_its_client_redirect_uri_and_lifetime() {
    let bench = Bench::start().await;
    let (id, secret) = bench
        .server
        .add_client("App", &[APP, "https://app.example.com/other"], &[], false, Alg::Rs256)
        .await;
    let (other, other_secret) =
        bench.server.add_client("Other", &[APP], &[], false, Alg::Rs256).await;
    let (secret, other_secret) = (secret.unwrap(), other_secret.unwrap());
    let browser = bench.browser();
    // Another client, with its own valid secret, cannot redeem it.
    let code = bench.code(&browser, &id, &[]).await;
    let (status, answer) = bench.token(&redeem(&code, &[]), Some((&other, &other_secret))).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")), "{answer}");
    // Another of the client's own redirect URIs.
    let code = bench.code(&browser, &id, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", "https://app.example.com/other"),
    ];
    let (status, _) = bench.token(&form, Some((&id, &secret))).await;
    assert_eq!(status, 400);
    // Too late.
    let code = bench.code(&browser, &id, &[]).await;
    bench.server.clock.advance(61);
    let (status, answer) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn unregistered_redirect_uris_are_never_redirected_to() {
    let bench = Bench::start().await;
    let (id, _) = bench.server.add_client("App", &[APP], &[], false, Alg::Rs256).await;
    let browser = bench.browser();
    bench.authorize(&browser, &bench.authorize_url(&id, APP, &[])).await;
    for uri in [
        "https://app.example.com/callback/",
        "https://app.example.com/callbac",
        "https://app.example.com/callback.evil.example",
        "https://app.example.com/callback?next=https://evil.example",
        "https://app.example.com.evil.example/callback",
        "https://evil.example/callback",
        "HTTPS://app.example.com/callback",
        "https://app.example.com/callback#",
        "//evil.example/callback",
    ] {
        let page = browser.get(&bench.authorize_url(&id, uri, &[])).await;
        assert_eq!(page.status, 400, "{uri}: {page:?}");
        assert!(page.location.is_none(), "{uri}");
    }
    let page = browser.get(&bench.authorize_url("no-such-client", APP, &[])).await;
    assert_eq!((page.status, page.location.is_none()), (400, true));
}

#[tokio::test]
async fn client_secret_guessing_is_limited() {
    let bench = Bench::start().await;
    let (id, secret) = bench.server.add_client("App", &[APP], &[], false, Alg::Rs256).await;
    let secret = secret.unwrap();
    let browser = bench.browser();
    let form = [("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", APP)];
    for guess in 0..10 {
        let (status, answer) = bench.token(&form, Some((&id, &format!("guess-{guess}")))).await;
        assert_eq!((status, answer["error"].as_str()), (401, Some("invalid_client")));
    }
    // Now even the right secret is refused, until the window passes.
    let code = bench.code(&browser, &id, &[]).await;
    let (status, _) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    assert_eq!(status, 401);
    bench.server.clock.advance(15 * 60 + 1);
    let code = bench.code(&browser, &id, &[]).await;
    let (status, answer) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn parallel_client_secret_guesses_count_against_the_limit() {
    let bench = Bench::start().await;
    let (id, _) = bench.server.add_client("App", &[APP], &[], false, Alg::Rs256).await;
    let form = [("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", APP)];
    let guesses = (0..40).map(|guess| {
        let (bench, id, form) = (&bench, &id, &form);
        async move { bench.token(form, Some((id, &format!("guess-{guess}")))).await.0 }
    });
    for status in futures_util::future::join_all(guesses).await {
        assert_eq!(status, 401);
    }
    let checked = bench.server.audit_count(&id, "oidc_client_rejected").await;
    assert_eq!(checked, 10, "40 guesses at once: only the first 10 are checked");
}

#[tokio::test]
async fn forms_need_their_csrf_token() {
    let bench = Bench::start().await;
    let (id, _) = bench
        .server
        .add_client("App", &[APP], &["https://app.example.com/bye"], false, Alg::Rs256)
        .await;
    let browser = bench.browser();
    // The sign-in form, posted from elsewhere (no token, or the browser's cookie without it).
    let page = browser.get(&bench.authorize_url(&id, APP, &[])).await;
    let form = browser.get(page.location.as_deref().unwrap()).await;
    let rd = between(&form.body, "name=rd value=\"", "\"").replace("&amp;", "&");
    let forged = browser.post("/twofold/signin", &[("user", "alice"), ("rd", &rd)]).await;
    assert_eq!(forged.status, 403, "{forged:?}");
    // Logout without an ID token hint asks; a cross-site POST without the token does nothing.
    bench.authorize(&browser, &bench.authorize_url(&id, APP, &[])).await;
    let asked = browser.get(&format!("{}/oidc/logout", bench.server.issuer())).await;
    assert!(asked.body.contains("Sign out"), "{}", asked.body);
    let forged = browser.post("/twofold/oidc/logout", &[("client_id", &id)]).await;
    assert_eq!(forged.status, 403);
    let (_, asked_again) = bench.authorize(&browser, &bench.authorize_url(&id, APP, &[])).await;
    assert!(!asked_again, "still signed in");
    let done = browser.post("/twofold/oidc/logout", &[("csrf", &asked.csrf())]).await;
    assert!(done.body.contains("You are signed out"), "{}", done.body);
    let (_, asked_again) = bench.authorize(&browser, &bench.authorize_url(&id, APP, &[])).await;
    assert!(asked_again, "signed out");
}

#[tokio::test]
async fn logout_returns_only_to_registered_uris() {
    let bench = Bench::start().await;
    let bye = "https://app.example.com/bye";
    let (id, secret) = bench.server.add_client("App", &[APP], &[bye], false, Alg::Rs256).await;
    let browser = bench.browser();
    let code = bench.code(&browser, &id, &[]).await;
    let (_, tokens) = bench.token(&redeem(&code, &[]), Some((&id, &secret.unwrap()))).await;
    let hint = tokens["id_token"].as_str().unwrap();
    let logout = |uri: &str| {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", uri),
                ("state", "s"),
            ])
            .finish();
        format!("{}/oidc/logout?{query}", bench.server.issuer())
    };
    for evil in
        ["https://evil.example/", "https://app.example.com/bye/", "https://app.example.com/by"]
    {
        let page = browser.get(&logout(evil)).await;
        assert_eq!((page.status, page.location.is_none()), (400, true), "{evil}");
    }
    // A forged hint (signed by another key) is refused.
    let dir = tempfile::tempdir().unwrap();
    let other = SigningKeys::open_or_create(&dir.path().join("k.json"), 0).unwrap();
    let mut payload = JwtPayload::new();
    payload.set_issuer(bench.server.issuer());
    payload.set_subject("alice");
    payload.set_audience(vec![id.clone()]);
    let forged = other.sign(Alg::Rs256, &payload).unwrap();
    let page = browser
        .get(&format!(
            "{}/oidc/logout?id_token_hint={forged}&post_logout_redirect_uri={bye}",
            bench.server.issuer()
        ))
        .await;
    assert_eq!(page.status, 400);
    // The registered one, with the user's own ID token: signed out at once, back to the client.
    let page = browser.get(&logout(bye)).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("https://app.example.com/bye?state=s"));
    let (_, asked) = bench.authorize(&browser, &bench.authorize_url(&id, APP, &[])).await;
    assert!(asked, "the session ended");
}

#[tokio::test]
async fn tokens_signed_before_a_rotation_still_verify_and_new_ones_use_the_new_key() {
    let bench = Bench::start().await;
    let (id, secret) = bench.server.add_client("App", &[APP], &[], false, Alg::Rs256).await;
    let secret = secret.unwrap();
    let browser = bench.browser();
    let code = bench.code(&browser, &id, &[]).await;
    let (_, before) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    let before = before["id_token"].as_str().unwrap().to_owned();
    let keys = bench.server.oidc_keys.clone().unwrap();
    let new = SigningKeys::rotate(&keys, bench.server.clock.now(), 600).unwrap();
    assert_eq!(bench.jwks().await.keys().len(), 4, "the old keys stay published");
    bench.verified(&before).await;
    let code = bench.code(&browser, &id, &[]).await;
    let (_, after) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    let after = after["id_token"].as_str().unwrap();
    let kid = jwt::decode_header(after).unwrap().claim("kid").unwrap().as_str().unwrap().to_owned();
    assert!(new.contains(&kid), "{kid} is one of {new:?}");
    bench.verified(after).await;
    // Once the old keys' last ID token (10 minutes) has expired, they are no longer published.
    bench.server.clock.advance(600);
    assert_eq!(bench.jwks().await.keys().len(), 2);
    // Every token issued names its algorithm and key: never alg none.
    for token in [before.as_str(), after] {
        let header = jwt::decode_header(token).unwrap();
        assert_ne!(header.claim("alg").unwrap().as_str(), Some("none"));
    }
}

/// Debian's Python with Authlib, the independent relying party of `tests/oidc_rp.py`.
const PYTHON: &str = "/usr/bin/python3";

fn authlib_installed() -> bool {
    let found = std::process::Command::new(PYTHON)
        .args(["-c", "import authlib, requests"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("python3-authlib is not installed (scripts/prepare.sh installs it): skipping");
    }
    found
}

#[tokio::test]
async fn authlib_as_a_relying_party_verifies_what_the_provider_issues() {
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::process::{Command, Stdio};
    if !authlib_installed() {
        return;
    }
    let bench = Bench::start().await;
    let (id, secret) = bench.server.add_client("Authlib", &[APP], &[], false, Alg::Es256).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc_rp.py");
    let mut rp = Command::new(PYTHON)
        .args([script, &bench.server.issuer(), &id, &secret.unwrap(), APP])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The script's pipes are read off the runtime, which serves the provider meanwhile.
    let mut lines = BufReader::new(rp.stdout.take().unwrap()).lines();
    let (authorize, mut lines) = tokio::task::spawn_blocking(move || {
        let line = lines.next().unwrap().unwrap();
        (line, lines)
    })
    .await
    .unwrap();
    assert!(authorize.contains("code_challenge_method=S256"), "{authorize}");
    let (params, asked) = bench.authorize(&bench.browser(), &authorize).await;
    assert!(asked);
    let callback = format!(
        "{APP}?{}",
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish()
    );
    writeln!(rp.stdin.take().unwrap(), "{callback}").unwrap();
    let (answer, status) = tokio::task::spawn_blocking(move || {
        let line = lines.next().unwrap().unwrap();
        (line, rp.wait().unwrap())
    })
    .await
    .unwrap();
    assert!(status.success());
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["claims"]["sub"], "alice", "{answer}");
    assert_eq!(answer["claims"]["aud"], Value::from(id.as_str()));
    assert_eq!(answer["userinfo"]["name"], "Alice Example", "{answer}");
}

#[tokio::test]
async fn the_id_token_says_how_the_user_signed_in() {
    let bench = Bench::start().await;
    let (id, secret) = bench.server.add_client("App", &[APP], &[], false, Alg::Rs256).await;
    let secret = secret.unwrap();
    let amr_of = |payload: &JwtPayload| {
        let acr = payload.claim("acr").unwrap().as_str().unwrap().to_owned();
        (payload.claim("amr").unwrap().clone(), acr)
    };
    // Approved on the device.
    let code = bench.code(&bench.browser(), &id, &[]).await;
    let (_, tokens) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    let (payload, _) = bench.verified(tokens["id_token"].as_str().unwrap()).await;
    let (amr, acr) = amr_of(&payload);
    assert_eq!(amr, serde_json::json!(["mfa", "swk"]));
    assert!(acr.ends_with("device-approval"), "{acr}");
    // With a recovery code instead.
    let browser = bench.browser();
    let page = browser.get(&bench.authorize_url(&id, APP, &[])).await;
    let signin = browser.get(page.location.as_deref().unwrap()).await;
    let rd = between(&signin.body, "name=rd value=\"", "\"").replace("&amp;", "&");
    let form = browser.get("/twofold/recover").await;
    let done = browser
        .post(
            "/twofold/recover",
            &[("csrf", &form.csrf()), ("user", "alice"), ("code", &bench.codes[0]), ("rd", &rd)],
        )
        .await;
    assert_eq!(done.status, 303, "{done:?}");
    let back = browser.get(done.location.as_deref().unwrap()).await;
    let code = redirect_params(&back)["code"].clone();
    let (_, tokens) = bench.token(&redeem(&code, &[]), Some((&id, &secret))).await;
    let (payload, _) = bench.verified(tokens["id_token"].as_str().unwrap()).await;
    let (amr, acr) = amr_of(&payload);
    assert_eq!(amr, serde_json::json!(["otp"]));
    assert!(acr.ends_with("recovery-code"), "{acr}");
}
