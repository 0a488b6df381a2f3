//! The CLI where nobody types and no Secret Service runs: a CI runner or a fresh server. Every
//! command here runs in a cleared environment (no D-Bus session, no display), as such a machine
//! has, with the secrets in the vault's encrypted file and its passphrase from a file.

#![allow(clippy::unwrap_used)] // a failed step should stop the test loudly

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::text;

/// RFC 6238's SHA-1 seed; at T = 59 its six-digit code is 287082.
const RFC_URI: &str = "otpauth://totp/RFC:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC";

/// A machine with nothing but a home directory: no D-Bus session bus, no display, no keyring.
struct Bare {
    dir: tempfile::TempDir,
}

impl Bare {
    fn new() -> Self {
        let bare = Self { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir(bare.home()).unwrap();
        bare
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn passphrase_file(&self, passphrase: &str) -> PathBuf {
        let file = self.dir.path().join(format!("pass-{}", passphrase.len()));
        std::fs::write(&file, format!("{passphrase}\n")).unwrap();
        file
    }

    fn run(&self, args: &[&str], vars: &[(&str, &Path)], stdin: &str) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
        cmd.args(args)
            .env_clear()
            .env("HOME", self.home())
            .env("TWOFOLD_DATA_DIR", self.data())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in vars {
            cmd.env(name, value);
        }
        let mut child = cmd.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], vars: &[(&str, &Path)], stdin: &str) -> String {
        let out = self.run(args, vars, stdin);
        assert!(out.status.success(), "twofold {args:?} failed: {}", text(&out.stderr));
        text(&out.stdout)
    }
}

#[test]
fn a_file_vault_gives_codes_with_no_dbus_session_and_no_terminal() {
    let bare = Bare::new();
    let pass = bare.passphrase_file("correct horse battery");
    let vars = [("TWOFOLD_PASSPHRASE_FILE", pass.as_path())];
    let said = bare.ok(&["keystore", "init", "file"], &vars, "");
    assert!(said.contains("the encrypted secrets file"), "{said}");
    bare.ok(&["add"], &vars, RFC_URI);
    assert_eq!(bare.ok(&["code", "rfc", "--at", "59"], &vars, ""), "287082\n");
    assert!(bare.ok(&["list"], &vars, "").contains("alice"));
    let shown = bare.ok(&["keystore", "show"], &vars, "");
    assert!(shown.starts_with("file: ") && shown.contains("65536 KiB, 3 passes"), "{shown}");
    // --passphrase-file does the same as the variable.
    let flag = ["--passphrase-file", pass.to_str().unwrap(), "code", "rfc", "--at", "59"];
    assert_eq!(bare.ok(&flag, &[], ""), "287082\n");
    // No secret and no passphrase in any file of the data directory.
    for (path, bytes) in support::all_files(&bare.data()) {
        let content = String::from_utf8_lossy(&bytes);
        assert!(!content.contains("GEZDGNBV") && !content.contains("correct horse"), "{path:?}");
    }
}

#[test]
fn the_file_is_sealed_at_the_chosen_level_which_it_keeps() {
    let bare = Bare::new();
    let levels = bare.ok(&["keystore", "levels"], &[], "");
    let lines: Vec<&str> = levels.lines().collect();
    assert_eq!(lines.len(), 3, "{levels}");
    for (line, (name, settings)) in lines.iter().zip([
        ("quick", "19456 KiB, 2 passes"),
        ("standard", "65536 KiB, 3 passes"),
        ("strong", "262144 KiB, 4 passes"),
    ]) {
        assert!(
            line.starts_with(name) && line.contains(" s ") && line.contains(settings),
            "{line}"
        );
    }
    let pass = bare.passphrase_file("correct horse battery");
    let vars = [("TWOFOLD_PASSPHRASE_FILE", pass.as_path())];
    bare.ok(&["keystore", "init", "file", "--cost", "quick"], &vars, "");
    bare.ok(&["add"], &vars, RFC_URI);
    // Each write keeps the file's level; reading asks for no level.
    let shown = bare.ok(&["keystore", "show"], &vars, "");
    assert!(shown.contains("19456 KiB, 2 passes, 1 lanes"), "{shown}");
    let out = bare.run(&["keystore", "init", "file", "--cost", "extreme"], &vars, "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("quick, standard, strong"), "{}", text(&out.stderr));
}

#[test]
fn without_its_passphrase_a_file_vault_says_how_to_give_it() {
    let bare = Bare::new();
    let pass = bare.passphrase_file("correct horse battery");
    bare.ok(&["keystore", "init", "file"], &[("TWOFOLD_PASSPHRASE_FILE", pass.as_path())], "");

    // No terminal and no passphrase file: the vault cannot be used (3), and the message says how.
    // A variable holding the passphrase itself is never read.
    let plain = Path::new("correct horse battery");
    let out = bare.run(&["list"], &[("TWOFOLD_PASSPHRASE", plain)], "");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("--passphrase-file FILE or TWOFOLD_PASSPHRASE_FILE=FILE"), "{said}");

    let wrong = bare.passphrase_file("not the passphrase");
    let out = bare.run(&["list"], &[("TWOFOLD_PASSPHRASE_FILE", wrong.as_path())], "");
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("wrong passphrase"), "{}", text(&out.stderr));

    let missing = bare.dir.path().join("nowhere");
    let out = bare.run(&["list"], &[("TWOFOLD_PASSPHRASE_FILE", missing.as_path())], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read"), "{}", text(&out.stderr));
}

