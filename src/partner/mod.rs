//! The partner's side, for the CLI (`call`, `listen`), benchmarks and tests: a Whalet client that
//! really seals, signs, verifies and decrypts, and a notify receiver that verifies, decrypts and
//! acknowledges with a correctly signed reply.

pub mod receiver;
pub mod surfaces;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::clock::{system_now, Millis};
use crate::http::client::{ClientResponse, HttpClient};
use crate::wire::keys::{PrivateKey, PublicKey};
use crate::wire::whalet::{self as envelope, Echo, OpenedReply, VERSION};
use crate::wire::HexCase;

/// The most bytes of an answer the partner-side commands read (`call`, `call --example`,
/// `trigger`, `coverage`): 64 MiB, as long as the simulator's longest answer by default (the
/// journal listing, `[journal] max_bytes`), so a reply the simulator sends (a page of 100
/// records, a long message echoed) is read whole. The notification client keeps the short
/// [`crate::http::client::MAX_ANSWER_BYTES`] of a partner's acknowledgement.
pub const MAX_REPLY_BYTES: usize = 64 * 1024 * 1024;

/// The HTTP client of the partner-side commands: the shared client, reading answers up to
/// [`MAX_REPLY_BYTES`], naming "the server" where it cannot read an answer.
pub fn reply_client() -> HttpClient {
    HttpClient::new()
        .with_answer_limit(MAX_REPLY_BYTES)
        .answered_by("the server")
}

/// A Whalet partner client.
#[derive(Clone)]
pub struct WhaletClient {
    pub url: String,
    pub partner_id: String,
    pub key: PrivateKey,
    pub platform_public: PublicKey,
    pub hex_case: HexCase,
    http: HttpClient,
}

/// Why a call failed before a verified reply was had.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("transport: {0}")]
    Transport(String),
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// The answer did not open as the provider's reply: the client's own finding, said without
    /// a provider code (a code here would read as the provider's answer).
    #[error("reply rejected: {0}")]
    Reply(String),
    /// The request could not be sealed, so nothing was sent (a provider key too small to wrap
    /// the session key, a Pockyt body that is not an object).
    #[error("cannot seal the request: {0}")]
    Seal(String),
    /// The answer was longer than the client reads ([`MAX_REPLY_BYTES`]): what came was
    /// neither verified nor printed. Not the provider's refusal, nor a broken envelope.
    #[error("{}", too_long(*.0))]
    TooLong(usize),
}

/// What a command says of an answer longer than `limit` bytes, the most it reads.
pub fn too_long(limit: usize) -> String {
    format!(
        "the reply is longer than {limit} bytes ({} MiB), the most this command reads of one; \
         the rest was not read, so it was neither checked nor printed (the request itself was \
         sent, and may have been carried out)",
        limit / (1024 * 1024)
    )
}

/// `response` if its body came whole, else [`CallError::TooLong`].
pub fn whole_reply(response: ClientResponse, limit: usize) -> Result<ClientResponse, CallError> {
    if response.truncated {
        Err(CallError::TooLong(limit))
    } else {
        Ok(response)
    }
}

/// What one call answered, as `whalet-sim call` prints it: a reply opened and verified in the
/// surface's scheme, whatever the HTTP status it came with (the providers answer 2xx, so
/// `call` names any other status; `cli/call.rs` decides the exit code).
#[derive(Debug, Clone)]
pub struct Answered {
    /// The HTTP status of the answer.
    pub status: u16,
    /// The provider's result code (`SUCCESS`, `SUC-200`, `000100`, ...).
    pub code: String,
    /// The reply as printed: for Whalet the decrypted head and body, for Infinia the decrypted
    /// data in place of `responseData`.
    pub json: Value,
    /// The whole diagnostic of a refusal whose `detail` the simulator cut to its documented
    /// width: its `X-Whalet-Sim-Diagnostic` header, decoded ([`diagnostic`]), when it came.
    pub diagnostic: Option<String>,
}

