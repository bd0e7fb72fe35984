//! `whalet-sim bench`: a load generator that plays N concurrent partners against a running (or
//! spawned) simulator with real, distinct, correctly signed requests, and reports throughput,
//! latency percentiles, result codes, the server's CPU time per request and memory, next to the
//! crypto ceiling of this build and, optionally, an echo server (the simulator's own HTTP edge
//! answering with the body) measured in the same run.
//!
//! Boundary: this module only plays partners and reads `/proc`; it never reaches into the server.
//! It speaks HTTP through bare hyper client connections (cheaper per request than the pooled
//! `http::client`, so the generator steals less CPU from a server on the same machine).

mod args;
mod ceiling;
mod load;
mod notify;
mod open;
mod report;
mod requests;
pub(crate) mod server;

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::wire::keys::{demo, PrivateKey, PublicKey};
use crate::wire::whalet::Code;
use args::Rate;
use load::Limits;
use report::{CeilingCheck, Latency, OpenLoopReport, Report, RunReport};
use requests::{Judge, Opener, Plan, Pool};

pub use args::BenchArgs;
pub use ceiling::{measure as measure_ceiling, Ceiling};

/// Which surface's requests to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Surface {
    /// Whalet Open API envelope (RSA + AES), `POST /api`, apiCode `connectivity` by default.
    Whalet,
    /// Pockyt v3 (MD5 `verifySign`), `POST /v3/payouts/balance` by default.
    Pockyt,
    /// Infinia Pay (RSA blocks + SHA256withRSA), `POST /api/v1/account-balance/query` by default.
    Infinia,
    /// whalet-platform (the Whalet envelope), `POST /v1/platform/{apiCode}`, apiCode
    /// `balanceQuery` and body `{}` by default.
    Platform,
    /// One fixed request repeated (`GET /__sim/health` by default).
    Raw,
}

