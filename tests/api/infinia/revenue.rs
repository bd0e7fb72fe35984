//! Revenue: trade details earn sellers revenue; revenue sharing moves platform money to bound,
//! active sellers, never beyond what they may receive or what the platform holds; idempotent on
//! requestNo; PROCESSING → SUCCESS after the delay, or money back on FAILED. Ledger invariant.

use serde_json::json;
use whalet_sim::store::{Provider, TenantId};

use super::support::{
    assert_no_nulls, bind, sftp_batch, sftp_port, spawn_infinia, usd_balance, Merchant,
};
use crate::helpers::{repo_path, TestApp};

const SMALL_APP: &str = "[[infinia.apps]]\napp_id = \"small-app\"\nmerchant_public_key = \"@keys/demo-infinia-merchant/public.pem\"\nsftp_authorized_keys = [\"@keys/demo-infinia-merchant/sftp_ed25519.pub\"]\nopening_balances = { USD = \"120.00\" }\n";

async fn small_app() -> (TestApp, Merchant) {
    let app = spawn_infinia(SMALL_APP).await;
    let mut m = Merchant::demo();
    m.app_id = "small-app".into();
    let dir = tempfile::tempdir().unwrap();
    let sample = repo_path("samples/infinia-trade-details.csv");
    let (ok, out) = sftp_batch(
        sftp_port(&app),
        dir.path(),
        "small-app",
        &format!("put {sample} /upload/day1.csv\n"),
    )
    .await;
    assert!(ok, "{out}");
    app.advance(5.0).await;
    (app, m)
}

async fn share(
    app: &TestApp,
    m: &Merchant,
    no: &str,
    seller: &str,
    amount: &str,
) -> whalet_sim::wire::infinia::OpenedReply {
    m.call(app, "revenue-sharing/request", &json!({"requestNo": no, "currency": "USD", "shareDetails": [{"sellerId": seller, "amount": amount}]})).await
}

