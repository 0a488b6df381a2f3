//! QR codes in images as desktops produce them: files, screenshots, the clipboard.
//!
//! [`rqrr`] decodes; what it is given decides what it reads. A single `prepare → detect_grids →
//! decode` misses codes in real screenshots, so [`scan_image_bytes`] and [`scan_rgba`] look for
//! codes themselves first and then run a small ordered set of passes, stopping as soon as nothing
//! is left to explain:
//!
//! 0. **Finder search**: finder-like patterns (both polarities, a local threshold, the full
//!    9 × 9-module square checked; see `finder`) on the full-resolution image, grouped into
//!    regions where a code probably is. A region marked by three finders at right angles is cut
//!    out and decoded first (see crops below): rqrr's cost grows with the image it is given and
//!    with every false finder in it (text, icons), a crop's does not, so a screenshot with codes
//!    is usually read here.
//! 1. **As is**: the grey image (alpha composited onto white, so a transparent PNG whose hidden
//!    colour is black shows its code) through rqrr's own threshold; every grid it detects is
//!    decoded, not only the first.
//! 2. **Inverted**: light modules on a dark page (dark mode).
//! 3. **Alpha onto black**: only for images with transparency, both polarities (a light code on a
//!    transparent background vanishes on white).
//! 4. **Local threshold**: each pixel against the mean of the square around it, for dimmed pages
//!    beside a bright dialog, JPEG blocks and codes drawn right against a dark panel.
//! 5. **Crops** of the regions still unexplained (two finders, or a grid rqrr detected but could
//!    not decode). A crop is cut at full resolution half a module outside the code (so a panel a
//!    module away stays out), given a white quiet zone, and decoded as is and rescaled so a
//!    module is about five pixels (modules under 2 pixels, HiDPI resampling, fractional module
//!    sizes), with both thresholds. This also reads codes rqrr misses when it groups finders of
//!    different codes in one screenshot.
//!
//! 6. **Finders against the middle of the local extremes**, only when nothing was read or a
//!    region is left unexplained: a
//!    smoothed code (an image shown smaller or larger than drawn, fractional scaling, a blur) has
//!    ramps for edges, which the local mean cuts off-centre, so its finders may not be found by
//!    step 0 at all. Codes marked by three such finders are cropped as above.
//!
//! Every crop of a code marked by three finders is first read from grey levels between them
//! (see `sampling`): modules 3 and 4 pixels wide, or grey blots, that rqrr's grid misreads.
//! Whatever reads a grid, only rqrr's decoder, with the code's error correction, gives a payload.
//!
//! **When to stop.** A region is explained when a decoded code covers its finders; a grid rqrr
//! detects but cannot decode is a region too, unless it lies over known finders (rqrr grouping
//! finders of different codes). After each step, if every region is explained, the scan stops. A
//! page with nothing finder-like still gets pass 1 (rqrr's own finder search is the safety net),
//! and stops there. Passes that serve one polarity (inverted; each local-threshold map) run only
//! while a region of that polarity is unexplained.
//!
//! **Bounded work.** rqrr copies the whole image once per candidate finder group, so a large
//! image with many false candidates (a dark JPEG screenshot full of text) costs seconds. Whole
//! image passes therefore run on a copy shrunk to at most 4.2 megapixels (a 5K screen is read
//! at half size), while the finder search and crops use full resolution: shrunk, the 2–3 pixel
//! modules of a 4K or 5K screen blur past recognition. At most 16 crops are decoded, and the
//! finder search caps its candidates.
//!
//! rqrr can panic on some inputs (an assertion in its perspective mapping, rqrr issue #54), so
//! each call into it is guarded; see `guarded`.

mod finder;
mod gray;
mod sampling;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use rqrr::PreparedImage;
use serde::Serialize;

use finder::Region;

/// Widest or tallest image read, in pixels: wider than three 5K screens side by side.
pub const MAX_SIDE: u32 = 16_384;

/// Most pixels read in one image (about 67 megapixels: three 5K screens, with room).
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// Whole-image passes run on at most this many pixels (an integer shrink factor above it).
const WORK_PIXELS: u64 = 4_200_000;

/// Most candidate regions cropped and decoded at full resolution.
const MAX_CROPS: usize = 16;

/// Most pixels one crop is decoded at: a version 40 code at 8 pixels a module, with its margin.
const CROP_PIXELS: u64 = 2_200_000;

