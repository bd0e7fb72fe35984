//! `whalet-sim listen`: a partner-side notify endpoint for demos and debugging. It verifies each
//! notification as the partner must, prints one JSON line per request on stdout (what arrived,
//! the attempt, the HTTP status answered, the verified body or why it was refused: the same
//! keys on every surface, [`Line`]), and acknowledges it the way the surface expects, or answers
//! HTTP 503 for the first `--fail-first` attempts of each notification.
//!
//! - `--surface whalet` (default) and `platform`: the Whalet envelope, decrypted with the
//!   partner's key, acknowledged with a signed SUCCESS reply (`partner::receiver`).
//! - `--surface infinia`: seller-status webhooks, verified with Infinia's public key, decrypted
//!   with the merchant's key, acknowledged with the body `SUCCESS`.
//! - `--surface pockyt`: IPNs (form or JSON), `verifySign` checked with the merchant's token,
//!   acknowledged with the body `success`.
//!
//! Another surface's notification (`serve --notify-url` sends every surface's to one URL) is
//! refused as any request that does not verify, its error saying whose it is and what to do
//! ([`other_surface_hint`]).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;
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
    let surface = match args.surface {
        Surface::Platform => "platform",
        _ => "whalet",
    };
    // Another surface's notification is refused saying whose it is, in the answer and the line.
    let hint: fn(&[u8]) -> String = match args.surface {
        Surface::Platform => |body| other_surface_hint(Surface::Platform, body),
        _ => |body| other_surface_hint(Surface::Whalet, body),
    };
    let receiver = Receiver::start_hinted(listener, key, platform, mode, bounds, hint);
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
                    super::out(whalet_line(surface, &r));
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

/// One line `listen` prints: the same keys, in this order, on every surface (docs/CLI.md), a
/// value the surface does not have being `null`, so that one reader takes every surface's lines.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    /// `whalet`, `platform`, `infinia` or `pockyt`.
    surface: &'static str,
    /// The request's path (cut as every echo); `null` on the Whalet and platform surfaces,
    /// whose receiver takes any path and does not keep it.
    path: Option<String>,
    /// The Whalet envelope's head as it came (`null` on Infinia and Pockyt, which have none).
    api_code: Option<String>,
    request_no: Option<String>,
    partner_id: Option<String>,
    /// Arrivals of this notification so far (1-based); 0 for a refused request, which is no
    /// attempt of any notification.
    attempt: u32,
    /// The HTTP status answered.
    answered: u16,
    /// The verified, decrypted body; `null` when refused.
    body: Option<Value>,
    /// Why the request was refused; `null` when it was accepted.
    error: Option<String>,
}

impl Line {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The line `listen` prints for one Whalet or platform arrival.
fn whalet_line(surface: &'static str, r: &receiver::Received) -> Value {
    Line {
        surface,
        path: None,
        api_code: head_field(&r.raw, "apiCode", &r.api_code),
        request_no: head_field(&r.raw, "requestNo", &r.request_no),
        partner_id: head_field(&r.raw, "partnerId", &r.partner_id),
        attempt: r.attempt,
        answered: r.answered,
        body: r.body.clone(),
        // With [`other_surface_hint`]'s words when another surface's (`Receiver::start_hinted`).
        error: r.error.clone(),
    }
    .json()
}

/// A notification shape of one surface, recognised in a request that came to the listener of
/// another ([`other_surface_hint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The Whalet envelope, `{head, body: {encrypt}}` (the Open API's and whalet-platform's).
    WhaletEnvelope,
    /// An Infinia seller-status webhook, `{version, appId, dataType, requestData, signature}`.
    InfiniaWebhook,
    /// A Pockyt IPN: a form (or a JSON object) with `verifySign`.
    PockytIpn,
}

