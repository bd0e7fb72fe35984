//! Durable state and trade intake, round t55b: an Infinia app keeps at most `[infinia]
//! max_trades` accepted trade rows; a trade-details file whose good rows would take it past
//! that fails as a whole over SFTP, keeping none of its rows (docs/INFINIA.md,
//! docs/RELIABILITY.md). The data dir's skip of unchanged trade rows, the one-pass trade check
//! and the damaged-database message have unit tests beside the code (src/persist/sqlite.rs,
//! src/persist/infinia.rs, src/store/rows.rs).

use serde_json::json;
use whalet_sim::store::{Provider, TenantId};

use crate::infinia::support::{sftp_batch, sftp_port, spawn_infinia, Merchant};

fn trades_file(dir: &std::path::Path, name: &str, prefix: &str, rows: usize) -> String {
    let mut text =
        "tradeNo,tradeType,orderNo,sellerId,originalTradeNo,tradeTime,currency,amount\n".to_owned();
    for i in 0..rows {
        text.push_str(&format!(
            "{prefix}{i},SALE,O{i},S1,,2025-01-01 10:00:00,USD,1.00\n"
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn a_file_that_would_take_an_app_past_max_trades_fails_as_a_whole() {
    let app = spawn_infinia("max_trades = 4\n").await;
    let m = Merchant::demo();
    let dir = tempfile::tempdir().unwrap();
    let first = trades_file(dir.path(), "first.csv", "A", 3);
    let second = trades_file(dir.path(), "second.csv", "B", 2);
    let third = trades_file(dir.path(), "third.csv", "C", 1);
    let put = |local: String, name: &str| format!("cd upload\nput {local} {name}\n");
    let (ok, out) = sftp_batch(
        sftp_port(&app),
        dir.path(),
        "demo-app",
        &put(first, "first.csv"),
    )
    .await;
    assert!(ok, "{out}");
    app.advance(5.0).await;
    let (ok, out) = sftp_batch(
        sftp_port(&app),
        dir.path(),
        "demo-app",
        &put(second, "second.csv"),
    )
    .await;
    assert!(ok, "{out}");
    app.advance(5.0).await;
    let s = m
        .ok(
            &app,
            "trade-details/query",
            &json!({"fileName": "second.csv"}),
        )
        .await;
    assert_eq!(s["status"], "FAILED", "{s}");
    assert_eq!(
        s["reason"],
        "row 3 would take the app's accepted trades past 4 ([infinia] max_trades): the app holds \
         3 accepted trades and this file's good rows up to row 3 are 2; the file was not \
         processed (no row kept): upload fewer rows, reset the app (POST /__sim/reset) to drop \
         its trades, or raise [infinia] max_trades",
        "{s}"
    );
    assert_eq!(s["errorFile"], "/error/second_error_file.csv", "{s}");
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    let trades = |app: &crate::helpers::TestApp| {
        app.app()
            .store()
            .with_tenant(&tenant, |t| t.infinia.trades.len())
    };
    assert_eq!(trades(&app), Some(3), "none of its rows kept");
    // Within the limit the next file is kept.
    let (ok, out) = sftp_batch(
        sftp_port(&app),
        dir.path(),
        "demo-app",
        &put(third, "third.csv"),
    )
    .await;
    assert!(ok, "{out}");
    app.advance(5.0).await;
    let s = m
        .ok(
            &app,
            "trade-details/query",
            &json!({"fileName": "third.csv"}),
        )
        .await;
    assert_eq!(s["status"], "SUCCESS", "{s}");
    assert_eq!(trades(&app), Some(4));
    app.shutdown().await;
}
