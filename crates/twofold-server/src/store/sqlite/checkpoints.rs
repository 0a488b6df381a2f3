//! The WAL's checkpoints, on a thread of their own beside the writer.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that commit
//! copies the WAL into the database file and syncs both, holding the one writer (and every
//! request waiting for it) through two file syncs, 10–13 % of the server's CPU in the load
//! bench. Here the writer only counts its commits; every [`COMMITS_PER_NUDGE`] it nudges this
//! thread, which checkpoints on its own connection while the writer goes on (a passive
//! checkpoint waits for no reader and no writer). The thread ends when the store is dropped.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::Duration;

use rusqlite::Connection;

use super::{FILE, connect};
use crate::store::StoreError;

/// Commits between two nudges: about SQLite's own interval of 1 000 WAL pages, at the ten or so
/// pages a sign-in's commit writes.
const COMMITS_PER_NUDGE: u64 = 100;

/// How long the thread waits for a nudge before it checkpoints anyway (a quiet database's last
/// commits reach its file too).
const QUIET_CHECKPOINT: Duration = Duration::from_secs(1);

/// The writer's side: counts commits and nudges the checkpoint thread.
pub(super) struct Checkpoints {
    /// Commits since the store opened.
    commits: AtomicU64,
    /// Wakes the thread; holds at most one nudge, and dropping it ends the thread.
    nudge: SyncSender<()>,
}

impl Checkpoints {
    /// Starts the checkpoint thread for the database at `path`, and turns off SQLite's automatic
    /// checkpoint on `writer`.
    pub(super) fn start(path: &Path, writer: &Connection) -> Result<Self, StoreError> {
        let conn = connect(path, FILE)?;
        let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoints".into())
            .spawn(move || checkpoint_when_nudged(&conn, &nudged))
            .map_err(StoreError::CheckpointThread)?;
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(Self { commits: AtomicU64::new(0), nudge })
    }

    /// Counts one commit of the writer.
    pub(super) fn committed(&self) {
        if (self.commits.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(COMMITS_PER_NUDGE) {
            // Full: a nudge is waiting already, and the thread will take this one's pages too.
            match self.nudge.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
            }
        }
    }
}

/// The thread's loop: a passive checkpoint at each nudge, or after a quiet while; returns when
/// the writer's side is dropped.
fn checkpoint_when_nudged(conn: &Connection, nudged: &Receiver<()>) {
    loop {
        match nudged.recv_timeout(QUIET_CHECKPOINT) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // Its row (busy, WAL pages, pages copied) says how far it got; the next one goes on.
        if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(%error, "copying the database's WAL into its file failed; retrying later");
        }
    }
}
