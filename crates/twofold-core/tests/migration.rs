//! Google Authenticator's `otpauth-migration://` export: reading, writing, batching, rejections.
//!
//! Payloads are built here byte by byte from the published field numbers (an encoder independent
//! of the module's own prost structs), so a wrong tag in the module cannot hide behind itself.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use twofold_core::migration::{
    self, EntryProblem, MAX_QR_URI_LEN, MAX_URI_LEN, MigrationError, SkipReason,
};
use twofold_core::{Algorithm, Credential, Kind, OtpParams, Secret};

// Field numbers and enum values from the reconstructed otpauth-migration .proto.
const SHA1: u64 = 1;
const SHA256: u64 = 2;
const SHA512: u64 = 3;
const MD5: u64 = 4;
const SIX: u64 = 1;
const EIGHT: u64 = 2;
const HOTP: u64 = 1;
const TOTP: u64 = 2;

fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn varint_field(tag: u64, value: u64, out: &mut Vec<u8>) {
    varint(tag << 3, out);
    varint(value, out);
}

fn bytes_field(tag: u64, bytes: &[u8], out: &mut Vec<u8>) {
    varint((tag << 3) | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// One `OtpParameters` message; zero values are written too (proto3 writers omit them, readers
/// must accept both).
struct Entry<'a> {
    secret: &'a [u8],
    name: &'a str,
    issuer: &'a str,
    algorithm: u64,
    digits: u64,
    kind: u64,
    counter: i64,
}

impl Entry<'_> {
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        bytes_field(1, self.secret, &mut out);
        bytes_field(2, self.name.as_bytes(), &mut out);
        bytes_field(3, self.issuer.as_bytes(), &mut out);
        varint_field(4, self.algorithm, &mut out);
        varint_field(5, self.digits, &mut out);
        varint_field(6, self.kind, &mut out);
        varint_field(7, self.counter as u64, &mut out);
        out
    }
}

fn totp<'a>(secret: &'a [u8], issuer: &'a str, name: &'a str) -> Entry<'a> {
    Entry { secret, name, issuer, algorithm: SHA1, digits: SIX, kind: TOTP, counter: 0 }
}

/// A `MigrationPayload`: entries, then version, batch_size, batch_index, batch_id (int32, so a
/// negative id is a sign-extended 10-byte varint).
fn payload(entries: &[Vec<u8>], size: i32, index: i32, id: i32) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        bytes_field(1, entry, &mut out);
    }
    varint_field(2, 1, &mut out);
    varint_field(3, i64::from(size) as u64, &mut out);
    varint_field(4, i64::from(index) as u64, &mut out);
    varint_field(5, i64::from(id) as u64, &mut out);
    out
}

/// The URI as Google writes it: padded standard base64, `+ / =` percent-encoded.
fn google_uri(payload: &[u8]) -> String {
    let data = STANDARD.encode(payload);
    format!("otpauth-migration://offline?data={}", utf8_percent_encode(&data, NON_ALPHANUMERIC))
}

fn credential(issuer: &str, name: &str, secret: &[u8], otp: OtpParams) -> Credential {
    Credential {
        issuer: issuer.to_owned(),
        name: name.to_owned(),
        secret: Secret::new(secret.to_vec()),
        otp,
        icon: None,
    }
}

fn params(kind: Kind, algorithm: Algorithm, digits: u8, counter: u64) -> OtpParams {
    OtpParams { kind, algorithm, digits, period: 30, counter }
}

#[test]
fn decodes_totp_and_hotp_with_every_algorithm_digit_count_and_the_batch_fields() {
    let entries = [
        Entry {
            algorithm: 0,
            digits: 0,
            ..totp(b"12345678901234567890", "GitHub", "GitHub:alice")
        },
        Entry {
            algorithm: SHA256,
            digits: EIGHT,
            ..totp(b"sha256-secret", "Acme", "bob@acme.test")
        },
        Entry { algorithm: SHA512, ..totp(b"sha512-secret", "", "Example:carol") },
        Entry { kind: HOTP, digits: EIGHT, counter: 42, ..totp(b"hotp-secret", "Bank", "dave") },
        Entry { kind: HOTP, counter: -1, ..totp(b"wrapped", "Old", "Old:erin") },
    ];
    let bytes = payload(&entries.iter().map(Entry::bytes).collect::<Vec<_>>(), 3, 1, -123_456);
    let batch = migration::decode(&google_uri(&bytes)).unwrap();

    assert_eq!(
        (batch.version, batch.batch_size, batch.batch_index, batch.batch_id),
        (1, 3, 1, -123_456)
    );
    let got: Vec<Credential> = batch.entries.into_iter().map(Result::unwrap).collect();
    let want = [
        credential(
            "GitHub",
            "alice",
            b"12345678901234567890",
            params(Kind::Totp, Algorithm::Sha1, 6, 0),
        ),
        credential(
            "Acme",
            "bob@acme.test",
            b"sha256-secret",
            params(Kind::Totp, Algorithm::Sha256, 8, 0),
        ),
        credential(
            "Example",
            "carol",
            b"sha512-secret",
            params(Kind::Totp, Algorithm::Sha512, 6, 0),
        ),
        credential("Bank", "dave", b"hotp-secret", params(Kind::Hotp, Algorithm::Sha1, 8, 42)),
        credential("Old", "erin", b"wrapped", params(Kind::Hotp, Algorithm::Sha1, 6, u64::MAX)),
    ];
    assert_eq!(got, want);
}

