//! Stop 49's clock and ready-line fixes. Every `[clock]` key is checked at every start, whatever
//! clock flag or variable overrides it, and refused in the form every refusal of a setting takes
//! (`config FILE: [clock] key = value: why`); a real clock takes no scale. After `serve
//! --snapshot`, the ready line names the scenarios the snapshot restored and the restore line
//! counts them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{repo_path, spawn_with, Setup};
use crate::served::Served;

/// The variables a test sets itself (one set in the environment running the tests must
/// not change what a start does).
const VARIABLES: [&str; 6] = [
    "WHALET_SIM_MANUAL_CLOCK",
    "WHALET_SIM_TIME_SCALE",
    "WHALET_SIM_START_TIME",
    "WHALET_SIM_CONFIG",
    "WHALET_SIM_SNAPSHOT",
    "WHALET_SIM_SCENARIO",
];

/// A variable set for a start: name, value.
type Variable = (&'static str, &'static str);

/// The start time the flag and its variable give.
const START: &str = "2025-01-01T00:00:00Z";

/// How a `serve` ended up: refused (its exit code and every line it wrote) or ready (the lines
/// up to the ready line; it is then stopped).
#[derive(Debug)]
enum Start {
    Refused(Option<i32>, Vec<String>),
    Ready(Vec<String>),
}

/// `whalet-sim serve --addr 127.0.0.1:0 --sftp-addr off <args>` with the variables `env`,
/// followed (off the async threads) until it is refused or ready.
async fn serve(args: &[&str], env: &[(&str, &str)]) -> Start {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || follow(&args, &env))
        .await
        .unwrap()
}

fn follow(args: &[String], env: &[(String, String)]) -> Start {
    let mut command = Command::new(env!("CARGO_BIN_EXE_whalet-sim"));
    command
        .arg("serve")
        .args(["--addr", "127.0.0.1:0", "--sftp-addr", "off"])
        .args(args)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    for variable in VARIABLES {
        command.env_remove(variable);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    match Served::spawn(command).ready_or_exit() {
        Ok(lines) => Start::Ready(lines),
        Err((code, lines)) => Start::Refused(code, lines),
    }
}

/// Writes `text` as a configuration file in `dir`.
fn config_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("sim.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Asserts that the start was refused as a bad configuration (exit 1) with an error line
/// holding every one of `parts`.
fn assert_refused(start: Start, parts: &[&str], case: &str) {
    let Start::Refused(code, lines) = start else {
        panic!("{case}: started: {start:?}");
    };
    assert_eq!(code, Some(1), "{case}: {lines:?}");
    let error = lines
        .iter()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("{case}: no error line in {lines:?}"));
    for part in parts {
        assert!(error.contains(part), "{case}: {part:?} not in {error}");
    }
}

/// Regression: `[clock] mode` and `[clock] start` were checked only when no clock flag (or its
/// variable) overrode them, so a file with `mode = "banana"` and `start = "yesterday"` started
/// under `--manual-clock --start-time …`, and `start = "1960-…"` started under `--start-time`
/// but was refused without it. Each bad key is now refused at every start, naming the file,
/// the key and the value.
#[tokio::test]
async fn every_bad_clock_key_is_refused_whatever_flag_or_variable_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 3] = [
        ("[clock]\nmode = \"banana\"\n", "[clock] mode = \"banana\""),
        (
            "[clock]\nstart = \"yesterday\"\n",
            "[clock] start = \"yesterday\"",
        ),
        (
            "[clock]\nstart = \"1960-01-01T00:00:00Z\"\n",
            "[clock] start = \"1960-01-01T00:00:00Z\"",
        ),
    ];
    for (toml, key) in cases {
        let path = config_file(dir.path(), toml);
        let file = path.display().to_string();
        let named = format!("config {file}: {key}");
        let overrides: [(&[&str], &[Variable]); 4] = [
            (&[], &[]),
            (&["--manual-clock", "--start-time", START], &[]),
            (
                &["--time-scale", "0.5"],
                &[("WHALET_SIM_START_TIME", START)],
            ),
            (&[], &[("WHALET_SIM_MANUAL_CLOCK", "1")]),
        ];
        for (flags, env) in overrides {
            let mut args = vec!["--config", file.as_str()];
            args.extend(flags.iter().copied());
            let case = format!("{toml:?} with {flags:?} {env:?}");
            let served = serve(&args, env).await;
            assert_refused(served, &[&named], &case);
        }
    }
}

