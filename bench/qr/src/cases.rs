//! The cases of the corpus, one function per category of the issue. Each category draws from its
//! own fixed seed, so changing one category leaves the others' bytes as they were.

use anyhow::{Result, bail};
use image::imageops::{self, FilterType};
use image::{Rgba, RgbaImage};
use qrcode::EcLevel;

use crate::draw::{self, Rect, Theme, rgb};
use crate::generate::{Corpus, Format};
use crate::payload::{self, Payload};
use crate::rng::Rng;
use crate::symbol::{self, Style};

/// Draws and writes the images of one category.
type Category = fn(&mut Corpus<'_>, &mut Rng) -> Result<()>;

/// Writes every category.
pub fn all(corpus: &mut Corpus<'_>) -> Result<()> {
    let categories: [Category; 14] = [
        plain,
        dark,
        transparent,
        hidpi,
        jpeg,
        small_modules,
        tight_quiet_zone,
        dimmed_modal,
        multi,
        migration_large,
        logo,
        large_screen,
        combined,
        negative,
    ];
    for (seed, category) in (1u64..).zip(categories) {
        category(corpus, &mut Rng::new(0x5EED_0000_0000 | seed))?;
    }
    Ok(())
}

/// Dark and light module colours of a code shown on `theme`: black on white, or (inverted, as
/// dark-mode pages draw them) the page's text colour on its card colour.
fn colours(theme: &Theme, inverted: bool) -> (Rgba<u8>, Rgba<u8>) {
    if inverted { (theme.text, theme.card) } else { (rgb(0x000000), rgb(0xffffff)) }
}

/// A code style with the given module size, quiet zone and colours, level M.
fn style(module: u32, quiet: u32, (dark, light): (Rgba<u8>, Rgba<u8>)) -> Style {
    Style { module, quiet, dark, light, ..Style::standard() }
}

/// "light" or "dark", for notes.
fn theme_name(theme: &Theme) -> &'static str {
    if theme.dark { "dark" } else { "light" }
}

/// A `w`×`h` screenshot whose page shows `code` on a setup card somewhere in its main column.
fn page_with_code(
    rng: &mut Rng,
    w: u32,
    h: u32,
    theme: &Theme,
    scale: f32,
    code: &RgbaImage,
) -> Result<RgbaImage> {
    let (mut img, main) = draw::screenshot(w, h, theme, scale, rng);
    let (cw, ch) = draw::setup_card_size(code.width(), code.height(), scale);
    if cw > main.w || ch > main.h {
        bail!(
            "a {cw}x{ch} card does not fit the {}x{} main column of a {w}x{h} page",
            main.w,
            main.h
        );
    }
    let x = main.x + rng.range(0, (main.w - cw).min(main.w / 3));
    let y = main.y + rng.range(0, main.h - ch);
    draw::setup_card(&mut img, rng, theme, scale, x, y, code)?;
    Ok(img)
}

/// Ordinary codes on ordinary light pages: the baseline every decoder should read.
fn plain(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    let screens = [(1366, 768), (1920, 1080), (1920, 1080), (2560, 1440)];
    for i in 0..8 {
        let (w, h) = screens[i % screens.len()];
        // A small screen shows a single account: a batch's code would not fit its page.
        let payload = if h < 1000 { Payload::Account } else { Payload::typical(rng) };
        let text = payload.text(rng);
        let module = if h < 1000 { 3 } else { rng.range(3, 5) };
        let code = symbol::render(&text, &style(module, 4, colours(&Theme::light(), false)))?;
        let img = page_with_code(rng, w, h, &Theme::light(), 1.0, &code)?;
        corpus.add(
            "plain",
            format!("{w}x{h}, {module} px modules"),
            &img,
            Format::Png,
            vec![text],
        )?;
    }
    Ok(())
}

