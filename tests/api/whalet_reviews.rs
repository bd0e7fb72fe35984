//! Reviews that do not end in approval, decided through triggers (as a scenario timeline or the
//! dashboard would): onboarding asking for material and the re-submission, rejected holders and
//! holder bank accounts, accounts the bank refuses, shops the marketplace refuses, returned
//! collections and refused cancellations.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::whalet_support::*;

#[tokio::test]
async fn a_rejected_onboarding_with_re_material_can_be_resubmitted() {
    let app = spawn_app().await;
    let user_id = apply_user(&app, "m-re").await;
    app.advance(20.0).await;
    let result = trigger(
        &app,
        "whalet.onboarding.rejected",
        json!({"userId": user_id,
        "message": "licence unreadable", "reMaterial": "Y", "materialType": "Reject"}),
    )
    .await;
    assert_eq!(result["status"], "FAILURE");
    app.advance(1.0).await;
    assert_eq!(
        received(&app, "userOnboardingResultNotify"),
        vec![
            json!({"userId": user_id, "status": "FAILURE", "message": "licence unreadable",
                    "reMaterial": "Y", "materialType": "Reject"})
        ]
    );
    // The original 60 s review finds the user decided and does nothing.
    app.advance(60.0).await;
    assert_eq!(received(&app, "userOnboardingResultNotify").len(), 1);
    refused(
        &app,
        "cardHolderApply",
        holder(&user_id, "h"),
        "FAILURE",
        "has not passed onboarding (status FAILURE)",
    )
    .await;

    // Re-submission: same outUserId, corrected material, same userId.
    let mut corrected = onboarding("m-re", "Example Trading");
    corrected["attaches"] = json!([{"fileId": "202501010000000000000001", "fileName": "licence.pdf", "fileUrl": "https://example.com/l.pdf"}]);
    let again = expect(&app, "userOnboardingApply", corrected, "PROCESSING").await;
    assert_eq!(again["userId"], user_id.as_str());
    app.advance(60.0).await;
    let results = received(&app, "userOnboardingResultNotify");
    assert_eq!(results.len(), 2);
    assert_eq!(results[1]["status"], "SUCCESS");
    assert_eq!(results[1]["reMaterial"], "N");
    approved_holder(&app, &user_id, "h").await;
    app.assert_invariants().await;
    app.shutdown().await;
}

