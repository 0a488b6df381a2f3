//! Drawing primitives and the pieces of a desktop screenshot: themes, window chrome, text-like bars,
//! panels, cards, modals and identicons. No fonts: text is drawn as bars of word-like widths, which
//! is what a QR detector sees of text anyway (edges, runs of dark and light).

use anyhow::{Result, bail};
use image::{Rgba, RgbaImage};

use crate::rng::Rng;

/// An axis-aligned rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub const fn new(x: u32, y: u32, w: u32, h: u32) -> Self {
        Self { x, y, w, h }
    }

    /// One past the right edge.
    pub const fn right(&self) -> u32 {
        self.x + self.w
    }

    /// One past the bottom edge.
    pub const fn bottom(&self) -> u32 {
        self.y + self.h
    }

    /// The rectangle shrunk by `by` on every side.
    pub fn inset(&self, by: u32) -> Self {
        Self::new(
            self.x + by,
            self.y + by,
            self.w.saturating_sub(2 * by),
            self.h.saturating_sub(2 * by),
        )
    }

    /// The rectangle grown by `by` on every side (not below 0).
    pub fn outset(&self, by: u32) -> Self {
        let x = self.x.saturating_sub(by);
        let y = self.y.saturating_sub(by);
        Self::new(x, y, self.right() + by - x, self.bottom() + by - y)
    }
}

/// An opaque colour from its hex value.
pub const fn rgb(hex: u32) -> Rgba<u8> {
    Rgba([(hex >> 16) as u8, (hex >> 8) as u8, hex as u8, 255])
}

/// The colours of one desktop look.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Whether light text sits on dark surfaces.
    pub dark: bool,
    /// Desktop wallpaper, top and bottom of its gradient.
    pub wallpaper: [Rgba<u8>; 2],
    /// The desktop's top bar.
    pub top_bar: Rgba<u8>,
    /// Window title and tab bar.
    pub chrome: Rgba<u8>,
    /// Toolbar and address field.
    pub toolbar: Rgba<u8>,
    /// The web page's background.
    pub page: Rgba<u8>,
    /// Side panels and page header.
    pub panel: Rgba<u8>,
    /// Cards and dialogs.
    pub card: Rgba<u8>,
    /// Lines around fields and cards.
    pub border: Rgba<u8>,
    /// Body text.
    pub text: Rgba<u8>,
    /// Secondary text.
    pub muted: Rgba<u8>,
    /// Buttons and links.
    pub accent: Rgba<u8>,
}

impl Theme {
    /// A light desktop (Adwaita-like window, white page).
    pub const fn light() -> Self {
        Self {
            dark: false,
            wallpaper: [rgb(0x3d6fb0), rgb(0x1c3a63)],
            top_bar: rgb(0x101010),
            chrome: rgb(0xdedede),
            toolbar: rgb(0xf4f4f4),
            page: rgb(0xffffff),
            panel: rgb(0xf3f4f6),
            card: rgb(0xffffff),
            border: rgb(0xd0d4da),
            text: rgb(0x1f2328),
            muted: rgb(0x6b7280),
            accent: rgb(0x6a35c9),
        }
    }

    /// A dark desktop (dark window, dark page, as with prefers-color-scheme: dark).
    pub const fn dark() -> Self {
        Self {
            dark: true,
            wallpaper: [rgb(0x27233a), rgb(0x0d0b16)],
            top_bar: rgb(0x000000),
            chrome: rgb(0x2b2b2b),
            toolbar: rgb(0x383838),
            page: rgb(0x0d1117),
            panel: rgb(0x161b22),
            card: rgb(0x1c2128),
            border: rgb(0x30363d),
            text: rgb(0xe6edf3),
            muted: rgb(0x8b949e),
            accent: rgb(0x58a6ff),
        }
    }
}

