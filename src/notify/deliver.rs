//! One delivery attempt: the step function each notification timer runs. It takes a snapshot
//! under the ledger lock, asks the delivery gate (outages) when it starts and again once it holds
//! one of its destination's permits, seals (once per series, off the async threads: RSA is CPU
//! work), POSTs with the wall-clock timeout while holding that permit, asks the
//! transport to judge the answer, and records the attempt. Recording decides what happens
//! next: the next retry (due a full interval after this attempt *finished*), delivered,
//! exhausted (the offline notice), or the next notification queued behind it.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{
    schedule, Attempt, Exhausted, Notification, Outbox, Sealed, Status, Target, Transport,
    MAX_KEPT_TARGETS, VERDICT_BYTES,
};
use crate::clock::{format, system_now, Millis};
use crate::http::client::MAX_ANSWER_BYTES;

/// What a failed attempt's verdict starts with.
const FAILED: &str = "failed: ";

/// What one attempt came to.
struct Outcome {
    virtual_time: Millis,
    wall_time: Millis,
    http_status: Option<u16>,
    latency_ms: u64,
    excerpt: String,
    verdict: Result<(), String>,
}

impl Outcome {
    fn failed(virtual_time: Millis, why: String) -> Self {
        Self {
            virtual_time,
            wall_time: system_now(),
            http_status: None,
            latency_ms: 0,
            excerpt: String::new(),
            verdict: Err(why),
        }
    }

    /// Cuts the reason of a failure so that its recorded verdict (`failed: why`) takes at most
    /// [`VERDICT_BYTES`]: every surface's reasons, whatever text the receiver put in them, are
    /// bounded here once, before the ledger or the offline notice sees them.
    fn bounded(mut self) -> Self {
        if let Err(why) = &mut self.verdict {
            crate::text::bound_string(why, VERDICT_BYTES - FAILED.len());
        }
        self
    }
}

impl Outbox {
    /// One delivery attempt of notification `seq` (a no-op if it is no longer pending).
    pub(super) async fn attempt(&self, seq: u64) {
        // Counted before the stop is looked at: a clean stop either waits for this attempt or
        // has begun before it, and then nothing is sent ([`Outbox::stop`]).
        let _in_flight = self.inner.in_flight.token();
        if self.stopping() {
            return;
        }
        let prepared = {
            let ledger = self.inner.ledger.lock();
            let Some(n) = ledger.items.get(&seq) else {
                return;
            };
            if n.status != Status::Pending {
                return;
            }
            let transport = self.inner.transports.lock().get(n.channel).cloned();
            let url = match (&n.url, &transport) {
                (Some(url), _) => Ok(url.clone()),
                (None, Some(t)) => t.url(&n.tenant),
                // Not used: the attempt fails for want of a transport.
                (None, None) => Err(String::new()),
            };
            (transport, url, (**n).clone())
        };
        let (transport, url, snapshot) = prepared;
        let sent_to = url.clone().ok();
        let copy = (snapshot.series, snapshot.incarnation);
        let now = self.inner.clock.now();
        let closed = self.closed(&snapshot);
        let outcome = match (&transport, url, closed) {
            (Some(_), _, Some(refused)) => refused,
            (None, _, _) => Outcome::failed(
                now,
                format!(
                    "no transport is registered for channel {}",
                    snapshot.channel
                ),
            ),
            (Some(_), Err(why), None) => Outcome::failed(now, why),
            (Some(t), Ok(url), None) => match self.send(seq, copy, t, &url, snapshot).await {
                Some(outcome) => outcome,
                // Forgotten while it waited for its place, or a clean stop began before it sent:
                // nothing was sent, nothing to record.
                None => return,
            },
        };
        self.record(seq, copy, (outcome, sent_to), transport.as_ref());
    }

    /// Whether a clean stop has begun: an attempt that has sent nothing yet leaves its
    /// notification as it is (pending, due), for the next start.
    fn stopping(&self) -> bool {
        self.inner.stopping.is_cancelled()
    }

    /// The outcome of an attempt the delivery gate refuses at the clock's now (an outage of the
    /// partner's notify endpoint is in force for the notification's tenant and channel): failed
    /// with the gate's verdict, nothing sent. `None` when the gate lets it through.
    fn closed(&self, snapshot: &Notification) -> Option<Outcome> {
        let gate = self.inner.gate.lock().clone()?;
        let now = self.inner.clock.now();
        gate(&snapshot.tenant, snapshot.channel, now).map(|why| Outcome::failed(now, why))
    }

