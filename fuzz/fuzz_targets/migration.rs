//! Arbitrary bytes as a Google Authenticator export: as the protobuf payload behind `data=`, and as a
//! whole URI. Decoding never panics; whatever decodes survives being written out and read again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::migration::{self, Batch, SkipReason};

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = migration::decode_payload(data) {
        round_trip(batch);
    }
    if let Ok(batch) = migration::decode(&String::from_utf8_lossy(data)) {
        round_trip(batch);
    }
});

/// Re-encodes the entries that decoded and checks they read back the same, in order. Decoded
/// entries are always of a kind the format carries, so the only thing `encode` may leave out is an
/// entry too long for one QR code.
fn round_trip(batch: Batch) {
    let batch_id = batch.batch_id;
    let good: Vec<_> = batch.entries.into_iter().filter_map(Result::ok).collect();
    let encoded = migration::encode(&good, batch_id);
    for skipped in &encoded.skipped {
        assert!(matches!(skipped.reason, SkipReason::TooLong), "{skipped}");
    }
    let expected: Vec<_> = good
        .iter()
        .enumerate()
        .filter(|(index, _)| !encoded.skipped.iter().any(|s| s.index == *index))
        .map(|(_, credential)| credential)
        .collect();
    let mut again = Vec::new();
    for (index, uri) in encoded.uris.iter().enumerate() {
        assert!(uri.len() <= migration::MAX_QR_URI_LEN);
        let batch = migration::decode(uri).expect("an encoded URI decodes");
        let place = (batch.batch_size, batch.batch_index, batch.batch_id);
        assert_eq!(place, (encoded.uris.len() as i32, index as i32, batch_id));
        again.extend(batch.entries.into_iter().map(|e| e.expect("an encoded entry decodes")));
    }
    assert_eq!(again.iter().collect::<Vec<_>>(), expected);
}
