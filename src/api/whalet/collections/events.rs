//! The external event of collections, as a trigger (and so as a scenario timeline event):
//! `whalet.collection.received` (a payment arrives, like `mockPayeeNotify`). Deciding a pending
//! one now (`whalet.collection.settled` / `returned`) is its review's trigger pair.

use serde_json::{Map, Value};

use super::arrival::{arrive, read};
use crate::api::whalet::common::kinds::CollectionReview;
use crate::api::whalet::common::review::{self, Kind};
use crate::api::whalet::common::{trigger_tenant, Verdict};
use crate::core::Core;
use crate::scenario::OperationCtx;
use crate::trigger::TriggerFuture;

/// `whalet.collection.received`: a payment arrives now; the scenario rules on `mockPayeeNotify`
/// decide how it settles.
pub fn received(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = trigger_tenant(&core, &params)?;
        let body = Value::Object(params);
        let incoming = read(&body, false).map_err(|e| e.detail)?;
        let decision = core.scenarios().decide(OperationCtx {
            surface: "whalet",
            tenant: &tenant,
            operation: "mockPayeeNotify",
            fields: &body,
        });
        let now = core.clock().now();
        let (trade_id, v) = core
            .with_tenant_text(&tenant, |t| arrive(t, &incoming, now))?
            .map_err(|e| e.detail)?;
        let delay = decision.delay_or(CollectionReview::KIND.delay_ms);
        let verdict = Verdict::from_decision(&decision);
        review::schedule_decision::<CollectionReview>(&core, &tenant, delay, &trade_id, 1, verdict);
        Ok(v)
    })
}
