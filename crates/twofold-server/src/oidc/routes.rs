//! The provider's HTTP routes (listed in the module docs): each reads the request, applies the
//! rules of [`twofold_oidc`], [`super::clients`] and [`super::tokens`], and answers.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use data_encoding::BASE64URL_NOPAD;
use serde::Deserialize;
use serde_json::{Value, json};
use twofold_oidc::authorize::{self, AuthorizeQuery, Prompt, Refusal};
use twofold_oidc::exact_match;
use twofold_oidc::token::{self, CODE_LIFETIME_SECS, CredentialsError, TokenForm};
use twofold_protocol::api::AuditEvent;
use zeroize::Zeroizing;

use super::Oidc;
use super::clients::secret_matches;
use super::keys::Alg;
use super::tokens::{self, IdClaims};
use crate::app::secret_hash;
use crate::clock::random;
use crate::error::AppError;
use crate::portal::secrets::new_token;
use crate::portal::web::{
    Browser, SESSION_COOKIE, cookie, csrf_field, csrf_matches, escape, header_text, page, secured,
    session_csrf, set_cookie,
};
use crate::store::oidc::{AccessToken, AuthCode, OidcStore, Redeemed};
use crate::store::portal::Session;

/// Failed client authentications per client within 15 minutes (the portal's guess window)
/// before every attempt is refused until the window passes (the right secret too).
pub(super) const MAX_WRONG_SECRETS: u32 = 10;
/// `amr` of a portal session approved on a device: a second factor, the device's key (RFC 8176).
const AMR_DEVICE: &str = "mfa swk";
/// `amr` of a portal session started with a recovery code: a one-time code.
const AMR_RECOVERY: &str = "otp";

/// The provider's routes.
pub fn router<S: OidcStore>(oidc: Oidc<S>) -> Router {
    Router::new()
        .route("/twofold/.well-known/openid-configuration", get(discovery::<S>))
        .route("/twofold/oidc/jwks", get(jwks::<S>))
        .route("/twofold/oidc/authorize", get(authorize::<S>))
        .route("/twofold/oidc/token", post(token::<S>))
        .route("/twofold/oidc/userinfo", get(userinfo::<S>).post(userinfo::<S>))
        .route("/twofold/oidc/logout", get(logout::<S>).post(logout_confirmed::<S>))
        .with_state(oidc)
}

impl<S: OidcStore> Oidc<S> {
    fn now(&self) -> u64 {
        self.portal().app().get().clock.now()
    }
}

/// A JSON answer that no cache keeps.
fn no_store(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An OAuth error answer (RFC 6749 5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    no_store(status, json!({ "error": error, "error_description": description }))
}

/// A server-side failure: logged, never detailed to the client.
fn internal(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "OpenID Connect request failed");
    oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the server failed")
}

/// A page for the person in the browser.
fn message(status: StatusCode, title: &str, text: &str) -> Response {
    let mut response = page(title, &format!("<p>{}</p>", escape(text)));
    *response.status_mut() = status;
    response
}

/// A 303 redirect to `location`.
fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    secured(response)
}

async fn discovery<S: OidcStore>(State(oidc): State<Oidc<S>>) -> Response {
    let issuer = oidc.issuer();
    let endpoint = |path: &str| format!("{issuer}/oidc/{path}");
    let algs: Vec<&str> = Alg::ALL.iter().map(|a| a.as_str()).collect();
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": endpoint("authorize"),
        "token_endpoint": endpoint("token"),
        "userinfo_endpoint": endpoint("userinfo"),
        "jwks_uri": endpoint("jwks"),
        "end_session_endpoint": endpoint("logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "scopes_supported": authorize::SCOPES,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr",
            "azp", "at_hash", "preferred_username", "name", "email", "email_verified"],
        "acr_values_supported": [tokens::ACR_DEVICE, tokens::ACR_RECOVERY],
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    }))
    .into_response()
}

async fn jwks<S: OidcStore>(State(oidc): State<Oidc<S>>) -> Response {
    match oidc.keys() {
        Ok(keys) => {
            let keep = oidc.inner.config.keep_retired_secs();
            let set: serde_json::Map<String, Value> = keys.jwks(oidc.now(), keep).into();
            axum::Json(Value::Object(set)).into_response()
        }
        Err(e) => internal(&e),
    }
}

