//! `revenue-sharing/request` (inferred path, spec §2.7): the platform distributes money from its
//! Infinia Pay account to bound, ACTIVE sellers. `{requestNo, currency, shareDetails: [{sellerId,
//! amount}]}` (or one `sellerId` + `amount`, never both). Each amount must fit the seller's
//! available revenue share, the total the platform balance; the total is reserved at once
//! (PROCESSING) and moves to the sellers (SUCCESS) or back (FAILED) after the delay, as the
//! scenario decides. Idempotent on `requestNo`.

use serde_json::{json, Value};

use super::fields::{amount, content, currency, given, optional, required, text};
use super::{Ctx, Operation};
use crate::clock::format;
use crate::core::Core;
use crate::money::{Currency, Money, MAX_MINOR};
use crate::store::infinia::{
    repeated, seller_account, sharing_account, InfiniaState, SellerStatus, ShareItem, Sharing,
    SharingStatus, PLATFORM_ACCOUNT,
};
use crate::store::{Refusal, TenantId, TenantState};
use crate::wire::infinia::{json_type, InfiniaError};

pub const OPERATION: Operation = Operation {
    name: "revenue-sharing/request",
    handler,
};

const MAX_ITEMS: usize = 100;
const MAX_SELLER_ID: usize = 64;

/// The sellers and amounts: `shareDetails`, or else the single `sellerId` + `amount`.
fn items(body: &Value, c: Currency) -> Result<Vec<ShareItem>, InfiniaError> {
    describe_forms();
    // Absent as every field of this API is ([`given`]: null or an empty string).
    if !given(body, "shareDetails") {
        return Ok(vec![single(body, c)?]);
    }
    let Some(Value::Array(list)) = body.get("shareDetails") else {
        return Err(InfiniaError::format(
            "shareDetails must be an array of {sellerId, amount}",
        ));
    };
    single_fields_absent(body)?;
    if list.is_empty() || list.len() > MAX_ITEMS {
        return Err(InfiniaError::range(format!(
            "shareDetails has {} entries; 1 to {MAX_ITEMS} are allowed",
            list.len()
        )));
    }
    let mut out: Vec<ShareItem> = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        if !item.is_object() {
            return Err(InfiniaError::format(format!(
                "shareDetails[{i}] must be an object {{sellerId, amount}}, got {}",
                json_type(item)
            )));
        }
        let at =
            |e: InfiniaError| InfiniaError::new(e.code, format!("shareDetails[{i}].{}", e.message));
        let seller_id = required(item, "sellerId", MAX_SELLER_ID).map_err(at)?;
        let amount = amount(item, "amount", c).map_err(at)?;
        if out.iter().any(|x| x.seller_id == seller_id) {
            return Err(InfiniaError::invalid(format!(
                "shareDetails[{i}]: seller {seller_id:?} appears twice"
            )));
        }
        out.push(ShareItem {
            seller_id: seller_id.to_owned(),
            amount,
        });
    }
    Ok(out)
}

/// The single form: one `sellerId` and its `amount`. Only a seller given nowhere is SYS-004;
/// a `sellerId` of the wrong type or too long gets its own code.
fn single(body: &Value, c: Currency) -> Result<ShareItem, InfiniaError> {
    let Some(seller_id) = optional(body, "sellerId", MAX_SELLER_ID)? else {
        return Err(InfiniaError::missing(
            "give shareDetails [{sellerId, amount}] or one sellerId and amount",
        ));
    };
    Ok(ShareItem {
        seller_id: seller_id.to_owned(),
        amount: amount(body, "amount", c)?,
    })
}

/// What describe mode lists (`call --example`, `GET /__sim/operations`): the two forms, each
/// under the condition it holds in. The example is the single form; `shareDetails` and its items
/// are recorded here, as the example never reaches the loop that reads them.
fn describe_forms() {
    use crate::api::describe::{record, record_either, record_when};
    record("sellerId", "string", false, &[]);
    record("amount", "amount", true, &[]);
    record_when("amount", "sellerId is given");
    record_either("sellerId", "shareDetails");
    record("shareDetails", "array", false, &[]);
    record("shareDetails[0].sellerId", "string", true, &[]);
    record("shareDetails[0].amount", "amount", true, &[]);
}

/// `shareDetails` and the single `sellerId` + `amount` are alternatives: a request giving both
/// is refused rather than one silently winning. A field counts as given as every field of this
/// API does ([`given`]: null or an empty string is absent).
fn single_fields_absent(body: &Value) -> Result<(), InfiniaError> {
    let present: Vec<&str> = ["sellerId", "amount"]
        .into_iter()
        .filter(|k| given(body, k))
        .collect();
    if present.is_empty() {
        return Ok(());
    }
    Err(InfiniaError::invalid(format!(
        "give either shareDetails or one sellerId and amount, not both: remove {} or shareDetails",
        present.join(" and ")
    )))
}

