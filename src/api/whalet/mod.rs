//! The Whalet Open API surface: `POST /api` (operation = `head.apiCode`) and `POST /api/{apiCode}`.
//! This module is the pipeline every operation shares: read the envelope, find the partner,
//! verify the signature, admit (rate limit: only an authenticated request counts), decrypt, check
//! the apiCode is enabled and the requestNo is new, ask the scenario engine, run the operation,
//! seal the reply, journal it. Operations live one per file and are listed in [`Dispatch`]'s
//! table.

mod connectivity;
mod connectivity_trigger;
pub mod ops;

pub mod common;

mod accounts;
mod collections;
mod holders;
mod onboarding;
mod wallet;
// part 2
pub mod fx;
pub mod partners;
mod payout;
mod replenish;
mod trade;
pub mod transport;
pub mod upload;

pub use connectivity::OPERATIONS as CONNECTIVITY_OPERATIONS;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::api::pipeline::{self, Answer, Opened, Refusal, Scheme, Trace};
use crate::clock::format;
use crate::core::{Core, Trigger};
use crate::http::{SimRequest, SimResponse};
use crate::notify::NotificationSpec;
use crate::tenant::{Provider, TenantId};
use crate::wire::whalet::{
    self as envelope, Code, Echo, KeyEncForm, WhaletError, MAX_HEAD_FIELD, PROCESSING_DETAIL,
    SUCCESS_DETAIL,
};
use partners::{Partner, Partners};

/// A successful (or PROCESSING) answer of an operation.
#[derive(Debug, Clone)]
pub struct Reply {
    pub code: Code,
    pub body: Option<Value>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self {
            code: Code::Success,
            body: Some(body),
        }
    }
    /// A SUCCESS without a body: sealed as a signed head-only reply (the documents' reply
    /// whose `encrypt` takes no part in the string to sign).
    pub fn empty() -> Self {
        Self {
            code: Code::Success,
            body: None,
        }
    }
    pub fn processing(body: Value) -> Self {
        Self {
            code: Code::Processing,
            body: Some(body),
        }
    }
}

/// What a contract overlay rewrites: the body, and the sync success code (crate::contract).
impl pipeline::ReplyBody for Reply {
    fn with_body(&mut self, f: &mut dyn FnMut(&mut Value)) {
        if let Some(body) = self.body.as_mut() {
            f(body);
        }
    }
    fn set_code(&mut self, code: &str) -> Option<String> {
        match Code::parse(code) {
            Some(code @ (Code::Success | Code::Processing)) => {
                Some(std::mem::replace(&mut self.code, code).to_string())
            }
            _ => None,
        }
    }
}

/// What an Open API operation has besides its body: the calling partner and the request head.
pub struct Session {
    pub partner: Arc<Partner>,
    pub echo: Echo,
    handler: Handler,
}

/// What an operation gets (the pipeline's context with this surface's [`Session`]).
pub type Ctx<'a> = pipeline::Ctx<'a, Session>;

impl Ctx<'_> {
    /// Sends a notification (canonical apiCode) to this partner, shaped by the scenario.
    pub fn notify(
        &self,
        canonical_api_code: &str,
        payload: Value,
        business_id: Option<String>,
    ) -> String {
        notify(
            self.core,
            self.tenant,
            canonical_api_code,
            payload,
            business_id,
            self.decision.notify.clone(),
        )
    }
}

/// Enqueues a Whalet notification for `tenant` (used by operations, triggers and timelines);
/// nothing while a handler is probed ([`common::replays`]).
pub fn notify(
    core: &Core,
    tenant: &TenantId,
    canonical_api_code: &str,
    payload: Value,
    business_id: Option<String>,
    behaviour: crate::behaviour::NotifyBehaviour,
) -> String {
    notify_behind(
        core,
        (tenant, canonical_api_code),
        payload,
        business_id,
        behaviour,
        None,
    )
}

/// [`notify`], the notification heard of only after those about business object `after`
/// enqueued before it ([`crate::notify::Outbox::enqueue_after`]), when given.
pub fn notify_behind(
    core: &Core,
    (tenant, canonical_api_code): (&TenantId, &str),
    payload: Value,
    business_id: Option<String>,
    behaviour: crate::behaviour::NotifyBehaviour,
    after: Option<&str>,
) -> String {
    if common::probing() {
        return String::new();
    }
    let topic = core.whalet_ops().wire_name(canonical_api_code);
    let spec = NotificationSpec {
        business_id,
        behaviour,
        ..NotificationSpec::new(tenant.clone(), "whalet", topic, payload)
    };
    match after {
        Some(after) => core.outbox().enqueue_after(spec, after),
        None => core.outbox().enqueue(spec),
    }
}

