//! The core every surface stands on: configuration, the clock, the store, the outbox, the request
//! journal, the scenario engine, the outgoing HTTP client, the trigger registry and the
//! authorization registry, in one cheap-to-clone handle. Handlers, triggers, transports, the
//! control plane and the pages take what they need from a [`Core`]; none of them sees `App`.
//!
//! Surfaces keep their own long-lived data (partners and their keys, merchants, Infinia apps,
//! the apiCode table) in a handle they register under its type at start-up
//! ([`Surfaces::insert`]); the surface reads it back with [`Core::surface`]. The core therefore
//! imports no surface: layers point one way (core below api, control, web, routes and app).

pub mod cpu;
pub mod timeline;
pub mod timers;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use self::cpu::CpuGate;
use crate::authorize::{AuthorizationRequest, Authorizations};
use crate::clock::{system_now, Clock};
use crate::config::Config;
use crate::http::client::HttpClient;
use crate::journal::{Journal, JournalEntry};
use crate::notify::Outbox;
use crate::scenario::Scenarios;
use crate::store::{Store, TenantState};
use crate::tenant::TenantId;
use crate::trigger::{check_params, FireError, TriggerDef};
use crate::wire::HexCase;

/// A trigger of this simulator: it runs with the core.
pub type Trigger = TriggerDef<Core>;

/// The surfaces' own handles, by type (one per type), registered once at start-up.
#[derive(Default)]
pub struct Surfaces(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl Surfaces {
    pub fn insert<T: Any + Send + Sync>(&mut self, handle: Arc<T>) {
        self.0.insert(TypeId::of::<T>(), handle);
    }
}

/// What the core is built from (see `App::new`).
pub struct Parts {
    pub config: Config,
    pub clock: Clock,
    pub store: Store,
    pub outbox: Outbox,
    pub journal: Journal,
    pub scenarios: Scenarios,
    pub client: HttpClient,
    pub triggers: Vec<Trigger>,
    pub authorizations: Authorizations<Core>,
    pub surfaces: Surfaces,
    /// Bounds the request stages that do RSA work.
    pub cpu: CpuGate,
    /// Every kind of pending work kept as data ([`timers`]).
    pub timer_kinds: Vec<timers::TimerKind>,
}

/// Handle to the simulator's shared parts. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Parts>,
}

/// A seller authorization link's expiry (key: the link's token).
pub const AUTHORIZATION_EXPIRY: timers::TimerKind = timers::TimerKind {
    name: "authorization.expire",
    run: |core, record| Box::pin(async move { core.authorizations().expire(&core, &record.key) }),
};

/// Drops the expiry timer of a link just decided (the authorization registry's
/// [`crate::authorize::Authorizations::on_decided`] hook): it would run a no-op, yet count as
/// pending work and be where "to the next timer" moves the clock.
pub fn cancel_authorization_expiry(core: &Core, request: &AuthorizationRequest) {
    core.clock()
        .cancel_records(|r| r.kind == AUTHORIZATION_EXPIRY.name && r.key == request.token);
}

/// A trigger being fired, as its journal entry names it.
struct Fired<'a> {
    name: &'static str,
    params: &'a Map<String, Value>,
    /// The scenario timeline that fired it (the entry's `rule`), if one did.
    via: Option<String>,
    started: std::time::Instant,
    virtual_time: crate::clock::Millis,
    /// The tenant the trigger chose to act on, once it ran (`trigger::noting_tenant`).
    chosen: Option<TenantId>,
    /// The scenario rule that decided what it did, once it ran (`trigger::noting_rule`).
    decided: Option<String>,
}

/// A tenant's state vanished between lookup and use (a reset raced the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("tenant state missing")]
pub struct TenantMissing;

impl Core {
    pub fn new(parts: Parts) -> Self {
        Self {
            inner: Arc::new(parts),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }
    pub fn store(&self) -> &Store {
        &self.inner.store
    }
    pub fn outbox(&self) -> &Outbox {
        &self.inner.outbox
    }
    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }
    /// The gate heavy request stages pass through (see [`cpu`]).
    pub fn cpu(&self) -> &CpuGate {
        &self.inner.cpu
    }
    pub fn scenarios(&self) -> &Scenarios {
        &self.inner.scenarios
    }
    pub fn client(&self) -> &HttpClient {
        &self.inner.client
    }
    pub fn triggers(&self) -> &[Trigger] {
        &self.inner.triggers
    }
    pub fn authorizations(&self) -> &Authorizations<Core> {
        &self.inner.authorizations
    }
    pub fn hex_case(&self) -> HexCase {
        self.inner.config.whalet.hex_case
    }