/// Dark mode: light-on-dark codes on dark pages, dark pages with an ordinary code, and saved
/// dark-mode codes on their own.
fn dark(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    let theme = Theme::dark();
    let inks = [theme.text, rgb(0xffffff), rgb(0xc9d1d9), rgb(0xadbac7)];
    for i in 0..12 {
        let text = Payload::typical(rng).text(rng);
        let module = rng.range(3, 6);
        let ink = inks[i % inks.len()];
        let code = symbol::render(&text, &style(module, rng.range(2, 4), (ink, theme.card)))?;
        let img = page_with_code(rng, 1920, 1080, &theme, 1.0, &code)?;
        corpus.add(
            "dark",
            format!("inverted code on a dark page, {module} px modules"),
            &img,
            Format::Png,
            vec![text],
        )?;
    }
    for _ in 0..4 {
        let text = Payload::typical(rng).text(rng);
        let code = symbol::render(&text, &style(4, 4, colours(&theme, false)))?;
        let img = page_with_code(rng, 1920, 1080, &theme, 1.0, &code)?;
        corpus.add(
            "dark",
            "black-on-white code on a dark page".into(),
            &img,
            Format::Png,
            vec![text],
        )?;
    }
    for _ in 0..4 {
        let text = Payload::typical(rng).text(rng);
        let module = rng.range(4, 8);
        let code = symbol::render(&text, &style(module, 4, (rgb(0xffffff), rgb(0x000000))))?;
        corpus.add(
            "dark",
            format!("saved white-on-black code, {module} px modules"),
            &code,
            Format::Png,
            vec![text],
        )?;
    }
    Ok(())
}

/// Codes saved with a transparent background whose hidden colour is black: flattened naively,
/// the whole picture turns black.
fn transparent(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    let clear = Rgba([0, 0, 0, 0]);
    for i in 0..12 {
        let text = Payload::typical(rng).text(rng);
        let module = rng.range(3, 10);
        let quiet = rng.range(0, 4);
        let ink = if i % 3 == 2 { rgb(0x222222) } else { rgb(0x000000) };
        let mut code = symbol::render(&text, &style(module, quiet, (ink, clear)))?;
        let mut note = format!("{module} px modules, quiet zone {quiet}");
        if i % 4 == 3 {
            // Resampled, as a page scaling the picture would: edges get partial alpha.
            let side = code.width() * 3 / 2;
            code = imageops::resize(&code, side, side, FilterType::Triangle);
            note.push_str(", scaled 1.5x bilinear");
        }
        let format = if i % 3 == 1 { Format::Webp } else { Format::Png };
        corpus.add("transparent", note, &code, format, vec![text])?;
    }
    Ok(())
}

/// HiDPI: desktop scale 1.25, 1.5 and 1.75 with bilinear or bicubic resampling, applied either to
/// the code's picture (the browser scaling an image) or to the whole screenshot of a 1440p screen.
fn hidpi(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    let filters = [(FilterType::Triangle, "bilinear"), (FilterType::CatmullRom, "bicubic")];
    for theme in [Theme::light(), Theme::dark()] {
        for scale in [1.25f32, 1.5, 1.75] {
            for &(filter, filter_name) in &filters {
                let text = Payload::typical(rng).text(rng);
                let (dark, light) = colours(&theme, theme.dark);
                // The code's own picture scaled inside an unscaled page.
                let module = rng.range(2, 4);
                let code = symbol::render(&text, &style(module, 4, (dark, light)))?;
                let side = (code.width() as f32 * scale).round() as u32;
                let code = imageops::resize(&code, side, side, filter);
                let img = page_with_code(rng, 1920, 1080, &theme, 1.0, &code)?;
                let note = format!(
                    "{} page, code picture ({module} px modules) scaled {scale} {filter_name}",
                    theme_name(&theme)
                );
                corpus.add("hidpi", note, &img, Format::Png, vec![text])?;
                // The whole screenshot scaled from its logical size.
                let text = Payload::typical(rng).text(rng);
                let module = rng.range(3, 4);
                let code = symbol::render(&text, &style(module, 4, (dark, light)))?;
                let (lw, lh) = ((2560.0 / scale).round() as u32, (1440.0 / scale).round() as u32);
                let logical = page_with_code(rng, lw, lh, &theme, 1.0, &code)?;
                let img = imageops::resize(&logical, 2560, 1440, filter);
                let note = format!(
                    "{} page {lw}x{lh} ({module} px modules) scaled {scale} {filter_name}",
                    theme_name(&theme)
                );
                corpus.add("hidpi", note, &img, Format::Png, vec![text])?;
            }
        }
    }
    Ok(())
}