pub type Handler = fn(&Ctx<'_>, &Value) -> Result<Reply, WhaletError>;

/// One operation: its canonical apiCode (see docs/FIDELITY.md) and handler.
pub type Operation = pipeline::Operation<Handler>;

/// The dispatch table: wire apiCode → operation, after `[whalet.api_codes]` renames.
pub struct Dispatch {
    by_wire: HashMap<String, &'static Operation>,
    wire_names: BTreeMap<String, String>,
}

/// Every operation of the surface. Adding one = one file + one line in its group's table.
pub fn all_operations() -> impl Iterator<Item = &'static Operation> {
    connectivity::OPERATIONS
        .iter()
        .chain(ops::OPERATIONS.iter().flat_map(|group| group.iter()))
}

/// Notification apiCodes (canonical), for renames and FIDELITY.md.
pub const NOTIFICATIONS: &[&str] = &["connectivityNotify"];

impl Dispatch {
    /// The table after `renames` (`[whalet.api_codes]`, canonical → wire name). Refused, naming
    /// the key: an unknown canonical name, a wire name the envelope could never carry in
    /// `head.apiCode` ([`check_wire_name`]), and a wire name that another operation or
    /// notification already answers to (its canonical or its wire name): the table would
    /// otherwise keep one of the two silently.
    pub fn new(renames: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let known: Vec<&str> = all_operations()
            .map(|op| op.name)
            .chain(NOTIFICATIONS.iter().copied())
            .chain(ops::NOTIFICATIONS.iter().flat_map(|g| g.iter().copied()))
            .collect();
        for (canonical, wire) in renames {
            if !known.contains(&canonical.as_str()) {
                anyhow::bail!(
                    "whalet.api_codes: {canonical:?} is not a known apiCode (see docs/FIDELITY.md)"
                );
            }
            check_wire_name(wire).map_err(|why| {
                anyhow::anyhow!("whalet.api_codes: {canonical} = {wire:?}: {why}")
            })?;
        }
        let wire_names: BTreeMap<String, String> = known
            .iter()
            .map(|c| {
                (
                    (*c).to_owned(),
                    renames.get(*c).cloned().unwrap_or_else(|| (*c).to_owned()),
                )
            })
            .collect();
        check_unique_wire_names(&wire_names)?;
        let by_wire = all_operations()
            .map(|op| (wire_names[op.name].clone(), op))
            .collect();
        Ok(Self {
            by_wire,
            wire_names,
        })
    }

    /// The name on the wire of a canonical apiCode.
    pub fn wire_name(&self, canonical: &str) -> String {
        self.wire_names
            .get(canonical)
            .cloned()
            .unwrap_or_else(|| canonical.to_owned())
    }

    fn get(&self, wire: &str) -> Option<&'static Operation> {
        self.by_wire.get(wire).copied()
    }

    /// What the journal and coverage call a request with the apiCode `wire` (in the path
    /// `/api/{apiCode}` or in `head.apiCode`; the route the pipeline serves it under, from its
    /// first refusal on): the canonical apiCode of the operation that answers to it
    /// (`[whalet.api_codes]` applied), else the apiCode as sent in the path that carries it,
    /// `/api/{apiCode}`; nothing when none was sent. No operation is called by a name with a
    /// `/`, so a request that reached none (an unknown apiCode, or an operation's canonical name
    /// after a rename) is never journaled or counted as an operation's.
    pub fn route_name(&self, wire: &str) -> String {
        match self.get(wire) {
            Some(operation) => operation.name.to_owned(),
            None if wire.is_empty() => String::new(),
            None => format!("{UNKNOWN_PREFIX}{wire}"),
        }
    }

    /// The apiCode sent, from its [`route_name`](Self::route_name).
    fn sent_name(&self, route: &str) -> String {
        match route.strip_prefix(UNKNOWN_PREFIX) {
            Some(sent) => sent.to_owned(),
            None => self.wire_name(route),
        }
    }

    /// Canonical → wire names of every operation and notification.
    pub fn names(&self) -> &BTreeMap<String, String> {
        &self.wire_names
    }
}

/// What [`Dispatch::route_name`] puts before an apiCode no operation answers to.
const UNKNOWN_PREFIX: &str = "/api/";

