//! Pages served to people: the hosted seller authorization page (`/authorize/{token}`) and the
//! dashboard (`/`, `/__sim/ui/`). Server-rendered HTML with a little script, no external assets;
//! pages are files beside their handler, embedded with `include_str!`.

pub mod authorize;
pub mod dashboard;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
