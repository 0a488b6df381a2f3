//! The connections: one task per paired server keeps its event stream open, reconnects with
//! capped exponential back-off plus jitter, catches up on pending requests after reconnecting, and
//! passes on only requests whose signature verified against the pinned server key.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::StreamExt as _;
use serde::Serialize;
use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use twofold_core::keystore::Keystore;
use twofold_protocol::SigninRequest;
use twofold_protocol::api::WithdrawnReason;
use twofold_protocol::client::{ClientError, DeviceClient, DeviceEvent};
use uuid::Uuid;

use crate::device::{Device, DeviceError, Unpaired};
use crate::history::HistoryOutcome;
use crate::servers::{PairedServer, ServerRecord};
use crate::view::RequestView;

/// The wait before the first retry.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between retries.
pub const MAX_RETRY: Duration = Duration::from_secs(60);

/// The wait before retry number `attempt` (1 for the first): doubling from [`FIRST_RETRY`] up to
/// [`MAX_RETRY`], of which a random part (`jitter` out of `u32::MAX`) of the second half is
/// waited, so devices cut off together do not all come back in the same second.
pub fn backoff(attempt: u32, jitter: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(31);
    let full = FIRST_RETRY.saturating_mul(1u32 << doublings).min(MAX_RETRY);
    let half = full / 2;
    half + half.mul_f64(f64::from(jitter) / f64::from(u32::MAX))
}

fn random_jitter() -> u32 {
    let mut bytes = [0u8; 4];
    // Without randomness the wait is the shortest allowed: still correct, merely less spread.
    let _ = getrandom::fill(&mut bytes);
    u32::from_le_bytes(bytes)
}

/// Where a paired server's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// The event stream is open.
    Connected,
    /// Not connected; trying again.
    Reconnecting {
        /// Failed attempts in a row (0 before the first attempt).
        attempt: u32,
        /// When the next attempt starts, Unix seconds, while waiting.
        retry_at: Option<u64>,
    },
    /// The device's key cannot be read (the keystore is missing, locked or damaged): no
    /// connection can be made until it can; trying again.
    NoKey {
        /// Failed attempts in a row.
        attempt: u32,
        /// When the next attempt starts, Unix seconds, while waiting.
        retry_at: Option<u64>,
    },
    /// The server says this device is revoked: no more attempts.
    Revoked,
    /// Not listening: the supervisor was stopped.
    Stopped,
}

impl ConnectionState {
    /// The name the UI reads.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::Reconnecting { .. } => "reconnecting",
            Self::NoKey { .. } => "no_key",
            Self::Revoked => "revoked",
            Self::Stopped => "stopped",
        }
    }
}

/// Why a request left the screen without an answer from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WithdrawReason {
    /// Answered on another device.
    Answered,
    /// Nobody answered in time.
    Expired,
}

/// A request taken off the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    /// The paired server.
    pub server: Uuid,
    /// The request.
    pub request: Uuid,
    /// Why.
    pub reason: WithdrawReason,
}

/// What the supervisor reports to the app.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", content = "payload", rename_all = "snake_case")]
pub enum Update {
    /// A verified request to show.
    Request(Box<RequestView>),
    /// A request to take off the screen.
    Withdrawn(Withdrawal),
    /// The paired servers or their states changed: the new list.
    ServersChanged(Vec<PairedServer>),
}

struct Shared {
    states: Mutex<HashMap<Uuid, ConnectionState>>,
    wake: Notify,
    updates: mpsc::UnboundedSender<Update>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps stay consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn send(&self, update: Update) {
        // The app dropping its receiver means it is shutting down: nothing left to tell.
        let _ = self.updates.send(update);
    }

    fn servers<K: Keystore + Send + Sync + 'static>(
        &self,
        device: &Device<K>,
    ) -> Result<Vec<PairedServer>, DeviceError> {
        let now = device.now();
        let states = lock(&self.states);
        Ok(device
            .servers()?
            .iter()
            .map(|record| {
                let state = states
                    .get(&record.id)
                    .copied()
                    .unwrap_or(ConnectionState::Reconnecting { attempt: 0, retry_at: None });
                PairedServer::new(record, &state, now)
            })
            .collect())
    }

    fn servers_changed<K: Keystore + Send + Sync + 'static>(&self, device: &Device<K>) {
        match self.servers(device) {
            Ok(servers) => self.send(Update::ServersChanged(servers)),
            Err(error) => tracing::warn!(%error, "could not list the paired servers"),
        }
    }
}

