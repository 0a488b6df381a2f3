//! Where a passphrase for an encrypted vault file comes from: `--passphrase-file FILE`, else the
//! file named by `TWOFOLD_PASSPHRASE_FILE`, else a hidden prompt on a terminal. Never the command
//! line and never an environment variable holding the passphrase itself: both are readable by
//! other processes of the machine (`ps`, `/proc/PID/environ`).

use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use twofold_core::export;
use twofold_core::import::Password;
use zeroize::Zeroizing;

use crate::{Locked, RequestFailed};

/// The environment variable naming a file whose first line is the passphrase.
pub const FILE_VARIABLE: &str = "TWOFOLD_PASSPHRASE_FILE";
/// Longest passphrase file read: a passphrase is a line, not a document.
const MAX_FILE_LEN: u64 = 64 * 1024;

/// Where the passphrase will be read from, once it is needed.
#[derive(Debug)]
pub struct Source {
    file: Option<PathBuf>,
}

impl Source {
    /// `--passphrase-file` when given, else `TWOFOLD_PASSPHRASE_FILE` when set, else the terminal.
    pub fn new(flag: Option<PathBuf>) -> Self {
        let from_env = std::env::var_os(FILE_VARIABLE).filter(|v| !v.is_empty()).map(PathBuf::from);
        Self { file: flag.or(from_env) }
    }

    /// The passphrase of an existing file (`what` names it in the prompt and errors).
    pub fn existing(&self, what: &str) -> anyhow::Result<Password> {
        if let Some(path) = &self.file {
            return read_file(path);
        }
        if !io::stdin().is_terminal() {
            bail!(Locked(format!(
                "{what} is sealed with a passphrase and this is not a terminal: give it with \
                 --passphrase-file FILE or {FILE_VARIABLE}=FILE"
            )));
        }
        prompt(&format!("Passphrase of {what}: "))
    }

    /// A new passphrase: from the file, or typed twice on a terminal; at least 8 characters.
    pub fn new_one(&self, what: &str) -> anyhow::Result<Password> {
        let (first, again) = match &self.file {
            Some(path) => {
                let first = read_file(path)?;
                let again = Password::new(String::from_utf8_lossy(first.expose()).into_owned());
                (first, again)
            }
            None => {
                if !io::stdin().is_terminal() {
                    bail!(RequestFailed(format!(
                        "not a terminal: give the passphrase of {what} with --passphrase-file \
                         FILE or {FILE_VARIABLE}=FILE"
                    )));
                }
                (
                    prompt(&format!("New passphrase of {what}: "))?,
                    prompt("The same passphrase again: ")?,
                )
            }
        };
        export::check_new_password(&first, &again)
            .map_err(|e| RequestFailed(format!("{e}; nothing was changed")))?;
        Ok(first)
    }
}

fn prompt(text: &str) -> anyhow::Result<Password> {
    rpassword::prompt_password(text).map(Password::new).context("cannot read the passphrase")
}

/// The first line of `path`, without its line ending.
fn read_file(path: &Path) -> anyhow::Result<Password> {
    let unreadable = |e: io::Error| RequestFailed(format!("cannot read {}: {e}", path.display()));
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_LEN).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        RequestFailed(format!("{} is not UTF-8 text: it cannot hold a passphrase", path.display()))
    })?;
    let line = text.split(['\n', '\r']).next().unwrap_or_default();
    if line.is_empty() {
        bail!(RequestFailed(format!("{} holds no passphrase on its first line", path.display())));
    }
    Ok(Password::new(line.to_owned()))
}
