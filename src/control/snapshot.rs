//! `GET /__sim/snapshot[?tenant=]` exports the state as one versioned JSON document;
//! `POST /__sim/snapshot[?tenant=]` imports one, replacing all state or that tenant's
//! (format: docs/PERSISTENCE.md).

use serde_json::json;

use super::{error, known_tenant, ok, tenant_param};
use crate::core::Core;
use crate::http::{SimRequest, SimResponse};
use crate::persist;

/// Exports off the async workers: a large state takes a while to write, and the other
/// requests (`GET /__sim/health` among them) go on meanwhile.
pub async fn export(core: &Core, req: &SimRequest) -> SimResponse {
    let tenant = match known_tenant(core, req, None) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let core = core.clone();
    match tokio::task::spawn_blocking(move || persist::export(&core, tenant.as_ref())).await {
        Ok(Ok(bytes)) => SimResponse::json(200, bytes),
        Ok(Err(e)) => error(500, e),
        Err(e) => error(500, format!("the export failed: {e}")),
    }
}

/// Reads and imports off the async workers, as [`export`] writes.
pub async fn import(core: &Core, req: &SimRequest) -> SimResponse {
    let tenant = match tenant_param(req, None) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let source = req.query_param("file").map_or_else(
        || "(request body)".to_owned(),
        |f| crate::text::bound(&f, 256).into_owned(),
    );
    let (core, body, named) = (core.clone(), req.body.clone(), source.clone());
    let imported = tokio::task::spawn_blocking(move || {
        let snapshot = persist::parse(&body, &named).map_err(|e| (true, e))?;
        persist::import(&core, snapshot, tenant.as_ref()).map_err(|e| (false, e))
    })
    .await
    .unwrap_or_else(|e| Err((false, format!("the import failed: {e}"))));
    match imported {
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
        // A document that does not parse says so in its own words; a refused import names it.
        Err((true, e)) => error(400, e),
        Err((false, e)) => error(400, format!("snapshot {source}: {e}")),
    }
}
