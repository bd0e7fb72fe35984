//! The HTTP edge: the only module that imports hyper. Each request is converted once into a
//! [`SimRequest`] (body collected with a size limit) and given to the handler that [`serve`] was
//! started with (the route table lives above, in `routes`); the handler's [`SimResponse`] is
//! converted back. Knows nothing of the simulator. Connections drain on shutdown.

pub mod client;
mod files;
pub mod peer;
pub mod resolve;
mod stall;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use std::future::Future;

/// The body limit of the file upload (its 10 MB file plus multipart overhead), which is fixed.
/// Every other path's limit is configured ([`Handler::body_limit`]) and honoured as given; the
/// memory of bodies in flight is bounded by [`Limits::max_body_bytes_in_flight`] instead.
pub const MAX_BODY: usize = 11 * 1024 * 1024;

/// A request as handlers see it.
#[derive(Debug, Clone)]
pub struct SimRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The body exceeded the path's limit ([`Handler::body_limit`]); `body` is empty then.
    pub too_large: bool,
    /// The address the client's connection reached (None: a request made in-process).
    pub local_addr: Option<SocketAddr>,
}

impl SimRequest {
    /// The first value of header `name` (any letter case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Header `name`'s value when it is sent once; `Err(n)` when it is sent `n` times (a header
    /// that names something, such as the partner, is not taken from among several).
    pub fn single_header(&self, name: &str) -> Result<Option<&str>, usize> {
        let mut values = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name));
        match (values.next(), values.count()) {
            (first, 0) => Ok(first.map(|(_, v)| v.as_str())),
            (_, more) => Err(more + 1),
        }
    }

    /// A query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        query_pairs(self.query.as_deref().unwrap_or(""))
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn query_pairs(&self) -> Vec<(String, String)> {
        query_pairs(self.query.as_deref().unwrap_or("")).collect()
    }
}

/// Whether a partner-supplied link is a web URL (`http://` or `https://` with a host): the only
/// kind the simulator stores and puts in a page (a `javascript:` link would run on its origin).
/// See [`check_web_url`] for what is wrong with one that is not.
pub fn is_web_url(url: &str) -> bool {
    check_web_url(url).is_ok()
}

/// The refusal of `url`, given in field `field`, if it is no web URL ([`check_web_url`]): the
/// one message every surface refuses such a link with, naming what is wrong.
pub fn web_url_refusal(field: &str, url: &str) -> Option<String> {
    check_web_url(url).err().map(|why| {
        format!(
            "{field} must be an absolute http:// or https:// URL with a host, got {}: {why}",
            crate::text::echo(url)
        )
    })
}

/// Checks a link the simulator will send to (a notify URL, an IPN URL) or put in a page: written
/// as `http://` or `https://` followed by a host, and parsed the way the notification client
/// (reqwest, through the `url` crate) will parse it, so that a URL accepted here is never one
/// that every delivery attempt then fails on (`invalid port number`, `invalid IPv4 address`,
/// `invalid international domain name`). Port 0, which no receiver can listen on, is refused
/// too. The error is a clause saying what is wrong ("its scheme is \"ftp\"…", "it is not a valid
/// URL: invalid port number"), for a message such as "notify_url must be an absolute http:// or
/// https:// URL with a host; …".
pub fn check_web_url(url: &str) -> Result<(), String> {
    // What the `url` crate trims before parsing: leading and trailing controls and spaces.
    let text = url.trim_matches(|c: char| c <= ' ');
    let scheme_len = ["http://", "https://"]
        .into_iter()
        .find(|prefix| {
            text.get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        })
        .map(str::len);
    let Some(scheme_len) = scheme_len else {
        return Err(match text.split_once(':') {
            Some((scheme, _))
                if is_scheme(scheme)
                    && !["http", "https"]
                        .iter()
                        .any(|w| scheme.eq_ignore_ascii_case(w)) =>
            {
                format!("its scheme is {scheme:?}, not http:// or https://")
            }
            _ => "it does not start with http:// or https://".to_owned(),
        });
    };
    // The `url` crate reads `http:///x` or `http:\\x` as the host `x`; as written it has none.
    if text[scheme_len..].starts_with(['/', '\\']) || text.len() == scheme_len {
        return Err("it has no host after the //".to_owned());
    }
    let parsed = reqwest::Url::parse(text).map_err(|e| format!("it is not a valid URL: {e}"))?;
    if parsed.port() == Some(0) {
        return Err("its port is 0, which no receiver can listen on".to_owned());
    }
    Ok(())
}

/// `--url` of every partner-side command (`call`, `trigger`, `coverage`, `bench`): the simulator's base
/// URL (or, for `call`, a full endpoint URL), checked as the client will parse it
/// ([`check_web_url`]: `http://` or `https://`, a host, a valid port) so that a
/// mistyped URL is a usage error (exit 2) naming what is wrong, not a transport failure
/// (exit 3) that a script may retry. A query or fragment is refused: the command appends its
/// own path (`/api`, `/__sim/...`), which would land inside it.
pub fn simulator_url(value: &str) -> Result<String, String> {
    let text = value.trim();
    if text.is_empty() {
        return Err(
            "expected the simulator's URL, such as http://127.0.0.1:8080, but it is empty \
             (WHALET_SIM_URL set to nothing counts as given)"
                .to_owned(),
        );
    }
    check_web_url(text).map_err(|why| {
        format!("expected the simulator's URL, such as http://127.0.0.1:8080, but {why}")
    })?;
    if text.contains(['?', '#']) {
        return Err(
            "expected the simulator's URL, such as http://127.0.0.1:8080, without a query (?...) \
             or fragment (#...): the command appends its own path"
                .to_owned(),
        );
    }
    Ok(text.to_owned())
}

/// A URL scheme as RFC 3986 writes one: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// Splits `a=1&b=x%20y` into decoded pairs (`+` is a space, as in forms). Bytes that are not
/// UTF-8 once decoded become U+FFFD: for query strings, whose values only select; a request
/// body whose fields are signed or stored is read by [`form_pairs`], which refuses them.
pub fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

/// [`percent_decode_bytes`] read as UTF-8, anything else as U+FFFD (see [`query_pairs`]).
pub fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(s.as_bytes())).into_owned()
}