async fn available(app: &TestApp, m: &Merchant, seller: &str) -> String {
    let r = m
        .ok(
            app,
            "available-revenue/query",
            &json!({"sellerId": seller, "currency": "USD"}),
        )
        .await;
    r["revenues"][0]["availableAmount"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn revenue_sharing_is_bounded_by_revenue_and_balance_and_idempotent() {
    let (app, m) = small_app().await;
    bind(&app, &m, "SELLER-123456").await;
    assert_eq!(available(&app, &m, "SELLER-123456").await, "145.50");
    assert_eq!(
        usd_balance(&app, &m).await,
        ("120.00".into(), "0.00".into())
    );

    let r = share(&app, &m, "RS-0", "SELLER-123456", "145.51").await;
    assert_eq!(r.code, "SYS-006");
    assert!(
        r.message
            .contains("exceeds the seller's available revenue share of 145.50 USD"),
        "{}",
        r.message
    );
    let r = share(&app, &m, "RS-0", "SELLER-654321", "1.00").await;
    assert_eq!(r.code, "SYS-002");
    assert!(r.message.contains("not bound"), "{}", r.message);

    let first = share(&app, &m, "RS-1", "SELLER-123456", "100.00").await;
    assert_eq!(first.code, "SUC-200", "{}", first.message);
    let processing = first.data.as_ref().unwrap();
    assert_eq!(processing["status"], "PROCESSING");
    // Not finished, no reason: "" (every field is a string, never null).
    assert_eq!(
        (
            processing["reason"].as_str(),
            processing["finishTime"].as_str()
        ),
        (Some(""), Some(""))
    );
    assert_no_nulls("revenue-sharing/request", processing);
    assert_eq!(
        usd_balance(&app, &m).await,
        ("20.00".into(), "100.00".into())
    );
    assert_eq!(available(&app, &m, "SELLER-123456").await, "45.50");
    // Replaying the same request changes nothing; other fields under the same requestNo: refused.
    let again = share(&app, &m, "RS-1", "SELLER-123456", "100.00").await;
    assert_eq!(again.data, first.data);
    assert_eq!(
        usd_balance(&app, &m).await,
        ("20.00".into(), "100.00".into())
    );
    assert_eq!(
        share(&app, &m, "RS-1", "SELLER-123456", "99.00").await.code,
        "SYS-002"
    );

    let r = share(&app, &m, "RS-2", "SELLER-123456", "30.00").await;
    assert_eq!(r.code, "SYS-006");
    assert!(
        r.message
            .contains("exceeds the platform account's available balance of 20.00 USD"),
        "{}",
        r.message
    );
    let (status, body) = app
        .post(
            "/__sim/trigger/infinia.platform.funded",
            &json!({"appId": "small-app", "currency": "USD", "amount": "100.00"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        share(&app, &m, "RS-2", "SELLER-123456", "30.00").await.code,
        "SUC-200"
    );

    app.advance(10.0).await;
    let q = m
        .ok(&app, "revenue-sharing/query", &json!({"requestNo": "RS-1"}))
        .await;
    assert_eq!(
        (q["status"].as_str(), q["totalAmount"].as_str()),
        (Some("SUCCESS"), Some("100.00"))
    );
    assert_eq!(q["reason"], "", "{q}");
    assert_no_nulls("revenue-sharing/query", &q);
    assert_eq!(usd_balance(&app, &m).await, ("90.00".into(), "0.00".into()));
    assert_eq!(available(&app, &m, "SELLER-123456").await, "15.50");
    let tenant = TenantId::new(Provider::Infinia, "small-app");
    let paid = app.app().store().with_tenant(&tenant, |t| {
        let usd = whalet_sim::money::Currency::parse("USD").unwrap();
        let memo = t
            .ledger
            .postings()
            .iter()
            .any(|p| p.memo == "revenue sharing RS-1 paid");
        (
            memo,
            t.ledger
                .balance("infinia:seller:SELLER-123456", usd)
                .to_decimal_string(),
        )
    });
    assert_eq!(paid, Some((true, "130.00".to_owned())));
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_failed_sharing_returns_the_money_and_frozen_sellers_receive_nothing() {
    let (app, m) = small_app().await;
    bind(&app, &m, "SELLER-123456").await;
    assert_eq!(
        share(&app, &m, "RS-F", "SELLER-123456", "50.00").await.code,
        "SUC-200"
    );
    let tenant = TenantId::new(Provider::Infinia, "small-app");
    whalet_sim::api::infinia::sharing::finish(
        app.app(),
        &tenant,
        "RS-F",
        false,
        Some("beneficiary bank closed"),
    )
    .unwrap();
    let q = m
        .ok(&app, "revenue-sharing/query", &json!({"requestNo": "RS-F"}))
        .await;
    assert_eq!(
        (q["status"].as_str(), q["reason"].as_str()),
        (Some("FAILED"), Some("beneficiary bank closed"))
    );
    assert_eq!(
        usd_balance(&app, &m).await,
        ("120.00".into(), "0.00".into())
    );
    assert_eq!(available(&app, &m, "SELLER-123456").await, "145.50");
    app.advance(10.0).await; // the scheduled completion finds it already FAILED: nothing moves
    assert_eq!(
        usd_balance(&app, &m).await,
        ("120.00".into(), "0.00".into())
    );

    let (status, _) = app
        .post(
            "/__sim/trigger/infinia.seller.frozen",
            &json!({"appId": "small-app", "sellerId": "SELLER-123456"}),
        )
        .await;
    assert_eq!(status, 200);
    let r = share(&app, &m, "RS-G", "SELLER-123456", "1.00").await;
    assert_eq!(r.code, "SYS-002");
    assert!(r.message.contains("FROZEN"), "{}", r.message);
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn share_details_and_a_single_seller_at_once_are_refused() {
    let (app, m) = small_app().await;
    bind(&app, &m, "SELLER-123456").await;
    let both = json!({
        "requestNo": "RS11", "currency": "USD", "sellerId": "SELLER-123456", "amount": "1.00",
        "shareDetails": [{"sellerId": "SELLER-123456", "amount": "2.00"}],
    });
    let r = m.call(&app, "revenue-sharing/request", &both).await;
    assert_eq!(r.code, "SYS-002", "{}", r.message);
    assert!(
        r.message.contains("not both") && r.message.contains("remove sellerId and amount"),
        "{}",
        r.message
    );
    let mut amount_only = both.clone();
    amount_only.as_object_mut().unwrap().remove("sellerId");
    let r = m.call(&app, "revenue-sharing/request", &amount_only).await;
    assert_eq!(r.code, "SYS-002", "{}", r.message);
    assert!(r.message.contains("remove amount or"), "{}", r.message);
    // Nothing was reserved and the requestNo is still free.
    assert_eq!(
        usd_balance(&app, &m).await,
        ("120.00".into(), "0.00".into())
    );
    let q = m
        .call(&app, "revenue-sharing/query", &json!({"requestNo": "RS11"}))
        .await;
    assert_eq!(q.code, "SYS-002", "{}", q.message);
    app.shutdown().await;
}

/// A total over the largest amount the simulator moves (10^15 minor units) is refused as out of
/// range, naming the total, before the ledger is asked (it once answered SYS-003); a total within
/// it but over the balance is refused naming the balance. Nothing is reserved either way.
#[tokio::test]
async fn a_total_over_the_largest_amount_or_the_balance_is_sys_006() {
    let app = spawn_infinia("").await;
    let m = Merchant::demo();
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    for seller in ["BIG-1", "BIG-2"] {
        bind(&app, &m, seller).await;
    }
    // Revenue to match, as if uploaded: each seller may receive the amounts below.
    app.app()
        .store()
        .with_tenant(&tenant, |t| {
            for seller in ["BIG-1", "BIG-2"] {
                let earned = t.infinia.earned.entry(seller.into()).or_default();
                earned.insert("USD".into(), 900_000_000_000_000);
            }
        })
        .unwrap();
    let two = |amount: &str| {
        json!({"requestNo": "RS-BIG", "currency": "USD", "shareDetails": [
            {"sellerId": "BIG-1", "amount": amount}, {"sellerId": "BIG-2", "amount": amount}]})
    };
    let r = m
        .call(&app, "revenue-sharing/request", &two("9000000000000.00"))
        .await;
    assert_eq!(r.code, "SYS-006", "{}", r.message);
    assert!(
        r.message
            .contains("add up to 18000000000000.00 USD, more than the largest amount")
            && r.message.contains("10000000000000.00 USD"),
        "{}",
        r.message
    );
    let r = m
        .call(&app, "revenue-sharing/request", &two("60000.00"))
        .await;
    assert_eq!(r.code, "SYS-006", "{}", r.message);
    assert!(
        r.message.contains(
            "the total 120000.00 USD exceeds the platform account's available balance of 100000.00 USD"
        ),
        "{}",
        r.message
    );
    assert_eq!(
        usd_balance(&app, &m).await,
        ("100000.00".into(), "0.00".into())
    );
    let q = m
        .call(
            &app,
            "revenue-sharing/query",
            &json!({"requestNo": "RS-BIG"}),
        )
        .await;
    assert_eq!(q.code, "SYS-002", "{}", q.message);
    app.assert_invariants().await;
    app.shutdown().await;
}

/// A shareDetails entry that is not an object is a value of the wrong type (SYS-005) naming the
/// entry, not a missing sellerId; an empty `sellerId` beside shareDetails counts as absent, as an
/// empty field does everywhere in this API.
#[tokio::test]
async fn a_share_entry_must_be_an_object_and_an_empty_single_field_is_absent() {
    let (app, m) = small_app().await;
    bind(&app, &m, "SELLER-123456").await;
    for (entry, kind) in [
        (json!("x"), "string"),
        (json!(null), "null"),
        (json!(123), "number"),
        (json!([]), "array"),
    ] {
        let data = json!({"requestNo": "RS-E", "currency": "USD",
                          "shareDetails": [{"sellerId": "SELLER-123456", "amount": "1.00"}, entry]});
        let r = m.call(&app, "revenue-sharing/request", &data).await;
        assert_eq!(r.code, "SYS-005", "{entry}: {}", r.message);
        assert!(
            r.message
                .contains("shareDetails[1] must be an object {sellerId, amount}")
                && r.message.contains(kind),
            "{entry}: {}",
            r.message
        );
    }
    let data = json!({"requestNo": "RS-E", "currency": "USD", "sellerId": "", "amount": null,
                      "shareDetails": [{"sellerId": "SELLER-123456", "amount": "1.00"}]});
    let reply = m.ok(&app, "revenue-sharing/request", &data).await;
    assert_eq!(reply["totalAmount"], "1.00");
    app.shutdown().await;
}

/// Regression: a retry was compared with the first request as raw JSON, so the same sharing
/// sent again with its amount written as the reply echoes it (`1.000` then `1.00`), with a
/// `null` or empty `note`, with a field the operation does not read, or in the single form was
/// refused SYS-002. The same fields as read are the same request: the current state answers and
/// nothing more is reserved; an amount that reads differently is still SYS-002, naming the field.
#[tokio::test]
async fn a_sharing_retried_with_the_same_fields_as_read_answers_its_state() {
    let (app, m) = small_app().await;
    bind(&app, &m, "SELLER-123456").await;
    let entry = |amount: &str| json!([{"sellerId": "SELLER-123456", "amount": amount}]);
    let first = json!({"requestNo": "RS-R", "currency": "USD", "shareDetails": entry("1.000")});
    let reply = m.ok(&app, "revenue-sharing/request", &first).await;
    assert_eq!(reply["shareDetails"], entry("1.00"), "{reply}");
    let retries = [
        json!({"requestNo": "RS-R", "currency": "USD", "shareDetails": entry("1.00")}),
        json!({"requestNo": "RS-R", "currency": "USD", "shareDetails": entry("1")}),
        json!({"requestNo": "RS-R", "currency": "USD", "shareDetails": entry("1.00"), "note": null}),
        json!({"requestNo": "RS-R", "currency": "USD", "shareDetails": entry("1.00"), "note": ""}),
        json!({"requestNo": "RS-R", "currency": "USD", "shareDetails": entry("1.00"), "channel": "web"}),
        json!({"requestNo": "RS-R", "currency": "USD", "sellerId": "SELLER-123456", "amount": "1.0"}),
    ];
    for retry in retries {
        let again = m.call(&app, "revenue-sharing/request", &retry).await;
        assert_eq!(again.code, "SUC-200", "{retry}: {}", again.message);
        assert_eq!(again.data.as_ref(), Some(&reply), "{retry}");
    }
    assert_eq!(
        usd_balance(&app, &m).await,
        ("119.00".into(), "1.00".into())
    );
    let other = json!({"requestNo": "RS-R", "currency": "USD", "shareDetails": entry("1.01")});
    let r = m.call(&app, "revenue-sharing/request", &other).await;
    assert_eq!(r.code, "SYS-002", "{}", r.message);
    assert!(
        r.message
            .contains("with other fields (shareDetails not as before)"),
        "{}",
        r.message
    );
    assert_eq!(
        usd_balance(&app, &m).await,
        ("119.00".into(), "1.00".into())
    );
    app.assert_invariants().await;
    app.shutdown().await;
}

/// Regression (t54b F1): `"shareDetails": ""` was refused SYS-005 as a value of the wrong type,
/// although an empty string counts as not given everywhere in this API: beside the single form
/// it is that form (and a retry of an accepted sharing written so is its replay), alone it is
/// the missing seller (SYS-004). A string that is not empty is still the wrong type.
#[tokio::test]
async fn an_empty_share_details_string_counts_as_not_given() {
    let (app, m) = small_app().await;
    bind(&app, &m, "SELLER-123456").await;
    let single = |details: serde_json::Value| {
        json!({"requestNo": "RS-EMPTY", "currency": "USD", "shareDetails": details,
               "sellerId": "SELLER-123456", "amount": "1.00"})
    };
    let first = m
        .ok(&app, "revenue-sharing/request", &single(json!(null)))
        .await;
    let before = available(&app, &m, "SELLER-123456").await;
    for details in [json!(""), json!("  ")] {
        let again = m
            .ok(&app, "revenue-sharing/request", &single(details.clone()))
            .await;
        assert_eq!(again["totalAmount"], first["totalAmount"], "{details}");
        assert_eq!(again["status"], first["status"], "{details}");
    }
    assert_eq!(available(&app, &m, "SELLER-123456").await, before);
    let alone = json!({"requestNo": "RS-NONE", "currency": "USD", "shareDetails": ""});
    let r = m.call(&app, "revenue-sharing/request", &alone).await;
    assert_eq!(r.code, "SYS-004", "{}", r.message);
    assert!(r.message.contains("give shareDetails"), "{}", r.message);
    let wrong = json!({"requestNo": "RS-WRONG", "currency": "USD", "shareDetails": "x"});
    let r = m.call(&app, "revenue-sharing/request", &wrong).await;
    assert_eq!(r.code, "SYS-005", "{}", r.message);
    app.assert_invariants().await;
    app.shutdown().await;
}
