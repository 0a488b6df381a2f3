//! Accounts and codes: everything Twofold knows about one-time passwords, with no GUI, network or
//! async runtime. The app, the CLI and the server are thin shells over this crate.

pub mod account;
pub mod backup;
pub mod entry;
pub mod export;
pub mod import;
pub mod keystore;
pub mod lock;
pub mod migration;
pub mod otp;
pub mod qr;
pub mod seal;
pub mod secret;
mod secretstream;
pub mod uri;
pub mod vault;

pub use account::{Account, Credential};
pub use otp::{Algorithm, Code, Kind, OtpParams};
pub use secret::Secret;
