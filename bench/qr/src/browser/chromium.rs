//! Headless Chromium taking one screenshot per page (`--screenshot`), at a window size in CSS
//! pixels and a device pixel ratio, with its own throw-away profile and no network chatter.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Longest one screenshot may take before the browser is killed.
const TIMEOUT: Duration = Duration::from_secs(90);

/// One Chromium program and the profile directory its runs share.
pub struct Chromium {
    program: PathBuf,
    profile: PathBuf,
}

impl Chromium {
    /// A browser run from `program` with a new, empty profile in `profile` (created).
    pub fn new(program: &Path, profile: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&profile)
            .with_context(|| format!("cannot create {}", profile.display()))?;
        Ok(Self { program: program.to_owned(), profile })
    }

    /// The version line the browser prints, for the report.
    pub fn version(&self) -> Result<String> {
        let output = Command::new(&self.program).arg("--version").output().with_context(|| {
            format!("cannot run {} (Debian package chromium)", self.program.display())
        })?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Renders `page` in a `width` × `height` CSS-pixel window at `dpr` and writes the PNG
    /// screenshot (`width·dpr` × `height·dpr` pixels) to `out`.
    pub fn screenshot(
        &self,
        page: &Path,
        out: &Path,
        (width, height): (u32, u32),
        dpr: f32,
    ) -> Result<()> {
        let page =
            page.canonicalize().with_context(|| format!("cannot find {}", page.display()))?;
        let _ = std::fs::remove_file(out);
        let mut child = Command::new(&self.program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--force-color-profile=srgb",
            ])
            .arg(format!("--user-data-dir={}", self.profile.display()))
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--force-device-scale-factor={dpr}"))
            .arg(format!("--screenshot={}", out.display()))
            .arg(format!("file://{}", page.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("cannot run {} (Debian package chromium)", self.program.display())
            })?;
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if start.elapsed() > TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                bail!("chromium took over {} s on {}", TIMEOUT.as_secs(), page.display());
            }
            std::thread::sleep(Duration::from_millis(25));
        };
        if !status.success() || !out.exists() {
            bail!("chromium ({status}) wrote no screenshot of {}", page.display());
        }
        Ok(())
    }
}
