//! Payees: `/v3/payee/register`, `/v3/payee/retrieve`, `/v3/payee/update`, and the review that
//! moves a new payee from `Pending` to `Activated` (or what a scenario decides), plus the
//! `pockyt.payee.*` triggers. Payees are keyed by the minted `customerNo`; `email` and
//! `customerCode` are unique per merchant.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::fields::{self, Fields};
use super::{trigger_merchant, Ctx, Reply};
use crate::clock::format::utc_z;
use crate::core::Core;
use crate::core::Trigger;
use crate::store::pockyt::{Payee, PayeeStatus, PockytState};
use crate::store::Refusal;
use crate::tenant::TenantId;
use crate::text::{echo, echo_bare};
use crate::trigger::{param, TriggerFuture};
use crate::wire::pockyt::PockytError;

const PROFILE_TYPES: &[&str] = &["INDIVIDUAL", "BUSINESS"];
const ID_TYPES: &[&str] = &[
    "ID_CARD",
    "SSN",
    "PASSPORT",
    "DRIVER_LICENSE",
    "BUSINESS_REGISTRATION_CERT",
];
/// The payee's address fields (part of its profile, shown in full).
const ADDRESS: &[&str] = &[
    "countryCode",
    "country",
    "state",
    "city",
    "street",
    "street2",
    "zip",
];

/// Profile fields stored as sent (validated first): who the payee is, its [`ADDRESS`], then
/// its language and payor.
fn profile() -> impl Iterator<Item = &'static str> {
    let who = [
        "customerCode",
        "profileType",
        "firstName",
        "lastName",
        "company",
        "email",
        "phone",
        "dateOfBirth",
        "governmentIdType",
        "governmentId",
    ];
    who.into_iter()
        .chain(ADDRESS.iter().copied())
        .chain(["lang", "payorNo"])
}

/// The profile fields `/v3/payee/update` may carry, in the update request's documented order:
/// its documented list (the whole [`ADDRESS`] among them), plus `company`, which a payee an
/// update makes `BUSINESS` must have (docs/FIDELITY.md). The others (`firstName`, `lastName`,
/// `dateOfBirth`, `payorNo`) are fixed at registration.
fn updatable() -> impl Iterator<Item = &'static str> {
    ["customerCode", "email", "profileType", "company", "phone"]
        .into_iter()
        .chain(ADDRESS.iter().copied())
        .chain(["lang", "governmentIdType", "governmentId"])
}

/// Which profile fields a request may carry: all at registration ([`profile`]), the
/// [`updatable`] ones in an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carries {
    Register,
    Update,
}

impl Carries {
    fn takes(self, name: &str) -> bool {
        self == Carries::Register || updatable().any(|field| field == name)
    }

    /// The profile fields this request reads, in [`profile`] order.
    fn fields(self) -> impl Iterator<Item = &'static str> {
        profile().filter(move |name| self.takes(name))
    }
}

/// The fields every payee has: required at registration, never cleared by an update. The
/// first four are read by a reader of their own kind in [`validate`], the rest as text.
const MANDATORY: &[&str] = &[
    "profileType",
    "email",
    "countryCode",
    "dateOfBirth",
    "firstName",
    "lastName",
    "state",
    "city",
    "street",
    "zip",
];

/// The `state` codes of `countryCode` US (USPS): the states, DC, the inhabited territories and
/// the military post codes. The vendor documents the US state as its 2-letter code.
const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY", "DC", "AS", "GU", "MP", "PR", "VI", "AA", "AE", "AP",
];

/// Checks the format of each profile field of `carries` given into `p`; at registration the
/// mandatory fields must be there. The rules between fields are [`whole_profile_problems`]'.
fn validate(p: &mut fields::Problems, f: &Fields, carries: Carries, now: i64) {
    let full = carries == Carries::Register;
    // Read in profile order (so describe mode lists them so); the fields a reader of their own
    // kind reads below are reported by that reader, once.
    let own_reader = |name: &str| MANDATORY[..4].contains(&name) || name == "governmentIdType";
    for name in carries.fields() {
        let read = fields::optional(f, name);
        if !own_reader(name) {
            p.take(read);
        }
    }
    p.take(fields::one_of(f, "profileType", PROFILE_TYPES, full));
    if full {
        for name in &MANDATORY[4..] {
            p.take(fields::required(f, name));
        }
    }
    p.take(fields::email(f, "email", full));
    p.take(fields::country(f, "countryCode", full));
    if carries.takes("dateOfBirth") {
        if let Some(born) = p.take(fields::date(f, "dateOfBirth", full)).flatten() {
            if let Some(problem) = age_problem(born, now) {
                p.push(problem);
            }
        }
    }
    p.take(fields::one_of(f, "governmentIdType", ID_TYPES, false));
}

