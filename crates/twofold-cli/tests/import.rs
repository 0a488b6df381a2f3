//! `twofold import` against the real Secret Service: other apps' exports, encrypted ones with their
//! password, duplicates and damaged entries.

#![allow(clippy::unwrap_used)] // fixture helpers: a failed step should stop the test loudly

mod support;

use aes_gcm::aead::{AeadInOut, KeyInit};
use sha2::{Digest, Sha256};
use support::{Env, all_files, text};

/// RFC 6238 appendix B's SHA1 key ("12345678901234567890") in base32.
const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// A plain Aegis vault (docs/vault.md) of a TOTP and an HOTP account; `bad_digits` damages the second.
fn aegis(bad_digits: bool) -> String {
    let digits = if bad_digits { "\"eight\"" } else { "8" };
    format!(
        r#"{{"version": 1, "header": {{"slots": null, "params": null}}, "db": {{"version": 3, "entries": [
            {{"type": "totp", "uuid": "a", "name": "alice", "issuer": "GitHub", "icon": null,
              "info": {{"secret": "{RFC_SECRET}", "algo": "SHA1", "digits": 8, "period": 30}}}},
            {{"type": "hotp", "uuid": "b", "name": "bob", "issuer": "Bank", "icon": null,
              "info": {{"secret": "JBSWY3DPEHPK3PXP", "algo": "SHA1", "digits": {digits}, "counter": 0}}}}
        ], "groups": []}}}}"#
    )
}

/// An andOTP backup encrypted the old way: IV, then AES-256-GCM under SHA-256(password). Its
/// bytes are random from the first, so it is imported with `--format andotp`.
fn andotp_encrypted(password: &str) -> Vec<u8> {
    let json = format!(
        r#"[{{"secret": "{RFC_SECRET}", "issuer": "Example", "label": "carol", "digits": 8,
             "type": "TOTP", "algorithm": "SHA1", "period": 30, "tags": []}}]"#
    );
    let key = Sha256::digest(password.as_bytes());
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
    let iv = [0xa7u8; 12];
    let mut sealed = json.into_bytes();
    let tag = cipher.encrypt_inout_detached(&iv.into(), &[], sealed.as_mut_slice().into()).unwrap();
    let mut file = iv.to_vec();
    file.extend_from_slice(&sealed);
    file.extend_from_slice(&tag);
    file
}

fn write(env: &Env, name: &str, bytes: &[u8]) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn aegis_export_imports_and_a_second_run_skips_duplicates() {
    let env = Env::new();
    let file = write(&env, "aegis-export.json", aegis(false).as_bytes());
    let first = env.run(&["import", &file], "");
    assert!(first.status.success(), "{}", text(&first.stderr));
    let said = text(&first.stdout);
    assert!(said.contains("Aegis export, 2 accounts read"), "{said}");
    assert!(said.contains("Added GitHub (alice)") && said.contains("Added Bank (bob)"), "{said}");
    // RFC 6238 appendix B, 8 digits at T = 59 s; RFC 4226 appendix D at counter 0, 6 of 8 digits.
    assert_eq!(env.ok(&["code", "GitHub", "--at", "59"], "").trim(), "94287082");
    assert!(env.ok(&["code", "Bank"], "").trim().len() == 8);

    let again = env.run(&["import", &file], "");
    assert!(again.status.success(), "duplicates are not a failure: {}", text(&again.stderr));
    let said = text(&again.stdout);
    assert!(said.contains("Skipped GitHub (alice): already in Twofold"), "{said}");
    assert!(said.contains("0 added, 2 already in Twofold, 0 could not be imported"), "{said}");
    assert_eq!(env.accounts().len(), 2);
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn encrypted_export_takes_its_password_from_stdin_and_tells_a_wrong_one() {
    let env = Env::new();
    let file = write(&env, "otp_accounts.json.aes", &andotp_encrypted("open sesame"));

    let none = env.run(&["import", &file, "--format", "andotp"], "");
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none.stderr).contains("this file is encrypted"), "{}", text(&none.stderr));

    let wrong =
        env.run(&["import", &file, "--format", "andotp", "--password-stdin"], "open sesame!\n");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong.stderr).contains("wrong password"), "{}", text(&wrong.stderr));
    assert!(env.accounts().is_empty());

    let right =
        env.run(&["import", &file, "--format", "andotp", "--password-stdin"], "open sesame\n");
    assert!(right.status.success(), "{}", text(&right.stderr));
    assert!(text(&right.stdout).contains("andOTP export, 1 accounts read"));
    assert_eq!(env.ok(&["code", "Example", "--at", "1111111109"], "").trim(), "07081804");

    // Neither the password nor the secret is written anywhere but the keyring.
    for out in [&none, &wrong, &right] {
        for said in [text(&out.stdout), text(&out.stderr)] {
            assert!(!said.contains(RFC_SECRET) && !said.contains("open sesame"), "{said}");
        }
    }
    for (path, bytes) in all_files(&env.data_dir()) {
        assert!(!text(&bytes).contains(RFC_SECRET), "secret found in {}", path.display());
    }
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn damaged_entry_is_reported_and_the_rest_added() {
    let env = Env::new();
    let file = write(&env, "aegis.json", aegis(true).as_bytes());
    let out = env.run(&["import", &file], "");
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stderr);
    assert!(said.contains("entry 2 (Bank (bob)): its \"digits\" is not a whole number"), "{said}");
    assert!(text(&out.stdout).contains("1 added, 0 already in Twofold, 1 could not be imported"));
    assert_eq!(env.accounts().len(), 1);
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn format_can_be_forced_and_unknown_files_are_named() {
    let env = Env::new();
    let file = write(&env, "aegis.json", aegis(false).as_bytes());
    let forced = env.run(&["import", &file, "--format", "2fas"], "");
    assert_eq!(forced.status.code(), Some(1));
    assert!(
        text(&forced.stderr).contains("this 2FAS export is damaged"),
        "{}",
        text(&forced.stderr)
    );
    let unknown = write(&env, "notes.txt", b"just some notes\n");
    let out = env.run(&["import", &unknown], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("does not recognise this file"), "{}", text(&out.stderr));
    let bad_name = env.run(&["import", &file, "--format", "nosuchapp"], "");
    assert_eq!(bad_name.status.code(), Some(2));
    assert!(env.accounts().is_empty());
}
