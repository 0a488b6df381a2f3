//! The real `twofold-server` binary against clients that hold connections instead of using them
//! (issue 18): a slowloris flood under a low open-file limit, an idle connection, an unfinished
//! header, a stalled body, and a body declared far over the limit.

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use twofold_server::config::Config;

/// Header and body timeouts the server under test is given, in seconds.
const TIMEOUT_SECS: u64 = 2;
/// Connections from one address the server under test allows.
const PER_ADDRESS: usize = 32;
/// The open-file limit the server under test runs with.
const OPEN_FILES: u32 = 256;
/// Longest a test waits for the server to drop or answer a connection: the configured timeout
/// and ample room on a busy machine, far below the 130 s the server used to hold them.
const BOUND: Duration = Duration::from_secs(TIMEOUT_SECS + 8);

/// A `twofold-server serve` on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_twofold-server")
}

/// Initialises a server in a temp directory and runs it with a low open-file limit.
async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("twofold-server.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let url = format!("http://{addr}/");
    let data = dir.path().join("data");
    let init = Command::new(binary())
        .arg("--config")
        .arg(&config)
        .args(["init", "--listen", &addr.to_string(), "--public-url", &url, "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    set_limits(&config);
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {OPEN_FILES} && exec \"$0\" --config \"$1\" serve"))
        .arg(binary())
        .arg(&config)
        .spawn()
        .unwrap();
    let server = Server { child, addr, _dir: dir };
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_ok() {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not listen within 10 s");
}

fn set_limits(path: &Path) {
    let mut config = Config::load(path).unwrap();
    config.connections.max_per_address = PER_ADDRESS;
    config.connections.header_timeout_secs = TIMEOUT_SECS;
    config.connections.body_timeout_secs = TIMEOUT_SECS;
    std::fs::remove_file(path).unwrap();
    config.create(path).unwrap();
}

/// A connection to `server` from the loopback address `from` (127.0.0.0/8 is all loopback).
async fn connect_from(from: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(server).await.unwrap()
}

/// Reads until the server closes the connection; what it sent. Panics if it is still open
/// after [`BOUND`].
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = [0; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server still holds the connection after {BOUND:?}");
    String::from_utf8_lossy(&received).into_owned()
}

/// `GET /v1/about` over `stream`; the status line of the answer.
async fn about(mut stream: TcpStream) -> String {
    stream
        .write_all(b"GET /v1/about HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_slow_and_oversized_requests_are_dropped_in_bounded_time() {
    let server = start().await;
    let addr = server.addr;

    let declared = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                b"POST /v1/pairings/complete HTTP/1.1\r\nHost: test\r\n\
                  Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n",
            )
            .await
            .unwrap();
        let started = Instant::now();
        let mut buf = [0; 4096];
        let n = tokio::time::timeout(BOUND, stream.read(&mut buf)).await.unwrap().unwrap();
        let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("body_too_large"), "{answer}");
        // "At once": not after the body timeout, which is what waiting for the body would take.
        assert!(started.elapsed() < Duration::from_secs(TIMEOUT_SECS), "{:?}", started.elapsed());
    };
    let idle = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        read_until_closed(&mut stream).await;
    };
    let slow_header = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /v1/about HTTP/1.1\r\nHost: te").await.unwrap();
        read_until_closed(&mut stream).await;
    };
    let stalled_body = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                b"POST /v1/pairings/complete HTTP/1.1\r\nHost: test\r\n\
                  Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":",
            )
            .await
            .unwrap();
        read_until_closed(&mut stream).await;
    };
    let idle_after_a_request = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /v1/about HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
        let answer = read_until_closed(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    };
    // A device stream's head is read before hyper, under the same timeout.
    let slow_stream_header = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /v1/device/stream HTTP/1.1\r\nHost: te").await.unwrap();
        read_until_closed(&mut stream).await;
    };
    let undecided = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /v1/dev").await.unwrap();
        read_until_closed(&mut stream).await;
    };
    // A head whose start took most of the timeout before it turned out not to be a stream's
    // gets what is left, not a second timeout from hyper.
    let late_other_head = async {
        let started = Instant::now();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /v1/dev").await.unwrap();
        tokio::time::sleep(Duration::from_millis(TIMEOUT_SECS * 1000 - 300)).await;
        stream.write_all(b"ices HTTP/1.1\r\nHost: te").await.unwrap();
        read_until_closed(&mut stream).await;
        let limit = Duration::from_millis(TIMEOUT_SECS * 1000 + 1200);
        assert!(started.elapsed() < limit, "closed after {:?}", started.elapsed());
    };
    tokio::join!(
        declared,
        idle,
        slow_header,
        stalled_body,
        idle_after_a_request,
        slow_stream_header,
        undecided,
        late_other_head
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slowloris_flood_from_one_address_leaves_the_server_to_others() {
    let server = start().await;
    let addr = server.addr;
    // Five times the open-file limit of unfinished requests, all from 127.0.0.1.
    let mut flood = Vec::new();
    for _ in 0..1100 {
        let Ok(mut stream) = TcpStream::connect(addr).await else { continue };
        if stream.write_all(b"GET /v1/about HTTP/1.1\r\nHost: test\r\nX-Wait: ").await.is_ok() {
            flood.push(stream);
        }
    }
    let started = Instant::now();
    let status = tokio::time::timeout(BOUND, about(connect_from("127.0.0.2", addr).await))
        .await
        .expect("GET /v1/about from another address is answered during the flood");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    // Well before the flood's header timeout frees anything.
    assert!(started.elapsed() < Duration::from_secs(TIMEOUT_SECS), "{:?}", started.elapsed());
    // The flood keeps its address's share, no more: the rest were closed at once.
    let mut open = 0;
    for stream in &mut flood {
        let mut buf = [0; 1];
        if let Err(_) | Ok(Ok(1..)) =
            tokio::time::timeout(Duration::from_millis(20), stream.read(&mut buf)).await
        {
            open += 1;
        }
    }
    assert!(open <= PER_ADDRESS, "{open} flood connections held");
    drop(flood);
    // And the server is still fine for the flooding address once it stops.
    let status =
        tokio::time::timeout(BOUND, about(TcpStream::connect(addr).await.unwrap())).await.unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
}
