//! Figures for the desktop app, printed (no time is asserted): cold start to the first code shown,
//! the search's filter time over 1 000 accounts, idle CPU with 100 accounts, and with 200 accounts
//! of known services (brand icons): cold start, idle CPU and the memory (PSS) of the app and its
//! WebKit processes. The real app under
//! Xvfb over WebDriver with the real keyring, like the end-to-end tests, but a bench target so that
//! `cargo test` never runs it:
//!
//! `scripts/with-services cargo bench -p twofold-e2e --profile dev --bench app -- [cold] [filter] [idle] [icons]`
//!
//! (`--profile dev`: the bench only drives the app; building WebDriver and tokio with LTO buys nothing.)
//!
//! Set `TWOFOLD_APP_BIN` to a release build for release figures (the default is the debug build).
#![allow(clippy::print_stdout)] // a bench prints its figures

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::json;
use support::{APPEAR, TestResult, TestVault, ensure, env, script, start_app};
use twofold_core::OtpParams;

/// Types `arguments[0]` into the search and reports, in ms, when the window has filtered the list
/// (main.js marks "search-applied"): what a person waits for between a keystroke and the list. Also
/// reports the IPC + core part alone (`search_accounts` invoked directly).
const FILTER: &str = r##"
    const [query, done] = arguments;
    const search = document.getElementById("search");
    const ipcStart = performance.now();
    window.__TAURI__.core.invoke("search_accounts", { query }).then(() => {
      const ipc = performance.now() - ipcStart;
      const observer = new PerformanceObserver((list) => {
        observer.disconnect();
        const [mark] = list.getEntries();
        done([mark.startTime - start, ipc]);
      });
      observer.observe({ entryTypes: ["mark"] });
      const start = performance.now();
      search.value = query;
      search.dispatchEvent(new Event("input"));
    });
"##;

/// Unix time (ms) of the "first-code" mark main.js sets once codes are on screen.
const FIRST_CODE: &str = r#"
    const [mark] = performance.getEntriesByName("first-code");
    return mark ? performance.timeOrigin + mark.startTime : null;
"#;

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied().unwrap_or(f64::NAN)
}

fn secret(i: usize) -> String {
    // 20 bytes of base32 unique per account: the index spelled in base32 letters, padded.
    let mut text = String::new();
    let mut n = i;
    for _ in 0..32 {
        text.push(char::from(b'A' + u8::try_from(n % 26).unwrap_or(0)));
        n /= 26;
    }
    text
}

fn fill(test: &TestVault, count: usize) -> TestResult {
    for i in 0..count {
        test.add(
            &format!("Issuer{i}"),
            &format!("user{i}@example.com"),
            &secret(i),
            OtpParams::default(),
        )?;
    }
    Ok(())
}

/// Reads one line of `/proc/<pid>/stat`: (parent pid, user + system CPU ticks, start ticks).
fn proc_stat(pid: u32) -> Option<(u32, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces: state ppid ... utime(12) stime(13) ... starttime(20).
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ppid = fields.get(1)?.parse().ok()?;
    let cpu = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((ppid, cpu, start))
}

fn pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect()
}

/// The app process started on `data_dir`.
fn app_pid(data_dir: &Path) -> TestResult<u32> {
    let wanted = data_dir.to_string_lossy().into_owned();
    pids()
        .into_iter()
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            args.first().is_some_and(|a| a.ends_with("twofold-app")) && args.contains(&wanted)
        })
        .ok_or_else(|| "the app process was not found".into())
}

/// CPU ticks used so far by `root` and every process below it (WebKit's web and network processes).
fn tree_ticks(root: u32) -> u64 {
    let table: Vec<(u32, u32, u64)> = pids()
        .into_iter()
        .filter_map(|pid| proc_stat(pid).map(|(ppid, cpu, _)| (pid, ppid, cpu)))
        .collect();
    let mut inside = vec![root];
    let mut total = 0;
    let mut i = 0;
    while let Some(&pid) = inside.get(i) {
        if let Some((_, _, cpu)) = table.iter().find(|(p, _, _)| *p == pid) {
            total += cpu;
        }
        inside.extend(table.iter().filter(|(_, ppid, _)| *ppid == pid).map(|(p, _, _)| *p));
        i += 1;
    }
    total
}

async fn ticks_per_second() -> TestResult<u64> {
    let out = tokio::process::Command::new("getconf").arg("CLK_TCK").output().await?;
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}

/// Unix time in ms when process `pid` started.
fn started_at_ms(pid: u32, ticks: u64) -> TestResult<f64> {
    let (_, _, start) = proc_stat(pid).ok_or("cannot read the app's start time")?;
    let stat = std::fs::read_to_string("/proc/stat")?;
    let boot: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .ok_or("no btime in /proc/stat")?
        .trim()
        .parse()?;
    Ok((boot as f64 + start as f64 / ticks as f64) * 1000.0)
}

