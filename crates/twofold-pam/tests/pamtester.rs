//! `pam_twofold.so` run by pamtester (Debian's) from a PAM service file in /etc/pam.d, against a
//! real server on loopback and a paired device that answers: each outcome a login can have.

#![allow(clippy::unwrap_used)]

mod support;

use std::os::unix::fs::PermissionsExt as _;

use support::{Answering, ConfigFile, PamService, Pamtester, Server, pamtester};
use twofold_protocol::Answer;

/// The PAM items of an SSH login from loopback.
const SSH: &[&str] = &["rhost=127.0.0.1", "tty=ssh"];

#[test]
fn allow_on_the_device_lets_the_user_in_and_the_device_saw_what_it_allowed() {
    let server = Server::start(|_| {});
    let device = server.pair("alice", Answering::With(Answer::Allow));
    let config = server.config("");
    let service = PamService::new(&config.path, "");
    let run = pamtester(&service, "alice", &["rhost=127.0.0.1", "tty=/dev/pts/3"], "");
    assert!(run.success, "{}", run.output());
    assert!(run.stdout.contains("Approve on your Twofold device"), "{}", run.output());
    assert!(run.stdout.contains("Approved on your Twofold device."), "{}", run.output());
    let seen = device.wait_seen(1);
    let request = &seen[0];
    let expected = format!("{} login as alice on build-01 from 127.0.0.1, tty pts/3", service.name);
    assert_eq!(request.context.as_deref(), Some(expected.as_str()));
    assert_eq!(request.ip.to_string(), "127.0.0.1");
    assert_eq!(request.service, "build-01");
    assert!(request.user_agent.contains(&service.name), "{}", request.user_agent);
}

#[test]
fn dont_allow_on_the_device_keeps_the_user_out() {
    let server = Server::start(|_| {});
    let _device = server.pair("bob", Answering::With(Answer::Deny));
    let config = server.config("");
    let service = PamService::new(&config.path, "");
    let run = pamtester(&service, "bob", SSH, "");
    assert!(!run.success, "{}", run.output());
    assert!(run.stderr.contains("Denied on your Twofold device."), "{}", run.output());
}

#[test]
fn number_mode_shows_the_number_the_device_must_choose() {
    let server = Server::start(|_| {});
    let device = server.pair("carol", Answering::With(Answer::Allow));
    let config = server.config("");
    // The module argument overrides the file's mode (push by default).
    let service = PamService::new(&config.path, "mode=number");
    let run = Pamtester::start(&service, "carol", SSH);
    let line = run.wait_line("Choose ");
    let number: u32 = line
        .split_whitespace()
        .find_map(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("no number in {line:?}"));
    device.numbers.send(number).unwrap();
    let run = run.finish();
    assert!(run.success, "{}", run.output());
    assert_eq!(device.seen()[0].mode, twofold_protocol::Mode::Number);
}

#[test]
fn a_wrong_number_on_the_device_keeps_the_user_out() {
    let server = Server::start(|_| {});
    let device = server.pair("carl", Answering::With(Answer::Allow));
    let config = server.config("mode = \"number\"\n");
    let service = PamService::new(&config.path, "");
    let run = Pamtester::start(&service, "carl", SSH);
    let line = run.wait_line("Choose ");
    let number: u32 = line.split_whitespace().find_map(|word| word.parse().ok()).unwrap();
    device.numbers.send(if number == 99 { 98 } else { number + 1 }).unwrap();
    let run = run.finish();
    assert!(!run.success, "{}", run.output());
}

#[test]
fn code_mode_takes_the_code_the_device_shows() {
    let server = Server::start(|_| {});
    let device = server.pair("dave", Answering::With(Answer::Allow));
    let config = server.config("");
    let service = PamService::new(&config.path, "mode=code");
    let mut run = Pamtester::start(&service, "dave", SSH);
    run.wait_line("then type the code it shows");
    // The support keeps the code the device was shown on Allow in place of the user agent.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let code = loop {
        let seen = device.seen();
        if let Some(request) = seen.first().filter(|r| r.user_agent.len() == 6) {
            break request.user_agent.clone();
        }
        assert!(std::time::Instant::now() < deadline, "the device never got a code");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    run.type_line(&code);
    let run = run.finish();
    assert!(run.success, "{}", run.output());
}

#[test]
fn after_a_timeout_a_code_from_the_device_lets_the_user_in() {
    let server = Server::start(|_| {});
    let device = server.pair("erin", Answering::Never);
    let config = server.config("timeout = 2\n");
    let service = PamService::new(&config.path, "");
    let run = pamtester(&service, "erin", SSH, &device.offline_code());
    assert!(run.success, "{}", run.output());
    assert!(run.stdout.contains("No answer from your Twofold device."), "{}", run.output());
    assert!(run.stdout.contains("Code accepted."), "{}", run.output());
}

#[test]
fn a_wrong_offline_code_keeps_the_user_out() {
    let server = Server::start(|_| {});
    let device = server.pair("fred", Answering::Never);
    let config = server.config("timeout = 1\n");
    let service = PamService::new(&config.path, "");
    let right = device.offline_code();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let run = pamtester(&service, "fred", SSH, wrong);
    assert!(!run.success, "{}", run.output());
    assert!(run.stderr.contains("That code is not right."), "{}", run.output());
}

