//! The CLI told apart the states of the system keyring on real D-Bus sessions this test starts
//! itself (`dbus-daemon`, `gnome-keyring-daemon`, as `scripts/prepare.sh` installs them): a session
//! with no Secret Service at all, and one whose gnome-keyring is locked. Each says what to do,
//! exits 3, and a vault whose secrets are in its file works on the same session.

#![allow(clippy::unwrap_used)] // a failed step should stop the test loudly

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::text;

/// RFC 6238's SHA-1 seed; at T = 59 its six-digit code is 287082.
const RFC_URI: &str = "otpauth://totp/RFC:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC";

/// A private D-Bus session bus that activates nothing (no service directory), its home and data
/// directories, and the processes started on it; all stopped when dropped.
struct Session {
    dir: tempfile::TempDir,
    address: String,
    processes: Vec<Child>,
}

impl Session {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "data", "runtime", "keyring"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let socket = dir.path().join("runtime/bus");
        let config = dir.path().join("session.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig>\n  <type>session</type>\n  <listen>unix:path={}</listen>\n  \
                 <auth>EXTERNAL</auth>\n  <policy context=\"default\">\n    \
                 <allow send_destination=\"*\" eavesdrop=\"true\"/>\n    \
                 <allow eavesdrop=\"true\"/>\n    <allow own=\"*\"/>\n  </policy>\n</busconfig>\n",
                socket.display()
            ),
        )
        .unwrap();
        let bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nosyslog"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon) runs");
        let session =
            Self { address: format!("unix:path={}", socket.display()), dir, processes: vec![bus] };
        session
            .wait_for("the bus", || session.dbus_send(&["org.freedesktop.DBus.GetId"]).is_some());
        session
    }

    /// `dbus-send` to the bus itself on this session; its reply, or `None` when it failed.
    fn dbus_send(&self, call: &[&str]) -> Option<String> {
        let out = Command::new("dbus-send")
            .arg(format!("--bus={}", self.address))
            .args(["--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
            .args(call)
            .output()
            .unwrap();
        out.status.success().then(|| text(&out.stdout))
    }

    fn wait_for(&self, what: &str, ready: impl Fn() -> bool) {
        let start = Instant::now();
        while !ready() {
            assert!(start.elapsed() < Duration::from_secs(15), "{what} did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts gnome-keyring-daemon's Secret Service on this session with a default keyring
    /// ("login", made and unlocked with a throwaway password), then locks that keyring.
    fn start_locked_keyring(&mut self) {
        let mut daemon = self
            .env(&mut Command::new("gnome-keyring-daemon"))
            .args(["--foreground", "--unlock", "--components=secrets"])
            .arg(format!("--control-directory={}", self.dir.path().join("keyring").display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian package gnome-keyring) runs");
        std::io::Write::write_all(&mut daemon.stdin.take().unwrap(), b"throwaway password")
            .unwrap();
        self.processes.push(daemon);
        let owned = || {
            self.dbus_send(&["org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"])
                .is_some_and(|reply| reply.contains("true"))
        };
        self.wait_for("gnome-keyring-daemon", owned);
        // Locking never prompts; unlocking would.
        let locked = || {
            self.env(&mut Command::new("dbus-send"))
                .arg(format!("--bus={}", self.address))
                .args([
                    "--print-reply",
                    "--dest=org.freedesktop.secrets",
                    "/org/freedesktop/secrets",
                ])
                .arg("org.freedesktop.Secret.Service.Lock")
                .arg("array:objpath:/org/freedesktop/secrets/aliases/default")
                .output()
                .unwrap()
                .status
                .success()
        };
        self.wait_for("the locked default keyring", locked);
    }

    fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env_clear()
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", self.dir.path().join("runtime"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
    }

    fn passphrase_file(&self) -> PathBuf {
        let file = self.dir.path().join("passphrase");
        std::fs::write(&file, "correct horse battery\n").unwrap();
        file
    }

    /// `twofold ARGS` on this session with its vault in `data`, passphrase file `pass` if any.
    fn twofold(&self, data: &Path, pass: Option<&Path>, args: &[&str], stdin: &str) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
        self.env(&mut cmd)
            .args(args)
            .env("TWOFOLD_DATA_DIR", data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(pass) = pass {
            cmd.env("TWOFOLD_PASSPHRASE_FILE", pass);
        }
        let mut child = cmd.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
        // A prompt nobody answers would hang here: the keyring's state must be found without one.
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(30) {
                child.kill().unwrap();
                panic!("twofold {args:?} hung (an unlock prompt?)");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    /// A file vault on this session: made, given an account, and its code read.
    fn file_vault_works(&self) {
        let data = self.dir.path().join("file-vault");
        let pass = self.passphrase_file();
        let ok = |args: &[&str], stdin: &str| {
            let out = self.twofold(&data, Some(&pass), args, stdin);
            assert!(out.status.success(), "twofold {args:?}: {}", text(&out.stderr));
            text(&out.stdout)
        };
        ok(&["keystore", "init", "file"], "");
        ok(&["add"], RFC_URI);
        assert_eq!(ok(&["code", "rfc", "--at", "59"], ""), "287082\n");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The keyring first, then the bus it is on.
        for child in self.processes.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
#[ignore = "needs dbus-daemon, which scripts/test installs"]
fn a_session_without_a_secret_service_says_what_to_install() {
    let session = Session::start();
    let data = session.dir.path().join("keyring-vault");

    let out = session.twofold(&data, None, &["keystore", "show"], "");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("no Secret Service runs here"), "{said}");
    assert!(said.contains("KeePassXC") && said.contains("twofold keystore init file"), "{said}");

    // Adding an account says the same, not a raw D-Bus failure.
    let out = session.twofold(&data, None, &["add"], RFC_URI);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("the system keyring is not available (no Secret Service runs"), "{said}");
    assert!(!said.contains("the system keyring failed"), "{said}");

    session.file_vault_works();
}

#[test]
#[ignore = "needs dbus-daemon and gnome-keyring-daemon, which scripts/test installs"]
fn a_locked_keyring_is_told_apart_from_a_missing_one() {
    let mut session = Session::start();
    session.start_locked_keyring();
    let data = session.dir.path().join("keyring-vault");

    let out = session.twofold(&data, None, &["keystore", "show"], "");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("the system keyring is locked"), "{said}");
    assert!(!said.contains("no Secret Service"), "{said}");

    // Adding an account says so too, not a raw D-Bus failure.
    let out = session.twofold(&data, None, &["add"], RFC_URI);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("the system keyring is not available (it is locked)"), "{said}");

    session.file_vault_works();
}
