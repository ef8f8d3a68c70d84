//! `cargo xtask bench fetch` and `cargo xtask bench vdirsyncer`: our sync against the peers a
//! user would pick instead (python-caldav 3.x, vdirsyncer 0.21, both from PyPI) and against a
//! floor, on a 2,000-event calendar of the real Radicale and Cyrus.
//!
//! Every contender runs twice per measurement: straight to the server for wall time and peak
//! memory (`ru_maxrss` of the child, read by a small Python wrapper), and through the counting
//! proxy of [`crate::bench_wire`] for requests and bytes. Each run makes its calendar with a
//! unique name and deletes it at the end, failed or not.

use crate::bench_wire::{Client, Counts, Proxy};
use crate::run;
use crate::tools::{self, Tool};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

/// Events in the measured calendar.
const EVENTS: usize = 2000;
/// Timed runs of the fast contenders; the median is reported.
const REPS: usize = 3;
/// Server-side changes before the last vdirsyncer scenario: modified, added, deleted.
const CHANGES: (usize, usize, usize) = (10, 5, 5);

/// Runs a command and reports its wall time, CPU time and peak resident set.
///
/// - CPU: the growth of `RUSAGE_CHILDREN` over the run, not its total. A `python3` that is a
///   launcher script (pyenv's shim) runs helpers before it becomes the interpreter, and their
///   usage stays with the process: about 65 ms of CPU here, which every row showed.
/// - Peak resident set: GNU `time`'s `%M` when `/usr/bin/time` exists. A child forked from
///   this interpreter starts with its pages, so its own `ru_maxrss` never reads below the
///   interpreter's (14 MiB here); `time` is small. Without it, that bound applies.
const MEASURE_PY: &str = r#"
import json, os, resource, subprocess, sys, tempfile, time
argv = sys.argv[1:]
gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
with tempfile.NamedTemporaryFile("r") as usage:
    if gnu_time:
        argv = [gnu_time, "-q", "-f", "%M", "-o", usage.name] + argv
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True)
    t = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    maxrss = after.ru_maxrss
    if gnu_time:
        lines = usage.read().split()
        maxrss = int(lines[-1]) if lines and lines[-1].isdigit() else maxrss
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"status": p.returncode, "seconds": t, "maxrss_kib": maxrss,
                  "cpu_seconds": cpu,
                  "stdout": p.stdout.decode(errors="replace"),
                  "stderr": p.stderr.decode(errors="replace")}))
"#;

/// python-caldav's documented full sync: every object of a calendar, loaded
/// (`objects(load_objects=True)`, which 3.x names `get_objects_by_sync_token`).
const CALDAV_PY: &str = r#"
import json, os, sys, time
t0 = time.perf_counter()
import caldav
url, user = sys.argv[1], sys.argv[2]
t1 = time.perf_counter()
with caldav.DAVClient(url=url, username=user, password=os.environ["CALDAV_PASSWORD"]) as client:
    calendar = client.calendar(url=url)
    objects = calendar.get_objects_by_sync_token(load_objects=True)
    items = 0
    size = 0
    for o in objects:
        items += 1
        size += len(o.data)
t2 = time.perf_counter()
print(json.dumps({"items": items, "bytes": size, "import_seconds": t1 - t0, "fetch_seconds": t2 - t1}))
"#;

/// A server under test, alice's account.
struct Target {
    name: &'static str,
    url: String,
    address: SocketAddr,
    user: String,
    password: String,
    /// Where alice's calendars are made.
    home: &'static str,
    /// Whether a whole calendar can be uploaded with one PUT of the collection (Radicale: its
    /// PUTs of single items get slower with every item, about 0.3 s each near 2,000).
    bulk: bool,
}

impl Target {
    fn all(env: &HashMap<String, String>) -> Result<Vec<Target>> {
        let mut out = Vec::new();
        for (name, key, home, bulk) in [
            ("Radicale", "RADICALE", "/alice/", true),
            ("Cyrus", "CYRUS", "/dav/calendars/user/alice/", false),
        ] {
            let get = |suffix: &str| {
                let var = format!("CALDAV_TEST_{key}_{suffix}");
                env.get(&var)
                    .cloned()
                    .with_context(|| format!("{var} is not set (are the servers running?)"))
            };
            let url = get("URL")?;
            let authority = url
                .strip_prefix("http://")
                .and_then(|rest| rest.split('/').next())
                .with_context(|| format!("{url} is not an http:// URL"))?;
            out.push(Target {
                name,
                address: authority
                    .parse()
                    .with_context(|| format!("{authority} is not IP:port"))?,
                url: url.clone(),
                user: get("USER")?,
                password: get("PASSWORD")?,
                home,
                bulk,
            });
        }
        Ok(out)
    }

    fn client(&self) -> Client {
        Client::new(self.address, &self.user, &self.password)
    }

    /// The server URL as seen through `proxy`.
    fn url_via(&self, proxy: Option<&Proxy>) -> String {
        match proxy {
            Some(proxy) => {
                self.url
                    .replacen(&self.address.to_string(), &proxy.address().to_string(), 1)
            }
            None => self.url.clone(),
        }
    }
}

/// A calendar made for one run; deleted when dropped.
struct Calendar<'a> {
    target: &'a Target,
    name: String,
    path: String,
}