/// Whether the envelope can carry `wire` as `head.apiCode` and a partner's path as
/// `/api/{apiCode}`: 1 to [`MAX_HEAD_FIELD`] characters, an ASCII letter first, then ASCII
/// letters and digits (the lowerCamelCase of every Whalet apiCode, docs/FIDELITY.md).
fn check_wire_name(wire: &str) -> Result<(), String> {
    let len = wire.chars().count();
    if len == 0 || len > MAX_HEAD_FIELD {
        return Err(format!(
            "a wire apiCode has 1 to {MAX_HEAD_FIELD} characters (head.apiCode), not {len}"
        ));
    }
    let mut chars = wire.chars();
    let letter_first = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !letter_first || !chars.all(|c| c.is_ascii_alphanumeric()) {
        return Err(
            "a wire apiCode is an ASCII letter followed by ASCII letters and digits (lowerCamelCase)"
                .into(),
        );
    }
    Ok(())
}

/// No two operations or notifications answer to the same name: a wire name is neither another
/// one's wire name nor another one's canonical name (which overlays and rules use), nor the
/// name of a whalet-platform notification (they travel on the same channel).
fn check_unique_wire_names(wire_names: &BTreeMap<String, String>) -> anyhow::Result<()> {
    for (canonical, wire) in wire_names {
        let platform = crate::api::platform::NOTIFICATIONS.contains(&wire.as_str());
        if wire != canonical && (wire_names.contains_key(wire) || platform) {
            anyhow::bail!(
                "whalet.api_codes: {canonical} = {wire:?} takes the name of the apiCode {wire:?}; choose a name no other operation or notification uses"
            );
        }
    }
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (canonical, wire) in wire_names {
        if let Some(other) = owner.insert(wire, canonical) {
            anyhow::bail!(
                "whalet.api_codes: {other} and {canonical} are both renamed to {wire:?}; each apiCode needs its own name"
            );
        }
    }
    Ok(())
}

/// Triggers of this surface.
pub fn triggers() -> Vec<Trigger> {
    ops::TRIGGERS
        .iter()
        .flat_map(|g| g.iter().cloned())
        .chain(connectivity_trigger::triggers())
        .collect()
}

impl Core {
    /// The configured Whalet partners (Open API and platform API).
    pub fn partners(&self) -> &Partners {
        self.surface::<Partners>()
    }
    /// The Open API's apiCode table (after `[whalet.api_codes]` renames).
    pub fn whalet_ops(&self) -> &Dispatch {
        self.surface::<Dispatch>()
    }
}

/// Entry point for `POST /api` (`path_api_code` None) and `POST /api/{apiCode}`: served under
/// the path apiCode's route name ([`Dispatch::route_name`]).
pub async fn handle(core: &Core, req: SimRequest, path_api_code: Option<&str>) -> SimResponse {
    let route = core.whalet_ops().route_name(path_api_code.unwrap_or(""));
    pipeline::handle(&OpenApi, core, req, &route).await
}

/// The Open API's scheme: the Whalet envelope, the partner table and the apiCode table.
pub struct OpenApi;

/// What an Open API reply or refusal echoes, and how it is sealed: the request head as far as
/// it was read, and the partner once its signature verified (its refusals are then signed).
#[derive(Default)]
pub struct Head {
    pub echo: Echo,
    /// The authenticated partner; `None` before the signature verified.
    pub signer: Option<Arc<Partner>>,
    /// The `keyEnc` form the partner used, once decrypted.
    pub key_enc_form: Option<KeyEncForm>,
}

impl Head {
    /// Takes `sealed`'s head as what refusals echo and finds the partner its partnerId names
    /// (PARTNER_NOT_EXIST otherwise), the Open API's and whalet-platform's one way: from here
    /// on the journal files the request under that partner's tenant (a forged one too: the
    /// signature is checked after), with its head and the body `<not decrypted>` until it is.
    pub fn identify(
        &mut self,
        core: &Core,
        sealed: &envelope::SealedRequest,
        trace: &mut Trace,
    ) -> Result<Arc<Partner>, WhaletError> {
        self.echo = sealed.echo.clone();
        trace.request_no = Some(self.echo.request_no.clone());
        trace.request = Some(journal_request(&self.echo, Value::from("<not decrypted>")));
        let partner = find_partner(core, &self.echo.partner_id, None)?;
        trace.tenant = Some(TenantId::new(Provider::Whalet, partner.id.clone()));
        Ok(partner)
    }

    /// Authenticates `sealed` as `partner`'s request: checks its signature (only an
    /// authenticated request counts against the partner's rate limit), makes the refusals from
    /// here on signed head-only replies, admits it under the rate limit and decrypts it. The
    /// journal's copy of the request is the decrypted body; when that is not a JSON object, the
    /// decrypted text beside the head ([`pipeline::decrypted_text`]), so that the developer sees
    /// what was encrypted.
    pub fn authenticate(
        &mut self,
        sealed: &envelope::SealedRequest,
        partner: &Arc<Partner>,
        trace: &mut Trace,
    ) -> Result<envelope::OpenedRequest, WhaletError> {
        sealed.verify(&partner.public_key)?;
        trace.authenticated = true;
        self.signer = Some(partner.clone());
        admit(partner)?;
        let decrypted = sealed.decrypt_plaintext(&partner.platform_key)?;
        self.key_enc_form = Some(decrypted.key_enc_form);
        let opened = decrypted.read(&self.echo).map_err(|(err, plaintext)| {
            trace.request = Some(journal_request(
                &self.echo,
                pipeline::decrypted_text(&plaintext),
            ));
            err
        })?;
        trace.request = Some(opened.body.clone());
        Ok(opened)
    }

