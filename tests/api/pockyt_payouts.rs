//! Pockyt payouts end to end: payee → account → payout → signed IPN (verified by the Python
//! implementation), insufficient balance, duplicate invoiceIds, failed and returned payouts with
//! their refunds, IPN re-sends on the virtual clock, JSON IPNs, funding, and the scenario file.

use serde_json::{json, Value};

use crate::helpers::{repo_path, spawn_app, spawn_with, Setup, TestApp};
use crate::pockyt_support::{
    active_payee, balance, bank_account, call, ok, pockyt_py, sign, signed, IpnReceiver, TOKEN,
};

async fn setup(app: &TestApp, email: &str, ipn: &IpnReceiver) -> (String, String) {
    let no = active_payee(app, email).await;
    let token = bank_account(app, &no, &ipn.url()).await;
    (no, token)
}

fn pay(no: &str, token: &str, amount: &str, invoice: &str) -> Value {
    json!({"customerNo": no, "accountToken": token, "amount": amount, "currency": "USD", "invoiceId": invoice})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payee_account_payout_and_a_signed_ipn() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "flow@example.com", &ipn).await;
    assert_eq!(balance(&app).await, "10000.00");
    let reply = ok(&app, "/v3/payouts/pay", pay(&no, &token, "200", "INV-1")).await;
    assert_eq!(reply["ret_msg"], "pending");
    let r = &reply["result"];
    assert_eq!(r["amount"], "200.00");
    assert_eq!(r["transactionFee"], "2.00"); // 1.00 + 0.5 %
    assert_eq!(r["status"], "pending");
    assert_eq!(r["invoiceId"], "INV-1");
    assert_eq!(r["customerNo"], no.as_str());
    let txn = r["transactionNo"].as_str().unwrap().to_owned();
    assert_eq!(balance(&app).await, "9798.00");
    let pending = ok(&app, "/v3/payouts/balance", json!({})).await;
    assert_eq!(
        pending["balances"][0]["pendingAmount"], "200.00",
        "{pending}"
    );
    app.advance(29.0).await;
    assert!(ipn.received().is_empty());
    app.advance(1.0).await;
    let n = app.wait_notification(&format!("businessId={txn}")).await;
    assert_eq!(n["status"], "delivered", "{n}");
    assert_eq!(n["topic"], "payout.success");
    let got = ipn.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].content_type, "application/x-www-form-urlencoded");
    let fields = got[0].fields();
    assert_eq!(fields["status"], "success");
    assert_eq!(fields["amount"], "200.00");
    assert_eq!(fields["transactionNo"], txn.as_str());
    assert_eq!(fields["invoiceId"], "INV-1");
    assert_eq!(fields["vendor"], "BANK_ACCOUNT");
    assert_eq!(fields["paymentTime"], "2025-01-01T00:00:40Z");
    assert_eq!(fields["verifySign"], sign(&fields, TOKEN).as_str());
    let (code, out) = pockyt_py(&["verify", "--token", TOKEN, "--body", "-"], &got[0].body);
    assert_eq!(code, 0, "the Python implementation rejects the IPN: {out}");
    let (code, _) = pockyt_py(&["verify", "--token", "other", "--body", "-"], &got[0].body);
    assert_eq!(code, 1);
    for query in [json!({"invoiceId": "INV-1"}), json!({"transactionNo": txn})] {
        let got = ok(&app, "/v3/payouts/inquiry", query).await;
        assert_eq!(got["ret_msg"], "query success");
        assert_eq!(got["result"]["status"], "success");
        assert_eq!(got["result"]["paymentTime"], "2025-01-01T00:00:40Z");
    }
    assert_eq!(balance(&app).await, "9798.00");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn insufficient_balance_is_000040_and_changes_nothing() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "poor@example.com", &ipn).await;
    let reply = call(
        &app,
        "/v3/payouts/pay",
        pay(&no, &token, "9950.00", "INV-BIG"),
    )
    .await;
    assert_eq!(reply["ret_code"], "000040", "{reply}");
    assert_eq!(
        reply["ret_msg"],
        "account balance not sufficient: available 10000.00 USD, needed 10000.75 USD (amount 9950.00 USD + fee 50.75 USD)"
    );
    assert_eq!(balance(&app).await, "10000.00");
    let q = call(&app, "/v3/payouts/inquiry", json!({"invoiceId": "INV-BIG"})).await;
    assert_eq!(
        q,
        json!({"ret_code": "000021", "ret_msg": "no payout with invoiceId INV-BIG"})
    );
    // More funds arrive; the same invoiceId now goes through.
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.balance.funded",
            &json!({"currency": "USD", "amount": "1000.00"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(balance(&app).await, "11000.00");
    ok(
        &app,
        "/v3/payouts/pay",
        pay(&no, &token, "9950.00", "INV-BIG"),
    )
    .await;
    assert_eq!(balance(&app).await, "999.25");
    app.assert_invariants().await;
    app.shutdown().await;
}

/// Regression: an amount within the largest amount whose fee took the debit past it was answered
/// `000000` (system error) from inside the ledger. It is a value error naming amount and fee.
#[tokio::test]
async fn an_amount_whose_fee_takes_the_debit_past_the_largest_amount_is_a_value_error() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "huge@example.com", &ipn).await;
    let reply = call(
        &app,
        "/v3/payouts/pay",
        pay(&no, &token, "9960000000000.00", "INV-HUGE"),
    )
    .await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": "amount 9960000000000.00 USD plus fee \
               49800000001.00 USD is more than the largest amount the simulator moves \
               (1000000000000000 minor units)"})
    );
    assert_eq!(balance(&app).await, "10000.00");
    let q = call(
        &app,
        "/v3/payouts/inquiry",
        json!({"invoiceId": "INV-HUGE"}),
    )
    .await;
    assert_eq!(q["ret_code"], "000021", "{q}");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_duplicate_invoice_id_is_idempotent_and_a_conflicting_one_is_refused() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "dup@example.com", &ipn).await;
    let first = ok(&app, "/v3/payouts/pay", pay(&no, &token, "10.00", "INV-D")).await;
    let again = ok(&app, "/v3/payouts/pay", pay(&no, &token, "10", "INV-D")).await;
    assert_eq!(
        again["result"]["transactionNo"],
        first["result"]["transactionNo"]
    );
    assert_eq!(balance(&app).await, "9988.95");
    let other = call(&app, "/v3/payouts/pay", pay(&no, &token, "11.00", "INV-D")).await;
    assert_eq!(other["ret_code"], "000022", "{other}");
    assert!(
        other["ret_msg"]
            .as_str()
            .unwrap()
            .contains("invoiceId INV-D was already used"),
        "{other}"
    );
    assert_eq!(balance(&app).await, "9988.95");
    app.advance(30.0).await;
    let after = ok(&app, "/v3/payouts/pay", pay(&no, &token, "10.00", "INV-D")).await;
    assert_eq!(after["ret_msg"], "success");
    assert_eq!(after["result"]["status"], "success");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_returned_payout_refunds_the_amount_and_sends_a_returned_ipn() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "ret@example.com", &ipn).await;
    let reply = ok(&app, "/v3/payouts/pay", pay(&no, &token, "100.00", "INV-R")).await;
    let txn = reply["result"]["transactionNo"]
        .as_str()
        .unwrap()
        .to_owned();
    // Returning a pending payout is refused.
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.payout.returned",
            &json!({"invoiceId": "INV-R"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    app.advance(30.0).await;
    assert_eq!(balance(&app).await, "9898.50");
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.payout.returned",
            &json!({"transactionNo": txn, "reason": "account closed"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["status"], "returned");
    app.wait_notification(&format!("businessId={txn}&apiCode=payout.returned"))
        .await;
    let got = ipn.wait_for(2).await;
    let statuses: Vec<Value> = got.iter().map(|i| i.fields()["status"].clone()).collect();
    assert_eq!(statuses, vec![json!("success"), json!("returned")]);
    // The amount comes back; the fee (1.50) is kept.
    assert_eq!(balance(&app).await, "9998.50");
    let q = ok(&app, "/v3/payouts/inquiry", json!({"transactionNo": txn})).await;
    assert_eq!(q["result"]["status"], "returned");
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_failed_payout_refunds_amount_and_fee() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "fail@example.com", &ipn).await;
    ok(&app, "/v3/payouts/pay", pay(&no, &token, "50.00", "INV-F")).await;
    assert_eq!(balance(&app).await, "9948.75");
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.payout.failed",
            &json!({"invoiceId": "INV-F"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(balance(&app).await, "10000.00");
    let got = ipn.wait_for(1).await;
    assert_eq!(got[0].fields()["status"], "failed");
    // The scheduled settlement no longer applies.
    app.advance(60.0).await;
    let q = ok(&app, "/v3/payouts/inquiry", json!({"invoiceId": "INV-F"})).await;
    assert_eq!(q["result"]["status"], "failed");
    assert_eq!(ipn.received().len(), 1);
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn payouts_to_unusable_payees_or_accounts_are_refused() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "gate@example.com", &ipn).await;
    let cases = [
        (
            pay(&no, &token, "0", "I1"),
            "000023",
            "amount must be greater than zero",
        ),
        (pay(&no, &token, "1.001", "I1"), "000023", "decimal places"),
        (
            pay(&no, "nope", "1", "I1"),
            "000021",
            "no payout account with accountToken nope",
        ),
        (
            json!({"customerNo": no, "accountToken": token, "amount": "1", "currency": "EUR", "invoiceId": "I1"}),
            "000023",
            "currency must be one of",
        ),
        // A listed code but for its case or white space is told so, as on every surface.
        (
            json!({"customerNo": no, "accountToken": token, "amount": "1", "currency": "usd", "invoiceId": "I1"}),
            "000023",
            "currency \"usd\" is not upper case; ISO 4217 codes are, send \"USD\"",
        ),
        (
            json!({"customerNo": no, "accountToken": token, "amount": "1", "currency": " USD ", "invoiceId": "I1"}),
            "000023",
            "currency \" USD \" has whitespace around the code; send \"USD\"",
        ),
        (
            json!({"customerNo": no, "accountToken": token, "amount": "1", "currency": "USD"}),
            "000020",
            "invoiceId is required",
        ),
    ];
    for (body, code, msg) in cases {
        let reply = call(&app, "/v3/payouts/pay", body.clone()).await;
        assert_eq!(reply["ret_code"], code, "{body}: {reply}");
        let said = reply["ret_msg"].as_str().unwrap();
        assert!(said.contains(msg), "{body}: {reply}");
        // The field's name is said once (t54b F3: "currency: currency \"usd\" …").
        assert!(!said.contains("currency: currency"), "{body}: {reply}");
    }
    app.post(
        "/__sim/trigger/pockyt.payee.deactivated",
        &json!({"customerNo": no}),
    )
    .await;
    let reply = call(&app, "/v3/payouts/pay", pay(&no, &token, "1", "I2")).await;
    assert_eq!(
        reply,
        json!({"ret_code": "000040", "ret_msg": "payee status Deactivated"})
    );
    assert_eq!(balance(&app).await, "10000.00");
    app.shutdown().await;
}

/// `pay` signed with `amount` as the text `amount_text`, sent as a JSON number (the client's
/// characters, signed as such).
fn pay_with_number(no: &str, token: &str, amount_text: &str, invoice: &str) -> Vec<u8> {
    let text = signed(pay(no, token, amount_text, invoice)).to_string();
    text.replace(
        &format!("\"amount\":\"{amount_text}\""),
        &format!("\"amount\":{amount_text}"),
    )
    .into_bytes()
}

/// A JSON number amount is read as the characters sent, as the same string would be: more
/// decimals than the currency has, an exponent or a sign are refused, never rounded or rewritten.
#[tokio::test]
async fn an_amount_sent_as_a_json_number_is_read_as_written() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "number@example.com", &ipn).await;
    let cases = [
        (
            "1.0000000000000001",
            "amount \"1.0000000000000001\" has 16 decimal places; USD has 2",
        ),
        (
            "0.0099999999999999999",
            "amount \"0.0099999999999999999\" has 19 decimal places; USD has 2",
        ),
        (
            "1e2",
            "amount \"1e2\" is not a plain decimal number like 100.25",
        ),
        (
            "-0",
            "amount \"-0\" is zero written with a minus sign; amounts are written without one",
        ),
        ("-5", "amount \"-5\" is negative"),
    ];
    for (i, (number, msg)) in cases.into_iter().enumerate() {
        for as_number in [true, false] {
            let invoice = format!("N{i}{as_number}");
            let reply = if as_number {
                let body = pay_with_number(&no, &token, number, &invoice);
                let (status, text) = app
                    .post_raw("/v3/payouts/pay", "application/json", body)
                    .await;
                assert_eq!(status, 200, "{text}");
                serde_json::from_str::<Value>(&text).unwrap()
            } else {
                call(&app, "/v3/payouts/pay", pay(&no, &token, number, &invoice)).await
            };
            assert_eq!(
                reply,
                json!({"ret_code": "000023", "ret_msg": msg}),
                "{number} as a number: {as_number}"
            );
        }
    }
    assert_eq!(balance(&app).await, "10000.00");
    let body = pay_with_number(&no, &token, "100.10", "N-OK");
    let (_, text) = app
        .post_raw("/v3/payouts/pay", "application/json", body)
        .await;
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["result"]["amount"], "100.10", "{reply}");
    app.shutdown().await;
}