/// Notes in `p`, in one problem, the profile fields an update carries that it may not change,
/// naming them and the fields it may carry. A fixed field sent with the value the payee was
/// registered with (`registered`, its stored profile; an empty or null one for a field it does
/// not have) changes nothing and is accepted, as an unchanged `email` of a Merchant of Record
/// payee is ([`refuse_mor_email`]): an update carrying the whole profile. Without the payee
/// (an unknown `customerNo`), every fixed field sent is noted.
fn fixed_fields(
    p: &mut fields::Problems,
    f: &Fields,
    registered: Option<&BTreeMap<String, String>>,
) {
    let unchanged = |name: &str| {
        registered.is_some_and(|stored| {
            fields::optional(f, name).is_ok_and(|sent| sent.as_ref() == stored.get(name))
        })
    };
    let fixed: Vec<&str> = profile()
        .filter(|name| f.contains_key(*name) && !Carries::Update.takes(name))
        .filter(|name| !unchanged(name))
        .collect();
    if !fixed.is_empty() {
        p.push(PockytError::value(format!(
            "{} cannot be changed by an update (fixed at registration); leave {} out. An update may carry {}",
            fixed.join(", "),
            match fixed.len() {
                1 => "it",
                _ => "them",
            },
            updatable().collect::<Vec<_>>().join(", ")
        )));
    }
}

/// Why a payee born on `born` (year, month, day) cannot be registered on the virtual date
/// `now`: a birth date in the future, or an age under 18.
fn age_problem((y, m, d): (i32, u8, u8), now: i64) -> Option<PockytError> {
    let today = time::OffsetDateTime::from_unix_timestamp(now / 1000)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    let today = (today.year(), u8::from(today.month()), today.day());
    let born_text = format!("{y:04}-{m:02}-{d:02}");
    if (y, m, d) > today {
        return Some(PockytError::value(format!(
            "dateOfBirth {born_text} is in the future (today is {:04}-{:02}-{:02})",
            today.0, today.1, today.2
        )));
    }
    let age = today.0 - y - i32::from((today.1, today.2) < (m, d));
    (age < 18).then(|| {
        PockytError::value(format!(
            "the payee must be at least 18 years old; dateOfBirth {born_text} gives {age}"
        ))
    })
}

/// The rules a payee's profile keeps as a whole, checked on what a registration would store
/// and on what an update would leave: `governmentId` and `governmentIdType` each require the
/// other, a `BUSINESS` payee has a `company`, a US payee's `state` is a US state code.
fn whole_profile_problems(profile: &BTreeMap<String, String>) -> Vec<PockytError> {
    let get = |name: &str| profile.get(name).map(String::as_str);
    let mut found = Vec::new();
    match (get("governmentIdType"), get("governmentId")) {
        (Some(t), None) => found.push(PockytError::null(match ID_TYPES.contains(&t) {
            true => format!("governmentId is required when governmentIdType is {t}"),
            false => "governmentId is required when governmentIdType is given".to_owned(),
        })),
        (None, Some(_)) => found.push(PockytError::null(
            "governmentIdType is required when governmentId is given",
        )),
        _ => {}
    }
    if get("profileType") == Some("BUSINESS") && get("company").is_none() {
        found.push(PockytError::null(
            "company is required for a BUSINESS payee",
        ));
    }
    if let (Some("US"), Some(state)) = (get("countryCode"), get("state")) {
        if !US_STATES.contains(&state) {
            found.push(PockytError::value(format!(
                "state must be the 2-letter code of a US state (e.g. NY) when countryCode is US, got {}",
                echo(state)
            )));
        }
    }
    found
}

/// The profile fields a request gives (blank ones left out). Read after [`validate`], which
/// reported a field that is no text; such a field is left out here.
fn profile_of(f: &Fields) -> BTreeMap<String, String> {
    profile()
        .filter_map(|name| {
            let value = fields::optional(f, name).ok().flatten()?;
            Some((name.to_owned(), value))
        })
        .collect()
}

