//! Regressions of Infinia SFTP trade-details processing (round 51): a large file (within the
//! documented limits) no longer stops the whole server while it is processed, a query of a
//! temporary name says why it is never processed, and every empty required cell reads "is
//! required".

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use russh_sftp::client::SftpSession;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::helpers::TestApp;
use crate::infinia::support::{sftp_session, spawn_infinia, ssh_login, Merchant};

const HEADER: &str =
    "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount,productName,quantity\n";

async fn put(sftp: &SftpSession, path: &str, data: &[u8]) {
    let mut file = sftp.create(path).await.unwrap();
    for chunk in data.chunks(256 * 1024) {
        file.write_all(chunk).await.unwrap();
    }
    file.shutdown().await.unwrap();
}

async fn query(app: &TestApp, m: &Merchant, name: &str) -> Value {
    m.ok(app, "trade-details/query", &json!({ "fileName": name }))
        .await
}

/// `rows` valid SALE rows of 10.00 USD over ten sellers `BIG-S0`..`BIG-S9`.
fn large_file(rows: usize) -> Vec<u8> {
    let mut text = String::with_capacity(rows * 72 + HEADER.len());
    text.push_str(HEADER);
    for i in 0..rows {
        text.push_str(&format!(
            "BIG-T{i:08},SALE,BIG-O{i:08},BIG-S{},,2025-01-01 10:00:00,USD,10.00,Desk lamp,1\n",
            i % 10
        ));
    }
    text.into_bytes()
}

/// One `GET /__sim/health` on a connection of its own, from this (plain) thread: how long it
/// took to be answered.
fn health_latency(addr: &str) -> Duration {
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    stream
        .write_all(b"GET /__sim/health HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    started.elapsed()
}

/// Regression: processing one trade-details file of 20 MB (within `sftp_max_file_bytes`) held
/// an async worker and the app's lock for all its rows: `GET /__sim/health`, the pages and
/// every tenant's requests waited 7–25 s. The file is now read off the async workers without
/// the lock: health answers promptly throughout, and the result is the same. While the file is
/// read, its processing timer is still pending work: a snapshot lists it (an import, or a
/// restart, processes the file again), beside its PROCESSING upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_is_processed_while_the_server_keeps_answering() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let rows = 130_000;
    let data = large_file(rows);
    assert!(data.len() > 8_000_000, "{} bytes", data.len());
    let ssh = ssh_login(&app).await;
    let sftp = sftp_session(&ssh).await;
    put(&sftp, "/upload/big.csv", &data).await;
    assert_eq!(query(&app, &m, "big.csv").await["status"], "PROCESSING");

    let addr = app.url.trim_start_matches("http://").to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let (addr, stop) = (addr.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            let mut probes = 0;
            while !stop.load(Ordering::Acquire) {
                worst = worst.max(health_latency(&addr));
                probes += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            (worst, probes)
        })
    };
    let started = Instant::now();
    let advance = {
        let url = app.url.clone();
        tokio::spawn(async move {
            let client = whalet_sim::http::client::HttpClient::new();
            client
                .post(
                    &format!("{url}/__sim/clock/advance"),
                    "application/json",
                    br#"{"seconds": 5}"#.to_vec().into(),
                    Duration::from_secs(300),
                )
                .await
                .map(|r| r.status)
        })
    };
    // While the rows are read, the timer has left the queue and is still pending work.
    let core = app.app().core().clone();
    let mut listed = None;
    while !advance.is_finished() {
        let queued = core
            .clock()
            .pending()
            .iter()
            .any(|t| t.label.contains("trade-details:big.csv"));
        if !queued && core.clock().in_flight() > 0 {
            // Exported here: over HTTP, the test client would not take a body this large.
            let exporting = core.clone();
            let text =
                tokio::task::spawn_blocking(move || whalet_sim::persist::export(&exporting, None))
                    .await
                    .unwrap()
                    .unwrap();
            let snapshot: Value = serde_json::from_slice(&text).unwrap();
            let timers = snapshot["timers"].as_array().cloned().unwrap_or_default();
            let upload = &snapshot["tenants"]["infinia:demo-app"]["infinia"]["uploads"]["big.csv"];
            if upload["status"] == "PROCESSING" {
                listed = Some(
                    timers
                        .iter()
                        .any(|t| t["kind"] == "infinia.sftp.process" && t["key"] == "big.csv"),
                );
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(advance.await.unwrap().unwrap(), 200);
    let took = started.elapsed();
    stop.store(true, Ordering::Release);
    let (worst, probes) = prober.join().unwrap();
    eprintln!("processing {rows} rows took {took:?}; worst health {worst:?} over {probes} probes");
    assert!(probes >= 3, "{probes} probes in {took:?}");
    assert!(
        worst < Duration::from_secs(1),
        "GET /__sim/health waited {worst:?} while the file was processed ({took:?})"
    );
    assert_eq!(
        listed,
        Some(true),
        "a snapshot taken while the file was read lists its processing timer"
    );

    let s = query(&app, &m, "big.csv").await;
    assert_eq!(s["status"], "SUCCESS", "{s}");
    let n = rows.to_string();
    assert_eq!(
        (&s["totalCount"], &s["successCount"], &s["failedCount"]),
        (&json!(n), &json!(n), &json!("0")),
        "{s}"
    );
    let r = m
        .ok(
            &app,
            "available-revenue/query",
            &json!({"sellerId": "BIG-S3"}),
        )
        .await;
    assert_eq!(r["revenues"][0]["earnedAmount"], "130000.00", "{r}");
    app.shutdown().await;
}

/// Files of one app whose time comes together are applied in the order their timers fell due,
/// as before they were read off the lock: a RETURN in the second file finds its SALE in the
/// first, however long each takes to read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_due_together_apply_in_their_order() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let ssh = ssh_login(&app).await;
    let sftp = sftp_session(&ssh).await;
    // The first is large, so it is still being read when the second's time comes.
    let mut sales = large_file(20_000);
    sales.extend_from_slice(b"ORD-S1,SALE,O1,ORD-SELLER,,2025-01-01 10:00:00,USD,50.00,Lamp,1\n");
    put(&sftp, "/upload/a-sales.csv", &sales).await;
    let returns = format!(
        "{HEADER}ORD-R1,RETURN,O1,ORD-SELLER,ORD-S1,2025-01-02 10:00:00,USD,20.00,Lamp,1\n"
    );
    put(&sftp, "/upload/b-returns.csv", returns.as_bytes()).await;
    app.advance(5.0).await;
    let a = query(&app, &m, "a-sales.csv").await;
    assert_eq!(a["status"], "SUCCESS", "{a}");
    let b = query(&app, &m, "b-returns.csv").await;
    assert_eq!(b["status"], "SUCCESS", "{b}");
    let r = m
        .ok(
            &app,
            "available-revenue/query",
            &json!({"sellerId": "ORD-SELLER"}),
        )
        .await;
    assert_eq!(r["revenues"][0]["earnedAmount"], "30.00", "{r}");
    app.shutdown().await;
}

/// Regression: a query of a file put under a temporary name (`w.csv.part`, `.w.csv`) said no
/// such file had been uploaded, sending the partner to look for a failed upload. It now says the
/// name is temporary, that such a file is never processed, and the name to rename it to.
#[tokio::test]
async fn a_query_of_a_temporary_name_says_it_is_never_processed() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let ssh = ssh_login(&app).await;
    let sftp = sftp_session(&ssh).await;
    let file = format!("{HEADER}TN1,SALE,O1,S1,,2025-01-01 10:00:00,USD,1.00,Lamp,1\n");
    for name in ["w.csv.part", ".w.csv"] {
        put(&sftp, &format!("/upload/{name}"), file.as_bytes()).await;
    }
    app.advance(5.0).await;
    for (name, held) in [("w.csv.part", true), (".w.csv", true), ("z.csv.TMP", false)] {
        let r = m
            .call(&app, "trade-details/query", &json!({ "fileName": name }))
            .await;
        assert_eq!(r.code, "SYS-002", "{name}: {}", r.message);
        let wanted = [
            format!("{name:?} is a temporary name"),
            "never processed".to_owned(),
            "rename the file to its final name, such as".to_owned(),
        ];
        for part in wanted {
            assert!(r.message.contains(&part), "{name}: {:?}", r.message);
        }
        assert!(!r.message.contains("has been uploaded"), "{:?}", r.message);
        assert_eq!(
            r.message.contains("the file is in /upload"),
            held,
            "{name}: {:?}",
            r.message
        );
    }
    let r = m
        .call(
            &app,
            "trade-details/query",
            &json!({ "fileName": "w.csv.part" }),
        )
        .await;
    assert!(r.message.contains("such as \"w.csv\""), "{:?}", r.message);
    // A final name never uploaded keeps its message.
    let r = m
        .call(&app, "trade-details/query", &json!({ "fileName": "w.csv" }))
        .await;
    assert!(r.message.contains("has been uploaded"), "{:?}", r.message);
    app.shutdown().await;
}

