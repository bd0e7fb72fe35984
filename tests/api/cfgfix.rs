//! Settings that name where things are reached: `[platform] public_url` (the base of every link
//! the simulator hands out) and `[infinia.paths]` (the operation paths) are refused at start,
//! naming the key, when the links or the paths could not work as written.

use serde_json::json;

use crate::helpers::{bin, spawn_config, spawn_with, Setup};

/// `serve --config` with `toml` on a taken address (so that a config wrongly accepted exits
/// instead of serving): whether it succeeded, and its stderr.
fn serve_with(toml: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, toml).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = bin()
        .args([
            "serve",
            "--addr",
            &addr,
            "--sftp-addr",
            "off",
            "--manual-clock",
        ])
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Regression: `public_url = "gw.example.test"` gave `"authorizeUrl":
/// "gw.example.test/authorize/…"` (a relative link), and a query, a fragment, a space or another
/// scheme were taken as written. `serve` refuses each at start, naming the key and what is wrong,
/// by the check every URL setting passes.
#[test]
fn serve_refuses_a_public_url_no_link_could_be_built_on() {
    for (url, why) in [
        ("gw.example.test", "does not start with http:// or https://"),
        ("https://gw.example.test/sim?x=1", "has a query"),
        ("https://gw.example.test/sim#f", "has a fragment"),
        ("https://gw.example.test/a b", "must not have ' '"),
        ("ftp://gw.example.test", "scheme is \"ftp\""),
        ("javascript:alert(1)//", "scheme is \"javascript\""),
    ] {
        let (ok, stderr) = serve_with(&format!(
            "[platform]\nauth = \"none\"\npublic_url = {url:?}\n"
        ));
        assert!(!ok, "{url:?} accepted: {stderr}");
        assert!(
            stderr.contains("[platform] public_url") && stderr.contains(why),
            "{url:?}: {stderr}"
        );
    }
}

/// A base with a path prefix (behind a proxy) is still taken, and the link is built on it.
#[tokio::test]
async fn a_public_url_with_a_path_prefix_is_the_base_of_the_authorize_link() {
    let app = spawn_with(Setup {
        config: Some(
            "[platform]\nauth = \"none\"\npublic_url = \"https://gw.example.test/sim/\"\n".into(),
        ),
        ..Setup::default()
    })
    .await;
    let (status, reply) = app
        .post(
            "/v1/platform/shopAccountBind",
            &json!({"bindId": "X", "shopId": "SX", "shopName": "n",
                    "legalEntity": {"certNo": "R", "countryCode": "CN", "name": "N"}}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let link = reply["authorizeUrl"].as_str().unwrap_or_default();
    assert!(
        link.starts_with("https://gw.example.test/sim/authorize/"),
        "{reply}"
    );
    app.shutdown().await;
}

/// The start's refusal of `[infinia.paths]` entries, as a program building the `App` gets it.
fn refusal_of_paths(entries: &str) -> String {
    let config = whalet_sim::config::Config::parse(&format!(
        "[infinia]\nsftp_addr = \"off\"\n[infinia.paths]\n{entries}"
    ))
    .unwrap();
    whalet_sim::App::new(config, whalet_sim::Options::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_else(|| panic!("{entries} accepted"))
}

/// Regression: a rename onto another operation's path silently replaced that operation (listed
/// twice, one unreachable), two renames onto one path lost one, and `""`, `"a b"`, `"x/y?z"` or
/// `"x/../y"` were taken. The start is refused naming both operations, or the bad path and why.
#[test]
fn infinia_path_renames_that_collide_or_are_not_paths_are_refused_at_start() {
    let e = refusal_of_paths("\"account-balance/query\" = \"revenue-sharing/query\"\n");
    assert!(
        e.contains("account-balance/query and revenue-sharing/query would both be POST /api/v1/revenue-sharing/query"),
        "{e}"
    );
    // Taking the canonical path of an operation renamed elsewhere: rules would mean the other.
    let e = refusal_of_paths(
        "\"account-balance/query\" = \"revenue-sharing/query\"\n\"revenue-sharing/query\" = \"sharing/get\"\n",
    );
    assert!(
        e.contains("\"account-balance/query\" = \"revenue-sharing/query\" is the canonical path of revenue-sharing/query"),
        "{e}"
    );
    let e = refusal_of_paths(
        "\"account-balance/query\" = \"x/y\"\n\"revenue-sharing/query\" = \"/x/y/\"\n",
    );
    assert!(
        e.contains(
            "account-balance/query and revenue-sharing/query would both be POST /api/v1/x/y"
        ),
        "{e}"
    );
    for (path, why) in [
        ("", "the path is empty"),
        ("/", "the path is empty"),
        ("a b", "' ' cannot be in it"),
        ("x/y?z", "'?' cannot be in it"),
        ("x/y%20", "'%' cannot be in it"),
        ("x//y", "empty segment"),
        ("x/../revenue-sharing/query", "\"..\" segment"),
        ("./x", "\".\" segment"),
    ] {
        let e = refusal_of_paths(&format!("\"account-balance/query\" = {path:?}\n"));
        assert!(
            e.contains(&format!(
                "infinia.paths: \"account-balance/query\" = {path:?}"
            )) && e.contains(why)
                && e.contains("one or more segments"),
            "{path:?}: {e}"
        );
    }
}

/// A rename to a path of its own still works: the operation answers there, once, and its
/// canonical path is free.
#[tokio::test]
async fn an_infinia_rename_to_a_free_path_moves_the_operation() {
    let app = spawn_config(
        "[infinia.paths]\n\"account-balance/query\" = \"/balance/get/\"\n\"revenue-sharing/query\" = \"revenue-sharing/query\"\n",
    )
    .await;
    let listing = app.get_json("/__sim/operations").await.to_string();
    assert_eq!(
        listing.matches("POST /api/v1/balance/get\"").count(),
        1,
        "{listing}"
    );
    assert_eq!(
        listing
            .matches("POST /api/v1/revenue-sharing/query\"")
            .count(),
        1,
        "{listing}"
    );
    assert!(
        !listing.contains("POST /api/v1/account-balance/query"),
        "{listing}"
    );
    app.shutdown().await;
}
