//! Reads a code's modules straight from grey levels, between its three finders.
//!
//! A browser that shows a QR image smaller than its natural size, or at a fractional device
//! pixel ratio, smooths it: a lone dark module becomes a grey blot, a light one between dark
//! neighbours a lighter grey. Any one threshold over pixels then merges or splits modules, and
//! rqrr, which binarises first and samples one binary pixel per module, misreads the grid. But
//! the grid is still there: the centre of each module keeps which side of the middle it was on,
//! once the middle is measured on the code itself and the blur from neighbours is taken off.
//!
//! So, given three finders at right angles (screenshots are not rotated or seen in perspective,
//! so an affine map through the three finder centres holds for every module), this module
//! refines each finder's centre to a fraction of a pixel, tries the versions the finder
//! distance allows, samples each module's centre (bilinear), and calls a module dark when its
//! sample is below the midpoint of the finder ring's level (dark modules) and the separator's
//! (light modules), both measured as sampled. A second reading subtracts a share of the
//! neighbours' mean from each sample first (the blur's spill). rqrr's decoder, with its error
//! correction, turns the grid into a payload or refuses it.

use image::GrayImage;

use super::Rect;

/// Iterations of the finder-centre refinement: each moves the window onto the centroid.
const REFINE_STEPS: usize = 3;

/// Share of the neighbours' mean taken off each sample in the sharpened reading.
const SHARPEN: f32 = 0.6;

/// A grey image read as dark-on-light: `light` codes (dark mode) are read inverted.
struct Grey<'a> {
    image: &'a GrayImage,
    light: bool,
}

impl Grey<'_> {
    /// Darkness (0 = white, 255 = black) of the pixel at (x, y), white outside the image.
    fn ink(&self, x: i64, y: i64) -> f32 {
        let (w, h) = (i64::from(self.image.width()), i64::from(self.image.height()));
        if x < 0 || y < 0 || x >= w || y >= h {
            return 0.0;
        }
        let v = f32::from(self.image.as_raw()[(y * w + x) as usize]);
        if self.light { v } else { 255.0 - v }
    }

    /// Darkness at a point between pixel centres (pixel (x, y) has its centre at x + 0.5).
    fn ink_at(&self, x: f32, y: f32) -> f32 {
        let (x, y) = (x - 0.5, y - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = self.ink(x0, y0) * (1.0 - fx) + self.ink(x0 + 1, y0) * fx;
        let bottom = self.ink(x0, y0 + 1) * (1.0 - fx) + self.ink(x0 + 1, y0 + 1) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// The centroid of darkness in the square of ±4 modules around a finder: the finder and
    /// half its light separator, symmetric about its centre, so the centroid is the centre.
    fn refine(&self, (mut cx, mut cy): (f32, f32), module: f32) -> (f32, f32) {
        let reach = module * 4.0;
        for _ in 0..REFINE_STEPS {
            let (x0, x1) = ((cx - reach).floor() as i64, (cx + reach).ceil() as i64);
            let (y0, y1) = ((cy - reach).floor() as i64, (cy + reach).ceil() as i64);
            // Paper: the lightest level in the window, so an off-white page weighs nothing.
            let mut paper = f32::MAX;
            for y in y0..y1 {
                for x in x0..x1 {
                    paper = paper.min(self.ink(x, y));
                }
            }
            let (mut sum, mut sx, mut sy) = (0.0f32, 0.0f32, 0.0f32);
            for y in y0..y1 {
                for x in x0..x1 {
                    let weight = self.ink(x, y) - paper;
                    sum += weight;
                    sx += weight * (x as f32 + 0.5);
                    sy += weight * (y as f32 + 0.5);
                }
            }
            if sum <= 0.0 {
                break;
            }
            (cx, cy) = (sx / sum, sy / sum);
        }
        (cx, cy)
    }
}

/// A point in image pixels.
type Point = (f32, f32);

/// The affine map from module coordinates (u, v) of a `size`-module symbol to pixels.
struct Frame {
    origin: (f32, f32),
    across: (f32, f32),
    down: (f32, f32),
}

impl Frame {
    /// The frame through the three finder centres, which sit at module (3.5, 3.5),
    /// (size − 3.5, 3.5) and (3.5, size − 3.5).
    fn new(corner: (f32, f32), right: (f32, f32), below: (f32, f32), size: usize) -> Self {
        let span = (size - 7) as f32;
        let across = ((right.0 - corner.0) / span, (right.1 - corner.1) / span);
        let down = ((below.0 - corner.0) / span, (below.1 - corner.1) / span);
        let origin = (corner.0 - 3.5 * (across.0 + down.0), corner.1 - 3.5 * (across.1 + down.1));
        Self { origin, across, down }
    }

    fn at(&self, u: f32, v: f32) -> (f32, f32) {
        (
            self.origin.0 + u * self.across.0 + v * self.down.0,
            self.origin.1 + u * self.across.1 + v * self.down.1,
        )
    }
}

/// Tries to read the code whose finders are `anchors` (three, at right angles, in any order).
/// Returns the payload and the code's outline in image pixels.
pub(super) fn read(
    image: &GrayImage,
    anchors: &[(f32, f32)],
    module: f32,
    light: bool,
) -> Option<(String, Rect)> {
    let [a, b, c] = *anchors else { return None };
    let grey = Grey { image, light };
    let [a, b, c] = [a, b, c].map(|p| grey.refine(p, module));
    let (corner, right, below) = orient(a, b, c)?;
    let arm = |p: (f32, f32)| (p.0 - corner.0).hypot(p.1 - corner.1);
    let estimate = (arm(right) + arm(below)) / 2.0 / module + 7.0;
    for size in sizes_near(estimate) {
        let frame = Frame::new(corner, right, below, size);
        if let Some(text) = read_grid(&grey, &frame, size) {
            let corners =
                [(0.0, 0.0), (size as f32, 0.0), (0.0, size as f32), (size as f32, size as f32)]
                    .map(|(u, v)| frame.at(u, v));
            let rect = Rect::around(&corners.map(|p| p.0), &corners.map(|p| p.1), 0.0);
            return Some((text, rect));
        }
    }
    None
}

/// Which of three finders is the corner (its arms at right angles) and which lies to its right
/// and below it in the code's own frame (clockwise in image coordinates, y down).
fn orient(a: Point, b: Point, c: Point) -> Option<(Point, Point, Point)> {
    let cosine_at = |p: (f32, f32), q: (f32, f32), r: (f32, f32)| {
        let (u, v) = ((q.0 - p.0, q.1 - p.1), (r.0 - p.0, r.1 - p.1));
        (u.0 * v.0 + u.1 * v.1) / (u.0.hypot(u.1) * v.0.hypot(v.1))
    };
    let (corner, p, q) = [(a, b, c), (b, a, c), (c, a, b)]
        .into_iter()
        .min_by(|x, y| cosine_at(x.0, x.1, x.2).abs().total_cmp(&cosine_at(y.0, y.1, y.2).abs()))?;
    let cross = (p.0 - corner.0) * (q.1 - corner.1) - (p.1 - corner.1) * (q.0 - corner.0);
    if cross.abs() < f32::EPSILON {
        return None;
    }
    Some(if cross > 0.0 { (corner, p, q) } else { (corner, q, p) })
}

/// Symbol sizes (21, 25, ... 177 modules) nearest the estimate first: it, and one version
/// either side.
fn sizes_near(estimate: f32) -> Vec<usize> {
    let version = ((estimate - 17.0) / 4.0).round().clamp(1.0, 40.0) as usize;
    let mut versions = vec![version];
    let above = (estimate - 17.0) / 4.0 > version as f32;
    let (first, second) =
        if above { (version + 1, version - 1) } else { (version - 1, version + 1) };
    versions.extend([first, second].into_iter().filter(|v| (1..=40).contains(v)));
    versions.into_iter().map(|v| 17 + 4 * v).collect()
}

/// Samples every module of the grid and decodes it, plain and then sharpened.
fn read_grid(grey: &Grey<'_>, frame: &Frame, size: usize) -> Option<String> {
    let mut samples = vec![0.0f32; size * size];
    for v in 0..size {
        for u in 0..size {
            let (x, y) = frame.at(u as f32 + 0.5, v as f32 + 0.5);
            samples[v * size + u] = grey.ink_at(x, y);
        }
    }
    if let Some(text) = decode(&samples, size) {
        return Some(text);
    }
    // Blur spills each module into its neighbours: take a share of their mean off.
    let at = |u: usize, v: usize| samples[v * size + u];
    let mut sharpened = vec![0.0f32; size * size];
    for v in 0..size {
        for u in 0..size {
            let mut sum = 0.0;
            let mut n = 0.0;
            for (du, dv) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
                let (nu, nv) = (u as i64 + du, v as i64 + dv);
                if nu >= 0 && nv >= 0 && (nu as usize) < size && (nv as usize) < size {
                    sum += at(nu as usize, nv as usize);
                    n += 1.0;
                }
            }
            sharpened[v * size + u] = at(u, v) + SHARPEN * (at(u, v) - sum / n);
        }
    }
    decode(&sharpened, size)
}