/// Module size, in pixels, crops are rescaled to.
const CROP_MODULE: f32 = 5.0;

/// One QR code found in an image.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    /// The decoded payload (invalid UTF-8 replaced by U+FFFD).
    pub text: String,
    /// What the payload holds.
    pub kind: PayloadKind,
    /// Where the code is: x, y, width, height in pixels of the input image.
    pub bbox: [u32; 4],
}

impl std::fmt::Debug for Found {
    /// Account and batch payloads carry secrets: only other payloads are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: &dyn std::fmt::Debug = match self.kind {
            PayloadKind::Other => &self.text,
            _ => &"<redacted>",
        };
        f.debug_struct("Found")
            .field("text", text)
            .field("kind", &self.kind)
            .field("bbox", &self.bbox)
            .finish()
    }
}

/// What a QR code's payload holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PayloadKind {
    /// One account: an `otpauth://` URI.
    Account,
    /// A batch of accounts: an `otpauth-migration://` URI (Google Authenticator's export).
    Batch,
    /// A link to pair with a Twofold server (`twofold+pair://`). Reserved: the pairing protocol
    /// defines what the link holds; until then it is only recognised.
    Pairing,
    /// Anything else: a web address, Wi-Fi settings, text. Not an account.
    Other,
}

/// What to tell a person when an image holds no code that could be read: what to try next.
pub const NOTHING_FOUND: &str = "no QR code found: try a larger capture that holds the whole code, \
     not cropped at its edges, or a sharper, less compressed image";

/// Scheme of pairing links; the server's pairing issue defines the rest of the link.
const PAIRING_SCHEME: &str = "twofold+pair://";

/// What a payload holds, judged by its scheme (case-insensitive, leading spaces ignored).
pub fn classify(text: &str) -> PayloadKind {
    let text = text.trim_start();
    let has_scheme = |scheme: &str| {
        text.get(..scheme.len()).is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    };
    if has_scheme("otpauth://") {
        PayloadKind::Account
    } else if has_scheme("otpauth-migration://") {
        PayloadKind::Batch
    } else if has_scheme(PAIRING_SCHEME) {
        PayloadKind::Pairing
    } else {
        PayloadKind::Other
    }
}

/// What to tell a person when no code was found on the screens: what to change on screen.
pub const NOTHING_ON_SCREEN: &str = "no QR code found on the screen: show the whole code (not \
     covered by another window or scrolled partly out of view), zoom the page in if the code is \
     small, then scan again";

/// What to tell a person whose pasted text holds no link Twofold reads.
pub const NO_LINK: &str = "the pasted text holds no otpauth:// or otpauth-migration:// link: \
     copy the whole link, or a picture of its QR code, and paste again";

/// The links in pasted text (`otpauth://`, `otpauth-migration://`, pairing links), one a line,
/// as if each were a QR code read from an image: a paste and a scan share the preview. A link may
/// follow other words on its line ("Key: otpauth://..."); it runs to the line's end.
pub fn links_in_text(text: &str) -> Vec<Found> {
    const SCHEMES: [&str; 3] = ["otpauth://", "otpauth-migration://", PAIRING_SCHEME];
    let mut found = Vec::new();
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        let start = SCHEMES.iter().filter_map(|scheme| lower.find(scheme)).min();
        if let Some(link) = start.and_then(|at| line.get(at..)).map(str::trim) {
            found.push(Found { text: link.to_owned(), kind: classify(link), bbox: [0; 4] });
        }
    }
    found
}

/// Why an image could not be scanned. "No QR code" is not an error: the scan returns nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The input is empty.
    #[error("the file is empty")]
    Empty,
    /// The bytes are not an image in a format Twofold knows.
    #[error("this is not an image Twofold can read: use a PNG, JPEG, WebP, BMP, GIF or TIFF file")]
    NotAnImage,
    /// An image format Twofold does not read.
    #[error("{format} images are not supported: use a PNG, JPEG, WebP, BMP, GIF or TIFF file")]
    Unsupported {
        /// The format's name.
        format: String,
    },
    /// The image is damaged, cut short or uses a variant of its format that is not read.
    #[error("the {format} image cannot be read, it may be damaged or cut short: {reason}")]
    Damaged {
        /// The format's name.
        format: String,
        /// What the image decoder reported.
        reason: String,
    },
    /// The image is larger than the limits against decompression bombs.
    #[error(
        "the image is {width} × {height} pixels, larger than Twofold reads (at most {MAX_SIDE} \
         pixels a side and {} megapixels): capture a smaller area",
        MAX_PIXELS / 1_000_000
    )]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The image has no pixels.
    #[error("the image is {width} × {height} pixels: there is nothing to scan")]
    NoPixels {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A raw pixel buffer whose length does not match its dimensions.
    #[error(
        "the pixel buffer holds {length} bytes, but a {width} × {height} RGBA image needs \
         {expected}"
    )]
    BufferSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The buffer's length in bytes.
        length: usize,
        /// The length the dimensions call for.
        expected: u64,
    },
}

