//! Pasting account links in the real app: an `otpauth://` link on the X clipboard (served by
//! xclip as text, which answers an image request with its text: the "incorrect type received from
//! clipboard" that Ctrl+V used to show) is added through the preview from the window, and from
//! the Add dialog's "Setup key" field; Enter confirms the preview; text that is no link says what
//! to copy.

mod support;

use std::path::Path;
use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use support::{
    APPEAR, TestResult, TestVault, click, content_of, ensure, eventually, press_ctrl, script,
    serve_clipboard, start_app,
};
use twofold_core::{OtpParams, Secret, otp};

const BITRISE: &str =
    "otpauth://totp/Bitrise:ada@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Bitrise";
const MENDIX: &str = "otpauth://totp/Mendix:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Mendix";

/// Puts `text` on the X clipboard as text; the returned child serves it until dropped.
async fn copy_text(dir: &Path, text: &str) -> TestResult<tokio::process::Child> {
    let file = dir.join("copied.txt");
    std::fs::write(&file, text)?;
    serve_clipboard(&file, "UTF8_STRING").await
}

async fn press_enter(client: &Client) -> TestResult {
    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: Key::Enter.into() })
        .then(KeyAction::Up { value: Key::Enter.into() });
    Ok(client.perform_actions(keys).await?)
}

/// The preview's title and entry labels once it is open.
async fn preview(client: &Client) -> TestResult<(String, Vec<String>)> {
    client.wait().at_most(APPEAR).for_element(Locator::Css("#scan[open]")).await?;
    let shown = script(
        client,
        "return [document.getElementById('scan-title').textContent, \
           [...document.querySelectorAll('#scan-entries .scan-label')].map((n) => n.textContent), \
           [...document.querySelectorAll('#scan-problems .scan-problem')].map((n) => n.textContent)];",
    )
    .await?;
    let title = shown[0].as_str().unwrap_or_default().to_owned();
    let mut lines: Vec<String> = shown[1]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .map(Into::into)
        .collect();
    lines.extend(
        shown[2].as_array().into_iter().flatten().filter_map(|v| v.as_str()).map(Into::into),
    );
    Ok((title, lines))
}

async fn wait_closed(client: &Client) -> TestResult {
    client
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("#scan:not([open])"))
        .await?;
    Ok(())
}

/// The vault's account `issuer` makes the codes of `secret`.
fn ensure_added(test: &TestVault, issuer: &str, secret: &str) -> TestResult {
    let account = test
        .vault
        .accounts()?
        .into_iter()
        .find(|a| a.issuer == issuer)
        .ok_or_else(|| format!("{issuer} was not added"))?;
    test.track(account.id);
    let now = support::unix_now();
    let stored = otp::generate(&test.vault.secret(&account)?, &account.otp, now)?;
    let expected = otp::generate(&Secret::from_base32(secret)?, &OtpParams::default(), now)?;
    ensure!(stored == expected, "{issuer} makes other codes than its link");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn a_pasted_link_is_added_from_the_window_and_from_the_setup_key_field() -> TestResult {
    let _alone = support::ONE_APP.lock().await;
    let test = TestVault::new()?;
    let client = start_app(test.dir.path()).await?;
    let outcome = check(&client, &test).await;
    client.close().await?;
    outcome
}

async fn check(client: &Client, test: &TestVault) -> TestResult {
    client.wait().at_most(APPEAR).for_element(Locator::Css("#empty:not([hidden])")).await?;

    // Ctrl+V on the window with a link on the clipboard: the preview, confirmed with Enter.
    let served = copy_text(test.dir.path(), &format!("{BITRISE}\n")).await?;
    press_ctrl(client, 'v').await?;
    let (title, lines) = preview(client).await?;
    ensure!(title == "Accounts found", "the pasted link previews {title:?}: {lines:?}");
    ensure!(lines == ["Bitrise (ada@example.com)"], "the pasted link previews {lines:?}");
    press_enter(client).await?;
    wait_closed(client).await?;
    eventually(Duration::from_secs(5), "Enter did not add the account", || async {
        Ok(test.vault.accounts()?.iter().any(|a| a.issuer == "Bitrise").then_some(()))
    })
    .await?;
    ensure_added(test, "Bitrise", "JBSWY3DPEHPK3PXP")?;
    drop(served);

    // The same link pasted into "Setup key": the Add dialog makes way for the preview.
    let served = copy_text(test.dir.path(), MENDIX).await?;
    click(client, "#add-manual").await?;
    client.find(Locator::Css("#add-secret")).await?.click().await?;
    press_ctrl(client, 'v').await?;
    let (title, lines) = preview(client).await?;
    ensure!(title == "Accounts found", "the link in Setup key previews {title:?}: {lines:?}");
    ensure!(lines == ["Mendix (bob)"], "the link in Setup key previews {lines:?}");
    let add_open = script(client, "return document.getElementById('add').open;").await?;
    ensure!(add_open == false, "the Add dialog stays open under the preview");
    let secret = script(client, "return document.getElementById('add-secret').value;").await?;
    ensure!(secret == "", "the link stays in the Setup key field: {secret}");
    click(client, "#scan-add").await?;
    wait_closed(client).await?;
    eventually(Duration::from_secs(5), "the pasted link was not added", || async {
        Ok(test.vault.accounts()?.iter().any(|a| a.issuer == "Mendix").then_some(()))
    })
    .await?;
    ensure_added(test, "Mendix", "GEZDGNBVGY3TQOJQ")?;
    drop(served);

    // Text that is no link, read in Rust (no "incorrect type" error): says what to copy.
    let served = copy_text(test.dir.path(), "hello there").await?;
    script(client, "document.activeElement?.blur(); return null;").await?;
    press_ctrl(client, 'v').await?;
    let (title, lines) = preview(client).await?;
    let [problem] = lines.as_slice() else {
        return Err(format!("a text paste shows {title:?}: {lines:?}").into());
    };
    ensure!(
        problem.starts_with("The pasted text holds no otpauth:// or otpauth-migration:// link"),
        "a text paste says {problem:?}"
    );
    ensure!(!problem.contains("incorrect type"), "a text paste says {problem:?}");
    click(client, "#scan-cancel").await?;
    drop(served);
    // No secret reached the page.
    let source = client.source().await?;
    ensure!(!source.contains("JBSWY3DP") && !source.contains("GEZDGNBV"), "a key is in the page");
    let listed = content_of(client, "#accounts").await?;
    ensure!(listed.contains("Bitrise") && listed.contains("Mendix"), "the list shows {listed:?}");
    Ok(())
}
