//! `twofold device pair / list / watch`: the real binary against a real approval server on a
//! loopback port (its library over a temp SQLite file, as the device crate's tests run it), with
//! the device keys in a file vault's secrets file, so no keyring is needed. `watch` is driven
//! through its stdin, one line per answer.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

mod support;

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use support::{Env, text};
use twofold_protocol::api::{CreateSignin, Status};
use twofold_protocol::client::ServiceClient;
use twofold_protocol::{KeyPair, Mode};
use twofold_server::clock::{Clock as _, OsEntropy, SystemClock, random_seed};
use twofold_server::enrich::Enricher;
use twofold_server::{AppState, Settings, SqliteStore, admin, app};

/// A server on loopback in a runtime of its own, which also drives the service's client calls.
struct Server {
    url: String,
    key: Arc<KeyPair>,
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// A server whose settings `tune` changes.
    fn start_with(tune: impl FnOnce(&mut Settings)) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key = Arc::new(KeyPair::from_seed(&random_seed(&OsEntropy).unwrap()));
        let database = format!("sqlite://{}", dir.path().join("server.db").display());
        let server_key = KeyPair::from_seed(&key.seed());
        let url = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/", listener.local_addr().unwrap());
            let store = SqliteStore::open(&database).await.unwrap();
            let mut settings = Settings::new(url.parse().unwrap());
            tune(&mut settings);
            let state = AppState::new(
                store,
                server_key,
                settings,
                Arc::new(SystemClock),
                Arc::new(OsEntropy),
                Enricher::open(&[] as &[&str]).unwrap(),
            );
            tokio::spawn(async move { axum::serve(listener, app(state)).await });
            url
        });
        Self { url, key, dir, runtime }
    }

    fn service(&self, name: &str) -> ServiceClient {
        let database = format!("sqlite://{}", self.dir.path().join("server.db").display());
        let key = self.runtime.block_on(async {
            let store = SqliteStore::open(&database).await.unwrap();
            admin::add_service(&store, name, None, SystemClock.now(), &OsEntropy).await.unwrap()
        });
        ServiceClient::new(&self.url, &key).unwrap()
    }
}

