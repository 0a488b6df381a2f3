//! Desktop integration: the tray icon (Show, Lock, Quit), closing the window into the tray, one
//! instance per data directory (a second start shows the first), starting hidden, and the
//! session's autostart entry.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};
use uuid::Uuid;

use crate::{AppState, lock};

/// The argument that starts the app in the tray, window hidden (the autostart entry passes it).
pub const HIDDEN_ARG: &str = "--hidden";
/// The label of the one window.
pub const MAIN_WINDOW: &str = "main";

/// The tray menu's items: id and text.
const MENU: [(&str, &str); 3] = [("show", "Show Twofold"), ("lock", "Lock"), ("quit", "Quit")];

/// Shows, raises and focuses the window.
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else { return };
    let shown = window.show().and_then(|()| window.unminimize()).and_then(|()| window.set_focus());
    if let Err(err) = shown {
        tracing::warn!(error = %err, "could not show the window");
    }
}

/// Shows and raises the window and marks it urgent, without taking the focus from what the
/// person types elsewhere: what a sign-in request does when no notification can be shown.
pub fn demand_attention<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else { return };
    let shown = window
        .show()
        .and_then(|()| window.unminimize())
        .and_then(|()| window.request_user_attention(Some(tauri::UserAttentionType::Critical)));
    if let Err(err) = shown {
        tracing::warn!(error = %err, "could not raise the window for a sign-in request");
    }
}

/// Hides the window into the tray, or closes it (which quits) when the person did not ask for the
/// tray: the same path as the title bar's close button.
pub fn close_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW)
        && let Err(err) = window.close()
    {
        tracing::warn!(error = %err, "could not close the window");
    }
}

/// Adds the tray icon with its menu.
pub fn add_tray<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let items = MENU
        .iter()
        .map(|(id, text)| MenuItem::with_id(app, *id, *text, true, None::<&str>))
        .collect::<tauri::Result<Vec<_>>>()?;
    let refs: Vec<&dyn tauri::menu::IsMenuItem<R>> =
        items.iter().map(|item| item as &dyn tauri::menu::IsMenuItem<R>).collect();
    let menu = Menu::with_items(app, &refs)?;
    let mut tray = TrayIconBuilder::with_id("twofold")
        .tooltip("Twofold")
        .menu(&menu)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()));
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// What a tray menu item does.
pub fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        "show" => show_window(app),
        "lock" => lock::lock_now(app),
        "quit" => app.exit(0),
        other => tracing::debug!(other, "unknown tray menu item"),
    }
}

/// The D-Bus name of a tray host's watcher: where StatusNotifierItems (our tray icon) register.
const TRAY_WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// Whether this desktop has a tray to keep the app in (a StatusNotifierWatcher on the session
/// bus): stock GNOME without the AppIndicator extension has none, and a window hidden there
/// could not be found again.
pub fn tray_available() -> bool {
    let owned = zbus::blocking::Connection::session().and_then(|bus| {
        let proxy = zbus::blocking::fdo::DBusProxy::new(&bus)?;
        Ok(proxy.name_has_owner(zbus::names::BusName::try_from(TRAY_WATCHER)?)?)
    });
    owned.unwrap_or_else(|err| {
        tracing::debug!(error = %err, "cannot tell whether a tray exists");
        false
    })
}

/// Closing the window keeps the app in the tray when the person chose that and a tray exists;
/// without a tray it minimises (sign-in requests still reach a running app) and says so once.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else { return };
    if window.label() != MAIN_WINDOW {
        return;
    }
    let state = window.app_handle().state::<AppState>();
    let keep_running =
        state.accounts_even_locked().is_ok_and(|accounts| accounts.settings().get().close_to_tray);
    if !keep_running {
        return;
    }
    api.prevent_close();
    if tray_available() {
        if let Err(err) = window.hide() {
            tracing::warn!(error = %err, "could not hide the window");
        }
        return;
    }
    if let Err(err) = window.minimize() {
        tracing::warn!(error = %err, "could not minimise the window");
    }
    tell_minimised_once();
}

/// Tells the person, once per run, that closing minimised the window rather than quitting.
fn tell_minimised_once() {
    static TOLD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if TOLD.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    std::thread::spawn(|| {
        let shown = notify_rust::Notification::new()
            .appname("Twofold")
            .summary(MINIMISED_SUMMARY)
            .body(MINIMISED_BODY)
            .show();
        if let Err(err) = shown {
            tracing::info!(error = %err, "could not say that the window was minimised");
        }
    });
}

/// What the person reads the first time closing minimises the window.
const MINIMISED_SUMMARY: &str = "Twofold is still running";
/// Why, and how to quit.
const MINIMISED_BODY: &str = "This desktop has no tray, so the window was minimised instead of \
    closed: sign-in requests still reach you. Ctrl+Q quits.";