/// The bytes `s` stands for: `%XX` is the byte XX, `+` a space; a `%` not followed by two hex
/// digits is kept as sent.
pub fn percent_decode_bytes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let decoded = (s[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (s[i], decoded) {
            (_, Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (b, None) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// A form field whose name or value is not UTF-8 once percent-decoded ([`form_pairs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUtf8 {
    /// The field's name (as far as it is text), or None when the name itself is not UTF-8.
    pub field: Option<String>,
    /// The decoded bytes of the part that is not UTF-8.
    pub bytes: Vec<u8>,
    /// Whether every byte outside ASCII was sent percent-encoded (`%D6`), not raw.
    pub percent_encoded: bool,
}

impl std::fmt::Display for NotUtf8 {
    /// `value of note is not UTF-8 (percent-encoded bytes D6 D0 CE C4)`: the bytes in hex within
    /// the bound of any echoed value (`text::ECHO_BYTES`, three characters a byte), then
    /// `… N more bytes`; the name cut as any echoed value is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = crate::text::ECHO_BYTES / 3;
        let mut hex: Vec<String> = self
            .bytes
            .iter()
            .take(shown)
            .map(|b| format!("{b:02X}"))
            .collect();
        if self.bytes.len() > shown {
            hex.push(format!("… {} more bytes", self.bytes.len() - shown));
        }
        let what = match &self.field {
            Some(name) => format!("value of {}", crate::text::echo_bare(name)),
            None => "a field name".to_owned(),
        };
        let how = if self.percent_encoded {
            "percent-encoded bytes"
        } else {
            "bytes"
        };
        write!(f, "{what} is not UTF-8 ({how} {})", hex.join(" "))
    }
}

/// Splits an `application/x-www-form-urlencoded` body into decoded pairs, as [`query_pairs`]
/// does, but refuses a name or value that is not UTF-8 once decoded (a GBK or Latin-1 client),
/// naming the field and its bytes, rather than turning them into U+FFFD: a form's values are
/// signed and stored, and a value silently changed would fail its signature for no visible reason.
pub fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, NotUtf8> {
    let mut out = Vec::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let cut = pair.iter().position(|b| *b == b'=');
        let (k, v) = match cut {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        let name = utf8_field(k).map_err(|bytes| NotUtf8 {
            field: None,
            bytes,
            percent_encoded: k.is_ascii(),
        })?;
        let value = utf8_field(v).map_err(|bytes| NotUtf8 {
            field: Some(name.clone()),
            bytes,
            percent_encoded: v.is_ascii(),
        })?;
        out.push((name, value));
    }
    Ok(out)
}

/// The decoded text of one form name or value, or its decoded bytes when they are not UTF-8.
fn utf8_field(raw: &[u8]) -> Result<String, Vec<u8>> {
    String::from_utf8(percent_decode_bytes(raw)).map_err(|e| e.into_bytes())
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub enum SimResponse {
    Reply {
        status: u16,
        content_type: &'static str,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    /// Close the connection without an answer (scenario fault injection).
    Drop,
}

impl SimResponse {
    pub fn json(status: u16, body: impl Into<Bytes>) -> Self {
        Self::with_type(status, "application/json;charset=UTF-8", body)
    }

    pub fn json_value(status: u16, value: &serde_json::Value) -> Self {
        Self::json(status, serde_json::to_vec(value).unwrap_or_default())
    }

    pub fn text(status: u16, body: impl Into<Bytes>) -> Self {
        Self::with_type(status, "text/plain;charset=UTF-8", body)
    }

    pub fn html(status: u16, body: impl Into<Bytes>) -> Self {
        Self::with_type(status, "text/html;charset=UTF-8", body)
    }

    pub fn with_type(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self::Reply {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header (no effect on `Drop`).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        if let Self::Reply { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.into()));
        }
        self
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Reply { status, .. } => *status,
            Self::Drop => 0,
        }
    }

    pub fn body(&self) -> &[u8] {
        match self {
            Self::Reply { body, .. } => body,
            Self::Drop => b"",
        }
    }
}

/// What the edge asks of the application it serves.
pub trait Handler: Clone + Send + Sync + 'static {
    /// The largest body a request to `path` may carry. Checked against `Content-Length` before
    /// anything is read, and while a body without one streams in; a larger body is not kept
    /// (the request arrives with `too_large` set and an empty body).
    fn body_limit(&self, method: &str, path: &str) -> usize;
    /// Answers one request.
    fn call(&self, req: SimRequest) -> impl Future<Output = SimResponse> + Send;
}

/// Limits of the HTTP edge (config `[server]`, docs/RELIABILITY.md).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time a client has to send a request's headers; also the longest a keep-alive connection
    /// may sit idle between requests.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body once its headers are in; a body still
    /// incomplete by then is answered 408 and the connection closed.
    pub body_read_timeout: Duration,
    /// How long after its head a body may arrive before its room in the budget of bodies in
    /// flight can be reclaimed: when the budget is spent, a request that needs room cuts the
    /// bodies past this that received nothing for the longest time (408), instead of being
    /// refused, so bodies that stall cannot lock others out for longer than this.
    pub body_reclaim_after: Duration,
    /// Connections served at once; a connection beyond it is answered 503 and closed.
    pub max_connections: usize,
    /// Bytes of request bodies held in memory at once, over all connections, counted as they
    /// arrive; a body that does not fit is answered 503 and the rest of it not read.
    pub max_body_bytes_in_flight: usize,
    /// Time a response write may wait on a client that takes no byte of it (it stopped reading,
    /// e.g. pipelining requests without reading the answers); then the connection is closed.
    pub write_stall_timeout: Duration,
    /// Header fields a request may carry; more are answered 431 and the connection closed.
    pub max_header_fields: usize,
    /// Bytes of a request's head (request line and header fields); more are answered 431.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            body_reclaim_after: Duration::from_secs(1),
            max_connections: 1024,
            max_body_bytes_in_flight: 256 * 1024 * 1024,
            write_stall_timeout: Duration::from_secs(10),
            max_header_fields: HYPER_MAX_HEADERS,
            max_header_bytes: 8192 + 4096 * 100,
        }
    }
}

/// hyper's own header-field bound; the builder is told another only when it differs, since an
/// explicit one costs a heap allocation per request.
const HYPER_MAX_HEADERS: usize = 100;

/// hyper's smallest read buffer: a lower head limit is checked on the complete head instead.
const HYPER_MIN_BUF: usize = 8192;

