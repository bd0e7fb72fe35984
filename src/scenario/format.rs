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
    #[serde(default, rename = "rule", deserialize_with = "rule_list")]
    pub rules: Vec<RuleSpec>,
    #[serde(default, deserialize_with = "timeline_list")]
    pub timeline: Vec<TimelineSpec>,
    #[serde(default, deserialize_with = "outage_list")]
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
    #[serde(default, deserialize_with = "when_map")]
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

/// The entries of `[[rule]]`, `[[timeline]]` and `[[outage]]`: each an array of tables. A single
/// table (`[rule]`, one bracket) is refused saying to write the array's header.
fn rule_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RuleSpec>, D::Error> {
    d.deserialize_any(ArrayOfTables::new("rule", "rule"))
}

fn timeline_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<TimelineSpec>, D::Error> {
    d.deserialize_any(ArrayOfTables::new("timeline", "timeline event"))
}

fn outage_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OutageSpec>, D::Error> {
    d.deserialize_any(ArrayOfTables::new("outage", "outage"))
}

/// Reads an array of tables named `key` (each one a `what`).
struct ArrayOfTables<T> {
    key: &'static str,
    what: &'static str,
    items: std::marker::PhantomData<T>,
}

impl<T> ArrayOfTables<T> {
    fn new(key: &'static str, what: &'static str) -> Self {
        Self {
            key,
            what,
            items: std::marker::PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ArrayOfTables<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "an array of tables, one per {}: [[{}]] (in JSON, \"{}\": [{{...}}])",
            self.what, self.key, self.key
        )
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(items)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<Vec<T>, A::Error> {
        let (key, what) = (self.key, self.what);
        Err(serde::de::Error::custom(format!(
            "{key} is an array of tables, one per {what}, not a single table: write [[{key}]] \
             (two brackets) above each {what}, not [{key}] (in JSON, \"{key}\": [{{...}}])"
        )))
    }
}

/// `[rule.when]`: each predicate read knowing its field path, so an unquoted dotted path is told
/// to quote it ([`super::matcher::PredicateSeed`]).
fn when_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Predicate>, D::Error> {
    struct When;
    impl<'de> serde::de::Visitor<'de> for When {
        type Value = BTreeMap<String, Predicate>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a table of field paths and predicates ([rule.when])")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut when = BTreeMap::new();
            while let Some(path) = map.next_key::<String>()? {
                let predicate = map.next_value_seed(super::matcher::PredicateSeed(&path))?;
                when.insert(path, predicate);
            }
            Ok(when)
        }
    }
    d.deserialize_map(When)
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
/// The HTTP status of a forced answer: 200 to 599, other than the statuses that carry no body
/// (204, 205, 304), since the client must get the reply the journal records.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HttpStatus(pub u16);

impl<'de> Deserialize<'de> for HttpStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u16::deserialize(d)?;
        check_http_status(v)
            .map(|()| HttpStatus(v))
            .map_err(serde::de::Error::custom)
    }
}

/// Whether `status` can carry the answer a rule forces: a final status (not 1xx) whose reply has
/// a body (HTTP sends none with 204 No Content and 304 Not Modified, and forbids one with 205
/// Reset Content), between 200 and 599.
pub fn check_http_status(status: u16) -> Result<(), String> {
    const GIVE: &str = "give a status between 200 and 599 other than 204, 205 and 304";
    let name = match status {
        204 => "No Content",
        205 => "Reset Content",
        304 => "Not Modified",
        _ => "",
    };
    match status {
        100..=199 => Err(format!(
            "http_status {status} is an informational status (1xx), not a final answer: the client \
             would never get the reply the journal records; {GIVE}"
        )),
        204 | 205 | 304 => Err(format!(
            "http_status {status} ({name}) carries no body, so the client would not get the reply \
             the journal records; {GIVE}"
        )),
        200..=599 => Ok(()),
        _ => Err(format!(
            "http_status must be between 200 and 599 (other than 204, 205 and 304), not {status}"
        )),
    }
}

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