/// What an update asks of each profile field it names: a value sets it; an empty string or
/// null clears it (the SDKs send `street2=` to clear a field), which only a field outside
/// [`MANDATORY`] allows: clearing a mandatory one is noted in `p`.
fn changes_of(p: &mut fields::Problems, f: &Fields) -> BTreeMap<&'static str, Option<String>> {
    let mut out = BTreeMap::new();
    for name in Carries::Update
        .fields()
        .filter(|name| f.contains_key(*name))
    {
        match fields::optional(f, name) {
            Ok(Some(value)) => {
                out.insert(name, Some(value));
            }
            Ok(None) if MANDATORY.contains(&name) => p.push(PockytError::value(format!(
                "{name} cannot be cleared: every payee has one; send a new value or leave {name} out"
            ))),
            Ok(None) => {
                out.insert(name, None);
            }
            // Noted by `validate`.
            Err(_) => {}
        }
    }
    out
}

/// One refusal naming every problem of `found`, if any.
fn refuse_any(found: Vec<PockytError>) -> Result<(), PockytError> {
    let mut p = fields::Problems::default();
    for problem in found {
        p.push(problem);
    }
    p.finish()
}

/// `customer` of the register reply.
fn brief(p: &Payee) -> Value {
    json!({
        "customerNo": p.customer_no,
        "customerCode": p.field("customerCode"),
        "firstName": p.field("firstName"),
        "lastName": p.field("lastName"),
        "email": p.email,
        "createdTime": utc_z(p.created_at),
    })
}

/// `customer` of the retrieve and update replies.
pub fn full(p: &Payee) -> Value {
    let mut out = Map::new();
    out.insert("customerNo".into(), json!(p.customer_no));
    let who = [
        "customerCode",
        "firstName",
        "lastName",
        "email",
        "phone",
        "profileType",
        "dateOfBirth",
    ];
    for name in who.iter().chain(ADDRESS) {
        out.insert((*name).into(), json!(p.field(name)));
    }
    let lang = match p.field("lang") {
        "" => "en",
        l => l,
    };
    out.insert("lang".into(), json!(lang));
    out.insert("payeeStatus".into(), json!(p.status.as_str()));
    out.insert("createdTime".into(), json!(utc_z(p.created_at)));
    out.insert("updatedTime".into(), json!(utc_z(p.updated_at)));
    Value::Object(out)
}

pub fn register(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    let now = ctx.now();
    let mut p = fields::Problems::default();
    validate(&mut p, f, Carries::Register, now);
    let profile = profile_of(f);
    for problem in whole_profile_problems(&profile) {
        p.push(problem);
    }
    p.finish()?;
    let email = fields::required(f, "email")?;
    // What the review decides: a scenario's status word or result (one table,
    // `scenario::pockyt::PAYEE`, which the scenario loader checks rules against).
    let cfg = &ctx.core.config().pockyt;
    let target = crate::scenario::pockyt::PAYEE.decide(ctx.decision.result.as_ref());
    let delay = ctx.decision.delay_or(cfg.payee_review_delay_ms);
    let (payee, changed) = ctx.try_with_state(|t| {
        refuse_taken(&t.pockyt, None, Some(&email), profile.get("customerCode"))?;
        let customer_no = format!("200030{:016}", t.next_seq());
        let payee = Payee {
            customer_no: customer_no.clone(),
            fields: profile,
            email,
            status: PayeeStatus::Pending,
            created_at: now,
            updated_at: now,
        };
        t.pockyt.payees.insert(customer_no.clone(), payee);
        // Decided in the call: the review's move, made as its timer makes it.
        let changed = match delay <= 0 {
            true => step(t, &customer_no, target, true, now)?.1,
            false => false,
        };
        let payee = t.pockyt.payee(&customer_no)?.clone();
        Ok::<_, PockytError>((payee, changed))
    })?;
    review_decided(ctx, "payee", &payee.customer_no, delay, target, changed);
    Ok(Reply::new("success").with("customer", brief(&payee)))
}

/// Refuses an `email` or `customerCode` that a payee other than `own` (None at registration)
/// holds: each names one payee of the merchant. Every such problem is named at once.
fn refuse_taken(
    s: &PockytState,
    own: Option<&str>,
    email: Option<&String>,
    code: Option<&String>,
) -> Result<(), PockytError> {
    let held = [
        ("email", email.and_then(|e| Some((e, s.payee_by_email(e)?)))),
        (
            "customerCode",
            code.and_then(|c| Some((c, s.payee_by_code(c)?))),
        ),
    ];
    let taken = held.into_iter().filter_map(|(name, held)| {
        let (value, holder) = held?;
        (Some(holder.customer_no.as_str()) != own).then(|| {
            PockytError::value(format!(
                "{name} {} is already registered (customerNo {})",
                echo_bare(value),
                holder.customer_no
            ))
        })
    });
    refuse_any(taken.collect())
}

