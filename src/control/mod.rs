//! The control plane under [`PREFIX`]: plain JSON, no envelope. Health, the request journal,
//! the delivery ledger, the clock, state, reset, invariants and triggers. Product handlers never
//! import this module; it only reads and drives the app through its handles.

pub mod camel;
pub mod coverage;
pub mod guard;
pub mod openapi;
pub mod scenarios;
pub mod snapshot;

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::clock::{format, ClockMode, Stopped, MAX_ADVANCE_MS};
use crate::core::Core;
use crate::http::{SimRequest, SimResponse};
use crate::journal::JournalFilter;
use crate::notify::{NotificationFilter, Status};
use crate::tenant::{Provider, TenantId};

/// Everything of the control plane lives under this one prefix.
pub const PREFIX: &str = "/__sim/";

/// The longest wait `GET /__sim/notifications/wait` takes (`timeoutMs`), in wall ms, and its
/// default; the handler checks these and the OpenAPI document states them.
pub const WAIT_MAX_MS: u64 = 120_000;
pub const WAIT_DEFAULT_MS: u64 = 10_000;

/// The largest `seconds` of `POST /__sim/clock/advance` ([`MAX_ADVANCE_MS`] in seconds); the
/// handler checks it and the OpenAPI document states it.
pub const MAX_ADVANCE_SECONDS: i64 = MAX_ADVANCE_MS / 1000;

pub async fn handle(core: &Core, req: &SimRequest, rest: &str) -> SimResponse {
    if req.too_large {
        let limit = core.config().server.control_body_limit_bytes;
        // A snapshot of that size has another way in (docs/PERSISTENCE.md).
        let hint = if rest.trim_matches('/') == "snapshot" {
            "; start the simulator with `serve --snapshot FILE` (WHALET_SIM_SNAPSHOT) to load a \
             larger snapshot, or raise the limit"
        } else {
            ""
        };
        return error(
            413,
            format!(
                "the body is larger than {limit} bytes ([server] control_body_limit_bytes){hint}"
            ),
        );
    }
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let Some(route) = openapi::route(req.method.as_str(), &segments) else {
        if req.method == "HEAD" && segments == ["health"] {
            // A load balancer's or container's probe: the GET's answer, whose body the HTTP
            // layer does not send for a HEAD.
            return ok(json!({"status": "ok"}));
        }
        return not_served(req, rest, &segments);
    };
    if let Some(refusal) = unknown_input(route, req) {
        return refusal;
    }
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["health"]) => ok(json!({"status": "ok"})),
        ("GET", ["requests"]) => requests(core, req),
        ("GET", ["requests", id]) => match id.parse().ok().and_then(|id| core.journal().get(id)) {
            Some(entry) => ok(json!(entry)),
            None => error(
                404,
                format!("no journal entry {}", crate::text::echo_bare(id)),
            ),
        },
        ("DELETE", ["requests"]) => {
            core.journal().clear();
            ok(json!({"cleared": true}))
        }
        ("GET", ["notifications"]) => notifications(core, req),
        ("GET", ["notifications", "wait"]) => wait(core, req).await,
        ("GET", ["notifications", id]) => {
            match notification_asked(id).and_then(|id| core.outbox().get(&id)) {
                Some(n) => ok(notification_json(&n)),
                None => no_notification(id),
            }
        }
        ("POST", ["notifications", id, "resend"]) => match notification_asked(id) {
            None => no_notification(id),
            Some(asked) => match core.outbox().resend(&asked) {
                Ok(n) => ok(notification_json(&n)),
                Err(_) if core.outbox().get(&asked).is_none() => no_notification(id),
                Err(e) => error(409, e),
            },
        },
        ("GET", ["clock"]) => ok(clock_view(core)),
        ("POST", ["clock", "advance"]) => advance(core, req).await,
        ("POST", ["clock"]) => set_clock(core, req),
        ("GET", ["state"]) => state(core, req),
        ("GET", ["invariants"]) => invariants(core),
        ("POST", ["reset"]) => reset(core, req),
        ("GET", ["snapshot"]) => snapshot::export(core, req).await,
        ("POST", ["snapshot"]) => snapshot::import(core, req).await,
        ("GET", ["triggers"]) => ok(json!({"triggers": core.triggers()})),
        ("POST", ["trigger", name]) => trigger(core, req, name).await,
        ("GET", ["scenarios"]) => scenarios::list(core, req),
        ("POST", ["scenarios"]) => scenarios::load(core, req).await,
        ("DELETE", ["scenarios"]) => scenarios::remove_all(core, req),
        ("POST", ["scenarios", "explain"]) => scenarios::explain(core, req),
        ("GET", ["scenarios", name]) => scenarios::get(core, req, name),
        ("DELETE", ["scenarios", name]) => scenarios::remove(core, req, name),
        ("GET", ["coverage"]) => coverage::report(core, req),
        ("POST", ["coverage", "reset"]) => coverage::reset(core),
        ("GET", ["operations"]) => operations(core, req),
        ("GET", ["openapi.json"]) => ok(openapi::document(core)),
        ("GET", ["crypto"]) => ok(json!(crate::wire::crypto::account::totals())),
        _ => not_served(req, rest, &segments),
    }
}

