//! Round 34's dashboard and seller-page reports, in real headless Chromium (as tests/api/dashboard
//! does) and over HTTP: a multi-line reason the seller's reason box took is taken by the server;
//! the coverage view drops a report that no longer matches its filters, keeps the filters in the
//! address and in its CLI line, and says why "Start over" was refused; long text wraps inside its
//! card; the clock view shows no mode as current before it read the clock; "Send it again" of an
//! apiCode that starts with `-`; and the configuration is kept behind the admin token.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use whalet_sim::authorize::MAX_REASON_CHARS;
use whalet_sim::clock::ClockMode;

use crate::browser::{self, Browser};
use crate::dashboard::support::{
    assert_no_horizontal_scroll, assert_no_script_errors, open, run_command, send_again_commands,
    wait_text,
};
use crate::helpers::{platform_call, spawn_app, spawn_with, Setup, TestApp};
use crate::platform::bind_body;

const TOKEN: &str = "fweb50-admin-token";

fn with_token(extra: &str) -> Setup {
    Setup {
        config: Some(format!("[server]\nadmin_token = \"{TOKEN}\"\n{extra}")),
        ..Setup::default()
    }
}

/// Runs `script` in the page and answers its value.
pub(crate) async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

/// Waits (bounded) until `script` answers `expected`; fails with what it last answered.
pub(crate) async fn wait_js(c: &Client, script: &str, expected: &Value) {
    let mut seen = Value::Null;
    for _ in 0..150 {
        seen = js(c, script).await;
        if &seen == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{script}: expected {expected}, last saw {seen}");
}

/// The partner asks for a seller link; the seller opens it and logs in with the demo account.
async fn seller_logged_in(app: &TestApp, b: &Browser, bind_id: &str) {
    let (code, detail, body) =
        platform_call(app, "shopAccountBind", &bind_body(bind_id, "98")).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    let link = body["authorizeUrl"].as_str().unwrap();
    let c = &b.client;
    c.goto(link).await.unwrap();
    let (login, password) = {
        let (l, p) = app.app().authorizations().credentials();
        (l.to_owned(), p.to_owned())
    };
    c.find(Locator::Css("#login"))
        .await
        .unwrap()
        .send_keys(&login)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(&password)
        .await
        .unwrap();
    c.find(Locator::Css("#login-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#reason"))
        .await
        .unwrap();
}

/// The `data-result` of the page the seller's decision led to, once it is there.
async fn result_of_decision(c: &Client) -> String {
    for _ in 0..100 {
        if let Ok(result) = c.find(Locator::Css("#result")).await {
            if let Ok(Some(kind)) = result.attr("data-result").await {
                return kind;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no result page after the decision");
}

/// Report dash #1: the reason box counts a line break as one character, the form sends CRLF,
/// and the server counted two, so a 200-character reason of 67 lines the box took was refused
/// ("266 characters long") and the link stayed pending. Now it is taken, and the partner is told
/// the reason with the line breaks the seller typed. The box's limit is the server's.
#[tokio::test]
async fn a_multi_line_reason_the_reason_box_took_is_taken() {
    let app = spawn_app().await;
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    let c = &b.client;
    seller_logged_in(&app, &b, "B5001").await;
    let reason = c.find(Locator::Css("#reason")).await.unwrap();
    assert_eq!(
        reason.attr("maxlength").await.unwrap(),
        Some(MAX_REASON_CHARS.to_string())
    );
    // "ab⏎" typed until the box is full, and on: the box keeps 200 characters.
    reason.send_keys(&"ab\n".repeat(80)).await.unwrap();
    let typed = js(c, "return document.querySelector('#reason').value;").await;
    let typed = typed.as_str().unwrap().to_owned();
    assert_eq!(typed.chars().count(), MAX_REASON_CHARS, "{typed:?}");
    assert_eq!(typed.matches('\n').count(), 66, "{typed:?}");
    c.find(Locator::Css("#reject"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let result = result_of_decision(c).await;
    let page = c.find(Locator::Css("main")).await.unwrap().text().await;
    assert_eq!(result, "rejected", "{page:?}");
    app.wait_notification("apiCode=shopAccountBindNotify").await;
    let body = app.receiver.received()[0].body.clone().unwrap();
    assert_eq!(body["status"], "FAILURE", "{body}");
    assert_eq!(body["reason"], json!(typed), "{body}");
    b.close().await;
    app.shutdown().await;
}

/// Report dash #3: after the server refused a tenant/surface pair the previous report stayed
/// below the error; the filters were not in the address (a reload lost them); the CLI line ignored
/// them. Now the refused pair shows no report, a reload keeps the filters, and the CLI line
/// carries them (and prints the same report).
#[tokio::test]
async fn the_coverage_view_keeps_its_filters_and_drops_a_report_that_does_not_match_them() {
    let app = spawn_app().await;
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    let c = &b.client;
    open(&b, &app, "/__sim/ui/coverage").await;
    wait_text(c, "#coverage-summary", "all tenants").await;
    c.find(Locator::Css("#coverage-tenant"))
        .await
        .unwrap()
        .select_by_value("infinia:demo-app")
        .await
        .unwrap();
    wait_text(c, "#coverage-summary", "tenant infinia:demo-app").await;
    let rows = "return document.querySelectorAll('#coverage-list .cov-op').length > 0;";
    wait_js(c, rows, &json!(true)).await;
    wait_js(
        c,
        "return location.search;",
        &json!("?tenant=infinia%3Ademo-app"),
    )
    .await;
    let cli = wait_text(c, "#coverage-cli", "--tenant infinia:demo-app").await;
    let line = cli.text().await.unwrap();
    assert!(
        line.starts_with(&format!("whalet-sim coverage --url {} ", app.url)),
        "{line}"
    );
    // The line prints the report shown, once a format is picked.
    let command = line.replace(
        "--format text|json|junit|html --min PERCENT",
        "--format json",
    );
    let out = run_command(&command).await;
    assert!(out.status.success(), "{command}: {out:?}");
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["tenant"], "infinia:demo-app", "{printed}");

    // The surface menu offers only the surfaces the tenant uses.
    let offered =
        "return [...document.querySelectorAll('#coverage-surface option')].map(o => o.value);";
    wait_js(c, offered, &json!(["", "infinia"])).await;

    // A pair the server refuses (from the address: the menu does not offer it): its error, and
    // no report of other filters below it.
    open(
        &b,
        &app,
        "/__sim/ui/coverage?tenant=infinia%3Ademo-app&surface=pockyt",
    )
    .await;
    wait_js(c, offered, &json!(["", "infinia", "pockyt"])).await;
    wait_text(c, "#coverage-summary", "not a tenant of surface pockyt").await;
    wait_js(
        c,
        "return document.querySelectorAll('#coverage-list > *').length;",
        &json!(0),
    )
    .await;
    wait_text(
        c,
        "#coverage-cli",
        "--tenant infinia:demo-app --surface pockyt",
    )
    .await;
    // Polls keep it so.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        js(
            c,
            "return document.querySelectorAll('#coverage-list > *').length;"
        )
        .await,
        json!(0)
    );

    // A reload keeps the filters.
    c.refresh().await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#view[aria-busy=false]"))
        .await
        .unwrap();
    wait_js(
        c,
        "return [document.querySelector('#coverage-tenant').value, document.querySelector('#coverage-surface').value];",
        &json!(["infinia:demo-app", "pockyt"]),
    )
    .await;
    wait_text(c, "#coverage-summary", "not a tenant of surface pockyt").await;
    assert_no_script_errors(c, "coverage").await;
    b.close().await;
    app.shutdown().await;
}

/// Report dash #3: "Start over" refused said only "Reset refused"; it now says why, as every
/// other button does (here: the admin token is missing).
#[tokio::test]
async fn start_over_refused_says_why() {
    let app = spawn_with(with_token("")).await;
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    let c = &b.client;
    open(&b, &app, "/__sim/ui/coverage").await;
    c.find(Locator::Css("#coverage-reset"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let toast = wait_text(c, "#toast", "Reset refused").await;
    let said = toast.text().await.unwrap();
    assert!(said.contains("requires its admin token"), "{said}");
    assert_no_script_errors(c, "coverage").await;
    b.close().await;
    app.shutdown().await;
}

/// Report dash #4: long unbroken text from data or the server widened the page: a scenario's
/// description and rule names, a trigger's refusal, an error callout, the toast, and the seller
/// page's "Reason too long" card. Each wraps inside its box now.
#[tokio::test]
async fn long_unbroken_text_wraps_inside_its_card() {
    let app = spawn_app().await;
    let long = |c: char, n: usize| c.to_string().repeat(n);
    let scenario = format!(
        "name = \"long\"\ndescription = \"{}\"\n[[rule]]\nname = \"{}\"\noperation = \"connectivity\"\n[rule.then]\ncode = \"FAILURE\"\n",
        long('x', 3000),
        long('y', 500)
    );
    let (status, answer) = app.load_scenario(&scenario, "").await;
    assert_eq!(status, 200, "{answer}");
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    let c = &b.client;
    open(&b, &app, "/__sim/ui/clock").await;
    wait_text(c, ".scenario", "long").await;
    assert_no_horizontal_scroll(c, "clock with a long scenario").await;

    open(
        &b,
        &app,
        &format!("/__sim/ui/requests?tenant=whalet:{}", long('Q', 3000)),
    )
    .await;
    wait_text(c, ".callout", "QQQQ").await;
    assert_no_horizontal_scroll(c, "requests with a long tenant filter").await;

    open(&b, &app, "/__sim/ui/triggers").await;
    let form = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(
            "form[data-trigger='platform.binding.rejected']",
        ))
        .await
        .unwrap();
    js(
        c,
        &format!(
            "document.querySelector(\"form[data-trigger='platform.binding.rejected'] input[name=bindId]\").value = '{}';",
            long('Z', 3000)
        ),
    )
    .await;
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, ".trigger-bad", "Refused").await;
    assert_no_horizontal_scroll(c, "triggers with a long refusal").await;

    // The toast keeps its text inside its box.
    let fits = format!(
        "Dash.toast('{}', 'bad'); const t = document.getElementById('toast'); return t.scrollWidth <= t.clientWidth;",
        long('W', 3000)
    );
    assert_eq!(js(c, &fits).await, json!(true), "the toast overflows");
    assert_no_script_errors(c, "triggers").await;

    // The seller's page: a 250-character one-word reason (past the box, as a form may send
    // it) is refused in a card that keeps to the page.
    seller_logged_in(&app, &b, "B5002").await;
    js(
        c,
        &format!(
            "const r = document.querySelector('#reason'); r.removeAttribute('maxlength'); r.value = '{}';",
            long('R', 250)
        ),
    )
    .await;
    c.find(Locator::Css("#reject"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(result_of_decision(c).await, "message");
    let title = c
        .find(Locator::Css("#page-title"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(title, "Reason too long");
    assert_no_horizontal_scroll(c, "the seller's reason-too-long page").await;
    b.close().await;
    app.shutdown().await;
}

/// What the clock view's mode form shows: the mode checked (or null), and whether "Apply mode"
/// can be pressed.
const MODE_FORM: &str = "const m = document.querySelector('input[name=mode]:checked'); \
     const b = document.querySelector('.mode-form button[type=submit]'); \
     return [m ? m.value : null, !!b && !b.disabled];";

/// Report dash #5: without clock data (the admin token not given) the form showed "Manual" as
/// the current mode, and "Apply mode" would have switched a real clock to manual. It shows no
/// mode and cannot be applied until the clock was read; then it shows the clock's mode.
#[tokio::test]
async fn the_clock_view_shows_no_mode_until_it_read_the_clock() {
    let app = spawn_with(Setup {
        clock: Some(ClockMode::Real),
        ..with_token("")
    })
    .await;
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    let c = &b.client;
    open(&b, &app, "/__sim/ui/clock").await;
    wait_text(c, "#clock-now", "admin token").await;
    assert_eq!(js(c, MODE_FORM).await, json!([null, false]));
    // With the token the clock is read: its own mode, and the form can be applied.
    open(&b, &app, &format!("/__sim/ui/clock?token={TOKEN}")).await;
    wait_js(c, MODE_FORM, &json!(["real", true])).await;
    assert_no_script_errors(c, "clock").await;
    b.close().await;
    app.shutdown().await;
}

/// Report dash #6: "Send it again" of an apiCode starting with `-` (journaled as `/api/-x`) was
/// `whalet-sim call -x …`, which the CLI read as an option. The operation now comes after `--`,
/// and the command sends the same request again.
#[tokio::test]
async fn send_it_again_of_an_api_code_that_starts_with_a_dash_sends_it() {
    let app = spawn_app().await;
    let first = format!(
        "whalet-sim call --url {}/api --data '{{\"a\":1}}' -- -x",
        app.url
    );
    let out = run_command(&first).await;
    let journal = app.get_json("/__sim/requests?limit=5").await;
    assert_eq!(
        journal["requests"][0]["operation"], "/api/-x",
        "{first}: {out:?}"
    );
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    let c = &b.client;
    open(&b, &app, "/").await;
    wait_text(c, ".summary", "1 request").await;
    let commands = send_again_commands(c).await;
    assert_eq!(commands.len(), 1, "{commands:?}");
    let command = &commands[0];
    assert!(command.ends_with(" -- -x"), "{command}");
    let out = run_command(command).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("unexpected argument"),
        "{command}: {stderr}"
    );
    let journal = app.get_json("/__sim/requests?limit=5").await;
    let requests = journal["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "{command}: {journal}");
    assert_eq!(requests[0]["operation"], "/api/-x", "{journal}");
    assert_eq!(requests[0]["request"], json!({"a": 1}), "{journal}");
    assert_no_script_errors(c, "requests").await;
    b.close().await;
    app.shutdown().await;
}

const CONFIGURED: &str = "[infinia]\nsignature_alg = \"SHA1withRSA\"\n\
    [[infinia.apps]]\napp_id = \"secret-customer-app-77\"\n\
    merchant_public_key = \"@keys/demo-infinia-merchant/public.pem\"\n\
    [whalet.api_codes]\nqueryPlatformBalance = \"platformBalance\"\n";

/// Report ctl #4: with an admin token set, the dashboard page served without it listed the
/// Infinia apps that sign with SHA1 and the renamed apiCodes in `<body>` data attributes, while
/// `/__sim/state` answered 401. The page now carries none of the configuration; its script reads
/// it from `/__sim/ui/facts`, which needs the token as the control plane does.
#[tokio::test]
async fn with_an_admin_token_the_page_carries_no_configuration() {
    let app = spawn_with(with_token(CONFIGURED)).await;
    for path in ["/", "/__sim/ui/requests", "/__sim/ui/triggers"] {
        let (status, html) = app.get_text(path).await;
        assert_eq!(status, 200, "{path}");
        for configured in ["secret-customer-app-77", "platformBalance", "demo-app"] {
            assert!(
                !html.contains(configured),
                "{path} shows {configured}: {html}"
            );
        }
        assert!(
            html.contains("data-facts=\"/__sim/ui/facts\""),
            "{path}: {html}"
        );
    }
    let http = reqwest::Client::new();
    for path in ["/__sim/ui/facts", "/__sim/ui//facts", "/__sim/ui/facts/"] {
        let refused = http.get(format!("{}{path}", app.url)).send().await.unwrap();
        assert_eq!(refused.status().as_u16(), 401, "{path}");
        let text = refused.text().await.unwrap();
        assert!(!text.contains("secret-customer-app-77"), "{path}: {text}");
    }
    let facts = http
        .get(format!("{}/__sim/ui/facts", app.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let facts: Value = serde_json::from_str(&facts).unwrap();
    let sha1: Value = serde_json::from_str(facts["infiniaSha1"].as_str().unwrap()).unwrap();
    assert_eq!(
        sha1,
        json!(["demo-app", "secret-customer-app-77"]),
        "{facts}"
    );
    let renamed: Value = serde_json::from_str(facts["wireNames"].as_str().unwrap()).unwrap();
    assert_eq!(renamed["whalet"]["queryPlatformBalance"], "platformBalance");
    assert_eq!(facts["platformAuth"], "envelope", "{facts}");

    // Once the token is given, the page has them: "Send it again" calls the renamed apiCode by
    // its wire name.
    let first = format!(
        "whalet-sim call platformBalance --data '{{}}' --url {}/api",
        app.url
    );
    let out = run_command(&first).await;
    assert!(out.status.success(), "{first}: {out:?}");
    let Some(b) = browser::start(1280, 900).await else {
        return;
    };
    let c = &b.client;
    open(&b, &app, &format!("/?token={TOKEN}")).await;
    wait_text(c, ".summary", "1 request").await;
    let commands = send_again_commands(c).await;
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(
        commands[0].starts_with("whalet-sim call platformBalance "),
        "{commands:?}"
    );
    assert_no_script_errors(c, "requests with the token").await;
    b.close().await;
    app.shutdown().await;

    // Without an admin token the page carries them itself, as before.
    let app = spawn_with(Setup {
        config: Some(CONFIGURED.into()),
        ..Setup::default()
    })
    .await;
    let (_, html) = app.get_text("/").await;
    assert!(html.contains("secret-customer-app-77"), "{html}");
    assert!(html.contains("data-facts=\"\""), "{html}");
    app.shutdown().await;
}
