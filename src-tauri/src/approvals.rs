//! The trusted device in the app: the connections to paired servers (twofold-device's
//! supervisor, started with the app and running while the window is in the tray), a desktop
//! notification for each verified sign-in request, and the events the request view follows.
//! Keys, signatures and connections are the library's; this module only shows and forwards.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use notify_rust::{Notification, Timeout, Urgency};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use twofold_device::approval::Decided;
use twofold_device::{Device, Outcome, RequestKey, RequestView, Supervisor, Update};
use twofold_protocol::{Answer, Mode};
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};
use crate::{AppKeystore, AppState, desktop};

/// A new verified request (payload: the RequestView).
pub const APPROVAL_REQUEST: &str = "approval-request";
/// A request left the screen (payload: `{server, request, reason}`).
pub const APPROVAL_WITHDRAWN: &str = "approval-withdrawn";
/// The paired servers or their states changed.
pub const SERVERS_CHANGED: &str = "servers-changed";
/// The person opened a request from its notification (payload: `{server, request}`).
pub const APPROVAL_OPEN: &str = "approval-open";
/// While locked, the requests waiting changed (no payload: the lock screen asks
/// `waiting_requests`, which tells only the service and the time left).
pub const APPROVAL_WAITING: &str = "approval-waiting";

/// The notification's last line while the window is locked.
const UNLOCK_TO_ANSWER: &str = "Unlock Twofold to answer";

/// The trusted device: the supervisor once started, and the notification shown for each request.
#[derive(Default)]
pub struct Approvals {
    supervisor: OnceLock<Result<Supervisor<AppKeystore>, ApiError>>,
    notifications: Mutex<HashMap<RequestKey, u32>>,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Approvals")
    }
}

impl Approvals {
    /// The supervisor, or why the trusted device is not available.
    pub fn supervisor(&self) -> Result<&Supervisor<AppKeystore>, ApiError> {
        match self.supervisor.get() {
            Some(Ok(supervisor)) => Ok(supervisor),
            Some(Err(err)) => Err(err.clone()),
            None => Err(ApiError::new(ErrorCode::Approval, "the trusted device is still starting")),
        }
    }

    /// The device (keys, history, requests on screen).
    pub fn device(&self) -> Result<&Arc<Device<AppKeystore>>, ApiError> {
        Ok(self.supervisor()?.device())
    }

    fn remember(&self, request: RequestKey, notification: u32) {
        self.lock().insert(request, notification);
    }

    /// Takes `request`'s notification off the screen (answered in the window or elsewhere, or
    /// expired), so it offers no answer the server would refuse.
    pub fn close_notification(&self, request: RequestKey) {
        let Some(id) = self.lock().remove(&request) else { return };
        close_on_daemon(id);
    }

