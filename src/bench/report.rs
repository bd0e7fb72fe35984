//! The benchmark report: one record per timed run, the best of each concurrency level with the
//! spread between repeats, the crypto ceiling and the echo baseline; printed as a table or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::ceiling::Ceiling;
use super::load::{percentile, Outcome};

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// What a run's replies said, flattened into each run report (its fields keep their names in
/// the `--json` output).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Replies {
    /// Replies by code (a transport failure by its error).
    pub codes: BTreeMap<String, u64>,
    /// Replies whose signature verified and whose body opened.
    pub verified_replies: u64,
    /// Whalet: accepted replies that were a signed head alone (a `connectivity` with
    /// `responseFlag` N): the signature verified, no body to open; not in `verified_replies`.
    pub head_only_replies: u64,
    /// The first five replies that did not verify, and why.
    pub verify_errors: Vec<String>,
    /// The first five replies that verified but refused the request, with their code and
    /// detail (`reply R1: INTERFACE_UNAUTHORIZED ...`).
    pub refused_replies: Vec<String>,
}

impl Replies {
    /// Takes them out of a load's outcome.
    pub fn take(outcome: &mut Outcome) -> Self {
        Self {
            codes: std::mem::take(&mut outcome.codes),
            verified_replies: outcome.verified,
            head_only_replies: outcome.head_only,
            verify_errors: outcome.verify_errors.drain(..).take(5).collect(),
            refused_replies: outcome.refusals.drain(..).take(5).collect(),
        }
    }

    /// The codes as the table prints them: `code=count`, space-separated.
    pub fn codes_text(&self) -> String {
        let codes: Vec<String> = self.codes.iter().map(|(c, n)| format!("{c}={n}")).collect();
        codes.join(" ")
    }
}

/// `seconds` shared out over `count` items, in microseconds each (none without items).
pub fn us_each(seconds: Option<f64>, count: u64) -> Option<f64> {
    seconds
        .filter(|_| count > 0)
        .map(|s| s * 1e6 / count as f64)
}

/// The crypto ceiling's microseconds a request ÷ what the server spent on one: how close to
/// its ceiling the server ran.
pub fn ratio_to(ceiling_us: f64, server_us: Option<f64>) -> Option<f64> {
    server_us.filter(|us| *us > 0.0).map(|us| ceiling_us / us)
}

/// One timed run against one target.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub target: &'static str,
    pub partners: usize,
    pub repeat: usize,
    /// Requests made: answered or not.
    pub requests: u64,
    /// Requests answered, whatever their code (the rest could not connect or lost their
    /// connection); the rate, the latencies and the CPU per request are of these only.
    pub answered: u64,
    pub ok: u64,
    pub elapsed_s: f64,
    /// Answered requests per second.
    pub throughput_rps: f64,
    pub latency: Latency,
    #[serde(flatten)]
    pub replies: Replies,
    /// The sealed requests ran out before the run's end: it did not make the load asked for.
    pub pool_exhausted: bool,
    pub server_cpu_s: Option<f64>,
    pub server_cpu_us_per_request: Option<f64>,
    /// Server CPU seconds per wall second (2.0 = two cores busy).
    pub server_cores_busy: Option<f64>,
    pub server_rss_max_kib: Option<u64>,
    pub generator_cpu_s: Option<f64>,
    /// The server's own count of its crypto CPU time during the run (`serve --account-crypto`,
    /// which `--spawn-server` sets), on the threads that served the load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_crypto_cpu_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_crypto_us_per_request: Option<f64>,
    /// `server_crypto_cpu_s / server_cpu_s`: the share of the server's CPU its crypto took,
    /// measured on the same threads at the same moments, so the machine's speed cancels out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crypto_share: Option<f64>,
    #[serde(flatten)]
    pub ceiling: CeilingCheck,
}

