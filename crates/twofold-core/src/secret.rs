//! The secret key of an account, with the PIN that mOTP and Yandex codes mix in: zeroized on drop,
//! redacted in `Debug`, never serialized.

use std::fmt;
use std::sync::LazyLock;

use zeroize::Zeroizing;

/// Base32 as otpauth URIs use it, lenient on the unused trailing bits some generators leave set.
/// Takes lengths that end on whole bytes; [`Secret::from_base32`] trims the others first.
static BASE32: LazyLock<data_encoding::Encoding> = LazyLock::new(|| {
    let mut spec = data_encoding::Specification::new();
    spec.symbols.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    spec.check_trailing_bits = false;
    spec.encoding().expect("static base32 specification is valid")
});

/// Why a text could not be read as a base32 secret. Never carries the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// Nothing left once spaces and padding are removed.
    #[error("the secret is empty")]
    Empty,
    /// A character outside the base32 alphabet (A–Z, 2–7).
    #[error("the secret is not base32: character {position} is not one of A–Z or 2–7")]
    NotBase32 {
        /// 1-based position of the offending character in the text as typed, spaces included.
        position: usize,
    },
    /// Too short to hold a single byte (one character).
    #[error("the secret is not base32: its length ({length} characters) cannot be a whole key")]
    BadLength {
        /// Number of base32 characters, without spaces and padding.
        length: usize,
    },
    /// A PIN that is empty or longer than [`MAX_PIN_CHARS`].
    #[error("the PIN must have 1 to {MAX_PIN_CHARS} characters")]
    BadPin,
}

/// Most characters a PIN may have: Yandex Key's are 4 to 16 digits, mOTP's usually 4.
pub const MAX_PIN_CHARS: usize = 64;

/// Separates the key from the PIN in [`Secret::to_stored`]'s text; base32 never contains it.
const PIN_SEPARATOR: char = ':';

/// Secret key bytes, and the PIN of the kinds that need one. Private fields, no `Serialize`, no
/// `Clone` into plain memory without zeroizing.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    key: Zeroizing<Vec<u8>>,
    pin: Option<Zeroizing<String>>,
}

