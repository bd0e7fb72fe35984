//! The dashboard in real headless Chromium (as tests/api/dashboard does): the Tenants view shows
//! Infinia's earned revenue (minor units by currency in the state) as money, each currency with
//! the exponent of the server's money table; the Notifications view says what started a second
//! series of attempts: the scenario's `duplicate`, or a Resend.

use std::collections::BTreeMap;
use std::time::Duration;

use fantoccini::Client;
use serde_json::{json, Value};
use whalet_sim::money::{Currency, Money};
use whalet_sim::partner::receiver::Mode;
use whalet_sim::store::{Provider, TenantId};

use crate::browser;
use crate::dashboard::support::{assert_no_script_errors, open, wait_text};
use crate::helpers::{spawn_app, TestApp};
use crate::notifications::ping;

/// The texts `script` (a JavaScript expression) gives, as strings.
async fn texts(c: &Client, script: &str) -> Vec<String> {
    let value = c
        .execute(&format!("return {script};"), vec![])
        .await
        .unwrap();
    value
        .as_array()
        .unwrap_or_else(|| panic!("{script}: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Regression: `infinia.earned` (`{seller: {currency: minor units}}`) was shown as the bare
/// integers (`S1 | 4000 | 5000`) under headers "Eur" and "Usd", while the same page showed
/// amounts as money. Each is money now, with its currency's own minor-unit exponent as the
/// server's money table has it (0 for JPY, 3 for KWD), under the currency's code.
#[tokio::test]
async fn the_tenants_view_shows_infinia_earned_revenue_as_money_in_each_currencys_exponent() {
    let app = spawn_app().await;
    let earned: BTreeMap<&str, i64> = [
        ("EUR", 4_000),
        ("USD", 5_000),
        ("JPY", 700),
        ("KWD", 1_000_000_000_000_000),
    ]
    .into();
    // As if trade details had been processed: the state the view reads.
    let tenant = TenantId::new(Provider::Infinia, "demo-app");
    app.app()
        .store()
        .with_tenant(&tenant, |t| {
            let by_currency = t.infinia.earned.entry("S1".into()).or_default();
            for (code, minor) in &earned {
                by_currency.insert((*code).into(), *minor);
            }
        })
        .unwrap();
    let state = app.get_json("/__sim/state?tenant=infinia:demo-app").await;
    assert!(state.to_string().contains("\"earned\""), "{state}");

    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/tenants").await;
    wait_text(c, "[aria-label='Infinia Pay: earned'] tbody th", "S1").await;
    let table = "document.querySelector('[aria-label=\"Infinia Pay: earned\"]')";
    let headers = texts(
        c,
        &format!("Array.from({table}.querySelectorAll('thead th')).map(th => th.textContent)"),
    )
    .await;
    let row = texts(
        c,
        &format!("Array.from({table}.querySelectorAll('tbody tr > *')).map(td => td.textContent)"),
    )
    .await;
    assert_eq!(row.len(), headers.len(), "{headers:?} {row:?}");
    assert_eq!(row[0], "S1", "{row:?}");
    // Each currency's column (found whatever the case of its header): the amount as money.
    let shown: BTreeMap<String, &str> = headers[1..]
        .iter()
        .map(|h| h.to_uppercase())
        .zip(row[1..].iter().map(String::as_str))
        .collect();
    for (code, minor) in &earned {
        let currency = Currency::parse(code).unwrap();
        let expected = format!(
            "{} {code}",
            Money::new(*minor, currency).to_decimal_string()
        );
        let cell = shown
            .get(*code)
            .unwrap_or_else(|| panic!("no {code} column: {headers:?}"));
        // The page groups thousands with commas; the amount is the server's otherwise.
        assert_eq!(cell.replace(',', ""), expected, "{code}: {row:?}");
    }
    // The columns are headed by the currency codes as written.
    assert_eq!(
        headers[1..].to_vec(),
        earned.keys().map(|c| c.to_string()).collect::<Vec<_>>(),
        "{headers:?}"
    );
    assert_no_script_errors(c, "tenants").await;
    browser.close().await;
    app.shutdown().await;
}

/// The page's currency exponents are the server's money table: every currency it names has the
/// exponent `money.rs` gives it, and the currencies whose exponent is not 2 are among them.
#[tokio::test]
async fn the_page_is_given_the_currency_exponents_of_the_servers_money_table() {
    let app = spawn_app().await;
    let html = app
        .http
        .get(
            &format!("{}/__sim/ui/tenants", app.url),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let html = String::from_utf8_lossy(&html.body).into_owned();
    let at = html
        .find("data-currency-exponents=\"")
        .expect("the attribute")
        + "data-currency-exponents=\"".len();
    let text = html[at..at + html[at..].find('"').unwrap()].replace("&quot;", "\"");
    let exponents: BTreeMap<String, u32> = serde_json::from_str(&text).unwrap();
    for (code, exponent) in &exponents {
        assert_eq!(
            Currency::parse(code).unwrap().exponent(),
            *exponent,
            "{code}"
        );
    }
    for code in ["USD", "EUR", "CNY", "JPY", "KRW", "VND", "KWD", "BHD"] {
        assert!(exponents.contains_key(code), "{code} missing: {text}");
    }
    app.shutdown().await;
}

/// The notification `id` once it is final in series `series` (the clock advanced meanwhile).
async fn settled(app: &TestApp, id: &str, series: u64) -> Value {
    for _ in 0..100 {
        let n = app.get_json(&format!("/__sim/notifications/{id}")).await;
        let done = ["delivered", "exhausted"].contains(&n["status"].as_str().unwrap_or(""));
        if done && n["series"] == series {
            return n;
        }
        app.advance(1.0).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} did not finish series {series}");
}

async fn resend(app: &TestApp, id: &str) {
    let (status, body) = app
        .post(&format!("/__sim/notifications/{id}/resend"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The series markers of notification `id`'s timeline, as the page shows them (opened by its
/// link).
async fn series_markers(browser: &browser::Browser, app: &TestApp, id: &str) -> Vec<String> {
    open(browser, app, &format!("/__sim/ui/notifications/{id}")).await;
    let c = &browser.client;
    let body = format!("#body-ntf-{id}");
    wait_text(c, &format!("{body} .timeline"), "Series 2").await;
    texts(
        c,
        &format!(
            "Array.from(document.querySelectorAll('{body} .attempt-series')).map(li => li.textContent)"
        ),
    )
    .await
}

/// Regression: every second series was labelled "resent with the same requestNo", also the one
/// a scenario's `duplicate` sends by itself (no resend was made). The label says which: the
/// duplicate (series 2 once series 1 is delivered) or a Resend (any series a resend started: of
/// a plain notification, after a duplicate's two series, and of a duplicate one whose first
/// series was exhausted, which therefore was never duplicated).
#[tokio::test]
async fn a_second_series_says_whether_the_scenarios_duplicate_or_a_resend_sent_it() {
    let app = spawn_app().await;
    let rule =
        "name = \"fdash48\"\n[[rule]]\nname = \"twice\"\n[rule.when]\nnotifyMessage = \"twice\"\n\
                [rule.then.notify]\nduplicate = true\n";
    let (status, body) = app.load_scenario(rule, "").await;
    assert_eq!(status, 200, "{body}");

    // Duplicated by the scenario, then resent.
    let dup = ping(&app, "twice").await;
    let n = settled(&app, &dup, 2).await;
    assert_eq!(n["behaviour"]["duplicate"], true, "{n}");
    resend(&app, &dup).await;
    settled(&app, &dup, 3).await;
    // A plain notification, resent.
    let plain = ping(&app, "plain").await;
    settled(&app, &plain, 1).await;
    resend(&app, &plain).await;
    settled(&app, &plain, 2).await;
    // Duplicate behaviour, but its first series is exhausted: the second is the resend's.
    app.receiver.set_mode(Mode::Down);
    let failed = ping(&app, "twice").await;
    let n = settled(&app, &failed, 1).await;
    assert_eq!(n["status"], "exhausted", "{n}");
    app.receiver.set_mode(Mode::Ack { fail_first: 0 });
    resend(&app, &failed).await;
    let n = settled(&app, &failed, 2).await;
    assert_eq!(n["status"], "delivered", "{n}");

    let Some(browser) = browser::start(1280, 1000).await else {
        return;
    };
    let is_duplicate = |m: &str| m.contains("duplicate") && !m.contains("Resend");
    let is_resend = |m: &str| m.contains("Resend") && !m.contains("duplicate");

    let markers = series_markers(&browser, &app, &dup).await;
    assert_eq!(markers.len(), 2, "{markers:?}");
    assert!(
        markers[0].starts_with("Series 2") && is_duplicate(&markers[0]),
        "{markers:?}"
    );
    assert!(
        markers[1].starts_with("Series 3") && is_resend(&markers[1]),
        "{markers:?}"
    );
    for id in [&plain, &failed] {
        let markers = series_markers(&browser, &app, id).await;
        assert_eq!(markers.len(), 1, "{id}: {markers:?}");
        assert!(
            markers[0].starts_with("Series 2") && is_resend(&markers[0]),
            "{id}: {markers:?}"
        );
    }
    assert_no_script_errors(&browser.client, "notifications").await;
    browser.close().await;
    app.shutdown().await;
}
