//! All business state, per tenant. A tenant is one provider account: a Whalet partner (Open API
//! and platform API), an Infinia app, or a Pockyt merchant. Tenants are independent, so they are
//! sharded in a `DashMap`, each behind its own lock; everything that moves money inside a tenant
//! happens under that one lock, in one call. The lock never escapes: callers pass a closure.
//!
//! State types are plain data (serde-serialisable), one module per surface, so that a data
//! directory or a snapshot can be added without redesign.

/// A state's lookups of one record by key: `$get` reads it, `$get_mut` hands it out to change.
/// Both look in the map `$map`, keep only what the optional `where` test lets through, and refuse
/// with `$missing(key)` when there is nothing.
macro_rules! lookups {
    ($($what:literal: $get:ident, $get_mut:ident ($key:ident) in $map:ident -> $ty:ty
        $(where $live:expr)?, else $missing:path;)*) => {$(
        #[doc = concat!("The ", $what, " `", stringify!($key), "`.")]
        pub fn $get(&self, $key: &str) -> Result<&$ty, Refusal> {
            self.$map
                .get($key)
                $(.filter($live))?
                .ok_or_else(|| $missing($key))
        }

        #[doc = concat!("The ", $what, " `", stringify!($key), "`, to change.")]
        pub fn $get_mut(&mut self, $key: &str) -> Result<&mut $ty, Refusal> {
            self.$map
                .get_mut($key)
                $(.filter($live))?
                .ok_or_else(|| $missing($key))
        }
    )*};
}

/// Declares an enum whose variants are words on the wire (a status, a fund source, a surface),
/// each word written once: it serializes, deserializes and displays as that word (`as_str`),
/// reads it back (`parse`), and lists its variants (`ALL`). Further derives go with the doc
/// comment (`#[derive(PartialOrd, Ord)]`).
macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident {
        $($(#[$variant_doc:meta])* $variant:ident = $word:literal),* $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$variant_doc])* #[serde(rename = $word)] $variant),*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),*
                }
            }

            pub fn parse(word: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|s| s.as_str() == word)
            }
        }

        impl $crate::store::Words for $name {
            const WORDS: &'static [&'static str] = &[$($word),*];

            fn parse(word: &str) -> Option<Self> {
                $name::parse(word)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use word_enum;

/// An enum as a request names it: its words, and the variant a word names. Every
/// [`word_enum!`] is one, so a query reads a status filter as the enum, not as text.
pub trait Words: Sized + Copy {
    /// Every word, in the order the variants are declared.
    const WORDS: &'static [&'static str];
    fn parse(word: &str) -> Option<Self>;
}

pub mod idempotency;
pub mod infinia;
pub mod ledger;
pub mod persist;
pub mod platform;
pub mod pockyt;
pub mod refusal;
pub mod request_nos;
pub mod rows;
pub mod whalet;
pub mod whalet_trade;

use std::sync::Arc;

use dashmap::{DashMap, DashSet};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::tenant::{Provider, TenantId};
pub use idempotency::{IdempotencyTable, Replay};
pub use ledger::{Ledger, LedgerError};
pub use refusal::Refusal;
pub use rows::Rows;

/// Everything one tenant owns.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TenantState {
    /// Whalet `requestNo`s already executed (REQUEST_NO_NOT_UNIQUE).
    pub request_nos: request_nos::RequestNos,
    pub idempotency: IdempotencyTable,
    pub ledger: Ledger,
    pub whalet: whalet::WhaletState,
    pub whalet_trade: whalet_trade::WhaletTradeState,
    pub platform: platform::PlatformState,
    pub infinia: infinia::InfiniaState,
    pub pockyt: pockyt::PockytState,
    /// Counters for ids minted in this tenant (deterministic per tenant).
    pub sequence: u64,
}

