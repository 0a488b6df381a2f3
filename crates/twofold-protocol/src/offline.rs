//! Offline verification codes: when push cannot reach a device, it shows a code for the server it
//! is paired with (like "get a verification code" on Apple devices), and the service verifies it.
//!
//! The code is TOTP (RFC 6238) with the defaults every authenticator knows: HMAC-SHA-1, 30-second
//! steps, 6 digits, over the 20-byte seed the server gives the device at pairing.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP: u64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Bytes of a seed.
pub const SEED_LEN: usize = 20;

/// The time step of `unix_time`.
pub fn step_at(unix_time: u64) -> u64 {
    unix_time / STEP
}

/// The code of `seed` at time step `step`.
pub fn code_at_step(seed: &[u8], step: u64) -> String {
    // HMAC takes keys of any length, so this never fails; an empty MAC would give a wrong code,
    // never a panic.
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(seed) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // Dynamic truncation (RFC 4226 §5.3): 31 bits at the offset the last byte names.
    let offset = usize::from(digest.last().copied().unwrap_or(0) & 0x0f);
    let word = digest
        .get(offset..offset + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, |w| u32::from_be_bytes(w) & 0x7fff_ffff);
    format!("{:0width$}", word % 10u32.pow(DIGITS), width = DIGITS as usize)
}

/// The code of `seed` at `unix_time`.
pub fn code_at(seed: &[u8], unix_time: u64) -> String {
    code_at_step(seed, step_at(unix_time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_6238_sha1_vectors() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc6238_sha1.txt");
        let vectors = std::fs::read_to_string(path).unwrap();
        let mut checked = 0;
        for line in vectors.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let (time, code) = line.split_once(' ').unwrap();
            let time: u64 = time.parse().unwrap();
            assert_eq!(code_at(b"12345678901234567890", time), code[2..], "at {time}");
            checked += 1;
        }
        assert_eq!(checked, 6);
    }

    #[test]
    fn codes_change_with_the_step() {
        let seed = [7u8; SEED_LEN];
        assert_eq!(code_at(&seed, 0), code_at(&seed, 29));
        assert_ne!(code_at(&seed, 29), code_at(&seed, 30));
        assert_eq!(code_at(&seed, 30).len(), 6);
    }
}
