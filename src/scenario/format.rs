//! The scenario file format (docs/SCENARIOS.md) as serde types. Checks that need no outside
//! knowledge happen while deserialising (so TOML errors carry exact spans): names, tenants,
//! durations, ranges. Loading text (and the checks across keys) is in `load.rs`; matching in
//! `matcher.rs`; deciding in `engine.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

pub use super::load::{parse, LoadError};
use super::matcher::Predicate;
use super::Outcome;
use crate::tenant::TenantId;

/// The longest latency a rule may add (wall time), so a scenario can never hang a client forever.
pub const MAX_LATENCY_MS: u64 = 120_000;

/// One scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Name,
    #[serde(default)]
    pub description: String,
    pub seed: Option<u64>,
    pub tenant: Option<Tenant>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
    #[serde(default)]
    pub timeline: Vec<TimelineSpec>,
    #[serde(default)]
    pub outage: Vec<OutageSpec>,
    /// The text it was parsed from (kept so that a snapshot or the data directory can load it
    /// again).
    #[serde(skip)]
    pub text: String,
}

/// One `[[rule]]`: what it matches and what it decides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: Option<String>,
    pub surface: Option<Surface>,
    pub operation: Option<OneOrMany>,
    pub tenant: Option<Tenant>,
    pub nth: Option<Positive>,
    pub first: Option<Positive>,
    pub after: Option<u64>,
    pub window: Option<Duration>,
    pub chance: Option<Chance>,
    #[serde(default)]
    pub when: BTreeMap<String, Predicate>,
    #[serde(default)]
    pub then: ThenSpec,
}

/// `[rule.then]`: every key optional; an empty `then` means "the happy path, by this rule".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThenSpec {
    pub code: Option<String>,
    pub detail: Option<String>,
    pub http_status: Option<HttpStatus>,
    #[serde(default)]
    pub drop_connection: bool,
    #[serde(default)]
    pub latency_ms: Latency,
    pub result: Option<Outcome>,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub delay: Option<Duration>,
    #[serde(default)]
    pub values: Map<String, Value>,
    #[serde(default)]
    pub notify: NotifySpec,
}

/// `[rule.then.notify]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySpec {
    pub delay: Option<Duration>,
    #[serde(default)]
    pub duplicate: bool,
    #[serde(default)]
    pub suppress: bool,
    #[serde(default)]
    pub corrupt_signature: bool,
    #[serde(default)]
    pub reorder: bool,
}

/// One `[[timeline]]` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineSpec {
    pub at: Duration,
    pub event: String,
    #[serde(default)]
    pub params: Map<String, Value>,
}

/// One `[[outage]]`: the partner's notify endpoint refuses connections during a window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageSpec {
    #[serde(default)]
    pub from: Duration,
    /// None = until the scenario is removed.
    pub until: Option<Duration>,
    /// `whalet`, `infinia`, `pockyt`; None = every channel.
    pub channel: Option<String>,
}

/// A scenario name: letters, digits, `-`, `_`, `.`; at most 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Name(pub String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        check_name(&text).map_err(serde::de::Error::custom)?;
        Ok(Name(text))
    }
}

pub fn check_name(text: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if text.is_empty() || text.len() > 100 || !text.chars().all(ok_char) {
        return Err(format!(
            "name {} must be 1 to 100 letters, digits, '-', '_' or '.' (not \".\" or \"..\")",
            crate::text::echo(text)
        ));
    }
    // A URL path cannot hold them (`/__sim/scenarios/..` is rewritten by every client), so the
    // scenario could be neither viewed nor removed by name.
    if text == "." || text == ".." {
        return Err(format!(
            "name {text:?} cannot be addressed in a URL (/__sim/scenarios/{text}); a name is 1 to \
             100 letters, digits, '-', '_' or '.', other than \".\" and \"..\""
        ));
    }
    Ok(())
}

/// `provider:id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant(pub TenantId);

impl<'de> Deserialize<'de> for Tenant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TenantId::parse(&text).map(Tenant).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "tenant must be provider:id with provider whalet, infinia or pockyt (e.g. \"whalet:202400000000001\"), not {text:?}"
            ))
        })
    }
}

