//! Field predicates of `[rule.when]`: a dot path into the decrypted request fields and a test on
//! the value found there (`equals`, `prefix`, `one_of`, `exists`, a numeric `min`/`max` range).
//! Numbers are compared as exact decimals (never `f64`), so `"100.00"` equals `100`; a Money
//! object (`{amount, currency, ...}`) is compared by its `amount`.

use std::cmp::Ordering;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A test on one field. All keys given must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredicateSpec {
    pub equals: Option<Value>,
    pub prefix: Option<String>,
    pub one_of: Option<Vec<Value>>,
    pub exists: Option<bool>,
    pub min: Option<Dec>,
    pub max: Option<Dec>,
    /// A key written as a TOML date or time (`None`: the bare value) and its text: refused by
    /// [`Predicate::check`], since the request's field is text and never equals the TOML
    /// library's object.
    #[serde(skip)]
    pub dated: Option<(Option<String>, String)>,
}

/// A predicate; a bare value (`userId = "U1"`) is shorthand for `{ equals = ... }`.
#[derive(Debug, Clone)]
pub struct Predicate(pub PredicateSpec);

impl<'de> Deserialize<'de> for Predicate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Predicate::from_value(None, Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The tests a predicate table may hold (`[rule.when]`, docs/SCENARIOS.md).
pub const TESTS: &[&str] = &["equals", "prefix", "one_of", "exists", "min", "max"];

/// Deserialises a predicate knowing the field path it is written under (`[rule.when]`'s key),
/// so that a dotted path written unquoted is told how to write it.
pub struct PredicateSeed<'k>(pub &'k str);

impl<'de> serde::de::DeserializeSeed<'de> for PredicateSeed<'_> {
    type Value = Predicate;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Predicate, D::Error> {
        Predicate::from_value(Some(self.0), Value::deserialize(d)?)
            .map_err(serde::de::Error::custom)
    }
}

/// Why a table under the field path `path` holds `key`, which is no test: an unquoted dotted
/// path (`body.amount = "5"` in TOML is the table `body = { amount = "5" }`), or a misspelt
/// test. `value` is what `key` holds.
fn not_a_test(path: Option<&str>, key: &str, value: &Value) -> String {
    let tests = TESTS.join(", ");
    if let Some(near) = crate::text::nearest(key, TESTS) {
        let place = path.map_or_else(String::new, |path| format!("when {path:?}: "));
        return format!(
            "{place}{} is no test of a predicate; did you mean {near}? (the tests: {tests})",
            crate::text::echo(key)
        );
    }
    // The path the table spells: down through tables of one key that is no test either.
    let mut dotted = match path {
        Some(path) => format!("{path}.{key}"),
        None => key.to_owned(),
    };
    let mut leaf = value;
    while let Value::Object(map) = leaf {
        match map.iter().next() {
            Some((k, v)) if map.len() == 1 && !TESTS.contains(&k.as_str()) => {
                dotted = format!("{dotted}.{k}");
                leaf = v;
            }
            _ => break,
        }
    }
    let written = match leaf {
        Value::Object(_) | Value::Array(_) => "...".to_owned(),
        scalar => crate::text::echo_bare(&scalar.to_string()),
    };
    let place = path.map_or_else(String::new, |path| format!("when {path:?}: "));
    format!(
        "{place}{} is no test of a predicate (the tests: {tests}); a field path with dots must \
         be quoted whole, or each part is read as a table: for the field {dotted} write \
         {dotted:?} = {written}",
        crate::text::echo(key)
    )
}

impl Predicate {
    /// A predicate from the value written under the field path `path` (when known): a table of
    /// tests, or a bare value for `equals`.
    pub fn from_value(path: Option<&str>, value: Value) -> Result<Predicate, String> {
        if let Some(text) = super::format::toml_datetime(&value) {
            // Kept for the loader's check, which names the rule and the key.
            let key = match &value {
                Value::Object(map) if !super::format::is_toml_datetime(&value) => map
                    .iter()
                    .find(|(_, v)| super::format::toml_datetime(v).is_some())
                    .map(|(k, _)| k.clone()),
                _ => None,
            };
            return Ok(Predicate(PredicateSpec {
                dated: Some((key, text.to_owned())),
                ..Default::default()
            }));
        }
        match value {
            Value::Object(map) => {
                if let Some((key, inner)) = map.iter().find(|(k, _)| !TESTS.contains(&k.as_str()))
                {
                    return Err(not_a_test(path, key, inner));
                }
                serde_json::from_value(Value::Object(map))
                    .map(Predicate)
                    .map_err(|e| e.to_string())
            }
            Value::Array(_) | Value::Null => Err(
                "a predicate is a value (equals) or a table with equals, prefix, one_of, exists, min or max"
                    .to_owned(),
            ),
            scalar => Ok(Predicate(PredicateSpec {
                equals: Some(scalar),
                ..Default::default()
            })),
        }
    }