/// The key under which the TOML library hands a date or time (`2024-01-01`, `12:00:00`) to a
/// `Value`: a one-key object, never text.
pub use crate::toml_dates::{is_toml_datetime, toml_datetime};

/// Why a value written as a TOML date or time (`written`, its date/time `text`) is refused: the
/// request fields and the wire carry text, never the TOML library's object. The wording is the
/// contract overlay's for the same mistake.
pub fn toml_datetime_refusal(written: &str, text: &str) -> String {
    format!("{written} is a TOML date/time; write it as a quoted string (\"{text}\")")
}

/// A free-text `values` value: refused when it is a table or an array.
pub fn text_value(value: &Value) -> Result<(), String> {
    let what = match value {
        Value::Object(_) => "a table",
        Value::Array(_) => "an array",
        _ => return Ok(()),
    };
    Err(format!(
        "{} is {what}, and this key is text: write it as a quoted string",
        shown(value)
    ))
}

/// `values.materialTypes`: text naming at least one material type, comma-separated (the
/// list an EDD asks for; one that names none would ask for nothing).
fn material_types(value: &Value) -> Result<(), String> {
    text_value(value)?;
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match crate::text::comma_list(&text) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{} names no material type; write them comma-separated (\"SOURCE_OF_FUNDS,BUSINESS_PROOF\"), or leave the key out for that default",
            shown(value)
        )),
    }
}

/// A `values` key's checker: `Ok` when the value reads, else why not (without the key's name,
/// which the loader adds with the rule's).
pub type ValueCheck = fn(&Value) -> Result<(), String>;

/// Every `values` key an operation reads (docs/SCENARIOS.md, "Per surface"), with its checker
/// and the operations that read it: the one table of them. The loader refuses a key not in it
/// (no operation would read it: a typo such as `reMateral`), naming the nearest one, and a value
/// its checker refuses, naming the rule and the key. The typed keys are read by the surfaces
/// with the same reader ([`link_ttl`], [`return_after`], [`valid_seconds`], [`edd`],
/// [`re_material`], [`rate`]), so a key means the same at load and at request time; the text
/// keys are taken as text (a number or a boolean as its text, [`text_value`]).
pub const VALUE_KEYS: &[(&str, ValueCheck, &str)] = &[
    (
        "linkTtl",
        |v| link_ttl(v).map(drop),
        "shopAccountBind, account-binding/request",
    ),
    (
        "returnAfter",
        |v| return_after(v).map(drop),
        "/v3/payouts/pay",
    ),
    (
        "validSeconds",
        |v| valid_seconds(v).map(drop),
        "rateInquiry",
    ),
    ("rate", |v| rate(v).map(drop), "rateInquiry"),
    ("edd", |v| edd(v).map(drop), "payoutConfirm, payConfirm"),
    (
        "reMaterial",
        |v| re_material(v).map(drop),
        "userOnboardingApply",
    ),
    ("materialType", text_value, "userOnboardingApply"),
    ("materialTypes", material_types, "payoutConfirm, payConfirm"),
    (
        "message",
        text_value,
        "every Whalet review, payoutConfirm, payConfirm",
    ),
];

/// `values.linkTtl`, in ms: an authorization link's lifetime, a duration ([`value_duration`]) of
/// at least 1s, as `[platform] link_ttl_secs` (a link that lives no time is expired when given).
pub fn link_ttl(value: &Value) -> Result<i64, String> {
    let ms = value_duration(value)?;
    if ms < 1000 {
        return Err(format!(
            "{} is shorter than 1s; an authorization link lives at least 1s (as [platform] \
             link_ttl_secs), e.g. \"10m\"",
            shown(value)
        ));
    }
    Ok(ms)
}

/// `values.returnAfter`, in ms: the time from a Pockyt payout's success to `returned`, a duration
/// ([`value_duration`]); `"0s"` returns it at once, as `[pockyt] return_after_ms = 0`.
pub fn return_after(value: &Value) -> Result<i64, String> {
    value_duration(value)
}