    /// Seals (if needed) and POSTs under one of the destination's permits, then judges. `None`
    /// when the notification was forgotten or replaced (`copy` is its series and incarnation)
    /// before a permit came, or a clean stop began before the POST: then nothing is sent. The delivery gate is asked again once the
    /// permit is held (and again once sealed): an outage that began while the attempt waited
    /// for its place at the receiver fails it with the outage verdict, unsent, exactly as if it
    /// had been in force when the attempt started.
    async fn send(
        &self,
        seq: u64,
        copy: (u32, u64),
        transport: &Arc<dyn Transport>,
        url: &str,
        snapshot: Notification,
    ) -> Option<Outcome> {
        let (destination, target) = self.destination(url);
        let _permit = self.permit(destination, seq, copy).await?;
        if let Some(refused) = self.closed(&snapshot) {
            return Some(refused);
        }
        let (snapshot, sealed) = match snapshot.sealed.clone() {
            Some(sealed) => (snapshot, sealed),
            None => match self.seal(seq, transport, snapshot).await {
                Ok(done) => done,
                Err(why) => {
                    return Some(Outcome::failed(
                        self.inner.clock.now(),
                        format!("cannot seal: {why}"),
                    ))
                }
            },
        };
        if let Some(refused) = self.closed(&snapshot) {
            return Some(refused);
        }
        if self.stopping() {
            return None;
        }
        let virtual_time = self.inner.clock.now();
        let wall_time = system_now();
        let started = Instant::now();
        let post = self.inner.client.post_keeping_status(
            &target,
            sealed.content_type,
            sealed.body,
            self.inner.timeout,
        );
        let response = tokio::select! {
            response = post => response,
            () = self.inner.cut_off.cancelled() => Err(format!(
                "no answer {} ms after sending, when the simulator stopped (a clean stop waits \
                 for an answer at most {} s, less than [notify] timeout_ms); the retry goes \
                 out after a restart",
                started.elapsed().as_millis(),
                super::STOP_WAIT.as_secs()
            )),
        };
        Some(match response {
            Ok(r) => Outcome {
                virtual_time,
                wall_time,
                http_status: Some(r.status),
                latency_ms: r.latency.as_millis() as u64,
                excerpt: excerpt(&r.body),
                verdict: match (&r.location, r.status, &r.broken) {
                    (Some(to), 300..=399, _) => Err(format!(
                        "HTTP {} redirect to {}: redirects are not followed; answer at the notify URL itself",
                        r.status,
                        crate::text::echo(to)
                    )),
                    (_, _, Some(why)) => Err(format!(
                        "HTTP {}, then the answer broke off: {why}",
                        r.status
                    )),
                    _ if r.truncated => Err(format!(
                        "the answer is longer than {MAX_ANSWER_BYTES} bytes; an acknowledgement is short"
                    )),
                    _ => transport.judge(&snapshot, r.status, &r.body),
                },
            },
            Err(why) => Outcome {
                virtual_time,
                wall_time,
                http_status: None,
                latency_ms: started.elapsed().as_millis() as u64,
                excerpt: String::new(),
                verdict: Err(explain_failure(url, why)),
            },
        })
    }

    /// One of `destination`'s permits, once the attempt's turn comes (the semaphore is never
    /// closed; were it, the attempt would go without one, still bounded by its timeout). `None`
    /// when notification `seq` is no longer the pending `copy` (series, incarnation) by then: a
    /// reset or an import forgot or replaced it while it waited. Each of those wakes the waiting
    /// attempts ([`Outbox::reset`]), so forgotten ones leave the queue at once instead of
    /// sending later, or holding an advance, for work the ledger no longer has.
    async fn permit(
        &self,
        destination: Arc<Semaphore>,
        seq: u64,
        copy: (u32, u64),
    ) -> Option<Option<OwnedSemaphorePermit>> {
        let acquire = destination.acquire_owned();
        tokio::pin!(acquire);
        loop {
            let forgotten = self.inner.forgotten.notified();
            tokio::pin!(forgotten);
            forgotten.as_mut().enable();
            if !self.is_current(seq, copy) {
                return None;
            }
            tokio::select! {
                biased;
                permit = &mut acquire => return self.is_current(seq, copy).then_some(permit.ok()),
                () = &mut forgotten => {}
            }
        }
    }

    /// Whether notification `seq` is still pending as the `copy` (series, incarnation) an
    /// attempt was started on, and no clean stop has begun (which wakes the waiting attempts
    /// too: they leave without sending).
    fn is_current(&self, seq: u64, (series, incarnation): (u32, u64)) -> bool {
        !self.stopping()
            && self.inner.ledger.lock().items.get(&seq).is_some_and(|n| {
                n.series == series && n.incarnation == incarnation && n.status == Status::Pending
            })
    }

