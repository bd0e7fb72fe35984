//! A snapshot's Infinia state must agree with the ledger, as a Pockyt merchant's payouts and a
//! Whalet partner's objects must: a revenue sharing's total and items where its postings put
//! them (reserved while PROCESSING, paid on SUCCESS, back on FAILED), a PROCESSING sharing with
//! the timer that ends it, each seller's earned revenue and each sale's returns what the trade
//! rows say, and `opened` true once the opening balances are posted. An import out of step is
//! refused, naming the object and what the ledger holds, and nothing changes.

use serde_json::{json, Value};
use whalet_sim::store::{Provider, TenantId};

use crate::helpers::{repo_path, TestApp};
use crate::infinia::support::{bind, sftp_batch, sftp_port, spawn_infinia, Merchant};
use crate::persistence::{export, import};

const APP: &str = "[[infinia.apps]]\napp_id = \"small-app\"\nmerchant_public_key = \"@keys/demo-infinia-merchant/public.pem\"\nsftp_authorized_keys = [\"@keys/demo-infinia-merchant/sftp_ed25519.pub\"]\nopening_balances = { USD = \"120.00\" }\n";
const TENANT: &str = "infinia:small-app";
const SELLER: &str = "SELLER-123456";

/// An app whose seller SELLER-123456 earned 145.50 USD from the sample trade details (a SALE
/// returned in part, one exchanged), with a PROCESSING sharing RS-P of 10.00 USD and a sharing
/// RS-S of 10.00 USD that succeeded (both to that seller).
async fn app_with_sharings() -> (TestApp, Merchant) {
    let app = spawn_infinia(APP).await;
    let mut m = Merchant::demo();
    m.app_id = "small-app".into();
    let dir = tempfile::tempdir().unwrap();
    let sample = repo_path("samples/infinia-trade-details.csv");
    let put = format!("put {sample} /upload/day1.csv\n");
    let (ok, out) = sftp_batch(sftp_port(&app), dir.path(), "small-app", &put).await;
    assert!(ok, "{out}");
    app.advance(5.0).await;
    bind(&app, &m, SELLER).await;
    for no in ["RS-S", "RS-P"] {
        let share = json!({"requestNo": no, "currency": "USD",
                           "shareDetails": [{"sellerId": SELLER, "amount": "10.00"}]});
        let data = m.ok(&app, "revenue-sharing/request", &share).await;
        assert_eq!(data["status"], "PROCESSING", "{data}");
    }
    let tenant = TenantId::new(Provider::Infinia, "small-app");
    whalet_sim::api::infinia::sharing::finish(app.app(), &tenant, "RS-S", true, None).unwrap();
    (app, m)
}

/// The tenant's exported snapshot.
async fn snapshot(app: &TestApp) -> Value {
    serde_json::from_slice(&export(app, &format!("?tenant={TENANT}")).await).unwrap()
}

/// Imports `snapshot` changed by `change` (given the whole document); answers the refusal's
/// text.
async fn refused(app: &TestApp, snapshot: &Value, change: impl Fn(&mut Value)) -> String {
    let mut doc = snapshot.clone();
    change(&mut doc);
    let (status, body) = import(app, "", serde_json::to_vec(&doc).unwrap()).await;
    assert_eq!(status, 400, "imported: {body}");
    body["error"].as_str().unwrap_or_default().to_owned()
}

/// The app's state in a snapshot document.
fn infinia(doc: &mut Value) -> &mut Value {
    &mut doc["tenants"][TENANT]["infinia"]
}

/// `amount` (`"5.00"`) as a snapshot holds a USD amount.
fn usd(minor: i64) -> Value {
    json!({"minor": minor, "currency": "USD"})
}

async fn status_of(app: &TestApp, m: &Merchant, no: &str) -> Value {
    let q = m
        .ok(app, "revenue-sharing/query", &json!({"requestNo": no}))
        .await;
    q["status"].clone()
}

