//! Aegis icon packs: a ZIP with `pack.json` at its top (`uuid`, `name`, `version`, and `icons`,
//! each a `filename` inside the ZIP, an optional `category` and the `issuer` names it is for) and
//! the SVG, PNG or JPEG files it names. The format of Aegis's `IconPack.java`, which aegis-icons
//! and other packs are built for. A pack comes from anywhere: sizes are bounded, paths checked,
//! files sniffed, and an icon that cannot be shown is skipped with its reason, never a panic.

use std::io::{Read, Seek};

use serde::Deserialize;
use uuid::Uuid;
use zip::ZipArchive;

use crate::{Icon, ImageType};

/// The manifest's name inside the ZIP.
pub const MANIFEST: &str = "pack.json";
/// The largest `pack.json` read (aegis-icons' is ~300 KB).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// The largest icon file read, uncompressed.
pub const MAX_ICON_BYTES: u64 = 2 << 20;
/// The most icons a pack may list (aegis-icons has ~1,500).
pub const MAX_ICONS: usize = 50_000;

/// Why a file is not a usable icon pack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// Not a ZIP archive (or a damaged one).
    #[error("this file is not a ZIP archive ({0}): an Aegis icon pack is a .zip file")]
    NotZip(String),
    /// No `pack.json` at the top of the ZIP.
    #[error("the ZIP has no pack.json at its top: it is not an Aegis icon pack")]
    NoManifest,
    /// `pack.json` is not the manifest Aegis reads.
    #[error("the pack's pack.json is not a valid icon pack manifest: {0}")]
    Manifest(String),
    /// The pack's id is not a UUID.
    #[error("the pack's uuid {0:?} is not a UUID")]
    BadUuid(String),
    /// The pack has no name.
    #[error("the pack has no name")]
    NoName,
    /// A file of the pack is larger than read.
    #[error("{what} is larger than {limit} bytes, the most Twofold reads")]
    TooLarge {
        /// Which file.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// The pack lists too many icons.
    #[error("the pack lists {0} icons; Twofold reads at most {MAX_ICONS}")]
    TooManyIcons(usize),
    /// No icon of the pack can be shown.
    #[error("none of the pack's icons can be shown (the first: {0})")]
    NoUsableIcon(String),
    /// One icon cannot be shown.
    #[error("the icon {filename:?} cannot be shown: {reason}")]
    Icon {
        /// The icon's file in the pack.
        filename: String,
        /// Why.
        reason: String,
    },
}

/// `pack.json` as Aegis writes it.
#[derive(Debug, Deserialize)]
struct Manifest {
    uuid: String,
    name: String,
    version: u32,
    icons: Vec<ManifestIcon>,
}

#[derive(Debug, Deserialize)]
struct ManifestIcon {
    filename: String,
    #[serde(default)]
    category: Option<String>,
    issuer: Vec<String>,
}

/// One icon a pack lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackIcon {
    /// Its file inside the ZIP.
    pub filename: String,
    /// Its category (e.g. "Social"), when the pack gives one.
    pub category: Option<String>,
    /// The issuers it is for.
    pub issuers: Vec<String>,
    /// The image type its name says.
    pub kind: ImageType,
}

/// An icon the pack lists but that cannot be shown, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedIcon {
    /// Its file inside the ZIP.
    pub filename: String,
    /// Why it is skipped.
    pub reason: String,
}

/// An open icon pack: what its manifest says, over the ZIP its icons are read from.
#[derive(Debug)]
pub struct IconPack<R> {
    /// The pack's id: a newer version of the same pack replaces it.
    pub uuid: Uuid,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: u32,
    /// The icons that can be shown (as far as the ZIP's directory tells).
    pub icons: Vec<PackIcon>,
    /// The icons listed that cannot be shown.
    pub skipped: Vec<SkippedIcon>,
    archive: ZipArchive<R>,
}

