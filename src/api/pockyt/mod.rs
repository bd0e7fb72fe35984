//! The Pockyt v3 payouts surface: `POST /v3/...` and the legacy `POST /v2/customers/account/...`.
//! This module is the pipeline every operation shares: read the JSON body, find the merchant,
//! check `storeNo`, `verifySign` and `timestamp`, ask the scenario engine, run the operation,
//! write the `ret_code` / `ret_msg` reply, journal it. Operations live one family per file and
//! are listed in [`OPERATIONS`], the one dispatch table by path.

mod accounts;
mod balance;
pub mod fields;
pub mod merchants;
mod payees;
mod payouts;
mod settle;
pub mod transport;

/// Where a payout's postings put its money (read by the snapshot checks, src/persist/pockyt.rs).
pub(crate) use settle::{legs_of as payout_legs, memo as payout_memo, PAID_OUT};
pub(crate) use {accounts::ACCOUNT_REVIEW, payees::PAYEE_REVIEW, settle::PAYOUT_STEP};

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::api::pipeline::{self, op, Answer, Handler as _, Opened, Refusal, Scheme, Trace};
use crate::core::{Core, Trigger};
use crate::http::{SimRequest, SimResponse};
use crate::money::Currency;
use crate::store::{Store, TenantState};
use crate::tenant::{Provider, TenantId};
use crate::wire::pockyt::{self as wire, PockytError, RetCode};
use fields::Fields;
pub use merchants::{Merchant, Merchants};

/// A successful answer: `ret_msg` and the payload keys (`customer`, `result`, `accounts`, ...).
pub struct Reply {
    pub msg: String,
    pub payload: Map<String, Value>,
}

/// What a contract overlay rewrites: the payload keys (crate::contract).
impl pipeline::ReplyBody for Reply {
    fn with_body(&mut self, f: &mut dyn FnMut(&mut Value)) {
        let mut body = Value::Object(std::mem::take(&mut self.payload));
        f(&mut body);
        if let Value::Object(map) = body {
            self.payload = map;
        }
    }
}

impl Reply {
    pub fn new(msg: &str) -> Self {
        Self {
            msg: msg.to_owned(),
            payload: Map::new(),
        }
    }
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.payload.insert(key.to_owned(), value);
        self
    }
}

/// What a Pockyt operation has besides its fields.
pub struct Session {
    pub merchant: Arc<Merchant>,
    /// The operation's path (one handler serves several paths).
    pub path: &'static str,
    operation: &'static Operation,
}

/// What an operation gets (the pipeline's context with this surface's [`Session`]).
pub type Ctx<'a> = pipeline::Ctx<'a, Session>;

pipeline::coded_error! {
    /// The pipeline's refusals in Pockyt's `ret_code`s.
    impl CodedError for PockytError { code: RetCode, msg } {
        const INTERNAL: RetCode = RetCode::SystemError;
        const TOO_LARGE: RetCode = RetCode::ParameterValueError;
        /// An unscoped rule's code that is no ret_code: the generic system error.
        const FORCED_FALLBACK: RetCode = RetCode::SystemError;
        const INTERNAL_MESSAGE: &'static str = "system error; see the simulator log";
        /// Pockyt's message names the rule's code as written, even when it is no ret_code.
        const FORCED_NAMED_AS_WRITTEN: bool = true;

        /// A refusal of the state, with the `ret_code` Pockyt gives it: an unknown payee, account
        /// or payout is `NO_RELATED_INFORMATION`; one owned by another or an id reused with other
        /// content `PARAMETERS_DO_NOT_MATCH`; a payee or account in the wrong state, like missing
        /// money, `BALANCE_NOT_SUFFICIENT` (Pockyt's refusal of a payout); a balance it would take
        /// past the largest amount a value error; a broken posting a system error.
        fn state_code(r: &crate::store::Refusal) -> RetCode {
            use crate::store::{LedgerError, Refusal as R};
            match r {
                R::NotFound { .. } | R::Unknown { .. } => RetCode::NoRelatedInformation,
                R::NotOwned { .. } | R::Conflict(_) => RetCode::ParametersDoNotMatch,
                R::WrongState(_) | R::Funds(LedgerError::Insufficient { .. }) => {
                    RetCode::BalanceNotSufficient
                }
                R::Funds(LedgerError::BalanceTooLarge { .. }) => RetCode::ParameterValueError,
                R::Funds(_) => RetCode::SystemError,
            }
        }

        fn duplicate(request_no: String, _tenant: TenantId) -> Self {
            PockytError::value(format!("{request_no:?} was already used"))
        }
    }
}

