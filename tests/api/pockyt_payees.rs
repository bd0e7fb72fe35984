//! Pockyt payees and payout accounts: register → review → retrieve / update, the unverified
//! payee of seed 003, accounts on every path (masked numbers, one by tag or token, delete), the
//! legacy v2 pair, and validation that names the field and leaves state unchanged.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_with, Setup};
use crate::pockyt_support::{active_payee, bank_account, call, ok, payee_fields};

/// Registers a payee with `fields`; its customerNo.
async fn registered(app: &crate::helpers::TestApp, fields: serde_json::Value) -> String {
    ok(app, "/v3/payee/register", fields).await["customer"]["customerNo"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_registered_payee_is_activated_after_the_review_and_can_be_updated() {
    let app = spawn_app().await;
    let reply = ok(&app, "/v3/payee/register", payee_fields("john@example.com")).await;
    assert_eq!(reply["ret_msg"], "success");
    let customer = &reply["customer"];
    let no = customer["customerNo"].as_str().unwrap().to_owned();
    assert_eq!(no.len(), 22, "{customer}");
    assert_eq!(customer["customerCode"], "");
    assert_eq!(customer["email"], "john@example.com");
    assert_eq!(customer["createdTime"], "2025-01-01T00:00:00Z");
    let got = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(got["ret_msg"], "query success");
    assert_eq!(got["customer"]["payeeStatus"], "Pending");
    assert_eq!(got["customer"]["lang"], "en");
    app.advance(9.0).await;
    let got = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(got["customer"]["payeeStatus"], "Pending");
    app.advance(1.0).await;
    let got = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(got["customer"]["payeeStatus"], "Activated");
    let upd = ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "city": "Brooklyn", "phone": "+1 555 0100"}),
    )
    .await;
    assert_eq!(upd["customer"]["city"], "Brooklyn");
    assert_eq!(upd["customer"]["updatedTime"], "2025-01-01T00:00:10Z");
    let got = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(got["customer"]["phone"], "+1 555 0100");
    assert_eq!(got["customer"]["street"], "123 main St");
    // Retrieval by email, as the older revision allowed.
    let by_email = ok(
        &app,
        "/v3/payee/retrieve",
        json!({"email": "john@example.com"}),
    )
    .await;
    assert_eq!(by_email["customer"]["customerNo"], no.as_str());
    app.shutdown().await;
}

#[tokio::test]
async fn an_unverified_payee_gets_000040_on_payout_accounts_as_in_seed_003() {
    let app = spawn_app().await;
    let reply = ok(
        &app,
        "/v3/payee/register",
        payee_fields("pending@example.com"),
    )
    .await;
    let no = reply["customer"]["customerNo"].as_str().unwrap();
    let reply = call(&app, "/v3/payee/payout-accounts", json!({"customerNo": no})).await;
    assert_eq!(
        reply,
        json!({"ret_code": "000040", "ret_msg": "payee status Unverified"})
    );
    let reply = call(
        &app,
        "/v3/payee/payout-accounts",
        json!({"customerNo": "2000300000000000000999"}),
    )
    .await;
    assert_eq!(reply["ret_code"], "000021", "{reply}");
    // A declined payee is refused with its status.
    let (status, _) = app
        .post(
            "/__sim/trigger/pockyt.payee.declined",
            &json!({"customerNo": no}),
        )
        .await;
    assert_eq!(status, 200);
    let reply = call(&app, "/v3/payee/payout-accounts", json!({"customerNo": no})).await;
    assert_eq!(
        reply,
        json!({"ret_code": "000040", "ret_msg": "payee status Declined"})
    );
    app.shutdown().await;
}