/// A run against the envelope's crypto ceiling, flattened into each run report (its fields
/// keep their names in the `--json` output).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CeilingCheck {
    /// Requests per server CPU-second ÷ the envelope's crypto ceiling per core (the mean of the
    /// slices measured right before and right after this run, when they were).
    pub ceiling_ratio: Option<f64>,
    /// Crypto microseconds per request measured in the slice right before the run.
    pub ceiling_before_us: Option<f64>,
    /// ... and right after it.
    pub ceiling_after_us: Option<f64>,
    /// Every slice in the order measured: before the run, between its segments, after it.
    pub ceiling_slices_us: Vec<f64>,
    /// The largest |a - b| / their mean of two neighbouring slices: how much the machine's speed
    /// moved during one segment of the run.
    pub ceiling_drift: Option<f64>,
    /// Requests each segment of a segmented run served, in order (empty: one segment).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segment_requests: Vec<u64>,
    /// Server CPU seconds of each segment, beside `segment_requests`: with the slices around it,
    /// each segment's own ratio (what moved, the server or the ceiling, shows here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segment_server_cpu_s: Vec<Option<f64>>,
    /// The drift was over `--max-drift`: the run's ratio is not to be trusted (it was repeated).
    pub unstable: bool,
}

impl RunReport {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        target: &'static str,
        partners: usize,
        repeat: usize,
        mut outcome: Outcome,
        server_cpu_s: Option<f64>,
        server_rss_max_kib: Option<u64>,
        generator_cpu_s: Option<f64>,
        ceiling: Option<&Ceiling>,
    ) -> Self {
        outcome.latencies_us.sort_unstable();
        let replies = Replies::take(&mut outcome);
        let lat = &outcome.latencies_us;
        let ms = |us: u32| f64::from(us) / 1000.0;
        let answered = lat.len() as u64;
        let elapsed_s = outcome.elapsed.as_secs_f64().max(1e-9);
        let mean_ms = if lat.is_empty() {
            0.0
        } else {
            lat.iter().map(|&u| f64::from(u)).sum::<f64>() / lat.len() as f64 / 1000.0
        };
        let per_request = us_each(server_cpu_s, answered);
        let ceiling_ratio = ceiling.and_then(|c| ratio_to(c.us_per_request, per_request));
        Self {
            target,
            partners,
            repeat,
            requests: answered + outcome.unanswered,
            answered,
            ok: outcome.ok,
            elapsed_s,
            throughput_rps: answered as f64 / elapsed_s,
            latency: Latency {
                p50_ms: ms(percentile(lat, 0.50)),
                p90_ms: ms(percentile(lat, 0.90)),
                p99_ms: ms(percentile(lat, 0.99)),
                max_ms: ms(lat.last().copied().unwrap_or(0)),
                mean_ms,
            },
            replies,
            pool_exhausted: outcome.pool_exhausted,
            server_cpu_s,
            server_cpu_us_per_request: per_request,
            server_cores_busy: server_cpu_s.map(|cpu| cpu / elapsed_s),
            server_rss_max_kib,
            generator_cpu_s,
            server_crypto_cpu_s: None,
            server_crypto_us_per_request: None,
            crypto_share: None,
            ceiling: CeilingCheck {
                ceiling_ratio,
                ..CeilingCheck::default()
            },
        }
    }

    /// Sets the server's own crypto CPU seconds during the run beside its whole CPU time.
    pub fn with_crypto(mut self, crypto_cpu_s: Option<f64>) -> Self {
        self.server_crypto_cpu_s = crypto_cpu_s;
        self.server_crypto_us_per_request = us_each(crypto_cpu_s, self.answered);
        self.crypto_share = crypto_share(crypto_cpu_s, self.server_cpu_s);
        self
    }
}

/// The share of the server's CPU seconds its own crypto count took.
pub fn crypto_share(crypto_cpu_s: Option<f64>, server_cpu_s: Option<f64>) -> Option<f64> {
    crypto_cpu_s
        .zip(server_cpu_s)
        .filter(|&(_, all)| all > 0.0)
        .map(|(crypto, all)| crypto / all)
}