/// Fills `r` (clipped to the image) with `c`.
pub fn fill(img: &mut RgbaImage, r: Rect, c: Rgba<u8>) {
    for y in r.y..r.bottom().min(img.height()) {
        for x in r.x..r.right().min(img.width()) {
            img.put_pixel(x, y, c);
        }
    }
}

/// Draws a `t`-pixel line around the inside of `r`.
pub fn outline(img: &mut RgbaImage, r: Rect, t: u32, c: Rgba<u8>) {
    fill(img, Rect::new(r.x, r.y, r.w, t), c);
    fill(img, Rect::new(r.x, r.bottom().saturating_sub(t), r.w, t), c);
    fill(img, Rect::new(r.x, r.y, t, r.h), c);
    fill(img, Rect::new(r.right().saturating_sub(t), r.y, t, r.h), c);
}

/// Darkens `r` as a modal's backdrop does: each channel times `keep` (0 black, 1 unchanged).
pub fn dim(img: &mut RgbaImage, r: Rect, keep: f32) {
    for y in r.y..r.bottom().min(img.height()) {
        for x in r.x..r.right().min(img.width()) {
            let p = img.get_pixel_mut(x, y);
            for c in &mut p.0[..3] {
                *c = (f32::from(*c) * keep).round() as u8;
            }
        }
    }
}

/// Draws `src` over `img` with its top-left corner at (`x`, `y`), blending by alpha. Errors when
/// it does not fit: a code drawn partly off-screen would make the manifest lie.
pub fn paste(img: &mut RgbaImage, src: &RgbaImage, x: u32, y: u32) -> Result<Rect> {
    if x + src.width() > img.width() || y + src.height() > img.height() {
        bail!(
            "a {}x{} picture at ({x}, {y}) does not fit a {}x{} image",
            src.width(),
            src.height(),
            img.width(),
            img.height()
        );
    }
    image::imageops::overlay(img, src, i64::from(x), i64::from(y));
    Ok(Rect::new(x, y, src.width(), src.height()))
}

/// One line of "text": word-like bars of height `h` up to `max_w` wide. Returns the width used.
pub fn text_line(
    img: &mut RgbaImage,
    rng: &mut Rng,
    x: u32,
    y: u32,
    max_w: u32,
    h: u32,
    c: Rgba<u8>,
) -> u32 {
    // Glyphs are about half as wide as the line is high; words are 2 to 11 glyphs.
    let glyph = (h / 2).max(2);
    let mut at = 0;
    loop {
        let word = glyph * rng.range(2, 11);
        if at + word > max_w {
            return at.saturating_sub(glyph);
        }
        // x-height bars with the odd ascender, so runs vary as real text's do.
        let top = if rng.chance(0.3) { 0 } else { h / 4 };
        fill(img, Rect::new(x + at, y + top, word, h - top), c);
        at += word + glyph;
    }
}

/// Lines of text filling `r`, `h` pixels high each, the last one short.
pub fn paragraph(img: &mut RgbaImage, rng: &mut Rng, r: Rect, h: u32, c: Rgba<u8>) {
    let pitch = h * 2;
    let lines = r.h / pitch.max(1);
    for i in 0..lines {
        let w = if i + 1 == lines { r.w * rng.range(30, 70) / 100 } else { r.w };
        text_line(img, rng, r.x, r.y + i * pitch, w, h, c);
    }
}

/// Vertical gradient over the whole image.
fn wallpaper(img: &mut RgbaImage, [top, bottom]: [Rgba<u8>; 2]) {
    let h = img.height().max(1) as f32;
    for y in 0..img.height() {
        let t = y as f32 / h;
        let mut c = top;
        for i in 0..3 {
            c.0[i] = (f32::from(top.0[i]) * (1.0 - t) + f32::from(bottom.0[i]) * t).round() as u8;
        }
        fill(img, Rect::new(0, y, img.width(), 1), c);
    }
}

