//! `whalet-sim listen`: a partner-side notify endpoint for demos and debugging. It verifies each
//! notification as the partner must, prints one JSON line per request on stdout (what arrived,
//! the attempt, the HTTP status answered, the verified body or why it was refused), and
//! acknowledges it the way the surface expects, or answers HTTP 503 for the first
//! `--fail-first` attempts of each notification.
//!
//! - `--surface whalet` (default) and `platform`: the Whalet envelope, decrypted with the
//!   partner's key, acknowledged with a signed SUCCESS reply (`partner::receiver`).
//! - `--surface infinia`: seller-status webhooks, verified with Infinia's public key, decrypted
//!   with the merchant's key, acknowledged with the body `SUCCESS`.
//! - `--surface pockyt`: IPNs (form or JSON), `verifySign` checked with the merchant's token,
//!   acknowledged with the body `success`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::call::Surface;
use super::exit;
use crate::http::{Handler, Limits, SimRequest, SimResponse};
use crate::partner::receiver::{self, AttemptCounts, Bounds, Mode, Receiver};
use crate::partner::surfaces::{signature_hash_arg, InfiniaMerchant, PockytMerchant};
use crate::wire::crypto::SignatureHash;
use crate::wire::keys::demo;

#[derive(clap::Args)]
#[command(after_help = exit::EXIT_CODES)]
pub struct ListenArgs {
    #[arg(long, default_value = "127.0.0.1:9090")]
    addr: SocketAddr,
    /// Whose notifications arrive here: whalet (Open API notifications, the Whalet envelope),
    /// platform (whalet-platform notifications, the same envelope), infinia (seller-status
    /// webhooks) or pockyt (payout IPNs).
    #[arg(
        long,
        value_enum,
        default_value_t = Surface::Whalet,
        env = "WHALET_SIM_SURFACE",
        hide_possible_values = true
    )]
    surface: Surface,
    /// Answer the first N attempts of each notification with HTTP 503.
    #[arg(long, default_value_t = 0)]
    fail_first: u32,
    /// The receiver's private key (the partner's, or the Infinia merchant's): a file path,
    /// @path, or the key itself (PEM or bare Base64 DER); default: the demo one.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    key: Option<String>,
    /// The provider's public key (Whalet's or Infinia's), in the same forms as --key; default:
    /// the demo one.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    platform_key: Option<String>,
    /// Infinia signature hash of the app: sha256 (the default) or sha1; `--surface infinia` only.
    #[arg(long, value_parser = signature_hash_arg)]
    infinia_alg: Option<SignatureHash>,
    /// Accept Infinia webhooks that carry no signature (a simulator with `[infinia]
    /// sign_webhooks = false`); one that carries a signature must still verify. `--surface
    /// infinia` only.
    #[arg(long)]
    unsigned: bool,
    /// Largest request body read, on every surface; a larger one is answered 413 unread. At
    /// least 1: no notification is empty.
    #[arg(long, default_value_t = 1024 * 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_body_bytes: usize,
    /// Pockyt API token (checks `verifySign`).
    #[arg(long, env = "WHALET_SIM_POCKYT_TOKEN", default_value = crate::config::pockyt::DEMO_TOKEN)]
    token: String,
}

impl ListenArgs {
    /// A flag the chosen surface does not use is a usage error rather than silently ignored
    /// (`super::call::check_surface_flags`, the same check as `call`'s): Pockyt IPNs are checked
    /// with `--token` alone, so a `--key` given for them is a mistake (the wrong surface, most
    /// often); `--infinia-alg` is Infinia's only, `--token` Pockyt's (typed: a
    /// `WHALET_SIM_POCKYT_TOKEN` set for another surface is not refused).
    pub(super) fn check_flags(&self, typed: &[String]) -> Result<(), clap::Error> {
        super::call::check_surface_flags("listen", self.surface, typed)
    }
}

pub async fn run(args: ListenArgs) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.addr))?;
    match args.surface {
        Surface::Whalet | Surface::Platform => whalet(args, listener).await,
        Surface::Infinia | Surface::Pockyt => webhooks(args, listener).await,
    }
}

