//! The command line: `serve`, `call`, `listen`, `keygen`, `trigger`, `bench`, `contract`. Thin:
//! each command builds what it needs from the library and runs it. Every option a script or CI
//! sets is also an environment variable (`WHALET_SIM_*`, shown in `--help`); the exit codes are in
//! `exit.rs`.

mod call;
mod contract;
mod coverage;
pub mod exit;
mod keygen;
mod listen;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::{parse_rfc3339, App, Options};
use crate::clock::ClockMode;
use crate::config::infinia::sftp_setting;
use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "whalet-sim",
    version,
    about = "A local simulator of the Whalet, Infinia Pay and Pockyt payment APIs",
    after_help = exit::EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Internal: this process was started by `bench` (pid given) and is to end when it does.
    #[arg(long, global = true, hide = true, value_name = "PID")]
    exit_with_parent: Option<u32>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the simulator.
    Serve(ServeArgs),
    /// Act as a partner on any surface (Whalet, platform, Infinia, Pockyt): sign (and seal) one
    /// request in its scheme and send it; verify and print the reply.
    Call(call::CallArgs),
    /// Act as a partner's notify endpoint: verify, decrypt and print notifications; acknowledge.
    Listen(listen::ListenArgs),
    /// Write a fresh RSA key pair (2048 bits, or --bits) in PEM and bare Base64 DER.
    Keygen(keygen::KeygenArgs),
    /// Fire an external event on a running simulator (`key=value` parameters).
    Trigger(TriggerArgs),
    /// Load-test a simulator with N concurrent partners; report throughput, latency, CPU, memory.
    #[command(after_help = exit::EXIT_CODES)]
    Bench(Box<crate::bench::BenchArgs>),
    /// Report what a running simulator's traffic exercised, and what it never tried.
    Coverage(coverage::CoverageArgs),
    /// Contract overlays: `contract dump` prints the effective contract of every operation.
    Contract(contract::ContractArgs),
}

/// How `serve` writes its log (on stderr).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, message and fields).
    Json,
}

#[derive(clap::Args)]
#[command(after_help = exit::EXIT_CODES)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free one; the ready line says which).
    #[arg(long, default_value = "127.0.0.1:8080", env = "WHALET_SIM_ADDR")]
    addr: SocketAddr,
    /// TOML configuration (tenants, keys, notify URLs, apiCode names, policies).
    #[arg(long, env = "WHALET_SIM_CONFIG")]
    config: Option<PathBuf>,
    /// Notification URL of every tenant (demo or configured, every surface) without its own
    /// notify_url (http:// or https:// with a host).
    #[arg(long, env = "WHALET_SIM_NOTIFY_URL", value_name = "URL", value_parser = notify_url)]
    notify_url: Option<String>,
    /// Wall seconds per virtual second, from 0.000001 to 1000000 (0.01 runs virtual time 100x
    /// faster, 2 half as fast).
    #[arg(long, env = "WHALET_SIM_TIME_SCALE", value_name = "SECONDS", value_parser = time_scale)]
    time_scale: Option<f64>,
    /// Freeze the clock; advance it with POST /__sim/clock/advance (the variable takes
    /// true/1/yes/on; false/0/no/off or empty mean not). Not with --time-scale.
    #[arg(long, env = "WHALET_SIM_MANUAL_CLOCK", value_parser = env_flag)]
    manual_clock: bool,
    /// Virtual start time (RFC 3339, e.g. 2025-01-01T00:00:00Z).
    #[arg(long, env = "WHALET_SIM_START_TIME", value_name = "TIME", value_parser = start_time)]
    start_time: Option<i64>,
    /// Scenario file to load (repeatable; the variable takes a comma-separated list).
    #[arg(
        long = "scenario",
        env = "WHALET_SIM_SCENARIO",
        value_delimiter = ',',
        value_parser = scenario_file
    )]
    scenarios: Vec<PathBuf>,
    /// Infinia SFTP address, or `off` (overrides `[infinia] sftp_addr`, default
    /// 127.0.0.1:2222; port 0 picks a free one).
    #[arg(long, env = "WHALET_SIM_SFTP_ADDR", value_name = "ADDR|off")]
    sftp_addr: Option<String>,
    /// Log format on stderr (`RUST_LOG` sets the level, default info).
    #[arg(long, env = "WHALET_SIM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Require this token on every /__sim/ request except GET /__sim/health (overrides
    /// `[server] admin_token`). Clients send `Authorization: Bearer <token>`; the dashboard is
    /// opened once as /?token=<token>.
    #[arg(long, env = "WHALET_SIM_ADMIN_TOKEN", hide_env_values = true, value_parser = crate::cli::admin_token)]
    admin_token: Option<String>,
    /// Another Host name the control plane and the dashboard answer to besides loopback names,
    /// e.g. a container's service name (repeatable; the variable takes a comma-separated list;
    /// added to `[server] allowed_hosts`).
    #[arg(
        long = "allowed-host",
        env = "WHALET_SIM_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    allowed_hosts: Vec<String>,
    /// Keep all state in an SQLite database in DIR and resume from it on start (overrides
    /// `[store] data_dir`; docs/PERSISTENCE.md).
    #[arg(long, env = "WHALET_SIM_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Start from this snapshot (a file saved from GET /__sim/snapshot; docs/PERSISTENCE.md).
    #[arg(long, env = "WHALET_SIM_SNAPSHOT", value_name = "FILE")]
    snapshot: Option<PathBuf>,
    /// Contract overlay file: the provider's field names, status words and codes
    /// (docs/CONTRACTS.md; overrides `[contract] file`).
    #[arg(long, env = "WHALET_SIM_CONTRACT")]
    contract: Option<PathBuf>,
    /// Count every RSA and AES call, time one in ONE_IN (8 when not given; 1 times every call,
    /// an exact count at three clock reads a timed call) on the calling thread's CPU clock, and
    /// serve the counts and the estimated CPU time at GET /__sim/crypto (`bench --spawn-server`
    /// sets it; docs/PERFORMANCE.md). Off, the count costs one atomic load a call; on, about
    /// 0.25 µs a call.
    #[arg(
        long,
        value_name = "ONE_IN",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "8",
        value_parser = clap::value_parser!(u64).range(1..=1_000_000)
    )]
    account_crypto: Option<u64>,
    /// Internal (`bench --spawn-server`): once ready, send the log to /dev/null. The bench reads
    /// a spawned server's stderr only to say why it did not start; a line per request into a
    /// pipe the bench drains would add the pipe and the bench's reads to what it measures.
    #[arg(long, hide = true)]
    quiet_after_ready: bool,
}

impl ServeArgs {
    /// The checks clap cannot make, on the parsed values (`typed`: the ids given on the command
    /// line, so that an error names the flag or the variable the value came from).
    fn check(&self, typed: &[String]) -> Result<(), clap::Error> {
        let named = |id: &str| arg_name("serve", id, typed);
        self.check_clock(typed)?;
        if let Some(value) = &self.sftp_addr {
            sftp_setting(value).map_err(|why| {
                usage_error(
                    "serve",
                    clap::error::ErrorKind::ValueValidation,
                    format!("{}: {why}", named("sftp_addr")),
                )
            })?;
        }
        if self.scenarios.iter().any(|p| p.as_os_str().is_empty()) {
            return Err(usage_error(
                "serve",
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "{} has an empty scenario file name (an empty or blank value, or two commas \
                     in a row): give the files separated by single commas",
                    named("scenarios")
                ),
            ));
        }
        Ok(())
    }

    /// `--manual-clock` and `--time-scale` exclude each other. Checked here, on the parsed
    /// values, rather than with clap's `conflicts_with`, which counts a flag set by its variable
    /// as present even when the variable says "not" (`WHALET_SIM_MANUAL_CLOCK=0`).
    fn check_clock(&self, typed: &[String]) -> Result<(), clap::Error> {
        if self.manual_clock && self.time_scale.is_some() {
            return Err(usage_error(
                "serve",
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "{} cannot be used with {}: a frozen clock has no speed",
                    arg_name("serve", "manual_clock", typed),
                    arg_name("serve", "time_scale", typed)
                ),
            ));
        }
        Ok(())
    }
}

