//! Round-35 reports `whal` (findings 3, 4, 6) and `pock` (findings 2, 3, 4, 7): `paymentQuery`
//! reads `payId` for pay orders and `payoutId` for payouts; a JSON number beyond the range of a
//! double is read as its text on the Whalet and Pockyt surfaces, not refused as "not JSON"; a
//! null `head` is named null; a form body's byte order mark is named; the journal's request
//! number is a numeric `invoiceId` as sent; a fixed payee field sent unchanged is accepted.

use serde_json::{json, Value};

use crate::helpers::{seal_text, spawn_app, TestApp};
use crate::pockyt_support::{call, ok, payee_fields, signed};
use crate::whalet2_support::{apply_payout, user_with_beneficiary};
use crate::whalet_support::expect;

/// The ids of the records a `query` for `user` with `filter` answers, newest first, each as
/// `payoutId` or `payId` (whichever the record has).
async fn ids(app: &TestApp, query: &str, user: &str, filter: Value) -> Vec<String> {
    let mut body = json!({"userId": user, "pageSize": 100});
    body.as_object_mut()
        .unwrap()
        .extend(filter.as_object().unwrap().clone());
    let page = expect(app, query, body, "SUCCESS").await;
    let records = page["records"].as_array().cloned().unwrap_or_default();
    assert_eq!(page["total"], json!(records.len()), "{query}: {page}");
    records
        .iter()
        .map(|r| {
            r.get("payoutId")
                .or_else(|| r.get("payId"))
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{query}: a record without an id: {r}"))
                .to_owned()
        })
        .collect()
}

/// Regression (whal 3): `paymentQuery` ignored `payId`, answering every payout and pay order even
/// for an unknown id, and its `payoutId` found a pay order by its payId. `payId` now names a pay
/// order and `payoutId` a payout, each only its own kind; both answer the two.
#[tokio::test]
async fn payment_query_finds_a_pay_order_by_pay_id_and_a_payout_by_payout_id() {
    let app = spawn_app().await;
    let (user, beneficiary) = user_with_beneficiary(&app, "100", "fwp51-b", "USD").await;
    let pay = expect(
        &app,
        "payApply",
        json!({"userId": user, "outPayId": "fwp51-p", "fundSource": "B2C", "currency": "USD",
               "amount": "1", "payeeName": "Supplier"}),
        "SUCCESS",
    )
    .await;
    let pay_id = pay["payId"].as_str().unwrap().to_owned();
    let payout = apply_payout(&app, &user, "fwp51-o", "2", &beneficiary, None).await;
    let payout_id = payout["payoutId"].as_str().unwrap().to_owned();

    let all = ids(&app, "paymentQuery", &user, json!({})).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        ids(&app, "paymentQuery", &user, json!({"payId": pay_id})).await,
        vec![pay_id.as_str()]
    );
    assert_eq!(
        ids(&app, "paymentQuery", &user, json!({"payoutId": payout_id})).await,
        vec![payout_id.as_str()]
    );
    let none: [String; 0] = [];
    assert_eq!(
        ids(&app, "paymentQuery", &user, json!({"payId": "NOPE"})).await,
        none,
        "an unknown payId answers nothing"
    );
    assert_eq!(
        ids(&app, "paymentQuery", &user, json!({"payoutId": pay_id})).await,
        none,
        "payoutId does not name a pay order"
    );
    assert_eq!(
        ids(&app, "paymentQuery", &user, json!({"payId": payout_id})).await,
        none,
        "payId does not name a payout"
    );
    let both = ids(
        &app,
        "paymentQuery",
        &user,
        json!({"payId": pay_id, "payoutId": payout_id}),
    )
    .await;
    assert_eq!(both, all, "both ids answer the two records");
    // The one-kind queries keep their own filter.
    assert_eq!(
        ids(&app, "payQuery", &user, json!({"payId": pay_id})).await,
        vec![pay_id.as_str()]
    );
    assert_eq!(
        ids(&app, "withdrawQuery", &user, json!({"payoutId": payout_id})).await,
        vec![payout_id.as_str()]
    );
    app.finish().await;
}

