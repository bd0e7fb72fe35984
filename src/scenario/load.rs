//! Loading a scenario: TOML or JSON text in, a checked [`ScenarioFile`] out, or a [`LoadError`]
//! naming the file, line, column and reason. After deserialising (format.rs), the checks across
//! keys run, and the timeline's trigger names and parameters are checked against the triggers
//! the app serves.

use std::fmt;

use serde::Serialize;

use super::format::{pattern_matches, RuleSpec, ScenarioFile, Surface, Tenant};
use super::locate::{self, entry_key, Path, Step};
use crate::tenant::TenantId;
use crate::trigger::TriggerDef;

/// The tenant the scenario will apply to: `scope`, the one the loader gives
/// (`POST /__sim/scenarios?tenant=`, a restored scenario), else the file's `tenant`; `None` =
/// every tenant.
fn effective_scope(s: &ScenarioFile, scope: Option<&TenantId>) -> Option<TenantId> {
    scope
        .cloned()
        .or_else(|| s.tenant.clone().map(|Tenant(t)| t))
}

/// Where a scenario came from and why it could not be loaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.reason
        )
    }
}

impl std::error::Error for LoadError {}

/// The operations a scenario's rules may name: (surface, canonical name) of each operation the
/// simulator decides through the scenario engine (`contract::Catalog::operations` lists them).
pub type Operations<'a> = &'a [(&'a str, &'a str)];

/// An operation a configuration renames on the wire (`[whalet.api_codes]`, `[infinia.paths]`),
/// or a surface serves under an alias path too (Pockyt's `/v3/payee/account/create/...`).
/// Rules take its canonical name, so a rule naming the wire name is pointed to it, and one
/// whose pattern matches the wire name but not the canonical name is refused (it would never
/// see the requests sent there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub surface: &'static str,
    /// The name on the wire (`userApply`, `platform-balance/query`,
    /// `/v3/payee/account/create/venmo`).
    pub wire: String,
    /// The name rules and the journal call it by (`userOnboardingApply`).
    pub canonical: String,
    /// What gives it the wire name, as messages say it (`"… is the wire name {table} gives …"`):
    /// the configuration table that renames it (`[whalet.api_codes]`), or the surface's alias
    /// table.
    pub table: &'static str,
}

/// What the engine checks a rule's `operation` against: (surface, canonical name) of every
/// operation a rule may name, and the wire names a configuration gives some of them (given by
/// whoever builds the engine, so that this module needs to know no surface).
#[derive(Debug, Clone, Default)]
pub struct OperationNames {
    pub operations: Vec<(&'static str, String)>,
    pub renamed: Vec<Renamed>,
}

impl OperationNames {
    /// Adds an operation (surface, canonical name), e.g. one decided outside the surfaces'
    /// tables (SFTP processing).
    pub fn push(&mut self, operation: (&'static str, String)) {
        self.operations.push(operation);
    }
}

impl From<Vec<(&'static str, String)>> for OperationNames {
    fn from(operations: Vec<(&'static str, String)>) -> Self {
        Self {
            operations,
            renamed: Vec::new(),
        }
    }
}

/// Parses and checks one scenario, without the list of operations to check rule operations
/// against (see [`parse_checked`]).
pub fn parse<C>(
    text: &str,
    file: &str,
    triggers: &[TriggerDef<C>],
) -> Result<ScenarioFile, LoadError> {
    parse_checked(text, file, triggers, &[], &[], None)
}

/// [`parse`], with the checks that depend on the scenario's tenant (timeline parameters, rule
/// tenants) made for `scope`, the tenant it will be loaded for, when the loader gives one.
pub fn parse_for<C>(
    text: &str,
    file: &str,
    triggers: &[TriggerDef<C>],
    scope: Option<&TenantId>,
) -> Result<ScenarioFile, LoadError> {
    parse_checked(text, file, triggers, &[], &[], scope)
}

/// Parses and checks one scenario. JSON when the text starts with `{`, TOML otherwise. A rule's
/// `operation` must name (or, with a trailing `*`, match) one of `operations` on the rule's
/// surface; an empty `operations` leaves operation names unchecked. One that names an
/// operation's wire name (`renamed`) is pointed to its canonical name. `scope`: the tenant it
/// will be loaded for when the loader gives one, else the file's decides the tenant checks.
pub fn parse_checked<C>(
    text: &str,
    file: &str,
    triggers: &[TriggerDef<C>],
    operations: Operations<'_>,
    renamed: &[Renamed],
    scope: Option<&TenantId>,
) -> Result<ScenarioFile, LoadError> {
    let at = |offset: usize, reason: String| {
        let (line, column) = line_col(text, offset);
        LoadError {
            file: file.to_owned(),
            line,
            column,
            reason,
        }
    };
    if text.starts_with(crate::wire::BYTE_ORDER_MARK) {
        // Refused in both formats alike (docs/SCENARIOS.md): the mark is no whitespace, so a
        // JSON scenario would otherwise be read as TOML and refused for something else.
        return Err(at(
            0,
            format!(
                "a scenario, TOML or JSON, has no byte order mark: {}; save the file without it",
                crate::wire::byte_order_mark()
            ),
        ));
    }
    let json = text.trim_start().starts_with('{');
    if !json {
        // Valid JSON that is not an object (`[1]`, `42`) is no TOML either: say what it is
        // rather than what the TOML parser makes of it.
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            let got = match value {
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Null => "null",
                serde_json::Value::Object(_) => "an object",
            };
            let offset = text.len() - text.trim_start().len();
            return Err(at(
                offset,
                format!(
                    "a scenario in JSON is an object ({{\"name\": ..., \"rule\": [...]}}), not {got}; \
                     or send it as TOML"
                ),
            ));
        }
    }
    let mut parsed: ScenarioFile = if json {
        serde_json::from_str(text).map_err(|e| {
            let reason = e.to_string();
            let reason = reason.split(" at line ").next().unwrap_or("");
            at(
                super::json_span::error_offset(text, &e),
                entry_refusal(text, json, reason),
            )
        })?
    } else {
        toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(
                offset,
                entry_refusal(text, json, &crate::text::toml_reason(text, &e)),
            )
        })?
    };
    check(&parsed, triggers, operations, renamed, scope)
        .map_err(|(path, reason)| at(locate::offset(text, json, &path).unwrap_or(0), reason))?;
    parsed.text = text.to_owned();
    Ok(parsed)
}