/// The sum of the items, refused (SYS-006) when it is more than the largest amount the simulator
/// moves ([`MAX_MINOR`] minor units), before any state is read: the ledger takes no larger leg.
/// (At most [`MAX_ITEMS`] amounts of at most `MAX_MINOR` each: the sum fits an `i64`.)
fn total_of(items: &[ShareItem], c: Currency) -> Result<Money, InfiniaError> {
    let sum = items
        .iter()
        .fold(0i64, |acc, i| acc.saturating_add(i.amount.minor));
    if sum <= MAX_MINOR {
        return Ok(Money::new(sum, c));
    }
    Err(InfiniaError::range(format!(
        "the shareDetails amounts add up to {} {c}, more than the largest amount one revenue \
         sharing moves, {} {c} (10^15 minor units); split it into several requests",
        Money::new(sum, c).to_decimal_string(),
        Money::new(MAX_MINOR, c).to_decimal_string(),
    )))
}

/// The platform account must hold the whole total (SYS-006 otherwise), checked before the
/// reservation so that the ledger is asked only for what it can post.
fn check_balance(t: &TenantState, total: Money) -> Result<(), InfiniaError> {
    let c = total.currency;
    let available = t.ledger.balance(PLATFORM_ACCOUNT, c);
    if total.minor <= available.minor {
        return Ok(());
    }
    Err(InfiniaError::range(format!(
        "the total {} {c} exceeds the platform account's available balance of {} {c}",
        total.to_decimal_string(),
        available.to_decimal_string()
    )))
}

/// A revenue sharing request's fields, as read ([`read`]).
struct Request<'a> {
    request_no: &'a str,
    currency: Currency,
    note: Option<&'a str>,
    items: Vec<ShareItem>,
}

impl Request<'_> {
    /// What the sharing keeps of the request and its requestNo's idempotency compares
    /// ([`content`]): the sellers and amounts as read, so that the single form and a
    /// `shareDetails` of one entry are one request, and `1`, `1.0` and `1.00` one amount.
    fn content(&self) -> Value {
        let details: Vec<Value> = self
            .items
            .iter()
            .map(|i| json!({"sellerId": i.seller_id, "amount": i.amount.to_decimal_string()}))
            .collect();
        content([
            ("requestNo", Some(Value::from(self.request_no))),
            ("currency", Some(Value::from(self.currency.code()))),
            ("note", self.note.map(Value::from)),
            ("shareDetails", Some(Value::from(details))),
        ])
    }
}

/// Reads and checks the request's fields, in the order their refusals are given.
fn read(body: &Value) -> Result<Request<'_>, InfiniaError> {
    let request_no = required(body, "requestNo", 64)?;
    let c = currency(body, "currency")?;
    let note = optional(body, "note", 256)?;
    Ok(Request {
        request_no,
        currency: c,
        note,
        items: items(body, c)?,
    })
}

/// The content of an earlier request's record ([`Request::content`]): reading a content again
/// gives it unchanged, and a record of an older simulator, which kept the body as sent, is read
/// as the request was.
fn recorded(s: &Sharing) -> Value {
    read(&s.request).map_or_else(|_| s.request.clone(), |r| r.content())
}

/// Why a seller with no BOUND binding cannot receive revenue sharing, and what to do: a binding
/// requested but still PENDING waits for the seller's approval (its redirectUrl page, or
/// `trigger infinia.binding.approved`); one the seller rejected, or none at all, needs an
/// `account-binding/request` (and then the approval). The latest binding of the seller speaks.
fn not_bound(s: &InfiniaState, seller_id: &str) -> String {
    use crate::store::infinia::BindingStatus;
    match s.latest_binding(seller_id, None) {
        Some(b) if b.status == BindingStatus::Pending => format!(
            "seller {seller_id:?} is not bound to this app yet: its binding (requestNo {:?}) is \
             PENDING until the seller approves it (the binding's redirectUrl page, or trigger \
             infinia.binding.approved)",
            b.request_no
        ),
        Some(b) => format!(
            "seller {seller_id:?} is not bound to this app: the seller rejected its binding \
             (requestNo {:?}); request a new one (account-binding/request) for the seller to \
             approve",
            b.request_no
        ),
        None => format!(
            "seller {seller_id:?} is not bound to this app: request a binding \
             (account-binding/request) and have the seller approve it"
        ),
    }
}

/// Whether a seller can receive revenue sharing: bound to the app (a BOUND binding and its
/// seller record) and ACTIVE. Asked when a sharing is requested (a seller who cannot is
/// refused) and again when it settles (a seller frozen, or no longer bound, meanwhile fails the
/// whole sharing: [`finish`]), so that no money reaches a seller the request would be refused for.
enum Standing {
    Receives,
    /// Bound, but not ACTIVE (FROZEN).
    Inactive(SellerStatus),
    /// No BOUND binding, or no seller record to go with it.
    Unbound,
}

