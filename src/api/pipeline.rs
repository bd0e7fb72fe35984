//! What every request goes through, once, whatever its surface: the body limit, timing, the
//! journal entry, the requestNo memory, the scenario decision (latency, dropped connection, forced
//! sync code and HTTP status), the panic guard, internal-error masking and the log line.
//!
//! A surface plugs in a [`Scheme`]: how its wire format opens a request (parse, find the tenant,
//! authenticate, decrypt, look the operation up), how it runs the operation, and how it seals a
//! reply or a refusal in its own shape. Everything else lives here, so a fix made here holds for
//! the Open API, whalet-platform, Infinia, Pockyt and the file upload alike.
//!
//! ```text
//!  SimRequest ─▶ body limit ─▶ Scheme::open ─▶ requestNo memory ─▶ scenario decision
//!      (drop · forced code) ─▶ Scheme::run (the operation) ─▶ Scheme::seal_reply ─▶ latency
//!  any refusal on the way ─▶ Scheme::seal_refusal;  a panic anywhere ─▶ the surface's
//!  internal error;  at the end: one journal entry and one log line (also when the client
//!  leaves during the latency)
//! ```
//!
//! The two stages that do RSA work (everything up to the scenario decision, and the operation
//! with its sealing) pass through the core's CPU gate ([`crate::core::cpu`]) in one go, so a
//! flood of expensive requests waits its turn instead of taking every async worker; when the
//! gate is busy, in the queue of the tenant the request claims ([`Scheme::claimed_tenant`]), so
//! one tenant's burst does not hold the others back. A surface with no RSA work
//! ([`Scheme::does_rsa_work`]: Pockyt) does not pass the gate. A scenario latency comes after
//! the stages: it holds the answer back, not the operation, and the request is journaled even
//! if its client leaves during it.

use std::borrow::Cow;
use std::future::Future;
use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use serde_json::Value;

use crate::clock::{system_now, Millis};
use crate::contract::{Contracts, RequestOutcome};
use crate::core::{Core, TenantMissing};
use crate::http::{SimRequest, SimResponse};
use crate::journal::JournalEntry;
use crate::scenario::{Decision, OperationCtx};
use crate::store::TenantState;
use crate::tenant::{Provider, TenantId};

/// What the journal learns about a request while it is being understood. [`Scheme::open`] fills
/// it as far as it gets, so that a refused request is journaled with what was known.
#[derive(Debug, Default)]
pub struct Trace {
    /// The tenant the request names; the journal files even a forged request under it.
    pub tenant: Option<TenantId>,
    /// The request proved who sent it (its signature, token or verifySign checked): only then
    /// does coverage count it for its tenant (docs/COVERAGE.md); before, overall only.
    pub authenticated: bool,
    /// apiCode or path, as the journal shows it.
    pub operation: String,
    pub request_no: Option<String>,
    /// The decrypted request, or what could be read of it; None until a scheme reads more than
    /// the raw body, which the journal then keeps as text ([`preview`]; made only when needed:
    /// a request that opens never pays for it).
    pub request: Option<Value>,
    /// The code the operation answered when a contract overlay sent the partner another one
    /// (`code = "SUCCESS"` over a review's `PROCESSING`): coverage counts the simulator's own
    /// outcome, the journal what the partner read.
    pub answered_code: Option<String>,
}

/// One line of a surface's operation table: the operation's name (an apiCode, or a path) and
/// its handler. Every surface's table has this one shape.
pub struct Operation<H> {
    pub name: &'static str,
    pub handler: H,
}

/// One line of an operation table.
pub const fn op<H>(name: &'static str, handler: H) -> Operation<H> {
    Operation { name, handler }
}

/// An operation's handler as the pipeline (and describe mode) runs it on a request's body: a
/// handler of the body, or of its fields (the body's JSON object; an empty one when it is not an
/// object).
pub trait Handler<S>: Copy + Send + Sync + 'static {
    type Reply;
    type Error;
    fn call(self, ctx: &Ctx<'_, S>, body: &Value) -> Result<Self::Reply, Self::Error>;
}

impl<S: 'static, R: 'static, E: 'static> Handler<S> for fn(&Ctx<'_, S>, &Value) -> Result<R, E> {
    type Reply = R;
    type Error = E;
    fn call(self, ctx: &Ctx<'_, S>, body: &Value) -> Result<R, E> {
        self(ctx, body)
    }
}

