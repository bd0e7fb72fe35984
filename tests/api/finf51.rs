//! Round 51, Infinia (report infb): a revenue sharing settles only to sellers still bound and
//! ACTIVE (a seller frozen or unbound while it is PROCESSING fails the whole sharing, its total
//! back on the platform account), and a request to a path no operation answers is 404 `SYS-002`
//! whatever its body (a malformed envelope, an unknown appId, a body over the limit).

use serde_json::{json, Value};
use whalet_sim::money::Currency;
use whalet_sim::store::{Provider, TenantId};
use whalet_sim::wire::infinia as envelope;

use crate::helpers::TestApp;
use crate::infinia::support::{bind, spawn_infinia, usd_balance, Merchant};

const FROZEN: &str = "F-FROZEN";
const ACTIVE: &str = "F-ACTIVE";

fn tenant() -> TenantId {
    TenantId::new(Provider::Infinia, "demo-app")
}

/// The demo app with `sellers` bound, each having earned 100.00 USD (as if from trade details).
async fn app_with_sellers(sellers: &[&str]) -> (TestApp, Merchant) {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    for seller in sellers {
        bind(&app, &m, seller).await;
    }
    app.app()
        .store()
        .with_tenant(&tenant(), |t| {
            for seller in sellers {
                let earned = t.infinia.earned.entry((*seller).into()).or_default();
                earned.insert("USD".into(), 10_000);
            }
        })
        .unwrap();
    (app, m)
}

/// Requests a sharing of `amount` USD to each of `sellers`; expects it PROCESSING.
async fn share(app: &TestApp, m: &Merchant, no: &str, sellers: &[&str], amount: &str) {
    let details: Vec<Value> = sellers
        .iter()
        .map(|s| json!({"sellerId": s, "amount": amount}))
        .collect();
    let data = json!({"requestNo": no, "currency": "USD", "shareDetails": details});
    let reply = m.ok(app, "revenue-sharing/request", &data).await;
    assert_eq!(reply["status"], "PROCESSING", "{reply}");
}

async fn query(app: &TestApp, m: &Merchant, no: &str) -> Value {
    m.ok(app, "revenue-sharing/query", &json!({"requestNo": no}))
        .await
}

/// A seller's ledger balance in USD, and whether the ledger holds a posting with `memo`.
fn ledger(app: &TestApp, seller: &str, memo: &str) -> (String, bool) {
    let usd = Currency::parse("USD").unwrap();
    app.app()
        .store()
        .with_tenant(&tenant(), |t| {
            (
                t.ledger
                    .balance(&format!("infinia:seller:{seller}"), usd)
                    .to_decimal_string(),
                t.ledger.postings().iter().any(|p| p.memo == memo),
            )
        })
        .unwrap()
}

/// The seller's revenue in USD: (available, shared, processing).
async fn revenue(app: &TestApp, m: &Merchant, seller: &str) -> (String, String, String) {
    let r = m
        .ok(
            app,
            "available-revenue/query",
            &json!({"sellerId": seller, "currency": "USD"}),
        )
        .await;
    let row = &r["revenues"][0];
    let s = |k: &str| row[k].as_str().unwrap().to_owned();
    (
        s("availableAmount"),
        s("sharedAmount"),
        s("processingAmount"),
    )
}

/// `data` sealed by the demo merchant, as `Merchant::call` sends it.
fn seal(m: &Merchant, data: &Value) -> Vec<u8> {
    envelope::seal_request("1.0", &m.app_id, data, &m.key, &m.infinia, m.alg)
        .unwrap()
        .to_json()
}

async fn notifications(app: &TestApp) -> usize {
    let all = app.get_json("/__sim/notifications").await;
    all["notifications"].as_array().map_or(0, Vec::len)
}

