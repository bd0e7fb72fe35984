//! The command line as a person uses it: `keygen`, `call`, `serve --config` errors, `trigger`,
//! `bench`.

use std::process::Command;

use whalet_sim::wire::keys::{PrivateKey, PublicKey};

use crate::helpers::spawn_app;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
}

#[test]
fn keygen_writes_both_forms_and_prints_the_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["keygen", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let private = PrivateKey::parse(&read("private.pem")).unwrap();
    let public = PublicKey::parse(&read("public.pem")).unwrap();
    assert_eq!(private.public().fingerprint(), public.fingerprint());
    assert_eq!(
        PublicKey::parse(&read("public.b64")).unwrap().fingerprint(),
        public.fingerprint()
    );
    assert_eq!(
        PrivateKey::parse(&read("private.b64"))
            .unwrap()
            .public()
            .fingerprint(),
        public.fingerprint()
    );
    assert_eq!(public.size(), 256, "2048-bit by default");
    assert!(stdout.contains(public.fingerprint()), "{stdout}");
}

#[tokio::test]
async fn call_prints_the_decrypted_reply_and_exits_by_code() {
    let app = spawn_app().await;
    let url = format!("{}/api", app.url);
    let (ok, bad) = tokio::task::spawn_blocking(move || {
        let ok = bin()
            .args([
                "call",
                "connectivity",
                "--url",
                &url,
                "--data",
                r#"{"notifyFlag":"N","responseFlag":"Y","responseMessage":"cli"}"#,
            ])
            .output()
            .unwrap();
        let bad = bin()
            .args([
                "call",
                "connectivity",
                "--url",
                &url,
                "--data",
                r#"{"notifyFlag":"N"}"#,
            ])
            .output()
            .unwrap();
        (ok, bad)
    })
    .await
    .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(printed["head"]["code"], "SUCCESS");
    assert_eq!(printed["body"]["messge"], "cli");
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a non-SUCCESS code exits non-zero"
    );
    let printed: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(printed["head"]["code"], "PARAMETER_ERROR");
    app.shutdown().await;
}

#[test]
fn call_reports_an_unreachable_server() {
    // No server needed to see the failure path: nothing listens on this port.
    let out = bin()
        .args(["call", "connectivity", "--url", "http://127.0.0.1:9/api"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("transport"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn serve_refuses_a_config_with_an_unknown_key_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[whalet]\nhex_case = \"upper\"\nnotify_ulr = \"http://x\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("notify_ulr") && stderr.contains("bad.toml"),
        "{stderr}"
    );
}

#[tokio::test]
async fn trigger_reports_unknown_events_with_the_list() {
    let app = spawn_app().await;
    let url = app.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args(["trigger", "no.such.event", "a=1", "--url", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no trigger \\\"no.such.event\\\""),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    app.shutdown().await;
}

#[tokio::test]
async fn serve_shuts_down_cleanly_on_sigterm() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = bin()
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .spawn()
        .unwrap();
    let client = whalet_sim::http::client::HttpClient::new();
    let health = format!("http://127.0.0.1:{port}/__sim/health");
    let mut ready = false;
    for _ in 0..200 {
        if client
            .get(&health, std::time::Duration::from_secs(1))
            .await
            .is_ok_and(|r| r.status == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(ready, "the server did not become ready");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// The bench command end to end, through the binary: it spawns its own server, loads the
/// Infinia surface with pre-sealed requests, prints a JSON report whose counts add up, exits 0;
/// and exits 2 when requests fail (a wrong provider key: every reply is a refusal).
#[test]
fn bench_reports_json_and_exits_by_outcome() {
    let out = bin()
        .args([
            "bench",
            "--surface",
            "infinia",
            "--spawn-server",
            "--partners",
            "2",
            "--requests",
            "12",
            "--no-ceiling",
            "--json",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &report["runs"][0];
    assert_eq!(report["surface"], "infinia");
    assert_eq!(
        (run["requests"].as_u64(), run["ok"].as_u64()),
        (Some(12), Some(12))
    );
    assert_eq!(run["codes"]["SUC-200"], 12);
    assert_eq!(run["verified_replies"], 2);
    assert!(report["server_startup_ms"].as_f64().unwrap() > 0.0);

    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong.pem");
    std::fs::write(&wrong, whalet_sim::wire::keys::demo::PARTNER_PUBLIC).unwrap();
    let out = bin()
        .args([
            "bench",
            "--surface",
            "infinia",
            "--spawn-server",
            "--partners",
            "1",
        ])
        .args([
            "--requests",
            "3",
            "--no-ceiling",
            "--json",
            "--platform-key",
        ])
        .arg(&wrong)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["runs"][0]["ok"], 0);
    assert_eq!(report["runs"][0]["codes"]["SYS-005"], 3);
}
