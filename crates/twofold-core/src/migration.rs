//! Google Authenticator's export: `otpauth-migration://offline?data=…`, read and written.
//!
//! Google does not publish the format; it was reconstructed by others and is described, with the
//! `.proto` file, at <https://github.com/qistoph/otp_export> (see also
//! <https://alexbakker.me/post/parsing-google-auth-export-qr-code.html>). A QR code holds the URI;
//! its `data` parameter is percent-encoded standard base64 (with `=` padding) of a protobuf message:
//!
//! ```text
//! MigrationPayload { repeated OtpParameters otp_parameters = 1; int32 version = 2;
//!                    int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5; }
//! OtpParameters    { bytes secret = 1; string name = 2; string issuer = 3;
//!                    Algorithm algorithm = 4;  // 0 unspecified, 1 SHA1, 2 SHA256, 3 SHA512, 4 MD5
//!                    DigitCount digits = 5;    // 0 unspecified, 1 six, 2 eight
//!                    OtpType type = 6;         // 0 unspecified, 1 HOTP, 2 TOTP
//!                    int64 counter = 7; }
//! ```
//!
//! An export of many accounts is split over several QR codes: `batch_size` codes, numbered by
//! `batch_index` from 0, sharing one `batch_id`.
//!
//! What the format loses or cannot carry:
//! - the TOTP period: there is no field, every account is read as 30 seconds;
//! - Steam accounts, and codes of other than 6 or 8 digits;
//! - icons, tags, order and anything else beyond issuer, name, secret and code parameters;
//! - confidentiality: the secrets are only base64, not encrypted — the QR code *is* the secrets.
//!
//! Quirks handled here: `name` is often "Issuer:account" (the otpauth label), so a prefix equal to
//! `issuer` is removed, and with no `issuer` the part before the first `:` becomes the issuer. The
//! `int64` counter is read as the bits of Twofold's `u64` counter (the counter of the next code), so
//! every counter survives a round trip. One bad entry is reported on its own and never hides the rest.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use prost::Message as _;
use zeroize::Zeroizing;

use crate::{Algorithm, Credential, Kind, OtpParams, Secret};

/// The longest text `decode` reads, in bytes. The largest QR code holds under 3 KB, so this leaves
/// room for pasted text while bounding the work done on hostile input.
pub const MAX_URI_LEN: usize = 64 * 1024;

/// The longest URI `encode` writes, in bytes: what a version 20 QR code holds in byte mode at error
/// correction M (97 × 97 modules). At 3 pixels a module, with its quiet zone, that is 315 pixels:
/// it fits a narrow window unscaled. Version 25 codes (997 bytes) drawn in 340 pixels had modules
/// under 3 pixels, and some did not scan. M survives the moiré and glare of a phone camera aimed at
/// a monitor.
pub const MAX_QR_URI_LEN: usize = 666;

/// Every URI this module writes starts so, as Google's do.
const URI_PREFIX: &str = "otpauth-migration://offline?data=";

/// The format has no period field: Google Authenticator only makes 30-second codes.
const PERIOD: u32 = 30;

/// The payload `version` Google Authenticator writes.
const VERSION: i32 = 1;

/// Google writes padded standard base64; people and other tools also hand over url-safe or
/// unpadded text (url-safe characters are mapped to standard ones before decoding).
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why a text could not be read as a Google Authenticator export. Never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The text is not an `otpauth-migration:` URI.
    #[error(
        "not a Google Authenticator export: the link should start with \"otpauth-migration://\"{}",
        found_scheme(scheme.as_deref())
    )]
    NotMigrationUri {
        /// The scheme the text has instead, when it looks like one (e.g. "otpauth", "https").
        scheme: Option<String>,
    },
    /// No `data` parameter, or an empty one.
    #[error("the export link has no data: its \"data=\" parameter is missing or empty")]
    MissingData,
    /// The `data` parameter is not base64.
    #[error("the export link's data is not valid base64: the link may be cut short or mistyped")]
    NotBase64,
    /// The data is base64 but not a protobuf export payload.
    #[error(
        "the export link's data is damaged or cut short: it is not a Google Authenticator export"
    )]
    InvalidPayload,
    /// A well-formed export with no account in it.
    #[error("the export holds no accounts")]
    NoAccounts,
    /// The text is longer than any export could be.
    #[error("the text is too long for an export link: {length} bytes, at most {limit} are read")]
    TooLarge {
        /// Length of the text given, in bytes.
        length: usize,
        /// The most bytes read ([`MAX_URI_LEN`]).
        limit: usize,
    },
}