/// Every operation of every surface (`?surface=` narrows it); with `?tenant=`, those of the
/// surfaces that tenant's requests reach (its provider's), as coverage narrows its report: a
/// surface it can never reach is refused by coverage's own check ([`Selection::check`]).
///
/// [`Selection::check`]: crate::coverage::report::Selection::check
fn operations(core: &Core, req: &SimRequest) -> SimResponse {
    let wanted = match surface_param(req, &["whalet", "platform", "file", "infinia", "pockyt"]) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let tenant = match known_tenant(core, req, None) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let selection = crate::coverage::report::Selection {
        tenant: tenant.clone(),
        surface: wanted.clone(),
        group: None,
    };
    if let Err(e) = selection.check(core.surface::<crate::coverage::Coverage>().model()) {
        return error(400, e);
    }
    let reaches = |surface: &str| {
        (tenant.as_ref()).is_none_or(|t| Provider::serving(surface) == Some(t.provider))
    };
    let all = crate::api::catalog::operations_for(core, tenant.as_ref());
    let listed: Vec<_> = all
        .into_iter()
        .filter(|op| wanted.as_deref().is_none_or(|w| w == op.surface) && reaches(op.surface))
        .collect();
    ok(json!({"count": listed.len(), "operations": listed}))
}

/// The one check of what a request brings against what its endpoint accepts (the route table in
/// openapi.rs, which also documents it): a query parameter given twice, an unknown one, or an unknown field of a
/// JSON body the endpoint's row lists fields for (or of any body sent to an endpoint that takes
/// none), is a `400` naming it, the endpoint, the accepted names and the nearest one. Ignoring
/// it would answer something else (a misspelt `wait?apicode=` filter waits for any
/// notification; a resend with a body looks as if the body mattered).
fn unknown_input(route: &openapi::Route, req: &SimRequest) -> Option<SimResponse> {
    let pairs = req.query_pairs();
    // A parameter given twice would be read as its first value and the second ignored
    // (`?tenant=a&tenant=b` resetting `a` only): refused like any other input the endpoint
    // cannot take.
    let mut seen = std::collections::HashSet::new();
    if let Some((name, _)) = pairs.iter().find(|(name, _)| !seen.insert(name.as_str())) {
        return Some(error(
            400,
            format!(
                "query parameter {} is given more than once; give it once",
                crate::text::echo(name)
            ),
        ));
    }
    let names = pairs.into_iter().map(|(name, _)| name);
    let unknown = match route.unknown_query(names) {
        Some(unknown) => unknown,
        None => {
            if !route.checks_fields() {
                return None;
            }
            let body = match body_json(req) {
                Ok(body) => body,
                Err(refusal) => return Some(refusal),
            };
            route.unknown_field(body.keys())?
        }
    };
    Some(SimResponse::json_value(400, &unknown.to_json()))
}

/// Adds `<key>Utc` (ISO-8601, UTC) beside each epoch-ms time `key` of `value`'s object (`null`
/// stays `null`), like the clock's `now`/`nowUtc`.
pub(crate) fn add_utc(value: &mut Value, keys: &[&str]) {
    let Some(object) = value.as_object_mut() else {
        return;
    };
    for key in keys {
        let utc = match object.get(*key) {
            Some(Value::Null) => Value::Null,
            Some(v) => match v.as_i64() {
                Some(ms) => json!(format::utc_z(ms)),
                None => continue,
            },
            None => continue,
        };
        object.insert(format!("{key}Utc"), utc);
    }
}

/// `snake_case` keys of `value`'s object (scenario-file shapes echoed back) in camelCase.
pub(crate) fn camel_keys(value: &mut Value) {
    let Some(object) = value.as_object_mut() else {
        return;
    };
    let old = std::mem::take(object);
    *object = old
        .into_iter()
        .map(|(key, v)| {
            let mut camel = String::with_capacity(key.len());
            let mut upper = false;
            for c in key.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    camel.extend(c.to_uppercase());
                    upper = false;
                } else {
                    camel.push(c);
                }
            }
            (camel, v)
        })
        .collect();
}

/// A notification as the control plane answers it: its times also in ISO-8601, its scenario
/// behaviour in camelCase.
fn notification_json(n: &crate::notify::Notification) -> Value {
    let mut value = json!(n);
    add_utc(&mut value, &["createdAt", "nextAttemptAt", "finishedAt"]);
    if let Some(attempts) = value.get_mut("attempts").and_then(Value::as_array_mut) {
        for attempt in attempts {
            add_utc(
                attempt,
                &["virtualTime", "wallTime", "finishedAt", "nextAttemptAt"],
            );
        }
    }
    if let Some(behaviour) = value.get_mut("behaviour") {
        camel_keys(behaviour);
    }
    value
}

