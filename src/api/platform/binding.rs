//! Shop Account Bind and its query, and the seller's side of the binding: the decision callback
//! the authorization page (and the trigger, and the link's expiry) call. A binding is
//! `PROCESSING` until the seller approves (`SUCCESS`) or rejects, or the link expires
//! (`FAILURE` with the reason); each end sends `shopAccountBindNotify {bindId, shopId, status,
//! reason}`.

use serde_json::{json, Value};

use super::fields::{self, checked, required_country, required_up_to, Collect};
use super::{optional, partner_name, required, Ctx};
use crate::api::whalet::common::fields::Check;
use crate::authorize::{self, AuthorizationRequest, BindingStanding, Decision, ShopDetails};
use crate::core::Core;
use crate::store::platform::{BindStatus, Binding, LegalEntity};
use crate::store::{idempotency, TenantId, TenantState};
use crate::wire::whalet::{Code, WhaletError};

const BIND_NOTIFY: &str = "shopAccountBindNotify";
/// Default virtual delay of a scenario-decided (automatic) seller answer.
const AUTO_DECISION_MS: i64 = 60_000;

/// The reason reported when the seller rejects without giving one.
pub const REJECTED_REASON: &str = "rejected by the seller";

struct BindRequest {
    bind_id: String,
    user_id: Option<String>,
    shop_id: String,
    shop_name: String,
    shop_url: Option<String>,
    currency: Option<String>,
    backlink: Option<String>,
    legal_entity: LegalEntity,
}

/// The fields [`parse`] reads: a bind's content, which the idempotency of its `bindId` compares
/// ([`idempotency::content_of`]).
const BIND_FIELDS: &[&str] = &[
    "bindId",
    "userId",
    "shopId",
    "shopName",
    "shopUrl",
    "currency",
    "redirectUrl",
    "legalEntity.type",
    "legalEntity.certNo",
    "legalEntity.certType",
    "legalEntity.countryCode",
    "legalEntity.name",
];

/// Reads a bind request, noting every problem with its fields: one PARAMETER_ERROR names them
/// all.
fn parse(body: &Value) -> Result<BindRequest, WhaletError> {
    let mut check = Check::new(body)?;
    let bind_id = check.take(required_up_to(body, "bindId", "bindId", 64));
    let shop_id = check.take(required_up_to(body, "shopId", "shopId", 64));
    let shop_name = check.take(required_up_to(body, "shopName", "shopName", 128));
    let currency = check
        .take(fields::optional_currency(body, "currency", "currency"))
        .map(|read| read.map(|(code, _)| code));
    let legal_entity = legal_entity(&mut check, body);
    let user_id = check.take(optional(body, "userId", "userId"));
    let shop_url = check.take(web_url(body, "shopUrl"));
    let backlink = check.take(web_url(body, "redirectUrl"));
    check.finish()?;
    Ok(BindRequest {
        bind_id: checked(bind_id)?.to_owned(),
        user_id: checked(user_id)?.map(str::to_owned),
        shop_id: checked(shop_id)?.to_owned(),
        shop_name: checked(shop_name)?.to_owned(),
        shop_url: checked(shop_url)?,
        currency: checked(currency)?.map(str::to_owned),
        backlink: checked(backlink)?,
        legal_entity: checked(legal_entity)?,
    })
}

/// The required `legalEntity` object, each of its problems noted by the field's full path
/// (`legalEntity.name`); None when there is one.
fn legal_entity(check: &mut Check<'_>, body: &Value) -> Option<LegalEntity> {
    crate::api::describe::record("legalEntity", "object", true, &[]);
    let entity = check.take(match body.get("legalEntity") {
        Some(v @ Value::Object(_)) => Ok(v),
        None | Some(Value::Null) => Err("legalEntity is required"),
        Some(_) => Err("legalEntity must be an object"),
    })?;
    let path = "legalEntity.countryCode";
    let country = check.take(required_country(entity, "countryCode", path, "CN"));
    let entity_type = check.take(optional(entity, "type", "legalEntity.type"));
    let cert_no = check.take(required(entity, "certNo", "legalEntity.certNo"));
    let cert_type = check.take(optional(entity, "certType", "legalEntity.certType"));
    let name = check.take(required(entity, "name", "legalEntity.name"));
    Some(LegalEntity {
        entity_type: entity_type?.unwrap_or("").to_owned(),
        cert_no: cert_no?.to_owned(),
        cert_type: cert_type?.unwrap_or("").to_owned(),
        country_code: country?.to_owned(),
        name: name?.to_owned(),
    })
}