    /// The handle a surface registered under type `T` at start-up.
    ///
    /// # Panics
    /// When no handle of type `T` was registered: a start-up wiring bug, never caused by input.
    pub fn surface<T: Any + Send + Sync>(&self) -> &T {
        self.inner
            .surfaces
            .0
            .get(&TypeId::of::<T>())
            .and_then(|handle| handle.downcast_ref::<T>())
            .unwrap_or_else(|| {
                panic!(
                    "surface handle {} is not registered",
                    std::any::type_name::<T>()
                )
            })
    }

    /// The handle registered under type `T`, if any (optional parts such as a data directory).
    pub fn try_surface<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.inner
            .surfaces
            .0
            .get(&TypeId::of::<T>())
            .and_then(|handle| handle.downcast_ref::<T>())
    }

    /// The one way to work on a tenant's state: `f` runs under that tenant's lock.
    pub fn with_tenant<R>(
        &self,
        tenant: &TenantId,
        f: impl FnOnce(&mut TenantState) -> R,
    ) -> Result<R, TenantMissing> {
        self.inner.store.with_tenant(tenant, f).ok_or(TenantMissing)
    }

    /// [`Core::with_tenant`] for triggers and timers, whose refusals are text: a tenant that is
    /// gone reads `no tenant {id}`.
    pub fn with_tenant_text<R>(
        &self,
        tenant: &TenantId,
        f: impl FnOnce(&mut TenantState) -> R,
    ) -> Result<R, String> {
        self.with_tenant(tenant, f)
            .map_err(|_| format!("no tenant {tenant}"))
    }

    /// Opens a seller authorization link and schedules its expiry on the virtual clock.
    pub fn open_authorization(&self, request: AuthorizationRequest) {
        let (token, expires_at) = (request.token.clone(), request.expires_at);
        let label = format!(
            "{}/{}.binding.expire {}",
            request.tenant, request.surface, request.business_id
        );
        let tenant = request.tenant.clone();
        self.authorizations().insert(request);
        self.schedule_timer(
            &AUTHORIZATION_EXPIRY,
            expires_at,
            timers::Pending {
                label,
                tenant: Some(&tenant),
                key: &token,
                params: Value::Null,
            },
        );
    }

    /// Fires one trigger (from the control plane, the CLI or a scenario timeline) and records it
    /// in the request journal as surface `trigger`; `via` says who fired it.
    pub async fn fire(
        &self,
        name: &str,
        params: Map<String, Value>,
        via: Option<String>,
    ) -> Result<Value, FireError> {
        let Some(def) = self.triggers().iter().find(|t| t.name == name).cloned() else {
            let names: Vec<&str> = self.triggers().iter().map(|t| t.name).collect();
            let near = crate::text::nearest(name, &names)
                .map(|near| format!("did you mean {near:?}? "))
                .unwrap_or_default();
            return Err(FireError::Unknown(format!(
                "no trigger {}; {near}known: {}",
                crate::text::echo(name),
                names.join(", ")
            )));
        };
        let started = std::time::Instant::now();
        let virtual_time = self.clock().now();
        let fired = Fired {
            name: def.name,
            params: &params,
            via,
            started,
            virtual_time,
            chosen: None,
            decided: None,
        };
        let checked = check_params(&def, &params)
            .map_err(FireError::Params)
            .and_then(|()| self.named_tenant_exists(def.name, &params));
        if let Err(refusal) = checked {
            // A scenario timeline's event is journaled whatever becomes of it (docs/SCENARIOS.md);
            // a control-plane caller is told at once, as for any request it got wrong.
            if fired.via.is_some() {
                let refused = (refusal.message().to_owned(), refusal.status());
                self.journal_fired(fired, Err(refused));
            }
            return Err(refusal);
        }
        let run = self
            .clock()
            .cut()
            .polls((def.run)(self.clone(), params.clone()));
        let ((outcome, chosen), decided) =
            crate::trigger::noting_rule(crate::trigger::noting_tenant(run)).await;
        // A trigger's own refusal may quote a parameter whole (`no payout with invoiceId …`):
        // cut here, once for every trigger, as every echoed client value is.
        let outcome = outcome
            .map_err(|why| named_refusal(def.name, crate::trigger::cut_echoes(why, &params)));
        let fired = Fired {
            chosen,
            decided,
            ..fired
        };
        if outcome.is_ok() {
            let counted = self
                .acted_for(&fired)
                .filter(|t| self.store().has_tenant(t));
            self.surface::<crate::coverage::Coverage>()
                .state(counted.as_ref(), def.name);
        }
        let journaled = match &outcome {
            Ok(v) => Ok(v.clone()),
            Err(e) => Err((e.clone(), 422)),
        };
        self.journal_fired(fired, journaled);
        outcome.map_err(FireError::Failed)
    }

    /// The journal entry of a fired trigger: its result, or its refusal and HTTP status.
    fn journal_fired(&self, fired: Fired<'_>, outcome: Result<Value, (String, u16)>) {
        let (code, detail, reply, status) = match outcome {
            Ok(v) => ("OK", String::new(), v, 200),
            Err((why, status)) => ("FAILED", why, Value::Null, status),
        };
        let tenant = self.acted_for(&fired).map(|t| t.to_string());
        // The rule that decided it, and the timeline that fired it, when either did.
        let rule = match (fired.decided, fired.via) {
            (Some(rule), Some(via)) => Some(format!("{rule} ({via})")),
            (rule, via) => rule.or(via),
        };
        self.journal().record(JournalEntry {
            id: 0,
            surface: "trigger",
            tenant,
            operation: fired.name.to_owned(),
            request_no: None,
            virtual_time: fired.virtual_time,
            wall_time: system_now(),
            http_status: status,
            code: code.to_owned(),
            detail,
            request: Value::Object(fired.params.clone()),
            reply,
            rule,
            latency_us: fired.started.elapsed().as_micros() as u64,
        });
    }

    /// The tenant a fired trigger acted for, as its journal entry and coverage name it: the one
    /// it chose (`trigger::acting_tenant`: the one its parameters name, else its surface's
    /// default tenant), else the one its parameters name (`trigger::named_tenant`: a trigger
    /// refused before it chose, a `sim.*` trigger's `tenant`); `None` for a trigger of every
    /// tenant (`sim.notify.down` without `tenant`) or one that found no tenant to act on.
    fn acted_for(&self, fired: &Fired<'_>) -> Option<TenantId> {
        fired
            .chosen
            .clone()
            .or_else(|| crate::trigger::named_tenant(fired.name, fired.params))
    }

    /// A trigger given a whole `tenant` (the simulator's own, such as `sim.notify.down`) is
    /// refused when no such tenant exists, whether fired by the control plane or a scenario's
    /// timeline: such a trigger changes no tenant state that would refuse it itself, so an outage
    /// of nobody would be answered as done. (Triggers naming a partner, app or merchant refuse
    /// an unknown one themselves.)
    fn named_tenant_exists(
        &self,
        trigger: &str,
        params: &Map<String, Value>,
    ) -> Result<(), FireError> {
        // The tenant a `tenant`, `partnerId`, `merchantNo` or `appId` names: one that does not
        // exist is a 404 whichever parameter named it.
        let Some(t) = crate::trigger::named_tenant(trigger, params) else {
            return Ok(());
        };
        if self.store().has_tenant(&t) {
            return Ok(());
        }
        // Quoted as given: padding in the id is seen (the refusal lists the configured ones).
        let named = t.to_string();
        let why = (self.store()).no_tenant(&format!("{} is configured", crate::text::echo(&named)));
        Err(FireError::Unknown(named_refusal(trigger, why)))
    }
}

