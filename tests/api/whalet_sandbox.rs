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

/// Regression: given a `cardId` and an `accountNo` of another account, the money went to the
/// card and the `accountNo` was dropped without a word; the API and the trigger now refuse it.
#[tokio::test]
async fn a_card_id_and_an_account_no_of_different_accounts_are_refused() {
    let app = spawn_app().await;
    let a = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let b = trigger(&app, "whalet.account.ready", json!({"currency": "USD"})).await;
    let mixed = json!({"userId": a["userId"], "cardId": a["cardId"], "accountNo": b["accountNo"],
                       "amount": "10.00", "currency": "USD"});
    let expected = format!(
        "cardId {} and accountNo {} name different collection accounts (the card's accountNo is \
         {})",
        a["cardId"].as_str().unwrap(),
        b["accountNo"],
        a["accountNo"]
    );
    refused(&app, "mockPayeeNotify", mixed, "FAILURE", &expected).await;
    let (status, body) = app
        .post(
            "/__sim/trigger/whalet.collection.received",
            &json!({"amount": "5.00", "cardId": a["cardId"], "accountNo": b["accountNo"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains(&expected),
        "{body}"
    );
    app.advance(5.0).await;
    for user in [&a, &b] {
        let user_id = user["userId"].as_str().unwrap();
        assert_eq!(
            balance(&app, user_id, "B2C", "USD").await["balance"]["cent"],
            0
        );
    }
    // Both ids of one account are fine.
    let same = json!({"userId": a["userId"], "cardId": a["cardId"], "accountNo": a["accountNo"],
                      "amount": "1.00", "currency": "USD"});
    expect(&app, "mockPayeeNotify", same, "SUCCESS").await;
    app.assert_invariants().await;
    app.shutdown().await;
}

/// The shortcut keeps the rules `userOnboardingApply` keeps: an `outUserId` names one user, ids
/// and names have their lengths. A refusal is a 422 that says why and creates nothing.
#[tokio::test]
async fn a_ready_account_obeys_the_onboarding_rules() {
    let app = spawn_app().await;
    let user_id = apply_user(&app, "seller-1").await;
    let before = business_state(&app).await;
    let refusals = [
        (
            json!({"outUserId": "seller-1"}),
            format!("outUserId \"seller-1\" already belongs to user {user_id} (status PROCESSING)"),
        ),
        (
            json!({"outUserId": "x".repeat(65)}),
            "outUserId is longer than 64 characters".to_owned(),
        ),
        (
            json!({"name": "n".repeat(257)}),
            "name is longer than 256 characters".to_owned(),
        ),
    ];
    for (params, needle) in refusals {
        let (status, body) = app
            .post("/__sim/trigger/whalet.account.ready", &params)
            .await;
        assert_eq!(status, 422, "{params}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&needle),
            "{error:?} should contain {needle:?}"
        );
    }
    assert_eq!(
        business_state(&app).await,
        before,
        "refusals create nothing"
    );
    let ready = trigger(
        &app,
        "whalet.account.ready",
        json!({"outUserId": "y".repeat(64), "name": "n".repeat(256)}),
    )
    .await;
    let ready_user = ready["userId"].as_str().unwrap_or_default().to_owned();
    // The API sees the same rule from the other side.
    let mut again = onboarding(&"y".repeat(64), "Example Trading");
    again["legalEntity"]["name"] = json!("Other");
    refused(
        &app,
        "userOnboardingApply",
        again,
        "IDEMPOTENT_ERROR",
        &format!("already belongs to user {ready_user}"),
    )
    .await;
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

/// Regression: an amount sent as a JSON number with more digits than a double holds was read
/// rounded (`1.0000000000000001` as 1.00); it is now read as the characters sent, as the same
/// text in a string is. A huge one is too large, echoed as sent (never as `1e+20`), and nothing
/// arrives.
#[tokio::test]
async fn an_amount_number_is_read_as_the_characters_sent() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({})).await;
    let (user, account) = (&ready["userId"], &ready["accountNo"]);
    let send = |no: &str, amount: &str| {
        let text = format!(
            r#"{{"userId":{user},"accountNo":{account},"currency":"USD","amount":{amount}}}"#
        );
        let sealed =
            crate::helpers::seal_text(&app, ("mockPayeeNotify", no), text.as_bytes(), |k| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .encode(k)
                    .into_bytes()
            });
        app.post_raw("/api", "application/json", sealed)
    };
    let before = business_state(&app).await;
    for (no, amount, says) in [
        // A huge number is too large, and no text the partner never wrote (`1e+20`) is echoed.
        (
            "N0",
            "99999999999999999999",
            "amount \"99999999999999999999\" is too large",
        ),
        (
            "N1",
            "1.0000000000000001",
            "amount \"1.0000000000000001\" has 16 decimal places; USD has 2",
        ),
        (
            "N2",
            "0.0099999999999999999",
            "has 19 decimal places; USD has 2",
        ),
    ] {
        let (_, text) = send(no, amount).await;
        let reply: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            reply["head"]["code"], "PARAMETER_ERROR",
            "{amount}: {reply}"
        );
        let detail = reply["head"]["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{amount}: {detail}");
    }
    assert_eq!(business_state(&app).await["whalet"], before["whalet"]);
    let (_, text) = send("N3", "100.10").await;
    let reply: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["head"]["code"], "SUCCESS", "{reply}");
    app.shutdown().await;
}

/// Regression: an amount or currency padded with whitespace (`"\t1.00 \n"`, `" USD "`) was
/// trimmed and accepted. They are read as the characters sent (as Java's `BigDecimal` reads
/// them): refused, naming the whitespace, and nothing arrives.
#[tokio::test]
async fn an_amount_or_currency_padded_with_whitespace_is_refused() {
    let app = spawn_app().await;
    let ready = trigger(&app, "whalet.account.ready", json!({})).await;
    let body = |amount: &str, currency: &str| {
        json!({"userId": ready["userId"], "cardId": ready["cardId"], "amount": amount,
               "currency": currency})
    };
    let before = business_state(&app).await;
    for (amount, currency, says) in [
        (
            "\t1.00 \n",
            "USD",
            "amount \"\\t1.00 \\n\" has whitespace around the number",
        ),
        (
            "1.00",
            " USD ",
            "currency \" USD \" has whitespace around the code; send \"USD\"",
        ),
    ] {
        refused(
            &app,
            "mockPayeeNotify",
            body(amount, currency),
            "PARAMETER_ERROR",
            says,
        )
        .await;
    }
    assert_eq!(business_state(&app).await["whalet"], before["whalet"]);
    expect(&app, "mockPayeeNotify", body("1.00", "USD"), "SUCCESS").await;
    app.shutdown().await;
}
