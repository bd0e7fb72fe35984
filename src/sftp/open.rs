//! The files open through SFTP handles, across every session of the server. A handle refers to
//! a file (a [`FileId`]), not to its path: a rename by another session moves the file under its
//! handles. A handle finds its file by the file's serial ([`FileSerial`]), so a handle whose file
//! is gone finds it gone, whatever took the name since: a removal or a new file created under
//! the name over SFTP, a reset or an import of the app, or a report the simulator wrote again.
//! A writer never writes into a file that later took the name. Writers are counted per file,
//! so a file is complete (`StoredFile::writing` false, to be processed) only when its last
//! writer lets go, whichever session that is.
//!
//! Every call is made under the app's tenant lock, with the area's files: the registry's own
//! lock is taken inside it (never the other way round), so a rename or a remove and the
//! registry change together.

use std::collections::{BTreeMap, HashMap};

use parking_lot::Mutex;

use super::paths::Area;
use crate::store::infinia::{FileSerial, StoredFile};
use crate::tenant::TenantId;

/// One open file, told apart from any other file that has (or later takes) the same path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId(u64);

/// Where a file lives: its account and path.
type Place = (TenantId, Area, String);

/// The open files of one SFTP server (shared by its sessions).
#[derive(Default)]
pub struct OpenFiles {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    files: HashMap<FileId, Entry>,
    at: HashMap<Place, FileId>,
}

struct Entry {
    /// None once the file is gone (removed over SFTP).
    place: Option<Place>,
    /// The file the handles opened: the file at the path is still it only with this serial.
    serial: FileSerial,
    handles: usize,
    writers: usize,
}

/// What letting go of a handle left.
pub struct Released {
    /// The file's path, when it is still there.
    pub path: Option<String>,
    /// That handle was the file's last writer: the file is no longer being written.
    pub last_writer: bool,
}

impl Inner {
    /// The id's path, if the file at that path is still the one the id was given to.
    fn live(&self, id: FileId, files: &BTreeMap<String, StoredFile>) -> Option<String> {
        let entry = self.files.get(&id)?;
        let (_, _, path) = entry.place.as_ref()?;
        (files.get(path)?.serial == entry.serial).then(|| path.clone())
    }

    /// The file at `place` is no longer the one its entry knew.
    fn detach(&mut self, place: &Place) {
        if let Some(id) = self.at.remove(place) {
            if let Some(entry) = self.files.get_mut(&id) {
                entry.place = None;
            }
        }
    }
}

impl OpenFiles {
    /// A new handle on `path` (which exists in `files`): the file already open under that name,
    /// unless it is gone, else a new one. A writer marks the file as being written.
    pub fn open(
        &self,
        (tenant, area): (&TenantId, Area),
        path: &str,
        files: &mut BTreeMap<String, StoredFile>,
        write: bool,
    ) -> FileId {
        let mut inner = self.inner.lock();
        let place = (tenant.clone(), area, path.to_owned());
        let current = inner
            .at
            .get(&place)
            .copied()
            .filter(|id| inner.live(*id, files).is_some());
        let id = match current {
            Some(id) => id,
            None => {
                inner.detach(&place);
                // The caller opens a file that exists; were it missing, the handle would find
                // its file gone (a fresh serial is no file's).
                let serial = files
                    .get(path)
                    .map_or_else(FileSerial::default, |f| f.serial);
                inner.next += 1;
                let id = FileId(inner.next);
                inner.files.insert(
                    id,
                    Entry {
                        place: Some(place.clone()),
                        serial,
                        handles: 0,
                        writers: 0,
                    },
                );
                inner.at.insert(place, id);
                id
            }
        };
        if let Some(entry) = inner.files.get_mut(&id) {
            entry.handles += 1;
            entry.writers += usize::from(write);
        }
        if let (true, Some(f)) = (write, files.get_mut(path)) {
            f.writing = true;
        }
        id
    }

    /// The current path of file `id`; None when it is gone.
    pub fn path(&self, id: FileId, files: &BTreeMap<String, StoredFile>) -> Option<String> {
        self.inner.lock().live(id, files)
    }

    /// Lets go of one handle on file `id` (a writer's, with `write`). The last writer of a file
    /// still there marks it no longer written (and trims its allocation to its size).
    pub fn release(
        &self,
        id: FileId,
        write: bool,
        files: &mut BTreeMap<String, StoredFile>,
    ) -> Released {
        let mut inner = self.inner.lock();
        let path = inner.live(id, files);
        let Some(entry) = inner.files.get_mut(&id) else {
            return Released {
                path,
                last_writer: false,
            };
        };
        entry.handles = entry.handles.saturating_sub(1);
        let last_writer = write && entry.writers == 1;
        entry.writers = entry.writers.saturating_sub(usize::from(write));
        if entry.handles == 0 {
            if let Some(place) = entry.place.take() {
                inner.at.remove(&place);
            }
            inner.files.remove(&id);
        }
        let last_writer = last_writer && path.is_some();
        if let (true, Some(f)) = (last_writer, path.as_ref().and_then(|p| files.get_mut(p))) {
            f.writing = false;
            f.data.shrink_to_fit();
        }
        Released { path, last_writer }
    }

