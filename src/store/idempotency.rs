//! Business-id idempotency: the same id with the same content returns the original result; the
//! same id with different content is a conflict (Whalet's IDEMPOTENT_ERROR, Pockyt's duplicate).
//!
//! The content is what the operation read of the request, by full path (`legalEntity.name`,
//! `attaches[0].fileId`), a null, blank or absent field not in it ([`flatten`] is the rule). A
//! record written before that (a snapshot or database of an older simulator) holds the raw body
//! instead; it is read as such ([`Entry::Body`]) and compared by the same rule, so that the
//! identical request still gets its original answer after an upgrade.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdempotencyTable {
    entries: BTreeMap<String, Entry>,
}

/// One record: what was asked and the result. Serialized as an array, `[content, result,
/// "content"]`; an older record is `[body, result]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Entry {
    /// The content the operation read ([`flatten`]'s form).
    Content(Value, Value, Form),
    /// The raw request body, as simulators before content comparison recorded it.
    Body(Value, Value),
}

/// The marker of a record holding content (its third element).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Form {
    Content,
}

/// What a repeated business id means.
#[derive(Debug, Clone, PartialEq)]
pub enum Replay {
    /// Never seen: execute.
    New,
    /// Seen with equal content: answer with the recorded result.
    Same(Value),
    /// Seen with different content.
    Conflict,
}

impl IdempotencyTable {
    fn key(operation: &str, id: &str) -> String {
        format!("{operation}\u{1f}{id}")
    }

    /// The older record `operation`/`id` answers to, if any: a raw-body record ([`Entry::Body`])
    /// under the key an older simulator used ([`legacy_operation`]), whose body meets that key's
    /// condition (another user's record is not this request's, nor a conflict with it).
    fn find_legacy(&self, operation: &str, id: &str) -> Option<(String, &Entry)> {
        let (older, user) = legacy_operation(operation)?;
        let key = Self::key(older, id);
        match self.entries.get(&key) {
            Some(e @ Entry::Body(body, _)) if user.is_none_or(|u| body["userId"] == u) => {
                Some((key, e))
            }
            _ => None,
        }
    }

    /// The record of `operation`/`id`: under its key, else an older record ([`Self::find_legacy`]).
    fn find(&self, operation: &str, id: &str) -> Option<&Entry> {
        self.entries
            .get(&Self::key(operation, id))
            .or_else(|| self.find_legacy(operation, id).map(|(_, e)| e))
    }

    pub fn check(&self, operation: &str, id: &str, content: &Value) -> Replay {
        let defaults = defaults_of(content);
        let content = without_defaults(content, &defaults);
        let (same, result) = match self.find(operation, id) {
            None => return Replay::New,
            Some(Entry::Content(seen, result, _)) => {
                (without_defaults(seen, &defaults) == content, result)
            }
            Some(Entry::Body(body, result)) => (body_matches(body, &content), result),
        };
        if same {
            Replay::Same(result.clone())
        } else {
            Replay::Conflict
        }
    }

    /// Whether a record of `operation`/`id` exists (under its key, or an older record it
    /// answers to), whatever content it holds: the request under that id is answered from it
    /// by an operation that refuses every other content as a conflict.
    pub fn holds(&self, operation: &str, id: &str) -> bool {
        self.find(operation, id).is_some()
    }

    /// Records `content` and its `result` (replacing an older record under the legacy key); a
    /// field at its default is recorded as left out ([`DEFAULT_MARK`]).
    pub fn record(&mut self, operation: &str, id: &str, content: Value, result: Value) {
        if let Some((key, _)) = self.find_legacy(operation, id) {
            self.entries.remove(&key);
        }
        let content = without_defaults(&content, &defaults_of(&content));
        self.entries.insert(
            Self::key(operation, id),
            Entry::Content(content, result, Form::Content),
        );
    }
}

/// The start of a content entry that is no field but the default of one: `DEFAULT_MARK` +
/// `toCurrency` holds the value `toCurrency` takes when left out
/// ([`Check::defaulted`](crate::api::whalet::common::fields::Check::defaulted)). Content is
/// compared with every field at its default left out, so a request that spells a default out,
/// one that leaves it out, and a record of either (written before defaults were content, or
/// when a spelled-out default was content as given) are the same request. No field name holds
/// the control character.
pub const DEFAULT_MARK: &str = "\u{1f}default:";

/// The defaults `content` declares ([`DEFAULT_MARK`]), by the path of their field.
fn defaults_of(content: &Value) -> Map<String, Value> {
    content
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            Some((key.strip_prefix(DEFAULT_MARK)?.to_owned(), value.clone()))
        })
        .collect()
}

