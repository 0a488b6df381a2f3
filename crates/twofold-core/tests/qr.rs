//! QR scanning on images generated here the way desktops produce them: screenshots of light and
//! dark pages, HiDPI rescaling, JPEG, transparency, dimmed pages, several codes, large migration
//! codes, logos, 5K screens; plus negatives and bad files.
//!
//! Decode times are measured by the QR benchmark (`scripts/bench-qr`), not here.

use std::io::Cursor;

use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use qrcode::EcLevel;
use twofold_core::qr::{self, Found, PayloadKind, QrError};

#[path = "support/draw.rs"]
mod draw;
use draw::{Modules, draw, encode, encode_version, fill};

const ACCOUNT: &str =
    "otpauth://totp/Bitrise:ada@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Bitrise";
const LIGHT_PAGE: [u8; 3] = [244, 245, 247];
const DARK_PAGE: [u8; 3] = [30, 31, 34];

/// A deterministic pseudo-random sequence (xorshift), so every run draws the same images.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u32
    }

    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
}

/// A QR code's modules, `true` = dark.
fn page(width: u32, height: u32, colour: [u8; 3]) -> RgbaImage {
    RgbaImage::from_pixel(width, height, Rgba([colour[0], colour[1], colour[2], 255]))
}

const BLACK: [u8; 4] = [0, 0, 0, 255];
const WHITE: [u8; 4] = [255, 255, 255, 255];

/// Lines of glyph-like marks, as text on a page: the clutter that yields false finder candidates.
fn text(image: &mut RgbaImage, area: (u32, u32, u32, u32), colour: [u8; 3], seed: u64) {
    let mut noise = Noise(seed);
    let (x0, y0, w, h) = area;
    let ink = [colour[0], colour[1], colour[2], 255];
    let mut y = y0;
    while y + 14 < y0 + h {
        let mut x = x0;
        while x + 60 < x0 + w {
            let word = 2 + noise.below(8);
            for _ in 0..word {
                // A 5 × 7 glyph of random strokes, 2 px per dot.
                for gy in 0..7 {
                    for gx in 0..5 {
                        if noise.below(3) == 0 {
                            fill(image, x + gx * 2, y + gy * 2, 2, 2, ink);
                        }
                    }
                }
                x += 12;
            }
            x += 10;
        }
        y += 24;
    }
}

fn png(image: &RgbaImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).expect("PNG encodes");
    bytes
}

fn jpeg(image: &RgbaImage, quality: u8) -> Vec<u8> {
    let rgb = DynamicImage::ImageRgba8(image.clone()).to_rgb8();
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    rgb.write_with_encoder(encoder).expect("JPEG encodes");
    bytes
}

/// A light page with text and one code (module `module` px, 4-module quiet zone) at (x, y).
fn light_page_with(
    code: &Modules,
    width: u32,
    height: u32,
    x: u32,
    y: u32,
    module: u32,
) -> RgbaImage {
    let mut image = page(width, height, LIGHT_PAGE);
    text(&mut image, (40, 40, width - 80, height - 80), [60, 60, 70], 7);
    draw(&mut image, code, (x, y), module, 4, (BLACK, WHITE));
    image
}

fn texts(found: &[Found]) -> Vec<&str> {
    found.iter().map(|f| f.text.as_str()).collect()
}

/// Scans the bytes and checks exactly `expected` came out, each once.
fn assert_finds(bytes: &[u8], expected: &[&str]) -> Vec<Found> {
    let found = qr::scan_image_bytes(bytes).expect("the image reads");
    let mut got = texts(&found);
    got.sort_unstable();
    let mut want = expected.to_vec();
    want.sort_unstable();
    assert_eq!(got, want);
    found
}

/// Every case: a name, the image file, the payloads it holds.
/// A case's image file and the payloads it holds, made on demand (the 5K one is slow in debug).
type Make = Box<dyn Fn() -> (Vec<u8>, Vec<String>)>;

