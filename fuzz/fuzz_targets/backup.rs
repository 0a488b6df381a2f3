//! Arbitrary bytes as a Twofold backup: reading the header and opening the file never panic, and
//! what opens holds accounts that can make codes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::backup;
use twofold_core::import::{self, Format, Password};

fuzz_target!(|data: &[u8]| {
    let _ = import::detect(data);
    let _ = Format::Twofold.read(data, None);
    let Ok(header) = backup::inspect(data) else { return };
    // Open only what is cheap to derive a key for: the input chooses the Argon2 cost, and the
    // reader's own limits (up to 1 GiB) would make each run take seconds. The payload itself is
    // authenticated, so only bytes Twofold wrote ever reach its JSON reader.
    if header.cost.memory_kib <= 64 && header.cost.passes <= 2 && header.cost.lanes <= 2 {
        if let Ok(opened) = backup::read(data, &Password::new("fuzz".into())) {
            for entry in &opened.entries {
                assert!(!entry.secret.is_empty());
            }
        }
    }
});
