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

/// Why `bytes` are not JSON, in words: the parser's error, unless they start with a UTF-8 byte
/// order mark (Windows and .NET writers add one), which the parser reports only as "expected
/// value at line 1 column 1". JSON text exchanged between systems has none (RFC 8259, 8.1).
pub fn not_json(bytes: &[u8], e: &serde_json::Error) -> String {
    if bytes.starts_with(BYTE_ORDER_MARK.as_bytes()) {
        return format!(
            "{}, which JSON sent over the network must not have; send the JSON without it",
            byte_order_mark()
        );
    }
    e.to_string()
}

/// `text` as a JSON value, with each number beyond the range of a double (`1e400`, `-1e309`, an
/// integer of 400 digits: valid JSON, RFC 8259 §6 sets no range, and Jackson's `BigDecimal` or
/// PHP's `json_decode` read it) as its text, a string, where serde_json (no
/// `arbitrary_precision`) refuses the whole text, "number out of range". A surface then reads it
/// as it reads every number a double would not keep as written (an exponent's, kept as its
/// text by [`crate::money::keep_number_texts`]): an ignored field stays ignored, a field read as
/// an amount is refused naming that text. Only a text serde refuses is scanned again; a text that
/// is not JSON for another reason gets serde's error, at its position in the text sent.
pub fn json_value(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    let refused = match serde_json::from_str(text) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let huge = huge_numbers(text);
    if huge.is_empty() {
        return Err(refused);
    }
    let with = |write: &dyn Fn(&str) -> String| {
        let mut out = String::with_capacity(text.len() + 2 * huge.len());
        let mut at = 0;
        for range in &huge {
            out.push_str(&text[at..range.start]);
            out.push_str(&write(&text[range.clone()]));
            at = range.end;
        }
        out.push_str(&text[at..]);
        out
    };
    serde_json::from_str(&with(&|number| format!("\"{number}\""))).map_err(|e| {
        // Another fault too: named where it is in the text sent, each huge number written as
        // a small one of the same length so that no position moves.
        let padded = with(&|number| format!("0{}", " ".repeat(number.len() - 1)));
        serde_json::from_str::<serde_json::Value>(&padded)
            .err()
            .unwrap_or(e)
    })
}

/// The byte ranges of the numbers in the JSON text `text` (outside strings) that a double does
/// not hold: their value is infinite as an `f64`, the test serde_json's refusal makes.
fn huge_numbers(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let (mut strings, mut at) = (JsonStrings::default(), 0);
    while at < bytes.len() {
        let b = bytes[at];
        if !strings.holds(b) && (b == b'-' || b.is_ascii_digit()) {
            // A number holds no quote or backslash: skipping it leaves the strings' state as is.
            let end = bytes[at..]
                .iter()
                .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .map_or(bytes.len(), |n| at + n);
            if text[at..end].parse::<f64>().is_ok_and(f64::is_infinite) {
                found.push(at..end);
            }
            at = end;
            continue;
        }
        at += 1;
    }
    found
}

/// Where the strings of a JSON text are, read byte by byte: [`JsonStrings::holds`] says whether
/// each byte, fed in order, belongs to a string (its quotes included), escapes read as JSON
/// reads them. For scans of text already known to be JSON (one value), which must leave what
/// is inside its strings as sent.
#[derive(Debug, Default)]
pub struct JsonStrings {
    inside: bool,
    escaped: bool,
}

impl JsonStrings {
    /// Whether `b`, the text's next byte, belongs to a string.
    pub fn holds(&mut self, b: u8) -> bool {
        if self.inside {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.inside = false,
                _ => {}
            }
            true
        } else {
            self.inside = b == b'"';
            self.inside
        }
    }
}

/// The UTF-8 byte order mark, U+FEFF.
pub const BYTE_ORDER_MARK: &str = "\u{feff}";

