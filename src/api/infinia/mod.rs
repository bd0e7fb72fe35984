//! The Infinia Pay e-commerce API: `POST /api/v1/{operation path}`. This module is the pipeline
//! every operation shares: body limit, envelope shape, app lookup, operation lookup, signature
//! and decryption, scenario, the operation, the sealed reply, the journal. Operations live one
//! per file and are listed in [`OPERATIONS`]; the SFTP half lives in `crate::sftp`.

pub mod apps;
mod balance;
pub mod binding;
mod binding_query;
mod fields;
mod revenue;
pub mod sellers;
pub mod sharing;
mod sharing_query;
mod trade_details;
mod triggers;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use crate::app::App;
use crate::clock::system_now;
use crate::http::{SimRequest, SimResponse};
use crate::journal::JournalEntry;
use crate::scenario::{Decision, OperationCtx};
use crate::store::infinia::{FUNDING_ACCOUNT, PLATFORM_ACCOUNT};
use crate::store::{Provider, TenantId, TenantState};
use crate::wire::infinia::{self as envelope, Code, InfiniaError, SUCCESS_MESSAGE};
use apps::{Apps, InfiniaApp};

pub use triggers::triggers;

/// What an operation gets besides its body.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub infinia_app: &'a InfiniaApp,
    pub tenant: &'a TenantId,
    pub decision: &'a Decision,
    /// `http://host:port` the partner called, for links it hands to sellers.
    pub base_url: String,
}

impl Ctx<'_> {
    pub fn now(&self) -> i64 {
        self.app.clock().now()
    }

    /// Runs `f` under this app's lock.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut TenantState) -> R) -> Result<R, InfiniaError> {
        self.app
            .store()
            .with_tenant(self.tenant, f)
            .ok_or_else(|| InfiniaError::internal("tenant state missing"))
    }
}