crate::store::word_enum! {
    /// The surfaces a rule can name.
    Surface {
        Whalet = "whalet",
        Platform = "platform",
        Infinia = "infinia",
        Pockyt = "pockyt",
    }
}

impl Surface {
    /// The provider whose tenants the surface serves (whalet-platform is the Whalet partner's).
    pub fn provider(self) -> crate::tenant::Provider {
        use crate::tenant::Provider;
        match self {
            Surface::Whalet | Surface::Platform => Provider::Whalet,
            Surface::Infinia => Provider::Infinia,
            Surface::Pockyt => Provider::Pockyt,
        }
    }
}

/// `operation = "a"` or `operation = ["a", "b"]`; a trailing `*` matches any suffix.
#[derive(Debug, Clone)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let err = || serde::de::Error::custom("operation must be a string or a list of strings");
        match Value::deserialize(d)? {
            Value::String(s) => Ok(OneOrMany(vec![s])),
            // A rule that names no operation would never match: leaving `operation` out is how
            // to match every one.
            Value::Array(items) if items.is_empty() => Err(serde::de::Error::custom(
                "operation = [] names no operation, so the rule would never match; list at least one, or leave operation out to match every operation",
            )),
            Value::Array(items) => items
                .into_iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(err))
                .collect::<Result<_, _>>()
                .map(OneOrMany),
            _ => Err(err()),
        }
    }
}

impl OneOrMany {
    pub fn matches(&self, operation: &str) -> bool {
        self.0.iter().any(|p| pattern_matches(p, operation))
    }
}

/// Whether one `operation` entry (a name, or a prefix with a trailing `*`) matches `operation`.
pub fn pattern_matches(pattern: &str, operation: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => operation.starts_with(prefix),
        None => pattern == operation,
    }
}

macro_rules! checked_number {
    ($name:ident, $inner:ty, $check:expr, $what:literal) => {
        #[derive(Debug, Clone, Copy, Default, PartialEq)]
        pub struct $name(pub $inner);
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = <$inner>::deserialize(d)?;
                let check: fn($inner) -> bool = $check;
                if check(v) {
                    Ok($name(v))
                } else {
                    Err(serde::de::Error::custom(format!($what, v)))
                }
            }
        }
    };
}

checked_number!(
    Positive,
    u64,
    |v| v >= 1,
    "must be 1 or more (counting is 1-based), not {}"
);
checked_number!(
    HttpStatus,
    u16,
    |v| (100..=599).contains(&v),
    "http_status must be between 100 and 599, not {}"
);
checked_number!(
    Latency,
    u64,
    |v| v <= MAX_LATENCY_MS,
    "latency_ms must be at most 120000 (two minutes), not {}"
);
checked_number!(
    Chance,
    f64,
    |v| (0.0..=1.0).contains(&v),
    "chance must be between 0 and 1 (a fraction of matching requests), not {}"
);

/// A virtual duration written with units: `500ms`, `30s`, `2m`, `1h`, `1d`, or combined (`1m30s`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub i64);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => parse_duration(&s).map(Duration).map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "a duration is text with a unit, like \"500ms\", \"30s\", \"2m\" or \"1h\", not {other}"
            ))),
        }
    }
}

/// The longest duration, in milliseconds: 366 days.
pub const MAX_DURATION_MS: i64 = 366 * 86_400_000;

/// Milliseconds of `500ms`, `30s`, `2m`, `1h`, `1d`, `1m30s`: each unit at most once, the largest
/// first, at most [`MAX_DURATION_MS`] in all.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let shown = crate::text::echo(text);
    let bad = || {
        format!("{shown} is not a duration; write a number and a unit (ms, s, m, h, d), e.g. \"30s\" or \"1m30s\"")
    };
    let too_long = || format!("{shown} is too long; a duration is at most 366d (a year)");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    // The previous unit's rank (d 4 … ms 0): each unit must be smaller than the one before.
    let mut previous: Option<(usize, &str)> = None;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(bad());
        }
        let (number, after) = rest.split_at(digits);
        // Only digits: a number that does not parse is too large.
        let number: i64 = number.parse().map_err(|_| too_long())?;
        let unit_len = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let (unit, after) = after.split_at(unit_len);
        let (rank, factor) = match unit {
            "ms" => (0, 1),
            "s" => (1, 1_000),
            "m" => (2, 60_000),
            "h" => (3, 3_600_000),
            "d" => (4, 86_400_000),
            _ => return Err(bad()),
        };
        match previous {
            Some((before, _)) if before == rank => {
                return Err(format!(
                    "{shown} gives the unit {unit:?} twice; write each unit once, the largest \
                     first (e.g. \"1m30s\")"
                ))
            }
            Some((before, earlier)) if before < rank => {
                return Err(format!(
                    "{shown} gives {unit:?} after {earlier:?}; write the units largest first \
                     (d, h, m, s, ms), e.g. \"1m30s\""
                ))
            }
            _ => {}
        }
        previous = Some((rank, unit));
        total = number
            .checked_mul(factor)
            .and_then(|ms| total.checked_add(ms))
            .filter(|t| *t <= MAX_DURATION_MS)
            .ok_or_else(too_long)?;
        rest = after;
    }
    Ok(total)
}

