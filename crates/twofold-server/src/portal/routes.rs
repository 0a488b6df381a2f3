//! The portal's HTTP routes (listed in the module docs): each reads the request, calls one
//! operation of [`Portal`], and renders a page, a redirect or a forward-auth answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde::Deserialize;
use url::Url;
use uuid::Uuid;

use super::flow::Progress;
use super::html::{self, AccountView, url_encode};
use super::sessions::Started;
use super::sites::{PortalConfig, Site};
use super::users::{self, UserError};
use super::web::{
    ATTEMPT_COOKIE, Browser, CSRF_COOKIE, SESSION_COOKIE, cookie, csrf_matches, escape,
    header_text, secured, session_csrf, set_cookie,
};
use super::{Inner, Portal};
use crate::app::AppState;
use crate::clock::random;
use crate::error::AppError;
use crate::store::portal::{PortalStore, Session};

/// The portal's routes over the server's state; adds the portal's service if it is missing.
pub async fn router<S: PortalStore>(
    app: AppState<S>,
    config: PortalConfig,
) -> Result<Router, UserError> {
    Ok(Portal::start(app, config).await?.routes())
}

impl<S: PortalStore> Portal<S> {
    /// The portal over the server's state; adds the portal's service if it is missing.
    pub async fn start(app: AppState<S>, config: PortalConfig) -> Result<Self, UserError> {
        let inner = app.get();
        let service = users::portal_service(
            &inner.store,
            &config.name,
            inner.clock.now(),
            inner.entropy.as_ref(),
        )
        .await?;
        Ok(Portal {
            inner: Arc::new(Inner {
                app,
                config,
                service,
                verified_passwords: Mutex::new(HashMap::new()),
                guesses: super::turns::Turns::default(),
                namer: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The portal's routes.
    pub fn routes(&self) -> Router {
        Router::new()
            .route("/twofold/portal.css", get(css))
            .route("/twofold/portal.js", get(js))
            .route("/twofold/auth", any(auth::<S>))
            .route("/twofold/signin", get(signin_page::<S>).post(signin::<S>))
            .route("/twofold/signin/pending", get(pending::<S>))
            .route("/twofold/signin/status", get(status::<S>))
            .route("/twofold/signin/continue", post(proceed::<S>))
            .route("/twofold/recover", get(recover_page::<S>).post(recover::<S>))
            .route("/twofold/signout", post(signout::<S>))
            .route("/twofold/account", get(account::<S>))
            .route("/twofold/account/{action}", post(account_action::<S>))
            .route("/twofold/account/{group}/{action}", post(account_action2::<S>))
            .route("/twofold/enrol/{token}", get(enrol_page::<S>).post(enrol::<S>))
            .with_state(self.clone())
    }
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], html::CSS).into_response()
}

async fn js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], html::JS).into_response()
}

/// A page answering a failure: the client's message, or a generic one for the server's own.
fn failure(error: &AppError) -> Response {
    let (status, text) = match error {
        AppError::Client { status, message, .. } => (*status, message.clone()),
        other => {
            tracing::error!(error = %other, "portal request failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on the server.".to_owned())
        }
    };
    let mut response = html::message("Sign-in problem", &text);
    *response.status_mut() = status;
    response
}

/// A 303 redirect setting `cookies`.
fn see_other(location: &str, cookies: &[HeaderValue]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    with_cookies(secured(response), cookies)
}

fn with_cookies(mut response: Response, cookies: &[HeaderValue]) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    response
}

impl<S: PortalStore> Portal<S> {
    /// The site the browser is on.
    fn site_of(&self, browser: &Browser) -> Option<Site> {
        self.config().site(&browser.host).cloned()
    }

    /// `rd` if it is a URL on the browser's own site, else the site's root.
    fn return_url(&self, browser: &Browser, rd: Option<&str>) -> String {
        rd.and_then(|rd| self.config().return_url(rd))
            .filter(|(url, _)| {
                url.host_str().is_some_and(|h| h.eq_ignore_ascii_case(&browser.host))
            })
            .map_or_else(
                || format!("{}://{}/", browser.scheme(), browser.authority),
                |(url, _)| url.to_string(),
            )
    }
}

