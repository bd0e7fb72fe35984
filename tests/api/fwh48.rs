//! Regressions of stop 48 (fwh48): a retry that differs only in a field the operation checks but
//! does not keep, or that spells out a default, is the same request; an IDEMPOTENT_ERROR says
//! what the partner can do (no new id it cannot choose) and what it compared the retry with; a
//! trade-material submission names the request it found and why it takes nothing now; a list
//! of material types that names none is refused.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::whalet2_support::{funded_user, funded_user_trade, trade_material_requested, upload};
use crate::whalet_support::{
    business_state, call, expect, onboarded_user, onboarding, refused, trigger,
};

/// Sends `body` and then each of `retries` under the same business id: every retry answers what
/// the first request answered (code and body), and the state is as the first left it.
async fn retries_answer_the_first(
    app: &TestApp,
    api_code: &str,
    body: Value,
    retries: &[Value],
) -> Value {
    let first = call(app, api_code, body).await;
    assert!(
        ["SUCCESS", "PROCESSING"].contains(&first.code.as_str()),
        "{api_code}: {} {}",
        first.code,
        first.detail
    );
    let after = business_state(app).await;
    for retry in retries {
        let again = call(app, api_code, retry.clone()).await;
        assert_eq!(
            (again.code.as_str(), &again.body),
            (first.code.as_str(), &first.body),
            "{api_code} retried with {retry}: {}",
            again.detail
        );
    }
    assert_eq!(business_state(app).await, after, "a retry changes nothing");
    first.body.unwrap_or(Value::Null)
}

/// Regression: `b2bVirtualAccountApply.accountName` is only compared with the user's legal name
/// (the account is opened in that name whatever is asked), yet a retry without it, or with the
/// name spelled as the check accepts it, was IDEMPOTENT_ERROR. It is checked, not kept: such a
/// retry answers the original reply. Other content that is kept still conflicts.
#[tokio::test]
async fn a_b2b_retry_differing_only_in_the_account_name_answers_the_original() {
    let app = spawn_app().await;
    let user = onboarded_user(&app, "acme").await;
    let body = |name: Option<&str>| {
        let mut b = json!({"userId": user, "outCardId": "c1", "channelCode": "SIM_US_LOCAL",
            "currency": "USD"});
        if let Some(name) = name {
            b["accountName"] = json!(name);
        }
        b
    };
    let first = retries_answer_the_first(
        &app,
        "b2bVirtualAccountApply",
        body(Some("Example Trading")),
        &[body(None), body(Some("  example TRADING ")), body(Some(""))],
    )
    .await;
    assert_eq!(first["status"], "PROCESSING", "{first}");
    let mut other = body(None);
    other["currency"] = json!("EUR");
    refused(
        &app,
        "b2bVirtualAccountApply",
        other,
        "IDEMPOTENT_ERROR",
        "outCardId \"c1\" was already used with different content",
    )
    .await;
    app.shutdown().await;
}

/// Regression: `b2cCardCancel.reason` was read and thrown away, yet a retry without it was
/// IDEMPOTENT_ERROR. A cancellation keeps no reason: the retry answers the original reply.
#[tokio::test]
async fn a_card_cancel_retry_without_its_reason_answers_the_original() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({})).await;
    let (user, card) = (&ready["userId"], &ready["cardId"]);
    let first = retries_answer_the_first(
        &app,
        "b2cCardCancel",
        json!({"userId": user, "cardId": card, "reason": "shop closed"}),
        &[
            json!({"userId": user, "cardId": card}),
            json!({"userId": user, "cardId": card, "reason": "another reason"}),
        ],
    )
    .await;
    assert_eq!(first["status"], "CANCELLING", "{first}");
    app.shutdown().await;
}

/// Regression: `payApply.toCurrency` defaults to `currency`, and leaving it out or sending that
/// default make the same order, yet the retry spelling the default out was IDEMPOTENT_ERROR.
/// The content holds the value used, so both are one request (either way round); another
/// `toCurrency` is still other content.
#[tokio::test]
async fn a_pay_retry_spelling_out_the_default_currency_answers_the_original() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "100.00").await;
    let pay = |out: &str, to: Option<&str>| {
        let mut b = json!({"userId": user, "outPayId": out, "fundSource": "B2C",
            "currency": "USD", "amount": "10", "payeeName": "Supplier Ltd"});
        if let Some(to) = to {
            b["toCurrency"] = json!(to);
        }
        b
    };
    let first = retries_answer_the_first(
        &app,
        "payApply",
        pay("p1", None),
        &[pay("p1", Some("USD")), pay("p1", Some(" "))],
    )
    .await;
    assert_eq!(first["status"], "WAIT_CONFIRM", "{first}");
    retries_answer_the_first(&app, "payApply", pay("p2", Some("USD")), &[pay("p2", None)]).await;
    refused(
        &app,
        "payApply",
        pay("p1", Some("EUR")),
        "IDEMPOTENT_ERROR",
        "outPayId \"p1\" was already used with different content",
    )
    .await;
    app.shutdown().await;
}

