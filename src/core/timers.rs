//! Pending work kept as data. Reviews, settlements, seller-binding decisions, SFTP file
//! processing, authorization expiries and scenario timeline events are scheduled here as a
//! [`TimerRecord`] (kind, tenant, key, parameters, due time) on the virtual clock. The one table
//! of kinds ([`TimerKind`]: a name and the function that runs a record) is given to the core at
//! start-up; the clock job only hands its record to that function. Because a record is plain
//! data, snapshots and the data directory keep pending timers, and [`Core::restore_timer`]
//! rebuilds a job from a record after an import or a restart (an overdue one runs at once, in
//! due order, since the clock runs every timer whose due time has passed).

use std::cell::RefCell;

use serde::de::{DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
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
    /// Reads the record (its tenant and parameters: [`for_tenant`], [`for_record`]) and returns
    /// the work as a future not yet started, doing nothing else until polled:
    /// [`Core::check_timer`] calls it and drops the future to learn whether the record reads.
    pub run: RunFn,
}

thread_local! {
    /// Set while [`Core::check_timer`] runs a kind's function on this thread: then the first
    /// reason a record would be skipped ([`skip`]) is kept here instead of logged.
    static CHECKING: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
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
    /// not one this simulator knows. An import checks each record first ([`Core::check_timer`]).
    pub fn restore_timer(&self, record: TimerRecord) -> Result<u64, String> {
        let kind = self
            .timer_kind(&record)
            .map_err(|e| format!("timer {:?}: {e}", record.label))?;
        Ok(self.schedule_record(kind.run, record))
    }

    /// Whether `record` would run rather than be skipped when due: its kind is registered and
    /// its tenant and parameters read as the kind reads them (the same code, run without
    /// starting the work). An import refuses what this refuses, so that no pending work is lost
    /// silently later: the message names the field (`params.completion: invalid type: null,
    /// expected a string`). Whether the record's object is there is not known here (the state
    /// to look in is the imported one, not the store's): an import checks that beside the
    /// tenants it reads (`persist::check::timers`).
    pub fn check_timer(&self, record: &TimerRecord) -> Result<(), String> {
        struct Restore(Option<Option<String>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CHECKING.with(|c| c.replace(self.0.take()));
            }
        }
        let kind = self.timer_kind(record)?;
        let restore = Restore(CHECKING.with(|c| c.replace(Some(None))));
        drop((kind.run)(self.clone(), record.clone()));
        let found = CHECKING.with(|c| c.borrow_mut().take()).flatten();
        drop(restore);
        found.map_or(Ok(()), Err)
    }

    /// The registered kind of `record`, or why there is none.
    fn timer_kind(&self, record: &TimerRecord) -> Result<TimerKind, String> {
        self.inner
            .timer_kinds
            .iter()
            .find(|k| k.name == record.kind)
            .copied()
            .ok_or_else(|| format!("kind {:?} is not one this simulator knows", record.kind))
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
        return skip(&record, "tenant: absent or not provider:id");
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
    let read = serde::Deserialize::deserialize(Params {
        params: &record.params,
        names,
    });
    match read {
        Ok(params) => Box::pin(run(core, record.key, params)),
        Err(e) => skip(&record, &e.to_string()),
    }
}

/// A record's parameters `names`, in that order, as the sequence a tuple reads; an absent one
/// reads as null, and a refusal names its parameter (`params.attempt: invalid type: …`).
struct Params<'a> {
    params: &'a Value,
    names: &'a [&'a str],
}

impl<'de> serde::Deserializer<'de> for Params<'_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(ParamSeq {
            params: self.params,
            names: self.names.iter(),
        })
    }

    /// A kind without parameters reads them as `()`.
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// The parameters of [`Params`], one by one.
struct ParamSeq<'a> {
    params: &'a Value,
    names: std::slice::Iter<'a, &'a str>,
}

impl<'de> SeqAccess<'de> for ParamSeq<'_> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        let Some(name) = self.names.next() else {
            return Ok(None);
        };
        let value = self.params.get(*name).cloned().unwrap_or(Value::Null);
        seed.deserialize(value)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("params.{name}: {e}")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.names.len())
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

/// A record that cannot run (its tenant or a parameter does not read back): logged, skipped;
/// under [`Core::check_timer`], kept as the reason it is refused instead.
pub fn skip(record: &TimerRecord, why: &str) -> JobFuture {
    let checked = CHECKING.with(|c| match c.borrow_mut().as_mut() {
        Some(found) => {
            found.get_or_insert_with(|| why.to_owned());
            true
        }
        None => false,
    });
    if !checked {
        tracing::warn!(label = %record.label, kind = %record.kind, why, "timer skipped");
    }
    Box::pin(async {})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn read<P: DeserializeOwned>(params: &Value, names: &[&str]) -> Result<P, String> {
        P::deserialize(Params { params, names }).map_err(|e| e.to_string())
    }

    /// Parameters read in the order named, an absent one as null; a refusal names its
    /// parameter, as an import's message does.
    #[test]
    fn parameters_read_in_order_and_a_refusal_names_the_parameter() {
        let params = json!({"attempt": 2, "completion": "onboarding"});
        let both: (String, u32) = read(&params, &["completion", "attempt"]).unwrap();
        assert_eq!(both, ("onboarding".to_owned(), 2));
        let absent: (Option<String>,) = read(&params, &["reason"]).unwrap();
        assert_eq!(absent, (None,));
        read::<()>(&params, &[]).unwrap();
        assert_eq!(
            read::<(String, u32)>(&json!({}), &["completion", "attempt"]).unwrap_err(),
            "params.completion: invalid type: null, expected a string"
        );
        assert_eq!(
            read::<(String, u32)>(
                &json!({"completion": "x", "attempt": -1}),
                &["completion", "attempt"]
            )
            .unwrap_err(),
            "params.attempt: invalid value: integer `-1`, expected u32"
        );
    }
}
