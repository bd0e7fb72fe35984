//! The Infinia Pay e-commerce API: `POST /api/v1/{operation path}`. This module is the pipeline
//! every operation shares: body limit, envelope shape, app lookup, operation lookup, signature
//! and decryption, scenario, the operation, the sealed reply, the journal. Operations live one
//! per file and are listed in [`OPERATIONS`]; the SFTP half lives in `crate::sftp`.

pub mod apps;
mod balance;
pub mod binding;
mod binding_query;
mod fields;
mod revenue;
pub mod sellers;
pub mod sharing;
mod sharing_query;
mod trade_details;
pub mod transport;
mod triggers;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::api::pipeline::{self, Answer, Opened, Refusal, Refused, Scheme, Trace};
use crate::core::Core;
use crate::http::{SimRequest, SimResponse};
use crate::store::infinia::{FUNDING_ACCOUNT, PLATFORM_ACCOUNT};
use crate::store::TenantState;
use crate::tenant::{Provider, TenantId};
use crate::wire::infinia::{self as envelope, Code, InfiniaError, SUCCESS_MESSAGE};
use apps::{Apps, InfiniaApp};

pub use triggers::triggers;

/// What an Infinia operation has besides its body.
pub struct Session {
    pub infinia_app: Arc<InfiniaApp>,
    /// The base of links it hands to sellers (`crate::api::base_url`).
    pub base_url: String,
    operation: &'static Operation,
}

/// What an operation gets (the pipeline's context with this surface's [`Session`]).
pub type Ctx<'a> = pipeline::Ctx<'a, Session>;

pipeline::coded_error! {
    /// The pipeline's refusals in Infinia's codes; a forced code that is not one of them is
    /// `UNAVAILABLE`.
    impl CodedError for InfiniaError { code: Code, message } {
        const INTERNAL: Code = Code::InternalError;
        const TOO_LARGE: Code = Code::PayloadTooLarge;
        const FORCED_FALLBACK: Code = Code::Unavailable;

        /// A refusal of the state, with the code Infinia gives it: whatever the state refuses (an
        /// unknown sharing, a seller not bound or frozen, a requestNo reused) is
        /// `INVALID_PARAMETER`; missing money, or a balance it would take past the largest
        /// amount, `OUT_OF_RANGE`; a broken posting an internal error.
        fn state_code(r: &crate::store::Refusal) -> Code {
            use crate::store::{LedgerError, Refusal as R};
            match r {
                R::Funds(LedgerError::Insufficient { .. } | LedgerError::BalanceTooLarge { .. }) => {
                    Code::OutOfRange
                }
                R::Funds(_) => Code::InternalError,
                R::NotFound { .. }
                | R::Unknown { .. }
                | R::NotOwned { .. }
                | R::WrongState(_)
                | R::Conflict(_) => Code::InvalidParameter,
            }
        }

        fn duplicate(request_no: String, _tenant: TenantId) -> Self {
            InfiniaError::invalid(format!("requestNo {request_no:?} was already used"))
        }
    }
}