/// The methods the control plane serves `segments` with (openapi.rs's route table, asked for
/// each method), `HEAD` beside `GET /__sim/health`.
fn allowed_methods(segments: &[&str]) -> Vec<&'static str> {
    let mut allowed: Vec<&'static str> = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        .into_iter()
        .filter(|m| openapi::route(m, segments).is_some())
        .collect();
    if segments == ["health"] {
        allowed.insert(1, "HEAD");
    }
    allowed
}

/// The one answer for a request the control plane does not serve (openapi.rs lists what it
/// does): a `405` with `Allow` when the path is served with other methods, else a `404`.
fn not_served(req: &SimRequest, rest: &str, segments: &[&str]) -> SimResponse {
    let allowed = allowed_methods(segments);
    if !allowed.is_empty() {
        let allow = allowed.join(", ");
        return SimResponse::json_value(
            405,
            &json!({
                "error": format!(
                    "{PREFIX}{} does not take {}; use {allow}",
                    crate::text::echo_bare(rest),
                    crate::text::echo_bare(&req.method)
                ),
                "hint": "GET /__sim/openapi.json lists every control endpoint",
            }),
        )
        .header("allow", allow);
    }
    let near = near_endpoint(&req.method, segments)
        .map(|path| {
            format!(
                "; did you mean {} {PREFIX}{}?",
                crate::text::echo_bare(&req.method),
                crate::text::echo_bare(&path)
            )
        })
        .unwrap_or_default();
    SimResponse::json_value(
        404,
        &json!({
            "error": format!(
                "no control endpoint {} {PREFIX}{}{near}",
                crate::text::echo_bare(&req.method),
                crate::text::echo_bare(rest)
            ),
            "hint": "GET /__sim/openapi.json lists every control endpoint",
        }),
    )
}

/// The served path `segments` most likely meant, with `method`: the first segment replaced by
/// the nearest first segment of a control endpoint (at most two edits: `request` for
/// `requests`, `triggers/{event}` for `trigger/{event}`) that serves the rest with `method`.
fn near_endpoint(method: &str, segments: &[&str]) -> Option<String> {
    let (first, rest) = segments.split_first()?;
    if first.chars().count() > 64 {
        return None;
    }
    let mut firsts: Vec<&str> = openapi::ROUTES
        .iter()
        .filter_map(|r| r.path.split('/').next())
        .filter(|f| f != first)
        .collect();
    firsts.sort_unstable();
    firsts.dedup();
    firsts
        .into_iter()
        .map(|f| (crate::text::edit_distance(first, f), f))
        .filter(|(d, _)| *d <= 2)
        .filter(|(_, f)| {
            let path: Vec<&str> = std::iter::once(*f).chain(rest.iter().copied()).collect();
            openapi::route(method, &path).is_some()
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| {
            std::iter::once(f)
                .chain(rest.iter().copied())
                .collect::<Vec<_>>()
                .join("/")
        })
}

pub(crate) fn ok(value: Value) -> SimResponse {
    SimResponse::json_value(200, &value)
}

pub fn error(status: u16, message: impl Into<String>) -> SimResponse {
    SimResponse::json_value(status, &json!({"error": message.into()}))
}

pub(crate) fn body_json(req: &SimRequest) -> Result<Map<String, Value>, SimResponse> {
    body_json_or(req).map_err(|why| error(400, why))
}

/// [`body_json`], saying why not in words.
fn body_json_or(req: &SimRequest) -> Result<Map<String, Value>, String> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let map = match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err("the body must be a JSON object".to_owned()),
        Err(e) => {
            return Err(format!(
                "the body is not JSON: {}",
                crate::wire::not_json(&req.body, &e)
            ))
        }
    };
    match crate::json_keys::repeated_key(&req.body).map(|path| crate::json_keys::quoted(&path)) {
        Some(key) => Err(format!(
            "the body gives {key} more than once; give each field once (JSON parsers differ on \
             which value a repeated key keeps)"
        )),
        None => Ok(map),
    }
}

