//! Grey-level images the passes read: alpha flattening, inversion, box downscaling, crops and a
//! local-mean threshold.

use image::GrayImage;
use image::imageops::{self, FilterType};

/// Luma (ITU-R BT.601 weights, in 1/256) of an RGB pixel.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8) as u8
}

/// Grey levels of an RGBA buffer of `width × height` pixels (length already checked): composited
/// over `background` when `flatten`, or ignoring alpha as a naive reader does.
pub(super) fn from_rgba(
    width: u32,
    height: u32,
    rgba: &[u8],
    background: u8,
    flatten: bool,
) -> GrayImage {
    let bg = u32::from(background);
    let pixels = rgba
        .chunks_exact(4)
        .map(|p| {
            let y = u32::from(luma(p[0], p[1], p[2]));
            if flatten {
                let a = u32::from(p[3]);
                ((y * a + bg * (255 - a) + 127) / 255) as u8
            } else {
                y as u8
            }
        })
        .collect();
    // The caller checked the length, so the buffer always fits.
    GrayImage::from_raw(width, height, pixels).unwrap_or_else(|| GrayImage::new(width, height))
}

/// Whether any pixel is not fully opaque.
pub(super) fn has_transparency(rgba: &[u8]) -> bool {
    rgba.chunks_exact(4).any(|p| p[3] != 255)
}

/// The image with light and dark swapped.
pub(super) fn inverted(image: &GrayImage) -> GrayImage {
    let mut out = image.clone();
    imageops::invert(&mut out);
    out
}

/// The image shrunk by an integer `factor`, each output pixel the mean of a factor × factor block:
/// exact, fast, and it keeps module edges as sharp as the factor allows.
pub(super) fn shrink(image: &GrayImage, factor: u32) -> GrayImage {
    if factor <= 1 {
        return image.clone();
    }
    let (w, h) = (image.width() / factor, image.height() / factor);
    let src = image.as_raw();
    let stride = image.width() as usize;
    let f = factor as usize;
    let area = (f * f) as u32;
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for oy in 0..h as usize {
        for ox in 0..w as usize {
            let mut sum = 0u32;
            for dy in 0..f {
                let row = (oy * f + dy) * stride + ox * f;
                sum += src[row..row + f].iter().map(|&v| u32::from(v)).sum::<u32>();
            }
            out.push((sum / area) as u8);
        }
    }
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| GrayImage::new(w, h))
}

/// Resampled by `scale` with `filter`; at least 1 × 1.
pub(super) fn rescaled(image: &GrayImage, scale: f32, filter: FilterType) -> GrayImage {
    let w = ((image.width() as f32 * scale).round() as u32).max(1);
    let h = ((image.height() as f32 * scale).round() as u32).max(1);
    imageops::resize(image, w, h, filter)
}

/// The `[x0, x1) × [y0, y1)` part of `image`, clamped to it.
pub(super) fn crop(image: &GrayImage, x0: u32, y0: u32, x1: u32, y1: u32) -> GrayImage {
    let x1 = x1.min(image.width());
    let y1 = y1.min(image.height());
    let (w, h) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
    imageops::crop_imm(image, x0, y0, w, h).to_image()
}

/// The image with `pad` pixels of white around it: a code cut from a busy page gets the quiet zone
/// a decoder needs.
pub(super) fn padded(image: &GrayImage, pad: u32) -> GrayImage {
    let mut out = GrayImage::from_pixel(
        image.width() + 2 * pad,
        image.height() + 2 * pad,
        image::Luma([255]),
    );
    imageops::replace(&mut out, image, i64::from(pad), i64::from(pad));
    out
}

/// Ink maps by a local-mean threshold: `dark` marks pixels clearly darker than the mean of the
/// square around them, `light` those clearly lighter. Unlike one global or row-wise level this
/// follows uneven lighting, a dimmed page and JPEG blocks, and a large uniform panel reads as
/// neither, so it stops swallowing a code drawn right next to it.
pub(super) struct InkMaps {
    pub(super) dark: Vec<u8>,
    pub(super) light: Vec<u8>,
}

/// Computes both ink maps with a window of `2 * radius + 1` pixels.
pub(super) fn local_threshold(image: &GrayImage, radius: usize) -> InkMaps {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let src = image.as_raw();
    // Summed-area table, one row and column of zeros in front.
    let mut sums = vec![0u64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += u64::from(src[y * w + x]);
            sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
        }
    }
    let mut dark = vec![0u8; w * h];
    let mut light = vec![0u8; w * h];
    for y in 0..h {
        let (top, bottom) = (y.saturating_sub(radius), (y + radius + 1).min(h));
        for x in 0..w {
            let (left, right) = (x.saturating_sub(radius), (x + radius + 1).min(w));
            let total = sums[bottom * (w + 1) + right] + sums[top * (w + 1) + left]
                - sums[top * (w + 1) + right]
                - sums[bottom * (w + 1) + left];
            let area = ((bottom - top) * (right - left)) as u64;
            let value = u64::from(src[y * w + x]) * area;
            // A margin of 1/16 of the mean plus a little: flat areas with JPEG noise stay empty.
            let margin = total / 16 + 3 * area;
            dark[y * w + x] = u8::from(value + margin < total);
            light[y * w + x] = u8::from(value > total + margin);
        }
    }
    InkMaps { dark, light }
}
