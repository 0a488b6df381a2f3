//! Accounts from other apps' exports. Parsing only: bytes in, credentials plus per-entry errors
//! out; adding them is the vault's job. One module per format.

use std::fmt;

use crate::{Credential, migration, uri};

mod scanned;
mod uri_list;

pub use scanned::scanned;
pub use uri_list::uri_list;

/// What an import found: the accounts it could read and, per entry, why the others were skipped.
#[derive(Debug, Default)]
pub struct Imported {
    /// Accounts read, in file order.
    pub credentials: Vec<Credential>,
    /// Entries that could not be read; the rest still import.
    pub errors: Vec<EntryError>,
}

/// Where an entry was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// 1-based line of a text file.
    Line(usize),
    /// 1-based QR code of a scan, in reading order.
    Code(usize),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(n) => write!(f, "line {n}"),
            Place::Code(n) => write!(f, "QR code {n}"),
        }
    }
}

/// One entry that could not be read, by place (and name when known). Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    /// Where the entry was.
    pub place: Place,
    /// 1-based entry within a batch at that place (a migration URI holds several).
    pub entry: Option<usize>,
    /// The entry's name ("Issuer (account)") when it could be read.
    pub name: Option<String>,
    /// What was wrong, for the user.
    pub message: String,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.place)?;
        if let Some(entry) = self.entry {
            write!(f, ", entry {entry}")?;
        }
        if let Some(name) = &self.name {
            write!(f, " ({name})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Reads one `otpauth://` or `otpauth-migration://` payload found at `place` into `imported`.
fn read_payload(text: &str, place: Place, imported: &mut Imported) {
    let error = |entry, name, message: String| EntryError { place, entry, name, message };
    if text.get(..18).is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth-migration:")) {
        match migration::decode(text) {
            Ok(batch) => {
                for (i, entry) in batch.entries.into_iter().enumerate() {
                    match entry {
                        Ok(credential) => imported.credentials.push(credential),
                        Err(e) => imported.errors.push(error(
                            Some(i + 1),
                            Some(e.label),
                            e.problem.to_string(),
                        )),
                    }
                }
            }
            Err(e) => imported.errors.push(error(None, None, e.to_string())),
        }
    } else {
        match uri::parse(text) {
            Ok(credential) => imported.credentials.push(credential),
            Err(e) => imported.errors.push(error(None, None, e.to_string())),
        }
    }
}
