//! The portal's pages, server-rendered: plain forms that work without JavaScript; the one script
//! (`portal.js`) only waits for the device's answer and moves on by itself.

use axum::response::Response;
use zeroize::Zeroizing;

use super::web::{csrf_field, escape, page};
use crate::store::Device;
use crate::store::portal::{AppPassword, Session};

/// The stylesheet (`/twofold/portal.css`).
pub(super) const CSS: &str = "body{font:16px system-ui,sans-serif;margin:0;background:#f5f5f7;color:#1d1d1f}\
main{max-width:34em;margin:3em auto;padding:1.5em 2em;background:#fff;border-radius:12px}\
h1{font-size:1.4em}input,button{font:inherit;padding:.35em .5em}\
.number{font-size:4em;font-weight:bold;letter-spacing:.1em;text-align:center}\
.codes{font:1.2em monospace;columns:2}.error{color:#b00020}.link{word-break:break-all;font:.8em monospace}\
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3em;border-bottom:1px solid #ddd}\
form.inline{display:inline}svg{display:block;margin:1em auto;width:256px;height:256px}";

/// The script (`/twofold/portal.js`): on the waiting page, waits for the device's answer and
/// submits the Continue form once there is one. Without it, the person presses Continue.
pub(super) const JS: &str = "(function(){\
const form=document.getElementById('continue');if(!form)return;\
async function wait(){for(;;){let s;try{const r=await fetch('/twofold/signin/status?wait=25',{credentials:'same-origin'});\
s=(await r.json()).status;}catch(e){await new Promise(d=>setTimeout(d,2000));continue;}\
if(s!=='waiting'){form.submit();return;}}}wait();})();";

/// The sign-in form.
pub(super) fn signin_form(csrf: &str, return_url: &str, error: Option<&str>) -> Response {
    let error = error.map(|e| format!("<p class=error>{}</p>", escape(e))).unwrap_or_default();
    page(
        "Sign in",
        &format!(
            "{error}<form method=post action=/twofold/signin>{csrf}\
             <input type=hidden name=rd value=\"{rd}\">\
             <p><label>User name<br><input name=user autocomplete=username required autofocus></label></p>\
             <p><label><input type=checkbox name=trust value=1> Trust this browser for 30 days</label></p>\
             <p><button>Sign in</button></p></form>\
             <p><a href=\"/twofold/recover?rd={rd_q}\">Use a recovery code</a></p>",
            csrf = csrf_field(csrf),
            rd = escape(return_url),
            rd_q = escape(&url_encode(return_url)),
        ),
    )
}

/// The page shown while the devices are asked.
pub(super) fn waiting(csrf: &str, number: Option<u32>) -> Response {
    let number = number
        .map(|n| {
            format!("<p>Choose this number on your device:</p><p class=number id=number>{n}</p>")
        })
        .unwrap_or_default();
    page(
        "Check your device",
        &format!(
            "<p>A sign-in request went to your devices. Approve it there.</p>{number}\
             <form id=continue method=post action=/twofold/signin/continue>{csrf}\
             <p><button>Continue</button> once you have answered on your device.</p></form>",
            csrf = csrf_field(csrf),
        ),
    )
}

/// The page asking for the code the device shows (code mode).
pub(super) fn code_form(csrf: &str, wrong: bool) -> Response {
    let error = if wrong { "<p class=error>That code is not the one shown.</p>" } else { "" };
    page(
        "Enter the code",
        &format!(
            "{error}<p>Allowed. Type the code your device shows.</p>\
             <form method=post action=/twofold/signin/continue>{csrf}\
             <p><input name=code inputmode=numeric autocomplete=one-time-code required autofocus> \
             <button>Verify</button></p></form>",
            csrf = csrf_field(csrf),
        ),
    )
}

/// The end of a sign-in without a session.
pub(super) fn over(reason: &str, return_url: &str) -> Response {
    page(
        "Not signed in",
        &format!(
            "<p>{}</p><p><a href=\"/twofold/signin?rd={}\">Try again</a></p>",
            escape(reason),
            escape(&url_encode(return_url))
        ),
    )
}

/// A message page.
pub(super) fn message(title: &str, text: &str) -> Response {
    page(title, &format!("<p>{}</p>", escape(text)))
}

/// The recovery-code form.
pub(super) fn recover_form(csrf: &str, return_url: &str, error: Option<&str>) -> Response {
    let error = error.map(|e| format!("<p class=error>{}</p>", escape(e))).unwrap_or_default();
    page(
        "Sign in with a recovery code",
        &format!(
            "{error}<p>Each recovery code works once.</p>\
             <form method=post action=/twofold/recover>{csrf}\
             <input type=hidden name=rd value=\"{rd}\">\
             <p><label>User name<br><input name=user autocomplete=username required></label></p>\
             <p><label>Recovery code<br><input name=code autocomplete=off required></label></p>\
             <p><label><input type=checkbox name=trust value=1> Trust this browser for 30 days</label></p>\
             <p><button>Sign in</button></p></form>",
            csrf = csrf_field(csrf),
            rd = escape(return_url),
        ),
    )
}

