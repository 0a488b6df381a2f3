//! The sign-in portal in a real browser: Debian's headless Chromium over WebDriver
//! (chromium-driver), through nginx running the README's configuration, with a paired device
//! answering. The page's script notices the answer and moves on by itself.

#![allow(clippy::unwrap_used)] // tests: a failed step should stop the test loudly

mod support;

use fantoccini::Locator;
use twofold_protocol::{Answer, Mode};

use support::chromium::{Driver, text_when};
use support::next_request;
use support::portal::{PortalServer, Proxy, ProxyKind, SITE, installed, upstream};

#[tokio::test]
async fn chromium_signs_in_through_nginx_once_the_device_allows() {
    if !installed("nginx") || !installed("chromedriver") || !installed("chromium") {
        return;
    }
    let server = PortalServer::start(Mode::Number).await;
    let (device, _) = server.enrolled_user("alice", "Alice Example").await;
    let proxy = Proxy::start(ProxyKind::Nginx, server.addr, upstream().await).await;
    let driver = Driver::start().await;
    let client = driver.browser().await;
    let site = format!("https://{SITE}:{}", proxy.port);
    let mut events = Box::pin(device.events().await.unwrap());

    client.goto(&format!("{site}/wiki/Start")).await.unwrap();
    text_when(&client, |t| t.contains("Sign in")).await;
    assert!(client.current_url().await.unwrap().as_str().contains("/twofold/signin?rd="));
    client.find(Locator::Css("input[name=user]")).await.unwrap().send_keys("alice").await.unwrap();
    client.find(Locator::Css("input[name=trust]")).await.unwrap().click().await.unwrap();
    client.find(Locator::Css("form button")).await.unwrap().click().await.unwrap();
    let waiting = text_when(&client, |t| t.contains("Check your device")).await;
    let number: u32 = client
        .find(Locator::Css("#number"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(waiting.contains(&number.to_string()));
    let request = next_request(&mut events).await;
    assert!(request.user_agent.contains("Chrome"), "{}", request.user_agent);
    device.decide(&request, Answer::Allow, Some(number)).await.unwrap();
    // No click: the page's script waits for the answer and continues.
    let app = text_when(&client, |t| t.contains("hello alice")).await;
    assert_eq!(app, "hello alice (Alice Example)");
    assert_eq!(client.current_url().await.unwrap().as_str(), format!("{site}/wiki/Start"));
    // The session cookie is out of the page's reach (HttpOnly).
    let cookies = client.execute("return document.cookie", vec![]).await.unwrap();
    assert!(!cookies.as_str().unwrap_or_default().contains("twofold_session"), "{cookies}");
    // The account page lists this browser as trusted.
    client.goto(&format!("{site}/twofold/account")).await.unwrap();
    let account = text_when(&client, |t| t.contains("Your account")).await;
    assert!(account.contains("trusted") && account.contains("Laptop"), "{account}");
    client.close().await.unwrap();
}