fn found_scheme(scheme: Option<&str>) -> String {
    scheme.map(|s| format!(", not \"{s}:\"")).unwrap_or_default()
}

/// What is wrong with one entry of an export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryProblem {
    /// HMAC-MD5, which the format allows but no current standard or Twofold supports.
    #[error("it uses the MD5 algorithm, which Twofold does not support")]
    Md5,
    /// An algorithm number the format does not define.
    #[error("its algorithm (number {value}) is not one the format defines")]
    UnknownAlgorithm {
        /// The number found.
        value: i32,
    },
    /// The type is not set, so it is neither TOTP nor HOTP.
    #[error("its type is not set: it is neither TOTP nor HOTP")]
    UnspecifiedType,
    /// A type number the format does not define.
    #[error("its type (number {value}) is neither TOTP nor HOTP")]
    UnknownType {
        /// The number found.
        value: i32,
    },
    /// A digit-count number the format does not define (it has 6 and 8 only).
    #[error("its digit count (number {value}) is not one the format defines: 6 or 8 digits")]
    UnknownDigits {
        /// The number found.
        value: i32,
    },
    /// No secret bytes.
    #[error("it has no secret")]
    EmptySecret,
    /// The entry's own bytes are not a valid entry.
    #[error("its data is damaged")]
    Damaged,
}

/// One entry of an export that could not be read, with where it was and what it was called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("account {} ({label}) was not imported: {problem}", index + 1)]
#[non_exhaustive]
pub struct EntryError {
    /// Position in the export's list of accounts, from 0 (the message counts from 1).
    pub index: usize,
    /// "Issuer (name)" as far as it could be read, so a person knows which account it is.
    pub label: String,
    /// What is wrong.
    pub problem: EntryProblem,
}

/// One QR code's worth of an export: its place in the batch and its accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Payload format version (Google writes 1).
    pub version: i32,
    /// How many QR codes the whole export has.
    pub batch_size: i32,
    /// Which of them this is, from 0.
    pub batch_index: i32,
    /// Identifies the export, the same on all its QR codes.
    pub batch_id: i32,
    /// Each account in order: read, or why not.
    pub entries: Vec<Result<Credential, EntryError>>,
}

/// Why an account was left out of an export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// Steam Guard codes are not TOTP or HOTP codes.
    #[error("Steam accounts cannot be exported: the format has only TOTP and HOTP")]
    Steam,
    /// mOTP and Yandex codes are not TOTP or HOTP codes, and the format holds no PIN.
    #[error("{kind} accounts cannot be exported: the format has only TOTP and HOTP")]
    PinKind {
        /// "mOTP" or "Yandex".
        kind: &'static str,
    },
    /// Codes of other than 6 or 8 digits.
    #[error("{digits}-digit codes cannot be exported: the format has only 6 or 8 digits")]
    Digits {
        /// The account's code length.
        digits: u8,
    },
    /// A TOTP period other than 30 seconds.
    #[error("a {period}-second period cannot be exported: the format has only 30-second codes")]
    Period {
        /// The account's period in seconds.
        period: u32,
    },
    /// No secret bytes.
    #[error("it has no secret")]
    EmptySecret,
    /// Issuer and name so long that the account alone overflows one QR code.
    #[error("its issuer and name are too long to fit in a QR code")]
    TooLong,
}

/// An account left out of an export, with where it was in the input and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// Position in the credentials given to [`encode`], from 0 (the message counts from 1).
    pub index: usize,
    /// "Issuer (name)", so a person knows which account it is.
    pub label: String,
    /// Why it was left out.
    pub reason: SkipReason,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {} ({}) was not exported: {}", self.index + 1, self.label, self.reason)
    }
}

