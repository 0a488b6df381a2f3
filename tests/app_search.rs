//! Finding and ordering accounts end to end: search as you type (issuer, account name, tags),
//! keyboard navigation (`/` and Ctrl+F to search, arrows, Enter to copy, Esc), sorting (A–Z,
//! recently used, manual drag) and favourites pinned on top.

mod support;

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use support::{
    APPEAR, TestResult, TestVault, clipboard_text, ensure, eventually, press_ctrl, row_button,
    row_item, script, start_app,
};
use twofold_core::vault::AccountEdit;
use twofold_core::{Account, OtpParams};

/// The ids of the rows on screen, top to bottom, as a JSON array of strings.
const VISIBLE_ROWS: &str = r##"
    return [...document.querySelectorAll("#accounts > li.row")]
        .filter((row) => !row.hidden)
        .map((row) => row.dataset.accountId);
"##;

/// The account id of the focused row, or what else has focus.
const FOCUSED: &str = r#"
    const active = document.activeElement;
    return active.dataset.accountId || active.id || active.tagName;
"#;

/// Moves the first row below the third with the page's own drag events, as a mouse drag would.
const DRAG_FIRST_BELOW_THIRD: &str = r##"
    const rows = [...document.querySelectorAll("#accounts > li.row")];
    const transfer = new DataTransfer();
    const fire = (target, type, y) => {
      const box = target.getBoundingClientRect();
      target.dispatchEvent(new DragEvent(type, {
        bubbles: true, cancelable: true, dataTransfer: transfer,
        clientX: box.left + 10, clientY: y ?? box.top + 1,
      }));
    };
    fire(rows[0], "dragstart");
    const third = rows[2].getBoundingClientRect();
    fire(rows[2], "dragover", third.bottom - 2);
    fire(rows[2], "drop", third.bottom - 2);
    fire(rows[0], "dragend");
    return rows.length;
"##;

/// Presses one key in the window, as a keyboard does.
async fn press(client: &Client, key: impl Into<char>) -> TestResult {
    let key = key.into();
    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    Ok(client.perform_actions(keys).await?)
}

async fn visible(client: &Client) -> TestResult<Vec<String>> {
    let rows = script(client, VISIBLE_ROWS).await?;
    Ok(serde_json::from_value(rows)?)
}

async fn focused(client: &Client) -> TestResult<String> {
    Ok(script(client, FOCUSED).await?.as_str().unwrap_or_default().to_owned())
}

