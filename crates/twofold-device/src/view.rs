//! What the UI shows of a sign-in request, in the JSON shape the web UI reads.

use serde::{Deserialize, Serialize};
use twofold_protocol::text::neutralise;
use twofold_protocol::{Coordinates, Location, Mode, SigninRequest};
use uuid::Uuid;

/// The approximate place of a sign-in, for the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationView {
    /// "near Berlin, Berlin, Germany", "private network" or "unknown location".
    pub text: String,
    /// Latitude, when the request carries one.
    pub lat: Option<f64>,
    /// Longitude, when the request carries one.
    pub lon: Option<f64>,
}

/// A sign-in request as the UI shows it; built only from a request whose signature verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestView {
    /// The paired server it came from.
    pub server: Uuid,
    /// The request's identity.
    pub id: Uuid,
    /// The service being signed in to.
    pub service: String,
    /// The user, as the service names them.
    pub user: String,
    /// "push", "number" or "code".
    pub mode: Mode,
    /// Number mode: the signed numbers to pick from, in the server's order; empty otherwise.
    /// Defaulted: history files written before choices existed still read.
    #[serde(default)]
    pub choices: Vec<u32>,
    /// Where the sign-in comes from.
    pub location: LocationView,
    /// The sign-in's address.
    pub ip: String,
    /// "Firefox on Windows".
    pub device: String,
    /// What the service says the sign-in is for ("Sign in to webmail"), signed like the rest.
    pub context: Option<String>,
    /// When the request was made, Unix seconds.
    pub created_at: u64,
    /// When it stops accepting decisions, Unix seconds.
    pub expires_at: u64,
    /// Credit the location's source requires ("IP Geolocation by DB-IP"), when it does.
    pub attribution: Option<String>,
}

impl RequestView {
    /// The view of `request`, received from paired server `server`; every text made safe to
    /// show (a bidirectional or invisible character shows as U+FFFD).
    pub fn new(server: Uuid, request: &SigninRequest) -> Self {
        let (point, credit) = match &request.location {
            Location::Place { coordinates, credit, .. } => (*coordinates, credit.clone()),
            Location::Unknown | Location::PrivateNetwork => (None, None),
        };
        Self {
            server,
            id: request.id,
            service: neutralise(&request.service),
            user: neutralise(&request.user),
            mode: request.mode,
            choices: request.choices.clone(),
            location: LocationView {
                text: neutralise(&location_text(&request.location)),
                lat: point.map(Coordinates::lat),
                lon: point.map(Coordinates::lon),
            },
            ip: request.ip.to_string(),
            device: neutralise(&request.device_description),
            context: request.context.as_deref().map(neutralise),
            created_at: request.created_at,
            expires_at: request.expires_at,
            attribution: credit,
        }
    }
}

/// "near City, Country" (the country's name, from its code when the database gives only that;
/// the region only when the city is unknown), "private network" or "unknown location".
fn location_text(location: &Location) -> String {
    let known = |part: &Option<String>| {
        part.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned)
    };
    match location {
        Location::PrivateNetwork => "private network".into(),
        Location::Place { city, region, country, country_code, .. } => {
            let code = known(country_code);
            let country = known(country)
                .or_else(|| code.as_deref().and_then(crate::countries::name).map(str::to_owned))
                .or(code);
            let mut parts: Vec<String> =
                known(city).or_else(|| known(region)).into_iter().collect();
            // "Singapore, Singapore" says nothing more than "Singapore".
            parts.extend(country.filter(|c| !parts.contains(c)));
            if parts.is_empty() {
                "unknown location".into()
            } else {
                format!("near {}", parts.join(", "))
            }
        }
        Location::Unknown => "unknown location".into(),
    }
}