/// Every distinct QR code in an image file (PNG, JPEG, WebP, BMP, GIF's first frame, TIFF), in
/// reading order; empty when there is none.
pub fn scan_image_bytes(bytes: &[u8]) -> Result<Vec<Found>, QrError> {
    let image = load(bytes)?;
    Ok(scan_dynamic(&image, Passes::ALL))
}

/// Every distinct QR code in a raw RGBA buffer (8 bits a channel, rows top to bottom, no
/// padding), as a screen capture or the clipboard gives it; empty when there is none.
pub fn scan_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<Found>, QrError> {
    check_size(width, height)?;
    let expected = u64::from(width) * u64::from(height) * 4;
    if rgba.len() as u64 != expected {
        return Err(QrError::BufferSize { width, height, length: rgba.len(), expected });
    }
    Ok(scan_rgba_with(width, height, rgba, Passes::ALL))
}

/// Adds to `found` the codes of `more` it does not hold yet: the same code on two screens (a
/// mirrored display) or in two files is one code.
pub fn add_distinct(found: &mut Vec<Found>, more: Vec<Found>) {
    for code in more {
        if !found.iter().any(|seen| seen.text == code.text) {
            found.push(code);
        }
    }
}

/// Refuses images with no pixels or past the size limits.
fn check_size(width: u32, height: u32) -> Result<(), QrError> {
    if width == 0 || height == 0 {
        return Err(QrError::NoPixels { width, height });
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(QrError::TooLarge { width, height });
    }
    Ok(())
}

/// Decodes an image file, checking its dimensions before its pixels are allocated.
fn load(bytes: &[u8]) -> Result<DynamicImage, QrError> {
    if bytes.is_empty() {
        return Err(QrError::Empty);
    }
    let format = image::guess_format(bytes).map_err(|_| QrError::NotAnImage)?;
    let name = format!("{format:?}").to_uppercase();
    if !matches!(
        format,
        ImageFormat::Png
            | ImageFormat::Jpeg
            | ImageFormat::WebP
            | ImageFormat::Bmp
            | ImageFormat::Gif
            | ImageFormat::Tiff
    ) {
        return Err(QrError::Unsupported { format: name });
    }
    let damaged = |error: image::ImageError| QrError::Damaged {
        format: name.clone(),
        reason: error.to_string(),
    };
    // The reader's default limits bound what reading the header may allocate.
    let decoder =
        ImageReader::with_format(Cursor::new(bytes), format).into_decoder().map_err(damaged)?;
    let (width, height) = decoder.dimensions();
    check_size(width, height)?;
    let mut decoder = decoder;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // RGBA at 16 bits a channel, plus the decoders' own buffers.
    limits.max_alloc = Some(MAX_PIXELS * 8 + (64 << 20));
    decoder.set_limits(limits).map_err(damaged)?;
    DynamicImage::from_decoder(decoder).map_err(|error| match error {
        image::ImageError::Limits(_) => QrError::TooLarge { width, height },
        other => damaged(other),
    })
}

/// Which optional passes run; tests switch one off to show it is needed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Passes {
    /// Composite alpha onto white (off: read the colour channels only, as a naive reader does).
    pub(crate) flatten_alpha: bool,
    pub(crate) inverted: bool,
    pub(crate) alpha_on_black: bool,
    pub(crate) local_threshold: bool,
    pub(crate) crops: bool,
    /// Rescale crops to [`CROP_MODULE`] pixels a module (off: crops at their own scale).
    pub(crate) crop_rescale: bool,
    /// Read codes marked by three finders from grey levels first (see `sampling`).
    pub(crate) grey_sampling: bool,
    /// Also search finders against the middle of the local extremes (smoothed codes).
    pub(crate) midrange_finders: bool,
}

