//! Safe deletes in the real app, over the real keyring: a deleted account (red Delete, asked first,
//! also by the Delete key on a focused row) moves to "Recently deleted" with its secret kept, is
//! listed there after a restart and restored with the codes it had; "Delete for good" removes the
//! secret. Once accounts exist, automatic backups are suggested once.

mod support;

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use support::{
    APPEAR, TestResult, TestVault, click, content_of, displayed, ensure, eventually, open_settings,
    row_button, row_item, script, start_app,
};
use twofold_core::keystore::Keystore;
use twofold_core::{Account, OtpParams};

async fn is_open(client: &Client, dialog: &str) -> TestResult<bool> {
    let open = script(client, &format!("return document.getElementById('{dialog}').open;")).await?;
    Ok(open.as_bool().unwrap_or(false))
}

async fn row_gone(client: &Client, account: &Account) -> TestResult {
    eventually(Duration::from_secs(5), "the deleted row stays", || async {
        Ok(client.find_all(Locator::Css(&row_button(account.id))).await?.is_empty().then_some(()))
    })
    .await
}

/// The trash list's entries as shown: label and time left.
async fn trash_entries(client: &Client) -> TestResult<Vec<String>> {
    open_settings(client).await?;
    click(client, "#open-trash").await?;
    client.wait().at_most(APPEAR).for_element(Locator::Css("#trash[open]")).await?;
    let shown = script(
        client,
        "return [...document.querySelectorAll('#trash-list .trash-entry')] \
           .map((n) => n.querySelector('.trash-label').textContent + ' | ' + \
                       n.querySelector('.trash-when').textContent);",
    )
    .await?;
    Ok(shown.as_array().into_iter().flatten().filter_map(|v| v.as_str()).map(Into::into).collect())
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn deleted_accounts_wait_in_recently_deleted_across_a_restart() -> TestResult {
    let _alone = support::ONE_APP.lock().await;
    let test = TestVault::new()?;
    let doomed = test.add("Doomed", "ada", "JBSWY3DPEHPK3PXP", OtpParams::default())?;
    let keep = test.add("Keep", "zoe", "ONSWG4TFOQYTEMZU", OtpParams::default())?;

    let client = start_app(test.dir.path()).await?;
    let outcome = delete_and_suggest(&client, &test, &doomed, &keep).await;
    client.close().await?;
    outcome?;

    let client = start_app(test.dir.path()).await?;
    let outcome = restore_after_restart(&client, &test, &doomed).await;
    client.close().await?;
    outcome
}

async fn delete_and_suggest(
    client: &Client,
    test: &TestVault,
    doomed: &Account,
    keep: &Account,
) -> TestResult {
    client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(keep.id))).await?;

    // Accounts and no backups: the suggestion shows, once.
    eventually(Duration::from_secs(5), "no backup suggestion", || async {
        Ok(displayed(client, "#backup-prompt").await?.then_some(()))
    })
    .await?;
    click(client, "#backup-prompt-dismiss").await?;
    ensure!(!displayed(client, "#backup-prompt").await?, "the suggestion stays after Not now");

    // The Delete key on a focused row asks; Cancel keeps it.
    let focus = "document.querySelector(arguments[0]).focus(); return null;";
    client.execute(focus, vec![serde_json::json!(row_button(keep.id))]).await?;
    let delete = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: Key::Delete.into() })
        .then(KeyAction::Up { value: Key::Delete.into() });
    client.perform_actions(delete).await?;
    ensure!(is_open(client, "confirm").await?, "the Delete key did not ask");
    let title = content_of(client, "#confirm-title").await?;
    ensure!(title == "Delete Keep (zoe)?", "the Delete key asks {title:?}");
    click(client, "#confirm-no").await?;
    ensure!(test.vault.account(keep.id).is_ok(), "Cancel deleted the account");

    // The edit dialog's Delete: asked, with a red button.
    click(client, &format!("{} .edit", row_item(doomed.id))).await?;
    click(client, "#edit-delete").await?;
    ensure!(is_open(client, "confirm").await?, "delete did not ask for confirmation");
    let colour = script(
        client,
        "return getComputedStyle(document.getElementById('confirm-yes')).backgroundColor;",
    )
    .await?;
    let rgb: Vec<u32> = colour
        .as_str()
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect();
    ensure!(
        matches!(rgb.as_slice(), [r, g, b, ..] if *r > 150 && *r > g + 60 && *r > b + 60),
        "the Delete button is not red: {colour}"
    );
    click(client, "#confirm-yes").await?;
    row_gone(client, doomed).await?;
    ensure!(test.vault.accounts()?.iter().all(|a| a.id != doomed.id), "still listed in the vault");
    ensure!(test.vault.keystore().load(doomed.id)?.is_some(), "the secret went with the delete");
    let entries = trash_entries(client).await?;
    ensure!(entries == ["Doomed (ada) | 30 days left"], "Recently deleted shows {entries:?}");
    click(client, "#trash-close").await?;
    Ok(())
}

async fn restore_after_restart(client: &Client, test: &TestVault, doomed: &Account) -> TestResult {
    client.wait().at_most(APPEAR).for_element(Locator::Css("button.account")).await?;
    // The suggestion was answered: it does not come back.
    tokio::time::sleep(Duration::from_millis(500)).await;
    ensure!(!displayed(client, "#backup-prompt").await?, "the backup suggestion came back");

    let entries = trash_entries(client).await?;
    ensure!(
        entries == ["Doomed (ada) | 30 days left"],
        "after a restart the trash shows {entries:?}"
    );
    click(client, ".trash-restore").await?;
    client
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css(&row_button(doomed.id)))
        .await?;
    eventually(Duration::from_secs(5), "the restored entry stays in the list", || async {
        Ok(client.find_all(Locator::Css(".trash-entry")).await?.is_empty().then_some(()))
    })
    .await?;
    click(client, "#trash-close").await?;
    let code = content_of(client, &format!("{} .code", row_button(doomed.id))).await?;
    let back = test.vault.account(doomed.id)?;
    ensure!(
        test.acceptable_codes(&back)?.contains(&code.replace(' ', "")),
        "the restored row shows {code:?}"
    );

    // Deleted again, then for good from the trash: the secret goes.
    click(client, &format!("{} .edit", row_item(doomed.id))).await?;
    click(client, "#edit-delete").await?;
    click(client, "#confirm-yes").await?;
    row_gone(client, doomed).await?;
    trash_entries(client).await?;
    click(client, ".trash-purge").await?;
    ensure!(is_open(client, "confirm").await?, "Delete for good did not ask");
    click(client, "#confirm-yes").await?;
    eventually(Duration::from_secs(5), "the secret outlived Delete for good", || async {
        Ok(test.vault.keystore().load(doomed.id)?.is_none().then_some(()))
    })
    .await?;
    ensure!(test.vault.trashed()?.is_empty(), "the trash still holds the account");
    ensure!(is_open(client, "trash").await?, "the trash closed under the confirmation");
    Ok(())
}
