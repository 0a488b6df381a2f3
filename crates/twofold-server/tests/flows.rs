//! Whole flows over a real loopback server, with protocol clients as services and devices.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

mod support;

use std::time::Duration;

use support::{Server, next_event, next_request, refusal, signin};

/// Requests the lagging-stream test sends while its device does not read.
const FILLERS: usize = 4000;
use twofold_protocol::api::{Status, Withdrawn, WithdrawnReason};
use twofold_protocol::client::DeviceEvent;
use twofold_protocol::{Answer, Location, Mode};

#[tokio::test]
async fn pairing_then_push_allow_reaches_the_service() {
    let server = Server::start().await;
    let service = server.service("Example Mail").await;
    let device = server.device(&service, "alice", "Work laptop").await;
    assert_eq!(device.server_key(), server.server_key);

    let devices = service.devices("alice").await.unwrap().devices;
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].name, "Work laptop");
    assert_eq!(devices[0].fingerprint, device.public_key().fingerprint());
    assert!(service.devices("bob").await.unwrap().devices.is_empty());

    let mut events = Box::pin(device.events().await.unwrap());
    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    assert_eq!(created.status, Status::Pending);
    assert_eq!(created.number, None);

    let request = next_request(&mut events).await;
    assert_eq!(request.id, created.id);
    assert_eq!(request.user, "alice");
    assert_eq!(request.service, "Example Mail");
    assert_eq!(request.ip.to_string(), "203.0.113.7");
    assert_eq!(request.context.as_deref(), Some("Sign in to Example Mail"));
    assert_eq!(request.expires_at, request.created_at + 120);

    let accepted = device.decide(&request, Answer::Allow, None).await.unwrap();
    assert_eq!(accepted.status, Status::Allowed);
    assert_eq!(accepted.code, None);
    let state = service.signin(created.id, None).await.unwrap();
    assert_eq!(state.status, Status::Allowed);
    assert_eq!(state.decided_at, Some(server.clock_now()));
}

#[tokio::test]
async fn number_mode_needs_the_number_shown_on_the_sign_in_page() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Number)).await.unwrap();
    let number = created.number.expect("number mode gives a number");
    assert!((10..=99).contains(&number), "{number}");
    let request = device.pending().await.unwrap().remove(0);
    assert_eq!(request.mode, Mode::Number);
    let accepted = device.decide(&request, Answer::Allow, Some(number)).await.unwrap();
    assert_eq!(accepted.status, Status::Allowed);
    assert_eq!(service.signin(created.id, None).await.unwrap().status, Status::Allowed);
}

#[tokio::test]
async fn a_number_mode_request_offers_three_distinct_two_digit_choices_with_the_right_one() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    // Within the user's sign-in limit; the unit tests of the draw look at many more.
    for _ in 0..3 {
        let created = service.create_signin(&signin("alice", Mode::Number)).await.unwrap();
        let number = created.number.unwrap();
        let request = device.pending().await.unwrap().remove(0);
        assert_eq!(request.choices.len(), 3, "{:?}", request.choices);
        assert!(request.choices_fit_mode(), "not distinct: {:?}", request.choices);
        assert!(request.choices.iter().all(|c| (10..=99).contains(c)), "{:?}", request.choices);
        assert!(request.offers(number), "{number} is not among {:?}", request.choices);
        // The right pick allows; the next sign-in may start.
        let accepted = device.decide(&request, Answer::Allow, Some(number)).await.unwrap();
        assert_eq!(accepted.status, Status::Allowed);
    }
    // Push and code requests carry none.
    for mode in [Mode::Push, Mode::Code] {
        service.create_signin(&signin("alice", mode)).await.unwrap();
        let request = device.pending().await.unwrap().remove(0);
        assert!(request.choices.is_empty(), "{mode:?}: {:?}", request.choices);
        device.decide(&request, Answer::Deny, None).await.unwrap();
    }
}

