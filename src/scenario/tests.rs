//! Rule matching and precedence, counting, chance and seeds, on the engine alone.

use serde_json::json;

use super::*;
use crate::tenant::Provider;

fn tenant(id: &str) -> TenantId {
    TenantId::new(Provider::Whalet, id)
}

fn load(engine: &Scenarios, text: &str) {
    let file = format::parse::<()>(text, "test.toml", &[]).unwrap();
    engine.load(file, None, "test.toml");
}

fn decide(engine: &Scenarios, t: &TenantId, op: &str, fields: Value) -> Decision {
    engine.decide(OperationCtx {
        surface: "whalet",
        tenant: t,
        operation: op,
        fields: &fields,
    })
}

#[test]
fn no_rule_is_the_happy_path() {
    let engine = Scenarios::new();
    let d = decide(&engine, &tenant("1"), "connectivity", json!({}));
    assert_eq!(d.rule, None);
    assert!(d.succeeds());
    assert_eq!(d.delay_or(5000), 5000);
}

#[test]
fn a_rule_decides_everything_it_says() {
    let engine = Scenarios::new();
    load(
        &engine,
        r#"
name = "s"
[[rule]]
name = "big payouts fail"
surface = "whalet"
operation = ["withdraw", "payout*"]
[rule.when]
amount = { min = "100.00", max = "500" }
"user.country" = "CN"
[rule.then]
code = "FAILURE"
detail = "no"
http_status = 503
latency_ms = 5
result = "failure"
status = "REJECTED"
reason = "docs"
delay = "30s"
values = { rate = "7.1" }
[rule.then.notify]
delay = "5s"
duplicate = true
"#,
    );
    let t = tenant("1");
    let fields = json!({"amount": "250", "user": {"country": "CN"}});
    let d = decide(&engine, &t, "payoutCreate", fields.clone());
    assert_eq!(d.rule.as_deref(), Some("big payouts fail"));
    assert_eq!(d.scenario.as_deref(), Some("s"));
    let sync = d.sync.clone().unwrap();
    assert_eq!(sync.code.as_deref(), Some("FAILURE"));
    assert_eq!(sync.http_status, Some(503));
    assert_eq!(d.latency_ms, 5);
    assert!(!d.succeeds());
    assert_eq!(d.reason(), Some("docs"));
    assert_eq!(d.delay_ms, Some(30_000));
    assert_eq!(d.notify.delay_ms, 5_000);
    assert!(d.notify.duplicate);
    assert_eq!(d.values["rate"], "7.1");
    // Each selector can exclude it.
    assert_eq!(decide(&engine, &t, "deposit", fields.clone()).rule, None);
    let small = json!({"amount": "99.99", "user": {"country": "CN"}});
    assert_eq!(decide(&engine, &t, "withdraw", small).rule, None);
    let us = json!({"amount": "250", "user": {"country": "US"}});
    assert_eq!(decide(&engine, &t, "withdraw", us).rule, None);
    let other_surface = engine.decide(OperationCtx {
        surface: "pockyt",
        tenant: &t,
        operation: "withdraw",
        fields: &fields,
    });
    assert_eq!(other_surface.rule, None);
}

#[test]
fn first_matching_rule_wins_scoped_before_global_newest_first() {
    let engine = Scenarios::new();
    load(
        &engine,
        "name = \"old\"\n[[rule]]\nname = \"old-a\"\n[[rule]]\nname = \"old-b\"\n",
    );
    let t = tenant("1");
    assert_eq!(
        decide(&engine, &t, "x", json!({})).rule.as_deref(),
        Some("old-a")
    );
    load(&engine, "name = \"new\"\n[[rule]]\nname = \"new-a\"\n");
    assert_eq!(
        decide(&engine, &t, "x", json!({})).rule.as_deref(),
        Some("new-a")
    );
    load(
        &engine,
        "name = \"mine\"\ntenant = \"whalet:1\"\n[[rule]]\nname = \"scoped\"\n",
    );
    assert_eq!(
        decide(&engine, &t, "x", json!({})).rule.as_deref(),
        Some("scoped")
    );
    assert_eq!(
        decide(&engine, &tenant("2"), "x", json!({}))
            .rule
            .as_deref(),
        Some("new-a")
    );
    // Loading a scenario with the same name replaces it (it becomes the newest).
    load(&engine, "name = \"old\"\n[[rule]]\nname = \"old-2\"\n");
    assert_eq!(
        decide(&engine, &tenant("2"), "x", json!({}))
            .rule
            .as_deref(),
        Some("old-2")
    );
    assert_eq!(engine.list(None).len(), 3);
}

