//! Time in scenarios: the timeline (external events fired at virtual times after loading, as
//! clock timers labelled `<tenant|*>/scenario:<name>/...` so a reset or a reload can cancel them)
//! and notify-endpoint outages (a scenario's `[[outage]]` windows and the `sim.notify.down` /
//! `sim.notify.up` triggers), which the outbox consults before each delivery attempt.

use serde_json::{json, Map, Value};

use super::engine::ManualOutage;
use super::Scenarios;
use crate::app::App;
use crate::clock::Millis;
use crate::control::triggers::{fire, opt_param, TriggerDef, TriggerFuture};
use crate::store::{Provider, TenantId};

/// The verdict of a delivery attempt refused by an outage.
pub const OUTAGE_VERDICT: &str = "connection refused (scenario outage)";

/// The label prefix of every timer a scenario schedules.
pub fn label_prefix(scope: Option<&TenantId>, name: &str) -> String {
    let scope = scope.map_or_else(|| "*".to_owned(), ToString::to_string);
    format!("{scope}/scenario:{name}/")
}

/// The parameter names by which triggers take the tenant, besides `tenant` (`provider:id`).
fn id_param(provider: Provider) -> &'static str {
    match provider {
        Provider::Whalet => "partnerId",
        Provider::Infinia => "appId",
        Provider::Pockyt => "merchantNo",
    }
}

/// In a tenant-scoped scenario, fills `tenant` (and `partnerId` / `appId` / `merchantNo`) when
/// the trigger declares such a parameter and the event does not set it.
pub fn add_tenant_params(def: &TriggerDef, tenant: &TenantId, params: &mut Map<String, Value>) {
    let declares = |name: &str| {
        def.params
            .iter()
            .any(|(p, _)| p.trim_end_matches('?') == name)
    };
    if declares("tenant") && !params.contains_key("tenant") {
        params.insert("tenant".into(), json!(tenant.to_string()));
    }
    let id = id_param(tenant.provider);
    if declares(id) && !params.contains_key(id) {
        params.insert(id.into(), json!(tenant.id));
    }
}

/// A loaded scenario whose timeline is not scheduled yet.
struct Pending {
    generation: u64,
    scope: Option<TenantId>,
    name: String,
    loaded_at: Millis,
    events: Vec<super::format::TimelineSpec>,
}

/// Schedules the timeline of every scenario loaded but not yet scheduled. Called once the app
/// exists (startup files) and after each run-time load.
pub fn schedule_pending(app: &App) {
    let pending: Vec<Pending> = {
        let mut state = app.scenarios().state.lock();
        state
            .loaded
            .iter_mut()
            .filter(|l| !l.scheduled)
            .map(|l| {
                l.scheduled = true;
                Pending {
                    generation: l.generation,
                    scope: l.scope.clone(),
                    name: l.file.name.0.clone(),
                    loaded_at: l.loaded_at,
                    events: l.file.timeline.clone(),
                }
            })
            .collect()
    };
    for Pending {
        generation,
        scope,
        name,
        loaded_at,
        events,
    } in pending
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
                app.triggers().iter().find(|d| d.name == event.event),
            ) {
                add_tenant_params(def, t, &mut params);
            }
            let (app2, name2, event_name) = (app.clone(), name.clone(), event.event.clone());
            app.clock().schedule_at(
                loaded_at + event.at.0,
                label,
                Box::new(move || {
                    Box::pin(async move {
                        if !app2.scenarios().is_current(generation) {
                            return;
                        }
                        let at = app2.clock().now();
                        let via = Some(format!("timeline of scenario {name2}"));
                        let outcome = fire(&app2, &event_name, params, via).await;
                        let entry = match outcome {
                            Ok(result) => json!({"index": index + 1, "event": event_name, "at": at, "ok": true, "result": result}),
                            Err(e) => json!({"index": index + 1, "event": event_name, "at": at, "ok": false, "error": e.message()}),
                        };
                        app2.scenarios().record_fired(generation, entry);
                    })
                }),
            );
        }
    }
}

impl Scenarios {
    fn is_current(&self, generation: u64) -> bool {
        self.state
            .lock()
            .loaded
            .iter()
            .any(|l| l.generation == generation)
    }

    fn record_fired(&self, generation: u64, entry: Value) {
        let mut state = self.state.lock();
        if let Some(l) = state.loaded.iter_mut().find(|l| l.generation == generation) {
            l.fired.push(entry);
        }
    }

    /// Why a delivery to `tenant` over `channel` at `now` must fail, if an outage covers it.
    pub fn outage(&self, tenant: &TenantId, channel: &str, now: Millis) -> Option<String> {
        let state = self.state.lock();
        for key in [Some(tenant.clone()), None] {
            if let Some(o) = state.outages.get(&key) {
                if o.until.is_none_or(|u| now < u) {
                    return Some(format!("{OUTAGE_VERDICT}: {}", o.reason));
                }
            }
        }
        for l in state.loaded.iter().filter(|l| l.applies_to(tenant)) {
            let hit = l.file.outage.iter().any(|o| {
                o.channel.as_deref().is_none_or(|c| c == channel)
                    && now >= l.loaded_at + o.from.0
                    && o.until.is_none_or(|u| now < l.loaded_at + u.0)
            });
            if hit {
                return Some(format!("{OUTAGE_VERDICT}: scenario {}", l.file.name.0));
            }
        }
        None
    }

    /// Starts an outage for `tenant` (None = every tenant) until `until` (None = until ended).
    pub fn start_outage(&self, tenant: Option<TenantId>, until: Option<Millis>, reason: String) {
        self.state
            .lock()
            .outages
            .insert(tenant, ManualOutage { until, reason });
    }

    /// Ends the trigger-started outage of `tenant` (None = the one for every tenant).
    pub fn end_outage(&self, tenant: Option<&TenantId>) -> bool {
        self.state.lock().outages.remove(&tenant.cloned()).is_some()
    }
}

/// The simulator's own triggers.
pub fn triggers() -> Vec<TriggerDef> {
    vec![
        TriggerDef {
            name: "sim.notify.down",
            description: "The partner's notify endpoint goes down: every delivery attempt fails as connection refused (and is retried on the surface's schedule) until sim.notify.up or the end of `for`.",
            params: &[
                ("tenant?", "provider:id (e.g. whalet:202400000000001); omitted = every tenant"),
                ("for?", "how long, as a duration (\"10s\", \"2m\"); omitted = until sim.notify.up"),
                ("reason?", "text recorded in each failed attempt's verdict"),
            ],
            run: notify_down,
        },
        TriggerDef {
            name: "sim.notify.up",
            description: "The partner's notify endpoint is back (ends an outage started by sim.notify.down; pending retries then succeed).",
            params: &[("tenant?", "provider:id; omitted = the outage of every tenant")],
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

fn notify_down(app: App, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = tenant_of(&params)?;
        let until = match opt_param(&params, "for") {
            Some(text) => Some(app.clock().now() + super::format::parse_duration(text)?),
            None => None,
        };
        let reason = opt_param(&params, "reason")
            .unwrap_or("sim.notify.down")
            .to_owned();
        app.scenarios().start_outage(tenant.clone(), until, reason);
        Ok(json!({"tenant": tenant.map(|t| t.to_string()), "until": until}))
    })
}

fn notify_up(app: App, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = tenant_of(&params)?;
        let ended = app.scenarios().end_outage(tenant.as_ref());
        Ok(json!({"tenant": tenant.map(|t| t.to_string()), "ended": ended}))
    })
}
