//! One-time codes: TOTP (RFC 6238, through totp-rs), HOTP (RFC 4226), Steam Guard, Mobile-OTP
//! and Yandex Key.
//!
//! - **mOTP** (<http://motp.sourceforge.net/>, as Aegis makes it): the first 6 hex characters of
//!   MD5 over the decimal count of 10-second steps since the epoch, the key in lower-case hex and
//!   the PIN, all as text.
//! - **Yandex** (Yandex Key, as Aegis's `YAOTP` and KeeYaOtp make it): the HMAC key is SHA-256 of
//!   the PIN followed by the 16-byte key (its first byte dropped when it is zero, as Yandex's app
//!   does); RFC 4226's dynamic truncation takes 8 bytes rather than 4, and the number, mod 26^8,
//!   is written as 8 letters a–z. 30-second steps.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::Digest as _;
use sha2::{Sha256, Sha512};

use zeroize::Zeroizing;

use crate::Secret;

/// Fewest digits a code may have.
const MIN_DIGITS: u8 = 5;
/// Most digits a code may have: a truncated HMAC is a 31-bit number, at most 10 decimal digits.
const MAX_DIGITS: u8 = 10;
/// Most digits totp-rs can make: its `Token` keeps `10^digits` in a `u32` and panics beyond 9.
const TOTP_RS_MAX_DIGITS: u8 = 9;
/// Steam Guard's fixed period in seconds.
const STEAM_PERIOD: u32 = 30;
/// Steam Guard's fixed code length in characters.
const STEAM_DIGITS: u8 = 5;
/// mOTP's fixed step in seconds.
const MOTP_PERIOD: u32 = 10;
/// mOTP's fixed code length in hex characters.
const MOTP_DIGITS: u8 = 6;
/// Yandex Key's fixed step in seconds.
const YANDEX_PERIOD: u32 = 30;
/// Yandex Key's fixed code length in letters.
const YANDEX_DIGITS: u8 = 8;
/// Length of a Yandex key in bytes; its longer form adds 10 bytes that end in a checksum.
pub const YANDEX_KEY_LEN: usize = 16;
/// Length of a Yandex key in its longer form (the app's own, with the checksum).
const YANDEX_FULL_KEY_LEN: usize = 26;
/// The 13-bit polynomial of the longer Yandex key's 12-bit checksum.
const YANDEX_CHECKSUM_POLYNOMIAL: u16 = 0b1_1000_1111_0011;

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
    /// Mobile-OTP: MD5 of the time, the key and a PIN, 6 hex characters every 10 s.
    Motp,
    /// Yandex Key: HMAC-SHA256 keyed by the PIN and key, 8 letters every 30 s.
    Yandex,
}

impl Kind {
    /// Whether codes of this kind mix in a PIN stored with the secret.
    pub fn needs_pin(self) -> bool {
        matches!(self, Kind::Motp | Kind::Yandex)
    }

    /// The fixed parameters of the kinds whose app fixes them (Steam, mOTP, Yandex).
    pub fn fixed_params(self) -> Option<OtpParams> {
        match self {
            Kind::Steam => Some(OtpParams::STEAM),
            Kind::Motp => Some(OtpParams::MOTP),
            Kind::Yandex => Some(OtpParams::YANDEX),
            Kind::Totp | Kind::Hotp => None,
        }
    }
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
    /// TOTP, HOTP, Steam, mOTP or Yandex.
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
    /// An mOTP or Yandex account whose secret has no PIN.
    #[error("{kind} codes need the account's PIN, and none is stored with its secret")]
    NoPin {
        /// "mOTP" or "Yandex".
        kind: &'static str,
    },
    /// A Yandex key of another length than 16 (or 26, with its checksum) bytes.
    #[error("a Yandex secret is 16 or 26 bytes long, not {length}")]
    YandexKeyLength {
        /// The key's length in bytes.
        length: usize,
    },
    /// A 26-byte Yandex key whose checksum does not match: mistyped or cut.
    #[error("the Yandex secret's checksum does not match: copy it again exactly")]
    YandexChecksum,
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
    /// Steam Guard's parameters, fixed by Steam: SHA1, 30 s, 5 characters. Every reader that
    /// makes a Steam account uses these, so what is stored and shown (digits 5) is what Steam makes.
    pub const STEAM: OtpParams = OtpParams {
        kind: Kind::Steam,
        algorithm: Algorithm::Sha1,
        digits: STEAM_DIGITS,
        period: STEAM_PERIOD,
        counter: 0,
    };

