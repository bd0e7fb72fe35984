//! Regressions of the CPU gate's fairness and of the journal under a scenario latency (t53b F2,
//! F3): one Infinia app's burst of heavy requests does not hold other tenants' requests back
//! for the whole burst, a Pockyt request (no RSA work) does not wait in the gate at all, and a
//! request whose client gives up during a `latency_ms` is journaled all the same.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use whalet_sim::wire::infinia as envelope;

use crate::helpers::{spawn_config, TestApp};
use crate::infinia::support::Merchant;

/// The newest journal id (0 for an empty journal).
async fn last_id(app: &TestApp) -> u64 {
    let page = app.get_json("/__sim/requests?limit=1").await;
    page["requests"][0]["id"].as_u64().unwrap_or(0)
}

/// How many Infinia entries the journal holds with ids in `(after, before)`: the heavy requests
/// answered while a request sent after `after` and journaled as `before` waited.
async fn infinia_between(app: &TestApp, after: u64, before: u64) -> usize {
    let page = app
        .get_json("/__sim/requests?surface=infinia&limit=100")
        .await;
    page["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_u64())
        .filter(|id| *id > after && *id < before)
        .count()
}

/// The id of the newest journal entry of `surface`.
async fn newest_of(app: &TestApp, surface: &str) -> u64 {
    let page = app
        .get_json(&format!("/__sim/requests?surface={surface}&limit=1"))
        .await;
    page["requests"][0]["id"].as_u64().unwrap()
}

/// One permit; the journal keeps short fields, so that a listing of the heavy requests is small.
const CONFIG: &str = "[server]\ncpu_parallelism = 1\n[journal]\nmax_field_bytes = 512\n";

/// One permit, and twelve connections of the demo Infinia app each sending 60-block requests
/// back to back: a Whalet request of another tenant (the demo partner) is answered after at
/// most a few of them, not behind the whole burst; a Pockyt request (MD5-signed, no RSA) does
/// not wait for the gate at all. Counted in the journal (heavy requests answered meanwhile), so
/// the test does not depend on the machine's speed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_apps_burst_does_not_hold_other_tenants_back() {
    const BURST: usize = 12;
    let app = Arc::new(spawn_config(CONFIG).await);
    let merchant = Merchant::demo();
    // 60 RSA blocks of 245 bytes: one private-key operation each to open.
    let data = json!({"pad": "x".repeat(14_500)});
    let sealed: Vec<Vec<u8>> = (0..BURST)
        .map(|_| {
            envelope::seal_request(
                "1.0",
                &merchant.app_id,
                &data,
                &merchant.key,
                &merchant.infinia,
                merchant.alg,
            )
            .unwrap()
            .to_json()
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let mut flood = Vec::new();
    for body in sealed {
        let (app, stop) = (app.clone(), stop.clone());
        flood.push(tokio::spawn(async move {
            let mut sent = 0;
            while !stop.load(Ordering::Relaxed) {
                app.post_raw(
                    "/api/v1/account-balance/query",
                    "application/json",
                    body.clone(),
                )
                .await;
                sent += 1;
            }
            sent
        }));
    }
    // Every connection has a request in flight once a few have been answered.
    while infinia_between(&app, 0, u64::MAX).await < 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut report = Vec::new();
    for round in 0..3 {
        let before = last_id(&app).await;
        let started = Instant::now();
        let reply = app
            .client
            .call(
                "connectivity",
                &json!({"notifyFlag": "N", "responseFlag": "Y"}),
            )
            .await
            .unwrap();
        let whalet_took = started.elapsed();
        assert_eq!(reply.code, "SUCCESS", "{reply:?}");
        let whalet_waited = infinia_between(&app, before, newest_of(&app, "whalet").await).await;

        let before = last_id(&app).await;
        let started = Instant::now();
        let pockyt = crate::pockyt_support::call(&app, "/v3/payouts/balance", json!({})).await;
        let pockyt_took = started.elapsed();
        assert_eq!(pockyt["ret_code"], "000100", "{pockyt}");
        let pockyt_waited = infinia_between(&app, before, newest_of(&app, "pockyt").await).await;
        report.push(format!(
            "round {round}: whalet {whalet_took:?} after {whalet_waited} Infinia answers, \
             pockyt {pockyt_took:?} after {pockyt_waited}"
        ));
        // The one running and the one the app queued for the permit (and one finishing as the
        // request arrives): never the whole burst.
        assert!(
            whalet_waited <= 4,
            "a Whalet request waited for {whalet_waited} of another tenant's Infinia requests \
             (burst of {BURST}): {report:?}"
        );
        // Pockyt does no RSA work and does not pass the gate: at most the heavy requests that
        // happened to finish while it was served.
        assert!(
            pockyt_waited <= 2,
            "a Pockyt request waited for {pockyt_waited} Infinia requests (burst of {BURST}): \
             {report:?}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let mut sent = 0;
    for task in flood {
        sent += task.await.unwrap();
    }
    assert!(sent >= BURST, "the burst sent {sent} requests");
    eprintln!("{}", report.join("\n"));
}

/// A `latency_ms` rule holds the answer back, not the operation: a client that gives up during
/// the wait leaves the effect made (the requestNo taken) and the request journaled, once, with
/// its code and a note that the answer was not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_abandoned_during_the_latency_is_journaled() {
    let app = spawn_config("").await;
    let rule = "name = \"slow\"\n[[rule]]\nname = \"slow connectivity\"\n\
                operation = \"connectivity\"\n[rule.then]\nlatency_ms = 1500\n";
    let (status, body) = app
        .load_scenario(rule, "tenant=whalet:202400000000001")
        .await;
    assert_eq!(status, 200, "{body}");
    let request_no = app.client.next_request_no();
    let sealed = app.client.seal(
        "connectivity",
        &request_no,
        &json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "left"}),
    );

    // A client whose timeout (200 ms) is shorter than the latency: it sends, waits, closes.
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        sealed.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&sealed).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(socket);

    // Journaled at once when the connection closes (well before the 1.5 s latency is over).
    let query = "/__sim/requests?apiCode=connectivity&limit=10";
    let started = Instant::now();
    let entries = loop {
        let page = app.get_json(query).await;
        let entries: Vec<Value> = page["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["requestNo"] == request_no.as_str())
            .cloned()
            .collect();
        if !entries.is_empty() || started.elapsed() > Duration::from_secs(5) {
            break entries;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(
        entries.len(),
        1,
        "the abandoned request is journaled once: {entries:?}"
    );
    let entry = &entries[0];
    assert_eq!(entry["code"], "SUCCESS", "{entry}");
    assert_eq!(entry["rule"], "slow connectivity", "{entry}");
    assert_eq!(entry["request"]["responseMessage"], "left", "{entry}");
    let detail = entry["detail"].as_str().unwrap();
    assert!(
        detail.contains("answer not sent: the connection closed")
            && detail.contains("into the scenario's 1500 ms latency"),
        "{detail}"
    );
    let latency_us = entry["latencyUs"].as_u64().unwrap();
    assert!(
        (150_000..1_500_000).contains(&latency_us),
        "journaled when the client left, not after the latency: {latency_us} µs"
    );

    // The operation took effect: the requestNo is taken, and the retry's refusal points to a
    // request the journal shows.
    let retry = app.client.send_raw(sealed).await.unwrap();
    assert_eq!(retry.code, "REQUEST_NO_NOT_UNIQUE", "{retry:?}");
    let page = app.get_json(query).await;
    let codes: Vec<&str> = page["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["requestNo"] == request_no.as_str())
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert_eq!(codes, ["REQUEST_NO_NOT_UNIQUE", "SUCCESS"]);
    app.shutdown().await;
}