impl<S: 'static, R: 'static, E: 'static> Handler<S>
    for fn(&Ctx<'_, S>, &serde_json::Map<String, Value>) -> Result<R, E>
{
    type Reply = R;
    type Error = E;
    fn call(self, ctx: &Ctx<'_, S>, body: &Value) -> Result<R, E> {
        match body {
            Value::Object(fields) => self(ctx, fields),
            _ => self(ctx, &serde_json::Map::new()),
        }
    }
}

/// An authenticated request, ready for its operation.
pub struct Opened<S> {
    pub tenant: TenantId,
    /// The operation's canonical name, which scenario rules match.
    pub operation: &'static str,
    /// The request's business fields (what scenario predicates and the handler read).
    pub body: Value,
    /// A requestNo that must be new for this tenant (remembered once accepted), if the surface
    /// has that rule.
    pub request_no: Option<String>,
    /// What is the surface's own (partner and echo, app, merchant, links' base URL, ...).
    pub session: S,
}

/// A refusal with the HTTP status it needs, when that is not the scheme's default.
pub struct Refusal<E> {
    pub error: E,
    pub status: Option<u16>,
}

impl<E> From<E> for Refusal<E> {
    fn from(error: E) -> Self {
        Self {
            error,
            status: None,
        }
    }
}

impl<E> Refusal<E> {
    pub fn with_status(error: E, status: u16) -> Self {
        Self {
            error,
            status: Some(status),
        }
    }
}

/// A refusal the pipeline itself makes. Each scheme's error converts it with one `From` impl,
/// which is where the surface's wire code and message for it live.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// The body is over the scheme's limit.
    TooLarge { limit: usize },
    /// The tenant already used this requestNo.
    DuplicateRequestNo {
        request_no: String,
        tenant: TenantId,
    },
    /// A scenario rule forces this sync code (and detail).
    Forced {
        code: String,
        detail: Option<String>,
    },
    /// What the partner sees for a bug of ours (an operation's internal error, a panic).
    Internal,
}

/// A sealed answer and what the journal records of it.
pub struct Answer {
    pub response: SimResponse,
    /// The scheme's result code (`SUCCESS`, `SYS-005`, `000100`, ...).
    pub code: String,
    pub detail: String,
    /// The reply as the partner reads it (decrypted).
    pub reply: Value,
}

impl Answer {
    fn dropped() -> Self {
        Self {
            response: SimResponse::Drop,
            code: "DROPPED".into(),
            detail: "connection dropped by scenario".into(),
            reply: Value::Null,
        }
    }
}

/// An operation's answer as a contract overlay ([`crate::contract`]) rewrites it before it is
/// sealed.
pub trait ReplyBody {
    /// Runs `f` on the reply's business body (not at all when the reply has none).
    fn with_body(&mut self, f: &mut dyn FnMut(&mut Value));
    /// Sets the sync success code and answers the one it replaced (what the operation answered,
    /// which coverage counts); `None` when the surface has no choice of success code.
    fn set_code(&mut self, _code: &str) -> Option<String> {
        None
    }
}

impl ReplyBody for Value {
    fn with_body(&mut self, f: &mut dyn FnMut(&mut Value)) {
        f(self)
    }
}

/// A surface's error type: built from the pipeline's own refusals, and able to say whether it
/// is a bug of ours (logged, and masked on the wire as [`Refused::Internal`]).
pub trait WireError: std::fmt::Display + Send + Sized {
    /// The pipeline's refusal in the surface's code and message.
    fn refused(refused: Refused) -> Self;
    fn is_internal(&self) -> bool;
    /// Rewrites the message the partner reads (a contract overlay's field names); an error
    /// without a free message keeps it.
    fn rewrite_message(&mut self, _rewrite: &dyn Fn(&str) -> String) {}
}

/// An error made of one of the surface's result codes and a message: it names the codes the
/// pipeline's refusals take, and is a [`WireError`] by that.
pub trait CodedError: std::fmt::Display + Send + Sized {
    type Code: Copy + PartialEq + std::fmt::Display;
    /// A bug of ours.
    const INTERNAL: Self::Code;
    /// A body over the limit.
    const TOO_LARGE: Self::Code;
    /// What a scenario's forced code becomes when it is not one of the surface's.
    const FORCED_FALLBACK: Self::Code;
    /// What the partner reads for a bug of ours.
    const INTERNAL_MESSAGE: &'static str = "internal error; see the simulator log";

