//! The Whalet Open API surface: `POST /api` (operation = `head.apiCode`) and `POST /api/{apiCode}`.
//! This module is the pipeline every operation shares: read the envelope, find the partner,
//! admit (rate limit), verify and decrypt, check the apiCode is enabled and the requestNo is new,
//! ask the scenario engine, run the operation, seal the reply, journal it. Operations live one per
//! file and are listed in [`Dispatch`]'s table.

mod connectivity;
pub mod ops;
pub mod partners;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde_json::Value;

use crate::app::App;
use crate::clock::{format, system_now};
use crate::control::triggers::TriggerDef;
use crate::http::{SimRequest, SimResponse};
use crate::journal::JournalEntry;
use crate::notify::NotificationSpec;
use crate::scenario::{Decision, OperationCtx};
use crate::store::{Provider, TenantId, TenantState};
use crate::wire::whalet::{self as envelope, Code, Echo, WhaletError, SUCCESS_DETAIL};
use partners::Partner;

/// A successful (or PROCESSING) answer of an operation.
#[derive(Debug, Clone)]
pub struct Reply {
    pub code: Code,
    pub body: Option<Value>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self {
            code: Code::Success,
            body: Some(body),
        }
    }
    pub fn empty() -> Self {
        Self {
            code: Code::Success,
            body: Some(Value::Object(Default::default())),
        }
    }
    pub fn processing(body: Value) -> Self {
        Self {
            code: Code::Processing,
            body: Some(body),
        }
    }
}

/// What an operation gets besides its body.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub partner: &'a Partner,
    pub tenant: &'a TenantId,
    pub echo: &'a Echo,
    pub decision: &'a Decision,
}

impl Ctx<'_> {
    pub fn now(&self) -> i64 {
        self.app.clock().now()
    }

    /// Runs `f` under this tenant's lock.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut TenantState) -> R) -> Result<R, WhaletError> {
        self.app
            .store()
            .with_tenant(self.tenant, f)
            .ok_or_else(|| WhaletError::new(Code::InternalError, "tenant state missing"))
    }

    /// Sends a notification (canonical apiCode) to this partner, shaped by the scenario.
    pub fn notify(
        &self,
        canonical_api_code: &str,
        payload: Value,
        business_id: Option<String>,
    ) -> String {
        notify(
            self.app,
            self.tenant,
            canonical_api_code,
            payload,
            business_id,
            self.decision.notify.clone(),
        )
    }
}

/// Enqueues a Whalet notification for `tenant` (used by operations, triggers and timelines).
pub fn notify(
    app: &App,
    tenant: &TenantId,
    canonical_api_code: &str,
    payload: Value,
    business_id: Option<String>,
    behaviour: crate::notify::NotifyBehaviour,
) -> String {
    app.outbox().enqueue(NotificationSpec {
        tenant: tenant.clone(),
        channel: "whalet",
        topic: app.whalet_ops().wire_name(canonical_api_code),
        payload,
        business_id,
        url: None,
        request_no: None,
        behaviour,
    })
}

pub type Handler = fn(&Ctx<'_>, &Value) -> Result<Reply, WhaletError>;

/// One operation: its canonical apiCode (see docs/FIDELITY.md) and handler.
pub struct Operation {
    pub api_code: &'static str,
    pub handler: Handler,
}

/// The dispatch table: wire apiCode → operation, after `[whalet.api_codes]` renames.
pub struct Dispatch {
    by_wire: HashMap<String, &'static Operation>,
    wire_names: BTreeMap<String, String>,
}

/// Every operation of the surface. Adding one = one file + one line in its group's table.
fn all_operations() -> impl Iterator<Item = &'static Operation> {
    connectivity::OPERATIONS
        .iter()
        .chain(ops::OPERATIONS.iter().flat_map(|group| group.iter()))
}

/// Notification apiCodes (canonical), for renames and FIDELITY.md.
pub const NOTIFICATIONS: &[&str] = &["connectivityNotify"];

impl Dispatch {
    pub fn new(renames: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let known: Vec<&str> = all_operations()
            .map(|op| op.api_code)
            .chain(NOTIFICATIONS.iter().copied())
            .chain(ops::NOTIFICATIONS.iter().flat_map(|g| g.iter().copied()))
            .collect();
        for canonical in renames.keys() {
            if !known.contains(&canonical.as_str()) {
                anyhow::bail!(
                    "whalet.api_codes: {canonical:?} is not a known apiCode (see docs/FIDELITY.md)"
                );
            }
        }
        let wire_names: BTreeMap<String, String> = known
            .iter()
            .map(|c| {
                (
                    (*c).to_owned(),
                    renames.get(*c).cloned().unwrap_or_else(|| (*c).to_owned()),
                )
            })
            .collect();
        let by_wire = all_operations()
            .map(|op| (wire_names[op.api_code].clone(), op))
            .collect();
        Ok(Self {
            by_wire,
            wire_names,
        })
    }

