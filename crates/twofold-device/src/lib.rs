//! Twofold as a trusted device: the non-GUI half of approvals, which the desktop app calls from
//! thin commands and a notification layer.
//!
//! - [`Device`]: the paired servers (a JSON file, no secret), each server's device key (in the
//!   keyring, never on disk), pairing and unpairing ([`pairing`]), decisions ([`approval`]),
//!   history ([`history`]) and offline verification codes.
//! - [`connection::Supervisor`]: one task per paired server keeping its event stream open,
//!   verifying every request against the pinned server key before passing it on, and reporting
//!   through a channel of [`connection::Update`]s.
//! - [`view`]: what the UI shows of a request.
//!
//! Give [`Device::open`] a directory of its own (say `<data dir>/device`): the vault removes
//! leftover temporary files of its own directory when it takes its lock.

/// The folder of the vault's data directory that holds the device's files.
pub const DIR_IN_DATA: &str = "device";

pub mod approval;
pub mod connection;
mod countries;
mod device;
mod files;
pub mod history;
pub mod pairing;
mod secret;
pub mod servers;
pub mod vault_keys;
pub mod view;

pub use approval::{DecideError, Outcome};
pub use connection::{ConnectionState, Supervisor, Update};
pub use device::{Device, DeviceError, OfflineCode, RequestKey, Unpaired};
pub use pairing::PairingPreview;
pub use servers::{PairedServer, ServerRecord, ServerSummary};
pub use view::RequestView;
