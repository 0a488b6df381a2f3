//! What the generated codes hold: otpauth URIs as real issuers write them (Bitrise, Mendix and
//! others), Google Authenticator export batches built by twofold's own encoder, a URL and a Wi-Fi
//! network. Every secret is random, so no two payloads in the corpus are the same.

use twofold_core::{Credential, OtpParams, Secret, migration};

use crate::rng::Rng;

/// First names for account e-mail addresses.
const PEOPLE: &[&str] =
    &["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"];
/// Domains for account e-mail addresses.
const DOMAINS: &[&str] = &["example.com", "acme.io", "mendix-partner.nl", "corp.example.org"];
/// Issuers of migration-batch accounts.
const ISSUERS: &[&str] = &[
    "Bitrise",
    "Mendix",
    "GitHub",
    "GitLab",
    "Atlassian",
    "Dropbox",
    "Slack",
    "Proton",
    "Fastmail",
    "Cloudflare",
    "DigitalOcean",
    "Namecheap",
    "npm",
    "PyPI",
    "crates.io",
    "Docker Hub",
];

/// Which kind of payload a generated code holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// An `otpauth://` URI from one of several issuers' styles.
    Account,
    /// An `otpauth-migration://` batch of this many accounts.
    Batch(usize),
    /// A web address.
    Url,
    /// A Wi-Fi network (`WIFI:` text).
    Wifi,
}

impl Payload {
    /// The payload kinds a typical screenshot holds, most of them accounts.
    pub fn typical(rng: &mut Rng) -> Self {
        match rng.range(0, 19) {
            0..=13 => Self::Account,
            14..=16 => Self::Batch(rng.range(2, 3) as usize),
            17 => Self::Url,
            _ => Self::Wifi,
        }
    }

    /// The text of one such payload.
    pub fn text(self, rng: &mut Rng) -> String {
        match self {
            Self::Account => account_uri(rng),
            Self::Batch(n) => batch_uri(rng, n).unwrap_or_else(|| account_uri(rng)),
            Self::Url => url(rng),
            Self::Wifi => wifi(rng),
        }
    }
}

/// Base32 (RFC 4648, no padding) of `n` random bytes, as issuers put in the `secret` parameter.
fn base32_secret(rng: &mut Rng, n: usize) -> String {
    Secret::new(rng.bytes(n)).to_base32().to_string()
}

/// An e-mail address for an account.
fn email(rng: &mut Rng) -> String {
    format!("{}.{}@{}", rng.pick(PEOPLE), rng.range(1, 99), rng.pick(DOMAINS))
}

/// An otpauth URI in the style of one real issuer.
pub fn account_uri(rng: &mut Rng) -> String {
    let mail = email(rng).replace('@', "%40");
    match rng.range(0, 5) {
        // Bitrise: issuer in label and parameter, 160-bit secret.
        0 | 1 => {
            let secret = base32_secret(rng, 20);
            format!("otpauth://totp/Bitrise:{mail}?secret={secret}&issuer=Bitrise")
        }
        // Mendix: every parameter spelled out.
        2 | 3 => {
            let secret = base32_secret(rng, 10);
            format!(
                "otpauth://totp/Mendix:{mail}?secret={secret}&issuer=Mendix&algorithm=SHA1&digits=6&period=30"
            )
        }
        // AWS: long label with an account number, 320-bit secret.
        4 => {
            let account = rng.range(100_000_000, 999_999_999);
            let secret = base32_secret(rng, 40);
            format!(
                "otpauth://totp/Amazon%20Web%20Services:root-account-mfa-device@{account}{}?secret={secret}&issuer=Amazon%20Web%20Services",
                rng.range(100, 999)
            )
        }
        // A service with SHA-256 and 8 digits.
        _ => {
            let secret = base32_secret(rng, 32);
            format!(
                "otpauth://totp/Cloud%20Console:{mail}?secret={secret}&issuer=Cloud%20Console&algorithm=SHA256&digits=8"
            )
        }
    }
}

/// Credentials as a person's authenticator holds them.
fn credentials(rng: &mut Rng, n: usize) -> Vec<Credential> {
    (0..n)
        .map(|_| {
            let issuer = (*rng.pick(ISSUERS)).to_owned();
            let name = email(rng);
            let length = *rng.pick(&[10, 20, 20, 32]);
            Credential {
                issuer,
                name,
                secret: Secret::new(rng.bytes(length)),
                otp: OtpParams::default(),
                icon: None,
            }
        })
        .collect()
}

/// The bytes a version 25 QR code holds at error correction L: Google's densest export codes.
const GOOGLE_MAX_URI_LEN: usize = 1_273;

/// One `otpauth-migration://` URI holding `n` generated accounts (none when they overflow one code).
pub fn batch_uri(rng: &mut Rng, n: usize) -> Option<String> {
    let batch_id = i32::try_from(rng.range(1, 1 << 30)).unwrap_or(1);
    // Google packs more into one code than Twofold's own exports (version 20).
    let encoded = migration::encode_within(&credentials(rng, n), batch_id, GOOGLE_MAX_URI_LEN);
    match encoded.uris.as_slice() {
        [one] => Some(one.to_string()),
        _ => None,
    }
}

/// The largest migration URI that fits a QR code of `version` at error correction `ecl`: accounts
/// are added while the code still fits, as an export of many accounts fills its codes.
pub fn batch_uri_for_version(rng: &mut Rng, version: i16, ecl: qrcode::EcLevel) -> Option<String> {
    let mut best = None;
    for n in 1..=40 {
        let mut trial = rng.fork();
        let Some(uri) = batch_uri(&mut trial, n) else { break };
        if qrcode::QrCode::with_version(uri.as_bytes(), qrcode::Version::Normal(version), ecl)
            .is_err()
        {
            break;
        }
        best = Some(uri);
    }
    best
}

/// A web address, as a QR on a page might link to the app store or a help page.
fn url(rng: &mut Rng) -> String {
    format!(
        "https://www.example.com/help/two-factor?ref=qr&session={}",
        base32_secret(rng, 10).to_lowercase()
    )
}

/// A Wi-Fi network QR (the format phones read).
fn wifi(rng: &mut Rng) -> String {
    format!(
        "WIFI:T:WPA;S:Office-{};P:{};H:false;;",
        rng.range(1, 9),
        base32_secret(rng, 8).to_lowercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_decode_to_their_accounts() {
        let mut rng = Rng::new(3);
        let uri = batch_uri(&mut rng, 3).unwrap();
        let batch = migration::decode(&uri).unwrap();
        assert_eq!(batch.entries.len(), 3);
        assert!(batch.entries.iter().all(Result::is_ok));
    }

    #[test]
    fn batch_for_a_version_fills_that_version_and_no_smaller_one_by_much() {
        let mut rng = Rng::new(4);
        for version in [10, 17, 25] {
            let uri = batch_uri_for_version(&mut rng, version, qrcode::EcLevel::M).unwrap();
            let fitted = crate::symbol::version_of(&uri, qrcode::EcLevel::M).unwrap();
            assert!(fitted <= version && fitted + 3 >= version, "version {version}: fits {fitted}");
        }
    }

    #[test]
    fn account_uris_are_ones_twofold_reads() {
        let mut rng = Rng::new(5);
        for _ in 0..50 {
            let uri = account_uri(&mut rng);
            assert!(twofold_core::uri::parse(&uri).is_ok(), "{uri}");
        }
    }
}
