//! Every server command of `caldav`, run as a user runs it, against the real servers.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::env::var;

/// A server under test: its URL (context path included), user and password.
pub(crate) struct Server {
    pub(crate) name: &'static str,
    pub(crate) url: String,
    pub(crate) user: Option<(String, String)>,
}

pub(crate) fn server(name: &'static str, context: &str) -> Server {
    let upper = name.to_ascii_uppercase();
    let base = var(&format!("CALDAV_TEST_{upper}_URL"));
    let user = (var(&format!("CALDAV_TEST_{upper}_AUTH")) != "none").then(|| {
        (
            var(&format!("CALDAV_TEST_{upper}_USER")),
            var(&format!("CALDAV_TEST_{upper}_PASSWORD")),
        )
    });
    Server {
        name,
        url: format!("{}{context}", base.trim_end_matches('/')),
        user,
    }
}

/// A name no other test (or run) uses.
pub(crate) fn unique(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(&format!("caldav-cli-{name}")));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Server {
    /// The account options, as a user types them (never the password).
    pub(crate) fn account_args(&self) -> Vec<String> {
        let mut args = vec!["--url".to_owned(), self.url.clone()];
        if let Some((user, _)) = &self.user {
            args.extend(["--user".to_owned(), user.clone()]);
        }
        args
    }

    pub(crate) fn caldav(&self, args: &[&str]) -> Output {
        let mut all = self.account_args();
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_caldav"));
        command.args(&all).env_remove("CALDAV_CONFIG");
        if let Some((_, password)) = &self.user {
            command.env("CALDAV_PASSWORD", password);
            assert!(!all.iter().any(|a| a.contains(password.as_str())));
        }
        command.output().unwrap()
    }

    /// Runs and expects exit code `code`; returns standard output.
    pub(crate) fn expect(&self, code: i32, args: &[&str]) -> String {
        let out = self.caldav(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}: caldav {args:?}\nstdout: {stdout}\nstderr: {stderr}",
            self.name
        );
        stdout
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        self.expect(0, args)
    }
}

/// Deletes the calendar named `name` when dropped, pass or fail: tests share the servers.
pub(crate) struct Cleanup<'a> {
    server: &'a Server,
    name: String,
}

impl<'a> Cleanup<'a> {
    pub(crate) fn new(server: &'a Server, name: &str) -> Self {
        Self {
            server,
            name: name.to_owned(),
        }
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let listing = self.server.caldav(&["ls", "--json"]);
        let href = String::from_utf8_lossy(&listing.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["name"] == self.name.as_str())
            .and_then(|v| v["href"].as_str().map(str::to_owned));
        if let Some(href) = href {
            delete(self.server, &href);
        }
    }
}

/// A plain DELETE of `path` (best effort: some servers give collections no etag to match).
fn delete(server: &Server, path: &str) {
    let Ok(uri) = server.url.parse::<http::Uri>() else {
        return;
    };
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return;
    };
    let mut config = caldav_tokio::HttpConfig::default();
    config.allow_plain_http_credentials = true;
    if let Some((user, password)) = &server.user {
        config = config.with_credentials(caldav_tokio::Credentials::password(user, password));
    }
    let Ok(client) = caldav_tokio::HttpClient::new(config) else {
        return;
    };
    let Ok(request) =
        http::Request::delete(format!("{scheme}://{authority}{path}")).body(bytes::Bytes::new())
    else {
        return;
    };
    if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        let _ = runtime.block_on(client.send(request));
    }
}

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//cli test//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\n\
         DTEND:20260105T110000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn write_event(dir: &Path, uid: &str, summary: &str) -> PathBuf {
    let path = dir.join(format!("{uid}.ics"));
    std::fs::write(&path, event(uid, summary)).unwrap();
    path
}

/// The href of the calendar named `name`, from `caldav ls --json`.
pub(crate) fn calendar_href(server: &Server, name: &str) -> String {
    let listing = server.ok(&["ls", "--json"]);
    for line in listing.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        if value["name"] == name {
            return value["href"].as_str().unwrap().to_owned();
        }
    }
    panic!("{}: {name} not in {listing}", server.name);
}