#[test]
fn nobody_answering_times_out_when_no_code_is_typed() {
    let server = Server::start(|_| {});
    let device = server.pair("gina", Answering::Never);
    let config = server.config("timeout = 2\n");
    let service = PamService::new(&config.path, "offline_codes=no");
    let run = pamtester(&service, "gina", SSH, "");
    assert!(!run.success, "{}", run.output());
    assert!(run.stderr.contains("Timed out"), "{}", run.output());
    assert_eq!(device.seen().len(), 1);
}

#[test]
fn a_server_that_cannot_be_reached_denies_by_default() {
    let config = ConfigFile::write(&format!(
        "server = \"http://{}/\"\napi_key = \"k\"\nconnect_timeout = 2\n",
        closed_port()
    ));
    let service = PamService::new(&config.path, "");
    let run = pamtester(&service, "hank", SSH, "");
    assert!(!run.success, "{}", run.output());
    assert!(
        run.stderr.contains("The Twofold server cannot be reached: access denied."),
        "{}",
        run.output()
    );
}

#[test]
fn failmode_open_lets_the_user_in_when_the_server_cannot_be_reached() {
    let config = ConfigFile::write(&format!(
        "server = \"http://{}/\"\napi_key = \"k\"\nfailmode = \"open\"\n",
        closed_port()
    ));
    let service = PamService::new(&config.path, "");
    let run = pamtester(&service, "ida", SSH, "");
    assert!(run.success, "{}", run.output());
    assert!(run.stdout.contains("failmode = open"), "{}", run.output());
}

#[test]
fn failmode_open_does_not_let_in_a_user_the_server_refuses() {
    let server = Server::start(|_| {});
    let config = server.config("failmode = \"open\"\n");
    let service = PamService::new(&config.path, "");
    // Nobody paired a device for this user: the server answers, and refuses.
    let run = pamtester(&service, "unpaired", SSH, "");
    assert!(!run.success, "{}", run.output());
    assert!(run.stderr.contains("no paired device"), "{}", run.output());
}

#[test]
fn a_server_that_answers_slowly_is_given_up_on_in_bounded_time() {
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = ConfigFile::write(&format!(
        "server = \"http://{}/\"\napi_key = \"k\"\nconnect_timeout = 1\n",
        listener.local_addr().unwrap()
    ));
    let service = PamService::new(&config.path, "");
    let run = pamtester(&service, "jack", SSH, "");
    assert!(!run.success, "{}", run.output());
    assert!(run.stderr.contains("cannot be reached"), "{}", run.output());
    drop(listener);
}

#[test]
fn a_configuration_others_can_read_is_refused_with_a_log_line() {
    let server = Server::start(|_| {});
    let _device = server.pair("kate", Answering::With(Answer::Allow));
    let config = server.config("");
    std::fs::set_permissions(&config.path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let service = PamService::new(&config.path, "");
    let run = pamtester(&service, "kate", SSH, "");
    assert!(!run.success, "{}", run.output());
    assert!(run.stderr.contains("Twofold is not set up right on this machine"), "{}", run.output());
    // Without a syslog socket (as in a container) the log line goes to standard error.
    if !std::path::Path::new("/dev/log").exists() {
        assert!(run.stderr.contains("readable by root only"), "{}", run.output());
        assert!(run.stderr.contains("mode 644"), "{}", run.output());
    }
}

#[test]
fn a_report_denies_and_locks_the_user_out_without_asking_again() {
    let server = Server::start(|_| {});
    let device = server.pair("liam", Answering::With(Answer::Report));
    let config = server.config("");
    let service = PamService::new(&config.path, "");
    let first = pamtester(&service, "liam", SSH, "");
    assert!(!first.success, "{}", first.output());
    assert!(first.stderr.contains("Reported on your Twofold device"), "{}", first.output());
    let second = pamtester(&service, "liam", SSH, "");
    assert!(!second.success, "{}", second.output());
    assert!(second.stderr.contains("locked"), "{}", second.output());
    assert_eq!(device.seen().len(), 1, "the locked attempt must not reach the device");
}

#[test]
fn two_logins_at_once_the_second_is_refused_at_once_and_the_first_goes_on() {
    let server = Server::start(|_| {});
    let device = server.pair("mia", Answering::With(Answer::Allow));
    let config = server.config("");
    let service = PamService::new(&config.path, "mode=number");
    let first = Pamtester::start(&service, "mia", SSH);
    let line = first.wait_line("Choose ");
    let second = pamtester(&service, "mia", SSH, "");
    assert!(!second.success, "{}", second.output());
    assert!(second.stderr.contains("already waiting"), "{}", second.output());
    let number: u32 = line.split_whitespace().find_map(|word| word.parse().ok()).unwrap();
    device.numbers.send(number).unwrap();
    let first = first.finish();
    assert!(first.success, "{}", first.output());
}

/// An address nothing listens on.
fn closed_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}
