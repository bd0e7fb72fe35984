//! A decision's status word, kept as the object's queries report it: a trigger refusing to
//! decide an object again names its status as the API's refusals do (`status FAILURE, reported
//! as REJECTED`).

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::whalet_support::*;

/// Fires trigger `name`, which must be refused with an error containing `needle`.
async fn trigger_refused(app: &TestApp, name: &str, params: Value, needle: &str) {
    let (status, body) = app.post(&format!("/__sim/trigger/{name}"), &params).await;
    assert_eq!(status, 422, "trigger {name} {params}: {body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(needle),
        "trigger {name}: {error:?} lacks {needle:?}"
    );
}

#[tokio::test]
async fn a_refused_trigger_names_the_reported_word_of_a_user_holder_and_bank_account() {
    let app = spawn_app().await;
    // A user rejected with the word REJECTED.
    let rejected = apply_user(&app, "m-w29-r").await;
    trigger(
        &app,
        "whalet.onboarding.rejected",
        json!({"userId": rejected, "status": "REJECTED"}),
    )
    .await;
    trigger_refused(
        &app,
        "whalet.onboarding.approved",
        json!({"userId": rejected}),
        &format!("user {rejected} is not under review (status FAILURE, reported as REJECTED)"),
    )
    .await;

    // A card holder rejected with the word REJECTED.
    let user_id = onboarded_user(&app, "m-w29").await;
    let h = expect(
        &app,
        "cardHolderApply",
        holder(&user_id, "h-w29"),
        "PROCESSING",
    )
    .await;
    let holder_id = h["holderId"].as_str().unwrap().to_owned();
    trigger(
        &app,
        "whalet.holder.rejected",
        json!({"holderId": holder_id, "status": "REJECTED"}),
    )
    .await;
    trigger_refused(
        &app,
        "whalet.holder.approved",
        json!({"holderId": holder_id}),
        "is not under review (status FAILURE, reported as REJECTED)",
    )
    .await;

    // A holder bank account rejected with the word REJECTED.
    let good = approved_holder(&app, &user_id, "h-w29-good").await;
    let applied = expect(
        &app,
        "cardHolderBeneficaryApply",
        json!({"userId": user_id, "holderId": good,
        "outBeneficaryId": "b-w29", "accountName": "Example Trading",
        "accountNo": "6222020000000001", "bankName": "Bank of Example", "bankCountry": "CN",
        "currency": "CNY"}),
        "PROCESSING",
    )
    .await;
    let ben = applied["beneficaryId"].as_str().unwrap().to_owned();
    trigger(
        &app,
        "whalet.beneficary.rejected",
        json!({"beneficaryId": ben, "status": "REJECTED"}),
    )
    .await;
    trigger_refused(
        &app,
        "whalet.beneficary.approved",
        json!({"beneficaryId": ben}),
        "is not under review (status FAILURE, reported as REJECTED)",
    )
    .await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_refused_card_trigger_names_the_word_the_card_query_reports() {
    let app = spawn_app().await;
    let (user_id, holder_id, card) = b2c_ready(&app, "w29c", "USD").await;
    let card_id = card["cardId"].as_str().unwrap().to_owned();

    // A card the bank refused with the word DECLINED cannot be opened by a later trigger.
    let declined = apply_b2c_card(&app, &user_id, &holder_id, "c-w29-d", "USD").await;
    trigger(
        &app,
        "whalet.account.failed",
        json!({"cardId": declined, "status": "DECLINED"}),
    )
    .await;
    trigger_refused(
        &app,
        "whalet.account.opened",
        json!({"cardId": declined}),
        &format!("card {declined} is not being opened (status FAILURE, reported as DECLINED)"),
    )
    .await;

    // A card closed with the word CLOSED cannot be closed again; its query says CLOSED too.
    let detail = cancel_decided_with(
        &app,
        (&user_id, &card_id),
        "whalet.card.cancelled",
        "CLOSED",
    )
    .await;
    assert_eq!(detail["status"], "CLOSED", "{detail}");
    trigger_refused(
        &app,
        "whalet.card.cancelled",
        json!({"cardId": card_id}),
        &format!("card {card_id} is not being cancelled (status CANCELLED, reported as CLOSED)"),
    )
    .await;
    app.shutdown().await;
}

/// Regression: an EDD request approved with a status word (`status=CLEARED`) was notified as
/// CLEARED while `eddReplenishQuery` still said SUCCESS; and a trigger refusing to decide it
/// again named only SUCCESS. The query shows what the notification said, and the refusal both.
#[tokio::test]
async fn an_edd_request_decided_with_a_word_is_queried_and_refused_by_that_word() {
    use crate::whalet2_support::{edd_requested, edd_status, submit_edd_file};
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let user = ready["userId"].as_str().unwrap().to_owned();
    let rid = edd_requested(&app, json!({"userId": user})).await;
    submit_edd_file(&app, &user, &rid, "statement.pdf", b"%PDF statement", None).await;
    trigger(
        &app,
        "whalet.replenish.approved",
        json!({"replenishId": rid, "status": "CLEARED"}),
    )
    .await;
    let n = app
        .wait_notification("apiCode=eddReplenishResultNotify")
        .await;
    assert_eq!(n["payload"]["status"], "CLEARED", "{n}");
    assert_eq!(edd_status(&app, &user, &rid).await, "CLEARED");
    trigger_refused(
        &app,
        "whalet.replenish.approved",
        json!({"replenishId": rid}),
        "reported as CLEARED",
    )
    .await;
    app.shutdown().await;
}
