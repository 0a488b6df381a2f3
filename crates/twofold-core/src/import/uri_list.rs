//! A text file of URIs, one per line: `otpauth://` accounts and `otpauth-migration://` batches
//! (what `twofold export`, FreeOTP+, and QR-decoding tools write). Blank lines and `#` comments are
//! skipped. The format loses nothing an otpauth URI can carry.

use super::{Imported, Place, read_payload};

/// Reads every URI in `text`; a bad line is reported by number while the others import.
pub fn uri_list(text: &str) -> Imported {
    let mut imported = Imported::default();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        read_payload(line, Place::Line(index + 1), &mut imported);
    }
    imported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_reported_by_number_and_the_rest_import() {
        let text = "# exported\n\notpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP\nhttps://example.com\n  otpauth://hotp/B:b?secret=GEZDGNBV&counter=3  \n";
        let imported = uri_list(text);
        let names: Vec<String> = imported.credentials.iter().map(|c| c.label()).collect();
        assert_eq!(names, ["A (a)", "B (b)"]);
        assert_eq!(imported.errors.len(), 1);
        assert_eq!(imported.errors[0].place, Place::Line(4));
        assert!(imported.errors[0].to_string().starts_with("line 4: "), "{}", imported.errors[0]);
    }

    #[test]
    fn multibyte_text_near_the_scheme_does_not_panic() {
        let imported =
            uri_list("otpauth-migratio\u{e9}n://x\n\u{1f600}\u{1f600}\u{1f600}\u{1f600}\u{1f600}");
        assert_eq!(imported.errors.len(), 2);
    }
}
