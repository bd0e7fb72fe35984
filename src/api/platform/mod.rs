//! whalet-platform: `POST /v1/platform/{operation}` for marketplaces that bind sellers' shops and
//! pay them from bulk payments. This module is the shared pipeline: authenticate (the Whalet
//! envelope with the partner's keys, `head.apiCode` = the operation; or plain JSON with
//! `[platform] auth = "none"`), check the requestNo, ask the scenario engine, run the operation,
//! answer in the same scheme, journal it. Operations live one group per file; the seller's side
//! (the authorization page) is `web::authorize`, which calls back into [`binding`].

pub mod binding;
mod fields;
pub mod materials;
pub mod payment;
mod triggers;

use serde_json::{json, Map, Value};

use crate::api::pipeline::{self, op, Answer, Opened, Refusal, Scheme, Trace};
use crate::api::whalet::partners::DEMO_PARTNER_ID;
use crate::api::whalet::Head;
use crate::config::platform::PlatformAuth;
use crate::core::{Core, Trigger};
use crate::http::{SimRequest, SimResponse};
use crate::tenant::{Provider, TenantId};
use crate::wire::keys::{PrivateKey, PublicKey};
use crate::wire::whalet::{self as envelope, Code, Echo, WhaletError, SUCCESS_DETAIL};

pub use binding::{binding_standing, decide_binding};
pub use fields::{optional, required};

/// What a platform operation has besides its body.
pub struct Session {
    pub partner_id: String,
    pub request_no: String,
    /// `http://host:port` as the partner reached the simulator (for links).
    pub base_url: String,
    /// The business JSON's text as the partner sent it (plain mode's body, the envelope's
    /// decrypted text; empty in describe mode): its numbers as written, where the body the
    /// handler gets holds some as strings (`money::keep_number_texts`).
    pub sent: String,
    /// The platform and partner keys of an enveloped request (None in plain-JSON mode).
    keys: Option<(PrivateKey, PublicKey)>,
    handler: Handler,
}

/// What an operation gets (the pipeline's context with this surface's [`Session`]).
pub type Ctx<'a> = pipeline::Ctx<'a, Session>;

