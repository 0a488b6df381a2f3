//! In-process fan-out of what happens to a user's sign-ins and devices, to that user's device
//! streams and the long polls waiting on them. One channel per user, so an event wakes only the
//! receivers it concerns (thousands of idle streams cost nothing per event).
//!
//! Several instances sharing a PostgreSQL database tell each other too: each event goes out as a
//! [`Notice`] (`NOTIFY`), and each instance feeds the notices of the others into its own hub.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;
use uuid::Uuid;

use crate::store::{Notice, NoticeKind};

/// Events a slow receiver may miss before it is told it lagged; a lagging receiver re-reads the
/// database, so nothing is lost. Each user's channel holds this many events' room for as long as
/// one of its devices streams (an idle stream's largest cost after the connection): a few
/// events per sign-in, read at once by each receiver's task, need no more.
const CAPACITY: usize = 8;
/// Every this many subscriptions, channels nobody listens to any more are dropped.
const PRUNE_EVERY: usize = 1024;

/// Something that happened to a user's sign-ins or devices.
#[derive(Debug, Clone)]
pub(crate) struct HubEvent {
    /// The service of the user.
    pub service_id: Uuid,
    /// The user.
    pub user: Arc<str>,
    /// What happened.
    pub kind: HubKind,
}

/// What happened.
#[derive(Debug, Clone)]
pub(crate) enum HubKind {
    /// A new request and its signed JSON.
    Request { id: Uuid, json: Arc<str> },
    /// A request was decided (by a device, or by a wrong number).
    Decided { id: Uuid, by: Option<Uuid> },
    /// A request expired unanswered.
    Expired { id: Uuid },
    /// A device was revoked: its stream ends.
    Revoked { device: Uuid },
}

impl HubEvent {
    /// The event for other instances.
    pub(crate) fn notice(&self) -> Notice {
        let kind = match &self.kind {
            HubKind::Request { id, json } => {
                NoticeKind::Request { id: *id, json: Some(json.to_string()) }
            }
            HubKind::Decided { id, by } => NoticeKind::Decided { id: *id, by: *by },
            HubKind::Expired { id } => NoticeKind::Expired { id: *id },
            HubKind::Revoked { device } => NoticeKind::Revoked { device: *device },
        };
        Notice { service_id: self.service_id, user: self.user.to_string(), kind }
    }
}

type UserKey = (Uuid, Arc<str>);

/// The fan-out.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    users: Mutex<HashMap<UserKey, broadcast::Sender<HubEvent>>>,
    subscriptions: AtomicUsize,
}

impl Hub {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<UserKey, broadcast::Sender<HubEvent>>> {
        // The map stays consistent even if a holder panicked: every change is one insert/remove.
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells the user's receivers; nobody listening is fine.
    pub(crate) fn send(&self, event: HubEvent) {
        let key = (event.service_id, Arc::clone(&event.user));
        let mut users = self.users();
        if let Some(sender) = users.get(&key)
            && sender.send(event).is_err()
        {
            users.remove(&key);
        }
    }

    /// Whether anything here listens to `user` of `service_id`: another instance's request is
    /// read from the database only for an instance with one of the user's devices (one that
    /// subscribes later reads the committed request with the user's pending ones).
    pub(crate) fn listens(&self, service_id: Uuid, user: &Arc<str>) -> bool {
        self.users()
            .get(&(service_id, Arc::clone(user)))
            .is_some_and(|sender| sender.receiver_count() > 0)
    }

    /// Receives what happens to `user` of `service_id` from now on.
    pub(crate) fn subscribe(&self, service_id: Uuid, user: &str) -> broadcast::Receiver<HubEvent> {
        let mut users = self.users();
        if self.subscriptions.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            users.retain(|_, sender| sender.receiver_count() > 0);
        }
        users
            .entry((service_id, Arc::from(user)))
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(service: u128, user: &str) -> HubEvent {
        HubEvent {
            service_id: Uuid::from_u128(service),
            user: user.into(),
            kind: HubKind::Revoked { device: Uuid::nil() },
        }
    }

    #[test]
    fn events_reach_only_their_users_receivers() {
        let hub = Hub::new();
        let mut alice = hub.subscribe(Uuid::from_u128(1), "alice");
        let mut other_alice = hub.subscribe(Uuid::from_u128(2), "alice");
        hub.send(event(1, "alice"));
        hub.send(event(1, "bob"));
        assert_eq!(&*alice.try_recv().unwrap().user, "alice");
        assert!(alice.try_recv().is_err());
        assert!(other_alice.try_recv().is_err());
    }

    #[test]
    fn channels_without_receivers_are_dropped() {
        let hub = Hub::new();
        drop(hub.subscribe(Uuid::from_u128(1), "alice"));
        hub.send(event(1, "alice"));
        assert!(hub.users().is_empty());
    }
}
