//! Arbitrary bytes as the JSON bodies the server's relying-party routes take: decoding never
//! panics, and whatever decodes encodes back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_protocol::api::{CreatePairing, CreateSignin, VerifyCode};

fn round_trips<T>(data: &[u8])
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = serde_json::from_slice::<T>(data) {
        let json = serde_json::to_vec(&value).expect("a decoded body encodes");
        let again: T = serde_json::from_slice(&json).expect("an encoded body decodes");
        assert_eq!(again, value);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trips::<CreateSignin>(data);
    round_trips::<CreatePairing>(data);
    round_trips::<VerifyCode>(data);
});
