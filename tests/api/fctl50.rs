//! Fixes of stop 50 (control plane): an advance is answered at once when the simulator stops, and
//! says when a reset or an import cut it short; `whalet.collection.received` refuses a blank
//! parameter rather than read it as "absent"; `/__sim/operations?tenant=` lists that tenant's
//! surfaces only; a repeated `Authorization` is refused; an empty filter is a fast `400`; a
//! tenant the simulator does not have is echoed quoted; `?token=` is read as a URL's query is.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use whalet_sim::partner::receiver::Mode;

use crate::helpers::{spawn_app, spawn_with, Setup, TestApp};
use crate::persistence::{export, import};

const PARTNER: &str = "202400000000001";

/// The simulator with a receiver that never answers, its attempts timing out after
/// `timeout_ms`, and one notification on its way to it: an advance waits for the attempt.
async fn waiting_on_a_hung_receiver(timeout_ms: u64) -> TestApp {
    let app = spawn_with(Setup {
        receiver: Some(Mode::Hang),
        config: Some(format!("[notify]\ntimeout_ms = {timeout_ms}\n")),
        ..Setup::default()
    })
    .await;
    app.trigger_ok("whalet.connectivity.notify", json!({"partnerId": PARTNER}))
        .await;
    app
}

/// `POST /__sim/clock/advance` from a task of its own: (status, body).
fn advancing(app: &TestApp, seconds: f64) -> tokio::task::JoinHandle<(u16, Value)> {
    let (http, url) = (app.http.clone(), app.url.clone());
    tokio::spawn(async move {
        let body = serde_json::to_vec(&json!({ "seconds": seconds })).unwrap();
        let r = http
            .post(
                &format!("{url}/__sim/clock/advance"),
                "application/json",
                body.into(),
                Duration::from_secs(60),
            )
            .await
            .expect("the advance is answered");
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    })
}

/// The tester's report: a SIGTERM while an advance waited on a receiver that never answers left
/// the advance unanswered (an empty reply) and the stop waited out the 10 s drain. The advance
/// now stops, answers 503 at once saying where the clock stopped, and the stop is prompt.
#[tokio::test]
async fn an_advance_waiting_on_a_hung_receiver_is_answered_at_once_when_the_simulator_stops() {
    let mut app = waiting_on_a_hung_receiver(30_000).await;
    let advance = advancing(&app, 31.0);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!advance.is_finished(), "the advance waits for the attempt");
    let started = Instant::now();
    app.running.take().unwrap().shutdown().await;
    let stopped_in = started.elapsed();
    let (status, body) = advance.await.unwrap();
    assert!(
        stopped_in < Duration::from_secs(3),
        "shutdown took {stopped_in:?}"
    );
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["stopped"], "shutdown", "{body}");
    assert_eq!(body["movedMs"], 0, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("the simulator is stopping"), "{body}");
    assert!(error.contains("0 of the 31000 virtual ms"), "{body}");
    app.shutdown().await;
}