pub type Handler = fn(&Ctx<'_>, &Value) -> Result<Value, InfiniaError>;

/// One operation: its canonical path under `/api/v1/` and its handler.
pub type Operation = pipeline::Operation<Handler>;

/// The operation scenario rules, the journal and coverage name for an Infinia trade details
/// file's processing (an SFTP upload, no HTTP request: `crate::sftp::process`).
pub const SFTP_UPLOAD: &str = "trade-details/upload";

/// Every operation of the surface (canonical paths; `[infinia.paths]` renames them).
pub const OPERATIONS: &[Operation] = &[
    binding::OPERATION,
    binding_query::OPERATION,
    trade_details::OPERATION,
    balance::OPERATION,
    revenue::OPERATION,
    sharing::OPERATION,
    sharing_query::OPERATION,
];

/// The surface: apps and the path table. Built once in `App::new`.
pub struct Infinia {
    pub apps: Arc<Apps>,
    /// The requestNos of the notifications: unique across resets and runs.
    pub request_nos: sellers::RequestNos,
    by_wire: HashMap<String, &'static Operation>,
    wire_paths: BTreeMap<String, String>,
}

impl Infinia {
    /// The surface with its path table after `[infinia.paths]` renames (canonical → path under
    /// `/api/v1/`, slashes around it ignored). Refused, naming the key: an unknown canonical
    /// path, a path no request could reach as written ([`check_wire_path`]), and a path that
    /// another operation already answers to (its renamed path, or its canonical one, which
    /// scenario rules and the journal name it by): the table would otherwise keep one of the
    /// two silently.
    pub fn new(apps: Arc<Apps>) -> anyhow::Result<Self> {
        let renames = &apps.config.paths;
        for (canonical, wire) in renames {
            if !OPERATIONS.iter().any(|op| op.name == canonical) {
                anyhow::bail!(
                    "infinia.paths: {canonical:?} is not an operation path (see docs/INFINIA.md)"
                );
            }
            check_wire_path(wire).map_err(|why| {
                anyhow::anyhow!(
                    "infinia.paths: {canonical:?} = {}: {why}",
                    crate::text::echo(wire)
                )
            })?;
        }
        let wire_paths: BTreeMap<String, String> = OPERATIONS
            .iter()
            .map(|op| {
                let wire = renames.get(op.name).map_or(op.name, String::as_str);
                (op.name.to_owned(), wire.trim_matches('/').to_owned())
            })
            .collect();
        check_unique_wire_paths(&wire_paths)?;
        let by_wire = OPERATIONS
            .iter()
            .map(|op| (wire_paths[op.name].clone(), op))
            .collect();
        Ok(Self {
            apps,
            request_nos: sellers::RequestNos::default(),
            by_wire,
            wire_paths,
        })
    }

    /// Canonical → wire paths (under `/api/v1/`).
    pub fn paths(&self) -> &BTreeMap<String, String> {
        &self.wire_paths
    }

    /// What the journal and coverage call a request to `POST /api/v1/{path}` (the route the
    /// pipeline serves it under, from its first refusal on): the canonical path of the operation
    /// that answers there (`[infinia.paths]` applied), else the path as sent,
    /// `/api/v1/{path}`. No operation is called by a name with a leading `/`, so a request that
    /// reached none (an unknown path, or an operation's old path after a rename) is never
    /// journaled or counted as an operation's.
    pub fn route_name(&self, path: &str) -> String {
        match self.by_wire.get(path.trim_matches('/')) {
            Some(operation) => operation.name.to_owned(),
            None => format!("{UNKNOWN_PREFIX}{path}"),
        }
    }

    /// Every app's tenant id.
    pub fn tenants(&self) -> Vec<TenantId> {
        self.apps
            .ids()
            .into_iter()
            .map(|id| TenantId::new(Provider::Infinia, id))
            .collect()
    }
}

/// Whether a request can reach `wire` (an `[infinia.paths]` value) as written, as
/// `POST /api/v1/{wire}`: slashes around it are ignored; what is left is one or more segments
/// separated by single `/`, each of ASCII letters, digits, `-`, `_`, `.` and `~` (the characters
/// a URL path carries unescaped, as in every canonical path), and none `.` or `..` (a client
/// resolves them away before sending).
fn check_wire_path(wire: &str) -> Result<(), String> {
    const FORM: &str = "a path under /api/v1/ is one or more segments of ASCII letters, digits, \
                        -, _, . and ~ separated by single / (e.g. \"account-balance/query\")";
    let path = wire.trim_matches('/');
    if path.is_empty() {
        return Err(format!("the path is empty; {FORM}"));
    }
    if let Some(c) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.~/".contains(*c)))
    {
        return Err(format!("{c:?} cannot be in it; {FORM}"));
    }
    if let Some(segment) = path
        .split('/')
        .find(|s| s.is_empty() || *s == "." || *s == "..")
    {
        let what = if segment.is_empty() {
            "it has an empty segment (//)".to_owned()
        } else {
            format!("it has a {segment:?} segment, which a client resolves away")
        };
        return Err(format!("{what}; {FORM}"));
    }
    Ok(())
}

/// No two operations answer to the same path, and no path is another operation's canonical
/// path (scenario rules and the journal still call that operation by it).
fn check_unique_wire_paths(wire_paths: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (canonical, wire) in wire_paths {
        if let Some(other) = owner.insert(wire, canonical) {
            anyhow::bail!(
                "infinia.paths: {other} and {canonical} would both be POST /api/v1/{wire}, so \
                 one of them could never be called; give each operation its own path"
            );
        }
    }
    for (canonical, wire) in wire_paths {
        if wire != canonical && wire_paths.contains_key(wire) {
            anyhow::bail!(
                "infinia.paths: {canonical:?} = {wire:?} is the canonical path of {wire}, which \
                 scenario rules and the journal still call that operation by; choose a path no \
                 other operation is called by"
            );
        }
    }
    Ok(())
}

impl Core {
    /// The Infinia apps and the path table.
    pub fn infinia(&self) -> &Infinia {
        self.surface::<Infinia>()
    }
}

/// Creates every app's tenant (or `only` that one) and posts its opening balances if its state
/// has not had them yet: at start, and at once after a reset of all state or of an app's, so
/// that `/__sim/state` and a snapshot show them before the app's first request.
pub fn ensure_tenants(
    store: &crate::store::Store,
    infinia: &Infinia,
    now: i64,
    only: Option<&TenantId>,
) {
    for id in infinia.tenants() {
        if only.is_some_and(|o| o != &id) {
            continue;
        }
        store.ensure_tenant(&id);
        if let Some(app) = infinia.apps.get(&id.id) {
            store.with_tenant(&id, |t| ensure_opened(t, &app, now));
        }
    }
}

/// Posts the opening balances once per (re)started tenant state.
/// The memo of an app's opening balances' postings.
pub(crate) const OPENING_MEMO: &str = "opening balance";

pub fn ensure_opened(state: &mut TenantState, infinia_app: &InfiniaApp, now: i64) {
    if state.infinia.opened {
        return;
    }
    state.infinia.opened = true;
    for amount in &infinia_app.opening_balances {
        if let Err(e) = state.ledger.transfer(
            now,
            OPENING_MEMO,
            FUNDING_ACCOUNT,
            PLATFORM_ACCOUNT,
            *amount,
        ) {
            tracing::error!(error = %e, "opening balance not posted");
        }
    }
}

/// Entry point for `POST /api/v1/{rest}`: served under its route name ([`Infinia::route_name`]).
pub async fn handle(core: &Core, req: SimRequest, rest: &str) -> SimResponse {
    let route = core.infinia().route_name(rest);
    pipeline::handle(&EcommerceApi, core, req, &route).await
}

/// What [`Infinia::route_name`] puts before a path no operation answers.
const UNKNOWN_PREFIX: &str = "/api/v1/";

/// Infinia's scheme: block-wise RSA with a signature, the app table and the path table.
pub struct EcommerceApi;

impl Scheme for EcommerceApi {
    const SURFACE: &'static str = "infinia";
    const BODY_REQUEST_NO: Option<&'static str> = Some("requestNo");
    const RSA_PER_BLOCK: bool = true;
    /// The appId a refusal names.
    type Echo = String;
    type Session = Session;
    type Error = InfiniaError;
    type Reply = Value;

    fn body_limit(&self, core: &Core) -> usize {
        core.infinia().apps.config.body_limit_bytes
    }

    /// The configured app the envelope's `appId` names (its JSON only scanned, nothing
    /// decrypted or verified): the CPU gate's queue for the request when it is busy.
    fn claimed_tenant<'r>(&self, core: &Core, req: &'r SimRequest) -> Option<pipeline::Claim<'r>> {
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(borrow, rename = "appId")]
            app_id: std::borrow::Cow<'a, str>,
        }
        let id = serde_json::from_slice::<Envelope>(&req.body).ok()?.app_id;
        core.infinia().apps.get(&id)?;
        Some(pipeline::Claim {
            provider: Provider::Infinia,
            id,
        })
    }

    /// The path is checked before anything in the body, its size included: an unknown path
    /// is 404 `SYS-002` whatever the body (docs/INFINIA.md), as Pockyt's is.
    fn refuses_route_first(&self, route: &str) -> bool {
        route.starts_with(UNKNOWN_PREFIX)
    }

    /// A binding or a revenue sharing whose `requestNo` is already taken answers (or refuses)
    /// by the earlier one.
    fn replays(&self, core: &Core, opened: &Opened<Session>) -> bool {
        let Some(request_no) = opened.body.get("requestNo").and_then(Value::as_str) else {
            return false;
        };
        let taken = |t: &crate::store::TenantState| match opened.operation {
            "account-binding/request" => t.infinia.bindings.contains_key(request_no),
            "revenue-sharing/request" => t.infinia.sharings.contains_key(request_no),
            _ => false,
        };
        core.with_tenant(&opened.tenant, |t| taken(t))
            .unwrap_or(false)
    }

    /// `route` is the request's route name ([`Infinia::route_name`]): an operation's canonical
    /// path, or `/api/v1/{path}` for a path no operation answers.
    async fn open(
        &self,
        core: &Core,
        req: &SimRequest,
        route: &str,
        echo: &mut String,
        trace: &mut Trace,
    ) -> Result<Opened<Session>, Refusal<InfiniaError>> {
        let infinia = core.infinia();
        let config = &infinia.apps.config;
        // The envelope is read (no key work) for what a refusal echoes and the journal shows;
        // its problems, and an unknown appId, are refused only after the path: an unknown path
        // is 404 whatever the body (docs/INFINIA.md).
        let parsed = envelope::parse_request(&req.body);
        let infinia_app = match &parsed {
            Ok(sealed) => {
                echo.clone_from(&sealed.app_id);
                trace.request = Some(journal_request(sealed, Value::from("<not decrypted>")));
                infinia.apps.get(&sealed.app_id)
            }
            Err((app_id, _)) => {
                echo.clone_from(app_id);
                None
            }
        };
        let tenant = infinia_app
            .as_ref()
            .map(|a| TenantId::new(Provider::Infinia, a.app_id.clone()));
        trace.tenant.clone_from(&tenant);
        let Some(operation) = OPERATIONS.iter().find(|op| op.name == route) else {
            return Err(Refusal::with_status(unknown_path(core, route), 404));
        };
        let sealed = parsed.map_err(|(_, err)| err)?;
        let (Some(infinia_app), Some(tenant)) = (infinia_app, tenant) else {
            return Err(InfiniaError::invalid(format!(
                "no app with appId {:?} is configured",
                sealed.app_id
            ))
            .into());
        };
        let max = config.max_request_data_chars;
        if max > 0 && sealed.request_data.len() > max {
            return Err(InfiniaError::range(format!(
                "requestData is {} characters long; at most {max} are allowed",
                sealed.request_data.len()
            ))
            .into());
        }
        let blocks = sealed.blocks(infinia.apps.infinia_key.public().size());
        if blocks > config.max_request_blocks {
            return Err(InfiniaError::new(
                Code::PayloadTooLarge,
                format!(
                    "requestData holds {blocks} RSA blocks; at most {} are accepted ([infinia] max_request_blocks)",
                    config.max_request_blocks
                ),
            )
            .into());
        }
        let plain = sealed.open_bytes(
            &infinia.apps.infinia_key,
            &infinia_app.merchant_public,
            infinia_app.alg,
        )?;
        trace.authenticated = true;
        let data = envelope::parse_data("requestData", &plain).inspect_err(|_| {
            trace.request = Some(journal_request(&sealed, pipeline::decrypted_text(&plain)));
        })?;
        trace.request = Some(data.clone());
        trace.request_no = data
            .get("requestNo")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let now = core.clock().now();
        core.with_tenant(&tenant, |t| ensure_opened(t, &infinia_app, now))
            .map_err(InfiniaError::from)?;
        Ok(Opened {
            tenant,
            operation: operation.name,
            body: data,
            request_no: None,
            session: Session {
                infinia_app,
                base_url: crate::api::base_url::base_url(
                    req,
                    core.config().platform.public_url.as_deref(),
                ),
                operation,
            },
        })
    }

    fn run(&self, ctx: &Ctx<'_>, body: &Value) -> Result<Value, InfiniaError> {
        (ctx.operation.handler)(ctx, body)
    }

    fn seal_reply(
        &self,
        core: &Core,
        _echo: &String,
        opened: &Opened<Session>,
        reply: Value,
        status: u16,
    ) -> Result<Answer, InfiniaError> {
        let apps = &core.infinia().apps;
        let infinia_app = &opened.session.infinia_app;
        let signer = apps
            .config
            .sign_responses
            .then_some((&apps.infinia_key, infinia_app.alg));
        let bytes = envelope::seal_reply(
            &infinia_app.app_id,
            Code::Success.as_str(),
            SUCCESS_MESSAGE,
            Some((&reply, &infinia_app.merchant_public)),
            signer,
        )
        .inspect_err(
            |err| tracing::error!(app = %infinia_app.app_id, error = %err, "cannot seal the reply"),
        )
        .map_err(|_| <InfiniaError as pipeline::WireError>::refused(Refused::Internal))?;
        Ok(Answer {
            response: SimResponse::json(status, bytes),
            code: Code::Success.to_string(),
            detail: SUCCESS_MESSAGE.into(),
            reply,
        })
    }

    fn seal_refusal(
        &self,
        _core: &Core,
        app_id: &String,
        err: InfiniaError,
        status: Option<u16>,
    ) -> Answer {
        let body = envelope::seal_reply(app_id, err.code.as_str(), &err.message, None, None)
            .unwrap_or_default();
        Answer {
            response: SimResponse::json(status.unwrap_or(200), body),
            reply: serde_json::json!({"code": err.code.as_str(), "message": err.message}),
            code: err.code.to_string(),
            detail: err.message,
        }
    }
}