async fn whalet(args: ListenArgs, listener: tokio::net::TcpListener) -> anyhow::Result<ExitCode> {
    let (key, platform) = super::partner_keys(args.key.as_deref(), args.platform_key.as_deref())?;
    let bounds = Bounds {
        max_body_bytes: args.max_body_bytes,
        // Each arrival is printed as it comes; the log only bridges the printer's wake-ups.
        log_entries: LISTEN_LOG_ENTRIES,
        ..Bounds::default()
    };
    let mode = Mode::Ack {
        fail_first: args.fail_first,
    };
    let receiver = Receiver::start(listener, key, platform, mode, bounds);
    say!(
        "listening on {} (use --notify-url {} with serve)",
        receiver.addr,
        receiver.url()
    );
    let mut seen = 0;
    loop {
        tokio::select! {
            (new, lost, total) = receiver.next_since(seen) => {
                if lost > 0 {
                    say!("{lost} requests arrived faster than they could be printed");
                }
                for r in new {
                    super::out(whalet_line(&r));
                }
                seen = total;
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    receiver.stop();
    Ok(ExitCode::SUCCESS)
}

/// Arrivals `listen --surface whalet|platform` keeps between two wake-ups of its printer.
const LISTEN_LOG_ENTRIES: usize = 1024;

/// The line `listen` prints for one Whalet or platform arrival.
fn whalet_line(r: &receiver::Received) -> Value {
    json!({
        "apiCode": r.api_code, "requestNo": r.request_no, "partnerId": r.partner_id,
        "attempt": r.attempt, "answered": r.answered, "body": r.body, "error": r.error,
    })
}

/// How a webhook of another surface is verified and acknowledged.
enum Verifier {
    /// The merchant, and whether a webhook without a signature is accepted (`--unsigned`).
    Infinia(InfiniaMerchant, bool),
    Pockyt(PockytMerchant),
}

impl Verifier {
    fn open(&self, req: &SimRequest) -> Result<Value, String> {
        match self {
            Verifier::Infinia(m, unsigned) => m.open_webhook(&req.body, *unsigned),
            Verifier::Pockyt(m) => m.open_ipn(req.header("content-type").unwrap_or(""), &req.body),
        }
    }

    fn ack(&self) -> &'static str {
        match self {
            Verifier::Infinia(..) => "SUCCESS",
            Verifier::Pockyt(_) => "success",
        }
    }

    fn surface(&self) -> &'static str {
        match self {
            Verifier::Infinia(..) => "infinia",
            Verifier::Pockyt(_) => "pockyt",
        }
    }
}

/// Verifies, prints one line, acknowledges; fails the first N attempts of each notification
/// (recognised by its verified content).
#[derive(Clone)]
struct WebhookListener {
    verifier: Arc<Verifier>,
    max_body_bytes: usize,
    fail_first: u32,
    attempts: Arc<Mutex<AttemptCounts>>,
}

impl Handler for WebhookListener {
    fn body_limit(&self, _method: &str, _path: &str) -> usize {
        self.max_body_bytes
    }

    async fn call(&self, req: SimRequest) -> SimResponse {
        let (answer, line) = self.answer(&req);
        super::out(line);
        answer
    }
}

impl WebhookListener {
    fn answer(&self, req: &SimRequest) -> (SimResponse, Value) {
        let surface = self.verifier.surface();
        // The path is the client's (up to the edge's head limit): echoed cut, as every echo.
        let path = crate::text::bound(&req.path, crate::text::ECHO_BYTES);
        if req.too_large {
            let error = receiver::too_large(self.max_body_bytes);
            return (
                SimResponse::text(413, error.clone()),
                json!({"surface": surface, "path": path, "answered": 413, "error": error}),
            );
        }
        match self.verifier.open(req) {
            Ok(body) => {
                let attempt = self.attempts.lock().next(&body.to_string());
                let (status, text) = if attempt <= self.fail_first {
                    (503, "failing this attempt on purpose (--fail-first)")
                } else {
                    (200, self.verifier.ack())
                };
                (
                    SimResponse::text(status, text),
                    json!({"surface": surface, "path": path, "attempt": attempt,
                           "answered": status, "body": body}),
                )
            }
            Err(error) => {
                let error = crate::text::message(error);
                (
                    SimResponse::text(400, error.clone()),
                    json!({"surface": surface, "path": path, "answered": 400, "error": error}),
                )
            }
        }
    }
}

async fn webhooks(args: ListenArgs, listener: tokio::net::TcpListener) -> anyhow::Result<ExitCode> {
    let verifier = match args.surface {
        Surface::Infinia => Verifier::Infinia(
            InfiniaMerchant {
                base_url: String::new(),
                app_id: String::new(),
                version: String::new(),
                key: crate::config::key_flags::key_flag(
                    "key",
                    args.key.as_deref(),
                    demo::INFINIA_MERCHANT_PRIVATE,
                )?,
                infinia_public: crate::config::key_flags::key_flag(
                    "platform-key",
                    args.platform_key.as_deref(),
                    demo::INFINIA_PUBLIC,
                )?,
                alg: args.infinia_alg.unwrap_or(SignatureHash::Sha256),
            },
            args.unsigned,
        ),
        _ => Verifier::Pockyt(PockytMerchant {
            base_url: String::new(),
            merchant_no: String::new(),
            store_no: String::new(),
            token: args.token.clone(),
        }),
    };
    let addr = listener.local_addr()?;
    say!(
        "listening on {addr} for {} notifications (set the app's or merchant's notify URL to http://{addr}/notify)",
        verifier.surface()
    );
    let handler = WebhookListener {
        verifier: Arc::new(verifier),
        max_body_bytes: args.max_body_bytes,
        fail_first: args.fail_first,
        attempts: Arc::default(),
    };
    let stop = CancellationToken::new();
    let server = tokio::spawn(crate::http::serve(
        listener,
        handler,
        Limits::default(),
        stop.clone(),
    ));
    let _ = tokio::signal::ctrl_c().await;
    stop.cancel();
    let _ = server.await;
    Ok(ExitCode::SUCCESS)
}
