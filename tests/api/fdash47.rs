//! The dashboard's commands and views against what the server is configured to do (in real
//! headless Chromium, as tests/api/dashboard does): "Send it again" for Infinia calls a renamed
//! path by its wire path and signs as its app signs; a demo id with credentials of its own gets
//! a placeholder; a refused filter shows no rows; a scenario load's warning is shown; a
//! notification linked by its number stays open; trigger commands ask for the admin token.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser;
use crate::dashboard::support::{
    assert_no_script_errors, open, run_command, send_again_commands, wait_text,
};
use crate::helpers::{repo_path, spawn_app, spawn_with, Setup, TestApp};

const KEY_PLACEHOLDER: &str = "'<your private key file>'";
const TOKEN_PLACEHOLDER: &str = "'<your token>'";
const ADMIN_PLACEHOLDER: &str = "'<your admin token>'";
const BALANCE: &str = r#"--data '{"currency":"USD"}'"#;

fn printed(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `command` (with `--url` of `app` added) and expects it to succeed.
async fn call_ok(app: &TestApp, command: &str) {
    let command = format!("{command} --url {}", app.url);
    let out = run_command(&command).await;
    assert!(out.status.success(), "{command}: {}", printed(&out));
}

/// Runs a command the page offered and expects it to succeed.
async fn offered_ok(command: &str) {
    let out = run_command(command).await;
    assert!(out.status.success(), "{command}: {}", printed(&out));
}

/// How many requests the journal holds on `surface`.
async fn journaled(app: &TestApp, surface: &str) -> usize {
    let list = app
        .get_json(&format!("/__sim/requests?surface={surface}"))
        .await;
    list["requests"].as_array().unwrap().len()
}

/// Regression: with `[infinia.paths] "account-balance/query" = "balance/get"`, the command
/// named the operation by its canonical path (as the journal does), which the server answers
/// 404 SYS-002 ("renamed to balance/get here"). It now calls the wire path, and works.
#[tokio::test]
async fn send_it_again_calls_a_renamed_infinia_operation_by_its_wire_path() {
    let app = spawn_with(Setup {
        config: Some("[infinia.paths]\n\"account-balance/query\" = \"balance/get\"\n".into()),
        ..Setup::default()
    })
    .await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    call_ok(
        &app,
        &format!("whalet-sim call --surface infinia balance/get {BALANCE}"),
    )
    .await;
    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "1 request").await;
    let commands = send_again_commands(c).await;
    assert_eq!(commands.len(), 1, "{commands:?}");
    let command = &commands[0];
    assert!(
        command.starts_with("whalet-sim call --surface infinia balance/get "),
        "{command}"
    );
    offered_ok(command).await;
    assert_eq!(journaled(&app, "infinia").await, 2);
    let newest = &app.get_json("/__sim/requests?limit=1").await["requests"][0];
    assert_eq!(newest["code"], "SUC-200", "{newest}");
    assert_no_script_errors(c, "requests").await;
    browser.close().await;
    app.shutdown().await;
}

/// Regression: an Infinia app that signs with SHA1withRSA (`[infinia] signature_alg`, or the
/// app's own `signature_alg`) got a command without `--infinia-alg sha1`, which the server
/// refused. It now carries it for those apps only, and works.
#[tokio::test]
async fn send_it_again_signs_as_the_infinia_app_signs() {
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let merchant_public = repo_path("keys/demo-infinia-merchant/public.pem");
    let merchant_private = repo_path("keys/demo-infinia-merchant/private.pem");

    // The app's own algorithm: app-sha1 signs with SHA1, the demo app with SHA256.
    let app = spawn_with(Setup {
        config: Some(format!(
            "[[infinia.apps]]\napp_id = \"app-sha1\"\nmerchant_public_key = \"@{merchant_public}\"\n\
             signature_alg = \"SHA1withRSA\"\n"
        )),
        ..Setup::default()
    })
    .await;
    call_ok(
        &app,
        &format!(
            "whalet-sim call --surface infinia account-balance/query --app-id app-sha1 \
             --key {merchant_private} --infinia-alg sha1 {BALANCE}"
        ),
    )
    .await;
    call_ok(
        &app,
        &format!("whalet-sim call --surface infinia account-balance/query {BALANCE}"),
    )
    .await;
    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "2 requests").await;
    let commands = send_again_commands(c).await;
    assert_eq!(commands.len(), 2, "{commands:?}");
    let (own, demo): (Vec<_>, Vec<_>) = commands
        .iter()
        .partition(|c| c.contains("--app-id app-sha1"));
    assert_eq!((own.len(), demo.len()), (1, 1), "{commands:?}");
    assert!(own[0].contains("--infinia-alg sha1"), "{}", own[0]);
    assert!(!demo[0].contains("--infinia-alg"), "{}", demo[0]);
    offered_ok(&own[0].replace(KEY_PLACEHOLDER, &merchant_private)).await;
    offered_ok(demo[0]).await;
    wait_text(c, ".summary", "4 requests").await;
    let failed = app.get_json("/__sim/requests?failed=true").await;
    assert_eq!(failed["requests"], json!([]), "{failed}");
    assert_no_script_errors(c, "requests").await;
    app.shutdown().await;

    // Every app's algorithm: the demo app signs with SHA1.
    let app = spawn_with(Setup {
        config: Some("[infinia]\nsignature_alg = \"SHA1withRSA\"\n".into()),
        ..Setup::default()
    })
    .await;
    call_ok(
        &app,
        &format!(
            "whalet-sim call --surface infinia account-balance/query --infinia-alg sha1 {BALANCE}"
        ),
    )
    .await;
    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "1 request").await;
    let commands = send_again_commands(c).await;
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(commands[0].contains("--infinia-alg sha1"), "{commands:?}");
    assert!(!commands[0].contains("--key"), "{commands:?}");
    offered_ok(&commands[0]).await;
    let failed = app.get_json("/__sim/requests?failed=true").await;
    assert_eq!(failed["requests"], json!([]), "{failed}");
    assert_eq!(journaled(&app, "infinia").await, 2);
    browser.close().await;
    app.shutdown().await;
}