impl Passes {
    /// Everything on: what the public functions run.
    pub(crate) const ALL: Passes = Passes {
        flatten_alpha: true,
        inverted: true,
        alpha_on_black: true,
        local_threshold: true,
        crops: true,
        crop_rescale: true,
        grey_sampling: true,
        midrange_finders: true,
    };
}

fn scan_dynamic(image: &DynamicImage, passes: Passes) -> Vec<Found> {
    // The common layouts are converted here: `image`'s generic conversion costs as much as
    // decoding the file.
    match image {
        DynamicImage::ImageLuma8(grey) => scan_grey(grey, None, passes),
        DynamicImage::ImageRgb8(rgb) => scan_grey(&gray::from_rgb(rgb), None, passes),
        DynamicImage::ImageRgba8(rgba) => {
            scan_rgba_with(rgba.width(), rgba.height(), rgba.as_raw(), passes)
        }
        other if other.color().has_alpha() => {
            let rgba = other.to_rgba8();
            scan_rgba_with(rgba.width(), rgba.height(), rgba.as_raw(), passes)
        }
        other => scan_grey(&other.to_luma8(), None, passes),
    }
}

/// Scans an RGBA buffer whose length matches its dimensions.
fn scan_rgba_with(width: u32, height: u32, rgba: &[u8], passes: Passes) -> Vec<Found> {
    let on_white = gray::from_rgba(width, height, rgba, 255, passes.flatten_alpha);
    let on_black = (passes.flatten_alpha && gray::has_transparency(rgba))
        .then(|| gray::from_rgba(width, height, rgba, 0, true));
    scan_grey(&on_white, on_black.as_ref(), passes)
}

/// An axis-aligned rectangle in pixels.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

impl Rect {
    /// The bounding box of the points, grown by `margin` on every side.
    fn around(xs: &[f32], ys: &[f32], margin: f32) -> Rect {
        let min = |v: &[f32]| v.iter().copied().fold(f32::INFINITY, f32::min);
        let max = |v: &[f32]| v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        Rect {
            x0: min(xs) - margin,
            y0: min(ys) - margin,
            x1: max(xs) + margin,
            y1: max(ys) + margin,
        }
    }

    fn contains(&self, (x, y): (f32, f32), slack: f32) -> bool {
        x >= self.x0 - slack && x <= self.x1 + slack && y >= self.y0 - slack && y <= self.y1 + slack
    }

    /// Maps from a transformed image back: subtract `pad`, divide by `scale`, add `origin`.
    fn unmap(&self, pad: f32, scale: f32, origin: (f32, f32)) -> Rect {
        Rect {
            x0: (self.x0 - pad) / scale + origin.0,
            y0: (self.y0 - pad) / scale + origin.1,
            x1: (self.x1 - pad) / scale + origin.0,
            y1: (self.y1 - pad) / scale + origin.1,
        }
    }

    fn center(&self) -> (f32, f32) {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }
}

/// What one rqrr run saw: decoded codes, and grids it found but could not decode (with their
/// module size), all in the coordinates of the image it was given.
#[derive(Default)]
struct Detection {
    decoded: Vec<(String, Rect)>,
    failed: Vec<(Rect, f32)>,
}

/// rqrr on a grey image, with its own row-wise threshold.
fn detect_grey(image: &GrayImage) -> Detection {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let pixels = image.as_raw();
    guarded(|| {
        let mut prepared = PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
        read_grids(prepared.detect_grids())
    })
}

/// rqrr on an ink map (non-zero = dark module) of `w × h` pixels.
fn detect_ink(ink: &[u8], w: usize, h: usize) -> Detection {
    guarded(|| {
        let mut prepared = PreparedImage::prepare_from_bitmap(w, h, |x, y| ink[y * w + x] != 0);
        read_grids(prepared.detect_grids())
    })
}

/// Runs one rqrr detection.
///
/// rqrr asserts inside its perspective mapping and can hit that assertion on degenerate finder
/// groups (rqrr issue #54, open for 0.10 and still in 0.11's `geometry.rs`). Its state is local
/// to this call, so a caught panic loses only this run's result; catching it is the last resort
/// that keeps "never panic on input" true until rqrr returns an error there. (The default panic
/// hook still prints the message to stderr; a library must not replace the process's hook.)
fn guarded(run: impl FnOnce() -> Detection) -> Detection {
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_default()
}