#[tokio::test]
async fn payout_accounts_on_every_path_are_listed_masked_and_can_be_deleted() {
    let app = spawn_app().await;
    let no = active_payee(&app, "acc@example.com").await;
    let bank = bank_account(&app, &no, "http://127.0.0.1:9/ipn").await;
    let created = ok(
        &app,
        "/v3/payee/account/create/paypal",
        json!({"customerNo": no, "accountType": "PAYPAL", "accountCountry": "US", "accountCurrency": "USD",
               "accountTag": "pp-1", "bankAccountId": "acc@paypal.example", "bankName": "PayPal", "ipnUrl": "http://127.0.0.1:9/ipn", "clientIp": "127.0.0.1"}),
    )
    .await;
    let r = &created["result"];
    assert_eq!(r["accountStatus"], "ACTIVATED");
    assert_eq!(r["status"], "success");
    assert_eq!(r["firstName"], "John");
    assert_eq!(r["email"], "acc@example.com");
    let paypal = r["accountToken"].as_str().unwrap().to_owned();
    ok(
        &app,
        "/v3/customers/account/create/venmo",
        json!({"customerNo": no, "accountType": "VENMO", "accountCountry": "US", "accountCurrency": "USD",
               "accountTag": "vm-1", "bankAccountId": "@john-doe-77", "bankName": "Venmo", "ipnUrl": "https://example.com/ipn", "clientIp": "::1"}),
    )
    .await;
    let list = ok(&app, "/v3/payee/payout-accounts", json!({"customerNo": no})).await;
    let accounts = list["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 3, "{list}");
    assert_eq!(accounts[0]["accountToken"], bank.as_str());
    assert_eq!(accounts[0]["cardNumber"], "****5655");
    assert_eq!(accounts[0]["status"], "activated");
    assert!(
        !list.to_string().contains("000123455655"),
        "the full number leaked: {list}"
    );
    assert_eq!(
        list["user"],
        json!({"firstName": "John", "lastName": "Doe", "customerNo": no, "email": "acc@example.com"})
    );
    let one = ok(
        &app,
        "/v3/payee/payout-accounts",
        json!({"customerNo": no, "accountTag": "pp-1"}),
    )
    .await;
    // Filtered: the documented accounts[] (of one) and user, as unfiltered.
    assert_eq!(one["accounts"].as_array().unwrap().len(), 1, "{one}");
    assert_eq!(one["accounts"][0]["accountToken"], paypal.as_str());
    assert_eq!(one["accounts"][0]["cardNumber"], "****mple");
    assert_eq!(one["user"]["lastName"], "Doe");
    assert!(one.get("result").is_none(), "{one}");
    let one = ok(
        &app,
        "/v3/payee/payout-accounts",
        json!({"customerNo": no, "accountToken": bank}),
    )
    .await;
    assert_eq!(one["accounts"][0]["accountTag"], format!("tag-{no}"));
    let gone = ok(
        &app,
        "/v3/payee/account/delete",
        json!({"customerNo": no, "accountToken": paypal}),
    )
    .await;
    assert_eq!(gone, json!({"ret_code": "000100", "ret_msg": "deleted"}));
    let again = call(
        &app,
        "/v3/payee/account/delete",
        json!({"customerNo": no, "accountToken": paypal}),
    )
    .await;
    assert_eq!(again["ret_code"], "000021", "{again}");
    let list = ok(&app, "/v3/payee/payout-accounts", json!({"customerNo": no})).await;
    assert_eq!(list["accounts"].as_array().unwrap().len(), 2);
    // The path and the accountType must agree.
    let bad = call(
        &app,
        "/v3/customers/account/create/bank-account",
        json!({"customerNo": no, "accountType": "PAYPAL", "accountCountry": "US", "accountCurrency": "USD",
               "accountTag": "x", "bankAccountId": "1", "bankName": "B", "ipnUrl": "https://e.com", "clientIp": "1"}),
    )
    .await;
    assert_eq!(bad["ret_code"], "000022");
    assert!(
        bad["ret_msg"].as_str().unwrap().contains("BANK_ACCOUNT"),
        "{bad}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_legacy_v2_pair_creates_and_retrieves_an_account() {
    let app = spawn_app().await;
    let no = active_payee(&app, "v2@example.com").await;
    let created = ok(
        &app,
        "/v2/customers/account/create",
        json!({"customerNo": no, "accountType": "ALIPAY", "accountCountry": "CN", "accountCurrency": "CNY",
               "accountTag": "ali-1", "bankAccountId": "13800138000", "ipnUrl": "https://example.com/ipn", "clientIp": "1.2.3.4"}),
    )
    .await;
    let token = created["result"]["accountToken"].as_str().unwrap();
    let got = ok(
        &app,
        "/v2/customers/account/retrieve",
        json!({"accountToken": token}),
    )
    .await;
    assert_eq!(got["result"]["accountType"], "ALIPAY");
    assert_eq!(got["result"]["cardNumber"], "****8000");
    assert_eq!(got["result"]["accountStatus"], "ACTIVATED");
    app.shutdown().await;
}

/// Without accountToken, the v2 retrieve wants customerNo with accountTag: the refusal names the
/// alternative and what of it is missing.
#[tokio::test]
async fn the_v2_retrieve_names_both_ways_to_name_an_account() {
    let app = spawn_app().await;
    for (body, missing) in [
        (json!({"accountTag": "v2n"}), "customerNo is missing"),
        (json!({"customerNo": "1"}), "accountTag is missing"),
        (json!({}), "both are missing"),
    ] {
        let reply = call(&app, "/v2/customers/account/retrieve", body.clone()).await;
        let msg = format!("accountToken is required, or customerNo with accountTag ({missing})");
        assert_eq!(
            reply,
            json!({"ret_code": "000020", "ret_msg": msg}),
            "{body}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn the_v2_create_takes_the_sdk_contract_and_v3_wants_bank_name_for_every_type() {
    let app = spawn_app().await;
    let no = active_payee(&app, "v2sdk@example.com").await;
    // What the public SDK's create_payee sends: no ipnUrl, bankAccountId or bankName.
    let created = ok(
        &app,
        "/v2/customers/account/create",
        json!({"customerNo": no, "accountType": "PAYPAL", "accountCountry": "US", "accountCurrency": "USD",
               "accountTag": "sdk-1", "clientIp": "1.2.3.4"}),
    )
    .await;
    assert_eq!(created["result"]["accountStatus"], "ACTIVATED", "{created}");
    // Each of the six is required there.
    for missing in [
        "accountType",
        "accountTag",
        "clientIp",
        "customerNo",
        "accountCountry",
        "accountCurrency",
    ] {
        let mut body = json!({"customerNo": no, "accountType": "PAYPAL", "accountCountry": "US",
                              "accountCurrency": "USD", "accountTag": format!("sdk-{missing}"), "clientIp": "1.2.3.4"});
        body.as_object_mut().unwrap().remove(missing);
        let refused = call(&app, "/v2/customers/account/create", body).await;
        assert_eq!(refused["ret_code"], "000020", "{missing}: {refused}");
        assert!(
            refused["ret_msg"].as_str().unwrap().contains(missing),
            "{refused}"
        );
    }
    // v3: bankName is M for PayPal and Venmo too.
    for (path, kind) in [("paypal", "PAYPAL"), ("venmo", "VENMO")] {
        let refused = call(
            &app,
            &format!("/v3/payee/account/create/{path}"),
            json!({"customerNo": no, "accountType": kind, "accountCountry": "US", "accountCurrency": "USD",
                   "accountTag": format!("nb-{path}"), "bankAccountId": "x@example.com", "ipnUrl": "https://e.com", "clientIp": "1"}),
        )
        .await;
        assert_eq!(refused["ret_code"], "000020", "{refused}");
        assert!(
            refused["ret_msg"].as_str().unwrap().contains("bankName"),
            "{refused}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn invalid_payees_are_refused_naming_the_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let cases = [
        ("email", json!(null), "000020", "email is required"),
        (
            "email",
            json!("not-an-email"),
            "000023",
            "email is not an e-mail address",
        ),
        (
            "profileType",
            json!("ROBOT"),
            "000023",
            "profileType must be one of INDIVIDUAL, BUSINESS",
        ),
        (
            "dateOfBirth",
            json!("2010-06-01"),
            "000023",
            "at least 18 years old",
        ),
        ("dateOfBirth", json!("01/01/1999"), "000023", "yyyy-MM-dd"),
        (
            "countryCode",
            json!("USA"),
            "000023",
            "two-letter country code",
        ),
        ("zip", json!(""), "000020", "zip is required"),
        (
            "governmentIdType",
            json!("SSN"),
            "000020",
            "governmentId is required when governmentIdType is SSN",
        ),
        (
            "firstName",
            json!({"a": 1}),
            "000023",
            "firstName must be a string",
        ),
    ];
    for (field, value, code, msg) in cases {
        let mut fields = payee_fields("bad@example.com");
        if value.is_null() {
            fields.as_object_mut().unwrap().remove(field);
        } else {
            fields[field] = value.clone();
        }
        let reply = call(&app, "/v3/payee/register", fields).await;
        assert_eq!(reply["ret_code"], code, "{field}={value}: {reply}");
        assert!(
            reply["ret_msg"].as_str().unwrap().contains(msg),
            "{field}={value}: {reply}"
        );
    }
    let mut business = payee_fields("biz@example.com");
    business["profileType"] = json!("BUSINESS");
    let reply = call(&app, "/v3/payee/register", business).await;
    assert_eq!(
        reply,
        json!({"ret_code": "000020", "ret_msg": "company is required for a BUSINESS payee"})
    );
    let none = call(
        &app,
        "/v3/payee/retrieve",
        json!({"email": "bad@example.com"}),
    )
    .await;
    assert_eq!(
        none,
        json!({"ret_code": "000021", "ret_msg": "no payee with email bad@example.com"})
    );
    ok(&app, "/v3/payee/register", payee_fields("dup@example.com")).await;
    let dup = call(&app, "/v3/payee/register", payee_fields("DUP@example.com")).await;
    assert_eq!(dup["ret_code"], "000023");
    assert!(
        dup["ret_msg"]
            .as_str()
            .unwrap()
            .contains("already registered"),
        "{dup}"
    );
    let missing = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": "nope", "city": "X"}),
    )
    .await;
    assert_eq!(
        missing,
        json!({"ret_code": "000021", "ret_msg": "no payee with customerNo nope"})
    );
    app.shutdown().await;
}

#[tokio::test]
async fn an_account_under_review_cannot_be_paid_until_activated() {
    let app = spawn_with(Setup {
        config: Some("[pockyt]\naccount_review_delay_ms = 5000\n".into()),
        ..Setup::default()
    })
    .await;
    let no = active_payee(&app, "review@example.com").await;
    let created = ok(
        &app,
        "/v3/customers/account/create/bank-account",
        json!({"customerNo": no, "accountType": "BANK_ACCOUNT", "accountCountry": "US", "accountCurrency": "USD",
               "accountTag": "r-1", "bankAccountId": "987654321", "bankName": "Chase", "ipnUrl": "http://127.0.0.1:9/ipn", "clientIp": "127.0.0.1"}),
    )
    .await;
    assert_eq!(created["result"]["accountStatus"], "PENDING");
    let token = created["result"]["accountToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let pay = json!({"customerNo": no, "accountToken": token, "amount": "1.00", "currency": "USD", "invoiceId": "R-1"});
    let refused = call(&app, "/v3/payouts/pay", pay.clone()).await;
    assert_eq!(
        refused,
        json!({"ret_code": "000040", "ret_msg": "account status PENDING"})
    );
    let one = ok(
        &app,
        "/v3/payee/payout-accounts",
        json!({"customerNo": no, "accountToken": token}),
    )
    .await;
    assert_eq!(one["accounts"][0]["status"], "pending");
    app.advance(5.0).await;
    let one = ok(
        &app,
        "/v3/payee/payout-accounts",
        json!({"customerNo": no, "accountToken": token}),
    )
    .await;
    assert_eq!(one["accounts"][0]["status"], "activated");
    ok(&app, "/v3/payouts/pay", pay).await;
    let (status, _) = app
        .post(
            "/__sim/trigger/pockyt.account.invalid",
            &json!({"accountToken": token}),
        )
        .await;
    assert_eq!(status, 200);
    let refused = call(
        &app,
        "/v3/payouts/pay",
        json!({"customerNo": no, "accountToken": token, "amount": "1.00", "currency": "USD", "invoiceId": "R-2"}),
    )
    .await;
    assert_eq!(
        refused,
        json!({"ret_code": "000040", "ret_msg": "account status INVALID"})
    );
    app.shutdown().await;
}

/// Like the Whalet surface, Pockyt names every problem of a request in one reply: the first
/// problem's ret_code, every problem in the message.
#[tokio::test]
async fn every_field_problem_is_listed_at_once() {
    let app = spawn_app().await;
    let mut fields = payee_fields("many@example.com");
    let map = fields.as_object_mut().unwrap();
    map.remove("firstName");
    map.remove("zip");
    map.insert("countryCode".into(), json!("USA"));
    map.insert("dateOfBirth".into(), json!("2020-01-01"));
    let reply = call(&app, "/v3/payee/register", fields).await;
    assert_eq!(reply["ret_code"], "000020", "{reply}");
    let msg = reply["ret_msg"].as_str().unwrap();
    for part in [
        "firstName is required",
        "zip is required",
        "countryCode",
        "18 years",
    ] {
        assert!(msg.contains(part), "{part}: {msg}");
    }

    let no = active_payee(&app, "acct@example.com").await;
    let reply = call(
        &app,
        "/v3/customers/account/create/bank-account",
        json!({"customerNo": no, "accountType": "BANK_ACCOUNT", "accountCountry": "US",
               "accountCurrency": "USD", "bankAccountId": "000123455655",
               "ipnUrl": "ftp://x", "clientIp": "127.0.0.1"}),
    )
    .await;
    assert_eq!(reply["ret_code"], "000020", "{reply}");
    let msg = reply["ret_msg"].as_str().unwrap();
    for part in [
        "accountTag is required",
        "bankName is required",
        "ipnUrl must be an absolute http:// or https:// URL with a host",
    ] {
        assert!(msg.contains(part), "{part}: {msg}");
    }
    app.shutdown().await;
}

/// Every operation names all its missing fields at once (the account's type among them).
#[tokio::test]
async fn every_missing_field_of_an_operation_is_named_at_once() {
    let app = spawn_app().await;
    let reply = call(&app, "/v3/customers/account/create/venmo", json!({})).await;
    assert_eq!(reply["ret_code"], "000020", "{reply}");
    let msg = reply["ret_msg"].as_str().unwrap();
    for name in [
        "accountType",
        "customerNo",
        "accountCountry",
        "accountCurrency",
        "accountTag",
        "bankAccountId",
        "bankName",
        "ipnUrl",
        "clientIp",
    ] {
        assert!(
            msg.contains(&format!("{name} is required")),
            "{name}: {msg}"
        );
    }
    let reply = call(&app, "/v3/payee/account/delete", json!({})).await;
    let msg = reply["ret_msg"].as_str().unwrap();
    assert!(
        msg.contains("customerNo is required") && msg.contains("accountToken is required"),
        "{msg}"
    );
    let reply = call(&app, "/v3/payee/update", json!({"email": "not-an-email"})).await;
    let msg = reply["ret_msg"].as_str().unwrap();
    assert!(
        msg.contains("customerNo is required") && msg.contains("email is not an e-mail"),
        "{msg}"
    );
    app.shutdown().await;
}

/// A well-formed date that is no calendar day is said to be so.
#[tokio::test]
async fn a_date_that_does_not_exist_is_named_as_such() {
    let app = spawn_app().await;
    let mut fields = payee_fields("leap@example.com");
    fields["dateOfBirth"] = json!("2001-02-29");
    let reply = call(&app, "/v3/payee/register", fields).await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": "dateOfBirth \"2001-02-29\" is no calendar date (its month has no such day, or there is no such month)"})
    );
    app.shutdown().await;
}

/// Every status trigger follows its object's lifecycle (docs/FIDELITY.md): a move it does not
/// have is refused naming the current status and the allowed ones, and changes nothing.
#[tokio::test]
async fn status_triggers_refuse_moves_outside_the_lifecycle() {
    let app = spawn_app().await;
    let no = active_payee(&app, "life@example.com").await;
    let token = bank_account(&app, &no, "http://127.0.0.1:9/ipn").await;
    let fire = |name: &'static str, params: serde_json::Value| {
        let app = &app;
        async move { app.post(&format!("/__sim/trigger/{name}"), &params).await }
    };
    let (status, body) = fire("pockyt.payee.declined", json!({"customerNo": no})).await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("is Activated; it cannot become Declined (from Activated it can only become Deactivated)"),
        "{text}"
    );
    let (status, _) = fire("pockyt.payee.deactivated", json!({"customerNo": no})).await;
    assert_eq!(status, 200);
    let (status, body) = fire("pockyt.payee.activated", json!({"customerNo": no})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("Deactivated is final"), "{body}");
    let got = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(got["customer"]["payeeStatus"], "Deactivated");

    let (status, _) = fire("pockyt.account.invalid", json!({"accountToken": token})).await;
    assert_eq!(status, 200);
    let (status, body) = fire("pockyt.account.activated", json!({"accountToken": token})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string()
            .contains("is INVALID; it cannot become ACTIVATED (INVALID is final)"),
        "{body}"
    );
    app.shutdown().await;
}

