//! Living on the desktop, end to end under Xvfb: with no tray on the desktop, closing the window
//! (Ctrl+W) does not hide it and says so once; with a tray (Debian's status-notifier-watcher), it
//! keeps the app running in the tray, a second start of the same vault exits and shows the first one's window, another
//! vault gets its own instance, `--hidden` starts in the tray, the tray setting off makes closing
//! quit, and the autostart setting writes and removes the session's autostart entry.
//!
//! One test, in steps: the windows are found by their title on the one X display, so two of these
//! running side by side would see each other's.

mod support;

use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;
use support::{
    APPEAR, Notification, TestResult, TestVault, ensure, env, eventually, invoke, map_state,
    notifications, press_ctrl, row_button, start_app, start_app_with, start_tray,
    wait_for_notification, x_windows,
};
use twofold_core::OtpParams;

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn tray_single_instance_start_hidden_and_autostart() -> TestResult {
    let test = TestVault::new()?;
    let alice = test.add("Example", "alice", "JBSWY3DPEHPK3PXP", OtpParams::default())?;

    let client = start_app(test.dir.path()).await?;
    let tray = async {
        client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(alice.id))).await?;
        closing_without_a_tray_does_not_hide(&client).await?;
        start_tray().await
    }
    .await;
    let tray = match tray {
        Ok(tray) => tray,
        Err(err) => {
            client.close().await?;
            return Err(err);
        }
    };
    let outcome = async {
        close_to_tray_then_show_again(&client, test.dir.path()).await?;
        another_vault_gets_its_own_instance().await?;
        autostart(&client).await
    }
    .await;
    client.close().await?;
    outcome?;
    wait_gone(test.dir.path()).await?;

    // Started hidden, shown by a second start.
    let client = start_app_with(test.dir.path(), &["--hidden"]).await?;
    let outcome = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        ensure!(viewable().await?.is_none(), "--hidden showed the window");
        second_start(test.dir.path()).await?;
        wait_viewable(true).await
    }
    .await;
    client.close().await?;
    outcome?;
    wait_gone(test.dir.path()).await?;
    drop(tray);

    // With the tray setting off, closing the window quits.
    std::fs::write(test.dir.path().join("settings.json"), r#"{"close_to_tray": false}"#)?;
    let client = start_app(test.dir.path()).await?;
    client.wait().at_most(APPEAR).for_element(Locator::Css(&row_button(alice.id))).await?;
    wait_viewable(true).await?;
    // The app quits while WebDriver still waits for the key's answer: that call may fail, and so
    // may closing the session. The app being gone is what counts.
    let _ = press_ctrl(&client, 'w').await;
    wait_gone(test.dir.path()).await?;
    let _ = client.close().await;
    Ok(())
}

/// With no StatusNotifierWatcher on the bus, Ctrl+W leaves the window on the screen (minimised
/// where a window manager does that; Xvfb has none) and the app running, and a notification says
/// why, the first time only.
async fn closing_without_a_tray_does_not_hide(client: &Client) -> TestResult {
    wait_viewable(true).await?;
    let said = |n: &Notification| n.summary == "Twofold is still running";
    let before = notifications().await?.iter().filter(|n| said(n)).count();
    press_ctrl(client, 'w').await?;
    let told = wait_for_notification(said, APPEAR).await?;
    ensure!(told.body.contains("no tray"), "the notification says {told:?}");
    ensure!(viewable().await?.is_some(), "closing hid the window with no tray to bring it back");
    let status = invoke(client, "lock_status", json!({})).await?;
    ensure!(status["locked"] == false, "the app does not answer: {status}");
    press_ctrl(client, 'w').await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = notifications().await?.iter().filter(|n| said(n)).count();
    ensure!(after == before + 1, "said {} times", after - before);
    ensure!(viewable().await?.is_some(), "the second close hid the window");
    Ok(())
}

async fn close_to_tray_then_show_again(client: &Client, dir: &Path) -> TestResult {
    wait_viewable(true).await?;
    press_ctrl(client, 'w').await?;
    wait_viewable(false).await?;
    // Still running: the page answers.
    let status = invoke(client, "lock_status", json!({})).await?;
    ensure!(status["locked"] == false, "the hidden app does not answer: {status}");
    second_start(dir).await?;
    wait_viewable(true).await
}

