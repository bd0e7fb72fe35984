//! Who may drive the control plane and read the dashboard. Both speak for the whole simulator
//! (reset, triggers, the decrypted journal), so two browser attacks are refused:
//! - DNS rebinding: a request whose `Host` is not a name of this simulator (loopback names, the
//!   address it is bound to, or `[server] allowed_hosts`) is refused, so a page on another
//!   domain that resolves to 127.0.0.1 cannot read the journal;
//! - cross-site requests: a state-changing request that carries an `Origin` other than the
//!   simulator's own is refused, so a page on another origin cannot reset state or fire
//!   triggers (browsers send `Origin` even with `no-cors`). Clients that are not browsers
//!   (curl, the CLI, test suites) send no `Origin` and are not affected.
//!
//! And, when an admin token is set (`[server] admin_token`, `serve --admin-token`,
//! `WHALET_SIM_ADMIN_TOKEN`), every control-plane request must carry it: the header
//! `Authorization: Bearer <token>`, or the cookie the dashboard sets when it is opened once as
//! `/?token=<token>` (HttpOnly, SameSite=Strict, path `/__sim/`). The dashboard's pages and
//! assets themselves stay open (they hold no data, nor the configuration: their script reads
//! that from `/__sim/ui/facts`, which needs the token); `GET /__sim/health` too. Tokens are
//! compared in constant time and never logged.

use std::net::{IpAddr, SocketAddr};

use serde_json::json;

use crate::core::Core;
use crate::http::{SimRequest, SimResponse};

/// The refusal of a request the control plane or the dashboard must not serve, if any.
pub fn refuse(core: &Core, req: &SimRequest, local: SocketAddr) -> Option<SimResponse> {
    let host = req.header("host").unwrap_or("");
    if !host.is_empty() && !host_allowed(host, local, &core.config().server.allowed_hosts) {
        return Some(forbidden(format!(
            "Host {} is not a name of this simulator; allow it with `serve --allowed-host`, WHALET_SIM_ALLOWED_HOSTS or [server] allowed_hosts to reach the control plane and dashboard by that name",
            crate::text::echo(host)
        )));
    }
    let changes_state = !matches!(req.method.as_str(), "GET" | "HEAD" | "OPTIONS");
    if let (true, Some(origin)) = (changes_state, req.header("origin")) {
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        if authority.is_empty() || !authority.eq_ignore_ascii_case(host) {
            return Some(forbidden(format!(
                "cross-site request refused: Origin {} is not this simulator (Host {})",
                crate::text::echo(origin),
                crate::text::echo(host)
            )));
        }
    }
    if changes_state {
        if let Some(refusal) = browser_body_refusal(req) {
            return Some(refusal);
        }
    }
    let expected = core.config().server.admin_token()?;
    // The configuration the pages' script reads (`dashboard::FACTS_PATH`) needs the token.
    if crate::web::dashboard::owns(&req.path)
        && !crate::web::dashboard::holds_configuration(&req.path)
    {
        return login(expected, req);
    }
    if let Err(times) = req.single_header("authorization") {
        return Some(repeated_authorization(times));
    }
    if carries_token(expected, req) {
        None
    } else {
        Some(unauthorized())
    }
}

/// A state-changing request from a browser (it sends `Origin` or `Sec-Fetch-*` headers) must be
/// same-origin by Fetch Metadata too, and carry its body as JSON (or TOML, for scenario files):
/// a body in a type a cross-site page can send without a preflight is refused with `415`.
/// Clients that are not browsers (curl, the CLI, test suites) cannot be driven by a hostile page
/// and keep sending what they like (`curl -d` sends form-urlencoded).
fn browser_body_refusal(req: &SimRequest) -> Option<SimResponse> {
    let site = req.header("sec-fetch-site");
    if let Some(site) = site {
        if !matches!(site, "same-origin" | "none") {
            return Some(forbidden(format!(
                "cross-site request refused: Sec-Fetch-Site is {}",
                crate::text::echo(site)
            )));
        }
    }
    let from_browser = req.header("origin").is_some() || sends_fetch_metadata(req);
    if !from_browser || req.body.is_empty() {
        return None;
    }
    let declared = req
        .header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // Neither is a type a cross-site page can send without a preflight.
    if declared == "application/json" || declared == "application/toml" {
        return None;
    }
    let shown = if declared.is_empty() {
        "none".to_owned()
    } else {
        crate::text::echo_bare(&declared)
    };
    Some(SimResponse::json_value(
        415,
        &json!({ "error": format!(
            "a browser must send control-plane bodies as application/json (or application/toml for scenario files), not {shown}"
        ) }),
    ))
}

/// Whether the request carries any Fetch Metadata header (`Sec-Fetch-Site`, `-Mode`, `-Dest`,
/// `-User`…): only browsers send them, and a page cannot set or remove them (the `Sec-` prefix
/// is forbidden to scripts), so any one of them marks a browser even without `Origin`.
fn sends_fetch_metadata(req: &SimRequest) -> bool {
    req.headers.iter().any(|(name, _)| {
        name.get(..10)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sec-fetch-"))
    })
}

