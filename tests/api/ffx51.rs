//! Money in every currency the simulator lets in can be paid out (report `whal` finding 1): each
//! currency a B2B channel or a B2C platform offers is collected and paid out to a USD
//! beneficiary through `rateInquiry`, and every "ask rateInquiry" hint names a pair
//! `rateInquiry` quotes. A pair outside the rate table is refused saying so, and a scenario
//! rule's `values.rate` prices it as the refusal says. Also the IBAN checks of
//! `benificiaryAccountApply` (finding 5).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::whalet2_support::approved_beneficiary;
use crate::whalet_support::{balance, call, expect, onboarded_user, received_about, refused};

/// Every currency the catalogue offers (read over the API, so a currency added to
/// `catalogue.json` is walked too), each with a channel that opens B2B accounts in it.
async fn offered_currencies(app: &TestApp, user: &str) -> BTreeMap<String, Option<String>> {
    let mut offered = BTreeMap::new();
    let channels = expect(
        app,
        "b2bChannelBanksQuery",
        json!({"userId": user}),
        "SUCCESS",
    )
    .await;
    for ch in channels.as_array().unwrap() {
        for cur in ch["currencies"].as_array().unwrap() {
            let code = ch["channelCode"].as_str().unwrap().to_owned();
            offered
                .entry(cur.as_str().unwrap().to_owned())
                .or_insert(Some(code));
        }
    }
    let platforms = expect(app, "b2cPlatformQuery", json!({"userId": user}), "SUCCESS").await;
    for p in platforms.as_array().unwrap() {
        for cur in p["currencies"].as_array().unwrap() {
            offered
                .entry(cur.as_str().unwrap().to_owned())
                .or_insert(None);
        }
    }
    offered
}

/// The currencies a payout beneficiary account may hold (`beneficiaryCountryQuery`).
async fn beneficiary_currencies(app: &TestApp) -> Vec<String> {
    let countries = expect(app, "beneficiaryCountryQuery", json!({}), "SUCCESS").await;
    let mut all: Vec<String> = countries
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|k| k["currencies"].as_array().unwrap().clone())
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    all.sort();
    all.dedup();
    all
}

/// `rateInquiry` for `from` → `to` in `fund`: the reply's code and body.
async fn rate(app: &TestApp, user: &str, from: &str, to: &str, fund: &str) -> (String, Value) {
    let reply = call(
        app,
        "rateInquiry",
        json!({"userId": user, "currency": from, "toCurrency": to, "fundSource": fund}),
    )
    .await;
    (reply.code, reply.body.unwrap_or(Value::Null))
}

