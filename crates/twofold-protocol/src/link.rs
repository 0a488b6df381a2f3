//! Pairing links: what a service shows (as a QR code or a link) so a device can pair.
//!
//! ```text
//! twofold+pair://pair?v=1&server=https%3A%2F%2Fauth.example.com%2F&token=TOKEN&fingerprint=FP&service=Example
//! ```
//!
//! - `v`: the link format version, `1`.
//! - `server`: the server's base URL. `https`, or `http` only to a loopback address (local trials).
//! - `token`: the single-use pairing token, 16 to 128 characters of base64url.
//! - `fingerprint`: the server key's fingerprint (32 base32 characters); the device refuses a
//!   server whose key does not match, and pins that key.
//! - `service` (optional): the service's name, for the device to show while pairing. The server's
//!   answer, not this, is what the device records.
//!
//! Unknown parameters are ignored, so later versions can add some; a parameter given twice is an
//! error, since the two could disagree.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use url::Url;

use crate::keys::Fingerprint;

/// The link scheme.
pub const SCHEME: &str = "twofold+pair";
/// The only link version this crate reads and writes.
const VERSION: &str = "1";
/// Shortest and longest accepted token.
const TOKEN_LENGTH: std::ops::RangeInclusive<usize> = 16..=128;
/// Longest accepted service name, in characters.
const MAX_SERVICE_CHARS: usize = 100;

/// Why a text is not a pairing link. Never carries the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Not a URL at all.
    #[error("this is not a pairing link: it is not a URL")]
    NotAUrl,
    /// A URL of another scheme.
    #[error(
        "this is not a Twofold pairing link: it starts with {scheme}: instead of twofold+pair:"
    )]
    WrongScheme {
        /// The scheme found.
        scheme: String,
    },
    /// A required parameter is missing.
    #[error("the pairing link has no {name} parameter")]
    Missing {
        /// The parameter's name.
        name: &'static str,
    },
    /// A parameter appears twice.
    #[error("the pairing link has the {name} parameter twice")]
    Repeated {
        /// The parameter's name.
        name: String,
    },
    /// A version this crate does not know.
    #[error("the pairing link is version {version}; this app reads version 1: update it")]
    UnsupportedVersion {
        /// The version found.
        version: String,
    },
    /// The server parameter is not an acceptable URL.
    #[error("the pairing link's server address {server:?} is not usable: {reason}")]
    BadServer {
        /// The server parameter as given.
        server: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The token has the wrong length or characters.
    #[error(
        "the pairing link's token is malformed: it must be 16 to 128 characters of A–Z, a–z, 0–9, - or _"
    )]
    BadToken,
    /// The fingerprint is not 32 base32 characters.
    #[error("the pairing link's fingerprint is malformed: {0}")]
    BadFingerprint(crate::keys::KeyError),
    /// The service name is too long or has control, bidirectional or invisible characters.
    #[error(
        "the pairing link's service name is too long or contains control, bidirectional or invisible characters"
    )]
    BadService,
}

/// A parsed pairing link.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingLink {
    /// The server's base URL, always ending in `/`.
    pub server: Url,
    /// The single-use pairing token.
    pub token: String,
    /// Fingerprint of the server key.
    pub fingerprint: Fingerprint,
    /// The service's name, for display only.
    pub service: Option<String>,
}

impl fmt::Debug for PairingLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token grants pairing to whoever holds it: keep it out of logs.
        f.debug_struct("PairingLink")
            .field("server", &self.server.as_str())
            .field("token", &"<redacted>")
            .field("fingerprint", &self.fingerprint)
            .field("service", &self.service)
            .finish()
    }
}