impl Secret {
    /// Wraps raw key bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self { key: Zeroizing::new(bytes), pin: None }
    }

    /// This key with `pin`, which mOTP and Yandex codes mix into every code.
    pub fn with_pin(mut self, pin: &str) -> Result<Self, SecretError> {
        let chars = pin.chars().count();
        if chars == 0 || chars > MAX_PIN_CHARS {
            return Err(SecretError::BadPin);
        }
        self.pin = Some(Zeroizing::new(pin.to_owned()));
        Ok(self)
    }

    /// The first `len` bytes of the key, with the same PIN.
    pub(crate) fn truncated(&self, len: usize) -> Self {
        let key = self.key.get(..len).unwrap_or(&self.key);
        Self { key: Zeroizing::new(key.to_vec()), pin: self.pin.clone() }
    }

    /// The PIN, for the kinds that mix one in.
    pub fn pin(&self) -> Option<&str> {
        self.pin.as_deref().map(String::as_str)
    }

    /// The form keystores and backups hold: [`Secret::to_base32`], then `:` and the PIN if any.
    pub fn to_stored(&self) -> Zeroizing<String> {
        let mut text = self.to_base32();
        if let Some(pin) = &self.pin {
            text.push(PIN_SEPARATOR);
            text.push_str(pin);
        }
        text
    }

    /// Reads what [`Secret::to_stored`] wrote (plain base32 is a key without a PIN).
    pub fn from_stored(text: &str) -> Result<Self, SecretError> {
        match text.split_once(PIN_SEPARATOR) {
            Some((key, pin)) => Self::from_base32(key)?.with_pin(pin),
            None => Self::from_base32(text),
        }
    }

    /// Reads base32 as people type it: any case, spaces or dashes between groups, with or without
    /// `=` padding.
    pub fn from_base32(text: &str) -> Result<Self, SecretError> {
        let mut clean = Zeroizing::new(String::with_capacity(text.len()));
        // Positions count what the person typed, spaces included, so "character 17" is where
        // they look for it.
        for (i, c) in text.chars().enumerate() {
            match c.to_ascii_uppercase() {
                ' ' | '\t' | '-' | '=' => {}
                c @ ('A'..='Z' | '2'..='7') => clean.push(c),
                _ => return Err(SecretError::NotBase32 { position: i + 1 }),
            }
        }
        if clean.is_empty() {
            return Err(SecretError::Empty);
        }
        // Lengths of 1, 3 or 6 characters past a multiple of 8 end in bits that make no whole
        // byte. Real services hand such secrets out, and Proton Authenticator, Ente Auth and 2FAS
        // read them by dropping those bits as padding; the character before them holds the last
        // whole byte's bits, so dropping the last character decodes the same bytes.
        let length = clean.len();
        let whole = if matches!(length % 8, 1 | 3 | 6) { length - 1 } else { length };
        match BASE32.decode(&clean.as_bytes()[..whole]) {
            Ok(bytes) if !bytes.is_empty() => Ok(Self::new(bytes)),
            _ => Err(SecretError::BadLength { length }),
        }
    }

    /// The canonical form: upper-case base32 without padding (what otpauth URIs carry).
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE32.encode(&self.key))
    }

    /// The key bytes, for code generation and storage.
    pub fn expose(&self) -> &[u8] {
        &self.key
    }

    /// Key length in bytes.
    pub fn len(&self) -> usize {
        self.key.len()
    }

    /// Whether the key has no bytes.
    pub fn is_empty(&self) -> bool {
        self.key.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted {} bytes>", self.key.len())?;
        if self.pin.is_some() {
            f.write_str(", <redacted PIN>")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_base32_in_any_case_with_spaces_and_padding() {
        let a = Secret::from_base32("JBSW Y3DP EHPK 3PXP").unwrap();
        let b = Secret::from_base32("jbswy3dpehpk3pxp").unwrap();
        let c = Secret::from_base32("GEZDGNBV======").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.expose(), b"Hello!\xde\xad\xbe\xef");
        assert_eq!(c.expose(), b"12345");
    }

    #[test]
    fn rejects_with_position_and_never_echoes() {
        let err = Secret::from_base32("JBSW1DP").unwrap_err();
        assert_eq!(err, SecretError::NotBase32 { position: 5 });
        assert!(!err.to_string().contains("JBSW"));
        // Counted as typed: the spaces between groups count.
        let err = Secret::from_base32("jbsw y3dp ehpk 3px1").unwrap_err();
        assert_eq!(err, SecretError::NotBase32 { position: 19 });
        assert_eq!(Secret::from_base32("  ").unwrap_err(), SecretError::Empty);
        assert_eq!(Secret::from_base32("A").unwrap_err(), SecretError::BadLength { length: 1 });
    }

    #[test]
    fn lengths_ending_in_part_of_a_byte_drop_those_bits() {
        // 11, 14, 17 and 19 characters: 55, 70, 85 and 95 bits, so 6, 8, 10 and 11 whole bytes.
        for (text, bytes) in [
            ("JBSWY3DPEHP", 6),
            ("JBSWY3DPEHPK3P", 8),
            ("JDKSNDJJDNDJJDBXB", 10),
            ("JBSWY3DPEHPK3PXPJBS", 11),
        ] {
            let secret = Secret::from_base32(text).unwrap();
            assert_eq!(secret.len(), bytes, "{text}");
        }
        assert_eq!(Secret::from_base32("JBSWY3DPEHP").unwrap().expose(), b"Hello!");
    }

    proptest::proptest! {
        /// What keystores and backups hold reads back as the same key and PIN, and any text at
        /// all is read or refused without a panic.
        #[test]
        fn the_stored_form_round_trips(
            key in proptest::collection::vec(proptest::num::u8::ANY, 1..64),
            pin in proptest::option::of("\\PC{1,64}"),
            text in "\\PC{0,80}",
        ) {
            let mut secret = Secret::new(key);
            if let Some(pin) = &pin {
                secret = secret.with_pin(pin).unwrap();
            }
            let read = Secret::from_stored(&secret.to_stored()).unwrap();
            proptest::prop_assert_eq!(read.pin(), pin.as_deref());
            proptest::prop_assert_eq!(read, secret);
            let _ = Secret::from_stored(&text);
        }
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("JBSW") && !shown.contains("72"), "{shown}");
        let shown = format!("{:?}", s.with_pin("8642").unwrap());
        assert!(!shown.contains("8642") && shown.contains("PIN"), "{shown}");
    }

    #[test]
    fn the_stored_form_keeps_the_pin_and_reads_plain_base32_as_before() {
        let plain = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(plain.to_stored().as_str(), "JBSWY3DPEHPK3PXP");
        assert_eq!(Secret::from_stored("JBSWY3DPEHPK3PXP").unwrap(), plain);
        // A PIN may hold the separator itself: only the first one splits.
        let pinned = plain.clone().with_pin("12:34").unwrap();
        assert_eq!(pinned.to_stored().as_str(), "JBSWY3DPEHPK3PXP:12:34");
        let read = Secret::from_stored(&pinned.to_stored()).unwrap();
        assert_eq!(read.pin(), Some("12:34"));
        assert_eq!(read, pinned);
        assert_ne!(read, plain, "the PIN is part of what makes the codes");
        assert_eq!(Secret::from_stored("JBSWY3DPEHPK3PXP:").unwrap_err(), SecretError::BadPin);
        assert_eq!(plain.with_pin(&"9".repeat(65)).unwrap_err(), SecretError::BadPin);
    }
}
