//! What the collections operations share: the [`Verdict`] a scenario (or a trigger) gives an
//! asynchronous review, scheduling it on the virtual clock (the lifecycle itself is [`review`]), business-id idempotency,
//! deterministic ids, and finding the partner a trigger is about. No operation lives here.

pub mod fields;
pub mod kinds;
pub mod owned;
pub mod review;
#[cfg(test)]
pub mod testing;

use serde_json::{json, Map, Value};

use crate::api::pipeline::{self, Opened};
use crate::api::whalet::{Ctx, Reply};
use crate::behaviour::NotifyBehaviour;
use crate::clock::format;
use crate::core::Core;
use crate::scenario::Decision;
use crate::store::{Provider, Replay, TenantId, TenantState};
use crate::trigger::opt_param;
use crate::wire::whalet::{Code, WhaletError};

/// How an asynchronous review ends.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    pub success: bool,
    /// The status word to report instead of the default one.
    pub status: Option<String>,
    pub reason: Option<String>,
    /// Extra values (`reMaterial`, `materialType`, `message`, ...).
    pub values: Map<String, Value>,
    pub notify: NotifyBehaviour,
    /// The object whose notifications the one this decision sends waits behind (see
    /// [`review::send_after`]): a payout failed by its rejected EDD is told after the EDD's
    /// own result.
    pub after: Option<String>,
}

impl Verdict {
    pub fn approve() -> Self {
        Self {
            success: true,
            ..Self::default()
        }
    }

    pub fn reject(reason: Option<String>) -> Self {
        Self {
            success: false,
            reason,
            ..Self::default()
        }
    }

    pub fn from_decision(decision: &Decision) -> Self {
        Self {
            success: decision.succeeds(),
            status: decision.result.as_ref().and_then(|r| r.status.clone()),
            reason: decision.reason().map(str::to_owned),
            values: decision.values.clone(),
            notify: decision.notify.clone(),
            after: None,
        }
    }

    /// A trigger's verdict: `success` plus the optional `status`, `reason`/`message` and any other
    /// string parameters as values.
    pub fn from_params(success: bool, params: &Map<String, Value>) -> Self {
        let mut values = params.clone();
        values.remove("partnerId");
        Self {
            success,
            status: opt_param(params, "status").map(str::to_owned),
            reason: opt_param(params, "reason")
                .or_else(|| opt_param(params, "message"))
                .map(str::to_owned),
            values,
            notify: NotifyBehaviour::default(),
            after: None,
        }
    }

    /// The status word to report: the scenario's, else the default for the outcome.
    pub fn word(&self, success_word: &str, failure_word: &str) -> String {
        self.status.clone().unwrap_or_else(|| {
            if self.success {
                success_word
            } else {
                failure_word
            }
            .to_owned()
        })
    }

    /// The reason text: the scenario's, else a default for the outcome.
    /// `approved` or `rejected`, by the verdict.
    pub fn pick<T>(&self, approved: T, rejected: T) -> T {
        if self.success {
            approved
        } else {
            rejected
        }
    }

    /// Why the object was refused ([`Verdict::message`], default `rejected`); empty when approved.
    pub fn refusal(&self, rejected: &str) -> String {
        self.pick(String::new(), self.message("", rejected))
    }

    pub fn message(&self, approved: &str, rejected: &str) -> String {
        self.reason
            .clone()
            .or_else(|| self.value("message"))
            .unwrap_or_else(|| if self.success { approved } else { rejected }.to_owned())
    }

    /// A value as text (strings as they are, other JSON as its text).
    pub fn value(&self, key: &str) -> Option<String> {
        match self.values.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

/// Completes a review: applies the verdict to object `key` (if it is still waiting, and — when
/// `attempt` is given — still at that attempt) and sends its notification. Returns the
/// notification payload, or why nothing was done.
pub type CompletionFn = fn(&Core, &TenantId, &str, Option<u32>, Verdict) -> Result<Value, String>;

/// A completion and the name a scheduled decision's timer record carries for it (the record is
/// data: it names its completion, and [`completions`] finds it again after a restart).
#[derive(Clone, Copy)]
pub struct Completion {
    pub name: &'static str,
    pub run: CompletionFn,
}

/// A timer record names its completion; one of another name does not read, so that an import
/// refuses it rather than keep a decision that would never be taken.
impl<'de> serde::Deserialize<'de> for Completion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        let all = completions();
        all.iter().find(|c| c.name == name).copied().ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|c| c.name).collect();
            serde::de::Error::custom(format!(
                "unknown completion {name:?}; known: {}",
                names.join(", ")
            ))
        })
    }
}

