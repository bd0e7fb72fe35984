//! The one review lifecycle of the Whalet Open API: an object is applied for (or asked to
//! change), a decision is scheduled on the virtual clock (the scenario's verdict after its delay),
//! the decision settles the object under the tenant lock, and the result goes out as a
//! notification. Every reviewed object — onboarding, card holders and their bank accounts,
//! collection accounts and their cancellation, shop bindings, payout beneficiaries, requests for
//! material, trade-order bindings and collections settling — is one [`Review`] implementation: a
//! [`ReviewKind`] (its label, id parameter, default delay and trigger pair) and a `settle`
//! function. The approved/rejected trigger pair of every kind is generated here ([`approval`],
//! [`rejection`]); how any decision ends, payouts' too, is [`conclude`].

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{
    mint, once_keyed, schedule, trigger_tenant, used_before, with_tenant, Completion, CompletionFn,
    Verdict,
};
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::clock::Millis;
use crate::core::{Core, Trigger};
use crate::store::whalet::{Beneficary, Holder, ReviewStatus, Reviewed, UnderReview, User};
use crate::store::whalet_trade::{BeneficiaryStatus, PayoutBeneficiary};
use crate::store::{TenantId, TenantState};
use crate::trigger::TriggerFuture;
use crate::wire::whalet::WhaletError;

/// What one trigger of a review's pair shows in `GET /__sim/triggers`.
pub struct TriggerText {
    pub name: &'static str,
    pub description: &'static str,
    pub params: &'static [(&'static str, &'static str)],
}

/// What distinguishes one reviewed object from another in the lifecycle.
pub struct ReviewKind {
    /// How a scheduled decision is labelled on the clock (`holder`, `shop`, ...).
    pub label: &'static str,
    /// The trigger parameter naming the object (`holderId`, `bindId`, ...).
    pub id_param: &'static str,
    /// The review time when the scenario gives none (virtual ms).
    pub delay_ms: i64,
    /// The trigger that decides the review favourably now.
    pub approve: TriggerText,
    /// The trigger that decides it unfavourably now.
    pub reject: TriggerText,
}

/// The table of reviewed objects ([`super::kinds`]): for each, a unit type and its [`Kind`]
/// (label, id parameter, default delay, the triggers' parameters, then the approving and the
/// rejecting trigger: name, description, and the rejecting one's own parameters when they
/// differ):
///
/// ```text
/// review_kinds! {
///     /// The review of a card holder application.
///     HolderReview: "holder", "holderId", 30_000, PARAMS;
///         approve "whalet.holder.approved", "Approves a card holder ...";
///         reject "whalet.holder.rejected", "Rejects a card holder ...";
/// }
/// ```
macro_rules! review_kinds {
    (@or $given:expr, $default:expr) => {
        $given
    };
    (@or , $default:expr) => {
        $default
    };
    ($($(#[$doc:meta])* $ty:ident: $label:literal, $id:literal, $delay:expr, $ap:expr;
       approve $an:literal, $ad:literal;
       reject $rn:literal, $rd:literal $(, params $rp:expr)?;)*) => {
        $(
            $(#[$doc])*
            pub struct $ty;

            impl $crate::api::whalet::common::review::Kind for $ty {
                const KIND: $crate::api::whalet::common::review::ReviewKind =
                    $crate::api::whalet::common::review::ReviewKind {
                        label: $label,
                        id_param: $id,
                        delay_ms: $delay,
                        approve: $crate::api::whalet::common::review::TriggerText {
                            name: $an,
                            description: $ad,
                            params: $ap,
                        },
                        reject: $crate::api::whalet::common::review::TriggerText {
                            name: $rn,
                            description: $rd,
                            params: $crate::api::whalet::common::review::review_kinds!(@or $($rp)?, $ap),
                        },
                    };
            }
        )*

        /// Every kind of the table, in its order.
        pub const KINDS: &[$crate::api::whalet::common::review::ReviewKind] =
            &[$(<$ty as $crate::api::whalet::common::review::Kind>::KIND),*];
    };
}
pub(crate) use review_kinds;

/// A settled review: the notification to send.
pub struct Notice {
    pub api_code: &'static str,
    pub payload: Value,
}

/// What settling a review works with besides the tenant's state (under its lock): the object's id,
/// the submission a scheduled decision is for (None: a trigger's, for whatever is under review),
/// the verdict and the virtual time.
#[derive(Clone, Copy)]
pub struct Settle<'a> {
    /// The kind's id parameter (`holderId`, `bindId`, ...), for messages.
    pub id_param: &'static str,
    pub tenant: &'a TenantId,
    pub id: &'a str,
    pub attempt: Option<u32>,
    pub v: &'a Verdict,
    pub now: Millis,
}

impl Settle<'_> {
    /// The object under review in `map` (the tenant's objects of its kind), or why it is not
    /// there: `holderId "H1" is not a card holder of partner P`.
    pub fn find<'m, T>(&self, map: &'m BTreeMap<String, T>, what: &str) -> Result<&'m T, String> {
        map.get(self.id).ok_or_else(|| self.missing(what))
    }

    /// [`Settle::find`], to change the object.
    pub fn find_mut<'m, T>(
        &self,
        map: &'m mut BTreeMap<String, T>,
        what: &str,
    ) -> Result<&'m mut T, String> {
        map.get_mut(self.id).ok_or_else(|| self.missing(what))
    }

    /// Fails unless the object is still what a decision settles: `pending` (else `{what}
    /// {not_pending} (status {status})`) and, for a scheduled decision, the submission `current`
    /// it was made for (else `{what} was re-submitted since`; `None`: no re-submissions).
    pub fn expect(
        &self,
        what: &str,
        (pending, not_pending): (bool, &str),
        status: impl std::fmt::Display,
        current: Option<u32>,
    ) -> Result<(), String> {
        if !pending {
            return Err(format!("{what} {not_pending} (status {status})"));
        }
        match current {
            Some(current) => ensure_current(what, self.attempt, current, "was re-submitted"),
            None => Ok(()),
        }
    }

    fn missing(&self, what: &str) -> String {
        format!(
            "{} {:?} is not {what} of partner {}",
            self.id_param, self.id, self.tenant.id
        )
    }
}

