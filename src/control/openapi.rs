//! The control plane's route table and the OpenAPI 3 document generated from it
//! (`GET /__sim/openapi.json`). The table is the single source: [`super::handle`] serves only
//! routes listed here ([`documented`]), and the document lists exactly these routes, so what is
//! documented and what is served cannot drift apart. Adding a control endpoint = one arm in
//! `control/mod.rs` + one row here.

use serde_json::{json, Map, Value};

use crate::clock::{MAX_ADVANCE_MS, MAX_SCALE, MIN_SCALE};
use crate::core::Core;

/// One control endpoint. `path` is relative to `/__sim/`; `{name}` is one path segment.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Query parameters: name, description.
    pub query: &'static [(&'static str, &'static str)],
    /// What the request body is, when it has one.
    pub body: Option<&'static str>,
    /// The fields of a JSON-object body, when the control plane checks them before the endpoint
    /// runs (any other field is refused); `None` = the endpoint reads its body itself (scenario
    /// files, trigger parameters: `body` is set) or takes none (`body` is `None`: any field is
    /// refused, an empty body or `{}` is fine).
    pub fields: Option<&'static [(&'static str, &'static str)]>,
}

const TENANT: (&str, &str) = ("tenant", "provider:id, e.g. whalet:202400000000001");

/// Every control endpoint.
pub const ROUTES: &[Route] = &[
    Route { method: "GET", path: "health", tag: "health", summary: "200 {\"status\":\"ok\"} once ready", query: &[], body: None, fields: None },
    Route { method: "GET", path: "openapi.json", tag: "health", summary: "This document", query: &[], body: None, fields: None },
    Route { method: "GET", path: "operations", tag: "health", summary: "Every operation of every surface: its surface, the name a partner uses (after configured renames), the request that reaches it, its fields, an example body and what it needs, in the names of the contract overlay in force (the default one, or with `tenant` that tenant's)", query: &[("surface", "whalet, platform, file, infinia or pockyt"), ("tenant", "provider:id: fields and examples through that tenant's contract overlay")], body: None, fields: None },
    Route { method: "GET", path: "requests", tag: "journal", summary: "The request journal, newest first: every request answered (decrypted), its reply, code, deciding scenario rule; fired triggers appear as surface `trigger`. At most `[journal] max_bytes` in all; a field longer than `[journal] max_field_bytes` ends with `… N more bytes`", query: &[("surface", "whalet, platform, infinia, pockyt, file or trigger (SFTP uploads are infinia and platform entries)"), TENANT, ("partnerId", "the tenant's bare id"), ("apiCode", "operation (apiCode or path)"), ("operation", "same as apiCode (both given must agree)"), ("code", "result code"), ("failed", "true: only failures (any code but SUCCESS, PROCESSING, SUC-200, 000100 or OK, or HTTP >= 400; each entry's `failed`)"), ("before", "only entries older than this journal id (the next page)"), ("limit", "at most this many; `more` says whether more match")], body: None, fields: None },
    Route { method: "GET", path: "requests/{id}", tag: "journal", summary: "One journal entry", query: &[], body: None, fields: None },
    Route { method: "DELETE", path: "requests", tag: "journal", summary: "Empties the journal", query: &[], body: None, fields: None },
    Route { method: "GET", path: "notifications", tag: "notifications", summary: "The delivery ledger, newest first: every notification with each attempt (time, HTTP status, latency, response excerpt, verdict)", query: &[TENANT, ("apiCode", "notification apiCode / topic"), ("status", "queued, pending, delivered, exhausted, suppressed"), ("businessId", "the business object"), ("after", "only notifications after this id (ntf_000012 or 12)"), ("limit", "at most this many")], body: None, fields: None },
    Route { method: "GET", path: "notifications/wait", tag: "notifications", summary: "Waits (wall time, bounded) until a matching notification is delivered, exhausted or suppressed; 408 on timeout, 503 when the simulator stops meanwhile", query: &[TENANT, ("apiCode", "notification apiCode"), ("status", "final status wanted"), ("businessId", "the business object"), ("after", "only notifications after this id"), ("timeoutMs", "wall ms to wait, default 10000, at most 120000"), ("timeout_ms", "same as timeoutMs (the older spelling); both given must agree")], body: None, fields: None },
    Route { method: "GET", path: "notifications/{id}", tag: "notifications", summary: "One notification and its attempts", query: &[], body: None, fields: None },
    Route { method: "POST", path: "notifications/{id}/resend", tag: "notifications", summary: "Sends a delivered or exhausted notification again (new series, same requestNo)", query: &[], body: None, fields: None },
    Route { method: "GET", path: "clock", tag: "clock", summary: "Mode, virtual now (epoch ms, China time, UTC) and pending timers", query: &[], body: None, fields: None },
    Route { method: "POST", path: "clock/advance", tag: "clock", summary: "Moves virtual time forward, running every timer that falls due in order; the answer says how far it moved (movedMs) and why it stopped early (stopped: reset, import, end: virtual time ends, shutdown), if it did", query: &[], body: Some("{\"seconds\": n} or {\"ms\": n}"), fields: Some(&[("seconds", "virtual seconds to move (a number)"), ("ms", "virtual milliseconds to move (an integer)")]) },
    Route { method: "POST", path: "clock", tag: "clock", summary: "Switches the clock mode, keeping the virtual time", query: &[], body: Some("{\"mode\": \"real\"|\"manual\"} or {\"mode\": \"scaled\", \"scale\": 0.01}"), fields: Some(&[("mode", "real, manual or scaled"), ("scale", "wall seconds per virtual second (scaled only)")]) },
    Route { method: "GET", path: "state", tag: "state", summary: "Per tenant: entities, ledger (postings and balances), sequences", query: &[TENANT], body: None, fields: None },
    Route { method: "GET", path: "crypto", tag: "health", summary: "The CPU time RSA and AES calls took on the server's threads: {\"accounting\", \"calls\", \"cpuNs\", \"sampleOneIn\", \"strata\", \"processCpuNs\"}, estimated from one call in eight timed, or one in N with `serve --account-crypto=N` (per stratum of primitive and size: calls, sampled, sampledNs), counted only when started with `serve --account-crypto` (accounting false and zero counts otherwise); the bench sets it beside the server's whole CPU time, `processCpuNs` (the process's CPU clock, served whether or not the crypto is counted)", query: &[], body: None, fields: None },
    Route { method: "GET", path: "invariants", tag: "state", summary: "Whether every tenant's ledger balances", query: &[], body: None, fields: None },
    Route { method: "POST", path: "reset", tag: "state", summary: "Empties all state, or with `tenant` one tenant's: its entities, ledger, notifications, scenario counters and random draws, outages `sim.notify.down` started, pending timers and seller authorization links. A full reset also empties the request journal; a tenant's reset leaves the journal as it is (that tenant's entries too). Loaded scenarios stay", query: &[TENANT], body: Some("optional {\"tenant\": \"provider:id\"}"), fields: Some(&[TENANT]) },
    Route { method: "GET", path: "snapshot", tag: "state", summary: "The state as one versioned JSON document (docs/PERSISTENCE.md): every tenant's entities, ledger, requestNo memory, idempotency records and files; the delivery ledger with pending due times; the virtual time. Export → import → export gives the same bytes", query: &[TENANT], body: None, fields: None },
    Route { method: "POST", path: "snapshot", tag: "state", summary: "Imports a snapshot, replacing all state (or only that tenant's); 400 names the problem (not a snapshot, newer schema version, bad field). Larger than `[server] control_body_limit_bytes`? Start with `serve --snapshot FILE`", query: &[TENANT, ("file", "the name to use in error messages")], body: Some("a snapshot document (GET /__sim/snapshot)"), fields: None },
    Route { method: "GET", path: "triggers", tag: "triggers", summary: "Every externally caused event that can be fired, with its parameters", query: &[], body: None, fields: None },
    Route { method: "POST", path: "trigger/{event}", tag: "triggers", summary: "Fires an external event; 404 unknown event, 400 bad parameters, 422 refused by the event", query: &[], body: Some("the event's parameters as a JSON object: strings, or numbers where the event takes a number (e.g. `count`)"), fields: None },
    Route { method: "GET", path: "scenarios", tag: "scenarios", summary: "Loaded scenarios in load order (with their rules, timeline, fired events, outages)", query: &[("tenant", "only scenarios that apply to this tenant (provider:id); `*`: only those loaded for every tenant")], body: None, fields: None },
    Route { method: "POST", path: "scenarios", tag: "scenarios", summary: "Loads a scenario (TOML, or JSON of the same shape); replaces one with the same name and tenant; 400 names the line and reason", query: &[("tenant", "scope it to this tenant (overrides the file's tenant)"), ("file", "the name to use in error messages")], body: Some("a scenario file (docs/SCENARIOS.md)"), fields: None },
    Route { method: "DELETE", path: "scenarios", tag: "scenarios", summary: "Removes every scenario (or those scoped to one tenant, or with `?tenant=*` those loaded for every tenant) and cancels their timelines", query: &[("tenant", "only scenarios scoped to this tenant (provider:id); `*`: only those loaded for every tenant")], body: None, fields: None },
    Route { method: "POST", path: "scenarios/explain", tag: "scenarios", summary: "Which rule would decide an operation now, and its decision, without counting it", query: &[], body: Some("{\"surface\": \"whalet\", \"tenant\": \"whalet:...\", \"operation\": \"connectivity\", \"fields\": {...}}"), fields: Some(&[("surface", "whalet, platform, infinia or pockyt"), TENANT, ("operation", "apiCode or path"), ("fields", "the decrypted business fields (any JSON object)")]) },
    Route { method: "GET", path: "coverage", tag: "coverage", summary: "Integration coverage (docs/COVERAGE.md): every item the simulator can produce (sync codes per operation, envelope errors, notification delivery outcomes, state changes) grouped surface → group → operation, with hit counts, exercised share and a hint for each", query: &[TENANT, ("surface", "whalet, platform, file, infinia or pockyt"), ("group", "an operation group, e.g. payout; a name several surfaces have needs surface")], body: None, fields: None },
    Route { method: "POST", path: "coverage/reset", tag: "coverage", summary: "Starts a new coverage measurement: every hit count back to zero", query: &[], body: None, fields: None },
    Route { method: "GET", path: "scenarios/{name}", tag: "scenarios", summary: "One loaded scenario", query: &[("tenant", "its tenant scope, when several share the name")], body: None, fields: None },
    Route { method: "DELETE", path: "scenarios/{name}", tag: "scenarios", summary: "Removes one scenario and cancels its timeline", query: &[("tenant", "its tenant scope, when several share the name")], body: None, fields: None },
];

