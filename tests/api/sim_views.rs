//! The control plane's JSON is camelCase with both time forms: `/__sim/state` after a flow that
//! creates every kind of entity (struct field names renamed, ids left as they are), the journal's
//! `virtualTimeUtc`/`wallTimeUtc` beside the epoch-ms times, the clock's pending timers.

use serde_json::{json, Value};
use whalet_sim::clock::format;

use crate::helpers::{platform_call, spawn_app};
use crate::whalet2_support::{approved_beneficiary, funded_user_trade};
use crate::whalet_support::b2c_ready;

/// Every object key under `value` with its path.
fn keys(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push((path.to_owned(), k.clone()));
                keys(v, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                keys(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The shape of a Rust field name in snake_case: lowercase words joined by `_`. The ids and
/// account names the flow makes all carry digits, capitals or `:`, so a key of this shape can
/// only be a struct field the view did not rename.
fn snake_field(key: &str) -> bool {
    key.contains('_')
        && key
            .split('_')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

#[tokio::test]
async fn the_state_view_is_camel_case_and_keeps_ids_as_they_are() {
    let app = spawn_app().await;
    // Users, holders, collection accounts, a collection, a payout beneficiary (payee).
    b2c_ready(&app, "views1", "USD").await;
    let (user_id, _, _) = funded_user_trade(&app, "USD", "100.00").await;
    approved_beneficiary(&app, &user_id, "ben_views_1", "USD").await;
    // whalet-platform materials under a shop id with an underscore (a map key: kept).
    let upload = json!({"shopId": "shop_views_1", "materials": [{
        "tradeOrderId": "T1", "tradeOrderNo": "O1", "tradeType": 0,
        "tradeTime": "2024-12-30 10:15:00", "tradeCurrency": "USD", "tradeAmount": "1.00",
        "tradeName": "Lamp", "tradeCount": 1, "payerName": "b", "payerCountryCode": "RU"}]});
    let (code, _, _) = platform_call(&app, "tradeMaterialsUpload", &upload).await;
    assert_eq!(code, "SUCCESS");

    let state = app.get_json("/__sim/state").await;
    let mut all = Vec::new();
    keys(&state, "", &mut all);
    let snake: Vec<_> = all.iter().filter(|(_, k)| snake_field(k)).collect();
    assert!(
        snake.is_empty(),
        "snake_case keys in /__sim/state: {snake:?}"
    );
    // The flow's entities are there, under camelCase names.
    let tenant = &state["tenants"]["whalet:202400000000001"];
    for section in ["whalet", "whaletTrade", "platform", "ledger", "requestNos"] {
        assert!(!tenant[section].is_null(), "{section} missing: {tenant}");
    }
    let stored = &tenant["platform"]["materials"]["byShop"]["shop_views_1"]["T1"];
    assert_eq!(stored["material"]["tradeOrderNo"], "O1", "{tenant}");
    let stored_at = stored["storedAt"].as_i64().unwrap();
    assert_eq!(stored["storedAtUtc"], format::utc_z(stored_at), "{stored}");
    // Every epoch-ms time of the flow's entities has its ISO-8601 twin.
    let times = all.iter().filter(|(_, k)| k.ends_with("AtUtc")).count();
    let epochs = all.iter().filter(|(_, k)| k.ends_with("At")).count();
    assert!(times > 5 && times == epochs, "{times} of {epochs}");
    // The snapshot (the persistence format) is unchanged: serde's own names.
    let snapshot = app.get_json("/__sim/snapshot").await.to_string();
    assert!(
        snapshot.contains("\"whalet_trade\"") && !snapshot.contains("whaletTrade"),
        "{snapshot:.300}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn journal_entries_carry_both_time_forms_and_they_agree() {
    let app = spawn_app().await;
    app.advance(90.0).await;
    crate::whalet_support::call(
        &app,
        "connectivity",
        json!({"notifyFlag": "N", "responseFlag": "N"}),
    )
    .await;
    let journal = app.get_json("/__sim/requests").await;
    let entry = &journal["requests"][0];
    let id = entry["id"].as_u64().unwrap();
    for one in [
        entry.clone(),
        app.get_json(&format!("/__sim/requests/{id}")).await,
    ] {
        for name in ["virtualTime", "wallTime"] {
            let ms = one[name].as_i64().unwrap();
            let utc = one[format!("{name}Utc")].as_str().unwrap();
            assert!(utc.ends_with('Z'), "{utc}");
            assert_eq!(
                format::parse_utc_z(utc),
                Some(ms - ms.rem_euclid(1000)),
                "{one}"
            );
        }
        assert_eq!(one["virtualTimeUtc"], "2025-01-01T00:01:30Z");
    }
    // The clock's pending timers too.
    crate::whalet_support::apply_user(&app, "views-2").await;
    let clock = app.get_json("/__sim/clock").await;
    let timer = &clock["pending"][0];
    assert_eq!(
        format::parse_utc_z(timer["dueUtc"].as_str().unwrap()),
        timer["due"].as_i64().map(|ms| ms - ms.rem_euclid(1000)),
        "{clock}"
    );
    app.shutdown().await;
}

/// Regression: a link decided before it expired kept its expiry timer, which then counted as
/// pending work and was where "to the next timer" moved the clock, 30 minutes on, to do
/// nothing. Its decision now drops it; an undecided link keeps its own.
#[tokio::test]
async fn a_decided_link_leaves_no_expiry_timer() {
    let app = spawn_app().await;
    let expiries = |clock: &Value| -> Vec<String> {
        clock["pending"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["label"].as_str())
            .filter(|l| l.contains(".binding.expire"))
            .map(str::to_owned)
            .collect()
    };
    for (bind_id, shop_id) in [("B0901", "901"), ("B0902", "902")] {
        let body = crate::platform::bind_body(bind_id, shop_id);
        let (code, _, _) = platform_call(&app, "shopAccountBind", &body).await;
        assert_eq!(code, "SUCCESS");
    }
    assert_eq!(expiries(&app.get_json("/__sim/clock").await).len(), 2);
    let (status, body) = app
        .post(
            "/__sim/trigger/platform.binding.approved",
            &json!({"bindId": "B0901"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let left = expiries(&app.get_json("/__sim/clock").await);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with("B0902"), "{left:?}");
    app.shutdown().await;
}
