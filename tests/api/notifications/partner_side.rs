//! The partner's side of notifications: an independent implementation (Python `cryptography`)
//! verifies and decrypts what the simulator sent, and the `whalet-sim listen` and `serve`
//! binaries work together end to end, including the offline notice in the log.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use whalet_sim::http::client::HttpClient;
use whalet_sim::notify::NotifyBehaviour;
use whalet_sim::partner::WhaletClient;
use whalet_sim::wire::keys::{demo, PrivateKey, PublicKey};
use whalet_sim::wire::whalet::{self as envelope, Echo, VERSION};
use whalet_sim::wire::HexCase;

use super::{enqueue, ledger_entry, ping};
use crate::helpers::{python, repo_path, spawn_app};

/// Runs `whalet_envelope.py open-request` on `raw`; returns (exit code, stdout, stderr).
fn open_with_python(raw: &[u8]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notification.json");
    std::fs::write(&file, raw).unwrap();
    let out = Command::new(python())
        .arg(repo_path("scripts/whalet_envelope.py"))
        .args(["open-request", "--request"])
        .arg(&file)
        .args([
            "--receiver-key",
            &repo_path("keys/demo-partner/private.pem"),
        ])
        .args(["--sender-pub", &repo_path("keys/platform/public.pem")])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_independent_implementation_verifies_and_decrypts_a_notification() {
    let app = spawn_app().await;
    let id = ping(&app, "checked by Python 你好").await;
    app.advance(0.0).await;
    let n = ledger_entry(&app, &id).await;
    let received = app.receiver.received();
    let (code, stdout, stderr) = open_with_python(&received[0].raw);
    assert_eq!(code, 0, "{stderr}");
    let opened: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        opened["body"],
        json!({"notifyMessage": "checked by Python 你好"})
    );
    assert_eq!(opened["head"]["apiCode"], "connectivityNotify");
    assert_eq!(opened["head"]["partnerId"], "202400000000001");
    assert_eq!(opened["head"]["requestNo"], n["requestNo"]);
    assert_eq!(opened["head"]["version"], "1.0");

    // A corrupted signature is rejected by the independent implementation too.
    enqueue(
        &app,
        "forged",
        NotifyBehaviour {
            corrupt_signature: true,
            ..NotifyBehaviour::default()
        },
    );
    app.advance(0.0).await;
    let forged = app.receiver.received().pop().unwrap();
    let (code, _, stderr) = open_with_python(&forged.raw);
    assert_eq!(code, 1, "{stderr}");
    app.shutdown().await;
}

#[tokio::test]
async fn request_nos_are_unique_per_notification_and_at_most_30_characters() {
    let app = spawn_app().await;
    let mut seen = std::collections::HashSet::new();
    for i in 0..5 {
        let id = ping(&app, &format!("n{i}")).await;
        let n = ledger_entry(&app, &id).await;
        let no = n["requestNo"].as_str().unwrap().to_owned();
        assert!(no.len() <= 30 && no.starts_with("N20250101080000"), "{no}");
        assert!(seen.insert(no));
    }
    app.shutdown().await;
}

/// A child process whose stderr lines are collected by a thread.
struct Proc {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    first_port: mpsc::Receiver<u16>,
    reader: std::thread::JoinHandle<()>,
}

fn start(args: &[&str]) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let (tx, first_port) = mpsc::channel();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let sink = stderr.clone();
    let reader = std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            // The ready line of `serve` and the listening line of `listen` (not the SFTP one).
            let announces = line.contains("whalet-sim ready") || line.contains("listening on");
            if let Some(port) = port_in(&line).filter(|_| announces) {
                let _ = tx.send(port);
            }
            sink.lock().unwrap().push(line);
        }
    });
    Proc {
        child,
        stderr,
        first_port,
        reader,
    }
}

