//! A small async client of a Twofold server: [`DeviceClient`] pairs, receives and decides
//! requests; [`ServiceClient`] is a relying party (pairings, sign-ins, codes).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eventsource_stream::Eventsource as _;
use futures_util::{Stream, StreamExt as _};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;
use uuid::Uuid;

use crate::api::{
    self, AuditLog, CodeVerified, CreatePairing, CreateSignin, DecisionAccepted, DeviceList,
    ErrorBody, OfflineCodeVerified, PairingCompleted, PairingCreated, PendingRequests,
    SigninCreated, SigninState, VerifyCode, VerifyOfflineCode, Withdrawn,
};
use crate::keys::{KeyPair, PublicKey, VerifyError};
use crate::link::{self, LinkError, PairingLink};
use crate::messages::{
    Answer, AuthPurpose, Decision, DeviceAuth, Nonce, PairingCompletion, Signed, SigninRequest,
};

/// What went wrong talking to a server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server could not be reached or the connection broke.
    #[error("could not reach the Twofold server: {0}")]
    Network(#[source] reqwest::Error),
    /// The server refused, saying why.
    #[error("the Twofold server refused ({status}): {}", body.message)]
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's explanation.
        body: ErrorBody,
    },
    /// The server answered something that is not the protocol.
    #[error("the Twofold server's answer is not understood: {0}")]
    Protocol(String),
    /// A signature from the server did not verify.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The server's key does not match the fingerprint in the pairing link.
    #[error(
        "the server's key does not match the pairing link: the link may be forged, do not pair"
    )]
    FingerprintMismatch,
    /// A server URL was unusable.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The operating system gave no random bytes.
    #[error("the operating system could not provide random bytes")]
    Randomness,
    /// The HTTP client could not start (its TLS backend failed).
    #[error("could not start the HTTP client: {0}")]
    HttpClient(String),
}

/// The current time in Unix seconds; replaceable so tests can move time.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

fn system_clock() -> Clock {
    Arc::new(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// How long connecting to a server may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server may send nothing while answering: above the longest wait a server grants a
/// long poll (60 s by default) and its event stream's keep-alives, so only a stalled server trips it.
pub const READ_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a pooled connection may stay idle before it is dropped: under the server's own
/// idle timeout (10 s by default), so that a request never goes out on a connection the server
/// is closing at that moment (it would fail with a reset; the load bench saw a few in 5 000).
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP clients of the process: building one loads the system's TLS roots, too costly to
/// repeat per device or service. `streams`: the one for event streams, which keeps no idle
/// connection, so that each stream opens a connection of its own (the server serves a stream
/// that is its connection's first request without per-connection buffers, and closes it when
/// the stream ends); the other pools connections. Neither follows a redirect: the pinned server
/// answers itself, and a redirect could send the device's signed requests elsewhere. Every wait
/// on the network is bounded ([`CONNECT_TIMEOUT`], [`READ_TIMEOUT`]).
fn shared_http(streams: bool) -> Result<reqwest::Client, ClientError> {
    static POOLED: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    static STREAMS: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    let (client, idle) = if streams { (&STREAMS, 0) } else { (&POOLED, usize::MAX) };
    client
        .get_or_init(|| {
            http_client(CONNECT_TIMEOUT, READ_TIMEOUT)
                .pool_max_idle_per_host(idle)
                .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                .build()
                .map_err(|error| error.to_string())
        })
        .clone()
        .map_err(ClientError::HttpClient)
}

/// A client that follows no redirect, gives up connecting after `connect` and waiting for the
/// server's next bytes after `read`.
fn http_client(connect: Duration, read: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect)
        .read_timeout(read)
}

fn join(base: &Url, path: &str) -> Result<Url, ClientError> {
    base.join(path).map_err(|e| ClientError::Protocol(format!("bad URL path {path:?}: {e}")))
}

/// The most a response body may hold: a list of pending requests is a few kilobytes.
pub const MAX_BODY: usize = 1024 * 1024;
/// The most one event of the stream may hold (a signed request is about 1 KiB).
pub const MAX_EVENT: usize = 64 * 1024;

/// The chunks of `body` together, refused once they pass `max` bytes: a server cannot make the
/// device hold more than that.
async fn collect_capped<B: AsRef<[u8]>, E>(
    body: impl Stream<Item = Result<B, E>>,
    max: usize,
) -> Result<Vec<u8>, CapError<E>> {
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(CapError::Read)?;
        if bytes.len() + chunk.as_ref().len() > max {
            return Err(CapError::TooLarge);
        }
        bytes.extend_from_slice(chunk.as_ref());
    }
    Ok(bytes)
}

