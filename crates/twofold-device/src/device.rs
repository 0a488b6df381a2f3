//! The device: its paired servers, their keys in the keyring, the requests on screen.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use twofold_core::keystore::{Keystore, KeystoreError};
use twofold_core::vault::DeviceKeyEntry;
use twofold_protocol::client::{ClientError, Clock, DeviceClient, STREAM_SILENCE};
use twofold_protocol::{LinkError, SigninRequest};
use uuid::Uuid;

use crate::files::JsonFile;
use crate::history::{History, HistoryEntry, HistoryOutcome};
use crate::secret;
use crate::servers::{ServerRecord, ServersFile};
use crate::view::RequestView;

/// Why a device operation failed, in words for the user. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The pairing link is unusable.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The server refused the pairing or could not be reached.
    #[error("pairing failed: {0}")]
    Pairing(#[source] ClientError),
    /// The server refused or could not be reached.
    #[error(transparent)]
    Server(ClientError),
    /// A file of the device could not be read or written.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// A file of the device is not what this app writes.
    #[error("{} is damaged ({reason}); move it away to start over", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file written by a newer version of the app.
    #[error("{} was written by a newer Twofold: update the app", path.display())]
    NewerFormat {
        /// The file.
        path: PathBuf,
    },
    /// The keyring failed.
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// The keyring has no key for a paired server.
    #[error("the keyring has no device key for paired server {server}: unpair it and pair again")]
    MissingKey {
        /// The paired server.
        server: Uuid,
    },
    /// The keyring entry of a paired server is not a device key.
    #[error("the keyring entry of paired server {server} is damaged: unpair it and pair again")]
    DamagedKey {
        /// The paired server.
        server: Uuid,
    },
    /// No paired server has this id.
    #[error("no paired server has the id {0}")]
    UnknownServer(Uuid),
    /// The server gave an offline-code seed that is not base32.
    #[error("the server sent a malformed offline-code seed; pairing was undone")]
    BadOfflineSeed,
    /// The operating system gave no random bytes.
    #[error("the operating system could not provide random bytes")]
    Randomness,
    /// A background task failed.
    #[error("an internal task failed: {0}")]
    Task(String),
}

/// A request on screen: verified, not yet answered, not expired.
#[derive(Debug, Clone)]
pub(crate) struct Shown {
    /// The paired server it came from.
    pub(crate) server: Uuid,
    /// Exactly what the server signed; the decision's digest is over this.
    pub(crate) request: SigninRequest,
}

/// The offline verification code of a paired server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineCode {
    /// Six digits.
    pub code: String,
    /// Seconds until it changes.
    pub seconds_left: u64,
    /// Seconds each code lasts.
    pub period: u64,
}

/// The fewest seconds an offline code is handed out with: under that, the next code is given.
pub const MIN_CODE_SECONDS: u64 = 10;

/// The offline code of `seed` to hand out at `now`.
fn offline_code_at(seed: &[u8], now: u64) -> OfflineCode {
    let period = twofold_protocol::offline::STEP;
    let left = period - now % period;
    let (at, seconds_left) =
        if left < MIN_CODE_SECONDS { (now + period, left + period) } else { (now, left) };
    OfflineCode { code: twofold_protocol::offline::code_at(seed, at), seconds_left, period }
}

/// What unpairing did.
#[derive(Debug)]
pub struct Unpaired {
    /// Why the server could not be told, if it could not: the device stops listening anyway,
    /// and the service can still revoke it.
    pub revoke_failed: Option<DeviceError>,
}

/// A request as the device knows it: the paired server it came from, and its id there.
pub type RequestKey = (Uuid, Uuid);

/// How many requests taken off the screen are remembered: far more than can be pending within
/// a request's lifetime.
const GONE_KEPT: usize = 256;

/// The trusted device: paired servers in `servers.json`, keys in the keyring.
pub struct Device<K> {
    pub(crate) keystore: Arc<K>,
    dir: PathBuf,
    servers: JsonFile,
    servers_lock: Mutex<()>,
    pub(crate) history: History,
    /// Keyed by paired server and request id: one server cannot name another's request.
    shown: Mutex<HashMap<RequestKey, Shown>>,
    /// Requests taken off the screen lately (answered, withdrawn, expired): a stale copy, e.g.
    /// from a catch-up fetch that raced the answer, must not show them again.
    gone: Mutex<std::collections::VecDeque<RequestKey>>,
    pub(crate) clock: Clock,
    stream_silence: Duration,
}

