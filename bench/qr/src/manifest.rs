//! `manifest.json`: what each corpus image is and exactly which payloads it holds.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// File name of the manifest inside a corpus directory.
pub const FILE_NAME: &str = "manifest.json";

/// The whole corpus.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// What the corpus is, for the report's heading.
    #[serde(default)]
    pub title: String,
    /// Images in generation order (categories stay together).
    pub images: Vec<Entry>,
}

/// One image of the corpus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// File name, relative to the corpus directory.
    pub file: String,
    /// The case it covers ("dark", "hidpi", "negative", ...).
    pub category: String,
    /// How it was made, for a person reading a failure.
    pub note: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Every payload a decoder should find, each once; empty for negatives.
    pub payloads: Vec<String>,
    /// Other ways to group the images (page, theme, device pixel ratio, file format), each
    /// scored on its own beside the categories.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facets: BTreeMap<String, String>,
}

impl Manifest {
    /// Reads `manifest.json` from a corpus directory.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("cannot read {} (generate the corpus first)", path.display())
        })?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a corpus manifest", path.display()))
    }

    /// Writes `manifest.json` into a corpus directory.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(FILE_NAME);
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Category names in the order they first appear.
    pub fn categories(&self) -> Vec<&str> {
        first_seen(self.images.iter().map(|e| e.category.as_str()))
    }

    /// Facet names, sorted.
    pub fn facets(&self) -> Vec<&str> {
        let names: std::collections::BTreeSet<&str> =
            self.images.iter().flat_map(|e| e.facets.keys().map(String::as_str)).collect();
        names.into_iter().collect()
    }

    /// The values of facet `name` in the order they first appear.
    pub fn facet_values(&self, name: &str) -> Vec<&str> {
        first_seen(self.images.iter().filter_map(|e| e.facets.get(name).map(String::as_str)))
    }
}

/// The distinct items in the order they first appear.
fn first_seen<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}
