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

use std::time::Instant;

use serde_json::{json, Value};

use crate::api::whalet::partners::DEMO_PARTNER_ID;
use crate::app::App;
use crate::clock::system_now;
use crate::config::platform::PlatformAuth;
use crate::control::triggers::TriggerDef;
use crate::http::{SimRequest, SimResponse};
use crate::journal::JournalEntry;
use crate::notify::NotifyBehaviour;
use crate::scenario::{Decision, OperationCtx};
use crate::store::{Provider, TenantId, TenantState};
use crate::wire::whalet::{self as envelope, Code, Echo, WhaletError, SUCCESS_DETAIL};

pub use binding::decide_binding;
pub use fields::{duration_ms, max_len, optional, param, required};

/// What an operation gets besides its body.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub tenant: &'a TenantId,
    pub partner_id: &'a str,
    pub request_no: &'a str,
    pub decision: &'a Decision,
    /// `http://host:port` as the partner reached the simulator (for links).
    pub base_url: String,
}

impl Ctx<'_> {
    pub fn now(&self) -> i64 {
        self.app.clock().now()
    }

    /// Runs `f` under this tenant's lock.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut TenantState) -> R) -> Result<R, WhaletError> {
        with_state(self.app, self.tenant, f)
    }
}

/// Runs `f` under `tenant`'s lock (INTERNAL_ERROR when the tenant vanished).
pub fn with_state<R>(
    app: &App,
    tenant: &TenantId,
    f: impl FnOnce(&mut TenantState) -> R,
) -> Result<R, WhaletError> {
    app.store()
        .with_tenant(tenant, f)
        .ok_or_else(|| WhaletError::new(Code::InternalError, "tenant state missing"))
}

/// Sends a platform notification (Whalet envelope, channel `whalet`) to the partner.
pub fn notify(
    app: &App,
    tenant: &TenantId,
    name: &str,
    payload: Value,
    business_id: String,
    behaviour: NotifyBehaviour,
) -> String {
    crate::api::whalet::notify(app, tenant, name, payload, Some(business_id), behaviour)
}

