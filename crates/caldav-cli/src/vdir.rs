//! The local side of `caldav sync`: a vdir folder (the layout vdirsyncer, khal and todoman
//! read) and the sync state kept next to it.
//!
//! ```text
//! DIR/
//!   .caldav-state.json      what was last synced (hrefs, etags, content hashes, tokens)
//!   work/                   one folder per calendar
//!     displayname           the calendar's name, one line
//!     color                 its color, one line (when the server has one)
//!     <item>.ics            one calendar object per file
//! ```
//!
//! Every write is atomic (a temporary file in the same folder, then a rename), so a killed
//! sync leaves either the old or the new file, never half of one. Item files are not flushed
//! one by one: [`Pending`] collects a batch's writes and makes them durable together (one
//! `syncfs` on Linux) before the state that claims them is saved, which itself is flushed
//! before its rename. A crash of the machine loses at most the batch in flight. A batch's files
//! are written by several threads at once ([`Pending::write_items`]); a new item's file never
//! replaces a file that appeared under its name meanwhile (`RENAME_NOREPLACE`). Local changes
//! are found by comparing each file with what the state recorded: a file with the recorded
//! size and modification time is unchanged; otherwise its content hash decides.

use anyhow::{Context, Result};
use caldav_client_core::QuirkProfile;
use caldav_client_core::sync::SyncState;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The state file's name inside the sync folder.
pub(crate) const STATE_FILE: &str = ".caldav-state.json";

/// What `caldav sync` knows about one sync folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct State {
    /// The server the folder is synced with (scheme and authority).
    pub(crate) server: String,
    /// The client-core machine's state: tokens, ctags, server etags.
    pub(crate) sync: SyncState,
    /// Per calendar href: its folder and items.
    pub(crate) calendars: BTreeMap<String, CalendarRecord>,
    /// What the last discovery found: a later sync starts from it without asking again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) discovery: Option<Discovery>,
}

/// What bootstrap and listing found (RFC 4791 §6.2.1, RFC 5397, RFC 6764 §6), kept so that a
/// later `caldav sync` goes straight to each calendar's `sync-collection` REPORT: discovery
/// costs four requests, and a calendar home listing that asks every calendar's sync token can
/// take a server most of a second. It is thrown away when a calendar's REPORT says the
/// calendar is not where it was (404, 410, 403, a redirect), when the command line names a
/// calendar it does not know, and on `--rediscover`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Discovery {
    /// The URL discovery started from: another one means another account.
    pub(crate) context: String,
    /// The quirk profile in use: another one (a new probe) discovers again.
    pub(crate) quirks: QuirkProfile,
    /// The principal's href.
    pub(crate) principal: String,
    /// `CALDAV:calendar-home-set`.
    pub(crate) calendar_home_set: Vec<String>,
    /// The principal's `DAV:` compliance classes (RFC 4918 §10.1).
    pub(crate) dav: Vec<String>,
    /// The principal's `Allow:` methods.
    pub(crate) allow: Vec<String>,
    /// Every calendar the listing found.
    pub(crate) calendars: Vec<KnownCalendar>,
}

/// A calendar as the listing described it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KnownCalendar {
    /// Its href, as the server sent it.
    pub(crate) href: String,
    /// `DAV:displayname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) displayname: Option<String>,
    /// `ICAL:calendar-color`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) color: Option<String>,
    /// Whether it listed `DAV:sync-collection` among its reports (RFC 6578 §3.1).
    #[serde(default)]
    pub(crate) sync_collection: bool,
}

impl KnownCalendar {
    /// The calendar as a listed collection describes it.
    pub(crate) fn of(collection: &caldav_client_core::listing::Collection) -> Self {
        Self {
            href: collection.href.as_str().to_owned(),
            displayname: collection.displayname.clone(),
            color: collection.color.clone(),
            sync_collection: collection.supports_sync_collection(),
        }
    }

    /// Its name on the command line: the display name, else the href's last segment.
    pub(crate) fn name(&self) -> String {
        self.displayname
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| crate::remote::last_segment(&self.href))
    }

    /// Whether `name` (display name or last href segment) names it.
    pub(crate) fn is_named(&self, name: &str) -> bool {
        self.displayname.as_deref() == Some(name) || crate::remote::last_segment(&self.href) == name
    }
}

impl Discovery {
    /// What `account` and its `calendars` say, found from `context` with `quirks`.
    pub(crate) fn of(
        context: &http::Uri,
        quirks: &QuirkProfile,
        account: &caldav_client_core::bootstrap::Account,
        calendars: &[caldav_client_core::listing::Collection],
    ) -> Self {
        Self {
            context: context.to_string(),
            quirks: quirks.clone(),
            principal: account.principal.as_str().to_owned(),
            calendar_home_set: account
                .calendar_home_set
                .iter()
                .map(|h| h.as_str().to_owned())
                .collect(),
            dav: account
                .capabilities
                .classes()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            allow: account
                .capabilities
                .methods()
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            calendars: calendars.iter().map(KnownCalendar::of).collect(),
        }
    }
}

