//! A request that repeats an earlier one by a business id the operation keeps (under a new
//! requestNo) is answered from its first result, or refused as a conflict, and no scenario rule
//! decides or counts it (docs/SCENARIOS.md, "Counting"): a retry neither uses up a rule's `nth`
//! or rate limit nor is refused by its forced code, and the next new request is the one the rule
//! takes. On whalet-platform (`paymentApply`, `shopAccountBind`) and the Open API
//! (`userOnboardingApply`, `cardHolderApply`, `b2cShopBind`'s unbind, whose key moves on after
//! a refusal).

use serde_json::{json, Value};

use crate::helpers::{platform_call, spawn_app, TestApp};
use crate::platform::{bind_body, trigger};
use crate::whalet_support::{call, expect, holder, onboarding};

async fn load(app: &TestApp, toml: &str) {
    let (status, body) = app.load_scenario(toml, "").await;
    assert_eq!(status, 200, "{body}");
}

/// The journal's newest entries of `surface`/`operation`, newest first: (code, rule).
async fn journal(app: &TestApp, surface: &str, operation: &str) -> Vec<(Value, Value)> {
    let j = app
        .get_json(&format!(
            "/__sim/requests?surface={surface}&operation={operation}"
        ))
        .await;
    j["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].clone(), r["rule"].clone()))
        .collect()
}

/// A rule refusing the `nth` request of `operation` on `surface` with TOO_MANY_REQUESTS.
fn nth_refused(surface: &str, operation: &str, nth: u32) -> String {
    format!(
        "name = \"replay-count\"\n[[rule]]\nname = \"refused\"\nsurface = \"{surface}\"\n\
         operation = \"{operation}\"\nnth = {nth}\n[rule.then]\ncode = \"TOO_MANY_REQUESTS\"\n"
    )
}

/// A platform partner with shop `S1` bound and 1000.00 USD to pay out.
async fn funded_with_a_bound_shop(app: &TestApp) {
    let (code, detail, _) = platform_call(app, "shopAccountBind", &bind_body("B1", "S1")).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    let (status, body) = trigger(app, "platform.binding.approved", json!({"bindId": "B1"})).await;
    assert_eq!(status, 200, "{body}");
    let bulk = json!({"amount": "1000.00", "currency": "USD"});
    let (status, body) = trigger(app, "platform.bulk_payment.received", bulk).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_repeated_payment_id_replays_and_the_rule_takes_the_next_new_payment() {
    let app = spawn_app().await;
    funded_with_a_bound_shop(&app).await;
    load(&app, &nth_refused("platform", "paymentApply", 2)).await;
    let pay =
        |id: &str| json!({"paymentId": id, "shopId": "S1", "currency": "USD", "amount": "10.00"});

    let (code, _, first) = platform_call(&app, "paymentApply", &pay("P1")).await;
    assert_eq!(code, "SUCCESS");
    assert_eq!(first["status"], "PROCESSING", "{first}");
    let (code, detail, again) = platform_call(&app, "paymentApply", &pay("P1")).await;
    assert_eq!(
        (code.as_str(), &again),
        ("SUCCESS", &first),
        "the retry replays P1's answer: {detail}"
    );
    let mut other = pay("P1");
    other["amount"] = json!("11.00");
    let (code, detail, _) = platform_call(&app, "paymentApply", &other).await;
    assert_eq!(
        code, "IDEMPOTENT_ERROR",
        "other content is the operation's conflict: {detail}"
    );
    let (code, detail, _) = platform_call(&app, "paymentApply", &pay("P2")).await;
    assert_eq!(
        code, "TOO_MANY_REQUESTS",
        "P2 is the second request: {detail}"
    );

    let entries = journal(&app, "platform", "paymentApply").await;
    assert_eq!(
        entries,
        vec![
            (json!("TOO_MANY_REQUESTS"), json!("refused")),
            (json!("IDEMPOTENT_ERROR"), Value::Null),
            (json!("SUCCESS"), Value::Null),
            (json!("SUCCESS"), Value::Null),
        ],
        "the repeats name no rule"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_repeated_bind_id_replays_and_the_rule_takes_the_next_new_binding() {
    let app = spawn_app().await;
    load(&app, &nth_refused("platform", "shopAccountBind", 2)).await;

    let (code, _, first) = platform_call(&app, "shopAccountBind", &bind_body("B1", "S1")).await;
    assert_eq!(code, "SUCCESS");
    assert!(first["authorizeUrl"].is_string(), "{first}");
    let (code, detail, again) =
        platform_call(&app, "shopAccountBind", &bind_body("B1", "S1")).await;
    assert_eq!(
        (code.as_str(), &again),
        ("SUCCESS", &first),
        "the retry replays B1's answer, link included: {detail}"
    );
    let (code, detail, _) = platform_call(&app, "shopAccountBind", &bind_body("B2", "S2")).await;
    assert_eq!(
        code, "TOO_MANY_REQUESTS",
        "B2 is the second request: {detail}"
    );
    let rules: Vec<Value> = journal(&app, "platform", "shopAccountBind")
        .await
        .into_iter()
        .map(|(_, rule)| rule)
        .collect();
    assert_eq!(rules, vec![json!("refused"), Value::Null, Value::Null]);
    app.shutdown().await;
}

/// The Open API: a repeated `outUserId` replays, other content under it is the operation's
/// IDEMPOTENT_ERROR, neither counted; a re-submission after a rejection is a new request again,
/// which the rule counts.
#[tokio::test]
async fn a_repeated_out_user_id_replays_and_a_resubmission_is_counted() {
    let app = spawn_app().await;
    load(
        &app,
        r#"
name = "replay-count"
[[rule]]
name = "rejected"
surface = "whalet"
operation = "userOnboardingApply"
nth = 1
[rule.then]
result = "failure"
delay = "5s"
values = { reMaterial = "Y" }
[[rule]]
name = "refused"
surface = "whalet"
operation = "userOnboardingApply"
nth = 2
[rule.then]
code = "TOO_MANY_REQUESTS"
"#,
    )
    .await;
    let first = expect(
        &app,
        "userOnboardingApply",
        onboarding("m1", "Example Trading"),
        "PROCESSING",
    )
    .await;
    let again = expect(
        &app,
        "userOnboardingApply",
        onboarding("m1", "Example Trading"),
        "PROCESSING",
    )
    .await;
    assert_eq!(again, first, "the retry replays the first answer");
    let conflict = call(&app, "userOnboardingApply", onboarding("m1", "Other Name")).await;
    assert_eq!(conflict.code, "IDEMPOTENT_ERROR", "{}", conflict.detail);

    // The first application is rejected with reMaterial = Y: corrected content under the same
    // outUserId is a new request, the rule's second.
    app.advance(5.0).await;
    app.wait_notification("apiCode=userOnboardingResultNotify")
        .await;
    let resubmitted = call(&app, "userOnboardingApply", onboarding("m1", "Other Name")).await;
    assert_eq!(
        resubmitted.code, "TOO_MANY_REQUESTS",
        "{}",
        resubmitted.detail
    );

    let rules: Vec<Value> = journal(&app, "whalet", "userOnboardingApply")
        .await
        .into_iter()
        .map(|(_, rule)| rule)
        .collect();
    assert_eq!(
        rules,
        vec![
            json!("refused"),
            Value::Null,
            Value::Null,
            json!("rejected")
        ]
    );
    app.shutdown().await;
}

/// A rate limit (`after` within a `window`) does not count a repeated `outHolderId`.
#[tokio::test]
async fn a_repeated_out_holder_id_uses_up_no_rate_limit() {
    let app = spawn_app().await;
    let ready = app.trigger_ok("whalet.account.ready", json!({})).await;
    let user = ready["userId"].as_str().unwrap();
    load(
        &app,
        r#"
name = "replay-rate"
[[rule]]
name = "one holder a minute"
surface = "whalet"
operation = "cardHolderApply"
after = 1
window = "60s"
[rule.then]
code = "TOO_MANY_REQUESTS"
"#,
    )
    .await;
    let first = expect(&app, "cardHolderApply", holder(user, "h1"), "PROCESSING").await;
    for _ in 0..2 {
        let again = expect(&app, "cardHolderApply", holder(user, "h1"), "PROCESSING").await;
        assert_eq!(again, first, "the retry replays the first answer");
    }
    let second = call(&app, "cardHolderApply", holder(user, "h2")).await;
    assert_eq!(second.code, "TOO_MANY_REQUESTS", "{}", second.detail);
    app.shutdown().await;
}

/// `b2cShopBind`'s unbind is kept under a key that moves on with each refusal: a repeat before
/// the verdict replays (not counted); the same unbind after the marketplace refused it is a new
/// request, which the rule counts.
#[tokio::test]
async fn a_repeated_unbind_replays_until_it_is_refused() {
    let app = spawn_app().await;
    let ready = app.trigger_ok("whalet.account.ready", json!({})).await;
    let (user, card) = (
        ready["userId"].as_str().unwrap(),
        ready["cardId"].as_str().unwrap(),
    );
    let bind = json!({"userId": user, "cardId": card, "bindId": "b1",
        "operationType": "BIND", "shopId": "S1", "shopName": "Shop"});
    expect(&app, "b2cShopBind", bind, "PROCESSING").await;
    app.advance(10.0).await;
    load(
        &app,
        r#"
name = "replay-unbind"
[[rule]]
name = "marketplace refuses"
surface = "whalet"
operation = "b2cShopBind"
nth = 1
[rule.when]
operationType = "UNBIND"
[rule.then]
result = "failure"
reason = "open orders"
[[rule]]
name = "refused"
surface = "whalet"
operation = "b2cShopBind"
nth = 2
[rule.when]
operationType = "UNBIND"
[rule.then]
code = "TOO_MANY_REQUESTS"
"#,
    )
    .await;
    let unbind = json!({"userId": user, "cardId": card, "bindId": "b1",
        "operationType": "UNBIND", "shopId": "S1"});
    let first = expect(&app, "b2cShopBind", unbind.clone(), "PROCESSING").await;
    let again = expect(&app, "b2cShopBind", unbind.clone(), "PROCESSING").await;
    assert_eq!(
        again, first,
        "the retry before the verdict replays the first answer"
    );
    app.advance(10.0).await;
    let after_refusal = call(&app, "b2cShopBind", unbind).await;
    assert_eq!(
        after_refusal.code, "TOO_MANY_REQUESTS",
        "the unbind asked again after its refusal is the rule's second: {}",
        after_refusal.detail
    );
    app.shutdown().await;
}
