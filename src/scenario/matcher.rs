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
        let value = Value::deserialize(d)?;
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
            Value::Object(map) => serde_json::from_value(Value::Object(map))
                .map(Predicate)
                .map_err(serde::de::Error::custom),
            Value::Array(_) | Value::Null => Err(serde::de::Error::custom(
                "a predicate is a value (equals) or a table with equals, prefix, one_of, exists, min or max",
            )),
            scalar => Ok(Predicate(PredicateSpec {
                equals: Some(scalar),
                ..Default::default()
            })),
        }
    }
}

impl Predicate {
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
}
