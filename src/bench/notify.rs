//! `whalet-sim bench --notifications N`: how fast the simulator delivers signed notifications,
//! against the sealing ceiling of the build. Each destination is one partner whose notify URL is
//! a receiver in this process that acknowledges cheaply (it echoes the notification's head with
//! `SUCCESS` and does no RSA), so the simulator's side is what is measured: one private-key
//! signature, one public-key encryption of the session key and AES per notification.
//!
//! The notifications are made by the control plane's `whalet.connectivity.notify` trigger (no RSA
//! on the way in), `--burst` per trigger request (its `count`), round robin over the
//! destinations; the run ends when every one was acknowledged. Before it, every destination
//! takes `--warm-up` notifications untimed, so the simulator's connections to the receivers are
//! open as in steady state. The ceiling is measured right before and right after the run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::ceiling::{self, Ceiling};
use super::server;
use crate::http::client::HttpClient;
use crate::http::peer::{serve_bodies, Answer};
use crate::wire::keys::demo;
use tokio_util::sync::CancellationToken;

/// One run: `destinations` partners sharing `notifications` deliveries.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyRun {
    pub destinations: usize,
    pub notifications: u64,
    /// Notifications per trigger request.
    pub burst: u64,
    /// Notifications each destination took before the measured window (not counted).
    pub warm_up: u64,
    pub delivered: u64,
    pub elapsed_s: f64,
    pub deliveries_per_sec: f64,
    pub server_cpu_s: Option<f64>,
    pub server_cpu_us_per_delivery: Option<f64>,
    /// The server's own count of its crypto CPU time in the window (`serve --account-crypto`).
    pub server_crypto_cpu_s: Option<f64>,
    /// `server_crypto_cpu_s / server_cpu_s`, on the same threads at the same moments.
    pub crypto_share: Option<f64>,
    /// The sealing ceiling's crypto time per notification: the mean of the slices before and
    /// after, or the ceiling measured once at the start without slices (none with
    /// `--no-ceiling`).
    pub ceiling_us: Option<f64>,
    pub ceiling_before_us: Option<f64>,
    pub ceiling_after_us: Option<f64>,
    /// Deliveries per server CPU-second ÷ notifications per core the ceiling allows.
    pub ceiling_ratio: Option<f64>,
}

/// The acknowledgements counted, and a wake-up for whoever waits, once, when the count reaches
/// the goal (not at every acknowledgement: a wake-up per delivery would be a cost of the bench
/// paid on the cores the simulator is measured on).
struct Acks {
    count: AtomicU64,
    goal: AtomicU64,
    reached: Notify,
}

impl Acks {
    fn new() -> Self {
        Self {
            count: AtomicU64::new(0),
            goal: AtomicU64::new(u64::MAX),
            reached: Notify::new(),
        }
    }

    // Sequentially consistent: the waiter stores the goal and then reads the count, an
    // acknowledgement adds to the count and then reads the goal; at least one sees the other.
    fn ack(&self) {
        let count = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        if count == self.goal.load(Ordering::SeqCst) {
            self.reached.notify_one();
        }
    }

    fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until the count reaches `goal` (at most five minutes; the count is read again every
    /// 200 ms whatever happens).
    async fn wait_for(&self, goal: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
        self.goal.store(goal, Ordering::SeqCst);
        // Checked after the goal is set: an acknowledgement counted before it cannot be missed,
        // and one counted after it notifies (a stored permit if nobody waits yet).
        while self.count() < goal && tokio::time::Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(200), self.reached.notified()).await;
        }
    }
}

/// A receiver that acknowledges every Whalet notification by echoing its head, until `stop`.
async fn receiver(acks: Arc<Acks>, stop: CancellationToken) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let answer = move |body: Bytes| {
        let acks = acks.clone();
        async move {
            let ack = ack_for(&body);
            acks.ack();
            Answer::json(ack)
        }
    };
    tokio::spawn(serve_bodies(listener, stop, answer));
    Ok(format!("http://{addr}/notify"))
}

/// The acknowledgement of a notification: its head echoed with `SUCCESS` (unsigned).
fn ack_for(body: &[u8]) -> Bytes {
    let head = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("head").cloned())
        .unwrap_or(Value::Null);
    let field = |name: &str| head.get(name).cloned().unwrap_or(Value::Null);
    Bytes::from(
        json!({"head": {
            "partnerId": field("partnerId"), "apiCode": field("apiCode"),
            "requestNo": field("requestNo"), "version": field("version"),
            "code": "SUCCESS", "detail": "成功",
        }})
        .to_string(),
    )
}

/// The configuration of `count` partners, each with the demo keys and its own notify URL.
fn config(urls: &[String]) -> String {
    let mut out = String::from("[whalet]\ndemo_partner = false\n");
    for (i, url) in urls.iter().enumerate() {
        out.push_str(&format!(
            "[[whalet.partners]]\npartner_id = \"{}\"\npublic_key = \"\"\"{}\"\"\"\nnotify_url = \"{url}\"\n",
            partner_id(i),
            demo::PARTNER_PUBLIC
        ));
    }
    out
}

