//! Published OTP test vectors, read from `tests/vectors/` (one file per source), run through
//! `twofold_core::otp::generate`.

use std::path::PathBuf;

use hmac::{Hmac, KeyInit, Mac};
use twofold_core::Secret;
use twofold_core::otp::{Algorithm, Code, Kind, OtpError, OtpParams, generate, yandex_key};

/// One vector file: its `key` lines and its data rows, split into fields, comments removed.
struct Vectors {
    name: &'static str,
    keys: Vec<Vec<String>>,
    rows: Vec<Vec<String>>,
}

impl Vectors {
    fn load(name: &'static str) -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut vectors = Self { name, keys: Vec::new(), rows: Vec::new() };
        for line in text.lines() {
            let data = line.split('#').next().unwrap_or_default();
            let mut fields: Vec<String> = data.split_whitespace().map(str::to_owned).collect();
            match fields.first().map(String::as_str) {
                None => {}
                Some("key") => vectors.keys.push(fields.split_off(1)),
                Some(_) => vectors.rows.push(fields),
            }
        }
        assert!(!vectors.rows.is_empty(), "{name} has no vectors");
        vectors
    }

    /// The secret of the `key` line whose leading fields are `label` (no label: the only key).
    fn key(&self, label: &[&str]) -> Secret {
        let line = self
            .keys
            .iter()
            .find(|key| key.len() == label.len() + 1 && key.iter().zip(label).all(|(a, b)| a == b))
            .unwrap_or_else(|| panic!("{}: no key {label:?}", self.name));
        let hex = line.last().expect("key line has a value");
        Secret::new(
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(hex.as_bytes())
                .unwrap_or_else(|e| panic!("{}: key is not hex: {e}", self.name)),
        )
    }
}

fn number<T: std::str::FromStr>(field: &str) -> T {
    field.parse().unwrap_or_else(|_| panic!("{field:?} is not a number"))
}

fn algorithm(mode: &str) -> Algorithm {
    match mode {
        "SHA1" => Algorithm::Sha1,
        "SHA256" => Algorithm::Sha256,
        "SHA512" => Algorithm::Sha512,
        other => panic!("unknown mode {other:?}"),
    }
}

fn hotp(algorithm: Algorithm, digits: u8, counter: u64) -> OtpParams {
    OtpParams { kind: Kind::Hotp, algorithm, digits, period: 30, counter }
}

fn totp(algorithm: Algorithm, digits: u8, period: u32) -> OtpParams {
    OtpParams { kind: Kind::Totp, algorithm, digits, period, counter: 0 }
}

#[test]
fn rfc4226_appendix_d() {
    let vectors = Vectors::load("rfc4226.txt");
    let secret = vectors.key(&[]);
    assert_eq!(vectors.rows.len(), 10, "counts 0 to 9");
    for (i, row) in vectors.rows.iter().enumerate() {
        let [count, hmac_hex, truncated_hex, truncated, code] = row.as_slice() else {
            panic!("rfc4226.txt row {i}: expected 5 fields, got {row:?}");
        };
        let count: u64 = number(count);
        let truncated: u32 = number(truncated);

        // The intermediate columns: the file is the RFC's, and the HMAC input is the 8-byte counter.
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.expose()).expect("any key length");
        mac.update(&count.to_be_bytes());
        assert_eq!(data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes()), *hmac_hex);
        assert_eq!(u32::from_str_radix(truncated_hex, 16), Ok(truncated), "count {count}");

        let at = |digits| generate(&secret, &hotp(Algorithm::Sha1, digits, count), 0).unwrap();
        let six = at(6);
        assert_eq!(six.current, *code, "count {count}");
        assert_eq!(six.seconds_left, None);
        if let Some(next_row) = vectors.rows.get(i + 1) {
            assert_eq!(six.next, next_row[4], "next after count {count}");
        }
        // Every length is the truncated value mod 10^digits; 10 digits is all of it.
        let ten = format!("{truncated:010}");
        for digits in 5..=10 {
            let expected = &ten[10 - usize::from(digits)..];
            assert_eq!(at(digits).current, expected, "count {count}, {digits} digits");
            // TOTP is HOTP at floor(time / period): any time inside period `count` gives the same.
            for time in [count * 30, count * 30 + 29] {
                let code = generate(&secret, &totp(Algorithm::Sha1, digits, 30), time).unwrap();
                assert_eq!(code.current, expected, "TOTP at {time}, {digits} digits");
            }
        }
    }
}