/// Every offered currency: a B2B account opened in it, 1000 collected, and 500 paid out to a
/// USD beneficiary. A payout in another currency than USD is first refused with the hint to ask
/// rateInquiry for that pair, which then quotes it; the quote's rateId prices the payout, which
/// is confirmed and succeeds.
#[tokio::test]
async fn money_in_every_offered_currency_is_paid_out_to_a_usd_account() {
    let app = spawn_app().await;
    let user = onboarded_user(&app, "ffx51-walk").await;
    let offered = offered_currencies(&app, &user).await;
    assert!(offered.len() >= 23, "{offered:?}");
    let usd_account = approved_beneficiary(&app, &user, "ffx51-usd", "USD").await;
    let mut cards = BTreeMap::new();
    for (cur, channel) in &offered {
        let channel = channel
            .as_deref()
            .unwrap_or_else(|| panic!("{cur} is offered by a platform but by no channel"));
        let card = expect(
            &app,
            "b2bVirtualAccountApply",
            json!({"userId": user, "outCardId": format!("ffx51-{cur}"), "channelCode": channel,
                   "currency": cur}),
            "PROCESSING",
        )
        .await;
        cards.insert(cur.clone(), card["cardId"].as_str().unwrap().to_owned());
    }
    app.advance(10.0).await;
    for card in cards.values() {
        app.trigger_ok(
            "whalet.collection.received",
            json!({"cardId": card, "amount": "1000"}),
        )
        .await;
    }
    app.advance(5.0).await;
    let mut payouts = Vec::new();
    for cur in offered.keys() {
        let row = balance(&app, &user, "B2B", cur).await;
        assert_eq!(row["balance"]["amount"], json!(1000), "{cur}: {row}");
        let body = json!({"userId": user, "outPayoutId": format!("ffx51-{cur}"),
            "fundSource": "B2B", "currency": cur, "amount": "500", "beneficiaryId": usd_account});
        let mut with_rate = body.clone();
        if cur != "USD" {
            refused(
                &app,
                "payoutApply",
                body.clone(),
                "FAILURE",
                &format!("rateId is required (ask rateInquiry for {cur} to USD)"),
            )
            .await;
            let (code, quote) = rate(&app, &user, cur, "USD", "B2B").await;
            assert_eq!(code, "SUCCESS", "rateInquiry {cur} to USD: {quote}");
            assert!(quote["rate"].as_f64().unwrap() > 0.0, "{cur}: {quote}");
            with_rate["rateId"] = quote["rateId"].clone();
        }
        let applied = expect(&app, "payoutApply", with_rate, "SUCCESS").await;
        let to = &applied["toAmount"];
        assert_eq!(to["currency"], "USD", "{cur}: {applied}");
        assert!(to["cent"].as_i64().unwrap() > 0, "{cur}: {applied}");
        let id = applied["payoutId"].as_str().unwrap().to_owned();
        expect(
            &app,
            "payoutConfirm",
            json!({"userId": user, "payoutId": id}),
            "PROCESSING",
        )
        .await;
        payouts.push((cur.clone(), id));
    }
    app.advance(30.0).await;
    for (cur, id) in payouts {
        let n = received_about(&app, "payoutResultNotify", "payoutId", &id).await;
        assert_eq!(n["status"], "SUCCESS", "{cur}: {n}");
        let row = balance(&app, &user, "B2B", &cur).await;
        assert_eq!(row["balance"]["amount"], json!(500), "{cur}: {row}");
    }
    app.shutdown().await;
}

/// For every offered currency and every currency a beneficiary account holds, the hint of a
/// `payApply` that needs a rateId and `rateInquiry` agree: the hint asks rateInquiry for the
/// pair, and rateInquiry quotes it (the hint is checked before the balance, so no money is
/// needed).
#[tokio::test]
async fn every_hint_to_ask_rate_inquiry_names_a_pair_it_quotes() {
    let app = spawn_app().await;
    let user = onboarded_user(&app, "ffx51-pairs").await;
    let offered = offered_currencies(&app, &user).await;
    let targets = beneficiary_currencies(&app).await;
    assert!(targets.contains(&"CNY".to_owned()), "{targets:?}");
    for from in offered.keys() {
        for to in targets.iter().filter(|to| *to != from) {
            let reply = call(
                &app,
                "payApply",
                json!({"userId": user, "outPayId": format!("ffx51-{from}-{to}"),
                       "fundSource": "B2B", "currency": from, "amount": "100",
                       "payeeName": "Supplier Ltd", "toCurrency": to}),
            )
            .await;
            assert_eq!(reply.code, "FAILURE", "{from} to {to}: {}", reply.detail);
            assert!(
                reply
                    .detail
                    .ends_with(&format!("(ask rateInquiry for {from} to {to})")),
                "{from} to {to}: {}",
                reply.detail
            );
            let (code, quote) = rate(&app, &user, from, to, "B2B").await;
            assert_eq!(code, "SUCCESS", "rateInquiry {from} to {to}: {quote}");
        }
    }
    app.shutdown().await;
}

