//! The load driver: N concurrent partners, each on its own keep-alive HTTP/1.1 connection (a bare
//! hyper client connection, to keep the generator's own CPU cost low), taking request numbers
//! from one shared counter until the duration, the request count or the sealed pool runs out.
//! Latencies are kept per request (microseconds) for exact percentiles.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::Value;

use super::requests::{Judge, Opener, Plan};
use crate::wire::{infinia, whalet as envelope};

/// When to stop.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub duration: Option<Duration>,
    pub requests: Option<u64>,
}

/// What one run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    pub elapsed: Duration,
    /// One latency per answered request (whatever its code); a request without an answer has
    /// none, so rates and percentiles are of answers only.
    pub latencies_us: Vec<u32>,
    /// Requests that got no answer: the connection could not be made, or failed before the
    /// reply (counted under their error in `codes`).
    pub unanswered: u64,
    /// Result code → count (`SUCCESS`, `000100`, `HTTP 503`, `transport: ...`).
    pub codes: BTreeMap<String, u64>,
    pub ok: u64,
    /// Replies that were fully verified and decrypted (one per partner for Whalet).
    pub verified: u64,
    /// Whalet: accepted replies opened as the partner would whose head was all there was (a
    /// `connectivity` with `responseFlag` N): their signature verified, no body to decrypt. Not
    /// counted in `verified`.
    pub head_only: u64,
    /// Problems found when fully opening a reply: one that does not verify or decrypt.
    pub verify_errors: Vec<String>,
    /// Replies that opened and verified but refused the request (a code other than the plan's
    /// success): a refusal, not a verification failure.
    pub refusals: Vec<String>,
    pub pool_exhausted: bool,
    /// Request numbers taken from the pool (the rest of a sealed pool is still unused).
    pub consumed: u64,
    /// Infinia: RSA blocks in the `responseData` of the replies that were opened (the server's
    /// encryption cost per reply).
    pub reply_blocks: Option<usize>,
}

impl Outcome {
    /// Counts one answered request: its latency and its result code. Every request number
    /// taken goes through here or through [`Outcome::unanswered`] exactly once.
    pub(super) fn answered(&mut self, latency_us: u32, code: String) {
        self.latencies_us.push(latency_us);
        *self.codes.entry(code).or_default() += 1;
    }

    /// Counts one request that got no answer, under its error: a failed request, with no
    /// latency (else a server that is down would show a rate and percentiles of failures).
    pub(super) fn unanswered(&mut self, error: &str) {
        self.unanswered += 1;
        *self.codes.entry(format!("transport: {error}")).or_default() += 1;
    }

    /// Adds the outcome of another partner of the same run, or of a later segment of it.
    pub fn absorb(&mut self, later: Outcome) {
        self.elapsed += later.elapsed;
        self.latencies_us.extend(later.latencies_us);
        self.unanswered += later.unanswered;
        for (code, n) in later.codes {
            *self.codes.entry(code).or_default() += n;
        }
        self.ok += later.ok;
        self.verified += later.verified;
        self.head_only += later.head_only;
        self.verify_errors.extend(later.verify_errors);
        self.refusals.extend(later.refusals);
        self.pool_exhausted |= later.pool_exhausted;
        self.consumed += later.consumed;
        self.reply_blocks = self.reply_blocks.max(later.reply_blocks);
    }
}

struct Shared {
    plan: Plan,
    addr: SocketAddr,
    host: String,
    next: AtomicU64,
    deadline: Option<Instant>,
    max: Option<u64>,
}

/// Runs the load and waits for every partner to finish its last request.
pub async fn run(addr: SocketAddr, plan: Plan, partners: usize, limits: Limits) -> Outcome {
    let started = Instant::now();
    let shared = Arc::new(Shared {
        host: addr.to_string(),
        plan,
        addr,
        next: AtomicU64::new(0),
        deadline: limits.duration.map(|d| started + d),
        max: limits.requests,
    });
    let workers: Vec<_> = (0..partners.max(1))
        .map(|_| tokio::spawn(worker(shared.clone())))
        .collect();
    let mut total = Outcome::default();
    for w in workers {
        if let Ok(part) = w.await {
            total.absorb(part);
        }
    }
    total.elapsed = started.elapsed();
    total.consumed = shared.next.load(Ordering::Relaxed);
    total
}

