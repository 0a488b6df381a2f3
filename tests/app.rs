//! The desktop app end to end: the real binary in WebKitGTK under Xvfb, driven over WebDriver by
//! tauri-driver, over the real Secret Service. `scripts/test` starts those services and exports
//! `TWOFOLD_WEBDRIVER_URL`, `TWOFOLD_APP_BIN` and `DISPLAY`.

mod support;

use support::{APPEAR, TestResult, content_of, ensure, start_app, unix_now};

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::json;
use twofold_core::keystore::{Keystore, OsKeystore};
use twofold_core::otp::{self, Algorithm};
use twofold_core::vault::Vault;
use twofold_core::{Account, Credential, OtpParams, Secret};
use uuid::Uuid;

/// The Enter key, as WebDriver spells it.
const ENTER: &str = "\u{E007}";

/// Adds an inline script and an inline style to the page and reports which took effect.
const INLINE_PROBE: &str = r#"
    const script = document.createElement("script");
    script.textContent = "window.inlineScriptRan = true;";
    document.head.append(script);
    const style = document.createElement("style");
    style.textContent = "body { outline: 7px solid rgb(1, 2, 3); }";
    document.head.append(style);
    const styled = getComputedStyle(document.body).outlineWidth === "7px";
    script.remove();
    style.remove();
    return { script: window.inlineScriptRan === true, style: styled };
"#;

/// Asks the clipboard plugin for the clipboard's text, as a hostile page would.
const CLIPBOARD_READ_PROBE: &str = r#"
    return window.__TAURI__.core.invoke("plugin:clipboard-manager|read_text")
        .then(() => "allowed", (err) => String(err));
"#;

/// Removes the accounts a test added, keyring entries included, even when the test fails.
struct Added<'v> {
    vault: &'v Vault,
    ids: Vec<Uuid>,
}

impl Added<'_> {
    fn add(
        &mut self,
        issuer: &str,
        name: &str,
        secret: &str,
        otp: OtpParams,
    ) -> TestResult<Account> {
        let credential = Credential {
            issuer: issuer.to_owned(),
            name: name.to_owned(),
            secret: Secret::from_base32(secret)?,
            otp,
            icon: None,
        };
        let account = self.vault.add(credential, unix_now())?;
        self.ids.push(account.id);
        Ok(account)
    }

    fn remove(&mut self, id: Uuid) -> TestResult {
        self.vault.remove(id)?;
        self.ids.retain(|added| *added != id);
        Ok(())
    }
}

impl Drop for Added<'_> {
    fn drop(&mut self) {
        for id in &self.ids {
            if let Err(err) = self.vault.remove(*id) {
                eprintln!("could not remove test account {id}: {err}");
            }
        }
    }
}

/// The codes `account` may legitimately show now: this period's, and the neighbours' in case a
/// period rolled over between reading the window and computing here.
fn acceptable_codes(vault: &Vault, account: &Account) -> TestResult<Vec<String>> {
    let secret = vault.secret(account)?;
    let now = unix_now();
    let period = u64::from(account.otp.period);
    [now.saturating_sub(period), now, now + period]
        .into_iter()
        .map(|t| Ok(otp::generate(&secret, &account.otp, t)?.current))
        .collect()
}

fn row(account: &Account) -> String {
    format!(r#"button.account[data-account-id="{}"]"#, account.id)
}

async fn text_of(client: &Client, css: &str) -> TestResult<String> {
    Ok(client.find(Locator::Css(css)).await?.text().await?)
}

/// The clipboard as another X client sees it.
async fn clipboard() -> TestResult<String> {
    let read = tokio::process::Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(5), read).await??;
    Ok(String::from_utf8(output.stdout)?)
}