/// The best run of one concurrency level and how far the repeats spread.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub target: &'static str,
    pub partners: usize,
    pub best_rps: f64,
    pub worst_rps: f64,
    /// (best - worst) / best.
    pub spread: f64,
    pub best_p50_ms: f64,
    pub best_p99_ms: f64,
    pub best_ceiling_ratio: Option<f64>,
    /// The median ratio of the stable runs (all runs when none was stable).
    pub median_ceiling_ratio: Option<f64>,
    /// The largest distance of a stable run's ratio from that median, relative to it.
    pub ratio_spread: Option<f64>,
    /// Runs flagged unstable (ceiling drift over `--max-drift`), not counted above.
    pub unstable_runs: usize,
    /// The median `crypto_share` of all runs (it needs no ceiling, so none is left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_crypto_share: Option<f64>,
    /// The largest distance of a run's `crypto_share` from that median, relative to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crypto_share_spread: Option<f64>,
    /// Best simulator req/s ÷ best echo req/s at the same concurrency.
    pub vs_echo: Option<f64>,
    /// Requests of the level's runs that got no answer (not in the rates and latencies).
    pub unanswered: u64,
    /// Some run of the level used up its sealed requests before its end: it did not make the
    /// load asked for.
    pub pool_exhausted: bool,
}

/// The ceiling ratios of the repeats of one level: their median and spread.
struct Ratios {
    median: Option<f64>,
    spread: Option<f64>,
    unstable: usize,
}

impl Ratios {
    fn of<'a>(runs: impl Iterator<Item = &'a RunReport>) -> Ratios {
        let runs: Vec<&RunReport> = runs.collect();
        let unstable = runs.iter().filter(|r| r.ceiling.unstable).count();
        let stable: Vec<f64> = runs
            .iter()
            .filter(|r| !r.ceiling.unstable)
            .filter_map(|r| r.ceiling.ceiling_ratio)
            .collect();
        let ratios = if stable.is_empty() {
            runs.iter()
                .filter_map(|r| r.ceiling.ceiling_ratio)
                .collect()
        } else {
            stable
        };
        let (median, spread) = median_and_spread(ratios);
        Ratios {
            median,
            spread,
            unstable,
        }
    }
}

/// The median of `values` and the largest distance of one from it, relative to it.
fn median_and_spread(mut values: Vec<f64>) -> (Option<f64>, Option<f64>) {
    values.sort_by(f64::total_cmp);
    let median = median(&values);
    let spread = median
        .filter(|m| *m > 0.0)
        .map(|m| values.iter().map(|r| (r - m).abs() / m).fold(0.0, f64::max));
    (median, spread)
}

/// The median of sorted values.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: &'static str,
    pub backend: String,
    pub optimized: bool,
    pub surface: String,
    pub url: String,
    pub path: String,
    pub cores: usize,
    pub server_pid: Option<u32>,
    pub server_startup_ms: Option<f64>,
    pub server_rss_idle_kib: Option<u64>,
    pub echo_rss_idle_kib: Option<u64>,
    pub ceiling: Option<Ceiling>,
    pub runs: Vec<RunReport>,
    pub summary: Vec<Summary>,
    /// Open-loop runs (`--rate`), after the closed-loop ones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub open_loop: Vec<OpenLoopReport>,
    /// Open-loop levels that were not run, and why (`--rate half` with nothing answered).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