/// The largest number of a tenant's id sequence that its ids carry in their shape: Whalet ids
/// and bulk payment ids carry it in 8 digits (`U2025010100000001`, `BP00000001`), so a tenant
/// mints 99,999,999 ids. A snapshot or data directory whose `sequence` leaves no number for the
/// next id (at or past this) is refused (`persist::check`); docs/RELIABILITY.md.
pub const MAX_SEQUENCE: u64 = 99_999_999;

impl TenantState {
    /// The next number of this tenant's id sequence (1, 2, ...). It never panics nor wraps
    /// around to the numbers given first: it stops at `u64::MAX`, which no tenant reaches (a
    /// snapshot or data directory with a sequence at or past [`MAX_SEQUENCE`] is refused, and
    /// a run mints one id at a time); past [`MAX_SEQUENCE`] an id grows a digit.
    pub fn next_seq(&mut self) -> u64 {
        self.sequence = self.sequence.saturating_add(1);
        self.sequence
    }

    /// The largest number of this tenant's sequence that an id in its state carries, and where
    /// (`whalet.users["U2026120600000007"]`): a `sequence` below it would mint that id again and
    /// overwrite the object. Read from the maps the store's own types keep minted objects in,
    /// each with the one shape its ids are minted in ([`Minted`]), rather than from any string
    /// that looks like an id: a partner's own text (a memo, an outUserId) never counts, and a
    /// new map of minted objects is one line in [`TenantState::minted`]. Maps keyed by the
    /// partner's ids (`whalet.shops` by bindId, `platform.payments` by paymentId) are not read;
    /// nor are bulk payment ids (`BP` + 8 digits), which a partner may choose too and which the
    /// simulator skips when taken.
    pub fn highest_minted(&self) -> Option<(String, u64)> {
        self.minted()
            .into_iter()
            .flat_map(|(section, shape, ids)| {
                ids.into_iter().filter_map(move |(id, carried)| {
                    let seq = carried.or_else(|| shape.seq_of(id))?;
                    Some((format!("{section}[{id:?}]"), seq))
                })
            })
            .max_by_key(|(_, seq)| *seq)
    }

    /// Every map whose objects carry a number of the sequence: its path, the shape of its ids,
    /// and each object's id with the number it carries outside its id (an upload's
    /// `generation`), if any.
    fn minted(&self) -> Vec<(&'static str, Minted, Ids<'_>)> {
        fn keys<V>(map: &std::collections::BTreeMap<String, V>) -> Ids<'_> {
            map.keys().map(|k| (k.as_str(), None)).collect()
        }
        fn generations(map: &std::collections::BTreeMap<String, infinia::Upload>) -> Ids<'_> {
            map.iter()
                .map(|(k, u)| (k.as_str(), Some(u.generation)))
                .collect()
        }
        let (w, wt, p) = (&self.whalet, &self.whalet_trade, &self.pockyt);
        let id = Minted::Whalet;
        vec![
            ("whalet.users", id, keys(&w.users)),
            ("whalet.holders", id, keys(&w.holders)),
            ("whalet.beneficaries", id, keys(&w.beneficaries)),
            ("whalet.cards", id, keys(&w.cards)),
            ("whalet.collections", id, keys(&w.collections)),
            ("whalet.bank_letters", id, keys(&w.bank_letters)),
            ("whalet_trade.quotes", id, keys(&wt.quotes)),
            ("whalet_trade.beneficiaries", id, keys(&wt.beneficiaries)),
            ("whalet_trade.outflows", id, keys(&wt.outflows)),
            ("whalet_trade.orders", id, keys(&wt.orders)),
            ("whalet_trade.bindings", id, keys(&wt.bindings)),
            ("whalet_trade.shop_orders", id, keys(&wt.shop_orders)),
            ("whalet_trade.replenishes", id, keys(&wt.replenishes)),
            ("pockyt.payees", Minted::Pockyt("200030"), keys(&p.payees)),
            (
                "pockyt.accounts",
                Minted::Pockyt("201030"),
                keys(&p.accounts),
            ),
            ("pockyt.payouts", Minted::Pockyt("301030"), keys(&p.payouts)),
            (
                "platform.uploads",
                Minted::Carried,
                generations(&self.platform.uploads),
            ),
            (
                "infinia.uploads",
                Minted::Carried,
                generations(&self.infinia.uploads),
            ),
        ]
    }

    /// Runs `execute` once per business `id` of `operation` and records its reply against the
    /// request's `content`: a repeat with the same content gets the recorded reply again without
    /// running it (`false`: not fresh). One with other content is refused with what `conflict`
    /// says, looking at the state; `None` lets the re-submission run and replace the record. A
    /// refused `execute` records nothing, so the id stays free.
    pub fn once<E>(
        &mut self,
        (operation, id): (&str, &str),
        content: &Value,
        conflict: impl FnOnce(&Self) -> Option<E>,
        execute: impl FnOnce(&mut Self) -> Result<Value, E>,
    ) -> Result<(Value, bool), E> {
        match self.idempotency.check(operation, id, content) {
            Replay::Same(recorded) => return Ok((recorded, false)),
            Replay::Conflict => {
                if let Some(refusal) = conflict(self) {
                    return Err(refusal);
                }
            }
            Replay::New => {}
        }
        let reply = execute(self)?;
        self.idempotency
            .record(operation, id, content.clone(), reply.clone());
        Ok((reply, true))
    }
}