async fn trigger(app: &TestApp, name: &str, seller: &str) {
    let (status, body) = app
        .post(
            &format!("/__sim/trigger/{name}"),
            &json!({"sellerId": seller}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The tester's report: a sharing still PROCESSING was paid to a seller frozen meanwhile, though
/// a new sharing to that seller is refused because "a frozen seller cannot receive revenue
/// sharing". Now the sharing settles FAILED, all or nothing as its request is (the ACTIVE seller
/// beside the frozen one is not paid either), its whole total back on the platform account,
/// `reason` naming the seller and its status; like a sharing a scenario fails, it sends no
/// notification, and the ledger still balances. A seller frozen and resumed before the
/// settlement is paid: the standing that counts is the one at settlement.
#[tokio::test]
async fn a_sharing_to_a_seller_frozen_while_it_is_processing_fails_and_returns_the_money() {
    let (app, m) = app_with_sellers(&[FROZEN, ACTIVE]).await;
    share(&app, &m, "RS-FZ", &[ACTIVE, FROZEN], "5.00").await;
    share(&app, &m, "RS-OK", &[FROZEN], "1.00").await;
    assert_eq!(
        usd_balance(&app, &m).await,
        ("99989.00".into(), "11.00".into())
    );
    trigger(&app, "infinia.seller.frozen", FROZEN).await;
    let refused = m
        .call(
            &app,
            "revenue-sharing/request",
            &json!({"requestNo": "RS-NEW", "currency": "USD", "sellerId": FROZEN, "amount": "1.00"}),
        )
        .await;
    assert_eq!(refused.code, "SYS-002", "{}", refused.message);
    let sent = notifications(&app).await;

    app.advance(10.0).await;
    let q = query(&app, &m, "RS-FZ").await;
    assert_eq!(q["status"], "FAILED", "{q}");
    let reason = q["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "seller \"{FROZEN}\" is FROZEN when the sharing settled"
        )) && reason.contains("the total 10.00 USD went back to the platform account")
            && !reason.contains(ACTIVE),
        "{reason}"
    );
    assert_ne!(q["finishTime"], "", "{q}");
    // RS-OK settles at the same instant: FAILED too (its one seller is frozen).
    assert_eq!(query(&app, &m, "RS-OK").await["status"], "FAILED");
    // Nothing reached either seller; the platform has its money back.
    assert_eq!(
        usd_balance(&app, &m).await,
        ("100000.00".into(), "0.00".into())
    );
    for seller in [FROZEN, ACTIVE] {
        assert_eq!(
            ledger(&app, seller, "revenue sharing RS-FZ returned"),
            ("0.00".into(), true),
            "{seller}"
        );
        assert_eq!(
            revenue(&app, &m, seller).await,
            ("100.00".into(), "0.00".into(), "0.00".into()),
            "{seller}"
        );
    }
    assert_eq!(
        notifications(&app).await,
        sent,
        "a failed sharing notifies nobody"
    );
    app.assert_invariants().await;

    // Frozen and resumed again before its settlement, the seller is paid.
    trigger(&app, "infinia.seller.resumed", FROZEN).await;
    share(&app, &m, "RS-RES", &[FROZEN], "2.00").await;
    trigger(&app, "infinia.seller.frozen", FROZEN).await;
    trigger(&app, "infinia.seller.resumed", FROZEN).await;
    app.advance(10.0).await;
    let q = query(&app, &m, "RS-RES").await;
    assert_eq!(
        (q["status"].as_str(), q["reason"].as_str()),
        (Some("SUCCESS"), Some(""))
    );
    assert_eq!(
        ledger(&app, FROZEN, "revenue sharing RS-RES paid"),
        ("2.00".into(), true)
    );
    app.assert_invariants().await;
    app.shutdown().await;
}

/// A seller no longer bound when the sharing settles (no unbind operation exists, but an imported
/// snapshot, or a state edited by hand, can hold a PROCESSING sharing to a seller without a BOUND
/// binding) is not paid either: FAILED, naming the seller, the money back. A sharing a scenario
/// fails keeps the scenario's reason, even to a frozen seller.
#[tokio::test]
async fn a_sharing_to_a_seller_no_longer_bound_fails_and_a_scenario_reason_stands() {
    let (app, m) = app_with_sellers(&[FROZEN, ACTIVE]).await;
    share(&app, &m, "RS-UB", &[ACTIVE], "3.00").await;
    share(&app, &m, "RS-SC", &[FROZEN], "4.00").await;
    app.app()
        .store()
        .with_tenant(&tenant(), |t| {
            t.infinia.bindings.retain(|_, b| b.seller_id != ACTIVE);
            t.infinia.sellers.remove(ACTIVE);
        })
        .unwrap();
    trigger(&app, "infinia.seller.frozen", FROZEN).await;
    whalet_sim::api::infinia::sharing::finish(
        app.app(),
        &tenant(),
        "RS-SC",
        false,
        Some("beneficiary account closed"),
    )
    .unwrap();
    let q = query(&app, &m, "RS-SC").await;
    assert_eq!(
        (q["status"].as_str(), q["reason"].as_str()),
        (Some("FAILED"), Some("beneficiary account closed"))
    );
    app.advance(10.0).await;
    let q = query(&app, &m, "RS-UB").await;
    assert_eq!(q["status"], "FAILED", "{q}");
    let reason = q["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "seller \"{ACTIVE}\" is no longer bound to this app"
        )),
        "{reason}"
    );
    assert_eq!(
        ledger(&app, ACTIVE, "revenue sharing RS-UB returned"),
        ("0.00".into(), true)
    );
    assert_eq!(
        usd_balance(&app, &m).await,
        ("100000.00".into(), "0.00".into())
    );
    app.assert_invariants().await;
    app.shutdown().await;
}

