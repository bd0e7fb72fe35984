//! The hosted seller authorization pages: the summary with the simulated seller login, the
//! consent form and the answers. The links themselves (single-use, expiring) and the surfaces'
//! decision callbacks live in the registry [`crate::authorize`]; this module only renders and
//! reads forms, and imports no surface (it reads a binding's status from the store, to tell a
//! link whose binding was decided by other means: [`binding_standing`]).
//!
//! Routes: `GET /authorize/{token}` (where the link stands: the summary and login, the consent
//! form once logged in, or why the link can no longer be used), `POST /authorize/{token}/login`
//! (form `login`, `password`; a 303 back to the link, with the session in a cookie),
//! `POST /authorize/{token}/decision` (form `session`, `decision` = `approve` | `reject`,
//! `reason`; a 303 to `done`), `GET /authorize/{token}/done` (the result, for the seller who
//! decided; anyone else is sent back to the link). After a post the browser shows a `GET` page
//! (post-redirect-get), so Back and reload never send a form again; a form refused (a wrong
//! password, a decision the surface refused) is answered in place, and the page's script makes
//! its history entry a `GET` of the form's address, so a reload goes back to the link instead
//! of sending the form again ([`page::refused`]). `HEAD` answers as `GET`. A
//! `GET` of a form's address (a bookmark) is sent back to the link (303); another method is a
//! 405 page naming the allowed ones (`Allow`). Every address the pages give (forms, links,
//! `Location`) is relative to the page's own ([`page::Links`]), so the pages work under any
//! base, e.g. behind a proxy that serves the simulator under a path prefix.

mod page;

use std::collections::HashMap;

pub use crate::authorize::{AuthorizationRequest, Decided, Decision, LinkState};
use crate::clock::Millis;
use crate::core::Core;
use crate::http::{query_pairs, SimRequest, SimResponse};

/// The forms a link's page posts to: `/authorize/{token}/{action}`.
const FORMS: &[&str] = &["login", "decision"];
/// The page shown after the decision: `/authorize/{token}/done`.
const DONE: &str = "done";
/// The cookie that carries the seller's login session from the login to the consent page.
const SESSION_COOKIE: &str = "seller_session";

/// Where a link stands for the seller: its own state, or its binding's when that was decided
/// without the link (a snapshot whose link was left undecided).
#[derive(Debug, Clone, PartialEq)]
enum Standing {
    Open,
    Used {
        approved: bool,
        at: Option<Millis>,
    },
    Expired,
    /// The binding is no longer in its surface's state.
    Gone,
}

/// Entry point for `/authorize/{token}[/{action}]`, any method.
pub fn handle(core: &Core, req: &SimRequest, token: &str, action: Option<&str>) -> SimResponse {
    let reading = matches!(req.method.as_str(), "GET" | "HEAD");
    let link = core.authorizations().get(token, core.clock().now());
    let brand = link
        .as_ref()
        .map_or("Whalet", |(request, _)| request.provider_name.as_str());
    let form = action.is_some_and(|a| FORMS.contains(&a));
    match action {
        Some(a) if !form && a != DONE => page::message(
            404,
            brand,
            "Page not found",
            "There is no such page. Open the link you were given to continue.",
        ),
        None | Some(DONE) if !reading => page::not_allowed(brand, "GET, HEAD"),
        Some(_) if !reading && req.method != "POST" => page::not_allowed(brand, "GET, HEAD, POST"),
        _ => match link {
            Some((request, state)) => {
                let links = page::Links::new(&req.path, &request.token);
                let standing = standing(core, &request, &state);
                match action {
                    Some(DONE) => done(core, req, &request, &links, &standing),
                    Some(_) if reading => page::see_other(&request, &links.link),
                    _ => answer(core, req, request, standing, &links, action),
                }
            }
            None => page::unknown_link(),
        },
    }
}

/// The link's state; for a link still open, what its binding says.
fn standing(core: &Core, request: &AuthorizationRequest, state: &LinkState) -> Standing {
    match state {
        LinkState::Open => binding_standing(core, request).unwrap_or(Standing::Open),
        LinkState::Decided { approved, at, .. } => Standing::Used {
            approved: *approved,
            at: Some(*at),
        },
        LinkState::Expired => Standing::Expired,
    }
}

