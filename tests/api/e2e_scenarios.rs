//! The shipped scenario files through the real engine: each file is loaded (`--scenario` or
//! `POST /__sim/scenarios`), the flow it describes is driven through the partner clients and the
//! manual clock, and the outcome its description promises is checked. (happy-path,
//! notify-outage, rate-limited and processing-then-failure run in `scenarios.rs`; pockyt-payouts
//! in `pockyt_payouts.rs`.)

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::helpers::{platform_call, repo_path, spawn_with, Setup, TestApp};
use crate::infinia::support::{
    binding_request, set_hook_url, sftp_batch, sftp_port, HookReceiver, Merchant, SFTP_CONFIG,
};
use crate::platform::bind_body;
use crate::whalet_support::{
    apply_user, b2c_ready, balance, expect, money, onboarding, received, received_about, trigger,
};

fn shipped(name: &str) -> PathBuf {
    PathBuf::from(repo_path(&format!("scenarios/{name}.toml")))
}

async fn with_scenario(name: &str) -> TestApp {
    spawn_with(Setup {
        scenario_files: vec![shipped(name)],
        ..Default::default()
    })
    .await
}

/// The journal entries of `surface` whose `rule` is `rule`.
async fn decided_by(app: &TestApp, surface: &str, rule: &str) -> Vec<Value> {
    let journal = app
        .get_json(&format!("/__sim/requests?surface={surface}"))
        .await;
    journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["rule"] == rule)
        .cloned()
        .collect()
}

#[tokio::test]
async fn onboarding_rejected_asks_for_material_after_30_seconds() {
    let app = with_scenario("onboarding-rejected").await;
    let user_id = apply_user(&app, "m-rejected").await;
    let ruled = decided_by(&app, "whalet", "reject onboarding, ask for material").await;
    assert_eq!(ruled.len(), 1, "the scenario's rule decided the apply");
    app.advance(29.0).await;
    assert!(received(&app, "userOnboardingResultNotify").is_empty());
    app.advance(1.0).await;
    let n = received_about(&app, "userOnboardingResultNotify", "userId", &user_id).await;
    assert_eq!(n["status"], "FAILURE", "{n}");
    assert_eq!(n["reMaterial"], "Y", "{n}");
    assert_eq!(n["materialType"], "Reject", "{n}");
    assert!(n["message"].as_str().unwrap().contains("unreadable"), "{n}");
    // Re-submitting corrected material keeps the userId; it is rejected again while loaded.
    let mut corrected = onboarding("m-rejected", "Example Trading");
    corrected["email"] = json!("new@example.com");
    let again = expect(&app, "userOnboardingApply", corrected, "PROCESSING").await;
    assert_eq!(again["userId"], user_id.as_str());
    app.advance(30.0).await;
    let sent = received(&app, "userOnboardingResultNotify");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1]["status"], "FAILURE");
    // Unloaded: the next re-submission is approved after the default 60 s.
    let (status, body) = app.delete("/__sim/scenarios/onboarding-rejected").await;
    assert_eq!(status, 200, "{body}");
    let mut third = onboarding("m-rejected", "Example Trading");
    third["email"] = json!("third@example.com");
    expect(&app, "userOnboardingApply", third, "PROCESSING").await;
    app.advance(60.0).await;
    let sent = received(&app, "userOnboardingResultNotify");
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[2]["status"], "SUCCESS");
    app.shutdown().await;
}