/// Checks and normalises a server base URL: https, or http to loopback; no credentials, query or
/// fragment; path ending in `/` so relative API paths join under it.
pub fn server_url(text: &str) -> Result<Url, LinkError> {
    let bad = |reason| LinkError::BadServer { server: text.to_owned(), reason };
    let mut url = Url::parse(text).map_err(|_| bad("it is not a URL"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(bad("it has no host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(bad("plain http is only allowed to this computer; use https")),
        _ => return Err(bad("it must start with https://")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it must not contain a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn valid_token(token: &str) -> bool {
    TOKEN_LENGTH.contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_service(service: &str) -> bool {
    service.chars().count() <= MAX_SERVICE_CHARS && !crate::text::has_deceptive(service)
}

impl PairingLink {
    /// Builds a link, checking each part as [`FromStr`] would.
    pub fn new(
        server: &str,
        token: &str,
        fingerprint: Fingerprint,
        service: Option<&str>,
    ) -> Result<Self, LinkError> {
        let server = server_url(server)?;
        if !valid_token(token) {
            return Err(LinkError::BadToken);
        }
        if service.is_some_and(|s| !valid_service(s)) {
            return Err(LinkError::BadService);
        }
        Ok(Self {
            server,
            token: token.to_owned(),
            fingerprint,
            service: service.map(str::to_owned),
        })
    }
}

impl FromStr for PairingLink {
    type Err = LinkError;

    fn from_str(text: &str) -> Result<Self, LinkError> {
        let url = Url::parse(text.trim()).map_err(|_| LinkError::NotAUrl)?;
        if url.scheme() != SCHEME {
            return Err(LinkError::WrongScheme { scheme: url.scheme().to_owned() });
        }
        let (mut version, mut server, mut token, mut fingerprint, mut service) =
            (None, None, None, None, None);
        for (name, value) in url.query_pairs() {
            let slot = match name.as_ref() {
                "v" => &mut version,
                "server" => &mut server,
                "token" => &mut token,
                "fingerprint" => &mut fingerprint,
                "service" => &mut service,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(LinkError::Repeated { name: name.into_owned() });
            }
        }
        let version = version.ok_or(LinkError::Missing { name: "v" })?;
        if version != VERSION {
            return Err(LinkError::UnsupportedVersion { version });
        }
        let server = server.ok_or(LinkError::Missing { name: "server" })?;
        let token = token.ok_or(LinkError::Missing { name: "token" })?;
        let fingerprint = fingerprint
            .ok_or(LinkError::Missing { name: "fingerprint" })?
            .parse()
            .map_err(LinkError::BadFingerprint)?;
        Self::new(&server, &token, fingerprint, service.as_deref())
    }
}

impl fmt::Display for PairingLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("v", VERSION)
            .append_pair("server", self.server.as_str())
            .append_pair("token", &self.token)
            .append_pair("fingerprint", &self.fingerprint.compact());
        if let Some(service) = &self.service {
            query.append_pair("service", service);
        }
        write!(f, "{SCHEME}://pair?{}", query.finish())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::keys::KeyPair;

    fn fingerprint(seed: u8) -> Fingerprint {
        KeyPair::from_seed(&[seed; 32]).public().fingerprint()
    }

    const TOKEN: &str = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE";

    #[test]
    fn reads_what_it_writes() {
        let link =
            PairingLink::new("https://auth.example.com", TOKEN, fingerprint(1), Some("Example"))
                .unwrap();
        assert_eq!(link.server.as_str(), "https://auth.example.com/");
        let text = link.to_string();
        assert!(text.starts_with("twofold+pair://pair?v=1&server=https%3A%2F%2F"), "{text}");
        assert_eq!(text.parse::<PairingLink>().unwrap(), link);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let fp = fingerprint(1).compact();
        let cases = [
            ("not a url", LinkError::NotAUrl),
            ("https://example.com/?token=x", LinkError::WrongScheme { scheme: "https".into() }),
            (
                "twofold+pair://pair?server=https://a.example&token=x",
                LinkError::Missing { name: "v" },
            ),
            (
                "twofold+pair://pair?v=2&server=https://a.example",
                LinkError::UnsupportedVersion { version: "2".into() },
            ),
            ("twofold+pair://pair?v=1&v=1", LinkError::Repeated { name: "v".into() }),
            (
                "twofold+pair://pair?v=1&token=x&fingerprint=y",
                LinkError::Missing { name: "server" },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<PairingLink>().unwrap_err(), expected, "{text}");
        }
        let with = |server: &str, token: &str, fp: &str| {
            format!("twofold+pair://pair?v=1&server={server}&token={token}&fingerprint={fp}")
                .parse::<PairingLink>()
        };
        assert!(matches!(
            with("http://auth.example.com", TOKEN, &fp),
            Err(LinkError::BadServer { reason, .. }) if reason.contains("https")
        ));
        assert!(with("http://127.0.0.1:8080", TOKEN, &fp).is_ok());
        assert!(with("http://[::1]:8080", TOKEN, &fp).is_ok());
        assert!(matches!(with("ftp://a.example", TOKEN, &fp), Err(LinkError::BadServer { .. })));
        assert_eq!(with("https://a.example", "short", &fp), Err(LinkError::BadToken));
        assert!(matches!(
            with("https://a.example", TOKEN, "ABC"),
            Err(LinkError::BadFingerprint(_))
        ));
    }

    #[test]
    fn debug_and_errors_never_show_the_token() {
        let link = PairingLink::new("https://a.example", TOKEN, fingerprint(2), None).unwrap();
        assert!(!format!("{link:?}").contains(TOKEN));
        let bad = format!(
            "twofold+pair://pair?v=1&server=http://a.example&token={TOKEN}&fingerprint={}",
            fingerprint(2).compact()
        );
        assert!(!bad.parse::<PairingLink>().unwrap_err().to_string().contains(TOKEN));
    }

    proptest! {
        #[test]
        fn any_valid_link_round_trips(
            host in "[a-z][a-z0-9]{0,20}(\\.[a-z][a-z0-9]{0,10}){1,3}",
            port in proptest::option::of(1u16..),
            path in "(/[a-zA-Z0-9._~-]{1,10}){0,3}/?",
            token in "[A-Za-z0-9_-]{16,128}",
            seed in any::<u8>(),
            service in proptest::option::of(
                "[^\\p{Cc}]{0,100}".prop_filter("names refuse deceptive characters", |s| {
                    !crate::text::has_deceptive(s)
                }),
            ),
        ) {
            let server = match port {
                Some(port) => format!("https://{host}:{port}{path}"),
                None => format!("https://{host}{path}"),
            };
            let link = PairingLink::new(&server, &token, fingerprint(seed), service.as_deref())
                .unwrap();
            let text = link.to_string();
            prop_assert_eq!(text.parse::<PairingLink>().unwrap(), link.clone());
            // Writing is stable: the parsed link writes the same text.
            prop_assert_eq!(text.parse::<PairingLink>().unwrap().to_string(), text);
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,300}") {
            let _ = text.parse::<PairingLink>();
        }
    }
}
