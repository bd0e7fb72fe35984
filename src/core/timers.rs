//! Pending work kept as data. Reviews, settlements, seller-binding decisions, SFTP file
//! processing, authorization expiries and scenario timeline events are scheduled here as a
//! [`TimerRecord`] (kind, tenant, key, parameters, due time) on the virtual clock. The one table
//! of kinds ([`TimerKind`]: a name and the function that runs a record) is given to the core at
//! start-up; the clock job only hands its record to that function. Because a record is plain
//! data, snapshots and the data directory keep pending timers, and [`Core::restore_timer`]
//! rebuilds a job from a record after an import or a restart (an overdue one runs at once, in
//! due order, since the clock runs every timer whose due time has passed).

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Core;
use crate::clock::{JobFuture, Millis, TimerRecord};
use crate::tenant::TenantId;

/// Runs one due record.
pub type RunFn = fn(Core, TimerRecord) -> JobFuture;

/// A registered kind of pending work.
#[derive(Clone, Copy)]
pub struct TimerKind {
    /// Its name in records (`whalet.review`, `pockyt.payout.step`, ...); unique.
    pub name: &'static str,
    pub run: RunFn,
}

/// What to schedule: the kind's parameters besides the kind itself.
pub struct Pending<'a> {
    pub label: String,
    pub tenant: Option<&'a TenantId>,
    pub key: &'a str,
    pub params: Value,
}

impl Core {
    /// Schedules `kind` at virtual time `due` as a durable timer.
    pub fn schedule_timer(&self, kind: &TimerKind, due: Millis, pending: Pending<'_>) -> u64 {
        if !self.inner.timer_kinds.iter().any(|k| k.name == kind.name) {
            // A kind missing from the table still runs now, but would be lost on restore.
            tracing::error!(
                kind = kind.name,
                "timer kind is not registered; it will not survive a restore"
            );
        }
        let record = TimerRecord {
            due,
            label: pending.label,
            kind: kind.name.to_owned(),
            tenant: pending.tenant.map(ToString::to_string),
            key: pending.key.to_owned(),
            params: pending.params,
        };
        self.schedule_record(kind.run, record)
    }

    /// Drops the pending work of tenant `t` (a tenant reset or import): its durable timers and
    /// the timers labelled `<tenant>/...`, and its open authorization links.
    pub fn cancel_tenant_work(&self, t: &TenantId) {
        self.clock().cancel_matching(&format!("{t}/"));
        let key = t.to_string();
        self.clock()
            .cancel_records(|r| r.tenant.as_deref() == Some(key.as_str()));
        self.authorizations().clear_tenant(t);
    }

    /// Schedules `kind` `delay_ms` of virtual time from now.
    pub fn schedule_timer_in(&self, kind: &TimerKind, delay_ms: i64, pending: Pending<'_>) -> u64 {
        let due = self.clock().now().saturating_add(delay_ms.max(0));
        self.schedule_timer(kind, due, pending)
    }

    fn schedule_record(&self, run: RunFn, record: TimerRecord) -> u64 {
        let (core, job_record) = (self.clone(), record.clone());
        self.clock()
            .schedule_record(record, Box::new(move || run(core, job_record)))
    }

    /// Puts a record back on the clock (a snapshot import, a restart); refused when its kind is
    /// not one this simulator knows.
    pub fn restore_timer(&self, record: TimerRecord) -> Result<u64, String> {
        let Some(kind) = self
            .inner
            .timer_kinds
            .iter()
            .find(|k| k.name == record.kind)
        else {
            return Err(format!(
                "timer {:?} has kind {:?}, which this simulator does not know",
                record.label, record.kind
            ));
        };
        Ok(self.schedule_record(kind.run, record))
    }

    /// Whether `kind` names a registered timer kind.
    pub fn knows_timer_kind(&self, kind: &str) -> bool {
        self.inner.timer_kinds.iter().any(|k| k.name == kind)
    }
}