/// `plaintext` sent as the decrypted body of `api_code` by the demo partner.
async fn send_text(
    app: &TestApp,
    api_code: &str,
    request_no: &str,
    plaintext: &str,
) -> (String, String) {
    let sealed = seal_text(app, (api_code, request_no), plaintext.as_bytes(), |k| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(k)
            .into_bytes()
    });
    let reply = app.client.send_raw(sealed).await.unwrap();
    (reply.code, reply.detail)
}

/// Regression (whal 4): a JSON number beyond the range of a double (`1e400`, valid JSON) anywhere
/// in the decrypted body refused the whole request as "the decrypted body is not JSON". It is
/// read as its text: ignored in a field no operation reads, refused naming that text as an
/// amount, as the same characters sent as a string are. A body that is not JSON for another
/// reason is still refused, at its position in the text sent.
#[tokio::test]
async fn a_whalet_number_beyond_the_double_range_is_read_as_its_text() {
    let app = spawn_app().await;
    let (code, detail) = send_text(
        &app,
        "connectivity",
        "FWP51-1",
        r#"{"notifyFlag":"N","responseFlag":"N","clientMeta":{"ratio":1e400,"n":-1E+309}}"#,
    )
    .await;
    assert_eq!(code, "SUCCESS", "{detail}");
    let (user, _) = user_with_beneficiary(&app, "100", "fwp51-b", "USD").await;
    let pay = |amount: &str| {
        format!(
            r#"{{"userId":"{user}","outPayId":"fwp51-huge","fundSource":"B2C","currency":"USD","amount":{amount},"payeeName":"S"}}"#
        )
    };
    let (code, as_number) = send_text(&app, "payApply", "FWP51-2", &pay("1e400")).await;
    assert_eq!(code, "PARAMETER_ERROR", "{as_number}");
    assert!(as_number.contains("amount \"1e400\""), "{as_number}");
    let (_, as_text) = send_text(&app, "payApply", "FWP51-3", &pay("\"1e400\"")).await;
    assert_eq!(as_number, as_text, "the number is read as its text");
    // Another fault after such a number: named where it is in the text sent.
    let (code, detail) = send_text(&app, "connectivity", "FWP51-4", r#"{"a":1e400,"b":x}"#).await;
    assert_eq!(code, "PARAM_FORMAT_ERROR", "{detail}");
    assert!(
        detail.contains("the decrypted body is not JSON: expected value at line 1 column 16"),
        "{detail}"
    );
    app.finish().await;
}

/// The reply head of a raw `/api` request.
async fn raw_head(app: &TestApp, body: &str) -> Value {
    let (_, text) = app
        .post_raw("/api", "application/json", body.as_bytes().to_vec())
        .await;
    serde_json::from_str::<Value>(&text).unwrap()["head"].clone()
}

/// Regression (whal 6): `"head": null` was refused as "`head` is missing"; it is named null, as
/// a null `head.requestNo` is. A missing head is still "missing".
#[tokio::test]
async fn a_null_head_is_named_null_not_missing() {
    let app = spawn_app().await;
    let head = raw_head(&app, r#"{"head": null, "body": {"encrypt": "00"}}"#).await;
    assert_eq!(head["code"], "PARAM_FORMAT_ERROR", "{head}");
    assert_eq!(
        head["detail"], "`head` must be a JSON object, got null",
        "{head}"
    );
    let head = raw_head(&app, r#"{"head": 7, "body": {"encrypt": "00"}}"#).await;
    assert_eq!(
        head["detail"], "`head` must be a JSON object, got a number",
        "{head}"
    );
    let head = raw_head(&app, r#"{"body": {"encrypt": "00"}}"#).await;
    assert_eq!(head["detail"], "`head` is missing", "{head}");
    app.finish().await;
}

/// `fields` signed, as a form body (`name=value` pairs, percent-encoded).
fn form(fields: Value) -> Vec<u8> {
    let pairs: Vec<String> = signed(fields)
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = v.as_str().unwrap();
            let encoded: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={encoded}")
        })
        .collect();
    pairs.join("&").into_bytes()
}

/// Regression (pock 2): a UTF-8 byte order mark before a form body became part of the first
/// parameter's name (`merchantNo is required` although it was sent). It is refused naming the
/// mark, as before a JSON body.
#[tokio::test]
async fn a_form_body_with_a_byte_order_mark_is_refused_naming_the_mark() {
    let app = spawn_app().await;
    let body = form(json!({"currency": "USD"}));
    let post = |bytes: Vec<u8>, content_type: &'static str| {
        let app = &app;
        async move {
            let (status, text) = app
                .post_raw("/v3/payouts/balance", content_type, bytes)
                .await;
            assert_eq!(status, 200, "{text}");
            serde_json::from_str::<Value>(&text).unwrap()
        }
    };
    const FORM: &str = "application/x-www-form-urlencoded";
    let plain = post(body.clone(), FORM).await;
    assert_eq!(plain["ret_code"], "000100", "{plain}");
    let marked = [b"\xEF\xBB\xBF".as_slice(), &body].concat();
    let reply = post(marked, FORM).await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": "the body is not a form Pockyt reads \
            (application/x-www-form-urlencoded): it starts with a UTF-8 byte order mark (bytes \
            EF BB BF), which would become part of the first parameter's name; send the form \
            without it"})
    );
    // The JSON body's refusal is as it was.
    let json_body = serde_json::to_vec(&signed(json!({"currency": "USD"}))).unwrap();
    let reply = post(
        [b"\xEF\xBB\xBF".as_slice(), &json_body].concat(),
        "application/json",
    )
    .await;
    assert_eq!(
        reply,
        json!({"ret_code": "000023", "ret_msg": "the body is not JSON (Pockyt requests are \
            application/json): it starts with a UTF-8 byte order mark (bytes EF BB BF), which \
            JSON sent over the network must not have; send the JSON without it"})
    );
    app.finish().await;
}