/// Every case, by name.
fn cases() -> Vec<(String, Make)> {
    fn one(name: &str, make: impl Fn() -> Vec<u8> + 'static) -> (String, Make) {
        (name.to_owned(), Box::new(move || (make(), vec![ACCOUNT.to_owned()])))
    }
    let account = || encode(ACCOUNT, EcLevel::M);
    let plain = move || light_page_with(&account(), 1280, 800, 500, 260, 5);
    let mut cases = vec![
        one("plain", move || png(&plain())),
        one("dark mode", move || png(&dark_mode(&account()))),
        one("transparent, black hidden colour", move || png(&transparent(&account()))),
    ];
    for scale in [1.25f32, 1.5, 1.75] {
        for (filter, name) in
            [(FilterType::Triangle, "bilinear"), (FilterType::CatmullRom, "bicubic")]
        {
            cases.push(one(&format!("HiDPI {scale}× {name}"), move || {
                png(&hidpi(&account(), scale, filter))
            }));
        }
    }
    cases.extend([
        one("JPEG q50", move || jpeg(&plain(), 50)),
        one("dark JPEG q75", move || jpeg(&dark_mode(&account()), 75)),
        one("dark JPEG screenshot 2560×1440 q70", move || {
            let mut image = page(2560, 1440, DARK_PAGE);
            text(&mut image, (20, 20, 2520, 1400), [210, 210, 215], 17);
            let dark = [DARK_PAGE[0], DARK_PAGE[1], DARK_PAGE[2], 255];
            draw(&mut image, &account(), (1700, 500), 4, 4, ([235, 235, 235, 255], dark));
            jpeg(&image, 70)
        }),
        one("2 px modules", move || png(&light_page_with(&account(), 1024, 640, 300, 200, 2))),
        one("1-module quiet zone by a dark panel", move || png(&against_panel(&account()))),
        one("dimmed behind a modal", move || png(&dimmed(&plain()))),
        one("ECL H with a logo", || png(&with_logo())),
        one("5120×2880 screen", move || {
            png(&light_page_with(&account(), 5120, 2880, 3000, 1200, 8))
        }),
    ]);
    cases.push((
        "six codes on 2560×1440".to_owned(),
        Box::new(|| {
            let (image, payloads) = six_codes();
            (png(&image), payloads)
        }),
    ));
    cases.push((
        "version 20 migration code".to_owned(),
        Box::new(|| {
            let migration = migration_payload();
            let large = encode_version(&migration, 20, EcLevel::M);
            (png(&light_page_with(&large, 1280, 900, 400, 180, 5)), vec![migration])
        }),
    ));
    cases.push((
        "no code".to_owned(),
        Box::new(|| {
            let mut empty = page(1920, 1080, LIGHT_PAGE);
            text(&mut empty, (40, 40, 1840, 1000), [60, 60, 70], 11);
            (png(&empty), vec![])
        }),
    ));
    cases.push(("random noise".to_owned(), Box::new(|| (png(&random_noise(800, 600)), vec![]))));
    cases
}

fn dark_mode(code: &Modules) -> RgbaImage {
    let mut image = page(1280, 800, DARK_PAGE);
    text(&mut image, (40, 40, 1200, 720), [200, 200, 205], 3);
    let light = [230, 230, 232, 255];
    let dark = [DARK_PAGE[0], DARK_PAGE[1], DARK_PAGE[2], 255];
    draw(&mut image, code, (480, 240), 5, 4, (light, dark));
    image
}

/// A code saved with a transparent background whose hidden colour is black.
fn transparent(code: &Modules) -> RgbaImage {
    let mut image = RgbaImage::from_pixel(400, 400, Rgba([0, 0, 0, 0]));
    draw(&mut image, code, (60, 60), 8, 0, (BLACK, [0, 0, 0, 0]));
    image
}

fn hidpi(code: &Modules, scale: f32, filter: FilterType) -> RgbaImage {
    let base = light_page_with(code, 1000, 700, 380, 220, 3);
    let (w, h) = ((1000.0 * scale) as u32, (700.0 * scale) as u32);
    imageops::resize(&base, w, h, filter)
}

fn against_panel(code: &Modules) -> RgbaImage {
    let mut image = page(1280, 800, LIGHT_PAGE);
    text(&mut image, (40, 40, 1200, 720), [60, 60, 70], 5);
    let module = 4;
    // The code sits one module from a dark sidebar on its left and a dark header above it.
    fill(&mut image, 0, 0, 400, 800, [38, 42, 51, 255]);
    fill(&mut image, 0, 0, 1280, 200, [38, 42, 51, 255]);
    draw(&mut image, code, (400 + module, 200 + module), module, 1, (BLACK, WHITE));
    image
}