    fn new(code: Self::Code, message: String) -> Self;
    fn code(&self) -> Self::Code;
    /// The message, to rewrite.
    fn message_mut(&mut self) -> &mut String;
    /// The code written `text` on the wire.
    fn parse_code(text: &str) -> Option<Self::Code>;
    /// The refusal of a requestNo the tenant already used.
    fn duplicate(request_no: String, tenant: TenantId) -> Self;
    /// The code of a refusal of the state (the message is the refusal's).
    fn state_code(refusal: &crate::store::Refusal) -> Self::Code;

    /// Whether the message of a forced code that is not one of the surface's names the rule's
    /// code as written (else the fallback code).
    const FORCED_NAMED_AS_WRITTEN: bool = false;

    /// A scenario rule's forced code (the fallback code when it is not one of the surface's),
    /// with its detail or `{code} (scenario rule)`.
    fn forced(text: &str, detail: Option<String>) -> Self {
        let code = Self::parse_code(text).unwrap_or(Self::FORCED_FALLBACK);
        let message = detail.unwrap_or_else(|| {
            let named = if Self::FORCED_NAMED_AS_WRITTEN {
                text.to_owned()
            } else {
                code.to_string()
            };
            format!("{named} (scenario rule)")
        });
        Self::new(code, message)
    }
}

