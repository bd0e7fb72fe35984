//! `account-binding/request` (spec §2.3): the platform sends a seller's details and gets a
//! redirect URL to the seller's authorization page (`{base}/authorize/{token}`). The binding stays
//! PENDING until the seller decides on that page ([`decide`]), a trigger
//! (`infinia.binding.approved` / `.rejected`) fires, or a scenario rule decides after its delay;
//! if none has when the link expires, the authorization page's expiry rejects it with
//! [`crate::authorize::EXPIRED_REASON`].
//! Idempotent on `requestNo`: the same fields give the same link; other fields are SYS-002.

use serde_json::{json, Value};

use super::fields::{content, currency, optional, required, text};
use super::{sellers, Ctx, Operation};
use crate::core::Core;
use crate::country::{self, Fault, Form};
use crate::money::Currency;
use crate::store::infinia::{repeated, Binding, BindingStatus, InfiniaState, Seller, SellerStatus};
use crate::tenant::{Provider, TenantId};
use crate::text::echo;
use crate::wire::infinia::InfiniaError;

pub const OPERATION: Operation = Operation {
    name: "account-binding/request",
    handler,
};

/// Entity types the simulator accepts (`Corporate` is documented; `Individual` is inferred).
pub const ENTITY_TYPES: &[&str] = &["Corporate", "Individual"];

/// A binding request's fields, as read ([`read`]).
struct Request<'a> {
    request_no: &'a str,
    seller_id: &'a str,
    seller_cert_no: &'a str,
    seller_name: &'a str,
    store_name: Option<&'a str>,
    store_url: Option<&'a str>,
    backlink_url: Option<&'a str>,
    entity_type: &'a str,
    country: &'a str,
    currency: Currency,
    note: Option<&'a str>,
}

impl Request<'_> {
    /// What the binding keeps of the request and its requestNo's idempotency compares
    /// ([`content`]): every documented field given, `note` included.
    fn content(&self) -> Value {
        let text = |value: Option<&str>| value.map(Value::from);
        content([
            ("requestNo", text(Some(self.request_no))),
            ("sellerId", text(Some(self.seller_id))),
            ("sellerCertNo", text(Some(self.seller_cert_no))),
            ("sellerName", text(Some(self.seller_name))),
            ("storeName", text(self.store_name)),
            ("storeUrl", text(self.store_url)),
            ("backlinkUrl", text(self.backlink_url)),
            ("entityType", text(Some(self.entity_type))),
            ("country", text(Some(self.country))),
            ("currency", text(Some(self.currency.code()))),
            ("note", text(self.note)),
        ])
    }
}

/// Reads and checks the request's fields, in the order their refusals are given.
fn read(body: &Value) -> Result<Request<'_>, InfiniaError> {
    let request_no = required(body, "requestNo", 64)?;
    let seller_id = required(body, "sellerId", 64)?;
    let seller_cert_no = required(body, "sellerCertNo", 64)?;
    let seller_name = required(body, "sellerName", 256)?;
    let store_name = optional(body, "storeName", 256)?;
    let store_url = web_url(body, "storeUrl")?;
    let backlink_url = web_url(body, "backlinkUrl")?;
    crate::api::describe::record("entityType", "enum", true, ENTITY_TYPES);
    let entity_type = required(body, "entityType", 32)?;
    self::entity_type(entity_type)?;
    let country = required(body, "country", 3)?;
    match country::check(country, Form::Alpha2Or3) {
        Ok(()) => {}
        Err(Fault::Shape) => {
            return Err(InfiniaError::format(format!(
                "country {country:?} must be an ISO 3166-1 code such as CHN"
            )))
        }
        // Well formed but not one of the assigned codes: an allowed-values refusal (SYS-006).
        Err(Fault::Unassigned) => {
            return Err(InfiniaError::range(country::not_assigned(
                "country", country, "CHN",
            )))
        }
    }
    Ok(Request {
        request_no,
        seller_id,
        seller_cert_no,
        seller_name,
        store_name,
        store_url,
        backlink_url,
        entity_type,
        country,
        currency: currency(body, "currency")?,
        note: optional(body, "note", 256)?,
    })
}

