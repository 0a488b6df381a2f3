//! `twofold trash`: the accounts the app deleted in the last 30 days ("Recently deleted"), listed
//! and restored from the terminal.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;
use twofold_core::Account;
use twofold_core::account::find;
use twofold_core::vault::Trashed;
use uuid::Uuid;

use crate::{RequestFailed, Vault};

/// The `trash` subcommands.
#[derive(Subcommand)]
pub enum TrashCommand {
    /// List the deleted accounts still restorable, the most recent first.
    List,
    /// Put the one deleted account matching QUERY back in the list.
    Restore {
        /// Issuer, account name, "Issuer (name)" or id.
        query: String,
    },
}

/// Runs `command` on `vault` at `now` (Unix seconds); accounts past their 30 days go first.
pub fn run(
    command: TrashCommand,
    vault: &Vault,
    now: u64,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    vault.purge_expired(now)?;
    let trashed = vault.trashed()?;
    match command {
        TrashCommand::List => {
            if trashed.is_empty() {
                writeln!(out, "Nothing was deleted in the last 30 days.")?;
            }
            for entry in &trashed {
                let days = entry.expires().saturating_sub(now).div_ceil(24 * 60 * 60);
                writeln!(
                    out,
                    "{}  {} [{}]",
                    days_left(days),
                    entry.account.label(),
                    entry.account.id
                )?;
            }
        }
        TrashCommand::Restore { query } => {
            let restored = vault.restore(one(&trashed, &query)?)?;
            writeln!(out, "Restored {}", restored.label())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn days_left(days: u64) -> String {
    if days <= 1 { "gone within a day".to_owned() } else { format!("{days} days left") }
}

/// The id of the one trashed account matching `query`.
fn one(trashed: &[Trashed], query: &str) -> anyhow::Result<Uuid> {
    let accounts: Vec<Account> = trashed.iter().map(|t| t.account.clone()).collect();
    match find(&accounts, query).as_slice() {
        [] => bail!(RequestFailed(format!(
            "no deleted account matches \"{query}\" (see twofold trash list)"
        ))),
        [account] => Ok(account.id),
        many => bail!(RequestFailed(format!(
            "\"{query}\" matches {} deleted accounts; use an id (see twofold trash list)",
            many.len()
        ))),
    }
}
