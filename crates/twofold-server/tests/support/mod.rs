//! A real server on a loopback port over a temp SQLite file (or a fresh PostgreSQL database when
//! `TWOFOLD_TEST_DATABASE_URL` is set), with a clock the test moves, and protocol clients as
//! services and devices.

#![allow(dead_code, reason = "each test file uses part of the support")]
#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::sync::Arc;
use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use twofold_protocol::client::{ClientError, DeviceClient, DeviceEvent, ServiceClient};
use twofold_protocol::{KeyPair, PairingLink};
use twofold_server::clock::{Clock as _, ManualClock, OsEntropy, SystemClock, random_seed};
use twofold_server::connections::{self, ConnectionLimits};
use twofold_server::enrich::Enricher;
use twofold_server::{AppState, PgStore, Settings, SqliteStore, Store, admin, app};

/// The database the tests run on: a temp SQLite file, or a fresh PostgreSQL database when
/// `TWOFOLD_TEST_DATABASE_URL` names a server (scripts/with-postgres sets it).
#[derive(Clone)]
pub enum TestStore {
    Sqlite(SqliteStore, String),
    Postgres(PgStore, String),
}

/// `$body` with `$store` bound to whichever store it is.
macro_rules! on_store {
    ($store:expr, $s:ident => $body:expr) => {
        match $store {
            TestStore::Sqlite($s, _) => $body,
            TestStore::Postgres($s, _) => $body,
        }
    };
}

impl TestStore {
    /// A new, empty database.
    pub async fn create(dir: &std::path::Path) -> Self {
        match std::env::var("TWOFOLD_TEST_DATABASE_URL") {
            Ok(server) => {
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(&server).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .unwrap();
                admin.close().await;
                let mut url: url::Url = server.parse().unwrap();
                url.set_path(&name);
                let url = url.to_string();
                Self::Postgres(PgStore::open(&url).await.unwrap(), url)
            }
            Err(_) => {
                let url = format!("sqlite://{}", dir.join("t.db").display());
                Self::Sqlite(SqliteStore::open(&url).await.unwrap(), url)
            }
        }
    }

    /// Runs statements on the database directly, beside the server.
    pub async fn execute(
        &self,
        sqlite: &'static str,
        postgres: &'static str,
    ) -> Result<(), String> {
        match self {
            Self::Sqlite(_, url) => {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                let done = sqlx::raw_sql(sqlite).execute(&pool).await;
                pool.close().await;
                done.map(drop).map_err(|e| e.to_string())
            }
            Self::Postgres(_, url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let done = sqlx::raw_sql(postgres).execute(&pool).await;
                pool.close().await;
                done.map(drop).map_err(|e| e.to_string())
            }
        }
    }