/// A [`CodedError`] impl for an error that is a struct of a code field (of a `wire_codes!` type)
/// and a message field, with the parts that follow from that shape written here once (and the
/// conversions of a refusal of the state, in its code, and of a missing tenant, a bug of ours);
/// the block gives the codes and the duplicate refusal:
///
/// ```text
/// coded_error! {
///     impl CodedError for WhaletError { code: Code, detail } {
///         const INTERNAL: Code = Code::InternalError;
///         ...
///     }
/// }
/// ```
macro_rules! coded_error {
    ($(#[$doc:meta])*
     impl CodedError for $error:ident { $code:ident: $code_ty:ident, $message:ident } {
        $($rest:tt)*
    }) => {
        $(#[$doc])*
        impl $crate::api::pipeline::CodedError for $error {
            type Code = $code_ty;

            fn new($code: $code_ty, $message: String) -> Self {
                Self { $code, $message }
            }

            fn code(&self) -> $code_ty {
                self.$code
            }

            fn message_mut(&mut self) -> &mut String {
                &mut self.$message
            }

            fn parse_code(text: &str) -> Option<$code_ty> {
                $code_ty::parse(text)
            }

            $($rest)*
        }

        impl From<$crate::store::Refusal> for $error {
            fn from(r: $crate::store::Refusal) -> Self {
                let code = <Self as $crate::api::pipeline::CodedError>::state_code(&r);
                <Self as $crate::api::pipeline::CodedError>::new(code, r.to_string())
            }
        }

        impl From<$crate::core::TenantMissing> for $error {
            fn from(e: $crate::core::TenantMissing) -> Self {
                <Self as $crate::api::pipeline::CodedError>::new(
                    <Self as $crate::api::pipeline::CodedError>::INTERNAL,
                    e.to_string(),
                )
            }
        }
    };
}
pub(crate) use coded_error;

impl<E: CodedError> WireError for E {
    fn refused(refused: Refused) -> Self {
        match refused {
            Refused::TooLarge { limit } => E::new(
                E::TOO_LARGE,
                format!("the request body exceeds the limit of {limit} bytes"),
            ),
            Refused::DuplicateRequestNo { request_no, tenant } => E::duplicate(request_no, tenant),
            Refused::Forced { code, detail } => E::forced(&code, detail),
            Refused::Internal => E::new(E::INTERNAL, E::INTERNAL_MESSAGE.to_owned()),
        }
    }

    fn is_internal(&self) -> bool {
        self.code() == E::INTERNAL
    }

    fn rewrite_message(&mut self, rewrite: &dyn Fn(&str) -> String) {
        let message = self.message_mut();
        *message = rewrite(message);
    }
}

/// A surface's wire scheme and operation table, plugged into the pipeline.
pub trait Scheme: Send + Sync + 'static {
    /// The surface's name in the journal and for scenario rules.
    const SURFACE: &'static str;
    /// Whether the private-key work of opening a request grows with its body (Infinia: one RSA
    /// operation per block). Such requests are always handed off the async worker; the others
    /// (a fixed number of RSA operations) run on it when their body is at most
    /// `[server] cpu_inline_bytes` (`core::cpu`).
    const RSA_PER_BLOCK: bool = false;
    /// Whether opening or sealing a request does private-key (RSA) work, and so passes the
    /// core's CPU gate (`core::cpu`). A surface that does none (Pockyt's MD5 `verifySign`,
    /// whalet-platform's plain-JSON mode) does not wait there behind other requests' RSA work.
    /// Default: yes.
    fn does_rsa_work(&self) -> bool {
        true
    }
    /// The configured tenant `req` names, read without any key work and before anything is
    /// proven (a claim): when the CPU gate is busy it queues each tenant's requests apart, so
    /// that one tenant's burst does not hold the others back (`core::cpu`). `None` when the
    /// request names no configured tenant, or not where it can be read cheaply: all such
    /// requests share one queue. Asked only when the gate is busy. Default: the partner named
    /// by the `head.partnerId` of a Whalet envelope (the Open API's, whalet-platform's).
    fn claimed_tenant<'r>(&self, core: &Core, req: &'r SimRequest) -> Option<Claim<'r>> {
        claimed_partner(core, &req.body)
    }
    /// What a refusal echoes back (e.g. the Whalet head): [`Scheme::unopened_echo`] at first,
    /// then filled by `open` as far as it gets.
    type Echo: Default + Send;
    /// What an opened request carries besides the body (see [`Opened::session`]).
    type Session: Send + Sync;
    /// The surface's error, mapped to its wire code in one place.
    type Error: WireError;
    /// What an operation answers.
    type Reply: Send + ReplyBody;

    /// The request-body field the journal shows as a request's number, on a surface whose
    /// number travels in the body (Infinia's `requestNo`, Pockyt's `invoiceId`): read again
    /// after a contract overlay renamed the request, so a partner's own name for it counts.
    const BODY_REQUEST_NO: Option<&'static str> = None;
    /// The surface scenario rules name for this scheme's operations: its own, but for the
    /// upload endpoint, whose rules are the Whalet surface's (`/file/upload`).
    const RULE_SURFACE: &'static str = Self::SURFACE;
    /// The largest body this surface reads.
    fn body_limit(&self, core: &Core) -> usize;
    /// Whether the surface checks `route` before the body's size: false for a route it knows
    /// serves nothing, so that [`Scheme::open`] refuses the route itself (Pockyt's 404 for an
    /// unknown path comes before its body limit). Default: the size is checked first.
    fn refuses_route_first(&self, _route: &str) -> bool {
        false
    }
    /// Whether the opened request repeats an earlier one by a business id the operation keeps
    /// (Pockyt's `invoiceId`, Infinia's `requestNo`, a Whalet or whalet-platform business id
    /// under a new requestNo), so that the operation answers the earlier result or refuses the
    /// repeat as a conflict: no scenario rule decides it or counts it, as a repeated Whalet
    /// requestNo is refused before any rule. Default: never (a surface that keeps no ids).
    fn replays(&self, _core: &Core, _opened: &Opened<Self::Session>) -> bool {
        false
    }
    /// The echo of a request addressed at `route` that [`Scheme::open`] has not read yet: what a
    /// refusal made before `open` runs (a body over the limit) echoes, and what `open` starts
    /// from. A surface whose path names the operation says so here (whalet-platform echoes the
    /// path's operation as `head.apiCode`, as it does for a head it cannot read). Default:
    /// nothing read (`Self::Echo::default()`).
    fn unopened_echo(&self, _route: &str) -> Self::Echo {
        Self::Echo::default()
    }
    /// Parses and authenticates the request addressed at `route` (the path's operation part).
    fn open(
        &self,
        core: &Core,
        req: &SimRequest,
        route: &str,
        echo: &mut Self::Echo,
        trace: &mut Trace,
    ) -> impl Future<Output = Result<Opened<Self::Session>, Refusal<Self::Error>>> + Send;
    /// Runs the operation.
    fn run(&self, ctx: &Ctx<'_, Self::Session>, body: &Value) -> Result<Self::Reply, Self::Error>;
    /// Seals a successful answer.
    fn seal_reply(
        &self,
        core: &Core,
        echo: &Self::Echo,
        opened: &Opened<Self::Session>,
        reply: Self::Reply,
        status: u16,
    ) -> Result<Answer, Self::Error>;
    /// Seals a refusal (`status` overrides the scheme's default HTTP status).
    fn seal_refusal(
        &self,
        core: &Core,
        echo: &Self::Echo,
        err: Self::Error,
        status: Option<u16>,
    ) -> Answer;
}

