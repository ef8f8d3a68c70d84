//! Fault tests of `caldav sync` at 2,000 events: killed with SIGKILL at random points, cut off
//! from the server mid-sync, and resumed without refetching what was already saved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use caldav_tokio::{Credentials, HttpClient, HttpConfig};

use crate::servers::{Relay, Server, calendar_href, folder_items, next, server, temp_dir, unique};

/// How many events the calendar holds.
const EVENTS: usize = 2000;

fn big_event(uid: &str, i: usize) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//cli fault test//EN\r\n\
         BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:20260105T{:02}{:02}00Z\r\nDURATION:PT30M\r\nSUMMARY:event {i} of {EVENTS}\r\n\
         DESCRIPTION:a body long enough to make the multiget answers a few hundred kilobytes\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
        i % 24,
        i % 60,
    )
}

/// iCalendar compared as content: unfolded, line ends and line order ignored (servers such as
/// Radicale store a reordered copy of what they were sent).
fn content(data: &str) -> Vec<String> {
    let unfolded = data
        .replace("\r\n", "\n")
        .replace("\n ", "")
        .replace("\n\t", "");
    let mut lines: Vec<String> = unfolded
        .lines()
        .map(|l| l.trim_end().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines
}

fn uid_of(data: &str) -> String {
    data.lines()
        .find_map(|l| l.trim_end().strip_prefix("UID:").map(str::to_owned))
        .unwrap()
}

/// A calendar of [`EVENTS`] events made for one test, deleted when the test ends (even when it
/// fails).
struct BigCalendar {
    name: String,
    /// Scheme and authority.
    origin: String,
    /// The calendar's path.
    path: String,
    client: HttpClient,
    runtime: tokio::runtime::Runtime,
    /// UID -> data, as uploaded.
    events: BTreeMap<String, String>,
}

impl BigCalendar {
    fn new(server: &Server, tag: &str) -> Self {
        let name = unique(&format!("cli2-{tag}"));
        server.ok(&["mkcalendar", &name]);
        let path = calendar_href(server, &name);
        let uri: http::Uri = server.url.parse().unwrap();
        let origin = format!(
            "{}://{}",
            uri.scheme_str().unwrap(),
            uri.authority().unwrap()
        );
        let mut config = HttpConfig::default();
        config.allow_plain_http_credentials = true;
        if let Some((user, password)) = &server.user {
            config = config.with_credentials(Credentials::password(user, password));
        }
        let client = HttpClient::new(config).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let events = (0..EVENTS)
            .map(|i| {
                let uid = format!("{name}-{i}");
                let data = big_event(&uid, i);
                (uid, data)
            })
            .collect();
        let calendar = Self {
            name,
            origin,
            path,
            client,
            runtime,
            events,
        };
        if server.name == "radicale" {
            calendar.upload_whole();
        } else {
            calendar.upload_each();
        }
        calendar
    }

    fn url(&self) -> String {
        format!("{}{}", self.origin, self.path)
    }

    fn send(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        self.runtime.block_on(self.client.send(request)).unwrap()
    }

    /// One PUT of the whole calendar to the collection (Radicale takes it apart by UID: 2,000
    /// single PUTs take minutes there, as each rewrites the collection's cache).
    fn upload_whole(&self) {
        let mut body = String::from(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//cli fault test//EN\r\n",
        );
        for data in self.events.values() {
            let start = data.find("BEGIN:VEVENT").unwrap();
            let end = data.find("END:VCALENDAR").unwrap();
            body.push_str(&data[start..end]);
        }
        body.push_str("END:VCALENDAR\r\n");
        let put = http::Request::put(self.url())
            .header("Content-Type", "text/calendar; charset=utf-8")
            .body(Bytes::from(body))
            .unwrap();
        let response = self.send(put);
        assert!(
            response.status().is_success(),
            "PUT {}: {}",
            self.url(),
            response.status()
        );
    }

    /// PUTs every event, 4 at a time (gently: other tests use the server meanwhile).
    fn upload_each(&self) {
        let jobs: Vec<(String, String)> = self
            .events
            .iter()
            .enumerate()
            .map(|(i, (_, data))| (format!("{}e{i}.ics", self.url()), data.clone()))
            .collect();
        let client = self.client.clone();
        self.runtime.block_on(async move {
            let mut set = tokio::task::JoinSet::new();
            for (url, data) in jobs {
                let client = client.clone();
                set.spawn(async move {
                    let put = http::Request::put(&url)
                        .header("Content-Type", "text/calendar; charset=utf-8")
                        .header("If-None-Match", "*")
                        .body(Bytes::from(data))
                        .unwrap();
                    let response = client.send(put).await.unwrap();
                    assert!(
                        response.status().is_success(),
                        "PUT {url}: {}",
                        response.status()
                    );
                });
                while set.len() >= 4 {
                    set.join_next().await.unwrap().unwrap();
                }
            }
            while let Some(done) = set.join_next().await {
                done.unwrap();
            }
        });
    }

    /// The objects the server holds now, path -> data (one calendar-query REPORT).
    fn server_items(&self) -> Vec<(String, String)> {
        let request = http::Request::builder()
            .method("REPORT")
            .uri(self.url())
            .header("Depth", "1")
            .header("Content-Type", "application/xml")
            .body(Bytes::from_static(
                b"<C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\
                  <D:prop><C:calendar-data/></D:prop>\
                  <C:filter><C:comp-filter name=\"VCALENDAR\"/></C:filter></C:calendar-query>",
            ))
            .unwrap();
        let response = self.send(request);
        assert_eq!(response.status(), 207);
        let mut limits = dav_xml::Limits::default();
        limits.max_elements = 1 << 22;
        limits.max_text_bytes = 64 << 20;
        limits.max_response_bytes = 256 << 20;
        let multistatus = dav_xml::Multistatus::decode_with(response.body(), &limits).unwrap();
        let data = caldav_model::property::names::CALENDAR_DATA;
        let mut items: Vec<(String, String)> = multistatus
            .responses
            .iter()
            .filter_map(|r| {
                let href = r.href()?.as_str();
                let path = match href.find("://") {
                    Some(i) => {
                        let rest = &href[i + 3..];
                        rest[rest.find('/').unwrap()..].to_owned()
                    }
                    None => href.to_owned(),
                };
                Some((path, r.prop(&data)?.text().into_owned()))
            })
            .collect();
        items.sort();
        items
    }

    /// The folder holds the server's calendar exactly, and the server the uploaded events:
    /// every UID once on each side, and the same content.
    fn assert_folder_equals_server(&self, folder: &Path, why: &str) {
        let server = self.server_items();
        let mut on_server = BTreeMap::new();
        for (path, data) in &server {
            let uid = uid_of(data);
            assert!(
                self.events.contains_key(&uid),
                "{why}: {path} holds {uid}, never uploaded"
            );
            assert!(
                on_server.insert(uid.clone(), data).is_none(),
                "{why}: {uid} twice on the server"
            );
        }
        assert_eq!(on_server.len(), EVENTS, "{why}: events on the server");

        let items = folder_items(folder);
        let mut seen = BTreeSet::new();
        for (file, text) in &items {
            let uid = uid_of(text);
            assert!(
                seen.insert(uid.clone()),
                "{why}: {uid} twice (again in {file})"
            );
            let theirs = on_server
                .get(&uid)
                .unwrap_or_else(|| panic!("{why}: {file} holds {uid}, not on the server"));
            assert_eq!(content(text), content(theirs), "{why}: {file} differs");
        }
        assert_eq!(items.len(), EVENTS, "{why}: files in the folder");
    }
}

impl Drop for BigCalendar {
    fn drop(&mut self) {
        if let Ok(request) = http::Request::delete(self.url()).body(Bytes::new()) {
            let _ = self.runtime.block_on(self.client.send(request));
        }
    }
}

/// The text of every `href` element of an XML body.
fn hrefs_in(xml: &str) -> Vec<String> {
    xml.split("href>")
        .skip(1)
        .filter_map(|rest| {
            let text = rest.split('<').next().unwrap_or("").trim();
            (!text.is_empty()).then(|| text.to_owned())
        })
        .collect()
}

/// A config file naming `server` as the account `faults`, with multigets of 100 hrefs: 20
/// checkpoints for 2,000 events, so that a kill or a cut after the first few lands mid-sync
/// whatever batch size client-core picks by default (a few large multigets in flight arrive
/// together, and a run could finish before the test acts).
fn small_batch_account(server: &Server) -> std::path::PathBuf {
    let config = temp_dir("faults-config").join("config.toml");
    let user = server
        .user
        .as_ref()
        .map(|(user, _)| format!("user = \"{user}\"\n"))
        .unwrap_or_default();
    std::fs::write(
        &config,
        format!(
            "[accounts.faults]\nurl = \"{}\"\n{user}quirks = {{ multiget_batch_size = 100 }}\n",
            server.url
        ),
    )
    .unwrap();
    config
}

/// `caldav sync NAME DIR` started in the background (output discarded), in batches of 100.
fn spawn_sync(server: &Server, name: &str, root: &Path) -> Child {
    let args = [
        "--account".to_owned(),
        "faults".to_owned(),
        "sync".to_owned(),
        name.to_owned(),
        root.display().to_string(),
    ];
    let mut command = Command::new(env!("CARGO_BIN_EXE_caldav"));
    command
        .args(&args)
        .env("CALDAV_CONFIG", small_batch_account(server))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some((_, password)) = &server.user {
        command.env("CALDAV_PASSWORD", password);
    }
    command.spawn().unwrap()
}

/// The object paths the folder's sync state claims (fetched and saved), per the state file.
fn claimed(root: &Path) -> BTreeSet<String> {
    let Ok(text) = std::fs::read_to_string(root.join(".caldav-state.json")) else {
        return BTreeSet::new();
    };
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut paths = BTreeSet::new();
    if let Some(calendars) = state["sync"]["calendars"].as_object() {
        for calendar in calendars.values() {
            if let Some(items) = calendar["items"].as_object() {
                paths.extend(items.keys().cloned());
            }
        }
    }
    paths
}

/// Starts a sync and SIGKILLs it as soon as the state claims at least `at_least` items (and
/// before it claims them all). Returns the claims the killed run left on disk.
fn kill_once_claimed(
    server: &Server,
    name: &str,
    root: &Path,
    at_least: usize,
) -> BTreeSet<String> {
    let mut child = spawn_sync(server, name, root);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the sync ended ({status}) before it could be killed mid-way");
        }
        if claimed(root).len() >= at_least {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // `kill` is SIGKILL on Unix: no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    let after = claimed(root);
    assert!(
        after.len() < EVENTS,
        "the sync completed before it was killed"
    );
    after
}

/// Six runs SIGKILLed after random delays, then one to the end: the folder equals the server.
fn killed_at_random_points(server: &Server, calendar: &BigCalendar) {
    let mut seed = u64::from(std::process::id())
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
    let first_seed = seed;
    let root = temp_dir("kill2k");
    let mut history = Vec::new();
    for _ in 0..6 {
        let mut child = spawn_sync(server, &calendar.name, &root);
        let delay = 100 + next(&mut seed) % 2500;
        std::thread::sleep(Duration::from_millis(delay));
        let finished = child.try_wait().unwrap().is_some();
        // `kill` is SIGKILL on Unix: no chance to clean up.
        child.kill().ok();
        child.wait().unwrap();
        history.push(format!(
            "killed after {delay} ms{}: {} claimed",
            if finished { " (already done)" } else { "" },
            claimed(&root).len()
        ));
    }
    let why = format!("{}: seed {first_seed}, {}", server.name, history.join("; "));
    let out = server.ok(&["sync", &calendar.name, root.to_str().unwrap()]);
    assert!(out.contains("0 conflicts, 0 errors"), "{why}: {out}");
    calendar.assert_folder_equals_server(&root.join(&calendar.name), &why);
    // And nothing is left to do.
    let out = server.ok(&["sync", &calendar.name, root.to_str().unwrap()]);
    assert!(
        out.contains("from server +0 ~0 -0, to server +0 ~0 -0"),
        "{why}: {out}"
    );
}

/// The object paths a recorded run fetched: the hrefs of its multigets and its GETs.
fn fetched_in(log: &[u8]) -> Vec<String> {
    let trace = caldav_trace::Trace::parse(log).unwrap();
    let mut fetched = Vec::new();
    for exchange in trace.exchanges() {
        let request = &exchange.request;
        let body = String::from_utf8_lossy(request.body());
        if request.method() == "REPORT" && body.contains("calendar-multiget") {
            fetched.extend(hrefs_in(&body));
        } else if request.method() == "GET" {
            fetched.push(request.uri().path().to_owned());
        }
    }
    fetched
}

/// A run killed once some checkpoints are saved; the next run, recorded, fetches exactly the
/// items no checkpoint saved.
fn resumed_without_refetching(server: &Server, calendar: &BigCalendar) {
    let root = temp_dir("resume2k");
    let saved = kill_once_claimed(server, &calendar.name, &root, 300);

    let log = root.with_extension("trace.log");
    let mut args = vec![
        "trace".to_owned(),
        "-o".to_owned(),
        log.display().to_string(),
        "--".to_owned(),
    ];
    args.extend(server.account_args());
    args.extend([
        "sync".to_owned(),
        calendar.name.clone(),
        root.display().to_string(),
    ]);
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(&args)
        .env_remove("CALDAV_CONFIG")
        .env("CALDAV_PASSWORD", &server.user.as_ref().unwrap().1)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let fetched = fetched_in(&std::fs::read(&log).unwrap());
    let unique_fetched: BTreeSet<String> = fetched.iter().cloned().collect();
    assert_eq!(unique_fetched.len(), fetched.len(), "an item fetched twice");
    let again: Vec<&String> = unique_fetched.intersection(&saved).collect();
    assert!(again.is_empty(), "fetched again though saved: {again:?}");
    // Everything the killed run did not save, and only that, was fetched.
    let all: BTreeSet<String> = calendar
        .server_items()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let rest: BTreeSet<String> = all.difference(&saved).cloned().collect();
    assert_eq!(
        unique_fetched,
        rest,
        "{} saved before the kill",
        saved.len()
    );
    calendar.assert_folder_equals_server(&root.join(&calendar.name), "resumed");
}

/// The server cut off (a relay that drops every connection) mid-sync: exit 5, then a later
/// run completes.
fn cut_off_mid_sync(direct: &Server, calendar: &BigCalendar) {
    let target: std::net::SocketAddr = direct
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    // The relay forwards 600 KB of answers, then the server is gone: inside the one answer of
    // a first sync (about 1.9 MB here), or after a few multigets of 100.
    let relay = Relay::start_with_budget(0, target, 600_000);
    let via = Server {
        name: "relay",
        url: format!("http://127.0.0.1:{}/", relay.port),
        user: direct.user.clone(),
    };
    let root = temp_dir("cut2k");
    let args = [
        "--account".to_owned(),
        "faults".to_owned(),
        "sync".to_owned(),
        calendar.name.clone(),
        root.display().to_string(),
    ];
    let child = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(&args)
        .env("CALDAV_CONFIG", small_batch_account(&via))
        .env("CALDAV_PASSWORD", &via.user.as_ref().unwrap().1)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let port = relay.cut();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let saved = claimed(&root);
    assert!(saved.len() < EVENTS, "the sync completed before the cut");

    let _relay = Relay::start(port, target);
    let out = via.ok(&["sync", &calendar.name, root.to_str().unwrap()]);
    assert!(out.contains("0 conflicts, 0 errors"), "{out}");
    calendar.assert_folder_equals_server(&root.join(&calendar.name), "after the cut");
}

/// The server as its second user: Radicale answers a listing of a home with 500 when one of
/// its collections is replaced or deleted meanwhile, so the big calendar lives away from the
/// home the other tests list.
pub(crate) fn as_second_user(server: Server) -> Server {
    let upper = server.name.to_ascii_uppercase();
    Server {
        user: Some((
            crate::env::var(&format!("CALDAV_TEST_{upper}_USER2")),
            crate::env::var(&format!("CALDAV_TEST_{upper}_PASSWORD2")),
        )),
        ..server
    }
}

#[test]
fn a_2000_event_sync_survives_kills_and_cuts_and_resumes_without_refetching_radicale() {
    let server = as_second_user(server("radicale", "/"));
    let calendar = BigCalendar::new(&server, "2k");
    killed_at_random_points(&server, &calendar);
    resumed_without_refetching(&server, &calendar);
    cut_off_mid_sync(&server, &calendar);
}

#[test]
fn a_2000_event_sync_killed_at_random_points_loses_and_duplicates_nothing_cyrus() {
    let server = server("cyrus", "/dav/");
    let calendar = BigCalendar::new(&server, "2k");
    killed_at_random_points(&server, &calendar);
    resumed_without_refetching(&server, &calendar);
}
