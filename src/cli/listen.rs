//! `whalet-sim listen`: a partner-side notify endpoint for demos and debugging. It verifies and
//! decrypts each Whalet notification with the partner's key, prints one JSON line per request
//! on stdout (apiCode, requestNo, attempt, HTTP status answered, decrypted body or why it was
//! refused), and answers with a signed SUCCESS reply, or HTTP 503 for the first `--fail-first`
//! attempts of each notification. The receiver itself is `partner::receiver`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::partner::receiver::{Mode, Receiver};

#[derive(clap::Args)]
pub struct ListenArgs {
    #[arg(long, default_value = "127.0.0.1:9090")]
    addr: SocketAddr,
    /// Answer the first N attempts of each notification with HTTP 503.
    #[arg(long, default_value_t = 0)]
    fail_first: u32,
    /// The partner's private key; default: the demo partner's.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Whalet's (platform) public key; default: the demo platform key.
    #[arg(long)]
    platform_key: Option<PathBuf>,
}

pub async fn run(args: ListenArgs) -> anyhow::Result<ExitCode> {
    let (key, platform) = super::partner_keys(args.key.as_deref(), args.platform_key.as_deref())?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.addr))?;
    let receiver = Receiver::start(
        listener,
        key,
        platform,
        Mode::Ack {
            fail_first: args.fail_first,
        },
    );
    eprintln!(
        "listening on {} (use --notify-url {} with serve)",
        receiver.addr,
        receiver.url()
    );
    let mut seen = 0;
    loop {
        tokio::select! {
            log = receiver.wait_for(seen + 1, Duration::from_secs(3600)) => {
                for r in log.iter().skip(seen) {
                    let line = serde_json::json!({
                        "apiCode": r.api_code, "requestNo": r.request_no, "partnerId": r.partner_id,
                        "attempt": r.attempt, "answered": r.answered, "body": r.body, "error": r.error,
                    });
                    println!("{line}");
                }
                seen = log.len();
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    receiver.stop();
    Ok(ExitCode::SUCCESS)
}