pub type Handler = fn(&Ctx<'_>, &Value) -> Result<Value, WhaletError>;

/// One operation: its name in the path (and in `head.apiCode`) and handler.
pub type Operation = pipeline::Operation<Handler>;

/// The operations, by the name in the path (and in `head.apiCode`).
pub const OPERATIONS: &[Operation] = &[
    op("shopAccountBind", binding::shop_account_bind),
    op("shopAccountBindQuery", binding::shop_account_bind_query),
    op("paymentApply", payment::payment_apply),
    op("paymentQuery", payment::payment_query),
    op("balanceQuery", payment::balance_query),
    op("tradeMaterialsUpload", materials::trade_materials_upload),
];

/// The notifications this surface sends (canonical names, as `head.apiCode`).
pub const NOTIFICATIONS: &[&str] = &[
    "shopAccountBindNotify",
    "bulkPaymentsReceivedNotify",
    "paymentApplyNotify",
];

/// Triggers of this surface.
pub fn triggers() -> Vec<Trigger> {
    triggers::TRIGGERS.to_vec()
}

/// The display name of a partner on the authorization page.
pub fn partner_name(core: &Core, partner_id: &str) -> String {
    match core.config().platform.partner_names.get(partner_id) {
        Some(name) => name.clone(),
        None if partner_id == DEMO_PARTNER_ID => "Demo Marketplace".to_owned(),
        None => format!("Partner {partner_id}"),
    }
}

/// Entry point for `POST /v1/platform/{operation}`.
pub async fn handle(core: &Core, req: SimRequest, operation: &str) -> SimResponse {
    let plain = core.config().platform.auth == PlatformAuth::None;
    pipeline::handle(&PlatformApi { plain }, core, req, operation).await
}

/// whalet-platform's scheme: the Whalet envelope (or plain JSON) and the operation table.
pub struct PlatformApi {
    /// `[platform] auth = "none"`: plain JSON in and out, refusals with HTTP statuses.
    plain: bool,
}

impl PlatformApi {
    /// The scheme in envelope mode (`plain` false) or plain-JSON mode (`[platform] auth = "none"`).
    pub fn new(plain: bool) -> Self {
        Self { plain }
    }
}

impl Scheme for PlatformApi {
    const SURFACE: &'static str = "platform";
    /// The request head as far as it was read, and the partner once its signature verified:
    /// the Open API's [`Head`], so refusals are signed under the same rule.
    type Echo = Head;
    type Session = Session;
    type Error = WhaletError;
    type Reply = Value;

    fn body_limit(&self, core: &Core) -> usize {
        core.config().whalet.body_limit_bytes
    }

    /// The plain-JSON mode (`[platform] auth = "none"`) neither decrypts nor signs: its
    /// requests do not pass the CPU gate. The envelope mode's do, each in its partner's queue
    /// when the gate is busy (the default [`Scheme::claimed_tenant`]).
    fn does_rsa_work(&self) -> bool {
        !self.plain
    }

    /// A `bindId` or `paymentId` the operation already holds (whatever its handler keeps
    /// through [`kept`](crate::api::whalet::common::kept)), under a new requestNo: answered from
    /// the first result, or refused as a conflict.
    fn replays(&self, core: &Core, opened: &Opened<Session>) -> bool {
        crate::api::whalet::common::replays(core, opened, |ctx, body| {
            let _ = (ctx.handler)(ctx, body);
        })
    }

    /// A request refused before its head was read (a body over the limit) echoes the path's
    /// operation as `head.apiCode`, as one whose head cannot be read does ([`Scheme::open`]).
    fn unopened_echo(&self, operation: &str) -> Head {
        Head {
            echo: Echo {
                api_code: operation.to_owned(),
                ..Echo::default()
            },
            ..Head::default()
        }
    }

    async fn open(
        &self,
        core: &Core,
        req: &SimRequest,
        operation: &str,
        head: &mut Head,
        trace: &mut Trace,
    ) -> Result<Opened<Session>, Refusal<WhaletError>> {
        head.echo.api_code = operation.to_owned();
        let (partner, mut body, keys, text) = if self.plain {
            let header = plain_header(req, "partnerId")?;
            let named = match header {
                Some(id) => Ok(id.to_owned()),
                None => assumed_partner(core),
            };
            head.echo.partner_id = named.as_deref().unwrap_or_default().to_owned();
            // The header names the partner, as an envelope's head does: a refusal from here on
            // is filed under its tenant when it is a configured one.
            crate::api::whalet::journal_partial(core, trace, &head.echo);
            let body: Value = serde_json::from_slice(&req.body).map_err(|e| {
                let why = crate::wire::not_json(&req.body, &e);
                WhaletError::format(format!("the body is not JSON: {why}"))
            })?;
            refuse_envelope(&body)?;
            head.echo.request_no = plain_request_no(req)?.unwrap_or("").to_owned();
            let partner =
                crate::api::whalet::find_partner(core, &named?, Some("header partnerId"))?;
            let text = String::from_utf8_lossy(&req.body).into_owned();
            trace.request = Some(body.clone());
            // The plain-JSON mode trusts the header's partnerId: nothing more to prove. Trusted
            // as far as a verified signature is, the request counts against the partner's rate
            // limit from here, as an enveloped one does (`Head::authenticate`).
            trace.authenticated = true;
            crate::api::whalet::admit(&partner)?;
            (partner, body, None, text)
        } else {
            let sealed = envelope::parse_request(&req.body).map_err(|(partial, err)| {
                crate::api::whalet::journal_partial(core, trace, &partial);
                head.echo = Echo {
                    api_code: if partial.api_code.is_empty() {
                        operation.to_owned()
                    } else {
                        partial.api_code.clone()
                    },
                    ..partial
                };
                plain_json_hint(&req.body, err)
            })?;
            let partner = head.identify(core, &sealed, trace)?;
            if head.echo.api_code != operation {
                return Err(WhaletError::parameter(format!(
                    "the path says operation {} but head.apiCode is {}; they must be the same",
                    crate::text::echo(operation),
                    crate::text::echo(&head.echo.api_code)
                ))
                .into());
            }
            let opened = head.authenticate(&sealed, &partner, trace)?;
            let keys = Some((partner.platform_key.clone(), partner.public_key.clone()));
            (partner, opened.body, keys, opened.text)
        };
        // After the journal's copy: amounts are read from the characters the partner wrote.
        crate::money::keep_number_texts(&text, &mut body);
        let tenant = TenantId::new(Provider::Whalet, partner.id.clone());
        trace.tenant = Some(tenant.clone());
        let Some(&Operation {
            name: canonical,
            handler,
        }) = OPERATIONS.iter().find(|op| op.name == operation)
        else {
            let known: Vec<&str> = OPERATIONS.iter().map(|op| op.name).collect();
            let err = WhaletError::new(
                Code::InterfaceUnauthorized,
                format!(
                    "{:?} is not an operation of whalet-platform; {}; known: {}",
                    crate::text::bound(operation, 64),
                    crate::api::catalog::unknown(core, "platform", operation),
                    known.join(", ")
                ),
            );
            return Err(match self.plain {
                true => Refusal::with_status(err, 404),
                false => err.into(),
            });
        };
        crate::api::whalet::enabled(&partner, canonical, canonical).map_err(|_| {
            WhaletError::new(
                Code::InterfaceUnauthorized,
                format!(
                    "operation {canonical:?} is not enabled for partner {}",
                    partner.id
                ),
            )
        })?;
        if !body.is_object() {
            return Err(WhaletError::format(format!(
                "the business body must be a JSON object, got {}",
                envelope::json_type(&body)
            ))
            .into());
        }
        // Plain mode may leave the requestNo header out: one is made up and not checked for
        // uniqueness.
        let checked = !(self.plain && head.echo.request_no.is_empty());
        if !checked {
            head.echo.request_no = format!("P{}", core.clock().now());
        }
        trace.request_no = Some(head.echo.request_no.clone());
        let public_url = core.config().platform.public_url.as_deref();
        let base_url = crate::api::base_url::base_url(req, public_url);
        Ok(Opened {
            tenant,
            operation: canonical,
            body,
            request_no: checked.then(|| head.echo.request_no.clone()),
            session: Session {
                partner_id: partner.id.clone(),
                request_no: head.echo.request_no.clone(),
                base_url,
                sent: text,
                keys,
                handler,
            },
        })
    }

    fn run(&self, ctx: &Ctx<'_>, body: &Value) -> Result<Value, WhaletError> {
        (ctx.handler)(ctx, body)
    }

    fn seal_reply(
        &self,
        core: &Core,
        head: &Head,
        opened: &Opened<Session>,
        reply: Value,
        status: u16,
    ) -> Result<Answer, WhaletError> {
        let echo = &head.echo;
        let response = match &opened.session.keys {
            None if self.plain => SimResponse::json_value(status, &reply),
            keys => SimResponse::json(
                status,
                envelope::seal_reply(
                    echo,
                    Code::Success.as_str(),
                    SUCCESS_DETAIL,
                    Some(&reply),
                    keys.as_ref().map(|(k, p)| (k, p)),
                    core.hex_case(),
                ),
            ),
        };
        Ok(Answer {
            response,
            code: Code::Success.to_string(),
            detail: SUCCESS_DETAIL.into(),
            reply,
        })
    }

    fn seal_refusal(
        &self,
        core: &Core,
        head: &Head,
        err: WhaletError,
        status: Option<u16>,
    ) -> Answer {
        if !self.plain {
            // The Open API's rule: signed head-only once the partner's signature verified.
            return head.seal_refusal(core, err, status);
        }
        // Plain JSON: the same documented `detail` width and diagnostic header as the envelope.
        let status = status.unwrap_or_else(|| plain_status(err.code));
        let code = err.code;
        crate::api::whalet::refusal_answer(core, err, |wire_detail| {
            SimResponse::json_value(
                status,
                &json!({"code": code.as_str(), "detail": wire_detail}),
            )
        })
    }
}

/// Plain mode's partner when a request sends no `partnerId` header: the one a trigger naming no
/// partner acts for ([`trigger_tenant`](crate::api::whalet::common::trigger_tenant): the demo
/// partner when it is configured, else the only partner), so that a request and a trigger left
/// without a partner act for the same one. Without such a partner, PARTNER_NOT_EXIST saying
/// that the header was not sent and which partners are configured.
fn assumed_partner(core: &Core) -> Result<String, WhaletError> {
    if let Ok(tenant) = crate::api::whalet::common::trigger_tenant(core, &Map::new()) {
        return Ok(tenant.id);
    }
    let configured = core.partners().ids();
    let why = match configured.as_slice() {
        [] => "no partner is configured ([whalet] demo_partner = false and no [[whalet.partners]])"
            .to_owned(),
        ids => format!(
            "the demo partner is not configured and {} partners are ({}), so none is assumed",
            ids.len(),
            ids.join(", ")
        ),
    };
    Err(WhaletError::new(
        Code::PartnerNotExist,
        format!("no partnerId header was sent: {why}; send the header partnerId naming a configured partner"),
    ))
}

// The longest requestNo: the envelope's `head.requestNo` limit, which plain mode's `requestNo`
// header shares.
use crate::wire::whalet::MAX_HEAD_FIELD as MAX_REQUEST_NO;

/// A plain-mode header that names something (the partner, the request): sent at most once
/// (`PARAM_FORMAT_ERROR` otherwise, rather than one of the values taken and the rest ignored).
fn plain_header<'a>(req: &'a SimRequest, name: &str) -> Result<Option<&'a str>, WhaletError> {
    req.single_header(name).map_err(|times| {
        WhaletError::format(format!("header {name} is sent {times} times; send it once"))
    })
}