/// What a bench run has to show: its report (the JSON or the table, as it goes on stdout) and
/// whether every request succeeded and every notification arrived. The command line prints it
/// and picks the exit code from it.
#[derive(Debug)]
pub struct Finished {
    pub report: String,
    pub complete: bool,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<Finished> {
    if let Some(addr) = args.echo_server {
        server::echo_server(addr).await?;
        return Ok(Finished {
            report: String::new(),
            complete: true,
        });
    }
    if let Some(n) = args.notifications {
        return notifications(&args, n).await;
    }
    let duration = args.duration;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rate = args.rate;
    let plan = plan(&args)?;
    // The sample request an Infinia ceiling decrypts (its blocks decide the cost).
    let sample = plan.sealer.as_ref().map(|sealer| sealer.seal(0, 0));
    let ceiling_now = |each: Duration| -> anyhow::Result<Option<Ceiling>> {
        let (Some(sample), false) = (&sample, args.no_ceiling) else {
            return Ok(None);
        };
        let scheme = match &plan.opener {
            Some(Opener::Infinia { alg, .. }) => ceiling::Scheme::Infinia { sample, alg: *alg },
            _ => ceiling::Scheme::Whalet,
        };
        Ok(Some(ceiling::measure_on(
            each,
            scheme,
            args.ceiling_threads,
        )?))
    };
    if !args.no_ceiling && sample.is_some() {
        say!("measuring the crypto ceiling of this build...");
    }
    let mut ceiling = ceiling_now(args.ceiling_time)?;
    let slice = (!args.ceiling_slice.is_zero()).then_some(args.ceiling_slice);
    let spawned = if args.spawn_server {
        let mut serve = vec![
            "serve".to_owned(),
            "--addr".to_owned(),
            "{addr}".to_owned(),
            "--quiet-after-ready".to_owned(),
        ];
        // The server counts its crypto; a `--server-arg=--account-crypto=N` sets how finely.
        if !args
            .server_args
            .iter()
            .any(|a| a == "--account-crypto" || a.starts_with("--account-crypto="))
        {
            serve.push("--account-crypto".to_owned());
        }
        serve.extend(args.server_args.iter().cloned());
        Some(server::spawn_self(&serve, "/__sim/health", &args.server_log).await?)
    } else {
        None
    };
    let addr = match &spawned {
        Some(s) => s.addr,
        None => resolve(&args.url)?,
    };
    // The spawned server is the one measured (`--server-pid` names a running one, and is
    // refused with `--spawn-server`).
    if let (None, Some(pid)) = (&spawned, args.server_pid) {
        let exe = std::env::current_exe().ok();
        match server::check_server_pid(pid, addr.port(), exe.as_deref()) {
            Ok(None) => {}
            Ok(Some(doubt)) => say!("warning: {doubt}"),
            Err(why) => anyhow::bail!(why),
        }
    }
    let pid = spawned
        .as_ref()
        .map(|s| s.child.id())
        .or(args.server_pid)
        .or_else(|| server::pid_listening_on(addr.port()));
    let echo = if args.echo_baseline {
        let serve = vec![
            "bench".to_owned(),
            "--echo-server".to_owned(),
            "{addr}".to_owned(),
        ];
        Some(server::spawn_self(&serve, "/", &args.server_log).await?)
    } else {
        None
    };
    let mut report = Report {
        version: env!("CARGO_PKG_VERSION"),
        backend: crate::wire::crypto::backend(),
        optimized: !cfg!(debug_assertions),
        surface: format!("{:?}", args.surface).to_lowercase(),
        url: format!("http://{addr}"),
        path: plan.path.clone(),
        cores,
        server_pid: pid,
        server_startup_ms: spawned.as_ref().map(|s| s.startup.as_secs_f64() * 1000.0),
        server_rss_idle_kib: pid.and_then(server::rss_kib),
        echo_rss_idle_kib: echo.as_ref().and_then(|e| server::rss_kib(e.child.id())),
        ceiling: None,
        runs: Vec::new(),
        summary: Vec::new(),
        open_loop: Vec::new(),
        skipped: Vec::new(),
    };
    let limits = Limits {
        duration: args.requests.is_none().then_some(duration),
        requests: args.requests,
    };
    // Sealed requests a run did not use are still unused requestNos: the next run starts with them.
    let mut leftover: Vec<Bytes> = Vec::new();
    let closed_levels: &[usize] = match rate {
        Some(Rate::Fixed(_)) => &[],
        _ => &args.partners,
    };
    // Segments only where there is a ceiling to slice and a duration to cut.
    let segments = match (slice, &sample, args.no_ceiling, limits.duration) {
        (Some(_), Some(_), false, Some(_)) => args.segments.max(1),
        _ => 1,
    };
    let segment_limits = Limits {
        duration: limits.duration.map(|d| d / segments),
        ..limits
    };
    for &partners in closed_levels {
        for repeat in 1..=args.repeat {
            for attempt in 0..=args.drift_retries {
                let plan = with_pool(
                    &args,
                    &plan,
                    ceiling.as_ref(),
                    cores,
                    duration,
                    None,
                    &mut leftover,
                );
                // The run in segments, a ceiling slice before each and after the last: the
                // ratio follows the machine's speed through the run, not only at its ends.
                let mut plan = plan;
                let mut slices: Vec<Ceiling> = Vec::new();
                slices.extend(slice.map(&ceiling_now).transpose()?.flatten());
                let mut served = Vec::with_capacity(segments as usize);
                let mut segment_cpu = Vec::with_capacity(segments as usize);
                let mut run: Option<Measured> = None;
                for _ in 0..segments {
                    let part = measured(
                        addr,
                        pid,
                        plan.clone(),
                        partners,
                        segment_limits,
                        repeat,
                        "simulator",
                    )
                    .await;
                    slices.extend(slice.map(&ceiling_now).transpose()?.flatten());
                    served.push(part.outcome.latencies_us.len() as u64);
                    segment_cpu.push(part.cpu);
                    if let Pool::Sealed(all) = &plan.pool {
                        leftover = unused(all, part.outcome.consumed);
                        plan.pool = Pool::Sealed(Arc::new(leftover.clone()));
                    }
                    run = Some(match run {
                        Some(mut whole) => {
                            whole.absorb(part);
                            whole
                        }
                        None => part,
                    });
                }
                let Some(run) = run else {
                    anyhow::bail!("no segment ran");
                };
                let blocks = run.outcome.reply_blocks;
                let interleaved = Interleaved::new(slices, &served, blocks, args.max_drift);
                if let (Some(c), Some(blocks)) = (ceiling.as_mut(), blocks) {
                    c.set_reply_blocks(blocks);
                }
                let mut record = run.finish(interleaved.mean.as_ref().or(ceiling.as_ref()));
                interleaved.annotate(&mut record);
                if segments > 1 {
                    record.ceiling.segment_requests = served;
                    record.ceiling.segment_server_cpu_s = segment_cpu;
                }
                let unstable = record.ceiling.unstable;
                report.runs.push(record);
                if let Some(echo) = &echo {
                    let mut plan = plan;
                    plan.judge = Judge::Status;
                    plan.success = vec!["HTTP 200".into()];
                    plan.opener = None;
                    let run = measured(
                        echo.addr,
                        Some(echo.child.id()),
                        plan,
                        partners,
                        limits,
                        repeat,
                        "echo",
                    )
                    .await;
                    report.runs.push(run.finish(None));
                }
                if !unstable {
                    break;
                }
                if attempt < args.drift_retries {
                    say!(
                        "the crypto ceiling moved more than {:.0}% between two neighbouring slices \
                         (the machine changed speed within a segment); repeating the run",
                        args.max_drift * 100.0
                    );
                }
            }
        }
    }
    if let Some(rate) = rate {
        for &partners in &args.partners {
            let (mode, max, per_sec) = open_rate(rate, &report.runs, partners);
            if per_sec <= 0.0 {
                report.skipped.push(format!(
                    "open loop, {partners} partners: not run: no closed-loop request was \
                     answered, so there is no rate to take half of"
                ));
                continue;
            }
            let schedule = open::Schedule {
                rate: per_sec,
                duration,
                max_in_flight: args.max_in_flight,
                connections: partners,
                grace: duration.clamp(Duration::from_secs(1), Duration::from_secs(10)),
            };
            // Exactly the schedule: the run takes no request beyond it.
            let count = schedule.total();
            let plan = with_pool(
                &args,
                &plan,
                ceiling.as_ref(),
                cores,
                duration,
                Some(count),
                &mut leftover,
            );
            let sealed = match &plan.pool {
                Pool::Sealed(all) => Some(all.clone()),
                _ => None,
            };
            say!("open loop: {per_sec:.1} req/s for {duration:?}, {partners} connections...");
            let before = slice.map(&ceiling_now).transpose()?.flatten();
            let reading = server::read(addr, pid).await;
            let out = open::run(addr, plan, schedule).await;
            let cpu = server::read(addr, pid).await.cpu_s_since(&reading);
            let after = slice.map(&ceiling_now).transpose()?.flatten();
            if let Some(all) = sealed {
                leftover = unused(&all, out.replies.consumed);
            }
            let interleaved =
                Interleaved::around(before, after, out.replies.reply_blocks, args.max_drift);
            report.open_loop.push(open_report(
                out,
                schedule,
                partners,
                (mode, max),
                cpu,
                interleaved.mean.as_ref().or(ceiling.as_ref()),
                &interleaved,
            ));
        }
    }
    report.ceiling = ceiling;
    report.summarise();
    let complete = report.complete();
    let report = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        report.table()
    };
    Ok(Finished { report, complete })
}

