//! Passphrase sealing shared by Twofold's encrypted files (backups, [`crate::backup`], and the
//! keystore file, [`crate::keystore::file`]): Argon2id with stored, capped cost, two keys split off
//! its output with HMAC-SHA256 (the cipher key and a key check), XChaCha20-Poly1305 over the payload
//! with the file's whole header as associated data.
//!
//! Every such file starts with the same 64 bytes (integers big-endian):
//!
//! | offset | bytes | field                                                              |
//! |-------:|------:|--------------------------------------------------------------------|
//! |      0 |     8 | magic (names the kind of file)                                     |
//! |      8 |     2 | format version                                                     |
//! |     10 |     1 | key derivation: 1 = Argon2id, version 0x13 (RFC 9106)              |
//! |     11 |     4 | Argon2 memory, KiB                                                 |
//! |     15 |     4 | Argon2 passes                                                      |
//! |     19 |     4 | Argon2 lanes                                                       |
//! |     23 |    16 | salt (random)                                                      |
//! |     39 |     1 | cipher: 1 = XChaCha20-Poly1305                                     |
//! |     40 |    24 | nonce (random)                                                     |
//!
//! then the kind's own readable fields, then the 16-byte key check, then the ciphertext and its
//! 16-byte Poly1305 tag.

use hmac::{KeyInit as _, Mac as _};
use serde::Serialize;
use zeroize::Zeroizing;

/// Length of the part of the header every sealed file shares.
pub(crate) const COMMON_LEN: usize = 64;
/// Length of the key check that ends every header.
pub(crate) const KEY_CHECK_LEN: usize = 16;
/// Length of the Poly1305 tag that ends every file.
pub(crate) const TAG_LEN: usize = 16;
const KDF_ARGON2ID: u8 = 1;
const CIPHER_XCHACHA20_POLY1305: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;

/// Most Argon2 memory a file may ask for (1 GiB, 16 times the default): beyond it the file is
/// refused rather than allowed to exhaust memory.
const MAX_MEMORY_KIB: u32 = 1 << 20;
/// Most Argon2 work (memory times passes, in KiB) a file may ask for.
const MAX_WORK_KIB: u64 = 16 << 20;
/// Most Argon2 lanes a file may ask for.
const MAX_LANES: u32 = 64;

/// Why sealing could not start. Never holds a passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The operating system gave no random bytes.
    #[error("the system's random number generator failed: {reason}")]
    Random {
        /// What the platform said.
        reason: String,
    },
    /// The key derivation settings cannot be used.
    #[error("cannot use these key derivation settings: {detail}")]
    InvalidCost {
        /// Why.
        detail: String,
    },
}

/// Argon2id cost settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub passes: u32,
    /// Lanes (degree of parallelism).
    pub lanes: u32,
}

impl Default for KdfCost {
    /// 64 MiB, 3 passes, 1 lane: RFC 9106's second recommended option with one lane.
    fn default() -> Self {
        Self { memory_kib: 64 * 1024, passes: 3, lanes: 1 }
    }
}

impl KdfCost {
    fn argon2(self) -> Option<argon2::Argon2<'static>> {
        let params =
            argon2::Params::new(self.memory_kib, self.passes, self.lanes, Some(32)).ok()?;
        Some(argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params))
    }

    /// Whether a file may ask for this much work: the cap that keeps a forged header from
    /// exhausting memory or time.
    pub(crate) fn within_limits(self) -> bool {
        self.memory_kib <= MAX_MEMORY_KIB
            && self.lanes <= MAX_LANES
            && u64::from(self.memory_kib) * u64::from(self.passes) <= MAX_WORK_KIB
    }
}

impl std::fmt::Display for KdfCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Argon2id, {} KiB, {} passes, {} lanes", self.memory_kib, self.passes, self.lanes)
    }
}

/// The Argon2id costs a person chooses between for a secrets file, from quick to slow: each
/// costs an attacker guessing passphrases as much as it costs each unlock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostLevel {
    /// 19 MiB, 2 passes: OWASP's least for Argon2id, for slow machines.
    Quick,
    /// 64 MiB, 3 passes: [`KdfCost::default`].
    #[default]
    Standard,
    /// 256 MiB, 4 passes: about five times the standard work.
    Strong,
}

impl CostLevel {
    /// Every level, quickest first.
    pub const ALL: [CostLevel; 3] = [CostLevel::Quick, CostLevel::Standard, CostLevel::Strong];

    /// The level's Argon2id settings.
    pub fn cost(self) -> KdfCost {
        match self {
            CostLevel::Quick => KdfCost { memory_kib: 19 * 1024, passes: 2, lanes: 1 },
            CostLevel::Standard => KdfCost::default(),
            CostLevel::Strong => KdfCost { memory_kib: 256 * 1024, passes: 4, lanes: 1 },
        }
    }

