//! The dashboard in real headless Chromium: requests appear decrypted in the journal without a
//! reload, a failing notification's attempts appear and Resend delivers it, advancing the clock
//! from the page delivers a pending retry, a trigger fired from the page sends its notification,
//! every view reads on a 390 px screen, and the tenants view reads the camelCase state.
//! Screenshots go to `target/screenshots/dashboard-*`.

pub(crate) mod support;

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;
use whalet_sim::partner::receiver::Mode;

use crate::browser;
use crate::helpers::{
    platform_call, repo_path, second_partner_config, spawn_app, spawn_with, Setup, SECOND_PARTNER,
};
use support::{
    assert_no_horizontal_scroll, assert_no_script_errors, connectivity, open, run_command,
    send_again_commands, wait_text, ENTER, TAB,
};

#[tokio::test]
async fn a_partner_request_appears_decrypted_in_the_journal_without_reload() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/").await;
    wait_text(c, ".empty", "No requests yet: try").await;
    wait_text(c, ".empty code", "whalet-sim call connectivity").await;
    browser.screenshot("dashboard-requests-empty").await;

    let ok =
        json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "pong from the journal"});
    assert_eq!(connectivity(&app, ok).await, "SUCCESS");
    let bad = json!({"notifyFlag": "maybe", "responseFlag": "N"});
    assert_eq!(connectivity(&app, bad).await, "PARAMETER_ERROR");

    // Both arrive by live update, newest first.
    let failing = wait_text(c, "#journal .row", "PARAMETER_ERROR").await;
    let rows = c.find_all(Locator::Css("#journal .row")).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].text().await.unwrap().contains("PARAMETER_ERROR"));

    // Keyboard: the row header is a button; Enter expands it with the diagnostic.
    let head = failing.find(Locator::Css(".row-head")).await.unwrap();
    head.send_keys(ENTER).await.unwrap();
    let diagnostic = wait_text(c, "#journal .diagnostic", "notifyFlag").await;
    let text = diagnostic.text().await.unwrap();
    assert!(text.contains("What to fix"), "{text}");
    assert_eq!(
        head.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );

    // The successful one shows the decrypted request and the reply.
    let success = wait_text(c, "#journal .row", "SUCCESS").await;
    success
        .find(Locator::Css(".row-head"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let body = wait_text(c, "#journal .row-body", "pong from the journal").await;
    let text = body.text().await.unwrap();
    assert!(
        text.to_lowercase().contains("request (decrypted)"),
        "{text}"
    );
    assert!(text.contains("\"responseFlag\": \"Y\""), "{text}");
    assert!(text.contains("\"messge\""), "the reply is shown: {text}");
    browser.screenshot("dashboard-requests").await;
    assert_no_script_errors(c, "requests").await;

    // "Send it again" is a command line that really works.
    let command = body
        .find(Locator::Css(".command code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        command.starts_with("whalet-sim call connectivity --url "),
        "{command}"
    );
    let out = run_command(&command).await;
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_text(c, ".summary", "3 requests").await;

    // Filters narrow the list, and a deep link opens one request.
    c.goto(&format!("{}/__sim/ui/requests?result=failures", app.url))
        .await
        .unwrap();
    wait_text(c, ".summary", "1 request").await;
    let rows = c.find_all(Locator::Css("#journal .row")).await.unwrap();
    assert_eq!(rows.len(), 1);
    browser.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_failing_notifications_attempts_appear_and_resend_delivers_it() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Down),
        ..Setup::default()
    })
    .await;
    let Some(browser) = browser::start(1280, 1000).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/notifications").await;
    wait_text(c, ".empty", "No notifications yet").await;

    let body = json!({"notifyFlag": "Y", "notifyMessage": "are you there?", "responseFlag": "N"});
    assert_eq!(connectivity(&app, body).await, "SUCCESS");
    // The first attempt fails (HTTP 500); the retries fall due as the clock advances.
    let row = wait_text(c, "#notifications .row", "1 attempt").await;
    assert!(row.text().await.unwrap().contains("pending"));
    app.advance(31.0).await;
    let row = wait_text(c, "#notifications .row", "exhausted").await;
    assert!(row.text().await.unwrap().contains("6 attempts"));

    row.find(Locator::Css(".row-head"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let timeline = wait_text(c, ".timeline", "Attempt 6").await;
    let text = timeline.text().await.unwrap();
    assert!(text.contains("HTTP 500"), "{text}");
    assert!(text.contains("2025-01-01 08:00:31"), "virtual time: {text}");
    browser
        .screenshot("dashboard-notifications-exhausted")
        .await;

    // The partner fixes their server and presses Resend.
    app.receiver.set_mode(Mode::Ack { fail_first: 0 });
    let resend = c
        .find(Locator::Css("#notifications .row-body button.btn-primary"))
        .await
        .unwrap();
    assert_eq!(resend.text().await.unwrap(), "Resend");
    resend.click().await.unwrap();
    wait_text(c, "#notifications .row", "delivered").await;
    wait_text(c, ".timeline", "Series 2").await;
    let n = app.wait_notification("status=delivered").await;
    assert_eq!(n["series"], 2);
    assert_eq!(n["attempts"].as_array().unwrap().len(), 7);
    let received = app.receiver.received();
    assert_eq!(received.last().unwrap().answered, 200);
    browser.screenshot("dashboard-notifications").await;
    assert_no_script_errors(c, "notifications").await;
    browser.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn advancing_the_clock_from_the_page_delivers_a_pending_retry() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Ack { fail_first: 1 }),
        ..Setup::default()
    })
    .await;
    let body = json!({"notifyFlag": "Y", "notifyMessage": "retry me", "responseFlag": "N"});
    assert_eq!(connectivity(&app, body).await, "SUCCESS");
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/clock").await;
    // The retry after the failed first attempt is pending, one virtual second away.
    wait_text(c, "table", "notify:ntf_000001").await;
    wait_text(c, "#clock-big", "2025-01-01 08:00:00").await;
    let first = app.receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(first.len(), 1);

    let input = c.find(Locator::Css("#advance-seconds")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys("1").await.unwrap();
    c.find(Locator::Css("#advance-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let n = app.wait_notification("status=delivered").await;
    assert_eq!(n["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(app.receiver.received().len(), 2);
    wait_text(c, "#clock-big", "2025-01-01 08:00:01").await;
    wait_text(c, ".card", "Nothing is scheduled").await;
    wait_text(c, ".card", "scenarios").await;
    browser.screenshot("dashboard-clock").await;
    assert_no_script_errors(c, "clock").await;
    browser.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_trigger_fired_from_the_page_sends_its_notification() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/triggers").await;
    let form = c
        .find(Locator::Css(
            "form[data-trigger='whalet.connectivity.notify']",
        ))
        .await
        .unwrap();
    let partner = form
        .find(Locator::Css("input[name=partnerId]"))
        .await
        .unwrap();
    assert_eq!(
        partner.prop("value").await.unwrap().as_deref(),
        Some("202400000000001"),
        "the demo partner is prefilled"
    );
    form.find(Locator::Css("input[name=notifyMessage]"))
        .await
        .unwrap()
        .send_keys("hello from the dashboard")
        .await
        .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, ".trigger-ok", "ntf_000001").await;
    wait_text(c, ".cli", "whalet-sim trigger whalet.connectivity.notify").await;
    let n = app
        .wait_notification("apiCode=connectivityNotify&status=delivered")
        .await;
    assert_eq!(
        n["payload"],
        json!({"notifyMessage": "hello from the dashboard"})
    );
    let received = app.receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].api_code, "connectivityNotify");
    assert_eq!(
        received[0].body,
        Some(json!({"notifyMessage": "hello from the dashboard"}))
    );
    browser.screenshot("dashboard-triggers").await;

    // A refused trigger says why, on the page.
    // (submitted from the keyboard: Enter in a field)
    partner.clear().await.unwrap();
    partner.send_keys(&format!("999{ENTER}")).await.unwrap();
    wait_text(c, ".trigger-bad", "no tenant \"whalet:999\" is configured").await;

    // The tenant's view: its ledger verdict and links to its traffic.
    open(&browser, &app, "/__sim/ui/tenants").await;
    wait_text(c, ".card", "whalet:202400000000001").await;
    wait_text(c, ".card-head", "ledger balanced").await;
    wait_text(c, ".summary", "no money created or lost").await;
    browser.screenshot("dashboard-tenants").await;
    assert_no_script_errors(c, "tenants").await;
    browser.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn every_view_reads_on_a_narrow_screen() {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Ack { fail_first: 1 }),
        ..Setup::default()
    })
    .await;
    let body = json!({"notifyFlag": "Y", "notifyMessage": "narrow", "responseFlag": "Y", "responseMessage": "ok"});
    assert_eq!(connectivity(&app, body).await, "SUCCESS");
    let bad = json!({"notifyFlag": "Y"});
    assert_eq!(connectivity(&app, bad).await, "PARAMETER_ERROR");
    let Some(phone) = browser::start_phone(390, 844).await else {
        return;
    };
    let c = &phone.client;
    for (path, name, expect) in [
        ("/", "requests", "PARAMETER_ERROR"),
        (
            "/__sim/ui/notifications",
            "notifications",
            "connectivityNotify",
        ),
        ("/__sim/ui/tenants", "tenants", "ledger balanced"),
        ("/__sim/ui/clock", "clock", "Pending timers"),
        (
            "/__sim/ui/triggers",
            "triggers",
            "whalet.connectivity.notify",
        ),
    ] {
        c.goto(&format!("{}{path}", app.url)).await.unwrap();
        wait_text(c, "main", expect).await;
        if let Ok(head) = c.find(Locator::Css(".row-head")).await {
            head.click().await.unwrap();
            c.wait()
                .at_most(Duration::from_secs(5))
                .for_element(Locator::Css(".row-body:not([hidden])"))
                .await
                .unwrap();
        }
        phone.screenshot(&format!("dashboard-{name}-390")).await;
        let wide = c
            .execute(
                "return Array.from(document.querySelectorAll('body *')).filter(e => !e.closest('.tabs, .table-wrap, .json') && e.getBoundingClientRect().right > 391).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(wide, json!([]), "{name}: elements wider than the screen");
        let width = c
            .execute("return window.innerWidth;", vec![])
            .await
            .unwrap();
        assert_eq!(width, json!(390), "{name}");
        assert_no_horizontal_scroll(c, name).await;
        assert_no_script_errors(c, name).await;
    }
    phone.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn the_journal_works_from_the_keyboard_alone() {
    let app = spawn_app().await;
    let body = json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "by keyboard"});
    assert_eq!(connectivity(&app, body).await, "SUCCESS");
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/").await;
    wait_text(c, "#journal .row", "SUCCESS").await;
    // Tab from the top of the page until the request's row is focused.
    let mut seen = Vec::new();
    let mut reached = None;
    for _ in 0..40 {
        let focused = c.active_element().await.unwrap();
        focused.send_keys(TAB).await.unwrap();
        let now = c.active_element().await.unwrap();
        let class = now.attr("class").await.unwrap().unwrap_or_default();
        seen.push(format!(
            "{} {}",
            now.tag_name().await.unwrap(),
            now.text().await.unwrap_or_default()
        ));
        if class.contains("row-head") {
            reached = Some(now);
            break;
        }
    }
    assert!(seen[0].contains("Skip to content"), "{seen:?}");
    assert!(
        seen.iter().any(|s| s.contains("Notifications")),
        "the tabs are reachable: {seen:?}"
    );
    let head = reached.unwrap_or_else(|| panic!("Tab never reached the request row: {seen:?}"));
    let outline = head.css_value("outline-style").await.unwrap();
    assert_ne!(outline, "none", "keyboard focus is visible");
    head.send_keys(ENTER).await.unwrap();
    wait_text(c, "#journal .row-body", "by keyboard").await;
    browser.screenshot("dashboard-keyboard-focus").await;
    browser.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn pages_are_self_contained_and_unknown_pages_are_404() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/__sim/ui",
        "/__sim/ui/tenants",
        "/__sim/ui/requests/7",
    ] {
        let r = app
            .http
            .get(&format!("{}{path}", app.url), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{path}");
        let html = String::from_utf8_lossy(&r.body);
        assert!(html.contains("<nav class=\"tabs\""), "{path}");
        assert!(
            !html.contains("src=\"http") && !html.contains("href=\"http"),
            "{path}: no external assets"
        );
    }
    let (status, _) = app.get("/__sim/ui/nope").await;
    assert_eq!(status, 404);
    let (status, _) = app.get("/__sim/ui/assets/nope.js").await;
    assert_eq!(status, 404);
    let (status, _) = app.post("/__sim/ui/requests", &json!({})).await;
    assert_eq!(status, 405);
    // The control plane is unaffected.
    let health = app.get_json("/__sim/health").await;
    assert_eq!(health["status"], "ok");
    app.shutdown().await;
}