/// A tenant as a request names it, before anything is proven ([`Scheme::claimed_tenant`]): the
/// queue its RSA work waits in when the CPU gate is busy.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Claim<'r> {
    pub provider: Provider,
    pub id: Cow<'r, str>,
}

/// The configured Whalet partner a Whalet envelope's `head.partnerId` names (the default
/// [`Scheme::claimed_tenant`]): the envelope's JSON is only scanned (its strings are skipped,
/// not copied; an id without escapes is borrowed), and nothing is decrypted or verified.
pub fn claimed_partner<'r>(core: &Core, body: &'r [u8]) -> Option<Claim<'r>> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        head: Head<'a>,
    }
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(borrow, rename = "partnerId")]
        partner_id: Cow<'a, str>,
    }
    let id = serde_json::from_slice::<Envelope>(body)
        .ok()?
        .head
        .partner_id;
    core.partners().get(&id)?;
    Some(Claim {
        provider: Provider::Whalet,
        id,
    })
}

/// What an operation gets: the core, the tenant, the scenario's decision and the surface's own
/// session (reachable directly through `Deref`, e.g. `ctx.partner`).
pub struct Ctx<'a, S> {
    pub core: &'a Core,
    pub tenant: &'a TenantId,
    pub decision: &'a Decision,
    pub session: &'a S,
}

impl<S> Deref for Ctx<'_, S> {
    type Target = S;
    fn deref(&self) -> &S {
        self.session
    }
}

impl<S> Ctx<'_, S> {
    pub fn now(&self) -> Millis {
        self.core.clock().now()
    }

    /// Runs `f` under this tenant's lock (see [`Core::with_tenant`]).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut TenantState) -> R) -> Result<R, TenantMissing> {
        self.core.with_tenant(self.tenant, f)
    }

    /// Runs a fallible `f` under this tenant's lock.
    pub fn try_with_state<R, E: From<TenantMissing>>(
        &self,
        f: impl FnOnce(&mut TenantState) -> Result<R, E>,
    ) -> Result<R, E> {
        self.core.with_tenant(self.tenant, f)?
    }

    /// Schedules `kind` for this tenant (the work an operation leaves for later: a payment's
    /// settlement, a sharing's finish) after the scenario's delay, or `default_ms` when no rule
    /// sets one.
    pub fn schedule_in(
        &self,
        kind: &crate::core::timers::TimerKind,
        default_ms: i64,
        label: String,
        key: &str,
        params: Value,
    ) -> u64 {
        let pending = crate::core::timers::Pending {
            label,
            tenant: Some(self.tenant),
            key,
            params,
        };
        let delay = self.decision.delay_or(default_ms);
        self.core.schedule_timer_in(kind, delay, pending)
    }
}

/// Serves one request of `scheme`'s surface; `route` is the operation part of the path.
pub async fn handle<S: Scheme>(
    scheme: &S,
    core: &Core,
    req: SimRequest,
    route: &str,
) -> SimResponse {
    let started = Instant::now();
    let virtual_time = core.clock().now();
    let mut trace = Trace {
        operation: route.to_owned(),
        ..Trace::default()
    };
    // Every refusal made before `open` (the body limit, a panic) echoes what the path says.
    let mut echo = scheme.unopened_echo(route);
    let mut rule = None;
    let incoming = Incoming {
        scheme,
        core,
        req: &req,
        route,
    };
    let outcome = AssertUnwindSafe(process(incoming, &mut echo, &mut trace, &mut rule))
        .catch_unwind()
        .await;
    let (answer, latency_ms) = outcome.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-text panic".to_owned());
        tracing::error!(surface = S::SURFACE, operation = %logged(Some(&trace.operation)), panic = %what, "the operation panicked");
        let refusal = scheme.seal_refusal(core, &echo, S::Error::refused(Refused::Internal), None);
        (refusal, 0)
    });
    let Answer {
        response,
        code,
        detail,
        reply,
    } = answer;
    let tenant = trace.tenant.as_ref().map(ToString::to_string);
    let mut record = Record {
        core,
        started,
        latency: None,
        counted: trace.tenant.filter(|_| trace.authenticated),
        answered_code: trace.answered_code,
        entry: Some(JournalEntry {
            id: 0,
            surface: S::SURFACE,
            tenant,
            operation: trace.operation,
            request_no: trace.request_no,
            virtual_time,
            wall_time: 0,
            http_status: response.status(),
            code,
            detail,
            request: trace.request.unwrap_or_else(|| preview(&req.body)),
            reply,
            rule,
            latency_us: 0,
        }),
    };
    // A scenario latency holds the answer back, not the operation: the requestNo is taken and
    // the effect made at once (a status query meanwhile sees it, as with a provider that
    // answers late), so the state never holds one without the other. A client that gives up
    // meanwhile drops this future: `record` then journals the request as it drops, saying so.
    if latency_ms > 0 {
        record.latency = Some((Instant::now(), latency_ms));
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }
    record.write(false);
    response
}