/// The browser's live portal session on the issuer's site.
async fn browser_session<S: OidcStore>(
    oidc: &Oidc<S>,
    browser: &Browser,
    headers: &HeaderMap,
) -> Result<Option<(Session, String)>, AppError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let live = oidc.portal().live_session(id, &browser.host).await?;
    Ok(live.map(|s| (s.session, session_csrf(id))))
}

/// Whether the browser reached the issuer's own host.
fn on_issuer<S>(oidc: &Oidc<S>, browser: &Browser) -> bool {
    oidc.inner.issuer.host_str().is_some_and(|h| h.eq_ignore_ascii_case(&browser.host))
}

async fn authorize<S: OidcStore>(
    State(oidc): State<Oidc<S>>,
    browser: Browser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    query: Result<Query<AuthorizeQuery>, QueryRejection>,
) -> Response {
    if !on_issuer(&oidc, &browser) {
        return message(StatusCode::NOT_FOUND, "Not here", "This is not the sign-in's address.");
    }
    let raw = raw.unwrap_or_default();
    let Ok(Query(query)) = query else {
        return message(
            StatusCode::BAD_REQUEST,
            "Sign-in problem",
            "The sign-in request is malformed.",
        );
    };
    let store = &oidc.portal().app().get().store;
    let client = match query.client_id.as_deref() {
        Some(id) => match store.client(id).await {
            Ok(client) => client,
            Err(e) => return internal(&e),
        },
        None => None,
    };
    let request = match authorize::check(&query, client.as_ref()) {
        Ok(request) => request,
        Err(Refusal::Page(text)) => {
            return message(StatusCode::BAD_REQUEST, "Sign-in problem", text);
        }
        Err(Refusal::Redirect { redirect_uri, state, error, description }) => {
            return back_to_client(
                &oidc,
                &redirect_uri,
                state.as_deref(),
                &[("error", error), ("error_description", description)],
            );
        }
    };
    let now = oidc.now();
    let since = authorize::signed_in_since(&request, query.auth_since, now);
    let session = match browser_session(&oidc, &browser, &headers).await {
        Ok(found) => found.map(|(session, _)| session),
        Err(e) => return internal(&e),
    };
    let Some(session) = session.filter(|s| since.is_none_or(|t| s.created_at >= t)) else {
        if request.prompt == Prompt::None {
            return back_to_client(
                &oidc,
                &request.redirect_uri,
                request.state.as_deref(),
                &[("error", "login_required")],
            );
        }
        let mut here = oidc.inner.issuer.clone();
        here.set_path("/twofold/oidc/authorize");
        let back = authorize::after_signin(&here, &raw, since.unwrap_or(now));
        let signin = format!(
            "/twofold/signin?rd={}{}",
            url::form_urlencoded::byte_serialize(back.as_str().as_bytes()).collect::<String>(),
            if since.is_some() { "&again=1" } else { "" }
        );
        return see_other(&signin);
    };
    let app = oidc.portal().app().get();
    let (code, code_hash) = match new_token(app.entropy.as_ref()) {
        Ok(made) => made,
        Err(e) => return internal(&e),
    };
    let issued = AuthCode {
        code_hash,
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        user: session.user.clone(),
        scope: request.scope.clone(),
        nonce: request.nonce.clone(),
        challenge: request.challenge.clone(),
        auth_time: session.created_at,
        amr: if session.by_recovery_code { AMR_RECOVERY } else { AMR_DEVICE }.to_owned(),
        created_at: now,
        expires_at: now + CODE_LIFETIME_SECS,
    };
    let audit =
        oidc.portal().audit(&session.user, AuditEvent::OidcCodeIssued, None, Some(browser.ip));
    let stored = async {
        app.store.add_code(&issued).await?;
        app.store.append_audit(&audit).await
    };
    if let Err(e) = stored.await {
        return internal(&e);
    }
    let back =
        back_to_client(&oidc, &request.redirect_uri, request.state.as_deref(), &[("code", &code)]);
    if query.auth_since.is_some() { continue_page(back) } else { back }
}