/// Regression: the 404 page filled its template placeholders one after another, so a placeholder
/// written in the path (`{{view}}`) was filled in turn ("no dashboard page at …/xmissing").
#[tokio::test]
async fn the_missing_page_shows_the_path_as_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET /__sim/ui/x{{{{view}}}} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer.contains("There is no dashboard page at /__sim/ui/x{{view}}."),
        "{answer}"
    );
    app.shutdown().await;
}

/// Regression: an apiCode is partner-supplied text; the "send it again" command once inserted it
/// bare, so `$(...)` in it ran when a user pasted the command into a shell.
#[tokio::test]
async fn send_it_again_quotes_a_hostile_api_code_for_the_shell() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    // The command runs in its own directory; the apiCode (at most 30 characters) would create
    // a file there if the shell expanded it.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pw");
    let api_code = "$(touch pw)";
    let code = app
        .client
        .call(api_code, &json!({"notifyFlag": "N"}))
        .await
        .unwrap()
        .code;
    assert_eq!(code, "INTERFACE_UNAUTHORIZED");
    open(&browser, &app, "/").await;
    let row = wait_text(c, "#journal .row", "INTERFACE_UNAUTHORIZED").await;
    row.find(Locator::Css(".row-head"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let command = wait_text(c, "#journal .command code", "whalet-sim call")
        .await
        .text()
        .await
        .unwrap();
    assert!(command.contains(&format!("'{api_code}'")), "{command}");
    let shell = command.replacen("whalet-sim", env!("CARGO_BIN_EXE_whalet-sim"), 1);
    let cwd = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&shell)
            .current_dir(cwd)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    // The call itself is refused (unknown apiCode); what matters is that nothing else ran.
    assert!(!marker.exists(), "the command ran the apiCode: {command}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("INTERFACE_UNAUTHORIZED")
            || String::from_utf8_lossy(&out.stderr).contains("INTERFACE_UNAUTHORIZED"),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    browser.close().await;
    app.shutdown().await;
}

/// A request a contract overlay rewrote is journaled as `{wire, handler, contract}`; "send it
/// again" once sent that whole object as `--data`, which the overlay refused (the partner's
/// required `email` was not at the top). The command sends what the partner sent.
#[tokio::test]
async fn send_it_again_sends_what_the_partner_sent_under_an_overlay() {
    let app = spawn_with(Setup {
        config: Some(format!(
            "{}\n[contract.tenants]\n\"whalet:{SECOND_PARTNER}\" = \"{}\"\n",
            second_partner_config(),
            repo_path("contracts/partner-example.toml")
        )),
        ..Setup::default()
    })
    .await;
    let rule = "name = \"refuse\"\n[[rule]]\noperation = \"userOnboardingApply\"\n[rule.then]\ncode = \"FAILURE\"\n";
    assert_eq!(app.load_scenario(rule, "").await.0, 200);
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let sent = json!({"merchantUserId": "m9", "email": "a@b.c", "legalEntity": {"type": "INDIVIDUAL",
        "legalName": "Z", "certType": "ID_CARD", "certNo": "C1"}});
    let second = app.client_as(SECOND_PARTNER);
    let reply = second.call("userOnboardingApply", &sent).await.unwrap();
    assert_eq!(reply.code, "FAILURE", "{}", reply.detail);
    let journal = app.get_json("/__sim/requests").await;
    let id = journal["requests"][0]["id"].as_u64().unwrap();
    assert_eq!(journal["requests"][0]["request"]["wire"], sent, "{journal}");

    open(&browser, &app, &format!("/__sim/ui/requests/{id}")).await;
    let command = wait_text(c, ".command code", "whalet-sim call")
        .await
        .text()
        .await
        .unwrap();
    let data = command
        .split("--data '")
        .nth(1)
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no --data in {command}"));
    let data: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(data, sent, "{command}");
    assert!(
        command.contains(&format!("--partner-id {SECOND_PARTNER}")),
        "{command}"
    );
    // A partner of its own: the command asks for its key, which the user fills in (this
    // partner was configured with the demo partner's key).
    assert!(
        command.contains("--key '<your private key file>'"),
        "{command}"
    );
    let command = command.replace(
        "'<your private key file>'",
        &repo_path("keys/demo-partner/private.pem"),
    );
    let out = run_command(&command).await;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The rule answers it, as it did the first time; the overlay does not refuse it.
    assert!(printed.contains("FAILURE"), "{command}: {printed}");
    assert!(!printed.contains("PARAMETER_ERROR"), "{command}: {printed}");
    assert_no_script_errors(c, "request page").await;
    browser.close().await;
    app.shutdown().await;
}

/// With an admin token, the page opened without it says how to sign in; opened once with
/// `?token=`, it drops the token from the address bar and every view works (reads and actions).
#[tokio::test]
async fn the_dashboard_works_with_an_admin_token() {
    const TOKEN: &str = "dash-token-0123";
    let app = spawn_with(Setup {
        config: Some(format!("[server]\nadmin_token = \"{TOKEN}\"\n")),
        ..Setup::default()
    })
    .await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/").await;
    wait_text(c, "#view .callout-bad", "?token=<token>").await;

    open(&browser, &app, &format!("/__sim/ui/requests?token={TOKEN}")).await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/__sim/ui/requests");
    assert!(!url.as_str().contains(TOKEN), "{url}");
    let ok = json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "with a token"});
    assert_eq!(connectivity(&app, ok).await, "SUCCESS");
    wait_text(c, "#journal .row", "connectivity").await;

    // A state-changing request from the page (a trigger) carries the cookie too.
    open(&browser, &app, "/__sim/ui/triggers").await;
    let form = c
        .find(Locator::Css(
            "form[data-trigger='whalet.connectivity.notify']",
        ))
        .await
        .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, ".trigger-ok", "ntf_000001").await;
    assert_no_script_errors(c, "triggers with a token").await;
    browser.close().await;
    app.shutdown().await;
}

