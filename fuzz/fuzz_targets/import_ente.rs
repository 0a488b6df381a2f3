//! Arbitrary bytes as a Ente export (and through format detection): reading never panics, and
//! whatever it reads can make codes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::import::{self, Format};

fuzz_target!(|data: &[u8]| {
    // No password: everything up to decryption is exercised, never a key derivation whose cost
    // (within the reader's limits) the input would choose.
    if let Ok(imported) = Format::Ente.read(data, None) {
        for credential in &imported.credentials {
            assert!(credential.otp.validate().is_ok(), "{}", credential.label());
            assert!(!credential.secret.is_empty());
        }
        for error in &imported.errors {
            assert!(!error.message.is_empty());
        }
    }
    let _ = import::detect(data);
});
