//! A real approval server on a loopback port over a temp SQLite file, as the server's own tests
//! run it (its library, a real clock), but in a runtime of its own so a test can kill it (every
//! connection drops, as when the process dies) and start it again on the same port and database.
//! And a device over the real keyring, with its update channel.

#![allow(dead_code, reason = "each test file uses part of the support")]
#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use twofold_core::keystore::OsKeystore;
use twofold_device::{Device, Supervisor, Update};
use twofold_protocol::client::ServiceClient;
use twofold_protocol::{KeyPair, Mode};
use twofold_server::clock::{Clock as _, OsEntropy, SystemClock, random_seed};
use twofold_server::enrich::Enricher;
use twofold_server::{AppState, Settings, SqliteStore, admin, app};

/// Runs `future` to completion on `runtime` from a plain thread, so async tests can drive the
/// server's own runtime.
fn on<T: Send>(runtime: &tokio::runtime::Runtime, future: impl Future<Output = T> + Send) -> T {
    std::thread::scope(|scope| scope.spawn(|| runtime.block_on(future)).join().unwrap())
}

/// A running (or killed) server.
pub struct Server {
    pub url: String,
    pub addr: SocketAddr,
    pub key: Arc<KeyPair>,
    settings: Settings,
    geoip: Vec<std::path::PathBuf>,
    dir: tempfile::TempDir,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// A server with the default settings (requests live 120 s).
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// A server whose settings `tune` changes.
    pub fn start_with(tune: impl FnOnce(&mut Settings)) -> Self {
        Self::start_located(tune, Vec::new())
    }

    /// A server whose settings `tune` changes, placing sign-ins with the GeoIP files `geoip`.
    pub fn start_located(tune: impl FnOnce(&mut Settings), geoip: Vec<std::path::PathBuf>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let url = format!("http://{addr}/");
        let mut settings = Settings::new(url.parse().unwrap());
        tune(&mut settings);
        let key = Arc::new(KeyPair::from_seed(&random_seed(&OsEntropy).unwrap()));
        let dir = tempfile::tempdir().unwrap();
        let mut server = Self { url, addr, key, settings, geoip, dir, runtime: None };
        server.restart();
        server
    }

    fn database(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("server.db").display())
    }

    /// Starts the server (again) on its port and database, with its key.
    pub fn restart(&mut self) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (database, addr, settings) = (self.database(), self.addr, self.settings.clone());
        let key = KeyPair::from_seed(&self.key.seed());
        let enricher = Enricher::open(&self.geoip).unwrap();
        on(&runtime, async move {
            let store = SqliteStore::open(&database).await.unwrap();
            let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
            let state = AppState::new(
                store,
                key,
                settings,
                Arc::new(SystemClock),
                Arc::new(OsEntropy),
                enricher,
            );
            tokio::spawn(async move { axum::serve(listener, app(state)).await });
        });
        self.runtime = Some(runtime);
    }

    /// Kills the server: its runtime goes, with every connection.
    pub fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// A new service and its client.
    pub fn service(&self, name: &str) -> ServiceClient {
        ServiceClient::new(&self.url, &self.service_key(name)).unwrap()
    }

    /// A new service and its API key (for a client configured by file, as pam_twofold is).
    pub fn service_key(&self, name: &str) -> String {
        let (database, name) = (self.database(), name.to_owned());
        let key = on(self.runtime.as_ref().unwrap(), async move {
            let store = SqliteStore::open(&database).await.unwrap();
            admin::add_service(&store, &name, None, SystemClock.now(), &OsEntropy).await.unwrap()
        });
        key.to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A device over the real keyring, its supervisor and its updates.
pub struct TestDevice {
    pub supervisor: Supervisor<OsKeystore>,
    pub updates: UnboundedReceiver<Update>,
    pub dir: tempfile::TempDir,
}

impl TestDevice {
    /// A device with no paired server yet.
    pub fn new() -> Self {
        Self::new_with(|device| device)
    }

    /// A device with no paired server yet, as `adjust` sets it up.
    pub fn new_with(adjust: impl FnOnce(Device<OsKeystore>) -> Device<OsKeystore>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::open(dir.path().join("device"), OsKeystore::device_keys()).unwrap();
        let device = adjust(device);
        let (supervisor, updates) =
            Supervisor::start(Arc::new(device), tokio::runtime::Handle::current()).unwrap();
        Self { supervisor, updates, dir }
    }

    pub fn device(&self) -> &Device<OsKeystore> {
        self.supervisor.device()
    }

    /// The next update that `pick` accepts, within 10 s; others are skipped.
    pub async fn next<T>(&mut self, mut pick: impl FnMut(Update) -> Option<T>) -> T {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let update = self.updates.recv().await.expect("the supervisor went away");
                if let Some(found) = pick(update) {
                    return found;
                }
            }
        })
        .await
        .expect("no such update within 10 s")
    }

    /// The next request shown.
    pub async fn next_request(&mut self) -> twofold_device::RequestView {
        self.next(|u| match u {
            Update::Request(view) => Some(*view),
            _ => None,
        })
        .await
    }

    /// Waits until paired server `id` is in state `state`.
    pub async fn wait_state(&mut self, id: uuid::Uuid, state: &str) {
        if self.state(id) == state {
            return;
        }
        self.next(|u| match u {
            Update::ServersChanged(list) => {
                list.iter().any(|s| s.pairing.id == id && s.state == state).then_some(())
            }
            _ => None,
        })
        .await;
    }

    /// The state of paired server `id` now.
    pub fn state(&self, id: uuid::Uuid) -> &'static str {
        self.supervisor.servers().unwrap().into_iter().find(|s| s.pairing.id == id).unwrap().state
    }

    /// Pairs with `server` for `user` of `service`, and waits for the stream.
    pub async fn pair(
        &mut self,
        service: &ServiceClient,
        user: &str,
    ) -> twofold_device::ServerRecord {
        let link = service.create_pairing(user).await.unwrap().link;
        let record = self.supervisor.pair(&link, "Test desktop").await.unwrap();
        self.wait_state(record.id, "connected").await;
        record
    }
}

/// Listens on `addr` once a stopped server's listener has let go of it (it closes in the
/// background, so the port may take a moment).
pub async fn bind_when_free(addr: SocketAddr) -> tokio::net::TcpListener {
    for _ in 0..200 {
        if let Ok(listener) = tokio::net::TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{addr} never came free");
}

/// A sign-in body from a public address.
pub fn signin(user: &str, mode: Mode) -> twofold_protocol::api::CreateSignin {
    twofold_protocol::api::CreateSignin {
        user: user.into(),
        ip: "203.0.113.7".parse().unwrap(),
        user_agent:
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
                .into(),
        mode,
        context: Some("Sign in to Example Mail".into()),
    }
}

/// Items the device's keyring service holds, as `secret-tool` lists them (attributes and labels).
pub fn keyring_listing() -> String {
    let output = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", twofold_core::keystore::DEVICE_KEY_SERVICE])
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