fn partner_id(i: usize) -> String {
    format!("2024000009{i:05}")
}

/// The most notifications one trigger request may ask for (the trigger's `count`): `[notify]
/// ledger_capacity` of the simulator this bench spawns, whose configuration ([`config`]) leaves
/// it at its default. `--burst` and `--warm-up` are checked against it before anything runs.
pub fn most_per_trigger() -> u64 {
    crate::config::NotifyConfig::default().ledger_capacity as u64
}

/// Notifications one trigger request asks for when `--burst` is not given: each destination's
/// share in two requests (at most 1,000 a request), so the trigger's own HTTP round trips weigh
/// little against the deliveries measured while the deliveries still overlap the requests.
pub fn default_burst(n: u64, destinations: usize) -> u64 {
    n.div_ceil((destinations as u64).max(1) * 2).clamp(1, 1000)
}

/// Runs one level: `destinations` receivers, a spawned simulator, `warm_up` notifications to
/// each destination untimed, then `n` notifications asked for `burst` at a time (the trigger's
/// `count`). With a `slice`, the ceiling is measured for that long right before and right after
/// the measured window; without one, the ratio is taken against `whole` (the ceiling measured
/// once at the start), if any.
pub async fn run(
    n: u64,
    destinations: usize,
    (burst, warm_up): (u64, u64),
    (slice, whole): (Option<Duration>, Option<&Ceiling>),
    ceiling_threads: usize,
    server_log: &str,
) -> anyhow::Result<NotifyRun> {
    anyhow::ensure!(
        n > 0 && destinations > 0,
        "--notifications and the destinations must be positive"
    );
    let acks = Arc::new(Acks::new());
    // The level's receivers stop listening when it ends, however it ends.
    let stop = CancellationToken::new();
    let _stop_receivers = stop.clone().drop_guard();
    let mut urls = Vec::with_capacity(destinations);
    for _ in 0..destinations {
        urls.push(receiver(acks.clone(), stop.clone()).await?);
    }
    let path = std::env::temp_dir().join(format!(
        "whalet-sim-bench-{}-{destinations}.toml",
        std::process::id()
    ));
    std::fs::write(&path, config(&urls))?;
    let serve = vec![
        "serve".to_owned(),
        "--addr".to_owned(),
        "{addr}".to_owned(),
        "--sftp-addr".to_owned(),
        "off".to_owned(),
        "--config".to_owned(),
        path.display().to_string(),
        "--account-crypto".to_owned(),
        "--quiet-after-ready".to_owned(),
    ];
    let spawned = server::spawn_self(&serve, "/__sim/health", server_log).await;
    let _ = std::fs::remove_file(&path);
    let spawned = spawned?;
    let pid = spawned.child.id();
    let base = format!("http://{}", spawned.addr);

    // Untimed: every destination first takes `warm_up` at once, so the connections the simulator
    // pools to it are open before the measured window, as they are in steady state.
    let warm = warm_up.saturating_mul(destinations as u64);
    if warm > 0 {
        say!("notifications: warming up with {warm}...");
        fire(&base, warm, warm_up, destinations).await?;
        acks.wait_for(warm).await;
    }
    let already = acks.count();

    let slice_now = || {
        slice
            .map(|each| ceiling::measure_on(each, ceiling::Scheme::Notification, ceiling_threads))
            .transpose()
    };
    let before = slice_now()?;
    let reading = server::read(spawned.addr, Some(pid)).await;
    let started = Instant::now();
    fire(&base, n, burst, destinations).await?;
    acks.wait_for(already + n).await;
    let elapsed = started.elapsed().as_secs_f64();
    let later = server::read(spawned.addr, Some(pid)).await;
    let cpu = later.cpu_s_since(&reading);
    let crypto = later.crypto_s_since(&reading);
    let after = slice_now()?;
    drop(spawned);
    let delivered = acks.count() - already;
    let ceiling_us = match (&before, &after) {
        (Some(before), Some(after)) => Some(before.mean_with(after).us_per_request),
        _ => whole.map(|c| c.us_per_request),
    };
    let per_delivery = super::report::us_each(cpu, delivered);
    Ok(NotifyRun {
        destinations,
        notifications: n,
        burst,
        warm_up,
        delivered,
        elapsed_s: elapsed,
        deliveries_per_sec: delivered as f64 / elapsed.max(1e-9),
        server_cpu_s: cpu,
        server_cpu_us_per_delivery: per_delivery,
        server_crypto_cpu_s: crypto,
        crypto_share: super::report::crypto_share(crypto, cpu),
        ceiling_us,
        ceiling_before_us: before.map(|c| c.us_per_request),
        ceiling_after_us: after.map(|c| c.us_per_request),
        ceiling_ratio: ceiling_us.and_then(|us| super::report::ratio_to(us, per_delivery)),
    })
}

