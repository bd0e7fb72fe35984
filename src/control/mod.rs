//! The control plane under [`PREFIX`]: plain JSON, no envelope. Health, the request journal,
//! the delivery ledger, the clock, state, reset, invariants and triggers. Product handlers never
//! import this module; it only reads and drives the app through its handles.

pub mod openapi;
pub mod scenarios;
pub mod triggers;

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::app::App;
use crate::clock::{format, ClockMode};
use crate::http::{SimRequest, SimResponse};
use crate::journal::JournalFilter;
use crate::notify::NotificationFilter;
use crate::store::TenantId;

/// Everything of the control plane lives under this one prefix.
pub const PREFIX: &str = "/__sim/";

pub async fn handle(app: &App, req: &SimRequest, rest: &str) -> SimResponse {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if !openapi::documented(req.method.as_str(), &segments) {
        return not_served(req, rest);
    }
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["health"]) => ok(json!({"status": "ok"})),
        ("GET", ["requests"]) => requests(app, req),
        ("GET", ["requests", id]) => match id.parse().ok().and_then(|id| app.journal().get(id)) {
            Some(entry) => ok(json!(entry)),
            None => error(404, format!("no journal entry {id}")),
        },
        ("DELETE", ["requests"]) => {
            app.journal().clear();
            ok(json!({"cleared": true}))
        }
        ("GET", ["notifications"]) => {
            let filter = notification_filter(req);
            ok(json!({"notifications": app.outbox().list(&filter)}))
        }
        ("GET", ["notifications", "wait"]) => wait(app, req).await,
        ("GET", ["notifications", id]) => match app.outbox().get(id) {
            Some(n) => ok(json!(n)),
            None => error(404, format!("no notification {id}")),
        },
        ("POST", ["notifications", id, "resend"]) => match app.outbox().resend(id) {
            Ok(n) => ok(json!(n)),
            Err(e) => error(409, e),
        },
        ("GET", ["clock"]) => ok(clock_view(app)),
        ("POST", ["clock", "advance"]) => advance(app, req).await,
        ("POST", ["clock"]) => set_clock(app, req),
        ("GET", ["state"]) => state(app, req),
        ("GET", ["invariants"]) => invariants(app),
        ("POST", ["reset"]) => reset(app, req),
        ("GET", ["triggers"]) => ok(json!({"triggers": app.triggers()})),
        ("POST", ["trigger", name]) => trigger(app, req, name).await,
        ("GET", ["scenarios"]) => scenarios::list(app, req),
        ("POST", ["scenarios"]) => scenarios::load(app, req).await,
        ("DELETE", ["scenarios"]) => scenarios::remove_all(app, req),
        ("POST", ["scenarios", "explain"]) => scenarios::explain(app, req),
        ("GET", ["scenarios", name]) => scenarios::get(app, req, name),
        ("DELETE", ["scenarios", name]) => scenarios::remove(app, req, name),
        ("GET", ["openapi.json"]) => ok(openapi::document(app)),
        _ => not_served(req, rest),
    }
}

/// The one answer for a path the control plane does not serve (openapi.rs lists what it does).
fn not_served(req: &SimRequest, rest: &str) -> SimResponse {
    SimResponse::json_value(
        404,
        &json!({
            "error": format!("no control endpoint {} {}{rest}", req.method, PREFIX),
            "hint": "GET /__sim/openapi.json lists every control endpoint",
        }),
    )
}

pub(crate) fn ok(value: Value) -> SimResponse {
    SimResponse::json_value(200, &value)
}

pub fn error(status: u16, message: impl Into<String>) -> SimResponse {
    SimResponse::json_value(status, &json!({"error": message.into()}))
}

pub(crate) fn body_json(req: &SimRequest) -> Result<Map<String, Value>, SimResponse> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(error(400, "the body must be a JSON object")),
        Err(e) => Err(error(400, format!("the body is not JSON: {e}"))),
    }
}

fn requests(app: &App, req: &SimRequest) -> SimResponse {
    let filter = JournalFilter {
        surface: req.query_param("surface"),
        tenant: req.query_param("tenant"),
        partner_id: req.query_param("partnerId"),
        operation: req
            .query_param("apiCode")
            .or_else(|| req.query_param("operation")),
        code: req.query_param("code"),
        limit: req.query_param("limit").and_then(|l| l.parse().ok()),
    };
    ok(json!({"requests": app.journal().query(&filter)}))
}

fn notification_filter(req: &SimRequest) -> NotificationFilter {
    NotificationFilter {
        tenant: req.query_param("tenant"),
        api_code: req.query_param("apiCode"),
        status: req.query_param("status"),
        business_id: req.query_param("businessId"),
        after: req
            .query_param("after")
            .and_then(|a| a.trim_start_matches("ntf_").parse().ok()),
    }
}