/// Regression: `[clock] mode = "real"` with `scale` silently ran a scaled clock, while `mode =
/// "manual"` with `scale` was refused. A real clock runs at wall speed: the pair is refused the
/// same way, naming both keys; `mode = "scaled"` takes the scale.
#[tokio::test]
async fn a_real_clock_with_a_scale_is_refused_naming_both_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_file(dir.path(), "[clock]\nmode = \"real\"\nscale = 2.0\n");
    let file = path.display().to_string();
    let served = serve(&["--config", &file], &[]).await;
    assert_refused(
        served,
        &[
            &format!("config {file}: [clock] mode = \"real\""),
            "[clock] scale",
            "mode = \"scaled\"",
        ],
        "real with a scale",
    );
    let path = config_file(dir.path(), "[clock]\nmode = \"scaled\"\nscale = 2.0\n");
    let file = path.display().to_string();
    let served = serve(&["--config", &file], &[]).await;
    assert!(matches!(served, Start::Ready(_)), "{served:?}");
}

/// The name and tenant of every scenario an app lists, as the ready line would name them.
pub(crate) fn scenario_names(list: &serde_json::Value) -> Vec<String> {
    list["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Regression: after `serve --snapshot FILE` of a snapshot holding a loaded scenario, the ready
/// line said `scenarios: none` and the restore line gave no scenario count, while `GET
/// /__sim/scenarios` listed it. The ready line now names each restored scenario (from the
/// snapshot) after the files given, the restore line counts them, and a `--scenario` file of the
/// same name that replaced one is listed by its path only.
#[tokio::test]
async fn the_ready_line_names_the_scenarios_a_snapshot_restored() {
    let happy = PathBuf::from(repo_path("scenarios/happy-path.toml"));
    let app = spawn_with(Setup {
        scenario_files: vec![happy.clone()],
        ..Setup::default()
    })
    .await;
    let (status, list) = app.get("/__sim/scenarios").await;
    assert_eq!(status, 200, "{list}");
    let names = scenario_names(&list);
    assert_eq!(names.len(), 1, "{list}");
    let (status, snapshot) = app.get_text("/__sim/snapshot").await;
    assert_eq!(status, 200, "{snapshot}");
    app.shutdown().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.json");
    std::fs::write(&path, snapshot).unwrap();
    let file = path.display().to_string();
    let restored = format!("{} (from the snapshot)", names[0]);

    let other = repo_path("scenarios/payout-fails.toml");
    let served = serve(&["--snapshot", &file, "--scenario", &other], &[]).await;
    let Start::Ready(lines) = served else {
        panic!("not started: {served:?}");
    };
    let ready = lines.last().unwrap();
    assert!(
        ready.contains(&format!("scenarios: {other}, {restored}")),
        "{ready}"
    );
    let restore = lines
        .iter()
        .find(|l| l.contains("state restored from snapshot"))
        .unwrap_or_else(|| panic!("no restore line in {lines:?}"));
    assert!(restore.contains("scenarios=1"), "{restore}");

    // The file of the same name and tenant replaces the restored scenario: named once, by path.
    let happy = happy.display().to_string();
    let served = serve(&["--snapshot", &file, "--scenario", &happy], &[]).await;
    let Start::Ready(lines) = served else {
        panic!("not started: {served:?}");
    };
    let ready = lines.last().unwrap();
    assert!(ready.ends_with(&format!("scenarios: {happy}")), "{ready}");
}
