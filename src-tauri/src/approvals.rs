//! The trusted device in the app: the connections to paired servers (twofold-device's
//! supervisor, started with the app and running while the window is in the tray), a desktop
//! notification for each verified sign-in request, and the events the request view follows.
//! Keys, signatures and connections are the library's; this module only shows and forwards.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use notify_rust::{Notification, Timeout, Urgency};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use twofold_core::keystore::OsKeystore;
use twofold_device::{Device, RequestView, Supervisor, Update};
use twofold_protocol::{Answer, Mode};
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};
use crate::{AppState, desktop};

/// A new verified request (payload: the RequestView).
pub const APPROVAL_REQUEST: &str = "approval-request";
/// A request left the screen (payload: `{server, request, reason}`).
pub const APPROVAL_WITHDRAWN: &str = "approval-withdrawn";
/// The paired servers or their states changed.
pub const SERVERS_CHANGED: &str = "servers-changed";
/// The person opened a request from its notification (payload: `{server, request}`).
pub const APPROVAL_OPEN: &str = "approval-open";

/// The data directory's subdirectory of the trusted device (its own: the vault tidies its own).
const DEVICE_DIR: &str = "device";

/// The trusted device: the supervisor once started, and the notification shown for each request.
#[derive(Default)]
pub struct Approvals {
    supervisor: OnceLock<Result<Supervisor<OsKeystore>, ApiError>>,
    notifications: Mutex<HashMap<Uuid, u32>>,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Approvals")
    }
}

impl Approvals {
    /// The supervisor, or why the trusted device is not available.
    pub fn supervisor(&self) -> Result<&Supervisor<OsKeystore>, ApiError> {
        match self.supervisor.get() {
            Some(Ok(supervisor)) => Ok(supervisor),
            Some(Err(err)) => Err(err.clone()),
            None => Err(ApiError::new(ErrorCode::Approval, "the trusted device is still starting")),
        }
    }

    /// The device (keys, history, requests on screen).
    pub fn device(&self) -> Result<&Arc<Device<OsKeystore>>, ApiError> {
        Ok(self.supervisor()?.device())
    }

    fn remember(&self, request: Uuid, notification: u32) {
        self.lock().insert(request, notification);
    }

    fn forget(&self, request: Uuid) -> Option<u32> {
        self.lock().remove(&request)
    }

    /// Takes `request`'s notification off the screen (answered in the window or elsewhere, or
    /// expired), so it offers no answer the server would refuse.
    pub fn close_notification(&self, request: Uuid) {
        let Some(id) = self.forget(request) else { return };
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, u32>> {
        self.notifications.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Opens the device beside the vault and starts its connections; updates become events and
/// notifications.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let dir = state.accounts_even_locked().and_then(|accounts| {
        let metadata = accounts.vault().metadata_path();
        let dir = metadata.parent().map(|dir| dir.join(DEVICE_DIR));
        dir.ok_or_else(|| ApiError::new(ErrorCode::Storage, "the vault has no directory"))
    });
    let started = dir.and_then(|dir| {
        let device = Device::open(dir, OsKeystore::device_keys()).map_err(from_device)?;
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
    let sent = match update {
        Update::Request(view) => {
            notify(app, &view);
            app.emit(APPROVAL_REQUEST, view)
        }
        Update::Withdrawn(withdrawal) => {
            app.state::<Approvals>().close_notification(withdrawal.request);
            app.emit(APPROVAL_WITHDRAWN, withdrawal)
        }
        Update::ServersChanged(_) => app.emit(SERVERS_CHANGED, ()),
    };
    if let Err(err) = sent {
        tracing::warn!(error = %err, "could not tell the window about a sign-in request");
    }
}

/// The notification's text: what the person needs to judge the request at a glance.
fn body(view: &RequestView) -> String {
    format!("{}\n{}\n{} · {}", view.user, view.location.text, view.device, view.ip)
}

/// Shows the desktop notification of `view`. Push mode offers Allow and Don't Allow right there;
/// number and code mode, and any request while the window is locked, only Open.
fn notify<R: Runtime>(app: &AppHandle<R>, view: &RequestView) {
    let locked = app.state::<AppState>().lock().is_locked();
    let mut notification = Notification::new();
    notification
        .appname("Twofold")
        .summary(&format!("Sign in to {}?", view.service))
        .body(&body(view))
        .urgency(Urgency::Critical)
        .timeout(Timeout::Never)
        .action("default", "Open");
    if view.mode == Mode::Push && !locked {
        notification.action("allow", "Allow").action("deny", "Don't Allow");
    } else {
        notification.action("open", "Open");
    }
    let app = app.clone();
    let (server, request) = (view.server, view.id);
    // Showing talks to the notification daemon and the action wait blocks: a thread of its own.
    let spawned = std::thread::Builder::new().name("notification".to_owned()).spawn(move || {
        let handle = match notification.show() {
            Ok(handle) => handle,
            Err(err) => {
                tracing::warn!(error = %err, "no desktop notification for a sign-in request");
                return;
            }
        };
        app.state::<Approvals>().remember(request, handle.id());
        handle.wait_for_action(|action| on_action(&app, server, request, action));
    });
    if let Err(err) = spawned {
        tracing::warn!(error = %err, "no desktop notification for a sign-in request");
    }
}

/// What a notification's action does.
fn on_action<R: Runtime>(app: &AppHandle<R>, server: Uuid, request: Uuid, action: &str) {
    // Not every daemon closes a notification whose action was picked (dunst's menu does not):
    // left on the screen, it would offer an answer the server then refuses.
    app.state::<Approvals>().close_notification(request);
    let answer = match action {
        "allow" => Answer::Allow,
        "deny" => Answer::Deny,
        "default" | "open" => return open(app, server, request),
        // Closed or dismissed: the request stays in the window.
        _ => return,
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let decided = match app.state::<Approvals>().device() {
            Ok(device) => device.decide(request, answer, None).await.map_err(from_decide),
            Err(err) => Err(err),
        };
        match decided {
            Ok(outcome) => {
                tracing::info!(status = ?outcome.status, "answered from the notification");
                let closed = Closed { server, request, reason: "decided" };
                if let Err(err) = app.emit(APPROVAL_WITHDRAWN, closed) {
                    tracing::warn!(error = %err, "could not tell the window");
                }
            }
            // The window says why, and the request can still be answered there.
            Err(err) => {
                tracing::warn!(error = %err, "the answer from the notification failed");
                open(&app, server, request);
            }
        }
    });
}

/// A request that left the screen because this device answered it.
#[derive(Debug, Clone, Copy, Serialize)]
struct Closed {
    server: Uuid,
    request: Uuid,
    reason: &'static str,
}

/// Shows the window on `request`.
fn open<R: Runtime>(app: &AppHandle<R>, server: Uuid, request: Uuid) {
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

/// The number typed in number mode, if any.
pub fn number(typed: Option<&str>) -> Result<Option<u32>, ApiError> {
    let Some(typed) = typed.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    typed.parse().map(Some).map_err(|_| {
        ApiError::new(
            ErrorCode::Approval,
            "enter the number shown on the sign-in page (digits only)",
        )
    })
}

/// Why the window refuses answers while locked.
pub fn refuse_while_locked(state: &AppState) -> Result<(), ApiError> {
    if state.lock().is_locked() {
        return Err(ApiError::new(ErrorCode::Locked, "Twofold is locked: unlock it to answer"));
    }
    Ok(())
}
