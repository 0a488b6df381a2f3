//! The pages a person meets a setup code on, as HTML: a bank's security settings, a chat with a
//! code a colleague sent, a cloud console's MFA dialog over a dimmed table, an e-mail in a web
//! mail client, and a help article. Each takes the codes' HTML and places them above the fold of
//! a laptop screen; with none, it is a negative (icons, avatars and tables, but no code).

use std::fmt::Write as _;

use crate::rng::Rng;

/// The kinds of page.
pub const KINDS: [&str; 5] = ["bank", "chat", "cloud", "email", "help"];

/// Colours of one theme, as CSS custom properties.
fn theme_css(dark: bool) -> &'static str {
    if dark {
        ":root{--bg:#0f1115;--panel:#171a21;--card:#1d2129;--text:#e6e8ec;--muted:#9aa3ae;\
         --border:#2c323c;--accent:#6ea8fe;--bubble:#243043;--code:#12151b;color-scheme:dark}"
    } else {
        ":root{--bg:#ffffff;--panel:#f4f5f7;--card:#ffffff;--text:#1f2328;--muted:#667085;\
         --border:#d8dce2;--accent:#3457d5;--bubble:#e8f0fe;--code:#f6f8fa;color-scheme:light}"
    }
}

/// CSS every page shares.
const BASE_CSS: &str = "*{box-sizing:border-box}html,body{margin:0;height:100%}\
body{background:var(--bg);color:var(--text);font:15px/1.45 'DejaVu Sans',sans-serif}\
.muted{color:var(--muted)}button{background:var(--accent);color:#fff;border:0;border-radius:6px;\
padding:8px 16px;font:inherit}input{background:var(--card);color:var(--text);border:1px solid \
var(--border);border-radius:6px;padding:7px 10px;font:inherit}code,pre{background:var(--code);\
font:13px 'DejaVu Sans Mono',monospace;border-radius:4px;padding:2px 5px}\
.avatar{display:inline-block;width:34px;height:34px;border-radius:50%;color:#fff;\
text-align:center;line-height:34px;font-weight:bold;flex:none}\
.qrbox{display:inline-block;background:var(--qrpaper,#fff);padding:6px;border-radius:6px;\
line-height:0}.qrbox.bare{padding:0}";

const WORDS: &[&str] = &[
    "account",
    "security",
    "sign",
    "in",
    "your",
    "app",
    "code",
    "device",
    "password",
    "protect",
    "authenticator",
    "every",
    "time",
    "we",
    "will",
    "ask",
    "for",
    "a",
    "six-digit",
    "from",
    "the",
    "phone",
    "keep",
    "backup",
    "codes",
    "safe",
    "place",
    "settings",
    "recovery",
    "team",
    "access",
    "admin",
    "policy",
    "enable",
    "verification",
    "step",
    "new",
    "login",
    "trusted",
    "browser",
];

/// A sentence-like run of `n` words.
fn words(rng: &mut Rng, n: u32) -> String {
    let mut out = String::new();
    for i in 0..n {
        let word = *rng.pick(WORDS);
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(word);
        }
    }
    out.push('.');
    out
}

/// A paragraph of a few sentences.
fn paragraph(rng: &mut Rng, sentences: u32) -> String {
    let text: Vec<String> = (0..sentences)
        .map(|_| {
            let n = rng.range(6, 14);
            words(rng, n)
        })
        .collect();
    format!("<p>{}</p>", text.join(" "))
}

/// A round avatar with initials in a random colour.
fn avatar(rng: &mut Rng) -> String {
    let colours = ["#d9534f", "#5cb85c", "#5bc0de", "#f0ad4e", "#7e57c2", "#26a69a"];
    let letters = ["AK", "BL", "CM", "DN", "EO", "FP", "GR", "HS"];
    format!(
        r#"<span class="avatar" style="background:{}">{}</span>"#,
        rng.pick(&colours),
        rng.pick(&letters)
    )
}