/// The value of data attribute `name` of the page the simulator serves at `/`.
async fn page_attribute(app: &TestApp, name: &str) -> String {
    let (status, html) = app.get_text("/").await;
    assert_eq!(status, 200, "{html}");
    let marker = format!("{name}=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name}: {html}"))
        + marker.len();
    let value = &html[at..at + html[at..].find('"').unwrap()];
    value.replace("&quot;", "\"")
}

/// Regression: a tenant with a demo id but credentials of its own (`[pockyt] demo_merchant =
/// false` and a merchant 202333 with its own token; the demo partner's id with another key) was
/// taken for the demo tenant, so its command had no `--token` / `--key` placeholder and was
/// refused. It now has one, and once filled in it works. A demo id configured with the demo key
/// (as examples/sim.toml does) is still the demo tenant.
#[tokio::test]
async fn send_it_again_asks_a_demo_id_with_credentials_of_its_own_for_them() {
    const OWN_TOKEN: &str = "my-own-token";
    const DEMO_PARTNER: &str = "202400000000001";
    let keys = tempfile::tempdir().unwrap();
    let dir = keys.path().display().to_string();
    let out = run_command(&format!("whalet-sim keygen --out {dir}")).await;
    assert!(out.status.success(), "{}", printed(&out));
    let (private, public) = (format!("{dir}/private.pem"), format!("{dir}/public.pem"));
    let app = spawn_with(Setup {
        config: Some(format!(
            "[[whalet.partners]]\npartner_id = \"{DEMO_PARTNER}\"\npublic_key = \"@{public}\"\n\
             [pockyt]\ndemo_merchant = false\n\
             [[pockyt.merchants]]\nmerchant_no = \"202333\"\nstore_no = \"301854\"\n\
             token = \"{OWN_TOKEN}\"\n"
        )),
        ..Setup::default()
    })
    .await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let ping = r#"--data '{"notifyFlag":"N","responseFlag":"Y","responseMessage":"pong"}'"#;
    call_ok(
        &app,
        &format!(
            "whalet-sim call --surface pockyt v3/payouts/balance --token {OWN_TOKEN} {BALANCE}"
        ),
    )
    .await;
    call_ok(
        &app,
        &format!("whalet-sim call connectivity --key {private} {ping}"),
    )
    .await;
    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "2 requests").await;
    let commands = send_again_commands(c).await;
    assert_eq!(commands.len(), 2, "{commands:?}");
    for command in &commands {
        let filled = if command.contains("--surface pockyt") {
            assert!(
                command.contains(&format!("--token {TOKEN_PLACEHOLDER}")),
                "{command}"
            );
            command.replace(TOKEN_PLACEHOLDER, OWN_TOKEN)
        } else {
            assert!(
                command.contains(&format!(
                    "--partner-id {DEMO_PARTNER} --key {KEY_PLACEHOLDER}"
                )),
                "{command}"
            );
            command.replace(KEY_PLACEHOLDER, &private)
        };
        offered_ok(&filled).await;
    }
    wait_text(c, ".summary", "4 requests").await;
    let failed = app.get_json("/__sim/requests?failed=true").await;
    assert_eq!(failed["requests"], json!([]), "{failed}");
    assert_no_script_errors(c, "requests").await;
    browser.close().await;
    app.shutdown().await;

    // The demo ids configured with the demo credentials are still the demo tenants.
    let demo_public = repo_path("keys/demo-partner/public.pem");
    let merchant_public = repo_path("keys/demo-infinia-merchant/public.pem");
    let app = spawn_with(Setup {
        config: Some(format!(
            "[[whalet.partners]]\npartner_id = \"{DEMO_PARTNER}\"\npublic_key = \"@{demo_public}\"\n\
             [infinia]\ndemo_app = false\n[[infinia.apps]]\napp_id = \"demo-app\"\n\
             merchant_public_key = \"@{merchant_public}\"\n\
             [pockyt]\ndemo_merchant = false\n\
             [[pockyt.merchants]]\nmerchant_no = \"202333\"\nstore_no = \"301854\"\n\
             token = \"demo-token\"\n"
        )),
        ..Setup::default()
    })
    .await;
    let demo: serde_json::Value =
        serde_json::from_str(&page_attribute(&app, "data-demo-tenants").await).unwrap();
    assert_eq!(
        demo,
        json!({"whalet": DEMO_PARTNER, "platform": DEMO_PARTNER, "infinia": "demo-app", "pockyt": "202333"})
    );
    app.shutdown().await;
}

