//! The external event of collections, as a trigger (and so as a scenario timeline event):
//! `whalet.collection.received` (a payment arrives, like `mockPayeeNotify`). Deciding a pending
//! one now (`whalet.collection.settled` / `returned`) is its review's trigger pair.

use serde_json::{Map, Value};

use super::arrival::{admit, book, read};
use crate::api::whalet::common::kinds::CollectionReview;
use crate::api::whalet::common::review::{self, Kind};
use crate::api::whalet::common::{trigger_tenant, Verdict};
use crate::core::Core;
use crate::scenario::{Decision, OperationCtx};
use crate::trigger::TriggerFuture;

/// `whalet.collection.received`: a payment arrives now; the scenario rules on `mockPayeeNotify`
/// decide how it settles, or refuse it with a forced `code`. An arrival is not a request: only
/// the rules that name `mockPayeeNotify` select and count it
/// ([`crate::scenario::Scenarios::decide_event`]), and a rule's request-transport effects
/// (`latency_ms`, `http_status`, `drop_connection`) do not apply to it.
///
/// Everything that can refuse the arrival (its parameters, the account, the currency, the
/// amount, the shop, the ledger: [`admit`]) is checked before the rules decide, under the same
/// tenant lock as the booking: a refused arrival neither uses up a rule's count (`nth`, `first`,
/// `after`, `window`) nor is named by the journal as decided by a rule. A forced `code` is the
/// one refusal that comes from the rule itself; it counts, and the journal names its rule.
///
/// Its parameters are read by `mockPayeeNotify`'s reader ([`read`]), which takes a blank field as
/// one left out, as the API does; a blank one never gets here
/// ([`crate::trigger::check_params`] refuses it), so `cardId=" "` is never read as "the default
/// account".
pub fn received(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = trigger_tenant(&core, &params)?;
        let body = Value::Object(params);
        let incoming = read(&body, false).map_err(|e| e.detail)?;
        let now = core.clock().now();
        let (trade_id, v, decision) = core.with_tenant_text(&tenant, |t| {
            let admitted = admit(t, &incoming).map_err(|e| e.detail)?;
            // The rules' lock is a leaf (they never reach the store): taking it under the
            // tenant's lock cannot deadlock, and no change to the account can slip in between.
            // They see the arrival, the account a defaulted one goes to included.
            let decision = core.scenarios().decide_event(OperationCtx {
                surface: "whalet",
                tenant: &tenant,
                operation: "mockPayeeNotify",
                fields: &admitted.seen_by_rules(&body),
            });
            if let Some(rule) = &decision.rule {
                crate::trigger::note_rule(rule);
            }
            if let Some(refusal) = forced_refusal(&decision) {
                return Err(refusal);
            }
            let (trade_id, v) = book(t, &incoming, admitted, now).map_err(|e| e.detail)?;
            Ok((trade_id, v, decision))
        })??;
        let delay = decision.delay_or(CollectionReview::KIND.delay_ms);
        let verdict = Verdict::from_decision(&decision);
        review::schedule_decision::<CollectionReview>(&core, &tenant, delay, &trade_id, 1, verdict);
        Ok(v)
    })
}

/// A rule's forced `code` refuses the arrival, as it refuses a `mockPayeeNotify` request: no
/// money arrives and nothing changes. The refusal names the rule, its code and its detail.
fn forced_refusal(decision: &Decision) -> Option<String> {
    let code = decision.sync.as_ref()?.code.as_deref()?;
    let rule = decision.rule.as_deref().unwrap_or("a rule");
    let scenario = decision
        .scenario
        .as_deref()
        .map(|s| format!(" of scenario {s}"))
        .unwrap_or_default();
    let detail = decision
        .sync
        .as_ref()
        .and_then(|s| s.detail.as_deref())
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    Some(format!(
        "scenario rule {rule:?}{scenario} forces code {code}{detail} on mockPayeeNotify: no money \
         arrived"
    ))
}
