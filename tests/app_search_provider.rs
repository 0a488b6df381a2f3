//! GNOME Shell's search provider end to end, called over the real session bus with `gdbus call`
//! as GNOME Shell calls it: typing an issuer finds the account, the result's name and description
//! carry no code or secret, activating it copies the code (cleared like any copied code), "more
//! results" opens the window searching; while the app is locked it finds nothing and copies
//! nothing. Real app under Xvfb over WebDriver, real keyring.

mod support;

use std::time::Duration;

use fantoccini::{Client, Locator};
use support::{
    APPEAR, LockCleanup, ONE_APP, TestResult, TestVault, clipboard_text, ensure, eventually,
    invoke, row_button, script, serve_clipboard, start_app, type_passphrase, wait_locked,
};
use tokio::process::Command;
use twofold_core::lock::AppLock;
use twofold_core::{Account, OtpParams};

const PASSPHRASE: &str = "correct horse battery";
const BUS_NAME: &str = "org.twofold.Twofold.SearchProvider";
const PATH: &str = "/org/twofold/Twofold/SearchProvider";
const INTERFACE: &str = "org.gnome.Shell.SearchProvider2";

/// Calls `method` of the provider with GVariant-text `args`, as GNOME Shell would; its answer.
async fn call(method: &str, args: &[&str]) -> TestResult<String> {
    let method = format!("{INTERFACE}.{method}");
    let mut command = Command::new("gdbus");
    command.args(["call", "--session", "--dest", BUS_NAME, "--object-path", PATH, "--method"]);
    command.arg(&method).args(args).kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(10), command.output()).await??;
    ensure!(
        output.status.success(),
        "gdbus {method} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn gnome_shell_search_finds_copies_and_is_refused_while_locked() -> TestResult {
    let _one = ONE_APP.lock().await;
    let test = TestVault::new()?;
    let _cleanup = LockCleanup(&test);
    let otp = OtpParams::default();
    let github = test.add("GitHub", "alice@example.com", "JBSWY3DPEHPK3PXP", otp)?;
    let gitlab = test.add("GitLab", "bob", "MFRGGZDFMZTWQ2LK", otp)?;
    let bank = test.add("Northwind Bank", "carol", "NBSWY3DPO5XXE3DE", otp)?;
    AppLock::new(test.vault.keystore(), test.vault.id()).set(PASSPHRASE)?;

    let client = start_app(test.dir.path()).await?;
    let outcome = check(&client, &test, [&github, &gitlab, &bank]).await;
    client.close().await?;
    outcome
}

async fn check(
    client: &Client,
    test: &TestVault,
    [github, gitlab, bank]: [&Account; 3],
) -> TestResult {
    // Started locked: the provider answers, with nothing.
    wait_locked(client).await?;
    let locked = call("GetInitialResultSet", &["['git']"]).await?;
    ensure!(locked.trim() == "(@as [],)", "locked, a search found {locked}");
    refused_activation(github).await?;

    type_passphrase(client, PASSPHRASE).await?;
    client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(github.id))).await?;

    // Typing an issuer finds its accounts, and a longer query narrows among them.
    let found = call("GetInitialResultSet", &["['git']"]).await?;
    ensure!(
        found.contains(&github.id.to_string())
            && found.contains(&gitlab.id.to_string())
            && !found.contains(&bank.id.to_string()),
        "'git' found {found}"
    );
    let previous = format!("['{}', '{}']", github.id, gitlab.id);
    let narrowed = call("GetSubsearchResultSet", &[&previous, "['git', 'hub']"]).await?;
    ensure!(narrowed.trim() == format!("(['{}'],)", github.id), "'git hub' found {narrowed}");

    // Name and description, never the code or the secret.
    let ids = format!("['{}', 'not-an-account']", github.id);
    let metas = call("GetResultMetas", &[&ids]).await?;
    ensure!(
        metas.contains("'name': <'GitHub'>")
            && metas.contains("'description': <'alice@example.com'>"),
        "the result reads {metas}"
    );
    ensure!(metas.matches("'id'").count() == 1, "an unknown id was described: {metas}");
    for code in test.acceptable_codes(github)? {
        ensure!(!metas.contains(&code), "the result shows the code");
    }
    ensure!(!metas.contains("JBSWY3DP"), "the result holds the secret");

    // Activating copies the current code, through the app's clipboard path.
    call("ActivateResult", &[&format!("'{}'", github.id), "['git']", "0"]).await?;
    let copied =
        eventually(Duration::from_secs(5), "the code never reached the clipboard", || async {
            let text = clipboard_text().await?;
            Ok((text.len() == 6).then_some(text))
        })
        .await?;
    ensure!(test.acceptable_codes(github)?.contains(&copied), "copied {copied:?}, not the code");

    // "More results" opens the window searching for the same words.
    call("LaunchSearch", &["['hub']", "0"]).await?;
    eventually(Duration::from_secs(5), "the window never searched for 'hub'", || async {
        let value = script(client, "return document.getElementById('search').value;").await?;
        let rows = client.find_all(Locator::Css("li.row:not([hidden])")).await?.len();
        Ok((value == "hub" && rows == 1).then_some(()))
    })
    .await?;

    // Locked again: nothing found, nothing copied.
    invoke(client, "lock_now", serde_json::json!({})).await?;
    wait_locked(client).await?;
    let after = call("GetInitialResultSet", &["['git']"]).await?;
    ensure!(after.trim() == "(@as [],)", "locked, a search found {after}");
    let metas = call("GetResultMetas", &[&format!("['{}']", github.id)]).await?;
    ensure!(!metas.contains("GitHub"), "locked, the result reads {metas}");
    refused_activation(github).await
}

/// Activating `account` while locked leaves the clipboard as it was.
async fn refused_activation(account: &Account) -> TestResult {
    let scratch = tempfile::tempdir()?;
    let note = scratch.path().join("note.txt");
    std::fs::write(&note, "a note of mine")?;
    let _serving = serve_clipboard(&note, "UTF8_STRING").await?;
    call("ActivateResult", &[&format!("'{}'", account.id), "['git']", "0"]).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let text = clipboard_text().await?;
    ensure!(text == "a note of mine", "locked, activating changed the clipboard to {text:?}");
    Ok(())
}