/// How a message names the argument `id` of the subcommand `command`: by the variable its value
/// came from (`WHALET_SIM_SCENARIO`) when it was not typed (`typed`: the ids given on the command
/// line) and that variable is set, else by its flag (`--scenario`). Read from the arguments'
/// definitions, so it holds for every `WHALET_SIM_*` variable: a message never names a flag the
/// user did not type.
pub(crate) fn arg_name(command: &str, id: &str, typed: &[String]) -> ArgName {
    let cli = <Cli as clap::CommandFactory>::command();
    let arg = cli
        .find_subcommand(command)
        .and_then(|sub| sub.get_arguments().find(|a| a.get_id() == id));
    let flag = arg
        .and_then(clap::Arg::get_long)
        .map_or_else(|| id.replace('_', "-"), str::to_owned);
    let variable = arg
        .and_then(clap::Arg::get_env)
        .and_then(|v| v.to_str())
        .filter(|v| std::env::var_os(v).is_some());
    match variable {
        Some(variable) if !typed.iter().any(|t| t == id) => ArgName::Variable(variable.to_owned()),
        _ => ArgName::Flag(format!("--{flag}")),
    }
}

/// An argument as a message names it ([`arg_name`]).
pub(crate) enum ArgName {
    /// `--surface`, as typed (or the default's flag).
    Flag(String),
    /// `WHALET_SIM_SURFACE`, the variable that set it.
    Variable(String),
}

impl ArgName {
    /// The argument with its value as the user wrote it: `--surface pockyt`,
    /// `WHALET_SIM_SURFACE=pockyt`.
    pub(crate) fn with_value(&self, value: &str) -> String {
        match self {
            ArgName::Flag(flag) => format!("{flag} {value}"),
            ArgName::Variable(variable) => format!("{variable}={value}"),
        }
    }
}

impl std::fmt::Display for ArgName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArgName::Flag(name) | ArgName::Variable(name) => f.write_str(name),
        }
    }
}

/// The value of an on/off flag's environment variable, as a shell script writes it: `true`,
/// `1`, `yes`, `on` (also `t`, `y`) are on; `false`, `0`, `no`, `off` (also `f`, `n`) and the
/// empty string are off; any case. Anything else is refused rather than guessed, so that a
/// typo does not silently turn the flag on. Clap's own parser for a flag takes only
/// `true`/`false` and refuses the empty string.
fn env_flag(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Ok(true),
        "false" | "0" | "no" | "off" | "f" | "n" | "" => Ok(false),
        _ => Err("expected true, 1, yes or on; or false, 0, no, off or empty".to_owned()),
    }
}

/// `--scenario`: a file path, trimmed of the blanks around it (`a.toml, b.toml` names
/// `b.toml`, as `--sftp-addr` is trimmed). An empty or blank one (`WHALET_SIM_SCENARIO=" "`,
/// `a.toml,,b.toml`) is let through as empty to [`ServeArgs::check`], which refuses it naming
/// the variable or the flag it came from.
fn scenario_file(value: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(value.trim()))
}

/// `--notify-url`: a URL notifications can be sent to (a usage error otherwise, before start).
fn notify_url(value: &str) -> Result<String, String> {
    crate::config::check_notify_url(value)?;
    Ok(value.to_owned())
}

pub use crate::http::simulator_url as base_url;

/// The simulator's root URL in `url` as `--url` / `WHALET_SIM_URL` give it, where every command
/// that reads the URL puts `/__sim/...` (`trigger`, `coverage`, `call --example`): the URL
/// without the path of a surface or of the control plane that the simulator serves (the
/// literal start of each path [`SURFACES`] lists, as the ready line names them: `/api`, its
/// `/api/{apiCode}` and Infinia's `/api/v1/...`, `/v1/platform/...`, `/v3/...`, `/file/upload`,
/// `/__sim/...`), from the first path segment that begins one. So the endpoint URL `call`
/// sends to (`http://127.0.0.1:8080/api`, `.../v1/platform/shopAccountBind`) names the same
/// simulator as its base URL. A URL whose path is none of these is kept whole (a simulator
/// behind a proxy's path prefix, `https://gw.example/sim`).
pub fn simulator_root(url: &str) -> &str {
    let url = url.trim_end_matches('/');
    let host_at = url.find("://").map_or(0, |at| at + 3);
    let Some(path_at) = url[host_at..].find('/').map(|at| host_at + at) else {
        return url;
    };
    for (offset, _) in url[path_at..].match_indices('/') {
        let slash = path_at + offset;
        let segments: Vec<&str> = url[slash + 1..].split('/').collect();
        if served_prefixes().any(|prefix| segments.starts_with(&prefix)) {
            return url[..slash].trim_end_matches('/');
        }
    }
    url
}

/// The literal path segments each path of [`SURFACES`] begins with (`/api/{apiCode}`: `api`;
/// `/v2/customers/account/{path}`: `v2`, `customers`, `account`; `/__sim/`: `__sim`).
fn served_prefixes() -> impl Iterator<Item = Vec<&'static str>> {
    SURFACES
        .iter()
        .flat_map(|(_, paths)| paths.split(", "))
        .map(|path| {
            let path = path.strip_prefix("POST ").unwrap_or(path);
            path.split('/')
                .filter(|segment| !segment.is_empty())
                .take_while(|segment| !segment.starts_with('{'))
                .collect::<Vec<_>>()
        })
        .filter(|prefix| !prefix.is_empty())
}

/// Whether an answer is the simulator edge's "no route" 404 (`routes::not_found`, `{"error":
/// "no route for …"}`): the path asked for is none it serves, because the path of `--url` put
/// `/__sim/...` somewhere else. It is not the control plane's own refusal (an unknown event, an
/// unknown tenant: `no control endpoint …`, `unknown event …`).
fn is_no_route(status: u16, body: &[u8]) -> bool {
    status == 404
        && serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|answer| {
                answer
                    .get("error")
                    .and_then(serde_json::Value::as_str)
                    .map(|error| error.starts_with(crate::routes::NO_ROUTE))
            })
            .unwrap_or(false)
}

/// The error for the "no route" answer ([`is_no_route`]) to `request` (`GET <url>`), the URL
/// `given` by `--url` / `WHALET_SIM_URL`: a transport failure ([`exit::TRANSPORT`]) naming the
/// URL, never the simulator's refusal nor "not a simulator".
fn no_route_error(request: &str, given: &str) -> String {
    format!(
        "error: {request}: HTTP 404 \"no route\": that path is not a simulator route, so {given} \
         is not the simulator's base URL (nor one of its endpoint URLs); give its base URL, e.g. \
         http://127.0.0.1:8080, with --url or WHALET_SIM_URL"
    )
}

/// `--time-scale`: a number in the range `POST /__sim/clock` takes. Clap's message shows the
/// value as given, so the range is all this adds (never the number spelled out in full).
fn time_scale(value: &str) -> Result<f64, String> {
    let range = format!(
        "wall seconds per virtual second, from {} to {} (0.01 runs 100x faster)",
        crate::clock::MIN_SCALE,
        crate::clock::MAX_SCALE
    );
    let scale: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("not a number; expected {range}"))?;
    ClockMode::Scaled { scale }
        .validate()
        .map_err(|_| format!("out of range; expected {range}"))?;
    Ok(scale)
}

