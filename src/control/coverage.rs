//! `GET /__sim/coverage` (the coverage report, docs/COVERAGE.md) and `POST /__sim/coverage/reset`
//! (a new measurement).

use serde_json::json;

use super::{error, ok};
use crate::core::Core;
use crate::coverage::report::Selection;
use crate::coverage::Coverage;
use crate::http::{SimRequest, SimResponse};
use crate::tenant::TenantId;

fn coverage(core: &Core) -> &Coverage {
    core.surface::<Coverage>()
}

pub fn report(core: &Core, req: &SimRequest) -> SimResponse {
    let tenant = match req.query_param("tenant") {
        None => None,
        Some(text) => match TenantId::parse(&text) {
            Some(t) => Some(t),
            None => {
                return error(
                    400,
                    format!(
                        "tenant {:?} is not provider:id (e.g. whalet:202400000000001)",
                        crate::text::bound(&text, crate::text::ECHO_BYTES)
                    ),
                )
            }
        },
    };
    let model = coverage(core).model();
    let surface = req.query_param("surface").filter(|s| !s.is_empty());
    if let Some(s) = &surface {
        if !model.items.iter().any(|i| i.surface == s) {
            let mut known: Vec<&str> = model.items.iter().map(|i| i.surface).collect();
            known.sort_unstable();
            known.dedup();
            return error(
                400,
                format!(
                    "no surface {:?}; known: {}",
                    crate::text::bound(s, crate::text::ECHO_BYTES),
                    known.join(", ")
                ),
            );
        }
    }
    let group = req.query_param("group").filter(|s| !s.is_empty());
    let selection = Selection {
        tenant,
        surface,
        group,
    };
    ok(json!(coverage(core).report(&selection)))
}

pub fn reset(core: &Core) -> SimResponse {
    coverage(core).reset();
    ok(json!({"reset": true}))
}