/// The open-loop rate of one `--partners` level: `--rate R` (`fixed`), or half of the best
/// closed-loop rate of answers at the same level (`half`; the stable runs', unless none was
/// stable), 0 when no request was answered. Returns the mode, the closed-loop maximum and the
/// rate.
fn open_rate(rate: Rate, runs: &[RunReport], partners: usize) -> (&'static str, Option<f64>, f64) {
    match rate {
        Rate::Fixed(r) => ("fixed", None, r),
        Rate::Half => {
            let level = || {
                runs.iter()
                    .filter(move |r| r.target == "simulator" && r.partners == partners)
            };
            let max = level()
                .filter(|r| !r.ceiling.unstable)
                .map(|r| r.throughput_rps)
                .reduce(f64::max)
                .or_else(|| level().map(|r| r.throughput_rps).reduce(f64::max))
                .unwrap_or(0.0);
            ("half", Some(max), max / 2.0)
        }
    }
}

/// `--notifications N`: each destination level in turn, then the report.
async fn notifications(args: &BenchArgs, n: u64) -> anyhow::Result<Finished> {
    // `--no-ceiling` measures no crypto at all; `--ceiling-slice 0` keeps the ceiling measured
    // once at the start, which every level's ratio is then taken against.
    let slice = (!args.no_ceiling && !args.ceiling_slice.is_zero()).then_some(args.ceiling_slice);
    let ceiling = if args.no_ceiling {
        None
    } else {
        Some(ceiling::measure_on(
            args.ceiling_time,
            ceiling::Scheme::Notification,
            args.ceiling_threads,
        )?)
    };
    let mut runs = Vec::new();
    for &d in &args.destinations {
        say!("notifications: {n} to {d} destinations...");
        let burst = args.burst.unwrap_or_else(|| notify::default_burst(n, d));
        let warm_up = args
            .warm_up
            .unwrap_or(crate::notify::DEFAULT_CONCURRENCY as u64);
        runs.push(
            notify::run(
                n,
                d,
                (burst, warm_up),
                (slice, ceiling.as_ref()),
                args.ceiling_threads,
                &args.server_log,
            )
            .await?,
        );
    }
    let report = if args.json {
        let json = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "backend": crate::wire::crypto::backend(),
            "optimized": !cfg!(debug_assertions),
            "ceiling": ceiling,
            "notifications": runs,
        });
        format!("{}\n", serde_json::to_string_pretty(&json)?)
    } else {
        notify::table(&runs, ceiling.as_ref())
    };
    let complete = runs.iter().all(|r| r.delivered >= r.notifications);
    Ok(Finished { report, complete })
}

fn resolve(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = args::after_http(url)
        .ok_or_else(|| anyhow::anyhow!("--url must start with http:// (got `{url}`)"))?;
    let host = rest.split('/').next().unwrap_or(rest);
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:80")
    };
    host.to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow::anyhow!("cannot resolve {host}"))
}

