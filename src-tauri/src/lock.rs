//! The window lock. With a passphrase set (core's `lock`: an Argon2id hash in the keyring) the app
//! starts locked, locks after the chosen idle time, when the desktop's screen locks, and on demand
//! (button, Ctrl+L, tray). While locked [`AppState::accounts`](crate::AppState::accounts) refuses
//! every account command, so no code or secret can reach the page whatever the page asks.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::{AppState, approvals, desktop};

/// The event telling the page the lock changed; its payload is the [`LockStatus`].
pub const LOCK_CHANGED: &str = "lock-changed";

/// How often the idle time is checked.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Which full-window screen the lock shows, and what unlocks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Screen {
    /// The app lock's passphrase (a hash in the keyring).
    Passphrase,
    /// The passphrase of the vault's secrets file, which doubles as the app lock.
    SecretsFile,
    /// No Secret Service runs: what to install, Retry, or an encrypted file instead.
    NoKeyring,
    /// The Secret Service's keyring is locked, or its unlock prompt was refused: Retry.
    KeyringLocked,
}

/// What the page needs to know about the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockStatus {
    /// A passphrase is set.
    pub enabled: bool,
    /// The window is locked now.
    pub locked: bool,
    /// Why it is locked though no passphrase may be set: the keyring could not say whether one
    /// is (or is not there at all), and a lock that cannot tell stays shut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The screen shown while locked (and, unlocked, which passphrase locks).
    pub screen: Screen,
}

/// Whether the window is locked, and when the person last did something in it.
#[derive(Debug)]
pub struct WindowLock(Mutex<Inner>);

#[derive(Debug)]
struct Inner {
    enabled: bool,
    locked: bool,
    unknown: Option<String>,
    screen: Screen,
    last_activity: Instant,
}

impl WindowLock {
    /// A lock that starts locked when a passphrase is set.
    pub fn new(enabled: bool) -> Self {
        Self(Mutex::new(Inner {
            enabled,
            locked: enabled,
            unknown: None,
            screen: Screen::Passphrase,
            last_activity: Instant::now(),
        }))
    }

    /// The lock of a vault whose secrets are in its file: locked until the file's passphrase
    /// opens it.
    pub fn secrets_file() -> Self {
        Self(Mutex::new(Inner {
            enabled: true,
            locked: true,
            unknown: None,
            screen: Screen::SecretsFile,
            last_activity: Instant::now(),
        }))
    }

    /// A lock shut because the keyring is missing or locked (`screen` says which, `reason` in
    /// words); Retry asks the keyring again.
    pub fn keyring(screen: Screen, reason: String) -> Self {
        Self(Mutex::new(Inner {
            enabled: true,
            locked: true,
            unknown: Some(reason),
            screen,
            last_activity: Instant::now(),
        }))
    }

    /// A lock that starts locked because whether a passphrase is set is unknown (`reason` says
    /// why, for the lock screen); unlocking asks again.
    pub fn unknown(reason: String) -> Self {
        Self(Mutex::new(Inner {
            enabled: true,
            locked: true,
            unknown: Some(reason),
            screen: Screen::Passphrase,
            last_activity: Instant::now(),
        }))
    }

    /// Whether it is unknown whether a passphrase is set (the keyring did not say at start).
    pub fn is_unknown(&self) -> bool {
        self.inner().unknown.is_some()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current state.
    pub fn status(&self) -> LockStatus {
        let inner = self.inner();
        LockStatus {
            enabled: inner.enabled,
            locked: inner.locked,
            reason: inner.unknown.clone(),
            screen: inner.screen,
        }
    }

    /// Whether account commands are refused now.
    pub fn is_locked(&self) -> bool {
        self.inner().locked
    }

    /// The person did something in the window: the idle time starts again.
    pub fn touch(&self) {
        self.inner().last_activity = Instant::now();
    }

    /// The screen shown while locked.
    pub fn screen(&self) -> Screen {
        self.inner().screen
    }

    /// Locks, if a passphrase is set; whether that changed anything.
    pub(crate) fn lock(&self) -> bool {
        let mut inner = self.inner();
        let changed = inner.enabled && !inner.locked;
        inner.locked |= inner.enabled;
        changed
    }

    /// Unlocks (the caller checked the passphrase).
    pub fn unlock(&self) {
        let mut inner = self.inner();
        inner.locked = false;
        inner.last_activity = Instant::now();
    }

    /// A passphrase was set (or removed, which also unlocks), or the keyring said which: the
    /// app lock's passphrase locks from now on.
    pub fn set_enabled(&self, enabled: bool) {
        let mut inner = self.inner();
        inner.enabled = enabled;
        inner.unknown = None;
        inner.screen = Screen::Passphrase;
        inner.locked &= enabled;
        inner.last_activity = Instant::now();
    }

    /// The vault's secrets are now in its file, open: its passphrase locks from now on.
    pub fn use_secrets_file(&self) {
        let mut inner = self.inner();
        inner.enabled = true;
        inner.locked = false;
        inner.unknown = None;
        inner.screen = Screen::SecretsFile;
        inner.last_activity = Instant::now();
    }

    /// Whether nothing was done in the window for `limit` or longer.
    fn is_idle_for(&self, limit: Duration) -> bool {
        self.inner().last_activity.elapsed() >= limit
    }
}

/// Locks the window now (when a passphrase is set) and tells the page.
pub fn lock_now<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    if state.lock_window() {
        tracing::info!("locked");
        announce(app, state.lock().status());
    }
}

