//! Bounding text that came from a client before it goes into a message or the journal: a value
//! echoed in a diagnostic, a lower-level error quoted whole, a journal field. Longer text is cut
//! at a char boundary and ends with a marker saying how much was left out
//! (`… 12345 more bytes`), so a 32 MiB CSV header never becomes a 32 MiB diagnostic.

use std::borrow::Cow;
use std::fmt;

/// Longest echo of one client value (a column name, a field's value) in a message, in bytes.
pub const ECHO_BYTES: usize = 256;

/// Longest lower-level error (which may itself echo a value) quoted whole in a message, in bytes.
pub const MESSAGE_BYTES: usize = 1024;

/// The largest index `<= at` that is a char boundary of `text`.
fn floor_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    let mut i = at;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Where to cut `text` so that the kept part plus its marker take at most `max` bytes.
/// Returns `text.len()` when it fits whole.
fn cut_point(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    // The marker names at most `text.len()` omitted bytes, so this much room always suffices.
    let reserve = marker(text.len()).len();
    floor_boundary(text, max.saturating_sub(reserve))
}

/// The marker that ends a cut text.
fn marker(omitted: usize) -> String {
    format!("… {omitted} more bytes")
}

/// `text` if it is at most `max` bytes long; otherwise its longest prefix that ends at a char
/// boundary and leaves room for the marker, followed by `… N more bytes` (N = bytes left out).
/// The result is at most `max` bytes unless `max` is shorter than the marker itself.
pub fn bound(text: &str, max: usize) -> Cow<'_, str> {
    let cut = cut_point(text, max);
    if cut == text.len() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(max);
    out.push_str(&text[..cut]);
    out.push_str(&marker(text.len() - cut));
    Cow::Owned(out)
}

/// A client value as one field of a log line: [`bound`] to [`ECHO_BYTES`], with every control
/// character escaped (`\n`, `\u{0}`, ...), so a value cannot end the line and forge another, nor
/// put a NUL in the log. Text without control characters is not copied.
pub fn log_field(text: &str) -> Cow<'_, str> {
    let text = bound(text, ECHO_BYTES);
    if !text.chars().any(char::is_control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`bound`] in place: a text that fits is left untouched (no copy).
pub fn bound_string(text: &mut String, max: usize) {
    let cut = cut_point(text, max);
    if cut < text.len() {
        let omitted = text.len() - cut;
        text.truncate(cut);
        text.push_str(&marker(omitted));
    }
}

/// A lower-level error's text (which may echo what the client sent) for a message, cut at
/// [`MESSAGE_BYTES`].
pub fn message(error: impl fmt::Display) -> String {
    let mut text = error.to_string();
    bound_string(&mut text, MESSAGE_BYTES);
    text
}

/// Why the TOML parser refused `text`, for a message that names the place itself: the parser's
/// own words, or, where it has none (it says nothing when the text ends where a value, a key or a
/// closing bracket is still expected), what is missing there.
pub fn toml_reason(text: &str, error: &toml::de::Error) -> String {
    let said = error.message().trim();
    if !said.is_empty() {
        return said.to_owned();
    }
    let at = error.span().map_or(text.len(), |s| s.start);
    let before = text[..floor_boundary(text, at)].trim_end();
    if before.ends_with('=') {
        "a value is missing after `=`".to_owned()
    } else if text[floor_boundary(text, at)..].trim().is_empty() {
        "the text ends before this line is complete".to_owned()
    } else {
        "this is not TOML".to_owned()
    }
}

/// One client value for a message, written quoted like `{:?}` and cut at [`ECHO_BYTES`] of the
/// value: `"abc"`, or `"ab"… 1048320 more bytes`.
pub fn echo(value: &str) -> Echo<'_> {
    Echo(value)
}

/// [`echo`] without the quotes, for a value that is a word of the sentence (a method, a path).
pub fn echo_bare(value: &str) -> String {
    let cut = cut_point(value, ECHO_BYTES);
    let mut text = value[..cut].to_owned();
    if cut < value.len() {
        text.push_str(&marker(value.len() - cut));
    }
    text
}

/// See [`echo`].
#[derive(Clone, Copy)]
pub struct Echo<'a>(&'a str);

impl fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        let cut = cut_point(text, ECHO_BYTES);
        write!(f, "{:?}", &text[..cut])?;
        if cut < text.len() {
            f.write_str(&marker(text.len() - cut))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The items of a comma-separated list, each trimmed, empty ones dropped; None when it names
/// none (`""`, `","`, `" , "`).
pub fn comma_list(text: &str) -> Option<Vec<String>> {
    let items: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!items.is_empty()).then_some(items)
}

/// The accepted name `given` most likely meant: the same but for case, `_` or `-`, or at most
/// two edits away (one for short names).
pub fn nearest<'a>(given: &str, accepted: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let g = norm(given);
    if g.len() > 64 {
        return None;
    }
    accepted
        .iter()
        .map(|a| {
            let n = norm(a);
            (edits(&g, &n), n.len(), *a)
        })
        .filter(|(d, len, _)| *d <= 2 && d * 3 <= *len)
        .min_by_key(|(d, _, _)| *d)
        .map(|(_, _, a)| a)
}

/// Levenshtein distance between two texts, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    edits(&a, &b)
}

