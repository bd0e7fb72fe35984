//! The `whalet.connectivity.notify` trigger: sends a `connectivityNotify` to a partner's notify
//! URL on demand, as if the partner had called `connectivity` with `notifyFlag = Y`. It lets a
//! partner test their notify endpoint (verification, decryption, the SUCCESS answer) from the
//! dashboard or `whalet-sim trigger` without writing a request first.

use serde_json::{json, Map, Value};

use crate::behaviour::NotifyBehaviour;
use crate::core::Core;
use crate::core::Trigger;
use crate::tenant::{Provider, TenantId};
use crate::trigger::{count_param, opt_param, param, TriggerFuture};

pub fn triggers() -> Vec<Trigger> {
    vec![Trigger {
        name: "whalet.connectivity.notify",
        description:
            "Send a connectivityNotify to the partner's notify URL (tests your notify endpoint)",
        params: &[
            (
                "partnerId",
                "the Whalet partner to notify, e.g. 202400000000001",
            ),
            (
                "notifyMessage?",
                "text carried in the notification's notifyMessage",
            ),
            (
                "count?",
                "how many to send at once, 1 to [notify] ledger_capacity (default 1; a burst for load tests)",
            ),
        ],
        run,
    }]
}

fn run(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move { send(&core, &params) })
}

fn send(core: &Core, params: &Map<String, Value>) -> Result<Value, String> {
    let partner_id = param(params, "partnerId")?;
    if core.partners().get(partner_id).is_none() {
        return Err(super::unknown_partner(core, partner_id, None));
    }
    let message = opt_param(params, "notifyMessage").unwrap_or("");
    let most = core.config().notify.ledger_capacity;
    let count = count_param(params, "count", most as u64, "[notify] ledger_capacity")?.unwrap_or(1);
    let tenant = TenantId::new(Provider::Whalet, partner_id);
    let ids: Vec<String> = (0..count)
        .map(|_| {
            crate::api::whalet::notify(
                core,
                &tenant,
                "connectivityNotify",
                json!({ "notifyMessage": message }),
                None,
                NotifyBehaviour::default(),
            )
        })
        .collect();
    // `notifications` whatever the count, so a script reads one field; `notification` (the
    // first id) as before, for scripts that read it.
    Ok(json!({
        "notification": ids.first(),
        "notifications": ids,
        "tenant": tenant.to_string(),
    }))
}