/// What the table of reviewed objects ([`super::kinds`]) says of one.
pub trait Kind {
    const KIND: ReviewKind;
}

/// A reviewed object: its [`Kind`] and how a verdict settles it.
pub trait Review: Kind + 'static {
    /// Applies the verdict to object `id` under the tenant lock: it must still be under review
    /// and, for a scheduled decision (`attempt` given), the same submission. Returns the
    /// notification, or why nothing was done.
    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String>;

    /// What follows the notification (e.g. a payout held for the review resumes).
    fn after(_core: &Core, _tenant: &TenantId, _id: &str, _v: &Verdict) -> Result<(), String> {
        Ok(())
    }

    /// Refuses a trigger's parameter whose value the kind's `settle` could not read (a flag that
    /// is not `Y` or `N`, ...), before anything is decided: a wrong value must not quietly mean
    /// the default. [`crate::trigger::check_params`] has already checked names and types.
    fn check_trigger(_params: &Map<String, Value>) -> Result<(), String> {
        Ok(())
    }
}

/// Schedules the decision of submission `attempt` of object `id`: the scenario's verdict after
/// its delay (default: the kind's).
pub fn begin<R: Review>(ctx: &Ctx<'_>, id: &str, attempt: u32) {
    let verdict = Verdict::from_decision(ctx.decision);
    let delay = ctx.decision.delay_or(R::KIND.delay_ms);
    schedule_decision::<R>(ctx.core, ctx.tenant, delay, id, attempt, verdict);
}

/// Schedules `verdict` on object `id` after `delay_ms` (a stale decision does nothing).
pub fn schedule_decision<R: Review>(
    core: &Core,
    tenant: &TenantId,
    delay_ms: i64,
    id: &str,
    attempt: u32,
    verdict: Verdict,
) {
    schedule(
        core,
        tenant,
        delay_ms,
        (R::KIND.label, id, attempt),
        verdict,
        completion::<R>(),
    );
}

/// The completion of review `R` (named by its label) for a scheduled decision.
pub const fn completion<R: Review>() -> Completion {
    Completion {
        name: R::KIND.label,
        run: decide::<R>,
    }
}

/// Settles object `id` with `v` and sends its notification; returns the notification payload.
pub fn decide<R: Review>(
    core: &Core,
    tenant: &TenantId,
    id: &str,
    attempt: Option<u32>,
    v: Verdict,
) -> Result<Value, String> {
    let changes = |_: &Notice| (R::KIND.approve.name, R::KIND.reject.name);
    let payload = conclude(core, tenant, (id, attempt), &v, changes, |t, now| {
        R::settle(
            t,
            Settle {
                id_param: R::KIND.id_param,
                tenant,
                id,
                attempt,
                v: &v,
                now,
            },
        )
    })?;
    R::after(core, tenant, id, &v)?;
    Ok(payload)
}

