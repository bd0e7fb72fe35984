//! Scenario rule outcomes on every surface, through the real engine and the real wire: for one
//! operation per surface (by the operation name its FIDELITY section documents), `result =
//! "failure"` with `reason`, `delay`, `values`, a synchronous `code` (the operation does not
//! execute) and `[rule.then.notify]` each have their documented effect.

use serde_json::{json, Value};

use crate::helpers::{platform_call, platform_client, spawn_app, spawn_with, Setup, TestApp};
use crate::infinia::support::{binding_request, set_hook_url, HookReceiver, Merchant, SFTP_CONFIG};
use crate::platform::bind_body;
use crate::pockyt_support::{active_payee, bank_account, call as pockyt_call, ok, IpnReceiver};
use crate::whalet_support::{
    apply_user, business_state, call, holder, onboarded_user, received, trigger,
};

async fn load(app: &TestApp, toml: &str) {
    let (status, body) = app.load_scenario(toml, "").await;
    assert_eq!(status, 200, "{body}");
}

/// The `rule` of the newest journal entry of `surface` (and `operation`).
async fn last_rule(app: &TestApp, surface: &str, operation: &str) -> Value {
    let j = app
        .get_json(&format!(
            "/__sim/requests?surface={surface}&operation={operation}"
        ))
        .await;
    j["requests"][0]["rule"].clone()
}

async fn ledger(app: &TestApp, query: &str) -> Vec<Value> {
    let body = app.get_json(&format!("/__sim/notifications?{query}")).await;
    body["notifications"].as_array().unwrap().clone()
}

#[tokio::test]
async fn whalet_rules_fail_delay_carry_values_refuse_and_shape_notifications() {
    let app = spawn_app().await;
    let user = onboarded_user(&app, "m-first").await;
    load(
        &app,
        r#"
name = "e2e-whalet"
[[rule]]
name = "reject with material"
surface = "whalet"
operation = "userOnboardingApply"
[rule.then]
result = "failure"
status = "REJECTED"
reason = "scenario says no"
delay = "7s"
values = { reMaterial = "Y", materialType = "Supplement" }
[rule.then.notify]
duplicate = true
[[rule]]
name = "refuse holders"
surface = "whalet"
operation = "cardHolderApply"
[rule.then]
code = "FAILURE"
detail = "holders are closed today (e2e)"
"#,
    )
    .await;
    let before = business_state(&app).await;
    let reply = call(&app, "cardHolderApply", holder(&user, "h-refused")).await;
    assert_eq!(reply.code, "FAILURE");
    assert_eq!(reply.detail, "holders are closed today (e2e)");
    assert_eq!(reply.body, None);
    assert_eq!(
        last_rule(&app, "whalet", "cardHolderApply").await,
        "refuse holders"
    );
    let after = business_state(&app).await;
    assert_eq!(
        before["whalet"], after["whalet"],
        "the refused operation did not run"
    );

    let rejected = apply_user(&app, "m-second").await;
    assert_eq!(
        last_rule(&app, "whalet", "userOnboardingApply").await,
        "reject with material"
    );
    app.advance(6.0).await;
    assert_eq!(received(&app, "userOnboardingResultNotify").len(), 1);
    app.advance(1.0).await;
    let n = app
        .wait_notification(&format!(
            "apiCode=userOnboardingResultNotify&businessId={rejected}"
        ))
        .await;
    assert_eq!(n["status"], "delivered", "{n}");
    assert_eq!(n["series"], 2, "duplicate sends the series twice: {n}");
    let sent: Vec<Value> = received(&app, "userOnboardingResultNotify")
        .into_iter()
        .filter(|b| b["userId"] == rejected.as_str())
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0], sent[1]);
    let body = &sent[0];
    assert_eq!(
        body["status"], "REJECTED",
        "status replaces the word: {body}"
    );
    assert_eq!(body["message"], "scenario says no");
    assert_eq!(body["reMaterial"], "Y");
    assert_eq!(body["materialType"], "Supplement");
    app.shutdown().await;
}

