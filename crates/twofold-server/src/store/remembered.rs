//! What the SQLite store remembers of devices and sign-ins, so that the routes of one sign-in
//! (create, decide, read back) do not each ask SQLite again: every statement is a hand-off to
//! one of sqlx's connection threads and back, and those hand-offs, not SQLite, were most of the
//! cost of a sign-in.
//!
//! Sound because one process owns a SQLite file and every change to a device or a sign-in goes
//! through its store, which updates or forgets what is remembered before the change's method
//! returns: a request that starts after a revocation was answered sees the revocation. (The
//! command line changes only services, which are not remembered.) PostgreSQL instances change
//! rows under each other, so the PostgreSQL store remembers nothing.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

use uuid::Uuid;

use super::{Device, Signin};

/// Sign-ins remembered per generation (about 1 KiB each): at 2 000 sign-ins a second, one is
/// kept 2 to 4 seconds after it was last written or read, which covers the decision and the
/// service's read-back right after; older ones are read from the database.
const SIGNINS: usize = 4_096;
/// Devices (and users' device lists) remembered per generation.
const DEVICES: usize = 16_384;

/// A map of at most `2 × capacity` entries: when the young generation is full it becomes the
/// old one, and the old one is dropped. A hit in the old generation moves to the young.
#[derive(Debug)]
struct Generations<K, V> {
    young: HashMap<K, V>,
    old: HashMap<K, V>,
    capacity: usize,
}

impl<K: Hash + Eq, V> Generations<K, V> {
    fn new(capacity: usize) -> Self {
        Self { young: HashMap::new(), old: HashMap::new(), capacity }
    }

    fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        if !self.young.contains_key(key) {
            let (key, value) = self.old.remove_entry(key)?;
            self.insert(key, value);
        }
        self.young.get_mut(key)
    }

    fn insert(&mut self, key: K, value: V) {
        if self.young.len() >= self.capacity {
            self.old = std::mem::take(&mut self.young);
        }
        self.old.remove(&key);
        self.young.insert(key, value);
    }

    fn remove(&mut self, key: &K) {
        self.young.remove(key);
        self.old.remove(key);
    }
}

/// Takes a lock whose data stays consistent even if a holder panicked: every change under it
/// is one map operation.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Remembered devices: by key, and each user's unrevoked devices.
#[derive(Debug)]
struct Devices {
    by_key: Generations<[u8; 32], Device>,
    by_user: Generations<(Uuid, String), Vec<Device>>,
    /// Counts changes, so a read that raced a change does not remember what it read.
    changes: u64,
}

/// Remembered sign-ins. `None` marks one changed while it was not remembered: the database
/// has it, and a late [`Remembered::signin_added`] must not bring back its first state.
type Signins = Generations<Uuid, Option<Signin>>;

/// What the SQLite store remembers; shared by the store's clones.
#[derive(Debug)]
pub(super) struct Remembered {
    devices: Mutex<Devices>,
    signins: Mutex<Signins>,
}

impl Default for Remembered {
    fn default() -> Self {
        Self {
            devices: Mutex::new(Devices {
                by_key: Generations::new(DEVICES),
                by_user: Generations::new(DEVICES),
                changes: 0,
            }),
            signins: Mutex::new(Generations::new(SIGNINS)),
        }
    }
}

impl Remembered {
    /// The device with this key, if remembered.
    pub(super) fn device(&self, key: &[u8; 32]) -> Option<Device> {
        lock(&self.devices).by_key.get_mut(key).cloned()
    }

    /// A user's unrevoked devices, if remembered.
    pub(super) fn devices(&self, service_id: Uuid, user: &str) -> Option<Vec<Device>> {
        lock(&self.devices).by_user.get_mut(&(service_id, user.to_owned())).cloned()
    }

    /// A mark to take before reading devices from the database, for [`Self::device_read`] and
    /// [`Self::devices_read`].
    pub(super) fn device_mark(&self) -> u64 {
        lock(&self.devices).changes
    }

    /// Remembers a device read from the database, unless a device changed since `mark`.
    pub(super) fn device_read(&self, mark: u64, device: &Device) {
        let mut devices = lock(&self.devices);
        if devices.changes == mark {
            devices.by_key.insert(device.public_key.to_bytes(), device.clone());
        }
    }

    /// Remembers a user's devices read from the database, unless a device changed since `mark`.
    pub(super) fn devices_read(&self, mark: u64, service_id: Uuid, user: &str, list: &[Device]) {
        let mut devices = lock(&self.devices);
        if devices.changes == mark {
            devices.by_user.insert((service_id, user.to_owned()), list.to_vec());
        }
    }

    /// Forgets the device with `key` and its user's list: it was paired or revoked.
    pub(super) fn device_changed(&self, service_id: Uuid, user: &str, key: &[u8; 32]) {
        let mut devices = lock(&self.devices);
        devices.changes += 1;
        devices.by_key.remove(key);
        devices.by_user.remove(&(service_id, user.to_owned()));
    }

    /// The sign-in with this id, if remembered.
    pub(super) fn signin(&self, id: Uuid) -> Option<Signin> {
        lock(&self.signins).get_mut(&id).and_then(|signin| signin.clone())
    }

    /// Remembers a sign-in just written to the database.
    pub(super) fn signin_added(&self, signin: &Signin) {
        let mut signins = lock(&self.signins);
        if signins.get_mut(&signin.id).is_none() {
            signins.insert(signin.id, Some(signin.clone()));
        }
    }

    /// Applies to the remembered sign-in `id` what the database just did to its row.
    pub(super) fn signin_changed(&self, id: Uuid, change: impl FnOnce(&mut Signin)) {
        let mut signins = lock(&self.signins);
        match signins.get_mut(&id) {
            Some(Some(signin)) => change(signin),
            Some(None) => {}
            None => signins.insert(id, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_keep_at_most_twice_their_capacity_and_keep_what_is_used() {
        let mut map = Generations::new(2);
        for k in 0..10u32 {
            map.insert(k, k);
            // 0 is read each time: it keeps moving to the young generation.
            assert_eq!(map.get_mut(&0), Some(&mut 0));
        }
        assert!(map.young.len() + map.old.len() <= 4);
        assert_eq!(map.get_mut(&9), Some(&mut 9));
        assert_eq!(map.get_mut(&1), None);
        map.remove(&0);
        assert_eq!(map.get_mut(&0), None);
    }
}
