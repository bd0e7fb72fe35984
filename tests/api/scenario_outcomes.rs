//! What a scenario rule's outcome does to the state: a dropped connection is a request lost
//! before it was processed (nothing done, its requestNo free for the retry), and money arriving
//! by trigger is governed by the rules that name `mockPayeeNotify` only (a forced code refuses
//! it; a blanket rule about requests neither decides nor counts it).

use serde_json::json;

use crate::helpers::spawn_app;
use crate::whalet_support::*;

const DROP_ONBOARDING: &str = r#"
name = "lost-onboarding"
[[rule]]
name = "first onboarding is lost"
operation = "userOnboardingApply"
nth = 1
[rule.then]
drop_connection = true
"#;

/// Regression: a dropped connection used up the requestNo while the operation never ran, so the
/// partner's retry with the same requestNo got REQUEST_NO_NOT_UNIQUE and no user ever existed.
#[tokio::test]
async fn a_dropped_request_does_nothing_and_its_retry_with_the_same_request_no_runs() {
    let app = spawn_app().await;
    assert_eq!(app.load_scenario(DROP_ONBOARDING, "").await.0, 200);
    let before = business_state(&app).await;
    let body = onboarding("seller-dropped", "Example Trading");
    let lost = app
        .client
        .call_with("userOnboardingApply", "DROP-1", &body)
        .await;
    assert!(lost.is_err(), "the connection is dropped: {lost:?}");
    let journal = app.get_json("/__sim/requests?limit=1").await;
    assert_eq!(journal["requests"][0]["code"], "DROPPED", "{journal}");
    assert_eq!(
        business_state(&app).await,
        before,
        "a dropped request creates nothing"
    );
    app.advance(120.0).await;
    assert!(
        received(&app, "userOnboardingResultNotify").is_empty(),
        "a dropped request schedules no review"
    );
    let retry = app
        .client
        .call_with("userOnboardingApply", "DROP-1", &body)
        .await
        .unwrap();
    assert_eq!(retry.code, "PROCESSING", "{retry:?}");
    let user_id = retry.body.as_ref().unwrap()["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = app
        .client
        .call_with("userOnboardingApply", "DROP-1", &body)
        .await
        .unwrap();
    assert_eq!(
        again.code, "REQUEST_NO_NOT_UNIQUE",
        "the retry that ran uses the requestNo up"
    );
    app.advance(60.0).await;
    let n = received_about(&app, "userOnboardingResultNotify", "userId", &user_id).await;
    assert_eq!(n["status"], "SUCCESS");
    app.assert_invariants().await;
    app.shutdown().await;
}

const REFUSE_SECOND_ARRIVAL: &str = r#"
name = "bank-offline"
[[rule]]
name = "second arrival refused"
surface = "whalet"
operation = "mockPayeeNotify"
nth = 2
[rule.then]
code = "FAILURE"
detail = "the bank is offline"
"#;

/// Regression: a forced `code` on `mockPayeeNotify` was ignored by the
/// `whalet.collection.received` trigger and the money arrived anyway. It now refuses the
/// arrival (422 naming the rule and the code) and changes nothing; the rule counts arrivals.
#[tokio::test]
async fn a_forced_code_on_mock_payee_notify_refuses_a_triggered_arrival() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let user_id = ready["userId"].as_str().unwrap();
    assert_eq!(app.load_scenario(REFUSE_SECOND_ARRIVAL, "").await.0, 200);
    let pay = json!({"amount": "10.00", "cardId": ready["cardId"]});
    trigger(&app, "whalet.collection.received", pay.clone()).await;
    app.advance(5.0).await;
    let before = business_state(&app).await;
    let (status, body) = app
        .post("/__sim/trigger/whalet.collection.received", &pay)
        .await;
    assert_eq!(status, 422, "{body}");
    let error = body["error"].as_str().unwrap();
    for needle in [
        "whalet.collection.received",
        "second arrival refused",
        "FAILURE",
        "the bank is offline",
        "no money arrived",
    ] {
        assert!(error.contains(needle), "{needle:?} in {error}");
    }
    app.advance(5.0).await;
    assert_eq!(
        business_state(&app).await,
        before,
        "a refused arrival changes nothing"
    );
    assert_eq!(
        balance(&app, user_id, "B2C", "USD").await["balance"]["cent"],
        1000,
        "only the first arrival's money is there"
    );
    let journal = app
        .get_json("/__sim/requests?surface=trigger&limit=1")
        .await;
    let entry = &journal["requests"][0];
    assert_eq!(entry["code"], "FAILED", "{entry}");
    assert_eq!(entry["rule"], "second arrival refused", "{entry}");
    assert!(
        entry["detail"]
            .as_str()
            .unwrap()
            .contains("second arrival refused"),
        "{entry}"
    );
    app.assert_invariants().await;
    app.shutdown().await;
}

/// Regression: a blanket rule (no `operation`, like scenarios/rate-limited.toml) counted money
/// arriving by trigger as one of the partner's requests, so arrivals used up the partner's
/// allowance. An arrival is not a request: only rules naming `mockPayeeNotify` count it.
#[tokio::test]
async fn a_triggered_arrival_is_not_counted_by_a_rule_that_does_not_name_mock_payee_notify() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let user_id = ready["userId"].as_str().unwrap();
    let limited =
        std::fs::read_to_string(crate::helpers::repo_path("scenarios/rate-limited.toml")).unwrap();
    assert_eq!(app.load_scenario(&limited, "").await.0, 200);
    for _ in 0..4 {
        trigger(
            &app,
            "whalet.collection.received",
            json!({"amount": "1.00", "cardId": ready["cardId"]}),
        )
        .await;
    }
    // The partner's three requests of this second are all still there.
    for _ in 0..3 {
        app.connectivity().await;
    }
    let fourth = call(
        &app,
        "connectivity",
        json!({"notifyFlag": "N", "responseFlag": "Y"}),
    )
    .await;
    assert_eq!(fourth.code, "TOO_MANY_REQUESTS", "{fourth:?}");
    app.advance(5.0).await;
    assert_eq!(
        balance(&app, user_id, "B2C", "USD").await["balance"]["cent"],
        400,
        "every arrival settled"
    );
    app.assert_invariants().await;
    app.shutdown().await;
}
