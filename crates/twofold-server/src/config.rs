//! The server's configuration file (TOML) and its key file.
//!
//! The key file holds the Ed25519 seed as base64url on one line, readable by its owner only
//! (mode 0600); the server refuses to start from a key file others can read.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};
use twofold_protocol::KeyPair;
use url::Url;
use zeroize::Zeroizing;

use crate::app::{Limits, Settings};
use crate::connections::ConnectionLimits;

/// Why the configuration or key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The public URL is unusable.
    #[error("public_url: {0}")]
    PublicUrl(#[from] twofold_protocol::LinkError),
    /// The key file is not one base64url seed of 32 bytes.
    #[error("{path}: not a Twofold server key (one line of base64url, 32 bytes)")]
    BadKey {
        /// The file.
        path: PathBuf,
    },
    /// The key file can be read by others.
    #[error("{path}: the server key can be read by other users; run chmod 600 on it")]
    KeyExposed {
        /// The file.
        path: PathBuf,
    },
    /// The `[portal]` section is unusable.
    #[error(transparent)]
    Portal(#[from] crate::portal::SiteError),
    /// The `[oidc]` section is unusable.
    #[error(transparent)]
    Oidc(#[from] crate::oidc::OidcConfigError),
    /// A file `init` would write already exists.
    #[error("{path} already exists; remove it or choose another directory")]
    Exists {
        /// The file.
        path: PathBuf,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigError + '_ {
    move |source| ConfigError::Io { path: path.to_owned(), source }
}

/// The configuration file. Its `Debug` hides the database password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: String,
    /// The URL devices and services reach the server at.
    pub public_url: String,
    /// `sqlite://path/to/file.db`, or `postgres://user@host/database` for several instances
    /// sharing one database.
    pub database_url: String,
    /// The server key file.
    pub key_file: PathBuf,
    /// GeoIP databases (MaxMind GeoLite2-City or DB-IP City Lite, IPv4 and IPv6 files).
    #[serde(default)]
    pub geoip: Vec<PathBuf>,
    /// Seconds a sign-in request waits for a decision.
    #[serde(default = "defaults::request_lifetime")]
    pub request_lifetime_secs: u64,
    /// Seconds a pairing link stays usable.
    #[serde(default = "defaults::pairing_lifetime")]
    pub pairing_lifetime_secs: u64,
    /// Largest request body, in bytes.
    #[serde(default = "defaults::max_body")]
    pub max_body_bytes: usize,
    /// Longest long poll, in seconds.
    #[serde(default = "defaults::max_wait")]
    pub max_wait_secs: u64,
    /// Rate limits and lockout.
    #[serde(default)]
    pub limits: Limits,
    /// Connection caps and timeouts.
    #[serde(default)]
    pub connections: ConnectionLimits,
    /// The sign-in portal in front of self-hosted web apps; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal: Option<crate::portal::PortalConfig>,
    /// Twofold as an OpenID Connect provider (needs the portal); none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<crate::oidc::OidcConfig>,
}

mod defaults {
    pub(super) fn request_lifetime() -> u64 {
        120
    }
    pub(super) fn pairing_lifetime() -> u64 {
        600
    }
    pub(super) fn max_body() -> usize {
        16 * 1024
    }
    pub(super) fn max_wait() -> u64 {
        60
    }
}

impl Config {
    /// A configuration for a server whose files live in `dir`.
    pub fn in_dir(dir: &Path, listen: &str, public_url: &str) -> Self {
        Self {
            listen: listen.into(),
            public_url: public_url.into(),
            database_url: format!("sqlite://{}", dir.join("twofold.db").display()),
            key_file: dir.join("server.key"),
            geoip: Vec::new(),
            request_lifetime_secs: defaults::request_lifetime(),
            pairing_lifetime_secs: defaults::pairing_lifetime(),
            max_body_bytes: defaults::max_body(),
            max_wait_secs: defaults::max_wait(),
            limits: Limits::default(),
            connections: ConnectionLimits::default(),
            portal: None,
            oidc: None,
        }
    }

    /// Reads a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })
    }

    /// Writes the configuration to a new file.
    pub fn create(&self, path: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string(self)
            .map_err(|e| ConfigError::Syntax { path: path.to_owned(), message: e.to_string() })?;
        // It may hold the PostgreSQL password.
        let mut file = new_file(path, 0o600)?;
        file.write_all(text.as_bytes()).map_err(io(path))
    }

    /// The routes' settings.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let public_url: Url = twofold_protocol::link::server_url(&self.public_url)?;
        if let Some(portal) = &self.portal {
            portal.check()?;
        }
        if let Some(oidc) = &self.oidc {
            oidc.issuer_url(self.portal.as_ref())?;
        }
        let mut settings = Settings::new(public_url);
        settings.request_lifetime = self.request_lifetime_secs;
        settings.pairing_lifetime = self.pairing_lifetime_secs;
        settings.max_body_bytes = self.max_body_bytes;
        settings.max_wait = self.max_wait_secs;
        settings.limits = self.limits.clone();
        Ok(settings)
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("database_url", &redact_password(&self.database_url))
            .field("key_file", &self.key_file)
            .field("geoip", &self.geoip)
            .field("limits", &self.limits)
            .field("connections", &self.connections)
            .finish_non_exhaustive()
    }
}

