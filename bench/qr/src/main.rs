//! QR benchmark for issues 4 and 19.
//!
//! `generate OUT_DIR` writes a deterministic corpus of desktop-screenshot-like images with a
//! `manifest.json` of the exact payloads each holds; `render OUT_DIR` writes a second corpus of
//! web pages screenshotted by headless Chromium (see `browser`); `compare CORPUS_DIR` runs twofold's decoder,
//! `zbarimg` and zxing-cpp over it and prints a Markdown table (recall, exact images, false
//! payloads, decode time) per decoder and per category. `scripts/bench-qr` does both.

mod browser;
mod cases;
mod compare;
mod decoders;
mod draw;
mod generate;
mod manifest;
mod payload;
mod rng;
mod symbol;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// How to call this program.
const USAGE: &str = "usage:
  twofold-qr-bench generate OUT_DIR
  twofold-qr-bench render OUT_DIR [--chromium PROGRAM] [--limit PAGES]
  twofold-qr-bench compare CORPUS_DIR [--python PYTHON] [--twofold PROGRAM]
                                      [--only twofold,zbar,zxing] [--misses]

render screenshots web pages with headless Chromium (PROGRAM, default chromium); --limit renders
only that many pages, spread over every category, theme and device pixel ratio.
compare runs every decoder it can: twofold (`PROGRAM scan --json` for the payloads, default the
`twofold` beside this program, and in process for the time), zbarimg (Debian zbar-tools) and
zxing-cpp (PyPI zxing-cpp and pillow, imported by PYTHON, default python3). The table goes to stdout; with
--misses, every image a decoder got wrong is listed on stderr.";

/// The options of `compare`.
struct CompareOptions {
    dir: PathBuf,
    python: String,
    twofold: PathBuf,
    only: Vec<String>,
    misses: bool,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate") => {
            let [_, dir] = args.as_slice() else { bail!("{USAGE}") };
            let start = Instant::now();
            let manifest = generate::generate(dir.as_ref())?;
            eprintln!(
                "wrote {} images and {} to {dir} in {:.1} s",
                manifest.images.len(),
                manifest::FILE_NAME,
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Some("render") => {
            let Some(dir) = args.get(1) else { bail!("{USAGE}") };
            let (mut chromium, mut limit) = ("chromium", None);
            let mut rest = args[2..].iter();
            while let Some(flag) = rest.next() {
                let value = rest.next().with_context(|| format!("{flag} needs a value"))?;
                match flag.as_str() {
                    "--chromium" => chromium = value,
                    "--limit" => {
                        limit = Some(value.parse().with_context(|| format!("--limit {value}"))?);
                    }
                    other => bail!("unexpected argument {other:?}\n{USAGE}"),
                }
            }
            let start = Instant::now();
            let manifest = browser::render(dir.as_ref(), chromium.as_ref(), limit)?;
            eprintln!(
                "wrote {} images and {} to {dir} in {:.1} s",
                manifest.images.len(),
                manifest::FILE_NAME,
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Some("compare") => compare(parse_compare(&args[1..])?),
        _ => bail!("{USAGE}"),
    }
}

/// Reads `compare`'s arguments.
fn parse_compare(args: &[String]) -> Result<CompareOptions> {
    let mut options = CompareOptions {
        dir: PathBuf::new(),
        python: "python3".to_owned(),
        twofold: std::env::current_exe()
            .context("cannot find this program's path")?
            .with_file_name("twofold"),
        only: ["twofold", "zbar", "zxing"].map(str::to_owned).to_vec(),
        misses: false,
    };
    let mut dir = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--python" => options.python = args.next().context("--python needs a program")?.clone(),
            "--twofold" => {
                options.twofold = args.next().context("--twofold needs a program")?.into();
            }
            "--only" => {
                let list = args.next().context("--only needs a list of decoders")?;
                options.only = list.split(',').map(str::to_owned).collect();
            }
            "--misses" => options.misses = true,
            other if dir.is_none() && !other.starts_with('-') => dir = Some(PathBuf::from(other)),
            other => bail!("unexpected argument {other:?}\n{USAGE}"),
        }
    }
    options.dir = dir.with_context(|| format!("no corpus directory\n{USAGE}"))?;
    Ok(options)
}

/// Runs the chosen decoders over a corpus and prints the report.
fn compare(options: CompareOptions) -> Result<()> {
    let manifest = manifest::Manifest::load(&options.dir)?;
    let mut runs = Vec::new();
    for name in &options.only {
        eprintln!("decoding {} images with {name}", manifest.images.len());
        let run = match name.as_str() {
            "twofold" => decoders::twofold(&options.dir, &manifest, &options.twofold),
            "zbar" => decoders::zbarimg(&options.dir, &manifest),
            "zxing" => decoders::zxing(&options.dir, &manifest, &options.python),
            other => bail!("unknown decoder {other:?}: choose among twofold, zbar, zxing"),
        };
        match run {
            Ok(run) => runs.push(run),
            // One missing decoder should not hide the others' figures.
            Err(e) => eprintln!("skipping {name}: {e:#}"),
        }
    }
    if options.misses {
        for run in &runs {
            eprint!("{}", compare::misses(&manifest, run));
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(compare::report(&manifest, &runs).as_bytes())?;
    Ok(())
}
