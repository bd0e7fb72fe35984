//! Regressions found by the round-28 exploratory testers and fixed outside a helper's module.

use crate::helpers::spawn_config;

/// Regression: a JSON body that starts with a UTF-8 byte order mark (as Windows and .NET
/// writers add) was refused on every surface as "expected value at line 1 column 1", which
/// names nothing the partner can see. Each surface and the control plane now name the mark.
#[tokio::test]
async fn a_body_with_a_byte_order_mark_is_told_so_on_every_surface() {
    let app = spawn_config("[platform]\nauth = \"none\"\n").await;
    let bom = |json: &str| [b"\xEF\xBB\xBF".as_slice(), json.as_bytes()].concat();
    for path in [
        "/api",
        "/v1/platform/balanceQuery",
        "/v3/payouts/balance",
        "/api/v1/account-balance/query",
        "/__sim/clock/advance",
    ] {
        let (status, body) = app
            .post_raw(path, "application/json", bom("{\"ms\": 1}"))
            .await;
        assert!(
            body.contains("byte order mark"),
            "{path}: HTTP {status}: {body}"
        );
        // The same JSON without the mark is not refused for being JSON at all.
        let (_, plain) = app
            .post_raw(path, "application/json", b"{\"ms\": 1}".to_vec())
            .await;
        assert!(
            !plain.contains("byte order mark") && !plain.contains("is not JSON"),
            "{path}: {plain}"
        );
    }
    app.finish().await;
}
