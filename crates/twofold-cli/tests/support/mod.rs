//! Running the real `twofold` binary against a private data directory and the session's real
//! Secret Service (scripts/test starts gnome-keyring-daemon on a private D-Bus).

#![allow(dead_code)] // each test file uses its own part of this module
#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A throwaway vault directory and the commands run against it.
pub struct Env {
    pub dir: tempfile::TempDir,
    /// The passphrase file commands are given (`TWOFOLD_PASSPHRASE_FILE`), for a file vault.
    pub passphrase_file: Option<PathBuf>,
}

/// The passphrase of the file vaults tests make.
pub const FILE_PASSPHRASE: &str = "test file passphrase";

/// What a command says when the keyring daemon died while answering it.
const KEYRING_DIED: &str = "disconnected from message bus without replying";
/// A cheap Argon2id cost for file vaults whose test is not about the key derivation.
pub const CHEAP: twofold_core::backup::KdfCost =
    twofold_core::backup::KdfCost { memory_kib: 256, passes: 1, lanes: 1 };

impl Env {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap(), passphrase_file: None }
    }

    /// A vault whose secrets are in its file (sealed at the cheap cost, which the file stores),
    /// and commands that read its passphrase from a file.
    pub fn with_file_vault() -> Self {
        let mut env = Self::new();
        let destination = twofold_core::vault::Destination::File {
            passphrase: twofold_core::import::Password::new(FILE_PASSPHRASE.to_owned()),
            cost: CHEAP,
        };
        twofold_core::vault::Vault::create(env.data_dir(), destination).unwrap();
        let file = env.dir.path().join("passphrase");
        std::fs::write(&file, format!("{FILE_PASSPHRASE}\n")).unwrap();
        env.passphrase_file = Some(file);
        env
    }

    /// The secret stored for account `id` in the vault's file, in base32.
    pub fn file_lookup(&self, id: &str) -> Option<String> {
        self.file_lookup_with(id, FILE_PASSPHRASE)
    }

    /// The secret stored for account `id` in the vault's file sealed with `passphrase`.
    pub fn file_lookup_with(&self, id: &str, passphrase: &str) -> Option<String> {
        use twofold_core::keystore::Keystore as _;
        let password = twofold_core::import::Password::new(passphrase.to_owned());
        let file =
            twofold_core::keystore::FileKeystore::unlock(&self.data_dir(), &password).unwrap();
        let secret = file.load(id.parse().unwrap()).unwrap()?;
        Some(secret.to_base32().to_string())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn metadata(&self) -> PathBuf {
        self.data_dir().join("accounts.json")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
        cmd.args(args).env("TWOFOLD_DATA_DIR", self.data_dir()).env("TWOFOLD_LOG", "trace");
        if let Some(file) = &self.passphrase_file {
            cmd.env("TWOFOLD_PASSPHRASE_FILE", file);
        }
        cmd
    }

    /// Runs `twofold ARGS` with `stdin`, waiting for it.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let child = self.spawn(args, stdin);
        child.wait_with_output().unwrap()
    }

    /// Starts `twofold ARGS` with `stdin` written and closed.
    pub fn spawn(&self, args: &[&str], stdin: &str) -> Child {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        // The child may already be dead (killed on purpose): a broken pipe is fine then.
        let _ = input.write_all(stdin.as_bytes());
        drop(input);
        child
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let mut out = self.run(args, stdin);
        // gnome-keyring-daemon can abort some time after a client it served was killed (the crash
        // tests kill on purpose); scripts/with-services starts it again on the next call. The
        // command that met the dying daemon is run once more: a failure of ours still fails twice.
        if !out.status.success() && text(&out.stderr).contains(KEYRING_DIED) {
            eprintln!("twofold {args:?}: the keyring daemon died under it; running it again");
            out = self.run(args, stdin);
        }
        assert!(out.status.success(), "twofold {args:?} failed: {}", text(&out.stderr));
        text(&out.stdout)
    }

    /// Accounts as `twofold list --json` prints them.
    pub fn accounts(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.ok(&["list", "--json"], "")).unwrap()
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The password the real keyring holds for account `id`, looked up with libsecret's own tool.
pub fn keyring_lookup(id: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "twofold", "username", id])
        .output()
        .expect("secret-tool (libsecret-tools) is installed by scripts/test");
    out.status.success().then(|| text(&out.stdout))
}

/// Every file under `dir`, read whole (to grep for secrets).
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(all_files(&path));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files
}