fn signin(mode: Mode) -> CreateSignin {
    CreateSignin {
        user: "alice".into(),
        ip: "203.0.113.7".parse().unwrap(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into(),
        mode,
        context: Some("SSH login as alice to build-01".into()),
    }
}

/// `twofold device watch` running, its stdin open for answers, its stdout read line by line.
struct Watcher {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watcher {
    fn start(env: &Env) -> Self {
        let mut child = env
            .command(&["device", "watch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .env("TWOFOLD_LOG", "warn")
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Self { child, stdin, lines, seen: Vec::new() }
    }

    /// The next line containing `part`, within 20 s.
    fn expect(&mut self, part: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(part) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {part:?}; seen:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn answer(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // A failed test must not leave the watch running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The numbers a number-mode request offers, read from its "Choose the number" line.
fn choices(line: &str) -> Vec<u32> {
    let (_, list) = line.split_once(": ").unwrap();
    list.split("  ").map(|part| part.split_once("] ").unwrap().1.trim().parse().unwrap()).collect()
}

#[test]
fn pair_list_and_watch_answer_push_and_number_requests() {
    let env = Env::with_file_vault();
    let server = Server::start();
    let service = server.service("Example Mail");
    let link = server.runtime.block_on(service.create_pairing("alice")).unwrap().link;
    let fingerprint = server.key.public().fingerprint().to_string();

    // Not a terminal and no --yes: the link is shown, nothing is paired.
    let refused = env.run(&["device", "pair", &link], "y\n");
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("not a terminal"), "{}", text(&refused.stderr));
    assert!(text(&refused.stdout).contains(&fingerprint), "{}", text(&refused.stdout));
    assert!(env.ok(&["device", "list"], "").contains("No paired server"));

    let paired = env.ok(&["device", "pair", &link, "--yes", "--name", "build terminal"], "");
    assert!(paired.contains(&fingerprint), "{paired}");
    assert!(paired.contains(&server.url), "{paired}");
    assert!(paired.contains("Paired with Example Mail as alice"), "{paired}");
    let devices = server.runtime.block_on(service.devices("alice")).unwrap();
    assert_eq!(
        serde_json::to_value(&devices).unwrap().to_string().matches("build terminal").count(),
        1
    );

    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["device", "list", "--json"], "")).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["service"], "Example Mail");
    assert_eq!(listed[0]["user"], "alice");
    assert_eq!(listed[0]["server_url"], server.url.as_str());
    assert_eq!(listed[0]["fingerprint"], fingerprint.as_str());
    let lines = env.ok(&["device", "list"], "");
    assert!(lines.contains("Example Mail for alice") && lines.contains(&fingerprint), "{lines}");

    let mut watch = Watcher::start(&env);
    watch.expect("Watching 1 paired server");

    // Push: Allow, and the service sees Allowed.
    let created = server.runtime.block_on(service.create_signin(&signin(Mode::Push))).unwrap();
    watch.expect("Sign-in request: Example Mail as alice");
    watch.expect("203.0.113.7");
    watch.expect("Firefox on Linux");
    watch.expect("SSH login as alice to build-01");
    watch.expect("Expires:  in ");
    watch.answer("nonsense");
    watch.expect("Not an answer");
    watch.answer("a");
    watch.expect("Allowed.");
    let state = server.runtime.block_on(service.signin(created.id, None)).unwrap();
    assert_eq!(state.status, Status::Allowed);

    // Number: the place of the right number among the signed choices allows.
    let created = server.runtime.block_on(service.create_signin(&signin(Mode::Number))).unwrap();
    let offered = choices(&watch.expect("Choose the number"));
    let right = created.number.unwrap();
    let place = offered.iter().position(|&n| n == right).unwrap() + 1;
    watch.answer(&place.to_string());
    watch.expect("Allowed.");
    let state = server.runtime.block_on(service.signin(created.id, None)).unwrap();
    assert_eq!(state.status, Status::Allowed);

    // A decoy among the choices denies the sign-in.
    let created = server.runtime.block_on(service.create_signin(&signin(Mode::Number))).unwrap();
    let offered = choices(&watch.expect("Choose the number"));
    let place = offered.iter().position(|&n| Some(n) != created.number).unwrap() + 1;
    watch.answer(&place.to_string());
    watch.expect("not the number shown");
    let state = server.runtime.block_on(service.signin(created.id, None)).unwrap();
    assert_eq!(state.status, Status::Denied);

    // Code: Allow prints the code the service then verifies.
    let created = server.runtime.block_on(service.create_signin(&signin(Mode::Code))).unwrap();
    watch.expect("Sign-in request: Example Mail as alice");
    watch.answer("allow");
    let line = watch.expect("Type this code where you are signing in: ");
    let code = line.rsplit(": ").next().unwrap().trim().to_owned();
    assert_eq!(code.len(), 6, "{line}");
    let verified = server.runtime.block_on(service.verify_code(created.id, &code)).unwrap();
    assert!(verified.verified, "{line}");

    // This wasn't me: reported.
    let created = server.runtime.block_on(service.create_signin(&signin(Mode::Push))).unwrap();
    watch.expect("Sign-in request: Example Mail as alice");
    watch.answer("r");
    watch.expect("Denied and reported");
    let state = server.runtime.block_on(service.signin(created.id, None)).unwrap();
    assert_eq!(state.status, Status::Reported);

    // The end of stdin ends the watch, successfully.
    drop(watch.stdin.take());
    watch.expect("Input ended");
    assert!(watch.child.wait().unwrap().success());
}

#[test]
fn watch_without_a_paired_server_says_how_to_pair() {
    let env = Env::with_file_vault();
    let out = env.run(&["device", "watch"], "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("twofold device pair LINK"), "{}", text(&out.stderr));
    let bad = env.run(&["device", "pair", "https://example.com/", "--yes"], "");
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("not a pairing link"), "{}", text(&bad.stderr));
}

#[test]
fn watch_withdraws_a_request_that_expires_and_asks_about_the_next() {
    let env = Env::with_file_vault();
    let server = Server::start_with(|settings| settings.request_lifetime = 4);
    let service = server.service("Example Mail");
    let link = server.runtime.block_on(service.create_pairing("alice")).unwrap().link;
    env.ok(&["device", "pair", &link, "--yes"], "");
    let mut watch = Watcher::start(&env);
    watch.expect("Watching 1 paired server");
    server.runtime.block_on(service.create_signin(&signin(Mode::Push))).unwrap();
    watch.expect("Sign-in request: Example Mail as alice");
    // From another address (one pending sign-in per user and address), 2 s later: it is still
    // waiting when the first expires, however slow the machine.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let second = CreateSignin { ip: "198.51.100.4".parse().unwrap(), ..signin(Mode::Number) };
    server.runtime.block_on(service.create_signin(&second)).unwrap();
    watch.expect("Waiting next: Example Mail as alice");
    watch.expect("Example Mail as alice expired.");
    // The next one is asked about at once (then expires too).
    watch.expect("Choose the number");
    watch.expect("Example Mail as alice expired.");
    drop(watch.stdin.take());
    watch.expect("Input ended");
    assert!(watch.child.wait().unwrap().success());
}