/// An update clears an optional field sent empty or null (the SDKs send `street2=` to clear);
/// a mandatory field cannot be cleared, and a refused update changes nothing.
#[tokio::test]
async fn an_update_clears_optional_fields_sent_empty_and_refuses_clearing_mandatory_ones() {
    let app = spawn_app().await;
    let mut fields = payee_fields("clear@example.com");
    fields["street2"] = json!("Apt 4");
    fields["phone"] = json!("+1 555 0100");
    fields["customerCode"] = json!("C-1");
    let no = registered(&app, fields).await;
    let upd = ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "street2": "", "phone": null, "city": "Albany"}),
    )
    .await;
    assert_eq!(upd["customer"]["street2"], "", "{upd}");
    assert_eq!(upd["customer"]["phone"], "", "{upd}");
    let got = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(got["customer"]["street2"], "");
    assert_eq!(got["customer"]["phone"], "");
    assert_eq!(got["customer"]["city"], "Albany");
    assert_eq!(got["customer"]["customerCode"], "C-1");
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "street": "", "zip": null, "customerCode": ""}),
    )
    .await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": "street cannot be cleared: every payee has one; send a new value or leave street out; zip cannot be cleared: every payee has one; send a new value or leave zip out"})
    );
    let after = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(after, got, "a refused update changes nothing");
    app.shutdown().await;
}

