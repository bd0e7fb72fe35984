//! Who may drive the control plane and read the dashboard. Both speak for the whole simulator
//! (reset, triggers, the decrypted journal), so two browser attacks are refused:
//! - DNS rebinding: a request whose `Host` is not a name of this simulator (loopback names, the
//!   address it is bound to, or `[server] allowed_hosts`) is refused, so a page on another
//!   domain that resolves to 127.0.0.1 cannot read the journal;
//! - cross-site requests: a state-changing request that carries an `Origin` other than the
//!   simulator's own is refused, so a page on another origin cannot reset state or fire
//!   triggers (browsers send `Origin` even with `no-cors`). Clients that are not browsers
//!   (curl, the CLI, test suites) send no `Origin` and are not affected.

use std::net::{IpAddr, SocketAddr};

use serde_json::json;

use crate::core::Core;
use crate::http::{SimRequest, SimResponse};

/// The refusal of a request the control plane or the dashboard must not serve, if any.
pub fn refuse(core: &Core, req: &SimRequest, local: SocketAddr) -> Option<SimResponse> {
    let host = req.header("host").unwrap_or("");
    if !host.is_empty() && !host_allowed(host, local, &core.config().server.allowed_hosts) {
        return Some(forbidden(format!(
            "Host {host:?} is not a name of this simulator; add it to [server] allowed_hosts to reach the control plane and dashboard by that name"
        )));
    }
    let changes_state = !matches!(req.method.as_str(), "GET" | "HEAD" | "OPTIONS");
    if let (true, Some(origin)) = (changes_state, req.header("origin")) {
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        if authority.is_empty() || !authority.eq_ignore_ascii_case(host) {
            return Some(forbidden(format!(
                "cross-site request refused: Origin {origin:?} is not this simulator (Host {host:?})"
            )));
        }
    }
    None
}

/// `host[:port]` names this simulator.
fn host_allowed(host: &str, local: SocketAddr, allowed: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        if ip.is_loopback() || (ip == local.ip() && !local.ip().is_unspecified()) {
            return true;
        }
    }
    allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(name) || a.eq_ignore_ascii_case(host))
}

fn forbidden(message: String) -> SimResponse {
    SimResponse::json_value(403, &json!({ "error": message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_the_bound_address_and_listed_names_are_allowed() {
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let none: Vec<String> = Vec::new();
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST",
            "[::1]:8080",
            "127.0.0.2",
        ] {
            assert!(host_allowed(host, local, &none), "{host}");
        }
        for host in ["evil.example:8080", "10.0.0.1:8080", "[2001:db8::1]:8080"] {
            assert!(!host_allowed(host, local, &none), "{host}");
        }
        let lan: SocketAddr = "10.0.0.1:8080".parse().unwrap();
        assert!(host_allowed("10.0.0.1:8080", lan, &none));
        let listed = vec!["sim.internal".to_owned()];
        assert!(host_allowed("sim.internal:8080", local, &listed));
        assert!(host_allowed("anything", local, &["*".to_owned()]));
    }
}