    /// mOTP's parameters, fixed by its specification: 6 characters every 10 s (MD5, which
    /// [`Algorithm`] does not name, so the algorithm here is unused).
    pub const MOTP: OtpParams = OtpParams {
        kind: Kind::Motp,
        algorithm: Algorithm::Sha1,
        digits: MOTP_DIGITS,
        period: MOTP_PERIOD,
        counter: 0,
    };

    /// Yandex Key's parameters, fixed by Yandex: HMAC-SHA256, 8 letters every 30 s.
    pub const YANDEX: OtpParams = OtpParams {
        kind: Kind::Yandex,
        algorithm: Algorithm::Sha256,
        digits: YANDEX_DIGITS,
        period: YANDEX_PERIOD,
        counter: 0,
    };

    /// Checks the parameters can make codes (digits 5–10, period ≥ 1).
    ///
    /// Only what the kind uses is checked: HOTP ignores the period, and Steam, mOTP and Yandex
    /// ignore digits, algorithm and period alike.
    pub fn validate(&self) -> Result<(), OtpError> {
        if self.kind.fixed_params().is_some() {
            return Ok(());
        }
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&self.digits) {
            return Err(OtpError::DigitsOutOfRange { digits: self.digits });
        }
        if self.kind == Kind::Totp && self.period == 0 {
            return Err(OtpError::ZeroPeriod);
        }
        Ok(())
    }
}

/// The code for `secret` with `params` at `unix_time` (seconds). For HOTP, the code at `params.counter`.
pub fn generate(secret: &Secret, params: &OtpParams, unix_time: u64) -> Result<Code, OtpError> {
    params.validate()?;
    if secret.is_empty() {
        return Err(OtpError::EmptySecret);
    }
    let key = secret.expose();
    let code = match params.kind {
        Kind::Hotp => {
            let (current, next) = hotp_pair(key, params.algorithm, params.counter);
            Code {
                current: decimal(current, params.digits),
                next: decimal(next, params.digits),
                seconds_left: None,
            }
        }
        Kind::Totp => {
            let period = Period::at(unix_time, params.period);
            let (current, next) = if params.digits <= TOTP_RS_MAX_DIGITS {
                through_totp_rs(key, totp_rs_algorithm(params.algorithm), params.digits, period)
            } else {
                // TOTP is HOTP at the period counter (RFC 6238 §4.2), which has no 9-digit limit.
                let (current, next) = hotp_pair(key, params.algorithm, period.counter);
                (decimal(current, params.digits), decimal(next, params.digits))
            };
            period.code(current, next)
        }
        Kind::Steam => {
            let period = Period::at(unix_time, STEAM_PERIOD);
            let (current, next) =
                through_totp_rs(key, totp_rs::Algorithm::Steam, STEAM_DIGITS, period);
            period.code(current, next)
        }
        Kind::Motp => {
            let pin = secret.pin().ok_or(OtpError::NoPin { kind: "mOTP" })?;
            let period = Period::at(unix_time, MOTP_PERIOD);
            let hex = Zeroizing::new(data_encoding::HEXLOWER.encode(key));
            let at = |counter: u64| motp(counter, &hex, pin);
            // Ten-second steps: the counter is at most u64::MAX / 10, so the next one fits.
            period.code(at(period.counter), at(period.counter + 1))
        }
        Kind::Yandex => {
            let pin = secret.pin().ok_or(OtpError::NoPin { kind: "Yandex" })?;
            let period = Period::at(unix_time, YANDEX_PERIOD);
            let (current, next) = yandex_pair(key, pin, period.counter);
            period.code(current, next)
        }
    };
    Ok(code)
}