/// A trigger's refusal as its caller reads it: starting with the trigger's name, once, as
/// `check_params` names its own refusals (`sim.notify.down: tenant must be provider:id …`), so
/// the message says which trigger refused when a timeline or a script fired several. A trigger
/// that already names itself (`whalet.account.ready: …`) is left as it is.
fn named_refusal(trigger: &str, why: String) -> String {
    let named = why
        .strip_prefix(trigger)
        .is_some_and(|rest| rest.starts_with([':', ' ']));
    if named {
        why
    } else {
        format!("{trigger}: {why}")
    }
}

#[cfg(test)]
mod tests {
    use super::named_refusal;

    #[test]
    fn a_trigger_refusal_starts_with_the_triggers_name_once() {
        assert_eq!(
            named_refusal("sim.notify.down", "\"abc\" is not a duration".into()),
            "sim.notify.down: \"abc\" is not a duration"
        );
        assert_eq!(
            named_refusal(
                "whalet.account.ready",
                "whalet.account.ready: parameter x".into()
            ),
            "whalet.account.ready: parameter x"
        );
        // Another trigger's name that merely starts with this one's is not this one's.
        assert_eq!(
            named_refusal("x.paid", "x.paid_out failed".into()),
            "x.paid: x.paid_out failed"
        );
    }
}