fn matches(template: &str, segments: &[&str]) -> bool {
    let parts: Vec<&str> = template.split('/').collect();
    parts.len() == segments.len()
        && parts
            .iter()
            .zip(segments)
            .all(|(p, s)| (p.starts_with('{') && p.ends_with('}')) || p == s)
}

/// The documented control endpoint `method` + `segments` (after `/__sim/`) names, if any; a
/// literal segment wins over a `{placeholder}` (`notifications/wait` is not `notifications/{id}`).
pub fn route(method: &str, segments: &[&str]) -> Option<&'static Route> {
    ROUTES
        .iter()
        .filter(|r| r.method == method && matches(r.path, segments))
        .min_by_key(|r| r.path.matches('{').count())
}

/// Whether `method` + `segments` (after `/__sim/`) is a documented control endpoint.
pub fn documented(method: &str, segments: &[&str]) -> bool {
    route(method, segments).is_some()
}

/// What the control plane refuses before an endpoint runs: a query parameter or body field
/// the endpoint does not accept (a silently ignored misspelt filter answers something else).
#[derive(Debug, Clone, PartialEq)]
pub struct Unknown {
    /// `query parameter` or `field`.
    pub kind: &'static str,
    pub name: String,
    /// `GET /__sim/notifications/wait`.
    pub endpoint: String,
    pub accepted: Vec<&'static str>,
    pub nearest: Option<&'static str>,
}

