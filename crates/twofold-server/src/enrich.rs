//! What the device shows about a sign-in beyond what the service sent: the approximate place of
//! its address (offline GeoIP) and its user agent in words ("Firefox on Windows 10").
//!
//! GeoIP reads `.mmdb` files of two layouts: MaxMind's GeoIP2/GeoLite2-City (nested maps with
//! localised `names`) and DB-IP's City Lite (flat `country_code`, `state1`, `city`; IPv4 and IPv6
//! in separate files). Files are tried in order; the first that knows the address wins. DB-IP Lite
//! data is CC BY 4.0: show "IP Geolocation by DB-IP" where locations appear.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::Reader;
use serde::Deserialize;
use twofold_protocol::api::Attribution;
use twofold_protocol::{Coordinates, Location};

/// A GeoIP file could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{path}: not a readable GeoIP database (.mmdb): {reason}")]
pub struct GeoIpError {
    /// The file.
    pub path: PathBuf,
    /// What the reader said.
    pub reason: String,
}

/// Longest user agent parsed: longer ones are real-world junk or attacks, not browsers.
const MAX_USER_AGENT_BYTES: usize = 512;

/// Locates addresses and describes user agents.
pub struct Enricher {
    /// Each file, with the credit its licence asks for.
    geoip: Vec<(Reader<Vec<u8>>, Option<&'static str>)>,
    user_agents: woothee::parser::Parser,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher").field("geoip_files", &self.geoip.len()).finish()
    }
}

impl Default for Enricher {
    /// No GeoIP database: public addresses are of unknown location.
    fn default() -> Self {
        Self { geoip: Vec::new(), user_agents: woothee::parser::Parser::new() }
    }
}

/// One record, in either layout: every field optional, unknown fields ignored.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    city: Option<Named<'a>>,
    #[serde(borrow, default)]
    subdivisions: Vec<Named<'a>>,
    #[serde(borrow, default)]
    country: Option<Country<'a>>,
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    #[serde(borrow, default)]
    state1: Option<&'a str>,
    /// MaxMind's coordinates.
    #[serde(default)]
    location: Option<Point>,
    /// DB-IP's flat coordinates.
    #[serde(default)]
    latitude: Option<Degrees>,
    #[serde(default)]
    longitude: Option<Degrees>,
}

/// MaxMind's `location` map.
#[derive(Deserialize)]
struct Point {
    #[serde(default)]
    latitude: Option<Degrees>,
    #[serde(default)]
    longitude: Option<Degrees>,
}

/// A coordinate in whatever number type the file stores it (DB-IP: 32-bit float; MaxMind:
/// double).
struct Degrees(f64);

impl<'de> Deserialize<'de> for Degrees {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Degrees;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number of degrees")
            }
            fn visit_f64<E>(self, value: f64) -> Result<Degrees, E> {
                Ok(Degrees(value))
            }
            #[expect(clippy::cast_precision_loss, reason = "degrees are small")]
            fn visit_u64<E>(self, value: u64) -> Result<Degrees, E> {
                Ok(Degrees(value as f64))
            }
            #[expect(clippy::cast_precision_loss, reason = "degrees are small")]
            fn visit_i64<E>(self, value: i64) -> Result<Degrees, E> {
                Ok(Degrees(value as f64))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Record<'_> {
    /// The coordinates, in either layout.
    fn coordinates(&self) -> Option<Coordinates> {
        let (lat, lon) = match &self.location {
            Some(Point { latitude: Some(lat), longitude: Some(lon) }) => (lat, lon),
            _ => (self.latitude.as_ref()?, self.longitude.as_ref()?),
        };
        Coordinates::from_degrees(lat.0, lon.0)
    }
}

/// The credit DB-IP Lite's licence (CC BY 4.0) asks for wherever its locations appear.
pub const DBIP_CREDIT: &str = "IP Geolocation by DB-IP";

/// The credit a GeoIP file needs: DB-IP's, recognised by its database type or, as the
/// ip-location-db packages name it only "city ipv4", by its file name.
fn credit_of(path: &Path, reader: &Reader<Vec<u8>>) -> Option<&'static str> {
    let named = |text: &str| text.to_ascii_lowercase().contains("dbip");
    let file = path.file_name().and_then(|n| n.to_str()).is_some_and(named);
    (file || named(&reader.metadata().database_type)).then_some(DBIP_CREDIT)
}

/// A place name: flat (DB-IP) or localised names (MaxMind).
#[derive(Deserialize)]
#[serde(untagged)]
enum Named<'a> {
    Flat(&'a str),
    Localised {
        #[serde(borrow, default)]
        names: BTreeMap<&'a str, &'a str>,
    },
}