#[test]
fn reads_fields_left_out_by_proto3_writers_as_their_defaults() {
    // Only secret, name and type: what Google writes for a plain SHA1, 6-digit TOTP.
    let mut entry = Vec::new();
    bytes_field(1, b"minimal", &mut entry);
    bytes_field(2, "alice@example.com".as_bytes(), &mut entry);
    varint_field(6, TOTP, &mut entry);
    let mut bytes = Vec::new();
    bytes_field(1, &entry, &mut bytes);

    let batch = migration::decode(&google_uri(&bytes)).unwrap();
    assert_eq!((batch.version, batch.batch_size, batch.batch_index, batch.batch_id), (0, 0, 0, 0));
    assert_eq!(
        batch.entries,
        vec![Ok(credential("", "alice@example.com", b"minimal", OtpParams::default()))]
    );
}

#[test]
fn reads_googles_percent_encoded_base64_and_its_mangled_variants() {
    // These secret bytes make base64 full of `+` and `/`, and the length needs `=` padding.
    let secret = [0, 0, 0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff];
    let bytes = payload(&[totp(&secret, "Plus", "slash").bytes()], 1, 0, 7);
    let data = STANDARD.encode(&bytes);
    assert!(data.contains('+') && data.contains('/') && data.ends_with('='), "{data}");
    let google = google_uri(&bytes);
    assert!(google.contains("%2B") && google.contains("%2F") && google.contains("%3D"));

    let want = credential("Plus", "slash", &secret, OtpParams::default());
    let variants = [
        google.clone(),
        // Not percent-encoded at all.
        format!("otpauth-migration://offline?data={data}"),
        // Url-safe alphabet, no padding.
        format!("otpauth-migration://offline?data={}", URL_SAFE_NO_PAD.encode(&bytes)),
        // Form-decoded somewhere on the way: `+` became a space.
        format!("otpauth-migration://offline?data={}", data.replace('+', " ")),
        // Upper-case scheme, surrounding whitespace, other parameters and a fragment.
        format!("  OTPAUTH-MIGRATION://offline?x=1&data={data}&y=2#top\n"),
        // Lower-case percent escapes.
        google.replace("%2B", "%2b").replace("%2F", "%2f"),
    ];
    for uri in variants {
        let batch = migration::decode(&uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_eq!(batch.entries, vec![Ok(want.clone())], "{uri}");
    }
}

#[test]
fn splits_the_issuer_off_the_name_only_where_it_is_the_issuer() {
    let cases = [
        ("GitHub", "GitHub:alice", "GitHub", "alice"),
        ("", "Demo Issuer:Demo Account", "Demo Issuer", "Demo Account"),
        ("GitHub", "alice", "GitHub", "alice"),
        ("GitHub", "Other:alice", "GitHub", "Other:alice"),
        ("GitHub", "GitHub:", "GitHub", ""),
        ("", "plain", "", "plain"),
    ];
    for (issuer, name, want_issuer, want_name) in cases {
        let bytes = payload(&[totp(b"k", issuer, name).bytes()], 1, 0, 1);
        let batch = migration::decode(&google_uri(&bytes)).unwrap();
        let got = batch.entries.into_iter().next().unwrap().unwrap();
        assert_eq!((got.issuer.as_str(), got.name.as_str()), (want_issuer, want_name), "{name}");
    }
}

#[test]
fn reports_bad_entries_by_position_and_name_and_keeps_the_good_ones() {
    let secret = b"do-not-show-this-secret";
    let damaged = vec![0x0a, 0x05, b'x']; // secret field says 5 bytes, holds 1
    let entries = vec![
        totp(b"first-good", "Good", "one").bytes(),
        Entry { algorithm: MD5, ..totp(secret, "Legacy", "Legacy:bob") }.bytes(),
        Entry { kind: 0, ..totp(secret, "NoType", "carol") }.bytes(),
        Entry { kind: 9, ..totp(secret, "Future", "dan") }.bytes(),
        totp(b"", "Empty", "erin").bytes(),
        Entry { digits: 3, ..totp(secret, "Seven", "fay") }.bytes(),
        Entry { algorithm: 17, ..totp(secret, "Weird", "gus") }.bytes(),
        damaged,
        totp(b"last-good", "Good", "two").bytes(),
    ];
    let batch = migration::decode(&google_uri(&payload(&entries, 1, 0, 5))).unwrap();
    assert_eq!(batch.entries.len(), 9);
    assert_eq!(batch.entries[0].as_ref().unwrap().name, "one");
    assert_eq!(batch.entries[8].as_ref().unwrap().name, "two");

    let errors: Vec<_> = batch.entries.iter().filter_map(|e| e.as_ref().err()).collect();
    let summary: Vec<_> =
        errors.iter().map(|e| (e.index, e.label.as_str(), e.problem.clone())).collect();
    assert_eq!(
        summary,
        vec![
            (1, "Legacy (bob)", EntryProblem::Md5),
            (2, "NoType (carol)", EntryProblem::UnspecifiedType),
            (3, "Future (dan)", EntryProblem::UnknownType { value: 9 }),
            (4, "Empty (erin)", EntryProblem::EmptySecret),
            (5, "Seven (fay)", EntryProblem::UnknownDigits { value: 3 }),
            (6, "Weird (gus)", EntryProblem::UnknownAlgorithm { value: 17 }),
            (7, "(unreadable)", EntryProblem::Damaged),
        ]
    );
    assert_eq!(
        errors[0].to_string(),
        "account 2 (Legacy (bob)) was not imported: it uses the MD5 algorithm, which Twofold does \
         not support"
    );
    let shown_secrets = [
        String::from_utf8_lossy(secret).into_owned(),
        STANDARD.encode(secret),
        Secret::new(secret.to_vec()).to_base32().to_string(),
    ];
    for error in errors {
        let message = format!("{error} {error:?}");
        for shown in &shown_secrets {
            assert!(!message.contains(shown.as_str()), "{message}");
        }
    }
}

#[test]
fn rejects_what_is_not_an_export_with_a_message_that_says_why() {
    let good_entry = totp(b"k", "A", "b").bytes();
    let whole = payload(&[good_entry], 1, 0, 1);
    let truncated = google_uri(&whole[..whole.len() - 12]);
    let only_header = google_uri(&payload(&[], 1, 0, 1));
    let too_long = format!("otpauth-migration://offline?data={}", "A".repeat(MAX_URI_LEN));

    let cases: Vec<(&str, MigrationError, &str)> = vec![
        ("hello world", MigrationError::NotMigrationUri { scheme: None }, "otpauth-migration://"),
        (
            "otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP",
            MigrationError::NotMigrationUri { scheme: Some("otpauth".into()) },
            "not \"otpauth:\"",
        ),
        (
            "https://example.com/?data=Cg==",
            MigrationError::NotMigrationUri { scheme: Some("https".into()) },
            "not \"https:\"",
        ),
        ("otpauth-migration://offline", MigrationError::MissingData, "no data"),
        ("otpauth-migration://offline?data=", MigrationError::MissingData, "no data"),
        ("otpauth-migration://offline?date=Cg%3D%3D", MigrationError::MissingData, "no data"),
        ("otpauth-migration://offline?data=C%21g*", MigrationError::NotBase64, "not valid base64"),
        ("otpauth-migration://offline?data=C", MigrationError::NotBase64, "not valid base64"),
        (&truncated, MigrationError::InvalidPayload, "damaged or cut short"),
        (&only_header, MigrationError::NoAccounts, "no accounts"),
        (
            &too_long,
            MigrationError::TooLarge { length: too_long.len(), limit: MAX_URI_LEN },
            "too long",
        ),
    ];
    for (uri, want, words) in cases {
        let got = migration::decode(uri).unwrap_err();
        assert_eq!(got, want, "{uri}");
        assert!(got.to_string().contains(words), "{uri}: {got}");
    }
}

#[test]
fn a_pasted_otpauth_uri_never_echoes_its_secret() {
    let err = migration::decode("otpauth://totp/A?secret=JBSWY3DPEHPK3PXP").unwrap_err();
    assert!(!err.to_string().contains("JBSW"), "{err}");
    let err = migration::decode("JBSWY3DPEHPK3PXP?data=x").unwrap_err();
    assert_eq!(err, MigrationError::NotMigrationUri { scheme: None });
}

#[test]
fn encode_writes_googles_shape_and_leaves_out_what_the_format_cannot_carry() {
    let good = params(Kind::Totp, Algorithm::Sha1, 6, 0);
    let credentials = vec![
        credential("Keep", "one", b"k1", good),
        credential("Steam", "gabe", b"k2", params(Kind::Steam, Algorithm::Sha1, 5, 0)),
        credential("Seven", "digits", b"k3", params(Kind::Totp, Algorithm::Sha1, 7, 0)),
        credential("Slow", "minute", b"k4", OtpParams { period: 60, ..good }),
        credential("Empty", "secret", b"", good),
        credential("Long", &"n".repeat(MAX_QR_URI_LEN), b"k5", good),
        // HOTP ignores the period, so a non-30 one is no reason to leave it out.
        credential(
            "Keep",
            "two",
            b"k6",
            OtpParams { period: 60, ..params(Kind::Hotp, Algorithm::Sha512, 8, 9) },
        ),
    ];
    let encoded = migration::encode(&credentials, 99);

    let skipped: Vec<_> = encoded.skipped.iter().map(|s| (s.index, s.reason.clone())).collect();
    assert_eq!(
        skipped,
        vec![
            (1, SkipReason::Steam),
            (2, SkipReason::Digits { digits: 7 }),
            (3, SkipReason::Period { period: 60 }),
            (4, SkipReason::EmptySecret),
            (5, SkipReason::TooLong),
        ]
    );
    assert_eq!(
        encoded.skipped[2].to_string(),
        "account 4 (Slow (minute)) was not exported: a 60-second period cannot be exported: the \
         format has only 30-second codes"
    );

    assert_eq!(encoded.uris.len(), 1);
    let uri = encoded.uris[0].as_str();
    let data = uri.strip_prefix("otpauth-migration://offline?data=").unwrap();
    assert!(data.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'%'), "{uri}");
    let batch = migration::decode(uri).unwrap();
    assert_eq!((batch.version, batch.batch_size, batch.batch_index, batch.batch_id), (1, 1, 0, 99));
    let names: Vec<_> = batch.entries.iter().map(|e| e.as_ref().unwrap().name.as_str()).collect();
    assert_eq!(names, ["one", "two"]);
    assert!(!format!("{encoded:?}").contains(data), "Debug shows the URIs");
}

