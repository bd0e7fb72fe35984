//! Describe mode: an operation's fields, an example body and what must come before it, read from
//! the very checks its handler validates with (one source, nothing to drift).
//!
//! The field readers of every surface ([`crate::api::whalet::common::fields::Check`], the platform
//! and Infinia readers, Pockyt's `fields`) call [`record`] as they read. Outside describe mode
//! that is one thread-local test. [`run`] turns it on around calls of a handler: the first call
//! gets `{}`, each next one the example built from what the calls before recorded, until the
//! example stops growing (a handler that stops at its first missing field is read one field per
//! call). The handler runs against a tenant that does not exist, so anything past validation
//! ends at the first touch of state, and the collecting checks (`Check::finish`,
//! `Problems::finish`) end the call themselves in describe mode: describing changes nothing.

use std::cell::RefCell;

use serde::Serialize;
use serde_json::{json, Map, Value};

/// One field of a request body, as the handler reads it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// Its full path: `userId`, `legalEntity.name`, `materials[0].tradeTime`.
    pub name: String,
    /// `string`, `id`, `text`, `enum`, `country`, `currency`, `amount`, `integer`, `time`,
    /// `timestamp`, `date`, `email`, `flag`, `files` (`[{fileId, fileName, fileUrl}]`), `fileIds`
    /// (`[fileId]`), `object`, `array` (of objects).
    pub kind: &'static str,
    pub required: bool,
    /// The values it may take (`enum`, `flag`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// The other field of an either-or pair (one of the two is required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub or: Option<String>,
    /// When a required field is required only in some requests: the condition, e.g.
    /// `operationType is BIND or ADD` (the example is one of those requests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Who puts the field in the request instead of the operation's example: `the signing
    /// layer` for Pockyt's `merchantNo`, `storeNo`, `timestamp` and `verifySign`, which
    /// `whalet-sim call` adds to the body it signs and a partner's own signer must add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_by: Option<&'static str>,
}

impl Field {
    /// A field with no allowed values, no pair and no condition.
    pub fn plain(name: &str, kind: &'static str, required: bool) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            required,
            allowed: Vec::new(),
            or: None,
            when: None,
            added_by: None,
        }
    }
}

/// One operation as its handler reads it: the fields, in reading order, and an example body
/// (ids as the handler would accept them; the catalog swaps in placeholders).
#[derive(Debug, Clone)]
pub struct Described {
    /// The canonical name (apiCode, path).
    pub name: &'static str,
    pub fields: Vec<Field>,
    pub example: Value,
}

impl Described {
    /// Describes the operation `name` whose handler `call` runs (see [`run`]).
    pub fn of(name: &'static str, call: impl FnMut(&Value)) -> Self {
        let (fields, example) = run(call);
        Self {
            name,
            fields,
            example,
        }
    }
}