/// `--start-time`: an RFC 3339 time within the virtual time the simulator keeps, in milliseconds.
fn start_time(value: &str) -> Result<i64, String> {
    let ms = parse_rfc3339(value.trim())
        .map_err(|e| format!("expected an RFC 3339 time such as 2025-01-01T00:00:00Z ({e:#})"))?;
    crate::clock::check_time(ms, "the time")
}

#[derive(clap::Args)]
#[command(after_help = exit::EXIT_CODES)]
struct TriggerArgs {
    /// Event name (`--list` shows them).
    #[arg(required_unless_present = "list", value_parser = event_name)]
    event: Option<String>,
    /// List the events the simulator serves, with their parameters (with an event name: that
    /// event's only).
    #[arg(long)]
    list: bool,
    /// Parameters as key=value, each key once.
    #[arg(value_parser = key_value)]
    params: Vec<(String, String)>,
    /// The simulator's base URL (an endpoint URL of it, such as `.../api`, names the same
    /// simulator).
    #[arg(long, env = "WHALET_SIM_URL", default_value = "http://127.0.0.1:8080", value_parser = base_url)]
    url: String,
    /// The simulator's admin token, if it was started with one.
    #[arg(long, env = "WHALET_SIM_ADMIN_TOKEN", hide_env_values = true, value_parser = crate::cli::admin_token)]
    admin_token: Option<String>,
    /// Print only this field of the answer `{trigger, result}`: a dot path into `result`
    /// (`tradeId`, `amount.cent`) or from the top (`result.tradeId`, `trigger`); see `call --get`.
    #[arg(long, value_name = "PATH", value_parser = dot_path)]
    get: Option<String>,
}

impl TriggerArgs {
    /// A parameter given twice is refused (a usage error naming it) rather than one of its
    /// values silently kept.
    fn check_params(&self) -> Result<(), clap::Error> {
        if self.list && !self.params.is_empty() {
            return Err(usage_error(
                "trigger",
                clap::error::ErrorKind::ArgumentConflict,
                "--list fires nothing, so it takes no parameters: give at most an event name, \
                 whose parameters it lists",
            ));
        }
        for (i, (key, _)) in self.params.iter().enumerate() {
            if self.params[..i].iter().any(|(earlier, _)| earlier == key) {
                return Err(usage_error(
                    "trigger",
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("parameter `{key}` is given twice: give each parameter once"),
                ));
            }
        }
        Ok(())
    }
}

/// An admin token as it can travel in an `Authorization: Bearer` header: visible ASCII, no
/// control characters (a token read with its line end, `s3cret\n`, would otherwise fail every
/// request as "no answer").
pub fn admin_token(text: &str) -> Result<String, String> {
    crate::config::check_admin_token(text).map(|()| text.to_owned())
}

/// An event name as the control plane names events: letters, digits, `.`, `_` and `-`. It goes
/// into the URL's path, so `../reset` or `x?y=1` must not reach another endpoint.
fn event_name(text: &str) -> Result<String, String> {
    let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !text.is_empty() && text.chars().all(fine) && !text.starts_with('.') {
        Ok(text.to_owned())
    } else {
        Err("an event name has letters, digits, '.', '_' and '-' only (`trigger --list` shows them)".into())
    }
}

/// A usage error of `command` (exit 2, with its usage line), for a check clap cannot make.
fn usage_error(
    command: &str,
    kind: clap::error::ErrorKind,
    message: impl std::fmt::Display,
) -> clap::Error {
    let mut cli = <Cli as clap::CommandFactory>::command();
    cli.build();
    let mut sub = cli.find_subcommand(command).cloned().unwrap_or(cli);
    sub.error(kind, message)
}

/// A trigger parameter, `key=value` (the value may be empty and may hold `=`).
fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected key=value, e.g. userId=U1".to_owned()),
    }
}

/// `bench`: the run, its report on stdout, and `REFUSED` when a request failed or a notification
/// was lost.
async fn bench(args: crate::bench::BenchArgs) -> anyhow::Result<ExitCode> {
    let finished = crate::bench::run(args).await?;
    write_out(format_args!("{}", finished.report));
    Ok(exit::code(if finished.complete {
        exit::SUCCESS
    } else {
        exit::REFUSED
    }))
}

/// Prints one line on stdout. A reader that went away (`whalet-sim call ... | head -1`) ends the
/// command quietly with [`exit::CLOSED_STDOUT`] (141), the status a shell gives a process killed
/// by SIGPIPE, instead of a panic.
pub fn out(text: impl std::fmt::Display) {
    write_out(format_args!("{text}\n"));
}

/// [`out`] without the newline.
pub fn write_out(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(exit::CLOSED_STDOUT.into());
        }
    }
}

/// `--get`'s dot path (`body.userId`, `records.0.tradeId`): steps separated by single dots,
/// none empty. An empty step (`head..code`, `.head`, `head.`) is a usage error rather than
/// skipped, so that the path read is the path written.
pub fn dot_path(text: &str) -> Result<String, String> {
    if text.split('.').any(str::is_empty) {
        return Err(
            "a dot path has a name or index between every two dots and none empty, e.g. \
             body.userId or body.records.0.status"
                .to_owned(),
        );
    }
    Ok(text.to_owned())
}

/// Prints an answer: the whole JSON document pretty, or with `get` the value at that dot path
/// (`body.userId`, `records.0.tradeId`), a string without quotes, so that a shell can capture
/// it: `USER=$(whalet-sim call ... --get body.userId)`. A path that is not there is an error
/// (the whole answer is printed on stderr to show what was there).
pub fn print_answer(answer: &serde_json::Value, get: Option<&str>) -> anyhow::Result<()> {
    let Some(path) = get else {
        out(serde_json::to_string_pretty(answer)?);
        return Ok(());
    };
    let mut at = answer;
    for step in path.split('.') {
        let next = match at {
            serde_json::Value::Array(items) => {
                step.parse::<usize>().ok().and_then(|i| items.get(i))
            }
            other => other.get(step),
        };
        at = match next {
            Some(v) => v,
            None => {
                say!("{}", serde_json::to_string_pretty(answer)?);
                anyhow::bail!("--get {path}: the answer has no `{step}` there (printed above)");
            }
        };
    }
    match at {
        serde_json::Value::String(s) => out(s),
        other => out(other),
    }
    Ok(())
}

/// The runtime every command runs on. The blocking pool (notification sealing, file I/O) is
/// capped at twice the cores (at least 8): RSA work gains nothing from more threads than cores,
/// and each extra thread keeps its own allocator heap, so a burst of notifications to a receiver
/// that is down would otherwise leave tens of MiB behind (docs/PERFORMANCE.md).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads((cores * 2).max(8))
        .build()
}