/// Why a capped read stopped.
#[derive(Debug)]
enum CapError<E> {
    /// The transport failed.
    Read(E),
    /// The body passed its cap.
    TooLarge,
}

/// A response's body, at most [`MAX_BODY`] bytes.
async fn body_of(response: Response) -> Result<Vec<u8>, ClientError> {
    collect_capped(response.bytes_stream(), MAX_BODY).await.map_err(|error| match error {
        CapError::Read(error) => ClientError::Network(error),
        CapError::TooLarge => {
            ClientError::Protocol(format!("the answer is larger than {MAX_BODY} bytes"))
        }
    })
}

/// The event stream's chunks, ending with an error once one event (the bytes since the last
/// blank line) passes `max`: a server cannot grow the device's memory with an endless event.
fn capped_events<B: AsRef<[u8]> + Send + 'static>(
    body: impl Stream<Item = std::io::Result<B>> + Send + 'static,
    max: usize,
) -> impl Stream<Item = std::io::Result<B>> + Send + 'static {
    let mut event = 0usize;
    let mut after_newline = false;
    let mut failed = false;
    body.map(move |chunk| {
        let chunk = chunk?;
        for &byte in chunk.as_ref() {
            match byte {
                b'\n' if after_newline => event = 0,
                b'\n' => after_newline = true,
                b'\r' => {}
                _ => {
                    after_newline = false;
                    event += 1;
                }
            }
        }
        if event > max {
            failed = true;
        }
        if failed {
            let message = format!("an event of the stream is larger than {max} bytes");
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
        }
        Ok(chunk)
    })
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ClientError> {
    let status = response.status();
    let bytes = body_of(response).await?;
    if status.is_success() {
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol(e.to_string()))
    } else {
        Err(refusal(status, &bytes))
    }
}

fn refusal(status: StatusCode, bytes: &[u8]) -> ClientError {
    let body = serde_json::from_slice(bytes).unwrap_or_else(|_| ErrorBody {
        error: "unknown".into(),
        message: String::from_utf8_lossy(bytes).chars().take(200).collect(),
    });
    ClientError::Refused { status: status.as_u16(), body }
}

/// The body's chunks, ending with an error once none (not even a keep-alive) came for `silence`.
fn until_silent<B: Send + 'static>(
    body: impl Stream<Item = reqwest::Result<B>> + Send + 'static,
    silence: Duration,
) -> impl Stream<Item = std::io::Result<B>> + Send + 'static {
    futures_util::stream::unfold(Some(Box::pin(body)), move |body| async move {
        let mut body = body?;
        match tokio::time::timeout(silence, body.next()).await {
            Ok(Some(chunk)) => Some((chunk.map_err(std::io::Error::other), Some(body))),
            Ok(None) => None,
            Err(_) => {
                let secs = silence.as_secs_f32();
                let silent = format!("nothing from the server for {secs} s");
                Some((Err(std::io::Error::new(std::io::ErrorKind::TimedOut, silent)), None))
            }
        }
    })
}

/// Sends a request whose success has no body (204).
async fn send_expecting_no_body(request: RequestBuilder) -> Result<(), ClientError> {
    let response = request.send().await.map_err(ClientError::Network)?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let bytes = body_of(response).await?;
    Err(refusal(status, &bytes))
}

async fn send<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ClientError> {
    read(request.send().await.map_err(ClientError::Network)?).await
}

/// A relying party: a service that pairs its users' devices and asks them to confirm sign-ins.
#[derive(Clone)]
pub struct ServiceClient {
    http: reqwest::Client,
    base: Url,
    api_key: String,
}