/// Keeps every paired server's connection and reports through [`Update`]s. Stops its tasks when
/// dropped.
pub struct Supervisor<K: Keystore + Send + Sync + 'static> {
    device: Arc<Device<K>>,
    shared: Arc<Shared>,
    runtime: Handle,
    tasks: Mutex<HashMap<Uuid, JoinHandle<()>>>,
}

impl<K: Keystore + Send + Sync + 'static> Supervisor<K> {
    /// Starts a connection per paired server of `device` on `runtime`; updates arrive on the
    /// receiver.
    pub fn start(
        device: Arc<Device<K>>,
        runtime: Handle,
    ) -> Result<(Self, mpsc::UnboundedReceiver<Update>), DeviceError> {
        let (updates, receiver) = mpsc::unbounded_channel();
        let shared =
            Arc::new(Shared { states: Mutex::new(HashMap::new()), wake: Notify::new(), updates });
        let supervisor = Self { device, shared, runtime, tasks: Mutex::new(HashMap::new()) };
        for record in supervisor.device.servers()? {
            supervisor.watch(record);
        }
        Ok((supervisor, receiver))
    }

    /// The device the connections belong to.
    pub fn device(&self) -> &Arc<Device<K>> {
        &self.device
    }

    fn watch(&self, record: ServerRecord) {
        let id = record.id;
        let connection = Connection {
            device: self.device.clone(),
            shared: self.shared.clone(),
            runtime: self.runtime.clone(),
            record,
        };
        let task = self.runtime.spawn(connection.run());
        if let Some(old) = lock(&self.tasks).insert(id, task) {
            old.abort();
        }
    }

    /// Pairs through `link` as `name` and starts listening to the new server.
    pub async fn pair(&self, link: &str, name: &str) -> Result<ServerRecord, DeviceError> {
        let record = self.device.pair(link, name).await?;
        self.watch(record.clone());
        self.shared.servers_changed(&self.device);
        Ok(record)
    }

    /// Stops listening to paired server `id` and unpairs from it.
    pub async fn unpair(&self, id: Uuid) -> Result<Unpaired, DeviceError> {
        if let Some(task) = lock(&self.tasks).remove(&id) {
            task.abort();
        }
        let result = self.device.unpair(id).await;
        lock(&self.shared.states).remove(&id);
        self.shared.servers_changed(&self.device);
        result
    }

    /// Every connection starts afresh now: one waiting to retry tries at once, and an open
    /// stream, which may have died unnoticed, is replaced and caught up (after resume from
    /// sleep, or when the network comes back).
    pub fn wake(&self) {
        self.shared.wake.notify_waiters();
    }

    /// Stops every connection.
    pub fn stop(&self) {
        for (id, task) in lock(&self.tasks).drain() {
            task.abort();
            lock(&self.shared.states).insert(id, ConnectionState::Stopped);
        }
        self.shared.servers_changed(&self.device);
    }

    /// The paired servers with their connection states.
    pub fn servers(&self) -> Result<Vec<PairedServer>, DeviceError> {
        self.shared.servers(&self.device)
    }
}

impl<K: Keystore + Send + Sync + 'static> Drop for Supervisor<K> {
    fn drop(&mut self) {
        for (_, task) in lock(&self.tasks).drain() {
            task.abort();
        }
    }
}

impl<K: Keystore + Send + Sync + 'static> std::fmt::Debug for Supervisor<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").field("device", &self.device).finish_non_exhaustive()
    }
}

/// Whether the server refused because it no longer knows this device.
fn is_revoked(error: &ClientError) -> bool {
    matches!(error, ClientError::Refused { body, .. }
        if body.error == "device_revoked" || body.error == "unknown_device")
}

/// Why a stream stopped being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// It broke or the server closed it: retry after the back-off.
    Broke,
    /// A wake-up (resume, network back): reconnect at once.
    Woken,
}

