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
//! sync leaves either the old or the new file, never half of one. Local changes are found by
//! comparing each file with what the state recorded: a file with the recorded size and
//! modification time is unchanged; otherwise its content hash decides.

use anyhow::{Context, Result};
use caldav_client_core::sync::SyncState;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
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
}

/// One synced calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CalendarRecord {
    /// The folder's name inside the sync folder.
    pub(crate) folder: String,
    /// Per file name: what was last synced.
    pub(crate) items: BTreeMap<String, ItemRecord>,
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
    /// The file name recorded for `href`, compared canonically.
    pub(crate) fn file_for_href(&self, href: &dav_xml::Href) -> Option<&str> {
        let canonical = href.canonical();
        self.items
            .iter()
            .find(|(_, item)| dav_xml::Href::new(item.href.clone()).canonical() == canonical)
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
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX));
    Ok((meta.len(), mtime))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed to disk,
/// then renamed over `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .with_context(|| format!("{} has no folder", path.display()))?;
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    // A dot name: vdir readers skip it, so a leftover from a killed run is never read as an item.
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut file =
        std::fs::File::create(&temp).with_context(|| format!("creating {}", temp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temp.display()))?;
    drop(file);
    std::fs::rename(&temp, path)
        .with_context(|| format!("renaming {} to {}", temp.display(), path.display()))?;
    Ok(())
}

/// Writes an item file atomically and returns its record (hash, size, mtime).
pub(crate) fn write_item(
    dir: &Path,
    file: &str,
    href: &str,
    etag: &str,
    data: &[u8],
) -> Result<ItemRecord> {
    let path = dir.join(file);
    write_atomic(&path, data)?;
    let (size, mtime) = stamp(&path)?;
    Ok(ItemRecord {
        href: href.to_owned(),
        etag: etag.to_owned(),
        hash: hash(data),
        size,
        mtime,
    })
}

/// The `.ics` files of a calendar folder (temporary and hidden files excluded).
pub(crate) fn item_files(dir: &Path) -> Result<BTreeSet<String>> {
    let mut files = BTreeSet::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".ics") {
            continue;
        }
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            files.insert(name);
        }
    }
    Ok(files)
}

/// What changed in the calendar folder `dir` since `record` was saved.
pub(crate) fn local_changes(dir: &Path, record: &CalendarRecord) -> Result<Vec<LocalChange>> {
    let files = item_files(dir)?;
    let mut changes = Vec::new();
    for file in &files {
        match record.items.get(file) {
            None => changes.push(LocalChange::Created { file: file.clone() }),
            Some(item) => {
                let path = dir.join(file);
                let (size, mtime) = stamp(&path)?;
                if size == item.size && mtime == item.mtime {
                    continue;
                }
                let bytes =
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                if hash(&bytes) != item.hash {
                    changes.push(LocalChange::Edited { file: file.clone() });
                }
            }
        }
    }
    for file in record.items.keys() {
        if !files.contains(file) {
            changes.push(LocalChange::Deleted { file: file.clone() });
        }
    }
    Ok(changes)
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
pub(crate) fn load_state(dir: &Path) -> Result<State> {
    let path = dir.join(STATE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("reading the sync state {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Saves the state of the sync folder `dir` atomically.
pub(crate) fn save_state(dir: &Path, state: &State) -> Result<()> {
    let bytes = serde_json::to_vec(state).context("encoding the sync state")?;
    write_atomic(&dir.join(STATE_FILE), &bytes)
}

/// The folder of a calendar inside the sync folder.
pub(crate) fn calendar_dir(root: &Path, folder: &str) -> PathBuf {
    root.join(folder)
}

/// Writes a one-line metadata file (`displayname`, `color`) when its content differs.
pub(crate) fn write_meta(dir: &Path, name: &str, value: &str) -> Result<()> {
    let path = dir.join(name);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current.trim_end() != value {
        write_atomic(&path, format!("{value}\n").as_bytes())?;
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
    fn local_changes_finds_created_edited_deleted() {
        let dir = temp("changes");
        let mut record = CalendarRecord::default();
        for (file, data) in [("keep.ics", "k"), ("edit.ics", "e"), ("gone.ics", "g")] {
            let item =
                write_item(&dir, file, &format!("/c/{file}"), "\"1\"", data.as_bytes()).unwrap();
            record.items.insert(file.to_owned(), item);
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
        let item = write_item(&dir, "a.ics", "/c/a.ics", "\"1\"", b"same").unwrap();
        record.items.insert("a.ics".into(), item);
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
}