/// A payout or payment finishing (`payoutApply`, `payApply`, a payout held for EDD).
pub const OUTFLOW: Completion = Completion {
    name: "outflow",
    run: crate::api::whalet::payout::outflow::complete,
};

/// Runs `complete` after `delay_ms` of virtual time for `(what, key, attempt)` (e.g.
/// `("onboarding", userId, 1)`). A stale job (the object was decided by a trigger or re-submitted
/// meanwhile) does nothing. Nothing is scheduled while a handler is probed ([`replays`]).
pub fn schedule(
    core: &Core,
    tenant: &TenantId,
    delay_ms: i64,
    (what, key, attempt): (&str, &str, u32),
    verdict: Verdict,
    complete: Completion,
) {
    if probing() {
        return;
    }
    let name = complete.name;
    debug_assert!(
        completions().iter().any(|c| c.name == name),
        "completion {name} is not in the table"
    );
    let label = format!("{tenant} {what} {key}");
    let mut params = json!({"completion": name, "attempt": attempt, "verdict": {
        "success": verdict.success, "status": verdict.status, "reason": verdict.reason,
        "values": verdict.values, "notify": verdict.notify}});
    if let Some(after) = verdict.after {
        params["verdict"]["after"] = json!(after);
    }
    core.schedule_timer_in(
        &REVIEW_TIMER,
        delay_ms,
        crate::core::timers::Pending {
            label,
            tenant: Some(tenant),
            key,
            params,
        },
    );
}

/// Every completion a scheduled decision runs, by the name its timer record carries.
fn completions() -> [Completion; 11] {
    use kinds::*;
    use review::completion;
    [
        completion::<OnboardingReview>(),
        completion::<HolderReview>(),
        completion::<BeneficaryReview>(),
        completion::<OpeningReview>(),
        completion::<ShopReview>(),
        completion::<CancelReview>(),
        completion::<BeneficiaryReview>(),
        completion::<BindReview>(),
        completion::<ReplenishReview>(),
        completion::<CollectionReview>(),
        OUTFLOW,
    ]
}

crate::core::timers::timer_kind! {
    /// A scheduled Whalet decision (key: the object's id): runs its completion, by name.
    pub REVIEW_TIMER = "whalet.review",
    |core,
     tenant,
     key,
     completion: Completion = "completion",
     attempt: u32 = "attempt",
     v: Value = "verdict"| {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let verdict = Verdict {
            success: v.get("success").and_then(Value::as_bool).unwrap_or(false),
            status: text("status"),
            reason: text("reason"),
            values: v
                .get("values")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            notify: v
                .get("notify")
                .cloned()
                .and_then(|n| serde_json::from_value(n).ok())
                .unwrap_or_default(),
            after: text("after"),
        };
        // Mostly routine: a trigger decided the object first, or a re-submission made this
        // attempt stale. A review that is still open yet cannot take its decision warns where
        // it finds so (e.g. the EDD whose held order has ended).
        if let Err(why) = (completion.run)(&core, &tenant, &key, Some(attempt), verdict) {
            tracing::debug!(key = %key, completion = completion.name, why, "scheduled decision not applied");
        }
    }
}

/// An id Whalet issues: `prefix` + `yyyyMMdd` (virtual, UTC+8) + the tenant's sequence (8 digits).
pub fn mint(t: &mut TenantState, prefix: &str, now: i64) -> String {
    let date: String = format::china(now)
        .chars()
        .filter(char::is_ascii_digit)
        .take(8)
        .collect();
    format!("{prefix}{date}{:08}", t.next_seq())
}

