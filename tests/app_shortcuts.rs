//! The keyboard and the words of the real app: Ctrl+N, Ctrl+comma, Ctrl+? and Ctrl+C on a focused
//! row; tooltips on ⚙ and Add; the Add dialog's advanced fields behind "More options", its errors
//! as sentences counting characters as typed and gone once the person retypes; "#work" finding
//! tagged accounts; a copied counter-based code staying on screen (as on the clipboard) until ↻.

mod support;

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::json;
use support::{
    APPEAR, TestResult, TestVault, click, clipboard_text, content_of, displayed, ensure,
    eventually, press_ctrl, row_button, row_item, script, start_app, type_into,
};
use twofold_core::vault::AccountEdit;
use twofold_core::{Account, Kind, OtpParams};

/// RFC 4226 appendix D's key.
const RFC4226: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

async fn is_open(client: &Client, dialog: &str) -> TestResult<bool> {
    let open = script(client, &format!("return document.getElementById('{dialog}').open;")).await?;
    Ok(open.as_bool().unwrap_or(false))
}

/// Whether `dialog` is open, or opens within `APPEAR` (a key's handler may run after the
/// WebDriver action returns, more so on a loaded machine).
async fn opens(client: &Client, dialog: &str) -> TestResult<bool> {
    let start = std::time::Instant::now();
    while !is_open(client, dialog).await? {
        if start.elapsed() > APPEAR {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(true)
}

async fn press(client: &Client, key: Key) -> TestResult {
    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: key.into() })
        .then(KeyAction::Up { value: key.into() });
    Ok(client.perform_actions(keys).await?)
}

async fn focus(client: &Client, css: &str) -> TestResult {
    let code = "document.querySelector(arguments[0]).focus(); return null;";
    client.execute(code, vec![json!(css)]).await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn shortcuts_words_tags_and_a_held_hotp_code() -> TestResult {
    let _alone = support::ONE_APP.lock().await;
    let test = TestVault::new()?;
    let work = test.add("Work", "ada", "JBSWY3DPEHPK3PXP", OtpParams::default())?;
    let tags = Some(vec!["work".to_owned()]);
    test.vault.edit(work.id, AccountEdit { tags, ..AccountEdit::default() })?;
    let home = test.add("Home", "ada", "ONSWG4TFOQYTEMZU", OtpParams::default())?;
    let hotp = OtpParams { kind: Kind::Hotp, ..OtpParams::default() };
    let counter = test.add("Counter", "ada", RFC4226, hotp)?;
    let client = start_app(test.dir.path()).await?;
    let outcome = check(&client, &test, &work, &home, &counter).await;
    client.close().await?;
    outcome
}

async fn check(
    client: &Client,
    test: &TestVault,
    work: &Account,
    home: &Account,
    counter: &Account,
) -> TestResult {
    client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(counter.id))).await?;
    check_tooltips(client).await?;
    check_add_dialog(client).await?;

    press_ctrl(client, ',').await?;
    ensure!(opens(client, "settings").await?, "Ctrl+comma did not open the settings");
    click(client, "#settings-cancel").await?;
    // Shortcuts wait while a dialog is open: the next one is pressed once this one has closed.
    client.wait().at_most(APPEAR).for_element(Locator::Css("#settings:not([open])")).await?;

    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: Key::Control.into() })
        .then(KeyAction::Down { value: Key::Shift.into() })
        .then(KeyAction::Down { value: '?' })
        .then(KeyAction::Up { value: '?' })
        .then(KeyAction::Up { value: Key::Shift.into() })
        .then(KeyAction::Up { value: Key::Control.into() });
    client.perform_actions(keys).await?;
    ensure!(opens(client, "shortcuts").await?, "Ctrl+? did not list the shortcuts");
    let listed = content_of(client, "#shortcuts-list").await?;
    ensure!(
        listed.contains("Ctrl+N") && listed.contains("Delete") && listed.contains("Ctrl+C"),
        "the shortcuts listed: {listed:?}"
    );
    click(client, "#shortcuts-close").await?;

    // "#work" finds the tagged account, not the others.
    type_into(client, "#search", "#work").await?;
    eventually(Duration::from_secs(5), "#work did not filter by tag", || async {
        let shown = script(
            client,
            "return [...document.querySelectorAll('li.row:not([hidden])')].map((n) => n.dataset.accountId);",
        )
        .await?;
        Ok((shown == json!([work.id.to_string()])).then_some(()))
    })
    .await?;
    // Esc clears the search (as a person would), listing every account again.
    client.find(Locator::Css("#search")).await?.click().await?;
    press(client, Key::Escape).await?;
    eventually(Duration::from_secs(5), "the search was not cleared", || async {
        let shown =
            script(client, "return document.querySelectorAll('li.row:not([hidden])').length;")
                .await?;
        Ok((shown == 3).then_some(()))
    })
    .await?;

    // Ctrl+C on a focused row copies its code.
    focus(client, &row_button(home.id)).await?;
    press_ctrl(client, 'c').await?;
    let copied = eventually(Duration::from_secs(5), "Ctrl+C copied nothing", || async {
        let text = clipboard_text().await?;
        Ok((text.len() == 6).then_some(text))
    })
    .await?;
    ensure!(test.acceptable_codes(home)?.contains(&copied), "Ctrl+C copied {copied:?}");

    check_held_hotp(client, test, counter).await
}

