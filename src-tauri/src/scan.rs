//! Adding accounts from QR images (and from export files, through [`crate::transfer`]). A scan's
//! accounts wait here, secrets and all, while the window shows a preview that names them by
//! index: the page sees labels, kinds, duplicate flags and messages, never a secret. Images are
//! scanned in memory and never written to disk.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use twofold_capture::{Capture, CaptureError, ClipboardContent};
use twofold_core::Credential;
use twofold_core::import::{self, Imported};
use twofold_core::keystore::Keystore;
use twofold_core::otp::Kind;
use twofold_core::qr::{self, Found};
use twofold_core::vault::{Vault, VaultError};
use uuid::Uuid;

use crate::accounts::Accounts;
use crate::error::{ApiError, ErrorCode};

/// How long the window system gets to take the hidden window off the screen before the capture.
const HIDE_DELAY: Duration = Duration::from_millis(300);

/// Captures the screens with the app's window out of the way: hides it (through `hide`), captures,
/// and shows it again (through `show`) whatever the capture gave.
pub fn capture_without_window(
    hide: impl FnOnce() -> tauri::Result<()>,
    show: impl FnOnce() -> tauri::Result<()>,
    capture: impl FnOnce() -> Result<Vec<Capture>, CaptureError>,
) -> Result<Vec<Capture>, ApiError> {
    let hidden = hide();
    if hidden.is_ok() {
        std::thread::sleep(HIDE_DELAY);
    }
    let captures = capture();
    if let Err(err) = hidden.and_then(|()| show()) {
        tracing::warn!(error = %err, "could not hide or show the window around the capture");
    }
    captures.map_err(|err| ApiError::new(ErrorCode::ScreenCapture, err))
}

/// Every distinct QR code on the screens, screen after screen (a mirrored screen shows a code twice:
/// it is kept once), or advice for the screen when there is none. The captures are only read in
/// memory.
pub fn found_on_screens(captures: &[Capture]) -> Result<Vec<Found>, ApiError> {
    let mut found: Vec<Found> = Vec::new();
    for capture in captures {
        qr::add_distinct(&mut found, qr::scan_rgba(capture.width, capture.height, &capture.rgba)?);
    }
    if found.is_empty() {
        return Err(ApiError::new(ErrorCode::NoQrCode, qr::NOTHING_ON_SCREEN));
    }
    Ok(found)
}

/// The QR codes in the clipboard's image, or the links in its text, read through `read` (the
/// clipboard, in the app). Ctrl+V comes here because WebKitGTK gives a page's paste event no image
/// (WebKit bug 218519). Nothing is written to disk.
pub fn found_in_clipboard(
    read: impl FnOnce() -> Result<ClipboardContent, CaptureError>,
) -> Result<Vec<Found>, ApiError> {
    match read().map_err(|err| ApiError::new(ErrorCode::Clipboard, err))? {
        ClipboardContent::Image(image) => {
            Ok(qr::scan_rgba(image.width, image.height, &image.rgba)?)
        }
        ClipboardContent::Text(text) => found_in_text(&text),
        ClipboardContent::Empty => Err(ApiError::new(ErrorCode::Clipboard, NOTHING_TO_PASTE)),
    }
}

/// The links in pasted text (`otpauth://`, `otpauth-migration://`, pairing), or why there are none.
pub fn found_in_text(text: &str) -> Result<Vec<Found>, ApiError> {
    let found = qr::links_in_text(text);
    if found.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidAccount, qr::NO_LINK));
    }
    Ok(found)
}

/// What an empty clipboard's paste says.
const NOTHING_TO_PASTE: &str = "The clipboard is empty. Copy the QR code's picture or its \
     otpauth:// link, then paste again.";

/// What a scan found, as the preview shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ScanPreview {
    /// The scan's handle, for adding its accounts or discarding it.
    pub scan: Uuid,
    /// The accounts found, in reading order.
    pub entries: Vec<ScanEntry>,
    /// Codes that are not accounts or cannot be read, one message each ("QR code 2: ...").
    pub problems: Vec<String>,
    /// A pairing link (`twofold+pair://`) one of the codes holds: the page offers to pair.
    pub pairing: Option<String>,
}

/// One account of a scan, without its secret.
#[derive(Debug, Clone, Serialize)]
pub struct ScanEntry {
    /// Its position in the scan: how the page chooses it.
    pub index: usize,
    /// "Issuer (name)".
    pub label: String,
    /// TOTP, HOTP or Steam.
    pub kind: Kind,
    /// Whether the vault already holds it (same issuer, name and secret): it cannot be added.
    pub duplicate: bool,
}

/// What adding the chosen accounts of a scan did.
#[derive(Debug, Clone, Serialize)]
pub struct ScanAdded {
    /// Labels of the accounts added.
    pub added: Vec<String>,
    /// Why each of the others was not added.
    pub problems: Vec<String>,
}

