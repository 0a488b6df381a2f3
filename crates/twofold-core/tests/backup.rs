//! Twofold's backup file: round trips into a fresh vault (compared by secret and by generated code),
//! a wrong passphrase, damaged and truncated files, a newer version, and reading through `import`.

#![allow(clippy::unwrap_used)]

mod backup_support;

use backup_support::{Memory, assert_same, credentials, vault};
use twofold_core::backup::{self, BackupError, Entry, HEADER_LEN, KdfCost, Sealing};
use twofold_core::import::{self, Detected, Format, ImportError, Password};
use twofold_core::vault::{AccountEdit, Vault};
use twofold_core::{Account, Credential};

/// Cheap Argon2 settings so the many files here are quick; the format is the same at any cost.
const CHEAP: KdfCost = KdfCost { memory_kib: 256, passes: 1, lanes: 1 };
const PASSPHRASE: &str = "correct horse battery staple";

fn password(text: &str) -> Password {
    Password::new(text.to_owned())
}

fn sealing() -> Sealing {
    Sealing::fresh(CHEAP).unwrap()
}

/// A backup of `credentials()` taken from a vault, as the CLI and the app make them.
fn backup_file() -> (Vec<Entry>, Vec<u8>) {
    let (_dir, vault) = vault();
    for c in credentials() {
        vault.add(c, 1_700_000_000).unwrap();
    }
    let first = vault.accounts().unwrap()[0].id;
    let tags = Some(vec!["work".to_owned(), "code".to_owned()]);
    vault.edit(first, AccountEdit { tags, ..AccountEdit::default() }).unwrap();
    let (entries, missing) = backup::snapshot(&vault).unwrap();
    assert!(missing.is_empty());
    let bytes = backup::write(&entries, &password(PASSPHRASE), 1_795_484_439, &sealing()).unwrap();
    (entries, bytes)
}

fn credentials_of(accounts: &[Account], vault: &Vault<Memory>) -> Vec<Credential> {
    accounts.iter().map(|a| a.to_credential(vault.secret(a).unwrap())).collect()
}

#[test]
fn backup_restores_into_a_fresh_vault_with_the_same_secrets_and_codes() {
    let (entries, bytes) = backup_file();
    let opened = backup::read(&bytes, &password(PASSPHRASE)).unwrap();
    assert_eq!(opened.entries, entries, "metadata (ids, order, dates) and secrets come back whole");
    assert_eq!(opened.header.created, 1_795_484_439);
    assert_eq!(opened.header.accounts, 8);

    let (_dir, fresh) = vault();
    let restored = backup::restore(&fresh, &opened.entries, 1_800_000_000).unwrap();
    assert_eq!(restored.added.len(), 8);
    assert!(restored.duplicates.is_empty() && restored.refused.is_empty());
    let accounts = fresh.accounts().unwrap();
    assert_same(&credentials_of(&accounts, &fresh), &credentials());
    assert_eq!(accounts[0].tags, ["work", "code"], "tags come back");
    assert!(accounts[1..].iter().all(|a| a.tags.is_empty()));
}

#[test]
fn restoring_twice_reports_every_account_as_a_duplicate() {
    let (_, bytes) = backup_file();
    let opened = backup::read(&bytes, &password(PASSPHRASE)).unwrap();
    let (_dir, target) = vault();
    let first = target.add(credentials().remove(0), 1).unwrap();
    let restored = backup::restore(&target, &opened.entries, 2).unwrap();
    assert_eq!(restored.added.len(), 7);
    assert_eq!(restored.duplicates, vec![("GitHub (alice@example.com)".to_owned(), first.id)]);
    let again = backup::restore(&target, &opened.entries, 3).unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.duplicates.len(), 8);
    assert_eq!(target.accounts().unwrap().len(), 8);
}

#[test]
fn a_wrong_passphrase_is_told_apart_from_damage() {
    let (_, bytes) = backup_file();
    for wrong in ["correct horse battery stapler", "", "CORRECT HORSE BATTERY STAPLE"] {
        let err = backup::read(&bytes, &password(wrong)).unwrap_err();
        assert!(matches!(err, BackupError::WrongPassphrase), "{wrong:?}: {err}");
        assert_eq!(err.to_string(), "wrong passphrase: it does not open this backup");
    }
}

#[test]
fn every_changed_byte_is_noticed() {
    let (_, bytes) = backup_file();
    // Every header byte and a spread of payload and tag bytes, each flipped on its own.
    let positions: Vec<usize> = (0..HEADER_LEN)
        .chain((HEADER_LEN..bytes.len()).step_by(37))
        .chain([bytes.len() - 1])
        .collect();
    for at in positions {
        let mut changed = bytes.clone();
        changed[at] ^= 0x20;
        let err = backup::read(&changed, &password(PASSPHRASE)).unwrap_err();
        match at {
            0..=7 => assert!(matches!(err, BackupError::NotABackup), "byte {at}: {err}"),
            8 | 9 => assert!(
                matches!(err, BackupError::NewerVersion { .. } | BackupError::Damaged { .. }),
                "byte {at}: {err}"
            ),
            // The salt and Argon2 settings feed the key: a change reads as a wrong passphrase
            // (or, for the settings, as costlier than allowed).
            11..=38 | 76..=91 => assert!(
                matches!(
                    err,
                    BackupError::WrongPassphrase
                        | BackupError::TooCostly { .. }
                        | BackupError::Damaged { .. }
                ),
                "byte {at}: {err}"
            ),
            _ => assert!(matches!(err, BackupError::Damaged { .. }), "byte {at}: {err}"),
        }
    }
}