impl<'a> Calendar<'a> {
    fn make(target: &'a Target, events: usize) -> Result<Self> {
        let stamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("peers-bench-{}-{stamp:x}", std::process::id());
        let path = format!("{}{name}/", target.home);
        let calendar = Calendar { target, name, path };
        let began = Instant::now();
        if target.bulk {
            calendar.upload(events)?;
        } else {
            calendar.mkcalendar()?;
            calendar.put_range(0..events)?;
        }
        eprintln!(
            "{}: {events} events put into {} in {:.1} s",
            target.name,
            calendar.path,
            began.elapsed().as_secs_f64()
        );
        Ok(calendar)
    }

    fn mkcalendar(&self) -> Result<()> {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:mkcalendar xmlns:D=\"DAV:\" \
             xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:set><D:prop><D:displayname>{}\
             </D:displayname></D:prop></D:set></C:mkcalendar>",
            self.name
        );
        let response = self.target.client().send(
            "MKCALENDAR",
            &self.path,
            &[("Content-Type", "application/xml")],
            body.as_bytes(),
        )?;
        if response.status != 201 {
            bail!("MKCALENDAR {}: {}", self.path, response.status);
        }
        Ok(())
    }

    /// Makes the calendar with events `0..events` by one PUT of the whole collection; the
    /// server names each item after its UID, as [`file_name`] does.
    fn upload(&self, events: usize) -> Result<()> {
        let mut body = String::from(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//peers bench//EN\r\n",
        );
        for i in 0..events {
            let text = event(i, 0);
            let start = text.find("BEGIN:VEVENT").unwrap_or_default();
            let end = text.find("END:VCALENDAR").unwrap_or(text.len());
            body.push_str(text.get(start..end).unwrap_or_default());
        }
        body.push_str("END:VCALENDAR\r\n");
        let response = self.target.client().send(
            "PUT",
            &self.path,
            &[("Content-Type", "text/calendar; charset=utf-8")],
            body.as_bytes(),
        )?;
        if !(200..300).contains(&response.status) {
            bail!(
                "PUT {} (the whole calendar): {}",
                self.path,
                response.status
            );
        }
        let probe = format!("{}{}", self.path, file_name(0));
        let response = self.target.client().send("GET", &probe, &[], b"")?;
        if response.status != 200 {
            bail!("GET {probe} after the upload: {}", response.status);
        }
        Ok(())
    }

    /// PUTs events `range` (new ones, or new versions of existing ones), four at a time.
    fn put_range(&self, range: std::ops::Range<usize>) -> Result<()> {
        self.put_all(range.map(|i| (i, event(i, 0))).collect())
    }

    fn put_all(&self, events: Vec<(usize, String)>) -> Result<()> {
        let lanes = 4;
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..lanes)
                .map(|lane| {
                    let events = &events;
                    scope.spawn(move || -> Result<()> {
                        let mut client = self.target.client();
                        for (i, text) in events.iter().skip(lane).step_by(lanes) {
                            let path = format!("{}{}", self.path, file_name(*i));
                            let response = client.send(
                                "PUT",
                                &path,
                                &[("Content-Type", "text/calendar; charset=utf-8")],
                                text.as_bytes(),
                            )?;
                            if !(200..300).contains(&response.status) {
                                bail!("PUT {path}: {}", response.status);
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            for worker in workers {
                worker
                    .join()
                    .map_err(|_| anyhow::anyhow!("a PUT thread panicked"))??;
            }
            Ok(())
        })
    }

    fn delete(&self, i: usize) -> Result<()> {
        let path = format!("{}{}", self.path, file_name(i));
        let response = self.target.client().send("DELETE", &path, &[], b"")?;
        if !(200..300).contains(&response.status) {
            bail!("DELETE {path}: {}", response.status);
        }
        Ok(())
    }

    /// The calendar's URL through `proxy` (or straight).
    fn url_via(&self, proxy: Option<&Proxy>) -> String {
        let base = self.target.url_via(proxy);
        format!("{}{}", base.trim_end_matches('/'), self.path)
    }
}

impl Drop for Calendar<'_> {
    fn drop(&mut self) {
        match self.target.client().send("DELETE", &self.path, &[], b"") {
            Ok(response) if (200..300).contains(&response.status) => {}
            Ok(response) => eprintln!("DELETE {}: {}", self.path, response.status),
            Err(error) => eprintln!("DELETE {}: {error:#}", self.path),
        }
    }
}

fn file_name(i: usize) -> String {
    format!("peers-bench-{i:05}.ics")
}

/// Event `i`, `version` 0 as first put; later versions change the summary and the time.
fn event(i: usize, version: usize) -> String {
    let day = 1 + (i / 24) % 28;
    let month = 1 + (i / (24 * 28)) % 12;
    let hour = (i + version) % 24;
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//peers bench//EN\r\n\
         BEGIN:VEVENT\r\nUID:peers-bench-{i:05}\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:2026{month:02}{day:02}T{hour:02}0000Z\r\nDURATION:PT45M\r\n\
         SUMMARY:Bench event {i} v{version}\r\nLOCATION:Room {}\r\n\
         DESCRIPTION:Generated by the peer benchmark\\, folded the way\r\n  real ones \
         are\\; number {i}.\r\nSEQUENCE:{version}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
        i % 17
    )
}

/// What one run of a program cost.
#[derive(Clone, Debug)]
struct Run {
    seconds: f64,
    /// User plus system CPU time of the child (none for in-process runs).
    cpu_seconds: Option<f64>,
    maxrss_kib: Option<u64>,
    stdout: String,
}

