//! A partner's notify endpoint: verifies and decrypts each Whalet notification, remembers it, and
//! answers with a correctly signed SUCCESS reply, or fails the first N attempts of each
//! notification (by its verified head, whose requestNo is the same on every retry) to exercise
//! the retry schedule; a request that does not verify is refused with HTTP 400 and counts as no
//! attempt. Used by `whalet-sim listen` and by tests as the stand-in for the partner's server.
//!
//! It is served by the simulator's own edge ([`crate::http::serve`]), as `listen --surface
//! infinia|pockyt` is: header- and body-read timeouts, the connection cap, the back-off when an
//! accept fails, and a body limit ([`Bounds::max_body_bytes`], a larger body answered 413 unread).
//! What it remembers is bounded too ([`Bounds`]): the log keeps the newest arrivals, each with at
//! most [`RAW_KEPT`] bytes of the request, and a refused request's head values are cut as every
//! refusal's echo is ([`envelope::Echo::bounded`]).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::http::{Handler, Limits, SimRequest, SimResponse};
use crate::wire::keys::{PrivateKey, PublicKey};
use crate::wire::whalet::{self as envelope, SUCCESS_DETAIL};
use crate::wire::HexCase;

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Verify, then acknowledge (failing the first `fail_first` attempts of each verified
    /// notification); refuse what does not verify with HTTP 400.
    Ack { fail_first: u32 },
    /// Answer HTTP 500 to everything.
    Down,
    /// Never answer (the simulator's timeout fires).
    Hang,
    /// Answer every request with this HTTP status and body, unread (unusual acks).
    Raw { status: u16, body: &'static str },
}

/// One notification as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub api_code: String,
    pub request_no: String,
    pub partner_id: String,
    /// The decrypted body; None when verification or decryption failed.
    pub body: Option<Value>,
    /// Why it was rejected.
    pub error: Option<String>,
    /// Attempt number of this notification (1-based), counted by its verified head; 0 for a
    /// refused request, which is no attempt of any notification (a forgery must not use up
    /// another's `fail_first`). The modes that do not verify count by the head as it came.
    pub attempt: u32,
    /// What the receiver answered with (HTTP status).
    pub answered: u16,
    /// The request as it arrived (for independent verification), its first [`RAW_KEPT`] bytes.
    pub raw: Bytes,
}

/// The most of one request's bytes a log entry keeps: a notification of the simulator is a few
/// KiB, so it is kept whole; a larger body (garbage, most often) is not kept in full.
pub const RAW_KEPT: usize = 64 * 1024;

/// What a receiver reads and remembers.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// The largest request body read; a larger one is answered 413 without being read.
    pub max_body_bytes: usize,
    /// Arrivals the log keeps (the newest; at least one).
    pub log_entries: usize,
    /// Bytes of requests ([`Received::raw`]) the log keeps, over all its entries (the newest
    /// entry is kept whatever its size).
    pub log_bytes: usize,
}

impl Default for Bounds {
    /// 1 MiB bodies (the simulator's own default body limit); the newest 10,000 arrivals,
    /// within 64 MiB of requests.
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            log_entries: 10_000,
            log_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The error of a body over `limit`, as `listen` prints it on every surface.
pub fn too_large(limit: usize) -> String {
    format!("the body is over {limit} bytes (--max-body-bytes)")
}

/// Attempt numbers of the notifications seen, by content: the first N of each can be failed on
/// purpose (`--fail-first`). Bounded: a key is kept as a 64-bit keyed hash of its text (not the
/// text, which may be a 1 MiB body), and only the newest [`AttemptCounts::KEPT`] notifications
/// are remembered (an older one arriving again counts from 1).
#[derive(Default)]
pub struct AttemptCounts {
    hasher: std::hash::RandomState,
    counts: HashMap<u64, u32>,
    order: VecDeque<u64>,
}

impl AttemptCounts {
    /// Notifications whose attempts are counted at once.
    pub const KEPT: usize = 100_000;

    /// One more arrival of the notification `key` names: its attempt number (1-based).
    pub fn next(&mut self, key: &str) -> u32 {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(key);
        let count = self.counts.entry(hash).or_insert_with(|| {
            self.order.push_back(hash);
            0
        });
        *count += 1;
        let attempt = *count;
        while self.order.len() > Self::KEPT {
            if let Some(oldest) = self.order.pop_front() {
                self.counts.remove(&oldest);
            }
        }
        attempt
    }
}

/// The arrivals a receiver remembers: the newest ones within its [`Bounds`], and how many
/// arrived in all (what [`Receiver::wait_for`] counts).
#[derive(Default)]
struct Log {
    kept: VecDeque<Received>,
    kept_bytes: usize,
    total: usize,
}

impl Log {
    /// Adds one arrival, dropping the oldest beyond `bounds`.
    fn push(&mut self, received: Received, bounds: &Bounds) {
        self.kept_bytes += received.raw.len();
        self.kept.push_back(received);
        self.total += 1;
        while self.kept.len() > 1
            && (self.kept.len() > bounds.log_entries || self.kept_bytes > bounds.log_bytes)
        {
            if let Some(dropped) = self.kept.pop_front() {
                self.kept_bytes -= dropped.raw.len();
            }
        }
    }