/// Waits until the rows on screen are `expected`, top to bottom.
async fn rows_become(client: &Client, expected: &[&Account], what: &str) -> TestResult {
    let want: Vec<String> = expected.iter().map(|a| a.id.to_string()).collect();
    let start = std::time::Instant::now();
    loop {
        let rows = visible(client).await?;
        if rows == want {
            return Ok(());
        }
        ensure!(
            start.elapsed() < Duration::from_secs(5),
            "{what}: rows are {rows:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn search_keyboard_sort_favourites_and_drag() -> TestResult {
    let test = TestVault::new()?;
    let github = test.add("GitHub", "alice", "JBSWY3DPEHPK3PXP", OtpParams::default())?;
    let gitlab = test.add("GitLab", "bob", "MFRGGZDFMZTWQ2LK", OtpParams::default())?;
    let mastodon = test.add("Mastodon", "carol", "NBSWY3DPO5XXE3DE", OtpParams::default())?;
    let bank = test.add("Bank", "dave", "ONSWG4TFOQYTEMZU", OtpParams::default())?;
    let tags = |list: &[&str]| AccountEdit {
        tags: Some(list.iter().map(|t| (*t).to_owned()).collect()),
        ..AccountEdit::default()
    };
    test.vault.edit(github.id, tags(&["work"]))?;
    test.vault.edit(mastodon.id, tags(&["social", "fun"]))?;

    let client = start_app(test.dir.path()).await?;
    let outcome = check(&client, &test, [github, gitlab, mastodon, bank]).await;
    client.close().await?;
    outcome
}

async fn check(client: &Client, test: &TestVault, accounts: [Account; 4]) -> TestResult {
    let [github, gitlab, mastodon, bank] = &accounts;
    client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(bank.id))).await?;
    rows_become(client, &[github, gitlab, mastodon, bank], "the first listing").await?;

    // `/` goes to the search; typing filters by issuer, then by tag.
    press(client, '/').await?;
    ensure!(focused(client).await? == "search", "`/` left focus on {}", focused(client).await?);
    let search = client.find(Locator::Css("#search")).await?;
    search.send_keys("git").await?;
    rows_become(client, &[github, gitlab], "searching \"git\"").await?;
    search.clear().await?;
    search.send_keys("FUN").await?;
    rows_become(client, &[mastodon], "searching the tag \"FUN\"").await?;
    search.clear().await?;
    search.send_keys("nothing like this").await?;
    rows_become(client, &[], "a search matching nothing").await?;
    let no_match = client.find(Locator::Css("#no-match")).await?;
    ensure!(no_match.is_displayed().await?, "no message says nothing matches");

    // Arrow down from the search to the first match; Enter copies it.
    search.clear().await?;
    search.send_keys("work").await?;
    rows_become(client, &[github], "searching the tag \"work\"").await?;
    press(client, Key::Down).await?;
    ensure!(focused(client).await? == github.id.to_string(), "arrow down did not reach GitHub");
    press(client, Key::Enter).await?;
    eventually(Duration::from_secs(5), "Enter did not copy GitHub's code", || async {
        let text = clipboard_text().await?;
        Ok(test.acceptable_codes(github)?.contains(&text).then_some(()))
    })
    .await?;

    // Esc clears the search and shows every account again; the arrows walk the list.
    press_ctrl(client, 'f').await?;
    ensure!(focused(client).await? == "search", "Ctrl+F did not focus the search");
    press(client, Key::Escape).await?;
    rows_become(client, &[github, gitlab, mastodon, bank], "after Esc").await?;
    press(client, Key::Down).await?;
    press(client, Key::Down).await?;
    ensure!(
        focused(client).await? == gitlab.id.to_string(),
        "two arrows down did not reach GitLab"
    );
    press(client, Key::Up).await?;
    ensure!(focused(client).await? == github.id.to_string(), "arrow up did not go back");

    // A–Z.
    let sort = client.find(Locator::Css("#sort")).await?;
    sort.select_by_value("alphabetical").await?;
    rows_become(client, &[bank, github, gitlab, mastodon], "sorted A–Z").await?;

    // A favourite is pinned on top, and kept in the settings.
    let star = format!("{} .favourite", row_item(mastodon.id));
    client.find(Locator::Css(&star)).await?.click().await?;
    rows_become(client, &[mastodon, bank, github, gitlab], "Mastodon pinned").await?;
    let pressed = client.find(Locator::Css(&star)).await?.attr("aria-pressed").await?;
    ensure!(pressed.as_deref() == Some("true"), "the star's aria-pressed is {pressed:?}");

    // Recently used: GitLab copied last, then GitHub (copied above); the favourite stays on top.
    client.find(Locator::Css(&row_button(gitlab.id))).await?.click().await?;
    sort.select_by_value("recently_used").await?;
    rows_become(client, &[mastodon, gitlab, github, bank], "sorted by recent use").await?;

    // Unpinned and back to the manual order, a row dragged below another stays there.
    client.find(Locator::Css(&star)).await?.click().await?;
    sort.select_by_value("manual").await?;
    rows_become(client, &[github, gitlab, mastodon, bank], "the manual order").await?;
    script(client, DRAG_FIRST_BELOW_THIRD).await?;
    rows_become(client, &[gitlab, mastodon, github, bank], "after the drag").await?;
    let stored: Vec<_> = test.vault.accounts()?.iter().map(|a| a.issuer.clone()).collect();
    ensure!(stored == ["GitLab", "Mastodon", "GitHub", "Bank"], "the vault's order is {stored:?}");
    Ok(())
}
