//! Wire schemes: how each surface's bytes become typed values and back. Only this module
//! imports crypto crates (through `crypto.rs` and `keys.rs`); handlers never see hex or Base64.

/// A scheme's result codes: the enum, `ALL`, `as_str` (the wire spelling), `parse` and
/// `Display`, from one list of `Variant => "WIRE"` lines, so a code is spelled in one place.
macro_rules! wire_codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every code, in the documented order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// Every code as it is written on the wire, in the documented order.
            pub const WORDS: [&'static str; [$(stringify!($variant)),+].len()] = [$($text),+];

            /// The code as it is written on the wire.
            pub fn as_str(self) -> &'static str {
                Self::WORDS[self as usize]
            }

            /// The code written `text` on the wire.
            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.into_iter().find(|c| c.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A scheme's one error type: a code and the precise text the partner sees, written
/// `{code}: {text}`, with `new` and one shorthand constructor per `name => Variant` line.
macro_rules! wire_error {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { pub code: $code:ident, pub $text:ident: String }
        $( $short:ident => $variant:ident, )*
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            pub code: $code,
            pub $text: String,
        }

        impl $name {
            pub fn new(code: $code, $text: impl Into<String>) -> Self {
                Self {
                    code,
                    $text: $text.into(),
                }
            }
            $(
                pub fn $short($text: impl Into<String>) -> Self {
                    Self::new($code::$variant, $text)
                }
            )*
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}: {}", self.code, self.$text)
            }
        }

        impl std::error::Error for $name {}
    };
}

pub mod crypto;
pub mod infinia;
pub mod keys;
pub mod pockyt;
pub mod ssh;
pub mod upload_token;
pub mod whalet;

/// Helpers shared by the schemes' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::keys::PrivateKey;

    /// Fails, showing the whole text, unless `text` mentions `part`.
    #[track_caller]
    pub fn assert_mentions(text: &str, part: &str) {
        assert!(text.contains(part), "{text:?} does not mention {part:?}");
    }

    /// Two private keys from their PEM text: (the sender's, the receiver's).
    pub fn key_pair(sender: &str, receiver: &str) -> (PrivateKey, PrivateKey) {
        (
            PrivateKey::parse(sender).unwrap(),
            PrivateKey::parse(receiver).unwrap(),
        )
    }
}

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
