//! QR symbols as bitmaps: encoded with the `qrcode` crate, drawn module by module at a whole number
//! of pixels, optionally with a logo over the middle (as sites do on error-correction level H).

use anyhow::{Context, Result};
use image::{Rgba, RgbaImage};
use qrcode::{Color, EcLevel, QrCode, Version};

/// How one code is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Pixels per module.
    pub module: u32,
    /// Light modules around the symbol, in modules (the standard asks for 4).
    pub quiet: u32,
    /// Colour of dark modules.
    pub dark: Rgba<u8>,
    /// Colour of light modules and of the quiet zone.
    pub light: Rgba<u8>,
    /// Error-correction level.
    pub ecl: EcLevel,
    /// A fixed version, or the smallest that fits.
    pub version: Option<i16>,
}

impl Style {
    /// Black on white, 4 px modules, a full quiet zone, level M.
    pub fn standard() -> Self {
        Self {
            module: 4,
            quiet: 4,
            dark: Rgba([0, 0, 0, 255]),
            light: Rgba([255, 255, 255, 255]),
            ecl: EcLevel::M,
            version: None,
        }
    }
}

/// Encodes `text` and draws it. Fails only when the text does not fit the asked version.
pub fn render(text: &str, style: &Style) -> Result<RgbaImage> {
    let code = match style.version {
        Some(v) => QrCode::with_version(text.as_bytes(), Version::Normal(v), style.ecl),
        None => QrCode::with_error_correction_level(text.as_bytes(), style.ecl),
    }
    .with_context(|| format!("{} bytes do not fit the asked QR version", text.len()))?;
    let modules = u32::try_from(code.width()).context("QR width")?;
    let colors = code.to_colors();
    let side = (modules + 2 * style.quiet) * style.module;
    let mut image = RgbaImage::from_pixel(side, side, style.light);
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let i = u32::try_from(i).context("QR module index")?;
        let x0 = (i % modules + style.quiet) * style.module;
        let y0 = (i / modules + style.quiet) * style.module;
        for y in y0..y0 + style.module {
            for x in x0..x0 + style.module {
                image.put_pixel(x, y, style.dark);
            }
        }
    }
    Ok(image)
}

/// The version a text gets at a level when the smallest that fits is chosen.
pub fn version_of(text: &str, ecl: EcLevel) -> Option<i16> {
    match QrCode::with_error_correction_level(text.as_bytes(), ecl).ok()?.version() {
        Version::Normal(v) => Some(v),
        Version::Micro(_) => None,
    }
}

/// Covers the middle `fraction` of the symbol (by side) with a logo: a rounded tile in `tile`
/// with a ring and a bar in `mark`, as a brand mark looks at that size.
pub fn add_logo(
    image: &mut RgbaImage,
    quiet_px: u32,
    fraction: f32,
    tile: Rgba<u8>,
    mark: Rgba<u8>,
) {
    let symbol = image.width().saturating_sub(2 * quiet_px);
    let side = (symbol as f32 * fraction).round() as u32;
    let x0 = (image.width() - side) / 2;
    let y0 = (image.height() - side) / 2;
    let radius = side as f32 / 5.0;
    let centre = side as f32 / 2.0;
    for y in 0..side {
        for x in 0..side {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            // Rounded corners: outside the corner circles the page (the code) shows through.
            let cx = fx.clamp(radius, side as f32 - radius);
            let cy = fy.clamp(radius, side as f32 - radius);
            if (fx - cx).hypot(fy - cy) > radius {
                continue;
            }
            let r = (fx - centre).hypot(fy - centre) / centre;
            let on_mark = (0.45..0.62).contains(&r)
                || (fx > centre - side as f32 * 0.06
                    && fx < centre + side as f32 * 0.06
                    && r < 0.45);
            image.put_pixel(x0 + x, y0 + y, if on_mark { mark } else { tile });
        }
    }
}
