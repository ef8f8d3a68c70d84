//! `caldav sync [CALENDAR...] DIR`: two-way sync between calendars and a vdir folder.
//!
//! 1. Local changes are found first (new, edited, deleted files since the last sync).
//! 2. The client-core sync machine brings the server's changes (sync-collection, or the
//!    ctag/etag ladder); each is written to its file atomically, unless the file was edited
//!    here too: that is a conflict, never resolved by overwriting.
//! 3. Local changes are uploaded with `If-None-Match: *` (new) or `If-Match` (edit, delete);
//!    a 412 is a conflict too.
//! 4. The state is saved after every batch, so a killed run resumes: every multiget answer is
//!    a checkpoint of the sync machine, whose items are written to their files before the
//!    state that claims them is saved, and a restarted run fetches only what no checkpoint
//!    delivered. A batch's files are written and flushed by a thread of their own while the
//!    next multiget is in flight; its state is saved when the next answer arrives. A file written but not recorded is adopted when its content equals the
//!    server's, an upload whose answer was lost is adopted when the server holds the same
//!    data.
//!
//! Conflicts: `--on-conflict report` (the default) touches neither side and exits 3 until
//! the user resolves it; `--on-conflict keep-both` keeps the server's version in the item's
//! file and the local version as a new file with its own UID, which is uploaded as a new item.

use anyhow::{Context, Result, anyhow, bail};
use caldav_client_core::RequestId;
use caldav_client_core::sync::{
    ChangeSet, InitialFetch, Item, SyncConfig, SyncMachine, SyncOutcome,
};
use caldav_client_core::write::{WriteConfig, WriteMachine, WriteOutcome, WriteRequest};
use caldav_tokio::{Drive, Step};
use clap::ValueEnum;
use dav_xml::Href;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::account::Global;
use crate::remote::{EXIT_CONFLICT, EXIT_NETWORK, Session};
use crate::vdir::{self, CalendarRecord, Discovery, KnownCalendar, LocalChange, State};

/// What to do when both sides changed an item.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum OnConflict {
    /// Leave both sides as they are, report the conflict and exit 3.
    #[default]
    Report,
    /// Keep both versions: the server's in the item's file, the local one as a new item.
    KeepBoth,
}

/// How many items are written or uploaded between two saves of the state.
const BATCH: usize = 50;

/// How many server items not delivered by a checkpoint are written between two saves.
const CHECKPOINT_ITEMS: usize = 500;

/// Progress: a bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}") {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Self { bar }
    }

    fn start(&self, what: &str, total: usize) {
        match &self.bar {
            Some(bar) => {
                bar.set_message(what.to_owned());
                bar.set_length(total as u64);
                bar.set_position(0);
            }
            None if total > 0 => eprintln!("{what}: {total} items"),
            None => {}
        }
    }

    fn tick(&self) {
        self.advance(1);
    }

    fn advance(&self, n: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
    }

    /// A checkpoint saved: `count` items of `folder` fetched so far, length unknown.
    fn saved(&self, folder: &str, count: usize) {
        match &self.bar {
            Some(bar) => bar.set_message(format!("{folder}: from server, {count} saved")),
            None => eprintln!("{folder}: {count} items from server, saved"),
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What one calendar's sync did.
#[derive(Debug, Default)]
struct Tally {
    down_new: usize,
    down_changed: usize,
    down_deleted: usize,
    up_new: usize,
    up_changed: usize,
    up_deleted: usize,
    conflicts: usize,
    errors: usize,
}

/// Where one server item goes (see [`Run::plan_item`]).
#[derive(Debug)]
struct Plan {
    /// The item's index in its batch.
    index: usize,
    /// Its file's name.
    file: String,
    /// A new name: written only if no file took it meanwhile.
    fresh: bool,
    /// The item was known (a changed item, not a new one).
    known: bool,
}

impl Plan {
    fn write<'i>(&self, item: &'i Item) -> vdir::ItemWrite<'i> {
        vdir::ItemWrite {
            file: self.file.clone(),
            href: item.href.as_str(),
            etag: &item.etag,
            data: item.data.as_bytes(),
            fresh: self.fresh,
        }
    }
}

/// What a writer thread hands back: the checkpoint's items and the records of their files
/// (in the order of the plans).
type Written = Result<(Vec<Item>, Vec<Option<vdir::ItemRecord>>)>;

/// A checkpoint's files, written and flushed by a thread of their own while the next
/// request is in flight.
struct Writing {
    key: String,
    dir: PathBuf,
    folder: String,
    plans: Vec<Plan>,
    /// The machine's state of the calendar at this checkpoint, saved once the files are
    /// durable; `None` when the machine was done (the final save claims them).
    snapshot: Option<caldav_client_core::sync::CalendarState>,
    thread: std::thread::JoinHandle<Written>,
}