/// Waits until the clipboard holds a code `account` may show now.
async fn wait_for_clipboard(vault: &Vault, account: &Account) -> TestResult {
    let start = Instant::now();
    loop {
        let copied = clipboard().await.unwrap_or_default();
        if acceptable_codes(vault, account)?.contains(&copied) {
            return Ok(());
        }
        ensure!(
            start.elapsed() < Duration::from_secs(5),
            "the clipboard holds {copied:?}, not the code of {}",
            account.label()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn window_shows_live_codes_copies_them_and_follows_the_vault() -> TestResult {
    let dir = tempfile::tempdir()?;
    let vault = Vault::open(dir.path(), OsKeystore::default())?;
    let mut added = Added { vault: &vault, ids: Vec::new() };
    let alice =
        added.add("Example", "alice@example.com", "JBSWY3DPEHPK3PXP", OtpParams::default())?;
    let eight = OtpParams { digits: 8, algorithm: Algorithm::Sha256, ..OtpParams::default() };
    let bank = added.add("Bank", "bob", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", eight)?;
    // Its secret is gone before the app starts, so the app never had it.
    let broken = added.add("Broken", "carol", "MFRGGZDFMZTWQ2LK", OtpParams::default())?;
    vault.keystore().delete(broken.id)?;
    let three = OtpParams { period: 3, ..OtpParams::default() };
    let quick = added.add("Quick", "erin", "NBSWY3DPO5XXE3DE", three)?;

    let client = start_app(dir.path()).await?;
    let outcome = check_window(&client, &mut added, [alice, bank, broken, quick]).await;
    // End the session (it closes the app) whatever the checks found, then report them.
    client.close().await?;
    outcome
}

async fn check_window(
    client: &Client,
    added: &mut Added<'_>,
    [alice, bank, broken, quick]: [Account; 4],
) -> TestResult {
    let vault = added.vault;

    // The code shown is the code of this moment, grouped "123 456".
    let alice_row = client.wait().at_most(APPEAR).for_element(Locator::Css(&row(&alice))).await?;
    let shown = text_of(client, &format!("{} .code", row(&alice))).await?;
    ensure!(
        shown.len() == 7 && shown.as_bytes().get(3) == Some(&b' '),
        "code {shown:?} is not grouped as \"123 456\""
    );
    let shown = shown.replace(' ', "");
    ensure!(
        acceptable_codes(vault, &alice)?.contains(&shown),
        "the window shows {shown}, not the code of now"
    );
    // textContent, not WebDriver's visible text: WebKitWebDriver reads the ellipsised spans as "".
    let issuer = content_of(client, &format!("{} .issuer", row(&alice))).await?;
    let name = content_of(client, &format!("{} .name", row(&alice))).await?;
    ensure!(issuer == "Example" && name == "alice@example.com", "row shows {issuer:?} {name:?}");
    let label = alice_row.attr("aria-label").await?.unwrap_or_default();
    ensure!(label.contains("Example (alice@example.com)"), "aria-label is {label:?}");

    // The content security policy refuses inline scripts and styles.
    let inline = client.execute(INLINE_PROBE, Vec::new()).await?;
    ensure!(inline == json!({"script": false, "style": false}), "inline code ran: {inline}");
    // Capabilities grant only what the window uses: not the clipboard plugin's read.
    let read = client.execute(CLIPBOARD_READ_PROBE, Vec::new()).await?;
    ensure!(
        read.as_str().is_some_and(|refusal| refusal.contains("not allowed")),
        "reading the clipboard from the page gave {read}"
    );

    // Eight digits read "1234 5678".
    let bank_code = text_of(client, &format!("{} .code", row(&bank))).await?;
    ensure!(
        bank_code.len() == 9 && bank_code.as_bytes().get(4) == Some(&b' '),
        "code {bank_code:?} is not grouped as \"1234 5678\""
    );
    ensure!(
        acceptable_codes(vault, &bank)?.contains(&bank_code.replace(' ', "")),
        "the window shows {bank_code}, not the code of now"
    );

    // An account whose secret is gone says so instead of showing a code.
    let missing = text_of(client, &format!("{} .code", row(&broken))).await?;
    ensure!(missing == "secret missing", "broken account shows {missing:?}");
    let why = text_of(client, &format!("{} .error", row(&broken))).await?;
    ensure!(why.contains("missing from the system keyring"), "error shown: {why:?}");

    // The countdown moves.
    let ring = client.find(Locator::Css(&format!("{} .countdown", row(&alice)))).await?;
    let before = ring.attr("data-seconds-left").await?;
    ensure!(before.is_some(), "the countdown shows no seconds");
    let start = Instant::now();
    while ring.attr("data-seconds-left").await? == before {
        ensure!(start.elapsed() < Duration::from_secs(3), "the countdown stays at {before:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A click copies the code of now, made by the app itself; so does Enter on a focused row.
    alice_row.click().await?;
    wait_for_clipboard(vault, &alice).await?;
    let toast = client.find(Locator::Css("#toast")).await?.prop("textContent").await?;
    ensure!(toast.as_deref() == Some("Copied"), "the toast says {toast:?}");
    let bank_row = client.find(Locator::Css(&row(&bank))).await?;
    bank_row.send_keys(ENTER).await?;
    wait_for_clipboard(vault, &bank).await?;

    // A short-period code is replaced when its period rolls over.
    let ring = client.find(Locator::Css(&format!("{} .countdown", row(&quick)))).await?;
    let expiry = ring.attr("data-expires-at").await?;
    let start = Instant::now();
    while ring.attr("data-expires-at").await? == expiry {
        ensure!(start.elapsed() < Duration::from_secs(5), "the 3 s code was never replaced");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shown = content_of(client, &format!("{} .code", row(&quick))).await?.replace(' ', "");
    ensure!(
        acceptable_codes(vault, &quick)?.contains(&shown),
        "after the rollover the window shows {shown}, not the code of now"
    );

    // Removing an account while the app runs (as the CLI would) removes its row.
    added.remove(quick.id)?;
    let start = Instant::now();
    while client.find_all(Locator::Css(&row(&quick))).await?.len() == 1 {
        ensure!(start.elapsed() < Duration::from_secs(5), "the removed account's row stays");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // An account added while the app runs (as the CLI would) appears by itself.
    let later = added.add("Later", "dave", "ONSWG4TFOQYTEMZU", OtpParams::default())?;
    client.wait().at_most(Duration::from_secs(5)).for_element(Locator::Css(&row(&later))).await?;
    Ok(())
}