/// An export: one URI per QR code, in batch order, and the accounts the format could not carry.
#[non_exhaustive]
pub struct Encoded {
    /// `otpauth-migration://` URIs, each at most [`MAX_QR_URI_LEN`] bytes. They hold the secrets.
    pub uris: Vec<Zeroizing<String>>,
    /// Accounts left out, in input order.
    pub skipped: Vec<Skipped>,
}

impl fmt::Debug for Encoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoded")
            .field("uris", &format_args!("<{} redacted>", self.uris.len()))
            .field("skipped", &self.skipped)
            .finish()
    }
}

/// Reads one QR code's `otpauth-migration://offline?data=…` URI.
pub fn decode(uri: &str) -> Result<Batch, MigrationError> {
    if uri.len() > MAX_URI_LEN {
        return Err(MigrationError::TooLarge { length: uri.len(), limit: MAX_URI_LEN });
    }
    let data = data_parameter(uri.trim())?;
    let payload = base64_payload(&data)?;
    decode_payload(&payload)
}

/// Reads the protobuf payload itself: the bytes behind `data=` once base64 is undone.
pub fn decode_payload(bytes: &[u8]) -> Result<Batch, MigrationError> {
    if bytes.len() > MAX_URI_LEN {
        return Err(MigrationError::TooLarge { length: bytes.len(), limit: MAX_URI_LEN });
    }
    let payload =
        wire::MigrationPayload::decode(bytes).map_err(|_| MigrationError::InvalidPayload)?;
    if payload.otp_parameters.is_empty() {
        return Err(MigrationError::NoAccounts);
    }
    Ok(Batch {
        version: payload.version,
        batch_size: payload.batch_size,
        batch_index: payload.batch_index,
        batch_id: payload.batch_id,
        entries: payload
            .otp_parameters
            .iter()
            .enumerate()
            .map(|(index, entry)| decode_entry(index, entry))
            .collect(),
    })
}

/// The percent-decoded value of the `data` query parameter.
fn data_parameter(uri: &str) -> Result<Zeroizing<Vec<u8>>, MigrationError> {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(MigrationError::NotMigrationUri { scheme: None });
    };
    if !scheme.eq_ignore_ascii_case("otpauth-migration") {
        return Err(MigrationError::NotMigrationUri { scheme: shown_scheme(scheme) });
    }
    let query = rest.split_once('?').map_or("", |(_, query)| query);
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    let value = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.eq_ignore_ascii_case("data"))
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
        .ok_or(MigrationError::MissingData)?;
    // Decoding never lengthens the text, so this buffer never reallocates and leaves no copy.
    let mut decoded = Zeroizing::new(Vec::with_capacity(value.len()));
    decoded.extend(percent_decode_str(value));
    Ok(decoded)
}

/// A scheme worth echoing in an error: short and made of scheme characters (RFC 3986), so the
/// message never repeats arbitrary pasted text.
fn shown_scheme(scheme: &str) -> Option<String> {
    let plausible = (1..=32).contains(&scheme.len())
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    plausible.then(|| scheme.to_ascii_lowercase())
}

fn base64_payload(text: &[u8]) -> Result<Zeroizing<Vec<u8>>, MigrationError> {
    let mut standard = Zeroizing::new(Vec::with_capacity(text.len()));
    for &byte in text {
        match byte {
            b'-' => standard.push(b'+'),
            b'_' => standard.push(b'/'),
            // An unescaped `+` that went through form decoding (`+` means space there) comes back
            // as a space.
            b' ' => standard.push(b'+'),
            // Line breaks from copying a long link out of a mail or a terminal.
            b'\r' | b'\n' | b'\t' => {}
            other => standard.push(other),
        }
    }
    LENIENT_BASE64
        .decode(standard.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| MigrationError::NotBase64)
}

