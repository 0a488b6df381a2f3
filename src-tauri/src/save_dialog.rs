//! The desktop's own "Save as" dialog for exports, through the XDG desktop portal's FileChooser:
//! the dialog a person knows (GNOME's, KDE's), on Wayland and on X11 desktops that run
//! xdg-desktop-portal. Where none runs, the export dialog's path field stays the way.

use std::path::{Path, PathBuf};

use crate::error::{ApiError, ErrorCode};

/// What the export dialog says when the desktop has no save dialog to offer.
const NO_PORTAL: &str = "this desktop offers no save dialog (xdg-desktop-portal is not running): \
     type the file's path in Save as";

/// Asks where to save, starting from `suggested` (its folder and file name); `None` when the
/// person cancelled.
#[cfg(target_os = "linux")]
pub fn choose(title: &str, suggested: &Path) -> Result<Option<PathBuf>, ApiError> {
    use ashpd::desktop::ResponseError;
    use ashpd::desktop::file_chooser::SelectedFiles;

    let name = suggested.file_name().map(|name| name.to_string_lossy().into_owned());
    let folder = suggested.parent().filter(|folder| folder.is_dir());
    // ashpd is async; zbus runs on async-io here (no tokio), so a plain block_on suffices.
    let chosen = async_io::block_on(async {
        SelectedFiles::save_file()
            .title(title)
            .modal(true)
            .current_name(name.as_deref())
            .current_folder::<&Path>(folder)?
            .send()
            .await?
            .response()
    });
    match chosen {
        Ok(files) => Ok(files
            .uris()
            .first()
            .and_then(|uri| url::Url::parse(uri.as_str()).ok())
            .and_then(|uri| uri.to_file_path().ok())),
        Err(ashpd::Error::Response(ResponseError::Cancelled)) => Ok(None),
        Err(ashpd::Error::PortalNotFound(_) | ashpd::Error::Zbus(_)) => {
            Err(ApiError::new(ErrorCode::ExportFailed, NO_PORTAL))
        }
        Err(err) => Err(ApiError::new(
            ErrorCode::ExportFailed,
            format!("the save dialog failed ({err}): type the file's path in Save as"),
        )),
    }
}

/// Asks where to save: no portal off Linux yet, so the path field is the way.
#[cfg(not(target_os = "linux"))]
pub fn choose(_title: &str, _suggested: &Path) -> Result<Option<PathBuf>, ApiError> {
    Err(ApiError::new(ErrorCode::ExportFailed, NO_PORTAL))
}