fn standing(s: &InfiniaState, seller_id: &str) -> Standing {
    let bound = super::binding::bound_binding(s, seller_id).is_some();
    match s.sellers.get(seller_id) {
        Some(seller) if bound && seller.status == SellerStatus::Active => Standing::Receives,
        Some(seller) if bound => Standing::Inactive(seller.status),
        _ => Standing::Unbound,
    }
}

/// Why a sharing settling now cannot pay its sellers, if it cannot: every seller of `items` who
/// is no longer bound and ACTIVE, with their status, and what became of the money (a sharing is
/// all-or-nothing, as its request is: none is paid, the total goes back to the platform).
fn unpayable(s: &InfiniaState, items: &[ShareItem], total: Money) -> Option<String> {
    let sellers: Vec<String> = items
        .iter()
        .filter_map(|i| match standing(s, &i.seller_id) {
            Standing::Receives => None,
            Standing::Inactive(status) => {
                Some(format!("seller {:?} is {}", i.seller_id, status.as_str()))
            }
            Standing::Unbound => Some(format!(
                "seller {:?} is no longer bound to this app",
                i.seller_id
            )),
        })
        .collect();
    if sellers.is_empty() {
        return None;
    }
    Some(format!(
        "{} when the sharing settled; a seller must be bound and ACTIVE to receive revenue \
         sharing, so no seller was paid and the total {} {} went back to the platform account",
        sellers.join(", "),
        total.to_decimal_string(),
        total.currency
    ))
}

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Value, InfiniaError> {
    let request = read(body)?;
    let (request_no, c, items) = (request.request_no, request.currency, &request.items);
    let total = total_of(items, c)?;
    let content = request.content();
    let now = ctx.now();
    let created = ctx.with_state(|t| {
        let sharings = &t.infinia.sharings;
        let kind = "a revenue sharing";
        if let Some(earlier) = repeated(sharings, request_no, &content, recorded, kind)? {
            return Ok((view(earlier), false));
        }
        for item in items {
            let s = &t.infinia;
            match standing(s, &item.seller_id) {
                Standing::Receives => {}
                Standing::Inactive(status) => {
                    return Err(InfiniaError::invalid(format!(
                        "seller {:?} is {}; a frozen seller cannot receive revenue sharing",
                        item.seller_id,
                        status.as_str()
                    )))
                }
                Standing::Unbound => {
                    return Err(InfiniaError::invalid(not_bound(s, &item.seller_id)))
                }
            }
            let available = s.available_minor(&item.seller_id, c.code());
            if item.amount.minor > available {
                return Err(InfiniaError::range(format!(
                    "{} {} for seller {:?} exceeds the seller's available revenue share of {} {}",
                    item.amount.to_decimal_string(),
                    c,
                    item.seller_id,
                    Money::new(available, c).to_decimal_string(),
                    c
                )));
            }
        }
        check_balance(t, total)?;
        // Every condition a request can cause was checked above: a refusal here is a bug.
        t.ledger
            .transfer(
                now,
                memo(request_no, "reserved"),
                PLATFORM_ACCOUNT,
                &sharing_account(request_no),
                total,
            )
            .map_err(|e| InfiniaError::internal(e.to_string()))?;
        let sharing = Sharing {
            request_no: request_no.to_owned(),
            request: content,
            total,
            items: items.clone(),
            status: SharingStatus::Processing,
            reason: None,
            created_at: now,
            finished_at: None,
        };
        let v = view(&sharing);
        t.infinia.sharings.insert(request_no.to_owned(), sharing);
        Ok((v, true))
    })??;
    let (reply, fresh) = created;
    if fresh {
        let default_ms = i64::try_from(
            ctx.core
                .infinia()
                .apps
                .config
                .revenue_sharing_seconds
                .saturating_mul(1000),
        )
        .unwrap_or(i64::MAX);
        let success = ctx.decision.succeeds();
        let reason = ctx.decision.reason().map(str::to_owned);
        ctx.schedule_in(
            &SHARING_FINISH,
            default_ms,
            format!("{}/sharing:{request_no}", ctx.tenant),
            request_no,
            json!({"success": success, "reason": reason}),
        );
    }
    Ok(reply)
}