/// Regression: in a row of empty cells, tradeNo, orderNo and sellerId read "is required" but
/// tradeType, tradeTime and currency were judged as values (`"" is not SALE, RETURN or
/// EXCHANGE`, `"" is not yyyy-MM-dd HH:mm:ss`, `currency "" is unknown`). Every empty required
/// cell now reads "is required".
#[tokio::test]
async fn every_empty_required_cell_reads_is_required() {
    let app = spawn_infinia("").await;
    let ssh = ssh_login(&app).await;
    let sftp = sftp_session(&ssh).await;
    let file = format!("{HEADER}EC1,SALE,O1,S1,,2025-01-01 10:00:00,USD,1.00,Lamp,1\n,,,,,,,,,\n");
    put(&sftp, "/upload/c1.csv", file.as_bytes()).await;
    app.advance(5.0).await;
    let report = String::from_utf8(sftp.read("/error/c1_error_file.csv").await.unwrap()).unwrap();
    for column in [
        "tradeNo",
        "tradeType",
        "orderNo",
        "sellerId",
        "tradeTime",
        "currency",
    ] {
        assert!(
            report.contains(&format!("3,,{column},is required\n")),
            "{column}: {report}"
        );
    }
    assert!(!report.contains("is not SALE"), "{report}");
    assert!(!report.contains("is unknown"), "{report}");
    // A value that is there is still judged as one.
    let file = format!("{HEADER}EC2,Sale,O2,S1,,yesterday,usd,1.00,Lamp,1\n");
    put(&sftp, "/upload/c2.csv", file.as_bytes()).await;
    app.advance(5.0).await;
    let report = String::from_utf8(sftp.read("/error/c2_error_file.csv").await.unwrap()).unwrap();
    assert!(
        report.contains("is not SALE, RETURN or EXCHANGE"),
        "{report}"
    );
    assert!(report.contains("is not yyyy-MM-dd HH:mm:ss"), "{report}");
    assert!(!report.contains("is required"), "{report}");
    app.shutdown().await;
}