/// An optional link the seller's page will show: only `http://` or `https://`.
fn web_url(body: &Value, field: &'static str) -> Result<Option<String>, String> {
    let url = optional(body, field, field)?;
    match url.and_then(|url| crate::http::web_url_refusal(field, url)) {
        Some(refusal) => Err(refusal),
        None => Ok(url.map(str::to_owned)),
    }
}

/// `shopAccountBind` → `{bindId, authorizeUrl}`.
pub fn shop_account_bind(ctx: &Ctx<'_>, body: &Value) -> Result<Value, WhaletError> {
    let r = parse(body)?;
    let now = ctx.now();
    let ttl_ms = ctx.decision.duration_value("linkTtl").unwrap_or(
        ctx.core
            .config()
            .platform
            .link_ttl_secs
            .saturating_mul(1000),
    );
    let token = authorize::new_token();
    let authorize_url = format!("{}/authorize/{token}", ctx.base_url);
    let binding = Binding {
        bind_id: r.bind_id.clone(),
        user_id: r.user_id.clone(),
        shop_id: r.shop_id.clone(),
        shop_name: r.shop_name.clone(),
        shop_url: r.shop_url.clone(),
        currency: r.currency.clone(),
        legal_entity: r.legal_entity.clone(),
        status: BindStatus::Processing,
        reason: String::new(),
        token: token.clone(),
        authorize_url: authorize_url.clone(),
        created_at: now,
        expires_at: now.saturating_add(ttl_ms),
        decided_at: None,
        notify: ctx.decision.notify.clone(),
    };
    let reply = json!({"bindId": r.bind_id, "authorizeUrl": authorize_url});
    let conflict = |_: &TenantState| {
        Some(WhaletError::idempotent(
            crate::api::whalet::common::used_before("bindId", &r.bind_id),
        ))
    };
    let key = crate::api::whalet::common::kept(ctx.core, ("platform.shopAccountBind", &r.bind_id))?;
    let content = Value::Object(idempotency::content_of(body, BIND_FIELDS));
    let (reply, fresh) = ctx.with_state(|t| t.once(key, &content, conflict, |t| {
        if let Some(existing) = t.platform.bindings.get(&r.bind_id) {
            return Err(WhaletError::idempotent(format!(
                "bindId {:?} already exists (shop {}); use a new bindId",
                r.bind_id, existing.shop_id
            )));
        }
        if let Some(other) = t.platform.binding_for_shop(&r.shop_id) {
            match other.status {
                BindStatus::Success => {
                    return Err(WhaletError::failure(format!(
                        "shop {:?} is already bound to this partner (bindId {:?})",
                        r.shop_id, other.bind_id
                    )))
                }
                BindStatus::Processing => {
                    return Err(WhaletError::failure(format!(
                        "shop {:?} has a binding waiting for the seller (bindId {:?}, link valid until {}); wait for it to end or expire",
                        r.shop_id,
                        other.bind_id,
                        super::super::whalet::whalet_time(other.expires_at)
                    )))
                }
                BindStatus::Failure => {}
            }
        }
        t.platform.bindings.insert(r.bind_id.clone(), binding.clone());
        Ok(reply)
    }))??;
    if !fresh {
        return Ok(reply);
    }
    ctx.core.open_authorization(AuthorizationRequest {
        token: token.clone(),
        surface: "platform".into(),
        provider_name: "Whalet".into(),
        tenant: ctx.tenant.clone(),
        business_id: r.bind_id.clone(),
        partner_name: partner_name(ctx.core, &ctx.partner_id),
        shop: ShopDetails {
            id: r.shop_id.clone(),
            name: r.shop_name.clone(),
            url: r.shop_url.clone(),
        },
        legal_entity: entity_lines(&r.legal_entity),
        expires_at: binding.expires_at,
        backlink_url: r.backlink.clone(),
    });
    if let Some(result) = &ctx.decision.result {
        ctx.core.schedule_timer_in(
            &AUTO_DECISION,
            ctx.decision.delay_or(AUTO_DECISION_MS),
            crate::core::timers::Pending {
                label: format!("{}/platform.binding.auto {}", ctx.tenant, r.bind_id),
                tenant: Some(ctx.tenant),
                key: &token,
                params: serde_json::json!({
                    "approved": result.outcome == crate::scenario::Outcome::Success,
                    "reason": result.reason,
                }),
            },
        );
    }
    Ok(reply)
}

