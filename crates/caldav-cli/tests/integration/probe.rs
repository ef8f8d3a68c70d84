//! `caldav probe` against each real server: the profile matches what `SERVERS.md` measured,
//! nothing is left behind, and a `caldav sync` with the stored profile completes.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::env::var;

/// A server under test, with a profiles file of its own.
struct Probed {
    name: &'static str,
    url: String,
    user: Option<(String, String)>,
    dir: PathBuf,
}

fn unique(prefix: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!(
        "{prefix}-{}-{}-{:x}",
        std::process::id(),
        now.as_secs(),
        now.subsec_nanos()
    )
}

impl Probed {
    fn new(name: &'static str, context: &str) -> Self {
        let upper = name.to_ascii_uppercase();
        let base = var(&format!("CALDAV_TEST_{upper}_URL"));
        // The second user: other tests list and delete alice's calendars at the same time,
        // and Radicale answers a listing 500 when a member vanishes under it.
        let user = (var(&format!("CALDAV_TEST_{upper}_AUTH")) != "none").then(|| {
            (
                var(&format!("CALDAV_TEST_{upper}_USER2")),
                var(&format!("CALDAV_TEST_{upper}_PASSWORD2")),
            )
        });
        let dir = std::env::temp_dir().join(unique(&format!("caldav-probe-test-{name}")));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            name,
            url: format!("{}{context}", base.trim_end_matches('/')),
            user,
            dir,
        }
    }

    fn profiles(&self) -> PathBuf {
        self.dir.join("profiles.toml")
    }

    fn caldav(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_caldav"));
        command.args(["--url", &self.url]);
        if let Some((user, password)) = &self.user {
            command
                .args(["--user", user])
                .env("CALDAV_PASSWORD", password);
        }
        command
            .args(args)
            .env_remove("CALDAV_CONFIG")
            .env("CALDAV_PROFILES", self.profiles())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.caldav(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{}: caldav {args:?}\nstdout: {stdout}\nstderr: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// The hrefs of the account's calendars. A listing is retried a few times: a server
    /// shared with other tests may fail one while a calendar is deleted under it.
    fn calendars(&self) -> Vec<String> {
        let mut out = self.caldav(&["ls", "--json"]);
        for _ in 0..4 {
            if out.status.success() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
            out = self.caldav(&["ls", "--json"]);
        }
        assert!(out.status.success(), "{}: ls: {out:?}", self.name);
        let mut hrefs: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let value: serde_json::Value = serde_json::from_str(l).unwrap();
                value["href"].as_str().unwrap().to_owned()
            })
            .collect();
        hrefs.sort();
        hrefs
    }
}

/// Runs `caldav probe --save` and returns the printed profile, the scratch calendar and the
/// stored profile, after checking that nothing was left behind.
fn probe(server: &Probed) -> toml::Table {
    let before = server.calendars();
    let out = server.ok(&["probe", "--save"]);
    let after = server.calendars();

    // The printed TOML is everything up to the first blank line.
    let (profile_text, rest) = out.split_once("\n\n").unwrap();
    let printed: toml::Table = profile_text.parse().unwrap();
    let scratch = rest
        .lines()
        .find_map(|l| l.strip_prefix("# ran in the scratch calendar "))
        .unwrap_or_else(|| panic!("{}: no scratch calendar made\n{out}", server.name))
        .trim()
        .to_owned();
    assert!(scratch.contains("caldav-probe-"), "{scratch}");
    assert!(before.iter().all(|h| h != &scratch));
    // Other engineers' tests share the servers: only what the probe made must be gone.
    assert!(
        !after.contains(&scratch),
        "{}: {scratch} left behind",
        server.name
    );
    assert!(
        after
            .iter()
            .filter(|h| !before.contains(h))
            .all(|h| !h.contains("caldav-probe-")),
        "{}: a scratch calendar left behind: {after:?}",
        server.name
    );
    let gone = server.caldav(&["get", &format!("{scratch}x.ics")]);
    assert!(!gone.status.success());
    for experiment in [
        "well-known",
        "sync-empty-token",
        "multiget-missing",
        "cleanup",
    ] {
        assert!(
            rest.lines().any(|l| l.starts_with(experiment)),
            "{experiment} not in the table\n{rest}"
        );
    }

    // --save stored the same profile under the account's key.
    let stored: toml::Table = std::fs::read_to_string(server.profiles())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (_, saved) = stored.into_iter().next().unwrap();
    assert_eq!(saved.as_table().unwrap(), &printed);
    printed
}