/// A `values` value for a message: text quoted and cut as every echo ([`crate::text::echo`]),
/// anything else as JSON, cut likewise.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => crate::text::echo(s).to_string(),
        other => crate::text::echo_bare(&other.to_string()),
    }
}

/// The most seconds a quote's `values.validSeconds` may give: 366 days, the longest duration a
/// scenario gives ([`MAX_DURATION_MS`]).
pub const MAX_VALID_SECONDS: i64 = MAX_DURATION_MS / 1000;

/// `values.validSeconds`, in ms: how long a `rateInquiry` quote is valid, a whole number of
/// seconds (the key's name gives the unit) as a number or as text of digits (`600`, `"600"`; a
/// number with a zero fraction or an exponent, `600.0` or `6e2`, is as whole), from 1 to
/// [`MAX_VALID_SECONDS`]. Not the duration grammar: the vendor's field counts seconds.
pub fn valid_seconds(value: &Value) -> Result<i64, String> {
    let seconds = match value {
        // A whole value however the number is written (`600`, `600.0`, `6e2`); one beyond i64
        // saturates (`as`), so it gets the range message, not this one.
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.fract() == 0.0)
                .map(|f| f as i64)
        }),
        Value::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            let whole = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            // A whole number that does not parse is beyond the range either way.
            let beyond = if s.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            };
            whole.then(|| s.parse::<i64>().unwrap_or(beyond))
        }
        _ => None,
    };
    let Some(seconds) = seconds else {
        let hint = match value.as_str().map(parse_duration) {
            Some(Ok(ms)) if ms >= 1000 && ms % 1000 == 0 => format!(
                " (for {} write {}, without a unit)",
                shown(value),
                ms / 1000
            ),
            _ => String::new(),
        };
        return Err(format!(
            "{} is not a whole number of seconds; validSeconds counts seconds, e.g. 600 \
             (10 minutes){hint}",
            shown(value)
        ));
    };
    if seconds < 1 {
        return Err(format!(
            "{} is less than 1; a quote is valid at least 1 second (one valid for no time is \
             expired when it is given)",
            shown(value)
        ));
    }
    if seconds > MAX_VALID_SECONDS {
        return Err(format!(
            "{} is more than {MAX_VALID_SECONDS} seconds (366 days, the longest duration a \
             scenario gives)",
            shown(value)
        ));
    }
    Ok(seconds * 1000)
}

/// `values.edd` on `payoutConfirm` / `payConfirm`: `"Y"` holds the confirmed order for EDD,
/// `"N"` does not (as leaving the key out); the vendor's Y/N flag, nothing else.
pub fn edd(value: &Value) -> Result<bool, String> {
    flag(
        value,
        "edd = \"Y\" holds the confirmed order for EDD, \"N\" (or no edd) lets it go through \
         review",
    )
}

/// `values.reMaterial` on `userOnboardingApply`: on a rejection, `"Y"` lets the partner re-submit
/// corrected material, `"N"` closes the user for good (as leaving the key out); the vendor's Y/N
/// flag, nothing else, as the trigger's `reMaterial` parameter.
pub fn re_material(value: &Value) -> Result<bool, String> {
    flag(
        value,
        "reMaterial = \"Y\" lets the partner re-submit corrected material after a rejection, \
         \"N\" (or no reMaterial) closes the user for good",
    )
}

/// A vendor Y/N flag (`edd`, `reMaterial`): `"Y"` is true, `"N"` false; anything else (`true`,
/// `"y"`, `"yes"`) is refused with `meaning`, which says what each value does.
fn flag(value: &Value, meaning: &str) -> Result<bool, String> {
    match value.as_str() {
        Some("Y") => Ok(true),
        Some("N") => Ok(false),
        _ => Err(format!("{} is not \"Y\" or \"N\": {meaning}", shown(value))),
    }
}

/// `values.rate` on `rateInquiry`: the quote's rate, text or a number, a positive decimal
/// ([`parse_rate`]); its text as given.
pub fn rate(value: &Value) -> Result<String, String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    };
    match parse_rate(&text) {
        Ok(_) => Ok(text),
        Err(why) => Err(format!("{} {why}", crate::text::echo(&text))),
    }
}

