//! Arbitrary bytes as the signed messages a server or device receives (JSON bodies, SSE data, the
//! device Authorization header): decoding and verifying never panic, and nothing verifies under a
//! key that did not sign it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_protocol::api::{self, CompletePairing, PostDecision};
use twofold_protocol::{KeyPair, Signed, SigninRequest};

fuzz_target!(|data: &[u8]| {
    // A key no input can hold the secret of: any signature that verifies under it is a forgery.
    let key = KeyPair::from_seed(&[0x5a; 32]).public();
    if let Ok(request) = serde_json::from_slice::<Signed<SigninRequest>>(data) {
        let _ = request.message.digest();
        assert!(request.verify_request(&key).is_err(), "a forged request verified");
    }
    if let Ok(decision) = serde_json::from_slice::<PostDecision>(data) {
        assert!(decision.verify(&key).is_err(), "a forged decision verified");
        let _ = decision.verify(&decision.message.device);
    }
    if let Ok(completion) = serde_json::from_slice::<CompletePairing>(data) {
        let _ = completion.verify(&completion.message.device);
    }
    if let Ok(header) = std::str::from_utf8(data)
        && let Ok(auth) = api::parse_device_auth(header)
    {
        assert!(auth.verify(&key).is_err(), "a forged device authentication verified");
        let _ = auth.verify(&auth.message.device);
    }
});
