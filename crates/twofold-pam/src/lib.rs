//! `pam_twofold.so`: SSH, sudo and console logins approved on a paired Twofold device.
//!
//! The module is a relying party of a Twofold server: it asks the server to send the login to the
//! user's devices ("SSH login as alice to build-01 from 203.0.113.7"), tells the person at the
//! terminal what to do ("Approve on your Twofold device…", "Choose 42 …"), and lets them in once a
//! device allows. It runs inside sshd, sudo and login, so every network call is bounded in time,
//! no thread or runtime outlives a call, and panics stop at the FFI boundary.
//!
//! - [`config`]: `/etc/twofold/pam.toml` and the module arguments over it.
//! - [`login`]: the PAM items of a login and how the request describes it.
//! - [`server`]: the relying-party routes, over a blocking client.
//! - [`core`]: one authentication, against a [`core::Conversation`] (testable without libpam).
//! - `entry`: the `extern "C"` entry points PAM calls.

pub mod config;
pub mod core;
mod entry;
pub mod login;
pub mod server;
mod syslog;

pub use config::{Config, ConfigError, FailMode};
pub use core::{Conversation, ConversationError, Outcome, Verdict, authenticate};
pub use login::Login;
pub use server::{ApprovalServer, ServerError};
