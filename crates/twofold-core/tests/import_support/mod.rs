//! What the import tests share: one canonical list of accounts, each format's test encoding it from
//! the format's description, and the entry-by-entry check (by secret and by generated code).

#![allow(dead_code)] // each test file uses its own part of this module
#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

pub mod bitwarden;

use aes_gcm::aead::{AeadInOut, KeyInit};
use twofold_core::import::{Imported, Place};
use twofold_core::{Algorithm, Kind, OtpParams, Secret, otp};

/// One account as the exports describe it.
#[derive(Clone, Copy, Debug)]
pub struct Account {
    pub issuer: &'static str,
    pub name: &'static str,
    /// Base32, as most exports write it.
    pub secret: &'static str,
    pub kind: Kind,
    pub algorithm: Algorithm,
    pub digits: u8,
    pub period: u32,
    pub counter: u64,
}

impl Account {
    pub fn secret_bytes(&self) -> Vec<u8> {
        Secret::from_base32(self.secret).unwrap().expose().to_vec()
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Totp => "TOTP",
            Kind::Hotp => "HOTP",
            Kind::Steam => "STEAM",
            Kind::Motp => "MOTP",
            Kind::Yandex => "YANDEX",
        }
    }

    pub fn algorithm_name(&self) -> &'static str {
        match self.algorithm {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    pub fn params(&self) -> OtpParams {
        OtpParams {
            kind: self.kind,
            algorithm: self.algorithm,
            digits: self.digits,
            period: self.period,
            counter: self.counter,
        }
    }

    /// As an otpauth URI (for formats that carry URIs).
    pub fn uri(&self) -> String {
        let kind = self.kind_name().to_lowercase();
        format!(
            "otpauth://{kind}/{}:{}?secret={}&issuer={}&algorithm={}&digits={}&period={}&counter={}",
            self.issuer.replace(' ', "%20"),
            self.name,
            self.secret,
            self.issuer.replace(' ', "%20"),
            self.algorithm_name(),
            self.digits,
            self.period,
            self.counter
        )
    }
}

/// The canonical accounts: every kind, algorithm and a non-default digits, period and counter.
pub const ACCOUNTS: [Account; 5] = [
    Account {
        issuer: "GitHub",
        name: "alice@example.com",
        secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        kind: Kind::Totp,
        algorithm: Algorithm::Sha1,
        digits: 6,
        period: 30,
        counter: 0,
    },
    Account {
        issuer: "Bank of Examples",
        name: "bob",
        secret: "JBSWY3DPEHPK3PXP",
        kind: Kind::Hotp,
        algorithm: Algorithm::Sha1,
        digits: 8,
        period: 30,
        counter: 7,
    },
    Account {
        issuer: "Work",
        name: "carol",
        secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA",
        kind: Kind::Totp,
        algorithm: Algorithm::Sha512,
        digits: 8,
        period: 60,
        counter: 0,
    },
    Account {
        issuer: "Cloud",
        name: "dave",
        secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA",
        kind: Kind::Totp,
        algorithm: Algorithm::Sha256,
        digits: 7,
        period: 15,
        counter: 0,
    },
    Account {
        issuer: "Steam",
        name: "gabe",
        secret: "JBSWY3DPEHPK3PXPJBSWY3DP",
        kind: Kind::Steam,
        algorithm: Algorithm::Sha1,
        digits: 5,
        period: 30,
        counter: 0,
    },
];

/// The canonical accounts of TOTP and HOTP only, for formats without Steam.
pub fn without_steam() -> Vec<Account> {
    ACCOUNTS.into_iter().filter(|a| a.kind != Kind::Steam).collect()
}

/// Moments at which codes are compared: period boundaries and an ordinary day.
const TIMES: [u64; 4] = [0, 59, 1_111_111_109, 1_700_000_000];

/// Asserts `imported` holds exactly `expected`, in order, with no entry errors: same names, same
/// secret bytes, same parameters (Steam's own are fixed) and the same codes.
pub fn assert_imports(imported: &Imported, expected: &[Account]) {
    assert!(imported.errors.is_empty(), "unexpected entry errors: {:?}", imported.errors);
    assert_eq!(imported.credentials.len(), expected.len(), "{:?}", imported.credentials);
    for (got, want) in imported.credentials.iter().zip(expected) {
        assert_eq!((got.issuer.as_str(), got.name.as_str()), (want.issuer, want.name));
        assert_eq!(got.secret.expose(), want.secret_bytes().as_slice(), "{}", got.label());
        assert_eq!(got.otp.kind, want.kind, "{}", got.label());
        if want.kind != Kind::Steam {
            assert_eq!(got.otp, want.params(), "{}", got.label());
        }
        let reference = Secret::new(want.secret_bytes());
        for time in TIMES {
            assert_eq!(
                otp::generate(&got.secret, &got.otp, time).unwrap(),
                otp::generate(&reference, &want.params(), time).unwrap(),
                "{} at {time}",
                got.label()
            );
        }
    }
}

/// Asserts one entry error, at entry `position`, named `name`, whose message contains `says`.
pub fn assert_entry_error(imported: &Imported, position: usize, name: &str, says: &str) {
    assert_eq!(imported.errors.len(), 1, "{:?}", imported.errors);
    let error = &imported.errors[0];
    assert_eq!(error.place, Place::Entry(position));
    assert_eq!(error.name.as_deref(), Some(name));
    assert!(error.message.contains(says), "{error}");
    assert!(error.to_string().starts_with(&format!("entry {position} ({name}): ")), "{error}");
}

/// AES-256-GCM encryption, ciphertext and tag apart.
pub fn aes_gcm_seal(key: &[u8], nonce: &[u8; 12], plaintext: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).unwrap();
    let mut buffer = plaintext.to_vec();
    let tag =
        cipher.encrypt_inout_detached(&(*nonce).into(), &[], buffer.as_mut_slice().into()).unwrap();
    (buffer, tag.to_vec())
}

/// AES-256-GCM encryption with the tag appended.
pub fn aes_gcm_seal_appended(key: &[u8], nonce: &[u8; 12], plaintext: &[u8]) -> Vec<u8> {
    let (mut sealed, tag) = aes_gcm_seal(key, nonce, plaintext);
    sealed.extend_from_slice(&tag);
    sealed
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Every proper prefix of `bytes` at a spread of lengths, to feed as cut-short files.
pub fn truncations(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let step = (bytes.len() / 40).max(1);
    (0..bytes.len()).step_by(step).map(move |len| &bytes[..len])
}
