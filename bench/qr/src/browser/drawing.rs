//! A QR code as a web page draws it: an `<img>` at its natural size or scaled down by CSS, inline
//! SVG at any CSS size, or a canvas filled module by module by a script. The browser then scales
//! and smooths it by the device pixel ratio, which is what the rendered corpus is about.

use std::fmt::Write as _;
use std::io::Cursor;

use anyhow::{Context, Result};
use base64::Engine as _;
use image::ImageFormat;
use qrcode::{Color, EcLevel, QrCode};

use crate::rng::Rng;
use crate::symbol::{self, Style};

/// How a page draws a code. Sizes are CSS pixels of the symbol with its quiet zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Drawing {
    /// A PNG of `module` pixels a module, shown at its natural size.
    Img { module: u32 },
    /// A PNG of `module` pixels a module, shown `shown` pixels wide (smaller than natural):
    /// mail clients and help pages shrink a 200 px code into a 100 px box.
    ImgScaled { module: u32, shown: u32 },
    /// Inline SVG, one square a module, `shown` pixels wide; `crisp` asks for
    /// `shape-rendering: crispEdges`, otherwise the edges are antialiased.
    Svg { shown: u32, crisp: bool },
    /// A canvas `shown` pixels wide filled with `fillRect` at fractional module sizes; with
    /// `hidpi` its backing store follows the device pixel ratio, otherwise the browser scales the
    /// bitmap up (as many QR libraries draw).
    Canvas { shown: u32, hidpi: bool },
}

impl Drawing {
    /// A drawing of the given kind with sizes drawn from `rng` for a code of `modules` modules
    /// (quiet zone included): at least 1.5 CSS pixels a module when scaled, as pages show them.
    pub fn pick(kind: &str, modules: u32, rng: &mut Rng) -> Self {
        let at_least = |css_per_module: f32, floor: u32| {
            ((modules as f32 * css_per_module).ceil() as u32).max(floor)
        };
        match kind {
            "img" => Self::Img { module: rng.range(3, 6).min(260 / modules).max(2) },
            "img-scaled-down" => {
                let module = rng.range(4, 8);
                let low = at_least(1.5, 80);
                let shown = rng.range(low, (low + 70).min(modules * module - 20).max(low));
                Self::ImgScaled { module, shown }
            }
            "svg" => {
                let low = at_least(2.2, 120);
                Self::Svg { shown: rng.range(low, low.max(240)), crisp: rng.chance(0.3) }
            }
            _ => {
                let low = at_least(2.4, 128);
                Self::Canvas { shown: rng.range(low, low.max(220)), hidpi: rng.chance(0.5) }
            }
        }
    }

    /// CSS pixels a module is shown at.
    pub fn css_module(self, modules: u32) -> f32 {
        match self {
            Self::Img { module } => module as f32,
            Self::ImgScaled { shown, .. }
            | Self::Svg { shown, .. }
            | Self::Canvas { shown, .. } => shown as f32 / modules as f32,
        }
    }

    /// A few words for the manifest's note.
    pub fn describe(self, modules: u32) -> String {
        let css = self.css_module(modules);
        match self {
            Self::Img { module } => format!("<img> natural, {module} px modules"),
            Self::ImgScaled { module, shown } => {
                format!("<img> {}→{shown} px ({module}→{css:.2} px modules)", modules * module)
            }
            Self::Svg { shown, crisp } => format!(
                "svg {shown} px ({css:.2} px modules{})",
                if crisp { ", crispEdges" } else { "" }
            ),
            Self::Canvas { shown, hidpi } => format!(
                "canvas {shown} px ({css:.2} px modules, {} backing store)",
                if hidpi { "DPR-sized" } else { "CSS-sized" }
            ),
        }
    }
}

/// Light modules around the symbol, in modules.
const QUIET: u32 = 4;

/// An encoded code: its payload and its modules.
pub struct Code {
    /// What it holds.
    pub text: String,
    /// Modules a side, without the quiet zone.
    pub size: u32,
    dark: Vec<bool>,
}

