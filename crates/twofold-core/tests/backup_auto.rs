//! Automatic backups: written after each change (add, remove, rename), pruned to the newest N,
//! listed with dates and counts, restorable, and off unless turned on.

#![allow(clippy::unwrap_used)]

mod backup_support;

use std::path::PathBuf;

use backup_support::{assert_same, credentials, credentials_without_pins, vault};
use twofold_core::backup::{self, BackupError, auto};
use twofold_core::import::Password;

const PASSPHRASE: &str = "automatic backups";
/// 2026-11-24 01:40:39.000 UTC, in milliseconds.
const T0: u64 = 1_795_484_439_000;

fn password() -> Password {
    Password::new(PASSPHRASE.to_owned())
}

fn files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn nothing_is_written_until_automatic_backups_are_on() {
    let (_dir, vault) = vault();
    vault.add(credentials().remove(0), 1).unwrap();
    assert!(auto::after_change(&vault, T0).unwrap().is_none());
    assert_eq!(auto::settings(&vault).unwrap(), auto::Settings::default());
    assert!(auto::list(&vault).unwrap().is_empty());
}

#[test]
fn each_change_writes_a_backup_of_the_vault_as_it_is_then() {
    let (_dir, vault) = vault();
    let first = auto::turn_on(&vault, &password(), 10, None, T0).unwrap();
    assert_eq!(first.accounts, 0);
    let folder = vault.metadata_path().parent().unwrap().join("backups");
    assert_eq!(first.path, folder.join("twofold-20261124-014039-000.backup"));

    let mut ids = Vec::new();
    for (i, c) in credentials_without_pins().into_iter().enumerate() {
        ids.push(vault.add(c, 1).unwrap().id);
        let written = auto::after_change(&vault, T0 + 1000 * (i as u64 + 1)).unwrap().unwrap();
        assert_eq!(written.accounts, i + 1);
    }
    vault.rename(ids[0], "GitHub Enterprise".into(), "alice".into()).unwrap();
    auto::after_change(&vault, T0 + 10_000).unwrap().unwrap();
    vault.remove(ids[1]).unwrap();
    let last = auto::after_change(&vault, T0 + 11_000).unwrap().unwrap();

    let opened = backup::read(&std::fs::read(&last.path).unwrap(), &password()).unwrap();
    assert_eq!(opened.entries.len(), 5);
    assert_eq!(opened.entries[0].account.issuer, "GitHub Enterprise");
    assert!(opened.entries.iter().all(|e| e.account.id != ids[1]), "the removed account is gone");
    let (entries, _) = backup::snapshot(&vault).unwrap();
    assert_eq!(opened.entries, entries);

    let listed = auto::list(&vault).unwrap();
    assert_eq!(listed.len(), 9, "a first backup plus one per change");
    assert_eq!(listed[0].path, last.path, "newest first");
    let header = listed[0].header.as_ref().unwrap();
    assert_eq!((header.created, header.accounts), (T0 / 1000 + 11, 5));
    assert_eq!(auto::utc_text(header.created), "2026-11-24 01:40:50 UTC");
}

#[test]
fn only_the_newest_n_are_kept_and_other_files_are_left_alone() {
    let (dir, vault) = vault();
    let folder = dir.path().join("elsewhere");
    auto::turn_on(&vault, &password(), 3, Some(folder.clone()), T0).unwrap();
    std::fs::write(folder.join("notes.txt"), b"mine").unwrap();
    std::fs::write(folder.join("twofold-manual.backup"), b"mine too").unwrap();
    let mut written = Vec::new();
    for (i, c) in credentials_without_pins().into_iter().enumerate() {
        vault.add(c, 1).unwrap();
        written.push(auto::after_change(&vault, T0 + 60_000 * (i as u64 + 1)).unwrap().unwrap());
    }
    let kept: Vec<PathBuf> = written.iter().rev().take(3).rev().map(|w| w.path.clone()).collect();
    let mut expected = kept.clone();
    expected.push(folder.join("notes.txt"));
    expected.push(folder.join("twofold-manual.backup"));
    expected.sort();
    assert_eq!(files(&folder), expected);
    assert_eq!(written.last().unwrap().pruned.len(), 1);
    let counts: Vec<u32> =
        auto::list(&vault).unwrap().iter().map(|l| l.header.as_ref().unwrap().accounts).collect();
    assert_eq!(counts, vec![6, 5, 4]);
}