impl Unknown {
    fn new(kind: &'static str, name: &str, route: &Route, accepted: Vec<&'static str>) -> Self {
        Unknown {
            kind,
            name: crate::text::bound(name, crate::text::ECHO_BYTES).into_owned(),
            endpoint: format!("{} {}{}", route.method, super::PREFIX, route.path),
            nearest: crate::text::nearest(name, &accepted),
            accepted,
        }
    }

    pub fn message(&self) -> String {
        let place = match self.kind {
            "field" => format!("in the JSON body of {}", self.endpoint),
            _ => format!("for {}", self.endpoint),
        };
        let mut text = format!("unknown {} `{}` {place}", self.kind, self.name);
        match self.nearest {
            Some(n) => text.push_str(&format!("; did you mean `{n}`?")),
            None => text.push('.'),
        }
        if self.accepted.is_empty() {
            text.push_str(&format!(" It accepts no {}s.", self.kind));
        } else {
            let list: Vec<String> = self.accepted.iter().map(|a| format!("`{a}`")).collect();
            text.push_str(&format!(" Accepted: {}.", list.join(", ")));
        }
        text
    }

    pub fn to_json(&self) -> Value {
        json!({
            "error": self.message(),
            "unknown": self.name,
            "in": if self.kind == "field" { "body" } else { "query" },
            "endpoint": self.endpoint,
            "accepted": self.accepted,
            "didYouMean": self.nearest,
        })
    }
}