    /// A head-only refusal, signed once the partner's signature verified.
    pub fn seal_refusal(&self, core: &Core, err: WhaletError, status: Option<u16>) -> Answer {
        let signer = self
            .signer
            .as_ref()
            .map(|p| (&p.platform_key, &p.public_key));
        seal_refusal_by(core, &self.echo, signer, err, status)
    }

    /// What the journal adds to the detail: the wire apiCode of an operation
    /// `[whalet.api_codes]` renames (the journal names it by its canonical one), and the
    /// `keyEnc` form when it is not the default one.
    fn journal_note(&self, core: &Core) -> Option<String> {
        let wire = &self.echo.api_code;
        let renamed = core
            .whalet_ops()
            .get(wire)
            .filter(|op| op.name != wire)
            .map(|op| {
                format!(
                    "[apiCode {wire} on the wire: [whalet.api_codes] renames {}]",
                    op.name
                )
            });
        let key_enc = match self.key_enc_form {
            Some(KeyEncForm::HexBase64) => Some(
                "[keyEnc form hex_base64: the RSA plaintext was the hex text of Base64(session \
                 key), as the documents' encryption steps read; accepted]",
            ),
            _ => None,
        };
        let notes: Vec<&str> = renamed.as_deref().into_iter().chain(key_enc).collect();
        (!notes.is_empty()).then(|| notes.join(" "))
    }
}

/// The journal's copy of a request whose body is not (or not yet) the decrypted JSON: the head
/// fields that name it, and `body` as given (a placeholder, or the decrypted text).
fn journal_request(echo: &Echo, body: Value) -> Value {
    serde_json::json!({
        "head": {"partnerId": echo.partner_id, "apiCode": echo.api_code, "requestNo": echo.request_no},
        "body": body,
    })
}

/// The `detail` a reply of `code` carries: the documented description.
pub fn detail_of(code: Code) -> &'static str {
    match code {
        Code::Success => SUCCESS_DETAIL,
        Code::Processing => PROCESSING_DETAIL,
        other => other.as_str(),
    }
}

impl Scheme for OpenApi {
    const SURFACE: &'static str = "whalet";
    type Echo = Head;
    type Session = Session;
    type Error = WhaletError;
    type Reply = Reply;

    fn body_limit(&self, core: &Core) -> usize {
        core.config().whalet.body_limit_bytes
    }

    /// A business id the operation already holds (`outUserId`, `outHolderId`, `outCardId`,
    /// `bindId`, `outPayoutId`, ...: whatever its handler keeps through [`common::once`]),
    /// under a new requestNo: answered from the first result, or refused as a conflict.
    fn replays(&self, core: &Core, opened: &Opened<Session>) -> bool {
        common::replays(core, opened, |ctx, body| {
            let _ = (ctx.handler)(ctx, body);
        })
    }

    /// `route` is the path apiCode's route name ([`Dispatch::route_name`]; empty for `POST /api`).
    async fn open(
        &self,
        core: &Core,
        req: &SimRequest,
        route: &str,
        head: &mut Head,
        trace: &mut Trace,
    ) -> Result<Opened<Session>, Refusal<WhaletError>> {
        let ops = core.whalet_ops();
        let sealed = envelope::parse_request(&req.body).map_err(|(partial, err)| {
            if !partial.api_code.is_empty() {
                trace.operation = ops.route_name(&partial.api_code);
            }
            journal_partial(core, trace, &partial);
            head.echo = partial;
            err
        })?;
        trace.operation = ops.route_name(&sealed.echo.api_code);
        let partner = head.identify(core, &sealed, trace)?;
        let tenant = TenantId::new(Provider::Whalet, partner.id.clone());
        let echo = &head.echo;
        let path_api_code = ops.sent_name(route);
        if !path_api_code.is_empty() && path_api_code != echo.api_code {
            return Err(WhaletError::parameter(format!(
                "the path says apiCode {} but head.apiCode is {}",
                crate::text::echo(&path_api_code),
                crate::text::echo(&echo.api_code)
            ))
            .into());
        }
        let mut opened = head.authenticate(&sealed, &partner, trace)?;
        let echo = &head.echo;
        // After the journal's copy: amounts are read from the characters the partner wrote.
        crate::money::keep_number_texts(&opened.text, &mut opened.body);
        let Some(operation) = ops.get(&echo.api_code) else {
            return Err(WhaletError::new(
                Code::InterfaceUnauthorized,
                format!(
                    "apiCode {:?} is not an interface of this API; {}",
                    crate::text::bound(&echo.api_code, 64),
                    crate::api::catalog::unknown(core, "whalet", &echo.api_code)
                ),
            )
            .into());
        };
        enabled(&partner, operation.name, &echo.api_code)?;
        Ok(Opened {
            tenant,
            operation: operation.name,
            body: opened.body,
            request_no: Some(echo.request_no.clone()),
            session: Session {
                partner,
                echo: echo.clone(),
                handler: operation.handler,
            },
        })
    }

