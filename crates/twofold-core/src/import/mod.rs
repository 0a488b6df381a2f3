//! Accounts from other apps' exports. Parsing only: bytes in, credentials plus per-entry errors
//! out; adding them is the vault's job. One module per format.

use std::fmt;

use crate::Credential;

mod uri_list;

pub use uri_list::uri_list;

/// What an import found: the accounts it could read and, per entry, why the others were skipped.
#[derive(Debug, Default)]
pub struct Imported {
    /// Accounts read, in file order.
    pub credentials: Vec<Credential>,
    /// Entries that could not be read; the rest still import.
    pub errors: Vec<EntryError>,
}

/// One entry that could not be read, by position (and name when known). Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    /// 1-based line (or entry) number in the file.
    pub position: usize,
    /// 1-based entry within a batch on that line (a migration URI holds several).
    pub entry: Option<usize>,
    /// The entry's name ("Issuer (account)") when it could be read.
    pub name: Option<String>,
    /// What was wrong, for the user.
    pub message: String,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.position)?;
        if let Some(entry) = self.entry {
            write!(f, ", entry {entry}")?;
        }
        if let Some(name) = &self.name {
            write!(f, " ({name})")?;
        }
        write!(f, ": {}", self.message)
    }
}
