//! `/etc/twofold/pam.toml` and the module arguments that override it per PAM service.
//!
//! ```toml
//! server = "https://twofold.example.org/"
//! api_key = "tfk_..."          # the service's API key: the file must be root's, 0600
//! mode = "push"                # push | number | code
//! timeout = 60                 # seconds to wait for an answer
//! failmode = "secure"          # secure (deny when the server cannot be reached) | open
//! offline_codes = true         # after a timeout, accept a code read off the device
//! host = "build-01"            # the name shown on the device (default: the hostname)
//! prompt = false               # ask "… press Enter" instead of only showing what to do (sshd)
//! [users]                      # PAM user = Twofold user (default: the same name)
//! root = "alice"
//! ```
//!
//! Module arguments (`auth required pam_twofold.so mode=number timeout=30`) override the file:
//! `config=PATH`, `mode=`, `timeout=`, `failmode=`, `offline_codes=yes|no`, `host=`, `prompt=yes|no`.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use twofold_protocol::Mode;
use twofold_protocol::api::SecretText;

/// Where the configuration is read from unless `config=` says otherwise.
pub const DEFAULT_PATH: &str = "/etc/twofold/pam.toml";

/// Longest configuration file read, in bytes.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Longest wait for an answer a configuration may ask for, in seconds: the server keeps a request
/// for 120 s by default, and sshd's `LoginGraceTime` is 120 s.
const MAX_TIMEOUT_SECS: u64 = 600;

/// What to do when the Twofold server cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    /// Deny, and say why (the default).
    Secure,
    /// Let the user in without a second factor.
    Open,
}

/// The module's settings: the file, then the module arguments over it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Twofold server, https (or http to loopback).
    pub server: String,
    /// The API key of the service this machine is on the server.
    pub api_key: SecretText,
    /// How the person confirms.
    pub mode: Mode,
    /// How long to wait for an answer.
    pub timeout: Duration,
    /// How long to wait for a connection to the server.
    pub connect_timeout: Duration,
    /// What to do when the server cannot be reached.
    pub failmode: FailMode,
    /// Whether a code read off the device is accepted after a timeout.
    pub offline_codes: bool,
    /// The machine's name as the device shows it; `None`: the hostname.
    pub host: Option<String>,
    /// Whether what to do is asked as a prompt ("… then press Enter"): sshd shows PAM's text
    /// messages only with the next prompt, so without one an SSH user sees nothing while waiting.
    pub prompt: bool,
    /// PAM user to Twofold user, for names that differ.
    pub users: BTreeMap<String, String>,
}

/// The file's fields; everything but the server and the key has a default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    server: String,
    api_key: SecretText,
    #[serde(default = "default_mode")]
    mode: Mode,
    #[serde(default = "default_timeout")]
    timeout: u64,
    #[serde(default = "default_connect_timeout")]
    connect_timeout: u64,
    #[serde(default = "default_failmode")]
    failmode: FailMode,
    #[serde(default = "default_true")]
    offline_codes: bool,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    prompt: bool,
    #[serde(default)]
    users: BTreeMap<String, String>,
}

fn default_mode() -> Mode {
    Mode::Push
}
fn default_timeout() -> u64 {
    60
}
fn default_connect_timeout() -> u64 {
    5
}
fn default_failmode() -> FailMode {
    FailMode::Secure
}
fn default_true() -> bool {
    true
}