/// Most significant digits a rate may have: a JSON number (a double) carries up to 15 exactly,
/// and `rate` goes on the wire as a number with the digits the order was priced at.
pub const RATE_DIGITS: usize = 15;

/// A positive decimal rate (a scenario's `values.rate`, a stored quote's) as (digits, decimal
/// places), or what is wrong with its text (a predicate: "is not a positive decimal ...").
pub fn parse_rate(text: &str) -> Result<(i128, u32), String> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() || !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
        return Err("is not a positive decimal number like 7.12".into());
    }
    if int.len() > 1 && int.starts_with('0') {
        // JSON writes no number with leading zeros, and a rate goes on the wire as a number.
        let bare = int.trim_start_matches('0');
        let bare = if bare.is_empty() { "0" } else { bare };
        let fixed = if text.contains('.') {
            format!("{bare}.{frac}")
        } else {
            bare.to_owned()
        };
        return Err(format!(
            "has leading zeros, which a JSON number (the rate on the wire) cannot have; write \
             {fixed:?}"
        ));
    }
    if frac.len() > 10 {
        return Err(format!(
            "has {} decimal places; a rate has at most 10",
            frac.len()
        ));
    }
    if int.len() > 12 {
        return Err(format!(
            "has {} digits before the point; a rate has at most 12",
            int.len()
        ));
    }
    let significant = format!("{int}{frac}");
    let significant = significant.trim_start_matches('0').trim_end_matches('0');
    if significant.len() > RATE_DIGITS {
        return Err(format!(
            "has {} significant digits; a rate has at most {RATE_DIGITS} (a JSON number carries no more exactly)",
            significant.len()
        ));
    }
    let digits: i128 = format!("{int}{frac}")
        .parse()
        .map_err(|_| "is not a positive decimal number like 7.12".to_owned())?;
    if digits == 0 {
        return Err("is zero; a rate must be positive".into());
    }
    Ok((digits, frac.len() as u32))
}

