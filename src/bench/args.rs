//! `bench`'s command line. Each value is checked as it is parsed (a clap value parser), and the
//! flags are checked together right after (contradictions, and the limits two flags make
//! together), inside clap's own parse: every invalid command line is a usage error (exit 2) that
//! names the flag, before anything runs, and no number a user types decides an allocation
//! unchecked (docs/CLI.md, "bench").

use std::ops::Deref;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, FromArgMatches};

use super::Surface;
use crate::wire::crypto::SignatureHash;

/// The longest `--duration`, `--ceiling-time` or `--ceiling-slice`: a day.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// The shortest of them (`--ceiling-slice 0` is not a duration: it turns the slices off).
pub const MIN_DURATION: Duration = Duration::from_millis(1);
/// The highest open-loop `--rate`, requests per second.
pub const MAX_RATE: f64 = 1_000_000.0;
/// The most requests sealed before one run (`--pool`, `--requests` and `--rate` × `--duration`
/// on the Whalet, platform and Infinia surfaces; the default pool is cut to it): a sealed
/// Whalet request takes about 1.4 KiB of memory, so at most about 2.7 GiB.
pub const MAX_POOL: usize = 2_000_000;
/// The most `--partners` of one level: each is a connection and a task of its own.
pub const MAX_PARTNERS: usize = 10_000;
/// The most `--destinations` of one level: each is a listening socket and a configured partner.
pub const MAX_DESTINATIONS: usize = 1_000;
/// The most `--ceiling-threads`: each is a thread of its own.
pub const MAX_CEILING_THREADS: usize = 256;