#[test]
fn rfc6238_appendix_b() {
    let vectors = Vectors::load("rfc6238.txt");
    assert_eq!(vectors.rows.len(), 18, "6 times for each of 3 modes");
    for row in &vectors.rows {
        let [time, counter_hex, expected, mode] = row.as_slice() else {
            panic!("rfc6238.txt: expected 4 fields, got {row:?}");
        };
        let time: u64 = number(time);
        let algorithm = algorithm(mode);
        let secret = vectors.key(&[mode]);
        let params = totp(algorithm, 8, 30);

        let code = generate(&secret, &params, time).unwrap();
        assert_eq!(code.current, *expected, "{mode} at {time}");
        assert_eq!(code.seconds_left, Some(30 - time % 30), "{mode} at {time}");
        let next_period = generate(&secret, &params, time + 30 - time % 30).unwrap();
        assert_eq!(code.next, next_period.current, "{mode} after {time}");

        // RFC 6238 §4.2: TOTP = HOTP(K, T), with T the appendix's counter column.
        let counter = u64::from_str_radix(counter_hex, 16).expect("T is hex");
        assert_eq!(counter, time / 30, "{mode} at {time}");
        let as_hotp = generate(&secret, &hotp(algorithm, 8, counter), 0).unwrap();
        assert_eq!(as_hotp.current, *expected, "{mode} HOTP at {counter}");

        // 10 digits take another path (totp-rs stops at 9); the RFC's 8 are its last 8.
        let ten = generate(&secret, &totp(algorithm, 10, 30), time).unwrap();
        assert!(ten.current.ends_with(expected.as_str()), "{mode} at {time}: {}", ten.current);
    }
}

#[test]
fn steam_guard() {
    let vectors = Vectors::load("steam.txt");
    let secret = vectors.key(&[]);
    let steam = OtpParams { kind: Kind::Steam, ..OtpParams::default() };
    // Steam ignores these; a stored account may carry anything in them.
    let odd = OtpParams { algorithm: Algorithm::Sha256, digits: 9, period: 60, ..steam };
    for row in &vectors.rows {
        let [time, current, next, seconds_left] = row.as_slice() else {
            panic!("steam.txt: expected 4 fields, got {row:?}");
        };
        let time: u64 = number(time);
        let expected = Code {
            current: current.clone(),
            next: next.clone(),
            seconds_left: Some(number(seconds_left)),
        };
        assert_eq!(generate(&secret, &steam, time).unwrap(), expected, "at {time}");
        assert_eq!(generate(&secret, &odd, time).unwrap(), expected, "at {time}, odd params");
    }
}

#[test]
fn base32_secrets_of_partial_bytes_make_the_codes_proton_ente_and_2fas_make() {
    let vectors = Vectors::load("base32_partial.txt");
    assert_eq!(vectors.rows.len(), 4);
    for row in &vectors.rows {
        let [secret, key, at_59, at_1_700_000_000] = row.as_slice() else {
            panic!("base32_partial.txt: expected 4 fields, got {row:?}");
        };
        let read = Secret::from_base32(secret).unwrap_or_else(|e| panic!("{secret}: {e}"));
        assert_eq!(data_encoding::HEXLOWER.encode(read.expose()), *key, "{secret}");
        let params = totp(Algorithm::Sha1, 6, 30);
        assert_eq!(generate(&read, &params, 59).unwrap().current, *at_59, "{secret}");
        assert_eq!(
            generate(&read, &params, 1_700_000_000).unwrap().current,
            *at_1_700_000_000,
            "{secret}"
        );
    }
}