/// Runs the command line; the exit code says how it ended (`exit.rs`).
pub fn main() -> ExitCode {
    use clap::FromArgMatches;
    let matches = parse_command_line();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let typed = matches
        .subcommand()
        .map(|(_, sub)| typed_ids(sub))
        .unwrap_or_default();
    if let Some(parent) = cli.exit_with_parent {
        crate::bench::server::exit_with_parent(parent);
    }
    let checked = match &cli.command {
        Command::Serve(args) => args.check(&typed),
        Command::Trigger(args) => args.check_params(),
        Command::Call(args) => args
            .check_operation()
            .and_then(|()| args.check_flags(&typed)),
        Command::Listen(args) => args.check_flags(&typed),
        _ => Ok(()),
    };
    if let Err(e) = checked {
        e.exit();
    }
    let log_format = match &cli.command {
        Command::Serve(args) => args.log_format,
        _ => LogFormat::Text,
    };
    init_tracing(log_format, default_log_filter(&cli.command));
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            report_error(log_format, &format!("cannot start the runtime: {e}"));
            return exit::code(exit::ERROR);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Call(args) => call::run(args).await,
            Command::Listen(args) => listen::run(args).await,
            Command::Keygen(args) => keygen::run(args),
            Command::Trigger(args) => trigger(args).await,
            Command::Bench(args) => bench(*args).await,
            Command::Coverage(args) => coverage::run(args).await,
            Command::Contract(args) => contract::run(args),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            report_error(log_format, &format!("{e:#}"));
            exit::code(exit::ERROR)
        }
    }
}

/// The command line parsed by clap; on a refusal, its error (exit 2) said the way
/// [`variable_error`] says it, and a refused secret ([`SECRET_FLAGS`]) said by
/// [`secret_refusal`].
fn parse_command_line() -> clap::ArgMatches {
    use clap::CommandFactory;
    let mut cli = Cli::command();
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    cli.try_get_matches_from_mut(&raw).unwrap_or_else(|e| {
        let variable = refused_variable(&cli, &raw, &e);
        let text = match (refused_secret(&e), variable, secret_before_hyphen(&raw)) {
            (Some(flag), variable, _) => secret_refusal(&e, &variable.unwrap_or(flag)),
            (None, _, Some(flag)) => hyphen_refusal(flag),
            (None, Some(variable), None) => variable_error(&e, &variable),
            (None, None, None) => upload_surface_note(&e).unwrap_or_else(|| e.exit()),
        };
        let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
        std::process::exit(e.exit_code())
    })
}

/// Clap's refusal of `--surface file`, with a note on where the file upload is: the control
/// plane's listing of operations puts it under a surface `file`, which `call` and `listen` do
/// not take (`call` sends no multipart form; `call upload --example` describes the request).
fn upload_surface_note(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(shown)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let Some(ContextValue::String(value)) = e.get(ContextKind::InvalidValue) else {
        return None;
    };
    if !shown.starts_with("--surface") || value != "file" {
        return None;
    }
    let text = e.render().to_string();
    let note = "  note: the file upload (surface \"file\" in GET /__sim/operations, POST \
                /file/upload) is a multipart form that `call` does not send; `call upload \
                --example` describes it\n";
    Some(match text.find("\nFor more information") {
        Some(at) => format!("{}{note}{}", &text[..at], &text[at..]),
        None => format!("{text}{note}"),
    })
}

/// The arguments whose values are secrets: a refusal of one says why, never what was given (a
/// token with a stray character, say a line end read with it from a file, is still the token).
const SECRET_FLAGS: &[&str] = &["--admin-token"];

/// The flag as clap's refusal `e` shows it (`'--admin-token <ADMIN_TOKEN>'`), when `e` refuses
/// the value (one it quotes) of one of [`SECRET_FLAGS`].
fn refused_secret(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(shown)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    e.get(ContextKind::InvalidValue)?;
    let flag = shown.split_whitespace().next()?;
    SECRET_FLAGS.contains(&flag).then(|| format!("'{shown}'"))
}

/// The secret flag of [`SECRET_FLAGS`] typed with its value as the next word (`--admin-token
/// -x...`) when that word starts with `-`: clap reads such a word as flags of its own and
/// refuses it quoting a piece of it, so the whole refusal is ours instead ([`hyphen_refusal`]).
fn secret_before_hyphen(raw: &[std::ffi::OsString]) -> Option<&'static str> {
    raw.windows(2).find_map(|pair| {
        let next = pair[1].to_str().is_some_and(|w| w.starts_with('-'));
        let flag = SECRET_FLAGS
            .iter()
            .find(|f| pair[0].to_str() == Some(**f))?;
        next.then_some(*flag)
    })
}

/// The refusal when the word after a secret flag starts with `-`, naming the way to give such a
/// value and no part of the word (it may be the secret).
fn hyphen_refusal(flag: &str) -> String {
    format!(
        "error: {flag} takes a value, and the word after it starts with '-', so it was read as a \
         flag (not shown: it may be the secret); if it is the value, write it as {flag}=VALUE, \
         with '='\n\n\
         For more information, try '--help'.\n"
    )
}

/// The refusal of a secret's value, built from its parts and never from clap's text: that text
/// quotes the value, and not always as given (clap drops some control characters, so the
/// value given is not there to be masked), so no part of it may reach stderr. `named`: the
/// variable it came from, or the flag as clap shows it.
fn secret_refusal(e: &clap::Error, named: &str) -> String {
    let why = std::error::Error::source(e)
        .map(|why| format!(": {why}"))
        .unwrap_or_default();
    format!(
        "error: invalid value (not shown: it is a secret) for {named}{why}\n\n\
         For more information, try '--help'.\n"
    )
}

/// Clap's refusal of a value that came from the variable `variable`, rewritten to name it:
/// clap names the flag (`invalid value '0' for '--time-scale <SECONDS>'`) even when it was
/// never typed.
fn variable_error(e: &clap::Error, variable: &str) -> String {
    use clap::error::{ContextKind, ContextValue};
    let text = e.render().to_string();
    match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(shown)) => text.replace(&format!("'{shown}'"), variable),
        _ => text,
    }
}

/// The `WHALET_SIM_*` variable whose value clap's refusal `e` is about. None when the refusal
/// is not about a value, or the flag was typed (`raw`: the command line), or its variable is
/// not set. Every variable alike, from the arguments' definitions in the built `cli`.
fn refused_variable(
    cli: &clap::Command,
    raw: &[std::ffi::OsString],
    e: &clap::Error,
) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(shown)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = shown.split_whitespace().next()?.strip_prefix("--")?;
    let words: Vec<&str> = raw.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let sub = words.iter().find_map(|w| cli.find_subcommand(w))?;
    let arg = sub.get_arguments().find(|a| a.get_long() == Some(long))?;
    let variable = arg.get_env()?.to_str()?;
    std::env::var_os(variable)?;
    let flag = format!("--{long}");
    let typed = words.iter().any(|w| {
        *w == flag
            || w.strip_prefix(flag.as_str())
                .is_some_and(|v| v.starts_with('='))
    });
    if typed {
        return None;
    }
    Some(variable.to_owned())
}

/// The clap ids of the arguments given on the command line, not by a variable or a default: a
/// variable set for one surface must not make another surface's `call` or `listen` a usage
/// error, and an error names what the user typed (`--scenario`) or set
/// (`WHALET_SIM_SCENARIO`).
fn typed_ids(matches: &clap::ArgMatches) -> Vec<String> {
    matches
        .ids()
        .map(clap::Id::as_str)
        .filter(|id| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
        .map(str::to_owned)
        .collect()
}

/// A command's final error: `error: …` on stderr, or a JSON log line with `--log-format json`
/// (so that every line a JSON-logging server writes parses), on [`ALWAYS_LOGGED`] so that no
/// `RUST_LOG` hides why the command failed.
fn report_error(format: LogFormat, message: &str) {
    match format {
        LogFormat::Text => say!("error: {message}"),
        LogFormat::Json => tracing::error!(target: ALWAYS_LOGGED, "{message}"),
    }
}

/// The log target no `RUST_LOG` filters out: the ready line (a script started with port 0
/// learns its port from it, whatever level it logs at), the error that stops a command, and
/// the warning that `RUST_LOG` itself was not understood. Documented in docs/CLI.md ("The
/// ready line").
const ALWAYS_LOGGED: &str = "whalet_sim::always";

/// The log filter of a command when `RUST_LOG` is not set: `info`; for `bench`, the edge of its
/// own notification receivers (`whalet_sim::http`, whose start and drain lines would fall among
/// the report on stderr) only warns. The spawned server logs as `--server-log` says.
fn default_log_filter(command: &Command) -> &'static str {
    match command {
        Command::Bench(_) => "info,whalet_sim::http=warn",
        _ => "info",
    }
}