/// Runs `command` under the measuring wrapper; fails unless it exits 0.
fn measure(command: &Command) -> Result<Run> {
    let mut wrapper = Command::new("python3");
    wrapper.arg("-c").arg(MEASURE_PY).arg(command.get_program());
    wrapper.args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapper.env(key, value),
            None => wrapper.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapper.current_dir(dir);
    }
    let output = wrapper
        .stderr(Stdio::inherit())
        .output()
        .context("running python3 (the measuring wrapper)")?;
    let report: Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "the measuring wrapper said {:?}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    let field = |name: &str| report.get(name).cloned().unwrap_or_default();
    let stdout = field("stdout").as_str().unwrap_or_default().to_owned();
    if field("status").as_i64() != Some(0) {
        bail!(
            "{:?} failed ({}):\n{stdout}\n{}",
            command.get_program(),
            field("status"),
            field("stderr").as_str().unwrap_or_default()
        );
    }
    Ok(Run {
        seconds: field("seconds").as_f64().unwrap_or_default(),
        cpu_seconds: field("cpu_seconds").as_f64(),
        maxrss_kib: field("maxrss_kib").as_u64(),
        stdout,
    })
}

/// A contender's result in one scenario: the median timed run and the counted run.
struct Row {
    contender: String,
    runs: Vec<Run>,
    counts: Counts,
    note: String,
}

impl Row {
    fn median(&self) -> f64 {
        let mut times: Vec<f64> = self.runs.iter().map(|r| r.seconds).collect();
        times.sort_by(f64::total_cmp);
        times.get(times.len() / 2).copied().unwrap_or_default()
    }

    /// The median CPU time of the timed runs, `-` when not measured.
    fn cpu(&self) -> String {
        let mut times: Vec<f64> = self.runs.iter().filter_map(|r| r.cpu_seconds).collect();
        times.sort_by(f64::total_cmp);
        times
            .get(times.len() / 2)
            .map_or_else(|| "-".to_owned(), |t| seconds(*t))
    }

    fn peak_kib(&self) -> Option<u64> {
        self.runs.iter().filter_map(|r| r.maxrss_kib).max()
    }
}

/// A number field of a JSON object, 0 when absent.
fn number(value: &Value, key: &str) -> f64 {
    value.get(key).and_then(Value::as_f64).unwrap_or_default()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "-".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn kb(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.2} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// The servers' variables: the environment's `CALDAV_TEST_*`, else `.state/servers/env`
/// (starting the servers when neither has them).
fn server_env() -> Result<(HashMap<String, String>, Option<crate::servers::TestServers>)> {
    let from_process: HashMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("CALDAV_TEST_"))
        .collect();
    if from_process.contains_key("CALDAV_TEST_RADICALE_URL") {
        return Ok((from_process, None));
    }
    let guard = crate::servers::ensure_running_for_tests()?;
    let file = run::project_root()?.join(".state/servers/env");
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut env: HashMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    env.extend(from_process);
    Ok((env, Some(guard)))
}

/// Builds the release `caldav` and caldav-tokio's `sync_fetch` example; returns their paths.
fn our_binaries() -> Result<(PathBuf, PathBuf)> {
    run::cargo(&[
        "build",
        "--release",
        "--quiet",
        "--package",
        "caldav-cli",
        "--bin",
        "caldav",
    ])?;
    run::cargo(&[
        "build",
        "--release",
        "--quiet",
        "--package",
        "caldav-tokio",
        "--example",
        "sync_fetch",
    ])?;
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => run::project_root()?.join("target"),
    };
    let release = target.join("release");
    Ok((
        release.join("caldav"),
        release.join("examples").join("sync_fetch"),
    ))
}

fn tool(which: Tool) -> Result<PathBuf> {
    let installed = tools::install(&[which])?;
    installed
        .into_iter()
        .find(|(key, _)| key == which.var())
        .map(|(_, path)| PathBuf::from(path))
        .with_context(|| format!("{} not installed", which.as_str()))
}

