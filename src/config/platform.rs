//! The `[platform]` section of the configuration (placeholder until its issue lands).

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {}
