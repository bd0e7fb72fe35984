//! Payout accounts: create (`/v3/customers/account/create/{bank-account,paypal,venmo}`, the same
//! under `/v3/payee/account/create/...`, and the legacy `/v2/customers/account/create` with
//! `accountType` in the body), list (`/v3/payee/payout-accounts`, all or one by `accountToken` /
//! `accountTag`, the same `accounts[]` + `user` shape), delete (`/v3/payee/account/delete`), the legacy retrieve
//! (`/v2/customers/account/retrieve`), the review a scenario may put in between, and the
//! `pockyt.account.*` triggers. Account numbers leave the simulator masked (`****5655`).

use serde_json::{json, Map, Value};

use super::fields::{self, mask, Fields};
use super::{Ctx, Reply};
use crate::clock::format::utc_z;
use crate::config::pockyt::FilteredAccountsShape;
use crate::core::Core;
use crate::core::Trigger;
use crate::store::pockyt::{AccountStatus, Payee, PayeeStatus, PayoutAccount};
use crate::store::{Refusal, TenantId, TenantState};
use crate::trigger::TriggerFuture;
use crate::wire::pockyt::PockytError;

/// Types the v3 paths accept, by path suffix.
const V3_TYPES: &[(&str, &str)] = &[
    ("bank-account", "BANK_ACCOUNT"),
    ("paypal", "PAYPAL"),
    ("venmo", "VENMO"),
];
/// Types the legacy v2 path accepts.
const V2_TYPES: &[&str] = &[
    "BANK_ACCOUNT",
    "PAYPAL",
    "VENMO",
    "CARD",
    "PAPER_CHECK",
    "PREPAID_CARD",
    "ALIPAY",
    "WIRE_ACCOUNT",
];
const PURPOSES: &[&str] = &["CHECKING", "SAVINGS"];

/// The refusal for a payee that cannot hold or use accounts (seed 003: `payee status Unverified`).
pub fn require_active(p: &Payee) -> Result<(), Refusal> {
    match p.status {
        PayeeStatus::Activated => Ok(()),
        other => Err(Refusal::wrong_state(format!(
            "payee status {}",
            other.refusal_word()
        ))),
    }
}

/// `result` of the create reply.
fn created(a: &PayoutAccount, p: &Payee, now: i64) -> Value {
    json!({
        "accountTag": a.account_tag,
        "accountStatus": a.status.upper(),
        "country": a.country,
        "lastName": p.field("lastName"),
        "firstName": p.field("firstName"),
        "accountType": a.account_type,
        "currency": a.currency,
        "accountToken": a.account_token,
        "customerNo": a.customer_no,
        "email": p.email,
        "timestamp": utc_z(now),
        "status": "success",
    })
}

/// An item of the list reply; with `owner`, also the payee's names (single-account reply).
fn listed(a: &PayoutAccount, owner: Option<&Payee>) -> Value {
    let mut out = Map::new();
    out.insert("accountTag".into(), json!(a.account_tag));
    out.insert("country".into(), json!(a.country));
    out.insert("createdAt".into(), json!(utc_z(a.created_at)));
    if let Some(p) = owner {
        out.insert("firstName".into(), json!(p.field("firstName")));
        out.insert("lastName".into(), json!(p.field("lastName")));
    }
    out.insert("accountType".into(), json!(a.account_type));
    out.insert("currency".into(), json!(a.currency));
    out.insert("accountToken".into(), json!(a.account_token));
    if let Some(p) = owner {
        out.insert("customerNo".into(), json!(a.customer_no));
        out.insert("email".into(), json!(p.email));
    }
    out.insert("cardNumber".into(), json!(mask(&a.bank_account_id)));
    out.insert("status".into(), json!(a.status.lower()));
    Value::Object(out)
}