pub type Handler = fn(&Ctx<'_>, &Fields) -> Result<Reply, PockytError>;

/// One operation: its path (also its name for scenarios and the journal) and handler.
pub type Operation = pipeline::Operation<Handler>;

/// The dispatch table. Adding an operation = one handler + one line here.
pub const OPERATIONS: &[Operation] = &[
    op("/v3/payee/register", payees::register),
    op("/v3/payee/retrieve", payees::retrieve),
    op("/v3/payee/update", payees::update),
    op(
        "/v3/customers/account/create/bank-account",
        accounts::create,
    ),
    op("/v3/customers/account/create/paypal", accounts::create),
    op("/v3/customers/account/create/venmo", accounts::create),
    op("/v3/payee/payout-accounts", accounts::list),
    op("/v3/payee/account/delete", accounts::delete),
    op("/v3/payouts/pay", payouts::pay),
    op("/v3/payouts/inquiry", payouts::inquiry),
    op("/v3/payouts/balance", balance::balance),
    op("/v2/customers/account/create", accounts::create),
    op("/v2/customers/account/retrieve", accounts::retrieve_v2),
];

/// Paths that serve an operation of [`OPERATIONS`] under another name (Pockyt's current docs
/// create accounts under `/v3/payee/account/...`): the same operation, so scenario rules, the
/// journal and the coverage report name it by its table path, whichever path was called.
/// `api::catalog` lists them as the operation's `aliases` (`GET /__sim/operations`, `call
/// --example`) and as wire names a scenario rule is pointed away from, to the table path.
pub const ALIASES: &[(&str, &str)] = &[
    (
        "/v3/payee/account/create/bank-account",
        "/v3/customers/account/create/bank-account",
    ),
    (
        "/v3/payee/account/create/paypal",
        "/v3/customers/account/create/paypal",
    ),
    (
        "/v3/payee/account/create/venmo",
        "/v3/customers/account/create/venmo",
    ),
];

/// `timestamp` is mandatory on every v3 operation; the legacy v2 ones only validate it.
fn timestamp_required(path: &str) -> bool {
    path.starts_with("/v3/")
}

impl Core {
    /// The configured Pockyt merchants.
    pub fn pockyt(&self) -> &Merchants {
        self.surface::<Merchants>()
    }
}

/// Triggers of this surface.
pub fn triggers() -> Vec<Trigger> {
    balance::TRIGGERS
        .iter()
        .chain(payees::TRIGGERS)
        .chain(accounts::TRIGGERS)
        .chain(settle::TRIGGERS)
        .cloned()
        .collect()
}

/// Creates every merchant's tenant (or `only` that one) and credits its starting balances if
/// its state has not had them yet: at start, and at once after a reset of all state or of a
/// merchant's, so that `/__sim/state` and a snapshot show them before anything else touches the
/// merchant.
pub fn ensure_tenants(store: &Store, merchants: &Merchants, now: i64, only: Option<&TenantId>) {
    for m in merchants.iter() {
        let id = TenantId::new(Provider::Pockyt, m.merchant_no.clone());
        if only.is_none_or(|o| o == &id) {
            store.ensure_tenant(&id);
            store.with_tenant(&id, |t| seed(t, m, now));
        }
    }
}

/// Credits the starting balances once (again after a reset): `external:funding` → available.
pub fn seed(t: &mut TenantState, merchant: &Merchant, now: i64) {
    if t.pockyt.seeded {
        return;
    }
    for money in &merchant.balances {
        let account = available(money.currency);
        if let Err(e) = t.ledger.transfer(
            now,
            "pockyt starting balance",
            "external:funding",
            &account,
            *money,
        ) {
            tracing::error!(error = %e, "cannot credit the Pockyt starting balance");
        }
    }
    t.pockyt.seeded = true;
}

pub fn available(c: Currency) -> String {
    format!("merchant:{}:available", c.code())
}
pub fn in_flight(c: Currency) -> String {
    format!("merchant:{}:in_flight", c.code())
}
pub fn fees(c: Currency) -> String {
    format!("fees:{}", c.code())
}

/// Entry point for `POST /v3/...` and `POST /v2/customers/account/...`.
pub async fn handle(core: &Core, req: SimRequest) -> SimResponse {
    let path = req.path.clone();
    pipeline::handle(&PayoutsApi, core, req, &path).await
}

/// The operation at `path`, an alias's included.
fn operation(path: &str) -> Option<&'static Operation> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == path)
        .map_or(path, |(_, canonical)| canonical);
    OPERATIONS.iter().find(|o| o.name == name)
}