/// JPEG screenshots, quality 50 to 90, light and dark (the dark ones are what a naive decoder
/// spends seconds on).
fn jpeg(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    for quality in [50u8, 60, 70, 80, 90] {
        for theme in [Theme::light(), Theme::dark()] {
            for (w, h, module) in [(1920, 1080, 4), (2560, 1440, 3)] {
                let text = Payload::typical(rng).text(rng);
                let code = symbol::render(&text, &style(module, 4, colours(&theme, theme.dark)))?;
                let img = page_with_code(rng, w, h, &theme, 1.0, &code)?;
                let note = format!(
                    "{} page {w}x{h}, {module} px modules, quality {quality}",
                    theme_name(&theme)
                );
                corpus.add("jpeg", note, &img, Format::Jpeg(quality), vec![text])?;
            }
        }
    }
    Ok(())
}

/// Modules of 2 px: accounts and small batches drawn at the smallest size a page uses.
fn small_modules(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    for i in 0..12 {
        let theme = if i % 2 == 0 { Theme::light() } else { Theme::dark() };
        let payload =
            if i % 3 == 2 { Payload::Batch(rng.range(2, 4) as usize) } else { Payload::Account };
        let text = payload.text(rng);
        let quiet = if i % 4 < 2 { 4 } else { 2 };
        let code = symbol::render(&text, &style(2, quiet, colours(&theme, theme.dark)))?;
        let img = page_with_code(rng, 1920, 1080, &theme, 1.0, &code)?;
        let version = symbol::version_of(&text, EcLevel::M).unwrap_or(0);
        let format = if i >= 10 { Format::Jpeg(90) } else { Format::Png };
        let note = format!(
            "{} page, 2 px modules, version {version}, quiet zone {quiet}",
            theme_name(&theme)
        );
        corpus.add("small-modules", note, &img, format, vec![text])?;
    }
    Ok(())
}

/// A quiet zone of 1 or 2 modules, the code drawn right against a border, a panel or text.
fn tight_quiet_zone(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    for theme in [Theme::light(), Theme::dark()] {
        for quiet in [1, 2] {
            for against in ["border", "panel", "text"] {
                let text = Payload::typical(rng).text(rng);
                let module = rng.range(3, 5);
                let (dark, light) = colours(&theme, theme.dark);
                let code = symbol::render(&text, &style(module, quiet, (dark, light)))?;
                let (mut img, main) = draw::screenshot(1920, 1080, &theme, 1.0, rng);
                let x = main.x + rng.range(80, main.w / 3);
                let y = main.y + rng.range(60, main.h.saturating_sub(code.height() + 60).max(61));
                let area = Rect::new(x, y, code.width(), code.height());
                match against {
                    "border" => {
                        let at = draw::paste(&mut img, &code, x, y)?;
                        draw::outline(&mut img, at.outset(2), 2, dark);
                    }
                    "panel" => {
                        // The code's light margin is all that separates it from a contrasting panel.
                        let panel = if theme.dark { rgb(0x8b949e) } else { rgb(0x2d3748) };
                        draw::fill(&mut img, area.outset(rng.range(40, 120)), panel);
                        draw::paste(&mut img, &code, x, y)?;
                    }
                    _ => {
                        draw::paste(&mut img, &code, x, y)?;
                        let line = module * 3;
                        let left = Rect::new(x.saturating_sub(300), y, 300, area.h);
                        let right = Rect::new(area.right(), y, 300, area.h);
                        draw::paragraph(&mut img, rng, left, line, dark);
                        draw::paragraph(&mut img, rng, right, line, dark);
                        draw::text_line(&mut img, rng, x, area.bottom(), area.w, line, dark);
                        draw::text_line(
                            &mut img,
                            rng,
                            x,
                            y.saturating_sub(line),
                            area.w,
                            line,
                            dark,
                        );
                    }
                }
                let note = format!(
                    "{} page, quiet zone {quiet} against {against}, {module} px modules",
                    theme_name(&theme)
                );
                corpus.add("tight-quiet-zone", note, &img, Format::Png, vec![text])?;
            }
        }
    }
    // Against text on all sides, light page, JPEG as people share screenshots.
    for quiet in [1, 2, 1, 2, 1, 2] {
        let text = payload::account_uri(rng);
        let code = symbol::render(&text, &style(4, quiet, colours(&Theme::light(), false)))?;
        let (mut img, main) = draw::screenshot(1920, 1080, &Theme::light(), 1.0, rng);
        let (x, y) = (main.x + 320, main.y + 120);
        let at = draw::paste(&mut img, &code, x, y)?;
        draw::paragraph(&mut img, rng, Rect::new(x - 300, y, 300, at.h), 12, Theme::light().text);
        draw::paragraph(
            &mut img,
            rng,
            Rect::new(at.right(), y, 400, at.h),
            12,
            Theme::light().text,
        );
        draw::fill(&mut img, Rect::new(x, at.bottom(), at.w, 3), Theme::light().accent);
        corpus.add(
            "tight-quiet-zone",
            format!("light page, quiet zone {quiet} against text and a rule, JPEG 85"),
            &img,
            Format::Jpeg(85),
            vec![text],
        )?;
    }
    Ok(())
}