/// Plain mode's `requestNo` header under the envelope's rules: when sent, 1 to
/// [`MAX_REQUEST_NO`] characters (`PARAM_FORMAT_ERROR` otherwise, as for `head.requestNo`).
/// `None` when the header is left out.
fn plain_request_no(req: &SimRequest) -> Result<Option<&str>, WhaletError> {
    let Some(request_no) = plain_header(req, "requestNo")? else {
        return Ok(None);
    };
    if request_no.is_empty() {
        return Err(WhaletError::format(format!(
            "header requestNo is empty; send 1 to {MAX_REQUEST_NO} characters, or leave the \
             header out to have one made up"
        )));
    }
    let length = request_no.chars().count();
    if length > MAX_REQUEST_NO {
        return Err(WhaletError::format(format!(
            "header requestNo is {length} characters long; at most {MAX_REQUEST_NO} are allowed"
        )));
    }
    Ok(Some(request_no))
}

/// Plain mode takes the business JSON as it is: a whole Whalet envelope sent to it (a client
/// still in envelope mode) would run as a business body without any of its fields (an empty
/// `balanceQuery`, every field of `paymentApply` "required"), so it is refused as what it is.
fn refuse_envelope(body: &Value) -> Result<(), WhaletError> {
    if !is_envelope(body) {
        return Ok(());
    }
    Err(WhaletError::parameter(
        "this is a Whalet envelope or part of one (a `head` naming partnerId, apiCode or \
         requestNo, or a `body` with `encrypt`; no platform operation has such fields); \
         [platform] auth = \"none\" takes the business JSON in plain: send the operation's \
         fields as the body, with the partnerId and requestNo headers",
    ))
}

