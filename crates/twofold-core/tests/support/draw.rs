//! Drawing QR codes into images, for the QR tests: the integration tests (`tests/qr.rs`) and the
//! unit tests of each pass (`src/qr/tests.rs`, which includes this file by path).
#![allow(dead_code)] // each test target uses its own part

use image::{Rgba, RgbaImage};
use qrcode::{EcLevel, QrCode, Version};

/// A code's modules, row by row.
pub struct Modules {
    pub size: u32,
    pub dark: Vec<bool>,
}

/// The modules of `text` at error correction `level`, in the smallest version that holds it.
pub fn encode(text: &str, level: EcLevel) -> Modules {
    let code = QrCode::with_error_correction_level(text, level).expect("test payload fits");
    modules_of(&code)
}

/// The modules of `text` in a given version.
pub fn encode_version(text: &str, version: i16, level: EcLevel) -> Modules {
    let code = QrCode::with_version(text, Version::Normal(version), level).expect("fits");
    modules_of(&code)
}

fn modules_of(code: &QrCode) -> Modules {
    Modules {
        size: code.width() as u32,
        dark: code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect(),
    }
}

/// Paints a rectangle, clipped to the image.
pub fn fill(image: &mut RgbaImage, x: u32, y: u32, w: u32, h: u32, colour: [u8; 4]) {
    for yy in y..(y + h).min(image.height()) {
        for xx in x..(x + w).min(image.width()) {
            image.put_pixel(xx, yy, Rgba(colour));
        }
    }
}

/// Draws a code with its top-left module at (x, y), `quiet` modules of `light` around it.
pub fn draw(
    image: &mut RgbaImage,
    code: &Modules,
    at: (u32, u32),
    module: u32,
    quiet: u32,
    colours: ([u8; 4], [u8; 4]),
) {
    let ((x, y), (ink, light)) = (at, colours);
    let side = (code.size + 2 * quiet) * module;
    fill(image, x - quiet * module, y - quiet * module, side, side, light);
    for my in 0..code.size {
        for mx in 0..code.size {
            if code.dark[(my * code.size + mx) as usize] {
                fill(image, x + mx * module, y + my * module, module, module, ink);
            }
        }
    }
}
