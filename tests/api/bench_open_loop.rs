//! `bench --rate`: the open-loop mode through the binary (a fixed arrival rate, latency from
//! each request's scheduled send time, the in-flight cap and what it dropped); and the closed
//! loop's segments, each between two ceiling slices; and the spawned server's own count of its
//! crypto time. Also what every bench run must not do: start on flags that are invalid or
//! contradict each other (a usage error, exit 2), end with 0 when it did not make the load asked
//! for, or report failed connections as a rate.

use crate::cli::closed_port;
use crate::helpers::bin;

/// `bench` with these flags: its exit code, stdout and stderr.
pub(crate) fn bench_exit(args: &[&str]) -> (Option<i32>, String, String) {
    let out = bin()
        .arg("bench")
        .args(args)
        .env_remove("WHALET_SIM_URL")
        .output()
        .unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

fn bench(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--server-log", "warn", "--json"]);
    let (code, stdout, stderr) = bench_exit(&all);
    assert_eq!(code, Some(0), "{stderr}");
    serde_json::from_slice(stdout.as_bytes()).unwrap()
}

/// Every invalid value, bound exceeded or contradiction is a usage error (exit 2) naming the
/// flags, before anything runs: no panic on a huge duration, no allocation the size of a huge
/// rate, and no flag silently ignored.
#[test]
fn bench_refuses_invalid_or_contradictory_flags_as_usage_errors() {
    for (flags, named) in [
        // Values beyond any bound: a panic (101) or an abort (134) before.
        (
            &["--no-ceiling", "--duration", "99999999999999999999s"][..],
            &["--duration", "24h"][..],
        ),
        (
            &["--ceiling-time", "99999999999999999999s"],
            &["--ceiling-time", "24h"],
        ),
        (&["--rate", "1e300"], &["--rate", "1000000"]),
        (
            &["--rate", "1e9", "--duration", "1s"],
            &["--rate", "1000000"],
        ),
        (
            &["--rate", "1e5", "--duration", "1m"],
            &["--rate", "--duration", "2000000"],
        ),
        (&["--requests", "2000001"], &["--requests", "2000000"]),
        (&["--partners", "10001"], &["--partners"]),
        // Invalid values that exited 1.
        (&["--partners", "0"], &["--partners"]),
        (&["--duration", "0s"], &["--duration"]),
        (&["--duration", "abc"], &["--duration"]),
        (&["--duration", "500us"], &["--duration"]),
        (&["--rate", "0"], &["--rate"]),
        (&["--max-in-flight", "0"], &["--max-in-flight"]),
        (&["--surface", "pockyt", "--param", "bad"], &["--param"]),
        (&["--surface", "raw", "--method", "GE T"], &["--method"]),
        (&["--notifications", "0"], &["--notifications"]),
        (
            &["--notifications", "5", "--destinations", "0"],
            &["--destinations"],
        ),
        (&["--data", "notjson"], &["--data"]),
        (&["--url", "https://127.0.0.1:1"], &["--url"]),
        (&["--url", "http://127.0.0.1:99999"], &["--url", "port"]),
        (
            &["--url", "http://127.0.0.1:8080#x"],
            &["--url", "fragment"],
        ),
        (&["--url", "http://127.0.0.1:8080/?x"], &["--url", "query"]),
        (&["--url", "http://127.0.0.1:8080/foo"], &["--url", "/foo"]),
        (&["--url", "http://user@127.0.0.1:8080"], &["--url", "user"]),
        // Contradictions that were ignored.
        (
            &["--requests", "10", "--rate", "100"],
            &["--requests", "--rate"],
        ),
        (
            &["--destinations", "2"],
            &["--destinations", "--notifications"],
        ),
        (&["--burst", "2"], &["--burst", "--notifications"]),
        (
            &["--surface", "pockyt", "--data", "{}"],
            &["--data", "--surface pockyt"],
        ),
        (
            &["--pool", "1", "--requests", "5"],
            &["--pool 1", "--requests 5"],
        ),
    ] {
        let (code, _, stderr) = bench_exit(flags);
        assert_eq!(code, Some(2), "{flags:?}: {stderr}");
        for name in named {
            assert!(stderr.contains(name), "{flags:?}: {name} not in {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{flags:?}: {stderr}");
    }
}

/// A run whose sealed requests ran out before its --duration did not make the load asked for:
/// it exits 5, and both its run and its summary say the pool ran out (JSON and table).
#[test]
fn a_pool_that_runs_out_is_not_a_success() {
    let flags = [
        "--surface",
        "whalet",
        "--spawn-server",
        "--server-log",
        "warn",
        "--pool",
        "6",
        "--partners",
        "2",
        "--duration",
        "3s",
        "--no-ceiling",
    ];
    let (code, stdout, stderr) = bench_exit(&[&flags[..], &["--json"]].concat());
    assert_eq!(code, Some(5), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let run = &report["runs"][0];
    assert_eq!(run["pool_exhausted"], true, "{run}");
    assert_eq!(
        (run["requests"].as_u64(), run["ok"].as_u64()),
        (Some(6), Some(6)),
        "{run}"
    );
    assert_eq!(report["summary"][0]["pool_exhausted"], true, "{report}");
    let (code, table, stderr) = bench_exit(&flags);
    assert_eq!(code, Some(5), "{stderr}");
    let summary = table.split("summary").nth(1).unwrap_or_default();
    assert!(
        summary.contains("POOL OF SEALED REQUESTS RAN OUT"),
        "{table}"
    );
}

/// Against a server that is down, nothing was answered: the run counts its failed requests but
/// no rate or latency, its summary says none was answered, and `--rate half` takes no rate from
/// failed connections (the open loop is not run, and says why). Exit 5.
#[test]
fn failed_connections_are_no_throughput() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let flags = [
        "--url",
        &url,
        "--surface",
        "raw",
        "--partners",
        "2",
        "--duration",
        "300ms",
        "--no-ceiling",
        "--rate",
        "half",
    ];
    let (code, stdout, stderr) = bench_exit(&[&flags[..], &["--json"]].concat());
    assert_eq!(code, Some(5), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let run = &report["runs"][0];
    assert!(run["requests"].as_u64().unwrap() > 0, "{run}");
    assert_eq!(run["answered"], 0, "{run}");
    assert_eq!(run["throughput_rps"], 0.0, "{run}");
    assert_eq!(run["latency"]["max_ms"], 0.0, "{run}");
    assert!(report.get("open_loop").is_none(), "{report}");
    assert!(report["skipped"][0]
        .as_str()
        .unwrap()
        .contains("no closed-loop request was answered"));
    let (code, table, stderr) = bench_exit(&flags);
    assert_eq!(code, Some(5), "{stderr}");
    assert!(table.contains("NO REQUEST WAS ANSWERED"), "{table}");
    assert!(!table.contains("closed-loop)"), "{table}");
}

/// `bench` of the Whalet envelope against a spawned server: 2 partners for `duration`, short
/// ceiling measurements, and a drift bound no run crosses (a run is never repeated).
fn whalet_bench(duration: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "--surface",
        "whalet",
        "--spawn-server",
        "--partners",
        "2",
        "--duration",
        duration,
        "--ceiling-time",
        "20ms",
        "--ceiling-slice",
        "10ms",
        "--max-drift",
        "5",
    ];
    args.extend_from_slice(extra);
    bench(&args)
}

/// `--rate half` measures the closed-loop maximum first, then schedules half of it; the report
/// carries the open-loop run with its rate, counts and percentiles, and every reply succeeded.
#[test]
fn rate_half_runs_open_loop_at_half_the_closed_loop_maximum() {
    // One closed-loop run, never repeated for drift: its rate is the maximum.
    let report = whalet_bench("500ms", &["--rate", "half"]);
    let closed = report["runs"][0]["throughput_rps"].as_f64().unwrap();
    let open = &report["open_loop"][0];
    assert_eq!(open["rate_mode"], "half", "{open}");
    assert_eq!(open["closed_loop_max_rps"].as_f64(), Some(closed));
    let rate = open["target_rate_rps"].as_f64().unwrap();
    assert!((rate - closed / 2.0).abs() < 1e-6, "{rate} vs {closed}");
    let scheduled = open["scheduled"].as_u64().unwrap();
    assert_eq!(scheduled, (rate * 0.5).round() as u64);
    let (sent, dropped) = (
        open["sent"].as_u64().unwrap(),
        open["dropped"].as_u64().unwrap(),
    );
    assert_eq!(sent + dropped, scheduled, "{open}");
    assert_eq!(open["ok"].as_u64(), Some(sent), "{open}");
    assert_eq!(open["completed"].as_u64(), Some(sent), "{open}");
    assert_eq!(open["unfinished"], 0, "{open}");
    assert_eq!(open["verified_replies"], 1, "{open}");
    let lat = &open["latency"];
    let p = |k: &str| lat[k].as_f64().unwrap();
    assert!(p("p50_ms") > 0.0 && p("p50_ms") <= p("p90_ms"), "{lat}");
    assert!(
        p("p90_ms") <= p("p99_ms") && p("p99_ms") <= p("max_ms"),
        "{lat}"
    );
    assert!(open["achieved_rps"].as_f64().unwrap() > 0.0);
    assert!(open["ceiling_before_us"].as_f64().unwrap() > 0.0, "{open}");
    assert!(open["server_cpu_us_per_request"].as_f64().unwrap() > 0.0);
}

/// `--rate R` alone runs no closed-loop level; the cap bounds what is outstanding, and what fell
/// due beyond it is reported as dropped rather than sent late.
#[test]
fn a_fixed_rate_is_held_and_the_cap_is_reported() {
    let report = bench(&[
        "--surface",
        "pockyt",
        "--spawn-server",
        "--partners",
        "2",
        "--duration",
        "1s",
        "--rate",
        "40",
        "--max-in-flight",
        "64",
    ]);
    assert_eq!(report["runs"].as_array().map(Vec::len), Some(0));
    let open = &report["open_loop"][0];
    assert_eq!(open["rate_mode"], "fixed");
    assert_eq!(open["target_rate_rps"], 40.0);
    assert!(open["closed_loop_max_rps"].is_null());
    assert_eq!(open["scheduled"], 40);
    assert_eq!(open["sent"], 40, "{open}");
    assert_eq!(open["dropped"], 0);
    assert_eq!(open["ok"], 40, "{open}");
    assert_eq!(open["max_in_flight"], 64);
    assert!(open["peak_in_flight"].as_u64().unwrap() >= 1);
    assert!(open["codes"]["000100"] == 40, "{open}");
    // 40 requests due over one second: the run cannot finish much sooner than the schedule.
    let achieved = open["achieved_rps"].as_f64().unwrap();
    assert!(achieved > 20.0 && achieved <= 41.0, "{achieved}");
}

/// A closed-loop run cut into segments measures a ceiling slice before each segment and after
/// the last, reports them all, and counts every segment's requests in the one run.
#[test]
fn a_segmented_run_reports_a_slice_around_every_segment() {
    for segments in [3usize, 1] {
        // The server times every crypto call (`--account-crypto=1`), so its count is exact and
        // the share below can be held to the whole CPU: in a run this short, one call in eight
        // timed is a handful of samples a segment, whose error alone took the share to 1.12.
        let report = whalet_bench(
            "600ms",
            &[
                "--segments",
                &segments.to_string(),
                "--server-arg=--account-crypto=1",
            ],
        );
        let runs = report["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "{report}");
        let run = &runs[0];
        let slices = numbers(&run["ceiling_slices_us"]);
        assert_eq!(slices.len(), segments + 1, "{run}");
        assert!(slices.iter().all(|&us| us > 0.0), "{run}");
        assert_eq!(run["ceiling_before_us"].as_f64(), Some(slices[0]));
        assert_eq!(run["ceiling_after_us"].as_f64(), slices.last().copied());
        let requests = run["requests"].as_u64().unwrap();
        assert!(
            requests > 0 && run["ok"].as_u64() == Some(requests),
            "{run}"
        );
        assert_eq!(run["codes"]["SUCCESS"].as_u64(), Some(requests), "{run}");
        // Every segment's partners verify one reply each.
        assert_eq!(run["verified_replies"].as_u64(), Some(2 * segments as u64));
        assert!(run["ceiling_ratio"].as_f64().unwrap() > 0.0, "{run}");
        // The spawned server counts its own crypto: a share of its CPU, and per request at least
        // half of what the ceiling slices say the envelope's crypto costs (the same calls).
        let crypto = run["server_crypto_cpu_s"].as_f64().unwrap();
        let share = run["crypto_share"].as_f64().unwrap();
        // Every call timed, less its clock's cost: a part of the process's CPU, never more (the
        // clock-cost correction is itself read off the clock, hence the 1 % allowance).
        assert!(share > 0.0 && share <= 1.01, "{run}");
        let whole = run["server_cpu_s"].as_f64().unwrap();
        assert!((crypto / whole - share).abs() < 1e-9, "{run}");
        let per_request = run["server_crypto_us_per_request"].as_f64().unwrap();
        let ceiling = slices.iter().sum::<f64>() / slices.len() as f64;
        assert!(
            per_request > 0.5 * ceiling,
            "{per_request} vs {ceiling}: {run}"
        );
        assert_eq!(
            report["summary"][0]["median_crypto_share"].as_f64(),
            Some(share)
        );
        // Each segment's requests and server CPU, beside the slices; none for one segment.
        if segments > 1 {
            let served = numbers(&run["segment_requests"]);
            assert_eq!(served.len(), segments, "{run}");
            assert_eq!(served.iter().sum::<f64>(), requests as f64, "{run}");
            let cpu = numbers(&run["segment_server_cpu_s"]);
            assert_eq!(cpu.len(), segments, "{run}");
            let total: f64 = cpu.iter().sum();
            let whole = run["server_cpu_s"].as_f64().unwrap();
            assert!((total - whole).abs() < 1e-6, "{run}");
        } else {
            assert!(run.get("segment_requests").is_none(), "{run}");
            assert!(run.get("segment_server_cpu_s").is_none(), "{run}");
        }
    }
}

/// A JSON array of numbers (panics, failing the test, on anything else).
fn numbers(v: &serde_json::Value) -> Vec<f64> {
    let all = v.as_array().unwrap_or_else(|| panic!("not an array: {v}"));
    all.iter().map(|n| n.as_f64().unwrap()).collect()
}

/// Which server a run loads decides the flags it takes: `--spawn-server` measures the server it
/// starts, so a `--server-pid` (whose memory it would report instead) or a `--url` naming
/// another server contradicts it; a flag for a spawned server is ignored when none is spawned.
/// Each is a usage error (exit 2) naming both flags, before anything runs.
#[test]
fn bench_refuses_server_flags_its_mode_would_ignore() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    // Flags that make a wrongly accepted run short.
    let quick = ["--surface", "raw", "--no-ceiling", "--requests", "1"];
    for (flags, named) in [
        (
            vec!["--spawn-server", "--server-pid", "1"],
            ["--server-pid", "--spawn-server"],
        ),
        (
            vec!["--spawn-server", "--url", &url],
            ["--url", "--spawn-server"],
        ),
        (
            vec!["--url", &url, "--server-arg=--manual-clock"],
            ["--server-arg", "--spawn-server"],
        ),
        (
            vec!["--url", &url, "--server-log", "debug"],
            ["--server-log", "--spawn-server"],
        ),
    ] {
        let (code, _, stderr) = bench_exit(&[&flags[..], &quick].concat());
        assert_eq!(code, Some(2), "{flags:?}: {stderr}");
        for name in named {
            assert!(stderr.contains(name), "{flags:?}: {name} not in {stderr}");
        }
    }
}

/// A fixed `--rate R` runs no closed loop: its table shows the open-loop run alone, with no
/// empty closed-loop table or summary.
#[test]
fn a_fixed_rate_table_shows_only_the_open_loop() {
    let (code, table, stderr) = bench_exit(&[
        "--surface",
        "raw",
        "--spawn-server",
        "--server-log",
        "warn",
        "--no-ceiling",
        "--partners",
        "1",
        "--duration",
        "300ms",
        "--rate",
        "20",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(table.contains("open loop, 1 partners"), "{table}");
    assert!(
        !table.contains("summary") && !table.contains("ptnrs"),
        "{table}"
    );
}
