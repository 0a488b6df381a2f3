//! Figures for BENCHMARKS.md ("Trusted device"): time from a sign-in being created to its update
//! on the device's channel over loopback (p50/p99 over 200), and the resident memory of a process
//! holding three paired servers idle. Needs the keyring:
//!
//! `scripts/with-services cargo run -p twofold-device --example figures`
//!
//! Prints figures; asserts no timing.

#![allow(clippy::unwrap_used, clippy::print_stdout)] // a measuring tool, not library code

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{Server, TestDevice, signin};
use twofold_core::keystore::OsKeystore;
use twofold_device::{Device, Supervisor, Update};
use twofold_protocol::{Answer, Mode};

const REQUESTS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// The child: a process that only holds the paired servers of `dir`, measured once idle.
async fn idle(dir: &str) {
    let device = Device::open(dir, OsKeystore::device_keys()).unwrap();
    let (supervisor, mut updates) =
        Supervisor::start(Arc::new(device), tokio::runtime::Handle::current()).unwrap();
    while !supervisor.servers().unwrap().iter().all(|s| s.state == "connected") {
        let _: Option<Update> = updates.recv().await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let rss = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let threads = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
    println!("{rss}\n{threads}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, dir] = args.as_slice()
        && mode == "idle"
    {
        idle(dir).await;
        return;
    }
    let servers: Vec<Server> = (0..3)
        .map(|_| {
            Server::start_with(|s| {
                s.limits.signins_per_user = 10_000;
                s.limits.signins_per_ip = 10_000;
            })
        })
        .collect();
    let mut device = TestDevice::new();
    let mut services = Vec::new();
    for (n, server) in servers.iter().enumerate() {
        let service = server.service(&format!("Service {n}"));
        device.pair(&service, "alice").await;
        services.push(service);
    }

    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let start = Instant::now();
        services[0].create_signin(&signin("alice", Mode::Push)).await.unwrap();
        let view = device.next_request().await;
        times.push(start.elapsed());
        device.device().decide(view.server, view.id, Answer::Allow, None).await.unwrap();
    }
    times.sort();
    println!(
        "sign-in created -> update on the channel, loopback, {REQUESTS} requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
    );

    let dir = device.device().dir().to_owned();
    device.supervisor.stop();
    let child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .arg("idle")
        .arg(&dir)
        .output()
        .await
        .unwrap();
    let report = String::from_utf8_lossy(&child.stdout);
    println!("a process holding three paired servers idle (3 s after connecting):");
    print!("{report}");
    drop(servers);
}
