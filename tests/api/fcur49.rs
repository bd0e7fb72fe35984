//! Every active ISO 4217 currency is known, with its ISO minor unit: regression for a table of
//! 38 currencies that refused real codes such as `OMR` (3 decimal places) as naming none, on
//! Infinia (SYS-006), on Pockyt (`000023`) and in the configuration. A code of the right shape
//! that names no currency (`XXX`) is still refused, in the same words.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::infinia::support::{binding_request, spawn_infinia, Merchant};
use crate::pockyt_support::{active_payee, call, ok};

const OMR_APP: &str = "[[infinia.apps]]\napp_id = \"omr-app\"\nmerchant_public_key = \"@keys/demo-infinia-merchant/public.pem\"\nsftp_authorized_keys = [\"@keys/demo-infinia-merchant/sftp_ed25519.pub\"]\nopening_balances = { OMR = \"10.125\" }\n";

/// An app opening with 10.125 OMR (a 3-decimal amount, as OMR has 3) serves, its balance says
/// so in OMR's three places, and a binding in OMR is taken; `XXX` is still SYS-006.
#[tokio::test]
async fn omr_is_a_currency_on_infinia_with_three_decimal_places() {
    let app = spawn_infinia(OMR_APP).await;
    let mut m = Merchant::demo();
    m.app_id = "omr-app".into();

    let data = m
        .ok(&app, "account-balance/query", &json!({"currency": "OMR"}))
        .await;
    let balances = data["accountBalances"].as_array().unwrap();
    assert_eq!(balances.len(), 1, "{data}");
    assert_eq!(balances[0]["currency"], "OMR", "{data}");
    assert_eq!(balances[0]["availableBalance"], "10.125", "{data}");
    assert_eq!(balances[0]["pendingRevenueSharing"], "0.000", "{data}");

    let mut request = binding_request("ABR-OMR", "SELLER-OMR");
    request["currency"] = json!("OMR");
    let data = m.ok(&app, "account-binding/request", &request).await;
    assert_eq!(data["bindingStatus"], "PENDING", "{data}");

    let mut request = binding_request("ABR-XXX", "SELLER-XXX");
    request["currency"] = json!("XXX");
    let reply = m.call(&app, "account-binding/request", &request).await;
    assert_eq!(reply.code, "SYS-006", "{}", reply.message);
    assert_eq!(
        reply.message,
        "currency \"XXX\" is not one of the currencies accepted (ISO 4217 codes such as USD, CNH)"
    );
    app.shutdown().await;
}

/// A payee's bank account in OMR is created; one in `ZZZ` is still `000023` naming the code.
#[tokio::test]
async fn omr_is_an_account_currency_on_pockyt() {
    let app = spawn_app().await;
    let customer = active_payee(&app, "omr@example.com").await;
    let fields = |currency: &str, tag: &str| {
        json!({
            "customerNo": customer, "accountType": "BANK_ACCOUNT", "accountCountry": "OM",
            "accountCurrency": currency, "accountTag": tag, "bankAccountId": "000123455655",
            "bankName": "Bank Muscat", "ipnUrl": "http://127.0.0.1:9/ipn",
            "clientIp": "127.0.0.1",
        })
    };
    let reply = ok(
        &app,
        "/v3/customers/account/create/bank-account",
        fields("OMR", "omr"),
    )
    .await;
    assert!(reply["result"]["accountToken"].is_string(), "{reply}");

    let reply = call(
        &app,
        "/v3/customers/account/create/bank-account",
        fields("ZZZ", "zzz"),
    )
    .await;
    assert_eq!(reply["ret_code"], "000023", "{reply}");
    assert!(
        reply["ret_msg"]
            .as_str()
            .unwrap()
            .contains("accountCurrency: currency \"ZZZ\" is unknown (ISO 4217 code expected)"),
        "{reply}"
    );
    app.shutdown().await;
}
