//! Each pass on a generated image that needs it: the scan fails with the pass switched off and
//! reads the code with it on.

use image::imageops::{self, FilterType};
use image::{Rgba, RgbaImage};
use qrcode::EcLevel;

use super::{Passes, scan_rgba_with};

#[path = "../../tests/support/draw.rs"]
mod draw;
use draw::{draw, encode, encode_version, fill};

const TEXT: &str = "otpauth://totp/Example:ada@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example";

/// Only pass 1, with alpha composited onto white.
const AS_IS: Passes = Passes {
    flatten_alpha: true,
    inverted: false,
    alpha_on_black: false,
    local_threshold: false,
    crops: false,
    crop_rescale: false,
    grey_sampling: false,
    midrange_finders: false,
};

const INK: [u8; 4] = [0, 0, 0, 255];
const PAPER: [u8; 4] = [255, 255, 255, 255];

fn page(width: u32, height: u32, colour: [u8; 4]) -> RgbaImage {
    RgbaImage::from_pixel(width, height, Rgba(colour))
}

fn scan(image: &RgbaImage, passes: Passes) -> Vec<String> {
    scan_rgba_with(image.width(), image.height(), image.as_raw(), passes)
        .into_iter()
        .map(|found| found.text)
        .collect()
}

/// Reads nothing with the passes `without`, exactly `expected` with the passes `with`.
fn needs(image: &RgbaImage, without: Passes, with: Passes, expected: &[&str]) {
    assert_eq!(scan(image, without), Vec::<String>::new(), "read without the pass");
    let mut got = scan(image, with);
    got.sort_unstable();
    assert_eq!(got, expected, "not read with the pass");
}

#[test]
fn as_is_decodes_every_grid_not_only_the_first() {
    let mut image = page(900, 400, PAPER);
    let other = "https://example.com/second";
    draw(&mut image, &encode(TEXT, EcLevel::M), (40, 60), 4, 4, (INK, PAPER));
    draw(&mut image, &encode(other, EcLevel::M), (520, 60), 4, 4, (INK, PAPER));
    let mut got = scan(&image, AS_IS);
    got.sort_unstable();
    assert_eq!(got, [other, TEXT]);
}

#[test]
fn flattening_alpha_reads_a_code_whose_hidden_colour_is_black() {
    let mut image = page(300, 300, [0, 0, 0, 0]);
    draw(&mut image, &encode(TEXT, EcLevel::M), (30, 30), 5, 0, (INK, [0, 0, 0, 0]));
    let naive = Passes { flatten_alpha: false, ..Passes::ALL };
    needs(&image, naive, AS_IS, &[TEXT]);
}

#[test]
fn alpha_onto_black_reads_a_light_code_on_transparency() {
    let mut image = page(300, 300, [0, 0, 0, 0]);
    draw(&mut image, &encode(TEXT, EcLevel::M), (30, 30), 5, 0, (PAPER, [0, 0, 0, 0]));
    let without = Passes { alpha_on_black: false, ..Passes::ALL };
    needs(&image, without, Passes::ALL, &[TEXT]);
}

fn dark_mode() -> RgbaImage {
    let dark = [30, 31, 34, 255];
    let mut image = page(700, 500, dark);
    draw(&mut image, &encode(TEXT, EcLevel::M), (200, 100), 5, 4, ([225, 225, 228, 255], dark));
    image
}

#[test]
fn inverted_pass_reads_dark_mode() {
    needs(&dark_mode(), AS_IS, Passes { inverted: true, ..AS_IS }, &[TEXT]);
}

fn hidpi_of(module: u32, scale: f32, filter: FilterType) -> RgbaImage {
    let mut image = page(600, 400, PAPER);
    draw(&mut image, &encode(TEXT, EcLevel::M), (150, 80), module, 4, (INK, PAPER));
    let (w, h) = ((600.0 * scale) as u32, (400.0 * scale) as u32);
    imageops::resize(&image, w, h, filter)
}

/// A page dimmed to 30 % brightness behind a modal dialog.
fn dimmed() -> RgbaImage {
    let mut image = page(700, 500, PAPER);
    draw(&mut image, &encode(TEXT, EcLevel::M), (200, 100), 4, 4, (INK, PAPER));
    for pixel in image.pixels_mut() {
        for channel in 0..3 {
            pixel.0[channel] = (u32::from(pixel.0[channel]) * 3 / 10) as u8;
        }
    }
    image
}

fn jpeg(image: &RgbaImage, quality: u8) -> RgbaImage {
    let rgb = image::DynamicImage::ImageRgba8(image.clone()).to_rgb8();
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    rgb.write_with_encoder(encoder).expect("encodes");
    image::load_from_memory(&bytes).expect("decodes").to_rgba8()
}