    /// Takes notification `id` of `request` off the screen, and forgets it if it is still the
    /// request's notification (not one that replaced it).
    fn close_own_notification(&self, request: RequestKey, id: u32) {
        let mut notifications = self.lock();
        if notifications.get(&request) == Some(&id) {
            notifications.remove(&request);
        }
        drop(notifications);
        close_on_daemon(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RequestKey, u32>> {
        self.notifications.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Asks the notification daemon to close notification `id`, on a thread of its own (D-Bus).
fn close_on_daemon(id: u32) {
    std::thread::spawn(move || {
        let closed = zbus::blocking::Connection::session().and_then(|bus| {
            bus.call_method(
                Some("org.freedesktop.Notifications"),
                "/org/freedesktop/Notifications",
                Some("org.freedesktop.Notifications"),
                "CloseNotification",
                &(id,),
            )
        });
        if let Err(err) = closed {
            tracing::debug!(error = %err, "could not close a notification");
        }
    });
}

/// Opens the device beside the vault and starts its connections; updates become events and
/// notifications.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    // The device's keys follow the vault's keystore (the file's while it is unlocked).
    let opened = state.accounts_even_locked().map(|accounts| {
        let dir = accounts.vault().dir().join(twofold_device::DIR_IN_DATA);
        (dir, accounts.vault().keystore().device_keys())
    });
    let started = opened.and_then(|(dir, keys)| {
        let device = Device::open(dir, keys).map_err(from_device)?;
        let runtime = tauri::async_runtime::handle().inner().clone();
        Supervisor::start(Arc::new(device), runtime).map_err(from_device)
    });
    let receiver = match started {
        Ok((supervisor, receiver)) => {
            let _ = app.state::<Approvals>().supervisor.set(Ok(supervisor));
            receiver
        }
        Err(err) => {
            tracing::warn!(error = %err, "the trusted device cannot start");
            let _ = app.state::<Approvals>().supervisor.set(Err(err));
            return;
        }
    };
    let resumed = app.clone();
    let spawned = std::thread::Builder::new().name("resume".to_owned()).spawn(move || {
        if let Err(err) = follow_resume(&resumed) {
            tracing::info!(error = %err, "resume and network changes cannot be followed");
        }
    });
    if let Err(err) = spawned {
        tracing::warn!(error = %err, "resume and network changes cannot be followed");
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut receiver = receiver;
        while let Some(update) = receiver.recv().await {
            forward(&app, update);
        }
    });
}

/// The system's signals after which the connections start afresh: logind's `PrepareForSleep`
/// and NetworkManager's `StateChanged`.
const RESUME_SIGNALS: [(&str, &str); 2] = [
    ("org.freedesktop.login1.Manager", "PrepareForSleep"),
    ("org.freedesktop.NetworkManager", "StateChanged"),
];

/// NetworkManager's state "connected, with global connectivity" (`NM_STATE_CONNECTED_GLOBAL`).
const NM_CONNECTED_GLOBAL: u32 = 70;

/// Wakes the connections when the machine resumes from sleep (`PrepareForSleep(false)`) or the
/// network comes back, so requests waiting on the servers show at once rather than after the
/// back-off, and streams that died while asleep are replaced.
fn follow_resume<R: Runtime>(app: &AppHandle<R>) -> zbus::Result<()> {
    let bus = zbus::blocking::Connection::system()?;
    desktop::follow_signals(&bus, &RESUME_SIGNALS, |interface, message| {
        let body = message.body();
        let woke = if interface == RESUME_SIGNALS[0].0 {
            body.deserialize::<bool>().is_ok_and(|sleeping| !sleeping)
        } else {
            body.deserialize::<u32>().is_ok_and(|state| state == NM_CONNECTED_GLOBAL)
        };
        if !woke {
            return;
        }
        match app.state::<Approvals>().supervisor() {
            Ok(supervisor) => {
                tracing::info!(signal = interface, "resumed or back online: reconnecting");
                supervisor.wake();
            }
            Err(err) => tracing::debug!(error = %err, "nothing to wake"),
        }
    })
}

fn forward<R: Runtime>(app: &AppHandle<R>, update: Update) {
    let locked = app.state::<AppState>().lock().is_locked();
    let sent = match update {
        Update::Request(view) => {
            notify(app, &view);
            // Locked, the page learns only that something waits: no user, place or address
            // reaches it until the passphrase is typed.
            if locked { app.emit(APPROVAL_WAITING, ()) } else { app.emit(APPROVAL_REQUEST, view) }
        }
        Update::Withdrawn(withdrawal) => {
            app.state::<Approvals>().close_notification((withdrawal.server, withdrawal.request));
            if locked {
                let _ = app.emit(APPROVAL_WAITING, ());
            }
            app.emit(APPROVAL_WITHDRAWN, withdrawal)
        }
        Update::ServersChanged(_) => app.emit(SERVERS_CHANGED, ()),
    };
    if let Err(err) = sent {
        tracing::warn!(error = %err, "could not tell the window about a sign-in request");
    }
}

/// Escapes `text` for a daemon that renders the body as markup (`body-markup`): a service
/// or user name such as `<b>` or `&amp;` must read as typed, never as formatting.
fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// The notification's text: what the person needs to judge the request at a glance, escaped
/// when the daemon renders markup. Locked, it says the window must be unlocked to answer.
fn body(view: &RequestView, locked: bool, markup: bool) -> String {
    let mut lines = vec![view.user.clone()];
    lines.extend(view.context.clone());
    lines.push(view.location.text.clone());
    lines.push(format!("{} · {}", view.device, view.ip));
    if locked {
        lines.push(UNLOCK_TO_ANSWER.to_owned());
    }
    let text = lines.join("\n");
    if markup { escape_markup(&text) } else { text }
}

/// Whether the notification daemon renders the body as markup (its `body-markup` capability).
fn daemon_renders_markup() -> bool {
    notify_rust::get_capabilities().is_ok_and(|caps| caps.iter().any(|c| c == "body-markup"))
}

/// Shows the desktop notification of `view`. Push mode offers Allow and Don't Allow right there;
/// number and code mode, and any request while the window is locked, only Open. When no
/// notification can be shown, the window is raised and marked urgent instead: a request is
/// never only a log line.
fn notify<R: Runtime>(app: &AppHandle<R>, view: &RequestView) {
    let locked = app.state::<AppState>().lock().is_locked();
    let app = app.clone();
    let view = view.clone();
    // Showing talks to the notification daemon and the action wait blocks: a thread of its own.
    let spawned = std::thread::Builder::new().name("notification".to_owned()).spawn(move || {
        let mut notification = Notification::new();
        notification
            .appname("Twofold")
            .summary(&format!("Sign in to {}?", view.service))
            .body(&body(&view, locked, daemon_renders_markup()))
            .urgency(Urgency::Critical)
            .timeout(Timeout::Never)
            .action("default", "Open");
        if view.mode == Mode::Push && !locked {
            notification.action("allow", "Allow").action("deny", "Don't Allow");
        } else {
            notification.action("open", "Open");
        }
        let handle = match notification.show() {
            Ok(handle) => handle,
            Err(err) => {
                tracing::warn!(error = %err, "no desktop notification: raising the window");
                desktop::demand_attention(&app);
                return;
            }
        };
        let (key, id) = ((view.server, view.id), handle.id());
        app.state::<Approvals>().remember(key, id);
        handle.wait_for_action(|action| on_action(&app, key, id, action));
    });
    if let Err(err) = spawned {
        tracing::warn!(error = %err, "no desktop notification for a sign-in request");
    }
}

/// The window locked: each request's notification is replaced by one that only opens the window
/// (whose lock screen says a request waits), so nobody at the machine answers through the lock.
pub fn on_lock<R: Runtime>(app: &AppHandle<R>) {
    let approvals = app.state::<Approvals>();
    let Ok(device) = approvals.device() else { return };
    for view in device.shown() {
        let key = (view.server, view.id);
        if approvals.lock().contains_key(&key) {
            approvals.close_notification(key);
            notify(app, &view);
        }
    }
    if let Err(err) = app.emit(APPROVAL_WAITING, ()) {
        tracing::warn!(error = %err, "could not tell the lock screen about waiting requests");
    }
}

/// What notification `notification` of `request` does when acted on.
fn on_action<R: Runtime>(app: &AppHandle<R>, request: RequestKey, notification: u32, action: &str) {
    // Not every daemon closes a notification whose action was picked (dunst's menu does not):
    // left on the screen, it would offer an answer the server then refuses.
    app.state::<Approvals>().close_own_notification(request, notification);
    let answer = match action {
        "allow" => Answer::Allow,
        "deny" => Answer::Deny,
        "default" | "open" => return open(app, request),
        // Closed or dismissed: the request stays in the window.
        _ => return,
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let (state, approvals) = (app.state::<AppState>(), app.state::<Approvals>());
        match decide(&state, &approvals, request, answer, None).await {
            Ok(outcome) => {
                tracing::info!(status = ?outcome.status, "answered from the notification");
                let closed = Closed {
                    server: request.0,
                    request: request.1,
                    reason: "decided",
                    status: Some(outcome.status),
                };
                if let Err(err) = app.emit(APPROVAL_WITHDRAWN, closed) {
                    tracing::warn!(error = %err, "could not tell the window");
                }
            }
            // The window says why (or, locked, that a request waits), and the request can
            // still be answered there.
            Err(err) => {
                tracing::warn!(error = %err, "the answer from the notification was not sent");
                open(&app, request);
            }
        }
    });
}

/// A request that left the screen because this device answered it from its notification.
#[derive(Debug, Clone, Copy, Serialize)]
struct Closed {
    server: Uuid,
    request: Uuid,
    reason: &'static str,
    /// How it was answered, so the window says which answer was given.
    status: Option<Decided>,
}

/// Shows the window on `request` (locked: on the lock screen, which says a request waits).
fn open<R: Runtime>(app: &AppHandle<R>, (server, request): RequestKey) {
    desktop::show_window(app);
    #[derive(Serialize, Clone, Copy)]
    struct Open {
        server: Uuid,
        request: Uuid,
    }
    if let Err(err) = app.emit(APPROVAL_OPEN, Open { server, request }) {
        tracing::warn!(error = %err, "could not open the request in the window");
    }
}

/// Answers `request`: the one path of the window's buttons and the notification's actions,
/// refused while the window is locked. A request the answer ended loses its notification.
pub async fn decide(
    state: &AppState,
    approvals: &Approvals,
    request: RequestKey,
    answer: Answer,
    number: Option<u32>,
) -> Result<Outcome, ApiError> {
    state.ensure_unlocked()?;
    let device = approvals.device()?;
    let decided = device.decide(request.0, request.1, answer, number).await;
    // Answered here, or ended by the answer (a decoy picked refuses the sign-in): the
    // notification must not offer answers any more.
    if !device.shown().iter().any(|view| (view.server, view.id) == request) {
        approvals.close_notification(request);
    }
    decided.map_err(from_decide)
}

/// A request waiting while the window is locked, as the lock screen shows it: nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    /// The service being signed in to.
    pub service: String,
    /// When the request stops accepting answers, Unix seconds.
    pub expires_at: u64,
}