    /// The name on the wire of a canonical apiCode.
    pub fn wire_name(&self, canonical: &str) -> String {
        self.wire_names
            .get(canonical)
            .cloned()
            .unwrap_or_else(|| canonical.to_owned())
    }

    fn get(&self, wire: &str) -> Option<&'static Operation> {
        self.by_wire.get(wire).copied()
    }

    /// Canonical → wire names of every operation and notification.
    pub fn names(&self) -> &BTreeMap<String, String> {
        &self.wire_names
    }
}

/// Triggers of this surface.
pub fn triggers() -> Vec<TriggerDef> {
    ops::TRIGGERS
        .iter()
        .flat_map(|g| g.iter().cloned())
        .collect()
}

/// Entry point for `POST /api` and `POST /api/{apiCode}`.
pub async fn handle(app: &App, req: SimRequest, path_api_code: Option<&str>) -> SimResponse {
    let started = Instant::now();
    let outcome = process(app, &req, path_api_code).await;
    let (response, journal) = match outcome {
        Processed::Answer { response, journal } => (response, journal),
    };
    if let Some(mut entry) = journal {
        entry.latency_us = started.elapsed().as_micros() as u64;
        entry.http_status = response.status();
        tracing::info!(
            partner = entry.tenant.as_deref().unwrap_or("-"),
            api_code = %entry.operation,
            request_no = entry.request_no.as_deref().unwrap_or("-"),
            code = %entry.code,
            latency_us = entry.latency_us,
            "whalet request"
        );
        app.journal().record(entry);
    }
    response
}

enum Processed {
    Answer {
        response: SimResponse,
        journal: Option<JournalEntry>,
    },
}

