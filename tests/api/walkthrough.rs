//! docs/WALKTHROUGH.md is run as written: every `sh` block, in order, in one shell, against a
//! fresh `serve` child, with the page's addresses swapped for free ports. The page's promises
//! (the balances it names, the notifications the listeners print) are checked here.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `sh` blocks of a Markdown page, in order.
fn sh_blocks(page: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn the_walkthrough_runs_as_written() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/WALKTHROUGH.md"))
        .unwrap();
    let blocks = sh_blocks(&page);
    assert!(blocks.len() >= 8, "{} sh blocks", blocks.len());

    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_whalet-sim"));
    let (whalet_port, pockyt_port) = (free_port(), free_port());
    let mut serve = Command::new(&bin)
        .args(["serve", "--addr", "127.0.0.1:0", "--sftp-addr", "off"])
        .arg("--notify-url")
        .arg(format!("http://127.0.0.1:{whalet_port}/notify"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(serve.stderr.take().unwrap());
    let started = Instant::now();
    let addr = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "serve ended");
        if let Some(rest) = line.split("ready on ").nth(1) {
            break rest.split(';').next().unwrap().to_owned();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no ready line");
    };
    std::thread::spawn(move || for _ in stderr.lines() {});

    let script = blocks
        .join("\n")
        .replace("127.0.0.1:8080", &addr)
        .replace("127.0.0.1:9090", &format!("127.0.0.1:{whalet_port}"))
        .replace("127.0.0.1:9091", &format!("127.0.0.1:{pockyt_port}"));
    let dir = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut shell = Command::new("bash");
    shell
        .args(["-euo", "pipefail", "-c"])
        .arg(format!(
            "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{script}"
        ))
        .current_dir(dir.path())
        .env("PATH", path);
    for (name, _) in std::env::vars() {
        if name.starts_with("WHALET_SIM_") {
            shell.env_remove(name);
        }
    }
    let out = shell.output().unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the walkthrough failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    // The page's figures: 1,000.00 settled, 899.50 after the payout; Pockyt 10000.00 → 9798.00.
    for expected in ["1000", "899.5", "10000.00", "9798.00"] {
        assert!(
            lines.contains(&expected),
            "{expected} not printed:\n{stdout}"
        );
    }
    let whalet = std::fs::read_to_string(dir.path().join("whalet-notifications.jsonl")).unwrap();
    // The page's count of notifications by apiCode, run again on the final file (later
    // deliveries included), names every apiCode the listener saw.
    let count = script
        .lines()
        .find(|l| l.starts_with("grep -o '\"apiCode\""))
        .expect("the page counts notifications by apiCode");
    let counted = Command::new("bash")
        .args(["-c", count])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let counted = String::from_utf8_lossy(&counted.stdout);
    for line in whalet.lines() {
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        let api_code = format!("\"apiCode\":\"{}\"", line["apiCode"].as_str().unwrap());
        assert!(
            counted.lines().any(|l| l.ends_with(&api_code)),
            "{count} misses {api_code}:\n{counted}"
        );
    }
    for api_code in [
        "userOnboardingResultNotify",
        "virtualAccountNotify",
        "collectionReceivedNotify",
        "payoutResultNotify",
    ] {
        let line = whalet
            .lines()
            .find(|l| l.contains(&format!("\"apiCode\":\"{api_code}\"")))
            .unwrap_or_else(|| panic!("no {api_code} in\n{whalet}"));
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(line["error"].is_null(), "{line}");
        assert!(line["body"].is_object(), "decrypted: {line}");
    }
    let pockyt = std::fs::read_to_string(dir.path().join("pockyt-ipns.jsonl")).unwrap();
    let ipn: serde_json::Value = serde_json::from_str(pockyt.lines().next().unwrap()).unwrap();
    assert_eq!(ipn["answered"], 200, "{ipn}");
    assert_eq!(ipn["body"]["invoiceId"], "INV-1", "{ipn}");
    assert_eq!(ipn["body"]["status"], "success", "{ipn}");
}