/// What every refusal of a text that starts with [`BYTE_ORDER_MARK`] says first.
pub fn byte_order_mark() -> &'static str {
    "it starts with a UTF-8 byte order mark (bytes EF BB BF)"
}

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
    /// `bytes` as hex in this case (`const_hex`: a table and SIMD instead of `hex::encode`'s one
    /// `char` at a time, a visible share of a request's CPU outside its crypto).
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            HexCase::Lower => const_hex::encode(bytes),
            HexCase::Upper => const_hex::encode_upper(bytes),
        }
    }
}

/// The first character of `text` that `valid` refuses, and how a refusal names it: `invalid
/// character 'é' at position 0`, the character as the partner sent it (escaped as Rust's
/// `{:?}` escapes it: `'\r'`, `'\u{200b}'`) and its position counted in characters from 0, as
/// the partner's own string indexes count (Java, Python; not the UTF-8 bytes). The one wording
/// of a character a text may not hold: Infinia's Base64 and Pockyt's `verifySign` use it, and
/// the Whalet surface's hex fields (`wire::whalet::decode_hex`).
pub(crate) fn invalid_character(
    text: &str,
    valid: impl Fn(char) -> bool,
) -> Option<(char, String)> {
    let (index, c) = text.chars().enumerate().find(|(_, c)| !valid(*c))?;
    Some((c, format!("invalid character {c:?} at position {index}")))
}

/// The bytes of hex `text`, or what is wrong with it: the first character that is not a hex
/// digit and its position ([`invalid_character`]), before any length, so that a trailing `\n`
/// or a space is named as such, not as an odd length; else the odd length. The one reading of
/// a hex field a partner sends (the Whalet envelope's, the upload token).
pub fn hex_text(text: &str) -> Result<Vec<u8>, String> {
    hex_to_bytes(text.as_bytes()).map_err(|_| {
        match invalid_character(text, |c| c.is_ascii_hexdigit()) {
            Some((_, why)) => why,
            None => format!("odd length {}", text.len()),
        }
    })
}

/// Hex (either case) to bytes, with the errors of `hex::decode`. Valid text goes through
/// `const_hex` (SIMD where the CPU has it); `hex` decoded it a character at a time, about 5 µs of a
/// Whalet request's signature and body. Text that starts with `0x` (which `const_hex` would read
/// as a prefix, and the wire does not allow) and text that fails take `hex`'s own path, so the
/// errors partners read are unchanged.
pub fn hex_to_bytes(text: &[u8]) -> Result<Vec<u8>, hex::FromHexError> {
    if !matches!(text, [b'0', b'x' | b'X', ..]) {
        if let Ok(bytes) = const_hex::decode(text) {
            return Ok(bytes);
        }
    }
    hex::decode(text)
}

#[cfg(test)]
mod hex_tests {
    use super::{hex_to_bytes, HexCase};

    /// The fast paths agree with the `hex` crate, byte for byte and error for error, on every
    /// length up to 300 bytes in both cases and mixed, and on malformed text (a bad character
    /// deep in a long run, where `const_hex` works in SIMD blocks; a `0x` it would take as a
    /// prefix).
    #[test]
    fn the_fast_hex_paths_agree_with_the_hex_crate() {
        let bytes: Vec<u8> = (0..300u32).map(|i| (i * 167 + 13) as u8).collect();
        for n in 0..=bytes.len() {
            let b = &bytes[..n];
            assert_eq!(HexCase::Lower.encode(b), hex::encode(b));
            assert_eq!(HexCase::Upper.encode(b), hex::encode_upper(b));
            let upper = hex::encode_upper(b);
            assert_eq!(hex_to_bytes(upper.as_bytes()), Ok(b.to_vec()));
            let mixed: String = hex::encode(b)
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 3 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            assert_eq!(hex_to_bytes(mixed.as_bytes()), Ok(b.to_vec()));
        }
        let mut deep = hex::encode(&bytes);
        deep.replace_range(401..402, "g");
        let deep = deep.as_str();
        for bad in ["abc", "zz", "0g", "a", "00ff 0", "é0", "0x00", "0X00", deep] {
            assert_eq!(hex_to_bytes(bad.as_bytes()), hex::decode(bad), "{bad:?}");
            assert!(hex_to_bytes(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}