/// The requests waiting for an answer, as the lock screen shows them.
pub fn waiting(approvals: &Approvals) -> Result<Vec<Waiting>, ApiError> {
    let shown = approvals.device()?.shown();
    Ok(shown
        .into_iter()
        .map(|view| Waiting { service: view.service, expires_at: view.expires_at })
        .collect())
}

/// What unpairing did, as the page reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Unpaired {
    /// Why the server could not be told (the device stopped listening anyway), if it could not.
    pub revoke_failed: Option<String>,
}

/// A device error as the UI shows it.
pub fn from_device(err: twofold_device::DeviceError) -> ApiError {
    ApiError::new(ErrorCode::Approval, err)
}

/// A decision error as the UI shows it.
pub fn from_decide(err: twofold_device::DecideError) -> ApiError {
    ApiError::new(ErrorCode::Approval, err)
}

/// The answer the page sends: "allow", "deny" or "report".
pub fn answer(decision: &str) -> Result<Answer, ApiError> {
    match decision {
        "allow" => Ok(Answer::Allow),
        "deny" => Ok(Answer::Deny),
        "report" => Ok(Answer::Report),
        other => Err(ApiError::new(ErrorCode::Approval, format!("unknown answer {other:?}"))),
    }
}

/// The choice picked in number mode, if any (the device checks it is one of the signed choices).
pub fn number(picked: Option<&str>) -> Result<Option<u32>, ApiError> {
    let Some(picked) = picked.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    picked.parse().map(Some).map_err(|_| {
        ApiError::new(ErrorCode::Approval, "pick one of the numbers offered for this sign-in")
    })
}