/// `bench`'s flags as clap parses them, each value checked on its own; [`BenchArgs`] holds them
/// once checked together.
#[derive(clap::Args, Debug)]
pub struct Flags {
    /// Surface to load.
    #[arg(long, value_enum, default_value = "whalet")]
    pub(super) surface: Surface,
    /// The simulator's base URL, http:// only (not with --spawn-server, which starts its own).
    #[arg(long, env = "WHALET_SIM_URL", default_value = "http://127.0.0.1:8080")]
    pub(super) url: String,
    /// Start this binary's `serve` on a free port, time it to a ready health check, measure it.
    #[arg(long)]
    pub(super) spawn_server: bool,
    /// Extra argument for the spawned `serve` (repeatable), e.g. --server-arg=--config=x.toml
    /// (--spawn-server only).
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    pub(super) server_args: Vec<String>,
    /// RUST_LOG of spawned processes (`info` logs one line per request, as `serve` does by
    /// default): --spawn-server's, --echo-baseline's or --notifications' server.
    #[arg(long, default_value = "info")]
    pub(super) server_log: String,
    /// Server process to read CPU time and memory from (default: the one listening on the port;
    /// not with --spawn-server, whose server is measured).
    #[arg(long)]
    pub(super) server_pid: Option<u32>,
    /// Concurrent partners, one connection each (1 to 10,000); a comma list runs each level in
    /// turn.
    #[arg(long, default_value = "8", value_delimiter = ',',
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_PARTNERS as u64))]
    pub(super) partners: Vec<usize>,
    /// Length of each timed run (`10s`, `500ms`, `2m`, `1m30s`; a bare number is seconds; 1ms
    /// to 24h).
    #[arg(long, default_value = "10s", value_parser = duration_arg)]
    pub(super) duration: Duration,
    /// Stop after this many requests instead of after --duration (closed loop; not with --rate
    /// or --duration).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) requests: Option<u64>,
    /// Runs per concurrency level (the report gives the best and the spread).
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub(super) repeat: usize,
    /// Also run the same load against a plain hyper echo server (a spawned process) in this run.
    #[arg(long)]
    pub(super) echo_baseline: bool,
    /// Serve a minimal hyper echo server on ADDR and do nothing else.
    #[arg(long, value_name = "ADDR")]
    pub(super) echo_server: Option<std::net::SocketAddr>,
    /// Request path, starting with `/` (default per surface).
    #[arg(long, value_parser = path_arg)]
    pub(super) path: Option<String>,
    /// HTTP method for --surface raw.
    #[arg(long, default_value = "GET", value_parser = method_arg)]
    pub(super) method: hyper::Method,
    /// Whalet apiCode (default: `connectivity`; `balanceQuery` for --surface platform).
    #[arg(long)]
    pub(super) api_code: Option<String>,
    /// Whalet, platform or Infinia business body as JSON; `{i}` in a string is replaced by the
    /// request number.
    #[arg(long, value_parser = json_arg)]
    pub(super) data: Option<serde_json::Value>,
    /// Whalet (and platform) partnerId the requests are sealed as.
    #[arg(long, default_value = crate::api::whalet::partners::DEMO_PARTNER_ID)]
    pub(super) partner_id: String,
    /// Infinia appId.
    #[arg(long, default_value = crate::api::infinia::apps::DEMO_APP_ID)]
    pub(super) app_id: String,
    /// Infinia signature hash of the app: sha256 or sha1.
    #[arg(long, default_value = "sha256", value_parser = crate::partner::surfaces::signature_hash_arg)]
    pub(super) infinia_alg: SignatureHash,
    /// The partner's (Infinia: the merchant's) private key: a file path, @path, or the key
    /// itself (PEM or bare Base64 DER) (default: the demo one).
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    pub(super) key: Option<String>,
    /// The provider's public key: Whalet's or Infinia's, in the same forms as --key (default:
    /// the demo one).
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    pub(super) platform_key: Option<String>,
    /// Requests sealed before each closed-loop run, Whalet, platform and Infinia (1 to
    /// 2,000,000; default: enough for the ceiling × cores × duration, at most 2,000,000). A run
    /// that uses them up stops there and exits 5.
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_POOL as u64))]
    pub(super) pool: Option<usize>,
    /// Pockyt merchantNo.
    #[arg(long, default_value = "202333")]
    pub(super) merchant_no: String,
    /// Pockyt storeNo.
    #[arg(long, default_value = "301854")]
    pub(super) store_no: String,
    /// Pockyt API token (signs `verifySign`).
    #[arg(long, default_value = "demo-token")]
    pub(super) token: String,
    /// Extra Pockyt body parameter `name=value` (repeatable; `{i}` = request number).
    #[arg(long = "param", value_parser = param_arg)]
    pub(super) params: Vec<(String, String)>,
    /// Skip measuring the crypto ceiling.
    #[arg(long)]
    pub(super) no_ceiling: bool,
    /// Time spent measuring each crypto operation for the ceiling (1ms to 24h).
    #[arg(long, default_value = "1s", value_parser = duration_arg)]
    pub(super) ceiling_time: Duration,
    /// Time per crypto operation of the short ceiling slices measured right before and right
    /// after every run; the run's ratio is taken against their mean (0 = only the ceiling
    /// measured once at the start).
    #[arg(long, default_value = "200ms", value_parser = slice_arg)]
    pub(super) ceiling_slice: Duration,
    /// Threads measuring the ceiling at once, each on its own core (0 = one per core, the core
    /// budget of a server that keeps every core busy; 1 = one core while the others idle; at
    /// most 256).
    #[arg(long, default_value_t = 0,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=MAX_CEILING_THREADS as u64))]
    pub(super) ceiling_threads: usize,
    /// Closed-loop runs are cut into this many segments of equal length with a ceiling slice
    /// between each two (1 = one slice before the run and one after it); each segment's
    /// requests are counted against the mean of the slices around it.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub(super) segments: u32,
    /// Largest drift between two neighbouring ceiling slices of a run, |a - b| / their mean; a
    /// run over it is flagged unstable (the machine changed speed within one segment) and
    /// repeated.
    #[arg(long, default_value_t = 0.10, value_parser = drift_arg)]
    pub(super) max_drift: f64,
    /// How many times an unstable run is repeated before its result is kept, flagged.
    #[arg(long, default_value_t = 2)]
    pub(super) drift_retries: usize,
    /// Measure notification deliveries instead of requests: N signed notifications to local
    /// receivers that acknowledge cheaply, against the sealing ceiling (spawns its own server).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) notifications: Option<u64>,
    /// With --notifications: how many destinations (partners, each its own receiver) share them
    /// (1 to 1,000); a comma list runs each level in turn.
    #[arg(long, default_value = "1,8,64", value_delimiter = ',',
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_DESTINATIONS as u64))]
    pub(super) destinations: Vec<usize>,
    /// With --notifications: how many notifications one trigger request asks for (default: each
    /// destination's share in two requests, at most 1,000 a request; 1 = one request per
    /// notification; at most the trigger's `count` bound, the simulator's default `[notify]
    /// ledger_capacity`).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) burst: Option<u64>,
    /// With --notifications: notifications each destination takes, untimed, before the measured
    /// window, so the simulator's connections to it are open as in steady state (default: the
    /// simulator's concurrent attempts per destination, 32; 0 = none; each destination's share
    /// is one trigger request, so at most the bound of --burst).
    #[arg(long, value_name = "K")]
    pub(super) warm_up: Option<u64>,
    /// Open loop: send requests at this fixed rate (requests/s, at most 1,000,000) whatever the
    /// replies do, with latency counted from each request's scheduled send time; `half` first
    /// measures the closed-loop maximum with the same settings, then runs at half of it. Each
    /// --partners level pre-opens that many connections; --duration is the schedule's length.
    #[arg(long, value_name = "R|half", value_parser = rate_arg)]
    pub(super) rate: Option<Rate>,
    /// Open loop: requests outstanding at once; a request due beyond it is not sent and is
    /// counted as dropped.
    #[arg(long, default_value_t = 1000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub(super) max_in_flight: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub(super) json: bool,
}

