//! `call` and `keygen` through the binary (stop 46): an error about a value from a variable names
//! the variable; a renamed apiCode is named as it is served; `--data @file` is bounded and a
//! byte order mark is named; a platform refusal in plain JSON is a refusal that says what to do;
//! a path given as a Whalet apiCode and a file given as `keygen --out` are named as such.

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::{json, Value};
use whalet_sim::wire::keys::{demo, PrivateKey};

use crate::helpers::{bin, spawn_app, spawn_config};

/// `call` with `args` and `env` (the `WHALET_SIM_*` variables a test does not set are removed),
/// `stdin` written to its standard input; off the async threads.
async fn call_with(args: &[&str], env: &[(&str, &str)], stdin: Option<Vec<u8>>) -> Output {
    let mut command = bin();
    command.arg("call").args(args);
    for variable in [
        "WHALET_SIM_URL",
        "WHALET_SIM_SURFACE",
        "WHALET_SIM_POCKYT_TOKEN",
        "WHALET_SIM_ADMIN_TOKEN",
    ] {
        command.env_remove(variable);
    }
    command.envs(env.iter().copied());
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            // The command may stop reading (a bound reached) before all is written.
            let _ = input.write_all(&stdin.unwrap_or_default());
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    })
    .await
    .unwrap()
}

async fn call(args: &[&str]) -> Output {
    call_with(args, &[], None).await
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A file under the temporary directory, unique to this process and `name`.
fn temp_file(name: &str, content: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("cli46-{}-{name}", std::process::id()));
    std::fs::write(&path, content).unwrap();
    path
}

/// The `diagnostic: ` line of `said` (a command's stderr), checked to be the whole text of which
/// `detail`, cut and ending `…`, is the start.
fn whole_diagnostic(said: &str, detail: &str) -> String {
    let cut = detail
        .strip_suffix('…')
        .unwrap_or_else(|| panic!("the detail is not cut: {detail}"));
    let whole = said
        .lines()
        .find_map(|line| line.strip_prefix("diagnostic: "))
        .unwrap_or_else(|| panic!("no diagnostic line: {said}"));
    assert!(
        whole.starts_with(cut),
        "{whole}\nis not the whole of\n{detail}"
    );
    assert!(whole.len() > cut.len(), "{whole}");
    whole.to_owned()
}

/// Regression: with a partner key the simulator does not know, `call` printed only the reply's
/// `detail`, cut at 256 characters, so the string to sign and the fingerprint of the key it was
/// checked with were lost, though the simulator sent them whole in `X-Whalet-Sim-Diagnostic`.
/// `call` prints that text on stderr.
#[tokio::test]
async fn a_cut_detail_is_followed_by_the_whole_diagnostic_on_stderr() {
    let app = spawn_app().await;
    let unknown = PrivateKey::generate(1024).unwrap();
    let file = temp_file("unknown-key.pem", unknown.to_pkcs8_pem().as_bytes());
    let key = file.display().to_string();
    let body = r#"{"notifyFlag":"N","responseFlag":"Y"}"#;
    let out = call(&[
        "connectivity",
        "--url",
        &app.url,
        "--key",
        &key,
        "--data",
        body,
    ])
    .await;
    let _ = std::fs::remove_file(&file);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{said}");
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    let detail = reply["head"]["detail"].as_str().unwrap();
    let whole = whole_diagnostic(&said, detail);
    let partner = PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap();
    assert!(whole.contains(partner.public().fingerprint()), "{whole}");
    app.shutdown().await;
}

/// Nothing reached the simulator's journal.
async fn nothing_sent(app: &crate::helpers::TestApp) {
    let journal = app.get_json("/__sim/requests").await;
    assert_eq!(
        journal["requests"],
        json!([]),
        "something was sent: {journal}"
    );
}

