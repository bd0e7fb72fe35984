//! The registry of seller authorization links, shared by every surface that binds a seller's
//! shop to a partner (whalet-platform and Infinia). A surface registers its decision callback
//! once; each link is an [`AuthorizationRequest`] that is single-use and expires. The registry
//! never touches a surface's state itself and renders nothing (`web::authorize` serves the
//! pages); it is generic over the context its callbacks receive so it sits below that context.
//!
//! # Interface for surfaces
//!
//! 1. At start-up: `authorizations.register_surface("infinia", my_decide, my_standing)` where
//!    `fn my_decide(core: &Core, req: &AuthorizationRequest, d: &Decision, via: &str)
//!    -> Result<Option<String>, String>` applies the seller's decision (`d.approved`,
//!    `d.reason`) to the surface's state and queues its notification, if the surface sends one,
//!    answering that notification's id (the page tells the seller whether the partner is told).
//!    An `Err(text)` leaves the link open and shows `text` to the seller. `my_standing` says how
//!    the binding behind a link stands ([`BindingStanding`]), read by the page for a link still
//!    open.
//! 2. When a partner asks for a link: `core.open_authorization(AuthorizationRequest {..})` with a
//!    fresh [`new_token`] and the link `"{base}/authorize/{token}"`. At `expires_at` a clock timer
//!    records the expiry as the decision of a link nobody decided ([`VIA_EXPIRY`], kept in
//!    snapshots and the data directory, so the link stays expired whatever clock it is loaded
//!    under) and hands it to the callback as a rejection with [`EXPIRED_REASON`] (a surface that
//!    decided by other means refuses it); the page refuses expired links itself.
//!    A link decided before then is reported to the [`Authorizations::on_decided`] hook, where
//!    the timer's owner cancels it.
//! 3. The API twin (a trigger) calls `registry.decide(core, now, token, decision, "trigger")`,
//!    which runs the same checks (unknown / used / expired link) and the same callback.

use std::collections::{HashMap, VecDeque};

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::{format, Millis};
use crate::tenant::TenantId;

/// The longest reason a seller gives: what the authorization page's reason box takes (its
/// `maxlength` is written from this constant, `web::authorize`); a rejection trigger's `reason`
/// is held to it too.
pub const MAX_REASON_CHARS: usize = 200;

/// A seller's reason for a rejection, read alike from the page's reason box and from a
/// rejection trigger's `reason` (every surface's): line breaks as one `\n` each, trimmed, none
/// when nothing is left (the surface then reports its default reason), refused over
/// [`MAX_REASON_CHARS`] characters.
///
/// Counted as the reason box counts: the box counts a line break as one character toward its
/// `maxlength`, but a form sends it as CRLF, so a `\r\n` (or a lone `\r`, which the box also
/// reads as one break) is made one `\n` before counting, and is kept so: a reason the box took
/// is never refused, and reaches the partner with the line breaks the seller typed. (The box
/// counts UTF-16 code units, so a reason it took has at most as many characters.)
pub fn seller_reason(text: &str) -> Result<Option<String>, String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let reason = text.trim();
    let chars = reason.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(format!(
            "reason {} is {chars} characters long; at most {MAX_REASON_CHARS} are allowed, as \
             in the authorization page's reason box",
            crate::text::echo(reason)
        ));
    }
    Ok(Some(reason.to_owned()).filter(|r| !r.is_empty()))
}

/// The reason a surface's callback receives when a link expires before the seller decided.
pub const EXPIRED_REASON: &str = "the authorization link expired before the seller decided";

/// The callback a surface registers: applies the seller's decision, taken `via` the page, a
/// trigger, a scenario or the link's expiry ([`VIA_EXPIRY`]), and answers the id of the
/// notification it queued for the partner, if any.
pub type DecideFn<C> =
    fn(&C, &AuthorizationRequest, &Decision, &str) -> Result<Option<String>, String>;

