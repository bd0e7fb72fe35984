//! `bench` through the binary (stop 45): a Whalet request the provider accepted as PROCESSING, or
//! answered with a signed head alone, is a success and no verify error; a fixed `--rate` needs at
//! least one request in rate × duration, seals exactly its schedule and reports its achieved
//! rate over the schedule's length; the notification bench's `--burst` and `--warm-up`, each a
//! trigger request's `count` on the server it spawns, are bounded before anything runs.

use crate::bench_open_loop::bench_exit;

/// `bench --json` against a server it spawns (logging warnings only): exit 0, the report and
/// stderr.
fn bench_ok(args: &[&str]) -> (serde_json::Value, String) {
    let mut all = vec!["--spawn-server", "--server-log", "warn", "--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = bench_exit(&all);
    assert_eq!(code, Some(0), "{args:?}: {stdout}\n{stderr}");
    (serde_json::from_str(&stdout).unwrap(), stderr)
}

/// An asynchronous operation answers PROCESSING: every request was accepted (exit 0, all ok),
/// and the reply opened as the partner would is verified, not reported as an error.
#[test]
fn bench_counts_processing_replies_as_accepted_and_verified() {
    let data = r#"{"outUserId":"bench-{i}","legalEntity":{"type":"INDIVIDUAL","name":"Bob","certType":"ID_CARD","certNo":"123456","countryCode":"US"}}"#;
    let (report, _) = bench_ok(&[
        "--requests",
        "3",
        "--partners",
        "1",
        "--no-ceiling",
        "--api-code",
        "userOnboardingApply",
        "--data",
        data,
    ]);
    let run = &report["runs"][0];
    assert_eq!(run["codes"]["PROCESSING"], 3, "{run}");
    assert_eq!(run["ok"], 3, "{run}");
    assert_eq!(run["verify_errors"], serde_json::json!([]), "{run}");
    assert_eq!(run["verified_replies"], 1, "{run}");
}

/// `connectivity` with `responseFlag` N answers SUCCESS with a signed head alone: a success (exit
/// 0), whose reply is reported as head-only (its signature verified, no body to open), neither
/// as fully verified nor as a verify error; the table says so too.
#[test]
fn bench_reports_head_only_success_replies_as_such() {
    let data = r#"{"responseFlag":"N","notifyFlag":"N"}"#;
    let flags = [
        "--requests",
        "3",
        "--partners",
        "1",
        "--no-ceiling",
        "--data",
        data,
    ];
    let (report, _) = bench_ok(&flags);
    let run = &report["runs"][0];
    assert_eq!(
        (run["ok"].as_u64(), run["codes"]["SUCCESS"].as_u64()),
        (Some(3), Some(3)),
        "{run}"
    );
    assert_eq!(run["verify_errors"], serde_json::json!([]), "{run}");
    assert_eq!(run["verified_replies"], 0, "{run}");
    assert_eq!(run["head_only_replies"], 1, "{run}");
    let (code, table, stderr) =
        bench_exit(&[&["--spawn-server", "--server-log", "warn"][..], &flags].concat());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(table.contains("head-only replies"), "{table}");
    assert!(!table.contains("verify error"), "{table}");
}

/// A fixed rate whose rate × duration is under one request is refused (exit 2) naming both
/// flags, as the bound says: it is not rounded up to a request.
#[test]
fn a_rate_under_one_request_per_duration_is_refused() {
    let (code, _, stderr) = bench_exit(&["--surface", "raw", "--rate", "0.5", "--duration", "1s"]);
    assert_eq!(code, Some(2), "{stderr}");
    for name in ["--rate", "--duration"] {
        assert!(stderr.contains(name), "{name} not in {stderr}");
    }
}

/// A fixed-rate open loop seals exactly the requests its schedule holds, and its achieved rate
/// is taken over the schedule's length: replies cannot come faster than they were scheduled.
#[test]
fn a_fixed_rate_seals_its_schedule_and_achieves_at_most_its_rate() {
    for rate in ["1", "2"] {
        let (report, stderr) = bench_ok(&[
            "--partners",
            "1",
            "--no-ceiling",
            "--rate",
            rate,
            "--duration",
            "1s",
        ]);
        let open = &report["open_loop"][0];
        let scheduled = open["scheduled"].as_u64().unwrap();
        assert_eq!(open["ok"].as_u64(), Some(scheduled), "{open}");
        assert!(
            stderr.contains(&format!("sealing {scheduled} distinct requests")),
            "{stderr}"
        );
        let (achieved, target) = (
            open["achieved_rps"].as_f64().unwrap(),
            open["target_rate_rps"].as_f64().unwrap(),
        );
        assert!(
            achieved > 0.0 && achieved <= target,
            "{achieved} vs {target}: {open}"
        );
    }
}

/// `--burst` and `--warm-up` beyond what one trigger request of the spawned simulator takes are
/// a usage error (exit 2) naming the flag and the bound, before a server is spawned; at the bound
/// they are accepted (checked on `--burst`, which a short run does not reach).
#[test]
fn notification_trigger_counts_are_bounded_before_anything_runs() {
    let most = whalet_sim::config::Config::default().notify.ledger_capacity;
    let over = (most + 1).to_string();
    for flag in ["--warm-up", "--burst"] {
        let (code, _, stderr) = bench_exit(&[
            "--notifications",
            "5",
            "--destinations",
            "1",
            "--no-ceiling",
            flag,
            &over,
        ]);
        assert_eq!(code, Some(2), "{flag}: {stderr}");
        assert!(stderr.contains(flag), "{flag}: {stderr}");
        assert!(stderr.contains(&most.to_string()), "{flag}: {stderr}");
        assert!(!stderr.contains("notifications: 5"), "{flag} ran: {stderr}");
    }
    let (code, _, stderr) = bench_exit(&[
        "--notifications",
        "2",
        "--destinations",
        "1",
        "--no-ceiling",
        "--warm-up",
        "0",
        "--server-log",
        "warn",
        "--burst",
        &most.to_string(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
}