/// `redirect` (to a client) as a page that goes on by itself: after signing in, the browser
/// arrives here through the redirects that answer the sign-in form, and browsers hold every
/// redirect of a form's answer to the page's CSP `form-action 'self'`, which the client's
/// address is not. A `Refresh` is a new navigation.
fn continue_page(redirect: Response) -> Response {
    let Some(location) = redirect.headers().get(header::LOCATION).cloned() else {
        return redirect;
    };
    let target = location.to_str().unwrap_or_default();
    let mut response = page(
        "Signed in",
        &format!("<p>Signed in. <a href=\"{}\">Continue</a></p>", escape(target)),
    );
    if let Ok(refresh) = HeaderValue::from_str(&format!("0;url={target}")) {
        response.headers_mut().insert(header::REFRESH, refresh);
    }
    response
}

/// The redirect to a (registered) redirect URI with `params`, `state` and `iss` (RFC 9207).
fn back_to_client<S: OidcStore>(
    oidc: &Oidc<S>,
    redirect_uri: &str,
    state: Option<&str>,
    params: &[(&str, &str)],
) -> Response {
    let mut all = params.to_vec();
    if let Some(state) = state {
        all.push(("state", state));
    }
    all.push(("iss", oidc.issuer()));
    match authorize::redirect_to(redirect_uri, &all) {
        Some(url) => see_other(url.as_str()),
        None => {
            message(StatusCode::BAD_REQUEST, "Sign-in problem", "The return address is unusable.")
        }
    }
}

fn invalid_client(description: &str) -> Response {
    let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"twofold\""));
    response
}

async fn token<S: OidcStore>(
    State(oidc): State<Oidc<S>>,
    browser: Browser,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let (client_id, secret) =
        match token::client_credentials(header_text(&headers, "authorization"), &form) {
            Ok(found) => found,
            Err(CredentialsError::Twice) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "use one client authentication method",
                );
            }
            Err(CredentialsError::Missing) => {
                return invalid_client("client authentication is missing");
            }
        };
    let client = match oidc
        .authenticate(&client_id, secret.as_deref().map(|s| s.as_str()), &browser)
        .await
    {
        Ok(Some(client)) => client,
        Ok(None) => return invalid_client("client authentication failed"),
        Err(e) => return internal(&e),
    };
    if form.grant_type.as_deref() != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code is supported",
        );
    }
    let Some(code) = form.code.as_deref() else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "code is missing");
    };
    let app = oidc.portal().app().get();
    let now = oidc.now();
    let code_hash = secret_hash(code);
    let code = match app.store.redeem_code(&code_hash, now).await {
        Ok(Some(Redeemed::First(code))) => code,
        Ok(Some(Redeemed::Again(code))) => {
            // RFC 6749 4.1.2: a code used twice revokes what it issued (someone else has it).
            let audit = oidc.portal().audit(
                &code.user,
                AuditEvent::OidcCodeReplayed,
                None,
                Some(browser.ip),
            );
            let revoked = async {
                app.store.revoke_code_tokens(&code_hash, now).await?;
                app.store.append_audit(&audit).await
            };
            if let Err(e) = revoked.await {
                return internal(&e);
            }
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "the code was already used",
            );
        }
        Ok(None) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "no such code"),
        Err(e) => return internal(&e),
    };
    if let Err(refused) = token::check_grant(
        &code,
        &client.id,
        form.redirect_uri.as_deref(),
        form.code_verifier.as_deref(),
        now,
    ) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &refused.to_string());
    }
    match oidc.issue(&code, &client.id_token_alg, now, &browser).await {
        Ok(body) => no_store(StatusCode::OK, body),
        Err(e) => internal(&e),
    }
}

impl<S: OidcStore> Oidc<S> {
    /// The client `client_id` if `secret` authenticates it (a public client sends none); `None`
    /// for an unknown client, a wrong or missing secret, or too many failures lately.
    async fn authenticate(
        &self,
        client_id: &str,
        secret: Option<&str>,
        browser: &Browser,
    ) -> Result<Option<crate::store::oidc::Client>, AppError> {
        let app = self.portal().app().get();
        let Some(client) = app.store.client(client_id).await? else { return Ok(None) };
        if client.secret_hash.is_none() {
            return Ok(secret.is_none().then_some(client));
        }
        // Counted and recorded in the store before it is checked, as the portal's guesses:
        // parallel guesses, on any instance, cannot exceed the limit.
        let Some(guess) = self
            .portal()
            .guess_turn(&client.id, AuditEvent::OidcClientRejected, MAX_WRONG_SECRETS)
            .await?
        else {
            return Ok(None);
        };
        if secret.is_some_and(|s| secret_matches(&client, s)) {
            self.portal().right_guess(guess).await?;
            return Ok(Some(client));
        }
        let audit =
            self.portal().audit(&client.id, AuditEvent::OidcClientRejected, None, Some(browser.ip));
        app.store.append_audit(&audit).await?;
        Ok(None)
    }

