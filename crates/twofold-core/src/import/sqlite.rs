//! SQLite databases, where some Android apps keep their accounts (Google Authenticator, Microsoft
//! Authenticator, Stratum): opened in memory, read-only, from the file's bytes.
//!
//! Format: <https://www.sqlite.org/fileformat2.html> (the header "SQLite format 3\0").

use rusqlite::{Connection, OpenFlags};
use zeroize::Zeroizing;

/// The header every SQLite 3 database starts with.
pub(super) const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// An app database, opened from bytes: its tables' names and columns are read once.
pub(super) struct Database {
    connection: Connection,
    tables: Vec<(String, Vec<String>)>,
}

impl Database {
    /// The database `bytes` hold, or `None` when they are no readable SQLite database.
    pub(super) fn open(bytes: &[u8]) -> Option<Self> {
        if !bytes.starts_with(MAGIC) {
            return None;
        }
        let mut connection =
            Connection::open_with_flags(":memory:", OpenFlags::SQLITE_OPEN_READ_WRITE).ok()?;
        // A hostile file may carry triggers, views or schema functions: run none of them.
        connection.pragma_update(None, "trusted_schema", false).ok()?;
        // Apps often keep their database in WAL mode (header bytes 18 and 19 are 2), which an
        // in-memory copy cannot open; set to 1 (rollback journal) they read the same pages.
        let mut copy = Zeroizing::new(bytes.to_vec());
        if let Some(versions) = copy.get_mut(18..20) {
            versions.fill(1);
        }
        connection
            .deserialize_read_exact(rusqlite::MAIN_DB, copy.as_slice(), copy.len(), true)
            .ok()?;
        let tables = {
            let mut statement = connection
                .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
                .ok()?;
            let names: Vec<String> =
                statement.query_map([], |row| row.get(0)).ok()?.collect::<Result<_, _>>().ok()?;
            names
                .into_iter()
                .map(|name| {
                    let columns = columns(&connection, &name).unwrap_or_default();
                    (name, columns)
                })
                .collect()
        };
        Some(Database { connection, tables })
    }

    /// Whether table `name` exists with every one of `columns`.
    pub(super) fn has(&self, name: &str, columns: &[&str]) -> bool {
        self.tables.iter().any(|(table, have)| {
            table == name && columns.iter().all(|c| have.iter().any(|h| h == c))
        })
    }

    /// Each row of `SELECT <columns> FROM <table>` as text values (NULL as `None`), in row order.
    /// `table` and `columns` are the reader's own constants, never the file's.
    pub(super) fn rows(&self, table: &str, columns: &[&str]) -> Result<Vec<Row>, rusqlite::Error> {
        let list = columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        let mut statement =
            self.connection.prepare(&format!("SELECT {list} FROM \"{table}\" ORDER BY rowid"))?;
        let rows = statement.query_map([], |row| {
            (0..columns.len())
                .map(|i| {
                    let value: rusqlite::types::Value = row.get(i)?;
                    Ok(match value {
                        rusqlite::types::Value::Null => None,
                        rusqlite::types::Value::Integer(n) => Some(Zeroizing::new(n.to_string())),
                        rusqlite::types::Value::Real(x) => Some(Zeroizing::new(x.to_string())),
                        rusqlite::types::Value::Text(text) => Some(Zeroizing::new(text)),
                        rusqlite::types::Value::Blob(bytes) => {
                            Some(Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()))
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Row)
        })?;
        rows.collect()
    }
}

/// A row's values as text; wiped on drop, since they hold secrets.
pub(super) struct Row(Vec<Option<Zeroizing<String>>>);

impl Row {
    /// Column `index` as trimmed text; empty when NULL.
    pub(super) fn text(&self, index: usize) -> &str {
        self.0.get(index).and_then(|v| v.as_deref()).map_or("", |t| t.trim())
    }

    /// Column `index` as a whole number, or `None` when NULL or not one.
    pub(super) fn number(&self, index: usize) -> Option<u64> {
        self.text(index).parse().ok()
    }
}

fn columns(connection: &Connection, table: &str) -> Option<Vec<String>> {
    let mut statement = connection
        .prepare(&format!("SELECT name FROM pragma_table_info('{}')", table.replace('\'', "''")))
        .ok()?;
    statement.query_map([], |row| row.get(0)).ok()?.collect::<Result<_, _>>().ok()
}