fn decode_entry(index: usize, bytes: &[u8]) -> Result<Credential, EntryError> {
    let Ok(mut entry) = wire::OtpParameters::decode(bytes) else {
        return Err(EntryError {
            index,
            label: "(unreadable)".to_owned(),
            problem: EntryProblem::Damaged,
        });
    };
    // The wire says UTF-8; a name that is not is shown with replacement characters rather than
    // losing the account over its label.
    let (issuer, name) = split_label(
        String::from_utf8_lossy(&entry.issuer).into_owned(),
        String::from_utf8_lossy(&entry.name).into_owned(),
    );
    let mut credential = Credential {
        issuer,
        name,
        secret: Secret::new(std::mem::take(&mut entry.secret)),
        otp: OtpParams::default(),
        icon: None,
    };
    match otp_params(&entry, &credential.secret) {
        Ok(otp) => {
            credential.otp = otp;
            Ok(credential)
        }
        Err(problem) => Err(EntryError { index, label: credential.label(), problem }),
    }
}

fn otp_params(entry: &wire::OtpParameters, secret: &Secret) -> Result<OtpParams, EntryProblem> {
    if secret.is_empty() {
        return Err(EntryProblem::EmptySecret);
    }
    let kind = match wire::OtpType::try_from(entry.r#type) {
        Ok(wire::OtpType::Totp) => Kind::Totp,
        Ok(wire::OtpType::Hotp) => Kind::Hotp,
        Ok(wire::OtpType::Unspecified) => return Err(EntryProblem::UnspecifiedType),
        Err(_) => {
            return Err(EntryProblem::UnknownType { value: entry.r#type });
        }
    };
    let algorithm = match wire::Algorithm::try_from(entry.algorithm) {
        Ok(wire::Algorithm::Unspecified | wire::Algorithm::Sha1) => Algorithm::Sha1,
        Ok(wire::Algorithm::Sha256) => Algorithm::Sha256,
        Ok(wire::Algorithm::Sha512) => Algorithm::Sha512,
        Ok(wire::Algorithm::Md5) => return Err(EntryProblem::Md5),
        Err(_) => {
            return Err(EntryProblem::UnknownAlgorithm { value: entry.algorithm });
        }
    };
    let digits = match wire::DigitCount::try_from(entry.digits) {
        Ok(wire::DigitCount::Unspecified | wire::DigitCount::Six) => 6,
        Ok(wire::DigitCount::Eight) => 8,
        Err(_) => {
            return Err(EntryProblem::UnknownDigits { value: entry.digits });
        }
    };
    Ok(OtpParams {
        kind,
        algorithm,
        digits,
        period: PERIOD,
        counter: entry.counter.cast_unsigned(),
    })
}

/// Issuer and account name from the wire's `issuer` and `name`, where `name` may be the whole
/// otpauth label "Issuer:account".
fn split_label(issuer: String, name: String) -> (String, String) {
    if issuer.is_empty() {
        return match name.split_once(':') {
            Some((issuer, account)) => (issuer.to_owned(), account.to_owned()),
            None => (issuer, name),
        };
    }
    match name.strip_prefix(issuer.as_str()).and_then(|rest| rest.strip_prefix(':')) {
        Some(account) => {
            let account = account.to_owned();
            (issuer, account)
        }
        None => (issuer, name),
    }
}

/// The wire `name` for an account: the name alone, as Google writes it, unless `split_label` would
/// then read it differently (a name with a colon); then "issuer:name", which it reads back exactly.
fn name_field(issuer: &str, name: &str) -> String {
    let (read_issuer, read_name) = split_label(issuer.to_owned(), name.to_owned());
    if read_issuer == issuer && read_name == name {
        name.to_owned()
    } else {
        format!("{issuer}:{name}")
    }
}

/// Writes `credentials` as `otpauth-migration://` URIs, as many as needed for each to fit one QR
/// code (at most [`MAX_QR_URI_LEN`] bytes), all sharing `batch_id`. Accounts the format cannot carry
/// are left out and listed with the reason, never silently changed. Icons are not carried.
pub fn encode(credentials: &[Credential], batch_id: i32) -> Encoded {
    encode_within(credentials, batch_id, MAX_QR_URI_LEN)
}

/// Like [`encode`], with URIs of at most `max_len` bytes: denser codes, as Google's own exports
/// make (the QR scanning bench reads those).
pub fn encode_within(credentials: &[Credential], batch_id: i32, max_len: usize) -> Encoded {
    let mut skipped = Vec::new();
    let mut batches = Vec::new();
    let mut current = new_batch(max_len);
    for (index, credential) in credentials.iter().enumerate() {
        let field = match entry_field(credential) {
            Ok(field) => field,
            Err(reason) => {
                skipped.push(Skipped { index, label: credential.label(), reason });
                continue;
            }
        };
        if !fits(&current, &field, max_len) {
            if !fits(&[], &field, max_len) {
                skipped.push(Skipped {
                    index,
                    label: credential.label(),
                    reason: SkipReason::TooLong,
                });
                continue;
            }
            batches.push(std::mem::replace(&mut current, new_batch(max_len)));
        }
        current.extend_from_slice(&field);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    let batch_size = i32::try_from(batches.len()).unwrap_or(i32::MAX);
    let uris = batches
        .iter()
        .enumerate()
        .map(|(index, entries)| {
            let batch_index = i32::try_from(index).unwrap_or(i32::MAX);
            batch_uri(entries, &header(batch_size, batch_index, batch_id))
        })
        .collect();
    Encoded { uris, skipped }
}

/// The entry fields of one batch. A batch never holds more than a QR code's worth of bytes, so
/// reserving that up front keeps the buffer from reallocating and leaving secret copies behind.
fn new_batch(max_len: usize) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(Vec::with_capacity(max_len))
}

/// One account as an encoded `otp_parameters` field (tag, length and entry), or why it cannot be.
fn entry_field(credential: &Credential) -> Result<Zeroizing<Vec<u8>>, SkipReason> {
    let otp = &credential.otp;
    if credential.secret.is_empty() {
        return Err(SkipReason::EmptySecret);
    }
    let r#type = match otp.kind {
        Kind::Totp if otp.period != PERIOD => {
            return Err(SkipReason::Period { period: otp.period });
        }
        Kind::Totp => wire::OtpType::Totp,
        Kind::Hotp => wire::OtpType::Hotp,
        Kind::Steam => return Err(SkipReason::Steam),
        Kind::Motp => return Err(SkipReason::PinKind { kind: "mOTP" }),
        Kind::Yandex => return Err(SkipReason::PinKind { kind: "Yandex" }),
    };
    let digits = match otp.digits {
        6 => wire::DigitCount::Six,
        8 => wire::DigitCount::Eight,
        digits => return Err(SkipReason::Digits { digits }),
    };
    let algorithm = match otp.algorithm {
        Algorithm::Sha1 => wire::Algorithm::Sha1,
        Algorithm::Sha256 => wire::Algorithm::Sha256,
        Algorithm::Sha512 => wire::Algorithm::Sha512,
    };
    let entry = wire::OtpParameters {
        secret: credential.secret.expose().to_vec(),
        name: name_field(&credential.issuer, &credential.name).into_bytes(),
        issuer: credential.issuer.clone().into_bytes(),
        algorithm: algorithm.into(),
        digits: digits.into(),
        r#type: r#type.into(),
        counter: otp.counter.cast_signed(),
    };
    // A payload holding just this entry encodes to exactly its field: every other field is zero
    // and so left out.
    let alone = wire::MigrationPayload {
        otp_parameters: vec![entry.encode_to_vec()],
        ..Default::default()
    };
    Ok(Zeroizing::new(alone.encode_to_vec()))
}

fn header(batch_size: i32, batch_index: i32, batch_id: i32) -> wire::MigrationPayload {
    wire::MigrationPayload {
        otp_parameters: Vec::new(),
        version: VERSION,
        batch_size,
        batch_index,
        batch_id,
    }
}

/// Whether `entries` plus `field`, with any batch header, makes a URI of at most `max_len` bytes.
///
/// Protobuf writes fields in tag order, so the payload is the entry fields followed by the header;
/// base64 turns each whole 3 bytes into 4 characters on their own, so the entries' whole groups
/// are measured exactly and only the rest plus the longest header is assumed to be all `+`, `/`
/// (three bytes each once percent-encoded). The batch count is not known while packing; this
/// bound holds for any.
fn fits(entries: &[u8], field: &[u8], max_len: usize) -> bool {
    let mut payload = Zeroizing::new(Vec::with_capacity(entries.len() + field.len()));
    payload.extend_from_slice(entries);
    payload.extend_from_slice(field);
    let whole = payload.len() - payload.len() % 3;
    let (head, tail) = payload.split_at(whole);
    let head_text = Zeroizing::new(LENIENT_BASE64.encode(head));
    let head_len =
        head_text.bytes().map(|b| if b.is_ascii_alphanumeric() { 1 } else { 3 }).sum::<usize>();
    let longest_header = header(i32::MAX, i32::MAX, i32::MIN).encoded_len();
    let tail_len = 3 * 4 * (tail.len() + longest_header).div_ceil(3);
    URI_PREFIX.len() + head_len + tail_len <= max_len
}

fn batch_uri(entries: &[u8], header: &wire::MigrationPayload) -> Zeroizing<String> {
    let header = header.encode_to_vec();
    let mut payload = Zeroizing::new(Vec::with_capacity(entries.len() + header.len()));
    payload.extend_from_slice(entries);
    payload.extend_from_slice(&header);
    let text = Zeroizing::new(LENIENT_BASE64.encode(payload.as_slice()));
    let mut uri = Zeroizing::new(String::with_capacity(URI_PREFIX.len() + 2 * text.len()));
    uri.push_str(URI_PREFIX);
    // Google's own shape: `+`, `/` and `=` percent-encoded.
    uri.extend(utf8_percent_encode(&text, NON_ALPHANUMERIC));
    uri
}

/// The protobuf messages, written out by hand from the reconstructed `.proto`.
mod wire {
    use std::fmt;

    use zeroize::Zeroize;

    /// One QR code's payload. Entries stay encoded bytes here and are decoded one by one, so a
    /// damaged entry is reported alone instead of failing the whole payload.
    #[derive(prost::Message)]
    #[prost(skip_debug)]
    pub(super) struct MigrationPayload {
        #[prost(bytes = "vec", repeated, tag = "1")]
        pub otp_parameters: Vec<Vec<u8>>,
        #[prost(int32, tag = "2")]
        pub version: i32,
        #[prost(int32, tag = "3")]
        pub batch_size: i32,
        #[prost(int32, tag = "4")]
        pub batch_index: i32,
        #[prost(int32, tag = "5")]
        pub batch_id: i32,
    }

    /// One account. `name` and `issuer` are `string` on the wire, read as bytes so that invalid
    /// UTF-8 spoils only the label, not the entry.
    #[derive(prost::Message)]
    #[prost(skip_debug)]
    pub(super) struct OtpParameters {
        #[prost(bytes = "vec", tag = "1")]
        pub secret: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub name: Vec<u8>,
        #[prost(bytes = "vec", tag = "3")]
        pub issuer: Vec<u8>,
        #[prost(enumeration = "Algorithm", tag = "4")]
        pub algorithm: i32,
        #[prost(enumeration = "DigitCount", tag = "5")]
        pub digits: i32,
        #[prost(enumeration = "OtpType", tag = "6")]
        pub r#type: i32,
        #[prost(int64, tag = "7")]
        pub counter: i64,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
    #[repr(i32)]
    pub(super) enum Algorithm {
        Unspecified = 0,
        Sha1 = 1,
        Sha256 = 2,
        Sha512 = 3,
        Md5 = 4,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
    #[repr(i32)]
    pub(super) enum DigitCount {
        Unspecified = 0,
        Six = 1,
        Eight = 2,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
    #[repr(i32)]
    pub(super) enum OtpType {
        Unspecified = 0,
        Hotp = 1,
        Totp = 2,
    }

    // Both messages hold secrets: wiped on drop, never printed.
    impl Drop for MigrationPayload {
        fn drop(&mut self) {
            self.otp_parameters.zeroize();
        }
    }

    impl Drop for OtpParameters {
        fn drop(&mut self) {
            self.secret.zeroize();
        }
    }

    impl fmt::Debug for MigrationPayload {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("MigrationPayload").finish_non_exhaustive()
        }
    }

    impl fmt::Debug for OtpParameters {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("OtpParameters").finish_non_exhaustive()
        }
    }
}
