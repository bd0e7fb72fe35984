//! Stop 47 (fcov47): a Pockyt coverage hint names the cause its operation's handler answers the
//! code for, by the fields that handler reads, and an envelope code the scheme answers by itself
//! says what provokes it.

use serde_json::json;

use crate::helpers::{spawn_app, TestApp};
use crate::pockyt_support::{call, ok, payee_fields, sign, signed, MERCHANT, STORE, TOKEN, TS};

/// The coverage report's items, by id → (hint, hits).
async fn items(app: &TestApp) -> Vec<(String, String, u64)> {
    let report = app.get_json("/__sim/coverage?surface=pockyt").await;
    report["surfaces"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["groups"].as_array().unwrap())
        .flat_map(|g| g["operations"].as_array().unwrap())
        .flat_map(|o| o["outcomes"].as_array().unwrap())
        .map(|i| {
            let text = |k: &str| i[k].as_str().unwrap_or_default().to_owned();
            (text("id"), text("hint"), i["hits"].as_u64().unwrap_or(0))
        })
        .collect()
}

fn item<'a>(items: &'a [(String, String, u64)], id: &str) -> (&'a str, u64) {
    items
        .iter()
        .find(|(i, _, _)| i == id)
        .map(|(_, hint, hits)| (hint.as_str(), *hits))
        .unwrap_or_else(|| panic!("{id} is not in the report"))
}

/// Whether a hint gives only the scenario rule, no cause of the operation's own.
fn rule_only(hint: &str) -> bool {
    hint.starts_with("a scenario rule")
}

const NO_PAYEE: &str = "200030000000000000999";
const NO_ACCOUNT: &str = "201030000000000000999";

/// Each operation refused for a field (an id that names nothing, or ids that disagree) is told,
/// in its hint for that code, the field it was refused for: the payee retrieve's unknown email
/// or customerCode, the inquiry's unknown invoiceId, a create's accountType other than the
/// path's. The payee registration, update and the balance, which compare no ids, are told 000022
/// only by its scenario rule.
#[tokio::test]
async fn a_pockyt_hint_names_the_field_its_operation_refuses_the_code_for() {
    let app = spawn_app().await;
    let first = ok(
        &app,
        "/v3/payee/register",
        payee_fields("first@example.com"),
    )
    .await;
    let first = first["customer"]["customerNo"].as_str().unwrap().to_owned();
    ok(
        &app,
        "/v3/payee/register",
        payee_fields("second@example.com"),
    )
    .await;
    let paypal = json!({
        "customerNo": first, "accountType": "BANK_ACCOUNT", "accountCountry": "US",
        "accountCurrency": "USD", "accountTag": "tag-1", "bankAccountId": "a@example.com",
        "bankName": "PayPal", "ipnUrl": "https://merchant.example/ipn", "clientIp": "127.0.0.1",
    });
    let pay = json!({
        "customerNo": NO_PAYEE, "accountToken": NO_ACCOUNT, "currency": "USD",
        "amount": "1.00", "invoiceId": "inv-fcov47",
    });
    let cases = [
        (
            "/v3/payee/retrieve",
            json!({"email": "nobody@example.com"}),
            "000021",
            "email",
        ),
        (
            "/v3/payee/retrieve",
            json!({"customerCode": "no-such-code"}),
            "000021",
            "customerCode",
        ),
        (
            "/v3/payee/retrieve",
            json!({"customerNo": first, "email": "second@example.com"}),
            "000022",
            "email",
        ),
        (
            "/v3/payee/update",
            json!({"customerNo": NO_PAYEE, "city": "Albany"}),
            "000021",
            "customerNo",
        ),
        (
            "/v3/payouts/inquiry",
            json!({"invoiceId": "no-such-invoice"}),
            "000021",
            "invoiceId",
        ),
        (
            "/v3/payouts/inquiry",
            json!({"transactionNo": "301030000000000000999"}),
            "000021",
            "transactionNo",
        ),
        (
            "/v3/customers/account/create/paypal",
            paypal,
            "000022",
            "accountType",
        ),
        (
            "/v3/payee/payout-accounts",
            json!({"customerNo": NO_PAYEE}),
            "000021",
            "customerNo",
        ),
        (
            "/v3/payee/account/delete",
            json!({"customerNo": first, "accountToken": NO_ACCOUNT}),
            "000021",
            "accountToken",
        ),
        (
            "/v2/customers/account/retrieve",
            json!({"accountToken": NO_ACCOUNT}),
            "000021",
            "accountToken",
        ),
        ("/v3/payouts/pay", pay, "000021", "customerNo"),
    ];
    let mut answered = Vec::new();
    for (path, fields, code, field) in cases {
        let reply = call(&app, path, fields).await;
        assert_eq!(reply["ret_code"], code, "{path}: {reply}");
        let msg = reply["ret_msg"].as_str().unwrap_or_default();
        assert!(msg.contains(field), "{path}: {reply}");
        answered.push((path, code, field));
    }
    let items = items(&app).await;
    for (path, code, field) in answered {
        let (hint, hits) = item(&items, &format!("pockyt.{path}.{code}"));
        assert!(hits > 0, "{path} {code} was not counted");
        assert!(!rule_only(hint), "{path} answered {code}; its hint: {hint}");
        assert!(
            hint.contains(field),
            "{path} {code} for {field}; its hint: {hint}"
        );
    }
    for path in [
        "/v3/payee/register",
        "/v3/payee/update",
        "/v3/payouts/balance",
    ] {
        let (hint, _) = item(&items, &format!("pockyt.{path}.000022"));
        assert!(rule_only(hint), "{path} 000022: {hint}");
    }
    app.finish().await;
}

/// Regression: the hint of Pockyt's 000030 named only a scenario rule, though the scheme answers
/// it by itself, and counts it there, for a verifySign that does not match, a storeNo that is
/// not the merchant's and a merchantNo no merchant has: each is refused 000030 naming its field,
/// counted as the envelope item, whose hint names all three.
#[tokio::test]
async fn the_pockyt_access_denied_hint_names_what_the_scheme_refuses_with_it() {
    let app = spawn_app().await;
    let mut forged = json!({
        "merchantNo": MERCHANT, "storeNo": STORE, "timestamp": TS, "currency": "USD",
    });
    let other_token = format!("{TOKEN}-not");
    let verify_sign = sign(forged.as_object().unwrap(), &other_token);
    forged["verifySign"] = json!(verify_sign);
    let cases = [
        (forged, "verifySign"),
        (
            signed(json!({"storeNo": "999999", "currency": "USD"})),
            "storeNo",
        ),
        (
            signed(json!({"merchantNo": "999999", "currency": "USD"})),
            "merchantNo",
        ),
    ];
    for (body, field) in &cases {
        let (status, reply) = app.post("/v3/payouts/balance", body).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["ret_code"], "000030", "{field}: {reply}");
        let msg = reply["ret_msg"].as_str().unwrap_or_default();
        assert!(msg.contains(field), "{field}: {reply}");
    }
    let items = items(&app).await;
    let (hint, hits) = item(&items, "pockyt.envelope.000030");
    assert!(hits >= cases.len() as u64, "{hits} hits");
    assert!(!rule_only(hint), "{hint}");
    for (_, field) in &cases {
        assert!(hint.contains(field), "{field}: {hint}");
    }
    app.finish().await;
}
