//! The signed messages: what the server sends a device (sign-in requests) and what a device sends
//! the server (decisions, stream authentication, pairing completion), each wrapped in [`Signed`].

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::canonical;
use crate::keys::{Fingerprint, KeyError, KeyPair, PublicKey, Signature, VerifyError};

/// How the person confirms a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Allow is enough.
    Push,
    /// The sign-in page shows a number; the person picks it on the device among
    /// [`NUMBER_CHOICES`] signed numbers (number matching).
    Number,
    /// Allow reveals a six-digit code on the device, typed into the new device and verified by
    /// the service.
    Code,
}

impl Mode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Push => "push",
            Self::Number => "number",
            Self::Code => "code",
        }
    }
}

/// Approximate place of a sign-in, from its IP address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Location {
    /// No database, or the address is not in it.
    Unknown,
    /// A private or loopback address: the sign-in comes from the service's own network.
    PrivateNetwork,
    /// A place from the GeoIP database; any part may be missing.
    Place {
        /// City name.
        city: Option<String>,
        /// Region, state or province.
        region: Option<String>,
        /// Country name.
        country: Option<String>,
        /// ISO 3166-1 alpha-2 code.
        country_code: Option<String>,
        /// Where on the map, approximately.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        coordinates: Option<Coordinates>,
        /// The credit the GeoIP database's licence asks for ("IP Geolocation by DB-IP").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credit: Option<String>,
    },
}

/// A point on the map in ten-thousandths of a degree (about 11 m; GeoIP is good to a city at
/// best): integers, so a signed request compares and encodes exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coordinates {
    /// Latitude × 10 000, −900 000 to 900 000.
    pub lat_e4: i32,
    /// Longitude × 10 000, −1 800 000 to 1 800 000.
    pub lon_e4: i32,
}

impl Coordinates {
    /// The point at `lat`, `lon` degrees, or `None` when either is off the globe or not a number.
    pub fn from_degrees(lat: f64, lon: f64) -> Option<Self> {
        let valid = (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
        // In range, so the rounded values fit an i32.
        #[expect(clippy::cast_possible_truncation, reason = "checked range")]
        valid.then(|| Self {
            lat_e4: (lat * 1e4).round() as i32,
            lon_e4: (lon * 1e4).round() as i32,
        })
    }

    /// Latitude in degrees.
    pub fn lat(self) -> f64 {
        f64::from(self.lat_e4) / 1e4
    }

    /// Longitude in degrees.
    pub fn lon(self) -> f64 {
        f64::from(self.lon_e4) / 1e4
    }
}

/// How many numbers a number-mode request offers: the one on the sign-in page and decoys. Picking
/// among a few (as Okta does) leaves no typo to deny a real sign-in, while a guess still fails
/// two times in three.
pub const NUMBER_CHOICES: usize = 3;

/// A sign-in request as the server signs it and the device shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigninRequest {
    /// The request's identity.
    pub id: Uuid,
    /// Fingerprint of the server key that signs it.
    pub server: Fingerprint,
    /// Name of the service the person is signing in to.
    pub service: String,
    /// The user, as the service names them.
    pub user: String,
    /// When the request was made, Unix seconds.
    pub created_at: u64,
    /// When it stops accepting decisions, Unix seconds.
    pub expires_at: u64,
    /// The address the sign-in comes from.
    pub ip: IpAddr,
    /// Approximate place of that address.
    pub location: Location,
    /// The user agent of the sign-in, as the service reported it.
    pub user_agent: String,
    /// The user agent in words ("Firefox on Windows").
    pub device_description: String,
    /// How the person confirms.
    pub mode: Mode,
    /// What the service says the sign-in is for, if anything.
    pub context: Option<String>,
    /// Number mode: the [`NUMBER_CHOICES`] distinct numbers the device offers, the one on the
    /// sign-in page among them in a random place; empty in the other modes (and then absent from
    /// the JSON and the canonical bytes, which stay as they were before number choices).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<u32>,
}

impl SigninRequest {
    /// Whether the choices fit the mode: [`NUMBER_CHOICES`] distinct numbers in number mode,
    /// none in the others. A request that does not fit cannot be answered as its mode asks.
    pub fn choices_fit_mode(&self) -> bool {
        match self.mode {
            Mode::Number => {
                let distinct: std::collections::BTreeSet<u32> =
                    self.choices.iter().copied().collect();
                self.choices.len() == NUMBER_CHOICES && distinct.len() == NUMBER_CHOICES
            }
            Mode::Push | Mode::Code => self.choices.is_empty(),
        }
    }