/// Whether the window starts hidden in the tray: asked by argument (the autostart entry) or by
/// the setting, and only where a tray exists to show it from.
pub fn starts_hidden(state: &AppState, hidden_arg: bool) -> bool {
    let minimised = state.accounts_even_locked().is_ok_and(|a| a.settings().get().start_minimised);
    if !(hidden_arg || minimised) {
        return false;
    }
    if !tray_available() {
        tracing::info!("no tray on this desktop: starting with the window shown");
        return false;
    }
    tracing::info!("starting in the tray");
    true
}

/// The D-Bus name that keeps one instance per data directory: two vaults can be open side by
/// side, the same one only once.
pub fn instance_name(data_dir: &Path) -> String {
    let dir = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_owned());
    let id = Uuid::new_v5(&Uuid::NAMESPACE_URL, dir.as_os_str().as_encoded_bytes());
    format!("org.twofold.Twofold.i{}", id.simple())
}

/// Where the first instance answers on the session bus.
const INSTANCE_PATH: &str = "/org/twofold/Twofold/Instance";
/// The interface a second start calls.
const INSTANCE_INTERFACE: &str = "org.twofold.Twofold.Instance";

/// What the first instance does with a second start's arguments, once the app exists.
type Handoff = Arc<OnceLock<Box<dyn Fn(Vec<String>) + Send + Sync>>>;

/// The first instance's object on the session bus.
struct InstanceObject {
    handoff: Handoff,
}

#[zbus::interface(name = "org.twofold.Twofold.Instance")]
impl InstanceObject {
    /// A second start of the same vault, with its arguments.
    fn started(&self, args: Vec<String>) {
        if let Some(handoff) = self.handoff.get() {
            handoff(args);
        }
    }
}

/// Whether this process is the vault's first instance.
pub enum Start {
    /// The first: it keeps the name while this value lives.
    First(FirstInstance),
    /// Another process has the vault open and was handed this start.
    Second,
}

/// The first instance's hold on its name.
pub struct FirstInstance {
    _connection: zbus::blocking::Connection,
    handoff: Handoff,
}

impl FirstInstance {
    /// What to do when a second start arrives.
    pub fn on_second_start(&self, handoff: impl Fn(Vec<String>) + Send + Sync + 'static) {
        // Set once, after the app is built; a start before that finds the window showing anyway.
        let _ = self.handoff.set(Box::new(handoff));
    }
}

/// Claims `name` on the session bus, or hands `args` to the process that has it. Done before any
/// window or GTK exists: a process that leaves from inside GTK's start can crash on its way out
/// (seen with tauri-plugin-single-instance's exit from its setup here: SIGSEGV).
pub fn claim_instance(name: &str, args: Vec<String>) -> zbus::Result<Start> {
    let handoff = Handoff::default();
    let object = InstanceObject { handoff: handoff.clone() };
    let built = zbus::blocking::connection::Builder::session()?
        .name(name)?
        .replace_existing_names(false)
        .allow_name_replacements(false)
        .serve_at(INSTANCE_PATH, object)?
        .build();
    match built {
        Ok(connection) => Ok(Start::First(FirstInstance { _connection: connection, handoff })),
        Err(zbus::Error::NameTaken) => {
            let connection = zbus::blocking::Connection::session()?;
            connection.call_method(
                Some(name),
                INSTANCE_PATH,
                Some(INSTANCE_INTERFACE),
                "Started",
                &(args,),
            )?;
            Ok(Start::Second)
        }
        Err(err) => Err(err),
    }
}

/// A second start shows the first one's window, unless it was the session's autostart.
pub fn on_second_start<R: Runtime>(app: &AppHandle<R>, args: &[String]) {
    if args.iter().any(|arg| arg == HIDDEN_ARG) {
        tracing::info!("second start asked to stay hidden");
    } else {
        show_window(app);
    }
}

/// Calls `on(interface, message)` for each signal `member` of `interface` on `bus`, for the
/// `(interface, member)` pairs in `wanted`, until the bus goes away. Blocks: run it on a thread
/// of its own.
pub fn follow_signals(
    bus: &zbus::blocking::Connection,
    wanted: &[(&str, &str)],
    mut on: impl FnMut(&str, &zbus::Message),
) -> zbus::Result<()> {
    let proxy = zbus::blocking::fdo::DBusProxy::new(bus)?;
    for &(interface, member) in wanted {
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(interface)?
            .member(member)?
            .build();
        proxy.add_match_rule(rule)?;
    }
    for message in zbus::blocking::MessageIterator::from(bus) {
        let Ok(message) = message else { continue };
        let header = message.header();
        let (Some(interface), Some(member)) = (header.interface(), header.member()) else {
            continue;
        };
        if wanted.contains(&(interface.as_str(), member.as_str())) {
            on(interface.as_str(), &message);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instance_name_per_data_directory() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let name = instance_name(a.path());
        assert!(name.starts_with("org.twofold.Twofold.i"), "{name}");
        assert_eq!(name, instance_name(&a.path().join(".")));
        assert_ne!(name, instance_name(b.path()));
        // A D-Bus name element: letters, digits and underscores, not starting with a digit.
        let last = name.rsplit('.').next().unwrap();
        assert!(last.chars().all(|c| c.is_ascii_alphanumeric()) && last.starts_with('i'));
    }
}