/// The tester's report: an advance during which all state was reset answered 200 as any other,
/// with nothing saying it did not do what was asked. Its answer now says why it stopped and how
/// far it moved the clock; one that ran to its end says `stopped: null` and all it moved. An
/// import ends an advance alike.
#[tokio::test]
async fn an_advance_cut_short_by_a_reset_or_an_import_says_so() {
    let app = waiting_on_a_hung_receiver(1_000).await;
    let before = app.get_json("/__sim/clock").await["now"].as_i64().unwrap();
    let advance = advancing(&app, 31.0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = app.post("/__sim/reset", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = advance.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stopped"], "reset", "{body}");
    assert_eq!(body["movedMs"], 0, "{body}");
    assert_eq!(
        body["now"], before,
        "the clock stayed where the reset found it"
    );

    // An advance that runs to its end.
    let done = app.advance(2.5).await;
    assert_eq!(done["stopped"], Value::Null, "{done}");
    assert_eq!(done["movedMs"], 2_500, "{done}");
    assert_eq!(done["now"], before + 2_500, "{done}");

    // An import.
    let saved = export(&app, "").await;
    app.trigger_ok("whalet.connectivity.notify", json!({"partnerId": PARTNER}))
        .await;
    let advance = advancing(&app, 31.0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = import(&app, "", saved).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = advance.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stopped"], "import", "{body}");
    assert_eq!(body["movedMs"], 0, "{body}");
    app.shutdown().await;
}

/// The tester's report: `cardId=" "` passed the trigger's checks and was then read as "not
/// given", so the money went to the default account, another user's (and so did a blank
/// currency, fundSource, userId, accountNo, payerCountry or shopId). Each is refused, naming
/// it, and nothing arrives; the partner API keeps reading a blank optional field as one left out.
#[tokio::test]
async fn a_blank_collection_parameter_is_refused_not_read_as_the_default() {
    let app = spawn_app().await;
    let usd = app
        .trigger_ok("whalet.account.ready", json!({"currency": "USD"}))
        .await;
    app.trigger_ok("whalet.account.ready", json!({"currency": "EUR"}))
        .await;
    for field in [
        "cardId",
        "currency",
        "fundSource",
        "userId",
        "accountNo",
        "payerCountry",
        "shopId",
        "payerName",
        "remark",
    ] {
        let mut params = json!({"amount": "100.00"});
        params[field] = json!(" ");
        let (status, body) = app
            .post("/__sim/trigger/whalet.collection.received", &params)
            .await;
        assert_eq!(status, 400, "{field}: {body}");
        assert_eq!(
            body["error"],
            format!(
                "whalet.collection.received: parameter {field} is blank (\" \"); give a value, \
                 or leave it out for the default"
            ),
            "{field}"
        );
    }
    let state = app
        .get_json(&format!("/__sim/state?tenant=whalet:{PARTNER}"))
        .await;
    let collections = &state["tenants"][format!("whalet:{PARTNER}")]["whalet"]["collections"];
    assert_eq!(collections, &json!({}), "no money arrived: {collections}");
    // The API's reader is unchanged: a blank optional field is one left out.
    let reply = app
        .client
        .call(
            "mockPayeeNotify",
            &json!({"userId": usd["userId"], "cardId": usd["cardId"], "currency": "USD",
                    "amount": "1.00", "remark": " "}),
        )
        .await
        .unwrap();
    assert_eq!(reply.code, "SUCCESS", "{}", reply.detail);
    app.finish().await;
}

/// The tester's report: `/__sim/operations?tenant=pockyt:202333` listed every surface's
/// operations (and `&surface=whalet` 200), while coverage refused the same pair. The listing now
/// holds the tenant's own surfaces only, and a surface it cannot reach is refused as coverage
/// refuses it.
#[tokio::test]
async fn the_operations_of_a_tenant_are_those_of_its_own_surfaces() {
    let app = spawn_app().await;
    let surfaces = |body: &Value| -> std::collections::BTreeSet<String> {
        body["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|op| op["surface"].as_str().unwrap().to_owned())
            .collect()
    };
    let pockyt = app.get_json("/__sim/operations?tenant=pockyt:202333").await;
    assert_eq!(
        surfaces(&pockyt).into_iter().collect::<Vec<_>>(),
        ["pockyt"],
        "{pockyt}"
    );
    let whalet = app
        .get_json(&format!("/__sim/operations?tenant=whalet:{PARTNER}"))
        .await;
    assert_eq!(
        surfaces(&whalet).into_iter().collect::<Vec<_>>(),
        ["file", "platform", "whalet"]
    );
    for (query, coverage) in [
        ("tenant=pockyt:202333&surface=whalet", true),
        ("tenant=infinia:demo-app&surface=pockyt", true),
    ] {
        let (status, body) = app.get(&format!("/__sim/operations?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        let (_, cov) = app.get(&format!("/__sim/coverage?{query}")).await;
        assert_eq!(
            body["error"], cov["error"],
            "the same refusal as coverage's"
        );
        assert_eq!(
            coverage,
            body["error"]
                .as_str()
                .unwrap()
                .contains("is not a tenant of surface")
        );
    }
    let (status, body) = app
        .get("/__sim/operations?tenant=pockyt:202333&surface=pockyt")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], pockyt["count"]);
    app.shutdown().await;
}

const TOKEN: &str = "s3cr+t&x";

async fn with_token() -> TestApp {
    spawn_with(Setup {
        config: Some(format!("[server]\nadmin_token = \"{TOKEN}\"\n")),
        ..Setup::default()
    })
    .await
}

/// `GET url` with `headers` (each sent as given, a name twice when listed twice), not following
/// redirects: (status, body).
async fn send(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// The tester's reports: `Authorization` sent twice let the first decide (the right token then a
/// wrong one passed, the other order did not); and a token holding `+` and `&` could not be
/// given in `?token=` as documented (`+` typed as it is, `&` as `%26`): the value was compared
/// whole as typed or form-decoded (`+` a space), never both ways at once.
#[tokio::test]
async fn a_repeated_authorization_is_refused_and_the_token_reads_as_a_url_query() {
    let app = with_token().await;
    let url = format!("{}/__sim/requests", app.url);
    let (right, wrong) = (format!("Bearer {TOKEN}"), "Bearer wrong".to_owned());
    assert_eq!(send(&url, &[("authorization", &right)]).await.0, 200);
    for pair in [[&right, &wrong], [&wrong, &right], [&right, &right]] {
        let headers = [
            ("authorization", pair[0].as_str()),
            ("authorization", pair[1].as_str()),
        ];
        let (status, body) = send(&url, &headers).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body.contains("the header Authorization is sent 2 times; send it once"),
            "{body}"
        );
    }
    for (typed, status) in [
        ("s3cr+t%26x", 303),
        ("s3cr%2Bt%26x", 303),
        ("s3cr%2bt%26x", 303),
        ("s3cr%20t%26x", 401),
        ("s3cr+t&x", 401),
    ] {
        let (got, body) = send(&format!("{}/?token={typed}", app.url), &[]).await;
        assert_eq!(got, status, "{typed}: {body}");
        if got == 401 {
            assert!(body.contains("`+` is read as a plus sign"), "{body}");
        }
    }
    app.shutdown().await;
}

/// The tester's report: `apiCode=` (a script's unset variable) was a filter for "": a wait ran
/// to its timeout although a notification had been delivered, and the listings answered empty.
/// Every such filter given empty is a `400` at once, naming it.
#[tokio::test]
async fn an_empty_filter_is_refused_at_once_naming_it() {
    let app = spawn_app().await;
    app.client
        .call(
            "connectivity",
            &json!({"notifyFlag": "Y", "responseFlag": "N"}),
        )
        .await
        .unwrap();
    app.advance(0.5).await;
    app.wait_notification("apiCode=connectivityNotify").await;
    for (path, name) in [
        (
            "/__sim/notifications/wait?apiCode=&timeoutMs=5000",
            "apiCode",
        ),
        (
            "/__sim/notifications/wait?businessId=&timeoutMs=5000",
            "businessId",
        ),
        ("/__sim/notifications?apiCode=", "apiCode"),
        ("/__sim/notifications?businessId=", "businessId"),
        ("/__sim/requests?code=", "code"),
        ("/__sim/requests?apiCode=", "apiCode"),
        ("/__sim/requests?operation=", "operation"),
        ("/__sim/requests?partnerId=", "partnerId"),
    ] {
        let started = Instant::now();
        let (status, body) = app.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(started.elapsed() < Duration::from_secs(2), "{path}");
        assert_eq!(
            body["error"],
            format!("{name} is empty; give a value, or leave {name} out to match any"),
            "{path}"
        );
    }
    app.shutdown().await;
}

/// The tester's report: `no tenant pockyt:202333  is configured (configured: …, pockyt:202333)`
/// showed the tenant unquoted, its padding invisible. It is quoted wherever a request named it.
#[tokio::test]
async fn a_tenant_that_does_not_exist_is_echoed_quoted() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/__sim/reset", &json!({"tenant": "pockyt:202333 "}))
        .await;
    assert_eq!(status, 404, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.starts_with("no tenant \"pockyt:202333 \" is configured (configured: "),
        "{body}"
    );
    let (status, body) = app.get("/__sim/state?tenant=pockyt:%20202333").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("no tenant \"pockyt: 202333\" is configured"),
        "{body}"
    );
    let (status, body) = app
        .post(
            "/__sim/trigger/sim.notify.down",
            &json!({"tenant": "whalet:1 "}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("sim.notify.down: no tenant \"whalet:1 \" is configured"),
        "{body}"
    );
    app.shutdown().await;
}