/// governmentId and governmentIdType each require the other on the payee an update leaves, as
/// at registration; a refused update changes nothing.
#[tokio::test]
async fn an_update_keeps_the_government_id_pair_rule() {
    let app = spawn_app().await;
    let no = ok(&app, "/v3/payee/register", payee_fields("gov@example.com")).await["customer"]
        ["customerNo"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "governmentId": "123-45-6789", "city": "Albany"}),
    )
    .await;
    assert_eq!(
        reply,
        json!({"ret_code": "000020", "ret_msg": "governmentIdType is required when governmentId is given"})
    );
    let after = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(after, before);
    ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "governmentId": "123-45-6789", "governmentIdType": "SSN"}),
    )
    .await;
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "governmentIdType": ""}),
    )
    .await;
    assert_eq!(reply["ret_code"], "000020", "{reply}");
    ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "governmentIdType": null, "governmentId": ""}),
    )
    .await;
    app.shutdown().await;
}

/// A wrong governmentIdType is named alone (its pair is there), a birth date in the future is
/// said to be so, and a US payee's state must be a US state code, at registration and update.
#[tokio::test]
async fn register_messages_name_the_actual_problem_and_us_states_are_checked() {
    let app = spawn_app().await;
    for (email, changes, message) in [
        (
            "ssnx@example.com",
            json!({"governmentIdType": "SSNX", "governmentId": "1"}),
            "governmentIdType must be one of ID_CARD, SSN, PASSPORT, DRIVER_LICENSE, BUSINESS_REGISTRATION_CERT, got \"SSNX\"",
        ),
        (
            "future@example.com",
            json!({"dateOfBirth": "2030-01-01"}),
            "dateOfBirth 2030-01-01 is in the future (today is 2025-01-01)",
        ),
        (
            "nyc@example.com",
            json!({"state": "NYC"}),
            "state must be the 2-letter code of a US state (e.g. NY) when countryCode is US, got \"NYC\"",
        ),
    ] {
        let mut fields = payee_fields(email);
        for (name, value) in changes.as_object().unwrap() {
            fields[name] = value.clone();
        }
        let reply = call(&app, "/v3/payee/register", fields).await;
        assert_eq!(reply, json!({"ret_code": "000023", "ret_msg": message}));
    }
    let mut fields = payee_fields("cn@example.com");
    fields["countryCode"] = json!("CN");
    fields["state"] = json!("Guangdong");
    let no = registered(&app, fields).await;
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "countryCode": "US"}),
    )
    .await;
    assert_eq!(reply["ret_code"], "000023", "{reply}");
    assert!(
        reply["ret_msg"]
            .as_str()
            .unwrap()
            .contains("got \"Guangdong\""),
        "{reply}"
    );
    ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "countryCode": "US", "state": "CA"}),
    )
    .await;
    app.shutdown().await;
}

