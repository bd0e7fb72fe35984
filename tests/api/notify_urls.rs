//! URLs the simulator sends notifications to are checked, when given, the way the notification
//! client will parse them: a Pockyt `ipnUrl` that no IPN could ever reach is refused at request
//! time (docs/FIDELITY.md, the Pockyt pay row), not by every delivery attempt failing later.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::pockyt_support::{active_payee, balance, bank_account, call};

/// Written as `http://` + a host, yet not a URL a delivery could use (the errors every attempt
/// used to end with: `invalid port number`, `invalid international domain name`, `invalid IPv4
/// address`).
const UNDELIVERABLE: [&str; 4] = [
    "http://127.0.0.1:99999/x",
    "http://exa mple.com/",
    "http://256.1.1.1/x",
    "http://127.0.0.1:0/x",
];

#[tokio::test]
async fn pockyt_refuses_an_ipn_url_no_delivery_could_use() {
    let app = spawn_app().await;
    let no = active_payee(&app, "undeliverable@example.com").await;
    let token = bank_account(&app, &no, "http://127.0.0.1:9/ipn").await;
    for url in UNDELIVERABLE {
        let pay = json!({"customerNo": no, "accountToken": token, "amount": "1.00",
                         "currency": "USD", "invoiceId": "I-URL", "ipnUrl": url});
        let reply = call(&app, "/v3/payouts/pay", pay).await;
        assert_eq!(reply["ret_code"], "000023", "{url}: {reply}");
        // The refusal says what is wrong with the URL, after it.
        let message = reply["ret_msg"].as_str().unwrap();
        assert!(
            message
                .contains("ipnUrl must be an absolute http:// or https:// URL with a host, got ")
                && message.contains("\": "),
            "{url}: {reply}"
        );

        let account = json!({
            "customerNo": no, "accountType": "BANK_ACCOUNT", "accountCountry": "US",
            "accountCurrency": "USD", "accountTag": "tag-url", "bankAccountId": "000123455655",
            "bankName": "Chase", "ipnUrl": url, "clientIp": "127.0.0.1",
        });
        let reply = call(&app, "/v3/customers/account/create/bank-account", account).await;
        assert_ne!(reply["ret_code"], "000100", "{url}: {reply}");
        assert!(
            reply["ret_msg"]
                .as_str()
                .unwrap()
                .contains("ipnUrl must be"),
            "{url}: {reply}"
        );
    }
    assert_eq!(balance(&app).await, "10000.00", "nothing was debited");
    app.shutdown().await;
}

/// A program building an `App` itself gets the flag's check of the notify URL.
#[test]
fn an_app_built_directly_refuses_a_notify_url_no_notification_could_reach() {
    let options = whalet_sim::Options {
        notify_url: Some("notaurl".into()),
        ..whalet_sim::Options::default()
    };
    let err = whalet_sim::App::new(whalet_sim::config::Config::default(), options)
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .starts_with("notify URL \"notaurl\": must be an absolute http:// or https:// URL"),
        "{err}"
    );
}
