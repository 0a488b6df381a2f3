//! The sign-in portal's test bench: a real server with the portal on a loopback port (the
//! proxies and the browser in front of it are in `proxies.rs`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use twofold_protocol::client::DeviceClient;
use twofold_protocol::{KeyPair, PairingLink};
use twofold_server::clock::{Clock as _, ManualClock, OsEntropy, SystemClock, random_seed};
use twofold_server::enrich::Enricher;
use twofold_server::oidc::clients::{self, NewClient};
use twofold_server::oidc::keys::Alg;
use twofold_server::oidc::{Oidc, OidcConfig};
use twofold_server::portal::{Portal, PortalConfig, users};
use twofold_server::store::oidc::OidcStore;
use twofold_server::{AppState, PgStore, Settings, Store as _, app};

use super::TestStore;
pub use super::proxies::*;

/// The server with its portal.
pub struct PortalServer {
    pub url: String,
    pub addr: SocketAddr,
    pub clock: Arc<ManualClock>,
    pub store: TestStore,
    /// The OpenID Connect provider's signing keys, when it runs.
    pub oidc_keys: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

/// The OpenID Connect provider of a test server: its keys' file.
struct Provider {
    keys: PathBuf,
}

/// Serves the API and the portal (and the provider, if given) over `store`.
async fn serve<S: OidcStore>(
    store: S,
    clock: Arc<ManualClock>,
    config: PortalConfig,
    settings: impl FnOnce(&mut Settings),
    listener: tokio::net::TcpListener,
    provider: Option<Provider>,
) -> String {
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}/");
    let mut all = Settings::new(url.parse().unwrap());
    settings(&mut all);
    let key = KeyPair::from_seed(&random_seed(&OsEntropy).unwrap());
    let now = clock.now();
    let state = AppState::new(store, key, all, clock, Arc::new(OsEntropy), Enricher::default());
    tokio::spawn(state.background());
    let portal = Portal::start(state.clone(), config).await.unwrap();
    let mut router = app(state).merge(portal.routes());
    if let Some(provider) = provider {
        let oidc = OidcConfig::new(&format!("http://{addr}/twofold"));
        let oidc = Oidc::new(portal, oidc, provider.keys, now).unwrap();
        router = router.merge(twofold_server::oidc::router(oidc));
    }
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await
    });
    url
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
        Self::launch(mode, settings, false).await
    }

    /// A server protecting [`SITE`], [`OTHER_SITE`] and 127.0.0.1, with the OpenID Connect
    /// provider at `http://127.0.0.1:PORT/twofold`, confirming with `mode`.
    pub async fn start_oidc(mode: twofold_protocol::Mode) -> Self {
        Self::launch(mode, |_| {}, true).await
    }

    async fn launch(
        mode: twofold_protocol::Mode,
        settings: impl FnOnce(&mut Settings),
        oidc: bool,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = TestStore::create(dir.path()).await;
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        Self::over(store, clock, mode, settings, oidc, dir).await
    }

    /// Another instance over the same PostgreSQL database, with the same clock: a second server
    /// process behind the same proxy configuration. `None` on SQLite, which one process owns.
    pub async fn another_instance(&self, mode: twofold_protocol::Mode) -> Option<Self> {
        let TestStore::Postgres(_, url) = &self.store else { return None };
        let store = TestStore::Postgres(PgStore::open(url).await.unwrap(), url.clone());
        let dir = tempfile::tempdir().unwrap();
        Some(Self::over(store, self.clock.clone(), mode, |_| {}, false, dir).await)
    }

    /// The server over `store` (with the provider if `oidc`), keeping `dir` while it runs.
    async fn over(
        store: TestStore,
        clock: Arc<ManualClock>,
        mode: twofold_protocol::Mode,
        settings: impl FnOnce(&mut Settings),
        oidc: bool,
        dir: tempfile::TempDir,
    ) -> Self {
        let sites: &[&str] =
            if oidc { &[SITE, OTHER_SITE, "127.0.0.1"] } else { &[SITE, OTHER_SITE] };
        let mut config = PortalConfig::new(sites);
        for site in &mut config.sites {
            site.mode = mode;
        }
        let keys = dir.path().join("oidc-keys.json");
        let provider = oidc.then(|| Provider { keys: keys.clone() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = match store.clone() {
            TestStore::Sqlite(s, _) => {
                serve(s, clock.clone(), config, settings, listener, provider).await
            }
            TestStore::Postgres(s, _) => {
                serve(s, clock.clone(), config, settings, listener, provider).await
            }
        };
        Self { url, addr, clock, store, oidc_keys: oidc.then_some(keys), _dir: dir }
    }

    /// The provider's issuer.
    pub fn issuer(&self) -> String {
        format!("http://{}/twofold", self.addr)
    }

    /// Registers an OpenID Connect client; its id and secret (none for a public client).
    pub async fn add_client(
        &self,
        name: &str,
        redirect_uris: &[&str],
        post_logout_uris: &[&str],
        public: bool,
        alg: Alg,
    ) -> (String, Option<String>) {
        let redirect_uris: Vec<String> = redirect_uris.iter().map(|u| (*u).to_owned()).collect();
        let post_logout_uris: Vec<String> =
            post_logout_uris.iter().map(|u| (*u).to_owned()).collect();
        let new = NewClient {
            name,
            redirect_uris: &redirect_uris,
            post_logout_uris: &post_logout_uris,
            public,
            alg,
        };
        let made = clients::register(&new, self.clock.now(), &OsEntropy).unwrap();
        match &self.store {
            TestStore::Sqlite(s, _) => s.add_client(&made.client).await.unwrap(),
            TestStore::Postgres(s, _) => s.add_client(&made.client).await.unwrap(),
        }
        (made.client.id, made.secret.map(|s| s.to_string()))
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

    /// Whether the store still holds the access token `token` (revoked or not).
    pub async fn token_stored(&self, token: &str) -> bool {
        use sha2::Digest as _;
        let hash: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let found = match &self.store {
            TestStore::Sqlite(s, _) => s.token(&hash).await,
            TestStore::Postgres(s, _) => s.token(&hash).await,
        };
        found.unwrap().is_some()
    }

    /// Sets the user's email address as `twofold-server user set NAME --email` does.
    pub async fn set_email(&self, name: &str, email: &str) {
        let profile = users::Profile { display_name: None, email: Some(email) };
        match &self.store {
            TestStore::Sqlite(s, _) => users::set_profile(s, name, &profile).await,
            TestStore::Postgres(s, _) => users::set_profile(s, name, &profile).await,
        }
        .unwrap();
    }

    /// Adds a user; the enrolment link.
    pub async fn add_user(&self, name: &str, display_name: &str) -> String {
        let url = self.url.parse().unwrap();
        let now = self.clock.now();
        let profile = users::Profile { display_name: Some(display_name), email: None };
        let link = match &self.store {
            TestStore::Sqlite(s, _) => {
                users::add_user(s, &url, name, &profile, now, &OsEntropy).await
            }
            TestStore::Postgres(s, _) => {
                users::add_user(s, &url, name, &profile, now, &OsEntropy).await
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