    /// The kept arrivals after the first `seen` of all, and how many of those are no longer
    /// kept.
    fn since(&self, seen: usize) -> (Vec<Received>, usize) {
        let first_kept = self.total - self.kept.len();
        let skip = seen.saturating_sub(first_kept);
        let lost = first_kept.saturating_sub(seen);
        (self.kept.iter().skip(skip).cloned().collect(), lost)
    }
}

struct Inner {
    key: PrivateKey,
    platform_public: PublicKey,
    mode: Mutex<Mode>,
    bounds: Bounds,
    log: Mutex<Log>,
    counts: Mutex<AttemptCounts>,
    arrived: Notify,
    /// What to add to the refusal of a request, given its body ([`Receiver::start_hinted`]).
    hint: fn(&[u8]) -> String,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    stop: CancellationToken,
}

impl Receiver {
    /// Starts on `listener` with the partner's private key and the platform's public key.
    pub fn start(
        listener: TcpListener,
        key: PrivateKey,
        platform_public: PublicKey,
        mode: Mode,
        bounds: Bounds,
    ) -> Self {
        Self::start_hinted(listener, key, platform_public, mode, bounds, |_| {
            String::new()
        })
    }

    /// As [`Receiver::start`], adding `hint(body)` to the detail of each refusal, in the signed
    /// answer and in the log alike (`listen` says there whose notification a body is when it
    /// is another surface's).
    pub fn start_hinted(
        listener: TcpListener,
        key: PrivateKey,
        platform_public: PublicKey,
        mode: Mode,
        bounds: Bounds,
        hint: fn(&[u8]) -> String,
    ) -> Self {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let inner = Arc::new(Inner {
            key,
            platform_public,
            mode: Mutex::new(mode),
            bounds,
            log: Mutex::default(),
            counts: Mutex::default(),
            arrived: Notify::new(),
            hint,
        });
        let stop = CancellationToken::new();
        let receiver = Self { addr, inner, stop };
        tokio::spawn(crate::http::serve(
            listener,
            Served(receiver.clone()),
            Limits::default(),
            receiver.stop.clone(),
        ));
        receiver
    }

    /// A receiver for the demo partner on an ephemeral port.
    pub async fn demo(mode: Mode) -> std::io::Result<Self> {
        use crate::wire::keys::demo;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let key = PrivateKey::parse(demo::PARTNER_PRIVATE).map_err(std::io::Error::other)?;
        let platform = PublicKey::parse(demo::PLATFORM_PUBLIC).map_err(std::io::Error::other)?;
        Ok(Self::start(
            listener,
            key,
            platform,
            mode,
            Bounds::default(),
        ))
    }

    pub fn url(&self) -> String {
        format!("http://{}/notify", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock() = mode;
    }

    /// The arrivals the log keeps ([`Bounds`]), oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.inner.log.lock().kept.iter().cloned().collect()
    }

