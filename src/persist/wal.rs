//! The check of a data dir's write-ahead log before SQLite opens the database. SQLite reads a
//! damaged log as shorter than it is, without a word: a log whose header is damaged as empty,
//! and a log with a damaged frame as ending just before it. The state the rest of the log held
//! is then gone, and since the simulator's first commit after the start checkpoints the log, it
//! is gone for good. A start therefore refuses, before SQLite reads anything:
//!
//! - a log whose header is damaged, or that is cut short inside its header;
//! - a log with a damaged frame followed by a later frame of the same log (same salts): damage
//!   in the middle, not the torn last write a crash leaves, which SQLite is right to drop;
//! - a database that keeps all its state in the log (a simulator stopped by `kill -9` before
//!   its first checkpoint: the database file holds only its header) when the log is missing or
//!   holds no committed frame: the state is lost, and SQLite would start a new, empty one.
//!
//! The format is SQLite's (<https://www.sqlite.org/fileformat2.html>, "The WAL File Format"):
//! a 32-byte header (magic, version, page size, checkpoint sequence, two salts, a checksum of
//! the first 24 bytes), then frames of a 24-byte header (page number, the database size in
//! pages after a commit frame, else 0, the salts, a cumulative checksum) and one page.

use std::io::Read;
use std::path::Path;

/// The size of the log's header and of a frame's header.
const HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// The log's magic numbers: big-endian checksums for the second, little-endian for the first.
const MAGIC_LE: u32 = 0x377f_0682;
const MAGIC_BE: u32 = 0x377f_0683;
/// The only log format version there is.
const VERSION: u32 = 3_007_000;

/// What [`read`] found in a log.
#[derive(Debug, PartialEq, Eq)]
pub struct Log {
    /// Frames up to and including the last commit frame whose checksum chain holds (what
    /// SQLite reads of the log).
    pub committed: usize,
    /// Whole frames in the file.
    pub frames: usize,
}