fn plan(args: &BenchArgs) -> anyhow::Result<Plan> {
    let default_path = match args.surface {
        Surface::Whalet => "/api",
        Surface::Pockyt => "/v3/payouts/balance",
        Surface::Infinia => "/api/v1/account-balance/query",
        Surface::Platform => "/v1/platform/",
        Surface::Raw => "/__sim/health",
    };
    let api_code = args.api_code.clone().unwrap_or_else(|| {
        match args.surface {
            Surface::Platform => "balanceQuery",
            _ => "connectivity",
        }
        .to_owned()
    });
    let path = args.path.clone().unwrap_or_else(|| match args.surface {
        Surface::Platform => format!("{default_path}{api_code}"),
        _ => default_path.to_owned(),
    });
    let json = "application/json;charset=UTF-8";
    Ok(match args.surface {
        Surface::Whalet | Surface::Platform => {
            let (key, platform) = keys(args, demo::PARTNER_PRIVATE, demo::PLATFORM_PUBLIC)?;
            let body = match (&args.data, args.surface) {
                (Some(data), _) => data.clone(),
                (None, Surface::Platform) => serde_json::json!({}),
                (None, _) => requests::default_whalet_body(),
            };
            Plan {
                method: hyper::Method::POST,
                path,
                content_type: json,
                pool: Pool::Repeat(Bytes::new()),
                judge: Judge::WhaletHead,
                // An accepted request, as `call` reads it: asynchronous operations answer
                // PROCESSING (docs/CLI.md, exit 0).
                success: [Code::Success, Code::Processing]
                    .map(|c| c.as_str().to_owned())
                    .to_vec(),
                opener: Some(Opener::Whalet {
                    key: key.clone(),
                    platform: platform.clone(),
                }),
                sealer: Some(Arc::new(requests::WhaletPartner {
                    partner_id: args.partner_id.clone(),
                    key,
                    platform_public: platform,
                    api_code,
                    body,
                })),
            }
        }
        Surface::Infinia => {
            let (key, infinia) = keys(args, demo::INFINIA_MERCHANT_PRIVATE, demo::INFINIA_PUBLIC)?;
            let alg = args.infinia_alg;
            let body = match &args.data {
                Some(data) => data.clone(),
                None => serde_json::json!({"currency": "USD"}),
            };
            Plan {
                method: hyper::Method::POST,
                path,
                content_type: json,
                pool: Pool::Repeat(Bytes::new()),
                judge: Judge::InfiniaCode,
                success: vec![crate::wire::infinia::Code::Success.as_str().to_owned()],
                opener: Some(Opener::Infinia {
                    key: key.clone(),
                    infinia: infinia.clone(),
                    alg,
                }),
                sealer: Some(Arc::new(requests::InfiniaMerchant {
                    app_id: args.app_id.clone(),
                    version: "1.0".into(),
                    key,
                    infinia_public: infinia,
                    alg,
                    body,
                })),
            }
        }
        Surface::Pockyt => {
            let params: BTreeMap<String, String> = args.params.iter().cloned().collect();
            let merchant = requests::PockytMerchant {
                merchant_no: args.merchant_no.clone(),
                store_no: args.store_no.clone(),
                token: args.token.clone(),
                params,
            };
            Plan {
                method: hyper::Method::POST,
                path,
                content_type: "application/json",
                pool: Pool::Generated(Arc::new(move |i| merchant.body(i))),
                judge: Judge::RetCode,
                success: vec!["000100".into()],
                opener: None,
                sealer: None,
            }
        }
        Surface::Raw => Plan {
            method: args.method.clone(),
            path,
            content_type: json,
            pool: Pool::Repeat(Bytes::new()),
            judge: Judge::Status,
            success: vec!["HTTP 200".into()],
            opener: None,
            sealer: None,
        },
    })
}

fn keys(
    args: &BenchArgs,
    own_default: &str,
    provider_default: &str,
) -> anyhow::Result<(PrivateKey, PublicKey)> {
    let key = crate::config::key_flags::key_flag("key", args.key.as_deref(), own_default)?;
    let provider = crate::config::key_flags::key_flag(
        "platform-key",
        args.platform_key.as_deref(),
        provider_default,
    )?;
    Ok((key, provider))
}

/// Envelope schemes: seals a fresh pool of distinct requests for one run (outside the timed
/// window), [`pool_size`] of them.
fn with_pool(
    args: &BenchArgs,
    plan: &Plan,
    ceiling: Option<&Ceiling>,
    cores: usize,
    duration: Duration,
    exactly: Option<u64>,
    leftover: &mut Vec<Bytes>,
) -> Plan {
    let Some(sealer) = plan.sealer.clone() else {
        return plan.clone();
    };
    let per_core = ceiling.map(|c| c.requests_per_sec_per_core);
    let count = pool_size(
        exactly.or(args.pool.map(|n| n as u64)).or(args.requests),
        per_core,
        cores,
        duration,
    );
    let fresh = count.saturating_sub(leftover.len());
    say!(
        "sealing {fresh} distinct requests (untimed; {} left from the previous run)...",
        leftover.len()
    );
    let mut sealed = std::mem::take(leftover);
    sealed.extend(requests::seal_all(sealer.as_ref(), fresh, cores));
    let mut plan = plan.clone();
    plan.pool = Pool::Sealed(Arc::new(sealed));
    plan
}

/// The sealed requests of `all` that a run which took the first `consumed` of them left unused
/// (none when it took them all, or claims to have taken more).
fn unused(all: &[Bytes], consumed: u64) -> Vec<Bytes> {
    let used = usize::try_from(consumed).unwrap_or(usize::MAX);
    all.get(used..).map(<[Bytes]>::to_vec).unwrap_or_default()
}

/// How many requests to seal for one run: `wanted` (an open loop's schedule, `--pool` or
/// `--requests`), else enough for the ceiling (2,000 requests/s a core without one) × cores ×
/// duration with 30 % to spare; never more than [`args::MAX_POOL`]. The flags are checked
/// against that bound; a default pool or a `--rate half` schedule over it is cut, and says so
/// (a run that uses the pool up stops there and exits 5).
fn pool_size(
    wanted: Option<u64>,
    per_core: Option<f64>,
    cores: usize,
    duration: Duration,
) -> usize {
    let wanted = wanted.map_or_else(
        || per_core.unwrap_or(2000.0) * cores as f64 * duration.as_secs_f64() * 1.3 + 200.0,
        |n| n as f64,
    );
    if wanted <= args::MAX_POOL as f64 {
        return wanted as usize;
    }
    say!(
        "a run would take {wanted:.0} sealed requests; sealing at most {} (a run that uses them \
         up stops there)",
        args::MAX_POOL
    );
    args::MAX_POOL
}