/// One open-loop run: a fixed arrival rate, latency from each request's scheduled send time.
#[derive(Debug, Clone, Serialize)]
pub struct OpenLoopReport {
    pub target: &'static str,
    /// Connections opened before the schedule started (`--partners`).
    pub partners: usize,
    /// `fixed` (`--rate R`) or `half` (half of the closed-loop maximum measured just before).
    pub rate_mode: &'static str,
    /// With `half`: the best closed-loop requests/s at the same settings.
    pub closed_loop_max_rps: Option<f64>,
    pub target_rate_rps: f64,
    pub duration_s: f64,
    pub scheduled: u64,
    pub sent: u64,
    /// Due while `max_in_flight` requests were outstanding: never sent.
    pub dropped: u64,
    /// Sent, not answered within the grace period after the schedule.
    pub unfinished: u64,
    /// Sent, got no answer: the connection could not be made or failed before the reply.
    pub unanswered: u64,
    /// Answered, whatever the code.
    pub completed: u64,
    pub ok: u64,
    /// Replies per second over the schedule's length (`--duration`), or from the start of the
    /// schedule to the last reply when that took longer.
    pub achieved_rps: f64,
    pub max_in_flight: usize,
    pub peak_in_flight: usize,
    pub connections: u64,
    /// The generator's largest delay between a request's due time and its sending (already
    /// inside the latencies).
    pub max_send_lag_ms: f64,
    /// From the scheduled send time to the end of the reply.
    pub latency: Latency,
    #[serde(flatten)]
    pub replies: Replies,
    /// The sealed requests ran out before the schedule's end.
    pub pool_exhausted: bool,
    pub server_cpu_us_per_request: Option<f64>,
    pub server_cores_busy: Option<f64>,
    #[serde(flatten)]
    pub ceiling: CeilingCheck,
}

impl Latency {
    /// Percentiles of unsorted microsecond latencies.
    pub fn of(mut us: Vec<u32>) -> Latency {
        us.sort_unstable();
        let ms = |v: u32| f64::from(v) / 1000.0;
        let mean_ms = if us.is_empty() {
            0.0
        } else {
            us.iter().map(|&u| f64::from(u)).sum::<f64>() / us.len() as f64 / 1000.0
        };
        Latency {
            p50_ms: ms(percentile(&us, 0.50)),
            p90_ms: ms(percentile(&us, 0.90)),
            p99_ms: ms(percentile(&us, 0.99)),
            max_ms: ms(us.last().copied().unwrap_or(0)),
            mean_ms,
        }
    }
}

impl Report {
    /// Whether the bench made the whole load asked for and every request succeeded: each run
    /// made at least one request, every one answered with a success code, no reply failed to
    /// verify, no pool of sealed requests ran out and no open-loop level was skipped.
    pub fn complete(&self) -> bool {
        let runs = self.runs.iter().all(|r| {
            r.requests > 0
                && r.ok >= r.requests
                && r.replies.verify_errors.is_empty()
                && r.replies.refused_replies.is_empty()
                && !r.pool_exhausted
        });
        let open = self.open_loop.iter().all(|o| {
            o.sent > 0
                && o.ok >= o.sent
                && o.replies.verify_errors.is_empty()
                && o.replies.refused_replies.is_empty()
                && !o.pool_exhausted
        });
        runs && open && self.skipped.is_empty()
    }