/// One synced calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CalendarRecord {
    /// The folder's name inside the sync folder.
    pub(crate) folder: String,
    /// Per file name: what was last synced. Change it with [`CalendarRecord::insert`] and
    /// [`CalendarRecord::remove`], which keep the href index up to date.
    pub(crate) items: BTreeMap<String, ItemRecord>,
    /// Per canonical href, the file holding it: finding an item's file by scanning `items`
    /// made a first sync of N items cost N² href canonicalisations.
    #[serde(skip)]
    by_href: HrefIndex,
}

/// A derived index, not part of a record's value: any two compare equal.
#[derive(Debug, Clone, Default)]
struct HrefIndex(HashMap<String, String>);

impl PartialEq for HrefIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for HrefIndex {}

fn canonical(href: &str) -> String {
    dav_xml::Href::new(href).canonical()
}

/// One synced item: the file's name is the key of [`CalendarRecord::items`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ItemRecord {
    /// The item's href on the server.
    pub(crate) href: String,
    /// The server's etag of the synced version (empty when the server gave none).
    pub(crate) etag: String,
    /// SHA-256 of the file's bytes as synced, in hex.
    pub(crate) hash: String,
    /// The file's size as synced.
    pub(crate) size: u64,
    /// The file's modification time as synced, in nanoseconds since the epoch.
    pub(crate) mtime: i128,
}

impl CalendarRecord {
    /// A record of no items, for the folder `folder`.
    pub(crate) fn new(folder: String) -> Self {
        Self {
            folder,
            ..Self::default()
        }
    }

    /// Records `item` as the content of `file`.
    pub(crate) fn insert(&mut self, file: String, item: ItemRecord) {
        self.unindex(&file);
        self.by_href.0.insert(canonical(&item.href), file.clone());
        self.items.insert(file, item);
    }

    /// Forgets `file`.
    pub(crate) fn remove(&mut self, file: &str) -> Option<ItemRecord> {
        self.unindex(file);
        self.items.remove(file)
    }

    fn unindex(&mut self, file: &str) {
        if let Some(old) = self.items.get(file) {
            let key = canonical(&old.href);
            if self.by_href.0.get(&key).is_some_and(|f| f == file) {
                self.by_href.0.remove(&key);
            }
        }
    }

    /// Builds the href index of `items` (after loading).
    fn reindex(&mut self) {
        self.by_href.0 = self
            .items
            .iter()
            .map(|(file, item)| (canonical(&item.href), file.clone()))
            .collect();
    }

    /// The file name recorded for `href`, compared canonically.
    pub(crate) fn file_for_href(&self, href: &dav_xml::Href) -> Option<&str> {
        let wanted = href.canonical();
        if let Some((file, item)) = self
            .by_href
            .0
            .get(&wanted)
            .and_then(|file| self.items.get_key_value(file))
            && canonical(&item.href) == wanted
        {
            return Some(file.as_str());
        }
        if self.by_href.0.len() == self.items.len() {
            return None;
        }
        // `items` was changed without the index (or two files claim one href): scan.
        self.items
            .iter()
            .find(|(_, item)| canonical(&item.href) == wanted)
            .map(|(name, _)| name.as_str())
    }
}

/// A change found in a calendar folder since the last sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LocalChange {
    /// A file the state does not know.
    Created {
        /// Its name.
        file: String,
    },
    /// A known file whose content changed.
    Edited {
        /// Its name.
        file: String,
    },
    /// A known file that is gone.
    Deleted {
        /// Its name.
        file: String,
    },
}

impl LocalChange {
    /// The file the change is about.
    pub(crate) fn file(&self) -> &str {
        match self {
            LocalChange::Created { file }
            | LocalChange::Edited { file }
            | LocalChange::Deleted { file } => file,
        }
    }
}

/// SHA-256 of `bytes` in lowercase hex.
pub(crate) fn hash(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Size and modification time of `path`.
pub(crate) fn stamp(path: &Path) -> Result<(u64, i128)> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    Ok((meta.len(), mtime_of(&meta)))
}

/// Writes `bytes` to `path` atomically and durably: a temporary file in the same folder,
/// flushed to disk, then renamed over `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    replace(path, bytes, true)
}

/// A temporary file next to `path`, filled with `bytes` (flushed when `durable`), renamed
/// over `path`.
fn replace(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    replace_with(path, durable, |file| file.write_all(bytes))
}