/// The CSRF token of forms shown before a session exists (double-submit: the same random value
/// in a cookie and in the form), and the cookie to set when the browser had none.
fn pre_session_csrf(
    headers: &HeaderMap,
    site: &Site,
) -> Result<(String, Option<HeaderValue>), AppError> {
    if let Some(token) = cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 43) {
        return Ok((token.to_owned(), None));
    }
    let token = data_encoding::BASE64URL_NOPAD.encode(&random::<32>(&crate::clock::OsEntropy)?);
    let set = set_cookie(CSRF_COOKIE, &token, site, None);
    Ok((token, Some(set)))
}

/// The page for a host that is not a protected site.
fn not_a_site() -> Response {
    let mut response = html::message(
        "Not a protected site",
        "This address is not one of the sites this sign-in protects.",
    );
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// A refused form: its CSRF token is missing or wrong.
fn csrf_refused() -> Response {
    let mut response = html::message(
        "Form expired",
        "This form was not sent from this sign-in page (or it expired). Go back, reload and try again.",
    );
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

/// Query of the sign-in and recovery pages.
#[derive(Debug, Deserialize)]
struct ReturnQuery {
    rd: Option<String>,
    /// Sign in again even with a live session (OpenID Connect's `prompt=login`, `max_age`).
    again: Option<String>,
}

async fn signin_page<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
    Query(query): Query<ReturnQuery>,
) -> Response {
    let Some(site) = portal.site_of(&browser) else { return not_a_site() };
    let rd = portal.return_url(&browser, query.rd.as_deref());
    // Already signed in here: straight on, unless asked to sign in again.
    if let Some(id) = cookie(&headers, SESSION_COOKIE).filter(|_| query.again.is_none()) {
        match portal.live_session(id, &browser.host).await {
            Ok(Some(_)) => return see_other(&rd, &[]),
            Ok(None) => {}
            Err(e) => return failure(&e),
        }
    }
    match pre_session_csrf(&headers, &site) {
        Ok((token, set)) => with_cookies(html::signin_form(&token, &rd, None), set.as_slice()),
        Err(e) => failure(&e),
    }
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
struct SigninForm {
    user: Option<String>,
    rd: Option<String>,
    trust: Option<String>,
    csrf: Option<String>,
}

async fn signin<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
    Form(form): Form<SigninForm>,
) -> Response {
    let Some(site) = portal.site_of(&browser) else { return not_a_site() };
    if !csrf_matches(cookie(&headers, CSRF_COOKIE).unwrap_or_default(), form.csrf.as_deref()) {
        return csrf_refused();
    }
    if !browser.may_hold_cookies(&site) {
        return html::message(
            "Use HTTPS",
            "Signing in needs an encrypted connection (https): the proxy in front of this site serves plain http.",
        );
    }
    let rd = portal.return_url(&browser, form.rd.as_deref());
    let user = form.user.as_deref().unwrap_or_default().trim();
    if !users::valid_name(user) {
        let csrf = cookie(&headers, CSRF_COOKIE).unwrap_or_default();
        return html::signin_form(csrf, &rd, Some("Type your user name."));
    }
    match portal.begin(user, &site, &browser, form.trust.is_some(), &rd).await {
        Ok(begun) => {
            let attempt =
                set_cookie(ATTEMPT_COOKIE, &begun.attempt_id, &site, Some(begun.lifetime));
            see_other("/twofold/signin/pending", &[attempt])
        }
        Err(e) => failure(&e),
    }
}

/// The attempt of the browser's attempt cookie on this site.
async fn browser_attempt<S: PortalStore>(
    portal: &Portal<S>,
    browser: &Browser,
    headers: &HeaderMap,
) -> Result<Option<crate::store::portal::Attempt>, AppError> {
    match cookie(headers, ATTEMPT_COOKIE) {
        Some(id) => portal.attempt(id, &browser.host).await,
        None => Ok(None),
    }
}

async fn pending<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
) -> Response {
    let Some(site) = portal.site_of(&browser) else { return not_a_site() };
    let attempt = match browser_attempt(&portal, &browser, &headers).await {
        Ok(Some(attempt)) => attempt,
        Ok(None) => return see_other("/twofold/signin", &[]),
        Err(e) => return failure(&e),
    };
    let (csrf, set) = match pre_session_csrf(&headers, &site) {
        Ok(pair) => pair,
        Err(e) => return failure(&e),
    };
    let page = match portal.progress(&attempt, 0, None).await {
        Ok(Progress::NeedsCode { .. }) => html::code_form(&csrf, false),
        Ok(Progress::Over { reason }) => html::over(reason, &attempt.return_url),
        Ok(_) => html::waiting(&csrf, attempt.number),
        Err(e) => failure(&e),
    };
    with_cookies(page, set.as_slice())
}