/// A push request numbered `n`, from a private network, for the crate's unit tests.
#[cfg(test)]
pub(crate) fn sample_request(n: u128) -> SigninRequest {
    SigninRequest {
        id: Uuid::from_u128(n),
        server: twofold_protocol::KeyPair::from_seed(&[1; 32]).public().fingerprint(),
        service: "Example".into(),
        user: "alice".into(),
        created_at: 10,
        expires_at: 130,
        ip: std::net::Ipv4Addr::new(203, 0, 113, 9).into(),
        location: Location::PrivateNetwork,
        user_agent: String::new(),
        device_description: "Firefox on Linux".into(),
        mode: Mode::Push,
        context: None,
        choices: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn place(city: Option<&str>, region: Option<&str>, country: Option<&str>) -> Location {
        Location::Place {
            city: city.map(Into::into),
            region: region.map(Into::into),
            country: country.map(Into::into),
            country_code: Some("DE".into()),
            coordinates: None,
            credit: None,
        }
    }

    #[test]
    fn locations_read_city_and_country_name() {
        let text = location_text(&place(Some("Berlin"), Some("Berlin"), Some("Germany")));
        assert_eq!(text, "near Berlin, Germany");
        assert_eq!(location_text(&place(None, Some(" "), Some("Germany"))), "near Germany");
        assert_eq!(location_text(&place(None, Some("Bavaria"), None)), "near Bavaria, Germany");
        // DB-IP gives the code only: the country's name comes from it.
        let lisbon = Location::Place {
            city: Some("Lisbon".into()),
            region: Some("Lisbon".into()),
            country: None,
            country_code: Some("PT".into()),
            coordinates: None,
            credit: None,
        };
        assert_eq!(location_text(&lisbon), "near Lisbon, Portugal");
        let singapore = Location::Place {
            city: Some("Singapore".into()),
            region: None,
            country: None,
            country_code: Some("SG".into()),
            coordinates: None,
            credit: None,
        };
        assert_eq!(location_text(&singapore), "near Singapore");
        assert_eq!(location_text(&Location::PrivateNetwork), "private network");
        assert_eq!(location_text(&Location::Unknown), "unknown location");
    }

    #[test]
    fn the_ui_shape_has_exactly_the_expected_fields() {
        let request = SigninRequest {
            id: Uuid::from_u128(7),
            server: twofold_protocol::KeyPair::from_seed(&[1; 32]).public().fingerprint(),
            service: "Example Mail".into(),
            user: "alice".into(),
            created_at: 1000,
            expires_at: 1120,
            ip: "203.0.113.9".parse().unwrap(),
            location: place(Some("Berlin"), Some("Berlin"), Some("Germany")),
            user_agent: "Mozilla/5.0".into(),
            device_description: "Firefox on Windows".into(),
            mode: Mode::Number,
            context: Some("Sign in to webmail".into()),
            choices: vec![31, 64, 17],
        };
        let json = serde_json::to_value(RequestView::new(Uuid::from_u128(1), &request)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "server": "00000000-0000-0000-0000-000000000001",
                "id": "00000000-0000-0000-0000-000000000007",
                "service": "Example Mail",
                "user": "alice",
                "mode": "number",
                "choices": [31, 64, 17],
                "location": {"text": "near Berlin, Germany", "lat": null, "lon": null},
                "ip": "203.0.113.9",
                "device": "Firefox on Windows",
                "context": "Sign in to webmail",
                "created_at": 1000,
                "expires_at": 1120,
                "attribution": null,
            })
        );
    }

    #[test]
    fn bidirectional_and_invisible_characters_show_as_replacement_marks() {
        let mut request = sample_request(1);
        request.service = "Bank\u{202E}moc.evil".into();
        request.user = "ali\u{200B}ce".into();
        request.device_description = "Firefox\u{2066} on Linux".into();
        request.context = Some("Pay\u{FEFF}ment".into());
        let view = RequestView::new(Uuid::from_u128(1), &request);
        assert_eq!(view.service, "Bank\u{FFFD}moc.evil");
        assert_eq!(view.user, "ali\u{FFFD}ce");
        assert_eq!(view.device, "Firefox\u{FFFD} on Linux");
        assert_eq!(view.context.as_deref(), Some("Pay\u{FFFD}ment"));
    }
}
