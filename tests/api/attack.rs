//! The attack suite (docs/RELIABILITY.md, "Attack suite"): each case of the hostile-client list
//! run at volume against a live simulator while a separate thread measures `GET /__sim/health`
//! on a keep-alive connection opened before the attack. Every case asserts that health kept
//! answering under [`HEALTH_BOUND`], that the attack was answered or cut off as documented, and
//! that afterwards the ledger invariant holds and the state is what it was. The single-request
//! regression tests of the same limits are in `edge_limits.rs` and `control_guard.rs`.
//!
//! The server runs on two tokio workers (the 2-core target); the prober is a plain thread with
//! blocking I/O so that it measures the server, not the test's own scheduling.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::helpers::{second_partner_config, spawn_with, Setup, TestApp, SECOND_PARTNER};

/// The promise: health answers within 50 ms while an attack runs (2 cores). Held for the 95th
/// percentile; the slowest single answer may reach [`HEALTH_BOUND`], since this is a debug build
/// sharing the machine with the rest of the test binary (one descheduling is not an outage).
const HEALTH_P95: Duration = Duration::from_millis(50);
/// Slowest acceptable single health answer while an attack runs.
const HEALTH_BOUND: Duration = Duration::from_millis(250);
/// Each attack is repeated in waves until it has lasted this long.
const SUSTAIN: Duration = Duration::from_secs(1);
/// No attack case may take longer than this.
const CASE_LIMIT: Duration = Duration::from_secs(60);

fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}

/// Health latencies measured by [`Probe`].
struct Stats {
    samples: Vec<Duration>,
    failures: Vec<String>,
}

impl Stats {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(i).copied().unwrap_or_default()
    }

    /// Asserts health answered, every time, within the bound; prints the figures.
    fn check(&self, case: &str) {
        let max = self.samples.iter().max().copied().unwrap_or_default();
        eprintln!(
            "attack {case}: health answered {} times; p50 {:.1?}, p95 {:.1?}, max {:.1?}",
            self.samples.len(),
            self.percentile(0.5),
            self.percentile(0.95),
            max
        );
        assert!(
            self.failures.is_empty(),
            "{case}: health failed during the attack: {:?}",
            self.failures
        );
        assert!(
            self.samples.len() >= 5,
            "{case}: health answered only {} times",
            self.samples.len()
        );
        let p95 = self.percentile(0.95);
        assert!(
            p95 < HEALTH_P95,
            "{case}: health's 95th percentile was {p95:?} (promise {HEALTH_P95:?}) under attack"
        );
        assert!(
            max < HEALTH_BOUND,
            "{case}: health took {max:?} (bound {HEALTH_BOUND:?}) while under attack"
        );
    }
}

/// `GET /__sim/health` every 10 ms on one keep-alive connection, from its own thread.
struct Probe {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Stats>,
}

impl Probe {
    /// Connects and answers once before returning, so the connection exists before the attack.
    fn start(url: &str) -> Probe {
        let mut stream = std::net::TcpStream::connect(addr(url)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        health(&mut stream).expect("health before the attack");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut stats = Stats {
                samples: Vec::new(),
                failures: Vec::new(),
            };
            while !flag.load(Ordering::Relaxed) && stats.failures.is_empty() {
                let started = Instant::now();
                match health(&mut stream) {
                    Ok(()) => stats.samples.push(started.elapsed()),
                    Err(e) => stats.failures.push(e),
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            stats
        });
        Probe { stop, thread }
    }

    fn finish(self) -> Stats {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// One `GET /__sim/health` on a keep-alive connection: Ok when it answered 200.
fn health(stream: &mut std::net::TcpStream) -> Result<(), String> {
    stream
        .write_all(b"GET /__sim/health HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => return Err("the connection was closed".into()),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no content-length in {head:?}"))?;
    let mut body = vec![0u8; length];
    stream
        .read_exact(&mut body)
        .map_err(|e| format!("body: {e}"))?;
    if !head.starts_with("http/1.1 200") {
        return Err(format!("status line {:?}", head.lines().next()));
    }
    Ok(())
}

/// Sends `request` on a new connection and reads until the server closes it (bounded).
async fn exchange(url: &str, request: Vec<u8>, within: Duration) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr(url))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(&request)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut out = Vec::new();
    match timeout(within, stream.read_to_end(&mut out)).await {
        Ok(Ok(_)) => Ok(String::from_utf8_lossy(&out).into_owned()),
        Ok(Err(e)) if !out.is_empty() => Err(format!(
            "read: {e} after {:?}",
            String::from_utf8_lossy(&out)
        )),
        Ok(Err(e)) => Err(format!("read: {e}")),
        Err(_) => Err(format!("no answer within {within:?}")),
    }
}

