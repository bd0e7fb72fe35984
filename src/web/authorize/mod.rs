//! The hosted seller authorization page, shared by every surface that binds a seller's shop to a
//! partner (whalet-platform today; Infinia can hook in the same way). A surface registers an
//! [`AuthorizationRequest`] and a decision callback; this module serves the pages, the simulated
//! seller login and the single-use, expiring link. It never touches a surface's state itself.
//!
//! # Interface for surfaces
//!
//! 1. At start-up (in `App::new`):
//!    `authorizations.register_surface("infinia", my_decide)` where
//!    `fn my_decide(app: &App, req: &AuthorizationRequest, d: &Decision) -> Result<(), String>`
//!    applies the seller's decision (`d.approved`, `d.reason`) to the surface's state and sends
//!    its notification. An `Err(text)` leaves the link open and shows `text` to the seller.
//! 2. When a partner asks for a link: `app.authorizations().register(AuthorizationRequest {..})`
//!    with a fresh [`new_token`] and the link `"{base}/authorize/{token}"`. At `expires_at` a clock
//!    timer hands a link nobody decided to the callback as a rejection with [`EXPIRED_REASON`]
//!    (a surface that decided by other means refuses it); the page refuses expired links itself.
//! 3. The API twin (a trigger) calls `app.authorizations().decide(&app, token, decision, "trigger")`,
//!    which runs the same checks (unknown / used / expired link) and the same callback.
//!
//! Routes: `GET /authorize/{token}` (summary + login), `POST /authorize/{token}/login` (form
//! `login`, `password`), `POST /authorize/{token}/decision` (form `session`, `decision` =
//! `approve` | `reject`, `reason`).

mod page;

use std::collections::HashMap;

use parking_lot::{Mutex, RwLock};
use serde::Serialize;

use crate::app::App;
use crate::clock::Millis;
use crate::http::{query_pairs, SimRequest, SimResponse};
use crate::store::TenantId;

/// The reason a surface's callback receives when a link expires before the seller decided.
pub const EXPIRED_REASON: &str = "the authorization link expired before the seller decided";

/// The callback a surface registers: applies the seller's decision.
pub type DecideFn = fn(&App, &AuthorizationRequest, &Decision) -> Result<(), String>;

/// The shop being bound, as shown to the seller.
#[derive(Debug, Clone, Serialize)]
pub struct ShopDetails {
    pub id: String,
    pub name: String,
    pub url: Option<String>,
}

/// One authorization waiting for a seller.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorizationRequest {
    /// Unguessable, single-use; the link is `/authorize/{token}`.
    pub token: String,
    /// The registered surface whose callback decides (`platform`, `infinia`).
    pub surface: &'static str,
    /// Brand on the page (`Whalet`, `Infinia Pay`).
    pub provider_name: String,
    pub tenant: TenantId,
    /// The surface's own id for the request (e.g. the bindId).
    pub business_id: String,
    /// Who asks for access (the marketplace / partner).
    pub partner_name: String,
    pub shop: ShopDetails,
    /// Legal entity lines shown to the seller: (label, value).
    pub legal_entity: Vec<(String, String)>,
    pub expires_at: Millis,
    /// Where "Return to the marketplace" leads after the decision.
    pub backlink_url: Option<String>,
}

/// The seller's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub approved: bool,
    pub reason: Option<String>,
}

/// Where a link stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum LinkState {
    Open,
    Decided {
        approved: bool,
        at: Millis,
        via: String,
    },
    Expired,
}

/// Why a decision was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    #[error("no authorization link with this token")]
    Unknown,
    #[error("this link was already used: the request was {} at {when}", if *.approved { "approved" } else { "rejected" })]
    Used { approved: bool, when: String },
    #[error("this link expired at {0}")]
    Expired(String),
    #[error("{0}")]
    Surface(String),
}

struct Entry {
    request: AuthorizationRequest,
    decided: Option<(bool, Millis, String)>,
    sessions: Vec<String>,
}

/// The registry of links and surface callbacks. Held by `App`.
pub struct Authorizations {
    entries: Mutex<HashMap<String, Entry>>,
    surfaces: RwLock<HashMap<&'static str, DecideFn>>,
    login: String,
    password: String,
}

