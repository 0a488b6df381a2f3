//! The relying-party routes of the Twofold server the module uses, over a blocking HTTP client
//! (ureq): nothing runs after a call returns, no runtime or worker thread stays in the host
//! process, and every call is bounded by a whole-call timeout.
//!
//! The only thread ureq may start is its name lookup's, and only for a server given by name: it
//! lives until the system resolver answers (its own timeouts bound that), while the call itself
//! gives up at the connect timeout.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use twofold_protocol::api::{
    CodeVerified, CreateSignin, ErrorBody, OfflineCodeVerified, SecretText, SigninCreated,
    SigninState, VerifyCode, VerifyOfflineCode,
};
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
use url::Url;
use uuid::Uuid;

use crate::config::Config;

/// Largest answer read from the server, in bytes.
const MAX_BODY_BYTES: u64 = 64 * 1024;

/// Longest single long poll, in seconds: under proxies' usual idle limits.
pub const MAX_POLL_SECS: u64 = 25;

/// Time beyond a long poll's wait the answer may take to arrive.
const POLL_SLACK: Duration = Duration::from_secs(5);

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No answer: the server is down, unreachable, too slow, or answered 5xx. `failmode` decides.
    #[error("the Twofold server cannot be reached: {0}")]
    Unreachable(String),
    /// The server answered and refused (4xx).
    #[error("the Twofold server refused: {} ({})", .body.message, .body.error)]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's reason.
        body: ErrorBody,
    },
}

/// A client of one Twofold server, as the service this machine is.
pub struct ApprovalServer {
    agent: ureq::Agent,
    base: Url,
    authorization: SecretText,
    connect_timeout: Duration,
}

impl std::fmt::Debug for ApprovalServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalServer").field("server", &self.base.as_str()).finish()
    }
}

impl ApprovalServer {
    /// A client of the server `config` names, with its API key.
    pub fn new(config: &Config) -> Result<Self, ServerError> {
        let base = twofold_protocol::link::server_url(&config.server)
            .map_err(|e| ServerError::Unreachable(e.to_string()))?;
        let tls = TlsConfig::builder()
            .provider(TlsProvider::NativeTls)
            .root_certs(RootCerts::PlatformVerifier)
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            // The environment is the user's under sudo and su: no proxy they could point us at.
            .proxy(None)
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_resolve(Some(config.connect_timeout))
            .timeout_connect(Some(config.connect_timeout))
            .user_agent(concat!("pam_twofold/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        let authorization = SecretText::new(format!("Bearer {}", config.api_key.expose()));
        Ok(Self { agent, base, authorization, connect_timeout: config.connect_timeout })
    }

    fn url(&self, segments: &[&str]) -> Result<Url, ServerError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ServerError::Unreachable("the server URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// The request with the API key, given `timeout` for the whole call.
    fn prepare<B>(
        &self,
        request: ureq::RequestBuilder<B>,
        timeout: Duration,
    ) -> ureq::RequestBuilder<B> {
        request
            .header("Authorization", self.authorization.expose())
            .config()
            .timeout_global(Some(timeout))
            .build()
    }

    /// Sends `body` (or nothing) and reads the JSON answer, all within `timeout`.
    fn call<T: DeserializeOwned>(
        &self,
        url: Url,
        body: Option<&impl Serialize>,
        timeout: Duration,
    ) -> Result<T, ServerError> {
        let unreachable = |e: ureq::Error| ServerError::Unreachable(e.to_string());
        let mut response = match body {
            Some(body) => self.prepare(self.agent.post(url.as_str()), timeout).send_json(body),
            None => self.prepare(self.agent.get(url.as_str()), timeout).call(),
        }
        .map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_string()
            .map_err(unreachable)?;
        let garbled = |e: serde_json::Error| {
            ServerError::Unreachable(format!("the answer (HTTP {status}) is not the API's: {e}"))
        };
        match status {
            200..=299 => serde_json::from_str(&text).map_err(garbled),
            400..=499 => Err(ServerError::Refused {
                status,
                body: serde_json::from_str(&text).unwrap_or_else(|_| ErrorBody {
                    error: "unknown".into(),
                    message: text.chars().filter(|c| !c.is_control()).take(200).collect(),
                }),
            }),
            _ => Err(ServerError::Unreachable(format!("the server answered HTTP {status}"))),
        }
    }

    /// The time a call without a long poll may take.
    fn short(&self) -> Duration {
        self.connect_timeout + POLL_SLACK
    }

    /// `POST /v1/signins`.
    pub fn create_signin(&self, signin: &CreateSignin) -> Result<SigninCreated, ServerError> {
        self.call(self.url(&["v1", "signins"])?, Some(signin), self.short())
    }

    /// `GET /v1/signins/{id}?wait=`: the sign-in's state, held up to `wait` seconds while pending.
    pub fn wait(&self, id: Uuid, wait: u64) -> Result<SigninState, ServerError> {
        let mut url = self.url(&["v1", "signins", &id.to_string()])?;
        let wait = wait.min(MAX_POLL_SECS);
        url.query_pairs_mut().append_pair("wait", &wait.to_string());
        self.call(url, None::<&()>, self.short() + Duration::from_secs(wait))
    }

    /// `POST /v1/signins/{id}/verify`: the code typed from the device (code mode).
    pub fn verify_code(&self, id: Uuid, code: &str) -> Result<CodeVerified, ServerError> {
        let url = self.url(&["v1", "signins", &id.to_string(), "verify"])?;
        self.call(url, Some(&VerifyCode { code: code.to_owned() }), self.short())
    }

    /// `POST /v1/users/{user}/offline-code`: a code read off one of the user's devices.
    pub fn verify_offline_code(
        &self,
        user: &str,
        code: &str,
    ) -> Result<OfflineCodeVerified, ServerError> {
        let url = self.url(&["v1", "users", user, "offline-code"])?;
        self.call(url, Some(&VerifyOfflineCode { code: code.to_owned() }), self.short())
    }
}