#[test]
fn a_keyring_vault_without_a_secret_service_fails_clearly() {
    let bare = Bare::new();
    let out = bare.run(&["list"], &[], "");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("the system keyring is not available"), "{said}");
}

#[test]
fn code_from_a_vault_file_in_one_command() {
    let bare = Bare::new();
    let pass = bare.passphrase_file("correct horse battery");
    let vars = [("TWOFOLD_PASSPHRASE_FILE", pass.as_path())];
    bare.ok(&["keystore", "init", "file"], &vars, "");
    bare.ok(&["add"], &vars, RFC_URI);
    let hotp = "otpauth://hotp/Bank:bob?secret=JBSWY3DPEHPK3PXP&counter=3";
    bare.ok(&["add"], &vars, hotp);
    let vault_file = bare.dir.path().join("ci.twofold");
    let backup_pass = "ci vault passphrase\n";
    bare.ok(&["backup", vault_file.to_str().unwrap(), "--password-stdin"], &vars, backup_pass);

    // The runner: the vault file and its passphrase file, no data directory.
    let runner = Bare::new();
    let ci_pass = runner.passphrase_file("ci vault passphrase");
    let vars = [("TWOFOLD_PASSPHRASE_FILE", ci_pass.as_path())];
    let file = vault_file.to_str().unwrap();
    assert_eq!(
        runner.ok(&["code", "rfc", "--at", "59", "--vault-file", file], &vars, ""),
        "287082\n"
    );
    let by_variable =
        [("TWOFOLD_PASSPHRASE_FILE", ci_pass.as_path()), ("TWOFOLD_VAULT_FILE", &vault_file)];
    assert_eq!(runner.ok(&["code", "rfc", "--at", "59"], &by_variable, ""), "287082\n");
    assert!(runner.ok(&["list", "--vault-file", file], &vars, "").contains("bob"));
    // An HOTP code would need its next counter saved, which a read-only file cannot do.
    let out = runner.run(&["code", "bank", "--vault-file", file], &vars, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("HOTP"), "{}", text(&out.stderr));
    assert!(!runner.data().exists(), "a vault file leaves no data directory behind");
    let wrong = runner.passphrase_file("wrong");
    let out = runner.run(
        &["code", "rfc", "--vault-file", file],
        &[("TWOFOLD_PASSPHRASE_FILE", wrong.as_path())],
        "",
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("wrong passphrase"), "{}", text(&out.stderr));
}

#[test]
fn motp_and_yandex_accounts_give_aegis_codes_and_2fas_exports_name_them_left_out() {
    let bare = Bare::new();
    let pass = bare.passphrase_file("correct horse battery");
    let vars = [("TWOFOLD_PASSPHRASE_FILE", pass.as_path())];
    bare.ok(&["keystore", "init", "file"], &vars, "");
    // Aegis's own URI forms, with the PINs (base32) that Twofold adds; the keys and PINs are those
    // of Aegis's MOTPTest and YAOTPTest vectors.
    bare.ok(&["add"], &vars, "motp:/Motp%3Aalice?secret=e3152afee62599c8&issuer=Motp&pin=GEZDGNA");
    let yandex = "otpauth://yaotp/Yandex:alice?secret=LA2V6KMCGYMWWVEW64RNP3JA3IAAAAAAHTSG4HRZPI\
                  &pin=G42TQNQ&issuer=Yandex";
    bare.ok(&["add"], &vars, yandex);
    assert_eq!(bare.ok(&["code", "motp", "--at", "165892298"], &vars, ""), "e7d8b6\n");
    assert_eq!(bare.ok(&["code", "motp", "--at", "123456789"], &vars, ""), "4ebfb2\n");
    assert_eq!(bare.ok(&["code", "yandex", "--at", "1581064020"], &vars, ""), "oactmacq\n");
    assert_eq!(bare.ok(&["code", "yandex", "--at", "1581090810"], &vars, ""), "wemdwrix\n");
    let listed = bare.ok(&["list"], &vars, "");
    assert!(listed.contains("motp") && listed.contains("yandex"), "{listed}");

    let out = bare.run(&["export", "--format", "2fas"], &vars, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("account 1 (Motp (alice)) was not exported: 2FAS has no mOTP accounts"));
    assert!(said.contains("account 2 (Yandex (alice)) was not exported: 2FAS has no Yandex"));
    // The URI list carries both with their PINs, and reads back to the same codes.
    let uris = bare.ok(&["export", "--format", "uris"], &vars, "");
    assert!(uris.contains("otpauth://motp/") && uris.contains("&pin=GEZDGNA"), "{uris}");
    let again = Bare::new();
    again.ok(&["keystore", "init", "file"], &vars, "");
    for line in uris.lines() {
        again.ok(&["add"], &vars, line);
    }
    assert_eq!(again.ok(&["code", "yandex", "--at", "1581064020"], &vars, ""), "oactmacq\n");
}