#[test]
fn motp_aegis_vectors() {
    let vectors = Vectors::load("motp.txt");
    assert_eq!(vectors.rows.len(), 6);
    // mOTP fixes its shape; a stored account may carry anything in these.
    let odd = OtpParams { algorithm: Algorithm::Sha512, digits: 9, period: 60, ..OtpParams::MOTP };
    for row in &vectors.rows {
        let [time, expected, pin, key] = row.as_slice() else {
            panic!("motp.txt: expected 4 fields, got {row:?}");
        };
        let time: u64 = number(time);
        let secret = Secret::new(data_encoding::HEXLOWER.decode(key.as_bytes()).unwrap())
            .with_pin(pin)
            .unwrap();
        let code = generate(&secret, &OtpParams::MOTP, time).unwrap();
        assert_eq!(code.current, *expected, "at {time}");
        assert_eq!(code.seconds_left, Some(10 - time % 10), "at {time}");
        let next_step = generate(&secret, &OtpParams::MOTP, time + 10 - time % 10).unwrap();
        assert_eq!(code.next, next_step.current, "after {time}");
        assert_eq!(generate(&secret, &odd, time).unwrap(), code, "at {time}, odd params");
    }
}

#[test]
fn yandex_aegis_vectors() {
    let vectors = Vectors::load("yandex.txt");
    assert_eq!(vectors.rows.len(), 5);
    for row in &vectors.rows {
        let [pin, secret, time, expected] = row.as_slice() else {
            panic!("yandex.txt: expected 4 fields, got {row:?}");
        };
        let time: u64 = number(time);
        let full = Secret::from_base32(secret).unwrap().with_pin(pin).unwrap();
        assert_eq!(full.len(), 26, "{secret}");
        let key = yandex_key(full).unwrap();
        assert_eq!(key.len(), 16);
        assert_eq!(key.pin(), Some(pin.as_str()), "the PIN stays with the shortened key");
        let code = generate(&key, &OtpParams::YANDEX, time).unwrap();
        assert_eq!(code.current, *expected, "at {time}");
        assert_eq!(code.seconds_left, Some(30 - time % 30), "at {time}");
        let next_step = generate(&key, &OtpParams::YANDEX, time + 30 - time % 30).unwrap();
        assert_eq!(code.next, next_step.current, "after {time}");
    }
}

#[test]
fn yandex_keys_are_checked_as_aegis_checks_them() {
    // Aegis's YandexInfoTest: a valid 26-byte key, the 16-byte key of a QR code (no checksum),
    // the first key with its first letter changed, and a key of the wrong length.
    let read = |text: &str| Secret::from_base32(text).unwrap();
    let full = read("LA2V6KMCGYMWWVEW64RNP3JA3IAAAAAAHTSG4HRZPI");
    let from_qr = read("LA2V6KMCGYMWWVEW64RNP3JA3I");
    assert_eq!(yandex_key(full).unwrap(), from_qr);
    assert_eq!(yandex_key(from_qr.clone()).unwrap(), from_qr);
    let changed = read("AA2V6KMCGYMWWVEW64RNP3JA3IAAAAAAHTSG4HRZPI");
    assert_eq!(yandex_key(changed).unwrap_err(), OtpError::YandexChecksum);
    let cut = read("AA2V6KMCGJA3IAAAAAAHTSG4HRZPI");
    let err = yandex_key(cut).unwrap_err();
    assert_eq!(err, OtpError::YandexKeyLength { length: 18 });
    assert_eq!(err.to_string(), "a Yandex secret is 16 or 26 bytes long, not 18");
}

#[test]
fn motp_and_yandex_without_a_pin_say_so() {
    let key = Secret::new(vec![0xaa; 16]);
    for (params, kind) in [(OtpParams::MOTP, "mOTP"), (OtpParams::YANDEX, "Yandex")] {
        let err = generate(&key, &params, 0).unwrap_err();
        assert_eq!(err, OtpError::NoPin { kind });
        assert_eq!(
            err.to_string(),
            format!("{kind} codes need the account's PIN, and none is stored with its secret")
        );
    }
}