/// An optional web address (`http://` or `https://`).
fn web_url<'a>(body: &'a Value, field: &str) -> Result<Option<&'a str>, InfiniaError> {
    let url = optional(body, field, 512)?;
    match url.and_then(|url| crate::http::web_url_refusal(field, url)) {
        Some(refusal) => Err(InfiniaError::format(refusal)),
        None => Ok(url),
    }
}

/// The content of an earlier request's record ([`Request::content`]): reading a content again
/// gives it unchanged, and a record of an older simulator, which kept the body as sent, is read
/// as the request was.
fn recorded(b: &Binding) -> Value {
    read(&b.request).map_or_else(|_| b.request.clone(), |r| r.content())
}

fn handler(ctx: &Ctx<'_>, body: &Value) -> Result<Value, InfiniaError> {
    let request = read(body)?;
    let (request_no, seller_id) = (request.request_no, request.seller_id);
    let content = request.content();
    let now = ctx.now();
    let token = new_token();
    let redirect_url = format!("{}/authorize/{token}", ctx.base_url);
    let created = ctx.with_state(|t| {
        let s = &mut t.infinia;
        let kind = "a binding request";
        if let Some(earlier) = repeated(&s.bindings, request_no, &content, recorded, kind)? {
            return Ok((earlier.clone(), false));
        }
        if let Some(bound) = bound_binding(s, seller_id) {
            return Err(InfiniaError::invalid(already_bound(bound)));
        }
        let binding = Binding {
            request_no: request_no.to_owned(),
            seller_id: seller_id.to_owned(),
            request: content,
            token: token.clone(),
            redirect_url: redirect_url.clone(),
            status: BindingStatus::Pending,
            reason: None,
            created_at: now,
            created_seq: s.next_binding_seq(),
            decided_at: None,
            notify: ctx.decision.notify.clone(),
        };
        s.bindings.insert(request_no.to_owned(), binding.clone());
        Ok((binding, true))
    })??;
    let (binding, fresh) = created;
    if fresh {
        register_link(ctx, &request, &binding);
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

/// `entityType` must be one of [`ENTITY_TYPES`] exactly, as documented: the case counts, and a
/// value differing only in case is told so.
fn entity_type(entity: &str) -> Result<(), InfiniaError> {
    if ENTITY_TYPES.contains(&entity) {
        return Ok(());
    }
    let hint = match ENTITY_TYPES.iter().find(|e| e.eq_ignore_ascii_case(entity)) {
        Some(exact) => format!(" (the case counts: write {exact:?})"),
        None => String::new(),
    };
    Err(InfiniaError::range(format!(
        "entityType {} is not one of {}{hint}",
        echo(entity),
        ENTITY_TYPES.join(", ")
    )))
}

/// Puts the binding on the shared authorization page (`/authorize/{token}`), valid for the
/// platform's link lifetime (`[platform] link_ttl_secs`, 30 minutes by default; a scenario rule's
/// `values.linkTtl`, e.g. `"10m"`, replaces it).
fn register_link(ctx: &Ctx<'_>, r: &Request<'_>, binding: &Binding) {
    use crate::authorize::{AuthorizationRequest, ShopDetails};
    let ttl_ms = ctx
        .core
        .config()
        .platform
        .link_ttl_secs
        .saturating_mul(1000);
    let store_name = r.store_name.unwrap_or(r.seller_name).to_owned();
    let ttl_ms = ctx.decision.duration_value("linkTtl").unwrap_or(ttl_ms);
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
            url: r.store_url.map(str::to_owned),
        },
        legal_entity: vec![
            ("Name".into(), r.seller_name.to_owned()),
            ("Registration number".into(), r.seller_cert_no.to_owned()),
            ("Entity type".into(), r.entity_type.to_owned()),
            ("Country".into(), r.country.to_owned()),
        ],
        expires_at: binding.created_at.saturating_add(ttl_ms),
        backlink_url: r.backlink_url.map(str::to_owned),
    });
}

