//! The control plane and the dashboard refuse what a hostile web page could send: a
//! state-changing request from another origin (even `no-cors`), and any request by a Host name
//! that is not this simulator's (DNS rebinding). Non-browser clients are unaffected.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_with, Setup};

/// A raw request with chosen headers; (status, body).
async fn send(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut req = client.request(method.parse().unwrap(), format!("{url}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.body(body.to_owned()).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn a_cross_site_post_cannot_reset_or_credit() {
    let app = spawn_app().await;
    app.connectivity().await;
    let evil = [
        ("origin", "http://evil.example"),
        ("content-type", "text/plain"),
    ];
    let (status, body) = send(&app.url, "POST", "/__sim/reset", &evil, "{}").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("cross-site request refused"), "{body}");
    let trigger = r#"{"partnerId":"202400000000001","amount":"777.77","currency":"USD"}"#;
    let (status, _) = send(
        &app.url,
        "POST",
        "/__sim/trigger/whalet.collection.received",
        &evil,
        trigger,
    )
    .await;
    assert_eq!(status, 403);
    // Nothing happened: the journal still holds the partner's request and no trigger.
    let journal = app.get_json("/__sim/requests").await;
    let ops: Vec<&str> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, vec!["connectivity"]);
    // The simulator's own pages (same origin) and clients without Origin still work.
    let own = app.url.clone();
    let same = [
        ("origin", own.as_str()),
        ("content-type", "application/json"),
    ];
    let (status, body) = send(&app.url, "POST", "/__sim/reset", &same, "{}").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

/// A browser's state-changing request needs a JSON (or TOML) body and a same-origin Fetch
/// Metadata header, even when it sends no `Origin`; curl-like clients are unaffected.
#[tokio::test]
async fn a_browser_must_send_json_and_be_same_site() {
    let app = spawn_app().await;
    app.connectivity().await;
    let journal_len = |j: &serde_json::Value| j["requests"].as_array().unwrap().len();
    let before = journal_len(&app.get_json("/__sim/requests").await);
    for content_type in ["text/plain", "application/x-www-form-urlencoded", ""] {
        let mut headers = vec![("sec-fetch-site", "same-origin")];
        if !content_type.is_empty() {
            headers.push(("content-type", content_type));
        }
        let (status, body) = send(&app.url, "POST", "/__sim/reset", &headers, "{}").await;
        assert_eq!(status, 415, "{content_type}: {body}");
        assert!(body.contains("application/json"), "{body}");
    }
    let cross = [
        ("sec-fetch-site", "cross-site"),
        ("content-type", "application/json"),
    ];
    let (status, body) = send(&app.url, "POST", "/__sim/reset", &cross, "{}").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Sec-Fetch-Site"), "{body}");
    // Nothing was reset.
    assert_eq!(journal_len(&app.get_json("/__sim/requests").await), before);
    // The same request as JSON from the simulator's own page, and curl's form type without
    // browser headers, both work.
    let own = [
        ("sec-fetch-site", "same-origin"),
        ("content-type", "application/json; charset=utf-8"),
    ];
    let (status, body) = send(&app.url, "POST", "/__sim/reset", &own, "{}").await;
    assert_eq!(status, 200, "{body}");
    let curl = [("content-type", "application/x-www-form-urlencoded")];
    let (status, body) = send(&app.url, "POST", "/__sim/reset", &curl, "{}").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

/// Any Fetch Metadata header marks a browser, not only `Sec-Fetch-Site`: a `no-cors` fetch that
/// says only `Sec-Fetch-Mode` (or `-Dest`) cannot reset state with a text body either.
#[tokio::test]
async fn any_sec_fetch_header_marks_a_browser() {
    let app = spawn_app().await;
    app.connectivity().await;
    let journal = app.get_json("/__sim/requests").await;
    for header in [
        ("sec-fetch-mode", "no-cors"),
        ("Sec-Fetch-Dest", "empty"),
        ("sec-fetch-user", "?1"),
    ] {
        let headers = [header, ("content-type", "text/plain")];
        let (status, body) = send(&app.url, "POST", "/__sim/reset", &headers, "{}").await;
        assert_eq!(status, 415, "{header:?}: {body}");
    }
    assert_eq!(
        app.get_json("/__sim/requests").await,
        journal,
        "nothing was reset"
    );
    // The same header with a JSON body is a browser doing it right.
    let own = [
        ("sec-fetch-mode", "cors"),
        ("content-type", "application/json"),
    ];
    let (status, body) = send(&app.url, "POST", "/__sim/reset", &own, "{}").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_foreign_host_name_cannot_read_the_journal_unless_allowed() {
    let app = spawn_app().await;
    let rebound = [("host", "evil.example:8080")];
    let (status, body) = send(&app.url, "GET", "/__sim/requests", &rebound, "").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("allowed_hosts"), "{body}");
    let (status, _) = send(&app.url, "GET", "/", &rebound, "").await;
    assert_eq!(status, 403);
    // Health stays open (container health checks use the service name).
    let (status, _) = send(&app.url, "GET", "/__sim/health", &rebound, "").await;
    assert_eq!(status, 200);
    app.shutdown().await;

    let app = spawn_with(Setup {
        config: Some("[server]\nallowed_hosts = [\"sim.internal\"]\n".into()),
        ..Setup::default()
    })
    .await;
    let named = [("host", "sim.internal:8080")];
    let (status, body) = send(&app.url, "GET", "/__sim/requests", &named, "").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

const TOKEN: &str = "s3cret-admin-token";

fn with_token() -> Setup {
    Setup {
        config: Some(format!("[server]\nadmin_token = \"{TOKEN}\"\n")),
        ..Setup::default()
    }
}

#[tokio::test]
async fn with_an_admin_token_the_control_plane_needs_it_and_the_partner_surfaces_do_not() {
    let app = spawn_with(with_token()).await;
    let bearer = format!("Bearer {TOKEN}");
    for (method, path) in [
        ("GET", "/__sim/requests"),
        ("GET", "/__sim/openapi.json"),
        ("POST", "/__sim/reset"),
    ] {
        let (status, body) = send(&app.url, method, path, &[], "{}").await;
        assert_eq!(status, 401, "{method} {path}: {body}");
        assert!(body.contains("Authorization: Bearer <token>"), "{body}");
        assert!(!body.contains(TOKEN), "the answer never shows the token");
        let wrong = [("authorization", "Bearer s3cret-admin-tokeN")];
        let (status, _) = send(&app.url, method, path, &wrong, "{}").await;
        assert_eq!(status, 401, "{method} {path} with a wrong token");
        let right = [("authorization", bearer.as_str())];
        let (status, body) = send(&app.url, method, path, &right, "{}").await;
        assert_eq!(status, 200, "{method} {path}: {body}");
    }
    // Health and the dashboard's pages stay open; the partner-facing surfaces never need it.
    assert_eq!(send(&app.url, "GET", "/__sim/health", &[], "").await.0, 200);
    assert_eq!(send(&app.url, "GET", "/", &[], "").await.0, 200);
    let (status, _) = send(&app.url, "GET", "/__sim/ui/assets/core.js", &[], "").await;
    assert_eq!(status, 200);
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS");
    let ts = whalet_sim::app::parse_rfc3339(crate::helpers::START).unwrap();
    let token = crate::whalet2_support::file_token(ts);
    let upload = crate::whalet2_support::upload_with(&app, "a.txt", b"x", ts, &token).await;
    assert_eq!(upload["code"], "SUCCESS", "{upload}");
    let url = upload["info"]["fileUrl"].as_str().unwrap();
    assert_eq!(reqwest::get(url).await.unwrap().status(), 200);
    app.shutdown().await;
}

#[tokio::test]
async fn the_dashboard_signs_in_once_with_the_token_and_keeps_a_cookie() {
    let app = spawn_with(with_token()).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let wrong = client
        .get(format!("{}/?token=nope", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let res = client
        .get(format!(
            "{}/__sim/ui/requests?token={TOKEN}&partnerId=1",
            app.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/__sim/ui/requests?partnerId=1",
        "the token leaves the address bar"
    );
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/__sim/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_owned();
    let (status, body) = send(&app.url, "GET", "/__sim/requests", &[("cookie", &pair)], "").await;
    assert_eq!(status, 200, "{body}");
    // A forged cookie is refused, and the cookie does not lift the cross-site check.
    let forged = [("cookie", "whalet_sim_admin=00")];
    assert_eq!(
        send(&app.url, "GET", "/__sim/requests", &forged, "")
            .await
            .0,
        401
    );
    let evil = [("cookie", pair.as_str()), ("origin", "http://evil.example")];
    assert_eq!(
        send(&app.url, "POST", "/__sim/reset", &evil, "{}").await.0,
        403
    );
    app.shutdown().await;
}

/// `whalet-sim trigger` passes the token from `--admin-token` or `WHALET_SIM_ADMIN_TOKEN`.
#[tokio::test]
async fn the_trigger_command_passes_the_admin_token() {
    let app = spawn_with(with_token()).await;
    let url = app.url.clone();
    let (without, by_env, by_flag) = tokio::task::spawn_blocking(move || {
        let run = |extra: &[&str], env: Option<&str>| {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"));
            cmd.args(["trigger", "--list", "--url", &url])
                .args(extra)
                .env_remove("WHALET_SIM_ADMIN_TOKEN");
            if let Some(t) = env {
                cmd.env("WHALET_SIM_ADMIN_TOKEN", t);
            }
            cmd.output().unwrap()
        };
        (
            run(&[], None),
            run(&[], Some(TOKEN)),
            run(&["--admin-token", TOKEN], None),
        )
    })
    .await
    .unwrap();
    assert!(!without.status.success());
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("admin token"),
        "{stderr}"
    );
    for out in [by_env, by_flag] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("whalet.collection.received"), "{stdout}");
    }
    app.shutdown().await;
}

/// The lines `serve` writes to stderr up to "ready" (the process is then stopped).
fn serve_log(args: &[&str]) -> String {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sim.toml");
    std::fs::write(&config, "[infinia]\nsftp_addr = \"127.0.0.1:0\"\n").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_whalet-sim"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .args(args)
        .env_remove("WHALET_SIM_ADMIN_TOKEN")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        log.push_str(&line);
        log.push('\n');
        if line.contains("whalet-sim ready") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(log.contains("whalet-sim ready"), "not ready: {log}");
    log
}

#[tokio::test]
async fn serving_beyond_loopback_without_a_token_warns_loudly() {
    let (open, with_token, loopback) = tokio::task::spawn_blocking(|| {
        (
            serve_log(&["--addr", "0.0.0.0:0"]),
            serve_log(&["--addr", "0.0.0.0:0", "--admin-token", TOKEN]),
            serve_log(&["--addr", "127.0.0.1:0"]),
        )
    })
    .await
    .unwrap();
    assert!(open.contains("NO ADMIN TOKEN"), "{open}");
    assert!(open.contains("WARN"), "{open}");
    assert!(!with_token.contains("NO ADMIN TOKEN"), "{with_token}");
    assert!(!with_token.contains(TOKEN), "the token is never logged");
    assert!(!loopback.contains("NO ADMIN TOKEN"), "{loopback}");
}
