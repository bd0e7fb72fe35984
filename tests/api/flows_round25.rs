//! Round 25 flows: a refused arrival (`whalet.collection.received`, by trigger or timeline) is
//! neither decided nor counted by the rules on `mockPayeeNotify`; a partner's trade materials
//! file over SFTP is decided by the rules on `tradeMaterialsUpload`.

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::{repo_path, spawn_app, spawn_with, Setup, TestApp};
use crate::whalet_support::*;

const FIRST_ARRIVAL_RETURNED: &str = r#"
name = "first-returned"
[[rule]]
name = "first arrival returned"
surface = "whalet"
operation = "mockPayeeNotify"
nth = 1
[rule.then]
result = "failure"
reason = "the payer's bank recalled it"
"#;

/// The newest trigger entry of the journal.
async fn last_trigger_entry(app: &TestApp) -> Value {
    let journal = app
        .get_json("/__sim/requests?surface=trigger&limit=1")
        .await;
    journal["requests"][0].clone()
}

/// Money arrives on `card_id` by trigger and settles; its collectionReceivedNotify.
async fn arrival_settled(app: &TestApp, card_id: &Value) -> Value {
    let arrived = trigger(
        app,
        "whalet.collection.received",
        json!({"amount": "10.00", "cardId": card_id}),
    )
    .await;
    let trade_id = arrived["tradeId"].as_str().unwrap().to_owned();
    let entry = last_trigger_entry(app).await;
    assert_eq!(
        entry["rule"], "first arrival returned",
        "the arrival the rule decided names it: {entry}"
    );
    app.advance(5.0).await;
    received_about(app, "collectionReceivedNotify", "tradeId", &trade_id).await
}

/// Regression: a `whalet.collection.received` refused for its account (422, nothing arrived)
/// was decided by the rules on `mockPayeeNotify` first, so it used up an `nth = 1` rule (the
/// first real arrival then settled SUCCESS) and the journal named the rule for it. A refused
/// arrival leaves the rules' counts as they were and is named after no rule.
#[tokio::test]
async fn a_refused_triggered_arrival_does_not_use_up_a_mock_payee_notify_rule() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    assert_eq!(app.load_scenario(FIRST_ARRIVAL_RETURNED, "").await.0, 200);
    let before = business_state(&app).await;
    for refused in [
        json!({"amount": "10.00", "cardId": "VA-NOPE"}),
        json!({"amount": "10.00", "cardId": ready["cardId"], "currency": "EUR"}),
    ] {
        let (status, body) = app
            .post("/__sim/trigger/whalet.collection.received", &refused)
            .await;
        assert_eq!(status, 422, "{body}");
        let entry = last_trigger_entry(&app).await;
        assert_eq!(entry["code"], "FAILED", "{entry}");
        assert_eq!(entry["rule"], Value::Null, "no rule decided it: {entry}");
    }
    assert_eq!(business_state(&app).await, before, "nothing arrived");
    let n = arrival_settled(&app, &ready["cardId"]).await;
    assert_eq!(n["status"], "FAILURE", "the first arrival is returned: {n}");
    assert_eq!(n["reason"], "the payer's bank recalled it", "{n}");
    app.assert_invariants().await;
    app.shutdown().await;
}

/// The same for a timeline event: a refused arrival at 1 s leaves the `nth = 1` rule for the
/// first arrival that happens.
#[tokio::test]
async fn a_refused_timeline_arrival_does_not_use_up_a_mock_payee_notify_rule() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let scenario = format!(
        "{FIRST_ARRIVAL_RETURNED}\n[[timeline]]\nat = \"1s\"\nevent = \"whalet.collection.received\"\n\
         params = {{ amount = \"10.00\", cardId = \"VA-NOPE\" }}\n"
    );
    assert_eq!(app.load_scenario(&scenario, "").await.0, 200);
    app.advance(2.0).await;
    let entry = last_trigger_entry(&app).await;
    assert_eq!(entry["operation"], "whalet.collection.received", "{entry}");
    assert_eq!(
        entry["code"], "FAILED",
        "the timeline's arrival is refused: {entry}"
    );
    // The journal names the timeline that fired it, and no rule as deciding it.
    assert_eq!(
        entry["rule"], "timeline of scenario first-returned",
        "no rule decided it: {entry}"
    );
    let n = arrival_settled(&app, &ready["cardId"]).await;
    assert_eq!(n["status"], "FAILURE", "the first arrival is returned: {n}");
    app.assert_invariants().await;
    app.shutdown().await;
}