/// The refusal of a request to a path no operation answers (`route` as [`Infinia::route_name`]
/// gives it, `/api/v1/{path}`): the path, the nearest operation, and every operation's path.
fn unknown_path(core: &Core, route: &str) -> InfiniaError {
    let path = route.strip_prefix(UNKNOWN_PREFIX).unwrap_or(route);
    let path = path.trim_matches('/');
    let known: Vec<&str> = core
        .infinia()
        .wire_paths
        .values()
        .map(String::as_str)
        .collect();
    InfiniaError::invalid(format!(
        "no operation at /api/v1/{}; {}; the operations are /api/v1/{}",
        crate::text::bound(path, 128),
        crate::api::catalog::unknown(core, "infinia", path),
        known.join(", /api/v1/")
    ))
}

/// The journal's copy of a request whose `requestData` is not (or not yet) the decrypted JSON:
/// the envelope fields that name it, and `requestData` as given (a placeholder, or the
/// decrypted text, which shows the developer what was encrypted).
fn journal_request(sealed: &envelope::SealedRequest, request_data: Value) -> Value {
    serde_json::json!({"version": sealed.version, "appId": sealed.app_id, "requestData": request_data})
}

/// Every operation's fields and example (`crate::api::describe`), by canonical path: each
/// handler run in describe mode as the first configured app, against a tenant that does not
/// exist. Empty when no app is configured.
pub fn describe(core: &Core) -> Vec<crate::api::describe::Described> {
    let Some(infinia_app) = core.infinia().apps.first() else {
        return Vec::new();
    };
    crate::api::describe::operations(core, Provider::Infinia, OPERATIONS, |operation| Session {
        infinia_app: infinia_app.clone(),
        base_url: crate::api::base_url::FALLBACK.to_owned(),
        operation,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::infinia::InfiniaConfig;

    /// A request is served under its operation's canonical name at the operation's path,
    /// renamed or not; at any other path (an operation's old path after a rename included),
    /// under the path as sent, which names no operation.
    #[test]
    fn a_path_no_operation_answers_is_named_as_sent_never_as_an_operation() {
        let mut cfg = InfiniaConfig::default();
        cfg.paths.insert(
            "account-balance/query".into(),
            "platform-balance/query".into(),
        );
        let infinia = Infinia::new(Arc::new(Apps::from_config(&cfg, None).unwrap())).unwrap();
        assert_eq!(
            infinia.route_name("platform-balance/query"),
            "account-balance/query"
        );
        assert_eq!(
            infinia.route_name("account-binding/query"),
            "account-binding/query"
        );
        for path in ["account-balance/query", "no/such"] {
            let name = infinia.route_name(path);
            assert_eq!(name, format!("/api/v1/{path}"));
            assert!(OPERATIONS.iter().all(|op| op.name != name), "{name}");
        }
    }
}
