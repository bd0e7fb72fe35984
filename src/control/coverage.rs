//! `GET /__sim/coverage` (the coverage report, docs/COVERAGE.md) and `POST /__sim/coverage/reset`
//! (a new measurement).

use serde_json::json;

use super::{error, known_tenant, ok};
use crate::core::Core;
use crate::coverage::report::Selection;
use crate::coverage::Coverage;
use crate::http::{SimRequest, SimResponse};

fn coverage(core: &Core) -> &Coverage {
    core.surface::<Coverage>()
}

pub fn report(core: &Core, req: &SimRequest) -> SimResponse {
    // A tenant that does not exist is a `404` (as `/__sim/state`), not a report of zeros that a
    // misspelt `--tenant` would read as "nothing exercised".
    let tenant = match known_tenant(core, req, None) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let selection = Selection {
        tenant,
        surface: req.query_param("surface"),
        group: req.query_param("group"),
    };
    if let Err(e) = selection.check(coverage(core).model()) {
        return error(400, e);
    }
    ok(json!(coverage(core).report(&selection)))
}

pub fn reset(core: &Core) -> SimResponse {
    coverage(core).reset();
    ok(json!({"reset": true}))
}