/// A pair outside the rate table: payApply says no rate is offered (not "ask rateInquiry"),
/// rateInquiry refuses it too, and a scenario rule's values.rate on rateInquiry prices it, as
/// both refusals say, after which the order goes through with the rule's rateId.
#[tokio::test]
async fn a_pair_without_a_rate_says_so_and_a_scenario_rule_prices_it() {
    let app = spawn_app().await;
    let user = onboarded_user(&app, "ffx51-kwd").await;
    let card = expect(
        &app,
        "b2bVirtualAccountApply",
        json!({"userId": user, "outCardId": "ffx51-kwd", "channelCode": "SIM_US_LOCAL",
               "currency": "USD"}),
        "PROCESSING",
    )
    .await;
    app.advance(10.0).await;
    app.trigger_ok(
        "whalet.collection.received",
        json!({"cardId": card["cardId"], "amount": "100"}),
    )
    .await;
    app.advance(5.0).await;
    let pay = json!({"userId": user, "outPayId": "ffx51-kwd", "fundSource": "B2B",
        "currency": "USD", "amount": "10", "payeeName": "Kuwait Supplier", "toCurrency": "KWD"});
    let reply = call(&app, "payApply", pay.clone()).await;
    assert_eq!(reply.code, "FAILURE", "{}", reply.detail);
    assert_eq!(
        reply.detail,
        "the payee receives KWD: rateId is required (no rate is offered for USD to KWD: KWD is \
         not in the simulator's rate table (rateInquiry names the currencies it quotes); a \
         scenario rule's values.rate on rateInquiry can set one)"
    );
    let (code, _) = rate(&app, &user, "USD", "KWD", "B2B").await;
    assert_eq!(code, "FAILURE");
    refused(
        &app,
        "rateInquiry",
        json!({"userId": user, "currency": "USD", "toCurrency": "KWD", "fundSource": "B2B"}),
        "FAILURE",
        "no rate is offered for USD to KWD; the simulator quotes USD, CNY, HKD, EUR, GBP, JPY, \
         SGD, AUD, CAD, CNH, NZD, CHF, AED, SAR, MXN, PLN, SEK, TRY, MYR, PHP, THB, VND, TWD, \
         BRL; a scenario rule's values.rate on rateInquiry can set one",
    )
    .await;
    let (status, body) = app
        .load_scenario(
            "name = \"kwd\"\n[[rule]]\noperation = \"rateInquiry\"\n[rule.then]\nvalues = { rate = \"0.307\" }\n",
            "",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (code, quote) = rate(&app, &user, "USD", "KWD", "B2B").await;
    assert_eq!(code, "SUCCESS", "{quote}");
    let mut priced = pay;
    priced["rateId"] = quote["rateId"].clone();
    let applied = expect(&app, "payApply", priced, "SUCCESS").await;
    assert_eq!(applied["toAmount"]["amount"], json!(3.07), "{applied}");
    assert_eq!(applied["toAmount"]["currency"], "KWD", "{applied}");
    app.shutdown().await;
}

/// `benificiaryAccountApply` in DE: an IBAN of another country is refused naming the country
/// it must start with and the one it starts with; wrong check digits are refused naming the
/// mod-97 check; the valid IBAN, and each euro country's own example, are accepted.
#[tokio::test]
async fn an_iban_is_refused_naming_its_country_or_check_digits() {
    let app = spawn_app().await;
    let user = onboarded_user(&app, "ffx51-iban").await;
    let de = |out: &str, iban: &str| {
        json!({"userId": user, "outBeneficiaryId": out, "country": "DE", "currency": "EUR",
               "accountName": "Example GmbH", "bankName": "Example Bank",
               "swiftCode": "DEUTDEFF", "iban": iban})
    };
    refused(
        &app,
        "benificiaryAccountApply",
        de("ffx51-gb", "GB29NWBK60161331926819"),
        "PARAMETER_ERROR",
        "iban must start with DE, the country code of the account (an IBAN of DE); it starts \
         with GB, got \"GB29NWBK60161331926819\"",
    )
    .await;
    refused(
        &app,
        "benificiaryAccountApply",
        de("ffx51-cd", "DE89370400440532013001"),
        "PARAMETER_ERROR",
        "iban has check digits 89 that fail the ISO 13616 mod-97 check; for the rest of this \
         IBAN they are 62",
    )
    .await;
    expect(
        &app,
        "benificiaryAccountApply",
        de("ffx51-ok", "DE89370400440532013000"),
        "PROCESSING",
    )
    .await;
    for country in ["FR", "NL", "IT", "ES", "IE", "BE"] {
        let fields = expect(
            &app,
            "beneficiaryFieldsQuery",
            json!({"country": country}),
            "SUCCESS",
        )
        .await;
        let iban = fields["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == "iban")
            .unwrap()["example"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(iban.starts_with(country), "{country}: {iban}");
        let mut body = de(&format!("ffx51-{country}"), &iban);
        body["country"] = json!(country);
        expect(&app, "benificiaryAccountApply", body, "PROCESSING").await;
    }
    app.shutdown().await;
}