/// A way a retrieve may name a payee: the field and the lookup by its value.
type Identifier = (
    &'static str,
    for<'a> fn(&'a PockytState, &str) -> Option<&'a Payee>,
);

/// `customerNo`, and (as older revisions did) `customerCode` and `email`, in the order tried.
const IDENTIFIERS: [Identifier; 3] = [
    ("customerNo", |s, no| s.payees.get(no)),
    ("customerCode", PockytState::payee_by_code),
    ("email", PockytState::payee_by_email),
];

/// Finds the payee a request names by [`IDENTIFIERS`]. Every identifier given must name a payee
/// (`000021` otherwise), the same one (`000022` naming the two that disagree, as inquiry does).
fn find<'a>(t: &'a crate::store::TenantState, f: &Fields) -> Result<&'a Payee, PockytError> {
    let mut found: Option<(&str, String, &Payee)> = None;
    for (name, lookup) in IDENTIFIERS {
        let Some(value) = fields::optional(f, name)? else {
            continue;
        };
        let payee = lookup(&t.pockyt, &value)
            .ok_or_else(|| Refusal::unknown("payee", format!("{name} {value}")))?;
        match &found {
            Some((first, first_value, named)) if named.customer_no != payee.customer_no => {
                return Err(PockytError::mismatch(format!(
                    "{first} {} and {name} {} name different payees ({name} {} is customerNo {})",
                    echo_bare(first_value),
                    echo_bare(&value),
                    echo_bare(&value),
                    payee.customer_no
                )));
            }
            Some(_) => {}
            None => found = Some((name, value, payee)),
        }
    }
    found.map(|(_, _, payee)| payee).ok_or_else(|| {
        let names: Vec<&str> = IDENTIFIERS.iter().map(|(name, _)| *name).collect();
        PockytError::null(format!(
            "one of {} is required (any one names the payee)",
            names.join(", ")
        ))
    })
}

pub fn retrieve(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    // `find` reads its fields under the lock; what it takes, for describe mode: each of
    // IDENTIFIERS, the others as alternatives to customerNo (the example names the payee by it).
    for (name, _) in IDENTIFIERS.iter().skip(1) {
        crate::api::describe::record_either("customerNo", name);
    }
    let payee = ctx.try_with_state(|t| find(t, f).map(full))?;
    Ok(Reply::new("query success").with("customer", payee))
}

/// Changes the fields the request names, only [`updatable`] ones (an empty or null optional
/// field is cleared); the resulting profile must keep [`whole_profile_problems`]' rules, and its
/// email and customerCode stay unique, or nothing changes.
pub fn update(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    let now = ctx.now();
    let mut p = fields::Problems::default();
    let customer_no = p.take(fields::required(f, "customerNo"));
    // Read before the update takes the lock: what it compares, the fields fixed at
    // registration, no update ever changes.
    let registered = customer_no.as_deref().and_then(|no| {
        ctx.with_state(|t| t.pockyt.payee(no).ok().map(|payee| payee.fields.clone()))
            .ok()
            .flatten()
    });
    fixed_fields(&mut p, f, registered.as_ref());
    validate(&mut p, f, Carries::Update, now);
    let changes = changes_of(&mut p, f);
    p.finish()?;
    let customer_no = fields::checked(customer_no)?;
    let new_email = changes.get("email").cloned().flatten();
    let new_code = changes.get("customerCode").cloned().flatten();
    let payee = ctx.try_with_state(|t| {
        let mor = refuse_mor_email(t.pockyt.payee(&customer_no)?, changes.get("email"));
        let taken = refuse_taken(
            &t.pockyt,
            Some(&customer_no),
            new_email.as_ref(),
            new_code.as_ref(),
        );
        refuse_any([mor, taken].into_iter().filter_map(Result::err).collect())?;
        let payee = t.pockyt.payee_mut(&customer_no)?;
        let mut profile = payee.fields.clone();
        for (name, change) in changes {
            match change {
                Some(value) => profile.insert(name.to_owned(), value),
                None => profile.remove(name),
            };
        }
        refuse_any(whole_profile_problems(&profile))?;
        if let Some(email) = new_email {
            payee.email = email;
        }
        payee.fields = profile;
        payee.updated_at = now;
        Ok::<_, PockytError>(full(payee))
    })?;
    Ok(Reply::new("success").with("customer", payee))
}