/// Where the binding behind a link stands in its surface's state ([`StandingFn`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingStanding {
    /// It waits for the seller.
    Waiting,
    /// It ended without the link (a snapshot or data directory may hold a link left open beside
    /// a decided binding): approved or not, when, and whether by the link's expiry.
    Ended {
        approved: bool,
        at: Option<Millis>,
        expired: bool,
    },
    /// The surface holds no binding for this link any more.
    Gone,
}

/// The callback a surface registers beside [`DecideFn`]: how the binding behind a link stands,
/// so the page never offers a login whose decision the surface would refuse.
pub type StandingFn<C> = fn(&C, &AuthorizationRequest) -> BindingStanding;

/// What a surface registers: how it applies a decision, and how a link's binding stands.
type Callbacks<C> = (DecideFn<C>, StandingFn<C>);

/// Called once a link is decided (on the page, by a trigger or a scenario) and the surface
/// applied it: the owner of the link's expiry timer cancels it there, so a decided link leaves
/// no pending timer behind (counted as pending, and a no-op when it falls due).
pub type DecidedFn<C> = fn(&C, &AuthorizationRequest);

/// A decision the surface applied: the link, and the notification queued for the partner
/// (`None` when the surface, its configuration or a scenario that suppresses the notification
/// leaves the partner to learn it through its query).
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub request: AuthorizationRequest,
    pub notification: Option<String>,
}

/// How a decision was taken when the link expired.
pub const VIA_EXPIRY: &str = "expiry";

/// The shop being bound, as shown to the seller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopDetails {
    pub id: String,
    pub name: String,
    pub url: Option<String>,
}

/// One authorization waiting for a seller, as the surface opens it and as it is kept (snapshots,
/// the data directory's `authorizations` table: [`LinkRecord`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationRequest {
    /// Unguessable, single-use; the link is `/authorize/{token}`.
    pub token: String,
    /// The registered surface whose callback decides (`platform`, `infinia`).
    pub surface: String,
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
    decided: Option<DecidedRecord>,
    /// The link's login sessions, oldest first: at most the `keep` of the newest login
    /// ([`Authorizations::log_in`]), so a client logging in again and again neither grows the
    /// registry nor the scan of [`Authorizations::has_session`].
    sessions: VecDeque<String>,
    /// The decision taken on the page: the seller's session that took it and the notification
    /// the surface queued, for the page that shows the result ([`Authorizations::outcome`]).
    /// Not kept, as sessions are not.
    outcome: Option<(String, Option<String>)>,
}

/// The registry of links and surface callbacks, generic over the context `C` the callbacks
/// receive (the simulator's `Core`). Held by the core.
pub struct Authorizations<C> {
    entries: Mutex<HashMap<String, Entry>>,
    /// Counts changes to the links (the data directory writes them when it moved).
    version: std::sync::atomic::AtomicU64,
    surfaces: RwLock<HashMap<&'static str, Callbacks<C>>>,
    /// Told of every decided link ([`Authorizations::on_decided`]).
    decided: RwLock<Option<DecidedFn<C>>>,
    login: String,
    password: String,
}

