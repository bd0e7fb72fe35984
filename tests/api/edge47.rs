//! Stop 47, a hostile client at the edge: forged requests do not fill in a tenant's coverage,
//! and client text cannot forge log lines.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::spawn_app;

/// `exercised` of the coverage report for `query` (the whole report is larger than the test
/// client reads, so with its own client).
async fn exercised(app: &crate::helpers::TestApp, query: &str) -> u64 {
    let url = format!("{}/__sim/coverage?{query}", app.url);
    let client = whalet_sim::http::client::HttpClient::new().with_answer_limit(1 << 20);
    let r = client.get(&url, Duration::from_secs(60)).await.unwrap();
    let report: Value = serde_json::from_slice(&r.body).unwrap();
    report["exercised"]
        .as_u64()
        .unwrap_or_else(|| panic!("{url}: {report}"))
}

/// The tester's repro: unsigned or wrongly signed requests naming a partner, an app and a
/// merchant were counted in those tenants' coverage reports (which `coverage --min --tenant`
/// gates on). docs/COVERAGE.md: a request counts for its tenant once it authenticated. They
/// still count overall.
#[tokio::test]
async fn forged_requests_count_overall_but_not_for_the_tenant_they_name() {
    let app = spawn_app().await;
    let forged_whalet = json!({"head": {"partnerId": "202400000000001", "apiCode": "payoutApply",
        "requestNo": "R1", "version": "1.0", "sign": "00", "keyEnc": "00"},
        "body": {"encrypt": "00"}});
    let forged_pockyt = json!({"merchantNo": "202333", "storeNo": "301854",
        "timestamp": "2026-12-06T21:00:00Z", "verifySign": "0".repeat(32)});
    let forged_infinia = json!({"version": "1.0", "appId": "demo-app", "dataType": "JSON",
        "requestData": "A".repeat(344), "signature": "AAAA"});
    for (path, body) in [
        ("/api", &forged_whalet),
        ("/v3/payouts/balance", &forged_pockyt),
        ("/api/v1/account-balance/query", &forged_infinia),
    ] {
        let (status, text) = app
            .post_raw(path, "application/json", body.to_string().into_bytes())
            .await;
        assert!(status < 500, "{path}: {status} {text}");
    }
    for (surface, tenant) in [
        ("whalet", "whalet:202400000000001"),
        ("pockyt", "pockyt:202333"),
        ("infinia", "infinia:demo-app"),
    ] {
        let of_tenant = format!("surface={surface}&tenant={tenant}");
        assert_eq!(exercised(&app, &of_tenant).await, 0, "{tenant}");
        assert!(
            exercised(&app, &format!("surface={surface}")).await > 0,
            "{surface}"
        );
    }
    // An authenticated request still counts for its tenant.
    app.connectivity().await;
    assert!(exercised(&app, "surface=whalet&tenant=whalet:202400000000001").await > 0);
    let _: Value = app.get_json("/__sim/invariants").await;
}

/// Sends `head` (a whole request head) to the simulator on a fresh connection; the answer's text.
async fn raw(app: &crate::helpers::TestApp, head: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered and closed")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// The tester's repro (RFC 9112 §3.2): two `Host` headers were served on the first one's word,
/// an HTTP/1.1 request without `Host` was served, and an absolute-form target was checked by its
/// `Host` header rather than by its own authority (which the server must use).
#[tokio::test]
async fn host_headers_are_read_as_http_1_1_requires() {
    let app = spawn_app().await;
    let local = app.url.trim_start_matches("http://").to_owned();
    let twice = format!(
        "GET /__sim/health HTTP/1.1\r\nHost: {local}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    );
    let answer = raw(&app, &twice).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("2 Host headers"), "{answer}");
    let none = "GET /__sim/health HTTP/1.1\r\nConnection: close\r\n\r\n";
    let answer = raw(&app, none).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("must carry a Host header"), "{answer}");
    // HTTP/1.0 needs none.
    let old = "GET /__sim/health HTTP/1.0\r\n\r\n";
    let answer = raw(&app, old).await;
    assert!(answer.contains(" 200 OK"), "{answer}");
    // Absolute form: the target's authority is the host.
    let evil_target = format!(
        "GET http://evil.example/__sim/clock HTTP/1.1\r\nHost: {local}\r\nConnection: close\r\n\r\n"
    );
    let answer = raw(&app, &evil_target).await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let own_target = format!(
        "GET http://{local}/__sim/clock HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    );
    let answer = raw(&app, &own_target).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
