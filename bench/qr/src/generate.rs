//! Writes the corpus: every case of [`crate::cases`], each image in the format its case calls for,
//! and the manifest. Same seeds, same bytes: the encoders used here are deterministic.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ExtendedColorType, ImageEncoder, RgbaImage};

use crate::manifest::{Entry, Manifest};

/// How an image is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG: RGB when fully opaque, RGBA otherwise.
    Png,
    /// JPEG at this quality (1–100).
    Jpeg(u8),
    /// Lossless WebP with alpha (the only WebP the `image` crate writes).
    Webp,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg(_) => "jpg",
            Self::Webp => "webp",
        }
    }
}

/// The corpus being written: its directory and the manifest so far.
pub struct Corpus<'a> {
    dir: &'a Path,
    manifest: Manifest,
}

impl<'a> Corpus<'a> {
    /// An empty corpus written into `dir` (which exists), titled `title` in reports.
    pub fn new(dir: &'a Path, title: &str) -> Self {
        Self { dir, manifest: Manifest { title: title.to_owned(), images: Vec::new() } }
    }

    /// Saves `image` as the next file of `category` and records what it holds; the entry is
    /// returned to add facets to.
    pub fn add(
        &mut self,
        category: &str,
        note: String,
        image: &RgbaImage,
        format: Format,
        payloads: Vec<String>,
    ) -> Result<&mut Entry> {
        let n = self.manifest.images.iter().filter(|e| e.category == category).count() + 1;
        let file = format!("{category}-{n:02}.{}", format.extension());
        let path = self.dir.join(&file);
        write_image(&path, image, format)
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.manifest.images.push(Entry {
            file,
            category: category.to_owned(),
            note,
            width: image.width(),
            height: image.height(),
            payloads,
            facets: BTreeMap::new(),
        });
        self.manifest.images.last_mut().context("the entry just added")
    }

    /// Writes the manifest and returns it.
    pub fn finish(self) -> Result<Manifest> {
        self.manifest.save(self.dir)?;
        Ok(self.manifest)
    }
}

/// Encodes one image to a file.
fn write_image(path: &Path, image: &RgbaImage, format: Format) -> Result<()> {
    let out = BufWriter::new(File::create(path)?);
    let (w, h) = image.dimensions();
    let opaque = image.pixels().all(|p| p.0[3] == u8::MAX);
    match format {
        Format::Png if opaque => {
            let rgb = DynamicImage::ImageRgba8(image.clone()).into_rgb8();
            PngEncoder::new_with_quality(out, CompressionType::Fast, FilterType::Adaptive)
                .write_image(rgb.as_raw(), w, h, ExtendedColorType::Rgb8)?;
        }
        Format::Png => {
            PngEncoder::new_with_quality(out, CompressionType::Fast, FilterType::Adaptive)
                .write_image(image.as_raw(), w, h, ExtendedColorType::Rgba8)?;
        }
        Format::Jpeg(quality) => {
            let rgb = DynamicImage::ImageRgba8(image.clone()).into_rgb8();
            JpegEncoder::new_with_quality(out, quality).write_image(
                rgb.as_raw(),
                w,
                h,
                ExtendedColorType::Rgb8,
            )?;
        }
        Format::Webp => {
            WebPEncoder::new_lossless(out).write_image(
                image.as_raw(),
                w,
                h,
                ExtendedColorType::Rgba8,
            )?;
        }
    }
    Ok(())
}

/// Generates the whole corpus into `dir` (created if missing) and returns its manifest.
pub fn generate(dir: &Path) -> Result<Manifest> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut corpus = Corpus::new(dir, "generated desktop screenshots (issue 4)");
    crate::cases::all(&mut corpus)?;
    corpus.finish()
}
