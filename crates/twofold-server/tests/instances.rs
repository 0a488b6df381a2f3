//! Several server instances over one PostgreSQL database, as behind a load balancer: whichever
//! instance a request reaches, the devices streaming from the others hear of it.
//! Run with a PostgreSQL server: `scripts/with-postgres cargo test -p twofold-server --test
//! instances -- --include-ignored`.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

mod support;

use std::time::Duration;

use support::{Server, next_event, next_request, refusal, signin};
use twofold_protocol::api::{Status, Withdrawn, WithdrawnReason};
use twofold_protocol::client::{DeviceEvent, ServiceClient};
use twofold_protocol::{Answer, Mode};
use twofold_server::clock::{OsEntropy, random_seed};

/// Two instances sharing a database, key and clock.
async fn two_instances() -> (Server, Server) {
    assert!(
        std::env::var_os("TWOFOLD_TEST_DATABASE_URL").is_some(),
        "needs PostgreSQL: run under scripts/with-postgres"
    );
    let seed = random_seed(&OsEntropy).unwrap();
    let a = Server::start_keyed(&seed).await;
    let b = a.another_instance(&seed).await;
    (a, b)
}

/// One service's client on each instance.
async fn service_on_both(a: &Server, b: &Server) -> (ServiceClient, ServiceClient) {
    let key = a.store.add_service("Example", a.clock_now()).await;
    (ServiceClient::new(&a.url, &key).unwrap(), ServiceClient::new(&b.url, &key).unwrap())
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run under scripts/with-postgres"]
async fn a_request_made_on_one_instance_reaches_a_device_streaming_from_another() {
    let (a, b) = two_instances().await;
    let (service_a, service_b) = service_on_both(&a, &b).await;
    // One device streams from B, the other from A.
    let on_b = b.device(&service_b, "alice", "Laptop").await;
    let on_a = a.device(&service_a, "alice", "Desktop").await;
    let mut b_events = Box::pin(on_b.events().await.unwrap());
    let mut a_events = Box::pin(on_a.events().await.unwrap());

    let created = service_a.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let request = next_request(&mut b_events).await;
    assert_eq!(request.id, created.id);
    assert_eq!(next_request(&mut a_events).await.id, created.id);

    // A long poll on A ends when the device decides through B.
    let waiting = {
        let service = service_a.clone();
        tokio::spawn(async move { service.signin(created.id, Some(30)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let accepted = on_b.decide(&request, Answer::Allow, None).await.unwrap();
    assert_eq!(accepted.status, Status::Allowed);
    let state =
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap().unwrap();
    assert_eq!(state.status, Status::Allowed);
    // The device on A hears it was decided elsewhere.
    assert_eq!(
        next_event(&mut a_events).await,
        DeviceEvent::Withdrawn(Withdrawn {
            id: created.id,
            reason: WithdrawnReason::DecidedElsewhere
        })
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run under scripts/with-postgres"]
async fn a_revocation_or_expiry_on_one_instance_reaches_streams_on_another() {
    let (a, b) = two_instances().await;
    let (service_a, service_b) = service_on_both(&a, &b).await;
    let device = a.device(&service_a, "alice", "Laptop").await;
    let mut events = Box::pin(device.events().await.unwrap());
    let created = service_b.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    assert_eq!(next_request(&mut events).await.id, created.id);
    // Whichever instance's sweep marks it, the stream on A is told.
    a.clock.advance(120);
    assert_eq!(
        next_event(&mut events).await,
        DeviceEvent::Withdrawn(Withdrawn { id: created.id, reason: WithdrawnReason::Expired })
    );
    let id = service_b.devices("alice").await.unwrap().devices[0].id;
    service_b.revoke_device(id).await.unwrap();
    let ended =
        tokio::time::timeout(Duration::from_secs(10), futures_util::StreamExt::next(&mut events))
            .await
            .expect("the stream on A ends when B revokes its device");
    assert!(ended.is_none(), "{ended:?}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run under scripts/with-postgres"]
async fn limits_and_lockouts_hold_across_instances() {
    let (a, b) = two_instances().await;
    let (service_a, service_b) = service_on_both(&a, &b).await;
    let device = a.device(&service_a, "alice", "Laptop").await;

    // One pending request per user, whichever instances are asked at once.
    let attempts: Vec<_> = (0..64)
        .map(|i| {
            let service = if i % 2 == 0 { service_a.clone() } else { service_b.clone() };
            tokio::spawn(async move { service.create_signin(&signin("alice", Mode::Push)).await })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(error) => assert_eq!(refusal(error), (409, "signin_pending".to_owned())),
        }
    }
    assert_eq!(created, 1);

    // A report through A locks the user out on B.
    let request = device.pending().await.unwrap().remove(0);
    device.decide(&request, Answer::Report, None).await.unwrap();
    let locked = service_b.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    assert_eq!(locked.status, Status::Locked);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run under scripts/with-postgres"]
async fn a_device_revoked_while_its_notice_was_lost_gets_no_more_requests() {
    let (a, b) = two_instances().await;
    let (service_a, _service_b) = service_on_both(&a, &b).await;
    let device = a.device(&service_a, "alice", "Laptop").await;
    a.device(&service_a, "alice", "Desktop").await;
    let mut events = Box::pin(device.events().await.unwrap());
    // Revoked by another instance whose notice never came: only the database knows.
    a.store.execute("", "UPDATE devices SET revoked_at = 1 WHERE name = 'Laptop'").await.unwrap();
    service_a.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let ended =
        tokio::time::timeout(Duration::from_secs(10), futures_util::StreamExt::next(&mut events))
            .await
            .expect("the stream ends");
    assert!(ended.is_none(), "the revoked device got {ended:?}");
}
