//! A real server on a loopback port over a temp SQLite file, with a clock the test moves, and
//! protocol clients as services and devices.

#![allow(dead_code, reason = "each test file uses part of the support")]
#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::sync::Arc;
use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use twofold_protocol::client::{ClientError, DeviceClient, DeviceEvent, ServiceClient};
use twofold_protocol::{KeyPair, PairingLink};
use twofold_server::clock::{Clock as _, ManualClock, OsEntropy, SystemClock, random_seed};
use twofold_server::enrich::Enricher;
use twofold_server::{AppState, Settings, SqliteStore, admin, app};

/// A running server.
pub struct Server {
    pub url: String,
    pub clock: Arc<ManualClock>,
    pub store: SqliteStore,
    pub server_key: twofold_protocol::PublicKey,
    dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Self {
        Self::start_with(Enricher::default()).await
    }

    /// A server locating and describing sign-ins with `enricher`.
    pub async fn start_with(enricher: Enricher) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let key = KeyPair::from_seed(&random_seed(&OsEntropy).unwrap());
        let server_key = key.public();
        let settings = Settings::new(url.parse().unwrap());
        let state = AppState::new(
            store.clone(),
            key,
            settings,
            clock.clone(),
            Arc::new(OsEntropy),
            enricher,
        );
        tokio::spawn(state.background());
        tokio::spawn(async move { axum::serve(listener, app(state)).await });
        Self { url, clock, store, server_key, dir }
    }

    /// The SQLite file.
    pub fn database_path(&self) -> std::path::PathBuf {
        self.dir.path().join("t.db")
    }

    /// Makes every audit insert fail from now on (a trigger), as a crash mid-action would.
    pub async fn refuse_audit_entries(&self) {
        self.execute(
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit \
             BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END",
        )
        .await;
    }

    /// Undoes [`Server::refuse_audit_entries`].
    pub async fn accept_audit_entries(&self) {
        self.execute("DROP TRIGGER audit_refused").await;
    }

    /// Runs one statement on the database directly.
    async fn execute(&self, sql: &'static str) {
        let pool =
            sqlx::SqlitePool::connect(&format!("sqlite://{}", self.database_path().display()))
                .await
                .unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }

    /// The server's time.
    pub fn clock_now(&self) -> u64 {
        self.clock.now()
    }

    /// A new service and its client.
    pub async fn service(&self, name: &str) -> ServiceClient {
        let key = admin::add_service(&self.store, name, None, self.clock.now(), &OsEntropy)
            .await
            .unwrap();
        ServiceClient::new(&self.url, &key).unwrap()
    }

    /// A device of `user`, paired through a fresh link, sharing the server's clock.
    pub async fn device(&self, service: &ServiceClient, user: &str, name: &str) -> DeviceClient {
        let created = service.create_pairing(user).await.unwrap();
        let link: PairingLink = created.link.parse().unwrap();
        let key = KeyPair::from_seed(&random_seed(&OsEntropy).unwrap());
        let (device, completed) = DeviceClient::pair(&link, name, key).await.unwrap();
        assert_eq!(completed.user, user);
        let clock = self.clock.clone();
        device.with_clock(Arc::new(move || clock.now()))
    }
}

pub mod mmdb;

/// The next event of a stream, failing the test rather than hanging.
pub async fn next_event(
    events: &mut (impl Stream<Item = Result<DeviceEvent, ClientError>> + Unpin),
) -> DeviceEvent {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("no event within 10 s")
        .expect("the stream ended")
        .expect("a bad event")
}

/// The next sign-in request of a stream.
pub async fn next_request(
    events: &mut (impl Stream<Item = Result<DeviceEvent, ClientError>> + Unpin),
) -> twofold_protocol::SigninRequest {
    match next_event(events).await {
        DeviceEvent::Request(request) => *request,
        other => panic!("expected a request, got {other:?}"),
    }
}

/// The status and error code of a refusal.
pub fn refusal(error: ClientError) -> (u16, String) {
    match error {
        ClientError::Refused { status, body } => (status, body.error),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A sign-in body from a public address.
pub fn signin(user: &str, mode: twofold_protocol::Mode) -> twofold_protocol::api::CreateSignin {
    twofold_protocol::api::CreateSignin {
        user: user.into(),
        ip: "203.0.113.7".parse().unwrap(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into(),
        mode,
        context: Some("Sign in to Example Mail".into()),
    }
}