/// A page dimmed behind a modal: the code in the modal, or on the dimmed page beside it.
fn dimmed_modal(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    for i in 0..12 {
        let theme = if i % 2 == 0 { Theme::light() } else { Theme::dark() };
        let keep = [0.35f32, 0.45, 0.55, 0.65][i % 4];
        let text = Payload::typical(rng).text(rng);
        let module = rng.range(3, 5);
        let code = symbol::render(&text, &style(module, 4, colours(&theme, theme.dark)))?;
        let format = if i % 3 == 2 { Format::Jpeg(80) } else { Format::Png };
        let (w, h) = (1920, 1080);
        let img = if i < 6 {
            // The code in a bright modal over the dimmed page.
            let (mut img, _) = draw::screenshot(w, h, &theme, 1.0, rng);
            draw::dim(&mut img, Rect::new(0, 0, w, h), keep);
            let (cw, ch) = draw::setup_card_size(code.width(), code.height(), 1.0);
            draw::setup_card(&mut img, rng, &theme, 1.0, (w - cw) / 2, (h - ch) / 2, &code)?;
            img
        } else {
            // The code on the page, dimmed with it, while a modal asks something else.
            let mut img = page_with_code(rng, w, h, &theme, 1.0, &code)?;
            draw::dim(&mut img, Rect::new(0, 0, w, h), keep);
            let modal = Rect::new(w - 620, h / 2 - 150, 520, 300);
            draw::fill(&mut img, modal, theme.card);
            draw::paragraph(&mut img, rng, modal.inset(32), 12, theme.text);
            img
        };
        let place = if i < 6 { "in the modal" } else { "on the dimmed page" };
        corpus.add(
            "dimmed-modal",
            format!("{} page dimmed to {keep}, code {place}", theme_name(&theme)),
            &img,
            format,
            vec![text],
        )?;
    }
    Ok(())
}

/// Several codes in one screenshot: a grid of cards (a backup page, an export shown at once).
fn multi(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    let counts = [2usize, 3, 4, 5, 6, 6, 7, 8, 9, 10, 12, 6];
    for (i, &count) in counts.iter().enumerate() {
        let theme = if i % 2 == 0 { Theme::light() } else { Theme::dark() };
        let (w, h) = if count > 6 { (2560, 1440) } else { (1920, 1080) };
        let (mut img, main) = draw::screenshot(w, h, &theme, 1.0, rng);
        let texts: Vec<String> = if i == 11 {
            // One export split over several codes by the real encoder.
            let mut many = Vec::new();
            while many.len() < count {
                let accounts = rng.range(2, 3) as usize;
                if let Some(uri) = payload::batch_uri(rng, accounts) {
                    many.push(uri);
                }
            }
            many
        } else {
            (0..count).map(|_| Payload::typical(rng).text(rng)).collect()
        };
        let codes = texts
            .iter()
            .map(|t| symbol::render(t, &style(3, 4, colours(&theme, theme.dark))))
            .collect::<Result<Vec<_>>>()?;
        let columns = if count <= 4 { count as u32 } else { count.div_ceil(2) as u32 };
        let rows = (count as u32).div_ceil(columns);
        let cell_w = main.w / columns;
        let cell_h = main.h / rows;
        for (k, code) in codes.iter().enumerate() {
            let (col, row) = (k as u32 % columns, k as u32 / columns);
            let cell =
                Rect::new(main.x + col * cell_w, main.y + row * cell_h, cell_w, cell_h).inset(10);
            if code.width() + 20 > cell.w || code.height() + 40 > cell.h {
                bail!("{count} codes do not fit a {w}x{h} page");
            }
            draw::fill(&mut img, cell, theme.card);
            draw::outline(&mut img, cell, 1, theme.border);
            let x = cell.x + (cell.w - code.width()) / 2;
            let y = cell.y + 10;
            draw::paste(&mut img, code, x, y)?;
            draw::text_line(
                &mut img,
                rng,
                cell.x + 10,
                y + code.height() + 10,
                cell.w - 20,
                12,
                theme.muted,
            );
        }
        let note = format!("{count} codes, {} page {w}x{h}", theme_name(&theme));
        corpus.add("multi", note, &img, Format::Png, texts)?;
    }
    Ok(())
}