    /// Waits until at least `n` requests arrived in all (bounded by `timeout`), then returns the
    /// arrivals the log keeps.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.inner.log.lock().total >= n
                || tokio::time::timeout_at(deadline, notified).await.is_err()
            {
                return self.received();
            }
        }
    }

    /// Waits for arrivals after the first `seen` of all; returns those the log still keeps,
    /// how many of them it no longer keeps, and the new count of all arrivals (the next
    /// `seen`). Each arrival is copied once, however long the log.
    pub async fn next_since(&self, seen: usize) -> (Vec<Received>, usize, usize) {
        loop {
            let notified = self.inner.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let log = self.inner.log.lock();
                if log.total > seen {
                    let (new, lost) = log.since(seen);
                    return (new, lost, log.total);
                }
            }
            notified.await;
        }
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Logs a request over [`Bounds::max_body_bytes`] (not read): the error it is answered
    /// (413) with.
    fn refuse_too_large(&self) -> String {
        let error = too_large(self.inner.bounds.max_body_bytes);
        self.log(Received {
            api_code: String::new(),
            request_no: String::new(),
            partner_id: String::new(),
            body: None,
            error: Some(error.clone()),
            attempt: 0,
            answered: 413,
            raw: Bytes::new(),
        });
        error
    }

    /// Remembers one arrival and wakes whoever waits for it.
    fn log(&self, received: Received) {
        self.inner.log.lock().push(received, &self.inner.bounds);
        self.inner.arrived.notify_waiters();
    }

    async fn answer(&self, body: &Bytes) -> (u16, Bytes) {
        let mode = *self.inner.mode.lock();
        match mode {
            Mode::Hang => {
                // Logged on arrival (answered 0): it never gets an answer.
                self.log_unopened(body, 0);
                self.stop.cancelled().await;
                return (500, Bytes::new());
            }
            Mode::Raw {
                status,
                body: reply,
            } => {
                self.log_unopened(body, status);
                return (status, Bytes::from_static(reply.as_bytes()));
            }
            Mode::Ack { .. } | Mode::Down => {}
        }
        let opened = envelope::parse_request(body)
            .map_err(|(_, e)| e)
            .and_then(|sealed| sealed.open(&self.inner.key, &self.inner.platform_public));
        let (echo, body_value, error) = match (&opened, envelope::parse_request(body)) {
            (Ok(o), _) => (o.echo.clone(), Some(o.body.clone()), None),
            (Err(e), Ok(sealed)) => (sealed.echo.bounded(), None, Some(e.clone())),
            (Err(e), Err((echo, _))) => (echo.bounded(), None, Some(e.clone())),
        };
        let hint = match error {
            Some(_) => (self.inner.hint)(body),
            None => String::new(),
        };
        let attempt = match error {
            None => self.count_attempt(&echo),
            Some(_) => 0,
        };
        let (status, reply) = match (mode, &error) {
            (Mode::Down, _) => (500, Bytes::from_static(b"{\"error\":\"receiver is down\"}")),
            (Mode::Ack { fail_first }, None) if attempt <= fail_first => (
                503,
                Bytes::from_static(b"{\"error\":\"failing on purpose\"}"),
            ),
            // HTTP 400, so that the sender sees a failed attempt (docs/CLI.md), with the
            // refusal's own code in a signed head: a body that is no envelope is a format
            // error, a bad signature an authentication error.
            (_, Some(e)) => {
                let bytes = envelope::seal_reply(
                    &echo,
                    e.code.as_str(),
                    &format!("{}{hint}", e.detail),
                    None,
                    Some((&self.inner.key, &self.inner.platform_public)),
                    HexCase::Lower,
                );
                (400, Bytes::from(bytes))
            }
            _ => {
                let empty = Value::Object(Default::default());
                let bytes = envelope::seal_reply(
                    &echo,
                    "SUCCESS",
                    SUCCESS_DETAIL,
                    Some(&empty),
                    Some((&self.inner.key, &self.inner.platform_public)),
                    HexCase::Lower,
                );
                (200, Bytes::from(bytes))
            }
        };
        self.log(Received {
            api_code: echo.api_code.clone(),
            request_no: echo.request_no.clone(),
            partner_id: echo.partner_id.clone(),
            body: body_value,
            error: error
                .as_ref()
                .map(|e| format!("{}{hint}", crate::text::message(e))),
            attempt,
            answered: status,
            raw: kept(body),
        });
        (status, reply)
    }

    /// One more arrival of the notification whose head is `echo`: its attempt number. The
    /// head (partnerId, apiCode, requestNo) names one notification on every retry.
    fn count_attempt(&self, echo: &envelope::Echo) -> u32 {
        let key = format!("{}|{}|{}", echo.partner_id, echo.api_code, echo.request_no);
        self.inner.counts.lock().next(&key)
    }
    /// Logs a request whose answer does not depend on its content (no crypto is done).
    fn log_unopened(&self, body: &Bytes, answered: u16) {
        let echo = match envelope::parse_request(body) {
            Ok(sealed) => sealed.echo,
            Err((echo, _)) => echo,
        }
        .bounded();
        let attempt = self.count_attempt(&echo);
        self.log(Received {
            api_code: echo.api_code,
            request_no: echo.request_no,
            partner_id: echo.partner_id,
            body: None,
            error: None,
            attempt,
            answered,
            raw: kept(body),
        });
    }
}

/// The part of a request a log entry keeps: at most [`RAW_KEPT`] bytes, copied when cut (a
/// slice would keep the whole body's memory).
fn kept(body: &Bytes) -> Bytes {
    if body.len() <= RAW_KEPT {
        body.clone()
    } else {
        Bytes::copy_from_slice(&body[..RAW_KEPT])
    }
}

/// A receiver as the edge's handler ([`crate::http::serve`]).
#[derive(Clone)]
struct Served(Receiver);

impl Handler for Served {
    fn body_limit(&self, _method: &str, _path: &str) -> usize {
        self.0.inner.bounds.max_body_bytes
    }

