//! Arbitrary text as a pairing link: parsing never panics, and whatever parses writes back to a
//! link that parses to the same value and the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_protocol::PairingLink;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(link) = text.parse::<PairingLink>() {
        let written = link.to_string();
        match written.parse::<PairingLink>() {
            Ok(again) => {
                assert_eq!(again, link, "format then parse changed the link");
                assert_eq!(again.to_string(), written, "writing is not stable");
            }
            Err(error) => panic!("parse rejects what format wrote: {error}"),
        }
    }
});
