//! Trigger definitions: externally caused events (a collection arrives, a seller approves a
//! binding, a payout is returned) fired on demand through `POST /__sim/trigger/{event}`,
//! `whalet-sim trigger`, the dashboard, or a scenario timeline. Each surface declares its events
//! in its own module with [`TriggerDef`]; the core holds the registry and fires them
//! (`Core::fire`). Generic over the context a trigger runs with, so it sits below that context.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::tenant::{Provider, TenantId};

/// How a trigger's `partnerId` parameter describes its default ([`acting_tenant`]'s rule).
pub const DEFAULT_PARTNER: &str = "default: the demo partner, else the only partner";
/// How a trigger's `merchantNo` parameter describes its default ([`acting_tenant`]'s rule).
pub const DEFAULT_MERCHANT: &str = "default: the demo merchant 202333, else the only merchant";
/// How a trigger's `appId` parameter describes its default ([`acting_tenant`]'s rule).
pub const DEFAULT_APP: &str = "app (default: demo-app, else the only app)";

pub type TriggerFuture = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// One event that can be triggered.
#[derive(Serialize)]
pub struct TriggerDef<C> {
    /// `whalet.collection.received`, `pockyt.payout.returned`, ...
    pub name: &'static str,
    pub description: &'static str,
    /// Parameter name → description (`?` suffix on the name = optional).
    pub params: &'static [(&'static str, &'static str)],
    #[serde(skip)]
    pub run: fn(C, Map<String, Value>) -> TriggerFuture,
}

/// Reads a required string parameter.
pub fn param<'a>(params: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match params.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::Number(_)) => Err(format!("parameter {name} must be a string")),
        _ => Err(format!("parameter {name} is required")),
    }
}

/// Reads an optional string parameter: `None` when it is absent. A present value that is not a
/// non-empty string never gets here ([`check_params`] refuses it), so `None` cannot stand for a
/// value of the wrong type and send the trigger to its default (the demo tenant).
pub fn opt_param<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A rejection trigger's `reason` (every surface's), read as the authorization page reads its
/// reason box ([`crate::authorize::seller_reason`]).
pub fn reason_param(params: &Map<String, Value>) -> Result<Option<String>, String> {
    opt_param(params, "reason").map_or(Ok(None), |text| {
        crate::authorize::seller_reason(text).map_err(|e| format!("parameter {e}"))
    })
}

/// The parameter by which a provider's triggers name their tenant by its id alone, besides
/// `tenant` (`provider:id`): the one place that knows it, for the journal, coverage and a
/// scenario's tenant-scoped timeline alike.
pub fn id_param(provider: Provider) -> &'static str {
    match provider {
        Provider::Whalet => "partnerId",
        Provider::Infinia => "appId",
        Provider::Pockyt => "merchantNo",
    }
}

/// The provider whose tenants a trigger acts on, by its name's first part (`whalet.` and
/// `platform.` are the Whalet partner's); `None` for the simulator's own (`sim.*`), which take a
/// whole `tenant`.
pub fn provider_of(trigger: &str) -> Option<Provider> {
    match trigger.split('.').next().unwrap_or_default() {
        "whalet" | "platform" => Some(Provider::Whalet),
        "infinia" => Some(Provider::Infinia),
        "pockyt" => Some(Provider::Pockyt),
        _ => None,
    }
}

/// The tenant a trigger's parameters name, if they name one: its `tenant` (`provider:id`), else
/// its provider's id parameter ([`id_param`]). `None` when they name none (the trigger then acts
/// for its default) or `tenant` is not `provider:id`.
pub fn named_tenant(trigger: &str, params: &Map<String, Value>) -> Option<TenantId> {
    if let Some(text) = opt_param(params, "tenant") {
        return TenantId::parse(text);
    }
    let provider = provider_of(trigger)?;
    opt_param(params, id_param(provider)).map(|id| TenantId::new(provider, id))
}