#[test]
fn nth_first_after_and_window_count_matching_requests_per_tenant() {
    let engine = Scenarios::new();
    load(
        &engine,
        r#"
name = "counts"
[[rule]]
name = "second"
operation = "a"
nth = 2
[[rule]]
name = "first-two-b"
operation = "b"
first = 2
[[rule]]
name = "limited"
operation = "c"
after = 2
window = "1s"
"#,
    );
    let (t1, t2) = (tenant("1"), tenant("2"));
    let rules = |t: &TenantId, op: &str, n: usize| -> Vec<Option<String>> {
        (0..n)
            .map(|_| decide(&engine, t, op, json!({})).rule)
            .collect()
    };
    let s = |x: &str| Some(x.to_owned());
    assert_eq!(rules(&t1, "a", 3), vec![None, s("second"), None]);
    assert_eq!(rules(&t2, "a", 2), vec![None, s("second")]);
    assert_eq!(
        rules(&t1, "b", 3),
        vec![s("first-two-b"), s("first-two-b"), None]
    );
    assert_eq!(
        rules(&t1, "c", 4),
        vec![None, None, s("limited"), s("limited")]
    );
    // A new window of virtual time starts the count again.
    let clock = engine.clock.clone();
    tokio_block(async move { clock.advance(1000).await });
    assert_eq!(rules(&t1, "c", 3), vec![None, None, s("limited")]);
    // Reset forgets one tenant's counters only.
    engine.reset(Some(&t1));
    assert_eq!(rules(&t1, "a", 2), vec![None, s("second")]);
    assert_eq!(rules(&t2, "a", 1), vec![None]);
}

fn tokio_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn explain_does_not_count() {
    let engine = Scenarios::new();
    load(&engine, "name = \"n\"\n[[rule]]\nname = \"2nd\"\nnth = 2\n");
    let t = tenant("1");
    let f = json!({});
    let ctx = |f| OperationCtx {
        surface: "whalet",
        tenant: &t,
        operation: "x",
        fields: f,
    };
    assert_eq!(engine.explain(ctx(&f)).rule, None);
    assert_eq!(engine.explain(ctx(&f)).rule, None);
    assert_eq!(engine.decide(ctx(&f)).rule, None);
    assert_eq!(engine.explain(ctx(&f)).rule.as_deref(), Some("2nd"));
    assert_eq!(engine.decide(ctx(&f)).rule.as_deref(), Some("2nd"));
}

#[test]
fn chance_and_draws_follow_the_seed() {
    let pattern = |seed: u64| -> (Vec<bool>, u64) {
        let engine = Scenarios::new();
        load(
            &engine,
            &format!("name = \"c\"\nseed = {seed}\n[[rule]]\nname = \"coin\"\nchance = 0.5\n"),
        );
        let t = tenant("1");
        let hits = (0..32)
            .map(|_| decide(&engine, &t, "x", json!({})).rule.is_some())
            .collect();
        (hits, engine.random_u64(&t, "id"))
    };
    assert_eq!(pattern(7), pattern(7));
    assert_ne!(pattern(7), pattern(8));
    let (hits, _) = pattern(7);
    let n = hits.iter().filter(|h| **h).count();
    assert!((6..=26).contains(&n), "{n} of 32 at chance 0.5");
}

#[test]
fn rule_tenant_and_scope_isolate() {
    let engine = Scenarios::new();
    load(
        &engine,
        "name = \"r\"\n[[rule]]\nname = \"only-2\"\ntenant = \"whalet:2\"\n",
    );
    assert_eq!(decide(&engine, &tenant("1"), "x", json!({})).rule, None);
    assert!(decide(&engine, &tenant("2"), "x", json!({})).rule.is_some());
    let file = format::parse::<()>("name = \"s\"\n[[rule]]\nname = \"s1\"\n", "t", &[]).unwrap();
    engine.load(file, Some(tenant("3")), "t");
    assert_eq!(
        decide(&engine, &tenant("3"), "x", json!({}))
            .rule
            .as_deref(),
        Some("s1")
    );
    assert!(engine.remove("s", Some(&tenant("3"))));
    assert_eq!(decide(&engine, &tenant("3"), "x", json!({})).rule, None);
}

