//! `GET /__sim/snapshot[?tenant=]` exports the state as one versioned JSON document;
//! `POST /__sim/snapshot[?tenant=]` imports one, replacing all state or that tenant's
//! (format: docs/PERSISTENCE.md).

use serde_json::json;

use super::{error, ok, tenant_param};
use crate::core::Core;
use crate::http::{SimRequest, SimResponse};
use crate::persist;

pub fn export(core: &Core, req: &SimRequest) -> SimResponse {
    let tenant = match tenant_param(req, None) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if let Some(t) = &tenant {
        if !core.store().has_tenant(t) {
            return error(404, format!("no tenant {t}"));
        }
    }
    match persist::export(core, tenant.as_ref()) {
        Ok(bytes) => SimResponse::json(200, bytes),
        Err(e) => error(500, e),
    }
}

pub fn import(core: &Core, req: &SimRequest) -> SimResponse {
    let tenant = match tenant_param(req, None) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let source = req.query_param("file").map_or_else(
        || "(request body)".to_owned(),
        |f| crate::text::bound(&f, 256).into_owned(),
    );
    let snapshot = match persist::parse(&req.body, &source) {
        Ok(s) => s,
        Err(e) => return error(400, e),
    };
    match persist::import(core, snapshot, tenant.as_ref()) {
        Ok(restored) => {
            tracing::info!(
                scope = %restored.scope,
                tenants = restored.tenants,
                notifications = restored.notifications,
                pending = restored.pending_notifications,
                "snapshot imported from {source}"
            );
            ok(json!({ "imported": restored }))
        }
        Err(e) => error(400, format!("snapshot {source}: {e}")),
    }
}
