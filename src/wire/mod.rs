//! Wire schemes: how each surface's bytes become typed values and back. Only this module
//! imports crypto crates (through `crypto.rs` and `keys.rs`); handlers never see hex or Base64.

pub mod crypto;
pub mod infinia;
pub mod keys;
pub mod pockyt;
pub mod ssh;
pub mod upload_token;
pub mod whalet;

use serde::{Deserialize, Serialize};

/// Letter case of hex written by the simulator. Input is accepted in either case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HexCase {
    /// `0-9a-f`, what Apache Commons `Hex.encodeHexString` and most Java helpers write.
    #[default]
    Lower,
    Upper,
}

impl HexCase {
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            HexCase::Lower => hex::encode(bytes),
            HexCase::Upper => hex::encode_upper(bytes),
        }
    }
}
