//! The decoders under comparison, each run over every image of a corpus: twofold's `qr` module in
//! this process, `zbarimg` as one process per image, and zxing-cpp through a Python script that
//! decodes every image in one process.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::manifest::Manifest;

/// What one decoder made of one image.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// Payloads found, as the decoder reported them.
    pub texts: Vec<String>,
    /// Time spent on the image, in seconds.
    pub seconds: f64,
    /// Why the decoder failed on the image, when it did (nothing found is not a failure).
    pub error: Option<String>,
}

/// One decoder's readings of a whole corpus, in manifest order.
#[derive(Debug)]
pub struct Run {
    /// Decoder name and version.
    pub decoder: String,
    /// What the times measure.
    pub timing: &'static str,
    /// One reading per manifest entry.
    pub readings: Vec<Reading>,
}

/// Twofold's decoder: the payloads are what `twofold scan --json FILE` prints (the program people
/// run), the time is the same scan in this process (file decoding included), as thread CPU time.
/// An image where the two disagree is reported as an error.
pub fn twofold(dir: &Path, manifest: &Manifest, cli: &Path) -> Result<Run> {
    let mut readings = Vec::with_capacity(manifest.images.len());
    for entry in &manifest.images {
        let path = dir.join(&entry.file);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let start = thread_cpu_seconds()?;
        let in_process = twofold_core::qr::scan_image_bytes(&bytes);
        let seconds = thread_cpu_seconds()? - start;
        let in_process: Vec<String> = match in_process {
            Ok(found) => found.into_iter().map(|f| f.text).collect(),
            Err(e) => {
                readings.push(Reading { texts: Vec::new(), seconds, error: Some(e.to_string()) });
                continue;
            }
        };
        let (texts, error) = match scan_json(cli, &path)? {
            Ok(texts) if texts == in_process => (texts, None),
            Ok(texts) => {
                let error =
                    format!("twofold scan --json printed {texts:?}, in process {in_process:?}");
                (texts, Some(error))
            }
            Err(error) => (Vec::new(), Some(error)),
        };
        readings.push(Reading { texts, seconds, error });
    }
    Ok(Run {
        decoder: format!("twofold {}", env!("CARGO_PKG_VERSION")),
        timing: TIMING_IN_PROCESS,
        readings,
    })
}

/// How the in-process decoders are timed: CPU time of the decoding thread, so that other work on
/// the machine does not show in the figures.
const TIMING_IN_PROCESS: &str = "in process, thread CPU time";

/// One payload of `twofold scan --json`.
#[derive(Deserialize)]
struct ScanJson {
    text: String,
}

/// The payloads `twofold scan --json FILE` prints, or why it failed.
fn scan_json(cli: &Path, file: &Path) -> Result<Result<Vec<String>, String>> {
    let output = Command::new(cli)
        .args(["scan", "--json"])
        .arg(file)
        .output()
        .with_context(|| format!("cannot run {}", cli.display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Ok(Err(format!("twofold scan failed ({}): {}", output.status, stderr.trim())));
    }
    let found: Vec<ScanJson> = serde_json::from_slice(&output.stdout)
        .context("twofold scan --json printed something other than its JSON")?;
    Ok(Ok(found.into_iter().map(|f| f.text).collect()))
}

/// CPU time this thread has run, in seconds (Linux: the first field of `schedstat`, nanoseconds).
fn thread_cpu_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .context("cannot read /proc/thread-self/schedstat (thread CPU time)")?;
    let nanos: u64 = stat
        .split_whitespace()
        .next()
        .and_then(|field| field.parse().ok())
        .context("unexpected /proc/thread-self/schedstat")?;
    Ok(nanos as f64 / 1e9)
}

/// `zbarimg --raw -q`, QR symbology only, one process per image, timed from spawn to exit.
pub fn zbarimg(dir: &Path, manifest: &Manifest) -> Result<Run> {
    let version = Command::new("zbarimg")
        .arg("--version")
        .output()
        .context("zbarimg is not installed (Debian package zbar-tools)")?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let mut readings = Vec::with_capacity(manifest.images.len());
    for entry in &manifest.images {
        let start = Instant::now();
        // Other symbologies off: a stray EAN match on a page is not a QR payload.
        let output = Command::new("zbarimg")
            .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
            .arg(dir.join(&entry.file))
            .output()
            .context("cannot run zbarimg")?;
        let seconds = start.elapsed().as_secs_f64();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let texts = stdout.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
        // Exit status 4 means "no symbol found".
        let error = match output.status.code() {
            Some(0 | 4) => None,
            _ => Some(format!(
                "{}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )),
        };
        readings.push(Reading { texts, seconds, error });
    }
    Ok(Run { decoder: format!("zbarimg {version}"), timing: "process wall time", readings })
}

/// The JSON `zxing_decode.py` prints.
#[derive(Deserialize)]
struct ZxingOutput {
    version: String,
    images: Vec<ZxingImage>,
}

/// One image in `zxing_decode.py`'s output.
#[derive(Deserialize)]
struct ZxingImage {
    file: String,
    texts: Vec<String>,
    seconds: f64,
    error: Option<String>,
}

/// zxing-cpp (PyPI `zxing-cpp`) through `zxing_decode.py`, run by `python`.
pub fn zxing(dir: &Path, manifest: &Manifest, python: &str) -> Result<Run> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("zxing_decode.py");
    let output = Command::new(python)
        .arg(&script)
        .arg(dir)
        .output()
        .with_context(|| format!("cannot run {python}"))?;
    if !output.status.success() {
        bail!(
            "{} failed ({}): {}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let parsed: ZxingOutput = serde_json::from_slice(&output.stdout)
        .context("zxing_decode.py printed something other than its JSON")?;
    let readings = manifest
        .images
        .iter()
        .map(|entry| {
            parsed
                .images
                .iter()
                .find(|image| image.file == entry.file)
                .map(|image| Reading {
                    texts: image.texts.clone(),
                    seconds: image.seconds,
                    error: image.error.clone(),
                })
                .with_context(|| format!("zxing_decode.py said nothing about {}", entry.file))
        })
        .collect::<Result<_>>()?;
    Ok(Run {
        decoder: format!("zxing-cpp {}", parsed.version),
        timing: TIMING_IN_PROCESS,
        readings,
    })
}
