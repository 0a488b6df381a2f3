//! The app as a trusted device, driven as a person does: pairing through the Trusted device
//! dialog, and the notifications sign-in requests bring. Shared by the end-to-end tests where the
//! app answers (the approval server's own requests, SSH logins, the sign-in portal).

#![allow(dead_code, reason = "each test file uses its own part of this module")]

use std::path::Path;
use std::time::{Duration, SystemTime};

use fantoccini::{Client, Locator};
use serde_json::json;
use uuid::Uuid;

use crate::support::{
    APPEAR, Notification, TestResult, content_of, ensure, eventually, invoke, invoke_action,
    notifications, script, wait_for_notification,
};

/// How long a request may take from the service to dunst (a debug build, a busy machine).
pub const SHOW: Duration = Duration::from_secs(15);

/// The highest notification id dunst has seen: later requests get higher ones.
pub async fn last_notification() -> TestResult<u32> {
    Ok(notifications().await?.iter().map(|n| n.id).max().unwrap_or(0))
}

/// The first notification after `after` for `user`, once on the screen with its actions.
pub async fn notification_for(user: &str, after: u32) -> TestResult<Notification> {
    let pick = |n: &Notification| {
        n.id > after && n.displayed && !n.actions.is_empty() && n.body.starts_with(user)
    };
    wait_for_notification(pick, SHOW).await
}

/// Waits until the window's request view says what the sign-in is for: `context`.
pub async fn view_names(client: &Client, context: &str) -> TestResult {
    eventually(SHOW, &format!("the request view never said {context:?}"), || async {
        Ok((content_of(client, "#approval-context").await? == context).then_some(()))
    })
    .await
}

/// Clicks the element `css` once it is shown.
pub async fn click(client: &Client, css: &str) -> TestResult {
    let found = client.wait().at_most(APPEAR).for_element(Locator::Css(css)).await?;
    eventually(APPEAR, &format!("{css} is never shown"), || async {
        Ok(found.is_displayed().await?.then_some(()))
    })
    .await?;
    Ok(found.click().await?)
}

/// The app's paired server for `service`, as `paired_servers` lists it, once in `state`.
pub async fn paired(client: &Client, service: &str, state: &str) -> TestResult<serde_json::Value> {
    eventually(APPEAR, &format!("{service} never became {state}"), || async {
        let servers = invoke(client, "paired_servers", json!({})).await?;
        let mut listed = servers.as_array().into_iter().flatten();
        Ok(listed.find(|s| s["service"] == service && s["state"] == state).cloned())
    })
    .await
}

/// How the test hands a pairing link to the app.
#[derive(Debug, Clone, Copy)]
pub enum Handing {
    /// Pasted into the Trusted device dialog.
    Pasted,
    /// As a screenshot of its QR code dropped on the window (the account scan's path).
    DroppedQr,
}

/// Pairs the app through `link` handed over as `handing` says, checking that the confirm step
/// shows the server's key `fingerprint` and the service `name`; the paired server's id.
pub async fn pair_in_window(
    client: &Client,
    link: &str,
    fingerprint: &str,
    name: &str,
    handing: Handing,
) -> TestResult<Uuid> {
    match handing {
        Handing::Pasted => {
            click(client, "#open-devices").await?;
            let field = client.wait().at_most(APPEAR).for_element(Locator::Id("pair-link")).await?;
            field.send_keys(link).await?;
            click(client, "#pair-next").await?;
        }
        Handing::DroppedQr => {
            // The first listing is on screen: the page's drop handler is in place.
            let ready = Locator::Css("#empty:not([hidden]), button.account");
            client.wait().at_most(APPEAR).for_element(ready).await?;
            let mut png = Vec::new();
            let page = crate::support::page_with_codes(&[link])?;
            page.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
            let events = ["dragenter", "dragover", "drop"];
            let steps =
                crate::support::drag_file(client, &png, "pairing.png", "image/png", &events)
                    .await?;
            ensure!(steps.iter().all(|(taken, _)| *taken), "the drop went {steps:?}");
        }
    }
    eventually(APPEAR, "the pairing's confirm step never showed", || async {
        let step = script(client, "return !document.getElementById('pair-step').hidden").await?;
        Ok((step == true).then_some(()))
    })
    .await?;
    let shown = content_of(client, "#pair-fingerprint").await?;
    ensure!(
        shown == fingerprint,
        "the confirm step shows key {shown:?}, the server's is {fingerprint}"
    );
    ensure!(
        content_of(client, "#pair-service").await? == name,
        "the confirm step names another service"
    );
    click(client, "#pair-confirm").await?;
    let listed = paired(client, name, "connected").await?;
    eventually(APPEAR, "the dialog never listed the new server as connected", || async {
        let css =
            format!(r#".paired-server[data-server-id="{}"]"#, listed["id"].as_str().unwrap_or(""));
        Ok(client.find_all(Locator::Css(&css)).await?.into_iter().next().map(|_| ()))
    })
    .await?;
    click(client, "#devices-close").await?;
    Ok(listed["id"].as_str().unwrap_or_default().parse()?)
}

/// Waits for dunst's record of a notification after `after`: its id, and how long after `start`
/// dunst had it (the mtime of the `body` file its rule script writes; read straight from the
/// directory, so polling costs no dunstctl).
pub async fn recorded_since(after: u32, start: SystemTime) -> TestResult<(u32, Duration)> {
    let shown_dir = std::path::PathBuf::from(crate::support::env("TWOFOLD_DUNST_SHOWN")?);
    let recorded =
        eventually(SHOW, "no notification recorded", || async { newest_record(&shown_dir, after) })
            .await?;
    let at = std::fs::metadata(shown_dir.join(recorded.to_string()).join("body"))?.modified()?;
    Ok((recorded, at.duration_since(start).unwrap_or_default()))
}

/// Picks Allow on notification `id` from dunst's menu once the menu offers it.
pub async fn allow_when_offered(id: u32) -> TestResult {
    let answer = format!("[{id},allow]");
    eventually(SHOW, "the notification never offered Allow", || async {
        Ok(invoke_action(&answer).await.ok())
    })
    .await?;
    Ok(())
}

/// `p50 …, p99 …, max …` of `latencies`, in milliseconds.
pub fn percentiles(mut latencies: Vec<Duration>) -> String {
    latencies.sort();
    let at = |q: usize| latencies.get((latencies.len() * q / 100).min(latencies.len() - 1));
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(at(50)),
        ms(at(99)),
        ms(latencies.last())
    )
}

/// The id of a whole dunst record newer than `after`, if there is one.
fn newest_record(shown_dir: &Path, after: u32) -> TestResult<Option<u32>> {
    let mut newest = None;
    for entry in std::fs::read_dir(shown_dir)? {
        let name = entry?.file_name();
        let id = name.to_str().and_then(|n| n.parse::<u32>().ok());
        if let Some(id) = id.filter(|id| *id > after) {
            newest = newest.max(Some(id));
        }
    }
    Ok(newest)
}