/// A temporary file next to `path`, filled by `fill` (flushed when `durable`), renamed over
/// `path`.
fn replace_with(
    path: &Path,
    durable: bool,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let temp = temporary(path)?;
    let file =
        std::fs::File::create(&temp).with_context(|| format!("creating {}", temp.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    fill(&mut writer)
        .and_then(|()| {
            writer
                .into_inner()
                .map_err(std::io::IntoInnerError::into_error)
        })
        .and_then(|file| if durable { file.sync_all() } else { Ok(()) })
        .with_context(|| format!("writing {}", temp.display()))?;
    std::fs::rename(&temp, path)
        .with_context(|| format!("renaming {} to {}", temp.display(), path.display()))?;
    Ok(())
}

/// Batches smaller than this are written by the calling thread alone.
const PARALLEL_WRITES_FROM: usize = 64;

/// Most threads writing one batch's files.
const MAX_WRITERS: usize = 4;

/// One item file to write (see [`Pending::write_items`]).
#[derive(Debug)]
pub(crate) struct ItemWrite<'a> {
    /// The file's name in the calendar folder.
    pub(crate) file: String,
    /// The item's href on the server.
    pub(crate) href: &'a str,
    /// Its etag.
    pub(crate) etag: &'a str,
    /// Its data.
    pub(crate) data: &'a [u8],
    /// A name chosen for a new file: written only if no file has it by the time of the
    /// rename (a file the user created meanwhile is never replaced).
    pub(crate) fresh: bool,
}

/// Modification time in nanoseconds since the epoch.
fn mtime_of(meta: &std::fs::Metadata) -> i128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

/// The temporary name next to `path` its new content is written to before the rename. A
/// dot name: vdir readers skip it, so a leftover from a killed run is never read as an item.
fn temporary(path: &Path) -> Result<PathBuf> {
    let dir = path
        .parent()
        .with_context(|| format!("{} has no folder", path.display()))?;
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    // The process id, asked once: `getpid` is a system call per file otherwise.
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    Ok(dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        PID.get_or_init(std::process::id)
    )))
}

/// Writes `data` to a temporary file and renames it to `path` (not flushed: see
/// [`Pending`]). With `fresh`, `path` must not exist: when it does, the temporary is removed
/// and `None` returned. Returns the size and modification time of what was written, read
/// from the open file (the rename does not change them).
fn write_file(path: &Path, data: &[u8], fresh: bool) -> Result<Option<(u64, i128)>> {
    let temp = temporary(path)?;
    let mut file =
        std::fs::File::create(&temp).with_context(|| format!("creating {}", temp.display()))?;
    let meta = file
        .write_all(data)
        .and_then(|()| file.metadata())
        .with_context(|| format!("writing {}", temp.display()))?;
    drop(file);
    let stamp = (meta.len(), mtime_of(&meta));
    if fresh {
        if !rename_fresh(&temp, path)? {
            std::fs::remove_file(&temp).ok();
            return Ok(None);
        }
    } else {
        std::fs::rename(&temp, path)
            .with_context(|| format!("renaming {} to {}", temp.display(), path.display()))?;
    }
    Ok(Some(stamp))
}

/// Renames `from` to `to` unless `to` exists (`false` then), atomically where the system
/// offers it (`renameat2` with `RENAME_NOREPLACE`).
#[cfg(target_os = "linux")]
fn rename_fresh(from: &Path, to: &Path) -> Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::EXIST) => Ok(false),
        // File systems without the flag: check, then rename (a narrow race, as elsewhere).
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => rename_checked(from, to),
        Err(e) => Err(std::io::Error::from(e))
            .with_context(|| format!("renaming {} to {}", from.display(), to.display())),
    }
}

/// Renames `from` to `to` unless `to` exists (`false` then).
#[cfg(not(target_os = "linux"))]
fn rename_fresh(from: &Path, to: &Path) -> Result<bool> {
    rename_checked(from, to)
}

fn rename_checked(from: &Path, to: &Path) -> Result<bool> {
    if to.exists() {
        return Ok(false);
    }
    std::fs::rename(from, to)
        .with_context(|| format!("renaming {} to {}", from.display(), to.display()))?;
    Ok(true)
}

/// Item files written or removed since the last checkpoint, made durable together by
/// [`Pending::flush`] before the state that claims them is saved: one flush per batch
/// instead of one `fsync` per file (which cost 0.5-5 ms each, most of a 2,000-item sync).
#[derive(Debug)]
pub(crate) struct Pending {
    /// The sync folder: on Linux its file system is flushed with one `syncfs`.
    root: PathBuf,
    /// Files written since the last flush (flushed one by one where there is no `syncfs`).
    files: Vec<PathBuf>,
    /// Folders whose entries changed since the last flush.
    dirs: BTreeSet<PathBuf>,
}