    /// Its name, as the command line and the app write it.
    pub fn as_str(self) -> &'static str {
        match self {
            CostLevel::Quick => "quick",
            CostLevel::Standard => "standard",
            CostLevel::Strong => "strong",
        }
    }

    /// How long one key derivation at this level takes on this machine now (one run).
    pub fn measure(self) -> Result<std::time::Duration, SealError> {
        let sealing = Sealing::fresh(self.cost())?;
        let labels = Labels { encryption: b"measure encryption", check: b"measure check" };
        let start = std::time::Instant::now();
        Keys::derive(&sealing, b"a passphrase to time", &labels)
            .ok_or(SealError::InvalidCost { detail: self.cost().to_string() })?;
        Ok(start.elapsed())
    }
}

/// The random and chosen inputs of one sealed file: key derivation cost, salt and nonce.
#[derive(Clone)]
pub struct Sealing {
    /// Argon2id cost.
    pub cost: KdfCost,
    /// Argon2 salt; fresh for every new passphrase.
    pub salt: [u8; SALT_LEN],
    /// XChaCha20-Poly1305 nonce; fresh for every write.
    pub nonce: [u8; NONCE_LEN],
}

impl std::fmt::Debug for Sealing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealing").field("cost", &self.cost).finish_non_exhaustive()
    }
}

impl Sealing {
    /// `cost` with a salt and nonce from the operating system's random number generator.
    pub fn fresh(cost: KdfCost) -> Result<Self, SealError> {
        let mut sealing = Self { cost, salt: [0; SALT_LEN], nonce: [0; NONCE_LEN] };
        fill_random(&mut sealing.salt)?;
        fill_random(&mut sealing.nonce)?;
        Ok(sealing)
    }

    /// The same cost and salt (so the same keys) with a fresh nonce: for rewriting a file.
    pub(crate) fn renewed(&self) -> Result<Self, SealError> {
        let mut sealing = self.clone();
        fill_random(&mut sealing.nonce)?;
        Ok(sealing)
    }

    /// Writes the common 64 bytes of a header for a file of kind `magic`, version `version`.
    pub(crate) fn write_common(&self, header: &mut [u8], magic: &[u8; 8], version: u16) {
        header[..8].copy_from_slice(magic);
        header[8..10].copy_from_slice(&version.to_be_bytes());
        header[10] = KDF_ARGON2ID;
        header[11..15].copy_from_slice(&self.cost.memory_kib.to_be_bytes());
        header[15..19].copy_from_slice(&self.cost.passes.to_be_bytes());
        header[19..23].copy_from_slice(&self.cost.lanes.to_be_bytes());
        header[23..39].copy_from_slice(&self.salt);
        header[39] = CIPHER_XCHACHA20_POLY1305;
        header[40..64].copy_from_slice(&self.nonce);
    }
}

/// Fills `bytes` from the operating system's random number generator.
pub(crate) fn fill_random(bytes: &mut [u8]) -> Result<(), SealError> {
    getrandom::fill(bytes).map_err(|e| SealError::Random { reason: e.to_string() })
}

/// Why a header's common part cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    /// It does not start with the kind's magic.
    Foreign,
    /// A newer format version than the reader knows.
    Newer(u16),
    /// Cut short or holding values no version writes.
    Damaged(String),
}

/// Reads the common part of a header of kind `magic`, known up to version `newest`. The sealing it
/// returns is not yet authenticated.
pub(crate) fn read_common(
    bytes: &[u8],
    magic: &[u8; 8],
    newest: u16,
) -> Result<(u16, Sealing), HeaderProblem> {
    if !bytes.starts_with(magic) {
        return Err(HeaderProblem::Foreign);
    }
    let short = || HeaderProblem::Damaged("it is cut short inside its header".to_owned());
    let version = bytes
        .get(8..10)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_be_bytes)
        .ok_or_else(short)?;
    if version > newest {
        return Err(HeaderProblem::Newer(version));
    }
    if version == 0 {
        return Err(HeaderProblem::Damaged("its format version is 0".to_owned()));
    }
    let header: &[u8; COMMON_LEN] =
        bytes.get(..COMMON_LEN).and_then(|h| h.try_into().ok()).ok_or_else(short)?;
    let (kdf, cipher) = (header[10], header[39]);
    if kdf != KDF_ARGON2ID {
        return Err(HeaderProblem::Damaged(format!(
            "its key derivation ({kdf}) is not one Twofold knows"
        )));
    }
    if cipher != CIPHER_XCHACHA20_POLY1305 {
        return Err(HeaderProblem::Damaged(format!(
            "its cipher ({cipher}) is not one Twofold knows"
        )));
    }
    let sealing = Sealing {
        cost: KdfCost {
            memory_kib: u32::from_be_bytes(field(header, 11)),
            passes: u32::from_be_bytes(field(header, 15)),
            lanes: u32::from_be_bytes(field(header, 19)),
        },
        salt: field(header, 23),
        nonce: field(header, 40),
    };
    Ok((version, sealing))
}

