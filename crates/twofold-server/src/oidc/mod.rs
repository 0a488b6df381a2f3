//! Twofold as an OpenID Connect provider (issue 22): any app that speaks OIDC (Grafana, Gitea,
//! Nextcloud, Apache's `mod_auth_openidc`) signs its users in with an approval on their paired
//! device. The sign-in itself is the portal's ([`crate::portal`]): the authorization endpoint
//! sends a browser without a (fresh enough) portal session to the portal's sign-in page and
//! comes back to itself.
//!
//! The issuer is `https://SITE/twofold`, SITE one of the portal's sites, so the proxy that
//! already sends `/twofold/` to this server serves the provider too:
//! - `GET /twofold/.well-known/openid-configuration`: discovery.
//! - `GET /twofold/oidc/jwks`: the signing keys ([`keys`]).
//! - `GET /twofold/oidc/authorize`: code flow ([`twofold_oidc::authorize`]); PKCE S256
//!   ([`twofold_oidc::pkce`]).
//! - `POST /twofold/oidc/token`: `client_secret_basic`, `client_secret_post`, or a public
//!   client with PKCE ([`twofold_oidc::token`]); codes are single use; ID tokens
//!   ([`tokens`]).
//! - `GET|POST /twofold/oidc/userinfo`: the user's claims for an access token.
//! - `GET|POST /twofold/oidc/logout`: RP-initiated logout, back only to registered URIs.
//!
//! Clients are registered by the administrator (`twofold-server client add`, [`clients`]).

pub mod clients;
pub mod keys;
mod routes;
pub mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use url::Url;

pub use routes::router;

use crate::app::AppState;
use crate::portal::{Portal, PortalConfig, SigninNamer};
use crate::store::oidc::OidcStore;
use keys::{KeyError, SigningKeys};

/// Why the `[oidc]` section is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OidcConfigError {
    /// The issuer is not `https://SITE/twofold` for a portal site.
    #[error(
        "[oidc] issuer {0:?} must be https://SITE/twofold with SITE one of [[portal.sites]] (http only on loopback)"
    )]
    BadIssuer(String),
    /// There is no portal to sign in with.
    #[error("[oidc] needs a [portal] section: its sign-in is the provider's")]
    NoPortal,
    /// A lifetime is zero.
    #[error("[oidc] id_token_minutes and access_token_minutes must be at least 1")]
    ZeroLifetime,
}

/// `[oidc]`: Twofold as an OpenID Connect provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer, `https://SITE/twofold`.
    pub issuer: String,
    /// The signing keys' file (default: `oidc-keys.json` beside the server key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_file: Option<PathBuf>,
    /// How long an ID token is valid, in minutes (default 10).
    #[serde(default = "default_id_token_minutes")]
    pub id_token_minutes: u64,
    /// How long an access token (userinfo) is valid, in minutes (default 60).
    #[serde(default = "default_access_token_minutes")]
    pub access_token_minutes: u64,
}

fn default_id_token_minutes() -> u64 {
    10
}
fn default_access_token_minutes() -> u64 {
    60
}

impl OidcConfig {
    /// A provider at `issuer` with the defaults.
    pub fn new(issuer: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            keys_file: None,
            id_token_minutes: default_id_token_minutes(),
            access_token_minutes: default_access_token_minutes(),
        }
    }

    /// The issuer URL, checked against the portal's sites.
    pub fn issuer_url(&self, portal: Option<&PortalConfig>) -> Result<Url, OidcConfigError> {
        let portal = portal.ok_or(OidcConfigError::NoPortal)?;
        if self.id_token_minutes == 0 || self.access_token_minutes == 0 {
            return Err(OidcConfigError::ZeroLifetime);
        }
        let bad = || OidcConfigError::BadIssuer(self.issuer.clone());
        let url = Url::parse(&self.issuer).map_err(|_| bad())?;
        let site = url.host_str().and_then(|host| portal.site(host)).ok_or_else(bad)?;
        let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && site.is_loopback());
        if !scheme_ok
            || url.path() != "/twofold"
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
        {
            return Err(bad());
        }
        Ok(url)
    }

    /// The signing keys' file, given the server key's.
    pub fn keys_path(&self, server_key: &Path) -> PathBuf {
        self.keys_file.clone().unwrap_or_else(|| server_key.with_file_name("oidc-keys.json"))
    }

    /// Seconds an old signing key stays published after a rotation: its last ID token's life.
    pub fn keep_retired_secs(&self) -> u64 {
        self.id_token_minutes.saturating_mul(60)
    }
}