#[tokio::test]
async fn platform_rules_fail_delay_carry_values_refuse_and_shape_notifications() {
    let app = spawn_app().await;
    load(
        &app,
        r#"
name = "e2e-platform"
[[rule]]
name = "short links"
surface = "platform"
operation = "shopAccountBind"
[rule.when]
bindId = "B-SHORT"
[rule.then]
values = { linkTtl = "1m" }
[[rule]]
name = "payments bounce"
surface = "platform"
operation = "paymentApply"
[rule.then]
result = "failure"
reason = "seller wallet closed (e2e)"
delay = "3s"
[rule.then.notify]
suppress = true
[[rule]]
name = "balance busy"
surface = "platform"
operation = "balanceQuery"
[rule.then]
code = "TOO_MANY_REQUESTS"
http_status = 429
"#,
    )
    .await;
    trigger(
        &app,
        "platform.bulk_payment.received",
        json!({"amount": "500.00", "currency": "USD", "bulkPaymentId": "BULK-R"}),
    )
    .await;
    let (code, detail, _) =
        platform_call(&app, "shopAccountBind", &bind_body("B-SHORT", "111")).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    assert_eq!(
        last_rule(&app, "platform", "shopAccountBind").await,
        "short links"
    );
    platform_call(&app, "shopAccountBind", &bind_body("B-PAY", "222")).await;
    trigger(
        &app,
        "platform.binding.approved",
        json!({"bindId": "B-PAY"}),
    )
    .await;
    let pay = json!({"paymentId": "P-R", "shopId": "222", "amount": "100.00", "currency": "USD"});
    let (code, detail, _) = platform_call(&app, "paymentApply", &pay).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    app.advance(2.0).await;
    let (_, _, q) = platform_call(&app, "paymentQuery", &json!({"paymentId": "P-R"})).await;
    assert_eq!(q["status"], "PROCESSING");
    app.advance(1.0).await;
    let (_, _, q) = platform_call(&app, "paymentQuery", &json!({"paymentId": "P-R"})).await;
    assert_eq!(q["status"], "FAILURE", "{q}");
    assert_eq!(q["reason"], "seller wallet closed (e2e)");
    let n = ledger(&app, "apiCode=paymentApplyNotify").await;
    assert_eq!(n.len(), 1);
    assert_eq!(n[0]["status"], "suppressed", "{:?}", n[0]);
    // The money came back; the balance query is refused by the rule (no state read).
    let refused = platform_client(&app, "balanceQuery")
        .call("balanceQuery", &json!({}))
        .await
        .expect_err("HTTP 429 is an error for the client");
    let refused = format!("{refused:?}");
    assert!(
        refused.contains("429") && refused.contains("\\\"code\\\":\\\"TOO_MANY_REQUESTS\\\""),
        "{refused}"
    );
    app.delete("/__sim/scenarios/e2e-platform").await;
    let (_, _, bal) = platform_call(&app, "balanceQuery", &json!({"currency": "USD"})).await;
    assert_eq!(bal["balances"][0]["availableAmount"], "500.00", "{bal}");
    // The short link expired after 1 minute (the default would be 30).
    app.advance(57.0).await;
    let (_, _, q) =
        platform_call(&app, "shopAccountBindQuery", &json!({"bindId": "B-SHORT"})).await;
    assert_eq!(q["status"], "FAILURE", "{q}");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn infinia_rules_fail_delay_carry_values_refuse_and_shape_notifications() {
    let app = spawn_with(Setup {
        config: Some(SFTP_CONFIG.to_owned()),
        ..Default::default()
    })
    .await;
    let hooks = HookReceiver::start(vec![]).await;
    set_hook_url(&app, &hooks.url);
    let m = Merchant::demo();
    load(
        &app,
        r#"
name = "e2e-infinia"
[[rule]]
name = "seller declines"
surface = "infinia"
operation = "account-binding/request"
[rule.when]
sellerId = "S-NO"
[rule.then]
result = "failure"
reason = "seller declined (e2e)"
delay = "4s"
[[rule]]
name = "short link"
surface = "infinia"
operation = "account-binding/request"
[rule.when]
sellerId = "S-LINK"
[rule.then]
values = { linkTtl = "1m" }
[[rule]]
name = "seller approves quietly"
surface = "infinia"
operation = "account-binding/request"
[rule.then]
result = "success"
delay = "2s"
[rule.then.notify]
suppress = true
[[rule]]
name = "query unavailable"
surface = "infinia"
operation = "account-binding/query"
[rule.when]
requestNo = "ABR-DOWN"
[rule.then]
code = "SYS-008"
detail = "try later (e2e)"
"#,
    )
    .await;
    m.ok(
        &app,
        "account-binding/request",
        &binding_request("ABR-NO", "S-NO"),
    )
    .await;
    assert_eq!(
        last_rule(&app, "infinia", "account-binding/request").await,
        "seller declines"
    );
    m.ok(
        &app,
        "account-binding/request",
        &binding_request("ABR-YES", "S-YES"),
    )
    .await;
    let q = |no: &'static str| {
        let (app, m) = (&app, &m);
        async move {
            m.ok(app, "account-binding/query", &json!({"requestNo": no}))
                .await
        }
    };
    app.advance(3.0).await;
    assert_eq!(q("ABR-YES").await["bindingStatus"], "BOUND");
    assert_eq!(q("ABR-NO").await["bindingStatus"], "PENDING");
    app.advance(1.0).await;
    let no = q("ABR-NO").await;
    assert_eq!(no["bindingStatus"], "REJECTED", "{no}");
    assert_eq!(no["reason"], "seller declined (e2e)");
    let n = ledger(&app, "apiCode=sellerStatus").await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(
        n[0]["status"], "suppressed",
        "notify applies to the webhook: {:?}",
        n[0]
    );
    assert!(hooks.hooks().is_empty());
    // values.linkTtl: the link of a (still pending) binding lives 1 minute.
    let link = m
        .ok(
            &app,
            "account-binding/request",
            &binding_request("ABR-LINK", "S-LINK"),
        )
        .await;
    let url = link["redirectUrl"].as_str().unwrap();
    let path = &url[url.find("/authorize/").unwrap()..];
    let (status, text) = app.get_text(path).await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains("expired"), "{text}");
    app.advance(61.0).await;
    let (_, text) = app.get_text(path).await;
    assert!(
        text.contains("expired"),
        "the 1-minute link expired: {text}"
    );
    // A synchronous code: the SYS code and message, the operation not run.
    let refused = m
        .call(
            &app,
            "account-binding/query",
            &json!({"requestNo": "ABR-DOWN"}),
        )
        .await;
    assert_eq!(refused.code, "SYS-008");
    assert_eq!(refused.message, "try later (e2e)");
    assert_eq!(refused.data, None);
    app.shutdown().await;
}