pub fn create(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    // The legacy v2 contract (as the public SDK validates it) requires less than v3's table:
    // accountType, accountTag, clientIp, customerNo, accountCountry and accountCurrency;
    // bankAccountId, bankName and ipnUrl are optional there.
    let v3 = ctx.path.contains("/create/");
    // Every field problem at once, in the order of the table.
    let mut p = fields::Problems::default();
    let account_type = p.take(account_type(ctx.path, f)).flatten();
    let customer_no = p.take(fields::required(f, "customerNo"));
    let country = p
        .take(fields::country(f, "accountCountry", true))
        .flatten()
        .unwrap_or_default();
    let currency = p.take(fields::currency(f, "accountCurrency"));
    let tag = p.take(fields::required(f, "accountTag"));
    let (number, bank_name) = if v3 {
        // The v3 table marks bankName M for every account type (PayPal and Venmo too).
        (
            p.take(fields::required(f, "bankAccountId")),
            p.take(fields::required(f, "bankName")),
        )
    } else {
        (
            p.take(fields::optional(f, "bankAccountId"))
                .flatten()
                .or_else(|| Some(String::new())),
            p.take(fields::optional(f, "bankName"))
                .flatten()
                .or_else(|| Some(String::new())),
        )
    };
    let ipn_url = p.take(fields::web_url(f, "ipnUrl", v3)).flatten();
    p.take(fields::required(f, "clientIp"));
    p.take(fields::one_of(f, "bankAccountPurpose", PURPOSES, false));
    p.finish()?;
    // After finish every value read above is there.
    let (
        Some(account_type),
        Some(customer_no),
        Some(currency),
        Some(tag),
        Some(number),
        Some(bank_name),
    ) = (account_type, customer_no, currency, tag, number, bank_name)
    else {
        return Err(PockytError::internal("a checked field went missing"));
    };
    let cfg = &ctx.core.config().pockyt;
    let delay = ctx.decision.delay_or(cfg.account_review_delay_ms);
    // A scenario's status word or result (one table, `scenario::pockyt::ACCOUNT`, which the
    // scenario loader checks rules against).
    let target = crate::scenario::pockyt::ACCOUNT.decide(ctx.decision.result.as_ref());
    let now = ctx.now();
    let result = ctx.try_with_state(|t| {
        let owner = t.pockyt.payee(&customer_no)?;
        if matches!(
            owner.status,
            PayeeStatus::Declined | PayeeStatus::Deactivated
        ) {
            require_active(owner)?;
        }
        if let Some(other) = t
            .pockyt
            .accounts_of(&customer_no)
            .find(|a| a.account_tag == tag)
        {
            return Err(PockytError::value(format!(
                "accountTag {tag} is already used by accountToken {} of this payee",
                other.account_token
            )));
        }
        let token = format!("201030{:016}", t.next_seq());
        let account = PayoutAccount {
            account_token: token.clone(),
            customer_no: customer_no.clone(),
            account_tag: tag,
            account_type,
            country,
            currency: currency.code().to_owned(),
            bank_account_id: number,
            bank_name,
            ipn_url,
            status: AccountStatus::Pending,
            deleted: false,
            created_at: now,
        };
        t.pockyt.accounts.insert(token.clone(), account);
        // Decided in the call: the review's move, made as its timer makes it.
        let changed = match delay <= 0 {
            true => step(t, &token, target, true)?.1,
            false => false,
        };
        let reply = created(
            t.pockyt.account(&token)?,
            t.pockyt.payee(&customer_no)?,
            now,
        );
        Ok((token, reply, changed))
    })?;
    let (token, reply, changed) = result;
    review_decided(ctx, "account", &token, delay, target, changed);
    Ok(Reply::new("success").with("result", reply))
}

