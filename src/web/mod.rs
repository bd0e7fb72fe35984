//! Pages served to people: the hosted seller authorization page (`/authorize/{token}`) and the
//! dashboard (`/`, `/__sim/ui/`). Server-rendered HTML with a little script, no external assets;
//! pages are files beside their handler, embedded with `include_str!`.

pub mod authorize;
pub mod dashboard;

pub use crate::text::markup as escape;

/// Fills a page template in one pass: each `{{name}}` found in `template` is replaced by its
/// value from `values` (a placeholder not listed stays as written). Inserted values are never
/// scanned again, so a value that contains `{{…}}` (a path, a partner's shop name) shows as it
/// is instead of being filled in turn.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let value = from[2..].find("}}").and_then(|end| {
            let name = &from[2..2 + end];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v, 2 + end + 2))
        });
        match value {
            Some((value, used)) => {
                out.push_str(value);
                rest = &from[used..];
            }
            None => {
                out.push_str("{{");
                rest = &from[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn a_filled_value_is_never_filled_again() {
        let page = fill(
            "<p>{{lede}}</p><i>{{view}}</i>{{other}}",
            &[("lede", "no page at /x{{view}}"), ("view", "missing")],
        );
        assert_eq!(page, "<p>no page at /x{{view}}</p><i>missing</i>{{other}}");
        assert_eq!(fill("{{a}}{{", &[("a", "}}")]), "}}{{");
    }
}