impl Shape {
    /// The shape of the notification `body` is, if it is one of a surface's.
    fn of(body: &[u8]) -> Option<Shape> {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
            let envelope = map.get("head").is_some_and(Value::is_object)
                && (map.get("body").is_some_and(|b| b.get("encrypt").is_some())
                    || map["head"].get("apiCode").is_some());
            if envelope {
                return Some(Shape::WhaletEnvelope);
            }
            if map.contains_key("requestData")
                && (map.contains_key("appId") || map.contains_key("dataType"))
            {
                return Some(Shape::InfiniaWebhook);
            }
            return map.contains_key("verifySign").then_some(Shape::PockytIpn);
        }
        // A form: `name=value&…`, one of whose names is verifySign.
        let text = std::str::from_utf8(body).ok()?;
        let form = !text.trim_start().starts_with(['{', '[']);
        (form
            && text
                .split('&')
                .any(|pair| pair.split('=').next() == Some("verifySign")))
        .then_some(Shape::PockytIpn)
    }

    /// The surfaces that send this shape (the first is the one to name in a flag).
    fn surfaces(self) -> &'static [Surface] {
        match self {
            Shape::WhaletEnvelope => &[Surface::Whalet, Surface::Platform],
            Shape::InfiniaWebhook => &[Surface::Infinia],
            Shape::PockytIpn => &[Surface::Pockyt],
        }
    }
}

/// What to add to the refusal of `body` by the listener of `listening` when the body is another
/// surface's notification: which surface's it is, and what to do. `serve --notify-url` is the
/// URL of every tenant of every surface without its own, so one listener gets them all
/// (docs/CLI.md, `listen`). Empty for any other body: the refusal stands as it is.
fn other_surface_hint(listening: Surface, body: &[u8]) -> String {
    let Some(shape) = Shape::of(body) else {
        return String::new();
    };
    if shape.surfaces().contains(&listening) {
        return String::new();
    }
    let (what, listen, own_url) = match shape {
        Shape::WhaletEnvelope => (
            "a Whalet envelope (`head`, `body.encrypt`): a Whalet Open API or whalet-platform \
             notification",
            "`whalet-sim listen` (`--surface whalet`, or `--surface platform`)",
            "the partner its own notify URL (`[[whalet.partners]] notify_url`)",
        ),
        Shape::InfiniaWebhook => (
            "an Infinia Pay seller-status webhook (`version`, `appId`, `dataType`, \
             `requestData`, `signature`)",
            "`whalet-sim listen --surface infinia`",
            "the Infinia app its own notify URL (`[[infinia.apps]] notify_url`)",
        ),
        Shape::PockytIpn => (
            "a Pockyt payout IPN (parameters with `verifySign`)",
            "`whalet-sim listen --surface pockyt`",
            "the Pockyt merchant its own notify URL (`[[pockyt.merchants]] notify_url`, or the \
             payout's or account's `ipnUrl`)",
        ),
    };
    format!(
        "; this is {what}, not {} notification: receive it with {listen} on another address, \
         and give {own_url}; serve's --notify-url sends every surface's notifications to the one \
         URL",
        listened_as(listening)
    )
}

/// "a Whalet", "a whalet-platform", "an Infinia Pay", "a Pockyt": whose notifications a
/// listener of `surface` takes.
fn listened_as(surface: Surface) -> &'static str {
    match surface {
        Surface::Whalet => "a Whalet Open API",
        Surface::Platform => "a whalet-platform",
        Surface::Infinia => "an Infinia Pay",
        Surface::Pockyt => "a Pockyt",
    }
}