/// `--rate`: a fixed arrival rate, or half of the closed-loop maximum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    Fixed(f64),
    Half,
}

/// `bench`'s flags once they were checked together ([`check`]): what `bench::run` takes.
#[derive(Debug)]
pub struct BenchArgs(Flags);

impl Deref for BenchArgs {
    type Target = Flags;

    fn deref(&self) -> &Flags {
        &self.0
    }
}

impl FromArgMatches for BenchArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let flags = Flags::from_arg_matches(matches)?;
        checked(&flags, matches)?;
        Ok(Self(flags))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)?;
        checked(&self.0, matches)
    }
}

impl Args for BenchArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Flags::augment_args_for_update(cmd)
    }

    fn group_id() -> Option<clap::Id> {
        Flags::group_id()
    }
}

/// [`check`] as clap's usage error, formatted with `bench`'s own usage line.
fn checked(flags: &Flags, matches: &ArgMatches) -> Result<(), clap::Error> {
    let mut cmd = Flags::augment_args(clap::Command::new("whalet-sim bench"));
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let on_command_line: Vec<String> = cmd
        .get_arguments()
        .filter(|arg| given(arg.get_id().as_str()))
        .filter_map(|arg| arg.get_long().map(str::to_owned))
        .collect();
    check(flags, &on_command_line).map_err(|(kind, message)| cmd.error(kind, message))
}

/// The flags that mean something with `--notifications` (it spawns its own server and loads it
/// with deliveries, not requests).
const NOTIFICATION_FLAGS: &[&str] = &[
    "notifications",
    "destinations",
    "burst",
    "warm-up",
    "no-ceiling",
    "ceiling-time",
    "ceiling-slice",
    "ceiling-threads",
    "server-log",
    "json",
];

/// The flags about a server already running, which `--spawn-server` replaces by its own: the
/// bench would load and measure the spawned server and ignore them.
const RUNNING_SERVER_FLAGS: &[&str] = &["url", "server-pid"];

/// Whether a run with these flags spawns a process a flag of [`SPAWNED_SERVER_FLAGS`] applies to.
type Spawns = fn(&Flags) -> bool;

/// The flags about the processes a bench spawns, whether a run spawns one they apply to, and
/// the flags that make it spawn one (every one, named by the refusal): `--server-arg` is for
/// `--spawn-server`'s `serve`; `--server-log` for it and the echo server of `--echo-baseline`
/// (and for `--notifications`' server, checked with its own flags).
const SPAWNED_SERVER_FLAGS: &[(&str, Spawns, &str)] = &[
    ("server-arg", |f| f.spawn_server, "--spawn-server"),
    (
        "server-log",
        |f| f.spawn_server || f.echo_baseline,
        "--spawn-server or --echo-baseline",
    ),
];

/// The flags that mean something only with `--notifications`.
const ONLY_WITH_NOTIFICATIONS: &[&str] = &["destinations", "burst", "warm-up"];

/// The flags that tune the crypto ceiling, meaningless with `--no-ceiling`.
const CEILING_FLAGS: &[&str] = &[
    "ceiling-time",
    "ceiling-slice",
    "ceiling-threads",
    "segments",
    "max-drift",
    "drift-retries",
];

/// The flags of closed-loop runs only, which a fixed `--rate R` does not run.
const CLOSED_LOOP_FLAGS: &[&str] = &[
    "repeat",
    "segments",
    "drift-retries",
    "echo-baseline",
    "pool",
];

/// Flags that belong to some surfaces only: the flag and the surfaces it applies to.
const SURFACE_FLAGS: &[(&str, &[Surface])] = &[
    ("data", SEALED),
    ("key", SEALED),
    ("platform-key", SEALED),
    ("pool", SEALED),
    ("api-code", &[Surface::Whalet, Surface::Platform]),
    ("partner-id", &[Surface::Whalet, Surface::Platform]),
    ("app-id", &[Surface::Infinia]),
    ("infinia-alg", &[Surface::Infinia]),
    ("merchant-no", &[Surface::Pockyt]),
    ("store-no", &[Surface::Pockyt]),
    ("token", &[Surface::Pockyt]),
    ("param", &[Surface::Pockyt]),
    ("method", &[Surface::Raw]),
];

/// The surfaces whose requests are sealed before each run (an RSA signature each).
const SEALED: &[Surface] = &[Surface::Whalet, Surface::Platform, Surface::Infinia];

/// A usage error: clap's kind and the message.
type Refusal = (ErrorKind, String);

