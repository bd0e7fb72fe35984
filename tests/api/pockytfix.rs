//! Pockyt: a scenario `status` is checked at load against the words the operation takes (one
//! table per object, which the handlers read too); a review decided in the request counts for
//! coverage as one decided by its timer; a snapshot's payouts must be ones `pay` could have made,
//! their money where the ledger's postings put it.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_config, TestApp};
use crate::persistence::{export, import};
use crate::pockyt_support::{active_payee, bank_account, call, ok, payee_fields};

const TENANT: &str = "pockyt:202333";

async fn load(app: &TestApp, rule: &str) -> (u16, Value) {
    let text = format!("name = \"s\"\ntenant = \"{TENANT}\"\n[[rule]]\nname = \"r\"\n{rule}\n");
    app.load_scenario(&text, "").await
}

/// The hits of coverage item `id` (a state change) in `GET /__sim/coverage?surface=pockyt`.
async fn state_hits(app: &TestApp, id: &str) -> u64 {
    fn find(v: &Value, id: &str) -> Option<u64> {
        match v {
            Value::Object(m) if m.get("id").and_then(Value::as_str) == Some(id) => {
                m.get("hits").and_then(Value::as_u64)
            }
            Value::Object(m) => m.values().find_map(|v| find(v, id)),
            Value::Array(a) => a.iter().find_map(|v| find(v, id)),
            _ => None,
        }
    }
    let report = app.get_json("/__sim/coverage?surface=pockyt").await;
    find(&report, id).unwrap_or_else(|| panic!("{id} is not in the report: {report}"))
}