/// The answer to a connection over [`Limits::max_connections`].
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 94\r\nconnection: close\r\nretry-after: 1\r\n\r\n{\"error\":\"too many open connections to the simulator ([server] max_connections); retry later\"}";

tokio::task_local! {
    /// The server's shutdown signal, seen by the requests it serves ([`stopping`]).
    static SHUTDOWN: CancellationToken;
}

/// Resolves when the server serving the current request begins to shut down (never, outside a
/// request [`serve`] serves). A request that waits on something (a long poll) answers at once
/// then, rather than hold the drain for its whole wait and be cut off unanswered at its end.
pub async fn stopping() {
    match SHUTDOWN.try_with(CancellationToken::clone) {
        Ok(token) => token.cancelled_owned().await,
        Err(_) => std::future::pending().await,
    }
}

/// Serves `listener` with `handler` until `shutdown` is cancelled, then drains open connections
/// (bounded). The open-file limit is raised for `max_connections` when this is called, before
/// the future is spawned: its warning, if any, comes before the caller's ready line.
pub fn serve<H: Handler>(
    listener: TcpListener,
    handler: H,
    limits: Limits,
    shutdown: CancellationToken,
) -> impl std::future::Future<Output = ()> + Send {
    files::ensure_open_file_limit(limits.max_connections);
    accept_loop(listener, handler, limits, shutdown)
}

/// [`serve`]'s loop: accepts connections within the limits and serves each.
async fn accept_loop<H: Handler>(
    listener: TcpListener,
    handler: H,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refusals = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let busy_wait = limits.header_read_timeout.min(BUSY_WAIT);
    let bodies = Arc::new(BodyBudget::new(
        limits.max_body_bytes_in_flight,
        limits.body_reclaim_after,
    ));
    let mut accept_errors = AcceptErrors::default();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    accept_errors.note(&e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().ok();
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            edge_event(
                EdgeEvent::LimitHit,
                format_args!(
                    "a connection was refused with 503: {} are open ([server] max_connections)",
                    limits.max_connections
                ),
            );
            match refusals.clone().try_acquire_owned() {
                Ok(slot) => {
                    tokio::spawn(refuse_busy(stream, busy_wait, slot));
                }
                Err(_) => refuse_busy_at_once(stream),
            }
            continue;
        };
        let (handler, bodies) = (handler.clone(), bodies.clone());
        let body_timeout = limits.body_read_timeout;
        let after = Arc::new(AfterClose::default());
        let service = {
            let after = after.clone();
            let shutdown = shutdown.clone();
            service_fn(move |req| {
                let (handler, bodies, after) = (handler.clone(), bodies.clone(), after.clone());
                let answer =
                    async move { handle(handler, bodies, body_timeout, req, local, &after).await };
                SHUTDOWN.scope(shutdown.clone(), answer)
            })
        };
        let stream = stall::StallGuarded::new(stream, limits.write_stall_timeout)
            .keep_for_drain(after.clone());
        let conn = connection_builder(&limits).serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(conn);
        let header_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            if let Err(e) = watched.await {
                connection_error(&e, header_timeout);
            }
            after.drain_kept().await;
            drop(permit);
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections drained"),
        _ = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("gave up draining connections after 10 s"),
    }
}

/// hyper's settings for one connection: the header-read timeout and the head limits.
fn connection_builder(limits: &Limits) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(HYPER_MIN_BUF));
    if limits.max_header_fields != HYPER_MAX_HEADERS {
        builder.max_headers(limits.max_header_fields);
    }
    builder
}

/// The longest an over-limit connection is waited on for its request head, for the 503 to be
/// written, and for the client to close after it (each; a shorter header-read timeout wins).
const BUSY_WAIT: Duration = Duration::from_secs(1);

/// The most of a request head an over-limit connection is read for.
const BUSY_HEAD_BYTES: usize = 8 * 1024;

/// The most read and dropped after the 503 to an over-limit connection.
const BUSY_DRAIN_BYTES: u64 = BUSY_HEAD_BYTES as u64 * 8;

/// Answers a connection over the limit with a 503 and closes it, bounded in time and bytes. The
/// request head is read first (at most [`BUSY_HEAD_BYTES`] within `wait`): an HTTP client that
/// has its answer before it finished sending reports the connection as broken, not the 503.
/// After the answer, what the client still sends is read and dropped until it closes (again
/// within `wait`), so that unread bytes do not turn the close into a reset that loses the answer.
/// `_slot` is one of the refusals that may wait at once.
async fn refuse_busy(
    mut stream: tokio::net::TcpStream,
    wait: Duration,
    _slot: tokio::sync::OwnedSemaphorePermit,
) {
    use tokio::io::AsyncWriteExt;
    let _ = tokio::time::timeout(wait, read_head(&mut stream)).await;
    if tokio::time::timeout(wait, stream.write_all(BUSY))
        .await
        .is_ok_and(|written| written.is_ok())
    {
        let _ = stream.shutdown().await;
        let _ = tokio::time::timeout(wait, drain(&mut stream, BUSY_DRAIN_BYTES)).await;
    }
}

/// The answer to a connection over the limit while [`Limits::max_connections`] refusals are
/// already waiting on their clients: the 503 as far as the socket takes it at once, then close,
/// never waiting. What the client already sent (its request head, most often) is read first,
/// up to [`BUSY_AT_ONCE_INPUT`]: closing with unread input would make the kernel reset the
/// connection, and a client reset may lose the 503 it was sent. The socket is used directly
/// (not through the runtime's readiness, not yet known for a socket just accepted).
fn refuse_busy_at_once(stream: tokio::net::TcpStream) {
    use std::io::{Read, Write};
    let Ok(mut stream) = stream.into_std() else {
        return;
    };
    let _ = stream.write(BUSY);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut buf = [0u8; 4096];
    let mut left = BUSY_AT_ONCE_INPUT;
    while left > 0 {
        match stream.read(&mut buf) {
            Ok(n) if n > 0 => left = left.saturating_sub(n),
            _ => return, // the end, nothing more yet (the socket does not block), or an error
        }
    }
}

/// The most of a client's input read before a connection is refused at once.
const BUSY_AT_ONCE_INPUT: usize = 16 * 1024;

/// Reads until the end of a request head (a blank line), the end of the stream, or
/// [`BUSY_HEAD_BYTES`].
async fn read_head(stream: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while head.len() < BUSY_HEAD_BYTES {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return;
        }
    }
}

/// Reads and drops what the client sends until it closes, or `most` bytes (the callers bound it in
/// time too: [`BUSY_WAIT`]).
async fn drain(stream: &mut tokio::net::TcpStream, most: u64) {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 8192];
    let mut left = most;
    while left > 0 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n as u64),
        }
    }
}

/// What a connection's task does once hyper is done with it. A request answered without its
/// body being read (over the path's limit, or in a transfer coding the edge does not know) is
/// answered with `connection: close`; the client may still be sending that body (HTTP clients
/// such as Python's write it all before they read), and a socket closed with unread input is
/// reset, losing the answer. So the socket is kept ([`stall::StallGuarded`] hands it over when
/// hyper drops it), and what the client still sends is read and dropped until it closes, as
/// after a 503 over `max_connections` ([`drain`], at most [`BUSY_WAIT`]).
#[derive(Default)]
pub(crate) struct AfterClose {
    /// Bytes at most to drain after the close (0: none, the socket is not kept).
    drain: std::sync::atomic::AtomicU64,
    kept: parking_lot::Mutex<Option<std::net::TcpStream>>,
}