/// The flags together; `given`: the long names of the flags on the command line. A
/// contradiction (a flag the run would ignore) or a limit two flags exceed together is
/// refused, naming the flags.
fn check(f: &Flags, given: &[String]) -> Result<(), Refusal> {
    let has = |flag: &str| given.iter().any(|g| g == flag);
    let conflict = |message: String| Err((ErrorKind::ArgumentConflict, message));
    if f.echo_server.is_some() {
        return Ok(());
    }
    if f.notifications.is_some() {
        if let Some(other) = given
            .iter()
            .find(|g| !NOTIFICATION_FLAGS.contains(&g.as_str()))
        {
            return conflict(format!(
                "--{other} does not apply to --notifications (it spawns its own server and \
                 measures deliveries; only --{} go with it)",
                NOTIFICATION_FLAGS[1..].join(", --")
            ));
        }
    } else if let Some(flag) = ONLY_WITH_NOTIFICATIONS.iter().find(|flag| has(flag)) {
        return conflict(format!(
            "--{flag} applies only with --notifications N (the notification bench)"
        ));
    }
    if f.no_ceiling {
        if let Some(flag) = CEILING_FLAGS.iter().find(|flag| has(flag)) {
            return conflict(format!(
                "--{flag} tunes the crypto ceiling, which --no-ceiling turns off: give one of them"
            ));
        }
    }
    if f.notifications.is_some() {
        return check_triggers(f);
    }
    check_surface(f.surface, &has)?;
    check_load(f, &has)?;
    check_server(f, &has)?;
    check_url(f, &has)
}

/// `--burst` and `--warm-up`, each a trigger request's `count` on the server the notification
/// bench spawns: at most what that trigger takes ([`super::notify::most_per_trigger`]), else
/// the server would refuse the first request after it was started.
fn check_triggers(f: &Flags) -> Result<(), Refusal> {
    let most = super::notify::most_per_trigger();
    let over = [("burst", f.burst), ("warm-up", f.warm_up)]
        .into_iter()
        .find_map(|(flag, k)| k.filter(|&k| k > most).map(|k| (flag, k)));
    match over {
        Some((flag, k)) => Err((
            ErrorKind::ValueValidation,
            format!(
                "--{flag} {k} is more than the {most} notifications one trigger request asks for \
                 (its `count`, up to the spawned simulator's [notify] ledger_capacity): give at \
                 most {most}"
            ),
        )),
        None => Ok(()),
    }
}

/// Which server the run loads: one it spawns (`--spawn-server`) takes no flag that names a
/// running one ([`RUNNING_SERVER_FLAGS`]: `--server-pid 1` would measure PID 1's memory, not the
/// server's), and a flag for a spawned process is refused when the run spawns none
/// ([`SPAWNED_SERVER_FLAGS`]).
fn check_server(f: &Flags, has: &dyn Fn(&str) -> bool) -> Result<(), Refusal> {
    let conflict = |message: String| Err((ErrorKind::ArgumentConflict, message));
    if f.spawn_server {
        if let Some(flag) = RUNNING_SERVER_FLAGS.iter().find(|flag| has(flag)) {
            return conflict(format!(
                "--{flag} names a server already running, and --spawn-server starts and measures \
                 its own: give one of them"
            ));
        }
    }
    let unused = SPAWNED_SERVER_FLAGS
        .iter()
        .find(|(flag, applies, _)| has(flag) && !applies(f));
    if let Some((flag, _, spawning)) = unused {
        return conflict(format!(
            "--{flag} configures a process the bench spawns, and this run spawns none it \
             applies to (it loads the server at --url): add {spawning}, or leave --{flag} out"
        ));
    }
    Ok(())
}