/// The port in the first `127.0.0.1:PORT` of a log line.
fn port_in(line: &str) -> Option<u16> {
    let rest = &line[line.find("127.0.0.1:")? + "127.0.0.1:".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `listen` answers a notification that does not verify with HTTP 400 and counts it as no
/// attempt, so forgeries carrying a genuine notification's requestNo do not use up its
/// `--fail-first`: the genuine one's first arrival is attempt 1 and still fails (503).
#[tokio::test]
async fn listen_refuses_forgeries_with_400_without_counting_them_as_attempts() {
    let mut listen = start(&["listen", "--addr", "127.0.0.1:0", "--fail-first", "2"]);
    let port = listen
        .first_port
        .recv_timeout(Duration::from_secs(20))
        .unwrap();
    let platform = PrivateKey::parse(demo::PLATFORM_PRIVATE).unwrap();
    let partner = PublicKey::parse(demo::PARTNER_PUBLIC).unwrap();
    let head = Echo {
        partner_id: "202400000000001".into(),
        api_code: "connectivityNotify".into(),
        request_no: "N-FORGED-1".into(),
        version: VERSION.into(),
    };
    let genuine = envelope::seal_request(
        &head,
        &json!({"notifyMessage": "genuine"}),
        &platform,
        &partner,
        HexCase::Lower,
    )
    .unwrap();
    let forged = envelope::corrupt_sign(&genuine);
    let url = format!("http://127.0.0.1:{port}/notify");
    let mut statuses = Vec::new();
    for bytes in [&forged, &forged, &genuine, &genuine, &genuine] {
        let answer = HttpClient::new()
            .post(
                &url,
                "application/json",
                bytes.clone().into(),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        statuses.push(answer.status);
    }
    assert_eq!(statuses, [400, 400, 503, 503, 200]);

    let stdout = BufReader::new(listen.child.stdout.take().unwrap());
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let printed: Vec<Value> = (0..5)
        .map_while(|_| lines.recv_timeout(Duration::from_secs(10)).ok())
        .map(|line| serde_json::from_str(&line).unwrap())
        .collect();
    let _ = listen.child.kill();
    let _ = listen.child.wait();
    let seen: Vec<(i64, i64)> = printed
        .iter()
        .map(|p| {
            (
                p["attempt"].as_i64().unwrap(),
                p["answered"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [(0, 400), (0, 400), (1, 503), (2, 503), (3, 200)],
        "{printed:?}"
    );
    assert!(printed[0]["error"]
        .as_str()
        .unwrap()
        .contains("UNAUTHENTICATED_ERROR"));
    assert_eq!(printed[4]["body"], json!({"notifyMessage": "genuine"}));
}

#[tokio::test]
async fn listen_and_serve_work_together_and_exhaustion_logs_the_offline_notice() {
    let mut listen = start(&["listen", "--addr", "127.0.0.1:0", "--fail-first", "5"]);
    let listen_port = listen
        .first_port
        .recv_timeout(Duration::from_secs(30))
        .unwrap();
    let notify_url = format!("http://127.0.0.1:{listen_port}/notify");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sim.toml");
    std::fs::write(
        &config,
        format!(
            "[[whalet.partners]]\npartner_id = \"202400000000002\"\npublic_key = \"@{}\"\n\
             notify_url = \"http://127.0.0.1:9/notify\"\n",
            repo_path("keys/demo-partner/public.pem")
        ),
    )
    .unwrap();
    let mut serve = start(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--manual-clock",
        "--notify-url",
        &notify_url,
        "--config",
        config.to_str().unwrap(),
    ]);
    let port = serve
        .first_port
        .recv_timeout(Duration::from_secs(30))
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let key = || PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap();
    let platform = || PublicKey::parse(demo::PLATFORM_PUBLIC).unwrap();
    let demo_partner = WhaletClient::demo(&base);
    let lost_partner =
        WhaletClient::new(&format!("{base}/api"), "202400000000002", key(), platform());
    for (client, message) in [(&demo_partner, "to listen"), (&lost_partner, "to nowhere")] {
        let reply = client
            .call(
                "connectivity",
                &json!({"notifyFlag": "Y", "notifyMessage": message, "responseFlag": "N"}),
            )
            .await
            .unwrap();
        assert_eq!(reply.code, "SUCCESS");
    }
    let http = HttpClient::new();
    let advanced = http
        .post(
            &format!("{base}/__sim/clock/advance"),
            "application/json",
            br#"{"seconds": 31}"#.to_vec().into(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(advanced.status, 200);
    let ledger = http
        .get(
            &format!("{base}/__sim/notifications"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let ledger: Value = serde_json::from_slice(&ledger.body).unwrap();
    let by_tenant = |t: &str| {
        ledger["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["tenant"] == t)
            .cloned()
            .unwrap()
    };
    // `listen` failed the first 5 attempts and acknowledged the 6th (31 s) with a signed SUCCESS.
    let delivered = by_tenant("whalet:202400000000001");
    assert_eq!(delivered["status"], "delivered", "{delivered}");
    assert_eq!(delivered["attempts"].as_array().unwrap().len(), 6);
    assert_eq!(by_tenant("whalet:202400000000002")["status"], "exhausted");

    // `listen` prints each line after answering, so the 6th line may lag the delivery: read
    // stdout until 6 lines arrived (bounded) before stopping it.
    let (tx, lines) = mpsc::channel();
    let stdout = BufReader::new(listen.child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut printed: Vec<Value> = Vec::new();
    while printed.len() < 6 {
        match lines.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => printed.push(serde_json::from_str(&line).unwrap()),
            Err(_) => break,
        }
    }
    let _ = listen.child.kill();
    let _ = listen.child.wait();
    assert_eq!(printed.len(), 6, "{printed:?}");
    let answered: Vec<i64> = printed
        .iter()
        .map(|p| p["answered"].as_i64().unwrap())
        .collect();
    assert_eq!(answered, [503, 503, 503, 503, 503, 200]);
    assert_eq!(printed[5]["body"], json!({"notifyMessage": "to listen"}));
    assert_eq!(printed[5]["requestNo"], delivered["requestNo"]);

    let _ = serve.child.kill();
    let _ = serve.child.wait();
    let _ = serve.reader.join();
    let log = serve.stderr.lock().unwrap().join("\n");
    assert!(
        log.contains("offline notice") && log.contains("202400000000002"),
        "{log}"
    );
}
