//! The sign-in portal: Twofold as the sign-in of self-hosted web apps behind nginx, Caddy or
//! Traefik. The portal is a relying party of this server like any other (its own service, whose
//! API key nobody holds): its users' devices pair, receive sign-in requests and answer as with
//! any service, and its audit entries are in that service's log.
//!
//! Each protected site's proxy sends `/twofold/` to this server and asks `/twofold/auth` before
//! every request (see the README's "Put Twofold in front of a web app"):
//! - `GET /twofold/signin?rd=URL[&again=1]`, `POST /twofold/signin`: user name → request to the
//!   devices (`again=1`: even with a live session, for OpenID Connect's `prompt=login`);
//!   `GET /twofold/signin/pending` shows the number (number matching) and, in code mode, the code
//!   field; `POST /twofold/signin/continue` turns an allowed request into a session;
//!   `GET /twofold/signin/status` is what the page's script waits on.
//! - `GET|POST /twofold/recover`: sign in with a recovery code.
//! - `ANY /twofold/auth`: forward auth. 200 with `Remote-User`/`Remote-Name` for a live session
//!   of this site or an app password (HTTP Basic); otherwise 401 when the proxy sent
//!   `X-Original-URL` (nginx `auth_request`), else 302 to the sign-in page (Caddy, Traefik).
//! - `GET /twofold/account` and its forms: devices, trusted browsers, app passwords, recovery
//!   codes; `POST /twofold/signout`.
//! - `GET|POST /twofold/enrol/{token}`: a new user's one-time enrolment: pair, then recovery codes.
//!
//! Sessions are bound to the site (host) they started on: the cookie is host-only, and a session
//! id presented for another site is refused.

mod flow;
mod html;
mod passwords;
mod routes;
pub mod secrets;
mod sessions;
pub mod sites;
mod turns;
pub mod users;
pub mod web;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use uuid::Uuid;

pub use routes::router;
pub use sites::{PortalConfig, Site, SiteError};

use crate::app::AppState;
use crate::store::Service;

/// Says what a sign-in that returns to a URL is for ("Sign in to Grafana"), for the request
/// the device shows; `None` for a URL it does not know.
pub type SigninNamer =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Option<String>> + Send>> + Send + Sync>;

/// The portal's shared state.
pub struct Portal<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Portal<S> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

struct Inner<S> {
    app: AppState<S>,
    config: PortalConfig,
    /// The portal's service.
    service: Service,
    /// App passwords verified lately, by SHA-256 of `user \0 password`: Argon2id costs tens of
    /// milliseconds, and WebDAV or CalDAV clients send a request after another.
    verified_passwords: Mutex<HashMap<[u8; 32], VerifiedPassword>>,
    /// Recovery codes and app passwords are checked one at a time per user name.
    guesses: turns::Turns,
    /// Names sign-ins by where they return (the OpenID Connect provider names its clients).
    namer: OnceLock<SigninNamer>,
}

/// An app password that matched.
#[derive(Debug, Clone, Copy)]
struct VerifiedPassword {
    id: Uuid,
    /// When it matched (server time): the entry is believed for [`passwords::REMEMBER_SECS`].
    at: u64,
}

impl<S> Portal<S> {
    pub(crate) fn app(&self) -> &AppState<S> {
        &self.inner.app
    }

    pub(crate) fn config(&self) -> &PortalConfig {
        &self.inner.config
    }

    pub(crate) fn service(&self) -> &Service {
        &self.inner.service
    }

    /// Lets `namer` say what sign-ins are for (once: a second namer is ignored).
    pub(crate) fn name_signins_with(&self, namer: SigninNamer) {
        let _ = self.inner.namer.set(namer);
    }
}