    /// The tokens for a redeemed code: an access token (stored hashed) and a signed ID token.
    async fn issue(
        &self,
        code: &AuthCode,
        alg: &str,
        now: u64,
        browser: &Browser,
    ) -> Result<Value, OidcFailure> {
        let app = self.portal().app().get();
        let access = Zeroizing::new(BASE64URL_NOPAD.encode(&random::<32>(app.entropy.as_ref())?));
        let lifetime = self.inner.config.access_token_minutes.saturating_mul(60);
        let stored = AccessToken {
            token_hash: secret_hash(&access),
            code_hash: code.code_hash,
            client_id: code.client_id.clone(),
            user: code.user.clone(),
            scope: code.scope.clone(),
            created_at: now,
            expires_at: now.saturating_add(lifetime),
            revoked_at: None,
        };
        let user = app.store.portal_user(&code.user).await?;
        let claims = IdClaims {
            issuer: self.issuer(),
            code,
            name: user.as_ref().map_or(&code.user, |u| &u.display_name),
            email: user.as_ref().and_then(|u| u.email.as_deref()),
            access_token: &access,
            now,
            lifetime: self.inner.config.id_token_minutes.saturating_mul(60),
        };
        let alg = Alg::from_name(alg).unwrap_or(Alg::Rs256);
        let id_token = self.keys()?.sign(alg, &tokens::id_token(&claims))?;
        let audit =
            self.portal().audit(&code.user, AuditEvent::OidcTokenIssued, None, Some(browser.ip));
        app.store.add_token(&stored).await?;
        app.store.append_audit(&audit).await?;
        Ok(json!({
            "access_token": access.as_str(),
            "token_type": "Bearer",
            "expires_in": lifetime,
            "id_token": id_token,
            "scope": code.scope,
        }))
    }
}

/// A failure while issuing tokens.
#[derive(Debug, thiserror::Error)]
enum OidcFailure {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Keys(#[from] super::keys::KeyError),
    #[error(transparent)]
    Entropy(#[from] crate::clock::EntropyError),
}

async fn userinfo<S: OidcStore>(State(oidc): State<Oidc<S>>, headers: HeaderMap) -> Response {
    let refused = || {
        let mut response =
            oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "no valid access token");
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        response
    };
    let Some(token) =
        header_text(&headers, "authorization").and_then(|v| v.strip_prefix("Bearer "))
    else {
        return refused();
    };
    let app = oidc.portal().app().get();
    let found = match app.store.token(&secret_hash(token.trim())).await {
        Ok(found) => found,
        Err(e) => return internal(&e),
    };
    let now = oidc.now();
    let Some(token) = found.filter(|t| t.revoked_at.is_none() && now < t.expires_at) else {
        return refused();
    };
    let user = match app.store.portal_user(&token.user).await {
        Ok(user) => user,
        Err(e) => return internal(&e),
    };
    let mut claims =
        serde_json::Map::from_iter([("sub".to_owned(), Value::from(token.user.as_str()))]);
    let name = user.as_ref().map_or(&token.user, |u| &u.display_name);
    let email = user.as_ref().and_then(|u| u.email.as_deref());
    for (key, value) in tokens::scope_claims(&token.scope, &token.user, name, email) {
        claims.insert(key.to_owned(), value);
    }
    no_store(StatusCode::OK, Value::Object(claims))
}

/// The end-session request (query or form).
#[derive(Debug, Default, Deserialize)]
struct LogoutQuery {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    csrf: Option<String>,
}

impl<S: OidcStore> Oidc<S> {
    /// Where a logout may send the browser: the post-logout URI if it is registered for the
    /// client the hint (or `client_id`) names. `Err` with a message when it is not.
    /// Also the user the hint names.
    async fn logout_target(
        &self,
        query: &LogoutQuery,
    ) -> Result<(Option<String>, Option<String>), &'static str> {
        let mut client_id = query.client_id.clone();
        let mut hint_user = None;
        if let Some(hint) = &query.id_token_hint {
            let keys = self.keys().map_err(|_| "The sign-in cannot check this request now.")?;
            let payload = keys.verify(hint).map_err(|_| "The logout request is not valid.")?;
            if payload.issuer() != Some(self.issuer()) {
                return Err("The logout request is not valid.");
            }
            let audience = payload.audience().and_then(|a| a.first().map(|s| (*s).to_owned()));
            if client_id.as_ref().is_some_and(|id| Some(id) != audience.as_ref()) {
                return Err("The logout request names two different applications.");
            }
            client_id = audience;
            hint_user = payload.subject().map(str::to_owned);
        }
        let Some(uri) = &query.post_logout_redirect_uri else { return Ok((None, hint_user)) };
        let client = match client_id {
            Some(id) => self.portal().app().get().store.client(&id).await.ok().flatten(),
            None => None,
        };
        match client {
            Some(client) if exact_match(&client.post_logout_uris, uri) => {
                let params: Vec<(&str, &str)> =
                    query.state.as_deref().map(|s| vec![("state", s)]).unwrap_or_default();
                Ok((authorize::redirect_to(uri, &params).map(|u| u.to_string()), hint_user))
            }
            _ => Err("The application asked to return to an address it has not registered."),
        }
    }
}