/// A second start of the same vault hands over and exits at once.
async fn second_start(dir: &Path) -> TestResult {
    let second = tokio::process::Command::new(env("TWOFOLD_APP_BIN")?)
        .arg("--data-dir")
        .arg(dir)
        .kill_on_drop(true)
        .status();
    let status = tokio::time::timeout(APPEAR, second).await??;
    ensure!(status.success(), "the second start ended with {status}");
    Ok(())
}

/// Another vault is another instance: it stays running with a window of its own.
async fn another_vault_gets_its_own_instance() -> TestResult {
    let other = tempfile::tempdir()?;
    let mut child = tokio::process::Command::new(env("TWOFOLD_APP_BIN")?)
        .arg("--data-dir")
        .arg(other.path())
        .kill_on_drop(true)
        .spawn()?;
    let start = std::time::Instant::now();
    let outcome = loop {
        if child.try_wait()?.is_some() {
            break Err("the other vault's app exited".into());
        }
        if x_windows("Twofold").await?.len() >= 2 {
            break Ok(());
        }
        if start.elapsed() > APPEAR {
            break Err("the other vault's window never showed".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    child.kill().await?;
    outcome
}

async fn autostart(client: &Client) -> TestResult {
    let dir = Path::new(&std::env::var("HOME")?).join(".config/autostart");
    ensure!(autostart_entry(&dir).is_none(), "an autostart entry before asking");
    set_autostart_in_settings(client, true).await?;
    let entry =
        eventually(APPEAR, "no autostart entry", || async { Ok(autostart_entry(&dir)) }).await?;
    let text = std::fs::read_to_string(&entry)?;
    ensure!(text.contains("--hidden"), "the autostart entry does not start hidden:\n{text}");
    ensure!(text.contains(&env("TWOFOLD_APP_BIN")?), "the entry starts something else:\n{text}");
    set_autostart_in_settings(client, false).await?;
    eventually(APPEAR, "the autostart entry stayed", || async {
        Ok(autostart_entry(&dir).is_none().then_some(()))
    })
    .await
}

/// The session's autostart entry (a `.desktop` file in `dir`), if there is one.
fn autostart_entry(dir: &Path) -> Option<std::path::PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries.flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|e| e == "desktop"))
}

async fn set_autostart_in_settings(client: &Client, on: bool) -> TestResult {
    client.find(Locator::Id("open-settings")).await?.click().await?;
    let check = client.wait().at_most(APPEAR).for_element(Locator::Id("autostart")).await?;
    // The dialog reads the current state when it opens.
    tokio::time::sleep(Duration::from_millis(300)).await;
    if check.is_selected().await? != on {
        check.click().await?;
    }
    client.find(Locator::Id("settings-save")).await?.click().await?;
    Ok(())
}

/// Waits until no Twofold window is left and no app process has `dir` open: the app has quit and
/// let go of the vault, so the next start is a first one again.
async fn wait_gone(dir: &Path) -> TestResult {
    eventually(APPEAR, "a Twofold window or process stayed", || async {
        Ok((x_windows("Twofold").await?.is_empty() && !running_on(dir)?).then_some(()))
    })
    .await
}

/// Whether a process has `dir` on its command line (an app started on that vault).
fn running_on(dir: &Path) -> TestResult<bool> {
    let needle = dir.as_os_str().as_encoded_bytes();
    for process in std::fs::read_dir("/proc")? {
        let Ok(cmdline) = std::fs::read(process?.path().join("cmdline")) else { continue };
        if cmdline.split(|b| *b == 0).any(|arg| arg == needle) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The id of the viewable window titled "Twofold", if any.
async fn viewable() -> TestResult<Option<String>> {
    for window in x_windows("Twofold").await? {
        if map_state(&window.id).await? == "IsViewable" {
            return Ok(Some(window.id));
        }
    }
    Ok(None)
}

async fn wait_viewable(shown: bool) -> TestResult {
    let what = if shown { "the window never showed" } else { "the window never hid" };
    eventually(APPEAR, what, || async { Ok((viewable().await?.is_some() == shown).then_some(())) })
        .await
}