impl std::fmt::Debug for ServiceClient {
    /// The server's URL only: the API key is a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceClient")
            .field("base", &self.base.as_str())
            .field("api_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ServiceClient {
    /// A client of the server at `server` (https, or http to loopback) using `api_key`.
    pub fn new(server: &str, api_key: &str) -> Result<Self, ClientError> {
        Ok(Self {
            http: shared_http(false)?,
            base: link::server_url(server)?,
            api_key: api_key.into(),
        })
    }

    fn request(&self, method: Method, path: &str) -> Result<RequestBuilder, ClientError> {
        Ok(self.http.request(method, join(&self.base, path)?).bearer_auth(&self.api_key))
    }

    /// A pairing link for `user`.
    pub async fn create_pairing(&self, user: &str) -> Result<PairingCreated, ClientError> {
        let body = CreatePairing { user: user.into() };
        send(self.request(Method::POST, "v1/pairings")?.json(&body)).await
    }

    /// The devices paired to `user`.
    pub async fn devices(&self, user: &str) -> Result<DeviceList, ClientError> {
        let mut url = join(&self.base, "v1/users/")?;
        url.path_segments_mut()
            .map_err(|()| ClientError::Protocol("server URL cannot have a path".into()))?
            .pop_if_empty()
            .push(user)
            .push("devices");
        send(self.http.get(url).bearer_auth(&self.api_key)).await
    }

    /// Revokes a device: it receives no more requests and its decisions are refused.
    pub async fn revoke_device(&self, device: Uuid) -> Result<(), ClientError> {
        send_expecting_no_body(self.request(Method::DELETE, &format!("v1/devices/{device}"))?).await
    }

    /// Asks the user's devices to confirm a sign-in.
    pub async fn create_signin(&self, signin: &CreateSignin) -> Result<SigninCreated, ClientError> {
        send(self.request(Method::POST, "v1/signins")?.json(signin)).await
    }

    /// Where a sign-in stands; with `wait`, holds up to that many seconds for it to change.
    pub async fn signin(&self, id: Uuid, wait: Option<u32>) -> Result<SigninState, ClientError> {
        let path = match wait {
            Some(seconds) => format!("v1/signins/{id}?wait={seconds}"),
            None => format!("v1/signins/{id}"),
        };
        send(self.request(Method::GET, &path)?).await
    }

    /// Checks a code the user read off one of their devices (offline codes).
    pub async fn verify_offline_code(
        &self,
        user: &str,
        code: &str,
    ) -> Result<OfflineCodeVerified, ClientError> {
        let mut url = join(&self.base, "v1/users/")?;
        url.path_segments_mut()
            .map_err(|()| ClientError::Protocol("server URL cannot have a path".into()))?
            .pop_if_empty()
            .push(user)
            .push("offline-code");
        let body = VerifyOfflineCode { code: code.into() };
        send(self.http.post(url).bearer_auth(&self.api_key).json(&body)).await
    }

    /// The service's audit log after entry `after`, at most `limit` entries.
    pub async fn audit(&self, after: u64, limit: u32) -> Result<AuditLog, ClientError> {
        send(self.request(Method::GET, &format!("v1/audit?after={after}&limit={limit}"))?).await
    }

    /// Checks the code the person typed (code mode).
    pub async fn verify_code(&self, id: Uuid, code: &str) -> Result<CodeVerified, ClientError> {
        let body = VerifyCode { code: code.into() };
        send(self.request(Method::POST, &format!("v1/signins/{id}/verify"))?.json(&body)).await
    }
}

/// What a device's event stream delivers, after verification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceEvent {
    /// A sign-in to confirm; its server signature has been checked.
    Request(Box<SigninRequest>),
    /// A request to take off the screen.
    Withdrawn(Withdrawn),
}

/// How long the event stream may stay silent before it counts as broken. The server sends a
/// keep-alive every 15 s, so this is three missed ones: a connection that died without closing
/// (the network went, the machine slept) is noticed instead of waited on forever.
pub const STREAM_SILENCE: Duration = Duration::from_secs(45);

