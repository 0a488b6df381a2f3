//! Ed25519 keys, signatures and key fingerprints, with the text forms the wire uses.
//!
//! Keys and signatures travel as unpadded base64url; a fingerprint is the first 20 bytes of the
//! SHA-256 of a public key, written as base32 (32 characters, shown in groups of four).

use std::fmt;
use std::str::FromStr;

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// Length of a fingerprint in bytes: 160 bits is far past any collision search.
const FINGERPRINT_LEN: usize = 20;

/// Why a key, signature or fingerprint could not be read from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not unpadded base64url (or base32 for a fingerprint).
    #[error("the {what} is not {encoding} text")]
    Encoding {
        /// What was being read ("public key", "signature", ...).
        what: &'static str,
        /// The encoding expected.
        encoding: &'static str,
    },
    /// Decoded to the wrong number of bytes.
    #[error("the {what} has {found} bytes; it must have {expected}")]
    Length {
        /// What was being read.
        what: &'static str,
        /// Bytes required.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// 32 bytes that are not an Ed25519 public key.
    #[error("the public key is not a valid Ed25519 key")]
    NotAKey,
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature does not match the message and key.
    #[error("the signature of the {what} does not match: it was forged or the message was altered")]
    BadSignature {
        /// Which message ("sign-in request", "decision", ...).
        what: &'static str,
    },
    /// The message names a server other than the one whose key checked it.
    #[error("the {what} was made for another server (fingerprint {found}, expected {expected})")]
    WrongServer {
        /// Which message.
        what: &'static str,
        /// The fingerprint the message carries.
        found: Fingerprint,
        /// The fingerprint of the server key used.
        expected: Fingerprint,
    },
}

fn decode_fixed<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N], KeyError> {
    let bytes = BASE64URL_NOPAD
        .decode(text.as_bytes())
        .map_err(|_| KeyError::Encoding { what, encoding: "unpadded base64url" })?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| KeyError::Length {
        what,
        expected: N,
        found: bytes.len(),
    })
}

/// An Ed25519 public key (a device's or a server's).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads the 32 raw bytes of a key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        VerifyingKey::from_bytes(bytes).map(Self).map_err(|_| KeyError::NotAKey)
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The key's fingerprint, as pairing links and people compare it.
    pub fn fingerprint(&self) -> Fingerprint {
        let digest: [u8; 32] = Sha256::digest(self.0.as_bytes()).into();
        let mut short = [0u8; FINGERPRINT_LEN];
        short.copy_from_slice(&digest[..FINGERPRINT_LEN]);
        Fingerprint(short)
    }

    /// Checks `signature` over `message` (strict: rejects malleable and weak-key signatures).
    pub(crate) fn verify(
        &self,
        message: &[u8],
        signature: &Signature,
        what: &'static str,
    ) -> Result<(), VerifyError> {
        self.0.verify_strict(message, &signature.0).map_err(|_| VerifyError::BadSignature { what })
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE64URL_NOPAD.encode(self.0.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, KeyError> {
        Self::from_bytes(&decode_fixed::<32>(text, "public key")?)
    }
}

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(ed25519_dalek::Signature);

impl Signature {
    /// Reads the 64 raw bytes of a signature.
    pub fn from_bytes(bytes: &[u8; 64]) -> Self {
        Self(ed25519_dalek::Signature::from_bytes(bytes))
    }

    /// The 64 raw bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE64URL_NOPAD.encode(&self.0.to_bytes()))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl FromStr for Signature {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, KeyError> {
        Ok(Self::from_bytes(&decode_fixed::<64>(text, "signature")?))
    }
}

/// A short, stable name of a public key: SHA-256 of the key, first 20 bytes, base32.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; FINGERPRINT_LEN]);

impl Fingerprint {
    /// The form links carry: 32 base32 characters without separators.
    pub fn compact(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; FINGERPRINT_LEN] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    /// Groups of four characters joined by dashes, for people to compare.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let compact = self.compact();
        for (i, c) in compact.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                f.write_str("-")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = KeyError;

    /// Reads either form, in any case, ignoring dashes and spaces.
    fn from_str(text: &str) -> Result<Self, KeyError> {
        let clean: String = text
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = BASE32_NOPAD
            .decode(clean.as_bytes())
            .map_err(|_| KeyError::Encoding { what: "fingerprint", encoding: "base32" })?;
        let found = bytes.len();
        <[u8; FINGERPRINT_LEN]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| KeyError::Length { what: "fingerprint", expected: FINGERPRINT_LEN, found })
    }
}

/// Serde through the text form (`Display` / `FromStr`), for keys here and digests in `messages`.
macro_rules! serde_as_text {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}

pub(crate) use serde_as_text;

serde_as_text!(PublicKey, Signature, Fingerprint);

/// An Ed25519 key pair: a device's (kept in the OS keyring) or a server's (kept in a 0600 file).
/// Zeroized on drop; `Debug` shows only the public half.
pub struct KeyPair(SigningKey);

impl KeyPair {
    /// The key pair of a 32-byte seed. Randomness is the caller's: pass 32 bytes from the OS.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The seed, to store the key (in the keyring, or the server's key file).
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message`. Callers pass canonical bytes from [`crate::canonical`].
    pub(crate) fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message))
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPair(public {}, <secret redacted>)", self.public())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        let pair = KeyPair::from_seed(&[7; 32]);
        let key = pair.public();
        assert_eq!(key.to_string().parse::<PublicKey>().unwrap(), key);
        let sig = pair.sign(b"hello");
        assert_eq!(sig.to_string().parse::<Signature>().unwrap(), sig);
        let fp = key.fingerprint();
        assert_eq!(fp.to_string().len(), 32 + 7);
        assert_eq!(fp.to_string().parse::<Fingerprint>().unwrap(), fp);
        assert_eq!(fp.compact().to_lowercase().parse::<Fingerprint>().unwrap(), fp);
    }

    #[test]
    fn bad_text_says_what_is_wrong() {
        assert_eq!(
            "abc".parse::<PublicKey>().unwrap_err(),
            KeyError::Length { what: "public key", expected: 32, found: 2 }
        );
        assert!(matches!("!!".parse::<Signature>(), Err(KeyError::Encoding { .. })));
        assert!(matches!("AAAA".parse::<Fingerprint>(), Err(KeyError::Length { .. })));
    }

    #[test]
    fn debug_of_a_key_pair_hides_the_seed() {
        let pair = KeyPair::from_seed(&[0x42; 32]);
        let shown = format!("{pair:?}");
        assert!(shown.contains(&pair.public().to_string()));
        assert!(!shown.contains(&BASE64URL_NOPAD.encode(&[0x42; 32])), "{shown}");
    }

    #[test]
    fn verification_is_bound_to_message_and_key() {
        let pair = KeyPair::from_seed(&[1; 32]);
        let other = KeyPair::from_seed(&[2; 32]);
        let sig = pair.sign(b"message");
        assert!(pair.public().verify(b"message", &sig, "test").is_ok());
        assert!(pair.public().verify(b"messagf", &sig, "test").is_err());
        assert!(other.public().verify(b"message", &sig, "test").is_err());
    }
}
