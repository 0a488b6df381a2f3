//! `twofold device ...`: the trusted device in the terminal, over twofold-device with the app's
//! directory (`<data dir>/device`) and the vault's keystore for the device keys (the keyring, or
//! the secrets file after `twofold keystore move file`), so a pairing made here is the app's too.
//! Everything a request means (verification, choices, decisions) is twofold-device's; this file
//! prints and reads answers.

use std::collections::VecDeque;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use tokio::sync::mpsc;
use twofold_core::backup::auto::utc_text;
use twofold_core::keystore::{KeystoreKind, OsKeystore, VaultKeystore};
use twofold_device::connection::{WithdrawReason, Withdrawal};
use twofold_device::{
    DIR_IN_DATA, DecideError, Device, Outcome, RequestView, ServerSummary, Supervisor, Update,
};
use twofold_protocol::{Answer, Mode};

use crate::RequestFailed;
use crate::passphrase::Source;

/// The longest wait for the server to answer a pairing or a decision: the client library has no
/// limit of its own, and a terminal must never hang on a dead network.
const NETWORK_WAIT: Duration = Duration::from_secs(30);

/// The `device` subcommands.
#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Pair with a Twofold server through its pairing link (twofold+pair://...).
    ///
    /// Shows the server, the service and the server key's fingerprint first: compare it with the
    /// one the service shows, then confirm (or pass --yes).
    Pair {
        /// The pairing link the service showed.
        link: String,
        /// The name the service lists this device as.
        #[arg(long, default_value = "Twofold in a terminal")]
        name: String,
        /// Pair without asking for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// List the paired servers (the app's too).
    List {
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Show sign-in requests as they come and answer them: Allow, Don't Allow or This wasn't me,
    /// and in number mode the number the sign-in page shows (1-3 of the offered ones).
    ///
    /// Answers are read one line each from stdin, a terminal or a pipe; Ctrl-C or the end of
    /// stdin stops watching.
    Watch,
}

/// Runs one `device` subcommand over the vault directory `dir`.
pub fn run(
    command: DeviceCommand,
    dir: &Path,
    source: &Source,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    match command {
        DeviceCommand::Pair { link, name, yes } => pair(dir, source, &link, &name, yes, out),
        DeviceCommand::List { json } => list(dir, json, out),
        DeviceCommand::Watch => watch(dir, source, out),
    }
}

/// The device over the vault's keystore (asking for the secrets file's passphrase if needed).
fn open(dir: &Path, source: &Source) -> anyhow::Result<Device<VaultKeystore>> {
    let vault = crate::keystore::open(dir, source)?;
    let device = Device::open(dir.join(DIR_IN_DATA), vault.keystore().device_keys())?;
    if vault.keystore().kind() == KeystoreKind::File {
        twofold_device::vault_keys::take_in_keyring_keys(&device);
    }
    Ok(device)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the network runtime")
}

fn pair(
    dir: &Path,
    source: &Source,
    link: &str,
    name: &str,
    yes: bool,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let preview = twofold_device::pairing::preview(link)
        .map_err(|e| RequestFailed(format!("this is not a pairing link: {e}")))?;
    writeln!(out, "Server:      {}", preview.server_url)?;
    writeln!(out, "Service:     {}", preview.service.as_deref().unwrap_or("(not named)"))?;
    writeln!(out, "Server key:  {}", preview.fingerprint)?;
    out.flush()?;
    if !yes {
        if !io::stdin().is_terminal() {
            bail!(RequestFailed(
                "not a terminal: compare the server key with the one the service shows, then pass \
                 --yes to pair without asking"
                    .into()
            ));
        }
        eprint!("Is this the server key the service shows? Pair with it? [y/N] ");
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            bail!(RequestFailed("not paired".into()));
        }
    }
    let device = open(dir, source)?;
    let runtime = runtime()?;
    let record = runtime
        .block_on(async { tokio::time::timeout(NETWORK_WAIT, device.pair(link, name)).await })
        .map_err(|_| {
            RequestFailed(format!(
                "the server did not answer within {} s: nothing was paired",
                NETWORK_WAIT.as_secs()
            ))
        })??;
    let shown = ServerSummary::from(&record);
    writeln!(
        out,
        "Paired with {} as {} at {}: `twofold device watch` answers its sign-ins",
        shown.service, shown.user, shown.server_url
    )?;
    Ok(ExitCode::SUCCESS)
}