/// What a provider's tenants are called in a trigger's refusal (`no Pockyt merchant "7"`).
fn tenant_noun(provider: Provider) -> &'static str {
    match provider {
        Provider::Whalet => "Whalet partner",
        Provider::Infinia => "Infinia app",
        Provider::Pockyt => "Pockyt merchant",
    }
}

/// The tenant a trigger of `provider` acts on, by one rule for every surface: the one its id
/// parameter ([`id_param`]) names, which must be among `configured`; else the surface's default
/// tenant, its demo tenant (`demo`) when that is configured, else its only configured one.
/// Otherwise the trigger is refused, naming the parameter to give and the choices. The tenant
/// chosen is noted for the trigger being fired ([`noting_tenant`]), so that its journal entry
/// and its coverage count name the tenant it acted on.
pub fn acting_tenant(
    provider: Provider,
    params: &Map<String, Value>,
    demo: Option<&str>,
    configured: &[String],
) -> Result<TenantId, String> {
    let param = id_param(provider);
    let noun = tenant_noun(provider);
    let choices = || choices(noun, configured);
    let id = match opt_param(params, param) {
        Some(id) if configured.iter().any(|c| c == id) => id,
        Some(id) => {
            return Err(format!(
                "no {noun} {}; {}",
                crate::text::echo(id),
                choices()
            ))
        }
        None => default_id(demo, configured)
            .ok_or_else(|| format!("give parameter {param} ({})", choices()))?,
    };
    let tenant = TenantId::new(provider, id);
    // Outside a fire (a unit test calling a trigger's function) there is nothing to note.
    let _ = ACTED_ON.try_with(|acted| acted.replace(Some(tenant.clone())));
    Ok(tenant)
}

/// The tenants a refusal offers instead: `configured: a, b`, or that none of `noun` is.
fn choices(noun: &str, configured: &[String]) -> String {
    match configured {
        [] => format!("no {noun} is configured"),
        ids => format!("configured: {}", ids.join(", ")),
    }
}

/// Refuses to decide a binding of `tenant` when it is no tenant of `provider` among
/// `configured` (the surface's configured ids), as a trigger naming it is refused
/// ([`acting_tenant`]): a binding a data dir kept whose partner or app the configuration has
/// dropped since, which the seller's page, the trigger and a scenario's decision all refuse
/// alike. `table` is where the configuration declares such tenants (`[[whalet.partners]]`).
pub fn binding_owner_configured(
    provider: Provider,
    tenant: &TenantId,
    configured: &[String],
    table: &str,
) -> Result<(), String> {
    if tenant.provider == provider && configured.contains(&tenant.id) {
        return Ok(());
    }
    let noun = tenant_noun(provider);
    let owner = match provider {
        Provider::Whalet => "a partner",
        Provider::Infinia => "an app",
        Provider::Pockyt => "a merchant",
    };
    Err(format!(
        "no {noun} {}; {}. The binding belongs to {owner} this simulator no longer has: \
         configure it again ({table}) to decide it",
        crate::text::echo(&tenant.id),
        choices(noun, configured)
    ))
}

/// A surface's default tenant among its `configured` ones: the demo tenant (`demo`, `None` when
/// it is switched off: a tenant configured under its id is no demo) if configured, else the
/// only one; `None` when there are several (or none) and the demo is not among them.
fn default_id<'a>(demo: Option<&str>, configured: &'a [String]) -> Option<&'a str> {
    match configured {
        [only] => Some(only),
        ids => ids
            .iter()
            .find(|id| Some(id.as_str()) == demo)
            .map(String::as_str),
    }
}

tokio::task_local! {
    /// The tenant the trigger being fired chose to act on ([`acting_tenant`]).
    static ACTED_ON: std::cell::RefCell<Option<TenantId>>;
}