/// The text of `response`'s diagnostic header ([`crate::wire::whalet::DIAGNOSTIC_HEADER`]), if
/// it has one: decoded as the simulator encoded it ([`crate::wire::whalet::header_text`]), and a
/// control character it holds (a line break) shown escaped (`\n`), so that what a server sends
/// cannot move the terminal's cursor.
pub fn diagnostic(response: &ClientResponse) -> Option<String> {
    let value = response
        .headers
        .get(crate::wire::whalet::DIAGNOSTIC_HEADER)?;
    Some(
        crate::wire::whalet::header_text(value.as_bytes())
            .chars()
            .map(|c| match c.is_control() {
                true => c.escape_default().to_string(),
                false => c.to_string(),
            })
            .collect(),
    )
}

/// Whether `status` is a 2xx.
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The error of an answer from which no reply could be opened: a status other than 2xx
/// without the provider's reply in it is an HTTP failure (a proxy's 502), a 2xx one a reply
/// that does not open (`why`).
fn unopened(status: u16, body: &[u8], why: String) -> CallError {
    if is_success(status) {
        CallError::Reply(why)
    } else {
        http_error(status, body)
    }
}

/// A Whalet refusal in plain JSON under a status other than 2xx, as whalet-platform answers in
/// its plain-JSON mode (the simulator's `[platform] auth = "none"`: `{"code", "detail"}` with
/// HTTP 400, 401, …; docs/FIDELITY.md): a JSON object without a `head`, whose `code` is one of
/// the Whalet result codes other than a success. It is the provider's refusal (exit 5), as an
/// unsigned head-only refusal is, not a transport failure; printed as it came. Any other answer
/// (a proxy's page, `{"error": …}` from the edge) is none.
fn plain_refusal(response: &ClientResponse) -> Option<Answered> {
    use crate::wire::whalet::Code;
    let status = response.status;
    if is_success(status) {
        return None;
    }
    let json: Value = serde_json::from_slice(&response.body).ok()?;
    let fields = json.as_object()?;
    if fields.contains_key("head") {
        return None;
    }
    let code = fields.get("code")?.as_str()?.to_owned();
    match Code::parse(&code)? {
        Code::Success | Code::Processing => None,
        _ => Some(Answered {
            status,
            code,
            json,
            diagnostic: diagnostic(response),
        }),
    }
}

fn http_error(status: u16, body: &[u8]) -> CallError {
    CallError::Http {
        status,
        body: String::from_utf8_lossy(body).into_owned(),
    }
}