/// Pockyt's scheme: JSON or form fields signed with an MD5 `verifySign`, the path table.
pub struct PayoutsApi;

impl Scheme for PayoutsApi {
    const SURFACE: &'static str = "pockyt";
    const BODY_REQUEST_NO: Option<&'static str> = Some("invoiceId");
    /// The `verifySign` reading that matched, when it is not the documented one (journaled).
    type Echo = Option<wire::Reading>;
    type Session = Session;
    type Error = PockytError;
    type Reply = Reply;

    fn body_limit(&self, core: &Core) -> usize {
        core.config().pockyt.body_limit_bytes
    }

    /// An MD5 `verifySign`, no private-key work: a Pockyt request does not wait in the CPU gate
    /// behind other surfaces' RSA work.
    fn does_rsa_work(&self) -> bool {
        false
    }

    /// A payout whose `invoiceId` is already taken answers (or refuses) by that payout.
    fn replays(&self, core: &Core, opened: &Opened<Session>) -> bool {
        opened.operation == "/v3/payouts/pay"
            && opened
                .body
                .get("invoiceId")
                .and_then(Value::as_str)
                .is_some_and(|invoice| {
                    core.with_tenant(&opened.tenant, |t| t.pockyt.invoices.contains_key(invoice))
                        .unwrap_or(false)
                })
    }

    /// The path is checked before the body's size (docs/FIDELITY.md, order of checks): an
    /// unknown path is 404 `000021` whatever the body.
    fn refuses_route_first(&self, path: &str) -> bool {
        operation(path).is_none()
    }

    async fn open(
        &self,
        core: &Core,
        req: &SimRequest,
        path: &str,
        lenient: &mut Option<wire::Reading>,
        trace: &mut Trace,
    ) -> Result<Opened<Session>, Refusal<PockytError>> {
        let Some(operation) = operation(path) else {
            let known: Vec<&str> = OPERATIONS
                .iter()
                .map(|o| o.name)
                .chain(ALIASES.iter().map(|(alias, _)| *alias))
                .collect();
            let err = PockytError::no_info(format!(
                "no Pockyt operation at POST {}; {}; known: {}",
                crate::text::bound(path, 128),
                crate::api::catalog::unknown(core, "pockyt", path),
                known.join(", ")
            ));
            return Err(Refusal::with_status(err, 404));
        };
        // An alias is journaled and counted under the operation's table path.
        operation.name.clone_into(&mut trace.operation);
        let content_type = req.header("content-type");
        let form = content_type.is_some_and(is_form);
        no_byte_order_mark(&req.body, form)?;
        let mut fields = if form {
            form_fields(&req.body, content_type.unwrap_or_default())
        } else {
            json_fields(&req.body)
        }?;
        // Each value as the client wrote and signed it (what `numbers_as_sent` gives the
        // operation once the signature is checked; the journal's request number already).
        let params = if form {
            wire::params_of(&fields)
        } else {
            wire::params_of_json(&fields, &req.body)
        };
        trace.request = Some(Value::Object(fields.clone()));
        trace.request_no = fields::optional(&fields, "invoiceId")
            .ok()
            .flatten()
            .map(
                |id| match (fields.get("invoiceId"), params.get("invoiceId")) {
                    (Some(Value::Number(_)), Some(Some(sent))) => sent.clone(),
                    _ => id,
                },
            );
        let merchant_no = fields::required(&fields, "merchantNo")?;
        let Some(merchant) = core.pockyt().get(&merchant_no) else {
            return Err(PockytError::denied(format!(
                "no merchant with merchantNo {merchant_no:?} is configured"
            ))
            .into());
        };
        let tenant = TenantId::new(Provider::Pockyt, merchant.merchant_no.clone());
        trace.tenant = Some(tenant.clone());
        let store_no = fields::required(&fields, "storeNo")?;
        if store_no != merchant.store_no {
            return Err(PockytError::denied(format!(
                "storeNo {store_no:?} is not a store of merchantNo {merchant_no}"
            ))
            .into());
        }
        let verify_sign = match fields.get("verifySign") {
            Some(Value::String(s)) if !s.is_empty() => s,
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(PockytError::null("verifySign is required").into())
            }
            Some(_) => return Err(PockytError::value("verifySign must be a string").into()),
        };
        let reading = wire::verify(
            &params,
            &merchant.token,
            verify_sign,
            &core.config().pockyt.lenient_sign_readings,
        )?;
        trace.authenticated = true;
        *lenient = (reading != wire::Reading::KeepEmpty).then_some(reading);
        numbers_as_sent(&mut fields, &params);
        fields::timestamp(&fields, timestamp_required(operation.name))?;
        let now = core.clock().now();
        core.store().ensure_tenant(&tenant);
        core.with_tenant(&tenant, |t| seed(t, &merchant, now))
            .map_err(PockytError::from)?;
        Ok(Opened {
            tenant,
            operation: operation.name,
            body: Value::Object(fields),
            request_no: None,
            session: Session {
                merchant,
                path: operation.name,
                operation,
            },
        })
    }

    fn run(&self, ctx: &Ctx<'_>, body: &Value) -> Result<Reply, PockytError> {
        ctx.operation.handler.call(ctx, body)
    }

    fn seal_reply(
        &self,
        _core: &Core,
        lenient: &Option<wire::Reading>,
        _opened: &Opened<Session>,
        reply: Reply,
        status: u16,
    ) -> Result<Answer, PockytError> {
        Ok(flagged(
            answer(
                status,
                wire::reply(RetCode::Success, &reply.msg, reply.payload),
            ),
            *lenient,
        ))
    }

    fn seal_refusal(
        &self,
        _core: &Core,
        lenient: &Option<wire::Reading>,
        err: PockytError,
        status: Option<u16>,
    ) -> Answer {
        flagged(
            answer(
                status.unwrap_or(200),
                wire::reply(err.code, &err.msg, Map::new()),
            ),
            *lenient,
        )
    }
}