#[tokio::test]
async fn pockyt_rules_fail_delay_carry_values_refuse_and_shape_notifications() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let no = active_payee(&app, "rules@example.com").await;
    let token = bank_account(&app, &no, &ipn.url()).await;
    load(
        &app,
        r#"
name = "e2e-pockyt"
[[rule]]
name = "returned quickly, quietly"
surface = "pockyt"
operation = "/v3/payouts/pay"
[rule.when]
invoiceId = "R-RET"
[rule.then]
result = "success"
status = "returned"
delay = "2s"
values = { returnAfter = "5s" }
[rule.then.notify]
suppress = true
[[rule]]
name = "fails after 3 s"
surface = "pockyt"
operation = "/v3/payouts/pay"
[rule.when]
invoiceId = "R-FAIL"
[rule.then]
result = "failure"
reason = "payee bank closed (e2e)"
delay = "3s"
[[rule]]
name = "balance refused"
surface = "pockyt"
operation = "/v3/payouts/balance"
[rule.then]
code = "000080"
detail = "supplier down (e2e)"
"#,
    )
    .await;
    let pay = |amount: &str, invoice: &str| json!({"customerNo": no, "accountToken": token, "amount": amount, "currency": "USD", "invoiceId": invoice});
    let ret = ok(&app, "/v3/payouts/pay", pay("50.00", "R-RET")).await;
    let fail = ok(&app, "/v3/payouts/pay", pay("10.00", "R-FAIL")).await;
    let txn = |r: &Value| r["result"]["transactionNo"].as_str().unwrap().to_owned();
    let (ret, fail) = (txn(&ret), txn(&fail));
    let status = |t: String| {
        let app = &app;
        async move {
            let q = ok(app, "/v3/payouts/inquiry", json!({"transactionNo": t})).await;
            q["result"].clone()
        }
    };
    app.advance(2.0).await;
    assert_eq!(status(ret.clone()).await["status"], "success");
    assert_eq!(status(fail.clone()).await["status"], "pending");
    app.advance(1.0).await;
    assert_eq!(status(fail.clone()).await["status"], "failed");
    app.advance(3.0).await;
    assert_eq!(
        status(ret.clone()).await["status"],
        "success",
        "returned 5 s after success"
    );
    app.advance(1.0).await;
    assert_eq!(status(ret.clone()).await["status"], "returned");
    let quiet = ledger(&app, &format!("businessId={ret}")).await;
    assert_eq!(quiet.len(), 2, "{quiet:?}");
    assert!(
        quiet.iter().all(|n| n["status"] == "suppressed"),
        "{quiet:?}"
    );
    let loud = app.wait_notification(&format!("businessId={fail}")).await;
    assert_eq!(loud["status"], "delivered", "{loud}");
    assert!(ipn
        .received()
        .iter()
        .all(|i| i.fields()["transactionNo"] != ret.as_str()));
    let refused = pockyt_call(&app, "/v3/payouts/balance", json!({})).await;
    assert_eq!(refused["ret_code"], "000080", "{refused}");
    assert_eq!(refused["ret_msg"], "supplier down (e2e)");
    assert_eq!(
        last_rule(&app, "pockyt", "/v3/payouts/balance").await,
        "balance refused"
    );
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_sync_code_must_be_the_surfaces_own_and_unscoped_codes_fall_back() {
    let app = spawn_app().await;
    for (surface, code, scheme) in [
        ("whalet", "SYS-008", "a Whalet code"),
        ("platform", "000080", "a Whalet code"),
        ("infinia", "FAILURE", "an Infinia code"),
        ("pockyt", "SYS-002", "a Pockyt ret_code"),
    ] {
        let text = format!(
            "name = \"bad-{surface}\"\n[[rule]]\nsurface = \"{surface}\"\n[rule.then]\ncode = \"{code}\"\n"
        );
        let (status, body) = app.load_scenario(&text, "").await;
        assert_eq!(status, 400, "{surface}: {body}");
        assert!(
            body["reason"].as_str().unwrap().contains(scheme),
            "{surface}: {body}"
        );
    }
    for (surface, operation, code) in [
        ("whalet", "queryCurrencyBalance", "FAILURE"),
        ("platform", "balanceQuery", "IDEMPOTENT_ERROR"),
        ("infinia", "trade-details/query", "SYS-001"),
        ("pockyt", "/v3/payee/retrieve", "000030"),
    ] {
        let text = format!(
            "name = \"good-{surface}\"\n[[rule]]\nsurface = \"{surface}\"\noperation = \"{operation}\"\n[rule.then]\ncode = \"{code}\"\n"
        );
        let (status, body) = app.load_scenario(&text, "").await;
        assert_eq!(status, 200, "{surface}: {body}");
    }
    // An operation the rule's surface does not have is a typo, refused with the nearest name.
    for (surface, operation, nearest) in [
        ("pockyt", "/v3/payout/pay", "/v3/payouts/pay"),
        ("whalet", "connectivty", "connectivity"),
    ] {
        let text = format!(
            "name = \"typo\"\n[[rule]]\nsurface = \"{surface}\"\noperation = \"{operation}\"\n[rule.then]\nresult = \"failure\"\n"
        );
        let (status, body) = app.load_scenario(&text, "").await;
        assert_eq!(status, 400, "{operation}: {body}");
        assert_eq!(body["line"], 4, "{body}");
        let reason = body["reason"].as_str().unwrap();
        assert!(reason.contains(nearest), "{operation}: {reason}");
    }
    // A rule for every surface with a Whalet code: Pockyt answers its generic system error.
    load(
        &app,
        "name = \"everywhere\"\n[[rule]]\noperation = \"/v3/payouts/balance\"\n[rule.then]\ncode = \"FAILURE\"\n",
    )
    .await;
    let refused = pockyt_call(&app, "/v3/payouts/balance", json!({})).await;
    assert_eq!(refused["ret_code"], "000000", "{refused}");
    app.shutdown().await;
}

