//! The sign-in portal's figures, on loopback over a temp SQLite file:
//!
//! - forward-auth checks per second with a valid session (the hot path of every proxied request;
//!   goal ≥ 20 000/s), asked of the server directly (by reqwest, and by hyper's bare client
//!   connection, which takes less of the shared cores), and beside it the same requests through
//!   nginx to the app with and without `auth_request` (the proxy's own cost);
//! - sign-in page → approved on the device → the app answers through nginx: p50 / p99.
//!
//! `cargo bench -p twofold-server --bench portal`; `TWOFOLD_PORTAL_SECONDS` (default 5, per
//! phase), `TWOFOLD_PORTAL_CONNECTIONS` (default 32) and `TWOFOLD_PORTAL_SIGNINS` (default 200)
//! bound it. The load generator runs in this process, on the same 2 cores as the server and
//! nginx: its CPU is printed beside the figures.

#![allow(clippy::unwrap_used, clippy::print_stdout)] // a bench binary: fail loudly, print figures

#[path = "../tests/support/proxies.rs"]
mod proxies;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proxies::{Proxy, ProxyKind, SITE, WebBrowser, between, installed, upstream};
use twofold_protocol::client::DeviceClient;
use twofold_protocol::{Answer, KeyPair, Mode, PairingLink};
use twofold_server::clock::{Clock as _, OsEntropy, SystemClock, random_seed};
use twofold_server::enrich::Enricher;
use twofold_server::portal::{PortalConfig, users};
use twofold_server::{AppState, Limits, Settings, SqliteStore, app};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// CPU seconds (user + system) this process has used so far.
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> =
        stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum()) / 100.0
}

