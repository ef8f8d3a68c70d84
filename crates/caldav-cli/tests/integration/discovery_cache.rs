//! `caldav sync` starts from the discovery it cached in the folder's state: a no-change sync
//! is one `sync-collection` REPORT per calendar, and a calendar that moved or was recreated
//! on the server is found again.

use std::path::Path;

use crate::servers::{Cleanup, Server, calendar_href, folder_items, server, temp_dir, unique};

/// The requests of a `--trace` recording, as `METHOD path`.
fn requests(trace: &Path) -> Vec<String> {
    let log = std::fs::read(trace).unwrap();
    caldav_trace::Trace::parse(&log)
        .unwrap()
        .into_exchanges()
        .into_iter()
        .map(|e| format!("{} {}", e.request.method(), e.request.uri().path()))
        .collect()
}

fn event(uid: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//cli test//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\n\
         DTEND:20260105T110000Z\r\nSUMMARY:{uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// Puts a new event into the calendar `name`; returns its UID.
fn put_event(server: &Server, name: &str) -> String {
    let uid = unique("vsync4-ev");
    let dir = temp_dir("vsync4-put");
    let file = dir.join(format!("{uid}.ics"));
    std::fs::write(&file, event(&uid)).unwrap();
    server.ok(&["put", file.to_str().unwrap(), "--calendar", name]);
    uid
}

/// One raw request with credentials; returns the status.
fn send(server: &Server, method: &str, path: &str, body: &str) -> u16 {
    let uri: http::Uri = server.url.parse().unwrap();
    let mut config = caldav_tokio::HttpConfig::default();
    config.allow_plain_http_credentials = true;
    if let Some((user, password)) = &server.user {
        config = config.with_credentials(caldav_tokio::Credentials::password(user, password));
    }
    let client = caldav_tokio::HttpClient::new(config).unwrap();
    let request = http::Request::builder()
        .method(method)
        .uri(format!(
            "{}://{}{path}",
            uri.scheme_str().unwrap(),
            uri.authority().unwrap()
        ))
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(bytes::Bytes::from(body.to_owned()))
        .unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.send(request))
        .unwrap()
        .status()
        .as_u16()
}

/// The path of `href` on `server` (hrefs may be absolute URLs).
fn path_of(href: &str) -> String {
    match href.parse::<http::Uri>() {
        Ok(uri) if uri.scheme().is_some() => uri.path().to_owned(),
        _ => href.to_owned(),
    }
}

fn uids_in(dir: &Path) -> Vec<String> {
    let mut uids: Vec<String> = folder_items(dir)
        .iter()
        .filter_map(|(_, text)| {
            text.lines()
                .find_map(|l| l.strip_prefix("UID:").map(|u| u.trim().to_owned()))
        })
        .collect();
    uids.sort();
    uids
}

fn no_change_sync_is_one_report_per_calendar(server: &Server) {
    let (a, b) = (unique("vsync4-nc-a"), unique("vsync4-nc-b"));
    server.ok(&["mkcalendar", &a]);
    let _clean_a = Cleanup::new(server, &a);
    server.ok(&["mkcalendar", &b]);
    let _clean_b = Cleanup::new(server, &b);
    put_event(server, &a);
    put_event(server, &b);
    let root = temp_dir("vsync4-nc");
    let root_s = root.to_str().unwrap();
    let out = server.ok(&["sync", &a, &b, root_s]);
    assert_eq!(out.matches("from server +1").count(), 2, "{out}");

    let trace = root
        .join("..")
        .join(format!("{}.log", unique("vsync4-trace")));
    let trace_s = trace.to_str().unwrap();
    let out = server.ok(&["--trace", trace_s, "sync", &a, &b, root_s]);
    assert_eq!(out.matches("from server +0 ~0 -0").count(), 2, "{out}");
    let mut sent = requests(&trace);
    sent.sort();
    let mut want = vec![
        format!("REPORT {}", path_of(&calendar_href(server, &a))),
        format!("REPORT {}", path_of(&calendar_href(server, &b))),
    ];
    want.sort();
    assert_eq!(sent, want, "{}: a no-change sync", server.name);

    // Asked to, it discovers again (and still syncs nothing).
    let out = server.ok(&["--trace", trace_s, "sync", "--rediscover", &a, &b, root_s]);
    assert_eq!(out.matches("from server +0 ~0 -0").count(), 2, "{out}");
    let sent = requests(&trace);
    assert!(sent.iter().any(|r| r.starts_with("PROPFIND")), "{sent:?}");
    assert_eq!(sent.iter().filter(|r| r.starts_with("REPORT")).count(), 2);
}

/// Deleted and made again at the same href: the stored token is refused, the calendar is
/// synced again from scratch and the folder follows the new calendar.
fn recreated_calendar_recovers(server: &Server) {
    let name = unique("vsync4-re");
    server.ok(&["mkcalendar", &name]);
    let _clean = Cleanup::new(server, &name);
    let old = put_event(server, &name);
    let root = temp_dir("vsync4-re");
    let root_s = root.to_str().unwrap();
    server.ok(&["sync", &name, root_s]);
    let href = calendar_href(server, &name);
    let folder = root.join(&name);
    assert_eq!(uids_in(&folder), [old]);

    assert!((200..300).contains(&send(server, "DELETE", &path_of(&href), "")));
    server.ok(&["mkcalendar", &name]);
    assert_eq!(calendar_href(server, &name), href);
    let new = put_event(server, &name);
    let out = server.ok(&["sync", &name, root_s]);
    assert!(out.contains("from server +1"), "{}: {out}", server.name);
    assert_eq!(uids_in(&folder), [new], "{}", server.name);
    // And the next sync is quiet again.
    let out = server.ok(&["sync", &name, root_s]);
    assert!(out.contains("from server +0 ~0 -0"), "{out}");
}

/// Deleted, and a calendar of the same name made at another href: the cached href answers
/// 404, discovery runs again and finds the calendar by its name.
fn moved_calendar_is_found_again(server: &Server) {
    let name = unique("vsync4-mv");
    server.ok(&["mkcalendar", &name]);
    let _clean = Cleanup::new(server, &name);
    put_event(server, &name);
    let root = temp_dir("vsync4-mv");
    let root_s = root.to_str().unwrap();
    server.ok(&["sync", &name, root_s]);
    let href = path_of(&calendar_href(server, &name));
    assert!((200..300).contains(&send(server, "DELETE", &href, "")));
    let moved = format!("{}-moved/", href.trim_end_matches('/'));
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <C:mkcalendar xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\
         <D:set><D:prop><D:displayname>{name}</D:displayname></D:prop></D:set>\
         </C:mkcalendar>"
    );
    let status = send(server, "MKCALENDAR", &moved, &body);
    assert!((200..300).contains(&status), "MKCALENDAR {moved}: {status}");
    let _clean_moved = Cleanup::new(server, &name);
    let new = put_event(server, &name);

    let trace = root
        .join("..")
        .join(format!("{}.log", unique("vsync4-trace")));
    let out = server.ok(&["--trace", trace.to_str().unwrap(), "sync", &name, root_s]);
    assert!(out.contains("from server +1"), "{}: {out}", server.name);
    let sent = requests(&trace);
    assert_eq!(sent.first(), Some(&format!("REPORT {href}")), "{sent:?}");
    assert!(sent.iter().any(|r| r.starts_with("PROPFIND")), "{sent:?}");
    assert!(sent.contains(&format!("REPORT {moved}")), "{sent:?}");
    let folder = root.join(format!(
        "{}-moved",
        href.trim_end_matches('/').rsplit('/').next().unwrap()
    ));
    assert_eq!(uids_in(&folder), [new]);
}

/// As the second user: Radicale answers 500 to a listing of a home while a calendar in it is
/// deleted, and other tests list the first user's home.
fn radicale() -> Server {
    crate::faults::as_second_user(server("radicale", "/"))
}

#[test]
fn a_no_change_sync_is_one_report_per_calendar_radicale() {
    no_change_sync_is_one_report_per_calendar(&radicale());
}

#[test]
fn a_no_change_sync_is_one_report_per_calendar_cyrus() {
    no_change_sync_is_one_report_per_calendar(&server("cyrus", "/dav/"));
}

#[test]
fn a_calendar_deleted_and_recreated_on_the_server_recovers_radicale() {
    recreated_calendar_recovers(&radicale());
}

#[test]
fn a_calendar_deleted_and_recreated_on_the_server_recovers_cyrus() {
    recreated_calendar_recovers(&server("cyrus", "/dav/"));
}

#[test]
fn a_calendar_moved_on_the_server_is_found_by_discovering_again_radicale() {
    moved_calendar_is_found_again(&radicale());
}

#[test]
fn a_calendar_moved_on_the_server_is_found_by_discovering_again_cyrus() {
    moved_calendar_is_found_again(&server("cyrus", "/dav/"));
}