fn flag(profile: &toml::Table, field: &str) -> bool {
    profile[field].as_bool().unwrap()
}

fn text<'a>(profile: &'a toml::Table, field: &str) -> &'a str {
    profile[field].as_str().unwrap()
}

fn delete_statuses(profile: &toml::Table) -> Vec<i64> {
    profile["delete_ok_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_integer().unwrap())
        .collect()
}

/// A calendar with one event, synced into a folder with the stored profile (a trace shows
/// which requests it made); the calendar is deleted at the end.
fn sync_with_profile(server: &Probed) -> String {
    let name = unique("probe-sync");
    server.ok(&["mkcalendar", &name]);
    let uid = unique("probe-ev");
    let file = server.dir.join(format!("{uid}.ics"));
    std::fs::write(
        &file,
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//probe test//EN\r\n\
             BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
             DTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\nSUMMARY:probed\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    )
    .unwrap();
    server.ok(&["put", file.to_str().unwrap(), "--calendar", &name]);
    let root = server.dir.join("vdir");
    let trace = server.dir.join("sync.log");
    let first = server.caldav(&[
        "--trace",
        trace.to_str().unwrap(),
        "sync",
        &name,
        root.to_str().unwrap(),
    ]);
    let second = server.caldav(&["sync", &name, root.to_str().unwrap()]);
    // Clean up before asserting, so that a failure leaves nothing behind either.
    let href = server
        .calendars()
        .into_iter()
        .find(|h| h.trim_end_matches('/').ends_with(&name))
        .unwrap();
    remove_calendar(server, &href);
    for out in [&first, &second] {
        assert!(
            out.status.success(),
            "{}: sync with the probed profile: {}\n{}",
            server.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let first = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(first.contains("from server +1"), "{first}");
    let second = String::from_utf8_lossy(&second.stdout).into_owned();
    assert!(second.contains("+0 ~0 -0"), "{second}");
    let items: Vec<PathBuf> = std::fs::read_dir(root.join(&name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ics"))
        .collect();
    assert_eq!(items.len(), 1, "{items:?}");
    std::fs::read_to_string(trace).unwrap()
}

/// Deletes a calendar collection with a plain DELETE (no CLI command deletes calendars, and
/// Cyrus drops the connection on a collection DELETE with `If-Match: *`).
fn remove_calendar(server: &Probed, href: &str) {
    use base64::Engine as _;
    use std::io::{Read as _, Write as _};
    let authority = server
        .url
        .split_once("://")
        .unwrap()
        .1
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut request = format!(
        "DELETE {href} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: 0\r\n"
    );
    if let Some((user, password)) = &server.user {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = std::net::TcpStream::connect(&authority).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).unwrap_or_default();
    assert!(status.starts_with('2'), "DELETE {href}: {answer}");
}

fn cleanup(server: &Probed) {
    let _ = std::fs::remove_dir_all(&server.dir);
}

#[test]
fn probe_radicale() {
    let server = Probed::new("radicale", "/");
    let profile = probe(&server);
    assert!(flag(&profile, "sync_collection"));
    assert_eq!(text(&profile, "invalid_sync_token"), "forbidden");
    assert!(delete_statuses(&profile).contains(&200));
    assert!(!flag(&profile, "duplicate_uid_accepted"));
    assert!(flag(&profile, "dav_header_at_root"));
    assert_eq!(text(&profile, "well_known"), "redirect");
    assert!(
        flag(&profile, "rewrites_data"),
        "Radicale reorders properties"
    );
    assert!(!flag(&profile, "trailing_crlf_stripped"));
    let trace = sync_with_profile(&server);
    assert!(asked_for_sync_collection(&trace), "{trace}");
    cleanup(&server);
}

#[test]
fn probe_xandikos() {
    let server = Probed::new("xandikos", "/");
    // MKCALENDAR's misspelled-namespace answer is tolerated: the scratch calendar is made.
    let profile = probe(&server);
    assert!(flag(&profile, "sync_collection"));
    assert_eq!(text(&profile, "invalid_sync_token"), "precondition-failed");
    assert_eq!(delete_statuses(&profile), [204]);
    assert!(!flag(&profile, "duplicate_uid_accepted"));
    assert!(flag(&profile, "dav_header_at_root"));
    assert!(
        flag(&profile, "rewrites_data"),
        "Xandikos reorders properties"
    );
    sync_with_profile(&server);
    cleanup(&server);
}

#[test]
fn probe_cyrus() {
    let server = Probed::new("cyrus", "/dav/");
    let profile = probe(&server);
    assert!(!flag(&profile, "dav_header_at_root"));
    assert!(!flag(&profile, "duplicate_uid_accepted"));
    assert!(flag(&profile, "sync_collection"));
    assert_eq!(text(&profile, "invalid_sync_token"), "forbidden");
    assert_eq!(delete_statuses(&profile), [204]);
    assert_eq!(text(&profile, "well_known"), "redirect");
    assert!(!flag(&profile, "multiget_404_on_missing_href"));
    sync_with_profile(&server);
    cleanup(&server);
}

#[test]
fn probe_sabredav() {
    let server = Probed::new("sabredav", "/");
    let profile = probe(&server);
    assert!(!flag(&profile, "sync_collection"));
    assert!(flag(&profile, "multiget_404_on_missing_href"));
    assert!(flag(&profile, "duplicate_uid_accepted"));
    assert!(flag(&profile, "trailing_crlf_stripped"));
    assert!(!flag(&profile, "rewrites_data"));
    assert_eq!(delete_statuses(&profile), [204]);
    // The stored profile is what sync reads: no sync-collection is even tried.
    let trace = sync_with_profile(&server);
    assert!(!asked_for_sync_collection(&trace), "{trace}");
    cleanup(&server);
}

/// Whether a request of a recorded conversation asks for `sync-collection`.
fn asked_for_sync_collection(trace: &str) -> bool {
    caldav_trace::Trace::parse(trace.as_bytes())
        .unwrap()
        .into_exchanges()
        .iter()
        .any(|e| String::from_utf8_lossy(e.request.body()).contains("sync-collection"))
}

#[test]
fn an_account_quirks_table_overrides_the_built_in_profile() {
    let server = Probed::new("xandikos", "/");
    let config = server.dir.join("config.toml");
    let write_config = |quirks: &str| {
        let text = format!(
            "[accounts.t]\nurl = {:?}\nquirks = {{ {quirks} }}\n",
            server.url
        );
        std::fs::write(&config, text).unwrap();
    };
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_caldav"))
            .args(["--account", "t"])
            .args(args)
            .env("CALDAV_CONFIG", &config)
            .env("CALDAV_PROFILES", server.profiles())
            .output()
            .unwrap()
    };
    // A misspelt field is an error, not silently ignored.
    write_config("sync_colection = false");
    let out = run(&["ls"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sync_colection"));

    // Xandikos has sync-collection; the account says not to use it, and sync obeys.
    write_config("sync_collection = false, ctag = false");
    let name = unique("probe-quirks");
    let made = run(&["mkcalendar", &name]);
    assert!(made.status.success(), "{made:?}");
    let root = server.dir.join("vdir");
    let trace = server.dir.join("sync.log");
    let synced = run(&[
        "--trace",
        trace.to_str().unwrap(),
        "sync",
        &name,
        root.to_str().unwrap(),
    ]);
    let href = server
        .calendars()
        .into_iter()
        .find(|h| h.trim_end_matches('/').ends_with(&name))
        .unwrap();
    remove_calendar(&server, &href);
    assert!(synced.status.success(), "{synced:?}");
    let trace = std::fs::read_to_string(trace).unwrap();
    assert!(trace.contains("PROPFIND"), "{trace}");
    assert!(!asked_for_sync_collection(&trace), "{trace}");
    cleanup(&server);
}