/// Runs a trigger's future and answers, with its outcome, the tenant it chose to act on through
/// [`acting_tenant`] (`None` when it refused before choosing, or takes no tenant of a surface).
/// The choice is the trigger's own, so what the journal and coverage name is what it did.
pub async fn noting_tenant<F: Future>(run: F) -> (F::Output, Option<TenantId>) {
    let noted = ACTED_ON.scope(std::cell::RefCell::new(None), async move {
        let outcome = run.await;
        (outcome, ACTED_ON.with(|acted| acted.take()))
    });
    noted.await
}

tokio::task_local! {
    /// The scenario rule that decided what the trigger being fired did ([`note_rule`]).
    static DECIDED_BY: std::cell::RefCell<Option<String>>;
}

/// Notes the scenario rule that decided what the trigger being fired did (the rules on
/// `mockPayeeNotify` for an arrival), so that its journal entry names it in `rule`.
pub fn note_rule(rule: &str) {
    // Outside a fire (a unit test calling a trigger's function) there is nothing to note.
    let _ = DECIDED_BY.try_with(|decided| decided.replace(Some(rule.to_owned())));
}

/// Runs a trigger's future and answers, with its outcome, the scenario rule it noted as
/// deciding ([`note_rule`]), if any.
pub async fn noting_rule<F: Future>(run: F) -> (F::Output, Option<String>) {
    let noted = DECIDED_BY.scope(std::cell::RefCell::new(None), async move {
        let outcome = run.await;
        (outcome, DECIDED_BY.with(|decided| decided.take()))
    });
    noted.await
}

/// The parameters that take a whole number, as a JSON number or its decimal text (how many
/// notifications a burst sends); every other parameter is text.
const NUMBER_PARAMS: &[&str] = &["count"];

/// A parameter's value as a refusal echoes it: a string quoted and cut like any echoed client
/// value ([`crate::text::echo`]), another JSON value as its JSON text, cut at the same bound.
pub fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => crate::text::echo(s).to_string(),
        other => crate::text::bound(&other.to_string(), crate::text::ECHO_BYTES).into_owned(),
    }
}

/// A trigger's refusal `message` with every parameter value longer than the echo bound that it
/// quotes whole cut to [`crate::text::ECHO_BYTES`], as every client value a diagnostic echoes is
/// (docs/RELIABILITY.md): quoted (`{:?}`, `"zz"… N more bytes`) or bare (`zz… N more bytes`).
/// One place for every trigger's messages, which name the object a parameter did not find in
/// their own words. A value at most that long is left as it is, so nothing else in the message
/// can be mistaken for one.
pub fn cut_echoes(message: String, params: &Map<String, Value>) -> String {
    let mut long: Vec<&str> = params
        .values()
        .filter_map(Value::as_str)
        .filter(|v| v.len() > crate::text::ECHO_BYTES)
        .collect();
    // The longest first: a shorter value may be part of a longer one.
    long.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut message = message;
    for value in long {
        let quoted = format!("{value:?}");
        if message.contains(&quoted) {
            message = message.replace(&quoted, &crate::text::echo(value).to_string());
        }
        if message.contains(value) {
            message = message.replace(value, &crate::text::echo_bare(value));
        }
    }
    message
}

/// Reads a whole-number parameter (one of [`NUMBER_PARAMS`]: a JSON number or its decimal
/// text) that must be from 1 to `most` (`most_is` says where that bound comes from): `None`
/// when it is absent. A refusal names the range and echoes the value given, cut.
pub fn count_param(
    params: &Map<String, Value>,
    name: &str,
    most: u64,
    most_is: &str,
) -> Result<Option<u64>, String> {
    let Some(value) = params.get(name) else {
        return Ok(None);
    };
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .filter(|n| (1..=most).contains(n))
        .map(Some)
        .ok_or_else(|| {
            format!(
                "parameter {name} must be a whole number from 1 to {most} ({most_is}), not {}",
                shown(value)
            )
        })
}

/// The free-text parameters where white space alone is a value: a rejection's `reason`, read as
/// the seller page reads its reason box (blank: the page's default reason).
const BLANK_ALLOWED: &[&str] = &["reason"];

