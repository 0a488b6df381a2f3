//! `twofold-server demo`: the sign-in page of a made-up service ("Twofold Demo") that uses the
//! relying-party API, so a person can walk the whole flow locally with the desktop app: enter a
//! user name, pair a device if it has none, then "check your trusted device" and see the outcome.
//!
//! The page's backend calls the API router in process (`oneshot`), through the same HTTP
//! requests, API key and JSON a real service would send.

use axum::body::Body;
use axum::extract::{Form, Path, State};
use axum::http::{Method, Request, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tower::ServiceExt as _;
use twofold_protocol::Mode;
use twofold_protocol::api::{
    About, CodeVerified, CreatePairing, CreateSignin, ErrorBody, PairingCreated, SigninCreated,
    SigninState, Status, VerifyCode,
};
use uuid::Uuid;

use crate::portal::web::escape;

/// What the demo pages need: the API and the demo service's key.
#[derive(Clone)]
struct Demo {
    api: Router,
    api_key: String,
}

/// The demo pages under `/demo/`, calling `api` with `api_key`.
pub fn router(api: Router, api_key: String) -> Router {
    Router::new()
        .route("/demo/", get(home))
        .route("/demo/signin", post(signin))
        .route("/demo/pair", post(pair))
        .route("/demo/signins/{id}/wait", get(wait))
        .route("/demo/signins/{id}/code", post(code))
        .with_state(Demo { api, api_key })
}

impl Demo {
    /// One API call; the API's error message when it refuses.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        uri: &str,
        body: Option<String>,
    ) -> Result<T, String> {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.api_key))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or_else(Body::empty, Body::from))
            .map_err(|e| e.to_string())?;
        let response = self.api.clone().oneshot(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        if status.is_success() {
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())
        } else {
            Err(serde_json::from_slice::<ErrorBody>(&bytes)
                .map_or_else(|_| format!("the server answered {status}"), |e| e.message))
        }
    }
}

fn page(body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content='width=device-width'><title>Twofold Demo</title>\
         <style>body{{font:16px system-ui;max-width:32em;margin:3em auto;padding:0 1em}}\
         .number{{font-size:4em;font-weight:bold;letter-spacing:.1em}}\
         input,select,button{{font:inherit;padding:.3em}}</style></head>\
         <body><h1>Twofold Demo</h1>{body}</body></html>"
    ))
}

fn user_form(user: &str) -> String {
    format!(
        "<form method=post action=/demo/signin>\
         <p><label>User name <input name=user value=\"{}\" required></label></p>\
         <p><label>Confirm with <select name=mode><option value=number>number matching</option>\
         <option value=push>Allow only</option><option value=code>a code</option></select></label></p>\
         <p><button>Sign in</button> <button formaction=/demo/pair>Pair a device</button></p></form>",
        escape(user)
    )
}

async fn home(State(demo): State<Demo>) -> Html<String> {
    // Locations the device shows come from the server's GeoIP data: credit it as its licence asks.
    let credits: String = demo
        .call::<About>(Method::GET, "/v1/about", None)
        .await
        .map(|about| about.attributions)
        .unwrap_or_default()
        .iter()
        .map(|a| {
            format!(
                "<p><small><a href=\"{}\">{}</a> ({})</small></p>",
                escape(&a.url),
                escape(&a.text),
                escape(&a.license)
            )
        })
        .collect();
    page(&format!(
        "<p>A made-up service that asks your Twofold device to confirm sign-ins.</p>{}<footer>{credits}</footer>",
        user_form("")
    ))
}

/// The sign-in form.
#[derive(Deserialize)]
struct SigninForm {
    user: String,
    mode: Option<Mode>,
}