#[test]
fn broken_files_are_rejected_with_a_reason() {
    let cases = [
        ("name = \"a b\"", 1, "name"),
        (
            "name = \"x\"\n[[rule]]\nsurface = \"paypal\"",
            3,
            "unknown variant",
        ),
        (
            "name = \"x\"\n[[rule]]\n[rule.then]\ndelay = 30",
            4,
            "duration",
        ),
        (
            "name = \"x\"\n[[rule]]\n[rule.when]\namount = { min = \"abc\" }",
            4,
            "decimal",
        ),
        (
            "name = \"x\"\n[[rule]]\n[rule.when]\namount = { lt = 1 }",
            4,
            "\"lt\" is no test of a predicate",
        ),
        (
            "name = \"x\"\n[[rule]]\n[rule.then]\nreason = \"r\"",
            4,
            "add result",
        ),
        (
            "name = \"x\"\n[[rule]]\nnth = 2\nafter = 1",
            3,
            "nth cannot",
        ),
        ("name = \"x\"\n[[rule]]\nchance = 2.0", 3, "between 0 and 1"),
        (
            "name = \"x\"\n[[rule]]\n[rule.then]\nhttp_status = 99",
            4,
            "200 and 599",
        ),
        (
            "name = \"x\"\n[[outage]]\nfrom = \"10s\"\nuntil = \"5s\"",
            4,
            "until must be after",
        ),
        ("name = \"x\"\nrule = [", 2, ""),
        (
            "name = \"x\"\n[[rule]]\nsurface = \"whalet\"\n[rule.then]\nhttp_status = 503",
            5,
            "goes with a code",
        ),
    ];
    for (text, line, words) in cases {
        let e = format::parse::<()>(text, "bad.toml", &[]).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.reason.contains(words), "{text:?}: {e}");
        assert_eq!(e.file, "bad.toml");
    }
}

/// `cargo test --lib scenario::tests::measure_decide -- --ignored --nocapture`: the cost of one
/// decision with 50 rules loaded (a measurement, not an assertion).
#[test]
#[ignore]
fn measure_decide() {
    let engine = Scenarios::new();
    let mut text = String::from("name = \"many\"\n");
    for i in 0..50 {
        text.push_str(&format!(
            "[[rule]]\nname = \"r{i}\"\noperation = \"op{i}\"\n[rule.when]\namount = {{ min = \"{i}\" }}\n"
        ));
    }
    load(&engine, &text);
    let t = tenant("1");
    let fields = json!({"amount": "10.00", "user": {"id": "U1"}});
    let n = 100_000;
    let started = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(decide(&engine, &t, "op49", fields.clone()));
    }
    let per = started.elapsed() / n;
    println!("decide with 50 rules: {per:?} per call ({n} calls)");
}

#[test]
fn first_and_after_combine_and_sizes_are_bounded() {
    let engine = Scenarios::new();
    load(
        &engine,
        "name = \"r\"\n[[rule]]\nname = \"3rd-5th\"\nafter = 2\nfirst = 5\n",
    );
    let t = tenant("1");
    let hits: Vec<bool> = (0..6)
        .map(|_| decide(&engine, &t, "x", json!({})).rule.is_some())
        .collect();
    assert_eq!(hits, [false, false, true, true, true, false]);
    let many = format!("name = \"big\"\n{}", "[[rule]]\n".repeat(1001));
    let e = format::parse::<()>(&many, "big.toml", &[]).unwrap_err();
    assert!(e.reason.contains("at most 1000"), "{e}");
}