#[tokio::test]
async fn ipns_are_resent_on_the_virtual_schedule_until_acknowledged_and_can_be_json() {
    let app = spawn_with(Setup {
        config: Some("[pockyt]\nipn_format = \"json\"\npayout_settle_delay_ms = 1000\n".into()),
        ..Setup::default()
    })
    .await;
    let ipn = IpnReceiver::start(2).await;
    let (no, token) = setup(&app, "retry@example.com", &ipn).await;
    let reply = ok(&app, "/v3/payouts/pay", pay(&no, &token, "5.00", "INV-J")).await;
    let txn = reply["result"]["transactionNo"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(1.0).await;
    assert_eq!(ipn.wait_for(1).await.len(), 1);
    app.advance(14.0).await;
    assert_eq!(
        ipn.received().len(),
        1,
        "the first re-send is 15 s after the first attempt"
    );
    app.advance(1.0).await;
    assert_eq!(ipn.wait_for(2).await.len(), 2);
    app.advance(30.0).await;
    let n = app.wait_notification(&format!("businessId={txn}")).await;
    assert_eq!(n["status"], "delivered", "{n}");
    let attempts = n["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts[0]["verdict"]
            .as_str()
            .unwrap()
            .contains("`success`"),
        "{n}"
    );
    let got = ipn.received();
    assert_eq!(got[2].content_type, "application/json");
    let fields = got[2].fields();
    assert_eq!(fields["verifySign"], sign(&fields, TOKEN).as_str());
    let (code, out) = pockyt_py(&["verify", "--token", TOKEN, "--body", "-"], &got[2].body);
    assert_eq!(code, 0, "{out}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_reset_restores_the_starting_balance_and_cancels_nothing_it_should_not() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "reset@example.com", &ipn).await;
    ok(&app, "/v3/payouts/pay", pay(&no, &token, "100.00", "INV-Z")).await;
    assert_eq!(balance(&app).await, "9898.50");
    let (status, body) = app
        .post("/__sim/reset", &json!({"tenant": "pockyt:202333"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(balance(&app).await, "10000.00");
    let q = call(&app, "/v3/payouts/inquiry", json!({"invoiceId": "INV-Z"})).await;
    assert_eq!(q["ret_code"], "000021");
    // The forgotten payout's timer finds nothing to settle.
    app.advance(60.0).await;
    assert!(ipn.received().is_empty());
    app.assert_invariants().await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_ipn_is_resent_8_times_within_two_hours_then_exhausted() {
    let app = spawn_with(Setup {
        config: Some("[pockyt]\npayout_settle_delay_ms = 0\n".into()),
        ..Setup::default()
    })
    .await;
    let ipn = IpnReceiver::start(1_000).await;
    let (no, token) = setup(&app, "down@example.com", &ipn).await;
    let reply = ok(&app, "/v3/payouts/pay", pay(&no, &token, "5.00", "INV-X")).await;
    let txn = reply["result"]["transactionNo"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(2.0 * 3600.0).await;
    let n = app.wait_notification(&format!("businessId={txn}")).await;
    assert_eq!(n["status"], "exhausted", "{n}");
    let times: Vec<i64> = n["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["virtualTime"].as_i64().unwrap())
        .collect();
    let offsets: Vec<i64> = times.iter().map(|t| (t - times[0]) / 1000).collect();
    assert_eq!(offsets, vec![0, 15, 45, 105, 225, 525, 1125, 2925, 6525]);
    assert_eq!(ipn.received().len(), 9);
    // The payout itself is unaffected by the merchant's endpoint being down.
    let q = ok(&app, "/v3/payouts/inquiry", json!({"transactionNo": txn})).await;
    assert_eq!(q["result"]["status"], "success");
    app.shutdown().await;
}

#[tokio::test]
async fn the_pockyt_payouts_scenario_returns_large_payouts() {
    let app = spawn_with(Setup {
        scenario_files: vec![repo_path("scenarios/pockyt-payouts.toml").into()],
        ..Setup::default()
    })
    .await;
    let ipn = IpnReceiver::start(0).await;
    // Payee review takes 10 s: the payouts below are made at 10 s of virtual time.
    let (no, token) = setup(&app, "scn@example.com", &ipn).await;
    let small = ok(&app, "/v3/payouts/pay", pay(&no, &token, "20.00", "SCN-1")).await;
    let big = ok(&app, "/v3/payouts/pay", pay(&no, &token, "600.00", "SCN-2")).await;
    let bad = ok(&app, "/v3/payouts/pay", pay(&no, &token, "13.13", "SCN-3")).await;
    let txn = |r: &Value| r["result"]["transactionNo"].as_str().unwrap().to_owned();
    let (small, big, bad) = (txn(&small), txn(&big), txn(&bad));
    let status = |t: String| {
        let app = &app;
        async move {
            let q = ok(app, "/v3/payouts/inquiry", json!({"transactionNo": t})).await;
            q["result"]["status"].as_str().unwrap().to_owned()
        }
    };
    let journal = app
        .get_json("/__sim/requests?surface=pockyt&operation=/v3/payouts/pay")
        .await;
    let rules: Vec<Value> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].clone())
        .collect();
    assert_eq!(
        rules,
        // Newest first.
        [
            json!("unlucky amount fails"),
            json!("large payouts are returned"),
            Value::Null
        ],
        "{journal}"
    );
    let after_pay = cents(&balance(&app).await);
    // 30 s after paying: the ordinary and the large payout succeed; 13.13 is still pending.
    app.advance(30.0).await;
    assert_eq!(status(small.clone()).await, "success");
    assert_eq!(status(big.clone()).await, "success");
    assert_eq!(status(bad.clone()).await, "pending");
    // 45 s: 13.13 fails and its amount and fee come back.
    app.advance(15.0).await;
    assert_eq!(status(bad.clone()).await, "failed");
    let after_fail = cents(&balance(&app).await);
    assert!(after_fail > after_pay + 1313, "{after_pay} -> {after_fail}");
    // 60 s after loading the timeline funds the merchant with 5,000.00 USD.
    app.advance(5.0).await;
    assert_eq!(cents(&balance(&app).await), after_fail + 500_000);
    // The large payout is returned 10 minutes after it succeeded (at 40 s + 10 min).
    app.advance(9.0 * 60.0 + 39.0).await;
    assert_eq!(status(big.clone()).await, "success");
    app.advance(1.0).await;
    assert_eq!(status(big.clone()).await, "returned");
    assert_eq!(
        cents(&balance(&app).await),
        after_fail + 500_000 + 60_000,
        "the returned amount is refunded"
    );
    assert_eq!(status(small).await, "success");
    let n = app.wait_notification(&format!("businessId={big}")).await;
    assert_eq!(n["status"], "delivered", "{n}");
    let about_big: Vec<String> = ipn
        .received()
        .iter()
        .map(|i| i.fields())
        .filter(|f| f["transactionNo"] == big.as_str())
        .map(|f| f["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(about_big, ["success", "returned"]);
    app.assert_invariants().await;
    app.shutdown().await;
}

/// "9798.00" -> 979800.
fn cents(text: &str) -> i64 {
    let (whole, frac) = text.split_once('.').unwrap_or((text, "00"));
    whole.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap()
}

/// A pay request names every missing field at once.
#[tokio::test]
async fn pay_names_every_missing_field_at_once() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, _) = setup(&app, "fields@example.com", &ipn).await;
    let reply = call(&app, "/v3/payouts/pay", json!({"customerNo": no})).await;
    assert_eq!(reply["ret_code"], "000020", "{reply}");
    let msg = reply["ret_msg"].as_str().unwrap();
    for name in ["accountToken", "currency", "amount", "invoiceId"] {
        assert!(
            msg.contains(&format!("{name} is required")),
            "{name}: {msg}"
        );
    }
    app.shutdown().await;
}

/// The decimal places counted are the ones sent, trailing zeros included.
#[tokio::test]
async fn too_many_decimal_places_are_counted_as_sent() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "places@example.com", &ipn).await;
    let mut krw = pay(&no, &token, "100.50", "I-KRW");
    krw["currency"] = json!("KRW");
    let reply = call(&app, "/v3/payouts/pay", krw).await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": "amount \"100.50\" has 2 decimal places; KRW has 0"})
    );
    app.shutdown().await;
}

/// An ipnUrl no IPN could reach is refused at request time, before anything is debited.
#[tokio::test]
async fn pay_refuses_an_ipn_url_without_a_host() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "url@example.com", &ipn).await;
    for url in ["http://", "https:///ipn", "mailto:a@b.c"] {
        let mut body = pay(&no, &token, "1.00", "I-URL");
        body["ipnUrl"] = json!(url);
        let reply = call(&app, "/v3/payouts/pay", body).await;
        assert_eq!(reply["ret_code"], "000023", "{url}: {reply}");
        assert!(
            reply["ret_msg"]
                .as_str()
                .unwrap()
                .contains("ipnUrl must be an absolute http:// or https:// URL with a host"),
            "{url}: {reply}"
        );
    }
    assert_eq!(balance(&app).await, "10000.00");
    app.shutdown().await;
}