/// The cookie that carries the admin token for the dashboard's own requests (hex of the token,
/// so any token is a valid cookie value).
pub const COOKIE: &str = "whalet_sim_admin";

/// The refusal of a request that sends `Authorization` `times` times: which one is meant is not
/// the simulator's to guess (taking the first let a request pass with a wrong second one, and
/// fail with the two swapped), as a query parameter given twice is refused.
fn repeated_authorization(times: usize) -> SimResponse {
    SimResponse::json_value(
        400,
        &json!({
            "error": format!(
                "the header Authorization is sent {times} times; send it once, as \
                 `Authorization: Bearer <token>`"
            ),
        }),
    )
}

/// The request carries the admin token, as a bearer token or in the dashboard's cookie.
fn carries_token(expected: &str, req: &SimRequest) -> bool {
    let bearer = req.header("authorization").and_then(|v| {
        let v = v.trim();
        v.get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
            .and_then(|_| v.get(7..))
            .map(str::trim)
    });
    if bearer.is_some_and(|t| same(expected.as_bytes(), t.as_bytes())) {
        return true;
    }
    req.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .filter_map(|(_, value)| hex::decode(value.trim()).ok())
        .any(|t| same(expected.as_bytes(), &t))
}

/// A dashboard page opened with `?token=`: the right token sets the cookie and redirects to the
/// same page without it (so the token leaves the address bar and the history); a wrong one is
/// refused. Without `?token=` the page is served; its requests then need the cookie.
///
/// The value is read as a URL carries it ([`token_in_query`]): percent-decoded, with `+` a plus.
fn login(expected: &str, req: &SimRequest) -> Option<SimResponse> {
    req.query_param("token")?;
    // Read as the other query parameters are: a `token` given twice is not taken from among
    // several (the first would win, whatever the second said).
    let times = req
        .query_pairs()
        .iter()
        .filter(|(k, _)| k == "token")
        .count();
    // By the name as decoded, as `query_param` found it: `tok%65n=` is the token too, and a
    // redirect that kept it would come straight back here.
    let is_token = |p: &str| {
        crate::http::query_pairs(p)
            .next()
            .is_some_and(|(k, _)| k == "token")
    };
    let pairs = || req.query.as_deref().unwrap_or("").split('&');
    let given = pairs()
        .find(|p| is_token(p))
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| token_in_query(v));
    let right = given.is_some_and(|t| same(expected.as_bytes(), &t));
    if times > 1 || !right {
        return Some(
            SimResponse::text(
                401,
                "wrong admin token; open the dashboard as /?token=<token>, the token as it is \
                 but with `&`, `#` and `%` percent-encoded (%26, %23, %25); `+` is read as a \
                 plus sign",
            )
            .header("cache-control", "no-store"),
        );
    }
    let rest: Vec<&str> = pairs().filter(|p| !p.is_empty() && !is_token(p)).collect();
    let location = if rest.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, rest.join("&"))
    };
    Some(
        SimResponse::text(303, "signed in")
            .header("location", location)
            .header(
                "set-cookie",
                format!(
                    "{COOKIE}={}; Path=/__sim/; HttpOnly; SameSite=Strict",
                    hex::encode(expected)
                ),
            )
            .header("cache-control", "no-store")
            .header("referrer-policy", "no-referrer"),
    )
}

/// The token a `?token=` value stands for, read as a URL's query is (RFC 3986): `%XX` is the
/// byte XX (`%26` is `&`, `%2B` is `+`), and `+` is a plus sign, not the space an HTML form
/// would make of it. An admin token never holds a space (refused at start), so a base64 token
/// pasted into the address bar as it is, `+` and all, is read right; a `%` not followed by two
/// hex digits is kept as it is.
fn token_in_query(value: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(value).collect()
}

fn unauthorized() -> SimResponse {
    SimResponse::json_value(
        401,
        &json!({
            "error": "this simulator requires its admin token for /__sim/: send the header `Authorization: Bearer <token>` (the CLI: --admin-token or WHALET_SIM_ADMIN_TOKEN), or open the dashboard once as /?token=<token>",
        }),
    )
    .header("www-authenticate", "Bearer realm=\"whalet-sim\"")
}

/// `expected == given`, in a time that depends only on `expected`'s length.
fn same(expected: &[u8], given: &[u8]) -> bool {
    let mut diff = u8::from(expected.len() != given.len());
    for (i, e) in expected.iter().enumerate() {
        diff |= e ^ given.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

/// `host[:port]` names this simulator.
fn host_allowed(host: &str, local: SocketAddr, allowed: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        if ip.is_loopback() || (ip == local.ip() && !local.ip().is_unspecified()) {
            return true;
        }
    }
    allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(name) || a.eq_ignore_ascii_case(host))
}