/// Google Authenticator exports filling codes of version 10 to 25.
fn migration_large(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    for version in 10i16..=25 {
        let ecl = if version % 3 == 0 { EcLevel::L } else { EcLevel::M };
        let Some(text) = payload::batch_uri_for_version(rng, version, ecl) else {
            bail!("no migration batch fits version {version}");
        };
        let theme = if version % 2 == 0 { Theme::light() } else { Theme::dark() };
        let module = if version > 20 { 4 } else { rng.range(3, 5) };
        let code = symbol::render(
            &text,
            &Style { version: Some(version), ecl, ..style(module, 4, colours(&theme, theme.dark)) },
        )?;
        let img = page_with_code(rng, 1920, 1080, &theme, 1.0, &code)?;
        let note = format!(
            "version {version} {ecl:?}, {} bytes, {} page, {module} px modules",
            text.len(),
            theme_name(&theme)
        );
        corpus.add("migration-large", note, &img, Format::Png, vec![text])?;
    }
    Ok(())
}

/// Logos over the middle of level-H codes.
fn logo(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    for i in 0..10 {
        let theme = if i % 3 == 2 { Theme::dark() } else { Theme::light() };
        let text = payload::account_uri(rng);
        let module = rng.range(4, 6);
        let quiet = 4;
        let fraction = [0.18f32, 0.2, 0.22, 0.24, 0.26][i % 5];
        let mut code = symbol::render(
            &text,
            &Style { ecl: EcLevel::H, ..style(module, quiet, colours(&theme, theme.dark)) },
        )?;
        let tile = *rng.pick(&[rgb(0x6a35c9), rgb(0x0b7dda), rgb(0xe8543f), rgb(0x111111)]);
        symbol::add_logo(&mut code, quiet * module, fraction, tile, rgb(0xffffff));
        let img = page_with_code(rng, 1920, 1080, &theme, 1.0, &code)?;
        let note = format!(
            "level H, logo over {:.0} % of the side, {} page",
            fraction * 100.0,
            theme_name(&theme)
        );
        corpus.add("logo", note, &img, Format::Png, vec![text])?;
    }
    Ok(())
}

/// 4K and 5K screens, at 200 % (big modules) and at 100 % (a small code on a huge image).
fn large_screen(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    let cases = [
        (3840, 2160, 2.0f32, 8, Format::Png),
        (3840, 2160, 1.0, 4, Format::Png),
        (3840, 2160, 1.5, 6, Format::Jpeg(85)),
        (5120, 2880, 2.0, 8, Format::Png),
        (5120, 2880, 2.0, 10, Format::Jpeg(90)),
        (5120, 2880, 1.0, 4, Format::Png),
        (5120, 2880, 1.0, 3, Format::Png),
        (5120, 2880, 2.0, 6, Format::Png),
        (3840, 2160, 2.0, 6, Format::Jpeg(75)),
        (5120, 2880, 1.5, 5, Format::Png),
    ];
    for (i, &(w, h, scale, module, format)) in cases.iter().enumerate() {
        let theme = if i % 2 == 0 { Theme::light() } else { Theme::dark() };
        let text = Payload::typical(rng).text(rng);
        let code = symbol::render(&text, &style(module, 4, colours(&theme, theme.dark)))?;
        let img = page_with_code(rng, w, h, &theme, scale, &code)?;
        let note = format!(
            "{w}x{h} at {:.0} %, {module} px modules, {} page",
            scale * 100.0,
            theme_name(&theme)
        );
        corpus.add("large-screen", note, &img, format, vec![text])?;
    }
    Ok(())
}