/// The same rule for `benificiaryAccountApply.beneficiaryType` (default ENTERPRISE) and for the
/// card holder bank account's `swiftCode`, `bankCode` and `bankAddress`, which it checks and
/// does not keep.
#[tokio::test]
async fn a_retry_differing_in_a_default_or_an_unkept_field_answers_the_original() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "1.00").await;
    let beneficiary = json!({"userId": user, "outBeneficiaryId": "b1", "country": "HK",
        "currency": "USD", "accountName": "Supplier Ltd", "accountNo": "012345678901",
        "bankName": "Example Bank HK", "bankCode": "004", "swiftCode": "EXAMHKHH"});
    let mut typed = beneficiary.clone();
    typed["beneficiaryType"] = json!("ENTERPRISE");
    retries_answer_the_first(&app, "benificiaryAccountApply", beneficiary, &[typed]).await;

    let ready = trigger(&app, "whalet.account.ready", json!({})).await;
    let account = json!({"userId": ready["userId"], "holderId": ready["holderId"],
        "outBeneficaryId": "hb1", "accountName": "Example", "accountNo": "1234567890",
        "bankName": "Example Bank", "bankCountry": "HK", "currency": "USD",
        "swiftCode": "EXAMHKHH", "bankCode": "004", "bankAddress": "1 Queen's Road"});
    let bare = json!({"userId": ready["userId"], "holderId": ready["holderId"],
        "outBeneficaryId": "hb1", "accountName": "Example", "accountNo": "1234567890",
        "bankName": "Example Bank", "bankCountry": "HK", "currency": "USD"});
    retries_answer_the_first(&app, "cardHolderBeneficaryApply", account, &[bare]).await;
    app.shutdown().await;
}

/// Regression: `payConfirm` with other credentials under a confirmed `payId` said "or use a new
/// payId", an id the partner cannot choose (payApply issues it). The refusal now says what the
/// partner can do: send the original credentials, or apply under a new outPayId.
#[tokio::test]
async fn a_confirm_conflict_names_what_the_partner_can_do() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "100.00").await;
    let order = expect(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "p1", "fundSource": "B2C", "currency": "USD",
            "amount": "10", "payeeName": "Supplier Ltd"}),
        "SUCCESS",
    )
    .await;
    let pay_id = order["payId"].as_str().unwrap().to_owned();
    let invoice = upload(&app, "invoice.pdf", b"%PDF invoice").await;
    let other = upload(&app, "other.pdf", b"%PDF other").await;
    let confirm =
        |file: &Value| json!({"userId": user, "payId": pay_id, "tradeCredential": [file]});
    expect(&app, "payConfirm", confirm(&invoice), "PROCESSING").await;
    let reply = call(&app, "payConfirm", confirm(&other)).await;
    assert_eq!(reply.code, "IDEMPOTENT_ERROR", "{}", reply.detail);
    for needle in [
        &format!("payId \"{pay_id}\" was already used with different content"),
        "tradeCredential",
        "a new outPayId",
    ] {
        assert!(
            reply.detail.contains(needle),
            "{needle} in {}",
            reply.detail
        );
    }
    assert!(
        !reply.detail.contains("new payId") && !reply.detail.ends_with('…'),
        "no id the partner cannot choose, and the whole remedy on the wire: {}",
        reply.detail
    );
    expect(&app, "payConfirm", confirm(&invoice), "PROCESSING").await;
    app.shutdown().await;
}