/// A page dimmed to 30 % contrast behind a modal dialog.
fn dimmed(base: &RgbaImage) -> RgbaImage {
    let mut image = base.clone();
    for pixel in image.pixels_mut() {
        for channel in 0..3 {
            pixel.0[channel] = (u32::from(pixel.0[channel]) * 3 / 10) as u8;
        }
    }
    fill(&mut image, 900, 80, 300, 200, [250, 250, 250, 255]);
    text(&mut image, (920, 100, 260, 160), [40, 40, 40], 9);
    image
}

fn six_codes() -> (RgbaImage, Vec<String>) {
    let mut image = page(2560, 1440, LIGHT_PAGE);
    text(&mut image, (40, 40, 2480, 1360), [60, 60, 70], 13);
    let mut payloads = Vec::new();
    for i in 0..6u32 {
        let text = format!(
            "otpauth://totp/Mendix:user{i}@example.com?secret=JBSWY3DPEHPK3PX{}&issuer=Mendix",
            (b'A' + i as u8) as char
        );
        let code = encode(&text, EcLevel::M);
        let (x, y) = (150 + (i % 3) * 800, 250 + (i / 3) * 600);
        draw(&mut image, &code, (x, y), 4 + i % 2, 4, (BLACK, WHITE));
        payloads.push(text);
    }
    (image, payloads)
}

/// A Google Authenticator export link long enough to need version 20 at level M.
fn migration_payload() -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut noise = Noise(99);
    let data: String = (0..560).map(|_| alphabet[noise.below(62) as usize] as char).collect();
    format!("otpauth-migration://offline?data={data}%3D%3D")
}

fn with_logo() -> RgbaImage {
    let code = encode(ACCOUNT, EcLevel::H);
    let mut image = light_page_with(&code, 1280, 800, 500, 240, 6);
    // A logo over the centre: a white plate with a dark mark, about 12 % of the code's area.
    let side = code.size * 6;
    let logo = side * 35 / 100;
    let (lx, ly) = (500 + (side - logo) / 2, 240 + (side - logo) / 2);
    fill(&mut image, lx, ly, logo, logo, WHITE);
    fill(&mut image, lx + logo / 5, ly + logo / 5, logo * 3 / 5, logo * 3 / 5, [200, 30, 40, 255]);
    image
}

fn random_noise(width: u32, height: u32) -> RgbaImage {
    let mut noise = Noise(42);
    RgbaImage::from_fn(width, height, |_, _| {
        let v = if noise.below(2) == 0 { 0 } else { 255 };
        Rgba([v, v, v, 255])
    })
}

fn case(name: &str) -> (Vec<u8>, Vec<String>) {
    let (_, make) = cases().into_iter().find(|(n, _)| n == name).expect("case exists");
    make()
}

fn check(name: &str) -> Vec<Found> {
    let (bytes, expected) = case(name);
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_finds(&bytes, &expected)
}

#[test]
fn plain_screenshot_gives_the_account_with_its_box() {
    let found = check("plain");
    assert_eq!(found[0].kind, PayloadKind::Account);
    let [x, y, w, h] = found[0].bbox;
    let side = encode(ACCOUNT, EcLevel::M).size * 5;
    // Drawn at (500, 260): the box is the code's, within two modules.
    assert!(x.abs_diff(500) <= 10 && y.abs_diff(260) <= 10, "{:?}", found[0].bbox);
    assert!(w.abs_diff(side) <= 10 && h.abs_diff(side) <= 10, "{:?}", found[0].bbox);
}

#[test]
fn dark_mode_code_is_read() {
    check("dark mode");
}

#[test]
fn transparent_code_with_black_hidden_colour_is_read() {
    check("transparent, black hidden colour");
}

#[test]
fn hidpi_rescaled_codes_are_read() {
    for name in cases().into_iter().map(|(n, _)| n).filter(|n| n.starts_with("HiDPI")) {
        check(&name);
    }
}

#[test]
fn jpeg_quality_50_is_read() {
    check("JPEG q50");
}

#[test]
fn dark_jpeg_is_read() {
    check("dark JPEG q75");
}

#[test]
fn two_pixel_modules_are_read() {
    check("2 px modules");
}