#[test]
fn a_changed_payload_says_the_passphrase_was_right() {
    let (_, mut bytes) = backup_file();
    let last = bytes.len() - 20;
    bytes[last] ^= 1;
    let err = backup::read(&bytes, &password(PASSPHRASE)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this backup is damaged: its contents were cut short or changed after it was written (the \
         passphrase is right)"
    );
}

#[test]
fn truncated_files_are_damaged_at_every_length() {
    let (_, bytes) = backup_file();
    for len in (8..bytes.len()).step_by(7).chain([HEADER_LEN, HEADER_LEN + 15, bytes.len() - 1]) {
        let err = backup::read(&bytes[..len], &password(PASSPHRASE)).unwrap_err();
        assert!(matches!(err, BackupError::Damaged { .. }), "{len} bytes: {err}");
        assert!(err.to_string().starts_with("this backup is damaged: it"), "{err}");
    }
    for len in 0..8 {
        assert!(matches!(
            backup::read(&bytes[..len], &password(PASSPHRASE)),
            Err(BackupError::NotABackup)
        ));
    }
}

#[test]
fn a_newer_version_is_refused_with_a_plain_message() {
    let (_, mut bytes) = backup_file();
    bytes[8..10].copy_from_slice(&2u16.to_be_bytes());
    // Only magic and version are read: a newer layout may differ in everything after them.
    bytes.truncate(10);
    let err = backup::read(&bytes, &password(PASSPHRASE)).unwrap_err();
    assert!(matches!(err, BackupError::NewerVersion { found: 2 }), "{err}");
    assert_eq!(
        err.to_string(),
        "this backup was made by a newer Twofold (backup format 2; this one reads up to 1): update \
         Twofold to restore it"
    );
    assert!(matches!(backup::inspect(&bytes), Err(BackupError::NewerVersion { found: 2 })));
}

#[test]
fn absurd_key_derivation_costs_are_refused_before_any_work() {
    let (_, mut bytes) = backup_file();
    bytes[11..15].copy_from_slice(&u32::MAX.to_be_bytes());
    let err = backup::read(&bytes, &password(PASSPHRASE)).unwrap_err();
    assert!(matches!(err, BackupError::TooCostly { .. }), "{err}");
    assert!(err.to_string().contains("4294967295 KiB"), "{err}");
}

#[test]
fn the_header_lists_date_and_count_without_the_passphrase() {
    let (_, bytes) = backup_file();
    let header = backup::inspect(&bytes).unwrap();
    assert_eq!((header.created, header.accounts, header.cost), (1_795_484_439, 8, CHEAP));
}

#[test]
fn files_hold_no_secret_or_name_in_clear_and_never_repeat() {
    let (entries, bytes) = backup_file();
    let again = backup::write(&entries, &password(PASSPHRASE), 1_795_484_439, &sealing()).unwrap();
    assert_ne!(bytes, again, "a fresh salt and nonce each time");
    for needle in [&b"Hello!\xde\xad\xbe\xef"[..], b"JBSWY3DPEHPK3PXP", b"GitHub", b"alice"] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{needle:?} in clear");
    }
    assert!(matches!(
        backup::write(&entries, &password(""), 0, &sealing()),
        Err(BackupError::EmptyPassphrase)
    ));
}

#[test]
fn import_recognises_backups_and_asks_for_the_passphrase() {
    let (_, bytes) = backup_file();
    assert_eq!(import::detect(&bytes), Ok(Detected { format: Format::Twofold, encrypted: true }));
    assert_eq!("twofold".parse::<Format>(), Ok(Format::Twofold));
    assert_eq!(Format::Twofold.read(&bytes, None).unwrap_err(), ImportError::PasswordNeeded);
    assert_eq!(
        Format::Twofold.read(&bytes, Some(&password("nope"))).unwrap_err(),
        ImportError::WrongPassword { format: Format::Twofold }
    );
    let imported = Format::Twofold.read(&bytes, Some(&password(PASSPHRASE))).unwrap();
    assert!(imported.errors.is_empty());
    assert_same(&imported.credentials, &credentials());
    let err = Format::Twofold.read(&bytes[..bytes.len() - 3], Some(&password(PASSPHRASE)));
    assert!(matches!(err, Err(ImportError::Damaged { format: Some(Format::Twofold), .. })));
}

#[test]
fn an_empty_vault_backs_up_and_restores_to_nothing() {
    let bytes = backup::write(&[], &password(PASSPHRASE), 5, &sealing()).unwrap();
    let opened = backup::read(&bytes, &password(PASSPHRASE)).unwrap();
    assert!(opened.entries.is_empty());
    assert_eq!(opened.header.accounts, 0);
}