/// Tells the page the lock changed; locked, the sign-in requests' notifications stop offering
/// answers.
pub fn announce<R: Runtime>(app: &AppHandle<R>, status: LockStatus) {
    let locked = status.locked;
    if let Err(err) = app.emit(LOCK_CHANGED, status) {
        tracing::warn!(error = %err, "could not tell the window the lock changed");
    }
    if locked {
        approvals::on_lock(app);
    }
}

/// Starts the threads that lock after the idle time and on the desktop's screen lock.
pub fn spawn<R: Runtime>(app: &AppHandle<R>) -> std::io::Result<()> {
    let idle_app = app.clone();
    std::thread::Builder::new().name("idle-lock".to_owned()).spawn(move || {
        loop {
            std::thread::sleep(IDLE_CHECK);
            let state = idle_app.state::<AppState>();
            let Ok(accounts) = state.accounts_even_locked() else { return };
            let after = accounts.settings().get().lock_after_seconds;
            if after > 0
                && state.lock().is_idle_for(Duration::from_secs(after.into()))
                && state.lock_window()
            {
                tracing::info!(after, "locked after idle time");
                announce(&idle_app, state.lock().status());
            }
        }
    })?;
    let screen_app = app.clone();
    std::thread::Builder::new().name("screen-lock".to_owned()).spawn(move || {
        if let Err(err) = follow_screen_lock(&screen_app) {
            tracing::info!(error = %err, "the desktop's screen lock cannot be followed");
        }
    })?;
    Ok(())
}

/// The screen savers' signals whose `ActiveChanged(true)` means the screen locked: the
/// freedesktop one (KDE, Xfce, most others) and GNOME's own.
const SCREEN_SAVERS: [(&str, &str); 2] =
    [("org.freedesktop.ScreenSaver", "ActiveChanged"), ("org.gnome.ScreenSaver", "ActiveChanged")];

/// Listens on the session bus for the screen saver's signal, and locks when the person asked for it.
fn follow_screen_lock<R: Runtime>(app: &AppHandle<R>) -> zbus::Result<()> {
    let bus = zbus::blocking::Connection::session()?;
    desktop::follow_signals(&bus, &SCREEN_SAVERS, |_, message| {
        let active: bool = message.body().deserialize().unwrap_or(false);
        let state = app.state::<AppState>();
        let wanted = state
            .accounts_even_locked()
            .is_ok_and(|accounts| accounts.settings().get().lock_on_screen_lock);
        if active && wanted {
            tracing::info!("the screen locked");
            lock_now(app);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_locked_only_with_a_passphrase_and_unlocks() {
        let open = WindowLock::new(false);
        let status =
            LockStatus { enabled: false, locked: false, reason: None, screen: Screen::Passphrase };
        assert_eq!(open.status(), status);
        assert!(!open.lock(), "no passphrase, no lock");
        let lock = WindowLock::new(true);
        assert!(lock.is_locked());
        lock.unlock();
        assert!(!lock.is_locked());
        assert!(lock.lock());
        assert!(!lock.lock(), "already locked: nothing changes");
    }

    #[test]
    fn idle_time_counts_and_activity_restarts_it() {
        let lock = WindowLock::new(true);
        lock.unlock();
        assert!(!lock.is_idle_for(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(30));
        assert!(lock.is_idle_for(Duration::from_millis(20)));
        lock.touch();
        assert!(!lock.is_idle_for(Duration::from_millis(20)));
    }

    #[test]
    fn removing_the_passphrase_unlocks() {
        let lock = WindowLock::new(true);
        lock.set_enabled(false);
        let open =
            LockStatus { enabled: false, locked: false, reason: None, screen: Screen::Passphrase };
        assert_eq!(lock.status(), open);
        lock.set_enabled(true);
        assert_eq!(lock.status(), LockStatus { enabled: true, ..open });
    }
}
