//! Plain text and CSV files of otpauth URIs (Key Uri Format), with Google Authenticator
//! migration batches among them.

#![allow(clippy::unwrap_used)]

mod import_support;

use import_support::{ACCOUNTS, assert_imports};
use twofold_core::import::{self, Detected, Format, ImportError, Place};
use twofold_core::migration;

#[test]
fn uri_list_round_trips_with_comments_and_blank_lines() {
    let mut text = String::from("# exported by hand\n\n");
    for a in &ACCOUNTS {
        text.push_str(&format!("  {}  \r\n", a.uri()));
    }
    let file = text.into_bytes();
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Text, encrypted: false }));
    assert_imports(&Format::Text.read(&file, None).unwrap(), &ACCOUNTS);
}

#[test]
fn aegis_motp_uris_are_recognised_alone_and_among_otpauth_ones() {
    // Aegis's text export writes mOTP accounts in its own scheme (hex secret); Twofold's form adds
    // the PIN. Key and PIN: Aegis's MOTPTest vector, e7d8b6 at 165892298.
    let motp = "motp:/Motp%3Aalice?secret=e3152afee62599c8&issuer=Motp&pin=GEZDGNA";
    for text in [format!("{motp}\n"), format!("{}\n{motp}\n", ACCOUNTS[0].uri())] {
        let file = text.as_bytes();
        assert_eq!(import::detect(file), Ok(Detected { format: Format::Text, encrypted: false }));
        let imported = Format::Text.read(file, None).unwrap();
        assert!(imported.errors.is_empty(), "{:?}", imported.errors);
        let read = imported.credentials.last().unwrap();
        assert_eq!(read.label(), "Motp (alice)");
        let code = twofold_core::otp::generate(&read.secret, &read.otp, 165_892_298).unwrap();
        assert_eq!(code.current, "e7d8b6");
    }
}

#[test]
fn migration_batches_in_a_list_import_entry_by_entry() {
    let read: Vec<_> =
        ACCOUNTS[..2].iter().map(|a| twofold_core::uri::parse(&a.uri()).unwrap()).collect();
    let encoded = migration::encode(&read, 7);
    let text: String = encoded.uris.iter().map(|u| format!("{}\n", u.as_str())).collect();
    assert_imports(&Format::Text.read(text.as_bytes(), None).unwrap(), &ACCOUNTS[..2]);
}

#[test]
fn csv_cells_holding_uris_import_and_rows_without_one_are_reported() {
    let mut csv = String::from("name;uri;note\n");
    for a in &ACCOUNTS {
        csv.push_str(&format!("{};\"{}\";\"a; note\"\n", a.issuer, a.uri()));
    }
    csv.push_str("Forgotten;;no code here\n");
    let file = csv.into_bytes();
    assert_eq!(import::detect(&file), Ok(Detected { format: Format::Text, encrypted: false }));
    let mut imported = Format::Text.read(&file, None).unwrap();
    let errors = std::mem::take(&mut imported.errors);
    assert_imports(&imported, &ACCOUNTS);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].place, Place::Line(7));
}

#[test]
fn truncated_list_imports_what_is_whole_and_reports_the_cut_line() {
    let text: String = ACCOUNTS.iter().map(|a| format!("{}\n", a.uri())).collect();
    let cut = &text.as_bytes()[..text.find("Work").unwrap() + 10];
    let imported = Format::Text.read(cut, None).unwrap();
    assert_eq!(imported.credentials.len(), 2);
    assert_eq!(imported.errors.len(), 1);
    assert_eq!(imported.errors[0].place, Place::Line(3));
    assert!(matches!(Format::Text.read(b"", None), Err(ImportError::Damaged { .. })));
}