/// A scratch folder for one benchmark run, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Result<Self> {
        let stamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("caldav-bench-{what}-{stamp:x}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }

    fn dir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.0.join(name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `caldav sync NAME ROOT` as a command.
fn caldav_sync(caldav: &Path, target: &Target, url: &str, calendar: &str, root: &Path) -> Command {
    let mut command = Command::new(caldav);
    command
        .args(["--url", url, "--user", &target.user, "sync", calendar])
        .arg(root)
        .env_remove("CALDAV_CONFIG")
        .env("CALDAV_PASSWORD", &target.password);
    command
}

/// `.ics` files in a folder.
fn count_items(folder: &Path) -> Result<usize> {
    Ok(std::fs::read_dir(folder)
        .with_context(|| format!("reading {}", folder.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "ics"))
        .count())
}

fn expect_items(folder: &Path, want: usize, who: &str) -> Result<()> {
    let have = count_items(folder)?;
    if have != want {
        bail!(
            "{who}: {have} items in {}, expected {want}",
            folder.display()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The floor

/// The hrefs of the `.ics` members in a multistatus body (`<x:href>` of any prefix).
fn member_hrefs(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("href>") {
        let (before, after) = rest.split_at(at);
        rest = after.get(5..).unwrap_or_default();
        let Some(open) = before.rfind('<') else {
            continue;
        };
        let tag = before.get(open + 1..).unwrap_or_default();
        if tag.contains('/') || !(tag.is_empty() || tag.ends_with(':')) {
            continue;
        }
        let value = rest.split('<').next().unwrap_or_default().trim();
        if value.ends_with(".ics") {
            out.push(value.to_owned());
        }
    }
    out
}

/// What the floor did.
struct FloorRun {
    seconds: f64,
    items: usize,
    requests: u64,
    connections: u64,
    received: u64,
    sent: u64,
}

/// Which raw-HTTP fetch a floor row makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FloorKind {
    /// A Depth:1 getetag PROPFIND, then multigets of `batch` hrefs; with `token`, a Depth:0
    /// sync-token PROPFIND first.
    Multiget { batch: usize, token: bool },
    /// A Depth:0 sync-token PROPFIND, then one `calendar-query` (VEVENT, no other filter)
    /// asking getetag + calendar-data: every item in one answer, no listing.
    Query,
    /// One `sync-collection` REPORT from the empty token asking getetag + calendar-data
    /// (RFC 6578 §3.2 allows any property): token and data in one consistent answer.
    SyncCollection,
}

impl FloorKind {
    const ALL: [Self; 5] = [
        Self::Multiget {
            batch: EVENTS,
            token: false,
        },
        Self::Multiget {
            batch: 100,
            token: false,
        },
        Self::Multiget {
            batch: EVENTS,
            token: true,
        },
        Self::Query,
        Self::SyncCollection,
    ];
}

/// The sync-token PROPFIND of the token floors.
const TOKEN_PROPFIND: &[u8] = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propfind \
    xmlns:D=\"DAV:\"><D:prop><D:sync-token/></D:prop></D:propfind>";

/// One fetch of a whole calendar by `kind`, over one kept-alive connection; nothing parsed
/// beyond the hrefs (the multiget floors) and a count of the events.
fn floor(target: &Target, path: &str, kind: FloorKind) -> Result<FloorRun> {
    let began = Instant::now();
    let mut client = target.client();
    let xml = [("Content-Type", "application/xml")];
    let one_answer = match kind {
        FloorKind::Multiget { .. } => None,
        FloorKind::Query => {
            let answer = client.send(
                "PROPFIND",
                path,
                &[("Depth", "0"), ("Content-Type", "application/xml")],
                TOKEN_PROPFIND,
            )?;
            if answer.status != 207 {
                bail!("PROPFIND {path} for its sync-token: {}", answer.status);
            }
            Some(client.send(
                "REPORT",
                path,
                &[("Depth", "1"), ("Content-Type", "application/xml")],
                b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:calendar-query xmlns:D=\"DAV:\" \
                  xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><D:getetag/><C:calendar-data/>\
                  </D:prop><C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter \
                  name=\"VEVENT\"/></C:comp-filter></C:filter></C:calendar-query>",
            )?)
        }
        FloorKind::SyncCollection => Some(client.send(
            "REPORT",
            path,
            &xml,
            b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:sync-collection xmlns:D=\"DAV:\" \
              xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:sync-token/><D:sync-level>1\
              </D:sync-level><D:prop><D:getetag/><C:calendar-data/></D:prop>\
              </D:sync-collection>",
        )?),
    };
    if let Some(answer) = one_answer {
        let text = String::from_utf8_lossy(&answer.body);
        if answer.status != 207 {
            bail!("REPORT {path} ({kind:?}): {}", answer.status);
        }
        if kind == FloorKind::SyncCollection && !text.contains("sync-token>") {
            bail!("REPORT {path} (sync-collection): no sync-token in the answer");
        }
        return Ok(FloorRun {
            seconds: began.elapsed().as_secs_f64(),
            items: text.matches("BEGIN:VEVENT").count(),
            requests: client.requests,
            connections: client.connections,
            received: client.received,
            sent: client.sent,
        });
    }
    let FloorKind::Multiget { batch, token } = kind else {
        bail!("unreachable floor kind {kind:?}");
    };
    if token {
        let answer = client.send(
            "PROPFIND",
            path,
            &[("Depth", "0"), ("Content-Type", "application/xml")],
            b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propfind xmlns:D=\"DAV:\"><D:prop>\
              <D:sync-token/></D:prop></D:propfind>",
        )?;
        if answer.status != 207 || !String::from_utf8_lossy(&answer.body).contains("sync-token>") {
            bail!("PROPFIND {path} for its sync-token: {}", answer.status);
        }
    }
    let listing = client.send(
        "PROPFIND",
        path,
        &[("Depth", "1"), ("Content-Type", "application/xml")],
        b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propfind xmlns:D=\"DAV:\"><D:prop>\
          <D:getetag/></D:prop></D:propfind>",
    )?;
    if listing.status != 207 {
        bail!("PROPFIND {path}: {}", listing.status);
    }
    let hrefs = member_hrefs(&String::from_utf8_lossy(&listing.body));
    let mut items = 0;
    for chunk in hrefs.chunks(batch.max(1)) {
        let mut body = String::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:calendar-multiget xmlns:D=\"DAV:\" \
             xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><D:getetag/><C:calendar-data/>\
             </D:prop>",
        );
        for href in chunk {
            let _ = write!(body, "<D:href>{href}</D:href>");
        }
        body.push_str("</C:calendar-multiget>");
        let answer = client.send(
            "REPORT",
            path,
            &[("Depth", "1"), ("Content-Type", "application/xml")],
            body.as_bytes(),
        )?;
        if answer.status != 207 {
            bail!("REPORT {path}: {}", answer.status);
        }
        items += String::from_utf8_lossy(&answer.body)
            .matches("BEGIN:VEVENT")
            .count();
    }
    Ok(FloorRun {
        seconds: began.elapsed().as_secs_f64(),
        items,
        requests: client.requests,
        connections: client.connections,
        received: client.received,
        sent: client.sent,
    })
}

fn floor_row(target: &Target, calendar: &Calendar<'_>, kind: FloorKind) -> Result<Row> {
    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..REPS {
        let run = floor(target, &calendar.path, kind)?;
        if run.items != EVENTS {
            bail!("floor fetched {} events, expected {EVENTS}", run.items);
        }
        runs.push(Run {
            seconds: run.seconds,
            cpu_seconds: None,
            maxrss_kib: None,
            stdout: String::new(),
        });
        last = Some(run);
    }
    let last = last.context("no floor run")?;
    let label = match kind {
        FloorKind::Multiget { batch, token } => match (batch >= EVENTS, token) {
            (true, false) => "floor: PROPFIND + 1 multiget".to_owned(),
            (true, true) => "floor + token: PROPFIND sync-token, PROPFIND + 1 multiget".to_owned(),
            (false, _) => format!("floor: PROPFIND + multigets of {batch}"),
        },
        FloorKind::Query => {
            "floor + token, one answer: PROPFIND sync-token, calendar-query with data".to_owned()
        }
        FloorKind::SyncCollection => {
            "floor + token, one answer: sync-collection with data".to_owned()
        }
    };
    let propfinds = match kind {
        FloorKind::Multiget { token, .. } => 1 + u64::from(token),
        FloorKind::Query => 1,
        FloorKind::SyncCollection => 0,
    };
    Ok(Row {
        contender: label,
        runs,
        counts: Counts {
            connections: last.connections,
            methods: [
                ("PROPFIND".to_owned(), propfinds),
                ("REPORT".to_owned(), last.requests - propfinds),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect(),
            sent: last.sent,
            received: last.received,
            unframed: 0,
        },
        note: "in-process, no parsing".to_owned(),
    })
}

/// The members' properties `caldav sync` asks a token `sync-collection` for (client-core's
/// `MEMBER_PROPS`), so that the bare request below is the one ours sends.
const SYNC_PROPS: &str = "<D:getetag/><D:resourcetype/><D:getcontentlength/>";

/// A `sync-collection` REPORT body from `token` (empty for a first sync).
fn sync_collection_body(token: &str) -> String {
    let token = token.replace('&', "&amp;").replace('<', "&lt;");
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:sync-collection xmlns:D=\"DAV:\">\
         <D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>\
         <D:prop>{SYNC_PROPS}</D:prop></D:sync-collection>"
    )
}

/// The text of the first `sync-token` element in `body` (any prefix).
fn sync_token(body: &str) -> Option<String> {
    let at = body.find("sync-token>")?;
    let rest = body.get(at + "sync-token>".len()..)?;
    let end = rest.find('<')?;
    Some(rest.get(..end)?.trim().replace("&amp;", "&"))
}

/// The server's own time for a no-change sync: the token REPORT `caldav sync` sends, from a
/// bare in-process client on a fresh connection, nothing parsed. No client can answer "did
/// anything change" by a REPORT in less, so it bounds the no-change rows from below.
fn token_report_row(target: &Target, path: &str) -> Result<Row> {
    let xml = [("Content-Type", "application/xml"), ("Depth", "0")];
    let first = target
        .client()
        .send("REPORT", path, &xml, sync_collection_body("").as_bytes())?;
    let token = sync_token(&String::from_utf8_lossy(&first.body))
        .with_context(|| format!("REPORT {path}: no sync-token ({})", first.status))?;
    // The same 2,000-item walk as the timed runs, so that the server's caches are warm.
    let body = sync_collection_body(&token);
    target
        .client()
        .send("REPORT", path, &xml, body.as_bytes())?;
    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..REPS {
        let began = Instant::now();
        let mut client = target.client();
        let answer = client.send("REPORT", path, &xml, body.as_bytes())?;
        let seconds = began.elapsed().as_secs_f64();
        let text = String::from_utf8_lossy(&answer.body);
        if answer.status != 207 || !member_hrefs(&text).is_empty() {
            bail!(
                "the token REPORT of {path} answered {} with {} changed members",
                answer.status,
                member_hrefs(&text).len()
            );
        }
        runs.push(Run {
            seconds,
            cpu_seconds: None,
            maxrss_kib: None,
            stdout: String::new(),
        });
        last = Some(client);
    }
    let last = last.context("no token REPORT run")?;
    Ok(Row {
        contender: "server alone: the token REPORT (bare client)".to_owned(),
        runs,
        counts: Counts {
            connections: last.connections,
            methods: [("REPORT".to_owned(), last.requests)].into_iter().collect(),
            sent: last.sent,
            received: last.received,
            unframed: 0,
        },
        note: "in-process, no parsing".to_owned(),
    })
}

// ---------------------------------------------------------------------------------------------
// `cargo xtask bench fetch`

/// `cargo xtask bench fetch`.
pub(crate) fn fetch() -> Result<()> {
    let (env, _servers) = server_env()?;
    let (caldav, sync_fetch) = our_binaries()?;
    let python = tool(Tool::CaldavPy)?;
    let mut report = String::new();
    // Every server's folders are kept until the end, as in `vdirsyncer` below: removing one
    // server's files just before the next server's CLI runs would charge those runs the
    // file system's cost of allocating inodes next to freshly freed ones.
    let mut scratches = Vec::new();
    for target in Target::all(&env)? {
        let calendar = Calendar::make(&target, EVENTS)?;
        scratches.push(Scratch::new(&format!("fetch-{}", target.name))?);
        let scratch = scratches.last().context("no scratch folder")?;
        let mut rows = Vec::new();
        for kind in FloorKind::ALL {
            rows.push(floor_row(&target, &calendar, kind)?);
        }

        // Ours: the driver running the sync machine, nothing written; with the defaults (one
        // sync-collection answer with the data; on loopback no gzip asked, as the floor); with
        // a listing and multigets instead, as cut by default and as one multiget of
        // everything; and with the defaults but gzip asked all the same.
        for variant in DriverVariant::ALL {
            rows.push(driver_row(&sync_fetch, &target, &calendar, variant)?);
        }

        // Ours: `caldav sync` into an empty folder, each run a new one.
        let mut runs = Vec::new();
        for rep in 0..REPS {
            let root = scratch.dir(&format!("ours-{rep}"))?;
            let url = target.url_via(None);
            let run = measure(&caldav_sync(&caldav, &target, &url, &calendar.name, &root))?;
            expect_items(&root.join(&calendar.name), EVENTS, "caldav sync")?;
            runs.push(run);
        }
        let counts = {
            let proxy = Proxy::start(target.address)?;
            let root = scratch.dir("ours-counted")?;
            let url = target.url_via(Some(&proxy));
            measure(&caldav_sync(&caldav, &target, &url, &calendar.name, &root))?;
            expect_items(&root.join(&calendar.name), EVENTS, "caldav sync")?;
            proxy.counts()
        };
        rows.push(Row {
            contender: "ours: `caldav sync` into an empty folder (CLI)".to_owned(),
            runs,
            counts,
            note: "whole process: discovery, 2,000 files written".to_owned(),
        });

        // python-caldav's documented full sync.
        let py = |proxy: Option<&Proxy>| -> Result<(Run, Value)> {
            let mut command = Command::new(&python);
            command
                .arg("-c")
                .arg(CALDAV_PY)
                .arg(calendar.url_via(proxy))
                .arg(&target.user)
                .env("CALDAV_PASSWORD", &target.password);
            let run = measure(&command)?;
            let said: Value = serde_json::from_str(run.stdout.trim())
                .with_context(|| format!("python-caldav said {:?}", run.stdout))?;
            if said.get("items").and_then(Value::as_u64) != Some(EVENTS as u64) {
                bail!("python-caldav fetched {said}, expected {EVENTS} items");
            }
            Ok((run, said))
        };
        let (run, said) = py(None)?;
        let counts = {
            let proxy = Proxy::start(target.address)?;
            py(Some(&proxy))?;
            proxy.counts()
        };
        rows.push(Row {
            contender: "python-caldav 3.6: `objects(load_objects=True)`".to_owned(),
            runs: vec![run],
            counts,
            note: format!(
                "whole process; {} of it importing, {} fetching",
                seconds(number(&said, "import_seconds")),
                seconds(number(&said, "fetch_seconds"))
            ),
        });
        let table = fetch_table(target.name, &rows);
        eprintln!("\n{table}");
        report.push_str(&table);
    }
    println!("\n{report}");
    Ok(())
}

/// How `sync_fetch` is run for one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DriverVariant {
    /// client-core's and caldav-tokio's defaults.
    Defaults,
    /// A listing, then multigets as the machine cuts them (`InitialFetch::Multiget`).
    Multigets,
    /// A listing, then `multiget_batch_size` = every event, one request in flight: one
    /// multiget.
    OneMultiget,
    /// The defaults, but compressed answers asked for even on loopback
    /// (`Compression::Always`): what gzip costs the server.
    Gzip,
}

impl DriverVariant {
    const ALL: [Self; 4] = [
        Self::Defaults,
        Self::Multigets,
        Self::OneMultiget,
        Self::Gzip,
    ];
}

/// caldav-tokio's `sync_fetch` example: the driver running the sync machine, nothing written.
fn driver_row(
    sync_fetch: &Path,
    target: &Target,
    calendar: &Calendar<'_>,
    variant: DriverVariant,
) -> Result<Row> {
    let driver = |proxy: Option<&Proxy>| -> Result<(Run, Value)> {
        let mut command = Command::new(sync_fetch);
        command
            .arg(target.url_via(proxy))
            .arg(&calendar.path)
            .arg(&target.user)
            .env("CALDAV_PASSWORD", &target.password);
        match variant {
            DriverVariant::Defaults => {}
            DriverVariant::Multigets => {
                command.env("SYNC_FETCH_MULTIGET", "1");
            }
            DriverVariant::OneMultiget => {
                command
                    .arg(EVENTS.to_string())
                    .arg("1")
                    .env("SYNC_FETCH_MULTIGET", "1");
            }
            DriverVariant::Gzip => {
                command.env("SYNC_FETCH_GZIP", "1");
            }
        }
        let run = measure(&command)?;
        let said: Value = serde_json::from_str(run.stdout.trim())
            .with_context(|| format!("sync_fetch said {:?}", run.stdout))?;
        if said.get("items").and_then(Value::as_u64) != Some(EVENTS as u64) {
            bail!("sync_fetch fetched {said}, expected {EVENTS} items");
        }
        Ok((run, said))
    };
    let mut runs = Vec::new();
    let mut inner = Vec::new();
    for _ in 0..REPS {
        let (run, said) = driver(None)?;
        inner.push(number(&said, "seconds"));
        runs.push(run);
    }
    inner.sort_by(f64::total_cmp);
    let counts = {
        let proxy = Proxy::start(target.address)?;
        driver(Some(&proxy))?;
        proxy.counts()
    };
    let contender = match variant {
        DriverVariant::Defaults => {
            "ours: caldav-tokio driver + client-core sync machine".to_owned()
        }
        DriverVariant::Multigets => {
            "ours, listing then multigets (`InitialFetch::Multiget`)".to_owned()
        }
        DriverVariant::OneMultiget => {
            format!("ours, listing then multiget_batch_size = {EVENTS}, 1 in flight")
        }
        DriverVariant::Gzip => "ours, as above with gzip asked (`Compression::Always`)".to_owned(),
    };
    Ok(Row {
        contender,
        runs,
        counts,
        note: format!(
            "whole process (`examples/sync_fetch.rs`); the sync itself {} (median)",
            seconds(inner.get(inner.len() / 2).copied().unwrap_or_default())
        ),
    })
}

fn fetch_table(server: &str, rows: &[Row]) -> String {
    let floor = rows
        .iter()
        .filter(|r| r.contender.starts_with("floor:"))
        .map(Row::median)
        .fold(f64::INFINITY, f64::min);
    let ours = rows
        .iter()
        .find(|r| r.contender.starts_with("ours: caldav-tokio"))
        .map(Row::median)
        .unwrap_or_default();
    let mut out = format!(
        "### {server}: full fetch of {EVENTS} events\n\n\
         | contender | wall (median of runs) | x floor | x ours | client CPU | requests | \
         connections | bytes up / down | peak RSS | note |\n\
         |---|---|---|---|---|---|---|---|---|---|\n"
    );
    for row in rows {
        let median = row.median();
        let _ = writeln!(
            out,
            "| {} | {} ({} runs) | {:.2} | {:.2} | {} | {} ({}) | {} | {} / {} | {} | {} |",
            row.contender,
            seconds(median),
            row.runs.len(),
            median / floor,
            median / ours,
            row.cpu(),
            row.counts.requests(),
            row.counts.by_method(),
            row.counts.connections,
            kb(row.counts.sent),
            kb(row.counts.received),
            mib(row.peak_kib()),
            row.note
        );
    }
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------------
// `cargo xtask bench vdirsyncer`

/// A vdirsyncer configuration syncing the calendar at `url` with `folder`.
fn vdirsyncer_config(dir: &Path, target: &Target, url: &str, folder: &Path) -> Result<PathBuf> {
    let config = dir.join("config");
    let text = format!(
        "[general]\nstatus_path = \"{}\"\n\n\
         [pair bench]\na = \"bench_local\"\nb = \"bench_remote\"\ncollections = null\n\
         conflict_resolution = \"b wins\"\n\n\
         [storage bench_local]\ntype = \"filesystem\"\npath = \"{}\"\nfileext = \".ics\"\n\n\
         [storage bench_remote]\ntype = \"caldav\"\nurl = \"{url}\"\nusername = \"{}\"\n\
         password.fetch = [\"command\", \"sh\", \"-c\", \"printf %s \\\"$CALDAV_PASSWORD\\\"\"]\n",
        dir.join("status").display(),
        folder.display(),
        target.user,
    );
    std::fs::write(&config, text).with_context(|| format!("writing {}", config.display()))?;
    Ok(config)
}

/// One contender of the vdirsyncer benchmark: `REPS` timed folders and one counted folder.
struct Syncer {
    label: &'static str,
    timed: Vec<Command>,
    counted: Command,
    /// Where the counted folder's items land.
    folders: Vec<PathBuf>,
    proxy: Proxy,
}

impl Syncer {
    fn round(&mut self, want: usize) -> Result<Row> {
        let before = self.proxy.counts();
        let mut runs = Vec::new();
        for command in &self.timed {
            runs.push(measure(command)?);
        }
        measure(&self.counted)?;
        for folder in &self.folders {
            expect_items(folder, want, self.label)?;
        }
        let after = self.proxy.counts();
        let mut methods = after.methods.clone();
        for (method, n) in &before.methods {
            if let Some(total) = methods.get_mut(method) {
                *total -= n;
            }
        }
        methods.retain(|_, n| *n > 0);
        Ok(Row {
            contender: self.label.to_owned(),
            runs,
            counts: Counts {
                connections: after.connections - before.connections,
                methods,
                sent: after.sent - before.sent,
                received: after.received - before.received,
                unframed: after.unframed - before.unframed,
            },
            note: String::new(),
        })
    }
}

/// `cargo xtask bench vdirsyncer`.
pub(crate) fn vdirsyncer() -> Result<()> {
    let (env, _servers) = server_env()?;
    let (caldav, _) = our_binaries()?;
    let vdirsyncer = tool(Tool::Vdirsyncer)?;
    let mut report = String::new();
    // Every server's folders are kept until the end: removing one server's 16,000 files just
    // before the next server's first syncs made each file those create cost up to a
    // millisecond of kernel time (an ext4 without a journal skips inodes freed in the last
    // seconds when it allocates one), a cost of the benchmark, not of either contender.
    let mut scratches = Vec::new();
    for target in Target::all(&env)? {
        let calendar = Calendar::make(&target, EVENTS)?;
        scratches.push(Scratch::new(&format!("vdirsyncer-{}", target.name))?);
        let scratch = scratches.last().context("no scratch folder")?;

        let ours = {
            let proxy = Proxy::start(target.address)?;
            let mut timed = Vec::new();
            let mut folders = Vec::new();
            for rep in 0..REPS {
                let root = scratch.dir(&format!("ours-{rep}"))?;
                folders.push(root.join(&calendar.name));
                timed.push(caldav_sync(
                    &caldav,
                    &target,
                    &target.url_via(None),
                    &calendar.name,
                    &root,
                ));
            }
            let root = scratch.dir("ours-counted")?;
            folders.push(root.join(&calendar.name));
            let counted = caldav_sync(
                &caldav,
                &target,
                &target.url_via(Some(&proxy)),
                &calendar.name,
                &root,
            );
            Syncer {
                label: "ours: `caldav sync`",
                timed,
                counted,
                folders,
                proxy,
            }
        };
        let theirs = {
            let proxy = Proxy::start(target.address)?;
            let mut commands = Vec::new();
            let mut folders = Vec::new();
            for (rep, via) in (0..=REPS).map(|rep| (rep, rep == REPS)) {
                let dir = scratch.dir(&format!("vdirsyncer-{rep}"))?;
                let folder = scratch.dir(&format!("vdirsyncer-{rep}/vdir"))?;
                let url = calendar.url_via(via.then_some(&proxy));
                let config = vdirsyncer_config(&dir, &target, &url, &folder)?;
                let command = |args: &[&str]| {
                    let mut command = Command::new(&vdirsyncer);
                    command
                        .arg("-c")
                        .arg(&config)
                        .args(args)
                        .env("CALDAV_PASSWORD", &target.password);
                    command
                };
                // Discovery is set-up, not measured.
                let mut discover = command(&["discover"]);
                discover.stdin(Stdio::null());
                run::status(&mut discover)?;
                commands.push(command(&["sync"]));
                folders.push(folder);
            }
            let counted = commands.pop().context("no counted vdirsyncer")?;
            Syncer {
                label: "vdirsyncer 0.21",
                timed: commands,
                counted,
                folders,
                proxy,
            }
        };
        let mut syncers = [ours, theirs];

        let (modified, added, deleted) = CHANGES;
        let mut scenarios = Vec::new();
        let first: Vec<Row> = syncers
            .iter_mut()
            .map(|s| s.round(EVENTS))
            .collect::<Result<_>>()?;
        scenarios.push((format!("first sync of {EVENTS} events"), first));
        let mut same: Vec<Row> = syncers
            .iter_mut()
            .map(|s| s.round(EVENTS))
            .collect::<Result<_>>()?;
        same.push(token_report_row(&target, &calendar.path)?);
        scenarios.push(("no change".to_owned(), same));
        calendar.put_all((0..modified).map(|i| (i * 97, event(i * 97, 1))).collect())?;
        calendar.put_range(EVENTS..EVENTS + added)?;
        for i in 0..deleted {
            calendar.delete(EVENTS - 1 - i * 89)?;
        }
        let after = EVENTS + added - deleted;
        let changed: Vec<Row> = syncers
            .iter_mut()
            .map(|s| s.round(after))
            .collect::<Result<_>>()?;
        scenarios.push((
            format!(
                "after {} server-side changes ({modified} modified, {added} added, \
                 {deleted} deleted)",
                modified + added + deleted
            ),
            changed,
        ));
        let table = sync_table(target.name, &scenarios);
        eprintln!("\n{table}");
        report.push_str(&table);
    }
    println!("\n{report}");
    Ok(())
}

fn sync_table(server: &str, scenarios: &[(String, Vec<Row>)]) -> String {
    let mut out = format!(
        "### {server}: `caldav sync` and vdirsyncer\n\n\
         | scenario | contender | wall (median of {REPS}) | x ours | client CPU | requests | \
         connections | bytes up / down | peak RSS |\n|---|---|---|---|---|---|---|---|---|\n"
    );
    for (scenario, rows) in scenarios {
        let ours = rows.first().map(Row::median).unwrap_or_default();
        for row in rows {
            let median = row.median();
            let _ = writeln!(
                out,
                "| {scenario} | {} | {} | {:.2} | {} | {} ({}) | {} | {} / {} | {} |",
                row.contender,
                seconds(median),
                median / ours,
                row.cpu(),
                row.counts.requests(),
                row.counts.by_method(),
                row.counts.connections,
                kb(row.counts.sent),
                kb(row.counts.received),
                mib(row.peak_kib()),
            );
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_hrefs_reads_any_prefix_and_skips_the_collection() {
        let body = "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/c/</d:href>\
                    </d:response><response><href>/c/a.ics</href></response>\
                    <D:response><D:href>\n /c/b.ics </D:href><D:propstat/></D:response>\
                    </d:multistatus>";
        assert_eq!(member_hrefs(body), ["/c/a.ics", "/c/b.ics"]);
    }

    #[test]
    fn sync_token_is_read_from_any_prefix_and_unescaped() {
        let body = "<d:multistatus xmlns:d=\"DAV:\"><d:sync-token> data:,1&amp;2 </d:sync-token>";
        assert_eq!(sync_token(body).as_deref(), Some("data:,1&2"));
        assert_eq!(sync_token("<multistatus/>"), None);
        assert!(sync_collection_body("a<b").contains("<D:sync-token>a&lt;b</D:sync-token>"));
    }

    #[test]
    fn events_are_distinct_and_versions_differ() {
        assert_ne!(event(1, 0), event(2, 0));
        assert_ne!(event(1, 0), event(1, 1));
        assert!(event(1999, 0).contains("UID:peers-bench-01999\r\n"));
        assert!(event(5, 0).split("\r\n").all(|line| line.len() <= 75));
    }
}