/// How every decision ends, reviewed or not: `settle` applies it to object `id` under the tenant
/// lock (at the virtual time it is given) and says what to notify; the decision counts for
/// coverage as the approving or the rejecting change `changes` names for that notification (as a
/// trigger's when no `attempt` is given, else as a scheduled one's); the notification goes out
/// with the verdict's behaviour, behind the notifications about the object the verdict follows
/// from, if any ([`Verdict::after`]). Returns its payload.
pub fn conclude(
    core: &Core,
    tenant: &TenantId,
    (id, attempt): (&str, Option<u32>),
    v: &Verdict,
    changes: impl FnOnce(&Notice) -> (&'static str, &'static str),
    settle: impl FnOnce(&mut TenantState, Millis) -> Result<Notice, String>,
) -> Result<Value, String> {
    let now = core.clock().now();
    let notice = with_tenant(core, tenant, |t| settle(t, now))?;
    let changes = changes(&notice);
    crate::api::coverage::decided(core, tenant, attempt.is_none(), v.success, changes);
    crate::api::whalet::notify_behind(
        core,
        (tenant, notice.api_code),
        notice.payload.clone(),
        Some(id.to_owned()),
        v.notify.clone(),
        v.after.as_deref(),
    );
    Ok(notice.payload)
}

/// Sends notification `api_code` about `business_id`, which follows from what the notifications
/// about object `after` tell (a binding ended by its collection's return, after the collection's
/// `collectionReceivedNotify` that [`conclude`] just enqueued): the partner gets it only once
/// every notification about `after` enqueued before it is delivered or exhausted
/// ([`Outbox::enqueue_after`](crate::notify::Outbox::enqueue_after)), even when that one needs
/// retries. Otherwise as [`send`] with the default behaviour: nothing while a handler is probed,
/// the apiCode's name on the wire.
pub fn send_after(
    core: &Core,
    tenant: &TenantId,
    api_code: &str,
    payload: &Value,
    business_id: &str,
    after: &str,
) {
    crate::api::whalet::notify_behind(
        core,
        (tenant, api_code),
        payload.clone(),
        Some(business_id.to_owned()),
        Default::default(),
        Some(after),
    );
}

/// Decides an object now, as a trigger: `complete` with the trigger's verdict (`success`, and
/// its words) on the object its parameter `id_param` names, of the partner it is about.
pub fn decide_now(
    core: Core,
    params: Map<String, Value>,
    id_param: &'static str,
    success: bool,
    complete: CompletionFn,
) -> TriggerFuture {
    Box::pin(async move {
        let tenant = trigger_tenant(&core, &params)?;
        let id = crate::trigger::param(&params, id_param)?;
        complete(
            &core,
            &tenant,
            id,
            None,
            Verdict::from_params(success, &params),
        )
    })
}

/// Runs the kind's approving or rejecting trigger; a parameter [`Review::check_trigger`] refuses
/// is named after the trigger, as [`crate::trigger::check_params`] names the others.
fn fire<R: Review, const APPROVE: bool>(core: Core, params: Map<String, Value>) -> TriggerFuture {
    if let Err(problem) = R::check_trigger(&params) {
        let name = match APPROVE {
            true => R::KIND.approve.name,
            false => R::KIND.reject.name,
        };
        return Box::pin(async move { Err(format!("{name}: {problem}")) });
    }
    decide_now(core, params, R::KIND.id_param, APPROVE, decide::<R>)
}

/// The kind's trigger that approves a review now.
pub const fn approval<R: Review>() -> Trigger {
    Trigger {
        name: R::KIND.approve.name,
        description: R::KIND.approve.description,
        params: R::KIND.approve.params,
        run: fire::<R, true>,
    }
}

/// The kind's trigger that rejects a review now.
pub const fn rejection<R: Review>() -> Trigger {
    Trigger {
        name: R::KIND.reject.name,
        description: R::KIND.reject.description,
        params: R::KIND.reject.params,
        run: fire::<R, false>,
    }
}

/// The parameters most review triggers take: the object's id and the verdict's words.
macro_rules! review_params {
    ($id:literal, $what:literal) => {
        &[
            ($id, $what),
            ("partnerId?", crate::trigger::DEFAULT_PARTNER),
            ("message?", "the message to report"),
            (
                "status?",
                "status word to report instead of SUCCESS / FAILURE",
            ),
        ]
    };
}
pub(crate) use review_params;

