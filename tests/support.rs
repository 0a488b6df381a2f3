//! What the end-to-end tests share: failing without panicking (so the WebDriver session is always
//! closed), the environment scripts/test exports, and starting the app over WebDriver.

#![allow(dead_code)] // each test file uses its own part of this module

use std::error::Error;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

/// Fails the check with a message instead of panicking, so the session is always closed.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+).into());
        }
    };
}
pub(crate) use ensure;

/// A check's result: an error message instead of a panic.
pub type TestResult<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

/// How long the window may take to show something (the first start of a debug build is slow).
pub const APPEAR: Duration = Duration::from_secs(20);

/// A variable scripts/test exports.
pub fn env(name: &str) -> TestResult<String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set: run the tests through scripts/test").into())
}

/// The clock, in Unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// One app at a time per test binary: WebKitWebDriver serves a single session, and the tests share
/// one X display, its clipboard and its screen. Hold the guard while the app runs.
pub static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts the app on the vault in `data_dir` through tauri-driver.
pub async fn start_app(data_dir: &Path) -> TestResult<Client> {
    start_app_with(data_dir, &[]).await
}

/// Starts the app on the vault in `data_dir` with its session bus at `address` (a private one the
/// test made: no Secret Service, or a locked one) instead of the test services' bus. WebKitWebDriver
/// starts a launcher script in `scratch` in the app's place, which sets the bus and runs the app.
pub async fn start_app_on_bus(
    data_dir: &Path,
    address: &str,
    scratch: &Path,
) -> TestResult<Client> {
    use std::os::unix::fs::PermissionsExt;
    ensure!(!address.contains('\''), "a bus address with a quote: {address}");
    let launcher = scratch.join("twofold-app-on-bus");
    let app = env("TWOFOLD_APP_BIN")?;
    ensure!(!app.contains('\''), "an app path with a quote: {app}");
    std::fs::write(
        &launcher,
        format!("#!/bin/sh\nDBUS_SESSION_BUS_ADDRESS='{address}' exec '{app}' \"$@\"\n"),
    )?;
    std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755))?;
    connect(&launcher.to_string_lossy(), data_dir, &[]).await
}

/// Starts the app on the vault in `data_dir` with more arguments (e.g. `--hidden`).
pub async fn start_app_with(data_dir: &Path, more: &[&str]) -> TestResult<Client> {
    // gnome-keyring-daemon can abort a while after the crash tests killed its clients; a lookup
    // first has scripts/with-services start it again, so the app does not start on a dying
    // keyring (it would start locked, unable to tell whether a passphrase is set).
    let _ = Command::new("secret-tool")
        .args(["search", "twofold-test", "probe"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    connect(&env("TWOFOLD_APP_BIN")?, data_dir, more).await
}

/// A WebDriver session on `application` (the app or a launcher of it) on the vault in `data_dir`.
async fn connect(application: &str, data_dir: &Path, more: &[&str]) -> TestResult<Client> {
    let mut args = vec![json!("--data-dir"), json!(data_dir)];
    args.extend(more.iter().map(|arg| json!(arg)));
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".to_owned(), json!("wry"));
    caps.insert("tauri:options".to_owned(), json!({ "application": application, "args": args }));
    Ok(ClientBuilder::native().capabilities(caps).connect(&env("TWOFOLD_WEBDRIVER_URL")?).await?)
}

/// The text content of the first element matching `css` (also of elements WebDriver calls hidden).
pub async fn content_of(client: &Client, css: &str) -> TestResult<String> {
    let element = client.find(Locator::Css(css)).await?;
    Ok(element.prop("textContent").await?.unwrap_or_default())
}

/// Presses Ctrl+`key` in the window, as a person's keyboard does (key events, not a script).
pub async fn press_ctrl(client: &Client, key: char) -> TestResult {
    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: Key::Control.into() })
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key })
        .then(KeyAction::Up { value: Key::Control.into() });
    Ok(client.perform_actions(keys).await?)
}