#[tokio::test]
async fn code_mode_reveals_a_code_that_the_service_verifies_once() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Code)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);

    // Before Allow, no code can be verified.
    let (status, code) = refusal(service.verify_code(created.id, "000000").await.unwrap_err());
    assert_eq!((status, code.as_str()), (409, "not_allowed"));

    let accepted = device.decide(&request, Answer::Allow, None).await.unwrap();
    let code = accepted.code.expect("Allow reveals the code");
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));

    let wrong = if code == "000000" { "000001" } else { "000000" };
    let result = service.verify_code(created.id, wrong).await.unwrap();
    assert!(!result.verified);
    assert_eq!(result.attempts_left, 4);
    let result = service.verify_code(created.id, &code).await.unwrap();
    assert!(result.verified);
    assert!(service.signin(created.id, None).await.unwrap().verified);
    let (status, error) = refusal(service.verify_code(created.id, &code).await.unwrap_err());
    assert_eq!((status, error.as_str()), (409, "already_verified"));
}

#[tokio::test]
async fn code_attempts_run_out() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Code)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    let code = device.decide(&request, Answer::Allow, None).await.unwrap().code.unwrap();
    let wrong = if code == "111111" { "222222" } else { "111111" };
    for left in (0..5).rev() {
        assert_eq!(service.verify_code(created.id, wrong).await.unwrap().attempts_left, left);
    }
    let (status, error) = refusal(service.verify_code(created.id, &code).await.unwrap_err());
    assert_eq!((status, error.as_str()), (429, "too_many_attempts"));
}

#[tokio::test]
async fn every_device_gets_the_request_and_the_others_are_withdrawn() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let laptop = server.device(&service, "alice", "Laptop").await;
    let desktop = server.device(&service, "alice", "Desktop").await;
    let bobs = server.device(&service, "bob", "Bob's").await;
    let mut laptop_events = Box::pin(laptop.events().await.unwrap());
    let mut desktop_events = Box::pin(desktop.events().await.unwrap());
    let mut bob_events = Box::pin(bobs.events().await.unwrap());

    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let on_laptop = next_request(&mut laptop_events).await;
    let on_desktop = next_request(&mut desktop_events).await;
    assert_eq!(on_laptop, on_desktop);
    assert_eq!(on_laptop.id, created.id);

    let accepted = desktop.decide(&on_desktop, Answer::Deny, None).await.unwrap();
    assert_eq!(accepted.status, Status::Denied);
    assert_eq!(
        next_event(&mut laptop_events).await,
        DeviceEvent::Withdrawn(Withdrawn {
            id: created.id,
            reason: WithdrawnReason::DecidedElsewhere
        })
    );
    // The first decision won; the laptop's late Allow is refused.
    let (status, error) =
        refusal(laptop.decide(&on_laptop, Answer::Allow, None).await.unwrap_err());
    assert_eq!((status, error.as_str()), (409, "already_decided"));
    assert_eq!(service.signin(created.id, None).await.unwrap().status, Status::Denied);

    // Bob's device heard nothing of Alice's sign-in: his first event is his own request.
    let bobs_signin = service.create_signin(&signin("bob", Mode::Push)).await.unwrap();
    assert_eq!(next_request(&mut bob_events).await.id, bobs_signin.id);
}

#[tokio::test]
async fn an_offline_device_catches_up_on_connect_and_by_polling() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Number)).await.unwrap();

    let polled: Vec<_> = device.pending().await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(polled, [created.id]);

    let mut events = Box::pin(device.events().await.unwrap());
    assert_eq!(next_request(&mut events).await.id, created.id);

    // Expired requests are not delivered.
    server.clock.advance(121);
    assert!(device.pending().await.unwrap().is_empty());
}

#[tokio::test]
async fn requests_expire_and_then_refuse_decisions() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    server.clock.advance(119);
    assert_eq!(service.signin(created.id, None).await.unwrap().status, Status::Pending);
    server.clock.advance(1);
    assert_eq!(service.signin(created.id, Some(5)).await.unwrap().status, Status::Expired);
    let (status, error) = refusal(device.decide(&request, Answer::Allow, None).await.unwrap_err());
    assert_eq!((status, error.as_str()), (410, "signin_expired"));
}

