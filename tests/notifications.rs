//! The test services' notification daemon, proven with a real client and without the app: a
//! critical notification with Allow / Don't Allow stays on the screen, reads back with its text and
//! actions, and picking an action in dunst's menu sends that action, and only that one, to the client
//! that posted it. notify-send (libnotify) posts over org.freedesktop.Notifications and prints the
//! key of the action it receives.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::{
    Notification, TestResult, ensure, invoke_action, notifications, wait_for_notification,
};
use tokio::process::{Child, Command};

/// How long dunst may take to show a notification once it is posted.
const SHOW: Duration = Duration::from_secs(5);

/// Posts a critical sign-in request with actions allow and deny; notify-send waits for the outcome.
fn post(summary: &str, body: &str) -> TestResult<Child> {
    Ok(Command::new("notify-send")
        .args(["--app-name=twofold-test", "--urgency=critical"])
        .args(["--action=allow=Allow", "--action=deny=Don't Allow", summary, body])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?)
}

/// What the client printed once the notification was acted on: the key of the action it received.
async fn received(client: Child) -> TestResult<String> {
    let output = tokio::time::timeout(SHOW, client.wait_with_output()).await??;
    ensure!(output.status.success(), "notify-send failed: {}", output.status);
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// The notification titled `summary`, once dunst shows it.
async fn shown(summary: &str) -> TestResult<Notification> {
    wait_for_notification(|n| n.summary == summary && n.displayed && n.actions.len() == 2, SHOW)
        .await
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn a_person_picks_allow_or_deny_and_only_that_client_hears_it() -> TestResult {
    // Two requests on the screen at once, so picking one must not act on the other.
    let paris = post("Sign in to example.com?", "From Paris, France (Firefox on Linux)")?;
    let paris_shown = shown("Sign in to example.com?").await?;
    let oslo = post("Sign in to example.org?", "From Oslo, Norway")?;
    let oslo_shown = shown("Sign in to example.org?").await?;

    ensure!(paris_shown.body == "From Paris, France (Firefox on Linux)", "body: {paris_shown:?}");
    ensure!(paris_shown.urgency == "CRITICAL", "urgency: {paris_shown:?}");
    ensure!(paris_shown.app_name == "twofold-test", "app name: {paris_shown:?}");
    let actions: Vec<_> =
        paris_shown.actions.iter().map(|a| (a.key.as_str(), a.label.as_str())).collect();
    ensure!(actions == [("allow", "Allow"), ("deny", "Don't Allow")], "actions: {actions:?}");

    let closed = invoke_action(&format!("[{},deny]", paris_shown.id)).await?;
    ensure!(closed == paris_shown.id, "closed {closed}, not the Paris request {}", paris_shown.id);
    ensure!(received(paris).await? == "deny", "the Paris client did not get deny");

    let now = notifications().await?;
    let state = |id| now.iter().find(|n| n.id == id).map(|n| n.displayed);
    ensure!(state(paris_shown.id) == Some(false), "Paris still shown: {now:?}");
    ensure!(state(oslo_shown.id) == Some(true), "Oslo gone with Paris: {now:?}");

    // `,allow]` matches Allow only (`Don't Allow` contains "Allow"), and Oslo is the only one left.
    ensure!(invoke_action(",allow]").await? == oslo_shown.id, "allow closed another notification");
    ensure!(received(oslo).await? == "allow", "the Oslo client did not get allow");
    ensure!(
        invoke_action(",deny]").await.is_err(),
        "an action was invoked with nothing on the screen"
    );
    Ok(())
}
