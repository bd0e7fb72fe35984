//! Regressions of the eighth exploratory round: an EDD whose held payout has ended is closed; the
//! default `outUserId` of `whalet.account.ready` is free; blank trigger values are refused and
//! parameter errors name their trigger; a payout confirm is idempotent per user.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::whalet2_support::{
    confirmed_payout, edd_asked_for_payout, spawn_scenario, submit_edd_file, upload,
    user_with_beneficiary,
};
use crate::whalet_support::{
    apply_user, business_state, expect, received_about, refused, state, trigger,
};

/// The users of the demo partner whose `outUserId` is `out`.
async fn users_named(app: &TestApp, out: &str) -> Vec<String> {
    let s = state(app).await;
    let users = s["whalet"]["users"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    users
        .iter()
        .filter(|(_, u)| u["outUserId"] == out)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Fires `name` with `params`, which must be refused with HTTP 422; returns the error.
async fn refused_trigger(app: &TestApp, name: &str, params: Value) -> String {
    let (status, body) = app.post(&format!("/__sim/trigger/{name}"), &params).await;
    assert_eq!(status, 422, "{name} {params}: {body}");
    body["error"].as_str().unwrap_or_default().to_owned()
}

/// Regression: once the EDD's rejection failed the payout it held, the request took material
/// again, went PROCESSING and stayed so for ever (its scheduled decision could not fail the
/// payout a second time). The request is closed instead, like a rejected one that froze money.
#[tokio::test]
async fn an_edd_whose_held_payout_failed_takes_no_more_material() {
    let app = spawn_scenario("scenarios/edd-requested.toml").await;
    let (user, bid) = user_with_beneficiary(&app, "100", "sup-r8", "USD").await;
    let payout_id = confirmed_payout(&app, &user, "p-r8", "10", &bid).await;
    let ask = edd_asked_for_payout(&app, &payout_id).await;
    let rid = ask["replenishId"].as_str().unwrap().to_owned();
    submit_edd_file(&app, &user, &rid, "a.pdf", b"%PDF a", Some("reject")).await;
    app.advance(31.0).await;
    let n = received_about(&app, "payoutResultNotify", "payoutId", &payout_id).await;
    assert_eq!(n["status"], "FAILURE");
    let file = upload(&app, "b.pdf", b"%PDF b").await;
    let before = business_state(&app).await;
    refused(
        &app,
        "eddReplenishSubmit",
        json!({"userId": user, "replenishId": rid, "fileIds": [file["fileId"]], "memo": "again"}),
        "FAILURE",
        &format!(
            "request {rid} is closed: {payout_id}, the order it held, has ended (status FAILURE)"
        ),
    )
    .await;
    assert_eq!(
        business_state(&app).await,
        before,
        "a refusal changes nothing"
    );
    assert_eq!(
        crate::whalet2_support::edd_status(&app, &user, &rid).await,
        "FAILURE"
    );
    app.finish().await;
}

/// Regression: the default `outUserId` (`ready-{userId}`) was not checked, so a partner that had
/// already given that id to a user of its own ended up with two users under one `outUserId`.
#[tokio::test]
async fn the_ready_trigger_never_gives_a_default_out_user_id_a_user_already_has() {
    let app = crate::helpers::spawn_app().await;
    let first = trigger(&app, "whalet.account.ready", json!({})).await;
    let card = first["cardId"].as_str().unwrap();
    // VA + yyyyMMdd + sequence: the onboarding mints the next user id, the trigger the one after.
    let (date, seq) = card[2..].split_at(8);
    let seq: u64 = seq.parse().unwrap();
    let next = format!("U{date}{:08}", seq + 2);
    let claimed = format!("ready-{next}");
    apply_user(&app, &claimed).await;
    let second = trigger(&app, "whalet.account.ready", json!({})).await;
    assert_eq!(second["userId"], next.as_str(), "the prediction holds");
    assert_eq!(
        users_named(&app, &claimed).await.len(),
        1,
        "one user per outUserId"
    );
    assert_eq!(
        users_named(&app, &format!("{claimed}-2")).await,
        vec![next.clone()]
    );
    app.finish().await;
}

/// Regression: a blank `outUserId` or `name` was read as "absent" and the default used, whereas
/// `""` is refused (and `userOnboardingApply` refuses blanks). Both say which trigger refused.
#[tokio::test]
async fn the_ready_trigger_refuses_blank_values_and_names_itself() {
    let app = crate::helpers::spawn_app().await;
    let before = business_state(&app).await;
    for field in ["outUserId", "name"] {
        let (status, body) = app
            .post("/__sim/trigger/whalet.account.ready", &json!({field: "  "}))
            .await;
        assert_eq!(status, 400, "blank, as \"\" is: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert_eq!(
            error,
            format!(
                "whalet.account.ready: parameter {field} is blank (\"  \"); give a value, or leave it out for the default"
            )
        );
    }
    let long = "x".repeat(65);
    let error = refused_trigger(&app, "whalet.account.ready", json!({"outUserId": long})).await;
    assert!(
        error.starts_with("whalet.account.ready: parameter outUserId is longer than 64"),
        "{error}"
    );
    assert_eq!(business_state(&app).await, before, "nothing created");
    app.finish().await;
}

/// Regression: a review trigger's own parameter check dropped the trigger's name that every
/// other parameter error starts with.
#[tokio::test]
async fn a_review_trigger_parameter_error_names_the_trigger() {
    let app = crate::helpers::spawn_app().await;
    let user_id = apply_user(&app, "r8-flag").await;
    let error = refused_trigger(
        &app,
        "whalet.onboarding.rejected",
        json!({"userId": user_id, "reMaterial": "y"}),
    )
    .await;
    assert_eq!(
        error,
        "whalet.onboarding.rejected: parameter reMaterial must be \"Y\" or \"N\", got \"y\""
    );
    app.finish().await;
}

/// Regression: the idempotency of `payoutConfirm` was not scoped per user, so another user
/// confirming a confirmed payout got IDEMPOTENT_ERROR (revealing the payout exists, and advising
/// a new payoutId, which Whalet assigns) instead of the FAILURE any payout not theirs gets.
#[tokio::test]
async fn confirming_another_users_payout_is_a_failure_not_a_conflict() {
    let app = crate::helpers::spawn_app().await;
    let (owner, bid) = user_with_beneficiary(&app, "100", "sup-a", "USD").await;
    let payout_id = confirmed_payout(&app, &owner, "p-a", "10", &bid).await;
    let (other, _) = user_with_beneficiary(&app, "100", "sup-b", "USD").await;
    let before = business_state(&app).await;
    refused(
        &app,
        "payoutConfirm",
        json!({"userId": other, "payoutId": payout_id}),
        "FAILURE",
        &format!("payoutId {payout_id:?} is not a payout of user {other}"),
    )
    .await;
    assert_eq!(business_state(&app).await, before);
    // The owner's own replay still answers the original result.
    let replay = expect(
        &app,
        "payoutConfirm",
        json!({"userId": owner, "payoutId": payout_id}),
        "PROCESSING",
    )
    .await;
    assert_eq!(replay["payoutId"], payout_id.as_str());
    app.finish().await;
}