/// Decodes every grid rqrr detected, not only the first.
fn read_grids<G: rqrr::BitGrid>(grids: Vec<rqrr::Grid<G>>) -> Detection {
    let mut detection = Detection::default();
    for grid in grids {
        let xs = grid.bounds.map(|p| p.x as f32);
        let ys = grid.bounds.map(|p| p.y as f32);
        let rect = Rect::around(&xs, &ys, 0.0);
        let mut bytes = Vec::new();
        match grid.decode_to(&mut bytes) {
            Ok(_) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                detection.decoded.push((text, rect));
            }
            Err(_) => {
                let modules = grid.grid.size().max(21) as f32;
                detection.failed.push((rect, (rect.x1 - rect.x0) / modules));
            }
        }
    }
    detection
}

/// The state of one scan: what was decoded, and where codes probably are.
struct Scan {
    found: Vec<(String, Rect)>,
    seen: HashSet<String>,
    regions: Vec<Region>,
}

impl Scan {
    /// Records what a run decoded and the grids it could not, mapped to input pixels.
    fn absorb(
        &mut self,
        detection: Detection,
        pad: f32,
        scale: f32,
        origin: (f32, f32),
        light: bool,
    ) {
        for (text, rect) in detection.decoded {
            if self.seen.insert(text.clone()) {
                self.found.push((text, rect.unmap(pad, scale, origin)));
            }
        }
        for (rect, module) in detection.failed {
            let rect = rect.unmap(pad, scale, origin);
            // A failed grid over finders already known is rqrr grouping finders of different
            // codes; one over a known region or a decoded code adds nothing.
            let known = self.regions.iter().any(|region| {
                region.anchors.iter().any(|&anchor| rect.contains(anchor, 0.0))
                    || rect.contains(region.rect.center(), 0.0)
            });
            if !known && !self.explained_at(rect.center(), 0.0) {
                self.regions.push(Region {
                    rect,
                    module: module / scale,
                    light,
                    anchors: vec![rect.center()],
                    complete: false,
                });
            }
        }
    }

    fn explained_at(&self, point: (f32, f32), slack: f32) -> bool {
        self.found.iter().any(|(_, rect)| rect.contains(point, slack))
    }

    fn explained(&self, region: &Region) -> bool {
        region.anchors.iter().all(|&anchor| self.explained_at(anchor, region.module))
    }

    /// Every region is explained by a decoded code: the stopping rule.
    fn done(&self) -> bool {
        self.regions.iter().all(|region| self.explained(region))
    }

    /// Some region of this polarity is not explained yet.
    fn pending(&self, light: bool) -> bool {
        self.regions.iter().any(|region| region.light == light && !self.explained(region))
    }
}

/// The radius of the local threshold of a whole `w × h` image: a code's finder (7 modules) fits
/// well inside, a page's large areas do not.
fn threshold_radius(w: usize, h: usize) -> usize {
    (w.min(h) / 24).clamp(8, 40)
}

/// The integer factor whole-image passes shrink an image by.
fn work_factor(width: u32, height: u32) -> u32 {
    let pixels = u64::from(width) * u64::from(height);
    let mut factor = 1u32;
    while pixels > WORK_PIXELS * u64::from(factor * factor) {
        factor += 1;
    }
    factor
}

