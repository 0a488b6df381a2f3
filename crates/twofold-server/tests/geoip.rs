//! GeoIP over small databases in both layouts (MaxMind City and DB-IP City Lite), written here.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

mod support;

use std::net::Ipv4Addr;

use support::mmdb::{Value, ipv4_database};
use support::{Server, signin};
use twofold_protocol::{Coordinates, Location, Mode};
use twofold_server::enrich::{DBIP_CREDIT, Enricher};

fn maxmind_city() -> Vec<u8> {
    let names =
        |en: &'static str| Value::Map(vec![("en", Value::Str(en)), ("de", Value::Str("x"))]);
    ipv4_database(
        "GeoLite2-City",
        &[(
            Ipv4Addr::new(203, 0, 113, 0),
            24,
            Value::Map(vec![
                (
                    "city",
                    Value::Map(vec![("geoname_id", Value::U32(2996944)), ("names", names("Lyon"))]),
                ),
                (
                    "country",
                    Value::Map(vec![("iso_code", Value::Str("FR")), ("names", names("France"))]),
                ),
                (
                    "subdivisions",
                    Value::Array(vec![Value::Map(vec![("names", names("Auvergne-Rhône-Alpes"))])]),
                ),
                (
                    "location",
                    Value::Map(vec![("latitude", Value::U32(45)), ("longitude", Value::U32(5))]),
                ),
            ]),
        )],
    )
}

fn dbip_city_lite() -> Vec<u8> {
    ipv4_database(
        "DBIP-City-Lite",
        &[
            (
                Ipv4Addr::new(198, 51, 100, 0),
                24,
                Value::Map(vec![
                    ("city", Value::Str("Osaka")),
                    ("country_code", Value::Str("JP")),
                    ("latitude", Value::F32(34.69)),
                    ("longitude", Value::F32(135.5)),
                    ("postcode", Value::Str("")),
                    ("state1", Value::Str("Osaka")),
                    ("state2", Value::Str("")),
                    ("timezone", Value::Str("Asia/Tokyo")),
                ]),
            ),
            // A country-only record, as DB-IP has for some networks.
            (Ipv4Addr::new(192, 0, 2, 0), 24, Value::Map(vec![("country_code", Value::Str("NZ"))])),
        ],
    )
}

fn enricher(dir: &tempfile::TempDir) -> Enricher {
    let maxmind = dir.path().join("city.mmdb");
    let dbip = dir.path().join("dbip-city-ipv4.mmdb");
    std::fs::write(&maxmind, maxmind_city()).unwrap();
    std::fs::write(&dbip, dbip_city_lite()).unwrap();
    Enricher::open(&[maxmind, dbip]).unwrap()
}

#[test]
fn both_layouts_locate_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let enricher = enricher(&dir);
    assert_eq!(
        enricher.location("203.0.113.77".parse().unwrap()),
        Location::Place {
            city: Some("Lyon".into()),
            region: Some("Auvergne-Rhône-Alpes".into()),
            country: Some("France".into()),
            country_code: Some("FR".into()),
            coordinates: Coordinates::from_degrees(45.0, 5.0),
            credit: None,
        }
    );
    assert_eq!(
        enricher.location("198.51.100.1".parse().unwrap()),
        Location::Place {
            city: Some("Osaka".into()),
            region: Some("Osaka".into()),
            country: None,
            country_code: Some("JP".into()),
            // DB-IP's 32-bit floats, to the ten-thousandth.
            coordinates: Coordinates::from_degrees(34.69, 135.5),
            credit: Some(DBIP_CREDIT.into()),
        }
    );
    assert_eq!(
        enricher.location("192.0.2.1".parse().unwrap()),
        Location::Place {
            city: None,
            region: None,
            country: None,
            country_code: Some("NZ".into()),
            coordinates: None,
            credit: Some(DBIP_CREDIT.into()),
        }
    );
    assert_eq!(enricher.location("8.8.8.8".parse().unwrap()), Location::Unknown);
    // IPv6 is in other files; these IPv4 ones do not know it.
    assert_eq!(enricher.location("2001:db8::1".parse().unwrap()), Location::Unknown);
    assert_eq!(enricher.location("10.0.0.1".parse().unwrap()), Location::PrivateNetwork);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.mmdb");
    std::fs::write(&path, b"not a database").unwrap();
    let error = Enricher::open(&[&path]).unwrap_err();
    assert!(error.to_string().contains("junk.mmdb"), "{error}");
}

#[tokio::test]
async fn the_device_sees_where_and_from_what_a_sign_in_comes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(enricher(&dir)).await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let mut body = signin("alice", Mode::Push);
    body.ip = "203.0.113.9".parse().unwrap();
    service.create_signin(&body).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    assert!(
        matches!(&request.location, Location::Place { city: Some(city), .. } if city == "Lyon")
    );
    assert_eq!(request.device_description, "Firefox on Linux");
}

#[tokio::test]
async fn a_sign_in_from_a_new_country_needs_the_number() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(enricher(&dir)).await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let from = |ip: &str| {
        let mut body = signin("alice", Mode::Push);
        body.ip = ip.parse().unwrap();
        body
    };
    // The first country is simply the user's.
    let created = service.create_signin(&from("203.0.113.9")).await.unwrap();
    assert_eq!(created.number, None);
    let request = device.pending().await.unwrap().remove(0);
    device.decide(&request, twofold_protocol::Answer::Allow, None).await.unwrap();
    // Another country: push becomes number matching.
    let created = service.create_signin(&from("198.51.100.3")).await.unwrap();
    let number = created.number.expect("a new country needs the number");
    let request = device.pending().await.unwrap().remove(0);
    assert_eq!(request.mode, Mode::Number);
    device.decide(&request, twofold_protocol::Answer::Deny, None).await.unwrap();
    // Back home: a tap is enough again; unknown places change nothing.
    for ip in ["203.0.113.10", "8.8.8.8"] {
        let created = service.create_signin(&from(ip)).await.unwrap();
        assert_eq!(created.number, None, "{ip}");
        let request = device.pending().await.unwrap().remove(0);
        device.decide(&request, twofold_protocol::Answer::Allow, None).await.unwrap();
    }
    assert!((10..=99).contains(&number));
}

#[tokio::test]
async fn about_credits_db_ip_only_when_its_database_is_configured() {
    use twofold_protocol::api::About;
    let about = |server: &Server| {
        let url = format!("{}v1/about", server.url);
        async move { reqwest::get(url).await.unwrap().json::<About>().await.unwrap() }
    };
    let dir = tempfile::tempdir().unwrap();
    let with_dbip = Server::start_with(enricher(&dir)).await;
    let credited = about(&with_dbip).await;
    assert_eq!(credited.fingerprint, with_dbip.server_key.fingerprint());
    assert_eq!(credited.attributions.len(), 1);
    assert_eq!(credited.attributions[0].text, "IP Geolocation by DB-IP");
    assert_eq!(credited.attributions[0].url, "https://db-ip.com");
    assert_eq!(credited.attributions[0].license, "CC BY 4.0");

    let maxmind = dir.path().join("city.mmdb");
    let maxmind_only = Server::start_with(Enricher::open(&[maxmind]).unwrap()).await;
    assert!(about(&maxmind_only).await.attributions.is_empty());
    assert!(about(&Server::start().await).await.attributions.is_empty());
}