#[tokio::test]
async fn collection_arrives_pays_the_newest_b2c_account_at_60_and_120_seconds() {
    let app = spawn_with(Setup::default()).await;
    // An older account (trigger shortcut) and a newer one opened through the API.
    let older = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let (user_id, _, _) = b2c_ready(&app, "arrives", "USD").await;
    let text = std::fs::read_to_string(shipped("collection-arrives")).unwrap();
    let (status, body) = app.load_scenario(&text, "").await;
    assert_eq!(status, 200, "{body}");
    app.advance(59.0).await;
    assert!(received(&app, "collectionReceivedNotify").is_empty());
    app.advance(1.0).await;
    let pending = balance(&app, &user_id, "B2C", "USD").await;
    assert_eq!(pending["balance"], money(json!(0), 0, "USD"), "{pending}");
    app.advance(4.0).await;
    assert!(received(&app, "collectionReceivedNotify").is_empty());
    app.advance(1.0).await;
    app.wait_notification("apiCode=collectionReceivedNotify")
        .await;
    let row = balance(&app, &user_id, "B2C", "USD").await;
    assert_eq!(row["balance"], money(json!(1250), 125000, "USD"), "{row}");
    app.advance(60.0).await;
    let row = balance(&app, &user_id, "B2C", "USD").await;
    assert_eq!(row["balance"], money(json!(1336.4), 133640, "USD"), "{row}");
    let sent = received(&app, "collectionReceivedNotify");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent.iter().all(|n| n["userId"] == user_id.as_str()),
        "{sent:?}"
    );
    let older_user = older["userId"].as_str().unwrap();
    let row = balance(&app, older_user, "B2C", "USD").await;
    assert_eq!(
        row["balance"],
        money(json!(0), 0, "USD"),
        "the older account got nothing"
    );
    let scenario = app
        .get_json("/__sim/scenarios/collection-arrives?tenant=whalet:202400000000001")
        .await;
    assert_eq!(
        scenario["fired"].as_array().map(Vec::len),
        Some(2),
        "{scenario}"
    );
    // The timeline fired them and the scenario's rule on mockPayeeNotify decided them.
    let both = "settle incoming collections after 5 s (timeline of scenario collection-arrives)";
    let settled = decided_by(&app, "trigger", both).await;
    assert_eq!(settled.len(), 2, "both arrivals came from the timeline");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn seller_binding_demo_funds_the_balance_and_its_rules_apply() {
    let app = with_scenario("seller-binding-demo").await;
    let (code, detail, body) =
        platform_call(&app, "shopAccountBind", &bind_body("B0001", "1686214")).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    assert!(body["authorizeUrl"]
        .as_str()
        .unwrap()
        .contains("/authorize/"));
    // A second binding is left alone: its link lives 10 minutes (the rule), not 30.
    platform_call(&app, "shopAccountBind", &bind_body("B0002", "777")).await;
    app.advance(5.0).await;
    let n = app
        .wait_notification("apiCode=bulkPaymentsReceivedNotify")
        .await;
    assert_eq!(n["status"], "delivered", "{n}");
    assert_eq!(n["payload"]["bulkPaymentId"], "DEMO-BULK-1");
    assert_eq!(n["payload"]["balance"], "1000.00");
    trigger(
        &app,
        "platform.binding.approved",
        json!({"bindId": "B0001"}),
    )
    .await;
    let pay =
        json!({"paymentId": "P0001", "shopId": "1686214", "amount": "100.00", "currency": "USD"});
    let (code, detail, _) = platform_call(&app, "paymentApply", &pay).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    app.advance(4.0).await;
    let (_, _, q) = platform_call(&app, "paymentQuery", &json!({"paymentId": "P0001"})).await;
    assert_eq!(q["status"], "PROCESSING", "settles after 5 s, not before");
    app.advance(1.0).await;
    let n = app
        .wait_notification("apiCode=paymentApplyNotify&businessId=payment:P0001")
        .await;
    assert_eq!(n["payload"]["status"], "SUCCESS", "{n}");
    let (_, _, bal) = platform_call(&app, "balanceQuery", &json!({"currency": "USD"})).await;
    assert_eq!(bal["balances"][0]["availableAmount"], "900.00", "{bal}");
    app.advance(10.0 * 60.0 - 10.0).await;
    let (_, _, q) = platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B0002"})).await;
    assert_eq!(q["status"], "FAILURE", "the 10-minute link expired: {q}");
    assert!(
        q["reason"].as_str().unwrap_or("").contains("expired"),
        "{q}"
    );
    app.assert_invariants().await;
    app.shutdown().await;
}

async fn share(app: &TestApp, m: &Merchant, no: &str, amount: &str) -> Value {
    m.ok(
        app,
        "revenue-sharing/request",
        &json!({"requestNo": no, "currency": "USD", "sellerId": "SELLER-123456", "amount": amount}),
    )
    .await
}

