//! Finder-like patterns: the three 7 × 7 squares (ring, gap, 3 × 3 core; runs of 1:1:3:1:1 across
//! the centre) that mark a QR code's corners, found in a binarised image independently of rqrr.
//!
//! rqrr does not expose its own finder search, and the pipeline needs one to know when to stop (are
//! there finder-like patterns that no decoded code explains?) and where to crop (a code whose
//! finders are visible but which no whole-image pass decodes). The search reads both polarities,
//! so it sees light-on-dark codes too, and it bounds its work on noise.

use super::Rect;

/// Raw row hits kept before giving up on an image that is mostly noise.
const MAX_HITS: usize = 20_000;
/// Merged finders considered for grouping; more means noise, and grouping is cubic.
const MAX_FINDERS: usize = 160;

/// One finder-like pattern in image pixels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Finder {
    pub(super) x: f32,
    pub(super) y: f32,
    /// Module size in pixels.
    pub(super) module: f32,
    /// Row hits merged into this finder: a true finder's core spans three modules of rows.
    hits: u32,
}

/// Where a code probably is: the finders that point at it and its estimated outline.
#[derive(Debug, Clone)]
pub(super) struct Region {
    /// The estimated outline of the code (finder outer edges included).
    pub(super) rect: Rect,
    /// Module size in pixels.
    pub(super) module: f32,
    /// The code's dark modules are the image's light pixels (dark mode).
    pub(super) light: bool,
    /// Points that a decoded code must cover for the region to count as explained.
    pub(super) anchors: Vec<(f32, f32)>,
    /// Three finders at right angles: much stronger evidence than a pair.
    pub(super) complete: bool,
}

/// Finds finder-like patterns where `ink` (one byte per pixel, non-zero = ink) draws them.
pub(super) fn find(ink: &[u8], width: usize, height: usize) -> Vec<Finder> {
    let mut hits: Vec<Finder> = Vec::new();
    let mut runs: [(usize, usize); 5] = [(0, 0); 5]; // (start, length), the last five runs
    'rows: for y in 0..height {
        let row = &ink[y * width..(y + 1) * width];
        let mut count = 0usize;
        let mut start = 0usize;
        for x in 1..=width {
            let ends = x == width || (row[x] != 0) != (row[x - 1] != 0);
            if !ends {
                continue;
            }
            runs.rotate_left(1);
            runs[4] = (start, x - start);
            count += 1;
            start = x;
            // A finder's row starts and ends with ink: the last run is ink when the one before
            // the current start is.
            if count >= 5
                && row[x - 1] != 0
                && let Some(hit) = check_row(&runs, ink, width, height, y)
            {
                hits.push(hit);
                if hits.len() >= MAX_HITS {
                    break 'rows;
                }
            }
        }
    }
    let mut finders = merge(hits);
    finders.retain(|finder| square(finder, ink, width, height));
    finders
}

/// Whether the 9 × 9 modules around a finder's centre read as one: a 3 × 3 core, a light gap,
/// a ring, and the light separator every QR code has around its finders. Row and column runs
/// alone also match glyphs in text; the whole square almost never does.
fn square(finder: &Finder, ink: &[u8], width: usize, height: usize) -> bool {
    let mut wrong = 0;
    for dy in -4i32..=4 {
        for dx in -4i32..=4 {
            // `x` is measured from pixel edges (the core's run starts at the edge of its first
            // pixel), `y` is a row's index: a point lies in pixel `floor(x)` and row `round(y)`.
            // Rounding `x` too shifts every sample half a pixel right, which at 3-pixel modules
            // lands the gap's samples on the ring and fails a true finder.
            let x = (finder.x + dx as f32 * finder.module).floor();
            let y = (finder.y + dy as f32 * finder.module).round();
            // Outside the image counts as light: a crop's padding, a code at the edge.
            let is_ink = x >= 0.0
                && y >= 0.0
                && (x as usize) < width
                && (y as usize) < height
                && ink[y as usize * width + x as usize] != 0;
            let ring = dx.abs().max(dy.abs());
            if is_ink != (ring <= 1 || ring == 3) {
                wrong += 1;
            }
        }
    }
    wrong <= 6
}