fn list(dir: &Path, json: bool, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    // Listing reads no key: the keyring stands in for whichever keystore holds them, so a secrets
    // file's passphrase is not asked for.
    let device = Device::open(dir.join(DIR_IN_DATA), OsKeystore::device_keys())?;
    let servers: Vec<ServerSummary> = device.servers()?.iter().map(ServerSummary::from).collect();
    if json {
        serde_json::to_writer_pretty(&mut *out, &servers)?;
        writeln!(out)?;
    } else if servers.is_empty() {
        writeln!(out, "No paired server: pair one with twofold device pair LINK")?;
    } else {
        for s in &servers {
            writeln!(out, "{} for {}  {}", s.service, s.user, s.server_url)?;
            writeln!(out, "    key {}  paired {}", s.fingerprint, utc_text(s.paired_at))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a line of input asks for the request being asked about.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    /// Send this answer (with the number picked, in number mode).
    Answer(Answer, Option<u32>),
    /// Not an answer: say this and ask again.
    Again(&'static str),
}

/// Reads `line` as an answer to `view`. In number mode the number is picked by its place (1-3)
/// or typed as shown; only the signed choices can be picked.
fn reply(view: &RequestView, line: &str) -> Reply {
    let line = line.trim().to_lowercase();
    match line.as_str() {
        "d" | "n" | "no" | "deny" | "don't allow" | "dont allow" => {
            return Reply::Answer(Answer::Deny, None);
        }
        "r" | "report" | "this wasn't me" | "this wasnt me" => {
            return Reply::Answer(Answer::Report, None);
        }
        _ => {}
    }
    if view.mode == Mode::Number {
        let picked = line.parse::<usize>().ok().and_then(|n| {
            let typed = u32::try_from(n).ok().filter(|n| view.choices.contains(n));
            typed.or_else(|| n.checked_sub(1).and_then(|i| view.choices.get(i).copied()))
        });
        return match picked {
            Some(number) => Reply::Answer(Answer::Allow, Some(number)),
            None => Reply::Again("pick the number the sign-in page shows: 1, 2 or 3"),
        };
    }
    match line.as_str() {
        "a" | "y" | "yes" | "allow" => Reply::Answer(Answer::Allow, None),
        _ => Reply::Again("answer a (Allow), d (Don't Allow) or r (This wasn't me)"),
    }
}

fn now() -> u64 {
    crate::now()
}

/// "1 min 5 s", "40 s", "expired".
fn time_left(expires_at: u64) -> String {
    match expires_at.saturating_sub(now()) {
        0 => "expired".into(),
        s if s < 60 => format!("{s} s"),
        s => format!("{} min {} s", s / 60, s % 60),
    }
}

/// The request, as a few lines of text (its names are neutralised by the view).
fn show(view: &RequestView, out: &mut impl Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "Sign-in request: {} as {}", view.service, view.user)?;
    writeln!(out, "  Place:    {} ({})", view.location.text, view.ip)?;
    if !view.device.is_empty() {
        writeln!(out, "  Device:   {}", view.device)?;
    }
    if let Some(context) = &view.context {
        writeln!(out, "  For:      {context}")?;
    }
    writeln!(out, "  Expires:  in {}", time_left(view.expires_at))?;
    if view.mode == Mode::Number {
        let choices: Vec<String> =
            view.choices.iter().enumerate().map(|(i, n)| format!("[{}] {n}", i + 1)).collect();
        writeln!(out, "  Choose the number the sign-in page shows: {}", choices.join("  "))?;
    }
    Ok(())
}

fn prompt(view: &RequestView, out: &mut impl Write) -> io::Result<()> {
    if view.mode == Mode::Number {
        write!(out, "Number 1-3, d (Don't Allow) or r (This wasn't me)? ")?;
    } else {
        write!(out, "a (Allow), d (Don't Allow) or r (This wasn't me)? ")?;
    }
    out.flush()
}

fn outcome_text(outcome: &Outcome) -> &'static str {
    match outcome.status {
        twofold_device::approval::Decided::Allowed => "Allowed",
        twofold_device::approval::Decided::Denied => "Denied",
        twofold_device::approval::Decided::Reported => {
            "Denied and reported: the service blocks where it came from"
        }
    }
}

/// Lines of stdin, read on a thread of their own (reading blocks); the channel closes at its end.
fn input_lines() -> mpsc::UnboundedReceiver<String> {
    let (send, receive) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// The watch: requests in arrival order, the first one asked about.
struct Watch<'a, W: Write> {
    device: Arc<Device<VaultKeystore>>,
    waiting: VecDeque<RequestView>,
    /// Lines read from a pipe before a request came: answers for the next requests, in order.
    early: VecDeque<String>,
    terminal: bool,
    out: &'a mut W,
}

impl<W: Write> Watch<'_, W> {
    fn arrived(&mut self, view: RequestView) -> io::Result<()> {
        if self.waiting.iter().any(|w| (w.server, w.id) == (view.server, view.id)) {
            return Ok(());
        }
        if self.waiting.is_empty() {
            show(&view, self.out)?;
            prompt(&view, self.out)?;
        } else {
            writeln!(self.out)?;
            writeln!(self.out, "Waiting next: {} as {}", view.service, view.user)?;
            self.out.flush()?;
        }
        self.waiting.push_back(view);
        Ok(())
    }

    /// The request asked about is done: ask about the next one.
    fn next(&mut self) -> io::Result<()> {
        self.waiting.pop_front();
        if let Some(view) = self.waiting.front() {
            show(view, self.out)?;
            prompt(view, self.out)?;
        }
        Ok(())
    }

    fn withdrawn(&mut self, gone: &Withdrawal) -> io::Result<()> {
        let Some(at) =
            self.waiting.iter().position(|w| (w.server, w.id) == (gone.server, gone.request))
        else {
            return Ok(());
        };
        let why = match gone.reason {
            WithdrawReason::Answered => "was answered on another device",
            WithdrawReason::Expired => "expired",
        };
        let view = &self.waiting[at];
        writeln!(self.out)?;
        writeln!(self.out, "The request of {} as {} {why}.", view.service, view.user)?;
        if at == 0 {
            self.next()
        } else {
            self.waiting.remove(at);
            self.out.flush()
        }
    }

    async fn line(&mut self, line: String) -> io::Result<()> {
        if line.trim().is_empty() {
            if let Some(view) = self.waiting.front() {
                prompt(view, self.out)?;
            }
            return Ok(());
        }
        let Some(view) = self.waiting.front().cloned() else {
            if self.terminal {
                writeln!(self.out, "No request is waiting.")?;
            } else {
                self.early.push_back(line);
            }
            return self.out.flush();
        };
        let (answer, number) = match reply(&view, &line) {
            Reply::Answer(answer, number) => (answer, number),
            Reply::Again(why) => {
                writeln!(self.out, "Not an answer: {why}.")?;
                return prompt(&view, self.out);
            }
        };
        let decided = tokio::time::timeout(
            NETWORK_WAIT,
            self.device.decide(view.server, view.id, answer, number),
        )
        .await;
        match decided {
            Ok(Ok(outcome)) => {
                writeln!(self.out, "{}.", outcome_text(&outcome))?;
                if let Some(code) = &outcome.code {
                    writeln!(self.out, "Type this code where you are signing in: {code}")?;
                }
                self.next()
            }
            // Still on screen: the same request can be answered again.
            Ok(Err(
                error @ (DecideError::Unreachable
                | DecideError::Refused(_)
                | DecideError::NotAChoice(_)
                | DecideError::NumberNeeded),
            )) => {
                writeln!(self.out, "Not answered: {error}.")?;
                prompt(&view, self.out)
            }
            Ok(Err(error)) => {
                writeln!(self.out, "Not answered: {error}.")?;
                self.next()
            }
            Err(_) => {
                writeln!(
                    self.out,
                    "Not answered: the server did not reply within {} s; try again.",
                    NETWORK_WAIT.as_secs()
                )?;
                prompt(&view, self.out)
            }
        }
    }
}

