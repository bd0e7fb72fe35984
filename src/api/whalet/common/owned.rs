//! A user's own records, as the queries read them: each asks about one user (`userId`, refused
//! when the partner has no such user) and sees only that user's records — one by either of its
//! ids, one by the simulator's id, a list or a page of them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fields::{Check, EitherId};
use super::{failure, user_rows, Paging};
use crate::api::whalet::{Ctx, Reply};
use crate::store::whalet::{Beneficary, Card, Collection, Holder, Shop};
use crate::store::whalet_trade::{Outflow, PayoutBeneficiary, Quote, TradeOrder};
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

/// A record that belongs to one user of the partner.
pub trait Owned {
    fn owner(&self) -> &str;
}

/// A record known by the simulator's id and by the partner's own (`holderId` / `outHolderId`).
pub trait Named: Owned {
    fn ids(&self) -> (&str, &str);
}

/// Implements [`Owned`] (by `user_id`) and, where the two id fields are given, [`Named`].
macro_rules! owned {
    ($($t:ty $(, $id:ident, $out:ident)?;)*) => {$(
        impl Owned for $t {
            fn owner(&self) -> &str {
                &self.user_id
            }
        }
        $(impl Named for $t {
            fn ids(&self) -> (&str, &str) {
                (&self.$id, &self.$out)
            }
        })?
    )*};
}

owned! {
    Holder, holder_id, out_holder_id;
    Beneficary, beneficary_id, out_beneficary_id;
    TradeOrder, order_id, out_order_no;
    PayoutBeneficiary, beneficiary_id, out_beneficiary_id;
    Card;
    Shop;
    Collection;
    Outflow;
    Quote;
}

/// Where a query finds the tenant's records of one kind (`|t| &t.whalet.holders`).
pub type Records<T> = fn(&TenantState) -> &BTreeMap<String, T>;

/// The records of `records` that belong to `user_id`.
fn mine<'t, T: Owned>(
    records: &'t BTreeMap<String, T>,
    user_id: &'t str,
) -> impl Iterator<Item = &'t T> {
    records.values().filter(move |r| r.owner() == user_id)
}

/// A query for one of a user's records by `userId` and either of its ids (`fields`, e.g.
/// `("holderId", "outHolderId")`): the record shown by `view`, else a FAILURE naming the `what`
/// and the ids that found nothing.
pub fn query_one<T: Named>(
    ctx: &Ctx<'_>,
    body: &Value,
    fields: (&'static str, &'static str),
    what: &str,
    records: Records<T>,
    view: fn(&TenantState, &T) -> Value,
) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let ids = c.either_id(fields.0, fields.1);
    c.finish()?;
    ctx.try_with_state(|t| {
        t.whalet.user(user_id)?;
        let found = mine(records(t), user_id).find(|r| {
            let (id, out) = r.ids();
            ids.matches(id, out)
        });
        found.map(|r| Reply::ok(view(t, r))).ok_or_else(|| {
            failure(format!(
                "user {user_id} has no {what} with {}",
                describe(fields, ids)
            ))
        })
    })
}

/// The ids a query gave, as its refusal names them: `holderId "H1" and outHolderId "O1"`.
fn describe((id_field, out_field): (&str, &str), ids: EitherId<'_>) -> String {
    match (ids.id, ids.out) {
        (Some(h), Some(o)) => format!("{id_field} {h:?} and {out_field} {o:?}"),
        (Some(h), None) => format!("{id_field} {h:?}"),
        (None, Some(o)) => format!("{out_field} {o:?}"),
        (None, None) => "no id".into(),
    }
}

/// A page of a user's records that pass `keep`, newest first by `key`, each shown by `view`.
pub fn user_page<T: Owned>(
    ctx: &Ctx<'_>,
    (user_id, paging): (&str, Paging),
    records: Records<T>,
    keep: impl Fn(&T) -> bool,
    key: impl Fn(&T) -> (i64, &str),
    view: impl Fn(&TenantState, &T) -> Value,
) -> Result<Reply, WhaletError> {
    ctx.try_with_state(|t| {
        t.whalet.user(user_id)?;
        let found: Vec<&T> = mine(records(t), user_id).filter(|r| keep(r)).collect();
        Ok(paging.newest_first(found, key, |r| view(t, r)))
    })
}

/// All of a user's records that pass `keep`, each shown by `view`, as a JSON array.
pub fn user_list<T: Owned>(
    ctx: &Ctx<'_>,
    user_id: &str,
    records: Records<T>,
    keep: impl Fn(&T) -> bool,
    view: impl Fn(&T) -> Value,
) -> Result<Reply, WhaletError> {
    user_rows(ctx, user_id, |t| {
        mine(records(t), user_id)
            .filter(|r| keep(r))
            .map(view)
            .collect()
    })
}

/// Record `id` of `records` when it belongs to `user_id`, else a FAILURE: `{field} {id:?} is
/// not a {what} of user {user_id}` (`field` as the partner wrote it, e.g. `orders[0].orderId`).
pub fn user_record<'t, T: Owned>(
    records: &'t BTreeMap<String, T>,
    (field, id, what): (&str, &str, &str),
    user_id: &str,
) -> Result<&'t T, WhaletError> {
    records
        .get(id)
        .filter(|r| r.owner() == user_id)
        .ok_or_else(|| failure(format!("{field} {id:?} is not a {what} of user {user_id}")))
}