    /// Fills `summary` from `runs`.
    pub fn summarise(&mut self) {
        let mut keys: Vec<(&'static str, usize)> =
            self.runs.iter().map(|r| (r.target, r.partners)).collect();
        keys.dedup();
        keys.sort_by_key(|k| (k.0 != "simulator", k.1));
        keys.dedup();
        let best = |runs: &[RunReport], target: &str, partners: usize| -> Option<RunReport> {
            runs.iter()
                .filter(|r| r.target == target && r.partners == partners)
                .max_by(|a, b| a.throughput_rps.total_cmp(&b.throughput_rps))
                .cloned()
        };
        self.summary = keys
            .iter()
            .filter_map(|&(target, partners)| {
                let top = best(&self.runs, target, partners)?;
                let worst = self
                    .runs
                    .iter()
                    .filter(|r| r.target == target && r.partners == partners)
                    .map(|r| r.throughput_rps)
                    .fold(f64::INFINITY, f64::min);
                let echo = best(&self.runs, "echo", partners).filter(|_| target != "echo");
                let level = || {
                    self.runs
                        .iter()
                        .filter(move |r| r.target == target && r.partners == partners)
                };
                let ratios = Ratios::of(level());
                let (median_crypto_share, crypto_share_spread) =
                    median_and_spread(level().filter_map(|r| r.crypto_share).collect());
                Some(Summary {
                    target,
                    partners,
                    unanswered: level().map(|r| r.requests - r.answered).sum(),
                    pool_exhausted: level().any(|r| r.pool_exhausted),
                    best_rps: top.throughput_rps,
                    worst_rps: worst,
                    spread: (top.throughput_rps - worst) / top.throughput_rps.max(1e-9),
                    best_p50_ms: top.latency.p50_ms,
                    best_p99_ms: top.latency.p99_ms,
                    best_ceiling_ratio: self
                        .runs
                        .iter()
                        .filter(|r| r.target == target && r.partners == partners)
                        .filter_map(|r| r.ceiling.ceiling_ratio)
                        .reduce(f64::max),
                    vs_echo: echo.map(|e| top.throughput_rps / e.throughput_rps.max(1e-9)),
                    median_ceiling_ratio: ratios.median,
                    ratio_spread: ratios.spread,
                    unstable_runs: ratios.unstable,
                    median_crypto_share,
                    crypto_share_spread,
                })
            })
            .collect();
    }

    pub fn table(&self) -> String {
        let mut s = String::new();
        let opt =
            |v: Option<f64>, digits: usize| v.map_or("-".to_owned(), |v| format!("{v:.digits$}"));
        let _ = writeln!(
            s,
            "whalet-sim {} bench: {} {}{} | crypto: {} | {} build | {} cores",
            self.version,
            self.surface,
            self.url,
            self.path,
            self.backend,
            if self.optimized {
                "release"
            } else {
                "DEBUG (figures meaningless)"
            },
            self.cores
        );
        let kib =
            |v: Option<u64>| v.map_or("-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        let _ = writeln!(
            s,
            "server pid {} | startup to ready health check {} ms | RSS idle {} | echo RSS idle {}",
            self.server_pid.map_or("-".to_owned(), |p| p.to_string()),
            opt(self.server_startup_ms, 1),
            kib(self.server_rss_idle_kib),
            kib(self.echo_rss_idle_kib),
        );
        if let Some(c) = &self.ceiling {
            let _ = writeln!(s, "\ncrypto ceiling (one core, in-process):");
            for op in &c.ops {
                let _ = writeln!(
                    s,
                    "  {:<40} {:>10.0} ops/s  {:>8.1} us  x{} per request",
                    op.op, op.ops_per_sec, op.us_per_op, op.per_request
                );
            }
            let _ = writeln!(
                s,
                "  => {:.1} us of crypto per {} request = {:.0} requests/s per core",
                c.us_per_request, c.scheme, c.requests_per_sec_per_core
            );
        }
        self.closed_loop_table(&mut s);
        for o in &self.open_loop {
            let _ = writeln!(
                s,
                "\nopen loop, {} partners: {:.1} req/s scheduled ({}{}) for {:.1} s: {} sent, {} dropped \
                 (cap {} in flight, peak {}), {} unfinished, {:.1} replies/s\n  latency from the \
                 scheduled send time: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms \
                 (generator lag up to {:.2} ms) | server cpu {} us/rq, ratio {}{}",
                o.partners, o.target_rate_rps, o.rate_mode,
                o.closed_loop_max_rps.map_or(String::new(), |m| format!(" of {m:.1} req/s closed-loop")),
                o.duration_s, o.sent, o.dropped, o.max_in_flight, o.peak_in_flight, o.unfinished,
                o.achieved_rps, o.latency.p50_ms, o.latency.p90_ms, o.latency.p99_ms,
                o.latency.max_ms, o.max_send_lag_ms, opt(o.server_cpu_us_per_request, 0),
                opt(o.ceiling.ceiling_ratio, 2),
                match (o.ceiling.ceiling_before_us, o.ceiling.ceiling_after_us) {
                    (Some(b), Some(a)) => format!(", ceiling {b:.0} us before, {a:.0} us after"),
                    _ => String::new(),
                },
            );
            let _ = writeln!(s, "  codes: {}{}", o.replies.codes_text(), open_warnings(o));
        }
        for skipped in &self.skipped {
            let _ = writeln!(s, "\n{skipped}");
        }
        s
    }
    /// The closed-loop runs and their summary, when the bench ran any: a fixed `--rate R` runs
    /// none, and its report shows its open-loop runs alone rather than an empty table.
    fn closed_loop_table(&self, s: &mut String) {
        if self.runs.is_empty() {
            return;
        }
        let opt =
            |v: Option<f64>, digits: usize| v.map_or("-".to_owned(), |v| format!("{v:.digits$}"));
        let kib =
            |v: Option<u64>| v.map_or("-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        let _ = writeln!(
            s,
            "\n{:<9} {:>5} {:>3} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6} {:>6} {:>10}",
            "target", "ptnrs", "#", "requests", "ok", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
            "cpu us/rq", "cores", "ratio", "RSS max"
        );
        for r in &self.runs {
            let _ = writeln!(
                s,
                "{:<9} {:>5} {:>3} {:>8} {:>8} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>6} {:>6} {:>10}",
                r.target, r.partners, r.repeat, r.requests, r.ok, r.throughput_rps, r.latency.p50_ms,
                r.latency.p90_ms, r.latency.p99_ms, r.latency.max_ms,
                opt(r.server_cpu_us_per_request, 0), opt(r.server_cores_busy, 2),
                opt(r.ceiling.ceiling_ratio, 2), kib(r.server_rss_max_kib)
            );
            let mut notes = format!("    codes: {}", r.replies.codes_text());
            if let (Some(b), Some(a), Some(d)) = (
                r.ceiling.ceiling_before_us,
                r.ceiling.ceiling_after_us,
                r.ceiling.ceiling_drift,
            ) {
                let flag = if r.ceiling.unstable { " UNSTABLE" } else { "" };
                let slices = &r.ceiling.ceiling_slices_us;
                if slices.len() > 2 {
                    let each: Vec<String> = slices.iter().map(|us| format!("{us:.0}")).collect();
                    let _ = write!(
                        notes,
                        " | ceiling slices {} us (largest step {:.1}%){flag}",
                        each.join(" / "),
                        d * 100.0
                    );
                } else {
                    let _ = write!(
                        notes,
                        " | ceiling {b:.0} us before, {a:.0} us after (drift {:.1}%){flag}",
                        d * 100.0
                    );
                }
            }
            if r.replies.verified_replies > 0 {
                let _ = write!(
                    notes,
                    " | replies fully verified: {}",
                    r.replies.verified_replies
                );
            }
            if r.replies.head_only_replies > 0 {
                let _ = write!(
                    notes,
                    " | head-only replies (signature verified, no body): {}",
                    r.replies.head_only_replies
                );
            }
            notes.push_str(&run_warnings(r));
            for e in &r.replies.verify_errors {
                let _ = write!(notes, "\n    verify error: {e}");
            }
            for refused in &r.replies.refused_replies {
                let _ = write!(notes, "\n    refused: {refused}");
            }
            let _ = writeln!(s, "{notes}");
        }
        let _ = writeln!(
            s,
            "\nsummary (best of repeats; spread = (best - worst) / best):"
        );
        for m in &self.summary {
            if m.best_rps <= 0.0 && m.unanswered > 0 {
                let _ = writeln!(
                    s,
                    "  {:<9} {:>3} partners: NO REQUEST WAS ANSWERED ({} could not connect or lost \
                     their connection): no rate or latency to report{}",
                    m.target,
                    m.partners,
                    m.unanswered,
                    summary_warnings(m)
                );
                continue;
            }
            let _ = writeln!(
                s,
                "  {:<9} {:>3} partners: {:>9.1} req/s (spread {:>4.0}%), p50 {:.2} ms, p99 {:.2} ms{}{}{}",
                m.target, m.partners, m.best_rps, m.spread * 100.0, m.best_p50_ms, m.best_p99_ms,
                match (m.median_ceiling_ratio, m.ratio_spread) {
                    (Some(r), Some(sp)) => format!(
                        ", ratio to ceiling {r:.2} (median; spread ±{:.1}%{})",
                        sp * 100.0,
                        if m.unstable_runs > 0 {
                            format!(", {} unstable runs left out", m.unstable_runs)
                        } else {
                            String::new()
                        }
                    ),
                    _ => String::new(),
                },
                m.vs_echo.map_or(String::new(), |r| format!(", {r:.2} of the echo server")),
                summary_warnings(m),
            );
            if let (Some(share), Some(sp)) = (m.median_crypto_share, m.crypto_share_spread) {
                let _ = writeln!(
                    s,
                    "  {:<9} {:>3} partners: crypto {:.1}% of server CPU (median, by the server's \
                     own count; spread ±{:.1}%)",
                    m.target,
                    m.partners,
                    share * 100.0,
                    sp * 100.0
                );
            }
        }
    }
}

/// What makes a closed-loop run short of its load, for its line of the table: requests that
/// got no answer (left out of its rate and latencies), a pool of sealed requests that ran out.
fn run_warnings(r: &RunReport) -> String {
    let mut out = String::new();
    let unanswered = r.requests - r.answered;
    if unanswered > 0 {
        let _ = write!(
            out,
            " | {unanswered} of {} requests got no answer (not in req/s or latency)",
            r.requests
        );
    }
    if r.pool_exhausted {
        let _ = write!(
            out,
            " | THE POOL OF SEALED REQUESTS RAN OUT after {}: the run stopped short of the load \
             asked for (raise --pool)",
            r.requests
        );
    }
    out
}

/// The same for a level's summary line.
fn summary_warnings(m: &Summary) -> String {
    let mut out = String::new();
    if m.unanswered > 0 && m.best_rps > 0.0 {
        let _ = write!(out, "; {} requests got no answer", m.unanswered);
    }
    if m.pool_exhausted {
        out.push_str("; THE POOL OF SEALED REQUESTS RAN OUT: short of the load asked for");
    }
    out
}

/// The same for an open-loop run.
fn open_warnings(o: &OpenLoopReport) -> String {
    let mut out = String::new();
    if o.completed == 0 && o.sent > 0 {
        out.push_str(" | NO REQUEST WAS ANSWERED: the latencies and rate above are empty");
    }
    if o.unanswered > 0 {
        let _ = write!(
            out,
            " | {} of {} sent got no answer (not in the latencies)",
            o.unanswered, o.sent
        );
    }
    if o.pool_exhausted {
        out.push_str(" | THE POOL OF SEALED REQUESTS RAN OUT before the schedule's end");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_line_counts_each_code_in_order() {
        let replies = Replies {
            codes: BTreeMap::from([("SYS-005".to_owned(), 1), ("SUCCESS".to_owned(), 3)]),
            ..Replies::default()
        };
        assert_eq!(replies.codes_text(), "SUCCESS=3 SYS-005=1");
        assert_eq!(Replies::default().codes_text(), "");
    }

    fn run(ratio: f64, unstable: bool) -> RunReport {
        let mut r = RunReport::new(
            "simulator",
            8,
            1,
            Outcome::default(),
            None,
            None,
            None,
            None,
        );
        r.ceiling.ceiling_ratio = Some(ratio);
        r.ceiling.unstable = unstable;
        r
    }

    #[test]
    fn the_median_and_spread_leave_unstable_runs_out() {
        let runs = [
            run(0.90, false),
            run(1.00, false),
            run(0.95, false),
            run(0.40, true),
        ];
        let r = Ratios::of(runs.iter());
        assert_eq!(r.median, Some(0.95));
        assert_eq!(r.unstable, 1);
        let spread = r.spread.unwrap();
        assert!((spread - 0.05 / 0.95).abs() < 1e-9, "{spread}");
        // When every run was unstable, they are all that is left to report.
        let all_unstable = [run(0.5, true), run(0.7, true)];
        assert_eq!(Ratios::of(all_unstable.iter()).median, Some(0.6));
        assert_eq!(median(&[]), None);
    }

    /// The ceiling fields stand at the top level of a run's JSON, after the generator's CPU, in
    /// the order the performance document's script reads them.
    #[test]
    fn a_runs_ceiling_fields_stay_at_the_top_level() {
        let json = serde_json::to_value(run(0.9, true)).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let tail = &keys[keys.len() - 7..];
        assert_eq!(
            tail,
            [
                "generator_cpu_s",
                "ceiling_ratio",
                "ceiling_before_us",
                "ceiling_after_us",
                "ceiling_slices_us",
                "ceiling_drift",
                "unstable"
            ]
        );
        assert_eq!(json["ceiling_ratio"], 0.9);
        assert_eq!(json["unstable"], true);
        assert!(json["ceiling_drift"].is_null());
    }

    /// A request without an answer counts in `requests` and under its error, not in the rate,
    /// the latencies or the CPU per request; the table says how many got none.
    #[test]
    fn unanswered_requests_are_counted_but_not_timed() {
        let mut outcome = Outcome {
            elapsed: std::time::Duration::from_secs(2),
            ..Outcome::default()
        };
        outcome.answered(4000, "SUCCESS".into());
        outcome.ok += 1;
        outcome.unanswered("connect: refused");
        outcome.unanswered("connect: refused");
        let r = RunReport::new("simulator", 1, 1, outcome, Some(0.001), None, None, None);
        assert_eq!((r.requests, r.answered, r.ok), (3, 1, 1));
        assert_eq!(r.throughput_rps, 0.5);
        assert_eq!(r.latency.max_ms, 4.0);
        assert_eq!(r.server_cpu_us_per_request, Some(1000.0));
        assert_eq!(r.replies.codes["transport: connect: refused"], 2);
        assert!(run_warnings(&r).contains("2 of 3 requests got no answer"));
    }

    /// A bench is complete only when every run made its whole load: a run whose pool ran out
    /// is not, even when every request it sent succeeded, nor is a skipped open-loop level.
    #[test]
    fn a_run_short_of_its_load_is_not_complete() {
        let mut outcome = Outcome::default();
        outcome.answered(1000, "SUCCESS".into());
        outcome.ok = 1;
        let mut report = Report {
            version: "test",
            backend: String::new(),
            optimized: false,
            surface: "whalet".into(),
            url: String::new(),
            path: String::new(),
            cores: 1,
            server_pid: None,
            server_startup_ms: None,
            server_rss_idle_kib: None,
            echo_rss_idle_kib: None,
            ceiling: None,
            runs: vec![RunReport::new(
                "simulator",
                1,
                1,
                outcome,
                None,
                None,
                None,
                None,
            )],
            summary: Vec::new(),
            open_loop: Vec::new(),
            skipped: Vec::new(),
        };
        assert!(report.complete());
        report.skipped.push("open loop, 1 partners: not run".into());
        assert!(!report.complete());
        report.skipped.clear();
        report.runs[0].pool_exhausted = true;
        assert!(!report.complete());
        report.summarise();
        assert!(report.summary[0].pool_exhausted);
        assert!(report
            .table()
            .contains("POOL OF SEALED REQUESTS RAN OUT: short of the load"));
        // Regression: a reply that verified but refused the request was listed as a "verify
        // error"; it is a refusal, and is named one (the report's JSON keeps them apart too).
        report.runs[0].pool_exhausted = false;
        report.runs[0].replies.refused_replies =
            vec!["reply R1: INTERFACE_UNAUTHORIZED nope is not an apiCode".into()];
        assert!(!report.complete());
        let table = report.table();
        assert!(
            table.contains("\n    refused: reply R1: INTERFACE_UNAUTHORIZED nope"),
            "{table}"
        );
        assert!(!table.contains("verify error"), "{table}");
        let json = serde_json::to_value(&report.runs[0]).unwrap();
        assert_eq!(json["verify_errors"], serde_json::json!([]));
        assert_eq!(
            json["refused_replies"][0],
            "reply R1: INTERFACE_UNAUTHORIZED nope is not an apiCode"
        );
        report.runs[0].replies.refused_replies.clear();
        // A fixed --rate runs no closed loop: no empty table of runs, nor an empty summary.
        report.runs.clear();
        report.summarise();
        let table = report.table();
        assert!(
            !table.contains("ptnrs") && !table.contains("summary"),
            "{table}"
        );
    }
}