fn modal() -> RgbaImage {
    let mut image = dimmed();
    // The dialog two modules beside the code's quiet zone, on the same rows.
    fill(&mut image, 200 + 41 * 4 + 8, 60, 300, 300, [250, 250, 250, 255]);
    image
}

fn several() -> RgbaImage {
    let mut image = page(2000, 900, PAPER);
    for i in 0..6u32 {
        let text = format!("{TEXT}&n={i}");
        draw(
            &mut image,
            &encode(&text, EcLevel::M),
            (100 + (i % 3) * 650, 100 + (i / 3) * 420),
            4 + i % 2,
            4,
            (INK, PAPER),
        );
    }
    image
}

#[test]
fn local_threshold_reads_a_dimmed_page_beside_a_bright_dialog() {
    // rqrr's row-wise threshold averages the bright dialog into the dimmed code's rows. Grey
    // sampling measures its threshold on the code's own finders and reads it too: off here.
    let without = Passes { local_threshold: false, grey_sampling: false, ..Passes::ALL };
    let with = Passes { grey_sampling: false, ..Passes::ALL };
    needs(&modal(), without, with, &[TEXT]);
}

#[test]
fn crops_read_codes_whose_finders_rqrr_groups_across_codes() {
    let image = several();
    let without = scan(&image, Passes { crops: false, ..Passes::ALL });
    let with = scan(&image, Passes::ALL);
    assert!(without.len() < 6, "all read without crops: {without:?}");
    assert_eq!(with.len(), 6, "{with:?}");
}

#[test]
fn crops_read_a_code_with_2_px_modules_rescaled_and_saved_as_jpeg() {
    let image = jpeg(&hidpi_of(2, 1.25, FilterType::CatmullRom), 50);
    needs(&image, Passes { crops: false, ..Passes::ALL }, Passes::ALL, &[TEXT]);
}

#[test]
fn rescaling_crops_reads_modules_under_two_pixels() {
    // A 3-pixel-module code in a screenshot shown at 60 % and saved as JPEG: modules of 1.8
    // pixels, blurred. Grey sampling reads it too (see the test below): off here.
    let image = jpeg(&hidpi_of(3, 0.6, FilterType::Triangle), 70);
    let with = Passes { grey_sampling: false, ..Passes::ALL };
    needs(&image, Passes { crop_rescale: false, ..with }, with, &[TEXT]);
}

#[test]
fn finders_are_searched_at_full_resolution_on_a_5k_screen() {
    // Whole-image passes read a 5K screen at half size, where 3-pixel modules blur to 1.5.
    let mut image = page(5120, 2880, PAPER);
    draw(&mut image, &encode(TEXT, EcLevel::M), (800, 2500), 3, 4, (INK, PAPER));
    assert_eq!(scan(&image, Passes::ALL), [TEXT]);
}

#[test]
fn add_distinct_keeps_each_code_once_in_the_order_first_seen() {
    let code = |text: &str, x| super::Found {
        text: text.to_owned(),
        kind: super::classify(text),
        bbox: [x, 0, 10, 10],
    };
    let mut found = vec![code("a", 0)];
    super::add_distinct(&mut found, vec![code("b", 1), code("a", 2), code("b", 3), code("c", 4)]);
    let seen: Vec<_> = found.iter().map(|f| (f.text.as_str(), f.bbox[0])).collect();
    assert_eq!(seen, [("a", 0), ("b", 1), ("c", 4)]);
}

/// Regression: the finder search sampled its 9 × 9-module check half a pixel to the right, and
/// at about 3 pixels a module (an 8-pixel code shown at 36 %) that put the gap's samples on the
/// ring, so two of the three finders were refused and nothing was cropped.
#[test]
fn every_finder_of_a_code_shown_at_a_third_of_its_size_is_found() {
    let text = "otpauth://totp/Amazon%20Web%20Services:root@123456789012?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Amazon%20Web%20Services";
    let code = encode(text, EcLevel::M);
    let module = 8;
    let side = (code.size + 8) * module;
    let mut symbol = page(side, side, PAPER);
    draw(&mut symbol, &code, (4 * module, 4 * module), module, 4, (INK, PAPER));
    let shown = (side as f32 * 0.358).round() as u32;
    let symbol = imageops::resize(&symbol, shown, shown, FilterType::Triangle);
    let mut image = page(900, 600, [244, 245, 247, 255]);
    imageops::replace(&mut image, &symbol, 420, 140);
    let grey = super::gray::from_rgba(900, 600, image.as_raw(), 255, true);
    let maps = super::gray::local_threshold(&grey, super::threshold_radius(900, 600));
    let finders = super::finder::find(&maps.dark, 900, 600);
    assert_eq!(finders.len(), 3, "{finders:?}");
}