async fn session<T>(dir: &Path, run: impl AsyncFnOnce(&Client) -> TestResult<T>) -> TestResult<T> {
    let client = start_app(dir).await?;
    let outcome = run(&client).await;
    client.close().await?;
    outcome
}

#[tokio::main]
async fn main() -> TestResult {
    let chosen: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wanted = |name: &str| chosen.is_empty() || chosen.iter().any(|c| c == name);
    println!("app: {}", env("TWOFOLD_APP_BIN")?);
    if wanted("cold") {
        cold_start_to_first_code().await?;
    }
    if wanted("filter") {
        filter_time_over_1000_accounts().await?;
    }
    if wanted("idle") {
        idle_cpu_with_100_accounts().await?;
    }
    if wanted("icons") {
        two_hundred_accounts_with_icons(ticks_per_second().await?).await?;
    }
    Ok(())
}

async fn cold_start_to_first_code() -> TestResult {
    let ticks = ticks_per_second().await?;
    // Cold start: from the app process starting to the first codes in the page; three starts.
    let small = TestVault::new()?;
    fill(&small, 20)?;
    for run in 1..=3 {
        let requested = Instant::now();
        let (process_ms, session_ms) = session(small.dir.path(), async |client| {
            client.wait().at_most(APPEAR).for_element(Locator::Css("button.account .code")).await?;
            let shown = script(client, FIRST_CODE).await?;
            let shown = shown.as_f64().ok_or("no first-code mark")?;
            let started = started_at_ms(app_pid(small.dir.path())?, ticks)?;
            Ok((shown - started, requested.elapsed()))
        })
        .await?;
        println!(
            "cold start {run}, 20 accounts: process start -> first code {process_ms:.0} ms \
             (WebDriver session request -> code found {:.0} ms)",
            session_ms.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

async fn filter_time_over_1000_accounts() -> TestResult {
    // Filter time over 1 000 accounts.
    let big = TestVault::new()?;
    let start = Instant::now();
    fill(&big, 1000)?;
    println!("(1 000 accounts added in {:.1} s)", start.elapsed().as_secs_f64());
    let accounts = big.vault.accounts()?;
    let start = Instant::now();
    let rounds = 100;
    for _ in 0..rounds {
        let found =
            accounts.iter().filter(|a| twofold_core::account::matches(a, "issuer57")).count();
        ensure!(found == 11, "core matched {found}");
    }
    println!(
        "core account::matches over 1 000 accounts: {:.3} ms per query",
        start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds)
    );
    session(big.dir.path(), async |client| {
        let last = "button.account[data-account-id]";
        client.wait().at_most(Duration::from_secs(120)).for_element(Locator::Css(last)).await?;
        let count =
            || script(client, "return document.querySelectorAll('#accounts > li.row').length;");
        let started = Instant::now();
        while count().await?.as_u64() != Some(1000) {
            ensure!(started.elapsed() < Duration::from_secs(120), "1 000 rows never showed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let visible = "return document.querySelectorAll('#accounts > li.row:not([hidden])').length;";
        // Queries matching 11, 1, 0 and all rows, then back to everything, five times each.
        let queries = [("issuer57", 11), ("user573@", 1), ("nothing", 0), ("example", 1000), ("", 1000)];
        let mut all = Vec::new();
        let mut ipc = Vec::new();
        for (query, expected) in queries {
            let mut times = Vec::new();
            for _ in 0..5 {
                let took = client.execute_async(FILTER, vec![json!(query)]).await?;
                times.push(took[0].as_f64().unwrap_or(f64::NAN));
                ipc.push(took[1].as_f64().unwrap_or(f64::NAN));
                let shown = script(client, visible).await?;
                ensure!(shown == expected, "{query:?} shows {shown} rows, not {expected}");
            }
            println!("  search {query:?} ({expected} rows shown): median {:.1} ms", median(&mut times));
            all.extend(times);
        }
        let max = all.iter().copied().fold(f64::NAN, f64::max);
        println!(
            "filter over 1 000 accounts, keystroke -> list filtered (IPC + core + DOM): median \
             {:.1} ms, max {max:.1} ms over {} searches (goal < 16 ms); IPC + core alone: median {:.1} ms",
            median(&mut all),
            all.len(),
            median(&mut ipc),
        );
        Ok(())
    })
    .await
}

async fn idle_cpu_with_100_accounts() -> TestResult {
    let ticks = ticks_per_second().await?;
    // Idle CPU with 100 accounts: the app and its WebKit processes over 20 s, once settled.
    let hundred = TestVault::new()?;
    fill(&hundred, 100)?;
    session(hundred.dir.path(), async |client| {
        client.wait().at_most(APPEAR).for_element(Locator::Css("button.account .code")).await?;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let pid = app_pid(hundred.dir.path())?;
        let before = tree_ticks(pid);
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs(20)).await;
        let used = (tree_ticks(pid) - before) as f64 / ticks as f64;
        println!(
            "idle CPU, 100 accounts, window shown: {:.1} % of one core (app + WebKit processes, {:.0} s)",
            used / start.elapsed().as_secs_f64() * 100.0,
            start.elapsed().as_secs_f64()
        );
        Ok(())
    })
    .await
}

/// Issuers with a built-in brand icon: every 16th brand of the simple-icons table.
fn brand_issuers(count: usize) -> Vec<&'static str> {
    include_str!("../crates/twofold-icons/data/simple-icons.tsv")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .step_by(16)
        .filter_map(|line| line.split('\t').nth(1))
        .take(count)
        .collect()
}

/// Each process of the tree under `root` (the app, WebKit's web and network processes) with its
/// name and proportional set size in KiB (`/proc/PID/smaps_rollup`): shared pages split between
/// the processes that map them.
fn tree_pss(root: u32) -> Vec<(u32, String, u64)> {
    let table: Vec<(u32, u32)> = pids()
        .into_iter()
        .filter_map(|pid| proc_stat(pid).map(|(ppid, _, _)| (pid, ppid)))
        .collect();
    let mut inside = vec![root];
    let mut i = 0;
    while let Some(&pid) = inside.get(i) {
        inside.extend(table.iter().filter(|(_, ppid)| *ppid == pid).map(|(p, _)| *p));
        i += 1;
    }
    inside
        .into_iter()
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            let pss = rollup.lines().find_map(|l| l.strip_prefix("Pss:"))?;
            let kib = pss.trim().trim_end_matches("kB").trim().parse().ok()?;
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            Some((pid, name.trim().to_owned(), kib))
        })
        .collect()
}

