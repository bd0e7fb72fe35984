//! `POST /file/upload` end to end: a token computed independently by
//! `scripts/whalet_envelope.py file-token`, the file served back at `fileUrl`, and the limits —
//! size, type, expired token, forged token, unknown partner — each refused in the documented
//! `{code, detail, info: null}` shape with nothing stored; fileIds that cannot be guessed and
//! files served only at the exact `fileUrl` their upload returned.

use std::process::Command;

use serde_json::Value;

use crate::helpers::{python, repo_path, spawn_app};
use crate::whalet2_support::{file_token, multipart, now_ms, upload, upload_with, DEMO_PARTNER_ID};
use crate::whalet_support::state;

async fn files(app: &crate::helpers::TestApp) -> usize {
    state(app).await["whaletTrade"]["files"]
        .as_object()
        .map_or(0, |m| m.len())
}

#[tokio::test]
async fn a_token_from_the_independent_script_uploads_and_the_file_comes_back() {
    let app = spawn_app().await;
    let ts = now_ms(&app).await;
    let out = Command::new(python())
        .args([
            &repo_path("scripts/whalet_envelope.py"),
            "file-token",
            "--partner-id",
            DEMO_PARTNER_ID,
            "--timestamp",
            &ts.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = printed["token"].as_str().unwrap();
    assert_eq!(token, file_token(ts), "Rust and Python agree on the token");
    let content = b"name,amount\nwidget,10.00\n";
    let reply = upload_with(&app, "orders.csv", content, ts, token).await;
    assert_eq!(reply["code"], "SUCCESS", "{reply}");
    assert_eq!(reply["detail"], "成功");
    let info = &reply["info"];
    assert_eq!(info["fileName"], "orders.csv");
    assert_eq!(info["fileId"].as_str().unwrap().len(), 24);
    let url = info["fileUrl"].as_str().unwrap();
    let path = &url[url.find("/file/").unwrap()..];
    let got = app
        .http
        .get(
            &format!("{}{path}", app.url),
            std::time::Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(got.status, 200);
    // Served as data, never as a page of the simulator's origin.
    let headers = reqwest::get(format!("{}{path}", app.url)).await.unwrap();
    assert_eq!(headers.headers()["x-content-type-options"], "nosniff");
    assert_eq!(headers.headers()["content-security-policy"], "sandbox");
    assert_eq!(&got.body[..], content);
    // The token is reusable within 30 minutes.
    app.advance(29.0 * 60.0).await;
    let again = upload_with(&app, "photo.JPG", b"\xff\xd8\xff fake jpeg", ts, token).await;
    assert_eq!(again["code"], "SUCCESS", "{again}");
    app.shutdown().await;
}

#[tokio::test]
async fn limits_are_enforced_with_the_documented_error_shape() {
    let app = spawn_app().await;
    let ts = now_ms(&app).await;
    let token = file_token(ts);
    // (file name, content, timestamp, token, expected code, expected detail)
    type Case<'a> = (&'a str, Vec<u8>, i64, String, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "big.pdf",
            vec![b'x'; 10 * 1024 * 1024 + 1],
            ts,
            token.clone(),
            "PARAMETER_ERROR",
            "limit is 10485760 bytes",
        ),
        (
            "tool.exe",
            b"MZ".to_vec(),
            ts,
            token.clone(),
            "PARAMETER_ERROR",
            "not supported",
        ),
        (
            "noext",
            b"x".to_vec(),
            ts,
            token.clone(),
            "PARAMETER_ERROR",
            "not supported",
        ),
        (
            "a.txt",
            b"x".to_vec(),
            ts,
            "00ff".repeat(64),
            "UNAUTHENTICATED_ERROR",
            "invalid token",
        ),
        (
            "a.txt",
            b"x".to_vec(),
            ts + 1,
            token.clone(),
            "UNAUTHENTICATED_ERROR",
            "invalid token",
        ),
        (
            "a.txt",
            b"x".to_vec(),
            ts,
            "not hex".into(),
            "UNAUTHENTICATED_ERROR",
            "invalid token",
        ),
    ];
    for (name, bytes, stamp, tok, code, needle) in cases {
        let reply = upload_with(&app, name, &bytes, stamp, &tok).await;
        assert_eq!(reply["code"], code, "{name}: {reply}");
        assert!(
            reply["detail"].as_str().unwrap().contains(needle),
            "{name}: {reply}"
        );
        assert_eq!(reply["info"], Value::Null);
    }
    // Exactly 10 MB is accepted.
    let ok = upload(&app, "exact.zip", &vec![0u8; 10 * 1024 * 1024]).await;
    assert_eq!(ok["fileName"], "exact.zip");
    // An expired token.
    app.advance(30.0 * 60.0 + 1.0).await;
    let reply = upload_with(&app, "a.txt", b"x", ts, &token).await;
    assert_eq!(reply["code"], "UNAUTHENTICATED_ERROR");
    assert!(
        reply["detail"].as_str().unwrap().contains("expired"),
        "{reply}"
    );
    // Unknown partner, and not multipart at all.
    let (ct, body) = multipart(
        &[
            ("partnerId", "999"),
            ("timestamp", &ts.to_string()),
            ("token", &token),
        ],
        Some(("a.txt", b"x")),
    );
    let (_, text) = app.post_raw("/file/upload", &ct, body).await;
    assert!(text.contains("PARTNER_NOT_EXIST"), "{text}");
    let (_, text) = app
        .post_raw("/file/upload", "application/json", b"{}".to_vec())
        .await;
    assert!(text.contains("multipart/form-data"), "{text}");
    // A body beyond the transport ceiling (11 MiB) gets the same answer, not a dropped connection.
    let (ct, body) = multipart(
        &[("partnerId", DEMO_PARTNER_ID)],
        Some(("huge.zip", &vec![0u8; 12 * 1024 * 1024])),
    );
    let (status, text) = app.post_raw("/file/upload", &ct, body).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("PARAMETER_ERROR") && text.contains("10 MB"),
        "{text}"
    );
    assert_eq!(files(&app).await, 1, "only the accepted file is stored");
    let (status, _) = app.get("/file/202400000000001/nope/x.txt").await;
    assert_eq!(status, 404);
    app.shutdown().await;
}