/// A fresh unguessable token (128 random bits, hex).
pub fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl<C> Authorizations<C> {
    /// `login` / `password`: the simulated seller credentials shown on the page.
    pub fn new(login: &str, password: &str) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            version: std::sync::atomic::AtomicU64::new(0),
            surfaces: RwLock::new(HashMap::new()),
            decided: RwLock::new(None),
            login: login.to_owned(),
            password: password.to_owned(),
        }
    }

    pub fn register_surface(
        &self,
        surface: &'static str,
        decide: DecideFn<C>,
        standing: StandingFn<C>,
    ) {
        self.surfaces.write().insert(surface, (decide, standing));
    }

    /// The decision callback of `surface`, if one is registered.
    fn decider(&self, surface: &str) -> Option<DecideFn<C>> {
        self.surfaces.read().get(surface).map(|s| s.0)
    }

    /// How the binding behind `request` stands, by its surface's callback (None: no surface of
    /// that name is registered).
    pub fn binding_standing(
        &self,
        ctx: &C,
        request: &AuthorizationRequest,
    ) -> Option<BindingStanding> {
        let standing = self
            .surfaces
            .read()
            .get(request.surface.as_str())
            .map(|s| s.1)?;
        Some(standing(ctx, request))
    }

    /// Sets what runs after every decision a surface applied (the core cancels the link's
    /// expiry timer: the registry, below the core, knows no clock). Not for an expiry itself.
    pub fn on_decided(&self, hook: DecidedFn<C>) {
        *self.decided.write() = Some(hook);
    }

    /// Opens a link. The caller schedules [`Authorizations::expire`] at `request.expires_at`.
    pub fn insert(&self, request: AuthorizationRequest) {
        self.bump();
        self.entries.lock().insert(
            request.token.clone(),
            Entry {
                request,
                decided: None,
                sessions: VecDeque::new(),
                outcome: None,
            },
        );
    }

    /// At a link's expiry: if nobody decided, the expiry is recorded as the link's decision
    /// (a rejection [`VIA_EXPIRY`] at `expires_at`), so the link reads as expired even when it is
    /// loaded under an earlier clock (a snapshot, a data directory), and the surface gets a
    /// rejection with [`EXPIRED_REASON`]. A surface that decided the binding by other means
    /// refuses that; the link is expired all the same.
    pub fn expire(&self, ctx: &C, token: &str) {
        let request = {
            let mut entries = self.entries.lock();
            match entries.get_mut(token) {
                Some(entry) if entry.decided.is_none() => {
                    entry.decided = Some(DecidedRecord {
                        approved: false,
                        at: entry.request.expires_at,
                        via: VIA_EXPIRY.to_owned(),
                    });
                    entry.request.clone()
                }
                _ => return,
            }
        };
        self.bump();
        let callback = self.decider(&request.surface);
        if let Some(decide) = callback {
            let expired = Decision {
                approved: false,
                reason: Some(EXPIRED_REASON.to_owned()),
            };
            // A surface that already decided by other means (a trigger, a scenario) refuses.
            let _ = decide(ctx, &request, &expired, VIA_EXPIRY);
        }
    }

    /// The request and where its link stands at `now`.
    pub fn get(&self, token: &str, now: Millis) -> Option<(AuthorizationRequest, LinkState)> {
        let entries = self.entries.lock();
        let entry = entries.get(token)?;
        Some((entry.request.clone(), state_of(entry, now)))
    }

    /// The simulated seller's login and password, shown on the page.
    pub fn credentials(&self) -> (&str, &str) {
        (&self.login, &self.password)
    }

    /// Checks the demo credentials; a session id for the decision form on success. The link
    /// keeps the `keep` newest sessions (`[platform] max_seller_sessions`, at least 1): a login
    /// past them ends the oldest, whose page then asks to log in again.
    pub fn log_in(&self, token: &str, login: &str, password: &str, keep: usize) -> Option<String> {
        if login.trim() != self.login || password != self.password {
            return None;
        }
        let session = new_token();
        let mut entries = self.entries.lock();
        let entry = entries.get_mut(token)?;
        entry.sessions.push_back(session.clone());
        while entry.sessions.len() > keep.max(1) {
            entry.sessions.pop_front();
        }
        Some(session)
    }

    /// Whether `session` is one of the link's login sessions: a scan of at most the sessions
    /// [`Authorizations::log_in`] keeps.
    pub fn has_session(&self, token: &str, session: &str) -> bool {
        self.entries
            .lock()
            .get(token)
            .is_some_and(|e| e.sessions.iter().any(|s| s == session))
    }

    /// [`Authorizations::decide`] on the page, by the seller logged in as `session`: the result
    /// is kept for that session ([`Authorizations::outcome`]), for the page the seller is sent
    /// to after the decision.
    pub fn decide_on_page(
        &self,
        ctx: &C,
        now: Millis,
        token: &str,
        session: &str,
        decision: Decision,
    ) -> Result<Decided, AuthorizeError> {
        let decided = self.decide(ctx, now, token, decision, "page")?;
        if let Some(entry) = self.entries.lock().get_mut(token) {
            entry.outcome = Some((session.to_owned(), decided.notification.clone()));
        }
        Ok(decided)
    }

    /// The decision the seller logged in as `session` took on the page, if it was this one's.
    pub fn outcome(&self, token: &str, session: &str) -> Option<Decided> {
        let entries = self.entries.lock();
        let entry = entries.get(token)?;
        match &entry.outcome {
            Some((by, notification)) if by == session => Some(Decided {
                request: entry.request.clone(),
                notification: notification.clone(),
            }),
            _ => None,
        }
    }

    /// Takes the seller's decision: the link must be open and unexpired; the surface callback
    /// runs outside the registry lock; when it fails the link stays open.
    pub fn decide(
        &self,
        ctx: &C,
        now: Millis,
        token: &str,
        decision: Decision,
        via: &str,
    ) -> Result<Decided, AuthorizeError> {
        let request = {
            let mut entries = self.entries.lock();
            let entry = entries.get_mut(token).ok_or(AuthorizeError::Unknown)?;
            match state_of(entry, now) {
                LinkState::Open => {}
                LinkState::Expired => {
                    return Err(AuthorizeError::Expired(time_text(entry.request.expires_at)))
                }
                LinkState::Decided { approved, at, .. } => {
                    return Err(AuthorizeError::Used {
                        approved,
                        when: time_text(at),
                    })
                }
            }
            entry.decided = Some(DecidedRecord {
                approved: decision.approved,
                at: now,
                via: via.to_owned(),
            });
            entry.request.clone()
        };
        self.bump();
        let callback = self.decider(&request.surface);
        let result = match callback {
            Some(decide) => decide(ctx, &request, &decision, via),
            None => Err(format!("no surface {:?} is registered", request.surface)),
        };
        match result {
            Ok(notification) => {
                let hook = *self.decided.read();
                if let Some(decided) = hook {
                    decided(ctx, &request);
                }
                Ok(Decided {
                    request,
                    notification,
                })
            }
            Err(e) => {
                if let Some(entry) = self.entries.lock().get_mut(token) {
                    entry.decided = None;
                }
                self.bump();
                Err(AuthorizeError::Surface(e))
            }
        }
    }

    /// Forgets every link (control-plane reset).
    pub fn clear(&self) {
        self.entries.lock().clear();
        self.bump();
    }

    /// Forgets the links of one tenant (control-plane reset of that tenant).
    pub fn clear_tenant(&self, tenant: &TenantId) {
        self.entries
            .lock()
            .retain(|_, e| &e.request.tenant != tenant);
        self.bump();
    }

    fn bump(&self) {
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Counts every change to the links.
    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Every link (or one tenant's) as data, by token. Login sessions are not kept: a seller
    /// logs in again.
    pub fn export(&self, tenant: Option<&TenantId>) -> Vec<LinkRecord> {
        let mut out: Vec<LinkRecord> = self
            .entries
            .lock()
            .values()
            .filter(|e| tenant.is_none_or(|t| &e.request.tenant == t))
            .map(|e| LinkRecord {
                request: e.request.clone(),
                decided: e.decided.clone(),
                unknown: Map::new(),
            })
            .collect();
        out.sort_by(|a, b| a.request.token.cmp(&b.request.token));
        out
    }

    /// Checks links before an import: each tenant reads as `provider:id` and each surface is
    /// registered.
    pub fn check(&self, records: &[LinkRecord]) -> Result<(), String> {
        self.entries_of(records.to_vec()).map(|_| ())
    }

    fn entries_of(&self, records: Vec<LinkRecord>) -> Result<Vec<Entry>, String> {
        let surfaces = self.surfaces.read();
        let mut entries = Vec::new();
        for r in records {
            let token = &r.request.token;
            if let Some(field) = r.unknown.keys().next() {
                return Err(format!(
                    "authorization link {token}: unknown field `{field}`"
                ));
            }
            if let Some(d) = r
                .decided
                .as_ref()
                .filter(|d| d.via == VIA_EXPIRY && d.approved)
            {
                return Err(format!(
                    "authorization link {token}: decided.via {:?} is a rejection; approved must be false",
                    d.via
                ));
            }
            if !surfaces.contains_key(r.request.surface.as_str()) {
                return Err(format!(
                    "authorization link {token}: no surface {:?}",
                    r.request.surface
                ));
            }
            entries.push(Entry {
                request: r.request,
                decided: r.decided,
                sessions: VecDeque::new(),
                outcome: None,
            });
        }
        Ok(entries)
    }

    /// Puts links back (a snapshot import, a restart), after checking every one
    /// ([`Authorizations::check`]). Nothing changes when refused.
    pub fn import(&self, records: Vec<LinkRecord>) -> Result<usize, String> {
        let entries = self.entries_of(records)?;
        let count = entries.len();
        let mut map = self.entries.lock();
        for entry in entries {
            map.insert(entry.request.token.clone(), entry);
        }
        drop(map);
        self.bump();
        Ok(count)
    }
}

/// One authorization link as data (snapshots, the data directory's `authorizations` table): the
/// request's fields and its decision, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkRecord {
    #[serde(flatten)]
    pub request: AuthorizationRequest,
    /// The decision taken, if any.
    pub decided: Option<DecidedRecord>,
    /// Fields neither of the above knows: an import refuses a link that has any (serde cannot
    /// deny unknown fields through a flattened struct, so they are collected here).
    #[serde(flatten, skip_serializing)]
    pub unknown: Map<String, Value>,
}