/// How the binding behind an open link stands when it no longer waits for the seller (None:
/// it waits, or no surface of its name is registered), by the surface's own callback. Every
/// decision goes through the link, but a snapshot or data directory may hold a link left open
/// beside a decided binding (one written before expiries were recorded on the link): the page
/// then shows the binding's end, never a login form whose decision the surface would refuse.
fn binding_standing(core: &Core, request: &AuthorizationRequest) -> Option<Standing> {
    use crate::authorize::BindingStanding;
    match core.authorizations().binding_standing(core, request)? {
        BindingStanding::Waiting => None,
        BindingStanding::Gone => Some(Standing::Gone),
        BindingStanding::Ended { expired: true, .. } => Some(Standing::Expired),
        BindingStanding::Ended { approved, at, .. } => Some(Standing::Used { approved, at }),
    }
}

/// The login sessions the request's cookies carry.
fn cookie_sessions(req: &SimRequest) -> impl Iterator<Item = &str> {
    req.headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, value)| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
}

/// The page after the decision: its result for the seller who took it (the session cookie);
/// anyone else, and a reload once the session is gone, is sent to the link, which says where it
/// stands.
fn done(
    core: &Core,
    req: &SimRequest,
    request: &AuthorizationRequest,
    links: &page::Links,
    standing: &Standing,
) -> SimResponse {
    let registry = core.authorizations();
    let outcome = cookie_sessions(req).find_map(|s| registry.outcome(&request.token, s));
    match (outcome, standing) {
        (Some(decided), Standing::Used { approved, .. }) => page::decided(&decided, *approved),
        _ => page::see_other(request, &links.link),
    }
}

/// A link's page (`GET`) or one of its forms (`POST`).
fn answer(
    core: &Core,
    req: &SimRequest,
    request: AuthorizationRequest,
    standing: Standing,
    links: &page::Links,
    action: Option<&str>,
) -> SimResponse {
    let registry = core.authorizations();
    let now = core.clock().now();
    let token = request.token.as_str();
    match standing {
        Standing::Used { approved, at } => return page::used_link(&request, approved, at),
        Standing::Expired => return page::expired_link(&request),
        Standing::Gone => return page::gone_link(&request),
        Standing::Open => {}
    }
    if req.too_large {
        return page::too_large(&request, links, core.config().server.other_body_limit_bytes);
    }
    let form: HashMap<String, String> = match std::str::from_utf8(&req.body) {
        Ok(text) => query_pairs(text).collect(),
        // Read as empty, it would answer "wrong password" about a form nobody could read.
        Err(_) if action.is_some() => return page::unreadable(&request, links),
        Err(_) => HashMap::new(),
    };
    let (login, password) = registry.credentials();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    match action {
        None => match cookie_sessions(req).find(|s| registry.has_session(token, s)) {
            Some(session) => page::consent(&request, links, session, login),
            None => page::login(&request, links, login, password, None),
        },
        Some("login") => match registry.log_in(
            token,
            field("login"),
            field("password"),
            core.config().platform.max_seller_sessions,
        ) {
            Some(session) => page::logged_in(&request, links, &session, SESSION_COOKIE),
            None => page::login(
                &request,
                links,
                login,
                password,
                Some("The login or password is not correct. Use the demo credentials shown below."),
            ),
        },
        // The other form (`FORMS`): the decision.
        Some(_) => {
            let session = field("session");
            if !registry.has_session(token, session) {
                return page::login(
                    &request,
                    links,
                    login,
                    password,
                    Some("Your session has ended. Please log in again."),
                );
            }
            let approved = match field("decision") {
                "approve" => true,
                "reject" => false,
                other => {
                    return page::refused(
                        &request,
                        links,
                        400,
                        "Unknown choice",
                        &format!("The decision {other:?} is neither approve nor reject."),
                    )
                }
            };
            let reason = match crate::authorize::seller_reason(field("reason")) {
                Ok(reason) => reason,
                Err(why) => {
                    return page::refused(
                        &request,
                        links,
                        400,
                        "Reason too long",
                        &format!("The {why}."),
                    )
                }
            };
            let decision = Decision { approved, reason };
            // One unit of work (`crate::cut`): the decision and what the surface schedules.
            let decided = core
                .clock()
                .cut()
                .work(|| registry.decide_on_page(core, now, token, session, decision));
            match decided {
                Ok(_) => page::see_other(&request, &links.done),
                Err(e) => page::refused(&request, links, 409, "Not completed", &e.to_string()),
            }
        }
    }
}