impl Pending {
    /// Nothing pending yet, for the sync folder `root`.
    pub(crate) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            files: Vec::new(),
            dirs: BTreeSet::new(),
        }
    }

    /// Writes `bytes` to `path` atomically, durable at the next [`Pending::flush`].
    pub(crate) fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        replace(path, bytes, false)?;
        self.files.push(path.to_path_buf());
        if let Some(dir) = path.parent() {
            self.dirs.insert(dir.to_path_buf());
        }
        Ok(())
    }

    /// Removes `path` (already gone is fine), durable at the next [`Pending::flush`].
    pub(crate) fn remove(&mut self, path: &Path) -> Result<()> {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
        }
        if let Some(dir) = path.parent() {
            self.dirs.insert(dir.to_path_buf());
        }
        Ok(())
    }

    /// Writes an item file (replacing any file of that name) and returns its record.
    pub(crate) fn write_item(
        &mut self,
        dir: &Path,
        file: &str,
        href: &str,
        etag: &str,
        data: &[u8],
    ) -> Result<ItemRecord> {
        let job = ItemWrite {
            file: file.to_owned(),
            href,
            etag,
            data,
            fresh: false,
        };
        let written = self.write_items(dir, std::slice::from_ref(&job))?;
        written
            .into_iter()
            .next()
            .flatten()
            .with_context(|| format!("writing {}", dir.join(file).display()))
    }

    /// Writes the item files of `jobs` into `dir`, several at once when there are many, and
    /// returns their records in the order of `jobs`: `None` for a `fresh` name another file
    /// took in the meantime (nothing was written for it).
    ///
    /// Creating a file is mostly kernel time (on ext4 without a journal, allocating an inode
    /// skips every inode freed in the last seconds: after a mass deletion nearby, a
    /// millisecond a file), and a batch is thousands of independent files: spread over the
    /// cores, a batch takes a fraction of the wall time.
    pub(crate) fn write_items(
        &mut self,
        dir: &Path,
        jobs: &[ItemWrite<'_>],
    ) -> Result<Vec<Option<ItemRecord>>> {
        let lanes = if jobs.len() < PARALLEL_WRITES_FROM {
            1
        } else {
            std::thread::available_parallelism()
                .map_or(1, std::num::NonZero::get)
                .clamp(2, MAX_WRITERS)
        };
        let write = |job: &ItemWrite<'_>| -> Result<Option<ItemRecord>> {
            let path = dir.join(&job.file);
            let written = write_file(&path, job.data, job.fresh)
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(written.map(|(size, mtime)| ItemRecord {
                href: job.href.to_owned(),
                etag: job.etag.to_owned(),
                hash: hash(job.data),
                size,
                mtime,
            }))
        };
        let records: Vec<Option<ItemRecord>> = if lanes <= 1 {
            jobs.iter().map(write).collect::<Result<_>>()?
        } else {
            let chunk = jobs.len().div_ceil(lanes);
            std::thread::scope(|scope| -> Result<Vec<Option<ItemRecord>>> {
                let write = &write;
                let workers: Vec<_> = jobs
                    .chunks(chunk)
                    .map(|part| {
                        scope.spawn(move || {
                            part.iter()
                                .map(write)
                                .collect::<Result<Vec<Option<ItemRecord>>>>()
                        })
                    })
                    .collect();
                let mut records = Vec::with_capacity(jobs.len());
                for worker in workers {
                    let part = worker
                        .join()
                        .map_err(|_| anyhow::anyhow!("a file writer thread panicked"))??;
                    records.extend(part);
                }
                Ok(records)
            })?
        };
        for (job, record) in jobs.iter().zip(&records) {
            if record.is_some() {
                self.files.push(dir.join(&job.file));
            }
        }
        self.dirs.insert(dir.to_path_buf());
        Ok(records)
    }

    /// Makes every pending write and removal durable.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if self.files.is_empty() && self.dirs.is_empty() {
            return Ok(());
        }
        self.flush_all()
            .with_context(|| format!("flushing {} to disk", self.root.display()))?;
        self.files.clear();
        self.dirs.clear();
        Ok(())
    }

    /// Forgets the pending writes and removals when a flush of the whole file system ran
    /// after them elsewhere (a batch written and flushed by another thread): on Linux that
    /// flush made them durable too; elsewhere flushes are per file, and they stay pending.
    pub(crate) fn covered(&mut self) {
        if cfg!(target_os = "linux") {
            self.files.clear();
            self.dirs.clear();
        }
    }

    /// One `syncfs` of the folder's file system: files, renames and removals at once.
    #[cfg(target_os = "linux")]
    fn flush_all(&self) -> std::io::Result<()> {
        let root = std::fs::File::open(&self.root)?;
        rustix::fs::syncfs(&root).map_err(std::io::Error::from)
    }

    /// Each written file, then each changed folder.
    #[cfg(not(target_os = "linux"))]
    fn flush_all(&self) -> std::io::Result<()> {
        for path in &self.files {
            match std::fs::File::open(path) {
                Ok(file) => file.sync_all()?,
                // Replaced or removed later in the same batch: its successor is listed too.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        for dir in &self.dirs {
            // Folders cannot be opened for syncing everywhere (Windows); the files are.
            if let Ok(dir) = std::fs::File::open(dir) {
                dir.sync_all().ok();
            }
        }
        Ok(())
    }
}