impl<'a> Named<'a> {
    fn english(&self) -> Option<&'a str> {
        match self {
            Self::Flat(name) => Some(name),
            Self::Localised { names } => names.get("en").copied(),
        }
    }
}

/// MaxMind's country.
#[derive(Deserialize)]
struct Country<'a> {
    #[serde(borrow, default)]
    names: BTreeMap<&'a str, &'a str>,
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// Whether an address is private, loopback or link-local: the service's own network.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
                || v6.is_loopback()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
        }
    }
}

impl Enricher {
    /// Opens the GeoIP files, in the order they are tried.
    pub fn open(paths: &[impl AsRef<Path>]) -> Result<Self, GeoIpError> {
        let geoip = paths
            .iter()
            .map(|path| {
                let reader = Reader::open_readfile(path.as_ref()).map_err(|e| GeoIpError {
                    path: path.as_ref().to_owned(),
                    reason: e.to_string(),
                })?;
                let credit = credit_of(path.as_ref(), &reader);
                Ok((reader, credit))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { geoip, ..Self::default() })
    }

    /// Credits owed for the GeoIP data: "IP Geolocation by DB-IP" when a DB-IP file is open.
    pub fn attributions(&self) -> Vec<Attribution> {
        let dbip = Attribution {
            text: DBIP_CREDIT.into(),
            url: "https://db-ip.com".into(),
            license: "CC BY 4.0".into(),
        };
        let any = self.geoip.iter().any(|(_, credit)| credit.is_some());
        any.then_some(dbip).into_iter().collect()
    }

    /// The approximate place of `ip`.
    pub fn location(&self, ip: IpAddr) -> Location {
        if is_private(ip) {
            return Location::PrivateNetwork;
        }
        for (reader, credit) in &self.geoip {
            // An IPv6 address in an IPv4-only file is an error: that file does not know it.
            let Ok(found) = reader.lookup(ip) else { continue };
            let Ok(Some(record)) = found.decode::<Record<'_>>() else { continue };
            let country = record.country.as_ref();
            let place = Location::Place {
                city: owned(record.city.as_ref().and_then(Named::english)),
                region: owned(
                    record.subdivisions.first().and_then(Named::english).or(record.state1),
                ),
                country: owned(country.and_then(|c| c.names.get("en").copied())),
                country_code: owned(country.and_then(|c| c.iso_code).or(record.country_code)),
                coordinates: record.coordinates(),
                credit: credit.map(str::to_owned),
            };
            let Location::Place { city, region, country, country_code, coordinates, .. } = &place
            else {
                continue;
            };
            let named = [city, region, country, country_code].iter().any(|part| part.is_some());
            if named || coordinates.is_some() {
                return place;
            }
        }
        Location::Unknown
    }

    /// The user agent in words: "Firefox on Windows 10", or "" when it says nothing useful.
    pub fn describe(&self, user_agent: &str) -> String {
        let end = user_agent.floor_char_boundary(MAX_USER_AGENT_BYTES);
        let Some(parsed) = user_agent.get(..end).and_then(|ua| self.user_agents.parse(ua)) else {
            return String::new();
        };
        let known = |text: &str| !text.is_empty() && text != woothee::woothee::VALUE_UNKNOWN;
        let os = match parsed.os {
            "Mac OSX" => "macOS",
            "iPhone" | "iPad" | "iPod" => "iOS",
            os => os,
        };
        match (known(parsed.name), known(os)) {
            (true, true) => format!("{} on {os}", parsed.name),
            (true, false) => parsed.name.to_owned(),
            (false, true) => format!("a browser on {os}"),
            (false, false) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_loopback_addresses_read_private_network() {
        let enricher = Enricher::default();
        for ip in [
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "127.0.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(enricher.location(ip.parse().unwrap()), Location::PrivateNetwork, "{ip}");
        }
        for ip in ["203.0.113.1", "2001:db8::1", "8.8.8.8"] {
            assert_eq!(enricher.location(ip.parse().unwrap()), Location::Unknown, "{ip}");
        }
    }

    #[test]
    fn user_agents_read_as_browser_on_system() {
        let enricher = Enricher::default();
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox on Windows 10",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            ("", ""),
            ("curl/8.5.0", "HTTP Library"),
        ];
        for (ua, expected) in cases {
            assert_eq!(enricher.describe(ua), expected, "{ua}");
        }
        assert!(enricher.describe(&"é".repeat(10_000)).len() < 100);
    }
}