impl Code {
    /// Encodes `text` at level M in the smallest version that fits.
    pub fn new(text: String) -> Result<Self> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .with_context(|| format!("{} bytes do not fit a QR code", text.len()))?;
        let size = u32::try_from(code.width()).context("QR width")?;
        let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
        Ok(Self { text, size, dark })
    }

    /// Modules a side with the quiet zone.
    pub fn modules(&self) -> u32 {
        self.size + 2 * QUIET
    }

    fn is_dark(&self, x: u32, y: u32) -> bool {
        self.dark[(y * self.size + x) as usize]
    }

    /// The HTML of the code drawn as `drawing`, `ink` on `paper` (CSS colours); `id` names the
    /// canvas its script fills.
    pub fn html(&self, drawing: Drawing, ink: &str, paper: &str, id: &str) -> Result<String> {
        let total = self.modules();
        Ok(match drawing {
            Drawing::Img { module } => {
                let side = total * module;
                format!(
                    r#"<img class="qr" alt="QR code" width="{side}" height="{side}" src="{}">"#,
                    self.png_uri(module, ink, paper)?
                )
            }
            Drawing::ImgScaled { module, shown } => format!(
                r#"<img class="qr" alt="QR code" width="{shown}" height="{shown}" src="{}">"#,
                self.png_uri(module, ink, paper)?
            ),
            Drawing::Svg { shown, crisp } => {
                let mut path = String::new();
                for y in 0..self.size {
                    for x in 0..self.size {
                        if self.is_dark(x, y) {
                            let _ = write!(path, "M{} {}h1v1h-1z", x + QUIET, y + QUIET);
                        }
                    }
                }
                let rendering = if crisp { r#" shape-rendering="crispEdges""# } else { "" };
                format!(
                    r#"<svg class="qr" width="{shown}" height="{shown}" viewBox="0 0 {total} {total}"{rendering}><rect width="{total}" height="{total}" fill="{paper}"/><path fill="{ink}" d="{path}"/></svg>"#
                )
            }
            Drawing::Canvas { shown, hidpi } => {
                let rows: Vec<String> = (0..self.size)
                    .map(|y| {
                        (0..self.size).map(|x| if self.is_dark(x, y) { '1' } else { '0' }).collect()
                    })
                    .collect();
                let ratio = if hidpi { "window.devicePixelRatio" } else { "1" };
                format!(
                    r#"<canvas class="qr" id="{id}" style="width:{shown}px;height:{shown}px"></canvas>
<script>(() => {{
  const rows = "{rows}".split(",");
  const canvas = document.getElementById("{id}");
  const side = Math.round({shown} * {ratio});
  canvas.width = side; canvas.height = side;
  const g = canvas.getContext("2d");
  g.fillStyle = "{paper}"; g.fillRect(0, 0, side, side);
  g.fillStyle = "{ink}";
  const m = side / {total};
  rows.forEach((row, y) => [...row].forEach((bit, x) => {{
    if (bit === "1") g.fillRect((x + {QUIET}) * m, (y + {QUIET}) * m, m, m);
  }}));
}})();</script>"#,
                    rows = rows.join(",")
                )
            }
        })
    }

    /// A PNG data URI of the code at `module` pixels a module.
    fn png_uri(&self, module: u32, ink: &str, paper: &str) -> Result<String> {
        let style = Style {
            module,
            quiet: QUIET,
            dark: parse_hex(ink)?,
            light: parse_hex(paper)?,
            ..Style::standard()
        };
        let image = symbol::render(&self.text, &style)?;
        let mut png = Vec::new();
        image.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)?;
        Ok(format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        ))
    }
}

/// `#rrggbb` as an opaque colour.
fn parse_hex(css: &str) -> Result<image::Rgba<u8>> {
    let hex = css.strip_prefix('#').filter(|h| h.len() == 6).context("a #rrggbb colour")?;
    let value = u32::from_str_radix(hex, 16).with_context(|| format!("colour {css}"))?;
    Ok(crate::draw::rgb(value))
}
