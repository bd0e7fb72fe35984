//! Scenario `values` keys with a type are checked at load (docs/SCENARIOS.md, "Outcome" and
//! "Per surface"), a forced `http_status` must be able to carry the reply, and the Whalet quote
//! and payout details these keys drive: a same-currency quote is 1, the wrong-pair hint, the
//! review timer's label.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::persistence::{export, import};
use crate::whalet2_support::{confirmed_payout, funded_user, now_ms, quote, user_with_beneficiary};
use crate::whalet_support::{expect, refused};

/// Loads a one-rule scenario whose rule is `rule` (TOML lines after `[[rule]]`); returns the
/// control plane's status and body.
async fn load_rule(app: &TestApp, rule: &str) -> (u16, Value) {
    app.load_scenario(&format!("name = \"typed\"\n[[rule]]\n{rule}"), "")
        .await
}

/// Loads `rule` (in a scenario named `typed`), asserting it loads.
async fn loads(app: &TestApp, rule: &str) {
    let (status, body) = load_rule(app, rule).await;
    assert_eq!(status, 200, "{rule}: {body}");
}

/// Asserts the rule is refused at load, naming `needles` and pointing at line `line`, and
/// that nothing was loaded.
async fn refused_at_load(app: &TestApp, rule: &str, needles: &[&str], line: u64) {
    let (status, body) = load_rule(app, rule).await;
    assert_eq!(status, 400, "{rule}: {body}");
    let reason = body["reason"].as_str().unwrap_or_default();
    for needle in needles {
        assert!(reason.contains(needle), "{rule}: {needle:?} not in {body}");
    }
    assert_eq!(body["line"], line, "{rule}: {body}");
    let listed = app.get_json("/__sim/scenarios").await;
    assert_eq!(listed["scenarios"], json!([]), "{rule}: nothing loaded");
}

