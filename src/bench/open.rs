//! Open-loop load (`bench --rate R`): requests leave at a fixed arrival rate whatever the
//! server's replies do, and each request's latency is counted from the moment it was *scheduled*
//! to leave, so time spent waiting behind a slow server (or a late generator) is part of the
//! figure instead of being hidden by a generator that waits for replies before sending more
//! ("coordinated omission").
//!
//! Bounded twice: the schedule lasts the run's duration, and at most `max_in_flight` requests are
//! outstanding at once; a request due while the cap is reached is not sent and is counted as
//! dropped. Requests still unanswered a grace period after the schedule ends are counted as
//! unfinished.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;

use super::load::{classify, connect, open_fully, send, Outcome};
use super::requests::Plan;

/// The shape of one open-loop run.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Requests per second.
    pub rate: f64,
    /// How long requests keep being scheduled.
    pub duration: Duration,
    /// Outstanding requests allowed at once; a request due beyond it is dropped.
    pub max_in_flight: usize,
    /// Connections opened before the first request (more are opened while all are busy).
    pub connections: usize,
    /// How long to wait for the last replies after the schedule ends.
    pub grace: Duration,
}

impl Schedule {
    /// How many requests the whole schedule holds.
    pub fn total(&self) -> u64 {
        (self.rate * self.duration.as_secs_f64()).round().max(0.0) as u64
    }

    /// When request `i` is due, from the start of the schedule.
    pub fn due_at(&self, i: u64) -> Duration {
        if self.rate > 0.0 {
            Duration::from_secs_f64(i as f64 / self.rate)
        } else {
            Duration::ZERO
        }
    }

    /// How many requests are due by `elapsed` (request 0 is due at once), at most `total()`.
    pub fn due_by(&self, elapsed: Duration) -> u64 {
        let due = (elapsed.as_secs_f64() * self.rate).floor() as u64 + 1;
        due.min(self.total())
    }
}

/// What one open-loop run measured.
#[derive(Debug, Default)]
pub struct OpenOutcome {
    /// Requests the schedule held.
    pub scheduled: u64,
    /// Requests actually sent (scheduled - dropped, unless the pool ran out).
    pub sent: u64,
    /// Due while `max_in_flight` requests were outstanding: not sent.
    pub dropped: u64,
    /// Sent but not answered within the grace period after the schedule.
    pub unfinished: u64,
    /// Connections opened in all (the pre-opened ones included).
    pub connections: u64,
    /// The most requests outstanding at once.
    pub peak_in_flight: usize,
    /// The largest delay between a request's due time and the generator sending it.
    pub max_send_lag: Duration,
    /// From the start of the schedule to the last reply.
    pub elapsed: Duration,
    /// Replies, codes and latencies (microseconds from the scheduled send time; answered
    /// requests only), and the requests that got no answer.
    pub replies: Outcome,
}

struct Shared {
    plan: Plan,
    addr: SocketAddr,
    host: String,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
    in_flight: AtomicUsize,
    opened: AtomicU64,
    opened_one: AtomicBool,
    result: Mutex<Outcome>,
}

/// Runs one open-loop schedule and waits (at most the grace period) for its replies.
pub async fn run(addr: SocketAddr, plan: Plan, schedule: Schedule) -> OpenOutcome {
    let shared = Arc::new(Shared {
        host: addr.to_string(),
        plan,
        addr,
        idle: Mutex::new(Vec::new()),
        in_flight: AtomicUsize::new(0),
        opened: AtomicU64::new(0),
        opened_one: AtomicBool::new(false),
        result: Mutex::new(Outcome::default()),
    });
    for _ in 0..schedule.connections.max(1) {
        if let Ok(conn) = connect(addr).await {
            shared.opened.fetch_add(1, Ordering::Relaxed);
            lock(&shared.idle).push(conn);
        }
    }
    let mut out = OpenOutcome {
        scheduled: schedule.total(),
        ..OpenOutcome::default()
    };
    let mut tasks = tokio::task::JoinSet::new();
    let start = tokio::time::Instant::now();
    let mut next = 0u64;
    'schedule: while next < out.scheduled {
        let due = schedule.due_by(start.elapsed());
        while next < due {
            let at = start + schedule.due_at(next);
            let in_flight = shared.in_flight.load(Ordering::Relaxed);
            if in_flight >= schedule.max_in_flight {
                out.dropped += 1;
            } else {
                let Some(body) = shared.plan.pool.get(next) else {
                    out.replies.pool_exhausted = true;
                    break 'schedule;
                };
                out.max_send_lag = out.max_send_lag.max(at.elapsed());
                out.peak_in_flight = out.peak_in_flight.max(in_flight + 1);
                shared.in_flight.fetch_add(1, Ordering::Relaxed);
                out.sent += 1;
                tasks.spawn(one(shared.clone(), body, at.into_std()));
            }
            next += 1;
        }
        if next < out.scheduled {
            tokio::time::sleep_until(start + schedule.due_at(next)).await;
        }
        // Reap finished tasks so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    out.replies.consumed = next;
    let grace = tokio::time::Instant::now() + schedule.grace;
    loop {
        match tokio::time::timeout_at(grace, tasks.join_next()).await {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                out.unfinished = tasks.len() as u64;
                tasks.abort_all();
                break;
            }
        }
    }
    out.elapsed = start.elapsed();
    out.connections = shared.opened.load(Ordering::Relaxed);
    let replies = std::mem::take(&mut *lock(&shared.result));
    out.replies = Outcome {
        pool_exhausted: out.replies.pool_exhausted,
        consumed: out.replies.consumed,
        elapsed: out.elapsed,
        ..replies
    };
    out
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Latency from the scheduled send time to the end of the reply, in microseconds.
pub fn latency_us(scheduled: Instant, done: Instant) -> u32 {
    u32::try_from(done.saturating_duration_since(scheduled).as_micros()).unwrap_or(u32::MAX)
}