/// An event past the end of virtual time fires there (the clock runs a timer due later at
/// [`crate::clock::MAX_TIME`]), and the view says so rather than naming a time after it.
#[test]
fn an_event_past_the_end_of_virtual_time_is_due_at_the_end() {
    use crate::clock::{Clock, ClockMode, MAX_TIME};
    let start = MAX_TIME - 86_400_000;
    let engine = Scenarios::with_clock(Clock::new(ClockMode::Manual, Some(start)));
    let mut file = format::parse::<()>("name = \"late\"\n", "late.toml", &[]).unwrap();
    for at in ["300d", "1h"] {
        file.timeline.push(format::TimelineSpec {
            at: format::Duration(format::parse_duration(at).unwrap()),
            event: "sim.notify.down".into(),
            params: serde_json::Map::new(),
        });
    }
    engine.load(file, None, "late.toml");
    let view = &engine.list(None)[0];
    assert_eq!(view["timeline"][0]["at"], json!(MAX_TIME));
    assert_eq!(view["timeline"][1]["at"], json!(start + 3_600_000));
}

/// An outage reaching past the end of virtual time ends there, in its view and its check alike
/// (its `until` showed a time in year 10000 beside a UTC text of 9999).
#[test]
fn an_outage_past_the_end_of_virtual_time_ends_there() {
    use crate::clock::{Clock, ClockMode, MAX_TIME};
    let start = MAX_TIME - 86_400_000;
    let engine = Scenarios::with_clock(Clock::new(ClockMode::Manual, Some(start)));
    let text = "name = \"long\"\n[[outage]]\nfrom = \"1h\"\nuntil = \"3d\"\n\
                [[outage]]\nfrom = \"2d\"\nuntil = \"3d\"\nchannel = \"pockyt\"\n";
    let file = format::parse::<()>(text, "long.toml", &[]).unwrap();
    engine.load(file, None, "long.toml");
    let view = &engine.list(None)[0];
    assert_eq!(view["outages"][0]["from"], json!(start + 3_600_000));
    assert_eq!(view["outages"][0]["until"], json!(MAX_TIME));
    assert_eq!(view["outages"][1]["from"], json!(MAX_TIME));
    let t = tenant("1");
    assert!(engine.outage(&t, "whalet", MAX_TIME - 1).is_some());
    assert!(engine.outage(&t, "whalet", MAX_TIME).is_none());
    assert!(engine.outage(&t, "pockyt", MAX_TIME).is_none());
    // Regression: one with no end due to start past the end started at the end, for good.
    let text = "name = \"late\"\n[[outage]]\nfrom = \"2d\"\nchannel = \"infinia\"\n";
    let file = format::parse::<()>(text, "late.toml", &[]).unwrap();
    engine.load(file, None, "late.toml");
    assert!(engine.outage(&t, "infinia", MAX_TIME).is_none());
}

/// A scenario for a tenant that does not exist is reported with its name and source.
#[test]
fn scenarios_of_missing_tenants_are_reported() {
    let engine = Scenarios::new();
    load(&engine, "name = \"ghost\"\ntenant = \"whalet:999\"\n");
    load(&engine, "name = \"here\"\ntenant = \"whalet:1\"\n");
    load(&engine, "name = \"all\"\n");
    let warnings = engine.missing_tenants(|t| *t == tenant("1"));
    assert_eq!(
        warnings,
        vec![
            "scenario ghost (test.toml): no tenant whalet:999 exists (yet); the scenario applies only to that tenant's requests"
        ]
    );
}

/// `serve --scenario a.toml,b.json`: two files of the same name and tenant would load one over
/// the other (the first's timeline never firing); the start is refused, naming both files.
#[test]
fn start_files_of_one_name_and_tenant_are_refused_naming_both() {
    use crate::clock::{Clock, ClockMode};
    let dir = tempfile::tempdir().unwrap();
    let write = |file: &str, text: &str| {
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        path
    };
    let a = write("a.toml", "name = \"x\"\n");
    let b = write("b.json", "{\"name\": \"x\", \"seed\": 1}");
    let c = write("c.toml", "name = \"x\"\ntenant = \"whalet:1\"\n");
    let start = |paths: &[std::path::PathBuf]| {
        let clock = Clock::new(ClockMode::Manual, Some(0));
        let limits = crate::config::ScenariosConfig::default();
        Scenarios::from_files::<()>(&clock, paths, &[], Vec::new(), &limits).map(|_| ())
    };
    let e = start(&[a.clone(), c.clone(), b.clone()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("a.toml") && e.contains("b.json"), "{e}");
    assert!(start(&[a, c]).is_ok());
}