/// A file id in the vendor's format (24 digits), all of them random from the operating system's
/// CSPRNG (about 79 bits): a fileId says nothing about its neighbours, so one cannot be guessed
/// from another. Unique within the tenant. (`now` is kept for the callers; the id no longer
/// carries the time.)
pub fn mint_file_id(t: &mut TenantState, _now: i64) -> String {
    use rand::Rng;
    loop {
        let id: String = (0..24)
            .map(|_| char::from(b'0' + rand::rngs::OsRng.gen_range(0..10u8)))
            .collect();
        if !t.whalet_trade.files.contains_key(&id) {
            return id;
        }
    }
}

/// Who chose a business id, which says what the partner can do when other content comes under
/// it ([`once`]'s IDEMPOTENT_ERROR).
#[derive(Clone, Copy)]
pub enum IdOf<'r> {
    /// The partner's own id (`outCardId`, `batchNo`): send the original content, or use a new id.
    Partner,
    /// An id the simulator issued (`payId`, which `payApply` answers): the partner cannot choose
    /// another, so the text says what it can do instead.
    Issued(&'r str),
}

/// The IDEMPOTENT_ERROR text for other content under a partner's id `id_field` = `id`, whose
/// record is that id's first request: send that again, or use a new id.
pub fn used_before(id_field: &str, id: &str) -> String {
    format!(
        "{id_field} {id:?} was already used with different content; send the original content \
         to get the original result, or use a new {id_field}"
    )
}

/// Runs `execute` once per business id (`operation` may carry a scope, e.g. the userId, when the
/// id is unique per user only): the same id with the same `content` returns the recorded
/// reply; with different content it is IDEMPOTENT_ERROR, whose words say what the partner can
/// do by who chose the id (`id_of`). `content` is what the operation read of the request
/// ([`Check::content`](fields::Check::content)), so a field it ignores, or a null where the
/// first request left the field out, does not make a retry a different request. Everything
/// happens under the tenant lock; a refused request changes nothing and is not recorded.
pub fn once(
    ctx: &Ctx<'_>,
    operation: &str,
    (id_field, business_id): (&str, &str),
    content: &Value,
    id_of: IdOf<'_>,
    execute: impl FnOnce(&mut TenantState) -> Result<Reply, WhaletError>,
) -> Result<Reply, WhaletError> {
    let conflict = |_: &TenantState| {
        Some(WhaletError::idempotent(match id_of {
            IdOf::Partner => used_before(id_field, business_id),
            IdOf::Issued(remedy) => format!(
                "{id_field} {business_id:?} was already used with different content; {remedy}"
            ),
        }))
    };
    once_keyed(
        ctx,
        (|_: &TenantState| operation.to_owned(), business_id),
        content,
        conflict,
        execute,
    )
}

/// [`once`] for a caller that names the request itself: `key` gives the operation part of the
/// idempotency key, read under the same lock the request runs under (so a state change between
/// reading it and running cannot slip in), and `conflict` says, looking at the state, how other
/// content under that key is refused (`None` lets it replace the record).
///
/// While [`replays`] probes the request, nothing runs: the record under the key says whether
/// the request would be answered from it (the same content, or other content `conflict`
/// refuses), and the handler stops here.
pub fn once_keyed(
    ctx: &Ctx<'_>,
    (key, business_id): (impl FnOnce(&TenantState) -> String, &str),
    content: &Value,
    conflict: impl FnOnce(&TenantState) -> Option<WhaletError>,
    execute: impl FnOnce(&mut TenantState) -> Result<Reply, WhaletError>,
) -> Result<Reply, WhaletError> {
    if let Some(tenant) = probe::tenant() {
        let answered = ctx.core.store().read_tenant(&tenant, |t| {
            let operation = key(t);
            match t.idempotency.check(&operation, business_id, content) {
                Replay::Same(_) => true,
                Replay::Conflict => conflict(t).is_some(),
                Replay::New => false,
            }
        });
        return Err(probe::found(answered.unwrap_or(false)));
    }
    ctx.with_state(|t| {
        let operation = key(t);
        let (recorded, _) = t.once((&operation, business_id), content, conflict, |t| {
            let reply = execute(t)?;
            Ok(json!({"code": reply.code.as_str(), "body": reply.body}))
        })?;
        Ok(replayed(recorded))
    })?
}