/// How the binding behind a seller's link stands (`Authorizations::register_surface`).
pub fn standing_on_page(
    core: &Core,
    request: &crate::authorize::AuthorizationRequest,
) -> crate::authorize::BindingStanding {
    use crate::authorize::BindingStanding;
    let seen = core.with_tenant(&request.tenant, |t| {
        t.infinia
            .bindings
            .get(&request.business_id)
            .filter(|b| b.token == request.token)
            .map(|b| match b.status {
                BindingStatus::Pending => BindingStanding::Waiting,
                status => BindingStanding::Ended {
                    approved: status == BindingStatus::Bound,
                    at: b.decided_at,
                    expired: b.reason.as_deref() == Some(crate::authorize::EXPIRED_REASON),
                },
            })
    });
    seen.ok().flatten().unwrap_or(BindingStanding::Gone)
}

/// The decision callback of the authorization registry (`Authorizations::register_surface(
/// "infinia", ...)`): the page, a trigger and a scenario decide through it, and the link's
/// expiry. A binding of an app that is no longer configured (a data directory or snapshot of a
/// run that had it) is refused for the page, a trigger and a scenario alike ([`configured_app`]),
/// as the decision triggers refuse its `appId`: a decision would notify an app with no
/// notification URL. Its link's expiry still rejects it (no notification), so that the binding
/// never stays PENDING behind an expired link.
pub fn decide_from_page(
    core: &Core,
    request: &crate::authorize::AuthorizationRequest,
    d: &crate::authorize::Decision,
    via: &str,
) -> Result<Option<String>, String> {
    if via != crate::authorize::VIA_EXPIRY {
        configured_app(core, &request.tenant)?;
    }
    let notification = decide(
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
    Ok(notification)
}

/// That `tenant` is a configured Infinia app; refused as the triggers refuse an `appId` that
/// names none ([`crate::trigger::acting_tenant`]), naming the configured apps.
fn configured_app(core: &Core, tenant: &TenantId) -> Result<(), String> {
    crate::trigger::binding_owner_configured(
        Provider::Infinia,
        tenant,
        &core.infinia().apps.ids(),
        "[[infinia.apps]]",
    )
}

/// The reply of the request and the query; a field without a value is `""` (every field of
/// this API is a string: [`super::fields::text`]).
pub fn view(b: &Binding) -> Value {
    let bound = b.decided_at.filter(|_| b.status == BindingStatus::Bound);
    json!({
        "requestNo": b.request_no,
        "sellerId": b.seller_id,
        "redirectUrl": b.redirect_url,
        "bindingStatus": b.status,
        "reason": text(b.reason.as_deref()),
        "bindTime": text(bound.map(crate::clock::format::china)),
    })
}

/// The binding's authorization token: the shared page's 128 random bits
/// ([`crate::authorize::new_token`]), marked as Infinia's.
fn new_token() -> String {
    format!("inf_{}", crate::authorize::new_token())
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

/// The seller's BOUND binding, if any: a seller is bound at most once per app.
pub fn bound_binding<'a>(s: &'a InfiniaState, seller_id: &str) -> Option<&'a Binding> {
    s.bindings
        .values()
        .find(|b| b.seller_id == seller_id && b.status == BindingStatus::Bound)
}

/// Why a seller cannot be bound again: names the binding that holds it.
fn already_bound(bound: &Binding) -> String {
    format!(
        "seller {:?} is already bound (requestNo {:?})",
        bound.seller_id, bound.request_no
    )
}

/// A binding status as the API writes it (`BOUND`), for messages.
fn wire_status(status: BindingStatus) -> String {
    match serde_json::to_value(status) {
        Ok(Value::String(word)) => word,
        _ => format!("{status:?}"),
    }
}

