//! Adding accounts from QR images in the real app, by every way an image comes in: the "Add from
//! image" file input, a PNG dropped on the window, Ctrl+V with an image on the X clipboard, and
//! "Scan screen" with QR windows on the Xvfb display. Each test checks the preview (accounts
//! offered, duplicates flagged, other codes refused with their message), that the chosen accounts
//! land in the vault (real keyring) with secrets that make the right codes, and that no secret
//! reaches the page. `scripts/test` starts the services and exports `TWOFOLD_WEBDRIVER_URL`,
//! `TWOFOLD_APP_BIN` and `DISPLAY`.

mod support;

use support::{
    APPEAR, TestResult, XWindow, clipboard_targets, content_of, ensure, map_state, press_ctrl,
    screen_png, serve_clipboard, start_app, unix_now, x_windows,
};

use std::io::Cursor;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use image::ImageFormat;
use qrcode::{Color, QrCode};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use twofold_core::keystore::OsKeystore;
use twofold_core::vault::Vault;
use twofold_core::{OtpParams, Secret, migration, otp, qr, uri};

/// An account as a test's QR code carries it.
struct Spec {
    issuer: &'static str,
    name: &'static str,
    /// Base32; each test account has its own, so a secret landing on the wrong account shows.
    secret: &'static str,
}

impl Spec {
    fn uri(&self) -> String {
        let Self { issuer, name, secret } = self;
        format!("otpauth://totp/{issuer}:{name}?secret={secret}&issuer={issuer}")
    }

    fn label(&self) -> String {
        format!("{} ({})", self.issuer, self.name)
    }
}

const BITRISE: Spec =
    Spec { issuer: "Bitrise", name: "ada@example.com", secret: "JBSWY3DPEHPK3PXP" };
const MENDIX: Spec = Spec { issuer: "Mendix", name: "bob", secret: "GEZDGNBVGY3TQOJQ" };
const GITHUB: Spec = Spec { issuer: "GitHub", name: "alice", secret: "MFRGGZDFMZTWQ2LK" };
const GITLAB: Spec = Spec { issuer: "GitLab", name: "carol", secret: "ONXW2ZLTMVRXEZLU" };

const WIFI_PASSWORD: &str = "correct horse";
const WIFI: &str = "WIFI:T:WPA;S:home;P:correct horse;;";
/// What the preview says about the Wi-Fi code, after "QR code N".
const WIFI_REFUSED: &str = ": this QR code holds Wi-Fi network settings, not an account";

/// Saves a page of `payloads`' codes as `name` in `dir` and returns its path and PNG bytes.
fn save_page(
    dir: &Path,
    name: &str,
    payloads: &[&str],
) -> TestResult<(std::path::PathBuf, Vec<u8>)> {
    let mut png = Vec::new();
    support::page_with_codes(payloads)?.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)?;
    let path = dir.join(name);
    std::fs::write(&path, &png)?;
    Ok((path, png))
}

/// A Google Authenticator export of `specs` in one QR code.
fn migration_uri(specs: &[&Spec]) -> TestResult<String> {
    let credentials =
        specs.iter().map(|spec| uri::parse(&spec.uri())).collect::<Result<Vec<_>, _>>()?;
    let encoded = migration::encode(&credentials, 1);
    let [one] = encoded.uris.as_slice() else {
        return Err(format!("the export takes {} QR codes", encoded.uris.len()).into());
    };
    Ok(one.to_string())
}

/// Runs `check` against the app started on a fresh vault in a temporary directory (also given to
/// `check`), then closes the app and takes the test's accounts back out of the keyring, which
/// outlives the vault directory, whatever `check` gave.
async fn with_app(check: impl AsyncFnOnce(&Client, &Vault, &Path) -> TestResult) -> TestResult {
    // "Scan screen" must find one app window on the display, among other things.
    let _alone = support::ONE_APP.lock().await;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let vault = Vault::open(&data, OsKeystore::default())?;
    let client = start_app(&data).await?;
    let outcome = check(&client, &vault, dir.path()).await;
    let closed = client.close().await;
    for account in vault.accounts()? {
        vault.remove(account.id)?;
    }
    outcome?;
    Ok(closed?)
}

/// One account of the preview, as the person sees it.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    label: String,
    checked: bool,
    enabled: bool,
    /// "already in Twofold" on a duplicate, else empty.
    note: String,
}

