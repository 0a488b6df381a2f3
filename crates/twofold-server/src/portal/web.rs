//! What the portal reads from and writes to HTTP: the browser behind the proxy (address, user
//! agent, host, scheme), cookies, CSRF tokens and the pages' security headers.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::sites::{Site, is_loopback_host};
use crate::app::same_code;

/// The session cookie.
pub const SESSION_COOKIE: &str = "twofold_session";
/// The cookie naming a sign-in in progress.
pub const ATTEMPT_COOKIE: &str = "twofold_attempt";
/// The cookie holding the CSRF token of forms shown before a session exists.
pub const CSRF_COOKIE: &str = "twofold_csrf";

/// Longest user agent kept, in characters.
const MAX_USER_AGENT_CHARS: usize = 512;

/// The pages' Content-Security-Policy: no inline script or style, forms post only here, no
/// framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The browser a request comes from, as the proxy in front passes it on.
#[derive(Debug, Clone)]
pub struct Browser {
    /// Its address: the connection's, or, when the connection comes from this machine (the
    /// proxy), the last address the proxy appended to `X-Forwarded-For` (or `X-Real-IP`).
    pub ip: IpAddr,
    /// Its user agent, without control characters, at most 512 characters.
    pub user_agent: String,
    /// The host name it asked for, lower case, without port.
    pub host: String,
    /// The host with its port, as in the browser's address bar.
    pub authority: String,
    /// Whether it reached the proxy over TLS.
    pub https: bool,
}

impl Browser {
    /// Whether cookies may be set for this browser on `site`: over TLS, or on loopback.
    pub fn may_hold_cookies(&self, site: &Site) -> bool {
        self.https || site.is_loopback()
    }

    /// The scheme the browser used.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }
}

/// A header's value as text.
pub fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// The host (lower case, without port) of an authority such as `Example.com:8443` or `[::1]:80`.
pub fn host_of(authority: &str) -> String {
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.rsplit_once(':').map_or(authority, |(host, _)| host)
    };
    host.to_ascii_lowercase()
}

impl<St: Send + Sync> FromRequestParts<St> for Browser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        let forwarded = || {
            header_text(headers, "x-forwarded-for")
                .and_then(|list| list.rsplit(',').next())
                .or_else(|| header_text(headers, "x-real-ip"))
                .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
        };
        // Only the proxy on this machine is believed about the browser's address.
        let ip = match peer {
            Some(peer) if !peer.is_loopback() => peer,
            _ => forwarded().or(peer).unwrap_or(IpAddr::from([127, 0, 0, 1])),
        };
        let authority = header_text(headers, "x-forwarded-host")
            .or_else(|| header_text(headers, "host"))
            .unwrap_or_default()
            .to_owned();
        let user_agent = header_text(headers, "user-agent")
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_USER_AGENT_CHARS)
            .collect();
        let https = header_text(headers, "x-forwarded-proto")
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
        Ok(Self { ip, user_agent, host: host_of(&authority), authority, https })
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// A `Set-Cookie` value: host-only, HttpOnly, SameSite=Lax, Secure unless the site is loopback;
/// persistent for `max_age` seconds when given, removed when `Some(0)`.
pub fn set_cookie(name: &str, value: &str, site: &Site, max_age: Option<u64>) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if !is_loopback_host(&site.domain) {
        text.push_str("; Secure");
    }
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    // Values are base64url tokens: always a valid header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Whether a form's CSRF token is the expected one.
pub fn csrf_matches(expected: &str, sent: Option<&str>) -> bool {
    !expected.is_empty() && sent.is_some_and(|sent| same_code(expected, sent))
}

/// The CSRF token of forms shown inside a session: derived from the session id, so it needs no
/// storage and another browser cannot know it.
pub fn session_csrf(session_id: &str) -> String {
    let digest = crate::app::secret_hash(&format!("twofold csrf\0{session_id}"));
    data_encoding::BASE64URL_NOPAD.encode(&digest[..16])
}

/// Text made safe to place in HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page with the portal's security headers.
pub fn page(title: &str, body: &str) -> Response {
    let html = Html(format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content='width=device-width'><title>{title}</title>\
         <link rel=stylesheet href=/twofold/portal.css></head>\
         <body><main><h1>{title}</h1>{body}</main>\
         <script src=/twofold/portal.js></script></body></html>",
        title = escape(title),
    ));
    secured(html.into_response())
}

/// `response` with the pages' security headers.
pub fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A hidden CSRF field.
pub fn csrf_field(token: &str) -> String {
    format!("<input type=hidden name=csrf value=\"{}\">", escape(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; twofold_session=xyz; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, "twofold"), None);
    }

    #[test]
    fn cookies_are_secure_off_loopback() {
        let remote = set_cookie("n", "v", &Site::new("app.example.com"), None);
        assert_eq!(remote, "n=v; Path=/; HttpOnly; SameSite=Lax; Secure");
        let local = set_cookie("n", "v", &Site::new("127.0.0.1"), Some(60));
        assert_eq!(local, "n=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
    }

    #[test]
    fn hosts_lose_their_port() {
        assert_eq!(host_of("Example.com:8443"), "example.com");
        assert_eq!(host_of("[::1]:80"), "[::1]");
        assert_eq!(host_of("example.com"), "example.com");
    }

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(escape("<b a='1'>&\""), "&lt;b a=&#39;1&#39;&gt;&amp;&quot;");
    }
}