#[test]
fn code_one_module_from_a_dark_panel_is_read() {
    check("1-module quiet zone by a dark panel");
}

#[test]
fn dimmed_page_behind_a_modal_is_read() {
    check("dimmed behind a modal");
}

#[test]
fn six_codes_in_one_screenshot_are_each_read_once() {
    let found = check("six codes on 2560×1440");
    assert!(found.iter().all(|f| f.kind == PayloadKind::Account));
    // Reading order: the first row's three codes come first.
    assert!(found[..3].iter().all(|f| f.bbox[1] < 700), "{found:?}");
}

#[test]
fn version_20_migration_code_is_a_batch() {
    let found = check("version 20 migration code");
    assert_eq!(found[0].kind, PayloadKind::Batch);
}

#[test]
fn level_h_code_with_a_logo_is_read() {
    check("ECL H with a logo");
}

#[test]
fn code_on_a_5k_screen_is_read_with_full_resolution_box() {
    let found = check("5120×2880 screen");
    let [x, y, ..] = found[0].bbox;
    assert!(x.abs_diff(3000) <= 16 && y.abs_diff(1200) <= 16, "{:?}", found[0].bbox);
}

#[test]
fn page_without_a_code_gives_nothing() {
    check("no code");
}

#[test]
fn random_noise_gives_nothing() {
    check("random noise");
}

#[test]
fn raw_rgba_buffer_is_scanned() {
    let image = light_page_with(&encode(ACCOUNT, EcLevel::M), 800, 600, 300, 150, 4);
    let found = qr::scan_rgba(800, 600, image.as_raw()).expect("buffer matches");
    assert_eq!(texts(&found), [ACCOUNT]);
}

#[test]
fn rgba_buffer_of_the_wrong_length_is_refused() {
    let error = qr::scan_rgba(10, 10, &[0; 399]).expect_err("one byte short");
    assert!(matches!(error, QrError::BufferSize { .. }));
    assert_eq!(
        error.to_string(),
        "the pixel buffer holds 399 bytes, but a 10 × 10 RGBA image needs 400"
    );
}

#[test]
fn other_formats_are_read() {
    let image = light_page_with(&encode(ACCOUNT, EcLevel::M), 640, 480, 200, 100, 4);
    for format in [ImageFormat::Bmp, ImageFormat::Gif, ImageFormat::Tiff, ImageFormat::WebP] {
        let mut bytes = Vec::new();
        let rgb = DynamicImage::ImageRgba8(image.clone()).to_rgb8();
        rgb.write_to(&mut Cursor::new(&mut bytes), format).expect("encodes");
        assert_finds(&bytes, &[ACCOUNT]);
    }
}

#[test]
fn classify_names_what_a_payload_holds() {
    assert_eq!(qr::classify(ACCOUNT), PayloadKind::Account);
    assert_eq!(qr::classify("OTPAUTH://hotp/x?secret=AA"), PayloadKind::Account);
    assert_eq!(qr::classify("otpauth-migration://offline?data=CgA%3D"), PayloadKind::Batch);
    assert_eq!(qr::classify("twofold+pair://server.example/abc"), PayloadKind::Pairing);
    assert_eq!(qr::classify("https://example.com/otpauth://"), PayloadKind::Other);
    assert_eq!(qr::classify("WIFI:T:WPA;S:home;P:secret;;"), PayloadKind::Other);
    assert_eq!(qr::classify("hello"), PayloadKind::Other);
    assert_eq!(serde_json::to_string(&PayloadKind::Batch).expect("serializes"), "\"batch\"");
}

#[test]
fn garbage_bytes_are_not_an_image() {
    let error = qr::scan_image_bytes(b"this is not a picture at all").expect_err("refused");
    assert!(matches!(error, QrError::NotAnImage), "{error:?}");
    assert!(error.to_string().contains("PNG, JPEG, WebP, BMP, GIF or TIFF"), "{error}");
    assert!(matches!(qr::scan_image_bytes(&[]), Err(QrError::Empty)));
}

