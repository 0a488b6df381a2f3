//! The router without a port: `tower::ServiceExt::oneshot` over an in-memory SQLite store.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;
use twofold_protocol::api::{ErrorBody, PairingCreated};
use twofold_protocol::{KeyPair, PairingLink};
use twofold_server::clock::{ManualClock, OsEntropy};
use twofold_server::enrich::Enricher;
use twofold_server::{AppState, Settings, SqliteStore, admin, app};

const NOW: u64 = 1_800_000_000;

struct Harness {
    router: axum::Router,
    clock: Arc<ManualClock>,
    store: SqliteStore,
    key: String,
    server_key: KeyPair,
}

async fn harness() -> Harness {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    let clock = Arc::new(ManualClock::new(NOW));
    let key = admin::add_service(&store, "Example", Some(3600), NOW, &OsEntropy).await.unwrap();
    let settings = Settings::new("https://auth.example.com/".parse().unwrap());
    let state = AppState::new(
        store.clone(),
        KeyPair::from_seed(&[8; 32]),
        settings,
        clock.clone(),
        Arc::new(OsEntropy),
        Enricher::default(),
    );
    Harness {
        router: app(state),
        clock,
        store,
        key: key.to_string(),
        server_key: KeyPair::from_seed(&[8; 32]),
    }
}