/// A request's journal entry, log line and coverage count, ready with its answer: written when
/// the answer goes out or, should the request's future be dropped while a scenario latency
/// holds the answer back (its client closed the connection), as it drops, with a note in the
/// journal's detail and the log line. Either way exactly once: the operation has taken effect.
struct Record<'a> {
    core: &'a Core,
    started: Instant,
    /// When a scenario latency began holding the answer back, and how long it is (ms).
    latency: Option<(Instant, u64)>,
    /// The tenant coverage counts the request for: an authenticated one (docs/COVERAGE.md).
    counted: Option<TenantId>,
    /// The code the operation answered, when a contract overlay sent another (what coverage
    /// counts instead of the entry's).
    answered_code: Option<String>,
    /// None once written.
    entry: Option<JournalEntry>,
}

impl Record<'_> {
    /// Journals, logs and counts the request; `left`: its answer was never sent.
    fn write(&mut self, left: bool) {
        let Some(mut entry) = self.entry.take() else {
            return;
        };
        entry.wall_time = system_now();
        entry.latency_us = self.started.elapsed().as_micros() as u64;
        if left {
            let (waited, latency_ms) = self
                .latency
                .map_or((0, 0), |(since, ms)| (since.elapsed().as_millis(), ms));
            entry.detail = format!(
                "{} [answer not sent: the connection closed {waited} ms into the scenario's {latency_ms} ms latency]",
                entry.detail
            );
        }
        let message = if left {
            "request; the connection closed during the scenario latency, the answer was not sent"
        } else {
            "request"
        };
        tracing::info!(
            surface = entry.surface,
            tenant = %logged(entry.tenant.as_deref()),
            operation = %logged(Some(&entry.operation)),
            request_no = %logged(entry.request_no.as_deref()),
            code = %logged(Some(&entry.code)),
            latency_us = entry.latency_us,
            "{message}"
        );
        let coverage = self.core.surface::<crate::coverage::Coverage>();
        coverage.request(
            entry.surface,
            self.counted.as_ref(),
            &entry.operation,
            self.answered_code.as_deref().unwrap_or(&entry.code),
        );
        self.core.journal().record(entry);
    }
}

impl Drop for Record<'_> {
    fn drop(&mut self) {
        self.write(true);
    }
}

/// A field of the log line: it echoes what the client sent, so it is bounded like any echo and
/// its control characters are escaped ([`crate::text::log_field`]).
fn logged(value: Option<&str>) -> std::borrow::Cow<'_, str> {
    crate::text::log_field(value.unwrap_or("-"))
}

/// A body no scheme could read, as text for the journal: bytes that are not UTF-8 become U+FFFD,
/// and the journal cuts it as any field (`[journal] max_field_bytes`, at a character boundary,
/// with `… N more bytes`), so a parse error's line and column can be found in what it keeps.
pub fn preview(body: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(body).into_owned())
}

/// The journal's copy of a body that decrypted but is not the JSON object a request carries
/// (text that is not JSON, a JSON string, bytes that are not UTF-8): the decrypted text, which
/// shows the developer what was encrypted. Bytes that are not UTF-8 are shown lossily (U+FFFD)
/// after a marker that says so; the journal bounds the text like any of its values.
pub fn decrypted_text(plaintext: &[u8]) -> Value {
    Value::String(match std::str::from_utf8(plaintext) {
        Ok(text) => text.to_owned(),
        Err(_) => format!(
            "<not UTF-8, shown lossily> {}",
            String::from_utf8_lossy(plaintext)
        ),
    })
}

/// A request as it arrived, with the scheme that serves it.
struct Incoming<'a, S> {
    scheme: &'a S,
    core: &'a Core,
    req: &'a SimRequest,
    /// The operation part of the path.
    route: &'a str,
}

/// A request the scheme opened and the scenario engine decided on.
struct Admitted<S> {
    opened: Opened<S>,
    decision: Decision,
}

