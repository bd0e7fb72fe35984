//! `cardHolderApply`, `cardHolderQuery` and `cardHolderResultNotify`. A user that passed
//! onboarding applies for a card holder (the person or company named on its collection
//! accounts); the review takes 30 s of virtual time by default and is approved unless a scenario
//! or trigger says otherwise. A rejected application may be re-submitted under the same
//! `outHolderId`.

use serde_json::{json, Value};

use crate::api::whalet::common::fields::{Check, CERT_TYPES, ENTITY_TYPES};
use crate::api::whalet::common::kinds::HolderReview;
use crate::api::whalet::common::owned::query_one;
use crate::api::whalet::common::review::{
    self, reviewed_view, settle_application, Application, Apply, Notice, Review, Settle,
};
use crate::api::whalet::{Ctx, Reply};
use crate::store::whalet::{Holder, Reviewed};
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

pub fn apply(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let out_holder_id = c.id("outHolderId");
    let holder_type = c.one_of("holderType", ENTITY_TYPES, true).unwrap_or("");
    let name = c.text("name");
    let country = c.country("countryCode", true).unwrap_or("");
    c.one_of("certType", CERT_TYPES, true);
    c.id("certNo");
    c.contact();
    let content = c.content();
    c.finish()?;

    let now = ctx.now();
    review::apply::<HolderReview, Holder>(
        ctx,
        Apply {
            api: "cardHolderApply",
            user: Some(user_id),
            out_field: "outHolderId",
            out_id: out_holder_id,
            body: &content,
        },
        review::onboarded(user_id),
        |holder_id, attempt| Holder {
            holder_id,
            out_holder_id: out_holder_id.to_owned(),
            user_id: user_id.to_owned(),
            holder_type: holder_type.to_owned(),
            name: name.to_owned(),
            country_code: country.to_owned(),
            review: Reviewed::submitted(attempt, now),
            application: body.clone(),
        },
    )
}

pub fn query(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let ids = ("holderId", "outHolderId");
    query_one(
        ctx,
        body,
        ids,
        "card holder",
        |t| &t.whalet.holders,
        |_, h| view(h),
    )
}

/// The holder as the partner sees it.
pub fn view(h: &Holder) -> Value {
    let mut fields = h.ids();
    fields["holderType"] = json!(h.holder_type);
    fields["name"] = json!(h.name);
    fields["countryCode"] = json!(h.country_code);
    reviewed_view(fields, &h.review)
}

impl Review for HolderReview {
    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String> {
        settle_application::<Holder>(t, s, "cardHolderResultNotify")
    }
}