/// Calendar data compared as iCalendar content: line ends, folding, trailing space and the
/// order of lines do not matter (servers such as Radicale store a reordered copy of what was
/// sent, so a byte comparison would call our own upload a conflict).
fn same_data(a: &str, b: &str) -> bool {
    fn lines(s: &str) -> Vec<String> {
        let unfolded = s
            .replace("\r\n", "\n")
            .replace("\n ", "")
            .replace("\n\t", "");
        let mut lines: Vec<String> = unfolded
            .lines()
            .map(|l| l.trim_end().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        lines.sort_unstable();
        lines
    }
    lines(a) == lines(b)
}

/// A copy of `data` with a new UID (`UID-conflict-HASH`), for keeping both versions.
fn with_new_uid(data: &str) -> String {
    let suffix = vdir::hash(data.as_bytes());
    let suffix = suffix.get(..8).unwrap_or("conflict");
    data.split_inclusive('\n')
        .map(|line| {
            if let Some(rest) = line.strip_prefix("UID:") {
                let end = rest.trim_end_matches(['\r', '\n']);
                let tail = rest.get(end.len()..).unwrap_or("\r\n");
                format!("UID:{end}-conflict-{suffix}{tail}")
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// The sync of one folder.
struct Run<'a> {
    session: &'a Session,
    root: PathBuf,
    state: State,
    on_conflict: OnConflict,
    progress: Progress,
    since_save: usize,
    /// Files written since the last save, made durable just before it.
    pending: vdir::Pending,
    /// The digest of the state on disk, when known.
    saved: Option<Vec<u8>>,
    /// Per calendar key, the item files in its folder: scanned once at the start and kept up
    /// to date, so that naming a new item asks no file system.
    present: BTreeMap<String, BTreeSet<String>>,
    /// Written and recorded items that no saved state claims yet: the last checkpoint's,
    /// when the machine was done with it (the final save claims them).
    unsaved: bool,
}

impl Run<'_> {
    fn save(&mut self) -> Result<()> {
        self.since_save = 0;
        self.unsaved = false;
        // The files first, then the state that claims them.
        self.pending.flush()?;
        vdir::save_state_if_changed(&self.root, &self.state, &mut self.saved)
    }

    fn counted(&mut self) -> Result<()> {
        self.progress.tick();
        self.since_save += 1;
        if self.since_save >= BATCH {
            self.save()?;
        }
        Ok(())
    }

    fn record(&mut self, key: &str) -> Result<&mut CalendarRecord> {
        self.state
            .calendars
            .get_mut(key)
            .with_context(|| format!("no record of {key}"))
    }

    fn conflict(&self, tally: &mut Tally, folder: &str, file: &str, what: &str) {
        tally.conflicts += 1;
        self.progress
            .line(&format!("conflict: {folder}/{file}: {what}"));
    }

    /// Saves the local version of `file` as a new item (new UID), to be uploaded.
    fn keep_local_copy(&mut self, dir: &Path, file: &str, local: &str) -> Result<String> {
        let stem = file.strip_suffix(".ics").unwrap_or(file);
        let copy = vdir::unique_name(&format!("{stem}-conflict.ics"), &|n| dir.join(n).exists());
        self.pending
            .write(&dir.join(&copy), with_new_uid(local).as_bytes())?;
        self.present_in(dir).insert(copy.clone());
        Ok(copy)
    }

    /// The item files known to be in the calendar folder `dir`.
    fn present_in(&mut self, dir: &Path) -> &mut BTreeSet<String> {
        self.present
            .entry(dir.to_string_lossy().into_owned())
            .or_default()
    }

    /// Applies the server's changes to one calendar folder.
    fn apply(
        &mut self,
        key: &str,
        changes: &ChangeSet,
        delivered: &BTreeMap<String, String>,
        local: &mut BTreeMap<String, LocalChange>,
        tally: &mut Tally,
    ) -> Result<()> {
        let folder = self.record(key)?.folder.clone();
        let dir = vdir::calendar_dir(&self.root, &folder);
        // Items a checkpoint delivered, in this version, are already written (or reported as
        // conflicts).
        let items: Vec<&Item> = changes
            .added
            .iter()
            .chain(&changes.changed)
            .filter(|item| delivered.get(&item.href.canonical()) != Some(&item.etag))
            .collect();
        let total = items.len() + changes.deleted.len();
        self.progress
            .start(&format!("{folder}: from server"), total);
        for chunk in items.chunks(CHECKPOINT_ITEMS) {
            self.apply_items(key, &dir, &folder, chunk, local, tally)?;
            self.progress.advance(chunk.len());
            self.save()?;
        }
        for href in &changes.deleted {
            let record = self.record(key)?;
            let Some(file) = record.file_for_href(href).map(str::to_owned) else {
                self.counted()?;
                continue;
            };
            match local.get(&file) {
                Some(LocalChange::Edited { .. }) => {
                    local.remove(&file);
                    self.conflict(tally, &folder, &file, "deleted on the server, edited here");
                    if self.on_conflict == OnConflict::KeepBoth {
                        // The local version lives on as a new item.
                        self.record(key)?.remove(&file);
                        local.insert(file.clone(), LocalChange::Created { file });
                    }
                }
                _ => {
                    local.remove(&file);
                    self.pending.remove(&dir.join(&file))?;
                    self.present_in(&dir).remove(&file);
                    self.record(key)?.remove(&file);
                    tally.down_deleted += 1;
                }
            }
            self.counted()?;
        }
        Ok(())
    }

    /// Applies the server's `items` to the calendar folder `dir`: decides each item's file,
    /// writes them (several at once), records them.
    fn apply_items(
        &mut self,
        key: &str,
        dir: &Path,
        folder: &str,
        items: &[&Item],
        local: &mut BTreeMap<String, LocalChange>,
        tally: &mut Tally,
    ) -> Result<()> {
        let mut todo: Vec<&Item> = items.to_vec();
        // A retry only follows a file that appeared under a new item's name during the sync.
        for _ in 0..8 {
            let plans = self.plan_all(key, dir, folder, &todo, local, tally)?;
            let writes: Vec<vdir::ItemWrite<'_>> = plans
                .iter()
                .filter_map(|p| todo.get(p.index).map(|item| p.write(item)))
                .collect();
            let records = self.pending.write_items(dir, &writes)?;
            let again = self.commit(key, &plans, records, tally)?;
            if again.is_empty() {
                return Ok(());
            }
            todo = again
                .into_iter()
                .filter_map(|i| todo.get(i).copied())
                .collect();
        }
        bail!("no free file name for new items in {}", dir.display())
    }

    /// [`Run::plan_item`] for each of `items`.
    fn plan_all(
        &mut self,
        key: &str,
        dir: &Path,
        folder: &str,
        items: &[&Item],
        local: &mut BTreeMap<String, LocalChange>,
        tally: &mut Tally,
    ) -> Result<Vec<Plan>> {
        let mut plans = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            if let Some((write, known)) = self.plan_item(key, dir, folder, item, local, tally)? {
                plans.push(Plan {
                    index,
                    file: write.file,
                    fresh: write.fresh,
                    known,
                });
            }
        }
        Ok(plans)
    }

    /// Records what `plans` wrote (`records`, in the same order); returns the indexes of the
    /// items whose fresh name was taken meanwhile, to be planned again.
    fn commit(
        &mut self,
        key: &str,
        plans: &[Plan],
        records: Vec<Option<vdir::ItemRecord>>,
        tally: &mut Tally,
    ) -> Result<Vec<usize>> {
        let mut again = Vec::new();
        for (plan, record) in plans.iter().zip(records) {
            let Some(record) = record else {
                again.push(plan.index);
                continue;
            };
            if plan.known {
                tally.down_changed += 1;
            } else {
                tally.down_new += 1;
            }
            self.record(key)?.insert(plan.file.clone(), record);
        }
        Ok(again)
    }

    /// Decides what the server's `item` does to its file: the write (and whether the item
    /// was known), or `None` when nothing is written (our own upload coming back, or a
    /// conflict left alone).
    fn plan_item<'i>(
        &mut self,
        key: &str,
        dir: &Path,
        folder: &str,
        item: &'i Item,
        local: &mut BTreeMap<String, LocalChange>,
        tally: &mut Tally,
    ) -> Result<Option<(vdir::ItemWrite<'i>, bool)>> {
        let present = self
            .present
            .entry(dir.to_string_lossy().into_owned())
            .or_default();
        let record = self
            .state
            .calendars
            .get(key)
            .with_context(|| format!("no record of {key}"))?;
        let known = record.file_for_href(&item.href).map(str::to_owned);
        let (file, fresh) = match &known {
            Some(file) => {
                if record.items.get(file).is_some_and(|r| r.etag == item.etag) {
                    // Our own upload coming back: the file already holds it.
                    return Ok(None);
                }
                (file.clone(), false)
            }
            None => {
                let wanted = vdir::name_from_href(item.href.as_str(), true);
                // A file written by a run that was killed before saving the state.
                let same = !record.items.contains_key(&wanted)
                    && present.contains(&wanted)
                    && std::fs::read_to_string(dir.join(&wanted))
                        .is_ok_and(|d| same_data(&d, &item.data));
                if same {
                    (wanted, false)
                } else {
                    let name = vdir::unique_name(&wanted, &|n| {
                        record.items.contains_key(n) || present.contains(n)
                    });
                    (name, true)
                }
            }
        };
        present.insert(file.clone());
        let path = dir.join(&file);
        match local.get(&file) {
            Some(LocalChange::Edited { .. }) => {
                let mine = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                local.remove(&file);
                if !same_data(&mine, &item.data) {
                    self.conflict(tally, folder, &file, "changed on the server and here");
                    if self.on_conflict == OnConflict::Report {
                        return Ok(None);
                    }
                    let copy = self.keep_local_copy(dir, &file, &mine)?;
                    local.insert(copy.clone(), LocalChange::Created { file: copy });
                }
            }
            Some(LocalChange::Created { .. }) => {
                // Only reached for a file with the server's content (adopted above).
                local.remove(&file);
            }
            Some(LocalChange::Deleted { .. }) => {
                // Deleted here, changed there: the newer server version comes back.
                local.remove(&file);
                self.progress.line(&format!(
                    "restored {folder}/{file}: changed on the server after it was deleted here"
                ));
            }
            None => {}
        }
        let write = vdir::ItemWrite {
            file,
            href: item.href.as_str(),
            etag: &item.etag,
            data: item.data.as_bytes(),
            fresh,
        };
        Ok(Some((write, known.is_some())))
    }

    /// Uploads one calendar's local changes.
    async fn upload(
        &mut self,
        key: &str,
        collection: &Href,
        local: BTreeMap<String, LocalChange>,
        tally: &mut Tally,
    ) -> Result<()> {
        let folder = self.record(key)?.folder.clone();
        let dir = vdir::calendar_dir(&self.root, &folder);
        let mut queue: VecDeque<LocalChange> = local.into_values().collect();
        self.progress
            .start(&format!("{folder}: to server"), queue.len());
        while let Some(change) = queue.pop_front() {
            let file = change.file().to_owned();
            let path = dir.join(&file);
            let record = self.record(key)?.items.get(&file).cloned();
            let request = match (&change, &record) {
                (LocalChange::Created { .. }, _) | (_, None) => {
                    let Ok(data) = std::fs::read_to_string(&path) else {
                        self.counted()?;
                        continue;
                    };
                    WriteRequest::Create {
                        collection: collection.clone(),
                        data,
                    }
                }
                (LocalChange::Edited { .. }, Some(r)) => WriteRequest::Update {
                    href: Href::new(r.href.clone()),
                    etag: r.etag.clone(),
                    data: std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?,
                },
                (LocalChange::Deleted { .. }, Some(r)) => WriteRequest::Delete {
                    href: Href::new(r.href.clone()),
                    etag: r.etag.clone(),
                },
            };
            let data = match &request {
                WriteRequest::Create { data, .. } | WriteRequest::Update { data, .. } => {
                    Some(data.clone())
                }
                _ => None,
            };
            let target =
                WriteMachine::new(WriteConfig::new(self.session.base.clone(), request.clone()))
                    .href()
                    .ok()
                    .cloned();
            let outcome = match self.session.write(request).await {
                Ok(outcome) => outcome,
                Err(error) => {
                    let code = error.downcast_ref::<crate::remote::Exit>().map(|e| e.code);
                    if code == Some(EXIT_NETWORK) {
                        return Err(error);
                    }
                    if let (Some(EXIT_CONFLICT), Some(href)) = (code, &target) {
                        // A refused condition named in a DAV:error body: read the server's side.
                        let theirs = self.session.fetch(href).await?;
                        self.on_412(
                            key, &dir, &folder, &file, &change, data, theirs, &mut queue, tally,
                        )?;
                        self.counted()?;
                        continue;
                    }
                    if matches!(change, LocalChange::Deleted { .. })
                        && format!("{error}").contains("not found")
                    {
                        // Already gone on the server: the deletion is done.
                        self.record(key)?.remove(&file);
                        tally.up_deleted += 1;
                    } else {
                        tally.errors += 1;
                        self.progress
                            .line(&format!("error: {folder}/{file}: {error:#}"));
                    }
                    self.counted()?;
                    continue;
                }
            };
            match outcome {
                WriteOutcome::Created { href, etag } | WriteOutcome::Updated { href, etag } => {
                    let data = data.unwrap_or_default();
                    let new = record_for(&path, href.as_str(), etag.as_deref(), &data)?;
                    if matches!(change, LocalChange::Created { .. }) {
                        tally.up_new += 1;
                    } else {
                        tally.up_changed += 1;
                    }
                    self.record(key)?.insert(file, new);
                }
                WriteOutcome::Deleted { .. } => {
                    self.record(key)?.remove(&file);
                    tally.up_deleted += 1;
                }
                WriteOutcome::Conflict(conflict) => {
                    let theirs = Theirs {
                        href: conflict.href,
                        etag: conflict.server_etag,
                        data: conflict.server_data,
                    };
                    self.on_412(
                        key, &dir, &folder, &file, &change, data, theirs, &mut queue, tally,
                    )?;
                }
                _ => {}
            }
            self.counted()?;
        }
        Ok(())
    }

    /// A conditional upload was refused: adopt the server's side when it holds our data,
    /// else report the conflict and, with keep-both, keep both versions.
    #[allow(clippy::too_many_arguments)]
    fn on_412(
        &mut self,
        key: &str,
        dir: &Path,
        folder: &str,
        file: &str,
        change: &LocalChange,
        mine: Option<String>,
        theirs: Theirs,
        queue: &mut VecDeque<LocalChange>,
        tally: &mut Tally,
    ) -> Result<()> {
        if let (Some(mine), Some(data)) = (&mine, &theirs.data)
            && same_data(mine, data)
        {
            // An upload whose answer was lost: the server has our data.
            let new = record_for(
                &dir.join(file),
                theirs.href.as_str(),
                theirs.etag.as_deref(),
                mine,
            )?;
            self.record(key)?.insert(file.to_owned(), new);
            return Ok(());
        }
        let what = match (change, &theirs.data) {
            (LocalChange::Created { .. }, _) => {
                "an object with this UID already exists on the server"
            }
            (_, None) => "edited here, deleted on the server",
            (LocalChange::Deleted { .. }, Some(_)) => "deleted here, changed on the server",
            _ => "changed here and on the server",
        };
        self.conflict(tally, folder, file, what);
        if self.on_conflict == OnConflict::Report {
            return Ok(());
        }
        if matches!(change, LocalChange::Created { .. }) {
            // Two different objects share a UID: the local one gets its own.
            if let Some(mine) = mine {
                self.pending
                    .write(&dir.join(file), with_new_uid(&mine).as_bytes())?;
                queue.push_back(LocalChange::Created {
                    file: file.to_owned(),
                });
            }
            return Ok(());
        }
        match theirs.data {
            Some(data) => {
                if let Some(mine) = mine {
                    let copy = self.keep_local_copy(dir, file, &mine)?;
                    queue.push_back(LocalChange::Created { file: copy });
                }
                let etag = theirs.etag.unwrap_or_default();
                let new = self.pending.write_item(
                    dir,
                    file,
                    theirs.href.as_str(),
                    &etag,
                    data.as_bytes(),
                )?;
                self.record(key)?.insert(file.to_owned(), new);
            }
            None => {
                // Gone on the server: the local version is uploaded as a new object.
                self.record(key)?.remove(file);
                queue.push_back(LocalChange::Created {
                    file: file.to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// The sync machine, run by the driver, with every checkpoint applied to the folder and the
/// state saved as soon as it arrives: a killed run loses at most the batch in flight.
struct Checkpointing<'r, 's> {
    machine: SyncMachine,
    run: &'r mut Run<'s>,
    local: &'r mut BTreeMap<String, BTreeMap<String, LocalChange>>,
    tallies: BTreeMap<String, Tally>,
    /// Per calendar key, the canonical hrefs checkpoints delivered, with their etags.
    delivered: BTreeMap<String, BTreeMap<String, String>>,
    /// A local failure (disk full, permissions) that stopped the run.
    error: Option<anyhow::Error>,
    /// What the machine said right after the last answer (polled early to learn whether it
    /// is done), for the driver's next [`Drive::step`].
    next: Option<Step<RequestId, Result<SyncOutcome, caldav_client_core::Error>>>,
    /// The last checkpoint's files, being written while the next request is in flight.
    writing: Option<Writing>,
}

impl Checkpointing<'_, '_> {
    /// Applies the machine's checkpoints until `keep` are left.
    fn drain(&mut self, keep: usize) -> Result<(), String> {
        if self.error.is_some() {
            return Err("stopped by a local error".to_owned());
        }
        if let Err(error) = self.apply_checkpoints(keep) {
            let message = format!("{error:#}");
            self.error = Some(error);
            return Err(message);
        }
        Ok(())
    }

    fn apply_checkpoints(&mut self, keep: usize) -> Result<()> {
        let done = matches!(self.next, Some(Step::Done(_)));
        while self.machine.pending_checkpoints() > keep {
            let Some(checkpoint) = self.machine.poll_checkpoint() else {
                break;
            };
            // One batch in the air at a time: the previous one is durable and claimed first.
            self.settle()?;
            let key = checkpoint.calendar.canonical();
            let folder = self.run.record(&key)?.folder.clone();
            let dir = vdir::calendar_dir(&self.run.root, &folder);
            let local = self.local.entry(key.clone()).or_default();
            let tally = self.tallies.entry(key.clone()).or_default();
            let items: Vec<&Item> = checkpoint.items.iter().collect();
            let plans = self
                .run
                .plan_all(&key, &dir, &folder, &items, local, tally)?;
            // With the machine done, its state is the final one, which the outcome's
            // processing keeps only once it is applied; the final save claims these files.
            let snapshot = if done {
                None
            } else {
                self.machine.state().calendars.get(&key).cloned()
            };
            let jobs: Vec<(usize, String, bool)> = plans
                .iter()
                .map(|p| (p.index, p.file.clone(), p.fresh))
                .collect();
            let items = checkpoint.items;
            let root = self.run.root.clone();
            let target = dir.clone();
            let thread = std::thread::Builder::new()
                .name("caldav-writer".to_owned())
                .spawn(move || -> Written {
                    let writes: Vec<vdir::ItemWrite<'_>> = jobs
                        .iter()
                        .filter_map(|(index, file, fresh)| {
                            let item = items.get(*index)?;
                            Some(vdir::ItemWrite {
                                file: file.clone(),
                                href: item.href.as_str(),
                                etag: &item.etag,
                                data: item.data.as_bytes(),
                                fresh: *fresh,
                            })
                        })
                        .collect();
                    let mut pending = vdir::Pending::new(&root);
                    let records = pending.write_items(&target, &writes)?;
                    pending.flush()?;
                    drop(writes);
                    Ok((items, records))
                })
                .context("starting a file writer thread")?;
            self.writing = Some(Writing {
                key,
                dir,
                folder,
                plans,
                snapshot,
                thread,
            });
            if done {
                self.settle()?;
            }
        }
        Ok(())
    }

    /// Waits for the batch being written, records its files, and saves the state that
    /// claims them (with the machine done, leaves that to the final save).
    fn settle(&mut self) -> Result<()> {
        let Some(writing) = self.writing.take() else {
            return Ok(());
        };
        let (items, records) = writing
            .thread
            .join()
            .map_err(|_| anyhow!("a file writer thread panicked"))??;
        // The writer's flush of the file system made everything written before it durable.
        self.run.pending.covered();
        let key = writing.key;
        let local = self.local.entry(key.clone()).or_default();
        let tally = self.tallies.entry(key.clone()).or_default();
        let again = self.run.commit(&key, &writing.plans, records, tally)?;
        if !again.is_empty() {
            // Names a file took while the batch was written: decided again, written here.
            let retry: Vec<&Item> = again.iter().filter_map(|i| items.get(*i)).collect();
            self.run
                .apply_items(&key, &writing.dir, &writing.folder, &retry, local, tally)?;
        }
        let delivered = self.delivered.entry(key.clone()).or_default();
        for item in &items {
            delivered.insert(item.href.canonical(), item.etag.clone());
        }
        self.run.progress.advance(items.len());
        let Some(snapshot) = writing.snapshot else {
            self.run.unsaved = true;
            return Ok(());
        };
        // The files first, then the state that claims them.
        self.run.state.sync.calendars.insert(key.clone(), snapshot);
        self.run.save()?;
        let count = self.delivered.get(&key).map_or(0, BTreeMap::len);
        self.run.progress.saved(&writing.folder, count);
        Ok(())
    }

    /// The machine's next output as a driver step.
    fn poll_step(&mut self) -> Step<RequestId, Result<SyncOutcome, caldav_client_core::Error>> {
        use caldav_client_core::{Machine as _, Output};
        match self.machine.poll() {
            Output::Http { id, request } => Step::Http { id, request },
            Output::Done(result) => Step::Done(result),
            _ => Step::Wait,
        }
    }
}

impl Drive for Checkpointing<'_, '_> {
    type Id = RequestId;
    type Outcome = Result<SyncOutcome, caldav_client_core::Error>;

    fn step(&mut self) -> Step<RequestId, Self::Outcome> {
        match self.next.take() {
            Some(step) => step,
            None => self.poll_step(),
        }
    }

    fn answer(
        &mut self,
        id: RequestId,
        response: http::Response<bytes::Bytes>,
    ) -> Result<(), String> {
        use caldav_client_core::Machine as _;
        self.machine
            .handle_response(id, response)
            .map_err(|e| e.to_string())?;
        // An answer may bring several checkpoints (an inline first sync's pieces): all but
        // the last are claimed and saved while the machine cannot yet be done, so a kill
        // loses at most one piece; the last may ride with the final save.
        self.drain(1)?;
        self.next = Some(self.poll_step());
        self.drain(0)
    }

    fn fail(&mut self, id: RequestId, error: &caldav_tokio::Error) -> Result<(), String> {
        use caldav_client_core::Machine as _;
        self.machine
            .handle_failure(
                id,
                caldav_client_core::TransportFailure::new(error.to_string()),
            )
            .map_err(|e| e.to_string())?;
        // An answer may bring several checkpoints (an inline first sync's pieces): all but
        // the last are claimed and saved while the machine cannot yet be done, so a kill
        // loses at most one piece; the last may ride with the final save.
        self.drain(1)?;
        self.next = Some(self.poll_step());
        self.drain(0)
    }
}

/// The server's side of a refused write.
pub(crate) struct Theirs {
    /// The object.
    pub(crate) href: Href,
    /// Its current etag.
    pub(crate) etag: Option<String>,
    /// Its current data; `None` when it is gone.
    pub(crate) data: Option<String>,
}

/// The record of a file just uploaded (the data sent, the etag the server gave).
fn record_for(path: &Path, href: &str, etag: Option<&str>, data: &str) -> Result<vdir::ItemRecord> {
    let (size, mtime) = vdir::stamp(path)?;
    Ok(vdir::ItemRecord {
        href: href.to_owned(),
        etag: etag.unwrap_or_default().to_owned(),
        hash: vdir::hash(data.as_bytes()),
        size,
        mtime,
    })
}

/// `caldav sync [CALENDAR...] DIR`; `rediscover` ignores the folder's discovery cache.
pub(crate) async fn sync(
    global: &Global,
    names: &[String],
    root: &Path,
    on_conflict: OnConflict,
    rediscover: bool,
) -> Result<ExitCode> {
    let session = Session::open(global).await?;
    let mut result = sync_in(&session, names, root, on_conflict, rediscover).await;
    if let Ok(Pass::Stale) = result {
        // A calendar is not where the cache says: what was fetched is saved, the rest is
        // done again from a fresh discovery.
        result = sync_in(&session, names, root, on_conflict, true).await;
    }
    session.finish()?;
    match result? {
        Pass::Done(code) => Ok(code),
        Pass::Stale => bail!("the calendars moved while they were being discovered; run again"),
    }
}

/// How one pass of a sync ended.
enum Pass {
    /// The sync ran; the process exits with this code.
    Done(ExitCode),
    /// The discovery cache sent a calendar's REPORT where the calendar no longer is.
    Stale,
}

/// Whether a calendar's failed sync says that the calendar is no longer at its href, or no
/// longer ours to read: discovery may find where it went (RFC 4918 §9.1, RFC 6578 §3.2).
fn is_stale(error: &caldav_client_core::Error) -> bool {
    use caldav_client_core::Error as E;
    match error {
        E::NotFound { .. } => true,
        E::Status { status, .. } => matches!(status, 301 | 302 | 303 | 307 | 308 | 403 | 410),
        E::Precondition { status, .. } => *status == 403,
        _ => false,
    }
}

/// The account's calendars, from the folder's discovery cache when it is usable, else from
/// a fresh bootstrap and listing (which is cached). Returns whether the cache answered.
async fn known_calendars(
    session: &Session,
    state: &mut State,
    names: &[String],
    rediscover: bool,
) -> Result<(Vec<KnownCalendar>, bool)> {
    let context = session.context.to_string();
    if !rediscover
        && let Some(cached) = &state.discovery
        && cached.context == context
        && cached.quirks == session.quirks
        && names
            .iter()
            .all(|n| cached.calendars.iter().any(|c| c.is_named(n)))
    {
        return Ok((cached.calendars.clone(), true));
    }
    let account = session.account().await?;
    let all = session.calendars_to_sync(&account).await?;
    let discovery = Discovery::of(&session.context, &session.quirks, &account, &all);
    let calendars = discovery.calendars.clone();
    state.discovery = Some(discovery);
    Ok((calendars, false))
}

/// The calendar `name` names (display name or last href segment).
fn find_known<'a>(calendars: &'a [KnownCalendar], name: &str) -> Result<&'a KnownCalendar> {
    let matches: Vec<&KnownCalendar> = calendars.iter().filter(|c| c.is_named(name)).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => {
            let known: Vec<String> = calendars.iter().map(KnownCalendar::name).collect();
            bail!("no calendar {name:?} (calendars: {})", known.join(", "))
        }
        _ => bail!("{name:?} names several calendars; use the last segment of its href"),
    }
}

async fn sync_in(
    session: &Session,
    names: &[String],
    root: &Path,
    on_conflict: OnConflict,
    rediscover: bool,
) -> Result<Pass> {
    std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
    let (mut state, saved) = vdir::load_state_and_digest(root)?;
    let server = session.base.to_string();
    if state.server.is_empty() {
        state.server = server.clone();
    } else if state.server != server {
        bail!(
            "{} is synced with {}, not {server}; use another folder",
            root.display(),
            state.server
        );
    }
    let (all, from_cache) = known_calendars(session, &mut state, names, rediscover).await?;
    let chosen: Vec<KnownCalendar> = if names.is_empty() {
        all.clone()
    } else {
        names
            .iter()
            .map(|n| find_known(&all, n).cloned())
            .collect::<Result<_>>()?
    };
    if chosen.is_empty() {
        bail!("the account has no calendar to sync");
    }
    let chosen: Vec<(Href, KnownCalendar)> = chosen
        .into_iter()
        .map(|c| (Href::new(c.href.clone()), c))
        .collect();

    // Folders and local changes, before the server's changes touch anything.
    let mut local_changes: BTreeMap<String, BTreeMap<String, LocalChange>> = BTreeMap::new();
    let mut present = BTreeMap::new();
    let mut pending = vdir::Pending::new(root);
    for (href, calendar) in &chosen {
        let key = href.canonical();
        if !state.calendars.contains_key(&key) {
            let wanted = vdir::name_from_href(href.as_str(), false);
            let taken: Vec<String> = state.calendars.values().map(|r| r.folder.clone()).collect();
            let mut folder = wanted.clone();
            let mut n = 2;
            while taken.contains(&folder) {
                folder = format!("{wanted}-{n}");
                n += 1;
            }
            state
                .calendars
                .insert(key.clone(), CalendarRecord::new(folder));
        }
        let record = state
            .calendars
            .get(&key)
            .context("calendar record vanished")?;
        let dir = vdir::calendar_dir(root, &record.folder);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        vdir::write_meta(&mut pending, &dir, "displayname", &calendar.name())?;
        if let Some(color) = &calendar.color {
            vdir::write_meta(&mut pending, &dir, "color", color)?;
        }
        let (changes, files) = vdir::scan(&dir, record)?;
        let changes = changes
            .into_iter()
            .map(|c| (c.file().to_owned(), c))
            .collect();
        local_changes.insert(key, changes);
        present.insert(dir.to_string_lossy().into_owned(), files);
    }
    // Not saved yet: nothing on disk depends on the new records until the first batch, whose
    // save carries them (and the discovery) along.

    let hrefs: Vec<Href> = chosen.iter().map(|(href, _)| href.clone()).collect();
    let machine = SyncMachine::new(
        {
            let mut config = SyncConfig::new(session.base.clone(), hrefs)
                .with_checkpoints()
                .with_quirks(session.quirks.clone());
            // A first sync in one answer, handed out in checkpoints of a multiget batch: a
            // kill while it arrives costs that one request again, a kill after it at most a
            // batch (see client-core's `InitialFetch`).
            config.initial_fetch = InitialFetch::Inline;
            config
        },
        state.sync.clone(),
    );
    let mut run = Run {
        session,
        root: root.to_path_buf(),
        state,
        on_conflict,
        progress: Progress::new(),
        since_save: 0,
        pending,
        saved,
        present,
        unsaved: false,
    };
    run.progress.start("from server", 0);
    let mut driven = Checkpointing {
        machine,
        run: &mut run,
        local: &mut local_changes,
        tallies: BTreeMap::new(),
        delivered: BTreeMap::new(),
        error: None,
        next: None,
        writing: None,
    };
    let result = session.driver.run(&mut driven).await;
    if let Some(error) = driven.error.take() {
        // The batch in the air is finished (its files kept, unclaimed) before the error goes.
        driven.settle().ok();
        return Err(error);
    }
    // The last batch is claimed whatever the outcome (a failure after it keeps it).
    driven.settle()?;
    let Checkpointing {
        machine,
        tallies,
        delivered,
        ..
    } = driven;
    let finished = finish(
        &mut run,
        &chosen,
        result,
        machine,
        tallies,
        delivered,
        &mut local_changes,
        from_cache,
    )
    .await;
    if run.unsaved {
        // Whatever happened after the last checkpoint, what it wrote is claimed.
        let saved = run.save();
        if finished.is_ok() {
            saved?;
        }
    }
    finished
}

/// What follows the sync machine's run: its outcome applied to each folder, the local
/// changes uploaded, the summary printed.
#[allow(clippy::too_many_arguments)]
async fn finish(
    run: &mut Run<'_>,
    chosen: &[(Href, KnownCalendar)],
    result: Result<Result<SyncOutcome, caldav_client_core::Error>, caldav_tokio::Error>,
    machine: SyncMachine,
    mut tallies: BTreeMap<String, Tally>,
    delivered: BTreeMap<String, BTreeMap<String, String>>,
    local_changes: &mut BTreeMap<String, BTreeMap<String, LocalChange>>,
    from_cache: bool,
) -> Result<Pass> {
    let outcome = result
        .map_err(|e| anyhow!("sync: {e}"))?
        .map_err(|e| crate::remote::core_error("sync", e))?;
    let new_sync_state = machine.into_state();
    if from_cache
        && outcome
            .calendars
            .iter()
            .any(|c| c.result.as_ref().is_err_and(is_stale))
    {
        // What checkpoints delivered is kept; the next pass starts from a fresh discovery.
        run.state.discovery = None;
        run.save()?;
        return Ok(Pass::Stale);
    }

    let mut total = Tally::default();
    let mut failed = false;
    let mut network = false;
    let mut summaries = Vec::new();
    for ((href, calendar), result) in chosen.iter().zip(&outcome.calendars) {
        let key = href.canonical();
        let mut local = local_changes.remove(&key).unwrap_or_default();
        let mut tally = tallies.remove(&key).unwrap_or_default();
        let none = BTreeMap::new();
        let delivered = delivered.get(&key).unwrap_or(&none);
        match &result.result {
            Ok(changes) => {
                run.apply(&key, changes, delivered, &mut local, &mut tally)?;
                for missing in &changes.missing {
                    run.progress.line(&format!(
                        "warning: the server listed {} but never sent it; asking again next time",
                        missing.as_str()
                    ));
                }
            }
            Err(error) => {
                run.progress
                    .line(&format!("error: {}: {error}", calendar.name()));
                network |= matches!(error, caldav_client_core::Error::Transport { .. });
                failed = true;
                summaries.push((calendar.name(), tally));
                continue;
            }
        }
        // The server's side of this calendar is applied: its token may be kept.
        if let Some(cal) = new_sync_state.calendars.get(&key) {
            run.state.sync.calendars.insert(key.clone(), cal.clone());
        }
        run.save()?;
        if !local.is_empty() {
            match run.upload(&key, href, local, &mut tally).await {
                Ok(()) => {}
                Err(error) => {
                    run.save()?;
                    run.progress.finish();
                    return Err(error);
                }
            }
            run.save()?;
        }
        summaries.push((calendar.name(), tally));
    }
    run.progress.finish();
    for (name, t) in &summaries {
        say!(
            "{name}: from server +{} ~{} -{}, to server +{} ~{} -{}, {} conflicts, {} errors",
            t.down_new,
            t.down_changed,
            t.down_deleted,
            t.up_new,
            t.up_changed,
            t.up_deleted,
            t.conflicts,
            t.errors
        )?;
        total.conflicts += t.conflicts;
        total.errors += t.errors;
    }
    if network {
        return Ok(Pass::Done(ExitCode::from(EXIT_NETWORK)));
    }
    if failed || total.errors > 0 {
        return Ok(Pass::Done(ExitCode::from(1)));
    }
    if total.conflicts > 0 {
        return Ok(Pass::Done(ExitCode::from(EXIT_CONFLICT)));
    }
    Ok(Pass::Done(ExitCode::SUCCESS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_uid_is_given_to_the_kept_copy() {
        let data = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:abc\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let copy = with_new_uid(data);
        assert!(copy.contains("UID:abc-conflict-"), "{copy}");
        assert!(copy.ends_with("END:VCALENDAR\r\n"));
        assert_eq!(copy.lines().count(), data.lines().count());
        assert_ne!(with_new_uid(data), data);
    }

    #[test]
    fn data_compares_across_line_ends() {
        assert!(same_data("A\r\nB\r\n", "A\nB\n"));
        assert!(!same_data("A\nB\n", "A\nC\n"));
        assert!(same_data("A\r\nB:long\r\n  line\r\n", "B:long line\nA\n"));
        assert!(!same_data("A\nA\n", "A\n"));
    }
}
