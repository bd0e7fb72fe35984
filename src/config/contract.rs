//! `[contract]`: contract overlays (docs/CONTRACTS.md).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// `[contract]`: the overlay every tenant gets, and overlays of single tenants.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractConfig {
    /// The overlay file for every tenant (`serve --contract` overrides it); none by default.
    pub file: Option<PathBuf>,
    /// Tenant (`provider:id`, e.g. `"whalet:202400000000001"`) → its own overlay file, which
    /// replaces `file` for that tenant.
    #[serde(default)]
    pub tenants: BTreeMap<String, PathBuf>,
}