impl WhaletClient {
    pub fn new(url: &str, partner_id: &str, key: PrivateKey, platform_public: PublicKey) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            partner_id: partner_id.to_owned(),
            key,
            platform_public,
            hex_case: HexCase::Lower,
            http: reply_client(),
        }
    }

    /// The demo partner against `base_url` (e.g. `http://127.0.0.1:8080`), posting to `/api`.
    pub fn demo(base_url: &str) -> Self {
        use crate::wire::keys::demo;
        let key = PrivateKey::parse(demo::PARTNER_PRIVATE).unwrap_or_else(|_| unreachable_key());
        let platform =
            PublicKey::parse(demo::PLATFORM_PUBLIC).unwrap_or_else(|_| key.public().clone());
        Self::new(
            &format!("{}/api", base_url.trim_end_matches('/')),
            crate::api::whalet::partners::DEMO_PARTNER_ID,
            key,
            platform,
        )
    }

    /// A fresh requestNo, unique across the clients of this process and across processes
    /// running at the same time (see [`request_no`]).
    pub fn next_request_no(&self) -> String {
        let seq = REQUEST_SEQUENCE.fetch_add(1, Ordering::Relaxed);
        request_no(system_now(), std::process::id(), seq)
    }

    /// The head this client sends for `api_code` and `request_no`, which the reply must echo.
    pub fn head(&self, api_code: &str, request_no: &str) -> Echo {
        Echo {
            partner_id: self.partner_id.clone(),
            api_code: api_code.to_owned(),
            request_no: request_no.to_owned(),
            version: VERSION.to_owned(),
        }
    }

    /// Seals a request body.
    pub fn seal(&self, api_code: &str, request_no: &str, body: &Value) -> Vec<u8> {
        let echo = self.head(api_code, request_no);
        envelope::seal_request(&echo, body, &self.key, &self.platform_public, self.hex_case)
            .unwrap_or_default()
    }

    /// Seals a request whose body is `text` byte for byte: the AES plaintext is the partner's
    /// own characters (`1e2`, `100.10`, its white space), not a `Value` printed again, which
    /// would rewrite numbers (`1e2` → `100.0`) and send amounts the partner never wrote
    /// (`whalet-sim call --data`). The envelope is [`envelope::seal_request`]'s, `keyEnc`
    /// wrapping the Base64 of the session key.
    pub fn seal_text(
        &self,
        api_code: &str,
        request_no: &str,
        text: &str,
    ) -> Result<Vec<u8>, String> {
        let echo = self.head(api_code, request_no);
        envelope::seal_request_text(
            &echo,
            text.as_bytes(),
            &self.key,
            &self.platform_public,
            self.hex_case,
        )
        .map_err(|e| e.detail)
    }

    /// Sends one request with a fresh requestNo and opens the reply.
    pub async fn call(&self, api_code: &str, body: &Value) -> Result<OpenedReply, CallError> {
        let request_no = self.next_request_no();
        self.call_with(api_code, &request_no, body).await
    }

    /// Sends one request with `request_no` and opens the reply, which must answer it (echo its
    /// head: [`envelope::open_reply_to`]); a status other than 2xx is an error.
    pub async fn call_with(
        &self,
        api_code: &str,
        request_no: &str,
        body: &Value,
    ) -> Result<OpenedReply, CallError> {
        let sealed = self.seal(api_code, request_no, body);
        let response = self.post_expecting_success(sealed).await?;
        let sent = self.head(api_code, request_no);
        envelope::open_reply_to(&response.body, &sent, &self.key, &self.platform_public)
            .map_err(|e| CallError::Reply(e.detail))
    }

    /// Sends one request whose body is `text` as written ([`Self::seal_text`]) and opens the
    /// reply whatever its HTTP status (`whalet-sim call`: a verified refusal under a 500 is
    /// still the provider's refusal, and the status is named). The reply must answer this
    /// request: a signed reply to another one is refused ([`envelope::open_reply_to`]).
    pub async fn exchange(
        &self,
        api_code: &str,
        request_no: &str,
        text: &str,
    ) -> Result<Answered, CallError> {
        let sealed = self
            .seal_text(api_code, request_no, text)
            .map_err(CallError::Seal)?;
        let response = self.post(sealed).await?;
        let sent = self.head(api_code, request_no);
        match envelope::open_reply_to(&response.body, &sent, &self.key, &self.platform_public) {
            Ok(reply) => Ok(Answered {
                status: response.status,
                code: reply.code.clone(),
                json: reply_json(&reply),
                diagnostic: diagnostic(&response),
            }),
            Err(e) => plain_refusal(&response)
                .ok_or_else(|| unopened(response.status, &response.body, e.detail)),
        }
    }

    /// Posts already-sealed bytes and opens the reply; a status other than 2xx is an error.
    /// The bytes may be anything (a test's hand-made envelope), so the reply is not compared
    /// with a request head; [`Self::call_with`] does that.
    pub async fn send_raw(&self, bytes: Vec<u8>) -> Result<OpenedReply, CallError> {
        let response = self.post_expecting_success(bytes).await?;
        envelope::open_reply(&response.body, &self.key, &self.platform_public)
            .map_err(|e| CallError::Reply(e.detail))
    }

    /// Posts and returns the answer; a status other than 2xx is an error.
    async fn post_expecting_success(&self, bytes: Vec<u8>) -> Result<ClientResponse, CallError> {
        let response = self.post(bytes).await?;
        if !is_success(response.status) {
            return Err(http_error(response.status, &response.body));
        }
        Ok(response)
    }

    async fn post(&self, bytes: Vec<u8>) -> Result<ClientResponse, CallError> {
        let response = self
            .http
            .post(
                &self.url,
                "application/json;charset=UTF-8",
                bytes.into(),
                Duration::from_secs(30),
            )
            .await
            .map_err(CallError::Transport)?;
        whole_reply(response, self.http.answer_limit())
    }
}

/// The process-wide requestNo sequence: every client of one process draws from it, so two
/// clients created in the same millisecond never share a number.
static REQUEST_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// `R{wall-clock ms}-{process id}-{sequence}`, e.g. `R1733390000000-48213-000001`: at most 29
/// characters (the head allows 30). The millisecond alone repeats when processes start together
/// (`xargs -P`), so the process id, unique among the processes running at once on a host, keeps
/// their numbers apart; the sequence (six digits, wrapping) keeps one process's apart.
fn request_no(millis: Millis, process: u32, seq: u64) -> String {
    format!("R{millis}-{}-{:06}", process % 10_000_000, seq % 1_000_000)
}