/// A desktop screenshot: wallpaper, top bar, a browser window with tabs, toolbar and address field,
/// and a web page with a header, a side menu and a heading. `scale` is the desktop's UI scale
/// (1 for 1080p, 2 for a 4K screen at 200 %). Returns the image and the page's free main column.
pub fn screenshot(w: u32, h: u32, theme: &Theme, scale: f32, rng: &mut Rng) -> (RgbaImage, Rect) {
    let s = |v: u32| (v as f32 * scale).round() as u32;
    let mut img = RgbaImage::from_pixel(w, h, theme.page);
    wallpaper(&mut img, theme.wallpaper);
    let bar = s(28);
    fill(&mut img, Rect::new(0, 0, w, bar), theme.top_bar);
    text_line(&mut img, rng, s(12), s(9), s(90), s(10), rgb(0xdddddd));
    text_line(&mut img, rng, w / 2 - s(40), s(9), s(80), s(10), rgb(0xdddddd));
    // Maximised most of the time; otherwise a floating window with wallpaper around it.
    let margin = if rng.chance(0.6) { 0 } else { s(rng.range(20, 60)) };
    let window = Rect::new(margin, bar + margin, w - 2 * margin, h - bar - 2 * margin);
    fill(&mut img, Rect::new(window.x, window.y, window.w, s(40)), theme.chrome);
    for tab in 0..rng.range(2, 5) {
        let tab_rect = Rect::new(window.x + s(8) + tab * s(220), window.y + s(6), s(210), s(34));
        fill(&mut img, tab_rect, if tab == 0 { theme.toolbar } else { theme.chrome });
        text_line(
            &mut img,
            rng,
            tab_rect.x + s(12),
            tab_rect.y + s(12),
            s(150),
            s(10),
            theme.muted,
        );
    }
    let toolbar = Rect::new(window.x, window.y + s(40), window.w, s(44));
    fill(&mut img, toolbar, theme.toolbar);
    let address =
        Rect::new(toolbar.x + s(120), toolbar.y + s(7), toolbar.w.saturating_sub(s(240)), s(30));
    fill(&mut img, address, theme.panel);
    text_line(&mut img, rng, address.x + s(14), address.y + s(10), s(360), s(10), theme.muted);
    let page = Rect::new(window.x, toolbar.bottom(), window.w, window.bottom() - toolbar.bottom());
    fill(&mut img, page, theme.page);
    // Page header with a logo and menu entries.
    let header = Rect::new(page.x, page.y, page.w, s(64));
    fill(&mut img, header, theme.panel);
    fill(&mut img, Rect::new(header.x + s(24), header.y + s(16), s(32), s(32)), theme.accent);
    text_line(&mut img, rng, header.x + s(70), header.y + s(24), s(120), s(16), theme.text);
    text_line(
        &mut img,
        rng,
        header.right().saturating_sub(s(420)),
        header.y + s(26),
        s(380),
        s(12),
        theme.muted,
    );
    // Side menu.
    let side =
        Rect::new(page.x, header.bottom(), s(240).min(page.w / 4), page.bottom() - header.bottom());
    fill(&mut img, side, theme.panel);
    fill(&mut img, Rect::new(side.right().saturating_sub(1), side.y, 1, side.h), theme.border);
    for i in 0..side.h / s(40) {
        text_line(
            &mut img,
            rng,
            side.x + s(24),
            side.y + s(24) + i * s(40),
            s(150),
            s(12),
            theme.muted,
        );
    }
    // Heading of the main column.
    let main = Rect::new(
        side.right() + s(40),
        header.bottom() + s(28),
        page.right().saturating_sub(side.right() + s(80)),
        0,
    );
    text_line(&mut img, rng, main.x, main.y, s(420), s(22), theme.text);
    let top = main.y + s(50);
    let main = Rect::new(main.x, top, main.w, page.bottom().saturating_sub(top + s(20)));
    (img, main)
}

