//! Control-plane regressions of exploratory round 23: what a reset leaves a tenant with, the
//! notification listing's `after` paging, whole numbers written with a fraction, repeated JSON
//! keys, long client values echoed, wrong methods, and tenant and partnerId filters.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const POCKYT: &str = "pockyt:202333";
const INFINIA: &str = "infinia:demo-app";

fn error_text(body: &Value) -> &str {
    body["error"].as_str().unwrap_or("")
}

/// The tenant's ledger as `/__sim/state` shows it.
async fn ledger(app: &TestApp, tenant: &str) -> Value {
    let state = app.get_json(&format!("/__sim/state?tenant={tenant}")).await;
    state["tenants"][tenant]["ledger"].clone()
}

/// The balance of `account` in `currency` in a ledger view, if it has one.
fn balance<'a>(ledger: &'a Value, account: &str, currency: &str) -> Option<&'a str> {
    ledger["balances"]
        .as_array()?
        .iter()
        .find(|b| b["account"] == account && b["currency"] == currency)
        .and_then(|b| b["amount"].as_str())
}

/// Regression: after a reset the Pockyt demo merchant's starting balance was missing from the
/// state until something touched the merchant, and a refused trigger wrote it back (a refusal
/// changed the state). Infinia's opening balances, likewise, appeared only at the app's first
/// request. A reset (of all, or of the tenant) now puts them back at once, and a refused
/// trigger leaves the state as it was.
#[tokio::test]
async fn a_reset_puts_the_starting_balances_back_at_once_and_a_refused_trigger_changes_nothing() {
    let app = spawn_app().await;
    for reset in [
        json!({}),
        json!({"tenant": POCKYT}),
        json!({"tenant": INFINIA}),
    ] {
        let (status, body) = app.post("/__sim/reset", &reset).await;
        assert_eq!(status, 200, "{body}");
        let pockyt = ledger(&app, POCKYT).await;
        assert!(
            balance(&pockyt, "merchant:USD:available", "USD").is_some(),
            "after reset {reset}: {pockyt}"
        );
        let infinia = ledger(&app, INFINIA).await;
        for currency in ["USD", "CNH"] {
            assert!(
                balance(&infinia, "infinia:platform", currency).is_some(),
                "after reset {reset}: {infinia}"
            );
        }
        for (trigger, params) in [
            ("pockyt.payee.activated", json!({"customerNo": "nope"})),
            (
                "pockyt.balance.funded",
                json!({"currency": "USD", "amount": "-5.00"}),
            ),
        ] {
            let (status, body) = app
                .post(&format!("/__sim/trigger/{trigger}"), &params)
                .await;
            assert_eq!(status, 422, "{trigger}: {body}");
            assert_eq!(ledger(&app, POCKYT).await, pockyt, "{trigger} was refused");
        }
    }
    app.finish().await;
}

