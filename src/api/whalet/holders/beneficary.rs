//! `cardHolderBeneficaryApply`, `cardHolderBeneficaryQuery` and
//! `cardHolderBeneficaryNotify` (the vendor spells it "Beneficary"): a bank account of an
//! approved card holder, reviewed in 30 s of virtual time by default. A rejected application may
//! be re-submitted under the same `outBeneficaryId`.

use serde_json::{json, Value};

use crate::api::whalet::common::failure;
use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::kinds::BeneficaryReview;
use crate::api::whalet::common::owned::query_one;
use crate::api::whalet::common::review::{
    self, reviewed_view, settle_application, Application, Apply, Notice, Review, Settle,
};
use crate::api::whalet::{Ctx, Reply};
use crate::store::whalet::{Beneficary, ReviewStatus, Reviewed};
use crate::store::TenantState;
use crate::wire::whalet::WhaletError;

pub fn apply(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let mut c = Check::new(body)?;
    let user_id = c.id("userId");
    let holder_id = c.id("holderId");
    let out_id = c.id("outBeneficaryId");
    let account_name = c.text("accountName");
    let account_no = c.id("accountNo");
    let bank_name = c.text("bankName");
    let bank_country = c.country("bankCountry", true).unwrap_or("");
    let currency = c.currency("currency", true);
    // Checked, but the account keeps none of them (nor do its query and notification show
    // them): not kept.
    for field in ["swiftCode", "bankCode", "bankAddress"] {
        c.unkept(field, Check::opt);
    }
    let content = c.content();
    let currency = c.finish_with("currency", currency)?;

    let now = ctx.now();
    review::apply::<BeneficaryReview, Beneficary>(
        ctx,
        Apply {
            api: "cardHolderBeneficaryApply",
            user: Some(user_id),
            out_field: "outBeneficaryId",
            out_id,
            body: &content,
        },
        |t| {
            t.whalet.user(user_id)?;
            let holder = t.whalet.holder_of(user_id, holder_id)?;
            if holder.review.status != ReviewStatus::Success {
                return Err(failure(format!(
                    "card holder {holder_id} is not approved (status {})",
                    holder.review.status_text()
                )));
            }
            Ok(())
        },
        |beneficary_id, attempt| Beneficary {
            beneficary_id,
            out_beneficary_id: out_id.to_owned(),
            user_id: user_id.to_owned(),
            holder_id: holder_id.to_owned(),
            account_name: account_name.to_owned(),
            account_no: account_no.to_owned(),
            bank_name: bank_name.to_owned(),
            bank_country: bank_country.to_owned(),
            currency,
            review: Reviewed::submitted(attempt, now),
        },
    )
}

pub fn query(ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
    let ids = ("beneficaryId", "outBeneficaryId");
    let what = "card holder bank account";
    query_one(
        ctx,
        body,
        ids,
        what,
        |t| &t.whalet.beneficaries,
        |_, b| view(b),
    )
}

fn view(b: &Beneficary) -> Value {
    let mut fields = b.ids();
    fields["accountName"] = json!(b.account_name);
    fields["accountNo"] = json!(b.account_no);
    fields["bankName"] = json!(b.bank_name);
    fields["bankCountry"] = json!(b.bank_country);
    fields["currency"] = json!(b.currency.code());
    reviewed_view(fields, &b.review)
}

impl Review for BeneficaryReview {
    fn settle(t: &mut TenantState, s: Settle<'_>) -> Result<Notice, String> {
        settle_application::<Beneficary>(t, s, "cardHolderBeneficaryNotify")
    }
}