/// The rows of `css` shown, waiting (bounded) until there are `expected`.
async fn wait_rows(c: &Client, css: &str, expected: usize) {
    let mut shown = usize::MAX;
    for _ in 0..40 {
        shown = c.find_all(Locator::Css(css)).await.unwrap().len();
        if shown == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{shown} rows of {css}, not {expected}");
}

/// Types `text` into the filter field `name`.
async fn type_filter(c: &Client, name: &str, text: &str) {
    c.find(Locator::Css(&format!("input[name={name}]")))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Regression: after the API refused a filter (a partner or tenant it does not know), the
/// summary showed the refusal but Requests and Notifications kept the previous filter's rows.
/// No rows are shown then; clearing the filter brings them back.
#[tokio::test]
async fn a_refused_filter_shows_no_rows_of_the_previous_filter() {
    let app = spawn_app().await;
    app.connectivity().await;
    app.trigger_ok(
        "whalet.connectivity.notify",
        json!({"partnerId": "202400000000001"}),
    )
    .await;
    let (status, refused) = app.get("/__sim/requests?partnerId=nobody").await;
    assert!(status >= 400, "{status} {refused}");
    let (status, refused) = app.get("/__sim/notifications?tenant=nobody").await;
    assert!(status >= 400, "{status} {refused}");
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;

    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "2 requests").await;
    type_filter(c, "tenant", "nobody").await;
    wait_text(c, ".summary .callout-bad", "nobody").await;
    wait_rows(c, "#journal .row", 0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wait_rows(c, "#journal .row", 0).await;
    // The filter cleared: the rows are back.
    c.find(Locator::Css("input[name=tenant]"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    c.execute(
        "document.querySelector('input[name=tenant]').dispatchEvent(new Event('input'));",
        vec![],
    )
    .await
    .unwrap();
    wait_text(c, ".summary", "2 requests").await;
    wait_rows(c, "#journal .row", 2).await;
    assert_no_script_errors(c, "requests").await;

    open(&browser, &app, "/__sim/ui/notifications").await;
    wait_text(c, ".summary", "1 notification").await;
    type_filter(c, "tenant", "nobody").await;
    wait_text(c, ".summary .callout-bad", "nobody").await;
    wait_rows(c, "#notifications .row", 0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wait_rows(c, "#notifications .row", 0).await;
    assert_no_script_errors(c, "notifications").await;
    browser.close().await;
    app.shutdown().await;
}

/// Regression: a scenario load answered 200 with a `warning` (its tenant does not exist yet)
/// was shown as a plain "Scenario loaded". The warning is now said, and stays below the form.
#[tokio::test]
async fn a_scenario_loaded_with_a_warning_shows_the_warning() {
    const SCENARIO: &str = "name = \"for-later\"\ntenant = \"whalet:202499999999999\"\n\
                            [[rule]]\noperation = \"connectivity\"\n[rule.then]\ncode = \"FAILURE\"\n";
    let app = spawn_app().await;
    // What the API answers (on a second simulator: this one's is loaded from the page).
    let probe = spawn_app().await;
    let (status, answer) = probe.load_scenario(SCENARIO, "").await;
    assert_eq!(status, 200, "{answer}");
    let warning = answer["warning"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(warning.contains("202499999999999"), "{answer}");
    probe.shutdown().await;

    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/clock").await;
    let summary = wait_text(c, "details.load summary", "Load a scenario").await;
    summary.click().await.unwrap();
    let text = c.find(Locator::Css("#scenario-text")).await.unwrap();
    text.send_keys(SCENARIO).await.unwrap();
    c.find(Locator::Css("details.load button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, "#toast.toast-warn", "202499999999999").await;
    let note = wait_text(c, "#scenario-load-note .callout-warn", "warning").await;
    assert!(note.text().await.unwrap().contains(warning), "{warning}");
    // The scenario is loaded all the same.
    wait_text(c, ".scenario", "for-later").await;
    browser.screenshot("dashboard-scenario-warning").await;
    assert_no_script_errors(c, "clock").await;
    browser.close().await;
    app.shutdown().await;
}

/// Regression: `/__sim/ui/notifications/1` (a notification named by its number, as the API
/// takes it) showed the notification, then dropped it on the next poll, as the rows are keyed
/// by the id `ntf_000001`. The page now names it by its id: its row stays open.
#[tokio::test]
async fn a_notification_linked_by_its_number_stays_open() {
    let app = spawn_app().await;
    let result = app
        .trigger_ok(
            "whalet.connectivity.notify",
            json!({"partnerId": "202400000000001"}),
        )
        .await;
    let id = result["notification"]
        .as_str()
        .unwrap_or_else(|| panic!("{result}"))
        .to_owned();
    let number = id.trim_start_matches("ntf_").trim_start_matches('0');
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, &format!("/__sim/ui/notifications/{number}")).await;
    let head = format!("#notifications [data-key=\"{id}\"] .row-head");
    for _ in 0..3 {
        let expanded = c
            .find(Locator::Css(&head))
            .await
            .unwrap_or_else(|_| panic!("no row {id}"))
            .attr("aria-expanded")
            .await
            .unwrap();
        assert_eq!(expanded.as_deref(), Some("true"), "{id}");
        wait_text(
            c,
            &format!("#notifications [data-key=\"{id}\"] .row-body"),
            "Link to this notification",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    assert_no_script_errors(c, "notifications").await;
    browser.close().await;
    // The page names it by its id, as the rows are keyed.
    let (status, html) = app
        .get_text(&format!("/__sim/ui/notifications/{number}"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("data-item=\"{id}\"")), "{html}");
    app.shutdown().await;
}

/// Regression: on a simulator with an admin token, the Triggers view's CLI line and "Send it
/// again" of a trigger were `whalet-sim trigger NAME --url …`, refused with 401. They now carry
/// `--admin-token <your admin token>` (never the token), and work once it is filled in; without
/// an admin token they carry none.
#[tokio::test]
async fn trigger_commands_ask_for_the_admin_token_when_the_simulator_has_one() {
    const TOKEN: &str = "fdash-token-0123";
    let app = spawn_with(Setup {
        config: Some(format!("[server]\nadmin_token = \"{TOKEN}\"\n")),
        ..Setup::default()
    })
    .await;
    let (_, html) = app.get_text("/").await;
    assert!(!html.contains(TOKEN), "{html}");
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    open(&browser, &app, &format!("/__sim/ui/triggers?token={TOKEN}")).await;
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
    let cli = wait_text(c, ".cli .command code", "whalet-sim trigger").await;
    let command = cli.text().await.unwrap();
    assert!(
        command.contains(&format!("--admin-token {ADMIN_PLACEHOLDER}")),
        "{command}"
    );
    assert!(!command.contains(TOKEN), "{command}");
    let out = run_command(&command).await;
    assert!(
        !out.status.success(),
        "{command}: the placeholder is no token"
    );
    offered_ok(&command.replace(ADMIN_PLACEHOLDER, TOKEN)).await;

    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "2 requests").await;
    let commands = send_again_commands(c).await;
    assert_eq!(commands.len(), 2, "{commands:?}");
    for command in &commands {
        assert!(command.starts_with("whalet-sim trigger "), "{command}");
        assert!(
            command.contains(&format!("--admin-token {ADMIN_PLACEHOLDER}")),
            "{command}"
        );
        offered_ok(&command.replace(ADMIN_PLACEHOLDER, TOKEN)).await;
    }
    wait_text(c, ".summary", "4 requests").await;
    assert_no_script_errors(c, "requests with a token").await;
    app.shutdown().await;

    // Without an admin token, none.
    let app = spawn_app().await;
    call_ok(
        &app,
        "whalet-sim trigger whalet.connectivity.notify partnerId=202400000000001",
    )
    .await;
    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "1 request").await;
    let commands = send_again_commands(c).await;
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(!commands[0].contains("--admin-token"), "{commands:?}");
    offered_ok(&commands[0]).await;
    browser.close().await;
    app.shutdown().await;
}