#[test]
fn nothing_to_export_gives_no_uri() {
    assert!(migration::encode(&[], 1).uris.is_empty());
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        // Colons, to exercise the "Issuer:account" handling both ways.
        "[a-z:]{1,6}",
        "\\PC{1,24}",
    ]
}

fn any_credential() -> impl Strategy<Value = Credential> {
    (
        text(),
        text(),
        prop::collection::vec(any::<u8>(), 1..64),
        prop_oneof![Just(Kind::Totp), Just(Kind::Hotp)],
        prop_oneof![Just(Algorithm::Sha1), Just(Algorithm::Sha256), Just(Algorithm::Sha512)],
        prop_oneof![Just(6u8), Just(8u8)],
        any::<u64>(),
    )
        .prop_map(|(issuer, name, secret, kind, algorithm, digits, counter)| Credential {
            issuer,
            name,
            secret: Secret::new(secret),
            otp: OtpParams { kind, algorithm, digits, period: 30, counter },
            icon: None,
        })
}

proptest! {
    #[test]
    fn encode_then_decode_gives_back_every_account_in_qr_sized_batches(
        credentials in prop::collection::vec(any_credential(), 1..80),
        batch_id in any::<i32>(),
    ) {
        let encoded = migration::encode(&credentials, batch_id);
        prop_assert!(encoded.skipped.is_empty());
        let n = encoded.uris.len();
        let mut decoded = Vec::new();
        for (index, uri) in encoded.uris.iter().enumerate() {
            prop_assert!(uri.len() <= MAX_QR_URI_LEN, "{} bytes", uri.len());
            let batch = migration::decode(uri).unwrap();
            prop_assert_eq!(
                (batch.version, batch.batch_size, batch.batch_index, batch.batch_id),
                (1, n as i32, index as i32, batch_id)
            );
            for entry in batch.entries {
                decoded.push(entry.unwrap());
            }
        }
        prop_assert_eq!(decoded, credentials);
    }
}

#[test]
fn many_accounts_fill_several_codes_each_close_to_the_budget() {
    let credentials: Vec<_> = (0..60)
        .map(|i| {
            credential(
                "Example Corporation",
                &format!("user{i}@example.com"),
                &[i as u8; 20],
                OtpParams::default(),
            )
        })
        .collect();
    let encoded = migration::encode(&credentials, -5);
    assert!(encoded.uris.len() >= 4, "{} codes", encoded.uris.len());
    // Every code but the last is nearly full: the size bound is not wildly pessimistic.
    for uri in &encoded.uris[..encoded.uris.len() - 1] {
        assert!((MAX_QR_URI_LEN - 150..=MAX_QR_URI_LEN).contains(&uri.len()), "{}", uri.len());
    }
}
