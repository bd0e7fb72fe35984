//! Sandbox shortcuts: `whalet.account.ready` gives a working B2C account in one trigger, and an
//! independent partner client (Python `cryptography`) opens the balance reply, a JSON array.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::whalet_support::*;

#[tokio::test]
async fn a_ready_account_in_one_trigger_receives_money() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({"currency": "EUR"})).await;
    let user_id = ready["userId"].as_str().unwrap();
    let detail = expect(
        &app,
        "b2cCardDetailQuery",
        json!({"userId": user_id, "cardId": ready["cardId"]}),
        "SUCCESS",
    )
    .await;
    assert_eq!(detail["status"], "ACTIVE");
    assert_eq!(detail["accountNo"], ready["accountNo"]);
    expect(&app, "mockPayeeNotify", json!({"userId": user_id, "accountNo": ready["accountNo"], "amount": "10.5", "currency": "EUR"}), "SUCCESS").await;
    app.advance(5.0).await;
    assert_eq!(
        balance(&app, user_id, "B2C", "EUR").await["balance"]["cent"],
        1050
    );
    assert!(received(&app, "userOnboardingResultNotify").is_empty());
    let (status, body) = app
        .post(
            "/__sim/trigger/whalet.account.ready",
            &json!({"currency": "CNY"}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("currency CNY is not offered for platform AMAZON"));
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_independent_python_client_opens_the_balance_array() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({})).await;
    trigger(
        &app,
        "whalet.collection.received",
        json!({"cardId": ready["cardId"], "amount": "2477.92"}),
    )
    .await;
    app.advance(5.0).await;
    let url = format!("{}/api", app.url);
    let data = json!({"userId": ready["userId"], "fundSource": "B2C"}).to_string();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(crate::helpers::python())
            .arg(crate::helpers::repo_path("scripts/whalet_envelope.py"))
            .args([
                "call",
                "--url",
                &url,
                "--api-code",
                "queryCurrencyBalance",
                "--data",
                &data,
            ])
            .current_dir(crate::helpers::repo_path(""))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(reply["head"]["code"], "SUCCESS");
    assert_eq!(
        reply["body"][0]["balance"],
        money(json!(2477.92), 247792, "USD")
    );
    app.shutdown().await;
}

/// A JSON number too large to read exactly is refused as too large, without a text the client
/// never sent (serde_json would print it `1e+20`), and nothing arrives.
#[tokio::test]
async fn a_huge_json_number_amount_is_refused_as_too_large() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({})).await;
    let mut body =
        json!({"userId": ready["userId"], "accountNo": ready["accountNo"], "currency": "USD"});
    body["amount"] = serde_json::from_str("99999999999999999999").unwrap();
    let before = business_state(&app).await;
    refused(
        &app,
        "mockPayeeNotify",
        body.clone(),
        "PARAMETER_ERROR",
        "amount is too large",
    )
    .await;
    let reply = call(&app, "mockPayeeNotify", body).await;
    assert!(!reply.detail.contains("e+"), "{}", reply.detail);
    assert!(reply.detail.contains("decimal strings"), "{}", reply.detail);
    assert_eq!(business_state(&app).await["whalet"], before["whalet"]);
    app.shutdown().await;
}