/// The tenant a record is about.
pub fn tenant_of(record: &TimerRecord) -> Option<TenantId> {
    record.tenant.as_deref().and_then(TenantId::parse)
}

/// Runs a tenant's record: its tenant, its key and the parameters `names`, read in that order as
/// the tuple `P`, are handed to `run`; a record whose tenant or parameters do not read back is
/// logged and skipped.
pub fn for_tenant<P, F, Fut>(core: Core, record: TimerRecord, names: &[&str], run: F) -> JobFuture
where
    P: DeserializeOwned,
    F: FnOnce(Core, TenantId, String, P) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(tenant) = tenant_of(&record) else {
        return skip(&record, "no tenant");
    };
    for_record(core, record, names, |core, key, params| {
        run(core, tenant, key, params)
    })
}

/// Runs a record whatever its tenant: its key and the parameters `names`, read in that order as
/// the tuple `P`, are handed to `run`; a record whose parameters do not read back is logged and
/// skipped.
pub fn for_record<P, F, Fut>(core: Core, record: TimerRecord, names: &[&str], run: F) -> JobFuture
where
    P: DeserializeOwned,
    F: FnOnce(Core, String, P) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let values: Vec<Value> = names
        .iter()
        .map(|n| record.params.get(*n).cloned().unwrap_or(Value::Null))
        .collect();
    match serde_json::from_value::<P>(Value::Array(values)) {
        Ok(params) => Box::pin(run(core, record.key, params)),
        Err(e) => skip(&record, &format!("parameters {}: {e}", names.join(", "))),
    }
}

/// Declares a [`TimerKind`]: its record name and the body run on a due record. The closure-like
/// head names the core, the tenant (omitted for a kind whose records need none), the key, then
/// each parameter as `variable: Type = "name in the record"`; a record whose tenant or
/// parameters do not read back is logged and skipped (see [`for_tenant`], [`for_record`]).
///
/// ```ignore
/// timer_kind! {
///     /// A payout's scheduled status change (key: the payout's number).
///     pub PAYOUT_STEP = "pockyt.payout.step",
///     |core, tenant, key, to: PayoutStatus = "to", reason: Option<String> = "reason"| { ... }
/// }
/// ```
macro_rules! timer_kind {
    (
        @declare $(#[$meta:meta])* $vis:vis $id:ident = $name:literal, $runner:ident
        [$($param:literal),*] $run:expr
    ) => {
        $(#[$meta])*
        $vis const $id: $crate::core::timers::TimerKind = $crate::core::timers::TimerKind {
            name: $name,
            run: |core, record| $crate::core::timers::$runner(core, record, &[$($param),*], $run),
        };
    };
    (
        $(#[$meta:meta])*
        $vis:vis $id:ident = $name:literal,
        |$core:ident, $tenant:ident, $key:ident $(, $var:ident: $ty:ty = $param:literal)* $(,)?|
        $body:block
    ) => {
        $crate::core::timers::timer_kind!(@declare $(#[$meta])* $vis $id = $name, for_tenant
            [$($param),*] |$core, $tenant, $key, ($($var,)*): ($($ty,)*)| async move $body);
    };
    (
        $(#[$meta:meta])*
        $vis:vis $id:ident = $name:literal,
        |$core:ident, $key:ident $(, $var:ident: $ty:ty = $param:literal)* $(,)?|
        $body:block
    ) => {
        $crate::core::timers::timer_kind!(@declare $(#[$meta])* $vis $id = $name, for_record
            [$($param),*] |$core, $key, ($($var,)*): ($($ty,)*)| async move $body);
    };
}
pub(crate) use timer_kind;

/// A record that cannot run (its tenant or a parameter does not read back): logged, skipped.
pub fn skip(record: &TimerRecord, why: &str) -> JobFuture {
    tracing::warn!(label = %record.label, kind = %record.kind, why, "timer skipped");
    Box::pin(async {})
}