    fn run(&self, ctx: &Ctx<'_>, body: &Value) -> Result<Reply, WhaletError> {
        (ctx.handler)(ctx, body)
    }

    fn seal_reply(
        &self,
        core: &Core,
        head: &Head,
        opened: &Opened<Session>,
        reply: Reply,
        status: u16,
    ) -> Result<Answer, WhaletError> {
        let detail = detail_of(reply.code);
        let partner = &opened.session.partner;
        let bytes = envelope::try_seal_reply_as(
            &head.echo,
            reply.code.as_str(),
            detail,
            reply.body.as_ref(),
            Some((&partner.platform_key, &partner.public_key)),
            core.hex_case(),
            core.config().whalet.key_enc_form,
        )
        .map_err(|err| unsealable(partner, err))?;
        Ok(Answer {
            response: SimResponse::json(status, bytes),
            code: reply.code.to_string(),
            detail: match head.journal_note(core) {
                Some(note) => format!("{detail} {note}"),
                None => detail.to_owned(),
            },
            reply: reply.body.unwrap_or(Value::Null),
        })
    }

    fn seal_refusal(
        &self,
        core: &Core,
        head: &Head,
        err: WhaletError,
        status: Option<u16>,
    ) -> Answer {
        let mut answer = head.seal_refusal(core, err, status);
        // The journal shows the Open API's refusal as the head it is.
        answer.reply = serde_json::json!({ "head": answer.reply });
        if let Some(note) = head.journal_note(core) {
            answer.detail = format!("{} {note}", answer.detail);
        }
        answer
    }
}

pub use crate::wire::whalet::DIAGNOSTIC_HEADER;

/// A head-only Whalet refusal, signed when `signer` = (platform key, partner key) is given
/// (its wire `detail` as [`refusal_answer`] bounds it; the echoed head as [`Echo::bounded`]
/// does, for the Open API and the platform API alike).
pub fn seal_refusal_by(
    core: &Core,
    echo: &Echo,
    signer: Option<(
        &crate::wire::keys::PrivateKey,
        &crate::wire::keys::PublicKey,
    )>,
    err: WhaletError,
    status: Option<u16>,
) -> Answer {
    let code = err.code;
    let echo = echo.clone().bounded();
    refusal_answer(core, err, |wire_detail| {
        let bytes = envelope::seal_reply(
            &echo,
            code.as_str(),
            wire_detail,
            None,
            signer,
            core.hex_case(),
        );
        SimResponse::json(status.unwrap_or(200), bytes)
    })
}

/// A Whalet refusal (the Open API's and whalet-platform's, enveloped or plain): `respond` makes
/// the response from the wire `detail`, which is at most `[whalet] detail_max_chars` characters;
/// a longer diagnostic is cut there, and sent whole (header-safe, bounded) in
/// [`DIAGNOSTIC_HEADER`]. The journal keeps it whole, in the reply `{code, detail}`.
pub fn refusal_answer(
    core: &Core,
    err: WhaletError,
    respond: impl FnOnce(&str) -> SimResponse,
) -> Answer {
    let response = with_wire_detail(core, &err.detail, respond);
    Answer {
        response,
        reply: serde_json::json!({"code": err.code.as_str(), "detail": err.detail}),
        code: err.code.to_string(),
        detail: err.detail,
    }
}

/// What the head of an envelope refused while it was read said, for the journal: its
/// requestNo, and its tenant when its partnerId names a configured partner, so that the journal
/// filtered by partner or tenant lists the refusal its reply echoes (the signature is not checked
/// yet: a forged head files the entry under the partner it names).
pub fn journal_partial(core: &Core, trace: &mut Trace, partial: &Echo) {
    if !partial.request_no.is_empty() {
        trace.request_no = Some(partial.request_no.clone());
    }
    if let Some(partner) = core.partners().get(&partial.partner_id) {
        trace.tenant = Some(TenantId::new(Provider::Whalet, partner.id.clone()));
    }
}

