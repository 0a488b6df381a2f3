//! `otpauth://` URIs: read every shape authenticators and issuers write, write one canonical form.
//!
//! Spec: Google's Key Uri Format, <https://github.com/google/google-authenticator/wiki/Key-Uri-Format>
//! (`otpauth://TYPE/LABEL?PARAMETERS`). Where it is silent or loose, this module decides:
//!
//! - **Issuer.** The `issuer` parameter wins over the label's `Issuer:` prefix when both exist and
//!   differ (the spec says they "should be equal"; newer Google Authenticator uses the parameter).
//!   The account name is what follows the prefix either way. An empty `issuer=` counts as absent.
//! - **Label.** `Issuer:name`, `Issuer%3Aname`, `Issuer: name` and plain `name` are read; spaces
//!   before the name are dropped, as the spec's ABNF allows them there. When the `issuer`
//!   parameter is present, a label that starts with it and a colon is split right after it, so an
//!   issuer may itself contain a colon. A label that is exactly the `issuer` parameter names no
//!   account (an empty name), and is how an account without a name is written, rather than with
//!   a trailing colon. `+` in the label is a literal plus (RFC 3986 paths).
//! - **Parameters.** `+` means a space in parameter values (what Android's query parser and most
//!   generators do); names are matched in any case; unknown parameters are ignored; a known one
//!   given twice is an error, since either reading could be wrong. An empty `image=` is no icon.
//! - **Steam.** Read as `otpauth://steam/...` (Aegis, andOTP, steamctl) and as
//!   `otpauth://totp/...&encoder=steam` (KeePassXC). Steam fixes its own code shape (SHA1, 30 s,
//!   5 characters), so the URI's `algorithm`, `digits`, `period` and `counter` are ignored for it.
//!   Written as `otpauth://steam/...`: the authenticator apps that know Steam read it, and an app
//!   that does not refuses the URI, where `encoder=steam` would make it show wrong numeric codes.
//! - **mOTP and Yandex**, as Aegis writes and reads them. mOTP: `motp:/LABEL?secret=HEX` (Aegis's
//!   own, the secret in hexadecimal) or `otpauth://motp/LABEL?secret=BASE32`; Yandex:
//!   `otpauth://yaotp/LABEL?secret=BASE32&pin=BASE32` (`yandex` is read as a type name too). Their
//!   codes mix in a PIN: `pin` is the base32 of the PIN's UTF-8, as Aegis writes it for Yandex, and
//!   a URI without one is refused (Twofold could make no code). Their code shapes are fixed, so
//!   `algorithm`, `digits`, `period` and `counter` are ignored as for Steam. Written as
//!   `otpauth://motp/...&pin=...` and `otpauth://yaotp/...&pin=...`: Aegis reads both (it asks
//!   for the mOTP PIN itself).
//! - **Canonical form.** Upper-case base32 secret without padding; defaults (SHA1, 6 digits,
//!   30 s, counter 0) are omitted except `counter` for hotp, which the spec requires; everything
//!   outside `A–Z a–z 0–9 - . _ ~ @` is percent-encoded.
//! - **Length.** A URI, and the canonical form of what it holds, is at most [`MAX_URI_LEN`] bytes,
//!   so whatever [`parse`] returns, [`format`] writes a URI that [`parse`] reads back unchanged.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use zeroize::{Zeroize, Zeroizing};

use crate::otp::OtpError;
use crate::secret::SecretError;
use crate::{Algorithm, Credential, Kind, OtpParams, Secret};

/// Longest otpauth URI accepted, in bytes: a QR code holds at most 2,953 bytes, and hostile input
/// should cost bounded work.
pub const MAX_URI_LEN: usize = 4096;

const SCHEME: &str = "otpauth://";
/// Aegis's own scheme for mOTP accounts, whose secret is hexadecimal.
const MOTP_SCHEME: &str = "motp:";

/// How many characters of a rejected parameter value an error message shows.
const SHOWN_CHARS: usize = 32;

/// What [`format`] percent-encodes: everything but RFC 3986's unreserved characters, and `@`,
/// which labels are full of (e-mail addresses) and which needs no escaping in a path or a query.
const ENCODED: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'@');

/// The part of an otpauth URI an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriPart {
    /// The label, `Issuer:name`, between the type and the `?`.
    Label,
    /// A query parameter, by name (`issuer`, `secret`, ...).
    Parameter(&'static str),
}