impl<K> std::fmt::Debug for Device<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves consistent data: maps and unit.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K: Keystore + Send + Sync + 'static> Device<K> {
    /// The device whose files are in `dir` (created, private to the user), keys in `keystore`.
    pub fn open(dir: impl Into<PathBuf>, keystore: K) -> Result<Self, DeviceError> {
        let dir = dir.into();
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(|source| DeviceError::Io {
            action: "create",
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            keystore: Arc::new(keystore),
            servers: JsonFile::new(&dir, "servers.json"),
            history: History::new(&dir),
            dir,
            servers_lock: Mutex::new(()),
            shown: Mutex::new(HashMap::new()),
            gone: Mutex::new(std::collections::VecDeque::new()),
            clock: Arc::new(|| {
                SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
            }),
            stream_silence: STREAM_SILENCE,
        })
    }

    /// The same device with another clock (tests that move time).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same device counting an event stream broken after `silence` without a byte instead of
    /// [`STREAM_SILENCE`] (tests that cannot wait that long).
    pub fn with_stream_silence(mut self, silence: Duration) -> Self {
        self.stream_silence = silence;
        self
    }

    /// The directory of the device's files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current time, Unix seconds.
    pub(crate) fn now(&self) -> u64 {
        (self.clock)()
    }

    /// The paired servers, oldest first.
    pub fn servers(&self) -> Result<Vec<ServerRecord>, DeviceError> {
        Ok(self.servers.read::<ServersFile>()?.servers)
    }

    /// The keystore entries of every paired server's key, for moving them with the vault.
    pub fn key_entries(&self) -> Result<Vec<DeviceKeyEntry>, DeviceError> {
        Ok(self
            .servers()?
            .into_iter()
            .map(|s| {
                // The URL was checked at pairing: its host sits between "://" and the next '/'.
                let after_scheme = s.server_url.split_once("://").map_or("", |(_, rest)| rest);
                let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or_default();
                // Without the port, as the label was made at pairing.
                let host = match authority.find(']') {
                    Some(end) => &authority[..=end],
                    None => authority.split(':').next().unwrap_or_default(),
                };
                let host = if host.is_empty() { "server" } else { host };
                DeviceKeyEntry {
                    id: s.id,
                    label: crate::pairing::key_label(Some(&s.service), host),
                }
            })
            .collect())
    }

    /// The paired server `id`.
    pub fn server(&self, id: Uuid) -> Result<ServerRecord, DeviceError> {
        self.servers()?.into_iter().find(|s| s.id == id).ok_or(DeviceError::UnknownServer(id))
    }

    /// Changes the server list under the lock; `change` returns what to give back.
    pub(crate) fn change_servers<T>(
        &self,
        change: impl FnOnce(&mut Vec<ServerRecord>) -> T,
    ) -> Result<T, DeviceError> {
        let _guard = lock(&self.servers_lock);
        let mut file: ServersFile = self.servers.read()?;
        let result = change(&mut file.servers);
        self.servers.write(&file)?;
        Ok(result)
    }

    /// Runs a keyring call off the async runtime: Secret Service calls block on D-Bus.
    pub(crate) async fn with_keystore<T: Send + 'static>(
        &self,
        call: impl FnOnce(&K) -> Result<T, DeviceError> + Send + 'static,
    ) -> Result<T, DeviceError> {
        let keystore = self.keystore.clone();
        tokio::task::spawn_blocking(move || call(&keystore))
            .await
            .map_err(|e| DeviceError::Task(e.to_string()))?
    }

    /// A protocol client of `server` holding the device key, loaded from the keyring into memory
    /// (zeroized when the last client is dropped).
    pub(crate) async fn client(&self, server: &ServerRecord) -> Result<DeviceClient, DeviceError> {
        let id = server.id;
        let loaded = self.with_keystore(move |k| secret::load(k, id)).await?;
        let client = DeviceClient::new(&server.server_url, loaded.key, server.server_key)
            .map_err(DeviceError::Server)?;
        Ok(client.with_clock(self.clock.clone()).with_stream_silence(self.stream_silence))
    }

    /// The offline verification code of paired server `id` now; in a code's last
    /// [`MIN_CODE_SECONDS`] the next one, which the server already accepts (one step ahead), so
    /// nobody is handed a code with no time to type it.
    pub async fn offline_code(&self, id: Uuid) -> Result<OfflineCode, DeviceError> {
        self.server(id)?;
        let loaded = self.with_keystore(move |k| secret::load(k, id)).await?;
        Ok(offline_code_at(&loaded.offline_seed, self.now()))
    }

    /// Past requests, oldest first.
    pub fn history(&self) -> Result<Vec<HistoryEntry>, DeviceError> {
        self.history.entries()
    }

    /// Records how a request ended; a history that cannot be written is logged, not fatal.
    pub(crate) fn remember(&self, shown: &Shown, outcome: HistoryOutcome) {
        let view = RequestView::new(shown.server, &shown.request);
        if let Err(error) = self.history.record(&view, outcome, self.now()) {
            tracing::warn!(%error, "could not write the approval history");
        }
    }

    /// The requests on screen, oldest first.
    pub fn shown(&self) -> Vec<RequestView> {
        let mut views: Vec<RequestView> =
            lock(&self.shown).values().map(|s| RequestView::new(s.server, &s.request)).collect();
        views.sort_by_key(|v| (v.created_at, v.id));
        views
    }

    /// Puts a verified request of paired server `server` on screen; false when it already is.
    pub(crate) fn show(&self, server: Uuid, request: SigninRequest) -> bool {
        let key = (server, request.id);
        let mut shown = lock(&self.shown);
        if shown.contains_key(&key) || lock(&self.gone).contains(&key) {
            return false;
        }
        shown.insert(key, Shown { server, request });
        true
    }

    /// The request `id` of paired server `server` on screen, if it is.
    pub(crate) fn shown_request(&self, server: Uuid, id: Uuid) -> Option<Shown> {
        lock(&self.shown).get(&(server, id)).cloned()
    }

    /// Takes request `id` of paired server `server` off the screen; another server's request
    /// with the same id stays.
    pub(crate) fn unshow(&self, server: Uuid, id: Uuid) -> Option<Shown> {
        let mut shown = lock(&self.shown);
        let mut gone = lock(&self.gone);
        if gone.len() >= GONE_KEPT {
            gone.pop_front();
        }
        gone.push_back((server, id));
        shown.remove(&(server, id))
    }

    /// The ids of the requests of `server` on screen.
    pub(crate) fn shown_ids(&self, server: Uuid) -> Vec<Uuid> {
        lock(&self.shown).values().filter(|s| s.server == server).map(|s| s.request.id).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use twofold_core::keystore::MemoryKeystore;

    use super::*;
    use crate::view::sample_request as request;

    #[test]
    fn a_request_taken_off_the_screen_is_not_shown_again_until_long_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::open(dir.path(), MemoryKeystore::default()).unwrap();
        let server = Uuid::from_u128(99);
        assert!(device.show(server, request(1)));
        assert!(!device.show(server, request(1)), "already on screen");
        assert!(device.unshow(server, Uuid::from_u128(1)).is_some());
        assert!(!device.show(server, request(1)), "a stale copy came back");
        assert!(device.shown().is_empty());

        // Only the latest GONE_KEPT are remembered: memory stays bounded.
        for n in 2..=GONE_KEPT as u128 + 1 {
            assert!(device.show(server, request(n)));
            device.unshow(server, Uuid::from_u128(n));
        }
        assert!(device.show(server, request(1)), "the oldest gone id was forgotten");
        assert!(!device.show(server, request(GONE_KEPT as u128 + 1)), "the newest is remembered");
    }

    #[test]
    fn an_offline_code_is_never_handed_out_with_too_little_time_left() {
        let seed = b"12345678901234567890";
        let code = |at| twofold_protocol::offline::code_at(seed, at);
        let early = offline_code_at(seed, 60);
        assert_eq!((early.code.as_str(), early.seconds_left), (code(60).as_str(), 30));
        let last_ten = offline_code_at(seed, 60 + 20);
        assert_eq!(last_ten.seconds_left, 10);
        assert_eq!(last_ten.code, code(60));
        let three_left = offline_code_at(seed, 60 + 27);
        assert_eq!(three_left.code, code(90), "the next code");
        assert_eq!(three_left.seconds_left, 33, "valid through the next step");
    }

    #[test]
    fn one_server_cannot_take_another_servers_request_off_the_screen() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::open(dir.path(), MemoryKeystore::default()).unwrap();
        let (honest, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(device.show(honest, request(7)));
        assert!(device.unshow(other, Uuid::from_u128(7)).is_none(), "withdrawn by another");
        assert!(device.shown_request(other, Uuid::from_u128(7)).is_none());
        assert!(device.shown_request(honest, Uuid::from_u128(7)).is_some());
        assert_eq!(device.shown().len(), 1);
        // The same id from the other server is its own request, shown beside the first.
        assert!(device.show(other, request(8)));
        assert!(device.show(honest, request(8)));
        assert_eq!(device.shown().len(), 3);
    }
}
