//! Paths and attributes of the SFTP folders: `/`, `/upload` and the read-only folder of what
//! the simulator writes back (`/error` for an Infinia app, `/result` for a whalet-platform
//! partner), files directly inside the last two; where each account's files live in its
//! tenant's state; the SFTP status replies the file system uses.

use std::collections::BTreeMap;

use russh_sftp::protocol::{FileAttributes, Status, StatusCode};
use russh_sftp::server::StatusReply;

use super::trade_details::MAX_FILE_NAME_CHARS;
use crate::store::infinia::{StoredFile, Upload};
use crate::store::TenantState;

pub const UPLOAD_DIR: &str = "/upload";
pub const ERROR_DIR: &str = "/error";
pub const RESULT_DIR: &str = "/result";

/// Whose folders a session sees: an Infinia app's (trade details) or a whalet-platform
/// partner's (trade materials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    Infinia,
    Platform,
}

impl Area {
    /// The read-only folder the simulator writes its reports to.
    pub fn out_dir(self) -> &'static str {
        match self {
            Area::Infinia => ERROR_DIR,
            Area::Platform => RESULT_DIR,
        }
    }

    /// What `/upload` takes, for messages.
    pub fn what(self) -> &'static str {
        match self {
            Area::Infinia => "trade details",
            Area::Platform => "trade materials",
        }
    }

    /// The files of this area in the tenant's state.
    pub fn files(self, t: &mut TenantState) -> &mut BTreeMap<String, StoredFile> {
        match self {
            Area::Infinia => &mut t.infinia.files,
            Area::Platform => &mut t.platform.files,
        }
    }

    /// The upload records of this area in the tenant's state.
    pub fn uploads(self, t: &mut TenantState) -> &mut BTreeMap<String, Upload> {
        match self {
            Area::Infinia => &mut t.infinia.uploads,
            Area::Platform => &mut t.platform.uploads,
        }
    }

    /// `(folder, name)` of a file path directly inside `/upload` or the out folder.
    pub fn split(self, path: &str) -> Option<(&str, &str)> {
        let (dir, name) = path.rsplit_once('/')?;
        let dir = if dir.is_empty() { "/" } else { dir };
        ([UPLOAD_DIR, self.out_dir()].contains(&dir) && !name.is_empty()).then_some((dir, name))
    }

    pub fn is_dir(self, path: &str) -> bool {
        ["/", UPLOAD_DIR, self.out_dir()].contains(&path)
    }
}

/// What the SFTP library reads in place of bytes of a name that are not UTF-8.
const NOT_UTF8: char = char::REPLACEMENT_CHARACTER;

/// Why `name` cannot be given to a new file in `/upload` (the one check of every name a file is
/// created or renamed to): one `trade-details/query` would refuse as its `fileName`, so the
/// upload's status could never be read through the API, or one an SFTP client could not list.
/// A `\` (a Windows path separator: the API reads it as part of a path), a blank name (the API
/// reads it as no `fileName`, as it reads every blank field), one longer than the API's limit
/// ([`MAX_FILE_NAME_CHARS`]), one holding a control character (OpenSSH `sftp` cannot list a
/// folder holding a NUL in a name, and the error file named after it would hold it too), or one
/// that is not UTF-8: the SFTP library reads such bytes as U+FFFD ([`NOT_UTF8`]), so two
/// different names would land on one file and the listed name would differ from the one
/// written; a name holding U+FFFD itself is refused for the same reason.
pub fn refused_name(name: &str) -> Option<String> {
    use crate::text::echo;
    let chars = name.chars().count();
    if name.trim().is_empty() {
        Some(format!(
            "{} is blank; a file name in /upload cannot be (trade-details/query could not ask \
             for it): give the file a name",
            echo(name)
        ))
    } else if chars > MAX_FILE_NAME_CHARS {
        Some(format!(
            "{} is {chars} characters long; a file name in /upload has at most \
             {MAX_FILE_NAME_CHARS} (the most trade-details/query takes): give a shorter name",
            echo(name)
        ))
    } else if name.contains('\\') {
        Some(format!(
            "{} holds a \\; a file name in /upload cannot (the API takes it for a path)",
            echo(name)
        ))
    } else if let Some(c) = name.chars().find(|c| c.is_control()) {
        Some(format!(
            "{} holds the control character U+{:04X}; a file name in /upload cannot (an SFTP \
             client could not list the folder): give a name without control characters",
            echo(name),
            u32::from(c)
        ))
    } else if name.contains(NOT_UTF8) {
        Some(format!(
            "{} is not UTF-8 (U+FFFD stands where its bytes were not, or is in the name); a \
             file name in /upload is UTF-8 text: give the name in UTF-8",
            echo(name)
        ))
    } else {
        None
    }
}

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
        let split = |p| Area::Infinia.split(p);
        assert_eq!(split("/upload/a.csv"), Some((UPLOAD_DIR, "a.csv")));
        assert_eq!(split("/etc/passwd"), None);
        assert_eq!(split("/upload/sub/a.csv"), None);
        assert_eq!(split("/upload"), None);
        assert_eq!(split("/result/a.csv"), None);
        assert_eq!(
            Area::Platform.split("/result/a.csv"),
            Some((RESULT_DIR, "a.csv"))
        );
        assert_eq!(Area::Platform.split("/error/a.csv"), None);
    }

    /// Regression: SFTP created files whose names `trade-details/query` refuses (blank, longer
    /// than its `fileName` limit), so those uploads could never be queried; and names OpenSSH
    /// cannot list (a NUL) or that were not UTF-8 (read lossily, so two names met on one file).
    #[test]
    fn names_the_query_cannot_take_are_refused() {
        let longest = "x".repeat(MAX_FILE_NAME_CHARS - 4) + ".csv";
        for name in ["a.csv", longest.as_str(), "é.csv", " a.csv"] {
            assert_eq!(refused_name(name), None, "{name}");
        }
        let too_long = "x".repeat(5000) + ".csv";
        let one_over = "é".repeat(MAX_FILE_NAME_CHARS + 1);
        for (name, why) in [
            ("   ", "blank"),
            ("\t", "blank"),
            (too_long.as_str(), "5004 characters long"),
            (one_over.as_str(), "characters long"),
            ("a\\b.csv", "holds a \\"),
            ("n\0.csv", "control character U+0000"),
            ("\0", "control character U+0000"),
            ("a\nb.csv", "control character U+000A"),
            ("a\u{7f}.csv", "control character U+007F"),
            ("a\u{85}.csv", "control character U+0085"),
            ("\u{fffd}\u{fffd}.csv", "is not UTF-8"),
        ] {
            let refused = refused_name(name).unwrap_or_default();
            assert!(refused.contains(why), "{name:.20}: {refused}");
        }
        assert!(refused_name(&too_long)
            .unwrap_or_default()
            .contains(&format!("at most {MAX_FILE_NAME_CHARS}")));
    }

    #[test]
    fn temporary_names_are_in_progress() {
        for name in ["a.csv.part", "a.csv.TMP", ".a.csv", "a.filepart"] {
            assert!(in_progress(name), "{name}");
        }
        assert!(!in_progress("a.csv"));
    }
}