impl fmt::Display for UriPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Label => f.write_str("account label"),
            Self::Parameter(name) => write!(f, "{name} parameter"),
        }
    }
}

/// Why a text is not a usable otpauth URI. Messages are for people and never contain the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// The text is longer than [`MAX_URI_LEN`].
    #[error("the text is {length} bytes long; an otpauth URI has at most {MAX_URI_LEN}")]
    TooLong {
        /// Length of the text in bytes, without surrounding whitespace.
        length: usize,
    },
    /// The names and icon are so long that the URI written back would exceed [`MAX_URI_LEN`].
    #[error(
        "the issuer, account name and image are too long: written out, the URI would be {length} \
         bytes; at most {MAX_URI_LEN} are allowed"
    )]
    FieldsTooLong {
        /// Length of the canonical URI in bytes.
        length: usize,
    },
    /// The text does not start with `otpauth://` (or Aegis's `motp:`).
    #[error("not an otpauth URI: it must start with otpauth://")]
    NotOtpauth,
    /// Nothing between `otpauth://` and the label.
    #[error(
        "the otpauth URI has no type: it must start with otpauth://totp/, hotp/, steam/, motp/ \
         or yaotp/"
    )]
    NoType,
    /// A type other than totp, hotp, steam, motp or yaotp.
    #[error("unknown OTP type \"{kind}\": the types are totp, hotp, steam, motp and yaotp")]
    UnknownType {
        /// The type as written (shortened when long).
        kind: String,
    },
    /// A `%` not followed by two hexadecimal digits.
    #[error(
        "the {part} is not valid percent-encoding: each % must be followed by two hexadecimal digits"
    )]
    BadEscape {
        /// Where the bad escape is.
        part: UriPart,
    },
    /// Percent-escapes that decode to bytes which are not UTF-8 text.
    #[error("the {part} is not valid text: its percent-encoded bytes are not UTF-8")]
    NotUtf8 {
        /// Where the bad bytes are.
        part: UriPart,
    },
    /// A known parameter given more than once.
    #[error(
        "the otpauth URI has more than one {name} parameter, so it is unclear which one to use"
    )]
    DuplicateParameter {
        /// The parameter's name.
        name: &'static str,
    },
    /// No `secret` parameter.
    #[error("the otpauth URI has no secret parameter")]
    NoSecret,
    /// The secret is not base32.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The secret of a `motp:` URI is not hexadecimal.
    #[error("the secret of an mOTP URI is not hexadecimal: it must be pairs of 0–9 and a–f")]
    NotHex,
    /// An mOTP or Yandex URI without the PIN its codes need.
    #[error("this {kind} URI has no pin parameter: Twofold needs the PIN to make its codes")]
    NoPin {
        /// "mOTP" or "Yandex".
        kind: &'static str,
    },
    /// A `pin` parameter that is not base32 of a PIN's text.
    #[error("the pin parameter is not a PIN written in base32, as Aegis writes it")]
    BadPin,
    /// An `algorithm` other than SHA1, SHA256 or SHA512.
    #[error("unknown algorithm \"{algorithm}\": the algorithms are SHA1, SHA256 and SHA512")]
    UnknownAlgorithm {
        /// The algorithm as written (shortened when long).
        algorithm: String,
    },
    /// `digits`, `period` or `counter` is not made of decimal digits.
    #[error("the {parameter} parameter \"{value}\" is not a whole number")]
    NotANumber {
        /// The parameter's name.
        parameter: &'static str,
        /// The value as written (shortened when long).
        value: String,
    },
    /// `digits`, `period` or `counter` is a number too large to hold.
    #[error("the {parameter} parameter {value} is too large")]
    TooLarge {
        /// The parameter's name.
        parameter: &'static str,
        /// The value as written (shortened when long).
        value: String,
    },
    /// An hotp URI without the counter of its next code.
    #[error("a counter-based (hotp) URI needs a counter parameter")]
    NoCounter,
    /// `encoder=steam` on an hotp URI.
    #[error("encoder=steam cannot be used with hotp: Steam codes are time-based")]
    SteamHotp,
    /// Digits or period out of range for making codes.
    #[error(transparent)]
    Otp(#[from] OtpError),
}

