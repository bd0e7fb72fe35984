//! The command line: `serve`, `call`, `listen`, `keygen`, `trigger`. Thin: each command builds
//! what it needs from the library and runs it.

mod call;
mod keygen;
mod listen;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::{parse_rfc3339, App, Options};
use crate::clock::ClockMode;
use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "whalet-sim",
    version,
    about = "A local simulator of the Whalet, Infinia Pay and Pockyt payment APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the simulator.
    Serve(ServeArgs),
    /// Act as a Whalet partner: seal, sign and send one request; verify and print the reply.
    Call(call::CallArgs),
    /// Act as a partner's notify endpoint: verify, decrypt and print notifications; acknowledge.
    Listen(listen::ListenArgs),
    /// Write a fresh 2048-bit RSA key pair in PEM and bare Base64 DER.
    Keygen(keygen::KeygenArgs),
    /// Fire an external event on a running simulator (`key=value` parameters).
    Trigger(TriggerArgs),
    /// Load-test a simulator with N concurrent partners; report throughput, latency, CPU, memory.
    Bench(Box<crate::bench::BenchArgs>),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "WHALET_SIM_ADDR")]
    addr: SocketAddr,
    /// TOML configuration (tenants, keys, notify URLs, apiCode names, policies).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Notification URL of every demo tenant.
    #[arg(long)]
    notify_url: Option<String>,
    /// Run virtual time at this fraction of real time (0.01 = 100x faster).
    #[arg(long)]
    time_scale: Option<f64>,
    /// Freeze the clock; advance it with POST /__sim/clock/advance.
    #[arg(long, conflicts_with = "time_scale")]
    manual_clock: bool,
    /// Virtual start time (RFC 3339, e.g. 2025-01-01T00:00:00Z).
    #[arg(long)]
    start_time: Option<String>,
    /// Scenario file to load (repeatable).
    #[arg(long = "scenario")]
    scenarios: Vec<PathBuf>,
    /// Require this token on every /__sim/ request except GET /__sim/health (overrides
    /// `[server] admin_token`). Clients send `Authorization: Bearer <token>`; the dashboard is
    /// opened once as /?token=<token>.
    #[arg(long, env = "WHALET_SIM_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

#[derive(clap::Args)]
struct TriggerArgs {
    /// Event name (`--list` shows them).
    #[arg(required_unless_present = "list")]
    event: Option<String>,
    /// List the events the simulator serves, with their parameters.
    #[arg(long)]
    list: bool,
    /// Parameters as key=value.
    params: Vec<String>,
    /// The simulator's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The simulator's admin token, if it was started with one.
    #[arg(long, env = "WHALET_SIM_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
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

/// Runs the command line; the exit code says whether it succeeded.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Call(args) => call::run(args).await,
            Command::Listen(args) => listen::run(args).await,
            Command::Keygen(args) => keygen::run(args),
            Command::Trigger(args) => trigger(args).await,
            Command::Bench(args) => crate::bench::run(*args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal (and not with NO_COLOR): CI logs and redirected files get plain
    // text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(token) = args.admin_token.clone().filter(|t| !t.is_empty()) {
        config.server.admin_token = Some(token);
    }
    let has_token = config.server.admin_token().is_some();
    let clock_mode = if args.manual_clock {
        Some(ClockMode::Manual)
    } else {
        args.time_scale.map(|scale| ClockMode::Scaled { scale })
    };
    if let Some(ClockMode::Scaled { scale }) = clock_mode {
        anyhow::ensure!(
            scale > 0.0 && scale.is_finite(),
            "--time-scale must be a positive number"
        );
    }
    let start_time = args.start_time.as_deref().map(parse_rfc3339).transpose()?;
    let app = App::new(
        config,
        Options {
            notify_url: args.notify_url.clone(),
            clock_mode,
            start_time,
            scenario_files: args.scenarios.clone(),
        },
    )?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.addr))?;
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
    tracing::info!(addr = %running.addr, "whalet-sim ready: Whalet POST /api, control plane /__sim/");
    running.run_until(signal).await;
    Ok(ExitCode::SUCCESS)
}

async fn trigger(args: TriggerArgs) -> anyhow::Result<ExitCode> {
    let mut client = crate::http::client::HttpClient::new();
    if let Some(token) = args.admin_token.as_deref().filter(|t| !t.is_empty()) {
        client = client.with_bearer(token);
    }
    let base = args.url.trim_end_matches('/');
    let Some(event) = args.event.as_deref().filter(|_| !args.list) else {
        let url = format!("{base}/__sim/triggers");
        let response = client
            .get(&url, std::time::Duration::from_secs(30))
            .await
            .map_err(|e| anyhow::anyhow!("GET {url}: {e}"))?;
        anyhow::ensure!(
            response.status == 200,
            "GET {url}: HTTP {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
        let listing: serde_json::Value = serde_json::from_slice(&response.body)?;
        for t in listing["triggers"].as_array().into_iter().flatten() {
            let params: Vec<String> = t["params"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    p.get(0)
                        .and_then(|n| n.as_str())
                        .map(|n| format!("{n}=..."))
                })
                .collect();
            println!("{} {}", t["name"].as_str().unwrap_or(""), params.join(" "));
            println!("    {}", t["description"].as_str().unwrap_or(""));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let mut params = serde_json::Map::new();
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("parameter {p:?} is not key=value"))?;
        params.insert(k.to_owned(), serde_json::Value::String(v.to_owned()));
    }
    let url = format!("{base}/__sim/trigger/{event}");
    let body = serde_json::to_vec(&params)?;
    let response = client
        .post(
            &url,
            "application/json",
            body.into(),
            std::time::Duration::from_secs(30),
        )
        .await
        .map_err(|e| anyhow::anyhow!("POST {url}: {e}"))?;
    println!("{}", String::from_utf8_lossy(&response.body));
    Ok(if response.status == 200 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The partner's private key and Whalet's public key from `--key` / `--platform-key` files
/// (PEM or bare Base64 DER); the demo keys when a flag is absent.
pub fn partner_keys(
    key: Option<&std::path::Path>,
    platform_key: Option<&std::path::Path>,
) -> anyhow::Result<(crate::wire::keys::PrivateKey, crate::wire::keys::PublicKey)> {
    use crate::config::key_text;
    use crate::wire::keys::{demo, PrivateKey, PublicKey};
    let key = match key {
        Some(p) => PrivateKey::parse(&key_text(&format!("@{}", p.display()))?)?,
        None => PrivateKey::parse(demo::PARTNER_PRIVATE)?,
    };
    let platform = match platform_key {
        Some(p) => PublicKey::parse(&key_text(&format!("@{}", p.display()))?)?,
        None => PublicKey::parse(demo::PLATFORM_PUBLIC)?,
    };
    Ok((key, platform))
}
