//! Finding F1 of test t53b: connections that sent nearly all of a body and then stalled (or
//! went on one byte at a time) held the budget of bodies in flight (`[server]
//! max_body_bytes_in_flight`) until the body-read timeout, and every other partner got `503 too
//! many request bodies in flight` meanwhile. Now a body still arriving `[server]
//! body_reclaim_after_ms` after its head gives its room up (408) to a request that finds the
//! budget spent, so a partner is answered normally once the stalled bodies are that old.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_config, TestApp};

/// The smallest budget (11 MiB), four control-plane bodies of a quarter of it each, a
/// body-read timeout far beyond the test, and bodies reclaimable 300 ms after their heads.
const CONFIG: &str = "[server]\nmax_body_bytes_in_flight = 11534336\n\
                      control_body_limit_bytes = 2883584\nbody_read_timeout_ms = 60000\n\
                      body_reclaim_after_ms = 300\n";

/// The declared length of each hostile body: a quarter of the budget.
const LENGTH: usize = 2_883_584;

/// A raw connection that sent a head for `LENGTH` bytes and all of them but `missing`.
async fn nearly_complete_body(app: &TestApp, missing: usize) -> TcpStream {
    let mut s = TcpStream::connect(app.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /__sim/scenarios HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         content-length: {LENGTH}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&vec![b' '; LENGTH - missing]).await.unwrap();
    s
}

/// The partner's `connectivity`, which must be answered normally within `within`.
async fn partner_is_served(app: &TestApp, within: Duration) {
    tokio::time::timeout(within, app.connectivity())
        .await
        .expect("the partner's request must be answered within the bound");
}

/// Four bodies that sent all but 10 bytes and stalled fill the budget; once they are older than
/// `body_reclaim_after_ms`, a partner's request takes the room of one and is answered normally,
/// and the body cut is answered 408 naming the setting. (Before the fix: 503 until the body-read
/// timeout, here a minute.)
#[tokio::test]
async fn a_partner_is_served_while_stalled_bodies_fill_the_budget() {
    let app = spawn_config(CONFIG).await;
    let mut stalled = Vec::new();
    for _ in 0..4 {
        stalled.push(nearly_complete_body(&app, 10).await);
    }
    // The bodies are read and stalled, and older than body_reclaim_after_ms.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let started = Instant::now();
    partner_is_served(&app, Duration::from_secs(2)).await;
    partner_is_served(&app, Duration::from_secs(2)).await;
    let (status, body) = app.get("/__sim/health").await;
    assert_eq!(status, 200, "{body}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // At least one stalled body was cut, with the answer that says why.
    let mut cut = 0;
    for s in &mut stalled {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_millis(500), s.read_to_end(&mut answer));
        if read.await.is_ok() {
            let text = String::from_utf8_lossy(&answer);
            assert!(text.starts_with("HTTP/1.1 408"), "{text}");
            assert!(text.contains("body_reclaim_after_ms"), "{text}");
            assert!(text.contains("max_body_bytes_in_flight"), "{text}");
            cut += 1;
        }
    }
    assert!(
        (1..4).contains(&cut),
        "{cut} of the 4 stalled bodies were cut"
    );
    app.shutdown().await;
}

/// Bodies that keep the connection busy with one byte every 50 ms (never idle long) are cut the
/// same way: what makes a body's room reclaimable is its age, not a pause.
#[tokio::test]
async fn bodies_sent_a_byte_at_a_time_do_not_lock_a_partner_out() {
    let app = spawn_config(CONFIG).await;
    let mut drips = Vec::new();
    for _ in 0..4 {
        let mut s = nearly_complete_body(&app, 1000).await;
        drips.push(tokio::spawn(async move {
            for _ in 0..100 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if s.write_all(b" ").await.is_err() {
                    return;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    partner_is_served(&app, Duration::from_secs(2)).await;
    for drip in drips {
        drip.abort();
    }
    app.shutdown().await;
}

/// A request that finds the budget held by bodies younger than `body_reclaim_after_ms` still
/// gets the 503 (they may be partners' own uploads in full flow); the lockout ends once they are
/// that old.
#[tokio::test]
async fn young_bodies_are_not_cut_and_the_lockout_ends_after_the_reclaim_age() {
    let config = CONFIG.replace(
        "body_reclaim_after_ms = 300",
        "body_reclaim_after_ms = 1500",
    );
    let app = spawn_config(&config).await;
    let mut stalled = Vec::new();
    for _ in 0..4 {
        stalled.push(nearly_complete_body(&app, 10).await);
    }
    let filled = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = app
        .post_raw("/__sim/reset", "application/json", b"{}".to_vec())
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("too many request bodies in flight"), "{body}");
    let reclaimable = Duration::from_millis(1600).saturating_sub(filled.elapsed());
    tokio::time::sleep(reclaimable).await;
    partner_is_served(&app, Duration::from_secs(2)).await;
    drop(stalled);
    app.shutdown().await;
}