/// `reMaterial` is a flag: a value other than Y or N is refused (422), not read as N (which would
/// close the user for good), and the user stays under review.
#[tokio::test]
async fn a_rejection_trigger_refuses_a_re_material_that_is_not_y_or_n() {
    let app = spawn_app().await;
    let user_id = apply_user(&app, "m-flag").await;
    let before = business_state(&app).await;
    for bad in ["yes", "y", "NO"] {
        let (status, body) = app
            .post(
                "/__sim/trigger/whalet.onboarding.rejected",
                &json!({"userId": user_id, "reMaterial": bad}),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(
            body["error"],
            format!(
                "whalet.onboarding.rejected: parameter reMaterial must be \"Y\" or \"N\", got \"{bad}\""
            )
        );
    }
    assert_eq!(business_state(&app).await, before, "nothing decided");
    let result = trigger(
        &app,
        "whalet.onboarding.rejected",
        json!({"userId": user_id, "reMaterial": "Y"}),
    )
    .await;
    assert_eq!(result["reMaterial"], "Y");
    app.shutdown().await;
}

#[tokio::test]
async fn a_rejection_without_re_material_is_final() {
    let app = spawn_app().await;
    let user_id = apply_user(&app, "m-final").await;
    trigger(
        &app,
        "whalet.onboarding.rejected",
        json!({"userId": user_id, "message": "sanctioned"}),
    )
    .await;
    let n = received_about(&app, "userOnboardingResultNotify", "userId", &user_id).await;
    assert_eq!(n["reMaterial"], "N");
    refused(
        &app,
        "userOnboardingApply",
        onboarding("m-final", "Another Name"),
        "IDEMPOTENT_ERROR",
        "outUserId \"m-final\"",
    )
    .await;
    // Deciding twice is refused by the trigger, naming the state.
    let (status, body) = app
        .post(
            "/__sim/trigger/whalet.onboarding.approved",
            &json!({"userId": user_id}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not under review (status FAILURE)"),
        "{body}"
    );
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn rejected_holders_and_bank_accounts_block_what_depends_on_them() {
    let app = spawn_app().await;
    let user_id = onboarded_user(&app, "m-h").await;
    let body = expect(
        &app,
        "cardHolderApply",
        holder(&user_id, "h-bad"),
        "PROCESSING",
    )
    .await;
    let bad = body["holderId"].as_str().unwrap().to_owned();
    trigger(
        &app,
        "whalet.holder.rejected",
        json!({"holderId": bad, "message": "id expired"}),
    )
    .await;
    let n = received_about(&app, "cardHolderResultNotify", "holderId", &bad).await;
    assert_eq!(
        (n["status"].as_str(), n["message"].as_str()),
        (Some("FAILURE"), Some("id expired"))
    );
    refused(
        &app,
        "b2cVirtualAccountApply",
        json!({"userId": user_id, "outCardId": "c1", "holderId": bad,
        "platform": "AMAZON", "currency": "USD"}),
        "FAILURE",
        "is not approved (status FAILURE)",
    )
    .await;
    refused(&app, "cardHolderBeneficaryApply", json!({"userId": user_id, "holderId": bad, "outBeneficaryId": "b1",
        "accountName": "X", "accountNo": "123", "bankName": "Bank", "bankCountry": "CN", "currency": "CNY"}),
        "FAILURE", "is not approved").await;

    let good = approved_holder(&app, &user_id, "h-good").await;
    let applied = expect(
        &app,
        "cardHolderBeneficaryApply",
        json!({"userId": user_id, "holderId": good,
        "outBeneficaryId": "b1", "accountName": "Example Trading", "accountNo": "6222020000000001",
        "bankName": "Bank of Example", "bankCountry": "CN", "currency": "CNY"}),
        "PROCESSING",
    )
    .await;
    let ben = applied["beneficaryId"].as_str().unwrap().to_owned();
    trigger(
        &app,
        "whalet.beneficary.rejected",
        json!({"beneficaryId": ben}),
    )
    .await;
    let n = received_about(&app, "cardHolderBeneficaryNotify", "beneficaryId", &ben).await;
    assert_eq!(n["status"], "FAILURE");
    // A rejected bank account may be re-submitted under its outBeneficaryId.
    expect(
        &app,
        "cardHolderBeneficaryApply",
        json!({"userId": user_id, "holderId": good,
        "outBeneficaryId": "b1", "accountName": "Example Trading", "accountNo": "6222020000000002",
        "bankName": "Bank of Example", "bankCountry": "CN", "currency": "CNY"}),
        "PROCESSING",
    )
    .await;
    app.advance(30.0).await;
    let view = expect(
        &app,
        "cardHolderBeneficaryQuery",
        json!({"userId": user_id, "outBeneficaryId": "b1"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(view["status"], "SUCCESS");
    assert_eq!(view["accountNo"], "6222020000000002");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn refused_accounts_shops_collections_and_cancellations() {
    let app = spawn_app().await;
    let (user_id, holder_id, card) = b2c_ready(&app, "refusals", "USD").await;
    let card_id = card["cardId"].as_str().unwrap().to_owned();

    // The bank refuses a second account.
    let refused_card = apply_b2c_card(&app, &user_id, &holder_id, "c-2", "EUR").await;
    trigger(
        &app,
        "whalet.account.failed",
        json!({"cardId": refused_card, "message": "KYC mismatch"}),
    )
    .await;
    let n = received_about(&app, "virtualAccountNotify", "cardId", &refused_card).await;
    assert_eq!(n["status"], "FAILURE");
    assert!(
        n.get("accountNo").is_none(),
        "no bank details for a refused account: {n}"
    );
    refused(
        &app,
        "mockPayeeNotify",
        json!({"userId": user_id, "cardId": refused_card, "amount": "1", "currency": "EUR"}),
        "FAILURE",
        "is not active (status FAILURE)",
    )
    .await;

    // The marketplace refuses a shop.
    bind_shop(&app, &user_id, &card_id, "b-x", "S-X", "Refused").await;
    trigger(&app, "whalet.shop.rejected", json!({"bindId": "b-x"})).await;
    let n = received_about(&app, "b2cShopBindResultNotify", "bindId", "b-x").await;
    assert_eq!(
        (n["status"].as_str(), n["shopStatus"].as_str()),
        (Some("FAILURE"), Some("FAILURE"))
    );
    refused(&app, "mockPayeeNotify", json!({"userId": user_id, "cardId": card_id, "amount": "1", "currency": "USD", "shopId": "S-X"}),
        "FAILURE", "shop S-X is not bound").await;

    // A collection is returned: pending goes back to the bank, the balance never moves.
    let arrived = trigger(
        &app,
        "whalet.collection.received",
        json!({"cardId": card_id, "amount": "75.00"}),
    )
    .await;
    let trade_id = arrived["tradeId"].as_str().unwrap().to_owned();
    assert_eq!(
        balance(&app, &user_id, "B2C", "USD").await["pendingAmount"]["cent"],
        7500
    );
    trigger(
        &app,
        "whalet.collection.returned",
        json!({"tradeId": trade_id, "reason": "payer recalled"}),
    )
    .await;
    let n = received_about(&app, "collectionReceivedNotify", "tradeId", &trade_id).await;
    assert_eq!(
        (n["status"].as_str(), n["reason"].as_str()),
        (Some("FAILURE"), Some("payer recalled"))
    );
    let row = balance(&app, &user_id, "B2C", "USD").await;
    assert_eq!(
        (
            row["balance"]["cent"].as_i64(),
            row["pendingAmount"]["cent"].as_i64()
        ),
        (Some(0), Some(0))
    );

    // A cancellation the bank refuses leaves the card ACTIVE.
    expect(
        &app,
        "b2cCardCancel",
        json!({"userId": user_id, "cardId": card_id}),
        "PROCESSING",
    )
    .await;
    trigger(
        &app,
        "whalet.card.cancel_refused",
        json!({"cardId": card_id}),
    )
    .await;
    let n = received_about(&app, "b2cCardCancelResultNotify", "cardId", &card_id).await;
    assert_eq!(n["status"], "FAILURE");
    let detail = expect(
        &app,
        "b2cCardDetailQuery",
        json!({"userId": user_id, "cardId": card_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(detail["status"], "ACTIVE");
    app.advance(30.0).await;
    assert_eq!(
        received(&app, "b2cCardCancelResultNotify").len(),
        1,
        "the scheduled decision is stale"
    );
    // Asking again after a refusal is a new request, not a replay.
    expect(
        &app,
        "b2cCardCancel",
        json!({"userId": user_id, "cardId": card_id}),
        "PROCESSING",
    )
    .await;
    app.advance(10.0).await;
    let notes = received(&app, "b2cCardCancelResultNotify");
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[1]["status"], "SUCCESS");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn unbinding_a_shop() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "unbind", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    let bind = json!({"userId": user_id, "cardId": card_id, "bindId": "b-1", "operationType": "BIND",
        "shopId": "S-1", "shopName": "Shop"});
    expect(&app, "b2cShopBind", bind, "PROCESSING").await;
    app.advance(10.0).await;
    // The same shop cannot be bound twice.
    refused(
        &app,
        "b2cShopBind",
        json!({"userId": user_id, "cardId": card_id, "bindId": "b-2",
        "operationType": "ADD", "shopId": "S-1", "shopName": "Shop"}),
        "FAILURE",
        "shop S-1 is already bound",
    )
    .await;
    expect(
        &app,
        "b2cShopBind",
        json!({"userId": user_id, "cardId": card_id, "bindId": "b-1",
        "operationType": "UNBIND", "shopId": "S-1"}),
        "PROCESSING",
    )
    .await;
    app.advance(10.0).await;
    let notes = received(&app, "b2cShopBindResultNotify");
    assert_eq!(notes.len(), 2);
    assert_eq!(
        (
            notes[1]["operationType"].as_str(),
            notes[1]["shopStatus"].as_str()
        ),
        (Some("UNBIND"), Some("UNBOUND"))
    );
    let shops = expect(
        &app,
        "b2cShopQuery",
        json!({"userId": user_id, "shopId": "S-1"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(shops[0]["status"], "UNBOUND");
    assert_eq!(shops[0]["shopName"], "Shop");
    app.shutdown().await;
}

/// The payloads of every `b2cShopBindResultNotify` sent about `bind_id` (sent, whether or not
/// delivered yet), oldest first.
async fn shop_notices(app: &crate::helpers::TestApp, bind_id: &str) -> Vec<serde_json::Value> {
    let list = app
        .get_json(&format!(
            "/__sim/notifications?apiCode=b2cShopBindResultNotify&businessId={bind_id}"
        ))
        .await;
    let mut notes: Vec<_> = list["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    notes.sort_by_key(|n| n["id"].as_str().map(str::to_owned));
    notes.into_iter().map(|n| n["payload"].clone()).collect()
}

/// Checks that `b2cShopQuery` and the card's `b2cCardDetailQuery` both report the card's only
/// shop as `status`.
async fn shop_seen_as(app: &crate::helpers::TestApp, user_id: &str, card_id: &str, status: &str) {
    let shops = expect(
        app,
        "b2cShopQuery",
        json!({"userId": user_id, "cardId": card_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(shops[0]["status"], status, "b2cShopQuery: {shops}");
    let detail = expect(
        app,
        "b2cCardDetailQuery",
        json!({"userId": user_id, "cardId": card_id}),
        "SUCCESS",
    )
    .await;
    assert_eq!(
        detail["shops"][0]["status"], status,
        "b2cCardDetailQuery: {detail}"
    );
}

/// A binding waiting for the marketplace is BINDING or UNBINDING, in the reply, the shop query
/// and the card's detail alike.
#[tokio::test]
async fn a_binding_under_review_says_binding_or_unbinding() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "shop-words", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    let seen = |status| shop_seen_as(&app, &user_id, card_id, status);
    let reply = bind_shop(&app, &user_id, card_id, "b-w", "S-W", "Shop").await;
    assert_eq!(reply["status"], "BINDING");
    seen("BINDING").await;
    app.advance(10.0).await;
    seen("BOUND").await;
    let reply = expect(
        &app,
        "b2cShopBind",
        json!({"userId": user_id, "cardId": card_id, "bindId": "b-w",
        "operationType": "UNBIND", "shopId": "S-W"}),
        "PROCESSING",
    )
    .await;
    assert_eq!(reply["status"], "UNBINDING");
    seen("UNBINDING").await;
    app.advance(10.0).await;
    seen("UNBOUND").await;
    app.shutdown().await;
}

/// An unbind under review leaves the binding in force: money for the shop and its orders are
/// taken until the marketplace approves the unbind, and refused after.
#[tokio::test]
async fn a_shop_waiting_for_its_unbind_still_takes_money_and_orders() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "unbind-in-force", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    bind_shop(&app, &user_id, card_id, "b-f", "S-F", "Shop").await;
    app.advance(10.0).await;
    let unbind = json!({"userId": user_id, "cardId": card_id, "bindId": "b-f",
        "operationType": "UNBIND", "shopId": "S-F"});
    expect(&app, "b2cShopBind", unbind, "PROCESSING").await;
    let arrival = json!({"userId": user_id, "cardId": card_id, "currency": "USD",
        "amount": "1.00", "shopId": "S-F"});
    let collection = expect(&app, "mockPayeeNotify", arrival.clone(), "SUCCESS").await;
    assert_eq!(collection["status"], "PENDING", "{collection}");
    let orders = |batch: &str| {
        json!({"userId": user_id, "batchNo": batch, "shopId": "S-F", "orders": [
            {"orderNo": "o-1", "amount": "1.00", "currency": "USD", "orderTime": "2025-01-01 10:00:00"}]})
    };
    expect(
        &app,
        "shopOrderUpload",
        orders("while-unbinding"),
        "SUCCESS",
    )
    .await;
    // The marketplace approves the unbind: from then on the shop is no longer bound.
    app.advance(10.0).await;
    refused(
        &app,
        "mockPayeeNotify",
        arrival,
        "FAILURE",
        "shop S-F is not bound",
    )
    .await;
    refused(
        &app,
        "shopOrderUpload",
        orders("after-unbind"),
        "FAILURE",
        "shop S-F is not bound",
    )
    .await;
    app.shutdown().await;
}

/// An unbind the marketplace refuses leaves the shop BOUND; the same unbind asked again is a new
/// request, reviewed and notified, while a repetition before the verdict answers as the first.
#[tokio::test]
async fn a_refused_unbind_can_be_asked_again() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "unbind-again", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    bind_shop(&app, &user_id, card_id, "b-u", "S-U", "Shop").await;
    app.advance(10.0).await;
    let unbind = json!({"userId": user_id, "cardId": card_id, "bindId": "b-u",
        "operationType": "UNBIND", "shopId": "S-U"});
    let first = expect(&app, "b2cShopBind", unbind.clone(), "PROCESSING").await;
    assert_eq!(
        expect(&app, "b2cShopBind", unbind.clone(), "PROCESSING").await,
        first,
        "a replay"
    );
    // An unbind does not use shopName or shopUrl: a retry that changes them is the same request.
    let renamed = json!({"userId": user_id, "cardId": card_id, "bindId": "b-u",
        "operationType": "UNBIND", "shopId": "S-U", "shopName": "Renamed"});
    assert_eq!(
        expect(&app, "b2cShopBind", renamed, "PROCESSING").await,
        first,
        "a replay"
    );
    let other = json!({"userId": user_id, "cardId": card_id, "bindId": "b-u",
        "operationType": "UNBIND", "shopId": "S-V"});
    let reply = call(&app, "b2cShopBind", other).await;
    assert_eq!(reply.code, "IDEMPOTENT_ERROR", "{}", reply.detail);
    assert!(
        reply.detail.contains("the unbind of bindId b-u") && !reply.detail.contains("new bindId"),
        "an unbind has no other bindId to use: {}",
        reply.detail
    );
    let refusal = trigger(&app, "whalet.shop.rejected", json!({"bindId": "b-u"})).await;
    assert_eq!(
        (refusal["status"].as_str(), refusal["shopStatus"].as_str()),
        (Some("FAILURE"), Some("BOUND"))
    );
    app.advance(30.0).await;
    assert_eq!(
        shop_notices(&app, "b-u").await.len(),
        2,
        "the scheduled decision is stale"
    );

    // Asked again: a new request with its own review and notification.
    let again = expect(&app, "b2cShopBind", unbind.clone(), "PROCESSING").await;
    assert_eq!(again["status"], "UNBINDING");
    let shops = expect(
        &app,
        "b2cShopQuery",
        json!({"userId": user_id, "bindId": "b-u"}),
        "SUCCESS",
    )
    .await;
    assert_eq!(shops[0]["status"], "UNBINDING");
    app.advance(10.0).await;
    let notes = shop_notices(&app, "b-u").await;
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert_eq!(
        (notes[2]["status"].as_str(), notes[2]["shopStatus"].as_str()),
        (Some("SUCCESS"), Some("UNBOUND"))
    );
    // Once unbound, the same unbind replays its answer and reviews nothing.
    assert_eq!(
        expect(&app, "b2cShopBind", unbind, "PROCESSING").await,
        again
    );
    app.advance(30.0).await;
    assert_eq!(shop_notices(&app, "b-u").await.len(), 3);
    app.shutdown().await;
}

/// The binding as `b2cShopQuery` shows it: (status, shopName, shopUrl, operationType, message).
async fn binding_seen(
    app: &crate::helpers::TestApp,
    user_id: &str,
    bind_id: &str,
) -> (String, String, String, String, String) {
    let shops = expect(
        app,
        "b2cShopQuery",
        json!({"userId": user_id, "bindId": bind_id}),
        "SUCCESS",
    )
    .await;
    let field = |name: &str| shops[0][name].as_str().unwrap_or_default().to_owned();
    (
        field("status"),
        field("shopName"),
        field("shopUrl"),
        field("operationType"),
        field("message"),
    )
}

/// An unbind changes nothing of the binding but its status: the shop keeps its name and URL
/// (an unbind's shopName/shopUrl are not used), and `operationType` stays the last operation
/// that took effect, so a refused unbind leaves the binding exactly as it was; an approved one
/// makes it UNBIND.
#[tokio::test]
async fn a_refused_unbind_leaves_the_binding_as_it_was() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "unbind-kept", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    expect(
        &app,
        "b2cShopBind",
        json!({"userId": user_id, "cardId": card_id, "bindId": "b-k", "operationType": "BIND",
        "shopId": "S-K", "shopName": "Real Shop", "shopUrl": "https://real.example"}),
        "PROCESSING",
    )
    .await;
    app.advance(11.0).await;
    let bound = binding_seen(&app, &user_id, "b-k").await;
    assert_eq!(
        (bound.0.as_str(), bound.1.as_str(), bound.3.as_str()),
        ("BOUND", "Real Shop", "BIND")
    );
    let unbind = json!({"userId": user_id, "cardId": card_id, "bindId": "b-k",
        "operationType": "UNBIND", "shopId": "S-K", "shopName": "Renamed",
        "shopUrl": "https://other.example"});
    let reply = expect(&app, "b2cShopBind", unbind.clone(), "PROCESSING").await;
    assert_eq!(reply["operationType"], "UNBIND");
    let under_review = binding_seen(&app, &user_id, "b-k").await;
    assert_eq!(
        (
            under_review.0.as_str(),
            under_review.1.as_str(),
            under_review.2.as_str()
        ),
        ("UNBINDING", "Real Shop", "https://real.example")
    );
    let refusal = trigger(&app, "whalet.shop.rejected", json!({"bindId": "b-k"})).await;
    assert_eq!(
        (
            refusal["operationType"].as_str(),
            refusal["status"].as_str(),
            refusal["shopStatus"].as_str()
        ),
        (Some("UNBIND"), Some("FAILURE"), Some("BOUND"))
    );
    let after = binding_seen(&app, &user_id, "b-k").await;
    assert_eq!(
        (
            after.0.as_str(),
            after.1.as_str(),
            after.2.as_str(),
            after.3.as_str()
        ),
        ("BOUND", "Real Shop", "https://real.example", "BIND"),
        "a refused unbind leaves the binding as it was"
    );
    // Asked again and approved: now the binding's last operation is the unbind.
    expect(&app, "b2cShopBind", unbind, "PROCESSING").await;
    app.advance(11.0).await;
    let unbound = binding_seen(&app, &user_id, "b-k").await;
    assert_eq!(
        (unbound.0.as_str(), unbound.1.as_str(), unbound.3.as_str()),
        ("UNBOUND", "Real Shop", "UNBIND")
    );
    app.shutdown().await;
}

/// A decision's `status` word (a trigger's or a scenario's) replaces the status the decision
/// leaves in the notification and in the object's queries alike, for every reviewed object —
/// card holders, cards (opening and cancellation), shop bindings — and a refusal that names the
/// object's status names that word too.
#[tokio::test]
async fn a_decision_word_is_what_queries_and_refusals_show() {
    let app = spawn_app().await;
    let (user_id, holder_id, card) = b2c_ready(&app, "words", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();

    // A holder rejected with the word SUCCESS: the query shows it, a refusal names both.
    let h2 = expect(
        &app,
        "cardHolderApply",
        holder(&user_id, "h-words-2"),
        "PROCESSING",
    )
    .await;
    let h2 = h2["holderId"].as_str().unwrap();
    trigger(
        &app,
        "whalet.holder.rejected",
        json!({"holderId": h2, "status": "SUCCESS"}),
    )
    .await;
    let seen = expect(
        &app,
        "cardHolderQuery",
        json!({"userId": user_id, "holderId": h2}),
        "SUCCESS",
    )
    .await;
    assert_eq!(seen["status"], "SUCCESS", "{seen}");
    refused(
        &app,
        "b2cVirtualAccountApply",
        json!({"userId": user_id, "outCardId": "c-words-x", "holderId": h2,
        "platform": "AMAZON", "currency": "USD"}),
        "FAILURE",
        "is not approved (status FAILURE, reported as SUCCESS)",
    )
    .await;
    refused(
        &app,
        "cardHolderBeneficaryApply",
        json!({"userId": user_id, "holderId": h2, "outBeneficaryId": "b-words",
        "accountName": "X", "accountNo": "123", "bankName": "Bank", "bankCountry": "CN",
        "currency": "CNY"}),
        "FAILURE",
        &format!("card holder {h2} is not approved (status FAILURE, reported as SUCCESS)"),
    )
    .await;

    // A card the bank refuses with the word REJECTED.
    let refused_card = apply_b2c_card(&app, &user_id, &holder_id, "c-words-2", "USD").await;
    let note = trigger(
        &app,
        "whalet.account.failed",
        json!({"cardId": refused_card, "status": "REJECTED"}),
    )
    .await;
    assert_eq!(note["status"], "REJECTED");
    let detail = expect(
        &app,
        "b2cCardDetailQuery",
        json!({"userId": user_id, "cardId": refused_card}),
        "SUCCESS",
    )
    .await;
    assert_eq!(detail["status"], "REJECTED", "{detail}");
    refused(
        &app,
        "b2cShopBind",
        json!({"userId": user_id, "cardId": refused_card, "bindId": "b-words-x",
        "operationType": "BIND", "shopId": "S-WX", "shopName": "Shop"}),
        "FAILURE",
        "is not active (status FAILURE, reported as REJECTED)",
    )
    .await;

    // A shop binding the marketplace declines with the word DECLINED.
    bind_shop(&app, &user_id, card_id, "b-words", "S-WD", "Shop").await;
    let note = trigger(
        &app,
        "whalet.shop.rejected",
        json!({"bindId": "b-words", "status": "DECLINED"}),
    )
    .await;
    assert_eq!(
        (note["status"].as_str(), note["shopStatus"].as_str()),
        (Some("DECLINED"), Some("DECLINED"))
    );
    assert_eq!(binding_seen(&app, &user_id, "b-words").await.0, "DECLINED");

    // A cancellation the bank refuses with the word KEPT: the card is ACTIVE, reported KEPT.
    let detail = cancel_decided_with(
        &app,
        (&user_id, card_id),
        "whalet.card.cancel_refused",
        "KEPT",
    )
    .await;
    assert_eq!(detail["status"], "KEPT", "{detail}");

    // A payout beneficiary rejected with the word APPROVED.
    let payee = expect(
        &app,
        "benificiaryAccountApply",
        json!({"userId": user_id, "outBeneficiaryId": "p-words", "country": "HK",
        "currency": "USD", "accountName": "Supplier Ltd", "accountNo": "012345678901",
        "bankName": "Example Bank HK", "bankCode": "004", "swiftCode": "EXAMHKHH"}),
        "PROCESSING",
    )
    .await;
    let payee = payee["beneficiaryId"].as_str().unwrap();
    let note = trigger(
        &app,
        "whalet.beneficiary.rejected",
        json!({"beneficiaryId": payee, "status": "APPROVED"}),
    )
    .await;
    assert_eq!(note["status"], "APPROVED");
    let seen = expect(
        &app,
        "benificiaryAccountQuery",
        json!({"userId": user_id, "beneficiaryId": payee}),
        "SUCCESS",
    )
    .await;
    assert_eq!(seen[0]["status"], "APPROVED", "{seen}");
    refused(
        &app,
        "payoutApply",
        json!({"userId": user_id, "outPayoutId": "p-words", "fundSource": "B2C",
        "currency": "USD", "amount": "1.00", "beneficiaryId": payee}),
        "FAILURE",
        &format!(
            "beneficiary account {payee} is not approved (status FAILURE, reported as APPROVED)"
        ),
    )
    .await;
    app.shutdown().await;
}

/// A card being cancelled again does not show the message of the refusal before: a
/// re-submitted cancellation starts with an empty message, as re-submitted holders do.
#[tokio::test]
async fn a_cancellation_asked_again_clears_the_refusal_message() {
    let app = spawn_app().await;
    let (user_id, _, card) = b2c_ready(&app, "cancel-msg", "USD").await;
    let card_id = card["cardId"].as_str().unwrap();
    let cancel = json!({"userId": user_id, "cardId": card_id});
    expect(&app, "b2cCardCancel", cancel.clone(), "PROCESSING").await;
    trigger(
        &app,
        "whalet.card.cancel_refused",
        json!({"cardId": card_id, "message": "balance dispute"}),
    )
    .await;
    let detail = json!({"userId": user_id, "cardId": card_id});
    let seen = expect(&app, "b2cCardDetailQuery", detail.clone(), "SUCCESS").await;
    assert_eq!(
        (seen["status"].as_str(), seen["message"].as_str()),
        (Some("ACTIVE"), Some("balance dispute"))
    );
    expect(
        &app,
        "b2cCardCancel",
        json!({"userId": user_id, "cardId": card_id, "reason": "again"}),
        "PROCESSING",
    )
    .await;
    let seen = expect(&app, "b2cCardDetailQuery", detail, "SUCCESS").await;
    assert_eq!(
        (seen["status"].as_str(), seen["message"].as_str()),
        (Some("CANCELLING"), Some(""))
    );
    app.shutdown().await;
}

/// A tenant reset drops that tenant's scheduled review decisions: the same ids made again after
/// the reset are decided only by their own review, never by a decision scheduled before it.
#[tokio::test]
async fn a_tenant_reset_cancels_its_scheduled_reviews() {
    let app = spawn_app().await;
    let first = apply_user(&app, "m-reset").await;
    app.advance(30.0).await;
    let (status, body) = app
        .post("/__sim/reset", &json!({"tenant": "whalet:202400000000001"}))
        .await;
    assert_eq!(status, 200, "{body}");
    // The tenant starts over, so the same application gets the same userId.
    let again = apply_user(&app, "m-reset").await;
    assert_eq!(again, first);
    // The first review would have decided at 60 s (35 s from now); the new one decides at 90 s.
    app.advance(35.0).await;
    assert!(received(&app, "userOnboardingResultNotify").is_empty());
    app.advance(30.0).await;
    assert_eq!(received(&app, "userOnboardingResultNotify").len(), 1);
    app.shutdown().await;
}

/// The `createTime` and `updateTime` `api` shows of the one object `query` asks for (a list
/// query's only row, or the object itself).
async fn times(
    app: &crate::helpers::TestApp,
    api: &str,
    query: serde_json::Value,
) -> (String, String) {
    let view = expect(app, api, query, "SUCCESS").await;
    let row = if view.is_array() { &view[0] } else { &view };
    let text = |field: &str| row[field].as_str().unwrap_or_default().to_owned();
    (text("createTime"), text("updateTime"))
}

/// A rejected application sent again keeps its id, so it keeps its creation time: `createTime`
/// stays the first submission's while `updateTime` moves (holders, holder bank accounts and
/// payout beneficiaries alike).
#[tokio::test]
async fn a_re_submission_keeps_the_creation_time() {
    use crate::whalet2_support::now_ms;
    use whalet_sim::api::whalet::whalet_time;

    let app = spawn_app().await;
    let user_id = onboarded_user(&app, "m-created").await;
    let good = approved_holder(&app, &user_id, "h-good").await;
    let bank = |no: &str| {
        json!({"userId": user_id, "holderId": good, "outBeneficaryId": "b-ct",
        "accountName": "Example Trading", "accountNo": no, "bankName": "Bank of Example",
        "bankCountry": "CN", "currency": "CNY"})
    };
    let payee = |name: &str| {
        json!({"userId": user_id, "outBeneficiaryId": "p-ct", "country": "HK",
        "currency": "USD", "accountName": name, "accountNo": "012345678901",
        "bankName": "Example Bank HK", "bankCode": "004", "swiftCode": "EXAMHKHH"})
    };
    let first = now_ms(&app).await;
    let holder_id = expect(
        &app,
        "cardHolderApply",
        holder(&user_id, "h-ct"),
        "PROCESSING",
    )
    .await["holderId"]
        .as_str()
        .unwrap()
        .to_owned();
    let bank_id = expect(
        &app,
        "cardHolderBeneficaryApply",
        bank("6222020000000001"),
        "PROCESSING",
    )
    .await["beneficaryId"]
        .as_str()
        .unwrap()
        .to_owned();
    let payee_id = expect(
        &app,
        "benificiaryAccountApply",
        payee("Supplier Ltd"),
        "PROCESSING",
    )
    .await["beneficiaryId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Rejected before the default 30 s review decides.
    trigger(
        &app,
        "whalet.holder.rejected",
        json!({"holderId": holder_id}),
    )
    .await;
    trigger(
        &app,
        "whalet.beneficary.rejected",
        json!({"beneficaryId": bank_id}),
    )
    .await;
    trigger(
        &app,
        "whalet.beneficiary.rejected",
        json!({"beneficiaryId": payee_id}),
    )
    .await;
    app.advance(40.0).await;
    let again = now_ms(&app).await;
    let mut corrected = holder(&user_id, "h-ct");
    corrected["name"] = json!("Xiamen Example Trading Co.");
    let reply = expect(&app, "cardHolderApply", corrected, "PROCESSING").await;
    assert_eq!(reply["holderId"], holder_id.as_str());
    let reply = expect(
        &app,
        "cardHolderBeneficaryApply",
        bank("6222020000000002"),
        "PROCESSING",
    )
    .await;
    assert_eq!(reply["beneficaryId"], bank_id.as_str());
    let reply = expect(
        &app,
        "benificiaryAccountApply",
        payee("Supplier Limited"),
        "PROCESSING",
    )
    .await;
    assert_eq!(reply["beneficiaryId"], payee_id.as_str());

    let (created, updated) = (whalet_time(first), whalet_time(again));
    assert_ne!(created, updated);
    let holder_times = times(
        &app,
        "cardHolderQuery",
        json!({"userId": user_id, "holderId": holder_id}),
    )
    .await;
    assert_eq!(
        holder_times,
        (created.clone(), updated.clone()),
        "cardHolderQuery"
    );
    let bank_times = times(
        &app,
        "cardHolderBeneficaryQuery",
        json!({"userId": user_id, "beneficaryId": bank_id}),
    )
    .await;
    assert_eq!(
        bank_times,
        (created.clone(), updated),
        "cardHolderBeneficaryQuery"
    );
    let (payee_created, _) = times(
        &app,
        "benificiaryAccountQuery",
        json!({"userId": user_id, "beneficiaryId": payee_id}),
    )
    .await;
    assert_eq!(payee_created, created, "benificiaryAccountQuery");
    app.shutdown().await;
}