/// Every surface's request (and a trigger) gets a "Send it again" command that really works; a
/// trigger answered OK is not counted as a failure; tenant tables have readable headers and no
/// column twice.
#[tokio::test]
async fn send_it_again_works_on_every_surface_and_triggers_are_no_failures() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let url = app.url.clone();
    for command in [
        "whalet-sim call --surface infinia account-balance/query --data '{\"currency\":\"USD\"}'",
        "whalet-sim call --surface pockyt v3/payouts/balance --data '{\"currency\":\"USD\"}'",
        "whalet-sim call --surface platform balanceQuery",
        "whalet-sim trigger whalet.account.ready currency=USD",
    ] {
        let out = run_command(&format!("{command} --url {url}")).await;
        assert!(out.status.success(), "{command}: {out:?}");
    }
    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "4 requests").await;
    let summary = c
        .find(Locator::Css(".summary"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!summary.contains("failed"), "{summary}");
    assert!(c
        .find_all(Locator::Css("#journal .row-bad"))
        .await
        .unwrap()
        .is_empty());

    let commands = send_again_commands(c).await;
    for surface in [
        "--surface infinia",
        "--surface pockyt",
        "--surface platform",
    ] {
        assert!(
            commands.iter().any(|c| c.contains(surface)),
            "{surface}: {commands:?}"
        );
    }
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("whalet-sim trigger whalet.account.ready")),
        "{commands:?}"
    );
    for command in &commands {
        let out = run_command(command).await;
        assert!(
            out.status.success(),
            "{command}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    wait_text(c, ".summary", "8 requests").await;
    assert_no_script_errors(c, "requests").await;

    // Tenant tables: headers in words, none twice, the row key not repeated as a column.
    open(&browser, &app, "/__sim/ui/tenants").await;
    wait_text(c, ".card", "whalet:202400000000001").await;
    let tables = c
        .execute(
            "return Array.from(document.querySelectorAll('.card table')).map(t => Array.from(t.querySelectorAll('thead th')).map(th => th.textContent));",
            vec![],
        )
        .await
        .unwrap();
    let tables = tables.as_array().unwrap();
    assert!(tables.len() > 3, "{tables:?}");
    for headers in tables {
        let headers: Vec<&str> = headers
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect();
        let unique: std::collections::BTreeSet<_> = headers.iter().collect();
        assert_eq!(unique.len(), headers.len(), "{headers:?}");
        for h in &headers {
            assert!(!h.contains('_'), "{headers:?}");
            assert!(
                !h.starts_with(|c: char| c.is_ascii_lowercase()),
                "{headers:?}"
            );
        }
    }
    browser.screenshot("dashboard-tenants-headers").await;
    browser.close().await;
    app.shutdown().await;
}

#[tokio::test]
async fn the_tenants_view_reads_the_camel_case_state() {
    let app = spawn_app().await;
    let ready =
        crate::whalet_support::trigger(&app, "whalet.account.ready", json!({"currency": "USD"}))
            .await;
    let user = ready["userId"].as_str().unwrap().to_owned();
    crate::whalet2_support::approved_beneficiary(&app, &user, "ben-dash-1", "USD").await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/tenants").await;
    // The `whaletTrade` section and the `requestNos` count (one Open API call).
    wait_text(c, "main", "Whalet trade & payouts").await;
    wait_text(c, "section.card", "(1 requestNo used)").await;
    assert_no_script_errors(c, "tenants").await;
    browser.close().await;
    app.shutdown().await;
}

/// The platform's materials are a map of maps in the state (`materials: {byShop: {shop:
/// {order: material}}}`); the page once counted the wrapper, showing "materials (1)" with a row
/// `byShop` on every tenant. It counts the materials, and shows none where there are none.
#[tokio::test]
async fn the_tenants_view_counts_entities_of_nested_maps() {
    let app = spawn_app().await;
    let material = |order: &str| {
        json!({
            "tradeOrderId": order, "tradeOrderNo": format!("OR{order}"), "tradeType": 0,
            "tradeTime": "2024-12-30 10:15:00", "tradeCurrency": "CNY", "tradeAmount": "39.68",
            "tradeName": "Desk lamp", "tradeCount": 2, "tradeUnit": "piece",
            "payerName": "buyer-77", "payerCountryCode": "RU", "goodsCarrier": "CDEK",
            "goodsLogisticsNo": "CD123", "serviceDetail": "", "serviceTime": "",
            "hsCode": "7323990000", "memo": ""
        })
    };
    let upload = json!({"shopId": "1686214", "materials": [material("1"), material("2")]});
    let (code, detail, _) = platform_call(&app, "tradeMaterialsUpload", &upload).await;
    assert_eq!(code, "SUCCESS", "{detail}");
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/tenants").await;
    wait_text(c, "section.card", "whalet:202400000000001").await;
    let headings = c
        .execute(
            "return Array.from(document.querySelectorAll('section.card')).map(c => \
             [c.getAttribute('aria-label'), Array.from(c.querySelectorAll('h3')).map(h => h.textContent)]);",
            vec![],
        )
        .await
        .unwrap();
    let cards = headings.as_array().unwrap();
    assert!(cards.len() > 1, "{headings}");
    for card in cards {
        let tenant = card[0].as_str().unwrap();
        let materials: Vec<&str> = card[1]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h.as_str())
            .filter(|h| h.contains("materials") || h.contains("byShop"))
            .collect();
        if tenant == "whalet:202400000000001" {
            assert_eq!(materials, ["whalet-platform · materials (2)"], "{tenant}");
        } else {
            assert!(materials.is_empty(), "{tenant}: {materials:?}");
        }
    }
    wait_text(c, "section.card th", "byShop / 1686214 / 2").await;
    assert_no_script_errors(c, "tenants").await;
    browser.close().await;
    app.shutdown().await;
}