/// Flags in the journal's detail a request whose `verifySign` only matched an opt-in reading.
fn flagged(mut answer: Answer, lenient: Option<wire::Reading>) -> Answer {
    if let Some(reading) = lenient {
        answer.detail = format!(
            "{} [verifySign accepted by the opt-in reading {} ({}); the provider documents \
             empty and null values signed as 'name=']",
            answer.detail,
            reading.as_str(),
            reading.describe()
        );
    }
    answer
}

fn answer(status: u16, body: Value) -> Answer {
    Answer {
        response: SimResponse::json_value(status, &body),
        code: body["ret_code"].as_str().unwrap_or_default().to_owned(),
        detail: body["ret_msg"].as_str().unwrap_or_default().to_owned(),
        reply: body,
    }
}

/// Refuses a body, JSON or form, that starts with a UTF-8 byte order mark (Windows and .NET
/// writers add one), naming the mark: JSON sent over the network has none (RFC 8259, 8.1), and
/// a form's would become part of its first parameter's name (`\u{feff}merchantNo`), which the
/// partner would be told is missing, or signed where it cannot see it.
fn no_byte_order_mark(body: &[u8], form: bool) -> Result<(), PockytError> {
    if !body.starts_with(crate::wire::BYTE_ORDER_MARK.as_bytes()) {
        return Ok(());
    }
    let mark = crate::wire::byte_order_mark();
    Err(PockytError::value(if form {
        format!(
            "the body is not a form Pockyt reads (application/x-www-form-urlencoded): {mark}, \
             which would become part of the first parameter's name; send the form without it"
        )
    } else {
        format!(
            "the body is not JSON (Pockyt requests are application/json): {mark}, which JSON \
             sent over the network must not have; send the JSON without it"
        )
    }))
}

/// A JSON object body. A body that is not UTF-8 (a GBK client) is told so, as the Whalet
/// surface tells a decrypted body, not by the parser's "invalid unicode code point". A number
/// beyond the range of a double (`1e400`) is read as its text ([`crate::wire::json_value`]),
/// as every number is once the signature is checked ([`numbers_as_sent`]).
fn json_fields(body: &[u8]) -> Result<Fields, PockytError> {
    let text = std::str::from_utf8(body).map_err(|utf8| {
        PockytError::value(format!(
            "the body is not UTF-8 (Pockyt requests are UTF-8 JSON): {utf8}"
        ))
    })?;
    match crate::wire::json_value(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(PockytError::value(
            "the body must be a JSON object (Content-Type: application/json)",
        )),
        Err(e) => Err(PockytError::value(format!(
            "the body is not JSON (Pockyt requests are application/json): {}",
            crate::wire::not_json(body, &e)
        ))),
    }
}