/// Reads an otpauth URI (surrounding whitespace ignored) into a validated credential.
pub fn parse(text: &str) -> Result<Credential, UriError> {
    let text = text.trim();
    if text.len() > MAX_URI_LEN {
        return Err(UriError::TooLong { length: text.len() });
    }
    let (rest, hex_secret) = match strip_scheme(text, SCHEME) {
        Some(rest) => (rest, false),
        None => (strip_scheme(text, MOTP_SCHEME).ok_or(UriError::NotOtpauth)?, true),
    };
    // A fragment is not part of the resource (RFC 3986); base32 never contains '#'.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (kind, label) = if hex_secret {
        // `motp:/LABEL` (what Aegis writes) or `motp://LABEL`: no type, the label after slashes.
        (Kind::Motp, path.trim_start_matches('/'))
    } else {
        let (kind, label) = path.split_once('/').unwrap_or((path, ""));
        (read_kind(kind)?, label)
    };
    let query = Query::read(query)?;

    let mut secret = {
        let raw = query.secret.ok_or(UriError::NoSecret)?;
        let text = Zeroizing::new(decode(raw, true, UriPart::Parameter("secret"))?);
        if hex_secret {
            let key = data_encoding::HEXLOWER_PERMISSIVE
                .decode(text.trim().as_bytes())
                .map_err(|_| UriError::NotHex)?;
            Secret::new(key)
        } else {
            Secret::from_base32(&text)?
        }
    };
    if kind == Kind::Yandex {
        secret = crate::otp::yandex_key(secret)?;
    }
    if kind.needs_pin() {
        let name = if kind == Kind::Motp { "mOTP" } else { "Yandex" };
        let raw = query.pin.ok_or(UriError::NoPin { kind: name })?;
        secret = secret.with_pin(&read_pin(raw)?).map_err(|_| UriError::BadPin)?;
    }
    let label = decode(label, false, UriPart::Label)?;
    let issuer = query
        .issuer
        .map(|raw| decode(raw, true, UriPart::Parameter("issuer")))
        .transpose()?
        .filter(|issuer| !issuer.is_empty());
    let (issuer, name) = split_label(&label, issuer);

    let steam_encoder = match query.encoder {
        Some(raw) => {
            decode(raw, true, UriPart::Parameter("encoder"))?.eq_ignore_ascii_case("steam")
        }
        None => false,
    };
    let kind = match (kind, steam_encoder) {
        (Kind::Totp, true) => Kind::Steam,
        (Kind::Hotp, true) => return Err(UriError::SteamHotp),
        (kind, _) => kind,
    };
    let otp = read_params(kind, &query)?;
    otp.validate()?;

    let icon = query
        .image
        .map(|raw| decode(raw, true, UriPart::Parameter("image")))
        .transpose()?
        .filter(|icon| !icon.is_empty());
    let credential = Credential { issuer, name, secret, otp, icon };
    let length = Zeroizing::new(format(&credential)).len();
    if length > MAX_URI_LEN {
        return Err(UriError::FieldsTooLong { length });
    }
    Ok(credential)
}

/// Writes the canonical otpauth URI of a credential (see the module documentation).
///
/// The result contains the secret: treat it as secret too.
pub fn format(credential: &Credential) -> String {
    let Credential { issuer, name, secret, otp, icon } = credential;
    let kind = match otp.kind {
        Kind::Totp => "totp",
        Kind::Hotp => "hotp",
        Kind::Steam => "steam",
        Kind::Motp => "motp",
        Kind::Yandex => "yaotp",
    };
    let mut uri = format!("{SCHEME}{kind}/");
    // With no issuer, a name holding a colon gets an empty prefix so its colon is not read as one.
    // With no name, the label is the issuer alone: a trailing colon would be an empty account.
    if (!issuer.is_empty() && !name.is_empty()) || (issuer.is_empty() && name.contains(':')) {
        uri.extend(utf8_percent_encode(issuer, ENCODED));
        uri.push(':');
    } else if name.is_empty() {
        uri.extend(utf8_percent_encode(issuer, ENCODED));
    }
    uri.extend(utf8_percent_encode(name, ENCODED));
    uri.push_str("?secret=");
    uri.push_str(&secret.to_base32());
    if !issuer.is_empty() {
        uri.push_str("&issuer=");
        uri.extend(utf8_percent_encode(issuer, ENCODED));
    }
    if let Some(pin) = secret.pin().filter(|_| otp.kind.needs_pin()) {
        uri.push_str("&pin=");
        uri.push_str(&Zeroizing::new(data_encoding::BASE32_NOPAD.encode(pin.as_bytes())));
    }
    if otp.kind.fixed_params().is_none() {
        let defaults = OtpParams::default();
        if otp.algorithm != defaults.algorithm {
            uri.push_str(match otp.algorithm {
                Algorithm::Sha1 => "&algorithm=SHA1",
                Algorithm::Sha256 => "&algorithm=SHA256",
                Algorithm::Sha512 => "&algorithm=SHA512",
            });
        }
        if otp.digits != defaults.digits {
            uri.push_str(&format!("&digits={}", otp.digits));
        }
        if otp.period != defaults.period {
            uri.push_str(&format!("&period={}", otp.period));
        }
        if otp.kind == Kind::Hotp || otp.counter != defaults.counter {
            uri.push_str(&format!("&counter={}", otp.counter));
        }
    }
    if let Some(icon) = icon.as_deref().filter(|icon| !icon.is_empty()) {
        uri.push_str("&image=");
        uri.extend(utf8_percent_encode(icon, ENCODED));
    }
    uri
}

