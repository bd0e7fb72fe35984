//! Rendering of the authorization pages: the one template (`page.html` + `style.css`, embedded)
//! filled with escaped fragments. Every value from a partner or seller goes through `escape`.

use super::{AuthorizationRequest, Decided};
use crate::clock::Millis;
use crate::http::SimResponse;
use crate::web::{escape, fill};

const TEMPLATE: &str = include_str!("page.html");
const STYLE: &str = include_str!("style.css");
/// The pages' one script, inlined (the pages load nothing else) and allowed by its hash.
const SCRIPT: &str = include_str!("page.js");

/// Scripts: only the pages' own, by hash (so a `javascript:` link a partner might slip in as a
/// return URL cannot run); the one inline style sheet; forms post back here only.
fn content_security_policy() -> &'static str {
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; script-src {}; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            crate::wire::crypto::csp_hash(SCRIPT)
        )
    })
}

pub use crate::authorize::time_text;

/// `time_text` of a time the clock runs something at (a link's expiry, the rejection the
/// expiry records): a time past the clock's end is shown as the end, when its timer is due
/// ([`crate::clock::due_time`]).
fn due_text(ms: Millis) -> String {
    time_text(crate::clock::due_time(ms))
}

/// The addresses a link's pages give (forms, links, `Location`), relative to the address the
/// page is served at, so they resolve under any base: at the root as behind a proxy that serves
/// the simulator under a path prefix (`[platform] public_url = "https://gw.example.test/sim"`).
/// `./{token}` from `/authorize/{token}`, `../{token}` from `/authorize/{token}/login` and every
/// other address one level down (`./` keeps a token from reading as a URL scheme).
pub struct Links {
    /// The link: `/authorize/{token}`.
    pub link: String,
    pub login: String,
    pub decision: String,
    pub done: String,
}

impl Links {
    /// The addresses for a page answering a request for `path` (`/authorize/{token}[/...]`).
    pub fn new(path: &str, token: &str) -> Self {
        // What follows `authorize`: each `/` in it after the first is a level below
        // `/authorize/` (`/{token}/login`, or `/{token}/` with a trailing slash, is one).
        let rest = path
            .trim_start_matches('/')
            .strip_prefix("authorize")
            .unwrap_or("");
        let depth = rest.matches('/').count().saturating_sub(1);
        let up = if depth == 0 {
            "./".to_owned()
        } else {
            "../".repeat(depth)
        };
        let link = format!("{up}{token}");
        Self {
            login: format!("{link}/login"),
            decision: format!("{link}/decision"),
            done: format!("{link}/done"),
            link,
        }
    }
}

fn render(status: u16, brand: &str, title: &str, body: &str) -> SimResponse {
    let initial = brand.chars().next().unwrap_or('W').to_string();
    let html = fill(
        TEMPLATE,
        &[
            ("style", STYLE),
            ("initial", &escape(&initial)),
            ("brand", &escape(brand)),
            ("title", &escape(title)),
            ("script", SCRIPT),
            ("body", body),
        ],
    );
    SimResponse::html(status, html)
        .header("content-security-policy", content_security_policy())
        .header("x-content-type-options", "nosniff")
        .header("cache-control", "no-store")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer")
}

fn summary(req: &AuthorizationRequest) -> String {
    let mut shop = format!(
        "<dt>Shop</dt><dd>{}</dd><dt>Shop ID</dt><dd>{}</dd>",
        escape(&req.shop.name),
        escape(&req.shop.id)
    );
    if let Some(url) = &req.shop.url {
        shop.push_str(&format!("<dt>Shop URL</dt><dd>{}</dd>", escape(url)));
    }
    let entity: String = req
        .legal_entity
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("<dt>{}</dt><dd>{}</dd>", escape(k), escape(v)))
        .collect();
    format!(
        r#"<section class="panel" aria-labelledby="shop-h"><h2 id="shop-h">Shop</h2><dl>{shop}</dl></section>
<section class="panel" aria-labelledby="entity-h"><h2 id="entity-h">Legal entity</h2><dl>{entity}</dl></section>"#
    )
}

fn heading(req: &AuthorizationRequest) -> String {
    format!(
        r#"<h1 id="page-title">Connect your shop to {partner}</h1>
<p class="muted"><strong>{partner}</strong> asks to pay this shop's earnings into your {brand} account. Reference <span id="business-id">{id}</span>.</p>"#,
        partner = escape(&req.partner_name),
        brand = escape(&req.provider_name),
        id = escape(&req.business_id),
    )
}