/// The idempotency key `(operation, id)` of an operation that keeps its business id itself,
/// through [`TenantState::once`] under its own lock (the whalet-platform operations, whose
/// other content under a kept id is always refused as a conflict): the key as given. While
/// [`replays`] probes the request, whether the tenant holds a record under it, and the handler
/// stops here (an `Err` it passes on).
pub fn kept<'k>(core: &Core, key: (&'k str, &'k str)) -> Result<(&'k str, &'k str), WhaletError> {
    match probe::tenant() {
        None => Ok(key),
        Some(tenant) => {
            let held = core
                .store()
                .read_tenant(&tenant, |t| t.idempotency.holds(key.0, key.1));
            Err(probe::found(held.unwrap_or(false)))
        }
    }
}

/// Whether request `opened` repeats an earlier one by a business id its operation keeps, so
/// that the operation answers from its first result ([`Scheme::replays`]): the same content
/// (the first answer is replayed), or other content the operation refuses as a conflict. A
/// re-submission the operation lets replace its record (a rejected application sent again
/// with corrected content), a new id, and an operation that keeps no id are new requests.
///
/// The operation's own code answers, so that no list of id fields and keys can drift from it:
/// `run` calls the handler as a probe, which goes as far as the point where it keeps its id
/// ([`once_keyed`], which every [`once`] and [`review::apply`] goes through, or [`kept`]); that
/// looks the key up in the tenant's record (read only), under the same rule and the same lock
/// as the request, and stops the handler. The probe runs against a tenant that does not exist, as
/// describe mode does ([`crate::api::describe::nobody`]): a handler that reads or changes the
/// state before it keeps an id stops there, and nothing is changed; nor is a notification sent
/// or a decision scheduled ([`notify`](crate::api::whalet::notify), [`schedule`]) while probing.
///
/// [`Scheme::replays`]: crate::api::pipeline::Scheme::replays
pub fn replays<S>(
    core: &Core,
    opened: &Opened<S>,
    run: impl FnOnce(&pipeline::Ctx<'_, S>, &Value),
) -> bool {
    let nobody = crate::api::describe::nobody(opened.tenant.provider);
    let decision = Decision::default();
    let ctx = pipeline::Ctx {
        core,
        tenant: &nobody,
        decision: &decision,
        session: &opened.session,
    };
    let probing = probe::Probing::start(opened.tenant.clone());
    run(&ctx, &opened.body);
    probing.answer()
}

/// The probe [`replays`] runs a handler as, on this thread (a handler runs synchronously).
mod probe {
    use std::cell::RefCell;

    use crate::tenant::TenantId;
    use crate::wire::whalet::{Code, WhaletError};

    thread_local! {
        /// The tenant the request is about, and what the point keeping the id found.
        static PROBE: RefCell<Option<(TenantId, bool)>> = const { RefCell::new(None) };
    }

    /// Whether a probe runs on this thread.
    pub fn active() -> bool {
        PROBE.with(|p| p.borrow().is_some())
    }

    /// The tenant the request being probed is about; None when no probe runs.
    pub fn tenant() -> Option<TenantId> {
        PROBE.with(|p| p.borrow().as_ref().map(|(tenant, _)| tenant.clone()))
    }

    /// Notes whether the request would be answered from the record, and stops the handler.
    pub fn found(replays: bool) -> WhaletError {
        PROBE.with(|p| {
            if let Some((_, found)) = p.borrow_mut().as_mut() {
                *found = replays;
            }
        });
        WhaletError::new(
            Code::InternalError,
            "probed for a kept business id; the request is not run",
        )
    }

    /// A probe under way; ended when dropped (a handler that panics included).
    pub struct Probing(());

    impl Probing {
        pub fn start(tenant: TenantId) -> Self {
            PROBE.with(|p| *p.borrow_mut() = Some((tenant, false)));
            Self(())
        }

        /// What the probe found (false: the handler kept no id it holds).
        pub fn answer(self) -> bool {
            PROBE.with(|p| p.borrow().as_ref().is_some_and(|(_, found)| *found))
        }
    }

    impl Drop for Probing {
        fn drop(&mut self) {
            PROBE.with(|p| *p.borrow_mut() = None);
        }
    }
}

/// Whether a probe ([`replays`]) is running on this thread: a handler's notifications and
/// scheduled decisions are not made then.
pub fn probing() -> bool {
    probe::active()
}

/// A reply as [`once`] recorded it (`{"code", "body"}`).
fn replayed(mut recorded: Value) -> Reply {
    let code = recorded
        .get("code")
        .and_then(Value::as_str)
        .and_then(Code::parse)
        .unwrap_or(Code::Success);
    Reply {
        code,
        body: recorded
            .get_mut("body")
            .map(Value::take)
            .filter(|b| !b.is_null()),
    }
}

/// The partner a trigger acts on, by the rule every surface's triggers share
/// ([`crate::trigger::acting_tenant`]): the one `partnerId` names, else the demo partner when
/// configured, else the only partner.
pub fn trigger_tenant(core: &Core, params: &Map<String, Value>) -> Result<TenantId, String> {
    crate::trigger::acting_tenant(
        Provider::Whalet,
        params,
        (core.config().whalet.demo_partner)
            .then_some(crate::api::whalet::partners::DEMO_PARTNER_ID),
        &core.partners().ids(),
    )
}

/// Sends a notification with an explicit behaviour (used by scheduled completions).
pub fn send(
    core: &Core,
    tenant: &TenantId,
    api_code: &str,
    payload: &Value,
    business_id: &str,
    behaviour: NotifyBehaviour,
) {
    crate::api::whalet::notify(
        core,
        tenant,
        api_code,
        payload.clone(),
        Some(business_id.to_owned()),
        behaviour,
    );
}

/// [`Core::with_tenant`] for jobs and triggers, whose errors are text.
pub fn with_tenant<R>(
    core: &Core,
    tenant: &TenantId,
    f: impl FnOnce(&mut TenantState) -> Result<R, String>,
) -> Result<R, String> {
    core.with_tenant_text(tenant, f)?
}

/// A FAILURE for a business rule violation.
pub fn failure(detail: impl Into<String>) -> WhaletError {
    WhaletError::failure(detail)
}

/// Refuses a request about a user this partner does not have (for lookups that read nothing
/// else of the state).
pub fn known_user(ctx: &Ctx<'_>, user_id: &str) -> Result<(), WhaletError> {
    ctx.with_state(|t| t.whalet.user(user_id).map(|_| ()))??;
    Ok(())
}

/// Object `id` of `map` again, to change it: it was read a moment ago under the same tenant lock
/// (its absence is a bug, said as `{what} vanished`).
pub fn again<'m, T>(
    map: &'m mut std::collections::BTreeMap<String, T>,
    id: &str,
    what: &str,
) -> Result<&'m mut T, String> {
    map.get_mut(id).ok_or_else(|| format!("{what} vanished"))
}