/// The filter of `RUST_LOG` (`default_filter` when it is unset, empty or blank: `RUST_LOG=`
/// as compose or CI pass an unset value must not turn every line off), with
/// [`ALWAYS_LOGGED`] let through whatever it says; and, when `RUST_LOG` is not a filter, why
/// (then `default_filter` applies).
fn log_filter(
    given: Option<std::ffi::OsString>,
    default_filter: &str,
) -> (tracing_subscriber::EnvFilter, Option<String>) {
    use tracing_subscriber::EnvFilter;
    let given = given.filter(|v| !v.to_string_lossy().trim().is_empty());
    let (filter, refused) = match given.as_ref().map(|v| v.to_str()) {
        None => (EnvFilter::new(default_filter), None),
        Some(None) => (
            EnvFilter::new(default_filter),
            Some("RUST_LOG is not valid UTF-8".to_owned()),
        ),
        Some(Some(text)) => match EnvFilter::try_new(text) {
            Ok(filter) => (filter, None),
            Err(e) => (
                EnvFilter::new(default_filter),
                Some(format!("RUST_LOG={text:?} is not a log filter ({e})")),
            ),
        },
    };
    let refused = refused.map(|why| format!("{why}; logging with {default_filter:?} instead"));
    match format!("{ALWAYS_LOGGED}=info").parse() {
        Ok(always) => (filter.add_directive(always), refused),
        Err(_) => (filter, refused),
    }
}

fn init_tracing(format: LogFormat, default_filter: &str) {
    let (filter, refused) = log_filter(std::env::var_os("RUST_LOG"), default_filter);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => {
            // Colour only on a terminal (and not with NO_COLOR): CI logs and redirected files
            // get plain text.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            builder.with_ansi(ansi).try_init()
        }
    };
    if let Some(why) = refused {
        tracing::warn!(target: ALWAYS_LOGGED, "{why}");
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(one_in) = args.account_crypto {
        crate::wire::crypto::account::enable(one_in);
    }
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    for host in args
        .allowed_hosts
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
    {
        if !config
            .server
            .allowed_hosts
            .iter()
            .any(|known| known == host)
        {
            config.server.allowed_hosts.push(host.to_owned());
        }
    }
    if let Some(token) = args.admin_token.clone().filter(|t| !t.is_empty()) {
        config.server.admin_token = Some(token);
    }
    if let Some(file) = args.contract.clone() {
        config.contract.file = Some(file);
    }
    if let Some(sftp) = args.sftp_addr.as_deref() {
        // Checked before the start (`ServeArgs::check`), as a usage error.
        config.infinia.sftp_addr =
            sftp_setting(sftp).map_err(|why| anyhow::anyhow!("--sftp-addr: {why}"))?;
    }
    if let Some(dir) = &args.data_dir {
        config.store.data_dir = Some(dir.clone());
    }
    let sftp_configured = !config.infinia.sftp_addr.trim().is_empty();
    let has_token = config.server.admin_token().is_some();
    let clock_mode = if args.manual_clock {
        Some(ClockMode::Manual)
    } else {
        args.time_scale.map(|scale| ClockMode::Scaled { scale })
    };
    let app = App::new(
        config,
        Options {
            notify_url: args.notify_url.clone(),
            clock_mode,
            start_time: args.start_time,
            scenario_files: args.scenarios.clone(),
        },
    )?;
    // A start refused from here on releases the data dir's lock file (the core keeps it open).
    let data_dir = crate::persist::sqlite::data_dir(app.core());
    let refused = |e: anyhow::Error| {
        if let Some(dir) = &data_dir {
            dir.release();
        }
        e
    };
    if let Some(path) = &args.snapshot {
        app.load_snapshot(path).map_err(refused)?;
        // The snapshot is written into the data dir before the ready line (and before any
        // answer): a `kill -9` right after "ready on" must not bring back what the directory
        // held before (docs/PERSISTENCE.md, "Snapshots").
        if let Some(dir) = &data_dir {
            dir.commit().map_err(|e| {
                refused(anyhow::anyhow!(
                    "snapshot {}: it was read, but writing it into the data dir failed ({e}); \
                     the data dir still holds its earlier state: free space on its disk or fix \
                     the directory, then start again",
                    path.display()
                ))
            })?;
        }
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| refused(anyhow::anyhow!("cannot listen on {}: {e}", args.addr)))?;
    let signal = crate::app::ShutdownSignal::install();
    let running = app.spawn(listener);
    if !running.addr.ip().is_loopback() && !has_token {
        tracing::warn!(
            addr = %running.addr,
            "NO ADMIN TOKEN on a non-loopback address: anyone who can reach this port can reset \
             the simulator, fire triggers and read the decrypted journal; set --admin-token \
             (or WHALET_SIM_ADMIN_TOKEN, or [server] admin_token)"
        );
    }
    let sftp = match running.app.infinia().apps.sftp_addr() {
        Some(addr) => Sftp::On(addr),
        None if sftp_configured => Sftp::NotStarted,
        None => Sftp::Off,
    };
    let restored = Restored {
        scenarios: running.app.restored_scenarios(),
        from: if args.snapshot.is_some() {
            "the snapshot"
        } else {
            "the data dir"
        },
    };
    tracing::info!(
        target: ALWAYS_LOGGED,
        "{}",
        ready_line(running.addr, sftp, &args.scenarios, &restored)
    );
    if args.quiet_after_ready {
        crate::bench::server::quiet_stderr();
    }
    running.run_until(signal).await;
    match data_dir.and_then(|dir| dir.stop_error()) {
        Some(e) => Err(anyhow::anyhow!(
            "stopped, but the last write to the data dir failed ({e}): the changes since its last \
             commit are lost; free space on its disk or fix the directory before the next start"
        )),
        None => Ok(exit::code(exit::SUCCESS)),
    }
}

/// The Infinia SFTP server as the ready line reports it.
#[derive(Clone, Copy)]
enum Sftp {
    On(SocketAddr),
    /// Configured but not listening (the warning before the ready line says why).
    NotStarted,
    Off,
}

/// The partner-facing surfaces and their paths, as the ready line lists them.
const SURFACES: &[(&str, &str)] = &[
    ("Whalet Open API", "POST /api, /api/{apiCode}"),
    ("Whalet file upload", "POST /file/upload"),
    ("whalet-platform", "POST /v1/platform/{apiCode}"),
    ("Infinia Pay", "POST /api/v1/{path}"),
    ("Pockyt", "POST /v3/{path}, /v2/customers/account/{path}"),
    ("control plane", "/__sim/"),
];

/// The scenarios a start restored (a data dir's or a snapshot's), as the ready line lists them.
struct Restored {
    /// (name, tenant), in load order.
    scenarios: Vec<(String, Option<String>)>,
    /// Where they came from: `the snapshot` or `the data dir`.
    from: &'static str,
}