/// A link's decision: approved or not, when, and how (`page`, `trigger`, `scenario`, or `expiry`:
/// the link expired undecided, a rejection at `expiresAt`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecidedRecord {
    pub approved: bool,
    pub at: Millis,
    pub via: String,
}

fn state_of(entry: &Entry, now: Millis) -> LinkState {
    match &entry.decided {
        Some(d) if d.via == VIA_EXPIRY => LinkState::Expired,
        Some(d) => LinkState::Decided {
            approved: d.approved,
            at: d.at,
            via: d.via.clone(),
        },
        None if now >= entry.request.expires_at => LinkState::Expired,
        None => LinkState::Open,
    }
}

/// `2025-01-01 08:30:00 (UTC+8)`: a time as the seller reads it on the page and in refusals.
pub fn time_text(ms: Millis) -> String {
    format!("{} (UTC+8)", format::china(ms))
}

#[cfg(test)]
pub(crate) mod tests {
    /// The page's reason box and every rejection trigger read a reason alike: trimmed, white
    /// space alone is no reason, and no longer than the box takes.
    #[test]
    fn a_sellers_reason_is_trimmed_blank_is_none_and_long_is_refused() {
        assert_eq!(super::seller_reason("   \t\n"), Ok(None));
        assert_eq!(super::seller_reason(""), Ok(None));
        assert_eq!(
            super::seller_reason("  wrong shop \r\n"),
            Ok(Some("wrong shop".to_owned()))
        );
        let most = "é".repeat(super::MAX_REASON_CHARS);
        assert_eq!(
            super::seller_reason(&format!(" {most} ")),
            Ok(Some(most.clone()))
        );
        let e = super::seller_reason(&format!("{most}x")).unwrap_err();
        assert!(e.contains("201 characters long; at most 200"), "{e}");
        assert!(e.starts_with("reason \"éé"), "the reason echoed, cut: {e}");
    }