/// A well-shaped country code that ISO 3166-1 does not assign (`XX`, `ZZ`, `UK`) is a value
/// error (000023) naming the field, on a payee and on an account; nothing refused is stored or
/// changed, and the real code (`GB`) is taken.
#[tokio::test]
async fn a_country_code_that_iso_3166_does_not_assign_is_refused() {
    let app = spawn_app().await;
    let not_assigned = |field: &str, code: &str| {
        json!({"ret_code": "000023", "ret_msg": format!(
            "{field} \"{code}\" is not an ISO 3166-1 country code (use an assigned one, such as US)"
        )})
    };
    let mut fields = payee_fields("xx@example.com");
    fields["countryCode"] = json!("XX");
    fields["state"] = json!("Nowhere");
    let reply = call(&app, "/v3/payee/register", fields.clone()).await;
    assert_eq!(reply, not_assigned("countryCode", "XX"));
    let none = call(
        &app,
        "/v3/payee/retrieve",
        json!({"email": "xx@example.com"}),
    )
    .await;
    assert_eq!(none["ret_code"], "000021", "{none}");
    fields["countryCode"] = json!("GB");
    fields["state"] = json!("London");
    let no = registered(&app, fields).await;
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "countryCode": "ZZ"}),
    )
    .await;
    assert_eq!(reply, not_assigned("countryCode", "ZZ"));
    let got = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(got["customer"]["countryCode"], "GB", "{got}");

    let active = active_payee(&app, "uk@example.com").await;
    let account = |country: &str| {
        json!({"customerNo": active, "accountType": "PAYPAL", "accountCountry": country,
               "accountCurrency": "USD", "accountTag": "uk-1", "clientIp": "1.2.3.4"})
    };
    let reply = call(&app, "/v2/customers/account/create", account("UK")).await;
    assert_eq!(reply, not_assigned("accountCountry", "UK"));
    let created = ok(&app, "/v2/customers/account/create", account("GB")).await;
    assert_eq!(created["result"]["accountStatus"], "ACTIVATED", "{created}");
    app.shutdown().await;
}