async fn process(app: &App, req: &SimRequest, path_api_code: Option<&str>) -> Processed {
    let mut entry = JournalEntry {
        id: 0,
        surface: "whalet",
        tenant: None,
        operation: path_api_code.unwrap_or("").to_owned(),
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
    let refuse = |entry: &mut JournalEntry, echo: &Echo, err: WhaletError| {
        entry.code = err.code.to_string();
        entry.detail = err.detail.clone();
        entry.reply =
            serde_json::json!({"head": {"code": err.code.as_str(), "detail": err.detail}});
        SimResponse::json(
            200,
            envelope::seal_reply(
                echo,
                err.code.as_str(),
                &err.detail,
                None,
                None,
                app.hex_case(),
            ),
        )
    };
    let limit = app.config().whalet.body_limit_bytes;
    if req.too_large || req.body.len() > limit {
        let err = WhaletError::format(format!(
            "the request body exceeds the limit of {limit} bytes"
        ));
        entry.request = Value::String(format!("<{} bytes>", req.body.len()));
        let response = refuse(&mut entry, &Echo::default(), err);
        return Processed::Answer {
            response,
            journal: Some(entry),
        };
    }
    let sealed = match envelope::parse_request(&req.body) {
        Ok(sealed) => sealed,
        Err((echo, err)) => {
            entry.request = Value::String(
                String::from_utf8_lossy(&req.body[..req.body.len().min(2048)]).into_owned(),
            );
            if !echo.api_code.is_empty() {
                entry.operation = echo.api_code.clone();
            }
            let response = refuse(&mut entry, &echo, err);
            return Processed::Answer {
                response,
                journal: Some(entry),
            };
        }
    };
    let echo = sealed.echo.clone();
    entry.operation = echo.api_code.clone();
    entry.request_no = Some(echo.request_no.clone());
    entry.request = serde_json::json!({"head": {"partnerId": echo.partner_id, "apiCode": echo.api_code, "requestNo": echo.request_no}, "body": "<not decrypted>"});
    let Some(partner) = app.partners().get(&echo.partner_id) else {
        let err = WhaletError::new(
            Code::PartnerNotExist,
            format!(
                "no partner with partnerId {:?} is configured",
                echo.partner_id
            ),
        );
        let response = refuse(&mut entry, &echo, err);
        return Processed::Answer {
            response,
            journal: Some(entry),
        };
    };
    let tenant = TenantId::new(Provider::Whalet, partner.id.clone());
    entry.tenant = Some(tenant.to_string());
    if let Some(path_code) = path_api_code {
        if path_code != echo.api_code {
            let err = WhaletError::parameter(format!(
                "the path says apiCode {path_code:?} but head.apiCode is {:?}",
                echo.api_code
            ));
            let response = refuse(&mut entry, &echo, err);
            return Processed::Answer {
                response,
                journal: Some(entry),
            };
        }
    }
    if !partner.admit() {
        let err = WhaletError::new(
            Code::TooManyRequests,
            format!(
                "more than {} requests per second from this partner",
                partner.rate_limit.unwrap_or(0)
            ),
        );
        let response = refuse(&mut entry, &echo, err);
        return Processed::Answer {
            response,
            journal: Some(entry),
        };
    }
    let opened = match sealed.open(&partner.platform_key, &partner.public_key) {
        Ok(opened) => opened,
        Err(err) => {
            let response = refuse(&mut entry, &echo, err);
            return Processed::Answer {
                response,
                journal: Some(entry),
            };
        }
    };
    entry.request = opened.body.clone();
    let Some(operation) = app.whalet_ops().get(&echo.api_code) else {
        let err = WhaletError::new(
            Code::InterfaceUnauthorized,
            format!("apiCode {:?} is not an interface of this API (see GET /__sim/openapi.json or docs/FIDELITY.md for the list)", echo.api_code),
        );
        let response = refuse(&mut entry, &echo, err);
        return Processed::Answer {
            response,
            journal: Some(entry),
        };
    };
    if !partner.is_enabled(operation.api_code) {
        let err = WhaletError::new(
            Code::InterfaceUnauthorized,
            format!(
                "apiCode {:?} is not enabled for partner {}",
                echo.api_code, partner.id
            ),
        );
        let response = refuse(&mut entry, &echo, err);
        return Processed::Answer {
            response,
            journal: Some(entry),
        };
    }
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
        let err = WhaletError::new(
            Code::RequestNoNotUnique,
            format!(
                "requestNo {:?} was already used by partner {}; every request needs a new one",
                echo.request_no, partner.id
            ),
        );
        let response = refuse(&mut entry, &echo, err);
        return Processed::Answer {
            response,
            journal: Some(entry),
        };
    }
    let decision = app.scenarios().decide(OperationCtx {
        surface: "whalet",
        tenant: &tenant,
        operation: operation.api_code,
        fields: &opened.body,
    });
    entry.rule = decision.rule.clone();
    if decision.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(decision.latency_ms)).await;
    }
    if let Some(sync) = &decision.sync {
        if sync.drop_connection {
            entry.code = "DROPPED".into();
            entry.detail = "connection dropped by scenario".into();
            return Processed::Answer {
                response: SimResponse::Drop,
                journal: Some(entry),
            };
        }
        if let Some(code) = sync.code.as_deref() {
            let code = Code::parse(code).unwrap_or(Code::Failure);
            let detail = sync
                .detail
                .clone()
                .unwrap_or_else(|| format!("{code} (scenario rule)"));
            let response = refuse(&mut entry, &echo, WhaletError::new(code, detail));
            let response = match (sync.http_status, response) {
                (
                    Some(status),
                    SimResponse::Reply {
                        content_type,
                        headers,
                        body,
                        ..
                    },
                ) => SimResponse::Reply {
                    status,
                    content_type,
                    headers,
                    body,
                },
                (_, r) => r,
            };
            return Processed::Answer {
                response,
                journal: Some(entry),
            };
        }
    }
    let ctx = Ctx {
        app,
        partner: &partner,
        tenant: &tenant,
        echo: &echo,
        decision: &decision,
    };
    // A handler bug must not take the connection down: it becomes INTERNAL_ERROR and a log line.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (operation.handler)(&ctx, &opened.body)
    }))
    .unwrap_or_else(|_| {
        Err(WhaletError::new(
            Code::InternalError,
            format!("operation {} panicked", operation.api_code),
        ))
    });
    let response = match result {
        Ok(reply) => {
            let detail = if reply.code == Code::Success {
                SUCCESS_DETAIL.to_owned()
            } else {
                reply.code.to_string()
            };
            entry.code = reply.code.to_string();
            entry.detail = detail.clone();
            entry.reply = reply.body.clone().unwrap_or(Value::Null);
            let sealed = envelope::try_seal_reply(
                &echo,
                reply.code.as_str(),
                &detail,
                reply.body.as_ref(),
                Some((&partner.platform_key, &partner.public_key)),
                app.hex_case(),
            );
            let bytes = match sealed {
                Ok(bytes) => bytes,
                Err(err) => {
                    tracing::error!(partner = %partner.id, error = %err.detail, "cannot seal the reply");
                    let public = WhaletError::new(
                        Code::InternalError,
                        format!(
                            "the reply could not be sealed with partner {}'s public key {}: {}",
                            partner.id,
                            partner.public_key.fingerprint(),
                            err.detail
                        ),
                    );
                    return Processed::Answer {
                        response: refuse(&mut entry, &echo, public),
                        journal: Some(entry),
                    };
                }
            };
            let status = decision
                .sync
                .as_ref()
                .and_then(|s| s.http_status)
                .unwrap_or(200);
            SimResponse::json(status, bytes)
        }
        Err(err) => {
            if err.code == Code::InternalError {
                tracing::error!(api_code = %echo.api_code, error = %err.detail, "internal error");
                let public =
                    WhaletError::new(Code::InternalError, "internal error; see the simulator log");
                refuse(&mut entry, &echo, public)
            } else {
                refuse(&mut entry, &echo, err)
            }
        }
    };
    Processed::Answer {
        response,
        journal: Some(entry),
    }
}

/// `yyyy-MM-dd HH:mm:ss` in China Standard Time, the Whalet time format.
pub fn whalet_time(ms: i64) -> String {
    format::china(ms)
}