/// Query of the status route.
#[derive(Debug, Deserialize)]
struct StatusQuery {
    wait: Option<u64>,
}

/// `GET /twofold/signin/status?wait=S`: `{"status": "waiting" | "ready"}` for the page's script.
async fn status<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
    Query(query): Query<StatusQuery>,
) -> Response {
    let wait = query.wait.unwrap_or(0).min(portal.app().get().settings.max_wait);
    let state = match browser_attempt(&portal, &browser, &headers).await {
        Ok(Some(attempt)) => match portal.progress(&attempt, wait, None).await {
            Ok(Progress::Waiting { .. }) => "waiting",
            Ok(_) => "ready",
            Err(e) => return failure(&e),
        },
        Ok(None) => "ready",
        Err(e) => return failure(&e),
    };
    let mut response = axum::Json(serde_json::json!({ "status": state })).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The Continue and code form.
#[derive(Debug, Deserialize)]
struct ContinueForm {
    csrf: Option<String>,
    code: Option<String>,
}

async fn proceed<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
    Form(form): Form<ContinueForm>,
) -> Response {
    let Some(site) = portal.site_of(&browser) else { return not_a_site() };
    let csrf = cookie(&headers, CSRF_COOKIE).unwrap_or_default();
    if !csrf_matches(csrf, form.csrf.as_deref()) {
        return csrf_refused();
    }
    let attempt = match browser_attempt(&portal, &browser, &headers).await {
        Ok(Some(attempt)) => attempt,
        Ok(None) => return see_other("/twofold/signin", &[]),
        Err(e) => return failure(&e),
    };
    let code = form.code.as_deref().filter(|c| !c.trim().is_empty());
    match portal.progress(&attempt, 0, code).await {
        Ok(Progress::Waiting { number }) => html::waiting(csrf, number),
        Ok(Progress::NeedsCode { wrong }) => html::code_form(csrf, wrong),
        Ok(Progress::Over { reason }) => {
            let clear = set_cookie(ATTEMPT_COOKIE, "", &site, Some(0));
            with_cookies(html::over(reason, &attempt.return_url), &[clear])
        }
        Ok(Progress::Allowed) => match portal.finish(&attempt, &site, &browser).await {
            Ok(Some(started)) => signed_in(&started, &site, &attempt.return_url),
            Ok(None) => html::over("This sign-in was already used.", &attempt.return_url),
            Err(e) => failure(&e),
        },
        Err(e) => failure(&e),
    }
}

/// The redirect that ends a sign-in: the new session's cookie, the attempt's removed.
fn signed_in(started: &Started, site: &Site, return_url: &str) -> Response {
    let session = set_cookie(SESSION_COOKIE, &started.id, site, started.lifetime.cookie_max_age);
    let clear = set_cookie(ATTEMPT_COOKIE, "", site, Some(0));
    see_other(return_url, &[session, clear])
}

async fn recover_page<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
    Query(query): Query<ReturnQuery>,
) -> Response {
    let Some(site) = portal.site_of(&browser) else { return not_a_site() };
    let rd = portal.return_url(&browser, query.rd.as_deref());
    match pre_session_csrf(&headers, &site) {
        Ok((token, set)) => with_cookies(html::recover_form(&token, &rd, None), set.as_slice()),
        Err(e) => failure(&e),
    }
}

/// The recovery-code form.
#[derive(Debug, Deserialize)]
struct RecoverForm {
    user: Option<String>,
    code: Option<String>,
    rd: Option<String>,
    trust: Option<String>,
    csrf: Option<String>,
}

async fn recover<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
    Form(form): Form<RecoverForm>,
) -> Response {
    let Some(site) = portal.site_of(&browser) else { return not_a_site() };
    let csrf = cookie(&headers, CSRF_COOKIE).unwrap_or_default();
    if !csrf_matches(csrf, form.csrf.as_deref()) {
        return csrf_refused();
    }
    if !browser.may_hold_cookies(&site) {
        return html::message("Use HTTPS", "Signing in needs an encrypted connection (https).");
    }
    let rd = portal.return_url(&browser, form.rd.as_deref());
    let user = form.user.as_deref().unwrap_or_default().trim();
    let code = form.code.as_deref().unwrap_or_default();
    match portal.recover(user, code, &site, &browser, form.trust.is_some()).await {
        Ok(Some(started)) => signed_in(&started, &site, &rd),
        Ok(None) => html::recover_form(
            csrf,
            &rd,
            Some(
                "That user name and recovery code do not sign in (or too many were tried: wait 15 minutes).",
            ),
        ),
        Err(e) => failure(&e),
    }
}