/// The key of a Yandex account from the key an app or QR code gives: the 16-byte key as it is,
/// or the app's 26-byte form once its checksum is checked, cut to its first 16 bytes.
pub fn yandex_key(secret: Secret) -> Result<Secret, OtpError> {
    match secret.len() {
        YANDEX_KEY_LEN => Ok(secret),
        YANDEX_FULL_KEY_LEN => {
            let bytes = secret.expose();
            let stored = u16::from(bytes[24] & 0x0f) << 8 | u16::from(bytes[25]);
            if yandex_checksum(bytes, YANDEX_FULL_KEY_LEN * 8 - 12) != stored {
                return Err(OtpError::YandexChecksum);
            }
            Ok(secret.truncated(YANDEX_KEY_LEN))
        }
        length => Err(OtpError::YandexKeyLength { length }),
    }
}

/// The remainder of the first `bits` bits of `bytes` (most significant first) divided by
/// [`YANDEX_CHECKSUM_POLYNOMIAL`] over GF(2): the longer Yandex key's 12-bit checksum.
fn yandex_checksum(bytes: &[u8], bits: usize) -> u16 {
    let mut remainder: u16 = 0;
    for index in 0..bits {
        let bit = u16::from(bytes[index / 8] >> (7 - index % 8) & 1);
        remainder = remainder << 1 | bit;
        if remainder & 1 << 12 != 0 {
            remainder ^= YANDEX_CHECKSUM_POLYNOMIAL;
        }
    }
    remainder
}

/// One mOTP code: the first 6 hex characters of MD5("{counter}{key hex}{pin}").
fn motp(counter: u64, key_hex: &str, pin: &str) -> String {
    let mut md5 = md5::Md5::new();
    md5.update(counter.to_string().as_bytes());
    md5.update(key_hex.as_bytes());
    md5.update(pin.as_bytes());
    let digest = md5.finalize();
    let mut code = data_encoding::HEXLOWER.encode(&digest);
    code.truncate(usize::from(MOTP_DIGITS));
    code
}