/// Whether `body`'s top level looks like a Whalet request envelope, whole or in part: a `head`
/// object naming the partner, the apiCode or the requestNo, or a `body` object with `encrypt`.
/// No platform operation has a field `head` or `body`, so a near-envelope (`{"head": {"apiCode":
/// …}}` alone) is refused too rather than run as an empty business body.
fn is_envelope(body: &Value) -> bool {
    let Some(top) = body.as_object() else {
        return false;
    };
    let named = top.get("head").and_then(Value::as_object).is_some_and(|h| {
        ["partnerId", "apiCode", "requestNo"]
            .iter()
            .any(|k| h.contains_key(*k))
    });
    let sealed = top
        .get("body")
        .and_then(Value::as_object)
        .is_some_and(|b| b.contains_key("encrypt"));
    named || sealed
}

/// Envelope mode: a refused body that is a JSON object without `head` is most likely plain
/// mode's business JSON, so the refusal says which mode this simulator runs in.
fn plain_json_hint(bytes: &[u8], mut err: WhaletError) -> WhaletError {
    // An envelope that lost only its head (`{"body": {"encrypt": …}}`) is no plain JSON.
    let headless = serde_json::from_slice::<Value>(bytes).is_ok_and(|body| {
        body.as_object().is_some_and(|top| {
            !top.contains_key("head")
                && !top
                    .get("body")
                    .and_then(Value::as_object)
                    .is_some_and(|b| b.contains_key("encrypt"))
        })
    });
    if headless {
        err.detail
            .push_str(" (plain JSON? this simulator's [platform] auth is \"envelope\")");
    }
    err
}

