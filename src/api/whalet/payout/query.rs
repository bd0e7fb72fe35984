//! Trade queries of money leaving the wallet, paged like `collectionQuery`: `withdrawQuery`
//! (提现记录: payouts), `payQuery` (支付记录: supplier payments) and `paymentQuery` (付款记录:
//! both), newest first, filtered by status, currency, fund source and create time.

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
    let id = c.opt(match kind {
        Some(OutflowKind::Pay) => "payId",
        _ => "payoutId",
    });
    let period = c.period();
    c.finish()?;
    user_page(
        ctx,
        page,
        |t| &t.whalet_trade.outflows,
        |o: &Outflow| {
            kind.is_none_or(|k| o.kind == k)
                && id.is_none_or(|i| o.id == i)
                && status.is_none_or(|s| o.status == s)
                && currency.is_none_or(|cur| o.amount.currency == cur)
                && fund.is_none_or(|f| o.fund_source.as_str() == f)
                && period.contains(o.created_at)
        },
        |o| (o.created_at, o.id.as_str()),
        |_, o| view(o),
    )
}