const PARTNER: &str = "202400000000001";

const MATERIALS_REJECTED: &str = r#"
name = "materials-rejected"
[[rule]]
name = "materials file rejected"
surface = "platform"
operation = "tradeMaterialsUpload"
[rule.then]
code = "FAILURE"
detail = "the compliance desk is closed"
"#;

const MATERIALS_FAILED: &str = r#"
name = "materials-failed"
[[rule]]
name = "materials file failed"
surface = "platform"
operation = "tradeMaterialsUpload"
[rule.then]
result = "failure"
reason = "the materials could not be matched to payments"
"#;

const MATERIALS_ACCEPTED: &str = r#"
name = "materials-accepted"
[[rule]]
name = "materials file accepted"
surface = "platform"
operation = "tradeMaterialsUpload"
[rule.then]
result = "success"
"#;

/// Puts the sample trade materials file to `/upload/{name}` as the demo partner and fetches its
/// result report; the report's text.
async fn put_sample_materials(app: &TestApp, dir: &Path, name: &str) -> String {
    let got = dir.join(format!("{name}.result"));
    let stem = name.trim_end_matches(".csv");
    let commands = format!(
        "put {} /upload/{name}\nget /result/{stem}_result.csv {}\n",
        repo_path("samples/platform-trade-materials.csv"),
        got.display()
    );
    let (ok, output) = crate::platform_sftp::sftp_batch(app, dir, &commands).await;
    assert!(ok, "{output}");
    std::fs::read_to_string(&got).unwrap()
}

/// The journal entry of the SFTP upload `name` on the platform surface.
async fn materials_entry(app: &TestApp, name: &str) -> Value {
    let journal = app
        .get_json("/__sim/requests?surface=platform&operation=tradeMaterialsUpload")
        .await;
    journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["request"]["fileName"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} is journaled: {journal}"))
}

/// The partner's stored trade materials (the platform state from the control plane).
async fn stored_materials(app: &TestApp) -> Value {
    let body = app
        .get_json(&format!("/__sim/state?tenant=whalet:{PARTNER}"))
        .await;
    body["tenants"][format!("whalet:{PARTNER}")]["platform"]["materials"].clone()
}

