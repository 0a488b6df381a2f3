//! Where Twofold's images come from on a desktop: every screen and the clipboard, as raw RGBA
//! pixels held in memory only. Reading QR codes in them is twofold-core's job (`qr::scan_rgba`).
//!
//! The screen is read through `xcap` on X11 (and on macOS and Windows), and through the XDG
//! desktop portal's Screenshot interface (`ashpd`) in a Wayland session, where a program may not
//! read the screen itself. The clipboard is read through `arboard`.

use std::fmt;

use zeroize::Zeroizing;

/// One image: a screen or the clipboard's picture, 8-bit RGBA, rows top to bottom, no padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Capture {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width × height × 4` bytes.
    pub rgba: Vec<u8>,
}

impl fmt::Debug for Capture {
    /// The pixels may show codes and secrets on screen: only the size is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bytes", &self.rgba.len())
            .finish_non_exhaustive()
    }
}

/// Why the screen or the clipboard could not be read. An empty clipboard is not an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The screen could not be captured.
    #[error("cannot capture the screen: {reason}")]
    Screen {
        /// What went wrong, in words.
        reason: String,
    },
    /// The person dismissed the desktop's screenshot dialog.
    #[error("cannot capture the screen: the screenshot was cancelled")]
    Cancelled,
    /// The clipboard could not be read.
    #[error("cannot read the clipboard: {reason}")]
    Clipboard {
        /// What went wrong, in words.
        reason: String,
    },
}

impl CaptureError {
    fn screen(reason: impl fmt::Display) -> Self {
        Self::Screen { reason: reason.to_string() }
    }

    fn clipboard(reason: impl fmt::Display) -> Self {
        Self::Clipboard { reason: reason.to_string() }
    }
}

/// Every monitor's picture: one capture per monitor through X11; in a Wayland session, the one
/// picture of the whole desktop the screenshot portal gives.
pub fn screens() -> Result<Vec<Capture>, CaptureError> {
    #[cfg(target_os = "linux")]
    if wayland_session(
        std::env::var("WAYLAND_DISPLAY").ok().as_deref(),
        std::env::var("XDG_SESSION_TYPE").ok().as_deref(),
    ) {
        return portal::screenshot().map(|capture| vec![capture]);
    }
    monitors()
}

/// Each monitor through xcap (X11, macOS, Windows).
fn monitors() -> Result<Vec<Capture>, CaptureError> {
    let monitors = xcap::Monitor::all().map_err(CaptureError::screen)?;
    if monitors.is_empty() {
        return Err(CaptureError::screen("no monitor was found"));
    }
    monitors
        .iter()
        .map(|monitor| {
            let image = monitor.capture_image().map_err(CaptureError::screen)?;
            Ok(Capture { width: image.width(), height: image.height(), rgba: image.into_raw() })
        })
        .collect()
}

/// Is this a Wayland session? Judged the way desktops announce it: a Wayland display socket, or
/// the session type the login manager sets.
#[cfg(target_os = "linux")]
fn wayland_session(wayland_display: Option<&str>, session_type: Option<&str>) -> bool {
    wayland_display.is_some_and(|display| !display.is_empty())
        || session_type.is_some_and(|kind| kind.eq_ignore_ascii_case("wayland"))
}

/// The XDG desktop portal's Screenshot request, driven to completion on this thread.
#[cfg(target_os = "linux")]
mod portal {
    use ashpd::desktop::ResponseError;
    use ashpd::desktop::screenshot::Screenshot;

    use super::{Capture, CaptureError};

    /// Asks the portal for a non-interactive screenshot, reads the file it wrote and removes it.
    pub(super) fn screenshot() -> Result<Capture, CaptureError> {
        // ashpd is async; zbus runs on async-io here (no tokio), so a plain block_on suffices.
        let response = async_io::block_on(async {
            Screenshot::request().interactive(false).modal(false).send().await?.response()
        })
        .map_err(|error| match error {
            ashpd::Error::Response(ResponseError::Cancelled) => CaptureError::Cancelled,
            ashpd::Error::PortalNotFound(_) | ashpd::Error::Zbus(_) => CaptureError::screen(
                "the desktop's screenshot portal (xdg-desktop-portal) is not available",
            ),
            other => CaptureError::screen(other),
        })?;
        let path = url::Url::parse(response.uri().as_str())
            .ok()
            .and_then(|uri| uri.to_file_path().ok())
            .ok_or_else(|| CaptureError::screen("the screenshot portal gave no local file"))?;
        let bytes = std::fs::read(&path);
        // The portal wrote this file only for us; a capture is not left on disk.
        let _ = std::fs::remove_file(&path);
        let bytes = bytes.map_err(|error| {
            CaptureError::screen(format!("cannot read the portal's screenshot: {error}"))
        })?;
        let image = image::load_from_memory(&bytes).map_err(|error| {
            CaptureError::screen(format!("cannot read the portal's screenshot: {error}"))
        })?;
        let image = image.into_rgba8();
        Ok(Capture { width: image.width(), height: image.height(), rgba: image.into_raw() })
    }
}

