//! khal (from PyPI, installed by `cargo xtask tools install`) reads the folder `caldav sync`
//! writes, and what khal writes there, or a file replaced the way vdirsyncer replaces one,
//! syncs back to the server.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;

use crate::env::var;

/// Radicale, alice's account.
struct Radicale {
    url: String,
    user: String,
    password: String,
}

impl Radicale {
    fn new() -> Self {
        Self {
            url: var("CALDAV_TEST_RADICALE_URL"),
            user: var("CALDAV_TEST_RADICALE_USER"),
            password: var("CALDAV_TEST_RADICALE_PASSWORD"),
        }
    }

    /// Runs `caldav` with this account; panics unless it exits 0. Returns standard output.
    fn caldav(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
            .args(["--url", &self.url, "--user", &self.user])
            .args(args)
            .env_remove("CALDAV_CONFIG")
            .env("CALDAV_PASSWORD", &self.password)
            .output()
            .unwrap();
        expect_success("caldav", args, &out)
    }

    /// `DELETE` of a collection, as the cleanup of a test (the CLI has no command for it).
    fn delete_collection(&self, href: &str) {
        let authority = self
            .url
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap();
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.user, self.password));
        let mut stream = std::net::TcpStream::connect(authority).unwrap();
        write!(
            stream,
            "DELETE {href} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Basic {auth}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer.split_whitespace().nth(1).unwrap_or_default();
        assert!(
            status.starts_with('2'),
            "DELETE {href}: {}",
            answer.lines().next().unwrap_or_default()
        );
    }
}

/// Deletes the test's calendar when the test ends, failed or not.
struct Cleanup<'a> {
    server: &'a Radicale,
    href: String,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        self.server.delete_collection(&self.href);
    }
}

fn expect_success(program: &str, args: &[&str], out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

fn event(uid: &str, start: &str, end: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//khal test//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n\
         SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// khal with a configuration whose one calendar is `folder`, in UTC.
struct Khal {
    config: PathBuf,
}

impl Khal {
    fn new(work: &Path, folder: &Path) -> Self {
        let config = work.join("khal.conf");
        std::fs::write(
            &config,
            format!(
                "[calendars]\n[[synced]]\npath = {}\ntype = calendar\n\n\
                 [locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\n\
                 longdateformat = %Y-%m-%d\ndatetimeformat = %Y-%m-%d %H:%M\n\
                 longdatetimeformat = %Y-%m-%d %H:%M\n\
                 default_timezone = UTC\nlocal_timezone = UTC\n\n\
                 [default]\ndefault_calendar = synced\n\n\
                 [sqlite]\npath = {}\n",
                folder.display(),
                work.join("khal.db").display()
            ),
        )
        .unwrap();
        Self { config }
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new(test_support::tools::khal())
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        expect_success("khal", args, &out)
    }

    /// `khal list` over January 2026: one `start end title` line per event, sorted.
    fn list(&self) -> Vec<String> {
        let out = self.run(&[
            "list",
            "2026-01-01",
            "2026-01-31",
            "--format",
            "{start} {end} {title}",
            "--day-format",
            "",
        ]);
        let mut lines: Vec<String> = out
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    }
}

/// The calendar data of every `.ics` file in `folder`.
fn items(folder: &Path) -> Vec<String> {
    let mut items: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ics"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    items.sort();
    items
}

/// Replaces a file the way vdirsyncer does (and khal's editor): a temporary file in the same
/// folder, then a rename over the old name.
fn replace_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("ics.tmp-edit");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn khal_lists_the_synced_folder_and_its_changes_sync_back_radicale() {
    let server = Radicale::new();
    let name = unique("peers-khal");
    server.caldav(&["mkcalendar", &name]);
    let listing = server.caldav(&["ls", "--json"]);
    let href = listing
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["name"] == name.as_str())
        .and_then(|v| v["href"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{name} not in {listing}"));
    let _cleanup = Cleanup {
        server: &server,
        href,
    };

    let work = std::env::temp_dir().join(unique("caldav-cli-khal"));
    let uploads = work.join("uploads");
    std::fs::create_dir_all(&uploads).unwrap();
    let first_uid = unique("standup");
    for (uid, start, end, summary) in [
        (
            first_uid.as_str(),
            "20260105T093000Z",
            "20260105T094500Z",
            "Standup",
        ),
        (
            "review-khal",
            "20260107T140000Z",
            "20260107T153000Z",
            "Design review",
        ),
    ] {
        let file = uploads.join(format!("{uid}.ics"));
        std::fs::write(&file, event(uid, start, end, summary)).unwrap();
        server.caldav(&["put", file.to_str().unwrap(), "--calendar", &name]);
    }

    let root = work.join("calendars");
    std::fs::create_dir_all(&root).unwrap();
    let out = server.caldav(&["sync", &name, root.to_str().unwrap()]);
    assert!(out.contains("from server +2"), "{out}");
    let folder = root.join(&name);
    let khal = Khal::new(&work, &folder);
    assert_eq!(
        khal.list(),
        [
            "2026-01-05 09:30 2026-01-05 09:45 Standup",
            "2026-01-07 14:00 2026-01-07 15:30 Design review",
        ]
    );

    // khal writes a new event into the folder; an edit replaces a file atomically.
    khal.run(&[
        "new",
        "-a",
        "synced",
        "2026-01-20 09:00",
        "2026-01-20 10:00",
        "Made by khal",
    ]);
    let standup = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&format!("UID:{first_uid}"))))
        .unwrap();
    let edited = std::fs::read_to_string(&standup)
        .unwrap()
        .replace("SUMMARY:Standup", "SUMMARY:Standup (moved)")
        .replace("DTSTART:20260105T093000Z", "DTSTART:20260106T093000Z")
        .replace("DTEND:20260105T094500Z", "DTEND:20260106T094500Z");
    replace_atomically(&standup, &edited);
    assert_eq!(
        khal.list(),
        [
            "2026-01-06 09:30 2026-01-06 09:45 Standup (moved)",
            "2026-01-07 14:00 2026-01-07 15:30 Design review",
            "2026-01-20 09:00 2026-01-20 10:00 Made by khal",
        ]
    );

    let out = server.caldav(&["sync", &name, root.to_str().unwrap()]);
    assert!(out.contains("to server +1 ~1 -0, 0 conflicts"), "{out}");

    // What the server now holds, seen through a sync into a fresh folder, and through khal.
    let fresh = work.join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let out = server.caldav(&["sync", &name, fresh.to_str().unwrap()]);
    assert!(out.contains("from server +3"), "{out}");
    let fetched = items(&fresh.join(&name));
    assert_eq!(fetched.len(), 3, "{fetched:?}");
    assert!(fetched.iter().any(|t| t.contains("SUMMARY:Made by khal")));
    assert!(
        fetched
            .iter()
            .any(|t| t.contains("SUMMARY:Standup (moved)") && t.contains("20260106T093000Z"))
    );
    assert!(!fetched.iter().any(|t| t.contains("SUMMARY:Standup\r")));
    let khal_fresh = Khal::new(&fresh, &fresh.join(&name));
    assert_eq!(khal_fresh.list(), khal.list());

    std::fs::remove_dir_all(&work).unwrap();
}