/// Refuses an update that changes `email` (the change `email` carries, if any) for a payee registered with a
/// `payorNo` (Merchant of Record), whose email the vendor documents as immutable.
fn refuse_mor_email(payee: &Payee, email: Option<&Option<String>>) -> Result<(), PockytError> {
    // The address it has, sent again (an update carrying the whole profile), changes nothing.
    let changes = email.is_some_and(|e| e.as_deref() != Some(payee.email.as_str()));
    match payee.fields.get("payorNo") {
        Some(payor) if changes => Err(PockytError::value(format!(
            "email cannot be changed: payee {} was registered with payorNo {payor} (Merchant of Record), whose email is immutable; leave email out",
            payee.customer_no
        ))),
        _ => Ok(()),
    }
}

/// Moves a payee to `to`; with `only_pending`, only a payee still under review. Answers the
/// payee and whether it changed.
pub fn set_status(
    core: &Core,
    tenant: &TenantId,
    customer_no: &str,
    to: PayeeStatus,
    only_pending: bool,
) -> Result<(Value, bool), String> {
    let now = core.clock().now();
    let changed = core.with_tenant_text(tenant, |t| step(t, customer_no, to, only_pending, now))?;
    Ok(changed?)
}

/// [`set_status`] under the tenant's lock (`t`), at `now`: the one move of a payee's status,
/// by trigger, by its review's timer, or by a review decided in the register call.
fn step(
    t: &mut crate::store::TenantState,
    customer_no: &str,
    to: PayeeStatus,
    only_pending: bool,
    now: i64,
) -> Result<(Value, bool), Refusal> {
    let p = t.pockyt.payee_mut(customer_no)?;
    if (only_pending && p.status != PayeeStatus::Pending) || p.status == to {
        return Ok((full(p), false));
    }
    let record = format!("payee {customer_no}");
    lifecycle_step(
        &record,
        p.status,
        to,
        next_of(p.status),
        PayeeStatus::as_str,
    )?;
    p.status = to;
    p.updated_at = now;
    Ok((full(p), true))
}

/// The one lifecycle rule of every status trigger and scheduled status change: `record` (e.g.
/// `payee 2000…`) may move from `from` only to a status of `next`, its lifecycle's steps from
/// there (the `lifecycle` of its [`status_triggers`] table). The refusal names the current status
/// and the ones it may become.
pub(super) fn lifecycle_step<S: Copy + PartialEq>(
    record: &str,
    from: S,
    to: S,
    next: &[S],
    word: fn(S) -> &'static str,
) -> Result<(), Refusal> {
    if next.contains(&to) {
        return Ok(());
    }
    let allowed = match next {
        [] => format!("{} is final", word(from)),
        _ => {
            let words: Vec<&str> = next.iter().map(|s| word(*s)).collect();
            format!(
                "from {} it can only become {}",
                word(from),
                words.join(" or ")
            )
        }
    };
    Err(Refusal::wrong_state(format!(
        "{record} is {}; it cannot become {} ({allowed})",
        word(from),
        word(to)
    )))
}

/// A status change of a reviewed record (a payee, a payout account), as `set_status` in this
/// module and in `accounts.rs` make it: (tenant, record key, new status, only while pending) →
/// the record and whether it changed.
pub(super) type SetStatus<S> = fn(&Core, &TenantId, &str, S, bool) -> Result<(Value, bool), String>;

/// The review trigger of a record named by the parameter `key`: moves it to `to` now, whatever
/// its status (the change itself refuses a move it does not allow).
pub(super) fn review_trigger<S: Send + 'static>(
    core: Core,
    params: Map<String, Value>,
    key: &'static str,
    to: S,
    set: SetStatus<S>,
) -> TriggerFuture {
    Box::pin(async move {
        let (_, tenant) = trigger_merchant(&core, &params)?;
        let record = param(&params, key)?;
        set(&core, &tenant, record, to, false).map(|(value, _)| value)
    })
}