/// HTTP status of a code answered as `{code, detail}` in plain-JSON mode: a scenario may force
/// any code, a successful one (`SUCCESS`, `PROCESSING`) included, which is HTTP 200 as every
/// plain success is. Exhaustive, so that a new code is given its status here rather than
/// falling into 500.
fn plain_status(code: Code) -> u16 {
    match code {
        Code::Success | Code::Processing => 200,
        Code::ParamFormatError | Code::ParameterError => 400,
        Code::UnauthenticatedError | Code::PartnerNotExist => 401,
        Code::Unauthorized | Code::InterfaceUnauthorized => 403,
        Code::IdempotentError | Code::RequestNoNotUnique => 409,
        Code::Failure => 422,
        Code::TooManyRequests => 429,
        Code::InternalError => 500,
    }
}

/// Every operation's fields and example (`crate::api::describe`): each handler run in describe
/// mode against a tenant that does not exist.
pub fn describe(core: &Core) -> Vec<crate::api::describe::Described> {
    crate::api::describe::operations(core, Provider::Whalet, OPERATIONS, |op| Session {
        partner_id: DEMO_PARTNER_ID.to_owned(),
        request_no: "describe".to_owned(),
        base_url: crate::api::base_url::FALLBACK.to_owned(),
        sent: String::new(),
        keys: None,
        handler: op.handler,
    })
}

#[cfg(test)]
mod tests {
    use super::plain_status;
    use crate::wire::whalet::Code;

    #[test]
    fn plain_mode_answers_a_successful_code_as_http_200_and_only_a_bug_as_500() {
        let wrong: Vec<String> = Code::ALL
            .into_iter()
            .filter_map(|code| {
                let status = plain_status(code);
                let successful = matches!(code, Code::Success | Code::Processing);
                let fits = match (successful, code) {
                    (true, _) => status == 200,
                    (false, Code::InternalError) => status == 500,
                    (false, _) => (400..500).contains(&status),
                };
                (!fits).then(|| format!("{code}: HTTP {status}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:?}");
    }
}
