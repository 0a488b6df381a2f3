//! The exact bytes each signed message is signed over: one function per message kind, used by the
//! signer and the verifier alike, so the two can never disagree.
//!
//! Layout: the domain `"twofold"`, the format version (u16), the message kind, then each field in a
//! fixed order. Strings and byte strings are length-prefixed (u32, big-endian), integers are
//! big-endian u64, an optional value is a 0 byte or a 1 byte then the value, an enum is its name.
//! A sign-in request's number choices, when it has any, come last: `"choices"`, their count, each
//! number. Length prefixes make the encoding injective: no two different messages share bytes, and the
//! kind keeps a signature over one message kind from passing as another.

use crate::messages::{Decision, DeviceAuth, Location, PairingCompletion, SigninRequest};

/// The version of this layout; a change to any function below that alters the bytes of a message
/// it could already encode bumps it (number choices were added as a tail that only requests
/// carrying them have, so they did not).
pub const VERSION: u16 = 1;

/// Builds canonical bytes field by field.
struct Writer(Vec<u8>);

impl Writer {
    fn new(kind: &str) -> Self {
        let mut w = Self(Vec::with_capacity(256));
        w.bytes(b"twofold");
        w.0.extend_from_slice(&VERSION.to_be_bytes());
        w.str(kind);
        w
    }

    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        // Wire messages are bounded far below 4 GiB; saturating keeps this total anyway.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    fn str(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes())
    }

    fn u64(&mut self, value: u64) -> &mut Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    fn flag(&mut self, present: bool) -> &mut Self {
        self.0.push(u8::from(present));
        self
    }

    fn opt_str(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            None => self.0.push(0),
            Some(text) => {
                self.0.push(1);
                self.str(text);
            }
        }
        self
    }

    fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// The bytes a server signs for a sign-in request, and whose SHA-256 is the request digest.
pub fn signin_request(request: &SigninRequest) -> Vec<u8> {
    let mut w = Writer::new("signin-request");
    w.bytes(request.id.as_bytes())
        .bytes(request.server.as_bytes())
        .str(&request.service)
        .str(&request.user)
        .u64(request.created_at)
        .u64(request.expires_at)
        .str(&request.ip.to_string())
        .str(&request.user_agent)
        .str(&request.device_description)
        .str(request.mode.as_str())
        .opt_str(request.context.as_deref());
    match &request.location {
        Location::Unknown => {
            w.str("unknown");
        }
        Location::PrivateNetwork => {
            w.str("private-network");
        }
        Location::Place { city, region, country, country_code, coordinates, credit } => {
            w.str("place")
                .opt_str(city.as_deref())
                .opt_str(region.as_deref())
                .opt_str(country.as_deref())
                .opt_str(country_code.as_deref());
            match coordinates {
                None => w.flag(false),
                // Two's complement of the sign-extended value: one fixed width for negatives too.
                #[expect(clippy::cast_sign_loss, reason = "bit pattern, not a quantity")]
                Some(point) => w
                    .flag(true)
                    .u64(i64::from(point.lat_e4) as u64)
                    .u64(i64::from(point.lon_e4) as u64),
            };
            w.opt_str(credit.as_deref());
        }
    }
    // Last and only when present: every field before is self-delimiting, so bytes after the
    // location can only be the choices, and push and code requests keep the bytes (and digests)
    // they had before number choices existed.
    if !request.choices.is_empty() {
        w.str("choices").u64(u64::try_from(request.choices.len()).unwrap_or(u64::MAX));
        for &choice in &request.choices {
            w.u64(u64::from(choice));
        }
    }
    w.finish()
}

/// The bytes a device signs for its decision on a request.
pub fn decision(decision: &Decision) -> Vec<u8> {
    let mut w = Writer::new("decision");
    w.bytes(decision.request_id.as_bytes())
        .bytes(decision.request_digest.as_bytes())
        .str(decision.answer.as_str())
        .opt_str(decision.number.map(|n| n.to_string()).as_deref())
        .u64(decision.time)
        .bytes(&decision.device.to_bytes());
    w.finish()
}

/// The bytes a device signs to open its event stream or poll for requests.
pub fn device_auth(auth: &DeviceAuth) -> Vec<u8> {
    let mut w = Writer::new("device-auth");
    w.bytes(auth.server.as_bytes())
        .bytes(&auth.device.to_bytes())
        .str(auth.purpose.as_str())
        .u64(auth.time)
        .bytes(&auth.nonce.0);
    w.finish()
}

/// The bytes a device signs to complete a pairing, proving it holds the key it registers.
pub fn pairing_completion(completion: &PairingCompletion) -> Vec<u8> {
    let mut w = Writer::new("pairing-completion");
    w.str(&completion.token)
        .bytes(completion.server.as_bytes())
        .bytes(&completion.device.to_bytes())
        .str(&completion.name);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixes_keep_field_boundaries() {
        let mut a = Writer::new("k");
        a.str("ab").str("c");
        let mut b = Writer::new("k");
        b.str("a").str("bc");
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn kind_separates_domains() {
        assert_ne!(Writer::new("decision").finish(), Writer::new("device-auth").finish());
    }

    #[test]
    fn absent_and_empty_differ() {
        let mut a = Writer::new("k");
        a.opt_str(None);
        let mut b = Writer::new("k");
        b.opt_str(Some(""));
        assert_ne!(a.finish(), b.finish());
    }
}
