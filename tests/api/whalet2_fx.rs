//! Whalet part 2 reference data and quotes: the FX rate a scenario sets, the beneficiary
//! country and field tables, field validation per country, and deleting a beneficiary account.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_config};
use crate::whalet2_support::{approved_beneficiary, confirmed_payout, funded_user, quote};
use crate::whalet_support::{expect, refused, state};

#[tokio::test]
async fn a_scenario_sets_the_rate() {
    let app = spawn_app().await;
    let (status, body) = app.load_scenario(
        "name = \"fixed-rate\"\n[[rule]]\nname = \"rate\"\noperation = \"rateInquiry\"\n[rule.then]\nvalues = { rate = \"7.5\", validSeconds = 60 }\n",
        "").await;
    assert_eq!(status, 200, "{body}");
    let (user, _) = funded_user(&app, "USD", "10").await;
    let quote = quote(&app, &user, "CNY").await;
    assert_eq!(quote["rate"], json!(7.5));
    assert_eq!(quote["expireTime"], "2025-01-01 08:01:05");
    app.shutdown().await;
}

#[tokio::test]
async fn beneficiary_tables_and_validation() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "1").await;
    let countries = expect(
        &app,
        "beneficiaryCountryQuery",
        json!({"currency": "EUR"}),
        "SUCCESS",
    )
    .await;
    let codes: Vec<&str> = countries
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["country"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"DE") && codes.contains(&"GB") && !codes.contains(&"US"),
        "{codes:?}"
    );
    let fields = expect(
        &app,
        "beneficiaryFieldsQuery",
        json!({"country": "US"}),
        "SUCCESS",
    )
    .await;
    let names: Vec<&str> = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"routingNo"), "{names:?}");
    refused(
        &app,
        "beneficiaryFieldsQuery",
        json!({"country": "KP"}),
        "FAILURE",
        "not offered",
    )
    .await;
    refused(&app, "benificiaryAccountApply", json!({"userId": user, "outBeneficiaryId": "b", "country": "GB",
        "currency": "JPY", "accountName": "A", "accountNo": "123", "bankName": "B"}), "PARAMETER_ERROR",
        "currency: accounts in GB hold GBP, EUR, USD, not JPY; accountNo must be 8 digits, got \"123\"; sortCode is required").await;
    // Under review it cannot be deleted: its review would end without a notification.
    let pending = expect(
        &app,
        "benificiaryAccountApply",
        json!({"userId": user, "outBeneficiaryId": "sup-0", "country": "HK", "currency": "USD",
               "accountName": "Supplier Ltd", "accountNo": "012345678901",
               "bankName": "Example Bank HK", "bankCode": "004", "swiftCode": "EXAMHKHH"}),
        "PROCESSING",
    )
    .await;
    let pending = pending["beneficiaryId"].as_str().unwrap();
    refused(
        &app,
        "benificiaryAccountDelete",
        json!({"userId": user, "beneficiaryId": pending}),
        "FAILURE",
        &format!("beneficiary account {pending} is under review (status PROCESSING)"),
    )
    .await;
    let bid = approved_beneficiary(&app, &user, "sup-1", "USD").await;
    let listed = expect(
        &app,
        "benificiaryAccountQuery",
        json!({"userId": user}),
        "SUCCESS",
    )
    .await;
    assert_eq!(listed[0]["swiftCode"], "EXAMHKHH");
    expect(
        &app,
        "benificiaryAccountDelete",
        json!({"userId": user, "beneficiaryId": bid}),
        "SUCCESS",
    )
    .await;
    refused(
        &app,
        "payoutApply",
        json!({"userId": user, "outPayoutId": "p", "fundSource": "B2C",
        "currency": "USD", "amount": "1", "beneficiaryId": bid}),
        "FAILURE",
        "not approved (status DELETED)",
    )
    .await;
    app.finish().await;
}

/// A US account's `accountType` is labelled like every field, its format names the two words,
/// and another word is refused naming them, with nothing stored.
#[tokio::test]
async fn a_us_account_type_is_checking_or_savings() {
    let app = spawn_app().await;
    let (user, _) = funded_user(&app, "USD", "1").await;
    let fields = expect(
        &app,
        "beneficiaryFieldsQuery",
        json!({"country": "US"}),
        "SUCCESS",
    )
    .await;
    let account_type = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "accountType")
        .unwrap();
    assert_eq!(account_type["fieldName"], "Account type");
    assert_eq!(account_type["format"], "one of CHECKING, SAVINGS");
    assert_eq!(account_type["required"], "N");
    let us = |account_type: &str| {
        json!({"userId": user, "outBeneficiaryId": "us-1", "country": "US", "currency": "USD",
               "accountName": "Supplier Inc", "accountNo": "000123456789", "routingNo": "021000021",
               "accountType": account_type, "bankName": "Example Bank", "address": "1 Example Street"})
    };
    let before = state(&app).await["whaletTrade"].clone();
    refused(
        &app,
        "benificiaryAccountApply",
        us("BOGUS"),
        "PARAMETER_ERROR",
        "accountType must be one of CHECKING, SAVINGS, got \"BOGUS\"",
    )
    .await;
    assert_eq!(
        state(&app).await["whaletTrade"],
        before,
        "a refusal stores nothing"
    );
    expect(&app, "benificiaryAccountApply", us("SAVINGS"), "PROCESSING").await;
    app.finish().await;
}

#[tokio::test]
async fn part_two_api_codes_are_renamable() {
    let app = spawn_config(
        "[whalet.api_codes]\nrateInquiry = \"queryRate\"\npayoutResultNotify = \"withdrawNotify\"\n",
    )
    .await;
    let (user, _) = funded_user(&app, "USD", "20").await;
    let body = json!({"userId": user, "currency": "USD", "toCurrency": "EUR", "fundSource": "B2C"});
    let quote = expect(&app, "queryRate", body.clone(), "SUCCESS").await;
    assert_eq!(quote["rate"], json!(0.92));
    refused(
        &app,
        "rateInquiry",
        body,
        "INTERFACE_UNAUTHORIZED",
        "not an interface",
    )
    .await;
    let bid = approved_beneficiary(&app, &user, "b-1", "USD").await;
    let payout_id = confirmed_payout(&app, &user, "p", "5", &bid).await;
    app.advance(30.0).await;
    let n =
        crate::whalet_support::received_about(&app, "withdrawNotify", "payoutId", &payout_id).await;
    assert_eq!(n["status"], "SUCCESS");
    app.shutdown().await;
}