/// Runs the passes on a grey image (alpha already composited onto white, and onto black when
/// the image has transparency).
fn scan_grey(full: &GrayImage, on_black: Option<&GrayImage>, passes: Passes) -> Vec<Found> {
    let factor = work_factor(full.width(), full.height());
    let shrunk;
    let work = if factor > 1 {
        shrunk = gray::shrink(full, factor);
        &shrunk
    } else {
        full
    };
    let scale = 1.0 / factor as f32;
    let mut scan = Scan { found: Vec::new(), seen: HashSet::new(), regions: Vec::new() };

    // Where codes probably are, to know when to stop and what to crop. The search reads the
    // full image: shrunk, the 2–3 pixel modules of a 4K or 5K screen blur past recognition.
    let (fw, fh) = (full.width() as usize, full.height() as usize);
    let full_maps = gray::local_threshold(full, threshold_radius(fw, fh));
    // A light code on a transparent background shows only on black: look there too.
    let black_maps = on_black
        .filter(|_| passes.alpha_on_black)
        .map(|black| gray::local_threshold(black, threshold_radius(fw, fh)));
    let mut inks = vec![(&full_maps.dark, false), (&full_maps.light, true)];
    if let Some(black) = &black_maps {
        inks.extend([(&black.dark, false), (&black.light, true)]);
    }
    for (ink, light) in inks {
        scan.regions.extend(finder::regions(&finder::find(ink, fw, fh), light));
    }
    drop(black_maps);
    tracing::debug!(width = fw, height = fh, factor, regions = ?scan.regions, "qr: candidate regions");

    // Codes whose three finders were found are cut out and read first: rqrr's cost grows with the
    // image it is given and with every false finder in it (text, icons), a crop's does not.
    let mut crops = MAX_CROPS;
    if passes.crops {
        crop_pass(&mut scan, full, passes, true, &mut crops);
        if !scan.regions.is_empty() && scan.done() {
            return last_resort(scan, full, passes, &mut crops);
        }
    }

    // Pass 1: as is.
    scan.absorb(detect_grey(work), 0.0, scale, (0.0, 0.0), false);

    if scan.done() {
        return last_resort(scan, full, passes, &mut crops);
    }

    if passes.inverted && scan.pending(true) {
        scan.absorb(detect_grey(&gray::inverted(work)), 0.0, scale, (0.0, 0.0), true);
        if scan.done() {
            return last_resort(scan, full, passes, &mut crops);
        }
    }

    if let Some(black) = on_black.filter(|_| passes.alpha_on_black) {
        let black = gray::shrink(black, factor);
        scan.absorb(detect_grey(&black), 0.0, scale, (0.0, 0.0), false);
        scan.absorb(detect_grey(&gray::inverted(&black)), 0.0, scale, (0.0, 0.0), true);
        if scan.done() {
            return last_resort(scan, full, passes, &mut crops);
        }
    }

    if passes.local_threshold {
        let shrunk_maps;
        let (maps, w, h) = if factor == 1 {
            (&full_maps, fw, fh)
        } else {
            let (w, h) = (work.width() as usize, work.height() as usize);
            shrunk_maps = gray::local_threshold(work, threshold_radius(w, h));
            (&shrunk_maps, w, h)
        };
        for (ink, light) in [(&maps.dark, false), (&maps.light, true)] {
            if scan.pending(light) {
                scan.absorb(detect_ink(ink, w, h), 0.0, scale, (0.0, 0.0), light);
            }
        }
        if scan.done() {
            return last_resort(scan, full, passes, &mut crops);
        }
    }

    if passes.crops {
        crop_pass(&mut scan, full, passes, false, &mut crops);
    }
    last_resort(scan, full, passes, &mut crops)
}

/// When the passes found nothing, or left a region unexplained: searches finders again against the middle of the local
/// extremes (see `gray::midrange_threshold`), crops the codes marked by three of them, and
/// finishes.
///
/// A smoothed code (shown smaller or larger than drawn, fractional scaling, a blur) has ramps
/// for edges, which the local mean cuts off-centre, so its finders may not be found at all. This
/// search finds them, but costs as much as the first one on every image, so it runs only when
/// nothing was read or something finder-like is left unexplained: a second, smoothed code beside
/// one that was read is found when the first search saw at least two of its finders.
fn last_resort(mut scan: Scan, full: &GrayImage, passes: Passes, crops: &mut usize) -> Vec<Found> {
    if passes.midrange_finders && passes.crops && (scan.found.is_empty() || !scan.done()) {
        let (fw, fh) = (full.width() as usize, full.height() as usize);
        let maps = gray::midrange_threshold(full, threshold_radius(fw, fh));
        let mut new = Vec::new();
        for (ink, light) in [(&maps.dark, false), (&maps.light, true)] {
            for region in finder::regions(&finder::find(ink, fw, fh), light) {
                // Three finders or nothing: pairs in text would cost crops and read nothing. A
                // code known by only two finders is cropped again: with all three it can be read
                // from grey levels.
                let known = scan.regions.iter().any(|known| {
                    known.complete
                        && known.light == light
                        && region.anchors.iter().all(|&anchor| known.rect.contains(anchor, 0.0))
                });
                if region.complete && !known {
                    new.push(region);
                }
            }
        }
        drop(maps);
        // Only the new regions: the known ones were cropped already.
        for region in new {
            if *crops == 0 {
                break;
            }
            if !scan.explained(&region) {
                *crops -= 1;
                crop_region(&mut scan, full, &region, passes);
            }
            scan.regions.push(region);
        }
    }
    finish(scan, full)
}
/// Crops of the regions no decoded code explains: those marked by three finders (`complete`),
/// or the others; at most `budget` crops, which this spends.
fn crop_pass(
    scan: &mut Scan,
    full: &GrayImage,
    passes: Passes,
    complete: bool,
    budget: &mut usize,
) {
    let pending: Vec<Region> = scan
        .regions
        .iter()
        .filter(|region| region.complete == complete && !scan.explained(region))
        .cloned()
        .collect();
    for region in pending {
        if *budget == 0 {
            return;
        }
        if scan.explained(&region) {
            continue;
        }
        *budget -= 1;
        crop_region(scan, full, &region, passes);
    }
}

