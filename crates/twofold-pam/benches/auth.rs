//! What a login pays for pam_twofold, against a real server on loopback and a paired device that
//! allows at once:
//! - authenticate → request on the device: from the start of `core::authenticate` to the device
//!   holding the verified request (what the desktop app turns into its notification);
//! - the module's own CPU time per authentication (its thread's, from /proc/thread-self/schedstat:
//!   the server and the device run on other threads);
//! - a whole `pamtester` login (fork, exec, libpam loading pam_twofold.so, the approval), wall time.
//!
//! Run: `cargo bench -p twofold-pam --bench auth` (as root: pamtester's PAM service file goes in
//! /etc/pam.d). Prints figures; asserts nothing about time.

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use pam_twofold::{ApprovalServer, Config, Conversation, ConversationError, Login, authenticate};
use support::{Answering, PamService, Server};
use twofold_protocol::Answer;
use zeroize::Zeroizing;

const ROUNDS: usize = 50;

struct Silent;

impl Conversation for Silent {
    fn info(&mut self, _: &str) -> Result<(), ConversationError> {
        Ok(())
    }
    fn error(&mut self, _: &str) -> Result<(), ConversationError> {
        Ok(())
    }
    fn prompt(&mut self, _: &str) -> Result<Zeroizing<String>, ConversationError> {
        Err(ConversationError)
    }
}

/// CPU time this thread has run, from the kernel's scheduler statistics.
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    Duration::from_nanos(text.split_whitespace().next().unwrap().parse().unwrap())
}

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name}: p50 {:.2} ms, p90 {:.2} ms, max {:.2} ms ({} runs)",
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
        samples.len()
    );
}

fn main() {
    let server = Server::start(|settings| {
        settings.limits.signins_per_user = 10_000;
        settings.limits.signins_per_ip = 10_000;
    });
    let device = server.pair("alice", Answering::With(Answer::Allow));
    let text = format!("server = \"{}\"\napi_key = \"{}\"\n", server.url, server.api_key);
    let config = Config::parse(Path::new("bench.toml"), &text, &[]).unwrap();
    let login = Login {
        user: "alice".into(),
        service: "sshd".into(),
        host: "build-01".into(),
        tty: Some("ssh".into()),
        rhost: Some("127.0.0.1".into()),
    };
    let (mut to_device, mut cpu, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let started = Instant::now();
        let cpu_before = thread_cpu();
        let approval = ApprovalServer::new(&config).unwrap();
        let verdict = authenticate(&config, &login, &approval, &mut Silent);
        cpu.push(thread_cpu() - cpu_before);
        whole.push(started.elapsed());
        assert!(verdict.outcome.allows(), "{verdict:?}");
        let seen_at = device.seen_at(round);
        to_device.push(seen_at.saturating_duration_since(started));
    }
    println!(
        "pam_twofold, {ROUNDS} authentications (debug or release as built; shared, busy 2-core machine)"
    );
    summary("authenticate → request verified on the device", to_device);
    summary("module CPU time per authentication", cpu);
    summary("authenticate → allowed (device answers at once)", whole);

    let file = server.config("");
    let service = PamService::new(&file.path, "");
    let mut pamtester = Vec::new();
    for _ in 0..20 {
        let run = support::pamtester(&service, "alice", &["rhost=127.0.0.1"], "");
        assert!(run.success, "{}", run.output());
        pamtester.push(run.elapsed);
    }
    summary("pamtester login, process start to exit", pamtester);
}