/// `GET /__sim/requests[?surface&tenant&partnerId&apiCode&code&failed&before&limit]`: a page of
/// the journal, newest first, and whether more entries match beyond it.
fn requests(core: &Core, req: &SimRequest) -> SimResponse {
    let filter = JournalFilter {
        surface: match surface_param(req, &crate::journal::SURFACES) {
            Ok(s) => s,
            Err(r) => return r,
        },
        tenant: match known_tenant(core, req, None) {
            Ok(t) => t.map(|t| t.to_string()),
            Err(r) => return r,
        },
        partner_id: match partner_param(core, req) {
            Ok(p) => p,
            Err(r) => return r,
        },
        operation: match one_of(req, "apiCode", "operation", "filter") {
            Ok(o) => o,
            Err(r) => return r,
        },
        code: match filter_param(req, "code") {
            Ok(c) => c,
            Err(r) => return r,
        },
        failed: match bool_param(req, "failed") {
            Ok(failed) => failed,
            Err(r) => return r,
        },
        before: match before_param(req) {
            Ok(before) => before,
            Err(r) => return r,
        },
        limit: match limit_param(req) {
            Ok(limit) => limit,
            Err(r) => return r,
        },
    };
    // Serialized straight from the entries, without an intermediate JSON tree: the listing can
    // be `[journal] max_bytes` long.
    match serde_json::to_vec(&core.journal().query(&filter)) {
        Ok(body) => SimResponse::json(200, body),
        Err(e) => error(500, format!("the journal cannot be serialized: {e}")),
    }
}

/// `GET /__sim/notifications[?tenant&apiCode&status&businessId&after&limit]`: newest first;
/// with `after`, the oldest `limit` after it, oldest first, so that a poller asking after the
/// last one it saw misses none. `more` says whether more match beyond `limit`.
fn notifications(core: &Core, req: &SimRequest) -> SimResponse {
    let filter = match notification_filter(core, req) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let limit = match limit_param(req) {
        Ok(limit) => limit.unwrap_or(usize::MAX),
        Err(r) => return r,
    };
    let (page, more) = core.outbox().page(&filter, limit);
    let list: Vec<Value> = page.iter().map(notification_json).collect();
    ok(json!({"notifications": list, "more": more}))
}

/// The `surface` query parameter: `None` when absent, a `400` listing `known` when it is none of
/// them (a misspelt surface once answered an empty journal, as if nothing had been sent).
fn surface_param(req: &SimRequest, known: &[&str]) -> Result<Option<String>, SimResponse> {
    match req.query_param("surface") {
        Some(s) if !known.contains(&s.as_str()) => Err(error(
            400,
            format!(
                "surface {} is not one of {}",
                crate::text::echo(&s),
                known.join(", ")
            ),
        )),
        surface => Ok(surface),
    }
}

/// A boolean query parameter: `false` when absent, a `400` naming `true` and `false` when it is
/// neither (a `failed=yes` must not list every entry, as if it were no filter).
fn bool_param(req: &SimRequest, name: &str) -> Result<bool, SimResponse> {
    match req.query_param(name).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(error(
            400,
            format!(
                "{name} must be true or false, got {}",
                crate::text::echo(other)
            ),
        )),
    }
}

/// The `before` query parameter of the journal listing: a journal id (entries older than it).
fn before_param(req: &SimRequest) -> Result<Option<u64>, SimResponse> {
    whole_param(req, "before", "a journal id (a non-negative integer)")
}

/// The `limit` query parameter of a listing: `None` when absent, a `400` when it is not a
/// non-negative integer (a `limit=ten` once listed everything) or is past the largest one.
fn limit_param(req: &SimRequest) -> Result<Option<usize>, SimResponse> {
    let limit = whole_param(req, "limit", "a non-negative integer")?;
    // No listing holds more than `usize::MAX` entries: a larger limit is no limit.
    Ok(limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX)))
}

/// A non-negative integer query parameter `name` (`what` says what it is): `None` when absent; a
/// `400` when it is not one, and one giving the maximum (`u64::MAX`) when it is past it (a
/// number that large is not "not a number").
fn whole_param(req: &SimRequest, name: &str, what: &str) -> Result<Option<u64>, SimResponse> {
    let Some(text) = req.query_param(name) else {
        return Ok(None);
    };
    match text.parse::<u64>() {
        Ok(n) => Ok(Some(n)),
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => Err(error(
            400,
            format!(
                "{name} is too large: at most {}, got {}",
                u64::MAX,
                crate::text::echo(&text)
            ),
        )),
        Err(_) => Err(error(
            400,
            format!("{name} must be {what}, got {}", crate::text::echo(&text)),
        )),
    }
}

