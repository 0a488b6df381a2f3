//! Arbitrary bytes as every import format's file (the first byte picks the format, over all of
//! `Format::ALL`, so the Android preferences XML, Java-serialized FreeOTP 2 backups, SQLite app
//! databases, Stratum's and TOTP Authenticator's binary layouts and Proton Pass's ZIP are all
//! reached) and through format detection: reading never panics, and whatever it reads can make
//! codes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::import::{self, Format};
use twofold_core::otp;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    let format = Format::ALL[usize::from(pick) % Format::ALL.len()];
    // No password: everything up to decryption is exercised (readers check an encrypted file's
    // structure, such as Bitwarden's EncStrings and key parameters, before asking for one), never
    // a key derivation whose cost (within the reader's limits) the input would choose.
    if let Ok(imported) = format.read(file, None) {
        for credential in &imported.credentials {
            // Parameters, secret and (mOTP, Yandex) PIN and key length: all a code needs.
            let code = otp::generate(&credential.secret, &credential.otp, 0);
            assert!(code.is_ok(), "{format}: {}: {code:?}", credential.label());
        }
        for error in &imported.errors {
            assert!(!error.message.is_empty());
        }
    }
    let _ = import::detect(file);
});