    /// Whether `number` is one of the signed choices (number mode).
    pub fn offers(&self, number: u32) -> bool {
        self.choices.contains(&number)
    }

    /// The digest a decision binds: SHA-256 of the canonical bytes.
    pub fn digest(&self) -> RequestDigest {
        RequestDigest(Sha256::digest(canonical::signin_request(self)).into())
    }
}

/// SHA-256 of a sign-in request's canonical bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestDigest(pub [u8; 32]);

impl RequestDigest {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A device's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    /// Allow the sign-in.
    Allow,
    /// Don't allow it.
    Deny,
    /// "This wasn't me": deny, block the source and audit.
    Report,
}

impl Answer {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::Report => "report",
        }
    }
}

/// A device's decision on one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The request decided.
    pub request_id: Uuid,
    /// Digest of exactly the request the device showed.
    pub request_digest: RequestDigest,
    /// Allow, Don't Allow or Report.
    pub answer: Answer,
    /// The number the person entered (number mode).
    pub number: Option<u32>,
    /// When the person answered, Unix seconds.
    pub time: u64,
    /// The deciding device's key.
    pub device: PublicKey,
}

/// Random bytes that make each device authentication unique.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce(pub [u8; 16]);

/// What a device authenticates for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthPurpose {
    /// Opening the event stream.
    Stream,
    /// One poll for pending requests.
    Poll,
    /// Unpairing: the device asks the server to revoke it.
    Unpair,
}

impl AuthPurpose {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stream => "stream",
            Self::Poll => "poll",
            Self::Unpair => "unpair",
        }
    }
}

/// A device proving it holds its key, fresh (time) and once (nonce), to one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceAuth {
    /// Fingerprint of the server it talks to.
    pub server: Fingerprint,
    /// The device's key.
    pub device: PublicKey,
    /// Stream or poll.
    pub purpose: AuthPurpose,
    /// Unix seconds when it was made; the server accepts ±60 s.
    pub time: u64,
    /// Never reused; the server refuses a nonce it has seen.
    pub nonce: Nonce,
}

/// A device registering its key with a pairing token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingCompletion {
    /// The single-use token from the pairing link.
    pub token: String,
    /// Fingerprint of the server key, from the link.
    pub server: Fingerprint,
    /// The device's new public key.
    pub device: PublicKey,
    /// The name the person gave the device.
    pub name: String,
}

/// A message with its canonical bytes: what [`Signed`] can wrap.
pub trait SignedMessage {
    /// What the message is called in errors.
    const WHAT: &'static str;
    /// Its canonical bytes, from [`crate::canonical`].
    fn canonical(&self) -> Vec<u8>;
}

impl SignedMessage for SigninRequest {
    const WHAT: &'static str = "sign-in request";
    fn canonical(&self) -> Vec<u8> {
        canonical::signin_request(self)
    }
}

impl SignedMessage for Decision {
    const WHAT: &'static str = "decision";
    fn canonical(&self) -> Vec<u8> {
        canonical::decision(self)
    }
}

impl SignedMessage for DeviceAuth {
    const WHAT: &'static str = "device authentication";
    fn canonical(&self) -> Vec<u8> {
        canonical::device_auth(self)
    }
}

impl SignedMessage for PairingCompletion {
    const WHAT: &'static str = "pairing completion";
    fn canonical(&self) -> Vec<u8> {
        canonical::pairing_completion(self)
    }
}

/// A message and its signature, as they travel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed<T> {
    /// The message.
    pub message: T,
    /// Ed25519 signature over the message's canonical bytes.
    pub signature: Signature,
}

impl<T: SignedMessage> Signed<T> {
    /// Signs `message` with `key`.
    pub fn sign(message: T, key: &KeyPair) -> Self {
        let signature = key.sign(&message.canonical());
        Self { message, signature }
    }

    /// The message, if `key` signed exactly it.
    pub fn verify(&self, key: &PublicKey) -> Result<&T, VerifyError> {
        key.verify(&self.message.canonical(), &self.signature, T::WHAT)?;
        Ok(&self.message)
    }
}

