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

/// Grey levels of an RGB image.
pub(super) fn from_rgb(rgb: &image::RgbImage) -> GrayImage {
    let pixels = rgb.as_raw().chunks_exact(3).map(|p| luma(p[0], p[1], p[2])).collect();
    GrayImage::from_raw(rgb.width(), rgb.height(), pixels)
        .unwrap_or_else(|| GrayImage::new(rgb.width(), rgb.height()))
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

/// Side of the blocks the local mean is taken over, in pixels.
const BLOCK: usize = 8;

/// Computes both ink maps against the mean of the blocks within about `radius` pixels.
///
/// The mean is taken per block of [`BLOCK`] pixels (the square of blocks around a pixel's own
/// block), not per pixel: the same threshold to within a few pixels of window, for two array
/// lookups a pixel instead of a summed-area table's four, which matters on 5K screens.
pub(super) fn local_threshold(image: &GrayImage, radius: usize) -> InkMaps {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let src = image.as_raw();
    let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    // Sum of each block's pixels (at most 64 × 255: fits a u32).
    let mut blocks = vec![0u32; bw * bh];
    for (y, row) in src.chunks_exact(w.max(1)).enumerate() {
        let sums = &mut blocks[(y / BLOCK) * bw..][..bw];
        for (sum, chunk) in sums.iter_mut().zip(row.chunks(BLOCK)) {
            *sum += chunk.iter().map(|&v| u32::from(v)).sum::<u32>();
        }
    }
    // Summed-area table over blocks, one row and column of zeros in front.
    let mut table = vec![0u64; (bw + 1) * (bh + 1)];
    for by in 0..bh {
        let mut row = 0u64;
        for bx in 0..bw {
            row += u64::from(blocks[by * bw + bx]);
            table[(by + 1) * (bw + 1) + bx + 1] = table[by * (bw + 1) + bx + 1] + row;
        }
    }
    // Per block, the levels a pixel must be below (dark) or above (light) to count as ink: the
    // window's mean minus or plus a margin of 1/16 of it and a little, so flat areas with JPEG
    // noise stay empty.
    let reach = radius.div_ceil(BLOCK);
    let mut below = vec![0u16; bw * bh];
    let mut above = vec![0u16; bw * bh];
    for by in 0..bh {
        let (top, bottom) = (by.saturating_sub(reach), (by + reach + 1).min(bh));
        let rows = (bottom * BLOCK).min(h) - top * BLOCK;
        for bx in 0..bw {
            let (left, right) = (bx.saturating_sub(reach), (bx + reach + 1).min(bw));
            let total = table[bottom * (bw + 1) + right] + table[top * (bw + 1) + left]
                - table[top * (bw + 1) + right]
                - table[bottom * (bw + 1) + left];
            let area = (rows * ((right * BLOCK).min(w) - left * BLOCK)) as u64;
            let margin = total / 16 + 3 * area;
            // v·area + margin < total  ⇔  v < ⌈(total − margin) / area⌉
            below[by * bw + bx] = total.saturating_sub(margin).div_ceil(area.max(1)) as u16;
            // v·area > total + margin  ⇔  v > ⌊(total + margin) / area⌋
            above[by * bw + bx] = ((total + margin) / area.max(1)).min(u64::from(u16::MAX)) as u16;
        }
    }
    let mut dark = vec![0u8; w * h];
    let mut light = vec![0u8; w * h];
    for (y, row) in src.chunks_exact(w.max(1)).enumerate() {
        let levels = (y / BLOCK) * bw;
        let (dark_row, light_row) = (&mut dark[y * w..][..w], &mut light[y * w..][..w]);
        for (x, &v) in row.iter().enumerate() {
            let block = levels + x / BLOCK;
            dark_row[x] = u8::from(u16::from(v) < below[block]);
            light_row[x] = u8::from(u16::from(v) > above[block]);
        }
    }
    InkMaps { dark, light }
}

/// Least difference between the darkest and lightest level around a pixel for it to count as
/// ink in [`midrange_threshold`]: flat areas, gradients and JPEG noise stay empty.
const MIN_CONTRAST: u8 = 64;

/// Ink maps against the middle of the darkest and lightest levels within about `radius` pixels:
/// `dark` marks pixels below it, `light` pixels above it, where the two levels differ by at least
/// [`MIN_CONTRAST`].
///
/// A smoothed code's edges are ramps, and a local mean, pulled up by the quiet zone and the page
/// around a finder, cuts them off-centre: its rings come out thick, its gaps thin, and the runs
/// across a finder stop reading 1:1:3:1:1. The middle of the extremes is where a ramp between a
/// dark module and a light one crosses half way, whatever the page around it.
pub(super) fn midrange_threshold(image: &GrayImage, radius: usize) -> InkMaps {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let src = image.as_raw();
    let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    // Each block's darkest and lightest level.
    let mut low = vec![u8::MAX; bw * bh];
    let mut high = vec![0u8; bw * bh];
    for (y, row) in src.chunks_exact(w.max(1)).enumerate() {
        let base = (y / BLOCK) * bw;
        for (bx, chunk) in row.chunks(BLOCK).enumerate() {
            let (lo, hi) = chunk.iter().fold((u8::MAX, 0u8), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            low[base + bx] = low[base + bx].min(lo);
            high[base + bx] = high[base + bx].max(hi);
        }
    }
    // Over the square of blocks within `reach`: rows first, then columns.
    let reach = radius.div_ceil(BLOCK);
    let spread = |levels: &[u8], pick: fn(u8, u8) -> u8| {
        let mut across = levels.to_vec();
        for by in 0..bh {
            for bx in 0..bw {
                let (left, right) = (bx.saturating_sub(reach), (bx + reach + 1).min(bw));
                across[by * bw + bx] = levels[by * bw + left..by * bw + right]
                    .iter()
                    .copied()
                    .fold(levels[by * bw + bx], pick);
            }
        }
        let mut out = across.clone();
        for by in 0..bh {
            let (top, bottom) = (by.saturating_sub(reach), (by + reach + 1).min(bh));
            for bx in 0..bw {
                out[by * bw + bx] =
                    (top..bottom).map(|y| across[y * bw + bx]).fold(across[by * bw + bx], pick);
            }
        }
        out
    };
    let (low, high) = (spread(&low, u8::min), spread(&high, u8::max));
    let mut dark = vec![0u8; w * h];
    let mut light = vec![0u8; w * h];
    for (y, row) in src.chunks_exact(w.max(1)).enumerate() {
        let base = (y / BLOCK) * bw;
        let (dark_row, light_row) = (&mut dark[y * w..][..w], &mut light[y * w..][..w]);
        for (x, &v) in row.iter().enumerate() {
            let (lo, hi) = (low[base + x / BLOCK], high[base + x / BLOCK]);
            if hi - lo < MIN_CONTRAST {
                continue;
            }
            // Twice the level against the sum: the middle without rounding.
            let (twice, sum) = (2 * u16::from(v), u16::from(lo) + u16::from(hi));
            dark_row[x] = u8::from(twice < sum);
            light_row[x] = u8::from(twice > sum);
        }
    }
    InkMaps { dark, light }
}
