//! Past requests and how they ended, newest last, in `history.json` (bounded, replaced atomically).

use serde::{Deserialize, Serialize};

use crate::device::DeviceError;
use crate::files::JsonFile;
use crate::view::RequestView;

/// How many entries the history keeps: the oldest go first.
pub const MAX_ENTRIES: usize = 200;

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryOutcome {
    /// Allowed here.
    Allowed,
    /// Denied here (or a wrong number was entered).
    Denied,
    /// Reported here as "this wasn't me".
    Reported,
    /// Nobody answered in time.
    Expired,
    /// Answered on another device.
    Withdrawn,
}

/// One past request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The request as it was shown.
    pub request: RequestView,
    /// How it ended.
    pub outcome: HistoryOutcome,
    /// When it ended, Unix seconds.
    pub decided_at: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct HistoryFile {
    entries: Vec<HistoryEntry>,
}

/// The history file.
#[derive(Debug)]
pub(crate) struct History {
    file: JsonFile,
    // Read-modify-write of one file from several tasks.
    lock: std::sync::Mutex<()>,
}

impl History {
    /// The history kept in `dir`.
    pub(crate) fn new(dir: &std::path::Path) -> Self {
        Self { file: JsonFile::new(dir, "history.json"), lock: std::sync::Mutex::new(()) }
    }

    /// Every entry, oldest first.
    pub(crate) fn entries(&self) -> Result<Vec<HistoryEntry>, DeviceError> {
        Ok(self.file.read::<HistoryFile>()?.entries)
    }

    /// Adds an entry, dropping the oldest beyond [`MAX_ENTRIES`].
    pub(crate) fn record(
        &self,
        request: &RequestView,
        outcome: HistoryOutcome,
        at: u64,
    ) -> Result<(), DeviceError> {
        let _guard = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut file: HistoryFile = self.file.read()?;
        file.entries.push(HistoryEntry { request: request.clone(), outcome, decided_at: at });
        let excess = file.entries.len().saturating_sub(MAX_ENTRIES);
        file.entries.drain(..excess);
        self.file.write(&file)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn view(n: u128) -> RequestView {
        RequestView::new(uuid::Uuid::from_u128(1), &crate::view::sample_request(n))
    }

    #[test]
    fn the_history_keeps_the_newest_entries_only() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::new(dir.path());
        for n in 0..(MAX_ENTRIES as u128 + 5) {
            history.record(&view(n), HistoryOutcome::Allowed, 1000).unwrap();
        }
        let entries = History::new(dir.path()).entries().unwrap();
        assert_eq!(entries.len(), MAX_ENTRIES);
        assert_eq!(entries[0].request.id, uuid::Uuid::from_u128(5));
        assert_eq!(entries.last().unwrap().request, view(MAX_ENTRIES as u128 + 4));
        let json = serde_json::to_value(&entries[0]).unwrap();
        assert_eq!(json["outcome"], "allowed");
        assert_eq!(json["decided_at"], 1000);
        assert_eq!(json["request"]["location"]["text"], "private network");
    }

    #[test]
    fn an_entry_written_before_number_choices_still_reads() {
        let mut json = serde_json::to_value(HistoryEntry {
            request: view(1),
            outcome: HistoryOutcome::Denied,
            decided_at: 5,
        })
        .unwrap();
        json["request"].as_object_mut().unwrap().remove("choices");
        let entry: HistoryEntry = serde_json::from_value(json).unwrap();
        assert_eq!(entry.request, view(1));
    }
}