    /// Rejects predicates that can never be meaningful.
    pub fn check(&self) -> Result<(), String> {
        let p = &self.0;
        if let Some((key, text)) = &p.dated {
            let written = match key {
                Some(key) => format!("{key} = {text}"),
                None => text.clone(),
            };
            return Err(super::format::toml_datetime_refusal(&written, text));
        }
        if p.equals.is_none()
            && p.prefix.is_none()
            && p.one_of.is_none()
            && p.exists.is_none()
            && p.min.is_none()
            && p.max.is_none()
        {
            return Err("give at least one of equals, prefix, one_of, exists, min, max".into());
        }
        if p.one_of.as_ref().is_some_and(Vec::is_empty) {
            return Err(
                "one_of = [] lists no value, so the rule would never match; list at least \
                 one value, or leave one_of out"
                    .into(),
            );
        }
        if p.exists == Some(false) {
            // A missing field fails every value test, and a present one fails exists = false.
            let tests: Vec<&str> = [
                ("equals", p.equals.is_some()),
                ("prefix", p.prefix.is_some()),
                ("one_of", p.one_of.is_some()),
                ("min", p.min.is_some()),
                ("max", p.max.is_some()),
            ]
            .into_iter()
            .filter_map(|(name, given)| given.then_some(name))
            .collect();
            if let Some(first) = tests.first() {
                return Err(format!(
                    "exists = false with {} can never hold: exists = false holds only for an \
                     absent field, and an absent field fails every value test; leave out {first} \
                     to match an absent field, or exists to test the value",
                    tests.join(" and ")
                ));
            }
        }
        if let (Some(min), Some(max)) = (&p.min, &p.max) {
            if min > max {
                return Err(format!("min {} is above max {}", min.text, max.text));
            }
        }
        Ok(())
    }

    /// Whether the value at `path` in `fields` passes.
    pub fn holds(&self, fields: &Value, path: &str) -> bool {
        let p = &self.0;
        let found = lookup(fields, path).filter(|v| !v.is_null());
        if let Some(exists) = p.exists {
            if exists != found.is_some() {
                return false;
            }
        }
        let Some(value) = found else {
            return p.exists == Some(false)
                && p.equals.is_none()
                && p.prefix.is_none()
                && p.one_of.is_none()
                && p.min.is_none()
                && p.max.is_none();
        };
        let value = money_amount(value);
        if let Some(expected) = &p.equals {
            if !loosely_equal(value, expected) {
                return false;
            }
        }
        if let Some(options) = &p.one_of {
            if !options.iter().any(|o| loosely_equal(value, o)) {
                return false;
            }
        }
        if let Some(prefix) = &p.prefix {
            if !scalar_text(value).is_some_and(|t| t.starts_with(prefix.as_str())) {
                return false;
            }
        }
        if p.min.is_some() || p.max.is_some() {
            let Some(number) = scalar_text(value).and_then(|t| Dec::parse(&t)) else {
                return false;
            };
            if p.min.as_ref().is_some_and(|min| &number < min)
                || p.max.as_ref().is_some_and(|max| &number > max)
            {
                return false;
            }
        }
        true
    }
}

