//! `twofold keystore move` against the real keyring (gnome-keyring under `scripts/with-services`):
//! 100 accounts go into the vault's file and back, none lost, none left behind.

#![allow(clippy::unwrap_used)] // a failed step should stop the test loudly

mod support;

use support::{Env, keyring_lookup, text};

#[test]
#[ignore = "needs the services scripts/test starts"]
fn move_keyring_to_file_and_back_with_100_accounts() {
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