/// One paired server's connection task.
struct Connection<K: Keystore + Send + Sync + 'static> {
    device: Arc<Device<K>>,
    shared: Arc<Shared>,
    runtime: Handle,
    record: ServerRecord,
}

impl<K: Keystore + Send + Sync + 'static> Connection<K> {
    fn set_state(&self, state: ConnectionState) {
        let previous = lock(&self.shared.states).insert(self.record.id, state);
        if previous != Some(state) {
            self.shared.servers_changed(&self.device);
        }
    }

    async fn run(self) {
        let server = self.record.id;
        let mut client: Option<DeviceClient> = None;
        let mut attempt: u32 = 0;
        loop {
            if client.is_none() {
                match self.device.client(&self.record).await {
                    Ok(loaded) => client = Some(loaded),
                    Err(error) => tracing::warn!(%server, %error, "cannot load the device key"),
                }
            }
            if let Some(client) = &client {
                match client.events().await {
                    Ok(events) => {
                        attempt = 0;
                        self.set_state(ConnectionState::Connected);
                        tracing::debug!(%server, "event stream open");
                        self.catch_up(client).await;
                        if self.listen(events).await == Ended::Woken {
                            // The stream may have died unnoticed while asleep: a new one now.
                            continue;
                        }
                    }
                    Err(error) if is_revoked(&error) => {
                        tracing::warn!(%server, %error, "the server revoked this device");
                        self.set_state(ConnectionState::Revoked);
                        return;
                    }
                    Err(error) => tracing::info!(%server, %error, "cannot open the event stream"),
                }
            }
            attempt = attempt.saturating_add(1);
            let delay = backoff(attempt, random_jitter());
            let retry_at = Some(self.device.now() + delay.as_secs_f64().ceil() as u64);
            // Without its key the server is not at fault: say which of the two waits this is.
            self.set_state(if client.is_none() {
                ConnectionState::NoKey { attempt, retry_at }
            } else {
                ConnectionState::Reconnecting { attempt, retry_at }
            });
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.shared.wake.notified() => {}
            }
        }
    }

    /// Reads the stream until it ends or breaks, or a wake-up asks for a fresh one.
    async fn listen(
        &self,
        events: impl futures_util::Stream<Item = Result<DeviceEvent, ClientError>>,
    ) -> Ended {
        let server = self.record.id;
        let mut events = std::pin::pin!(events);
        loop {
            let event = tokio::select! {
                event = events.next() => event,
                () = self.shared.wake.notified() => {
                    tracing::info!(%server, "woken: opening a fresh event stream");
                    return Ended::Woken;
                }
            };
            let Some(event) = event else { break };
            match event {
                Ok(DeviceEvent::Request(request)) => self.deliver(*request),
                Ok(DeviceEvent::Withdrawn(withdrawn)) => {
                    let reason = match withdrawn.reason {
                        WithdrawnReason::Expired => WithdrawReason::Expired,
                        WithdrawnReason::DecidedElsewhere => WithdrawReason::Answered,
                    };
                    self.withdraw(withdrawn.id, reason);
                }
                Ok(_) => {}
                // A forgery (or a server whose key changed) must never reach the screen; the
                // stream itself is still good.
                Err(ClientError::Verify(error)) => {
                    tracing::warn!(%server, %error, "dropped a sign-in request that failed verification");
                }
                Err(error) => {
                    tracing::info!(%server, %error, "the event stream broke");
                    return Ended::Broke;
                }
            }
        }
        tracing::info!(%server, "the server closed the event stream");
        Ended::Broke
    }

    /// After (re)connecting: requests that were pending here but are no longer pending on the
    /// server were answered elsewhere or expired while the stream was down.
    async fn catch_up(&self, client: &DeviceClient) {
        let pending = match client.pending().await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::info!(server = %self.record.id, %error, "cannot catch up on pending requests");
                return;
            }
        };
        let still: HashSet<Uuid> = pending.iter().map(|r| r.id).collect();
        let now = self.device.now();
        for id in self.device.shown_ids(self.record.id) {
            if !still.contains(&id) {
                let expired = self
                    .device
                    .shown_request(self.record.id, id)
                    .is_some_and(|shown| shown.request.expires_at <= now);
                let reason =
                    if expired { WithdrawReason::Expired } else { WithdrawReason::Answered };
                self.withdraw(id, reason);
            }
        }
        for request in pending {
            self.deliver(request);
        }
    }

    /// Shows a verified request once, and takes it off the screen when it expires. A request
    /// for another service or user than this pairing's is dropped: the server's key signs for
    /// every service it hosts, and this device answers for one user of one. So is a request
    /// whose number choices do not fit its mode.
    fn deliver(&self, request: SigninRequest) {
        if !self.record.is_for(&request) {
            tracing::warn!(
                server = %self.record.id,
                "dropped a sign-in request for another service or user than this pairing's"
            );
            return;
        }
        if !request.choices_fit_mode() {
            // Number mode without three distinct signed choices cannot be answered as asked.
            tracing::warn!(
                server = %self.record.id,
                "dropped a sign-in request whose number choices do not fit its mode"
            );
            return;
        }
        let now = self.device.now();
        if request.expires_at <= now {
            return;
        }
        let (id, lifetime) = (request.id, request.expires_at - now);
        let view = RequestView::new(self.record.id, &request);
        if !self.device.show(self.record.id, request) {
            return;
        }
        self.shared.send(Update::Request(Box::new(view)));
        let (device, shared, server) = (self.device.clone(), self.shared.clone(), self.record.id);
        self.runtime.spawn(async move {
            tokio::time::sleep(Duration::from_secs(lifetime)).await;
            withdraw(&device, &shared, server, id, WithdrawReason::Expired);
        });
    }

    fn withdraw(&self, id: Uuid, reason: WithdrawReason) {
        withdraw(&self.device, &self.shared, self.record.id, id, reason);
    }
}

