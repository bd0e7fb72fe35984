//! The base of the links the simulator hands to partners (the seller authorization page
//! `{base}/authorize/{token}` of whalet-platform and Infinia Pay, and the `fileUrl` of
//! `POST /file/upload`): one rule for every surface.
//!
//! `[platform] public_url` when configured (used as written, less a trailing `/`: the
//! configuration refused it at load unless it is an absolute web URL ending with its path,
//! `crate::config::platform::check_public_url`); otherwise `http://` + the request's `Host` header when
//! it is a plain `host[:port]` (a DNS name, an IPv4 address or a bracketed IPv6 address; no
//! path, query, userinfo or spaces, so a crafted `Host` cannot steer the link elsewhere on the
//! page); otherwise the address the client's connection reached, or [`FALLBACK`] for a request
//! made in-process. Forwarding headers (`X-Forwarded-Host`, `-Proto`) are not
//! read: a client could set them freely, and behind a proxy `public_url` says the public address.

use crate::http::SimRequest;

/// The base when neither `public_url`, a usable `Host` nor a connection says one (describe mode,
/// in-process requests): the serve command's default address (`--addr 127.0.0.1:8080`).
pub const FALLBACK: &str = "http://127.0.0.1:8080";

/// The base URL (no trailing `/`) for links in the reply to `req`.
pub fn base_url(req: &SimRequest, public_url: Option<&str>) -> String {
    if let Some(url) = public_url.map(|u| u.trim().trim_end_matches('/')) {
        if !url.is_empty() {
            return url.to_owned();
        }
    }
    match req
        .header("host")
        .map(str::trim)
        .filter(|h| is_authority(h))
    {
        Some(host) => format!("http://{host}"),
        None => req
            .local_addr
            .map_or_else(|| FALLBACK.to_owned(), |at| format!("http://{at}")),
    }
}

/// Whether `text` is a bare `host[:port]`: a DNS name or IPv4 address (letters, digits, `-`, `.`)
/// or a bracketed IPv6 address, then optionally `:` and a port 1–65535.
pub fn is_authority(text: &str) -> bool {
    let (host, port) = match text.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, rest)) if addr.parse::<std::net::Ipv6Addr>().is_ok() => (None, rest),
            _ => return false,
        },
        None => {
            let (host, port) = text.split_at(text.find(':').unwrap_or(text.len()));
            (Some(host), port)
        }
    };
    let host_ok = host.is_none_or(is_host_name);
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u16>().ok())
            .is_some_and(|p| p != 0);
    host_ok && port_ok
}

/// A DNS name or IPv4 address: dot-separated labels of letters, digits and inner `-`.
fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> SimRequest {
        SimRequest {
            method: "POST".into(),
            path: "/api/v1/account-binding/request".into(),
            query: None,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: Default::default(),
            too_large: false,
            local_addr: None,
        }
    }

    #[test]
    fn a_plain_host_and_port_is_used() {
        for host in [
            "127.0.0.1:18282",
            "localhost",
            "whalet-sim:8080",
            "sim.example.com",
            "[::1]:8080",
            "[2001:db8::1]",
        ] {
            assert_eq!(
                base_url(&request(&[("host", host)]), None),
                format!("http://{host}"),
                "{host}"
            );
        }
    }

    #[test]
    fn anything_else_in_host_falls_back() {
        for host in [
            "",
            "evil.example/x?y=",
            "evil.example?y=1",
            "user@evil.example",
            "evil.example#x",
            "a b",
            "host:0",
            "host:65536",
            "host:80:80",
            "host:",
            "host:+80",
            "[::1",
            "[nothost]:80",
            "[::1]x",
            "-bad.example",
            "a..b",
            "ex\u{e4}mple.com",
        ] {
            assert_eq!(
                base_url(&request(&[("host", host)]), None),
                FALLBACK,
                "{host:?}"
            );
        }
        assert_eq!(base_url(&request(&[]), None), FALLBACK);
        // Over a connection, the address it reached stands in for a missing or unusable Host.
        let mut reached = request(&[("host", "evil.example/x?y=")]);
        reached.local_addr = Some(([127, 0, 0, 1], 18282).into());
        assert_eq!(base_url(&reached, None), "http://127.0.0.1:18282");
    }

    #[test]
    fn forwarding_headers_are_not_trusted_and_public_url_wins() {
        let forwarded = request(&[
            ("host", "127.0.0.1:9000"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(base_url(&forwarded, None), "http://127.0.0.1:9000");
        assert_eq!(
            base_url(&forwarded, Some("https://sim.example.com/")),
            "https://sim.example.com"
        );
        assert_eq!(base_url(&forwarded, Some(" ")), "http://127.0.0.1:9000");
    }
}
