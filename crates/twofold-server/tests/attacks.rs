//! What an attacker might try, each refused with a 4xx that says why.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

mod support;

use std::sync::Arc;

use support::{Server, refusal, signin};
use twofold_protocol::api::Status;
use twofold_protocol::client::{DeviceClient, ServiceClient};
use twofold_protocol::{Answer, AuthPurpose, KeyPair, Mode, PairingLink, Signed};
use twofold_server::clock::{OsEntropy, random_seed};

fn fresh_key() -> KeyPair {
    KeyPair::from_seed(&random_seed(&OsEntropy).unwrap())
}

/// A device client that shares the server's key and URL but has a clock `offset` seconds off.
fn skewed(server: &Server, device: &DeviceClient, key: KeyPair, offset: i64) -> DeviceClient {
    let clock = server.clock.clone();
    DeviceClient::new(&server.url, key, device.server_key()).unwrap().with_clock(Arc::new(
        move || {
            use twofold_server::clock::Clock as _;
            clock.now().saturating_add_signed(offset)
        },
    ))
}

async fn raw_get(url: &str, authorization: &str) -> reqwest::Response {
    reqwest::Client::new().get(url).header("authorization", authorization).send().await.unwrap()
}

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: twofold_protocol::api::ErrorBody = response.json().await.unwrap();
    assert!(!body.message.is_empty());
    (status, body.error)
}

#[tokio::test]
async fn a_decision_signed_by_another_key_is_refused() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    let genuine = device.decision(&request, Answer::Allow, None);
    let forged = Signed {
        signature: Signed::sign(genuine.message.clone(), &fresh_key()).signature,
        message: genuine.message,
    };
    let (status, error) = refusal(device.send_decision(&forged).await.unwrap_err());
    assert_eq!((status, error.as_str()), (401, "bad_signature"));
    assert_eq!(service.signin(created.id, None).await.unwrap().status, Status::Pending);
}

#[tokio::test]
async fn a_decision_without_signature_or_from_an_unknown_key_is_refused() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    let decision = device.decision(&request, Answer::Allow, None);
    let unsigned = serde_json::json!({ "message": decision.message });
    let response = reqwest::Client::new()
        .post(format!("{}v1/signins/{}/decision", server.url, created.id))
        .json(&unsigned)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, (422, "invalid_body".into()));

    let stranger = skewed(&server, &device, fresh_key(), 0);
    let (status, error) =
        refusal(stranger.decide(&request, Answer::Allow, None).await.unwrap_err());
    assert_eq!((status, error.as_str()), (401, "unknown_device"));
}

#[tokio::test]
async fn a_replayed_or_second_decision_is_refused() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    let deny = device.decision(&request, Answer::Deny, None);
    device.send_decision(&deny).await.unwrap();
    let (status, error) = refusal(device.send_decision(&deny).await.unwrap_err());
    assert_eq!((status, error.as_str()), (409, "already_decided"));
    let (status, error) = refusal(device.decide(&request, Answer::Allow, None).await.unwrap_err());
    assert_eq!((status, error.as_str()), (409, "already_decided"));
}

#[tokio::test]
async fn a_decision_over_an_altered_request_or_for_another_id_is_refused() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let mut request = device.pending().await.unwrap().remove(0);
    request.ip = "198.51.100.1".parse().unwrap();
    let (status, error) = refusal(device.decide(&request, Answer::Allow, None).await.unwrap_err());
    assert_eq!((status, error.as_str()), (400, "digest_mismatch"));

    let genuine = device.pending().await.unwrap().remove(0);
    let decision = device.decision(&genuine, Answer::Allow, None);
    let response = reqwest::Client::new()
        .post(format!("{}v1/signins/{}/decision", server.url, uuid::Uuid::from_u128(5)))
        .json(&decision)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, (400, "id_mismatch".into()));
    assert_eq!(service.signin(created.id, None).await.unwrap().status, Status::Pending);
}

