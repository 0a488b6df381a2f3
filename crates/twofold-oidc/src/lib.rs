//! The OpenID Connect provider's rules for what a relying party sends: which authorization
//! requests are accepted and which refusals may be redirected, how a token request names its
//! client, what redeeming a code must prove (client, redirect URI, PKCE, age). Pure functions
//! over plain data, apart from the HTTP server and its store, so they are fuzzed alone.

pub mod authorize;
mod client;
pub mod pkce;
pub mod token;

pub use client::{Client, exact_match};
pub use token::AuthCode;