/// The report of one open-loop run.
fn open_report(
    mut out: open::OpenOutcome,
    schedule: open::Schedule,
    partners: usize,
    (rate_mode, closed_loop_max_rps): (&'static str, Option<f64>),
    server_cpu_s: Option<f64>,
    ceiling: Option<&Ceiling>,
    interleaved: &Interleaved,
) -> OpenLoopReport {
    let completed = out.replies.latencies_us.len() as u64;
    let (unanswered, pool_exhausted) = (out.replies.unanswered, out.replies.pool_exhausted);
    let elapsed = out.elapsed.as_secs_f64().max(1e-9);
    // Over the schedule's length, or longer when the last reply came after it ended: a schedule
    // sends its last request 1/rate before its end, so its replies alone would overstate it.
    let window = elapsed.max(schedule.duration.as_secs_f64());
    let per_request = report::us_each(server_cpu_s, completed);
    let replies = report::Replies::take(&mut out.replies);
    OpenLoopReport {
        target: "simulator",
        partners,
        rate_mode,
        closed_loop_max_rps,
        target_rate_rps: schedule.rate,
        duration_s: schedule.duration.as_secs_f64(),
        scheduled: out.scheduled,
        sent: out.sent,
        dropped: out.dropped,
        unfinished: out.unfinished,
        unanswered,
        completed,
        ok: out.replies.ok,
        achieved_rps: completed as f64 / window,
        max_in_flight: schedule.max_in_flight,
        peak_in_flight: out.peak_in_flight,
        connections: out.connections,
        max_send_lag_ms: out.max_send_lag.as_secs_f64() * 1000.0,
        latency: Latency::of(out.replies.latencies_us),
        replies,
        pool_exhausted,
        server_cpu_us_per_request: per_request,
        server_cores_busy: server_cpu_s.map(|cpu| cpu / elapsed),
        ceiling: interleaved
            .check(ceiling.and_then(|c| report::ratio_to(c.us_per_request, per_request))),
    }
}

/// The ceiling slices measured around one run: right before it, between its segments and right
/// after it.
struct Interleaved {
    /// Crypto microseconds per request of each slice, in the order measured.
    slices_us: Vec<f64>,
    /// A ceiling whose cost per request is, for each segment, the mean of the two slices around
    /// it, weighted by the requests the segment served.
    mean: Option<Ceiling>,
    /// The largest drift between two neighbouring slices.
    drift: Option<f64>,
    unstable: bool,
}

impl Interleaved {
    /// `slices[i]` and `slices[i + 1]` stand around segment `i`, which served `served[i]`
    /// requests (a missing count is zero; all zero: the segments count alike). Fewer than two
    /// slices: nothing to compare, no ratio of its own.
    fn new(
        mut slices: Vec<Ceiling>,
        served: &[u64],
        reply_blocks: Option<usize>,
        max_drift: f64,
    ) -> Self {
        if slices.len() < 2 {
            return Self {
                slices_us: Vec::new(),
                mean: None,
                drift: None,
                unstable: false,
            };
        }
        if let Some(blocks) = reply_blocks {
            for slice in &mut slices {
                slice.set_reply_blocks(blocks);
            }
        }
        let segments: Vec<Ceiling> = slices.windows(2).map(|w| w[0].mean_with(&w[1])).collect();
        let weighted: Vec<(&Ceiling, f64)> = segments
            .iter()
            .enumerate()
            .map(|(i, c)| (c, served.get(i).copied().unwrap_or(0) as f64))
            .collect();
        let drift = slices
            .windows(2)
            .map(|w| drift(w[0].us_per_request, w[1].us_per_request))
            .fold(0.0, f64::max);
        Self {
            slices_us: slices.iter().map(|c| c.us_per_request).collect(),
            mean: Ceiling::weighted_mean(&weighted),
            drift: Some(drift),
            unstable: drift > max_drift,
        }
    }

    /// One slice right before and one right after a run that was not cut into segments.
    fn around(
        before: Option<Ceiling>,
        after: Option<Ceiling>,
        reply_blocks: Option<usize>,
        max_drift: f64,
    ) -> Self {
        let slices: Vec<Ceiling> = before.into_iter().chain(after).collect();
        Self::new(slices, &[1], reply_blocks, max_drift)
    }

    fn annotate(&self, run: &mut RunReport) {
        run.ceiling = self.check(run.ceiling.ceiling_ratio);
    }

    /// The run's standing against these slices, with its ratio.
    fn check(&self, ceiling_ratio: Option<f64>) -> CeilingCheck {
        CeilingCheck {
            ceiling_ratio,
            ceiling_before_us: self.slices_us.first().copied(),
            ceiling_after_us: self.slices_us.last().copied(),
            ceiling_slices_us: self.slices_us.clone(),
            ceiling_drift: self.drift,
            unstable: self.unstable,
            ..CeilingCheck::default()
        }
    }
}

/// |a - b| relative to their mean (0 when both are 0).
fn drift(a: f64, b: f64) -> f64 {
    let mean = (a + b) / 2.0;
    if mean > 0.0 {
        (a - b).abs() / mean
    } else {
        0.0
    }
}

/// A run with its server-side readings.
struct Measured {
    partners: usize,
    repeat: usize,
    target: &'static str,
    outcome: load::Outcome,
    cpu: Option<f64>,
    rss_max: Option<u64>,
    generator_cpu: Option<f64>,
    /// The server's own crypto CPU seconds (when it counts them, `serve --account-crypto`).
    crypto_cpu: Option<f64>,
}

impl Measured {
    /// Adds a later segment of the same run.
    fn absorb(&mut self, later: Measured) {
        self.outcome.absorb(later.outcome);
        let sum = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a + b);
        self.cpu = sum(self.cpu, later.cpu);
        self.generator_cpu = sum(self.generator_cpu, later.generator_cpu);
        self.crypto_cpu = sum(self.crypto_cpu, later.crypto_cpu);
        self.rss_max = self.rss_max.max(later.rss_max);
    }

    fn finish(self, ceiling: Option<&Ceiling>) -> RunReport {
        RunReport::new(
            self.target,
            self.partners,
            self.repeat,
            self.outcome,
            self.cpu,
            self.rss_max,
            self.generator_cpu,
            ceiling,
        )
        .with_crypto(self.crypto_cpu)
    }
}

