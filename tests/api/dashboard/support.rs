//! Support for the dashboard's browser tests: waiting for text the page renders by live update,
//! opening a view, a 390 px phone (device emulation), and the no-sideways-scroll check.

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

/// A 390 px phone: Chromium's windows are never narrower than 500 px, so the viewport is set
/// with chromedriver's device emulation instead of the window size.
pub struct Phone {
    pub client: Client,
    driver: std::process::Child,
    _profile: tempfile::TempDir,
}

impl Phone {
    pub async fn start() -> Option<Self> {
        let driver_path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(driver_path) = driver_path else {
            assert!(
                std::env::var("CI").is_err(),
                "CI requires the browser tests"
            );
            eprintln!("SKIPPED: chromedriver not installed");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = std::process::Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.path().display())],
                "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0}}
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        for _ in 0..100 {
            let mut builder = fantoccini::ClientBuilder::new(
                hyper_util::client::legacy::connect::HttpConnector::new(),
            );
            builder.capabilities(caps.clone());
            if let Ok(client) = builder.connect(&format!("http://127.0.0.1:{port}")).await {
                return Some(Self {
                    client,
                    driver,
                    _profile: profile,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = driver.kill();
        let _ = driver.wait();
        panic!("could not start a WebDriver session with device emulation");
    }

    pub async fn screenshot(&self, name: &str) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots");
        std::fs::create_dir_all(dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

pub async fn connectivity(app: &TestApp, body: serde_json::Value) -> String {
    app.client.call("connectivity", &body).await.unwrap().code
}
