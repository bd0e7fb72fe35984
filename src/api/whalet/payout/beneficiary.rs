//! Payout beneficiaries (受益人银行账户): `beneficiaryCountryQuery`, `beneficiaryFieldsQuery`,
//! `benificiaryAccountApply` (reviewed, 30 s of virtual time by default, result by
//! `benificiaryAccountNotify`) and `benificiaryAccountDelete`. The bank fields are flat in the body
//! and checked against [`countries`](super::countries).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::countries::{country, country_view, field_view, COUNTRIES};
use crate::api::whalet::common::fields::{Check, ENTITY_TYPES};
use crate::api::whalet::common::kinds::BeneficiaryReview;
use crate::api::whalet::common::owned::{user_list, user_record, Records};
use crate::api::whalet::common::review::{self, Apply, Notice, Review, Settle};
use crate::api::whalet::common::{again, failure, known_user, list};
use crate::api::whalet::{whalet_time, Ctx, Reply};
use crate::store::whalet_trade::{BeneficiaryStatus, OutflowStatus, PayoutBeneficiary};
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

pub fn country_query(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.opt("userId");
    let currency = c.currency("currency", false);
    c.finish()?;
    if let Some(user_id) = user_id {
        known_user(ctx, user_id)?;
    }
    Ok(list(
        COUNTRIES
            .iter()
            .filter(|k| currency.is_none_or(|cur| k.currencies.contains(&cur.code())))
            .map(country_view),
    ))
}

pub fn fields_query(_ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let code = c.country("country", true).unwrap_or("");
    let currency = c.currency("currency", false);
    c.finish()?;
    let k = country(code).ok_or_else(|| {
        failure(format!(
            "payouts to {code} are not offered (see beneficiaryCountryQuery)"
        ))
    })?;
    if let Some(cur) = currency.filter(|cur| !k.currencies.contains(&cur.code())) {
        return Err(failure(format!(
            "accounts in {code} hold {}, not {cur}",
            k.currencies.join(", ")
        )));
    }
    Ok(Reply::ok(json!({
        "country": k.code,
        "countryName": k.name,
        "currencies": k.currencies,
        "fields": k.fields.iter().map(field_view).collect::<Vec<_>>(),
    })))
}

pub fn apply(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let out_id = c.id("outBeneficiaryId");
    let code = c.country("country", true).unwrap_or("");
    let currency = c.currency("currency", true);
    let account_type = c.one_of("beneficiaryType", ENTITY_TYPES, false);
    let account_type = c
        .defaulted("beneficiaryType", account_type, Some("ENTERPRISE"), |t| {
            Value::from(*t)
        })
        .unwrap_or("ENTERPRISE");
    let mut fields = BTreeMap::new();
    if let Some(k) = country(code) {
        if let Some(cur) = currency.filter(|cur| !k.currencies.contains(&cur.code())) {
            c.problem(format!(
                "currency: accounts in {code} hold {}, not {cur}",
                k.currencies.join(", ")
            ));
        }
        for f in k.fields {
            let value = if f.required {
                Some(c.text(f.name)).filter(|v| !v.is_empty())
            } else {
                c.opt(f.name)
            };
            if let Some(v) = value {
                match f.format.check(v, code) {
                    Some(why) => c.problem(format!("{} {why}, got {v:?}", f.name)),
                    None => {
                        fields.insert(f.name.to_owned(), v.to_owned());
                    }
                }
            }
        }
    } else if !code.is_empty() {
        c.problem(format!(
            "country: payouts to {code} are not offered (see beneficiaryCountryQuery)"
        ));
    }
    let content = c.content();
    let currency = c.finish_with("currency", currency)?;
    let now = ctx.now();
    review::apply::<BeneficiaryReview, PayoutBeneficiary>(
        ctx,
        Apply {
            api: "benificiaryAccountApply",
            user: Some(user_id),
            out_field: "outBeneficiaryId",
            out_id,
            body: &content,
        },
        review::onboarded(user_id),
        |beneficiary_id, attempt| PayoutBeneficiary {
            beneficiary_id,
            out_beneficiary_id: out_id.to_owned(),
            user_id: user_id.to_owned(),
            country: code.to_owned(),
            currency,
            account_type: account_type.to_owned(),
            fields: fields.clone(),
            status: BeneficiaryStatus::Processing,
            reported_status: String::new(),
            message: String::new(),
            attempt,
            applied_at: now,
            decided_at: None,
        },
    )
}