#[tokio::test]
async fn a_stale_decision_is_refused() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let key = fresh_key();
    let seed = key.seed();
    let link: PairingLink = service.create_pairing("alice").await.unwrap().link.parse().unwrap();
    let (device, _) = DeviceClient::pair(&link, "Laptop", key).await.unwrap();
    service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let late = skewed(&server, &device, KeyPair::from_seed(&seed), 90);
    let request = late.pending().await.map(|mut r| r.remove(0));
    // Its clock is too far off to even poll...
    let (status, error) = refusal(request.unwrap_err());
    assert_eq!((status, error.as_str()), (401, "stale_device_auth"));
    // ...and its decisions are stale too.
    let request =
        skewed(&server, &device, KeyPair::from_seed(&seed), 0).pending().await.unwrap().remove(0);
    let (status, error) = refusal(late.decide(&request, Answer::Allow, None).await.unwrap_err());
    assert_eq!((status, error.as_str()), (400, "stale_decision"));
}

#[tokio::test]
async fn another_users_device_cannot_decide() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let other_service = server.service("Other").await;
    let alices = server.device(&service, "alice", "Laptop").await;
    let bobs = server.device(&service, "bob", "Bob's").await;
    // Same user name at another service: still another user.
    let other_alices = server.device(&other_service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let request = alices.pending().await.unwrap().remove(0);
    for intruder in [&bobs, &other_alices] {
        let (status, error) =
            refusal(intruder.decide(&request, Answer::Allow, None).await.unwrap_err());
        assert_eq!((status, error.as_str()), (403, "not_your_signin"));
        assert!(intruder.pending().await.unwrap().is_empty());
    }
    assert_eq!(service.signin(created.id, None).await.unwrap().status, Status::Pending);
    // Nor can the other service read the sign-in.
    let (status, error) = refusal(other_service.signin(created.id, None).await.unwrap_err());
    assert_eq!((status, error.as_str()), (404, "unknown_signin"));
}

#[tokio::test]
async fn a_wrong_number_refuses_the_sign_in() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Number)).await.unwrap();
    let number = created.number.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    let wrong = if number == 10 { 11 } else { number - 1 };
    let (status, error) =
        refusal(device.decide(&request, Answer::Allow, Some(wrong)).await.unwrap_err());
    assert_eq!((status, error.as_str()), (403, "wrong_number"));
    assert_eq!(service.signin(created.id, None).await.unwrap().status, Status::Denied);
    // No second guess.
    let (status, _) =
        refusal(device.decide(&request, Answer::Allow, Some(number)).await.unwrap_err());
    assert_eq!(status, 409);
    // Allow without any number is as wrong.
    service.create_signin(&signin("alice", Mode::Number)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    let (status, _) = refusal(device.decide(&request, Answer::Allow, None).await.unwrap_err());
    assert_eq!(status, 403);
}

#[tokio::test]
async fn picking_a_decoy_choice_refuses_the_sign_in() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Number)).await.unwrap();
    let number = created.number.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    let decoy = *request.choices.iter().find(|&&c| c != number).expect("a decoy among the choices");
    let (status, error) =
        refusal(device.decide(&request, Answer::Allow, Some(decoy)).await.unwrap_err());
    assert_eq!((status, error.as_str()), (403, "wrong_number"));
    assert_eq!(service.signin(created.id, None).await.unwrap().status, Status::Denied);
}

#[tokio::test]
async fn a_replayed_stale_or_misdirected_stream_authentication_is_refused() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let stream_url = format!("{}v1/device/stream", server.url);
    let header = device.authorization(AuthPurpose::Stream).unwrap();
    let first = raw_get(&stream_url, &header).await;
    assert_eq!(first.status(), 200);
    drop(first);
    assert_eq!(
        error_code(raw_get(&stream_url, &header).await).await,
        (401, "replayed_device_auth".into())
    );

    let poll = device.authorization(AuthPurpose::Poll).unwrap();
    assert_eq!(error_code(raw_get(&stream_url, &poll).await).await, (401, "wrong_purpose".into()));

    let stale = device.authorization(AuthPurpose::Stream).unwrap();
    server.clock.advance(61);
    assert_eq!(
        error_code(raw_get(&stream_url, &stale).await).await,
        (401, "stale_device_auth".into())
    );

    for (header, code) in [
        ("", "bad_device_auth"),
        ("Bearer abc", "bad_device_auth"),
        ("Twofold !!!", "bad_device_auth"),
        ("Twofold eyJ9", "bad_device_auth"),
    ] {
        assert_eq!(
            error_code(raw_get(&stream_url, header).await).await,
            (401, code.into()),
            "{header}"
        );
    }
    let response = reqwest::Client::new().get(&stream_url).send().await.unwrap();
    assert_eq!(error_code(response).await, (401, "missing_device_auth".into()));
}