/// Takes request `id` off the screen, if it still is, records it and reports it.
fn withdraw<K: Keystore + Send + Sync + 'static>(
    device: &Device<K>,
    shared: &Shared,
    server: Uuid,
    id: Uuid,
    reason: WithdrawReason,
) {
    let Some(shown) = device.unshow(server, id) else { return };
    let outcome = match reason {
        WithdrawReason::Answered => HistoryOutcome::Withdrawn,
        WithdrawReason::Expired => HistoryOutcome::Expired,
    };
    device.remember(&shown, outcome);
    shared.send(Update::Withdrawn(Withdrawal { server, request: id, reason }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let longest: Vec<u64> = (1..=9).map(|a| backoff(a, u32::MAX).as_secs()).collect();
        assert_eq!(longest, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(u32::MAX, u32::MAX), MAX_RETRY);
    }

    #[test]
    fn jitter_waits_between_half_and_all_of_the_step() {
        for attempt in 1..=10 {
            let full = backoff(attempt, u32::MAX);
            assert_eq!(backoff(attempt, 0), full / 2);
            let middle = backoff(attempt, u32::MAX / 2);
            assert!(middle > full / 2 && middle < full, "{attempt}: {middle:?} of {full:?}");
        }
    }

    #[test]
    fn state_names_are_what_the_ui_reads() {
        assert_eq!(ConnectionState::Connected.name(), "connected");
        let waiting = ConnectionState::Reconnecting { attempt: 1, retry_at: None };
        assert_eq!(waiting.name(), "reconnecting");
        let keyless = ConnectionState::NoKey { attempt: 1, retry_at: None };
        assert_eq!(keyless.name(), "no_key");
        assert_eq!(ConnectionState::Revoked.name(), "revoked");
        assert_eq!(ConnectionState::Stopped.name(), "stopped");
    }

    #[test]
    fn updates_serialize_as_the_app_forwards_them() {
        let update = Update::Withdrawn(Withdrawal {
            server: Uuid::from_u128(1),
            request: Uuid::from_u128(2),
            reason: WithdrawReason::Expired,
        });
        let json = serde_json::to_value(update).unwrap_or_default();
        assert_eq!(json["event"], "withdrawn");
        assert_eq!(json["payload"]["reason"], "expired");
        assert_eq!(json["payload"]["request"], "00000000-0000-0000-0000-000000000002");
    }
}
