//! `whalet-sim call <apiCode> --data JSON|@file`: one request as the partner would send it.
//! Works unchanged against the real test environment: only `--url` and the keys differ.
//! The exit code says how it ended (`super::exit`).

use std::path::PathBuf;
use std::process::ExitCode;

use super::exit;
use crate::partner::{reply_json, CallError, WhaletClient};

#[derive(clap::Args)]
#[command(after_help = exit::EXIT_CODES)]
pub struct CallArgs {
    /// The apiCode (e.g. connectivity).
    api_code: String,
    /// The business body as JSON, or @file.
    #[arg(long, default_value = "{}")]
    data: String,
    /// The simulator's base URL (requests go to its `/api`) or a full endpoint URL (the real
    /// test environment is https://test-open.whalet.com/api).
    #[arg(long, env = "WHALET_SIM_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long, default_value = crate::api::whalet::partners::DEMO_PARTNER_ID)]
    partner_id: String,
    /// The partner's private key (PEM or bare Base64 DER); default: the demo partner's.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Whalet's (platform) public key; default: the simulator's demo platform key.
    #[arg(long)]
    platform_key: Option<PathBuf>,
    /// Use this requestNo instead of a fresh one.
    #[arg(long)]
    request_no: Option<String>,
}

/// The Open API endpoint of `url`: a URL without a path (`http://127.0.0.1:8080`, as
/// `WHALET_SIM_URL` holds it) means the simulator's `/api`; any other is used as given.
pub fn endpoint(url: &str) -> String {
    let url = url.trim_end_matches('/');
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    if after_scheme.contains('/') {
        url.to_owned()
    } else {
        format!("{url}/api")
    }
}

/// The exit code for a reply code: `SUCCESS` and `PROCESSING` are successes, any other code is
/// the provider's refusal.
pub fn reply_exit(code: &str) -> u8 {
    match code {
        "SUCCESS" | "PROCESSING" => exit::SUCCESS,
        _ => exit::REFUSED,
    }
}

pub async fn run(args: CallArgs) -> anyhow::Result<ExitCode> {
    let body_text = match args.data.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {path}: {e}"))?
        }
        None => args.data.clone(),
    };
    let body: serde_json::Value =
        serde_json::from_str(&body_text).map_err(|e| anyhow::anyhow!("--data is not JSON: {e}"))?;
    let (key, platform) = super::partner_keys(args.key.as_deref(), args.platform_key.as_deref())?;
    let client = WhaletClient::new(&endpoint(&args.url), &args.partner_id, key, platform);
    let request_no = args
        .request_no
        .clone()
        .unwrap_or_else(|| client.next_request_no());
    match client.call_with(&args.api_code, &request_no, &body).await {
        Ok(reply) => {
            println!("{}", serde_json::to_string_pretty(&reply_json(&reply))?);
            Ok(exit::code(reply_exit(&reply.code)))
        }
        Err(e) => {
            eprintln!("error: {e} ({})", client.url);
            Ok(exit::code(match e {
                CallError::Transport(_) | CallError::Http { .. } => exit::TRANSPORT,
                CallError::Reply(_) => exit::WIRE,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_means_the_api_path() {
        assert_eq!(
            endpoint("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/api"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/api"
        );
        assert_eq!(
            endpoint("https://test-open.whalet.com/api"),
            "https://test-open.whalet.com/api"
        );
        assert_eq!(
            endpoint("http://h:1/api/connectivity"),
            "http://h:1/api/connectivity"
        );
    }

    #[test]
    fn processing_is_a_success_and_other_codes_are_refusals() {
        assert_eq!(reply_exit("SUCCESS"), exit::SUCCESS);
        assert_eq!(reply_exit("PROCESSING"), exit::SUCCESS);
        assert_eq!(reply_exit("PARAMETER_ERROR"), exit::REFUSED);
    }
}
