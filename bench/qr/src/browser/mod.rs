//! The rendered corpus (issue 19): pages a person meets a setup code on, drawn by headless
//! Chromium at device pixel ratios 1 to 2 in light and dark themes, the codes as `<img>` (natural
//! or scaled down by CSS), inline SVG and canvas, saved as the browser's PNG and as JPEG. The
//! ground truth is the payloads put in each page. The pages are kept in `pages/` beside the
//! images, to open one a decoder missed.
//!
//! Categories are how the code is drawn (`img`, `img-scaled-down`, `svg`, `canvas`,
//! `migration`: four large export codes side by side, `negative`: pages with no code); the page,
//! theme, device pixel ratio and file format are facets, scored on their own.

mod chromium;
mod drawing;
mod pages;

use std::path::Path;

use anyhow::{Context, Result};

use crate::generate::{Corpus, Format};
use crate::manifest::Manifest;
use crate::payload::{self, Payload};
use crate::rng::Rng;
use chromium::Chromium;
use drawing::{Code, Drawing};

/// Device pixel ratios, each with the windows (CSS pixels) laptops and monitors give at it.
const SCREENS: [(f32, &[(u32, u32)]); 5] = [
    (1.0, &[(1366, 768), (1280, 800)]),
    (1.25, &[(1536, 864), (1280, 720)]),
    (1.5, &[(1280, 720), (1280, 800)]),
    (1.75, &[(1463, 823), (1280, 800)]),
    (2.0, &[(1280, 800), (1440, 900)]),
];

/// JPEG qualities the screenshots are also saved at, in turn.
const JPEG_QUALITIES: [u8; 4] = [60, 70, 80, 90];

/// How each kind of page draws its code.
fn drawings_of(page: &str) -> &'static [&'static str] {
    match page {
        "bank" => &["img", "svg", "canvas"],
        "chat" => &["img-scaled-down", "canvas", "img"],
        "cloud" => &["svg", "canvas", "img"],
        "email" => &["img-scaled-down", "img"],
        _ => &["img-scaled-down", "svg", "img"],
    }
}

/// Ink and paper of a code on a page: black on white (in a white box on dark pages too), or in
/// dark mode, light modules on the card's colour.
fn colours(dark: bool, inverted: bool) -> (&'static str, &'static str) {
    match (dark, inverted) {
        (true, true) => ("#e6e8ec", "#1d2129"),
        _ => ("#000000", "#ffffff"),
    }
}

/// What one screenshot holds.
struct Render {
    category: &'static str,
    page: String,
    html: String,
    payloads: Vec<String>,
    note: String,
}