/// The `.ics` files of a synced calendar folder, by name, with their text.
pub(crate) fn folder_items(dir: &Path) -> Vec<(String, String)> {
    let mut items: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ics"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    items.sort();
    items
}

/// mkcalendar, ls, put, get, put again (conflict), rm, then a two-way sync with a change on
/// each side, a conflict left alone, then kept as both versions.
fn every_command(server: &Server) {
    let name = unique("cli");
    let out = server.ok(&[
        "mkcalendar",
        &name,
        "--color",
        "#FB0055FF",
        "--components",
        "VEVENT,VTODO",
    ]);
    assert!(out.starts_with("created "), "{out}");
    let _cleanup = Cleanup::new(server, &name);
    let href = calendar_href(server, &name);
    assert!(href.trim_end_matches('/').ends_with(&name), "{href}");
    let table = server.ok(&["ls"]);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains(&href), "{table}");

    let files = temp_dir("put");
    let uid = unique("ev");
    let file = write_event(&files, &uid, "first");
    let out = server.ok(&["put", file.to_str().unwrap(), "--calendar", &name]);
    assert!(out.starts_with("created "), "{out}");
    let item = out.split_whitespace().nth(1).unwrap().to_owned();
    let got = server.ok(&["get", &item]);
    assert!(got.contains("SUMMARY:first"), "{got}");
    // The same UID again: the server's object is never overwritten without --replace.
    server.expect(3, &["put", file.to_str().unwrap(), "--calendar", &name]);
    // Counted on request only.
    let counted = server.ok(&["ls", "--count", "--json"]);
    let ours: serde_json::Value = counted
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|value| value["name"] == name.as_str())
        .unwrap();
    assert_eq!(ours["items"], 1, "{}: {counted}", server.name);
    let table = server.ok(&["ls", "--count"]);
    assert!(table.lines().next().unwrap().contains("ITEMS"), "{table}");
    let row = table.lines().find(|l| l.contains(&href)).unwrap();
    assert!(row.split_whitespace().any(|cell| cell == "1"), "{row}");
    assert!(!server.ok(&["ls"]).contains("ITEMS"));

    // Sync the calendar into an empty folder.
    let root = temp_dir("sync");
    let root_s = root.to_str().unwrap();
    let out = server.ok(&["sync", &name, root_s]);
    assert!(out.contains("from server +1"), "{out}");
    let folder = root.join(&name);
    assert_eq!(
        std::fs::read_to_string(folder.join("displayname"))
            .unwrap()
            .trim(),
        name
    );
    let items = folder_items(&folder);
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(items[0].1.contains("SUMMARY:first"));

    // A second sync with no change changes nothing.
    let out = server.ok(&["sync", &name, root_s]);
    assert!(
        out.contains("+0 ~0 -0, to server +0 ~0 -0, 0 conflicts"),
        "{out}"
    );

    // A change on the server, a new file and an edit here.
    std::fs::write(&file, event(&uid, "changed on the server")).unwrap();
    let out = server.ok(&[
        "put",
        file.to_str().unwrap(),
        "--calendar",
        &name,
        "--replace",
    ]);
    assert!(out.starts_with("updated "), "{out}");
    let local_uid = unique("local");
    write_event(&folder, &local_uid, "made here");
    let out = server.ok(&["sync", &name, root_s]);
    assert!(out.contains("from server +0 ~1 -0, to server +1"), "{out}");
    let items = folder_items(&folder);
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        items
            .iter()
            .any(|(_, t)| t.contains("SUMMARY:changed on the server")),
        "{items:?}"
    );
    let listing = server.ok(&["sync", &name, root_s]);
    assert!(listing.contains("0 conflicts, 0 errors"), "{listing}");
    let local_href = format!("{}{local_uid}.ics", href);
    let got = server.ok(&["get", &local_href]);
    assert!(got.contains("SUMMARY:made here"), "{got}");

    // Both sides change the same item: reported, nothing overwritten.
    let (synced_file, _) = folder_items(&folder)
        .into_iter()
        .find(|(_, t)| t.contains(&format!("UID:{uid}")))
        .unwrap();
    std::fs::write(folder.join(&synced_file), event(&uid, "edited here")).unwrap();
    std::fs::write(&file, event(&uid, "edited there")).unwrap();
    server.ok(&[
        "put",
        file.to_str().unwrap(),
        "--calendar",
        &name,
        "--replace",
    ]);
    let out = server.expect(3, &["sync", &name, root_s]);
    assert!(out.contains("1 conflicts"), "{out}");
    let here = std::fs::read_to_string(folder.join(&synced_file)).unwrap();
    assert!(here.contains("SUMMARY:edited here"), "{here}");
    assert!(server.ok(&["get", &item]).contains("SUMMARY:edited there"));
    // Still a conflict on the next run: the user has not chosen.
    server.expect(3, &["sync", &name, root_s]);
    // Keep both: the server's version in the file, the local one as a new item.
    server.expect(3, &["sync", &name, root_s, "--on-conflict", "keep-both"]);
    let out = server.ok(&["sync", &name, root_s]);
    assert!(out.contains("0 conflicts, 0 errors"), "{out}");
    let items = folder_items(&folder);
    assert_eq!(items.len(), 3, "{items:?}");
    let here = std::fs::read_to_string(folder.join(&synced_file)).unwrap();
    assert!(here.contains("SUMMARY:edited there"), "{here}");
    assert!(
        items.iter().any(|(_, t)| t.contains("SUMMARY:edited here")
            && t.contains(&format!("UID:{uid}-conflict-"))),
        "{items:?}"
    );

    // A local delete goes to the server with If-Match.
    std::fs::remove_file(folder.join(&synced_file)).unwrap();
    let out = server.ok(&["sync", &name, root_s]);
    assert!(out.contains("to server +0 ~0 -1"), "{out}");
    server.expect(1, &["get", &item]);

    // rm with the etag check; then the sync brings the deletion here.
    let out = server.ok(&["rm", &local_href]);
    assert!(out.starts_with("deleted "), "{out}");
    let out = server.ok(&["sync", &name, root_s]);
    assert!(out.contains("from server +0 ~0 -1"), "{out}");
    assert_eq!(folder_items(&folder).len(), 1);
}