/// Three delivered connectivity notifications; their ids, oldest first.
async fn three_notifications(app: &TestApp) -> Vec<String> {
    for _ in 0..3 {
        app.client
            .call(
                "connectivity",
                &json!({"notifyFlag": "Y", "responseFlag": "N"}),
            )
            .await
            .unwrap();
    }
    app.advance(1.0).await;
    let all = app.get_json("/__sim/notifications").await;
    let mut ids: Vec<String> = all["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    ids.reverse();
    assert_eq!(ids.len(), 3, "{all}");
    ids
}

fn ids_of(listing: &Value) -> Vec<&str> {
    listing["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect()
}

/// Regression: `after=X&limit=N` answered the newest N after X, skipping those between, so a
/// poller asking after the last one it saw lost notifications. It pages forward now, oldest
/// first, and `more` says whether more match; without `after` the listing stays newest first.
#[tokio::test]
async fn notifications_after_an_id_page_forward_oldest_first_and_say_whether_more_match() {
    let app = spawn_app().await;
    let ids = three_notifications(&app).await;
    let page = app
        .get_json(&format!("/__sim/notifications?after={}&limit=1", ids[0]))
        .await;
    assert_eq!(ids_of(&page), vec![ids[1].as_str()], "{page}");
    assert_eq!(page["more"], true, "{page}");
    let page = app
        .get_json(&format!("/__sim/notifications?after={}&limit=5", ids[0]))
        .await;
    assert_eq!(ids_of(&page), vec![ids[1].as_str(), ids[2].as_str()]);
    assert_eq!(page["more"], false, "{page}");
    // Without `after`: the newest first, as before.
    let newest = app.get_json("/__sim/notifications?limit=2").await;
    assert_eq!(ids_of(&newest), vec![ids[2].as_str(), ids[1].as_str()]);
    assert_eq!(newest["more"], true, "{newest}");
    app.finish().await;
}

/// Regression: `{"ms": 1000.0}` (also `1e3`, `5.0`, `0.0`) was refused as out of range, though
/// JSON does not tell 1000 from 1000.0. A whole number in range moves the clock; a fraction and
/// a value out of range keep their own messages.
#[tokio::test]
async fn the_clock_advances_by_a_whole_number_of_ms_written_with_a_fraction() {
    let app = spawn_app().await;
    for (body, by) in [("1000.0", 1000), ("1e3", 1000), ("5.0", 5), ("0.0", 0)] {
        let before = app.get_json("/__sim/clock").await["now"].as_i64().unwrap();
        let (status, text) = app
            .post_raw(
                "/__sim/clock/advance",
                "application/json",
                format!("{{\"ms\": {body}}}").into_bytes(),
            )
            .await;
        assert_eq!(status, 200, "{body}: {text}");
        let after = app.get_json("/__sim/clock").await["now"].as_i64().unwrap();
        assert_eq!(after - before, by, "{body}");
    }
    for (body, says) in [
        ("1.5", "ms must be a whole number of milliseconds"),
        ("1e20", "ms is out of range"),
        ("-1.0", "ms is out of range"),
    ] {
        let (status, text) = app
            .post_raw(
                "/__sim/clock/advance",
                "application/json",
                format!("{{\"ms\": {body}}}").into_bytes(),
            )
            .await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains(says), "{body}: {text}");
    }
    app.shutdown().await;
}

/// Regression: a key given twice in a control body was read as its last value (`amount` 1.00
/// then 5000.00 credited 5000.00; a reset of one tenant then another reset the second). A
/// repeated key, at any depth, is a 400 naming it, and nothing changes.
#[tokio::test]
async fn a_control_body_that_repeats_a_key_is_refused_naming_it() {
    let app = spawn_app().await;
    // Funding a reset of the merchant would take away.
    app.trigger_ok(
        "pockyt.balance.funded",
        json!({"currency": "USD", "amount": "1.00"}),
    )
    .await;
    let before = ledger(&app, POCKYT).await;
    let cases = [
        (
            "/__sim/trigger/pockyt.balance.funded",
            r#"{"currency":"USD","amount":"1.00","amount":"5000.00"}"#,
            "\"amount\"",
        ),
        (
            "/__sim/reset",
            r#"{"tenant":"whalet:202400000000001","tenant":"pockyt:202333"}"#,
            "\"tenant\"",
        ),
        (
            "/__sim/trigger/pockyt.balance.funded",
            r#"{"currency":"USD","amount":"1.00","x":[{"a":1,"a":2}]}"#,
            "\"x\"[0].\"a\"",
        ),
    ];
    for (path, body, names) in cases {
        let (status, text) = app
            .post_raw(path, "application/json", body.as_bytes().to_vec())
            .await;
        assert_eq!(status, 400, "{path} {body}: {text}");
        assert!(text.contains("more than once"), "{text}");
        assert!(
            text.contains(&names.replace('"', "\\\"")),
            "{names}: {text}"
        );
    }
    // Neither the funding nor the reset ran.
    assert_eq!(ledger(&app, POCKYT).await, before);
    app.shutdown().await;
}

/// Regression: a 60,000-character value in a path or a query parameter came back whole in the
/// error (a 60 KB answer). Each echoed client value is cut.
#[tokio::test]
async fn a_long_client_value_is_echoed_cut_in_control_errors() {
    let app = spawn_app().await;
    let long = "a".repeat(60_000);
    let http = reqwest::Client::new();
    for (method, path) in [
        ("GET", format!("/__sim/requests/{long}")),
        ("GET", format!("/__sim/notifications?status={long}")),
        ("GET", format!("/__sim/notifications?after={long}")),
        ("GET", format!("/__sim/notifications/{long}")),
        ("POST", format!("/__sim/notifications/{long}/resend")),
        ("GET", format!("/__sim/state?tenant=whalet:{long}")),
        ("GET", format!("/__sim/requests?partnerId={long}")),
        ("GET", format!("/__sim/state?tenant=platform:{long}")),
    ] {
        let response = http
            .request(method.parse().unwrap(), format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert!(
            status == 400 || status == 404,
            "{method} {path:.80}: {status}"
        );
        assert!(
            text.len() < 2_000,
            "{method} {path:.80}: {} bytes",
            text.len()
        );
        assert!(text.contains("more bytes"), "{method} {path:.80}: {text}");
    }
    app.shutdown().await;
}

/// Regression: a wrong method on a control endpoint answered 404 "no control endpoint", as if
/// the path did not exist, and `HEAD /__sim/health` was refused. A served path asked with
/// another method is a 405 whose `Allow` lists the methods it takes; HEAD of health is a 200
/// without a body.
#[tokio::test]
async fn a_wrong_method_on_a_control_path_is_a_405_listing_the_allowed_ones() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    for (method, path, allow) in [
        ("GET", "/__sim/reset", "POST"),
        ("PUT", "/__sim/clock", "GET, POST"),
        ("DELETE", "/__sim/health", "GET, HEAD"),
        ("DELETE", "/__sim/notifications/ntf_000001", "GET"),
    ] {
        let response = http
            .request(method.parse().unwrap(), format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        let header = response.headers()["allow"].to_str().unwrap().to_owned();
        assert_eq!(header, allow, "{method} {path}");
        let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert!(error_text(&body).contains(allow), "{body}");
    }
    let head = http
        .head(format!("{}/__sim/health", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert!(head.bytes().await.unwrap().is_empty());
    // A path the control plane does not serve with any method is still a 404.
    let (status, _) = app.get("/__sim/nope").await;
    assert_eq!(status, 404);
    app.shutdown().await;
}

/// Regression: `tenant=platform:…` and `tenant=Whalet:…` were told "tenant must be provider:id",
/// though of that form; and `GET /__sim/requests?partnerId=<unknown>` answered an empty 200
/// where an unknown `tenant` is a 404. The message names the providers (and where platform
/// requests belong); an unknown partnerId is a 404 naming the configured tenants.
#[tokio::test]
async fn a_tenant_of_an_unknown_provider_is_told_the_providers_and_an_unknown_partner_id_is_a_404()
{
    let app = spawn_app().await;
    for (tenant, says) in [
        ("platform:202400000000001", "whalet:202400000000001"),
        (
            "Whalet:202400000000001",
            "lower case (whalet:202400000000001)",
        ),
        ("paypal:1", "whalet, infinia or pockyt"),
        ("whalet:", "an id after the colon"),
    ] {
        let (status, body) = app.get(&format!("/__sim/state?tenant={tenant}")).await;
        assert_eq!(status, 400, "{tenant}: {body}");
        assert!(error_text(&body).contains(says), "{tenant}: {body}");
        assert!(
            error_text(&body).starts_with("tenant must be provider:id"),
            "{tenant}: {body}"
        );
    }
    let (status, body) = app.get("/__sim/requests?partnerId=999").await;
    assert_eq!(status, 404, "{body}");
    assert!(error_text(&body).contains("\"999\""), "{body}");
    assert!(
        error_text(&body).contains("whalet:202400000000001"),
        "{body}"
    );
    let (status, body) = app.get("/__sim/requests?partnerId=202400000000001").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}
