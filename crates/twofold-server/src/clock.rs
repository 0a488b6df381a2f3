//! Time and randomness, injected so tests can move time and the library never reads the system
//! clock or the OS random source behind the caller's back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The current time.
pub trait Clock: Send + Sync + 'static {
    /// Unix seconds now.
    fn now(&self) -> u64;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }
}

/// A clock that moves only when told: for tests of expiry without waiting.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: u64) -> Self {
        Self(AtomicU64::new(now))
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The OS gave no random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system could not provide random bytes")]
pub struct EntropyError;

/// A source of cryptographically secure random bytes.
pub trait Entropy: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError>;
}

/// The operating system's random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyError> {
        getrandom::fill(buf).map_err(|_| EntropyError)
    }
}

/// `N` random bytes.
pub(crate) fn random<const N: usize>(entropy: &dyn Entropy) -> Result<[u8; N], EntropyError> {
    let mut bytes = [0u8; N];
    entropy.fill(&mut bytes)?;
    Ok(bytes)
}

/// 32 random bytes: the seed of a new key pair.
pub fn random_seed(entropy: &dyn Entropy) -> Result<[u8; 32], EntropyError> {
    random::<32>(entropy)
}

/// A random (version 4) UUID.
pub(crate) fn random_uuid(entropy: &dyn Entropy) -> Result<uuid::Uuid, EntropyError> {
    Ok(uuid::Builder::from_random_bytes(random::<16>(entropy)?).into_uuid())
}

/// A uniformly random number in `0..bound` (rejection sampling, so no bias toward small values).
pub(crate) fn below(entropy: &dyn Entropy, bound: u32) -> Result<u32, EntropyError> {
    let bound = bound.max(1);
    let zone = u32::MAX - u32::MAX % bound;
    loop {
        let value = u32::from_be_bytes(random::<4>(entropy)?);
        if value < zone {
            return Ok(value % bound);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(100);
        assert_eq!(clock.now(), 100);
        clock.advance(21);
        assert_eq!(clock.now(), 121);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut seen = [false; 6];
        for _ in 0..500 {
            let n = below(&OsEntropy, 6).unwrap();
            seen[n as usize] = true;
        }
        assert!(seen.iter().all(|&s| s), "{seen:?}");
    }
}