    /// The tester's report: the reason box counts a line break as one character, the form
    /// sends it as CRLF, and the server counted two: a 200-character reason of 66 lines the
    /// box took was refused as 266 characters long. Each line break (CRLF, or a lone CR as the
    /// box reads it) counts once and is kept as `\n`.
    #[test]
    fn a_line_break_counts_once_as_in_the_reason_box() {
        // "ab⏎" typed until the box is full: 66 × 3 + "ab" = 200 characters in the box.
        let typed = format!("{}ab", "ab\n".repeat(66));
        assert_eq!(typed.chars().count(), super::MAX_REASON_CHARS);
        let sent = typed.replace('\n', "\r\n");
        assert_eq!(super::seller_reason(&sent), Ok(Some(typed.clone())));
        assert_eq!(
            super::seller_reason("line\rline\r\nline"),
            Ok(Some("line\nline\nline".to_owned()))
        );
        let e = super::seller_reason(&format!("{sent}x")).unwrap_err();
        assert!(e.contains("201 characters long; at most 200"), "{e}");
    }

    use super::*;
    use crate::tenant::Provider;

    fn approve(
        _: &(),
        _: &AuthorizationRequest,
        _: &Decision,
        _: &str,
    ) -> Result<Option<String>, String> {
        Ok(None)
    }