/// Signed out: to the client's registered post-logout URI, or a page.
fn signed_out(target: Option<&str>, clear: HeaderValue) -> Response {
    let mut response = match target {
        Some(target) => see_other(target),
        None => message(StatusCode::OK, "Signed out", "You are signed out."),
    };
    response.headers_mut().append(header::SET_COOKIE, clear);
    response
}

async fn logout<S: OidcStore>(
    State(oidc): State<Oidc<S>>,
    browser: Browser,
    headers: HeaderMap,
    query: Result<Query<LogoutQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return message(
            StatusCode::BAD_REQUEST,
            "Sign-out problem",
            "The logout request is malformed.",
        );
    };
    end_session(&oidc, &browser, &headers, query, false).await
}

async fn logout_confirmed<S: OidcStore>(
    State(oidc): State<Oidc<S>>,
    browser: Browser,
    headers: HeaderMap,
    Form(query): Form<LogoutQuery>,
) -> Response {
    end_session(&oidc, &browser, &headers, query, true).await
}

/// RP-initiated logout: with an ID token of this browser's user as hint, at once; otherwise
/// after the person confirms (a form with the session's CSRF token, so another site cannot
/// sign the person out).
async fn end_session<S: OidcStore>(
    oidc: &Oidc<S>,
    browser: &Browser,
    headers: &HeaderMap,
    query: LogoutQuery,
    posted: bool,
) -> Response {
    let Some(site) =
        oidc.portal().config().site(&browser.host).cloned().filter(|_| on_issuer(oidc, browser))
    else {
        return message(StatusCode::NOT_FOUND, "Not here", "This is not the sign-in's address.");
    };
    let (target, hint_user) = match oidc.logout_target(&query).await {
        Ok(found) => found,
        Err(text) => return message(StatusCode::BAD_REQUEST, "Sign-out problem", text),
    };
    let clear = set_cookie(SESSION_COOKIE, "", &site, Some(0));
    let (session, csrf) = match browser_session(oidc, browser, headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return signed_out(target.as_deref(), clear),
        Err(e) => return internal(&e),
    };
    let confirmed = if posted {
        csrf_matches(&csrf, query.csrf.as_deref())
    } else {
        hint_user.as_deref() == Some(session.user.as_str())
    };
    if !confirmed {
        if posted {
            return message(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from this sign-in page. Go back, reload and try again.",
            );
        }
        let hidden = |name: &str, value: Option<&String>| {
            value.map_or_else(String::new, |v| {
                format!("<input type=hidden name={name} value=\"{}\">", escape(v))
            })
        };
        let body = format!(
            "<p>Sign out of every application signed in as {}?</p>\
             <form method=post action=/twofold/oidc/logout>{}{}{}{}{}\
             <button type=submit>Sign out</button></form>",
            escape(&session.user),
            csrf_field(&csrf),
            hidden("id_token_hint", query.id_token_hint.as_ref()),
            hidden("client_id", query.client_id.as_ref()),
            hidden("post_logout_redirect_uri", query.post_logout_redirect_uri.as_ref()),
            hidden("state", query.state.as_ref()),
        );
        return page("Sign out", &body);
    }
    if let Err(e) = oidc.portal().end_session(&session.user, session.handle, browser.ip).await {
        return internal(&e);
    }
    signed_out(target.as_deref(), clear)
}
