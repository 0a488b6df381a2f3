//! Arbitrary text as pam_twofold's configuration file, and arbitrary module arguments over it
//! (separated from the file and each other by NUL bytes): reading never panics, and what reads
//! describes its API key only as redacted.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let file = parts.next().unwrap_or_default();
    let args: Vec<&str> = parts.collect();
    let path = std::path::Path::new("/etc/twofold/pam.toml");
    if let Ok(config) = pam_twofold::Config::parse(path, file, &args) {
        let key = config.api_key.expose();
        if key.len() > 8 {
            assert!(!format!("{config:?}").contains(key), "the API key shows in Debug");
        }
    }
});