/// Milliseconds of a duration-valued `values` key (`linkTtl`, `returnAfter`): text in the scenario
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
    fn a_quote_validity_is_whole_seconds_from_one_to_366_days() {
        assert_eq!(valid_seconds(&json!(60)), Ok(60_000));
        assert_eq!(valid_seconds(&json!("600")), Ok(600_000));
        assert_eq!(
            valid_seconds(&json!(MAX_VALID_SECONDS)),
            Ok(MAX_VALID_SECONDS * 1000)
        );
        for (bad, says) in [
            (json!(0), "less than 1"),
            (json!("-3600"), "less than 1"),
            (json!("-99999999999999999999"), "less than 1"),
            (json!(MAX_VALID_SECONDS + 1), "more than 31622400"),
            (json!("9223372036854775807"), "more than 31622400"),
            (json!("99999999999999999999"), "more than 31622400"),
            (json!("90s"), "write 90, without a unit"),
            (json!("abc"), "not a whole number"),
            (json!(2.5), "not a whole number"),
            (json!(""), "not a whole number"),
            (json!(null), "not a whole number"),
        ] {
            let e = valid_seconds(&bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn edd_is_the_vendors_y_or_n_only() {
        assert_eq!(edd(&json!("Y")), Ok(true));
        assert_eq!(edd(&json!("N")), Ok(false));
        for bad in [json!(true), json!("y"), json!("yes"), json!(1), json!(null)] {
            assert!(
                edd(&bad).unwrap_err().contains("is not \"Y\" or \"N\""),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_link_lives_at_least_a_second_and_a_return_may_come_at_once() {
        assert_eq!(link_ttl(&json!("1s")), Ok(1000));
        for bad in ["0s", "999ms"] {
            assert!(
                link_ttl(&json!(bad))
                    .unwrap_err()
                    .contains("shorter than 1s"),
                "{bad}"
            );
        }
        assert_eq!(return_after(&json!("0s")), Ok(0));
    }

    #[test]
    fn a_scenario_rate_is_a_positive_decimal_as_given() {
        assert_eq!(rate(&json!("7.1200")).as_deref(), Ok("7.1200"));
        assert_eq!(rate(&json!(7.5)).as_deref(), Ok("7.5"));
        for (bad, says) in [
            (json!("-1"), "\"-1\" is not a positive decimal"),
            (json!("0.0"), "is zero"),
            (json!(true), "\"true\" is not a positive decimal"),
        ] {
            let e = rate(&bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn re_material_is_the_vendors_y_or_n_only() {
        assert_eq!(re_material(&json!("Y")), Ok(true));
        assert_eq!(re_material(&json!("N")), Ok(false));
        for bad in [json!(true), json!("y"), json!("yes"), json!(1), json!(null)] {
            let e = re_material(&bad).unwrap_err();
            assert!(e.contains("is not \"Y\" or \"N\""), "{bad}: {e}");
            assert!(e.contains("reMaterial"), "{bad}: {e}");
        }
        assert!(VALUE_KEYS.iter().any(|(key, _, _)| *key == "reMaterial"));
    }

    /// Regression: `materialTypes = ","` loaded and held an order with an EDD asking for no
    /// material at all.
    #[test]
    fn a_material_type_list_naming_none_is_refused() {
        for empty in ["", ",", " , "] {
            let e = material_types(&Value::String(empty.into())).unwrap_err();
            assert!(e.contains("names no material type"), "{empty:?}: {e}");
        }
        assert!(material_types(&Value::String(" SOURCE_OF_FUNDS ,".into())).is_ok());
    }

    #[test]
    fn a_rate_with_leading_zeros_is_refused_naming_the_rate_to_write() {
        for (bad, write) in [
            ("007.50", "write \"7.50\""),
            ("000000000007.5", "write \"7.5\""),
            ("00.5", "write \"0.5\""),
            ("07", "write \"7\""),
        ] {
            let e = parse_rate(bad).unwrap_err();
            assert!(
                e.contains("leading zeros") && e.contains(write),
                "{bad}: {e}"
            );
        }
        // Every rate that reads goes on the wire as a JSON number.
        for fine in ["7.", "0.5", "0.00001", "7.50", "150", "10.0"] {
            assert!(parse_rate(fine).is_ok(), "{fine}");
            let number = crate::money::decimal_number(fine);
            assert!(
                matches!(number, Some(Value::Number(_))),
                "{fine}: {number:?}"
            );
        }
        for number in [json!(1e1), json!(7.5e0), json!(7.12)] {
            let text = rate(&number).unwrap();
            let wire = crate::money::decimal_number(&text);
            assert!(matches!(wire, Some(Value::Number(_))), "{number}: {wire:?}");
        }
    }

    #[test]
    fn valid_seconds_reads_any_whole_number_and_names_the_range() {
        assert_eq!(valid_seconds(&json!(600.0)), Ok(600_000));
        assert_eq!(valid_seconds(&json!(1e3)), Ok(1_000_000));
        for (bad, says) in [
            (json!(u64::MAX), "more than 31622400"),
            (json!(1e30), "more than 31622400"),
            (json!(-1e30), "less than 1"),
            (json!(2.5), "not a whole number of seconds"),
        ] {
            let e = valid_seconds(&bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn an_http_status_must_carry_the_reply() {
        for fine in [200, 203, 206, 302, 404, 500, 599] {
            assert_eq!(check_http_status(fine), Ok(()), "{fine}");
        }
        for (bad, says) in [
            (100, "informational"),
            (101, "informational"),
            (204, "(No Content) carries no body"),
            (205, "(Reset Content) carries no body"),
            (304, "(Not Modified) carries no body"),
            (99, "between 200 and 599"),
            (600, "between 200 and 599"),
        ] {
            let e = check_http_status(bad).unwrap_err();
            assert!(e.contains(says) && e.contains("200 and 599"), "{bad}: {e}");
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