/// `url` with its password, if any, replaced by `***`, for messages and logs. A URL that does
/// not parse is shown as its scheme only: it may still hold a password.
pub fn redact_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only a URL that cannot have a password refuses one.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => match url.split_once(':') {
            Some((scheme, _)) => format!("{scheme}:<unreadable URL>"),
            None => "<unreadable URL>".to_owned(),
        },
    }
}

fn new_file(path: &Path, mode: u32) -> Result<std::fs::File, ConfigError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            ConfigError::Exists { path: path.to_owned() }
        } else {
            ConfigError::Io { path: path.to_owned(), source }
        }
    })
}

/// Writes a new file readable by its owner only (mode 0600).
pub fn create_private_file(path: &Path, contents: &[u8]) -> Result<(), ConfigError> {
    new_file(path, 0o600)?.write_all(contents).map_err(io(path))
}

/// Writes a new key file (mode 0600) holding `seed`.
pub fn create_key_file(path: &Path, seed: &[u8; 32]) -> Result<(), ConfigError> {
    let line = Zeroizing::new(format!("{}\n", BASE64URL_NOPAD.encode(seed)));
    create_private_file(path, line.as_bytes())
}

/// Reads the key file, refusing one that others can read.
pub fn read_key_file(path: &Path) -> Result<KeyPair, ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).map_err(io(path))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(ConfigError::KeyExposed { path: path.to_owned() });
        }
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io(path))?);
    let bytes = Zeroizing::new(
        BASE64URL_NOPAD
            .decode(text.trim().as_bytes())
            .map_err(|_| ConfigError::BadKey { path: path.to_owned() })?,
    );
    let seed: &[u8; 32] =
        bytes.as_slice().try_into().map_err(|_| ConfigError::BadKey { path: path.to_owned() })?;
    Ok(KeyPair::from_seed(seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        create_key_file(&path, &[5; 32]).unwrap();
        assert_eq!(read_key_file(&path).unwrap().public(), KeyPair::from_seed(&[5; 32]).public());
        assert!(matches!(create_key_file(&path, &[6; 32]), Err(ConfigError::Exists { .. })));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(read_key_file(&path), Err(ConfigError::KeyExposed { .. })));
        }
    }

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        let url = "postgres://twofold:hunter2@db.internal:5432/twofold?sslmode=verify-full";
        let shown = redact_password(url);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("twofold:***@db.internal"), "{shown}");
        assert_eq!(
            redact_password("sqlite:///var/lib/twofold/twofold.db"),
            "sqlite:///var/lib/twofold/twofold.db"
        );
        assert!(!redact_password("postgres://u:hunter2@[bad").contains("hunter2"));
        let mut config = Config::in_dir(Path::new("/tmp"), "127.0.0.1:1", "http://127.0.0.1:1");
        config.database_url = url.into();
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn config_round_trips_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("twofold-server.toml");
        let config = Config::in_dir(dir.path(), "127.0.0.1:8470", "http://127.0.0.1:8470");
        config.create(&path).unwrap();
        assert_eq!(Config::load(&path).unwrap(), config);
        assert_eq!(config.settings().unwrap().request_lifetime, 120);
        std::fs::write(&path, "listen = 5").unwrap();
        assert!(matches!(Config::load(&path), Err(ConfigError::Syntax { .. })));
    }
}
