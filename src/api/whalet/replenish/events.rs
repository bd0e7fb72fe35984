//! Triggers of requests for material: Whalet asks (EDD about a user, trade material about a
//! collection). Whalet's decision on submitted material is the review lifecycle's
//! ([`ReplenishReview`](crate::api::whalet::common::kinds::ReplenishReview)).

use serde_json::{Map, Value};

use super::core::{ask, open_about, split_types, Ask, EDD_TYPES};
use crate::api::whalet::common::{id_param, send, trigger_tenant, with_tenant};
use crate::behaviour::NotifyBehaviour;
use crate::core::Core;
use crate::money::{Currency, Money};
use crate::store::whalet::{CollectionStatus, FundSource};
use crate::store::whalet_trade::ReplenishKind;
use crate::store::{TenantId, TenantState};
use crate::trigger::{opt_param, TriggerFuture};

pub fn edd_requested(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = trigger_tenant(&core, &params)?;
        let user_id = id_param(&params, "userId")?.to_owned();
        let freeze = match opt_param(&params, "amount") {
            None => None,
            Some(text) => {
                let currency = Currency::parse(opt_param(&params, "currency").unwrap_or("USD"))
                    .map_err(|e| e.to_string())?;
                let fund_text = opt_param(&params, "fundSource").unwrap_or("B2C");
                let fund = FundSource::parse(fund_text).ok_or_else(|| {
                    format!("fundSource {fund_text:?} is not B2B, B2C or Acquiring")
                })?;
                let amount = Money::parse(text, currency).map_err(|e| e.to_string())?;
                if !amount.is_positive() {
                    return Err("amount must be greater than zero".into());
                }
                Some((fund, amount))
            }
        };
        let defaults = (
            EDD_TYPES,
            "enhanced due diligence: please submit the listed material",
        );
        ask_now(
            &core,
            &tenant,
            &params,
            (ReplenishKind::Edd, None),
            defaults,
            |t| {
                t.whalet.onboarded_user(&user_id)?;
                Ok((user_id.clone(), freeze))
            },
        )
    })
}

pub fn trade_requested(core: Core, params: Map<String, Value>) -> TriggerFuture {
    Box::pin(async move {
        let tenant = trigger_tenant(&core, &params)?;
        let trade_id = id_param(&params, "tradeId")?.to_owned();
        let defaults = (
            "INVOICE,CONTRACT",
            "please submit the trade documents of this collection",
        );
        let kind = (ReplenishKind::Trade, Some(trade_id.as_str()));
        ask_now(&core, &tenant, &params, kind, defaults, |t| {
            let c = t.whalet.collections.get(&trade_id).ok_or_else(|| {
                format!(
                    "tradeId {trade_id:?} is not a collection of partner {}",
                    tenant.id
                )
            })?;
            if c.status == CollectionStatus::Failure {
                return Err(format!(
                    "collection {trade_id} was returned ({}); its money is no longer here",
                    c.reason
                ));
            }
            if open_about(t, ReplenishKind::Trade, &trade_id)
                .next()
                .is_some()
            {
                return Err(format!(
                    "collection {trade_id} already has a request for material open"
                ));
            }
            let freeze =
                (c.status == CollectionStatus::Success).then_some((c.fund_source, c.amount));
            Ok((c.user_id.clone(), freeze))
        })
    })
}

/// Asks for material now (a trigger): `who` checks the state and names the user and what to
/// freeze; `materialTypes` and `message` come from the parameters, else from `defaults`. A
/// `materialTypes` that lists no type (`","`, `" "`) is refused as an empty one is, before
/// anything changes. Sends the request's notification and answers its payload.
fn ask_now(
    core: &Core,
    tenant: &TenantId,
    params: &Map<String, Value>,
    (kind, trade_id): (ReplenishKind, Option<&str>),
    (types, message): (&str, &str),
    who: impl FnOnce(&TenantState) -> Result<(String, Option<(FundSource, Money)>), String>,
) -> Result<Value, String> {
    let material_types = match opt_param(params, "materialTypes") {
        None => split_types(types).unwrap_or_default(),
        Some(given) => split_types(given).ok_or_else(|| {
            "parameter materialTypes is empty; give a value, or leave it out for the default"
                .to_owned()
        })?,
    };
    let now = core.clock().now();
    let (id, api_code, payload) = with_tenant(core, tenant, |t| {
        let (user_id, freeze) = who(t)?;
        let ask_for = Ask {
            kind,
            user_id: &user_id,
            trade_id,
            outflow_id: None,
            material_types,
            message: opt_param(params, "message").unwrap_or(message).to_owned(),
            freeze,
        };
        ask(t, ask_for, now)
    })?;
    send(
        core,
        tenant,
        api_code,
        &payload,
        &id,
        NotifyBehaviour::default(),
    );
    Ok(payload)
}
