//! A full fetch of a large calendar: the driver running client-core's sync machine, against a
//! floor (one Depth:1 etag PROPFIND, then calendar-multiget of every href in batches of 100,
//! one request at a time). Prints time, requests and bytes of each.
//!
//! ```sh
//! cargo xtask servers start radicale cyrus
//! cargo run --release -p caldav-tokio --example fullfetch -- radicale 2000
//! cargo run --release -p caldav-tokio --example fullfetch -- cyrus 2000
//! ```
//!
//! The first run creates `bench-N/` with N events in the test user's calendar home.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use caldav_client_core::sync::{SyncConfig, SyncMachine, SyncState};
use caldav_tokio::{
    Core, Credentials, Drive, Driver, Error, HttpClient, HttpConfig, Received, Step,
};
use dav_xml::Href;
use http::{Request, Response};

fn env() -> HashMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.state/servers/env");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run `cargo xtask servers start` first"));
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Counts what a machine's answers cost on the wire.
struct Counting<M> {
    inner: M,
    requests: usize,
    exchanges: u32,
    wire_bytes: usize,
    decoded_bytes: usize,
}

impl<M: Drive> Drive for Counting<M> {
    type Id = M::Id;
    type Outcome = M::Outcome;

    fn step(&mut self) -> Step<M::Id, M::Outcome> {
        let step = self.inner.step();
        if matches!(step, Step::Http { .. }) {
            self.requests += 1;
        }
        step
    }

    fn answer(&mut self, id: M::Id, response: Response<Bytes>) -> Result<(), String> {
        if let Some(r) = response.extensions().get::<Received>() {
            self.wire_bytes += r.wire_bytes;
            self.exchanges += r.exchanges;
        }
        self.decoded_bytes += response.body().len();
        self.inner.answer(id, response)
    }

    fn fail(&mut self, id: M::Id, error: &Error) -> Result<(), String> {
        self.inner.fail(id, error)
    }
}

fn event(uid: &str, i: usize) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//fullfetch//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:202601{:02}T{:02}0000Z\r\n\
         DTEND:202601{:02}T{:02}3000Z\r\nSUMMARY:Event {i}\r\nDESCRIPTION:benchmark event {i} \
         with a little text so the body is not trivially small\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        1 + i % 28,
        i % 24,
        1 + i % 28,
        i % 24,
    )
}

fn hrefs_in(body: &str) -> Vec<String> {
    // Good enough for the floor: every <...href>X</...href> of a Depth:1 PROPFIND.
    body.split("href>")
        .skip(1)
        .filter_map(|piece| piece.split('<').next())
        .filter(|h| h.ends_with(".ics"))
        .map(str::to_owned)
        .collect()
}

async fn ensure_calendar(client: &HttpClient, base: &str, path: &str, n: usize) {
    let url = format!("{}{}", base.trim_end_matches('/'), path);
    let listing = client.send(propfind(&url)).await.expect("propfind");
    let have = hrefs_in(&String::from_utf8_lossy(listing.body())).len();
    if have >= n {
        return;
    }
    let mk = Request::builder()
        .method("MKCALENDAR")
        .uri(&url)
        .body(Bytes::new())
        .expect("req");
    let _ = client.send(mk).await.expect("mkcalendar");
    let mut set = tokio::task::JoinSet::new();
    for i in have..n {
        let client = client.clone();
        let url = format!("{url}e{i}.ics");
        set.spawn(async move {
            let put = Request::put(&url)
                .header("Content-Type", "text/calendar; charset=utf-8")
                .body(Bytes::from(event(&format!("fullfetch-{i}"), i)))
                .expect("req");
            let r = client.send(put).await.expect("put");
            assert!(r.status().is_success(), "PUT {url}: {}", r.status());
        });
        while set.len() >= 8 {
            let _ = set.join_next().await;
        }
    }
    while set.join_next().await.is_some() {}
    println!("created {} events in {path}", n - have);
}

