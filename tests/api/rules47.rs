//! Stop 47: a rule on `mockPayeeNotify` sees the arrival a trigger makes, the account a
//! defaulted one goes to included (docs/SCENARIOS.md: `mockPayeeNotify` also governs
//! `whalet.collection.received`).

use serde_json::json;

use crate::helpers::spawn_app;

/// The tester's repro: money sent by the trigger without naming the account arrived on the
/// card a rule matched by `cardId`, and the rule did not apply (it saw only the parameters).
#[tokio::test]
async fn a_rule_matching_the_defaulted_account_decides_the_arrival() {
    let app = spawn_app().await;
    let ready = app.trigger_ok("whalet.account.ready", json!({})).await;
    let card = ready["cardId"]
        .as_str()
        .or_else(|| ready["result"]["cardId"].as_str())
        .unwrap_or_else(|| panic!("{ready}"))
        .to_owned();
    let scenario = format!(
        "name = \"by-card\"\n[[rule]]\noperation = \"mockPayeeNotify\"\n\
         [rule.when]\ncardId = \"{card}\"\n[rule.then]\ncode = \"FAILURE\"\ndetail = \"held\"\n"
    );
    let (status, body) = app.load_scenario(&scenario, "").await;
    assert_eq!(status, 200, "{body}");
    let (status, refused) = app
        .post(
            "/__sim/trigger/whalet.collection.received",
            &json!({"amount": "5.00", "currency": "USD"}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("by-card"), "{refused}");
    // Another account's arrival is not the rule's.
    let other = app.trigger_ok("whalet.account.ready", json!({})).await;
    let other_card = other["cardId"]
        .as_str()
        .or_else(|| other["result"]["cardId"].as_str())
        .unwrap()
        .to_owned();
    assert_ne!(other_card, card);
    app.trigger_ok(
        "whalet.collection.received",
        json!({"amount": "5.00", "currency": "USD", "cardId": other_card}),
    )
    .await;
}