/// The fields an update may carry are the documented list (and `company`): names, birth date and
/// `payorNo` are refused naming them, and a payee registered with a `payorNo` (Merchant of
/// Record) keeps its email. A refused update changes nothing.
#[tokio::test]
async fn an_update_refuses_fields_fixed_at_registration_and_a_mor_payees_email() {
    let app = spawn_app().await;
    let no = registered(&app, payee_fields("fixed@example.com")).await;
    let before = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    let may_carry = "An update may carry customerCode, email, profileType, company, phone, countryCode, country, state, city, street, street2, zip, lang, governmentIdType, governmentId";
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "firstName": "Mallory", "lastName": "X",
               "dateOfBirth": "2000-02-02", "city": "Albany"}),
    )
    .await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": format!(
            "firstName, lastName, dateOfBirth cannot be changed by an update (fixed at registration); leave them out. {may_carry}"
        )})
    );
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "payorNo": "P-9"}),
    )
    .await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": format!(
            "payorNo cannot be changed by an update (fixed at registration); leave it out. {may_carry}"
        )})
    );
    let after = ok(&app, "/v3/payee/retrieve", json!({"customerNo": no})).await;
    assert_eq!(after, before, "a refused update changes nothing");
    let moved = ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "email": "moved@example.com"}),
    )
    .await;
    assert_eq!(moved["customer"]["email"], "moved@example.com");

    let mut mor = payee_fields("mor@example.com");
    mor["payorNo"] = json!("P-1");
    let mor_no = registered(&app, mor).await;
    let before = ok(&app, "/v3/payee/retrieve", json!({"customerNo": mor_no})).await;
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": mor_no, "email": "other@example.com", "city": "Albany"}),
    )
    .await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": format!(
            "email cannot be changed: payee {mor_no} was registered with payorNo P-1 (Merchant of Record), whose email is immutable; leave email out"
        )})
    );
    let after = ok(&app, "/v3/payee/retrieve", json!({"customerNo": mor_no})).await;
    assert_eq!(after, before, "a refused update changes nothing");
    let upd = ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": mor_no, "city": "Albany"}),
    )
    .await;
    assert_eq!(upd["customer"]["city"], "Albany");
    assert_eq!(upd["customer"]["email"], "mor@example.com");
    // The address it has, sent again with the rest of the profile, changes nothing: taken.
    let upd = ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": mor_no, "email": "mor@example.com", "city": "Boston"}),
    )
    .await;
    assert_eq!(upd["customer"]["city"], "Boston");
    // A changed address and a taken customerCode are named together.
    let mut other = payee_fields("taken@example.com");
    other["customerCode"] = json!("CODE-T");
    ok(&app, "/v3/payee/register", other).await;
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": mor_no, "email": "x@example.com", "customerCode": "CODE-T"}),
    )
    .await;
    let message = reply["ret_msg"].as_str().unwrap_or_default();
    assert!(
        message.contains("email cannot be changed") && message.contains("CODE-T"),
        "{reply}"
    );
    app.shutdown().await;
}