/// A refusal of the deserialiser (`reason`, an unknown variant, a value of the wrong type, a
/// number out of range), prefixed with the entry it is in, as the loader's own checks name it:
/// `rule "name": ` (`rule N` without a name), `timeline event N: `, `outage N: `. The entry is
/// the first one of its list that, read alone, is refused for the same reason; none when the
/// refusal is not inside an entry (or the text does not parse as a document at all).
fn entry_refusal(text: &str, json: bool, reason: &str) -> String {
    use serde::de::DeserializeOwned;
    use serde_json::Value;
    let document: Option<Value> = if json {
        serde_json::from_str(text).ok()
    } else {
        toml::from_str::<toml::Table>(text)
            .ok()
            .and_then(|t| serde_json::to_value(t).ok())
    };
    let Some(Value::Object(document)) = document else {
        return reason.to_owned();
    };
    // A TOML value read alone says what it says when read in place: datetimes go through the
    // TOML value, not its JSON form.
    let toml_doc: Option<toml::Table> = (!json).then(|| toml::from_str(text).ok()).flatten();
    fn refused<T: DeserializeOwned>(
        json: Option<&Value>,
        toml: Option<&toml::Value>,
    ) -> Option<String> {
        match (toml, json) {
            (Some(t), _) => t
                .clone()
                .try_into::<T>()
                .err()
                .map(|e| e.message().trim().to_owned()),
            (None, Some(j)) => serde_json::from_value::<T>(j.clone())
                .err()
                .map(|e| e.to_string()),
            (None, None) => None,
        }
    }
    let same = |why: Option<String>| why.as_deref().map(str::trim) == Some(reason.trim());
    let items = |key: &str| -> Vec<(Option<Value>, Option<toml::Value>)> {
        let json_items = match document.get(key) {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        let toml_items = match toml_doc.as_ref().and_then(|t| t.get(key)) {
            Some(toml::Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        (0..json_items.len().max(toml_items.len()))
            .map(|i| (json_items.get(i).cloned(), toml_items.get(i).cloned()))
            .collect()
    };
    for (i, (j, t)) in items("rule").into_iter().enumerate() {
        if same(refused::<RuleSpec>(j.as_ref(), t.as_ref())) {
            let label = match j
                .as_ref()
                .and_then(|r| r.get("name"))
                .and_then(Value::as_str)
            {
                Some(name) => format!("{name:?}"),
                None => format!("\"rule {}\"", i + 1),
            };
            return format!("rule {label}: {reason}");
        }
    }
    for (i, (j, t)) in items("timeline").into_iter().enumerate() {
        if same(refused::<super::format::TimelineSpec>(
            j.as_ref(),
            t.as_ref(),
        )) {
            return format!("timeline event {}: {reason}", i + 1);
        }
    }
    for (i, (j, t)) in items("outage").into_iter().enumerate() {
        if same(refused::<super::format::OutageSpec>(j.as_ref(), t.as_ref())) {
            return format!("outage {}: {reason}", i + 1);
        }
    }
    reason.to_owned()
}

/// At most this many rules, timeline events or outages in one scenario.
pub const MAX_ENTRIES: usize = 1000;

/// A check's refusal: the path to the value it is about (so the error names its line) and why.
type Refusal = (Path, String);

/// Checks that need more than one value or outside knowledge.
fn check<C>(
    s: &ScenarioFile,
    triggers: &[TriggerDef<C>],
    operations: Operations<'_>,
    renamed: &[Renamed],
    scope: Option<&TenantId>,
) -> Result<(), Refusal> {
    for (what, list, count) in [
        ("rules", "rule", s.rules.len()),
        ("timeline events", "timeline", s.timeline.len()),
        ("outages", "outage", s.outage.len()),
    ] {
        if count > MAX_ENTRIES {
            return Err((
                vec![Step::Key(list.to_owned()), Step::Index(MAX_ENTRIES)],
                format!("{count} {what}; a scenario may have at most {MAX_ENTRIES}"),
            ));
        }
    }
    let scope = effective_scope(s, scope);
    for (i, rule) in s.rules.iter().enumerate() {
        check_rule(i, rule, operations, renamed, scope.as_ref())?;
        check_rule_tenant(i, rule, scope.as_ref(), operations)?;
    }
    check_timeline(s, triggers, scope.as_ref())?;
    check_outages(s, scope.as_ref())
}

/// The checks across one rule's keys (rule `i`, 0-based); a refusal points at the key at fault.
/// `scope`: the tenant the scenario applies to, if one.
fn check_rule(
    i: usize,
    rule: &RuleSpec,
    operations: Operations<'_>,
    renamed: &[Renamed],
    scope: Option<&TenantId>,
) -> Result<(), Refusal> {
    let label = rule
        .name
        .clone()
        .unwrap_or_else(|| format!("rule {}", i + 1));
    let at = |key: &str| entry_key("rule", i, key);
    let at_then = |key: &str| [at("then"), vec![Step::Key(key.to_owned())]].concat();
    let refuse = |path: Path, why: &str| Err((path, format!("rule {label:?}: {why}")));
    if rule.nth.is_some() && (rule.first.is_some() || rule.after.is_some()) {
        return refuse(at("nth"), "nth cannot be combined with first or after");
    }
    if let (Some(super::format::Positive(first)), Some(after)) = (rule.first, rule.after) {
        if first <= after {
            return refuse(
                at("first"),
                &format!(
                    "first = {first} with after = {after} matches no request (both count from the \
                     start: after = 2, first = 5 is the 3rd to the 5th); make first greater than after"
                ),
            );
        }
    }
    if rule.window.is_some() && rule.nth.is_none() && rule.first.is_none() && rule.after.is_none() {
        return refuse(
            at("window"),
            "window only makes sense with nth, first or after",
        );
    }
    if rule.window.is_some_and(|w| w.0 <= 0) {
        return refuse(at("window"), "window must be longer than 0s");
    }
    for (path, p) in &rule.when {
        p.check().map_err(|e| {
            (
                [at("when"), vec![Step::Key(path.clone())]].concat(),
                format!("rule {label:?}, when {path:?}: {e}"),
            )
        })?;
    }
    let then = &rule.then;
    if (then.status.is_some() || then.reason.is_some()) && then.result.is_none() {
        let key = if then.status.is_some() {
            "status"
        } else {
            "reason"
        };
        return refuse(
            at_then(key),
            "status and reason describe the async result; add result = \"success\" or \"failure\"",
        );
    }
    if then.detail.is_some() && then.code.is_none() {
        return refuse(
            at_then("detail"),
            "detail is the message of a forced answer and goes with a code (e.g. code = \"FAILURE\"); \
             without code the operation answers as it would and the detail is never shown",
        );
    }
    if let Some((key, why)) = pockyt_contradiction(rule) {
        return refuse(at_then(key), &why);
    }
    if let Some((key, why)) = super::pockyt::rule_problem(rule, scope) {
        return refuse(at_then(key), &why);
    }
    check_values(rule, &label, &at)?;
    check_notify(rule, &label, &at)?;
    if then.http_status.is_some()
        && then.code.is_none()
        && could_decide_whalet(rule, operations, scope)
    {
        let which = match (rule.surface, &rule.operation) {
            (Some(_), _) => "",
            (None, None) => {
                "; a rule without surface and operation decides Whalet operations too: add a \
                 code, or name the surface it is for"
            }
            (None, Some(_)) => {
                "; an operation of this rule without surface is Whalet's: add a code, or name \
                 the surface it is for"
            }
        };
        return refuse(
            at_then("http_status"),
            &format!(
                "on the Whalet surface http_status goes with a code (e.g. code = \"FAILURE\"): \
                 without one the operation would run and its answer go out with that status{which}"
            ),
        );
    }
    check_operations(rule, operations, renamed).map_err(|(index, why)| {
        (
            [at("operation"), vec![Step::Index(index)]].concat(),
            format!("rule {label:?}: {why}"),
        )
    })?;
    if let Some(why) = unread_status(rule, scope) {
        return refuse(at_then("status"), &why);
    }
    if let Some(code) = &then.code {
        check_code(rule, code)
            .map_err(|why| (at_then("code"), format!("rule {label:?}: {why}")))?;
    }
    if then.drop_connection && (then.code.is_some() || then.http_status.is_some()) {
        return refuse(
            at_then("drop_connection"),
            "drop_connection sends no answer, so code and http_status cannot apply",
        );
    }
    Ok(())
}

/// A rule's `values`: no TOML date or time anywhere (it would go out as the TOML library's
/// object), each value read by its key's checker, and no key that no operation reads
/// ([`super::format::VALUE_KEYS`]: a typo would otherwise load and be ignored).
fn check_values(rule: &RuleSpec, label: &str, at: &dyn Fn(&str) -> Path) -> Result<(), Refusal> {
    use super::format::VALUE_KEYS;
    let values = &rule.then.values;
    let at_value = |key: &str| {
        [
            at("then"),
            vec![Step::Key("values".to_owned()), Step::Key(key.to_owned())],
        ]
        .concat()
    };
    for (key, value) in values {
        if let Some(text) = super::format::toml_datetime(value) {
            // In a table or an array too: it would go out as the TOML library's object.
            return Err((
                at_value(key),
                format!(
                    "rule {label:?}: values.{key}: {}",
                    super::format::toml_datetime_refusal(text, text)
                ),
            ));
        }
    }
    for (key, check, _) in VALUE_KEYS {
        if let Some(value) = values.get(*key) {
            check(value)
                .map_err(|e| (at_value(key), format!("rule {label:?}: values.{key}: {e}")))?;
        }
    }
    let known: Vec<&str> = VALUE_KEYS.iter().map(|(key, _, _)| *key).collect();
    if let Some(key) = values.keys().find(|k| !known.contains(&k.as_str())) {
        let near = crate::text::nearest(key, &known)
            .map(|near| {
                let readers = VALUE_KEYS
                    .iter()
                    .find(|(k, _, _)| *k == near)
                    .map_or("", |(_, _, readers)| *readers);
                format!("did you mean {near}? (read by {readers}); ")
            })
            .unwrap_or_default();
        let keys: Vec<String> = VALUE_KEYS
            .iter()
            .map(|(key, _, readers)| format!("{key} ({readers})"))
            .collect();
        return Err((
            at_value(key),
            format!(
                "rule {label:?}: values.{} is read by no operation, so it would be ignored; \
                 {near}the keys operations read: {}",
                crate::text::echo_bare(key),
                keys.join(", ")
            ),
        ));
    }
    Ok(())
}

/// A rule's `[rule.then.notify]`: `suppress = true` never sends the notification, so the
/// settings of its sending (`delay`, `duplicate`, `reorder`, `corrupt_signature`) cannot apply.
fn check_notify(rule: &RuleSpec, label: &str, at: &dyn Fn(&str) -> Path) -> Result<(), Refusal> {
    let notify = &rule.then.notify;
    if !notify.suppress {
        return Ok(());
    }
    let sending = [
        ("delay", notify.delay.is_some()),
        ("duplicate", notify.duplicate),
        ("reorder", notify.reorder),
        ("corrupt_signature", notify.corrupt_signature),
    ];
    let Some((key, _)) = sending.iter().find(|(_, set)| *set) else {
        return Ok(());
    };
    Err((
        [
            at("then"),
            vec![Step::Key("notify".to_owned()), Step::Key((*key).to_owned())],
        ]
        .concat(),
        format!(
            "rule {label:?}: notify.suppress = true never sends the notification, so notify.{key} \
             cannot apply to it; leave out {key}, or suppress to send the notification"
        ),
    ))
}

/// Whether `rule` can decide an operation of the Whalet surface (Whalet part 1): its surface is
/// `whalet`, or it names none and an `operation` entry is one of Whalet's (or it names no
/// operation), and it can see a Whalet tenant (the rule's `tenant`, else `scope`). Operation
/// entries are read against `operations`; when that is empty they are taken not to.
fn could_decide_whalet(
    rule: &RuleSpec,
    operations: Operations<'_>,
    scope: Option<&TenantId>,
) -> bool {
    let seen = rule.tenant.as_ref().map(|Tenant(t)| t).or(scope);
    if seen.is_some_and(|t| t.provider != crate::tenant::Provider::Whalet) {
        return false;
    }
    match (rule.surface, &rule.operation) {
        (Some(surface), _) => surface == Surface::Whalet,
        (None, None) => true,
        (None, Some(patterns)) => operations
            .iter()
            .any(|(s, name)| *s == Surface::Whalet.as_str() && patterns.matches(name)),
    }
}

/// A `result` and `status` that contradict each other on a Pockyt payout (`/v3/payouts/pay`,
/// where `status` picks the final status: docs/FIDELITY.md): `failure` with `returned` (a
/// returned payout succeeded first) and `success` with `failed`. For a rule that could decide
/// such a payout (surface `pockyt` or none, an operation matching `/v3/payouts/pay` or none): the
/// key to point at and why.
fn pockyt_contradiction(rule: &RuleSpec) -> Option<(&'static str, String)> {
    use super::Outcome;
    const PAY: &str = "/v3/payouts/pay";
    let pockyt = rule.surface.is_none_or(|s| s == Surface::Pockyt)
        && rule.operation.as_ref().is_none_or(|o| o.matches(PAY));
    let (Some(result), Some(status), true) =
        (rule.then.result, rule.then.status.as_deref(), pockyt)
    else {
        return None;
    };
    let fix = match (result, status) {
        (Outcome::Failure, "returned") => {
            "a returned payout succeeded first: write result = \"success\" with status = \"returned\", \
             or result = \"failure\" without status (the payout fails)"
        }
        (Outcome::Success, "failed") => {
            "write result = \"failure\" for a failed payout, or status = \"returned\" or \"pending\" \
             with result = \"success\""
        }
        _ => return None,
    };
    let word = match result {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
    };
    Some((
        "status",
        format!(
            "result = {word:?} and status = {status:?} contradict each other on a Pockyt payout \
             ({PAY}); {fix}"
        ),
    ))
}

/// The operations of `surface` that read a rule's `status` (canonical names): Whalet's whose
/// decision reports the word ([`crate::answers`]: the reviews a request starts, the payouts and
/// payments a confirmation starts, a collection's settlement), Pockyt's with a table of words
/// ([`super::pockyt`]); none on whalet-platform and Infinia, whose outcomes are their own words
/// for `result`.
fn status_operations(surface: Surface) -> Vec<&'static str> {
    use super::pockyt::{ACCOUNT, PAYEE, PAYOUT};
    match surface {
        Surface::Whalet => crate::answers::whalet_status_readers(),
        Surface::Pockyt => [PAYEE.operations, ACCOUNT.operations, PAYOUT.operations].concat(),
        Surface::Platform | Surface::Infinia => Vec::new(),
    }
}

/// Why a rule's `status` would be ignored: no operation it could decide (of its surface, or of
/// every surface the tenant it sees is served on; matching its `operation`, or any) reads one.
/// `None` when one does, or when the rule has no `status`.
fn unread_status(rule: &RuleSpec, scope: Option<&TenantId>) -> Option<String> {
    let status = rule.then.status.as_deref()?;
    let seen = rule.tenant.as_ref().map(|Tenant(t)| t).or(scope);
    let surfaces: Vec<Surface> = Surface::ALL
        .iter()
        .copied()
        .filter(|s| rule.surface.is_none_or(|named| named == *s))
        .filter(|s| seen.is_none_or(|t| t.provider == s.provider()))
        .collect();
    let reads = |surface: Surface| {
        status_operations(surface)
            .iter()
            .any(|o| rule.operation.as_ref().is_none_or(|p| p.matches(o)))
    };
    // No surface at all is another check's to refuse (a tenant the rule could never see).
    if surfaces.is_empty() || surfaces.iter().copied().any(reads) {
        return None;
    }
    let ops = rule
        .operation
        .as_ref()
        .map(|p| p.0.join(", "))
        .unwrap_or_default();
    let why: Vec<String> = surfaces
        .iter()
        .map(|s| match s {
            Surface::Platform => "whalet-platform reports no status word of its own (its \
                                  outcomes are SUCCESS or FAILURE, by result, with reason)"
                .to_owned(),
            Surface::Infinia => "Infinia reports no status word of its own (its outcomes are \
                                 its own words for result: a binding BOUND or REJECTED, a \
                                 sharing SUCCESS or FAILED, with reason)"
                .to_owned(),
            Surface::Whalet => format!(
                "on Whalet only a review's or a settlement's decision reports one ({}), not {ops}",
                crate::answers::whalet_status_readers().join(", ")
            ),
            Surface::Pockyt => format!(
                "on Pockyt only {} take one, not {ops}",
                status_operations(Surface::Pockyt).join(", ")
            ),
        })
        .collect();
    let other = if surfaces
        .iter()
        .any(|s| matches!(s, Surface::Whalet | Surface::Pockyt))
    {
        ", or name an operation that reports one"
    } else {
        ""
    };
    Some(format!(
        "status = {status:?} is read by no operation the rule decides, so it would be ignored: \
         {}; leave status out (result and reason decide the outcome){other}",
        why.join("; ")
    ))
}

/// A rule's `tenant` must be one the rule can see: of its surface's provider, and (in a scenario
/// for one tenant) that tenant. Otherwise the rule could never match. Likewise the tenant the
/// rule sees (its own, else the scenario's `scope`) must be one of its surface's provider, and,
/// for a rule without surface, every `operation` entry must match an operation of that
/// provider's surfaces (read against `operations`; unchecked when that is empty).
fn check_rule_tenant(
    i: usize,
    rule: &RuleSpec,
    scope: Option<&TenantId>,
    operations: Operations<'_>,
) -> Result<(), Refusal> {
    let label = rule
        .name
        .clone()
        .unwrap_or_else(|| format!("rule {}", i + 1));
    if let Some(Tenant(tenant)) = &rule.tenant {
        let at = entry_key("rule", i, "tenant");
        if let Some(surface) = rule.surface {
            if surface.provider() != tenant.provider {
                return Err((
                    at,
                    format!(
                        "rule {label:?}: tenant {tenant} is not a tenant of surface {surface}, whose \
                         tenants are {}:id, so the rule could never match; name {} tenant or \
                         another surface",
                        surface.provider().as_str(),
                        with_article(surface.provider().as_str())
                    ),
                ));
            }
        }
        if let Some(scope) = scope.filter(|s| *s != tenant) {
            return Err((
                at,
                format!(
                    "rule {label:?}: tenant {tenant} is not the scenario's tenant {scope}, so the \
                     rule could never match (a scenario for one tenant sees only its requests); \
                     remove the rule's tenant or load the scenario for {tenant}"
                ),
            ));
        }
    }
    // The tenant the rule sees: its own (checked against its surface above), else the scenario's.
    let (scope, whose) = match (&rule.tenant, scope) {
        (Some(Tenant(own)), _) => (own, "rule's"),
        (None, Some(scope)) => (scope, "scenario's"),
        (None, None) => return Ok(()),
    };
    let provider = scope.provider.as_str();
    if let Some(surface) = rule.surface {
        if surface.provider() != scope.provider {
            return Err((
                entry_key("rule", i, "surface"),
                format!(
                    "rule {label:?}: surface {surface} serves {} tenants, not the scenario's \
                     tenant {scope}, so the rule could never match (a scenario for one tenant \
                     sees only its requests); name a surface of {provider} tenants ({}), remove \
                     the rule, or load the scenario for {} tenant",
                    surface.provider().as_str(),
                    surfaces_of(scope.provider).join(", "),
                    with_article(surface.provider().as_str())
                ),
            ));
        }
        return Ok(());
    }
    let Some(patterns) = &rule.operation else {
        return Ok(());
    };
    for (index, pattern) in patterns.0.iter().enumerate() {
        // The surfaces of other providers the entry matches an operation of; `fits` when it
        // matches one the tenant's requests can reach (or of a surface no rule names, left be).
        let mut owners: Vec<Surface> = Vec::new();
        let mut fits = false;
        for (s, _) in operations
            .iter()
            .filter(|(_, n)| pattern_matches(pattern, n))
        {
            match Surface::parse(s) {
                Some(surface) if surface.provider() != scope.provider => {
                    if !owners.contains(&surface) {
                        owners.push(surface);
                    }
                }
                _ => fits = true,
            }
        }
        if fits || owners.is_empty() {
            continue;
        }
        let names: Vec<&str> = owners.iter().map(|s| s.as_str()).collect();
        let theirs = owners[0].provider().as_str();
        return Err((
            [entry_key("rule", i, "operation"), vec![Step::Index(index)]].concat(),
            format!(
                "rule {label:?}: operation {pattern:?} is an operation of surface {}, whose \
                 tenants are {theirs}:id, not the {whose} tenant {scope}, so it could never \
                 match (the rule sees only that tenant's requests); name an operation of \
                 surface {} instead, remove it, or {}",
                names.join(" and "),
                surfaces_of(scope.provider).join(" or "),
                match whose {
                    "rule's" => format!("name {} tenant", with_article(theirs)),
                    _ => format!("load the scenario for {} tenant", with_article(theirs)),
                }
            ),
        ));
    }
    Ok(())
}

/// The surfaces whose requests are of `provider`'s tenants.
fn surfaces_of(provider: crate::tenant::Provider) -> Vec<&'static str> {
    Surface::ALL
        .iter()
        .filter(|s| s.provider() == provider)
        .map(|s| s.as_str())
        .collect()
}

/// `a whalet`, `an infinia`: the indefinite article a word takes (by its first letter).
fn with_article(word: &str) -> String {
    let vowel = word
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// The tenants the rules of `file` name, each once, in file order (the loader warns about
/// those that do not exist).
pub fn rule_tenants(file: &ScenarioFile) -> Vec<TenantId> {
    let mut tenants: Vec<TenantId> = Vec::new();
    for Tenant(t) in file.rules.iter().filter_map(|r| r.tenant.as_ref()) {
        if !tenants.contains(t) {
            tenants.push(t.clone());
        }
    }
    tenants
}

/// Each timeline event must name a trigger the app serves, with its parameters.
fn check_timeline<C>(
    s: &ScenarioFile,
    triggers: &[TriggerDef<C>],
    scope: Option<&TenantId>,
) -> Result<(), Refusal> {
    for (i, event) in s.timeline.iter().enumerate() {
        let Some(def) = triggers.iter().find(|t| t.name == event.event) else {
            let names: Vec<&str> = triggers.iter().map(|t| t.name).collect();
            let hint = match crate::text::nearest(&event.event, &names) {
                Some(near) => format!("did you mean {near:?}?"),
                None => "`GET /__sim/triggers` lists them".to_owned(),
            };
            return Err((
                entry_key("timeline", i, "event"),
                format!(
                    "timeline event {}: no trigger {:?}; {hint}",
                    i + 1,
                    event.event,
                ),
            ));
        };
        if let Some(t) = scope {
            check_event_tenant(i, event, t)?;
        }
        let mut params = event.params.clone();
        if let Some(t) = scope {
            super::timeline::add_tenant_params(def, t, &mut params);
        }
        crate::trigger::check_params(def, &params).map_err(|e| {
            (
                param_at_fault(def, i, event, &e),
                format!("timeline event {} ({}): {e}", i + 1, event.event),
            )
        })?;
        if let Some((key, why)) = unusable_param(&params) {
            return Err((
                [
                    entry_key("timeline", i, "params"),
                    vec![Step::Key(key.to_owned())],
                ]
                .concat(),
                format!("timeline event {} ({}): {why}", i + 1, event.event),
            ));
        }
    }
    Ok(())
}

/// A parameter whose meaning every trigger shares (src/trigger.rs) and whose value no trigger
/// could use, which would otherwise load and fail only when the event fires: `tenant` that is
/// not `provider:id` ([`crate::trigger::named_tenant`]), `count` that is not a whole number of
/// 1 or more ([`crate::trigger::count_param`]; its upper bound is the trigger's own, checked
/// when it fires). The parameter's name and why.
fn unusable_param(
    params: &serde_json::Map<String, serde_json::Value>,
) -> Option<(&'static str, String)> {
    if let Some(text) = params.get("tenant").and_then(serde_json::Value::as_str) {
        if TenantId::parse(text).is_none() {
            return Some((
                "tenant",
                format!(
                    "parameter tenant must be provider:id with provider whalet, infinia or \
                     pockyt (e.g. \"whalet:202400000000001\"), not {}",
                    crate::text::echo(text)
                ),
            ));
        }
    }
    if params.contains_key("count") {
        crate::trigger::count_param(params, "count", u64::MAX, "").err()?;
        let shown = crate::trigger::shown(&params["count"]);
        return Some((
            "count",
            format!("parameter count must be a whole number, 1 or more, not {shown}"),
        ));
    }
    None
}

/// Where the refusal `e` of timeline event `i`'s parameters is located: at the parameter
/// whose check alone gives that refusal (one unknown, mistyped or empty), else at `event`: a
/// parameter missing has no place in the entry (and a parameter present alone is refused for
/// the same missing one, so that refusal names none of them).
fn param_at_fault<C>(
    def: &TriggerDef<C>,
    i: usize,
    event: &super::format::TimelineSpec,
    e: &str,
) -> Path {
    let missing = format!("{} needs parameter ", def.name);
    if e.starts_with(&missing) {
        return entry_key("timeline", i, "event");
    }
    let alone = |key: &String, value: &serde_json::Value| {
        let mut one = serde_json::Map::new();
        one.insert(key.clone(), value.clone());
        crate::trigger::check_params(def, &one).err().as_deref() == Some(e)
    };
    match event.params.iter().find(|(k, v)| alone(k, v)) {
        Some((key, _)) => [
            entry_key("timeline", i, "params"),
            vec![Step::Key(key.clone())],
        ]
        .concat(),
        None => entry_key("timeline", i, "event"),
    }
}

/// In a scenario for one tenant (`scope`), a timeline event acts on that tenant only, as its
/// rules see only that tenant's requests: a trigger of another provider's tenants, or a
/// parameter naming another tenant (`tenant`, or a provider's id parameter: `partnerId`,
/// `appId`, `merchantNo`), is refused. Left out, the tenant is filled in from the scope.
fn check_event_tenant(
    i: usize,
    event: &super::format::TimelineSpec,
    scope: &TenantId,
) -> Result<(), Refusal> {
    use crate::tenant::Provider;
    let label = format!("timeline event {} ({})", i + 1, event.event);
    if let Some(provider) = crate::trigger::provider_of(&event.event) {
        if provider != scope.provider {
            return Err((
                entry_key("timeline", i, "event"),
                format!(
                    "{label}: the trigger acts on {} tenants (named by {}), not on the \
                     scenario's tenant {scope}, so it would change another tenant (a scenario for \
                     one tenant acts only on it); fire it from a scenario for {} tenant, or for \
                     every tenant",
                    provider.as_str(),
                    crate::trigger::id_param(provider),
                    with_article(provider.as_str())
                ),
            ));
        }
    }
    let named = |key: &str, text: &str| match key {
        "tenant" => TenantId::parse(text),
        _ => [Provider::Whalet, Provider::Infinia, Provider::Pockyt]
            .into_iter()
            .find(|p| crate::trigger::id_param(*p) == key)
            .map(|p| TenantId::new(p, text)),
    };
    for (key, value) in &event.params {
        let is_tenant = key == "tenant"
            || [Provider::Whalet, Provider::Infinia, Provider::Pockyt]
                .iter()
                .any(|p| crate::trigger::id_param(*p) == key);
        // A value that is not text is the trigger's parameters check's to refuse.
        let (true, Some(text)) = (is_tenant, value.as_str()) else {
            continue;
        };
        if named(key, text).as_ref() == Some(scope) {
            continue;
        }
        let names = named(key, text).map_or_else(|| format!("{text:?}"), |t| format!("tenant {t}"));
        return Err((
            [
                entry_key("timeline", i, "params"),
                vec![Step::Key(key.clone())],
            ]
            .concat(),
            format!(
                "{label}: parameter {key} names {names}, not the scenario's tenant {scope}, so \
                 the event would change another tenant (a scenario for one tenant acts only on \
                 it); leave {key} out (the scenario's tenant is filled in) or load the scenario \
                 for that tenant"
            ),
        ));
    }
    Ok(())
}

/// An outage must end after it starts, on a channel the simulator notifies over: in a scenario
/// for one tenant (`scope`), that tenant's (a channel of another provider's tenants carries none
/// of its notifications, as a rule's surface of another provider sees none of its requests).
fn check_outages(s: &ScenarioFile, scope: Option<&TenantId>) -> Result<(), Refusal> {
    for (i, o) in s.outage.iter().enumerate() {
        if o.until.is_some_and(|u| u <= o.from) {
            return Err((
                entry_key("outage", i, "until"),
                format!("outage {}: until must be after from", i + 1),
            ));
        }
        if let Some(c) = &o.channel {
            if !["whalet", "infinia", "pockyt"].contains(&c.as_str()) {
                return Err((
                    entry_key("outage", i, "channel"),
                    format!(
                        "outage {}: channel must be whalet, infinia or pockyt, not {c:?}",
                        i + 1
                    ),
                ));
            }
            if let Some(scope) = scope.filter(|t| t.provider.as_str() != c.as_str()) {
                return Err((
                    entry_key("outage", i, "channel"),
                    format!(
                        "outage {}: channel {c} carries the notifications of {c} tenants, not of \
                         the scenario's tenant {scope}, so the outage could never take effect (a \
                         scenario for one tenant acts only on it); name channel {}, leave channel \
                         out (every channel of the tenant), or load the scenario for {} tenant",
                        i + 1,
                        scope.provider.as_str(),
                        with_article(c)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Each of the rule's operation patterns must match an operation of its surface (of any surface
/// when it names none). On error: which pattern (0-based) and why.
fn check_operations(
    rule: &RuleSpec,
    operations: Operations<'_>,
    renamed: &[Renamed],
) -> Result<(), (usize, String)> {
    let (Some(patterns), false) = (&rule.operation, operations.is_empty()) else {
        return Ok(());
    };
    let surface = rule.surface.map(Surface::as_str);
    match patterns.0.iter().enumerate().find_map(|(index, p)| {
        unknown_operation(surface, p, operations, renamed).map(|(_, why)| (index, why))
    }) {
        Some(refused) => Err(refused),
        None => match misses_canonical(surface, &patterns.0, operations, renamed) {
            Some(refused) => Err(refused),
            None => Ok(()),
        },
    }
}

/// Why a rule whose `patterns` each match an operation would still miss requests: one of them
/// matches the wire name of an operation (`renamed`: a configured rename, Pockyt's alias paths)
/// whose canonical name none of them matches. Requests are decided by the canonical name, so
/// `/v3/payee/account/*` never sees the account creations sent to `/v3/payee/account/create/…`
/// (they are `/v3/customers/account/create/…`). Refused as a pattern matching only a wire name
/// is ([`wire_name`]), naming the canonical names to add and the operations the pattern does
/// match. On error: the pattern (0-based) and why.
fn misses_canonical(
    surface: Option<&str>,
    patterns: &[String],
    operations: Operations<'_>,
    renamed: &[Renamed],
) -> Option<(usize, String)> {
    let matched = |name: &str| patterns.iter().any(|p| pattern_matches(p, name));
    let (index, pattern) = patterns.iter().enumerate().find(|(_, p)| {
        renamed.iter().any(|r| {
            surface.is_none_or(|want| r.surface == want)
                && pattern_matches(p, &r.wire)
                && !matched(&r.canonical)
        })
    })?;
    let missed: Vec<&Renamed> = renamed
        .iter()
        .filter(|r| surface.is_none_or(|want| r.surface == want))
        .filter(|r| pattern_matches(pattern, &r.wire) && !matched(&r.canonical))
        .collect();
    let known: Vec<&str> = operations
        .iter()
        .filter(|(s, _)| surface.is_none_or(|want| *s == want))
        .map(|(_, name)| *name)
        .collect();
    // One clause per surface and table that gives the wire names.
    let mut groups: Vec<(&str, &str, Vec<&Renamed>)> = Vec::new();
    for r in &missed {
        match groups
            .iter_mut()
            .find(|(surface, table, _)| *surface == r.surface && *table == r.table)
        {
            Some((_, _, group)) => group.push(r),
            None => groups.push((r.surface, r.table, vec![r])),
        }
    }
    let quoted = |names: Vec<&String>| -> String {
        let names: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => names.join(""),
        }
    };
    let wires = groups
        .into_iter()
        .map(|(surface, table, group)| {
            let plural = if group.len() == 1 { "" } else { "s" };
            format!(
                "{}, the wire name{plural} {table} gives surface {surface}'s operation{plural} {}",
                quoted(group.iter().map(|r| &r.wire).collect()),
                quoted(group.iter().map(|r| &r.canonical).collect()),
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let canonicals: Vec<&str> = missed.iter().map(|r| r.canonical.as_str()).collect();
    let mut added: Vec<String> = patterns.iter().map(|p| format!("{p:?}")).collect();
    added.extend(
        canonical_patterns(&canonicals, &known)
            .iter()
            .map(|p| format!("{p:?}")),
    );
    let own: Vec<String> = known
        .iter()
        .filter(|name| pattern_matches(pattern, name))
        .map(|name| format!("{name:?}"))
        .collect();
    let only = match own.as_slice() {
        [one] => format!("operation = {one}"),
        many => format!("operation = [{}]", many.join(", ")),
    };
    let (that, wire) = match missed.len() {
        1 => ("that operation", "that wire name"),
        _ => ("those operations", "those wire names"),
    };
    Some((
        index,
        format!(
            "operation {pattern:?} matches {wires}, but not {that}: rules take the canonical \
             name (as the journal records it), so this rule would never decide a request sent \
             under {wire}; write operation = [{}] to decide those too, or {only} for the \
             operations it matches by their own names",
            added.join(", "),
        ),
    ))
}

/// The fewest patterns that match `canonicals` (operations of `known`): their common prefix with
/// a `*` when that matches no other operation of `known`, else each name.
fn canonical_patterns(canonicals: &[&str], known: &[&str]) -> Vec<String> {
    let mut names: Vec<&str> = Vec::new();
    for name in canonicals {
        if !names.contains(name) {
            names.push(name);
        }
    }
    if let [one] = names.as_slice() {
        return vec![(*one).to_owned()];
    }
    let first = names.first().copied().unwrap_or_default();
    let common = names
        .iter()
        .map(|name| {
            first
                .chars()
                .zip(name.chars())
                .take_while(|(a, b)| a == b)
                .count()
        })
        .min()
        .unwrap_or(0);
    let prefix: String = first.chars().take(common).collect();
    let pattern = format!("{prefix}*");
    let exact = known
        .iter()
        .filter(|name| pattern_matches(&pattern, name))
        .all(|name| names.contains(name));
    if !prefix.is_empty() && exact {
        vec![pattern]
    } else {
        names.iter().map(|name| (*name).to_owned()).collect()
    }
}

/// Why `pattern` (a name, or a prefix with a trailing `*`) matches no operation of `surface` (of
/// any surface when `None`), with the nearest name, or, when it is the wire name a configuration
/// gives an operation (`renamed`), that operation's canonical name: `None` when it matches one.
/// What a rule's `operation` and the explain endpoint's are checked by.
pub fn unknown_operation<'p>(
    surface: Option<&str>,
    pattern: &'p str,
    operations: Operations<'_>,
    renamed: &[Renamed],
) -> Option<(&'p str, String)> {
    let known: Vec<&str> = operations
        .iter()
        .filter(|(s, _)| surface.is_none_or(|want| *s == want))
        .map(|(_, name)| *name)
        .collect();
    if known.iter().any(|name| pattern_matches(pattern, name)) {
        return None;
    }
    if let Some(why) = wire_name(surface, pattern, renamed) {
        return Some((pattern, why));
    }
    let lead = match surface {
        Some(s) => format!("surface {s} has no operation"),
        None => "no surface has an operation".to_owned(),
    };
    let near = nearest_operation(pattern.trim_end_matches('*'), &known)
        .map(|(n, prefix)| match prefix {
            "" => format!("; did you mean {n:?}?"),
            prefix => format!(
                "; did you mean {n:?}? (an operation is named without its wire path's {prefix:?})"
            ),
        })
        .or_else(|| near_wire_name(surface, pattern.trim_end_matches('*'), renamed))
        .unwrap_or_default();
    let how = if pattern.ends_with('*') {
        "starting with"
    } else {
        "named"
    };
    Some((
        pattern,
        format!(
            "{lead} {how} {:?}{near} (`GET /__sim/operations` lists them)",
            pattern.trim_end_matches('*')
        ),
    ))
}

/// Why `pattern`, which matches no canonical name of `surface` (of any surface when `None`), is
/// refused when it names (or, with a trailing `*`, matches) the wire name a configuration gives
/// an operation there: rules take the canonical name, whatever the wire calls it.
fn wire_name(surface: Option<&str>, pattern: &str, renamed: &[Renamed]) -> Option<String> {
    let r = renamed
        .iter()
        .filter(|r| surface.is_none_or(|want| r.surface == want))
        .find(|r| pattern_matches(pattern, &r.wire))?;
    let (surface, wire, canonical, table) = (r.surface, &r.wire, &r.canonical, r.table);
    let why = if pattern.ends_with('*') {
        format!(
            "no operation of surface {surface} is named starting with {:?}; it matches {wire:?}, \
             the wire name {table} gives {canonical:?}, and rules take the canonical name: write \
             operation = {canonical:?} (or a prefix of it)",
            pattern.trim_end_matches('*')
        )
    } else {
        format!(
            "{wire:?} is the wire name {table} gives surface {surface}'s operation {canonical:?}, \
             and rules take the canonical name (as the journal records it): write operation = \
             {canonical:?}"
        )
    };
    Some(why)
}

/// When `given` is near no canonical name but near the wire name of an operation (`renamed`:
/// `/v3/payee/account/create/venmo/`, a slash from Pockyt's alias path), the did-you-mean naming
/// that operation's canonical name, which rules take.
fn near_wire_name(surface: Option<&str>, given: &str, renamed: &[Renamed]) -> Option<String> {
    let here: Vec<&Renamed> = renamed
        .iter()
        .filter(|r| surface.is_none_or(|want| r.surface == want))
        .collect();
    let wires: Vec<&str> = here.iter().map(|r| r.wire.as_str()).collect();
    let near = crate::text::nearest(given, &wires)?;
    let r = here.iter().find(|r| r.wire == near)?;
    Some(format!(
        "; did you mean {:?}? (it is near {:?}, the wire name {} gives surface {}'s operation \
         {:?}, and rules take the canonical name)",
        r.canonical, r.wire, r.table, r.surface, r.canonical
    ))
}

/// The operation of `known` that `given` most likely meant, and the leading part of `given` left
/// out to find it: `""`, or a wire path's prefix (`/api/v1/account-binding/request` is Infinia's
/// `account-binding/request`, `/api/connectivity` Whalet's `connectivity`).
fn nearest_operation<'k, 'g>(given: &'g str, known: &[&'k str]) -> Option<(&'k str, &'g str)> {
    if let Some(near) = crate::text::nearest(given, known) {
        return Some((near, ""));
    }
    given
        .match_indices('/')
        .map(|(at, _)| at + 1)
        .filter(|at| *at < given.len())
        .find_map(|at| crate::text::nearest(&given[at..], known).map(|n| (n, &given[..at])))
}

/// A rule's sync `code` must be its surface's own. A rule without a surface must name a code of
/// some surface: a surface it matches that lacks the code answers with its generic failure
/// (docs/SCENARIOS.md, "a code from an every-surface rule that the surface lacks").
fn check_code(rule: &RuleSpec, code: &str) -> Result<(), String> {
    match rule.surface {
        Some(surface) => {
            let (known, scheme) = surface_codes(surface);
            if known.contains(&code) {
                Ok(())
            } else {
                Err(format!(
                    "{code:?} is not {scheme}; one of {}",
                    known.join(", ")
                ))
            }
        }
        None if Surface::ALL
            .iter()
            .any(|s| surface_codes(*s).0.contains(&code)) =>
        {
            Ok(())
        }
        None => Err(format!(
            "{code:?} is no surface's code; {}",
            Surface::ALL
                .iter()
                .filter(|s| **s != Surface::Platform)
                .map(|s| codes_of(*s))
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

/// `a Whalet code: A, B, ...`.
fn codes_of(surface: Surface) -> String {
    let (known, scheme) = surface_codes(surface);
    format!("{scheme}: {}", known.join(", "))
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The synchronous answer codes a `surface`-scoped rule may name, and how to call them: Whalet
/// codes for Whalet and whalet-platform, SUC-200/SYS-xxx for Infinia, ret_codes for Pockyt.
fn surface_codes(surface: Surface) -> (Vec<&'static str>, &'static str) {
    use crate::wire::{infinia, pockyt, whalet};
    match surface {
        Surface::Whalet | Surface::Platform => (whalet::Code::WORDS.to_vec(), "a Whalet code"),
        Surface::Infinia => (infinia::Code::WORDS.to_vec(), "an Infinia code"),
        Surface::Pockyt => (pockyt::RetCode::WORDS.to_vec(), "a Pockyt ret_code"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line() {
        let text = "name = \"x\"\n\n[[rule]]\nnth = 0\n";
        let e = parse::<()>(text, "f.toml", &[]).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("f.toml", 4), "{e}");
        assert!(e.reason.contains("1 or more"), "{e}");
        let e = parse::<()>("name = \"x\"\nbogus = 1\n", "f.toml", &[]).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = parse::<()>("{\"name\": \"x\",\n \"seed\": \"no\"}", "b.json", &[]).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        // Text that ends after `key =`: the parser says nothing; the refusal says what is missing.
        let e = parse::<()>("name = \"x\"\nseed = ", "f.toml", &[]).unwrap_err();
        assert_eq!(
            (e.line, e.reason.as_str()),
            (2, "a value is missing after `=`"),
            "{e}"
        );
    }

    /// A byte order mark is refused before either format alike, naming it at 1:1; without it
    /// the same text loads.
    #[test]
    fn a_byte_order_mark_is_refused_in_toml_and_json_alike() {
        for (text, file) in [
            ("{\"name\": \"x\"}", "b.json"),
            ("name = \"x\"\n", "b.toml"),
        ] {
            let marked = format!("\u{feff}{text}");
            let e = parse::<()>(&marked, file, &[]).unwrap_err();
            assert!(
                e.reason.contains("byte order mark (bytes EF BB BF)"),
                "{file}: {e}"
            );
            assert_eq!((e.line, e.column), (1, 1), "{file}: {e}");
            // A file, not a request: no advice about what is sent over the network.
            assert!(!e.reason.contains("network"), "{file}: {e}");
            assert!(parse::<()>(text, file, &[]).is_ok(), "{file}");
        }
    }

    const OPERATIONS: Operations<'static> = &[
        ("whalet", "connectivity"),
        ("whalet", "payoutApply"),
        ("platform", "connectivity"),
        ("pockyt", "/v3/payouts"),
        ("pockyt", "/v3/payouts/query"),
        ("whalet", "userOnboardingApply"),
        ("infinia", "account-binding/request"),
    ];

    fn rule(body: &str) -> Result<ScenarioFile, LoadError> {
        let text = format!("name = \"t\"\n[[rule]]\n{body}");
        parse_checked::<()>(&text, "t.toml", &[], OPERATIONS, &[], None)
    }

    /// Every typed `values` key is checked at load by its own checker, and the refusal names the
    /// rule and the key and points at the value, in TOML and JSON.
    #[test]
    fn a_typed_value_that_does_not_read_is_refused_where_it_is() {
        for (values, key, says) in [
            ("validSeconds = \"-3600\"", "validSeconds", "less than 1"),
            ("validSeconds = \"90s\"", "validSeconds", "write 90"),
            ("validSeconds = 2.5", "validSeconds", "not a whole number"),
            ("edd = true", "edd", "not \"Y\" or \"N\""),
            ("rate = \"7,12\"", "rate", "not a positive decimal"),
            ("linkTtl = \"0s\"", "linkTtl", "shorter than 1s"),
            ("returnAfter = 5", "returnAfter", "bare number"),
        ] {
            let e = rule(&format!(
                "name = \"typed\"\n[rule.then]\nvalues = {{ a = 1, {values} }}\n"
            ))
            .unwrap_err();
            assert!(
                e.reason
                    .starts_with(&format!("rule \"typed\": values.{key}: "))
                    && e.reason.contains(says),
                "{values}: {e}"
            );
            assert_eq!((e.line, e.column), (5, 22 + key.len()), "{values}: {e}");
        }
        let json = "{\"name\": \"t\", \"rule\": [{\"then\": {\"values\":\n{\"edd\": \"y\"}}}]}";
        let e = parse::<()>(json, "t.json", &[]).unwrap_err();
        assert!(e.reason.contains("values.edd"), "{e}");
        assert_eq!(e.line, 2, "{e}");
        for fine in [
            "validSeconds = 1",
            "validSeconds = \"31622400\"",
            "edd = \"N\"",
            "rate = 7.5",
            "linkTtl = \"1s\"",
            "returnAfter = \"0s\"",
            "message = true",
        ] {
            assert!(
                rule(&format!("[rule.then]\nvalues = {{ {fine} }}\n")).is_ok(),
                "{fine}"
            );
        }
    }

    /// A TOML date or time in `[rule.when]` or `values` would reach the matcher or the wire as
    /// the TOML library's object: refused at load, naming the rule and the key, saying to quote
    /// it, and never naming the library's internal key. A table or an array where a text is
    /// taken is refused too.
    #[test]
    fn a_toml_date_in_when_or_values_is_refused_naming_the_rule_and_key() {
        for (body, names) in [
            ("[rule.when]\nday = 2024-01-01\n", "when \"day\""),
            (
                "[rule.when]\nday = { equals = 2024-01-01 }\n",
                "when \"day\"",
            ),
            (
                "[rule.when]\nday = { one_of = [\"x\", 12:00:00] }\n",
                "when \"day\"",
            ),
            (
                "[rule.when]\nday = { prefix = 2024-01-01T10:00:00Z }\n",
                "when \"day\"",
            ),
            (
                "[rule.then]\nvalues = { message = 2024-01-01 }\n",
                "values.message",
            ),
            (
                "[rule.then]\nvalues = { other = [2024-01-01] }\n",
                "values.other",
            ),
            ("[rule.then]\nvalues = { edd = 2024-01-01 }\n", "values.edd"),
        ] {
            let e = rule(&format!("name = \"dated\"\n{body}")).unwrap_err();
            assert!(
                e.reason.starts_with("rule \"dated\"")
                    && e.reason.contains(names)
                    && e.reason
                        .contains("is a TOML date/time; write it as a quoted string")
                    && !e.reason.contains("$__toml"),
                "{body}: {e}"
            );
            assert_eq!(e.line, 5, "{body}: {e}");
        }
        for (values, says) in [
            ("message = { a = 1 }", "is a table"),
            ("materialType = [\"a\"]", "is an array"),
        ] {
            let e = rule(&format!(
                "name = \"t\"\n[rule.then]\nvalues = {{ {values} }}\n"
            ))
            .unwrap_err();
            assert!(
                e.reason.contains("values.") && e.reason.contains(says),
                "{values}: {e}"
            );
        }
        for fine in [
            "[rule.when]\nday = \"2024-01-01\"\n",
            "[rule.then]\nvalues = { message = \"2024-01-01\", materialType = \"x\" }\n",
        ] {
            assert!(rule(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn an_operation_no_surface_serves_is_refused_with_the_nearest_name() {
        let e = rule("surface = \"pockyt\"\noperation = \"/v3/payout/pay\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (4, 13), "{e}");
        assert!(
            e.reason
                .contains("surface pockyt has no operation named \"/v3/payout/pay\""),
            "{e}"
        );
        let e = rule("surface = \"whalet\"\noperation = [\"payoutApply\", \"connectivty\"]\n")
            .unwrap_err();
        assert!(e.reason.contains("did you mean \"connectivity\"?"), "{e}");
        assert_eq!((e.line, e.column), (4, 29), "{e}");
        let e = rule("operation = 'withdraw'\n").unwrap_err();
        assert!(
            e.reason
                .contains("no surface has an operation named \"withdraw\""),
            "{e}"
        );
        assert_eq!((e.line, e.column), (3, 13), "{e}");
        let e = rule("operation = \"/v3/payee*\"\n").unwrap_err();
        assert!(e.reason.contains("starting with \"/v3/payee\""), "{e}");
        // Another surface's operation is no operation of this one.
        assert!(rule("surface = \"infinia\"\noperation = \"connectivity\"\n").is_err());
        for fine in [
            "operation = [\"connectivity\", \"/v3/payouts*\"]\n",
            "surface = \"pockyt\"\noperation = \"/v3/payouts*\"\n",
            "surface = \"platform\"\noperation = \"connectivity\"\n",
        ] {
            assert!(rule(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn an_empty_operation_list_is_refused_where_it_is() {
        let e = rule("surface = \"whalet\"\noperation = []\n").unwrap_err();
        assert!(
            e.reason.contains("operation = [] names no operation"),
            "{e}"
        );
        assert_eq!(
            (e.file.as_str(), e.line, e.column),
            ("t.toml", 4, 13),
            "{e}"
        );
        let json = "{\"name\": \"t\", \"rule\": [\n {\"operation\": []}]}";
        let e = parse_checked::<()>(json, "t.json", &[], OPERATIONS, &[], None).unwrap_err();
        assert!(
            e.reason.contains("operation = [] names no operation"),
            "{e}"
        );
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn a_rule_without_a_surface_still_answers_with_a_surface_code() {
        let e = rule("[rule.then]\ncode = \"NOPE\"\n").unwrap_err();
        assert!(e.reason.contains("\"NOPE\" is no surface's code"), "{e}");
        assert_eq!(e.line, 4, "{e}");
        let e = parse::<()>(
            "name = \"t\"\n[[rule]]\nthen = { code = \"NOPE\" }\n",
            "t",
            &[],
        )
        .unwrap_err();
        assert!(e.reason.contains("no surface's code"), "{e}");
        assert!(rule("[rule.then]\ncode = \"FAILURE\"\n").is_ok());
        // Without a surface, a code of some surface: a surface that lacks it answers its generic
        // failure (docs/SCENARIOS.md), whatever operations the rule names.
        assert!(rule("operation = \"/v3/payouts\"\n[rule.then]\ncode = \"FAILURE\"\n").is_ok());
    }

    /// A first rule with every key the second one's errors are about (all valid), after a
    /// description holding the same words: 16 lines, the second `[[rule]]` on the last.
    const DECOY: &str = "name = \"t\"\ndescription = \"nth window status FAILURE connectivity\"\n\
        [[rule]]\nsurface = \"whalet\"\noperation = [\"connectivity\", \"userOnboardingApply\"]\n\
        nth = 1\nwindow = \"1s\"\n\
        [rule.when]\namount = { min = \"1\", max = \"2\" }\n\
        [rule.then]\ncode = \"FAILURE\"\nhttp_status = 500\nresult = \"failure\"\n\
        status = \"X\"\ndrop_connection = false\n[[rule]]\n";

    #[test]
    fn every_rule_error_names_the_key_of_its_own_rule() {
        assert!(parse_checked::<()>(DECOY, "t.toml", &[], OPERATIONS, &[], None).is_ok());
        for (second, reason, at) in [
            ("nth = 2\nfirst = 1\n", "nth cannot be combined", (17, 7)),
            ("after = 2\nfirst = 2\n", "matches no request", (18, 9)),
            ("window = \"5s\"\n", "window only makes sense", (17, 10)),
            ("nth = 1\nwindow = \"0s\"\n", "longer than 0s", (18, 10)),
            (
                "[rule.when]\namount = { min = \"500\", max = \"100\" }\n",
                "min 500 is above max 100",
                (18, 10),
            ),
            ("when = { amount = {} }\n", "give at least one", (17, 19)),
            (
                "[rule.then]\nstatus = \"X\"\n",
                "describe the async",
                (18, 10),
            ),
            (
                "[rule.then]\nreason = \"X\"\n",
                "describe the async",
                (18, 10),
            ),
            (
                "surface = \"whalet\"\n[rule.then]\nhttp_status = 500\n",
                "goes with a code",
                (19, 15),
            ),
            (
                "surface = \"pockyt\"\noperation = \"connectivity\"\n",
                "surface pockyt has no operation",
                (18, 13),
            ),
            (
                "surface = \"pockyt\"\noperation = [\"/v3/payouts\", \"connectivity\"]\n",
                "surface pockyt has no operation",
                (18, 29),
            ),
            (
                "surface = \"pockyt\"\n[rule.then]\ncode = \"FAILURE\"\n",
                "is not a Pockyt ret_code",
                (19, 8),
            ),
            (
                "then = { drop_connection = true, code = \"FAILURE\" }\n",
                "drop_connection sends no answer",
                (17, 28),
            ),
        ] {
            let text = format!("{DECOY}{second}");
            let e = parse_checked::<()>(&text, "t.toml", &[], OPERATIONS, &[], None).unwrap_err();
            assert!(e.reason.contains(reason), "{second}: {e}");
            assert_eq!((e.line, e.column), at, "{second}: {e}");
        }
    }

    #[test]
    fn a_json_rule_error_names_the_key_of_its_own_rule() {
        let text = "{\"name\": \"t\", \"description\": \"FAILURE\",\n\"rule\": [\n\
            {\"then\": {\"code\": \"FAILURE\"}},\n\
            {\"surface\": \"pockyt\", \"then\": {\"code\": \"FAILURE\"}}]}";
        let e = parse_checked::<()>(text, "t.json", &[], OPERATIONS, &[], None).unwrap_err();
        assert!(e.reason.contains("is not a Pockyt ret_code"), "{e}");
        assert_eq!((e.line, e.column), (4, 40), "{e}");
    }

    #[test]
    fn outage_and_size_errors_name_their_entry() {
        let text =
            "name = \"t\"\n[[outage]]\nfrom = \"1s\"\n[[outage]]\nfrom = \"2s\"\nuntil = \"1s\"\n";
        let e = parse::<()>(text, "t.toml", &[]).unwrap_err();
        assert_eq!((e.line, e.column), (6, 9), "{e}");
        let text =
            "name = \"t\"\n[[outage]]\nchannel = \"whalet\"\n[[outage]]\nchannel = \"fax\"\n";
        let e = parse::<()>(text, "t.toml", &[]).unwrap_err();
        assert_eq!((e.line, e.column), (5, 11), "{e}");
        let rules = "[[rule]]\n".repeat(MAX_ENTRIES + 1);
        let e = parse::<()>(&format!("name = \"t\"\n{rules}"), "t.toml", &[]).unwrap_err();
        assert_eq!(e.line, MAX_ENTRIES + 2, "{e}");
    }

    #[test]
    fn a_rule_tenant_that_can_never_match_is_refused_where_it_is() {
        let e = rule("surface = \"pockyt\"\ntenant = \"whalet:1\"\n").unwrap_err();
        assert!(e.reason.contains("not a tenant of surface pockyt"), "{e}");
        assert_eq!(e.line, 4, "{e}");
        let text = "name = \"t\"\ntenant = \"whalet:1\"\n[[rule]]\ntenant = \"whalet:2\"\n";
        let e = parse::<()>(text, "t.toml", &[]).unwrap_err();
        assert!(
            e.reason.contains("not the scenario's tenant whalet:1"),
            "{e}"
        );
        assert_eq!(e.line, 4, "{e}");
        // The tenant it is loaded for decides, not the file's.
        let one = TenantId::parse("whalet:2").unwrap();
        assert!(parse_for::<()>(text, "t.toml", &[], Some(&one)).is_ok());
        // In an every-tenant scenario a rule tenant narrows the rule.
        assert!(rule("surface = \"platform\"\ntenant = \"whalet:1\"\n").is_ok());
    }

    /// Regression: a rule's own tenant skipped the operation check, so `operation =
    /// "connectivity"` for `tenant = "pockyt:202333"` loaded and could never match. The tenant
    /// the rule sees is checked against its operations whichever way it is given.
    #[test]
    fn an_operation_entry_another_provider_serves_than_the_rules_own_tenant_is_refused() {
        for tenant in [None, Some("whalet:1")] {
            let e = scoped(
                "operation = \"connectivity\"\ntenant = \"pockyt:202333\"\n",
                tenant.unwrap_or("pockyt:202333"),
            );
            let e = match tenant {
                // Loaded for another tenant, the rule's tenant is refused first.
                Some(_) => {
                    let e = e.unwrap_err();
                    assert!(e.reason.contains("not the scenario's tenant"), "{e}");
                    continue;
                }
                None => e.unwrap_err(),
            };
            assert!(
                e.reason
                    .contains("operation \"connectivity\" is an operation of surface whalet")
                    && e.reason.contains("not the rule's tenant pockyt:202333")
                    && e.reason.contains("or name a whalet tenant"),
                "{e}"
            );
            assert_eq!((e.line, e.column), (3, 13), "{e}");
        }
        let every = |body: &str| {
            let text = format!("name = \"t\"\n[[rule]]\n{body}");
            parse_checked::<()>(&text, "t.toml", &[], OPERATIONS, &[], None)
        };
        let e = every("operation = \"/v3/payouts*\"\ntenant = \"whalet:1\"\n").unwrap_err();
        assert!(e.reason.contains("not the rule's tenant whalet:1"), "{e}");
        assert!(every("operation = \"/v3/payouts*\"\ntenant = \"pockyt:1\"\n").is_ok());
        assert!(every("operation = \"connectivity\"\ntenant = \"whalet:1\"\n").is_ok());
    }

    fn scoped(body: &str, tenant: &str) -> Result<ScenarioFile, LoadError> {
        let text = format!("name = \"t\"\n[[rule]]\n{body}");
        let scope = TenantId::parse(tenant).unwrap();
        parse_checked::<()>(&text, "t.toml", &[], OPERATIONS, &[], Some(&scope))
    }

    #[test]
    fn a_rule_whose_surface_serves_another_provider_than_the_scenarios_tenant_is_refused() {
        // Loaded for the tenant (`?tenant=`) or scoped by the file: the same refusal.
        let e = scoped(
            "surface = \"whalet\"\noperation = \"payoutApply\"\n",
            "pockyt:202333",
        )
        .unwrap_err();
        assert!(
            e.reason.contains("surface whalet serves whalet tenants")
                && e.reason.contains("not the scenario's tenant pockyt:202333")
                && e.reason.contains("could never match"),
            "{e}"
        );
        assert_eq!((e.line, e.column), (3, 11), "{e}");
        let text = "name = \"t\"\ntenant = \"pockyt:202333\"\n[[rule]]\nsurface = \"platform\"\n";
        let e = parse::<()>(text, "t.toml", &[]).unwrap_err();
        assert!(e.reason.contains("surface platform serves whalet"), "{e}");
        assert_eq!(e.line, 4, "{e}");
        // The tenant it is loaded for decides, not the file's.
        let whalet = TenantId::parse("whalet:1").unwrap();
        assert!(parse_for::<()>(text, "t.toml", &[], Some(&whalet)).is_ok());
        for fine in ["surface = \"platform\"\n", "surface = \"whalet\"\n", ""] {
            assert!(scoped(fine, "whalet:1").is_ok(), "{fine}");
        }
        assert!(rule("surface = \"pockyt\"\n").is_ok());
    }

    #[test]
    fn an_operation_entry_only_another_provider_serves_is_refused_in_a_scenario_for_one_tenant() {
        let e = scoped(
            "operation = [\"payoutApply\", \"/v3/payouts*\"]\n",
            "whalet:202400000000001",
        )
        .unwrap_err();
        assert!(
            e.reason
                .contains("operation \"/v3/payouts*\" is an operation of surface pockyt")
                && e.reason
                    .contains("not the scenario's tenant whalet:202400000000001"),
            "{e}"
        );
        assert_eq!((e.line, e.column), (3, 29), "{e}");
        let e = scoped("operation = \"connectivity\"\n", "infinia:app").unwrap_err();
        assert!(
            e.reason.contains("surface whalet and platform")
                && e.reason
                    .contains("name an operation of surface infinia instead")
                && e.reason.contains("load the scenario for a whalet tenant"),
            "{e}"
        );
        assert_eq!((e.line, e.column), (3, 13), "{e}");
        let json = "{\"name\": \"t\", \"tenant\": \"pockyt:1\", \"rule\": [\n\
            {\"operation\": [\"/v3/payouts\", \"userOnboardingApply\"]}]}";
        let e = parse_checked::<()>(json, "t.json", &[], OPERATIONS, &[], None).unwrap_err();
        assert!(e.reason.contains("\"userOnboardingApply\""), "{e}");
        assert_eq!(e.line, 2, "{e}");
        for (fine, tenant) in [
            (
                "operation = [\"connectivity\", \"payoutApply\"]\n",
                "whalet:1",
            ),
            ("operation = \"/v3/payouts*\"\n", "pockyt:1"),
            ("operation = \"account-binding/request\"\n", "infinia:app"),
        ] {
            assert!(scoped(fine, tenant).is_ok(), "{fine}");
        }
        // For every tenant, each entry matches its own provider's tenants.
        assert!(rule("operation = [\"payoutApply\", \"/v3/payouts*\"]\n").is_ok());
    }

    #[test]
    fn http_status_without_code_is_refused_on_every_rule_that_could_decide_a_whalet_operation() {
        let status = "[rule.then]\nhttp_status = 503\n";
        for could in [
            "",
            "surface = \"whalet\"\n",
            "operation = \"userOnboardingApply\"\n",
            "operation = [\"/v3/payouts\", \"connectivity\"]\n",
        ] {
            let e = rule(&format!("{could}{status}")).unwrap_err();
            assert!(
                e.reason.contains("http_status goes with a code"),
                "{could}: {e}"
            );
            assert_eq!(
                (e.line, e.column),
                (4 + could.lines().count(), 15),
                "{could}: {e}"
            );
        }
        for fine in [
            "surface = \"infinia\"\n",
            "surface = \"platform\"\n",
            "operation = \"/v3/payouts*\"\n",
            "[rule.then]\ncode = \"FAILURE\"\nhttp_status = 503\n",
        ] {
            let body = if fine.starts_with('[') {
                fine.to_owned()
            } else {
                format!("{fine}{status}")
            };
            assert!(rule(&body).is_ok(), "{body}");
        }
        // A scenario for a tenant of another provider decides no Whalet operation.
        assert!(scoped(status, "pockyt:1").is_ok());
        assert!(scoped(status, "whalet:1").is_err());
    }

    #[test]
    fn an_operation_written_as_its_wire_path_suggests_its_name() {
        let e = rule("surface = \"infinia\"\noperation = \"/api/v1/account-binding/request\"\n")
            .unwrap_err();
        assert!(
            e.reason
                .contains("did you mean \"account-binding/request\"?")
                && e.reason.contains("\"/api/v1/\""),
            "{e}"
        );
        let e = rule("operation = \"/api/connectivity\"\n").unwrap_err();
        assert!(e.reason.contains("did you mean \"connectivity\"?"), "{e}");
    }

    #[test]
    fn an_empty_one_of_is_refused_where_it_is() {
        let e = rule("[rule.when]\ncountry = { one_of = [] }\n").unwrap_err();
        assert!(e.reason.contains("one_of = [] lists no value"), "{e}");
        assert_eq!(e.line, 4, "{e}");
        assert!(rule("[rule.when]\ncountry = { one_of = [\"US\"] }\n").is_ok());
    }

    fn never(
        (): (),
        _: serde_json::Map<String, serde_json::Value>,
    ) -> crate::trigger::TriggerFuture {
        Box::pin(async { Err("not run in these tests".to_owned()) })
    }

    const TRIGGERS: &[TriggerDef<()>] = &[
        TriggerDef {
            name: "whalet.collection.received",
            description: "",
            params: &[],
            run: never,
        },
        TriggerDef {
            name: "infinia.binding.approved",
            description: "",
            params: &[],
            run: never,
        },
    ];

    #[test]
    fn a_misspelled_timeline_event_suggests_the_nearest_trigger() {
        let text =
            "name = \"x\"\n[[timeline]]\nat = \"1s\"\nevent = \"whalet.colection.received\"\n";
        let e = parse::<()>(text, "t.toml", TRIGGERS).unwrap_err();
        assert!(
            e.reason
                .contains("did you mean \"whalet.collection.received\"?")
                && !e.reason.contains("infinia.binding.approved"),
            "{e}"
        );
        assert_eq!(e.line, 4, "{e}");
    }

    const WITH_PARAMS: &[TriggerDef<()>] = &[TriggerDef {
        name: "whalet.collection.received",
        description: "",
        params: &[("amount", ""), ("remark?", "")],
        run: never,
    }];

    #[test]
    fn a_bad_timeline_parameter_is_located_at_it_and_a_missing_one_at_the_event() {
        let head =
            "name = \"x\"\n[[timeline]]\nat = \"1s\"\nevent = \"whalet.collection.received\"\n\
                    [timeline.params]\n";
        for (params, line, says) in [
            (
                "amount = \"1.00\"\nbogus = \"x\"\n",
                7,
                "no parameter \"bogus\"",
            ),
            ("remark = \"r\"\namount = 5\n", 7, "amount must be"),
            ("amount = \"\"\n", 6, "amount is empty"),
        ] {
            let e = parse::<()>(&format!("{head}{params}"), "t.toml", WITH_PARAMS).unwrap_err();
            assert!(e.reason.contains(says), "{e}");
            assert_eq!(e.line, line, "{params}: {e}");
        }
        let e = parse::<()>(&format!("{head}remark = \"r\"\n"), "t.toml", WITH_PARAMS).unwrap_err();
        assert!(e.reason.contains("needs parameter amount"), "{e}");
        assert_eq!(e.line, 4, "{e}");
    }

    #[test]
    fn an_outage_on_a_channel_of_another_provider_is_refused_for_one_tenant_only() {
        let text = "name = \"x\"\n[[outage]]\nchannel = \"pockyt\"\n";
        let whalet = TenantId::parse("whalet:1").unwrap();
        let e = parse_for::<()>(text, "t.toml", &[], Some(&whalet)).unwrap_err();
        assert!(
            e.reason.contains("channel pockyt")
                && e.reason.contains("whalet:1")
                && e.reason.contains("for a pockyt tenant"),
            "{e}"
        );
        assert_eq!((e.line, e.column), (3, 11), "{e}");
        let pockyt = TenantId::parse("pockyt:1").unwrap();
        assert!(parse_for::<()>(text, "t.toml", &[], Some(&pockyt)).is_ok());
        assert!(parse::<()>(text, "t.toml", &[]).is_ok());
    }

    #[test]
    fn a_trigger_of_another_provider_names_the_tenant_to_fire_it_for_with_its_article() {
        let text = "name = \"x\"\ntenant = \"whalet:1\"\n[[timeline]]\nat = \"1s\"\n\
                    event = \"infinia.binding.approved\"\n";
        let e = parse::<()>(text, "t.toml", TRIGGERS).unwrap_err();
        assert!(e.reason.contains("for an infinia tenant"), "{e}");
        let e = rule("surface = \"infinia\"\ntenant = \"whalet:1\"\n").unwrap_err();
        assert!(e.reason.contains("name an infinia tenant"), "{e}");
    }

    #[test]
    fn a_pockyt_contradiction_is_refused_only_where_it_could_decide_a_payout() {
        let pair = "[rule.then]\nresult = \"failure\"\nstatus = \"returned\"\n";
        for could in [
            "",
            "surface = \"pockyt\"\n",
            "operation = \"/v3/payouts*\"\n",
        ] {
            let e = rule(&format!("{could}{pair}")).unwrap_err();
            assert!(e.reason.contains("contradict"), "{could}: {e}");
            assert_eq!(e.line, 5 + could.lines().count(), "{could}: {e}");
        }
        // On a Whalet review "returned" is just the word to report.
        assert!(rule(&format!("surface = \"whalet\"\n{pair}")).is_ok());
        assert!(rule(&format!("operation = \"userOnboardingApply\"\n{pair}")).is_ok());
    }

    #[test]
    fn json_that_is_not_an_object_is_refused_as_such() {
        for (text, got) in [("[1]", "an array"), (" []", "an array"), ("42", "a number")] {
            let e = parse::<()>(text, "b", &[]).unwrap_err();
            assert!(
                e.reason.contains("is an object") && e.reason.contains(got),
                "{e}"
            );
        }
        assert!(parse::<()>("[[rule]]\n", "t", &[]).is_err_and(|e| !e.reason.contains("JSON")));
    }

    /// A rule `status` that no operation the rule decides reads (whalet-platform and Infinia
    /// report no status word of their own; Whalet and Pockyt only on the operations whose
    /// decisions take one) is refused at load naming the rule and pointing at its `status`,
    /// rather than loaded and ignored.
    #[test]
    fn a_status_no_decided_operation_reads_is_refused_where_it_is() {
        let load = |body: &str, scope: Option<&str>| {
            let text = format!("name = \"t\"\n[[rule]]\nname = \"r\"\n{body}");
            let scope = scope.map(|t| TenantId::parse(t).unwrap());
            parse_checked::<()>(&text, "t.toml", &[], &[], &[], scope.as_ref())
        };
        let then = |status: &str| {
            format!("[rule.then]\nresult = \"failure\"\nstatus = \"{status}\"\nreason = \"nah\"\n")
        };
        for (rule, says) in [
            (
                "surface = \"platform\"\noperation = \"shopAccountBind\"\n",
                "whalet-platform reports no status word of its own",
            ),
            (
                "surface = \"platform\"\noperation = \"paymentApply\"\n",
                "whalet-platform reports no status word of its own",
            ),
            (
                "surface = \"platform\"\n",
                "whalet-platform reports no status word",
            ),
            (
                "surface = \"infinia\"\n",
                "Infinia reports no status word of its own",
            ),
            (
                "surface = \"whalet\"\noperation = \"connectivity\"\n",
                "on Whalet only a review's or a settlement's decision reports one",
            ),
            (
                "surface = \"pockyt\"\noperation = \"/v3/payouts/inquiry\"\n",
                "on Pockyt only /v3/payee/register",
            ),
            // Without a surface: every surface the operation could be on.
            (
                "operation = [\"connectivity\", \"paymentApply\"]\n",
                "whalet-platform reports no status word",
            ),
        ] {
            let e = load(&format!("{rule}{}", then("DECLINED")), None).unwrap_err();
            assert!(
                e.reason
                    .starts_with("rule \"r\": status = \"DECLINED\" is read by no operation")
                    && e.reason.contains(says)
                    && e.reason.contains("leave status out"),
                "{rule}: {e}"
            );
            let line = 3 + rule.lines().count() + 3;
            assert_eq!((e.line, e.column), (line, 10), "{rule}: {e}");
        }
        // A scenario for an Infinia tenant: its rules decide Infinia operations only.
        let e = load(&then("DECLINED"), Some("infinia:app")).unwrap_err();
        assert!(e.reason.contains("Infinia reports no status word"), "{e}");
        assert!(!e.reason.contains("Whalet"), "{e}");
        // Where an operation the rule could decide reports the word, it loads.
        for (rule, scope) in [
            (
                "surface = \"whalet\"\noperation = \"userOnboardingApply\"\n",
                None,
            ),
            ("surface = \"whalet\"\n", None),
            ("", None),
            ("", Some("whalet:1")),
            ("operation = [\"withdraw\", \"payout*\"]\n", None),
            (
                "operation = [\"paymentApply\", \"mockPayeeNotify\"]\n",
                None,
            ),
            (
                "surface = \"pockyt\"\noperation = \"/v3/payee/register\"\n",
                None,
            ),
        ] {
            let status = if rule.contains("pockyt") {
                "Declined"
            } else {
                "DECLINED"
            };
            assert!(
                load(&format!("{rule}{}", then(status)), scope).is_ok(),
                "{rule}"
            );
        }
        // Without status a platform failure loads as ever.
        assert!(load(
            "surface = \"platform\"\n[rule.then]\nresult = \"failure\"\nreason = \"nah\"\n",
            None
        )
        .is_ok());
    }

    /// A rule naming the wire name a configuration gives an operation is told the canonical
    /// name rules take, on its `operation` entry; the canonical name loads.
    #[test]
    fn a_wire_name_is_pointed_to_the_canonical_name() {
        let operations: Operations<'_> = &[
            ("infinia", "account-balance/query"),
            ("infinia", "account-binding/request"),
            ("whalet", "userOnboardingApply"),
            ("whalet", "connectivity"),
        ];
        let renamed = [
            Renamed {
                surface: "infinia",
                wire: "platform-balance/query".to_owned(),
                canonical: "account-balance/query".to_owned(),
                table: "[infinia.paths]",
            },
            Renamed {
                surface: "whalet",
                wire: "userApply".to_owned(),
                canonical: "userOnboardingApply".to_owned(),
                table: "[whalet.api_codes]",
            },
        ];
        let load = |body: &str| {
            let text = format!("name = \"t\"\n[[rule]]\nname = \"r\"\n{body}");
            parse_checked::<()>(&text, "t.toml", &[], operations, &renamed, None)
        };
        for (body, wire, canonical, table, column) in [
            (
                "surface = \"infinia\"\noperation = \"platform-balance/query\"\n",
                "platform-balance/query",
                "account-balance/query",
                "[infinia.paths]",
                13,
            ),
            (
                "operation = [\"connectivity\", \"userApply\"]\n",
                "userApply",
                "userOnboardingApply",
                "[whalet.api_codes]",
                30,
            ),
        ] {
            let e = load(body).unwrap_err();
            assert!(
                e.reason.starts_with("rule \"r\": ")
                    && e.reason
                        .contains(&format!("{wire:?} is the wire name {table} gives surface"))
                    && e.reason
                        .contains(&format!("write operation = {canonical:?}"))
                    && !e.reason.contains("has no operation"),
                "{body}: {e}"
            );
            assert_eq!(
                (e.line, e.column),
                (3 + body.lines().count(), column),
                "{body}: {e}"
            );
        }
        // A prefix matching only the wire name says so.
        let e = load("surface = \"infinia\"\noperation = \"platform-*\"\n").unwrap_err();
        assert!(
            e.reason.contains("it matches \"platform-balance/query\"")
                && e.reason.contains("\"account-balance/query\""),
            "{e}"
        );
        // The wire name of another surface's operation is no hint on this one.
        let e = load("surface = \"infinia\"\noperation = \"userApply\"\n").unwrap_err();
        assert!(e.reason.contains("surface infinia has no operation"), "{e}");
        assert!(load("surface = \"infinia\"\noperation = \"account-balance/query\"\n").is_ok());
        assert!(load("operation = \"userOnboardingApply\"\n").is_ok());
    }

    /// A pattern that matches an operation and the wire name of another one, but not that other
    /// one's canonical name, would never decide the requests sent under the wire name (rules see
    /// the canonical name): refused on its entry, naming the pattern to add and the operations it
    /// matches by their own names; a rule whose patterns cover the canonical name loads. A near
    /// miss of a wire name is pointed to the canonical name.
    #[test]
    fn a_pattern_matching_a_wire_name_but_not_its_operation_is_refused() {
        let operations: Operations<'_> = &[
            ("whalet", "userOnboardingApply"),
            ("whalet", "connectivity"),
            ("pockyt", "/v3/customers/account/create/paypal"),
            ("pockyt", "/v3/customers/account/create/venmo"),
            ("pockyt", "/v3/payee/account/delete"),
        ];
        let renamed = [
            Renamed {
                surface: "whalet",
                wire: "userPing".to_owned(),
                canonical: "connectivity".to_owned(),
                table: "[whalet.api_codes]",
            },
            Renamed {
                surface: "pockyt",
                wire: "/v3/payee/account/create/paypal".to_owned(),
                canonical: "/v3/customers/account/create/paypal".to_owned(),
                table: "the alias table",
            },
            Renamed {
                surface: "pockyt",
                wire: "/v3/payee/account/create/venmo".to_owned(),
                canonical: "/v3/customers/account/create/venmo".to_owned(),
                table: "the alias table",
            },
        ];
        let load = |body: &str| {
            let text = format!("name = \"t\"\n[[rule]]\nname = \"r\"\n{body}");
            parse_checked::<()>(&text, "t.toml", &[], operations, &renamed, None)
        };
        let e = load("operation = \"user*\"\n").unwrap_err();
        assert!(
            e.reason
                .starts_with("rule \"r\": operation \"user*\" matches \"userPing\"")
                && e.reason
                    .contains("write operation = [\"user*\", \"connectivity\"]")
                && e.reason
                    .contains("or operation = \"userOnboardingApply\" for"),
            "{e}"
        );
        assert_eq!((e.line, e.column), (4, 13), "{e}");
        let e = load(
            "surface = \"pockyt\"\noperation = [\"/v3/payee/account/delete\", \"/v3/payee/*\"]\n",
        )
        .unwrap_err();
        assert!(
            e.reason.contains(
                "\"/v3/payee/account/create/paypal\" and \"/v3/payee/account/create/venmo\", \
                 the wire names the alias table gives surface pockyt's operations"
            ) && e.reason.contains(
                "write operation = [\"/v3/payee/account/delete\", \"/v3/payee/*\", \
                 \"/v3/customers/account/create/*\"]"
            ),
            "{e}"
        );
        assert_eq!((e.line, e.column), (5, 42), "{e}");
        for fine in [
            // The canonical name is matched by another entry of the rule.
            "operation = [\"connectivity\", \"user*\"]\n",
            "operation = [\"/v3/payee/*\", \"/v3/customers/*\"]\n",
            "operation = \"/v3/*\"\n",
            "surface = \"pockyt\"\noperation = \"/v3/payee/account/delete\"\n",
        ] {
            assert!(load(fine).is_ok(), "{fine}");
        }
        let e = load("operation = \"/v3/payee/account/create/venmo/\"\n").unwrap_err();
        assert!(
            e.reason
                .contains("did you mean \"/v3/customers/account/create/venmo\"?"),
            "{e}"
        );
    }

    /// The pattern offered for several canonical names: their common prefix when it matches no
    /// other operation, else each name.
    #[test]
    fn canonical_patterns_are_a_prefix_only_when_it_matches_no_other_operation() {
        let known = ["/a/x/1", "/a/x/2", "/a/y"];
        assert_eq!(
            canonical_patterns(&["/a/x/1", "/a/x/2"], &known),
            ["/a/x/*"]
        );
        assert_eq!(
            canonical_patterns(&["/a/x/1", "/a/y"], &known),
            ["/a/x/1", "/a/y"]
        );
        assert_eq!(canonical_patterns(&["/a/y", "/a/y"], &known), ["/a/y"]);
    }

    #[test]
    fn unknown_trigger_names_its_line() {
        let text = "name = \"x\"\n[[timeline]]\nat = \"1s\"\nevent = \"no.such.event\"\n";
        let e = parse::<()>(text, "t.toml", &[]).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.reason.contains("no trigger"), "{e}");
    }
}