/// The tester's report: `POST /api/v1/nope` answered HTTP 200 with the envelope's problem
/// (`{}`: "version is missing") or the unknown appId's, so a partner with a path typo and an
/// envelope problem never learnt of the path. The path is checked first: an unknown path is
/// 404 `SYS-002` naming it and the operations, whatever the body (not JSON, a malformed
/// envelope, an unknown appId, one over the body limit); the refusal echoes the appId as far
/// as it was read. A known path still reports the envelope's problem, HTTP 200.
#[tokio::test]
async fn an_unknown_path_is_404_whatever_the_body() {
    let app = spawn_infinia("body_limit_bytes = 4096\n").await;
    let m = Merchant::demo();
    let seal = |app_id: &str| {
        envelope::seal_request("1.0", app_id, &json!({}), &m.key, &m.infinia, m.alg)
            .unwrap()
            .to_json()
    };
    let bodies: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty object", b"{}".to_vec(), ""),
        ("not JSON", b"{not json".to_vec(), ""),
        ("empty", Vec::new(), ""),
        ("unknown appId", seal("zz"), "zz"),
        (
            "bad envelope",
            br#"{"appId":"demo-app","version":"1.0"}"#.to_vec(),
            "demo-app",
        ),
        ("over the limit", vec![b' '; 5000], ""),
        ("good", seal("demo-app"), "demo-app"),
    ];
    for (what, body, app_id) in bodies {
        let (status, text) = app.post_raw("/api/v1/nope", "application/json", body).await;
        let r: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(
            (status, r["code"].as_str()),
            (404, Some("SYS-002")),
            "{what}: {text}"
        );
        let message = r["message"].as_str().unwrap();
        assert!(
            message.starts_with("no operation at /api/v1/nope;")
                && message.contains("/api/v1/account-balance/query"),
            "{what}: {message}"
        );
        assert_eq!(r["appId"], app_id, "{what}: {text}");
    }
    // At a known path the envelope's problems are still the answer, HTTP 200.
    let (status, text) = app
        .post_raw(
            "/api/v1/account-balance/query",
            "application/json",
            b"{}".to_vec(),
        )
        .await;
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (status, r["code"].as_str()),
        (200, Some("SYS-004")),
        "{text}"
    );
    let (status, text) = app
        .post_raw(
            "/api/v1/account-balance/query",
            "application/json",
            seal("zz"),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("no app with appId"), "{text}");
    app.shutdown().await;
}

/// Slashes the route table drops on every HTTP surface (Whalet, whalet-platform, Infinia): a
/// trailing one or a doubled one reaches the operation, journaled under its canonical path.
#[tokio::test]
async fn empty_path_segments_reach_the_operation() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    for path in [
        "/api/v1/account-balance/query/",
        "/api/v1//account-balance/query",
        "/api/v1/account-balance//query",
    ] {
        let (status, text) = app
            .post_raw(
                path,
                "application/json",
                seal(&m, &json!({"currency": "USD"})),
            )
            .await;
        assert_eq!(status, 200, "{path}: {text}");
        let reply = envelope::open_reply(text.as_bytes(), &m.key, &m.infinia, m.alg).unwrap();
        assert_eq!(reply.code, "SUC-200", "{path}: {}", reply.message);
    }
    let journal = app.get_json("/__sim/requests?surface=infinia").await;
    let served = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["operation"] == "account-balance/query")
        .count();
    assert_eq!(served, 3, "{journal}");
    app.shutdown().await;
}