fn unreachable_key() -> PrivateKey {
    // The embedded demo key always parses (a unit test checks it); generating one keeps this
    // path panic-free all the same.
    PrivateKey::generate(2048).unwrap_or_else(|_| std::process::abort())
}

/// The decrypted reply as printed by `whalet-sim call`: its head, and its body when it has one
/// (an error reply carries the head only, and is printed so).
pub fn reply_json(reply: &OpenedReply) -> Value {
    let mut json = serde_json::json!({
        "head": {
            "partnerId": reply.echo.partner_id,
            "apiCode": reply.echo.api_code,
            "requestNo": reply.echo.request_no,
            "version": reply.echo.version,
            "code": reply.code,
            "detail": reply.detail,
        },
    });
    if let Some(body) = &reply.body {
        json["body"] = body.clone();
    }
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_no_is_readable_and_fits_the_head() {
        let longest = request_no(9_999_999_999_999, u32::MAX, 999_999_999);
        assert_eq!(longest, "R9999999999999-4967295-999999");
        assert!(
            longest.len() <= 30,
            "{longest} is {} characters",
            longest.len()
        );
        assert_eq!(
            request_no(1_733_390_000_000, 48_213, 1),
            "R1733390000000-48213-000001"
        );
    }

    #[test]
    fn two_processes_in_the_same_millisecond_do_not_collide() {
        // Two processes started together: same clock, each its own sequence from 0.
        let millis = 1_733_390_000_000;
        let first: Vec<_> = (0..1000).map(|n| request_no(millis, 4242, n)).collect();
        let second: Vec<_> = (0..1000).map(|n| request_no(millis, 4243, n)).collect();
        assert!(first.iter().all(|no| !second.contains(no)));
    }

    #[test]
    fn a_body_sealed_as_text_opens_to_the_same_characters() {
        use crate::wire::keys::demo;
        let client = WhaletClient::demo("http://127.0.0.1:1");
        let platform = PrivateKey::parse(demo::PLATFORM_PRIVATE).unwrap();
        let text = r#"{"amount": 1e2, "fee":100.10, "tiny":0.0000001, "zero":-0}"#;
        let sealed = client.seal_text("paymentApply", "R1", text).unwrap();
        let opened = envelope::parse_request(&sealed)
            .unwrap()
            .open(&platform, client.key.public())
            .unwrap();
        assert_eq!(opened.text, text);
        assert_eq!(opened.echo.api_code, "paymentApply");
        assert_eq!(opened.key_enc_form, envelope::KeyEncForm::Base64);
    }

    /// The simulator's escapes (`wire::whalet::header_safe`) are undone, a `+` stays a `+` (it
    /// is no form), and a control character is shown escaped rather than written raw.
    #[test]
    fn the_diagnostic_header_reads_back_as_the_text_the_simulator_escaped() {
        let text = "a+b 100% \"x\"\nline two: caf\u{e9} \u{1b}[2J";
        let escaped = envelope::header_safe(text, 4096);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            envelope::DIAGNOSTIC_HEADER
                .parse::<reqwest::header::HeaderName>()
                .unwrap(),
            escaped.parse().unwrap(),
        );
        let response = ClientResponse {
            status: 200,
            body: Default::default(),
            latency: Duration::ZERO,
            location: None,
            headers,
            truncated: false,
            broken: None,
        };
        assert_eq!(
            diagnostic(&response).unwrap(),
            "a+b 100% \"x\"\\nline two: caf\u{e9} \\u{1b}[2J"
        );
        let without = ClientResponse {
            headers: Default::default(),
            ..response
        };
        assert_eq!(diagnostic(&without), None);
    }

    #[test]
    fn two_clients_of_one_process_do_not_collide() {
        let a = WhaletClient::demo("http://127.0.0.1:1");
        let b = WhaletClient::demo("http://127.0.0.1:1");
        let from_a: Vec<_> = (0..100).map(|_| a.next_request_no()).collect();
        let from_b: Vec<_> = (0..100).map(|_| b.next_request_no()).collect();
        assert!(from_a.iter().all(|no| !from_b.contains(no)));
    }
}