/// A fresh unguessable token (128 random bits, hex).
pub fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl Authorizations {
    /// `login` / `password`: the simulated seller credentials shown on the page.
    pub fn new(login: &str, password: &str) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            surfaces: RwLock::new(HashMap::new()),
            login: login.to_owned(),
            password: password.to_owned(),
        }
    }

    pub fn register_surface(&self, surface: &'static str, decide: DecideFn) {
        self.surfaces.write().insert(surface, decide);
    }

    /// Opens a link and schedules its expiry on the virtual clock.
    pub fn register(&self, app: &App, request: AuthorizationRequest) {
        let (token, expires_at) = (request.token.clone(), request.expires_at);
        let label = format!(
            "{}/{}.binding.expire {}",
            request.tenant, request.surface, request.business_id
        );
        self.entries.lock().insert(
            request.token.clone(),
            Entry {
                request,
                decided: None,
                sessions: Vec::new(),
            },
        );
        let app2 = app.clone();
        app.clock().schedule_at(
            expires_at,
            label,
            Box::new(move || Box::pin(async move { app2.authorizations().expire(&app2, &token) })),
        );
    }

    /// At a link's expiry: if nobody decided on the page, the surface gets a rejection with
    /// [`EXPIRED_REASON`]. The link needs no change: its state follows from the time.
    fn expire(&self, app: &App, token: &str) {
        let request = match self.entries.lock().get(token) {
            Some(entry) if entry.decided.is_none() => entry.request.clone(),
            _ => return,
        };
        let callback = self.surfaces.read().get(request.surface).copied();
        if let Some(decide) = callback {
            let expired = Decision {
                approved: false,
                reason: Some(EXPIRED_REASON.to_owned()),
            };
            // A surface that already decided by other means (a trigger, a scenario) refuses.
            let _ = decide(app, &request, &expired);
        }
    }

    /// The request and where its link stands at `now`.
    pub fn get(&self, token: &str, now: Millis) -> Option<(AuthorizationRequest, LinkState)> {
        let entries = self.entries.lock();
        let entry = entries.get(token)?;
        Some((entry.request.clone(), state_of(entry, now)))
    }

    /// Checks the demo credentials; a session id for the decision form on success.
    fn log_in(&self, token: &str, login: &str, password: &str) -> Option<String> {
        if login.trim() != self.login || password != self.password {
            return None;
        }
        let session = new_token();
        let mut entries = self.entries.lock();
        let entry = entries.get_mut(token)?;
        entry.sessions.push(session.clone());
        Some(session)
    }

    fn has_session(&self, token: &str, session: &str) -> bool {
        self.entries
            .lock()
            .get(token)
            .is_some_and(|e| e.sessions.iter().any(|s| s == session))
    }

    /// Takes the seller's decision: the link must be open and unexpired; the surface callback
    /// runs outside the registry lock; when it fails the link stays open.
    pub fn decide(
        &self,
        app: &App,
        token: &str,
        decision: Decision,
        via: &str,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        let now = app.clock().now();
        let request = {
            let mut entries = self.entries.lock();
            let entry = entries.get_mut(token).ok_or(AuthorizeError::Unknown)?;
            match state_of(entry, now) {
                LinkState::Open => {}
                LinkState::Expired => {
                    return Err(AuthorizeError::Expired(page::time_text(
                        entry.request.expires_at,
                    )))
                }
                LinkState::Decided { approved, at, .. } => {
                    return Err(AuthorizeError::Used {
                        approved,
                        when: page::time_text(at),
                    })
                }
            }
            entry.decided = Some((decision.approved, now, via.to_owned()));
            entry.request.clone()
        };
        let callback = self.surfaces.read().get(request.surface).copied();
        let result = match callback {
            Some(decide) => decide(app, &request, &decision),
            None => Err(format!("no surface {:?} is registered", request.surface)),
        };
        match result {
            Ok(()) => Ok(request),
            Err(e) => {
                if let Some(entry) = self.entries.lock().get_mut(token) {
                    entry.decided = None;
                }
                Err(AuthorizeError::Surface(e))
            }
        }
    }

    /// Forgets every link (control-plane reset).
    pub fn clear(&self) {
        self.entries.lock().clear();
    }

    /// Forgets the links of one tenant (control-plane reset of that tenant).
    pub fn clear_tenant(&self, tenant: &TenantId) {
        self.entries
            .lock()
            .retain(|_, e| &e.request.tenant != tenant);
    }
}

fn state_of(entry: &Entry, now: Millis) -> LinkState {
    match &entry.decided {
        Some((approved, at, via)) => LinkState::Decided {
            approved: *approved,
            at: *at,
            via: via.clone(),
        },
        None if now >= entry.request.expires_at => LinkState::Expired,
        None => LinkState::Open,
    }
}

/// Entry point for `/authorize/{token}[/{action}]`.
pub fn handle(app: &App, req: &SimRequest, token: &str, action: Option<&str>) -> SimResponse {
    let registry = app.authorizations();
    let now = app.clock().now();
    let Some((request, state)) = registry.get(token, now) else {
        return page::unknown_link();
    };
    if let LinkState::Decided { approved, at, .. } = state {
        return page::used_link(&request, approved, at);
    }
    if state == LinkState::Expired {
        return page::expired_link(&request);
    }
    let form: HashMap<String, String> = match std::str::from_utf8(&req.body) {
        Ok(text) => query_pairs(text).collect(),
        Err(_) => HashMap::new(),
    };
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    match (req.method.as_str(), action) {
        ("GET", None) => page::login(&request, &registry.login, &registry.password, None),
        ("POST", Some("login")) => match registry.log_in(token, field("login"), field("password")) {
            Some(session) => page::consent(&request, &session, &registry.login),
            None => page::login(
                &request,
                &registry.login,
                &registry.password,
                Some("The login or password is not correct. Use the demo credentials shown below."),
            ),
        },
        ("POST", Some("decision")) => {
            if !registry.has_session(token, field("session")) {
                return page::login(
                    &request,
                    &registry.login,
                    &registry.password,
                    Some("Your session has ended. Please log in again."),
                );
            }
            let approved = match field("decision") {
                "approve" => true,
                "reject" => false,
                other => {
                    return page::message(
                        400,
                        &request.provider_name,
                        "Unknown choice",
                        &format!("The decision {other:?} is neither approve nor reject."),
                    )
                }
            };
            let reason = Some(field("reason").trim().to_owned()).filter(|r| !r.is_empty());
            match registry.decide(app, token, Decision { approved, reason }, "page") {
                Ok(request) => page::decided(&request, approved),
                Err(e) => {
                    page::message(409, &request.provider_name, "Not completed", &e.to_string())
                }
            }
        }
        _ => page::message(
            405,
            &request.provider_name,
            "Not available",
            "Open the link you were given to continue.",
        ),
    }
}
