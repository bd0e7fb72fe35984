//! Trade queries of money leaving the wallet, paged like `collectionQuery`: `withdrawQuery`
//! (提现记录: payouts), `payQuery` (支付记录: supplier payments) and `paymentQuery` (付款记录:
//! both), newest first, filtered by status, currency, fund source and create time, and by id:
//! `payoutId` names a payout, `payId` a pay order (`paymentQuery` reads both: see [`Ids`]).

use serde_json::Value;

use super::outflow::view;
use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::owned::user_page;
use crate::api::whalet::{Ctx, Reply};
use crate::store::whalet_trade::{Outflow, OutflowKind, OutflowStatus};
use crate::wire::whalet::WhaletError;

pub fn withdraw_query(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    query(ctx, body, Some(OutflowKind::Payout))
}
pub fn pay_query(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    query(ctx, body, Some(OutflowKind::Pay))
}
pub fn payment_query(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    query(ctx, body, None)
}

fn query(ctx: &Ctx<'_>, body: &Value, kind: Option<OutflowKind>) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let page = c.page_of_user();
    let status = c.status::<OutflowStatus>("status", false);
    let currency = c.currency("currency", false);
    let fund = c.one_of("fundSource", &["B2B", "B2C", "Acquiring"], false);
    let ids = Ids {
        payout: (kind != Some(OutflowKind::Pay))
            .then(|| c.opt("payoutId"))
            .flatten(),
        pay: (kind != Some(OutflowKind::Payout))
            .then(|| c.opt("payId"))
            .flatten(),
    };
    let period = c.period();
    c.finish()?;
    user_page(
        ctx,
        page,
        |t| &t.whalet_trade.outflows,
        |o: &Outflow| {
            kind.is_none_or(|k| o.kind == k)
                && ids.matches(o)
                && status.is_none_or(|s| o.status == s)
                && currency.is_none_or(|cur| o.amount.currency == cur)
                && fund.is_none_or(|f| o.fund_source.as_str() == f)
                && period.contains(o.created_at)
        },
        |o| (o.created_at, o.id.as_str()),
        |_, o| view(o),
    )
}

/// The id filters a query reads: `payoutId` (a payout's id) and `payId` (a pay order's id), each
/// only where the query answers that kind (`withdrawQuery` reads `payoutId`, `payQuery` `payId`,
/// `paymentQuery` both). A filter names records of its own kind only: `payoutId` never finds a
/// pay order by its `payId`, and `payId` alone answers that pay order, not every payout beside it.
/// Both together answer the two records they name.
struct Ids<'a> {
    payout: Option<&'a str>,
    pay: Option<&'a str>,
}

impl Ids<'_> {
    /// Whether `o` is one of the records asked for (every one when no id is given).
    fn matches(&self, o: &Outflow) -> bool {
        let named = match o.kind {
            OutflowKind::Payout => self.payout,
            OutflowKind::Pay => self.pay,
        };
        match (self.payout, self.pay) {
            (None, None) => true,
            _ => named.is_some_and(|id| o.id == id),
        }
    }
}