fn watch(dir: &Path, source: &Source, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let device = Arc::new(open(dir, source)?);
    let count = device.servers()?.len();
    if count == 0 {
        bail!(RequestFailed(
            "no paired server: pair one first with twofold device pair LINK".into()
        ));
    }
    let runtime = runtime()?;
    let (supervisor, mut updates) =
        Supervisor::start(Arc::clone(&device), runtime.handle().clone())?;
    let terminal = io::stdin().is_terminal();
    let mut lines = input_lines();
    writeln!(
        out,
        "Watching {count} paired server{} for sign-in requests (Ctrl-C to stop)",
        if count == 1 { "" } else { "s" }
    )?;
    out.flush()?;
    let mut watch =
        Watch { device, waiting: VecDeque::new(), early: VecDeque::new(), terminal, out };
    let mut input_open = true;
    let mut revoked = std::collections::HashSet::new();
    let ended = runtime.block_on(async {
        let stop = tokio::signal::ctrl_c();
        tokio::pin!(stop);
        loop {
            // Answers piped in early go to the requests as they come.
            if !watch.waiting.is_empty()
                && let Some(line) = watch.early.pop_front()
            {
                watch.line(line).await?;
                continue;
            }
            // A pipe that ended stops the watch once its answers are used up.
            if !input_open && watch.early.is_empty() {
                writeln!(watch.out, "\nInput ended: stopped watching.")?;
                return Ok::<_, anyhow::Error>(());
            }
            tokio::select! {
                _ = &mut stop => {
                    writeln!(watch.out, "\nStopped watching.")?;
                    return Ok(());
                }
                update = updates.recv() => match update {
                    Some(Update::Request(view)) => watch.arrived(*view)?,
                    Some(Update::Withdrawn(gone)) => watch.withdrawn(&gone)?,
                    Some(Update::ServersChanged(servers)) => {
                        // One revoked server leaves the others to answer; with all of
                        // them revoked there is nothing left to watch.
                        for server in servers.iter().filter(|s| s.state == "revoked") {
                            if revoked.insert(server.pairing.id) {
                                writeln!(
                                    watch.out,
                                    "\n{} revoked this device: pair it again",
                                    server.pairing.service
                                )?;
                                watch.out.flush()?;
                            }
                        }
                        if !servers.is_empty() && revoked.len() >= servers.len() {
                            bail!(RequestFailed(
                                "every paired server revoked this device: pair it again".into()
                            ));
                        }
                    }
                    None => bail!("the connections stopped"),
                },
                line = lines.recv(), if input_open => match line {
                    Some(line) => watch.line(line).await?,
                    None => input_open = false,
                },
            }
        }
    });
    supervisor.stop();
    drop(supervisor);
    // The stdin thread may be blocked in a read: it ends with the process.
    runtime.shutdown_timeout(Duration::from_secs(1));
    ended?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(mode: Mode, choices: Vec<u32>) -> RequestView {
        serde_json::from_value(serde_json::json!({
            "server": uuid::Uuid::nil(), "id": uuid::Uuid::nil(), "service": "S", "user": "u",
            "mode": mode, "choices": choices,
            "location": {"text": "private network", "lat": null, "lon": null},
            "ip": "127.0.0.1", "device": "", "context": null, "created_at": 0, "expires_at": 0,
            "attribution": null,
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn answers_are_read_as_the_mode_allows() {
        let push = view(Mode::Push, vec![]);
        assert_eq!(reply(&push, " A\n"), Reply::Answer(Answer::Allow, None));
        assert_eq!(reply(&push, "d"), Reply::Answer(Answer::Deny, None));
        assert_eq!(reply(&push, "This wasn't me"), Reply::Answer(Answer::Report, None));
        assert!(matches!(reply(&push, "1"), Reply::Again(_)));
        let number = view(Mode::Number, vec![23, 71, 48]);
        assert_eq!(reply(&number, "2"), Reply::Answer(Answer::Allow, Some(71)));
        assert_eq!(reply(&number, "48"), Reply::Answer(Answer::Allow, Some(48)));
        assert!(matches!(reply(&number, "4"), Reply::Again(_)));
        assert!(matches!(reply(&number, "24"), Reply::Again(_)));
        assert!(matches!(reply(&number, "a"), Reply::Again(_)));
        assert_eq!(reply(&number, "r"), Reply::Answer(Answer::Report, None));
    }
}
