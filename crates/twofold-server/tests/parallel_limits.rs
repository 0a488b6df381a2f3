//! Counted limits under parallel bursts, as on a big host with many workers (issue 18): each
//! limit is one atomic write in the store, so a burst arriving on one snapshot cannot pass it.
//! Runs on SQLite, or on PostgreSQL under scripts/with-postgres.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

mod support;

use support::{Server, refusal, signin};
use twofold_protocol::Mode;
use twofold_protocol::api::AuditEvent;

/// Counts `event` entries in the service's audit log.
async fn audited(service: &twofold_protocol::client::ServiceClient, event: AuditEvent) -> usize {
    let log = service.audit(0, 1000).await.unwrap().entries;
    log.iter().filter(|entry| entry.event == event).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 16)]
async fn a_burst_of_wrong_offline_codes_stops_at_the_limit() {
    use twofold_protocol::offline;
    use twofold_protocol::{KeyPair, PairingLink};
    let server = Server::start().await;
    let service = server.service("Example").await;
    let link: PairingLink = service.create_pairing("alice").await.unwrap().link.parse().unwrap();
    let key = KeyPair::from_seed(&[0x44; 32]);
    let (_, completed) =
        twofold_protocol::client::DeviceClient::pair(&link, "Laptop", key).await.unwrap();
    let seed =
        data_encoding::BASE32_NOPAD.decode(completed.offline_seed.expose().as_bytes()).unwrap();
    // A code the device shows at none of the steps the server accepts now.
    let now = server.clock_now();
    let shown: Vec<String> =
        [now - 30, now, now + 30].iter().map(|&at| offline::code_at(&seed, at)).collect();
    let wrong = (0..4).map(|n| format!("{n:06}")).find(|code| !shown.contains(code)).unwrap();
    for _ in 0..4 {
        assert!(!service.verify_offline_code("alice", &wrong).await.unwrap().verified);
    }
    let burst: Vec<_> = (0..40)
        .map(|_| {
            let (service, wrong) = (service.clone(), wrong.clone());
            tokio::spawn(async move { service.verify_offline_code("alice", &wrong).await })
        })
        .collect();
    let mut limited = 0;
    for attempt in burst {
        match attempt.await.unwrap() {
            Ok(answer) => assert!(!answer.verified),
            Err(error) => {
                assert_eq!(refusal(error), (429, "rate_limited".to_owned()));
                limited += 1;
            }
        }
    }
    assert_eq!(audited(&service, AuditEvent::OfflineCodeRejected).await, 5);
    assert_eq!(limited, 39);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 16)]
async fn a_burst_of_sign_ins_from_one_address_stops_at_its_limit() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let users: Vec<String> = (0..69).map(|n| format!("user{n}")).collect();
    for user in &users {
        server.device(&service, user, "Laptop").await;
    }
    for user in &users[..29] {
        service.create_signin(&signin(user, Mode::Push)).await.unwrap();
    }
    let burst: Vec<_> = users[29..]
        .iter()
        .map(|user| {
            let (service, body) = (service.clone(), signin(user, Mode::Push));
            tokio::spawn(async move { service.create_signin(&body).await })
        })
        .collect();
    let mut created = 0;
    for attempt in burst {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(error) => assert_eq!(refusal(error), (429, "rate_limited".to_owned())),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(audited(&service, AuditEvent::SigninCreated).await, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 16)]
async fn a_burst_of_sign_ins_for_one_user_from_many_addresses_stops_at_the_user_limit() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    server.device(&service, "alice", "Laptop").await;
    let burst: Vec<_> = (0..40)
        .map(|n| {
            let mut body = signin("alice", Mode::Push);
            body.ip = format!("198.51.100.{}", n + 1).parse().unwrap();
            let service = service.clone();
            tokio::spawn(async move { service.create_signin(&body).await })
        })
        .collect();
    let mut created = 0;
    for attempt in burst {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(error) => assert_eq!(refusal(error), (429, "rate_limited".to_owned())),
        }
    }
    assert_eq!(created, 10);
    assert_eq!(audited(&service, AuditEvent::SigninCreated).await, 10);
}