/// The response `respond` makes from the wire `detail` of a refusal whose diagnostic is
/// `detail`: at most `[whalet] detail_max_chars` characters, cut there, with the whole
/// diagnostic (header-safe, bounded) in [`DIAGNOSTIC_HEADER`] when it was cut. The one rule of
/// every Whalet refusal: [`refusal_answer`]'s and the file upload's.
pub fn with_wire_detail(
    core: &Core,
    detail: &str,
    respond: impl FnOnce(&str) -> SimResponse,
) -> SimResponse {
    let cfg = &core.config().whalet;
    let (wire_detail, cut) = envelope::wire_detail(detail, cfg.detail_max_chars);
    let response = respond(&wire_detail);
    if !cut {
        return response;
    }
    response.header(
        DIAGNOSTIC_HEADER,
        envelope::header_safe(detail, cfg.diagnostic_header_max_bytes),
    )
}

/// The partner named by `partnerId`, or PARTNER_NOT_EXIST ([`unknown_partner`]); `named_by` says
/// where the id came from when it is not the envelope's head (`header partnerId`).
pub fn find_partner(
    core: &Core,
    partner_id: &str,
    named_by: Option<&str>,
) -> Result<Arc<Partner>, WhaletError> {
    core.partners().get(partner_id).ok_or_else(|| {
        WhaletError::new(
            Code::PartnerNotExist,
            unknown_partner(core, partner_id, named_by),
        )
    })
}

/// Why `partner_id` names no Whalet partner: the partners that are configured, and the other
/// provider's tenant it names if it does (the demo Pockyt merchantNo `202333` sent as a
/// partnerId is the usual slip). `named_by` is put after the id's sentence, in parentheses.
pub fn unknown_partner(core: &Core, partner_id: &str, named_by: Option<&str>) -> String {
    let named_by = named_by.map(|n| format!(" ({n})")).unwrap_or_default();
    let ids = core.partners().ids();
    let configured = match ids.as_slice() {
        [] => "no partner is configured ([whalet] demo_partner = false and no \
               [[whalet.partners]])"
            .to_owned(),
        ids => format!("the configured partners: {}", ids.join(", ")),
    };
    let elsewhere = [Provider::Infinia, Provider::Pockyt]
        .into_iter()
        .map(|p| TenantId::new(p, partner_id))
        .find(|t| core.store().is_configured(t))
        .map(|t| {
            format!(
                "; {} is another provider's tenant ({t}), not a Whalet partner",
                crate::text::echo(partner_id)
            )
        })
        .unwrap_or_default();
    // A tenant restored from a snapshot or a data dir that this start's configuration lacks.
    let restored = if core
        .store()
        .has_tenant(&TenantId::new(Provider::Whalet, partner_id))
    {
        "; the restored state holds this partner, but no configuration defines it: start with \
         the configuration the state was made with, or add it to [[whalet.partners]]"
    } else {
        ""
    };
    format!(
        "no partner with partnerId {} is configured{named_by}; {configured}{elsewhere}{restored}",
        crate::text::echo(partner_id)
    )
}

/// Counts the request against the partner's rate limit, or TOO_MANY_REQUESTS.
pub fn admit(partner: &Partner) -> Result<(), WhaletError> {
    if partner.admit() {
        return Ok(());
    }
    Err(WhaletError::new(
        Code::TooManyRequests,
        format!(
            "more than {} requests per second from this partner",
            partner.rate_limit.unwrap_or(0)
        ),
    ))
}

/// INTERFACE_UNAUTHORIZED unless the partner may call `canonical` (named `wire` on the wire).
pub fn enabled(partner: &Partner, canonical: &str, wire: &str) -> Result<(), WhaletError> {
    if partner.is_enabled(canonical) {
        return Ok(());
    }
    Err(WhaletError::new(
        Code::InterfaceUnauthorized,
        format!("apiCode {wire:?} is not enabled for partner {}", partner.id),
    ))
}

pipeline::coded_error! {
    /// The pipeline's refusals in the Whalet envelope (Open API and whalet-platform); a forced code
    /// that is not a Whalet code is FAILURE.
    impl CodedError for WhaletError { code: Code, detail } {
        const INTERNAL: Code = Code::InternalError;
        const TOO_LARGE: Code = Code::ParamFormatError;
        const FORCED_FALLBACK: Code = Code::Failure;

        /// A refusal of the state is a business FAILURE with its message.
        fn state_code(_: &crate::store::Refusal) -> Code {
            Code::Failure
        }

        fn duplicate(request_no: String, tenant: TenantId) -> Self {
            WhaletError::new(
                Code::RequestNoNotUnique,
                format!(
                    "requestNo {request_no:?} was already used by partner {}; every request needs a new one",
                    tenant.id
                ),
            )
        }
    }
}