#[tokio::test]
async fn an_expired_request_is_withdrawn_from_the_devices_and_ends_long_polls() {
    use twofold_protocol::api::AuditEvent;
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let mut events = Box::pin(device.events().await.unwrap());
    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    assert_eq!(next_request(&mut events).await.id, created.id);
    let waiting = {
        let service = service.clone();
        tokio::spawn(async move { service.signin(created.id, Some(60)).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.clock.advance(120);
    assert_eq!(
        next_event(&mut events).await,
        DeviceEvent::Withdrawn(Withdrawn { id: created.id, reason: WithdrawnReason::Expired })
    );
    // The long poll ends with the expiry, well before its 60 s.
    let state =
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap().unwrap();
    assert_eq!(state.status, Status::Expired);
    let log = service.audit(0, 100).await.unwrap().entries;
    let expired = log.last().unwrap();
    assert_eq!((expired.event, expired.signin_id), (AuditEvent::SigninExpired, Some(created.id)));
    assert_eq!(expired.at, created.expires_at);
    // Marked once: a later sweep adds nothing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(service.audit(expired.seq, 100).await.unwrap().entries, []);
}

#[tokio::test]
async fn an_action_and_its_audit_entry_are_written_together_or_not_at_all() {
    use twofold_protocol::api::AuditEvent;
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);

    // The audit insert fails as a crash between the two writes would leave it.
    server.refuse_audit_entries().await;
    let (status, _) = refusal(device.decide(&request, Answer::Report, None).await.unwrap_err());
    assert_eq!(status, 500);
    assert_eq!(service.signin(created.id, None).await.unwrap().status, Status::Pending);
    let device_id = service.devices("alice").await.unwrap().devices[0].id;
    let (status, _) = refusal(service.revoke_device(device_id).await.unwrap_err());
    assert_eq!(status, 500);
    assert_eq!(service.devices("alice").await.unwrap().devices.len(), 1);
    let (status, _) = refusal(service.create_pairing("bob").await.unwrap_err());
    assert_eq!(status, 500);

    server.accept_audit_entries().await;
    let events: Vec<_> =
        service.audit(0, 100).await.unwrap().entries.iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        [AuditEvent::PairingCreated, AuditEvent::DevicePaired, AuditEvent::SigninCreated]
    );
    // The report that failed left nothing behind: the user is not locked out.
    let accepted = device.decide(&request, Answer::Allow, None).await.unwrap();
    assert_eq!(accepted.status, Status::Allowed);
}

#[tokio::test]
async fn a_long_poll_returns_when_the_device_decides() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let waiting = {
        let service = service.clone();
        tokio::spawn(async move { service.signin(created.id, Some(30)).await })
    };
    // Let the poll start waiting, then decide.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let request = device.pending().await.unwrap().remove(0);
    device.decide(&request, Answer::Report, None).await.unwrap();
    let state =
        tokio::time::timeout(Duration::from_secs(20), waiting).await.unwrap().unwrap().unwrap();
    assert_eq!(state.status, Status::Reported);
}

#[tokio::test]
async fn a_revoked_device_loses_its_stream_and_its_say() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let _other = server.device(&service, "alice", "Desktop").await;
    let created = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let mut events = Box::pin(device.events().await.unwrap());
    let request = next_request(&mut events).await;

    let id = service.devices("alice").await.unwrap().devices[0].id;
    service.revoke_device(id).await.unwrap();
    let ended =
        tokio::time::timeout(Duration::from_secs(10), futures_util::StreamExt::next(&mut events))
            .await
            .unwrap();
    assert!(ended.is_none(), "the stream should end, got {ended:?}");

    let (status, error) = refusal(device.decide(&request, Answer::Allow, None).await.unwrap_err());
    assert_eq!((status, error.as_str()), (403, "device_revoked"));
    let (status, _) = refusal(device.pending().await.unwrap_err());
    assert_eq!(status, 403);
    assert_eq!(service.devices("alice").await.unwrap().devices.len(), 1);
    assert_eq!(service.signin(created.id, None).await.unwrap().status, Status::Pending);
    let (status, error) = refusal(service.revoke_device(id).await.unwrap_err());
    assert_eq!((status, error.as_str()), (404, "unknown_device"));
}

