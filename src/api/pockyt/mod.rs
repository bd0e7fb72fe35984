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

use std::time::Instant;

use serde_json::{Map, Value};

use crate::app::App;
use crate::clock::system_now;
use crate::control::triggers::TriggerDef;
use crate::http::{SimRequest, SimResponse};
use crate::journal::JournalEntry;
use crate::money::Currency;
use crate::scenario::{Decision, OperationCtx};
use crate::store::{Provider, Store, TenantId, TenantState};
use crate::wire::pockyt::{self as wire, PockytError, RetCode};
use fields::Fields;
pub use merchants::{Merchant, Merchants};

/// A successful answer: `ret_msg` and the payload keys (`customer`, `result`, `accounts`, ...).
pub struct Reply {
    pub msg: String,
    pub payload: Map<String, Value>,
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

/// What an operation gets besides its fields.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub merchant: &'a Merchant,
    pub tenant: &'a TenantId,
    pub path: &'a str,
    pub decision: &'a Decision,
}

impl Ctx<'_> {
    pub fn now(&self) -> i64 {
        self.app.clock().now()
    }

    /// Runs `f` under this merchant's lock.
    pub fn with_state<R>(
        &self,
        f: impl FnOnce(&mut TenantState) -> Result<R, PockytError>,
    ) -> Result<R, PockytError> {
        self.app
            .store()
            .with_tenant(self.tenant, f)
            .unwrap_or_else(|| Err(PockytError::internal("tenant state missing")))
    }
}

pub type Handler = fn(&Ctx<'_>, &Fields) -> Result<Reply, PockytError>;

/// One operation: its path (also its name for scenarios and the journal) and handler.
pub struct Operation {
    pub path: &'static str,
    /// `timestamp` is mandatory (all v3 operations); the legacy v2 ones only validate it.
    pub timestamp_required: bool,
    pub handler: Handler,
}

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
    op("/v3/payee/account/create/bank-account", accounts::create),
    op("/v3/payee/account/create/paypal", accounts::create),
    op("/v3/payee/account/create/venmo", accounts::create),
    op("/v3/payee/payout-accounts", accounts::list),
    op("/v3/payee/account/delete", accounts::delete),
    op("/v3/payouts/pay", payouts::pay),
    op("/v3/payouts/inquiry", payouts::inquiry),
    op("/v3/payouts/balance", balance::balance),
    Operation {
        path: "/v2/customers/account/create",
        timestamp_required: false,
        handler: accounts::create,
    },
    Operation {
        path: "/v2/customers/account/retrieve",
        timestamp_required: false,
        handler: accounts::retrieve_v2,
    },
];

const fn op(path: &'static str, handler: Handler) -> Operation {
    Operation {
        path,
        timestamp_required: true,
        handler,
    }
}

/// Triggers of this surface.
pub fn triggers() -> Vec<TriggerDef> {
    balance::TRIGGERS
        .iter()
        .chain(payees::TRIGGERS)
        .chain(accounts::TRIGGERS)
        .chain(settle::TRIGGERS)
        .cloned()
        .collect()
}

