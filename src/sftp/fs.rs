//! One SFTP session's view of its account's folders: `/upload` (an Infinia app writes
//! trade-details files here, a whalet-platform partner trade-materials files) and the read-only
//! folder of reports to download (`/error` for an app, `/result` for a partner; see
//! [`Area`]). File bytes live in the account's tenant state. A file in `/upload` is handed to
//! processing only once complete: when its last write handle (of any session) is closed, or when
//! it is renamed to its final name; names ending in `.part`, `.tmp`, `.filepart` or starting with
//! `.` are in progress and never processed. A handle refers to the file it opened, wherever a
//! rename by any session moves it; once the file is removed, or the app reset or imported, a
//! write through the handle finds it gone ([`OpenFiles`]). A session that ends with a file still
//! open leaves it unprocessed (INCOMPLETE). SETSTAT can change the size of a file in `/upload`
//! (within the limits below; a complete file so changed is processed again); the permissions and
//! times it carries are accepted and not kept. The reports in the read-only folder can be
//! downloaded and removed, not written. A handle opened to append (SSH_FXF_APPEND) writes at
//! the end of the file, whatever offset it names. A folder is listed a page at a time
//! ([`READDIR_PAGE`]), so that a client's message limit is never reached.
//!
//! A reply that changes a file (close, remove, rename, SETSTAT) leaves once the change is
//! committed to the data directory, if there is one (as an HTTP reply does).
//!
//! Memory: an app holds at most `[infinia] sftp_max_files` files and `sftp_max_bytes` bytes,
//! counted as the bytes allocated ([`bytes_held`]), not the files' sizes: a truncated file gives
//! its allocation back, a growing file over-allocates only within the quota, and a closed file
//! is trimmed to its size. A reset replaces the app's state, dropping every file.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;

use super::open::{FileId, OpenFiles, Released};
use super::process;
use crate::clock::Millis;
use crate::core::Core;
use crate::store::infinia::StoredFile;
use crate::tenant::TenantId;

pub use super::paths::{Area, ERROR_DIR, RESULT_DIR, UPLOAD_DIR};

/// Bytes allocated for an app's SFTP files: what `[infinia] sftp_max_bytes` bounds.
pub fn bytes_held(files: &BTreeMap<String, StoredFile>) -> usize {
    files.values().map(|f| f.data.capacity()).sum()
}

/// A refused write: SFTP `Failure` with the reason.
fn refused(why: String) -> StatusReply {
    StatusCode::Failure.with_message(why)
}

/// The reason carried by a refusal (for the upload's record).
fn reply_text(reply: &StatusReply) -> String {
    reply
        .error_message
        .clone()
        .unwrap_or_else(|| format!("{:?}", reply.status_code))
}

/// The limits a write or a size change must stay within (`[infinia] sftp_max_file_bytes`,
/// `sftp_max_bytes`).
#[derive(Clone, Copy)]
struct Limits {
    max_file: usize,
    max_bytes: usize,
}

impl Limits {
    fn of(core: &Core) -> Self {
        let config = &core.infinia().apps.config;
        Self {
            max_file: config.sftp_max_file_bytes,
            max_bytes: config.sftp_max_bytes,
        }
    }
}

/// `path`'s file with room allocated for `end` bytes, refused past the file limit or the
/// account's quota. Grows geometrically (few copies while a file streams in) but never past
/// the file limit, and only as much as needed when the quota is near.
fn make_room<'a>(
    files: &'a mut BTreeMap<String, StoredFile>,
    path: &str,
    end: usize,
    Limits {
        max_file,
        max_bytes,
    }: Limits,
) -> Result<&'a mut StoredFile, StatusReply> {
    let used = bytes_held(files);
    let f = files.get_mut(path).ok_or_else(|| missing(path))?;
    if end > max_file {
        return Err(refused(format!(
            "files are limited to {max_file} bytes ([infinia] sftp_max_file_bytes)"
        )));
    }
    if end > f.data.capacity() {
        let others = used.saturating_sub(f.data.capacity());
        let roomy = f.data.capacity().saturating_mul(2).min(max_file).max(end);
        let capacity = if others.saturating_add(roomy) <= max_bytes {
            roomy
        } else {
            end
        };
        if others.saturating_add(capacity) > max_bytes {
            return Err(refused(format!(
                "the app's SFTP files would exceed {max_bytes} bytes ([infinia] sftp_max_bytes); remove files or reset the app"
            )));
        }
        f.data.reserve_exact(capacity.saturating_sub(f.data.len()));
    }
    Ok(f)
}