/// The checksum SQLite uses in the log: over 32-bit words read big- or little-endian, in pairs,
/// continuing from `(s0, s1)`.
fn checksum(data: &[u8], big_endian: bool, (mut s0, mut s1): (u32, u32)) -> (u32, u32) {
    let word = |b: &[u8]| {
        let b = [b[0], b[1], b[2], b[3]];
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    for pair in data.chunks_exact(8) {
        s0 = s0.wrapping_add(word(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

fn be(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads the log `bytes` ([`read_log`]).
#[cfg(test)]
pub fn read(bytes: &[u8]) -> Result<Log, String> {
    read_log(&mut &bytes[..])
}

/// Fills `buf` from `r`: how many bytes came (fewer only at the end of the log).
fn fill(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, String> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("it could not be read ({e})")),
        }
    }
    Ok(got)
}

/// Reads the log from `r`, one frame at a time: Err saying what is damaged, when SQLite would
/// silently read less of it than it holds (module docs).
pub fn read_log(r: &mut impl Read) -> Result<Log, String> {
    let mut header = [0u8; HEADER];
    let got = fill(r, &mut header)?;
    if got < HEADER {
        return Err(format!(
            "it is cut short inside its {HEADER}-byte header ({got} bytes)"
        ));
    }
    let magic = be(&header, 0);
    if magic != MAGIC_LE && magic != MAGIC_BE {
        return Err(format!(
            "its header is damaged (it does not start with a log's magic number, found \
             {magic:#010x})"
        ));
    }
    let big_endian = magic == MAGIC_BE;
    let page = be(&header, 8) as usize;
    let sum = checksum(&header[..24], big_endian, (0, 0));
    if be(&header, 4) != VERSION
        || !(512..=65536).contains(&page)
        || !page.is_power_of_two()
        || sum != (be(&header, 24), be(&header, 28))
    {
        return Err("its header is damaged (its checksum, version or page size is wrong)".into());
    }
    let salts = &header[16..24];
    let mut frame = vec![0u8; FRAME_HEADER + page];
    let mut chain = Some(sum);
    let (mut frames, mut committed, mut damaged) = (0, 0, None);
    while fill(r, &mut frame)? == frame.len() {
        frames += 1;
        let head = &frame[..FRAME_HEADER];
        let Some(previous) = chain else {
            // Past a damaged frame SQLite reads nothing more. A later frame of this same log
            // means the log goes on past the damage: its frames would be dropped with it.
            if &head[8..16] == salts {
                let n: usize = damaged.unwrap_or(0);
                return Err(format!(
                    "frame {n} is damaged and frame {frames} of the same log follows it: \
                     SQLite would read none of the frames from {n} on, and the state they hold \
                     would be lost"
                ));
            }
            continue;
        };
        let next = checksum(&head[..8], big_endian, previous);
        let next = checksum(&frame[FRAME_HEADER..], big_endian, next);
        if &head[8..16] != salts || next != (be(head, 16), be(head, 20)) {
            chain = None;
            damaged = Some(frames);
            continue;
        }
        chain = Some(next);
        if be(head, 4) != 0 {
            committed = frames;
        }
    }
    Ok(Log { committed, frames })
}

/// Whether the database file at `db_path` keeps its state in the log still: a database in WAL
/// mode whose file holds no schema version yet (only the header SQLite wrote when the mode was
/// set; every table and row went to the log).
fn state_in_log(db_path: &Path) -> bool {
    let mut head = [0u8; 100];
    let read = std::fs::File::open(db_path).and_then(|mut f| f.read_exact(&mut head));
    // Bytes 18 and 19: the read and write versions, 2 in WAL mode; 60: the user version (the
    // simulator's schema version, 0 before the first checkpoint).
    read.is_ok()
        && head.starts_with(b"SQLite format 3\0")
        && head[18] == 2
        && head[19] == 2
        && be(&head, 60) == 0
}

/// Refuses to open the database at `db_path` when its write-ahead log would lose state without
/// a word (module docs). Nothing is written.
pub fn check(db_path: &Path) -> Result<(), String> {
    let mut wal_path = db_path.as_os_str().to_owned();
    wal_path.push("-wal");
    let wal_path = std::path::PathBuf::from(wal_path);
    let log = match std::fs::metadata(&wal_path) {
        Ok(meta) if meta.is_file() && meta.len() > 0 => {
            let file = std::fs::File::open(&wal_path)
                .map_err(|e| format!("write-ahead log {}: {e}", wal_path.display()))?;
            let mut file = std::io::BufReader::with_capacity(64 * 1024, file);
            Some(read_log(&mut file).map_err(|why| {
                format!(
                    "write-ahead log {}: {why}. Put whalet-sim.db back from a copy together \
                     with its whalet-sim.db-wal; or, to start from what the database file \
                     holds without the log, move the log aside (what it held is then lost)",
                    wal_path.display()
                )
            })?)
        }
        _ => None,
    };
    if state_in_log(db_path) && log.as_ref().is_none_or(|l| l.committed == 0) {
        let found = match &log {
            None => "is missing or empty".to_owned(),
            Some(l) => format!("holds no committed frame ({} frames)", l.frames),
        };
        return Err(format!(
            "database {}: the file holds only its header (a simulator stopped before its \
             first checkpoint keeps every table in the write-ahead log), and the log {} {found}: \
             the state is lost. Put the data dir back from a copy that has both files, or \
             remove whalet-sim.db to start this data dir anew",
            db_path.display(),
            wal_path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with a table in WAL mode, with rows committed in `commits` transactions,
    /// copied (database and log) while its connection is open and no checkpoint has run: the
    /// files a simulator killed at that moment leaves. Returns the copy's database path.
    fn crashed_copy(dir: &Path, commits: usize) -> std::path::PathBuf {
        let live = dir.join("live.db");
        let conn = rusqlite::Connection::open(&live).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER, pad TEXT); PRAGMA user_version = 3;")
            .unwrap();
        for n in 0..commits {
            conn.execute(
                "INSERT INTO t VALUES (?1, ?2)",
                rusqlite::params![n as i64, "x".repeat(3000)],
            )
            .unwrap();
        }
        let copy = dir.join("copy.db");
        std::fs::copy(&live, &copy).unwrap();
        std::fs::copy(dir.join("live.db-wal"), dir.join("copy.db-wal")).unwrap();
        drop(conn);
        copy
    }

    fn wal(db: &Path) -> std::path::PathBuf {
        db.with_file_name(format!("{}-wal", db.file_name().unwrap().to_string_lossy()))
    }

    /// Rows SQLite reads from the copy (the independent reader of the log).
    fn rows(db: &Path) -> i64 {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap_or(-1)
    }

    /// An intact log as a crash leaves it passes and reads as SQLite reads it: every commit
    /// counted, and SQLite finds every row.
    #[test]
    fn an_intact_log_passes_and_counts_what_sqlite_reads() {
        let dir = tempfile::tempdir().unwrap();
        let db = crashed_copy(dir.path(), 5);
        let log = read(&std::fs::read(wal(&db)).unwrap()).unwrap();
        assert!(log.committed > 0 && log.committed <= log.frames, "{log:?}");
        assert_eq!(check(&db), Ok(()));
        assert_eq!(rows(&db), 5);
    }

    /// A damaged header, a log cut inside its header and a damaged frame with frames of the
    /// same log after it are refused (SQLite would read less without a word); a log whose last
    /// frame is torn (cut short) is the crash SQLite expects and passes.
    #[test]
    fn damage_that_sqlite_would_read_past_silently_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = crashed_copy(dir.path(), 5);
        let good = std::fs::read(wal(&db)).unwrap();
        let refused = |bytes: &[u8], says: &str| {
            std::fs::write(wal(&db), bytes).unwrap();
            let err = check(&db).unwrap_err();
            assert!(
                err.contains(says) && err.contains("move the log aside"),
                "{err}"
            );
        };
        let mut header = good.clone();
        header[20] ^= 0xff;
        refused(&header, "its header is damaged");
        refused(&good[..20], "cut short inside its 32-byte header");
        let mut frame = good.clone();
        frame[HEADER + FRAME_HEADER + 100] ^= 0xff;
        refused(
            &frame,
            "frame 1 is damaged and frame 2 of the same log follows it",
        );
        // The torn last frame of a crash: SQLite drops it, and so does the check.
        let page = be(&good, 8) as usize;
        std::fs::write(wal(&db), &good[..good.len() - page / 2]).unwrap();
        assert_eq!(check(&db), Ok(()));
        assert_eq!(rows(&db), 4);
    }

    /// A database that keeps its whole state in the log (its file only the header) is refused
    /// when the log is missing, or damaged at its start; the damage is named.
    #[test]
    fn a_database_whose_state_is_only_in_a_lost_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = crashed_copy(dir.path(), 2);
        assert!(state_in_log(&db), "the copy keeps its state in the log");
        let good = std::fs::read(wal(&db)).unwrap();
        std::fs::remove_file(wal(&db)).unwrap();
        let err = check(&db).unwrap_err();
        assert!(
            err.contains("is missing or empty") && err.contains("state is lost"),
            "{err}"
        );
        std::fs::write(wal(&db), &good[..HEADER]).unwrap();
        let err = check(&db).unwrap_err();
        assert!(err.contains("holds no committed frame"), "{err}");
        // A database checkpointed since (its file holds its schema) needs no log.
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.db");
        let conn = rusqlite::Connection::open(&plain).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER); PRAGMA user_version = 3;")
            .unwrap();
        drop(conn);
        assert!(!state_in_log(&plain));
        assert_eq!(check(&plain), Ok(()));
    }
}
