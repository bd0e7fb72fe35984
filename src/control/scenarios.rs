//! `/__sim/scenarios`: list, load or replace (TOML or JSON body), remove, and explain (which rule
//! would decide an operation). Only reads and drives the scenario engine through `App`.

use serde_json::{json, Value};

use super::{add_utc, body_json, body_str, camel_keys, error, known_tenant, ok, tenant_param};
use crate::core::Core;
use crate::http::{SimRequest, SimResponse};
use crate::scenario::format::Surface;
use crate::scenario::{Decision, OperationCtx};
use crate::tenant::TenantId;

pub fn list(core: &Core, req: &SimRequest) -> SimResponse {
    let scope = match scope_param(req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let tenant = match &scope {
        Some(Scope::Tenant(t)) => Some(t),
        Some(Scope::Every) | None => None,
    };
    let list: Vec<Value> = core
        .scenarios()
        .list(tenant)
        .into_iter()
        .filter(|view| !matches!(scope, Some(Scope::Every)) || every_tenant(view))
        .map(with_utc)
        .collect();
    ok(json!({"scenarios": list}))
}

pub async fn load(core: &Core, req: &SimRequest) -> SimResponse {
    let scope = match tenant_param(req, None) {
        Ok(t) => t,
        Err(r) => return r,
    };
    // Named in the answer, its errors and the scenario's view: cut as every echoed value is.
    let source = req
        .query_param("file")
        .map_or_else(|| "request body".to_owned(), |f| crate::text::echo_bare(&f));
    let Ok(text) = std::str::from_utf8(&req.body) else {
        return error(400, "the scenario must be UTF-8 text (TOML or JSON)");
    };
    if text.trim().is_empty() {
        return error(
            400,
            "the body is empty; send a scenario file (TOML, or JSON of the same shape)",
        );
    }
    // The checks that depend on the tenant are made for the one the scenario will have.
    let parsed = core
        .scenarios()
        .parse(text, &source, core.triggers(), scope.as_ref());
    let file = match parsed {
        Ok(file) => file,
        Err(e) => {
            return SimResponse::json_value(
                400,
                &json!({"error": e.to_string(), "file": e.file, "line": e.line, "column": e.column, "reason": e.reason}),
            )
        }
    };
    let unknown_tenant = scope
        .clone()
        .or_else(|| file.tenant.clone().map(|t| t.0))
        .filter(|t| !core.store().has_tenant(t));
    // A rule's tenant that does not exist: its rule applies to no request until it does.
    let mut warnings: Vec<String> = unknown_tenant
        .iter()
        .map(crate::scenario::missing_tenant)
        .collect();
    for t in crate::scenario::load::rule_tenants(&file) {
        if !core.store().has_tenant(&t) && unknown_tenant.as_ref() != Some(&t) {
            warnings.push(format!(
                "no tenant {t} exists (yet); the rules naming it apply to no request until it does"
            ));
        }
    }
    let immediate = file.timeline.iter().any(|e| e.at.0 == 0);
    let limits = &core.config().scenarios;
    let loading = match core.scenarios().load_within(file, scope, &source, limits) {
        Ok(loading) => loading,
        // Over `[scenarios] max_loaded` or `max_rules_loaded`: nothing loaded, nothing changed.
        Err(why) => return error(409, why),
    };
    crate::core::timeline::schedule_pending(core);
    let mut view = loading.view;
    if immediate {
        // Events at 0s have fired by the time the load is answered, and the answer shows them
        // (the view at load, when a load meanwhile replaced the scenario).
        core.clock().advance(0).await;
        view = core.scenarios().view(loading.generation).unwrap_or(view);
    }
    let mut answer = json!({"loaded": with_utc(view), "replaced": loading.replaced});
    if !warnings.is_empty() {
        answer["warning"] = json!(warnings.join("; "));
    }
    ok(answer)
}

/// How `?tenant=` names the every-tenant scope: the every-tenant scenario of a name that a
/// tenant's scenario shares, or (listing and removing all) the every-tenant scenarios only.
pub const EVERY_TENANT: &str = "*";

/// The scenario scope a `?tenant=` names.
enum Scope {
    /// `*`: the scenarios loaded for every tenant.
    Every,
    /// `provider:id`: that tenant's.
    Tenant(TenantId),
}

/// The one reading of the scenario endpoints' `?tenant=`: `*` ([`EVERY_TENANT`]) or
/// `provider:id` (anything else is the `400` of [`tenant_param`]); `None` when not given.
fn scope_param(req: &SimRequest) -> Result<Option<Scope>, SimResponse> {
    if req.query_param("tenant").as_deref() == Some(EVERY_TENANT) {
        return Ok(Some(Scope::Every));
    }
    Ok(tenant_param(req, None)?.map(Scope::Tenant))
}

/// Whether a scenario's view is of one loaded for every tenant (its `tenant` is `null`).
fn every_tenant(view: &Value) -> bool {
    view["tenant"].is_null()
}

/// Finds the scope of scenario `name`: the `tenant` given (`*` = the every-tenant one, `None`),
/// else the only one of that name.
fn scope_of(core: &Core, req: &SimRequest, name: &str) -> Result<Option<TenantId>, SimResponse> {
    match scope_param(req)? {
        Some(Scope::Every) => return Ok(None),
        Some(Scope::Tenant(t)) => return Ok(Some(t)),
        None => {}
    }
    let scopes: Vec<Option<TenantId>> = core
        .scenarios()
        .list(None)
        .iter()
        .filter(|v| v["name"] == name)
        .map(|v| v["tenant"].as_str().and_then(TenantId::parse))
        .collect();
    match scopes.as_slice() {
        [] => Err(error(
            404,
            format!("no scenario {} is loaded", crate::text::echo(name)),
        )),
        [one] => Ok(one.clone()),
        several => {
            let each: Vec<String> = several
                .iter()
                .map(|scope| match scope {
                    Some(t) => format!("tenant {t} (?tenant={t})"),
                    None => format!("every tenant (?tenant={EVERY_TENANT})"),
                })
                .collect();
            Err(error(
                409,
                format!(
                    "several scenarios are named {}: for {}; add the ?tenant= of the one you mean",
                    crate::text::echo(name),
                    each.join(", ")
                ),
            ))
        }
    }
}

pub fn get(core: &Core, req: &SimRequest, name: &str) -> SimResponse {
    let scope = match scope_of(core, req, name) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match core.scenarios().get(name, scope.as_ref()) {
        Some(view) => ok(with_utc(view)),
        None => error(404, not_loaded(name, scope.as_ref())),
    }
}

pub fn remove(core: &Core, req: &SimRequest, name: &str) -> SimResponse {
    let scope = match scope_of(core, req, name) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if core.scenarios().remove(name, scope.as_ref()) {
        ok(json!({"removed": name, "tenant": scope.map(|t| t.to_string())}))
    } else {
        error(404, not_loaded(name, scope.as_ref()))
    }
}

fn not_loaded(name: &str, scope: Option<&TenantId>) -> String {
    match scope {
        Some(t) => format!(
            "no scenario {} is loaded for tenant {t}",
            crate::text::echo(name)
        ),
        None => format!(
            "no scenario {} is loaded for every tenant",
            crate::text::echo(name)
        ),
    }
}

/// `DELETE /__sim/scenarios[?tenant=]`: every scenario, those scoped to one tenant, or with
/// `?tenant=*` those loaded for every tenant (a tenant's own stay). Answers how many went.
pub fn remove_all(core: &Core, req: &SimRequest) -> SimResponse {
    let removed = match scope_param(req) {
        Ok(None) => core.scenarios().remove_all(None),
        Ok(Some(Scope::Tenant(t))) => core.scenarios().remove_all(Some(&t)),
        Ok(Some(Scope::Every)) => {
            let names: Vec<String> = core
                .scenarios()
                .list(None)
                .iter()
                .filter(|view| every_tenant(view))
                .filter_map(|view| view["name"].as_str().map(str::to_owned))
                .collect();
            names
                .iter()
                .filter(|name| core.scenarios().remove(name, None))
                .count()
        }
        Err(r) => return r,
    };
    ok(json!({"removed": removed}))
}

/// `POST /__sim/scenarios/explain`: which rule would decide an operation now. The operation is
/// checked as a rule's is at load (an unknown one is a `400` with the nearest name), the tenant
/// must exist (a `404`, as `/__sim/state`) and be the surface's provider's (a `400`): an answer
/// of "no rule decides" about something that cannot arrive would pass for the happy path.
pub fn explain(core: &Core, req: &SimRequest) -> SimResponse {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (surface, operation) = match (body_str(&body, "surface"), body_str(&body, "operation")) {
        (Ok(s), Ok(o)) => (s, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let Some(surface) = surface.and_then(Surface::parse) else {
        return error(
            400,
            format!(
                "surface must be one of {}, not {}",
                <Surface as crate::store::Words>::WORDS.join(", "),
                surface.map_or("none".to_owned(), |s| crate::text::echo(s).to_string())
            ),
        );
    };
    let tenant = match known_tenant(core, req, Some(&body)) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return error(
                400,
                "tenant is required: provider:id (e.g. whalet:202400000000001)",
            )
        }
        Err(r) => return r,
    };
    if tenant.provider != surface.provider() {
        return error(
            400,
            format!(
                "tenant {tenant} is not a tenant of surface {surface}, whose tenants are {}:id",
                surface.provider().as_str()
            ),
        );
    }
    let Some(operation) = operation else {
        return error(400, "operation is required (apiCode or path)");
    };
    if let Some(why) = core
        .scenarios()
        .not_one_operation(surface.as_str(), operation)
    {
        return error(400, format!("operation: {why}"));
    }
    let fields = match body.get("fields") {
        None => json!({}),
        Some(fields @ Value::Object(_)) => fields.clone(),
        Some(other) => {
            return error(
                400,
                format!(
                    "fields must be a JSON object of business fields, got {}",
                    crate::text::bound(&other.to_string(), crate::text::ECHO_BYTES)
                ),
            )
        }
    };
    let decision = core.scenarios().explain(OperationCtx {
        surface: surface.as_str(),
        tenant: &tenant,
        operation,
        fields: &fields,
    });
    ok(json!({"decision": decision_json(&as_sent(surface, operation, decision))}))
}

/// `decision` as `surface` carries it out for `operation`, so that explain shows what goes on
/// the wire: a forced code the surface lacks (a rule for every surface) as the code it sends,
/// through the pipeline's own [`CodedError::forced`] (`FAILURE` on Whalet and whalet-platform,
/// `SYS-008` on Infinia, Pockyt's system error); on Pockyt, a `status` as the operation takes
/// it ([`crate::scenario::pockyt::status_taken`]: another operation's word is left out and the
/// result decides; none where the operation reads no status).
///
/// [`CodedError::forced`]: crate::api::pipeline::CodedError::forced
fn as_sent(surface: Surface, operation: &str, mut decision: Decision) -> Decision {
    use crate::api::pipeline::CodedError;
    use crate::wire::{infinia::InfiniaError, pockyt::PockytError, whalet::WhaletError};
    if let Some(code) = decision.sync.as_mut().and_then(|s| s.code.as_mut()) {
        *code = match surface {
            Surface::Whalet | Surface::Platform => WhaletError::forced(code, None).code.to_string(),
            Surface::Infinia => InfiniaError::forced(code, None).code.to_string(),
            Surface::Pockyt => PockytError::forced(code, None).code.to_string(),
        };
    }
    if surface == Surface::Pockyt {
        if let Some(result) = decision.result.as_mut().filter(|r| r.status.is_some()) {
            result.status =
                crate::scenario::pockyt::status_taken(operation, result).map(str::to_owned);
        }
    }
    decision
}

/// A scenario's view with its virtual times (epoch ms) also in ISO-8601: `loadedAtUtc`, and
/// `atUtc`, `fromUtc`, `untilUtc` in its timeline and outages.
fn with_utc(mut view: Value) -> Value {
    add_utc(&mut view, &["loadedAt"]);
    for (list, keys) in [
        ("timeline", &["at"][..]),
        ("outages", &["from", "until"][..]),
    ] {
        if let Some(items) = view.get_mut(list).and_then(Value::as_array_mut) {
            for item in items {
                add_utc(item, keys);
            }
        }
    }
    view
}

/// A decision as JSON (the explain endpoint and the docs use this shape), camelCase throughout.
pub fn decision_json(d: &Decision) -> Value {
    let mut sync = json!(d.sync);
    camel_keys(&mut sync);
    let mut notify = json!(d.notify);
    camel_keys(&mut notify);
    json!({
        "scenario": d.scenario,
        "rule": d.rule,
        "sync": sync,
        "latencyMs": d.latency_ms,
        "result": d.result,
        "delayMs": d.delay_ms,
        "notify": notify,
        "values": d.values,
    })
}
