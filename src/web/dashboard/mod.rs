//! The dashboard: the people's view of the `/__sim/` control plane, served at `/` and
//! `/__sim/ui/...`. The server renders each page's shell (title, navigation, the view's name);
//! a little script beside it fills the view from the control plane's JSON API and polls it for
//! live updates. The browser uses only `/__sim/` endpoints, so everything the page shows and does
//! is also scriptable. No external assets and no build step: the HTML, CSS and JS are files in
//! this directory, embedded with `include_str!`.

use crate::clock::{MAX_SCALE, MIN_SCALE};
use crate::config::platform::PlatformAuth;
use crate::core::Core;
use crate::http::{SimRequest, SimResponse};
use crate::web::{escape, fill};

/// Where the dashboard lives (besides `/`).
pub const UI_PREFIX: &str = "/__sim/ui";

const SHELL: &str = include_str!("index.html");

/// Static assets: name → (content type, text).
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "text/css;charset=UTF-8", include_str!("app.css")),
    (
        "core.js",
        "text/javascript;charset=UTF-8",
        include_str!("core.js"),
    ),
    (
        "requests.js",
        "text/javascript;charset=UTF-8",
        include_str!("requests.js"),
    ),
    (
        "notifications.js",
        "text/javascript;charset=UTF-8",
        include_str!("notifications.js"),
    ),
    (
        "tenants.js",
        "text/javascript;charset=UTF-8",
        include_str!("tenants.js"),
    ),
    (
        "clock.js",
        "text/javascript;charset=UTF-8",
        include_str!("clock.js"),
    ),
    (
        "triggers.js",
        "text/javascript;charset=UTF-8",
        include_str!("triggers.js"),
    ),
    (
        "coverage.js",
        "text/javascript;charset=UTF-8",
        include_str!("coverage.js"),
    ),
];

/// One view of the dashboard.
struct View {
    slug: &'static str,
    title: &'static str,
    lede: &'static str,
}

const VIEWS: &[View] = &[
    View {
        slug: "requests",
        title: "Requests",
        lede: "Every request the simulator answered, decrypted, with its reply and what to fix when it failed.",
    },
    View {
        slug: "notifications",
        title: "Notifications",
        lede: "Notifications sent to your notify URL: every attempt, what your server answered, and Resend.",
    },
    View {
        slug: "tenants",
        title: "Tenants",
        lede: "Each provider account with its entities, balances and the ledger check.",
    },
    View {
        slug: "clock",
        title: "Clock & scenarios",
        lede: "Virtual time drives retries and asynchronous results. Advance it to make them happen now.",
    },
    View {
        slug: "triggers",
        title: "Triggers",
        lede: "Fire the events that happen outside your integration: a collection arrives, a seller approves.",
    },
    View {
        slug: "coverage",
        title: "Coverage",
        lede: "What your test run exercised of every outcome, notification behaviour and state change the simulator can produce, and how to provoke the rest.",
    },
];

/// True when this path belongs to the dashboard (checked before the control plane).
pub fn owns(path: &str) -> bool {
    path == "/"
        || path == UI_PREFIX
        || path
            .strip_prefix(UI_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Serves a dashboard page or asset. A page carries what its script needs to know of `core`'s
/// configuration: how `/v1/platform/{op}` authenticates (`data-platform-auth`: "Send it again"
/// offers `whalet-sim call` for the envelope, curl for `[platform] auth = "none"`).
pub fn handle(core: &Core, req: &SimRequest) -> SimResponse {
    let auth = platform_auth_text(core.config().platform.auth);
    if req.method != "GET" && req.method != "HEAD" {
        return SimResponse::text(405, "the dashboard only answers GET")
            .header("allow", "GET, HEAD");
    }
    let rest = req
        .path
        .strip_prefix(UI_PREFIX)
        .unwrap_or("")
        .trim_matches('/');
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => page(&VIEWS[0], None, auth),
        ["assets", name] => asset(name),
        [slug] | [slug, _] => match VIEWS.iter().find(|v| v.slug == *slug) {
            Some(view) => page(view, segments.get(1).copied(), auth),
            None => not_found(&req.path),
        },
        _ => not_found(&req.path),
    }
}

fn asset(name: &str) -> SimResponse {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, text)) => secure(SimResponse::with_type(200, content_type, *text))
            .header("cache-control", "no-cache"),
        None => SimResponse::text(
            404,
            format!("no dashboard asset {}", crate::text::echo(name)),
        ),
    }
}

