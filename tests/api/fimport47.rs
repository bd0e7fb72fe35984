//! A snapshot's Whalet objects that hold money by their state (a PROCESSING payout's frozen
//! amount, a PENDING collection's pending one, the money an open request for material froze)
//! must have it where the ledger's postings put it: an import out of step is refused, naming
//! the object, what it says and what the ledger says, and nothing changes.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::persistence::{export, import};
use crate::whalet2_support::{
    cents, collection, confirmed_payout, edd_requested, funded_user_trade, payout_succeeded,
    trade_material_requested, user_with_beneficiary,
};

const TENANT: &str = "whalet:202400000000001";

/// The tenant's exported snapshot.
async fn snapshot(app: &TestApp) -> Value {
    serde_json::from_slice(&export(app, &format!("?tenant={TENANT}")).await).unwrap()
}

/// Imports `snapshot` changed by `change` (given the tenant's state); answers the refusal's
/// text.
async fn refused(app: &TestApp, snapshot: &Value, change: impl Fn(&mut Value)) -> String {
    let mut doc = snapshot.clone();
    change(&mut doc["tenants"][TENANT]);
    let (status, body) = import(app, "", serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(status, 400, "imported: {body}");
    body["error"].as_str().unwrap_or_default().to_owned()
}

/// The tester's report: a PROCESSING payout of 10.00 USD (10.00 frozen) whose amount was edited
/// to 5000.00 was imported, its result then refused for want of money and the payout
/// PROCESSING for good; marked SUCCESS, its 10.00 stayed frozen for good. Both are refused,
/// naming the payout, what it says and what its postings put there; nothing changes, and the
/// payout then ends as usual.
#[tokio::test]
async fn an_import_whose_processing_payout_the_ledger_does_not_hold_is_refused() {
    let app = spawn_app().await;
    let (user, bid) = user_with_beneficiary(&app, "100.00", "b1", "USD").await;
    let payout = confirmed_payout(&app, &user, "p1", "10.00", &bid).await;
    let snapshot = snapshot(&app).await;
    let frozen = format!("wallet:{user}:B2C:frozen");
    let entry = format!(r#"tenants["{TENANT}"].whalet_trade.outflows["{payout}"]: "#);

    // As exported: taken.
    let (status, body) = import(&app, "", serde_json::to_vec(&snapshot).unwrap()).await;
    assert_eq!(status, 200, "{body}");

    let why = refused(&app, &snapshot, |t| {
        t["whalet_trade"]["outflows"][&payout]["amount"]["minor"] = json!(500000)
    })
    .await;
    assert!(
        why.contains(&entry)
            && why.contains(&format!("status PROCESSING puts 5000.00 USD in {frozen}"))
            && why.contains("its postings in the ledger put 10.00 USD there"),
        "{why}"
    );

    let why = refused(&app, &snapshot, |t| {
        let o = &mut t["whalet_trade"]["outflows"][&payout];
        o["status"] = json!("SUCCESS");
        o["reported_status"] = json!("SUCCESS");
    })
    .await;
    assert!(
        why.contains(&entry)
            && why.contains(&format!("status SUCCESS puts 0.00 USD in {frozen}"))
            && why.contains("its postings in the ledger put 10.00 USD there"),
        "{why}"
    );

    // Nothing changed: still 10.00 frozen, and the payout ends.
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (9000, 1000));
    payout_succeeded(&app, &payout).await;
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (9000, 0));
    app.assert_invariants().await;
    app.shutdown().await;
}

/// A PENDING collection whose amount is not what its arrival put in the pending balance, and
/// money frozen by open requests for material (an EDD with an amount, trade material about a
/// settled collection) other than what the ledger holds frozen, are refused too.
#[tokio::test]
async fn an_import_whose_pending_collection_or_frozen_request_is_out_of_step_is_refused() {
    let app = spawn_app().await;
    let (user, card, _) = funded_user_trade(&app, "USD", "100.00").await;
    let settled = collection(&app, &card, "40.00").await;
    app.advance(5.0).await;
    let trade = trade_material_requested(&app, &settled).await;
    let trade_request = trade["replenishId"].as_str().unwrap().to_owned();
    let edd = edd_requested(&app, json!({"userId": user, "amount": "20.00"})).await;
    let pending = collection(&app, &card, "7.00").await;
    assert_eq!(cents(&app, &user, "B2C", "USD").await, (8000, 6000));
    let snapshot = snapshot(&app).await;

    let (status, body) = import(&app, "", serde_json::to_vec(&snapshot).unwrap()).await;
    assert_eq!(status, 200, "as exported: {body}");

    let why = refused(&app, &snapshot, |t| {
        t["whalet"]["collections"][&pending]["amount"]["minor"] = json!(70000)
    })
    .await;
    assert!(
        why.contains(&format!(
            r#"tenants["{TENANT}"].whalet.collections["{pending}"]: status PENDING puts 700.00 USD in wallet:{user}:B2C:pending, but its postings in the ledger put 7.00 USD there"#
        )),
        "{why}"
    );

    // A request's freeze is named by the user or the collection, not the request: the
    // account's total is checked, naming the requests with money there.
    let replenishes = format!(r#"tenants["{TENANT}"].whalet_trade.replenishes: "#);
    let why = refused(&app, &snapshot, |t| {
        t["whalet_trade"]["replenishes"][&edd]["frozen"][1]["minor"] = json!(2500)
    })
    .await;
    assert!(
        why.contains(&replenishes)
            && why.contains(&format!(
                "their statuses put 65.00 USD in wallet:{user}:B2C:frozen, but the ledger's postings put 60.00 USD there"
            ))
            && why.contains(&format!(r#"["{edd}"] (WAIT_SUBMIT, 25.00 USD)"#)),
        "{why}"
    );
    let why = refused(&app, &snapshot, |t| {
        t["whalet_trade"]["replenishes"][&trade_request]["status"] = json!("SUCCESS")
    })
    .await;
    assert!(
        why.contains(&replenishes)
            && why.contains("their statuses put 20.00 USD")
            && why.contains("the ledger's postings put 60.00 USD there"),
        "{why}"
    );

    assert_eq!(cents(&app, &user, "B2C", "USD").await, (8000, 6000));
    app.assert_invariants().await;
    app.shutdown().await;
}