/// The request's answer and the scenario latency that holds it back (ms; 0 for none).
async fn process<S: Scheme>(
    incoming: Incoming<'_, S>,
    echo: &mut S::Echo,
    trace: &mut Trace,
    rule: &mut Option<String>,
) -> (Answer, u64) {
    let Incoming {
        scheme, core, req, ..
    } = incoming;
    let in_place = !S::RSA_PER_BLOCK && req.body.len() <= core.config().server.cpu_inline_bytes;
    let stages = async {
        let Admitted { opened, decision } = admit(incoming, echo, trace).await?;
        rule.clone_from(&decision.rule);
        let answer = answer(scheme, core, echo, &opened, &decision, trace);
        Ok((answer, decision.latency_ms))
    };
    // Opening (RSA decryption) and sealing (RSA signature) are the heavy stages: they pass
    // through the core's CPU gate together, so a flood of them cannot take every async worker;
    // one pass, since each moves the request off the async worker and back, which costs more
    // CPU than the JSON, journal and log line of the request together (docs/PERFORMANCE.md).
    // When the gate is busy the request waits in its claimed tenant's queue; a surface with no
    // RSA work does not pass it.
    let staged = if scheme.does_rsa_work() {
        let tenant = || scheme.claimed_tenant(core, req);
        core.cpu().run(tenant, in_place, stages).await
    } else {
        stages.await
    };
    staged.unwrap_or_else(|refused| (refused, 0))
}

/// Body limit, opening, requestNo memory and the scenario decision; a refusal comes back as
/// its sealed answer.
async fn admit<S: Scheme>(
    incoming: Incoming<'_, S>,
    echo: &mut S::Echo,
    trace: &mut Trace,
) -> Result<Admitted<S::Session>, Answer> {
    let Incoming {
        scheme,
        core,
        req,
        route,
    } = incoming;
    let limit = scheme.body_limit(core);
    let oversize = req.too_large || req.body.len() > limit;
    if oversize && !scheme.refuses_route_first(route) {
        trace.request = Some(Value::String(format!(
            "<more than {limit} bytes, not kept>"
        )));
        return Err(scheme.seal_refusal(
            core,
            echo,
            S::Error::refused(Refused::TooLarge { limit }),
            None,
        ));
    }
    let mut opened = match scheme.open(core, req, route, echo, trace).await {
        Ok(opened) => opened,
        Err(refusal) => return Err(scheme.seal_refusal(core, echo, refusal.error, refusal.status)),
    };
    trace.tenant = Some(opened.tenant.clone());
    trace.authenticated = true;
    if let Some(no) = &opened.request_no {
        let memory = core.config().whalet.request_no_memory;
        let fresh = core
            .with_tenant(&opened.tenant, |t| t.request_nos.insert(no.clone(), memory))
            .unwrap_or(false);
        if !fresh {
            let err = Refused::DuplicateRequestNo {
                request_no: no.clone(),
                tenant: opened.tenant.clone(),
            };
            return Err(scheme.seal_refusal(core, echo, S::Error::refused(err), None));
        }
    }
    // After the requestNo memory, like an operation's own parameter check; before the
    // scenario decision, whose predicates read the simulator's field names.
    if let Some(err) = overlay_request::<S>(core, &mut opened, trace) {
        return Err(scheme.seal_refusal(core, echo, S::Error::refused(err), None));
    }
    let ctx = OperationCtx {
        surface: S::RULE_SURFACE,
        tenant: &opened.tenant,
        operation: opened.operation,
        fields: &opened.body,
    };
    // Whether the request replays an earlier one is asked only when a rule could take it: the
    // Whalet and platform schemes answer by probing the operation's handler.
    let decision = if core.scenarios().selects_any(&ctx) && !scheme.replays(core, &opened) {
        core.scenarios().decide(ctx)
    } else {
        Decision::default()
    };
    // A dropped connection is a request lost before the provider processed it: nothing is done
    // ([`answer`]), so its requestNo stays free for the partner's retry.
    if decision.sync.as_ref().is_some_and(|s| s.drop_connection) {
        if let Some(no) = &opened.request_no {
            let _ = core.with_tenant(&opened.tenant, |t| t.request_nos.forget(no));
        }
    }
    Ok(Admitted { opened, decision })
}