impl<R: Read + Seek> IconPack<R> {
    /// Opens the pack in `reader`: reads and checks `pack.json` and that each icon's file is in
    /// the ZIP, of a type that can be shown and not too large. The icons are read when asked.
    pub fn open(reader: R) -> Result<Self, PackError> {
        let mut archive = ZipArchive::new(reader).map_err(|e| PackError::NotZip(e.to_string()))?;
        let manifest = read_manifest(&mut archive)?;
        let uuid = Uuid::parse_str(manifest.uuid.trim())
            .map_err(|_| PackError::BadUuid(manifest.uuid.clone()))?;
        let name = manifest.name.trim().to_owned();
        if name.is_empty() {
            return Err(PackError::NoName);
        }
        if manifest.icons.len() > MAX_ICONS {
            return Err(PackError::TooManyIcons(manifest.icons.len()));
        }
        let mut icons = Vec::new();
        let mut skipped = Vec::new();
        for listed in manifest.icons {
            match check_listed(&mut archive, &listed) {
                Ok(kind) => icons.push(PackIcon {
                    filename: listed.filename,
                    category: listed.category,
                    issuers: listed.issuer,
                    kind,
                }),
                Err(reason) => skipped.push(SkippedIcon { filename: listed.filename, reason }),
            }
        }
        Ok(Self { uuid, name, version: manifest.version, icons, skipped, archive })
    }

    /// Reads icon `index` of [`icons`](Self::icons): its bytes, checked to be the type its name
    /// says.
    pub fn icon(&mut self, index: usize) -> Result<Icon, PackError> {
        let Some(listed) = self.icons.get(index) else {
            return Err(PackError::Icon {
                filename: format!("#{index}"),
                reason: "the pack has no such icon".to_owned(),
            });
        };
        let fail = |reason: String| PackError::Icon { filename: listed.filename.clone(), reason };
        let file = self.archive.by_name(&listed.filename).map_err(|e| fail(e.to_string()))?;
        let bytes = read_bounded(file, MAX_ICON_BYTES).map_err(fail)?;
        if !looks_like(listed.kind, &bytes) {
            return Err(fail(format!("its content is not {}", describe(listed.kind))));
        }
        Ok(Icon { kind: listed.kind, bytes })
    }

    /// Reads every icon once and moves those that cannot be shown to
    /// [`skipped`](Self::skipped); fails when none is left.
    pub fn check_every_icon(&mut self) -> Result<(), PackError> {
        let mut kept = Vec::with_capacity(self.icons.len());
        for index in 0..self.icons.len() {
            match self.icon(index) {
                Ok(_) => kept.push(index),
                Err(PackError::Icon { filename, reason }) => {
                    self.skipped.push(SkippedIcon { filename, reason });
                }
                Err(other) => return Err(other),
            }
        }
        let mut index = 0;
        self.icons.retain(|_| {
            index += 1;
            kept.contains(&(index - 1))
        });
        if self.icons.is_empty() {
            let first = self.skipped.first().map_or_else(
                || "the pack lists no icon".to_owned(),
                |s| format!("{}: {}", s.filename, s.reason),
            );
            return Err(PackError::NoUsableIcon(first));
        }
        Ok(())
    }
}

fn read_manifest<R: Read + Seek>(archive: &mut ZipArchive<R>) -> Result<Manifest, PackError> {
    let file = archive.by_name(MANIFEST).map_err(|_| PackError::NoManifest)?;
    let bytes = read_bounded(file, MAX_MANIFEST_BYTES).map_err(|reason| {
        if reason.starts_with("larger") {
            PackError::TooLarge { what: MANIFEST.to_owned(), limit: MAX_MANIFEST_BYTES }
        } else {
            PackError::Manifest(reason)
        }
    })?;
    // Aegis writes UTF-8; a byte-order mark from a text editor is forgiven.
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    serde_json::from_slice(text).map_err(|e| PackError::Manifest(e.to_string()))
}

