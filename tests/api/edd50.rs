//! A payout held for EDD ends with its `payoutResultNotify` only after the EDD's own
//! `eddReplenishResultNotify` has been delivered, whether the EDD was rejected (the payout fails
//! at once) or approved (the payout ends after its delay), also when the partner refuses the
//! EDD's notification first.

use serde_json::Value;
use whalet_sim::partner::receiver::{Mode, Received};

use crate::helpers::TestApp;
use crate::whalet2_support::{
    confirmed_payout, edd_asked_for_payout, spawn_scenario, submit_edd_file, user_with_beneficiary,
};

/// The ledger's one notification with `api_code` about `field` = `id`.
async fn ledger_entry(app: &TestApp, api_code: &str, field: &str, id: &str) -> Value {
    let list = app
        .get_json(&format!("/__sim/notifications?apiCode={api_code}"))
        .await;
    let found: Vec<Value> = list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["payload"][field] == id)
        .cloned()
        .collect();
    assert_eq!(found.len(), 1, "{api_code} about {id}: {found:?}");
    found[0].clone()
}

/// Where the receiver first got notification `n` (any attempt), and where it acknowledged it.
fn heard(got: &[Received], n: &Value) -> (usize, usize) {
    let mine = |r: &&Received| r.request_no == n["requestNo"];
    let first = got.iter().position(|r| mine(&r)).expect("received");
    let acked = got
        .iter()
        .position(|r| mine(&r) && (200..300).contains(&r.answered))
        .expect("acknowledged");
    (first, acked)
}

/// A payout held for EDD whose material (with `memo`) is submitted, the receiver then refusing
/// the first `fail_first` attempts of every notification; the scenario decides the material
/// 30 s later. Returns the payoutId and the replenishId once `seconds` more have passed.
async fn decided(app: &TestApp, memo: &str, fail_first: u32, seconds: f64) -> (String, String) {
    let (user, bid) = user_with_beneficiary(app, "100", "sup-1", "USD").await;
    let payout_id = confirmed_payout(app, &user, "p-1", "40", &bid).await;
    let ask = edd_asked_for_payout(app, &payout_id).await;
    let rid = ask["replenishId"].as_str().unwrap().to_owned();
    submit_edd_file(app, &user, &rid, "statement.pdf", b"%PDF", Some(memo)).await;
    app.receiver.set_mode(Mode::Ack { fail_first });
    for _ in 0..(seconds as u32) {
        app.advance(1.0).await;
    }
    (payout_id, rid)
}

/// Both notifications are delivered, the payout's first attempt after the EDD's acknowledgement.
async fn assert_payout_heard_after_edd(app: &TestApp, payout_id: &str, rid: &str, status: &str) {
    let edd = ledger_entry(app, "eddReplenishResultNotify", "replenishId", rid).await;
    let payout = ledger_entry(app, "payoutResultNotify", "payoutId", payout_id).await;
    assert_eq!(edd["status"], "delivered", "{edd}");
    assert_eq!(payout["status"], "delivered", "{payout}");
    assert_eq!(payout["payload"]["status"], status, "{payout}");
    assert_eq!(payout["businessId"], payout_id, "its own object: {payout}");
    let got = app.receiver.received();
    let (_, edd_acked) = heard(&got, &edd);
    let (payout_first, _) = heard(&got, &payout);
    assert!(
        payout_first > edd_acked,
        "the partner hears of the payout only after the EDD: edd {edd}, payout {payout}"
    );
}

/// Regression: the rejection failed the payout at once and both notifications went out side by
/// side, so a partner that refused the EDD's result once heard of the payout failing (for a
/// reason it did not know yet) before it heard that its material was rejected.
#[tokio::test]
async fn a_payout_failed_by_its_rejected_edd_is_heard_of_after_the_rejection() {
    let app = spawn_scenario("scenarios/edd-requested.toml").await;
    let (payout_id, rid) = decided(&app, "reject", 1, 40.0).await;
    let payout = ledger_entry(&app, "payoutResultNotify", "payoutId", &payout_id).await;
    assert_eq!(payout["afterBusinessId"], rid.as_str(), "{payout}");
    assert_payout_heard_after_edd(&app, &payout_id, &rid, "FAILURE").await;
    app.finish().await;
}

/// The approved EDD lets the payout end 30 s later; a partner that refuses the EDD's result
/// five times (attempts at 0, 1, 3, 7 and 15 s; the sixth, at 31 s, acknowledged) still hears
/// of the EDD before the payout.
#[tokio::test]
async fn a_payout_resumed_by_its_approved_edd_is_heard_of_after_the_approval() {
    let app = spawn_scenario("scenarios/edd-requested.toml").await;
    let (payout_id, rid) = decided(&app, "as requested", 5, 150.0).await;
    assert_payout_heard_after_edd(&app, &payout_id, &rid, "SUCCESS").await;
    app.finish().await;
}
