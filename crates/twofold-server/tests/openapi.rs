//! `openapi.json` stays true: every route of the router is described and every described route
//! exists, and the described bodies have exactly the fields the wire types serialize.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;
use twofold_protocol::api::{
    About, Attribution, AuditEntry, AuditEvent, AuditLog, CodeVerified, CreatePairing,
    CreateSignin, DecisionAccepted, DeviceInfo, DeviceList, ErrorBody, OfflineCodeVerified,
    PairingCompleted, PairingCreated, PendingRequests, SigninCreated, SigninState, Status,
    VerifyCode, VerifyOfflineCode, Withdrawn, WithdrawnReason,
};
use twofold_protocol::{
    Answer, Decision, KeyPair, Location, Mode, PairingCompletion, Signed, SigninRequest,
};
use twofold_server::clock::{ManualClock, OsEntropy};
use twofold_server::enrich::Enricher;
use twofold_server::{AppState, Settings, SqliteStore, app};
use uuid::Uuid;

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (METHOD, path) of every operation in the file.
fn documented() -> BTreeSet<(String, String)> {
    let spec = spec();
    let mut operations = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

/// (METHOD, path) of every `.route(...)` in the router's source.
fn routed() -> BTreeSet<(String, String)> {
    let source = include_str!("../src/app.rs");
    let mut routes = BTreeSet::new();
    for line in source.lines().map(str::trim).filter(|l| l.starts_with(".route(\"")) {
        let rest = line.trim_start_matches(".route(\"");
        let (path, rest) = rest.split_once('"').unwrap();
        let method = rest.trim_start_matches([',', ' ']).split('(').next().unwrap();
        routes.insert((method.to_uppercase(), path.to_owned()));
    }
    routes
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let routed = routed();
    assert!(routed.len() >= 14, "parsed too few routes: {routed:?}");
    assert_eq!(routed, documented());
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    let state = AppState::new(
        store,
        KeyPair::from_seed(&[1; 32]),
        Settings::new("https://a.example/".parse().unwrap()),
        Arc::new(ManualClock::new(1_800_000_000)),
        Arc::new(OsEntropy),
        Enricher::default(),
    );
    let router = app(state);
    for (method, path) in documented() {
        let concrete = path
            .replace("{id}", &Uuid::from_u128(1).to_string())
            .replace("{token}", &"A".repeat(43))
            .replace("{user}", "alice");
        let request = Request::builder()
            .method(method.as_str())
            .uri(&concrete)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        // The one route open to anyone answers; every other refuses the empty credentials.
        if path == "/v1/about" {
            assert!(status.is_success(), "{method} {path}: {status}");
            serde_json::from_slice::<About>(&body).unwrap();
            continue;
        }
        let error: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert!(
            error.error != "no_such_route" && error.error != "method_not_allowed",
            "{method} {path}: {status} {error:?}"
        );
        assert!(status.is_client_error(), "{method} {path}: {status}");
    }
}

fn request() -> SigninRequest {
    SigninRequest {
        id: Uuid::from_u128(1),
        server: KeyPair::from_seed(&[1; 32]).public().fingerprint(),
        service: "s".into(),
        user: "u".into(),
        created_at: 1,
        expires_at: 2,
        ip: "203.0.113.1".parse().unwrap(),
        location: Location::Place {
            city: None,
            region: None,
            country: None,
            country_code: None,
            coordinates: None,
            credit: None,
        },
        user_agent: "ua".into(),
        device_description: "d".into(),
        // Number mode: the one mode whose requests carry every field.
        mode: Mode::Number,
        context: None,
        choices: vec![34, 12, 56],
    }
}

/// Each schema with a value of its wire type.
fn samples() -> Vec<(&'static str, Value)> {
    let key = KeyPair::from_seed(&[2; 32]);
    let json = |v: &dyn erased::Json| v.value();
    let decision = Decision {
        request_id: Uuid::from_u128(1),
        request_digest: request().digest(),
        answer: Answer::Allow,
        number: Some(12),
        time: 3,
        device: key.public(),
    };
    let completion = PairingCompletion {
        token: "t".into(),
        server: key.public().fingerprint(),
        device: key.public(),
        name: "n".into(),
    };
    let info = DeviceInfo {
        id: Uuid::from_u128(2),
        name: "n".into(),
        fingerprint: key.public().fingerprint(),
        paired_at: 1,
    };
    let attribution = Attribution {
        text: "IP Geolocation by DB-IP".into(),
        url: "https://db-ip.com".into(),
        license: "CC BY 4.0".into(),
    };
    let entry = AuditEntry {
        seq: 1,
        at: 2,
        user: "u".into(),
        event: AuditEvent::SigninAllowed,
        signin_id: None,
        device_id: None,
        ip: None,
    };
    vec![
        ("ErrorBody", json(&ErrorBody { error: "e".into(), message: "m".into() })),
        ("CreatePairing", json(&CreatePairing { user: "u".into() })),
        (
            "PairingCreated",
            json(&PairingCreated {
                link: "l".into(),
                expires_at: 1,
                qr_png: "p".into(),
                qr_svg: "s".into(),
            }),
        ),
        ("PairingCompletion", json(&completion)),
        ("SignedPairingCompletion", json(&Signed::sign(completion.clone(), &key))),
        (
            "PairingCompleted",
            json(&PairingCompleted {
                device_id: Uuid::from_u128(3),
                user: "u".into(),
                service: "s".into(),
                server_key: key.public(),
                offline_seed: twofold_protocol::api::SecretText::new("AAAA".into()),
            }),
        ),
        ("DeviceInfo", json(&info)),
        ("DeviceList", json(&DeviceList { devices: vec![info.clone()] })),
        (
            "CreateSignin",
            json(&CreateSignin {
                user: "u".into(),
                ip: "203.0.113.1".parse().unwrap(),
                user_agent: "ua".into(),
                mode: Mode::Number,
                context: Some("c".into()),
            }),
        ),
        (
            "SigninCreated",
            json(&SigninCreated {
                id: Uuid::from_u128(1),
                status: Status::Pending,
                expires_at: 1,
                number: None,
            }),
        ),
        (
            "SigninState",
            json(&SigninState {
                id: Uuid::from_u128(1),
                status: Status::Allowed,
                expires_at: 1,
                decided_at: Some(1),
                verified: false,
            }),
        ),
        ("VerifyCode", json(&VerifyCode { code: "123456".into() })),
        ("CodeVerified", json(&CodeVerified { verified: true, attempts_left: 4 })),
        ("VerifyOfflineCode", json(&VerifyOfflineCode { code: "123456".into() })),
        ("OfflineCodeVerified", json(&OfflineCodeVerified { verified: false, device_id: None })),
        ("SigninRequest", json(&request())),
        ("SignedSigninRequest", json(&Signed::sign(request(), &key))),
        ("Decision", json(&decision)),
        ("SignedDecision", json(&Signed::sign(decision.clone(), &key))),
        ("DecisionAccepted", json(&DecisionAccepted { status: Status::Denied, code: None })),
        (
            "PendingRequests",
            json(&PendingRequests { requests: vec![Signed::sign(request(), &key)] }),
        ),
        (
            "Withdrawn",
            json(&Withdrawn { id: Uuid::from_u128(1), reason: WithdrawnReason::DecidedElsewhere }),
        ),
        ("AuditEntry", json(&entry)),
        ("AuditLog", json(&AuditLog { entries: vec![entry.clone()] })),
        ("Attribution", json(&attribution)),
        (
            "About",
            json(&About {
                fingerprint: key.public().fingerprint(),
                attributions: vec![attribution.clone()],
            }),
        ),
    ]
}

/// Serialising without naming each type's serializer.
mod erased {
    pub trait Json {
        fn value(&self) -> serde_json::Value;
    }

    impl<T: serde::Serialize> Json for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

fn names(value: &Value) -> BTreeSet<String> {
    value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn described_bodies_have_exactly_the_fields_of_the_wire_types() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let samples = samples();
    for (name, sample) in &samples {
        let schema = &schemas[name];
        assert!(schema.is_object(), "{name} is not described");
        assert_eq!(names(&schema["properties"]), names(sample), "{name}: properties");
        let required: BTreeSet<String> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert!(required.is_subset(&names(sample)), "{name}: required");
    }
    // Enumerations list exactly the wire names.
    let listed = |schema: &Value| -> BTreeSet<String> {
        schema["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    let events: BTreeSet<String> = AuditEvent::ALL.iter().map(|e| e.as_str().to_owned()).collect();
    assert_eq!(listed(&schemas["AuditEntry"]["properties"]["event"]), events);
    let statuses = [
        Status::Pending,
        Status::Allowed,
        Status::Denied,
        Status::Reported,
        Status::Expired,
        Status::Locked,
    ];
    assert_eq!(
        listed(&schemas["Status"]),
        statuses.iter().map(|s| s.as_str().to_owned()).collect()
    );
    // And every described schema has a sample (or is an enumeration or union checked above).
    let sampled: BTreeSet<&str> = samples.iter().map(|(n, _)| *n).collect();
    for name in schemas.as_object().unwrap().keys() {
        let enumerated = ["Mode", "Status", "Location"].contains(&name.as_str());
        assert!(enumerated || sampled.contains(name.as_str()), "{name} has no sample");
    }
}