/// A surface-specific flag given for another surface.
fn check_surface(surface: Surface, has: &dyn Fn(&str) -> bool) -> Result<(), Refusal> {
    for (flag, surfaces) in SURFACE_FLAGS {
        if has(flag) && !surfaces.contains(&surface) {
            let names: Vec<&str> = surfaces.iter().map(|s| surface_name(*s)).collect();
            let names = match names.split_last() {
                Some((last, [])) => (*last).to_owned(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => String::new(),
            };
            return Err((
                ErrorKind::ArgumentConflict,
                format!(
                    "--{flag} does not apply to --surface {} (only to --surface {})",
                    surface_name(surface),
                    names
                ),
            ));
        }
    }
    Ok(())
}

/// How long or how many: `--requests`, `--duration`, `--rate` and `--pool` together.
fn check_load(f: &Flags, has: &dyn Fn(&str) -> bool) -> Result<(), Refusal> {
    let conflict = |message: &str| Err((ErrorKind::ArgumentConflict, message.to_owned()));
    let sealed = SEALED.contains(&f.surface);
    if let Some(requests) = f.requests {
        if f.rate.is_some() {
            return conflict(
                "--requests sets a closed-loop run's length and --rate runs an open loop for \
                 --duration: give --duration with --rate",
            );
        }
        if has("duration") {
            return conflict("--requests and --duration both set the run's length: give one");
        }
        if has("segments") {
            return conflict(
                "--segments cuts a --duration into parts, and --requests runs by count: give one",
            );
        }
        if let Some(pool) = f.pool.filter(|&pool| (pool as u64) < requests) {
            return Err((
                ErrorKind::ArgumentConflict,
                format!(
                    "--pool {pool} seals fewer requests than --requests {requests} sends: \
                     give a --pool of at least {requests}, or leave it out"
                ),
            ));
        }
        if sealed && requests > MAX_POOL as u64 {
            return Err((
                ErrorKind::ValueValidation,
                format!(
                    "--requests {requests} is more than the {MAX_POOL} requests a run seals in \
                     advance (--surface {}); give at most {MAX_POOL}",
                    surface_name(f.surface)
                ),
            ));
        }
    }
    if f.rate.is_none() && has("max-in-flight") {
        return conflict("--max-in-flight caps the open loop, which only --rate runs");
    }
    if let Some(Rate::Fixed(rate)) = f.rate {
        if let Some(flag) = CLOSED_LOOP_FLAGS.iter().find(|flag| has(flag)) {
            return Err((
                ErrorKind::ArgumentConflict,
                format!(
                    "--{flag} applies to closed-loop runs, and --rate {rate} runs none (it seals \
                     exactly rate × duration requests; --rate half runs both)"
                ),
            ));
        }
        let total = rate * f.duration.as_secs_f64();
        if total < 1.0 {
            return Err((
                ErrorKind::ValueValidation,
                format!(
                    "--rate {rate} for --duration {:?} schedules less than one request (rate × \
                     duration < 1), and a schedule needs at least one: raise one of them",
                    f.duration
                ),
            ));
        }
        if sealed && total.round() > MAX_POOL as f64 {
            return Err((
                ErrorKind::ValueValidation,
                format!(
                    "--rate {rate} for --duration {:?} is {total:.0} requests, more than the \
                     {MAX_POOL} a run seals in advance (--surface {}): lower --rate or --duration",
                    f.duration,
                    surface_name(f.surface)
                ),
            ));
        }
    }
    Ok(())
}

/// What follows `http://` in `url` (the scheme in any letter case, as `call` reads it), or
/// `None` for another scheme.
pub(super) fn after_http(url: &str) -> Option<&str> {
    let url = url.trim();
    url.get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
        .map(|_| &url[7..])
}

/// `--url` when it is used (not with `--spawn-server`): the simulator's base URL as every
/// partner-side command checks it ([`crate::http::simulator_url`]), and, since the generator
/// speaks plain HTTP to the surface's own paths, `http://` with no path. The refusal names
/// `--url` when it was typed (`has`), else `WHALET_SIM_URL`, where the value came from (the
/// default is a good URL).
fn check_url(f: &Flags, has: &dyn Fn(&str) -> bool) -> Result<(), Refusal> {
    if f.spawn_server {
        return Ok(());
    }
    let named = if has("url") {
        "--url"
    } else {
        "WHALET_SIM_URL"
    };
    let refused = |why: String| (ErrorKind::ValueValidation, format!("{named}: {why}"));
    crate::http::simulator_url(&f.url).map_err(refused)?;
    let rest = after_http(&f.url).ok_or_else(|| {
        refused(
            "the bench speaks plain HTTP: give an http:// URL, e.g. http://127.0.0.1:8080".into(),
        )
    })?;
    match rest.split_once('/') {
        Some((_, path)) if !path.is_empty() => Err(refused(format!(
            "the bench sends to each surface's own paths, so give the simulator's base URL \
             without a path (not /{})",
            crate::text::bound(path, 200)
        ))),
        _ if rest.contains('@') => Err(refused(
            "give the simulator's host and port without a user name (user@)".into(),
        )),
        _ => Ok(()),
    }
}

/// A surface as `--surface` spells it.
fn surface_name(surface: Surface) -> &'static str {
    match surface {
        Surface::Whalet => "whalet",
        Surface::Pockyt => "pockyt",
        Surface::Infinia => "infinia",
        Surface::Platform => "platform",
        Surface::Raw => "raw",
    }
}