/// The triggers that move one kind of record to a status now, one a status: `TRIGGERS`, each
/// calling `run(core, params, status)`; `change_of`, the trigger whose change a scheduled
/// move to a status is (for coverage; None where no trigger moves there); and `next_of`, the
/// record's lifecycle (`lifecycle { from => [to, ...]; }`), which every move is checked against.
macro_rules! status_triggers {
    ($status_type:ty, $params:expr, $run:ident;
     lifecycle { $($from:path => [$($next:path),*];)* }
     $($status:path => $name:literal, $description:literal;)*) => {
        /// The statuses a record in `from` may move to: its lifecycle, one row a status
        /// (none from a final status), checked by [`super::payees::lifecycle_step`].
        fn next_of(from: $status_type) -> &'static [$status_type] {
            $(if from == $from {
                return &[$($next),*];
            })*
            &[]
        }

        pub const TRIGGERS: &[Trigger] = &[$(
            Trigger {
                name: $name,
                description: $description,
                params: $params,
                run: |core, p| $run(core, p, $status),
            },
        )*];

        /// The trigger whose change a scheduled move to `status` is.
        fn change_of(status: $status_type) -> Option<&'static str> {
            match status {
                $($status => Some($name),)*
                _ => None,
            }
        }
    };
}
pub(super) use status_triggers;

/// A record under a scheduled review, named by the trigger parameter `key`, whose status
/// `set` changes: its status triggers ([`status_triggers`], each a [`review_trigger`]), the
/// timer of its scheduled review (parameter `target`), `review_decided`, which counts a review
/// decided in the request or sets that timer for a new record, and `review_counted`, the one
/// count of a review's move (the timer's and the request's).
macro_rules! reviewed_status {
    ($status_type:ty, $key:literal, $key_doc:literal, $set:ident;
     $(#[$doc:meta])* $timer:ident = $label:literal;
     lifecycle { $($from:path => [$($next:path),*];)* }
     $($status:path => $name:literal, $description:literal;)*) => {
        fn run(core: Core, params: Map<String, Value>, to: $status_type) -> TriggerFuture {
            super::payees::review_trigger(core, params, $key, to, $set)
        }

        const PARAMS: &[(&str, &str)] = &[($key, $key_doc), ("merchantNo?", crate::trigger::DEFAULT_MERCHANT)];

        super::payees::status_triggers! {
            $status_type, PARAMS, run;
            lifecycle { $($from => [$($next),*];)* }
            $($status => $name, $description;)*
        }

        /// Counts a review's move of a record to `to` for coverage (the change of the trigger
        /// that makes it), however the review made it: by its timer, or in the request.
        fn review_counted(core: &Core, tenant: &crate::tenant::TenantId, to: $status_type) {
            if let Some(change) = change_of(to) {
                crate::api::coverage::state_changed(core, tenant, change);
            }
        }

        /// After the review of the new record `key` was decided (`record` names its kind in
        /// the timer's label): a move made in the request (`changed`, with `delay` 0 or less)
        /// is counted; otherwise after `delay` the timer moves it to `target` (none when it
        /// stays pending).
        fn review_decided(
            ctx: &super::Ctx<'_>,
            record: &str,
            key: &str,
            delay: i64,
            target: $status_type,
            changed: bool,
        ) {
            if changed {
                review_counted(ctx.core, ctx.tenant, target);
            }
            if delay > 0 && target != <$status_type>::Pending {
                ctx.core.schedule_timer_in(
                    &$timer,
                    delay,
                    crate::core::timers::Pending {
                        label: format!("{}/{record}:{key}:review", ctx.tenant),
                        tenant: Some(ctx.tenant),
                        key,
                        params: serde_json::json!({ "target": target }),
                    },
                );
            }
        }

        crate::core::timers::timer_kind! {
            $(#[$doc])*
            pub $timer = $label,
            |core, tenant, key, target: $status_type = "target"| {
                if let Ok((_, true)) = $set(&core, &tenant, &key, target, true) {
                    review_counted(&core, &tenant, target);
                }
            }
        }
    };
}
pub(super) use reviewed_status;

reviewed_status! {
    PayeeStatus, "customerNo", "the payee", set_status;
    /// A payee's scheduled review (key: its customerNo).
    PAYEE_REVIEW = "pockyt.payee.review";
    lifecycle {
        PayeeStatus::Pending => [PayeeStatus::Activated, PayeeStatus::Declined];
        PayeeStatus::Activated => [PayeeStatus::Deactivated];
    }
    PayeeStatus::Activated => "pockyt.payee.activated",
        "compliance review passed: the payee becomes Activated";
    PayeeStatus::Declined => "pockyt.payee.declined",
        "compliance review failed: a Pending payee becomes Declined";
    PayeeStatus::Deactivated => "pockyt.payee.deactivated",
        "an Activated payee becomes Deactivated (payouts to it are refused)";
}