fn forbidden(message: String) -> SimResponse {
    SimResponse::json_value(403, &json!({ "error": message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dashboard page asked for with `query`.
    fn page(query: &str) -> SimRequest {
        SimRequest {
            method: "GET".into(),
            path: "/__sim/ui/".into(),
            query: Some(query.into()),
            headers: Vec::new(),
            body: bytes::Bytes::new(),
            too_large: false,
            local_addr: None,
        }
    }

    /// The redirect after a login drops the token however its name is written (a kept
    /// `tok%65n=` brought the browser straight back, for ever); a token given twice is refused.
    #[test]
    fn a_login_redirect_drops_the_token_and_a_repeated_one_is_refused() {
        let location = |query: &str| match login("s3cret", &page(query)) {
            Some(SimResponse::Reply {
                status, headers, ..
            }) => (
                status,
                headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                    .map(|(_, v)| v.clone()),
            ),
            _ => panic!("an answer"),
        };
        assert_eq!(
            location("tok%65n=s3cret&view=requests"),
            (303, Some("/__sim/ui/?view=requests".to_owned()))
        );
        assert_eq!(
            location("token=s3cret"),
            (303, Some("/__sim/ui/".to_owned()))
        );
        assert_eq!(location("token=s3cret&token=nope").0, 401);
        assert_eq!(location("token=nope&token=s3cret").0, 401);
    }

    /// Regression: a token with `+` (as `openssl rand -base64` makes) typed into the address
    /// bar as it is was refused: decoded, its `+` is a space. The value as typed counts too,
    /// as does the encoded form; a wrong one is still refused.
    #[test]
    fn a_login_takes_the_token_as_typed_or_percent_encoded() {
        let status = |query: &str| match login("ab+cd/ef=", &page(query)) {
            Some(SimResponse::Reply { status, .. }) => status,
            _ => panic!("an answer"),
        };
        assert_eq!(status("token=ab+cd/ef="), 303);
        assert_eq!(status("token=ab%2Bcd%2Fef%3D&view=requests"), 303);
        assert_eq!(status("token=ab%20cd/ef="), 401);
        assert_eq!(status("token=ab+cd/ef"), 401);
    }

    /// Regression: a token holding `+` and `&` could not be given as documented (`+` as typed,
    /// `&` as `%26`): the value was compared whole as typed, or form-decoded with `+` a space.
    /// It is read as a URL's query is, percent-decoded with `+` a plus sign.
    #[test]
    fn a_login_reads_the_token_percent_decoded_with_plus_a_plus() {
        let status = |query: &str| match login("s3cr+t&x%", &page(query)) {
            Some(SimResponse::Reply { status, .. }) => status,
            _ => panic!("an answer"),
        };
        assert_eq!(status("token=s3cr+t%26x%25"), 303);
        assert_eq!(status("token=s3cr%2Bt%26x%25"), 303);
        assert_eq!(status("token=s3cr%20t%26x%25"), 401);
        assert_eq!(status("token=s3cr+t&x%25"), 401);
        assert_eq!(token_in_query("a%zz+%2b"), b"a%zz++");
    }

    #[test]
    fn tokens_are_compared_whole() {
        assert!(same(b"s3cret", b"s3cret"));
        for given in [&b""[..], b"s3cre", b"s3cret!", b"S3cret", b"s3cres"] {
            assert!(!same(b"s3cret", given), "{given:?}");
        }
    }

    #[test]
    fn the_token_is_taken_from_the_bearer_header_or_the_cookie() {
        let req = |headers: &[(&str, &str)]| SimRequest {
            method: "GET".into(),
            path: "/__sim/requests".into(),
            query: None,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: bytes::Bytes::new(),
            too_large: false,
            local_addr: None,
        };
        let cookie = format!("a=b; {COOKIE}={}", hex::encode("s3cret"));
        assert!(carries_token(
            "s3cret",
            &req(&[("Authorization", "Bearer s3cret")])
        ));
        assert!(carries_token(
            "s3cret",
            &req(&[("authorization", "bearer  s3cret ")])
        ));
        assert!(carries_token("s3cret", &req(&[("cookie", &cookie)])));
        assert!(!carries_token("s3cret", &req(&[])));
        assert!(!carries_token(
            "s3cret",
            &req(&[("authorization", "Basic s3cret")])
        ));
        assert!(!carries_token(
            "s3cret",
            &req(&[("authorization", "Bearer nope")])
        ));
        assert!(!carries_token(
            "s3cret",
            &req(&[("cookie", "whalet_sim_admin=s3cret")])
        ));
    }

    #[test]
    fn loopback_names_the_bound_address_and_listed_names_are_allowed() {
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let none: Vec<String> = Vec::new();
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST",
            "[::1]:8080",
            "127.0.0.2",
        ] {
            assert!(host_allowed(host, local, &none), "{host}");
        }
        for host in ["evil.example:8080", "10.0.0.1:8080", "[2001:db8::1]:8080"] {
            assert!(!host_allowed(host, local, &none), "{host}");
        }
        let lan: SocketAddr = "10.0.0.1:8080".parse().unwrap();
        assert!(host_allowed("10.0.0.1:8080", lan, &none));
        let listed = vec!["sim.internal".to_owned()];
        assert!(host_allowed("sim.internal:8080", local, &listed));
        assert!(host_allowed("anything", local, &["*".to_owned()]));
    }
}
