//! `whalet.account.ready`: a shortcut for demos and tests that start from a working account. It
//! creates, in one step and without notifications, an onboarded user, an approved card holder and
//! an ACTIVE B2C collection account, exactly as the normal flow would leave them. Its `outUserId`
//! and `name` obey the rules `userOnboardingApply` checks (length, and an `outUserId` names one
//! user only).

use serde_json::{json, Map, Value};

use super::catalogue;
use super::open::bank_account;
use crate::api::whalet::common::fields::Check;
use crate::api::whalet::common::review::{claimed, taken};
use crate::api::whalet::common::{mint, trigger_tenant, with_tenant};
use crate::core::Core;
use crate::money::Currency;
use crate::store::whalet::{Card, CardStatus, FundSource, Holder, Reviewed, User};
use crate::store::TenantState;
use crate::trigger::{opt_param, TriggerFuture};

/// The trigger's name, which its parameter errors start with.
const TRIGGER: &str = "whalet.account.ready";

pub fn ready(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = trigger_tenant(&core, &params)?;
        let code = opt_param(&params, "currency").unwrap_or("USD");
        let currency = Currency::parse(code).map_err(|e| e.to_string())?;
        let platform = opt_param(&params, "platform").unwrap_or("AMAZON");
        catalogue::offering::<catalogue::Platform>(platform, currency)?;
        let (out_user_id, name) = names(&params)?;
        let name = name.as_deref().unwrap_or("Demo Trading Co., Ltd.");
        let now = core.clock().now();
        with_tenant(&core, &tenant, |t| {
            if let Some(taken_by) = out_user_id
                .as_deref()
                .and_then(|out| claimed::<User>(t, None, out))
            {
                let out = out_user_id.as_deref().unwrap_or_default();
                return Err(taken("outUserId", out, taken_by));
            }
            let user_id = mint(t, "U", now);
            let holder_id = mint(t, "H", now);
            let card_id = mint(t, "VA", now);
            let out = |prefix: &str| format!("{prefix}-{user_id}");
            let out_user_id = out_user_id
                .clone()
                .unwrap_or_else(|| free_out_user_id(t, &out("ready")));
            t.whalet.users.insert(
                user_id.clone(),
                User {
                    user_id: user_id.clone(),
                    out_user_id,
                    user_type: "ENTERPRISE".into(),
                    name: name.to_owned(),
                    country_code: "CN".into(),
                    review: Reviewed::approved(now),
                    re_material: false,
                    material_type: String::new(),
                    application: Value::Null,
                },
            );
            t.whalet.holders.insert(
                holder_id.clone(),
                Holder {
                    holder_id: holder_id.clone(),
                    out_holder_id: out("holder"),
                    user_id: user_id.clone(),
                    holder_type: "ENTERPRISE".into(),
                    name: name.to_owned(),
                    country_code: "CN".into(),
                    review: Reviewed::approved(now),
                    application: Value::Null,
                },
            );
            let mut card = Card {
                card_id: card_id.clone(),
                out_card_id: out("card"),
                user_id: user_id.clone(),
                fund_source: FundSource::B2C,
                holder_id: Some(holder_id.clone()),
                platform: Some(platform.to_owned()),
                channel_code: catalogue::channel_for(currency).map(|c| c.channel_code.clone()),
                currency,
                status: CardStatus::Active,
                reported_status: "ACTIVE".into(),
                message: "account opened".into(),
                account: None,
                attempt: 1,
                applied_at: now,
                opened_at: Some(now),
                cancelled_at: None,
                cancel_refusals: 0,
            };
            let account = bank_account(t, &card);
            let account_no = account.account_no.clone();
            card.account = Some(account);
            t.whalet.cards.insert(card_id.clone(), card);
            Ok(json!({
                "userId": user_id,
                "holderId": holder_id,
                "cardId": card_id,
                "accountNo": account_no,
                "currency": currency.code(),
                "platform": platform,
            }))
        })
    })
}

/// The default `outUserId` of a new user: `base` (`ready-{userId}`), or if a partner already
/// gave that id to a user of its own, the first of `base-2`, `base-3`, … that no user has (an
/// `outUserId` names one user only). Each taken candidate is a distinct user, so this ends.
fn free_out_user_id(t: &TenantState, base: &str) -> String {
    std::iter::once(base.to_owned())
        .chain((2..).map(|n| format!("{base}-{n}")))
        .find(|candidate| claimed::<User>(t, None, candidate).is_none())
        .unwrap_or_else(|| base.to_owned())
}

/// The trigger's `outUserId` and `name`, read by the checks `userOnboardingApply` reads them with
/// (an id of at most 64 characters, a name of at most 256; a blank never gets here:
/// [`crate::trigger::check_params`] refuses it, not read as "absent"). A refused value is named
/// after the trigger, as [`crate::trigger::check_params`] names the others.
fn names(params: &Map<String, Value>) -> Result<(Option<String>, Option<String>), String> {
    let refused = |problem: &str| format!("{TRIGGER}: parameter {problem}");
    let given = Value::Object(params.clone());
    let mut c = Check::new(&given).map_err(|e| e.detail)?;
    let out_user_id = c.opt_id("outUserId").map(str::to_owned);
    let name = c.opt("name").map(str::to_owned);
    c.finish().map_err(|e| refused(&e.detail))?;
    Ok((out_user_id, name))
}