#[tokio::test]
async fn a_quote_validity_that_is_not_a_whole_number_of_seconds_in_range_is_refused_at_load() {
    let app = spawn_app().await;
    for (value, says) in [
        ("\"-3600\"", "less than 1"),
        ("-3600", "less than 1"),
        ("0", "less than 1"),
        ("\"90s\"", "not a whole number of seconds"),
        ("\"abc\"", "not a whole number of seconds"),
        ("2.5", "not a whole number of seconds"),
        ("\"9223372036854775807\"", "more than 31622400 seconds"),
        ("\"99999999999999999999\"", "more than 31622400 seconds"),
        ("-9223372036854775807", "less than 1"),
    ] {
        let rule = format!(
            "operation = \"rateInquiry\"\n[rule.then]\nvalues = {{ validSeconds = {value} }}\n"
        );
        refused_at_load(
            &app,
            &rule,
            &["rule \"rule 1\"", "values.validSeconds", says],
            5,
        )
        .await;
    }
    // "90s" says what to write instead.
    let (_, body) = load_rule(&app, "[rule.then]\nvalues = { validSeconds = \"90s\" }\n").await;
    assert!(
        body["reason"].as_str().unwrap().contains("write 90"),
        "{body}"
    );

    // A whole number of seconds, as a number or as text, loads and sets the validity.
    for value in ["120", "\"120\""] {
        let rule = format!(
            "operation = \"rateInquiry\"\n[rule.then]\nvalues = {{ validSeconds = {value} }}\n"
        );
        let (status, body) = load_rule(&app, &rule).await;
        assert_eq!(status, 200, "{value}: {body}");
        let (user, _) = funded_user(&app, "USD", "10").await;
        let q = quote(&app, &user, "HKD").await;
        let now = now_ms(&app).await;
        let expected = whalet_sim::api::whalet::whalet_time(now + 120_000);
        assert_eq!(q["expireTime"], json!(expected), "{value}: {q}");
        app.delete("/__sim/scenarios/typed").await;
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_quote_valid_past_the_end_of_virtual_time_expires_at_the_end() {
    let app = spawn_app().await;
    // The clock a day before its end (9999-12-30 00:00:00 UTC): a snapshot's `now`.
    let mut doc: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    let end = 253_402_128_000_000_i64;
    doc["now"] = json!(end - 86_400_000);
    let (status, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    loads(
        &app,
        "operation = \"rateInquiry\"\n[rule.then]\nvalues = { validSeconds = 31622400 }\n",
    )
    .await;
    let ready = app.trigger_ok("whalet.account.ready", json!({})).await;
    let q = expect(
        &app,
        "rateInquiry",
        json!({"userId": ready["userId"], "currency": "USD", "toCurrency": "HKD",
               "fundSource": "B2C"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(
        q["expireTime"],
        json!(whalet_sim::api::whalet::whalet_time(end)),
        "{q}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn an_edd_value_other_than_y_or_n_is_refused_at_load_and_n_lets_the_order_through() {
    let app = spawn_app().await;
    for value in ["true", "\"y\"", "\"yes\"", "1"] {
        let rule =
            format!("operation = \"payoutConfirm\"\n[rule.then]\nvalues = {{ edd = {value} }}\n");
        refused_at_load(
            &app,
            &rule,
            &["rule \"rule 1\"", "values.edd", "is not \"Y\" or \"N\""],
            5,
        )
        .await;
    }
    // "N" loads, and the confirmed payout goes through review: no EDD is asked.
    loads(
        &app,
        "operation = \"payoutConfirm\"\n[rule.then]\nvalues = { edd = \"N\" }\n",
    )
    .await;
    let (user, bid) = user_with_beneficiary(&app, "100", "b-1", "USD").await;
    confirmed_payout(&app, &user, "p-1", "10", &bid).await;
    app.advance(31.0).await;
    let n = app.wait_notification("apiCode=payoutResultNotify").await;
    assert_eq!(n["status"], "delivered", "{n}");
    let asked = app
        .get_json("/__sim/notifications?apiCode=eddReplenishNotify")
        .await;
    assert_eq!(asked["notifications"], json!([]), "{asked}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_link_lifetime_under_one_second_is_refused_at_load_and_return_after_may_be_zero() {
    let app = spawn_app().await;
    for value in ["\"0s\"", "\"999ms\""] {
        for operation in ["shopAccountBind", "account-binding/request"] {
            let rule = format!(
                "operation = \"{operation}\"\n[rule.then]\nvalues = {{ linkTtl = {value} }}\n"
            );
            refused_at_load(
                &app,
                &rule,
                &["values.linkTtl", "shorter than 1s", "link_ttl_secs"],
                5,
            )
            .await;
        }
    }
    loads(
        &app,
        "operation = \"shopAccountBind\"\n[rule.then]\nvalues = { linkTtl = \"1s\" }\n",
    )
    .await;
    app.delete("/__sim/scenarios/typed").await;
    // A payout returned at once after its success is meaningful (as return_after_ms = 0).
    loads(
        &app,
        "operation = \"/v3/payouts/pay\"\n[rule.then]\nresult = \"success\"\nstatus = \"returned\"\n\
         values = { returnAfter = \"0s\" }\n",
    ).await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_rate_that_is_not_a_positive_decimal_is_refused_at_load() {
    let app = spawn_app().await;
    for (value, says) in [
        ("\"abc\"", "is not a positive decimal number"),
        ("\"-1\"", "is not a positive decimal number"),
        ("0", "is zero"),
        ("\"123456789012.1234\"", "has 16 significant digits"),
        ("true", "is not a positive decimal number"),
    ] {
        let rule =
            format!("operation = \"rateInquiry\"\n[rule.then]\nvalues = {{ rate = {value} }}\n");
        refused_at_load(&app, &rule, &["rule \"rule 1\"", "values.rate", says], 5).await;
    }
    app.shutdown().await;
}

#[tokio::test]
async fn an_http_status_that_carries_no_body_is_refused_at_load_naming_why() {
    let app = spawn_app().await;
    for (status, says) in [
        (100, "informational"),
        (101, "informational"),
        (199, "informational"),
        (204, "No Content"),
        (205, "Reset Content"),
        (304, "Not Modified"),
        (99, "between 200 and 599"),
        (600, "between 200 and 599"),
    ] {
        let rule = format!("surface = \"platform\"\n[rule.then]\nhttp_status = {status}\n");
        refused_at_load(&app, &rule, &[says, "200 and 599"], 5).await;
    }
    for fine in [200, 203, 206, 302, 404, 599] {
        let rule = format!("surface = \"platform\"\n[rule.then]\nhttp_status = {fine}\n");
        let (status, body) = load_rule(&app, &rule).await;
        assert_eq!(status, 200, "{fine}: {body}");
        app.delete("/__sim/scenarios/typed").await;
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_same_currency_quote_is_one_whatever_the_rules_rate() {
    let app = spawn_app().await;
    loads(
        &app,
        "operation = \"rateInquiry\"\n[rule.then]\nvalues = { rate = \"7.78\" }\n",
    )
    .await;
    let (user, _) = funded_user(&app, "USD", "100").await;
    let same = quote(&app, &user, "USD").await;
    assert_eq!(same["rate"], json!(1), "{same}");
    let paid = expect(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "y-1", "fundSource": "B2C", "currency": "USD",
               "amount": "10", "payeeName": "Factory", "rateId": same["rateId"]}),
        "SUCCESS",
    )
    .await;
    assert_eq!(paid["toAmount"]["amount"], json!(10), "{paid}");
    assert_eq!(paid["toAmount"]["currency"], "USD", "{paid}");
    // A pair of two currencies still takes the rule's rate.
    let other = quote(&app, &user, "HKD").await;
    assert_eq!(other["rate"], json!(7.78), "{other}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_quote_of_another_source_currency_suggests_paying_in_it() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "100").await;
    let usd_hkd = quote(&app, &user, "HKD").await;
    let rate_id = usd_hkd["rateId"].as_str().unwrap();
    refused(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "y-1", "fundSource": "B2C", "currency": "HKD",
               "amount": "10", "payeeName": "Factory", "rateId": rate_id}),
        "FAILURE",
        &format!(
            "rateId {rate_id} quotes USD to HKD, not HKD to HKD (the payee receives HKD: leave \
             rateId out, or pay in USD, the quote's source currency)"
        ),
    )
    .await;
    // A quote that fits neither side: only leaving it out helps.
    let usd_cny = quote(&app, &user, "CNY").await;
    refused(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "y-2", "fundSource": "B2C", "currency": "HKD",
               "amount": "10", "payeeName": "Factory", "rateId": usd_cny["rateId"]}),
        "FAILURE",
        "(the payee receives HKD, the currency paid: leave rateId out)",
    )
    .await;
    app.shutdown().await;
}

/// The pending review timers' labels.
async fn pending_labels(app: &TestApp) -> Vec<String> {
    let clock = app.get_json("/__sim/clock").await;
    clock["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_confirmed_orders_review_timer_names_the_confirm_and_an_old_label_still_runs() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "100", "b-1", "USD").await;
    let payout_id = confirmed_payout(&app, &user, "p-1", "10", &bid).await;
    let paid = expect(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "y-1", "fundSource": "B2C", "currency": "USD",
               "amount": "5", "payeeName": "Factory"}),
        "SUCCESS",
    )
    .await;
    let pay_id = paid["payId"].as_str().unwrap().to_owned();
    let upload = crate::whalet2_support::upload(&app, "invoice.png", b"\x89PNG invoice").await;
    expect(
        &app,
        "payConfirm",
        json!({"userId": user, "payId": pay_id, "tradeCredential": [upload]}),
        "PROCESSING",
    )
    .await;
    let labels = pending_labels(&app).await;
    for (confirm, id) in [("payoutConfirm", &payout_id), ("payConfirm", &pay_id)] {
        assert!(
            labels
                .iter()
                .any(|l| l.ends_with(&format!(" {confirm} {id}"))),
            "{confirm}: {labels:?}"
        );
    }
    assert!(!labels.iter().any(|l| l.contains("Apply")), "{labels:?}");

    // A snapshot written with the old label (the Apply's) imports and runs the same.
    let mut doc: Value = serde_json::from_slice(&export(&app, "").await).unwrap();
    for timer in doc["timers"].as_array_mut().unwrap() {
        let label = timer["label"].as_str().unwrap().replace("Confirm", "Apply");
        timer["label"] = json!(label);
    }
    let (status, body) = import(&app, "", serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        pending_labels(&app)
            .await
            .iter()
            .any(|l| l.ends_with(&format!(" payoutApply {payout_id}"))),
        "the old label is kept"
    );
    app.advance(31.0).await;
    for (api_code, field, id) in [
        ("payoutResultNotify", "payoutId", &payout_id),
        ("payResultNotify", "payId", &pay_id),
    ] {
        let n = crate::whalet_support::received_about(&app, api_code, field, id).await;
        assert_eq!(n["status"], "SUCCESS", "{api_code}: {n}");
    }
    app.shutdown().await;
}
