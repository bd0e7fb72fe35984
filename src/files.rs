//! The one bounded reader of every file a setting or a flag names (a key, a config, a contract
//! overlay, a scenario, a snapshot): a regular file (or, for some kinds, a pipe) of at most its
//! kind's limit, so a device or a runaway file is refused before it fills memory. Below every
//! module that reads such a file; it depends on nothing of the simulator.

use std::path::Path;

/// The largest file an `@path` setting reads (a key, a Pockyt token, an authorized_keys list):
/// an 8192-bit private key in PEM is under 7 KiB, so 64 KiB leaves room for many SSH keys.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// The largest config (`--config`), contract overlay (`--contract`) or scenario (`--scenario`)
/// file read: the largest shipped is under 64 KiB, so 4 MiB leaves room for a roster of
/// thousands of partners, and a device or a runaway file is refused before it fills memory.
pub const MAX_SETTINGS_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The largest snapshot file `serve --snapshot` reads: 256 MiB, the default
/// `[server] max_body_bytes_in_flight`, which is as large as the control plane's limit for a
/// snapshot body (`[server] control_body_limit_bytes`) can be set under the default budget. The
/// control plane's own default (1 MiB) would not do: `--snapshot` is the way to start from a
/// snapshot larger than that.
pub const MAX_SNAPSHOT_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// A kind of file the simulator reads whole ([`read_limited`]): what it is, named in a
/// refusal, the most of it read, and whether a pipe is read (`--config <(…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKind {
    /// What the file is, after "too large for": `a key or token file`.
    pub what: &'static str,
    /// The most bytes read; a larger file is refused.
    pub limit: u64,
    /// Whether a named pipe is read (a process substitution is one): a key's `@path` is not,
    /// since a pipe nothing writes to would hang the start without a word.
    pub pipe: bool,
}

impl FileKind {
    /// An `@path` setting: a key, a Pockyt token, an authorized_keys list.
    pub const KEY: Self = Self {
        what: "a key or token file",
        limit: MAX_KEY_FILE_BYTES,
        pipe: false,
    };
    /// `--config` / `WHALET_SIM_CONFIG`.
    pub const CONFIG: Self = Self::settings("a config file");
    /// `--contract` / `WHALET_SIM_CONTRACT` / `[contract] file`.
    pub const CONTRACT: Self = Self::settings("a contract file");
    /// `--scenario` / `WHALET_SIM_SCENARIO`.
    pub const SCENARIO: Self = Self::settings("a scenario file");
    /// `--snapshot` / `WHALET_SIM_SNAPSHOT`.
    pub const SNAPSHOT: Self = Self {
        what: "a snapshot file",
        limit: MAX_SNAPSHOT_FILE_BYTES,
        pipe: true,
    };

    /// A settings file a flag or a variable names (a pipe is read), under the settings limit.
    const fn settings(what: &'static str) -> Self {
        Self {
            what,
            limit: MAX_SETTINGS_FILE_BYTES,
            pipe: true,
        }
    }
}

/// The bytes of the file at `path`, one of `kind`: refused when it is a directory or a device
/// (`/dev/zero` would fill memory), a pipe unless `kind` reads one, or larger than its limit
/// (read no further than one byte past it). The one bounded reader of every file a setting
/// names; the error says what is wrong, and the caller names the file and the setting.
pub fn read_limited(path: &Path, kind: FileKind) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let file_type = std::fs::metadata(path)?.file_type();
    if !(file_type.is_file() || (kind.pipe && is_pipe(file_type))) {
        let why = if kind.pipe {
            "not a regular file or a pipe (a directory or device is not read)"
        } else {
            "not a regular file (a directory, pipe or device is not read)"
        };
        return Err(Error::new(ErrorKind::InvalidInput, why));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(kind.limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > kind.limit {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!(
                "larger than {} bytes, too large for {}",
                kind.limit, kind.what
            ),
        ));
    }
    Ok(bytes)
}

/// [`read_limited`], as UTF-8 text.
pub fn read_limited_text(path: &Path, kind: FileKind) -> std::io::Result<String> {
    String::from_utf8(read_limited(path, kind)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Whether `file_type` is a named pipe (what a shell's `<(…)` gives).
#[cfg(unix)]
fn is_pipe(file_type: std::fs::FileType) -> bool {
    std::os::unix::fs::FileTypeExt::is_fifo(&file_type)
}

/// Whether `file_type` is a named pipe: none is read where there are no Unix FIFOs.
#[cfg(not(unix))]
fn is_pipe(_: std::fs::FileType) -> bool {
    false
}