#[tokio::test]
async fn private_addresses_read_private_network() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let mut body = signin("alice", Mode::Push);
    body.ip = "192.168.1.20".parse().unwrap();
    service.create_signin(&body).await.unwrap();
    assert_eq!(device.pending().await.unwrap()[0].location, Location::PrivateNetwork);
}

#[tokio::test]
async fn one_pending_request_per_user_and_address() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    server.device(&service, "bob", "Bob's").await;
    service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    let (status, error) =
        refusal(service.create_signin(&signin("alice", Mode::Push)).await.unwrap_err());
    assert_eq!((status, error.as_str()), (409, "signin_pending"));
    // The same address written as IPv4-mapped IPv6 is the same address.
    let mut mapped = signin("alice", Mode::Push);
    mapped.ip = "::ffff:203.0.113.7".parse().unwrap();
    let (status, error) = refusal(service.create_signin(&mapped).await.unwrap_err());
    assert_eq!((status, error.as_str()), (409, "signin_pending"));
    // Other users are not held up.
    service.create_signin(&signin("bob", Mode::Push)).await.unwrap();
    // Once answered, the next sign-in may come.
    let request = device.pending().await.unwrap().remove(0);
    device.decide(&request, Answer::Allow, None).await.unwrap();
    service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
}

#[tokio::test]
async fn a_pending_sign_in_from_elsewhere_does_not_hold_up_the_users_own() {
    // Someone with alice's password starts a sign-in every two minutes from their address: her
    // own sign-in from home still reaches her device, beside theirs, each with its place.
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let mut squatter = signin("alice", Mode::Push);
    squatter.ip = "198.51.100.66".parse().unwrap();
    service.create_signin(&squatter).await.unwrap();
    let own = service.create_signin(&signin("alice", Mode::Push)).await.unwrap();
    assert_eq!(own.status, Status::Pending);
    let pending = device.pending().await.unwrap();
    let addresses: Vec<String> = pending.iter().map(|r| r.ip.to_string()).collect();
    assert_eq!(addresses, ["198.51.100.66", "203.0.113.7"]);
    // The squatter's next one, from another host of the same IPv6 /64, is still theirs.
    let mut v6 = signin("alice", Mode::Push);
    v6.ip = "2001:db8:7:7::1".parse().unwrap();
    service.create_signin(&v6).await.unwrap();
    v6.ip = "2001:db8:7:7:ffff::2".parse().unwrap();
    let (status, error) = refusal(service.create_signin(&v6).await.unwrap_err());
    assert_eq!((status, error.as_str()), (409, "signin_pending"));
}

/// Creates a sign-in for `user` and has `device` answer it.
async fn answered(
    service: &twofold_protocol::client::ServiceClient,
    device: &twofold_protocol::client::DeviceClient,
    body: &twofold_protocol::api::CreateSignin,
    answer: Answer,
) -> Status {
    let created = service.create_signin(body).await.unwrap();
    assert_eq!(created.status, Status::Pending);
    let request = device.pending().await.unwrap().remove(0);
    device.decide(&request, answer, None).await.unwrap().status
}

#[tokio::test]
async fn repeated_denials_lock_the_user_out_for_a_while() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let body = signin("alice", Mode::Push);
    for _ in 0..3 {
        assert_eq!(answered(&service, &device, &body, Answer::Deny).await, Status::Denied);
    }
    let locked = service.create_signin(&body).await.unwrap();
    assert_eq!(locked.status, Status::Locked);
    assert_eq!(service.signin(locked.id, None).await.unwrap().status, Status::Locked);
    assert!(device.pending().await.unwrap().is_empty(), "a locked sign-in reaches no device");
    server.clock.advance(901);
    assert_eq!(answered(&service, &device, &body, Answer::Allow).await, Status::Allowed);
}

