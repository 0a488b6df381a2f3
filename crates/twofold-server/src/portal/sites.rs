//! The portal's configuration (`[portal]` in the server's TOML): the protected sites, their
//! session lifetimes, and the rules that follow from them: which return URLs are allowed (no open
//! redirect) and which cookies a site gets (Secure everywhere but loopback).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use twofold_protocol::Mode;
use url::Url;

/// Why the portal configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// A domain is not a bare host name.
    #[error(
        "portal site domain {0:?} is not a host name (write app.example.com: no scheme, port or path)"
    )]
    BadDomain(String),
    /// A lifetime is zero.
    #[error("portal site {0:?}: session_hours and trusted_days must be at least 1")]
    ZeroLifetime(String),
    /// The portal protects nothing.
    #[error("[portal] needs at least one [[portal.sites]] entry")]
    NoSites,
}

/// `[portal]`: the sign-in portal in front of self-hosted web apps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// The service name devices show for portal sign-ins.
    #[serde(default = "default_name")]
    pub name: String,
    /// The sites behind the portal.
    pub sites: Vec<Site>,
}

/// One protected site: a host name whose proxy asks the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// The host name (`wiki.example.com`); sessions started on it are valid on it only.
    pub domain: String,
    /// How long a session lasts, in hours (default 8).
    #[serde(default = "default_session_hours")]
    pub session_hours: u64,
    /// Minutes without a request that end a session (default 60; 0: only `session_hours`).
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u64,
    /// How long a trusted browser stays signed in, in days (default 30).
    #[serde(default = "default_trusted_days")]
    pub trusted_days: u64,
    /// How the person confirms: `push` (Allow), `number` (number matching, the default) or
    /// `code` (Allow reveals a code to type on the page).
    #[serde(default = "default_mode")]
    pub mode: Mode,
}

fn default_name() -> String {
    "Twofold sign-in".into()
}
fn default_session_hours() -> u64 {
    8
}
fn default_idle_minutes() -> u64 {
    60
}
fn default_trusted_days() -> u64 {
    30
}
fn default_mode() -> Mode {
    Mode::Number
}

/// How long a session started on a site lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// Seconds until it ends however much it is used.
    pub absolute_secs: u64,
    /// Seconds without use that end it; `None`: only the absolute end.
    pub idle_secs: Option<u64>,
    /// Whether the cookie outlives the browser (trusted browsers): its max age in seconds.
    pub cookie_max_age: Option<u64>,
}

impl Site {
    /// A site for `domain` with the default lifetimes and number matching.
    pub fn new(domain: &str) -> Self {
        Self {
            domain: domain.to_owned(),
            session_hours: default_session_hours(),
            idle_minutes: default_idle_minutes(),
            trusted_days: default_trusted_days(),
            mode: default_mode(),
        }
    }

    /// The lifetime of a session here, for a trusted browser or not.
    pub fn lifetime(&self, trusted: bool) -> Lifetime {
        if trusted {
            let secs = self.trusted_days.saturating_mul(86_400);
            Lifetime { absolute_secs: secs, idle_secs: None, cookie_max_age: Some(secs) }
        } else {
            Lifetime {
                absolute_secs: self.session_hours.saturating_mul(3600),
                idle_secs: (self.idle_minutes > 0).then(|| self.idle_minutes.saturating_mul(60)),
                cookie_max_age: None,
            }
        }
    }

    /// Whether the site is this machine (`localhost`, 127.0.0.0/8, `::1`): the only place
    /// cookies go without TLS.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.domain)
    }
}

/// Whether `host` names this machine.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl PortalConfig {
    /// A portal protecting `domains` with the defaults.
    pub fn new(domains: &[&str]) -> Self {
        Self { name: default_name(), sites: domains.iter().map(|d| Site::new(d)).collect() }
    }

    /// Checks every site; the first problem found.
    pub fn check(&self) -> Result<(), SiteError> {
        if self.sites.is_empty() {
            return Err(SiteError::NoSites);
        }
        for site in &self.sites {
            let parsed = Url::parse(&format!("https://{}/", site.domain)).ok();
            let bare = parsed.as_ref().is_some_and(|url| {
                url.host_str().is_some_and(|h| h.eq_ignore_ascii_case(&site.domain))
                    && url.port().is_none()
            });
            if !bare {
                return Err(SiteError::BadDomain(site.domain.clone()));
            }
            if site.session_hours == 0 || site.trusted_days == 0 {
                return Err(SiteError::ZeroLifetime(site.domain.clone()));
            }
        }
        Ok(())
    }

    /// The site of a host name (case-insensitive, exact: a subdomain is another site).
    pub fn site(&self, host: &str) -> Option<&Site> {
        self.sites.iter().find(|site| site.domain.eq_ignore_ascii_case(host))
    }

    /// `url` as a place to send a browser after sign-in, with its site: an absolute http(s) URL
    /// without credentials on a configured site (http only on loopback). Anything else is
    /// refused, so the sign-in page never redirects elsewhere.
    pub fn return_url(&self, url: &str) -> Option<(Url, &Site)> {
        // Browsers read a backslash as a slash and drop tabs and newlines: refuse such URLs
        // rather than guess which host a browser would see.
        if url.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace()) {
            return None;
        }
        let parsed = Url::parse(url).ok()?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return None;
        }
        let site = self.site(parsed.host_str()?)?;
        match parsed.scheme() {
            "https" => {}
            "http" if site.is_loopback() => {}
            _ => return None,
        }
        Some((parsed, site))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_stay_on_configured_sites() {
        let portal = PortalConfig::new(&["wiki.example.com", "127.0.0.1"]);
        assert!(portal.return_url("https://wiki.example.com/page?x=1").is_some());
        assert!(portal.return_url("https://WIKI.example.com:8443/").is_some());
        assert!(portal.return_url("http://127.0.0.1:8080/").is_some());
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/relative",
            "http://wiki.example.com/",
            "https://wiki.example.com.evil.example/",
            "https://evil.example/?https://wiki.example.com/",
            "https://user:pw@wiki.example.com/",
            "https://wiki.example.com\\@evil.example/",
            "javascript:alert(1)",
            "https://sub.wiki.example.com/",
            "https://wiki.example.com\t.evil/",
        ] {
            assert!(portal.return_url(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn lifetimes_follow_the_site_and_trust() {
        let site = Site::new("a.example");
        assert_eq!(site.lifetime(false).absolute_secs, 8 * 3600);
        assert_eq!(site.lifetime(false).idle_secs, Some(3600));
        assert_eq!(site.lifetime(false).cookie_max_age, None);
        assert_eq!(site.lifetime(true).absolute_secs, 30 * 86_400);
        assert_eq!(site.lifetime(true).cookie_max_age, Some(30 * 86_400));
    }

    #[test]
    fn domains_must_be_bare_hosts() {
        assert!(PortalConfig::new(&["wiki.example.com"]).check().is_ok());
        for bad in ["https://x.example", "x.example:80", "x.example/path", "", "a b"] {
            assert!(PortalConfig::new(&[bad]).check().is_err(), "{bad}");
        }
        assert_eq!(PortalConfig::new(&[]).check(), Err(SiteError::NoSites));
    }

    #[test]
    fn loopback_is_recognised() {
        for host in ["localhost", "127.0.0.1", "127.3.2.1", "[::1]", "LOCALHOST"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["example.com", "10.0.0.1", "localhost.example.com"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