/// `fields` signed with each `(name, text)` of `numbers` as that text (what a client signs),
/// then sent as JSON with those values written as bare numbers.
async fn post_numbers(app: &TestApp, path: &str, fields: Value, numbers: &[(&str, &str)]) -> Value {
    let mut fields = fields;
    for (name, text) in numbers {
        fields[*name] = json!(text);
    }
    let mut body = serde_json::to_string(&signed(fields)).unwrap();
    for (name, text) in numbers {
        let quoted = format!("\"{name}\":\"{text}\"");
        assert!(body.contains(&quoted), "{body}");
        body = body.replace(&quoted, &format!("\"{name}\":{text}"));
    }
    let (status, reply) = app
        .post_raw(path, "application/json", body.into_bytes())
        .await;
    assert_eq!(status, 200, "{reply}");
    serde_json::from_str(&reply).unwrap()
}

/// Regression (pock 3): the journal's request number for a numeric `invoiceId` was serde's float
/// rewrite (`1e2` → `100.0`, `1.10` → `1.1`); it is the invoiceId as sent.
#[tokio::test]
async fn the_journal_request_number_of_a_numeric_invoice_id_is_as_sent() {
    let app = spawn_app().await;
    for invoice in ["1e2", "1.10", "12345678901234567890123"] {
        let reply = post_numbers(
            &app,
            "/v3/payouts/pay",
            json!({"customerNo": "1", "accountToken": "1", "currency": "USD", "amount": "3"}),
            &[("invoiceId", invoice)],
        )
        .await;
        assert_ne!(reply["ret_code"], "000030", "signed as sent: {reply}");
        let journal = app.get_json("/__sim/requests?surface=pockyt&limit=1").await;
        assert_eq!(
            journal["requests"][0]["requestNo"], invoice,
            "{invoice}: {journal}"
        );
    }
    app.finish().await;
}