/// "Failures only" once filtered the newest 200 requests in the browser: a failure older than
/// them matched nothing, and its own permalink said it was "not in the journal" though
/// `GET /__sim/requests/{id}` had it. The filter reads the whole journal, a deep link outside
/// the page is read by its id, and only a real 404 says "not in the journal".
#[tokio::test]
async fn failures_only_and_deep_links_reach_past_the_newest_page() {
    let app = spawn_app().await;
    let bad = json!({"notifyFlag": "Q"});
    assert_eq!(connectivity(&app, bad).await, "PARAMETER_ERROR");
    let failure = app.get_json("/__sim/requests?limit=1").await["requests"][0]["id"]
        .as_u64()
        .unwrap();
    for _ in 0..210 {
        crate::pockyt_support::ok(&app, "/v3/payouts/balance", json!({"currency": "USD"})).await;
    }
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/").await;
    wait_text(c, "#journal .row", "000100").await;

    // Failures only, chosen on the page: the failure older than the newest 200 is found.
    c.find(Locator::Css("select[name=result]"))
        .await
        .unwrap()
        .select_by_value("failures")
        .await
        .unwrap();
    wait_text(c, "#journal .row", "PARAMETER_ERROR").await;
    wait_text(c, ".summary", "every failure in the journal").await;
    wait_text(c, ".summary", "1 request").await;
    let rows = c.find_all(Locator::Css("#journal .row")).await.unwrap();
    assert_eq!(rows.len(), 1);
    // A new failure arrives by live update (the read of what is new).
    let bad = json!({"notifyFlag": "maybe"});
    assert_eq!(connectivity(&app, bad).await, "PARAMETER_ERROR");
    wait_text(c, ".summary", "2 requests").await;
    assert_no_script_errors(c, "failures only").await;

    // Its permalink opens it, read by id.
    open(&browser, &app, &format!("/__sim/ui/requests/{failure}")).await;
    let linked = wait_text(c, "#linked .row-body", "What to fix").await;
    assert!(linked.text().await.unwrap().contains("notifyFlag"));
    let toast = c.find(Locator::Css("#toast")).await.unwrap();
    assert!(!toast.text().await.unwrap().contains("not in the journal"));
    // An id the journal does not hold is "not in the journal".
    open(&browser, &app, "/__sim/ui/requests/99999").await;
    wait_text(c, "#toast", "Request 99999 is not in the journal").await;

    // "Show older" pages back through the rest.
    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "the journal holds older requests").await;
    c.find(Locator::Css("#show-older"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, ".summary", "212 requests").await;
    let rows = c.find_all(Locator::Css("#journal .row")).await.unwrap();
    assert_eq!(rows.len(), 212);
    assert_no_script_errors(c, "requests").await;
    browser.close().await;
    app.shutdown().await;
}

