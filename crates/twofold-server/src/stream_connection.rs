//! Device event streams served without hyper's per-connection buffers (issue 25). hyper keeps a
//! read buffer and a write buffer of 8 KiB each for as long as an HTTP/1 connection lives, which
//! an idle stream holds for hours. So the first request head of every connection is read here:
//! when it is `GET /v1/device/stream`, the request goes through the same router (device
//! authentication, per-device stream cap, the handler) and its response is written straight to
//! the socket, one event at a time with nothing kept between events, and the connection closes
//! when the stream ends. Every other connection goes to hyper with the bytes read so far
//! replayed, so it is served exactly as before.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version, header};
use axum::response::IntoResponse as _;
use http_body_util::BodyExt as _;
use hyper::body::Body as _;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::ReadHalf;
use tokio::sync::watch;
use tokio::time::Instant;
use tower::ServiceExt as _;

use crate::error::AppError;

/// The start of a stream request's head; the route follows with a space or a query.
const STREAM_PREFIX: &[u8] = b"GET /v1/device/stream";
/// Room for the first read: a device's whole request head is well under this.
const FIRST_READ: usize = 2048;
/// The largest stream request head accepted: a device's is under 1 KiB, and a reverse proxy
/// adds a few headers.
const MAX_HEAD: usize = 16 * 1024;
/// The most headers a stream request may have (hyper's limit for other requests is 100).
const MAX_HEADERS: usize = 64;
/// How long the end of a stream or a refusal may take to write once the server is stopping or
/// the connection is being closed, and how long a closing connection is drained.
const CLOSING_WAIT: Duration = Duration::from_secs(1);
/// The most a closing connection is drained of, so the client reads the answer rather than a reset.
const CLOSING_DRAIN: usize = 64 * 1024;

/// What the first request of a connection turned out to be.
pub(crate) enum First {
    /// A device event stream request, parsed.
    Stream(Request<Body>),
    /// Anything else: the bytes read so far, for hyper.
    Other(Vec<u8>),
    /// A stream request refused before the router (malformed, oversized, with a body or with
    /// more bytes after it): the answer, after which the connection closes.
    Refused(AppError),
    /// The client closed the connection or sent nothing in time.
    Gone,
}

/// Reads the start of the first request from `stream` until `deadline` (the header timeout):
/// just enough to tell a stream request from any other, and all of a stream request's head.
pub(crate) async fn read_first(
    stream: &mut TcpStream,
    peer: SocketAddr,
    deadline: Instant,
) -> First {
    let mut read = Vec::with_capacity(FIRST_READ);
    loop {
        if read.len() == read.capacity() {
            read.reserve(read.capacity().min(MAX_HEAD - read.len()));
        }
        match tokio::time::timeout_at(deadline, stream.read_buf(&mut read)).await {
            Ok(Ok(0)) if read.is_empty() => return First::Gone,
            // An unfinished head: hyper answers it as it answers any other.
            Ok(Ok(0)) => return First::Other(read),
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return First::Gone,
        }
        let common = read.len().min(STREAM_PREFIX.len());
        if read[..common] != STREAM_PREFIX[..common] {
            return First::Other(read);
        }
        match read.get(STREAM_PREFIX.len()) {
            None => continue,
            Some(b' ' | b'?') => {}
            Some(_) => return First::Other(read),
        }
        match parse_stream_request(&read, peer) {
            Ok(Some(request)) => return First::Stream(request),
            Ok(None) if read.len() < MAX_HEAD => {}
            Ok(None) => return First::Refused(head_too_large()),
            Err(refusal) => return First::Refused(refusal),
        }
    }
}

fn head_too_large() -> AppError {
    AppError::client(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "head_too_large",
        format!("the event stream request's head is over {MAX_HEAD} bytes"),
    )
}

fn malformed(message: impl Into<String>) -> AppError {
    AppError::bad_request("malformed_request", message)
}

/// The stream request whose head `read` holds, `None` while it is unfinished.
fn parse_stream_request(read: &[u8], peer: SocketAddr) -> Result<Option<Request<Body>>, AppError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Request::new(&mut headers);
    let length = match head.parse(read) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(AppError::client(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "too_many_headers",
                format!("the event stream request has over {MAX_HEADERS} headers"),
            ));
        }
        Err(error) => return Err(malformed(format!("the request head is malformed: {error}"))),
    };
    if length < read.len() {
        return Err(malformed(
            "an event stream request must be the last request on its connection",
        ));
    }
    let version = match head.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(head.path.unwrap_or_default())
        .version(version)
        .body(Body::empty())
        .map_err(|_| malformed("the request target is not a valid path"))?;
    for field in head.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|_| malformed("a header name is not valid"))?;
        let value = HeaderValue::from_bytes(field.value)
            .map_err(|_| malformed("a header value is not valid"))?;
        request.headers_mut().append(name, value);
    }
    let headers = request.headers();
    let empty_length = headers.get_all(header::CONTENT_LENGTH).iter().all(|v| v == "0");
    if headers.contains_key(header::TRANSFER_ENCODING) || !empty_length {
        return Err(malformed("an event stream request has no body"));
    }
    request.extensions_mut().insert(ConnectInfo(peer));
    Ok(Some(request))
}