    /// Seals on the blocking pool and keeps the bytes for the rest of the series.
    async fn seal(
        &self,
        seq: u64,
        transport: &Arc<dyn Transport>,
        snapshot: Notification,
    ) -> Result<(Notification, Sealed), String> {
        let t = transport.clone();
        let corrupt = snapshot.behaviour.corrupt_signature;
        let copy = (snapshot.series, snapshot.incarnation);
        let (snapshot, sealed) = tokio::task::spawn_blocking(move || {
            let sealed = t.seal(&snapshot, corrupt);
            (snapshot, sealed)
        })
        .await
        .map_err(|e| format!("the transport failed while sealing: {e}"))?;
        let sealed = sealed?;
        let mut ledger = self.inner.ledger.lock();
        if let Some(n) = ledger.items.get_mut(&seq) {
            if (n.series, n.incarnation) == copy && n.status == Status::Pending {
                n.sealed = Some(sealed.clone());
            }
        }
        Ok((snapshot, sealed))
    }

    /// The permits of `url`'s destination (scheme, host and port), and `url` read for the
    /// client; both kept for the URL's next attempts.
    fn destination(&self, url: &str) -> (Arc<Semaphore>, Arc<Target>) {
        if let Some(kept) = self.inner.targets.lock().get(url) {
            return kept.clone();
        }
        let key = destination_key(url);
        let permits = self
            .inner
            .concurrency
            .load(std::sync::atomic::Ordering::Relaxed);
        let destination = self
            .inner
            .destinations
            .lock()
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(permits)))
            .clone();
        let kept = (destination, Arc::new(Target::new(url)));
        let mut targets = self.inner.targets.lock();
        if targets.len() >= MAX_KEPT_TARGETS {
            targets.clear();
        }
        targets.insert(url.to_owned(), kept.clone());
        kept
    }

    /// Writes the attempt into the ledger and schedules what follows from it.
    /// `(series, incarnation)` name the copy the attempt was made on: one an import replaced
    /// meanwhile gets nothing. `transport` (none when the channel has none) gives the retry
    /// delays and says what a notification that exhausted them logs.
    fn record(
        &self,
        seq: u64,
        (series, incarnation): (u32, u64),
        (outcome, url): (Outcome, Option<String>),
        transport: Option<&Arc<dyn Transport>>,
    ) {
        let delays = transport.map(|t| t.retry_delays()).unwrap_or_default();
        let outcome = outcome.bounded();
        let now = self.inner.clock.now();
        let mut follow_ups: Vec<(u64, Millis)> = Vec::new();
        let observer = self.inner.observer.lock().clone();
        {
            let mut ledger = self.inner.ledger.lock();
            let track = ledger.track;
            let Some(n) = ledger.items.get_mut(&seq) else {
                return;
            };
            if n.series != series || n.incarnation != incarnation || n.status != Status::Pending {
                return;
            }
            let in_series = n.attempts.iter().filter(|a| a.series == series).count();
            let next = match &outcome.verdict {
                Ok(()) => None,
                Err(_) => schedule::retry_delay(&delays, in_series + 1)
                    .map(|d| schedule::due_after(now, d)),
            };
            n.attempts.push(Attempt {
                number: n.attempts.len() as u32 + 1,
                series,
                url,
                virtual_time: outcome.virtual_time,
                virtual_time_text: format::china(outcome.virtual_time),
                wall_time: outcome.wall_time,
                finished_at: now,
                http_status: outcome.http_status,
                latency_ms: outcome.latency_ms,
                response_excerpt: outcome.excerpt,
                verdict: match &outcome.verdict {
                    Ok(()) => "delivered".into(),
                    Err(why) => format!("{FAILED}{why}"),
                },
                next_attempt_at: next,
            });
            n.next_attempt_at = next;
            let finished = match (&outcome.verdict, next) {
                (Ok(()), _) if n.behaviour.duplicate && series == 1 => {
                    n.series = 2;
                    n.next_attempt_at = Some(now);
                    follow_ups.push((seq, now));
                    false
                }
                (Ok(()), _) => {
                    n.status = Status::Delivered;
                    true
                }
                (Err(_), Some(at)) => {
                    follow_ups.push((seq, at));
                    false
                }
                (Err(why), None) => {
                    n.status = Status::Exhausted;
                    transport
                        .map_or_else(|| Exhausted::retries(n), |t| t.exhausted(n))
                        .log(n, why);
                    true
                }
            };
            if let Some(observe) = &observer {
                observe(n);
            }
            if track {
                ledger.touched.insert(seq);
            }
            if finished {
                follow_ups.extend(ledger.finish(seq, now));
                ledger.trim(self.inner.capacity);
            }
        }
        for (seq, at) in follow_ups {
            self.schedule_attempt(seq, at);
        }
        self.announce();
    }
}

/// What rustls says when the first bytes answered to its TLS handshake are no TLS record: most
/// often a plain-HTTP server's answer (`HTTP/1.1 400 …`) to an `https://` URL.
const NOT_TLS: &str = "received corrupt message of type InvalidContentType";

/// A failed request's reason (`why`, the HTTP client's) as the verdict says it: a TLS
/// handshake answered by a receiver that does not speak TLS is explained in plain words, the
/// client's own after them.
fn explain_failure(url: &str, why: String) -> String {
    let https = url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if https && why.contains(NOT_TLS) {
        format!(
            "the TLS handshake failed: the receiver does not seem to speak TLS; is the URL \
             meant to be http://? ({why})"
        )
    } else {
        why
    }
}

fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 512;
    let cut = body.get(..MAX).unwrap_or(body);
    let text = String::from_utf8_lossy(cut).into_owned();
    if body.len() > MAX {
        format!("{text}…")
    } else {
        text
    }
}

/// The receiver `url` reaches, as the per-destination limit counts it: the scheme, host and port
/// as the URL parser reads them (`HTTP://Host` is `http://host`, `http://u@h` is `http://h`, a
/// default port is the same as none), so writing one receiver's address in several ways (a
/// partner's `ipnUrl` is the client's choice) does not open more attempts to it. A URL that
/// does not parse keys on its text (its attempt fails without connecting).
///
/// The host is the one the connection reaches: a domain's closing dot (`localhost.`) and an
/// IPv4 address written as IPv6 (`[::ffff:127.0.0.1]`) name the same receiver as without them.
fn destination_key(url: &str) -> String {
    let Ok(u) = reqwest::Url::parse(url) else {
        return url.to_owned();
    };
    let host = u.host_str().unwrap_or("");
    let mapped = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<std::net::Ipv6Addr>().ok())
        .and_then(|a| a.to_ipv4_mapped());
    let host = match mapped {
        Some(v4) => v4.to_string(),
        None => host.trim_end_matches('.').to_owned(),
    };
    format!(
        "{}://{}:{}",
        u.scheme(),
        host,
        u.port_or_known_default().unwrap_or(0)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
    use std::time::Duration;

    use super::*;
    use crate::clock::{Clock, ClockMode};
    use crate::http::client::HttpClient;
    use crate::notify::NotificationSpec;
    use crate::tenant::{Provider, TenantId};

    /// A surface with its own schedule whose partner is never reachable.
    struct Unreachable;

    impl Transport for Unreachable {
        fn url(&self, _: &TenantId) -> Result<String, String> {
            Ok("http://127.0.0.1:9/ipn".into())
        }
        fn seal(&self, n: &Notification, _: bool) -> Result<Sealed, String> {
            Ok(Sealed {
                content_type: "application/json",
                body: serde_json::to_vec(&n.payload).unwrap().into(),
            })
        }
        fn judge(&self, _: &Notification, status: u16, _: &[u8]) -> Result<(), String> {
            Err(format!("HTTP {status}"))
        }
        fn retry_delays(&self) -> Vec<i64> {
            vec![500, 250]
        }
    }

    #[tokio::test]
    async fn each_surface_brings_its_own_schedule() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let outbox = Outbox::new(clock.clone(), HttpClient::new(), Duration::from_secs(5), 10);
        outbox.register("other", Arc::new(Unreachable));
        let id = outbox.enqueue(NotificationSpec {
            request_no: Some("R1".into()),
            ..spec("other", "m1", 1)
        });
        clock.advance(10_000).await;
        let n = outbox.get(&id).unwrap();
        assert_eq!(n.status, Status::Exhausted);
        assert_eq!(n.request_no, "R1");
        let times: Vec<Millis> = n.attempts.iter().map(|a| a.virtual_time).collect();
        assert_eq!(times, [0, 500, 750]);
        assert!(n.attempts[0]
            .verdict
            .starts_with("failed: connection failed"));
        assert_eq!(n.finished_at, Some(750));
        assert!(
            n.sealed.is_none(),
            "a finished notification keeps no sealed bytes"
        );
    }

    /// A surface whose partner is never reachable and whose one retry waits `i64::MAX` ms (as
    /// `[infinia] webhook_retry_seconds = [9223372036854775807]` makes one).
    struct Endless;

    impl Transport for Endless {
        fn url(&self, tenant: &TenantId) -> Result<String, String> {
            Unreachable.url(tenant)
        }
        fn seal(&self, n: &Notification, corrupt: bool) -> Result<Sealed, String> {
            Unreachable.seal(n, corrupt)
        }
        fn judge(&self, n: &Notification, status: u16, body: &[u8]) -> Result<(), String> {
            Unreachable.judge(n, status, body)
        }
        fn retry_delays(&self) -> Vec<i64> {
            vec![i64::MAX]
        }
    }

    /// Regression: a retry due past the end of virtual time was recorded as it was (up to
    /// `i64::MAX`), and the simulator's own snapshot was then refused on import. It is due when
    /// the clock stops, and runs there.
    #[tokio::test]
    async fn a_retry_due_past_the_end_of_virtual_time_is_due_at_its_end() {
        use crate::clock::{check_time, MAX_TIME};
        let clock = Clock::new(ClockMode::Manual, Some(MAX_TIME - 10_000));
        let outbox = Outbox::new(clock.clone(), HttpClient::new(), Duration::from_secs(5), 10);
        outbox.register("other", Arc::new(Endless));
        let id = outbox.enqueue(spec("other", "m1", 1));
        clock.advance(0).await;
        let n = outbox.get(&id).unwrap();
        assert_eq!(n.next_attempt_at, Some(MAX_TIME));
        assert_eq!(n.attempts[0].next_attempt_at, Some(MAX_TIME));
        for n in outbox.export(None).notifications {
            check_time(n.next_attempt_at.unwrap(), "nextAttemptAt").unwrap();
        }
        clock.advance(60_000).await;
        let n = outbox.get(&id).unwrap();
        assert_eq!(n.status, Status::Exhausted);
        let times: Vec<Millis> = n.attempts.iter().map(|a| a.virtual_time).collect();
        assert_eq!(times, [MAX_TIME - 10_000, MAX_TIME]);
    }

    /// A partner that acknowledges every notification at its own local receiver.
    struct Acking(String);

    impl Transport for Acking {
        fn url(&self, _: &TenantId) -> Result<String, String> {
            Ok(self.0.clone())
        }
        fn seal(&self, n: &Notification, _: bool) -> Result<Sealed, String> {
            Ok(Sealed {
                content_type: "application/json",
                body: serde_json::to_vec(&n.payload).unwrap().into(),
            })
        }
        fn judge(&self, _: &Notification, status: u16, _: &[u8]) -> Result<(), String> {
            (status == 200)
                .then_some(())
                .ok_or(format!("HTTP {status}"))
        }
        fn retry_delays(&self) -> Vec<i64> {
            vec![500, 250]
        }
    }

    /// Answers `200 ok` to every request on a local port; returns its URL.
    async fn ack_receiver() -> String {
        counting_receiver(Duration::ZERO, Arc::default()).await
    }

    /// Answers `200 ok` to every request on a local port after `delay`, counting the requests
    /// in `arrived`; returns its URL.
    async fn counting_receiver(delay: Duration, arrived: Arc<AtomicUsize>) -> String {
        use http_body_util::{BodyExt, Full};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let arrived = arrived.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            arrived.fetch_add(1, AtomicOrdering::SeqCst);
                            async move {
                                let _ = req.into_body().collect().await;
                                tokio::time::sleep(delay).await;
                                Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                                    bytes::Bytes::from_static(b"ok"),
                                )))
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        format!("http://{addr}/notify")
    }

    fn spec(channel: &'static str, merchant: &str, n: u64) -> NotificationSpec {
        let tenant = TenantId::new(Provider::Pockyt, merchant);
        NotificationSpec::new(
            tenant,
            channel,
            "payout".into(),
            serde_json::json!({"n": n}),
        )
    }

    /// While one destination takes a burst of notifications (more than its concurrent
    /// attempts), another partner's failing notification keeps its retry cadence: its attempts
    /// fall at 0, 500 and 750 ms of virtual time, each a prompt connection failure (it did not
    /// wait behind the burst until a timeout), and every notification of the burst is delivered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_to_one_destination_keeps_another_partners_retry_cadence() {
        const BURST: u64 = 300;
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let outbox = Outbox::new(
            clock.clone(),
            HttpClient::new(),
            Duration::from_secs(5),
            1000,
        );
        outbox.register("burst", Arc::new(Acking(ack_receiver().await)));
        outbox.register("other", Arc::new(Unreachable));
        let failing = outbox.enqueue(spec("other", "m-failing", 0));
        clock.advance(100).await;
        let burst: Vec<String> = (0..BURST)
            .map(|i| outbox.enqueue(spec("burst", "m-burst", i)))
            .collect();
        clock.advance(10_000).await;

        let n = outbox.get(&failing).unwrap();
        let times: Vec<Millis> = n.attempts.iter().map(|a| a.virtual_time).collect();
        assert_eq!(times, [0, 500, 750]);
        for a in &n.attempts {
            assert!(
                a.verdict.starts_with("failed: connection failed"),
                "{}",
                a.verdict
            );
            assert!(a.latency_ms < 1000, "attempt waited {} ms", a.latency_ms);
        }
        for id in &burst {
            let b = outbox.get(id).unwrap();
            assert_eq!(b.status, Status::Delivered, "{id}: {:?}", b.attempts);
            assert_eq!(b.attempts.len(), 1);
            assert_eq!(b.attempts[0].virtual_time, 100);
        }
    }

    /// Regression: an attempt waiting for its destination's permit was not told that an
    /// import (or a reset) had replaced its notification: it sent the old copy once its turn
    /// came, beside the new copy's own attempt, and kept an advance waiting meanwhile. Here 20
    /// notifications wait behind one place at a slow receiver; an import replaces them all, and
    /// the receiver gets each copy the import scheduled once, plus at most the one old attempt
    /// already sent.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attempts_waiting_for_a_place_drop_out_when_an_import_replaces_their_notification() {
        const COUNT: usize = 20;
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let outbox = Outbox::new(
            clock.clone(),
            HttpClient::new(),
            Duration::from_secs(5),
            100,
        );
        outbox.set_concurrency(1);
        let arrived = Arc::new(AtomicUsize::new(0));
        let url = counting_receiver(Duration::from_millis(50), arrived.clone()).await;
        outbox.register("slow", Arc::new(Acking(url)));
        let ids: Vec<String> = (0..COUNT as u64)
            .map(|i| outbox.enqueue(spec("slow", "m-slow", i)))
            .collect();
        let advancing = tokio::spawn({
            let clock = clock.clone();
            async move { clock.advance(0).await }
        });
        while arrived.load(AtomicOrdering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let state = outbox.export(None);
        assert_eq!(outbox.import(None, state), Ok(COUNT));
        tokio::time::timeout(Duration::from_secs(10), advancing)
            .await
            .expect("the advance ends")
            .unwrap();

        for id in &ids {
            let n = outbox.get(id).unwrap();
            assert_eq!(n.status, Status::Delivered, "{id}: {:?}", n.attempts);
            assert_eq!(n.attempts.len(), 1, "{id}");
        }
        let sent = arrived.load(AtomicOrdering::SeqCst);
        assert!(
            sent <= COUNT + 1,
            "{sent} requests for {COUNT} notifications"
        );
        assert_eq!(clock.in_flight(), 0);
    }

    /// A partner that refuses every notification with a 60,000-byte reason, as a receiver's
    /// long `detail` or echoed `requestNo` makes one.
    struct Verbose(String);

    impl Transport for Verbose {
        fn url(&self, _: &TenantId) -> Result<String, String> {
            Ok(self.0.clone())
        }
        fn seal(&self, n: &Notification, _: bool) -> Result<Sealed, String> {
            Acking(self.0.clone()).seal(n, false)
        }
        fn judge(&self, _: &Notification, _: u16, _: &[u8]) -> Result<(), String> {
            Err(format!("refused ({})", "d".repeat(60_000)))
        }
        fn retry_delays(&self) -> Vec<i64> {
            vec![500, 250]
        }
    }

    #[tokio::test]
    async fn a_receivers_long_reason_is_cut_in_every_verdict_and_the_offline_notice() {
        let (logs, _logging) = crate::test_logs::capture(tracing::Level::INFO);
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let outbox = Outbox::new(clock.clone(), HttpClient::new(), Duration::from_secs(5), 10);
        outbox.register("whalet", Arc::new(Verbose(ack_receiver().await)));
        let id = outbox.enqueue(spec("whalet", "m1", 1));
        clock.advance(10_000).await;

        let n = outbox.get(&id).unwrap();
        assert_eq!(n.status, Status::Exhausted);
        assert_eq!(n.attempts.len(), 3);
        for a in &n.attempts {
            assert!(
                a.verdict.len() <= VERDICT_BYTES,
                "{} bytes",
                a.verdict.len()
            );
            assert!(
                a.verdict.starts_with("failed: refused (ddd"),
                "{}",
                a.verdict
            );
            assert!(a.verdict.ends_with(" more bytes"), "{}", a.verdict);
        }
        let logged = logs.text();
        assert!(logged.contains("exhausted its retries"), "{logged}");
        assert!(
            logged.len() < 2 * VERDICT_BYTES,
            "{} bytes logged",
            logged.len()
        );
    }

    /// A transport that counts the exhausted notifications it is told of.
    struct Telling(String, Arc<AtomicUsize>);

    impl Transport for Telling {
        fn url(&self, _: &TenantId) -> Result<String, String> {
            Ok(self.0.clone())
        }
        fn seal(&self, n: &Notification, _: bool) -> Result<Sealed, String> {
            Acking(self.0.clone()).seal(n, false)
        }
        fn judge(&self, _: &Notification, status: u16, _: &[u8]) -> Result<(), String> {
            Err(format!("HTTP {status} refused"))
        }
        fn retry_delays(&self) -> Vec<i64> {
            vec![100]
        }
        fn exhausted(&self, n: &Notification) -> Exhausted {
            assert_eq!(n.status, Status::Exhausted);
            assert_eq!(n.attempts.len(), 2);
            self.1.fetch_add(1, AtomicOrdering::SeqCst);
            Exhausted {
                message: "told",
                key: ("requestNo", n.request_no.clone()),
            }
        }
    }

    /// Regression (t55c): the exhausted notification's log line is the surface's to write (its
    /// transport's), once per notification; a channel with no transport gets the plain line,
    /// naming the requestNo, with no offline wording (Whalet's rule alone).
    #[tokio::test]
    async fn an_exhausted_notification_is_told_to_its_own_transport_once() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let outbox = Outbox::new(clock.clone(), HttpClient::new(), Duration::from_secs(5), 10);
        let told = Arc::new(AtomicUsize::new(0));
        outbox.register(
            "told",
            Arc::new(Telling(ack_receiver().await, told.clone())),
        );
        let id = outbox.enqueue(spec("told", "m1", 1));
        clock.advance(1_000).await;
        assert_eq!(outbox.get(&id).unwrap().status, Status::Exhausted);
        assert_eq!(told.load(AtomicOrdering::SeqCst), 1);

        let (logs, _logging) = crate::test_logs::capture(tracing::Level::WARN);
        let id = outbox.enqueue(NotificationSpec {
            request_no: Some("R-42".into()),
            ..spec("nobody", "m1", 2)
        });
        clock.advance(1_000).await;
        assert_eq!(outbox.get(&id).unwrap().status, Status::Exhausted);
        let logged = logs.text();
        assert!(
            logged.contains("notification exhausted its retries"),
            "{logged}"
        );
        assert!(logged.contains("(requestNo R-42)"), "{logged}");
        assert!(
            logged.contains("last_error=no transport is registered for channel nobody"),
            "{logged}"
        );
        assert!(logged.contains("whalet_sim::notify::offline"), "{logged}");
        assert!(!logged.contains("offline notice"), "{logged}");
        assert_eq!(told.load(AtomicOrdering::SeqCst), 1);
    }

    /// A clean stop (t55c F1) waits for the attempt whose request is under way, which records
    /// its verdict, and starts no other: the ones waiting for their place at the receiver stay
    /// pending and due, unsent.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_clean_stop_waits_for_the_attempt_under_way_and_starts_no_other() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let outbox = Outbox::new(clock.clone(), HttpClient::new(), Duration::from_secs(5), 10);
        outbox.set_concurrency(1);
        let arrived = Arc::new(AtomicUsize::new(0));
        let url = counting_receiver(Duration::from_millis(400), arrived.clone()).await;
        outbox.register("slow", Arc::new(Acking(url)));
        let ids: Vec<String> = (0..3)
            .map(|i| outbox.enqueue(spec("slow", "m", i)))
            .collect();
        let advancing = tokio::spawn({
            let clock = clock.clone();
            async move { clock.advance(0).await }
        });
        while arrived.load(AtomicOrdering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let began = Instant::now();
        outbox.stop();
        let left = outbox
            .stopped(
                tokio::time::Instant::now() + outbox.timeout(),
                Duration::from_millis(250),
            )
            .await;
        assert_eq!(left, 0);
        assert!(
            began.elapsed() < Duration::from_secs(3),
            "{:?}",
            began.elapsed()
        );
        tokio::time::timeout(Duration::from_secs(10), advancing)
            .await
            .expect("the advance ends")
            .unwrap();
        let first = outbox.get(&ids[0]).unwrap();
        assert_eq!(first.status, Status::Delivered, "{:?}", first.attempts);
        assert_eq!(first.attempts.len(), 1);
        for id in &ids[1..] {
            let n = outbox.get(id).unwrap();
            assert_eq!(n.status, Status::Pending, "{id}");
            assert!(n.attempts.is_empty(), "{id}: {:?}", n.attempts);
            assert_eq!(n.next_attempt_at, Some(0), "{id}: still due");
        }
        clock.advance(60_000).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            arrived.load(AtomicOrdering::SeqCst),
            1,
            "nothing sent after the stop"
        );
    }

    /// An outbox (attempt timeout `timeout`, manual clock) whose one notification's first
    /// attempt is at a receiver that answers after `answer_after`: returned once the request
    /// arrived, with the notification and the advance that runs the attempt.
    async fn attempt_in_flight(
        timeout: Duration,
        answer_after: Duration,
    ) -> (Outbox, String, tokio::task::JoinHandle<()>) {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let outbox = Outbox::new(clock.clone(), HttpClient::new(), timeout, 10);
        let arrived = Arc::new(AtomicUsize::new(0));
        let url = counting_receiver(answer_after, arrived.clone()).await;
        outbox.register("slow", Arc::new(Acking(url)));
        let id = outbox.enqueue(spec("slow", "m", 1));
        let advancing = tokio::spawn(async move {
            clock.advance(0).await;
        });
        while arrived.load(AtomicOrdering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        (outbox, id, advancing)
    }

    /// A receiver slower than the attempt timeout holds a clean stop no longer than the
    /// timeout: the attempt is recorded as timed out, its retry scheduled.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_clean_stop_records_an_attempt_that_times_out_with_its_retry() {
        let timeout = Duration::from_millis(300);
        let (outbox, id, advancing) = attempt_in_flight(timeout, Duration::from_secs(30)).await;
        let began = Instant::now();
        outbox.stop();
        let left = outbox
            .stopped(
                tokio::time::Instant::now() + timeout + crate::app::ATTEMPT_RECORD_GRACE,
                crate::app::ATTEMPT_RECORD_GRACE,
            )
            .await;
        assert_eq!(left, 0);
        assert!(began.elapsed() <= timeout + crate::app::ATTEMPT_RECORD_GRACE);
        advancing.await.unwrap();
        let n = outbox.get(&id).unwrap();
        assert_eq!(n.status, Status::Pending);
        assert_eq!(n.attempts.len(), 1);
        assert_eq!(n.attempts[0].verdict, "failed: timed out after 300 ms");
        assert_eq!(n.next_attempt_at, Some(500), "its retry is scheduled");
    }

    /// An attempt timeout longer than a clean stop may wait ([`super::STOP_WAIT`]): at the
    /// stop's deadline the request still waiting for its answer is cut off and recorded as
    /// failed for that reason, its retry scheduled, rather than dropped unrecorded.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_clean_stop_cuts_off_an_answer_it_may_not_wait_for_and_records_it() {
        let (outbox, id, advancing) =
            attempt_in_flight(Duration::from_secs(60), Duration::from_secs(60)).await;
        let began = Instant::now();
        outbox.stop();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        let left = outbox.stopped(deadline, Duration::from_millis(250)).await;
        assert_eq!(left, 0);
        assert!(
            began.elapsed() < Duration::from_millis(550),
            "{:?}",
            began.elapsed()
        );
        advancing.await.unwrap();
        let n = outbox.get(&id).unwrap();
        assert_eq!(n.status, Status::Pending);
        assert_eq!(n.attempts.len(), 1);
        let verdict = &n.attempts[0].verdict;
        assert!(
            verdict.starts_with("failed: no answer ")
                && verdict.contains("ms after sending, when the simulator stopped")
                && verdict.ends_with("the retry goes out after a restart"),
            "{verdict}"
        );
        assert_eq!(n.next_attempt_at, Some(500), "its retry is scheduled");
    }

    /// An `https://` notify URL at a plain-HTTP receiver: the verdict says in plain words that
    /// the receiver does not speak TLS, the TLS library's words after them (t55c).
    #[tokio::test]
    async fn an_https_url_at_a_plain_http_receiver_says_the_receiver_speaks_no_tls() {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let outbox = Outbox::new(clock.clone(), HttpClient::new(), Duration::from_secs(5), 10);
        let url = ack_receiver().await.replacen("http://", "https://", 1);
        outbox.register("tls", Arc::new(Acking(url)));
        let id = outbox.enqueue(spec("tls", "m", 1));
        clock.advance(0).await;
        let n = outbox.get(&id).unwrap();
        let verdict = &n.attempts[0].verdict;
        assert!(
            verdict.starts_with(
                "failed: the TLS handshake failed: the receiver does not seem to speak TLS; \
                 is the URL meant to be http://? (connection failed: "
            ) && verdict.contains(NOT_TLS),
            "{verdict}"
        );
        assert_eq!(
            explain_failure("http://x/", format!("connection failed: {NOT_TLS}")),
            format!("connection failed: {NOT_TLS}"),
            "only an https URL"
        );
    }

    #[test]
    fn excerpts_are_bounded_and_lossy() {
        assert_eq!(excerpt(b"ok"), "ok");
        let long = excerpt(&[b'a'; 600]);
        assert_eq!(long.chars().count(), 513);
        assert!(excerpt(&[0xff, b'x']).ends_with('x'));
    }

    /// Regression: the key was the URL's text up to its path, so `HTTP://`, a user name or an
    /// explicit default port made a second destination with 32 more attempts to one receiver.
    #[test]
    fn one_receiver_written_several_ways_is_one_destination() {
        let key = destination_key("http://127.0.0.1:18932/x/h");
        for same in [
            "HTTP://127.0.0.1:18932/x/h",
            "http://u1@127.0.0.1:18932/y",
            "http://u:p@127.0.0.1:18932?q#f",
        ] {
            assert_eq!(destination_key(same), key, "{same}");
        }
        assert_eq!(
            destination_key("http://Example.COM/a"),
            destination_key("http://example.com:80/b")
        );
        assert_ne!(
            destination_key("http://example.com/"),
            destination_key("https://example.com/")
        );
        assert_ne!(key, destination_key("http://127.0.0.1:18933/x/h"));
    }

    /// Regression: a domain's closing dot and an IPv4 address written as IPv6 made a second
    /// destination for the same receiver.
    #[test]
    fn a_closing_dot_or_a_mapped_address_is_the_same_destination() {
        assert_eq!(
            destination_key("http://localhost.:8080/a"),
            destination_key("http://localhost:8080/b")
        );
        assert_eq!(
            destination_key("http://[::ffff:127.0.0.1]:18932/h"),
            destination_key("http://127.0.0.1:18932/h")
        );
        assert_ne!(
            destination_key("http://[::1]:18932/h"),
            destination_key("http://127.0.0.1:18932/h")
        );
    }
}