impl AfterClose {
    /// Asks for at most `most` bytes to be drained once hyper is done with the connection.
    fn drain_after_close(&self, most: u64) {
        self.drain
            .fetch_max(most.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Keeps (a duplicate of) the socket hyper drops, if a drain was asked for.
    fn keep(&self, socket: &tokio::net::TcpStream) {
        if self.drain.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            return;
        }
        if let Ok(fd) = rustix::io::dup(socket) {
            *self.kept.lock() = Some(std::net::TcpStream::from(fd));
        }
    }

    /// Closes the write side of the kept socket (the client reads the answer to its end) and
    /// drains it, bounded in time and bytes.
    async fn drain_kept(&self) {
        use tokio::io::AsyncWriteExt;
        let Some(kept) = self.kept.lock().take() else {
            return;
        };
        let Ok(mut stream) = tokio::net::TcpStream::from_std(kept) else {
            return;
        };
        let most = self.drain.load(std::sync::atomic::Ordering::Relaxed);
        let _ = stream.shutdown().await;
        let _ = tokio::time::timeout(BUSY_WAIT, drain(&mut stream, most)).await;
    }
}

/// What an [`edge_event`] is: a configured limit a client hit (logged at warn, naming the key),
/// or an ordinary client error or disconnect (debug).
#[derive(Clone, Copy)]
enum EdgeEvent {
    LimitHit,
    ClientError,
}

/// Refusals and cut-offs of clients, counted per kind (its level and its message, so a 408 is
/// never counted under a 431's line): each kind logged at most once a second, the line counting
/// those since the last line of that kind, so that a hostile client cannot flood the log. What
/// a second held back is logged when the second ends ([`flush_edge_event`]), not with whatever
/// comes next. At most [`EDGE_KINDS`] kinds are told apart; the rest share one slot per level.
static EDGE_EVENTS: parking_lot::Mutex<Option<HashMap<(u8, String), EdgeSlot>>> =
    parking_lot::Mutex::new(None);

/// How many kinds of edge events [`EDGE_EVENTS`] tells apart (messages carry only limits and
/// fixed words, so a handful exist; the bound only keeps a surprise from growing the map).
const EDGE_KINDS: usize = 64;

/// One kind of edge event's count since its last line.
#[derive(Debug, Default)]
struct EdgeSlot {
    /// Events held back since the last line.
    held: u64,
    /// When the first of them came (wall clock, for the line that tells them).
    held_since: Option<std::time::SystemTime>,
    /// When the last line was written.
    last_line: Option<std::time::Instant>,
    /// A flush of what is held is scheduled.
    flush_due: bool,
}

impl EdgeSlot {
    /// Counts one event at `now`: the count to log now (this one and those held back) when a
    /// second has passed since the last line or there was none; else None, and whether the
    /// caller must schedule the flush of what is now held ([`EdgeSlot::flush`]).
    fn note(&mut self, now: std::time::Instant) -> (Option<u64>, bool) {
        if self
            .last_line
            .is_some_and(|t| now < t + Duration::from_secs(1))
        {
            self.held += 1;
            self.held_since
                .get_or_insert_with(std::time::SystemTime::now);
            let schedule = !std::mem::replace(&mut self.flush_due, true);
            return (None, schedule);
        }
        self.last_line = Some(now);
        self.held_since = None;
        (Some(std::mem::take(&mut self.held) + 1), false)
    }

    /// At the end of the second after the last line: what was held back since (its count and
    /// when the first came), to be logged now; None when nothing was.
    fn flush(&mut self, now: std::time::Instant) -> Option<(u64, std::time::SystemTime)> {
        self.flush_due = false;
        let since = self.held_since.take()?;
        self.last_line = Some(now);
        Some((std::mem::take(&mut self.held), since))
    }
}

/// Logs that the edge refused or cut off a client (rate-limited per kind: [`EDGE_EVENTS`]).
fn edge_event(kind: EdgeEvent, what: std::fmt::Arguments<'_>) {
    let text = what.to_string();
    let now = std::time::Instant::now();
    let (key, (due, schedule)) = {
        let mut events = EDGE_EVENTS.lock();
        let events = events.get_or_insert_with(HashMap::new);
        let mut key = (kind as u8, text.clone());
        if !events.contains_key(&key) && events.len() >= EDGE_KINDS {
            key.1 = String::new();
        }
        let noted = events.entry(key.clone()).or_default().note(now);
        (key, noted)
    };
    if let Some(count) = due {
        edge_line(kind, count, None, &text);
    }
    if schedule {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(flush_edge_event(kind, key, text));
        }
    }
}

/// Logs, once the second after a kind's last line has passed, the events of that kind held
/// back meanwhile (a burst followed by silence is counted, under its own words and time).
async fn flush_edge_event(kind: EdgeEvent, key: (u8, String), text: String) {
    let last = EDGE_EVENTS
        .lock()
        .as_ref()
        .and_then(|events| events.get(&key)?.last_line);
    if let Some(last) = last {
        tokio::time::sleep_until((last + Duration::from_secs(1)).into()).await;
    }
    let held = EDGE_EVENTS
        .lock()
        .as_mut()
        .and_then(|events| events.get_mut(&key)?.flush(std::time::Instant::now()));
    if let Some((count, since)) = held {
        edge_line(kind, count, Some(since), &text);
    }
}

/// One line of [`edge_event`]: `count` events like `text`, held back since `since` if given.
fn edge_line(kind: EdgeEvent, count: u64, since: Option<std::time::SystemTime>, text: &str) {
    let since = since.map(|t| {
        time::OffsetDateTime::from(t)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    });
    match (kind, since) {
        (EdgeEvent::LimitHit, None) => tracing::warn!(count, "{text}"),
        (EdgeEvent::LimitHit, Some(since)) => tracing::warn!(count, since, "{text}"),
        (EdgeEvent::ClientError, None) => tracing::debug!(count, "{text}"),
        (EdgeEvent::ClientError, Some(since)) => tracing::debug!(count, since, "{text}"),
    }
}

/// Logs why hyper ended a connection with an error ([`edge_event`]).
fn connection_error(e: &hyper::Error, header_timeout: Duration) {
    use std::error::Error as _;
    let stalled = e
        .source()
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
    if e.is_parse_too_large() {
        edge_event(
            EdgeEvent::LimitHit,
            format_args!("{}", too_large_head(&e.to_string())),
        );
    } else if stalled {
        edge_event(
            EdgeEvent::LimitHit,
            format_args!(
                "a connection was cut off: {}",
                e.source().map_or(String::new(), |s| s.to_string())
            ),
        );
    } else if e.is_timeout() {
        // A client idle on keep-alive ends the same way, which is ordinary: debug.
        edge_event(
            EdgeEvent::ClientError,
            format_args!(
                "a connection was closed: no request head within {} ms \
                 ([server] header_read_timeout_ms), or idle that long on keep-alive",
                header_timeout.as_millis()
            ),
        );
    } else if e.is_parse() {
        edge_event(
            EdgeEvent::ClientError,
            format_args!("a malformed request (or an HTTP/2 preface) was refused: {e}"),
        );
    } else if !e.is_user() {
        edge_event(
            EdgeEvent::ClientError,
            format_args!("a connection ended with an error: {e}"),
        );
    }
}

