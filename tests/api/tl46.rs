//! Stop 46's scenario fixes: a bad timeline parameter is located at that parameter (TOML and
//! JSON), an outage on another provider's channel is refused in a scenario for one tenant (as a
//! rule's surface of another provider is), and a reset's cancelled timeline events are said to
//! be cancelled, by the view and by the dashboard's Clock view.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::{json, Value};

use crate::browser;
use crate::dashboard::support::{assert_no_script_errors, open, wait_text};
use crate::helpers::{spawn_app, TestApp};

const TENANT: &str = "whalet:202400000000001";
const SCOPE: &str = "tenant=whalet:202400000000001";

/// A scenario with one collection event whose `[timeline.params]` table is `params` (from line 6).
fn with_params(params: &str) -> String {
    format!(
        "name = \"t\"\n[[timeline]]\nat = \"1s\"\nevent = \"whalet.collection.received\"\n\
         [timeline.params]\n{params}"
    )
}

fn at(body: &Value) -> (i64, i64) {
    (
        body["line"].as_i64().unwrap_or(-1),
        body["column"].as_i64().unwrap_or(-1),
    )
}

#[tokio::test]
async fn a_bad_timeline_parameter_is_located_at_that_parameter_in_toml_and_json() {
    let app = spawn_app().await;
    // Unknown (line 7), mistyped and empty (line 6): the value at fault.
    for (params, line, column, says) in [
        (
            "amount = \"1.00\"\nbogus = \"x\"\n",
            7,
            9,
            "no parameter \"bogus\"",
        ),
        ("amount = 5\n", 6, 10, "amount must be a string"),
        ("amount = \"\"\n", 6, 10, "amount is empty"),
    ] {
        let (status, body) = app.load_scenario(&with_params(params), SCOPE).await;
        assert_eq!(status, 400, "{params}: {body}");
        assert_eq!(at(&body), (line, column), "{params}: {body}");
        assert!(body["reason"].as_str().unwrap().contains(says), "{body}");
    }
    // A missing parameter has no place of its own: the event's `event` (line 4).
    let (status, body) = app
        .load_scenario(&with_params("currency = \"USD\"\n"), SCOPE)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(at(&body).0, 4, "{body}");
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("needs parameter amount"),
        "{body}"
    );
    // JSON: the bad parameter's value is on line 3, the event on line 2.
    let text = "{\"name\": \"t\", \"timeline\": [{\"at\": \"1s\",\n\"event\": \"whalet.collection.received\", \"params\": {\"amount\": \"1.00\",\n\"bogus\": \"x\"}}]}";
    let (status, body) = app
        .post_raw(
            &format!("/__sim/scenarios?{SCOPE}"),
            "application/json",
            text.into(),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(at(&body), (3, 10), "{body}");
    assert_eq!(
        app.get("/__sim/scenarios/t?tenant=whalet:202400000000001")
            .await
            .0,
        404
    );
    app.shutdown().await;
}

#[tokio::test]
async fn an_outage_on_another_providers_channel_is_refused_in_a_scenario_for_one_tenant() {
    let app = spawn_app().await;
    let text = "name = \"ch\"\n[[outage]]\nchannel = \"pockyt\"\n";
    let (status, body) = app.load_scenario(text, SCOPE).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(at(&body).0, 3, "{body}");
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.contains("channel pockyt"), "{reason}");
    assert!(reason.contains(TENANT), "{reason}");
    assert!(reason.contains("name channel whalet"), "{reason}");
    assert_eq!(
        app.get(&format!("/__sim/scenarios/ch?{SCOPE}")).await.0,
        404
    );
    // The tenant's own channel loads, and so does any channel for every tenant.
    let (status, body) = app
        .load_scenario("name = \"ch\"\n[[outage]]\nchannel = \"whalet\"\n", SCOPE)
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