/// The `N` bytes at `at` of a header (fixed positions inside its fixed length).
pub(crate) fn field<const N: usize>(header: &[u8], at: usize) -> [u8; N] {
    let mut bytes = [0u8; N];
    bytes.copy_from_slice(&header[at..at + N]);
    bytes
}

/// The HMAC labels that split a kind's keys off Argon2id's output, so no two kinds of file share a
/// key even under one passphrase and salt.
pub(crate) struct Labels {
    /// Names the cipher key.
    pub(crate) encryption: &'static [u8],
    /// Names the key check.
    pub(crate) check: &'static [u8],
}

/// The keys Argon2id's output gives.
pub(crate) struct Keys {
    encryption: Zeroizing<[u8; 32]>,
    check: [u8; KEY_CHECK_LEN],
}

impl Keys {
    /// Runs Argon2id over `passphrase` with `sealing`'s cost and salt (the slow step). `None` when
    /// Argon2 refuses the settings or they exceed the cap.
    pub(crate) fn derive(sealing: &Sealing, passphrase: &[u8], labels: &Labels) -> Option<Self> {
        let argon2 = sealing.cost.argon2().filter(|_| sealing.cost.within_limits())?;
        let mut root = Zeroizing::new([0u8; 32]);
        argon2.hash_password_into(passphrase, &sealing.salt, root.as_mut_slice()).ok()?;
        let expand = |info: &[u8]| {
            let mut mac = <hmac::Hmac<sha2::Sha256>>::new_from_slice(root.as_slice()).ok()?;
            mac.update(info);
            let mut out = Zeroizing::new([0u8; 32]);
            out.copy_from_slice(&mac.finalize().into_bytes());
            Some(out)
        };
        let encryption = expand(labels.encryption)?;
        let full_check = expand(labels.check)?;
        let mut check = [0u8; KEY_CHECK_LEN];
        check.copy_from_slice(full_check.get(..KEY_CHECK_LEN)?);
        Some(Self { encryption, check })
    }

    /// The key check, written into headers.
    pub(crate) fn check(&self) -> &[u8; KEY_CHECK_LEN] {
        &self.check
    }

    /// Whether a header's key check is this key's (in constant time): the passphrase is right.
    pub(crate) fn opens(&self, check: &[u8]) -> bool {
        check.len() == KEY_CHECK_LEN
            && self.check.iter().zip(check).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    fn cipher(&self) -> chacha20poly1305::XChaCha20Poly1305 {
        use chacha20poly1305::KeyInit as _;
        chacha20poly1305::XChaCha20Poly1305::new((&*self.encryption).into())
    }

    /// A whole file: `header`, then `payload` encrypted under `nonce` with the header as associated
    /// data, then the tag. `None` only for a payload beyond the cipher's limit.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        header: &[u8],
        mut payload: Zeroizing<Vec<u8>>,
    ) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::AeadInOut as _;
        let tag = self
            .cipher()
            .encrypt_inout_detached(&(*nonce).into(), header, payload.as_mut_slice().into())
            .ok()?;
        let mut file = Vec::with_capacity(header.len() + payload.len() + TAG_LEN);
        file.extend_from_slice(header);
        file.extend_from_slice(&payload);
        file.extend_from_slice(&tag);
        Some(file)
    }

    /// The payload of a whole file whose header is `header_len` bytes long; `None` when the file
    /// is cut short or was changed after it was sealed.
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        file: &[u8],
        header_len: usize,
    ) -> Option<Zeroizing<Vec<u8>>> {
        use chacha20poly1305::aead::AeadInOut as _;
        let header = file.get(..header_len)?;
        let sealed = file.get(header_len..)?;
        let (ciphertext, tag) = sealed.split_at(sealed.len().checked_sub(TAG_LEN)?);
        let tag = chacha20poly1305::Tag::try_from(tag).ok()?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        self.cipher()
            .decrypt_inout_detached(&(*nonce).into(), header, buffer.as_mut_slice().into(), &tag)
            .ok()?;
        Some(buffer)
    }
}

/// Counts what is written, so the payload buffer is allocated once at its exact size (a growing
/// buffer would leave copies of secrets behind in freed memory).
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Serialises `value` into a buffer wiped on drop, allocated once at the exact size.
pub(crate) fn json_zeroizing(value: &impl Serialize) -> Zeroizing<Vec<u8>> {
    let mut counter = Counter(0);
    // Serialising plain structs of strings and numbers into memory cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    let mut buffer = Zeroizing::new(Vec::with_capacity(counter.0));
    let _ = serde_json::to_writer(&mut *buffer, value);
    buffer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_is_within_the_cap_and_costs_more_than_the_one_before() {
        let work = |level: CostLevel| {
            let cost = level.cost();
            assert!(cost.within_limits(), "{level:?} is beyond the cap a file may ask for");
            u64::from(cost.memory_kib) * u64::from(cost.passes)
        };
        assert!(CostLevel::ALL.windows(2).all(|pair| work(pair[0]) < work(pair[1])));
        assert_eq!(CostLevel::default().cost(), KdfCost::default());
    }
}
