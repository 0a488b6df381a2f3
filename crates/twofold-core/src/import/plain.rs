//! Plain text or CSV holding `otpauth://` URIs and Google Authenticator `otpauth-migration://`
//! batches: what FreeOTP+, Ente Auth (unencrypted), Twofold and many scripts export; Aegis's text
//! export writes mOTP accounts as `motp:` URIs among them.
//!
//! Format: one URI per line (Key Uri Format,
//! <https://github.com/google/google-authenticator/wiki/Key-Uri-Format>), blank lines and `#`
//! comments skipped; or a CSV file (RFC 4180, comma, semicolon or tab separated) in which some
//! cells are URIs. A CSV header row is passed over; any later row without a URI is reported.
//!
//! What the import loses: nothing an otpauth URI carries; other CSV columns are ignored.

use super::{Content, EntryError, Format, ImportError, Imported, Place, read_payload, uri_list};

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Text(text) = content else { return None };
    // Bitwarden's CSV export holds URIs in cells too; its header row marks it as Bitwarden's.
    if super::bitwarden::recognise(content).is_some() {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    (lower.contains("otpauth://")
        || lower.contains("otpauth-migration://")
        || text.lines().any(|line| starts_with_uri(line.trim_start())))
    .then_some(false)
}

pub(super) fn read(content: &Content<'_>) -> Result<Imported, ImportError> {
    let Content::Text(text) = content else {
        return Err(ImportError::damaged(Format::Text, "it is not text with one URI per line"));
    };
    if is_csv(text) { Ok(csv(text)) } else { Ok(uri_list(text)) }
}

fn starts_with_uri(cell: &str) -> bool {
    let scheme =
        |scheme: &str| cell.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme));
    scheme("otpauth:") || scheme("otpauth-migration:") || scheme("motp:")
}

/// CSV when some URI does not start its line: it sits in a cell among others.
fn is_csv(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        !line.starts_with('#')
            && !starts_with_uri(line)
            && line.to_ascii_lowercase().contains("otpauth")
    })
}

/// The separator used most in the first line: comma, semicolon or tab.
fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or_default();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

fn csv(text: &str) -> Imported {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(text.as_bytes());
    let mut imported = Imported::default();
    for (index, record) in reader.records().enumerate() {
        let line = |position: Option<&csv::Position>| {
            position.map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX))
        };
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                imported.errors.push(EntryError {
                    place: Place::Line(line(e.position())),
                    entry: None,
                    name: None,
                    message: "this row is not valid CSV".to_owned(),
                });
                continue;
            }
        };
        let place = Place::Line(line(record.position()));
        let mut found = false;
        for cell in record.iter().map(str::trim).filter(|cell| starts_with_uri(cell)) {
            read_payload(cell, place, &mut imported);
            found = true;
        }
        let blank = record.iter().all(|cell| cell.trim().is_empty());
        if !found && index > 0 && !blank {
            imported.errors.push(EntryError {
                place,
                entry: None,
                name: None,
                message: "this row holds no otpauth:// URI".to_owned(),
            });
        }
    }
    imported
}
