//! `account-binding/request` (spec §2.3): the platform sends a seller's details and gets a
//! redirect URL to the seller's authorization page (`{base}/authorize/{token}`). The binding stays
//! PENDING until the seller decides on that page ([`decide`]), a trigger
//! (`infinia.binding.approved` / `.rejected`) fires, or a scenario rule decides after its delay;
//! if none has when the link expires, the authorization page's expiry rejects it with
//! [`crate::authorize::EXPIRED_REASON`].
//! Idempotent on `requestNo`: the same fields give the same link; other fields are SYS-002.

use rand::RngCore;
use serde_json::{json, Value};

use super::fields::{currency, optional, required};
use super::{sellers, Ctx, Operation};
use crate::core::Core;
use crate::store::infinia::{repeated, Binding, BindingStatus, Seller, SellerStatus};
use crate::tenant::{Provider, TenantId};
use crate::wire::infinia::InfiniaError;

pub const OPERATION: Operation = Operation {
    name: "account-binding/request",
    handler,
};

/// Entity types the simulator accepts (`Corporate` is documented; `Individual` is inferred).
pub const ENTITY_TYPES: &[&str] = &["Corporate", "Individual"];

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Value, InfiniaError> {
    let request_no = required(body, "requestNo", 64)?;
    let seller_id = required(body, "sellerId", 64)?;
    required(body, "sellerCertNo", 64)?;
    required(body, "sellerName", 256)?;
    optional(body, "storeName", 256)?;
    for url_field in ["storeUrl", "backlinkUrl"] {
        if let Some(url) = optional(body, url_field, 512)? {
            if !crate::http::is_web_url(url) {
                return Err(InfiniaError::format(format!(
                    "{url_field} must be an http:// or https:// URL, got {url:?}"
                )));
            }
        }
    }
    crate::api::describe::record("entityType", "enum", true, ENTITY_TYPES);
    let entity = required(body, "entityType", 32)?;
    if !ENTITY_TYPES.iter().any(|e| e.eq_ignore_ascii_case(entity)) {
        return Err(InfiniaError::range(format!(
            "entityType {entity:?} is not one of {}",
            ENTITY_TYPES.join(", ")
        )));
    }
    let country = required(body, "country", 3)?;
    if !(2..=3).contains(&country.len()) || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(InfiniaError::format(format!(
            "country {country:?} must be an ISO 3166-1 code such as CHN"
        )));
    }
    currency(body, "currency")?;
    optional(body, "note", 256)?;
    let now = ctx.now();
    let token = new_token();
    let redirect_url = format!("{}/authorize/{token}", ctx.base_url);
    let created = ctx.with_state(|t| {
        let s = &mut t.infinia;
        let sent: fn(&Binding) -> &Value = |b| &b.request;
        if let Some(earlier) = repeated(&s.bindings, request_no, body, sent, "a binding request")? {
            return Ok((earlier.clone(), false));
        }
        if let Some(bound) = s
            .bindings
            .values()
            .find(|b| b.seller_id == seller_id && b.status == BindingStatus::Bound)
        {
            return Err(InfiniaError::invalid(format!(
                "seller {seller_id:?} is already bound (requestNo {:?})",
                bound.request_no
            )));
        }
        let binding = Binding {
            request_no: request_no.to_owned(),
            seller_id: seller_id.to_owned(),
            request: body.clone(),
            token: token.clone(),
            redirect_url: redirect_url.clone(),
            status: BindingStatus::Pending,
            reason: None,
            created_at: now,
            decided_at: None,
            notify: ctx.decision.notify.clone(),
        };
        s.bindings.insert(request_no.to_owned(), binding.clone());
        Ok((binding, true))
    })??;
    let (binding, fresh) = created;
    if fresh {
        register_link(ctx, body, &binding);
        if let Some(result) = &ctx.decision.result {
            ctx.core.schedule_timer_in(
                &SCENARIO_DECISION,
                ctx.decision.delay_or(0),
                crate::core::timers::Pending {
                    label: format!("{}/binding:{}", ctx.tenant, binding.request_no),
                    tenant: Some(ctx.tenant),
                    key: &binding.token,
                    params: serde_json::json!({
                        "approved": result.outcome == crate::scenario::Outcome::Success,
                        "reason": result.reason,
                    }),
                },
            );
        }
    }
    Ok(view(&binding))
}

