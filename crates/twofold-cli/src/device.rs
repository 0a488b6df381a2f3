//! `twofold device ...`: the trusted device in the terminal, over twofold-device with the same
//! directory (`<data dir>/device`) and keyring entries as the app, so a pairing made here shows
//! in the app and the other way round.

use std::io::{self, BufRead, Write};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use twofold_core::keystore::OsKeystore;
use twofold_device::{DecideError, Device, RequestView, Supervisor, Update};
use twofold_protocol::{Answer, Mode};

/// The data directory's subdirectory of the trusted device: the app's.
const DEVICE_DIR: &str = "device";

/// `twofold device ...`.
#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Pair with a Twofold server through its pairing link (twofold+pair://...).
    Pair {
        /// The pairing link the service showed.
        link: String,
        /// The name the server shows for this device.
        #[arg(long, default_value = "Twofold in a terminal")]
        name: String,
    },
    /// List the paired servers.
    List {
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Show sign-in requests as they come and answer them: Allow, Don't Allow, or Report.
    Watch,
}

/// The device the app uses.
fn open() -> anyhow::Result<Device<OsKeystore>> {
    let dir = twofold_core::vault::default_dir()?.join(DEVICE_DIR);
    Device::open(&dir, OsKeystore::device_keys())
        .with_context(|| format!("opening the trusted device in {}", dir.display()))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the network runtime")
}

/// Runs `command`, printing to `out`.
pub fn run(command: DeviceCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match command {
        DeviceCommand::Pair { link, name } => {
            let preview = twofold_device::pairing::preview(&link)?;
            let device = open()?;
            let record = runtime()?.block_on(device.pair(&link, &name))?;
            writeln!(
                out,
                "Paired with {} at {} as {} (server key {}).",
                record.service, record.server_url, record.user, preview.fingerprint
            )?;
        }
        DeviceCommand::List { json } => {
            let device = open()?;
            let servers = device.servers()?;
            if json {
                serde_json::to_writer_pretty(&mut *out, &servers)?;
                writeln!(out)?;
            } else if servers.is_empty() {
                writeln!(out, "No paired server: twofold device pair LINK")?;
            } else {
                for server in servers {
                    let fingerprint = server.server_key.fingerprint();
                    writeln!(
                        out,
                        "{}  {} as {}  {}  key {fingerprint}",
                        server.id, server.service, server.user, server.server_url
                    )?;
                }
            }
        }
        DeviceCommand::Watch => watch(out)?,
    }
    Ok(())
}

/// Keeps the connections open and asks about each request on standard input.
fn watch(out: &mut impl Write) -> anyhow::Result<()> {
    let runtime = runtime()?;
    let device = Arc::new(open()?);
    if device.servers()?.is_empty() {
        bail!("no paired server: pair one first with twofold device pair LINK");
    }
    let (supervisor, mut updates) =
        Supervisor::start(Arc::clone(&device), runtime.handle().clone())?;
    writeln!(out, "Waiting for sign-in requests (Ctrl-C to stop)...")?;
    out.flush()?;
    let mut input = io::stdin().lock();
    while let Some(update) = runtime.block_on(updates.recv()) {
        let Update::Request(view) = update else { continue };
        show(&view, out)?;
        let (answer, number) = match ask(&view, &mut input, out)? {
            Some(choice) => choice,
            None => break,
        };
        match runtime.block_on(device.decide(view.id, answer, number)) {
            Ok(outcome) => {
                writeln!(out, "Answered: {}.", answer.as_str())?;
                if let Some(code) = outcome.code {
                    writeln!(out, "Type this code where you are signing in: {code}")?;
                }
            }
            Err(DecideError::NotShown) => writeln!(out, "That request is gone.")?,
            Err(error) => writeln!(out, "Not answered: {error}")?,
        }
        out.flush()?;
    }
    supervisor.stop();
    Ok(())
}

/// One request, as a few lines of text.
fn show(view: &RequestView, out: &mut impl Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "Sign-in to {} as {}", view.service, view.user)?;
    writeln!(out, "  from {} ({})", view.ip, view.location.text)?;
    if !view.device.is_empty() {
        writeln!(out, "  on {}", view.device)?;
    }
    Ok(())
}

/// Asks for the answer (and the number in number mode); `None` when input ended.
fn ask(
    view: &RequestView,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> anyhow::Result<Option<(Answer, Option<u32>)>> {
    loop {
        write!(out, "[a]llow, [d]on't allow, [r]eport (this wasn't me)? ")?;
        out.flush()?;
        let Some(line) = read_line(input)? else { return Ok(None) };
        let answer = match line.trim().to_ascii_lowercase().as_str() {
            "a" | "allow" => Answer::Allow,
            "d" | "deny" | "don't allow" => Answer::Deny,
            "r" | "report" => Answer::Report,
            _ => continue,
        };
        if answer != Answer::Allow || view.mode != Mode::Number {
            return Ok(Some((answer, None)));
        }
        write!(out, "The number shown where you are signing in: ")?;
        out.flush()?;
        let Some(line) = read_line(input)? else { return Ok(None) };
        match line.trim().parse() {
            Ok(number) => return Ok(Some((answer, Some(number)))),
            Err(_) => writeln!(out, "That is not a number.")?,
        }
    }
}

fn read_line(input: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = String::new();
    Ok((input.read_line(&mut line)? > 0).then_some(line))
}
