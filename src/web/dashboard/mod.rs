//! The dashboard: the people's view of the `/__sim/` control plane, served at `/` and
//! `/__sim/ui/...`. The server renders each page's shell (title, navigation, the view's name);
//! a little script beside it fills the view from the control plane's JSON API and polls it for
//! live updates. The browser uses only `/__sim/` endpoints, so everything the page shows and does
//! is also scriptable. No external assets and no build step: the HTML, CSS and JS are files in
//! this directory, embedded with `include_str!`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::clock::{MAX_SCALE, MIN_SCALE};
use crate::config::infinia::DEMO_APP_ID;
use crate::config::platform::PlatformAuth;
use crate::config::pockyt::{DEMO_MERCHANT_NO, DEMO_TOKEN};
use crate::config::DEMO_PARTNER_ID;
use crate::core::Core;
use crate::http::{SimRequest, SimResponse};
use crate::money::Currency;
use crate::notify::NotificationFilter;
use crate::web::{escape, fill};
use crate::wire::crypto::SignatureHash;
use crate::wire::keys::{demo, PublicKey};

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

/// Where a page's script reads the configuration [`Facts`] when the page does not carry them
/// (an admin token is set): the one dashboard address that needs the token
/// ([`holds_configuration`]).
pub const FACTS_PATH: &str = "/__sim/ui/facts";

/// True for the dashboard address that answers configuration ([`FACTS_PATH`]): with an admin
/// token set it needs the token as the control plane does (`control::guard`), while the pages
/// and assets stay open.
pub fn holds_configuration(path: &str) -> bool {
    owns(path) && segments(path) == ["facts"]
}