    /// The file at `from` now lives at `to` (its handles follow it).
    pub fn renamed(&self, (tenant, area): (&TenantId, Area), from: &str, to: &str) {
        let mut inner = self.inner.lock();
        let to = (tenant.clone(), area, to.to_owned());
        inner.detach(&to);
        let Some(id) = inner.at.remove(&(tenant.clone(), area, from.to_owned())) else {
            return;
        };
        if let Some(entry) = inner.files.get_mut(&id) {
            entry.place = Some(to.clone());
            inner.at.insert(to, id);
        }
    }

    /// The file at `path` was removed: handles still open on it find it gone.
    pub fn removed(&self, (tenant, area): (&TenantId, Area), path: &str) {
        self.inner
            .lock()
            .detach(&(tenant.clone(), area, path.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Provider;

    fn file(writing: bool) -> StoredFile {
        StoredFile {
            data: Vec::new(),
            size: 0,
            modified_at: 0,
            writing,
            ..StoredFile::default()
        }
    }

    fn app() -> (TenantId, Area) {
        (TenantId::new(Provider::Infinia, "a"), Area::Infinia)
    }

    #[test]
    fn a_file_is_written_until_its_last_writer_lets_go_and_follows_a_rename() {
        let (tenant, area) = app();
        let open = OpenFiles::default();
        let mut files = BTreeMap::from([("/upload/r.part".to_owned(), file(false))]);
        let a = open.open((&tenant, area), "/upload/r.part", &mut files, true);
        let b = open.open((&tenant, area), "/upload/r.part", &mut files, true);
        assert_eq!(a, b);
        let moved = files.remove("/upload/r.part").unwrap();
        files.insert("/upload/r.csv".to_owned(), moved);
        open.renamed((&tenant, area), "/upload/r.part", "/upload/r.csv");
        assert_eq!(open.path(a, &files).as_deref(), Some("/upload/r.csv"));
        let first = open.release(a, true, &mut files);
        assert!(!first.last_writer);
        assert!(files["/upload/r.csv"].writing);
        let last = open.release(b, true, &mut files);
        assert_eq!(last.path.as_deref(), Some("/upload/r.csv"));
        assert!(last.last_writer);
        assert!(!files["/upload/r.csv"].writing);
    }

    #[test]
    fn a_handle_whose_file_was_replaced_never_reaches_the_new_file() {
        let (tenant, area) = app();
        let open = OpenFiles::default();
        let mut files = BTreeMap::from([("/upload/x.csv".to_owned(), file(false))]);
        let old = open.open((&tenant, area), "/upload/x.csv", &mut files, true);
        // A reset empties the files; another session creates the name again.
        files.clear();
        assert_eq!(open.path(old, &files), None);
        files.insert("/upload/x.csv".to_owned(), file(false));
        let new = open.open((&tenant, area), "/upload/x.csv", &mut files, true);
        assert_ne!(old, new);
        assert_eq!(open.path(old, &files), None);
        let gone = open.release(old, true, &mut files);
        assert!(gone.path.is_none() && !gone.last_writer);
        assert!(
            files["/upload/x.csv"].writing,
            "the new writer still writes"
        );
        // An import that brings the name back, not being written, is another file too.
        let reader = open.open((&tenant, area), "/upload/x.csv", &mut files, false);
        files.insert("/upload/x.csv".to_owned(), file(false));
        assert_eq!(open.path(new, &files), None);
        assert_eq!(open.path(reader, &files), None);
    }

    /// Regression: an import that brings the name back marked as being written (a snapshot
    /// taken mid-write) looked like the file a handle still open had opened, so the handle wrote
    /// into the imported file. Their serials tell them apart.
    #[test]
    fn a_handle_opened_before_an_import_never_reaches_the_imported_file() {
        let (tenant, area) = app();
        let open = OpenFiles::default();
        let mut files = BTreeMap::from([("/upload/h.csv".to_owned(), file(false))]);
        let old = open.open((&tenant, area), "/upload/h.csv", &mut files, true);
        // The import replaces the files with a copy still marked as being written.
        files.insert("/upload/h.csv".to_owned(), file(true));
        assert_eq!(open.path(old, &files), None, "another file");
        let gone = open.release(old, true, &mut files);
        assert!(gone.path.is_none() && !gone.last_writer);
        assert!(files["/upload/h.csv"].writing, "the imported mark stays");
    }

    /// Regression: a report replaced by processing left its readers attached to the name, so
    /// they read on into the new report. Only a handle on the replaced report is detached.
    #[test]
    fn a_replaced_report_detaches_its_readers_and_no_other_apps() {
        let (tenant, area) = app();
        let open = OpenFiles::default();
        let path = "/error/r_error_file.csv";
        let mut mine = BTreeMap::from([(path.to_owned(), file(false))]);
        let mut other = BTreeMap::from([(path.to_owned(), file(false))]);
        let reader = open.open((&tenant, area), path, &mut mine, false);
        let them = TenantId::new(Provider::Infinia, "b");
        let theirs = open.open((&them, area), path, &mut other, false);
        mine.remove(path);
        mine.insert(path.to_owned(), file(false));
        assert_eq!(open.path(reader, &mine), None);
        assert_eq!(open.path(theirs, &other).as_deref(), Some(path));
    }
}
