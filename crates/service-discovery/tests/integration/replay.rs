//! Replays discovery conversations recorded with the four local test servers
//! (`tests/fixtures/servers/README.md`): the machine must ask exactly what it asked then and
//! reach the same context and principal.

use bytes::Bytes;
use service_discovery::{
    DiscoveryMachine, DiscoveryOptions, DnsAnswer, Error, Output, RecordKind, SrvRecord, TxtRecord,
};

type Pair = (&'static [u8], &'static [u8]);

macro_rules! pairs {
    ($server:literal: $($n:literal),*) => {
        &[$((
            include_bytes!(concat!("../fixtures/servers/", $server, "/", $n, ".request")),
            include_bytes!(concat!("../fixtures/servers/", $server, "/", $n, ".response")),
        )),*]
    };
}

struct Recorded {
    method: String,
    target: String,
    host: String,
    authorized: bool,
}

fn request(raw: &[u8]) -> Recorded {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Request::new(&mut headers);
    parsed.parse(raw).unwrap();
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).into_owned())
    };
    Recorded {
        method: parsed.method.unwrap().to_owned(),
        target: parsed.path.unwrap().to_owned(),
        host: header("host").unwrap(),
        authorized: header("authorization").is_some(),
    }
}

fn response(raw: &[u8]) -> http::Response<Bytes> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head) = parsed.parse(raw).unwrap() else {
        panic!("partial response");
    };
    let mut builder = http::Response::builder().status(parsed.code.unwrap());
    for h in parsed.headers.iter() {
        builder = builder.header(h.name, h.value);
    }
    builder.body(Bytes::copy_from_slice(&raw[head..])).unwrap()
}

fn replay(input: &str, pairs: &[Pair]) -> service_discovery::Discovered {
    replay_with_dns(input, &[], pairs)
}

fn replay_with_dns(
    input: &str,
    zone: &[(&str, RecordKind, DnsAnswer)],
    pairs: &[Pair],
) -> service_discovery::Discovered {
    let mut options = DiscoveryOptions::default();
    options.allow_plain_http = true;
    let mut machine = DiscoveryMachine::new(input, options);
    let mut recorded = pairs.iter();
    let mut authorized = false;
    loop {
        match machine.poll() {
            Output::Http { id, request: sent } => {
                let (raw_request, raw_response) =
                    recorded.next().expect("more requests than recorded");
                let then = request(raw_request);
                assert_eq!(sent.method().as_str(), then.method);
                assert_eq!(sent.uri().path_and_query().unwrap().as_str(), then.target);
                assert_eq!(sent.uri().authority().unwrap().as_str(), then.host);
                assert_eq!(
                    authorized, then.authorized,
                    "credentials attached as recorded"
                );
                machine.handle_response(id, response(raw_response)).unwrap();
            }
            Output::Dns { id, query } => {
                let answer = zone
                    .iter()
                    .find(|(name, kind, _)| *name == query.name && *kind == query.kind)
                    .map_or(DnsAnswer::NxDomain, |(_, _, answer)| answer.clone());
                machine.handle_dns(id, answer).unwrap();
            }
            Output::Done(Err(Error::Unauthorized { .. })) if !authorized => {
                authorized = true;
                machine.resume_with_credentials().unwrap();
            }
            Output::Done(result) => {
                assert!(recorded.next().is_none(), "fewer requests than recorded");
                return result.unwrap();
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn radicale() {
    let found = replay(
        "http://127.0.0.1:5232/.well-known/caldav",
        pairs!("radicale": "00", "01", "02"),
    );
    assert_eq!(found.context, "http://127.0.0.1:5232/");
    assert_eq!(found.principal.unwrap(), "http://127.0.0.1:5232/alice/");
    assert!(found.authenticated);
}

#[test]
fn xandikos() {
    let found = replay(
        "http://127.0.0.1:8090/.well-known/caldav",
        pairs!("xandikos": "00", "01"),
    );
    assert_eq!(found.context, "http://127.0.0.1:8090/");
    assert_eq!(found.principal.unwrap(), "http://127.0.0.1:8090/user/");
    assert!(!found.authenticated);
}

#[test]
fn cyrus_anonymous_root_then_401() {
    let found = replay(
        "http://127.0.0.1:8008/",
        pairs!("cyrus": "00", "01", "02", "03"),
    );
    assert_eq!(found.context, "http://127.0.0.1:8008/dav/calendars");
    assert_eq!(
        found.principal.unwrap(),
        "http://127.0.0.1:8008/dav/principals/user/alice/"
    );
    assert_eq!(found.hops.len(), 1);
    assert!(!found.hops[0].cross_origin);
}

#[test]
fn sabredav() {
    let found = replay(
        "http://127.0.0.1:8081/.well-known/caldav",
        pairs!("sabredav": "00", "01", "02"),
    );
    assert_eq!(found.context, "http://127.0.0.1:8081/");
    assert_eq!(
        found.principal.unwrap(),
        "http://127.0.0.1:8081/principals/alice/"
    );
}

#[test]
fn cyrus_over_tls_through_srv_and_txt() {
    // What Knot answered for the test zone (docs/servers.md), and Cyrus on 8443.
    let zone = [
        (
            "_caldavs._tcp.example.test",
            RecordKind::Srv,
            DnsAnswer::Srv(vec![SrvRecord::new(0, 1, 8443, "cal.example.test.")]),
        ),
        (
            "_caldavs._tcp.example.test",
            RecordKind::Txt,
            DnsAnswer::Txt(vec![TxtRecord::new([&b"path=/dav/"[..]])]),
        ),
    ];
    let found = replay_with_dns(
        "alice@example.test",
        &zone,
        pairs!("cyrus-srv": "00", "01", "02", "03"),
    );
    assert_eq!(found.context, "https://cal.example.test:8443/dav/calendars");
    assert_eq!(
        found.principal.unwrap(),
        "https://cal.example.test:8443/dav/principals/user/alice/"
    );
    let lines: Vec<String> = found.trail.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines[..3],
        [
            "SRV _caldavs._tcp.example.test: accepted: targets cal.example.test:8443",
            "TXT _caldavs._tcp.example.test: accepted: context path /dav/",
            "PROPFIND https://cal.example.test:8443/dav/: rejected: answered without a principal \
             (anonymous?); kept as a last resort",
        ]
    );
}