/// Whether the server is stopping: `stop` turned true, or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Resolves when the client sends anything (a pipelined request, which is never executed),
/// closes its side, or the connection fails: each ends the stream.
async fn client_done(reader: &mut ReadHalf<'_>) {
    let _ = reader.read(&mut [0; 1]).await;
}

/// Serves the stream request through `router` on `stream`, then closes the connection.
pub(crate) async fn serve(
    mut stream: TcpStream,
    request: Request<Body>,
    router: Router,
    mut stop: watch::Receiver<bool>,
) {
    let version = request.version();
    // Boxed: the router's future is large and done with before the events flow.
    let Ok(response) = Box::pin(router.oneshot(request)).await;
    write_response(&mut stream, response, version, &mut stop).await;
    // Boxed: its buffer is not part of what a stream holds while it waits for events.
    Box::pin(close(stream)).await;
}

/// Answers a refused stream request with its error, then closes the connection. Bytes the
/// client sent after the head are not watched here: they may be the rest of an oversized head.
pub(crate) async fn refuse(mut stream: TcpStream, refusal: AppError) {
    let (parts, body) = refusal.into_response().into_parts();
    // A refusal's body is a short JSON document, ready at once.
    let body = body.collect().await.map(|body| body.to_bytes()).unwrap_or_default();
    let mut answer = response_head(&parts, Framing::Length(body.len() as u64));
    answer.extend_from_slice(&body);
    let _ = tokio::time::timeout(CLOSING_WAIT, stream.write_all(&answer)).await;
    close(stream).await;
}

/// How a response body is delimited on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    /// The end of the connection ends the body (HTTP/1.0 clients).
    Close,
}