/// Thresholds the samples halfway between the finder rings (dark modules next to light ones)
/// and the separators (light modules next to dark ones), and decodes the grid.
fn decode(samples: &[f32], size: usize) -> Option<String> {
    let at = |u: usize, v: usize| samples[v * size + u];
    let (mut ring, mut separator) = (0.0f32, 0.0f32);
    let (mut rings, mut separators) = (0.0f32, 0.0f32);
    // The three finders' top-left module corners in module coordinates.
    for (fu, fv) in [(0, 0), (size - 7, 0), (0, size - 7)] {
        for i in 0..7 {
            for (u, v) in [(fu + i, fv), (fu + i, fv + 6), (fu, fv + i), (fu + 6, fv + i)] {
                ring += at(u, v);
                rings += 1.0;
            }
        }
    }
    for i in 0..8 {
        for (u, v) in
            [(i, 7), (7, i), (size - 1 - i, 7), (size - 8, i), (i, size - 8), (7, size - 1 - i)]
        {
            separator += at(u, v);
            separators += 1.0;
        }
    }
    let (ring, separator) = (ring / rings, separator / separators);
    if ring <= separator {
        return None;
    }
    let middle = (ring + separator) / 2.0;
    let grid = rqrr::SimpleGrid::from_func(size, |x, y| at(x, y) > middle);
    let mut bytes = Vec::new();
    rqrr::Grid::new(grid).decode_to(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_near_try_the_estimate_then_the_closer_neighbour() {
        assert_eq!(sizes_near(29.4), [29, 33, 25]);
        assert_eq!(sizes_near(28.0), [29, 25, 33]);
        assert_eq!(sizes_near(20.0), [21, 25]);
    }

    #[test]
    fn corner_is_found_whatever_the_order() {
        let (tl, tr, bl) = ((10.0, 10.0), (50.0, 10.0), (10.0, 50.0));
        for [a, b, c] in [[tl, tr, bl], [bl, tl, tr], [tr, bl, tl]] {
            assert_eq!(orient(a, b, c), Some((tl, tr, bl)));
        }
    }
}
