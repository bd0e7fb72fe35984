//! Dotted field paths in a JSON body: reading, filling, moving and rewriting status words.
//!
//! A path is a list of object keys separated by `.` (`payee.bankName`). Where a step meets an
//! array, the rest of the path applies to every element, so `records.amount` names the `amount`
//! of each record. A rename moves a field within the deepest object both paths share (a field
//! never moves out of its array element).

use serde_json::{Map, Value};

/// Splits a path into its keys, or says why it is not one.
pub fn parse(path: &str) -> Result<Vec<&str>, String> {
    let keys: Vec<&str> = path.split('.').collect();
    if path.is_empty()
        || keys
            .iter()
            .any(|k| k.is_empty() || k.chars().any(char::is_whitespace))
    {
        return Err(format!(
            "{path:?} is not a field path (keys joined by `.`, no empty key, no spaces)"
        ));
    }
    Ok(keys)
}

fn keys(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

/// The first path among `paths` that is missing (absent or null) from `body`: in every
/// element where the path crosses an array.
pub fn first_missing<'a>(body: &Value, paths: &'a [String]) -> Option<&'a str> {
    paths
        .iter()
        .find(|p| missing(body, &keys(p)))
        .map(String::as_str)
}

fn missing(v: &Value, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return v.is_null();
    };
    match v {
        Value::Array(items) => items.iter().any(|i| missing(i, path)),
        Value::Object(map) => map.get(*first).is_none_or(|c| missing(c, rest)),
        _ => true,
    }
}

/// Sets `path` to `value` where it is absent or null (objects on the way are created).
/// Returns whether anything was filled.
pub fn fill(v: &mut Value, path: &str, value: &Value) -> bool {
    place(v, &keys(path), value, false)
}

/// Sets `path` to `value`, replacing what is there. Returns whether anything changed.
pub fn set(v: &mut Value, path: &str, value: &Value) -> bool {
    place(v, &keys(path), value, true)
}

fn place(v: &mut Value, path: &[&str], value: &Value, overwrite: bool) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    match v {
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, i| place(i, path, value, overwrite) | acc),
        Value::Object(map) => {
            if rest.is_empty() {
                let there = map.get(*first).is_some_and(|c| !c.is_null());
                if there && (!overwrite || map.get(*first) == Some(value)) {
                    return false;
                }
                map.insert((*first).to_owned(), value.clone());
                return true;
            }
            let child = map
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if child.is_null() {
                *child = Value::Object(Map::new());
            }
            place(child, rest, value, overwrite)
        }
        _ => false,
    }
}

/// Moves the field at `from` to `to` (see the module's note on arrays). Returns whether a
/// field moved.
pub fn rename(v: &mut Value, from: &str, to: &str) -> bool {
    move_field(v, &keys(from), &keys(to))
}

fn move_field(v: &mut Value, from: &[&str], to: &[&str]) -> bool {
    match v {
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, i| move_field(i, from, to) | acc),
        Value::Object(map) => {
            if from.len() > 1 && to.len() > 1 && from[0] == to[0] {
                return map
                    .get_mut(from[0])
                    .is_some_and(|c| move_field(c, &from[1..], &to[1..]));
            }
            match take(v, from) {
                Some(value) => place(v, to, &value, true),
                None => false,
            }
        }
        _ => false,
    }
}

fn take(v: &mut Value, path: &[&str]) -> Option<Value> {
    let (first, rest) = path.split_first()?;
    let map = v.as_object_mut()?;
    if rest.is_empty() {
        return map.shift_remove(*first);
    }
    take(map.get_mut(*first)?, rest)
}

/// Every path of `v` as an overlay names it: each object key, joined by `.`, arrays crossed
/// (so `records.amount` for the `amount` of any record). Paths of objects are included too.
pub fn all_paths(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    fn walk(v: &Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| walk(i, prefix, out)),
            Value::Object(map) => {
                for (key, child) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(child, &path, out);
                    out.insert(path);
                }
            }
            _ => {}
        }
    }
    walk(v, "", out);
}

/// Whether a key holds a status word: `status`, or a key ending in `Status` or `_status`.
pub fn is_status_key(key: &str) -> bool {
    key == "status" || key.ends_with("Status") || key.ends_with("_status")
}

/// Rewrites status words: every string value of a status key (at any depth) that is a key of
/// `words` becomes its value. Returns whether anything changed.
pub fn rewrite_status(v: &mut Value, words: &dyn Fn(&str) -> Option<String>) -> bool {
    match v {
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, i| rewrite_status(i, words) | acc),
        Value::Object(map) => {
            let mut changed = false;
            for (key, child) in map.iter_mut() {
                if is_status_key(key) {
                    if let Some(new) = child.as_str().and_then(words) {
                        *child = Value::String(new);
                        changed = true;
                        continue;
                    }
                }
                changed |= rewrite_status(child, words);
            }
            changed
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renames_move_fields_inside_array_elements_and_across_objects() {
        let mut v = json!({"records": [{"amt": 1}, {"amt": 2}], "payee": {"name": "a"}});
        assert!(rename(&mut v, "records.amt", "records.amount"));
        assert!(rename(&mut v, "payee.name", "beneficiary.fullName"));
        assert_eq!(
            v,
            json!({"records": [{"amount": 1}, {"amount": 2}], "payee": {}, "beneficiary": {"fullName": "a"}})
        );
        assert!(!rename(&mut v, "nothing.here", "x"));
    }

    #[test]
    fn missing_fill_and_status_words() {
        let mut v =
            json!({"a": {"b": null}, "list": [{"status": "SUCCESS"}, {"payStatus": "FAILED"}]});
        let required = vec!["a.c".to_owned(), "a.b".to_owned()];
        assert_eq!(first_missing(&v, &required), Some("a.c"));
        assert!(fill(&mut v, "a.b", &json!("x")));
        assert!(!fill(&mut v, "a.b", &json!("y")));
        assert_eq!(v["a"]["b"], "x");
        let words = |w: &str| (w == "SUCCESS").then(|| "SUCCEEDED".to_owned());
        assert!(rewrite_status(&mut v, &words));
        assert_eq!(v["list"][0]["status"], "SUCCEEDED");
        assert_eq!(v["list"][1]["payStatus"], "FAILED");
        assert!(parse("a..b").is_err());
        let mut all = std::collections::BTreeSet::new();
        all_paths(
            &json!({"r": [{"x": 1}, {"y": {"z": 2}}], "k": "v"}),
            &mut all,
        );
        assert_eq!(
            all.into_iter().collect::<Vec<_>>(),
            ["k", "r", "r.x", "r.y", "r.y.z"]
        );
        assert!(parse("a b").is_err());
    }
}