#[tokio::test]
async fn a_stream_authentication_signed_by_another_key_is_refused() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let header = device.authorization(AuthPurpose::Stream).unwrap();
    let mut signed = twofold_protocol::api::parse_device_auth(&header).unwrap();
    signed.signature = Signed::sign(signed.message.clone(), &fresh_key()).signature;
    let forged = twofold_protocol::api::device_auth_header(&signed);
    let url = format!("{}v1/device/stream", server.url);
    assert_eq!(error_code(raw_get(&url, &forged).await).await, (401, "bad_signature".into()));
}

#[tokio::test]
async fn a_pairing_token_works_once_and_only_before_it_expires() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let link: PairingLink = service.create_pairing("alice").await.unwrap().link.parse().unwrap();
    DeviceClient::pair(&link, "Laptop", fresh_key()).await.unwrap();
    let (status, error) =
        refusal(DeviceClient::pair(&link, "Evil", fresh_key()).await.unwrap_err());
    assert_eq!((status, error.as_str()), (410, "pairing_used"));
    assert_eq!(service.devices("alice").await.unwrap().devices.len(), 1);

    let created = service.create_pairing("alice").await.unwrap();
    let link: PairingLink = created.link.parse().unwrap();
    server.clock.advance(601);
    let (status, error) =
        refusal(DeviceClient::pair(&link, "Late", fresh_key()).await.unwrap_err());
    assert_eq!((status, error.as_str()), (410, "pairing_expired"));
    let response = reqwest::get(&created.qr_png).await.unwrap();
    assert_eq!(error_code(response).await, (410, "pairing_expired".into()));

    let mut unknown = link.clone();
    unknown.token = "A".repeat(43);
    let (status, error) =
        refusal(DeviceClient::pair(&unknown, "X", fresh_key()).await.unwrap_err());
    assert_eq!((status, error.as_str()), (404, "unknown_pairing"));
}

#[tokio::test]
async fn a_pairing_for_another_server_or_forged_or_with_a_bad_name_is_refused() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let link: PairingLink = service.create_pairing("alice").await.unwrap().link.parse().unwrap();

    let mut wrong_server = link.clone();
    wrong_server.fingerprint = fresh_key().public().fingerprint();
    let (status, error) =
        refusal(DeviceClient::pair(&wrong_server, "X", fresh_key()).await.unwrap_err());
    assert_eq!((status, error.as_str()), (400, "wrong_server"));

    let key = fresh_key();
    let completion = twofold_protocol::PairingCompletion {
        token: link.token.clone(),
        server: link.fingerprint,
        device: key.public(),
        name: "Forged".into(),
    };
    let forged = Signed {
        signature: Signed::sign(completion.clone(), &fresh_key()).signature,
        message: completion.clone(),
    };
    let url = format!("{}v1/pairings/complete", server.url);
    let response = reqwest::Client::new().post(&url).json(&forged).send().await.unwrap();
    assert_eq!(error_code(response).await, (401, "bad_signature".into()));

    for name in ["", "   ", "a\u{7}b", &"x".repeat(65)] {
        let bad = Signed::sign(
            twofold_protocol::PairingCompletion { name: name.into(), ..completion.clone() },
            &key,
        );
        let response = reqwest::Client::new().post(&url).json(&bad).send().await.unwrap();
        assert_eq!(error_code(response).await, (400, "invalid_device_name".into()), "{name:?}");
    }
    // None of that used the token up.
    DeviceClient::pair(&link, "Laptop", key).await.unwrap();
}