/// Why a request's `Host` makes it malformed (RFC 9112 §3.2): an HTTP/1.1 request without
/// one, or any request with more than one, is answered 400 before anything reads it.
fn host_refusal(parts: &hyper::http::request::Parts) -> Option<String> {
    let hosts = parts.headers.get_all(hyper::header::HOST).iter().count();
    if hosts > 1 {
        return Some(format!(
            "the request carries {hosts} Host headers; send exactly one (RFC 9112 section 3.2)"
        ));
    }
    if hosts == 0 && parts.version == hyper::Version::HTTP_11 {
        return Some(
            "an HTTP/1.1 request must carry a Host header (RFC 9112 section 3.2)".to_owned(),
        );
    }
    None
}

/// The request's headers as the simulator reads them. A value with bytes past ASCII is kept (as
/// UTF-8, invalid bytes replaced), never dropped: a header that was sent is never read as one
/// left out. A request in absolute form (`GET http://host:port/path`) is for the target's
/// authority, whatever `Host` says (RFC 9112 §3.2.2): its `Host` is that authority.
fn request_headers(parts: &hyper::http::request::Parts) -> Vec<(String, String)> {
    let authority = parts.uri.authority().map(|a| a.as_str().to_owned());
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(k, _)| authority.is_none() || *k != hyper::header::HOST)
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (k.as_str().to_owned(), value)
        })
        .collect();
    if let Some(authority) = authority {
        headers.push(("host".to_owned(), authority));
    }
    headers
}

/// What a head hyper refused as too large says in the log: a target over the parser's fixed
/// bound is answered 414 (no setting changes it); a head over the configured bounds 431.
/// `error` is hyper's own text, which names the first case "URI too long".
fn too_large_head(error: &str) -> String {
    if error.contains("URI too long") {
        format!(
            "a request target was refused with 414: longer than the HTTP parser's fixed bound \
             of 65,534 bytes, which no setting changes ({error})"
        )
    } else {
        format!(
            "a request head was refused with 431: over [server] max_header_bytes or \
             max_header_fields ({error})"
        )
    }
}

/// Accept errors (e.g. out of file descriptors), logged at most once a second with a count.
#[derive(Default)]
struct AcceptErrors {
    since_log: u64,
    last_log: Option<std::time::Instant>,
}

impl AcceptErrors {
    fn note(&mut self, e: &std::io::Error) {
        self.since_log += 1;
        if self
            .last_log
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(error = %e, count = self.since_log, "accept failed");
            self.since_log = 0;
            self.last_log = Some(std::time::Instant::now());
        }
    }
}

/// The memory budget of request bodies in flight, in KiB permits, and the bodies still arriving
/// [`Limits::body_reclaim_after`] after their head, whose room may be reclaimed when it is spent.
struct BodyBudget {
    permits: Semaphore,
    /// When a body's room may be reclaimed ([`Limits::body_reclaim_after`]).
    reclaim_after: Duration,
    /// The bodies past `reclaim_after` still arriving. Only such a body takes this lock (once
    /// when it gets there, once when it ends), and a request that finds the budget spent: a body
    /// that arrives at once never does.
    slow: parking_lot::Mutex<Vec<Arc<SlowBody>>>,
    /// What [`SlowBody::last_bytes`] counts from ([`Self::millis`]).
    epoch: tokio::time::Instant,
}

/// A body still arriving [`Limits::body_reclaim_after`] after its head, as the [`BodyBudget`]
/// sees it: what it holds, when its last bytes came, and the signal that its room is taken back.
struct SlowBody {
    /// Milliseconds from the budget's epoch to when its last bytes came (or its head).
    last_bytes: std::sync::atomic::AtomicU64,
    /// KiB permits it holds.
    held_kib: std::sync::atomic::AtomicUsize,
    /// Its room is reclaimed: the body is to be cut (408) and its permits given back.
    reclaimed: std::sync::atomic::AtomicBool,
    wake: tokio::sync::Notify,
}

/// A [`SlowBody`] listed in its budget for as long as its body is read.
struct SlowEntry<'a> {
    budget: &'a BodyBudget,
    body: Arc<SlowBody>,
}

impl Drop for SlowEntry<'_> {
    fn drop(&mut self) {
        let mut slow = self.budget.slow.lock();
        if let Some(at) = slow.iter().position(|b| Arc::ptr_eq(b, &self.body)) {
            slow.swap_remove(at);
        }
    }
}

impl SlowEntry<'_> {
    fn is_reclaimed(&self) -> bool {
        self.body
            .reclaimed
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Notes that bytes came now, and that the body holds `held_kib` permits.
    fn progress(&self, held_kib: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.body.last_bytes.store(self.budget.millis(), Relaxed);
        self.body.held_kib.store(held_kib, Relaxed);
    }

    /// How long ago its last bytes came.
    fn idle(&self) -> Duration {
        let last = self
            .body
            .last_bytes
            .load(std::sync::atomic::Ordering::Relaxed);
        Duration::from_millis(self.budget.millis().saturating_sub(last))
    }
}

/// The longest a request that reclaimed room waits for the bodies it cut to give it back (they
/// do at once, on their own tasks).
const RECLAIM_WAIT: Duration = Duration::from_secs(1);

impl BodyBudget {
    fn new(bytes: usize, reclaim_after: Duration) -> Self {
        Self {
            permits: Semaphore::new((bytes / 1024).clamp(1, Semaphore::MAX_PERMITS)),
            reclaim_after,
            slow: parking_lot::Mutex::new(Vec::new()),
            epoch: tokio::time::Instant::now(),
        }
    }

    /// Milliseconds since the epoch, counted from 2^40 (35 years) so that a time before the
    /// epoch ([`Self::list_slow`]'s last bytes) is a number too.
    fn millis(&self) -> u64 {
        let since = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        since.saturating_add(1 << 40)
    }

    /// KiB permits for `bytes`.
    fn kib(bytes: usize) -> u32 {
        u32::try_from(bytes.div_ceil(1024).max(1)).unwrap_or(u32::MAX)
    }