pub type Handler = fn(&Ctx<'_>, &Value) -> Result<Value, WhaletError>;

/// The operations, by the name in the path (and in `head.apiCode`).
const OPERATIONS: &[(&str, Handler)] = &[
    ("shopAccountBind", binding::shop_account_bind),
    ("shopAccountBindQuery", binding::shop_account_bind_query),
    ("paymentApply", payment::payment_apply),
    ("paymentQuery", payment::payment_query),
    ("balanceQuery", payment::balance_query),
    ("tradeMaterialsUpload", materials::trade_materials_upload),
];

/// The notifications this surface sends (canonical names, as `head.apiCode`).
pub const NOTIFICATIONS: &[&str] = &[
    "shopAccountBindNotify",
    "bulkPaymentsReceivedNotify",
    "paymentApplyNotify",
];

/// Triggers of this surface.
pub fn triggers() -> Vec<TriggerDef> {
    triggers::TRIGGERS.to_vec()
}

/// The display name of a partner on the authorization page.
pub fn partner_name(app: &App, partner_id: &str) -> String {
    match app.config().platform.partner_names.get(partner_id) {
        Some(name) => name.clone(),
        None if partner_id == DEMO_PARTNER_ID => "Demo Marketplace".to_owned(),
        None => format!("Partner {partner_id}"),
    }
}

/// Entry point for `POST /v1/platform/{operation}`.
pub async fn handle(app: &App, req: SimRequest, operation: &str) -> SimResponse {
    let started = Instant::now();
    let plain = app.config().platform.auth == PlatformAuth::None;
    let mut entry = JournalEntry {
        id: 0,
        surface: "platform",
        tenant: None,
        operation: operation.to_owned(),
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
    let mut echo = Echo {
        api_code: operation.to_owned(),
        ..Echo::default()
    };
    let outcome = process(app, &req, operation, plain, &mut echo, &mut entry).await;
    let response = match outcome {
        Ok(Answer::Drop) => {
            entry.code = "DROPPED".into();
            entry.detail = "connection dropped by scenario".into();
            SimResponse::Drop
        }
        Ok(Answer::Reply {
            body,
            http_status,
            keys,
        }) => {
            entry.code = Code::Success.to_string();
            entry.detail = SUCCESS_DETAIL.into();
            entry.reply = body.clone();
            if plain {
                SimResponse::json_value(http_status, &body)
            } else {
                let bytes = envelope::seal_reply(
                    &echo,
                    Code::Success.as_str(),
                    SUCCESS_DETAIL,
                    Some(&body),
                    keys.as_ref().map(|(k, p)| (k, p)),
                    app.hex_case(),
                );
                SimResponse::json(http_status, bytes)
            }
        }
        Err((mut err, http_status)) => {
            if err.code == Code::InternalError {
                tracing::error!(operation, error = %err.detail, "internal error");
                err =
                    WhaletError::new(Code::InternalError, "internal error; see the simulator log");
            }
            entry.code = err.code.to_string();
            entry.detail = err.detail.clone();
            entry.reply = json!({"code": err.code.as_str(), "detail": err.detail});
            if plain {
                let status = http_status.unwrap_or_else(|| plain_status(err.code));
                SimResponse::json_value(
                    status,
                    &json!({"code": err.code.as_str(), "detail": err.detail}),
                )
            } else {
                let bytes = envelope::seal_reply(
                    &echo,
                    err.code.as_str(),
                    &err.detail,
                    None,
                    None,
                    app.hex_case(),
                );
                SimResponse::json(http_status.unwrap_or(200), bytes)
            }
        }
    };
    entry.latency_us = started.elapsed().as_micros() as u64;
    entry.http_status = response.status();
    tracing::info!(
        partner = entry.tenant.as_deref().unwrap_or("-"),
        operation,
        code = %entry.code,
        latency_us = entry.latency_us,
        "platform request"
    );
    app.journal().record(entry);
    response
}

enum Answer {
    Reply {
        body: Value,
        http_status: u16,
        keys: Option<(crate::wire::keys::PrivateKey, crate::wire::keys::PublicKey)>,
    },
    Drop,
}

type Refusal = (WhaletError, Option<u16>);

fn refuse(err: WhaletError) -> Refusal {
    (err, None)
}

/// HTTP status of a refusal in plain-JSON mode.
fn plain_status(code: Code) -> u16 {
    match code {
        Code::ParamFormatError | Code::ParameterError => 400,
        Code::UnauthenticatedError | Code::PartnerNotExist => 401,
        Code::Unauthorized | Code::InterfaceUnauthorized => 403,
        Code::IdempotentError | Code::RequestNoNotUnique => 409,
        Code::Failure => 422,
        Code::TooManyRequests => 429,
        _ => 500,
    }
}

async fn process(
    app: &App,
    req: &SimRequest,
    operation: &str,
    plain: bool,
    echo: &mut Echo,
    entry: &mut JournalEntry,
) -> Result<Answer, Refusal> {
    let limit = app.config().whalet.body_limit_bytes;
    if req.too_large || req.body.len() > limit {
        entry.request = Value::String(format!("<{} bytes>", req.body.len()));
        return Err(refuse(WhaletError::format(format!(
            "the request body exceeds the limit of {limit} bytes"
        ))));
    }
    let raw_text = || String::from_utf8_lossy(&req.body[..req.body.len().min(2048)]).into_owned();
    let (partner, body, keys) = if plain {
        let partner_id = req
            .header("partnerId")
            .unwrap_or(DEMO_PARTNER_ID)
            .to_owned();
        echo.partner_id = partner_id.clone();
        echo.request_no = req.header("requestNo").unwrap_or("").to_owned();
        let body: Value = serde_json::from_slice(&req.body).map_err(|e| {
            entry.request = Value::String(raw_text());
            refuse(WhaletError::format(format!("the body is not JSON: {e}")))
        })?;
        let partner = app.partners().get(&partner_id).ok_or_else(|| {
            refuse(WhaletError::new(
                Code::PartnerNotExist,
                format!(
                    "no partner with partnerId {partner_id:?} is configured (header partnerId)"
                ),
            ))
        })?;
        (partner, body, None)
    } else {
        let sealed = envelope::parse_request(&req.body).map_err(|(e, err)| {
            entry.request = Value::String(raw_text());
            *echo = Echo {
                api_code: if e.api_code.is_empty() {
                    operation.to_owned()
                } else {
                    e.api_code.clone()
                },
                ..e
            };
            refuse(err)
        })?;
        *echo = sealed.echo.clone();
        entry.request_no = Some(echo.request_no.clone());
        let partner = app.partners().get(&echo.partner_id).ok_or_else(|| {
            refuse(WhaletError::new(
                Code::PartnerNotExist,
                format!(
                    "no partner with partnerId {:?} is configured",
                    echo.partner_id
                ),
            ))
        })?;
        if echo.api_code != operation {
            return Err(refuse(WhaletError::parameter(format!(
                "the path says operation {operation:?} but head.apiCode is {:?}; they must be the same",
                echo.api_code
            ))));
        }
        if !partner.admit() {
            return Err(refuse(WhaletError::new(
                Code::TooManyRequests,
                format!(
                    "more than {} requests per second from this partner",
                    partner.rate_limit.unwrap_or(0)
                ),
            )));
        }
        let opened = sealed
            .open(&partner.platform_key, &partner.public_key)
            .map_err(refuse)?;
        let keys = Some((partner.platform_key.clone(), partner.public_key.clone()));
        (partner, opened.body, keys)
    };
    entry.request = body.clone();
    let tenant = TenantId::new(Provider::Whalet, partner.id.clone());
    entry.tenant = Some(tenant.to_string());
    let Some((canonical, handler)) = OPERATIONS.iter().find(|(name, _)| *name == operation) else {
        let known: Vec<&str> = OPERATIONS.iter().map(|(n, _)| *n).collect();
        return Err((
            WhaletError::new(
                Code::InterfaceUnauthorized,
                format!(
                    "{operation:?} is not an operation of whalet-platform; known: {}",
                    known.join(", ")
                ),
            ),
            plain.then_some(404),
        ));
    };
    if !partner.is_enabled(canonical) {
        return Err(refuse(WhaletError::new(
            Code::InterfaceUnauthorized,
            format!(
                "operation {canonical:?} is not enabled for partner {}",
                partner.id
            ),
        )));
    }
    if !body.is_object() {
        return Err(refuse(WhaletError::format(format!(
            "the business body must be a JSON object, got {}",
            envelope::json_type(&body)
        ))));
    }
    if plain && echo.request_no.is_empty() {
        echo.request_no = format!("P{}", app.clock().now());
    } else {
        let fresh = app
            .store()
            .with_tenant(&tenant, |t| {
                t.request_nos.insert(
                    echo.request_no.clone(),
                    app.config().whalet.request_no_memory,
                )
            })
            .unwrap_or(false);
        if !fresh {
            return Err(refuse(WhaletError::new(
                Code::RequestNoNotUnique,
                format!(
                    "requestNo {:?} was already used by partner {}; every request needs a new one",
                    echo.request_no, partner.id
                ),
            )));
        }
    }
    entry.request_no = Some(echo.request_no.clone());
    let decision = app.scenarios().decide(OperationCtx {
        surface: "platform",
        tenant: &tenant,
        operation: canonical,
        fields: &body,
    });
    entry.rule = decision.rule.clone();
    if decision.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(decision.latency_ms)).await;
    }
    let sync_status = decision.sync.as_ref().and_then(|s| s.http_status);
    if let Some(sync) = &decision.sync {
        if sync.drop_connection {
            return Ok(Answer::Drop);
        }
        if let Some(code) = sync.code.as_deref() {
            let code = Code::parse(code).unwrap_or(Code::Failure);
            let detail = sync
                .detail
                .clone()
                .unwrap_or_else(|| format!("{code} (scenario rule)"));
            return Err((WhaletError::new(code, detail), sync_status));
        }
    }
    let host = req.header("host").unwrap_or("127.0.0.1:8080");
    let base_url = app
        .config()
        .platform
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{host}"));
    let ctx = Ctx {
        app,
        tenant: &tenant,
        partner_id: &partner.id,
        request_no: &echo.request_no,
        decision: &decision,
        base_url: base_url.trim_end_matches('/').to_owned(),
    };
    let body = handler(&ctx, &body).map_err(refuse)?;
    Ok(Answer::Reply {
        body,
        http_status: sync_status.unwrap_or(200),
        keys,
    })
}
