//! The hosted seller authorization pages: the summary with the simulated seller login, the
//! consent form and the answers. The links themselves (single-use, expiring) and the surfaces'
//! decision callbacks live in the registry [`crate::authorize`]; this module only renders and
//! reads forms, and imports no surface.
//!
//! Routes: `GET /authorize/{token}` (summary + login), `POST /authorize/{token}/login` (form
//! `login`, `password`), `POST /authorize/{token}/decision` (form `session`, `decision` =
//! `approve` | `reject`, `reason`). `HEAD` answers as `GET`. A `GET` of a form's address (the
//! browser shows it after a post: a reload, a bookmark) is sent back to the link (303); another
//! method is a 405 page naming the allowed ones (`Allow`).

mod page;

use std::collections::HashMap;

pub use crate::authorize::{AuthorizationRequest, Decided, Decision, LinkState};
use crate::core::Core;
use crate::http::{query_pairs, SimRequest, SimResponse};

/// The forms a link's page posts to: `/authorize/{token}/{action}`.
const ACTIONS: &[&str] = &["login", "decision"];

/// Entry point for `/authorize/{token}[/{action}]`, any method.
pub fn handle(core: &Core, req: &SimRequest, token: &str, action: Option<&str>) -> SimResponse {
    let reading = matches!(req.method.as_str(), "GET" | "HEAD");
    let link = core.authorizations().get(token, core.clock().now());
    let brand = link
        .as_ref()
        .map_or("Whalet", |(request, _)| request.provider_name.as_str());
    match action {
        Some(action) if !ACTIONS.contains(&action) => page::message(
            404,
            brand,
            "Page not found",
            "There is no such page. Open the link you were given to continue.",
        ),
        None if !reading => page::not_allowed(brand, "GET, HEAD"),
        Some(_) if !reading && req.method != "POST" => page::not_allowed(brand, "GET, HEAD, POST"),
        _ => match link {
            Some((request, _)) if action.is_some() && reading => page::see_link(&request),
            Some((request, state)) => answer(core, req, request, state, action),
            None => page::unknown_link(),
        },
    }
}

/// A link's page (`GET`) or one of its forms (`POST`).
fn answer(
    core: &Core,
    req: &SimRequest,
    request: AuthorizationRequest,
    state: LinkState,
    action: Option<&str>,
) -> SimResponse {
    let registry = core.authorizations();
    let now = core.clock().now();
    let token = request.token.as_str();
    if let LinkState::Decided { approved, at, .. } = state {
        return page::used_link(&request, approved, at);
    }
    if state == LinkState::Expired {
        return page::expired_link(&request);
    }
    if req.too_large {
        return page::too_large(&request, core.config().server.other_body_limit_bytes);
    }
    let form: HashMap<String, String> = match std::str::from_utf8(&req.body) {
        Ok(text) => query_pairs(text).collect(),
        // Read as empty, it would answer "wrong password" about a form nobody could read.
        Err(_) if action.is_some() => return page::unreadable(&request),
        Err(_) => HashMap::new(),
    };
    let (login, password) = registry.credentials();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    match action {
        None => page::login(&request, login, password, None),
        Some("login") => match registry.log_in(token, field("login"), field("password")) {
            Some(session) => page::consent(&request, &session, login),
            None => page::login(
                &request,
                login,
                password,
                Some("The login or password is not correct. Use the demo credentials shown below."),
            ),
        },
        // The other action (`ACTIONS`): the decision.
        Some(_) => {
            if !registry.has_session(token, field("session")) {
                return page::login(
                    &request,
                    login,
                    password,
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
            let decision = Decision { approved, reason };
            // One unit of work (`crate::cut`): the decision and what the surface schedules.
            let decided = core
                .clock()
                .cut()
                .work(|| registry.decide(core, now, token, decision, "page"));
            match decided {
                Ok(decided) => page::decided(&decided, approved),
                Err(e) => {
                    page::message(409, &request.provider_name, "Not completed", &e.to_string())
                }
            }
        }
    }
}