/// Regression: `WHALET_SIM_URL=…/api call --surface infinia …` said `--url: …`, and with
/// `WHALET_SIM_SURFACE=pockyt` also `--surface pockyt`, naming flags never typed. The refusal
/// of a URL with a path names the variable each value came from, and the flag when typed.
#[tokio::test]
async fn a_url_with_a_path_is_refused_naming_the_variable_or_flag_it_came_from() {
    let url = "http://127.0.0.1:1/api";
    let from_env = call_with(
        &["--surface", "infinia", "account-balance/query"],
        &[("WHALET_SIM_URL", url)],
        None,
    )
    .await;
    let said = stderr(&from_env);
    assert_eq!(from_env.status.code(), Some(2), "{said}");
    assert!(
        said.contains("WHALET_SIM_URL: --surface infinia "),
        "{said}"
    );
    assert!(!said.contains("--url"), "{said}");

    let both = call_with(
        &["v3/payouts/balance"],
        &[("WHALET_SIM_URL", url), ("WHALET_SIM_SURFACE", "pockyt")],
        None,
    )
    .await;
    let said = stderr(&both);
    assert_eq!(both.status.code(), Some(2), "{said}");
    assert!(
        said.contains("WHALET_SIM_URL: WHALET_SIM_SURFACE=pockyt "),
        "{said}"
    );
    assert!(
        !said.contains("--url") && !said.contains("--surface"),
        "{said}"
    );

    let typed = call_with(
        &["--url", url, "--surface", "platform", "balanceQuery"],
        &[
            ("WHALET_SIM_URL", "http://127.0.0.1:2/x"),
            ("WHALET_SIM_SURFACE", "pockyt"),
        ],
        None,
    )
    .await;
    let said = stderr(&typed);
    assert_eq!(typed.status.code(), Some(2), "{said}");
    assert!(said.contains("--url: --surface platform "), "{said}");
    assert!(
        said.contains("(not /api)") && !said.contains("WHALET_SIM_"),
        "{said}"
    );
}

/// Regression: `call userOnboardingApply --example` against a simulator that renames it
/// (`[whalet.api_codes]`) said that it is renamed, but not to what. The name it is served under
/// is named, from the simulator's listing.
#[tokio::test]
async fn example_of_a_renamed_api_code_names_the_api_code_it_is_served_under() {
    let app = spawn_config("[whalet.api_codes]\nuserOnboardingApply = \"userApply\"\n").await;
    let out = call(&["userOnboardingApply", "--example", "--url", &app.url]).await;
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("renames to `userApply`"), "{said}");
    let served = call(&["userApply", "--example", "--url", &app.url]).await;
    assert_eq!(served.status.code(), Some(0), "{}", stderr(&served));
    app.shutdown().await;
}

/// Regression: `--data @file` of a file that starts with a UTF-8 byte order mark said only
/// `--data is not JSON: expected value at line 1 column 1`. The mark is named, with what to do,
/// and nothing is sent; inline `--data` with the mark names it too.
#[tokio::test]
async fn data_from_a_file_with_a_byte_order_mark_is_refused_naming_the_mark() {
    let app = spawn_app().await;
    let body = r#"{"notifyFlag":"N","responseFlag":"Y"}"#;
    let file = temp_file("bom.json", format!("\u{feff}{body}").as_bytes());
    let data = format!("@{}", file.display());
    let out = call(&["connectivity", "--url", &app.url, "--data", &data]).await;
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("byte order mark") && said.contains("save the file without it"),
        "{said}"
    );
    assert!(said.contains(&file.display().to_string()), "{said}");
    let inline = format!("\u{feff}{body}");
    let out = call(&["connectivity", "--url", &app.url, "--data", &inline]).await;
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("byte order mark"), "{said}");
    nothing_sent(&app).await;
    std::fs::write(&file, body).unwrap();
    let out = call(&["connectivity", "--url", &app.url, "--data", &data]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let _ = std::fs::remove_file(&file);
    app.shutdown().await;
}