/// The one line `serve` logs once it accepts requests: the dashboard's URL, every surface with
/// its paths, SFTP and the scenarios loaded: each file given by its path, then each restored one
/// by its name (`happy-path (from the snapshot)`). Plain text (no Rust debug forms) so that a
/// person and a script can read it.
fn ready_line(addr: SocketAddr, sftp: Sftp, scenarios: &[PathBuf], restored: &Restored) -> String {
    // A wildcard address is not one a browser can open; the same port on loopback is.
    let browsable = if addr.ip().is_unspecified() {
        let ip = if addr.is_ipv4() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
        };
        SocketAddr::new(ip, addr.port())
    } else {
        addr
    };
    let surfaces: Vec<String> = SURFACES
        .iter()
        .map(|(name, paths)| format!("{name} {paths}"))
        .collect();
    let sftp = match sftp {
        Sftp::On(a) => format!("Infinia SFTP on {a}"),
        Sftp::NotStarted => "Infinia SFTP not started (see the warning above)".to_owned(),
        Sftp::Off => "Infinia SFTP off".to_owned(),
    };
    let from = restored.from;
    let scenarios: Vec<String> = scenarios
        .iter()
        .map(|p| p.display().to_string())
        .chain(
            restored
                .scenarios
                .iter()
                .map(|(name, tenant)| match tenant {
                    Some(tenant) => format!("{name} for {tenant} (from {from})"),
                    None => format!("{name} (from {from})"),
                }),
        )
        .collect();
    let scenarios = if scenarios.is_empty() {
        "none".to_owned()
    } else {
        scenarios.join(", ")
    };
    format!(
        "whalet-sim ready on {addr}; dashboard http://{browsable}/; {}; {sftp}; scenarios: {scenarios}",
        surfaces.join("; ")
    )
}

