//! A real relying party nobody here wrote: Debian's Apache with mod_auth_openidc runs
//! `docs/oidc/mod_auth_openidc.conf` on loopback, Twofold is its OpenID Connect provider, and a
//! paired device answers (at the protocol level, as the portal's tests do). The page behind
//! Apache is reached only after Allow on the device.

#![allow(clippy::unwrap_used)] // tests: a failed step should stop the test loudly

mod support;

use fantoccini::Locator;
use twofold_protocol::client::DeviceClient;
use twofold_protocol::{Answer, Mode};
use twofold_server::oidc::keys::Alg;

use support::chromium::{Driver, text_when};
use support::next_request;
use support::portal::{Apache, Page, PortalServer, WebBrowser, between, free_port, installed};

/// Where `page` sends the browser, made absolute against `from`.
fn next(from: &str, page: &Page) -> String {
    url::Url::parse(from).unwrap().join(&page.forward()).unwrap().to_string()
}

/// A server with the provider, "alice" with her device, and Apache registered as its client
/// "Intranet" in front of `/protected/`.
struct Bench {
    server: PortalServer,
    device: DeviceClient,
    apache: Apache,
    /// Apache's redirect URI.
    redirect: String,
    /// The protected page.
    site: String,
}

impl Bench {
    async fn start() -> Self {
        let server = PortalServer::start_oidc(Mode::Number).await;
        let (device, _) = server.enrolled_user("alice", "Alice Example").await;
        let port = free_port();
        let redirect = format!("http://127.0.0.1:{port}/protected/redirect_uri");
        let (id, secret) =
            server.add_client("Intranet", &[&redirect], &[], false, Alg::Rs256).await;
        let apache = Apache::start(&server.issuer(), port, &id, &secret.unwrap()).await;
        let site = format!("http://127.0.0.1:{port}/protected/");
        Self { server, device, apache, redirect, site }
    }
}

impl Bench {
    /// Apache's own "sign in again" link (mod_auth_openidc's third-party-initiated login at its
    /// redirect URI): a fresh authorization request to Twofold, with `params` added to it, that
    /// ends on the protected page.
    fn sign_in_again(&self, params: &str) -> String {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("iss", &self.server.issuer())
            .append_pair("target_link_uri", &self.site)
            .append_pair("auth_request_params", params)
            .finish();
        format!("{}?{query}", self.redirect)
    }
}

#[tokio::test]
async fn apache_lets_the_browser_in_only_after_allow_on_the_device() {
    if !Apache::installed() {
        return;
    }
    let Bench { server, device, apache, redirect, site } = Bench::start().await;
    let browser = WebBrowser::direct(&site);
    let mut events = Box::pin(device.events().await.unwrap());

    // Don't Allow: Apache never lets the browser in.
    for answer in [Answer::Deny, Answer::Allow] {
        let page = browser.get(&site).await;
        assert_eq!(page.status, 302, "{page:?}\n{}", apache.log());
        let authorize = next(&site, &page);
        assert!(
            authorize.starts_with(&format!("{}/oidc/authorize?", server.issuer())),
            "{authorize}"
        );
        assert!(authorize.contains("code_challenge_method=S256"), "{authorize}");
        let page = browser.get(&authorize).await;
        let signin = next(&authorize, &page);
        let form = browser.get(&signin).await;
        assert_eq!(form.status, 200, "{form:?}");
        let rd = between(&form.body, "name=rd value=\"", "\"").replace("&amp;", "&");
        let posted = browser
            .post(
                &format!("{}twofold/signin", server.url),
                &[("csrf", &form.csrf()), ("user", "alice"), ("rd", &rd)],
            )
            .await;
        assert_eq!(posted.status, 303, "{posted:?}");
        let waiting = browser.get(&format!("{}twofold/signin/pending", server.url)).await;
        let request = next_request(&mut events).await;
        assert_eq!(request.context.as_deref(), Some("Sign in to Intranet"));
        device.decide(&request, answer, waiting.number()).await.unwrap();
        let done = browser
            .post(&format!("{}twofold/signin/continue", server.url), &[("csrf", &waiting.csrf())])
            .await;
        if answer == Answer::Deny {
            assert!(done.body.contains("refused on your device"), "{}", done.body);
            assert_eq!(browser.get(&site).await.status, 302, "still out");
            continue;
        }
        // Back to the authorization endpoint, then to Apache with a code.
        let back = browser.get(&next(&server.url, &done)).await;
        let to_apache = next(&authorize, &back);
        assert!(to_apache.starts_with(&redirect), "{to_apache}");
        // Apache redeems the code (its own token request), checks the ID token, and sends the
        // browser on to the page.
        let page = browser.get(&to_apache).await;
        assert_eq!(page.status, 302, "{page:?}\n{}", apache.log());
        let page = browser.get(&next(&to_apache, &page)).await;
        assert_eq!(page.status, 200, "{page:?}\n{}", apache.log());
        assert_eq!(page.body, "the protected page");
        assert_eq!(page.headers.get("x-remote-user").unwrap(), "alice");
    }
    assert_eq!(server.audit_count("alice", "oidc_token_issued").await, 1);
}

