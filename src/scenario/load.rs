//! Loading a scenario: TOML or JSON text in, a checked [`ScenarioFile`] out, or a [`LoadError`]
//! naming the file, line, column and reason. After deserialising (format.rs), the checks across
//! keys run, and the timeline's trigger names and parameters are checked against the triggers
//! the app serves.

use std::fmt;

use serde::Serialize;

use super::format::{ScenarioFile, Surface, Tenant};
use crate::trigger::TriggerDef;

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

/// Parses and checks one scenario. JSON when the text starts with `{`, TOML otherwise.
pub fn parse<C>(
    text: &str,
    file: &str,
    triggers: &[TriggerDef<C>],
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
    let mut parsed: ScenarioFile = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| LoadError {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            reason: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or("")
                .to_owned(),
        })?
    } else {
        toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(offset, e.message().trim().to_owned())
        })?
    };
    check(&parsed, triggers)
        .map_err(|(needle, nth, reason)| at(find_nth(text, &needle, nth).unwrap_or(0), reason))?;
    parsed.text = text.to_owned();
    Ok(parsed)
}

/// Checks that need more than one value or outside knowledge. On error: a text to find in the
/// source (and which occurrence) so the error can name a line, and the reason.
/// At most this many rules, timeline events or outages in one scenario.
pub const MAX_ENTRIES: usize = 1000;

fn check<C>(s: &ScenarioFile, triggers: &[TriggerDef<C>]) -> Result<(), (String, usize, String)> {
    for (what, header, count) in [
        ("rules", "[[rule]]", s.rules.len()),
        ("timeline events", "[[timeline]]", s.timeline.len()),
        ("outages", "[[outage]]", s.outage.len()),
    ] {
        if count > MAX_ENTRIES {
            return Err((
                header.to_owned(),
                MAX_ENTRIES,
                format!("{count} {what}; a scenario may have at most {MAX_ENTRIES}"),
            ));
        }
    }
    for (i, rule) in s.rules.iter().enumerate() {
        let label = rule
            .name
            .clone()
            .unwrap_or_else(|| format!("rule {}", i + 1));
        let refuse = |why: &str| Err(("[[rule]]".to_owned(), i, format!("rule {label:?}: {why}")));
        if rule.nth.is_some() && (rule.first.is_some() || rule.after.is_some()) {
            return refuse("nth cannot be combined with first or after");
        }
        if rule.window.is_some()
            && rule.nth.is_none()
            && rule.first.is_none()
            && rule.after.is_none()
        {
            return refuse("window only makes sense with nth, first or after");
        }
        if rule.window.is_some_and(|w| w.0 <= 0) {
            return refuse("window must be longer than 0s");
        }
        for (path, p) in &rule.when {
            p.check().map_err(|e| {
                (
                    path.clone(),
                    0,
                    format!("rule {label:?}, when {path:?}: {e}"),
                )
            })?;
        }
        let then = &rule.then;
        if (then.status.is_some() || then.reason.is_some()) && then.result.is_none() {
            return refuse("status and reason describe the async result; add result = \"success\" or \"failure\"");
        }
        if rule.surface == Some(Surface::Whalet)
            && then.http_status.is_some()
            && then.code.is_none()
        {
            return refuse(
                "on the Whalet surface http_status goes with a code (e.g. code = \"FAILURE\")",
            );
        }
        if let (Some(surface), Some(code)) = (rule.surface, &then.code) {
            let (known, scheme) = surface_codes(surface);
            if !known.contains(&code.as_str()) {
                return Err((
                    format!("\"{code}\""),
                    0,
                    format!(
                        "rule {label:?}: {code:?} is not {scheme}; one of {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        if then.drop_connection && (then.code.is_some() || then.http_status.is_some()) {
            return refuse("drop_connection sends no answer, so code and http_status cannot apply");
        }
    }
    for (i, event) in s.timeline.iter().enumerate() {
        let Some(def) = triggers.iter().find(|t| t.name == event.event) else {
            let names: Vec<&str> = triggers.iter().map(|t| t.name).collect();
            return Err((
                format!("\"{}\"", event.event),
                same_before(s, i),
                format!(
                    "timeline event {}: no trigger {:?}; known: {}",
                    i + 1,
                    event.event,
                    names.join(", ")
                ),
            ));
        };
        let mut params = event.params.clone();
        if let Some(Tenant(t)) = &s.tenant {
            super::timeline::add_tenant_params(def, t, &mut params);
        }
        crate::trigger::check_params(def, &params).map_err(|e| {
            (
                format!("\"{}\"", event.event),
                same_before(s, i),
                format!("timeline event {} ({}): {e}", i + 1, event.event),
            )
        })?;
    }
    for (i, o) in s.outage.iter().enumerate() {
        if o.until.is_some_and(|u| u <= o.from) {
            return Err((
                "[[outage]]".into(),
                i,
                format!("outage {}: until must be after from", i + 1),
            ));
        }
        if let Some(c) = &o.channel {
            if !["whalet", "infinia", "pockyt"].contains(&c.as_str()) {
                return Err((
                    "[[outage]]".into(),
                    i,
                    format!(
                        "outage {}: channel must be whalet, infinia or pockyt, not {c:?}",
                        i + 1
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// How many earlier timeline events name the same trigger (to find the right line).
fn same_before(s: &ScenarioFile, i: usize) -> usize {
    let name = s.timeline.get(i).map(|e| e.event.as_str());
    s.timeline
        .iter()
        .take(i)
        .filter(|e| Some(e.event.as_str()) == name)
        .count()
}

fn find_nth(text: &str, needle: &str, nth: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    text.match_indices(needle).nth(nth).map(|(i, _)| i)
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
    }

    #[test]
    fn unknown_trigger_names_its_line() {
        let text = "name = \"x\"\n[[timeline]]\nat = \"1s\"\nevent = \"no.such.event\"\n";
        let e = parse::<()>(text, "t.toml", &[]).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.reason.contains("no trigger"), "{e}");
    }
}
