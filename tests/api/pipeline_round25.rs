//! What the shared request pipeline decides around an operation: which surface's rules govern
//! the upload endpoint, that a repeated business id is not a new request for the rules, and the
//! request number the journal shows when a contract overlay renamed it.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_with, Setup, TestApp};
use crate::pockyt_support::{active_payee, bank_account, ok};
use crate::whalet2_support::{now_ms, upload_with};

/// The newest journal entries of `surface`, newest first.
async fn journal(app: &TestApp, surface: &str) -> Vec<Value> {
    app.get_json(&format!("/__sim/requests?surface={surface}"))
        .await["requests"]
        .as_array()
        .unwrap()
        .clone()
}

/// A rule on the Whalet surface's `/file/upload` (the name the loader and `explain` take)
/// decides an upload, and the journal names it.
#[tokio::test]
async fn a_whalet_rule_on_the_upload_endpoint_decides_uploads() {
    let app = spawn_app().await;
    let rule = "name = \"no-uploads\"\n[[rule]]\nname = \"uploads fail\"\nsurface = \"whalet\"\n\
        operation = \"/file/upload\"\n[rule.then]\ncode = \"FAILURE\"\ndetail = \"closed\"\n";
    let (status, loaded) = app.load_scenario(rule, "").await;
    assert_eq!(status, 200, "{loaded}");
    let ts = now_ms(&app).await;
    let token = crate::whalet2_support::file_token(ts);
    let reply = upload_with(&app, "a.pdf", b"%PDF-1.4", ts, &token).await;
    assert_eq!(reply["code"], "FAILURE", "{reply}");
    let entries = journal(&app, "file").await;
    assert_eq!(entries[0]["rule"], "uploads fail", "{entries:?}");
    app.shutdown().await;
}

/// A payout that repeats its `invoiceId` answers the first payout and is no new request for
/// the rules: `nth = 2` fails the second real payout, not the repeat of the first.
#[tokio::test]
async fn a_repeated_invoice_id_does_not_count_toward_a_rule() {
    let app = spawn_app().await;
    let rule = "name = \"second-fails\"\ntenant = \"pockyt:202333\"\n[[rule]]\n\
        name = \"2nd payout fails\"\nsurface = \"pockyt\"\noperation = \"/v3/payouts/pay\"\nnth = 2\n\
        [rule.then]\nresult = \"failure\"\n";
    let (status, loaded) = app.load_scenario(rule, "tenant=pockyt:202333").await;
    assert_eq!(status, 200, "{loaded}");
    let no = active_payee(&app, "replay@example.com").await;
    let token = bank_account(&app, &no, "http://127.0.0.1:9/ipn").await;
    let pay = |amount: &str, invoice: &str| {
        json!({"customerNo": no, "accountToken": token, "amount": amount, "currency": "USD",
               "invoiceId": invoice})
    };
    let first = ok(&app, "/v3/payouts/pay", pay("11", "INV-A")).await;
    let again = ok(&app, "/v3/payouts/pay", pay("11", "INV-A")).await;
    assert_eq!(
        again["result"]["transactionNo"], first["result"]["transactionNo"],
        "a replay: {again}"
    );
    let second = ok(&app, "/v3/payouts/pay", pay("12", "INV-B")).await;
    app.advance(31.0).await;
    let inquiry =
        |invoice: &'static str| ok(&app, "/v3/payouts/inquiry", json!({"invoiceId": invoice}));
    let b = inquiry("INV-B").await;
    assert_eq!(
        b["result"]["status"], "failed",
        "the second payout: {b} ({second})"
    );
    let a = inquiry("INV-A").await;
    assert_eq!(a["result"]["status"], "success", "the first payout: {a}");
    let pays: Vec<Value> = journal(&app, "pockyt")
        .await
        .into_iter()
        .filter(|e| e["operation"] == "/v3/payouts/pay")
        .collect();
    let rules: Vec<&Value> = pays.iter().map(|e| &e["rule"]).collect();
    assert_eq!(
        rules,
        [&json!("2nd payout fails"), &Value::Null, &Value::Null],
        "newest first: {pays:?}"
    );
    app.shutdown().await;
}

/// A partner that sends Pockyt's `invoiceId` under its own name (`rename_request`) has its
/// request journaled under that number, as the simulator's own name would be.
#[tokio::test]
async fn the_journal_reads_a_renamed_invoice_id_as_the_request_number() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "[pockyt.\"/v3/payouts/pay\"]\nrename_request = { ref = \"invoiceId\" }\n",
    )
    .unwrap();
    let app = spawn_with(Setup {
        config: Some(format!("[contract]\nfile = \"{}\"\n", file.display())),
        ..Setup::default()
    })
    .await;
    let no = active_payee(&app, "renamed@example.com").await;
    let token = bank_account(&app, &no, "http://127.0.0.1:9/ipn").await;
    ok(
        &app,
        "/v3/payouts/pay",
        json!({"customerNo": no, "accountToken": token, "amount": "5", "currency": "USD",
               "ref": "INV-R"}),
    )
    .await;
    let entries = journal(&app, "pockyt").await;
    assert_eq!(entries[0]["operation"], "/v3/payouts/pay", "{entries:?}");
    assert_eq!(entries[0]["requestNo"], "INV-R", "{:?}", entries[0]);
    app.shutdown().await;
}

/// An Infinia binding request repeated under its `requestNo` answers the first link and is no
/// new request for the rules: `nth = 2` refuses the second real request, not the repeat.
#[tokio::test]
async fn a_repeated_infinia_request_no_does_not_count_toward_a_rule() {
    use crate::infinia::support::{binding_request, spawn_infinia, Merchant};
    let app = spawn_infinia("").await;
    let rule = "name = \"second-refused\"\ntenant = \"infinia:demo-app\"\n[[rule]]\n\
        name = \"2nd binding refused\"\nsurface = \"infinia\"\noperation = \"account-binding/request\"\n\
        nth = 2\n[rule.then]\ncode = \"SYS-008\"\ndetail = \"busy\"\n";
    let (status, loaded) = app.load_scenario(rule, "tenant=infinia:demo-app").await;
    assert_eq!(status, 200, "{loaded}");
    let m = Merchant::demo();
    let first = binding_request("ABR-R-1", "SELLER-R-1");
    let link = m.ok(&app, "account-binding/request", &first).await["redirectUrl"].clone();
    let again = m.ok(&app, "account-binding/request", &first).await;
    assert_eq!(again["redirectUrl"], link, "a replay: {again}");
    let second = m
        .call(
            &app,
            "account-binding/request",
            &binding_request("ABR-R-2", "SELLER-R-2"),
        )
        .await;
    assert_eq!(second.code, "SYS-008", "{}", second.message);
    app.shutdown().await;
}