fn propfind(url: &str) -> Request<Bytes> {
    Request::builder()
        .method("PROPFIND")
        .uri(url)
        .header("Depth", "1")
        .header("Content-Type", "application/xml")
        .body(Bytes::from_static(
            br#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>"#,
        ))
        .expect("req")
}

async fn floor(client: &HttpClient, url: &str) -> (Duration, usize, usize, usize) {
    let start = Instant::now();
    let mut wire = 0;
    let listing = client.send(propfind(url)).await.expect("propfind");
    wire += listing
        .extensions()
        .get::<Received>()
        .map_or(0, |r| r.wire_bytes);
    let hrefs = hrefs_in(&String::from_utf8_lossy(listing.body()));
    let mut requests = 1;
    let mut items = 0;
    for batch in hrefs.chunks(100) {
        let mut body = String::from(
            r#"<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>"#,
        );
        for h in batch {
            body.push_str(&format!("<d:href>{h}</d:href>"));
        }
        body.push_str("</c:calendar-multiget>");
        let report = Request::builder()
            .method("REPORT")
            .uri(url)
            .header("Depth", "1")
            .header("Content-Type", "application/xml")
            .body(Bytes::from(body))
            .expect("req");
        let r = client.send(report).await.expect("multiget");
        requests += 1;
        wire += r.extensions().get::<Received>().map_or(0, |r| r.wire_bytes);
        items += String::from_utf8_lossy(r.body())
            .matches("BEGIN:VCALENDAR")
            .count();
    }
    (start.elapsed(), requests, wire, items)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let server = args.get(1).map_or("radicale", String::as_str).to_owned();
    let n: usize = args
        .get(2)
        .map_or(Ok(2000), |s| s.parse())
        .expect("a count");
    let env = env();
    let upper = server.to_ascii_uppercase();
    let get = |k: &str| {
        env.get(&format!("CALDAV_TEST_{upper}_{k}"))
            .cloned()
            .expect(k)
    };
    let base = get("URL");
    let home = match server.as_str() {
        "cyrus" => "/dav/calendars/user/alice/".to_owned(),
        "sabredav" => "/calendars/alice/".to_owned(),
        "xandikos" => "/user/calendars/".to_owned(),
        _ => "/alice/".to_owned(),
    };
    let path = format!("{home}bench-{n}/");
    let mut config = HttpConfig::default();
    config.allow_plain_http_credentials = true;
    if get("AUTH") != "none" {
        config = config.with_credentials(Credentials::password(get("USER"), get("PASSWORD")));
    }
    let client = HttpClient::new(config.clone()).expect("client");
    ensure_calendar(&client, &base, &path, n).await;
    let url = format!("{}{}", base.trim_end_matches('/'), path);

    for round in 0..2 {
        // Fresh clients each round: no warm pool carried over between the two contenders.
        let floor_client = HttpClient::new(config.clone()).expect("client");
        let (ft, freq, fwire, fitems) = floor(&floor_client, &url).await;

        let driver = Driver::new(HttpClient::new(config.clone()).expect("client"));
        let mut machine = Counting {
            inner: Core(SyncMachine::new(
                SyncConfig::new(base.parse().expect("url"), vec![Href::new(path.clone())]),
                SyncState::default(),
            )),
            requests: 0,
            exchanges: 0,
            wire_bytes: 0,
            decoded_bytes: 0,
        };
        let start = Instant::now();
        let outcome = driver.run(&mut machine).await.expect("run").expect("sync");
        let dt = start.elapsed();
        let added = outcome
            .calendars
            .first()
            .and_then(|c| c.result.as_ref().ok())
            .map_or(0, |c| c.added.len());
        println!(
            "{server} round {round}: driver+sync {dt:?}, {} requests ({} exchanges), {} wire bytes ({} decoded), {added} items | floor {ft:?}, {freq} requests, {fwire} wire bytes, {fitems} items | ratio {:.2}",
            machine.requests,
            machine.exchanges,
            machine.wire_bytes,
            machine.decoded_bytes,
            dt.as_secs_f64() / ft.as_secs_f64()
        );
    }
}