#[tokio::test]
async fn unknown_and_revoked_api_keys_are_refused() {
    let server = Server::start().await;
    let stranger = ServiceClient::new(&server.url, "tfk_not-a-key").unwrap();
    let (status, error) = refusal(stranger.create_pairing("alice").await.unwrap_err());
    assert_eq!((status, error.as_str()), (401, "unknown_api_key"));
    let service = server.service("Example").await;
    service.create_pairing("alice").await.unwrap();
    server.store.revoke_service("Example", server.clock_now()).await;
    let (status, error) = refusal(service.create_pairing("alice").await.unwrap_err());
    assert_eq!((status, error.as_str()), (401, "revoked_api_key"));
}

#[tokio::test]
async fn a_device_just_used_is_refused_as_soon_as_it_is_revoked() {
    // The SQLite store remembers a device once used (its key, its user's list): the revocation
    // must reach what is remembered before it is answered.
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    device.decide(&request, Answer::Allow, None).await.unwrap();
    service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);

    let id = service.devices("alice").await.unwrap().devices[0].id;
    service.revoke_device(id).await.unwrap();
    let (status, error) = refusal(device.decide(&request, Answer::Allow, None).await.unwrap_err());
    assert_eq!((status, error.as_str()), (403, "device_revoked"));
    let (status, error) =
        refusal(service.create_signin(&signin("alice", Mode::Push)).await.unwrap_err());
    assert_eq!((status, error.as_str()), (409, "no_devices"));
    // A device paired now is known at once too (the request above still waits for an answer).
    server.device(&service, "alice", "Desktop").await;
    let (status, error) =
        refusal(service.create_signin(&signin("alice", Mode::Push)).await.unwrap_err());
    assert_eq!((status, error.as_str()), (409, "signin_pending"));
}

#[tokio::test]
async fn oversized_and_malformed_bodies_get_4xx_json() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    server.device(&service, "alice", "Laptop").await;
    let url = format!("{}v1/signins", server.url);
    // A second key for raw requests: the client keeps its own private.
    let key = server.store.add_service("Raw", server.clock_now()).await;
    let post = |body: Vec<u8>, content_type: &'static str| {
        reqwest::Client::new()
            .post(&url)
            .bearer_auth(key.as_str())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let huge = format!(r#"{{"user":"{}"}}"#, "a".repeat(64 * 1024)).into_bytes();
    assert_eq!(
        error_code(post(huge, "application/json").await.unwrap()).await,
        (413, "body_too_large".into())
    );
    assert_eq!(
        error_code(post(b"{".to_vec(), "application/json").await.unwrap()).await,
        (400, "malformed_json".into())
    );
    assert_eq!(
        error_code(post(b"{}".to_vec(), "text/plain").await.unwrap()).await,
        (415, "not_json".into())
    );
    for body in [
        r#"{"user":"alice"}"#,
        r#"{"user":"alice","ip":"nowhere","user_agent":"x","mode":"push"}"#,
        r#"{"user":"alice","ip":"1.2.3.4","user_agent":"x","mode":"psh"}"#,
        r#"{"user":"alice","ip":"1.2.3.4","user_agent":"x","mode":"push","extra":1}"#,
        r#"[1,2,3]"#,
    ] {
        let response = post(body.as_bytes().to_vec(), "application/json").await.unwrap();
        assert_eq!(error_code(response).await, (422, "invalid_body".into()), "{body}");
    }
    for (body, code) in [
        (r#"{"user":"","ip":"1.2.3.4","user_agent":"x","mode":"push"}"#, "invalid_user"),
        (r#"{"user":"a\nb","ip":"1.2.3.4","user_agent":"x","mode":"push"}"#, "invalid_user"),
        // Names that look like others: a bidirectional override, a zero-width space.
        (
            r#"{"user":"moc.\u202eexample","ip":"1.2.3.4","user_agent":"x","mode":"push"}"#,
            "invalid_user",
        ),
        (r#"{"user":"ali\u200bce","ip":"1.2.3.4","user_agent":"x","mode":"push"}"#, "invalid_user"),
        (
            r#"{"user":"alice","ip":"1.2.3.4","user_agent":"x","mode":"push","context":"Pay \u2067100"}"#,
            "invalid_context",
        ),
    ] {
        let response = post(body.as_bytes().to_vec(), "application/json").await.unwrap();
        assert_eq!(error_code(response).await, (400, code.into()), "{body}");
    }
}

#[tokio::test]
async fn only_an_unpair_authentication_unpairs_and_then_the_device_is_refused() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let url = format!("{}v1/device", server.url);
    let delete = |header: String| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .delete(&url)
                .header("authorization", header)
                .send()
                .await
                .unwrap()
        }
    };
    let stream = device.authorization(AuthPurpose::Stream).unwrap();
    assert_eq!(error_code(delete(stream).await).await, (401, "wrong_purpose".into()));
    assert_eq!(service.devices("alice").await.unwrap().devices.len(), 1);

    device.unpair().await.unwrap();
    assert!(service.devices("alice").await.unwrap().devices.is_empty());
    let (status, code) = refusal(device.events().await.err().unwrap());
    assert_eq!((status, code.as_str()), (403, "device_revoked"));
    let (status, code) = refusal(device.unpair().await.unwrap_err());
    assert_eq!((status, code.as_str()), (403, "device_revoked"));
}