    /// Reserves room for `bytes` more of a body, or None when the budget is spent.
    fn reserve(&self, bytes: usize) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.permits.try_acquire_many(Self::kib(bytes)).ok()
    }

    /// [`Self::reserve`], but when the budget is spent the room is taken from bodies past
    /// `reclaim_after` (other than `me`), those whose last bytes came longest ago first, if they
    /// hold enough: they are cut and their room comes to this body. None when they do not.
    async fn reserve_or_reclaim<'a>(
        &'a self,
        bytes: usize,
        me: Option<&SlowEntry<'a>>,
    ) -> Option<tokio::sync::SemaphorePermit<'a>> {
        if let Some(permit) = self.reserve(bytes) {
            return Some(permit);
        }
        let kib = Self::kib(bytes);
        let short = (kib as usize).saturating_sub(self.permits.available_permits());
        let acquire = self.permits.acquire_many(kib);
        tokio::pin!(acquire);
        // Queued first, so that the room the cut bodies give back comes to this request.
        let first =
            std::future::poll_fn(|cx| std::task::Poll::Ready(acquire.as_mut().poll(cx))).await;
        if let std::task::Poll::Ready(acquired) = first {
            return acquired.ok();
        }
        if !self.reclaim(short, me.map(|m| &m.body)) {
            return None;
        }
        tokio::time::timeout(RECLAIM_WAIT, acquire).await.ok()?.ok()
    }

    /// Marks for cutting the bodies past `reclaim_after`, other than `me`, whose last bytes came
    /// longest ago, until they hold `short` KiB; marks none (false) if all of them hold less.
    fn reclaim(&self, short: usize, me: Option<&Arc<SlowBody>>) -> bool {
        use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
        let mut slow = self.slow.lock();
        let open = |b: &&Arc<SlowBody>| {
            !b.reclaimed.load(Acquire) && !me.is_some_and(|m| Arc::ptr_eq(m, b))
        };
        let held: usize = slow
            .iter()
            .filter(open)
            .map(|b| b.held_kib.load(Relaxed))
            .sum();
        if held < short.max(1) {
            return false;
        }
        slow.sort_unstable_by_key(|b| b.last_bytes.load(Relaxed));
        let mut freed = 0;
        for body in slow.iter().filter(open) {
            if freed >= short.max(1) {
                break;
            }
            freed += body.held_kib.load(Relaxed);
            body.reclaimed.store(true, Release);
            body.wake.notify_one();
        }
        true
    }

    /// Lists a body that is still arriving `reclaim_after` after its head, holding `held_kib`
    /// permits, its last bytes `idle` ago.
    fn list_slow(&self, held_kib: usize, idle: Duration) -> SlowEntry<'_> {
        let last = self
            .millis()
            .saturating_sub(u64::try_from(idle.as_millis()).unwrap_or(u64::MAX));
        let body = Arc::new(SlowBody {
            last_bytes: std::sync::atomic::AtomicU64::new(last),
            held_kib: std::sync::atomic::AtomicUsize::new(held_kib),
            reclaimed: std::sync::atomic::AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
        });
        self.slow.lock().push(body.clone());
        SlowEntry { budget: self, body }
    }
}

/// The least a body reserves ahead of what has arrived (the room then doubles as it fills): a
/// small body takes one reservation, and a client that declares a large body and then stalls
/// holds no more than this beyond what it sent.
const RESERVE_AHEAD: usize = 64 * 1024;

/// Why a body was not handed on.
#[derive(Debug)]
enum BodyRefusal {
    /// The budget of bodies in flight is spent.
    Busy,
    /// The client broke off or sent bad chunking.
    Unreadable(String),
    /// The body did not arrive within the body-read timeout.
    TimedOut(Duration),
    /// The body was still arriving `after` its head, its last bytes `idle` ago, when another
    /// request needed its room in the spent budget.
    Reclaimed { after: Duration, idle: Duration },
}

/// The room a body holds in the [`BodyBudget`]: kept until its request is answered, so that the
/// bodies the handlers still hold (waiting at the CPU gate, decrypting) count too.
type Held<'a> = Vec<tokio::sync::SemaphorePermit<'a>>;

/// Resolves once `slow`'s room is reclaimed (never while the body is not listed).
async fn reclaimed(slow: Option<&SlowEntry<'_>>) {
    match slow {
        Some(entry) => loop {
            let woken = entry.body.wake.notified();
            if entry.is_reclaimed() {
                return;
            }
            woken.await;
        },
        None => std::future::pending().await,
    }
}

/// `start + after`, or far in the future when that is past what an instant holds.
fn instant_after(start: tokio::time::Instant, after: Duration) -> tokio::time::Instant {
    start
        .checked_add(after)
        .unwrap_or_else(|| start + Duration::from_secs(86_400 * 365 * 30))
}

/// Reads a request body of at most `limit` bytes (`None`: larger, the rest not read), holding
/// its memory in `budget` as it arrives (the room is handed back with it), and giving up after
/// `timeout`. From the budget's `reclaim_after` on, the body is listed as one whose room another
/// request may reclaim when the budget is spent ([`BodyBudget::reserve_or_reclaim`]); it is
/// then cut.
async fn read_body<'a>(
    body: Incoming,
    declared: Option<u64>,
    limit: usize,
    budget: &'a BodyBudget,
    timeout: Duration,
) -> Result<(Option<Bytes>, Held<'a>), BodyRefusal> {
    let mut body = body;
    let mut reserved = Vec::new();
    let mut room = 0usize;
    let mut held_kib = 0usize;
    let ahead = declared.map_or(0, |n| (n as usize).min(RESERVE_AHEAD));
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0usize;
    let start = tokio::time::Instant::now();
    let deadline = instant_after(start, timeout);
    let reclaimable = instant_after(start, budget.reclaim_after);
    // One timer: first when the body becomes reclaimable, then the body-read timeout. It is
    // armed only if the body does not arrive at once.
    let wait = tokio::time::sleep_until(reclaimable.min(deadline));
    tokio::pin!(wait);
    let mut slow: Option<SlowEntry<'a>> = None;
    let mut last_bytes = start;
    loop {
        let frame = tokio::select! {
            biased;
            () = reclaimed(slow.as_ref()) => {
                let idle = slow.as_ref().map_or(Duration::ZERO, SlowEntry::idle);
                return Err(BodyRefusal::Reclaimed { after: budget.reclaim_after, idle });
            }
            frame = body.frame() => frame,
            () = &mut wait => {
                if slow.is_some() || reclaimable >= deadline {
                    return Err(BodyRefusal::TimedOut(timeout));
                }
                slow = Some(budget.list_slow(held_kib, last_bytes.elapsed()));
                wait.as_mut().reset(deadline);
                continue;
            }
        };
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| BodyRefusal::Unreadable(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total += data.len();
        if total > limit {
            return Ok((None, Vec::new()));
        }
        if total > room {
            let want = (total - room).max(ahead).max(room).min(limit - room);
            let permit = budget.reserve_or_reclaim(want, slow.as_ref()).await;
            reserved.push(permit.ok_or(BodyRefusal::Busy)?);
            room += want;
            held_kib += BodyBudget::kib(want) as usize;
        }
        match &slow {
            Some(entry) => entry.progress(held_kib),
            None => last_bytes = tokio::time::Instant::now(),
        }
        chunks.push(data);
    }
    let whole = match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => Bytes::from(chunks.concat()),
    };
    Ok((Some(whole), reserved))
}

type HyperResponse = hyper::Response<Full<Bytes>>;

