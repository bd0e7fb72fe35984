//! Outbox benchmark (`cargo bench --bench notify`): memory per pending notification and the
//! delivery throughput to a local receiver. Prints its figures; asserts nothing.
//!
//! 1. Memory: an outbox on a frozen clock (no driver) with an unreachable notify URL; enqueue
//!    100,000 Whalet notifications (each about its own business object) and divide the growth of
//!    the resident set by the count. Then let a sample fail once (sealed bytes kept for the
//!    retry, one attempt recorded) and measure again: the footprint of a notification waiting
//!    for its next retry. (`unsafe_code` is forbidden, so no counting allocator: RSS it is.)
//! 2. Throughput: real clock and driver, the demo partner's notify URL pointing at an in-process
//!    receiver that verifies, decrypts and signs its ack; deliveries per second for several
//!    per-destination concurrency limits. Both sides' RSA runs on the same machine.

#![allow(clippy::unwrap_used)]

// The allocator of the shipped binary (src/main.rs), so memory figures match it.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;
use whalet_sim::api::whalet::partners::Partners;
use whalet_sim::api::whalet::transport::WhaletTransport;
use whalet_sim::clock::{Clock, ClockMode};
use whalet_sim::config::Config;
use whalet_sim::http::client::HttpClient;
use whalet_sim::notify::{NotificationSpec, NotifyBehaviour, Outbox};
use whalet_sim::partner::receiver::{Mode, Receiver};
use whalet_sim::store::{Provider, TenantId};
use whalet_sim::wire::HexCase;

const PENDING: usize = 100_000;
const RETRYING: usize = 2_000;
const DELIVERIES: usize = 1_000;

fn outbox(clock: &Clock, notify_url: &str, concurrency: usize) -> Outbox {
    let outbox = Outbox::new(
        clock.clone(),
        HttpClient::new(),
        Duration::from_secs(5),
        1_000_000,
    );
    outbox.set_concurrency(concurrency);
    let config = Config::default();
    let partners = Partners::from_config(&config.whalet, Some(notify_url)).unwrap();
    outbox.register(
        "whalet",
        Arc::new(WhaletTransport {
            partners: Arc::new(partners),
            hex_case: HexCase::Lower,
            key_enc_form: Default::default(),
        }),
    );
    outbox
}

fn spec(i: usize) -> NotificationSpec {
    NotificationSpec {
        tenant: TenantId::new(Provider::Whalet, "202400000000001"),
        channel: "whalet",
        topic: "connectivityNotify".into(),
        payload: json!({ "notifyMessage": format!("bench message {i}") }),
        business_id: Some(format!("connectivity:REQ{i:012}")),
        url: None,
        request_no: None,
        behaviour: NotifyBehaviour::default(),
    }
}

/// CPU seconds (user + system) this process has used (`/proc/self/stat`, 100 ticks/s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line: indexes 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident set size in bytes (Linux `/proc/self/statm`, 4 KiB pages).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

async fn memory() {
    let clock = Clock::new(ClockMode::Manual, Some(1_735_689_600_000));
    let outbox = outbox(&clock, "http://127.0.0.1:9/notify", 32);
    // Warm up allocator arenas and lazy statics with a few entries first.
    for i in 0..1_000 {
        outbox.enqueue(spec(i));
    }
    let before = rss();
    let started = Instant::now();
    for i in 1_000..1_000 + PENDING {
        outbox.enqueue(spec(i));
    }
    let took = started.elapsed();
    let after = rss();
    let per = (after.saturating_sub(before)) as f64 / PENDING as f64;
    println!(
        "memory: {PENDING} pending notifications: RSS +{:.1} MiB = {per:.0} bytes per entry \
         (ledger entry + clock timer + line); enqueue {:.0}/s",
        (after - before) as f64 / 1_048_576.0,
        PENDING as f64 / took.as_secs_f64()
    );

    println!(
        "        (size_of Notification = {} bytes, boxed in the ledger)",
        std::mem::size_of::<whalet_sim::notify::Notification>()
    );

    // A sample that failed once: sealed bytes kept for the retry, one attempt in the ledger.
    // Batches of 100 keep the transient peak (tasks, buffers, blocking threads) small, and a
    // first batch warms them up, so that the RSS growth is the retained state.
    let clock = Clock::new(ClockMode::Manual, Some(1_735_689_600_000));
    let retrying = outbox_for_retries(&clock);
    for i in 0..100 {
        retrying.enqueue(spec(i));
    }
    clock.advance(0).await;
    let before = rss();
    let started = Instant::now();
    for batch in 0..RETRYING / 100 {
        for i in 0..100 {
            retrying.enqueue(spec(100 + batch * 100 + i));
        }
        clock.advance(0).await;
    }
    let took = started.elapsed();
    let after = rss();
    println!(
        "memory: {RETRYING} notifications waiting for their first retry: {:.0} bytes per entry \
         (sealed bytes + one attempt; {RETRYING} first attempts sealed and refused in {:.2} s)",
        (after.saturating_sub(before)) as f64 / RETRYING as f64,
        took.as_secs_f64()
    );
    println!("        ledger: {:?}", retrying.counts());
    if let Some(sample) = retrying.list(&Default::default()).first() {
        let partners = Partners::from_config(&Config::default().whalet, None).unwrap();
        let transport = WhaletTransport {
            partners: Arc::new(partners),
            hex_case: HexCase::Lower,
            key_enc_form: Default::default(),
        };
        let sealed = whalet_sim::notify::Transport::seal(&transport, sample, false).unwrap();
        println!(
            "        of which the sealed envelope kept for retries: {} bytes; one attempt record: \
             {} bytes + its texts",
            sealed.body.len(),
            std::mem::size_of::<whalet_sim::notify::Attempt>()
        );
    }
}

fn outbox_for_retries(clock: &Clock) -> Outbox {
    outbox(clock, "http://127.0.0.1:9/notify", 64)
}

async fn throughput(concurrency: usize) {
    let receiver = Receiver::demo(Mode::Ack { fail_first: 0 }).await.unwrap();
    let clock = Clock::new(ClockMode::Real, None);
    let stop = CancellationToken::new();
    tokio::spawn(clock.clone().run_driver(stop.clone()));
    let outbox = outbox(&clock, &receiver.url(), concurrency);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    for i in 0..DELIVERIES {
        outbox.enqueue(spec(i));
    }
    let delivered = loop {
        let counts = outbox.counts();
        let done = counts.get("delivered").copied().unwrap_or(0);
        let failed = counts.get("exhausted").copied().unwrap_or(0);
        if done + failed >= DELIVERIES || started.elapsed() > Duration::from_secs(300) {
            break done;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    let retried: usize = outbox
        .list(&Default::default())
        .iter()
        .map(|n| n.attempts.len().saturating_sub(1))
        .sum();
    println!(
        "throughput: {delivered}/{DELIVERIES} delivered with {concurrency:>2} concurrent per \
         destination in {:.2} s = {:.0} deliveries/s ({retried} retries; {:.1} ms CPU per \
         delivery, both sides)",
        took.as_secs_f64(),
        delivered as f64 / took.as_secs_f64(),
        cpu * 1000.0 / delivered.max(1) as f64
    );
    stop.cancel();
    receiver.stop();
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is ignored (this bench has two parts).
    // The server's runtime (its blocking pool is capped), so memory figures match it.
    let runtime = whalet_sim::cli::runtime().unwrap();
    runtime.block_on(async {
        memory().await;
        for concurrency in [1, 8, 32] {
            throughput(concurrency).await;
        }
    });
}
