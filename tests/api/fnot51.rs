//! Round 35's notification report, #3, in real headless Chromium (as tests/api/dashboard does):
//! the Notifications view shows the URL each attempt went to (a Pockyt payout's own `ipnUrl`, a
//! Whalet partner's notify URL at the time), as text, where it said only "the tenant's configured
//! notify URL". (#2, the client's verdicts on an answer it cannot read, is tested in
//! src/http/client.rs.)

use std::time::Duration;

use fantoccini::Client;
use serde_json::{json, Value};

use crate::browser;
use crate::dashboard::support::{
    assert_no_horizontal_scroll, assert_no_script_errors, connectivity, open, wait_text,
};
use crate::helpers::{spawn_app, TestApp};
use crate::pockyt_support::{active_payee, bank_account, ok};

/// Where the Pockyt IPNs go: nothing listens on port 9, and the query carries markup and a long
/// unbroken value, which the page must show as text and wrap on a phone.
fn ipn_url() -> String {
    format!(
        "http://127.0.0.1:9/ipn?tag=<b>bold</b><img/src=x/onerror=window.injected=1>&pad={}",
        "p".repeat(300)
    )
}

/// Waits (bounded) until `script` answers `expected`; fails with what it last answered.
async fn wait_value(c: &Client, script: &str, expected: &Value) {
    let mut seen = Value::Null;
    for _ in 0..150 {
        seen = c.execute(script, vec![]).await.unwrap();
        if &seen == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{script}: expected {expected}, last saw {seen}");
}

/// The id of the one notification about `business_id`, once its first attempt is recorded.
async fn attempted(app: &TestApp, business_id: &str) -> Value {
    for _ in 0..100 {
        let list = app
            .get_json(&format!("/__sim/notifications?businessId={business_id}"))
            .await;
        let n = &list["notifications"][0];
        if n["attempts"].as_array().is_some_and(|a| !a.is_empty()) {
            return n.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no attempt of the notification about {business_id}");
}

/// Report notif #3: each attempt in the Notifications view names the URL it went to, as the API
/// records it (`attempts[].url`), in plain text (markup in a URL is not HTML), wrapping on a
/// 390 px phone; before, the page said "the tenant's configured notify URL" and no attempt said
/// where it went.
#[tokio::test]
async fn each_attempt_shows_the_url_it_went_to_as_text() {
    let app = spawn_app().await;
    // Whalet: the notification names no URL of its own; it went to the partner's notify URL.
    let body = json!({"notifyFlag": "Y", "notifyMessage": "where to?", "responseFlag": "N"});
    assert_eq!(connectivity(&app, body).await, "SUCCESS");
    let whalet = app.wait_notification("apiCode=connectivityNotify").await;
    let receiver = app.receiver.url();
    assert_eq!(whalet["url"], Value::Null, "{whalet}");
    assert_eq!(whalet["attempts"][0]["url"], json!(receiver), "{whalet}");

    // Pockyt: the payout's IPN goes to the account's own ipnUrl (refused: nothing listens).
    let ipn = ipn_url();
    let no = active_payee(&app, "where@example.com").await;
    let token = bank_account(&app, &no, &ipn).await;
    let pay = json!({"customerNo": no, "accountToken": token, "amount": "5.00",
                     "currency": "USD", "invoiceId": "INV-WHERE"});
    let reply = ok(&app, "/v3/payouts/pay", pay).await;
    let txn = reply["result"]["transactionNo"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(30.0).await;
    let pockyt = attempted(&app, &txn).await;
    assert_eq!(pockyt["attempts"][0]["url"], json!(ipn), "{pockyt}");

    let Some(b) = browser::start_phone(390, 844).await else {
        app.shutdown().await;
        return;
    };
    let c = &b.client;
    let whalet_id = whalet["id"].as_str().unwrap();
    open(&b, &app, &format!("/__sim/ui/notifications/{whalet_id}")).await;
    let timeline = wait_text(c, "#notifications .timeline", "Attempt 1").await;
    let text = timeline.text().await.unwrap();
    assert!(text.contains(&format!("to {receiver}")), "{text}");

    let pockyt_id = pockyt["id"].as_str().unwrap();
    open(&b, &app, &format!("/__sim/ui/notifications/{pockyt_id}")).await;
    wait_text(c, "#notifications .timeline", "Attempt 1").await;
    let shown = "return [...document.querySelectorAll('#notifications .timeline .attempt-url')]\
                 .map((e) => e.textContent);";
    wait_value(c, shown, &json!([format!("to {ipn}")])).await;
    // Text, not markup: no element came out of the URL, and no script ran.
    let made = "return [document.querySelectorAll('#notifications .timeline b, \
                #notifications .timeline img').length, window.injected === undefined];";
    wait_value(c, made, &json!([0, true])).await;
    assert_no_horizontal_scroll(c, "notifications with a long attempt URL").await;
    b.screenshot("fnot51-attempt-urls").await;
    assert_no_script_errors(c, "notifications").await;
    b.close().await;
    app.shutdown().await;
}
