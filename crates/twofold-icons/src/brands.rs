//! The brand icons of simple-icons (CC0-1.0; version and licence in the table's header), built
//! into the binary from `data/simple-icons.tsv`, which `scripts/update-simple-icons` writes from
//! the pinned npm package. Each icon is one 24×24 path and a brand colour.

use std::sync::LazyLock;

use crate::matching::NameIndex;
use crate::{Icon, ImageType};

/// The table: `#` comment lines, then slug, title, hex colour, other names (`|`), path.
const TABLE: &str = include_str!("../data/simple-icons.tsv");

/// One brand of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Brand {
    /// simple-icons' id for it ("github").
    pub slug: &'static str,
    /// Its name ("GitHub").
    pub title: &'static str,
    /// Its colour, six hex digits.
    pub hex: &'static str,
    /// The glyph: an SVG path in a 24×24 box.
    pub path: &'static str,
}

/// The brands, and the index of their titles, slugs and other names.
struct Table {
    brands: Vec<Brand>,
    names: NameIndex<usize>,
}

static BRANDS: LazyLock<Table> = LazyLock::new(|| {
    let rows: Vec<(Brand, &str)> = TABLE
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let (Some(slug), Some(title), Some(hex), Some(others), Some(path)) =
                (fields.next(), fields.next(), fields.next(), fields.next(), fields.next())
            else {
                // The table is generated and committed; a test reads every line of it.
                tracing::warn!(line, "a malformed line in the simple-icons table");
                return None;
            };
            Some((Brand { slug, title, hex, path }, others))
        })
        .collect();
    let mut names = NameIndex::default();
    // Titles and slugs before other names: a brand's own name is never taken by another's alias.
    for (i, (brand, _)) in rows.iter().enumerate() {
        names.add(brand.title, i);
        names.add(brand.slug, i);
    }
    for (i, (_, others)) in rows.iter().enumerate() {
        for other in others.split('|').filter(|o| !o.is_empty()) {
            names.add(other, i);
        }
    }
    Table { brands: rows.into_iter().map(|(brand, _)| brand).collect(), names }
});

/// The brand filed under `key` (a [`matching::key`](crate::matching::key)).
pub fn by_key(key: &str) -> Option<Brand> {
    let table = &*BRANDS;
    table.names.get(key).map(|&i| table.brands[i])
}

/// The brand whose slug is `slug`.
pub fn by_slug(slug: &str) -> Option<Brand> {
    by_key(slug).filter(|brand| brand.slug == slug)
}

/// How many brands the table holds.
pub fn count() -> usize {
    BRANDS.brands.len()
}

impl Brand {
    /// The icon as the window shows it: the glyph in white or black (whichever reads on the
    /// colour) on a disc of the brand's colour, like the letter avatars it replaces.
    pub fn icon(&self) -> Icon {
        let ink = if is_light(self.hex) { "#000" } else { "#fff" };
        let svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"-6 -6 36 36\">\
             <circle cx=\"12\" cy=\"12\" r=\"18\" fill=\"#{}\"/>\
             <path fill=\"{ink}\" d=\"{}\"/></svg>",
            self.hex, self.path
        );
        Icon { kind: ImageType::Svg, bytes: svg.into_bytes() }
    }
}

/// Whether the glyph is black on colour `hex`: white, the usual ink of brand badges, unless the
/// colour is light (relative luminance by WCAG's formula).
fn is_light(hex: &str) -> bool {
    let channel = |i: usize| {
        let value = hex.get(i..i + 2).and_then(|c| u8::from_str_radix(c, 16).ok()).unwrap_or(0);
        let c = f64::from(value) / 255.0;
        if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    luminance > 0.4
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::key;

    #[test]
    fn every_line_of_the_table_is_a_brand() {
        let lines = TABLE.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).count();
        assert_eq!(count(), lines);
        assert!(count() > 3000, "{}", count());
        for brand in &BRANDS.brands {
            assert!(brand.hex.len() == 6 && brand.hex.chars().all(|c| c.is_ascii_hexdigit()));
            assert!(!brand.path.contains('"') && !brand.path.contains('<'), "{}", brand.slug);
        }
    }

    #[test]
    fn well_known_services_are_found_by_name_slug_and_other_name() {
        assert_eq!(by_key(&key("GitHub")).map(|b| b.slug), Some("github"));
        assert_eq!(by_key("bookingdotcom").map(|b| b.title), Some("Booking.com"));
        assert_eq!(by_slug("google").map(|b| b.title), Some("Google"));
        // "Allied Irish Banks" is another name of "AIB", "bsky" of Bluesky.
        assert_eq!(by_key(&key("Allied Irish Banks")).map(|b| b.slug), Some("aib"));
        assert_eq!(by_key("bsky").map(|b| b.title), Some("Bluesky"));
        assert_eq!(by_slug("no-such-brand"), None);
    }

    #[test]
    fn the_glyph_reads_on_its_colour() {
        assert!(is_light("FFFFFF") && is_light("F7DF1E"));
        assert!(!is_light("181717") && !is_light("4285F4"));
        let svg = String::from_utf8(by_slug("github").unwrap().icon().bytes).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("fill=\"#181717\"") && svg.contains("#fff")
        );
    }
}