/// Requests per second of `connections` keep-alive clients sending `request` for `seconds`;
/// each answer must have status `expect`.
async fn rate(
    connections: usize,
    seconds: u64,
    expect: u16,
    request: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + 'static,
    client: reqwest::Client,
) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let request = Arc::new(request);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (done, request, client) = (done.clone(), request.clone(), client.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let response = request(&client).send().await.unwrap();
                    assert_eq!(response.status().as_u16(), expect);
                    let _ = response.bytes().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Forward-auth checks per second of `connections` keep-alive connections asking the server at
/// `addr` directly for `seconds`, over hyper's bare HTTP/1.1 client connection: the cheapest
/// real client at hand, as nginx's own subrequest is cheaper than a general HTTP client, so
/// that less of the shared cores goes to the generator. Each answer must be 200.
async fn auth_rate(
    addr: SocketAddr,
    connections: usize,
    seconds: u64,
    cookie: &str,
    original: &str,
) -> f64 {
    use http_body_util::{BodyExt as _, Empty};
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (done, cookie, original) = (done.clone(), cookie.to_owned(), original.to_owned());
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let io = hyper_util::rt::TokioIo::new(stream);
                let (mut sender, connection) =
                    hyper::client::conn::http1::handshake(io).await.unwrap();
                tokio::spawn(connection);
                while Instant::now() < deadline {
                    let request = axum::http::Request::get("/twofold/auth")
                        .header("host", addr.to_string())
                        .header("cookie", &cookie)
                        .header("x-original-url", &original)
                        .body(Empty::<axum::body::Bytes>::new())
                        .unwrap();
                    let response = sender.send_request(request).await.unwrap();
                    assert_eq!(response.status().as_u16(), 200);
                    let _ = response.into_body().collect().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let seconds = env_number("TWOFOLD_PORTAL_SECONDS", 5) as u64;
    let connections = env_number("TWOFOLD_PORTAL_CONNECTIONS", 32);
    let signins = env_number("TWOFOLD_PORTAL_SIGNINS", 200);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("bench.db").display()))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let url = format!("http://{addr}/");
    let mut settings = Settings::new(url.parse().unwrap());
    // The bench signs one user in hundreds of times: lift the anti-fatigue limits.
    settings.limits =
        Limits { signins_per_user: u32::MAX, signins_per_ip: u32::MAX, ..Limits::default() };
    let key = KeyPair::from_seed(&random_seed(&OsEntropy).unwrap());
    let state = AppState::new(
        store.clone(),
        key,
        settings,
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
        Enricher::default(),
    );
    tokio::spawn(state.background());
    let mut config = PortalConfig::new(&[SITE]);
    config.sites[0].mode = Mode::Push;
    let portal = twofold_server::portal::router(state.clone(), config).await.unwrap();
    let router = app(state).merge(portal);
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await
    });

    // Enrol "alice" as a person would.
    let link = users::add_user(
        &store,
        &url.parse().unwrap(),
        "alice",
        &users::Profile::default(),
        SystemClock.now(),
        &OsEntropy,
    )
    .await
    .unwrap();
    let direct = WebBrowser::direct(&url);
    let page = direct.get(&link).await;
    let pairing: PairingLink =
        between(&page.body, "<p class=link>", "</p>").replace("&amp;", "&").parse().unwrap();
    let device_key = KeyPair::from_seed(&random_seed(&OsEntropy).unwrap());
    let (device, _) = DeviceClient::pair(&pairing, "Laptop", device_key).await.unwrap();
    direct.post(&link, &[("csrf", &page.csrf())]).await;
    // The device allows every request, as fast as it can.
    let device = Arc::new(device);
    let answering = device.clone();
    tokio::spawn(async move {
        use futures_util::StreamExt as _;
        let mut events = Box::pin(answering.events().await.unwrap());
        while let Some(Ok(event)) = events.next().await {
            if let twofold_protocol::client::DeviceEvent::Request(request) = event {
                let _ = answering.decide(&request, Answer::Allow, None).await;
            }
        }
    });

    if !installed("nginx") {
        println!("nginx is not installed: no figures through the proxy");
        return;
    }
    let upstream_port = upstream().await;
    let proxy = Proxy::start(ProxyKind::Nginx, addr, upstream_port).await;

    // Sign-in → approved → the app, through nginx.
    let mut took = Vec::with_capacity(signins);
    let mut session = String::new();
    for _ in 0..signins {
        let browser = WebBrowser::at(SITE, proxy.port);
        let form = browser.get("/twofold/signin").await;
        let start = Instant::now();
        browser
            .post("/twofold/signin", &[("csrf", &form.csrf()), ("user", "alice"), ("rd", "")])
            .await;
        loop {
            let status = browser.get("/twofold/signin/status?wait=10").await;
            if !status.body.contains("waiting") {
                break;
            }
        }
        browser.post("/twofold/signin/continue", &[("csrf", &form.csrf())]).await;
        let app = browser.get("/").await;
        took.push(start.elapsed());
        assert_eq!(app.body, "hello alice (alice)");
        session = browser.cookie("twofold_session").unwrap();
    }
    took.sort();
    let at = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize];
    println!(
        "sign-in page -> approved on the device -> the app through nginx ({signins} sign-ins): \
         p50 {:.1} ms, p99 {:.1} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3
    );

    // Forward-auth checks with a valid session.
    let cookie = format!("twofold_session={session}");
    let original = format!("https://{SITE}/page");
    let plain = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();
    let cpu = own_cpu_seconds();
    let (c, o, auth_url) = (cookie.clone(), original.clone(), format!("{url}twofold/auth"));
    let direct_rate = rate(
        connections,
        seconds,
        200,
        move |client| client.get(&auth_url).header("cookie", &c).header("x-original-url", &o),
        plain.clone(),
    )
    .await;
    let cpu_direct = (own_cpu_seconds() - cpu) / seconds as f64;
    println!(
        "forward-auth checks, valid session, server asked directly ({connections} connections, \
         reqwest): {direct_rate:.0} /s (this process, server + load generator: {cpu_direct:.2} cores)"
    );
    let cpu = own_cpu_seconds();
    let bare_rate = auth_rate(addr, connections, seconds, &cookie, &original).await;
    let cpu_bare = (own_cpu_seconds() - cpu) / seconds as f64;
    println!(
        "forward-auth checks, valid session, server asked directly ({connections} connections, \
         hyper's bare connection): {bare_rate:.0} /s (this process, server + load generator: \
         {cpu_bare:.2} cores)"
    );
    let through = reqwest::Client::builder()
        .resolve(SITE, SocketAddr::from(([127, 0, 0, 1], proxy.port)))
        .danger_accept_invalid_certs(true)
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let site = format!("https://{SITE}:{}/", proxy.port);
    let (c, s) = (cookie.clone(), site.clone());
    let with_auth = rate(
        connections,
        seconds,
        200,
        move |client| client.get(&s).header("cookie", &c),
        through.clone(),
    )
    .await;
    let bare = format!("http://127.0.0.1:{upstream_port}/");
    let app_only = rate(connections, seconds, 200, move |client| client.get(&bare), plain).await;
    println!(
        "through nginx (TLS) with auth_request: {with_auth:.0} requests/s; the app alone, no \
         proxy: {app_only:.0} requests/s"
    );
    drop(proxy);
}