/// A trigger's required id parameter.
pub fn id_param<'a>(params: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    crate::trigger::param(params, name)
}

/// The page a paged query asks for ([`Check::paging`](fields::Check::paging)): `pageNum` from 1,
/// `pageSize` items.
#[derive(Clone, Copy)]
pub struct Paging {
    pub num: u64,
    pub size: u64,
}

impl Paging {
    /// The page of `items` as the reply.
    pub fn reply(self, items: Vec<Value>) -> Reply {
        Reply::ok(page(items, self.num, self.size))
    }

    /// The page of a query's matches, newest first by `key` (a time, then an id for equal times),
    /// each shown by `view`.
    pub fn newest_first<T>(
        self,
        mut found: Vec<&T>,
        key: impl Fn(&T) -> (i64, &str),
        view: impl FnMut(&T) -> Value,
    ) -> Reply {
        found.sort_by(|a, b| key(b).cmp(&key(a)));
        self.reply(found.into_iter().map(view).collect())
    }
}

/// A query's optional time window ([`Check::period`](fields::Check::period)), both ends
/// included: epoch ms of times given to the second.
#[derive(Clone, Copy)]
pub struct Period {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Period {
    /// Whether a record stamped `at` (epoch ms) falls in the window. The end covers its whole
    /// second, as times are shown to the second: a record at 08:00:00.500 shows as 08:00:00, so
    /// `endTime = "… 08:00:00"` must find it, as `startTime` with that value does.
    pub fn contains(self, at: i64) -> bool {
        self.start.is_none_or(|s| at >= s)
            && self.end.is_none_or(|e| at.saturating_sub(e) < SECOND_MS)
    }
}

/// One second in epoch ms, the precision of the Whalet time format.
const SECOND_MS: i64 = 1_000;

/// A JSON array reply.
pub fn list(items: impl IntoIterator<Item = Value>) -> Reply {
    Reply::ok(Value::Array(items.into_iter().collect()))
}

/// A list reply about one user's objects: refuses a user this partner does not have, then `rows`
/// reads them under the tenant lock.
pub fn user_rows(
    ctx: &Ctx<'_>,
    user_id: &str,
    rows: impl FnOnce(&TenantState) -> Vec<Value>,
) -> Result<Reply, WhaletError> {
    ctx.try_with_state(|t| {
        t.whalet.user(user_id)?;
        Ok(list(rows(t)))
    })
}

/// One page of `items` in the vendor's page shape `{total, size, current, pages, records}`
/// (`pageNum` from 1; a page past the end has no records).
pub fn page(items: Vec<Value>, page_num: u64, page_size: u64) -> Value {
    let total = items.len() as u64;
    let size = page_size.max(1);
    let pages = total.div_ceil(size);
    let skip =
        usize::try_from(page_num.saturating_sub(1).saturating_mul(size)).unwrap_or(usize::MAX);
    let records: Vec<Value> = items
        .into_iter()
        .skip(skip)
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .collect();
    json!({
        "total": total,
        "size": size,
        "current": page_num,
        "pages": pages,
        "records": records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_includes_both_ends_and_an_open_end_is_unbounded() {
        let p = Period {
            start: Some(10_000),
            end: Some(20_000),
        };
        assert!(p.contains(10_000) && p.contains(20_000));
        assert!(!p.contains(9_999) && !p.contains(21_000));
        let open = Period {
            start: Some(10_000),
            end: None,
        };
        assert!(open.contains(i64::MAX) && !open.contains(9_999));
    }

    /// Times are given to the second: the end bound covers every millisecond of its second,
    /// the start bound begins at its first, whichever end is given alone.
    #[test]
    fn the_end_of_a_period_covers_its_whole_second() {
        let second = Period {
            start: Some(20_000),
            end: Some(20_000),
        };
        assert!(second.contains(20_000) && second.contains(20_500) && second.contains(20_999));
        assert!(!second.contains(21_000) && !second.contains(19_999));
        let until = Period {
            start: None,
            end: Some(20_000),
        };
        assert!(until.contains(20_999) && !until.contains(21_000));
        let near_the_end = Period {
            start: None,
            end: Some(i64::MAX),
        };
        assert!(near_the_end.contains(i64::MAX));
    }

    #[test]
    fn a_refusal_reason_is_empty_when_approved_and_prefers_the_given_message() {
        assert_eq!(Verdict::approve().refusal("returned"), "");
        assert_eq!(Verdict::reject(None).refusal("returned"), "returned");
        assert_eq!(
            Verdict::reject(Some("no such account".into())).refusal("returned"),
            "no such account"
        );
        assert_eq!(Verdict::approve().pick(1, 2), 1);
        assert_eq!(Verdict::reject(None).pick(1, 2), 2);
    }

    #[test]
    fn paging_reads_its_defaults_and_pages_the_items() {
        let body = json!({"pageNum": "2", "pageSize": 2});
        let mut c = fields::Check::new(&body).unwrap();
        let paging = c.paging();
        assert!(c.finish().is_ok());
        let items = (0..5).map(|i| json!(i)).collect();
        let reply = paging.reply(items);
        let body = reply.body.unwrap_or_default();
        assert_eq!(body["records"], json!([2, 3]));
        assert_eq!(body["pages"], json!(3));
        let empty = json!({});
        let mut c = fields::Check::new(&empty).unwrap();
        let d = c.paging();
        assert_eq!((d.num, d.size), (1, 10));
    }
}

#[cfg(test)]
mod completion_tests {
    use super::*;

    /// A timer record names its completion: two with one name would run the wrong one after a
    /// restart.
    #[test]
    fn every_completion_has_its_own_name() {
        let all = completions();
        let names: std::collections::BTreeSet<_> = all.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), all.len());
        assert!(names.contains(OUTFLOW.name));
    }
}
