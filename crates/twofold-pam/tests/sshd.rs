//! A real sshd with pam_twofold and a real ssh client (support/sshd.rs): the login succeeds only
//! after Allow on the device, and the device saw what it was asked.

#![allow(clippy::unwrap_used)]

mod support;

use support::sshd::Sshd;
use support::{Answering, ConfigFile, Server};
use twofold_protocol::Answer;

/// The config for `server`, mapping root (whom ssh logs in as) to the Twofold user `user`.
fn config_for(server: &Server, user: &str, extra: &str) -> ConfigFile {
    server.config(&format!("{extra}[users]\nroot = \"{user}\"\n"))
}

#[test]
fn ssh_login_succeeds_only_after_allow_and_the_device_saw_the_ssh_login() {
    let server = Server::start(|_| {});
    let device = server.pair("alice", Answering::With(Answer::Allow));
    let config = config_for(&server, "alice", "");
    let sshd = Sshd::start(&config.path, "");
    let (ok, output) = sshd.login();
    assert!(ok, "{output}\nsshd:\n{}", sshd.log_text());
    let seen = device.wait_seen(1);
    assert_eq!(
        seen[0].context.as_deref(),
        Some("SSH login as root to build-01 from 127.0.0.1"),
        "{seen:?}"
    );
    assert_eq!(seen[0].ip.to_string(), "127.0.0.1");
}

#[test]
fn ssh_login_fails_after_dont_allow() {
    let server = Server::start(|_| {});
    let device = server.pair("bob", Answering::With(Answer::Deny));
    let config = config_for(&server, "bob", "");
    let sshd = Sshd::start(&config.path, "");
    let (ok, output) = sshd.login();
    assert!(!ok, "{output}");
    assert!(output.contains("Permission denied"), "{output}");
    assert_eq!(device.wait_seen(1).len(), 1);
}

#[test]
fn a_prompt_that_nobody_can_answer_still_waits_for_the_device() {
    // prompt=yes asks "… then press Enter"; the ssh client has no terminal to ask on.
    let server = Server::start(|_| {});
    let _device = server.pair("carol", Answering::With(Answer::Allow));
    let config = config_for(&server, "carol", "");
    let sshd = Sshd::start(&config.path, "prompt=yes");
    let (ok, output) = sshd.login();
    assert!(ok, "{output}\nsshd:\n{}", sshd.log_text());
}

#[test]
fn ssh_to_a_server_that_answers_slowly_is_refused_in_bounded_time() {
    // Accepts connections and never answers: the module gives up after its own timeouts.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = ConfigFile::write(&format!(
        "server = \"http://{}/\"\napi_key = \"k\"\nconnect_timeout = 1\n",
        listener.local_addr().unwrap()
    ));
    let sshd = Sshd::start(&config.path, "");
    let (ok, output) = sshd.login();
    assert!(!ok, "{output}");
    assert!(output.contains("Permission denied"), "{output}");
    // sshd is still there and answers the next connection.
    assert!(std::net::TcpStream::connect(("127.0.0.1", sshd.port)).is_ok());
    drop(listener);
}

#[test]
fn two_ssh_logins_at_once_ask_the_device_once_and_both_end() {
    let server = Server::start(|_| {});
    let device = server.pair("dave", Answering::Never);
    let config = config_for(&server, "dave", "timeout = 3\noffline_codes = false\n");
    let sshd = Sshd::start(&config.path, "");
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| sshd.login());
        let second = scope.spawn(|| sshd.login());
        (first.join().unwrap(), second.join().unwrap())
    });
    assert!(!first.0, "{}", first.1);
    assert!(!second.0, "{}", second.1);
    // One request waits for the person; every other attempt was refused without reaching them.
    assert_eq!(device.seen().len(), 1, "{:?}", device.seen());
}