/// Decodes one region: cut at full resolution half a module outside the code (so a panel a
/// module away stays out), turned dark-on-light, rescaled to [`CROP_MODULE`] pixels a module,
/// padded with white, then both thresholds.
fn crop_region(scan: &mut Scan, full: &GrayImage, region: &Region, passes: Passes) {
    tracing::debug!(?region, "qr: crop");
    if passes.grey_sampling
        && region.complete
        && let Some(read) = sampling::read(full, &region.anchors, region.module, region.light)
    {
        let detection = Detection { decoded: vec![read], failed: Vec::new() };
        scan.absorb(detection, 0.0, 1.0, (0.0, 0.0), region.light);
        if scan.explained(region) {
            return;
        }
    }
    let module = region.module.max(1.0);
    let margin = module * 0.5;
    let x0 = (region.rect.x0 - margin).max(0.0).floor() as u32;
    let y0 = (region.rect.y0 - margin).max(0.0).floor() as u32;
    let x1 = (region.rect.x1 + margin).max(0.0).ceil() as u32;
    let y1 = (region.rect.y1 + margin).max(0.0).ceil() as u32;
    let mut cut = gray::crop(full, x0, y0, x1, y1);
    if cut.width() < 8 || cut.height() < 8 {
        return;
    }
    if region.light {
        cut = gray::inverted(&cut);
    }
    let origin = (x0 as f32, y0 as f32);
    let area = cut.width() as f32 * cut.height() as f32;
    let normal = CROP_MODULE / module;
    let scales = [1.0f32, normal]
        .into_iter()
        .enumerate()
        .filter(|&(i, scale)| {
            let rescale = i == 1;
            (!rescale || (passes.crop_rescale && (scale - 1.0).abs() > 0.01))
                && area * scale * scale <= CROP_PIXELS as f32
        })
        .map(|(_, scale)| scale);
    for scale in scales {
        let resized = if scale == 1.0 {
            cut.clone()
        } else {
            gray::rescaled(&cut, scale, FilterType::Triangle)
        };
        let pad = (module * scale * 4.0).ceil().max(8.0);
        let image = gray::padded(&resized, pad as u32);
        scan.absorb(detect_grey(&image), pad, scale, origin, region.light);
        if scan.explained(region) {
            return;
        }
        if passes.local_threshold {
            let (w, h) = (image.width() as usize, image.height() as usize);
            let radius = ((module * scale * 4.0) as usize).clamp(8, 48);
            let maps = gray::local_threshold(&image, radius);
            scan.absorb(detect_ink(&maps.dark, w, h), pad, scale, origin, region.light);
            if scan.explained(region) {
                return;
            }
        }
    }
}

/// The codes found, in reading order, with their boxes clamped to the image.
fn finish(scan: Scan, full: &GrayImage) -> Vec<Found> {
    let (width, height) = (full.width() as f32, full.height() as f32);
    let mut found: Vec<Found> = scan
        .found
        .into_iter()
        .map(|(text, rect)| {
            let x0 = rect.x0.clamp(0.0, width).floor();
            let y0 = rect.y0.clamp(0.0, height).floor();
            let x1 = rect.x1.clamp(0.0, width).ceil();
            let y1 = rect.y1.clamp(0.0, height).ceil();
            Found {
                kind: classify(&text),
                text,
                bbox: [x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32],
            }
        })
        .collect();
    found.sort_by_key(|found| (found.bbox[1], found.bbox[0]));
    found
}