/// Why the module refuses its configuration. Each names the file and what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        reason: String,
    },
    /// Someone other than root owns the file, or others may read or write it.
    #[error(
        "{path} holds the service's API key, so it must be owned by root and readable by root \
         only (chown root:root, chmod 600); it is owned by uid {uid} with mode {mode:o}"
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its owner.
        uid: u32,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{path} is not a valid pam_twofold configuration: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, as the TOML reader says.
        reason: String,
    },
    /// A module argument in /etc/pam.d is unknown or has a bad value.
    #[error("bad pam_twofold argument {argument:?} in /etc/pam.d: {reason}")]
    Argument {
        /// The argument as written.
        argument: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Whether a file with owner `uid` and permission bits `mode` may hold the API key: root's, and
/// neither readable nor writable by group or others (a group-writable file could be replaced).
pub fn safe_permissions(uid: u32, mode: u32) -> bool {
    uid == 0 && mode & 0o077 == 0
}

impl Config {
    /// Reads the configuration for a module invoked with `args`: the file (`config=` or
    /// [`DEFAULT_PATH`]), checked to be root's and private, then the arguments over it.
    pub fn load(args: &[&str]) -> Result<Self, ConfigError> {
        let path = args
            .iter()
            .find_map(|arg| arg.strip_prefix("config="))
            .map_or_else(|| PathBuf::from(DEFAULT_PATH), PathBuf::from);
        let text = read_private(&path)?;
        Self::parse(&path, &text, args)
    }

    /// The configuration in `text` (read from `path`), with the module arguments `args` over it.
    pub fn parse(path: &Path, text: &str, args: &[&str]) -> Result<Self, ConfigError> {
        let file: File = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            reason: e.message().to_owned(),
        })?;
        let mut config = Self {
            server: file.server,
            api_key: file.api_key,
            mode: file.mode,
            timeout: Duration::from_secs(file.timeout),
            connect_timeout: Duration::from_secs(file.connect_timeout),
            failmode: file.failmode,
            offline_codes: file.offline_codes,
            host: file.host,
            prompt: file.prompt,
            users: file.users,
        };
        for arg in args {
            config.apply(arg)?;
        }
        let invalid = |reason: &str| ConfigError::Invalid {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        if config.timeout.is_zero() || config.timeout.as_secs() > MAX_TIMEOUT_SECS {
            return Err(invalid("timeout must be between 1 and 600 seconds"));
        }
        if config.connect_timeout.is_zero() || config.connect_timeout.as_secs() > 60 {
            return Err(invalid("connect_timeout must be between 1 and 60 seconds"));
        }
        if let Err(e) = twofold_protocol::link::server_url(&config.server) {
            return Err(invalid(&format!("server: {e}")));
        }
        Ok(config)
    }

    /// Applies one module argument.
    fn apply(&mut self, arg: &str) -> Result<(), ConfigError> {
        let bad = |reason| ConfigError::Argument { argument: arg.to_owned(), reason };
        let (name, value) = arg.split_once('=').ok_or_else(|| bad("expected NAME=VALUE"))?;
        match name {
            "config" => {}
            "mode" => {
                self.mode = match value {
                    "push" => Mode::Push,
                    "number" => Mode::Number,
                    "code" => Mode::Code,
                    _ => return Err(bad("mode must be push, number or code")),
                }
            }
            "timeout" => {
                let secs: u64 = value.parse().map_err(|_| bad("timeout must be whole seconds"))?;
                self.timeout = Duration::from_secs(secs);
            }
            "failmode" => {
                self.failmode = match value {
                    "secure" => FailMode::Secure,
                    "open" => FailMode::Open,
                    _ => return Err(bad("failmode must be secure or open")),
                }
            }
            "offline_codes" => {
                self.offline_codes = yes_no(value).ok_or_else(|| bad("expected yes or no"))?;
            }
            "prompt" => self.prompt = yes_no(value).ok_or_else(|| bad("expected yes or no"))?,
            "host" => self.host = Some(value.to_owned()),
            _ => return Err(bad("unknown argument")),
        }
        Ok(())
    }

    /// The Twofold user a PAM user signs in as.
    pub fn twofold_user<'a>(&'a self, pam_user: &'a str) -> &'a str {
        self.users.get(pam_user).map_or(pam_user, String::as_str)
    }
}