async fn wait(app: &App, req: &SimRequest) -> SimResponse {
    let filter = notification_filter(req);
    let timeout_ms = req
        .query_param("timeout_ms")
        .and_then(|t| t.parse().ok())
        .unwrap_or(10_000u64)
        .min(120_000);
    match app
        .outbox()
        .wait(&filter, Duration::from_millis(timeout_ms))
        .await
    {
        Some(n) => ok(json!(n)),
        None => error(
            408,
            format!("no matching notification was delivered or exhausted within {timeout_ms} ms"),
        ),
    }
}

pub fn clock_view(app: &App) -> Value {
    let now = app.clock().now();
    json!({
        "mode": app.clock().mode(),
        "now": now,
        "nowText": format::china(now),
        "nowUtc": format::utc_z(now),
        "pending": app.clock().pending(),
    })
}

async fn advance(app: &App, req: &SimRequest) -> SimResponse {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let ms = match (
        body.get("seconds").and_then(Value::as_f64),
        body.get("ms").and_then(Value::as_i64),
    ) {
        (Some(s), _) if s >= 0.0 && s.is_finite() => (s * 1000.0).round() as i64,
        (None, Some(ms)) if ms >= 0 => ms,
        _ => return error(400, "give {\"seconds\": n} (n >= 0) or {\"ms\": n}"),
    };
    let ran = app.clock().advance(ms).await;
    let mut view = clock_view(app);
    view["ran"] = json!(ran);
    ok(view)
}

fn set_clock(app: &App, req: &SimRequest) -> SimResponse {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mode = match serde_json::from_value::<ClockMode>(Value::Object(body)) {
        Ok(mode) => mode,
        Err(e) => return error(400, format!("expected {{\"mode\": \"real\"|\"manual\"}} or {{\"mode\": \"scaled\", \"scale\": 0.01}}: {e}")),
    };
    if let ClockMode::Scaled { scale } = mode {
        if !(scale > 0.0 && scale.is_finite()) {
            return error(400, "scale must be a positive number");
        }
    }
    app.clock().set_mode(mode);
    ok(clock_view(app))
}

pub(crate) fn tenant_param(
    req: &SimRequest,
    body: Option<&Map<String, Value>>,
) -> Result<Option<TenantId>, SimResponse> {
    let text = req.query_param("tenant").or_else(|| {
        body.and_then(|b| b.get("tenant"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    match text {
        None => Ok(None),
        Some(t) => TenantId::parse(&t).map(Some).ok_or_else(|| {
            error(
                400,
                format!("tenant must be provider:id (e.g. whalet:202400000000001), got {t:?}"),
            )
        }),
    }
}

fn state(app: &App, req: &SimRequest) -> SimResponse {
    let wanted = match tenant_param(req, None) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut tenants = Map::new();
    for id in app.store().tenant_ids() {
        if wanted.as_ref().is_some_and(|w| w != &id) {
            continue;
        }
        if let Some(snapshot) = app.store().snapshot(&id) {
            tenants.insert(id.to_string(), snapshot);
        }
    }
    if let Some(w) = wanted {
        if tenants.is_empty() {
            return error(404, format!("no tenant {w}"));
        }
    }
    ok(json!({"tenants": tenants}))
}

fn invariants(app: &App) -> SimResponse {
    let results = app.store().check_invariants();
    let all_ok = results.iter().all(|(_, r)| r.is_ok());
    let tenants: Map<String, Value> = results
        .into_iter()
        .map(|(id, r)| {
            let v = match r {
                Ok(()) => json!({"ok": true}),
                Err(e) => json!({"ok": false, "error": e}),
            };
            (id.to_string(), v)
        })
        .collect();
    ok(json!({"ok": all_ok, "tenants": tenants}))
}

fn reset(app: &App, req: &SimRequest) -> SimResponse {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let tenant = match tenant_param(req, Some(&body)) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if let Some(t) = &tenant {
        if !app.store().has_tenant(t) {
            return error(404, format!("no tenant {t}"));
        }
    }
    app.store().reset(tenant.as_ref());
    app.outbox().reset(tenant.as_ref());
    app.scenarios().reset(tenant.as_ref());
    match &tenant {
        None => {
            app.journal().clear();
            app.clock().cancel_matching("");
        }
        // Timers of one tenant are labelled `<tenant>/...` (scenario timelines).
        Some(t) => {
            app.clock().cancel_matching(&format!("{t}/"));
        }
    }
    ok(json!({"reset": tenant.map_or("all".to_owned(), |t| t.to_string())}))
}

async fn trigger(app: &App, req: &SimRequest, name: &str) -> SimResponse {
    let params = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match triggers::fire(app, name, params, None).await {
        Ok(result) => ok(json!({"trigger": name, "result": result})),
        Err(e) => error(e.status(), e.message()),
    }
}