/// Asks the simulator for `n` notifications, `burst` per trigger request, round robin over the
/// destinations, from 16 concurrent requesters.
async fn fire(base: &str, n: u64, burst: u64, destinations: usize) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let burst = burst.max(1);
    let firers: Vec<_> = (0..16)
        .map(|_| {
            let (next, base) = (next.clone(), base.to_owned());
            tokio::spawn(async move {
                let client = HttpClient::new();
                loop {
                    let chunk = next.fetch_add(1, Ordering::Relaxed);
                    let first = chunk.saturating_mul(burst);
                    if first >= n {
                        return Ok::<(), String>(());
                    }
                    let body = json!({
                        "partnerId": partner_id(usize::try_from(chunk).unwrap_or(0) % destinations),
                        "notifyMessage": format!("bench {first}"),
                        "count": burst.min(n - first),
                    });
                    let r = client
                        .post(
                            &format!("{base}/__sim/trigger/whalet.connectivity.notify"),
                            "application/json",
                            Bytes::from(body.to_string()),
                            Duration::from_secs(30),
                        )
                        .await?;
                    if r.status != 200 {
                        return Err(format!(
                            "the trigger answered HTTP {}: {}",
                            r.status,
                            String::from_utf8_lossy(&r.body)
                        ));
                    }
                }
            })
        })
        .collect();
    for f in firers {
        f.await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

/// The report of every level, as a table.
pub fn table(runs: &[NotifyRun], ceiling: Option<&Ceiling>) -> String {
    let mut s = String::new();
    if let Some(c) = ceiling {
        s.push_str("notification sealing ceiling (one core, in-process):\n");
        for op in &c.ops {
            s.push_str(&format!(
                "  {:<40} {:>10.0} ops/s  {:>8.1} us\n",
                op.op, op.ops_per_sec, op.us_per_op
            ));
        }
        s.push_str(&format!(
            "  => {:.1} us of crypto per notification = {:.0} notifications/s per core\n\n",
            c.us_per_request, c.requests_per_sec_per_core
        ));
    }
    s.push_str(&format!(
        "{:>12} {:>10} {:>10} {:>12} {:>12} {:>14} {:>7} {:>8}\n",
        "destinations",
        "sent",
        "acked",
        "deliveries/s",
        "cpu us/dlv",
        "ceiling us",
        "ratio",
        "crypto %"
    ));
    for r in runs {
        s.push_str(&format!(
            "{:>12} {:>10} {:>10} {:>12.1} {:>12} {:>14} {:>7} {:>8}\n",
            r.destinations,
            r.notifications,
            r.delivered,
            r.deliveries_per_sec,
            r.server_cpu_us_per_delivery
                .map_or("-".to_owned(), |v| format!("{v:.0}")),
            match (r.ceiling_us, r.ceiling_before_us, r.ceiling_after_us) {
                (Some(mean), Some(before), Some(after)) => {
                    format!("{mean:.0} ({before:.0}/{after:.0})")
                }
                (Some(once), _, _) => format!("{once:.0}"),
                _ => "-".to_owned(),
            },
            r.ceiling_ratio
                .map_or("-".to_owned(), |v| format!("{v:.2}")),
            r.crypto_share
                .map_or("-".to_owned(), |v| format!("{:.1}", v * 100.0)),
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The waiter is woken by the acknowledgement that reaches its goal, not by its 200 ms
    /// re-reading (the clock is paused: only the re-reading would move it), and a goal already
    /// passed returns at once.
    #[tokio::test(start_paused = true)]
    async fn the_goal_wakes_the_waiter() {
        let acks = Arc::new(Acks::new());
        let waiter = {
            let acks = acks.clone();
            tokio::spawn(async move {
                let started = tokio::time::Instant::now();
                acks.wait_for(5).await;
                started.elapsed()
            })
        };
        tokio::task::yield_now().await;
        for _ in 0..5 {
            acks.ack();
            tokio::task::yield_now().await;
        }
        assert_eq!(waiter.await.unwrap(), Duration::ZERO);
        let started = tokio::time::Instant::now();
        acks.wait_for(3).await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(acks.count(), 5);
    }

    #[test]
    fn the_ack_echoes_the_head_with_success() {
        let body = br#"{"head":{"partnerId":"P","apiCode":"connectivityNotify","requestNo":"N1","version":"1.0","sign":"x"},"encrypt":"e"}"#;
        let ack: Value = serde_json::from_slice(&ack_for(body)).unwrap();
        assert_eq!(
            ack["head"],
            json!({"partnerId": "P", "apiCode": "connectivityNotify", "requestNo": "N1",
                   "version": "1.0", "code": "SUCCESS", "detail": "成功"})
        );
    }

    #[test]
    fn the_configuration_names_every_destination() {
        let text = config(&["http://a/notify".into(), "http://b/notify".into()]);
        let parsed = crate::config::Config::parse(&text).unwrap();
        assert_eq!(parsed.whalet.partners.len(), 2);
        assert_eq!(
            parsed.whalet.partners[1].notify_url.as_deref(),
            Some("http://b/notify")
        );
        assert_ne!(
            parsed.whalet.partners[0].partner_id,
            parsed.whalet.partners[1].partner_id
        );
    }
}