pub(super) async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn worker(shared: Arc<Shared>) -> Outcome {
    let mut out = Outcome::default();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    let mut opened_one = false;
    loop {
        if shared.deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        if shared.max.is_some_and(|max| index >= max) {
            break;
        }
        let Some(body) = shared.plan.pool.get(index) else {
            out.pool_exhausted = true;
            break;
        };
        let sent = Instant::now();
        let mut conn = match sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => match connect(shared.addr).await {
                Ok(s) => s,
                Err(e) => {
                    // The request number is spent: a request that could not connect is a
                    // failed request (else a run where nothing got through would report no
                    // request and no failure).
                    out.unanswered(&e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let result = send(&mut conn, &shared.plan, &shared.host, body).await;
        let latency = sent.elapsed();
        match result {
            Ok((status, reply)) => {
                sender = Some(conn);
                let code = classify(shared.plan.judge, status, &reply);
                if shared.plan.success.contains(&code) {
                    out.ok += 1;
                }
                out.answered(micros(latency), code);
                if !opened_one {
                    opened_one = true;
                    open_fully(&shared.plan, &reply, &mut out);
                }
            }
            Err(e) => out.unanswered(&e),
        }
    }
    out
}

/// A latency in whole microseconds (`u32::MAX`, over an hour, at most).
pub(super) fn micros(latency: Duration) -> u32 {
    u32::try_from(latency.as_micros()).unwrap_or(u32::MAX)
}

pub(super) async fn send(
    conn: &mut SendRequest<Full<Bytes>>,
    plan: &Plan,
    host: &str,
    body: Bytes,
) -> Result<(u16, Bytes), String> {
    conn.ready().await.map_err(|e| e.to_string())?;
    let request = hyper::Request::builder()
        .method(plan.method.clone())
        .uri(plan.path.as_str())
        .header(hyper::header::HOST, host)
        .header(hyper::header::CONTENT_TYPE, plan.content_type)
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let response = conn
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

/// The result code a partner would act on.
pub(super) fn classify(judge: Judge, status: u16, body: &[u8]) -> String {
    let from_json = |pointer: &str| -> Option<String> {
        let value: Value = serde_json::from_slice(body).ok()?;
        value.pointer(pointer)?.as_str().map(str::to_owned)
    };
    let code = match judge {
        Judge::WhaletHead => from_json("/head/code"),
        Judge::RetCode => from_json("/ret_code"),
        Judge::InfiniaCode => from_json("/code"),
        Judge::Status => None,
    };
    match code {
        Some(code) if status == 200 => code,
        Some(code) => format!("HTTP {status} {code}"),
        None => format!("HTTP {status}"),
    }
}

/// Verifies and decrypts a reply as the partner would (Whalet: signature and body; Infinia:
/// `responseData`, and its signature when the reply carries one). A Whalet reply that accepts
/// the request (a code of the plan's `success`: `SUCCESS` or `PROCESSING`) is always signed, so
/// one that opens is verified; when it carries no body (head only) there is nothing to
/// decrypt, and it is counted as head-only rather than as fully verified.
pub(super) fn open_fully(plan: &Plan, reply: &[u8], out: &mut Outcome) {
    match &plan.opener {
        None => {}
        Some(Opener::Whalet { key, platform }) => {
            match envelope::open_reply(reply, key, platform) {
                Ok(opened) if plan.success.contains(&opened.code) => match opened.body {
                    Some(_) => out.verified += 1,
                    None => out.head_only += 1,
                },
                Ok(opened) => out.refusals.push(format!(
                    "reply {}: {} {}",
                    opened.echo.request_no, opened.code, opened.detail
                )),
                Err(e) => out.verify_errors.push(e.to_string()),
            }
        }
        Some(Opener::Infinia { key, infinia, alg }) => {
            match infinia::open_reply(reply, key, infinia, *alg) {
                Ok(opened) if opened.code == infinia::Code::Success.as_str() => {
                    out.verified += 1;
                    out.reply_blocks = out.reply_blocks.max(Some(response_blocks(reply, key)));
                }
                Ok(opened) => out
                    .refusals
                    .push(format!("reply: {} {}", opened.code, opened.message)),
                Err(e) => out.verify_errors.push(e.message),
            }
        }
    }
}

/// RSA blocks in a reply's `responseData` (0 when it has none).
fn response_blocks(reply: &[u8], key: &crate::wire::keys::PrivateKey) -> usize {
    let data = serde_json::from_slice::<Value>(reply)
        .ok()
        .and_then(|v| v.get("responseData")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    rsa_blocks(&data, key.public().size())
}

/// How many `key_bytes`-byte RSA blocks a Base64 field holds (0 when it is not Base64).
pub fn rsa_blocks(b64: &str, key_bytes: usize) -> usize {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_or(0, |raw| raw.len() / key_bytes.max(1))
}

/// The value at quantile `q` (0..=1) of sorted data.
pub fn percentile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len()) - 1)
        .copied()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let data: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&data, 0.5), 50);
        assert_eq!(percentile(&data, 0.99), 99);
        assert_eq!(percentile(&data, 1.0), 100);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.9), 7);
    }

    #[test]
    fn codes_come_from_the_scheme() {
        let whalet = br#"{"head":{"code":"SUCCESS"}}"#;
        assert_eq!(classify(Judge::WhaletHead, 200, whalet), "SUCCESS");
        assert_eq!(classify(Judge::WhaletHead, 503, whalet), "HTTP 503 SUCCESS");
        assert_eq!(
            classify(Judge::RetCode, 200, br#"{"ret_code":"000100"}"#),
            "000100"
        );
        assert_eq!(classify(Judge::RetCode, 404, b"nope"), "HTTP 404");
        assert_eq!(
            classify(Judge::InfiniaCode, 200, br#"{"code":"SYS-002"}"#),
            "SYS-002"
        );
        assert_eq!(classify(Judge::Status, 200, b"{}"), "HTTP 200");
    }
}