#[tokio::test]
async fn a_report_locks_the_user_out_and_blocks_the_address_for_good() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let body = signin("alice", Mode::Push);
    assert_eq!(answered(&service, &device, &body, Answer::Report).await, Status::Reported);
    let mut elsewhere = signin("alice", Mode::Push);
    elsewhere.ip = "198.51.100.4".parse().unwrap();
    assert_eq!(service.create_signin(&elsewhere).await.unwrap().status, Status::Locked);
    server.clock.advance(901);
    // The lockout is over for other addresses, never for the reported one, however written.
    assert_eq!(service.create_signin(&body).await.unwrap().status, Status::Locked);
    let mut mapped = body.clone();
    mapped.ip = "::ffff:203.0.113.7".parse().unwrap();
    assert_eq!(service.create_signin(&mapped).await.unwrap().status, Status::Locked);
    assert_eq!(answered(&service, &device, &elsewhere, Answer::Allow).await, Status::Allowed);
}

#[tokio::test]
async fn sign_ins_are_rate_limited_per_user_and_per_address() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    let alice = server.device(&service, "alice", "Laptop").await;
    for _ in 0..10 {
        assert_eq!(
            answered(&service, &alice, &signin("alice", Mode::Push), Answer::Allow).await,
            Status::Allowed
        );
    }
    let (status, error) =
        refusal(service.create_signin(&signin("alice", Mode::Push)).await.unwrap_err());
    assert_eq!((status, error.as_str()), (429, "rate_limited"));
    // Twenty more users from the same address reach the per-address limit of 30.
    for n in 0..20 {
        let user = format!("user{n}");
        let device = server.device(&service, &user, "Laptop").await;
        answered(&service, &device, &signin(&user, Mode::Push), Answer::Allow).await;
    }
    server.device(&service, "carol", "Laptop").await;
    let (status, error) =
        refusal(service.create_signin(&signin("carol", Mode::Push)).await.unwrap_err());
    assert_eq!((status, error.as_str()), (429, "rate_limited"));
    // The same address, written as IPv4-mapped IPv6, is at its limit too.
    let mut mapped = signin("carol", Mode::Push);
    mapped.ip = "::ffff:203.0.113.7".parse().unwrap();
    let (status, error) = refusal(service.create_signin(&mapped).await.unwrap_err());
    assert_eq!((status, error.as_str()), (429, "rate_limited"));
    server.clock.advance(601);
    service.create_signin(&signin("carol", Mode::Push)).await.unwrap();
}

#[tokio::test]
async fn the_service_reads_an_audit_log_of_pairings_requests_and_decisions() {
    use twofold_protocol::api::AuditEvent;
    let server = Server::start().await;
    let service = server.service("Example").await;
    let other = server.service("Other").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let created = service.create_signin(&signin("alice", Mode::Number)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    device.decide(&request, Answer::Allow, created.number).await.unwrap();

    let log = service.audit(0, 100).await.unwrap().entries;
    let events: Vec<_> = log.iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        [
            AuditEvent::PairingCreated,
            AuditEvent::DevicePaired,
            AuditEvent::SigninCreated,
            AuditEvent::SigninAllowed
        ]
    );
    assert!(log.iter().all(|e| e.user == "alice"));
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    let allowed = &log[3];
    assert_eq!(allowed.signin_id, Some(created.id));
    assert_eq!(allowed.ip, Some("203.0.113.7".parse().unwrap()));
    assert!(allowed.device_id.is_some());
    // Paging, and other services see none of it.
    assert_eq!(service.audit(log[1].seq, 1).await.unwrap().entries, log[2..3]);
    assert!(other.audit(0, 100).await.unwrap().entries.is_empty());
}

#[tokio::test]
async fn the_audit_log_cannot_be_changed() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    server.device(&service, "alice", "Laptop").await;
    let update = server
        .store
        .execute("UPDATE audit SET user = 'mallory'", "UPDATE audit SET \"user\" = 'mallory'")
        .await;
    assert!(update.unwrap_err().contains("append-only"));
    let delete = server.store.execute("DELETE FROM audit", "DELETE FROM audit").await;
    assert!(delete.unwrap_err().contains("append-only"));
    assert_eq!(service.audit(0, 10).await.unwrap().entries.len(), 2);
}