/// A version 15 code drawn at one pixel a module and shown 3.73 times larger without smoothing,
/// as Chromium draws an SVG code with `shape-rendering: crispEdges` at a device pixel ratio of
/// 1.25: modules 3 and 4 pixels wide in an irregular pattern. rqrr misreads the grid (and so
/// does the crop rescaled to 5 pixels a module); sampling each module's centre between the three
/// finders reads it.
#[test]
fn grey_sampling_reads_a_code_whose_modules_are_3_and_4_pixels_wide() {
    let text = "otpauth://totp/Amazon%20Web%20Services:root@123456789012?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Amazon%20Web%20Services";
    let code = encode_version(text, 15, EcLevel::M);
    let side = code.size + 8;
    let mut symbol = page(side, side, PAPER);
    draw(&mut symbol, &code, (4, 4), 1, 4, (INK, PAPER));
    let shown = (side as f32 * 3.73).round() as u32;
    let symbol = imageops::resize(&symbol, shown, shown, FilterType::Nearest);
    let mut image = page(900, 600, PAPER);
    imageops::replace(&mut image, &symbol, 321, 141);
    needs(&image, Passes { grey_sampling: false, ..Passes::ALL }, Passes::ALL, &[text]);
}

/// A code drawn at `module` pixels a module, resampled by `scale` with `filter` (as a browser
/// shows an image smaller or larger than drawn), blurred by `sigma` when above 0, on a light page.
fn smoothed(module: u32, scale: f32, filter: FilterType, sigma: f32) -> RgbaImage {
    let code = encode(TEXT, EcLevel::M);
    let side = (code.size + 8) * module;
    let mut symbol = page(side, side, PAPER);
    draw(&mut symbol, &code, (4 * module, 4 * module), module, 4, (INK, PAPER));
    let shown = (side as f32 * scale).round() as u32;
    let mut symbol = imageops::resize(&symbol, shown, shown, filter);
    if sigma > 0.0 {
        symbol = imageops::blur(&symbol, sigma);
    }
    let mut image = page(900, 600, [244, 245, 247, 255]);
    imageops::replace(&mut image, &symbol, 420, 140);
    image
}

#[test]
fn midrange_finders_read_codes_whose_edges_are_smoothed_into_ramps() {
    // The local mean, pulled up by the quiet zone, cuts each ramp off-centre and no finder's runs
    // read 1:1:3:1:1.
    let cases = [
        ("1 px modules shown at 2.99 px, bilinear", smoothed(1, 2.99, FilterType::Triangle, 0.0)),
        ("1 px modules shown at 2.2 px, bilinear", smoothed(1, 2.2, FilterType::Triangle, 0.0)),
        (
            "4 px modules, Gaussian blur of half a module",
            smoothed(4, 1.0, FilterType::Nearest, 2.0),
        ),
        ("3 px modules, Gaussian blur of 0.4 module", smoothed(3, 1.0, FilterType::Nearest, 1.2)),
        // The local mean finds two of its finders: regression, the code was taken as known.
        (
            "6 px shown at half, bilinear, blur of a third",
            smoothed(6, 0.5, FilterType::Triangle, 1.0),
        ),
    ];
    for (name, image) in cases {
        let without = scan(&image, Passes { midrange_finders: false, ..Passes::ALL });
        assert_eq!(without, Vec::<String>::new(), "{name}: read without the pass");
        assert_eq!(scan(&image, Passes::ALL), [TEXT], "{name}: not read with the pass");
    }
}

#[test]
fn midrange_finders_read_a_smoothed_code_beside_a_sharp_one() {
    // The sharp code is read at once; the smoothed one leaves two local-mean finders unexplained.
    let mut image = smoothed(6, 0.5, FilterType::Triangle, 1.0);
    let other = "https://example.com/help";
    draw(&mut image, &encode(other, EcLevel::M), (100, 100), 4, 4, (INK, PAPER));
    let without = scan(&image, Passes { midrange_finders: false, ..Passes::ALL });
    assert_eq!(without, [other]);
    let mut with = scan(&image, Passes::ALL);
    with.sort_unstable();
    assert_eq!(with, [other, TEXT]);
}

#[test]
fn links_in_pasted_text_are_read_one_a_line_after_other_words() {
    let text = format!(
        "Your key:  {TEXT}  \r\nOTPAUTH-MIGRATION://offline?data=AA\nhttps://example.com\n"
    );
    let found = super::links_in_text(&text);
    let texts: Vec<&str> = found.iter().map(|f| f.text.as_str()).collect();
    assert_eq!(texts, [TEXT, "OTPAUTH-MIGRATION://offline?data=AA"]);
    assert_eq!(found[0].kind, super::PayloadKind::Account);
    assert_eq!(found[1].kind, super::PayloadKind::Batch);
    assert!(super::links_in_text("JBSWY3DP EHPK3PXP").is_empty());
    assert!(super::links_in_text("").is_empty());
}