/// The status word the partner sees of an object a decision left in `status`, in its notification
/// and its queries alike: the decision's own word (a scenario's or trigger's `status`) when it
/// gives one, else `status` itself. One rule for every reviewed object.
pub fn reported(v: &Verdict, status: &str) -> String {
    v.status.clone().unwrap_or_else(|| status.to_owned())
}

pub use crate::store::whalet::status_named;

/// Fails unless a scheduled decision (`attempt` given) is for the object's current submission;
/// `what` names it, `since` says what happened meanwhile (`re-submitted`, `changed`).
pub fn ensure_current(
    what: &str,
    attempt: Option<u32>,
    current: u32,
    since: &str,
) -> Result<(), String> {
    match attempt {
        Some(a) if a != current => Err(format!("{what} {since} since")),
        _ => Ok(()),
    }
}

/// The id and submission number of an application: the `existing` object's `(id, attempt)` for a
/// re-submission (one attempt more), else a new id minted with `prefix` (attempt 1).
pub fn submission(
    t: &mut TenantState,
    existing: Option<(String, u32)>,
    prefix: &str,
    now: Millis,
) -> (String, u32) {
    match existing {
        Some((id, attempt)) => (id, attempt + 1),
        None => (mint(t, prefix, now), 1),
    }
}

/// An object a partner applies for under an id of its own (`outUserId`, `outHolderId`, ...), whose
/// rejection lets the partner send the application again under that id: the object keeps the id
/// the simulator minted and its submission number goes up.
pub trait Application: Sized {
    /// What the object is called in messages (`user`, `card holder`, ...).
    const WHAT: &'static str;
    /// The prefix of the ids the simulator mints for it (`U`, `H`, ...).
    const PREFIX: &'static str;
    /// The tenant's objects of this kind, by the simulator's id.
    fn all(t: &TenantState) -> &BTreeMap<String, Self>;
    fn all_mut(t: &mut TenantState) -> &mut BTreeMap<String, Self>;
    fn id(&self) -> &str;
    fn attempt(&self) -> u32;
    /// Its status as a refusal names it ([`status_named`]).
    fn status_word(&self) -> String;
    /// Whether an application under the same partner id replaces this one (it was rejected, and
    /// for onboarding the rejection asked for new material).
    fn replaceable(&self) -> bool;
    /// The fields that name the object in the apply reply and its notification (its user, the
    /// simulator's id, the partner's id, ...).
    fn ids(&self) -> Value;
    /// The partner's id for the object (`outHolderId`, ...).
    fn out_id(&self) -> &str;
    /// The user the object belongs to (None: the object is the user).
    fn owner(&self) -> Option<&str>;
    /// When the object was first applied for: its `createTime`, which a re-submission keeps.
    fn created_at(&self) -> Millis;
    /// Sets that time (a re-submission takes over the earlier application's).
    fn set_created_at(&mut self, at: Millis);
}

/// Implements [`Application`]: `type, what, prefix, path.to.map, id_field, out_id_field
/// [owner owner_field], review, {"field": field, ...} (its ids), |x| replaceable, created
/// |x| creation time, |x, at| setting it, shown |x| its status as a refusal names it`.
macro_rules! application {
    ($($t:ty, $what:literal, $prefix:literal, $($map:ident).+, $id:ident, $out:ident
       $(owner $owner:ident)?, $($review:ident).*,
       {$($name:literal: $field:ident),*}, |$x:ident| $replaceable:expr,
       created |$c:ident| $created:expr, |$s:ident, $at:ident| $set:expr,
       shown |$w:ident| $shown:expr;)*) => {$(
        impl Application for $t {
            const WHAT: &'static str = $what;
            const PREFIX: &'static str = $prefix;
            fn all(t: &TenantState) -> &BTreeMap<String, Self> {
                &t.$($map).+
            }
            fn all_mut(t: &mut TenantState) -> &mut BTreeMap<String, Self> {
                &mut t.$($map).+
            }
            fn id(&self) -> &str {
                &self.$id
            }
            fn attempt(&self) -> u32 {
                self$(.$review)*.attempt
            }
            fn status_word(&self) -> String {
                let $w = self;
                $shown
            }
            fn replaceable(&self) -> bool {
                let $x = self;
                $replaceable
            }
            fn ids(&self) -> Value {
                serde_json::json!({$($name: self.$field),*})
            }
            fn out_id(&self) -> &str {
                &self.$out
            }
            fn owner(&self) -> Option<&str> {
                None$(.or(Some(&self.$owner)))?
            }
            fn created_at(&self) -> Millis {
                let $c = self;
                $created
            }
            fn set_created_at(&mut self, $at: Millis) {
                let $s = self;
                $set
            }
        }
    )*};
}

