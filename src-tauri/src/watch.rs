//! Follows changes other programs (the CLI) make to the vault: a thread stats the account list
//! twice a second and tells the UI when it changed. The same thread writes the automatic backup
//! of a change no backup covers yet (the app's own changes; the CLI backs up its own).

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager, Runtime};
use twofold_core::backup::auto;

use crate::AppState;

/// The event the UI listens to; it lists the accounts again when it arrives.
pub const VAULT_CHANGED: &str = "vault-changed";

/// The event telling the UI an automatic backup failed; its payload is the message.
pub const BACKUP_FAILED: &str = "backup-failed";

/// How often the account list is checked: one `stat`, cheap enough to feel instant.
const POLL: Duration = Duration::from_millis(500);

/// Starts the watching thread; it runs until the app exits.
pub fn spawn<R: Runtime>(app: AppHandle<R>) -> std::io::Result<()> {
    let state = app.state::<AppState>();
    let Ok(accounts) = state.accounts_even_locked() else {
        // No vault, nothing to follow: the UI already shows why.
        return Ok(());
    };
    let mut last = accounts.stamp().ok();
    std::thread::Builder::new().name("vault-watch".to_owned()).spawn(move || {
        loop {
            std::thread::sleep(POLL);
            let state = app.state::<AppState>();
            let Ok(accounts) = state.accounts_even_locked() else { return };
            match accounts.stamp() {
                Ok(stamp) if last.as_ref() != Some(&stamp) => {
                    last = Some(stamp);
                    if let Err(err) = app.emit(VAULT_CHANGED, ()) {
                        tracing::warn!(error = %err, "could not tell the window the vault changed");
                    }
                    // After the event: the window lists the change while the backup is written.
                    // A failed backup never undoes the change; the window says it failed.
                    match auto::catch_up(accounts.vault(), crate::commands::unix_now_ms()) {
                        Ok(Some(written)) => {
                            tracing::debug!(
                                accounts = written.accounts,
                                "automatic backup written"
                            );
                        }
                        Ok(None) => {}
                        Err(err) => {
                            tracing::warn!(error = %err, "the automatic backup failed");
                            let message = format!("The automatic backup failed: {err}");
                            if let Err(err) = app.emit(BACKUP_FAILED, message) {
                                tracing::warn!(error = %err, "could not tell the window");
                            }
                        }
                    }
                }
                Ok(_) => {}
                // Transient (e.g. the directory is being replaced): try again at the next tick.
                Err(err) => tracing::debug!(error = %err, "could not check the account list"),
            }
        }
    })?;
    Ok(())
}
