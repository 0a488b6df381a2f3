//! A tiny seeded generator (SplitMix64), so the corpus is the same bytes on every run and every
//! machine, whatever version of a random-number crate the lock file holds.

/// Deterministic pseudo-random numbers from a 64-bit seed.
pub struct Rng(u64);

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high` (`low` when the range is empty).
    pub fn range(&mut self, low: u32, high: u32) -> u32 {
        if high <= low {
            return low;
        }
        let span = u64::from(high - low) + 1;
        // The modulo bias is at most span / 2^64: irrelevant for picking layouts.
        low + u32::try_from(self.next_u64() % span).unwrap_or(0)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f32 {
        // 24 bits: exactly what an f32 mantissa holds.
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let last = u32::try_from(items.len().saturating_sub(1)).unwrap_or(u32::MAX);
        &items[self.range(0, last) as usize]
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 56) as u8).collect()
    }

    /// A generator for a sub-task, independent of how many numbers this one has drawn since.
    pub fn fork(&mut self) -> Self {
        Self::new(self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_sequence_and_ranges_hold() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let n = a.range(3, 9);
            assert!((3..=9).contains(&n));
            b.range(3, 9);
        }
        assert_eq!(Rng::new(1).range(5, 5), 5);
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}