/// customerCode names one payee of the merchant, as email does: a second holder is refused at
/// registration and update. A retrieve naming a payee several ways must name one payee
/// (`000022` otherwise, as inquiry), each way a known one.
#[tokio::test]
async fn customer_codes_are_unique_and_a_retrieve_refuses_identifiers_of_different_payees() {
    let app = spawn_app().await;
    let register = |email: &str, code: &str| {
        let mut fields = payee_fields(email);
        fields["customerCode"] = json!(code);
        fields
    };
    let a = ok(&app, "/v3/payee/register", register("a@example.com", "DUP")).await["customer"]
        ["customerNo"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = call(&app, "/v3/payee/register", register("b@example.com", "DUP")).await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": format!("customerCode DUP is already registered (customerNo {a})")})
    );
    let none = call(
        &app,
        "/v3/payee/retrieve",
        json!({"email": "b@example.com"}),
    )
    .await;
    assert_eq!(none["ret_code"], "000021", "nothing stored: {none}");
    let reply = call(&app, "/v3/payee/register", register("A@example.com", "DUP")).await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": format!(
            "email A@example.com is already registered (customerNo {a}); customerCode DUP is already registered (customerNo {a})"
        )})
    );
    let b = ok(&app, "/v3/payee/register", register("b@example.com", "B-1")).await["customer"]
        ["customerNo"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": b, "customerCode": "DUP"}),
    )
    .await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": format!("customerCode DUP is already registered (customerNo {a})")})
    );
    ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": a, "customerCode": "DUP"}),
    )
    .await;
    let by_code = ok(&app, "/v3/payee/retrieve", json!({"customerCode": "B-1"})).await;
    assert_eq!(by_code["customer"]["customerNo"], b.as_str());

    let reply = call(
        &app,
        "/v3/payee/retrieve",
        json!({"customerNo": b, "email": "a@example.com"}),
    )
    .await;
    assert_eq!(
        reply,
        json!({"ret_code": "000022", "ret_msg": format!(
            "customerNo {b} and email a@example.com name different payees (email a@example.com is customerNo {a})"
        )})
    );
    let reply = call(
        &app,
        "/v3/payee/retrieve",
        json!({"customerCode": "DUP", "email": "b@example.com"}),
    )
    .await;
    assert_eq!(reply["ret_code"], "000022", "{reply}");
    let reply = call(
        &app,
        "/v3/payee/retrieve",
        json!({"customerNo": a, "email": "nobody@example.com"}),
    )
    .await;
    assert_eq!(
        reply,
        json!({"ret_code": "000021", "ret_msg": "no payee with email nobody@example.com"})
    );
    let all = ok(
        &app,
        "/v3/payee/retrieve",
        json!({"customerNo": a, "customerCode": "DUP", "email": "A@EXAMPLE.COM"}),
    )
    .await;
    assert_eq!(all["customer"]["customerNo"], a.as_str());
    app.shutdown().await;
}

/// An e-mail address is printable ASCII: an invisible, control or non-ASCII character is
/// refused naming its code point, so an address that looks like a registered one cannot pass
/// the uniqueness check.
#[tokio::test]
async fn an_email_with_an_invisible_or_non_ascii_character_is_refused_naming_it() {
    let app = spawn_app().await;
    ok(&app, "/v3/payee/register", payee_fields("r2a@example.com")).await;
    for (email, point, at) in [
        // Positions are counted in characters from 0, as every surface counts them.
        ("r2a@example.com\u{200b}", "U+200B", 15),
        ("r2a\u{7f}@example.com", "U+007F", 3),
        ("j\u{e9}r\u{f4}me@example.com", "U+00E9", 1),
        ("r2a@example.com\t", "U+0009", 15),
    ] {
        let reply = call(&app, "/v3/payee/register", payee_fields(email)).await;
        assert_eq!(
            reply,
            json!({"ret_code": "000023", "ret_msg": format!(
                "email {email:?} has {point} at position {at} (counted in characters from 0); an e-mail address is printable ASCII (no spaces, control, invisible or non-ASCII characters)"
            )}),
            "{email:?}"
        );
    }
    let none = call(
        &app,
        "/v3/payee/retrieve",
        json!({"email": "r2a@example.com\u{200b}"}),
    )
    .await;
    assert_eq!(none["ret_code"], "000021", "nothing stored: {none}");
    app.shutdown().await;
}

/// Regression: a field read by a reader of its own kind (email, countryCode, dateOfBirth,
/// profileType) was also read as plain text, so a wrong type was named twice.
#[tokio::test]
async fn a_field_of_the_wrong_type_is_named_once() {
    let app = spawn_app().await;
    let mut fields = payee_fields("once@example.com");
    fields["email"] = json!({});
    fields["countryCode"] = json!([]);
    let reply = call(&app, "/v3/payee/register", fields).await;
    let message = reply["ret_msg"].as_str().unwrap_or_default();
    assert_eq!(reply["ret_code"], "000023", "{reply}");
    for named in ["email must be a string", "countryCode must be a string"] {
        assert_eq!(message.matches(named).count(), 1, "{named}: {message}");
    }
    app.shutdown().await;
}

/// Regression: a retrieve naming no payee said only "customerNo is required", and the
/// operation's description listed only customerNo or email, though customerCode alone works.
#[tokio::test]
async fn a_retrieve_naming_no_payee_names_every_identifier() {
    let app = spawn_app().await;
    let mut fields = payee_fields("code-only@example.com");
    fields["customerCode"] = json!("CC1");
    let no = registered(&app, fields).await;
    let by_code = ok(&app, "/v3/payee/retrieve", json!({"customerCode": "CC1"})).await;
    assert_eq!(by_code["customer"]["customerNo"], no.as_str());
    for body in [
        json!({}),
        json!({"email": ""}),
        json!({"customerCode": ""}),
        json!({"customerNo": null}),
    ] {
        let reply = call(&app, "/v3/payee/retrieve", body.clone()).await;
        assert_eq!(
            reply,
            json!({"ret_code": "000020", "ret_msg": "one of customerNo, customerCode, email is required (any one names the payee)"}),
            "{body}"
        );
    }
    let all = app.get_json("/__sim/operations?surface=pockyt").await;
    let op = all["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "/v3/payee/retrieve")
        .unwrap()
        .clone();
    let alternatives: Vec<(&str, &str)> = op["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["or"].as_str().unwrap_or("")))
        .collect();
    for name in ["customerNo", "customerCode", "email"] {
        assert!(
            alternatives
                .iter()
                .any(|(field, or)| *field == name && !or.is_empty()),
            "{name} listed as an alternative: {alternatives:?}"
        );
    }
    let example = op["example"].as_object().unwrap();
    assert!(example.contains_key("customerNo"), "{example:?}");
    assert!(!example.contains_key("customerCode") && !example.contains_key("email"));
    app.shutdown().await;
}

/// A field no operation reads is ignored by an update as by a registration (signed with the
/// rest, never stored): only the profile fields fixed at registration are refused.
#[tokio::test]
async fn an_update_ignores_a_field_outside_the_profile_as_register_does() {
    let app = spawn_app().await;
    let mut fields = payee_fields("unknown-field@example.com");
    fields["foo"] = json!("bar");
    let no = registered(&app, fields).await;
    let reply = ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "foo": "bar", "phone": "5551234"}),
    )
    .await;
    assert_eq!(reply["customer"]["phone"], "5551234");
    assert!(reply["customer"].get("foo").is_none(), "{reply}");
    let fixed = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": no, "foo": "bar", "firstName": "Jane"}),
    )
    .await;
    assert_eq!(fixed["ret_code"], "000023", "{fixed}");
    app.shutdown().await;
}

