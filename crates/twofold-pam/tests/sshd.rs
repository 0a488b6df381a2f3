//! A real sshd (Debian's openssh-server) on a loopback port with its own configuration and host
//! key, `UsePAM yes` and `AuthenticationMethods publickey,keyboard-interactive`, its PAM stack
//! `pam_twofold.so`; a real ssh client logs in non-interactively with a key. The login succeeds
//! only after Allow on the device, and the device saw what it was asked.
//!
//! sshd names its PAM service after the program (argv[0]), so each test runs it through a
//! symlink named like its own service file in /etc/pam.d.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Answering, ConfigFile, Server};
use twofold_protocol::Answer;

/// An sshd on a free loopback port, stopped (and its files removed) when dropped.
struct Sshd {
    port: u16,
    child: Child,
    client_key: PathBuf,
    pam_file: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sshd {
    /// Starts sshd whose keyboard-interactive step runs pam_twofold with `config` and `args`.
    fn start(config: &Path, args: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let keygen = |file: &Path| {
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(file)
                .status()
                .expect("ssh-keygen (Debian package openssh-client) must be installed");
            assert!(status.success());
        };
        keygen(&path("host_key"));
        keygen(&path("client_key"));
        std::fs::copy(path("client_key.pub"), path("authorized_keys")).unwrap();
        // sshd refuses to start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let port = free_port();
        let name = format!("sshd-twofold-test-{}-{port}", std::process::id());
        let pam_file = Path::new("/etc/pam.d").join(&name);
        std::fs::write(
            &pam_file,
            format!(
                "auth required {} config={} {args}\naccount required pam_permit.so\n\
                 session required pam_permit.so\npassword required pam_deny.so\n",
                support::module_path().display(),
                config.display()
            ),
        )
        .unwrap();
        let program = path(&name);
        std::os::unix::fs::symlink("/usr/sbin/sshd", &program)
            .expect("sshd (Debian package openssh-server) must be installed");
        std::fs::write(
            path("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile none\n\
                 UsePAM yes\nPermitRootLogin yes\nStrictModes no\nAuthorizedKeysFile {}\n\
                 PubkeyAuthentication yes\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication yes\n\
                 AuthenticationMethods publickey,keyboard-interactive\nUseDNS no\n\
                 LoginGraceTime 60\n",
                path("host_key").display(),
                path("authorized_keys").display()
            ),
        )
        .unwrap();
        let log = path("sshd.log");
        let child = Command::new(&program)
            .args(["-D", "-e", "-f"])
            .arg(path("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let sshd = Self { port, child, client_key: path("client_key"), pam_file, log, _dir: dir };
        sshd.wait_listening();
        sshd
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not start: {}", self.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `ssh root@127.0.0.1 echo logged-in` with the client key, no terminal and no input:
    /// (exit success, stdout + stderr).
    fn login(&self) -> (bool, String) {
        let output = Command::new("ssh")
            .args(["-p", &self.port.to_string(), "-i"])
            .arg(&self.client_key)
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "ConnectTimeout=10",
                "-o",
                "PreferredAuthentications=publickey,keyboard-interactive",
                "-o",
                "LogLevel=ERROR",
                "root@127.0.0.1",
                "echo",
                "logged-in",
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success() && text.contains("logged-in"), text)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.pam_file);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The config for `server`, mapping root (whom ssh logs in as) to the Twofold user `user`.
fn config_for(server: &Server, user: &str, extra: &str) -> ConfigFile {
    server.config(&format!("{extra}[users]\nroot = \"{user}\"\n"))
}

#[test]
fn ssh_login_succeeds_only_after_allow_and_the_device_saw_the_ssh_login() {
    let server = Server::start(|_| {});
    let device = server.pair("alice", Answering::With(Answer::Allow));
    let config = config_for(&server, "alice", "");
    let sshd = Sshd::start(&config.path, "");
    let (ok, output) = sshd.login();
    assert!(ok, "{output}\nsshd:\n{}", sshd.log_text());
    let seen = device.wait_seen(1);
    assert_eq!(
        seen[0].context.as_deref(),
        Some("SSH login as root to build-01 from 127.0.0.1"),
        "{seen:?}"
    );
    assert_eq!(seen[0].ip.to_string(), "127.0.0.1");
}

#[test]
fn ssh_login_fails_after_dont_allow() {
    let server = Server::start(|_| {});
    let device = server.pair("bob", Answering::With(Answer::Deny));
    let config = config_for(&server, "bob", "");
    let sshd = Sshd::start(&config.path, "");
    let (ok, output) = sshd.login();
    assert!(!ok, "{output}");
    assert!(output.contains("Permission denied"), "{output}");
    assert_eq!(device.wait_seen(1).len(), 1);
}

#[test]
fn a_prompt_that_nobody_can_answer_still_waits_for_the_device() {
    // prompt=yes asks "… then press Enter"; the ssh client has no terminal to ask on.
    let server = Server::start(|_| {});
    let _device = server.pair("carol", Answering::With(Answer::Allow));
    let config = config_for(&server, "carol", "");
    let sshd = Sshd::start(&config.path, "prompt=yes");
    let (ok, output) = sshd.login();
    assert!(ok, "{output}\nsshd:\n{}", sshd.log_text());
}

#[test]
fn ssh_to_a_server_that_answers_slowly_is_refused_in_bounded_time() {
    // Accepts connections and never answers: the module gives up after its own timeouts.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = ConfigFile::write(&format!(
        "server = \"http://{}/\"\napi_key = \"k\"\nconnect_timeout = 1\n",
        listener.local_addr().unwrap()
    ));
    let sshd = Sshd::start(&config.path, "");
    let (ok, output) = sshd.login();
    assert!(!ok, "{output}");
    assert!(output.contains("Permission denied"), "{output}");
    // sshd is still there and answers the next connection.
    assert!(std::net::TcpStream::connect(("127.0.0.1", sshd.port)).is_ok());
    drop(listener);
}

#[test]
fn two_ssh_logins_at_once_ask_the_device_once_and_both_end() {
    let server = Server::start(|_| {});
    let device = server.pair("dave", Answering::Never);
    let config = config_for(&server, "dave", "timeout = 3\noffline_codes = false\n");
    let sshd = Sshd::start(&config.path, "");
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| sshd.login());
        let second = scope.spawn(|| sshd.login());
        (first.join().unwrap(), second.join().unwrap())
    });
    assert!(!first.0, "{}", first.1);
    assert!(!second.0, "{}", second.1);
    // One request waits for the person; every other attempt was refused without reaching them.
    assert_eq!(device.seen().len(), 1, "{:?}", device.seen());
}