/// What to tell a person whose clipboard holds no image.
pub const NO_CLIPBOARD_IMAGE: &str = "the clipboard holds no image: copy the QR code's picture (or \
     take a screenshot of it to the clipboard) and paste again";

/// What the clipboard holds, as far as Twofold reads it.
pub enum ClipboardContent {
    /// A picture (a copied QR code, a screenshot).
    Image(Capture),
    /// Text (an `otpauth://` link, perhaps): zeroized when dropped, as it may hold a secret.
    Text(Zeroizing<String>),
    /// Neither.
    Empty,
}

impl fmt::Debug for ClipboardContent {
    /// The text may be a link with a secret: only its length is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Image(image) => f.debug_tuple("Image").field(image).finish(),
            Self::Text(text) => write!(f, "Text({} bytes)", text.len()),
            Self::Empty => f.write_str("Empty"),
        }
    }
}

/// The image on the clipboard, or `None` when it holds no image (text, or nothing).
pub fn clipboard_image() -> Result<Option<Capture>, CaptureError> {
    match clipboard_content()? {
        ClipboardContent::Image(image) => Ok(Some(image)),
        ClipboardContent::Text(_) | ClipboardContent::Empty => Ok(None),
    }
}

/// The clipboard's image if it holds one, else its text.
pub fn clipboard_content() -> Result<ClipboardContent, CaptureError> {
    let mut clipboard = arboard::Clipboard::new().map_err(CaptureError::clipboard)?;
    let not_image = match clipboard.get_image() {
        Ok(image) => return capture_of(image).map(ClipboardContent::Image),
        Err(error) => error,
    };
    // A clipboard of text answers the request for a PNG with nothing, or (some owners on X11)
    // with text, which arboard calls "incorrect type received from clipboard": read the text.
    match clipboard.get_text() {
        Ok(text) => Ok(ClipboardContent::Text(Zeroizing::new(text))),
        // No text either: an image that arrived but cannot be decoded is worth saying.
        Err(arboard::Error::ContentNotAvailable) => match not_image {
            arboard::Error::ConversionFailure => Err(CaptureError::clipboard(not_image)),
            _ => Ok(ClipboardContent::Empty),
        },
        Err(error) => Err(CaptureError::clipboard(error)),
    }
}

fn capture_of(image: arboard::ImageData<'_>) -> Result<Capture, CaptureError> {
    let (Ok(width), Ok(height)) = (u32::try_from(image.width), u32::try_from(image.height)) else {
        return Err(CaptureError::clipboard("the image is too large"));
    };
    let rgba = image.bytes.into_owned();
    if rgba.len() as u64 != u64::from(width) * u64::from(height) * 4 {
        return Err(CaptureError::clipboard("the image's pixels do not match its size"));
    }
    Ok(Capture { width, height, rgba })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_size_not_the_pixels() {
        let capture =
            Capture { width: 2, height: 1, rgba: vec![17, 34, 51, 255, 68, 85, 102, 255] };
        let shown = format!("{capture:?}");
        assert!(shown.contains("width: 2") && shown.contains("bytes: 8"), "{shown}");
        assert!(!shown.contains("17") && !shown.contains("102"), "{shown}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn wayland_is_chosen_by_display_socket_or_session_type() {
        assert!(wayland_session(Some("wayland-0"), None));
        assert!(wayland_session(None, Some("wayland")));
        assert!(wayland_session(Some("wayland-1"), Some("x11")));
        assert!(!wayland_session(None, Some("x11")));
        assert!(!wayland_session(Some(""), Some("tty")));
        assert!(!wayland_session(None, None));
    }
}