/// `--duration`, `--ceiling-time`: the project's duration grammar (`500ms`, `10s`, `2m`,
/// `1m30s`, `1h`; `crate::scenario::format::parse_duration`), a bare number being seconds,
/// from [`MIN_DURATION`] to [`MAX_DURATION`].
fn duration_arg(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let with_unit = if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        format!("{trimmed}s")
    } else {
        trimmed.to_owned()
    };
    let limits = format!("from {MIN_DURATION:?} to 24h");
    let ms = crate::scenario::format::parse_duration(&with_unit)
        .map_err(|_| format!("expected a duration like 10s, 500ms, 2m or 1m30s, {limits}"))?;
    let duration = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    if duration < MIN_DURATION || duration > MAX_DURATION {
        return Err(format!("a bench duration is {limits}"));
    }
    Ok(duration)
}

/// `--ceiling-slice`: a duration as [`duration_arg`], or `0` (no slices: [`Duration::ZERO`]).
fn slice_arg(text: &str) -> Result<Duration, String> {
    match text.trim() {
        "0" | "0s" | "0ms" => Ok(Duration::ZERO),
        other => duration_arg(other).map_err(|e| format!("{e}, or 0 for no slices")),
    }
}

/// `--rate`: requests per second above 0 and at most [`MAX_RATE`], or `half`.
fn rate_arg(text: &str) -> Result<Rate, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("half") {
        return Ok(Rate::Half);
    }
    let bad = || format!("expected requests per second above 0 and at most {MAX_RATE}, or `half`");
    let rate: f64 = text.parse().map_err(|_| bad())?;
    if rate.is_finite() && rate > 0.0 && rate <= MAX_RATE {
        Ok(Rate::Fixed(rate))
    } else {
        Err(bad())
    }
}

/// `--max-drift`: a ratio, 0 or more.
fn drift_arg(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|d| d.is_finite() && *d >= 0.0)
        .ok_or_else(|| "expected a ratio of 0 or more, e.g. 0.10 for 10%".to_owned())
}

/// `--method`: an HTTP method token (`GET`, `POST`, ...).
fn method_arg(text: &str) -> Result<hyper::Method, String> {
    hyper::Method::from_bytes(text.as_bytes())
        .map_err(|_| "expected an HTTP method such as GET or POST (letters, no spaces)".to_owned())
}

/// `--path`: a request path and query, starting with `/`.
fn path_arg(text: &str) -> Result<String, String> {
    let fine = text.starts_with('/')
        && text
            .parse::<hyper::http::uri::PathAndQuery>()
            .is_ok_and(|p| p.as_str() == text);
    if fine {
        Ok(text.to_owned())
    } else {
        Err("expected a path starting with /, such as /api (no spaces)".to_owned())
    }
}

/// `--data`: a JSON document.
fn json_arg(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("expected JSON: {e}"))
}

