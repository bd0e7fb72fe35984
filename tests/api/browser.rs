//! Real headless Chromium through WebDriver (Debian's `chromium` + `chromium-driver`).
//! Screenshots go to `target/screenshots/`. Without chromedriver the browser tests fail under CI
//! (`CI=true`) and are skipped with a loud message elsewhere.
//!
//! One chromedriver serves the whole test binary: the first browser test starts it (`std::process`
//! and `std::net`, so it belongs to no test's tokio runtime), and every test opens its own
//! WebDriver session on it — its own Chromium with a fresh profile — so tests stay independent
//! and may run concurrently.
//!
//! A `static` is never dropped, so the driver is not stopped from Rust. Instead it runs under a
//! small `sh` watchdog in a process group of its own, whose stdin is a pipe this binary holds
//! open: when the test binary exits, however it exits (even killed), the kernel closes that pipe,
//! the watchdog's `cat` returns, and it sends SIGTERM to its process group: chromedriver and any
//! Chromium a failed test left open.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

pub struct Browser {
    pub client: Client,
    _profile: tempfile::TempDir,
}

/// The binary's chromedriver, started on first use.
enum Driver {
    /// Not installed: browser tests are skipped (or fail under CI).
    Missing,
    /// Listening on `url`. `_lifeline` is the write end of the watchdog's stdin.
    Running { url: String, _lifeline: ChildStdin },
    /// It did not start: every browser test fails with this message.
    Failed(String),
}

static DRIVER: OnceLock<Driver> = OnceLock::new();

/// Runs chromedriver (`$0`, on port `$1`) until this script's stdin reaches end of file, i.e.
/// until the test binary that holds the pipe's write end exits; then stops its process group.
const WATCHDOG: &str = r#"
"$0" --port="$1" </dev/null >/dev/null 2>&1 &
cat >/dev/null
trap '' TERM
kill -TERM 0
"#;

fn chromedriver() -> Option<&'static str> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

fn start_driver() -> Driver {
    use std::os::unix::process::CommandExt;

    let Some(driver_path) = chromedriver() else {
        return Driver::Missing;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut watchdog = match Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg(driver_path)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return Driver::Failed(format!("could not run sh for chromedriver: {e}")),
    };
    let lifeline = watchdog.stdin.take().unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Driver::Running {
                url: format!("http://{addr}"),
                _lifeline: lifeline,
            };
        }
        if let Ok(Some(status)) = watchdog.try_wait() {
            return Driver::Failed(format!("chromedriver's watchdog exited: {status}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Returning without `lifeline` closes the pipe: the watchdog stops what it started.
    Driver::Failed(format!("chromedriver did not listen on {addr} within 20 s"))
}

/// The shared driver's URL, or None (skip) when chromedriver is not installed outside CI.
fn driver_url() -> Option<&'static str> {
    match DRIVER.get_or_init(start_driver) {
        Driver::Running { url, .. } => Some(url),
        Driver::Failed(why) => panic!("{why}"),
        Driver::Missing => {
            assert!(
                std::env::var("CI").is_err(),
                "chromedriver is not installed, and CI requires the browser tests"
            );
            eprintln!(
                "SKIPPED: chromedriver not installed (apt-get install chromium chromium-driver)"
            );
            None
        }
    }
}

/// Opens a headless Chromium session on the shared chromedriver, or None (skip) when it is not
/// installed outside CI. `width`/`height` set the window size.
pub async fn start(width: u32, height: u32) -> Option<Browser> {
    session(&[format!("--window-size={width},{height}")], None).await
}

/// A phone of `width` x `height` CSS pixels: Chromium's windows are never narrower than 500 px,
/// so the viewport is set with chromedriver's device emulation instead of the window size.
pub async fn start_phone(width: u32, height: u32) -> Option<Browser> {
    let metrics = json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}});
    session(&[], Some(metrics)).await
}

async fn session(extra_args: &[String], mobile_emulation: Option<Value>) -> Option<Browser> {
    let url = driver_url()?;
    let profile = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    args.extend_from_slice(extra_args);
    let mut options = json!({"binary": "/usr/bin/chromium", "args": args});
    if let Some(emulation) = mobile_emulation {
        options["mobileEmulation"] = emulation;
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    // The driver is up; a retry only covers a Chromium that failed to start under load.
    let mut last_err = String::new();
    for _ in 0..5 {
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps.clone());
        match builder.connect(url).await {
            Ok(client) => {
                return Some(Browser {
                    client,
                    _profile: profile,
                })
            }
            Err(e) => last_err = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("could not start a WebDriver session on {url}: {last_err}");
}

impl Browser {
    /// Saves a PNG screenshot as `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots");
        std::fs::create_dir_all(dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
    }

    /// Ends this test's session (its Chromium quits); the shared chromedriver stays up.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
