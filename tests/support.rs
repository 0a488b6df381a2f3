//! What the end-to-end tests share: failing without panicking (so the WebDriver session is always
//! closed), the environment scripts/test exports, and starting the app over WebDriver.

#![allow(dead_code)] // each test file uses its own part of this module

use std::error::Error;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Fails the check with a message instead of panicking, so the session is always closed.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+).into());
        }
    };
}
pub(crate) use ensure;

/// A check's result: an error message instead of a panic.
pub type TestResult<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

/// How long the window may take to show something (the first start of a debug build is slow).
pub const APPEAR: Duration = Duration::from_secs(20);

/// A variable scripts/test exports.
pub fn env(name: &str) -> TestResult<String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set: run the tests through scripts/test").into())
}

/// The clock, in Unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Starts the app on the vault in `data_dir` through tauri-driver.
pub async fn start_app(data_dir: &Path) -> TestResult<Client> {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".to_owned(), json!("wry"));
    caps.insert(
        "tauri:options".to_owned(),
        json!({
            "application": env("TWOFOLD_APP_BIN")?,
            "args": ["--data-dir", data_dir],
        }),
    );
    Ok(ClientBuilder::native().capabilities(caps).connect(&env("TWOFOLD_WEBDRIVER_URL")?).await?)
}

/// The text content of the first element matching `css` (also of elements WebDriver calls hidden).
pub async fn content_of(client: &Client, css: &str) -> TestResult<String> {
    let element = client.find(Locator::Css(css)).await?;
    Ok(element.prop("textContent").await?.unwrap_or_default())
}
