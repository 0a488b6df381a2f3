//! The CLI told apart the states of the system keyring on real D-Bus sessions this test starts
//! itself (`dbus-daemon`, `gnome-keyring-daemon`, as `scripts/prepare.sh` installs them): a session
//! with no Secret Service at all, and one whose gnome-keyring is locked. Each says what to do,
//! exits 3, and a vault whose secrets are in its file works on the same session.

#![allow(clippy::unwrap_used)] // a failed step should stop the test loudly

#[path = "support/dbus_session.rs"]
mod dbus_session;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dbus_session::Session;
use support::text;

/// RFC 6238's SHA-1 seed; at T = 59 its six-digit code is 287082.
const RFC_URI: &str = "otpauth://totp/RFC:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC";

impl Session {
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
