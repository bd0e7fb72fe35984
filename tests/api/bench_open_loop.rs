//! `bench --rate`: the open-loop mode through the binary (a fixed arrival rate, latency from
//! each request's scheduled send time, the in-flight cap and what it dropped); and the closed
//! loop's segments, each between two ceiling slices; and the spawned server's own count of its
//! crypto time.

use crate::helpers::bin;

fn bench(args: &[&str]) -> serde_json::Value {
    let out = bin()
        .arg("bench")
        .args(args)
        .args(["--server-log", "warn", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
