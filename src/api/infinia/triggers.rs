//! Triggers of the Infinia surface (`POST /__sim/trigger/{name}`, `whalet-sim trigger`, scenario
//! timelines): the seller decides on a binding, a seller is frozen or resumed, the platform
//! account is funded. `appId` defaults to the demo app, else the only app.

use serde_json::{json, Map, Value};

use super::{apps::DEMO_APP_ID, ensure_opened, sellers};
use crate::core::Core;
use crate::core::Trigger;
use crate::money::{Currency, Money};
use crate::store::infinia::{BindingStatus, SellerStatus, FUNDING_ACCOUNT, PLATFORM_ACCOUNT};
use crate::tenant::{Provider, TenantId};
use crate::trigger::{opt_param, param, TriggerFuture};

pub fn triggers() -> Vec<Trigger> {
    vec![
        Trigger {
            name: "infinia.binding.approved",
            description: "The seller approves a pending account binding on the authorization page",
            params: &[("appId?", crate::trigger::DEFAULT_APP), ("requestNo|sellerId|token", "the binding: its requestNo, the seller (its latest pending binding) or the authorization token")],
            run: |core, p| Box::pin(async move { decide(&core, &p, true) }) as TriggerFuture,
        },
        Trigger {
            name: "infinia.binding.rejected",
            description: "The seller declines a pending account binding",
            params: &[("appId?", crate::trigger::DEFAULT_APP), ("requestNo|sellerId|token", "the binding: its requestNo, the seller (its latest pending binding) or the authorization token"), ("reason?", "why: at most 200 characters, trimmed as on the page")],
            run: |core, p| Box::pin(async move { decide(&core, &p, false) }) as TriggerFuture,
        },
        Trigger {
            name: "infinia.seller.frozen",
            description: "Infinia Pay freezes a bound seller; the platform gets a FROZEN seller status notification",
            params: &[("appId?", crate::trigger::DEFAULT_APP), ("sellerId", "the seller")],
            run: |core, p| Box::pin(async move { status(&core, &p, SellerStatus::Frozen) }) as TriggerFuture,
        },
        Trigger {
            name: "infinia.seller.resumed",
            description: "Infinia Pay resumes a frozen seller; the platform gets an ACTIVE seller status notification",
            params: &[("appId?", crate::trigger::DEFAULT_APP), ("sellerId", "the seller")],
            run: |core, p| Box::pin(async move { status(&core, &p, SellerStatus::Active) }) as TriggerFuture,
        },
        Trigger {
            name: "infinia.platform.funded",
            description: "Money arrives in the platform's Infinia Pay account",
            params: &[("appId?", crate::trigger::DEFAULT_APP), ("currency", "ISO 4217"), ("amount", "decimal, e.g. 500.00")],
            run: |core, p| Box::pin(async move { fund(&core, &p) }) as TriggerFuture,
        },
    ]
}

/// The app a trigger acts on, by the rule every surface's triggers share
/// ([`crate::trigger::acting_tenant`]): the one `appId` names, else the demo app when
/// configured, else the only app.
fn tenant(core: &Core, p: &Map<String, Value>) -> Result<TenantId, String> {
    crate::trigger::acting_tenant(
        Provider::Infinia,
        p,
        core.config().infinia.demo_app.then_some(DEMO_APP_ID),
        &core.infinia().apps.ids(),
    )
}

/// The link of the binding a decision trigger names: by `token`, by `requestNo`, or by
/// `sellerId` (the seller's latest pending binding, `InfiniaState::latest_binding`). Several
/// given must name the same binding (as the Pockyt payout triggers' ids must name the same
/// payout), never one silently winning.
fn binding_token(core: &Core, tenant: &TenantId, p: &Map<String, Value>) -> Result<String, String> {
    let by_request = |no: &str| {
        core.with_tenant(tenant, |t| {
            t.infinia.bindings.get(no).map(|b| b.token.clone())
        })
        .ok()
        .flatten()
        .ok_or_else(|| format!("no binding request {no:?} in {tenant}"))
    };
    let by_seller = |seller: &str| {
        core.with_tenant(tenant, |t| {
            t.infinia
                .latest_binding(seller, Some(BindingStatus::Pending))
                .map(|b| b.token.clone())
        })
        .ok()
        .flatten()
        .ok_or_else(|| format!("seller {seller:?} has no pending binding in {tenant}"))
    };
    let mut named: Vec<(&str, String)> = Vec::new();
    if let Some(token) = opt_param(p, "token") {
        named.push(("token", token.to_owned()));
    }
    if let Some(no) = opt_param(p, "requestNo") {
        named.push(("requestNo", by_request(no)?));
    }
    if let Some(seller) = opt_param(p, "sellerId") {
        named.push(("sellerId", by_seller(seller)?));
    }
    match named.as_slice() {
        [] => Err("give requestNo, sellerId or token".into()),
        [(_, first), rest @ ..] if rest.iter().all(|(_, t)| t == first) => Ok(first.clone()),
        _ => Err(format!(
            "{} name different bindings; give one of them",
            named
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
                .join(" and ")
        )),
    }
}

fn decide(core: &Core, p: &Map<String, Value>, approved: bool) -> Result<Value, String> {
    let tenant = tenant(core, p)?;
    let token = binding_token(core, &tenant, p)?;
    let reason = crate::trigger::reason_param(p)?;
    // Through the authorization registry, as the page and a scenario decide: the link then shows
    // the decision (the page says "already used").
    let now = core.clock().now();
    let link = core
        .authorizations()
        .get(&token, now)
        .map(|(link, _)| link)
        .ok_or_else(|| {
            format!(
                "no authorization link {} in {tenant}",
                crate::text::echo(&token)
            )
        })?;
    // A token names a link of any surface and tenant: this trigger decides its app's only.
    if link.surface != "infinia" || link.tenant != tenant {
        return Err(format!(
            "token {} is not a binding link of {tenant} (it is {}'s, surface {})",
            crate::text::echo(&token),
            link.tenant,
            link.surface
        ));
    }
    let decision = crate::authorize::Decision { approved, reason };
    core.authorizations()
        .decide(core, now, &token, decision, "trigger")
        .map_err(|e| e.to_string())?;
    Ok(json!({"token": token, "approved": approved}))
}

fn status(core: &Core, p: &Map<String, Value>, to: SellerStatus) -> Result<Value, String> {
    let tenant = tenant(core, p)?;
    sellers::set_status(core, &tenant, param(p, "sellerId")?, to)
}

fn fund(core: &Core, p: &Map<String, Value>) -> Result<Value, String> {
    let tenant = tenant(core, p)?;
    let infinia_app = core.infinia().apps.get(&tenant.id).ok_or("no app")?;
    let currency = Currency::parse(param(p, "currency")?).map_err(|e| e.to_string())?;
    let amount = Money::parse(param(p, "amount")?, currency).map_err(|e| e.to_string())?;
    if !amount.is_positive() {
        return Err("amount must be greater than zero".into());
    }
    let now = core.clock().now();
    core.with_tenant_text(&tenant, |t| {
        ensure_opened(t, &infinia_app, now);
        t.ledger.transfer(
            now,
            "platform account funded",
            FUNDING_ACCOUNT,
            PLATFORM_ACCOUNT,
            amount,
        )?;
        Ok(json!({
            "appId": tenant.id,
            "currency": currency.code(),
            "availableBalance": t.ledger.balance(PLATFORM_ACCOUNT, currency).to_decimal_string(),
        }))
    })?
}
