//! Time in scenarios: the timeline (external events fired at virtual times after loading, as
//! clock timers labelled `<tenant|*>/scenario:<name>/...` so a reset or a reload can cancel them)
//! and notify-endpoint outages (a scenario's `[[outage]]` windows and the `sim.notify.down` /
//! `sim.notify.up` triggers), which the outbox consults before each delivery attempt.

use serde_json::{json, Map, Value};

use super::engine::ManualOutage;
use super::Scenarios;
use crate::clock::Millis;
use crate::tenant::TenantId;
use crate::trigger::TriggerDef;

/// The verdict of a delivery attempt refused by an outage.
pub const OUTAGE_VERDICT: &str = "connection refused (scenario outage)";

/// The label prefix of every timer a scenario schedules.
pub fn label_prefix(scope: Option<&TenantId>, name: &str) -> String {
    let scope = scope.map_or_else(|| "*".to_owned(), ToString::to_string);
    format!("{scope}/scenario:{name}/")
}

/// In a tenant-scoped scenario, fills `tenant` (and `partnerId` / `appId` / `merchantNo`) when
/// the trigger declares such a parameter and the event does not set it.
pub fn add_tenant_params<C>(
    def: &TriggerDef<C>,
    tenant: &TenantId,
    params: &mut Map<String, Value>,
) {
    let declares = |name: &str| {
        def.params
            .iter()
            .any(|(p, _)| p.trim_end_matches('?') == name)
    };
    if declares("tenant") && !params.contains_key("tenant") {
        params.insert("tenant".into(), json!(tenant.to_string()));
    }
    let id = crate::trigger::id_param(tenant.provider);
    if declares(id) && !params.contains_key(id) {
        params.insert(id.into(), json!(tenant.id));
    }
}

/// When an event at `at` of a timeline loaded at `loaded_at` is due: at the end of virtual time
/// ([`crate::clock::MAX_TIME`]) when it would be later, as the clock runs such a timer there,
/// so the view names the time the event fires at (docs/SCENARIOS.md). An outage's `from` and
/// `until` are shown the same way; its check ends it at `until` so read, and starts it only at
/// a `from` the clock can reach.
pub fn due(loaded_at: Millis, at: super::format::Duration) -> Millis {
    loaded_at.saturating_add(at.0).min(crate::clock::MAX_TIME)
}

/// A loaded scenario whose timeline is not scheduled yet.
pub struct PendingTimeline {
    pub generation: u64,
    pub scope: Option<TenantId>,
    pub name: String,
    pub loaded_at: Millis,
    pub events: Vec<super::format::TimelineSpec>,
}

impl Scenarios {
    /// Takes the timelines of every scenario loaded but not yet scheduled (each once).
    pub fn take_unscheduled(&self) -> Vec<PendingTimeline> {
        let mut state = self.state.lock();
        state
            .loaded
            .iter_mut()
            .filter(|l| !l.scheduled)
            .map(|l| {
                l.scheduled = true;
                PendingTimeline {
                    generation: l.generation,
                    scope: l.scope.clone(),
                    name: l.file.name.0.clone(),
                    loaded_at: l.loaded_at,
                    events: l.file.timeline.clone(),
                }
            })
            .collect()
    }

    /// Whether the scenario loaded as `generation` is still loaded.
    pub fn is_current(&self, generation: u64) -> bool {
        self.state
            .lock()
            .loaded
            .iter()
            .any(|l| l.generation == generation)
    }

    /// Records what a timeline event did (shown with the scenario).
    pub fn record_fired(&self, generation: u64, entry: Value) {
        let mut state = self.state.lock();
        if let Some(l) = state.loaded.iter_mut().find(|l| l.generation == generation) {
            l.fired.push(entry);
        }
        state.version += 1;
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
                    // Not clamped: an outage due to start past the end never starts.
                    && now >= l.loaded_at.saturating_add(o.from.0)
                    && o.until.is_none_or(|u| now < due(l.loaded_at, u))
            });
            if hit {
                return Some(format!("{OUTAGE_VERDICT}: scenario {}", l.file.name.0));
            }
        }
        None
    }

    /// Starts an outage for `tenant` (None = every tenant) until `until` (None = until ended).
    pub fn start_outage(&self, tenant: Option<TenantId>, until: Option<Millis>, reason: String) {
        let mut state = self.state.lock();
        state.outages.insert(tenant, ManualOutage { until, reason });
        state.version += 1;
    }

    /// Ends trigger-started outages: `tenant`'s, or with `None` every one (the outage of every
    /// tenant and each tenant's own), so that `sim.notify.up` without a tenant brings every
    /// endpoint `sim.notify.down` took down back. Answers the outages that were still in effect
    /// at `now`, by tenant (`None`: the outage of every tenant), in order; one already past its
    /// `for` is removed without being reported.
    pub fn end_outages(&self, tenant: Option<&TenantId>, now: Millis) -> Vec<Option<TenantId>> {
        let mut state = self.state.lock();
        state.version += 1;
        let ended: Vec<(Option<TenantId>, ManualOutage)> = match tenant {
            Some(t) => {
                let key = Some(t.clone());
                state
                    .outages
                    .remove(&key)
                    .map(|o| (key, o))
                    .into_iter()
                    .collect()
            }
            None => state.outages.drain().collect(),
        };
        let mut ended: Vec<Option<TenantId>> = ended
            .into_iter()
            .filter(|(_, o)| o.until.is_none_or(|u| now < u))
            .map(|(t, _)| t)
            .collect();
        ended.sort();
        ended
    }
}