/// The amount is checked even when the currency is missing or refused (its format, sign and
/// zero hold in every currency), so that one refusal names every problem; its decimal places
/// wait for a currency.
#[tokio::test]
async fn an_amount_is_checked_even_when_the_currency_is_refused() {
    let app = spawn_app().await;
    let base = json!({"customerNo": "1", "accountToken": "2", "invoiceId": "x"});
    let with = |extra: Value| {
        let mut body = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (extra, code, named) in [
        (
            json!({"currency": "JPY", "amount": "-1"}),
            "000023",
            vec!["currency must be one of", "\"-1\" is negative"],
        ),
        (
            json!({"amount": "abc"}),
            "000020",
            vec!["currency is required", "\"abc\" is not a plain decimal"],
        ),
        (
            json!({"currency": "usd", "amount": "0.00"}),
            "000023",
            vec![
                "currency \"usd\" is not upper case",
                "amount must be greater than zero",
            ],
        ),
    ] {
        let reply = call(&app, "/v3/payouts/pay", with(extra.clone())).await;
        assert_eq!(reply["ret_code"], code, "{extra}: {reply}");
        let msg = reply["ret_msg"].as_str().unwrap();
        for part in named {
            assert!(msg.contains(part), "{part:?} not in {msg}");
        }
    }
    // Decimal places and the largest amount depend on the currency: not judged without one.
    for amount in ["1.001", "99999999999999999"] {
        let reply = call(&app, "/v3/payouts/pay", with(json!({"amount": amount}))).await;
        assert_eq!(
            reply,
            json!({"ret_code": "000020", "ret_msg": "currency is required"}),
            "{amount}"
        );
    }
    app.shutdown().await;
}

/// A trigger given both `transactionNo` and `invoiceId` of different payouts is refused naming
/// both, and changes nothing (as `/v3/payouts/inquiry` refuses the same disagreement).
#[tokio::test]
async fn a_trigger_naming_two_different_payouts_is_refused() {
    let app = spawn_app().await;
    let ipn = IpnReceiver::start(0).await;
    let (no, token) = setup(&app, "two@example.com", &ipn).await;
    let a = ok(&app, "/v3/payouts/pay", pay(&no, &token, "10.00", "INV-A")).await;
    ok(&app, "/v3/payouts/pay", pay(&no, &token, "20.00", "INV-B")).await;
    let txn_a = a["result"]["transactionNo"].as_str().unwrap().to_owned();
    let before = balance(&app).await;
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.payout.failed",
            &json!({"transactionNo": txn_a, "invoiceId": "INV-B"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    for part in [
        format!("transactionNo {txn_a} and invoiceId INV-B name different payouts"),
        "invoiceId INV-B is transactionNo".to_owned(),
    ] {
        assert!(text.contains(&part), "{part:?} not in {text}");
    }
    // Naming neither is a parameter error (400), as any missing parameter.
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.payout.failed",
            &json!({"reason": "no id"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string()
            .contains("needs parameter transactionNo or invoiceId"),
        "{body}"
    );
    assert_eq!(balance(&app).await, before);
    for invoice in ["INV-A", "INV-B"] {
        let q = ok(&app, "/v3/payouts/inquiry", json!({"invoiceId": invoice})).await;
        assert_eq!(q["result"]["status"], "pending", "{invoice}");
    }
    // Both naming the same payout is fine.
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.payout.failed",
            &json!({"transactionNo": txn_a, "invoiceId": "INV-A"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["invoiceId"], "INV-A");
    app.assert_invariants().await;
    app.shutdown().await;
}

/// Regression: `pockyt.balance.funded currency=EUR` credited EUR, which pay then refused (money
/// that could never be paid out), and a balance query for EUR answered 0.00. The trigger
/// refuses a currency pay does not pay in, naming the list; the query refuses it as pay does.
#[tokio::test]
async fn balances_hold_only_the_currencies_pay_pays_in() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/__sim/trigger/pockyt.balance.funded",
            &json!({"currency": "EUR", "amount": "100.00"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    for part in ["EUR is not a payout currency", "USD, CNY, PHP"] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
    let all = ok(&app, "/v3/payouts/balance", json!({})).await;
    assert!(!all.to_string().contains("EUR"), "nothing credited: {all}");
    let query = call(&app, "/v3/payouts/balance", json!({"currency": "EUR"})).await;
    let pay = call(
        &app,
        "/v3/payouts/pay",
        json!({"customerNo": "1", "accountToken": "2", "currency": "EUR", "amount": "1.00",
               "invoiceId": "EUR-1"}),
    )
    .await;
    assert_eq!(query["ret_code"], "000023", "{query}");
    assert_eq!(query, pay);
    // A payout currency is funded and queried as before.
    app.trigger_ok(
        "pockyt.balance.funded",
        json!({"currency": "GBP", "amount": "5.00"}),
    )
    .await;
    let gbp = ok(&app, "/v3/payouts/balance", json!({"currency": "GBP"})).await;
    assert_eq!(gbp["result"]["balance"], "5.00");
    app.shutdown().await;
}
