//! Scenario files that could never (wholly) apply are refused at load, naming the rule (or entry),
//! the key and what to write instead: an unquoted dotted `when` path, `[rule]` for `[[rule]]`,
//! the deserialiser's refusals inside a rule, a predicate that can never hold, a `values` key no
//! operation reads, notify settings with `suppress`, a timeline parameter no trigger could use.
//! A refused scenario leaves nothing loaded.

use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};

/// Loads `text` (TOML, or JSON when it starts with `{`), expecting a 400; answers its reason
/// and line after checking that nothing was loaded.
async fn refused(app: &TestApp, text: &str) -> (String, u64) {
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 400, "{text}: {body}");
    let (_, list) = app.get("/__sim/scenarios").await;
    let loaded = match &list {
        Value::Array(items) => items.len(),
        other => other["scenarios"].as_array().map_or(0, Vec::len),
    };
    assert_eq!(loaded, 0, "{text}: {list}");
    (
        body["reason"].as_str().unwrap_or_default().to_owned(),
        body["line"].as_u64().unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_scenario_with_an_unquoted_dotted_when_path_is_refused_saying_to_quote_it() {
    let app = spawn_app().await;
    for (when, dotted, written) in [
        ("body.amount = \"5\"\n", "body.amount", "\"5\""),
        ("body.amount = { min = 5 }\n", "body.amount", "..."),
        ("a.b.c = 7\n", "a.b.c", "7"),
    ] {
        let text = format!("name = \"s\"\n[[rule]]\nname = \"r1\"\n[rule.when]\n{when}");
        let (reason, line) = refused(&app, &text).await;
        assert!(
            reason.starts_with("rule \"r1\": when ")
                && reason.contains("a field path with dots must be quoted")
                && reason.contains(&format!("write {dotted:?} = {written}")),
            "{when}: {reason}"
        );
        assert_eq!(line, 5, "{when}: {reason}");
    }
    // The same in JSON, where the nesting is written out.
    let json = "{\"name\": \"s\", \"rule\": [{\"name\": \"j\", \"when\": {\"body\": {\"amount\": \"5\"}}}]}";
    let (reason, _) = refused(&app, json).await;
    assert!(
        reason.starts_with("rule \"j\"") && reason.contains("write \"body.amount\" = \"5\""),
        "{reason}"
    );
    // A misspelt test is pointed to the test.
    let text = "name = \"s\"\n[[rule]]\n[rule.when]\namount = { equal = 5 }\n";
    let (reason, _) = refused(&app, text).await;
    assert!(
        reason.starts_with("rule \"rule 1\": when \"amount\": \"equal\" is no test")
            && reason.contains("did you mean equals?"),
        "{reason}"
    );
    // Quoted, it loads.
    let text = "name = \"s\"\n[[rule]]\n[rule.when]\n\"body.amount\" = \"5\"\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_scenario_with_a_single_table_for_an_array_of_tables_is_refused_saying_to_write_two_brackets(
) {
    let app = spawn_app().await;
    for (table, body, what) in [
        ("rule", "name = \"r\"\n", "rule"),
        (
            "timeline",
            "at = \"1s\"\nevent = \"sim.notify.up\"\n",
            "timeline event",
        ),
        ("outage", "from = \"1s\"\n", "outage"),
    ] {
        let text = format!("name = \"s\"\n[{table}]\n{body}");
        let (reason, line) = refused(&app, &text).await;
        assert!(
            reason.contains(&format!("{table} is an array of tables, one per {what}"))
                && reason.contains(&format!("write [[{table}]]"))
                && !reason.contains("expected a sequence"),
            "{table}: {reason}"
        );
        assert_eq!(line, 2, "{table}: {reason}");
    }
    let (reason, _) = refused(&app, "{\"name\": \"s\", \"rule\": {\"name\": \"r\"}}").await;
    assert!(reason.contains("\"rule\": [{...}]"), "{reason}");
}

#[tokio::test]
async fn a_scenario_refused_by_the_format_inside_a_rule_names_the_rule() {
    let app = spawn_app().await;
    let first = "name = \"s\"\n[[rule]]\nname = \"fine\"\n[[rule]]\n";
    for (second, label, says, line) in [
        (
            "name = \"approve\"\n[rule.then]\nresult = \"approved\"\n",
            "rule \"approve\"",
            "unknown variant `approved`",
            7,
        ),
        ("nth = 0\n", "rule \"rule 2\"", "1 or more", 5),
        (
            "name = \"c\"\nchance = 1.5\n",
            "rule \"c\"",
            "between 0 and 1",
            6,
        ),
        (
            "name = \"t\"\nnth = \"x\"\n",
            "rule \"t\"",
            "invalid type",
            6,
        ),
        (
            "name = \"u\"\n[rule.then.notify]\nsupress = true\n",
            "rule \"u\"",
            "unknown field `supress`",
            7,
        ),
    ] {
        let (reason, at) = refused(&app, &format!("{first}{second}")).await;
        assert!(
            reason.starts_with(&format!("{label}: ")) && reason.contains(says),
            "{second}: {reason}"
        );
        assert_eq!(at, line, "{second}: {reason}");
    }
    let json = "{\"name\": \"s\", \"rule\": [{}, {\"name\": \"j\", \"then\": {\"result\": \"approved\"}}]}";
    let (reason, _) = refused(&app, json).await;
    assert!(
        reason.starts_with("rule \"j\": unknown variant"),
        "{reason}"
    );
    // Timeline events and outages are named too; a refusal outside any entry is as it was.
    let (reason, _) = refused(
        &app,
        "name = \"s\"\n[[timeline]]\nat = \"1s\"\nevent = \"sim.notify.up\"\n[[timeline]]\nat = 5\nevent = \"sim.notify.up\"\n",
    )
    .await;
    assert!(reason.starts_with("timeline event 2: "), "{reason}");
    let (reason, _) = refused(&app, "name = \"s\"\n[[outage]]\nchannel = 3\n").await;
    assert!(reason.starts_with("outage 1: "), "{reason}");
    let (reason, _) = refused(&app, "name = \"s\"\nseed = \"x\"\n").await;
    assert!(reason.starts_with("invalid type"), "{reason}");
}

#[tokio::test]
async fn a_scenario_predicate_that_can_never_hold_is_refused_naming_rule_and_key() {
    let app = spawn_app().await;
    for (predicate, test) in [
        ("{ exists = false, equals = \"5\" }", "equals"),
        ("{ exists = false, min = 1 }", "min"),
        ("{ exists = false, prefix = \"U\" }", "prefix"),
        ("{ exists = false, one_of = [\"US\"] }", "one_of"),
    ] {
        let text =
            format!("name = \"s\"\n[[rule]]\nname = \"p\"\n[rule.when]\namount = {predicate}\n");
        let (reason, line) = refused(&app, &text).await;
        assert!(
            reason.starts_with("rule \"p\", when \"amount\": exists = false with ")
                && reason.contains(test)
                && reason.contains("can never hold"),
            "{predicate}: {reason}"
        );
        assert_eq!(line, 5, "{predicate}: {reason}");
    }
    let text = "name = \"s\"\n[[rule]]\nname = \"p\"\n[rule.when]\ncountry = { one_of = [] }\n";
    let (reason, _) = refused(&app, text).await;
    assert!(
        reason.starts_with("rule \"p\", when \"country\": one_of = []"),
        "{reason}"
    );
    // exists = false alone, and exists = true with a value test, load.
    let text = "name = \"s\"\n[[rule]]\n[rule.when]\na = { exists = false }\nb = { exists = true, equals = 1 }\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_scenario_values_key_no_operation_reads_is_refused_naming_the_nearest_key() {
    let app = spawn_app().await;
    let text = "name = \"s\"\n[[rule]]\nname = \"v\"\noperation = \"userOnboardingApply\"\n\
                [rule.then]\nresult = \"failure\"\n[rule.then.values]\nreMateral = \"Y\"\n";
    let (reason, line) = refused(&app, text).await;
    assert!(
        reason.starts_with("rule \"v\": values.reMateral is read by no operation")
            && reason.contains("did you mean reMaterial?"),
        "{reason}"
    );
    assert_eq!(line, 8, "{reason}");
    // Far from every key: the keys operations read are listed.
    let text = "name = \"s\"\n[[rule]]\n[rule.then]\nvalues = { colour = \"red\" }\n";
    let (reason, _) = refused(&app, text).await;
    assert!(
        reason.contains("values.colour is read by no operation")
            && !reason.contains("did you mean")
            && reason.contains("reMaterial (userOnboardingApply)"),
        "{reason}"
    );
    // Every documented key loads.
    let text = "name = \"s\"\n[[rule]]\n[rule.then.values]\nreMaterial = \"Y\"\n\
                materialType = \"Reject\"\nmaterialTypes = \"A,B\"\nmessage = \"m\"\nrate = \"7.1\"\n\
                validSeconds = 60\nedd = \"N\"\nlinkTtl = \"10m\"\nreturnAfter = \"0s\"\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_scenario_suppressing_a_notification_refuses_the_settings_of_its_sending() {
    let app = spawn_app().await;
    for setting in [
        "duplicate = true",
        "delay = \"5s\"",
        "reorder = true",
        "corrupt_signature = true",
    ] {
        let text = format!(
            "name = \"s\"\n[[rule]]\nname = \"n\"\n[rule.then.notify]\nsuppress = true\n{setting}\n"
        );
        let key = setting.split(' ').next().unwrap();
        let (reason, line) = refused(&app, &text).await;
        assert!(
            reason.starts_with("rule \"n\": notify.suppress = true never sends")
                && reason.contains(&format!("notify.{key} cannot apply")),
            "{setting}: {reason}"
        );
        assert_eq!(line, 6, "{setting}: {reason}");
    }
    let text = "name = \"s\"\n[[rule]]\n[rule.then.notify]\nsuppress = true\nduplicate = false\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_scenario_timeline_parameter_no_trigger_could_use_is_refused_at_load() {
    let app = spawn_app().await;
    let text = "name = \"s\"\n[[timeline]]\nat = \"1m\"\nevent = \"sim.notify.down\"\n\
                params = { tenant = \"nobody\" }\n";
    let (reason, line) = refused(&app, text).await;
    assert!(
        reason.starts_with(
            "timeline event 1 (sim.notify.down): parameter tenant must be provider:id"
        ) && reason.contains("\"nobody\""),
        "{reason}"
    );
    assert_eq!(line, 5, "{reason}");
    for count in ["0", "\"0\"", "\"many\""] {
        let text = format!(
            "name = \"s\"\n[[timeline]]\nat = \"1m\"\nevent = \"whalet.connectivity.notify\"\n\
             params = {{ partnerId = \"202400000000001\", count = {count} }}\n"
        );
        let (reason, _) = refused(&app, &text).await;
        assert!(
            reason.starts_with("timeline event 1 (whalet.connectivity.notify): parameter count must be a whole number, 1 or more"),
            "{count}: {reason}"
        );
    }
    let text = "name = \"s\"\n[[timeline]]\nat = \"1m\"\nevent = \"whalet.connectivity.notify\"\n\
                params = { partnerId = \"202400000000001\", count = \"2\" }\n";
    let (status, body) = app.load_scenario(text, "").await;
    assert_eq!(status, 200, "{body}");
}