#[tokio::test]
async fn a_device_cannot_hold_unlimited_streams() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let mut held = Vec::new();
    for _ in 0..twofold_server::policy::MAX_STREAMS_PER_DEVICE {
        held.push(Box::pin(device.events().await.unwrap()));
    }
    let (status, error) = refusal(device.events().await.err().unwrap());
    assert_eq!((status, error.as_str()), (429, "too_many_streams"));
    // Another device of the same user is not held up.
    let other = server.device(&service, "alice", "Desktop").await;
    let _held = other.events().await.unwrap();
}

#[tokio::test]
async fn a_device_authenticating_in_a_loop_is_rate_limited() {
    use twofold_server::policy::DEVICE_AUTHS_PER_MINUTE;
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let other = server.device(&service, "alice", "Desktop").await;
    // Each poll is an authentication and a nonce row: a minute's allowance, then refusals.
    server.clock.advance(60 - server.clock_now() % 60);
    for _ in 0..DEVICE_AUTHS_PER_MINUTE {
        device.pending().await.unwrap();
    }
    let (status, error) = refusal(device.pending().await.unwrap_err());
    assert_eq!((status, error.as_str()), (429, "rate_limited"));
    let nonces = server.store.bytes("SELECT nonce FROM device_nonces").await.len();
    assert_eq!(nonces, DEVICE_AUTHS_PER_MINUTE as usize, "a refused authentication wrote a nonce");
    // Others' allowance is their own, and the next minute brings a new one.
    other.pending().await.unwrap();
    server.clock.advance(60);
    device.pending().await.unwrap();
}

/// A bare connection to `server`, for what an HTTP client would not send.
async fn connect(server: &Server) -> tokio::net::TcpStream {
    let addr = server.url.trim_start_matches("http://").trim_end_matches('/');
    tokio::net::TcpStream::connect(addr).await.unwrap()
}

/// What the server sends on `stream` until it closes the connection (within 10 s).
async fn until_closed(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut received = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buf = [0; 4096];
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            received.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    let received = String::from_utf8_lossy(&received).into_owned();
    assert!(read.is_ok(), "the server still holds the connection; it sent {received:?}");
    received
}

