//! The Twofold approval protocol: how a desktop device pairs with a Twofold server, receives
//! server-signed sign-in requests and answers them with decisions signed by its own key.
//!
//! - [`keys`]: Ed25519 key pairs, public keys, signatures and fingerprints (ed25519-dalek 3).
//! - [`messages`]: the signed messages and [`Signed`], which signs and verifies them.
//! - [`canonical`]: the exact bytes of each signed message, one function per kind, used by signer
//!   and verifier alike (domain-separated, length-prefixed, versioned).
//! - [`link`]: the pairing link, `twofold+pair://pair?v=1&server=...&token=...&fingerprint=...`
//!   (format documented there).
//! - [`api`]: request and response bodies of the HTTP API and the device event stream.
//! - [`offline`]: the TOTP code a device shows when push cannot reach it.
//! - [`text`]: characters that make one name look like another (bidi, zero-width), refused or
//!   made visible.
//! - `client` (feature `client`): an async client for devices and relying parties.
//!
//! # Flow
//! 1. A service asks the server for a pairing link for one of its users and shows it as a QR code.
//! 2. The device reads the link, makes a key pair, signs a [`PairingCompletion`] with it and posts
//!    it; it pins the server key whose fingerprint the link carried.
//! 3. The service creates a sign-in; the server signs a [`SigninRequest`] and sends it to every
//!    device of the user over their event streams (`GET /v1/device/stream`, authenticated by a
//!    signed [`DeviceAuth`] over a fresh time and a nonce).
//! 4. The device verifies the request, shows it, and signs a [`Decision`] that binds the request's
//!    id and digest, the answer, the number entered and the time. The first decision wins.

pub mod api;
pub mod canonical;
#[cfg(feature = "client")]
pub mod client;
pub mod keys;
pub mod link;
pub mod messages;
pub mod offline;
pub mod text;

pub use keys::{Fingerprint, KeyError, KeyPair, PublicKey, Signature, VerifyError};
pub use link::{LinkError, PairingLink};
pub use messages::{
    Answer, AuthPurpose, Coordinates, Decision, DeviceAuth, Location, Mode, NUMBER_CHOICES, Nonce,
    PairingCompletion, RequestDigest, Signed, SigninRequest,
};