#[test]
fn truncated_png_is_reported_damaged() {
    let bytes = png(&light_page_with(&encode(ACCOUNT, EcLevel::M), 640, 480, 200, 100, 4));
    let error = qr::scan_image_bytes(&bytes[..bytes.len() / 2]).expect_err("cut in half");
    assert!(matches!(error, QrError::Damaged { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("the PNG image cannot be read, it may be damaged or cut short"),
        "{error}"
    );
}

#[test]
fn unsupported_format_is_named() {
    // A minimal Targa-free check: the ICO signature is a format image knows but Twofold does not read.
    let error = qr::scan_image_bytes(&[0, 0, 1, 0, 1, 0, 16, 16, 0, 0]).expect_err("ICO");
    assert!(matches!(error, QrError::Unsupported { .. }), "{error:?}");
    assert!(error.to_string().starts_with("ICO images are not supported"), "{error}");
}

/// CRC-32 (ISO-HDLC), to write a valid PNG header by hand.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn decompression_bomb_is_refused_with_its_dimensions() {
    // A 100000 × 100000 RGBA PNG header, then a few bytes of compressed data: what a bomb looks
    // like before it is inflated.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in
        [(b"IHDR", &ihdr[..]), (b"IDAT", &[0x78, 0x9c, 0x03, 0x00][..]), (b"IEND", &[][..])]
    {
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(data);
        bytes.extend_from_slice(&(data.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&chunk);
        bytes.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    let error = qr::scan_image_bytes(&bytes).expect_err("a bomb");
    assert!(matches!(error, QrError::TooLarge { width: 100_000, height: 100_000 }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("the image is 100000 × 100000 pixels, larger than Twofold reads"),
        "{error}"
    );
}

/// A code drawn at `module` pixels a module, then resampled by `scale` with `filter` as a browser
/// smooths an image it shows smaller or larger than its natural size, on a light page.
fn smoothed(text: &str, module: u32, scale: f32, filter: FilterType) -> RgbaImage {
    let code = encode(text, EcLevel::M);
    let side = (code.size + 8) * module;
    let mut symbol = page(side, side, [255, 255, 255]);
    draw(&mut symbol, &code, (4 * module, 4 * module), module, 4, (BLACK, WHITE));
    let shown = ((side as f32 * scale).round() as u32).max(1);
    let symbol = imageops::resize(&symbol, shown, shown, filter);
    let mut image = page(900, 600, LIGHT_PAGE);
    text_marks(&mut image);
    imageops::replace(&mut image, &symbol, 420, 140);
    image
}

fn text_marks(image: &mut RgbaImage) {
    text(image, (30, 30, 360, 540), [60, 60, 70], 23);
}

/// An account URI long enough for a version 10 code, as an issuer with a long label writes it.
const LONG_ACCOUNT: &str = "otpauth://totp/Amazon%20Web%20Services:root-account-mfa-device@123456789012?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Amazon%20Web%20Services&algorithm=SHA1&digits=6&period=30";

#[test]
fn codes_smoothed_by_the_browser_are_read() {
    let cases = [
        ("7 px shown at 36 %, Lanczos", LONG_ACCOUNT, 7, 0.356, FilterType::Lanczos3),
        ("7 px shown at 29 %, bilinear", ACCOUNT, 7, 0.29, FilterType::Triangle),
        ("8 px to 2.29 px then ×1.25, bilinear", LONG_ACCOUNT, 8, 0.358, FilterType::Triangle),
        ("2 px ×1.25 bicubic", LONG_ACCOUNT, 2, 1.25, FilterType::CatmullRom),
        ("3 px ×0.75 bicubic", LONG_ACCOUNT, 3, 0.75, FilterType::CatmullRom),
        ("6 px shown at 40 %, Gaussian", LONG_ACCOUNT, 6, 0.4, FilterType::Gaussian),
        // An image of 1 px modules shown at DPR 2.5–3 with bilinear smoothing: every edge a ramp.
        ("1 px shown at 299 %, bilinear", ACCOUNT, 1, 2.99, FilterType::Triangle),
        ("1 px shown at 250 %, bilinear", LONG_ACCOUNT, 1, 2.5, FilterType::Triangle),
    ];
    let mut missed = Vec::new();
    for (name, text, module, scale, filter) in cases {
        let image = smoothed(text, module, scale, filter);
        let found = qr::scan_image_bytes(&png(&image)).expect("the image reads");
        if texts(&found) != [text] {
            missed.push((name, texts(&found).len()));
        }
    }
    assert!(missed.is_empty(), "{missed:?}");
}