/// A paired device: its key, the server it is paired with and that server's pinned key.
#[derive(Clone)]
pub struct DeviceClient {
    http: reqwest::Client,
    /// For the event stream: a connection of its own.
    streams: reqwest::Client,
    base: Url,
    key: Arc<KeyPair>,
    server_key: PublicKey,
    clock: Clock,
    silence: Duration,
}

impl std::fmt::Debug for DeviceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceClient")
            .field("server", &self.base.as_str())
            .field("device", &self.key.public())
            .field("server_key", &self.server_key)
            .finish()
    }
}

impl DeviceClient {
    /// Pairs `key` (fresh, from the caller's randomness) under `name` using a pairing link; checks
    /// the server's key against the link's fingerprint and pins it.
    pub async fn pair(
        link: &PairingLink,
        name: &str,
        key: KeyPair,
    ) -> Result<(Self, PairingCompleted), ClientError> {
        let completion = PairingCompletion {
            token: link.token.clone(),
            server: link.fingerprint,
            device: key.public(),
            name: name.into(),
        };
        let body = Signed::sign(completion, &key);
        let http = shared_http(false)?;
        let completed: PairingCompleted =
            send(http.post(join(&link.server, "v1/pairings/complete")?).json(&body)).await?;
        if completed.server_key.fingerprint() != link.fingerprint {
            return Err(ClientError::FingerprintMismatch);
        }
        let client = Self {
            http,
            streams: shared_http(true)?,
            base: link.server.clone(),
            key: Arc::new(key),
            server_key: completed.server_key,
            clock: system_clock(),
            silence: STREAM_SILENCE,
        };
        Ok((client, completed))
    }

    /// A device already paired: its server URL, key and the server key pinned at pairing.
    pub fn new(server: &str, key: KeyPair, server_key: PublicKey) -> Result<Self, ClientError> {
        Ok(Self {
            http: shared_http(false)?,
            streams: shared_http(true)?,
            base: link::server_url(server)?,
            key: Arc::new(key),
            server_key,
            clock: system_clock(),
            silence: STREAM_SILENCE,
        })
    }

    /// The same client with another clock (tests that move time).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same client with another [`STREAM_SILENCE`] (tests that cannot wait 45 s).
    pub fn with_stream_silence(mut self, silence: Duration) -> Self {
        self.silence = silence;
        self
    }