/// Several hardships at once, as real screenshots have them: a scaled desktop, dark mode, a tight
/// quiet zone, a dimmed backdrop, saved as JPEG or WebP.
fn combined(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    let filters = [(FilterType::Triangle, "bilinear"), (FilterType::CatmullRom, "bicubic")];
    for i in 0..12 {
        let theme = if i % 3 == 0 { Theme::light() } else { Theme::dark() };
        let scale = *rng.pick(&[1.25f32, 1.5, 1.75]);
        let &(filter, filter_name) = rng.pick(&filters);
        let module = rng.range(3, 4);
        let quiet = rng.range(2, 4);
        let text = Payload::typical(rng).text(rng);
        let code = symbol::render(&text, &style(module, quiet, colours(&theme, theme.dark)))?;
        let (lw, lh) = ((2560.0 / scale).round() as u32, (1440.0 / scale).round() as u32);
        let mut logical = page_with_code(rng, lw, lh, &theme, 1.0, &code)?;
        let mut note = format!(
            "{} page {lw}x{lh}, {module} px modules, quiet zone {quiet}, scaled {scale} {filter_name}",
            theme_name(&theme)
        );
        if i % 4 == 1 {
            draw::dim(&mut logical, Rect::new(0, 0, lw, lh), 0.6);
            note.push_str(", dimmed to 0.6");
        }
        let img = imageops::resize(&logical, 2560, 1440, filter);
        let format =
            if i % 4 == 3 { Format::Webp } else { Format::Jpeg(*rng.pick(&[60, 70, 80, 90])) };
        if let Format::Jpeg(quality) = format {
            note.push_str(&format!(", JPEG {quality}"));
        } else {
            note.push_str(", WebP");
        }
        corpus.add("combined", note, &img, format, vec![text])?;
    }
    Ok(())
}

/// Pages without a code: plain pages, user lists with identicons, and QR-like decoys.
fn negative(corpus: &mut Corpus<'_>, rng: &mut Rng) -> Result<()> {
    for i in 0..8 {
        let theme = if i % 2 == 0 { Theme::light() } else { Theme::dark() };
        let (w, h) = [(1920, 1080), (2560, 1440), (1366, 768), (3840, 2160)][i % 4];
        let scale = if w == 3840 { 2.0 } else { 1.0 };
        let (mut img, main) = draw::screenshot(w, h, &theme, scale, rng);
        draw::paragraph(&mut img, rng, main.inset(20), (12.0 * scale) as u32, theme.text);
        let format = if i % 3 == 1 { Format::Jpeg(75) } else { Format::Png };
        corpus.add(
            "negative",
            format!("text page, {} theme, {w}x{h}", theme_name(&theme)),
            &img,
            format,
            vec![],
        )?;
    }
    for i in 0..6 {
        let theme = if i % 2 == 0 { Theme::light() } else { Theme::dark() };
        let (mut img, main) = draw::screenshot(1920, 1080, &theme, 1.0, rng);
        // A member list: identicon, name, e-mail, in rows.
        let cell = [8u32, 10, 12, 16][i % 4];
        let mut y = main.y;
        while y + cell * 6 < main.bottom() {
            let fg = if i < 3 {
                rgb(0x000000)
            } else {
                *rng.pick(&[rgb(0x7a3ed8), rgb(0x2f9e44), rgb(0xd9480f)])
            };
            let icon = draw::identicon(rng, cell, fg, rgb(0xf0f0f0));
            draw::paste(&mut img, &icon, main.x, y)?;
            draw::text_line(&mut img, rng, main.x + icon.width() + 16, y + 8, 300, 14, theme.text);
            draw::text_line(
                &mut img,
                rng,
                main.x + icon.width() + 16,
                y + 32,
                220,
                10,
                theme.muted,
            );
            y += icon.height() + 16;
        }
        corpus.add(
            "negative",
            format!("member list with {cell} px identicons, {} theme", theme_name(&theme)),
            &img,
            Format::Png,
            vec![],
        )?;
    }
    for i in 0..6 {
        let theme = if i % 2 == 0 { Theme::light() } else { Theme::dark() };
        let (mut img, main) = draw::screenshot(1920, 1080, &theme, 1.0, rng);
        let mut x = main.x;
        for _ in 0..3 {
            let (modules, module) = (*rng.pick(&[21, 25, 29]), rng.range(3, 6));
            let decoy = draw::decoy_symbol(rng, modules, module);
            if x + decoy.width() > main.right() {
                break;
            }
            draw::paste(&mut img, &decoy, x, main.y + rng.range(0, 200))?;
            x += decoy.width() + 60;
        }
        corpus.add(
            "negative",
            format!(
                "QR-like decoys (finder patterns, random modules), {} theme",
                theme_name(&theme)
            ),
            &img,
            Format::Png,
            vec![],
        )?;
    }
    Ok(())
}