/// Puts `file` on the X clipboard as `target` (a MIME type) and returns once another X client can
/// read it. xclip stays in the foreground serving it until the returned child is dropped.
pub async fn serve_clipboard(file: &Path, target: &str) -> TestResult<Child> {
    let server = Command::new("xclip")
        .args(["-quiet", "-selection", "clipboard", "-t", target, "-i"])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let start = Instant::now();
    loop {
        if clipboard_targets().await.is_ok_and(|listed| listed.iter().any(|t| t == target)) {
            return Ok(server);
        }
        ensure!(start.elapsed() < Duration::from_secs(5), "xclip does not serve {target}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The types the X clipboard's owner offers (`TARGETS`); none when the clipboard is empty.
pub async fn clipboard_targets() -> TestResult<Vec<String>> {
    let listed = x_output("xclip", &["-o", "-selection", "clipboard", "-t", "TARGETS"]).await;
    Ok(listed.map(|targets| targets.lines().map(str::to_owned).collect()).unwrap_or_default())
}

/// A top-level X window: its id and where it is on the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XWindow {
    /// The X id, as xwininfo prints it ("0x200003").
    pub id: String,
    /// Left edge, in screen pixels.
    pub x: u32,
    /// Top edge, in screen pixels.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl XWindow {
    /// Whether the two windows share a pixel.
    pub fn overlaps(&self, other: &Self) -> bool {
        self.x < other.x + other.width
            && other.x < self.x + self.width
            && self.y < other.y + other.height
            && other.y < self.y + self.height
    }
}

/// The top-level windows titled `title`, as xwininfo lists them
/// (`0x200003 "Twofold": ("twofold-app" "Twofold-app")  420x640+0+0  +0+0`), mapped or not.
pub async fn x_windows(title: &str) -> TestResult<Vec<XWindow>> {
    let tree = x_output("xwininfo", &["-root", "-children"]).await?;
    let named = format!("\"{title}\": (");
    tree.lines()
        .filter(|line| line.contains(&named))
        .map(|line| {
            let id = line.split_whitespace().next().unwrap_or_default().to_owned();
            let geometry = line
                .split_whitespace()
                .find_map(parse_geometry)
                .ok_or_else(|| format!("xwininfo gives no position in {line:?}"))?;
            let (width, height, x, y) = geometry;
            Ok(XWindow { id, x, y, width, height })
        })
        .collect()
}

/// `WxH+X+Y` (a window on the screen) as (W, H, X, Y).
fn parse_geometry(text: &str) -> Option<(u32, u32, u32, u32)> {
    let (width, rest) = text.split_once('x')?;
    let mut numbers = rest.split('+').map(str::parse::<u32>);
    let (Some(Ok(height)), Some(Ok(x)), Some(Ok(y)), None) =
        (numbers.next(), numbers.next(), numbers.next(), numbers.next())
    else {
        return None;
    };
    Some((width.parse().ok()?, height, x, y))
}

/// Whether window `id` is on the screen, in xwininfo's words: `IsViewable`, `IsUnMapped` (hidden)
/// or `IsUnviewable` (its parent is hidden).
pub async fn map_state(id: &str) -> TestResult<String> {
    let info = x_output("xwininfo", &["-id", id]).await?;
    let state = info.lines().find_map(|line| line.trim().strip_prefix("Map State: "));
    Ok(state.ok_or_else(|| format!("xwininfo -id {id} gives no map state"))?.to_owned())
}

/// Whether window `id` asks for the person's attention (the urgency flag of its `WM_HINTS`).
pub async fn urgent(id: &str) -> TestResult<bool> {
    let hints = x_output("xprop", &["-id", id, "WM_HINTS"]).await?;
    Ok(hints.to_lowercase().contains("urgency"))
}

/// The whole X screen as PNG bytes, as any other X client can read it.
pub async fn screen_png() -> TestResult<Vec<u8>> {
    let grab =
        Command::new("import").args(["-window", "root", "png:-"]).kill_on_drop(true).output();
    let output = tokio::time::timeout(Duration::from_secs(10), grab).await??;
    ensure!(output.status.success(), "import -window root failed: {}", output.status);
    Ok(output.stdout)
}

/// The standard output of a client (X, D-Bus) that answers at once.
async fn x_output(program: &str, args: &[&str]) -> TestResult<String> {
    let run = Command::new(program).args(args).stdin(Stdio::null()).kill_on_drop(true).output();
    let output = tokio::time::timeout(Duration::from_secs(5), run).await??;
    ensure!(output.status.success(), "{program} {args:?} failed: {}", output.status);
    Ok(String::from_utf8(output.stdout)?)
}

/// A vault in a temporary directory over the real keyring; the accounts added through it are
/// removed (keyring entries included) when it is dropped, even when the test fails.
pub struct TestVault {
    /// The vault the app is started on.
    pub vault: twofold_core::vault::Vault,
    ids: std::sync::Mutex<Vec<uuid::Uuid>>,
    /// The data directory (kept alive as long as the vault).
    pub dir: tempfile::TempDir,
}

impl TestVault {
    /// An empty vault in a new temporary directory.
    pub fn new() -> TestResult<Self> {
        let dir = tempfile::tempdir()?;
        let vault = twofold_core::vault::Vault::open(
            dir.path(),
            twofold_core::keystore::OsKeystore::default(),
        )?;
        Ok(Self { vault, ids: std::sync::Mutex::new(Vec::new()), dir })
    }

    /// Adds an account with `secret` (base32) and `otp`.
    pub fn add(
        &self,
        issuer: &str,
        name: &str,
        secret: &str,
        otp: twofold_core::OtpParams,
    ) -> TestResult<twofold_core::Account> {
        let credential = twofold_core::Credential {
            issuer: issuer.to_owned(),
            name: name.to_owned(),
            secret: twofold_core::Secret::from_base32(secret)?,
            otp,
            icon: None,
        };
        let account = self.vault.add(credential, unix_now())?;
        self.track(account.id);
        Ok(account)
    }

    /// Removes account `id` (and its secret) when the vault is dropped, e.g. one the app added.
    pub fn track(&self, id: uuid::Uuid) {
        self.ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(id);
    }

    /// The codes `account` may legitimately show now: this period's, and the neighbours' in case a
    /// period rolled over between reading the window and computing here.
    pub fn acceptable_codes(&self, account: &twofold_core::Account) -> TestResult<Vec<String>> {
        let secret = self.vault.secret(account)?;
        let now = unix_now();
        let period = u64::from(account.otp.period);
        [now.saturating_sub(period), now, now + period]
            .into_iter()
            .map(|t| Ok(twofold_core::otp::generate(&secret, &account.otp, t)?.current))
            .collect()
    }
}

impl Drop for TestVault {
    fn drop(&mut self) {
        let ids = self.ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for id in ids.iter() {
            // Already removed by the test (or by the app) is fine; the secret must go either way.
            let _ = self.vault.remove(*id);
            let _ = twofold_core::keystore::Keystore::delete(self.vault.keystore(), *id);
        }
    }
}

/// The CSS selector of the copy button of account `id`.
pub fn row_button(id: uuid::Uuid) -> String {
    format!(r#"button.account[data-account-id="{id}"]"#)
}

/// The CSS selector of the row (list item) of account `id`.
pub fn row_item(id: uuid::Uuid) -> String {
    format!(r#"li.row[data-account-id="{id}"]"#)
}

/// The clipboard's text as another X client sees it (empty when it holds none).
pub async fn clipboard_text() -> TestResult<String> {
    Ok(x_output("xclip", &["-o", "-selection", "clipboard"]).await.unwrap_or_default())
}

/// Invokes app command `command` with `args` from the page, as the UI would: the result, or the
/// error's `code` as `{"error": code}`.
pub async fn invoke(
    client: &Client,
    command: &str,
    args: serde_json::Value,
) -> TestResult<serde_json::Value> {
    let code = "const [command, args] = arguments; \
                return window.__TAURI__.core.invoke(command, args) \
                  .then((value) => ({ value }), (err) => ({ error: err.code ?? String(err) }));";
    let answer = client.execute(code, vec![json!(command), args]).await?;
    Ok(answer.get("value").cloned().unwrap_or(answer))
}

/// Every file under `dir` (subdirectories included: the trusted device keeps its own), with its
/// bytes: where a test looks for what must not be on disk.
pub fn files_under(dir: &Path) -> TestResult<Vec<(std::path::PathBuf, Vec<u8>)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(files_under(&path)?);
        } else {
            found.push((path.clone(), std::fs::read(&path)?));
        }
    }
    Ok(found)
}

/// Pixels a module: what a page shows at 100 % zoom.
pub const MODULE: u32 = 6;

/// A light page with the given codes side by side, each with a 4-module quiet zone.
pub fn page_with_codes(payloads: &[&str]) -> TestResult<image::GrayImage> {
    let codes = payloads.iter().map(qrcode::QrCode::new).collect::<Result<Vec<_>, _>>()?;
    let side =
        |code: &qrcode::QrCode| (u32::try_from(code.width()).unwrap_or(u32::MAX) + 8) * MODULE;
    let width = codes.iter().map(side).sum::<u32>() + 40;
    let height = codes.iter().map(side).max().unwrap_or(0) + 40;
    let mut page = image::GrayImage::from_pixel(width, height, image::Luma([250]));
    let mut left = 20;
    for code in &codes {
        let modules = u32::try_from(code.width())?;
        for (i, color) in code.to_colors().into_iter().enumerate() {
            if color != qrcode::Color::Dark {
                continue;
            }
            let i = u32::try_from(i)?;
            let (x, y) = (left + (4 + i % modules) * MODULE, 20 + (4 + i / modules) * MODULE);
            for dy in 0..MODULE {
                for dx in 0..MODULE {
                    page.put_pixel(x + dx, y + dy, image::Luma([20]));
                }
            }
        }
        left += side(code);
    }
    Ok(page)
}

/// Clicks the first element matching `css`.
pub async fn click(client: &Client, css: &str) -> TestResult {
    // Under load a dialog still closing or a list being redrawn holds the element up for a moment:
    // the click is tried again until it lands or APPEAR passes.
    let deadline = Instant::now() + APPEAR;
    loop {
        let clicked = match client.find(Locator::Css(css)).await {
            Ok(element) => match element.clone().click().await {
                Err(err) if not_yet_clickable(&err) => {
                    // WebKitWebDriver scrolls a dialog's content only as far as the element's
                    // edge, where the dialog's own edge can still cover it: bring it to the middle.
                    let center = "arguments[0].scrollIntoView({block: 'center'})";
                    let _ = client.execute(center, vec![serde_json::to_value(&element)?]).await;
                    Err(err)
                }
                other => other,
            },
            Err(err) => Err(err),
        };
        match clicked {
            Err(err) if Instant::now() < deadline && not_yet_clickable(&err) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return Ok(other?),
        }
    }
}

/// Opens the settings and waits until they are filled in (nothing in them moves any more).
pub async fn open_settings(client: &Client) -> TestResult {
    click(client, "#open-settings").await?;
    let ready = Locator::Css(r#"#settings[open][aria-busy="false"]"#);
    client.wait().at_most(APPEAR).for_element(ready).await?;
    Ok(())
}

/// Whether a click failed only because its element was not there or not ready yet.
fn not_yet_clickable(err: &fantoccini::error::CmdError) -> bool {
    use fantoccini::error::{CmdError, ErrorStatus};
    matches!(
        err,
        CmdError::Standard(webdriver) if matches!(
            webdriver.error,
            ErrorStatus::ElementNotInteractable
                | ErrorStatus::ElementClickIntercepted
                | ErrorStatus::StaleElementReference
                | ErrorStatus::NoSuchElement
        )
    )
}

/// Replaces the text of the field matching `css` with `text`, typed as keys.
pub async fn type_into(client: &Client, css: &str, text: &str) -> TestResult {
    let field = client.find(Locator::Css(css)).await?;
    field.clear().await?;
    Ok(field.send_keys(text).await?)
}

/// Runs a page script returning a value, as WebDriver gives it back.
pub async fn script(client: &Client, code: &str) -> TestResult<serde_json::Value> {
    Ok(client.execute(code, Vec::new()).await?)
}

/// Polls `check` every 100 ms until it gives `Some`, failing with `what` after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> TestResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = TestResult<Option<T>>>,
{
    let start = Instant::now();
    loop {
        if let Some(found) = check().await? {
            return Ok(found);
        }
        ensure!(start.elapsed() < within, "{what} (waited {within:?})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A desktop notification as the test services' dunst received it (see scripts/with-services).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// dunst's id: the one `Notify` returned to the sender.
    pub id: u32,
    /// The sender's application name.
    pub app_name: String,
    /// The title line.
    pub summary: String,
    /// The text under the title, as sent.
    pub body: String,
    /// `LOW`, `NORMAL` or `CRITICAL`.
    pub urgency: String,
    /// Whether it is on the screen still (not closed, expired or acted on).
    pub displayed: bool,
    /// Its actions, in menu order; dunst's menu lists only those of displayed notifications.
    pub actions: Vec<NotificationAction>,
}

/// One action of a displayed notification, as dunst's context menu offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationAction {
    /// The key the sender gets back in `ActionInvoked` (`allow`).
    pub key: String,
    /// What the person reads (`Don't Allow`).
    pub label: String,
    /// The whole menu line (`#Don't Allow (Sign in?) [2,deny]`): what `invoke_action` matches.
    pub menu_line: String,
}

/// How long dunst may take to hand its context menu to the chooser. It never does when no displayed
/// notification has an action, so this is also what listing such notifications costs.
const MENU_WAIT: Duration = Duration::from_secs(1);

/// Every notification dunst has received in this run, oldest first. dunst 1.9 has no command listing
/// the displayed ones (`dunstctl history` holds only closed ones, without urgency), so the fields come
/// from the record a dunst rule script writes for each notification, `displayed` from the history,
/// and the actions from the lines of dunst's context menu, opened with nothing chosen.
pub async fn notifications() -> TestResult<Vec<Notification>> {
    let shown = env("TWOFOLD_DUNST_SHOWN")?;
    let closed = closed_ids().await?;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&shown)? {
        let dir = entry?.path();
        // The script writes `ID.new` first and renames it: only whole records have a numeric name.
        let Some(id) = dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse().ok()) else {
            continue;
        };
        let field = |name: &str| std::fs::read_to_string(dir.join(name));
        found.push(Notification {
            id,
            app_name: field("appname")?,
            summary: field("summary")?,
            body: field("body")?,
            urgency: field("urgency")?,
            displayed: !closed.contains(&id),
            actions: Vec::new(),
        });
    }
    found.sort_by_key(|n| n.id);
    if found.iter().any(|n| n.displayed) {
        for line in menu_lines().await? {
            let Some((id, action)) = parse_menu_line(&line, &found) else { continue };
            if let Some(notification) = found.iter_mut().find(|n| n.id == id) {
                notification.actions.push(action);
            }
        }
    }
    Ok(found)
}

/// Waits until dunst has received a notification for which `pred` holds, and returns it.
pub async fn wait_for_notification(
    pred: impl Fn(&Notification) -> bool,
    within: Duration,
) -> TestResult<Notification> {
    eventually(within, "no such notification", || async {
        Ok(notifications().await?.into_iter().find(|n| pred(n)))
    })
    .await
}

/// Picks the first context menu line containing `matching` (e.g. `[7,deny]`, or `,deny]`: not
/// `Deny`, which `Don't Allow` also contains) as a person picks it from dunst's menu, and returns the
/// id of its notification once dunst has closed it.
pub async fn invoke_action(matching: &str) -> TestResult<u32> {
    let lines = menu_lines().await?;
    let line = lines.iter().find(|line| line.contains(matching));
    let Some((id, _)) = line.and_then(|line| parse_menu_line(line, &[])) else {
        return Err(format!("no notification action matches {matching:?} in {lines:?}").into());
    };
    // The chooser reads this once, on the next menu, and prints the same first matching line.
    let choice = env("TWOFOLD_DUNST_CHOICE")?;
    std::fs::write(&choice, matching)?;
    let taken =
        open_menu_until(Duration::from_secs(5), || (!Path::new(&choice).exists()).then_some(()))
            .await?;
    ensure!(taken.is_some(), "dunst's menu did not open to pick {matching:?}");
    eventually(
        Duration::from_secs(5),
        &format!("dunst did not close notification {id}"),
        || async { Ok(closed_ids().await?.contains(&id).then_some(id)) },
    )
    .await
}

/// The ids in `dunstctl history`: the notifications closed so far.
async fn closed_ids() -> TestResult<std::collections::HashSet<u32>> {
    let history: serde_json::Value =
        serde_json::from_str(&x_output("dunstctl", &["history"]).await?)?;
    let entries = history.pointer("/data/0").and_then(serde_json::Value::as_array);
    Ok(entries
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.pointer("/id/data")?.as_u64()?.try_into().ok())
        .collect())
}