application! {
    User, "user", "U", whalet.users, user_id, out_user_id, review,
        {"userId": user_id, "outUserId": out_user_id},
        |u| u.review.status == ReviewStatus::Failure && u.re_material,
        created |u| u.review.created_at(), |u, at| u.review.created_at = Some(at),
        shown |u| u.review.status_text();
    Holder, "card holder", "H", whalet.holders, holder_id, out_holder_id owner user_id, review,
        {"userId": user_id, "holderId": holder_id, "outHolderId": out_holder_id},
        |h| h.review.status == ReviewStatus::Failure,
        created |h| h.review.created_at(), |h, at| h.review.created_at = Some(at),
        shown |h| h.review.status_text();
    Beneficary, "card holder bank account", "BA", whalet.beneficaries,
        beneficary_id, out_beneficary_id owner user_id, review,
        {
            "userId": user_id,
            "holderId": holder_id,
            "beneficaryId": beneficary_id,
            "outBeneficaryId": out_beneficary_id
        },
        |b| b.review.status == ReviewStatus::Failure,
        created |b| b.review.created_at(), |b, at| b.review.created_at = Some(at),
        shown |b| b.review.status_text();
    PayoutBeneficiary, "beneficiary account", "PB", whalet_trade.beneficiaries,
        beneficiary_id, out_beneficiary_id owner user_id, ,
        {
            "userId": user_id,
            "beneficiaryId": beneficiary_id,
            "outBeneficiaryId": out_beneficiary_id
        },
        |b| b.status == BeneficiaryStatus::Failure,
        created |b| b.applied_at, |b, at| b.applied_at = at,
        shown |b| b.status_text();
}

/// One application of an [`Application`] object under the partner's id.
pub struct Apply<'a> {
    /// The operation (`cardHolderApply`).
    pub api: &'static str,
    /// The user applying (None: onboarding, which applies for the user itself). The partner's
    /// ids are unique per user.
    pub user: Option<&'a str>,
    /// The partner id's field (`outHolderId`) and value.
    pub out_field: &'static str,
    pub out_id: &'a str,
    /// What the idempotency of the partner's id compares: what the operation read of the request
    /// ([`Check::content`](super::fields::Check::content)).
    pub body: &'a Value,
}

impl Apply<'_> {
    /// The scope of the partner id's idempotency (`cardHolderApply U1`).
    fn scope(&self) -> String {
        match self.user {
            Some(user) => format!("{} {user}", self.api),
            None => self.api.to_owned(),
        }
    }
}

/// The object of kind `T` that partner id `out_id` already names (among `owner`'s objects; None:
/// users), if any: the partner's earlier application under that id.
pub fn claimed<'t, T: Application>(
    t: &'t TenantState,
    owner: Option<&str>,
    out_id: &str,
) -> Option<&'t T> {
    T::all(t)
        .values()
        .find(|x| x.out_id() == out_id && x.owner() == owner)
}

/// Why partner id `out_id` (field `out_field`) cannot name a new object: `x` has it.
pub fn taken<T: Application>(out_field: &str, out_id: &str, x: &T) -> String {
    format!(
        "{out_field} {out_id:?} already belongs to {} {} (status {})",
        T::WHAT,
        x.id(),
        x.status_word()
    )
}

/// Applies for object `T` with review `R`: the same content under the same partner id replays the
/// first answer; other content is refused unless the earlier application is [`replaceable`]
/// (`Application::replaceable`), which the new one then replaces under the same id and creation
/// time (a retry is then compared with that latest submission, as its refusal says:
/// [`conflict`]). `admit` checks what must exist first (under the tenant lock),
/// `build` makes the object from its id and submission number; the review is then scheduled and
/// the reply is PROCESSING: the object's [`Application::ids`] and its status.
pub fn apply<R: Review, T: Application>(
    ctx: &Ctx<'_>,
    a: Apply<'_>,
    admit: impl FnOnce(&TenantState) -> Result<(), WhaletError>,
    build: impl FnOnce(String, u32) -> T,
) -> Result<Reply, WhaletError> {
    let scope = a.scope();
    once_keyed(
        ctx,
        (move |_: &TenantState| scope, a.out_id),
        a.body,
        |t| conflict(claimed::<T>(t, a.user, a.out_id), a.out_field, a.out_id),
        |t| {
            admit(t)?;
            let existing = claimed::<T>(t, a.user, a.out_id);
            if let Some(x) = existing.filter(|x| !x.replaceable()) {
                return Err(WhaletError::idempotent(taken(a.out_field, a.out_id, x)));
            }
            let created = existing.map(T::created_at);
            let existing = existing.map(|x| (x.id().to_owned(), x.attempt()));
            let (id, attempt) = submission(t, existing, T::PREFIX, ctx.now());
            let mut object = build(id.clone(), attempt);
            if let Some(at) = created {
                object.set_created_at(at);
            }
            let mut reply = object.ids();
            T::all_mut(t).insert(id.clone(), object);
            begin::<R>(ctx, &id, attempt);
            reply["status"] = Value::from("PROCESSING");
            Ok(Reply::processing(reply))
        },
    )
}

