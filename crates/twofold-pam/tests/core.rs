//! The authentication without libpam: `core::authenticate` with conversations a test controls,
//! against a real server on loopback and a paired device.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use pam_twofold::{
    ApprovalServer, Config, Conversation, ConversationError, Login, Outcome, authenticate,
};
use support::{Answering, Server};
use twofold_protocol::Answer;
use zeroize::Zeroizing;

/// A conversation that cannot show text or ask anything (a non-interactive client).
struct Mute;

impl Conversation for Mute {
    fn info(&mut self, _: &str) -> Result<(), ConversationError> {
        Err(ConversationError)
    }
    fn error(&mut self, _: &str) -> Result<(), ConversationError> {
        Err(ConversationError)
    }
    fn prompt(&mut self, _: &str) -> Result<Zeroizing<String>, ConversationError> {
        Err(ConversationError)
    }
}

/// A conversation that records what it is told.
#[derive(Default)]
struct Recorder(Vec<String>);

impl Conversation for Recorder {
    fn info(&mut self, text: &str) -> Result<(), ConversationError> {
        self.0.push(format!("info: {text}"));
        Ok(())
    }
    fn error(&mut self, text: &str) -> Result<(), ConversationError> {
        self.0.push(format!("error: {text}"));
        Ok(())
    }
    fn prompt(&mut self, text: &str) -> Result<Zeroizing<String>, ConversationError> {
        self.0.push(format!("prompt: {text}"));
        Ok(Zeroizing::new(String::new()))
    }
}

fn setup(server: &Server, extra: &str) -> (Config, ApprovalServer) {
    let text = format!("server = \"{}\"\napi_key = \"{}\"\n{extra}", server.url, server.api_key);
    let config = Config::parse(Path::new("test.toml"), &text, &[]).unwrap();
    let approval = ApprovalServer::new(&config).unwrap();
    (config, approval)
}

fn login(user: &str) -> Login {
    Login {
        user: user.into(),
        service: "sshd".into(),
        host: "build-01".into(),
        tty: Some("ssh".into()),
        rhost: Some("127.0.0.1".into()),
    }
}

#[test]
fn a_conversation_that_cannot_show_text_still_gets_the_device_asked() {
    let server = Server::start(|_| {});
    let device = server.pair("alice", Answering::With(Answer::Allow));
    let (config, approval) = setup(&server, "");
    let verdict = authenticate(&config, &login("alice"), &approval, &mut Mute);
    assert_eq!(verdict.outcome, Outcome::Allowed);
    let seen = device.wait_seen(1);
    assert_eq!(seen[0].context.as_deref(), Some("SSH login as alice to build-01 from 127.0.0.1"));
}

#[test]
fn a_conversation_that_cannot_ask_ends_the_fallback_as_a_timeout() {
    let server = Server::start(|_| {});
    let _device = server.pair("bob", Answering::Never);
    let (config, approval) = setup(&server, "timeout = 1\n");
    let verdict = authenticate(&config, &login("bob"), &approval, &mut Mute);
    assert_eq!(verdict.outcome, Outcome::TimedOut);
}

#[test]
fn the_person_is_told_what_to_do_and_how_it_ended() {
    let server = Server::start(|_| {});
    let _device = server.pair("carol", Answering::With(Answer::Deny));
    let (config, approval) = setup(&server, "");
    let mut recorder = Recorder::default();
    let verdict = authenticate(&config, &login("carol"), &approval, &mut recorder);
    assert_eq!(verdict.outcome, Outcome::Denied);
    assert_eq!(
        recorder.0,
        ["info: Approve on your Twofold device…", "error: Denied on your Twofold device."]
    );
}

#[test]
fn users_are_mapped_to_their_twofold_names() {
    let server = Server::start(|_| {});
    let device = server.pair("alice", Answering::With(Answer::Allow));
    let (config, approval) = setup(&server, "[users]\nroot = \"alice\"\n");
    let verdict = authenticate(&config, &login("root"), &approval, &mut Mute);
    assert_eq!(verdict.outcome, Outcome::Allowed);
    let seen = device.wait_seen(1);
    assert_eq!(seen[0].user, "alice");
    assert!(seen[0].context.as_deref().unwrap_or("").starts_with("SSH login as root"));
}

#[test]
fn a_wrong_api_key_is_a_configuration_error_even_with_failmode_open() {
    let server = Server::start(|_| {});
    let text = format!(
        "server = \"{}\"\napi_key = \"tfk_not_a_key_xyz\"\nfailmode = \"open\"\n",
        server.url
    );
    let config = Config::parse(Path::new("test.toml"), &text, &[]).unwrap();
    let approval = ApprovalServer::new(&config).unwrap();
    let verdict = authenticate(&config, &login("dave"), &approval, &mut Mute);
    assert_eq!(verdict.outcome, Outcome::Misconfigured);
    assert!(!verdict.detail.unwrap_or_default().contains("xyz"));
}