/// INTERNAL_ERROR naming the partner key a reply could not be sealed with.
fn unsealable(partner: &Partner, err: WhaletError) -> WhaletError {
    tracing::error!(partner = %partner.id, error = %err.detail, "cannot seal the reply");
    WhaletError::new(
        Code::InternalError,
        format!(
            "the reply could not be sealed with partner {}'s public key {}: {}",
            partner.id,
            partner.public_key.fingerprint(),
            err.detail
        ),
    )
}

/// `yyyy-MM-dd HH:mm:ss` in China Standard Time, the Whalet time format.
pub fn whalet_time(ms: i64) -> String {
    format::china(ms)
}

/// Every operation's fields and example (`crate::api::describe`), by canonical apiCode: each
/// handler run in describe mode as the first configured partner, against a tenant that does not
/// exist. Empty when no partner is configured.
pub fn describe(core: &Core) -> Vec<crate::api::describe::Described> {
    let Some(partner) = core.partners().first() else {
        return Vec::new();
    };
    crate::api::describe::operations(core, Provider::Whalet, all_operations(), |op| Session {
        partner: partner.clone(),
        echo: Echo {
            partner_id: partner.id.clone(),
            api_code: op.name.to_owned(),
            request_no: "describe".to_owned(),
            version: "1.0".to_owned(),
        },
        handler: op.handler,
    })
}