/// Sends one request on an idle connection (or a new one) and records its reply.
async fn one(shared: Arc<Shared>, body: Bytes, scheduled: Instant) {
    let idle = lock(&shared.idle).pop();
    let conn = match idle {
        Some(c) if !c.is_closed() => Ok(c),
        _ => {
            shared.opened.fetch_add(1, Ordering::Relaxed);
            connect(shared.addr).await
        }
    };
    let answer = match conn {
        Ok(mut conn) => {
            let sent = send(&mut conn, &shared.plan, &shared.host, body).await;
            sent.map(|(status, reply)| {
                lock(&shared.idle).push(conn);
                (classify(shared.plan.judge, status, &reply), reply)
            })
        }
        Err(e) => Err(e),
    };
    let latency = latency_us(scheduled, Instant::now());
    shared.in_flight.fetch_sub(1, Ordering::Relaxed);
    let (code, reply) = match answer {
        Ok(answer) => answer,
        Err(e) => {
            lock(&shared.result).unanswered(&e);
            return;
        }
    };
    let first = !shared.opened_one.swap(true, Ordering::Relaxed);
    let mut out = lock(&shared.result);
    if shared.plan.success.contains(&code) {
        out.ok += 1;
    }
    out.answered(latency, code);
    if first {
        open_fully(&shared.plan, &reply, &mut out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(rate: f64, ms: u64) -> Schedule {
        Schedule {
            rate,
            duration: Duration::from_millis(ms),
            max_in_flight: 10,
            connections: 1,
            grace: Duration::from_millis(100),
        }
    }

    /// Requests are due at fixed intervals from the start whatever happened before: a generator
    /// that wakes late sends everything that fell due in the meantime, and the schedule ends
    /// after rate x duration requests.
    #[test]
    fn the_schedule_is_fixed_in_advance() {
        let s = schedule(1000.0, 2000);
        assert_eq!(s.total(), 2000);
        assert_eq!(s.due_at(0), Duration::ZERO);
        assert_eq!(s.due_at(250), Duration::from_millis(250));
        assert_eq!(s.due_by(Duration::ZERO), 1);
        assert_eq!(s.due_by(Duration::from_micros(999)), 1);
        assert_eq!(s.due_by(Duration::from_millis(1)), 2);
        // Woken 10.5 ms late: requests 0..=10 are all due.
        assert_eq!(s.due_by(Duration::from_micros(10_500)), 11);
        assert_eq!(s.due_by(Duration::from_secs(60)), 2000);
        let slow = schedule(2.5, 2000);
        assert_eq!(slow.total(), 5);
        assert_eq!(slow.due_at(3), Duration::from_millis(1200));
    }

    /// A reply that arrives 3 ms after it was sent, for a request sent 5 ms after it was due,
    /// counts 8 ms: the time it waited to be sent is part of its latency.
    #[test]
    fn latency_counts_from_the_scheduled_time() {
        let due = Instant::now();
        let sent = due + Duration::from_millis(5);
        let done = sent + Duration::from_millis(3);
        assert_eq!(latency_us(due, done), 8000);
        assert_eq!(latency_us(done, due), 0);
    }

    /// Against a server that never answers, the in-flight cap holds: requests beyond it are
    /// dropped and counted, those sent are unfinished after the grace period, and the run ends.
    #[tokio::test]
    async fn the_cap_drops_what_is_due_beyond_it() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Accepts connections and holds them open without answering.
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let plan = Plan {
            method: hyper::Method::GET,
            path: "/".into(),
            content_type: "text/plain",
            pool: super::super::requests::Pool::Repeat(Bytes::new()),
            judge: super::super::requests::Judge::Status,
            success: vec!["HTTP 200".into()],
            opener: None,
            sealer: None,
        };
        let s = Schedule {
            rate: 200.0,
            duration: Duration::from_millis(200),
            max_in_flight: 5,
            connections: 2,
            grace: Duration::from_millis(50),
        };
        let started = Instant::now();
        let out = run(addr, plan, s).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(out.scheduled, 40);
        assert_eq!(out.sent, 5);
        assert_eq!(out.dropped, 35);
        assert_eq!(out.unfinished, 5);
        assert_eq!(out.peak_in_flight, 5);
        assert_eq!(out.replies.latencies_us.len(), 0);
        silent.abort();
    }
}