/// Why the value given for parameter `name` cannot be used, if it cannot: a parameter is a
/// non-empty string (or, for [`NUMBER_PARAMS`], a number). Leaving an `optional` parameter out
/// is how to ask for its default; `null`, `""` or a value of another type is refused, not read
/// as "absent". Blank text (`" "`) is refused as `""` is (but for [`BLANK_ALLOWED`]): many
/// triggers read their parameters with the partner API's field readers, which take a blank
/// field as one left out (docs/FIDELITY.md, "idempotency"), so a blank would otherwise send the
/// trigger to its default (a collection credited to the default account, another user's).
fn bad_value(name: &str, value: &Value, optional: bool) -> Option<String> {
    let leave_out = match optional {
        true => ", or leave it out for the default",
        false => "",
    };
    match value {
        Value::String(s) if s.is_empty() => Some(format!(
            "parameter {name} is empty; give a value{leave_out}"
        )),
        Value::String(s) if s.trim().is_empty() && !BLANK_ALLOWED.contains(&name) => Some(format!(
            "parameter {name} is blank ({}); give a value{leave_out}",
            shown(value)
        )),
        Value::String(_) => None,
        Value::Number(_) if NUMBER_PARAMS.contains(&name) => None,
        other => Some(format!(
            "parameter {name} must be a {}, got {}",
            match NUMBER_PARAMS.contains(&name) {
                true => "string or a number",
                false => "string",
            },
            shown(other)
        )),
    }
}

/// Checks `params` against the trigger's declared parameters: no unknown names (a typo would
/// otherwise be ignored silently), every value given a non-empty string ([`bad_value`]), every
/// required one present. A declared name is required, optional with a `?` suffix, or a group of
/// alternatives `a|b|c` of which at least one must be given (a trigger that finds its object by
/// any of several ids).
pub fn check_params<C>(def: &TriggerDef<C>, params: &Map<String, Value>) -> Result<(), String> {
    let declared: Vec<(Vec<&str>, bool)> = def
        .params
        .iter()
        .map(|(name, _)| match name.strip_suffix('?') {
            Some(n) => (vec![n], false),
            None => (name.split('|').collect(), true),
        })
        .collect();
    let names: Vec<&str> = declared.iter().flat_map(|(n, _)| n.clone()).collect();
    if let Some(key) = params.keys().find(|k| !names.contains(&k.as_str())) {
        let near = crate::text::nearest(key, &names)
            .map(|near| format!(" (did you mean {near:?}?)"))
            .unwrap_or_default();
        return Err(format!(
            "{} has no parameter {}{near}; its parameters: {}",
            def.name,
            crate::text::echo(key),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ));
    }
    if let Some(problem) = params.iter().find_map(|(name, value)| {
        let optional = declared
            .iter()
            .any(|(group, required)| !required && group.contains(&name.as_str()));
        bad_value(name, value, optional)
    }) {
        return Err(format!("{}: {problem}", def.name));
    }
    for (group, required) in &declared {
        if *required && !group.iter().any(|n| params.contains_key(*n)) {
            return Err(format!(
                "{} needs parameter {}",
                def.name,
                alternatives(group)
            ));
        }
    }
    Ok(())
}