/// Renders every page into `dir` (created if missing) with `chromium` and returns the manifest;
/// with `limit`, only that many pages, spread evenly over the list so every category, theme and
/// device pixel ratio still appears (a quick run on a loaded machine).
pub fn render(dir: &Path, chromium: &Path, limit: Option<usize>) -> Result<Manifest> {
    let pages_dir = dir.join("pages");
    std::fs::create_dir_all(&pages_dir)
        .with_context(|| format!("cannot create {}", pages_dir.display()))?;
    let profile = tempdir_in(dir)?;
    let browser = Chromium::new(chromium, profile.clone())?;
    eprintln!("rendering with {}", browser.version()?);
    let mut corpus = Corpus::new(dir, "rendered by headless Chromium (issue 19)");
    let mut rng = Rng::new(0x5EED_C0DE_0019);
    let mut renders = Vec::new();
    for kind in pages::KINDS {
        for (d, _) in SCREENS.iter().enumerate() {
            for dark in [false, true] {
                for variant in 0..2 {
                    let drawings = drawings_of(kind);
                    let drawing = drawings[(d + usize::from(dark) + variant) % drawings.len()];
                    // Help pages link the app stores beside the account's code.
                    let count = if kind == "help" && variant == 1 { 2 } else { 1 };
                    renders.push((d, dark, setup_page(kind, drawing, dark, count, &mut rng)?));
                }
            }
        }
    }
    for (d, _) in SCREENS.iter().enumerate() {
        for dark in [false, true] {
            renders.push((d, dark, transfer_page(dark, &mut rng)?));
        }
    }
    for (i, kind) in pages::KINDS.iter().enumerate() {
        for dark in [false, true] {
            let html = pages::page(kind, dark, &[], &mut rng);
            let render = Render {
                category: "negative",
                page: (*kind).to_owned(),
                html,
                payloads: Vec::new(),
                note: "no code".to_owned(),
            };
            renders.push(((i + usize::from(dark)) % SCREENS.len(), dark, render));
        }
    }
    let step = limit.map_or(1, |limit| renders.len().div_ceil(limit.max(1)));
    let mut jpeg = JPEG_QUALITIES.iter().cycle();
    for (i, (d, dark, render)) in renders.into_iter().enumerate().step_by(step) {
        let (dpr, windows) = SCREENS[d];
        let window = *rng.pick(windows);
        let html_path = pages_dir.join(format!("page-{i:03}.html"));
        std::fs::write(&html_path, &render.html)
            .with_context(|| format!("cannot write {}", html_path.display()))?;
        let shot = profile.join("shot.png");
        let image = screenshot_read(&browser, &html_path, &shot, window, dpr)?;
        let theme = if dark { "dark" } else { "light" };
        let note = format!(
            "{} page, {theme}, {}x{} at DPR {dpr}, {}, pages/page-{i:03}.html",
            render.page, window.0, window.1, render.note
        );
        let quality = *jpeg.next().unwrap_or(&80);
        for format in [Format::Png, Format::Jpeg(quality)] {
            let format_name = match format {
                Format::Jpeg(q) => format!("jpeg q{q}"),
                _ => "png".to_owned(),
            };
            let entry = corpus.add(
                render.category,
                format!("{note}, {format_name}"),
                &image,
                format,
                render.payloads.clone(),
            )?;
            entry.facets = [
                ("page", render.page.clone()),
                ("theme", theme.to_owned()),
                ("dpr", dpr.to_string()),
                ("format", if matches!(format, Format::Png) { "png" } else { "jpeg" }.to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        }
        if i % 10 == 9 {
            eprintln!("rendered {} pages", i + 1);
        }
    }
    std::fs::remove_dir_all(&profile)
        .with_context(|| format!("cannot remove {}", profile.display()))?;
    corpus.finish()
}

/// Times a screenshot is taken before giving up on a page.
const ATTEMPTS: u32 = 3;

/// Screenshots `page` and reads the image. On a loaded machine Chromium now and then leaves its
/// PNG cut short when it exits, so a screenshot that does not read is taken again.
fn screenshot_read(
    browser: &Chromium,
    page: &Path,
    shot: &Path,
    window: (u32, u32),
    dpr: f32,
) -> Result<image::RgbaImage> {
    let mut attempt = 1;
    loop {
        browser.screenshot(page, shot, window, dpr)?;
        match image::open(shot) {
            Ok(image) => return Ok(image.into_rgba8()),
            Err(error) if attempt < ATTEMPTS => {
                eprintln!("{}: {error}, taking it again", shot.display());
                attempt += 1;
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", shot.display()));
            }
        }
    }
}

/// A fresh directory for the browser's profile and screenshots inside `dir`.
fn tempdir_in(dir: &Path) -> Result<std::path::PathBuf> {
    let path = dir.join(".chromium");
    if path.exists() {
        std::fs::remove_dir_all(&path)
            .with_context(|| format!("cannot remove {}", path.display()))?;
    }
    std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(path)
}

/// A page of `kind` holding `count` codes drawn as `drawing`.
fn setup_page(
    kind: &str,
    drawing: &'static str,
    dark: bool,
    count: usize,
    rng: &mut Rng,
) -> Result<Render> {
    let inverted = dark && drawing != "img-scaled-down" && rng.chance(0.5);
    let (ink, paper) = colours(dark, inverted);
    let mut codes = Vec::new();
    let mut payloads = Vec::new();
    let mut notes = Vec::new();
    for n in 0..count {
        let payload = if n == 0 { Payload::typical(rng) } else { Payload::Url };
        let code = Code::new(payload.text(rng))?;
        let shape = Drawing::pick(drawing, code.modules(), rng);
        codes.push((code.html(shape, ink, paper, &format!("qr{n}"))?, inverted));
        notes.push(format!("v{} {}", (code.size - 17) / 4, shape.describe(code.modules())));
        payloads.push(code.text);
    }
    if inverted {
        notes.push("light on dark".to_owned());
    }
    Ok(Render {
        category: drawing,
        page: kind.to_owned(),
        html: pages::page(kind, dark, &pages::boxed_all(&codes), rng),
        payloads,
        note: notes.join(", "),
    })
}

/// Four large export codes (versions 10 to 17) side by side.
fn transfer_page(dark: bool, rng: &mut Rng) -> Result<Render> {
    let mut codes = Vec::new();
    let mut payloads = Vec::new();
    let mut notes = Vec::new();
    for n in 0..4 {
        let version = *rng.pick(&[10, 12, 15, 17]);
        let text = payload::batch_uri_for_version(rng, version, qrcode::EcLevel::M)
            .context("an export batch fits a version 10 code")?;
        let code = Code::new(text)?;
        let modules = code.modules();
        let shape = if rng.chance(0.5) {
            Drawing::Img { module: 2 + u32::from(modules < 80) }
        } else {
            Drawing::Svg { shown: (modules as f32 * 2.3) as u32, crisp: false }
        };
        codes.push((code.html(shape, "#000000", "#ffffff", &format!("qr{n}"))?, false));
        notes.push(format!("v{} {}", (code.size - 17) / 4, shape.describe(modules)));
        payloads.push(code.text);
    }
    Ok(Render {
        category: "migration",
        page: "transfer".to_owned(),
        html: pages::transfer(dark, &pages::boxed_all(&codes), rng),
        payloads,
        note: notes.join("; "),
    })
}