/// The raw (still percent-encoded) values of the parameters this module knows.
#[derive(Default)]
struct Query<'a> {
    secret: Option<&'a str>,
    issuer: Option<&'a str>,
    algorithm: Option<&'a str>,
    digits: Option<&'a str>,
    period: Option<&'a str>,
    counter: Option<&'a str>,
    image: Option<&'a str>,
    encoder: Option<&'a str>,
    pin: Option<&'a str>,
}

impl<'a> Query<'a> {
    fn read(query: &'a str) -> Result<Self, UriError> {
        let mut read = Self::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (slot, name) = match key.to_ascii_lowercase().as_str() {
                "secret" => (&mut read.secret, "secret"),
                "issuer" => (&mut read.issuer, "issuer"),
                "algorithm" => (&mut read.algorithm, "algorithm"),
                "digits" => (&mut read.digits, "digits"),
                "period" => (&mut read.period, "period"),
                "counter" => (&mut read.counter, "counter"),
                "image" => (&mut read.image, "image"),
                "encoder" => (&mut read.encoder, "encoder"),
                "pin" => (&mut read.pin, "pin"),
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(UriError::DuplicateParameter { name });
            }
        }
        Ok(read)
    }
}

fn read_kind(kind: &str) -> Result<Kind, UriError> {
    if kind.is_empty() {
        Err(UriError::NoType)
    } else if kind.eq_ignore_ascii_case("totp") {
        Ok(Kind::Totp)
    } else if kind.eq_ignore_ascii_case("hotp") {
        Ok(Kind::Hotp)
    } else if kind.eq_ignore_ascii_case("steam") {
        Ok(Kind::Steam)
    } else if kind.eq_ignore_ascii_case("motp") {
        Ok(Kind::Motp)
    } else if kind.eq_ignore_ascii_case("yaotp") || kind.eq_ignore_ascii_case("yandex") {
        Ok(Kind::Yandex)
    } else {
        Err(UriError::UnknownType { kind: shown(kind) })
    }
}

/// `text` after `scheme` (matched in any case), or `None` when it does not start with it.
fn strip_scheme<'a>(text: &'a str, scheme: &str) -> Option<&'a str> {
    text.get(..scheme.len())
        .filter(|start| start.eq_ignore_ascii_case(scheme))
        .and_then(|_| text.get(scheme.len()..))
}

/// The PIN a `pin` parameter holds: base32 of its UTF-8 text.
fn read_pin(raw: &str) -> Result<Zeroizing<String>, UriError> {
    let text = Zeroizing::new(decode(raw, true, UriPart::Parameter("pin"))?);
    let bytes = Secret::from_base32(&text).map_err(|_| UriError::BadPin)?;
    std::str::from_utf8(bytes.expose())
        .map(|pin| Zeroizing::new(pin.to_owned()))
        .map_err(|_| UriError::BadPin)
}