/// The Yandex codes at `counter` and at the counter after it.
fn yandex_pair(key: &[u8], pin: &str, counter: u64) -> (String, String) {
    let mut hash = Sha256::new();
    hash.update(pin.as_bytes());
    hash.update(key);
    let hashed = Zeroizing::new(<[u8; 32]>::from(hash.finalize()));
    // Yandex's app drops a leading zero byte of the hash (a big-integer round trip in its
    // code); Aegis and KeeYaOtp do the same, so codes match the app's for every key.
    let hmac_key: &[u8] = if hashed[0] == 0 { &hashed[1..] } else { &hashed[..] };
    let keyed = Hmac::<Sha256>::new_from_slice(hmac_key).expect("HMAC takes keys of any length");
    let at = |counter: u64| {
        let mut mac = keyed.clone();
        mac.update(&counter.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        // HMAC-SHA256 is 32 bytes, so the offset (0–15) plus 8 is in range.
        let offset = usize::from(digest[digest.len() - 1] & 0x0f);
        let mut word = [0u8; 8];
        word.copy_from_slice(&digest[offset..offset + 8]);
        letters(u64::from_be_bytes(word) & 0x7fff_ffff_ffff_ffff)
    };
    (at(counter), at(counter.wrapping_add(1)))
}

/// The last [`YANDEX_DIGITS`] base-26 digits of `value`, written with the letters a–z.
fn letters(mut value: u64) -> String {
    let mut code = [b'a'; YANDEX_DIGITS as usize];
    for place in code.iter_mut().rev() {
        // `value % 26` is below 26, so the letter is one of a–z.
        *place = b'a' + (value % 26) as u8;
        value /= 26;
    }
    code.iter().map(|&b| char::from(b)).collect()
}

/// Where a moment falls in the sequence of TOTP periods.
#[derive(Clone, Copy)]
struct Period {
    /// Whole periods since the Unix epoch: the TOTP counter (RFC 6238 §4.2, T0 = 0).
    counter: u64,
    /// Seconds until the next period starts, 1 to the period's length.
    seconds_left: u64,
}

impl Period {
    /// The period containing `unix_time`; `length` is at least 1 (checked by `validate`).
    fn at(unix_time: u64, length: u32) -> Self {
        let length = u64::from(length);
        Self { counter: unix_time / length, seconds_left: length - unix_time % length }
    }

    fn code(self, current: String, next: String) -> Code {
        Code { current, next, seconds_left: Some(self.seconds_left) }
    }
}

/// The codes of a period and of the one after it, made by totp-rs.
fn through_totp_rs(
    key: &[u8],
    algorithm: totp_rs::Algorithm,
    digits: u8,
    period: Period,
) -> (String, String) {
    // The unchecked build: `build()` refuses secrets under 128 bits, yet real services issue
    // 80-bit ones. totp-rs is given the counter as its clock with a one-second step, so the next
    // period's counter is computable at the far end of u64 time, where its start time is not.
    let totp = totp_rs::Builder::new()
        .with_algorithm(algorithm)
        .with_digits(digits)
        .with_step_duration(1)
        .with_secret(key)
        .build_noncompliant();
    (
        totp.generate(period.counter).to_string(),
        totp.generate(period.counter.wrapping_add(1)).to_string(),
    )
}

fn totp_rs_algorithm(algorithm: Algorithm) -> totp_rs::Algorithm {
    match algorithm {
        Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
        Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
        Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
    }
}

/// The truncated HMAC values (RFC 4226 §5.3) at `counter` and at the counter after it.
fn hotp_pair(key: &[u8], algorithm: Algorithm, counter: u64) -> (u32, u32) {
    match algorithm {
        Algorithm::Sha1 => truncated_pair::<Hmac<Sha1>>(key, counter),
        Algorithm::Sha256 => truncated_pair::<Hmac<Sha256>>(key, counter),
        Algorithm::Sha512 => truncated_pair::<Hmac<Sha512>>(key, counter),
    }
}

fn truncated_pair<M: Mac + KeyInit + Clone>(key: &[u8], counter: u64) -> (u32, u32) {
    // Keyed once and cloned: the key schedule costs as much as hashing one counter.
    let keyed = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    let at = |counter: u64| {
        let mut mac = keyed.clone();
        mac.update(&counter.to_be_bytes());
        truncate(&mac.finalize().into_bytes())
    };
    // Like the RFC's 8-byte counter, the counter after u64::MAX wraps to 0.
    (at(counter), at(counter.wrapping_add(1)))
}

/// Dynamic truncation (RFC 4226 §5.3): 31 bits at an offset chosen by the last byte.
fn truncate(hmac: &[u8]) -> u32 {
    // HMAC-SHA1/256/512 outputs are 20, 32 or 64 bytes, so the offset (0–15) plus 4 is in range.
    let offset = usize::from(hmac[hmac.len() - 1] & 0x0f);
    let word = [hmac[offset], hmac[offset + 1], hmac[offset + 2], hmac[offset + 3]];
    u32::from_be_bytes(word) & 0x7fff_ffff
}

/// The last `digits` decimal digits of `value`, zero-padded: RFC 4226's `Snum mod 10^Digit`.
fn decimal(value: u32, digits: u8) -> String {
    let value = u64::from(value);
    let mut code = String::with_capacity(usize::from(digits));
    for place in (0..u32::from(digits)).rev() {
        // `digits` ≤ 10 (checked by `validate`), so 10^place fits a u64 and the digit is 0–9.
        let digit = (value / 10u64.pow(place) % 10) as u8;
        code.push(char::from(b'0' + digit));
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Hello!\xde\xad\xbe\xef": the 80-bit secret of many issuers' examples.
    fn secret_80_bit() -> Secret {
        Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap()
    }

    fn totp(digits: u8, period: u32) -> OtpParams {
        OtpParams { digits, period, ..OtpParams::default() }
    }

    fn hotp(digits: u8, counter: u64) -> OtpParams {
        OtpParams { kind: Kind::Hotp, digits, counter, ..OtpParams::default() }
    }

    fn steam() -> OtpParams {
        OtpParams { kind: Kind::Steam, ..OtpParams::default() }
    }

    #[test]
    fn accepts_80_bit_secrets_and_rolls_over_at_the_period_boundary() {
        // Expected codes computed with Python's hmac/hashlib (HMAC-SHA1, counters 1, 2 and 3).
        let secret = secret_80_bit();
        assert_eq!(secret.len(), 10);
        let last_second = generate(&secret, &totp(6, 30), 59).unwrap();
        assert_eq!(
            last_second,
            Code { current: "996554".into(), next: "602287".into(), seconds_left: Some(1) }
        );
        let first_second = generate(&secret, &totp(6, 30), 60).unwrap();
        assert_eq!(
            first_second,
            Code { current: "602287".into(), next: "143627".into(), seconds_left: Some(30) }
        );
    }

    #[test]
    fn validate_names_what_is_wrong() {
        for digits in [0, 4, 11, 255] {
            let err = totp(digits, 30).validate().unwrap_err();
            assert_eq!(err, OtpError::DigitsOutOfRange { digits });
            assert_eq!(
                err.to_string(),
                format!("{digits} digits is out of range: codes have 5 to 10 digits")
            );
            assert_eq!(hotp(digits, 0).validate().unwrap_err(), err);
        }
        let err = totp(6, 0).validate().unwrap_err();
        assert_eq!(err, OtpError::ZeroPeriod);
        assert_eq!(err.to_string(), "the period must be at least one second");
        for digits in 5..=10 {
            assert_eq!(totp(digits, 1).validate(), Ok(()));
        }
    }

    #[test]
    fn validate_checks_only_what_the_kind_uses() {
        assert_eq!(OtpParams { period: 0, ..hotp(6, 0) }.validate(), Ok(()));
        let odd_steam = OtpParams { digits: 0, period: 0, algorithm: Algorithm::Sha512, ..steam() };
        assert_eq!(odd_steam.validate(), Ok(()));
    }

    #[test]
    fn generate_rejects_bad_parameters_and_empty_secrets() {
        let secret = secret_80_bit();
        assert_eq!(
            generate(&secret, &totp(4, 30), 0),
            Err(OtpError::DigitsOutOfRange { digits: 4 })
        );
        assert_eq!(generate(&secret, &totp(6, 0), 0), Err(OtpError::ZeroPeriod));
        let empty = Secret::new(Vec::new());
        for params in [totp(6, 30), hotp(6, 0), steam()] {
            assert_eq!(generate(&empty, &params, 0), Err(OtpError::EmptySecret));
        }
    }

    #[test]
    fn codes_are_as_long_as_asked() {
        let secret = secret_80_bit();
        for digits in 5..=10 {
            for params in [totp(digits, 30), hotp(digits, 7)] {
                let code = generate(&secret, &params, 1_700_000_000).unwrap();
                for shown in [&code.current, &code.next] {
                    assert_eq!(shown.len(), usize::from(digits), "{params:?}: {shown}");
                    assert!(shown.bytes().all(|b| b.is_ascii_digit()), "{shown}");
                }
            }
        }
    }

    #[test]
    fn ten_digit_codes_extend_the_shorter_ones() {
        // Every length is the same number mod 10^digits, so shorter codes are suffixes of longer.
        let secret = secret_80_bit();
        for params in [totp(10, 30), hotp(10, 3)] {
            let ten = generate(&secret, &params, 1_700_000_000).unwrap();
            for digits in 5..=9 {
                let short =
                    generate(&secret, &OtpParams { digits, ..params }, 1_700_000_000).unwrap();
                assert!(
                    ten.current.ends_with(&short.current),
                    "{} vs {}",
                    ten.current,
                    short.current
                );
                assert!(ten.next.ends_with(&short.next), "{} vs {}", ten.next, short.next);
            }
        }
    }

    #[test]
    fn hotp_does_not_expire_and_shows_the_next_counter() {
        let secret = secret_80_bit();
        let at_4 = generate(&secret, &hotp(6, 4), 0).unwrap();
        let at_5 = generate(&secret, &hotp(6, 5), 12_345).unwrap();
        assert_eq!(at_4.seconds_left, None);
        assert_eq!(at_4.next, at_5.current);
    }

    #[test]
    fn steam_ignores_digits_algorithm_and_period() {
        let secret = secret_80_bit();
        let plain = generate(&secret, &steam(), 1_700_000_000).unwrap();
        let odd = OtpParams { digits: 8, period: 60, algorithm: Algorithm::Sha512, ..steam() };
        assert_eq!(generate(&secret, &odd, 1_700_000_000).unwrap(), plain);
        assert_eq!(plain.seconds_left, Some(10));
        assert_eq!(plain.current.len(), 5);
        assert!(plain.current.chars().all(|c| "23456789BCDFGHJKMNPQRTVWXY".contains(c)));
    }

    #[test]
    fn huge_times_and_counters_do_not_overflow() {
        let secret = secret_80_bit();
        for period in [1, 7, 30, u32::MAX] {
            for digits in [6, 10] {
                for time in [u64::MAX, u64::MAX - 1] {
                    let code = generate(&secret, &totp(digits, period), time).unwrap();
                    let left = u64::from(period) - time % u64::from(period);
                    assert_eq!(code.seconds_left, Some(left));
                }
            }
        }
        // A one-second period at u64::MAX has counter u64::MAX; the next one wraps, like HOTP's.
        let totp_end = generate(&secret, &totp(6, 1), u64::MAX).unwrap();
        let hotp_end = generate(&secret, &hotp(6, u64::MAX), 0).unwrap();
        let hotp_zero = generate(&secret, &hotp(6, 0), 0).unwrap();
        assert_eq!(totp_end.current, hotp_end.current);
        assert_eq!(hotp_end.next, hotp_zero.current);
        assert_eq!(totp_end.next, hotp_zero.current);
        assert!(generate(&secret, &steam(), u64::MAX).is_ok());
    }

    proptest::proptest! {
        /// mOTP codes are 6 lower-case hex characters and Yandex codes 8 letters a–z, for any
        /// key, PIN and time; `next` is the code of the following step.
        #[test]
        fn motp_and_yandex_codes_have_their_shape(
            key in proptest::collection::vec(proptest::num::u8::ANY, 1..40),
            pin in "\\PC{1,16}",
            time in 0u64..u64::MAX - 30,
        ) {
            let secret = Secret::new(key).with_pin(&pin).unwrap();
            for (params, step, alphabet) in [
                (OtpParams::MOTP, 10, "0123456789abcdef"),
                (OtpParams::YANDEX, 30, "abcdefghijklmnopqrstuvwxyz"),
            ] {
                let code = generate(&secret, &params, time).unwrap();
                proptest::prop_assert_eq!(code.current.len(), usize::from(params.digits));
                proptest::prop_assert!(code.current.chars().all(|c| alphabet.contains(c)));
                proptest::prop_assert_eq!(code.seconds_left, Some(step - time % step));
                let later = generate(&secret, &params, time + step).unwrap();
                proptest::prop_assert_eq!(code.next, later.current);
            }
        }

        /// totp-rs (TOTP up to 9 digits) and the HOTP code here must agree: TOTP is HOTP at the
        /// period counter (RFC 6238 §4.2).
        #[test]
        fn totp_is_hotp_at_the_period_counter(
            key in proptest::collection::vec(proptest::num::u8::ANY, 1..80),
            algorithm in proptest::sample::select(vec![Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512]),
            digits in 5u8..=10,
            period in 1u32..,
            time: u64,
        ) {
            let secret = Secret::new(key);
            let totp = generate(&secret, &OtpParams { algorithm, ..totp(digits, period) }, time).unwrap();
            let counter = time / u64::from(period);
            let hotp = generate(&secret, &OtpParams { algorithm, ..hotp(digits, counter) }, 0).unwrap();
            proptest::prop_assert_eq!(totp.current, hotp.current);
            proptest::prop_assert_eq!(totp.next, hotp.next);
        }
    }
}
