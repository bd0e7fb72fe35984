//! `[contract]`: contract overlays (docs/CONTRACTS.md).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// `[contract]`: the overlay every tenant gets, and overlays of single tenants.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContractConfig {
    /// The overlay file for every tenant (`serve --contract` overrides it); none by default.
    pub file: Option<PathBuf>,
    /// Tenant (`provider:id`, e.g. `"whalet:202400000000001"`) → its own overlay file, which
    /// replaces `file` for that tenant.
    pub tenants: BTreeMap<String, PathBuf>,
    /// Check the reply and notification fields an overlay renames against the fields the
    /// simulator sends (`src/contract/fields.json`); `false` skips that check (for a field the
    /// simulator sends only in a state its examples never reach). Default: true.
    pub check_sent_fields: bool,
}

impl Default for ContractConfig {
    fn default() -> Self {
        Self {
            file: None,
            tenants: BTreeMap::new(),
            check_sent_fields: true,
        }
    }
}