/// The tester's report: a snapshot whose Infinia state disagrees with the ledger was imported,
/// and money got stuck, paid twice or created while `GET /__sim/invariants` said ok. Each such
/// change is refused, naming the object and what the ledger holds; the state is then as before,
/// and the PROCESSING sharing still ends.
#[tokio::test]
async fn an_import_whose_infinia_state_disagrees_with_the_ledger_is_refused() {
    let (app, m) = app_with_sharings().await;
    let before = snapshot(&app).await;
    // As exported: taken (the sample's RETURN and EXCHANGE rows included).
    let (status, body) = import(&app, "", serde_json::to_vec(&before).unwrap()).await;
    assert_eq!(status, 200, "{body}");

    // (a) The PROCESSING sharing's total and items edited: its end would fail for want of
    // money, and the sharing stay PROCESSING for good.
    let why = refused(&app, &before, |d| {
        let s = &mut infinia(d)["sharings"]["RS-P"];
        s["total"] = usd(500);
        s["items"][0]["amount"] = usd(500);
    })
    .await;
    assert!(
        why.contains(r#"infinia.sharings["RS-P"]: status PROCESSING (total 5.00 USD)"#)
            && why.contains("its postings in the ledger put 10.00 USD in infinia:sharing:RS-P"),
        "{why}"
    );
    // The total alone: its items no longer add up to it.
    let why = refused(&app, &before, |d| {
        infinia(d)["sharings"]["RS-P"]["total"] = usd(2_000)
    })
    .await;
    assert!(
        why.contains(
            r#"infinia.sharings["RS-P"]: its items add up to 10.00 USD, but its total is 20.00 USD"#
        ),
        "{why}"
    );
    // An item in another currency than the total.
    let why = refused(&app, &before, |d| {
        infinia(d)["sharings"]["RS-P"]["items"][0]["amount"]["currency"] = json!("EUR")
    })
    .await;
    assert!(
        why.contains(r#"infinia.sharings["RS-P"]: items[0]: amount 10.00 EUR is not in the sharing's currency USD"#),
        "{why}"
    );

    // (b) The PROCESSING sharing without its timer: nothing would end it.
    let why = refused(&app, &before, |d| {
        let timers = d["timers"].as_array_mut().unwrap();
        let had = timers.len();
        timers.retain(|t| !(t["kind"] == "infinia.sharing.finish" && t["key"] == "RS-P"));
        assert_eq!(timers.len(), had - 1, "the snapshot holds RS-P's timer");
    })
    .await;
    assert!(
        why.contains(r#"infinia.sharings["RS-P"]: PROCESSING without the timer that ends it"#),
        "{why}"
    );

    // (c) The SUCCESS sharing marked FAILED while its seller holds its money (which the seller
    // would be offered again), and the reverse for the PROCESSING one.
    let why = refused(&app, &before, |d| {
        infinia(d)["sharings"]["RS-S"]["status"] = json!("FAILED")
    })
    .await;
    assert!(
        why.contains(r#"infinia.sharings["RS-S"]: status FAILED"#)
            && why.contains(&format!("put 10.00 USD in infinia:seller:{SELLER}")),
        "{why}"
    );
    let why = refused(&app, &before, |d| {
        infinia(d)["sharings"]["RS-P"]["status"] = json!("SUCCESS")
    })
    .await;
    assert!(
        why.contains(r#"infinia.sharings["RS-P"]: status SUCCESS"#),
        "{why}"
    );

    // (d) Earned revenue the trades did not earn, and a sale's returns forgotten.
    let why = refused(&app, &before, |d| {
        infinia(d)["earned"][SELLER]["USD"] = json!(114_550)
    })
    .await;
    assert!(
        why.contains(&format!(
            r#"infinia.earned["{SELLER}"]["USD"]: 1145.50 USD"#
        )) && why.contains("add up to 145.50 USD"),
        "{why}"
    );
    let why = refused(&app, &before, |d| {
        infinia(d)["trades"]["T20250101-0001"]["returnedMinor"] = json!(0)
    })
    .await;
    assert!(
        why.contains(r#"infinia.trades["T20250101-0001"]: returnedMinor 0"#)
            && why.contains("(T20250101-0003) took 60.00 USD"),
        "{why}"
    );

    // (e) `opened` false with the opening balances posted: they would be posted again.
    let why = refused(&app, &before, |d| infinia(d)["opened"] = json!(false)).await;
    assert!(
        why.contains("infinia.opened: false, but the ledger already holds the opening balances"),
        "{why}"
    );

    // Nothing changed by the refusals; the PROCESSING sharing still ends.
    assert_eq!(snapshot(&app).await["tenants"], before["tenants"]);
    assert_eq!(status_of(&app, &m, "RS-S").await, "SUCCESS");
    assert_eq!(status_of(&app, &m, "RS-P").await, "PROCESSING");
    app.advance(10.0).await;
    assert_eq!(status_of(&app, &m, "RS-P").await, "SUCCESS");
    app.assert_invariants().await;
    app.shutdown().await;
}
