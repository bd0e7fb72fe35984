//! Support for the dashboard's browser tests: waiting for text the page renders by live update,
//! opening a view, and the no-sideways-scroll check. (The 390 px phone is `browser::start_phone`.)

use std::time::Duration;

use fantoccini::{elements::Element, Client, Locator};
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::TestApp;

pub const ENTER: &str = "\u{E007}";
pub const TAB: &str = "\u{E004}";

/// Waits (bounded, wall time: the page polls every second) until `css` matches an element whose
/// text contains `needle`; fails with the page's text otherwise.
pub async fn wait_text(client: &Client, css: &str, needle: &str) -> Element {
    for _ in 0..150 {
        if let Ok(elements) = client.find_all(Locator::Css(css)).await {
            for e in elements {
                if e.text().await.is_ok_and(|t| t.contains(needle)) {
                    return e;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = match client.find(Locator::Css("main")).await {
        Ok(main) => main.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    panic!("no {css} containing {needle:?} within 15 s; the page shows:\n{page}");
}

pub async fn open(browser: &Browser, app: &TestApp, path: &str) {
    browser
        .client
        .goto(&format!("{}{path}", app.url))
        .await
        .unwrap();
    browser
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#view[aria-busy=false]"))
        .await
        .unwrap();
}

/// The page's script raised no error.
pub async fn assert_no_script_errors(client: &Client, view: &str) {
    let errors = client
        .execute(
            "return window.dashErrors || ['core.js did not load'];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(errors, json!([]), "{view}: script errors");
}

/// The page fits the viewport: nothing scrolls sideways.
pub async fn assert_no_horizontal_scroll(client: &Client, view: &str) {
    let widths = client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, inner) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
    assert!(
        scroll <= inner + 1.0,
        "{view}: the page is {scroll}px wide in a {inner}px viewport"
    );
}

pub async fn connectivity(app: &TestApp, body: serde_json::Value) -> String {
    app.client.call("connectivity", &body).await.unwrap().code
}

/// Every journal row's "Send it again" command, in the order the rows are shown (each row is
/// opened to show it).
pub async fn send_again_commands(client: &Client) -> Vec<String> {
    let mut commands = Vec::new();
    for row in client
        .find_all(Locator::Css("#journal .row"))
        .await
        .unwrap()
    {
        row.find(Locator::Css(".row-head"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let command = row
            .find(Locator::Css(".command code"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        commands.push(command);
    }
    commands
}

/// Runs a shell command line with `whalet-sim` replaced by the binary under test (off the
/// runtime's thread: the simulator answers on this same thread).
pub async fn run_command(command: &str) -> std::process::Output {
    let shell = command.replacen("whalet-sim", env!("CARGO_BIN_EXE_whalet-sim"), 1);
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&shell)
            .output()
    })
    .await
    .unwrap()
    .unwrap()
}
