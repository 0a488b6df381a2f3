//! Layouts of the real app: at the default 420 px the toolbar is one line; long account names end
//! in an ellipsis with the whole label as a tooltip; at the 320 px minimum every dialog fits the
//! window whole (nothing cut at a side); a wide window lays accounts out as a grid; compact
//! density fits more accounts to a window.

mod support;

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use support::{
    APPEAR, TestResult, TestVault, click, ensure, eventually, open_settings, row_button, script,
    start_app,
};
use twofold_core::OtpParams;

const LONG_NAME: &str = "a.very.long.account.name.that.cannot.fit@subdomain.example.com";

/// The dialogs a person can open, each with what opens the parts it hides.
const DIALOGS: &[(&str, &str)] = &[
    ("add", "document.getElementById('add-more').click()"),
    ("edit", "document.getElementById('edit-advanced-toggle').click()"),
    ("settings", ""),
    ("export", ""),
    ("backups", ""),
    ("trash", ""),
    ("shortcuts", ""),
    ("devices", ""),
    ("scan", ""),
    ("confirm", ""),
];

async fn toolbar(client: &Client) -> TestResult<Value> {
    script(
        client,
        "const shown = [...document.querySelectorAll('.bar .title, .bar .action')] \
           .filter((el) => el.getClientRects().length > 0).map((el) => el.getBoundingClientRect()); \
         const below = (a) => shown.some((b) => a.top >= b.bottom - 0.5); \
         return { lines: shown.some(below) ? 2 : 1, \
           outside: shown.filter((r) => r.right > innerWidth + 0.5 || r.left < 0).length, \
           width: innerWidth };",
    )
    .await
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn the_toolbar_dialogs_names_grid_and_density_fit_the_window() -> TestResult {
    let _alone = support::ONE_APP.lock().await;
    let test = TestVault::new()?;
    let long = test.add("Example", LONG_NAME, "JBSWY3DPEHPK3PXP", OtpParams::default())?;
    for (issuer, secret) in [("Second", "ONSWG4TFOQYTEMZU"), ("Third", "GEZDGNBVGY3TQOJQ")] {
        test.add(issuer, "ada", secret, OtpParams::default())?;
    }
    let client = start_app(test.dir.path()).await?;
    let outcome = check(&client, &row_button(long.id)).await;
    client.close().await?;
    outcome
}

async fn check(client: &Client, long_row: &str) -> TestResult {
    client.wait().at_most(APPEAR).for_element(Locator::Css(long_row)).await?;

    let bar = toolbar(client).await?;
    ensure!(bar["width"].as_u64().is_some_and(|w| (400..=420).contains(&w)), "not 420 px: {bar}");
    ensure!(bar["lines"] == 1 && bar["outside"] == 0, "the toolbar at 420 px: {bar}");

    // The long name is cut with an ellipsis, and its tooltip names the whole account.
    let name = script(
        client,
        &format!(
            "const b = document.querySelector('{}'); const n = b.querySelector('.name'); \
             return {{ cut: n.scrollWidth > n.clientWidth, ellipsis: getComputedStyle(n).textOverflow, \
               title: b.querySelector('.who').title }};",
            long_row.replace('\'', "\\'")
        ),
    )
    .await?;
    ensure!(name["cut"] == true && name["ellipsis"] == "ellipsis", "the long name: {name}");
    ensure!(name["title"] == json!(format!("Example ({LONG_NAME})")), "its tooltip: {name}");

    // Compact rows: more accounts to a window.
    let height = "return document.querySelector('li.row').getBoundingClientRect().height;";
    let comfortable = script(client, height).await?.as_f64().unwrap_or(0.0);
    open_settings(client).await?;
    click(client, "#compact").await?;
    click(client, "#settings-cancel").await?;
    let compact = script(client, height).await?.as_f64().unwrap_or(0.0);
    ensure!(
        compact > 0.0 && compact < comfortable * 0.8,
        "rows {comfortable} px, compact {compact} px"
    );

    // Wider than the default, the toolbar stays one line inside the window too (at 500 px the
    // buttons once ran out of it, ⚙ cut off at the edge).
    for width in [460, 500, 540, 600, 700] {
        client.set_window_size(width, 640).await?;
        let bar = eventually(Duration::from_secs(5), "the window did not resize", || async {
            let bar = toolbar(client).await?;
            let inner = bar["width"].as_u64().unwrap_or(0);
            Ok((inner + 30 >= u64::from(width) && inner <= u64::from(width)).then_some(bar))
        })
        .await?;
        ensure!(bar["lines"] == 1 && bar["outside"] == 0, "the toolbar at {width} px: {bar}");
    }

    // At the 320 px minimum, every dialog is whole.
    client.set_window_size(320, 640).await?;
    eventually(Duration::from_secs(5), "the window did not narrow", || async {
        let width = script(client, "return innerWidth;").await?.as_u64().unwrap_or(0);
        Ok((width <= 330).then_some(()))
    })
    .await?;
    let sideways =
        script(client, "return document.documentElement.scrollWidth > innerWidth;").await?;
    ensure!(sideways == false, "the window scrolls sideways at 320 px");
    for (dialog, open_more) in DIALOGS {
        let fit = script(
            client,
            &format!(
                "const d = document.getElementById('{dialog}'); d.showModal(); {open_more}; \
                 const r = d.getBoundingClientRect(); \
                 const cut = [...d.querySelectorAll('*')].filter((el) => el.getClientRects().length > 0) \
                   .filter((el) => {{ const e = el.getBoundingClientRect(); \
                     return e.width > 0 && (e.left < r.left - 0.5 || e.right > r.right + 0.5); }}) \
                   .slice(0, 3).map((el) => el.id || el.className || el.tagName); \
                 const result = {{ left: r.left, right: r.right, top: r.top, bottom: r.bottom, \
                   width: innerWidth, height: innerHeight, cut, \
                   sideways: d.scrollWidth > d.clientWidth + 1 }}; \
                 d.close(); return result;"
            ),
        )
        .await?;
        let inside = fit["left"].as_f64().is_some_and(|l| l >= 0.0)
            && fit["right"].as_f64() <= fit["width"].as_f64()
            && fit["top"].as_f64().is_some_and(|t| t >= 0.0)
            && fit["bottom"].as_f64() <= fit["height"].as_f64();
        ensure!(inside, "the {dialog} dialog leaves the 320 px window: {fit}");
        ensure!(
            fit["cut"] == json!([]) && fit["sideways"] == false,
            "the {dialog} dialog is cut: {fit}"
        );
    }

    // A wide window: accounts side by side.
    client.set_window_size(1000, 700).await?;
    eventually(Duration::from_secs(5), "no grid in a wide window", || async {
        let tops = script(
            client,
            "return [...document.querySelectorAll('li.row')].slice(0, 2) \
               .map((n) => Math.round(n.getBoundingClientRect().top));",
        )
        .await?;
        Ok((tops[0] == tops[1]).then_some(()))
    })
    .await
}