/// The seller's decision, applied: the authorization registry's callback ([`decide_from_page`])
/// runs it for the page, a trigger, a scenario and the link's expiry alike.
/// Approval binds the seller and, unless disabled, notifies the platform of the seller's status
/// (ACTIVE for a seller bound for the first time). Approving a binding of a seller that another
/// binding already holds is refused, with the binding left PENDING (the page keeps the link open
/// so the seller can decline it; unanswered, it expires as REJECTED): the same rule as at request
/// time, checked again because two requests can be pending for one seller. Answers the id of the
/// notification queued to be sent, if any (not one a scenario suppresses).
pub fn decide(
    core: &Core,
    tenant: &TenantId,
    token: &str,
    approved: bool,
    reason: Option<&str>,
) -> Result<Option<String>, String> {
    if tenant.provider != Provider::Infinia {
        return Err(format!("{tenant} is not an Infinia app"));
    }
    let now = core.clock().now();
    let decided = core.with_tenant_text(tenant, |t| {
        let s = &mut t.infinia;
        let pending = s
            .bindings
            .values()
            .find(|b| b.token == token)
            .ok_or_else(|| format!("no binding with token {token:?} in {tenant}"))?;
        if pending.status != BindingStatus::Pending {
            return Err(format!(
                "binding {} is already {}",
                pending.request_no,
                wire_status(pending.status)
            ));
        }
        if let Some(bound) = bound_binding(s, &pending.seller_id).filter(|_| approved) {
            return Err(format!(
                "{}: binding {:?} cannot be approved; reject it instead",
                already_bound(bound),
                pending.request_no
            ));
        }
        let request_no = pending.request_no.clone();
        let binding = s
            .bindings
            .get_mut(&request_no)
            .ok_or_else(|| format!("binding {request_no} vanished"))?;
        binding.status = if approved {
            BindingStatus::Bound
        } else {
            BindingStatus::Rejected
        };
        binding.decided_at = Some(now);
        // A reason is a decline's: text typed in the page's reason box and then approved is
        // not kept (a bound binding reports none, as whalet-platform's does).
        binding.reason = (!approved).then(|| {
            reason.map_or_else(
                || "the seller declined the authorization".to_owned(),
                str::to_owned,
            )
        });
        let binding = binding.clone();
        let seller_status = approved.then(|| bind_seller(s, &binding, now));
        Ok((binding, seller_status))
    })??;
    let (decided, seller_status) = decided;
    let notify = core.infinia().apps.config.notify_on_binding;
    let sent = !decided.notify.suppress;
    let id = seller_status.filter(|_| notify).map(|status| {
        let behaviour = decided.notify.clone();
        sellers::notify_status(core, tenant, &decided.seller_id, status, behaviour)
    });
    // A notification a scenario suppresses is recorded, never sent: the partner is not told.
    Ok(id.filter(|_| sent))
}

/// Records the seller as bound by `binding` and returns the seller's status, which the
/// notification then reports: ACTIVE for a new seller; a seller already known keeps the status
/// Infinia gave it (a FROZEN seller stays FROZEN and is announced so).
fn bind_seller(s: &mut InfiniaState, binding: &Binding, now: crate::clock::Millis) -> SellerStatus {
    let seller = s
        .sellers
        .entry(binding.seller_id.clone())
        .or_insert_with(|| Seller {
            seller_id: binding.seller_id.clone(),
            status: SellerStatus::Active,
            binding_request_no: binding.request_no.clone(),
            updated_at: now,
        });
    seller.binding_request_no = binding.request_no.clone();
    seller.status
}

crate::core::timers::timer_kind! {
    /// A scenario's decision on a binding (key: the link's token), taken through the
    /// authorization registry as the page's and a trigger's are, so that the link shows it used.
    pub SCENARIO_DECISION = "infinia.binding.decide",
    |core, key, approved: bool = "approved", reason: Option<String> = "reason"| {
        let now = core.clock().now();
        let decision = crate::authorize::Decision { approved, reason };
        if let Err(e) = core
            .authorizations()
            .decide(&core, now, &key, decision, "scenario")
        {
            tracing::warn!(error = %e, "scenario binding decision not applied");
        }
    }
}