#[tokio::test]
async fn infinia_seller_status_request_nos_follow_the_seed() {
    let mut seen = Vec::new();
    for seed in [7, 7, 8] {
        // A fixed run tag: without one every run's requestNos differ (they must not repeat
        // across runs); with it, the seed decides them.
        let app = spawn_with(Setup {
            config: Some(format!("[notify]\nrun_tag = 1\n{SFTP_CONFIG}")),
            ..Default::default()
        })
        .await;
        load(&app, &format!("name = \"seeded\"\nseed = {seed}\n")).await;
        crate::infinia::support::bind(&app, &Merchant::demo(), "SELLER-SEED").await;
        let n = ledger(&app, "apiCode=sellerStatus").await;
        assert_eq!(n.len(), 1, "{n:?}");
        seen.push(n[0]["requestNo"].as_str().unwrap().to_owned());
        app.shutdown().await;
    }
    assert_eq!(seen[0], seen[1], "same seed, same requestNo");
    assert_ne!(seen[0], seen[2], "another seed, another requestNo");
    assert_eq!(seen[0].len(), 36, "a UUID: {}", seen[0]);
    assert_eq!(&seen[0][14..15], "4", "version 4: {}", seen[0]);
}

#[tokio::test]
async fn a_tenant_reset_cancels_that_tenants_pending_settlements() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let no = active_payee(&app, "reset@example.com").await;
    let token = bank_account(&app, &no, &ipn.url()).await;
    ok(
        &app,
        "/v3/payouts/pay",
        json!({"customerNo": no, "accountToken": token, "amount": "10.00", "currency": "USD", "invoiceId": "RESET-1"}),
    )
    .await;
    let (status, body) = app
        .post("/__sim/reset", &json!({"tenant": "pockyt:202333"}))
        .await;
    assert_eq!(status, 200, "{body}");
    // The same ids again after the reset: only the new payout's own timer may settle it.
    let no = active_payee(&app, "reset@example.com").await;
    let token = bank_account(&app, &no, &ipn.url()).await;
    let again = ok(
        &app,
        "/v3/payouts/pay",
        json!({"customerNo": no, "accountToken": token, "amount": "10.00", "currency": "USD", "invoiceId": "RESET-1"}),
    )
    .await;
    let txn = again["result"]["transactionNo"]
        .as_str()
        .unwrap()
        .to_owned();
    // The old payout (made 10 s earlier) would have settled at 20 s from here.
    app.advance(25.0).await;
    let q = ok(&app, "/v3/payouts/inquiry", json!({"transactionNo": txn})).await;
    assert_eq!(
        q["result"]["status"], "pending",
        "the old timer was cancelled: {q}"
    );
    assert!(ledger(&app, "tenant=pockyt:202333").await.is_empty());
    app.advance(5.0).await;
    let q = ok(&app, "/v3/payouts/inquiry", json!({"transactionNo": txn})).await;
    assert_eq!(q["result"]["status"], "success");
    app.assert_invariants().await;
    app.shutdown().await;
}