/// `/v3/payee/account/create/...` is the same operation as `/v3/customers/account/create/...`:
/// a scenario rule written on the table path governs both spellings, and the journal and the
/// coverage report name the operation by that path whichever was called.
#[tokio::test]
async fn an_account_created_under_the_alias_path_is_the_same_operation() {
    let app = spawn_app().await;
    let rule = "name = \"account-fails\"\ntenant = \"pockyt:202333\"\n\
        [[rule]]\nsurface = \"pockyt\"\noperation = \"/v3/customers/account/create/*\"\n\
        [rule.then]\nresult = \"failure\"\n";
    let (status, loaded) = app.load_scenario(rule, "tenant=pockyt:202333").await;
    assert_eq!(status, 200, "{loaded}");
    let no = active_payee(&app, "alias@example.com").await;
    let account = |path: &'static str, tag: &'static str| {
        let app = &app;
        let no = no.clone();
        async move {
            ok(
                app,
                path,
                json!({"customerNo": no, "accountType": "VENMO", "accountCountry": "US",
                "accountCurrency": "USD", "accountTag": tag, "bankAccountId": "@alias",
                "bankName": "Venmo", "clientIp": "1.2.3.4", "ipnUrl": "http://127.0.0.1:9/ipn"}),
            )
            .await
        }
    };
    for (path, tag) in [
        ("/v3/customers/account/create/venmo", "a1"),
        ("/v3/payee/account/create/venmo", "a2"),
    ] {
        let reply = account(path, tag).await;
        assert_eq!(
            reply["result"]["accountStatus"], "INVALID",
            "{path}: {reply}"
        );
    }
    let journal = app.get_json("/__sim/requests?surface=pockyt").await;
    let creates = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["operation"] == "/v3/customers/account/create/venmo")
        .count();
    assert_eq!(creates, 2, "{journal}");
    let coverage = app.get_json("/__sim/coverage").await.to_string();
    assert!(!coverage.contains("/v3/payee/account/create"), "{coverage}");
    app.shutdown().await;
}

/// The documents disagree on a filtered payout-account listing (the list of one, as unfiltered,
/// or one `result{}`: the single-account example, t54b F2): `[pockyt] filtered_accounts_shape =
/// "result"` answers the example's shape, with the payee's names in it; unfiltered it is still
/// the list, and a filter naming no account is still `000021`.
#[tokio::test]
async fn a_filtered_account_listing_can_answer_the_single_account_example() {
    let app =
        crate::helpers::spawn_config("[pockyt]\nfiltered_accounts_shape = \"result\"\n").await;
    let no = active_payee(&app, "one@example.com").await;
    let bank = bank_account(&app, &no, "http://127.0.0.1:9/ipn").await;
    let tag = format!("tag-{no}");
    for filter in [json!({"accountTag": tag}), json!({"accountToken": bank})] {
        let mut body = json!({"customerNo": no});
        body.as_object_mut()
            .unwrap()
            .extend(filter.as_object().unwrap().clone());
        let one = ok(&app, "/v3/payee/payout-accounts", body).await;
        let keys: Vec<&str> = one["result"]
            .as_object()
            .unwrap_or_else(|| panic!("{filter}: {one}"))
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "accountTag",
                "country",
                "createdAt",
                "firstName",
                "lastName",
                "accountType",
                "currency",
                "accountToken",
                "customerNo",
                "email",
                "cardNumber",
                "status"
            ],
            "{filter}: {one}"
        );
        assert_eq!(one["result"]["accountToken"], bank.as_str(), "{one}");
        assert_eq!(one["result"]["cardNumber"], "****5655", "{one}");
        assert_eq!(one["result"]["lastName"], "Doe", "{one}");
        assert!(
            one.get("accounts").is_none() && one.get("user").is_none(),
            "{one}"
        );
    }
    let all = ok(&app, "/v3/payee/payout-accounts", json!({"customerNo": no})).await;
    assert_eq!(all["accounts"].as_array().map(Vec::len), Some(1), "{all}");
    let none = call(
        &app,
        "/v3/payee/payout-accounts",
        json!({"customerNo": no, "accountTag": "no-such-tag"}),
    )
    .await;
    assert_eq!(none["ret_code"], "000021", "{none}");
    app.shutdown().await;
}