/// The segments of a dashboard path after [`UI_PREFIX`], as [`handle`] reads them (empty ones
/// dropped: `/__sim/ui//facts` is the facts too, so [`holds_configuration`] reads it the same).
fn segments(path: &str) -> Vec<&str> {
    path.strip_prefix(UI_PREFIX)
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// True when this path belongs to the dashboard (checked before the control plane).
pub fn owns(path: &str) -> bool {
    path == "/"
        || path == UI_PREFIX
        || path
            .strip_prefix(UI_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Serves a dashboard page or asset. A page carries what its script needs to know of `core`'s
/// configuration, as data attributes of its `<body>` ([`Facts`]), so that the commands it offers
/// ("Send it again", a trigger's CLI line) work on this simulator; with an admin token set the
/// page carries none of it and its script reads it from [`FACTS_PATH`], which needs the token.
pub fn handle(core: &Core, req: &SimRequest) -> SimResponse {
    if req.method != "GET" && req.method != "HEAD" {
        return SimResponse::text(405, "the dashboard only answers GET")
            .header("allow", "GET, HEAD");
    }
    let segments = segments(&req.path);
    match segments.as_slice() {
        [] => page(&VIEWS[0], None, &Facts::for_page(core)),
        ["assets", name] => asset(name),
        ["facts"] => SimResponse::json_value(200, &Facts::of(core).configuration())
            .header("cache-control", "no-store"),
        [slug] | [slug, _] => match VIEWS.iter().find(|v| v.slug == *slug) {
            Some(view) => page(view, segments.get(1).copied(), &Facts::for_page(core)),
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
/// `POST /__sim/clock` accepts); `item` selects a request or notification (deep link: a
/// notification named by its number, `42`, is given as its id, `ntf_000042`, as the rows are
/// keyed, read as `GET /__sim/notifications/{id}` reads it); `facts`: the data attributes.
fn page(view: &View, item: Option<&str>, facts: &Facts) -> SimResponse {
    let item = item.unwrap_or("");
    let item = match view.slug {
        "notifications" => NotificationFilter::id_asked(item).unwrap_or_else(|| item.to_owned()),
        _ => item.to_owned(),
    };
    secure(SimResponse::html(
        200,
        render(view.slug, view.title, view.lede, &item, facts),
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
        &Facts::default(),
    );
    secure(SimResponse::html(404, body))
}

/// What the page's script must know of the configuration for the commands it offers to work on
/// this simulator: the data attributes of every page's `<body>`, read by core.js (`Dash.fact`).
/// What they give is configuration, never a secret: no key, token or admin token. With an admin
/// token set, the configuration itself (the platform's auth mode, the demo tenants, the renamed
/// operations, the SHA1 apps) is kept behind it as the rest of the configuration is: the page
/// carries only `data-facts` ([`FACTS_PATH`]), where its script reads the rest
/// ([`Facts::configuration`]) with the token's cookie.
#[derive(Debug, Default)]
struct Facts {
    /// `data-facts`: where the script reads the configuration the page does not carry (an
    /// admin token is set), else "".
    from: &'static str,
    /// `data-platform-auth`: how `/v1/platform/{op}` authenticates (`[platform] auth`):
    /// "envelope" (`whalet-sim call`) or "none" (plain JSON: curl).
    platform_auth: &'static str,
    /// `data-admin-token`: "required" when the control plane needs the admin token (so
    /// `whalet-sim trigger` needs `--admin-token`), else "".
    admin_token: &'static str,
    /// `data-demo-tenants`: JSON `{surface: id}` of the embedded demo tenants that still sign
    /// with the demo credentials `whalet-sim call` uses when given none (its defaults): a tenant
    /// with the demo id but a key or token of its own (`[pockyt] demo_merchant = false` and a
    /// configured 202333) is not among them.
    demo_tenants: String,
    /// `data-wire-names`: JSON `{surface: {canonical: wire}}` of the operations the
    /// configuration renames (`[infinia.paths]`, `[whalet.api_codes]`): the journal names an
    /// operation by its canonical name; it is called by its wire name.
    wire_names: String,
    /// `data-infinia-sha1`: JSON list of the Infinia apps that sign with SHA1withRSA (`[infinia]
    /// signature_alg` or the app's own); `whalet-sim call` signs SHA256withRSA unless given
    /// `--infinia-alg sha1`.
    infinia_sha1: String,
    /// `data-currency-exponents`: JSON `{code: exponent}` of every currency the simulator knows
    /// (`money.rs`, ISO 4217): how many minor-unit digits an amount's currency has, for the
    /// tenants view to show minor units as money.
    currency_exponents: &'static str,
}

impl Facts {
    /// What a page carries: every fact, or, with an admin token set, only those that are not
    /// configuration, and where to read the rest.
    fn for_page(core: &Core) -> Self {
        let facts = Self::of(core);
        if core.config().server.admin_token().is_none() {
            return facts;
        }
        Self {
            from: FACTS_PATH,
            admin_token: facts.admin_token,
            currency_exponents: facts.currency_exponents,
            ..Self::default()
        }
    }

    /// The configuration facts as [`FACTS_PATH`] answers them: `{datasetName: attribute
    /// text}`, which the script sets on the page's `<body>` as the attributes would have been.
    fn configuration(&self) -> serde_json::Value {
        serde_json::json!({
            "platformAuth": self.platform_auth,
            "demoTenants": self.demo_tenants,
            "wireNames": self.wire_names,
            "infiniaSha1": self.infinia_sha1,
        })
    }

    fn of(core: &Core) -> Self {
        let config = core.config();
        // The demo key as the tenant's: a configured tenant that replaced the demo one with
        // the demo key (examples/sim.toml's partner) still signs as `call` does by default.
        let same_key = |key: &PublicKey, demo_key: &str| {
            PublicKey::parse(demo_key).is_ok_and(|d| d.fingerprint() == key.fingerprint())
        };
        let mut demo_tenants = BTreeMap::new();
        if let Some(p) = core.partners().get(DEMO_PARTNER_ID) {
            if same_key(&p.public_key, demo::PARTNER_PUBLIC) {
                demo_tenants.insert("whalet", DEMO_PARTNER_ID);
                demo_tenants.insert("platform", DEMO_PARTNER_ID);
            }
        }
        let infinia = core.infinia();
        if let Some(app) = infinia.apps.get(DEMO_APP_ID) {
            if same_key(&app.merchant_public, demo::INFINIA_MERCHANT_PUBLIC) {
                demo_tenants.insert("infinia", DEMO_APP_ID);
            }
        }
        if let Some(m) = core.pockyt().get(DEMO_MERCHANT_NO) {
            if m.token == DEMO_TOKEN {
                demo_tenants.insert("pockyt", DEMO_MERCHANT_NO);
            }
        }
        let renamed =
            |names: &mut dyn Iterator<Item = (&String, &String)>| -> BTreeMap<String, String> {
                names
                    .filter(|(canonical, wire)| canonical != wire)
                    .map(|(canonical, wire)| (canonical.clone(), wire.clone()))
                    .collect()
            };
        let wire_names = serde_json::json!({
            "infinia": renamed(&mut infinia.paths().iter()),
            "whalet": renamed(&mut config.whalet.api_codes.iter()),
        });
        let sha1: Vec<&str> = infinia
            .apps
            .iter()
            .filter(|app| app.alg == SignatureHash::Sha1)
            .map(|app| app.app_id.as_str())
            .collect();
        Self {
            from: "",
            platform_auth: platform_auth_text(config.platform.auth),
            admin_token: if config.server.admin_token().is_some() {
                "required"
            } else {
                ""
            },
            demo_tenants: serde_json::json!(demo_tenants).to_string(),
            wire_names: wire_names.to_string(),
            infinia_sha1: serde_json::json!(sha1).to_string(),
            currency_exponents: currency_exponents(),
        }
    }
}

/// What `data-currency-exponents` says: `{code: exponent}` of every currency `money.rs` knows,
/// read from its table (`Currency::all`, once), so that the page
/// never keeps a second table that could disagree with the server's.
fn currency_exponents() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let known: BTreeMap<&str, u32> = Currency::all().collect();
        serde_json::json!(known).to_string()
    })
}

/// What `data-platform-auth` says: the `[platform] auth` mode.
fn platform_auth_text(auth: PlatformAuth) -> &'static str {
    match auth {
        PlatformAuth::Whalet => "envelope",
        PlatformAuth::None => "none",
    }
}

fn render(slug: &str, title: &str, lede: &str, item: &str, facts: &Facts) -> String {
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
            ("facts", facts.from),
            ("platform_auth", facts.platform_auth),
            ("admin_token", facts.admin_token),
            ("demo_tenants", &escape(&facts.demo_tenants)),
            ("wire_names", &escape(&facts.wire_names)),
            ("infinia_sha1", &escape(&facts.infinia_sha1)),
            ("currency_exponents", &escape(facts.currency_exponents)),
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
            let html = render(view.slug, view.title, view.lede, "", &Facts::default());
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
        let html = render("clock", "Clock", "x", "", &Facts::default());
        assert!(html.contains("data-min-scale=\"0.000001\""), "{html}");
        assert!(html.contains("data-max-scale=\"1000000\""), "{html}");
    }

    /// The page says how `/v1/platform/{op}` authenticates, so that "Send it again" offers a
    /// command that works in that mode.
    #[test]
    fn the_shell_says_how_the_platform_authenticates() {
        let page = |auth| {
            let facts = Facts {
                platform_auth: platform_auth_text(auth),
                ..Facts::default()
            };
            let html = render("requests", "Requests", "x", "", &facts);
            let at = html.find("data-platform-auth=\"").expect("the attribute") + 20;
            html[at..at + html[at..].find('"').unwrap()].to_owned()
        };
        assert_eq!(page(PlatformAuth::None), "none");
        assert_eq!(page(PlatformAuth::Whalet), "envelope");
    }

    /// A notification linked by its number (`/__sim/ui/notifications/42`, as the API takes it)
    /// is given to the page by its id, as the rows are keyed; a request keeps its number.
    #[test]
    fn a_notification_linked_by_its_number_is_given_by_its_id() {
        let item = |slug: &str, item: &str| {
            let view = VIEWS.iter().find(|v| v.slug == slug).unwrap();
            let page = page(view, Some(item), &Facts::default());
            let html = String::from_utf8_lossy(page.body()).into_owned();
            let at = html.find("data-item=\"").expect("the attribute") + 11;
            html[at..at + html[at..].find('"').unwrap()].to_owned()
        };
        assert_eq!(item("notifications", "42"), "ntf_000042");
        assert_eq!(item("notifications", "ntf_42"), "ntf_000042");
        assert_eq!(item("notifications", "ntf_000042"), "ntf_000042");
        assert_eq!(item("notifications", "nope"), "nope");
        assert_eq!(item("requests", "42"), "42");
    }

    /// What the page is told of the configuration: the operations renamed, the apps that
    /// sign with SHA1, the demo tenants that keep the demo credentials, whether an admin token
    /// is needed (never the token itself).
    #[test]
    fn the_facts_follow_the_configuration() {
        let facts = |text: &str| {
            let mut config = crate::config::Config::parse(text).unwrap();
            config.infinia.sftp_addr = String::new();
            let app = crate::App::new(config, crate::Options::default()).unwrap();
            Facts::of(app.core())
        };
        let plain = facts("");
        assert_eq!(plain.admin_token, "");
        assert_eq!(plain.wire_names, r#"{"infinia":{},"whalet":{}}"#);
        assert_eq!(plain.infinia_sha1, "[]");
        let demo: serde_json::Value = serde_json::from_str(&plain.demo_tenants).unwrap();
        assert_eq!(
            demo,
            serde_json::json!({"whalet": DEMO_PARTNER_ID, "platform": DEMO_PARTNER_ID,
                "infinia": DEMO_APP_ID, "pockyt": DEMO_MERCHANT_NO})
        );

        let own = facts(
            "[server]\nadmin_token = \"s3cret-token\"\n\
             [infinia]\nsignature_alg = \"SHA1withRSA\"\n\
             [infinia.paths]\n\"account-balance/query\" = \"/balance/get/\"\n\
             [whalet.api_codes]\nqueryCurrencyBalance = \"balanceInquiry\"\n\
             [pockyt]\ndemo_merchant = false\n\
             [[pockyt.merchants]]\nmerchant_no = \"202333\"\nstore_no = \"301854\"\n\
             token = \"my-own-token\"\n",
        );
        assert_eq!(own.admin_token, "required");
        assert_eq!(
            own.wire_names,
            r#"{"infinia":{"account-balance/query":"balance/get"},"whalet":{"queryCurrencyBalance":"balanceInquiry"}}"#
        );
        assert_eq!(own.infinia_sha1, r#"["demo-app"]"#);
        let demo: serde_json::Value = serde_json::from_str(&own.demo_tenants).unwrap();
        assert!(demo.get("pockyt").is_none(), "{demo}");
        assert_eq!(demo["infinia"], DEMO_APP_ID);
        let html = render("triggers", "Triggers", "x", "", &own);
        assert!(html.contains("data-admin-token=\"required\""), "{html}");
        assert!(
            !html.contains("s3cret-token") && !html.contains("my-own-token"),
            "{html}"
        );
    }

    /// With an admin token set, a page carries none of the configuration (it is kept behind the
    /// token as `/__sim/state` is) but where its script reads it, `FACTS_PATH`, which answers
    /// it as the attributes would have said it; that address needs the token (`control::guard`),
    /// however its slashes are written.
    #[test]
    fn with_an_admin_token_the_page_carries_only_where_to_read_the_configuration() {
        let core = |text: &str| {
            let mut config = crate::config::Config::parse(text).unwrap();
            config.infinia.sftp_addr = String::new();
            crate::App::new(config, crate::Options::default()).unwrap()
        };
        let configured = "[infinia]\nsignature_alg = \"SHA1withRSA\"\n\
             [whalet.api_codes]\nqueryCurrencyBalance = \"balanceInquiry\"\n";
        let open = core(configured);
        let facts = Facts::for_page(open.core());
        assert_eq!(facts.from, "");
        assert_eq!(facts.infinia_sha1, r#"["demo-app"]"#);

        let guarded = core(&format!("[server]\nadmin_token = \"t0k\"\n{configured}"));
        let facts = Facts::for_page(guarded.core());
        let html = render("requests", "Requests", "x", "", &facts);
        for configured in ["demo-app", "balanceInquiry", "envelope"] {
            assert!(!html.contains(configured), "{configured}: {html}");
        }
        assert!(html.contains("data-facts=\"/__sim/ui/facts\""), "{html}");
        assert!(html.contains("data-admin-token=\"required\""), "{html}");
        assert!(html.contains("data-currency-exponents=\"{&quot;"), "{html}");
        let told = Facts::of(guarded.core()).configuration();
        assert_eq!(told["infiniaSha1"], r#"["demo-app"]"#);
        assert_eq!(told["platformAuth"], "envelope");
        assert!(told["wireNames"]
            .as_str()
            .unwrap()
            .contains("balanceInquiry"));

        for path in ["/__sim/ui/facts", "/__sim/ui//facts", "/__sim/ui/facts/"] {
            assert!(holds_configuration(path), "{path}");
        }
        for path in [
            "/",
            "/__sim/ui",
            "/__sim/ui/requests",
            "/__sim/ui/facts/x",
            "/__sim/facts",
        ] {
            assert!(!holds_configuration(path), "{path}");
        }
    }

    /// The page is told every currency's minor-unit exponent as the money table has it (the
    /// tenants view shows minor units as money with it), escaped as every attribute is.
    #[test]
    fn the_shell_carries_the_currency_exponents_of_the_money_table() {
        let listed: BTreeMap<String, u32> = serde_json::from_str(currency_exponents()).unwrap();
        for (code, exponent) in &listed {
            assert_eq!(
                Currency::parse(code).unwrap().exponent(),
                *exponent,
                "{code}"
            );
        }
        for code in ["USD", "EUR", "JPY", "KWD", "BHD"] {
            assert!(listed.contains_key(code), "{code}: {listed:?}");
        }
        let facts = Facts {
            currency_exponents: currency_exponents(),
            ..Facts::default()
        };
        let html = render("tenants", "Tenants", "x", "", &facts);
        let attribute = format!(
            "data-currency-exponents=\"{}\"",
            escape(currency_exponents())
        );
        assert!(html.contains(&attribute), "{html}");
    }

    #[test]
    fn the_item_is_escaped() {
        let html = render(
            "requests",
            "Requests",
            "x",
            "\"><script>",
            &Facts::default(),
        );
        assert!(!html.contains("\"><script>"));
    }
}