/// A head field of a Whalet arrival as it came: `read`, the receiver's copy (empty when it read
/// none), or `null` where no head carried the field as text: a body that is no envelope
/// (`garbage`, empty, an array), a head without it, a request refused unread (413). A script
/// then tells "no envelope" from an empty field. `raw`: the request as it arrived.
fn head_field(raw: &[u8], name: &str, read: &str) -> Option<String> {
    if !read.is_empty() {
        return Some(read.to_owned());
    }
    let envelope: Value = serde_json::from_slice(raw).ok()?;
    envelope.get("head")?.get(name)?.as_str().map(str::to_owned)
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
        self.kind().name()
    }

    fn kind(&self) -> Surface {
        match self {
            Verifier::Infinia(..) => Surface::Infinia,
            Verifier::Pockyt(_) => Surface::Pockyt,
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
        let line = Line {
            surface,
            path: Some(crate::text::bound(&req.path, crate::text::ECHO_BYTES).into_owned()),
            ..Line::default()
        };
        // A refused request is no attempt of any notification (attempt 0), as on the Whalet
        // surface: it is not recognised by any verified content.
        let refused = |status: u16, error: String| {
            let printed = Line {
                answered: status,
                error: Some(error.clone()),
                ..line.clone()
            };
            (SimResponse::text(status, error), printed.json())
        };
        if req.too_large {
            return refused(413, receiver::too_large(self.max_body_bytes));
        }
        match self.verifier.open(req) {
            Ok(body) => {
                let attempt = self.attempts.lock().next(&body.to_string());
                let (status, text) = if attempt <= self.fail_first {
                    (503, "failing this attempt on purpose (--fail-first)")
                } else {
                    (200, self.verifier.ack())
                };
                let printed = Line {
                    attempt,
                    answered: status,
                    body: Some(body),
                    ..line
                };
                (SimResponse::text(status, text), printed.json())
            }
            // Another surface's notification (one `--notify-url` for every surface) is refused
            // as before, saying whose it is and what to do.
            Err(error) => refused(
                400,
                format!(
                    "{}{}",
                    crate::text::message(error),
                    other_surface_hint(self.verifier.kind(), &req.body)
                ),
            ),
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
                key: super::key_flag("key", args.key.as_deref(), demo::INFINIA_MERCHANT_PRIVATE)?,
                infinia_public: super::key_flag(
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

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde_json::json;

    use super::*;
    use crate::wire::pockyt;

    fn pockyt_listener() -> WebhookListener {
        WebhookListener {
            verifier: Arc::new(Verifier::Pockyt(PockytMerchant {
                base_url: String::new(),
                merchant_no: String::new(),
                store_no: String::new(),
                token: crate::config::pockyt::DEMO_TOKEN.into(),
            })),
            max_body_bytes: 1024,
            fail_first: 0,
            attempts: Arc::default(),
        }
    }

    fn post(body: &str, too_large: bool) -> SimRequest {
        SimRequest {
            method: "POST".into(),
            path: "/notify".into(),
            query: None,
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: Bytes::from(body.to_owned()),
            too_large,
            local_addr: None,
        }
    }

    fn keys(line: &Value) -> Vec<String> {
        line.as_object().unwrap().keys().cloned().collect()
    }

    /// Regression: a Whalet body that is no envelope printed `""` for the head's fields, as if
    /// a head had come with them empty; and a Pockyt IPN whose verifySign is not a string was
    /// refused as having none.
    #[test]
    fn a_line_says_null_for_a_head_that_did_not_come_and_names_a_verifysign_of_another_type() {
        let line = |raw: &[u8], read: &str| {
            whalet_line(
                "whalet",
                &receiver::Received {
                    api_code: read.into(),
                    request_no: String::new(),
                    partner_id: String::new(),
                    body: None,
                    error: Some("the request body is not a JSON envelope".into()),
                    attempt: 0,
                    answered: 400,
                    raw: Bytes::copy_from_slice(raw),
                },
            )
        };
        for raw in [
            &b"garbage"[..],
            b"",
            b"[1]",
            br#"{"head":5}"#,
            br#"{"body":{}}"#,
        ] {
            let line = line(raw, "");
            for key in ["apiCode", "requestNo", "partnerId"] {
                assert_eq!(
                    line[key],
                    Value::Null,
                    "{}: {line}",
                    String::from_utf8_lossy(raw)
                );
            }
        }
        let empty = line(br#"{"head":{"apiCode":"","requestNo":""}}"#, "");
        assert_eq!(empty["apiCode"], "", "{empty}");
        assert_eq!(empty["requestNo"], "", "{empty}");
        assert_eq!(empty["partnerId"], Value::Null, "{empty}");
        let read = line(br#"{"head":{"apiCode":"x"}}"#, "x");
        assert_eq!(read["apiCode"], "x", "{read}");

        let listener = pockyt_listener();
        let json = |body: &str| SimRequest {
            headers: vec![("content-type".into(), "application/json".into())],
            ..post(body, false)
        };
        for (sign, named) in [
            ("5", "a number"),
            ("null", "null"),
            ("true", "a boolean"),
            ("[\"a\"]", "an array"),
        ] {
            let (_, line) = listener.answer(&json(&format!(
                r#"{{"transactionNo":"T1","verifySign":{sign}}}"#
            )));
            let error = line["error"].as_str().unwrap();
            assert_eq!(
                error,
                format!("the IPN's verifySign must be a string, got {named}"),
                "{line}"
            );
        }
        let (_, line) = listener.answer(&json(r#"{"transactionNo":"T1"}"#));
        assert_eq!(line["error"], "the IPN has no verifySign", "{line}");
    }

    /// The shapes `listen` recognises as another surface's notification, and what it takes for
    /// none: a body that is no notification, or is one of the listener's own surface, gets no
    /// hint.
    #[test]
    fn another_surfaces_notification_is_recognised_by_its_shape() {
        let envelope = br#"{"head":{"apiCode":"connectivityNotify"},"body":{"encrypt":"x"}}"#;
        let webhook = br#"{"version":"1.0","appId":"a","dataType":"JSON","requestData":"x"}"#;
        let form = b"status=success&transactionNo=T1&verifySign=abc";
        let ipn_json = br#"{"status":"success","verifySign":"abc"}"#;
        assert_eq!(Shape::of(envelope), Some(Shape::WhaletEnvelope));
        assert_eq!(Shape::of(webhook), Some(Shape::InfiniaWebhook));
        assert_eq!(Shape::of(form), Some(Shape::PockytIpn));
        assert_eq!(Shape::of(ipn_json), Some(Shape::PockytIpn));
        for none in [
            &b"garbage"[..],
            b"",
            b"[1]",
            b"{}",
            b"a=1&verifySignature=2",
            br#"{"head":5}"#,
        ] {
            assert_eq!(Shape::of(none), None, "{}", String::from_utf8_lossy(none));
        }
        assert_eq!(other_surface_hint(Surface::Whalet, envelope), "");
        assert_eq!(other_surface_hint(Surface::Platform, envelope), "");
        assert_eq!(other_surface_hint(Surface::Infinia, webhook), "");
        assert_eq!(other_surface_hint(Surface::Pockyt, form), "");
        assert_eq!(other_surface_hint(Surface::Whalet, b"garbage"), "");
        let hint = other_surface_hint(Surface::Platform, webhook);
        assert!(
            hint.contains("not a whalet-platform notification"),
            "{hint}"
        );
        assert!(hint.contains("--surface infinia"), "{hint}");
    }

    /// Regression: a refused Pockyt or Infinia line had no `attempt`, an accepted one no
    /// `error`, and neither the Whalet head's keys, so one reader could not take every
    /// surface's lines. Every line now has the same keys: `attempt` always (0 when refused),
    /// `error` null when accepted, `body` null when refused.
    #[test]
    fn every_listen_line_has_the_same_keys_on_every_surface() {
        let listener = pockyt_listener();
        let params: pockyt::Params = [("transactionNo", "T1"), ("status", "SUCCESS")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v.to_owned())))
            .collect();
        let form = pockyt::form_encode(&pockyt::signed_pairs(
            &params,
            crate::config::pockyt::DEMO_TOKEN,
        ));
        let (_, accepted) = listener.answer(&post(&form, false));
        let (_, forged) = listener.answer(&post("transactionNo=T1&verifySign=x", false));
        let (_, too_large) = listener.answer(&post("", true));
        let whalet = |error: Option<&str>, attempt| {
            whalet_line(
                "whalet",
                &receiver::Received {
                    api_code: "connectivityNotify".into(),
                    request_no: "N1".into(),
                    partner_id: "202400000000001".into(),
                    body: error.is_none().then(|| json!({"a": 1})),
                    error: error.map(str::to_owned),
                    attempt,
                    answered: if error.is_none() { 200 } else { 400 },
                    raw: Bytes::new(),
                },
            )
        };
        let whalet_ok = whalet(None, 1);
        let whalet_refused = whalet(Some("bad signature"), 0);

        let shape = keys(&whalet_ok);
        for key in ["surface", "attempt", "answered", "body", "error"] {
            assert!(shape.iter().any(|k| k == key), "{key} missing: {whalet_ok}");
        }
        for line in [&whalet_refused, &accepted, &forged, &too_large] {
            assert_eq!(keys(line), shape, "{line}");
        }
        for line in [&accepted, &whalet_ok] {
            assert!(line["attempt"].as_u64().unwrap() >= 1, "{line}");
            assert_eq!(line["error"], Value::Null, "{line}");
            assert!(line["body"].is_object(), "{line}");
        }
        for (line, status) in [(&forged, 400), (&too_large, 413), (&whalet_refused, 400)] {
            assert_eq!(line["attempt"], 0, "{line}");
            assert_eq!(line["answered"], status, "{line}");
            assert_eq!(line["body"], Value::Null, "{line}");
            assert!(line["error"].is_string(), "{line}");
        }
        assert_eq!(accepted["surface"], "pockyt");
        assert_eq!(accepted["path"], "/notify");
        assert!(forged["error"].as_str().unwrap().contains("verifySign"));
    }
}