impl Route {
    /// The first query parameter this endpoint does not accept, if any.
    pub fn unknown_query(&self, names: impl IntoIterator<Item = String>) -> Option<Unknown> {
        let accepted: Vec<&'static str> = self.query.iter().map(|(n, _)| *n).collect();
        names
            .into_iter()
            .find(|n| !accepted.contains(&n.as_str()))
            .map(|n| Unknown::new("query parameter", &n, self, accepted))
    }

    /// Whether the control plane checks this endpoint's body fields before it runs: it lists
    /// them, or it takes no body at all (so no field is accepted).
    pub fn checks_fields(&self) -> bool {
        self.fields.is_some() || self.body.is_none()
    }

    /// The first body field this endpoint does not accept, if it checks its body's fields.
    pub fn unknown_field<'a>(
        &self,
        names: impl IntoIterator<Item = &'a String>,
    ) -> Option<Unknown> {
        if !self.checks_fields() {
            return None;
        }
        let accepted: Vec<&'static str> = self
            .fields
            .unwrap_or_default()
            .iter()
            .map(|(n, _)| *n)
            .collect();
        names
            .into_iter()
            .find(|n| !accepted.contains(&n.as_str()))
            .map(|n| Unknown::new("field", n, self, accepted))
    }
}

/// The OpenAPI 3.0 document of the whole control plane.
pub fn document(core: &Core) -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let path = format!("{}{}", super::PREFIX, route.path);
        let mut parameters: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| path_param(core, name))
            .collect();
        parameters.extend(route.query.iter().map(|(name, description)| {
            json!({"name": name, "in": "query", "required": false, "description": description, "schema": query_schema(name)})
        }));
        let mut op = json!({
            "operationId": operation_id(route),
            "tags": [route.tag],
            "summary": route.summary,
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                "default": {"description": "An error: {\"error\": \"what was wrong\"}", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if let Some(body) = route.body {
            let mut schema = json!({"type": "object", "description": body});
            if let Some(fields) = route.fields {
                let properties: Map<String, Value> = fields
                    .iter()
                    .map(|(name, description)| {
                        let mut field = field_schema(name);
                        field["description"] = json!(description);
                        ((*name).to_owned(), field)
                    })
                    .collect();
                schema["properties"] = Value::Object(properties);
                schema["additionalProperties"] = json!(false);
            }
            match required_fields(route) {
                Required::All([]) => {}
                Required::All(names) => schema["required"] = json!(names),
                Required::OneOf(names) => {
                    schema["oneOf"] = names
                        .iter()
                        .map(|name| json!({"required": [name]}))
                        .collect();
                }
            }
            if route.path == "trigger/{event}" {
                // The event's parameters (`crate::trigger::check_params`): non-empty strings, and
                // `count`, a whole number from 1, as a number or its decimal text.
                schema["properties"] = json!({"count": {
                    "description": "how many notifications a burst sends (events that take it)",
                    "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^[0-9]+$"}],
                }});
                schema["additionalProperties"] = json!({"type": "string", "minLength": 1});
            }
            let mut content = json!({"application/json": {"schema": schema}});
            if route.path == "scenarios" {
                content["application/toml"] =
                    json!({"schema": {"type": "string", "minLength": 1, "description": body}});
            }
            op["requestBody"] = json!({"required": body_required(route), "content": content});
        }
        if route.path == "health" {
            // Open even when an admin token is set (readiness probes carry none).
            op["security"] = json!([]);
        }
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "whalet-sim control plane",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Plain JSON under /__sim/, no envelope: journal, deliveries, clock, state, reset, triggers, scenarios.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The admin token (`[server] admin_token`, `serve --admin-token`, WHALET_SIM_ADMIN_TOKEN) as `Authorization: Bearer <token>`; without it, or with another, every endpoint but GET /__sim/health answers 401. Not needed when the simulator runs without an admin token"},
                "dashboardCookie": {"type": "apiKey", "in": "cookie", "name": super::guard::COOKIE, "description": "The cookie the dashboard sets when opened once as /?token=<token> (the token in hex)"},
            },
        },
        "security": security(core),
    })
}

