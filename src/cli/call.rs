//! `whalet-sim call <apiCode> --data JSON|@file`: one request as the partner would send it.
//! Works unchanged against the real test environment: only `--url` and the keys differ.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::partner::{reply_json, WhaletClient};

#[derive(clap::Args)]
pub struct CallArgs {
    /// The apiCode (e.g. connectivity).
    api_code: String,
    /// The business body as JSON, or @file.
    #[arg(long, default_value = "{}")]
    data: String,
    /// Endpoint URL (the real test environment is https://test-open.whalet.com/api).
    #[arg(long, default_value = "http://127.0.0.1:8080/api")]
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
    let client = WhaletClient::new(&args.url, &args.partner_id, key, platform);
    let request_no = args
        .request_no
        .clone()
        .unwrap_or_else(|| client.next_request_no());
    match client.call_with(&args.api_code, &request_no, &body).await {
        Ok(reply) => {
            println!("{}", serde_json::to_string_pretty(&reply_json(&reply))?);
            Ok(if reply.code == "SUCCESS" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(3))
        }
    }
}