#[test]
fn every_command_on_radicale() {
    // As the second user: Radicale answers 500 to a listing of the first user's home while
    // other tests replace or delete calendars there.
    every_command(&crate::faults::as_second_user(server("radicale", "/")));
}

#[test]
fn every_command_on_xandikos() {
    every_command(&server("xandikos", "/"));
}

#[test]
fn every_command_on_cyrus() {
    every_command(&server("cyrus", "/dav/"));
}

#[test]
fn every_command_on_sabredav() {
    every_command(&server("sabredav", "/"));
}

#[test]
fn a_wrong_password_exits_4() {
    let server = server("radicale", "/");
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(server.account_args())
        .arg("ls")
        .env("CALDAV_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
}

#[test]
fn an_unreachable_server_exits_5() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(["--url", &format!("http://127.0.0.1:{port}/"), "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{out:?}");
}

#[test]
fn an_account_from_the_config_file() {
    let server = server("radicale", "/");
    let (user, password) = server.user.clone().unwrap();
    // A calendar of its own: the home may be empty otherwise (other tests' calendars come and
    // go in parallel), and an empty listing would prove nothing about the account.
    let name = unique("config");
    server.ok(&["mkcalendar", &name]);
    let _cleanup = Cleanup::new(&server, &name);
    let dir = temp_dir("config");
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, format!("{password}\n")).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[accounts.other]\nurl = \"http://127.0.0.1:1/\"\n\n[accounts.test]\nurl = \"{}\"\n\
             user = \"{user}\"\npassword-command = \"cat '{}'\"\n",
            server.url,
            secret_file.display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(["ls", "--account", "test", "--json"])
        .env("CALDAV_CONFIG", &config)
        .env_remove("CALDAV_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("\"href\"") && listed.contains(&name),
        "{name} not in {listed}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(["--account", "nope", "ls"])
        .env("CALDAV_CONFIG", &config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known: other, test"));
}

#[test]
fn no_password_in_argv_logs_traces_or_state() {
    use base64::Engine as _;
    let server = server("radicale", "/");
    let (user, password) = server.user.clone().unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let name = unique("secret");
    server.ok(&["mkcalendar", &name]);
    let _cleanup = Cleanup::new(&server, &name);
    let root = temp_dir("secret");
    let trace = root.join("trace.log");
    let files = temp_dir("secret-put");
    let file = write_event(&files, &unique("ev"), "secret test");
    let mut outputs = Vec::new();
    for args in [
        vec!["-vv", "put", file.to_str().unwrap(), "--calendar", &name],
        vec![
            "-vv",
            "--trace",
            trace.to_str().unwrap(),
            "sync",
            &name,
            root.join("vdir").to_str().unwrap(),
        ],
    ] {
        let out = server.caldav(&args);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        outputs.push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    assert!(
        outputs[3].contains("Authorization: Basic redacted"),
        "{}",
        outputs[3]
    );
    let trace_text = std::fs::read_to_string(&trace).unwrap();
    assert!(trace_text.contains("REPORT"), "{trace_text}");
    outputs.push(trace_text);
    for entry in walk(&root) {
        outputs.push(String::from_utf8_lossy(&std::fs::read(entry).unwrap()).into_owned());
    }
    for text in &outputs {
        assert!(!text.contains(password.as_str()), "password leaked: {text}");
        assert!(!text.contains(&encoded), "credentials leaked: {text}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn discover_by_srv_and_txt_through_the_test_dns_lands_on_cyrus() {
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args([
            "discover",
            "alice@example.test",
            "--user",
            &var("CALDAV_TEST_CYRUS_USER"),
            "--dns-server",
            &var("CALDAV_TEST_DNS_SERVER"),
            "--ca-file",
            &var("CALDAV_TEST_CA"),
        ])
        .env("CALDAV_PASSWORD", var("CALDAV_TEST_CYRUS_PASSWORD"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout.contains("SRV _caldavs._tcp.example.test: accepted"),
        "{stdout}"
    );
    assert!(
        stdout.contains("context: https://cal.example.test:8443/dav/"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "principal: {}",
            var("CALDAV_TEST_CYRUS_PRINCIPAL")
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("calendar-home: /dav/calendars/user/alice/"),
        "{stdout}"
    );
    assert!(stdout.contains("calendar-access"), "{stdout}");
}

#[test]
fn discover_an_explicit_http_url_on_radicale() {
    let server = server("radicale", "/");
    let (user, password) = server.user.clone().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(["--user", &user, "discover", &server.url])
        .env("CALDAV_PASSWORD", password)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout.contains(&format!(
            "principal: {}",
            var("CALDAV_TEST_RADICALE_PRINCIPAL")
        )),
        "{stdout}"
    );
}

#[test]
fn discover_of_an_unknown_domain_says_which_step_failed() {
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args([
            "discover",
            "alice@nowhere.example.test",
            "--dns-server",
            &var("CALDAV_TEST_DNS_SERVER"),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stderr.contains("discovery failed"), "{stderr}");
    assert!(
        stderr.contains("SRV _caldavs._tcp.nowhere.example.test"),
        "{stderr}"
    );
}

/// A small deterministic generator for kill delays (the seed is printed on failure).
pub(crate) fn next(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *seed >> 33
}

/// Runs `caldav sync` and SIGKILLs it after a random delay, `kills` times, then once to the end.
fn sync_with_kills(server: &Server, name: &str, root: &Path, kills: usize, seed: &mut u64) {
    for _ in 0..kills {
        let mut args = server.account_args();
        args.extend([
            "sync".to_owned(),
            name.to_owned(),
            root.display().to_string(),
        ]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_caldav"))
            .args(&args)
            .env("CALDAV_PASSWORD", &server.user.as_ref().unwrap().1)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50 + next(seed) % 700));
        // `kill` is SIGKILL on Unix: no chance to clean up.
        child.kill().ok();
        child.wait().unwrap();
    }
    let out = server.ok(&["sync", name, root.to_str().unwrap()]);
    assert!(out.contains("0 conflicts, 0 errors"), "seed {seed}: {out}");
}

/// The UIDs of a synced folder, sorted (duplicates kept).
fn folder_uids(dir: &Path) -> Vec<String> {
    let mut uids: Vec<String> = folder_items(dir)
        .iter()
        .map(|(_, text)| {
            text.lines()
                .find_map(|l| l.trim_end().strip_prefix("UID:").map(str::to_owned))
                .unwrap()
        })
        .collect();
    uids.sort();
    uids
}

#[test]
fn killed_syncs_lose_and_duplicate_nothing_radicale() {
    let server = server("radicale", "/");
    let name = unique("kill");
    server.ok(&["mkcalendar", &name]);
    let _cleanup = Cleanup::new(&server, &name);
    let mut seed = u64::from(std::process::id()) ^ 0x5eed;
    let n = 150;

    // Uploads interrupted: every local file reaches the server exactly once.
    let up = temp_dir("kill-up");
    let folder = up.join(&name);
    std::fs::create_dir_all(&folder).unwrap();
    let mut expected: Vec<String> = (0..n).map(|i| format!("{name}-ev{i}")).collect();
    expected.sort();
    server.ok(&["sync", &name, up.to_str().unwrap()]);
    for uid in &expected {
        write_event(&folder, uid, "made here");
    }
    sync_with_kills(&server, &name, &up, 5, &mut seed);
    assert_eq!(folder_uids(&folder), expected, "seed {seed}");

    // Downloads interrupted: a fresh folder ends with every item exactly once.
    let down = temp_dir("kill-down");
    sync_with_kills(&server, &name, &down, 5, &mut seed);
    assert_eq!(folder_uids(&down.join(&name)), expected, "seed {seed}");
    // And the server holds each exactly once: a clean sync into a third folder.
    let check = temp_dir("kill-check");
    server.ok(&["sync", &name, check.to_str().unwrap()]);
    assert_eq!(folder_uids(&check.join(&name)), expected, "seed {seed}");
}

#[test]
fn completions_and_help_need_no_server() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("mkcalendar"), "{shell}: {script}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(
        help.contains("5  the server could not be reached"),
        "{help}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(["sync"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// A TCP relay on 127.0.0.1 to a server, that can be cut (every connection closed, nothing
/// accepted) to stand for a server that stopped.
pub(crate) struct Relay {
    pub(crate) port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    streams: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    pub(crate) fn start(port: u16, target: std::net::SocketAddr) -> Self {
        Self::start_with_budget(port, target, usize::MAX)
    }

    /// A relay that forwards at most `budget` bytes from the server, then cuts every
    /// connection and refuses new ones: a server gone at a set point of a transfer.
    pub(crate) fn start_with_budget(
        port: u16,
        target: std::net::SocketAddr,
        budget: usize,
    ) -> Self {
        let budget = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(budget));
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let streams = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s, st) = (stop.clone(), streams.clone());
        let accept = std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(upstream) = std::net::TcpStream::connect(target) else {
                    continue;
                };
                let mut list = st.lock().unwrap();
                list.push(client.try_clone().unwrap());
                list.push(upstream.try_clone().unwrap());
                let (mut from, mut to) =
                    (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                std::thread::spawn(move || {
                    std::io::copy(&mut from, &mut to).ok();
                    to.shutdown(std::net::Shutdown::Both).ok();
                });
                let (budget, stop, all) = (budget.clone(), s.clone(), st.clone());
                std::thread::spawn(move || {
                    let (mut from, mut to) = (upstream, client);
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n) = from.read(&mut buf) {
                        let left = budget.load(Ordering::SeqCst);
                        let send = n.min(left);
                        budget.fetch_sub(send, Ordering::SeqCst);
                        if n == 0 || to.write_all(&buf[..send]).is_err() {
                            break;
                        }
                        if send < n {
                            // Out of budget: the server is gone, for every connection.
                            stop.store(true, Ordering::SeqCst);
                            for stream in all.lock().unwrap().iter() {
                                stream.shutdown(std::net::Shutdown::Both).ok();
                            }
                            break;
                        }
                    }
                    to.shutdown(std::net::Shutdown::Both).ok();
                });
            }
        });
        Self {
            port,
            stop,
            streams,
            accept: Some(accept),
        }
    }

    pub(crate) fn cut(mut self) -> u16 {
        self.stop.store(true, Ordering::SeqCst);
        std::net::TcpStream::connect(("127.0.0.1", self.port)).ok();
        self.accept.take().unwrap().join().unwrap();
        for stream in self.streams.lock().unwrap().drain(..) {
            stream.shutdown(std::net::Shutdown::Both).ok();
        }
        self.port
    }
}