/// The original request's URL, as the proxy passes it: `X-Original-URL` (nginx), or
/// `X-Forwarded-Proto`, `-Host` and `-Uri` (Caddy, Traefik).
fn original_url(headers: &HeaderMap) -> Option<Url> {
    if let Some(url) = header_text(headers, "x-original-url") {
        return Url::parse(url).ok();
    }
    let proto = header_text(headers, "x-forwarded-proto").unwrap_or("http");
    let host = header_text(headers, "x-forwarded-host").or_else(|| header_text(headers, "host"))?;
    let uri = header_text(headers, "x-forwarded-uri").unwrap_or("/");
    Url::parse(&format!("{proto}://{host}{uri}")).ok()
}

/// `user:password` of an HTTP Basic `Authorization` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, zeroize::Zeroizing<String>)> {
    let encoded = header_text(headers, "authorization")?.strip_prefix("Basic ")?;
    let decoded =
        zeroize::Zeroizing::new(data_encoding::BASE64.decode(encoded.trim().as_bytes()).ok()?);
    let text = std::str::from_utf8(&decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), zeroize::Zeroizing::new(password.to_owned())))
}

/// `ANY /twofold/auth`: forward auth.
async fn auth<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
) -> Response {
    let Some(url) = original_url(&headers) else {
        return (
            StatusCode::BAD_REQUEST,
            "the proxy must send X-Original-URL, or X-Forwarded-Proto, -Host and -Uri",
        )
            .into_response();
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let Some(site) = portal.config().site(&host) else {
        return (StatusCode::FORBIDDEN, "not a site this sign-in protects").into_response();
    };
    let basic = basic_credentials(&headers);
    let signed_in = if let Some((user, password)) = &basic {
        portal.app_password_user(user, password, browser.ip).await
    } else if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        portal
            .live_session(id, &host)
            .await
            .map(|live| live.map(|s| (s.session.user, s.display_name)))
    } else {
        Ok(None)
    };
    match signed_in {
        Ok(Some((user, name))) => {
            let mut response = StatusCode::OK.into_response();
            let headers = response.headers_mut();
            for (key, value) in [("remote-user", &user), ("remote-name", &name)] {
                if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
                    headers.insert(key, value);
                }
            }
            return response;
        }
        Ok(None) => {}
        Err(e) => return failure(&e),
    }
    let authority = url.port().map_or_else(|| host.clone(), |port| format!("{host}:{port}"));
    let location =
        format!("{}://{authority}/twofold/signin?rd={}", url.scheme(), url_encode(url.as_str()));
    // nginx wants 401 (its error_page redirects to the Location given), and so does a client
    // that sent a wrong app password; Caddy and Traefik pass a 302 on to the browser.
    let status = if basic.is_some() || headers.contains_key("x-original-url") {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::FOUND
    };
    let mut response = status.into_response();
    let answer = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&location) {
        answer.insert(header::LOCATION, location);
    }
    if basic.is_some()
        && let Ok(realm) =
            HeaderValue::from_str(&format!("Basic realm=\"{}\", charset=\"UTF-8\"", site.domain))
    {
        answer.insert(header::WWW_AUTHENTICATE, realm);
    }
    response
}

/// The browser's live session on this site and its CSRF token.
async fn browser_session<S: PortalStore>(
    portal: &Portal<S>,
    browser: &Browser,
    headers: &HeaderMap,
) -> Result<Option<(Session, String)>, AppError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let live = portal.live_session(id, &browser.host).await?;
    Ok(live.map(|s| (s.session, session_csrf(id))))
}

async fn account<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
) -> Response {
    if portal.site_of(&browser).is_none() {
        return not_a_site();
    }
    match browser_session(&portal, &browser, &headers).await {
        Ok(Some((session, csrf))) => account_view(&portal, &session, &csrf, "").await,
        Ok(None) => {
            let here = format!("{}://{}/twofold/account", browser.scheme(), browser.authority);
            see_other(&format!("/twofold/signin?rd={}", url_encode(&here)), &[])
        }
        Err(e) => failure(&e),
    }
}