impl Harness {
    async fn send(&self, request: Request<Body>) -> (StatusCode, Vec<u8>, Option<String>) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        (status, body, content_type)
    }

    fn post(&self, uri: &str, body: &str) -> Request<Body> {
        Request::post(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.key))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    fn get(&self, uri: &str) -> Request<Body> {
        Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.key))
            .body(Body::empty())
            .unwrap()
    }

    /// Sends and expects a JSON error with this status and code.
    async fn refused(&self, request: Request<Body>, status: StatusCode, code: &str) -> String {
        let (got, body, content_type) = self.send(request).await;
        let text = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(got, status, "{text}");
        assert_eq!(content_type.as_deref(), Some("application/json"), "{text}");
        let error: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(error.error, code, "{text}");
        assert!(!error.message.is_empty());
        error.message
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let h = harness().await;
    h.refused(h.get("/nowhere"), StatusCode::NOT_FOUND, "no_such_route").await;
    h.refused(h.post("/v1/signins/abc/nothing", "{}"), StatusCode::NOT_FOUND, "no_such_route")
        .await;
    h.refused(h.get("/v1/signins"), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn relying_party_routes_need_a_valid_api_key() {
    let h = harness().await;
    let anonymous = Request::post("/v1/pairings")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"user":"alice"}"#))
        .unwrap();
    h.refused(anonymous, StatusCode::UNAUTHORIZED, "missing_api_key").await;
    let wrong = Request::get("/v1/users/alice/devices")
        .header(header::AUTHORIZATION, "Bearer tfk_guess")
        .body(Body::empty())
        .unwrap();
    h.refused(wrong, StatusCode::UNAUTHORIZED, "unknown_api_key").await;
    h.clock.advance(3600);
    h.refused(h.get("/v1/users/alice/devices"), StatusCode::UNAUTHORIZED, "expired_api_key").await;
}

#[tokio::test]
async fn the_api_key_is_stored_only_as_a_hash() {
    let h = harness().await;
    let key_hash: [u8; 32] = {
        use sha2::Digest as _;
        sha2::Sha256::digest(h.key.as_bytes()).into()
    };
    use twofold_server::Store as _;
    assert!(h.store.service_by_key(&key_hash).await.unwrap().is_some());
    assert!(h.key.starts_with("tfk_") && h.key.len() > 40);
}

#[tokio::test]
async fn bad_paths_and_queries_say_what_is_wrong() {
    let h = harness().await;
    h.refused(h.get("/v1/signins/not-a-uuid"), StatusCode::BAD_REQUEST, "bad_path").await;
    let id = uuid::Uuid::from_u128(7);
    h.refused(h.get(&format!("/v1/signins/{id}?wait=soon")), StatusCode::BAD_REQUEST, "bad_query")
        .await;
    h.refused(h.get(&format!("/v1/signins/{id}")), StatusCode::NOT_FOUND, "unknown_signin").await;
}

#[tokio::test]
async fn a_sign_in_for_a_user_without_devices_is_refused() {
    let h = harness().await;
    let body = r#"{"user":"alice","ip":"203.0.113.1","user_agent":"x","mode":"push"}"#;
    let message = h.refused(h.post("/v1/signins", body), StatusCode::CONFLICT, "no_devices").await;
    assert!(message.contains("pair"), "{message}");
}

#[tokio::test]
async fn a_pairing_gives_a_link_and_qr_codes_of_it() {
    let h = harness().await;
    let (status, body, _) = h.send(h.post("/v1/pairings", r#"{"user":"alice"}"#)).await;
    assert_eq!(status, StatusCode::CREATED);
    let created: PairingCreated = serde_json::from_slice(&body).unwrap();
    let link: PairingLink = created.link.parse().unwrap();
    assert_eq!(link.server.as_str(), "https://auth.example.com/");
    assert_eq!(link.fingerprint, h.server_key.public().fingerprint());
    assert_eq!(link.service.as_deref(), Some("Example"));
    assert_eq!(created.expires_at, NOW + 600);

    let png_path = created.qr_png.strip_prefix("https://auth.example.com").unwrap();
    let (status, png, content_type) = h.send(h.get(png_path)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("image/png"));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let svg_path = created.qr_svg.strip_prefix("https://auth.example.com").unwrap();
    let (status, svg, content_type) = h.send(h.get(svg_path)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("image/svg+xml"));
    assert!(String::from_utf8(svg).unwrap().contains("<svg"));

    // The PNG carries exactly the link.
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let (width, height) = (image.width() as usize, image.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        image.get_pixel(x as u32, y as u32).0[0]
    });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    assert_eq!(grids[0].decode().unwrap().1, created.link);

    h.refused(
        h.get("/v1/pairings/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/qr.png"),
        StatusCode::NOT_FOUND,
        "unknown_pairing",
    )
    .await;
    h.clock.advance(600);
    h.refused(h.get(png_path), StatusCode::GONE, "pairing_expired").await;
}

#[tokio::test]
async fn bodies_are_limited_and_checked() {
    let h = harness().await;
    let huge = format!(r#"{{"user":"{}"}}"#, "a".repeat(17 * 1024));
    h.refused(h.post("/v1/pairings", &huge), StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    h.refused(h.post("/v1/pairings", "{"), StatusCode::BAD_REQUEST, "malformed_json").await;
    h.refused(
        h.post("/v1/pairings", r#"{"name":"alice"}"#),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    let long_user = format!(r#"{{"user":"{}"}}"#, "a".repeat(257));
    h.refused(h.post("/v1/pairings", &long_user), StatusCode::BAD_REQUEST, "invalid_user").await;
    let plain = Request::post("/v1/pairings")
        .header(header::AUTHORIZATION, format!("Bearer {}", h.key))
        .body(Body::from(r#"{"user":"alice"}"#))
        .unwrap();
    h.refused(plain, StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_json").await;
}

#[tokio::test]
async fn a_revoked_service_is_refused_and_its_devices_unknown_to_others() {
    let h = harness().await;
    let other = admin::add_service(&h.store, "Other", None, NOW, &OsEntropy).await.unwrap();
    let foreign_device = uuid::Uuid::from_u128(99);
    let delete = Request::delete(format!("/v1/devices/{foreign_device}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", other.as_str()))
        .body(Body::empty())
        .unwrap();
    h.refused(delete, StatusCode::NOT_FOUND, "unknown_device").await;
    admin::revoke_service(&h.store, "Example", NOW).await.unwrap();
    h.refused(h.get("/v1/users/alice/devices"), StatusCode::UNAUTHORIZED, "revoked_api_key").await;
    assert!(matches!(
        admin::add_service(&h.store, "Other", None, NOW, &OsEntropy).await,
        Err(admin::AdminError::Exists(_))
    ));
}