/// `accountType`: on a v3 path, the type the path takes (another is `000022`); on the legacy v2
/// path, one of [`V2_TYPES`].
fn account_type(path: &str, f: &Fields) -> Result<Option<String>, PockytError> {
    let Some((_, suffix)) = path.rsplit_once("/create/") else {
        return fields::one_of(f, "accountType", V2_TYPES, true);
    };
    let expected = V3_TYPES
        .iter()
        .find(|(s, _)| *s == suffix)
        .map(|(_, t)| *t)
        .ok_or_else(|| PockytError::internal("unknown account path"))?;
    crate::api::describe::record("accountType", "enum", true, &[expected]);
    let given = fields::required(f, "accountType")?;
    if given != expected {
        return Err(PockytError::mismatch(format!(
            "accountType {given} does not match the path {path} (which takes {expected})"
        )));
    }
    Ok(Some(given))
}

/// The live account a request names by `accountToken` or `accountTag`, of payee `customer_no`.
fn find<'a>(
    t: &'a TenantState,
    customer_no: &'a str,
    token: Option<&str>,
    tag: Option<&str>,
) -> Result<&'a PayoutAccount, PockytError> {
    let found = match (token, tag) {
        (Some(token), _) => t.pockyt.accounts.get(token).filter(|a| !a.deleted),
        (None, Some(tag)) => t
            .pockyt
            .accounts_of(customer_no)
            .find(|a| a.account_tag == tag),
        (None, None) => return Err(PockytError::null("accountToken or accountTag is required")),
    };
    let what = token.map_or_else(
        || format!("accountTag {}", tag.unwrap_or_default()),
        |t| format!("accountToken {t}"),
    );
    let account = found.ok_or_else(|| Refusal::unknown("payout account", what.clone()))?;
    if account.customer_no != customer_no {
        return Err(PockytError::mismatch(format!(
            "{what} belongs to another payee, not customerNo {customer_no}"
        )));
    }
    if let (Some(_), Some(tag)) = (token, tag) {
        if account.account_tag != tag {
            return Err(PockytError::mismatch(format!(
                "{what} has accountTag {}, not {tag}",
                account.account_tag
            )));
        }
    }
    Ok(account)
}

pub fn list(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    let mut p = fields::Problems::default();
    let customer_no = p.take(fields::required(f, "customerNo"));
    let token = p.take(fields::optional(f, "accountToken")).flatten();
    let tag = p.take(fields::optional(f, "accountTag")).flatten();
    p.finish()?;
    let customer_no = fields::checked(customer_no)?;
    ctx.try_with_state(|t| {
        let owner = t.pockyt.payee(&customer_no)?;
        require_active(owner)?;
        // Filtered by accountToken or accountTag: the listing's shape, a list of one, or the
        // single account with its payee's names (`[pockyt] filtered_accounts_shape`).
        let accounts: Vec<Value> = if token.is_some() || tag.is_some() {
            let account = find(t, &customer_no, token.as_deref(), tag.as_deref())?;
            if ctx.core.config().pockyt.filtered_accounts_shape == FilteredAccountsShape::Result {
                return Ok(Reply::new("success").with("result", listed(account, Some(owner))));
            }
            vec![listed(account, None)]
        } else {
            t.pockyt
                .accounts_of(&customer_no)
                .map(|a| listed(a, None))
                .collect()
        };
        Ok(Reply::new("success")
            .with("accounts", Value::Array(accounts))
            .with(
                "user",
                json!({
                    "firstName": owner.field("firstName"),
                    "lastName": owner.field("lastName"),
                    "customerNo": owner.customer_no,
                    "email": owner.email,
                }),
            ))
    })
}

pub fn delete(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    let mut p = fields::Problems::default();
    let customer_no = p.take(fields::required(f, "customerNo"));
    let token = p.take(fields::required(f, "accountToken"));
    p.finish()?;
    let (customer_no, token) = (fields::checked(customer_no)?, fields::checked(token)?);
    ctx.try_with_state(|t| {
        t.pockyt.payee(&customer_no)?;
        find(t, &customer_no, Some(&token), None)?;
        if let Some(a) = t.pockyt.accounts.get_mut(&token) {
            a.deleted = true;
        }
        Ok(Reply::new("deleted"))
    })
}