async fn account_view<S: PortalStore>(
    portal: &Portal<S>,
    session: &Session,
    csrf: &str,
    notice: &str,
) -> Response {
    let app = portal.app().get();
    let store = &app.store;
    let user = &session.user;
    let loaded = async {
        let profile = store.portal_user(user).await?;
        let devices = store.devices(portal.service().id, user).await?;
        let sessions = store.sessions(user, app.clock.now()).await?;
        let passwords = store.app_passwords(user).await?;
        let codes_left = store.recovery_codes_left(user).await?;
        Ok::<_, crate::store::StoreError>((profile, devices, sessions, passwords, codes_left))
    };
    match loaded.await {
        Ok((profile, devices, sessions, passwords, codes_left)) => {
            let now = app.clock.now();
            let sessions: Vec<Session> = sessions.into_iter().filter(|s| s.is_live(now)).collect();
            let describe = |agent: &str| app.enricher.describe(agent);
            html::account(&AccountView {
                csrf,
                user,
                display_name: profile.as_ref().map_or(user.as_str(), |p| p.display_name.as_str()),
                devices: &devices,
                sessions: &sessions,
                current: Some(session.handle),
                passwords: &passwords,
                codes_left,
                describe: &describe,
                notice,
            })
        }
        Err(e) => failure(&e.into()),
    }
}

/// Every account form: its CSRF token and the one value it acts on.
#[derive(Debug, Deserialize)]
struct AccountForm {
    csrf: Option<String>,
    id: Option<String>,
    handle: Option<String>,
    name: Option<String>,
}

async fn signout<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
    Form(form): Form<AccountForm>,
) -> Response {
    let Some(site) = portal.site_of(&browser) else { return not_a_site() };
    let clear = set_cookie(SESSION_COOKIE, "", &site, Some(0));
    match browser_session(&portal, &browser, &headers).await {
        Ok(Some((session, csrf))) => {
            if !csrf_matches(&csrf, form.csrf.as_deref()) {
                return csrf_refused();
            }
            if let Err(e) = portal.end_session(&session.user, session.handle, browser.ip).await {
                return failure(&e);
            }
            with_cookies(html::message("Signed out", "You are signed out."), &[clear])
        }
        Ok(None) => with_cookies(html::message("Signed out", "You are signed out."), &[clear]),
        Err(e) => failure(&e),
    }
}

async fn account_action<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
    Path(action): Path<String>,
    Form(form): Form<AccountForm>,
) -> Response {
    account_do(&portal, &browser, &headers, &action, form).await
}

async fn account_action2<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
    Path((group, action)): Path<(String, String)>,
    Form(form): Form<AccountForm>,
) -> Response {
    account_do(&portal, &browser, &headers, &format!("{group}/{action}"), form).await
}

/// One account form, inside the browser's session, after its CSRF check.
async fn account_do<S: PortalStore>(
    portal: &Portal<S>,
    browser: &Browser,
    headers: &HeaderMap,
    action: &str,
    form: AccountForm,
) -> Response {
    if portal.site_of(browser).is_none() {
        return not_a_site();
    }
    let (session, csrf) = match browser_session(portal, browser, headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return see_other("/twofold/account", &[]),
        Err(e) => return failure(&e),
    };
    if !csrf_matches(&csrf, form.csrf.as_deref()) {
        return csrf_refused();
    }
    let user = session.user.as_str();
    let app = portal.app().get();
    let parse_id = |text: Option<&String>| text.and_then(|t| t.parse::<Uuid>().ok());
    let done: Result<String, AppError> = match action {
        "devices/remove" => match parse_id(form.id.as_ref()) {
            Some(id) => portal.remove_device(user, id).await.map(|removed| {
                if removed { "Device removed." } else { "No such device." }.to_owned()
            }),
            None => Ok("No such device.".to_owned()),
        },
        "devices/pair" => {
            return pairing_page(portal, user).await;
        }
        "sessions/end" => match parse_id(form.handle.as_ref()) {
            Some(handle) => portal.end_session(user, handle, browser.ip).await.map(|ended| {
                if ended { "Browser signed out." } else { "No such browser." }.to_owned()
            }),
            None => Ok("No such browser.".to_owned()),
        },
        "app-passwords" => portal
            .create_app_password(user, form.name.as_deref().unwrap_or_default())
            .await
            .map(|password| {
                format!(
                    "New app password (shown only now): <b class=password>{}</b>",
                    escape(&password)
                )
            }),
        "app-passwords/revoke" => match parse_id(form.id.as_ref()) {
            Some(id) => app
                .store
                .revoke_app_password(user, id, app.clock.now())
                .await
                .map_err(AppError::from)
                .map(|revoked| {
                    if revoked { "App password revoked." } else { "No such app password." }
                        .to_owned()
                }),
            None => Ok("No such app password.".to_owned()),
        },
        "recovery-codes" => {
            return match users::regenerate_codes(
                &app.store,
                user,
                app.clock.now(),
                app.entropy.as_ref(),
            )
            .await
            {
                Ok(codes) => html::codes(
                    "New recovery codes",
                    &codes,
                    "<p><a href=/twofold/account>Back to your account</a></p>",
                ),
                Err(e) => failure(&AppError::bad_request("recovery_codes", e.to_string())),
            };
        }
        _ => Err(AppError::not_found("no_such_form", "there is no such form")),
    };
    match done {
        Ok(notice) => account_view(portal, &session, &csrf, &notice).await,
        Err(e) => failure(&e),
    }
}