    fn registry() -> Authorizations<()> {
        let r = Authorizations::new("seller", "secret");
        r.register_surface("platform", approve, |_, _| BindingStanding::Waiting);
        r
    }

    /// A platform binding link of the demo partner (shared with the page's tests).
    pub(crate) fn link(token: &str) -> AuthorizationRequest {
        AuthorizationRequest {
            token: token.into(),
            surface: "platform".into(),
            provider_name: "Whalet".into(),
            tenant: TenantId::new(Provider::Whalet, "202400000000001"),
            business_id: "B1".into(),
            partner_name: "Marketplace".into(),
            shop: ShopDetails {
                id: "S1".into(),
                name: "Shop".into(),
                url: None,
            },
            legal_entity: vec![("Name".into(), "ACME".into())],
            expires_at: 1_000,
            backlink_url: Some("https://example.test/back".into()),
        }
    }

    fn refuse(
        _: &Mutex<Vec<String>>,
        _: &AuthorizationRequest,
        _: &Decision,
        _: &str,
    ) -> Result<Option<String>, String> {
        Err("the binding is gone".into())
    }

    fn accept(
        _: &Mutex<Vec<String>>,
        _: &AuthorizationRequest,
        _: &Decision,
        _: &str,
    ) -> Result<Option<String>, String> {
        Ok(None)
    }

    /// The tester's report (round 55): every login added a session to the link and none was
    /// ever dropped, so a client logging in again and again grew the registry and the scan of
    /// every page view under its lock without bound. The link keeps the newest `keep`.
    #[test]
    fn a_link_keeps_only_its_newest_sessions() {
        let r = registry();
        r.insert(link("t1"));
        r.insert(link("t2"));
        let sessions: Vec<String> = (0..5)
            .map(|_| r.log_in("t1", "seller", "secret", 3).unwrap())
            .collect();
        let live: Vec<bool> = sessions.iter().map(|s| r.has_session("t1", s)).collect();
        assert_eq!(live, [false, false, true, true, true]);
        assert_eq!(r.entries.lock()["t1"].sessions.len(), 3);
        // Another link's sessions are its own; a wrong password or an unknown link adds none.
        let other = r.log_in("t2", " seller ", "secret", 3).unwrap();
        assert!(r.has_session("t2", &other) && !r.has_session("t1", &other));
        assert_eq!(r.log_in("t1", "seller", "wrong", 3), None);
        assert_eq!(r.log_in("t9", "seller", "secret", 3), None);
        assert!(r.has_session("t1", &sessions[2]));
        // At least the newest session is kept, whatever `keep` says.
        let newest = r.log_in("t1", "seller", "secret", 0).unwrap();
        assert!(r.has_session("t1", &newest) && !r.has_session("t1", &sessions[4]));
    }