/// What the whole document requires (GET /__sim/health overrides it with none): the admin token
/// when one is set; without one, nothing (`{}`), though a token sent is not refused.
fn security(core: &Core) -> Value {
    match core.config().server.admin_token() {
        Some(_) => json!([{"bearer": []}, {"dashboardCookie": []}]),
        None => json!([{}, {"bearer": []}]),
    }
}

/// Which body fields an endpoint needs: all of these, or exactly one of these.
enum Required {
    All(&'static [&'static str]),
    OneOf(&'static [&'static str]),
}

/// The fields an endpoint refuses a body without (its handler's checks, written down).
fn required_fields(route: &Route) -> Required {
    match (route.method, route.path) {
        ("POST", "clock") => Required::All(&["mode"]),
        ("POST", "clock/advance") => Required::OneOf(&["seconds", "ms"]),
        ("POST", "scenarios/explain") => Required::All(&["surface", "tenant", "operation"]),
        _ => Required::All(&[]),
    }
}

/// Whether the endpoint refuses an empty body: every one with required fields, and the
/// documents (a scenario file, a snapshot). A reset's tenant and a trigger's parameters are
/// optional (an event may take none).
fn body_required(route: &Route) -> bool {
    match required_fields(route) {
        Required::All([]) => {
            matches!(
                (route.method, route.path),
                ("POST", "scenarios" | "snapshot")
            )
        }
        _ => true,
    }
}

/// The schema of a checked body field, by its name. The bounds are the constants the handlers
/// check (a client generated from the document must not send what the endpoint refuses).
fn field_schema(name: &str) -> Value {
    match name {
        "seconds" => json!({"type": "number", "minimum": 0, "maximum": super::MAX_ADVANCE_SECONDS}),
        "ms" => json!({"type": "integer", "minimum": 0, "maximum": MAX_ADVANCE_MS}),
        "mode" => json!({"type": "string", "enum": ["real", "manual", "scaled"]}),
        "scale" => json!({"type": "number", "minimum": MIN_SCALE, "maximum": MAX_SCALE}),
        "fields" => json!({"type": "object"}),
        _ => json!({"type": "string"}),
    }
}

/// The schema of a query parameter, by its name: the listings' counts and the wait's timeout
/// are non-negative integers, `failed` a boolean, the rest text.
fn query_schema(name: &str) -> Value {
    match name {
        "limit" | "before" => json!({"type": "integer", "minimum": 0}),
        "timeoutMs" | "timeout_ms" => {
            json!({"type": "integer", "minimum": 0, "maximum": super::WAIT_MAX_MS, "default": super::WAIT_DEFAULT_MS})
        }
        "failed" => json!({"type": "boolean"}),
        _ => json!({"type": "string"}),
    }
}