/// The lines of dunst's context menu now, as the chooser recorded them (none when nothing displayed
/// has an action). Opening the menu invokes nothing unless a choice was written.
async fn menu_lines() -> TestResult<Vec<String>> {
    let menu = env("TWOFOLD_DUNST_MENU")?;
    match std::fs::remove_file(&menu) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let lines = open_menu_until(MENU_WAIT, || std::fs::read_to_string(&menu).ok()).await?;
    Ok(lines
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Opens dunst's context menu until `done` gives `Some` (`None` after `within`). `dunstctl context`
/// returns at once and dunst refuses to open the menu while its last chooser is being reaped, so
/// it is asked again every 200 ms.
async fn open_menu_until<T>(
    within: Duration,
    done: impl Fn() -> Option<T>,
) -> TestResult<Option<T>> {
    let start = Instant::now();
    while start.elapsed() < within {
        x_output("dunstctl", &["context"]).await?;
        let asked = Instant::now();
        while asked.elapsed() < Duration::from_millis(200) {
            if let Some(result) = done() {
                return Ok(Some(result));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(None)
}

/// A menu line `#LABEL (SUMMARY) [ID,KEY]` as its notification's id and the action; the label is
/// the text before ` (SUMMARY)` when the summary is known from `known`. URL lines give none.
fn parse_menu_line(line: &str, known: &[Notification]) -> Option<(u32, NotificationAction)> {
    let text = line.strip_prefix('#')?;
    let (head, target) = text.strip_suffix(']')?.rsplit_once(" [")?;
    let (id, key) = target.split_once(',')?;
    let id = id.parse().ok()?;
    let summary = known.iter().find(|n| n.id == id).map(|n| format!(" ({})", n.summary));
    let label = summary.and_then(|s| head.strip_suffix(&s)).unwrap_or(head);
    let action = NotificationAction {
        key: key.to_owned(),
        label: label.to_owned(),
        menu_line: line.to_owned(),
    };
    Some((id, action))
}

/// Dispatches, on the element under the window's centre, the drag events `types` in order, each
/// carrying one DataTransfer that holds `bytes` as a File named `name` of type `mime`; returns for
/// each event whether the page cancelled it (accepting the drop) and whether the drop overlay
/// showed after it.
///
/// A real drag from a file manager is an XDND exchange between two X clients; WebDriver's actions
/// only move a pointer inside the page and cannot carry files in, and Tauri's own drop handling is
/// off (`dragDropEnabled: false`), so WebKit turns a real drop into exactly these DOM events. Sent
/// from a script, they run the app's real handlers, File reading and work in Rust.
pub async fn drag_file(
    client: &Client,
    bytes: &[u8],
    name: &str,
    mime: &str,
    types: &[&str],
) -> TestResult<Vec<(bool, bool)>> {
    const DRAG: &str = r#"
        const [bytes, name, mime, types] = arguments;
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
        const [x, y] = [innerWidth / 2, innerHeight / 2];
        const target = document.elementFromPoint(x, y);
        return types.map((type) => {
            const event = new DragEvent(type, {
                bubbles: true, cancelable: true, composed: true, clientX: x, clientY: y,
                dataTransfer: transfer,
            });
            target.dispatchEvent(event);
            return [event.defaultPrevented, document.body.classList.contains("dropping")];
        });
    "#;
    let args = vec![json!(bytes), json!(name), json!(mime), json!(types)];
    let answer = client.execute(DRAG, args).await?;
    let steps = answer.as_array().ok_or("the drag script answered no list")?;
    Ok(steps.iter().map(|step| (step[0] == true, step[1] == true)).collect())
}

/// Removes the vault's lock passphrase from the keyring when the test ends, even when it fails.
pub struct LockCleanup<'a>(pub &'a TestVault);

impl Drop for LockCleanup<'_> {
    fn drop(&mut self) {
        let vault = &self.0.vault;
        let _ = twofold_core::lock::AppLock::new(vault.keystore(), vault.id()).remove();
    }
}

/// Waits until the lock screen shows and no account row is left.
pub async fn wait_locked(client: &Client) -> TestResult {
    eventually(APPEAR, "the window never locked", || async {
        // Rows vanishing while they are listed make the listing fail: not locked yet, look again.
        let rows = client.find_all(Locator::Css("li.row")).await.map_or(1, |rows| rows.len());
        Ok((displayed(client, "#lock-screen").await? && rows == 0).then_some(()))
    })
    .await
}

/// Types `passphrase` on the lock screen and presses Unlock.
pub async fn type_passphrase(client: &Client, passphrase: &str) -> TestResult {
    let field = client.wait().at_most(APPEAR).for_element(Locator::Id("lock-passphrase")).await?;
    field.clear().await?;
    field.send_keys(passphrase).await?;
    client.find(Locator::Id("lock-unlock")).await?.click().await?;
    Ok(())
}

/// Whether the element matching `css` is shown (exists and is not hidden).
pub async fn displayed(client: &Client, css: &str) -> TestResult<bool> {
    // An element replaced while it is looked at counts as not shown yet.
    match client.find(Locator::Css(css)).await {
        Ok(element) => Ok(element.is_displayed().await.unwrap_or(false)),
        Err(_) => Ok(false),
    }
}

/// Whether a client owns `name` on the session bus.
pub async fn name_owned(name: &str) -> TestResult<bool> {
    let asked = x_output(
        "dbus-send",
        &[
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            &format!("string:{name}"),
        ],
    )
    .await?;
    Ok(asked.contains("boolean true"))
}

/// A tray host's StatusNotifierWatcher on the session bus (Debian's `status-notifier-watcher`)
/// while this lives: the desktop has a tray.
pub struct Tray(Child);

/// Starts a StatusNotifierWatcher and waits until it owns its name.
pub async fn start_tray() -> TestResult<Tray> {
    let watcher = Command::new("status-notifier-watcher")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let tray = Tray(watcher);
    eventually(APPEAR, "status-notifier-watcher never took its name", || async {
        Ok(name_owned("org.kde.StatusNotifierWatcher").await?.then_some(()))
    })
    .await?;
    Ok(tray)
}

/// The test services' dunst stopped while this lives (a desktop with no notification daemon);
/// started again when it is dropped (scripts/with-services keeps it under `TWOFOLD_DUNST_OFF`).
pub struct NoNotificationDaemon(std::path::PathBuf);

impl NoNotificationDaemon {
    /// Stops dunst and waits until nobody serves notifications.
    pub async fn start() -> TestResult<Self> {
        let off = std::path::PathBuf::from(env("TWOFOLD_DUNST_OFF")?);
        std::fs::write(&off, b"")?;
        let stopped = Self(off);
        eventually(APPEAR, "dunst never stopped", || async {
            Ok((!name_owned("org.freedesktop.Notifications").await?).then_some(()))
        })
        .await?;
        Ok(stopped)
    }

    /// Starts dunst again and waits until it serves notifications.
    pub async fn end(self) -> TestResult {
        std::fs::remove_file(&self.0)?;
        eventually(APPEAR, "dunst never came back", || async {
            Ok(name_owned("org.freedesktop.Notifications").await?.then_some(()))
        })
        .await
    }
}

impl Drop for NoNotificationDaemon {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
