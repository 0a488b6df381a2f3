//! The one error type the UI receives: `{code, message}`, with a closed set of codes mirrored in
//! `ui/errors.js`.

use serde::Serialize;
use twofold_core::backup::BackupError;
use twofold_core::export::ExportError;
use twofold_core::import::ImportError;
use twofold_core::keystore::KeystoreError;
use twofold_core::lock::LockError;
use twofold_core::otp::OtpError;
use twofold_core::qr::QrError;
use twofold_core::vault::VaultError;

/// What kind of failure the UI is looking at; it picks a short label by this, never by the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The account exists but its secret is not in the keyring.
    SecretMissing,
    /// The keyring cannot be reached or is locked.
    KeyringUnavailable,
    /// The keyring answered with an error, or holds a damaged entry.
    KeyringFailed,
    /// The account list cannot be read or written.
    Storage,
    /// No account has the id asked for (removed meanwhile).
    NotFound,
    /// The account's parameters cannot make codes, or the add form is not filled in right.
    InvalidAccount,
    /// The same account (issuer, name and secret) is already in Twofold.
    Duplicate,
    /// The code could not be put on the clipboard, or a pasted image could not be read from it.
    Clipboard,
    /// The image cannot be read (not an image, damaged, too large).
    ImageUnreadable,
    /// The image holds no QR code.
    NoQrCode,
    /// The screen could not be captured (or the person cancelled the desktop's screenshot dialog).
    ScreenCapture,
    /// The scan whose accounts were chosen is no longer open (replaced or already added).
    ScanClosed,
    /// The window is locked: nothing about accounts is answered until it is unlocked.
    Locked,
    /// The password or passphrase is wrong (a file's, a backup's, or the window lock's).
    WrongPassword,
    /// The file is not one Twofold reads, it is damaged, or it is not one the command may open.
    FileUnreadable,
    /// A backup could not be written, or automatic backups could not be set up.
    BackupFailed,
    /// An export could not be made or saved.
    ExportFailed,
    /// Pairing, a connection to a paired server or an answer to a sign-in request failed.
    Approval,
    /// Anything else.
    Unknown,
}

/// An error as the UI shows it: the message is the user-readable text from core, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The kind of failure.
    pub code: ErrorCode,
    /// What went wrong and what to do, in the user's words.
    pub message: String,
}

impl ApiError {
    /// An error of `code` whose message is `err`'s `Display`.
    pub fn new(code: ErrorCode, err: impl std::fmt::Display) -> Self {
        Self { code, message: err.to_string() }
    }
}

impl From<VaultError> for ApiError {
    fn from(err: VaultError) -> Self {
        let code = match &err {
            VaultError::MissingSecret { .. } => ErrorCode::SecretMissing,
            VaultError::Keystore(KeystoreError::Unavailable { .. }) => {
                ErrorCode::KeyringUnavailable
            }
            VaultError::Keystore(_) => ErrorCode::KeyringFailed,
            VaultError::NoDataDir
            | VaultError::Io { .. }
            | VaultError::Damaged { .. }
            | VaultError::NewerFormat { .. } => ErrorCode::Storage,
            VaultError::NotFound { .. } => ErrorCode::NotFound,
            VaultError::Invalid { .. } => ErrorCode::InvalidAccount,
            VaultError::Duplicate { .. } => ErrorCode::Duplicate,
            VaultError::Icon { .. } => ErrorCode::ImageUnreadable,
            _ => ErrorCode::Unknown,
        };
        Self::new(code, err)
    }
}

impl From<LockError> for ApiError {
    fn from(err: LockError) -> Self {
        match err {
            LockError::Keystore(err) => VaultError::from(err).into(),
            LockError::TooShort => Self::new(ErrorCode::InvalidAccount, err),
            _ => Self::new(ErrorCode::KeyringFailed, err),
        }
    }
}

impl From<OtpError> for ApiError {
    fn from(err: OtpError) -> Self {
        Self::new(ErrorCode::InvalidAccount, err)
    }
}

impl From<QrError> for ApiError {
    fn from(err: QrError) -> Self {
        Self::new(ErrorCode::ImageUnreadable, err)
    }
}

impl From<twofold_icons::LibraryError> for ApiError {
    fn from(err: twofold_icons::LibraryError) -> Self {
        use twofold_icons::LibraryError;
        let code = match &err {
            LibraryError::NoSuchPack(_) | LibraryError::NoSuchIcon(_) => ErrorCode::NotFound,
            LibraryError::Io { .. } => ErrorCode::Storage,
            _ => ErrorCode::FileUnreadable,
        };
        Self::new(code, err)
    }
}

impl From<ImportError> for ApiError {
    fn from(err: ImportError) -> Self {
        let code = match &err {
            ImportError::WrongPassword { .. } => ErrorCode::WrongPassword,
            _ => ErrorCode::FileUnreadable,
        };
        Self::new(code, err)
    }
}

impl From<BackupError> for ApiError {
    fn from(err: BackupError) -> Self {
        let code = match &err {
            BackupError::WrongPassphrase => ErrorCode::WrongPassword,
            BackupError::NotABackup
            | BackupError::NewerVersion { .. }
            | BackupError::Damaged { .. }
            | BackupError::TooCostly { .. } => ErrorCode::FileUnreadable,
            _ => ErrorCode::BackupFailed,
        };
        // The keyring's and the vault's failures keep their own codes.
        let err = match err {
            BackupError::Vault(err) => return err.into(),
            other => other,
        };
        Self::new(code, err)
    }
}

impl From<ExportError> for ApiError {
    fn from(err: ExportError) -> Self {
        Self::new(ErrorCode::ExportFailed, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_code_and_message() {
        let err = ApiError::from(VaultError::MissingSecret { label: "Example (alice)".to_owned() });
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["code"], "secret_missing");
        assert_eq!(json["message"], err.message);
        assert!(err.message.contains("Example (alice)"));
    }

    #[test]
    fn keyring_failures_are_told_apart() {
        let locked = KeystoreError::Unavailable { reason: "locked".to_owned() };
        let failed = KeystoreError::Failure { reason: "boom".to_owned() };
        assert_eq!(ApiError::from(VaultError::from(locked)).code, ErrorCode::KeyringUnavailable);
        assert_eq!(ApiError::from(VaultError::from(failed)).code, ErrorCode::KeyringFailed);
    }

    #[test]
    fn every_code_is_mirrored_in_the_ui() {
        let ui = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/errors.js"))
            .unwrap();
        for code in [
            ErrorCode::SecretMissing,
            ErrorCode::KeyringUnavailable,
            ErrorCode::KeyringFailed,
            ErrorCode::Storage,
            ErrorCode::NotFound,
            ErrorCode::InvalidAccount,
            ErrorCode::Duplicate,
            ErrorCode::Clipboard,
            ErrorCode::ImageUnreadable,
            ErrorCode::NoQrCode,
            ErrorCode::ScanClosed,
            ErrorCode::ScreenCapture,
            ErrorCode::Locked,
            ErrorCode::Approval,
            ErrorCode::WrongPassword,
            ErrorCode::FileUnreadable,
            ErrorCode::BackupFailed,
            ErrorCode::ExportFailed,
            ErrorCode::Unknown,
        ] {
            let name = serde_json::to_value(code).unwrap();
            let name = name.as_str().unwrap();
            assert!(ui.contains(&format!("{name}:")), "ui/errors.js lacks {name}");
        }
    }
}