/// Recovery codes, shown once.
pub(super) fn codes(title: &str, codes: &[Zeroizing<String>], next: &str) -> Response {
    let list: String = codes.iter().map(|c| format!("<li>{}</li>", escape(c))).collect();
    page(
        title,
        &format!(
            "<p>Save these recovery codes now: they are shown only this once. Each signs you in \
             once when no device can answer.</p><ol class=codes>{list}</ol>{next}"
        ),
    )
}

/// The continuation of the enrolment page: on to the recovery codes.
pub(super) fn enrol_next(csrf: &str, token: &str, devices: usize) -> String {
    let note = if devices > 0 {
        format!("<p>{devices} device(s) paired. Pair another, or continue.</p>")
    } else {
        String::new()
    };
    format!(
        "{note}<form method=post action=\"/twofold/enrol/{token}\">{csrf}\
         <p><button>I have paired my device: continue</button></p></form>",
        token = escape(token),
        csrf = csrf_field(csrf),
    )
}

/// A page with a pairing code (inline SVG) and link for `user`, then `next` (trusted HTML).
pub(super) fn pairing(user: &str, svg: &str, link: &str, next: &str) -> Response {
    page(
        "Pair a device",
        &format!(
            "<p>For <b>{user}</b>: open Twofold on your computer, choose <i>Pair with a \
             server</i>, and scan this code from the screen or paste the link. The code works once, \
             for ten minutes.</p>{svg}<p class=link>{link}</p>{next}",
            user = escape(user),
            link = escape(link),
        ),
    )
}

/// What the account page shows.
pub(super) struct AccountView<'a> {
    pub csrf: &'a str,
    pub user: &'a str,
    pub display_name: &'a str,
    pub devices: &'a [Device],
    pub sessions: &'a [Session],
    pub current: Option<uuid::Uuid>,
    pub passwords: &'a [AppPassword],
    pub codes_left: u32,
    pub describe: &'a dyn Fn(&str) -> String,
    pub notice: &'a str,
}

/// A Unix time as UTC text.
fn when(at: u64) -> String {
    let days = at / 86_400;
    let (h, m) = ((at % 86_400) / 3600, (at % 3600) / 60);
    // Civil date from days since 1970 (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year}-{month:02}-{d:02} {h:02}:{m:02} UTC")
}

/// The account page.
pub(super) fn account(view: &AccountView<'_>) -> Response {
    let csrf = csrf_field(view.csrf);
    let post = |action: &str, name: &str, value: &str, label: &str| {
        format!(
            "<form class=inline method=post action=\"{action}\">{csrf}\
             <input type=hidden name={name} value=\"{}\"><button>{label}</button></form>",
            escape(value)
        )
    };
    let devices: String = view
        .devices
        .iter()
        .map(|d| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&d.name),
                when(d.paired_at),
                post("/twofold/account/devices/remove", "id", &d.id.to_string(), "Remove")
            )
        })
        .collect();
    let sessions: String = view
        .sessions
        .iter()
        .map(|s| {
            let this = if view.current == Some(s.handle) { " (this browser)" } else { "" };
            format!(
                "<tr><td>{}{this}<br><small>{} · {}{}</small></td><td>{}</td><td>{}</td></tr>",
                escape(&(view.describe)(&s.user_agent)),
                escape(&s.ip.to_string()),
                escape(&s.domain),
                if s.trusted { " · trusted" } else { "" },
                when(s.created_at),
                post("/twofold/account/sessions/end", "handle", &s.handle.to_string(), "Sign out")
            )
        })
        .collect();
    let passwords: String = view
        .passwords
        .iter()
        .map(|p| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&p.name),
                p.last_used_at
                    .map_or_else(|| "never used".into(), |at| format!("last used {}", when(at))),
                post("/twofold/account/app-passwords/revoke", "id", &p.id.to_string(), "Revoke")
            )
        })
        .collect();
    let notice = if view.notice.is_empty() {
        String::new()
    } else {
        format!("<p class=notice>{}</p>", view.notice)
    };
    page(
        "Your account",
        &format!(
            "{notice}<p>Signed in as <b>{name}</b> ({user}).</p>\
             <form method=post action=/twofold/signout>{csrf}<p><button>Sign out</button></p></form>\
             <h2>Devices</h2><table>{devices}</table>\
             <form method=post action=/twofold/account/devices/pair>{csrf}<p><button>Pair a device</button></p></form>\
             <h2>Signed-in browsers</h2><table>{sessions}</table>\
             <h2>App passwords</h2><p>For apps that cannot ask your device (calendar, WebDAV).</p>\
             <table>{passwords}</table>\
             <form method=post action=/twofold/account/app-passwords>{csrf}\
             <p><label>Name <input name=name required maxlength=64></label> <button>Create</button></p></form>\
             <h2>Recovery codes</h2><p>{left} unused.</p>\
             <form method=post action=/twofold/account/recovery-codes>{csrf}\
             <p><button>Make new recovery codes</button> (the old ones stop working)</p></form>",
            name = escape(view.display_name),
            user = escape(view.user),
            left = view.codes_left,
        ),
    )
}

/// `text` percent-encoded for a query value.
pub(super) fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
        assert_eq!(when(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(when(951_782_400), "2000-02-29 00:00 UTC");
    }
}
