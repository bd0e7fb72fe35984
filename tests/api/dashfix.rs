//! The dashboard's "Send it again" for whalet-platform in plain-JSON mode (`[platform] auth =
//! "none"`, which `whalet-sim call` does not speak), and the Notifications view and tab badge
//! reading a bounded page of a large delivery ledger, in real headless Chromium.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use whalet_sim::partner::receiver::Mode;

use crate::browser;
use crate::dashboard::support::{assert_no_script_errors, open, run_command, wait_text};
use crate::helpers::{spawn_app, spawn_with, Setup, TestApp};

const PLAIN: &str = "[platform]\nauth = \"none\"\n";

/// Opens the newest request's row and answers the commands its body offers.
async fn offered_commands(c: &Client) -> Vec<String> {
    let row = wait_text(c, "#journal .row", "balanceQuery").await;
    row.find(Locator::Css(".row-head"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut commands = Vec::new();
    for code in row
        .find_all(Locator::Css(".row-body .command code"))
        .await
        .unwrap()
    {
        commands.push(code.text().await.unwrap());
    }
    commands
}

/// The platform requests in the journal, newest first.
async fn platform_entries(app: &TestApp) -> Vec<Value> {
    let list = app.get_json("/__sim/requests?surface=platform").await;
    list["requests"].as_array().unwrap().clone()
}

/// With `[platform] auth = "none"` the request row offers a curl command in plain JSON that
/// really sends the request again (`whalet-sim call` speaks only the envelope, and exits 3 on a
/// plain-mode server), and only that command.
#[tokio::test]
async fn send_it_again_for_a_plain_json_platform_request_offers_a_curl_command_that_works() {
    let app = spawn_with(Setup {
        config: Some(PLAIN.into()),
        ..Setup::default()
    })
    .await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let reply = reqwest::Client::new()
        .post(format!("{}/v1/platform/balanceQuery", app.url))
        .header("content-type", "application/json")
        .header("partnerId", "202400000000001")
        .header("requestNo", "R-FIRST-1")
        .body(r#"{"currency":"USD"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);

    open(&browser, &app, "/").await;
    let commands = offered_commands(c).await;
    c.execute(
        "document.querySelector('#journal .command').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    browser
        .screenshot("dashboard-platform-plain-send-again")
        .await;
    // The curl command alone: no `whalet-sim call`, which fails on a plain-mode server.
    assert_eq!(commands.len(), 1, "{commands:?}");
    let curl = &commands[0];
    assert!(curl.starts_with("curl "), "{commands:?}");
    let out = run_command(curl).await;
    assert!(out.status.success(), "{curl}: {out:?}");
    let answer: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{curl}: not JSON ({e}): {out:?}"));
    assert!(answer["balances"].is_array(), "{answer}");
    let entries = platform_entries(&app).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    let (again, first) = (&entries[0], &entries[1]);
    assert_eq!(again["code"], "SUCCESS", "{again}");
    assert_eq!(again["tenant"], first["tenant"]);
    assert_eq!(again["operation"], "balanceQuery");
    assert_eq!(again["request"], first["request"]);
    assert_ne!(again["requestNo"], first["requestNo"]);

    assert_no_script_errors(c, "requests").await;
    browser.close().await;
    app.shutdown().await;
}

/// With the Whalet envelope (the default), the page offers `whalet-sim call` alone.
#[tokio::test]
async fn send_it_again_for_an_enveloped_platform_request_offers_only_whalet_sim_call() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let out = run_command(&format!(
        "whalet-sim call --surface platform balanceQuery --url {} --data '{{\"currency\":\"USD\"}}'",
        app.url
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    open(&browser, &app, "/").await;
    let commands = offered_commands(c).await;
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(
        commands[0].starts_with("whalet-sim call --surface platform balanceQuery"),
        "{commands:?}"
    );
    let out = run_command(&commands[0]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(platform_entries(&app).await.len(), 2);
    browser.close().await;
    app.shutdown().await;
}

/// Records the URLs the page fetches from now on.
async fn record_fetches(c: &Client) {
    c.execute(
        "window.fetched = []; const f = window.fetch; \
         window.fetch = (url, init) => { window.fetched.push(String(url)); return f(url, init); };",
        vec![],
    )
    .await
    .unwrap();
}

/// The ledger listings (`GET /__sim/notifications?…`, not one notification) fetched since
/// `record_fetches`.
async fn ledger_reads(c: &Client) -> Vec<String> {
    let fetched = c.execute("return window.fetched;", vec![]).await.unwrap();
    fetched
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .filter(|u| {
            u.starts_with("/__sim/notifications") && !u.starts_with("/__sim/notifications/")
        })
        .collect()
}

/// The `limit` of a listing URL, if it has one.
fn limit_of(url: &str) -> Option<usize> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("limit="))
        .and_then(|n| n.parse().ok())
}

/// A ledger of more notifications than the view shows: the view reads and shows the newest
/// 200, says that the ledger holds older ones and shows them on request; the tab's badge reads
/// a few exhausted notifications and says "N+". No poll reads the whole ledger.
#[tokio::test]
async fn the_notifications_view_and_its_badge_read_a_bounded_page_of_a_large_ledger() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Down),
        ..Setup::default()
    })
    .await;
    let total = 230;
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": "202400000000001", "count": total.to_string()}),
    )
    .await;
    app.advance(31.0).await;
    // None is still on its way: every one exhausted its retries.
    for status in ["pending", "queued"] {
        let left = app
            .get_json(&format!("/__sim/notifications?status={status}&limit=1"))
            .await;
        assert_eq!(left["notifications"], json!([]), "{status}: {left}");
    }
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/notifications").await;
    wait_text(c, ".summary", "the ledger holds older notifications").await;
    let rows = c
        .find_all(Locator::Css("#notifications .row"))
        .await
        .unwrap();
    assert!(rows.len() < total, "{} rows of {total}", rows.len());
    let shown = rows.len();
    browser.screenshot("dashboard-notifications-bounded").await;

    // Every read of the ledger (the view's every second, the badge's every 3 s) is bounded.
    record_fetches(c).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let reads = ledger_reads(c).await;
    assert!(
        reads.iter().any(|u| u.contains("status=exhausted")),
        "the badge read: {reads:?}"
    );
    assert!(reads.len() >= 3, "{reads:?}");
    for url in &reads {
        let limit = limit_of(url).unwrap_or_else(|| panic!("{url} reads the whole ledger"));
        assert!(limit <= shown, "{url}: more than the {shown} rows shown");
    }
    let badge = c
        .find(Locator::Css("[data-count=notifications]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted: usize = badge
        .strip_suffix('+')
        .unwrap_or_else(|| panic!("badge {badge:?}: not marked as counting part of {total}"))
        .parse()
        .unwrap();
    assert!(counted > 0 && counted < total, "{badge}");

    // "Show older" reaches the rest.
    c.find(Locator::Css("#show-older"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, ".summary", &format!("{total} notifications")).await;
    let rows = c
        .find_all(Locator::Css("#notifications .row"))
        .await
        .unwrap();
    assert_eq!(rows.len(), total);
    let summary = c
        .find(Locator::Css(".summary"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!summary.contains("holds older"), "{summary}");
    assert_no_script_errors(c, "notifications").await;
    browser.close().await;
    app.shutdown().await;
}