/// A query parameter with two names (`apiCode` and its synonym `operation`, `timeoutMs` and its
/// older spelling `timeout_ms`): either, or both when they agree; a `400` naming both when they
/// disagree (one silently preferred once filtered on, or waited for, the other's value unseen).
/// `what` is what the parameter is (`filter`, `timeout`), for the message.
fn one_of(
    req: &SimRequest,
    name: &str,
    synonym: &str,
    what: &str,
) -> Result<Option<String>, SimResponse> {
    match (filter_param(req, name)?, filter_param(req, synonym)?) {
        (Some(a), Some(b)) if a != b => Err(error(
            400,
            format!(
                "{name} and {synonym} name the same {what} and disagree ({} and {}); give one",
                crate::text::echo(&a),
                crate::text::echo(&b)
            ),
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// A text filter of a listing or a wait (`apiCode`, `code`, `businessId`, `partnerId`): `None`
/// when absent, a `400` naming it when it is given empty (`apiCode=`, as a script writes it with
/// its variable unset). No operation, code or id is empty, so such a filter would match nothing:
/// an empty list, or a wait that runs to its timeout, where the mistake should be named.
fn filter_param(req: &SimRequest, name: &str) -> Result<Option<String>, SimResponse> {
    match req.query_param(name) {
        Some(value) if value.is_empty() => Err(error(
            400,
            format!("{name} is empty; give a value, or leave {name} out to match any"),
        )),
        value => Ok(value),
    }
}

/// Refuses a notification filter's `apiCode` that names nothing the simulator sends (a
/// request's apiCode, a typo): a wait on it would run to its timeout and a listing would be
/// empty for good. What is sent: every Whalet and whalet-platform notification under its wire
/// apiCode (`[whalet.api_codes]`), Infinia's webhook topic, Pockyt's `payout.<status>`, and any
/// topic the ledger holds.
fn sent_topic(core: &Core, code: &str) -> Result<(), SimResponse> {
    let catalog = crate::api::catalog::build(core.config());
    let mut topics: Vec<String> = catalog.whalet_wire.keys().cloned().collect();
    topics.extend(
        catalog
            .notifications
            .iter()
            .filter(|(channel, _)| *channel == "infinia")
            .map(|(_, name)| name.clone()),
    );
    topics.extend(
        <crate::store::pockyt::PayoutStatus as crate::store::Words>::WORDS
            .iter()
            .map(|status| format!("payout.{status}")),
    );
    if topics.iter().any(|t| t == code) {
        return Ok(());
    }
    let held = NotificationFilter {
        api_code: Some(code.to_owned()),
        ..NotificationFilter::default()
    };
    if !core.outbox().page(&held, 1).0.is_empty() {
        return Ok(());
    }
    topics.sort();
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let near = crate::text::nearest(code, &names)
        .map(|near| format!("did you mean {near:?}? "))
        .unwrap_or_default();
    Err(error(
        400,
        format!(
            "apiCode {} is no notification the simulator sends (a request's apiCode? its \
             notification has its own, e.g. userOnboardingApply's is userOnboardingResultNotify); \
             {near}the notifications: {}",
            crate::text::echo(code),
            names.join(", ")
        ),
    ))
}

/// The ledger id of the notification a path names (`ntf_000042`, `ntf_42` or `42`: the forms
/// `after=` takes, [`NotificationFilter::id_asked`]), None when it names none.
fn notification_asked(id: &str) -> Option<String> {
    NotificationFilter::id_asked(id)
}

/// 404 for a notification id the ledger does not hold (or that is no id at all).
fn no_notification(id: &str) -> SimResponse {
    error(
        404,
        format!(
            "no notification {} (a notification is named by its id, ntf_000042, or its \
             number, 42)",
            crate::text::echo_bare(id)
        ),
    )
}

fn notification_filter(core: &Core, req: &SimRequest) -> Result<NotificationFilter, SimResponse> {
    let tenant = ledger_tenant(core, req)?;
    let status = req.query_param("status");
    if let Some(s) = &status {
        if Status::parse(s).is_none() {
            let known = <Status as crate::store::Words>::WORDS.join(", ");
            return Err(error(
                400,
                format!(
                    "status must be one of {known}, got {}",
                    crate::text::echo(s)
                ),
            ));
        }
    }
    let after = match req.query_param("after") {
        None => None,
        Some(a) => match NotificationFilter::seq_asked(&a) {
            Some(n) => Some(n),
            None => {
                return Err(error(
                    400,
                    format!(
                        "after must be a notification id (ntf_000042) or its number, got {}",
                        crate::text::echo(&a)
                    ),
                ))
            }
        },
    };
    let api_code = filter_param(req, "apiCode")?;
    if let Some(code) = &api_code {
        sent_topic(core, code)?;
    }
    Ok(NotificationFilter {
        tenant,
        api_code,
        status,
        business_id: filter_param(req, "businessId")?,
        after,
    })
}

/// Blocks until a matching notification is delivered, exhausted or suppressed (408 after
/// `timeoutMs`, or its older spelling `timeout_ms`, default 10 s, at most 120 s; 503 at once
/// when the simulator begins to stop, so that the wait neither holds the shutdown nor is cut
/// off unanswered). It does not move the clock.
async fn wait(core: &Core, req: &SimRequest) -> SimResponse {
    let filter = match notification_filter(core, req) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Some(status) = filter.status.as_deref().and_then(Status::parse) {
        if !status.is_final() {
            return error(
                400,
                "wait returns finished notifications: status must be delivered, exhausted or suppressed",
            );
        }
    }
    let timeout = match one_of(req, "timeoutMs", "timeout_ms", "timeout") {
        Ok(t) => t,
        Err(r) => return r,
    };
    let timeout_ms = match timeout.map(|t| t.parse::<u64>()) {
        None => WAIT_DEFAULT_MS,
        Some(Ok(t)) if t <= WAIT_MAX_MS => t,
        Some(_) => {
            return error(
                400,
                format!("timeoutMs must be an integer from 0 to {WAIT_MAX_MS}"),
            )
        }
    };
    let found = tokio::select! {
        biased;
        found = core.outbox().wait(&filter, Duration::from_millis(timeout_ms)) => found,
        () = crate::http::stopping() => return error(
            503,
            "the simulator is stopping: no matching notification was delivered or exhausted \
             before it did; wait again once it is serving",
        ),
    };
    match found {
        Some(n) => ok(notification_json(&n)),
        None => error(
            408,
            format!("no matching notification was delivered or exhausted within {timeout_ms} ms"),
        ),
    }
}

pub fn clock_view(core: &Core) -> Value {
    let now = core.clock().now();
    let pending: Vec<Value> = core
        .clock()
        .pending()
        .iter()
        .map(|timer| {
            let mut timer = json!(timer);
            add_utc(&mut timer, &["due"]);
            timer
        })
        .collect();
    json!({
        "mode": core.clock().mode(),
        "now": now,
        "nowText": format::china(now),
        "nowUtc": format::utc_z(now),
        "pending": pending,
        "inFlight": core.clock().in_flight(),
    })
}

async fn advance(core: &Core, req: &SimRequest) -> SimResponse {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let ms = match advance_ms(&body) {
        Ok(ms) => ms,
        Err(why) => return error(400, why),
    };
    let done = core
        .clock()
        .advance_until(ms, crate::http::stopping())
        .await;
    let mut view = clock_view(core);
    view["ran"] = json!(done.ran);
    view["movedMs"] = json!(done.moved);
    view["stopped"] = json!(done.stopped.map(Stopped::as_str));
    if done.stopped != Some(Stopped::Stop) {
        return ok(view);
    }
    // Answered at once, so that the advance neither holds the shutdown (an attempt to a
    // receiver that never answers) nor is cut off unanswered, as a notification wait is.
    view["error"] = json!(format!(
        "the simulator is stopping: the advance stopped after {} of the {ms} virtual ms asked \
         for, at {} ({} timers ran); advance again once it is serving",
        done.moved,
        format::utc_z(core.clock().now()),
        done.ran
    ));
    SimResponse::json_value(503, &view)
}

/// How far `POST /__sim/clock/advance` moves the clock, in ms, from its body: `seconds` (a
/// number) or `ms` (an integer), each from 0 to [`MAX_ADVANCE_MS`]. Each way of getting it wrong
/// (neither, both, a value of another type, a fraction of a ms, out of range) has its own
/// message, naming the field given and what it takes.
fn advance_ms(body: &Map<String, Value>) -> Result<i64, String> {
    let max_s = MAX_ADVANCE_SECONDS;
    let seconds_range = format!("a number from 0 to {max_s}");
    let ms_range = format!("an integer from 0 to {MAX_ADVANCE_MS}");
    let shown =
        |v: &Value| crate::text::bound(&v.to_string(), crate::text::ECHO_BYTES).into_owned();
    match (body.get("seconds"), body.get("ms")) {
        (None, None) => Err(format!(
            "give how far to move: {{\"seconds\": n}} ({seconds_range}) or {{\"ms\": n}} ({ms_range})"
        )),
        (Some(_), Some(_)) => Err(format!(
            "give seconds or ms, not both: {{\"seconds\": n}} ({seconds_range}) or {{\"ms\": n}} ({ms_range})"
        )),
        (Some(s), None) => match s.as_f64() {
            Some(s) if (0.0..=max_s as f64).contains(&s) => Ok((s * 1000.0).round() as i64),
            Some(_) => Err(format!(
                "seconds is out of range: give {seconds_range}, got {}",
                shown(s)
            )),
            None => Err(format!("seconds must be {seconds_range}, got {}", shown(s))),
        },
        (None, Some(ms)) => match (ms.as_i64(), ms.as_f64()) {
            (Some(n), _) if (0..=MAX_ADVANCE_MS).contains(&n) => Ok(n),
            (Some(_), _) => Err(format!(
                "ms is out of range: give {ms_range}, got {}",
                shown(ms)
            )),
            // JSON does not tell 1000 from 1000.0 or 1e3: a whole number is one however written.
            (None, Some(f)) if f.fract() == 0.0 && (0.0..=MAX_ADVANCE_MS as f64).contains(&f) => {
                Ok(f as i64)
            }
            (None, Some(f)) if f.fract() != 0.0 => Err(format!(
                "ms must be a whole number of milliseconds ({ms_range}), got {}; give a fraction of a second as seconds",
                shown(ms)
            )),
            (None, Some(_)) => Err(format!(
                "ms is out of range: give {ms_range}, got {}",
                shown(ms)
            )),
            (None, None) => Err(format!("ms must be {ms_range}, got {}", shown(ms))),
        },
    }
}

fn set_clock(core: &Core, req: &SimRequest) -> SimResponse {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let scale_given = body.contains_key("scale");
    let mode = match serde_json::from_value::<ClockMode>(Value::Object(body)) {
        Ok(mode) => mode,
        Err(e) => return error(400, format!("expected {{\"mode\": \"real\"|\"manual\"}} or {{\"mode\": \"scaled\", \"scale\": 0.01}}: {e}")),
    };
    if scale_given && !matches!(mode, ClockMode::Scaled { .. }) {
        return error(
            400,
            "scale applies only to {\"mode\": \"scaled\"}; the real and manual clocks take no scale",
        );
    }
    let mode = match mode.validate() {
        Ok(mode) => mode,
        Err(e) => return error(400, e),
    };
    core.clock().set_mode(mode);
    ok(clock_view(core))
}

/// The string field `name` of a JSON body: `None` when it is absent, a `400` naming it when it
/// is there but not a string (`null`, a number, an object…), so a value of the wrong type is
/// never taken for "not given" (a `{"tenant": null}` reset once reset every tenant).
pub(crate) fn body_str<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, SimResponse> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(error(
            400,
            format!(
                "{name} must be a string, got {}",
                crate::text::bound(&other.to_string(), crate::text::ECHO_BYTES)
            ),
        )),
    }
}

/// The `tenant` of a request: the query parameter, else the body's field (which must be a
/// string); `None` when neither is given. Anything that is not `provider:id` is a `400`, and so
/// are a query and a body that name different tenants (which one meant is not ours to guess).
pub(crate) fn tenant_param(
    req: &SimRequest,
    body: Option<&Map<String, Value>>,
) -> Result<Option<TenantId>, SimResponse> {
    let query = req
        .query_param("tenant")
        .map(|t| parse_tenant(&t))
        .transpose()?;
    let body = match body {
        Some(body) => body_str(body, "tenant")?.map(parse_tenant).transpose()?,
        None => None,
    };
    match (query, body) {
        (Some(q), Some(b)) if q != b => Err(error(
            400,
            format!(
                "?tenant={} and the body's tenant {} disagree; give one",
                crate::text::echo(&q.to_string()),
                crate::text::echo(&b.to_string())
            ),
        )),
        (q, b) => Ok(q.or(b)),
    }
}

/// The providers a tenant can belong to, as `provider:id` spells them.
const PROVIDERS: &str = "whalet, infinia or pockyt";

/// A `provider:id` tenant. A refusal says which part is wrong: no `:`, an empty id, or a
/// provider that is none of [`PROVIDERS`] (the one meant named when only its case differs;
/// `platform:` told that platform requests belong to the partner's `whalet:` tenant).
fn parse_tenant(text: &str) -> Result<TenantId, SimResponse> {
    if let Some(t) = TenantId::parse(text) {
        return Ok(t);
    }
    let shown = crate::text::echo(text);
    let why = match text.split_once(':') {
        None => format!("(e.g. whalet:202400000000001), got {shown}"),
        Some((_, "")) => format!("with an id after the colon, got {shown}"),
        Some((provider, id)) => {
            let lower = provider.to_ascii_lowercase();
            let id = crate::text::echo_bare(id);
            match lower.as_str() {
                _ if Provider::named(&lower).is_some() => {
                    format!("with the provider in lower case ({lower}:{id}), got {shown}")
                }
                "platform" => format!(
                    "with provider {PROVIDERS}, got {shown}: platform requests belong to the \
                     partner's Whalet tenant, whalet:{id}"
                ),
                _ => {
                    format!("with provider {PROVIDERS} (e.g. whalet:202400000000001), got {shown}")
                }
            }
        }
    };
    Err(error(400, format!("tenant must be provider:id {why}")))
}

/// [`tenant_param`], which must also name a configured tenant: a `404` listing them otherwise,
/// as `/__sim/state` answers (an empty list for a tenant that does not exist reads as "nothing
/// happened").
pub(crate) fn known_tenant(
    core: &Core,
    req: &SimRequest,
    body: Option<&Map<String, Value>>,
) -> Result<Option<TenantId>, SimResponse> {
    let tenant = tenant_param(req, body)?;
    match tenant {
        Some(t) if !core.store().has_tenant(&t) => Err(no_tenant(core, &t)),
        tenant => Ok(tenant),
    }
}

/// The notification ledger's `tenant` filter: `provider:id` ([`known_tenant`]) or, as the ledger
/// also matches, a bare id, which must be some configured tenant's (a `404` otherwise).
fn ledger_tenant(core: &Core, req: &SimRequest) -> Result<Option<String>, SimResponse> {
    match req.query_param("tenant") {
        Some(id) if !id.is_empty() && !id.contains(':') => bare_id(core, "tenant", id).map(Some),
        _ => Ok(known_tenant(core, req, None)?.map(|t| t.to_string())),
    }
}

/// The journal's `partnerId` filter, a tenant's bare id ([`bare_id`]).
fn partner_param(core: &Core, req: &SimRequest) -> Result<Option<String>, SimResponse> {
    filter_param(req, "partnerId")?
        .map(|id| bare_id(core, "partnerId", id))
        .transpose()
}

/// A filter's bare tenant id (`param`): it must be one configured tenant's — a `404` when none
/// has it, as an unknown `tenant` is (an empty list for an id that does not exist would read as
/// "nothing was sent"), and a `400` when tenants of two providers share it, naming them (the
/// filter would mix their traffic; `provider:id` says which).
fn bare_id(core: &Core, param: &str, id: String) -> Result<String, SimResponse> {
    let holders: Vec<String> = core
        .store()
        .tenant_ids()
        .iter()
        .filter(|t| t.id == id)
        .map(ToString::to_string)
        .collect();
    match holders.len() {
        0 => Err(unknown_tenant(
            core,
            &format!("has id {}", crate::text::echo(&id)),
        )),
        1 => Ok(id),
        _ => Err(error(
            400,
            format!(
                "{param} {} is the id of {}: give the tenant as provider:id (tenant={})",
                crate::text::echo(&id),
                holders.join(" and "),
                holders[0]
            ),
        )),
    }
}

/// The `404` for tenant `t`, which does not exist, naming those that do. The tenant is quoted,
/// as the client wrote it: `"pockyt:202333 "`, padding and all, is not the `pockyt:202333` the
/// list names.
fn no_tenant(core: &Core, t: &TenantId) -> SimResponse {
    let named = t.to_string();
    unknown_tenant(
        core,
        &format!("{} is configured", crate::text::echo(&named)),
    )
}

/// The `404` for a tenant that does not exist: `no tenant {what} (configured: …)`.
fn unknown_tenant(core: &Core, what: &str) -> SimResponse {
    error(404, core.store().no_tenant(what))
}

fn state(core: &Core, req: &SimRequest) -> SimResponse {
    let wanted = match known_tenant(core, req, None) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut tenants = Map::new();
    for id in core.store().tenant_ids() {
        if wanted.as_ref().is_some_and(|w| w != &id) {
            continue;
        }
        // The store's types in the control plane's camelCase view (the snapshot keeps serde's).
        if let Some(view) = core.store().read_tenant(&id, camel::to_value) {
            tenants.insert(id.to_string(), view.unwrap_or(Value::Null));
        }
    }
    if let Some(w) = wanted.filter(|_| tenants.is_empty()) {
        // Removed since it was checked (an import or a reset of all state in between).
        return no_tenant(core, &w);
    }
    ok(json!({"tenants": tenants}))
}

fn invariants(core: &Core) -> SimResponse {
    let results = core.store().check_invariants();
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

fn reset(core: &Core, req: &SimRequest) -> SimResponse {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let tenant = match known_tenant(core, req, Some(&body)) {
        Ok(t) => t,
        Err(r) => return r,
    };
    // While no unit of work runs (`crate::cut`): none is left half in the old state.
    core.clock().cut().still(|| {
        if tenant.is_none() {
            // A running advance stops where it is rather than go on over the emptied state; its
            // answer says so. A tenant's reset leaves it running: other tenants' timers fall due.
            core.clock().end_advances_by(Stopped::Reset);
        }
        core.store().reset(tenant.as_ref());
        core.outbox().reset(tenant.as_ref());
        core.scenarios().reset(tenant.as_ref());
        // What a tenant starts with is back at once (FIDELITY.md: credited again after a
        // reset), not at its next touch: the state and a snapshot show it, and a refused
        // trigger does not write it.
        let now = core.clock().now();
        crate::api::pockyt::ensure_tenants(core.store(), core.pockyt(), now, tenant.as_ref());
        crate::api::infinia::ensure_tenants(core.store(), core.infinia(), now, tenant.as_ref());
        match &tenant {
            None => {
                core.journal().clear();
                core.clock().cancel_matching("");
                core.authorizations().clear();
            }
            Some(t) => core.cancel_tenant_work(t),
        }
    });
    // The data directory, if any, rewrites every table at its next commit.
    crate::persist::sqlite::state_replaced(core);
    ok(json!({"reset": tenant.map_or("all".to_owned(), |t| t.to_string())}))
}

async fn trigger(core: &Core, req: &SimRequest, name: &str) -> SimResponse {
    // Every refusal of a trigger starts with its name, its body's too.
    let params = match body_json_or(req) {
        Ok(b) => b,
        Err(why) => return error(400, format!("{}: {why}", crate::text::echo_bare(name))),
    };
    match core.fire(name, params, None).await {
        Ok(result) => ok(json!({"trigger": name, "result": result})),
        Err(e) => error(e.status(), e.message()),
    }
}