fn path_param(core: &Core, name: &str) -> Value {
    let mut schema = json!({"type": "string"});
    let mut description = String::new();
    if name == "event" {
        schema["enum"] = core.triggers().iter().map(|t| json!(t.name)).collect();
        description = core
            .triggers()
            .iter()
            .map(|t| {
                let params: Vec<&str> = t.params.iter().map(|(p, _)| *p).collect();
                format!("{} ({}): {}", t.name, params.join(", "), t.description)
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
}

fn operation_id(route: &Route) -> String {
    let mut id = route.method.to_ascii_lowercase();
    for part in route.path.split(['/', '.']) {
        let word = part.trim_matches(['{', '}']);
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_segments() {
        assert!(documented("GET", &["notifications", "ntf_000001"]));
        assert!(documented("GET", &["notifications", "wait"]));
        assert!(documented("POST", &["trigger", "x.y"]));
        assert!(!documented("GET", &["trigger", "x.y"]));
        assert!(!documented("GET", &["nope"]));
        assert!(!documented("GET", &["notifications", "a", "b"]));
    }

    #[test]
    fn a_literal_segment_wins_over_a_placeholder() {
        let wait = route("GET", &["notifications", "wait"]).map(|r| r.path);
        assert_eq!(wait, Some("notifications/wait"));
        let one = route("GET", &["notifications", "ntf_000001"]).map(|r| r.path);
        assert_eq!(one, Some("notifications/{id}"));
    }

    #[test]
    fn an_unknown_name_is_echoed_bounded() {
        let Some(wait) = route("GET", &["notifications", "wait"]) else {
            panic!("wait is documented");
        };
        let long = "z".repeat(100_000);
        let Some(unknown) = wait.unknown_query([long]) else {
            panic!("refused");
        };
        assert!(unknown.message().len() < 1_000, "{}", unknown.message());
        assert!(wait.unknown_query(["timeoutMs".to_owned()]).is_none());
        assert!(
            wait.unknown_field(std::iter::empty()).is_none(),
            "wait reads no body"
        );
    }

    #[test]
    fn an_endpoint_without_a_body_accepts_no_field_and_one_that_reads_its_own_any() {
        let Some(resend) = route("POST", &["notifications", "ntf_000001", "resend"]) else {
            panic!("resend is documented");
        };
        let x = "x".to_owned();
        let Some(unknown) = resend.unknown_field([&x]) else {
            panic!("a field of a body-less endpoint is refused");
        };
        assert!(unknown.accepted.is_empty());
        assert!(
            unknown.message().ends_with("It accepts no fields."),
            "{}",
            unknown.message()
        );
        let Some(trigger) = route("POST", &["trigger", "x.y"]) else {
            panic!("trigger is documented");
        };
        assert!(
            trigger.unknown_field([&x]).is_none(),
            "triggers check their own parameters"
        );
    }

    #[test]
    fn a_required_field_is_one_the_endpoint_accepts() {
        for route in ROUTES {
            let names = match required_fields(route) {
                Required::All(names) | Required::OneOf(names) => names,
            };
            let accepted: Vec<&str> = route
                .fields
                .unwrap_or_default()
                .iter()
                .map(|(n, _)| *n)
                .collect();
            for name in names {
                assert!(
                    accepted.contains(name),
                    "{} {}: {name}",
                    route.method,
                    route.path
                );
            }
            if !names.is_empty() {
                assert!(body_required(route), "{} {}", route.method, route.path);
            }
        }
    }

    /// The wait's bounds are written in its parameter's description too (the route table is
    /// constant text): they must be the ones the handler checks.
    #[test]
    fn the_wait_description_names_the_bounds_the_handler_checks() {
        let Some(wait) = route("GET", &["notifications", "wait"]) else {
            panic!("wait is documented");
        };
        let Some((_, description)) = wait.query.iter().find(|(n, _)| *n == "timeoutMs") else {
            panic!("timeoutMs is documented");
        };
        assert!(
            description.contains(&format!("default {}", super::super::WAIT_DEFAULT_MS))
                && description.contains(&format!("at most {}", super::super::WAIT_MAX_MS)),
            "{description}"
        );
    }

    #[test]
    fn routes_are_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in ROUTES.iter().skip(i + 1) {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {}",
                    a.method,
                    a.path
                );
            }
        }
    }
}