async fn check_tooltips(client: &Client) -> TestResult {
    for (css, key) in [("#open-settings", "Ctrl+,"), ("#add-manual", "Ctrl+N")] {
        let title = client.find(Locator::Css(css)).await?.attr("title").await?.unwrap_or_default();
        ensure!(title.contains(key), "{css} has the tooltip {title:?}");
    }
    Ok(())
}

async fn check_add_dialog(client: &Client) -> TestResult {
    press_ctrl(client, 'n').await?;
    ensure!(opens(client, "add").await?, "Ctrl+N did not open the Add dialog");
    // Advanced fields wait behind "More options"; a time-based code has no counter.
    ensure!(!displayed(client, "#add-algorithm").await?, "Algorithm shows before More options");
    click(client, "#add-more").await?;
    ensure!(displayed(client, "#add-algorithm").await?, "More options shows no Algorithm");
    ensure!(!displayed(client, "#add-counter").await?, "a time-based code asks for a counter");
    client.find(Locator::Css("#add-kind")).await?.select_by_value("hotp").await?;
    ensure!(displayed(client, "#add-counter").await?, "a counter-based code asks no counter");
    ensure!(!displayed(client, "#add-period").await?, "a counter-based code asks for a period");
    client.find(Locator::Css("#add-kind")).await?.select_by_value("totp").await?;

    // The wrong character is counted as typed (spaces too), in a sentence.
    type_into(client, "#add-issuer", "Typed").await?;
    type_into(client, "#add-secret", "jbsw y3dp ehpk 3px1").await?;
    click(client, "#add-save").await?;
    let error = eventually(Duration::from_secs(5), "no error for a bad key", || async {
        let text = content_of(client, "#add-error").await?;
        Ok((!text.is_empty()).then_some(text))
    })
    .await?;
    ensure!(error.contains("character 19 "), "the error counts otherwise: {error:?}");
    ensure!(
        error.starts_with(char::is_uppercase) && error.ends_with('.'),
        "not a sentence: {error:?}"
    );
    // Retyping clears it.
    client.find(Locator::Css("#add-secret")).await?.send_keys("x").await?;
    ensure!(!displayed(client, "#add-error").await?, "the old error stays while retyping");
    click(client, "#add-cancel").await?;
    Ok(())
}

async fn check_held_hotp(client: &Client, test: &TestVault, counter: &Account) -> TestResult {
    let code = format!("{} .code", row_button(counter.id));
    let next = format!("{} .next", row_button(counter.id));
    ensure!(content_of(client, &code).await? == "755 224", "HOTP starts elsewhere");
    click(client, &row_button(counter.id)).await?;
    eventually(Duration::from_secs(5), "the HOTP code was not copied", || async {
        Ok((clipboard_text().await? == "755224").then_some(()))
    })
    .await?;
    eventually(Duration::from_secs(5), "the counter did not move on", || async {
        Ok((test.vault.account(counter.id)?.otp.counter == 1).then_some(()))
    })
    .await?;
    // Listed again since: the screen still matches the clipboard, the following code is "next".
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let shown = (content_of(client, &code).await?, content_of(client, &next).await?);
    ensure!(shown == ("755 224".into(), "287 082".into()), "after a copy the row shows {shown:?}");

    // ↻ shows the following code without using another counter.
    click(client, &format!("{} .hotp-next", row_item(counter.id))).await?;
    eventually(Duration::from_secs(5), "↻ did not show the following code", || async {
        Ok((content_of(client, &code).await? == "287 082").then_some(()))
    })
    .await?;
    let stored = test.vault.account(counter.id)?.otp.counter;
    ensure!(stored == 1, "↻ after a copy used a counter: {stored}");
    Ok(())
}