/// The scan waiting for the person to choose; a new scan replaces it.
#[derive(Debug, Default)]
pub struct Scans {
    pending: Mutex<Option<Pending>>,
}

/// A scan's accounts; their secrets zeroize when it is dropped.
#[derive(Debug)]
struct Pending {
    id: Uuid,
    credentials: Vec<Credential>,
}

impl Scans {
    /// Reads the accounts the codes hold and keeps them as the pending scan; flags those the
    /// vault already holds. An image with no code at all is an error saying what to try.
    pub fn preview<K: Keystore>(
        &self,
        vault: &Vault<K>,
        found: &[Found],
    ) -> Result<ScanPreview, ApiError> {
        if found.is_empty() {
            return Err(ApiError::new(ErrorCode::NoQrCode, qr::NOTHING_FOUND));
        }
        let pairing = found.iter().find(|code| code.kind == qr::PayloadKind::Pairing);
        let mut preview = self.preview_imported(vault, import::scanned(found))?;
        preview.pairing = pairing.map(|code| code.text.trim().to_owned());
        Ok(preview)
    }

    /// Keeps the accounts an import read (from QR codes or an export file) as the pending scan,
    /// and previews them: labels, duplicate flags, and each unreadable entry's message.
    pub fn preview_imported<K: Keystore>(
        &self,
        vault: &Vault<K>,
        imported: Imported,
    ) -> Result<ScanPreview, ApiError> {
        let Imported { credentials, errors } = imported;
        let entries = credentials
            .iter()
            .enumerate()
            .map(|(index, credential)| {
                Ok(ScanEntry {
                    index,
                    label: credential.label(),
                    kind: credential.otp.kind,
                    duplicate: vault.find_duplicate(credential)?.is_some(),
                })
            })
            .collect::<Result<_, VaultError>>()?;
        let scan = Uuid::new_v4();
        *self.lock() = Some(Pending { id: scan, credentials });
        Ok(ScanPreview {
            scan,
            entries,
            problems: errors.iter().map(ToString::to_string).collect(),
            pairing: None,
        })
    }

    /// Adds the accounts at `chosen` of scan `scan` to the vault and closes the scan. One account
    /// that cannot be added (a duplicate, a keyring failure) does not stop the others.
    pub fn add<K: Keystore>(
        &self,
        accounts: &Accounts<K>,
        scan: Uuid,
        chosen: &[usize],
        now: u64,
    ) -> Result<ScanAdded, ApiError> {
        let pending = {
            let mut slot = self.lock();
            let Some(pending) = slot.as_ref().filter(|p| p.id == scan) else {
                return Err(ApiError::new(ErrorCode::ScanClosed, SCAN_CLOSED));
            };
            if let Some(bad) = chosen.iter().find(|&&i| i >= pending.credentials.len()) {
                return Err(ApiError::new(
                    ErrorCode::ScanClosed,
                    format!("the scan has no account number {}", bad.saturating_add(1)),
                ));
            }
            slot.take()
        };
        let mut result = ScanAdded { added: Vec::new(), problems: Vec::new() };
        let credentials = pending.map(|p| p.credentials).unwrap_or_default();
        for (index, credential) in credentials.into_iter().enumerate() {
            if !chosen.contains(&index) {
                continue;
            }
            let label = credential.label();
            match accounts.vault().add(credential, now) {
                Ok(_) => result.added.push(label),
                // These two name the account already.
                Err(err @ (VaultError::Duplicate { .. } | VaultError::Invalid { .. })) => {
                    result.problems.push(err.to_string());
                }
                Err(err) => result.problems.push(format!("cannot add {label}: {err}")),
            }
        }
        Ok(result)
    }

    /// Forgets scan `scan` (the preview was cancelled); a newer scan is kept.
    pub fn discard(&self, scan: Uuid) {
        let mut slot = self.lock();
        if slot.as_ref().is_some_and(|p| p.id == scan) {
            *slot = None;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why a scan's accounts cannot be added any more.
const SCAN_CLOSED: &str =
    "this scan is no longer open (a newer scan replaced it): scan the image again";

#[cfg(test)]
mod tests {
    use twofold_core::keystore::MemoryKeystore;
    use twofold_core::qr::classify;
    use twofold_core::{OtpParams, Secret, otp};

    use super::*;

    const ACCOUNT: &str =
        "otpauth://totp/Bitrise:ada@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Bitrise";
    const OTHER: &str = "otpauth://totp/Mendix:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Mendix";
    const WIFI: &str = "WIFI:T:WPA;S:home;P:hunter22;;";

    fn found(texts: &[&str]) -> Vec<Found> {
        texts
            .iter()
            .map(|text| Found { text: (*text).to_owned(), kind: classify(text), bbox: [0; 4] })
            .collect()
    }

    fn accounts() -> (tempfile::TempDir, Accounts<MemoryKeystore>) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), MemoryKeystore::default()).unwrap();
        (dir, Accounts::new(vault))
    }

