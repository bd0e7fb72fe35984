//! `collectionQuery` (Collection Query, 收款记录): a user's collections, newest first, paged as
//! `{total, size, current, pages, records}` with `pageNum` (from 1) and `pageSize` (1–100, 10 by
//! default), filtered by card, currency, status, fund source and receive time.

use serde_json::Value;

use super::arrival::view;
use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::owned::user_page;
use crate::api::whalet::{Ctx, Reply};
use crate::store::whalet::{Collection, CollectionStatus};
use crate::wire::whalet::WhaletError;

pub fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let page = c.page_of_user();
    let card_id = c.opt("cardId");
    let currency = c.currency("currency", false);
    let status = c.status::<CollectionStatus>("status", false);
    let fund = c.one_of("fundSource", &["B2B", "B2C"], false);
    let period = c.period();
    c.finish()?;
    user_page(
        ctx,
        page,
        |t| &t.whalet.collections,
        |c: &Collection| {
            card_id.is_none_or(|id| c.card_id == id)
                && currency.is_none_or(|cur| c.amount.currency == cur)
                && status.is_none_or(|s| c.status == s)
                && fund.is_none_or(|f| c.fund_source.as_str() == f)
                && period.contains(c.received_at)
        },
        |c| (c.received_at, c.trade_id.as_str()),
        |_, c| view(c),
    )
}