fn hook_statuses(hooks: &HookReceiver) -> Vec<String> {
    hooks
        .hooks()
        .iter()
        .filter_map(|h| {
            h.data
                .as_ref()
                .and_then(|d| d["status"].as_str())
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn infinia_seller_lifecycle_binds_shares_freezes_and_resumes() {
    let app = spawn_with(Setup {
        config: Some(SFTP_CONFIG.to_owned()),
        scenario_files: vec![shipped("infinia-seller-lifecycle")],
        ..Default::default()
    })
    .await;
    let hooks = HookReceiver::start(vec![]).await;
    set_hook_url(&app, &hooks.url);
    let m = Merchant::demo();
    let bound = m
        .ok(
            &app,
            "account-binding/request",
            &binding_request("ABR-1", "SELLER-123456"),
        )
        .await;
    assert_eq!(bound["bindingStatus"], "PENDING");
    app.advance(29.0).await;
    let q = m
        .ok(
            &app,
            "account-binding/query",
            &json!({"requestNo": "ABR-1"}),
        )
        .await;
    assert_eq!(q["bindingStatus"], "PENDING", "{q}");
    app.advance(1.0).await;
    let q = m
        .ok(
            &app,
            "account-binding/query",
            &json!({"requestNo": "ABR-1"}),
        )
        .await;
    assert_eq!(
        q["bindingStatus"], "BOUND",
        "the seller approved at 30 s: {q}"
    );
    let dir = tempfile::tempdir().unwrap();
    let sample = repo_path("samples/infinia-trade-details.csv");
    let (ok, out) = sftp_batch(
        sftp_port(&app),
        dir.path(),
        "demo-app",
        &format!("put {sample} /upload/t.csv\n"),
    )
    .await;
    assert!(ok, "{out}");
    app.advance(10.0).await;
    let r1 = share(&app, &m, "RS-1", "45.50").await;
    assert_eq!(r1["status"], "PROCESSING");
    let r2 = share(&app, &m, "RS-2", "1.00").await;
    assert_eq!(r2["status"], "PROCESSING");
    app.advance(14.0).await;
    let q1 = m
        .ok(&app, "revenue-sharing/query", &json!({"requestNo": "RS-1"}))
        .await;
    assert_eq!(q1["status"], "PROCESSING", "settles after 15 s: {q1}");
    app.advance(1.0).await;
    let q1 = m
        .ok(&app, "revenue-sharing/query", &json!({"requestNo": "RS-1"}))
        .await;
    let q2 = m
        .ok(&app, "revenue-sharing/query", &json!({"requestNo": "RS-2"}))
        .await;
    assert_eq!(q1["status"], "SUCCESS", "the 1st sharing succeeds: {q1}");
    assert_eq!(q2["status"], "FAILED", "the 2nd sharing fails: {q2}");
    assert!(
        q2.to_string().contains("beneficiary account closed"),
        "{q2}"
    );
    let b = m
        .ok(&app, "account-balance/query", &json!({"currency": "USD"}))
        .await;
    assert_eq!(
        b["accountBalances"][0]["pendingRevenueSharing"], "0.00",
        "{b}"
    );
    let ruled = decided_by(&app, "infinia", "the second revenue sharing fails").await;
    assert_eq!(ruled.len(), 1);
    // At 2 min the seller is frozen: sharing is refused; at 5 min resumed.
    app.advance(120.0 - 55.0).await;
    let refused = m
        .call(&app, "revenue-sharing/request", &json!({"requestNo": "RS-X", "currency": "USD", "sellerId": "SELLER-123456", "amount": "1.00"}))
        .await;
    assert_eq!(refused.code, "SYS-002", "{}", refused.message);
    app.advance(180.0).await;
    let r3 = share(&app, &m, "RS-3", "1.00").await;
    assert_eq!(r3["status"], "PROCESSING");
    app.advance(15.0).await;
    let q3 = m
        .ok(&app, "revenue-sharing/query", &json!({"requestNo": "RS-3"}))
        .await;
    assert_eq!(q3["status"], "SUCCESS", "{q3}");
    let ok_hooks = crate::infinia::support::eventually(|| hook_statuses(&hooks).len() >= 3).await;
    assert!(ok_hooks, "{:?}", hook_statuses(&hooks));
    assert_eq!(hook_statuses(&hooks), ["ACTIVE", "FROZEN", "ACTIVE"]);
    assert!(hooks.hooks().iter().all(|h| h.signature_ok));
    app.assert_invariants().await;
    app.shutdown().await;
}