/// The scenario's forced outcome, or the operation's answer, sealed; `trace` learns the code
/// the operation answered when the contract overlay sealed another.
fn answer<S: Scheme>(
    scheme: &S,
    core: &Core,
    echo: &S::Echo,
    opened: &Opened<S::Session>,
    decision: &Decision,
    trace: &mut Trace,
) -> Answer {
    let status = decision.sync.as_ref().and_then(|s| s.http_status);
    if let Some(sync) = &decision.sync {
        if sync.drop_connection {
            return Answer::dropped();
        }
        if let Some(code) = &sync.code {
            let err = Refused::Forced {
                code: code.clone(),
                detail: sync.detail.clone(),
            };
            return scheme.seal_refusal(core, echo, S::Error::refused(err), status);
        }
    }
    let ctx = Ctx {
        core,
        tenant: &opened.tenant,
        decision,
        session: &opened.session,
    };
    // One unit of work: the state it changes and the timers it schedules are seen together.
    let ran = core.clock().cut().work(|| scheme.run(&ctx, &opened.body));
    match ran {
        Ok(mut reply) => {
            let answered_code = overlay_reply::<S>(core, opened, &mut reply);
            match scheme.seal_reply(core, echo, opened, reply, status.unwrap_or(200)) {
                Ok(answer) => {
                    trace.answered_code = answered_code;
                    answer
                }
                Err(err) => scheme.seal_refusal(core, echo, err, None),
            }
        }
        Err(err) if err.is_internal() => {
            tracing::error!(surface = S::SURFACE, operation = opened.operation, error = %err, "internal error");
            scheme.seal_refusal(core, echo, S::Error::refused(Refused::Internal), status)
        }
        Err(mut err) => {
            overlay_refusal::<S>(core, opened, &mut err);
            scheme.seal_refusal(core, echo, err, status)
        }
    }
}

/// A handler's refusal names request fields and status words as the handler reads them: under
/// an overlay that renames the fields or maps the words, the partner reads the ones it sends.
fn overlay_refusal<S: Scheme>(core: &Core, opened: &Opened<S::Session>, err: &mut S::Error) {
    let overlay = core
        .surface::<Contracts>()
        .for_tenant(&opened.tenant)
        .and_then(|c| c.operation(S::SURFACE, opened.operation));
    if let Some(overlay) = overlay.filter(|o| o.rewrites_messages()) {
        err.rewrite_message(&|message| overlay.message_for_partner(message));
    }
}

/// Applies the tenant's contract overlay of this operation to the opened request: a request it
/// cannot apply (a required field missing, a field sent twice) is refused in the surface's
/// parameter error; a rewritten body is journaled beside what came on the wire.
fn overlay_request<S: Scheme>(
    core: &Core,
    opened: &mut Opened<S::Session>,
    trace: &mut Trace,
) -> Option<Refused> {
    let contract = core.surface::<Contracts>().for_tenant(&opened.tenant)?;
    let overlay = contract.operation(S::SURFACE, opened.operation)?;
    let wire = opened.body.clone();
    match overlay.apply_request(&mut opened.body) {
        RequestOutcome::Unchanged => None,
        RequestOutcome::Changed => {
            if let Some(no) = S::BODY_REQUEST_NO
                .and_then(|field| opened.body.get(field))
                .and_then(Value::as_str)
            {
                trace.request_no = Some(no.to_owned());
            }
            trace.request = Some(serde_json::json!({
                "wire": wire,
                "handler": opened.body,
                "contract": contract.source,
            }));
            None
        }
        RequestOutcome::Refused(why) => Some(Refused::Forced {
            code: why.code(S::SURFACE).to_owned(),
            detail: Some(format!(
                "{why} (contract {})",
                contract_name(&contract.source)
            )),
        }),
    }
}

/// The file name of an overlay, without its directory (what a refusal tells the partner).
fn contract_name(source: &str) -> &str {
    std::path::Path::new(source)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(source)
}

/// Applies the tenant's contract overlay of this operation to a successful reply; answers the
/// code the operation answered when the overlay set another.
fn overlay_reply<S: Scheme>(
    core: &Core,
    opened: &Opened<S::Session>,
    reply: &mut S::Reply,
) -> Option<String> {
    let overlay = core
        .surface::<Contracts>()
        .for_tenant(&opened.tenant)
        .and_then(|c| c.operation(S::SURFACE, opened.operation))?;
    reply.with_body(&mut |body| overlay.apply_reply(body));
    overlay
        .code
        .as_deref()
        .and_then(|code| reply.set_code(code))
}
