//! otpauth URI parsing and formatting against a corpus of real-world shapes
//! (`tests/data/uri_valid.txt`, `tests/data/uri_invalid.txt`), plus round-trip and
//! never-leaks-the-secret properties.

use std::collections::HashMap;
use std::path::Path;

use proptest::prelude::*;
use twofold_core::uri::{self, MAX_URI_LEN, UriError};
use twofold_core::{Algorithm, Credential, Kind, OtpParams, Secret};

/// One block of a corpus file: its description (first comment line) and its `key: value` lines.
struct Case {
    description: String,
    fields: HashMap<String, String>,
}

impl Case {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    fn field(&self, key: &str) -> &str {
        self.get(key).unwrap_or_else(|| panic!("case {:?} has no {key} line", self.description))
    }

    fn number<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        self.get(key).map_or(default, |value| {
            value.parse().unwrap_or_else(|_| panic!("case {:?}: bad {key}", self.description))
        })
    }
}

fn corpus(file: &str) -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let cases: Vec<Case> = text
        .split("\n\n")
        .filter_map(|block| {
            let mut description = None;
            let mut fields = HashMap::new();
            for line in block.lines() {
                if let Some(comment) = line.strip_prefix('#') {
                    description.get_or_insert_with(|| comment.trim().to_owned());
                } else if let Some((key, value)) = line.split_once(':') {
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    fields.insert(key.to_owned(), value.to_owned());
                }
            }
            (!fields.is_empty())
                .then(|| Case { description: description.unwrap_or_default(), fields })
        })
        .collect();
    assert!(cases.len() > 10, "{file} holds only {} cases", cases.len());
    cases
}

fn kind(name: &str) -> Kind {
    match name {
        "totp" => Kind::Totp,
        "hotp" => Kind::Hotp,
        "steam" => Kind::Steam,
        "motp" => Kind::Motp,
        "yandex" => Kind::Yandex,
        other => panic!("unknown kind {other} in corpus"),
    }
}

fn algorithm(name: &str) -> Algorithm {
    match name {
        "SHA1" => Algorithm::Sha1,
        "SHA256" => Algorithm::Sha256,
        "SHA512" => Algorithm::Sha512,
        other => panic!("unknown algorithm {other} in corpus"),
    }
}

#[test]
fn valid_corpus_parses_to_the_expected_fields() {
    for case in corpus("uri_valid.txt") {
        let what = &case.description;
        let parsed =
            uri::parse(case.field("uri")).unwrap_or_else(|e| panic!("{what}: rejected with {e:?}"));
        let defaults = OtpParams::default();
        let mut secret =
            Secret::from_base32(case.field("secret")).expect("corpus secret is base32");
        if let Some(pin) = case.get("pin") {
            secret = secret.with_pin(pin).expect("corpus PIN is one");
        }
        let expected = Credential {
            issuer: case.field("issuer").to_owned(),
            name: case.field("name").to_owned(),
            secret,
            otp: OtpParams {
                kind: case.get("kind").map_or(defaults.kind, kind),
                algorithm: case.get("algorithm").map_or(defaults.algorithm, algorithm),
                digits: case.number("digits", defaults.digits),
                period: case.number("period", defaults.period),
                counter: case.number("counter", defaults.counter),
            },
            icon: case.get("icon").map(str::to_owned),
        };
        assert_eq!(parsed, expected, "{what}");
        // Secrets come back in canonical form: upper case, no spaces, no padding.
        assert_eq!(*parsed.secret.to_base32(), case.field("secret"), "{what}");

        let written = uri::format(&parsed);
        if let Some(canonical) = case.get("canonical") {
            assert_eq!(written, canonical, "{what}");
        }
        assert_eq!(uri::parse(&written), Ok(parsed), "{what}: round trip");
    }
}

#[test]
fn invalid_corpus_is_rejected_with_the_expected_message() {
    for case in corpus("uri_invalid.txt") {
        let what = &case.description;
        match uri::parse(case.field("uri")) {
            Ok(credential) => panic!("{what}: accepted as {credential:?}"),
            Err(error) => assert_eq!(error.to_string(), case.field("error"), "{what}"),
        }
    }
}