#[tokio::test]
async fn a_file_belongs_to_the_partner_that_uploaded_it() {
    let app = crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some(crate::helpers::second_partner_config()),
        ..Default::default()
    })
    .await;
    let file = upload(&app, "contract.docx", b"PK contract").await;
    let file_id = file["fileId"].as_str().unwrap();
    let other = crate::helpers::SECOND_PARTNER;
    let ready = crate::whalet_support::trigger(
        &app,
        "whalet.account.ready",
        serde_json::json!({"partnerId": other}),
    )
    .await;
    let order = serde_json::json!({"userId": ready["userId"], "outOrderNo": "o-1", "buyerName": "B",
        "buyerCountry": "US", "goodsName": "G", "currency": "USD", "amount": "10", "attaches": [file]});
    let reply = app
        .client_as(other)
        .call("tradeOrderApply", &order)
        .await
        .unwrap();
    assert_eq!(reply.code, "FAILURE");
    assert!(
        reply.detail.contains(&format!(
            "fileId {file_id:?} was not uploaded by this partner"
        )),
        "{}",
        reply.detail
    );
    // Not even with the owner's key in another partner's path.
    let url = file["fileUrl"].as_str().unwrap();
    let key = &url[url.find("?key=").unwrap()..];
    let (status, _) = app
        .get(&format!("/file/{other}/{file_id}/contract.docx{key}"))
        .await;
    assert_eq!(status, 404);
    // The owner may attach it.
    let mine =
        crate::whalet_support::trigger(&app, "whalet.account.ready", serde_json::json!({})).await;
    let mut order = order;
    order["userId"] = mine["userId"].clone();
    let body = crate::whalet_support::expect(&app, "tradeOrderApply", order, "SUCCESS").await;
    assert_eq!(body["attaches"][0]["fileId"], file_id);
    app.shutdown().await;
}