/// Completes a PROCESSING sharing: pays the sellers, or returns the money to the platform. A
/// sharing decided to succeed still fails (FAILED, the total returned, `reason` naming them) when
/// one of its sellers is no longer bound and ACTIVE ([`unpayable`]): frozen since the request
/// was accepted, say. A sharing decided to fail keeps its scenario's reason.
pub fn finish(
    core: &Core,
    tenant: &TenantId,
    request_no: &str,
    success: bool,
    reason: Option<&str>,
) -> Result<Value, String> {
    let now = core.clock().now();
    let finished = core.with_tenant_text(tenant, |t| -> Result<Value, Refusal> {
        let sharing = t.infinia.sharing(request_no)?;
        if sharing.status != SharingStatus::Processing {
            return Err(Refusal::wrong_state(format!(
                "revenue sharing {request_no} is already {}",
                sharing.status.as_str()
            )));
        }
        let refused = success
            .then(|| unpayable(&t.infinia, &sharing.items, sharing.total))
            .flatten();
        let success = success && refused.is_none();
        let reason = refused.as_deref().or(reason);
        let sharing = t.infinia.sharing_mut(request_no)?;
        let from = sharing_account(request_no);
        let debit = Money::new(-sharing.total.minor, sharing.total.currency);
        let accounts: Vec<(String, Money)> = if success {
            sharing
                .items
                .iter()
                .map(|i| (seller_account(&i.seller_id), i.amount))
                .collect()
        } else {
            vec![(PLATFORM_ACCOUNT.to_owned(), sharing.total)]
        };
        let mut legs: Vec<(&str, Money)> = vec![(from.as_str(), debit)];
        legs.extend(accounts.iter().map(|(a, m)| (a.as_str(), *m)));
        let memo = memo(request_no, if success { "paid" } else { "returned" });
        t.ledger.post(now, memo, &legs)?;
        sharing.status = if success {
            SharingStatus::Success
        } else {
            SharingStatus::Failed
        };
        sharing.reason = (!success).then(|| {
            reason
                .unwrap_or("declined by Infinia Pay (scenario)")
                .to_owned()
        });
        sharing.finished_at = Some(now);
        Ok(view(sharing))
    })?;
    Ok(finished?)
}

pub fn view(s: &Sharing) -> Value {
    json!({
        "requestNo": s.request_no,
        "currency": s.total.currency.code(),
        "totalAmount": s.total.to_decimal_string(),
        "status": s.status.as_str(),
        "reason": text(s.reason.as_deref()),
        "shareDetails": s.items.iter().map(|i| json!({"sellerId": i.seller_id, "amount": i.amount.to_decimal_string()})).collect::<Vec<_>>(),
        "createTime": format::china(s.created_at),
        "finishTime": text(s.finished_at.map(format::china)),
    })
}

crate::core::timers::timer_kind! {
    /// A revenue sharing's scheduled end (key: its requestNo).
    pub SHARING_FINISH = "infinia.sharing.finish",
    |core, tenant, key, success: bool = "success", reason: Option<String> = "reason"| {
        if let Err(e) = finish(&core, &tenant, &key, success, reason.as_deref()) {
            tracing::warn!(error = %e, "revenue sharing not finished");
        }
    }
}

/// The memo of a sharing's posting at `step` (`reserved`, `paid`, `returned`).
fn memo(request_no: &str, step: &str) -> String {
    format!("revenue sharing {request_no} {step}")
}

/// Whether `memo` is one of sharing `request_no`'s postings: its reservation, its payment or
/// its return (a snapshot import's check ties postings to their sharing by it).
pub(crate) fn is_memo_of(memo: &str, request_no: &str) -> bool {
    ["reserved", "paid", "returned"]
        .iter()
        .any(|step| memo == self::memo(request_no, step))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sharing(request: Value) -> Sharing {
        let usd = Currency::parse("USD").unwrap();
        Sharing {
            request_no: "RS-1".into(),
            request,
            total: Money::new(100, usd),
            items: vec![],
            status: SharingStatus::Processing,
            reason: None,
            created_at: 0,
            finished_at: None,
        }
    }

    /// A record keeps the request's content, which reads back unchanged; a record of an older
    /// simulator, holding the body as sent, is read as the request is: the same sharing sent
    /// again in another spelling compares equal to either.
    #[test]
    fn a_record_compares_by_content_whichever_form_it_holds() {
        let older = json!({"requestNo": "RS-1", "currency": "USD", "sellerId": "S1",
                           "amount": "1.000", "note": "", "channel": "web"});
        let retry = json!({"requestNo": "RS-1", "currency": "USD",
                           "shareDetails": [{"sellerId": "S1", "amount": "1"}]});
        let content = read(&retry).unwrap().content();
        assert_eq!(
            content,
            json!({"requestNo": "RS-1", "currency": "USD",
                   "shareDetails": [{"sellerId": "S1", "amount": "1.00"}]})
        );
        assert_eq!(recorded(&sharing(older)), content);
        assert_eq!(recorded(&sharing(content.clone())), content);
    }
}