/// The values of every `secret` parameter in a URI (any case), raw and as base32 reads them.
fn secret_texts(uri: &str) -> Vec<String> {
    let query = uri.split_once('?').map_or("", |(_, query)| query);
    query
        .split('&')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            key.eq_ignore_ascii_case("secret").then_some(value)
        })
        .flat_map(|value| {
            let cleaned: String = value
                .chars()
                .filter(|c| !matches!(c, ' ' | '+' | '='))
                .map(|c| c.to_ascii_uppercase())
                .collect();
            [value.to_owned(), cleaned]
        })
        .filter(|text| text.len() >= 6)
        .collect()
}

#[test]
fn no_corpus_error_message_contains_the_secret() {
    let mut checked = 0;
    for case in corpus("uri_invalid.txt") {
        let input = case.field("uri");
        let Err(error) = uri::parse(input) else {
            panic!("{}: accepted", case.description);
        };
        let (message, debug) = (error.to_string(), format!("{error:?}"));
        for secret in secret_texts(input) {
            assert!(!message.contains(&secret), "{}: {message}", case.description);
            assert!(!debug.contains(&secret), "{}: {debug}", case.description);
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} secrets checked");
}

#[test]
fn surrounding_whitespace_is_ignored() {
    let plain = "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example";
    let pasted = format!("  \n{plain}\r\n\t");
    assert_eq!(uri::parse(&pasted), uri::parse(plain));
    assert!(uri::parse(plain).is_ok());
}

#[test]
fn overlong_text_is_rejected_before_reading_it() {
    let base = "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=";
    let at_limit = format!("{base}{}", "a".repeat(MAX_URI_LEN - base.len()));
    let over_limit = format!("{at_limit}a");
    assert!(uri::parse(&at_limit).is_err(), "its canonical form is longer");
    assert_eq!(uri::parse(&over_limit), Err(UriError::TooLong { length: MAX_URI_LEN + 1 }));
    assert_eq!(
        uri::parse(&over_limit).map_err(|e| e.to_string()),
        Err("the text is 4097 bytes long; an otpauth URI has at most 4096".to_owned())
    );
}

#[test]
fn text_that_would_write_back_too_long_is_rejected() {
    // 1,500 raw 'é' (3,000 bytes) fit the limit, but written canonically each is 6 bytes, twice.
    let issuer = "é".repeat(1500);
    let text = format!("otpauth://totp/{issuer}:alice?secret=JBSWY3DPEHPK3PXP");
    assert!(text.len() <= MAX_URI_LEN);
    let error = uri::parse(&text).expect_err("canonical form exceeds the limit");
    assert!(matches!(error, UriError::FieldsTooLong { length } if length > MAX_URI_LEN));
    assert!(
        error.to_string().starts_with("the issuer, account name and image are too long"),
        "{error}"
    );
}

/// Text fields full of what URIs give meaning to: colons, spaces, %, &, ?, #, +, /, =, and unicode.
fn field() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        ':',
        ' ',
        '%',
        '&',
        '?',
        '#',
        '+',
        '/',
        '=',
        '@',
        'é',
        '東',
        '\u{1F600}',
    ]);
    let chars = prop_oneof![any::<char>(), tricky, prop::char::range('!', '~')];
    prop::collection::vec(chars, 0..24).prop_map(String::from_iter)
}

fn otp_params() -> impl Strategy<Value = OtpParams> {
    let algorithm =
        prop_oneof![Just(Algorithm::Sha1), Just(Algorithm::Sha256), Just(Algorithm::Sha512)];
    prop_oneof![
        (algorithm.clone(), 5u8..=10, 1u32.., any::<u64>()).prop_map(
            |(algorithm, digits, period, counter)| OtpParams {
                kind: Kind::Totp,
                algorithm,
                digits,
                period,
                counter
            }
        ),
        // HOTP does not use the period, so any, zero included, is valid.
        (algorithm, 5u8..=10, any::<u32>(), any::<u64>()).prop_map(
            |(algorithm, digits, period, counter)| OtpParams {
                kind: Kind::Hotp,
                algorithm,
                digits,
                period,
                counter
            }
        ),
        // Steam's, mOTP's and Yandex's shapes are fixed: the only parameters a URI can carry.
        Just(OtpParams::STEAM),
        Just(OtpParams::MOTP),
        Just(OtpParams::YANDEX),
    ]
}