#[cfg(test)]
mod replay_tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::api::whalet::common::testing::TestBed;
    use crate::scenario::Decision;

    fn opened(bed: &TestBed, op: &'static Operation, body: &Value) -> Opened<Session> {
        Opened {
            tenant: bed.tenant.clone(),
            operation: op.name,
            body: body.clone(),
            request_no: None,
            session: Session {
                partner: bed.core.partners().get(partners::DEMO_PARTNER_ID).unwrap(),
                echo: Echo::default(),
                handler: op.handler,
            },
        }
    }

    /// The tenant's whole state, as a snapshot keeps it.
    fn snapshot(bed: &TestBed) -> Value {
        bed.core
            .with_tenant(&bed.tenant, |t| serde_json::to_value(&*t).unwrap())
            .unwrap()
    }

    fn records(state: &Value) -> usize {
        state["idempotency"]["entries"]
            .as_object()
            .map_or(0, |e| e.len())
    }

    /// `example` (an operation's described body) about the seeded user `U1`, holder `H1` and
    /// card `VA1`, so that the operations that need them can take effect.
    fn about_the_seed(mut example: Value) -> Value {
        if let Value::Object(fields) = &mut example {
            for (field, id) in [("userId", "U1"), ("holderId", "H1"), ("cardId", "VA1")] {
                if fields.contains_key(field) {
                    fields.insert(field.into(), json!(id));
                }
            }
        }
        example
    }

    /// Every operation that keeps a business id is one whose repeat the pipeline leaves to the
    /// operation (no rule decides or counts it): each operation runs its described example about
    /// a seeded user; where that left a record in the tenant's idempotency table, the probe must
    /// find the request kept (before it ran: new), and it must change nothing.
    #[test]
    fn every_operation_that_kept_its_business_id_is_probed_as_a_replay() {
        let bed = TestBed::new();
        bed.seed(Some("USD"));
        let mut kept = Vec::new();
        for described in describe(&bed.core) {
            let op = all_operations().find(|o| o.name == described.name).unwrap();
            let body = about_the_seed(described.example);
            let request = opened(&bed, op, &body);
            let before = snapshot(&bed);
            assert!(
                !OpenApi.replays(&bed.core, &request),
                "{}: a request not run yet is new",
                op.name
            );
            assert_eq!(
                snapshot(&bed),
                before,
                "{}: probing changed the state",
                op.name
            );
            let _ = bed.run(op.handler, &body, &Decision::default());
            let after = snapshot(&bed);
            let recorded = records(&after) > records(&before);
            assert_eq!(
                OpenApi.replays(&bed.core, &request),
                recorded,
                "{}: its repeat is a replay exactly when it kept its id ({body})",
                op.name
            );
            assert_eq!(
                snapshot(&bed),
                after,
                "{}: probing changed the state",
                op.name
            );
            if recorded {
                kept.push(op.name);
            }
        }
        for name in [
            "userOnboardingApply",
            "cardHolderApply",
            "b2bVirtualAccountApply",
            "b2cShopBind",
            "tradeOrderApply",
        ] {
            assert!(kept.contains(&name), "{name} kept no id: {kept:?}");
        }
    }

    /// Other content under a kept id is a replay when the operation refuses it as a conflict,
    /// and a new request when it re-submits a rejected application.
    #[tokio::test]
    async fn a_conflict_is_a_replay_and_a_resubmission_is_new() {
        let bed = TestBed::new();
        let op = all_operations()
            .find(|o| o.name == "userOnboardingApply")
            .unwrap();
        let apply = |name: &str| {
            json!({"outUserId": "m1", "legalEntity": {"type": "ENTERPRISE", "name": name,
                "certType": "BUSINESS_LICENSE", "certNo": "91350200MA2Y000000",
                "countryCode": "CN"}, "email": "ops@example.com"})
        };
        let rejected = crate::api::whalet::common::testing::decision(
            false,
            None,
            None,
            Some(1_000),
            json!({"reMaterial": "Y"}),
        );
        bed.run(op.handler, &apply("Acme"), &rejected).unwrap();
        assert!(OpenApi.replays(&bed.core, &opened(&bed, op, &apply("Acme"))));
        assert!(
            OpenApi.replays(&bed.core, &opened(&bed, op, &apply("Other"))),
            "refused as a conflict while under review"
        );
        bed.core.clock().advance(2_000).await;
        assert!(
            !OpenApi.replays(&bed.core, &opened(&bed, op, &apply("Other"))),
            "a re-submission after the rejection is a new request"
        );
        assert!(
            OpenApi.replays(&bed.core, &opened(&bed, op, &apply("Acme"))),
            "the same content still answers from its first result"
        );
    }

    /// A probe sends nothing: an operation that notifies before it touches the state does not
    /// notify while probed.
    #[test]
    fn probing_sends_no_notification() {
        let bed = TestBed::new();
        let op = all_operations().find(|o| o.name == "connectivity").unwrap();
        let body = json!({"notifyFlag": "Y", "responseFlag": "N", "notifyMessage": "hi"});
        assert!(!OpenApi.replays(&bed.core, &opened(&bed, op, &body)));
        assert!(bed.sent("connectivityNotify").is_empty());
    }

    /// The probe reads business ids where they are kept, [`common::once_keyed`] (every
    /// [`common::once`] and `review::apply` goes through it) and [`common::kept`]: an operation
    /// that called `TenantState::once` or read the idempotency table itself would answer its
    /// repeats from their first result while the rules still decide and count them.
    #[test]
    fn business_ids_are_kept_only_where_the_probe_reads_them() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        let mut files = Vec::new();
        let mut dirs = vec![root.join("whalet"), root.join("platform")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let home = root.join("whalet/common/mod.rs");
        assert!(files.contains(&home));
        // Spelled apart, so that this file does not match them.
        let (once, kept, table) = (
            format!(".{}(", "once"),
            format!("common::{}(", "kept"),
            format!(".{}.", "idempotency"),
        );
        for path in files.iter().filter(|p| **p != home) {
            let text = std::fs::read_to_string(path).unwrap();
            let calls = text.matches(&once).count();
            let keys = text.matches(&kept).count();
            assert!(
                calls <= keys,
                "{}: {calls} call(s) of TenantState::once, {keys} key(s) made with common::kept",
                path.display()
            );
            assert!(
                !text.contains(&table),
                "{}: reads the idempotency table itself",
                path.display()
            );
        }
    }
}

#[cfg(test)]
mod route_name_tests {
    use super::*;

    /// A request is named by its operation's canonical apiCode when an operation answers to the
    /// apiCode sent, renamed or not; any other apiCode (an operation's canonical name after a
    /// rename included) by a name that is no operation's, from which the apiCode sent is read
    /// back (the path's apiCode is compared with `head.apiCode` as sent).
    #[test]
    fn an_api_code_no_operation_answers_is_named_as_sent_never_as_an_operation() {
        let renames = BTreeMap::from([(
            "queryCurrencyBalance".to_owned(),
            "balanceInquiry".to_owned(),
        )]);
        let ops = Dispatch::new(&renames).unwrap();
        assert_eq!(ops.route_name("balanceInquiry"), "queryCurrencyBalance");
        assert_eq!(ops.route_name("connectivity"), "connectivity");
        assert_eq!(ops.route_name(""), "");
        for sent in ["queryCurrencyBalance", "noSuchApiCode", "/api/x", ""] {
            let name = ops.route_name(sent);
            if !sent.is_empty() {
                assert!(name.contains(sent), "{name}");
                assert!(all_operations().all(|op| op.name != name), "{name}");
            }
            assert_eq!(ops.sent_name(&name), sent);
        }
        for sent in ["balanceInquiry", "connectivity"] {
            assert_eq!(ops.sent_name(&ops.route_name(sent)), sent);
        }
    }
}