/// `--param`: `name=value` (the value may be empty and may hold `=`).
fn param_arg(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err("expected name=value, e.g. --param reference=ref{i}".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scheme is read in any letter case, as `call` reads it.
    #[test]
    fn http_in_any_case_is_plain_http() {
        assert_eq!(after_http("HTTP://127.0.0.1:1"), Some("127.0.0.1:1"));
        assert_eq!(after_http(" http://h:2"), Some("h:2"));
        assert_eq!(after_http("https://h:3"), None);
    }
    use clap::Parser;

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: BenchArgs,
    }

    /// The error of `bench` with these flags (panics, failing the test, if they are accepted).
    fn refused(flags: &[&str]) -> clap::Error {
        let argv = std::iter::once("bench").chain(flags.iter().copied());
        match Cli::try_parse_from(argv) {
            Ok(cli) => panic!("{flags:?} accepted: {:?}", cli.args),
            Err(e) => e,
        }
    }

    #[test]
    fn durations_parse_within_bounds() {
        assert_eq!(duration_arg("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration_arg("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration_arg("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration_arg("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration_arg(" 3 "), Ok(Duration::from_secs(3)));
        assert_eq!(duration_arg("24h"), Ok(MAX_DURATION));
        for bad in [
            "0s",
            "0",
            "fast",
            "500us",
            "1.5s",
            "25h",
            "99999999999999999999s",
            "",
        ] {
            let e = duration_arg(bad).unwrap_err();
            assert!(e.contains("24h"), "{bad}: {e}");
        }
        assert_eq!(slice_arg("0ms"), Ok(Duration::ZERO));
        assert!(slice_arg("abc").unwrap_err().contains("or 0"));
    }

    #[test]
    fn rates_parse_within_bounds() {
        assert_eq!(rate_arg("half"), Ok(Rate::Half));
        assert_eq!(rate_arg(" 250.5 "), Ok(Rate::Fixed(250.5)));
        assert_eq!(rate_arg("1e6"), Ok(Rate::Fixed(MAX_RATE)));
        for bad in ["0", "-3", "fast", "1e300", "inf", "NaN", "1000001"] {
            assert!(rate_arg(bad).unwrap_err().contains("1000000"), "{bad}");
        }
    }

    /// A URL that did not come from the command line (`WHALET_SIM_URL`, set for other commands)
    /// is not checked, nor refused, with --spawn-server: only a typed `--url` contradicts it.
    #[test]
    fn a_url_from_the_environment_does_not_matter_with_spawn_server() {
        #[derive(clap::Parser, Debug)]
        struct Unchecked {
            #[command(flatten)]
            flags: Flags,
        }
        let flags = Unchecked::try_parse_from(["bench", "--spawn-server", "--url", "nonsense"])
            .map(|cli| cli.flags)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(check(&flags, &["spawn-server".to_owned()]), Ok(()));
        assert!(check(&flags, &["spawn-server".to_owned(), "url".to_owned()]).is_err());
    }

    /// A bad URL is named where it came from: `--url` when typed, else `WHALET_SIM_URL` (the
    /// default is good), never a flag the user did not type.
    #[test]
    fn a_bad_url_names_the_flag_or_the_variable_it_came_from() {
        #[derive(clap::Parser, Debug)]
        struct Unchecked {
            #[command(flatten)]
            flags: Flags,
        }
        let flags = Unchecked::try_parse_from(["bench", "--url", "https://x"])
            .map(|cli| cli.flags)
            .unwrap_or_else(|e| panic!("{e}"));
        let message = |given: &[String]| check(&flags, given).map_err(|(_, m)| m).unwrap_err();
        let typed = message(&["url".to_owned()]);
        assert!(typed.starts_with("--url:"), "{typed}");
        let from_env = message(&[]);
        assert!(
            from_env.starts_with("WHALET_SIM_URL:") && !from_env.contains("--url"),
            "{from_env}"
        );
    }

    /// Every invalid value is clap's usage error (exit 2) naming its flag.
    #[test]
    fn invalid_values_are_usage_errors_naming_the_flag() {
        for (flags, flag) in [
            (&["--partners", "0"][..], "--partners"),
            (&["--partners", "10001"], "--partners"),
            (&["--duration", "abc"], "--duration"),
            (
                &["--ceiling-time", "99999999999999999999s"],
                "--ceiling-time",
            ),
            (&["--rate", "1e300"], "--rate"),
            (&["--max-in-flight", "0"], "--max-in-flight"),
            (&["--surface", "pockyt", "--param", "bad"], "--param"),
            (&["--surface", "raw", "--method", "GE T"], "--method"),
            (&["--notifications", "0"], "--notifications"),
            (
                &["--notifications", "5", "--destinations", "0"],
                "--destinations",
            ),
            (&["--data", "notjson"], "--data"),
            (&["--pool", "2000001"], "--pool"),
            (&["--requests", "0"], "--requests"),
            (&["--path", "api"], "--path"),
            (&["--max-drift=-1"], "--max-drift"),
            (&["--ceiling-threads", "100000"], "--ceiling-threads"),
        ] {
            let e = refused(flags);
            assert_eq!(e.exit_code(), 2, "{flags:?}");
            assert!(e.to_string().contains(flag), "{flags:?}: {e}");
        }
    }

    /// A flag the run would ignore, or two flags whose load exceeds a limit together, is a
    /// usage error naming both.
    #[test]
    fn contradictions_are_usage_errors_naming_both_flags() {
        for (flags, named) in [
            (
                &["--requests", "10", "--rate", "100"][..],
                &["--requests", "--rate"][..],
            ),
            (
                &["--requests", "10", "--duration", "2s"],
                &["--requests", "--duration"],
            ),
            (
                &["--destinations", "2"],
                &["--destinations", "--notifications"],
            ),
            (&["--burst", "2"], &["--burst", "--notifications"]),
            (
                &["--notifications", "5", "--partners", "2"],
                &["--partners", "--notifications"],
            ),
            (
                &["--surface", "pockyt", "--data", "{}"],
                &["--data", "--surface pockyt"],
            ),
            (
                &["--surface", "whalet", "--param", "a=b"],
                &["--param", "--surface whalet"],
            ),
            (
                &["--surface", "raw", "--pool", "5"],
                &["--pool", "--surface raw"],
            ),
            (
                &["--pool", "1", "--requests", "5"],
                &["--pool 1", "--requests 5"],
            ),
            (&["--pool", "5", "--rate", "10"], &["--pool", "--rate"]),
            (&["--repeat", "2", "--rate", "10"], &["--repeat", "--rate"]),
            (
                &["--echo-baseline", "--rate", "10"],
                &["--echo-baseline", "--rate"],
            ),
            (&["--max-in-flight", "5"], &["--max-in-flight", "--rate"]),
            (
                &["--segments", "2", "--requests", "5"],
                &["--segments", "--requests"],
            ),
            (
                &["--no-ceiling", "--ceiling-time", "2s"],
                &["--ceiling-time", "--no-ceiling"],
            ),
            (
                &["--rate", "1e6", "--duration", "3s"],
                &["--rate", "--duration", "2000000"],
            ),
            (
                &["--rate", "0.01", "--duration", "1s"],
                &["--rate", "--duration"],
            ),
            (&["--requests", "2000001"], &["--requests", "2000000"]),
            (&["--url", "https://x"], &["--url"]),
            (
                &["--spawn-server", "--server-pid", "1"],
                &["--server-pid", "--spawn-server"],
            ),
            (
                &["--spawn-server", "--url", "http://127.0.0.1:1"],
                &["--url", "--spawn-server"],
            ),
            (
                &["--url", "http://127.0.0.1:1", "--server-arg=--manual-clock"],
                &["--server-arg", "--spawn-server"],
            ),
            (
                &["--url", "http://127.0.0.1:1", "--server-log", "debug"],
                &["--server-log", "--spawn-server", "--echo-baseline"],
            ),
        ] {
            let e = refused(flags);
            assert_eq!(e.exit_code(), 2, "{flags:?}");
            let text = e.to_string();
            for name in named {
                assert!(text.contains(name), "{flags:?}: {name} not in {text}");
            }
        }
    }

    /// A fixed rate needs at least one request in rate × duration itself, not once rounded: the
    /// refusal names both flags; one request is accepted.
    #[test]
    fn a_fixed_rate_needs_one_request_in_rate_times_duration() {
        for flags in [
            &["--rate", "0.5", "--duration", "1s"][..],
            &["--rate", "2", "--duration", "499ms"],
        ] {
            let e = refused(flags);
            assert_eq!(e.exit_code(), 2, "{flags:?}");
            let text = e.to_string();
            assert!(
                text.contains("--rate") && text.contains("--duration"),
                "{text}"
            );
        }
        for flags in [
            &["--rate", "1", "--duration", "1s"][..],
            &["--rate", "2", "--duration", "500ms"],
        ] {
            let argv = std::iter::once("bench").chain(flags.iter().copied());
            if let Err(e) = Cli::try_parse_from(argv) {
                panic!("{flags:?} refused: {e}");
            }
        }
    }

    /// `--burst` and `--warm-up` are a trigger request's `count` on the spawned simulator: up to
    /// its bound they are accepted, beyond it refused naming the flag and the bound.
    #[test]
    fn trigger_counts_are_bounded_by_the_trigger() {
        let most = super::super::notify::most_per_trigger();
        let (at, over) = (most.to_string(), (most + 1).to_string());
        for flag in ["--burst", "--warm-up"] {
            let base = ["--notifications", "5", flag];
            let e = refused(&[&base[..], &[over.as_str()]].concat());
            assert_eq!(e.exit_code(), 2, "{flag}");
            let text = e.to_string();
            assert!(text.contains(flag) && text.contains(&at), "{text}");
            let argv = std::iter::once("bench").chain(base).chain([at.as_str()]);
            if let Err(e) = Cli::try_parse_from(argv) {
                panic!("{flag} {at} refused: {e}");
            }
        }
    }

    /// What stays accepted: the unsealed surfaces take any request count and a high rate; the
    /// spawned processes' flags with what spawns them; the notification bench takes its own
    /// flags and the ceiling's.
    #[test]
    fn consistent_flags_are_accepted() {
        for flags in [
            &[
                "--surface",
                "pockyt",
                "--requests",
                "5000000",
                "--param",
                "a=b=c",
            ][..],
            &[
                "--surface",
                "raw",
                "--rate",
                "1e6",
                "--duration",
                "1h",
                "--method",
                "POST",
            ],
            &["--spawn-server", "--pool", "10", "--partners", "1,2"],
            &["--echo-baseline", "--server-log", "warn"],
            &[
                "--spawn-server",
                "--server-log",
                "warn",
                "--server-arg=--manual-clock",
            ],
            &[
                "--notifications",
                "5",
                "--destinations",
                "1,2",
                "--burst",
                "2",
                "--ceiling-time",
                "5ms",
            ],
            &[
                "--rate",
                "half",
                "--duration",
                "2s",
                "--pool",
                "100",
                "--repeat",
                "2",
            ],
            &["--rate", "5", "--max-in-flight", "5", "--max-drift", "0.2"],
            &[
                "--requests",
                "3",
                "--pool",
                "3",
                "--data",
                "{\"a\": \"{i}\"}",
            ],
        ] {
            let argv = std::iter::once("bench").chain(flags.iter().copied());
            if let Err(e) = Cli::try_parse_from(argv) {
                panic!("{flags:?} refused: {e}");
            }
        }
    }
}
