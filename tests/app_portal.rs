//! The app answers a sign-in on the portal, end to end with real parts only: the server with its
//! sign-in portal on loopback, Debian's nginx running the README's `auth_request` configuration
//! in front of a small upstream app (the server tests' bench), the app under Xvfb over
//! WebDriver, gnome-keyring and dunst. The user enrols by pasting the enrolment page's pairing
//! link into the app; a browser sent to sign in is let through by nginx after Allow from the
//! notification, and kept out after Don't Allow.

mod support;
mod trusted_device;

// The server tests' support: the portal server, nginx in front of an upstream, a browser.
#[path = "../crates/twofold-server/tests/support/mod.rs"]
mod server;

use fantoccini::Client;
use server::portal::{Page, PortalServer, Proxy, ProxyKind, SITE, WebBrowser, between, upstream};
use support::{ONE_APP, TestResult, TestVault, ensure, invoke_action, start_app};
use trusted_device::{Handing, last_notification, notification_for, pair_in_window, view_names};
use twofold_protocol::{Mode, PairingLink};
use twofold_server::clock::{Clock as _, SystemClock};

/// The name the portal's requests come under (its configuration's default).
const PORTAL: &str = "Twofold sign-in";

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn a_portal_sign_in_through_nginx_is_answered_from_the_notification() -> TestResult {
    ensure!(server::portal::installed("nginx"), "nginx (Debian package nginx) must be installed");
    let _one = ONE_APP.lock().await;
    let server = PortalServer::start(Mode::Push).await;
    let proxy = Proxy::start(ProxyKind::Nginx, server.addr, upstream().await).await;
    let test = TestVault::new()?;
    let client = start_app(test.dir.path()).await?;
    let outcome = enrol_and_sign_in(&client, &server, &proxy).await;
    client.close().await?;
    outcome
}

async fn enrol_and_sign_in(client: &Client, server: &PortalServer, proxy: &Proxy) -> TestResult {
    // Enrolment as a person does it: the page's pairing link pasted into the app, then on.
    let enrolment = server.add_user("alice", "Alice Example").await;
    let enrolling = WebBrowser::direct(&server.url);
    let page = enrolling.get(&enrolment).await;
    ensure!(page.status == 200, "the enrolment page: {page:?}");
    let link = between(&page.body, "<p class=link>", "</p>").replace("&amp;", "&");
    let fingerprint = link.parse::<PairingLink>()?.fingerprint.to_string();
    pair_in_window(client, &link, &fingerprint, PORTAL, Handing::Pasted).await?;
    let done = enrolling.post(&enrolment, &[("csrf", &page.csrf())]).await;
    ensure!(done.body.contains("recovery codes"), "enrolment did not end: {}", done.body);

    // Allow from the notification: nginx lets the browser through to the app, as alice.
    let browser = WebBrowser::at(SITE, proxy.port);
    let before = last_notification().await?;
    let waiting = start_signin(server, &browser).await?;
    let shown = notification_for("alice", before).await?;
    ensure!(shown.summary == format!("Sign in to {PORTAL}?"), "summary: {shown:?}");
    let site = format!("Sign in to {SITE}");
    ensure!(shown.body.contains(&site), "the notification does not say {site:?}: {shown:?}");
    ensure!(shown.body.contains("Firefox"), "no browser named in {shown:?}");
    view_names(client, &site).await?;
    let early = browser.get("/notes").await;
    ensure!(early.status == 302, "nginx let the browser through before Allow: {early:?}");
    invoke_action(&format!("[{},allow]", shown.id)).await?;
    let page = answered(&browser, &waiting).await?;
    ensure!(page.status == 303, "after Allow: {page:?}");
    let app = browser.get("/notes").await;
    ensure!(
        (app.status, app.body.as_str()) == (200, "hello alice (Alice Example)"),
        "nginx answered {app:?}"
    );

    // Don't Allow from the notification: no session, nginx sends the browser to sign in.
    let browser = WebBrowser::at(SITE, proxy.port);
    let before = last_notification().await?;
    let waiting = start_signin(server, &browser).await?;
    let shown = notification_for("alice", before).await?;
    invoke_action(&format!("[{},deny]", shown.id)).await?;
    let page = answered(&browser, &waiting).await?;
    ensure!(page.body.contains("refused on your device"), "after Don't Allow: {}", page.body);
    ensure!(page.cookie("twofold_session").is_none(), "a session after Don't Allow: {page:?}");
    let app = browser.get("/notes").await;
    ensure!(app.status == 302, "nginx let a refused browser through: {app:?}");
    Ok(())
}

/// Opens a protected page unauthenticated, follows nginx to the sign-in page and submits
/// "alice": the page that waits for her device.
async fn start_signin(server: &PortalServer, browser: &WebBrowser) -> TestResult<Page> {
    // The portal's clock is the test's to move; the app checks requests against the real time.
    server.clock.advance(SystemClock.now().saturating_sub(server.clock.now()));
    let page = browser.get("/notes").await;
    let signin = page.location.clone().unwrap_or_default();
    ensure!(page.status == 302 && signin.contains("/twofold/signin?rd="), "nginx: {page:?}");
    let form = browser.get(&signin).await;
    let rd = between(&form.body, "name=rd value=\"", "\"");
    let posted = browser
        .post("/twofold/signin", &[("csrf", &form.csrf()), ("user", "alice"), ("rd", &rd)])
        .await;
    ensure!(posted.status == 303, "the sign-in form: {posted:?}");
    let waiting = browser.get("/twofold/signin/pending").await;
    ensure!(waiting.body.contains("Check your device"), "{}", waiting.body);
    Ok(waiting)
}

/// Waits (as the page's script does) until the sign-in was answered, then continues as the
/// waiting page's form does: the page it ends on.
async fn answered(browser: &WebBrowser, waiting: &Page) -> TestResult<Page> {
    for _ in 0..10 {
        let status = browser.get("/twofold/signin/status?wait=5").await;
        if !status.body.contains("waiting") {
            return Ok(browser
                .post("/twofold/signin/continue", &[("csrf", &waiting.csrf())])
                .await);
        }
    }
    Err("the sign-in was never answered".into())
}
