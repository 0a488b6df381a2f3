//! One-time codes: TOTP (RFC 6238, through totp-rs), HOTP (RFC 4226) and Steam Guard.

use serde::{Deserialize, Serialize};

use crate::Secret;

/// Which kind of one-time password an account produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Time-based (RFC 6238).
    Totp,
    /// Counter-based (RFC 4226).
    Hotp,
    /// Steam Guard: TOTP with 30 s periods shown as 5 characters of Steam's alphabet.
    Steam,
}

/// The HMAC hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Algorithm {
    /// HMAC-SHA1, the default almost everywhere.
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// How an account's codes are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OtpParams {
    /// TOTP, HOTP or Steam.
    pub kind: Kind,
    /// HMAC hash function.
    pub algorithm: Algorithm,
    /// Code length, 5 to 10 (Steam: always 5).
    pub digits: u8,
    /// TOTP period in seconds, at least 1 (ignored by HOTP).
    pub period: u32,
    /// HOTP counter: the counter of the code shown next (ignored by TOTP and Steam).
    #[serde(default)]
    pub counter: u64,
}

impl Default for OtpParams {
    fn default() -> Self {
        Self { kind: Kind::Totp, algorithm: Algorithm::Sha1, digits: 6, period: 30, counter: 0 }
    }
}

/// Why codes cannot be made with some parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OtpError {
    /// Digits outside 5–10.
    #[error("{digits} digits is out of range: codes have 5 to 10 digits")]
    DigitsOutOfRange {
        /// The number asked for.
        digits: u8,
    },
    /// A period of zero seconds.
    #[error("the period must be at least one second")]
    ZeroPeriod,
    /// A secret with no bytes.
    #[error("the secret is empty")]
    EmptySecret,
}

/// The code of an account at one moment, with what comes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Code {
    /// The code to type now.
    pub current: String,
    /// The code of the next period (TOTP, Steam) or the next counter (HOTP).
    pub next: String,
    /// Seconds until `current` expires (TOTP, Steam); `None` for HOTP, which does not expire.
    pub seconds_left: Option<u64>,
}

impl OtpParams {
    /// Checks the parameters can make codes (digits 5–10, period ≥ 1).
    pub fn validate(&self) -> Result<(), OtpError> {
        todo!()
    }
}

/// The code for `secret` with `params` at `unix_time` (seconds). For HOTP, the code at `params.counter`.
pub fn generate(secret: &Secret, params: &OtpParams, unix_time: u64) -> Result<Code, OtpError> {
    todo!()
}