/// A two-factor setup card at (`x`, `y`): heading, instructions, the code, a code field and a
/// button. Returns where the code went. Text stays `gap` pixels away from the code.
pub fn setup_card(
    img: &mut RgbaImage,
    rng: &mut Rng,
    theme: &Theme,
    scale: f32,
    x: u32,
    y: u32,
    code: &RgbaImage,
) -> Result<Rect> {
    let s = |v: u32| (v as f32 * scale).round() as u32;
    let pad = s(20);
    let (w, h) = setup_card_size(code.width(), code.height(), scale);
    let card = Rect::new(x, y, w, h);
    fill(img, card, theme.card);
    outline(img, card, 1, theme.border);
    text_line(img, rng, x + pad, y + pad, w - 2 * pad, s(18), theme.text);
    paragraph(
        img,
        rng,
        Rect::new(x + pad, y + pad + s(30), w - 2 * pad, s(40)),
        s(11),
        theme.muted,
    );
    let at = paste(img, code, x + (w - code.width()) / 2, y + pad + s(70))?;
    let field = Rect::new(x + pad, at.bottom() + s(16), w - 2 * pad - s(120), s(36));
    fill(img, field, theme.page);
    outline(img, field, 1, theme.border);
    fill(img, Rect::new(field.right() + s(12), field.y, s(108), s(36)), theme.accent);
    text_line(img, rng, x + pad, field.bottom() + s(12), w - 2 * pad, s(10), theme.muted);
    Ok(at)
}

/// The size `setup_card` takes for a code of `code_w` by `code_h` pixels.
pub fn setup_card_size(code_w: u32, code_h: u32, scale: f32) -> (u32, u32) {
    let s = |v: u32| (v as f32 * scale).round() as u32;
    ((code_w + s(40)).max(s(420)), s(20) + s(70) + code_h + s(16 + 36 + 12 + 10) + s(20))
}

/// A 5×5 mirrored identicon (as GitHub draws for users without a picture), `cell` pixels per
/// block, with a half-block margin of `background`.
pub fn identicon(rng: &mut Rng, cell: u32, fg: Rgba<u8>, background: Rgba<u8>) -> RgbaImage {
    let side = cell * 6;
    let mut img = RgbaImage::from_pixel(side, side, background);
    for row in 0..5 {
        for col in 0..3 {
            if rng.chance(0.5) {
                for c in [col, 4 - col] {
                    fill(
                        &mut img,
                        Rect::new(cell / 2 + c * cell, cell / 2 + row * cell, cell, cell),
                        fg,
                    );
                }
            }
        }
    }
    img
}

/// A QR-looking decoy: finder-like squares in three corners around random modules, which a
/// detector finds but no reader can decode (its format and error-correction bits are noise).
pub fn decoy_symbol(rng: &mut Rng, modules: u32, module: u32) -> RgbaImage {
    let black = rgb(0x000000);
    let side = (modules + 4) * module;
    let mut img = RgbaImage::from_pixel(side, side, rgb(0xffffff));
    let cell = |img: &mut RgbaImage, mx: u32, my: u32| {
        fill(img, Rect::new((mx + 2) * module, (my + 2) * module, module, module), black);
    };
    // Finder patterns (7×7, with a light separator) in three corners, like a real symbol's.
    let finders = [(0, 0), (modules - 7, 0), (0, modules - 7)];
    for my in 0..modules {
        for mx in 0..modules {
            let near = finders
                .iter()
                .find(|&&(fx, fy)| mx + 1 >= fx && mx <= fx + 7 && my + 1 >= fy && my <= fy + 7);
            match near {
                Some(&(fx, fy)) => {
                    let inside = mx >= fx && mx < fx + 7 && my >= fy && my < fy + 7;
                    let ring = mx.abs_diff(fx + 3).max(my.abs_diff(fy + 3));
                    if inside && (ring == 3 || ring <= 1) {
                        cell(&mut img, mx, my);
                    }
                }
                None if rng.chance(0.5) => cell(&mut img, mx, my),
                None => {}
            }
        }
    }
    img
}