/// Regression: a scenario rule on `tradeMaterialsUpload` did not govern a partner's trade
/// materials file over SFTP (every row ACCEPTED, journal rule null) although `explain` said the
/// rule decided it, while Infinia files are governed by the rules on `trade-details/upload`.
/// A forced `code` (or `result = "failure"`) now rejects the file as a whole: nothing is
/// stored, the upload ends FAILED with `{code}: {detail}` (or the reason) in its result
/// report, and the journal names the rule.
#[tokio::test]
async fn a_rule_on_trade_materials_upload_rejects_a_materials_file_over_sftp() {
    let app = spawn_with(Setup {
        config: Some("[infinia]\nsftp_addr = \"127.0.0.1:0\"\n".into()),
        ..Setup::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let empty = stored_materials(&app).await;
    let cases = [
        (
            MATERIALS_REJECTED,
            "materials-rejected",
            "materials file rejected",
            "FAILURE: the compliance desk is closed",
        ),
        (
            MATERIALS_FAILED,
            "materials-failed",
            "materials file failed",
            "the materials could not be matched to payments",
        ),
    ];
    for (i, (scenario, scenario_name, rule, reason)) in cases.into_iter().enumerate() {
        assert_eq!(app.load_scenario(scenario, "").await.0, 200);
        let name = format!("materials-{i}.csv");
        let report = put_sample_materials(&app, dir.path(), &name).await;
        let lines: Vec<Vec<String>> = csv::Reader::from_reader(report.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(lines, [["1", "", "", "REFUSED", reason]], "{report}");
        let entry = materials_entry(&app, &name).await;
        assert_eq!(entry["code"], "FAILED", "{entry}");
        assert_eq!(entry["rule"], rule, "{entry}");
        assert_eq!(entry["detail"], reason, "{entry}");
        assert_eq!(stored_materials(&app).await, empty, "nothing is stored");
        let path = format!("/__sim/scenarios/{scenario_name}");
        assert_eq!(app.delete(&path).await.0, 200);
    }
    // A rule that lets the file succeed decides it too: processed, and named by the journal;
    // without a rule the same file is processed and the journal names none.
    assert_eq!(app.load_scenario(MATERIALS_ACCEPTED, "").await.0, 200);
    let report = put_sample_materials(&app, dir.path(), "materials-ok.csv").await;
    assert!(!report.contains("REFUSED"), "{report}");
    let entry = materials_entry(&app, "materials-ok.csv").await;
    assert_eq!(entry["code"], "SUCCESS", "{entry}");
    assert_eq!(entry["rule"], "materials file accepted", "{entry}");
    assert_ne!(stored_materials(&app).await, empty, "the rows are stored");
    assert_eq!(
        app.delete("/__sim/scenarios/materials-accepted").await.0,
        200
    );
    put_sample_materials(&app, dir.path(), "materials-again.csv").await;
    let entry = materials_entry(&app, "materials-again.csv").await;
    assert_eq!(entry["code"], "SUCCESS", "{entry}");
    assert_eq!(entry["rule"], Value::Null, "{entry}");
    app.shutdown().await;
}

const EDD_THEN_FAILURE: &str = r#"
name = "edd-then-failure"
[[rule]]
name = "held for EDD, then refused"
surface = "whalet"
operation = "payoutConfirm"
[rule.then]
values = { edd = "Y" }
result = "failure"
reason = "the beneficiary bank refused it"
delay = "10s"
"#;

/// Regression: a `payoutConfirm` rule with `values.edd = "Y"` held the payout for EDD but
/// dropped its `result`, `reason` and `delay`: once the EDD was approved the payout succeeded
/// after the usual 30 s. The rule decides everything: released by the approval, the payout
/// ends as the rule said, after its delay (the money back on the available balance).
#[tokio::test]
async fn a_payout_held_for_edd_ends_as_the_holding_rule_says_once_released() {
    use crate::whalet2_support::{
        cents, confirmed_payout, edd_asked_for_payout, submit_edd_file, user_with_beneficiary,
    };
    let app = spawn_app().await;
    assert_eq!(app.load_scenario(EDD_THEN_FAILURE, "").await.0, 200);
    let (user, bid) = user_with_beneficiary(&app, "100", "sup-1", "USD").await;
    let payout_id = confirmed_payout(&app, &user, "p-1", "40", &bid).await;
    let ask = edd_asked_for_payout(&app, &payout_id).await;
    let rid = ask["replenishId"].as_str().unwrap().to_owned();
    app.advance(60.0).await;
    assert!(
        received(&app, "payoutResultNotify").is_empty(),
        "the payout waits for the EDD"
    );
    submit_edd_file(&app, &user, &rid, "statement.pdf", b"%PDF statement", None).await;
    app.advance(30.0).await;
    let n = received_about(&app, "eddReplenishResultNotify", "replenishId", &rid).await;
    assert_eq!(n["status"], "SUCCESS", "the EDD is approved: {n}");
    app.advance(9.0).await;
    assert!(
        received(&app, "payoutResultNotify").is_empty(),
        "the rule's delay runs from the release"
    );
    app.advance(1.0).await;
    let n = received_about(&app, "payoutResultNotify", "payoutId", &payout_id).await;
    assert_eq!(n["status"], "FAILURE", "{n}");
    assert_eq!(n["reason"], "the beneficiary bank refused it", "{n}");
    assert_eq!(
        cents(&app, &user, "B2C", "USD").await,
        (10_000, 0),
        "the money is back"
    );
    app.assert_invariants().await;
    app.shutdown().await;
}