/// A server whose log holds four entries (two pairings and their devices).
async fn four_audit_entries() -> Server {
    let server = Server::start().await;
    let service = server.service("Example").await;
    server.device(&service, "alice", "Laptop").await;
    server.device(&service, "bob", "Laptop").await;
    let report = server.store.verify_audit().await.unwrap();
    assert_eq!((report.unchained, report.chained), (0, 4));
    server
}

#[tokio::test]
async fn the_chain_covers_sign_ins_and_names_outside_ascii() {
    // Every column the hash covers, present and absent, and a name whose UTF-8 length is not
    // its character count: PostgreSQL hashes its entries itself, and must agree with chain.rs.
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "zoë@例え.jp", "Laptop").await;
    service.create_signin(&signin("zoë@例え.jp", Mode::Push)).await.unwrap();
    let request = device.pending().await.unwrap().remove(0);
    device.decide(&request, Answer::Deny, None).await.unwrap();
    let report = server.store.verify_audit().await.unwrap();
    assert_eq!((report.unchained, report.chained), (0, 4));
}

/// The chain break `verify_audit` reports.
async fn chain_break(server: &Server) -> u64 {
    match server.store.verify_audit().await {
        Err(twofold_server::admin::AdminError::AuditChanged(broken)) => broken.seq,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[tokio::test]
async fn an_audit_entry_edited_past_the_triggers_breaks_the_chain() {
    let server = four_audit_entries().await;
    server
        .store
        .execute(
            "DROP TRIGGER audit_no_update; UPDATE audit SET user = 'mallory' WHERE seq = 2",
            "DROP TRIGGER audit_no_change ON audit; \
             UPDATE audit SET \"user\" = 'mallory' WHERE seq = 2",
        )
        .await
        .unwrap();
    assert_eq!(chain_break(&server).await, 2);
}

#[tokio::test]
async fn an_audit_entry_deleted_past_the_triggers_breaks_the_chain() {
    let server = four_audit_entries().await;
    server
        .store
        .execute(
            "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3",
            "DROP TRIGGER audit_no_change ON audit; DELETE FROM audit WHERE seq = 3",
        )
        .await
        .unwrap();
    assert_eq!(chain_break(&server).await, 4);
}

#[tokio::test]
async fn offline_codes_from_a_device_verify_once_and_wrong_ones_are_limited() {
    use twofold_protocol::offline;
    use twofold_protocol::{KeyPair, PairingLink};
    let server = Server::start().await;
    let service = server.service("Example").await;
    let link: PairingLink = service.create_pairing("alice").await.unwrap().link.parse().unwrap();
    let key = KeyPair::from_seed(&[0x33; 32]);
    let (_, completed) =
        twofold_protocol::client::DeviceClient::pair(&link, "Laptop", key).await.unwrap();
    let seed =
        data_encoding::BASE32_NOPAD.decode(completed.offline_seed.expose().as_bytes()).unwrap();
    assert_eq!(seed.len(), offline::SEED_LEN);
    // The database holds it sealed: a copy of it does not give the codes.
    let stored = server.store.bytes("SELECT offline_seed FROM devices").await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].windows(seed.len()).any(|w| w == seed.as_slice()), "the seed is stored");
    assert!(stored[0].len() > seed.len());

    let code = offline::code_at(&seed, server.clock_now());
    let verified = service.verify_offline_code("alice", &code).await.unwrap();
    assert!(verified.verified);
    assert_eq!(verified.device_id, Some(completed.device_id));
    assert!(
        !service.verify_offline_code("alice", &code).await.unwrap().verified,
        "a code works once"
    );
    assert!(!service.verify_offline_code("bob", &code).await.unwrap().verified);

    server.clock.advance(30);
    // The previous step's code stays refused; the current one passes.
    assert!(!service.verify_offline_code("alice", &code).await.unwrap().verified);
    let next = offline::code_at(&seed, server.clock_now());
    assert!(service.verify_offline_code("alice", &next).await.unwrap().verified);

    let (status, error) = refusal(service.verify_offline_code("alice", "12345").await.unwrap_err());
    assert_eq!((status, error.as_str()), (400, "invalid_code"));
    // bob's and alice's rejections above: 4 wrong codes so far for alice (3) and bob (1).
    server.clock.advance(30);
    let current = offline::code_at(&seed, server.clock_now());
    let wrong = if current == "000000" { "000001" } else { "000000" };
    for _ in 0..3 {
        assert!(!service.verify_offline_code("alice", wrong).await.unwrap().verified);
    }
    let (status, error) =
        refusal(service.verify_offline_code("alice", &current).await.unwrap_err());
    assert_eq!((status, error.as_str()), (429, "rate_limited"));
}

