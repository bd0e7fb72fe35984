//! Routing by path to the surfaces and the control plane. The one place that knows every path.

use super::{SimRequest, SimResponse};
use crate::app::App;
use crate::control;

pub async fn route(app: &App, req: SimRequest) -> SimResponse {
    let path = req.path.clone();
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    if crate::web::dashboard::owns(&path) {
        return crate::web::dashboard::handle(&req);
    }
    if let Some(rest) = path.strip_prefix(control::PREFIX) {
        return control::handle(app, &req, rest).await;
    }
    match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["api", "v1", _, ..]) => {
            let rest = segments[2..].join("/");
            crate::api::infinia::handle(app, req, &rest).await
        }
        (_, ["api", "v1", _, ..]) => method_not_allowed("POST"),
        ("POST", ["api"]) => crate::api::whalet::handle(app, req, None).await,
        ("POST", ["api", api_code]) => {
            let code = (*api_code).to_owned();
            crate::api::whalet::handle(app, req, Some(&code)).await
        }
        (_, ["api"] | ["api", _]) => method_not_allowed("POST"),
        ("POST", ["v3", ..] | ["v2", "customers", "account", ..]) => {
            crate::api::pockyt::handle(app, req).await
        }
        (_, ["v3", ..] | ["v2", "customers", "account", ..]) => method_not_allowed("POST"),
        ("POST", ["v1", "platform", op]) => {
            let op = (*op).to_owned();
            crate::api::platform::handle(app, req, &op).await
        }
        (_, ["v1", "platform", _]) => method_not_allowed("POST"),
        ("POST", ["file", "upload"]) => crate::api::whalet::ops::upload::upload(app, req).await,
        ("GET", ["file", partner, file_id, ..]) => {
            crate::api::whalet::ops::upload::serve(app, partner, file_id)
        }
        ("GET", ["authorize", token]) => crate::web::authorize::handle(app, &req, token, None),
        ("POST", ["authorize", token, action]) => {
            crate::web::authorize::handle(app, &req, token, Some(action))
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
    SimResponse::json_value(
        404,
        &serde_json::json!({
            "error": format!("no route for {} {}", req.method, req.path),
            "hint": "Whalet: POST /api or /api/{apiCode}; control plane: /__sim/ (GET /__sim/openapi.json)",
        }),
    )
}