/// What the server has sent on `stream` once `wanted` is among it (within 10 s).
async fn until_sent(stream: &mut tokio::net::TcpStream, wanted: &str) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut received = Vec::new();
    let mut buf = [0; 4096];
    while !String::from_utf8_lossy(&received).contains(wanted) {
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf));
        let n = read.await.unwrap().unwrap();
        assert!(n > 0, "closed before {wanted:?}: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_device_stream_is_the_last_request_on_its_connection_and_closes_with_the_stream() {
    use tokio::io::AsyncWriteExt as _;
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let mut stream = connect(&server).await;
    let auth = device.authorization(AuthPurpose::Stream).unwrap();
    let head =
        format!("GET /v1/device/stream HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = until_sent(&mut stream, "\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let answer = answer.to_ascii_lowercase();
    assert!(answer.contains("content-type: text/event-stream\r\n"), "{answer}");
    assert!(answer.contains("transfer-encoding: chunked\r\n"), "{answer}");
    // The connection carries nothing after the stream: no keep-alive for another request.
    assert!(answer.contains("connection: close\r\n"), "{answer}");

    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let event = until_sent(&mut stream, &created.id.to_string()).await;
    assert!(event.contains("event: request\n"), "{event}");

    let id = service.devices("alice").await.unwrap().devices[0].id;
    service.revoke_device(id).await.unwrap();
    // The chunked body's end, then the server closes the connection.
    let rest = until_closed(&mut stream).await;
    assert!(rest.ends_with("0\r\n\r\n"), "{rest:?}");
    // Its slot was given back: the device's other streams are refused only for the revocation.
    let (status, error) = refusal(device.events().await.err().unwrap());
    assert_eq!((status, error.as_str()), (403, "device_revoked"));
}

#[tokio::test]
async fn a_stream_request_cannot_carry_other_requests_or_an_oversized_head() {
    use tokio::io::AsyncWriteExt as _;
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let stream_head = |extra: &str| {
        let auth = device.authorization(AuthPurpose::Stream).unwrap();
        format!("GET /v1/device/stream HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\n{extra}\r\n")
    };
    // A request pipelined behind the stream's is never executed (the answer to this one would
    // carry the server's fingerprint).
    let smuggled = "GET /v1/about HTTP/1.1\r\nHost: t\r\n\r\n";
    let cases = [
        (format!("{}{smuggled}", stream_head("")), "400 Bad Request", "malformed_request"),
        (stream_head(&format!("X-Pad: {}\r\n", "a".repeat(20_000))), "431 ", "head_too_large"),
        (stream_head(&"X-Pad: a\r\n".repeat(80)), "431 ", "too_many_headers"),
        (stream_head("Content-Length: 5\r\n") + "hello", "400 Bad Request", "malformed_request"),
        (stream_head("Transfer-Encoding: chunked\r\n"), "400 Bad Request", "malformed_request"),
        (
            "GET /v1/device/stream HTTP/1.1\r\nNo colon\r\n\r\n".into(),
            "400 Bad Request",
            "malformed_request",
        ),
        (
            "GET /v1/device/stream?\u{1} HTTP/1.1\r\n\r\n".into(),
            "400 Bad Request",
            "malformed_request",
        ),
    ];
    for (request, status, code) in cases {
        let mut stream = connect(&server).await;
        stream.write_all(request.as_bytes()).await.unwrap();
        let answer = until_closed(&mut stream).await;
        assert!(answer.starts_with(&format!("HTTP/1.1 {status}")), "{code}: {answer}");
        assert!(answer.contains(&format!("\"error\":\"{code}\"")), "{answer}");
        assert!(!answer.contains("fingerprint"), "the pipelined request ran: {answer}");
        assert_eq!(answer.matches("HTTP/1.1").count(), 1, "{answer}");
    }
    // Bytes sent after the stream began end it without being read as a request.
    let mut stream = connect(&server).await;
    stream.write_all(stream_head("").as_bytes()).await.unwrap();
    until_sent(&mut stream, "\r\n\r\n").await;
    stream.write_all(smuggled.as_bytes()).await.unwrap();
    let rest = until_closed(&mut stream).await;
    assert!(!rest.contains("HTTP/1.1"), "{rest}");
    // None of it used up the device's streams.
    let mut held = Vec::new();
    for _ in 0..twofold_server::policy::MAX_STREAMS_PER_DEVICE {
        held.push(Box::pin(device.events().await.unwrap()));
    }
}
