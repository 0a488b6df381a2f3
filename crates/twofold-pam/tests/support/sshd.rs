//! A real sshd (Debian's openssh-server) on a loopback port with its own configuration and host
//! key, `UsePAM yes` and `AuthenticationMethods publickey,keyboard-interactive`, its PAM stack
//! `pam_twofold.so` from a service file in /etc/pam.d (root only), and a real ssh client that
//! logs in with a key, non-interactively. Shared by the module's sshd tests and the end-to-end
//! test where the desktop app answers.
//!
//! sshd names its PAM service after the program (argv[0]), so each sshd runs through a symlink
//! named like its own service file in /etc/pam.d.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An sshd on a free loopback port, stopped (and its files removed) when dropped.
pub struct Sshd {
    /// Its loopback port.
    pub port: u16,
    child: Child,
    client_key: PathBuf,
    pam_file: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sshd {
    /// Starts sshd whose keyboard-interactive step runs pam_twofold with `config` and `args`.
    pub fn start(config: &Path, args: &str) -> Self {
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
                super::module_path().display(),
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

    /// What sshd logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `ssh root@127.0.0.1 echo logged-in` with the client key, no terminal and no input:
    /// (exit success, stdout + stderr).
    pub fn login(&self) -> (bool, String) {
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

/// A free loopback port (bound, then released for sshd).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