const TIMELINE: &str = "name = \"tl\"\n\
    [[timeline]]\nat = \"0s\"\nevent = \"whalet.collection.received\"\n[timeline.params]\namount = \"1.00\"\n\
    [[timeline]]\nat = \"1m\"\nevent = \"whalet.collection.received\"\n[timeline.params]\namount = \"2.00\"\n";

/// Loads [`TIMELINE`] (`query`: its scope, `tenant=*` for every tenant) and waits for its 0s
/// event to have fired.
async fn load_timeline(app: &TestApp, query: &str) -> Value {
    let load = if query == "tenant=*" { "" } else { query };
    let (status, body) = app.load_scenario(TIMELINE, load).await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..100 {
        let view = app.get_json(&format!("/__sim/scenarios/tl?{query}")).await;
        if view["fired"].as_array().is_some_and(|f| !f.is_empty()) {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the 0s event never fired");
}

/// Which 1-based timeline entries the view marks cancelled by a reset.
fn cancelled(view: &Value) -> (Vec<usize>, Vec<usize>) {
    let marked = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, e)| e["cancelled"] == "reset")
        .map(|(i, _)| i + 1)
        .collect();
    let listed = view["cancelled"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|c| assert_eq!(c["by"], "reset", "{c}"))
        .map(|c| c["index"].as_u64().unwrap() as usize)
        .collect();
    (marked, listed)
}

#[tokio::test]
async fn a_reset_says_which_timeline_events_it_cancelled_until_the_scenario_is_loaded_again() {
    let app = spawn_app().await;
    // A tenant's reset, through ?tenant=.
    let view = load_timeline(&app, SCOPE).await;
    assert_eq!(cancelled(&view), (vec![], vec![]), "{view}");
    let (status, body) = app.post(&format!("/__sim/reset?{SCOPE}"), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    app.advance(120.0).await;
    let view = app.get_json(&format!("/__sim/scenarios/tl?{SCOPE}")).await;
    assert_eq!(view["fired"].as_array().unwrap().len(), 1, "{view}");
    assert_eq!(cancelled(&view), (vec![2], vec![2]), "{view}");
    // Loading it again schedules it anew: nothing cancelled.
    let view = load_timeline(&app, SCOPE).await;
    assert_eq!(cancelled(&view), (vec![], vec![]), "{view}");
    // A reset of everything, for a scenario of every tenant.
    let view = load_timeline(&app, "tenant=*").await;
    assert_eq!(cancelled(&view), (vec![], vec![]), "{view}");
    let (status, body) = app.post("/__sim/reset", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    let view = app.get_json("/__sim/scenarios/tl?tenant=*").await;
    assert_eq!(cancelled(&view), (vec![2], vec![2]), "{view}");
    app.shutdown().await;
}

#[tokio::test]
async fn the_clock_view_shows_events_a_reset_cancelled_as_cancelled_never_as_due() {
    let app = spawn_app().await;
    let Some(browser) = browser::start(1280, 900).await else {
        app.shutdown().await;
        return;
    };
    load_timeline(&app, SCOPE).await;
    let (status, body) = app.post(&format!("/__sim/reset?{SCOPE}"), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    let c = &browser.client;
    open(&browser, &app, "/__sim/ui/clock").await;
    let item = wait_text(c, "li.scenario", "cancelled by a reset").await;
    let text = item.text().await.unwrap();
    assert!(
        text.contains("1 of 2 timeline event(s) fired; 1 cancelled"),
        "{text}"
    );
    assert!(text.contains("load the scenario again"), "{text}");
    let events = item.find_all(Locator::Css("ul.events li")).await.unwrap();
    assert_eq!(events.len(), 2);
    let second = events[1].text().await.unwrap();
    assert!(second.contains("cancelled by reset"), "{second}");
    assert!(!second.contains("in "), "{second}");
    assert_no_script_errors(c, "clock").await;
    browser.close().await;
    app.shutdown().await;
}
