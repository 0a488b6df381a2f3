//! The sign-in portal's test bench: a real server with the portal on a loopback port (the
//! proxies and the browser in front of it are in `proxies.rs`).

use std::net::SocketAddr;
use std::sync::Arc;

use twofold_protocol::client::DeviceClient;
use twofold_protocol::{KeyPair, PairingLink};
use twofold_server::clock::{Clock as _, ManualClock, OsEntropy, SystemClock, random_seed};
use twofold_server::enrich::Enricher;
use twofold_server::portal::{PortalConfig, users};
use twofold_server::store::portal::PortalStore;
use twofold_server::{AppState, PgStore, Settings, Store as _, app};

use super::TestStore;
pub use super::proxies::*;

/// The server with its portal.
pub struct PortalServer {
    pub url: String,
    pub addr: SocketAddr,
    pub clock: Arc<ManualClock>,
    pub store: TestStore,
    _dir: tempfile::TempDir,
}

/// Serves the API and the portal over `store`.
async fn serve<S: PortalStore>(
    store: S,
    clock: Arc<ManualClock>,
    config: PortalConfig,
    settings: impl FnOnce(&mut Settings),
) -> (String, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}/");
    let mut all = Settings::new(url.parse().unwrap());
    settings(&mut all);
    let key = KeyPair::from_seed(&random_seed(&OsEntropy).unwrap());
    let state = AppState::new(store, key, all, clock, Arc::new(OsEntropy), Enricher::default());
    tokio::spawn(state.background());
    let portal = twofold_server::portal::router(state.clone(), config).await.unwrap();
    let router = app(state).merge(portal);
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await
    });
    (url, addr)
}

impl PortalServer {
    /// A server protecting [`SITE`] and [`OTHER_SITE`], confirming with `mode`.
    pub async fn start(mode: twofold_protocol::Mode) -> Self {
        Self::start_with(mode, |_| {}).await
    }

    /// As [`PortalServer::start`], with changed settings.
    pub async fn start_with(
        mode: twofold_protocol::Mode,
        settings: impl FnOnce(&mut Settings),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = TestStore::create(dir.path()).await;
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        Self::over(store, clock, mode, settings, dir).await
    }

    /// Another instance over the same PostgreSQL database, with the same clock: a second server
    /// process behind the same proxy configuration. `None` on SQLite, which one process owns.
    pub async fn another_instance(&self, mode: twofold_protocol::Mode) -> Option<Self> {
        let TestStore::Postgres(_, url) = &self.store else { return None };
        let store = TestStore::Postgres(PgStore::open(url).await.unwrap(), url.clone());
        let dir = tempfile::tempdir().unwrap();
        Some(Self::over(store, self.clock.clone(), mode, |_| {}, dir).await)
    }

    /// The server over `store`.
    async fn over(
        store: TestStore,
        clock: Arc<ManualClock>,
        mode: twofold_protocol::Mode,
        settings: impl FnOnce(&mut Settings),
        dir: tempfile::TempDir,
    ) -> Self {
        let mut config = PortalConfig::new(&[SITE, OTHER_SITE]);
        for site in &mut config.sites {
            site.mode = mode;
        }
        let (url, addr) = match store.clone() {
            TestStore::Sqlite(s, _) => serve(s, clock.clone(), config, settings).await,
            TestStore::Postgres(s, _) => serve(s, clock.clone(), config, settings).await,
        };
        Self { url, addr, clock, store, _dir: dir }
    }

    /// How many audit entries of `event` (its wire name) `user` has.
    pub async fn audit_count(&self, user: &str, event: &str) -> usize {
        let records = match &self.store {
            TestStore::Sqlite(s, _) => s.audit_records(0, 10_000).await,
            TestStore::Postgres(s, _) => s.audit_records(0, 10_000).await,
        };
        let records = records.unwrap();
        records.iter().filter(|r| r.user == user && r.event == event).count()
    }

    /// Adds a user; the enrolment link.
    pub async fn add_user(&self, name: &str, display_name: &str) -> String {
        let url = self.url.parse().unwrap();
        let now = self.clock.now();
        let link = match &self.store {
            TestStore::Sqlite(s, _) => {
                users::add_user(s, &url, name, Some(display_name), now, &OsEntropy).await
            }
            TestStore::Postgres(s, _) => {
                users::add_user(s, &url, name, Some(display_name), now, &OsEntropy).await
            }
        };
        link.unwrap().to_string()
    }

    /// Adds a user and enrols them as a person would: opens the link, pairs a device with the
    /// pairing link the page shows, continues; the device and the recovery codes shown.
    pub async fn enrolled_user(
        &self,
        name: &str,
        display_name: &str,
    ) -> (DeviceClient, Vec<String>) {
        let link = self.add_user(name, display_name).await;
        let browser = WebBrowser::direct(&self.url);
        let page = browser.get(&link).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let pairing = between(&page.body, "<p class=link>", "</p>").replace("&amp;", "&");
        let pairing: PairingLink = pairing.parse().unwrap();
        let key = KeyPair::from_seed(&random_seed(&OsEntropy).unwrap());
        let (device, _) = DeviceClient::pair(&pairing, "Laptop", key).await.unwrap();
        let clock = self.clock.clone();
        let device = device.with_clock(Arc::new(move || clock.now()));
        let page = browser.post(&link, &[("csrf", &page.csrf())]).await;
        assert!(page.body.contains("recovery codes"), "{}", page.body);
        let codes = page
            .body
            .split("<li>")
            .skip(1)
            .map(|item| item.split("</li>").next().unwrap().to_owned())
            .collect();
        (device, codes)
    }
}