/// Reads all of `file`, at most `limit` bytes: the size in the ZIP's directory may lie.
fn read_bounded(file: impl Read, limit: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| format!("unreadable: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(bytes)
}

/// Whether icon `listed` can be shown as far as its name and the ZIP's directory say; its type.
fn check_listed<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    listed: &ManifestIcon,
) -> Result<ImageType, String> {
    let kind = kind_of(&listed.filename)
        .ok_or_else(|| "it is not an SVG, PNG or JPEG file (by its name)".to_owned())?;
    if listed.issuer.iter().all(|issuer| issuer.trim().is_empty()) {
        return Err("it names no issuer to match".to_owned());
    }
    let file = archive.by_name(&listed.filename).map_err(|_| "it is not in the ZIP".to_owned())?;
    if file.is_dir() {
        return Err("it is a folder".to_owned());
    }
    if file.size() > MAX_ICON_BYTES {
        return Err(format!("larger than {MAX_ICON_BYTES} bytes"));
    }
    Ok(kind)
}

/// The image type a file name says, as Aegis decides it (by extension).
fn kind_of(filename: &str) -> Option<ImageType> {
    let (_, extension) = filename.rsplit_once('.')?;
    match extension.to_ascii_lowercase().as_str() {
        "svg" => Some(ImageType::Svg),
        "png" => Some(ImageType::Png),
        "jpg" | "jpeg" => Some(ImageType::Jpeg),
        _ => None,
    }
}

/// Whether `bytes` are what `kind` says: the PNG and JPEG signatures, or UTF-8 text with an
/// `<svg` element.
fn looks_like(kind: ImageType, bytes: &[u8]) -> bool {
    match kind {
        ImageType::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        ImageType::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        ImageType::Svg => std::str::from_utf8(bytes).is_ok_and(|text| text.contains("<svg")),
    }
}