impl Entry {
    fn new(spec: &Spec) -> Self {
        Self { label: spec.label(), checked: true, enabled: true, note: String::new() }
    }

    fn duplicate(spec: &Spec) -> Self {
        Self {
            label: spec.label(),
            checked: false,
            enabled: false,
            note: "already in Twofold".to_owned(),
        }
    }
}

/// The scan dialog as it is shown.
#[derive(Debug)]
struct Preview {
    title: String,
    entries: Vec<Entry>,
    problems: Vec<String>,
    add_enabled: bool,
}

/// Reads the whole dialog at once, so no refresh can fall between two reads.
const READ_PREVIEW: &str = r##"
    const text = (node) => node?.textContent ?? "";
    return {
        title: text(document.getElementById("scan-title")),
        entries: [...document.querySelectorAll("#scan-entries:not([hidden]) .scan-entry")].map((item) => {
            const box = item.querySelector('input[type="checkbox"]');
            return { label: text(item.querySelector(".scan-label")), checked: box.checked,
                     enabled: !box.disabled, note: text(item.querySelector(".scan-note")) };
        }),
        problems: [...document.querySelectorAll("#scan-problems:not([hidden]) .scan-problem")]
            .map(text),
        addEnabled: (() => {
            const add = document.getElementById("scan-add");
            return !add.hidden && !add.disabled;
        })(),
    };
"##;

/// Waits for the scan dialog to open and reads it.
async fn preview(client: &Client) -> TestResult<Preview> {
    let opened = client.wait().at_most(APPEAR).for_element(Locator::Css("#scan[open]")).await;
    opened.map_err(|err| format!("the scan dialog did not open: {err}"))?;
    let shown = client.execute(READ_PREVIEW, vec![]).await?;
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let list = |value: &Value| value.as_array().cloned().unwrap_or_default();
    Ok(Preview {
        title: text(&shown["title"]),
        entries: list(&shown["entries"])
            .iter()
            .map(|entry| Entry {
                label: text(&entry["label"]),
                checked: entry["checked"] == true,
                enabled: entry["enabled"] == true,
                note: text(&entry["note"]),
            })
            .collect(),
        problems: list(&shown["problems"]).iter().map(text).collect(),
        add_enabled: shown["addEnabled"] == true,
    })
}

/// Clicks `button` of the open dialog and waits for it to close.
async fn click_and_close(client: &Client, button: &str) -> TestResult {
    client.find(Locator::Css(button)).await?.click().await?;
    client
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("#scan:not([open])"))
        .await?;
    Ok(())
}

