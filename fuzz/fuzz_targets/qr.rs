//! Arbitrary bytes as an image file, and as a raw RGBA buffer: scanning never panics, and every
//! code found lies inside the image.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::qr;

fuzz_target!(|data: &[u8]| {
    let _ = qr::scan_image_bytes(data);
    // The first byte picks a width (1 to 256); the rest are pixels, cut to whole rows.
    if let Some((&first, pixels)) = data.split_first() {
        let width = u32::from(first) + 1;
        let height = (pixels.len() / 4) as u32 / width;
        let rows = (width * height * 4) as usize;
        if let Ok(found) = qr::scan_rgba(width, height, &pixels[..rows]) {
            for code in found {
                let [x, y, w, h] = code.bbox;
                assert!(x + w <= width && y + h <= height, "box outside the image");
            }
        }
    }
});
