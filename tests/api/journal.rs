//! The request journal: every request decrypted with its reply, newest first, filterable.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn requests_are_journaled_decrypted_with_code_and_filters() {
    let app = spawn_app().await;
    app.client
        .call(
            "connectivity",
            &json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": "one"}),
        )
        .await
        .unwrap();
    app.client
        .call(
            "connectivity",
            &json!({"notifyFlag": "Z", "responseFlag": "Y"}),
        )
        .await
        .unwrap();
    app.post_raw("/api", "application/json", b"nope".to_vec())
        .await;
    let all = app.get_json("/__sim/requests").await;
    let list = all["requests"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["code"], "PARAM_FORMAT_ERROR", "newest first");
    assert_eq!(list[0]["request"], "nope");
    assert_eq!(list[1]["code"], "PARAMETER_ERROR");
    assert!(list[1]["detail"].as_str().unwrap().contains("notifyFlag"));
    assert_eq!(
        list[2]["request"]["responseMessage"], "one",
        "decrypted body"
    );
    assert_eq!(
        list[2]["reply"]["messge"], "one",
        "reply as the partner decrypts it"
    );
    assert_eq!(list[2]["tenant"], "whalet:202400000000001");
    let ok = app.get_json("/__sim/requests?code=SUCCESS").await;
    assert_eq!(ok["requests"].as_array().unwrap().len(), 1);
    let by_partner = app
        .get_json("/__sim/requests?partnerId=202400000000001&apiCode=connectivity")
        .await;
    assert_eq!(by_partner["requests"].as_array().unwrap().len(), 2);
    let id = list[2]["id"].as_u64().unwrap();
    let one = app.get_json(&format!("/__sim/requests/{id}")).await;
    assert_eq!(one["request"]["responseMessage"], "one");
    app.shutdown().await;
}

#[tokio::test]
async fn the_journal_is_bounded() {
    let app = crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some("[journal]\ncapacity = 3\n".into()),
        ..Default::default()
    })
    .await;
    for i in 0..5 {
        app.client
            .call(
                "connectivity",
                &json!({"notifyFlag": "N", "responseFlag": "Y", "responseMessage": i.to_string()}),
            )
            .await
            .unwrap();
    }
    let all = app.get_json("/__sim/requests").await;
    let list = all["requests"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["request"]["responseMessage"], "4");
    assert_eq!(list[2]["request"]["responseMessage"], "2");
    app.shutdown().await;
}

/// An unknown surface is a 400 listing the journal's surfaces, as the other listings refuse an
/// unknown value (it once answered an empty list, as if nothing had been sent); a known one
/// filters.
#[tokio::test]
async fn an_unknown_surface_is_refused_naming_the_known_ones() {
    let app = spawn_app().await;
    app.client
        .call("connectivity", &json!({"notifyFlag": "N"}))
        .await
        .unwrap();
    let (status, body) = app.get("/__sim/requests?surface=nope").await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.starts_with("surface \"nope\" is not one of "),
        "{error}"
    );
    // Regression: `sftp` was offered though nothing is journaled under it (SFTP uploads are
    // `infinia` and `platform` entries), so it always listed nothing.
    let (status, body) = app.get("/__sim/requests?surface=sftp").await;
    assert_eq!(status, 400, "{body}");
    for known in ["whalet", "platform", "infinia", "pockyt", "file", "trigger"] {
        assert!(error.contains(known), "{known}: {error}");
    }
    let whalet = app.get_json("/__sim/requests?surface=whalet").await;
    assert_eq!(whalet["requests"].as_array().unwrap().len(), 1);
    let pockyt = app.get_json("/__sim/requests?surface=pockyt").await;
    assert_eq!(pockyt["requests"], json!([]));
    app.shutdown().await;
}

