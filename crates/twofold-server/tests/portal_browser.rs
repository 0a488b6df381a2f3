//! The sign-in portal in a real browser: Debian's headless Chromium over WebDriver
//! (chromium-driver), through nginx running the README's configuration, with a paired device
//! answering. The page's script notices the answer and moves on by itself.

#![allow(clippy::unwrap_used)] // tests: a failed step should stop the test loudly

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use twofold_protocol::{Answer, Mode};

use support::next_request;
use support::portal::{PortalServer, Proxy, ProxyKind, SITE, free_port, installed, upstream};

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, port, _profile: tempfile::tempdir().unwrap() }
    }

    /// A headless Chromium that finds the site on loopback and accepts the proxy's test
    /// certificate.
    async fn browser(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    format!("--host-resolver-rules=MAP {SITE} 127.0.0.1"),
                    "--ignore-certificate-errors",
                    format!("--user-data-dir={}", self._profile.path().display()),
                ]
            }),
        );
        ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .unwrap()
    }
}

/// The page's text once `check` accepts it, within 20 s.
async fn text_when(client: &Client, check: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        if let Ok(body) = client.find(Locator::Css("body")).await {
            last = body.text().await.unwrap_or_default();
            if check(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed what was expected; it shows: {last}");
}

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