/// `a`, `a or b`, `a, b or c`.
fn alternatives(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Why a trigger did not fire.
#[derive(Debug, Clone, PartialEq)]
pub enum FireError {
    /// No trigger of that name (the message lists the known ones).
    Unknown(String),
    /// The parameters do not fit the trigger's declaration.
    Params(String),
    /// The trigger ran and refused (its message).
    Failed(String),
}

impl FireError {
    pub fn message(&self) -> &str {
        match self {
            FireError::Unknown(m) | FireError::Params(m) | FireError::Failed(m) => m,
        }
    }

    /// The control plane's HTTP status for it.
    pub fn status(&self) -> u16 {
        match self {
            FireError::Unknown(_) => 404,
            FireError::Params(_) => 400,
            FireError::Failed(_) => 422,
        }
    }
}

impl<C> Clone for TriggerDef<C> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            description: self.description,
            params: self.params,
            run: self.run,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run((): (), _: Map<String, Value>) -> TriggerFuture {
        Box::pin(async { Ok(Value::Null) })
    }

    const DEF: TriggerDef<()> = TriggerDef {
        name: "x.funded",
        description: "",
        params: &[("amount", ""), ("merchantNo?", ""), ("count?", "")],
        run,
    };

    fn check(params: Value) -> Result<(), String> {
        let Value::Object(params) = params else {
            panic!("an object");
        };
        check_params(&DEF, &params)
    }

    #[test]
    fn an_absent_optional_parameter_is_the_default_and_a_given_one_must_be_text() {
        assert_eq!(check(json!({"amount": "1.00"})), Ok(()));
        assert_eq!(
            check(json!({"amount": "1.00", "merchantNo": "999"})),
            Ok(())
        );
        for (bad, got) in [
            (json!(999), "999"),
            (json!(null), "null"),
            (json!(true), "true"),
            (json!({"a": 1}), "{\"a\":1}"),
        ] {
            assert_eq!(
                check(json!({"amount": "1.00", "merchantNo": bad})),
                Err(format!(
                    "x.funded: parameter merchantNo must be a string, got {got}"
                ))
            );
        }
        assert_eq!(
            check(json!({"amount": "1.00", "merchantNo": ""})),
            Err("x.funded: parameter merchantNo is empty; give a value, or leave it out for the default".to_owned())
        );
    }

    #[test]
    fn a_required_parameter_must_be_given_as_text() {
        assert_eq!(
            check(json!({})),
            Err("x.funded needs parameter amount".to_owned())
        );
        assert_eq!(
            check(json!({"amount": 1})),
            Err("x.funded: parameter amount must be a string, got 1".to_owned())
        );
        assert_eq!(
            check(json!({"amount": null})),
            Err("x.funded: parameter amount must be a string, got null".to_owned())
        );
        // A parameter that also takes a number says so.
        assert_eq!(
            bad_value("count", &json!(true), true).as_deref(),
            Some("parameter count must be a string or a number, got true")
        );
        assert_eq!(bad_value("count", &json!(3), true), None);
    }

    #[test]
    fn a_group_of_alternatives_needs_one_of_them() {
        const ONE_OF: TriggerDef<()> = TriggerDef {
            name: "x.approved",
            description: "",
            params: &[("requestNo|sellerId|token", ""), ("reason?", "")],
            run,
        };
        let check = |params: Value| {
            let Value::Object(params) = params else {
                panic!("an object");
            };
            check_params(&ONE_OF, &params)
        };
        assert_eq!(
            check(json!({"reason": "r"})),
            Err("x.approved needs parameter requestNo, sellerId or token".to_owned())
        );
        assert_eq!(check(json!({"sellerId": "s"})), Ok(()));
        assert_eq!(
            check(json!({"sellerId": ""})),
            Err("x.approved: parameter sellerId is empty; give a value".to_owned()),
            "no default to leave it out for"
        );
        assert_eq!(check(json!({"requestNo": "r", "token": "t"})), Ok(()));
        // Blank text is refused as "" is, with or without a default to fall back on, but a
        // reason, where blank asks for the page's default reason.
        assert_eq!(
            check(json!({"sellerId": " \t"})),
            Err("x.approved: parameter sellerId is blank (\" \\t\"); give a value".to_owned())
        );
        assert_eq!(check(json!({"sellerId": "s", "reason": "  "})), Ok(()));
        assert_eq!(
            bad_value("cardId", &json!(" "), true).as_deref(),
            Some(
                "parameter cardId is blank (\" \"); give a value, or leave it out for the default"
            )
        );
        assert_eq!(
            check(json!({"request": "r"})),
            Err(
                "x.approved has no parameter \"request\" (did you mean \"requestNo\"?); its \
                 parameters: requestNo, sellerId, token, reason"
                    .to_owned()
            )
        );
        assert_eq!(alternatives(&["a", "b"]), "a or b");
    }

    #[test]
    fn each_surface_names_its_tenant_by_its_own_parameter() {
        let named = |trigger: &str, params: Value| {
            let Value::Object(params) = params else {
                panic!("an object");
            };
            named_tenant(trigger, &params).map(|t| t.to_string())
        };
        assert_eq!(
            named("pockyt.balance.funded", json!({"merchantNo": "202333"})).as_deref(),
            Some("pockyt:202333")
        );
        assert_eq!(
            named("infinia.platform.funded", json!({"appId": "other-app"})).as_deref(),
            Some("infinia:other-app")
        );
        assert_eq!(
            named("platform.binding.approved", json!({"partnerId": "7"})).as_deref(),
            Some("whalet:7")
        );
        assert_eq!(
            named("sim.notify.down", json!({"tenant": "pockyt:1"})).as_deref(),
            Some("pockyt:1")
        );
        // Another surface's parameter names no tenant of this one; sim.* take a whole tenant.
        assert_eq!(
            named("pockyt.balance.funded", json!({"partnerId": "7"})),
            None
        );
        assert_eq!(named("sim.notify.down", json!({"partnerId": "7"})), None);
        assert_eq!(named("whalet.payout.failed", json!({})), None);
    }

    /// One rule for every surface: the named tenant if configured, else the demo one, else the
    /// only one; otherwise refused naming the parameter and the choices.
    #[test]
    fn a_trigger_acts_on_the_named_tenant_else_the_demo_else_the_only_one() {
        let ids = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let acting = |params: Value, configured: &[&str]| {
            let Value::Object(params) = params else {
                panic!("an object");
            };
            acting_tenant(Provider::Pockyt, &params, Some("202333"), &ids(configured))
                .map(|t| t.to_string())
        };
        let none = json!({});
        assert_eq!(
            acting(none.clone(), &["1", "202333"]).as_deref(),
            Ok("pockyt:202333")
        );
        assert_eq!(acting(none.clone(), &["m1"]).as_deref(), Ok("pockyt:m1"));
        assert_eq!(
            acting(json!({"merchantNo": "1"}), &["1", "202333"]).as_deref(),
            Ok("pockyt:1")
        );
        assert_eq!(
            acting(none.clone(), &["m1", "m2"]),
            Err("give parameter merchantNo (configured: m1, m2)".to_owned())
        );
        assert_eq!(
            acting(none.clone(), &[]),
            Err("give parameter merchantNo (no Pockyt merchant is configured)".to_owned())
        );
        // Regression: with the demo switched off, a merchant configured under the demo's id is
        // no demo: among several, it is not the default.
        let params = Map::new();
        assert_eq!(
            acting_tenant(Provider::Pockyt, &params, None, &ids(&["202333", "m2"])),
            Err("give parameter merchantNo (configured: 202333, m2)".to_owned())
        );
        assert_eq!(
            acting(json!({"merchantNo": "9"}), &["m1"]),
            Err("no Pockyt merchant \"9\"; configured: m1".to_owned())
        );
    }

    /// The tenant a trigger chose is what its fire notes, and only its own fire.
    #[tokio::test]
    async fn a_fire_notes_the_tenant_its_trigger_chose() {
        let choose = |id: &'static str| async move {
            let params = Map::from_iter([("appId".to_owned(), json!(id))]);
            acting_tenant(
                Provider::Infinia,
                &params,
                Some("demo-app"),
                &[id.to_owned()],
            )
        };
        let (chosen, noted) = noting_tenant(choose("a1")).await;
        assert_eq!(chosen.ok(), noted.clone());
        assert_eq!(noted.map(|t| t.to_string()).as_deref(), Some("infinia:a1"));
        let (_, noted) = noting_tenant(async {}).await;
        assert_eq!(noted, None, "a fire that chose none notes none");
        assert!(
            choose("a2").await.is_ok(),
            "outside a fire, nothing to note"
        );
    }

    #[test]
    fn a_count_may_be_a_number() {
        assert_eq!(check(json!({"amount": "1", "count": 3})), Ok(()));
        assert_eq!(check(json!({"amount": "1", "count": "3"})), Ok(()));
        assert!(check(json!({"amount": "1", "count": null})).is_err());
    }

    /// Every refusal of a trigger's parameters echoes the client's value cut at the documented
    /// bound: an unknown name, an unknown tenant id, a count out of range.
    #[test]
    fn a_long_name_tenant_or_count_is_echoed_cut() {
        let long = "z".repeat(5_000);
        let run = |text: &str| text.split(|c| c != 'z').map(str::len).max().unwrap_or(0);
        let Value::Object(unknown) = json!({ long.clone(): "1", "amount": "1" }) else {
            panic!("an object");
        };
        let Value::Object(tenant) = json!({ "merchantNo": long.clone() }) else {
            panic!("an object");
        };
        let Value::Object(count) = json!({ "count": long.clone() }) else {
            panic!("an object");
        };
        let refusals = [
            check_params(&DEF, &unknown),
            acting_tenant(Provider::Pockyt, &tenant, None, &["m1".to_owned()]).map(|_| ()),
            count_param(&count, "count", 10, "the most").map(|_| ()),
        ];
        for refusal in refusals {
            let Err(e) = refusal else {
                panic!("refused");
            };
            assert!(
                run(&e) <= crate::text::ECHO_BYTES && e.contains(" more bytes"),
                "{} bytes of the value in {} bytes",
                run(&e),
                e.len()
            );
        }
        let Value::Object(fine) = json!({ "count": "3" }) else {
            panic!("an object");
        };
        assert_eq!(count_param(&fine, "count", 10, "the most"), Ok(Some(3)));
        assert_eq!(count_param(&Map::new(), "count", 10, "the most"), Ok(None));
        let Value::Object(over) = json!({ "count": 11 }) else {
            panic!("an object");
        };
        assert_eq!(
            count_param(&over, "count", 10, "the most"),
            Err(
                "parameter count must be a whole number from 1 to 10 (the most), not 11".to_owned()
            )
        );
    }

    /// A trigger's own refusal that quotes a long parameter whole is cut, quoted or bare; a
    /// short one and the rest of the message are left as they are.
    #[test]
    fn a_refusal_quoting_a_long_parameter_whole_is_cut() {
        let long = "z".repeat(5_000);
        let longer = "z".repeat(6_000);
        let Value::Object(params) = json!({"invoiceId": long, "other": longer, "tradeId": "T1"})
        else {
            panic!("an object");
        };
        let run = |text: &str| text.split(|c| c != 'z').map(str::len).max().unwrap_or(0);
        for message in [
            format!("no payout with invoiceId {long:?} in pockyt:1"),
            format!("no payout with invoiceId {long} in pockyt:1"),
            format!("{long} and {longer}"),
        ] {
            let cut = cut_echoes(message.clone(), &params);
            assert!(run(&cut) <= crate::text::ECHO_BYTES, "{} bytes", run(&cut));
            assert!(cut.contains(" more bytes"), "{cut}");
        }
        let cut = cut_echoes(
            format!("no payout with invoiceId {long:?} in pockyt:1"),
            &params,
        );
        assert!(cut.starts_with("no payout with invoiceId \"zz"), "{cut}");
        // Quoted as `echo` quotes: the kept part closed by its quote, then the count.
        assert!(
            cut.contains("zz\"… ") && cut.ends_with(" more bytes in pockyt:1"),
            "{cut}"
        );
        let short = "no trade \"T1\" of partner 1".to_owned();
        assert_eq!(cut_echoes(short.clone(), &params), short);
    }

    #[test]
    fn a_long_value_is_echoed_bounded() {
        let long = json!(vec!["x"; 10_000]);
        let Err(e) = check(json!({"amount": long})) else {
            panic!("refused");
        };
        assert!(e.len() < 1_000, "{} bytes", e.len());
    }
}