#[test]
fn two_changes_in_the_same_millisecond_keep_both_backups() {
    let (_dir, vault) = vault();
    let first = auto::turn_on(&vault, &password(), 10, None, T0).unwrap();
    let second = auto::after_change(&vault, T0).unwrap().unwrap();
    assert_ne!(first.path, second.path);
    assert!(first.path.exists() && second.path.exists());
}

#[test]
fn any_automatic_backup_restores_into_a_fresh_vault() {
    let (_dir, vault) = vault();
    auto::turn_on(&vault, &password(), 10, None, T0).unwrap();
    for c in credentials() {
        vault.add(c, 1).unwrap();
    }
    auto::after_change(&vault, T0 + 1).unwrap().unwrap();
    let listed = auto::list(&vault).unwrap();
    let oldest = backup::read(&std::fs::read(&listed[1].path).unwrap(), &password()).unwrap();
    assert!(oldest.entries.is_empty(), "the first backup was taken before any account");
    let newest = backup::read(&std::fs::read(&listed[0].path).unwrap(), &password()).unwrap();
    let (_other, fresh) = backup_support::vault();
    backup::restore(&fresh, &newest.entries, 2).unwrap();
    let restored: Vec<_> = fresh
        .accounts()
        .unwrap()
        .iter()
        .map(|a| a.to_credential(fresh.secret(a).unwrap()))
        .collect();
    assert_same(&restored, &credentials());
}

#[test]
fn a_backup_is_found_by_name_only_among_the_listed_ones() {
    let (dir, vault) = vault();
    let written = auto::turn_on(&vault, &password(), 10, None, T0).unwrap();
    let name = written.path.file_name().unwrap().to_str().unwrap().to_owned();
    assert_eq!(auto::named(&vault, &name).unwrap(), Some(written.path.clone()));
    assert_eq!(auto::list(&vault).unwrap()[0].path, written.path);

    // Beside the backups but not one of them; elsewhere; a path instead of a name.
    let folder = written.path.parent().unwrap();
    std::fs::write(folder.join("twofold-mine.backup"), b"x").unwrap();
    let outside = dir.path().join("twofold-20261124-014039-000.backup");
    std::fs::copy(&written.path, &outside).unwrap();
    for refused in [
        "twofold-mine.backup".to_owned(),
        "twofold-20991231-000000-000.backup".to_owned(),
        written.path.display().to_string(),
        format!("../{name}"),
        outside.display().to_string(),
        String::new(),
    ] {
        assert_eq!(auto::named(&vault, &refused).unwrap(), None, "{refused}");
    }
}

#[test]
fn turning_off_stops_backups_and_forgets_the_passphrase() {
    let (_dir, vault) = vault();
    auto::turn_on(&vault, &password(), 10, None, T0).unwrap();
    assert_eq!(vault.keystore().len(), 1, "the passphrase, in one keyring entry");
    assert!(vault.reconcile().unwrap().is_clean(), "the passphrase is no orphaned account secret");
    auto::turn_off(&vault).unwrap();
    assert_eq!(vault.keystore().len(), 0);
    assert!(auto::after_change(&vault, T0 + 1).unwrap().is_none());
    assert_eq!(auto::list(&vault).unwrap().len(), 1, "backups already written stay");
    assert!(matches!(
        auto::turn_on(&vault, &Password::new(String::new()), 10, None, T0),
        Err(BackupError::EmptyPassphrase)
    ));
}

#[test]
fn catching_up_backs_up_only_a_change_no_backup_covers_yet() {
    let (_dir, vault) = vault();
    let mut credentials = credentials().into_iter();
    vault.add(credentials.next().unwrap(), 1).unwrap();
    assert!(auto::catch_up(&vault, T0).unwrap().is_none(), "written while off");

    // Turning on wrote a backup of the vault as it is: nothing to catch up.
    auto::turn_on(&vault, &password(), 10, None, T0).unwrap();
    assert!(auto::catch_up(&vault, T0 + 1000).unwrap().is_none());

    // A change backed up by the program that made it (the CLI): still nothing.
    vault.add(credentials.next().unwrap(), 1).unwrap();
    auto::after_change(&vault, T0 + 2000).unwrap().unwrap();
    assert!(auto::catch_up(&vault, T0 + 3000).unwrap().is_none());

    // A change nobody backed up yet: caught up once.
    vault.add(credentials.next().unwrap(), 1).unwrap();
    let written = auto::catch_up(&vault, T0 + 4000).unwrap().unwrap();
    assert_eq!(written.accounts, 3);
    assert!(auto::catch_up(&vault, T0 + 5000).unwrap().is_none());
    assert_eq!(auto::list(&vault).unwrap().len(), 3);
}
