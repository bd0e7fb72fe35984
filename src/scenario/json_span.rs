//! Where in a JSON scenario an error is. serde_json names the last character it read, which is
//! rarely where the offending text starts: the closing quote of an unknown key, the last digit
//! of a rejected number, or even the `}` after a value that a check refused. A scenario's errors
//! name the start of the offending key or value, as the TOML errors do.

use serde_json::error::Category;

/// Byte offset in `text` of the key or value `e` is about.
pub fn error_offset(text: &str, e: &serde_json::Error) -> usize {
    let read = reported_offset(text, e.line(), e.column());
    let message = e.to_string();
    if e.classify() != Category::Data || message.starts_with("missing field") {
        // A syntax error is at the character read; a missing field at the object's end.
        return read;
    }
    if let Some(key) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        let end = (read + 1).min(text.len());
        return text
            .get(..end)
            .and_then(|before| before.rfind(&format!("\"{key}\"")))
            .unwrap_or(read);
    }
    if message.starts_with("invalid type: map") || message.starts_with("invalid type: sequence") {
        // Read up to just before the value's opening bracket.
        return skip_forward(text.as_bytes(), read);
    }
    value_start(text.as_bytes(), read)
}

/// The byte offset of 1-based `line` and `column`, as serde_json counts them: the column counts
/// bytes, not characters (0 = before the line). Snapped back to a character's start.
fn reported_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let Some(column) = column.checked_sub(1) else {
        return line_start.saturating_sub(1);
    };
    let mut at = (line_start + column).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// From `at`, past whitespace and a `:`, to the next value.
fn skip_forward(bytes: &[u8], at: usize) -> usize {
    let mut i = at;
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_whitespace() || *b == b':')
    {
        i += 1;
    }
    i.min(bytes.len())
}

/// Start of the value that ends at or just before `at` (`at` may be the `,`, `}` or `]` read
/// after it).
fn value_start(bytes: &[u8], at: usize) -> usize {
    if at >= bytes.len() {
        return at;
    }
    let mut end = at;
    if matches!(bytes[end], b',' | b'}' | b']') || bytes[end].is_ascii_whitespace() {
        end = match last_before(bytes, end) {
            Some(i) => i,
            None => return at,
        };
    }
    match bytes[end] {
        b'"' => string_start(bytes, end).unwrap_or(at),
        b'}' | b']' => matching_open(bytes, end).unwrap_or(at),
        _ => {
            let mut start = end;
            while start > 0 && is_scalar(bytes[start - 1]) {
                start -= 1;
            }
            start
        }
    }
}

/// The last character before `at` that is not whitespace.
fn last_before(bytes: &[u8], at: usize) -> Option<usize> {
    (0..at).rev().find(|&i| !bytes[i].is_ascii_whitespace())
}

fn is_scalar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+')
}

/// The opening quote of the string whose closing quote is at `close`.
fn string_start(bytes: &[u8], close: usize) -> Option<usize> {
    (0..close)
        .rev()
        .find(|&i| bytes[i] == b'"' && !escaped(bytes, i))
}

/// Whether the character at `i` is escaped (preceded by an odd number of backslashes).
fn escaped(bytes: &[u8], i: usize) -> bool {
    bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

/// The `{` or `[` that the `}` or `]` at `close` ends, strings skipped.
fn matching_open(bytes: &[u8], close: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = close + 1;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b'}' | b']' => depth += 1,
            b'{' | b'[' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'"' if !escaped(bytes, i) => i = string_start(bytes, i)?,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        #[serde(default)]
        rule: Vec<crate::scenario::format::RuleSpec>,
    }

    /// The 1-based (line, column) of the error for `text`.
    fn at(text: &str) -> (usize, usize) {
        let e = serde_json::from_str::<Doc>(text).unwrap_err();
        let offset = error_offset(text, &e);
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
        (line, column)
    }

    #[test]
    fn errors_point_at_the_start_of_the_offending_key_or_value() {
        // A value a check refuses (serde_json reads up to the `}` after it).
        assert_eq!(at("{\"name\":\"j3\",\n\"rule\":[{\"nth\":0}]}"), (2, 16));
        assert_eq!(
            at("{\"name\":\"j3\",\n\"rule\":[{\"nth\" : 0\n }]}"),
            (2, 18)
        );
        assert_eq!(
            at("{\"name\":\"j\",\n\"rule\":[{\"window\":\"5x\"}]}"),
            (2, 19)
        );
        assert_eq!(
            at("{\"name\":\"j\",\n\"rule\":[{\"window\":{\"a\":\"}\"}}]}"),
            (2, 19)
        );
        // An unknown key, with or without space before its colon.
        assert_eq!(at("{\"name\":\"j\",\n\"rule\":[{\"bogus\":1}]}"), (2, 10));
        assert_eq!(at("{\"name\":\"j\",\n\"rule\":[{\"bogus\" : 1}]}"), (2, 10));
        assert_eq!(at("{\"name\":\"é\", \"bogus\":1}"), (1, 14));
        // Regression: serde_json counts bytes in a column; read as characters, the offset
        // overshot by the extra bytes of every character before it on the line.
        for n in [1, 2, 3, 5, 10] {
            let name = "é".repeat(n);
            let text = format!("{{\"name\":\"{name}\",\"rule\":[{{\"after\":-1}}]}}");
            assert_eq!(at(&text), (1, 29 + n), "{n}");
            let text = format!(
                "{{\"name\":\"{name}\",\"rule\":[{{\"operation\":\"拒绝\"}},{{\"after\":-1}}]}}"
            );
            let column = text[..text.find("-1").unwrap()].chars().count() + 1;
            assert_eq!(at(&text), (1, column), "{n}");
        }
        // Wrong types.
        assert_eq!(at("{\"name\":\"j\",\n\"rule\":[{\"after\":-1}]}"), (2, 18));
        assert_eq!(
            at("{\"name\":\"j\",\n\"rule\":[{\"after\":\"a\\\"b\"}]}"),
            (2, 18)
        );
        assert_eq!(at("{\"name\":\"j\",\n\"rule\": {\"x\":1}}"), (2, 9));
        // Syntax errors and a missing field stay where serde_json read.
        assert_eq!(at("{\"name\":\"j\",\n\"rule\":[{},]}"), (2, 12));
        assert_eq!(at("{\"rule\":[]}"), (1, 11));
    }
}
