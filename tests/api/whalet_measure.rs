//! A bounded measurement (ignored by default; run with `--ignored --nocapture`): 300 collections
//! through `mockPayeeNotify`, settled by one clock advance, 300 balance queries. Prints figures;
//! asserts only correctness (performance is measured, never asserted).

use std::time::Instant;

use serde_json::json;

use crate::helpers::spawn_app;
use crate::whalet_support::*;

#[tokio::test]
#[ignore]
async fn measure_collections_and_balance_queries() {
    const N: usize = 300;
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "measure", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    let started = Instant::now();
    for _ in 0..N {
        expect(
            &app,
            "mockPayeeNotify",
            json!({"userId": user_id, "cardId": card_id, "amount": "1.01", "currency": "USD"}),
            "SUCCESS",
        )
        .await;
    }
    let arrive = started.elapsed();
    let started = Instant::now();
    app.advance(5.0).await;
    let settle = started.elapsed();
    let started = Instant::now();
    for _ in 0..N {
        balance(&app, &user_id, "B2C", "USD").await;
    }
    let query = started.elapsed();
    let row = balance(&app, &user_id, "B2C", "USD").await;
    assert_eq!(row["balance"]["cent"], (N as i64) * 101);
    assert_eq!(received(&app, "collectionReceivedNotify").len(), N);
    println!(
        "mockPayeeNotify: {N} sequential calls in {:?} ({:.2} ms each, sealed + signed both ways)",
        arrive,
        arrive.as_secs_f64() * 1000.0 / N as f64
    );
    println!("settling {N} collections + delivering {N} notifications in one advance: {settle:?}");
    println!(
        "queryCurrencyBalance: {N} sequential calls in {:?} ({:.2} ms each)",
        query,
        query.as_secs_f64() * 1000.0 / N as f64
    );
    app.assert_invariants().await;
    app.shutdown().await;
}
