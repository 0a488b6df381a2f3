//! The demo service's pages, driven as a browser would, with a protocol client as the device.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::sync::Arc;

use twofold_protocol::client::DeviceClient;
use twofold_protocol::{Answer, KeyPair, PairingLink};
use twofold_server::clock::{OsEntropy, SystemClock};
use twofold_server::enrich::Enricher;
use twofold_server::{AppState, Settings, SqliteStore, admin, app, demo};

/// The text between `start` and `end` in `page`.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page.find(start).unwrap_or_else(|| panic!("no {start:?} in {page}")) + start.len();
    let to = page[from..].find(end).unwrap() + from;
    &page[from..to]
}

#[tokio::test]
async fn a_person_pairs_and_signs_in_through_the_demo_pages() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .await
        .unwrap();
    let key = admin::add_service(&store, "Twofold Demo", None, 0, &OsEntropy).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let state = AppState::new(
        store,
        KeyPair::from_seed(&[4; 32]),
        Settings::new(url.parse().unwrap()),
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
        Enricher::default(),
    );
    let api = app(state);
    let router = api.clone().merge(demo::router(api, key.to_string()));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let browser = reqwest::Client::new();
    let get = |path: &str| browser.get(format!("{url}{path}")).send();
    let post = |path: &str, form: &[(&str, &str)]| {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        browser
            .post(format!("{url}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };

    let home = get("demo/").await.unwrap().text().await.unwrap();
    assert!(home.contains("<form method=post action=/demo/signin>"), "{home}");

    // No device yet: the page says so.
    let page = post("demo/signin", &[("user", "alice"), ("mode", "number")]).await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("no paired device"), "{page}");

    // Pair: the page shows the QR code and the link.
    let page = post("demo/pair", &[("user", "alice")]).await.unwrap().text().await.unwrap();
    let qr = between(&page, "<img src=\"", "\"").replace("&amp;", "&");
    let svg = browser.get(&qr).send().await.unwrap().text().await.unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    let link = between(&page, "word-break:break-all'>", "</code>").replace("&amp;", "&");
    let link: PairingLink = link.parse().unwrap();
    let (device, _) =
        DeviceClient::pair(&link, "Laptop", KeyPair::from_seed(&[5; 32])).await.unwrap();

    // Sign in with number matching: the page shows the number, the device enters it.
    let page = post("demo/signin", &[("user", "alice"), ("mode", "number")]).await.unwrap();
    let page = page.text().await.unwrap();
    let number: u32 = between(&page, "<p class=number>", "</p>").parse().unwrap();
    let id = between(&page, "fetch('/demo/signins/", "/wait");
    let request = device.pending().await.unwrap().remove(0);
    assert_eq!(request.id.to_string(), id);
    assert_eq!(request.service, "Twofold Demo");
    device.decide(&request, Answer::Allow, Some(number)).await.unwrap();
    let state: serde_json::Value =
        get(&format!("demo/signins/{id}/wait")).await.unwrap().json().await.unwrap();
    assert_eq!(state["status"], "allowed");

    // User input is escaped, never markup.
    let page = post("demo/signin", &[("user", "<script>x</script>")]).await.unwrap();
    let page = page.text().await.unwrap();
    assert!(!page.contains("<script>x") && page.contains("&lt;script&gt;x"), "{page}");
}
