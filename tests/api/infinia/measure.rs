//! Measurements (not assertions): `cargo test --test api infinia::measure -- --ignored --nocapture`.

use std::time::Instant;

use serde_json::json;

use super::support::{sftp_batch, sftp_port, spawn_infinia, Merchant};

#[tokio::test]
#[ignore = "measurement; run with --ignored --nocapture"]
async fn measure_round_trips_and_a_large_upload() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let n = 200;
    let started = Instant::now();
    for _ in 0..n {
        m.ok(&app, "account-balance/query", &json!({"currency": "USD"}))
            .await;
    }
    let per = started.elapsed() / n;
    println!("account-balance/query: {n} sequential round trips, {per:?} each (client seal+open included)");
    let dir = tempfile::tempdir().unwrap();
    let rows = 10_000;
    let mut csv = String::from(
        "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount\n",
    );
    for i in 0..rows {
        csv.push_str(&format!(
            "T{i},SALE,O{i},S{},,2025-01-01 10:00:00,USD,{}.25\n",
            i % 50,
            i % 900 + 1
        ));
    }
    let file = dir.path().join("big.csv");
    std::fs::write(&file, &csv).unwrap();
    let started = Instant::now();
    let (ok, out) = sftp_batch(
        sftp_port(&app),
        dir.path(),
        "demo-app",
        &format!("put {} /upload/big.csv\n", file.display()),
    )
    .await;
    assert!(ok, "{out}");
    let upload = started.elapsed();
    let started = Instant::now();
    app.advance(5.0).await;
    let processing = started.elapsed();
    let s = m
        .ok(&app, "trade-details/query", &json!({"fileName": "big.csv"}))
        .await;
    assert_eq!(s["successCount"], rows.to_string());
    println!("SFTP: {rows} rows ({} bytes) uploaded in {upload:?} (sftp process included), validated and applied in {processing:?}", csv.len());
    app.shutdown().await;
}