/// Regression (pock 4): a JSON number beyond the range of a double in a Pockyt body, even in a
/// field nothing reads, refused the whole body as "not JSON". It is read (and signed) as its
/// text: an unknown field is ignored, an amount is refused naming it as the same string is.
#[tokio::test]
async fn a_pockyt_number_beyond_the_double_range_is_read_as_its_text() {
    let app = spawn_app().await;
    let customer = ok(&app, "/v3/payee/register", payee_fields("huge@example.com")).await;
    let customer_no = customer["customer"]["customerNo"].as_str().unwrap();
    let reply = post_numbers(
        &app,
        "/v3/payee/retrieve",
        json!({"customerNo": customer_no, "extra": ""}),
        &[("extra", "1e400")],
    )
    .await;
    assert_eq!(reply["ret_code"], "000100", "{reply}");
    assert_eq!(reply["customer"]["customerNo"], customer_no, "{reply}");
    let pay = json!({"customerNo": customer_no, "accountToken": "1", "currency": "USD",
                     "invoiceId": "FWP51-HUGE", "amount": ""});
    let as_number = post_numbers(
        &app,
        "/v3/payouts/pay",
        pay.clone(),
        &[("amount", "-1e400")],
    )
    .await;
    let mut as_text = pay;
    as_text["amount"] = json!("-1e400");
    let as_text = call(&app, "/v3/payouts/pay", as_text).await;
    assert_eq!(as_number, as_text, "the number is read as its text");
    assert!(
        as_number["ret_msg"].as_str().unwrap().contains("-1e400"),
        "{as_number}"
    );
    app.finish().await;
}

/// Regression (pock 7): `/v3/payee/update` refused an unchanged `firstName` or `payorNo` ("cannot
/// be changed") while the unchanged email of the same payee was accepted. A field fixed at
/// registration sent with its registered value is accepted; a change is still refused so.
#[tokio::test]
async fn an_update_accepts_a_fixed_field_sent_unchanged_and_refuses_a_change() {
    let app = spawn_app().await;
    let mut mor = payee_fields("fixed51@example.com");
    mor["payorNo"] = json!("P-51");
    let registered = ok(&app, "/v3/payee/register", mor.clone()).await;
    let no = registered["customer"]["customerNo"].as_str().unwrap();
    // The whole profile sent again, with one updatable change.
    let mut whole = mor.clone();
    whole["customerNo"] = json!(no);
    whole["city"] = json!("Albany");
    let updated = ok(&app, "/v3/payee/update", whole.clone()).await;
    assert_eq!(updated["customer"]["city"], "Albany", "{updated}");
    assert_eq!(updated["customer"]["firstName"], "John", "{updated}");
    // A real change of fixed fields is refused as before, naming only the changed ones.
    let mut changed = whole;
    changed["firstName"] = json!("Jane");
    changed["payorNo"] = json!("P-52");
    let reply = call(&app, "/v3/payee/update", changed).await;
    assert_eq!(reply["ret_code"], "000023", "{reply}");
    let message = reply["ret_msg"].as_str().unwrap();
    assert!(
        message.starts_with(
            "firstName, payorNo cannot be changed by an update (fixed at registration); leave them out."
        ),
        "{message}"
    );
    // A payee registered without a payorNo: an empty one changes nothing, a new one is refused.
    let plain = ok(
        &app,
        "/v3/payee/register",
        payee_fields("plain51@example.com"),
    )
    .await;
    let plain_no = plain["customer"]["customerNo"].as_str().unwrap();
    ok(
        &app,
        "/v3/payee/update",
        json!({"customerNo": plain_no, "payorNo": "", "lastName": "Doe"}),
    )
    .await;
    let reply = call(
        &app,
        "/v3/payee/update",
        json!({"customerNo": plain_no, "payorNo": "P-51"}),
    )
    .await;
    assert!(
        reply["ret_msg"]
            .as_str()
            .unwrap()
            .starts_with("payorNo cannot be changed"),
        "{reply}"
    );
    app.finish().await;
}
