//! Real parts for the module's tests: a Twofold server on a loopback port over a temp SQLite
//! file, a paired device (the protocol's device client) that answers as a test says, and
//! `pamtester` running the built `pam_twofold.so` from a PAM service file in `/etc/pam.d`, and a
//! real sshd using it (`sshd`).

#![allow(dead_code, reason = "each test file uses part of the support")]
#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::io::{BufRead as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use twofold_protocol::client::{DeviceClient, DeviceEvent, ServiceClient};
use twofold_protocol::{Answer, KeyPair, PairingLink, SigninRequest};
use twofold_server::clock::{Clock as _, OsEntropy, SystemClock, random_seed};
use twofold_server::enrich::Enricher;
use twofold_server::{AppState, Settings, SqliteStore, admin, app};

pub mod sshd;

/// Longest a pamtester run may take before the test calls it hung.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// A server on loopback, its runtime, and one service's API key.
pub struct Server {
    pub url: String,
    pub api_key: String,
    pub service: ServiceClient,
    pub runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl Server {
    /// A server with service "build-01"; `tune` changes its settings.
    pub fn start(tune: impl FnOnce(&mut Settings)) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", dir.path().join("server.db").display());
        let (url, api_key) = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/", listener.local_addr().unwrap());
            let mut settings = Settings::new(url.parse().unwrap());
            tune(&mut settings);
            let store = SqliteStore::open(&database).await.unwrap();
            let now = SystemClock.now();
            let key = admin::add_service(&store, "build-01", None, now, &OsEntropy).await.unwrap();
            let key_pair = KeyPair::from_seed(&random_seed(&OsEntropy).unwrap());
            let state = AppState::new(
                store,
                key_pair,
                settings,
                Arc::new(SystemClock),
                Arc::new(OsEntropy),
                Enricher::default(),
            );
            tokio::spawn(async move { axum::serve(listener, app(state)).await });
            (url, key.to_string())
        });
        let service = ServiceClient::new(&url, &api_key).unwrap();
        Self { url, api_key, service, runtime, dir }
    }

    /// Pairs a new device for `user`; it answers as `answer` says (see [`Device`]).
    pub fn pair(&self, user: &str, answer: Answering) -> Device {
        let service = self.service.clone();
        let user = user.to_owned();
        let (client, seed) = self.runtime.block_on(async move {
            let link = service.create_pairing(&user).await.unwrap().link;
            let link: PairingLink = link.parse().unwrap();
            let key = KeyPair::from_seed(&random_seed(&OsEntropy).unwrap());
            let (client, completed) = DeviceClient::pair(&link, "Test desktop", key).await.unwrap();
            let seed = data_encoding::BASE32_NOPAD
                .decode(completed.offline_seed.expose().trim_end_matches('=').as_bytes())
                .unwrap();
            (client, seed)
        });
        let seen = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Mutex::new(Vec::new()));
        let task_arrived = Arc::clone(&arrived);
        let (numbers, number_rx) = mpsc::channel::<u32>();
        let number_rx = Arc::new(Mutex::new(number_rx));
        let (ready_tx, ready_rx) = mpsc::channel();
        let task_seen = Arc::clone(&seen);
        let answering = client.clone();
        self.runtime.spawn(async move {
            let mut events = std::pin::pin!(answering.events().await.unwrap());
            ready_tx.send(()).unwrap();
            while let Some(event) = events.next().await {
                let Ok(DeviceEvent::Request(request)) = event else { continue };
                task_arrived.lock().unwrap().push(Instant::now());
                task_seen.lock().unwrap().push((*request).clone());
                let decision = match answer {
                    Answering::Never => continue,
                    Answering::With(answer) => Some(answer),
                };
                let number = if request.mode == twofold_protocol::Mode::Number {
                    let rx = Arc::clone(&number_rx);
                    tokio::task::spawn_blocking(move || {
                        rx.lock().unwrap().recv_timeout(Duration::from_secs(20)).ok()
                    })
                    .await
                    .unwrap()
                } else {
                    None
                };
                if let Some(answer) = decision {
                    let accepted = answering.decide(&request, answer, number).await.unwrap();
                    if let Some(code) = accepted.code {
                        task_seen.lock().unwrap().last_mut().unwrap().user_agent = code;
                    }
                }
            }
        });
        ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        // The stream is open once the server has sent its first bytes; give it a moment more to
        // register the device's subscription.
        std::thread::sleep(Duration::from_millis(200));
        Device { seen, arrived, numbers, seed }
    }

    /// A configuration file for this server, root's and private, with `extra` lines.
    pub fn config(&self, extra: &str) -> ConfigFile {
        ConfigFile::write(&format!(
            "server = \"{}\"\napi_key = \"{}\"\nhost = \"build-01\"\n{extra}",
            self.url, self.api_key
        ))
    }
}

/// How a test's device answers requests.
#[derive(Debug, Clone, Copy)]
pub enum Answering {
    /// Sees them and never answers.
    Never,
    /// Answers each with this (in number mode, with the number the terminal showed).
    With(Answer),
}