pub type Handler = fn(&Ctx<'_>, &Value) -> Result<Value, InfiniaError>;

/// One operation: its canonical path under `/api/v1/` and its handler.
pub struct Operation {
    pub path: &'static str,
    pub handler: Handler,
}

/// Every operation of the surface (canonical paths; `[infinia.paths]` renames them).
pub const OPERATIONS: &[Operation] = &[
    binding::OPERATION,
    binding_query::OPERATION,
    trade_details::OPERATION,
    balance::OPERATION,
    revenue::OPERATION,
    sharing::OPERATION,
    sharing_query::OPERATION,
];

/// The surface: apps and the path table. Built once in `App::new`.
pub struct Infinia {
    pub apps: Arc<Apps>,
    by_wire: HashMap<String, &'static Operation>,
    wire_paths: BTreeMap<String, String>,
}

impl Infinia {
    pub fn new(apps: Arc<Apps>) -> anyhow::Result<Self> {
        let renames = &apps.config.paths;
        for canonical in renames.keys() {
            if !OPERATIONS.iter().any(|op| op.path == canonical) {
                anyhow::bail!(
                    "infinia.paths: {canonical:?} is not an operation path (see docs/INFINIA.md)"
                );
            }
        }
        let wire_paths: BTreeMap<String, String> = OPERATIONS
            .iter()
            .map(|op| {
                let wire = renames.get(op.path).map_or(op.path, String::as_str);
                (op.path.to_owned(), wire.trim_matches('/').to_owned())
            })
            .collect();
        let by_wire = OPERATIONS
            .iter()
            .map(|op| (wire_paths[op.path].clone(), op))
            .collect();
        Ok(Self {
            apps,
            by_wire,
            wire_paths,
        })
    }

    /// Canonical → wire paths (under `/api/v1/`).
    pub fn paths(&self) -> &BTreeMap<String, String> {
        &self.wire_paths
    }

    /// Every app's tenant id.
    pub fn tenants(&self) -> Vec<TenantId> {
        self.apps
            .ids()
            .into_iter()
            .map(|id| TenantId::new(Provider::Infinia, id))
            .collect()
    }
}

/// Posts the opening balances once per (re)started tenant state.
pub fn ensure_opened(state: &mut TenantState, infinia_app: &InfiniaApp, now: i64) {
    if state.infinia.opened {
        return;
    }
    state.infinia.opened = true;
    for amount in &infinia_app.opening_balances {
        if let Err(e) = state.ledger.transfer(
            now,
            "opening balance",
            FUNDING_ACCOUNT,
            PLATFORM_ACCOUNT,
            *amount,
        ) {
            tracing::error!(error = %e, "opening balance not posted");
        }
    }
}

/// Entry point for `POST /api/v1/{rest}`.
pub async fn handle(app: &App, req: SimRequest, rest: &str) -> SimResponse {
    let started = Instant::now();
    let mut entry = JournalEntry {
        id: 0,
        surface: "infinia",
        tenant: None,
        operation: rest.to_owned(),
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
    let response = process(app, &req, rest, &mut entry).await;
    entry.latency_us = started.elapsed().as_micros() as u64;
    entry.http_status = response.status();
    tracing::info!(
        app = entry.tenant.as_deref().unwrap_or("-"),
        path = %entry.operation,
        code = %entry.code,
        latency_us = entry.latency_us,
        "infinia request"
    );
    app.journal().record(entry);
    response
}

fn refuse(entry: &mut JournalEntry, app_id: &str, status: u16, err: InfiniaError) -> SimResponse {
    entry.code = err.code.to_string();
    entry.detail = err.message.clone();
    entry.reply = serde_json::json!({"code": err.code.as_str(), "message": err.message});
    let body = envelope::seal_reply(app_id, err.code.as_str(), &err.message, None, None)
        .unwrap_or_default();
    SimResponse::json(status, body)
}

async fn process(app: &App, req: &SimRequest, rest: &str, entry: &mut JournalEntry) -> SimResponse {
    let infinia = app.infinia();
    let config = &infinia.apps.config;
    let limit = config.body_limit_bytes;
    if req.too_large || req.body.len() > limit {
        entry.request = Value::String(format!("<{} bytes>", req.body.len()));
        let err = InfiniaError::new(
            Code::PayloadTooLarge,
            format!("the request body exceeds the limit of {limit} bytes"),
        );
        return refuse(entry, "", 200, err);
    }
    let sealed = match envelope::parse_request(&req.body) {
        Ok(sealed) => sealed,
        Err((app_id, err)) => {
            entry.request = Value::String(
                String::from_utf8_lossy(&req.body[..req.body.len().min(2048)]).into_owned(),
            );
            return refuse(entry, &app_id, 200, err);
        }
    };
    entry.request = serde_json::json!({"version": sealed.version, "appId": sealed.app_id, "requestData": "<not decrypted>"});
    let Some(infinia_app) = infinia.apps.get(&sealed.app_id) else {
        let err = InfiniaError::invalid(format!(
            "no app with appId {:?} is configured",
            sealed.app_id
        ));
        return refuse(entry, &sealed.app_id, 200, err);
    };
    let tenant = TenantId::new(Provider::Infinia, infinia_app.app_id.clone());
    entry.tenant = Some(tenant.to_string());
    let path = rest.trim_matches('/');
    let Some(operation) = infinia.by_wire.get(path).copied() else {
        let known: Vec<&str> = infinia.wire_paths.values().map(String::as_str).collect();
        let err = InfiniaError::invalid(format!(
            "no operation at /api/v1/{path}; the operations are /api/v1/{}",
            known.join(", /api/v1/")
        ));
        return refuse(entry, &sealed.app_id, 404, err);
    };
    entry.operation = operation.path.to_owned();
    let max = config.max_request_data_chars;
    if max > 0 && sealed.request_data.len() > max {
        let err = InfiniaError::range(format!(
            "requestData is {} characters long; at most {max} are allowed",
            sealed.request_data.len()
        ));
        return refuse(entry, &sealed.app_id, 200, err);
    }
    let data = match sealed.open(
        &infinia.apps.infinia_key,
        &infinia_app.merchant_public,
        infinia_app.alg,
    ) {
        Ok(data) => data,
        Err(err) => return refuse(entry, &sealed.app_id, 200, err),
    };
    entry.request = data.clone();
    entry.request_no = data
        .get("requestNo")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let now = app.clock().now();
    app.store()
        .with_tenant(&tenant, |t| ensure_opened(t, &infinia_app, now));
    let decision = app.scenarios().decide(OperationCtx {
        surface: "infinia",
        tenant: &tenant,
        operation: operation.path,
        fields: &data,
    });
    entry.rule = decision.rule.clone();
    if decision.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(decision.latency_ms)).await;
    }
    if let Some(sync) = &decision.sync {
        if sync.drop_connection {
            entry.code = "DROPPED".into();
            entry.detail = "connection dropped by scenario".into();
            return SimResponse::Drop;
        }
        if let Some(code) = sync.code.as_deref() {
            let code = Code::parse(code).unwrap_or(Code::Unavailable);
            let message = sync
                .detail
                .clone()
                .unwrap_or_else(|| format!("{code} (scenario rule)"));
            let status = sync.http_status.unwrap_or(200);
            return refuse(
                entry,
                &sealed.app_id,
                status,
                InfiniaError::new(code, message),
            );
        }
    }
    let ctx = Ctx {
        app,
        infinia_app: &infinia_app,
        tenant: &tenant,
        decision: &decision,
        base_url: base_url(req),
    };
    match (operation.handler)(&ctx, &data) {
        Ok(reply) => {
            entry.code = Code::Success.to_string();
            entry.detail = SUCCESS_MESSAGE.into();
            entry.reply = reply.clone();
            let signer = config
                .sign_responses
                .then_some((&infinia.apps.infinia_key, infinia_app.alg));
            match envelope::seal_reply(
                &infinia_app.app_id,
                Code::Success.as_str(),
                SUCCESS_MESSAGE,
                Some((&reply, &infinia_app.merchant_public)),
                signer,
            ) {
                Ok(bytes) => {
                    let status = decision
                        .sync
                        .as_ref()
                        .and_then(|s| s.http_status)
                        .unwrap_or(200);
                    SimResponse::json(status, bytes)
                }
                Err(err) => internal(entry, &sealed.app_id, err),
            }
        }
        Err(err) if err.code == Code::InternalError => internal(entry, &sealed.app_id, err),
        Err(err) => refuse(entry, &sealed.app_id, 200, err),
    }
}

fn internal(entry: &mut JournalEntry, app_id: &str, err: InfiniaError) -> SimResponse {
    tracing::error!(path = %entry.operation, error = %err.message, "internal error");
    let public = InfiniaError::internal("internal error; see the simulator log");
    refuse(entry, app_id, 200, public)
}

/// `http://{Host}` of the request (the address the partner reached the simulator at).
pub fn base_url(req: &SimRequest) -> String {
    let host = req
        .header("x-forwarded-host")
        .or_else(|| req.header("host"))
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("127.0.0.1:8080");
    let scheme = match req.header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}