/// The code parameters, defaults filled in; Steam's, mOTP's and Yandex's are fixed whatever the
/// URI says.
fn read_params(kind: Kind, query: &Query<'_>) -> Result<OtpParams, UriError> {
    let defaults = OtpParams::default();
    if let Some(fixed) = kind.fixed_params() {
        return Ok(fixed);
    }
    let algorithm = match query.algorithm {
        Some(raw) => read_algorithm(&decode(raw, true, UriPart::Parameter("algorithm"))?)?,
        None => defaults.algorithm,
    };
    let digits = match query.digits {
        Some(raw) => read_number(raw, "digits")?,
        None => defaults.digits,
    };
    let period = match query.period {
        Some(raw) => read_number(raw, "period")?,
        None => defaults.period,
    };
    let counter = match (query.counter, kind) {
        (Some(raw), _) => read_number(raw, "counter")?,
        (None, Kind::Hotp) => return Err(UriError::NoCounter),
        (None, _) => defaults.counter,
    };
    Ok(OtpParams { kind, algorithm, digits, period, counter })
}

fn read_algorithm(algorithm: &str) -> Result<Algorithm, UriError> {
    [("SHA1", Algorithm::Sha1), ("SHA256", Algorithm::Sha256), ("SHA512", Algorithm::Sha512)]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(algorithm))
        .map(|(_, algorithm)| algorithm)
        .ok_or_else(|| UriError::UnknownAlgorithm { algorithm: shown(algorithm) })
}

/// Reads a parameter made of decimal digits only (no sign, no spaces).
fn read_number<T: std::str::FromStr>(raw: &str, parameter: &'static str) -> Result<T, UriError> {
    let value = decode(raw, true, UriPart::Parameter(parameter))?;
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UriError::NotANumber { parameter, value: shown(&value) });
    }
    value.parse().map_err(|_| UriError::TooLarge { parameter, value: shown(&value) })
}

/// Splits a decoded label into issuer and account name; `issuer` is the non-empty parameter.
fn split_label(label: &str, issuer: Option<String>) -> (String, String) {
    let (issuer, name) = match issuer {
        // A label that is the issuer alone names no account (what `format` writes for one).
        Some(issuer) if label == issuer => (issuer, ""),
        Some(issuer) => {
            let name = label
                .strip_prefix(issuer.as_str())
                .and_then(|rest| rest.strip_prefix(':'))
                .or_else(|| label.split_once(':').map(|(_, name)| name))
                .unwrap_or(label);
            (issuer, name)
        }
        None => match label.split_once(':') {
            Some((issuer, name)) => (issuer.to_owned(), name),
            None => (String::new(), label),
        },
    };
    (issuer, name.trim_start_matches(' ').to_owned())
}

/// Percent-decodes strictly: a `%` must start a two-digit hex escape and the result must be UTF-8.
/// The working buffer is zeroized, since it may hold the secret.
fn decode(raw: &str, plus_is_space: bool, part: UriPart) -> Result<String, UriError> {
    let bytes = raw.as_bytes();
    // Decoding only shrinks, so this capacity is never outgrown and no copy is left behind.
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'%' => {
                let high = bytes.get(i + 1).and_then(|&c| hex_value(c));
                let low = bytes.get(i + 2).and_then(|&c| hex_value(c));
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(UriError::BadEscape { part });
                };
                out.push(high << 4 | low);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(std::mem::take(&mut *out)).map_err(|error| {
        error.into_bytes().zeroize();
        UriError::NotUtf8 { part }
    })
}

fn hex_value(c: u8) -> Option<u8> {
    char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// A value as an error message shows it: at most [`SHOWN_CHARS`] characters.
fn shown(value: &str) -> String {
    let mut chars = value.chars();
    let mut shown: String = chars.by_ref().take(SHOWN_CHARS).collect();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_is_strict_about_escapes_and_utf8() {
        let part = UriPart::Label;
        assert_eq!(decode("a%20b+c%3a", false, part), Ok("a b+c:".to_owned()));
        assert_eq!(decode("a+b", true, part), Ok("a b".to_owned()));
        assert_eq!(decode("%C3%A9", false, part), Ok("é".to_owned()));
        for bad in ["%", "%4", "%zz", "a%g0"] {
            assert_eq!(decode(bad, false, part), Err(UriError::BadEscape { part }), "{bad}");
        }
        assert_eq!(decode("%FF", false, part), Err(UriError::NotUtf8 { part }));
    }

    #[test]
    fn shown_values_are_shortened() {
        assert_eq!(shown("SHA3"), "SHA3");
        assert_eq!(shown(&"é".repeat(40)), format!("{}…", "é".repeat(32)));
    }
}