/// A response's head as it goes on the wire: HTTP/1.1, `framing`, and `Connection: close`.
fn response_head(parts: &axum::http::response::Parts, framing: Framing) -> Vec<u8> {
    let status = parts.status;
    let mut head =
        format!("HTTP/1.1 {} {}\r\n", status.as_str(), status.canonical_reason().unwrap_or(""))
            .into_bytes();
    for (name, value) in &parts.headers {
        if matches!(*name, header::CONNECTION | header::TRANSFER_ENCODING | header::CONTENT_LENGTH)
        {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    match framing {
        Framing::Length(length) => {
            head.extend_from_slice(format!("content-length: {length}\r\n").as_bytes());
        }
        Framing::Chunked => head.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        Framing::Close => {}
    }
    head.extend_from_slice(b"connection: close\r\n\r\n");
    head
}

/// Writes `response`'s head, then its body's frames as they come, until the body ends, the
/// client goes, or the server stops.
async fn write_response(
    stream: &mut TcpStream,
    response: Response<Body>,
    version: Version,
    stop: &mut watch::Receiver<bool>,
) {
    let (parts, mut body) = response.into_parts();
    let framing = match body.size_hint().exact() {
        Some(length) => Framing::Length(length),
        None if version == Version::HTTP_10 => Framing::Close,
        None => Framing::Chunked,
    };
    let head = response_head(&parts, framing);
    // Not kept while the events flow.
    drop(parts);
    let (mut reader, mut writer) = stream.split();
    let mut next = Some(head);
    loop {
        if let Some(bytes) = next.take() {
            tokio::select! {
                biased;
                () = stopped(stop) => return,
                () = client_done(&mut reader) => return,
                written = writer.write_all(&bytes) => if written.is_err() { return },
            }
        }
        let frame = tokio::select! {
            biased;
            () = stopped(stop) => None,
            () = client_done(&mut reader) => return,
            frame = body.frame() => frame,
        };
        match frame {
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else { continue };
                if data.is_empty() {
                    continue;
                }
                next = Some(match framing {
                    Framing::Chunked => {
                        let mut chunk = format!("{:x}\r\n", data.len()).into_bytes();
                        chunk.extend_from_slice(&data);
                        chunk.extend_from_slice(b"\r\n");
                        chunk
                    }
                    _ => data.to_vec(),
                });
            }
            // The body failed: the connection closes without the chunked end, so the client
            // sees an interrupted stream rather than a finished one.
            Some(Err(_)) => return,
            // The body ended or the server is stopping: the end of a chunked body, briefly.
            None => {
                if framing == Framing::Chunked {
                    let _ =
                        tokio::time::timeout(CLOSING_WAIT, writer.write_all(b"0\r\n\r\n")).await;
                }
                return;
            }
        }
    }
}

/// Closes `stream` so that the client reads the whole answer: the server's side is shut, then
/// what the client still sends is read and dropped for a moment (closing a socket with unread
/// bytes would reset the connection and could discard the answer on the way).
async fn close(mut stream: TcpStream) {
    let _ = tokio::time::timeout(CLOSING_WAIT, async {
        stream.shutdown().await?;
        let mut drained = 0;
        let mut buf = [0; 512];
        while drained < CLOSING_DRAIN {
            match stream.read(&mut buf).await? {
                0 => break,
                n => drained += n,
            }
        }
        io::Result::Ok(())
    })
    .await;
}

/// A connection whose first bytes were already read: they are read again first.
pub(crate) struct Replay {
    read: Vec<u8>,
    at: usize,
    stream: TcpStream,
}

impl Replay {
    /// `stream`, from which `read` was read.
    pub(crate) fn new(read: Vec<u8>, stream: TcpStream) -> Self {
        Self { read, at: 0, stream }
    }
}

impl AsyncRead for Replay {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.read.len() {
            let n = buf.remaining().min(this.read.len() - this.at);
            buf.put_slice(&this.read[this.at..this.at + n]);
            this.at += n;
            if this.at == this.read.len() {
                // Replayed: its memory goes back.
                this.read = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Replay {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] =
        b"GET /v1/device/stream?x=1 HTTP/1.1\r\nHost: t\r\nAuthorization: Twofold abc\r\n\r\n";

    fn peer() -> SocketAddr {
        "192.0.2.1:4000".parse().unwrap()
    }

    #[test]
    fn a_whole_stream_head_becomes_the_request_the_router_gets() {
        let Ok(Some(request)) = parse_stream_request(HEAD, peer()) else { panic!("not parsed") };
        assert_eq!(request.uri(), "/v1/device/stream?x=1");
        assert_eq!(request.version(), Version::HTTP_11);
        assert_eq!(request.headers()[header::AUTHORIZATION], "Twofold abc");
        let Some(ConnectInfo(from)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
            panic!("no peer")
        };
        assert_eq!(*from, peer());
    }

    #[test]
    fn every_cut_or_altered_head_is_unfinished_or_refused_never_a_panic() {
        for cut in 0..HEAD.len() {
            assert!(
                matches!(parse_stream_request(&HEAD[..cut], peer()), Ok(None) | Err(_)),
                "{cut}"
            );
        }
        for at in 0..HEAD.len() {
            for byte in [0, b'\r', b'\n', b' ', b':', 0x7f, 0xff] {
                let mut head = HEAD.to_vec();
                head[at] = byte;
                // Whatever it is, it is answered: parsed, unfinished or refused.
                let _ = parse_stream_request(&head, peer());
            }
        }
    }

    /// A header name: the characters HTTP allows in a token.
    const TOKEN: &str = "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}";

    /// Bytes of one header line's value: printable text most often, else any bytes but a
    /// line's end.
    fn line_bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::strategy::Strategy as _;
        let text = "[ -~\t]{0,40}".prop_map(String::into_bytes);
        let any = proptest::collection::vec(proptest::num::u8::ANY, 0..40).prop_map(|bytes| {
            bytes.into_iter().map(|b| if b == b'\r' || b == b'\n' { b'x' } else { b }).collect()
        });
        proptest::prop_oneof![9 => text, 1 => any]
    }

    proptest::proptest! {
        /// Any bytes after the route: never a panic, and a request only from one whole head
        /// that ends the bytes read, for the stream's route, with no body.
        #[test]
        fn any_bytes_after_the_route_are_parsed_or_refused(
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
        ) {
            let mut read = STREAM_PREFIX.to_vec();
            read.extend_from_slice(&tail);
            if let Ok(Some(request)) = parse_stream_request(&read, peer()) {
                proptest::prop_assert!(read.ends_with(b"\n"));
                proptest::prop_assert!(request.uri().path().starts_with("/v1/device/stream"));
                let headers = request.headers();
                proptest::prop_assert!(!headers.contains_key(header::TRANSFER_ENCODING));
            }
        }

        /// Headers of any bytes: never a panic, and an accepted head keeps every one of them.
        #[test]
        fn any_headers_are_all_kept_or_refused(
            fields in proptest::collection::vec((TOKEN, line_bytes()), 0..70),
        ) {
            let mut read = b"GET /v1/device/stream HTTP/1.1\r\n".to_vec();
            for (name, value) in &fields {
                read.extend_from_slice(name.as_bytes());
                read.extend_from_slice(b": ");
                read.extend_from_slice(value);
                read.extend_from_slice(b"\r\n");
            }
            read.extend_from_slice(b"\r\n");
            if let Ok(Some(request)) = parse_stream_request(&read, peer()) {
                let headers = request.headers();
                let kept: usize = headers.keys().map(|k| headers.get_all(k).iter().count()).sum();
                proptest::prop_assert_eq!(kept, fields.len());
                proptest::prop_assert!(fields.len() <= MAX_HEADERS);
            }
        }
    }
}
