//! Paths and attributes of the SFTP folders: `/`, `/upload`, `/error`, files directly inside the
//! last two; the SFTP status replies the file system uses.

use russh_sftp::protocol::{FileAttributes, Status, StatusCode};
use russh_sftp::server::StatusReply;

use crate::store::infinia::StoredFile;

pub const UPLOAD_DIR: &str = "/upload";
pub const ERROR_DIR: &str = "/error";

/// True for names the platform uses while a file is still being written.
pub fn in_progress(name: &str) -> bool {
    name.starts_with('.')
        || [".part", ".tmp", ".filepart"]
            .iter()
            .any(|s| name.to_ascii_lowercase().ends_with(s))
}

/// Resolves `path` against `/` (the session's home): `.`/`..` handled, result absolute.
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `(folder, name)` of a file path directly inside `/upload` or `/error`.
pub fn split(path: &str) -> Option<(&str, &str)> {
    let (dir, name) = path.rsplit_once('/')?;
    let dir = if dir.is_empty() { "/" } else { dir };
    ([UPLOAD_DIR, ERROR_DIR].contains(&dir) && !name.is_empty()).then_some((dir, name))
}

pub fn is_dir(path: &str) -> bool {
    ["/", UPLOAD_DIR, ERROR_DIR].contains(&path)
}

pub fn dir_attrs() -> FileAttributes {
    FileAttributes {
        size: Some(0),
        permissions: Some(0o040_755),
        ..FileAttributes::empty()
    }
}

pub fn file_attrs(f: &StoredFile, read_only: bool) -> FileAttributes {
    FileAttributes {
        size: Some(f.size),
        permissions: Some(if read_only { 0o100_444 } else { 0o100_644 }),
        mtime: Some(u32::try_from(f.modified_at / 1000).unwrap_or(0)),
        atime: Some(u32::try_from(f.modified_at / 1000).unwrap_or(0)),
        ..FileAttributes::empty()
    }
}

pub fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

pub fn denied(why: &str) -> StatusReply {
    StatusCode::PermissionDenied.with_message(why)
}

pub fn missing(path: &str) -> StatusReply {
    StatusCode::NoSuchFile.with_message(format!("no such file: {path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_root() {
        assert_eq!(normalize("upload/../upload/./a.csv"), "/upload/a.csv");
        assert_eq!(normalize("../../etc/passwd"), "/etc/passwd");
        assert_eq!(normalize(""), "/");
        assert_eq!(split("/upload/a.csv"), Some((UPLOAD_DIR, "a.csv")));
        assert_eq!(split("/etc/passwd"), None);
        assert_eq!(split("/upload/sub/a.csv"), None);
        assert_eq!(split("/upload"), None);
    }

    #[test]
    fn temporary_names_are_in_progress() {
        for name in ["a.csv.part", "a.csv.TMP", ".a.csv", "a.filepart"] {
            assert!(in_progress(name), "{name}");
        }
        assert!(!in_progress("a.csv"));
    }
}
