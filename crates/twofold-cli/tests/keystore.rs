//! `twofold keystore move` against the real keyring (gnome-keyring under `scripts/with-services`):
//! 100 accounts go into the vault's file and back, none lost, none left behind; moves killed
//! (SIGKILL) at random moments leave the vault whole in one keystore or the other.

#![allow(clippy::unwrap_used)] // a failed step should stop the test loudly

mod support;

use support::{Env, keyring_lookup, text};

/// Taken by each test here: killing a keyring client mid-call can make gnome-keyring-daemon abort
/// (D-Bus starts it again), which would fail the other test's keyring calls meanwhile.
static KEYRING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    KEYRING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn move_keyring_to_file_and_back_with_100_accounts() {
    let _serial = one_at_a_time();
    let mut env = Env::new();
    const FILE_PASSPHRASE: &str = "a long file passphrase";
    let letter = |n: usize| char::from(b'A' + (n % 26) as u8);
    let uris: String = (0..100)
        .map(|i| {
            format!(
                "otpauth://totp/Move{i}:user{i}?secret=GEZDGNBVGY3TQO{}{}\n",
                letter(i / 26),
                letter(i)
            )
        })
        .collect();
    env.ok(&["add"], &uris);
    let accounts = env.accounts();
    assert_eq!(accounts.len(), 100);
    let before: Vec<(String, String)> = accounts
        .iter()
        .map(|a| {
            let id = a["id"].as_str().unwrap().to_owned();
            let secret = keyring_lookup(&id).unwrap();
            (id, secret)
        })
        .collect();
    let code_at = |env: &Env| env.ok(&["code", "Move42", "--at", "1000000000"], "");
    let code = code_at(&env);

    let pass = env.dir.path().join("passphrase");
    std::fs::write(&pass, format!("{FILE_PASSPHRASE}\n")).unwrap();
    env.passphrase_file = Some(pass);
    let said = env.ok(&["keystore", "move", "file"], "");
    assert!(said.contains("Moved 100 account secrets, 0 trusted-device keys"), "{said}");
    for (id, secret) in &before {
        assert_eq!(keyring_lookup(id), None, "{id} stayed in the keyring");
        assert_eq!(env.file_lookup_with(id, FILE_PASSPHRASE).as_ref(), Some(secret));
    }
    assert_eq!(code_at(&env), code);
    assert!(env.ok(&["check"], "").contains("100 accounts, all with their secret"));
    let out = env.run(&["keystore", "move", "file"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already in the encrypted secrets file"));

    env.ok(&["keystore", "move", "keyring"], "");
    assert!(!env.data_dir().join("secrets.twofold").exists());
    for (id, secret) in &before {
        assert_eq!(keyring_lookup(id).as_ref(), Some(secret));
    }
    env.passphrase_file = None;
    assert_eq!(code_at(&env), code);
    assert!(env.ok(&["keystore", "show"], "").starts_with("keyring"));
    for (id, _) in &before {
        env.ok(&["remove", id, "--yes"], "");
    }
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn sigkill_during_keystore_moves_loses_nothing() {
    let _serial = one_at_a_time();
    use rand::{Rng, SeedableRng};
    let seed: u64 = std::env::var("TWOFOLD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
                as u64
        });
    eprintln!("crash loop seed: {seed} (rerun with TWOFOLD_CRASH_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let mut env = Env::new();
    let uris: String = (0..20)
        .map(|i| {
            format!("otpauth://totp/Killed{i}:user?secret=JBSWY3DPEHPK3P{}A\n", (b'A' + i) as char)
        })
        .collect();
    env.ok(&["add"], &uris);
    let pass = env.dir.path().join("passphrase");
    std::fs::write(&pass, "a long file passphrase\n").unwrap();
    env.passphrase_file = Some(pass);
    let code_at = |env: &Env| env.ok(&["code", "Killed7", "--at", "1000000000"], "");
    let code = code_at(&env);
    let whole = |env: &Env| {
        let said = env.ok(&["check"], "");
        assert!(said.contains("20 accounts, all with their secret"), "{said}");
        assert_eq!(code_at(env), code);
    };
    let place = |env: &Env| env.ok(&["keystore", "show"], "")[..4].to_owned();

    // How long one move takes here, so kills land across all of its steps and some moves finish
    // (then the next goes the other way).
    let started = std::time::Instant::now();
    env.ok(&["keystore", "move", "file"], "");
    let span = started.elapsed().as_micros() as u64;
    env.ok(&["keystore", "move", "keyring"], "");

    let (mut killed, mut finished) = (0, 0);
    for _ in 0..16 {
        let to = if place(&env) == "file" { "keyring" } else { "file" };
        let mut child = env.spawn(&["keystore", "move", to], "");
        std::thread::sleep(std::time::Duration::from_micros(rng.random_range(0..span * 2)));
        match child.try_wait().unwrap() {
            Some(_) => finished += 1,
            None => {
                child.kill().unwrap(); // SIGKILL on Unix
                killed += 1;
            }
        }
        child.wait().unwrap();
        // Whichever keystore the vault names now holds every secret.
        whole(&env);
    }
    eprintln!("{killed} moves killed, {finished} finished first (one move ≈ {span} µs)");
    assert!(killed >= 5, "the loop must actually interrupt moves (killed {killed})");

    if place(&env) == "file" {
        env.ok(&["keystore", "move", "keyring"], "");
    }
    whole(&env);
    for account in env.accounts() {
        env.ok(&["remove", account["id"].as_str().unwrap(), "--yes"], "");
    }
}
