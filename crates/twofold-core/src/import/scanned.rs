//! The QR codes of a scanned image (`qr::scan_*`): accounts and Google Authenticator batches
//! import; any other code (a web link, Wi-Fi settings, a pairing link) is reported as not an
//! account, never added.

use super::{EntryError, Imported, Place, read_payload};
use crate::qr::{Found, PayloadKind};

/// Reads every account the codes hold; each other code becomes an error naming what it holds.
pub fn scanned(found: &[Found]) -> Imported {
    let mut imported = Imported::default();
    for (index, code) in found.iter().enumerate() {
        let place = Place::Code(index + 1);
        let holds = match code.kind {
            PayloadKind::Account | PayloadKind::Batch => {
                read_payload(&code.text, place, &mut imported);
                continue;
            }
            PayloadKind::Pairing => "a link to pair with a Twofold server".to_owned(),
            _ => describe(&code.text),
        };
        imported.errors.push(EntryError {
            place,
            entry: None,
            name: None,
            message: format!("this QR code holds {holds}, not an account"),
        });
    }
    imported
}

/// Names what a non-account payload holds, in a few words a person recognises.
fn describe(text: &str) -> String {
    let lower = text.trim_start().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let shown: String = text.trim().chars().take(60).collect();
        format!("a web address ({shown})")
    } else if lower.starts_with("wifi:") {
        "Wi-Fi network settings".to_owned()
    } else if lower.starts_with("mailto:") {
        "an e-mail address".to_owned()
    } else if lower.starts_with("tel:") {
        "a phone number".to_owned()
    } else if lower.starts_with("begin:vcard") || lower.starts_with("mecard:") {
        "a contact card".to_owned()
    } else {
        "text".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::classify;

    fn found(text: &str) -> Found {
        Found { text: text.to_owned(), kind: classify(text), bbox: [0, 0, 10, 10] }
    }

    #[test]
    fn accounts_import_and_other_codes_are_named_not_added() {
        let codes = [
            found("otpauth://totp/Bitrise:ada?secret=JBSWY3DPEHPK3PXP"),
            found("WIFI:T:WPA;S:home;P:hunter22;;"),
            found("https://example.com/login"),
            found("otpauth://totp/Bad:x?secret=1"),
        ];
        let imported = scanned(&codes);
        assert_eq!(imported.credentials.len(), 1);
        let messages: Vec<String> = imported.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages[..2],
            [
                "QR code 2: this QR code holds Wi-Fi network settings, not an account",
                "QR code 3: this QR code holds a web address (https://example.com/login), not an account",
            ]
        );
        assert!(messages[2].starts_with("QR code 4: "), "{}", messages[2]);
        // The Wi-Fi password is not repeated.
        assert!(!messages.concat().contains("hunter22"));
    }

    #[test]
    fn debug_of_a_found_account_hides_its_secret() {
        let shown = format!("{:?}", found("otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP"));
        assert!(!shown.contains("JBSWY3DP"), "{shown}");
        assert!(format!("{:?}", found("https://example.com")).contains("example.com"));
    }
}