/// Describes every operation of a surface's table: each handler runs with the session
/// `session_of` makes for it, for a tenant no configuration can name ([`nobody`]) and no scenario
/// decision, once per example tried.
pub fn operations<S, H: crate::api::pipeline::Handler<S>>(
    core: &crate::core::Core,
    provider: crate::tenant::Provider,
    table: impl IntoIterator<Item = &'static crate::api::pipeline::Operation<H>>,
    session_of: impl Fn(&'static crate::api::pipeline::Operation<H>) -> S,
) -> Vec<Described> {
    let tenant = nobody(provider);
    let decision = crate::scenario::Decision::default();
    table
        .into_iter()
        .map(|op| {
            let session = session_of(op);
            let ctx = crate::api::pipeline::Ctx {
                core,
                tenant: &tenant,
                decision: &decision,
                session: &session,
            };
            Described::of(op.name, |body| {
                let _ = op.handler.call(&ctx, body);
            })
        })
        .collect()
}

/// A tenant no configuration can name: a described handler that reaches the state finds nothing
/// there and stops.
pub fn nobody(provider: crate::tenant::Provider) -> crate::tenant::TenantId {
    crate::tenant::TenantId::new(provider, "(describing)")
}

thread_local! {
    static RECORDING: RefCell<Option<Vec<Field>>> = const { RefCell::new(None) };
}

/// Whether the current thread is describing an operation.
pub fn active() -> bool {
    RECORDING.with(|r| r.borrow().is_some())
}

/// Notes a field the handler reads (nothing outside describe mode). A field read twice keeps its
/// first place; the later reading adds what it knows (required, a narrower kind, the values).
pub fn record(name: &str, kind: &'static str, required: bool, allowed: &[&str]) {
    RECORDING.with(|r| {
        let mut r = r.borrow_mut();
        let Some(fields) = r.as_mut() else { return };
        if let Some(f) = fields.iter_mut().find(|f| f.name == name) {
            f.required |= required;
            if matches!(f.kind, "string" | "id") && !matches!(kind, "string" | "id") {
                f.kind = kind;
            }
            if f.allowed.is_empty() {
                f.allowed = allowed.iter().map(|s| (*s).to_owned()).collect();
            }
            return;
        }
        fields.push(Field {
            name: name.to_owned(),
            kind,
            required,
            allowed: allowed.iter().map(|s| (*s).to_owned()).collect(),
            or: None,
            when: None,
            added_by: None,
        });
    });
}

/// Notes that field `name`, read as required, is required only when `condition` holds (the
/// handler reads it as optional in the other requests).
pub fn record_when(name: &str, condition: &str) {
    amend(name, |f| f.when = Some(condition.to_owned()));
}

/// Notes a pair of which one is required (`holderId` or `outHolderId`); the example has the
/// first.
pub fn record_either(first: &str, second: &str) {
    for (name, other) in [(first, second), (second, first)] {
        record(name, "string", false, &[]);
        amend(name, |f| f.or = Some(other.to_owned()));
    }
}

/// Changes the recorded field `name`, if it was recorded (nothing outside describe mode).
fn amend(name: &str, change: impl FnOnce(&mut Field)) {
    RECORDING.with(|r| {
        if let Some(f) = r
            .borrow_mut()
            .as_mut()
            .and_then(|fields| fields.iter_mut().find(|f| f.name == name))
        {
            change(f);
        }
    });
}

/// Turns recording off when dropped (also when the handler panics).
struct Recording;

impl Recording {
    fn start() -> Self {
        RECORDING.with(|r| *r.borrow_mut() = Some(Vec::new()));
        Recording
    }
    fn take(self) -> Vec<Field> {
        RECORDING.with(|r| r.borrow_mut().take().unwrap_or_default())
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        RECORDING.with(|r| *r.borrow_mut() = None);
    }
}

/// The operation that makes the id a field (by its last name) holds, if another one does.
pub type Producer<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The example's value of a file reference: a file must be uploaded first.
pub const UPLOADED: &str = "<fileId from POST /file/upload>";

/// Most calls of a handler while describing it (one per field for a handler that stops at its
/// first missing field).
const MAX_ROUNDS: usize = 64;

/// Describes one operation: `call` runs its handler on a body (in describe mode). Returns the
/// fields in the order the handler reads them and the example body.
pub fn run(mut call: impl FnMut(&Value)) -> (Vec<Field>, Value) {
    let mut body = json!({});
    let mut fields = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let recording = Recording::start();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(&body)));
        let seen = recording.take();
        if outcome.is_err() {
            return (fields, body);
        }
        let next = example(&seen, None);
        fields = seen;
        if next == body {
            return (fields, body);
        }
        body = next;
    }
    tracing::warn!(
        rounds = MAX_ROUNDS,
        "an operation's description did not settle; its example may lack fields"
    );
    (fields, body)
}

/// An example body from the fields: every required field, the first of each either-or pair,
/// with a value from its kind and name; an id another operation produces is the placeholder
/// `<name from operation>` (`producer` gives the operation for a field name, if any).
pub fn example(fields: &[Field], producer: Option<Producer<'_>>) -> Value {
    example_for("", fields, producer)
}

/// [`example`] for the operation `op`: the partner's own ids it makes up (`outCardId`,
/// `accountTag`) end in a number of the operation's own, so examples of different operations
/// do not collide when sent one after the other.
pub fn example_for(op: &str, fields: &[Field], producer: Option<Producer<'_>>) -> Value {
    let serial = 100 + op.bytes().fold(0u32, |h, b| (h * 31 + u32::from(b)) % 900);
    let mut body = Value::Object(Map::new());
    for f in fields {
        if !shown(f, fields) {
            continue;
        }
        let leaf = leaf_name(&f.name);
        let placeholder = producer.and_then(|p| p(leaf));
        let value = match placeholder {
            Some(op) if matches!(f.kind, "id" | "string" | "text") => {
                Value::String(format!("<{leaf} from {op}>"))
            }
            _ => value_for(f, serial),
        };
        put(&mut body, &f.name, value);
    }
    fit_to_kind(&mut body);
    body
}