/// The vault holds exactly `specs`' accounts, each with the secret its QR code carried (it makes
/// the same codes), and the window lists each.
async fn ensure_in_vault(client: &Client, vault: &Vault, specs: &[&Spec]) -> TestResult {
    let accounts = vault.accounts()?;
    let labels: Vec<String> = accounts.iter().map(|account| account.label()).collect();
    ensure!(accounts.len() == specs.len(), "the vault holds {labels:?}");
    let now = unix_now();
    for spec in specs {
        let account = accounts
            .iter()
            .find(|account| account.issuer == spec.issuer && account.name == spec.name)
            .ok_or_else(|| format!("the vault holds {labels:?}, not {}", spec.label()))?;
        let stored = otp::generate(&vault.secret(account)?, &account.otp, now)?;
        let expected =
            otp::generate(&Secret::from_base32(spec.secret)?, &OtpParams::default(), now)?;
        ensure!(stored == expected, "{} makes other codes than its QR code", spec.label());
        let row = format!(r#"button.account[data-account-id="{}"] .issuer"#, account.id);
        client.wait().at_most(Duration::from_secs(5)).for_element(Locator::Css(&row)).await?;
        let shown = content_of(client, &row).await?;
        ensure!(shown == spec.issuer, "the row of {} shows {shown:?}", spec.label());
    }
    Ok(())
}

/// The page never held a secret (or the Wi-Fi password): they stay in Rust.
async fn ensure_no_secret_in_page(client: &Client, specs: &[&Spec]) -> TestResult {
    let html = client.source().await?;
    for spec in specs {
        ensure!(!html.contains(spec.secret), "the secret of {} is in the page", spec.label());
    }
    ensure!(!html.contains(WIFI_PASSWORD), "the Wi-Fi password is in the page");
    Ok(())
}

/// Waits until the window lists its accounts (or says it has none).
async fn wait_until_listed(client: &Client) -> TestResult {
    let listed = "#empty:not([hidden]), button.account";
    client.wait().at_most(APPEAR).for_element(Locator::Css(listed)).await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn an_image_file_adds_its_account_refuses_wifi_and_flags_a_second_scan() -> TestResult {
    with_app(check_file).await
}

async fn check_file(client: &Client, vault: &Vault, dir: &Path) -> TestResult {
    let (image, _) = save_page(dir, "screenshot.png", &[&BITRISE.uri(), WIFI])?;
    let path = image.to_str().ok_or("temporary path is not UTF-8")?;
    wait_until_listed(client).await?;

    // The file input is named by its label, as a screen reader announces it.
    let label = content_of(client, r#"label[for="image-file"]"#).await?;
    ensure!(label == "Add from image", "the file input is labelled {label:?}");
    client.find(Locator::Css("#image-file")).await?.send_keys(path).await?;

    // The preview offers the account, checked, and names the Wi-Fi code as not an account.
    let shown = preview(client).await?;
    ensure!(shown.entries == [Entry::new(&BITRISE)], "the preview lists {shown:?}");
    ensure!(shown.problems == [format!("QR code 2{WIFI_REFUSED}")], "the preview says {shown:?}");
    ensure_no_secret_in_page(client, &[&BITRISE]).await?;
    click_and_close(client, "#scan-add").await?;
    ensure_in_vault(client, vault, &[&BITRISE]).await?;

    // The same file again: the account is flagged and cannot be chosen.
    client.find(Locator::Css("#image-file")).await?.send_keys(path).await?;
    let shown = preview(client).await?;
    ensure!(shown.entries == [Entry::duplicate(&BITRISE)], "the second scan shows {shown:?}");
    ensure!(!shown.add_enabled, "a scan of duplicates only can be added");
    click_and_close(client, "#scan-cancel").await?;
    ensure_in_vault(client, vault, &[&BITRISE]).await
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn ctrl_v_with_a_qr_image_on_the_x_clipboard_adds_its_account() -> TestResult {
    with_app(check_paste).await
}

async fn check_paste(client: &Client, vault: &Vault, dir: &Path) -> TestResult {
    wait_until_listed(client).await?;

    // A PNG on the clipboard, as a screenshot tool leaves it: WebKitGTK gives the page's paste
    // event no image at all, so this passes only if the app reads the clipboard itself.
    let (image, _) = save_page(dir, "copied.png", &[&MENDIX.uri()])?;
    let clipboard = serve_clipboard(&image, "image/png").await?;
    press_ctrl(client, 'v').await?;
    let shown = preview(client).await?;
    ensure!(shown.title == "Accounts found", "the pasted image previews {shown:?}");
    ensure!(shown.entries == [Entry::new(&MENDIX)], "the pasted image previews {shown:?}");
    ensure!(shown.problems.is_empty(), "the pasted image previews {shown:?}");
    ensure_no_secret_in_page(client, &[&MENDIX]).await?;
    click_and_close(client, "#scan-add").await?;
    drop(clipboard);
    ensure_in_vault(client, vault, &[&MENDIX]).await?;

    // The new row copies its code: with only text that is no link on the clipboard, Ctrl+V says
    // what to copy. (The app owns the clipboard then; app_paste covers xclip's text.)
    client.find(Locator::Css("button.account")).await?.click().await?;
    let start = Instant::now();
    while clipboard_targets().await?.iter().any(|target| target == "image/png") {
        ensure!(start.elapsed() < Duration::from_secs(5), "the code was not copied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    press_ctrl(client, 'v').await?;
    let shown = preview(client).await?;
    ensure!(shown.entries.is_empty(), "a text paste previews {shown:?}");
    let [problem] = shown.problems.as_slice() else {
        return Err(format!("a text paste shows {shown:?}").into());
    };
    ensure!(
        problem.contains("holds no otpauth:// or otpauth-migration:// link"),
        "a text paste says {problem:?}"
    );
    click_and_close(client, "#scan-cancel").await?;
    ensure_in_vault(client, vault, &[&MENDIX]).await
}

async fn drag(client: &Client, png: &[u8], types: &[&str]) -> TestResult<Vec<(bool, bool)>> {
    support::drag_file(client, png, "qr.png", "image/png", types).await
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn a_png_dropped_on_the_window_adds_its_account() -> TestResult {
    with_app(check_drop).await
}

async fn check_drop(client: &Client, vault: &Vault, dir: &Path) -> TestResult {
    let (_, png) = save_page(dir, "dropped.png", &[&GITHUB.uri()])?;
    wait_until_listed(client).await?;

    // A file dragged in and out again: the overlay shows on entering and goes on leaving.
    let steps = drag(client, &png, &["dragenter", "dragleave"]).await?;
    ensure!(steps == [(true, true), (false, false)], "drag in and out: {steps:?}");
    let open = client.find_all(Locator::Css("#scan[open]")).await?;
    ensure!(open.is_empty(), "dragging a file over the window opened the dialog");

    // Dropped: the page accepts it (cancels dragover and drop), the overlay goes, the preview opens.
    let steps = drag(client, &png, &["dragenter", "dragover", "drop"]).await?;
    ensure!(steps == [(true, true), (true, true), (true, false)], "the drop went {steps:?}");
    let shown = preview(client).await?;
    ensure!(shown.entries == [Entry::new(&GITHUB)], "the dropped image previews {shown:?}");
    ensure!(shown.problems.is_empty(), "the dropped image previews {shown:?}");
    ensure_no_secret_in_page(client, &[&GITHUB]).await?;
    click_and_close(client, "#scan-add").await?;
    ensure_in_vault(client, vault, &[&GITHUB]).await
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn the_same_image_dropped_then_pasted_is_flagged_and_not_added_again() -> TestResult {
    with_app(check_duplicates).await
}

async fn check_duplicates(client: &Client, vault: &Vault, dir: &Path) -> TestResult {
    let (image, png) = save_page(dir, "twice.png", &[&BITRISE.uri(), &GITLAB.uri()])?;
    wait_until_listed(client).await?;
    drag(client, &png, &["dragenter", "dragover", "drop"]).await?;
    let shown = preview(client).await?;
    ensure!(
        shown.entries == [Entry::new(&BITRISE), Entry::new(&GITLAB)],
        "the first import previews {shown:?}"
    );
    click_and_close(client, "#scan-add").await?;
    ensure_in_vault(client, vault, &[&BITRISE, &GITLAB]).await?;

    // The same image again, pasted: both are flagged, cannot be chosen, and Add is off.
    let _clipboard = serve_clipboard(&image, "image/png").await?;
    press_ctrl(client, 'v').await?;
    let shown = preview(client).await?;
    ensure!(
        shown.entries == [Entry::duplicate(&BITRISE), Entry::duplicate(&GITLAB)],
        "the second import previews {shown:?}"
    );
    ensure!(!shown.add_enabled, "duplicates only, yet Add is enabled");

    // Even a page that forces a duplicate through is refused by Rust, with the reason.
    let forced = r#"document.querySelector("[data-index='0']").disabled = false;"#;
    client.execute(forced, vec![]).await?;
    client.find(Locator::Css("#scan-entries [data-index='0']")).await?.click().await?;
    client.find(Locator::Css("#scan-add:not([disabled])")).await?.click().await?;
    client
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("#scan-entries[hidden]"))
        .await?;
    let shown = preview(client).await?;
    let refused = format!("{} is already in Twofold with the same secret", BITRISE.label());
    ensure!(
        shown.title == "Nothing was added" && shown.problems == [refused],
        "adding a forced duplicate shows {shown:?}"
    );
    click_and_close(client, "#scan-cancel").await?;
    ensure_in_vault(client, vault, &[&BITRISE, &GITLAB]).await
}

/// A web address drawn as a QR code on a canvas in the app's own window. Were the window on screen
/// during "Scan screen", the preview would name it.
const DECOY: &str = "https://twofold.example/app-window";

/// Draws `arguments[0]`'s modules (row by row, `arguments[1]` a row) 4 pixels each, with a quiet
/// zone, on a canvas fixed to the window's bottom left.
const DRAW_DECOY: &str = r##"
    const [dark, modules] = arguments;
    const scale = 4;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = (modules + 8) * scale;
    const paint = canvas.getContext("2d");
    paint.fillStyle = "#fff";
    paint.fillRect(0, 0, canvas.width, canvas.height);
    paint.fillStyle = "#000";
    dark.forEach((on, i) => {
        if (on) paint.fillRect((4 + i % modules) * scale, (4 + Math.floor(i / modules)) * scale, scale, scale);
    });
    Object.assign(canvas.style, { position: "fixed", left: "16px", bottom: "16px" });
    document.body.append(canvas);
"##;

/// Opens `image` in an ImageMagick window at (`x`, `y`); it closes when the child is dropped.
fn show_image(image: &Path, x: u32, y: u32) -> TestResult<Child> {
    Ok(Command::new("display")
        .arg("-geometry")
        .arg(format!("+{x}+{y}"))
        .arg(image)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?)
}

/// Waits until the X screen shows every one of `texts` as a readable QR code.
async fn wait_for_codes_on_screen(texts: &[&str]) -> TestResult {
    let start = Instant::now();
    loop {
        let found = qr::scan_image_bytes(&screen_png().await?).unwrap_or_default();
        if texts.iter().all(|text| found.iter().any(|code| code.text == *text)) {
            return Ok(());
        }
        ensure!(
            start.elapsed() < APPEAR,
            "the screen shows {} of the {} codes",
            found.len(),
            texts.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn scan_screen_hides_the_window_reads_a_batch_and_refuses_wifi() -> TestResult {
    with_app(check_screen).await
}

async fn check_screen(client: &Client, vault: &Vault, dir: &Path) -> TestResult {
    wait_until_listed(client).await?;
    let [app] = x_windows("Twofold")
        .await?
        .try_into()
        .map_err(|all: Vec<XWindow>| format!("the display holds {} app windows", all.len()))?;

    // The decoy in the app's window, and two QR windows beside it, all readable on the screen.
    let decoy = QrCode::new(DECOY)?;
    let dark: Vec<bool> = decoy.to_colors().into_iter().map(|color| color == Color::Dark).collect();
    client.execute(DRAW_DECOY, vec![json!(dark), json!(decoy.width())]).await?;
    let batch = migration_uri(&[&GITHUB, &GITLAB])?;
    let (batch_image, _) = save_page(dir, "batch.png", &[&batch])?;
    let (wifi_image, _) = save_page(dir, "wifi.png", &[WIFI])?;
    let left = app.x + app.width + 40;
    let _batch_window = show_image(&batch_image, left, 40)?;
    let _wifi_window = show_image(&wifi_image, left, 600)?;
    wait_for_codes_on_screen(&[DECOY, &batch, WIFI]).await?;
    for title in ["batch.png", "wifi.png"] {
        let windows = x_windows(&format!("ImageMagick: {title}")).await?;
        let [window] = windows.as_slice() else {
            return Err(format!("the display shows {} windows of {title}", windows.len()).into());
        };
        ensure!(!window.overlaps(&app), "the app covers {title}: {app:?}, {window:?}");
    }

    // Scan screen: the window leaves the screen, then comes back.
    client.find(Locator::Css("#scan-screen")).await?.click().await?;
    let mut states = vec![map_state(&app.id).await?];
    let start = Instant::now();
    while !(states.iter().any(|state| state == "IsUnMapped")
        && states.last().is_some_and(|s| s == "IsViewable"))
    {
        ensure!(start.elapsed() < APPEAR, "the window went {states:?} after Scan screen");
        let state = map_state(&app.id).await?;
        if states.last() != Some(&state) {
            states.push(state);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Both accounts of the batch, the Wi-Fi code refused, and no trace of the app's own decoy.
    let shown = preview(client).await?;
    ensure!(
        shown.entries == [Entry::new(&GITHUB), Entry::new(&GITLAB)],
        "the screen previews {shown:?} (window {states:?})"
    );
    let [refused] = shown.problems.as_slice() else {
        return Err(format!("the screen previews {shown:?} (window {states:?})").into());
    };
    ensure!(
        refused.starts_with("QR code ") && refused.ends_with(WIFI_REFUSED),
        "the Wi-Fi code is refused with {refused:?}"
    );
    ensure_no_secret_in_page(client, &[&GITHUB, &GITLAB]).await?;
    click_and_close(client, "#scan-add").await?;
    ensure_in_vault(client, vault, &[&GITHUB, &GITLAB]).await?;
    ensure!(map_state(&app.id).await? == "IsViewable", "the window did not come back");
    Ok(())
}
