//! The CLI against the real Secret Service: secrets go to the keyring and nowhere else.

mod support;

use support::{Env, all_files, keyring_lookup, text};

/// RFC 6238 appendix B's SHA1 key ("12345678901234567890") in base32.
const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

#[test]
#[ignore = "needs the services scripts/test starts"]
fn add_code_remove_round_trip_keeps_secret_in_keyring_only() {
    let env = Env::new();
    let uri = format!(
        "otpauth://totp/Example:alice@example.com?secret={RFC_SECRET}&issuer=Example&digits=8"
    );
    let mut transcript = Vec::new();

    let added = env.run(&["add"], &uri);
    assert!(added.status.success(), "{}", text(&added.stderr));
    transcript.push(added);

    let accounts = env.accounts();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["issuer"], "Example");
    let id = accounts[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        keyring_lookup(&id).as_deref(),
        Some(RFC_SECRET),
        "the secret is in the real keyring"
    );

    // RFC 6238 appendix B: SHA1, T = 59 s → 94287082; T = 1111111109 → 07081804.
    for (at, expected) in [("59", "94287082"), ("1111111109", "07081804")] {
        let out = env.run(&["code", "example", "--at", at], "");
        assert_eq!(text(&out.stdout).trim(), expected);
        transcript.push(out);
    }
    let next = env.run(&["code", "Example", "--at", "29", "--next"], "");
    assert_eq!(text(&next.stdout).trim(), "94287082");
    transcript.push(next);
    transcript.push(env.run(&["list"], ""));
    transcript.push(env.run(&["export", "--format", "uris"], ""));
    transcript.push(env.run(&["check"], ""));

    // The secret (in any spelling) is in no file of the data dir and in no log line.
    let raw = "12345678901234567890";
    let spellings = [RFC_SECRET.to_owned(), RFC_SECRET.to_lowercase(), raw.to_owned()];
    for (path, bytes) in all_files(&env.data_dir()) {
        let content = text(&bytes);
        for s in &spellings {
            assert!(!content.contains(s.as_str()), "secret found in {}", path.display());
        }
    }
    let (export, logs): (Vec<_>, Vec<_>) =
        transcript.iter().enumerate().partition(|(i, _)| *i == transcript.len() - 2);
    let stderr_log: String = transcript.iter().map(|o| text(&o.stderr)).collect();
    assert!(stderr_log.contains("account added"), "TWOFOLD_LOG=trace was on: {stderr_log}");
    for (_, out) in &logs {
        for s in &spellings {
            assert!(
                !text(&out.stdout).contains(s.as_str()) && !text(&out.stderr).contains(s.as_str())
            );
        }
    }
    // Only export prints secrets, and it says so.
    let export = export[0].1;
    assert!(text(&export.stdout).contains(RFC_SECRET));
    assert!(text(&export.stderr).contains("holds your secrets"));

    env.ok(&["remove", "Example", "--yes"], "");
    assert_eq!(keyring_lookup(&id), None, "remove deletes the keyring entry");
    assert!(env.accounts().is_empty());
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn a_yandex_pin_lives_in_the_keyring_entry_beside_the_key_and_nowhere_else() {
    let env = Env::new();
    // Aegis's YAOTPTest vector: this key (26-byte form) and PIN give dfrpywob at 1581091469.
    let pin = "5210481216086702";
    let uri = "otpauth://yaotp/Yandex:alice?secret=JBGSAU4G7IEZG6OY4UAXX62JU4AAAAAAHTSG4HXU3M\
               &pin=GUZDCMBUHAYTEMJWGA4DMNZQGI&issuer=Yandex";
    env.ok(&["add"], uri);
    let id = env.accounts()[0]["id"].as_str().unwrap().to_owned();
    let stored = keyring_lookup(&id);
    assert_eq!(stored.as_deref(), Some(format!("JBGSAU4G7IEZG6OY4UAXX62JU4:{pin}").as_str()));
    let out = env.run(&["code", "yandex", "--at", "1581091469"], "");
    assert_eq!(text(&out.stdout).trim(), "dfrpywob", "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains(pin), "TWOFOLD_LOG=trace leaves the PIN out");
    for (path, bytes) in all_files(&env.data_dir()) {
        assert!(!text(&bytes).contains(pin), "the PIN is in {}", path.display());
    }
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn hotp_code_consumes_and_saves_the_counter() {
    let env = Env::new();
    env.ok(&["add"], &format!("otpauth://hotp/Bank:bob?secret={RFC_SECRET}&counter=0"));
    // RFC 4226 appendix D, counters 0, 1, 2.
    for expected in ["755224", "287082", "359152"] {
        assert_eq!(env.ok(&["code", "Bank"], "").trim(), expected);
    }
    assert_eq!(env.accounts()[0]["counter"], 3);
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn manual_add_reads_the_secret_from_stdin_and_refuses_duplicates() {
    let env = Env::new();
    env.ok(
        &["add", "--issuer", "Steam", "--account", "gabe", "--kind", "steam"],
        "JBSW Y3DP EHPK 3PXP\n",
    );
    let code = env.ok(&["code", "gabe"], "");
    assert_eq!(code.trim().len(), 5, "Steam codes have 5 characters: {code}");
    let dup = env.run(
        &["add", "--issuer", "Steam", "--account", "gabe", "--kind", "steam"],
        "jbswy3dpehpk3pxp\n",
    );
    assert_eq!(dup.status.code(), Some(1));
    assert!(text(&dup.stderr).contains("already in Twofold"), "{}", text(&dup.stderr));
    assert_eq!(env.accounts().len(), 1);
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn clear_errors_and_exit_codes() {
    let env = Env::new();
    env.ok(&["add"], &format!("otpauth://totp/GitHub:alice?secret={RFC_SECRET}"));
    env.ok(&["add"], "otpauth://totp/GitHub%20Enterprise:alice?secret=JBSWY3DPEHPK3PXP");

    let none = env.run(&["code", "gitlab"], "");
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none.stderr).contains("no account matches \"gitlab\""));

    let many = env.run(&["code", "alice"], "");
    assert_eq!(many.status.code(), Some(1));
    assert!(text(&many.stderr).contains("matches 2 accounts"), "{}", text(&many.stderr));
    // An exact issuer wins over a longer one that contains it.
    assert!(env.run(&["code", "github"], "").status.success());

    let bad = env.run(&["add"], "otpauth://totp/X:y?secret=not-base32!");
    assert_eq!(bad.status.code(), Some(1));
    assert!(!text(&bad.stderr).contains("not-base32!"), "errors never echo the secret");

    let usage = env.run(&["code"], "");
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn check_reports_orphans_and_missing_secrets_without_deleting() {
    let env = Env::new();
    env.ok(&["add"], &format!("otpauth://totp/A:a?secret={RFC_SECRET}"));
    let id = env.accounts()[0]["id"].as_str().unwrap().to_owned();
    assert!(env.run(&["check"], "").status.success());

    // An entry of this vault that no account names, and one of another vault sharing the keyring.
    let vault = std::fs::read_to_string(env.data_dir().join("vault-id")).unwrap();
    let orphan = "00000000-0000-4000-8000-000000000001";
    let elsewhere = "00000000-0000-4000-8000-000000000002";
    for (entry, vault) in
        [(orphan, vault.trim()), (elsewhere, "00000000-0000-4000-8000-0000000000ff")]
    {
        let stored = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "printf JBSWY3DPEHPK3PXP | secret-tool store --label orphan service twofold username {entry} twofold-vault {vault}"
            ))
            .status()
            .unwrap();
        assert!(stored.success());
    }
    let cleared = std::process::Command::new("secret-tool")
        .args(["clear", "service", "twofold", "username", &id])
        .status()
        .unwrap();
    assert!(cleared.success());

    let check = env.run(&["check"], "");
    assert_eq!(check.status.code(), Some(1));
    let report = text(&check.stdout);
    assert!(report.contains(orphan) && report.contains("belongs to no account"), "{report}");
    assert!(
        !report.contains(elsewhere),
        "another vault's entry is not this vault's orphan: {report}"
    );
    assert!(report.contains("A (a) has no secret in the keyring"), "{report}");
    assert_eq!(env.accounts().len(), 1, "the broken account is kept");
    assert!(keyring_lookup(orphan).is_some(), "the orphan is kept");

    let code = env.run(&["code", "A"], "");
    assert!(
        text(&code.stderr).contains("missing from the system keyring"),
        "{}",
        text(&code.stderr)
    );
    for entry in [orphan, elsewhere] {
        std::process::Command::new("secret-tool")
            .args(["clear", "service", "twofold", "username", entry])
            .status()
            .unwrap();
    }
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn export_then_import_moves_every_account_between_vaults() {
    let from = Env::new();
    from.ok(&["add"], &format!("otpauth://totp/GitHub:alice?secret={RFC_SECRET}&issuer=GitHub"));
    from.ok(&["add"], "otpauth://hotp/Bank:bob?secret=JBSWY3DPEHPK3PXP&counter=7&digits=8");
    from.ok(
        &["add"],
        "otpauth://totp/Work:carol?secret=GEZDGNBVGY3TQOJQ&algorithm=SHA512&period=60",
    );
    from.ok(
        &["add", "--issuer", "Steam", "--account", "gabe", "--kind", "steam"],
        "JBSWY3DPEHPK3PXP\n",
    );

    for format in ["uris", "migration"] {
        let export = from.run(&["export", "--format", format], "");
        assert!(export.status.success());
        let to = Env::new();
        let file = to.dir.path().join("export.txt");
        std::fs::write(&file, &export.stdout).unwrap();
        let imported = to.run(&["import", file.to_str().unwrap()], "");
        let expected = if format == "uris" { 4 } else { 2 };
        assert_eq!(to.accounts().len(), expected, "{format}: {}", text(&imported.stderr));
        // HOTP: the export carried the counter, so both sides hand out the same next code.
        assert_eq!(from.ok(&["code", "Bank"], ""), to.ok(&["code", "Bank"], ""));
        assert_eq!(
            from.ok(&["code", "GitHub", "--at", "1234567890"], ""),
            to.ok(&["code", "GitHub", "--at", "1234567890"], "")
        );
        if format == "uris" {
            assert!(imported.status.success(), "{}", text(&imported.stderr));
            assert_eq!(
                from.ok(&["code", "Work", "--at", "99"], ""),
                to.ok(&["code", "Work", "--at", "99"], "")
            );
            assert_eq!(
                from.ok(&["code", "gabe", "--at", "99"], ""),
                to.ok(&["code", "gabe", "--at", "99"], "")
            );
        } else {
            // Google's format has no Steam and no 60-second period: said on stderr, never silently.
            let said = text(&export.stderr);
            assert!(said.contains("Steam accounts cannot be exported"), "{said}");
            assert!(said.contains("60-second period cannot be exported"), "{said}");
        }
    }
}

#[test]
#[ignore = "needs the services scripts/test starts"]
fn import_reports_bad_lines_and_adds_the_rest() {
    let env = Env::new();
    let file = env.dir.path().join("list.txt");
    std::fs::write(
        &file,
        format!("# my codes\notpauth://totp/A:a?secret={RFC_SECRET}\nnot a uri\notpauth://totp/B:b?secret=JBSWY3DPEHPK3PXP&digits=11\n"),
    )
    .unwrap();
    let out = env.run(&["import", file.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stderr);
    assert!(said.contains("line 3:") && said.contains("line 4:"), "{said}");
    assert_eq!(env.accounts().len(), 1);
}