/// Values that suit what the example says the object is, where a field's own name and kind
/// cannot tell: a person's name and identity-card number for an `INDIVIDUAL` (not a company's
/// name and licence number), the PayPal e-mail or Venmo handle (and that service's name) for a
/// PayPal or Venmo payout account (docs/FIDELITY.md, Pockyt: `bankAccountId` by type). Only
/// values [`value_for`] made are replaced: a placeholder stays.
fn fit_to_kind(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let is = |key: &str, word: &str| map.get(key).and_then(Value::as_str) == Some(word);
            let individual = ["type", "holderType", "userType", "entityType"]
                .iter()
                .any(|k| is(k, "INDIVIDUAL"));
            let mut set = Vec::new();
            if individual {
                set.push(("name", "Ada Lovelace"));
                set.push(("certNo", "ID0123456789"));
            }
            if is("accountType", "PAYPAL") {
                set.push(("bankAccountId", "ada@example.com"));
                set.push(("bankName", "PayPal"));
            }
            if is("accountType", "VENMO") {
                set.push(("bankAccountId", "@ada-lovelace"));
                set.push(("bankName", "Venmo"));
            }
            for (key, value) in set {
                if let Some(slot) = map.get_mut(key).filter(|s| !is_placeholder(s)) {
                    *slot = Value::String(value.to_owned());
                }
            }
            map.values_mut().for_each(fit_to_kind);
        }
        Value::Array(items) => items.iter_mut().for_each(fit_to_kind),
        _ => {}
    }
}

/// Whether an example's value is a placeholder for an id another operation makes.
fn is_placeholder(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.starts_with('<'))
}

/// Whether a field is in the example: required (or first of a pair) and within shown parents.
fn shown(f: &Field, all: &[Field]) -> bool {
    let own = match &f.or {
        Some(other) => all
            .iter()
            .position(|g| g.name == f.name)
            .zip(all.iter().position(|g| &g.name == other))
            .is_some_and(|(me, them)| me < them),
        None => f.required,
    };
    own && parent(&f.name).is_none_or(|p| {
        all.iter()
            .find(|g| g.name == p)
            .is_none_or(|g| shown(g, all))
    })
}

/// The value at a path (`a.b`, `a[0].b`) of a body, if there is one.
pub fn lookup<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    let mut at = body;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        at = at.get(key)?;
        if let Some(n) = index {
            at = at.get(n)?;
        }
    }
    Some(at)
}

/// `legalEntity` for `legalEntity.name`; `materials` for `materials[0].x`.
fn parent(name: &str) -> Option<&str> {
    let cut = name.rfind('.')?;
    let p = &name[..cut];
    Some(p.split_once('[').map_or(p, |(array, _)| array))
}

/// The last segment of a path: `name` for `legalEntity.name`.
pub fn leaf_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Sets `path` (`a.b`, `a[0].b`) in `body`, creating objects and arrays on the way; a value
/// already there is kept when the new one is an empty container.
pub fn put(body: &mut Value, path: &str, value: Value) {
    let mut at = body;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (*part, None),
        };
        let Value::Object(map) = at else { return };
        let slot = map.entry(key.to_owned()).or_insert(Value::Null);
        at = match index {
            Some(n) => {
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                let Value::Array(items) = slot else { return };
                while items.len() <= n {
                    items.push(Value::Object(Map::new()));
                }
                &mut items[n]
            }
            None => slot,
        };
        if last {
            let keep = at.is_object() || at.is_array();
            let empty_new = matches!(&value, Value::Object(m) if m.is_empty())
                || matches!(&value, Value::Array(a) if a.is_empty());
            if !(keep && empty_new) {
                *at = value;
                return;
            }
            return;
        }
        if at.is_null() {
            *at = Value::Object(Map::new());
        }
    }
}

/// The example value of a field (as in [`example`]).
pub fn value_of(f: &Field) -> Value {
    value_for(f, 100)
}

/// A field's path as a contract overlay names it: `materials.tradeTime` for
/// `materials[0].tradeTime`.
pub fn dotted(name: &str) -> String {
    name.split('.')
        .map(|part| part.split_once('[').map_or(part, |(key, _)| key))
        .collect::<Vec<_>>()
        .join(".")
}