fn entity_lines(e: &LegalEntity) -> Vec<(String, String)> {
    vec![
        ("Name".into(), e.name.clone()),
        ("Registration no.".into(), e.cert_no.clone()),
        ("Certificate type".into(), e.cert_type.clone()),
        ("Entity type".into(), e.entity_type.clone()),
        ("Country".into(), e.country_code.clone()),
    ]
}

/// The query / notify view of a binding.
pub fn view(b: &Binding) -> Value {
    json!({"bindId": b.bind_id, "shopId": b.shop_id, "status": b.status.as_str(), "reason": b.reason})
}

/// `shopAccountBindQuery {bindId}` → `{bindId, shopId, status, reason}`.
pub fn shop_account_bind_query(ctx: &Ctx<'_>, body: &Value) -> Result<Value, WhaletError> {
    let bind_id = required(body, "bindId", "bindId")?;
    ctx.with_state(|t| t.platform.bindings.get(bind_id).map(view))?
        .ok_or_else(|| {
            WhaletError::failure(format!(
                "no binding with bindId {bind_id:?} for this partner"
            ))
        })
}

/// Ends a binding (under the tenant lock) and notifies (when `notify`: not for a partner that
/// is no longer configured); Err when it is no longer PROCESSING.
fn finish(
    core: &Core,
    tenant: &TenantId,
    bind_id: &str,
    (status, reason): (BindStatus, String),
    notify: bool,
) -> Result<Option<String>, String> {
    let now = core.clock().now();
    let ended = core
        .with_tenant(tenant, |t| {
            if status == BindStatus::Success {
                let shop = t.platform.bindings.get(bind_id).map(|b| b.shop_id.clone());
                if let Some(other) = shop.and_then(|s| {
                    t.platform
                        .bindings
                        .values()
                        .find(|b| b.shop_id == s && b.status == BindStatus::Success)
                }) {
                    return Err(format!(
                        "the shop is already bound (bindId {})",
                        other.bind_id
                    ));
                }
            }
            let b = t
                .platform
                .bindings
                .get_mut(bind_id)
                .ok_or_else(|| format!("the binding {bind_id} no longer exists"))?;
            if b.status != BindStatus::Processing {
                return Err(format!(
                    "the binding {bind_id} is already {}",
                    b.status.as_str()
                ));
            }
            b.status = status;
            b.reason = reason;
            b.decided_at = Some(now);
            Ok((view(b), b.notify.clone()))
        })
        .ok()
        .ok_or_else(|| format!("tenant {tenant} does not exist"))??;
    let (payload, behaviour) = ended;
    if !notify {
        return Ok(None);
    }
    // A notification a scenario suppresses is recorded, never sent: the partner is not told.
    let sent = !behaviour.suppress;
    let id = crate::api::whalet::notify(
        core,
        tenant,
        BIND_NOTIFY,
        payload,
        Some(format!("bind:{bind_id}")),
        behaviour,
    );
    Ok(sent.then_some(id))
}