    #[test]
    fn the_preview_lists_accounts_without_secrets_and_names_other_codes() {
        let (_dir, accounts) = accounts();
        let preview = Scans::default().preview(accounts.vault(), &found(&[ACCOUNT, WIFI])).unwrap();

        let [entry] = preview.entries.as_slice() else { panic!("{preview:?}") };
        assert_eq!(entry.index, 0);
        assert_eq!(entry.label, "Bitrise (ada@example.com)");
        assert_eq!(entry.kind, Kind::Totp);
        assert!(!entry.duplicate);
        assert_eq!(
            preview.problems,
            ["QR code 2: this QR code holds Wi-Fi network settings, not an account"]
        );
        let json = serde_json::to_string(&preview).unwrap();
        assert!(!json.contains("JBSWY3DP") && !json.contains("hunter22"), "{json}");
    }

    #[test]
    fn a_pairing_code_is_handed_to_the_page_as_a_link_not_added() {
        let (_dir, accounts) = accounts();
        let link =
            "twofold+pair://pair?v=1&server=https%3A%2F%2Fauth.example&token=t&fingerprint=f";
        let preview = Scans::default().preview(accounts.vault(), &found(&[link])).unwrap();
        assert!(preview.entries.is_empty());
        assert_eq!(preview.pairing.as_deref(), Some(link));
        let plain = Scans::default().preview(accounts.vault(), &found(&[ACCOUNT])).unwrap();
        assert_eq!(plain.pairing, None);
    }

    #[test]
    fn adds_only_the_chosen_accounts_with_their_secrets_and_closes_the_scan() {
        let (_dir, accounts) = accounts();
        let scans = Scans::default();
        let preview = scans.preview(accounts.vault(), &found(&[ACCOUNT, OTHER])).unwrap();

        let added = scans.add(&accounts, preview.scan, &[1], 0).unwrap();
        assert_eq!(added.added, ["Mendix (bob)"]);
        assert!(added.problems.is_empty());
        let [account] = accounts.vault().accounts().unwrap().try_into().unwrap();
        let secret = accounts.vault().secret(&account).unwrap();
        let expected = Secret::from_base32("GEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!(
            otp::generate(&secret, &account.otp, 59).unwrap(),
            otp::generate(&expected, &OtpParams::default(), 59).unwrap()
        );

        let again = scans.add(&accounts, preview.scan, &[0], 0).unwrap_err();
        assert_eq!(again.code, ErrorCode::ScanClosed);
        assert_eq!(accounts.vault().accounts().unwrap().len(), 1);
    }

    #[test]
    fn a_second_scan_of_the_same_code_flags_it_and_refuses_to_add_it_twice() {
        let (_dir, accounts) = accounts();
        let scans = Scans::default();
        let first = scans.preview(accounts.vault(), &found(&[ACCOUNT])).unwrap();
        scans.add(&accounts, first.scan, &[0], 0).unwrap();

        let second = scans.preview(accounts.vault(), &found(&[ACCOUNT])).unwrap();
        assert!(second.entries[0].duplicate);
        let added = scans.add(&accounts, second.scan, &[0], 0).unwrap();
        assert!(added.added.is_empty());
        assert_eq!(
            added.problems,
            ["Bitrise (ada@example.com) is already in Twofold with the same secret"]
        );
        assert_eq!(accounts.vault().accounts().unwrap().len(), 1);
    }

    #[test]
    fn a_newer_scan_or_a_discard_closes_the_older_one() {
        let (_dir, accounts) = accounts();
        let scans = Scans::default();
        let old = scans.preview(accounts.vault(), &found(&[ACCOUNT])).unwrap();
        let new = scans.preview(accounts.vault(), &found(&[OTHER])).unwrap();
        assert_eq!(
            scans.add(&accounts, old.scan, &[0], 0).unwrap_err().code,
            ErrorCode::ScanClosed
        );

        // Discarding the old one leaves the new one open; discarding the new one closes it.
        scans.discard(old.scan);
        scans.discard(new.scan);
        assert_eq!(
            scans.add(&accounts, new.scan, &[0], 0).unwrap_err().code,
            ErrorCode::ScanClosed
        );
        assert!(accounts.vault().accounts().unwrap().is_empty());
    }