/// Legacy v2: one account by `accountToken` (or `customerNo` + `accountTag`).
pub fn retrieve_v2(ctx: &Ctx<'_>, f: &Fields) -> Result<Reply, PockytError> {
    crate::api::describe::record_either("accountToken", "customerNo");
    let mut p = fields::Problems::default();
    let token = p.take(fields::optional(f, "accountToken")).flatten();
    let tag = p.take(fields::optional(f, "accountTag")).flatten();
    let customer_no = p.take(fields::optional(f, "customerNo")).flatten();
    if token.is_none() {
        p.take(named_without_token(customer_no.is_some(), tag.is_some()));
    }
    p.finish()?;
    ctx.try_with_state(|t| {
        let customer_no = match (&customer_no, &token) {
            (Some(c), _) => c.clone(),
            (None, Some(token)) => t.pockyt.account(token)?.customer_no.clone(),
            (None, None) => return Err(PockytError::internal("a checked field went missing")),
        };
        let owner = t.pockyt.payee(&customer_no)?;
        let a = find(t, &customer_no, token.as_deref(), tag.as_deref())?;
        let mut view = listed(a, Some(owner));
        if let Value::Object(m) = &mut view {
            m.insert("accountStatus".into(), json!(a.status.upper()));
        }
        Ok(Reply::new("query success").with("result", view))
    })
}

/// Without `accountToken`, the v2 retrieve names its account by `customerNo` + `accountTag`:
/// refused, naming what is missing of that pair, unless both are there.
fn named_without_token(customer_no: bool, tag: bool) -> Result<(), PockytError> {
    let missing = match (customer_no, tag) {
        (true, true) => return Ok(()),
        (false, true) => "customerNo is missing",
        (true, false) => "accountTag is missing",
        (false, false) => "both are missing",
    };
    Err(PockytError::null(format!(
        "accountToken is required, or customerNo with accountTag ({missing})"
    )))
}

/// Moves an account to `to` along its lifecycle (`PENDING` → `ACTIVATED` / `INVALID`, and
/// `ACTIVATED` → `INVALID` by trigger); with `only_pending` (the scheduled review), only an
/// account still under review. Answers the account and whether it changed (not when it already
/// has that status).
pub fn set_status(
    core: &Core,
    tenant: &TenantId,
    token: &str,
    to: AccountStatus,
    only_pending: bool,
) -> Result<(Value, bool), String> {
    let changed = core.with_tenant_text(tenant, |t| step(t, token, to, only_pending))?;
    Ok(changed?)
}

/// [`set_status`] under the tenant's lock (`t`): the one move of an account's status, by
/// trigger, by its review's timer, or by a review decided in the create call.
fn step(
    t: &mut TenantState,
    token: &str,
    to: AccountStatus,
    only_pending: bool,
) -> Result<(Value, bool), Refusal> {
    let a = t.pockyt.account_mut(token)?;
    if (only_pending && a.status != AccountStatus::Pending) || a.status == to {
        return Ok((listed(a, None), false));
    }
    let record = format!("payout account {token}");
    super::payees::lifecycle_step(
        &record,
        a.status,
        to,
        next_of(a.status),
        AccountStatus::upper,
    )?;
    a.status = to;
    Ok((listed(a, None), true))
}

super::payees::reviewed_status! {
    AccountStatus, "accountToken", "the payout account", set_status;
    /// An account's scheduled review (key: its accountToken).
    ACCOUNT_REVIEW = "pockyt.account.review";
    lifecycle {
        AccountStatus::Pending => [AccountStatus::Activated, AccountStatus::Invalid];
        AccountStatus::Activated => [AccountStatus::Invalid];
    }
    AccountStatus::Activated => "pockyt.account.activated",
        "account review passed: the payout account becomes ACTIVATED";
    AccountStatus::Invalid => "pockyt.account.invalid",
        "the payout account's details are bad: it becomes INVALID (payouts refused)";
}