/// Renders the shell of one view (with the clock's scale bounds, so the clock view offers what
/// `POST /__sim/clock` accepts); `item` selects a request or notification (deep link);
/// `auth`: what `data-platform-auth` says.
fn page(view: &View, item: Option<&str>, auth: &str) -> SimResponse {
    secure(SimResponse::html(
        200,
        render(view.slug, view.title, view.lede, item.unwrap_or(""), auth),
    ))
    .header("cache-control", "no-cache")
}

fn not_found(path: &str) -> SimResponse {
    let body = render(
        "missing",
        "Page not found",
        &format!(
            "There is no dashboard page at {}. Pick a view above.",
            crate::text::echo_bare(path)
        ),
        "",
        "",
    );
    secure(SimResponse::html(404, body))
}

/// What `data-platform-auth` says: the `[platform] auth` mode.
fn platform_auth_text(auth: PlatformAuth) -> &'static str {
    match auth {
        PlatformAuth::Whalet => "envelope",
        PlatformAuth::None => "none",
    }
}

fn render(slug: &str, title: &str, lede: &str, item: &str, auth: &str) -> String {
    let nav: String = VIEWS
        .iter()
        .map(|v| {
            let current = if v.slug == slug {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!(
                "<a href=\"{UI_PREFIX}/{slug}\"{current} data-tab=\"{slug}\">{title}<span class=\"count\" data-count=\"{slug}\"></span></a>",
                slug = v.slug,
                title = escape(v.title)
            )
        })
        .collect();
    let mut scripts = String::from("<script src=\"/__sim/ui/assets/core.js\" defer></script>");
    if VIEWS.iter().any(|v| v.slug == slug) {
        scripts.push_str(&format!(
            "<script src=\"{UI_PREFIX}/assets/{slug}.js\" defer></script>"
        ));
    }
    let (min_scale, max_scale) = (MIN_SCALE.to_string(), MAX_SCALE.to_string());
    fill(
        SHELL,
        &[
            ("min_scale", &min_scale),
            ("max_scale", &max_scale),
            ("scripts", &scripts),
            ("nav", &nav),
            ("title", &escape(title)),
            ("lede", &escape(lede)),
            ("view", &escape(slug)),
            ("item", &escape(item)),
            ("platform_auth", auth),
        ],
    )
}

/// No external anything: scripts, styles and connections only to this origin.
fn secure(response: SimResponse) -> SimResponse {
    response
        .header(
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        )
        .header("x-content-type-options", "nosniff")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owns_the_root_and_the_ui_prefix_only() {
        assert!(owns("/"));
        assert!(owns("/__sim/ui"));
        assert!(owns("/__sim/ui/requests/3"));
        assert!(!owns("/__sim/uix"));
        assert!(!owns("/__sim/requests"));
        assert!(!owns("/api"));
    }

    #[test]
    fn every_view_renders_with_its_tab_marked_current() {
        for view in VIEWS {
            let html = render(view.slug, view.title, view.lede, "", "envelope");
            assert!(html.contains(&format!(
                "href=\"/__sim/ui/{}\" aria-current=\"page\"",
                view.slug
            )));
            assert!(
                !html.contains("{{"),
                "unfilled placeholder in {}",
                view.slug
            );
        }
    }

    /// A path is shown as sent: a placeholder written in it is not filled in.
    #[test]
    fn the_missing_page_shows_a_placeholder_in_the_path_as_written() {
        let page = not_found("/__sim/ui/x{{view}}{{nav}}");
        let html = String::from_utf8_lossy(page.body()).into_owned();
        assert!(
            html.contains("There is no dashboard page at /__sim/ui/x{{view}}{{nav}}."),
            "{html}"
        );
    }

    /// The clock view's scale field takes its bounds from the clock, as the API checks them.
    #[test]
    fn the_shell_carries_the_clocks_scale_bounds() {
        let html = render("clock", "Clock", "x", "", "envelope");
        assert!(html.contains("data-min-scale=\"0.000001\""), "{html}");
        assert!(html.contains("data-max-scale=\"1000000\""), "{html}");
    }

    /// The page says how `/v1/platform/{op}` authenticates, so that "Send it again" offers a
    /// command that works in that mode.
    #[test]
    fn the_shell_says_how_the_platform_authenticates() {
        let page = |auth| {
            let html = render("requests", "Requests", "x", "", platform_auth_text(auth));
            let at = html.find("data-platform-auth=\"").expect("the attribute") + 20;
            html[at..at + html[at..].find('"').unwrap()].to_owned()
        };
        assert_eq!(page(PlatformAuth::None), "none");
        assert_eq!(page(PlatformAuth::Whalet), "envelope");
    }

    #[test]
    fn the_item_is_escaped() {
        let html = render("requests", "Requests", "x", "\"><script>", "envelope");
        assert!(!html.contains("\"><script>"));
    }
}