/// The `.ics` files of a calendar folder (temporary and hidden files excluded).
#[cfg(test)]
fn item_files(dir: &Path) -> Result<BTreeSet<String>> {
    let mut files = BTreeSet::new();
    each_item_file(dir, |name, _| {
        files.insert(name);
        Ok(())
    })?;
    Ok(files)
}

/// Calls `found` with the name and directory entry of every `.ics` file of a calendar folder
/// (temporary and hidden files excluded); a missing folder has none.
fn each_item_file(
    dir: &Path,
    mut found: impl FnMut(String, &std::fs::DirEntry) -> Result<()>,
) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".ics") {
            continue;
        }
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            found(name, &entry)?;
        }
    }
    Ok(())
}

/// What changed in the calendar folder `dir` since `record` was saved.
#[cfg(test)]
fn local_changes(dir: &Path, record: &CalendarRecord) -> Result<Vec<LocalChange>> {
    scan(dir, record).map(|(changes, _)| changes)
}

/// What changed in the calendar folder `dir` since `record` was saved, and the item files
/// it holds.
pub(crate) fn scan(
    dir: &Path,
    record: &CalendarRecord,
) -> Result<(Vec<LocalChange>, BTreeSet<String>)> {
    let mut files = BTreeSet::new();
    let mut changes = Vec::new();
    each_item_file(dir, |file, entry| {
        let Some(item) = record.items.get(&file) else {
            changes.push(LocalChange::Created { file: file.clone() });
            files.insert(file);
            return Ok(());
        };
        // Through the folder's entry: a stat relative to the open folder, not a walk of the
        // whole path for each of a calendar's thousands of files.
        let meta = entry
            .metadata()
            .with_context(|| format!("reading {}", entry.path().display()))?;
        if meta.len() != item.size || mtime_of(&meta) != item.mtime {
            let path = dir.join(&file);
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            if hash(&bytes) != item.hash {
                changes.push(LocalChange::Edited { file: file.clone() });
            }
        }
        files.insert(file);
        Ok(())
    })?;
    // In name order, which the folder's listing does not give.
    changes.sort_by(|a, b| a.file().cmp(b.file()));
    for file in record.items.keys() {
        if !files.contains(file) {
            changes.push(LocalChange::Deleted { file: file.clone() });
        }
    }
    Ok((changes, files))
}