/// The value at a dot path (`legalEntity.countryCode`, `items.0.amount`). A key that itself
/// contains dots is found when it is written whole.
pub fn lookup<'a>(fields: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(v) = fields.get(path) {
        return Some(v);
    }
    path.split('.').try_fold(fields, |v, seg| match v {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn money_amount(value: &Value) -> &Value {
    match value {
        Value::Object(map) => map.get("amount").unwrap_or(value),
        _ => value,
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn loosely_equal(value: &Value, expected: &Value) -> bool {
    match (scalar_text(value), scalar_text(expected)) {
        (Some(a), Some(b)) => match (Dec::parse(&a), Dec::parse(&b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => value == expected,
    }
}

/// An exact decimal for comparisons: sign, integer digits without leading zeros, fraction digits
/// without trailing zeros.
#[derive(Debug, Clone)]
pub struct Dec {
    negative: bool,
    int: String,
    frac: String,
    text: String,
}

impl Dec {
    /// `123`, `-4.50`, `+0.1`, `.5`; no exponents, no separators.
    pub fn parse(text: &str) -> Option<Dec> {
        let t = text.trim();
        let (negative, digits) = match t.as_bytes().first()? {
            b'-' => (true, t.get(1..)?),
            b'+' => (false, t.get(1..)?),
            _ => (false, t),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let int = int.trim_start_matches('0').to_owned();
        let frac = frac.trim_end_matches('0').to_owned();
        let zero = int.is_empty() && frac.is_empty();
        Some(Dec {
            negative: negative && !zero,
            int,
            frac,
            text: t.to_owned(),
        })
    }

    fn magnitude_cmp(&self, other: &Dec) -> Ordering {
        self.int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(&other.int))
            .then_with(|| self.frac.cmp(&other.frac))
    }
}

impl PartialEq for Dec {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Dec {}
impl PartialOrd for Dec {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Dec {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.magnitude_cmp(other),
            (true, true) => other.magnitude_cmp(self),
        }
    }
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        scalar_text(&v)
            .filter(|_| !v.is_boolean())
            .and_then(|t| Dec::parse(&t))
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "min and max are decimal numbers, like \"100.00\" or 500, not {v}"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(spec: Value) -> Predicate {
        serde_json::from_value(spec).unwrap()
    }

    #[test]
    fn decimals_compare_exactly() {
        let d = |t| Dec::parse(t).unwrap();
        assert_eq!(d("100.00"), d("100"));
        assert!(d("99.999") < d("100"));
        assert!(d("-1") < d("0.001"));
        assert!(d("-2") < d("-1.5"));
        assert_eq!(d("-0.0"), d("0"));
        assert!(d("1000") > d("999.99"));
        for bad in ["", "-", "1e5", "1,000", "abc", "1.2.3", "."] {
            assert!(Dec::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn predicates() {
        let fields = json!({"amount": "250.00", "user": {"id": "U900", "country": "CN"},
            "money": {"amount": "12.5", "currency": "USD"}, "items": [{"n": 3}]});
        assert!(p(json!({"min": "100", "max": 500})).holds(&fields, "amount"));
        assert!(!p(json!({"min": "250.01"})).holds(&fields, "amount"));
        assert!(p(json!({"equals": 250})).holds(&fields, "amount"));
        assert!(p(json!("CN")).holds(&fields, "user.country"));
        assert!(p(json!({"prefix": "U9"})).holds(&fields, "user.id"));
        assert!(!p(json!({"prefix": "U8"})).holds(&fields, "user.id"));
        assert!(p(json!({"one_of": ["US", "CN"]})).holds(&fields, "user.country"));
        assert!(p(json!({"max": "12.50"})).holds(&fields, "money"));
        assert!(p(json!({"equals": 3})).holds(&fields, "items.0.n"));
        assert!(p(json!({"exists": false})).holds(&fields, "nope"));
        assert!(!p(json!({"equals": "x"})).holds(&fields, "nope"));
        assert!(!p(json!({"min": 1})).holds(&fields, "user.country"));
    }

    /// A table under a field path whose key is no test reads as an unquoted dotted path: the
    /// refusal spells the whole path to quote (through tables of one key), or the near test.
    #[test]
    fn a_key_that_is_no_test_is_told_the_quoted_path_or_the_near_test() {
        let e = Predicate::from_value(Some("body"), json!({"amount": {"cents": 5}})).unwrap_err();
        assert!(
            e.starts_with("when \"body\": \"amount\" is no test")
                && e.contains("write \"body.amount.cents\" = 5"),
            "{e}"
        );
        let e = Predicate::from_value(Some("amount"), json!({"prefx": "U"})).unwrap_err();
        assert!(e.contains("did you mean prefix?"), "{e}");
    }

    /// `exists = false` holds only for an absent field, which fails every value test.
    #[test]
    fn exists_false_with_a_value_test_can_never_hold() {
        for test in ["equals", "prefix", "one_of", "min", "max"] {
            let value = if test == "one_of" {
                json!(["1"])
            } else {
                json!("1")
            };
            let e = p(json!({"exists": false, test: value}))
                .check()
                .unwrap_err();
            assert!(
                e.contains(&format!("exists = false with {test} can never hold")),
                "{e}"
            );
        }
        assert!(p(json!({"exists": false})).check().is_ok());
        assert!(p(json!({"exists": true, "min": 1})).check().is_ok());
    }
}
