//! `whalet-sim coverage`: what a running simulator's traffic exercised (docs/COVERAGE.md), as
//! text, JSON, JUnit XML or HTML; exits `5` (refused) below `--min` so CI can require coverage,
//! and on the simulator's refusal; `3` when no answer (or a status without its refusal) came.

use std::process::ExitCode;
use std::time::Duration;

use super::exit;
use crate::coverage::report::Report;

/// Report formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Grouped by surface, group and operation, with hit counts and hints for what is missing.
    #[default]
    Text,
    /// `GET /__sim/coverage` as it answers.
    Json,
    /// JUnit XML: each item a test case; never exercised = a failure.
    Junit,
    /// A standalone HTML page with a bar per operation.
    Html,
}

#[derive(clap::Args)]
#[command(after_help = exit::EXIT_CODES)]
pub struct CoverageArgs {
    /// The simulator's base URL (an endpoint URL of it, such as `.../api`, names the same
    /// simulator).
    #[arg(long, env = "WHALET_SIM_URL", default_value = "http://127.0.0.1:8080", value_parser = super::base_url)]
    url: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 5 when less than this share (percent, 0–100) of the selected items was exercised.
    #[arg(long, value_parser = percent)]
    min: Option<f64>,
    /// Only this tenant's traffic (provider:id, e.g. whalet:202400000000001).
    #[arg(long)]
    tenant: Option<String>,
    /// Only this surface (whalet, platform, file, infinia, pockyt).
    #[arg(long)]
    surface: Option<String>,
    /// Only this operation group (e.g. payout, collections); a group name several surfaces
    /// have (payout, envelope, notifications, ...) needs --surface.
    #[arg(long)]
    group: Option<String>,
    /// The simulator's admin token, if it was started with one.
    #[arg(long, env = "WHALET_SIM_ADMIN_TOKEN", hide_env_values = true, value_parser = crate::cli::admin_token)]
    admin_token: Option<String>,
}

fn percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a percentage from 0 to 100")),
    }
}

/// Query text `key=value&...` for the given pairs (values percent-encoded).
fn query(pairs: &[(&str, &Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn run(args: CoverageArgs) -> anyhow::Result<ExitCode> {
    let base = super::simulator_root(&args.url);
    let url = format!(
        "{base}/__sim/coverage{}",
        query(&[
            ("tenant", &args.tenant),
            ("surface", &args.surface),
            ("group", &args.group)
        ])
    );
    // The report (a few hundred KiB) is read up to the limit of every partner-side command.
    let mut client = crate::partner::reply_client();
    if let Some(token) = args.admin_token.as_deref().filter(|t| !t.is_empty()) {
        client = client.with_bearer(token);
    }
    let sent = client.get(&url, Duration::from_secs(30)).await;
    let (status, body) =
        match super::whole_answer(&format!("GET {url}"), sent, client.answer_limit()) {
            Ok(response) => (response.status, response.body),
            Err(code) => return Ok(code),
        };
    if super::is_no_route(status, &body) {
        // Not the simulator's refusal, nor a coverage below --min: a wrong URL (exit 3).
        say!(
            "{}",
            super::no_route_error(&format!("GET {url}"), &args.url)
        );
        return Ok(exit::code(exit::TRANSPORT));
    }
    if status != 200 {
        // Classified as `trigger`'s answers are: the simulator's refusal (a 4xx with its JSON
        // reason: an unknown tenant, surface or group) is 5, any other status 3.
        let code = super::control_exit(status, &body);
        let what = if code == exit::REFUSED {
            "refused"
        } else {
            "without the simulator's refusal (a transport failure)"
        };
        say!(
            "error: GET {url}: HTTP {status} {what}: {}",
            String::from_utf8_lossy(&body)
        );
        return Ok(exit::code(code));
    }
    let report: Report = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            // A 200 that is not the simulator's report (another server at `--url`) is a wire
            // error, as `trigger` counts one.
            say!("error: GET {url}: not a coverage report: {e}");
            return Ok(exit::code(exit::WIRE));
        }
    };
    match args.format {
        Format::Text => super::write_out(format_args!("{}", report.text())),
        Format::Json => super::out(serde_json::to_string_pretty(&report)?),
        Format::Junit => super::write_out(format_args!("{}", report.junit())),
        Format::Html => super::write_out(format_args!("{}", report.html())),
    }
    if let Some(min) = args.min {
        if !report.tally.meets(min) {
            say!(
                "coverage {:.1}% is below --min {min}% ({} of {} items never exercised)",
                report.tally.percent,
                report.tally.items - report.tally.exercised,
                report.tally.items
            );
            return Ok(exit::code(exit::REFUSED));
        }
    }
    Ok(exit::code(exit::SUCCESS))
}