    /// The first column of every row `sql` returns, as bytes, read directly from the database.
    pub async fn bytes(&self, sql: &'static str) -> Vec<Vec<u8>> {
        match self {
            Self::Sqlite(_, url) => {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
            Self::Postgres(_, url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
        }
    }

    /// Adds a service; its API key.
    pub async fn add_service(&self, name: &str, now: u64) -> String {
        on_store!(self, s => admin::add_service(s, name, None, now, &OsEntropy).await)
            .unwrap()
            .to_string()
    }

    /// Checks the audit log's hash chain.
    pub async fn verify_audit(
        &self,
    ) -> Result<twofold_server::store::chain::ChainReport, admin::AdminError> {
        on_store!(self, s => admin::verify_audit(s).await)
    }

    /// Revokes a service's API key.
    pub async fn revoke_service(&self, name: &str, now: u64) {
        on_store!(self, s => admin::revoke_service(s, name, now).await).unwrap();
    }
}

/// A running server.
pub struct Server {
    pub url: String,
    pub clock: Arc<ManualClock>,
    pub store: TestStore,
    pub server_key: twofold_protocol::PublicKey,
    /// Notified, it starts the server's shutdown, as SIGTERM does.
    stop: Arc<tokio::sync::Notify>,
    serving: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Serves `store` on a loopback port with its background work until `stop` is notified; the URL
/// and the task serving it.
async fn serve<S: Store>(
    store: S,
    key: KeyPair,
    clock: Arc<ManualClock>,
    enricher: Enricher,
    stop: Arc<tokio::sync::Notify>,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let settings = Settings::new(url.parse().unwrap());
    let state = AppState::new(store, key, settings, clock, Arc::new(OsEntropy), enricher);
    tokio::spawn(state.background());
    let limits = ConnectionLimits::default();
    let serving = tokio::spawn(async move {
        connections::serve(listener, app(state), &limits, stop.notified()).await;
    });
    (url, serving)
}

impl Server {
    pub async fn start() -> Self {
        Self::start_with(Enricher::default()).await
    }

    /// A server locating and describing sign-ins with `enricher`.
    pub async fn start_with(enricher: Enricher) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = TestStore::create(dir.path()).await;
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let seed = random_seed(&OsEntropy).unwrap();
        Self::instance(store, &seed, clock, enricher, dir).await
    }

    /// Another instance over the same database, with the same key and clock: what a second
    /// server process behind the same address is.
    pub async fn another_instance(&self, seed: &[u8; 32]) -> Self {
        let store = match &self.store {
            TestStore::Postgres(_, url) => {
                TestStore::Postgres(PgStore::open(url).await.unwrap(), url.clone())
            }
            TestStore::Sqlite(..) => panic!("several instances need PostgreSQL"),
        };
        Self::instance(
            store,
            seed,
            self.clock.clone(),
            Enricher::default(),
            tempfile::tempdir().unwrap(),
        )
        .await
    }

    /// A first instance whose key seed is `seed`, for [`Server::another_instance`].
    pub async fn start_keyed(seed: &[u8; 32]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = TestStore::create(dir.path()).await;
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        Self::instance(store, seed, clock, Enricher::default(), dir).await
    }

    async fn instance(
        store: TestStore,
        seed: &[u8; 32],
        clock: Arc<ManualClock>,
        enricher: Enricher,
        dir: tempfile::TempDir,
    ) -> Self {
        let key = KeyPair::from_seed(seed);
        let server_key = key.public();
        let stop = Arc::new(tokio::sync::Notify::new());
        let (url, serving) = on_store!(store.clone(), s => serve(s, key, clock.clone(), enricher, stop.clone()).await);
        Self { url, clock, store, server_key, stop, serving: Some(serving), _dir: dir }
    }

    /// Shuts the server down as SIGTERM does, and waits until it has.
    pub async fn shut_down(&mut self) {
        self.stop.notify_one();
        if let Some(serving) = self.serving.take() {
            serving.await.unwrap();
        }
    }

    /// Makes every audit insert fail from now on (a trigger), as a crash mid-action would.
    pub async fn refuse_audit_entries(&self) {
        self.store
            .execute(
                "CREATE TRIGGER audit_refused BEFORE INSERT ON audit \
                 BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END",
                "CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$; \
                 CREATE TRIGGER audit_refused BEFORE INSERT ON audit \
                 FOR EACH ROW EXECUTE FUNCTION audit_refused()",
            )
            .await
            .unwrap();
    }

    /// Undoes [`Server::refuse_audit_entries`].
    pub async fn accept_audit_entries(&self) {
        self.store
            .execute("DROP TRIGGER audit_refused", "DROP TRIGGER audit_refused ON audit")
            .await
            .unwrap();
    }

    /// The server's time.
    pub fn clock_now(&self) -> u64 {
        self.clock.now()
    }

    /// A new service and its client.
    pub async fn service(&self, name: &str) -> ServiceClient {
        let key = self.store.add_service(name, self.clock.now()).await;
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

pub mod chromium;
pub mod mmdb;
pub mod portal;
pub mod proxies;

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