pub fn delete(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let id = c.id("beneficiaryId");
    c.finish()?;
    let now = ctx.now();
    ctx.with_state(|t| {
        t.whalet.user(user_id)?;
        // Only a confirmed payout holds money (frozen) for the account; an unconfirmed one holds
        // none and can no longer be confirmed once the account is deleted.
        let busy = t.whalet_trade.outflows.values().any(|o| {
            o.beneficiary_id.as_deref() == Some(id) && o.status == OutflowStatus::Processing
        });
        let what = ("beneficiaryId", id, "beneficiary account");
        let b = user_record(&t.whalet_trade.beneficiaries, what, user_id)?;
        if b.status == BeneficiaryStatus::Deleted {
            return Err(failure(format!(
                "beneficiary account {id} is already deleted"
            )));
        }
        if busy {
            return Err(failure(format!(
                "beneficiary account {id} has a confirmed payout in progress (PROCESSING); it \
                 can be deleted once payoutResultNotify has given the result"
            )));
        }
        // Its review would then end without a notification: wait for the result (as a shop
        // cannot be unbound while binding).
        if b.status == BeneficiaryStatus::Processing {
            return Err(failure(format!(
                "beneficiary account {id} is under review (status PROCESSING); it can be \
                 deleted once benificiaryAccountNotify has given the result"
            )));
        }
        let b =
            again(&mut t.whalet_trade.beneficiaries, id, "beneficiary account").map_err(failure)?;
        b.status = BeneficiaryStatus::Deleted;
        b.reported_status.clear();
        b.decided_at = Some(now);
        Ok(Reply::ok(
            json!({"userId": user_id, "beneficiaryId": id, "status": BeneficiaryStatus::Deleted}),
        ))
    })?
}

pub fn view(b: &PayoutBeneficiary) -> Value {
    let mut v = json!({
        "userId": b.user_id,
        "beneficiaryId": b.beneficiary_id,
        "outBeneficiaryId": b.out_beneficiary_id,
        "country": b.country,
        "currency": b.currency.code(),
        "beneficiaryType": b.account_type,
        "status": b.reported(),
        "message": b.message,
        "createTime": whalet_time(b.applied_at),
    });
    if let Value::Object(map) = &mut v {
        for (k, val) in &b.fields {
            map.insert(k.clone(), Value::String(val.clone()));
        }
    }
    v
}

impl Review for BeneficiaryReview {
    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String> {
        let (id, v) = (s.id, s.v);
        let b = s.find_mut(&mut t.whalet_trade.beneficiaries, "a beneficiary account")?;
        let busy = (
            b.status == BeneficiaryStatus::Processing,
            "is not under review",
        );
        let what = format!("beneficiary account {id}");
        s.expect(&what, busy, b.status_text(), Some(b.attempt))?;
        b.status = v.pick(BeneficiaryStatus::Success, BeneficiaryStatus::Failure);
        b.reported_status = review::reported(v, b.status.as_str());
        b.message = v.message("approved", "rejected");
        b.decided_at = Some(s.now);
        Ok(Notice {
            api_code: "benificiaryAccountNotify",
            payload: json!({
                "userId": b.user_id,
                "beneficiaryId": b.beneficiary_id,
                "outBeneficiaryId": b.out_beneficiary_id,
                "status": b.reported_status,
                "message": b.message,
            }),
        })
    }
}

/// `benificiaryAccountQuery`: the user's beneficiary accounts (one with `beneficiaryId` or
/// `outBeneficiaryId`), deleted ones included with status DELETED.
pub fn query(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let id = c.opt("beneficiaryId");
    let out_id = c.opt("outBeneficiaryId");
    c.finish()?;
    let records: Records<PayoutBeneficiary> = |t| &t.whalet_trade.beneficiaries;
    let keep = |b: &PayoutBeneficiary| {
        id.is_none_or(|i| b.beneficiary_id == i) && out_id.is_none_or(|o| b.out_beneficiary_id == o)
    };
    user_list(ctx, user_id, records, keep, view)
}
