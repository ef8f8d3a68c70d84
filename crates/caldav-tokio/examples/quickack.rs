//! Measures what `TCP_QUICKACK` does on a reused connection to Cyrus (SERVERS.md: Nagle on the
//! server against delayed ACK on the client stalls each response about 40 ms).
//!
//! ```sh
//! cargo xtask servers start cyrus
//! cargo run -p caldav-tokio --example quickack [URL] [USER] [PASSWORD] [REQUESTS]
//! ```

use std::time::{Duration, Instant};

use bytes::Bytes;
use caldav_tokio::{Credentials, HttpClient, HttpConfig};

const BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">
<d:prop><d:displayname/><d:resourcetype/><cs:getctag/><d:sync-token/><d:getetag/>
<c:supported-calendar-component-set/><d:current-user-privilege-set/></d:prop></d:propfind>"#;

async fn run(url: &str, user: &str, password: &str, n: u32, quickack: bool) -> (Duration, usize) {
    let mut config = HttpConfig::default().with_credentials(Credentials::password(user, password));
    config.allow_plain_http_credentials = true;
    config.tcp_quickack = quickack;
    let client = HttpClient::new(config).expect("client");
    let request = || {
        http::Request::builder()
            .method("PROPFIND")
            .uri(url)
            .header("Depth", "1")
            .header("Content-Type", "application/xml")
            .body(Bytes::from_static(BODY.as_bytes()))
            .expect("request")
    };
    // The first request opens the connection; the rest reuse it.
    let first = client.send(request()).await.expect("first request");
    let bytes = first.body().len();
    let start = Instant::now();
    for _ in 0..n {
        let r = client.send(request()).await.expect("request");
        assert!(r.status().is_success(), "{}", r.status());
    }
    (start.elapsed() / n, bytes)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: &str| args.get(i).cloned().unwrap_or_else(|| d.to_owned());
    let url = arg(1, "http://127.0.0.1:8008/dav/calendars/user/alice/");
    let user = arg(2, "alice");
    let password = arg(3, "alicepw");
    let n: u32 = arg(4, "40").parse().expect("a request count");
    for quickack in [false, true, false, true] {
        let (per, bytes) = run(&url, &user, &password, n, quickack).await;
        println!(
            "quickack={quickack:<5} {n} requests on one connection, {bytes} bytes each: {per:?} per request"
        );
    }
}
