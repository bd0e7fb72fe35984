//! Round 34, the command line: a refused admin token is never printed, whatever characters it
//! holds; no `RUST_LOG` hides the ready line or the error that stops `serve`; the file
//! surface's coverage hints name a rule a scenario can load; the files a flag names are read up
//! to a limit; `listen` says `null` for a head that did not come and names a `verifySign` of
//! another type; `bench --server-pid` refuses a pid no process has.

use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli_surfaces::Listening;
use crate::helpers::{bin, spawn_app};
use crate::whalet2_support::{file_token, multipart, now_ms, DEMO_PARTNER_ID};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cmd` to its end, killing it (and failing) after `limit`: a command that reads a device
/// whole would otherwise run until memory runs out.
fn finishes_within(mut cmd: std::process::Command, limit: Duration) -> Output {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{shown} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Regression: clap drops some control characters (\x01, ESC, DEL) from the value it quotes,
/// so the mask, which looked for the value as given, found nothing and the token was printed:
/// `invalid value 'MySecretToken' for WHALET_SIM_ADMIN_TOKEN`. Every command that takes the
/// token, from the flag and from the variable.
#[test]
fn a_refused_admin_token_is_not_printed_whatever_it_holds() {
    for stray in ["\u{1}", "\u{1b}", "\u{7f}", "\u{8}", "\t"] {
        let token = format!("MySecretToken{stray}");
        let commands: [&[&str]; 4] = [
            &["serve", "--addr", "127.0.0.1:0"],
            &["trigger", "--list"],
            &["coverage"],
            &["call", "connectivity", "--example"],
        ];
        for args in commands {
            let flag = bin()
                .args(args)
                .args(["--admin-token", &token])
                .env_remove("WHALET_SIM_ADMIN_TOKEN")
                .output()
                .unwrap();
            let variable = bin()
                .args(args)
                .env("WHALET_SIM_ADMIN_TOKEN", &token)
                .output()
                .unwrap();
            for (out, named) in [
                (flag, "'--admin-token"),
                (variable, "WHALET_SIM_ADMIN_TOKEN"),
            ] {
                let said = stderr(&out);
                assert_eq!(out.status.code(), Some(2), "{args:?} {stray:?}: {said}");
                assert!(!said.contains("MySecret"), "{args:?} {stray:?}: {said}");
                assert!(
                    said.starts_with(&format!(
                        "error: invalid value (not shown: it is a secret) for {named}"
                    )),
                    "{args:?} {stray:?}: {said}"
                );
            }
        }
    }
}

/// Regression: `--admin-token -aSecret` was refused by clap as "unexpected argument '-a'",
/// printing a piece of the token and suggesting `-- -a`, which does not give a flag its value.
/// The refusal names `--admin-token=VALUE` and shows nothing of the word; with `=` the same
/// token is taken.
#[test]
fn a_token_that_starts_with_a_hyphen_is_explained_and_not_shown() {
    let commands: [&[&str]; 4] = [
        &["serve", "--addr", "127.0.0.1:0", "--sftp-addr", "off"],
        &["trigger", "--list"],
        &["coverage"],
        &["call", "connectivity", "--example"],
    ];
    for args in commands {
        let out = bin()
            .args(args)
            .args(["--admin-token", "-aSecretToken"])
            .env_remove("WHALET_SIM_ADMIN_TOKEN")
            .output()
            .unwrap();
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert!(
            !said.contains("'-a") && !said.contains("Secret"),
            "{args:?}: {said}"
        );
        assert!(
            said.contains("write it as --admin-token=VALUE"),
            "{args:?}: {said}"
        );
    }
    let out = bin()
        .args([
            "call",
            "connectivity",
            "--example",
            "--admin-token=-aSecretToken",
        ])
        .env_remove("WHALET_SIM_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A `serve` child and its stderr lines.
struct Served {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Served {
    fn start(log: &str, args: &[&str]) -> Self {
        let mut child = bin()
            .args(["serve", "--addr", "127.0.0.1:0", "--sftp-addr", "off"])
            .args(args)
            .env("RUST_LOG", log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The lines up to the first one holding `text` (at most 30 s).
    fn until(&self, text: &str) -> Vec<String> {
        let mut seen = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(30)) {
            let found = line.contains(text);
            seen.push(line);
            if found {
                return seen;
            }
        }
        panic!("no line with {text:?} in {seen:?}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Regression: `RUST_LOG=warn` (which CLI.md suggests) and `off` dropped the ready line, so a
/// server on port 0 could not tell its port; `RUST_LOG=` (an unset compose variable) turned
/// every line off; with JSON logs a filter that drops errors made `serve` exit 1 saying
/// nothing.
#[test]
fn no_rust_log_hides_the_ready_line_or_the_error_that_stops_serve() {
    for log in ["warn", "off", "whalet_sim=off", ""] {
        let served = Served::start(log, &[]);
        let lines = served.until("ready on");
        if !log.is_empty() {
            assert_eq!(lines.len(), 1, "{log:?}: {lines:?}");
        }
        let json = Served::start(log, &["--log-format", "json"]);
        let ready: Value = serde_json::from_str(&json.until("ready on").pop().unwrap()).unwrap();
        assert_eq!(ready["level"], "INFO", "{ready}");
        assert_eq!(ready["target"], "whalet_sim::always", "{ready}");
    }
    for log in ["", "off", "whalet_sim=off", "error"] {
        let out = bin()
            .args(["serve", "--addr", "127.0.0.1:0", "--sftp-addr", "off"])
            .args(["--log-format", "json", "--config", "/nonexistent/sim.toml"])
            .env("RUST_LOG", log)
            .output()
            .unwrap();
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{log:?}: {said}");
        let line: Value = serde_json::from_str(said.trim())
            .unwrap_or_else(|e| panic!("{log:?}: not one JSON line ({e}): {said:?}"));
        assert_eq!(line["level"], "ERROR", "{line}");
        let message = line["message"].as_str().unwrap();
        assert!(
            message.starts_with("cannot read config /nonexistent/sim.toml"),
            "{line}"
        );
        let text = bin()
            .args(["serve", "--addr", "127.0.0.1:0", "--sftp-addr", "off"])
            .args(["--config", "/nonexistent/sim.toml"])
            .env("RUST_LOG", log)
            .output()
            .unwrap();
        assert!(
            stderr(&text).starts_with("error: cannot read config /nonexistent/sim.toml"),
            "{log:?}: {}",
            stderr(&text)
        );
    }

    // A value that is no filter is said, and the default applies.
    let served = Served::start("[[[", &[]);
    let lines = served.until("ready on");
    assert!(
        lines[0].contains("RUST_LOG=\"[[[\" is not a log filter"),
        "{lines:?}"
    );
}

/// Regression: `coverage --surface file` told how to reach PARAM_FORMAT_ERROR,
/// REQUEST_NO_NOT_UNIQUE and INTERFACE_UNAUTHORIZED by causes `/file/upload` cannot have (no
/// requestNo, no apiCode, no JSON envelope). Their hints name the rule, and the rule named
/// loads and reaches the item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_surfaces_envelope_hints_name_a_rule_that_reaches_them() {
    let app = spawn_app().await;
    let report = app.get_json("/__sim/coverage?surface=file").await;
    let items: Vec<Value> = report["surfaces"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["operations"].as_array().unwrap().clone())
        .flat_map(|o| o["outcomes"].as_array().unwrap().clone())
        .collect();
    let item = |id: &str| {
        items
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id} not in {report}"))
            .clone()
    };
    for code in [
        "PARAM_FORMAT_ERROR",
        "REQUEST_NO_NOT_UNIQUE",
        "INTERFACE_UNAUTHORIZED",
    ] {
        let hint = item(&format!("file.envelope.{code}"))["hint"].clone();
        assert_eq!(
            hint,
            format!("a scenario rule: operation = \"/file/upload\", [rule.then] code = \"{code}\""),
            "{code}"
        );
    }

    let rule = "name = \"upload-format\"\n[[rule]]\noperation = \"/file/upload\"\n\
                [rule.then]\ncode = \"PARAM_FORMAT_ERROR\"\n";
    let (status, loaded) = app.load_scenario(rule, "").await;
    assert_eq!(status, 200, "{loaded}");
    let ts = now_ms(&app).await;
    let stamp = ts.to_string();
    let token = file_token(ts);
    let fields = [
        ("partnerId", DEMO_PARTNER_ID),
        ("timestamp", stamp.as_str()),
        ("token", token.as_str()),
    ];
    let (content_type, body) = multipart(&fields, Some(("a.txt", b"x")));
    let (_, answer) = app.post_raw("/file/upload", &content_type, body).await;
    assert!(answer.contains("PARAM_FORMAT_ERROR"), "{answer}");
    let report = app
        .get_json("/__sim/coverage?surface=file&group=envelope")
        .await;
    let reached = report["surfaces"][0]["groups"][0]["operations"][0]["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "file.envelope.PARAM_FORMAT_ERROR")
        .unwrap_or_else(|| panic!("{report}"))["hits"]
        .clone();
    assert_eq!(reached, 1, "{report}");
    app.shutdown().await;
}

/// Regression: `--config`, `--contract` and `--scenario` files were read whole, so a device
/// (`/dev/zero`) filled memory until the process was killed. A device is refused at once,
/// naming the file.
#[test]
fn a_device_named_as_a_settings_file_is_refused_at_once() {
    let limit = Duration::from_secs(20);
    let cases: [(&[&str], &str); 4] = [
        (
            &["contract", "dump", "--config", "/dev/zero"],
            "error: cannot read config /dev/zero: not a regular file or a pipe",
        ),
        (
            &["contract", "dump", "--contract", "/dev/zero"],
            "error: contract /dev/zero: not a regular file or a pipe",
        ),
        (
            &[
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--sftp-addr",
                "off",
                "--scenario",
                "/dev/zero",
            ],
            "cannot read scenario file \"/dev/zero\": not a regular file or a pipe",
        ),
        (
            &[
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--sftp-addr",
                "off",
                "--config",
                "/dev/zero",
            ],
            "error: cannot read config /dev/zero: not a regular file or a pipe",
        ),
    ];
    for (args, said) in cases {
        let mut cmd = bin();
        cmd.args(args).env("RUST_LOG", "info");
        let out = finishes_within(cmd, limit);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(said), "{args:?}: {}", stderr(&out));
    }
    // A file over the limit is refused by its size and kind.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    let mut text = String::from("# padding\n");
    text.push_str(&"#".repeat(4 * 1024 * 1024));
    std::fs::write(&big, text).unwrap();
    let mut cmd = bin();
    cmd.args(["contract", "dump", "--config"]).arg(&big);
    let out = finishes_within(cmd, limit);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("larger than 4194304 bytes, too large for a config file"),
        "{}",
        stderr(&out)
    );
}

/// Regression: a Whalet body that is no envelope was printed with `""` head fields, as if a
/// head had come with them empty; a Pockyt IPN whose verifySign is not a string was said to
/// have none.
#[test]
fn listen_says_null_for_a_head_that_did_not_come_and_names_a_verifysign_of_another_type() {
    let whalet = Listening::start(&[]);
    for body in [&b"garbage"[..], b"", b"[1]"] {
        let line = whalet.post("application/json", body).2;
        for key in ["apiCode", "requestNo", "partnerId"] {
            assert_eq!(line[key], Value::Null, "{line}");
        }
        assert_eq!(line["answered"], 400, "{line}");
    }
    let line = whalet
        .post("application/json", br#"{"head":{"apiCode":""},"body":{}}"#)
        .2;
    assert_eq!(line["apiCode"], "", "{line}");
    assert_eq!(line["requestNo"], Value::Null, "{line}");

    let pockyt = Listening::start(&["--surface", "pockyt"]);
    let line = pockyt
        .post(
            "application/json",
            br#"{"transactionNo":"T1","verifySign":5}"#,
        )
        .2;
    assert_eq!(
        line["error"], "the IPN's verifySign must be a string, got a number",
        "{line}"
    );
}

/// Regression: `bench --server-pid` took a pid no process has, and reported whatever it found
/// there (nothing, or another process's memory) without a word.
#[test]
fn bench_refuses_a_server_pid_no_process_has() {
    if !std::path::Path::new("/proc/self/cmdline").exists() {
        return;
    }
    let port = crate::cli::closed_port();
    let mut cmd = bin();
    cmd.args([
        "bench",
        "--surface",
        "raw",
        "--requests",
        "1",
        "--partners",
        "1",
    ])
    .args(["--no-ceiling", "--server-pid", "999999999", "--url"])
    .arg(format!("http://127.0.0.1:{port}"))
    .env("RUST_LOG", "warn");
    let out = finishes_within(cmd, Duration::from_secs(30));
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("--server-pid 999999999: no process has that id"),
        "{said}"
    );
}
