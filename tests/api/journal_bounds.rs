//! The journal and its diagnostics are bounded in bytes (docs/RELIABILITY.md): an echoed client
//! value is cut in the message, every journal field is cut at `[journal] max_field_bytes`, and
//! `GET /__sim/requests` never returns more than `[journal] max_bytes`. Once, an unknown CSV
//! column of 32 MiB became a 33.5 MB journal entry and a 67.8 MB listing; here at a small scale.

use serde_json::{json, Value};

use crate::helpers::{spawn_with, Setup, TestApp};
use crate::infinia::support::{sftp_batch, sftp_port, spawn_infinia, Merchant};

const MAX_FIELD_BYTES: usize = 1024;
const MAX_BYTES: usize = 64 * 1024;

fn bounds() -> String {
    format!("[journal]\nmax_field_bytes = {MAX_FIELD_BYTES}\nmax_bytes = {MAX_BYTES}\n")
}

/// The whole listing as it goes over the wire (the test helpers' client stops reading at
/// 64 KiB, which would hide an oversized listing).
async fn listing(app: &TestApp) -> (usize, Value) {
    let body = reqwest::get(format!("{}/__sim/requests", app.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    (body.len(), serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn a_mebibyte_unknown_csv_column_is_not_echoed_whole() {
    let app = spawn_infinia(&bounds()).await;
    let m = Merchant::demo();
    let dir = tempfile::tempdir().unwrap();
    let column = "c".repeat(1 << 20);
    let local = dir.path().join("huge.csv");
    std::fs::write(&local, format!("tradeNo,{column},tradeType\nT1,x,SALE\n")).unwrap();
    let got = dir.path().join("got.csv");
    let port = sftp_port(&app);
    let (ok, out) = sftp_batch(
        port,
        dir.path(),
        "demo-app",
        &format!("put {} /upload/huge.csv\n", local.display()),
    )
    .await;
    assert!(ok, "{out}");
    app.advance(5.0).await;

    // The diagnostic the platform reads names the column by its start and says how much is cut.
    let s = m
        .ok(
            &app,
            "trade-details/query",
            &json!({"fileName": "huge.csv"}),
        )
        .await;
    assert_eq!(s["status"], "FAILED", "{s:.300}");
    let reason = s["reason"].as_str().unwrap();
    assert!(reason.len() < 1024, "{} bytes: {reason:.300}", reason.len());
    let rest = reason
        .strip_prefix("unknown column \"")
        .unwrap_or_else(|| panic!("{reason}"));
    let kept = rest.len() - rest.trim_start_matches('c').len();
    assert!(kept > 100, "{reason}");
    assert!(
        rest[kept..].starts_with(&format!(
            "\"… {} more bytes in the header",
            (1 << 20) - kept
        )),
        "{reason}"
    );

    // The journal holds the same short diagnostic.
    let journal = app
        .get_json("/__sim/requests?operation=trade-details/upload&code=FAILED")
        .await;
    assert_eq!(journal["requests"][0]["detail"], reason);

    // So does the error file.
    let (ok, out) = sftp_batch(
        port,
        dir.path(),
        "demo-app",
        &format!("get /error/huge_error_file.csv {}\n", got.display()),
    )
    .await;
    assert!(ok, "{out}");
    let error_file = std::fs::read(&got).unwrap();
    assert!(error_file.len() < 2048, "{} bytes", error_file.len());

    let (size, _) = listing(&app).await;
    assert!(size <= MAX_BYTES, "the listing is {size} bytes");
    app.shutdown().await;
}

#[tokio::test]
async fn journal_fields_are_cut_and_the_listing_stays_under_max_bytes() {
    let app = spawn_with(Setup {
        config: Some(bounds()),
        ..Default::default()
    })
    .await;
    // A decrypted request far over the field bound is kept as the start of its JSON text.
    app.client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "m".repeat(10_000)}),
        )
        .await
        .unwrap();
    let entry = app.get_json("/__sim/requests?limit=1").await["requests"][0].clone();
    let request = entry["request"].as_str().expect("kept as text");
    assert!(request.len() <= MAX_FIELD_BYTES, "{} bytes", request.len());
    assert!(
        request.contains("\"responseMessage\":\"mmm"),
        "{request:.200}"
    );
    assert!(request.ends_with(" more bytes"), "{request:.200}");
    for field in ["reply", "detail"] {
        // A text field as it is kept; a structured one by its JSON.
        let len = match &entry[field] {
            Value::String(text) => text.len(),
            other => serde_json::to_string(other).unwrap().len(),
        };
        assert!(len <= MAX_FIELD_BYTES, "{field}: {len} bytes");
    }

    // 100 unreadable bodies, each journaled as a 1 KiB preview: about 130 KB of entries, more
    // than max_bytes allows, while the entry count (2,000) is far from its bound.
    for i in 0..100u8 {
        app.post_raw("/api", "application/json", vec![b'0' + i % 10; 4000])
            .await;
    }
    let (size, all) = listing(&app).await;
    assert!(size <= MAX_BYTES, "the listing is {size} bytes");
    let list = all["requests"].as_array().unwrap();
    assert!(
        list.len() > 20 && list.len() < 100,
        "{} entries",
        list.len()
    );
    assert!(
        list[0]["request"].as_str().unwrap().starts_with("999"),
        "the newest entry is kept"
    );
    assert_eq!(list[0]["code"], "PARAM_FORMAT_ERROR");
    app.shutdown().await;
}

#[tokio::test]
async fn refusals_echo_at_most_the_start_of_a_huge_value() {
    let app = crate::helpers::spawn_app().await;
    let huge = "Z".repeat(100_000);
    // Whalet: a Y/N flag.
    let reply = app
        .client
        .call(
            "connectivity",
            &json!({"notifyFlag": huge, "responseFlag": "Y"}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "PARAMETER_ERROR");
    // On the wire at most the documented 256 characters; the journal has the bounded echo.
    assert!(reply.detail.chars().count() <= 256, "{}", reply.detail);
    // (The journal listing holds the 64 KiB request: read it without the test client's cap.)
    let listing = reqwest::get(format!("{}/__sim/requests?surface=whalet&limit=1", app.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let journal: Value = serde_json::from_slice(&listing).unwrap();
    let full = journal["requests"][0]["detail"].as_str().unwrap();
    assert!(full.len() < 1024, "{} bytes", full.len());
    assert!(
        full.starts_with("notifyFlag must be \"Y\" or \"N\", got \"ZZZ"),
        "{full}"
    );
    assert!(full.ends_with(" more bytes"), "{full}");
    // Pockyt: an e-mail address and an enumerated value.
    for (field, value) in [("email", huge.clone()), ("profileType", huge.clone())] {
        let mut fields = crate::pockyt_support::payee_fields("a@example.com");
        fields[field] = json!(value);
        let reply = crate::pockyt_support::call(&app, "/v3/payee/register", fields).await;
        assert_eq!(reply["ret_code"], "000023", "{reply:.300}");
        let msg = reply["ret_msg"].as_str().unwrap();
        assert!(msg.len() < 1024, "{field}: {} bytes", msg.len());
        assert!(msg.starts_with(field), "{msg}");
        assert!(
            msg.ends_with(&format!(
                "{} more bytes",
                100_000 - (msg.matches('Z').count())
            )),
            "{msg}"
        );
    }
    app.shutdown().await;
}