/// Regression: after a re-submission (rejected with reMaterial=Y, sent again with other content
/// under the same outUserId), the first content sent again was told to "send the original
/// content", although it is the original. The refusal now names what a retry is compared
/// with: the latest submission, its number and status.
#[tokio::test]
async fn a_conflict_after_a_resubmission_names_the_latest_submission() {
    let app = spawn_app().await;
    let first = onboarding("m1", "Acme Ltd");
    let user = expect(&app, "userOnboardingApply", first.clone(), "PROCESSING").await["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    trigger(
        &app,
        "whalet.onboarding.rejected",
        json!({"userId": user, "reMaterial": "Y"}),
    )
    .await;
    let second = onboarding("m1", "Acme Limited");
    expect(&app, "userOnboardingApply", second.clone(), "PROCESSING").await;
    let reply = call(&app, "userOnboardingApply", first).await;
    assert_eq!(reply.code, "IDEMPOTENT_ERROR", "{}", reply.detail);
    for needle in [
        "outUserId \"m1\" was re-submitted",
        "latest submission",
        &format!("user {user}, submission 2, status PROCESSING"),
    ] {
        assert!(
            reply.detail.contains(needle),
            "{needle} in {}",
            reply.detail
        );
    }
    assert!(
        !reply.detail.contains("original") && reply.detail.ends_with("or use a new outUserId"),
        "{}",
        reply.detail
    );
    // The latest content answers as it did.
    expect(&app, "userOnboardingApply", second, "PROCESSING").await;
    app.shutdown().await;
}

/// Regression: `tradeReplenishSubmit` for trade material under review or decided said the user
/// had no request waiting for a submission, hiding that it exists; the EDD version names the
/// request and its status. Both now say the same: `request TR… is PROCESSING; nothing to
/// submit now` (then SUCCESS once approved). Nothing changes.
#[tokio::test]
async fn a_trade_submission_names_the_request_under_review_or_decided() {
    let app = spawn_app().await;
    let (user, _card, trade_id) = funded_user_trade(&app, "USD", "5.00").await;
    let ask = trade_material_requested(&app, &trade_id).await;
    let rid = ask["replenishId"].as_str().unwrap().to_owned();
    let invoice = upload(&app, "invoice.pdf", b"%PDF invoice").await;
    let submit = json!({"userId": user, "tradeId": trade_id, "attaches": [invoice]});
    expect(&app, "tradeReplenishSubmit", submit.clone(), "PROCESSING").await;
    for status in ["PROCESSING", "SUCCESS"] {
        if status == "SUCCESS" {
            trigger(
                &app,
                "whalet.replenish.approved",
                json!({"replenishId": rid}),
            )
            .await;
        }
        let before = business_state(&app).await;
        refused(
            &app,
            "tradeReplenishSubmit",
            submit.clone(),
            "FAILURE",
            &format!("request {rid} is {status}; nothing to submit now"),
        )
        .await;
        assert_eq!(
            business_state(&app).await,
            before,
            "a refusal changes nothing"
        );
    }
    app.shutdown().await;
}

/// Regression: `whalet.edd.requested materialTypes=","` was accepted and asked for no material
/// (`materialTypes: []`) while `""` was refused. A list that names no type is refused as an
/// empty one, by both triggers, before anything changes.
#[tokio::test]
async fn a_material_type_list_naming_none_is_refused_as_an_empty_one() {
    let app = spawn_app().await;
    let (user, _card, trade_id) = funded_user_trade(&app, "USD", "5.00").await;
    let before = business_state(&app).await;
    for (name, params) in [
        ("whalet.edd.requested", json!({"userId": user})),
        (
            "whalet.trade_replenish.requested",
            json!({"tradeId": trade_id}),
        ),
    ] {
        let refusal = |types: &str| {
            let mut p = params.clone();
            p["materialTypes"] = json!(types);
            p
        };
        let (status, empty) = app
            .post(&format!("/__sim/trigger/{name}"), &refusal(""))
            .await;
        assert_ne!(status, 200, "{empty}");
        let said =
            "parameter materialTypes is empty; give a value, or leave it out for the default";
        assert!(empty.to_string().contains(said), "{empty}");
        for types in [",", " , "] {
            let (status, body) = app
                .post(&format!("/__sim/trigger/{name}"), &refusal(types))
                .await;
            assert_ne!(status, 200, "{name} materialTypes={types:?}: {body}");
            assert!(body.to_string().contains(said), "{name} {types:?}: {body}");
        }
        // White space alone is refused as blank by the parameter check, as on every trigger.
        let (status, body) = app
            .post(&format!("/__sim/trigger/{name}"), &refusal(" "))
            .await;
        assert_eq!(status, 400, "{name}: {body}");
        let blank = "parameter materialTypes is blank (\" \"); give a value, or leave it out";
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(blank), "{name}: {body}");
    }
    assert_eq!(
        business_state(&app).await,
        before,
        "a refusal changes nothing"
    );
    let ask = trigger(
        &app,
        "whalet.edd.requested",
        json!({"userId": user, "materialTypes": " A ,, B "}),
    )
    .await;
    assert_eq!(ask["materialTypes"], json!(["A", "B"]), "{ask}");
    app.shutdown().await;
}
