//! The route table: every path, to the surfaces, the pages and the control plane. The one place
//! that knows every path; `http::serve` runs it for each request.

use crate::control;
use crate::core::Core;
use crate::http::{Handler, SimRequest, SimResponse};

/// The simulator as the HTTP edge sees it: the core and the address it is bound to.
#[derive(Clone)]
pub struct Routes(pub Core, pub std::net::SocketAddr);

impl Handler for Routes {
    /// Each surface's limit is its scheme's (the pipeline checks the same number).
    fn body_limit(&self, method: &str, path: &str) -> usize {
        use crate::api::pipeline::Scheme;
        let core = &self.0;
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            ("POST", ["api", "v1", ..]) => crate::api::infinia::EcommerceApi.body_limit(core),
            ("POST", ["api"] | ["api", _]) => crate::api::whalet::OpenApi.body_limit(core),
            ("POST", ["v1", "platform", _]) => {
                crate::api::platform::PlatformApi::new(false).body_limit(core)
            }
            ("POST", ["v3", ..] | ["v2", "customers", "account", ..]) => {
                crate::api::pockyt::PayoutsApi.body_limit(core)
            }
            ("POST", ["file", "upload"]) => crate::api::whalet::upload::FileUpload.body_limit(core),
            (_, ["__sim", ..]) => core.config().server.control_body_limit_bytes,
            _ => core.config().server.other_body_limit_bytes,
        }
    }

    async fn call(&self, req: SimRequest) -> SimResponse {
        let path = &req.path;
        let guarded = crate::web::dashboard::owns(path)
            || (path.starts_with(control::PREFIX) && path != "/__sim/health");
        if guarded {
            if let Some(refusal) = control::guard::refuse(&self.0, &req, self.1) {
                return refusal;
            }
        }
        // The export still answers: it changes nothing, and saves the state in memory.
        let export = req.method == "GET" && req.path == "/__sim/snapshot";
        let reply = route(&self.0, req).await;
        // A sent reply is durable: one whose changes could not be committed is not sent.
        match crate::persist::sqlite::before_reply(&self.0).await {
            Some(message) if !export => not_durable(&message),
            _ => reply,
        }
    }
}

/// The answer in place of a reply whose changes the data directory could not commit, the same
/// on every route: a client takes it as a transport failure and retries (docs/PERSISTENCE.md).
fn not_durable(message: &str) -> SimResponse {
    SimResponse::json_value(503, &serde_json::json!({ "error": message }))
        .header("retry-after", "5")
}

pub async fn route(core: &Core, req: SimRequest) -> SimResponse {
    let path = req.path.clone();
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    if crate::web::dashboard::owns(&path) {
        return crate::web::dashboard::handle(core, &req);
    }
    if let Some(rest) = path.strip_prefix(control::PREFIX) {
        return control::handle(core, &req, rest).await;
    }
    match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["api", "v1", _, ..]) => {
            let rest = segments[2..].join("/");
            crate::api::infinia::handle(core, req, &rest).await
        }
        (_, ["api", "v1", _, ..]) => method_not_allowed("POST"),
        ("POST", ["api"]) => crate::api::whalet::handle(core, req, None).await,
        ("POST", ["api", api_code]) => {
            let code = (*api_code).to_owned();
            crate::api::whalet::handle(core, req, Some(&code)).await
        }
        (_, ["api"] | ["api", _]) => method_not_allowed("POST"),
        ("POST", ["v3", ..] | ["v2", "customers", "account", ..]) => {
            crate::api::pockyt::handle(core, req).await
        }
        (_, ["v3", ..] | ["v2", "customers", "account", ..]) => method_not_allowed("POST"),
        ("POST", ["v1", "platform", op]) => {
            let op = (*op).to_owned();
            crate::api::platform::handle(core, req, &op).await
        }
        (_, ["v1", "platform", _]) => method_not_allowed("POST"),
        (_, ["v1", "platform", ..]) => not_found_with(&req, &platform_hint()),
        ("POST", ["file", "upload"]) => crate::api::whalet::upload::upload(core, req).await,
        (_, ["file", "upload"]) => method_not_allowed("POST"),
        ("GET", ["file", partner, file_id, ..]) => {
            crate::api::whalet::upload::serve(core, &req, partner, file_id)
        }
        (_, ["authorize", token]) => crate::web::authorize::handle(core, &req, token, None),
        (_, ["authorize", token, action]) => {
            crate::web::authorize::handle(core, &req, token, Some(action))
        }
        _ => not_found(&req),
    }
}

fn method_not_allowed(allowed: &str) -> SimResponse {
    SimResponse::json_value(
        405,
        &serde_json::json!({"error": format!("method not allowed; use {allowed}")}),
    )
    .header("allow", allowed)
}

fn not_found(req: &SimRequest) -> SimResponse {
    not_found_with(
        req,
        "Whalet: POST /api or /api/{apiCode}, POST /file/upload; whalet-platform: POST \
         /v1/platform/{operation}; Infinia Pay: POST /api/v1/{path}; Pockyt: POST /v3/{path}; \
         control plane: /__sim/ (GET /__sim/openapi.json)",
    )
}

/// A path under `/v1/platform` that names no operation (`/v1/platform`, one segment too many):
/// the hint is whalet-platform's, with its operations, as an unknown Pockyt path lists Pockyt's.
fn platform_hint() -> String {
    let operations: Vec<&str> = crate::api::platform::OPERATIONS
        .iter()
        .map(|op| op.name)
        .collect();
    format!(
        "whalet-platform: POST /v1/platform/{{operation}}, one path segment after /v1/platform; \
         operations: {}",
        operations.join(", ")
    )
}

/// How the `error` of the edge's 404 for a path it serves nothing at begins (`whalet-sim
/// trigger` and `coverage` tell it from the control plane's own refusals by it).
pub const NO_ROUTE: &str = "no route for ";

fn not_found_with(req: &SimRequest, hint: &str) -> SimResponse {
    SimResponse::json_value(
        404,
        &serde_json::json!({
            "error": format!(
                "{NO_ROUTE}{} {}",
                crate::text::echo_bare(&req.method),
                crate::text::echo_bare(&req.path)
            ),
            "hint": hint,
        }),
    )
}
