//! Arbitrary bytes as an otpauth URI: parsing never panics, whatever parses makes codes (an mOTP
//! or Yandex URI with its PIN, a Yandex key of the right length), and it writes back to a URI
//! that parses to the same credential. The same text pasted (`qr::links_in_text`) gives only
//! links, each a piece of the text that starts with a link's scheme.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::{otp, qr, uri};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for link in qr::links_in_text(text) {
        assert!(text.contains(&link.text), "a pasted link is not from the text");
        assert_ne!(link.kind, qr::PayloadKind::Other, "a pasted link of no known scheme");
    }
    if let Ok(credential) = uri::parse(text) {
        let code = otp::generate(&credential.secret, &credential.otp, 0);
        assert!(code.is_ok(), "{}: {code:?}", credential.label());
        let written = uri::format(&credential);
        match uri::parse(&written) {
            // The URI holds the secret, so the messages leave it out; the crash file reproduces it.
            Ok(again) => assert_eq!(again, credential, "format then parse changed the credential"),
            Err(error) => panic!("parse rejects what format wrote: {error}"),
        }
    }
});
