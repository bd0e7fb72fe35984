//! A partner's notify endpoint: verifies and decrypts each Whalet notification, remembers it, and
//! answers with a correctly signed SUCCESS reply, or fails the first N attempts of each
//! notification (by its verified head, whose requestNo is the same on every retry) to exercise
//! the retry schedule; a request that does not verify is refused with HTTP 400 and counts as no
//! attempt. Used by `whalet-sim listen` and by tests as the stand-in for the partner's server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::http::peer::{serve_bodies, Answer};
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
    /// The request exactly as it arrived (for independent verification).
    pub raw: Bytes,
}

struct Inner {
    key: PrivateKey,
    platform_public: PublicKey,
    mode: Mutex<Mode>,
    log: Mutex<Vec<Received>>,
    counts: Mutex<HashMap<String, u32>>,
    arrived: Notify,
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
    ) -> Self {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let inner = Arc::new(Inner {
            key,
            platform_public,
            mode: Mutex::new(mode),
            log: Mutex::new(Vec::new()),
            counts: Mutex::new(HashMap::new()),
            arrived: Notify::new(),
        });
        let stop = CancellationToken::new();
        let receiver = Self { addr, inner, stop };
        tokio::spawn(receiver.clone().accept_loop(listener));
        receiver
    }

    /// A receiver for the demo partner on an ephemeral port.
    pub async fn demo(mode: Mode) -> std::io::Result<Self> {
        use crate::wire::keys::demo;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let key = PrivateKey::parse(demo::PARTNER_PRIVATE).map_err(std::io::Error::other)?;
        let platform = PublicKey::parse(demo::PLATFORM_PUBLIC).map_err(std::io::Error::other)?;
        Ok(Self::start(listener, key, platform, mode))
    }

    pub fn url(&self) -> String {
        format!("http://{}/notify", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock() = mode;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.log.lock().clone()
    }

    /// Waits until at least `n` notifications arrived (bounded by `timeout`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let log = self.received();
            if log.len() >= n {
                return log;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received();
            }
        }
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }

    async fn accept_loop(self, listener: TcpListener) {
        let stop = self.stop.clone();
        serve_bodies(listener, stop, move |body| {
            let me = self.clone();
            async move {
                let (status, body) = me.answer(&body).await;
                Answer {
                    status,
                    content_type: "application/json;charset=UTF-8",
                    body,
                }
            }
        })
        .await;
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
            (Err(e), Ok(sealed)) => (sealed.echo, None, Some(e.clone())),
            (Err(e), Err((echo, _))) => (echo, None, Some(e.clone())),
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
                    &e.detail,
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
        self.inner.log.lock().push(Received {
            api_code: echo.api_code.clone(),
            request_no: echo.request_no.clone(),
            partner_id: echo.partner_id.clone(),
            body: body_value,
            error: error.as_ref().map(ToString::to_string),
            attempt,
            answered: status,
            raw: body.clone(),
        });
        self.inner.arrived.notify_waiters();
        (status, reply)
    }

    /// One more arrival of the notification whose head is `echo`: its attempt number. The
    /// head (partnerId, apiCode, requestNo) names one notification on every retry.
    fn count_attempt(&self, echo: &envelope::Echo) -> u32 {
        let key = format!("{}|{}|{}", echo.partner_id, echo.api_code, echo.request_no);
        let mut counts = self.inner.counts.lock();
        let count = counts.entry(key).or_insert(0);
        *count += 1;
        *count
    }

    /// Logs a request whose answer does not depend on its content (no crypto is done).
    fn log_unopened(&self, body: &Bytes, answered: u16) {
        let echo = match envelope::parse_request(body) {
            Ok(sealed) => sealed.echo,
            Err((echo, _)) => echo,
        };
        let attempt = self.count_attempt(&echo);
        self.inner.log.lock().push(Received {
            api_code: echo.api_code,
            request_no: echo.request_no,
            partner_id: echo.partner_id,
            body: None,
            error: None,
            attempt,
            answered,
            raw: body.clone(),
        });
        self.inner.arrived.notify_waiters();
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
}