/// How other content under partner id `out_field` = `out_id` is refused, given the object `x`
/// the id names: not at all when `x` may be replaced ([`Application::replaceable`]); else
/// IDEMPOTENT_ERROR naming what the retry was compared with, the first request or, once the
/// application was re-submitted, its latest submission (the first content is then no longer
/// the one that answers).
fn conflict<T: Application>(x: Option<&T>, out_field: &str, out_id: &str) -> Option<WhaletError> {
    if x.is_some_and(T::replaceable) {
        return None;
    }
    let text = match x.filter(|x| x.attempt() > 1) {
        None => used_before(out_field, out_id),
        Some(x) => format!(
            "{out_field} {out_id:?} was re-submitted: a retry is compared with the latest \
             submission ({} {}, submission {}, status {}), which differs; send its content to \
             get its result, or use a new {out_field}",
            T::WHAT,
            x.id(),
            x.attempt(),
            x.status_word()
        ),
    };
    Some(WhaletError::idempotent(text))
}

/// Settles an [`Application`] under an approve/reject review ([`settle_review`]) and says so with
/// `api_code`: the object's [`Application::ids`], then its reported status and message.
pub fn settle_application<T: Application + UnderReview>(
    t: &mut TenantState,
    s: Settle<'_>,
    api_code: &'static str,
) -> Result<Notice, String> {
    let x = s.find_mut(T::all_mut(t), &format!("a {}", T::WHAT))?;
    let what = format!("{} {}", T::WHAT, s.id);
    settle_review(x, &what, s.attempt, s.v, s.now)?;
    let mut payload = x.ids();
    let r = x.review();
    if let Value::Object(map) = &mut payload {
        map.insert("status".into(), Value::from(r.reported_status.as_str()));
        map.insert("message".into(), Value::from(r.message.as_str()));
    }
    Ok(Notice { api_code, payload })
}

/// An object under review as the partner sees it: `fields` (an object), then its reported
/// status, message, and the times it was first applied for and last changed.
pub fn reviewed_view(mut fields: Value, r: &Reviewed) -> Value {
    if let Value::Object(map) = &mut fields {
        map.insert("status".into(), Value::from(r.reported_status.as_str()));
        map.insert("message".into(), Value::from(r.message.as_str()));
        map.insert(
            "createTime".into(),
            Value::from(whalet_time(r.created_at())),
        );
        map.insert(
            "updateTime".into(),
            Value::from(whalet_time(r.updated_at())),
        );
    }
    fields
}

/// The `admit` of an application that needs only that its user passed onboarding.
pub fn onboarded(user_id: &str) -> impl FnOnce(&TenantState) -> Result<(), WhaletError> + '_ {
    move |t| {
        t.whalet.onboarded_user(user_id)?;
        Ok(())
    }
}

/// Applies a verdict to an approve/reject review (`what` names the object in errors, e.g.
/// `user U1`): it must still be PROCESSING and, for a scheduled result, the same submission.
pub fn settle_review(
    object: &mut impl UnderReview,
    what: &str,
    attempt: Option<u32>,
    v: &Verdict,
    now: Millis,
) -> Result<(), String> {
    let review = object.review();
    if review.status != ReviewStatus::Processing {
        return Err(format!(
            "{what} is not under review (status {})",
            review.status_text()
        ));
    }
    let Reviewed {
        status,
        reported_status,
        message,
        attempt: current,
        decided_at,
        ..
    } = review;
    ensure_current(what, attempt, *current, "was re-submitted")?;
    *status = ReviewStatus::decided(v.success);
    *reported_status = reported(v, status.as_str());
    *message = v.message("approved", "rejected");
    *decided_at = Some(now);
    Ok(())
}
