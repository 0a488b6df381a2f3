//! Arbitrary bytes as an Aegis icon pack: as the ZIP itself, and (first byte 0) as the pack.json of
//! a ZIP that also holds a few icon files. Opening the pack and reading each icon it lists never
//! panic; what is read is the type its name says.

#![no_main]

use std::io::{Cursor, Write};

use libfuzzer_sys::fuzz_target;
use twofold_icons::IconPack;
use zip::write::SimpleFileOptions;

/// A ZIP with `manifest` as pack.json and icons of each type, one of them lying about its type.
fn pack_around(manifest: &[u8]) -> Vec<u8> {
    let files: [(&str, &[u8]); 4] = [
        ("pack.json", manifest),
        ("icons/a.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
        ("b.png", b"\x89PNG\r\n\x1a\n"),
        ("c.jpg", b"<svg/>"),
    ];
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        if out.start_file(name, SimpleFileOptions::default()).is_err()
            || out.write_all(bytes).is_err()
        {
            return Vec::new();
        }
    }
    out.finish().map(Cursor::into_inner).unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let bytes = match data.split_first() {
        Some((0, manifest)) => pack_around(manifest),
        _ => data.to_vec(),
    };
    let Ok(mut pack) = IconPack::open(Cursor::new(bytes)) else { return };
    for index in 0..pack.icons.len().min(64) {
        let kind = pack.icons[index].kind;
        if let Ok(icon) = pack.icon(index) {
            assert_eq!(icon.kind, kind);
        }
    }
    let _ = pack.check_every_icon();
});
