//! What the backup tests share: a keystore in memory (the vault's trait is public; the crate's own
//! memory keystore is test-only), a vault in a temporary folder, and a varied list of accounts.

#![allow(dead_code)] // each test file uses its own part of this module
#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::collections::BTreeMap;
use std::sync::Mutex;

use twofold_core::keystore::{Keystore, KeystoreError};
use twofold_core::vault::Vault;
use twofold_core::{Algorithm, Credential, Kind, OtpParams, Secret, otp};
use uuid::Uuid;

/// Secrets in memory, keyed by id, with the vault each belongs to.
#[derive(Default)]
pub struct Memory(Mutex<BTreeMap<Uuid, (Uuid, Secret)>>);

impl Keystore for Memory {
    fn store(&self, id: Uuid, vault: Uuid, _: &str, secret: &Secret) -> Result<(), KeystoreError> {
        self.0.lock().unwrap().insert(id, (vault, secret.clone()));
        Ok(())
    }

    fn load(&self, id: Uuid) -> Result<Option<Secret>, KeystoreError> {
        Ok(self.0.lock().unwrap().get(&id).map(|(_, s)| s.clone()))
    }

    fn delete(&self, id: Uuid) -> Result<(), KeystoreError> {
        self.0.lock().unwrap().remove(&id);
        Ok(())
    }

    fn ids(&self, vault: Uuid) -> Result<Option<Vec<Uuid>>, KeystoreError> {
        let entries = self.0.lock().unwrap();
        Ok(Some(entries.iter().filter(|(_, (v, _))| *v == vault).map(|(id, _)| *id).collect()))
    }
}

impl Memory {
    /// How many entries there are, of every vault.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A fresh vault in its own temporary folder (kept alive by the returned guard).
pub fn vault() -> (tempfile::TempDir, Vault<Memory>) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path().join("data"), Memory::default()).unwrap();
    (dir, vault)
}

fn credential(issuer: &str, name: &str, secret: &[u8], otp: OtpParams) -> Credential {
    Credential {
        issuer: issuer.into(),
        name: name.into(),
        secret: Secret::new(secret.to_vec()),
        otp,
        icon: None,
    }
}

/// Accounts of every kind, algorithm and odd corner: 80-bit and 512-bit keys, 10 digits, long
/// periods, a high HOTP counter, non-ASCII names, an empty issuer, an icon, mOTP and Yandex PINs.
pub fn credentials() -> Vec<Credential> {
    let totp = OtpParams::default();
    let mut with_icon = credential("GitHub", "alice@example.com", b"Hello!\xde\xad\xbe\xef", totp);
    with_icon.icon = Some("https://github.com/favicon.ico".into());
    vec![
        with_icon,
        credential(
            "Bank",
            "bob",
            &[7; 64],
            OtpParams { algorithm: Algorithm::Sha512, digits: 8, period: 60, ..totp },
        ),
        credential(
            "Zürich Café",
            "çà & ü? #1",
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
            OtpParams { algorithm: Algorithm::Sha256, digits: 10, ..totp },
        ),
        credential(
            "Counter",
            "hotp",
            b"12345678901234567890",
            OtpParams { kind: Kind::Hotp, counter: 1_000_000, ..totp },
        ),
        credential("Steam", "gamer", &[42; 20], OtpParams { kind: Kind::Steam, digits: 5, ..totp }),
        credential("", "no issuer", &[9; 16], totp),
        with_pin(credential("Motp", "pin", &[0xe3, 0x15, 0x2a, 0xfe], OtpParams::MOTP), "1234"),
        with_pin(credential("Yandex", "key", &[0x58; 16], OtpParams::YANDEX), "7586"),
    ]
}

fn with_pin(credential: Credential, pin: &str) -> Credential {
    Credential { secret: credential.secret.with_pin(pin).unwrap(), ..credential }
}

/// [`credentials`] but the mOTP and Yandex accounts, which 2FAS and Ente have no kinds for.
pub fn credentials_without_pins() -> Vec<Credential> {
    credentials().into_iter().filter(|c| !c.otp.kind.needs_pin()).collect()
}

/// Asserts `got` holds exactly `want`, in order: same names, parameters and secret, and the same
/// codes now and at other moments.
pub fn assert_same(got: &[Credential], want: &[Credential]) {
    assert_eq!(got.len(), want.len(), "number of accounts");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((&g.issuer, &g.name, &g.otp, &g.icon), (&w.issuer, &w.name, &w.otp, &w.icon));
        assert_eq!(g.secret, w.secret, "secret of {}", w.label());
        for time in [0, 59, 1_111_111_109, 2_000_000_000] {
            assert_eq!(
                otp::generate(&g.secret, &g.otp, time).unwrap(),
                otp::generate(&w.secret, &w.otp, time).unwrap(),
                "code of {} at {time}",
                w.label()
            );
        }
    }
}