/// How the binding behind a seller's link stands (`Authorizations::register_surface`).
pub fn binding_standing(core: &Core, req: &AuthorizationRequest) -> BindingStanding {
    let seen = core.with_tenant(&req.tenant, |t| {
        t.platform
            .bindings
            .get(&req.business_id)
            .filter(|b| b.token == req.token)
            .map(|b| match b.status {
                BindStatus::Processing => BindingStanding::Waiting,
                status => BindingStanding::Ended {
                    approved: status == BindStatus::Success,
                    at: b.decided_at,
                    expired: b.reason == crate::authorize::EXPIRED_REASON,
                },
            })
    });
    seen.ok().flatten().unwrap_or(BindingStanding::Gone)
}

/// The decision callback registered with `web::authorize` for surface `platform`: the page, a
/// trigger and a scenario decide through it, and the link's expiry. A binding of a partner that
/// is no longer configured (a data directory or snapshot of a run that had it) is refused for
/// the page, a trigger and a scenario alike ([`configured_partner`]), as the triggers refuse its
/// `partnerId`: a decision would notify a partner with no notification URL. Its link's expiry
/// still rejects it, with no notification (the partner has no notification URL), so that the
/// binding never stays PROCESSING behind an expired link. (The Infinia page's `configured_app` is the same rule for an app.)
pub fn decide_binding(
    core: &Core,
    req: &AuthorizationRequest,
    d: &Decision,
    via: &str,
) -> Result<Option<String>, String> {
    let configured = configured_partner(core, &req.tenant);
    if via != crate::authorize::VIA_EXPIRY {
        configured.clone()?;
    }
    let (status, reason) = if d.approved {
        (BindStatus::Success, String::new())
    } else {
        (
            BindStatus::Failure,
            d.reason
                .clone()
                .unwrap_or_else(|| REJECTED_REASON.to_owned()),
        )
    };
    let (bind_id, ended) = (&req.business_id, (status, reason));
    let notification = finish(core, &req.tenant, bind_id, ended, configured.is_ok())?;
    // A trigger's change is counted when it fires; the page's, a scenario's and an expiry's here.
    let changes = ("platform.binding.approved", "platform.binding.rejected");
    let by_trigger = via == "trigger";
    crate::api::coverage::decided(core, &req.tenant, by_trigger, d.approved, changes);
    Ok(notification)
}

/// That `tenant` is a configured Whalet partner; refused as the triggers refuse a `partnerId`
/// that names none ([`crate::trigger::acting_tenant`]), naming the configured partners.
fn configured_partner(core: &Core, tenant: &TenantId) -> Result<(), String> {
    crate::trigger::binding_owner_configured(
        crate::tenant::Provider::Whalet,
        tenant,
        &core.partners().ids(),
        "[[whalet.partners]]",
    )
}

/// Decides a binding by its bindId (the API twin of the page).
pub fn decide_by_bind_id(
    core: &Core,
    tenant: &TenantId,
    bind_id: &str,
    decision: Decision,
) -> Result<Value, String> {
    let token = core
        .with_tenant(tenant, |t| {
            t.platform.bindings.get(bind_id).map(|b| b.token.clone())
        })
        .ok()
        .flatten()
        .ok_or_else(|| format!("no binding with bindId {bind_id:?} for {tenant}"))?;
    core.authorizations()
        .decide(core, core.clock().now(), &token, decision, "trigger")
        .map_err(|e| e.to_string())?;
    core.with_tenant(tenant, |t| t.platform.bindings.get(bind_id).map(view))
        .ok()
        .flatten()
        .ok_or_else(|| WhaletError::new(Code::InternalError, "binding vanished").detail)
}

crate::core::timers::timer_kind! {
    /// A scenario's seller decision on a binding (key: the link's token).
    pub AUTO_DECISION = "platform.binding.decide",
    |core, key, approved: bool = "approved", reason: Option<String> = "reason"| {
        let now = core.clock().now();
        let decision = Decision { approved, reason };
        if let Err(e) = core
            .authorizations()
            .decide(&core, now, &key, decision, "scenario")
        {
            tracing::info!(error = %e, "scenario seller decision not applied");
        }
    }
}