#[tokio::test]
async fn concurrent_sign_ins_for_one_user_leave_exactly_one_pending() {
    let server = Server::start().await;
    let service = server.service("Example").await;
    server.device(&service, "alice", "Laptop").await;
    let attempts: Vec<_> = (0..64)
        .map(|_| {
            let service = service.clone();
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
}

#[tokio::test]
async fn a_shutdown_ends_device_streams_at_once_and_cleanly() {
    let mut server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    let mut events = Box::pin(device.events().await.unwrap());
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(20), server.shut_down()).await.unwrap();
    // The stream ends as a finished body (the device reconnects, to another instance behind a
    // load balancer), not after the 5 s given to other connections, nor never.
    let ended =
        tokio::time::timeout(Duration::from_secs(1), futures_util::StreamExt::next(&mut events));
    let ended = ended.await.expect("the stream still runs after the shutdown");
    assert!(ended.is_none(), "the stream should end cleanly, got {ended:?}");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_stream_too_slow_for_its_events_still_gets_what_is_pending() {
    // A device that stops reading its stream: once the socket is full the server takes nothing
    // more from the user's channel (room for 8 events), and newer events push older ones out.
    // When the device reads again, what is still pending must reach it, read again from the
    // store, and not only what the channel kept.
    let server = Server::start().await;
    let service = server.service("Example").await;
    let device = server.device(&service, "alice", "Laptop").await;
    for spare in 0..10 {
        server.device(&service, "alice", &format!("Spare {spare}")).await;
    }
    let events = device.events().await.unwrap();
    // Requests of about 2 KB each until far more than the socket buffers hold; the clock moves
    // past the per-user window every 10 (each earlier request expires with it).
    let big = |i: usize| {
        let mut body = signin("alice", Mode::Push);
        body.ip = format!("203.0.113.{}", i % 10 + 1).parse().unwrap();
        body.user_agent = format!("Mozilla/5.0 {}", "x".repeat(490));
        body.context = Some("€".repeat(200));
        body
    };
    let mut fillers = Vec::new();
    for i in 0..FILLERS {
        if i % 10 == 0 {
            server.clock.advance(600);
        }
        fillers.push(service.create_signin(&big(i)).await.unwrap().id);
    }
    // The request still pending at the end, then ten events this stream skips (the spare
    // devices revoked): the channel no longer holds the request.
    server.clock.advance(600);
    let last = service.create_signin(&big(0)).await.unwrap().id;
    for spare in service.devices("alice").await.unwrap().devices {
        if spare.name.starts_with("Spare") {
            service.revoke_device(spare.id).await.unwrap();
        }
    }

    let mut events = Box::pin(events);
    let mut seen = std::collections::HashSet::new();
    loop {
        match next_event(&mut events).await {
            DeviceEvent::Request(request) if request.id == last => break,
            DeviceEvent::Request(request) => seen.insert(request.id),
            _ => continue,
        };
    }
    assert!(
        fillers.iter().any(|id| !seen.contains(id)),
        "the stream never fell behind ({} requests all arrived): send more",
        fillers.len()
    );
}
