//! `--vault-file FILE`: a Twofold backup (`twofold backup FILE`) read as a whole vault, read-only,
//! for machines that keep no data directory: a CI runner holding the file as a secret gets a code
//! in one command. The backup's format is the secrets file's (Argon2id, XChaCha20-Poly1305), and
//! unlike the data directory it carries the account list too.

use std::io::Read;
use std::path::Path;

use twofold_core::backup::{self, Entry};

use crate::passphrase::Source;
use crate::{Locked, MAX_IMPORT_LEN};

/// The environment variable naming the vault file when `--vault-file` is not given.
pub const FILE_VARIABLE: &str = "TWOFOLD_VAULT_FILE";

/// `--vault-file` when given, else `TWOFOLD_VAULT_FILE` when set.
pub fn chosen(flag: Option<std::path::PathBuf>) -> Option<std::path::PathBuf> {
    flag.or_else(|| std::env::var_os(FILE_VARIABLE).filter(|v| !v.is_empty()).map(Into::into))
}

/// Every account of the vault file at `path` with its secret.
pub fn entries(path: &Path, source: &Source) -> anyhow::Result<Vec<Entry>> {
    let name = path.display();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_IMPORT_LEN + 1).read_to_end(&mut bytes))
        .map_err(|e| Locked(format!("cannot read the vault file {name}: {e}")))?;
    backup::inspect(&bytes).map_err(|e| Locked(format!("the vault file {name}: {e}")))?;
    let passphrase = source.existing(&format!("the vault file {name}"))?;
    let opened = backup::read(&bytes, &passphrase)
        .map_err(|e| Locked(format!("the vault file {name}: {e}")))?;
    Ok(opened.entries)
}