async fn measured(
    addr: SocketAddr,
    pid: Option<u32>,
    plan: Plan,
    partners: usize,
    limits: Limits,
    repeat: usize,
    target: &'static str,
) -> Measured {
    say!("{target}: {partners} partners, run {repeat}...");
    let me = std::process::id();
    let reading = server::read(addr, pid).await;
    let gen_before = server::cpu_seconds(me);
    let done = Arc::new(AtomicBool::new(false));
    let rss_max = Arc::new(AtomicU64::new(0));
    let sampler = pid.map(|pid| {
        let (done, rss_max) = (done.clone(), rss_max.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = server::rss_kib(pid) {
                    rss_max.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    });
    let outcome = load::run(addr, plan, partners, limits).await;
    done.store(true, Ordering::Relaxed);
    if let Some(s) = sampler {
        let _ = s.await;
    }
    let generator_cpu = match (gen_before, server::cpu_seconds(me)) {
        (Some(a), Some(b)) if pid != Some(me) => Some(b - a),
        _ => None,
    };
    let later = server::read(addr, pid).await;
    let cpu = later.cpu_s_since(&reading);
    let crypto_cpu = later.crypto_s_since(&reading);
    let rss = rss_max.load(Ordering::Relaxed);
    Measured {
        partners,
        repeat,
        target,
        outcome,
        cpu,
        rss_max: (rss > 0).then_some(rss),
        generator_cpu,
        crypto_cpu,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::crypto::SignatureHash;

    /// The ceiling measured on two threads at once reports both and averages their times.
    #[test]
    fn a_ceiling_measured_on_every_core_says_so() {
        let each = Duration::from_millis(5);
        let two = ceiling::measure_on(each, ceiling::Scheme::Notification, 2).unwrap();
        assert_eq!(two.threads, 2);
        assert_eq!(two.ops.len(), 3);
        let sum: f64 = two
            .ops
            .iter()
            .map(|o| o.us_per_op * o.per_request as f64)
            .sum();
        assert!(two.us_per_request > 0.0 && (two.us_per_request - sum).abs() < 1e-6);
        let one = ceiling::measure_on(each, ceiling::Scheme::Notification, 1).unwrap();
        assert_eq!(one.threads, 1);
    }

    /// The pool is what was asked for, or enough for the ceiling over the duration with 30 %
    /// to spare; never more than `MAX_POOL`, whatever the numbers (no allocation the size of a
    /// user's number).
    #[test]
    fn the_sealed_pool_is_bounded() {
        let secs = Duration::from_secs;
        assert_eq!(pool_size(Some(5), None, 2, secs(10)), 5);
        assert_eq!(pool_size(None, Some(1000.0), 2, secs(10)), 26_200);
        assert_eq!(pool_size(None, None, 1, secs(1)), 2_800);
        let most = args::MAX_POOL;
        assert_eq!(pool_size(None, Some(1000.0), 64, args::MAX_DURATION), most);
        assert_eq!(pool_size(Some(u64::MAX), None, 2, secs(1)), most);
        assert_eq!(pool_size(None, Some(f64::INFINITY), 2, secs(1)), most);
        assert_eq!(pool_size(None, Some(f64::NAN), 2, secs(1)), most);
    }

    /// The next run starts with the sealed requests this one did not take, in their order; a
    /// run that took them all (or reports more) leaves none.
    #[test]
    fn the_unused_sealed_requests_are_the_ones_after_those_taken() {
        let all: Vec<Bytes> = ["a", "b", "c"].map(Bytes::from).to_vec();
        assert_eq!(unused(&all, 0), all);
        assert_eq!(unused(&all, 1), all[1..].to_vec());
        assert!(unused(&all, 3).is_empty());
        assert!(unused(&all, 4).is_empty());
        assert!(unused(&all, u64::MAX).is_empty());
    }

    /// A run whose before and after ceilings differ by more than the bound is flagged; its ratio
    /// is taken against the mean of the two slices.
    #[test]
    fn a_drifting_ceiling_flags_the_run_and_the_ratio_uses_the_mean() {
        let each = Duration::from_millis(5);
        let slow = ceiling::measure(each, ceiling::Scheme::Whalet).unwrap();
        let mut fast = slow.clone();
        for op in &mut fast.ops {
            op.us_per_op /= 2.0;
        }
        let fast = fast.mean_with(&fast);
        assert!((fast.us_per_request - slow.us_per_request / 2.0).abs() < 1e-6);
        assert!((drift(2.0, 1.0) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(drift(0.0, 0.0), 0.0);

        let i = Interleaved::around(Some(slow.clone()), Some(fast.clone()), None, 0.10);
        assert!(i.unstable);
        let mean = i.mean.as_ref().unwrap();
        let expected = (slow.us_per_request + fast.us_per_request) / 2.0;
        assert!((mean.us_per_request - expected).abs() < 1e-6);

        let steady = Interleaved::around(Some(slow.clone()), Some(slow.clone()), None, 0.10);
        assert!(!steady.unstable);
        assert_eq!(steady.drift, Some(0.0));
        let none = Interleaved::around(None, Some(slow), None, 0.10);
        assert!(!none.unstable && none.mean.is_none());
    }

    /// A run cut into segments counts each segment's requests against the two slices around it,
    /// and its drift is the largest step between neighbouring slices, not the first against the
    /// last.
    #[test]
    fn a_segmented_run_weighs_each_segment_by_its_requests() {
        let each = Duration::from_millis(5);
        let base = ceiling::measure(each, ceiling::Scheme::Whalet).unwrap();
        let scaled = |k: f64| {
            let mut c = base.clone();
            for op in &mut c.ops {
                op.us_per_op *= k;
            }
            c.mean_with(&c)
        };
        let us = base.us_per_request;
        // Slices at 1x, 1x, 1.5x: the first segment (300 requests) ran at 1x, the second (100
        // requests) between 1x and 1.5x.
        let i = Interleaved::new(
            vec![scaled(1.0), scaled(1.0), scaled(1.5)],
            &[300, 100],
            None,
            0.5,
        );
        let expected = (300.0 * us + 100.0 * 1.25 * us) / 400.0;
        let mean = i.mean.as_ref().unwrap();
        assert!((mean.us_per_request - expected).abs() < 1e-6 * us);
        assert_eq!(i.slices_us.len(), 3);
        assert!((i.drift.unwrap() - 0.4).abs() < 1e-9);
        assert!(!i.unstable);
        let report = i.check(Some(1.0));
        assert_eq!(report.ceiling_before_us, Some(i.slices_us[0]));
        assert_eq!(report.ceiling_after_us, Some(i.slices_us[2]));

        // A slow start and end around a fast middle: the ends agree, the steps do not.
        let dip = Interleaved::new(
            vec![scaled(1.0), scaled(0.5), scaled(1.0)],
            &[1, 1],
            None,
            0.5,
        );
        assert!(dip.unstable, "drift {:?}", dip.drift);
        // No requests served: the segments count alike.
        let idle = Interleaved::new(
            vec![scaled(1.0), scaled(2.0), scaled(3.0)],
            &[0, 0],
            None,
            9.0,
        );
        let mean = idle.mean.unwrap();
        assert!((mean.us_per_request - 2.0 * us).abs() < 1e-6 * us);
    }

    /// The achieved rate of an open loop is its replies over the schedule's length: a schedule
    /// sends its last request 1/rate before its end, so replies that all came early do not make
    /// it faster than scheduled; replies that came after the end count over the longer time.
    #[test]
    fn the_achieved_rate_is_taken_over_the_schedule() {
        let schedule = open::Schedule {
            rate: 2.0,
            duration: Duration::from_secs(1),
            max_in_flight: 10,
            connections: 1,
            grace: Duration::from_secs(1),
        };
        let achieved = |elapsed: Duration| {
            let mut out = open::OpenOutcome {
                scheduled: 2,
                sent: 2,
                elapsed,
                ..open::OpenOutcome::default()
            };
            out.replies.latencies_us = vec![1000, 1000];
            out.replies.ok = 2;
            let none = Interleaved::around(None, None, None, 0.1);
            open_report(out, schedule, 1, ("fixed", None), None, None, &none).achieved_rps
        };
        let length = schedule.duration.as_secs_f64();
        assert_eq!(achieved(Duration::from_millis(510)), 2.0 / length);
        assert_eq!(achieved(Duration::from_secs(4)), 2.0 / 4.0);
    }

    /// A simulator with the default configuration on a manual clock, on a free port.
    async fn simulator() -> crate::app::RunningApp {
        let app = crate::App::new(
            crate::config::Config::default(),
            crate::Options {
                clock_mode: Some(crate::clock::ClockMode::Manual),
                ..Default::default()
            },
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        app.spawn(listener)
    }

    /// The generator's sealed requests are accepted by a real simulator, every reply is SUCCESS,
    /// one reply per partner verifies and decrypts, and replaying the same pool is refused
    /// (the requestNos really are used up).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sealed_load_succeeds_against_a_simulator_and_cannot_be_replayed() {
        let running = simulator().await;
        let (key, platform) = (
            PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap(),
            PublicKey::parse(demo::PLATFORM_PUBLIC).unwrap(),
        );
        let partner = requests::WhaletPartner {
            partner_id: crate::api::whalet::partners::DEMO_PARTNER_ID.into(),
            key: key.clone(),
            platform_public: platform.clone(),
            api_code: "connectivity".into(),
            body: requests::default_whalet_body(),
        };
        let sealed = Arc::new(requests::seal_all(&partner, 12, 2));
        let plan = Plan {
            method: hyper::Method::POST,
            path: "/api".into(),
            content_type: "application/json",
            pool: Pool::Sealed(sealed),
            judge: Judge::WhaletHead,
            success: vec!["SUCCESS".into()],
            opener: Some(Opener::Whalet { key, platform }),
            sealer: None,
        };
        let limits = Limits {
            duration: None,
            requests: Some(12),
        };
        let passes = running.app.core().cpu().passes();
        let first = load::run(running.addr, plan.clone(), 3, limits).await;
        // One pass through the CPU gate per request: opening and sealing share it when no
        // scenario latency separates them (each pass is a thread hand-off).
        assert_eq!(running.app.core().cpu().passes() - passes, 12);
        assert_eq!(first.codes.get("SUCCESS"), Some(&12), "{:?}", first.codes);
        assert_eq!((first.ok, first.verified), (12, 3));
        assert!(first.verify_errors.is_empty(), "{:?}", first.verify_errors);
        let replay = load::run(running.addr, plan, 2, limits).await;
        assert_eq!(replay.ok, 0);
        assert_eq!(replay.codes.get("REQUEST_NO_NOT_UNIQUE"), Some(&12));
        // Each replayed reply verified and refused the request: a refusal, not a verify error.
        assert!(
            replay.verify_errors.is_empty(),
            "{:?}",
            replay.verify_errors
        );
        assert!(
            replay
                .refusals
                .iter()
                .all(|r| r.contains(": REQUEST_NO_NOT_UNIQUE ")),
            "{:?}",
            replay.refusals
        );
        assert!(!replay.refusals.is_empty());
        running.shutdown().await;
    }

    /// Infinia: pre-sealed requests are accepted (every reply `SUC-200`, one reply per partner
    /// decrypted), the reply's block count reaches the outcome, and a request sealed to the wrong
    /// key is counted under its own code, not as a success.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn infinia_load_succeeds_and_counts_failures_by_code() {
        let running = simulator().await;
        let key = PrivateKey::parse(demo::INFINIA_MERCHANT_PRIVATE).unwrap();
        let infinia = PublicKey::parse(demo::INFINIA_PUBLIC).unwrap();
        let merchant = |provider: PublicKey| requests::InfiniaMerchant {
            app_id: crate::api::infinia::apps::DEMO_APP_ID.into(),
            version: "1.0".into(),
            key: key.clone(),
            infinia_public: provider,
            alg: SignatureHash::Sha256,
            body: serde_json::json!({"currency": "USD"}),
        };
        let plan = |sealed: Vec<Bytes>| Plan {
            method: hyper::Method::POST,
            path: "/api/v1/account-balance/query".into(),
            content_type: "application/json",
            pool: Pool::Sealed(Arc::new(sealed)),
            judge: Judge::InfiniaCode,
            success: vec!["SUC-200".into()],
            opener: Some(Opener::Infinia {
                key: key.clone(),
                infinia: infinia.clone(),
                alg: SignatureHash::Sha256,
            }),
            sealer: None,
        };
        let limits = Limits {
            duration: None,
            requests: Some(6),
        };
        let good = requests::seal_all(&merchant(infinia.clone()), 6, 2);
        let run = load::run(running.addr, plan(good), 2, limits).await;
        assert_eq!(run.codes.get("SUC-200"), Some(&6), "{:?}", run.codes);
        assert_eq!((run.ok, run.verified), (6, 2));
        assert_eq!(run.reply_blocks, Some(1));
        // Sealed to the merchant's own public key: Infinia cannot decrypt it.
        let wrong = requests::seal_all(&merchant(key.public().clone()), 6, 2);
        let run = load::run(running.addr, plan(wrong), 2, limits).await;
        assert_eq!(run.ok, 0);
        assert_eq!(run.codes.get("SYS-005"), Some(&6), "{:?}", run.codes);
        running.shutdown().await;
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchArgs,
    }

    /// `--surface platform` needs no other option: its default path, apiCode and body reach the
    /// platform API, and every reply is a verified SUCCESS.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_platform_surface_works_with_its_defaults() {
        use clap::Parser;
        let running = simulator().await;
        let cli = Cli::parse_from(["bench", "--surface", "platform"]);
        let plan = plan(&cli.args).unwrap();
        assert_eq!(plan.path, "/v1/platform/balanceQuery");
        let sealer = plan.sealer.clone().unwrap();
        let plan = Plan {
            pool: Pool::Sealed(Arc::new(requests::seal_all(sealer.as_ref(), 4, 2))),
            ..plan
        };
        let limits = Limits {
            duration: None,
            requests: Some(4),
        };
        let run = load::run(running.addr, plan, 2, limits).await;
        assert_eq!(run.codes.get("SUCCESS"), Some(&4), "{:?}", run.codes);
        assert_eq!(run.verified, 2, "{:?}", run.verify_errors);
        running.shutdown().await;
    }
}