/// A map's ids, each with the number of the sequence it carries beside it, if any.
type Ids<'a> = Vec<(&'a str, Option<u64>)>;

/// The shape of the ids a map's objects are minted with, each ending in the number of the
/// tenant's sequence ([`TenantState::next_seq`]).
#[derive(Debug, Clone, Copy)]
enum Minted {
    /// Whalet: capital letters, `yyyyMMdd`, then the number in 8 digits (`U2026120600000007`).
    Whalet,
    /// Pockyt: a 6-digit prefix of the object's kind and the number in 16 digits.
    Pockyt(&'static str),
    /// Ids chosen elsewhere (a file name); the number is carried beside the id.
    Carried,
}

impl Minted {
    /// The number `id` carries, or None when it is not an id of this shape (one the partner
    /// chose, or a file name).
    fn seq_of(self, id: &str) -> Option<u64> {
        let digits = match self {
            Minted::Whalet => {
                let rest = id.trim_start_matches(|c: char| c.is_ascii_uppercase());
                (rest.len() < id.len() && rest.len() == 16).then(|| &rest[8..])?
            }
            Minted::Pockyt(prefix) => id.strip_prefix(prefix).filter(|r| r.len() == 16)?,
            Minted::Carried => return None,
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

/// Told of every tenant whose state may have changed (its lock was taken): a data directory
/// writes those tenants before the reply leaves.
pub trait ChangeSink: Send + Sync {
    fn changed(&self, tenant: &TenantId);
}

/// Handle to all tenants' state. Cheap to clone.
#[derive(Clone, Default)]
pub struct Store {
    tenants: Arc<DashMap<TenantId, Arc<Mutex<TenantState>>>>,
    /// The tenants the configuration defines (made by [`Store::ensure_tenant`]); any other came
    /// with an import only, and a reset drops it rather than keep it empty.
    configured: Arc<DashSet<TenantId>>,
    sink: Arc<std::sync::OnceLock<Arc<dyn ChangeSink>>>,
}

impl Store {
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates the tenant's empty state if it does not exist yet; the tenant is a configured
    /// one from now on (a reset empties it, never drops it).
    pub fn ensure_tenant(&self, id: &TenantId) {
        self.configured.insert(id.clone());
        self.tenants.entry(id.clone()).or_default();
    }

    pub fn has_tenant(&self, id: &TenantId) -> bool {
        self.tenants.contains_key(id)
    }

    /// Whether the configuration made `id` (a reset leaves it, empty).
    pub fn is_configured(&self, id: &TenantId) -> bool {
        self.configured.contains(id)
    }

    /// Runs `f` under the tenant's lock. None when the tenant does not exist.
    pub fn with_tenant<R>(
        &self,
        id: &TenantId,
        f: impl FnOnce(&mut TenantState) -> R,
    ) -> Option<R> {
        let cell = self.tenants.get(id).map(|e| Arc::clone(e.value()))?;
        let mut state = cell.lock();
        let result = f(&mut state);
        drop(state);
        self.touched(id);
        Some(result)
    }

    /// Runs `f` on the tenant's state without telling the change sink (reading it to write it
    /// out).
    pub fn read_tenant<R>(&self, id: &TenantId, f: impl FnOnce(&TenantState) -> R) -> Option<R> {
        let cell = self.tenants.get(id).map(|e| Arc::clone(e.value()))?;
        let state = cell.lock();
        Some(f(&state))
    }

    /// Installs the sink told of every change (once; a data directory).
    pub fn set_change_sink(&self, sink: Arc<dyn ChangeSink>) {
        let _ = self.sink.set(sink);
    }

    fn touched(&self, id: &TenantId) {
        if let Some(sink) = self.sink.get() {
            sink.changed(id);
        }
    }

    pub fn tenant_ids(&self) -> Vec<TenantId> {
        let mut ids: Vec<_> = self.tenants.iter().map(|e| e.key().clone()).collect();
        ids.sort();
        ids
    }

    /// The refusal of a tenant that does not exist, naming those that do: `no tenant {what}
    /// (configured: …)`. One text for the control plane's `404`s and the triggers'.
    pub fn no_tenant(&self, what: &str) -> String {
        // `what` names a tenant a client gave: a 60,000-character id is not echoed whole.
        let what = crate::text::bound(what, crate::text::MESSAGE_BYTES);
        let configured: Vec<String> = self.tenant_ids().iter().map(ToString::to_string).collect();
        format!("no tenant {what} (configured: {})", configured.join(", "))
    }

    /// A JSON snapshot of one tenant's state.
    pub fn snapshot(&self, id: &TenantId) -> Option<Value> {
        self.with_tenant(id, |t| serde_json::to_value(&*t).unwrap_or(Value::Null))
    }

    /// Replaces the tenant's state (creating the tenant if needed).
    pub fn put_tenant(&self, id: &TenantId, state: TenantState) {
        let cell = Arc::clone(self.tenants.entry(id.clone()).or_default().value());
        *cell.lock() = state;
        self.touched(id);
    }

    /// Replaces the tenant's state with one restored (an import: a snapshot, a data dir),
    /// creating the tenant if needed, under the limits configured now: its oldest requestNos
    /// beyond `request_no_memory` (`[whalet] request_no_memory`) are forgotten, as a new one
    /// would forget them.
    pub fn put_restored(&self, id: &TenantId, mut state: TenantState, request_no_memory: usize) {
        state.request_nos.forget_beyond(request_no_memory);
        self.put_tenant(id, state);
    }

    /// Empties one tenant's state (or every tenant's). A tenant the configuration does not
    /// define (only an import brought it) is dropped instead: what a reset or a full import
    /// leaves is the configured tenants, empty (docs/PERSISTENCE.md).
    pub fn reset(&self, id: Option<&TenantId>) {
        for tenant in self.tenant_ids() {
            if id.is_some_and(|wanted| wanted != &tenant) {
                continue;
            }
            if self.configured.contains(&tenant) {
                if let Some(cell) = self.tenants.get(&tenant).map(|e| Arc::clone(e.value())) {
                    *cell.lock() = TenantState::default();
                }
            } else {
                self.tenants.remove(&tenant);
            }
            self.touched(&tenant);
        }
    }

    /// The ledger invariant for every tenant: `(tenant, Ok | Err(what is wrong))`.
    pub fn check_invariants(&self) -> Vec<(TenantId, Result<(), String>)> {
        self.tenant_ids()
            .into_iter()
            .filter_map(|id| {
                let verdict = self.with_tenant(&id, |t| t.ledger.verify())?;
                Some((id, verdict))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const KEY: (&str, &str) = ("test.apply", "A1");

    /// Runs `once` for KEY with `content`; the execution counts itself and answers `reply`,
    /// or is refused when `reply` is None. A conflict is refused unless `replace`.
    fn apply(
        t: &mut TenantState,
        content: Value,
        replace: bool,
        reply: Option<Value>,
        runs: &mut u32,
    ) -> Result<(Value, bool), String> {
        let conflict = |_: &TenantState| (!replace).then(|| "conflict".to_owned());
        t.once(KEY, &content, conflict, |_| {
            *runs += 1;
            reply.ok_or_else(|| "refused".to_owned())
        })
    }

    #[test]
    fn a_restored_state_forgets_its_oldest_request_nos_beyond_the_memory() {
        let store = Store::new();
        let id = TenantId::new(crate::tenant::Provider::Whalet, "P1");
        let mut state = TenantState::default();
        for i in 1..=6 {
            state.request_nos.insert(format!("A{i}"), usize::MAX);
        }
        store.put_restored(&id, state, 2);
        let kept = store.read_tenant(&id, |t| {
            t.request_nos.iter().map(str::to_owned).collect::<Vec<_>>()
        });
        assert_eq!(kept, Some(vec!["A5".to_owned(), "A6".to_owned()]));
    }

    /// The sequence numbers a state's minted ids carry, read by shape per map: a partner's id
    /// of another shape (or in a map of its own ids) never counts.
    #[test]
    fn the_highest_minted_number_is_read_from_the_ids_of_each_shape() {
        let mut t = TenantState::default();
        assert_eq!(t.highest_minted(), None);
        for (name, generation) in [("a.csv", 4), ("b.csv", 2)] {
            let upload = infinia::Upload::received(
                name,
                infinia::UploadStatus::Processing,
                0,
                generation,
                None,
            );
            t.infinia.uploads.insert(name.into(), upload);
        }
        assert_eq!(
            t.highest_minted(),
            Some((r#"infinia.uploads["a.csv"]"#.to_owned(), 4))
        );
        assert_eq!(Minted::Whalet.seq_of("U2026120600000007"), Some(7));
        assert_eq!(Minted::Whalet.seq_of("2026120600000007"), None);
        assert_eq!(Minted::Whalet.seq_of("U20261206000000x7"), None);
        assert_eq!(Minted::Whalet.seq_of("U2026120600000+07"), None);
        assert_eq!(
            Minted::Pockyt("200030").seq_of("2000300000000000000003"),
            Some(3)
        );
        assert_eq!(
            Minted::Pockyt("200030").seq_of("3010300000000000000003"),
            None
        );
    }

    #[test]
    fn once_replays_refuses_a_conflict_and_records_only_a_success() {
        let (mut t, mut runs) = (TenantState::default(), 0);
        let (a, b) = (json!({"amount": 1}), json!({"amount": 2}));
        // A refused execution records nothing: the id stays free.
        let refused = apply(&mut t, a.clone(), false, None, &mut runs);
        assert_eq!(refused, Err("refused".to_owned()));
        assert_eq!(t.idempotency.check(KEY.0, KEY.1, &a), Replay::New);
        let first = apply(&mut t, a.clone(), false, Some(json!("r1")), &mut runs);
        assert_eq!(first, Ok((json!("r1"), true)));
        // The same content: the recorded reply, without running again.
        let again = apply(&mut t, a.clone(), false, Some(json!("other")), &mut runs);
        assert_eq!(again, Ok((json!("r1"), false)));
        assert_eq!(runs, 2);
        // Other content: refused, unless the conflict check lets it replace the record.
        let other = apply(&mut t, b.clone(), false, Some(json!("r2")), &mut runs);
        assert_eq!(other, Err("conflict".to_owned()));
        assert_eq!(runs, 2);
        let replaced = apply(&mut t, b.clone(), true, Some(json!("r2")), &mut runs);
        assert_eq!(replaced, Ok((json!("r2"), true)));
        assert_eq!(
            t.idempotency.check(KEY.0, KEY.1, &b),
            Replay::Same(json!("r2"))
        );
    }
}