/// The `values` keys that hold a duration (docs/SCENARIOS.md, "Per surface"): checked at load
/// with [`value_duration`], and read by the surfaces with it, so each means the same everywhere.
pub const DURATION_VALUES: &[&str] = &["linkTtl", "returnAfter"];

/// Milliseconds of a duration-valued `values` key ([`DURATION_VALUES`]): text in the scenario
/// duration grammar ([`parse_duration`]: `"10m"`, `"1m30s"`, `"1d"`). A bare number is refused:
/// it names no unit (seconds for one reader, milliseconds for another would be a guess).
pub fn value_duration(value: &Value) -> Result<i64, String> {
    match value {
        Value::String(text) => parse_duration(text),
        Value::Number(n) => Err(format!(
            "{n} is a bare number; a duration is text with a unit (ms, s, m, h, d), e.g. \"{n}s\" \
             or \"10m\""
        )),
        other => Err(format!(
            "{other} is not a duration; write text with a unit (ms, s, m, h, d), e.g. \"30s\" or \
             \"1m30s\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// A duration-valued `values` key read to ms, as the surfaces read `linkTtl`/`returnAfter`.
    fn duration_ms(value: &Value) -> Option<i64> {
        value_duration(value).ok()
    }

    #[test]
    fn durations_read_the_scenario_grammar_and_no_bare_number() {
        assert_eq!(duration_ms(&json!("500ms")), Some(500));
        assert_eq!(duration_ms(&json!("1m30s")), Some(90_000));
        assert_eq!(duration_ms(&json!("1d")), Some(86_400_000));
        assert_eq!(duration_ms(&json!(90)), None);
        assert_eq!(duration_ms(&json!("10 minutes")), None);
        assert_eq!(duration_ms(&json!("m")), None);
        assert_eq!(duration_ms(&json!(-1)), None);
    }

    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("30s"), Ok(30_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000));
        assert_eq!(parse_duration("2h"), Ok(7_200_000));
        assert_eq!(parse_duration("0s"), Ok(0));
        for bad in ["", "30", "s", "1.5s", "-1s", "3 weeks", "10x", "400d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_duration_gives_each_unit_once_largest_first() {
        assert_eq!(parse_duration("1d2h3m4s5ms").map(|_| ()), Ok(()));
        for (text, says) in [
            ("1m1m", "gives the unit \"m\" twice"),
            ("1s500ms500ms", "gives the unit \"ms\" twice"),
            ("30s1m", "gives \"m\" after \"s\""),
            ("1h1d", "gives \"d\" after \"h\""),
        ] {
            let e = parse_duration(text).unwrap_err();
            assert!(
                e.contains(says) && e.contains(&format!("{text:?}")),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn an_overflowing_duration_says_how_long_a_duration_may_be() {
        for text in ["99999999999999999999d", "9999999999999999999ms", "400d"] {
            let e = parse_duration(text).unwrap_err();
            assert!(
                e.contains("too long") && e.contains("at most 366d"),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn the_names_dot_and_dot_dot_are_refused_with_the_naming_rule() {
        for name in [".", ".."] {
            let e = check_name(name).unwrap_err();
            assert!(e.contains("cannot be addressed in a URL"), "{e}");
            assert!(e.contains("letters, digits"), "{e}");
        }
        assert!(check_name("a.b").is_ok() && check_name("...").is_ok());
    }
}
