//! The files open through SFTP handles, across every session of the server. A handle refers to
//! a file (a [`FileId`]), not to its path: a rename by another session moves the file under its
//! handles. A handle whose file is gone (removed, or the app reset or imported since) finds it
//! gone: a removal or a new file created under the name over SFTP, or a report the simulator
//! replaces ([`report_replaced`]), detaches it, and a writer
//! also sees that the file under its name is not marked as being written any more (a reset or
//! an import replaces the state without telling the registry), so it never writes into a file
//! that later took the name. Writers are counted per file, so a file is complete
//! (`StoredFile::writing` false, to be processed) only when its last writer lets go, whichever
//! session that is.
//!
//! Every call is made under the app's tenant lock, with the area's files: the registry's own
//! lock is taken inside it (never the other way round), so a rename or a remove and the
//! registry change together.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::paths::Area;
use crate::store::infinia::StoredFile;
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
    /// None once the file is gone: removed, or replaced by a reset or an import.
    place: Option<Place>,
    /// The area's files the file was opened in ([`files_key`]): what [`report_replaced`] finds
    /// it by.
    files_at: usize,
    /// The app's incarnation when the file was opened ([`crate::store::Store::incarnation`]):
    /// after a reset or an import the file at the path is another, whatever it holds.
    incarnation: u64,
    handles: usize,
    writers: usize,
}

/// An app's files as a handle's calls see them: the area's files and the app's incarnation,
/// both read under the app's lock.
pub type Files<'a> = (&'a BTreeMap<String, StoredFile>, u64);

/// What letting go of a handle left.
pub struct Released {
    /// The file's path, when it is still there.
    pub path: Option<String>,
    /// That handle was the file's last writer: the file is no longer being written.
    pub last_writer: bool,
}