/// What the attack must leave untouched: every tenant's state and the journal's length.
async fn snapshot(app: &TestApp) -> (Value, usize) {
    let state = app.get_json("/__sim/state").await;
    let journal = app.get_json("/__sim/requests").await["requests"]
        .as_array()
        .map_or(0, Vec::len);
    (state, journal)
}

/// Some state a reset or a stray request would visibly change: one request in the journal and
/// the demo Pockyt merchant's balance topped up.
async fn some_state(app: &TestApp) {
    app.connectivity().await;
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.balance.funded",
            &json!({"amount": "10.00", "currency": "USD"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn spawn(config: &str) -> TestApp {
    spawn_with(Setup {
        config: Some(config.into()),
        ..Setup::default()
    })
    .await
}

/// What an attack must leave as it was. Refusals by a surface are journaled; the control plane
/// journals nothing it refuses. `Nothing`: the attack includes real calls (checked by the test).
#[derive(PartialEq, Eq)]
enum Unchanged {
    Nothing,
    State,
    StateAndJournal,
}

/// Runs `attack` in waves for at least [`SUSTAIN`] (bounded by [`CASE_LIMIT`]) while probing
/// health; then checks the probe, the invariants and the state.
async fn under_attack<F, Fut>(app: &TestApp, case: &str, unchanged: Unchanged, attack: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let before = snapshot(app).await;
    let probe = Probe::start(&app.url);
    let started = Instant::now();
    let mut waves = 0;
    let sustained = async {
        while waves == 0 || started.elapsed() < SUSTAIN {
            attack().await;
            waves += 1;
        }
    };
    timeout(CASE_LIMIT, sustained)
        .await
        .unwrap_or_else(|_| panic!("{case}: the attack did not finish within {CASE_LIMIT:?}"));
    let took = started.elapsed();
    let stats = probe.finish();
    eprintln!("attack {case}: {waves} waves in {took:.2?}");
    stats.check(case);
    app.assert_invariants().await;
    let after = snapshot(app).await;
    if unchanged != Unchanged::Nothing {
        assert_eq!(after.0, before.0, "{case}: the state changed");
    }
    if unchanged == Unchanged::StateAndJournal {
        assert_eq!(after.1, before.1, "{case}: the journal changed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eleven_hundred_idle_connections_do_not_starve_health() {
    let app = spawn("[server]\nmax_connections = 64\nheader_read_timeout_ms = 5000\n").await;
    some_state(&app).await;
    let url = app.url.as_str();
    under_attack(
        &app,
        "1100 idle connections (cap 64)",
        Unchanged::StateAndJournal,
        || async move {
            let mut held = Vec::new();
            let mut refused_by_os = None;
            for _ in 0..1_100 {
                match TcpStream::connect(addr(url)).await {
                    Ok(stream) => held.push(stream),
                    Err(e) => {
                        // A machine with a low open-files limit: the cap is still far exceeded.
                        refused_by_os = Some(e.to_string());
                        break;
                    }
                }
            }
            eprintln!(
                "attack idle: {} connections held (stopped early: {refused_by_os:?})",
                held.len()
            );
            assert!(held.len() >= 256, "only {} connections opened", held.len());
            // The ones past the cap are answered 503 and closed at once.
            let mut last = held.pop().unwrap();
            let mut answer = Vec::new();
            timeout(Duration::from_secs(5), last.read_to_end(&mut answer))
                .await
                .expect("a connection past the cap must be answered and closed")
                .unwrap();
            let answer = String::from_utf8_lossy(&answer);
            assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
            tokio::time::sleep(SUSTAIN).await;
            drop(held);
        },
    )
    .await;
    // Once the idle connections are gone, new connections are served again.
    let mut served = false;
    for _ in 0..100 {
        if app.get("/__sim/health").await.0 == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        served,
        "new connections were not served after the idle ones closed"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_headers_are_cut_off_and_health_stays_fast() {
    let app = spawn("[server]\nheader_read_timeout_ms = 500\n").await;
    some_state(&app).await;
    let url = app.url.as_str();
    under_attack(
        &app,
        "slow-loris headers x40",
        Unchanged::StateAndJournal,
        || async move {
            let mut tasks = Vec::new();
            for i in 0..40 {
                let url = url.to_owned();
                tasks.push(tokio::spawn(async move {
                    let mut stream = TcpStream::connect(addr(&url)).await.unwrap();
                    let started = Instant::now();
                    let head =
                        format!("POST /__sim/reset HTTP/1.1\r\nhost: localhost\r\nx-slow-{i}: ");
                    stream.write_all(head.as_bytes()).await.unwrap();
                    // One header byte every 50 ms, never finishing: cut off at the 500 ms timeout.
                    loop {
                        if started.elapsed() > Duration::from_secs(10) {
                            return Err(format!("connection {i} still open after 10 s"));
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        if stream.write_all(b"a").await.is_err() {
                            return Ok(started.elapsed());
                        }
                        let mut buf = [0u8; 256];
                        if let Ok(Ok(0)) =
                            timeout(Duration::from_millis(1), stream.read(&mut buf)).await
                        {
                            return Ok(started.elapsed());
                        }
                    }
                }));
            }
            let mut slowest = Duration::ZERO;
            for task in tasks {
                let cut_after = task.await.unwrap().unwrap();
                slowest = slowest.max(cut_after);
            }
            eprintln!("attack slow-loris: every connection cut off within {slowest:.2?}");
            assert!(slowest < Duration::from_secs(3), "{slowest:?}");
        },
    )
    .await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_content_lengths_are_refused_without_reading() {
    let app = spawn("").await;
    some_state(&app).await;
    let url = app.url.as_str();
    let paths = [
        "/api",
        "/api/v1/account-balance/query",
        "/v3/payouts/balance",
        "/file/upload",
        "/__sim/reset",
        "/__sim/scenarios",
    ];
    under_attack(
        &app,
        "50 MB Content-Length x120",
        Unchanged::State,
        || async move {
            let mut tasks = Vec::new();
            for i in 0..120 {
                let path = paths[i % paths.len()];
                let request = format!(
                    "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
                 content-length: 50000000\r\nconnection: close\r\n\r\n{{\"a\":"
                );
                let url = url.to_owned();
                tasks.push(tokio::spawn(async move {
                    exchange(&url, request.into_bytes(), Duration::from_secs(10)).await
                }));
            }
            for task in tasks {
                let answer = task.await.unwrap().unwrap();
                // Each surface refuses in its own shape (200 with its code), the rest 413.
                assert!(
                    answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.1 413"),
                    "{answer}"
                );
                assert!(
                    answer.contains("limit") || answer.contains("exceeds"),
                    "{answer}"
                );
            }
        },
    )
    .await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_bodies_over_the_limit_are_cut_off() {
    let app = spawn("").await;
    some_state(&app).await;
    let url = app.url.as_str();
    under_attack(&app, "4 MiB chunked bodies x8", Unchanged::State, || async move {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let url = url.to_owned();
            tasks.push(tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr(&url)).await.unwrap();
                let head = "POST /api HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
                            transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
                stream.write_all(head.as_bytes()).await.unwrap();
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 0usize;
                // 4 MiB in 64 KiB chunks, four times the 1 MiB limit; the server stops reading.
                for _ in 0..64 {
                    let frame = format!("{:x}\r\n", chunk.len());
                    let ok = stream.write_all(frame.as_bytes()).await.is_ok()
                        && stream.write_all(&chunk).await.is_ok()
                        && stream.write_all(b"\r\n").await.is_ok();
                    if !ok {
                        break;
                    }
                    sent += chunk.len();
                }
                let _ = stream.write_all(b"0\r\n\r\n").await;
                let mut out = Vec::new();
                let _ = timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
                (sent, String::from_utf8_lossy(&out).into_owned())
            }));
        }
        for task in tasks {
            let (sent, answer) = task.await.unwrap();
            assert!(
                answer.contains("PARAM_FORMAT_ERROR") && answer.contains("1048576"),
                "sent {sent} bytes; answer: {answer}"
            );
        }
    })
    .await;
    // The refusals are journaled (with the body not kept); nothing else changed.
    let journal = app.get_json("/__sim/requests?limit=1").await;
    assert_eq!(
        journal["requests"][0]["request"],
        "<more than 1048576 bytes, not kept>"
    );
    app.shutdown().await;
}

/// An Infinia envelope for the demo app whose `requestData` is `blocks` RSA blocks of random
/// bytes and whose signature is wrong.
fn bad_infinia_request(blocks: usize, seed: u8) -> Vec<u8> {
    let data: Vec<u8> = (0..blocks * 256)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    let envelope = json!({
        "version": "1.0",
        "appId": "demo-app",
        "dataType": "JSON",
        "requestData": b64.encode(&data),
        "signature": b64.encode([seed; 256]),
    });
    serde_json::to_vec(&envelope).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signature_infinia_requests_with_many_blocks() {
    let app = spawn("").await;
    some_state(&app).await;
    let url = app.url.as_str();
    // 20 at the block limit (64: refused on the signature, nothing decrypted) and 20 at the
    // hint's limit (4 blocks: the most private-key work a refused request may cost).
    under_attack(
        &app,
        "bad-signature Infinia x40",
        Unchanged::State,
        || async move {
            let mut tasks = Vec::new();
            for i in 0..40u8 {
                let blocks = if i < 20 { 64 } else { 4 };
                let body = bad_infinia_request(blocks, i);
                let mut request = format!(
                    "POST /api/v1/account-balance/query HTTP/1.1\r\nhost: localhost\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                request.extend_from_slice(&body);
                let url = url.to_owned();
                tasks.push(tokio::spawn(async move {
                    exchange(&url, request, Duration::from_secs(30)).await
                }));
            }
            for task in tasks {
                let answer = task.await.unwrap().unwrap();
                assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                assert!(answer.contains("signature"), "{answer}");
            }
        },
    )
    .await;
    let after = app.get_json("/__sim/state").await;
    assert!(after["tenants"].is_object());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_requests_do_not_use_up_a_partners_rate_limit() {
    let config = format!("{}rate_limit = 5\n", second_partner_config());
    let app = spawn(&config).await;
    let partner = &app.client_as(SECOND_PARTNER);
    let url = app.url.as_str();
    let junk = |i: usize| -> Vec<u8> {
        let body = match i % 3 {
            // Names the partner, signed by nobody.
            0 => json!({"head": {"partnerId": SECOND_PARTNER, "apiCode": "connectivity",
                "requestNo": format!("JUNK{i}"), "version": "1.0", "sign": "00", "keyEnc": "00"},
                "body": {"encrypt": "00"}})
            .to_string(),
            // Names the partner, not an envelope.
            1 => format!("{{\"head\": {{\"partnerId\": \"{SECOND_PARTNER}\"}}}}"),
            _ => "not json at all".to_owned(),
        };
        format!(
            "POST /api HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let junk = &junk;
    // Each wave: 30 junk requests naming the partner, then one real call, at most 4 waves a
    // second (the limit is 5). Counted before authentication, the junk would fill every rate
    // window and the real call would be refused.
    let real_calls = &std::sync::atomic::AtomicUsize::new(0);
    under_attack(
        &app,
        "junk for a rate-limited partner x30 per wave",
        Unchanged::Nothing,
        || async move {
            let wave = Instant::now();
            let n = real_calls.fetch_add(1, Ordering::Relaxed);
            let mut tasks = Vec::new();
            for i in 0..30 {
                let request = junk(n * 30 + i);
                let url = url.to_owned();
                tasks.push(tokio::spawn(async move {
                    exchange(&url, request, Duration::from_secs(10)).await
                }));
            }
            for task in tasks {
                let answer = task.await.unwrap().unwrap();
                assert!(!answer.contains("TOO_MANY_REQUESTS"), "{answer}");
            }
            let reply = partner
                .call(
                    "connectivity",
                    &json!({"notifyFlag": "N", "responseFlag": "Y"}),
                )
                .await
                .unwrap();
            assert_eq!(reply.code, "SUCCESS", "real call {n}: {}", reply.detail);
            tokio::time::sleep_until((wave + Duration::from_millis(300)).into()).await;
        },
    )
    .await;
    // Only the real calls' requestNos were remembered: no junk got past authentication.
    let real = real_calls.load(Ordering::Relaxed);
    assert!(real >= 3, "{real} real calls");
    let state = app
        .get_json(&format!("/__sim/state?tenant=whalet:{SECOND_PARTNER}"))
        .await;
    let remembered = &state["tenants"][format!("whalet:{SECOND_PARTNER}")]["requestNos"];
    assert_eq!(
        remembered.as_array().map(Vec::len),
        Some(real),
        "{remembered}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_resets_change_nothing() {
    let app = spawn("").await;
    some_state(&app).await;
    let url = app.url.as_str();
    under_attack(
        &app,
        "cross-origin reset x200",
        Unchanged::StateAndJournal,
        || async move {
            let mut tasks = Vec::new();
            for i in 0..200 {
                let (path, body) = if i % 2 == 0 {
                    ("/__sim/reset", "{}".to_owned())
                } else {
                    (
                        "/__sim/trigger/pockyt.balance.funded",
                        r#"{"amount":"777.77","currency":"USD"}"#.to_owned(),
                    )
                };
                let request = format!(
                    "POST {path} HTTP/1.1\r\nhost: localhost\r\norigin: http://evil.example\r\n\
                 content-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let url = url.to_owned();
                tasks.push(tokio::spawn(async move {
                    exchange(&url, request.into_bytes(), Duration::from_secs(10)).await
                }));
            }
            for task in tasks {
                let answer = task.await.unwrap().unwrap();
                assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
            }
        },
    )
    .await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_bodies_to_reset_change_nothing() {
    let app = spawn("").await;
    some_state(&app).await;
    let url = app.url.as_str();
    under_attack(&app, "broken reset bodies x100", Unchanged::StateAndJournal, || async move {
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let url = url.to_owned();
            tasks.push(tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr(&url)).await.unwrap();
                let head = "POST /__sim/reset HTTP/1.1\r\nhost: localhost\r\n\
                            content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"tenant\": \"whal";
                stream.write_all(head.as_bytes()).await.unwrap();
                stream.shutdown().await.unwrap();
                let mut out = Vec::new();
                timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
                    .await
                    .expect("answered and closed")
                    .unwrap();
                String::from_utf8_lossy(&out).into_owned()
            }));
        }
        for task in tasks {
            let answer = task.await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        }
    })
    .await;
    app.shutdown().await;
}