fn credential() -> impl Strategy<Value = Credential> {
    (
        field(),
        // The spec lets spaces separate an issuer prefix from the name, so a name never starts
        // with one.
        field().prop_map(|name| name.trim_start_matches(' ').to_owned()),
        prop::collection::vec(any::<u8>(), 1..64),
        otp_params(),
        // An empty image reads as no icon, so icons are non-empty.
        prop::option::of(field().prop_filter("non-empty", |icon| !icon.is_empty())),
        field().prop_filter("a PIN has a character", |pin| !pin.is_empty()),
    )
        .prop_map(|(issuer, name, mut secret, otp, icon, pin)| {
            // A Yandex key is 16 bytes; mOTP and Yandex carry a PIN, the others none.
            if otp.kind == Kind::Yandex {
                secret.resize(16, 0x5a);
            }
            let mut secret = Secret::new(secret);
            if otp.kind.needs_pin() {
                secret = secret.with_pin(&pin).expect("a generated PIN has 1 to 24 characters");
            }
            Credential { issuer, name, secret, otp, icon }
        })
}

/// Texts assembled from the pieces otpauth URIs are made of, so many of them parse.
fn uri_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(vec![
            "otpauth://", "totp", "hotp", "steam", "/", "?", "&", "=", ":", "%3A", "%3a", "%20",
            "+", " ", "#", "%", "%FF", "%C3%A9", "secret=", "JBSWY3DPEHPK3PXP", "jbsw y3dp",
            "issuer=", "Example", "algorithm=", "sha256", "digits=", "8", "period=", "0",
            "counter=", "1", "image=", "encoder=", "steam", "==", "motp", "yaotp", "yandex",
            "motp:", "pin=", "GEZDGNA", "e3152afee62599c8", "LA2V6KMCGYMWWVEW64RNP3JA3I",
        ])
        .prop_map(str::to_owned),
        1 => field(),
    ];
    // Half start from a valid URI and append to it; half build everything, scheme included.
    (any::<bool>(), prop::collection::vec(piece, 0..24)).prop_map(|(valid_start, pieces)| {
        let start = if valid_start {
            "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP"
        } else {
            "otpauth://"
        };
        format!("{start}{}", pieces.concat())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn format_then_parse_gives_the_same_credential(credential in credential()) {
        let written = uri::format(&credential);
        prop_assert_eq!(uri::parse(&written), Ok(credential), "{}", written);
    }

    #[test]
    fn parse_never_panics_and_what_it_accepts_round_trips(text in uri_like()) {
        if let Ok(credential) = uri::parse(&text) {
            let written = uri::format(&credential);
            prop_assert_eq!(uri::parse(&written), Ok(credential), "{}", written);
        }
    }

    #[test]
    fn errors_never_contain_the_secret(
        secret in "[A-Za-z2-9 =%+!/]{8,40}",
        breakage in prop::sample::select(vec![
            "otpauth://totp/Example:alice?secret={s}&digits=x",
            "otpauth://hotp/Example:alice?secret={s}",
            "otpauth://totp/Example:alice?secret={s}&secret={s}",
            "otpauth://totp/Ex%ample:alice?secret={s}",
            "otpauth://totp/alice?secret={s}&algorithm=MD5",
            "otpauth://totp/alice?secret={s}&period=0",
            "otpauth://totp/alice?secret={s}&digits=99",
            "otpauth://totp/alice?secret={s}&issuer=%FF",
            "otpauth://bogus/alice?secret={s}",
            "otpauth://totp/alice?secret={s}",
        ]),
    ) {
        let input = breakage.replace("{s}", &secret);
        if let Err(error) = uri::parse(&input) {
            let message = error.to_string();
            let cleaned: String = secret
                .chars()
                .filter(|c| !matches!(c, ' ' | '+' | '='))
                .map(|c| c.to_ascii_uppercase())
                .collect();
            prop_assert!(!message.contains(&secret), "{}", message);
            prop_assert!(cleaned.len() < 6 || !message.contains(&cleaned), "{}", message);
        }
    }
}