/// The tenants view once printed every time field as raw epoch milliseconds ("Received at
/// 1735689600000"); it shows them as every virtual time on the dashboard, in UTC+8.
#[tokio::test]
async fn the_tenants_view_shows_times_in_utc_plus_8() {
    let app = spawn_app().await;
    app.trigger_ok(
        "platform.bulk_payment.received",
        json!({"amount": "1000.00", "currency": "USD"}),
    )
    .await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/tenants").await;
    wait_text(c, "section.card th", "Received at (UTC+8)").await;
    wait_text(c, "section.card td time", "2025-01-01 08:00:00").await;
    let raw = c
        .execute(
            "return Array.from(document.querySelectorAll('.card td')).map(td => td.textContent).filter(t => /^\\d{13}$/.test(t));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(raw, json!([]), "epoch milliseconds shown as they are");
    assert_no_script_errors(c, "tenants").await;
    browser.close().await;
    app.shutdown().await;
}

/// Clicks the header's Live button (pauses or resumes the polling, as a hidden tab does).
async fn toggle_live(c: &fantoccini::Client) {
    c.find(Locator::Css("#live-toggle"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits (bounded) until the page's `script` answers `expected`; fails with what it last read.
async fn wait_value(c: &fantoccini::Client, script: &str, expected: &serde_json::Value) {
    let mut seen = serde_json::Value::Null;
    for _ in 0..100 {
        seen = c.execute(script, vec![]).await.unwrap();
        if &seen == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{script} read {seen}, not {expected}");
}

/// A state imported while the page was paused (as after a restart without a data directory)
/// reuses journal ids and notification ids: the rows then show the new entries, as the API
/// does, not the ones shown before under the same ids.
#[tokio::test]
async fn rows_follow_the_journal_and_notifications_when_ids_are_reused() {
    let app = spawn_app().await;
    let other = spawn_app().await;
    for message in ["first", "before the restart"] {
        let body = json!({"notifyFlag": "Y", "notifyMessage": message, "responseFlag": "N"});
        assert_eq!(connectivity(&app, body).await, "SUCCESS");
    }
    app.wait_notification("status=delivered").await;
    for _ in 0..2 {
        let bad = json!({"notifyFlag": "maybe", "responseFlag": "N"});
        assert_eq!(connectivity(&other, bad).await, "PARAMETER_ERROR");
    }
    other
        .trigger_ok(
            "whalet.connectivity.notify",
            json!({"partnerId": "202400000000001", "notifyMessage": "after the restart"}),
        )
        .await;
    other.wait_notification("status=delivered").await;
    let (_, before) = app.get_text("/__sim/snapshot").await;
    let (_, after) = other.get_text("/__sim/snapshot").await;
    let import = |text: String| {
        let app = &app;
        async move {
            let (status, answer) = app
                .post_raw("/__sim/snapshot", "application/json", text.into_bytes())
                .await;
            assert_eq!(status, 200, "{answer}");
        }
    };
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let codes = "return Array.from(document.querySelectorAll('#journal .row .cell-code')).map((e) => e.textContent);";

    open(&browser, &app, "/__sim/ui/requests").await;
    wait_value(c, codes, &json!(["SUCCESS", "SUCCESS"])).await;
    toggle_live(c).await;
    import(after).await;
    toggle_live(c).await;
    let listed = app.get_json("/__sim/requests").await;
    // As the page shows a result: its code, or its HTTP status.
    let api: Vec<String> = listed["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| match e["code"].as_str() {
            Some(code) if !code.is_empty() => code.to_owned(),
            _ => e["httpStatus"].to_string(),
        })
        .collect();
    assert_eq!(api.len(), 3, "{listed}");
    assert_eq!(api[1..], ["PARAMETER_ERROR", "PARAMETER_ERROR"]);
    wait_value(c, codes, &json!(api)).await;

    open(&browser, &app, "/__sim/ui/notifications").await;
    let row = wait_text(c, "#notifications .row", "ntf_000001").await;
    row.find(Locator::Css(".row-head"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, "#notifications .row-body", "after the restart").await;
    toggle_live(c).await;
    import(before).await;
    toggle_live(c).await;
    wait_text(c, "#notifications .row-body", "first").await;
    let rows = c
        .find_all(Locator::Css("#notifications .row"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "as GET /__sim/notifications lists them");
    assert_no_script_errors(c, "notifications").await;
    browser.close().await;
    other.shutdown().await;
    app.shutdown().await;
}

/// A trigger that finds its object by one of several ids (`transactionNo|invoiceId`) is fired
/// with the id chosen on the page, and its command line quotes every argument and names this
/// simulator's address.
#[tokio::test]
async fn a_trigger_with_alternative_ids_fires_with_the_one_chosen() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/triggers").await;
    let form = c
        .find(Locator::Css("form[data-trigger='pockyt.payout.failed']"))
        .await
        .unwrap();
    let which = form.find(Locator::Css("select")).await.unwrap();
    which.select_by_value("invoiceId").await.unwrap();
    let value = form.find(Locator::Css(".either input")).await.unwrap();
    value.send_keys("INV 404").await.unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, ".trigger-bad", "no payout with invoiceId INV 404").await;
    let command = wait_text(c, ".cli code", "whalet-sim trigger")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        command,
        format!(
            "whalet-sim trigger pockyt.payout.failed --url {} 'invoiceId=INV 404' merchantNo=202333",
            app.url
        )
    );
    let out = run_command(&command).await;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("no payout with invoiceId INV 404"),
        "the command reaches this simulator: {said}"
    );
    assert_no_script_errors(c, "triggers").await;
    browser.close().await;
    app.shutdown().await;
}

/// The Requests filters show the filter in force from the address bar and offer every surface
/// the API filters by, and the codes seen.
#[tokio::test]
async fn the_request_filters_show_the_filter_in_force() {
    let app = spawn_app().await;
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": "202400000000001"}),
    )
    .await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let selected = "return ['surface', 'result'].map((n) => document.querySelector(`select[name=${n}]`).value);";
    let options = "return Array.from(document.querySelectorAll('select[name=surface] option')).map((o) => o.value);";
    open(
        &browser,
        &app,
        "/__sim/ui/requests?surface=trigger&result=SUC-200",
    )
    .await;
    wait_value(c, selected, &json!(["trigger", "SUC-200"])).await;
    wait_value(
        c,
        options,
        &json!(["", "whalet", "platform", "infinia", "pockyt", "file", "trigger"]),
    )
    .await;
    open(&browser, &app, "/__sim/ui/requests?result=CUSTOM_CODE").await;
    wait_value(c, selected, &json!(["", "CUSTOM_CODE"])).await;
    assert_no_script_errors(c, "requests").await;
    browser.close().await;
    app.shutdown().await;
}

/// The clock view takes the smallest scale the API accepts.
#[tokio::test]
async fn the_clock_view_sets_the_smallest_scale_the_api_accepts() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/clock").await;
    c.find(Locator::Css("input[name=mode][value=scaled]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let scale = c.find(Locator::Css("input[name=scale]")).await.unwrap();
    scale.clear().await.unwrap();
    scale.send_keys("0.000001").await.unwrap();
    c.find(Locator::Css(".mode-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..100 {
        if app.get_json("/__sim/clock").await["mode"]["mode"] == "scaled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let clock = app.get_json("/__sim/clock").await;
    assert_eq!(clock["mode"], json!({"mode": "scaled", "scale": 0.000001}));
    browser.close().await;
    app.shutdown().await;
}

/// Regression: the journal's "What to fix" came from the code alone, so an upload refused for
/// its token (surface `file`, UNAUTHENTICATED_ERROR) was told to sign the envelope's string with
/// SHA1withRSA. The upload endpoint's refusals have hints of their own.
#[tokio::test]
async fn an_upload_refused_for_its_token_is_told_about_the_token() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let (content_type, body) = crate::whalet2_support::multipart(
        &[
            ("partnerId", "202400000000001"),
            ("timestamp", "1"),
            ("token", "not-a-token"),
        ],
        Some(("a.pdf", b"%PDF-1.4")),
    );
    let (status, text) = app.post_raw("/file/upload", &content_type, body).await;
    assert!(text.contains("UNAUTHENTICATED_ERROR"), "{status} {text}");
    open(&browser, &app, "/").await;
    let row = wait_text(c, "#journal .row", "UNAUTHENTICATED_ERROR").await;
    row.find(Locator::Css(".row-head"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let diagnostic = wait_text(c, "#journal .diagnostic", "What to fix").await;
    let text = diagnostic.text().await.unwrap();
    assert!(text.contains("The upload token was refused"), "{text}");
    // The hint is the upload's own, not the envelope's (sign the string with SHA1withRSA); the
    // detail may name the token's algorithm.
    let fix = diagnostic.find(Locator::Css(".diag-fix")).await.unwrap();
    let fix = fix.text().await.unwrap();
    assert!(!fix.contains("SHA1withRSA"), "{fix}");
    assert_no_script_errors(c, "requests").await;
}

/// Regression: a coverage item's "Fire …" link set the address to the trigger's anchor, but the
/// triggers view renders its cards after the page loaded, so nothing scrolled or took focus (the
/// card was thousands of pixels down). The view brings the named card into view below the
/// header and focuses its form, on load and when the address's fragment changes.
#[tokio::test]
async fn a_coverage_fire_link_brings_the_triggers_form_into_view_and_focus() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/coverage").await;
    let link = wait_text(c, "#coverage-list a", "Fire pockyt.payout.returned").await;
    link.click().await.unwrap();
    // Focus lands in the card's form, and the card's top is on screen, below the sticky header.
    let reached = |id: &str| {
        format!(
            "const card = document.getElementById('{id}');
             if (!card || location.hash !== '#{id}') return 'not rendered yet';
             const top = card.getBoundingClientRect().top;
             const header = document.querySelector('header.top').getBoundingClientRect().bottom;
             return [card.contains(document.activeElement) && document.activeElement.matches('input, select, button'),
                     top >= header && top < window.innerHeight];"
        )
    };
    wait_value(
        c,
        &reached("trigger-pockyt-payout-returned"),
        &json!([true, true]),
    )
    .await;
    let (path, scrolled) = {
        let v = c
            .execute("return [location.pathname, window.scrollY];", vec![])
            .await
            .unwrap();
        (v[0].clone(), v[1].as_f64().unwrap())
    };
    assert_eq!(path, json!("/__sim/ui/triggers"));
    assert!(
        scrolled > 0.0,
        "the card is further down: the page scrolled"
    );
    // Another fragment (a link on the same page, or the history) moves to that card.
    c.execute(
        "location.hash = '#trigger-whalet-connectivity-notify';",
        vec![],
    )
    .await
    .unwrap();
    wait_value(
        c,
        &reached("trigger-whalet-connectivity-notify"),
        &json!([true, true]),
    )
    .await;
    assert_no_script_errors(c, "triggers reached by a link").await;
    browser.close().await;
    app.shutdown().await;
}

/// Regression: a notification's link showed nothing at all when the list did not show it: one
/// the filters hide, or one a reset forgot. As for requests, the first is shown above the list
/// (and kept current: Resend there updates it), the second is said to be gone.
#[tokio::test]
async fn a_notification_link_outside_the_list_is_shown_or_said_to_be_gone() {
    let app = spawn_app().await;
    let body = json!({"notifyFlag": "Y", "notifyMessage": "linked", "responseFlag": "N"});
    assert_eq!(connectivity(&app, body).await, "SUCCESS");
    let n = app.wait_notification("status=delivered").await;
    let id = n["id"].as_str().unwrap().to_owned();
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;

    // Filtered out: shown above the list, open, with its actions.
    open(
        &browser,
        &app,
        &format!("/__sim/ui/notifications/{id}?status=exhausted"),
    )
    .await;
    wait_value(
        c,
        "const t = document.querySelector('#linked .linked-title'); return t && t.textContent;",
        &json!("Linked notification"),
    )
    .await;
    let linked = wait_text(c, "#linked .row-body", "Attempt 1").await;
    let text = linked.text().await.unwrap();
    assert!(text.contains(&id), "{text}");
    assert!(text.contains("linked"), "the payload: {text}");
    wait_text(c, ".empty", "No notifications match these filters").await;
    let toast = c
        .execute(
            "return document.getElementById('toast').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(toast, json!(""), "nothing to warn about");
    // Resend from the linked row: it follows the delivery of the new series.
    c.find(Locator::Css(&format!(
        "#linked button[data-fk='resend-{id}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_text(c, "#linked .row", "2 attempts").await;
    assert_eq!(
        app.get_json(&format!("/__sim/notifications/{id}")).await["series"],
        2
    );
    // Once the filters show it, it is in the list and no longer above it.
    c.find(Locator::Css("select[name=status]"))
        .await
        .unwrap()
        .select_by_value("")
        .await
        .unwrap();
    wait_text(c, "#notifications .row-body", "Series 2").await;
    wait_value(
        c,
        "return document.querySelector('#linked').children.length;",
        &json!(0),
    )
    .await;

    // Forgotten by a reset: the page says so.
    let (status, answer) = app.post("/__sim/reset", &json!({})).await;
    assert_eq!(status, 200, "{answer}");
    open(&browser, &app, &format!("/__sim/ui/notifications/{id}")).await;
    wait_text(c, "#toast", &format!("No notification {id}")).await;
    wait_text(c, ".empty", "No notifications yet").await;
    assert_no_script_errors(c, "notification links").await;
    browser.close().await;
    app.shutdown().await;
}

/// Regression: with an admin token, the page opened without its cookie said "Virtual time:
/// offline" while the simulator was answering 401. The header says the admin token is missing
/// or not accepted and how to give it; signed in, it shows the time; "offline" is left for a
/// simulator that does not answer.
#[tokio::test]
async fn the_clock_pill_tells_a_missing_admin_token_from_an_unreachable_simulator() {
    const TOKEN: &str = "pill-token-0123";
    let app = spawn_with(Setup {
        config: Some(format!("[server]\nadmin_token = \"{TOKEN}\"\n")),
        ..Setup::default()
    })
    .await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let pill = "return [document.getElementById('clock-now').textContent, document.getElementById('clock-mode').textContent];";

    open(&browser, &app, "/__sim/ui/coverage").await;
    wait_value(
        c,
        pill,
        &json!([
            "admin token missing or not accepted",
            "open /?token=<token>"
        ]),
    )
    .await;
    let title = c
        .execute(
            "return document.getElementById('clock-pill').title;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        title.as_str().unwrap().contains("Authorization: Bearer"),
        "the pill's title says every way to give it: {title}"
    );

    // Signed in: the virtual time.
    open(&browser, &app, &format!("/__sim/ui/coverage?token={TOKEN}")).await;
    let shown = wait_text(c, "#clock-now", "2025-01-01").await;
    assert!(!shown.text().await.unwrap().contains("token"));

    // The simulator stops: offline.
    app.shutdown().await;
    wait_value(
        c,
        "return document.getElementById('clock-now').textContent;",
        &json!("offline"),
    )
    .await;
    assert_no_script_errors(c, "clock pill").await;
    browser.close().await;
}
