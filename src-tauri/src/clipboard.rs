//! Clipboard hygiene: a copied code is cleared after the chosen time, but only if the clipboard
//! still holds it (what the person copied since is theirs), and only by the newest copy's timer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt;
use twofold_core::keystore::Keystore;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::accounts::Accounts;
use crate::commands::unix_now_ms;
use crate::error::{ApiError, ErrorCode};

/// Puts the current code of account `id` on the clipboard, and clears it after the chosen time if
/// it is still there: a click on a row and GNOME Shell's search both copy through here.
pub fn copy_code<R: Runtime, K: Keystore>(
    app: &AppHandle<R>,
    accounts: &Accounts<K>,
    id: Uuid,
) -> Result<(), ApiError> {
    let code = Zeroizing::new(accounts.code_to_copy(id, unix_now_ms())?);
    app.clipboard()
        .write_text(code.as_str())
        .map_err(|err| ApiError::new(ErrorCode::Clipboard, err))?;
    let after = Duration::from_secs(accounts.settings().get().clipboard_clear_seconds.into());
    app.state::<ClipboardTimer>().copied(app, code, after);
    Ok(())
}

/// Counts copies, so a timer knows whether a newer copy took over.
#[derive(Debug, Default)]
pub struct ClipboardTimer {
    copies: Arc<AtomicU64>,
}

impl ClipboardTimer {
    /// Notes that `code` was just put on the clipboard and clears it after `after` (never when
    /// `after` is zero) if it is still there.
    pub fn copied<R: Runtime>(&self, app: &AppHandle<R>, code: Zeroizing<String>, after: Duration) {
        let copy = self.copies.fetch_add(1, Ordering::SeqCst) + 1;
        if after.is_zero() {
            return;
        }
        let copies = Arc::clone(&self.copies);
        let app = app.clone();
        let spawned =
            std::thread::Builder::new().name("clipboard-clear".to_owned()).spawn(move || {
                std::thread::sleep(after);
                if copies.load(Ordering::SeqCst) != copy {
                    return;
                }
                let clipboard = app.clipboard();
                let read = || clipboard.read_text().map(Zeroizing::new);
                match clear_if_unchanged(read, || clipboard.clear(), &code) {
                    Ok(true) => tracing::info!("copied code cleared from the clipboard"),
                    Ok(false) => {
                        tracing::debug!("the clipboard changed since the copy; left as it is")
                    }
                    Err(err) => tracing::warn!(error = %err, "could not clear the clipboard"),
                }
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "cannot start the clipboard timer");
        }
    }
}

/// Clears the clipboard when `read` gives `code`; says whether it did. An unreadable clipboard
/// (empty, or holding an image) is not ours to clear.
fn clear_if_unchanged<E>(
    read: impl FnOnce() -> Result<Zeroizing<String>, E>,
    clear: impl FnOnce() -> Result<(), E>,
    code: &str,
) -> Result<bool, E> {
    match read() {
        Ok(text) if text.as_str() == code => clear().map(|()| true),
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn clears_only_the_code_it_copied() {
        let cleared = Cell::new(false);
        let clear = || -> Result<(), ()> {
            cleared.set(true);
            Ok(())
        };
        let ours = || Ok(Zeroizing::new("123456".to_owned()));
        assert_eq!(clear_if_unchanged(ours, clear, "123456"), Ok(true));
        assert!(cleared.get());

        cleared.set(false);
        let theirs = || Ok(Zeroizing::new("a note".to_owned()));
        assert_eq!(clear_if_unchanged(theirs, clear, "123456"), Ok(false));
        let unreadable = || Err(());
        assert_eq!(clear_if_unchanged(unreadable, clear, "123456"), Ok(false));
        assert!(!cleared.get());
    }
}