/// `failed=true` lists only failures (the rule the dashboard marks them by, each entry's
/// `failed`), `before` pages back from a journal id, and `more` says whether more entries match
/// beyond the page: the dashboard's "Failures only" once read the whole journal to find them.
#[tokio::test]
async fn failed_before_and_more_page_through_the_failures() {
    let app = spawn_app().await;
    for flag in ["N", "Z", "N", "Q", "N", "W"] {
        app.client
            .call(
                "connectivity",
                &json!({"notifyFlag": flag, "responseFlag": "Y", "responseMessage": "m"}),
            )
            .await
            .unwrap();
    }
    let ids = |page: &serde_json::Value| -> Vec<u64> {
        page["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_u64().unwrap())
            .collect()
    };
    let all = app.get_json("/__sim/requests").await;
    assert_eq!(all["more"], false);
    let every = ids(&all);
    assert_eq!(every.len(), 6);
    let failed: Vec<bool> = all["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["failed"].as_bool().unwrap())
        .collect();
    assert_eq!(failed, [true, false, true, false, true, false]);

    let first = app.get_json("/__sim/requests?failed=true&limit=2").await;
    assert_eq!(ids(&first), [every[0], every[2]]);
    assert_eq!(first["more"], true);
    assert!(first["requests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["code"] == "PARAMETER_ERROR"));
    let next = app
        .get_json(&format!(
            "/__sim/requests?failed=true&limit=2&before={}",
            every[2]
        ))
        .await;
    assert_eq!(ids(&next), [every[4]]);
    assert_eq!(next["more"], false);
    let older = app
        .get_json(&format!("/__sim/requests?before={}&limit=1", every[4]))
        .await;
    assert_eq!(
        (ids(&older), &older["more"]),
        (vec![every[5]], &json!(false))
    );
    let everything = app.get_json("/__sim/requests?failed=false").await;
    assert_eq!(ids(&everything), every);

    for (query, named) in [
        ("failed=yes", "failed must be true or false, got \"yes\""),
        ("before=abc", "before must be a journal id"),
    ] {
        let (status, body) = app.get(&format!("/__sim/requests?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(named), "{query}: {error}");
    }
    app.shutdown().await;
}

/// A trigger fired without naming its tenant acts on its surface's demo tenant, but its journal
/// entry said `tenant: null`, so `?tenant=` on that tenant missed it. The entry names the tenant
/// the trigger acted on; `sim.notify.down` without a tenant (every tenant) names none.
#[tokio::test]
async fn a_trigger_without_a_tenant_parameter_is_journaled_under_its_default_tenant() {
    let app = spawn_app().await;
    app.trigger_ok("whalet.account.ready", json!({})).await;
    app.trigger_ok(
        "pockyt.balance.funded",
        json!({"currency": "USD", "amount": "1"}),
    )
    .await;
    app.trigger_ok("sim.notify.down", json!({"for": "1s"}))
        .await;
    let operations = |body: serde_json::Value| -> Vec<String> {
        body["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["operation"].as_str().unwrap().to_owned())
            .collect()
    };
    let demo = app
        .get_json("/__sim/requests?tenant=whalet:202400000000001&surface=trigger")
        .await;
    assert_eq!(operations(demo), ["whalet.account.ready"]);
    let merchant = app
        .get_json("/__sim/requests?tenant=pockyt:202333&surface=trigger")
        .await;
    assert_eq!(operations(merchant), ["pockyt.balance.funded"]);
    let all = app.get_json("/__sim/requests?surface=trigger").await;
    assert_eq!(all["requests"][0]["operation"], "sim.notify.down");
    assert_eq!(
        all["requests"][0]["tenant"],
        serde_json::Value::Null,
        "{all}"
    );
    app.shutdown().await;
}

/// What a partner encrypted that is not a request's JSON object: a UTF-8 BOM before the JSON,
/// form text, a double-encoded JSON string, and bytes that are not UTF-8 (the last journaled
/// lossily, saying so).
const NOT_JSON: [(&[u8], &str); 4] = [
    (
        b"\xef\xbb\xbf{\"currency\":\"USD\"}",
        "\u{feff}{\"currency\":\"USD\"}",
    ),
    (b"currency=USD", "currency=USD"),
    (
        b"\"{\\\"currency\\\":\\\"USD\\\"}\"",
        "\"{\\\"currency\\\":\\\"USD\\\"}\"",
    ),
    (
        b"currency=\xff",
        "<not UTF-8, shown lossily> currency=\u{fffd}",
    ),
];

/// Regression: a Whalet request (Open API and platform) whose body decrypted but is not a JSON
/// object was journaled with `"body": "<not decrypted>"`, so the developer never saw what was
/// wrong. The journal now shows the decrypted text beside the head.
#[tokio::test]
async fn a_decrypted_body_that_is_not_json_is_journaled_as_its_text() {
    use base64::Engine;
    let app = spawn_app().await;
    let wrap = |k: &[u8]| {
        base64::engine::general_purpose::STANDARD
            .encode(k)
            .into_bytes()
    };
    for (path, api_code) in [
        ("/api", "queryCurrencyBalance"),
        ("/v1/platform/balanceQuery", "balanceQuery"),
    ] {
        for (i, (plaintext, shown)) in NOT_JSON.iter().enumerate() {
            let no = format!("J-TEXT-{api_code}-{i}");
            let sealed = crate::helpers::seal_text(&app, (api_code, &no), plaintext, wrap);
            app.post_raw(path, "application/json", sealed).await;
            let journal = app.get_json("/__sim/requests?limit=1").await;
            let entry = &journal["requests"][0];
            assert_eq!(entry["code"], "PARAM_FORMAT_ERROR", "{path} {i}: {entry}");
            assert_eq!(entry["request"]["body"], *shown, "{path} {i}: {entry}");
            assert_eq!(entry["request"]["head"]["requestNo"], no, "{entry}");
        }
    }
    app.shutdown().await;
}

/// Regression: the same for Infinia: `requestData` decrypted but not a JSON object was
/// journaled as `"requestData": "<not decrypted>"`; it is now the decrypted text.
#[tokio::test]
async fn infinia_request_data_that_is_not_json_is_journaled_as_its_text() {
    use whalet_sim::wire::infinia as envelope;
    let app = spawn_app().await;
    let merchant = crate::infinia::support::Merchant::demo();
    for (i, (plaintext, shown)) in NOT_JSON.iter().enumerate() {
        let sealed = envelope::seal_request_bytes(
            ("1.0", &merchant.app_id),
            plaintext,
            &merchant.key,
            &merchant.infinia,
            merchant.alg,
        )
        .unwrap();
        app.post_raw(
            "/api/v1/account-balance/query",
            "application/json",
            sealed.to_json(),
        )
        .await;
        let journal = app
            .get_json("/__sim/requests?surface=infinia&limit=1")
            .await;
        let entry = &journal["requests"][0];
        assert_eq!(entry["code"], "SYS-005", "{i}: {entry}");
        assert_eq!(entry["request"]["requestData"], *shown, "{i}: {entry}");
        assert_eq!(entry["request"]["appId"], merchant.app_id, "{entry}");
    }
    app.shutdown().await;
}

/// Regression: an envelope refused while its head was read (here: no `body.encrypt`) was
/// journaled without tenant and requestNo, though its reply echoes both, so the journal
/// filtered by partner or tenant did not list it.
#[tokio::test]
async fn an_envelope_refused_while_read_is_filed_under_the_partner_it_names() {
    let app = spawn_app().await;
    for (path, api_code) in [
        ("/api", "connectivity"),
        ("/v1/platform/balanceQuery", "balanceQuery"),
    ] {
        let no = format!("J-NOENC-{api_code}");
        let body = serde_json::json!({
            "head": {"partnerId": "202400000000001", "apiCode": api_code, "version": "1.0",
                     "requestNo": no, "sign": "00", "keyEnc": "00"},
            "body": {},
        });
        let (status, text) = app
            .post_raw(path, "application/json", body.to_string().into_bytes())
            .await;
        assert!(text.contains("body.encrypt is missing"), "{status} {text}");
        for filter in ["partnerId=202400000000001", "tenant=whalet:202400000000001"] {
            let journal = app
                .get_json(&format!("/__sim/requests?{filter}&limit=1"))
                .await;
            let entry = &journal["requests"][0];
            assert_eq!(entry["requestNo"], no, "{filter}: {entry}");
            assert_eq!(entry["tenant"], "whalet:202400000000001", "{entry}");
        }
    }
    app.shutdown().await;
}

/// Regression: a body no scheme could read was journaled as its first 2,048 bytes, cut inside a
/// character (a U+FFFD where the partner sent `é`) and with no marker, so the journal showed a
/// body the partner never sent, and the column the refusal named was not in it. It is now kept
/// as the journal keeps any field: whole up to `[journal] max_field_bytes`, cut at a character
/// boundary with `… N more bytes` beyond.
#[tokio::test]
async fn an_unreadable_body_is_journaled_whole_up_to_the_field_bound() {
    let app = spawn_app().await;
    let note = "é".repeat(1500);
    let body = format!(
        r#"{{"head":{{"partnerId":"202400000000001","apiCode":"connectivity","requestNo":"R1","version":"1.0","note":"{note}"}},"body":{{"encrypt":"00"}}}} trailing-garbage"#
    );
    let (status, reply) = app
        .post_raw("/api", "application/json", body.clone().into_bytes())
        .await;
    assert!(reply.contains("trailing characters"), "{status} {reply}");
    let journal = app.get_json("/__sim/requests?limit=1&surface=whalet").await;
    let kept = journal["requests"][0]["request"].as_str().unwrap();
    assert_eq!(kept, body, "the journal does not hold the body as sent");
    app.shutdown().await;

    let app = crate::helpers::spawn_with(crate::helpers::Setup {
        config: Some("[journal]\nmax_field_bytes = 1024\n".into()),
        ..Default::default()
    })
    .await;
    app.post_raw("/api", "application/json", body.clone().into_bytes())
        .await;
    let journal = app.get_json("/__sim/requests?limit=1&surface=whalet").await;
    let kept = journal["requests"][0]["request"].as_str().unwrap();
    assert!(kept.ends_with(" more bytes"), "{kept}");
    assert!(!kept.contains('\u{FFFD}'), "cut inside a character: {kept}");
    assert!(body.starts_with(kept.split('…').next().unwrap()), "{kept}");
    app.shutdown().await;
}
