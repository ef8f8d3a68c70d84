//! The driver: discovery against Knot + Cyrus, client-core machines against real servers,
//! concurrency, recording and replay.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use caldav_client_core::sync::{SyncConfig, SyncMachine, SyncMethod, SyncState};
use caldav_tokio::{
    Core, Credentials, Drive, Driver, Error, HttpClient, HttpConfig, Origin, Recorder, Step, replay,
};
use dav_xml::Href;
use http::{Request, Response, StatusCode};
use service_discovery::{DiscoveryMachine, DiscoveryOptions, Verdict};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;

use crate::env::{cyrus_tls_config, plain_server_config, var};

fn cyrus_driver() -> Driver {
    let mut config = cyrus_tls_config();
    config.credential_origins = vec![Origin::parse("https://cal.example.test:8443/").unwrap()];
    Driver::new(HttpClient::new(config).unwrap())
}

fn discovery_options() -> DiscoveryOptions {
    let mut options = DiscoveryOptions::default();
    options.credentials_attached = true;
    options
}

#[tokio::test]
async fn discovery_by_srv_and_txt_lands_on_cyrus() {
    let driver = cyrus_driver();
    let mut machine = DiscoveryMachine::new("alice@example.test", discovery_options());
    let found = driver.run(&mut machine).await.unwrap().unwrap();
    assert_eq!(found.context, "https://cal.example.test:8443/dav/");
    assert_eq!(
        found.principal.unwrap(),
        "https://cal.example.test:8443/dav/principals/user/alice/"
    );
}