/// Gives the operation each number of the body as the characters the client sent (the text it
/// signed, from `params`), not as serde_json's `f64`: every field is read as text, and
/// `1.0000000000000001` or `1e2` must be read as written, as the same string would be, never
/// rounded to `1.0` or rewritten to `100.0` (docs/FIDELITY.md, non-string values).
fn numbers_as_sent(fields: &mut Fields, params: &wire::Params) {
    for (name, value) in fields.iter_mut().filter(|(_, v)| v.is_number()) {
        if let Some(Some(text)) = params.get(name) {
            *value = Value::String(text.clone());
        }
    }
}

/// Whether a `Content-Type` names a form: its media type, compared without regard to case
/// (RFC 9110 §8.3.1), parameters such as `; charset=utf-8` aside.
fn is_form(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default();
    media_type
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// A form body (`application/x-www-form-urlencoded`): every value a string, signed decoded. A
/// body that looks like JSON is refused, naming the `Content-Type` that made it read as a form
/// (curl's `-d` sends that type unless told otherwise); so is a name or value that is not UTF-8
/// once decoded, naming it and its bytes (a GBK client), never signed as U+FFFD.
fn form_fields(body: &[u8], content_type: &str) -> Result<Fields, PockytError> {
    let body = body.trim_ascii();
    if body.starts_with(b"{") || body.starts_with(b"[") {
        return Err(PockytError::value(format!(
            "the body was read as a form because its Content-Type is {}, but it looks like \
             JSON: send it with Content-Type: application/json",
            crate::text::echo(content_type)
        )));
    }
    match crate::http::form_pairs(body) {
        Ok(pairs) => Ok(pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()),
        Err(e) => Err(PockytError::value(format!(
            "{e}: Pockyt reads form values as UTF-8{}; send the UTF-8 bytes of the text, \
             percent-encoded",
            declared_charset(content_type)
                .map(|c| format!(
                    " whatever the Content-Type's charset ({})",
                    crate::text::echo(c)
                ))
                .unwrap_or_default()
        ))),
    }
}

/// The `charset` parameter of a `Content-Type`, unless it is UTF-8 (named in a refusal of a
/// body that is not UTF-8).
fn declared_charset(content_type: &str) -> Option<&str> {
    content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|c| !c.eq_ignore_ascii_case("utf-8") && !c.eq_ignore_ascii_case("utf8"))
}

/// The merchant a trigger acts on, by the rule every surface's triggers share
/// ([`crate::trigger::acting_tenant`]): the one `merchantNo` names, else the demo merchant when
/// configured, else the only merchant. It changes nothing: the starting balances were credited
/// at start and by every reset ([`ensure_tenants`]), and a trigger refused afterwards (its
/// parameters checked after this) must leave the state as it was.
pub fn trigger_merchant(
    core: &Core,
    params: &Map<String, Value>,
) -> Result<(Arc<Merchant>, TenantId), String> {
    let tenant = crate::trigger::acting_tenant(
        Provider::Pockyt,
        params,
        (core.config().pockyt.demo_merchant).then_some(crate::config::pockyt::DEMO_MERCHANT_NO),
        &core.pockyt().ids(),
    )?;
    let merchant = core
        .pockyt()
        .get(&tenant.id)
        .ok_or_else(|| format!("no Pockyt merchant {:?}", tenant.id))?;
    Ok((merchant, tenant))
}

/// Every operation's fields and example (`crate::api::describe`): each handler run in describe
/// mode as the first configured merchant, against a tenant that does not exist. Empty when no
/// merchant is configured.
pub fn describe(core: &Core) -> Vec<crate::api::describe::Described> {
    let Some(merchant) = core.pockyt().first() else {
        return Vec::new();
    };
    crate::api::describe::operations(core, Provider::Pockyt, OPERATIONS, |operation| Session {
        merchant: merchant.clone(),
        path: operation.name,
        operation,
    })
}

#[cfg(test)]
mod tests {
    use crate::scenario::pockyt::{ACCOUNT, PAYEE, PAYOUT};

    /// The scenario status tables name operations this surface serves (a renamed or removed
    /// operation would leave its words unchecked at load).
    #[test]
    fn every_operation_a_status_table_names_is_one_the_surface_serves() {
        for op in PAYEE
            .operations
            .iter()
            .chain(ACCOUNT.operations)
            .chain(PAYOUT.operations)
        {
            assert!(
                super::OPERATIONS.iter().any(|o| o.name == *op),
                "{op} is not in OPERATIONS"
            );
        }
    }
}