/// A safe file or folder name for the last segment of `href`: percent-decoded, with path
/// separators, control characters and a leading dot replaced, `.ics` appended for items.
pub(crate) fn name_from_href(href: &str, item: bool) -> String {
    let segment = href.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    let mut name: String = decoded
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if name.starts_with('.') {
        name.replace_range(..1, "_");
    }
    if name.is_empty() {
        name.push_str("item");
    }
    // File systems limit names to 255 bytes; keep room for `.ics` and a uniqueness suffix.
    if name.len() > 200 {
        let mut end = 200;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    if item && !name.ends_with(".ics") {
        name.push_str(".ics");
    }
    name
}

/// `name` if no file of `taken` has it, else `stem-2.ics`, `stem-3.ics`...
pub(crate) fn unique_name(name: &str, taken: &dyn Fn(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_owned();
    }
    let stem = name.strip_suffix(".ics").unwrap_or(name);
    let mut n = 2u64;
    loop {
        let candidate = format!("{stem}-{n}.ics");
        if !taken(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

/// Loads the state of the sync folder `dir` (the default state when there is none yet).
#[cfg(test)]
fn load_state(dir: &Path) -> Result<State> {
    Ok(load_state_and_digest(dir)?.0)
}

/// The state of the sync folder `dir` (the default state when there is none yet), and the
/// SHA-256 of the file as read (none when there is no file yet), for
/// [`save_state_if_changed`]. It equals [`state_digest`] of the state whenever the file is
/// what [`save_state`] writes; where it is not (a file of an older version), the first save
/// writes it again, which is all a mismatch can cost.
pub(crate) fn load_state_and_digest(dir: &Path) -> Result<(State, Option<Vec<u8>>)> {
    let path = dir.join(STATE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let mut state: State = serde_json::from_slice(&bytes)
                .with_context(|| format!("reading the sync state {}", path.display()))?;
            for record in state.calendars.values_mut() {
                record.reindex();
            }
            let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
            Ok((state, Some(digest.as_ref().to_vec())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((State::default(), None)),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Saves the state of the sync folder `dir` atomically.
pub(crate) fn save_state(dir: &Path, state: &State) -> Result<()> {
    // Streamed: the state of a large calendar is a megabyte, and it is saved at every batch.
    replace_with(&dir.join(STATE_FILE), true, |file| {
        serde_json::to_writer(file, state).map_err(std::io::Error::from)
    })
    .context("saving the sync state")
}

/// SHA-256 of `state` as [`save_state`] writes it, computed without writing anything.
pub(crate) fn state_digest(state: &State) -> Result<Vec<u8>> {
    struct Sink(ring::digest::Context);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // serde_json writes a few bytes at a time; the digest takes them in blocks.
    let mut sink = std::io::BufWriter::with_capacity(
        64 << 10,
        Sink(ring::digest::Context::new(&ring::digest::SHA256)),
    );
    serde_json::to_writer(&mut sink, state).context("encoding the sync state")?;
    let sink = sink
        .into_inner()
        .map_err(|e| e.into_error())
        .context("encoding the sync state")?;
    Ok(sink.0.finish().as_ref().to_vec())
}

/// Saves `state` unless `saved` is its digest (the state on disk is the same), and makes
/// `saved` its digest: a sync with nothing to do writes and flushes no megabyte of JSON.
pub(crate) fn save_state_if_changed(
    dir: &Path,
    state: &State,
    saved: &mut Option<Vec<u8>>,
) -> Result<()> {
    let digest = state_digest(state)?;
    if saved.as_ref() == Some(&digest) {
        return Ok(());
    }
    save_state(dir, state)?;
    *saved = Some(digest);
    Ok(())
}

/// The folder of a calendar inside the sync folder.
pub(crate) fn calendar_dir(root: &Path, folder: &str) -> PathBuf {
    root.join(folder)
}

/// Writes a one-line metadata file (`displayname`, `color`) when its content differs,
/// durable with the first batch.
pub(crate) fn write_meta(pending: &mut Pending, dir: &Path, name: &str, value: &str) -> Result<()> {
    let path = dir.join(name);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current.trim_end() != value {
        pending.write(&path, format!("{value}\n").as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("caldav-vdir-{}-{name}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = temp("atomic");
        let path = dir.join("a.ics");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.ics"]);
    }

    #[test]
    fn pending_writes_are_in_place_before_the_flush_and_forgotten_after_it() {
        let dir = temp("pending");
        let mut pending = Pending::new(&dir);
        pending.write(&dir.join("a.ics"), b"one").unwrap();
        pending.write(&dir.join("b.ics"), b"two").unwrap();
        pending.remove(&dir.join("b.ics")).unwrap();
        pending.remove(&dir.join("never.ics")).unwrap();
        assert_eq!(std::fs::read(dir.join("a.ics")).unwrap(), b"one");
        assert!(!dir.join("b.ics").exists());
        assert_eq!(pending.files.len(), 2);
        pending.flush().unwrap();
        assert!(pending.files.is_empty() && pending.dirs.is_empty());
        pending.flush().unwrap();
        assert_eq!(item_files(&dir).unwrap().len(), 1);
    }

    #[test]
    fn a_batch_is_written_by_several_threads_in_order_with_true_records() {
        let dir = temp("batch");
        let data: Vec<String> = (0..300).map(|i| format!("item {i}\n")).collect();
        let jobs: Vec<ItemWrite<'_>> = data
            .iter()
            .enumerate()
            .map(|(i, d)| ItemWrite {
                file: format!("{i:03}.ics"),
                href: "/c/x.ics",
                etag: "\"e\"",
                data: d.as_bytes(),
                fresh: true,
            })
            .collect();
        let mut pending = Pending::new(&dir);
        let records = pending.write_items(&dir, &jobs).unwrap();
        assert_eq!(records.len(), 300);
        for (job, record) in jobs.iter().zip(&records) {
            let record = record.as_ref().unwrap();
            let path = dir.join(&job.file);
            assert_eq!(std::fs::read(&path).unwrap(), job.data);
            assert_eq!(record.hash, hash(job.data));
            // The stamp taken from the open file is the one a later scan sees.
            assert_eq!((record.size, record.mtime), stamp(&path).unwrap());
        }
        assert_eq!(item_files(&dir).unwrap().len(), 300);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            300,
            "no temporary left"
        );
        pending.flush().unwrap();
    }

    #[test]
    fn a_fresh_name_taken_meanwhile_is_not_replaced() {
        let dir = temp("fresh");
        std::fs::write(dir.join("a.ics"), "the user's").unwrap();
        let mut pending = Pending::new(&dir);
        let jobs = [
            ItemWrite {
                file: "a.ics".into(),
                href: "/c/a.ics",
                etag: "\"1\"",
                data: b"the server's",
                fresh: true,
            },
            ItemWrite {
                file: "b.ics".into(),
                href: "/c/b.ics",
                etag: "\"1\"",
                data: b"b",
                fresh: true,
            },
        ];
        let records = pending.write_items(&dir, &jobs).unwrap();
        assert!(records[0].is_none());
        assert!(records[1].is_some());
        assert_eq!(std::fs::read(dir.join("a.ics")).unwrap(), b"the user's");
        // Not fresh: replaced.
        let record = pending
            .write_item(&dir, "a.ics", "/c/a.ics", "\"2\"", b"the server's")
            .unwrap();
        assert_eq!(record.etag, "\"2\"");
        assert_eq!(std::fs::read(dir.join("a.ics")).unwrap(), b"the server's");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            2,
            "no temporary left"
        );
    }

    #[test]
    fn a_flush_of_a_vanished_folder_is_an_error() {
        let dir = temp("vanished");
        let mut pending = Pending::new(&dir.join("gone"));
        pending.write(&dir.join("a.ics"), b"one").unwrap();
        assert!(pending.flush().is_err());
    }

    #[test]
    fn local_changes_finds_created_edited_deleted() {
        let dir = temp("changes");
        let mut record = CalendarRecord::default();
        let mut pending = Pending::new(&dir);
        for (file, data) in [("keep.ics", "k"), ("edit.ics", "e"), ("gone.ics", "g")] {
            let item = pending
                .write_item(&dir, file, &format!("/c/{file}"), "\"1\"", data.as_bytes())
                .unwrap();
            record.insert(file.to_owned(), item);
        }
        assert_eq!(local_changes(&dir, &record).unwrap(), []);
        std::fs::write(dir.join("edit.ics"), "edited").unwrap();
        std::fs::remove_file(dir.join("gone.ics")).unwrap();
        std::fs::write(dir.join("new.ics"), "n").unwrap();
        std::fs::write(dir.join(".new.ics.1.tmp"), "t").unwrap();
        std::fs::write(dir.join("displayname"), "x").unwrap();
        let mut changes = local_changes(&dir, &record).unwrap();
        changes.sort_by(|a, b| a.file().cmp(b.file()));
        assert_eq!(
            changes,
            [
                LocalChange::Edited {
                    file: "edit.ics".into()
                },
                LocalChange::Deleted {
                    file: "gone.ics".into()
                },
                LocalChange::Created {
                    file: "new.ics".into()
                },
            ]
        );
    }

    #[test]
    fn a_touched_file_with_the_same_content_is_unchanged() {
        let dir = temp("touch");
        let mut record = CalendarRecord::default();
        let item = Pending::new(&dir)
            .write_item(&dir, "a.ics", "/c/a.ics", "\"1\"", b"same")
            .unwrap();
        record.insert("a.ics".into(), item);
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("a.ics"), "same").unwrap();
        assert_eq!(local_changes(&dir, &record).unwrap(), []);
    }

    #[test]
    fn names_from_hrefs_are_safe() {
        assert_eq!(name_from_href("/cal/a%2Fb@c.ics", true), "a_b@c.ics");
        assert_eq!(name_from_href("/cal/..", true), "_..ics");
        assert_eq!(name_from_href("/cal/x", true), "x.ics");
        assert_eq!(name_from_href("/home/work/", false), "work");
        assert_eq!(name_from_href("/", false), "item");
        assert!(name_from_href(&format!("/c/{}", "é".repeat(300)), true).len() <= 204);
    }

    #[test]
    fn unique_names_get_a_suffix() {
        let taken = |n: &str| n == "a.ics" || n == "a-2.ics";
        assert_eq!(unique_name("a.ics", &taken), "a-3.ics");
        assert_eq!(unique_name("b.ics", &taken), "b.ics");
    }

    #[test]
    fn state_round_trips_through_the_file() {
        let dir = temp("state");
        assert_eq!(load_state(&dir).unwrap(), State::default());
        let mut state = State {
            server: "http://127.0.0.1:5232".into(),
            ..State::default()
        };
        let mut record = CalendarRecord {
            folder: "work".into(),
            ..CalendarRecord::default()
        };
        record.items.insert(
            "a.ics".into(),
            ItemRecord {
                href: "/c/a.ics".into(),
                etag: "\"1\"".into(),
                hash: hash(b"x"),
                size: 1,
                mtime: 5,
            },
        );
        state.calendars.insert("/c/".into(), record);
        save_state(&dir, &state).unwrap();
        assert_eq!(load_state(&dir).unwrap(), state);
    }

    #[test]
    fn an_unchanged_state_is_not_saved_again() {
        let dir = temp("unchanged");
        let path = dir.join(STATE_FILE);
        let mut state = State {
            server: "http://127.0.0.1:5232".into(),
            ..State::default()
        };
        let mut saved = None;
        save_state_if_changed(&dir, &state, &mut saved).unwrap();
        assert_eq!(load_state(&dir).unwrap(), state);
        // Unchanged: the file is left alone (a removed file stays removed).
        std::fs::remove_file(&path).unwrap();
        save_state_if_changed(&dir, &state, &mut saved).unwrap();
        assert!(!path.exists());
        // Changed: saved.
        state.server = "http://127.0.0.1:8008".into();
        save_state_if_changed(&dir, &state, &mut saved).unwrap();
        assert_eq!(load_state(&dir).unwrap(), state);
        assert_eq!(saved, Some(state_digest(&state).unwrap()));
    }

    #[test]
    fn a_loaded_state_is_not_saved_again_unchanged() {
        let dir = temp("loaded-digest");
        let path = dir.join(STATE_FILE);
        let mut state = State {
            server: "http://127.0.0.1:5232".into(),
            ..State::default()
        };
        let mut record = CalendarRecord::new("work".into());
        record.insert(
            "a.ics".into(),
            ItemRecord {
                href: "/cal/a.ics".into(),
                etag: "\"1\"".into(),
                hash: hash(b"x"),
                size: 1,
                mtime: 7,
            },
        );
        state.calendars.insert("/cal/".into(), record);
        save_state(&dir, &state).unwrap();
        let (loaded, mut saved) = load_state_and_digest(&dir).unwrap();
        assert_eq!(loaded, state);
        // The file's digest is the state's: a run that changes nothing writes nothing.
        assert_eq!(saved, Some(state_digest(&loaded).unwrap()));
        std::fs::remove_file(&path).unwrap();
        save_state_if_changed(&dir, &loaded, &mut saved).unwrap();
        assert!(!path.exists());
        // A file written otherwise (spaced, as by an older version or a hand) is saved again.
        std::fs::write(&path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
        let (loaded, mut saved) = load_state_and_digest(&dir).unwrap();
        assert_eq!(loaded, state);
        std::fs::remove_file(&path).unwrap();
        save_state_if_changed(&dir, &loaded, &mut saved).unwrap();
        assert_eq!(load_state(&dir).unwrap(), state);
        // No file: nothing to compare with.
        let empty = temp("loaded-digest-none");
        assert_eq!(
            load_state_and_digest(&empty).unwrap(),
            (State::default(), None)
        );
    }

    #[test]
    fn file_for_href_compares_canonically() {
        let mut record = CalendarRecord::default();
        record.items.insert(
            "a.ics".into(),
            ItemRecord {
                href: "/c/a%40b.ics".into(),
                ..ItemRecord::default()
            },
        );
        assert_eq!(
            record.file_for_href(&dav_xml::Href::new("/c/a@b.ics")),
            Some("a.ics")
        );
        assert_eq!(record.file_for_href(&dav_xml::Href::new("/c/z.ics")), None);
    }

    #[test]
    fn the_href_index_follows_inserts_renames_and_removals() {
        let mut record = CalendarRecord::default();
        let item = |href: &str| ItemRecord {
            href: href.into(),
            ..ItemRecord::default()
        };
        record.insert("a.ics".into(), item("/c/a%40b.ics"));
        record.insert("b.ics".into(), item("/c/b.ics"));
        let find = |r: &CalendarRecord, h: &str| {
            r.file_for_href(&dav_xml::Href::new(h)).map(str::to_owned)
        };
        assert_eq!(find(&record, "/c/a@b.ics").as_deref(), Some("a.ics"));
        // The file now holds another href: the old one is no longer found.
        record.insert("a.ics".into(), item("/c/other.ics"));
        assert_eq!(find(&record, "/c/a@b.ics"), None);
        assert_eq!(find(&record, "/c/other.ics").as_deref(), Some("a.ics"));
        record.remove("b.ics");
        assert_eq!(find(&record, "/c/b.ics"), None);
        // Changed behind the index's back: still found, by a scan.
        record.items.insert("c.ics".into(), item("/c/c.ics"));
        assert_eq!(find(&record, "/c/c.ics").as_deref(), Some("c.ics"));
    }
}
