//! The Twofold approval server: services pair their users' devices and ask them to confirm
//! sign-ins; devices receive server-signed requests over an event stream and answer with signed
//! decisions. The protocol itself (messages, canonical bytes, links) is `twofold-protocol`.
//!
//! # Routes
//! Relying party (`Authorization: Bearer <API key>`):
//! - `POST /v1/pairings` `{user}` → pairing link, expiry, QR URLs
//! - `GET /v1/users/{user}/devices`, `DELETE /v1/devices/{id}`
//! - `POST /v1/signins` `{user, ip, user_agent, mode, context}` → id, status, number
//! - `GET /v1/signins/{id}?wait=SECONDS` (long poll), `POST /v1/signins/{id}/verify` `{code}`
//! - `POST /v1/users/{user}/offline-code` `{code}`: a code read off a device that push cannot reach
//! - `GET /v1/audit?after=SEQ&limit=N`: the service's append-only audit log
//!
//! Anyone: `GET /v1/about`: the server key's fingerprint and the credits its data needs ("IP
//! Geolocation by DB-IP" when a DB-IP database is configured).
//!
//! Device:
//! - `GET /v1/pairings/{token}/qr.png` / `qr.svg` (the token is the credential)
//! - `POST /v1/pairings/complete` (signed by the new device key)
//! - `GET /v1/device/stream` (server-sent events) and `GET /v1/device/requests` (polling), both
//!   with `Authorization: Twofold <signed device authentication>`
//! - `POST /v1/signins/{id}/decision` (signed decision)
//!
//! Against push fatigue ([`policy`]): one pending request per user and address, rate limits per
//! user and per address, lockout after repeated denials or a report (new sign-ins come back
//! `locked`), a reported address stays blocked for that user, and a push from a country new for
//! the user becomes number matching (the service shows `number` whenever the answer has one).
//! Addresses count by [`address::limit_key`]: IPv4-mapped IPv6 as IPv4, IPv6 by its /64.
//!
//! Requests that expire unanswered are marked by [`AppState::background`], which the caller
//! runs beside the router: devices get a `withdrawn` event and long polls return `expired`.
//!
//! The sign-in portal (users, sessions, forward auth for reverse proxies) is [`portal`], served
//! beside the API when the configuration has a `[portal]` section; the OpenID Connect provider
//! built on it is [`oidc`], served when there is also an `[oidc]` section.
//!
//! Every bad request gets a 4xx JSON [`twofold_protocol::api::ErrorBody`]; bodies are limited
//! in size. Time and randomness are injected ([`clock`]), so expiry is testable.

pub mod address;
pub mod admin;
pub mod app;
mod audit;
pub mod clock;
pub mod config;
pub mod connections;
pub mod dbip;
mod delivery;
pub mod demo;
pub mod enrich;
pub mod error;
mod expiry;
mod hub;
mod offline;
pub mod oidc;
mod pairing;
pub mod policy;
pub mod portal;
mod rate;
mod seal;
mod signins;
mod slots;
pub mod store;
mod stream_connection;

pub use app::{AppState, Limits, Settings, app};
pub use error::AppError;
#[cfg(feature = "postgres")]
pub use store::PgStore;
pub use store::{SqliteStore, Store, StoreError};