/// Levenshtein distance.
fn edits(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Text as HTML or XML character data or an attribute value: the five special characters as
/// references, control characters other than newline and tab as spaces (XML 1.0 forbids them).
pub fn markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_accepted_name_is_suggested_only_when_close() {
        let accepted = ["tenant", "apiCode", "businessId", "timeoutMs", "timeout_ms"];
        for (given, expected) in [
            ("apicode", Some("apiCode")),
            ("api_code", Some("apiCode")),
            ("tennant", Some("tenant")),
            ("businesId", Some("businessId")),
            ("TIMEOUTMS", Some("timeoutMs")),
            ("page", None),
            ("x", None),
            ("", None),
        ] {
            assert_eq!(nearest(given, &accepted), expected, "{given}");
        }
        let long = "a".repeat(10_000);
        assert_eq!(nearest(&long, &accepted), None);
    }

    #[test]
    fn short_text_is_kept_whole_and_not_copied() {
        assert!(matches!(bound("abc", 3), Cow::Borrowed("abc")));
        assert!(matches!(bound("", 0), Cow::Borrowed("")));
        let mut s = String::from("abc");
        bound_string(&mut s, 3);
        assert_eq!(s, "abc");
    }

    #[test]
    fn long_text_is_cut_with_the_count_of_bytes_left_out() {
        let text = "x".repeat(1000);
        let cut = bound(&text, 100);
        assert!(cut.len() <= 100, "{} bytes: {cut}", cut.len());
        assert!(cut.ends_with(" more bytes"), "{cut}");
        let kept = cut.find('…').unwrap();
        assert_eq!(&cut[..kept], "x".repeat(kept));
        assert_eq!(cut[kept..], format!("… {} more bytes", 1000 - kept));
        // One byte over the bound is cut too.
        let over = "y".repeat(101);
        assert_ne!(bound(&over, 100), over);
        assert!(bound(&over, 100).len() <= 100);
    }

    #[test]
    fn cuts_fall_on_char_boundaries() {
        // 'é' is 2 bytes, '€' 3, '🐳' 4: every bound between them must still give valid UTF-8
        // and count the bytes left out exactly.
        let text = "é€🐳".repeat(50);
        for max in 0..text.len() + 2 {
            let cut = bound(&text, max);
            if text.len() <= max {
                assert_eq!(cut, text);
                continue;
            }
            let kept = cut.rfind('…').unwrap();
            assert!(text.starts_with(&cut[..kept]), "max {max}");
            assert_eq!(
                cut[kept..],
                format!("… {} more bytes", text.len() - kept),
                "max {max}"
            );
            let reserve = format!("… {} more bytes", text.len()).len();
            if max >= reserve {
                assert!(cut.len() <= max, "max {max}: {} bytes", cut.len());
            }
            let mut s = text.clone();
            bound_string(&mut s, max);
            assert_eq!(s, cut, "in place, max {max}");
        }
    }

    #[test]
    fn echo_quotes_and_bounds_one_value() {
        assert_eq!(echo("ab\"c").to_string(), r#""ab\"c""#);
        assert_eq!(format!("{:?}", echo("x")), "\"x\"");
        let long = "é".repeat(1000);
        let shown = echo(&long).to_string();
        assert!(shown.len() <= ECHO_BYTES + 2, "{} bytes", shown.len());
        assert!(shown.starts_with("\"éé"), "{shown}");
        let kept = shown.rfind('"').unwrap() - 1;
        assert!(shown.ends_with(&format!("\"… {} more bytes", 2000 - kept)));
    }

    #[test]
    fn a_quoted_error_is_bounded() {
        let e = format!("amount {:?} is not a number", "9".repeat(100_000));
        let m = message(&e);
        assert!(m.len() <= MESSAGE_BYTES);
        assert!(m.starts_with("amount \"999"));
        assert!(m.ends_with(" more bytes"));
        assert_eq!(message("short"), "short");
    }

    /// Regression: a requestNo holding a line end wrote a second, forged line into the log, and
    /// a NUL made the log a binary file for grep.
    #[test]
    fn a_log_field_escapes_control_characters_and_stays_bounded() {
        assert!(matches!(log_field("R-123 é"), Cow::Borrowed("R-123 é")));
        assert_eq!(log_field("x\n2026 ERROR forged"), "x\\n2026 ERROR forged");
        assert_eq!(log_field("a\u{0}b\r\t"), "a\\0b\\r\\t");
        let long = format!("y\n{}", "y".repeat(1000));
        let field = log_field(&long);
        assert!(
            !field.contains('\n') && field.contains("more bytes"),
            "{field}"
        );
    }

    /// Regression: the parser says nothing when the text ends after `key =`, so a scenario was
    /// refused with an empty reason. Every refusal has words.
    #[test]
    fn a_toml_refusal_always_has_a_reason() {
        for (text, expected) in [
            ("seed = ", "a value is missing after `=`"),
            ("x =", "a value is missing after `=`"),
            (
                "[[rule]]\nname = \"a\"\ncode = ",
                "a value is missing after `=`",
            ),
            ("x = \n", "string"),
            ("x = [1,", ""),
            ("[rule", ""),
        ] {
            let error = toml::from_str::<toml::Table>(text).unwrap_err();
            let reason = toml_reason(text, &error);
            assert!(!reason.trim().is_empty(), "{text:?}: {error}");
            assert!(reason.contains(expected), "{text:?}: {reason:?}");
        }
    }
}