#[tokio::test]
async fn discovery_by_well_known_after_a_wrong_txt_path() {
    // txt2's TXT says path=/caldav.php/, which Cyrus does not have: the machine falls back to
    // /.well-known/caldav on the SRV target, which Cyrus redirects.
    let driver = cyrus_driver();
    let mut machine = DiscoveryMachine::new("alice@txt2.example.test", discovery_options());
    let found = driver.run(&mut machine).await.unwrap().unwrap();
    assert_eq!(
        found.principal.unwrap(),
        "https://cal.example.test:8443/dav/principals/user/alice/"
    );
    let redirected_from_well_known = found.trail.iter().any(|a| {
        matches!(a.verdict, Verdict::Redirected(_)) && a.to_string().contains("/.well-known/caldav")
    });
    assert!(
        redirected_from_well_known,
        "{}",
        found
            .trail
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A machine that asks `n` GETs at once and finishes when all are answered.
struct Fan {
    url: String,
    n: u64,
    asked: u64,
    answered: u64,
    failures: u64,
}

impl Drive for Fan {
    type Id = u64;
    type Outcome = (u64, u64);

    fn step(&mut self) -> Step<u64, (u64, u64)> {
        if self.asked < self.n {
            self.asked += 1;
            let request = Request::get(&self.url).body(Bytes::new()).unwrap();
            return Step::Http {
                id: self.asked,
                request,
            };
        }
        if self.answered == self.n {
            Step::Done((self.answered, self.failures))
        } else {
            Step::Wait
        }
    }

    fn answer(&mut self, _id: u64, _response: Response<Bytes>) -> Result<(), String> {
        self.answered += 1;
        Ok(())
    }

    fn fail(&mut self, _id: u64, _error: &Error) -> Result<(), String> {
        self.answered += 1;
        self.failures += 1;
        Ok(())
    }
}

#[tokio::test]
async fn requests_run_concurrently_up_to_the_limit() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let active = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (a, p) = (active.clone(), peak.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (a, p) = (a.clone(), p.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while crate::loopback::read_request_pub(&mut sock, &mut buf).await {
                    let now = a.fetch_add(1, Ordering::SeqCst) + 1;
                    p.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    a.fetch_sub(1, Ordering::SeqCst);
                    let out = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                    if sock.write_all(out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let driver = Driver::new(HttpClient::new(HttpConfig::default()).unwrap()).with_max_in_flight(3);
    let mut fan = Fan {
        url: format!("http://{addr}/"),
        n: 9,
        asked: 0,
        answered: 0,
        failures: 0,
    };
    assert_eq!(driver.run(&mut fan).await.unwrap(), (9, 0));
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn transport_failures_are_fed_to_the_machine() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let driver = Driver::new(HttpClient::new(HttpConfig::default()).unwrap());
    let mut fan = Fan {
        url: format!("http://{addr}/"),
        n: 2,
        asked: 0,
        answered: 0,
        failures: 0,
    };
    assert_eq!(driver.run(&mut fan).await.unwrap(), (2, 2));
}

#[tokio::test]
async fn a_machine_waiting_on_nothing_is_an_error() {
    struct Stuck;
    impl Drive for Stuck {
        type Id = u8;
        type Outcome = ();
        fn step(&mut self) -> Step<u8, ()> {
            Step::Wait
        }
        fn answer(&mut self, _: u8, _: Response<Bytes>) -> Result<(), String> {
            Ok(())
        }
        fn fail(&mut self, _: u8, _: &Error) -> Result<(), String> {
            Ok(())
        }
    }
    let driver = Driver::new(HttpClient::new(HttpConfig::default()).unwrap());
    assert!(matches!(
        driver.run(&mut Stuck).await,
        Err(Error::Machine { .. })
    ));
}

// --- client-core machines on real servers, recorded and replayed.

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos:x}")
}

fn event(uid: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//tokio test//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\n\
         DTEND:20260105T110000Z\r\nSUMMARY:{uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// Makes a calendar with `n` events at `home` + a fresh name; returns its path.
async fn seeded_calendar(client: &HttpClient, base: &str, home: &str, n: usize) -> String {
    let path = format!("{home}{}/", unique("drv"));
    let url = format!("{}{}", base.trim_end_matches('/'), path);
    let mk = Request::builder()
        .method("MKCALENDAR")
        .uri(&url)
        .body(Bytes::new())
        .unwrap();
    let r = client.send(mk).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "MKCALENDAR {url}");
    for i in 0..n {
        let uid = unique(&format!("ev{i}"));
        let put = Request::put(format!("{url}{uid}.ics"))
            .header("Content-Type", "text/calendar; charset=utf-8")
            .header("If-None-Match", "*")
            .body(Bytes::from(event(&uid)))
            .unwrap();
        let r = client.send(put).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "PUT {url}{uid}.ics");
    }
    path
}

/// Deletes the calendar `seeded_calendar` made (the servers are shared: nothing stays behind).
async fn remove_calendar(client: &HttpClient, base: &str, path: &str) {
    let url = format!("{}{}", base.trim_end_matches('/'), path);
    let delete = Request::delete(&url).body(Bytes::new()).unwrap();
    let r = client.send(delete).await.unwrap();
    assert!(r.status().is_success(), "DELETE {url}: {}", r.status());
}

async fn sync_recorded_and_replayed(server: &str, home: &str) {
    let upper = server.to_ascii_uppercase();
    let base = var(&format!("CALDAV_TEST_{upper}_URL"));
    let recorder = Recorder::new(&format!("alice {server} caldav-tokio test")).unwrap();
    let mut config = HttpConfig::default().with_credentials(Credentials::password(
        var(&format!("CALDAV_TEST_{upper}_USER")),
        var(&format!("CALDAV_TEST_{upper}_PASSWORD")),
    ));
    config.allow_plain_http_credentials = true;
    let setup = HttpClient::new(config.clone()).unwrap();
    let path = seeded_calendar(&setup, &base, home, 3).await;

    config.recorder = Some(recorder.clone());
    let driver = Driver::new(HttpClient::new(config).unwrap());
    let sync_config = || SyncConfig::new(base.parse().unwrap(), vec![Href::new(path.clone())]);
    let mut live = Core(SyncMachine::new(sync_config(), SyncState::default()));
    let outcome = driver.run(&mut live).await.unwrap().unwrap();
    let changes = outcome.calendars[0].result.as_ref().unwrap();
    assert_eq!(changes.added.len(), 3, "{server}: {changes:?}");
    assert_eq!(changes.method, SyncMethod::SyncCollection);
    assert!(
        changes
            .added
            .iter()
            .all(|i| i.data.contains("BEGIN:VEVENT"))
    );

    recorder.check().unwrap();
    let log = recorder.log();
    let text = String::from_utf8_lossy(&log);
    assert!(text.starts_with("---------- alice"), "{text}");
    assert!(text.contains("Authorization: Basic redacted"), "{text}");
    assert!(
        !text.contains(&base64_of_password(server)),
        "password leaked"
    );

    let trace = caldav_trace::Trace::parse(&log).unwrap();
    let exchanges = trace.into_exchanges();
    assert_eq!(exchanges.len(), recorder.exchanges());
    let mut again = Core(SyncMachine::new(sync_config(), SyncState::default()));
    let replayed = replay(&mut again, exchanges).unwrap().unwrap();
    assert_eq!(
        replayed, outcome,
        "{server}: replay differs from the live run"
    );
    assert_eq!(again.0.state(), live.0.state());
    remove_calendar(&setup, &base, &path).await;
}

fn base64_of_password(server: &str) -> String {
    use base64::Engine as _;
    let upper = server.to_ascii_uppercase();
    base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        var(&format!("CALDAV_TEST_{upper}_USER")),
        var(&format!("CALDAV_TEST_{upper}_PASSWORD"))
    ))
}

#[tokio::test]
async fn sync_on_radicale_recorded_and_replayed() {
    sync_recorded_and_replayed("radicale", "/alice/").await;
}

#[tokio::test]
async fn sync_on_cyrus_recorded_and_replayed() {
    sync_recorded_and_replayed("cyrus", "/dav/calendars/user/alice/").await;
}

// --- bootstrap -> listing -> sync through one driver, on every server.

async fn bootstrap_list_sync(server: &str, context: &str) {
    use caldav_client_core::bootstrap::{BootstrapConfig, BootstrapMachine};
    use caldav_client_core::listing::{ListingConfig, ListingMachine};

    let upper = server.to_ascii_uppercase();
    let (base, config) = plain_server_config(server);
    let client = HttpClient::new(config).unwrap();
    let driver = Driver::new(client.clone()).with_max_in_flight(4);
    let base_uri: http::Uri = base.parse().unwrap();
    let context_url: http::Uri = format!("{}{context}", base.trim_end_matches('/'))
        .parse()
        .unwrap();

    let mut bootstrap = Core(BootstrapMachine::new(BootstrapConfig::new(context_url)));
    let account = driver.run(&mut bootstrap).await.unwrap().unwrap();
    let principal = var(&format!("CALDAV_TEST_{upper}_PRINCIPAL"));
    assert!(
        account.principal.as_str().ends_with(&principal),
        "{server}: principal {:?}",
        account.principal
    );
    let home = account
        .calendar_home_set
        .first()
        .expect("a calendar home")
        .clone();

    // A calendar of our own with two events, so the listing and the sync have something.
    let home_path = home.as_str().to_owned();
    let home_path = match home_path.find("://") {
        Some(_) => home_path.parse::<http::Uri>().unwrap().path().to_owned(),
        None => home_path,
    };
    let calendar = seeded_calendar(&client, &base, &home_path, 2).await;

    let mut listing = Core(ListingMachine::new(ListingConfig::for_account(
        base_uri.clone(),
        &account,
    )));
    let listed = driver.run(&mut listing).await.unwrap().unwrap();
    let found = listed
        .calendars()
        .find(|c| {
            c.href
                .as_str()
                .trim_end_matches('/')
                .ends_with(calendar.trim_end_matches('/'))
        })
        .unwrap_or_else(|| panic!("{server}: {calendar} not listed in {listed:?}"));

    let mut sync = Core(SyncMachine::new(
        SyncConfig::new(base_uri, vec![found.href.clone()]),
        SyncState::default(),
    ));
    let outcome = driver.run(&mut sync).await.unwrap().unwrap();
    let changes = outcome.calendars[0].result.as_ref().unwrap();
    assert_eq!(changes.added.len(), 2, "{server}: {changes:?}");
    remove_calendar(&client, &base, &calendar).await;
}

#[tokio::test]
async fn chain_on_radicale() {
    bootstrap_list_sync("radicale", "/").await;
}

#[tokio::test]
async fn chain_on_xandikos() {
    bootstrap_list_sync("xandikos", "/").await;
}

#[tokio::test]
async fn chain_on_cyrus() {
    bootstrap_list_sync("cyrus", "/dav/").await;
}

#[tokio::test]
async fn chain_on_sabredav() {
    bootstrap_list_sync("sabredav", "/").await;
}

// --- a first sync in one answer (client-core's `InitialFetch::Inline`) and its fallbacks.

/// A first sync of a 3-event calendar on `server`, recorded: `expected` are the requests it
/// takes there (method and whether the body asks for calendar data), then a change and an
/// incremental sync from the token the first one stored.
async fn first_sync_in_one_answer(server: &str, home: &str, expected: &[(&str, bool)]) {
    first_sync_limited(server, home, None, expected).await;
}

/// [`first_sync_in_one_answer`] with the one answer's size limit set to `max_inline`.
async fn first_sync_limited(
    server: &str,
    home: &str,
    max_inline: Option<u64>,
    expected: &[(&str, bool)],
) {
    let (base, mut config) = plain_server_config(server);
    let setup = HttpClient::new(config.clone()).unwrap();
    let path = seeded_calendar(&setup, &base, home, 3).await;
    let recorder = Recorder::new(&format!("alice {server} inline")).unwrap();
    config.recorder = Some(recorder.clone());
    let driver = Driver::new(HttpClient::new(config).unwrap());
    let sync_config = || {
        let mut config = SyncConfig::new(base.parse().unwrap(), vec![Href::new(path.clone())]);
        if let Some(limit) = max_inline {
            config.max_inline_bytes = limit;
        }
        config
    };
    let mut first = Core(SyncMachine::new(sync_config(), SyncState::default()));
    let outcome = driver.run(&mut first).await.unwrap().unwrap();
    let changes = outcome.calendars[0].result.as_ref().unwrap();
    assert_eq!(changes.added.len(), 3, "{server}: {changes:?}");
    assert!(changes.missing.is_empty(), "{server}: {changes:?}");
    assert!(
        changes
            .added
            .iter()
            .all(|i| i.data.contains("BEGIN:VEVENT") && !i.etag.is_empty()),
        "{server}"
    );
    let exchanges = caldav_trace::Trace::parse(recorder.log())
        .unwrap()
        .into_exchanges();
    let made: Vec<(String, bool)> = exchanges
        .iter()
        .map(|e| {
            let body = String::from_utf8_lossy(e.request.body());
            (
                e.request.method().to_string(),
                body.contains("calendar-data"),
            )
        })
        .collect();
    let expected: Vec<(String, bool)> = expected
        .iter()
        .map(|(m, d)| ((*m).to_owned(), *d))
        .collect();
    assert_eq!(made, expected, "{server}");

    let state = first.0.into_state();
    let uid = unique("late");
    let put = Request::put(format!("{}{path}{uid}.ics", base.trim_end_matches('/')))
        .header("Content-Type", "text/calendar; charset=utf-8")
        .body(Bytes::from(event(&uid)))
        .unwrap();
    assert!(setup.send(put).await.unwrap().status().is_success());
    let mut next = Core(SyncMachine::new(sync_config(), state));
    let outcome = driver.run(&mut next).await.unwrap().unwrap();
    let changes = outcome.calendars[0].result.as_ref().unwrap();
    assert_eq!(changes.added.len(), 1, "{server}: {changes:?}");
    assert!(changes.changed.is_empty() && changes.deleted.is_empty());
    remove_calendar(&setup, &base, &path).await;
}

#[tokio::test]
async fn first_sync_in_one_answer_on_radicale() {
    first_sync_in_one_answer("radicale", "/alice/", &[("REPORT", true)]).await;
}

#[tokio::test]
async fn first_sync_in_one_answer_on_cyrus() {
    first_sync_in_one_answer("cyrus", "/dav/calendars/user/alice/", &[("REPORT", true)]).await;
}

#[tokio::test]
async fn first_sync_over_the_size_limit_stops_reading_and_lists_on_radicale() {
    // The driver stops the one answer at 1,000 bytes (it is never recorded: it failed), then
    // the listing and a multiget fetch the three events.
    first_sync_limited(
        "radicale",
        "/alice/",
        Some(1000),
        &[("REPORT", false), ("REPORT", true)],
    )
    .await;
}

#[tokio::test]
async fn first_sync_on_xandikos_fetches_the_data_it_left_out() {
    // Xandikos answers the sync-collection, calendar-data in a 404 propstat: a multiget follows.
    first_sync_in_one_answer(
        "xandikos",
        "/user/calendars/",
        &[("REPORT", true), ("REPORT", true)],
    )
    .await;
}

#[tokio::test]
async fn first_sync_on_sabredav_falls_back_to_the_etag_ladder() {
    // SabreDAV 1.8 has no sync-collection: 403, then a getetag PROPFIND and a multiget.
    first_sync_in_one_answer(
        "sabredav",
        "/calendars/alice/",
        &[("REPORT", true), ("PROPFIND", false), ("REPORT", true)],
    )
    .await;
}
