//! Offline-code seeds encrypted at rest. Whoever reads the database (a copy, a backup, a
//! PostgreSQL administrator) must not be able to make a user's offline codes: each seed is
//! sealed with XChaCha20-Poly1305 under a key derived from the server key (HKDF-SHA256), bound
//! to its device's id, so that a sealed seed copied onto another device's row does not open.
//!
//! Sealed: version byte 1, 24-byte random nonce, the encrypted seed, 16-byte tag. A plain seed
//! (exactly [`SEED_LEN`] bytes, as servers before issue 18 stored them) still opens.

use chacha20poly1305::aead::{Aead as _, Payload};
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305};
use twofold_protocol::KeyPair;
use twofold_protocol::offline::SEED_LEN;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::clock::{Entropy, EntropyError};
use crate::store::OfflineSeed;

/// What the derived key is for: another use of the server key derives another key.
const KEY_INFO: &[u8] = b"twofold-server offline-seed sealing v1";
/// The first byte of a sealed seed.
const VERSION: u8 = 1;
/// Nonce length of XChaCha20-Poly1305.
const NONCE_LEN: usize = 24;

/// A sealed seed that does not open: damaged, from another server key or another device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an offline-code seed in the database does not open with this server's key")]
pub struct UnsealError;

/// Seals and opens offline-code seeds with the server key's sealing key.
pub struct SeedSealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SeedSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeedSealer(<redacted>)")
    }
}

impl SeedSealer {
    /// The sealer of the server key `key`.
    pub fn new(key: &KeyPair) -> Self {
        let mut sealing = Zeroizing::new([0u8; 32]);
        let seed = key.seed();
        // 32 bytes is far below HKDF-SHA256's 8 160-byte limit: expand cannot fail.
        let _ = hkdf::Hkdf::<sha2::Sha256>::new(None, seed.as_slice())
            .expand(KEY_INFO, sealing.as_mut_slice());
        Self { cipher: XChaCha20Poly1305::new((&*sealing).into()) }
    }

    /// `seed` sealed for the device `device_id`.
    pub fn seal(
        &self,
        device_id: Uuid,
        seed: &OfflineSeed,
        entropy: &dyn Entropy,
    ) -> Result<Vec<u8>, EntropyError> {
        let mut nonce = [0u8; NONCE_LEN];
        entropy.fill(&mut nonce)?;
        let payload = Payload { msg: seed.0.as_slice(), aad: device_id.as_bytes() };
        // Encrypting a 20-byte message cannot exceed the cipher's length limit.
        let sealed = self.cipher.encrypt(&nonce.into(), payload).unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The seed of `device_id` from what the database holds.
    pub fn open(&self, device_id: Uuid, stored: &[u8]) -> Result<OfflineSeed, UnsealError> {
        if let Ok(plain) = <[u8; SEED_LEN]>::try_from(stored) {
            return Ok(OfflineSeed(Zeroizing::new(plain)));
        }
        let (&version, rest) = stored.split_first().ok_or(UnsealError)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(UnsealError);
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| UnsealError)?;
        let payload = Payload { msg: sealed, aad: device_id.as_bytes() };
        let plain =
            Zeroizing::new(self.cipher.decrypt(&nonce.into(), payload).map_err(|_| UnsealError)?);
        let seed = <[u8; SEED_LEN]>::try_from(plain.as_slice()).map_err(|_| UnsealError)?;
        Ok(OfflineSeed(Zeroizing::new(seed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::OsEntropy;

    fn seed() -> OfflineSeed {
        OfflineSeed(Zeroizing::new([7; SEED_LEN]))
    }

    #[test]
    fn a_sealed_seed_opens_for_its_device_only() {
        let sealer = SeedSealer::new(&KeyPair::from_seed(&[1; 32]));
        let device = Uuid::from_u128(1);
        let sealed = sealer.seal(device, &seed(), &OsEntropy).unwrap();
        assert!(!sealed.windows(SEED_LEN).any(|w| w == [7; SEED_LEN]), "the seed shows");
        assert_eq!(sealer.open(device, &sealed).unwrap(), seed());
        assert_eq!(sealer.open(Uuid::from_u128(2), &sealed), Err(UnsealError));
    }

    #[test]
    fn another_server_key_or_a_changed_byte_does_not_open_it() {
        let sealer = SeedSealer::new(&KeyPair::from_seed(&[1; 32]));
        let device = Uuid::from_u128(1);
        let sealed = sealer.seal(device, &seed(), &OsEntropy).unwrap();
        let other = SeedSealer::new(&KeyPair::from_seed(&[2; 32]));
        assert_eq!(other.open(device, &sealed), Err(UnsealError));
        for at in [0, 5, sealed.len() - 1] {
            let mut changed = sealed.clone();
            changed[at] ^= 1;
            assert_eq!(sealer.open(device, &changed), Err(UnsealError), "byte {at}");
        }
        assert_eq!(sealer.open(device, &[]), Err(UnsealError));
        assert_eq!(sealer.open(device, &sealed[..10]), Err(UnsealError));
    }

    #[test]
    fn a_plain_seed_from_before_still_opens() {
        let sealer = SeedSealer::new(&KeyPair::from_seed(&[1; 32]));
        assert_eq!(sealer.open(Uuid::from_u128(1), &[7; SEED_LEN]).unwrap(), seed());
    }
}
