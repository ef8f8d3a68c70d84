//! parse(write(x)) == x, by property.

use bytes::Bytes;
use caldav_trace::{Exchange, Interim, LineEnding, Trace, WriteConfig, Writer};
use proptest::prelude::*;

/// Header values as `httparse` returns them: no leading or trailing whitespace, and no `<` or
/// `>` (which could form a marker with digits).
fn value() -> impl Strategy<Value = String> {
    "[!-;=?-~]([ -;=?-~]{0,18}[!-;=?-~])?"
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(
        (
            prop_oneof![
                Just("dav".to_owned()),
                Just("etag".to_owned()),
                "x-[a-z0-9]{1,8}",
                Just("depth".to_owned())
            ],
            value(),
        ),
        0..5,
    )
}

/// Bodies of any bytes except those that could form a marker or session header.
fn body() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>().prop_map(|b| {
            if matches!(b, b'<' | b'>' | b'-') {
                b'x'
            } else {
                b
            }
        }),
        0..300,
    )
}

fn chunk_offsets(len: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0..len.max(1), 0..4).prop_map(move |mut v| {
        v.retain(|&o| o < len);
        v.sort_unstable();
        v.dedup();
        v
    })
}

fn with_framing(
    mut builder: http::HeaderMap,
    body: &[u8],
    chunked: bool,
    bodiless: bool,
) -> http::HeaderMap {
    if bodiless {
        return builder;
    }
    if chunked {
        builder.append(
            "transfer-encoding",
            http::HeaderValue::from_static("chunked"),
        );
    } else {
        builder.append("content-length", body.len().into());
    }
    builder
}

fn header_map(fields: &[(String, String)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in fields {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    map
}

prop_compose! {
    fn request()(
        method in prop_oneof![Just("GET"), Just("PUT"), Just("PROPFIND"), Just("REPORT"), Just("DELETE"), Just("MKCALENDAR")],
        path in "/[a-z0-9/._~%-]{0,24}",
        http10 in any::<bool>(),
        fields in headers(),
        body in body(),
        chunked in any::<bool>(),
        time in any::<u64>(),
    )(chunks in chunk_offsets(body.len()), method in Just(method), path in Just(path), http10 in Just(http10),
      fields in Just(fields), body in Just(body), chunked in Just(chunked), time in Just(time)) -> Exchange {
        let mut request = http::Request::new(Bytes::from(body.clone()));
        *request.method_mut() = method.parse().unwrap();
        *request.uri_mut() = path.parse().unwrap();
        *request.version_mut() = if http10 { http::Version::HTTP_10 } else { http::Version::HTTP_11 };
        *request.headers_mut() = with_framing(header_map(&fields), &body, chunked, false);
        let mut exchange = Exchange::new(request, time);
        exchange.request_chunks = chunks;
        exchange
    }
}

prop_compose! {
    fn response()(
        status in prop_oneof![Just(200u16), Just(201), Just(204), Just(207), Just(404), Just(412), Just(500), Just(599)],
        fields in headers(),
        body in body(),
        chunked in any::<bool>(),
        time in any::<u64>(),
        interim in proptest::collection::vec((prop_oneof![Just(102u16), Just(103)], any::<u64>()), 0..3),
    )(chunks in chunk_offsets(if status == 204 { 0 } else { body.len() }), status in Just(status), fields in Just(fields),
      body in Just(body), chunked in Just(chunked), time in Just(time), interim in Just(interim))
        -> (http::Response<Bytes>, u64, Vec<usize>, Vec<Interim>) {
        let bodiless = status == 204;
        let body = if bodiless { Vec::new() } else { body };
        let mut response = http::Response::new(Bytes::from(body.clone()));
        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
        *response.headers_mut() = with_framing(header_map(&fields), &body, chunked, bodiless);
        let interim = interim
            .into_iter()
            .map(|(code, t)| {
                let mut r = http::Response::new(());
                *r.status_mut() = http::StatusCode::from_u16(code).unwrap();
                Interim::new(r, t)
            })
            .collect();
        (response, time, chunks, interim)
    }
}

prop_compose! {
    fn exchange(answered: bool)(mut exchange in request(), response in response()) -> Exchange {
        let (response, time, chunks, interim) = response;
        if answered {
            exchange = exchange.with_response(response, time);
            exchange.response_chunks = chunks;
        }
        exchange.interim = interim;
        exchange
    }
}

/// Only a session's last exchange may go unanswered: HTTP/1.1 answers in order.
fn session() -> impl Strategy<Value = (String, Vec<Exchange>)> {
    (
        "[a-z]{1,8} [A-Za-z0-9 :]{0,24}",
        proptest::collection::vec(exchange(true), 0..4),
        proptest::option::of(exchange(false)),
    )
        .prop_map(|(header, mut exchanges, last)| {
            exchanges.extend(last);
            (header, exchanges)
        })
}

fn write(sessions: &[(String, Vec<Exchange>)], config: WriteConfig) -> Vec<u8> {
    let mut writer = Writer::new(config);
    for (header, exchanges) in sessions {
        writer.session(header).unwrap();
        for exchange in exchanges {
            if let Err(e) = writer.exchange(exchange) {
                panic!(
                    "{e:?} after {:?} writing {exchange:#?}",
                    String::from_utf8_lossy(writer.as_bytes())
                );
            }
        }
    }
    writer.finish()
}

proptest! {
    #[test]
    fn parse_of_write_is_identity(
        sessions in proptest::collection::vec(session(), 1..3),
        crlf in any::<bool>(),
        redact in any::<bool>(),
    ) {
        let mut config = WriteConfig::default();
        config.line_ending = if crlf { LineEnding::CrLf } else { LineEnding::Lf };
        config.redact = redact;
        let written = write(&sessions, config);
        let trace = Trace::parse(&written).unwrap();
        prop_assert_eq!(trace.sessions.len(), sessions.len());
        for ((header, exchanges), parsed) in sessions.iter().zip(&trace.sessions) {
            prop_assert_eq!(&parsed.header, header);
            prop_assert_eq!(parsed.exchanges.len(), exchanges.len());
            for (original, read) in exchanges.iter().zip(&parsed.exchanges) {
                prop_assert!(read.same_content(original), "{:#?}\n!=\n{:#?}", read, original);
                prop_assert!(read.notes.is_empty());
            }
            prop_assert!(parsed.client_rest.is_empty());
            prop_assert!(parsed.server_rest.is_empty());
        }
        // Writing what was read gives the same bytes, and reading them the same trace.
        let rewritten = Writer::write_trace(&trace, config).unwrap();
        prop_assert_eq!(&rewritten, &written);
        prop_assert_eq!(Trace::parse(&rewritten).unwrap(), trace);
    }

    #[test]
    fn parse_never_panics(input in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut log = b"---------- u t\n\n<1<".to_vec();
        log.extend_from_slice(&input);
        let _ = Trace::parse(&log);
        let _ = Trace::parse(&input);
    }
}