#[tokio::test]
async fn a_scenario_status_the_operation_cannot_report_is_refused_at_load() {
    let app = spawn_app().await;
    let cases = [
        (
            "operation = \"/v3/payee/register\"\nthen = { result = \"success\", status = \"Actived\" }",
            &["\"Actived\"", "/v3/payee/register", "\"Activated\" or \"Pending\""][..],
        ),
        (
            "operation = \"/v3/payee/register\"\nthen = { result = \"success\", status = \"Deactivated\", delay = \"0s\" }",
            &["\"Deactivated\"", "\"Activated\" or \"Pending\""][..],
        ),
        (
            "operation = \"/v3/payee/register\"\nthen = { result = \"success\", status = \"Declined\" }",
            &["contradict", "\"Declined\" goes with result = \"failure\""][..],
        ),
        (
            "operation = \"/v3/customers/account/create/*\"\nthen = { result = \"success\", status = \"WEIRD\" }",
            &["\"WEIRD\"", "\"ACTIVATED\" or \"PENDING\""][..],
        ),
        (
            "operation = \"/v3/payouts/pay\"\nthen = { result = \"success\", status = \"succeeded\" }",
            &["\"succeeded\"", "\"success\", \"returned\" or \"pending\""][..],
        ),
        (
            "surface = \"pockyt\"\nthen = { result = \"success\", status = \"succeeded\" }",
            &["none of them takes", "\"succeeded\"", "a payee's review"][..],
        ),
    ];
    for (rule, words) in cases {
        let (status, body) = load(&app, rule).await;
        assert_eq!(status, 400, "{rule}: {body}");
        let reason = body["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("rule \"r\""), "{reason}");
        for word in words {
            assert!(reason.contains(word), "{rule}: {word} not in {reason}");
        }
        assert!(
            body["line"].as_u64().is_some_and(|l| l >= 5),
            "names the rule's line: {body}"
        );
    }
    // A status word the table has, in any case, loads and decides the review.
    let (status, body) = load(
        &app,
        "operation = \"/v3/payee/register\"\nthen = { result = \"failure\", status = \"declined\", delay = \"0s\" }",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let reply = ok(&app, "/v3/payee/register", payee_fields("d@example.com")).await;
    let no = reply["customer"]["customerNo"].as_str().unwrap().to_owned();
    let got = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(got["customer"]["payeeStatus"], "Declined", "{got}");
    // A rule for every surface (no surface, no operation, every tenant) keeps another
    // surface's words.
    let text = "name = \"w\"\n[[rule]]\nthen = { result = \"failure\", status = \"REJECTED\" }\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_review_decided_in_the_request_is_counted_for_coverage() {
    let app = spawn_app().await;
    let customer = active_payee(&app, "ok@example.com").await;
    let (status, body) = load(
        &app,
        "operation = \"/v3/payee/register\"\nthen = { result = \"failure\", delay = \"0s\" }\n\
         [[rule]]\nname = \"a\"\noperation = \"/v3/customers/account/create/*\"\n\
         then = { result = \"failure\" }",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let reply = ok(&app, "/v3/payee/register", payee_fields("dec@example.com")).await;
    let no = reply["customer"]["customerNo"].as_str().unwrap().to_owned();
    let got = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(got["customer"]["payeeStatus"], "Declined", "{got}");
    let account = ok(
        &app,
        "/v3/customers/account/create/bank-account",
        json!({
            "customerNo": customer, "accountType": "BANK_ACCOUNT", "accountCountry": "US",
            "accountCurrency": "USD", "accountTag": "t1", "bankAccountId": "000123455655",
            "bankName": "Chase", "ipnUrl": "http://127.0.0.1:9/ipn", "clientIp": "127.0.0.1",
        }),
    )
    .await;
    assert_eq!(account["result"]["accountStatus"], "INVALID", "{account}");
    assert_eq!(state_hits(&app, "pockyt.state.payee.declined").await, 1);
    assert_eq!(state_hits(&app, "pockyt.state.account.invalid").await, 1);
    app.shutdown().await;

    // Decided at once by the configuration: counted as well.
    let app = spawn_config("[pockyt]\npayee_review_delay_ms = 0\n").await;
    let reply = ok(&app, "/v3/payee/register", payee_fields("now@example.com")).await;
    let no = reply["customer"]["customerNo"].as_str().unwrap().to_owned();
    let got = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(got["customer"]["payeeStatus"], "Activated", "{got}");
    assert_eq!(state_hits(&app, "pockyt.state.payee.activated").await, 1);
    // An account activated at once by default counts too.
    bank_account(&app, &no, "http://127.0.0.1:9/ipn").await;
    assert_eq!(state_hits(&app, "pockyt.state.account.activated").await, 1);
    app.shutdown().await;
}

/// A merchant with one payout of 100.00 USD to its payee, settled (`success`) unless `pending`;
/// its exported snapshot.
async fn one_payout(app: &TestApp, settle: bool) -> Value {
    let customer = active_payee(app, "p@example.com").await;
    let token = bank_account(app, &customer, "http://127.0.0.1:9/ipn").await;
    ok(
        app,
        "/v3/payouts/pay",
        json!({"customerNo": customer, "accountToken": token, "amount": "100.00",
               "currency": "USD", "invoiceId": "i1"}),
    )
    .await;
    if settle {
        app.advance(30.0).await;
    }
    serde_json::from_slice(&export(app, &format!("?tenant={TENANT}")).await).unwrap()
}

/// A change made to a payout of a snapshot.
type Change = fn(&mut Value);

/// Imports `snapshot` with its one payout changed by `change`; answers the refusal's text.
async fn refused(app: &TestApp, snapshot: &Value, change: impl Fn(&mut Value)) -> String {
    let mut doc = snapshot.clone();
    let payouts = &mut doc["tenants"][TENANT]["pockyt"]["payouts"];
    let payout = payouts
        .as_object_mut()
        .unwrap()
        .values_mut()
        .next()
        .unwrap();
    change(payout);
    let (status, body) = import(app, "", serde_json::to_vec(&doc).unwrap()).await;
    assert!(status >= 400, "imported: {body}");
    body["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_import_whose_payouts_are_out_of_step_with_the_ledger_is_refused() {
    let app = spawn_app().await;
    let snapshot = one_payout(&app, true).await;
    let no = snapshot["tenants"][TENANT]["pockyt"]["payouts"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let entry = format!("pockyt.payouts[\"{no}\"]");
    // As exported: taken.
    let (status, body) = import(&app, "", serde_json::to_vec(&snapshot).unwrap()).await;
    assert_eq!(status, 200, "{body}");

    // Paid out, but marked pending (its money no longer in flight).
    let why = refused(&app, &snapshot, |p| p["status"] = json!("pending")).await;
    assert!(why.contains(&entry), "{why}");
    assert!(
        why.contains("status pending") && why.contains("in_flight"),
        "{why}"
    );
    // Marked failed or returned: its money is not back on the balance either.
    for status in ["failed", "returned"] {
        let why = refused(&app, &snapshot, |p| p["status"] = json!(status)).await;
        assert!(why.contains(&entry), "{status}: {why}");
    }

    let cases: [(&str, Change); 5] = [
        ("is not positive", |p| p["amount"]["minor"] = json!(-10000)),
        ("is not a payout currency", |p| {
            p["amount"]["currency"] = json!("EUR");
            p["fee"]["currency"] = json!("EUR");
        }),
        ("is not in the payout's currency", |p| {
            p["fee"]["currency"] = json!("CAD")
        }),
        ("names no account", |p| {
            p["accountToken"] = json!("201030999")
        }),
        ("names no payee", |p| p["customerNo"] = json!("200030999")),
    ];
    for (words, change) in cases {
        let why = refused(&app, &snapshot, change).await;
        assert!(
            why.contains(&entry) && why.contains(words),
            "{words}: {why}"
        );
    }
    // Nothing changed by the refusals: the payout is still paid out.
    let q = call(&app, "/v3/payouts/inquiry", json!({"invoiceId": "i1"})).await;
    assert_eq!(q["result"]["status"], "success", "{q}");
    app.shutdown().await;

    // A pending payout marked success (its money still in flight): refused too.
    let app = spawn_app().await;
    let snapshot = one_payout(&app, false).await;
    let why = refused(&app, &snapshot, |p| p["status"] = json!("success")).await;
    assert!(why.contains("status success"), "{why}");
    app.shutdown().await;
}