#[test]
fn a_server_stopped_mid_sync_is_reported_and_a_later_run_completes() {
    let direct = server("radicale", "/");
    let target: std::net::SocketAddr = direct
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let relay = Relay::start(0, target);
    let via = Server {
        name: "radicale via relay",
        url: format!("http://127.0.0.1:{}/", relay.port),
        user: direct.user.clone(),
    };
    let name = unique("cut");
    via.ok(&["mkcalendar", &name]);
    let _cleanup = Cleanup::new(&direct, &name);
    let root = temp_dir("cut");
    via.ok(&["sync", &name, root.to_str().unwrap()]);
    let folder = root.join(&name);
    let mut expected: Vec<String> = (0..150).map(|i| format!("{name}-ev{i}")).collect();
    expected.sort();
    for uid in &expected {
        write_event(&folder, uid, "made here");
    }
    let mut args = via.account_args();
    args.extend(["sync".to_owned(), name.clone(), root.display().to_string()]);
    let child = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(&args)
        .env("CALDAV_PASSWORD", &via.user.as_ref().unwrap().1)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Uploading 150 items takes seconds: cut the server off while they go up.
    std::thread::sleep(std::time::Duration::from_millis(400));
    let port = relay.cut();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let _relay = Relay::start(port, target);
    let out = via.ok(&["sync", &name, root.to_str().unwrap()]);
    assert!(out.contains("0 conflicts, 0 errors"), "{out}");
    let check = temp_dir("cut-check");
    via.ok(&["sync", &name, check.to_str().unwrap()]);
    assert_eq!(folder_uids(&check.join(&name)), expected);
    assert_eq!(folder_uids(&folder), expected);
}

#[test]
fn trace_records_a_command_redacted() {
    let server = server("radicale", "/");
    let dir = temp_dir("trace");
    let log = dir.join("ls.log");
    let mut args = vec![
        "trace".to_owned(),
        "-o".to_owned(),
        log.display().to_string(),
    ];
    args.push("--".to_owned());
    args.extend(server.account_args());
    args.push("ls".to_owned());
    let out = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(&args)
        .env("CALDAV_PASSWORD", &server.user.as_ref().unwrap().1)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("NAME"));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("----------"), "{text}");
    assert!(text.contains("PROPFIND"), "{text}");
    assert!(text.contains("Authorization: Basic redacted"), "{text}");
    assert!(!text.contains(server.user.as_ref().unwrap().1.as_str()));
    let trace = caldav_trace_exchanges(&text);
    assert!(trace >= 2, "{trace} exchanges");
}

fn caldav_trace_exchanges(text: &str) -> usize {
    text.matches("HTTP/1.1 207").count()
}
