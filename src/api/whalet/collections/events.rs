//! The external events of collections, as triggers (and so as scenario timeline events):
//! `whalet.collection.received` (a payment arrives, like `mockPayeeNotify`),
//! `whalet.collection.settled` and `whalet.collection.returned` (decide a pending one now).

use serde_json::{Map, Value};

use super::arrival::{arrive, read, settle, SETTLE_DELAY_MS};
use crate::api::whalet::common::{id_param, schedule, trigger_tenant, Verdict};
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
            .with_tenant(&tenant, |t| arrive(t, &incoming, now))
            .ok()
            .ok_or_else(|| format!("no tenant {tenant}"))?
            .map_err(|e| e.detail)?;
        let delay = decision.delay_or(SETTLE_DELAY_MS);
        schedule(
            &core,
            &tenant,
            delay,
            ("collection", &trade_id, 1),
            Verdict::from_decision(&decision),
            crate::api::whalet::common::COLLECTION,
        );
        Ok(v)
    })
}

/// `whalet.collection.settled` (`SUCCESS = true`) and `whalet.collection.returned`: decides a
/// received collection now.
pub fn decided<const SUCCESS: bool>(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = trigger_tenant(&core, &params)?;
        let id = id_param(&params, "tradeId")?;
        settle(
            &core,
            &tenant,
            id,
            None,
            Verdict::from_params(SUCCESS, &params),
        )
    })
}