/// Regression: `--data @/dev/zero` read until memory ran out. `--data @file` and `--data @-`
/// (standard input) read at most 16 MiB and refuse more, saying so, before anything is sent; a
/// body on standard input is sent as a file's is. (A sparse file one byte over stands in for
/// `/dev/zero`, so that a regression fails here instead of filling the memory.)
#[tokio::test]
async fn data_from_a_file_or_standard_input_is_bounded() {
    let app = spawn_app().await;
    let file = temp_file("long.json", b"");
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(16 * 1024 * 1024 + 1)
        .unwrap();
    let data = format!("@{}", file.display());
    let out = call(&["connectivity", "--url", &app.url, "--data", &data]).await;
    let _ = std::fs::remove_file(&file);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains(&data) && said.contains("16 MiB"), "{said}");
    let too_long = vec![b' '; 16 * 1024 * 1024 + 1];
    let out = call_with(
        &["connectivity", "--url", &app.url, "--data", "@-"],
        &[],
        Some(too_long),
    )
    .await;
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("standard input") && said.contains("16 MiB"),
        "{said}"
    );
    nothing_sent(&app).await;
    let body = br#"{"notifyFlag":"N","responseFlag":"Y"}"#.to_vec();
    let out = call_with(
        &["connectivity", "--url", &app.url, "--data", "@-"],
        &[],
        Some(body),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["head"]["code"], "SUCCESS", "{reply}");
    app.shutdown().await;
}

/// Regression: `call --surface platform` against a platform in plain-JSON mode (`[platform]
/// auth = "none"`) exited 3, "transport failure", on its `HTTP 400 {"code":
/// "PARAMETER_ERROR", …}`. A non-2xx answer carrying a Whalet refusal code in plain JSON is the
/// provider's refusal (exit 5, printed), and `call` says the platform runs in plain-JSON mode
/// and what to send instead.
#[tokio::test]
async fn a_plain_json_platform_refusal_is_a_refusal_that_says_the_platform_is_in_plain_mode() {
    let app = spawn_config("[platform]\nauth = \"none\"\n").await;
    let out = call(&["--surface", "platform", "balanceQuery", "--url", &app.url]).await;
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{said}");
    assert!(
        said.contains("HTTP 400") && said.contains("refusal"),
        "{said}"
    );
    assert!(
        said.contains("plain-JSON mode") && said.contains("curl"),
        "{said}"
    );
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["code"], "PARAMETER_ERROR", "{reply}");
    // The plain refusal's `detail` is cut too, and its whole text follows.
    whole_diagnostic(&said, reply["detail"].as_str().unwrap());
    app.shutdown().await;
}

/// Regression: `call /api/connectivity` was sent as the apiCode `/api/connectivity`. A path of
/// the Open API given as an apiCode is a usage error naming the apiCode to give; nothing is
/// sent.
#[tokio::test]
async fn an_open_api_path_given_as_an_api_code_is_refused_with_the_api_code() {
    let app = spawn_app().await;
    for given in ["/api/connectivity", "api/connectivity/"] {
        let out = call(&[given, "--url", &app.url]).await;
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{given}: {said}");
        assert!(
            said.contains("did you mean `whalet-sim call connectivity`?"),
            "{given}: {said}"
        );
    }
    nothing_sent(&app).await;
    app.shutdown().await;
}

/// Regression: `call --help` said "Act as a Whalet partner" of a command that speaks all four
/// surfaces.
#[test]
fn call_help_names_every_surface_it_speaks() {
    let out = bin().args(["call", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let summary = help.lines().next().unwrap_or_default();
    assert!(!summary.contains("Whalet partner"), "{summary}");
    for surface in ["Whalet", "platform", "Infinia", "Pockyt"] {
        assert!(summary.contains(surface), "{surface}: {summary}");
    }
}

/// Regression: `keygen --out FILE` said `cannot create directory FILE: File exists`. The path
/// is said to be a file, not a directory, and the file is left alone.
#[test]
fn keygen_out_naming_a_file_says_it_is_a_file_not_a_directory() {
    let file = temp_file("keygen-out", b"keep me");
    let out = bin()
        .args(["keygen", "--bits", "1024", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("is a file, not a directory"), "{said}");
    assert!(!said.contains("File exists"), "{said}");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
    let _ = std::fs::remove_file(&file);
}
