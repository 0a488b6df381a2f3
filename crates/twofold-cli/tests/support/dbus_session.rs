//! A private D-Bus session bus for tests of what Twofold does without a Secret Service, or with a
//! locked one: it activates nothing (no service directory), so only what a test starts on it runs.
//! Shared by the CLI's tests and the app's end-to-end tests (included with `#[path]`).

#![allow(dead_code)] // each test uses its own part of this module
#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The throwaway password of the keyring [`Session::start_locked_keyring`] makes.
pub const KEYRING_PASSWORD: &[u8] = b"throwaway password";

/// A private D-Bus session bus that activates nothing (no service directory), its home and data
/// directories, and the processes started on it; all stopped when dropped.
pub struct Session {
    /// Home, data, runtime and keyring directories of the session.
    pub dir: tempfile::TempDir,
    /// The bus address (`DBUS_SESSION_BUS_ADDRESS`).
    pub address: String,
    processes: Vec<Child>,
}

impl Session {
    /// Starts the bus and waits until it answers.
    pub fn start() -> Self {
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
    pub fn dbus_send(&self, call: &[&str]) -> Option<String> {
        let out = Command::new("dbus-send")
            .arg(format!("--bus={}", self.address))
            .args(["--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
            .args(call)
            .output()
            .unwrap();
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Waits up to 15 s for `ready`, else fails naming `what`.
    pub fn wait_for(&self, what: &str, ready: impl Fn() -> bool) {
        let start = Instant::now();
        while !ready() {
            assert!(start.elapsed() < Duration::from_secs(15), "{what} did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts gnome-keyring-daemon's Secret Service on this session with a default keyring
    /// ("login", made and unlocked with [`KEYRING_PASSWORD`]), then locks that keyring.
    pub fn start_locked_keyring(&mut self) {
        self.start_keyring();
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

    /// Stops the keyring daemon [`Self::start_locked_keyring`] started and starts it again, its
    /// keyring unlocked with its password: as a person unlocking it would leave it, without the
    /// prompt (which needs a desktop).
    pub fn unlock_keyring(&mut self) {
        if let Some(mut daemon) = self.processes.pop() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
        let gone = || !self.name_owned("org.freedesktop.secrets");
        self.wait_for("the old keyring daemon's exit", gone);
        self.start_keyring();
    }

    /// Whether a client owns `name` on this bus.
    fn name_owned(&self, name: &str) -> bool {
        self.dbus_send(&["org.freedesktop.DBus.NameHasOwner", &format!("string:{name}")])
            .is_some_and(|reply| reply.contains("true"))
    }

    /// gnome-keyring-daemon's Secret Service, its login keyring unlocked (made if new).
    fn start_keyring(&mut self) {
        let control = self.dir.path().join("keyring");
        // gnome-keyring-daemon refuses a control directory others may enter.
        std::fs::set_permissions(&control, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let mut daemon = self
            .env(&mut Command::new("gnome-keyring-daemon"))
            .args(["--foreground", "--unlock", "--components=secrets"])
            .arg(format!("--control-directory={}", control.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian package gnome-keyring) runs");
        std::io::Write::write_all(&mut daemon.stdin.take().unwrap(), KEYRING_PASSWORD).unwrap();
        self.processes.push(daemon);
        self.wait_for("gnome-keyring-daemon", || self.name_owned("org.freedesktop.secrets"));
    }

    /// `cmd` with this session's environment only.
    pub fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env_clear()
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", self.dir.path().join("runtime"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
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