/// Puts the binding on the shared authorization page (`/authorize/{token}`), valid for the
/// platform's link lifetime (`[platform] link_ttl_secs`, 30 minutes by default; a scenario rule's
/// `values.linkTtl`, e.g. `"10m"`, replaces it).
fn register_link(ctx: &Ctx<'_>, body: &Value, binding: &Binding) {
    use crate::authorize::{AuthorizationRequest, ShopDetails};
    let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let ttl_ms = ctx
        .core
        .config()
        .platform
        .link_ttl_secs
        .saturating_mul(1000);
    let store_name = Some(text("storeName"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| text("sellerName"));
    let ttl_ms = ctx
        .decision
        .values
        .get("linkTtl")
        .and_then(Value::as_str)
        .and_then(|t| crate::scenario::format::parse_duration(t).ok())
        .unwrap_or(ttl_ms);
    ctx.core.open_authorization(AuthorizationRequest {
        token: binding.token.clone(),
        surface: "infinia".into(),
        provider_name: "Infinia Pay".into(),
        tenant: ctx.tenant.clone(),
        business_id: binding.request_no.clone(),
        partner_name: format!("Platform {}", ctx.tenant.id),
        shop: ShopDetails {
            id: binding.seller_id.clone(),
            name: store_name,
            url: Some(text("storeUrl")).filter(|s| !s.is_empty()),
        },
        legal_entity: vec![
            ("Name".into(), text("sellerName")),
            ("Registration number".into(), text("sellerCertNo")),
            ("Entity type".into(), text("entityType")),
            ("Country".into(), text("country")),
        ],
        expires_at: binding.created_at.saturating_add(ttl_ms),
        backlink_url: Some(text("backlinkUrl")).filter(|s| !s.is_empty()),
    });
}

/// The page's decision callback (`Authorizations::register_surface("infinia", ...)`).
pub fn decide_from_page(
    core: &Core,
    request: &crate::authorize::AuthorizationRequest,
    d: &crate::authorize::Decision,
    via: &str,
) -> Result<(), String> {
    decide(
        core,
        &request.tenant,
        &request.token,
        d.approved,
        d.reason.as_deref(),
    )?;
    // A trigger's change is counted when it fires; the page's, a scenario's and an expiry's here.
    let changes = ("infinia.binding.approved", "infinia.binding.rejected");
    let by_trigger = via == "trigger";
    crate::api::coverage::decided(core, &request.tenant, by_trigger, d.approved, changes);
    Ok(())
}

/// The reply of the request and the query.
pub fn view(b: &Binding) -> Value {
    json!({
        "requestNo": b.request_no,
        "sellerId": b.seller_id,
        "redirectUrl": b.redirect_url,
        "bindingStatus": b.status,
        "reason": b.reason,
        "bindTime": b.decided_at.filter(|_| b.status == BindingStatus::Bound).map(crate::clock::format::china),
    })
}

fn new_token() -> String {
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("inf_{}", hex::encode(bytes))
}

/// Finds a binding by its authorization token (for the authorization page).
pub fn find(core: &Core, token: &str) -> Option<(TenantId, Binding)> {
    core.infinia().tenants().into_iter().find_map(|tenant| {
        let found = core
            .with_tenant(&tenant, |t| {
                t.infinia
                    .bindings
                    .values()
                    .find(|b| b.token == token)
                    .cloned()
            })
            .ok()??;
        Some((tenant, found))
    })
}

/// The seller's decision on the authorization page (also used by triggers and scenarios).
/// Approval binds the seller (ACTIVE) and, unless disabled, notifies the platform.
pub fn decide(
    core: &Core,
    tenant: &TenantId,
    token: &str,
    approved: bool,
    reason: Option<&str>,
) -> Result<Value, String> {
    if tenant.provider != Provider::Infinia {
        return Err(format!("{tenant} is not an Infinia app"));
    }
    let now = core.clock().now();
    let decided = core.with_tenant_text(tenant, |t| {
        let s = &mut t.infinia;
        let binding = s
            .bindings
            .values_mut()
            .find(|b| b.token == token)
            .ok_or_else(|| format!("no binding with token {token:?} in {tenant}"))?;
        if binding.status != BindingStatus::Pending {
            return Err(format!(
                "binding {} is already {:?}",
                binding.request_no, binding.status
            ));
        }
        binding.status = if approved {
            BindingStatus::Bound
        } else {
            BindingStatus::Rejected
        };
        binding.decided_at = Some(now);
        binding.reason = reason
            .map(str::to_owned)
            .or_else(|| (!approved).then(|| "the seller declined the authorization".to_owned()));
        let binding = binding.clone();
        if approved {
            s.sellers
                .entry(binding.seller_id.clone())
                .and_modify(|seller| seller.binding_request_no = binding.request_no.clone())
                .or_insert_with(|| Seller {
                    seller_id: binding.seller_id.clone(),
                    status: SellerStatus::Active,
                    binding_request_no: binding.request_no.clone(),
                    updated_at: now,
                });
        }
        Ok(binding)
    })??;
    if approved && core.infinia().apps.config.notify_on_binding {
        sellers::notify_status(
            core,
            tenant,
            &decided.seller_id,
            SellerStatus::Active,
            decided.notify.clone(),
        );
    }
    Ok(view(&decided))
}

crate::core::timers::timer_kind! {
    /// A scenario's decision on a binding (key: the link's token).
    pub SCENARIO_DECISION = "infinia.binding.decide",
    |core, tenant, key, approved: bool = "approved", reason: Option<String> = "reason"| {
        if let Err(e) = decide(&core, &tenant, &key, approved, reason.as_deref()) {
            tracing::warn!(error = %e, "scenario binding decision not applied");
        }
    }
}