/// `yes` / `no` (or `true` / `false`) of a module argument.
fn yes_no(value: &str) -> Option<bool> {
    match value {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// The file's text, once its owner and mode show only root can read or change it.
fn read_private(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read as _;
    let unreadable = |e: std::io::Error| ConfigError::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // The open file's metadata, not the path's: the file checked is the file read.
    let meta = file.metadata().map_err(unreadable)?;
    if !safe_permissions(meta.uid(), meta.mode()) {
        return Err(ConfigError::Permissions {
            path: path.to_owned(),
            uid: meta.uid(),
            mode: meta.mode() & 0o7777,
        });
    }
    let mut text = String::new();
    file.take(MAX_FILE_BYTES).read_to_string(&mut text).map_err(unreadable)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const MINIMAL: &str = "server = \"https://twofold.example.org/\"\napi_key = \"tfk_secret\"\n";

    fn parse(text: &str, args: &[&str]) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/twofold/pam.toml"), text, args)
    }

    #[test]
    fn defaults_are_push_secure_with_offline_codes() {
        let config = parse(MINIMAL, &[]).unwrap();
        assert_eq!(config.mode, Mode::Push);
        assert_eq!(config.failmode, FailMode::Secure);
        assert_eq!(config.timeout, Duration::from_secs(60));
        assert!(config.offline_codes);
        assert_eq!(config.twofold_user("alice"), "alice");
    }

    #[test]
    fn failmode_open_only_when_written() {
        let written = format!("{MINIMAL}failmode = \"open\"\n");
        assert_eq!(parse(&written, &[]).unwrap().failmode, FailMode::Open);
        assert_eq!(parse(MINIMAL, &["failmode=open"]).unwrap().failmode, FailMode::Open);
    }

    #[test]
    fn module_arguments_override_the_file() {
        let text = format!("{MINIMAL}mode = \"code\"\ntimeout = 90\n");
        let config = parse(
            &text,
            &["mode=number", "timeout=20", "offline_codes=no", "host=b1", "prompt=yes"],
        )
        .unwrap();
        assert_eq!(config.mode, Mode::Number);
        assert_eq!(config.timeout, Duration::from_secs(20));
        assert!(!config.offline_codes);
        assert_eq!(config.host.as_deref(), Some("b1"));
        assert!(config.prompt);
    }

    #[test]
    fn users_map_pam_names_to_twofold_names() {
        let text = format!("{MINIMAL}[users]\nroot = \"alice\"\n");
        let config = parse(&text, &[]).unwrap();
        assert_eq!(config.twofold_user("root"), "alice");
        assert_eq!(config.twofold_user("bob"), "bob");
    }

    #[test]
    fn bad_arguments_and_values_are_named() {
        for args in [
            ["mode=sms"],
            ["timeout=soon"],
            ["failmode=maybe"],
            ["verbose"],
            ["x=1"],
            ["prompt=maybe"],
        ] {
            let error = parse(MINIMAL, &args).unwrap_err().to_string();
            assert!(error.contains(args[0]), "{error}");
        }
        let error = parse(MINIMAL, &["timeout=0"]).unwrap_err().to_string();
        assert!(error.contains("timeout must be between"), "{error}");
        let plain = "server = \"http://twofold.example.org/\"\napi_key = \"k\"\n";
        let error = parse(plain, &[]).unwrap_err().to_string();
        assert!(error.contains("use https"), "{error}");
        let error = parse("server = 1", &[]).unwrap_err().to_string();
        assert!(error.contains("/etc/twofold/pam.toml"), "{error}");
    }

    #[test]
    fn the_api_key_never_shows_in_debug_or_errors() {
        let config = parse(MINIMAL, &[]).unwrap();
        assert!(!format!("{config:?}").contains("tfk_secret"));
        let error = parse(&format!("{MINIMAL}extra = 1\n"), &[]).unwrap_err().to_string();
        assert!(!error.contains("tfk_secret"), "{error}");
    }

    #[test]
    fn only_a_private_root_file_may_hold_the_key() {
        assert!(safe_permissions(0, 0o100600));
        assert!(safe_permissions(0, 0o100400));
        assert!(!safe_permissions(0, 0o100644), "readable by others");
        assert!(!safe_permissions(0, 0o100640), "readable by the group");
        assert!(!safe_permissions(0, 0o100620), "writable by the group");
        assert!(!safe_permissions(1000, 0o100600), "not root's");
    }
}