/// Checks five runs for 1:1:3:1:1, then the column through the centre.
fn check_row(
    runs: &[(usize, usize); 5],
    ink: &[u8],
    width: usize,
    height: usize,
    y: usize,
) -> Option<Finder> {
    let lengths = runs.map(|(_, length)| length as f32);
    let total: f32 = lengths.iter().sum();
    if !ratios_match(lengths, total) {
        return None;
    }
    let (core_start, core_length) = runs[2];
    let x = core_start + core_length / 2;
    let vertical = column_runs(ink, width, height, x, y, total as usize * 2)?;
    let vertical_total: f32 = vertical.iter().sum();
    if !ratios_match(vertical, vertical_total)
        || vertical_total < total * 0.6
        || vertical_total > total * 1.6
    {
        return None;
    }
    Some(Finder {
        x: core_start as f32 + lengths[2] / 2.0,
        y: y as f32,
        module: (total + vertical_total) / 14.0,
        hits: 1,
    })
}

/// Whether five run lengths read 1:1:3:1:1 within what resampling and JPEG do to edges.
fn ratios_match(lengths: [f32; 5], total: f32) -> bool {
    let module = total / 7.0;
    if module < 1.5 {
        return false;
    }
    let near = |length: f32, modules: f32| (length - modules * module).abs() <= module * 0.6 + 0.5;
    near(lengths[0], 1.0)
        && near(lengths[1], 1.0)
        && near(lengths[2], 3.0)
        && near(lengths[3], 1.0)
        && near(lengths[4], 1.0)
}

/// The five runs of the column through (x, y), centred on the run holding (x, y); `limit` bounds
/// the walk in both directions.
fn column_runs(
    ink: &[u8],
    width: usize,
    height: usize,
    x: usize,
    y: usize,
    limit: usize,
) -> Option<[f32; 5]> {
    let at = |row: usize| ink[row * width + x] != 0;
    if !at(y) {
        return None;
    }
    let mut up = [0usize; 3];
    let mut row = y;
    let mut phase = 0;
    let mut walked = 0;
    loop {
        let expect_ink = phase % 2 == 0;
        if at(row) == expect_ink {
            up[phase] += 1;
        } else {
            phase += 1;
            if phase == 3 {
                break;
            }
            up[phase] += 1;
        }
        walked += 1;
        if row == 0 || walked > limit {
            return None;
        }
        row -= 1;
    }
    let mut down = [0usize; 3];
    let mut row = y + 1;
    let mut phase = 0;
    let mut walked = 0;
    // The core's own pixel at `y` was counted going up.
    loop {
        if row >= height || walked > limit {
            return None;
        }
        let expect_ink = phase % 2 == 0;
        if at(row) == expect_ink {
            down[phase] += 1;
        } else {
            phase += 1;
            if phase == 3 {
                break;
            }
            down[phase] += 1;
        }
        walked += 1;
        row += 1;
    }
    Some([up[2] as f32, up[1] as f32, (up[0] + down[0]) as f32, down[1] as f32, down[2] as f32])
}

/// Merges the row hits of one finder into one, keeping the finders seen on more than one row.
fn merge(hits: Vec<Finder>) -> Vec<Finder> {
    let mut merged: Vec<Finder> = Vec::new();
    for hit in hits {
        let same = merged.iter_mut().find(|finder| {
            (finder.x - hit.x).abs() <= finder.module * 1.5
                && (finder.y - hit.y).abs() <= finder.module * 2.5
                && similar(finder.module, hit.module)
        });
        match same {
            Some(finder) => {
                let n = finder.hits as f32;
                finder.x = (finder.x * n + hit.x) / (n + 1.0);
                finder.y = (finder.y * n + hit.y) / (n + 1.0);
                finder.module = (finder.module * n + hit.module) / (n + 1.0);
                finder.hits += 1;
            }
            None => merged.push(hit),
        }
    }
    merged.retain(|finder| finder.hits >= 2);
    if merged.len() > MAX_FINDERS {
        merged.sort_by_key(|finder| std::cmp::Reverse(finder.hits));
        merged.truncate(MAX_FINDERS);
    }
    merged
}

fn similar(a: f32, b: f32) -> bool {
    a <= b * 1.4 && b <= a * 1.4
}