/// A paired device: what it saw, and where the number shown at the terminal is passed to it.
pub struct Device {
    seen: Arc<Mutex<Vec<SigninRequest>>>,
    arrived: Arc<Mutex<Vec<Instant>>>,
    /// Numbers the terminal showed, for number mode.
    pub numbers: mpsc::Sender<u32>,
    /// The seed of its offline codes.
    pub seed: Vec<u8>,
}

impl Device {
    /// The requests it saw (in code mode a request's `user_agent` is replaced by the code shown
    /// on Allow, so a test can type it).
    pub fn seen(&self) -> Vec<SigninRequest> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until it has seen `count` requests.
    pub fn wait_seen(&self, count: usize) -> Vec<SigninRequest> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let seen = self.seen();
            if seen.len() >= count || Instant::now() > deadline {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// When request number `index` (from 0) arrived, verified; waits up to 20 s for it.
    pub fn seen_at(&self, index: usize) -> Instant {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(at) = self.arrived.lock().unwrap().get(index) {
                return *at;
            }
            assert!(Instant::now() < deadline, "request {index} never reached the device");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Its current offline code.
    pub fn offline_code(&self) -> String {
        twofold_protocol::offline::code_at(&self.seed, SystemClock.now())
    }
}

/// A configuration file in a temp directory.
pub struct ConfigFile {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl ConfigFile {
    /// Writes `text` with mode 0600 (the test runs as root, so root owns it).
    pub fn write(text: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pam.toml");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        Self { path, _dir: dir }
    }
}

/// The module cargo built beside the test binary.
pub fn module_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for dir in [deps, deps.parent().unwrap()] {
        let candidate = dir.join("libpam_twofold.so");
        if candidate.exists() {
            return candidate;
        }
    }
    panic!("libpam_twofold.so not found beside {}", exe.display());
}

/// A PAM service file in /etc/pam.d with a unique name, removed when dropped.
pub struct PamService {
    pub name: String,
    path: PathBuf,
}

impl PamService {
    /// `auth required pam_twofold.so config=CONFIG ARGS`, then an account stage that permits.
    pub fn new(config: &Path, args: &str) -> Self {
        assert!(
            Path::new("/etc/pam.d").is_dir(),
            "these tests need Linux-PAM (/etc/pam.d) and pamtester, and run as root"
        );
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "twofold-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = Path::new("/etc/pam.d").join(&name);
        let text = format!(
            "auth required {} config={} {args}\naccount required pam_permit.so\n",
            module_path().display(),
            config.display()
        );
        std::fs::write(&path, text).unwrap();
        Self { name, path }
    }
}

impl Drop for PamService {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A running `pamtester SERVICE USER authenticate`.
pub struct Pamtester {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    started: Instant,
}

/// How a pamtester run ended.
#[derive(Debug)]
pub struct Finished {
    /// pamtester exits 0 when authentication succeeded.
    pub success: bool,
    /// Its standard output (PAM text messages).
    pub stdout: String,
    /// Its standard error (PAM error messages, prompts, pamtester's verdict).
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Finished {
    /// Both outputs, for messages.
    pub fn output(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

impl Pamtester {
    /// Starts pamtester for `user` of `service` with PAM items `items` (`rhost=…`, `tty=…`).
    pub fn start(service: &PamService, user: &str, items: &[&str]) -> Self {
        let mut command = Command::new("stdbuf");
        // Line-buffered, so a test reads "Choose 42" while pamtester waits.
        command.args(["-oL", "pamtester", "-v"]);
        for item in items {
            command.args(["-I", item]);
        }
        command.args([&service.name, user, "authenticate"]);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect(
                "pamtester (Debian package pamtester) and stdbuf (coreutils) must be installed",
            );
        let (tx, lines) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().unwrap();
        let collected = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                collected.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let err = child.stderr.take().unwrap();
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(err), &mut text);
            collected.lock().unwrap().push_str(&text);
        });
        let stdin = child.stdin.take();
        Self { child, stdin, lines, stdout, stderr, started: Instant::now() }
    }

    /// The next line of standard output that contains `text`, within 20 s.
    pub fn wait_line(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no line with {text:?}; stdout so far:\n{}", self.stdout.lock().unwrap());
    }

    /// Types `line` at the prompt.
    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Closes standard input and waits for the end (killing it past [`RUN_LIMIT`]: a hang).
    pub fn finish(mut self) -> Finished {
        drop(self.stdin.take());
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if self.started.elapsed() > RUN_LIMIT {
                let _ = self.child.kill();
                panic!("pamtester hung for {RUN_LIMIT:?}: {}", self.stdout.lock().unwrap());
            }
            // Short: the bench times whole runs with this (20 ms steps made every run 20 or 40 ms).
            std::thread::sleep(Duration::from_millis(1));
        };
        let elapsed = self.started.elapsed();
        // The readers end with the pipes; give them a moment to hand over the last lines.
        std::thread::sleep(Duration::from_millis(100));
        Finished {
            success: status.success(),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
            elapsed,
        }
    }
}

/// Runs pamtester to the end with `stdin` typed up front.
pub fn pamtester(service: &PamService, user: &str, items: &[&str], stdin: &str) -> Finished {
    let mut run = Pamtester::start(service, user, items);
    if !stdin.is_empty() {
        run.type_line(stdin);
    }
    run.finish()
}