#[tokio::test]
async fn prompt_login_and_max_age_zero_from_apache_ask_the_device_again() {
    if !Apache::installed() {
        return;
    }
    let bench = Bench::start().await;
    let browser = WebBrowser::direct(&bench.site);
    let mut events = Box::pin(bench.device.events().await.unwrap());
    let server = &bench.server;
    // Follows Apache and Twofold from `start` to the protected page, answering Allow on the
    // device if it is asked; whether it was.
    let mut reach_page = async |start: &str| {
        let page = browser.get(start).await;
        assert_eq!(page.status, 302, "{page:?}\n{}", bench.apache.log());
        let authorize = next(start, &page);
        assert!(authorize.starts_with(&format!("{}/oidc/authorize?", server.issuer())));
        let page = browser.get(&authorize).await;
        let mut to_apache = next(&authorize, &page);
        let asked = to_apache.starts_with(&format!("{}twofold/signin", server.url));
        if asked {
            let form = browser.get(&to_apache).await;
            let rd = between(&form.body, "name=rd value=\"", "\"").replace("&amp;", "&");
            let signin = format!("{}twofold/signin", server.url);
            let form = [("csrf", form.csrf()), ("user", "alice".into()), ("rd", rd)];
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(browser.post(&signin, &form).await.status, 303);
            let waiting = browser.get(&format!("{}twofold/signin/pending", server.url)).await;
            let request = next_request(&mut events).await;
            bench.device.decide(&request, Answer::Allow, waiting.number()).await.unwrap();
            let continued = format!("{}twofold/signin/continue", server.url);
            let done = browser.post(&continued, &[("csrf", &waiting.csrf())]).await;
            let back = browser.get(&next(&server.url, &done)).await;
            to_apache = next(&authorize, &back);
        }
        assert!(to_apache.starts_with(&bench.redirect), "{to_apache}");
        let page = browser.get(&to_apache).await;
        assert_eq!(page.status, 302, "{page:?}\n{}", bench.apache.log());
        let page = browser.get(&next(&to_apache, &page)).await;
        assert_eq!(page.body, "the protected page", "{}", bench.apache.log());
        asked
    };
    assert!(reach_page(&bench.site).await, "the first sign-in asks the device");
    // Apache signs in again with Twofold: the browser's live session answers, no device.
    assert!(!reach_page(&bench.sign_in_again("display=page")).await);
    for params in ["prompt=login", "max_age=0"] {
        server.clock.advance(2);
        let again = bench.sign_in_again(params);
        assert!(reach_page(&again).await, "{params}: the device is asked again");
    }
    assert_eq!(server.audit_count("alice", "oidc_token_issued").await, 4);
}

#[tokio::test]
async fn chromium_reaches_the_page_behind_apache_once_the_device_allows() {
    if !Apache::installed() || !installed("chromedriver") || !installed("chromium") {
        return;
    }
    let bench = Bench::start().await;
    let driver = Driver::start().await;
    let client = driver.browser().await;
    let mut events = Box::pin(bench.device.events().await.unwrap());
    client.goto(&bench.site).await.unwrap();
    text_when(&client, |t| t.contains("Sign in")).await;
    let url = client.current_url().await.unwrap();
    assert!(url.as_str().starts_with(&format!("{}twofold/signin", bench.server.url)), "{url}");
    client.find(Locator::Css("input[name=user]")).await.unwrap().send_keys("alice").await.unwrap();
    client.find(Locator::Css("form button")).await.unwrap().click().await.unwrap();
    text_when(&client, |t| t.contains("Check your device")).await;
    let number = client.find(Locator::Css("#number")).await.unwrap().text().await.unwrap();
    let request = next_request(&mut events).await;
    assert_eq!(request.context.as_deref(), Some("Sign in to Intranet"));
    assert!(request.user_agent.contains("Chrome"), "{}", request.user_agent);
    bench
        .device
        .decide(&request, Answer::Allow, Some(number.trim().parse().unwrap()))
        .await
        .unwrap();
    // No click: the page goes on by itself, through Twofold and Apache to the page.
    let page = text_when(&client, |t| t.contains("the protected page")).await;
    assert_eq!(page, "the protected page", "{}", bench.apache.log());
    assert_eq!(client.current_url().await.unwrap().as_str(), bench.site);
    // Apache asks Twofold for a fresh sign-in: the trusted, signed-in browser is asked the
    // device again.
    for params in ["prompt=login", "max_age=0"] {
        bench.server.clock.advance(2);
        client.goto(&bench.sign_in_again(params)).await.unwrap();
        text_when(&client, |t| t.contains("Sign in")).await;
        let field = client.find(Locator::Css("input[name=user]")).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys("alice").await.unwrap();
        client.find(Locator::Css("form button")).await.unwrap().click().await.unwrap();
        text_when(&client, |t| t.contains("Check your device")).await;
        let number = client.find(Locator::Css("#number")).await.unwrap().text().await.unwrap();
        let request = next_request(&mut events).await;
        assert_eq!(request.context.as_deref(), Some("Sign in to Intranet"), "{params}");
        let number = Some(number.trim().parse().unwrap());
        bench.device.decide(&request, Answer::Allow, number).await.unwrap();
        let page = text_when(&client, |t| t.contains("the protected page")).await;
        assert_eq!(page, "the protected page", "{params}: {}", bench.apache.log());
    }
    assert_eq!(bench.server.audit_count("alice", "oidc_token_issued").await, 3);
    client.close().await.unwrap();
}