/// Sets `path`'s size (a SETSTAT size): cut, or extended with zero bytes within the limits, and
/// its allocation trimmed to the new size. True when a complete file (no handle writing it)
/// changed: like a rewrite, it is to be processed again.
fn resize(
    files: &mut BTreeMap<String, StoredFile>,
    path: &str,
    size: u64,
    limits: Limits,
    now: Millis,
) -> Result<bool, StatusReply> {
    if files.get(path).ok_or_else(|| missing(path))?.size == size {
        return Ok(false);
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let f = make_room(files, path, size, limits)?;
    f.data.resize(size, 0);
    f.data.shrink_to_fit();
    f.size = f.data.len() as u64;
    f.modified_at = now;
    Ok(!f.writing)
}

enum Open {
    File {
        file: FileId,
        write: bool,
        /// Opened with SSH_FXF_APPEND: every write goes to the end of the file, whatever
        /// offset it names.
        append: bool,
        /// A write through this handle was refused: on close the file is not processed.
        broken: Option<String>,
    },
    Dir {
        path: String,
        next: Listing,
    },
}

/// Where a directory handle's listing goes on: READDIR answers a folder a page at a time.
enum Listing {
    /// Nothing listed yet (the first page starts with `.` and `..`).
    Start,
    /// Listed up to this file name; the next page starts after it (so a file added or removed
    /// meanwhile neither repeats a name nor skips one still there).
    After(String),
    /// Everything listed: the next READDIR is EOF.
    Done,
}

/// Entries in one READDIR answer at most, as OpenSSH's sftp-server sends: OpenSSH's `sftp`
/// refuses a message over 256 KiB, which a whole folder answered at once can exceed (1,000
/// files with names of about 100 characters, each sent twice: name and `ls -l` line).
const READDIR_PAGE: usize = 100;

/// Bytes one READDIR answer carries at most, counted as each entry's name twice and 100 bytes
/// (its `ls -l` line and attributes): a page of very long names is cut short (a page always
/// has one entry).
const READDIR_BYTES: usize = 64 * 1024;

/// The entry's share of [`READDIR_BYTES`].
fn entry_bytes(name: &str) -> usize {
    name.len().saturating_mul(2).saturating_add(100)
}

/// The next page of `dir`'s files (after the name `after`, if any) with `room` entries at most;
/// and whether files are left after it.
fn page(
    files: &BTreeMap<String, StoredFile>,
    dir: &str,
    after: Option<&str>,
    room: usize,
    read_only: bool,
) -> (Vec<File>, bool) {
    use std::ops::Bound::{Excluded, Included, Unbounded};
    let prefix = format!("{dir}/");
    let start = match after {
        Some(name) => Excluded(format!("{prefix}{name}")),
        None => Included(prefix.clone()),
    };
    let mut names = files
        .range::<String, _>((start, Unbounded))
        .map_while(|(p, f)| Some((p.strip_prefix(&prefix)?, f)));
    let (mut page, mut bytes) = (Vec::new(), 0usize);
    for (name, f) in names.by_ref() {
        bytes = bytes.saturating_add(entry_bytes(name));
        page.push(File::new(name, file_attrs(f, read_only)));
        if page.len() >= room || bytes >= READDIR_BYTES {
            break;
        }
    }
    (page, names.next().is_some())
}

pub struct SftpFs {
    core: Core,
    open_files: Arc<OpenFiles>,
    tenant: TenantId,
    area: Area,
    handles: HashMap<String, Open>,
    next: u64,
    /// The connection it runs on: why the server closed it, for the files left open.
    conn: Option<Arc<super::stream::Conn>>,
}

use super::paths::{denied, dir_attrs, file_attrs, missing, ok, refused_name};
pub use super::paths::{in_progress, normalize};

impl SftpFs {
    pub fn new(core: Core, open_files: Arc<OpenFiles>, tenant: TenantId, area: Area) -> Self {
        Self {
            core,
            open_files,
            tenant,
            area,
            handles: HashMap::new(),
            next: 1,
            conn: None,
        }
    }

    /// The session runs on connection `conn`.
    pub(super) fn of_connection(mut self, conn: Arc<super::stream::Conn>) -> Self {
        self.conn = Some(conn);
        self
    }

    fn state<R>(
        &self,
        f: impl FnOnce(&mut crate::store::TenantState) -> R,
    ) -> Result<R, StatusReply> {
        self.core
            .with_tenant(&self.tenant, f)
            .ok()
            .ok_or_else(|| StatusCode::Failure.with_message("the app's state is gone"))
    }

    /// Runs `f` on the file a handle opened, under the app's lock: its current path and the
    /// area's files. A file that is gone (removed, or the app reset or imported since the handle
    /// opened it) is not found.
    fn on_file<R>(
        &self,
        file: FileId,
        f: impl FnOnce(&str, &mut BTreeMap<String, StoredFile>) -> Result<R, StatusReply>,
    ) -> Result<R, StatusReply> {
        let area = self.area;
        self.state(|t| {
            let files = area.files(t);
            match self.open_files.path(file, files) {
                Some(path) => f(&path, files),
                None => Err(StatusCode::NoSuchFile.with_message(
                    "the file this handle opened is gone (removed, or the app was reset or imported); open it again",
                )),
            }
        })?
    }

    /// Lets go of a handle on `file` (see [`OpenFiles::release`]); when the app's state is gone,
    /// the handle is let go all the same.
    fn release(&self, file: FileId, write: bool) -> Released {
        let area = self.area;
        self.core
            .with_tenant(&self.tenant, |t| {
                self.open_files.release(file, write, area.files(t))
            })
            .unwrap_or_else(|_| self.open_files.release(file, write, &mut BTreeMap::new()))
    }

    /// Waits until the changes made so far are committed to the data directory, if there is
    /// one, so that the reply about to leave is durable (docs/PERSISTENCE.md). When the commit
    /// fails the request is answered FAILURE with the reason instead of OK, as every HTTP route
    /// answers 503.
    async fn durable(&self) -> Result<(), StatusReply> {
        match crate::persist::sqlite::before_reply(&self.core).await {
            Some(message) => Err(StatusCode::Failure.with_message(message)),
            None => Ok(()),
        }
    }

    /// Refuses a new handle when the session holds the most it may (`[infinia]
    /// sftp_max_handles`), before the open changes anything (a file created or truncated).
    fn room_for_handle(&self) -> Result<(), StatusReply> {
        let max = self.core.infinia().apps.config.sftp_max_handles;
        if self.handles.len() < max {
            return Ok(());
        }
        Err(refused(format!(
            "this SFTP session already holds {} open handles, the most it may ([infinia] \
             sftp_max_handles); close handles it no longer needs",
            self.handles.len()
        )))
    }

    fn handle(&mut self, open: Open) -> String {
        let h = format!("h{}", self.next);
        self.next += 1;
        self.handles.insert(h.clone(), open);
        h
    }

    fn attrs_of(&self, path: &str) -> Result<FileAttributes, StatusReply> {
        if self.area.is_dir(path) {
            return Ok(dir_attrs());
        }
        let read_only = path.starts_with(self.area.out_dir());
        let area = self.area;
        self.state(|t| area.files(t).get(path).map(|f| file_attrs(f, read_only)))?
            .ok_or_else(|| missing(path))
    }

    fn fixed(&self) -> StatusReply {
        denied(&format!(
            "the folders are fixed: /upload and {}",
            self.area.out_dir()
        ))
    }

    /// A file in `/upload` became complete under `name`: process it.
    fn complete(&self, path: &str) {
        if let Some((UPLOAD_DIR, name)) = self.area.split(path) {
            if !in_progress(name) {
                process::upload_complete(&self.core, &self.tenant, self.area, name);
            }
        }
    }

    /// SETSTAT and FSETSTAT on `path`. Only files in `/upload` can change: a size is applied
    /// ([`resize`]; a complete file that changes is processed again), permissions, owner and
    /// times are accepted and not kept (clients send them after an upload). The folders and
    /// the read-only folder's files are refused, a file that does not exist is not found.
    fn set_attrs(
        &self,
        id: u32,
        path: &str,
        attrs: &FileAttributes,
    ) -> Result<Status, StatusReply> {
        let area = self.area;
        match area.split(path) {
            Some((UPLOAD_DIR, _)) => {}
            _ if area.is_dir(path) => return Err(self.fixed()),
            Some(_) => {
                return Err(denied(&format!(
                    "{} is read-only: its files cannot be changed",
                    area.out_dir()
                )))
            }
            None => {
                return Err(denied(&format!(
                    "files live directly in /upload or {}",
                    area.out_dir()
                )))
            }
        }
        let (limits, now) = (Limits::of(&self.core), self.core.clock().now());
        let changed = self.state(|t| {
            let files = area.files(t);
            match attrs.size {
                Some(size) => resize(files, path, size, limits, now),
                None if files.contains_key(path) => Ok(false),
                None => Err(missing(path)),
            }
        })??;
        if changed {
            self.complete(path);
        }
        Ok(ok(id))
    }
}

impl Drop for SftpFs {
    /// The session ended: its handles let go of their files. A file it was the last to write
    /// (no other session still writes it) is recorded INCOMPLETE (with the server's reason when
    /// the server closed the connection: the idle timeout, a shutdown), as is one a refused write
    /// through its handle left partial (as `close` would); a file another session still
    /// writes is left to that session, whose close completes it.
    fn drop(&mut self) {
        let area = self.area;
        let closed_why = self.conn.as_ref().and_then(|c| c.closed_why());
        for open in self.handles.values() {
            let Open::File {
                file,
                write,
                ref broken,
                ..
            } = *open
            else {
                continue;
            };
            let released = self.release(file, write);
            match (released.path, broken) {
                (Some(path), Some(why)) => {
                    process::upload_broken(&self.core, &self.tenant, area, &path, why);
                }
                (Some(path), None) if released.last_writer => {
                    let why = closed_why.as_deref();
                    process::upload_interrupted(&self.core, &self.tenant, area, &path, why);
                }
                _ => {}
            }
        }
    }
}

impl russh_sftp::server::Handler for SftpFs {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.into()
    }

    async fn init(
        &mut self,
        _version: u32,
        _ext: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        Ok(Name {
            id,
            files: vec![File::dummy(normalize(&path))],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let attrs = self.attrs_of(&normalize(&path))?;
        Ok(Attrs { id, attrs })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        self.stat(id, path).await
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let path = match self.handles.get(&handle) {
            Some(Open::File { file, .. }) => self.on_file(*file, |path, _| Ok(path.to_owned()))?,
            Some(Open::Dir { path, .. }) => path.clone(),
            None => return Err(StatusCode::Failure.with_message("unknown handle")),
        };
        let attrs = self.attrs_of(&path)?;
        Ok(Attrs { id, attrs })
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let set = self.set_attrs(id, &normalize(&path), &attrs)?;
        self.durable().await?;
        Ok(set)
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let path = match self.handles.get(&handle) {
            Some(Open::File { file, .. }) => self.on_file(*file, |path, _| Ok(path.to_owned()))?,
            Some(Open::Dir { .. }) => return Err(self.fixed()),
            None => return Err(StatusCode::Failure.with_message("unknown handle")),
        };
        let set = self.set_attrs(id, &path, &attrs)?;
        self.durable().await?;
        Ok(set)
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let path = normalize(&path);
        if !self.area.is_dir(&path) {
            return Err(missing(&path));
        }
        self.room_for_handle()?;
        let handle = self.handle(Open::Dir {
            path,
            next: Listing::Start,
        });
        Ok(Handle { id, handle })
    }

    /// The folder a page at a time ([`READDIR_PAGE`] entries, [`READDIR_BYTES`] at most), then
    /// EOF.
    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        let Some(Open::Dir { path, next }) = self.handles.get_mut(&handle) else {
            return Err(StatusCode::Failure.with_message("not a directory handle"));
        };
        let (path, from) = (path.clone(), std::mem::replace(next, Listing::Done));
        let area = self.area;
        let mut files = Vec::new();
        let after = match from {
            Listing::Done => return Err(StatusCode::Eof.into()),
            Listing::After(name) => Some(name),
            Listing::Start => {
                files.push(File::new(".", dir_attrs()));
                files.push(File::new("..", dir_attrs()));
                if path == "/" {
                    files.push(File::new("upload", dir_attrs()));
                    let out = area.out_dir().trim_start_matches('/');
                    files.push(File::new(out, dir_attrs()));
                    return Ok(Name { id, files });
                }
                None
            }
        };
        let read_only = path == area.out_dir();
        let room = READDIR_PAGE.saturating_sub(files.len());
        let (listed, more) =
            self.state(|t| page(area.files(t), &path, after.as_deref(), room, read_only))?;
        if listed.is_empty() && files.is_empty() {
            return Err(StatusCode::Eof.into());
        }
        if let (true, Some(last)) = (more, listed.last()) {
            if let Some(Open::Dir { next, .. }) = self.handles.get_mut(&handle) {
                *next = Listing::After(last.filename.clone());
            }
        }
        files.extend(listed);
        Ok(Name { id, files })
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let path = normalize(&filename);
        let area = self.area;
        let Some((dir, name)) = area.split(&path) else {
            return Err(denied(&format!(
                "files live directly in /upload ({}) or {} (reports)",
                area.what(),
                area.out_dir()
            )));
        };
        let write = pflags.intersects(
            OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE | OpenFlags::TRUNCATE,
        );
        if write && dir == area.out_dir() {
            return Err(denied(&format!(
                "{} is read-only; upload {} to /upload",
                area.out_dir(),
                area.what()
            )));
        }
        self.room_for_handle()?;
        let now = self.core.clock().now();
        let max_files = self.core.infinia().apps.config.sftp_max_files;
        let file = self.state(|t| {
            let files = area.files(t);
            match files.get_mut(&path) {
                Some(_) if write && pflags.contains(OpenFlags::EXCLUDE) => {
                    return Err(StatusCode::Failure.with_message(format!("{path} already exists")))
                }
                Some(f) if write => {
                    if pflags.contains(OpenFlags::TRUNCATE) {
                        // A new vector, not `clear()`: the old allocation is given back.
                        f.data = Vec::new();
                        f.size = 0;
                    }
                    f.modified_at = now;
                }
                Some(_) => {}
                None if write && pflags.contains(OpenFlags::CREATE) => {
                    if let Some(why) = refused_name(area, name) {
                        return Err(refused(why));
                    }
                    if files.len() >= max_files {
                        return Err(refused(format!(
                            "the app already has {} files, the most it may hold ([infinia] sftp_max_files); remove files or reset the app",
                            files.len()
                        )));
                    }
                    files.insert(
                        path.clone(),
                        StoredFile {
                            data: Vec::new(),
                            size: 0,
                            modified_at: now,
                            writing: false,
                            ..Default::default()
                        },
                    );
                }
                None => return Err(missing(&path)),
            }
            Ok(self
                .open_files
                .open((&self.tenant, area), &path, files, write))
        })??;
        let handle = self.handle(Open::File {
            file,
            write,
            append: write && pflags.contains(OpenFlags::APPEND),
            broken: None,
        });
        Ok(Handle { id, handle })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let Some(Open::File {
            file,
            write: true,
            append,
            broken,
        }) = self.handles.get(&handle)
        else {
            return Err(denied("the handle is not open for writing"));
        };
        let (file, append, was_broken) = (*file, *append, broken.is_some());
        let limits = Limits::of(&self.core);
        let now = self.core.clock().now();
        let written = self.on_file(file, |path, files| {
            let len = files.get(path).ok_or_else(|| missing(path))?.data.len();
            let start = if append {
                len
            } else {
                usize::try_from(offset).unwrap_or(usize::MAX)
            };
            // Writes extend the file in order: a write past the end would have to allocate
            // the gap (a 1-byte write at 32 MiB used to cost 32 MiB).
            if start > len {
                return Err(refused(format!(
                    "write at offset {start} leaves a gap after the file's {len} bytes; write files in order"
                )));
            }
            let end = start.saturating_add(data.len());
            let f = make_room(files, path, end, limits)?;
            if f.data.len() < end {
                f.data.resize(end, 0);
            }
            if let Some(dst) = f.data.get_mut(start..end) {
                dst.copy_from_slice(&data);
            }
            f.size = f.data.len() as u64;
            f.modified_at = now;
            Ok(ok(id))
        });
        if let (Err(reply), false) = (&written, was_broken) {
            if let Some(Open::File { broken, .. }) = self.handles.get_mut(&handle) {
                *broken = Some(reply_text(reply));
            }
        }
        written
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let Some(Open::File { file, .. }) = self.handles.get(&handle) else {
            return Err(StatusCode::Failure.with_message("not a file handle"));
        };
        self.on_file(*file, |path, files| {
            let f = files.get(path).ok_or_else(|| missing(path))?;
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            if start >= f.data.len() {
                return Err(StatusCode::Eof.into());
            }
            let end = start.saturating_add(len as usize).min(f.data.len());
            Ok(Data {
                id,
                data: f.data.get(start..end).unwrap_or_default().to_vec(),
            })
        })
    }

    /// Lets go of the handle's file. A refused write through it leaves the file INCOMPLETE;
    /// otherwise the file's last writer (of any session) completes it. A writer's close is
    /// answered once the file is committed (docs/PERSISTENCE.md: stored when it is closed).
    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        let Some(Open::File {
            file,
            write,
            broken,
            ..
        }) = self.handles.remove(&handle)
        else {
            return Ok(ok(id));
        };
        let released = self.release(file, write);
        match (released.path, broken) {
            (Some(path), Some(why)) => {
                process::upload_broken(&self.core, &self.tenant, self.area, &path, &why);
            }
            (Some(path), None) if released.last_writer => self.complete(&path),
            _ => {}
        }
        if write {
            self.durable().await?;
        }
        Ok(ok(id))
    }

    /// Removes a file from `/upload` (not while it is being written) or a report from the
    /// read-only folder; an upload's record that named that report no longer names it.
    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        let path = normalize(&filename);
        let area = self.area;
        self.state(|t| {
            match area.files(t).get(&path) {
                Some(f) if f.writing => return Err(denied("the file is still being written")),
                Some(_) => {}
                None => return Err(missing(&path)),
            }
            area.files(t).remove(&path);
            self.open_files.removed((&self.tenant, area), &path);
            for upload in area.uploads(t).values_mut() {
                if upload.error_file.as_deref() == Some(path.as_str()) {
                    upload.error_file = None;
                }
            }
            Ok(())
        })??;
        self.durable().await?;
        Ok(ok(id))
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        let (from, to) = (normalize(&oldpath), normalize(&newpath));
        let area = self.area;
        if !matches!(
            (area.split(&from), area.split(&to)),
            (Some((UPLOAD_DIR, _)), Some((UPLOAD_DIR, _)))
        ) {
            return Err(denied(
                "only files inside /upload can be renamed, within /upload",
            ));
        }
        if let Some(why) = area
            .split(&to)
            .and_then(|(_, name)| refused_name(area, name))
        {
            return Err(refused(why));
        }
        let writing = self.state(|t| {
            let files = area.files(t);
            if files.contains_key(&to) {
                return Err(StatusCode::Failure.with_message(format!("{to} already exists")));
            }
            let f = files.remove(&from).ok_or_else(|| missing(&from))?;
            let writing = f.writing;
            files.insert(to.clone(), f);
            self.open_files.renamed((&self.tenant, area), &from, &to);
            Ok(writing)
        })??;
        if let (Area::Infinia, Some((_, name))) = (area, area.split(&from)) {
            process::renamed_away(&self.core, &self.tenant, name, &to);
        }
        if !writing {
            self.complete(&to);
        }
        self.durable().await?;
        Ok(ok(id))
    }

    async fn mkdir(
        &mut self,
        _id: u32,
        _path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Err(self.fixed())
    }

    async fn rmdir(&mut self, _id: u32, _path: String) -> Result<Status, Self::Error> {
        Err(self.fixed())
    }
}