async fn trigger(args: TriggerArgs) -> anyhow::Result<ExitCode> {
    let mut client = crate::partner::reply_client();
    if let Some(token) = args.admin_token.as_deref().filter(|t| !t.is_empty()) {
        client = client.with_bearer(token);
    }
    let base = simulator_root(&args.url);
    if args.list {
        return list_triggers(&client, base, &args.url, args.event.as_deref()).await;
    }
    let Some(event) = args.event.as_deref() else {
        // clap requires an event unless --list is given.
        return Ok(exit::code(exit::USAGE));
    };
    let params: serde_json::Map<String, serde_json::Value> = args
        .params
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let url = format!("{base}/__sim/trigger/{event}");
    let body = serde_json::to_vec(&params)?;
    let response = client
        .post(
            &url,
            "application/json",
            body.into(),
            std::time::Duration::from_secs(30),
        )
        .await;
    let response = match whole_answer(&format!("POST {url}"), response, client.answer_limit()) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let code = control_exit(response.status, &response.body);
    let answer = serde_json::from_slice::<serde_json::Value>(&response.body);
    match (code, answer) {
        (exit::SUCCESS, Ok(answer)) if answer.is_object() => {
            let path = args.get.as_deref().map(|p| trigger_path(&answer, p));
            print_answer(&answer, path.as_deref())?
        }
        (exit::SUCCESS, _) => {
            not_understood(&format!("POST {url}"), &response.body, "the event's result");
            return Ok(exit::code(exit::WIRE));
        }
        (exit::TRANSPORT, _) if is_no_route(response.status, &response.body) => {
            say!("{}", no_route_error(&format!("POST {url}"), &args.url))
        }
        (exit::TRANSPORT, _) => say!(
            "error: POST {url}: HTTP {} without the simulator's refusal (a transport failure): {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ),
        // The simulator's refusal: on stdout as a success would be, but on stderr with --get,
        // whose caller captures stdout for one field (docs/CLI.md).
        _ if args.get.is_some() => say!("{}", String::from_utf8_lossy(&response.body)),
        _ => out(String::from_utf8_lossy(&response.body)),
    }
    Ok(exit::code(code))
}

/// `trigger --list [EVENT]`: every event the simulator at `base` (the root of the URL `given`)
/// serves, with its parameters and description; with `only`, that event alone (an event it does
/// not serve is a usage error naming the nearest one, as `call --example` names the nearest
/// operation).
async fn list_triggers(
    client: &crate::http::client::HttpClient,
    base: &str,
    given: &str,
    only: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let url = format!("{base}/__sim/triggers");
    let sent = client.get(&url, std::time::Duration::from_secs(30)).await;
    let response = match whole_answer(&format!("GET {url}"), sent, client.answer_limit()) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    if is_no_route(response.status, &response.body) {
        say!("{}", no_route_error(&format!("GET {url}"), given));
        return Ok(exit::code(exit::TRANSPORT));
    }
    if response.status != 200 {
        say!(
            "error: GET {url}: HTTP {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
        return Ok(exit::code(control_exit(response.status, &response.body)));
    }
    let listing = serde_json::from_slice::<serde_json::Value>(&response.body);
    let Some(triggers) = listing.as_ref().ok().and_then(|l| l["triggers"].as_array()) else {
        not_understood(&format!("GET {url}"), &response.body, "a list of triggers");
        return Ok(exit::code(exit::WIRE));
    };
    let name = |t: &serde_json::Value| t["name"].as_str().unwrap_or_default().to_owned();
    let shown: Vec<&serde_json::Value> = triggers
        .iter()
        .filter(|t| only.is_none_or(|event| name(t) == event))
        .collect();
    if let (Some(event), true) = (only, shown.is_empty()) {
        let names: Vec<String> = triggers.iter().map(name).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let near = crate::text::nearest(event, &names)
            .map(|near| format!("did you mean `{near}`? "))
            .unwrap_or_default();
        say!(
            "error: the simulator at {base} has no trigger {event}: {near}`trigger --list` lists \
             them all"
        );
        return Ok(exit::code(exit::USAGE));
    }
    for t in shown {
        out(trigger_line(t));
    }
    Ok(exit::code(exit::SUCCESS))
}

/// One trigger of `GET /__sim/triggers` as `trigger --list` prints it: its name and
/// parameters, then its description indented.
fn trigger_line(t: &serde_json::Value) -> String {
    let params: Vec<String> = t["params"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.get(0).and_then(|n| n.as_str()).map(param_usage))
        .collect();
    format!(
        "{} {}\n    {}",
        t["name"].as_str().unwrap_or(""),
        params.join(" "),
        t["description"].as_str().unwrap_or("")
    )
}

/// How `trigger --list` shows a parameter: `name=...`, `name?=...` when optional, and one that
/// takes any one of several names (`transactionNo|invoiceId`) as `(transactionNo=... | invoiceId=...)`:
/// the declaration itself is no name to send.
fn param_usage(declared: &str) -> String {
    let (names, optional) = match declared.strip_suffix('?') {
        Some(names) => (names, "?"),
        None => (declared, ""),
    };
    if !names.contains('|') {
        return format!("{names}{optional}=...");
    }
    let each: Vec<String> = names.split('|').map(|n| format!("{n}=...")).collect();
    format!("({}){optional}", each.join(" | "))
}

/// Says on stderr that the answer to `request` (HTTP 200) is not the simulator's JSON holding
/// `what`: not a simulator's answer (another server on that port), the wire error of
/// [`exit::WIRE`]. The answer is shown cut ([`crate::text::message`]).
fn not_understood(request: &str, body: &[u8], what: &str) {
    say!(
        "error: {request}: the answer is not the simulator's JSON with {what} (is a simulator \
         listening there?): {}",
        crate::text::message(String::from_utf8_lossy(body))
    );
}

/// The exit code of the control plane's answer (`trigger`, `coverage`): 200 is done; a 4xx with the
/// simulator's JSON reason `{"error": …}` is its refusal (unknown event, bad parameter,
/// missing token); any other status (a busy simulator's 503, a proxy's 502), and the edge's
/// "no route" 404 ([`is_no_route`]: a `--url` whose path is not the simulator's root), is not
/// an answer to the request but a transport failure, as `call` counts a status without a refusal.
fn control_exit(status: u16, body: &[u8]) -> u8 {
    let reason = || {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .is_some_and(|answer| {
                answer
                    .get("error")
                    .is_some_and(serde_json::Value::is_string)
            })
    };
    match status {
        200 => exit::SUCCESS,
        404 if is_no_route(status, body) => exit::TRANSPORT,
        400..=499 if reason() => exit::REFUSED,
        _ => exit::TRANSPORT,
    }
}

/// The answer to `request` (`POST url`) if it came whole; else the error is said on stderr and
/// the exit code returned: no answer is a transport failure, one longer than `limit` (the most
/// the command reads) a local error.
fn whole_answer(
    request: &str,
    sent: Result<crate::http::client::ClientResponse, String>,
    limit: usize,
) -> Result<crate::http::client::ClientResponse, ExitCode> {
    match sent {
        Err(e) => {
            say!("error: {request}: {e}");
            Err(exit::code(exit::TRANSPORT))
        }
        Ok(response) if response.truncated => {
            say!("error: {request}: {}", crate::partner::too_long(limit));
            Err(exit::code(exit::ERROR))
        }
        Ok(response) => Ok(response),
    }
}

/// The dot path `trigger --get` reads in the answer `{trigger, result}`: a path whose first step
/// is a key of the answer is taken from the top (`result.tradeId`, `trigger`), any other from
/// the event's `result` (`tradeId`), where every field worth capturing is.
fn trigger_path(answer: &serde_json::Value, path: &str) -> String {
    let first = path.split('.').next().unwrap_or_default();
    if answer.get(first).is_some() || answer.get("result").is_none() {
        path.to_owned()
    } else {
        format!("result.{path}")
    }
}

/// The partner's private key and Whalet's public key from `--key` / `--platform-key` (see
/// [`key_flags::key_flag_text`](crate::config::key_flags::key_flag_text) for the forms); the
/// demo keys when a flag is absent.
pub fn partner_keys(
    key: Option<&str>,
    platform_key: Option<&str>,
) -> anyhow::Result<(crate::wire::keys::PrivateKey, crate::wire::keys::PublicKey)> {
    use crate::wire::keys::demo;
    Ok((
        key_flag("key", key, demo::PARTNER_PRIVATE)?,
        key_flag("platform-key", platform_key, demo::PLATFORM_PUBLIC)?,
    ))
}

/// The key given to `--<flag>` of `call` or `listen`: [`crate::config::key_flags::key_flag`],
/// the one reader of every command's key flags.
pub use crate::config::key_flags::key_flag;

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the control plane's own refusal (a 4xx with its JSON reason) is exit 5; a busy
    /// simulator's 503 (the same JSON shape) or a proxy's answer is a transport failure.
    /// A parameter taking one of several names is listed as a choice, not as the declaration
    /// (`transactionNo|invoiceId=...` was no name to send, and a pipe in a shell).
    #[test]
    fn trigger_parameters_are_listed_as_they_are_sent() {
        assert_eq!(param_usage("userId"), "userId=...");
        assert_eq!(param_usage("message?"), "message?=...");
        assert_eq!(
            param_usage("transactionNo|invoiceId"),
            "(transactionNo=... | invoiceId=...)"
        );
        assert_eq!(param_usage("a|b?"), "(a=... | b=...)?");
    }

    /// Regression: a refused admin token was masked by finding it in clap's message, which
    /// drops some control characters (\x01, ESC, DEL), so such a token was printed. The refusal
    /// is built without the value: no part of the token is in it, whatever it holds.
    #[test]
    fn a_refused_admin_token_is_never_shown() {
        use clap::Parser;
        for stray in ["\u{1}", "\u{1b}", "\u{7f}", "\t", "\r\n", " ", "\u{feff}"] {
            let token = format!("MySecretToken{stray}");
            for words in [
                vec!["whalet-sim", "serve", "--admin-token", &token],
                vec!["whalet-sim", "trigger", "--list", "--admin-token", &token],
                vec!["whalet-sim", "coverage", "--admin-token", &token],
            ] {
                let e = Cli::try_parse_from(&words).err().unwrap();
                let flag = refused_secret(&e).unwrap_or_else(|| panic!("{words:?}: {e}"));
                let said = secret_refusal(&e, &flag);
                assert!(!said.contains("MySecret"), "{said:?}");
                assert!(
                    said.starts_with(
                        "error: invalid value (not shown: it is a secret) for '--admin-token"
                    ),
                    "{said:?}"
                );
                assert!(said.contains("visible ASCII characters only"), "{said:?}");
                let from_variable = secret_refusal(&e, "WHALET_SIM_ADMIN_TOKEN");
                assert!(
                    from_variable.contains("for WHALET_SIM_ADMIN_TOKEN: an admin token"),
                    "{from_variable:?}"
                );
            }
        }
        // A value that starts with '-' is read by clap as flags, and its refusal quotes a piece
        // of it ("unexpected argument '-a'"): the refusal is ours and names `--admin-token=`.
        let words = ["whalet-sim", "serve", "--admin-token", "-aSecretToken"];
        let raw: Vec<std::ffi::OsString> = words.iter().map(Into::into).collect();
        let e = Cli::try_parse_from(words).err().unwrap();
        assert!(e.to_string().contains("'-a'"), "{e}");
        assert_eq!(refused_secret(&e), None);
        let flag = secret_before_hyphen(&raw).unwrap();
        let said = hyphen_refusal(flag);
        assert!(!said.contains("'-a") && !said.contains("Secret"), "{said}");
        assert!(said.contains("--admin-token=VALUE"), "{said}");
        let given = ["whalet-sim", "serve", "--admin-token=-aSecretToken"];
        assert!(Cli::try_parse_from(given).is_ok());
        let raw: Vec<std::ffi::OsString> = given.iter().map(Into::into).collect();
        assert_eq!(secret_before_hyphen(&raw), None);
        // `--surface file` (the listing's name for the upload) points at `call upload --example`.
        let words: [&[&str]; 2] = [
            &["whalet-sim", "call", "upload", "--surface", "file"],
            &["whalet-sim", "listen", "--surface", "file"],
        ];
        for command in words {
            let e = Cli::try_parse_from(command).err().unwrap();
            let said = upload_surface_note(&e).unwrap_or_else(|| panic!("{command:?}: {e}"));
            assert!(said.contains("invalid value 'file'"), "{said}");
            assert!(
                said.contains("`call upload --example` describes it"),
                "{said}"
            );
            assert!(
                said.ends_with("For more information, try '--help'.\n"),
                "{said}"
            );
        }
        let e = Cli::try_parse_from(["whalet-sim", "call", "x", "--surface", "filed"])
            .err()
            .unwrap();
        assert_eq!(upload_surface_note(&e), None);
        // Another flag's refusal is no secret's: it keeps clap's text.
        let e = Cli::try_parse_from(["whalet-sim", "serve", "--time-scale", "0"])
            .err()
            .unwrap();
        assert_eq!(refused_secret(&e), None);
    }

    /// Regression: `RUST_LOG=` (set but empty) turned every line off, and any filter that drops
    /// INFO or ERROR (`warn`, `off`, `whalet_sim=off`) dropped the ready line and, in JSON, the
    /// error that stops `serve`. An empty or blank value is the default; [`ALWAYS_LOGGED`]
    /// passes every filter; a value that is no filter is said.
    #[test]
    fn rust_log_never_hides_the_ready_line_or_a_fatal_error() {
        let enabled = |given: Option<&str>, target: &str| {
            let (filter, refused) = log_filter(given.map(Into::into), "info");
            let subscriber = tracing_subscriber::fmt().with_env_filter(filter).finish();
            let on = tracing::subscriber::with_default(subscriber, || match target {
                ALWAYS_LOGGED => (
                    tracing::enabled!(target: ALWAYS_LOGGED, tracing::Level::INFO),
                    tracing::enabled!(target: ALWAYS_LOGGED, tracing::Level::ERROR),
                ),
                _ => (
                    tracing::enabled!(target: "whalet_sim::http", tracing::Level::INFO),
                    tracing::enabled!(target: "whalet_sim::http", tracing::Level::ERROR),
                ),
            });
            (on, refused)
        };
        for given in [None, Some(""), Some("  "), Some("info")] {
            assert_eq!(enabled(given, "other"), ((true, true), None), "{given:?}");
        }
        for given in [
            "off",
            "warn",
            "error",
            "whalet_sim=off",
            "whalet_sim::always=off",
        ] {
            let ((info, error), refused) = enabled(Some(given), ALWAYS_LOGGED);
            assert!(info && error && refused.is_none(), "{given}");
        }
        assert_eq!(enabled(Some("off"), "other").0, (false, false));
        assert_eq!(enabled(Some("warn"), "other").0, (false, true));
        let (on, refused) = enabled(Some("[[["), "other");
        assert_eq!(on, (true, true), "an invalid filter logs at the default");
        let refused = refused.unwrap();
        assert!(
            refused.starts_with("RUST_LOG=\"[[[\" is not a log filter")
                && refused.ends_with("logging with \"info\" instead"),
            "{refused}"
        );
    }

    /// `bench`'s own receivers (`whalet_sim::http`) log only warnings, so that their start and
    /// drain lines do not fall among the report; other commands log at info.
    #[test]
    fn the_bench_quiets_the_edge_of_its_own_receivers() {
        use clap::Parser;
        let enabled = |words: &[&str], level: tracing::Level| {
            let cli = Cli::try_parse_from(words).unwrap_or_else(|e| panic!("{e}"));
            let filter = tracing_subscriber::EnvFilter::new(default_log_filter(&cli.command));
            let subscriber = tracing_subscriber::fmt().with_env_filter(filter).finish();
            tracing::subscriber::with_default(subscriber, || match level {
                tracing::Level::INFO => {
                    tracing::enabled!(target: "whalet_sim::http", tracing::Level::INFO)
                }
                _ => tracing::enabled!(target: "whalet_sim::http", tracing::Level::WARN),
            })
        };
        let bench = ["whalet-sim", "bench", "--notifications", "10"];
        assert!(!enabled(&bench, tracing::Level::INFO));
        assert!(enabled(&bench, tracing::Level::WARN));
        assert!(enabled(&["whalet-sim", "listen"], tracing::Level::INFO));
    }

    /// Every path the simulator serves (an endpoint URL `call` sends to, the control plane)
    /// names the simulator whose root comes before it, with or without a proxy's path prefix;
    /// a path that is none of them is kept.
    #[test]
    fn every_endpoint_url_names_the_simulators_root() {
        let served = [
            "",
            "/",
            "/api",
            "/api/",
            "/api/connectivity",
            "/api/v1/account-balance/query",
            "/api/v1",
            "/v1/platform/shopAccountBind",
            "/v1/platform",
            "/v3/payouts/balance",
            "/v2/customers/account/create",
            "/file/upload",
            "/__sim/",
            "/__sim/health",
            "//api",
        ];
        for base in ["http://127.0.0.1:8080", "https://gw.example/sim/whalet"] {
            for path in served {
                assert_eq!(simulator_root(&format!("{base}{path}")), base, "{path}");
            }
        }
        for kept in [
            "http://h:1/nowhere",
            "http://h:1/apis",
            "http://h:1/v1/other",
        ] {
            assert_eq!(simulator_root(kept), kept);
        }
    }

    /// The edge's "no route" 404 (a `--url` path that is not the simulator's root) is a
    /// transport failure, not the control plane's refusal, whose 404s keep exit 5.
    #[test]
    fn the_edges_no_route_answer_is_not_the_control_planes_refusal() {
        let no_route = br#"{"error":"no route for GET /api/__sim/coverage","hint":"..."}"#;
        assert_eq!(control_exit(404, no_route), exit::TRANSPORT);
        let unknown = br#"{"error":"no control endpoint GET /__sim/nope"}"#;
        assert_eq!(control_exit(404, unknown), exit::REFUSED);
        let said = no_route_error("GET http://h:1/x/__sim/coverage", "http://h:1/x");
        assert!(said.contains("http://h:1/x is not"), "{said}");
    }

    #[test]
    fn a_trigger_answer_is_refused_only_by_the_simulators_4xx_reason() {
        let reason = br#"{"error":"unknown event whalet.nope"}"#;
        assert_eq!(control_exit(200, br#"{"trigger":"x"}"#), exit::SUCCESS);
        for status in [400, 401, 403, 404, 422, 429] {
            assert_eq!(control_exit(status, reason), exit::REFUSED, "{status}");
        }
        let busy = br#"{"error":"too many open connections to the simulator; retry later"}"#;
        assert_eq!(control_exit(503, busy), exit::TRANSPORT);
        assert_eq!(
            control_exit(502, b"<html>Bad Gateway</html>"),
            exit::TRANSPORT
        );
        assert_eq!(
            control_exit(407, b"Proxy Authentication Required"),
            exit::TRANSPORT
        );
        assert_eq!(control_exit(404, br#"{"error":1}"#), exit::TRANSPORT);
        assert_eq!(control_exit(302, b""), exit::TRANSPORT);
    }

    #[test]
    fn trigger_get_reads_the_result_unless_the_path_starts_at_the_top() {
        let answer = serde_json::json!({
            "trigger": "whalet.collection.received",
            "result": {"tradeId": "T1", "amount": {"cent": 1000}},
        });
        assert_eq!(trigger_path(&answer, "tradeId"), "result.tradeId");
        assert_eq!(trigger_path(&answer, "amount.cent"), "result.amount.cent");
        assert_eq!(trigger_path(&answer, "result.tradeId"), "result.tradeId");
        assert_eq!(trigger_path(&answer, "trigger"), "trigger");
        assert_eq!(trigger_path(&answer, "nope"), "result.nope");
        let plain = serde_json::json!({"ok": true});
        assert_eq!(trigger_path(&plain, "ok"), "ok");
    }

    /// The ready line lists the scenario files given, then each scenario a start restored by
    /// its name and where it came from (a scoped one with its tenant); `none` only when no
    /// scenario is loaded at all.
    #[test]
    fn the_ready_line_names_restored_scenarios_after_the_files() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 8080));
        let restored = Restored {
            scenarios: vec![
                ("happy-path".to_owned(), None),
                ("edd".to_owned(), Some("whalet:202400000000001".to_owned())),
            ],
            from: "the snapshot",
        };
        let files = [PathBuf::from("a.toml")];
        let line = ready_line(addr, Sftp::Off, &files, &restored);
        assert!(
            line.ends_with(
                "scenarios: a.toml, happy-path (from the snapshot), edd for \
                 whalet:202400000000001 (from the snapshot)"
            ),
            "{line}"
        );
        let line = ready_line(addr, Sftp::Off, &[], &restored);
        assert!(
            line.contains("scenarios: happy-path (from the snapshot)"),
            "{line}"
        );
        let none = Restored {
            scenarios: Vec::new(),
            from: "the data dir",
        };
        assert!(ready_line(addr, Sftp::Off, &[], &none).ends_with("scenarios: none"));
        assert!(ready_line(addr, Sftp::Off, &files, &none).ends_with("scenarios: a.toml"));
    }
}