/// A page with a fresh pairing code for `user`.
async fn pairing_page<S: PortalStore>(portal: &Portal<S>, user: &str) -> Response {
    match crate::pairing::issue(portal.app(), portal.service(), user).await {
        Ok(created) => html::pairing(
            user,
            &qr_svg(&created.link),
            &created.link,
            "<p><a href=/twofold/account>Back to your account</a></p>",
        ),
        Err(e) => failure(&e),
    }
}

/// A pairing link as an inline SVG QR code.
fn qr_svg(link: &str) -> String {
    crate::pairing::qr_code(link).map_or_else(
        |_| String::new(),
        |code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(256, 256)
                .build()
                .split_once("?>")
                .map_or_else(String::new, |(_, svg)| svg.trim().to_owned())
        },
    )
}

async fn enrol_page<S: PortalStore>(
    State(portal): State<Portal<S>>,
    browser: Browser,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let app = portal.app().get();
    let user = match users::enrolling(&app.store, &token, app.clock.now()).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return html::message(
                "Link not valid",
                "This enrolment link was used or has expired: ask your administrator for a new one.",
            );
        }
        Err(e) => return failure(&e.into()),
    };
    let site =
        portal.config().site(&browser.host).cloned().unwrap_or_else(|| Site::new(&browser.host));
    let (csrf, set) = match pre_session_csrf(&headers, &site) {
        Ok(pair) => pair,
        Err(e) => return failure(&e),
    };
    let devices = match app.store.devices(portal.service().id, &user.name).await {
        Ok(devices) => devices.len(),
        Err(e) => return failure(&e.into()),
    };
    match crate::pairing::issue(portal.app(), portal.service(), &user.name).await {
        Ok(created) => with_cookies(
            html::pairing(
                &user.name,
                &qr_svg(&created.link),
                &created.link,
                &html::enrol_next(&csrf, &token, devices),
            ),
            set.as_slice(),
        ),
        Err(e) => failure(&e),
    }
}

/// The enrolment form.
#[derive(Debug, Deserialize)]
struct EnrolForm {
    csrf: Option<String>,
}

async fn enrol<S: PortalStore>(
    State(portal): State<Portal<S>>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<EnrolForm>,
) -> Response {
    if !csrf_matches(cookie(&headers, CSRF_COOKIE).unwrap_or_default(), form.csrf.as_deref()) {
        return csrf_refused();
    }
    let app = portal.app().get();
    let now = app.clock.now();
    let user = match users::enrolling(&app.store, &token, now).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return html::message("Link not valid", "This enrolment link was used or has expired.");
        }
        Err(e) => return failure(&e.into()),
    };
    match app.store.devices(portal.service().id, &user.name).await {
        Ok(devices) if devices.is_empty() => {
            return html::message(
                "No device yet",
                "No device has paired yet: go back, scan the code with Twofold, then continue.",
            );
        }
        Ok(_) => {}
        Err(e) => return failure(&e.into()),
    }
    match users::finish_enrolment(&app.store, &token, now, app.entropy.as_ref()).await {
        Ok(Some(codes)) => html::codes(
            "You are set up",
            &codes,
            "<p>You can now sign in to the protected sites with your device.</p>",
        ),
        Ok(None) => html::message("Link not valid", "This enrolment link was used or has expired."),
        Err(e) => failure(&AppError::bad_request("enrolment", e.to_string())),
    }
}
