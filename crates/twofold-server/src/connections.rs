//! The accept loop: HTTP/1 connections served with bounds, so that slow or idle clients cannot
//! hold the server. A request head must arrive within `header_timeout_secs` of the connection
//! opening or going idle (hyper's header-read timeout, which is also the idle timeout between
//! requests); a request body may pause at most `body_timeout_secs` between chunks (tower-http);
//! at most `max_connections` are open (below the process's open-file limit, so `accept` never
//! fails for want of descriptors) and at most `max_per_address` from one address (its /64 for
//! IPv6), so one client flooding the server with unfinished requests leaves room for everyone
//! else. Connections over the per-address cap are closed at once. A connection whose first
//! request is a device event stream is served by [`crate::stream_connection`] (its head read
//! under the same timeout), all others by hyper.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt as _;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::address::limit_key;
use crate::slots::Slots;
use crate::stream_connection::{self, First, Replay};

/// How connections are bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionLimits {
    /// Open connections at most; 0: as many as the open-file limit leaves room for.
    pub max_connections: usize,
    /// Open connections from one address (IPv6: one /64) at most. Services' long polls each
    /// hold one, so this is well above what a browser opens.
    pub max_per_address: usize,
    /// Seconds a client has to send a request head, after connecting or after the previous
    /// response (an idle connection is closed after this long).
    pub header_timeout_secs: u64,
    /// Seconds a request body may pause between chunks.
    pub body_timeout_secs: u64,
}

impl Default for ConnectionLimits {
    /// Connections up to the open-file limit, 256 per address, 10 s for a request head, 10 s
    /// of silence in a body.
    fn default() -> Self {
        Self {
            max_connections: 0,
            max_per_address: 256,
            header_timeout_secs: 10,
            body_timeout_secs: 10,
        }
    }
}

/// Descriptors left for the database, the GeoIP files and the listener when the connection cap
/// comes from the open-file limit.
const RESERVED_FILES: u64 = 64;

/// The fewest connections a derived cap allows, however low the open-file limit.
const MIN_CONNECTIONS: u64 = 16;

/// How long to wait before accepting again after `accept` failed for want of resources.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// How long open connections get to finish once shutdown begins (device streams never would).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl ConnectionLimits {
    /// The connection cap: the configured one, or what the open-file limit leaves room for.
    pub fn connection_cap(&self) -> usize {
        if self.max_connections > 0 {
            return self.max_connections;
        }
        let files = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(u64::MAX);
        let cap = files.saturating_sub(RESERVED_FILES).clamp(MIN_CONNECTIONS, 1 << 20);
        usize::try_from(cap).unwrap_or(usize::MAX)
    }
}

/// Whether an `accept` error concerns only the connection being accepted.
fn is_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then gives open
/// connections a few seconds to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let router =
        router.layer(RequestBodyTimeoutLayer::new(Duration::from_secs(limits.body_timeout_secs)));
    let permits = Arc::new(Semaphore::new(limits.connection_cap()));
    let per_address: Arc<Slots<IpAddr>> = Arc::default();
    let graceful = GracefulShutdown::new();
    // Tells the connections hyper does not serve (device streams, and those whose first request
    // is still being read) that the server is stopping; its closing tells when they all ended.
    let (stop, stopping) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new());
    let header_timeout = Duration::from_secs(limits.header_timeout_secs);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &permits) => accepted,
        };
        let Some((stream, peer, permit)) = accepted else { continue };
        let Some(slot) = per_address.take(limit_key(peer.ip()), limits.max_per_address) else {
            // Closed at once: its descriptor is back before the next accept.
            drop(stream);
            continue;
        };
        let connection = Connection {
            router: router.clone(),
            peer,
            http: http.clone(),
            deadline: Instant::now() + header_timeout,
            watcher: graceful.watcher(),
            stop: stopping.clone(),
        };
        tokio::spawn(async move {
            connection.serve(stream).await;
            drop((permit, slot));
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let ended = async { tokio::join!(graceful.shutdown(), stop.closed()) };
    drop(stopping);
    if tokio::time::timeout(SHUTDOWN_GRACE, ended).await.is_err() {
        tracing::info!("closing connections still open after {SHUTDOWN_GRACE:?}");
    }
}

/// What serving one accepted connection needs.
struct Connection {
    router: Router,
    peer: SocketAddr,
    http: hyper::server::conn::http1::Builder,
    /// When the first request head must have arrived.
    deadline: Instant,
    watcher: Watcher,
    stop: watch::Receiver<bool>,
}

impl Connection {
    /// Reads the first request's start: a device stream is served by
    /// [`stream_connection`], anything else by hyper.
    async fn serve(mut self, mut stream: TcpStream) {
        let first = tokio::select! {
            _ = self.stop.wait_for(|stopping| *stopping) => return,
            first = Box::pin(stream_connection::read_first(&mut stream, self.peer, self.deadline)) => first,
        };
        // Boxed, so that a stream's task holds only what its own path needs.
        match first {
            First::Stream(request) => {
                drop(self.watcher);
                Box::pin(stream_connection::serve(stream, request, self.router, self.stop)).await;
            }
            First::Refused(refusal) => {
                Box::pin(stream_connection::refuse(stream, refusal)).await;
            }
            First::Other(read) => {
                drop(self.stop);
                let stream = Replay::new(read, stream);
                Box::pin(serve_http(
                    stream,
                    self.router,
                    self.peer,
                    self.http,
                    self.deadline,
                    self.watcher,
                ))
                .await;
            }
            First::Gone => {}
        }
    }
}

/// Serves a connection with hyper. Its first request head has until `deadline`, as if hyper
/// had read it from the start (later ones get the whole header timeout after each response
/// less what the first one's start took, which is nothing for a client that sends a head at once).
async fn serve_http(
    stream: Replay,
    router: Router,
    peer: SocketAddr,
    mut http: hyper::server::conn::http1::Builder,
    deadline: Instant,
    watcher: Watcher,
) {
    // The peer, as axum's `ConnectInfo`: the portal trusts X-Forwarded-For only from this machine.
    let service = router.map_request(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    http.header_read_timeout(deadline.saturating_duration_since(Instant::now()));
    let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    // A client that went away or timed out: nothing to report.
    let _ = watcher.watch(connection).await;
}

/// Waits for a free connection slot, then accepts a connection; `None` if accepting failed (after
/// a pause, when the failure was not the client's).
async fn accept(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    // The semaphore is never closed.
    let permit = Arc::clone(permits).acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, peer)) => Some((stream, peer, permit)),
        Err(error) if is_connection_error(&error) => None,
        Err(error) => {
            // Out of descriptors or memory despite the cap (another part of the process holds
            // more than reserved): wait for some to be released rather than spin.
            tracing::warn!(%error, "accepting a connection failed");
            tokio::time::sleep(ACCEPT_RETRY).await;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_cap_stays_under_the_open_file_limit() {
        let limits = ConnectionLimits::default();
        let files = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        if let Some(files) = files {
            let cap = u64::try_from(limits.connection_cap()).unwrap();
            assert!(cap < files || cap == MIN_CONNECTIONS, "{cap} of {files}");
        }
        let fixed = ConnectionLimits { max_connections: 7, ..ConnectionLimits::default() };
        assert_eq!(fixed.connection_cap(), 7);
    }
}