impl Signed<SigninRequest> {
    /// The request, if the server whose key is pinned signed it and it names that server.
    pub fn verify_request(&self, server_key: &PublicKey) -> Result<&SigninRequest, VerifyError> {
        let expected = server_key.fingerprint();
        if self.message.server != expected {
            return Err(VerifyError::WrongServer {
                what: SigninRequest::WHAT,
                found: self.message.server,
                expected,
            });
        }
        self.verify(server_key)
    }
}

macro_rules! base64_bytes {
    ($($ty:ident: $len:literal, $what:literal);*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&BASE64URL_NOPAD.encode(&self.0))
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($ty))
            }
        }

        impl FromStr for $ty {
            type Err = KeyError;

            fn from_str(text: &str) -> Result<Self, KeyError> {
                let bytes = BASE64URL_NOPAD.decode(text.as_bytes()).map_err(|_| {
                    KeyError::Encoding { what: $what, encoding: "unpadded base64url" }
                })?;
                let found = bytes.len();
                <[u8; $len]>::try_from(bytes.as_slice())
                    .map(Self)
                    .map_err(|_| KeyError::Length { what: $what, expected: $len, found })
            }
        }

    )*};
}

base64_bytes!(RequestDigest: 32, "request digest"; Nonce: 16, "nonce");
crate::keys::serde_as_text!(RequestDigest, Nonce);

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> KeyPair {
        KeyPair::from_seed(&[9; 32])
    }

    fn device() -> KeyPair {
        KeyPair::from_seed(&[3; 32])
    }

    fn request() -> SigninRequest {
        SigninRequest {
            id: Uuid::from_u128(0x1234),
            server: server().public().fingerprint(),
            service: "Example Mail".into(),
            user: "alice".into(),
            created_at: 1_700_000_000,
            expires_at: 1_700_000_120,
            ip: "203.0.113.9".parse().unwrap(),
            location: Location::Place {
                city: Some("Lyon".into()),
                region: Some("Auvergne-Rhône-Alpes".into()),
                country: Some("France".into()),
                country_code: Some("FR".into()),
                coordinates: Coordinates::from_degrees(45.7485, 4.8467),
                credit: Some("IP Geolocation by DB-IP".into()),
            },
            user_agent: "Mozilla/5.0 (Windows NT 10.0) Firefox/128.0".into(),
            device_description: "Firefox on Windows".into(),
            mode: Mode::Number,
            context: Some("Sign in to webmail".into()),
            choices: vec![57, 42, 18],
        }
    }

    /// A named way to alter a message.
    type Tampering<T> = (&'static str, fn(&mut T));

    /// Every way to alter one field of a request: each must break the signature.
    fn request_tamperings() -> Vec<Tampering<SigninRequest>> {
        vec![
            ("id", |r| r.id = Uuid::from_u128(0x1235)),
            ("server", |r| r.server = device().public().fingerprint()),
            ("service", |r| r.service.push('!')),
            ("user", |r| r.user = "mallory".into()),
            ("created_at", |r| r.created_at += 1),
            ("expires_at", |r| r.expires_at += 600),
            ("ip", |r| r.ip = "203.0.113.10".parse().unwrap()),
            ("location kind", |r| r.location = Location::PrivateNetwork),
            ("city", |r| {
                if let Location::Place { city, .. } = &mut r.location {
                    *city = Some("Paris".into());
                }
            }),
            ("region", |r| {
                if let Location::Place { region, .. } = &mut r.location {
                    *region = None;
                }
            }),
            ("country", |r| {
                if let Location::Place { country, .. } = &mut r.location {
                    *country = Some("Franc".into());
                }
            }),
            ("country_code", |r| {
                if let Location::Place { country_code, .. } = &mut r.location {
                    *country_code = Some("DE".into());
                }
            }),
            ("coordinates", |r| {
                if let Location::Place { coordinates: Some(point), .. } = &mut r.location {
                    point.lon_e4 += 1;
                }
            }),
            ("credit", |r| {
                if let Location::Place { credit, .. } = &mut r.location {
                    *credit = None;
                }
            }),
            ("user_agent", |r| r.user_agent.clear()),
            ("device_description", |r| r.device_description = "Safari on macOS".into()),
            ("mode", |r| r.mode = Mode::Push),
            ("context", |r| r.context = None),
            ("a choice", |r| r.choices[2] = 19),
            ("choices order", |r| r.choices.swap(0, 1)),
            ("a choice added", |r| r.choices.push(77)),
            ("choices removed", |r| r.choices.clear()),
        ]
    }

    #[test]
    fn a_signed_request_verifies_with_the_server_key_only() {
        let signed = Signed::sign(request(), &server());
        assert_eq!(signed.verify_request(&server().public()).unwrap(), &request());
        assert!(signed.verify(&device().public()).is_err());
    }

    #[test]
    fn tampering_with_any_request_field_fails_verification() {
        for (field, tamper) in request_tamperings() {
            let mut signed = Signed::sign(request(), &server());
            tamper(&mut signed.message);
            assert_ne!(signed.message, request(), "tampering {field} changed nothing");
            assert!(signed.verify(&server().public()).is_err(), "altered {field} still verifies");
            assert_ne!(signed.message.digest(), request().digest(), "{field} not in the digest");
        }
    }

    #[test]
    fn a_request_naming_another_server_is_refused_even_if_signed() {
        let mut r = request();
        r.server = device().public().fingerprint();
        let signed = Signed::sign(r, &server());
        assert!(matches!(
            signed.verify_request(&server().public()),
            Err(VerifyError::WrongServer { .. })
        ));
    }

    fn decision() -> Decision {
        Decision {
            request_id: request().id,
            request_digest: request().digest(),
            answer: Answer::Allow,
            number: Some(42),
            time: 1_700_000_010,
            device: device().public(),
        }
    }

    #[test]
    fn tampering_with_any_decision_field_fails_verification() {
        let tamperings: Vec<Tampering<Decision>> = vec![
            ("request_id", |d| d.request_id = Uuid::from_u128(1)),
            ("request_digest", |d| d.request_digest.0[31] ^= 1),
            ("answer deny", |d| d.answer = Answer::Deny),
            ("answer report", |d| d.answer = Answer::Report),
            ("number", |d| d.number = Some(43)),
            ("number absent", |d| d.number = None),
            ("time", |d| d.time += 1),
            ("device", |d| d.device = server().public()),
        ];
        let key = device().public();
        assert!(Signed::sign(decision(), &device()).verify(&key).is_ok());
        for (field, tamper) in tamperings {
            let mut signed = Signed::sign(decision(), &device());
            tamper(&mut signed.message);
            assert!(signed.verify(&key).is_err(), "altered {field} still verifies");
        }
    }

    #[test]
    fn tampering_with_device_auth_or_pairing_fails_verification() {
        let auth = DeviceAuth {
            server: server().public().fingerprint(),
            device: device().public(),
            purpose: AuthPurpose::Stream,
            time: 5,
            nonce: Nonce([1; 16]),
        };
        let key = device().public();
        let auth_tamperings: Vec<fn(&mut DeviceAuth)> = vec![
            |a| a.server = a.device.fingerprint(),
            |a| a.device = KeyPair::from_seed(&[4; 32]).public(),
            |a| a.purpose = AuthPurpose::Poll,
            |a| a.time = 6,
            |a| a.nonce.0[0] = 2,
        ];
        assert!(Signed::sign(auth.clone(), &device()).verify(&key).is_ok());
        for tamper in auth_tamperings {
            let mut signed = Signed::sign(auth.clone(), &device());
            tamper(&mut signed.message);
            assert!(signed.verify(&key).is_err(), "{:?}", signed.message);
        }
        let pairing = PairingCompletion {
            token: "tok".into(),
            server: server().public().fingerprint(),
            device: device().public(),
            name: "Laptop".into(),
        };
        let pairing_tamperings: Vec<fn(&mut PairingCompletion)> = vec![
            |p| p.token.push('x'),
            |p| p.server = p.device.fingerprint(),
            |p| p.device = KeyPair::from_seed(&[4; 32]).public(),
            |p| p.name = "Phone".into(),
        ];
        assert!(Signed::sign(pairing.clone(), &device()).verify(&key).is_ok());
        for tamper in pairing_tamperings {
            let mut signed = Signed::sign(pairing.clone(), &device());
            tamper(&mut signed.message);
            assert!(signed.verify(&key).is_err(), "{:?}", signed.message);
        }
    }

    #[test]
    fn a_signature_of_one_kind_does_not_pass_as_another() {
        // Same key signs a decision; its signature must not verify as a device authentication.
        let signed = Signed::sign(decision(), &device());
        let auth = DeviceAuth {
            server: server().public().fingerprint(),
            device: device().public(),
            purpose: AuthPurpose::Stream,
            time: 5,
            nonce: Nonce([1; 16]),
        };
        let forged = Signed { message: auth, signature: signed.signature };
        assert!(forged.verify(&device().public()).is_err());
    }

    #[test]
    fn choices_fit_only_number_mode_three_distinct() {
        assert!(request().choices_fit_mode());
        let mut r = request();
        r.choices = vec![57, 42, 57];
        assert!(!r.choices_fit_mode(), "a repeated number");
        r.choices = vec![57, 42];
        assert!(!r.choices_fit_mode(), "two choices");
        r.choices.clear();
        assert!(!r.choices_fit_mode(), "number mode without choices");
        r.mode = Mode::Push;
        assert!(r.choices_fit_mode());
        r.choices = vec![1, 2, 3];
        assert!(!r.choices_fit_mode(), "push mode with choices");
        assert!(request().offers(42));
        assert!(!request().offers(43));
    }

    #[test]
    fn a_request_without_choices_keeps_the_canonical_bytes_it_had_before_choices() {
        // The layout before choices existed, written out by hand: push and code requests, and
        // signatures made over them, are unchanged by the choices tail.
        let mut r = request();
        r.mode = Mode::Push;
        r.choices.clear();
        r.location = Location::Unknown;
        let prefixed = |bytes: &[u8]| {
            let mut out = u32::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
            out.extend_from_slice(bytes);
            out
        };
        let expected = [
            prefixed(b"twofold"),
            1u16.to_be_bytes().to_vec(),
            prefixed(b"signin-request"),
            prefixed(r.id.as_bytes()),
            prefixed(r.server.as_bytes()),
            prefixed(b"Example Mail"),
            prefixed(b"alice"),
            r.created_at.to_be_bytes().to_vec(),
            r.expires_at.to_be_bytes().to_vec(),
            prefixed(b"203.0.113.9"),
            prefixed(r.user_agent.as_bytes()),
            prefixed(b"Firefox on Windows"),
            prefixed(b"push"),
            vec![1],
            prefixed(b"Sign in to webmail"),
            prefixed(b"unknown"),
        ]
        .concat();
        assert_eq!(canonical::signin_request(&r), expected);
        // With choices, the same bytes and then the tail.
        let tail =
            [prefixed(b"choices"), 3u64.to_be_bytes().to_vec(), 57u64.to_be_bytes().to_vec()]
                .concat();
        r.mode = Mode::Number;
        r.choices = vec![57, 42, 18];
        let with = canonical::signin_request(&r);
        let number_bytes = prefixed(b"number");
        assert!(with.windows(number_bytes.len()).any(|w| w == number_bytes));
        assert!(with.ends_with(
            &[tail, 42u64.to_be_bytes().to_vec(), 18u64.to_be_bytes().to_vec()].concat()
        ));
    }

    #[test]
    fn number_choices_survive_json_and_verify() {
        let signed = Signed::sign(request(), &server());
        let json = serde_json::to_value(&signed).unwrap();
        assert_eq!(json["message"]["choices"], serde_json::json!([57, 42, 18]));
        let back: Signed<SigninRequest> = serde_json::from_value(json).unwrap();
        assert_eq!(back.message.choices, vec![57, 42, 18]);
        assert!(back.verify_request(&server().public()).is_ok());
        // A push request has no "choices" key at all: what older devices read is unchanged.
        let mut push = request();
        push.mode = Mode::Push;
        push.choices.clear();
        let json = serde_json::to_value(Signed::sign(push.clone(), &server())).unwrap();
        assert!(json["message"].get("choices").is_none(), "{json}");
        let back: Signed<SigninRequest> = serde_json::from_value(json).unwrap();
        assert_eq!(back.message, push);
    }

    #[test]
    fn signed_messages_survive_json() {
        let signed = Signed::sign(request(), &server());
        let json = serde_json::to_string(&signed).unwrap();
        let back: Signed<SigninRequest> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, signed);
        assert!(back.verify_request(&server().public()).is_ok());
    }
}
