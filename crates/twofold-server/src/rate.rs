//! Events counted per key in fixed windows of time (device authentications per device), in
//! memory: a burst beyond the window's allowance is refused before it writes anything.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

/// Keys at which stale windows are swept out on the next count.
const SWEEP_AT: usize = 4096;

/// Counts per key in the current window.
#[derive(Debug)]
pub(crate) struct WindowCounter<K: Eq + Hash> {
    /// Seconds per window.
    window: u64,
    /// Events allowed per key per window.
    max: u32,
    /// Per key: the window's start and the events counted in it.
    counts: Mutex<HashMap<K, (u64, u32)>>,
}

impl<K: Eq + Hash> WindowCounter<K> {
    /// At most `max` events per key in each window of `window` seconds.
    pub(crate) fn new(window: u64, max: u32) -> Self {
        Self { window: window.max(1), max, counts: Mutex::new(HashMap::new()) }
    }

    /// Counts an event of `key` at `now`; false, and not counted, if the window's allowance is
    /// used up.
    pub(crate) fn allow(&self, key: K, now: u64) -> bool {
        let start = now - now % self.window;
        // Every change is one assignment: a panicking holder leaves the map whole.
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.len() >= SWEEP_AT {
            counts.retain(|_, (since, _)| *since == start);
        }
        let entry = counts.entry(key).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        if entry.1 >= self.max {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_allowance_per_window() {
        let counter = WindowCounter::new(60, 2);
        assert!(counter.allow("a", 120));
        assert!(counter.allow("a", 150));
        assert!(!counter.allow("a", 179));
        assert!(counter.allow("b", 179));
        assert!(counter.allow("a", 180));
    }

    #[test]
    fn stale_windows_are_swept_out() {
        let counter = WindowCounter::new(60, 1);
        for key in 0..SWEEP_AT {
            assert!(counter.allow(key, 0));
        }
        assert!(counter.allow(SWEEP_AT, 60));
        assert_eq!(counter.counts.lock().unwrap().len(), 1);
    }
}
