//! Reading a request body: [`Check`] collects every problem with the fields (missing, empty, wrong
//! type, not one of the allowed values, too long, bad currency or amount) and reports them all
//! at once as one PARAMETER_ERROR naming each field. Business rules are not checked here. It
//! also keeps what it read ([`Check::content`]): the request as the operation sees it, which is
//! what business-id idempotency compares.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Paging, Period};
use crate::api::describe;
use crate::clock::format::{china_time, TimeFault};
use crate::country::{self, Fault, Form};
use crate::money::{Currency, Money};
use crate::store::idempotency::{blank, DEFAULT_MARK};
use crate::store::whalet::FileRef;
use crate::store::Words;
use crate::text::echo;
use crate::wire::whalet::{json_type, WhaletError};

/// Longest id or name the simulator accepts in a business field.
pub const MAX_ID: usize = 64;
pub const MAX_TEXT: usize = 256;

/// `legalEntity.type`, `holderType`.
pub const ENTITY_TYPES: &[&str] = &["INDIVIDUAL", "ENTERPRISE"];
/// `certType` of users and holders.
pub const CERT_TYPES: &[&str] = &["ID_CARD", "PASSPORT", "BUSINESS_LICENSE", "OTHER"];

/// An object's id and the partner's id for it, as a query gave them ([`Check::either_id`]).
#[derive(Clone, Copy)]
pub struct EitherId<'a> {
    pub id: Option<&'a str>,
    pub out: Option<&'a str>,
}

impl EitherId<'_> {
    /// Whether an object with these ids is the one asked for.
    pub fn matches(&self, id: &str, out: &str) -> bool {
        self.id.is_none_or(|i| i == id) && self.out.is_none_or(|o| o == out)
    }
}

/// Collects field problems; [`Check::finish`] turns them into one PARAMETER_ERROR.
pub struct Check<'a> {
    /// None when a nested object is missing (its required fields are reported by full name).
    body: Option<&'a Map<String, Value>>,
    /// `legalEntity.` for fields of a nested object.
    prefix: String,
    problems: Vec<String>,
    /// A nested object given as something else (a string, a number): its one problem is the
    /// parent's type, so what its fields' readers find is not reported ([`Check::absorb`]).
    muted: bool,
    /// Every field read, by full path (`legalEntity.name`, `attaches[0].fileId`), with its value as
    /// read (an amount or a count in canonical form: [`Check::note`]); a field absent,
    /// null or blank is not here (every reader takes those alike).
    read: BTreeMap<String, Value>,
}

impl<'a> Check<'a> {
    /// `pageNum` (default 1) and `pageSize` (default 10, at most 100).
    pub fn paging(&mut self) -> Paging {
        Paging {
            num: self.count("pageNum", 1, u64::from(u32::MAX)),
            size: self.count("pageSize", 10, 100),
        }
    }

    /// What a paged query about one user's records starts with: `userId`, then the page
    /// ([`Check::paging`]), as [`user_page`](super::owned::user_page) takes them.
    pub fn page_of_user(&mut self) -> (&'a str, Paging) {
        let user_id = self.id("userId");
        (user_id, self.paging())
    }