fn describe(kind: ImageType) -> &'static str {
    match kind {
        ImageType::Svg => "an SVG image",
        ImageType::Png => "a PNG image",
        ImageType::Jpeg => "a JPEG image",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{Cursor, Write};

    use zip::write::SimpleFileOptions;

    use super::*;

    /// A small SVG icon.
    pub(crate) const SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"><rect width=\"1\" height=\"1\"/></svg>";

    /// A ZIP holding `files` (name, bytes).
    pub(crate) fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in files {
            out.start_file(*name, SimpleFileOptions::default()).unwrap();
            out.write_all(bytes).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    /// A pack with id `uuid` whose manifest lists `icons` (JSON array text) over `files`.
    pub(crate) fn pack_of(uuid: &str, icons: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
        let manifest =
            format!(r#"{{"uuid":"{uuid}","name":"Test pack","version":3,"icons":{icons}}}"#);
        let mut all = vec![(MANIFEST, manifest.as_bytes())];
        all.extend_from_slice(files);
        zip_of(&all)
    }

    const UUID: &str = "0f4b4a4e-2f6a-4b8e-9d1c-3a2b1c0d9e8f";

    fn open(bytes: Vec<u8>) -> Result<IconPack<Cursor<Vec<u8>>>, PackError> {
        IconPack::open(Cursor::new(bytes))
    }

    #[test]
    fn a_pack_is_read_with_its_icons() {
        let icons = r#"[{"filename":"icons/GitHub.svg","category":"Code","issuer":["GitHub"]},
                        {"filename":"b.PNG","category":null,"issuer":["Bank"]}]"#;
        let png = b"\x89PNG\r\n\x1a\nrest";
        let bytes = pack_of(UUID, icons, &[("icons/GitHub.svg", SVG.as_bytes()), ("b.PNG", png)]);
        let mut pack = open(bytes).unwrap();
        assert_eq!(pack.uuid.to_string(), UUID);
        assert_eq!((pack.name.as_str(), pack.version), ("Test pack", 3));
        assert_eq!(pack.icons.len(), 2);
        assert_eq!(pack.icons[0].issuers, ["GitHub"]);
        assert_eq!(pack.icons[0].category.as_deref(), Some("Code"));
        assert_eq!(pack.icon(0).unwrap(), Icon { kind: ImageType::Svg, bytes: SVG.into() });
        assert_eq!(pack.icon(1).unwrap().kind, ImageType::Png);
        pack.check_every_icon().unwrap();
        assert!(pack.skipped.is_empty());
    }

    #[test]
    fn what_is_no_pack_is_told_apart() {
        assert!(matches!(open(b"not a zip".to_vec()), Err(PackError::NotZip(_))));
        let no_manifest = zip_of(&[("icons/a.svg", SVG.as_bytes())]);
        assert!(matches!(open(no_manifest), Err(PackError::NoManifest)));
        let bad_json = zip_of(&[(MANIFEST, b"{\"uuid\": 1")]);
        let err = open(bad_json).unwrap_err();
        assert!(matches!(err, PackError::Manifest(_)), "{err}");
        let bad_uuid = pack_of("nope", "[]", &[]);
        assert!(matches!(open(bad_uuid), Err(PackError::BadUuid(u)) if u == "nope"));
        let no_name = zip_of(&[(
            MANIFEST,
            format!(r#"{{"uuid":"{UUID}","name":" ","version":1,"icons":[]}}"#).as_bytes(),
        )]);
        assert!(matches!(open(no_name), Err(PackError::NoName)));
    }

    #[test]
    fn icons_that_cannot_be_shown_are_skipped_with_their_reason() {
        let icons = r#"[{"filename":"missing.svg","issuer":["A"]},
                        {"filename":"a.gif","issuer":["B"]},
                        {"filename":"fake.png","issuer":["C"]},
                        {"filename":"ok.svg","issuer":["D"]},
                        {"filename":"anon.svg","issuer":[" "]}]"#;
        let files: [(&str, &[u8]); 4] = [
            ("a.gif", b"GIF89a"),
            ("fake.png", SVG.as_bytes()),
            ("ok.svg", SVG.as_bytes()),
            ("anon.svg", SVG.as_bytes()),
        ];
        let mut pack = open(pack_of(UUID, icons, &files)).unwrap();
        assert_eq!(pack.icons.len(), 2);
        assert_eq!(pack.skipped.len(), 3);
        assert!(pack.skipped[0].reason.contains("not in the ZIP"));
        assert!(pack.skipped[1].reason.contains("not an SVG, PNG or JPEG"));
        let err = pack.icon(0).unwrap_err().to_string();
        assert!(err.contains("fake.png") && err.contains("not a PNG image"), "{err}");
        pack.check_every_icon().unwrap();
        assert_eq!(pack.icons.iter().map(|i| i.filename.as_str()).collect::<Vec<_>>(), ["ok.svg"]);
        assert_eq!(pack.skipped.len(), 4);
    }

    #[test]
    fn a_pack_with_nothing_to_show_is_refused() {
        let icons = r#"[{"filename":"a.svg","issuer":["A"]}]"#;
        let mut pack = open(pack_of(UUID, icons, &[("a.svg", b"plain text")])).unwrap();
        let err = pack.check_every_icon().unwrap_err().to_string();
        assert!(err.contains("none of the pack's icons") && err.contains("a.svg"), "{err}");
    }

    #[test]
    fn an_icon_larger_than_its_directory_says_is_cut_off() {
        let big = format!("<svg>{}</svg>", " ".repeat(MAX_ICON_BYTES as usize));
        let icons = r#"[{"filename":"big.svg","issuer":["Big"]}]"#;
        let pack = open(pack_of(UUID, icons, &[("big.svg", big.as_bytes())])).unwrap();
        assert!(pack.skipped[0].reason.contains("larger than"), "{:?}", pack.skipped);
        assert!(read_bounded(big.as_bytes(), MAX_ICON_BYTES).unwrap_err().contains("larger"));
    }
}