impl Inner {
    /// The id's path, if the file at that path is still the one the id was given to: it exists,
    /// and is marked written while it has writers (a reset or an import replaces the file
    /// without telling the registry; its replacement is not marked so).
    fn live(&self, id: FileId, (files, incarnation): Files<'_>) -> Option<String> {
        let entry = self.files.get(&id)?;
        if entry.incarnation != incarnation {
            return None;
        }
        let (_, _, path) = entry.place.as_ref()?;
        let file = files.get(path)?;
        (entry.writers == 0 || file.writing).then(|| path.clone())
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
        (files, incarnation): (&mut BTreeMap<String, StoredFile>, u64),
        write: bool,
    ) -> FileId {
        let mut inner = self.inner.lock();
        let place = (tenant.clone(), area, path.to_owned());
        let current = inner
            .at
            .get(&place)
            .copied()
            .filter(|id| inner.live(*id, (files, incarnation)).is_some());
        let id = match current {
            Some(id) => id,
            None => {
                inner.detach(&place);
                inner.next += 1;
                let id = FileId(inner.next);
                inner.files.insert(
                    id,
                    Entry {
                        place: Some(place.clone()),
                        files_at: files_key(files),
                        incarnation,
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
    pub fn path(&self, id: FileId, files: Files<'_>) -> Option<String> {
        self.inner.lock().live(id, files)
    }

    /// Lets go of one handle on file `id` (a writer's, with `write`). The last writer of a file
    /// still there marks it no longer written (and trims its allocation to its size).
    pub fn release(
        &self,
        id: FileId,
        write: bool,
        (files, incarnation): (&mut BTreeMap<String, StoredFile>, u64),
    ) -> Released {
        let mut inner = self.inner.lock();
        let path = inner.live(id, (files, incarnation));
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

    /// Makes this registry one [`report_replaced`] tells (every session of the server does,
    /// so it is told while any of its handles can be open).
    pub fn serve(self: &Arc<Self>) {
        let mut served = SERVED.lock();
        served.retain(|r| r.strong_count() > 0);
        if !served
            .iter()
            .any(|r| std::ptr::eq(r.as_ptr(), Arc::as_ptr(self)))
        {
            served.push(Arc::downgrade(self));
        }
    }

    /// The file at `path` of the area's `files` was removed (as [`OpenFiles::removed`]), if
    /// one of this registry's handles opened it there.
    fn removed_from(&self, files: usize, path: &str) {
        let mut inner = self.inner.lock();
        let place = inner
            .at
            .iter()
            .find(|((_, _, p), id)| {
                p == path && inner.files.get(id).is_some_and(|e| e.files_at == files)
            })
            .map(|(place, _)| place.clone());
        if let Some(place) = place {
            inner.detach(&place);
        }
    }
}

/// The registries of the SFTP servers running in this process ([`OpenFiles::serve`]).
static SERVED: Mutex<Vec<Weak<OpenFiles>>> = Mutex::new(Vec::new());

/// An area's files told apart from any other area's (of another app, or of another simulator
/// in the same process) while they live: their address.
fn files_key(files: &BTreeMap<String, StoredFile>) -> usize {
    std::ptr::from_ref(files) as usize
}

/// The simulator dropped the report at `path` of an area's `files` (processing the upload
/// again replaces it): handles still open on it find it gone, as after a removal over SFTP,
/// and never reach the report later written under the name. Called under the app's lock, as
/// every call of the registry is; the processing that calls it knows no SFTP server, so every
/// server running is told (only a handle opened in these very `files` matches).
pub fn report_replaced(files: &BTreeMap<String, StoredFile>, path: &str) {
    let served: Vec<Arc<OpenFiles>> = SERVED.lock().iter().filter_map(Weak::upgrade).collect();
    for registry in served {
        registry.removed_from(files_key(files), path);
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
        let a = open.open((&tenant, area), "/upload/r.part", (&mut files, 0), true);
        let b = open.open((&tenant, area), "/upload/r.part", (&mut files, 0), true);
        assert_eq!(a, b);
        let moved = files.remove("/upload/r.part").unwrap();
        files.insert("/upload/r.csv".to_owned(), moved);
        open.renamed((&tenant, area), "/upload/r.part", "/upload/r.csv");
        assert_eq!(open.path(a, (&files, 0)).as_deref(), Some("/upload/r.csv"));
        let first = open.release(a, true, (&mut files, 0));
        assert!(!first.last_writer);
        assert!(files["/upload/r.csv"].writing);
        let last = open.release(b, true, (&mut files, 0));
        assert_eq!(last.path.as_deref(), Some("/upload/r.csv"));
        assert!(last.last_writer);
        assert!(!files["/upload/r.csv"].writing);
    }

    #[test]
    fn a_handle_whose_file_was_replaced_never_reaches_the_new_file() {
        let (tenant, area) = app();
        let open = OpenFiles::default();
        let mut files = BTreeMap::from([("/upload/x.csv".to_owned(), file(false))]);
        let old = open.open((&tenant, area), "/upload/x.csv", (&mut files, 0), true);
        // A reset empties the files; another session creates the name again.
        files.clear();
        assert_eq!(open.path(old, (&files, 0)), None);
        files.insert("/upload/x.csv".to_owned(), file(false));
        let new = open.open((&tenant, area), "/upload/x.csv", (&mut files, 0), true);
        assert_ne!(old, new);
        assert_eq!(open.path(old, (&files, 0)), None);
        let gone = open.release(old, true, (&mut files, 0));
        assert!(gone.path.is_none() && !gone.last_writer);
        assert!(
            files["/upload/x.csv"].writing,
            "the new writer still writes"
        );
        // An import that brings the name back, not being written, is another file too.
        let reader = open.open((&tenant, area), "/upload/x.csv", (&mut files, 0), false);
        files.insert("/upload/x.csv".to_owned(), file(false));
        assert_eq!(open.path(new, (&files, 0)), None);
        assert_eq!(open.path(reader, (&files, 0)), None);
    }

    /// Regression: an import that brings the name back marked as being written (a snapshot
    /// taken mid-write) looked like the file a handle still open had opened, so the handle wrote
    /// into the imported file. The app's incarnation tells them apart.
    #[test]
    fn a_handle_opened_before_an_import_never_reaches_the_imported_file() {
        let (tenant, area) = app();
        let open = OpenFiles::default();
        let mut files = BTreeMap::from([("/upload/h.csv".to_owned(), file(false))]);
        let old = open.open((&tenant, area), "/upload/h.csv", (&mut files, 0), true);
        // The import replaces the files with a copy still marked as being written.
        files.insert("/upload/h.csv".to_owned(), file(true));
        assert_eq!(
            open.path(old, (&files, 0)).as_deref(),
            Some("/upload/h.csv")
        );
        assert_eq!(open.path(old, (&files, 1)), None, "another incarnation");
        let gone = open.release(old, true, (&mut files, 1));
        assert!(gone.path.is_none() && !gone.last_writer);
        assert!(files["/upload/h.csv"].writing, "the imported mark stays");
    }

    /// Regression: a report replaced by processing left its readers attached to the name, so
    /// they read on into the new report. Only a handle opened in the same files is detached.
    #[test]
    fn a_replaced_report_detaches_its_readers_and_no_other_apps() {
        let (tenant, area) = app();
        let open = Arc::new(OpenFiles::default());
        open.serve();
        let path = "/error/r_error_file.csv";
        let mut mine = BTreeMap::from([(path.to_owned(), file(false))]);
        let mut other = BTreeMap::from([(path.to_owned(), file(false))]);
        let reader = open.open((&tenant, area), path, (&mut mine, 0), false);
        let them = TenantId::new(Provider::Infinia, "b");
        let theirs = open.open((&them, area), path, (&mut other, 0), false);
        mine.remove(path);
        report_replaced(&mine, path);
        mine.insert(path.to_owned(), file(false));
        assert_eq!(open.path(reader, (&mine, 0)), None);
        assert_eq!(open.path(theirs, (&other, 0)).as_deref(), Some(path));
    }
}