    /// The two ids an object is looked up by, the simulator's (`id`) and the partner's (`out`):
    /// either will do, one is required.
    pub fn either_id(&mut self, id: &str, out: &str) -> EitherId<'a> {
        describe::record(&self.name(id), "id", false, &[]);
        describe::record(&self.name(out), "id", false, &[]);
        describe::record_either(&self.name(id), &self.name(out));
        let ids = EitherId {
            id: self.string(id, false, MAX_TEXT),
            out: self.string(out, false, MAX_TEXT),
        };
        if ids.id.is_none() && ids.out.is_none() {
            self.problem(format!("{id} or {out} is required"));
        }
        ids
    }

    /// The optional time window `startTime` .. `endTime`.
    pub fn period(&mut self) -> Period {
        Period {
            start: self.china_time("startTime"),
            end: self.china_time("endTime"),
        }
    }

    /// An optional time filter in the Whalet format (`yyyy-MM-dd HH:mm:ss`, UTC+8), as epoch ms.
    pub fn china_time(&mut self, field: &str) -> Option<i64> {
        self.time(field, false)
    }

    /// A time in the Whalet format (`yyyy-MM-dd HH:mm:ss`, UTC+8), as epoch ms ([`china_time`]).
    pub fn time(&mut self, field: &str, required: bool) -> Option<i64> {
        describe::record(&self.name(field), "time", required, &[]);
        let text = self.string(field, required, MAX_TEXT)?;
        let name = self.name(field);
        match china_time(text) {
            Ok(ms) => Some(ms),
            Err(TimeFault::Shape) => {
                self.problem(format!(
                    "{name} must be yyyy-MM-dd HH:mm:ss (UTC+8), got {}",
                    echo(text)
                ));
                None
            }
            Err(TimeFault::NotCalendar(why)) => {
                self.problem(format!("{name}: {why}"));
                None
            }
        }
    }

    /// A `Y`/`N` flag, read as any string (of any length, so a refusal echoes the start of
    /// whatever came), then held to the two letters.
    pub fn flag(&mut self, field: &str, required: bool) -> Option<bool> {
        let name = self.name(field);
        describe::record(&name, "flag", required, &["Y", "N"]);
        let given = self.get(field).is_some_and(|v| !blank(v));
        match self.string(field, false, usize::MAX) {
            Some("Y") => Some(true),
            Some("N") => Some(false),
            Some(other) => {
                self.problem(format!(
                    "{name} must be \"Y\" or \"N\", got {}",
                    echo(other)
                ));
                None
            }
            None => {
                if required && !given {
                    self.problem(format!("{name} is required (\"Y\" or \"N\")"));
                }
                None
            }
        }
    }

    /// An optional free text given back to the partner as sent (`connectivity`'s messages): any
    /// length, blank kept as it came; absent or null → None.
    pub fn free_text(&mut self, field: &str) -> Option<&'a str> {
        let name = self.name(field);
        describe::record(&name, "string", false, &[]);
        match self.read(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.problem(format!("{name} must be a string, got {}", json_type(other)));
                None
            }
        }
    }

    /// The body must be a JSON object.
    pub fn new(body: &'a Value) -> Result<Self, WhaletError> {
        match body {
            Value::Object(map) => Ok(Self::nested(Some(map), String::new())),
            other => Err(WhaletError::parameter(format!(
                "the body must be a JSON object, got {}",
                json_type(other)
            ))),
        }
    }

    /// The check of an object's fields, named `prefix` + field.
    fn nested(body: Option<&'a Map<String, Value>>, prefix: String) -> Self {
        Self {
            body,
            prefix,
            problems: Vec::new(),
            read: BTreeMap::new(),
            muted: false,
        }
    }

    /// What the operation read of the request: each field it knows, by full path, with its value
    /// as read (an amount as canonical money, `"10.00"` whether `"10"`, `"10.00"` or `10.00` was
    /// sent); unknown fields and fields it checks but does not keep are not in it, and a null,
    /// blank or absent field is the same (not there). Two requests with equal content are the
    /// same request to the operation, which is what business-id idempotency ([`super::once`])
    /// compares.
    pub fn content(&self) -> Value {
        Value::Object(
            self.read
                .iter()
                .map(|(path, value)| (path.clone(), value.clone()))
                .collect(),
        )
    }

    /// Notes `field` as read with `value`, the form the operation uses (replacing the value as
    /// given), so that two spellings of one value are the same content.
    fn note(&mut self, field: &str, value: Value) {
        self.read.insert(self.name(field), value);
    }

    /// Forgets that `field` was read: the operation checks it but does not use it.
    fn unnote(&mut self, field: &str) {
        self.read.remove(&self.name(field));
    }

    /// Reads `field` with `reader` (any reader of this check: `Check::opt`, `Check::text`, ...),
    /// checked as that reader checks it, for a field the operation checks but does not keep (a
    /// name only compared with the one it already has, a reason it throws away): it is no part
    /// of [`Check::content`], so a retry that adds, drops or changes it is the same request.
    pub fn unkept<T>(&mut self, field: &str, reader: impl FnOnce(&mut Self, &str) -> T) -> T {
        let value = reader(self, field);
        self.unnote(field);
        value
    }

    /// The value the operation uses for the optional `field`: `given` (what its reader read), or
    /// `default` when the field was left out (absent, null or blank). That value is what
    /// [`Check::content`] holds (`show` writes it), and the content also says what the default
    /// is (under [`DEFAULT_MARK`]), so that a retry spelling the default out, one leaving it out
    /// and a record either way (whatever simulator wrote it) are one request
    /// ([`crate::store::idempotency`]). A field given but refused stays as given: its problem
    /// refuses the request.
    pub fn defaulted<T>(
        &mut self,
        field: &str,
        given: Option<T>,
        default: Option<T>,
        show: impl Fn(&T) -> Value,
    ) -> Option<T> {
        let refused = given.is_none() && self.read.contains_key(&self.name(field));
        if let Some(value) = &default {
            let mark = format!("{DEFAULT_MARK}{}", self.name(field));
            self.read.insert(mark, show(value));
        }
        let used = if refused { None } else { given.or(default) };
        if let Some(value) = &used {
            self.note(field, show(value));
        }
        used
    }

    pub fn problem(&mut self, text: impl Into<String>) {
        self.problems.push(text.into());
    }

    /// The full name of `field` (with its object's path, `orders[0].orderNo`), as problems say it.
    pub fn name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.body.and_then(|b| b.get(field))
    }

    /// [`Check::get`] for a reader of a value (not of a nested object, whose readers note its
    /// fields): notes what was given ([`Check::content`]).
    fn read(&mut self, field: &str) -> Option<&'a Value> {
        let value = self.get(field);
        if let Some(v) = value.filter(|v| !blank(v)) {
            self.read.insert(self.name(field), v.clone());
        }
        value
    }

    /// The fields of a nested object; merge its problems back with [`Check::absorb`]. A missing
    /// object's required fields are reported by full name (the partner learns what to send); an
    /// object of the wrong type is that one problem, its fields unreported.
    pub fn object(&mut self, field: &str, required: bool) -> Check<'a> {
        let name = format!("{}{field}", self.prefix);
        describe::record(&name, "object", required, &[]);
        let mut muted = false;
        let body = match self.get(field) {
            Some(Value::Object(map)) => Some(map),
            None | Some(Value::Null) => {
                if required {
                    self.problems.push(format!("{name} is required"));
                }
                None
            }
            Some(other) => {
                self.problems.push(format!(
                    "{name} must be an object, got {}",
                    json_type(other)
                ));
                muted = true;
                None
            }
        };
        Check {
            muted,
            ..Check::nested(body, format!("{name}."))
        }
    }

    /// The items of the required array of objects `field`, 1 to `max` of them: a nested check of
    /// each (its fields named `field[i].…`), to read as any object's and merge back with
    /// [`Check::absorb`], so that they are in [`Check::content`] too. An item that is not an
    /// object is a problem and has no check.
    pub fn items(&mut self, field: &str, max: usize) -> Vec<Check<'a>> {
        let name = self.name(field);
        describe::record(&name, "array", true, &[]);
        let items = match self.get(field) {
            Some(Value::Array(items)) if (1..=max).contains(&items.len()) => items,
            Some(Value::Array(_)) => {
                self.problem(format!("{name} must list 1 to {max} items"));
                return Vec::new();
            }
            None | Some(Value::Null) => {
                self.problem(format!("{name} is required"));
                return Vec::new();
            }
            Some(other) => {
                self.problem(format!("{name} must be an array, got {}", json_type(other)));
                return Vec::new();
            }
        };
        let mut checks = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::Object(map) => {
                    checks.push(Check::nested(Some(map), format!("{name}[{i}].")))
                }
                other => self.problem(format!(
                    "{name}[{i}] must be an object, got {}",
                    json_type(other)
                )),
            }
        }
        checks
    }

    /// Takes over the problems (and what was read) of a nested object's check, but for a muted
    /// one's ([`Check::object`] of the wrong type).
    pub fn absorb(&mut self, child: Check<'a>) {
        if !child.muted {
            self.problems.extend(child.problems);
        }
        self.read.extend(child.read);
    }

    fn string(&mut self, field: &str, required: bool, max: usize) -> Option<&'a str> {
        let value = self.read(field);
        let field = &format!("{}{field}", self.prefix);
        match value {
            None | Some(Value::Null) => {
                if required {
                    self.problem(format!("{field} is required"));
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                if required {
                    self.problem(format!("{field} must not be empty"));
                }
                None
            }
            Some(Value::String(s)) if s.chars().count() > max => {
                self.problem(format!("{field} is longer than {max} characters"));
                None
            }
            Some(Value::String(s)) => Some(s.as_str()),
            Some(other) => {
                self.problem(format!(
                    "{field} must be a string, got {}",
                    json_type(other)
                ));
                None
            }
        }
    }

    /// A required string of at most [`MAX_ID`] characters ("" when missing; the problem is noted).
    pub fn id(&mut self, field: &str) -> &'a str {
        describe::record(&self.name(field), "id", true, &[]);
        self.string(field, true, MAX_ID).unwrap_or("")
    }

    /// An optional id (absent, null or empty → None) of at most [`MAX_ID`] characters.
    pub fn opt_id(&mut self, field: &str) -> Option<&'a str> {
        describe::record(&self.name(field), "id", false, &[]);
        self.string(field, false, MAX_ID)
    }

    /// A required text of at most [`MAX_TEXT`] characters.
    pub fn text(&mut self, field: &str) -> &'a str {
        describe::record(&self.name(field), "text", true, &[]);
        self.string(field, true, MAX_TEXT).unwrap_or("")
    }

    /// An optional string (absent, null or empty → None).
    pub fn opt(&mut self, field: &str) -> Option<&'a str> {
        describe::record(&self.name(field), "string", false, &[]);
        self.string(field, false, MAX_TEXT)
    }

    /// A string that must be one of `allowed`.
    pub fn one_of(&mut self, field: &str, allowed: &[&str], required: bool) -> Option<&'a str> {
        describe::record(&self.name(field), "enum", required, allowed);
        let value = self.string(field, required, MAX_TEXT)?;
        let field = &self.name(field);
        if allowed.contains(&value) {
            Some(value)
        } else {
            self.problem(format!(
                "{field} must be one of {}, got {}",
                allowed.join(", "),
                echo(value)
            ));
            None
        }
    }

    /// [`Check::one_of`] the words of status enum `S`, read as `S`.
    pub fn status<S: Words>(&mut self, field: &str, required: bool) -> Option<S> {
        self.one_of(field, S::WORDS, required).and_then(S::parse)
    }

    /// An officially assigned ISO 3166-1 alpha-2 country code.
    pub fn country(&mut self, field: &str, required: bool) -> Option<&'a str> {
        describe::record(&self.name(field), "country", required, &[]);
        let value = self.string(field, required, MAX_TEXT)?;
        let field = &self.name(field);
        let problem = match country::check(value, Form::Alpha2) {
            Ok(()) => return Some(value),
            Err(Fault::Shape) => format!(
                "{field} must be an ISO 3166 two-letter country code such as US, got {}",
                echo(value)
            ),
            Err(Fault::Unassigned) => country::not_assigned(field, value, "US"),
        };
        self.problem(problem);
        None
    }

    /// An ISO 4217 currency code.
    pub fn currency(&mut self, field: &str, required: bool) -> Option<Currency> {
        describe::record(&self.name(field), "currency", required, &[]);
        let value = self.string(field, required, MAX_TEXT)?;
        let field = &self.name(field);
        match Currency::parse(value) {
            Ok(c) => Some(c),
            Err(e) => {
                self.problem(e.about(field));
                None
            }
        }
    }

    /// A positive decimal amount (string or number) in `currency` (checked only when known).
    pub fn amount(&mut self, field: &str, currency: Option<Currency>) -> Option<Money> {
        let name = self.name(field);
        describe::record(&name, "amount", true, &[]);
        let value = match self.read(field) {
            None | Some(Value::Null) => {
                self.problem(format!("{name} is required"));
                return None;
            }
            Some(v) => v,
        };
        let currency = currency?;
        match positive_amount(&name, value, currency) {
            Ok(m) => {
                self.note(field, Value::from(m.to_decimal_string()));
                Some(m)
            }
            Err(problem) => {
                self.problem(problem);
                None
            }
        }
    }

    /// A positive integer given as a JSON number or digit string, within `1..=max`.
    pub fn count(&mut self, field: &str, default: u64, max: u64) -> u64 {
        describe::record(&self.name(field), "integer", false, &[]);
        let parsed = match self.read(field) {
            None | Some(Value::Null) => return default,
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) if s.is_empty() => return default,
            Some(Value::String(s)) => s.parse::<u64>().ok(),
            Some(_) => None,
        };
        match parsed {
            Some(v) if (1..=max).contains(&v) => {
                self.note(field, Value::from(v));
                v
            }
            _ => {
                self.problem(format!("{field} must be an integer from 1 to {max}"));
                default
            }
        }
    }

    /// A party's optional contact details and documents (`email`, `phone`, `address`,
    /// `attaches`), as the onboarding and the card holder applications take them.
    pub fn contact(&mut self) {
        self.opt("email");
        self.opt("phone");
        self.opt("address");
        self.files("attaches");
    }

    /// [`files`](Self::files), of which at least one: an absent, null or empty list is the
    /// problem that none is listed; a malformed list is only its own problems (it lists
    /// something, however wrong).
    pub fn required_files(&mut self, field: &str) -> Vec<FileRef> {
        let before = self.problems.len();
        let files = self.files(field);
        if files.is_empty() && self.problems.len() == before {
            let name = self.name(field);
            self.problem(format!(
                "{name} must list at least one uploaded file {{fileId, fileName, fileUrl}}"
            ));
        }
        files
    }

    /// An optional array of file references `{fileId, fileName, fileUrl}`: each item an object
    /// whose fields are read as every other field is (`fileId` an id, `fileName` a text, `fileUrl`
    /// a string of any length, as the simulator's own links may be long).
    pub fn files(&mut self, field: &str) -> Vec<FileRef> {
        let name = self.name(field);
        describe::record(&name, "files", false, &[]);
        let items = match self.get(field) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.problem(format!(
                    "{name} must be an array of {{fileId, fileName, fileUrl}}, got {}",
                    json_type(other)
                ));
                return Vec::new();
            }
        };
        let mut files = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("{name}[{i}]");
            let Value::Object(map) = item else {
                self.problem(format!(
                    "{at} must be an object {{fileId, fileName, fileUrl}}, got {}",
                    json_type(item)
                ));
                continue;
            };
            let mut c = Check::nested(Some(map), format!("{at}."));
            let file_id = c.string("fileId", true, MAX_ID);
            // Checked, but the simulator keeps its own name and link for an uploaded file: a
            // retry that adds or drops them is the same request.
            let file_name = c.unkept("fileName", |c, f| c.string(f, false, MAX_TEXT));
            let file_url = c.unkept("fileUrl", |c, f| c.string(f, false, usize::MAX));
            let sound = c.problems.is_empty();
            self.absorb(c);
            if let Some(file_id) = file_id.filter(|_| sound) {
                files.push(FileRef {
                    file_id: file_id.to_owned(),
                    file_name: file_name.unwrap_or_default().to_owned(),
                    file_url: file_url.unwrap_or_default().to_owned(),
                });
            }
        }
        files
    }

    /// [`Check::finish`], then the reading of the required field `field`, which is there when
    /// nothing was wrong.
    pub fn finish_with<T>(self, field: &str, value: Option<T>) -> Result<T, WhaletError> {
        self.finish()?;
        value.ok_or_else(|| WhaletError::parameter(format!("{field} is required")))
    }

    /// Ok when no problem was found, else one PARAMETER_ERROR listing them all. In describe mode
    /// (`crate::api::describe`) the operation ends here: nothing past validation runs.
    pub fn finish(self) -> Result<(), WhaletError> {
        if describe::active() {
            return Err(WhaletError::parameter("described"));
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(WhaletError::parameter(self.problems.join("; ")))
        }
    }
}