impl BodyRefusal {
    /// The edge's own answer: 503 (busy, with `retry-after`), 400 (unreadable) or 408 (too slow),
    /// each closing the connection, whose unread rest of the body cannot be skipped.
    fn answer(self) -> HyperResponse {
        let (status, error) = match self {
            Self::Busy => (
                hyper::StatusCode::SERVICE_UNAVAILABLE,
                "too many request bodies in flight; retry later".to_owned(),
            ),
            Self::Unreadable(why) => (
                hyper::StatusCode::BAD_REQUEST,
                format!("the request body could not be read: {why}"),
            ),
            Self::TimedOut(after) => (
                hyper::StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} ms ([server] body_read_timeout_ms)",
                    after.as_millis()
                ),
            ),
            Self::Reclaimed { after, idle } => (
                hyper::StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body was still arriving more than {} ms after its head \
                     ([server] body_reclaim_after_ms), its last bytes {} ms ago, when the budget \
                     of bodies in flight ([server] max_body_bytes_in_flight) was spent: its room \
                     was given to another request; send the body without pausing",
                    after.as_millis(),
                    idle.as_millis()
                ),
            ),
        };
        let kind = match status {
            hyper::StatusCode::BAD_REQUEST => EdgeEvent::ClientError,
            _ => EdgeEvent::LimitHit,
        };
        edge_event(
            kind,
            format_args!("a request was refused with {}: {error}", status.as_u16()),
        );
        edge_refusal(status, &error)
    }
}

/// The edge's own refusal: `{"error": …}`, closing the connection (with `retry-after: 1` on a
/// 503).
fn edge_refusal(status: hyper::StatusCode, error: &str) -> HyperResponse {
    let text = serde_json::json!({ "error": error });
    let mut r = hyper::Response::new(Full::new(Bytes::from(text.to_string())));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, RETRY_AFTER};
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    if status == hyper::StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// The first transfer coding other than `chunked` a request names (RFC 9112 §6.1: a server
/// answers 501 to one it does not understand), as sent.
fn unknown_transfer_coding(headers: &hyper::HeaderMap) -> Option<String> {
    headers
        .get_all(hyper::header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .find(|coding| !coding.eq_ignore_ascii_case("chunked"))
}

/// Returned to hyper to close the connection without an answer.
#[derive(Debug)]
struct DroppedByScenario;

impl std::fmt::Display for DroppedByScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a scenario rule")
    }
}

impl std::error::Error for DroppedByScenario {}