async fn signin(State(demo): State<Demo>, Form(form): Form<SigninForm>) -> Html<String> {
    let mode = form.mode.unwrap_or(Mode::Number);
    let body = CreateSignin {
        user: form.user.clone(),
        // A real service passes its visitor's address and browser; the demo runs locally.
        ip: std::net::IpAddr::from([127, 0, 0, 1]),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into(),
        mode,
        context: Some("Sign in to Twofold Demo".into()),
    };
    let created: SigninCreated =
        match demo.call(Method::POST, "/v1/signins", serde_json::to_string(&body).ok()).await {
            Ok(created) => created,
            Err(message) => {
                return page(&format!(
                    "<p><strong>{}</strong></p>{}",
                    escape(&message),
                    user_form(&form.user)
                ));
            }
        };
    if created.status == Status::Locked {
        return page(
            "<p><strong>Sign-in refused:</strong> this account is locked after refused or reported sign-ins. Try again later.</p>",
        );
    }
    let number = created
        .number
        .map(|n| format!("<p>Choose this number on your device:</p><p class=number>{n}</p>"))
        .unwrap_or_default();
    let code_form = if mode == Mode::Code {
        format!(
            "<form id=code hidden method=post action=/demo/signins/{}/code><p>\
             <label>Code shown on your device <input name=code inputmode=numeric required></label> \
             <button>Verify</button></p></form>",
            created.id
        )
    } else {
        String::new()
    };
    page(&format!(
        "<p>Check your trusted device to sign in as <b>{user}</b>.</p>{number}{code_form}\
         <p id=status>Waiting for your answer…</p>\
         <script>\
         async function wait(){{\
           const r=await fetch('/demo/signins/{id}/wait');const s=await r.json();\
           const out=document.getElementById('status');\
           if(s.status==='pending'){{return wait();}}\
           if(s.status==='allowed'&&{code}){{out.textContent='Allowed. Type the code your device shows.';\
             document.getElementById('code').hidden=false;return;}}\
           out.textContent={{allowed:'Signed in.',denied:'Sign-in refused on your device.',\
             reported:'Sign-in reported and refused.',expired:'No answer in time: sign-in expired.',\
             locked:'Account locked.'}}[s.status]||s.status;}}\
         wait();</script>",
        user = escape(&form.user),
        id = created.id,
        code = mode == Mode::Code,
    ))
}

/// The pairing form.
#[derive(Deserialize)]
struct PairForm {
    user: String,
}

async fn pair(State(demo): State<Demo>, Form(form): Form<PairForm>) -> Html<String> {
    let body = CreatePairing { user: form.user.clone() };
    match demo
        .call::<PairingCreated>(Method::POST, "/v1/pairings", serde_json::to_string(&body).ok())
        .await
    {
        Ok(created) => page(&format!(
            "<p>Scan this with Twofold (or paste the link) to pair a device for <b>{user}</b>. \
             It works once, for ten minutes.</p><p><img src=\"{qr}\" alt='pairing QR code' width=256 height=256></p>\
             <p><code style='word-break:break-all'>{link}</code></p>{form}",
            user = escape(&form.user),
            qr = escape(&created.qr_svg),
            link = escape(&created.link),
            form = user_form(&form.user),
        )),
        Err(message) => {
            page(&format!("<p><strong>{}</strong></p>{}", escape(&message), user_form(&form.user)))
        }
    }
}

async fn wait(State(demo): State<Demo>, Path(id): Path<Uuid>) -> Response {
    match demo.call::<SigninState>(Method::GET, &format!("/v1/signins/{id}?wait=25"), None).await {
        Ok(state) => Json(state).into_response(),
        Err(message) => (StatusCode::BAD_GATEWAY, message).into_response(),
    }
}

/// The code form.
#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn code(
    State(demo): State<Demo>,
    Path(id): Path<Uuid>,
    Form(form): Form<CodeForm>,
) -> Html<String> {
    let body = VerifyCode { code: form.code };
    let uri = format!("/v1/signins/{id}/verify");
    match demo.call::<CodeVerified>(Method::POST, &uri, serde_json::to_string(&body).ok()).await {
        Ok(CodeVerified { verified: true, .. }) => page("<p>Code verified: signed in.</p>"),
        Ok(CodeVerified { attempts_left, .. }) => page(&format!(
            "<p>Wrong code; {attempts_left} tries left.</p>\
             <form method=post action=/demo/signins/{id}/code><input name=code required> <button>Verify</button></form>"
        )),
        Err(message) => page(&format!("<p><strong>{}</strong></p>", escape(&message))),
    }
}