/// Groups finders into the codes they probably mark: three at right angles first, then pairs on
/// a row, a column or a diagonal (the third finder hidden or missed).
pub(super) fn regions(finders: &[Finder], light: bool) -> Vec<Region> {
    let mut used = vec![false; finders.len()];
    let mut regions = Vec::new();
    for corner in 0..finders.len() {
        if used[corner] {
            continue;
        }
        if let Some((b, c)) = best_triple(finders, &used, corner) {
            let [a, bb, cc] = [finders[corner], finders[b], finders[c]];
            let module = (a.module + bb.module + cc.module) / 3.0;
            let d = (bb.x + cc.x - a.x, bb.y + cc.y - a.y);
            let xs = [a.x, bb.x, cc.x, d.0];
            let ys = [a.y, bb.y, cc.y, d.1];
            regions.push(Region {
                rect: Rect::around(&xs, &ys, module * 3.5),
                module,
                light,
                anchors: vec![(a.x, a.y), (bb.x, bb.y), (cc.x, cc.y)],
                complete: true,
            });
            used[corner] = true;
            used[b] = true;
            used[c] = true;
        }
    }
    for a in 0..finders.len() {
        for b in a + 1..finders.len() {
            if used[a] || used[b] {
                continue;
            }
            let (fa, fb) = (finders[a], finders[b]);
            let Some(rect) = pair_rect(fa, fb) else {
                continue;
            };
            regions.push(Region {
                rect,
                module: (fa.module + fb.module) / 2.0,
                light,
                anchors: vec![(fa.x, fa.y), (fb.x, fb.y)],
                complete: false,
            });
            used[a] = true;
            used[b] = true;
        }
    }
    regions
}

/// The two finders that best make a right-angled, equal-armed corner at `corner`.
fn best_triple(finders: &[Finder], used: &[bool], corner: usize) -> Option<(usize, usize)> {
    let a = finders[corner];
    let mut best: Option<(f32, usize, usize)> = None;
    for b in 0..finders.len() {
        if b == corner || used[b] || !plausible_arm(a, finders[b]) {
            continue;
        }
        for c in b + 1..finders.len() {
            if c == corner || used[c] || !plausible_arm(a, finders[c]) {
                continue;
            }
            let (ab, ac) = (arm(a, finders[b]), arm(a, finders[c]));
            let (lb, lc) = (ab.0.hypot(ab.1), ac.0.hypot(ac.1));
            let cosine = (ab.0 * ac.0 + ab.1 * ac.1) / (lb * lc);
            let skew = (lb - lc).abs() / lb.max(lc);
            if cosine.abs() > 0.2 || skew > 0.25 {
                continue;
            }
            let score = cosine.abs() + skew;
            if best.is_none_or(|(s, _, _)| score < s) {
                best = Some((score, b, c));
            }
        }
    }
    best.map(|(_, b, c)| (b, c))
}

fn arm(from: Finder, to: Finder) -> (f32, f32) {
    (to.x - from.x, to.y - from.y)
}

/// Whether two finders could be corners of one code: similar modules, 14 to 170 modules apart
/// (versions 1 to 40).
fn plausible_arm(a: Finder, b: Finder) -> bool {
    if !similar(a.module, b.module) {
        return false;
    }
    let module = (a.module + b.module) / 2.0;
    let (dx, dy) = arm(a, b);
    let distance = dx.hypot(dy);
    distance >= module * 12.0 && distance <= module * 175.0
}

/// The area a code marked by only two of its finders can cover.
fn pair_rect(a: Finder, b: Finder) -> Option<Rect> {
    if !plausible_arm(a, b) {
        return None;
    }
    let module = (a.module + b.module) / 2.0;
    let (dx, dy) = arm(a, b);
    let (ax, ay) = (dx.abs(), dy.abs());
    let margin = module * 3.5;
    let xs = [a.x, b.x];
    let ys = [a.y, b.y];
    if ay <= ax * 0.1 {
        // On a row: the code lies above or below.
        Some(Rect::around(&xs, &[a.y - ax, a.y + ax], margin))
    } else if ax <= ay * 0.1 {
        Some(Rect::around(&[a.x - ay, a.x + ay], &ys, margin))
    } else if (ax - ay).abs() <= ax.max(ay) * 0.1 {
        Some(Rect::around(&xs, &ys, margin))
    } else {
        None
    }
}