/// Creates every merchant's tenant and credits its starting balances.
pub fn ensure_tenants(store: &Store, merchants: &Merchants, now: i64) {
    for m in merchants.iter() {
        let id = TenantId::new(Provider::Pockyt, m.merchant_no.clone());
        store.ensure_tenant(&id);
        store.with_tenant(&id, |t| seed(t, m, now));
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
pub async fn handle(app: &App, req: SimRequest) -> SimResponse {
    let started = Instant::now();
    let mut entry = JournalEntry {
        id: 0,
        surface: "pockyt",
        tenant: None,
        operation: req.path.clone(),
        request_no: None,
        virtual_time: app.clock().now(),
        wall_time: system_now(),
        http_status: 0,
        code: String::new(),
        detail: String::new(),
        request: Value::Null,
        reply: Value::Null,
        rule: None,
        latency_us: 0,
    };
    let (status, body) = match process(app, &req, &mut entry).await {
        Ok(Some((status, body))) => (status, body),
        Ok(None) => {
            entry.code = "DROPPED".into();
            entry.detail = "connection dropped by scenario".into();
            entry.latency_us = started.elapsed().as_micros() as u64;
            app.journal().record(entry);
            return SimResponse::Drop;
        }
        Err((status, err)) => {
            if err.code == RetCode::SystemError {
                tracing::error!(path = %req.path, error = %err.msg, "internal error");
            }
            let msg = if err.code == RetCode::SystemError {
                "system error; see the simulator log".to_owned()
            } else {
                err.msg
            };
            (status, wire::reply(err.code, &msg, Map::new()))
        }
    };
    entry.code = body["ret_code"].as_str().unwrap_or_default().to_owned();
    entry.detail = body["ret_msg"].as_str().unwrap_or_default().to_owned();
    let response = SimResponse::json_value(status, &body);
    entry.reply = body;
    entry.http_status = status;
    entry.latency_us = started.elapsed().as_micros() as u64;
    tracing::info!(
        merchant = entry.tenant.as_deref().unwrap_or("-"),
        path = %entry.operation,
        code = %entry.code,
        latency_us = entry.latency_us,
        "pockyt request"
    );
    app.journal().record(entry);
    response
}

type Refusal = (u16, PockytError);

/// Ok(None) = drop the connection.
async fn process(
    app: &App,
    req: &SimRequest,
    entry: &mut JournalEntry,
) -> Result<Option<(u16, Value)>, Refusal> {
    let Some(operation) = OPERATIONS.iter().find(|o| o.path == req.path) else {
        let known: Vec<&str> = OPERATIONS.iter().map(|o| o.path).collect();
        return Err((
            404,
            PockytError::no_info(format!(
                "no Pockyt operation at POST {}; known: {}",
                req.path,
                known.join(", ")
            )),
        ));
    };
    let limit = app.config().pockyt.body_limit_bytes;
    if req.too_large || req.body.len() > limit {
        entry.request = Value::String(format!("<{} bytes>", req.body.len()));
        return Err((
            200,
            PockytError::value(format!(
                "the request body exceeds the limit of {limit} bytes"
            )),
        ));
    }
    let form = req
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let parsed = if form {
        form_fields(&req.body)
    } else {
        json_fields(&req.body)
    };
    let fields = match parsed {
        Ok(fields) => fields,
        Err(e) => {
            entry.request = Value::String(
                String::from_utf8_lossy(&req.body[..req.body.len().min(2048)]).into_owned(),
            );
            return Err((200, e));
        }
    };
    entry.request = Value::Object(fields.clone());
    entry.request_no = fields::optional(&fields, "invoiceId").ok().flatten();
    let refuse = |e: PockytError| (200, e);
    let merchant_no = fields::required(&fields, "merchantNo").map_err(refuse)?;
    let merchants = app.pockyt();
    let Some(merchant) = merchants.get(&merchant_no) else {
        return Err(refuse(PockytError::denied(format!(
            "no merchant with merchantNo {merchant_no:?} is configured"
        ))));
    };
    let tenant = TenantId::new(Provider::Pockyt, merchant.merchant_no.clone());
    entry.tenant = Some(tenant.to_string());
    let store_no = fields::required(&fields, "storeNo").map_err(refuse)?;
    if store_no != merchant.store_no {
        return Err(refuse(PockytError::denied(format!(
            "storeNo {store_no:?} is not a store of merchantNo {merchant_no}"
        ))));
    }
    let verify_sign = match fields.get("verifySign") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return Err(refuse(PockytError::null("verifySign is required")))
        }
        Some(_) => return Err(refuse(PockytError::value("verifySign must be a string"))),
    };
    wire::verify(&wire::params_of(&fields), &merchant.token, &verify_sign).map_err(refuse)?;
    fields::timestamp(&fields, operation.timestamp_required).map_err(refuse)?;
    let now = app.clock().now();
    app.store().ensure_tenant(&tenant);
    app.store().with_tenant(&tenant, |t| seed(t, merchant, now));
    // The journal's copy of the fields is the one the scenario rules match on.
    let decision = app.scenarios().decide(OperationCtx {
        surface: "pockyt",
        tenant: &tenant,
        operation: operation.path,
        fields: &entry.request,
    });
    entry.rule = decision.rule.clone();
    if decision.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(decision.latency_ms)).await;
    }
    let http_status = decision
        .sync
        .as_ref()
        .and_then(|s| s.http_status)
        .unwrap_or(200);
    if let Some(sync) = &decision.sync {
        if sync.drop_connection {
            return Ok(None);
        }
        if let Some(code) = sync.code.as_deref() {
            let msg = sync
                .detail
                .clone()
                .unwrap_or_else(|| format!("{code} (scenario rule)"));
            let body = Value::Object(
                [
                    // An unscoped rule's code that is no ret_code: the generic system error.
                    (
                        "ret_code".to_owned(),
                        Value::String(
                            RetCode::parse(code)
                                .unwrap_or(RetCode::SystemError)
                                .as_str()
                                .to_owned(),
                        ),
                    ),
                    ("ret_msg".to_owned(), Value::String(msg)),
                ]
                .into_iter()
                .collect(),
            );
            return Ok(Some((http_status, body)));
        }
    }
    let ctx = Ctx {
        app,
        merchant,
        tenant: &tenant,
        path: operation.path,
        decision: &decision,
    };
    let reply = (operation.handler)(&ctx, &fields).map_err(|e| (http_status, e))?;
    Ok(Some((
        http_status,
        wire::reply(RetCode::Success, &reply.msg, reply.payload),
    )))
}

/// A JSON object body.
fn json_fields(body: &[u8]) -> Result<Fields, PockytError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(PockytError::value(
            "the body must be a JSON object (Content-Type: application/json)",
        )),
        Err(e) => Err(PockytError::value(format!(
            "the body is not JSON (Pockyt requests are application/json): {e}"
        ))),
    }
}

/// A form body (`application/x-www-form-urlencoded`): every value a string, signed decoded.
fn form_fields(body: &[u8]) -> Result<Fields, PockytError> {
    let text =
        std::str::from_utf8(body).map_err(|_| PockytError::value("the form body is not UTF-8"))?;
    Ok(crate::http::query_pairs(text.trim())
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}

/// The merchant a trigger names (`merchantNo`, default the demo merchant).
pub fn trigger_merchant<'a>(
    app: &'a App,
    params: &Map<String, Value>,
) -> Result<(&'a Merchant, TenantId), String> {
    let no = crate::control::triggers::opt_param(params, "merchantNo")
        .unwrap_or(crate::config::pockyt::DEMO_MERCHANT_NO);
    let merchant = app
        .pockyt()
        .get(no)
        .ok_or_else(|| format!("no Pockyt merchant {no:?}"))?;
    let tenant = TenantId::new(Provider::Pockyt, merchant.merchant_no.clone());
    app.store().ensure_tenant(&tenant);
    let now = app.clock().now();
    app.store().with_tenant(&tenant, |t| seed(t, merchant, now));
    Ok((merchant, tenant))
}