    /// The hook hears of every decision applied (so the expiry timer is cancelled), not of one
    /// the surface refused (the link stays open and its expiry still counts) nor of an expiry.
    #[test]
    fn a_decided_link_is_reported_once_applied() {
        let r: Authorizations<Mutex<Vec<String>>> = Authorizations::new("seller", "secret");
        r.register_surface("platform", accept, |_, _| BindingStanding::Waiting);
        r.register_surface("infinia", refuse, |_, _| BindingStanding::Waiting);
        r.on_decided(|heard, request| heard.lock().push(request.token.clone()));
        let heard = Mutex::new(Vec::new());
        let approve = || Decision {
            approved: true,
            reason: None,
        };
        r.insert(link("t1"));
        r.insert(AuthorizationRequest {
            surface: "infinia".into(),
            ..link("t2")
        });
        r.insert(link("t3"));
        r.decide(&heard, 10, "t1", approve(), "page").unwrap();
        assert!(r.decide(&heard, 10, "t2", approve(), "trigger").is_err());
        r.expire(&heard, "t3");
        assert_eq!(*heard.lock(), ["t1"]);
    }

    /// Regression: the expiry was not recorded, so a link loaded under an earlier clock (a
    /// snapshot) was open again, though its binding had failed. It is the link's decision now,
    /// kept in its JSON, also when the surface refuses the expiry (decided by other means).
    #[test]
    fn an_expired_link_stays_expired_under_an_earlier_clock() {
        let r: Authorizations<Mutex<Vec<String>>> = Authorizations::new("seller", "secret");
        r.register_surface("platform", refuse, |_, _| BindingStanding::Waiting);
        r.insert(link("t1"));
        r.expire(&Mutex::new(Vec::new()), "t1");
        assert_eq!(r.get("t1", 10).map(|(_, s)| s), Some(LinkState::Expired));
        let json = serde_json::to_value(r.export(None)).unwrap();
        assert_eq!(json[0]["decided"]["via"], VIA_EXPIRY, "{json}");
        assert_eq!(json[0]["decided"]["approved"], false, "{json}");

        let to = registry();
        to.import(serde_json::from_value(json.clone()).unwrap())
            .unwrap();
        assert_eq!(to.get("t1", 0).map(|(_, s)| s), Some(LinkState::Expired));
        let approve = Decision {
            approved: true,
            reason: None,
        };
        assert!(matches!(
            to.decide(&(), 0, "t1", approve, "page"),
            Err(AuthorizeError::Expired(_))
        ));

        let mut approved = json;
        approved[0]["decided"]["approved"] = true.into();
        let records: Vec<LinkRecord> = serde_json::from_value(approved).unwrap();
        assert_eq!(
            registry().import(records).unwrap_err(),
            "authorization link t1: decided.via \"expiry\" is a rejection; approved must be false"
        );
    }

    #[test]
    fn links_survive_their_json_and_an_import_refuses_what_it_does_not_know() {
        let from = registry();
        from.insert(link("t1"));
        from.insert(link("t2"));
        from.decide(
            &(),
            10,
            "t2",
            Decision {
                approved: true,
                reason: None,
            },
            "page",
        )
        .unwrap();
        let json = serde_json::to_value(from.export(None)).unwrap();
        assert_eq!(json[1]["tenant"], "whalet:202400000000001", "{json}");
        assert_eq!(json[1]["decided"]["via"], "page", "{json}");

        let to = registry();
        let records: Vec<LinkRecord> = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(to.import(records).unwrap(), 2);
        assert_eq!(to.export(None), from.export(None));

        let mut typo = json.clone();
        typo[0]["backlinkURL"] = "https://example.test/x".into();
        let records: Vec<LinkRecord> = serde_json::from_value(typo).unwrap();
        assert_eq!(
            registry().import(records).unwrap_err(),
            "authorization link t1: unknown field `backlinkURL`"
        );

        let mut elsewhere = json.clone();
        elsewhere[0]["surface"] = "nowhere".into();
        let records: Vec<LinkRecord> = serde_json::from_value(elsewhere).unwrap();
        assert_eq!(
            registry().import(records).unwrap_err(),
            "authorization link t1: no surface \"nowhere\""
        );

        let mut stranger = json;
        stranger[0]["tenant"] = "acme:1".into();
        let refused = serde_json::from_value::<Vec<LinkRecord>>(stranger).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("tenant \"acme:1\" is not provider:id"),
            "{refused}"
        );
    }
}
