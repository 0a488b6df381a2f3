//! `twofold keystore`: where the vault keeps its secrets (the system keyring or an encrypted file in
//! the data directory), chosen for a new vault and moved, all or nothing, for an existing one.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use twofold_core::keystore::{KeyringState, KeystoreKind, VaultKeystore};
use twofold_core::seal::CostLevel;
use twofold_core::vault::{Destination, Vault, VaultError};

use crate::Locked;
use crate::passphrase::Source;

/// What the vault's secrets file is called in prompts and errors.
pub const FILE_WHAT: &str = "the vault's secrets file";

/// The `keystore` subcommands.
#[derive(Subcommand)]
pub enum KeystoreCommand {
    /// Say where this vault keeps its secrets.
    Show,
    /// Choose where a new vault (no account yet) keeps its secrets.
    ///
    /// `file`: one file in the data directory, encrypted with a passphrase (Argon2id,
    /// XChaCha20-Poly1305), for machines without a Secret Service. `keyring`: the system keyring.
    Init {
        /// Where the secrets go.
        #[arg(value_enum)]
        to: Place,
        /// How slow the file's key derivation is (see `twofold keystore levels`).
        #[arg(long, value_enum, default_value_t = Level::Standard)]
        cost: Level,
    },
    /// Move every secret, and the trusted device's keys, to the keyring or to the secrets file,
    /// all or nothing.
    Move {
        /// Where the secrets go.
        #[arg(value_enum)]
        to: Place,
        /// How slow the file's key derivation is (see `twofold keystore levels`).
        #[arg(long, value_enum, default_value_t = Level::Standard)]
        cost: Level,
    },
    /// List the secrets file's key derivation levels, each timed on this machine now.
    Levels,
}

/// The secrets file's Argon2id levels, as the command line names them.
#[derive(Clone, Copy, ValueEnum)]
pub enum Level {
    /// 19 MiB, 2 passes.
    Quick,
    /// 64 MiB, 3 passes (the default).
    Standard,
    /// 256 MiB, 4 passes.
    Strong,
}

impl From<Level> for CostLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::Quick => CostLevel::Quick,
            Level::Standard => CostLevel::Standard,
            Level::Strong => CostLevel::Strong,
        }
    }
}

/// The two keystores, as the command line names them.
#[derive(Clone, Copy, ValueEnum)]
pub enum Place {
    /// An encrypted file in the data directory.
    File,
    /// The system keyring (Secret Service).
    Keyring,
}

/// Opens the vault in `dir` over the keystore it chose, asking for the file's passphrase if needed.
pub fn open(dir: &Path, source: &Source) -> anyhow::Result<Vault<VaultKeystore>> {
    Vault::open_chosen(dir, || source.existing(FILE_WHAT))
}

/// Runs one `keystore` subcommand on the vault in `dir`.
pub fn run(
    command: KeystoreCommand,
    dir: &Path,
    source: &Source,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    match command {
        KeystoreCommand::Show => {
            match KeystoreKind::of(dir)? {
                KeystoreKind::Keyring => match KeyringState::now() {
                    KeyringState::Ready => writeln!(out, "keyring: {}", KeyringState::Ready)?,
                    // Which of the three it is (none, locked, failing) is what a person needs.
                    other => bail!(Locked(format!(
                        "this vault keeps its secrets in the system keyring, but {other}"
                    ))),
                },
                KeystoreKind::File => {
                    let vault = open(dir, source)?;
                    if let VaultKeystore::File(file) = vault.keystore() {
                        writeln!(out, "file: {} ({})", file.path().display(), file.cost())?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        KeystoreCommand::Init { to, cost } => {
            let destination = destination(to, cost, source)?;
            Vault::create(dir, destination)?;
            writeln!(out, "This vault keeps its secrets in {}", kind(to))?;
            Ok(ExitCode::SUCCESS)
        }
        KeystoreCommand::Levels => {
            for level in CostLevel::ALL {
                let took = level.measure()?;
                writeln!(
                    out,
                    "{:<9} {:>6.2} s  {}",
                    level.as_str(),
                    took.as_secs_f64(),
                    level.cost()
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        KeystoreCommand::Move { to, cost } => {
            let vault = open(dir, source)?;
            if vault.keystore().kind() == kind(to) {
                return Err(VaultError::SameKeystore { kind: kind(to) }.into());
            }
            let destination = destination(to, cost, source)?;
            let (_, moved) =
                twofold_device::vault_keys::move_with_device_keys(&vault, destination)?;
            writeln!(
                out,
                "Moved {} account secrets, {} trusted-device keys and {} other secrets to {}",
                moved.accounts,
                moved.device_keys,
                moved.others,
                kind(to)
            )?;
            for label in &moved.missing {
                eprintln!("twofold: {label} had no secret to move: re-add it");
            }
            if moved.left_behind > 0 {
                eprintln!(
                    "twofold: warning: {} copies stay where the secrets were (the move is complete)",
                    moved.left_behind
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn kind(place: Place) -> KeystoreKind {
    match place {
        Place::File => KeystoreKind::File,
        Place::Keyring => KeystoreKind::Keyring,
    }
}

fn destination(place: Place, level: Level, source: &Source) -> anyhow::Result<Destination> {
    Ok(match place {
        Place::Keyring => Destination::Keyring,
        Place::File => Destination::File {
            passphrase: source.new_one(FILE_WHAT)?,
            cost: CostLevel::from(level).cost(),
        },
    })
}
