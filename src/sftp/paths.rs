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

/// The path of the report about upload `name` in the read-only folder `dir` (`kind`:
/// `error_file` or `result`): `{stem}_{kind}.csv` for a name ending in `.csv` (the ending's
/// case kept: `c.CSV` → `c_{kind}.CSV`), `{name}.{kind}.csv` for any other name (`c` →
/// `c.{kind}.csv`). No two upload names share a report (a `.csv` name's has `_` before `kind`,
/// any other name's `.`), so processing one upload never replaces or drops another's.
pub fn report_path(dir: &str, name: &str, kind: &str) -> String {
    let split = name.len().checked_sub(4).filter(|&at| {
        name.get(at..)
            .is_some_and(|end| end.eq_ignore_ascii_case(".csv"))
    });
    match split.and_then(|at| Some((name.get(..at)?, name.get(at..)?))) {
        Some((stem, ending)) => format!("{dir}/{stem}_{kind}{ending}"),
        None => format!("{dir}/{name}.{kind}.csv"),
    }
}

/// The error file's SFTP path for an uploaded file name.
pub fn error_file_path(name: &str) -> String {
    report_path(ERROR_DIR, name, "error_file")
}

/// The result report's SFTP path for an uploaded file name.
pub fn result_file_path(name: &str) -> String {
    report_path(RESULT_DIR, name, "result")
}

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

    /// The path of the report processing writes about upload `name` (`/error/…_error_file.csv`
    /// or `/result/…_result.csv`).
    pub fn report_path(self, name: &str) -> String {
        match self {
            Area::Infinia => error_file_path(name),
            Area::Platform => result_file_path(name),
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

/// The longest file name, in bytes, a partner's machine can store (`NAME_MAX` of Linux and
/// most POSIX file systems): an upload's name and the name of the report derived from it
/// ([`Area::report_path`]) must both fit, or a partner's `get` of either fails locally.
pub const NAME_MAX_BYTES: usize = 255;

/// Why `name` cannot be given to a new file in `area`'s `/upload` (the one check of every name a
/// file is created or renamed to): one `trade-details/query` would refuse as its `fileName`, so
/// the upload's status could never be read through the API, or one an SFTP client could not
/// list or fetch. A `\` (a Windows path separator: the API reads it as part of a path), a blank
/// name (the API reads it as no `fileName`, as it reads every blank field), one longer than the
/// API's limit ([`MAX_FILE_NAME_CHARS`]), one whose report's name would pass [`NAME_MAX_BYTES`]
/// (the name itself is shorter than its report's), one holding a control character (OpenSSH
/// `sftp` cannot list a folder holding a NUL in a name, and the error file named after it would
/// hold it too), or one that is not UTF-8: the SFTP library reads such bytes as U+FFFD
/// ([`NOT_UTF8`]), so two different names would land on one file and the listed name would
/// differ from the one written; a name holding U+FFFD itself is refused for the same reason.
pub fn refused_name(area: Area, name: &str) -> Option<String> {
    use crate::text::echo;
    let chars = name.chars().count();
    let report = area.report_path(name);
    let report_name = report.rsplit('/').next().unwrap_or_default();
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
    } else if report_name.len() > NAME_MAX_BYTES {
        Some(format!(
            "{} is {} bytes long (UTF-8), and the report processing writes about it, {}, would \
             be {} bytes; a file name has at most {NAME_MAX_BYTES} bytes on the partner's file \
             system (NAME_MAX), so that report could not be fetched: give a name at most {} \
             bytes long",
            echo(name),
            name.len(),
            echo(&report),
            report_name.len(),
            NAME_MAX_BYTES - (report_name.len() - name.len())
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

/// The endings of names the platform uses while a file is still being written.
const TEMPORARY_ENDINGS: [&str; 3] = [".part", ".tmp", ".filepart"];

/// True for names the platform uses while a file is still being written.
pub fn in_progress(name: &str) -> bool {
    name.starts_with('.') || temporary_ending(name).is_some()
}

/// The temporary ending of `name` (any case), if it has one.
fn temporary_ending(name: &str) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    TEMPORARY_ENDINGS
        .iter()
        .find(|s| lower.ends_with(**s))
        .map(|s| s.len())
}

/// Why a temporary name ([`in_progress`]) is never processed, and its final name to rename the
/// file to (`w.csv` for `w.csv.part` or `.w.csv`), for a message that tells a partner asking
/// about such a name what to do.
pub fn temporary_name_hint(name: &str) -> String {
    let mut stem = name.trim_start_matches('.');
    while let Some(n) = temporary_ending(stem) {
        stem = &stem[..stem.len() - n];
    }
    let stem = stem.trim_start_matches('.');
    let rename = match stem {
        "" => "rename the file to its final name".to_owned(),
        stem => format!("rename the file to its final name, such as {stem:?}"),
    };
    format!(
        "{name:?} is a temporary name (one that starts with \".\" or ends in {}), and a file \
         under a temporary name is never processed: {rename} (in /upload) once it is complete, \
         and ask about that name",
        TEMPORARY_ENDINGS.join(", ")
    )
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
        let longest = "x".repeat(NAME_MAX_BYTES - "_error_file.csv".len()) + ".csv";
        for name in ["a.csv", longest.as_str(), "é.csv", " a.csv"] {
            assert_eq!(refused_name(Area::Infinia, name), None, "{name}");
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
            let refused = refused_name(Area::Infinia, name).unwrap_or_default();
            assert!(refused.contains(why), "{name:.20}: {refused}");
        }
        assert!(refused_name(Area::Infinia, &too_long)
            .unwrap_or_default()
            .contains(&format!("at most {MAX_FILE_NAME_CHARS}")));
    }

    /// Regression: a 255-character name was accepted although its error file's name was 266
    /// characters, and a 255-character name of `é` is 510 bytes: a partner's `get` of either
    /// failed on Linux (NAME_MAX is 255 bytes). The name and its report must both fit.
    #[test]
    fn a_name_whose_report_would_not_fit_in_255_bytes_is_refused() {
        let cases = [
            // (area, longest accepted, its report's name)
            (Area::Infinia, "x".repeat(240) + ".csv", "_error_file.csv"),
            (Area::Infinia, "x".repeat(240), ".error_file.csv"),
            (Area::Platform, "x".repeat(244) + ".csv", "_result.csv"),
            (Area::Platform, "x".repeat(244), ".result.csv"),
        ];
        for (area, longest, ending) in cases {
            let report = area.report_path(&longest);
            let report_name = report.rsplit('/').next().unwrap_or_default();
            assert_eq!(report_name.len(), NAME_MAX_BYTES, "{report}");
            assert!(report_name.ends_with(ending), "{report}");
            assert_eq!(refused_name(area, &longest), None, "{area:?} {longest}");
            let one_more = format!("y{longest}");
            let why = refused_name(area, &one_more).unwrap_or_default();
            assert!(
                why.contains(&format!("{} bytes long", one_more.len()))
                    && why.contains("would be 256 bytes")
                    && why.contains(&format!("at most {NAME_MAX_BYTES} bytes"))
                    && why.contains(&format!("at most {} bytes long", longest.len())),
                "{why}"
            );
        }
        // Bytes, not characters: 121 `é` (242 bytes) and `.csv` make a 257-byte error file.
        let accented = "é".repeat(120) + ".csv";
        assert_eq!(refused_name(Area::Infinia, &accented), None);
        let why = refused_name(Area::Infinia, &format!("é{accented}")).unwrap_or_default();
        assert!(
            why.contains("246 bytes long") && why.contains("would be 257 bytes"),
            "{why}"
        );
    }

    #[test]
    fn temporary_names_are_in_progress() {
        for name in ["a.csv.part", "a.csv.TMP", ".a.csv", "a.filepart"] {
            assert!(in_progress(name), "{name}");
        }
        assert!(!in_progress("a.csv"));
    }
}
