//! Counted places per key (open connections per address, open streams per device): a place is
//! taken while its [`Slot`] lives and given back when it is dropped, however the holder ends.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

/// Places taken per key.
#[derive(Debug)]
pub(crate) struct Slots<K: Eq + Hash>(Mutex<HashMap<K, usize>>);

impl<K: Eq + Hash> Default for Slots<K> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

/// One place taken for `key`, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot<K: Eq + Hash> {
    slots: Arc<Slots<K>>,
    key: K,
}

impl<K: Eq + Hash + Clone> Slots<K> {
    /// Takes a place for `key`, unless `max` are taken already.
    pub(crate) fn take(self: &Arc<Self>, key: K, max: usize) -> Option<Slot<K>> {
        // Every change is one increment or decrement: a panicking holder leaves counts whole.
        let mut taken = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = taken.entry(key.clone()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot { slots: Arc::clone(self), key })
    }
}

impl<K: Eq + Hash> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut taken = self.slots.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = taken.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                taken.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_at_most_its_places_and_gets_them_back() {
        let slots = Arc::new(Slots::default());
        let first = slots.take("a", 2).unwrap();
        let _second = slots.take("a", 2).unwrap();
        assert!(slots.take("a", 2).is_none());
        assert!(slots.take("b", 2).is_some());
        drop(first);
        assert!(slots.take("a", 2).is_some());
    }

    #[test]
    fn keys_without_places_taken_are_forgotten() {
        let slots = Arc::new(Slots::default());
        drop(slots.take(1, 1).unwrap());
        assert!(slots.0.lock().unwrap().is_empty());
    }
}
