//! The app answers SSH logins, end to end with real parts only: the approval server on loopback
//! (twofold-device's test server), a real sshd whose keyboard-interactive step runs the built
//! pam_twofold.so and a real ssh client (twofold-pam's sshd harness), the app under Xvfb over
//! WebDriver, gnome-keyring and dunst. The notification names the login (user, host, where it
//! comes from); Allow from it lets ssh in, Don't Allow keeps the next login out.
//!
//! As root, as twofold-pam's own sshd tests: sshd's PAM service file goes in /etc/pam.d.

mod support;
mod trusted_device;

// The device library's test server: a real approval server on a loopback port.
#[path = "../crates/twofold-device/tests/support/mod.rs"]
mod server;

// twofold-pam's test support: its private config file and the sshd harness.
#[path = "../crates/twofold-pam/tests/support/mod.rs"]
mod pam;

use std::sync::Arc;
use std::time::SystemTime;

use fantoccini::Client;
use pam::ConfigFile;
use pam::sshd::Sshd;
use server::Server;
use support::{ONE_APP, TestResult, TestVault, ensure, invoke_action, start_app};
use trusted_device::{
    Handing, allow_when_offered, last_notification, notification_for, pair_in_window, percentiles,
    recorded_since, view_names,
};
use twofold_protocol::client::ServiceClient;

/// The name the server knows the machine's PAM module by.
const SERVICE: &str = "Linux logins";

/// Starts an ssh login (as root, with a key, then the keyboard-interactive step that asks the
/// device) beside the test: (logged in, what ssh printed) once ssh ends.
fn start_login(sshd: &Arc<Sshd>) -> tokio::task::JoinHandle<(bool, String)> {
    let sshd = Arc::clone(sshd);
    tokio::task::spawn_blocking(move || sshd.login())
}

#[tokio::test]
#[ignore = "needs the services scripts/test starts"]
async fn an_ssh_login_is_named_in_the_notification_and_answered_from_it() -> TestResult {
    let _one = ONE_APP.lock().await;
    // The figures' logins must not hit the per-user limits, nor Don't Allow the lockout.
    let server = Server::start_with(|s| {
        s.limits.signins_per_user = 100_000;
        s.limits.signins_per_ip = 100_000;
        s.limits.lockout_denials = 100;
    });
    let api_key = server.service_key(SERVICE);
    let service = ServiceClient::new(&server.url, &api_key)?;
    // ssh logs in as root, whom the module maps to the Twofold user alice; the host is the
    // machine's own name (no `host =`), as a real installation shows it.
    let config = ConfigFile::write(&format!(
        "server = \"{}\"\napi_key = \"{api_key}\"\n[users]\nroot = \"alice\"\n",
        server.url
    ));
    let sshd = Arc::new(Sshd::start(&config.path, ""));
    let test = TestVault::new()?;
    let client = start_app(test.dir.path()).await?;
    let outcome = answer_logins(&client, &server, &service, &sshd).await;
    client.close().await?;
    outcome.map_err(|e| format!("{e}\nsshd:\n{}", sshd.log_text()).into())
}

async fn answer_logins(
    client: &Client,
    server: &Server,
    service: &ServiceClient,
    sshd: &Arc<Sshd>,
) -> TestResult {
    let link = service.create_pairing("alice").await?.link;
    let fingerprint = server.key.public().fingerprint().to_string();
    pair_in_window(client, &link, &fingerprint, SERVICE, Handing::Pasted).await?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")?.trim().to_owned();

    // Allow from the notification: ssh gets in.
    let before = last_notification().await?;
    let login = start_login(sshd);
    let shown = notification_for("alice", before).await?;
    ensure!(shown.summary == format!("Sign in to {SERVICE}?"), "summary: {shown:?}");
    let named = format!("SSH login as root to {host} from 127.0.0.1");
    ensure!(shown.body.contains(&named), "the notification does not say {named:?}: {shown:?}");
    ensure!(shown.body.contains("127.0.0.1"), "no address in {shown:?}");
    view_names(client, &named).await?;
    ensure!(!login.is_finished(), "ssh ended before anyone answered: {:?}", login.await?);
    invoke_action(&format!("[{},allow]", shown.id)).await?;
    let (ok, output) = login.await?;
    ensure!(ok, "ssh did not log in after Allow: {output}");

    // Don't Allow from the notification: the next login is refused.
    let before = last_notification().await?;
    let login = start_login(sshd);
    let shown = notification_for("alice", before).await?;
    ensure!(shown.body.contains(&named), "the second notification says {shown:?}");
    invoke_action(&format!("[{},deny]", shown.id)).await?;
    let (ok, output) = login.await?;
    ensure!(!ok, "ssh logged in after Don't Allow: {output}");
    ensure!(output.contains("Permission denied"), "ssh said {output}");
    figures(sshd).await
}

/// ssh started → its request's notification recorded by dunst, each login then allowed from
/// dunst's menu and checked to succeed; printed, not asserted. `TWOFOLD_FIGURES=1` runs the 50
/// logins of the published figures; the suite runs 3.
#[allow(clippy::print_stdout, reason = "the figures are printed")]
async fn figures(sshd: &Arc<Sshd>) -> TestResult {
    let logins = if std::env::var_os("TWOFOLD_FIGURES").is_some() { 50 } else { 3 };
    let mut latencies = Vec::new();
    for _ in 0..logins {
        let before = last_notification().await?;
        let start = SystemTime::now();
        let login = start_login(sshd);
        let (recorded, latency) = recorded_since(before, start).await?;
        latencies.push(latency);
        allow_when_offered(recorded).await?;
        let (ok, output) = login.await?;
        ensure!(ok, "ssh did not log in after Allow: {output}");
    }
    println!(
        "ssh started → notification in dunst (key exchange and publickey step included), {logins} \
         logins: {}",
        percentiles(latencies)
    );
    Ok(())
}