/// A realistic value for a field, from its kind and then its name.
fn value_for(f: &Field, serial: u32) -> Value {
    if let Some(first) = f.allowed.first() {
        // An integer enum (the platform's `tradeType` 0 or 1) is sent as the number it is.
        if f.kind == "integer" {
            if let Ok(n) = first.parse::<i64>() {
                return json!(n);
            }
        }
        return Value::String(first.clone());
    }
    let leaf = leaf_name(&f.name);
    let lower = leaf.to_ascii_lowercase();
    let text = |s: &str| Value::String(s.to_owned());
    if f.kind == "currency" && leaf.starts_with("to") {
        return text("HKD");
    }
    match f.kind {
        "object" => return Value::Object(Map::new()),
        "array" => return json!([{}]),
        "country" => return text("US"),
        "currency" => return text("USD"),
        "amount" => return text("100.00"),
        "integer" => return json!(1),
        "time" => return text("2026-01-01 00:00:00"),
        "timestamp" => return text("2026-01-01T00:00:00Z"),
        "date" => return text("1990-01-01"),
        "email" => return text("ada@example.com"),
        "files" => return json!([{"fileId": UPLOADED, "fileName": "document.pdf"}]),
        "fileIds" => return json!([UPLOADED]),
        _ => {}
    }
    let by_name = [
        ("email", "ada@example.com"),
        ("phone", "+14155550100"),
        ("mobile", "+14155550100"),
        ("url", "https://example.com/notify"),
        ("currency", "USD"),
        ("country", "US"),
        ("firstname", "Ada"),
        ("lastname", "Lovelace"),
        ("certno", "91350200MA2Y000000"),
        ("swift", "EXAMUS33"),
        ("accountno", "012345678901"),
        ("routingno", "021000021"),
        ("bankaccountid", "000123455655"),
        ("bankcode", "004"),
        ("bankname", "Example Bank"),
        // Infinia's trade-details file, as uploaded over SFTP into /upload/.
        ("filename", "trade-details.csv"),
        ("accountname", "Example Trading Co., Ltd."),
        ("shopname", "Example Store"),
        ("company", "Example Trading Co., Ltd."),
        ("address", "1 Example Road"),
        ("street", "123 Main St"),
        ("city", "New York"),
        ("state", "NY"),
        ("zip", "10005"),
        ("postcode", "10005"),
        ("clientip", "203.0.113.7"),
        ("amount", "100.00"),
        ("date", "2026-01-01"),
        ("time", "2026-01-01 00:00:00"),
    ];
    for (needle, value) in by_name {
        if lower.contains(needle) {
            return text(value);
        }
    }
    if lower == "name" || lower.ends_with("name") {
        return text("Example Trading Co., Ltd.");
    }
    let stem = leaf.strip_prefix("out").unwrap_or(leaf);
    Value::String(format!("{}-{serial}", kebab(stem)))
}

/// `HolderId` → `holder-id`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push('-');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, kind: &'static str, required: bool) -> Field {
        Field::plain(name, kind, required)
    }

    #[test]
    fn recording_is_off_outside_describe_mode() {
        record("x", "id", true, &[]);
        assert!(!active());
        let (fields, body) = run(|b| {
            assert!(active());
            record("userId", "id", true, &[]);
            record("type", "enum", true, &["B", "A"]);
            if b.get("type").is_some() {
                record("only_when_typed", "string", true, &[]);
            }
            record("memo", "string", false, &[]);
        });
        assert!(!active());
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["userId", "type", "only_when_typed", "memo"]);
        assert_eq!(body["type"], "B");
        assert!(body.get("memo").is_none());
    }

    #[test]
    fn nested_and_array_paths_make_nested_examples() {
        let mut entity = field("legalEntity", "object", true);
        entity.required = true;
        let fields = vec![
            entity,
            field("legalEntity.countryCode", "country", true),
            field("materials[0].tradeCurrency", "currency", true),
            field("extra", "object", false),
            field("extra.name", "text", true),
        ];
        let body = example(&fields, Some(&|n: &str| (n == "none").then(String::new)));
        assert_eq!(
            body,
            json!({"legalEntity": {"countryCode": "US"},
                   "materials": [{"tradeCurrency": "USD"}]})
        );
    }

    #[test]
    fn ids_made_elsewhere_are_placeholders() {
        let fields = vec![field("userId", "id", true), field("outUserId", "id", true)];
        let producer = |n: &str| (n == "userId").then(|| "userOnboardingApply".to_owned());
        let body = example(&fields, Some(&producer));
        assert_eq!(body["userId"], "<userId from userOnboardingApply>");
        assert_eq!(body["outUserId"], "user-id-100");
        let other = example_for("cardHolderApply", &fields, None);
        assert_ne!(other["outUserId"], body["outUserId"]);
    }
}