/// The provider's state beside the portal's.
pub struct Oidc<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Oidc<S> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

struct Inner<S> {
    portal: Portal<S>,
    config: OidcConfig,
    issuer: Url,
    keys_path: PathBuf,
    /// The keys, and the key file's modification time they were read at: a rotation by
    /// `twofold-server oidc rotate-keys` is picked up without a restart.
    keys: RwLock<(Option<SystemTime>, Arc<SigningKeys>)>,
}

impl<S: OidcStore> Oidc<S> {
    /// The provider over `portal`, its keys read (or made) from `keys_path`. Sign-ins for a
    /// client show the device the client's name ("Sign in to Grafana").
    pub fn new(
        portal: Portal<S>,
        config: OidcConfig,
        keys_path: PathBuf,
        now: u64,
    ) -> Result<Self, OidcError> {
        let issuer = config.issuer_url(Some(portal.config()))?;
        let keys = SigningKeys::open_or_create(&keys_path, now)?;
        let modified = modified(&keys_path);
        portal.name_signins_with(client_namer(portal.app().clone(), issuer.clone()));
        Ok(Self {
            inner: Arc::new(Inner {
                portal,
                config,
                issuer,
                keys_path,
                keys: RwLock::new((modified, Arc::new(keys))),
            }),
        })
    }

    fn portal(&self) -> &Portal<S> {
        &self.inner.portal
    }

    /// The issuer, without a trailing slash.
    fn issuer(&self) -> &str {
        self.inner.issuer.as_str().trim_end_matches('/')
    }

    /// The signing keys, read again if the file changed.
    fn keys(&self) -> Result<Arc<SigningKeys>, KeyError> {
        let now_modified = modified(&self.inner.keys_path);
        {
            let held = self.inner.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            if held.0 == now_modified {
                return Ok(Arc::clone(&held.1));
            }
        }
        let fresh = Arc::new(SigningKeys::open(&self.inner.keys_path)?);
        let mut held = self.inner.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        *held = (now_modified, Arc::clone(&fresh));
        Ok(fresh)
    }
}

/// Names a sign-in returning to this provider's authorization endpoint after its client.
fn client_namer<S: OidcStore>(app: AppState<S>, issuer: Url) -> SigninNamer {
    Arc::new(move |return_url: String| {
        let app = app.clone();
        let issuer = issuer.clone();
        Box::pin(async move {
            let url = Url::parse(&return_url).ok()?;
            if url.origin() != issuer.origin() || url.path() != "/twofold/oidc/authorize" {
                return None;
            }
            let id = url.query_pairs().find(|(k, _)| k == "client_id")?.1.into_owned();
            let client = app.get().store.client(&id).await.ok()??;
            Some(format!("Sign in to {}", client.name))
        })
    })
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Why the provider could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] OidcConfigError),
    /// The signing keys are unusable.
    #[error(transparent)]
    Keys(#[from] KeyError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_must_be_a_portal_site_under_twofold() {
        let portal = PortalConfig::new(&["id.example.com", "127.0.0.1"]);
        let ok = |issuer: &str| OidcConfig::new(issuer).issuer_url(Some(&portal)).is_ok();
        assert!(ok("https://id.example.com/twofold"));
        assert!(ok("https://id.example.com:8443/twofold"));
        assert!(ok("http://127.0.0.1:8470/twofold"));
        for bad in [
            "http://id.example.com/twofold",
            "https://other.example.com/twofold",
            "https://id.example.com/",
            "https://id.example.com/twofold/",
            "https://id.example.com/twofold?x=1",
            "id.example.com",
        ] {
            assert!(!ok(bad), "{bad}");
        }
        let config = OidcConfig::new("https://id.example.com/twofold");
        assert_eq!(config.issuer_url(None), Err(OidcConfigError::NoPortal));
    }
}