    async fn call(&self, req: SimRequest) -> SimResponse {
        if req.too_large {
            return SimResponse::text(413, self.0.refuse_too_large());
        }
        let (status, body) = self.0.answer(&req.body).await;
        SimResponse::json(status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The receiver answers a refusal with its own code: a body that is no envelope is a format
    /// error, not an authentication error whose detail says otherwise.
    #[tokio::test]
    async fn a_refusal_carries_its_own_code() {
        let receiver = Receiver::demo(Mode::Ack { fail_first: 0 }).await.unwrap();
        let (status, reply) = receiver.answer(&Bytes::from_static(b"garbage")).await;
        assert_eq!(status, 400);
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(reply["head"]["code"], "PARAM_FORMAT_ERROR", "{reply}");
        assert!(
            reply["head"]["detail"]
                .as_str()
                .unwrap()
                .contains("not a JSON envelope"),
            "{reply}"
        );
        receiver.stop();
    }

    async fn small(bounds: Bounds) -> Receiver {
        use crate::wire::keys::demo;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let key = PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap();
        let platform = PublicKey::parse(demo::PLATFORM_PUBLIC).unwrap();
        Receiver::start(listener, key, platform, Mode::Ack { fail_first: 0 }, bounds)
    }

    /// A refused request's head values are echoed cut, in the reply and in the log, and the
    /// log keeps at most `RAW_KEPT` bytes of it: a huge garbage head never makes a huge reply,
    /// line or memory.
    #[tokio::test]
    async fn a_refused_requests_echo_and_raw_bytes_are_cut() {
        let receiver = small(Bounds::default()).await;
        let huge = "P".repeat(200_000);
        let body = serde_json::json!({"head": {"partnerId": huge, "apiCode": "x"}, "body": "y"});
        let (status, reply) = receiver
            .answer(&Bytes::from(body.to_string().into_bytes()))
            .await;
        assert_eq!(status, 400);
        assert!(reply.len() < 4096, "a reply of {} bytes", reply.len());
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        let echoed = reply["head"]["partnerId"].as_str().unwrap();
        assert!(echoed.len() <= crate::text::ECHO_BYTES, "{echoed}");
        assert!(echoed.ends_with("more bytes"), "{echoed}");
        let logged = &receiver.received()[0];
        assert!(logged.partner_id.len() <= crate::text::ECHO_BYTES);
        assert_eq!(logged.raw.len(), RAW_KEPT);
        receiver.stop();
    }

    /// The log keeps the newest arrivals within its bounds while counting all of them, and a
    /// reader after a given count learns how many it can no longer see.
    #[tokio::test]
    async fn the_log_keeps_the_newest_arrivals_within_its_bounds() {
        let bounds = Bounds {
            log_entries: 3,
            ..Bounds::default()
        };
        let receiver = small(bounds).await;
        for _ in 0..5 {
            receiver.answer(&Bytes::from_static(b"garbage")).await;
        }
        assert_eq!(receiver.received().len(), 3);
        assert_eq!(receiver.wait_for(5, Duration::from_secs(1)).await.len(), 3);
        let (new, lost, total) = receiver.next_since(1).await;
        assert_eq!((new.len(), lost, total), (3, 1, 5));
        let (new, lost, _) = receiver.next_since(4).await;
        assert_eq!((new.len(), lost), (1, 0));

        let by_bytes = Bounds {
            log_bytes: 10,
            ..Bounds::default()
        };
        let receiver = small(by_bytes).await;
        for _ in 0..3 {
            receiver.answer(&Bytes::from_static(b"garbage")).await;
        }
        assert_eq!(
            receiver.received().len(),
            1,
            "the newest is kept whatever its size"
        );
        receiver.stop();
    }

    /// Attempts are counted per notification, and only the newest `KEPT` are remembered.
    #[test]
    fn attempt_counts_are_per_notification_and_bounded() {
        let mut counts = AttemptCounts::default();
        assert_eq!(
            (counts.next("a"), counts.next("a"), counts.next("b")),
            (1, 2, 1)
        );
        for i in 0..AttemptCounts::KEPT {
            counts.next(&i.to_string());
        }
        assert_eq!(counts.counts.len(), AttemptCounts::KEPT);
        assert_eq!(counts.next("a"), 1, "the oldest was forgotten");
    }

    /// A body over the limit is answered 413 unread, logged with the reason, on the network.
    #[tokio::test]
    async fn a_body_over_the_limit_is_answered_413() {
        let receiver = small(Bounds {
            max_body_bytes: 1000,
            ..Bounds::default()
        })
        .await;
        let answer = reqwest::Client::new()
            .post(receiver.url())
            .body(vec![b'{'; 1001])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 413);
        let logged = receiver.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(logged[0].answered, 413);
        assert_eq!(logged[0].error.as_deref(), Some(too_large(1000).as_str()));
        receiver.stop();
    }
}