/// `content` without its declarations of defaults and without every field at its default (a
/// content that is no object as it is).
fn without_defaults(content: &Value, defaults: &Map<String, Value>) -> Value {
    let Some(fields) = content.as_object() else {
        return content.clone();
    };
    let kept = fields.iter().filter(|(path, value)| {
        !path.starts_with(DEFAULT_MARK) && defaults.get(path.as_str()) != Some(*value)
    });
    Value::Object(
        kept.map(|(path, value)| (path.clone(), value.clone()))
            .collect(),
    )
}

/// The operation an older simulator recorded `operation` under, with the user its raw body must
/// name (`userId`) to be this request's, if there was one:
/// - a round-0 retry after a refusal (`b2cShopBind UNBIND 0`) had no round suffix before rounds
///   were counted (`b2cShopBind UNBIND`);
/// - a scope per user (`payApply confirm U1`, `cardHolderApply U1`) was the operation alone
///   (`payApply confirm`) before it was per user; the user is the scope's last word.
fn legacy_operation(operation: &str) -> Option<(&str, Option<&str>)> {
    let (before, last) = operation.rsplit_once(' ')?;
    Some((before, (last != "0").then_some(last)))
}

/// Whether a value reads as absent: null, or a string with nothing but spaces. Every reader
/// takes those alike, so content leaves them out.
pub fn blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A request body as content: every leaf by its full path (`legalEntity.name`,
/// `attaches[0].fileId`; an array of values other than objects is one leaf), a null or blank
/// leaf (and an empty object or array of objects) left out. A key holding `.` or `[` is no field
/// any operation reads, and is left out too: the literal key `"legalEntity.name"` must not pass
/// for the field `name` of `legalEntity`. The rule content follows, for a
/// reader that does not note its reads as [`Check`](crate::api::whalet::common::fields::Check)
/// does, and for an older record's body.
pub fn flatten(body: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    flatten_into(body, "", &mut out);
    out
}

/// The content of `body` for an operation that reads the fields `paths` (full paths, as
/// [`flatten`] names them): [`flatten`] without the fields it does not read.
pub fn content_of(body: &Value, paths: &[&str]) -> Map<String, Value> {
    let mut content = flatten(body);
    content.retain(|path, _| paths.contains(&path.as_str()));
    content
}

fn flatten_into(value: &Value, path: &str, out: &mut Map<String, Value>) {
    let prefix = |path: &str| {
        if path.is_empty() {
            String::new()
        } else {
            format!("{path}.")
        }
    };
    match value {
        Value::Object(map) => {
            for (field, v) in map.iter().filter(|(field, _)| !field.contains(['.', '['])) {
                flatten_into(v, &format!("{}{field}", prefix(path)), out);
            }
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            for (i, item) in items.iter().enumerate() {
                flatten_into(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Array(items) if items.is_empty() => {}
        leaf if blank(leaf) || path.is_empty() => {}
        leaf => {
            out.insert(path.to_owned(), leaf.clone());
        }
    }
}

/// Whether an older record's raw `body` is the request whose content is `content`: every field
/// the operation read has the value the body gave it. The body's other fields are not compared:
/// what the operation ignored then cannot be told from what the retry leaves out, and the
/// identical request must replay. Values compare as read: an amount as the number it is
/// (`"10.00"`, `"10"` and `10` alike), since content holds amounts in their canonical form;
/// every other field exactly (`"0091"` is not the id `"91"`).
fn body_matches(body: &Value, content: &Value) -> bool {
    let given = flatten(body);
    let Some(read) = content.as_object() else {
        return false;
    };
    read.iter().all(|(path, value)| {
        given
            .get(path)
            .is_some_and(|g| g == value || amount_field(path) && same_number(g, value))
    })
}

/// Whether `path` names an amount, the one kind of field content holds in a canonical form of
/// its own (`amount`, `items[0].amount`: the name every amount reader takes).
fn amount_field(path: &str) -> bool {
    path.rsplit('.').next() == Some("amount")
}

/// The same decimal number written differently (a string or a JSON number).
fn same_number(given: &Value, read: &Value) -> bool {
    matches!((decimal(given), decimal(read)), (Some(a), Some(b)) if a == b)
}

/// A number's plain decimal text without trailing fractional zeros (`"10.50"` → `10.5`), if the
/// value is one.
fn decimal(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    Some(format!(
        "{}.{fraction}",
        if whole.is_empty() { "0" } else { whole }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A field at its default is one request whether the retry spells it out or leaves it out,
    /// against a record written either way: by this simulator (recorded as left out), by one
    /// that recorded the default spelled out, by one that recorded it as given (left out or
    /// spelled out), or as an older raw body. Another value is a conflict with each.
    #[test]
    fn a_field_at_its_default_is_the_same_request_against_a_record_of_any_form() {
        let mark = format!("{DEFAULT_MARK}toCurrency");
        let retry = |to: Option<&str>| {
            let mut content = json!({"currency": "USD", "toCurrency": "USD", &mark: "USD"});
            if let Some(to) = to {
                content["toCurrency"] = json!(to);
            }
            content
        };
        let result = json!({"code": "SUCCESS"});
        let records = [
            json!({"e\u{1f}p": [{"currency": "USD"}, result, "content"]}),
            json!({"e\u{1f}p": [{"currency": "USD", "toCurrency": "USD"}, result, "content"]}),
            json!({"e\u{1f}p": [{"currency": "USD", "amount": 1}, result]}),
            json!({"e\u{1f}p": [{"currency": "USD", "toCurrency": "USD"}, result]}),
        ];
        for entries in records {
            let table: IdempotencyTable =
                serde_json::from_value(json!({ "entries": entries })).unwrap();
            for spelled in [None, Some("USD")] {
                assert_eq!(
                    table.check("e", "p", &retry(spelled)),
                    Replay::Same(result.clone()),
                    "{entries} against {spelled:?}"
                );
            }
            assert_eq!(
                table.check("e", "p", &retry(Some("EUR"))),
                Replay::Conflict,
                "{entries}"
            );
        }
        // This simulator records the default as left out, and without its declaration.
        let mut table = IdempotencyTable::default();
        table.record("e", "p", retry(None), result.clone());
        assert_eq!(
            serde_json::to_value(&table).unwrap()["entries"]["e\u{1f}p"][0],
            json!({"currency": "USD"})
        );
        // The default follows the request: with another currency, USD is a value given.
        let other = json!({"currency": "EUR", "toCurrency": "USD", &mark: "EUR"});
        table.record("e", "q", other.clone(), result.clone());
        assert_eq!(table.check("e", "q", &other), Replay::Same(result));
        assert_eq!(
            table.check("e", "q", &json!({"currency": "EUR", &mark: "EUR"})),
            Replay::Conflict
        );
    }

    #[test]
    fn flatten_names_nested_fields_and_drops_blanks() {
        let body = json!({"a": "1", "n": null, "b": " ", "o": {"x": 1, "y": null},
            "f": [{"fileId": "f1"}], "ids": ["1", "2"], "e": [], "eo": {}});
        assert_eq!(
            Value::Object(flatten(&body)),
            json!({"a": "1", "o.x": 1, "f[0].fileId": "f1", "ids": ["1", "2"]})
        );
    }

    /// A record of an older simulator (`[body, result]`) still replays the identical request,
    /// compared by the content rule; other content is still a conflict.
    #[test]
    fn an_older_record_of_the_raw_body_replays_the_same_request() {
        let older = json!({"entries": {
            "userOnboardingApply\u{1f}m": [
                {"outUserId": "m", "legalEntity": {"name": "A", "type": "ENTERPRISE"},
                 "email": "e", "traceId": "t", "amount": 10},
                {"code": "PROCESSING"}
            ]
        }});
        let table: IdempotencyTable = serde_json::from_value(older).unwrap();
        let content = json!({"outUserId": "m", "legalEntity.name": "A",
            "legalEntity.type": "ENTERPRISE", "email": "e", "amount": "10.00"});
        assert_eq!(
            table.check("userOnboardingApply", "m", &content),
            Replay::Same(json!({"code": "PROCESSING"}))
        );
        let other = json!({"outUserId": "m", "legalEntity.name": "B"});
        assert_eq!(
            table.check("userOnboardingApply", "m", &other),
            Replay::Conflict
        );
    }

    /// A new record says which form it holds, and reads back as written.
    #[test]
    fn a_record_says_it_holds_content() {
        let mut table = IdempotencyTable::default();
        table.record("op", "1", json!({"a.b": 1}), json!("r"));
        let written = serde_json::to_value(&table).unwrap();
        assert_eq!(
            written,
            json!({"entries": {"op\u{1f}1": [{"a.b": 1}, "r", "content"]}})
        );
        let read: IdempotencyTable = serde_json::from_value(written).unwrap();
        assert_eq!(
            read.check("op", "1", &json!({"a.b": 1})),
            Replay::Same(json!("r"))
        );
        // A content record compares exactly: its nested form is not flattened again.
        assert_eq!(
            read.check("op", "1", &json!({"a": {"b": 1}})),
            Replay::Conflict
        );
    }

    /// An unbind recorded before rounds were counted (no ` 0`) answers the same request of round
    /// 0, and a new record replaces it.
    #[test]
    fn a_round_zero_request_finds_the_record_under_the_older_key() {
        let older = json!({"entries": {
            "b2cShopBind UNBIND\u{1f}B1": [{"bindId": "B1"}, "r"]
        }});
        let mut table: IdempotencyTable = serde_json::from_value(older).unwrap();
        let content = json!({"bindId": "B1"});
        assert_eq!(
            table.check("b2cShopBind UNBIND 0", "B1", &content),
            Replay::Same(json!("r"))
        );
        assert_eq!(
            table.check("b2cShopBind UNBIND 1", "B1", &content),
            Replay::New
        );
        table.record("b2cShopBind UNBIND 0", "B1", content.clone(), json!("r2"));
        assert_eq!(table.entries.len(), 1);
        assert_eq!(
            table.check("b2cShopBind UNBIND 0", "B1", &content),
            Replay::Same(json!("r2"))
        );
    }

    #[test]
    fn decimals_compare_as_numbers() {
        assert!(same_number(&json!(10), &json!("10.00")));
        assert!(same_number(&json!("010.50"), &json!("10.5")));
        assert!(!same_number(&json!("10.01"), &json!("10.1")));
        assert!(!same_number(&json!("1e1"), &json!("10")));
    }

    /// An older record compares an amount as a number, and every other field exactly: an id
    /// of digits with leading zeros or a decimal point is another id.
    #[test]
    fn an_older_record_compares_only_amounts_as_numbers() {
        let older = json!({"entries": {
            "userOnboardingApply\u{1f}m": [
                {"outUserId": "m", "legalEntity": {"certNo": "0091350200123"},
                 "items": [{"amount": "010.50"}]},
                "r"
            ]
        }});
        let table: IdempotencyTable = serde_json::from_value(older).unwrap();
        let content = |cert: &str| json!({"outUserId": "m", "legalEntity.certNo": cert, "items[0].amount": "10.50"});
        assert_eq!(
            table.check("userOnboardingApply", "m", &content("0091350200123")),
            Replay::Same(json!("r"))
        );
        for other in ["91350200123", "0091350200123.000"] {
            assert_eq!(
                table.check("userOnboardingApply", "m", &content(other)),
                Replay::Conflict,
                "{other}"
            );
        }
    }

    /// A confirm recorded before its scope was per user (`payApply confirm`) answers the same
    /// user's request under `payApply confirm U1`; another user's request is new to it, and
    /// recording that one leaves it in place.
    #[test]
    fn a_per_user_scope_finds_the_users_record_under_the_older_key() {
        let older = json!({"entries": {
            "payApply confirm\u{1f}P1": [{"userId": "U1", "payId": "P1"}, "r"]
        }});
        let mut table: IdempotencyTable = serde_json::from_value(older).unwrap();
        let content = |user: &str| json!({"userId": user, "payId": "P1"});
        assert_eq!(
            table.check("payApply confirm U1", "P1", &content("U1")),
            Replay::Same(json!("r"))
        );
        assert_eq!(
            table.check("payApply confirm U2", "P1", &content("U2")),
            Replay::New
        );
        table.record("payApply confirm U2", "P1", content("U2"), json!("r2"));
        assert_eq!(
            table.check("payApply confirm U1", "P1", &content("U1")),
            Replay::Same(json!("r"))
        );
        table.record("payApply confirm U1", "P1", content("U1"), json!("r1"));
        assert_eq!(table.entries.len(), 2);
    }

    /// A literal key holding `.` or `[` is not the nested field it spells.
    #[test]
    fn a_dotted_key_is_not_a_nested_field() {
        let body = json!({"legalEntity": {"name": "Bob"}, "legalEntity.name": "Alice",
            "files[0].fileId": "f"});
        assert_eq!(
            Value::Object(flatten(&body)),
            json!({"legalEntity.name": "Bob"})
        );
        let literal_only = json!({"legalEntity.name": "Alice"});
        assert_eq!(
            Value::Object(content_of(&literal_only, &["legalEntity.name"])),
            json!({})
        );
    }
}