/// A positive amount in `currency`, given as a decimal string or a JSON number, or the problem
/// with it, starting with `field`. Every Whalet amount is read here.
pub fn positive_amount(field: &str, value: &Value, currency: Currency) -> Result<Money, String> {
    match Money::from_json(value, currency) {
        Ok(m) if m.is_positive() => Ok(m),
        Ok(_) => Err(format!("{field} must be greater than zero")),
        Err(e) => Err(e.about(field)),
    }
}

/// Reads one Y/N flag of `body` ([`Check::flag`]), where a flag is all there is to check (a
/// trigger's parameter).
pub fn yes_no(body: &Value, field: &str, required: bool) -> Result<Option<bool>, WhaletError> {
    let mut c = Check::new(body)?;
    let flag = c.flag(field, required);
    c.finish().map(|()| flag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_every_bad_field_at_once() {
        let body = json!({"userId": "", "holderType": "ALIEN", "currency": "XXX", "n": 7});
        let mut c = Check::new(&body).unwrap();
        c.id("userId");
        c.id("outHolderId");
        c.one_of("holderType", &["INDIVIDUAL", "ENTERPRISE"], true);
        c.currency("currency", true);
        c.opt("n");
        let err = c.finish().unwrap_err();
        assert_eq!(err.code.as_str(), "PARAMETER_ERROR");
        for needle in [
            "userId must not be empty",
            "outHolderId is required",
            "holderType must be one of INDIVIDUAL, ENTERPRISE, got \"ALIEN\"",
            "currency \"XXX\" is unknown",
            "n must be a string, got a number",
        ] {
            assert!(err.detail.contains(needle), "{needle} in {}", err.detail);
        }
    }

    #[test]
    fn amounts_and_counts() {
        let usd = Currency::parse("USD").ok();
        let body = json!({"a": "10.50", "b": 0, "c": "1.234", "p": "3", "q": 0});
        let mut c = Check::new(&body).unwrap();
        assert_eq!(c.amount("a", usd).map(|m| m.minor), Some(1050));
        assert_eq!(c.count("p", 1, 100), 3);
        assert_eq!(c.count("missing", 10, 100), 10);
        assert!(c.finish().is_ok());
        let mut c = Check::new(&body).unwrap();
        assert!(c.amount("b", usd).is_none());
        assert!(c.amount("c", usd).is_none());
        c.count("q", 1, 100);
        let detail = c.finish().unwrap_err().detail;
        assert!(detail.contains("b must be greater than zero"), "{detail}");
        assert!(
            detail.contains("c \"1.234\" has 3 decimal places"),
            "{detail}"
        );
        assert!(
            detail.contains("q must be an integer from 1 to 100"),
            "{detail}"
        );
    }

    #[test]
    fn a_number_that_cannot_be_read_exactly_is_refused_without_an_invented_text() {
        let usd = Currency::parse("USD").unwrap_or_else(|_| unreachable!());
        let body: Value = serde_json::from_str(
            r#"{"big": 99999999999999999999, "huge": 1e300, "tiny": 0.0000001, "ok": 10.5, "int": 7}"#,
        )
        .unwrap();
        let read = |f: &str| positive_amount(f, &body[f], usd);
        for field in ["big", "huge"] {
            let problem = read(field).unwrap_err();
            assert!(problem.contains("too large"), "{problem}");
            assert!(!problem.contains("e+"), "{problem}");
        }
        let problem = read("tiny").unwrap_err();
        assert!(problem.contains("too many decimal places"), "{problem}");
        assert!(!problem.contains("e-"), "{problem}");
        assert_eq!(read("ok").map(|m| m.minor), Ok(1050));
        assert_eq!(read("int").map(|m| m.minor), Ok(700));
    }

    /// A list of files that must hold one: none listed is that problem; a malformed list is only
    /// its own problems, not also "none" (t54b F2: a payConfirm with one malformed credential
    /// was told both).
    #[test]
    fn required_files_name_one_problem_each() {
        let problems = |body: Value| {
            let mut c = Check::new(&body).unwrap();
            let files = c.required_files("tradeCredential");
            (files.len(), c.finish().err().map(|e| e.detail))
        };
        let none =
            "tradeCredential must list at least one uploaded file {fileId, fileName, fileUrl}";
        for body in [
            json!({}),
            json!({"tradeCredential": null}),
            json!({"tradeCredential": []}),
        ] {
            assert_eq!(problems(body.clone()), (0, Some(none.to_owned())), "{body}");
        }
        let (n, wrong) = problems(json!({"tradeCredential": "x"}));
        assert_eq!(n, 0);
        assert_eq!(
            wrong.as_deref(),
            Some("tradeCredential must be an array of {fileId, fileName, fileUrl}, got a string")
        );
        let (n, item) = problems(json!({"tradeCredential": [{"fileId": 123}]}));
        assert_eq!(n, 0);
        let item = item.unwrap();
        assert!(item.starts_with("tradeCredential[0].fileId"), "{item}");
        assert!(!item.contains("at least one"), "{item}");
        let good = json!({"tradeCredential": [{"fileId": "f1"}]});
        assert_eq!(problems(good), (1, None));
    }

    /// What idempotency compares: the fields read, not the ones ignored; null, blank and absent
    /// alike; nested fields by their full path.
    #[test]
    fn the_content_is_what_was_read() {
        let read = |body: Value| {
            let mut c = Check::new(&body).unwrap();
            c.id("outUserId");
            let mut entity = c.object("legalEntity", true);
            entity.text("name");
            c.absorb(entity);
            c.contact();
            let content = c.content();
            assert!(c.finish().is_ok(), "{body}");
            content
        };
        let plain = read(json!({"outUserId": "m", "legalEntity": {"name": "A"}}));
        assert_eq!(plain, json!({"outUserId": "m", "legalEntity.name": "A"}));
        let noisy = read(
            json!({"outUserId": "m", "traceId": "t", "email": null, "phone": " ",
            "attaches": [], "legalEntity": {"name": "A", "extra": 1}}),
        );
        assert_eq!(noisy, plain);
        let files = read(json!({"outUserId": "m", "legalEntity": {"name": "A"},
            "attaches": [{"fileId": "f", "note": "x"}]}));
        assert_eq!(files["attaches[0].fileId"], "f");
        assert_eq!(files.as_object().map(Map::len), Some(3));
        // The simulator keeps its own name and link of a file: the ones sent are not content.
        let named = read(json!({"outUserId": "m", "legalEntity": {"name": "A"},
            "attaches": [{"fileId": "f", "fileName": "f.pdf", "fileUrl": "u"}]}));
        assert_eq!(named, files);
    }

    /// A field checked but not kept is no content, whatever it holds; still checked as its
    /// reader checks it.
    #[test]
    fn a_field_checked_but_not_kept_is_no_content() {
        let read = |body: Value| {
            let mut c = Check::new(&body).unwrap();
            c.id("cardId");
            c.unkept("reason", Check::opt);
            let content = c.content();
            (content, c.finish())
        };
        let (plain, ok) = read(json!({"cardId": "C1"}));
        assert!(ok.is_ok());
        for body in [
            json!({"cardId": "C1", "reason": "closing"}),
            json!({"cardId": "C1", "reason": " "}),
        ] {
            let (content, ok) = read(body);
            assert!(ok.is_ok());
            assert_eq!(content, plain);
        }
        let (_, refused) = read(json!({"cardId": "C1", "reason": 5}));
        assert_eq!(
            refused.unwrap_err().detail,
            "reason must be a string, got a number"
        );
    }

    /// A defaulted field is content as the value the operation uses: left out (or blank) and
    /// spelled out as the default are one request; another value is other content.
    #[test]
    fn a_defaulted_field_is_content_as_the_value_used() {
        let read = |body: Value| {
            let mut c = Check::new(&body).unwrap();
            let currency = c.currency("currency", true);
            let to = c.currency("toCurrency", false);
            let to = c.defaulted("toCurrency", to, currency, |cur| Value::from(cur.code()));
            let content = c.content();
            (
                to.map(|cur| cur.code().to_owned()),
                content,
                c.finish().is_ok(),
            )
        };
        let left_out = read(json!({"currency": "USD"}));
        assert_eq!(left_out.0.as_deref(), Some("USD"));
        assert_eq!(
            left_out.1,
            json!({"currency": "USD", "toCurrency": "USD",
                format!("{DEFAULT_MARK}toCurrency"): "USD"})
        );
        assert_eq!(
            read(json!({"currency": "USD", "toCurrency": "USD"})),
            left_out
        );
        assert_eq!(
            read(json!({"currency": "USD", "toCurrency": " "})),
            left_out
        );
        let other = read(json!({"currency": "USD", "toCurrency": "EUR"}));
        assert_eq!((other.0.as_deref(), other.2), (Some("EUR"), true));
        assert_ne!(other.1, left_out.1);
        // A value given but refused is not replaced by the default: the request is refused.
        let bad = read(json!({"currency": "USD", "toCurrency": "XXX"}));
        assert_eq!((bad.0, bad.2), (None, false));
        assert_eq!(bad.1["toCurrency"], "XXX");
    }

    /// A value is content as the operation reads it: an amount as canonical money, a count as
    /// its number, however the request spelled them.
    #[test]
    fn the_content_holds_values_as_read() {
        let read = |body: Value| {
            let mut c = Check::new(&body).unwrap();
            let currency = c.currency("currency", true);
            c.amount("amount", currency);
            c.count("pageSize", 10, 100);
            let content = c.content();
            assert!(c.finish().is_ok(), "{body}");
            content
        };
        let canonical = json!({"currency": "USD", "amount": "10.00", "pageSize": 5});
        for body in [
            json!({"currency": "USD", "amount": "10.00", "pageSize": 5}),
            json!({"currency": "USD", "amount": "10", "pageSize": "5"}),
            json!({"currency": "USD", "amount": 10.00, "pageSize": 5}),
            json!({"currency": "USD", "amount": 10, "pageSize": "5"}),
        ] {
            assert_eq!(read(body), canonical);
        }
        assert_ne!(
            read(json!({"currency": "USD", "amount": "10.01"})),
            read(json!({"currency": "USD", "amount": "10.1"}))
        );
    }

    /// An array of objects: each item read by its full name, into the content too.
    #[test]
    fn items_are_read_by_their_full_name() {
        let body = json!({"orders": [{"orderNo": "1", "amount": "1.5", "x": 1}, 7, {"amount": 2}],
            "none": [], "text": "a"});
        let mut c = Check::new(&body).unwrap();
        let items = c.items("orders", 3);
        assert_eq!(items.len(), 2);
        for mut item in items {
            item.id("orderNo");
            item.amount("amount", Currency::parse("USD").ok());
            c.absorb(item);
        }
        assert!(c.items("none", 3).is_empty() && c.items("text", 3).is_empty());
        assert!(c.items("absent", 3).is_empty());
        assert_eq!(
            c.content(),
            json!({"orders[0].orderNo": "1", "orders[0].amount": "1.50", "orders[2].amount": "2.00"})
        );
        assert_eq!(
            c.finish().unwrap_err().detail,
            "orders[1] must be an object, got a number; orders[2].orderNo is required; \
             none must list 1 to 3 items; text must be an array, got a string; absent is required"
        );
    }

    #[test]
    fn a_file_reference_is_checked_like_any_field() {
        let body = json!({"a": [{"fileId": 123}, "str", null, {"fileId": "f", "fileName": 5,
            "fileUrl": []}, {"fileId": "g", "fileName": "g.pdf", "fileUrl": "u"}]});
        let mut c = Check::new(&body).unwrap();
        let files = c.files("a");
        assert_eq!(
            files,
            vec![FileRef {
                file_id: "g".into(),
                file_name: "g.pdf".into(),
                file_url: "u".into()
            }]
        );
        assert_eq!(
            c.finish().unwrap_err().detail,
            "a[0].fileId must be a string, got a number; \
             a[1] must be an object {fileId, fileName, fileUrl}, got a string; \
             a[2] must be an object {fileId, fileName, fileUrl}, got null; \
             a[3].fileName must be a string, got a number; a[3].fileUrl must be a string, got an array"
        );
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        assert!(Check::new(&json!([1])).is_err());
    }

    /// A nested object of the wrong type is one problem, its own: its fields are not reported
    /// as missing. A missing one still names its required fields.
    #[test]
    fn a_nested_object_of_the_wrong_type_is_one_problem() {
        let read = |body: Value| {
            let mut c = Check::new(&body).unwrap();
            let mut entity = c.object("legalEntity", true);
            entity.text("name");
            let mut inner = entity.object("address", true);
            inner.text("city");
            entity.absorb(inner);
            c.absorb(entity);
            c.finish().unwrap_err().detail
        };
        assert_eq!(
            read(json!({"legalEntity": "{\"name\": \"A\"}"})),
            "legalEntity must be an object, got a string"
        );
        assert_eq!(
            read(json!({"legalEntity": {"address": 7}})),
            "legalEntity.name is required; legalEntity.address must be an object, got a number"
        );
        assert_eq!(
            read(json!({})),
            "legalEntity is required; legalEntity.name is required; \
             legalEntity.address is required; legalEntity.address.city is required"
        );
    }

    /// A Y/N flag: every problem of every flag named at once, a long value echoed by its start.
    #[test]
    fn flags_are_y_or_n_and_every_bad_one_is_named() {
        let body = json!({"a": "Y", "b": "N", "c": "x", "d": 1, "e": ""});
        let mut c = Check::new(&body).unwrap();
        assert_eq!(c.flag("a", true), Some(true));
        assert_eq!(c.flag("b", true), Some(false));
        assert_eq!(c.flag("c", true), None);
        assert_eq!(c.flag("d", true), None);
        assert_eq!(c.flag("e", true), None);
        assert_eq!(c.flag("f", true), None);
        assert_eq!(c.flag("g", false), None);
        assert_eq!(
            c.finish().unwrap_err().detail,
            "c must be \"Y\" or \"N\", got \"x\"; d must be a string, got a number; \
             e is required (\"Y\" or \"N\"); f is required (\"Y\" or \"N\")"
        );
        assert_eq!(
            yes_no(&json!({"r": "Y"}), "r", false).ok(),
            Some(Some(true))
        );
        assert!(yes_no(&json!({"r": "y"}), "r", false).is_err());
    }

    #[test]
    fn free_text_is_kept_as_sent() {
        let long = "m".repeat(10_000);
        let body = json!({"a": " ", "b": long, "c": 5});
        let mut c = Check::new(&body).unwrap();
        assert_eq!(c.free_text("a"), Some(" "));
        assert_eq!(c.free_text("b").map(str::len), Some(10_000));
        assert_eq!(c.free_text("none"), None);
        assert_eq!(c.free_text("c"), None);
        assert_eq!(
            c.finish().unwrap_err().detail,
            "c must be a string, got a number"
        );
    }

    /// A time of the right form that the calendar has not is named as such, by the part at
    /// fault; a text of another form is a format problem.
    #[test]
    fn a_time_that_is_no_calendar_time_is_told_apart_from_a_bad_format() {
        assert_eq!(china_time("2024-02-29 23:59:59"), Ok(1_709_222_399_000));
        let fault = |text: &str| match china_time(text) {
            Err(TimeFault::NotCalendar(why)) => why,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            fault("2026-02-29 00:00:00"),
            "2026-02-29 is not a calendar date (February 2026 has 28 days)"
        );
        assert_eq!(
            fault("2026-04-31 12:00:00"),
            "2026-04-31 is not a calendar date (April 2026 has 30 days)"
        );
        assert_eq!(
            fault("2026-13-01 00:00:00"),
            "2026-13-01 is not a calendar date (there is no month 13)"
        );
        assert_eq!(
            fault("2026-01-00 00:00:00"),
            "2026-01-00 is not a calendar date (there is no day 0)"
        );
        assert_eq!(
            fault("2026-01-01 24:00:00"),
            "24:00:00 is not a time of day (00:00:00 to 23:59:59)"
        );
        for text in [
            "2026/01/01 00:00:00",
            "2026-01-01T00:00:00",
            "2026-1-01 00:00:00",
            "",
            "２０２６-01-01 00:00:00",
        ] {
            assert_eq!(china_time(text), Err(TimeFault::Shape), "{text}");
        }
        let body = json!({"startTime": "2026-02-29 00:00:00", "endTime": "tomorrow"});
        let mut c = Check::new(&body).unwrap();
        c.period();
        assert_eq!(
            c.finish().unwrap_err().detail,
            "startTime: 2026-02-29 is not a calendar date (February 2026 has 28 days); \
             endTime must be yyyy-MM-dd HH:mm:ss (UTC+8), got \"tomorrow\""
        );
    }
}