/// A manual-entry key as sites print it beside the code.
fn manual_key(rng: &mut Rng) -> String {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    (0..8)
        .map(|_| (0..4).map(|_| BASE32[rng.range(0, 31) as usize] as char).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The whole document.
fn document(dark: bool, css: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>page</title><style>{}{BASE_CSS}{css}</style></head><body>{body}</body></html>",
        theme_css(dark)
    )
}

/// A code in its box: `bare` when it brings its own background (inverted dark-mode codes).
fn boxed(code: &str, bare: bool) -> String {
    format!(r#"<span class="qrbox{}">{code}</span>"#, if bare { " bare" } else { "" })
}

/// The page of `kind` holding `codes` (HTML of each code, already boxed or not).
pub fn page(kind: &str, dark: bool, codes: &[String], rng: &mut Rng) -> String {
    match kind {
        "bank" => bank(dark, codes, rng),
        "chat" => chat(dark, codes, rng),
        "cloud" => cloud(dark, codes, rng),
        "email" => email(dark, codes, rng),
        _ => help(dark, codes, rng),
    }
}

/// Codes in their boxes, side by side.
pub fn boxed_all(codes: &[(String, bool)]) -> Vec<String> {
    codes.iter().map(|(html, bare)| boxed(html, *bare)).collect()
}

fn bank(dark: bool, codes: &[String], rng: &mut Rng) -> String {
    let css = ".top{display:flex;align-items:center;gap:28px;padding:14px 40px;background:#0b3d2e;\
color:#fff}.logo{font-weight:bold;font-size:20px}.top nav span{margin-right:18px;opacity:.85}\
main{max-width:980px;margin:24px auto;padding:0 24px}.card{display:flex;gap:28px;\
background:var(--card);border:1px solid var(--border);border-radius:10px;padding:22px}\
ol{padding-left:20px}";
    let mut enrol = String::new();
    for code in codes {
        enrol.push_str(code);
    }
    let key = manual_key(rng);
    let side = if codes.is_empty() {
        format!("<div>{}</div>", paragraph(rng, 3))
    } else {
        format!(
            "<div>{enrol}</div><div><p class=\"muted\">Can't scan it? Enter this key instead:</p>\
<p><code>{key}</code></p><p><label>Code from the app<br><input placeholder=\"123 456\"></label></p>\
<button>Verify and turn on</button></div>"
        )
    };
    let body = format!(
        "<div class=\"top\"><span class=\"logo\">&#9632; Northfield Bank</span><nav><span>Accounts</span>\
<span>Payments</span><span>Cards</span><span>Security</span></nav></div><main><h2>Two-step verification</h2>\
<ol><li>Install an authenticator app on your phone.</li><li>Scan the code with the app.</li>\
<li>Type the six-digit code it shows.</li></ol><div class=\"card\">{side}</div>{}{}</main>",
        paragraph(rng, 4),
        paragraph(rng, 3)
    );
    document(dark, css, &body)
}

fn chat(dark: bool, codes: &[String], rng: &mut Rng) -> String {
    let css = ".app{display:flex;height:100%}.side{width:280px;background:var(--panel);\
border-right:1px solid var(--border);padding:10px}.conv{display:flex;gap:10px;align-items:center;\
padding:8px;border-radius:8px}.conv.on{background:var(--bubble)}.main{flex:1;display:flex;\
flex-direction:column}.head{padding:12px 20px;border-bottom:1px solid var(--border);font-weight:bold}\
.msgs{flex:1;padding:16px 24px;overflow:hidden}.msg{display:flex;gap:10px;margin-bottom:14px}\
.bubble{background:var(--bubble);border-radius:12px;padding:8px 12px;max-width:520px}\
.bubble img.qr{max-width:100%;height:auto}.compose{padding:12px 20px;border-top:1px solid var(--border)}\
.compose input{width:100%}";
    let mut side = String::new();
    for i in 0..9 {
        let _ = write!(
            side,
            "<div class=\"conv{}\">{}<div><b>{}</b><br><span class=\"muted\">{}</span></div></div>",
            if i == 2 { " on" } else { "" },
            avatar(rng),
            words(rng, 2).trim_end_matches('.'),
            words(rng, 4)
        );
    }
    let mut msgs = String::new();
    let _ = write!(
        msgs,
        "<div class=\"msg\">{}<div class=\"bubble\">{}</div></div>",
        avatar(rng),
        words(rng, 12)
    );
    if codes.is_empty() {
        let _ = write!(
            msgs,
            "<div class=\"msg\">{}<div class=\"bubble\">{}</div></div>",
            avatar(rng),
            paragraph(rng, 2)
        );
    } else {
        let _ = write!(
            msgs,
            "<div class=\"msg\">{}<div class=\"bubble\">Here is the code for the shared ops account:<br>{}</div></div>",
            avatar(rng),
            codes.join(" ")
        );
    }
    let _ = write!(
        msgs,
        "<div class=\"msg\">{}<div class=\"bubble\">{}</div></div>",
        avatar(rng),
        words(rng, 9)
    );
    let body = format!(
        "<div class=\"app\"><div class=\"side\">{side}</div><div class=\"main\"><div class=\"head\">#ops-team</div>\
<div class=\"msgs\">{msgs}</div><div class=\"compose\"><input placeholder=\"Message #ops-team\"></div></div></div>"
    );
    document(dark, css, &body)
}

fn cloud(dark: bool, codes: &[String], rng: &mut Rng) -> String {
    let css = ".nav{position:fixed;left:0;top:0;bottom:0;width:220px;background:#232f3e;color:#d5dbdb;\
padding:14px}.nav div{padding:6px 4px}.content{margin-left:220px;padding:18px 28px}\
table{width:100%;border-collapse:collapse}td,th{border-bottom:1px solid var(--border);padding:7px;\
text-align:left}.veil{position:fixed;inset:0;background:rgba(0,0,0,.55)}.modal{position:fixed;\
left:50%;top:60px;transform:translateX(-40%);background:var(--card);border-radius:8px;padding:22px;\
width:560px;box-shadow:0 10px 40px rgba(0,0,0,.5)}.modal .row{display:flex;gap:22px;align-items:flex-start}";
    let mut nav = String::from("<div><b>Cloud Console</b></div>");
    for item in ["Dashboard", "Users", "Groups", "Roles", "Policies", "Access keys", "Billing"] {
        let _ = write!(nav, "<div>{item}</div>");
    }
    let mut rows = String::new();
    for i in 0..14 {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{} days</td><td>{}</td></tr>",
            words(rng, 1).trim_end_matches('.'),
            if i % 3 == 0 { "Not assigned" } else { "Virtual MFA" },
            rng.range(1, 400),
            words(rng, 3)
        );
    }
    let modal = if codes.is_empty() {
        String::new()
    } else {
        format!(
            "<div class=\"veil\"></div><div class=\"modal\"><h3>Set up virtual MFA device</h3><div class=\"row\">\
<div>{}</div><div><p class=\"muted\">Scan with your authenticator app, then enter two consecutive codes.</p>\
<p><input placeholder=\"MFA code 1\"></p><p><input placeholder=\"MFA code 2\"></p><button>Add MFA</button></div></div></div>",
            codes.join("")
        )
    };
    let body = format!(
        "<div class=\"nav\">{nav}</div><div class=\"content\"><h2>Users</h2><table><tr><th>User</th>\
<th>MFA</th><th>Password age</th><th>Groups</th></tr>{rows}</table></div>{modal}"
    );
    document(dark, css, &body)
}

fn email(dark: bool, codes: &[String], rng: &mut Rng) -> String {
    let css = ".mail{display:flex;height:100%}.folders{width:180px;background:var(--panel);padding:14px}\
.folders div{padding:5px}.list{width:320px;border-right:1px solid var(--border);overflow:hidden}\
.item{padding:10px 14px;border-bottom:1px solid var(--border)}.item.on{background:var(--bubble)}\
.read{flex:1;padding:18px 26px;overflow:hidden}.letter{max-width:600px;border:1px solid var(--border);\
padding:18px;border-radius:6px}";
    let mut folders = String::new();
    for folder in ["Inbox", "Starred", "Sent", "Drafts", "Archive", "Spam"] {
        let _ = write!(folders, "<div>{folder}</div>");
    }
    let mut list = String::new();
    for i in 0..10 {
        let _ = write!(
            list,
            "<div class=\"item{}\"><b>{}</b><br><span class=\"muted\">{}</span></div>",
            if i == 1 { " on" } else { "" },
            words(rng, 3),
            words(rng, 6)
        );
    }
    let body_codes = if codes.is_empty() {
        paragraph(rng, 3)
    } else {
        format!(
            "<p>Scan this code with your authenticator app to finish setting up two-step sign-in:</p>\
<p>{}</p><p class=\"muted\">If you did not ask for this, ignore this message.</p>",
            codes.join(" ")
        )
    };
    let body = format!(
        "<div class=\"mail\"><div class=\"folders\">{folders}</div><div class=\"list\">{list}</div>\
<div class=\"read\"><h3>Finish setting up two-step sign-in</h3><p class=\"muted\">From: Accounts \
&lt;no-reply@example.com&gt;</p><div class=\"letter\"><p>Hello,</p>{body_codes}{}</div></div></div>",
        paragraph(rng, 2)
    );
    document(dark, css, &body)
}

fn help(dark: bool, codes: &[String], rng: &mut Rng) -> String {
    let css = ".top{padding:12px 32px;border-bottom:1px solid var(--border);font-weight:bold}\
.doc{display:flex}.toc{width:230px;padding:18px 24px;color:var(--muted)}.toc div{padding:3px 0}\
article{max-width:760px;padding:10px 24px}figure{margin:12px 0;display:flex;gap:24px;\
align-items:center}.note{border-left:4px solid var(--accent);background:var(--panel);\
padding:8px 14px}";
    let mut toc = String::new();
    for _ in 0..12 {
        let _ = write!(toc, "<div>{}</div>", words(rng, 3).trim_end_matches('.'));
    }
    let figure = if codes.is_empty() {
        format!("<pre>{}</pre>", words(rng, 8))
    } else {
        format!(
            "<figure>{}<figcaption class=\"muted\">Scan with your phone's camera.</figcaption></figure>",
            codes.join("")
        )
    };
    let body = format!(
        "<div class=\"top\">Help Center</div><div class=\"doc\"><div class=\"toc\">{toc}</div><article>\
<h2>Turn on two-factor authentication</h2>{}{figure}<div class=\"note\">{}</div>{}</article></div>",
        paragraph(rng, 2),
        words(rng, 14),
        paragraph(rng, 4)
    );
    document(dark, css, &body)
}

/// A page that shows several large export codes side by side (an authenticator's account
/// transfer as a web app shows it).
pub fn transfer(dark: bool, codes: &[String], rng: &mut Rng) -> String {
    let css = "main{padding:18px 28px}.codes{display:flex;gap:18px;flex-wrap:wrap}\
.codes figure{margin:0;text-align:center}";
    let figures: String = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            format!(
                "<figure>{code}<figcaption class=\"muted\">{} of {}</figcaption></figure>",
                i + 1,
                codes.len()
            )
        })
        .collect();
    let body = format!(
        "<main><h2>Transfer accounts</h2><p>Scan each code with your new phone, in order.</p>\
<div class=\"codes\">{figures}</div>{}</main>",
        paragraph(rng, 2)
    );
    document(dark, css, &body)
}
