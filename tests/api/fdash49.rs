//! The dashboard's "Send it again" for a renamed Whalet apiCode (in real headless Chromium, as
//! tests/api/dashboard does), now that the journal names an operation by its canonical name.

use crate::browser;
use crate::dashboard::support::{
    assert_no_script_errors, open, run_command, send_again_commands, wait_text,
};
use crate::helpers::{spawn_with, Setup};

/// With `[whalet.api_codes] queryPlatformBalance = "platformBalance"` the journal names the
/// request `queryPlatformBalance` (its canonical name, as scenario rules and coverage do); the
/// command must call it by its wire name, which the server answers (the canonical name is
/// renamed away, INTERFACE_UNAUTHORIZED).
#[tokio::test]
async fn send_it_again_calls_a_renamed_whalet_api_code_by_its_wire_name() {
    let app = spawn_with(Setup {
        config: Some("[whalet.api_codes]\nqueryPlatformBalance = \"platformBalance\"\n".into()),
        ..Setup::default()
    })
    .await;
    let Some(browser) = browser::start(1280, 900).await else {
        return;
    };
    let c = &browser.client;
    let first = format!(
        "whalet-sim call platformBalance --data '{{}}' --url {}/api",
        app.url
    );
    let out = run_command(&first).await;
    assert!(out.status.success(), "{first}: {out:?}");
    let journal = app.get_json("/__sim/requests?limit=1").await;
    assert_eq!(journal["requests"][0]["operation"], "queryPlatformBalance");
    open(&browser, &app, "/").await;
    wait_text(c, ".summary", "1 request").await;
    let commands = send_again_commands(c).await;
    assert_eq!(commands.len(), 1, "{commands:?}");
    let command = &commands[0];
    assert!(
        command.starts_with("whalet-sim call platformBalance "),
        "{command}"
    );
    let out = run_command(command).await;
    assert!(out.status.success(), "{command}: {out:?}");
    let newest = &app.get_json("/__sim/requests?limit=1").await["requests"][0];
    assert_eq!(newest["code"], "SUCCESS", "{newest}");
    assert_eq!(newest["operation"], "queryPlatformBalance", "{newest}");
    assert_no_script_errors(c, "requests").await;
    browser.close().await;
    app.shutdown().await;
}