/// When every avatar on screen shows a loaded image: Unix ms, or null while some are missing.
/// (Rows off screen are not rendered in a long list, so their images load when scrolled to.)
const ALL_ICONS: &str = r##"
    const avatars = [...document.querySelectorAll("#accounts .avatar")]
      .filter((a) => a.getBoundingClientRect().top < innerHeight);
    const done = avatars.length > 0 && avatars.every((a) => {
      const i = a.querySelector("img");
      return i && i.complete && i.naturalWidth > 0;
    });
    return done ? Date.now() : null;
"##;

async fn two_hundred_accounts_with_icons(ticks: u64) -> TestResult {
    let issuers = brand_issuers(200);
    ensure!(issuers.len() == 200, "only {} brands", issuers.len());
    let vault = TestVault::new()?;
    for (i, issuer) in issuers.iter().enumerate() {
        vault.add(issuer, &format!("user{i}@example.com"), &secret(i), OtpParams::default())?;
    }
    for run in 1..=3 {
        let (first_ms, icons_ms) = session(vault.dir.path(), async |client| {
            client.wait().at_most(APPEAR).for_element(Locator::Css("button.account .code")).await?;
            let shown = script(client, FIRST_CODE).await?.as_f64().ok_or("no first-code mark")?;
            let started = started_at_ms(app_pid(vault.dir.path())?, ticks)?;
            let begun = Instant::now();
            let all = loop {
                if let Some(at) = script(client, ALL_ICONS).await?.as_f64() {
                    break at;
                }
                ensure!(begun.elapsed() < Duration::from_secs(60), "the icons never all showed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            Ok((shown - started, all - started))
        })
        .await?;
        println!(
            "cold start {run}, 200 accounts with brand icons: process start -> first code \
             {first_ms:.0} ms, -> every icon on screen shown {icons_ms:.0} ms"
        );
    }
    session(vault.dir.path(), async |client| {
        client.wait().at_most(APPEAR).for_element(Locator::Css("button.account .code")).await?;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let pid = app_pid(vault.dir.path())?;
        let before = tree_ticks(pid);
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs(20)).await;
        let used = (tree_ticks(pid) - before) as f64 / ticks as f64;
        println!(
            "idle CPU, 200 accounts with icons, window shown: {:.1} % of one core (app + WebKit, {:.0} s)",
            used / start.elapsed().as_secs_f64() * 100.0,
            start.elapsed().as_secs_f64()
        );
        let processes = tree_pss(pid);
        let total: u64 = processes.iter().map(|(_, _, kib)| kib).sum();
        for (pid, name, kib) in &processes {
            println!("  PSS {name} ({pid}): {:.1} MiB", *kib as f64 / 1024.0);
        }
        println!("memory, 200 accounts with icons: PSS {:.1} MiB (app + WebKit processes)", total as f64 / 1024.0);
        Ok(())
    })
    .await
}
