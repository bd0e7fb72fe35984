//! Serde helpers for what only a snapshot or the data directory carries: uploaded files' bytes
//! and a few run-time fields that `GET /__sim/state` does not show. They are written only inside
//! [`full`] (the snapshot writer), so the state views stay as they were; reading accepts them
//! whenever present.

use std::cell::Cell;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serializer};

thread_local! {
    static FULL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the fields that only a snapshot carries switched on (on this thread).
pub fn full<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            FULL.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(FULL.with(|c| c.replace(true)));
    f()
}

/// `skip_serializing_if`: true outside [`full`].
pub fn omit<T>(_: &T) -> bool {
    !FULL.with(Cell::get)
}

/// Bytes as Base64 text.
pub fn bytes_b64<T: AsRef<[u8]>, S: Serializer>(bytes: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&STANDARD.encode(bytes.as_ref()))
}

/// Base64 text as a `Vec<u8>` holding no spare capacity: the decoder allocates for the longest
/// text's bytes, and an SFTP file read back (a snapshot, the data directory) is counted by its
/// allocation against `[infinia] sftp_max_bytes` (`sftp::fs::bytes_held`), which must then be
/// its size, as for a file closed over SFTP.
pub fn vec_b64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    let mut bytes = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
    bytes.shrink_to_fit();
    Ok(bytes)
}

/// Base64 text as `Bytes`.
pub fn bytes_from_b64<'de, D: Deserializer<'de>>(d: D) -> Result<bytes::Bytes, D::Error> {
    vec_b64(d).map(bytes::Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize, Deserialize, Default, PartialEq, Debug)]
    struct File {
        name: String,
        #[serde(
            default,
            skip_serializing_if = "omit",
            serialize_with = "bytes_b64",
            deserialize_with = "vec_b64"
        )]
        data: Vec<u8>,
    }

    #[test]
    fn bytes_are_written_only_in_full_mode_and_read_back() {
        let f = File {
            name: "a".into(),
            data: vec![0, 1, 255],
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap_or_default(),
            r#"{"name":"a"}"#
        );
        let text = full(|| serde_json::to_string(&f)).unwrap_or_default();
        assert_eq!(text, r#"{"name":"a","data":"AAH/"}"#);
        assert_eq!(serde_json::from_str::<File>(&text).ok(), Some(f));
        assert!(omit(&()), "full mode ends with the call");
    }

    /// Regression: a file read back from a snapshot or the data directory kept the decoder's
    /// spare capacity (a few bytes over its size for most sizes), so it counted more than its
    /// size against `[infinia] sftp_max_bytes`.
    #[test]
    fn bytes_read_back_hold_no_spare_capacity() {
        for len in [0, 1, 2, 999, 1000, 1001, 4096] {
            let f = File {
                name: "a".into(),
                data: vec![7; len],
            };
            let text = full(|| serde_json::to_string(&f)).unwrap_or_default();
            let back: File = serde_json::from_str(&text).unwrap_or_default();
            assert_eq!(back.data.len(), len);
            assert_eq!(back.data.capacity(), len, "{len} bytes");
        }
    }
}