    /// This device's public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public()
    }

    /// The pinned server key.
    pub fn server_key(&self) -> PublicKey {
        self.server_key
    }

    /// A fresh, signed authentication for `purpose`, as the `Authorization` header carries it.
    pub fn authorization(&self, purpose: AuthPurpose) -> Result<String, ClientError> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|_| ClientError::Randomness)?;
        let auth = DeviceAuth {
            server: self.server_key.fingerprint(),
            device: self.key.public(),
            purpose,
            time: (self.clock)(),
            nonce: Nonce(nonce),
        };
        Ok(api::device_auth_header(&Signed::sign(auth, &self.key)))
    }

    fn verify(&self, signed: &Signed<SigninRequest>) -> Result<SigninRequest, ClientError> {
        Ok(signed.verify_request(&self.server_key)?.clone())
    }

    /// Opens the event stream: pending requests first, then new ones as they come. Each request's
    /// signature is checked; one that fails ends the stream with an error.
    pub async fn events(
        &self,
    ) -> Result<impl Stream<Item = Result<DeviceEvent, ClientError>> + use<>, ClientError> {
        let response = self
            .streams
            .get(join(&self.base, "v1/device/stream")?)
            .header(reqwest::header::AUTHORIZATION, self.authorization(AuthPurpose::Stream)?)
            .send()
            .await
            .map_err(ClientError::Network)?;
        let status = response.status();
        if !status.is_success() {
            let bytes = body_of(response).await?;
            return Err(refusal(status, &bytes));
        }
        let me = self.clone();
        let body = capped_events(until_silent(response.bytes_stream(), self.silence), MAX_EVENT);
        Ok(body.eventsource().filter_map(move |event| {
            let result = match event {
                Err(e) => Some(Err(ClientError::Protocol(format!("event stream broke: {e}")))),
                Ok(event) => me.event(&event.event, &event.data).transpose(),
            };
            std::future::ready(result)
        }))
    }

    fn event(&self, name: &str, data: &str) -> Result<Option<DeviceEvent>, ClientError> {
        let bad = |e: serde_json::Error| ClientError::Protocol(format!("bad {name} event: {e}"));
        match name {
            api::EVENT_REQUEST => {
                let signed = serde_json::from_str(data).map_err(bad)?;
                Ok(Some(DeviceEvent::Request(Box::new(self.verify(&signed)?))))
            }
            api::EVENT_WITHDRAWN => {
                Ok(Some(DeviceEvent::Withdrawn(serde_json::from_str(data).map_err(bad)?)))
            }
            // Keep-alives and events of later versions.
            _ => Ok(None),
        }
    }

    /// Unpairs: the server revokes this device, ending its stream and refusing its decisions.
    pub async fn unpair(&self) -> Result<(), ClientError> {
        let request = self
            .http
            .delete(join(&self.base, "v1/device")?)
            .header(reqwest::header::AUTHORIZATION, self.authorization(AuthPurpose::Unpair)?);
        send_expecting_no_body(request).await
    }

    /// Pending requests, for when a stream cannot be held; each signature is checked.
    pub async fn pending(&self) -> Result<Vec<SigninRequest>, ClientError> {
        let request = self
            .http
            .get(join(&self.base, "v1/device/requests")?)
            .header(reqwest::header::AUTHORIZATION, self.authorization(AuthPurpose::Poll)?);
        let pending: PendingRequests = send(request).await?;
        pending.requests.iter().map(|signed| self.verify(signed)).collect()
    }

    /// The signed decision on `request` (the one shown), without sending it.
    pub fn decision(
        &self,
        request: &SigninRequest,
        answer: Answer,
        number: Option<u32>,
    ) -> Signed<Decision> {
        let decision = Decision {
            request_id: request.id,
            request_digest: request.digest(),
            answer,
            number,
            time: (self.clock)(),
            device: self.key.public(),
        };
        Signed::sign(decision, &self.key)
    }

    /// Sends a signed decision.
    pub async fn send_decision(
        &self,
        decision: &Signed<Decision>,
    ) -> Result<DecisionAccepted, ClientError> {
        let path = format!("v1/signins/{}/decision", decision.message.request_id);
        send(self.http.post(join(&self.base, &path)?).json(decision)).await
    }

    /// Answers `request`: signs the decision and sends it. `number` is what the person entered
    /// in number mode.
    pub async fn decide(
        &self,
        request: &SigninRequest,
        answer: Answer,
        number: Option<u32>,
    ) -> Result<DecisionAccepted, ClientError> {
        self.send_decision(&self.decision(request, answer, number)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{TcpListener, TcpSocket, TcpStream};

    /// Short stand-ins for [`CONNECT_TIMEOUT`] and [`READ_TIMEOUT`], so a test need not wait 90 s.
    const SHORT: Duration = Duration::from_millis(300);
    /// What "bounded" means in these tests: far above [`SHORT`], far below a hang.
    const BOUND: Duration = Duration::from_secs(20);

    /// A server on loopback that reads each request and then answers `reply` and stalls.
    async fn stalling_server(reply: &'static [u8]) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut conn, _)) = listener.accept().await {
                let _ = conn.read(&mut [0; 4096]).await;
                let _ = conn.write_all(reply).await;
                held.push(conn);
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_server_that_never_answers_is_given_up_on() {
        let addr = stalling_server(b"").await;
        let client = http_client(SHORT, SHORT).build().unwrap();
        let sent = tokio::time::timeout(BOUND, client.get(format!("http://{addr}/")).send()).await;
        let error = sent.expect("the wait for an answer is bounded").unwrap_err();
        assert!(error.is_timeout(), "{error}");
    }

    #[tokio::test]
    async fn a_body_that_stops_coming_is_given_up_on() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part";
        let addr = stalling_server(head).await;
        let client = http_client(SHORT, SHORT).build().unwrap();
        let response = client.get(format!("http://{addr}/")).send().await.unwrap();
        let body = tokio::time::timeout(BOUND, body_of(response)).await;
        assert!(body.expect("the wait for the body is bounded").is_err());
    }

    #[tokio::test]
    async fn a_server_that_never_accepts_is_given_up_on() {
        // A listener that never accepts, with a backlog of one: once two connections wait in
        // it, the kernel drops further SYNs and a connect hangs, as with a host that is down.
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut waiting = Vec::new();
        for _ in 0..4 {
            if let Ok(Ok(conn)) = tokio::time::timeout(SHORT, TcpStream::connect(addr)).await {
                waiting.push(conn);
            }
        }
        let client = http_client(SHORT, BOUND).build().unwrap();
        let sent = tokio::time::timeout(BOUND, client.get(format!("http://{addr}/")).send()).await;
        let error = sent.expect("connecting is bounded").unwrap_err();
        assert!(error.is_connect() || error.is_timeout(), "{error}");
    }

    #[tokio::test]
    async fn a_device_opens_its_event_stream_on_a_connection_of_its_own() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    // Each request in one read: the client sends a head without a body at once.
                    let mut buf = [0; 4096];
                    while let Ok(n @ 1..) = conn.read(&mut buf).await {
                        let reply: &[u8] = if buf[..n].starts_with(b"GET /v1/device/stream ") {
                            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                        } else {
                            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"requests\":[]}"
                        };
                        let _ = conn.write_all(reply).await;
                    }
                });
            }
        });
        let server_key = KeyPair::from_seed(&[2; 32]).public();
        let device =
            DeviceClient::new(&format!("http://{addr}/"), KeyPair::from_seed(&[1; 32]), server_key)
                .unwrap();
        device.pending().await.unwrap();
        device.pending().await.unwrap();
        let connected = connections.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(connected, 1, "requests share a pooled connection");
        let _events = tokio::time::timeout(BOUND, device.events()).await.unwrap().unwrap();
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    fn chunks(parts: Vec<Vec<u8>>) -> impl Stream<Item = std::io::Result<Vec<u8>>> + Send {
        futures_util::stream::iter(parts.into_iter().map(Ok))
    }

    #[tokio::test]
    async fn a_body_past_its_cap_is_refused() {
        let fits = collect_capped(chunks(vec![b"abc".to_vec(), b"def".to_vec()]), 6).await;
        assert_eq!(fits.ok(), Some(b"abcdef".to_vec()));
        let past = collect_capped(chunks(vec![b"abc".to_vec(), b"defg".to_vec()]), 6).await;
        assert!(matches!(past, Err(CapError::TooLarge)));
    }

    #[tokio::test]
    async fn an_endless_event_ends_the_stream_while_many_small_ones_pass() {
        let small = vec![b"event: request\ndata: 12345\n\n".to_vec(); 100];
        let passed: Vec<_> = capped_events(chunks(small), 32).collect().await;
        assert_eq!(passed.len(), 100);
        assert!(passed.iter().all(Result::is_ok));

        let mut endless = vec![b"data: ".to_vec()];
        endless.extend(std::iter::repeat_n(vec![b'x'; 10], 10));
        let read: Vec<_> = capped_events(chunks(endless), 32).collect().await;
        let first_error = read.iter().position(Result::is_err);
        assert_eq!(first_error, Some(3), "the chunk that passes 32 bytes fails");

        // Line endings as CRLF count the same way.
        let crlf = vec![b"data: 1\r\n\r\n".to_vec(); 10];
        let passed: Vec<_> = capped_events(chunks(crlf), 8).collect().await;
        assert!(passed.iter().all(Result::is_ok));
    }

    #[test]
    fn a_service_clients_debug_hides_its_api_key() {
        let client = super::ServiceClient::new("http://127.0.0.1:8470/", "tfk_secret").unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("tfk_secret"), "{shown}");
        assert!(shown.contains("127.0.0.1:8470"), "{shown}");
    }
}