async fn handle<H: Handler>(
    handler: H,
    bodies: Arc<BodyBudget>,
    body_timeout: Duration,
    req: hyper::Request<Incoming>,
    local_addr: Option<SocketAddr>,
    after: &AfterClose,
) -> Result<HyperResponse, DroppedByScenario> {
    let (parts, body) = req.into_parts();
    if let Some(coding) = unknown_transfer_coding(&parts.headers) {
        after.drain_after_close(u64::MAX);
        let error = format!(
            "transfer coding {} is not supported: send the body with Content-Length, or in \
             chunked alone",
            crate::text::echo(&coding)
        );
        edge_event(
            EdgeEvent::ClientError,
            format_args!("a request was refused with 501: {error}"),
        );
        return Ok(edge_refusal(hyper::StatusCode::NOT_IMPLEMENTED, &error));
    }
    if let Some(error) = host_refusal(&parts) {
        after.drain_after_close(u64::MAX);
        edge_event(
            EdgeEvent::ClientError,
            format_args!("a request was refused with 400: {error}"),
        );
        return Ok(edge_refusal(hyper::StatusCode::BAD_REQUEST, &error));
    }
    let path = parts.uri.path().to_owned();
    let limit = handler.body_limit(parts.method.as_str(), &path);
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // `_held` keeps the body's room in the budget until the request is answered.
    let (body, too_large, _held) = match declared {
        // Over the limit before a byte of it is read: not read at all (drained after the
        // answer, for a client that sends it all before it reads).
        Some(n) if n > limit as u64 => {
            after.drain_after_close(n);
            (Bytes::new(), true, Vec::new())
        }
        // A body that broke off is never handed on as if it were empty.
        _ => match read_body(body, declared, limit, &bodies, body_timeout).await {
            Ok((Some(bytes), held)) => (bytes, false, held),
            Ok((None, _)) => {
                after.drain_after_close(u64::MAX);
                (Bytes::new(), true, Vec::new())
            }
            Err(refusal) => return Ok(refusal.answer()),
        },
    };
    let request = SimRequest {
        method: parts.method.as_str().to_owned(),
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: request_headers(&parts),
        body,
        too_large,
        local_addr,
    };
    match handler.call(request).await {
        SimResponse::Reply {
            status,
            content_type,
            headers,
            body,
        } => {
            let mut builder = hyper::Response::builder()
                .status(status)
                .header(hyper::header::CONTENT_TYPE, content_type);
            for (k, v) in headers {
                builder = builder.header(k, v);
            }
            if too_large {
                // The rest of the body is not read: the connection cannot carry another request.
                builder = builder.header(hyper::header::CONNECTION, "close");
            }
            Ok(builder.body(Full::new(body)).unwrap_or_else(|_| {
                let mut r = hyper::Response::new(Full::new(Bytes::from_static(b"internal error")));
                *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
                r
            }))
        }
        SimResponse::Drop => Err(DroppedByScenario),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_pairs_decode_utf8_and_name_what_is_not() {
        let pairs = form_pairs(b"a=x%20y+z&note=%E4%B8%AD&empty=&flag").unwrap();
        let want = [("a", "x y z"), ("note", "中"), ("empty", ""), ("flag", "")];
        let got: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        assert_eq!(got, want);
        let gbk = form_pairs(b"charset=GBK&note=%D6%D0%CE%C4").unwrap_err();
        assert_eq!(gbk.field.as_deref(), Some("note"));
        assert_eq!(
            gbk.to_string(),
            "value of note is not UTF-8 (percent-encoded bytes D6 D0 CE C4)"
        );
        let raw = form_pairs(b"note=\xD6\xD0").unwrap_err();
        assert_eq!(raw.to_string(), "value of note is not UTF-8 (bytes D6 D0)");
        let name = form_pairs(b"%FF=1").unwrap_err();
        assert_eq!(
            name.to_string(),
            "a field name is not UTF-8 (percent-encoded bytes FF)"
        );
        let long = form_pairs(&[b"v=".as_slice(), &[0xFF; 1000]].concat()).unwrap_err();
        assert!(
            long.to_string().ends_with(" FF FF … 915 more bytes)"),
            "{long}"
        );
        // Query strings stay lenient: they only select.
        assert_eq!(percent_decode("%D6%D0"), "\u{FFFD}\u{FFFD}");
    }

    /// Regression: a 414 (a target over the parser's bound) was logged as a 431 blamed on two
    /// settings that cannot change it. The text hyper gives each is read from a real refusal.
    #[tokio::test]
    async fn a_target_too_long_is_logged_as_the_414_it_is() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let service = hyper::service::service_fn(|_req| async {
                Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::new())))
            });
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            let _ = tx.send(served.err().map(|e| e.to_string()).unwrap_or_default());
        });
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let target = "a".repeat(70_000);
        let head = format!("GET /?{target} HTTP/1.1\r\nhost: x\r\n\r\n");
        client.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = client.read_to_end(&mut answer).await;
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 414"));
        let error = rx.await.unwrap();
        let line = too_large_head(&error);
        assert!(
            line.contains("414") && !line.contains("max_header"),
            "{line}"
        );
        assert!(too_large_head("message head is too large").contains("431"));
    }

    /// Regression: one slot per level was shared by every kind of refusal, and what a second
    /// held back was logged only with the next event, of whatever kind and however much later
    /// (nine 408s counted in a 431's line ten seconds on; a burst followed by silence never).
    /// A kind is logged at most once a second, its line counting its own events only, and what
    /// was held back is flushed when the second ends.
    #[test]
    fn edge_events_are_logged_at_most_once_a_second_a_kind_and_flushed() {
        let t0 = std::time::Instant::now();
        let mut slot = EdgeSlot::default();
        assert_eq!(slot.note(t0), (Some(1), false));
        // Held back: the first schedules the flush, the next do not.
        assert_eq!(slot.note(t0), (None, true));
        assert_eq!(slot.note(t0 + Duration::from_millis(500)), (None, false));
        // The flush at the second's end tells the two held back, once.
        let (count, _) = slot.flush(t0 + Duration::from_secs(1)).unwrap();
        assert_eq!(count, 2);
        assert_eq!(slot.flush(t0 + Duration::from_secs(1)), None);
        // Within the second after the flush's line: held (a new flush scheduled).
        assert_eq!(slot.note(t0 + Duration::from_millis(1500)), (None, true));
        // Past it, the next event's line counts it and what was held.
        assert_eq!(slot.note(t0 + Duration::from_secs(3)), (Some(2), false));
        // A slot flushed with nothing held logs nothing.
        assert_eq!(EdgeSlot::default().flush(t0), None);
    }

    /// Each kind of refusal has its own slot: a 408 does not hold back a 431.
    #[tokio::test]
    async fn each_kind_of_edge_event_has_its_own_count() {
        let (logs, _guard) = crate::test_logs::capture(tracing::Level::WARN);
        edge_event(EdgeEvent::LimitHit, format_args!("kind A {}", line!()));
        edge_event(EdgeEvent::LimitHit, format_args!("kind B {}", line!()));
        let text = logs.text();
        assert!(text.contains("kind A") && text.contains("kind B"), "{text}");
    }

    /// When the budget is spent, the bodies past the reclaim age whose last bytes came longest
    /// ago are cut first, only as many as the room asked for needs, and none when all of them
    /// together hold too little.
    #[tokio::test]
    async fn reclaiming_cuts_the_bodies_idle_longest_and_only_as_many_as_needed() {
        let budget = BodyBudget::new(8 * 1024, Duration::from_millis(1));
        let all = budget.reserve(8 * 1024).unwrap();
        let recent = budget.list_slow(3, Duration::from_millis(10));
        let oldest = budget.list_slow(3, Duration::from_millis(500));
        let older = budget.list_slow(2, Duration::from_millis(200));
        assert!(
            !budget.reclaim(9, None),
            "8 KiB are held: 9 cannot be freed"
        );
        assert!(![&recent, &oldest, &older].iter().any(|b| b.is_reclaimed()));
        assert!(
            budget.reclaim(4, Some(&oldest.body)),
            "the body asking is never cut"
        );
        assert!(older.is_reclaimed() && recent.is_reclaimed() && !oldest.is_reclaimed());
        assert!(budget.reclaim(1, None));
        assert!(oldest.is_reclaimed());
        assert!(
            !budget.reclaim(1, None),
            "a body already cut is not counted twice"
        );
        drop((recent, oldest, older));
        assert!(
            budget.slow.lock().is_empty(),
            "a body read or cut is unlisted"
        );
        drop(all);
    }

    #[test]
    fn transfer_codings_other_than_chunked_are_named() {
        let mut headers = hyper::HeaderMap::new();
        assert_eq!(unknown_transfer_coding(&headers), None);
        headers.insert("transfer-encoding", "Chunked".parse().unwrap());
        assert_eq!(unknown_transfer_coding(&headers), None);
        headers.insert("transfer-encoding", "gzip, chunked".parse().unwrap());
        assert_eq!(unknown_transfer_coding(&headers).as_deref(), Some("gzip"));
        headers.insert("transfer-encoding", "chunked".parse().unwrap());
        headers.append("transfer-encoding", "foo".parse().unwrap());
        assert_eq!(unknown_transfer_coding(&headers).as_deref(), Some("foo"));
    }

    /// A connection refused at once whose client had already sent its request head gets the
    /// 503 and a clean close, not a reset (several times over: a reset is a race).
    #[tokio::test]
    async fn a_connection_refused_at_once_after_its_head_gets_the_503_not_a_reset() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for _ in 0..5 {
            let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
            client
                .write_all(b"GET /__sim/health HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .unwrap();
            let (served, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await; // the head is in
            refuse_busy_at_once(served);
            let mut answer = Vec::new();
            tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut answer))
                .await
                .expect("closed within 5 s")
                .expect("a clean close, not a reset");
            let text = String::from_utf8_lossy(&answer);
            assert!(text.starts_with("HTTP/1.1 503"), "{text}");
        }
    }

    #[test]
    fn a_web_url_is_http_or_https_with_a_host_as_the_client_parses_it() {
        for good in [
            "http://127.0.0.1:9/ipn",
            "HTTPS://Example.com",
            " https://example.com/a?b=c#d ",
            "http://[::1]:65535/x",
            "http://user:pw@example.com/",
        ] {
            assert_eq!(check_web_url(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("http://127.0.0.1:99999/x", "invalid port number"),
            ("http://exa mple.com/", "invalid international domain name"),
            ("http://256.1.1.1/x", "invalid IPv4 address"),
            ("http://127.0.0.1:0/x", "port is 0"),
            ("http://", "no host"),
            ("https:///ipn", "no host"),
            (
                "http:\\\\example.com",
                "does not start with http:// or https://",
            ),
            ("notaurl", "does not start with http:// or https://"),
            ("ftp://x/y", "scheme is \"ftp\""),
            ("javascript:alert(1)", "scheme is \"javascript\""),
            ("mailto:a@b.c", "scheme is \"mailto\""),
        ] {
            let err = check_web_url(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
            assert!(!is_web_url(bad), "{bad}");
        }
    }
}