    #[test]
    fn an_index_outside_the_scan_is_refused_and_adds_nothing() {
        let (_dir, accounts) = accounts();
        let scans = Scans::default();
        let preview = scans.preview(accounts.vault(), &found(&[ACCOUNT])).unwrap();
        let err = scans.add(&accounts, preview.scan, &[0, 7], 0).unwrap_err();
        assert!(err.message.contains("no account number 8"), "{}", err.message);
        assert!(accounts.vault().accounts().unwrap().is_empty());
        // The scan stays open for a correct choice.
        assert_eq!(scans.add(&accounts, preview.scan, &[0], 0).unwrap().added.len(), 1);
    }

    /// A white `side`-pixel screen with `text`'s code in its corner, 4 pixels a module.
    fn screen_with_code(text: &str, side: u32) -> Capture {
        let code = qrcode::QrCode::new(text).unwrap();
        let modules = u32::try_from(code.width()).unwrap();
        let mut rgba = vec![255; (side * side * 4) as usize];
        for (i, color) in code.to_colors().into_iter().enumerate() {
            if color == qrcode::Color::Dark {
                let (mx, my) = (i as u32 % modules, i as u32 / modules);
                for y in (my + 4) * 4..(my + 5) * 4 {
                    for x in (mx + 4) * 4..(mx + 5) * 4 {
                        let at = ((y * side + x) * 4) as usize;
                        rgba[at..at + 3].fill(0);
                    }
                }
            }
        }
        Capture { width: side, height: side, rgba }
    }

    #[test]
    fn a_code_shown_on_two_screens_is_found_once() {
        let screens = [screen_with_code(ACCOUNT, 400), screen_with_code(ACCOUNT, 400)];
        let found = found_on_screens(&screens).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, ACCOUNT);
    }

    #[test]
    fn an_empty_screen_gives_advice_for_the_screen_not_for_image_files() {
        let blank = Capture { width: 64, height: 64, rgba: vec![255; 64 * 64 * 4] };
        let err = found_on_screens(&[blank]).unwrap_err();
        assert_eq!(err.code, ErrorCode::NoQrCode);
        assert!(
            err.message.contains("on the screen") && err.message.contains("zoom"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("compressed"), "{}", err.message);
    }

    #[test]
    fn the_window_is_hidden_during_the_capture_and_shown_again_even_when_it_fails() {
        let steps = std::cell::RefCell::new(Vec::new());
        let err = capture_without_window(
            || {
                steps.borrow_mut().push("hide");
                Ok(())
            },
            || {
                steps.borrow_mut().push("show");
                Ok(())
            },
            || {
                steps.borrow_mut().push("capture");
                Err(CaptureError::Cancelled)
            },
        )
        .unwrap_err();
        assert_eq!(*steps.borrow(), ["hide", "capture", "show"]);
        assert_eq!(err.code, ErrorCode::ScreenCapture);
        assert!(err.message.contains("cancelled"), "{}", err.message);
    }

    #[test]
    fn a_pasted_image_or_link_is_read_and_an_empty_clipboard_says_what_to_do() {
        let image = || Ok(ClipboardContent::Image(screen_with_code(ACCOUNT, 400)));
        let found = found_in_clipboard(image).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, ACCOUNT);
        let text = || Ok(ClipboardContent::Text(format!("{ACCOUNT}\n{OTHER}").into()));
        let texts: Vec<String> =
            found_in_clipboard(text).unwrap().into_iter().map(|f| f.text).collect();
        assert_eq!(texts, [ACCOUNT, OTHER]);

        let err = found_in_clipboard(|| Ok(ClipboardContent::Empty)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Clipboard);
        assert!(err.message.contains("clipboard is empty"), "{}", err.message);
        let err = found_in_clipboard(|| Ok(ClipboardContent::Text("hello".to_owned().into())));
        let err = err.unwrap_err();
        assert!(
            err.message.contains("no otpauth:// or otpauth-migration:// link"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("hello"), "the pasted text may be a secret: {}", err.message);
        let err = found_in_clipboard(|| {
            Err(CaptureError::Clipboard { reason: "no X server".to_owned() })
        })
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::Clipboard);
        assert!(err.message.contains("no X server"), "{}", err.message);
    }

    #[test]
    fn a_pasted_link_opens_the_same_preview_as_its_qr_code() {
        let (_dir, accounts) = accounts();
        let found = found_in_text(&format!("  {ACCOUNT}  ")).unwrap();
        let preview = Scans::default().preview(accounts.vault(), &found).unwrap();
        assert_eq!(preview.entries[0].label, "Bitrise (ada@example.com)");
    }

    #[test]
    fn an_image_without_codes_says_what_to_try() {
        let (_dir, accounts) = accounts();
        let err = Scans::default().preview(accounts.vault(), &[]).unwrap_err();
        assert_eq!(err.code, ErrorCode::NoQrCode);
        assert!(err.message.contains("not cropped"), "{}", err.message);
    }
}
