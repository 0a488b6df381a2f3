//! Crash consistency: `twofold add` processes killed (SIGKILL) at random moments never lose an
//! account added before, and never leave metadata that does not parse or an account silently
//! without its secret; with the secrets in the keyring and with them in the vault's file.

#![allow(clippy::unwrap_used)] // a failed step should stop the test loudly

mod support;

use std::time::Duration;

use rand::{Rng, SeedableRng};
use support::{Env, keyring_lookup, text};

#[test]
#[ignore = "needs the services scripts/test starts"]
fn sigkill_during_add_loses_nothing() {
    let env = Env::new();
    kill_adds(&env, |_, id| keyring_lookup(id));
}

#[test]
fn sigkill_during_add_to_a_file_vault_loses_nothing() {
    let env = Env::with_file_vault();
    kill_adds(&env, |env, id| env.file_lookup(id));
    // Every write of the file went whole: it still opens, and its own leftovers went too.
    let leftovers: Vec<_> = std::fs::read_dir(env.data_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Adds killed at random moments, then checks nothing was lost; `lookup` reads a stored secret.
fn kill_adds(env: &Env, lookup: impl Fn(&Env, &str) -> Option<String>) {
    let seed: u64 = std::env::var("TWOFOLD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
                as u64
        });
    eprintln!("crash loop seed: {seed} (rerun with TWOFOLD_CRASH_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let before: Vec<String> = (0..5)
        .map(|i| {
            let secret = format!("BEFORE{}AAAAAAAAA", ["A", "B", "C", "D", "E"][i]);
            env.ok(&["add"], &format!("otpauth://totp/Before:{i}?secret={secret}"));
            secret
        })
        .collect();
    let kept = env.accounts();

    // How long one add takes here, so kills land across all of its phases.
    let started = std::time::Instant::now();
    env.ok(&["add"], "otpauth://totp/Timing:t?secret=TIMINGAAAAAAAAAA");
    let span = started.elapsed().as_micros().max(1000) as u64;

    let (mut killed, mut finished) = (0, 0);
    for i in 0..60 {
        let secret: String =
            (0..16).map(|_| char::from(b'A' + rng.random_range(0..26u8))).collect();
        let mut child = env.spawn(&["add"], &format!("otpauth://totp/Loop:{i}?secret={secret}"));
        std::thread::sleep(Duration::from_micros(rng.random_range(0..span * 12 / 10)));
        match child.try_wait().unwrap() {
            Some(_) => finished += 1,
            None => {
                child.kill().unwrap(); // SIGKILL on Unix
                killed += 1;
            }
        }
        child.wait().unwrap();
    }
    eprintln!("{killed} adds killed, {finished} finished first (one add ≈ {span} µs)");
    assert!(killed >= 10, "the loop must actually interrupt adds (killed {killed})");

    let metadata = std::fs::read_to_string(env.metadata()).unwrap();
    let parsed: serde_json::Value =
        serde_json::from_str(&metadata).expect("metadata parses after the kills");
    assert_eq!(parsed["version"], 1);

    let accounts = env.accounts();
    for old in &kept {
        assert!(accounts.contains(old), "account added before the loop was lost: {old}");
    }
    for (i, secret) in before.iter().enumerate() {
        let id = kept[i]["id"].as_str().unwrap();
        assert_eq!(lookup(env, id).as_deref(), Some(secret.as_str()));
        assert!(env.run(&["code", id], "").status.success());
    }

    let check = env.run(&["check"], "");
    let report = text(&check.stdout);
    for account in &accounts {
        let id = account["id"].as_str().unwrap();
        let label = format!(
            "{} ({})",
            account["issuer"].as_str().unwrap(),
            account["name"].as_str().unwrap()
        );
        assert!(
            lookup(env, id).is_some() || report.contains(&format!("{label} has no secret")),
            "{label} lost its secret without being reported"
        );
    }
    // The next write cleans temporary files that killed writers left behind.
    env.ok(&["add"], "otpauth://totp/After:x?secret=AFTERAAAAAAAAAAA");
    let leftovers: Vec<_> = std::fs::read_dir(env.data_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    eprintln!("{} accounts after the loop; check said: {}", env.accounts().len(), report.trim());
}
