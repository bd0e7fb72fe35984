//! Scenario timelines on the clock, and the simulator's own triggers: each loaded scenario's
//! timeline events become clock timers labelled `<tenant|*>/scenario:<name>/timeline:...` (so a
//! reset or a reload cancels them) that fire the named trigger; `sim.notify.down|up` start and end
//! notify-endpoint outages, which the outbox consults before each attempt.

use serde_json::{json, Map, Value};

use super::{Core, Trigger};
use crate::scenario::format::parse_duration;
use crate::scenario::timeline::{add_tenant_params, label_prefix, PendingTimeline};
use crate::tenant::TenantId;
use crate::trigger::{opt_param, TriggerFuture};

/// Schedules the timeline of every scenario loaded but not yet scheduled. Called once the core
/// exists (startup files) and after each run-time load.
pub fn schedule_pending(core: &Core) {
    for PendingTimeline {
        generation,
        scope,
        name,
        loaded_at,
        events,
    } in core.scenarios().take_unscheduled()
    {
        for (index, event) in events.into_iter().enumerate() {
            let label = format!(
                "{}timeline:{}:{}",
                label_prefix(scope.as_ref(), &name),
                index + 1,
                event.event
            );
            let mut params = event.params.clone();
            if let (Some(t), Some(def)) = (
                &scope,
                core.triggers().iter().find(|d| d.name == event.event),
            ) {
                add_tenant_params(def, t, &mut params);
            }
            core.schedule_timer(
                &TIMELINE_EVENT,
                loaded_at + event.at.0,
                super::timers::Pending {
                    label,
                    tenant: scope.as_ref(),
                    key: &name,
                    params: json!({"generation": generation, "index": index + 1, "event": event.event, "params": params}),
                },
            );
        }
    }
}

super::timers::timer_kind! {
    /// One event of a scenario's timeline (key: the scenario's name): fires its trigger unless
    /// the scenario was reloaded or reset meanwhile.
    pub TIMELINE_EVENT = "scenario.timeline",
    |core,
     key,
     generation: u64 = "generation",
     index: usize = "index",
     event_name: String = "event",
     params: Map<String, Value> = "params"| {
        if !core.scenarios().is_current(generation) {
            return;
        }
        let at = core.clock().now();
        let via = Some(format!("timeline of scenario {key}"));
        let outcome = core.fire(&event_name, params, via).await;
        let entry = match outcome {
            Ok(result) => {
                json!({"index": index, "event": event_name, "at": at, "ok": true, "result": result})
            }
            Err(e) => {
                json!({"index": index, "event": event_name, "at": at, "ok": false, "error": e.message()})
            }
        };
        core.scenarios().record_fired(generation, entry);
    }
}

/// The simulator's own triggers.
pub fn triggers() -> Vec<Trigger> {
    vec![
        Trigger {
            name: "sim.notify.down",
            description: "The partner's notify endpoint goes down: every delivery attempt fails as connection refused (and is retried on the surface's schedule) until sim.notify.up or the end of `for`.",
            params: &[
                ("tenant?", "provider:id (e.g. whalet:202400000000001); omitted = every tenant"),
                ("for?", "how long, as a duration (\"10s\", \"2m\"); omitted = until sim.notify.up"),
                ("reason?", "text recorded in each failed attempt's verdict"),
            ],
            run: notify_down,
        },
        Trigger {
            name: "sim.notify.up",
            description: "The partner's notify endpoint is back (ends outages started by sim.notify.down; pending retries then succeed). Answers the outages it ended in `outages` (\"*\" = the one of every tenant).",
            params: &[("tenant?", "provider:id: ends that tenant's outage only; omitted = ends every outage sim.notify.down started (the one of every tenant and each tenant's own)")],
            run: notify_up,
        },
    ]
}

fn tenant_of(params: &Map<String, Value>) -> Result<Option<TenantId>, String> {
    match opt_param(params, "tenant") {
        None => Ok(None),
        Some(t) => TenantId::parse(t)
            .map(Some)
            .ok_or_else(|| format!("tenant must be provider:id, not {t:?}")),
    }
}

fn notify_down(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = tenant_of(&params)?;
        let until = match opt_param(&params, "for") {
            Some(text) => Some(core.clock().now() + parse_duration(text)?),
            None => None,
        };
        let reason = opt_param(&params, "reason")
            .unwrap_or("sim.notify.down")
            .to_owned();
        core.scenarios().start_outage(tenant.clone(), until, reason);
        Ok(json!({
            "tenant": tenant.map(|t| t.to_string()),
            "until": until,
            "untilUtc": until.map(crate::clock::format::utc_z),
        }))
    })
}

fn notify_up(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = tenant_of(&params)?;
        let now = core.clock().now();
        let outages: Vec<String> = core
            .scenarios()
            .end_outages(tenant.as_ref(), now)
            .into_iter()
            .map(|t| t.map_or_else(|| "*".to_owned(), |t| t.to_string()))
            .collect();
        Ok(json!({
            "tenant": tenant.map(|t| t.to_string()),
            "ended": !outages.is_empty(),
            "outages": outages,
        }))
    })
}