/// The summary and the seller login.
pub fn login(
    req: &AuthorizationRequest,
    links: &Links,
    demo_login: &str,
    demo_password: &str,
    error: Option<&str>,
) -> SimResponse {
    let error_html = error
        .map(|e| {
            format!(
                r#"<div class="error" role="alert" id="error">{}</div>"#,
                escape(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"{heading}
<div class="layout"><div class="facts">
{summary}
<p class="muted">This link expires at {expires}.</p>
</div><div class="act">
<form method="post" action="{action}" id="login-form">
<h2 class="login-h">Log in to your {brand} account</h2>
{error_html}
<label for="login">Login</label>
<input type="text" id="login" name="login" autocomplete="username" autocapitalize="none" spellcheck="false" required value="">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button type="submit" class="primary" id="login-button">Log in</button></div>
</form>
<div class="hint" id="demo-credentials">Demo seller: <code>{demo_login}</code> / <code>{demo_password}</code></div>
</div></div>"#,
        heading = heading(req),
        summary = summary(req),
        expires = escape(&due_text(req.expires_at)),
        action = escape(&links.login),
        brand = escape(&req.provider_name),
        demo_login = escape(demo_login),
        demo_password = escape(demo_password),
    );
    let status = if error.is_some() { 401 } else { 200 };
    render(status, &req.provider_name, "Authorize shop binding", &body)
}

/// After login (the link's page for a logged-in seller): approve or reject.
pub fn consent(
    req: &AuthorizationRequest,
    links: &Links,
    session: &str,
    login: &str,
) -> SimResponse {
    let body = format!(
        r#"{heading}
<p class="muted">Signed in as <strong id="signed-in">{login}</strong>.</p>
<div class="layout"><div class="facts">
{summary}
</div><div class="act">
<section class="panel" aria-labelledby="perm-h"><h2 id="perm-h">If you approve, {partner} can</h2>
<ul class="perms"><li>pay this shop's earnings into your {brand} e-wallet;</li><li>share the shop's trade records with {brand}.</li></ul></section>
<form method="post" action="{action}" id="decision-form">
<input type="hidden" name="session" value="{session}">
<label for="reason">Reason, if you reject (optional)</label>
<textarea id="reason" name="reason" maxlength="{max_reason}"></textarea>
<div class="actions">
<button type="submit" class="primary" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" class="secondary" name="decision" value="reject" id="reject">Reject</button>
</div>
</form>
</div></div>"#,
        heading = heading(req),
        login = escape(login),
        summary = summary(req),
        partner = escape(&req.partner_name),
        brand = escape(&req.provider_name),
        action = escape(&links.decision),
        session = escape(session),
        // The one limit, as the server checks it (`authorize::seller_reason`).
        max_reason = crate::authorize::MAX_REASON_CHARS,
    );
    render(200, &req.provider_name, "Approve shop binding", &body)
}

fn backlink(req: &AuthorizationRequest) -> String {
    match &req.backlink_url {
        Some(url) => format!(
            r#"<div class="actions"><a class="button primary" href="{}" id="backlink">Return to {}</a></div>"#,
            escape(url),
            escape(&req.partner_name)
        ),
        None => "<p class=\"muted\">You can close this window.</p>".to_owned(),
    }
}

/// The decision was taken. The page says what happened to the shop and how the partner hears
/// of it: a notification the surface queued, or else only the partner's own query (Infinia sends
/// none for a rejection, nor when `notify_on_binding` is off).
pub fn decided(decided: &Decided, approved: bool) -> SimResponse {
    let req = &decided.request;
    let (badge, class, title, outcome) = if approved {
        (
            "✓",
            "ok",
            "Binding approved",
            format!(
                "Your shop {} is now connected to {}.",
                req.shop.name, req.partner_name
            ),
        )
    } else {
        (
            "✕",
            "no",
            "Binding rejected",
            format!(
                "Your shop {} was not connected to {}.",
                req.shop.name, req.partner_name
            ),
        )
    };
    let told = match decided.notification {
        Some(_) => format!("{} is being notified.", req.partner_name),
        None => format!(
            "{} will see the result the next time it checks the binding.",
            req.partner_name
        ),
    };
    let text = format!("{outcome} {told}");
    let body = format!(
        r#"<div class="status"><span class="badge {class}" aria-hidden="true">{badge}</span><h1 id="page-title">{title}</h1></div>
<p id="result" data-result="{result}">{text}</p>{back}"#,
        result = if approved { "approved" } else { "rejected" },
        text = escape(&text),
        back = backlink(req),
    );
    render(200, &req.provider_name, title, &body)
}

/// A link that was already used (`at`: when, if known).
pub fn used_link(req: &AuthorizationRequest, approved: bool, at: Option<Millis>) -> SimResponse {
    let what = if approved { "approved" } else { "rejected" };
    let when = at
        .map(|at| format!(" at {}", due_text(at)))
        .unwrap_or_default();
    let body = format!(
        r#"<div class="status"><span class="badge info" aria-hidden="true">i</span><h1 id="page-title">This link was already used</h1></div>
<p id="result" data-result="used">The request from {} to connect shop {} was {what}{}. Each link works once; ask the marketplace for a new one if needed.</p>{}"#,
        escape(&req.partner_name),
        escape(&req.shop.name),
        escape(&when),
        backlink(req),
    );
    render(410, &req.provider_name, "Link already used", &body)
}

/// A link past its expiry.
pub fn expired_link(req: &AuthorizationRequest) -> SimResponse {
    let body = format!(
        r#"<div class="status"><span class="badge no" aria-hidden="true">!</span><h1 id="page-title">This link has expired</h1></div>
<p id="result" data-result="expired">The link to connect shop {} to {} expired at {}. Ask the marketplace to start the binding again.</p>{}"#,
        escape(&req.shop.name),
        escape(&req.partner_name),
        escape(&due_text(req.expires_at)),
        backlink(req),
    );
    render(410, &req.provider_name, "Link expired", &body)
}

/// A link whose binding is no longer in its surface's state (a reset, an import without it).
pub fn gone_link(req: &AuthorizationRequest) -> SimResponse {
    let body = format!(
        r#"<div class="status"><span class="badge no" aria-hidden="true">!</span><h1 id="page-title">This link can no longer be used</h1></div>
<p id="result" data-result="gone">The request {} to connect shop {} to {} is no longer there. Ask the marketplace to start the binding again.</p>{}"#,
        escape(&req.business_id),
        escape(&req.shop.name),
        escape(&req.partner_name),
        backlink(req),
    );
    render(410, &req.provider_name, "Link no longer valid", &body)
}

/// A form over the body limit of the pages (`limit` bytes): it was not read, so neither the
/// login nor the decision is judged; saying so beats "the password is not correct".
pub fn too_large(req: &AuthorizationRequest, links: &Links, limit: usize) -> SimResponse {
    let body = format!(
        r#"<div class="status"><span class="badge no" aria-hidden="true">!</span><h1 id="page-title">The form was too large</h1></div>
<p id="result" data-result="too-large">The form sent was larger than {limit} bytes ([server] other_body_limit_bytes), so it was not read and nothing was changed. Go back to the login and send the form as the page shows it.</p>
<div class="actions"><a class="button primary" href="{href}" id="again">Back to the login</a></div>"#,
        href = escape(&links.link),
    );
    render(413, &req.provider_name, "Form too large", &body)
}

/// A form whose body is not UTF-8 text (`application/x-www-form-urlencoded` as a browser sends
/// it): it was not read and nothing was changed.
pub fn unreadable(req: &AuthorizationRequest, links: &Links) -> SimResponse {
    let body = format!(
        r#"<div class="status"><span class="badge no" aria-hidden="true">!</span><h1 id="page-title">The form could not be read</h1></div>
<p id="result" data-result="unreadable">The form sent was not UTF-8 text (application/x-www-form-urlencoded), so it was not read and nothing was changed. Go back to the login and send the form as the page shows it.</p>
<div class="actions"><a class="button primary" href="{href}" id="again">Back to the login</a></div>"#,
        href = escape(&links.link),
    );
    render(400, &req.provider_name, "Form not readable", &body)
}

/// A decision that was not taken (`status`: 400 for a form the page would not send, an
/// unknown choice or a reason over the box's limit; 409 for one the link or the surface refused,
/// e.g. a seller already bound elsewhere): what happened, and the way on. Nothing was changed,
/// so the seller goes back to the link, whose page shows the decision form again (or where the
/// request now stands), or returns to the partner. Answered to the form's `POST` in place; the
/// page's script makes a reload load the link instead of sending the form again.
pub fn refused(
    req: &AuthorizationRequest,
    links: &Links,
    status: u16,
    title: &str,
    text: &str,
) -> SimResponse {
    let back = match &req.backlink_url {
        Some(url) => format!(
            r#"<a class="button quiet" href="{}" id="backlink">Return to {}</a>"#,
            escape(url),
            escape(&req.partner_name)
        ),
        None => String::new(),
    };
    let body = format!(
        r#"<div class="status"><span class="badge info" aria-hidden="true">i</span><h1 id="page-title">{title}</h1></div><p id="result" data-result="message">{text}</p>
<p class="muted">Nothing was decided. Go back to the authorization page to see where the request stands and decide again.</p>
<div class="actions"><a class="button primary" href="{href}" id="again">Back to the authorization page</a>{back}</div>"#,
        title = escape(title),
        text = escape(text),
        href = escape(&links.link),
    );
    render(status, &req.provider_name, title, &body)
}

/// A token the simulator never issued.
pub fn unknown_link() -> SimResponse {
    let body = r#"<div class="status"><span class="badge no" aria-hidden="true">!</span><h1 id="page-title">Link not valid</h1></div>
<p id="result" data-result="unknown">This authorization link is not known. Check that it was copied completely, or ask the marketplace for a new one.</p>"#;
    render(404, "Whalet", "Link not valid", body)
}

/// A 303 to `href` (one of [`Links`]): after a post (post-redirect-get: Back and reload show
/// the page again, never send the form again), and for a `GET` of a form's address (a
/// bookmark), which goes back to the link, whose page shows where the authorization stands.
pub fn see_other(req: &AuthorizationRequest, href: &str) -> SimResponse {
    let body = format!(
        r#"<div class="status"><span class="badge info" aria-hidden="true">i</span><h1 id="page-title">Continue on the authorization page</h1></div>
<div class="actions"><a class="button primary" href="{href}" id="again">Open the authorization page</a></div>"#,
        href = escape(href),
    );
    render(303, &req.provider_name, "Authorization", &body).header("location", href)
}

/// The login succeeded: back to the link (303), which shows the consent form to the seller whose
/// session the cookie `cookie` carries. The cookie has no `Path`, so it takes the directory of
/// the login's address, the link's own (`/authorize/{token}` under whatever prefix the browser
/// sees), and goes with the link's pages only.
pub fn logged_in(
    req: &AuthorizationRequest,
    links: &Links,
    session: &str,
    cookie: &str,
) -> SimResponse {
    see_other(req, &links.link).header(
        "set-cookie",
        format!("{cookie}={session}; HttpOnly; SameSite=Lax"),
    )
}

/// A method the page does not answer: 405 naming the ones it does (`allow`).
pub fn not_allowed(brand: &str, allow: &str) -> SimResponse {
    message(
        405,
        brand,
        "Not available",
        "Open the link you were given to continue.",
    )
    .header("allow", allow)
}

/// Any other message.
pub fn message(status: u16, brand: &str, title: &str, text: &str) -> SimResponse {
    let body = format!(
        r#"<div class="status"><span class="badge info" aria-hidden="true">i</span><h1 id="page-title">{}</h1></div><p id="result" data-result="message">{}</p>"#,
        escape(title),
        escape(text)
    );
    render(status, brand, title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tester's report: with a link lifetime of i64::MAX seconds the page said the link
    /// expires at the calendar's end, while its expiry timer is due at the clock's end. Each page
    /// that names the expiry says when the timer is due.
    #[test]
    fn a_link_expiring_past_the_clocks_end_shows_when_it_really_expires() {
        let req = AuthorizationRequest {
            expires_at: i64::MAX,
            ..crate::authorize::tests::link("t1")
        };
        let due = time_text(crate::clock::MAX_TIME);
        let links = Links::new("/authorize/t1", "t1");
        for page in [
            login(&req, &links, "seller", "pw", None),
            expired_link(&req),
            used_link(&req, false, Some(req.expires_at)),
        ] {
            let html = String::from_utf8_lossy(page.body()).into_owned();
            assert!(html.contains(&escape(&due)), "{due} in {html}");
            assert!(!html.contains(&escape(&time_text(i64::MAX))), "{html}");
        }
    }

    /// The policy names the script by the hash an independent implementation computes
    /// (`python3 -c "import hashlib, base64; print(base64.b64encode(hashlib.sha256(
    /// open('src/web/authorize/page.js', 'rb').read()).digest()).decode())"`); when page.js
    /// changes, this value changes with it.
    #[test]
    fn the_policy_allows_exactly_the_pages_script() {
        let csp = content_security_policy();
        assert!(
            csp.contains("script-src 'sha256-eHDf8ryvXP1s+yO8QsbOfRD5TQuOwU59aQfm7kvZ480='"),
            "{csp}"
        );
        let page = render(200, "Whalet", "t", "<p>b</p>");
        let html = String::from_utf8_lossy(page.body()).into_owned();
        assert!(html.contains(&format!("<script>{SCRIPT}</script>")));
    }
}