#[tokio::test]
async fn file_ids_are_24_random_digits() {
    let app = spawn_app().await;
    let ts = now_ms(&app).await;
    let token = file_token(ts);
    let mut ids = Vec::new();
    for i in 0..50 {
        let reply = upload_with(&app, &format!("f{i}.txt"), b"x", ts, &token).await;
        ids.push(reply["info"]["fileId"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        assert!(
            id.len() == 24 && id.bytes().all(|b| b.is_ascii_digit()),
            "{id}"
        );
    }
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "all distinct");
    let numbers: Vec<u128> = ids.iter().map(|id| id.parse().unwrap()).collect();
    assert!(
        numbers.windows(2).any(|w| w[1] < w[0]),
        "minted in increasing order: {ids:?}"
    );
    assert!(
        numbers.windows(2).all(|w| w[0].abs_diff(w[1]) > 1_000_000),
        "neighbours are close: {ids:?}"
    );
    // Uploaded in the same virtual second, they share no time prefix either.
    let prefixes: std::collections::BTreeSet<&str> = ids.iter().map(|id| &id[..8]).collect();
    assert!(prefixes.len() > 40, "{ids:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_file_is_served_only_with_the_key_of_its_url() {
    let app = spawn_app().await;
    let info = upload(&app, "secret.pdf", b"%PDF private").await;
    let url = info["fileUrl"].as_str().unwrap();
    let path = &url[url.find("/file/").unwrap()..];
    let (base, key) = path.split_once("?key=").expect("the fileUrl carries a key");
    assert_eq!(key.len(), 32, "{url}");
    let (status, _) = app.get_text(path).await;
    assert_eq!(status, 200);
    let mut flipped = key.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    let file_id = info["fileId"].as_str().unwrap();
    let unknown = base.replace(file_id, &"9".repeat(24));
    for probe in [
        base.to_owned(),
        format!("{base}?key="),
        format!("{base}?key={flipped}"),
        format!("{base}?key={}", &key[..31]),
        format!("{base}?key={key}0"),
        format!("{unknown}?key={key}"),
        format!(
            "{}?key={key}",
            base.replace("202400000000001", "202400000000002")
        ),
    ] {
        let (status, body) = app.get(&probe).await;
        assert_eq!(status, 404, "{probe}");
        assert_eq!(body["code"], "FAILURE", "{probe}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains("with this key"),
            "the same answer as for an unknown file: {body}"
        );
    }
    // Another upload of the same name gets another key.
    let again = upload(&app, "secret.pdf", b"%PDF private").await;
    assert_ne!(
        again["fileUrl"]
            .as_str()
            .unwrap()
            .split_once("?key=")
            .unwrap()
            .1,
        key
    );
    app.shutdown().await;
}

/// Uploads `a.txt` over a raw HTTP/1.0 connection with the given `Host` line (none when `None`);
/// returns the reply's `fileUrl`.
async fn file_url_with_host(app: &crate::helpers::TestApp, host: Option<&str>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (ct, body) = crate::whalet2_support::fresh_form(app, "a.txt", b"x").await;
    let addr = app.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let host = host.map_or_else(String::new, |h| format!("Host: {h}\r\n"));
    let head = format!(
        "POST /file/upload HTTP/1.0\r\n{host}Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let json = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let reply: Value = serde_json::from_str(json).unwrap();
    assert_eq!(reply["code"], "SUCCESS", "{reply}");
    reply["info"]["fileUrl"].as_str().unwrap().to_owned()
}

/// Regression: the `fileUrl` was built from the raw `Host` header (`http://127.0.0.1/file/…`
/// without one, the port lost; `http://evil.example/x?y=/file/…` for a crafted one). It now
/// takes the base every link takes (`src/api/base_url.rs`).
#[tokio::test]
async fn the_file_url_takes_only_a_plain_host_header() {
    let app = spawn_app().await;
    let named = file_url_with_host(&app, Some("whalet-sim:8080")).await;
    assert!(
        named.starts_with("http://whalet-sim:8080/file/202400000000001/"),
        "{named}"
    );
    for host in [None, Some(""), Some("evil.example/x?y="), Some("a b")] {
        let url = file_url_with_host(&app, host).await;
        assert!(
            url.starts_with(&format!("{}/file/202400000000001/", app.url)),
            "{host:?}: {url}"
        );
        // The link reaches the server.
        let (status, _) = app.get_text(&url[app.url.len()..]).await;
        assert_eq!(status, 200, "{host:?}: {url}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn the_file_url_takes_the_configured_public_url() {
    let app = crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some("[platform]\npublic_url = \"https://sim.example.com/\"\n".into()),
        ..Default::default()
    })
    .await;
    let info = upload(&app, "a.txt", b"x").await;
    let url = info["fileUrl"].as_str().unwrap();
    assert!(
        url.starts_with("https://sim.example.com/file/202400000000001/"),
        "{url}"
    );
    app.shutdown().await;
}

/// Regression: `partnerId` and `timestamp` were trimmed before use, a second `partnerId` part
/// replaced the first silently, and a file part named only by `filename*` got `file type of ""
/// is not supported`. Each is refused precisely, and nothing is stored.
#[tokio::test]
async fn credential_fields_are_taken_as_sent_once_and_a_file_needs_a_filename() {
    let app = spawn_app().await;
    let ts = now_ms(&app).await.to_string();
    let token = file_token(ts.parse().unwrap());
    let padded_partner = format!("{DEMO_PARTNER_ID} ");
    let padded_ts = format!(" {ts}");
    // (form fields, expected detail)
    let cases: Vec<(Vec<(&str, &str)>, String)> = vec![
        (
            vec![
                ("partnerId", &padded_partner),
                ("timestamp", &ts),
                ("token", &token),
            ],
            format!(
                "the form field \"partnerId\" has whitespace around its value \"{padded_partner}\""
            ),
        ),
        (
            vec![
                ("partnerId", DEMO_PARTNER_ID),
                ("timestamp", &padded_ts),
                ("token", &token),
            ],
            format!("the form field \"timestamp\" has whitespace around its value \"{padded_ts}\""),
        ),
        (
            vec![
                ("partnerId", "999"),
                ("partnerId", DEMO_PARTNER_ID),
                ("timestamp", &ts),
                ("token", &token),
            ],
            "the form field \"partnerId\" is sent more than once".to_owned(),
        ),
        (
            vec![
                ("partnerId", DEMO_PARTNER_ID),
                ("timestamp", &ts),
                ("timestamp", &ts),
                ("token", &token),
            ],
            "the form field \"timestamp\" is sent more than once".to_owned(),
        ),
    ];
    for (fields, says) in cases {
        let (ct, body) = multipart(&fields, Some(("a.txt", b"x")));
        let (_, text) = app.post_raw("/file/upload", &ct, body).await;
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reply["code"], "PARAMETER_ERROR", "{fields:?}: {reply}");
        let detail = reply["detail"].as_str().unwrap();
        assert!(detail.contains(&says), "{fields:?}: {detail}");
    }
    // A file part named only in the RFC 5987 form.
    let (ct, mut body) = multipart(
        &[
            ("partnerId", DEMO_PARTNER_ID),
            ("timestamp", &ts),
            ("token", &token),
        ],
        None,
    );
    let end = format!("--{}--\r\n", ct.split_once("boundary=").unwrap().1);
    body.truncate(body.len() - end.len());
    body.extend_from_slice(
        format!(
            "--{}\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%E5%90%88.pdf\r\n\r\n%PDF\r\n{end}",
            ct.split_once("boundary=").unwrap().1
        )
        .as_bytes(),
    );
    let (_, text) = app.post_raw("/file/upload", &ct, body).await;
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["code"], "PARAMETER_ERROR", "{reply}");
    assert!(
        reply["detail"].as_str().unwrap().starts_with(
            "the part \"file\" names no file: its Content-Disposition needs filename="
        ),
        "{reply}"
    );
    assert_eq!(files(&app).await, 0);
    app.shutdown().await;
}
