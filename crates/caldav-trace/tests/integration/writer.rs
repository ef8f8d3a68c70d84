//! Writing exchanges back: redaction, framing, refusal of ambiguous data, the seed rewritten.

use bytes::Bytes;
use caldav_trace::{Error, Exchange, Interim, LineEnding, Trace, WriteConfig, Writer, seed};

fn lf_unredacted() -> WriteConfig {
    let mut config = WriteConfig::default();
    config.line_ending = LineEnding::Lf;
    config.redact = false;
    config
}

#[test]
fn seed_rewritten_with_lf_is_the_log_itself() {
    let trace = seed::trace().unwrap();
    let written = Writer::write_trace(&trace, lf_unredacted()).unwrap();
    // Only the final empty write, which carries no message, is not rewritten.
    let expected = seed::log().strip_suffix(">1506412268>").unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), expected);
}

fn request(target: &str, body: &'static [u8]) -> http::Request<Bytes> {
    http::Request::put(target)
        .body(Bytes::from_static(body))
        .unwrap()
}

#[test]
fn credentials_are_redacted_by_default() {
    let mut writer = Writer::new(WriteConfig::default());
    writer.session("ken now").unwrap();
    let request = http::Request::get("/")
        .header("authorization", "Basic a2VuOnNlY3JldA==")
        .header("proxy-authorization", "token")
        .header("cookie", "session=abc; theme=dark")
        .body(Bytes::new())
        .unwrap();
    writer.request(1, &request, &[]).unwrap();
    let response = http::Response::builder()
        .header("set-cookie", "session=xyz; Path=/; HttpOnly")
        .body(Bytes::new())
        .unwrap();
    writer.response(2, &response, &[]).unwrap();
    let written = String::from_utf8(writer.finish()).unwrap();
    assert!(!written.contains("a2VuOnNlY3JldA"));
    assert!(!written.contains("abc") && !written.contains("xyz") && !written.contains("token"));
    let trace = Trace::parse(&written).unwrap();
    let e = &trace.sessions[0].exchanges[0];
    assert_eq!(e.request.headers()["authorization"], "Basic redacted");
    assert_eq!(e.request.headers()["proxy-authorization"], "redacted");
    assert_eq!(
        e.request.headers()["cookie"],
        "session=redacted; theme=redacted"
    );
    assert_eq!(
        e.response.as_ref().unwrap().headers()["set-cookie"],
        "session=redacted; Path=/; HttpOnly"
    );

    let mut config = WriteConfig::default();
    config.redact = false;
    let mut writer = Writer::new(config);
    writer.session("ken now").unwrap();
    writer.request(1, &request, &[]).unwrap();
    assert!(String::from_utf8_lossy(writer.as_bytes()).contains("Basic a2VuOnNlY3JldA=="));
}

#[test]
fn header_names_are_written_in_customary_case() {
    let mut writer = Writer::new(WriteConfig::default());
    writer.session("u t").unwrap();
    let request = http::Request::get("/")
        .header("dav", "1")
        .header("if-none-match", "*")
        .header("www-authenticate", "x")
        .header("etag", "\"1\"")
        .body(Bytes::new())
        .unwrap();
    writer.request(1, &request, &[]).unwrap();
    let written = String::from_utf8(writer.finish()).unwrap();
    assert!(
        written.contains(
            "\r\nDAV: 1\r\nIf-None-Match: *\r\nWWW-Authenticate: x\r\nETag: \"1\"\r\n\r\n"
        )
    );
}

#[test]
fn data_that_would_read_as_a_marker_is_refused() {
    let mut writer = Writer::new(WriteConfig::default());
    writer.session("u t").unwrap();
    let before = writer.as_bytes().len();
    let err = writer
        .request(1, &request("/", b"a <12< b"), &[])
        .unwrap_err();
    assert!(matches!(err, Error::AmbiguousData { .. }));
    assert_eq!(
        writer.as_bytes().len(),
        before,
        "a refused message leaves nothing behind"
    );
    let err = writer
        .request(1, &request("/", b"x\n---------- y"), &[])
        .unwrap_err();
    assert!(matches!(err, Error::AmbiguousData { .. }));
    // A body ending in `<12` would join the next marker.
    writer.request(1, &request("/", b"a<12"), &[]).unwrap();
    let response = http::Response::new(Bytes::new());
    assert!(matches!(
        writer.response(2, &response, &[]).unwrap_err(),
        Error::AmbiguousData { .. }
    ));
}

#[test]
fn writer_digits_after_a_marker_are_not_ambiguous() {
    // Regression: a chunk whose data is only digits was taken to join the next marker,
    // because the digits were preceded by the closing character of its own marker.
    let mut writer = Writer::new(WriteConfig::default());
    writer.session("u t").unwrap();
    let mut exchange = Exchange::new(request("/", b"ab7cd"), 5);
    exchange.request_chunks = vec![2, 3];
    writer.exchange(&exchange).unwrap();
    let trace = Trace::parse(writer.finish()).unwrap();
    assert_eq!(trace.sessions[0].exchanges[0].request_chunks, [2, 3]);
    assert_eq!(&trace.sessions[0].exchanges[0].request.body()[..], b"ab7cd");
}

#[test]
fn empty_reason_phrase_of_uncanonical_code_round_trips() {
    // Regression: status 599 has no canonical reason; the writer writes an empty one, which
    // the reader took for an unusual reason phrase.
    let mut writer = Writer::new(WriteConfig::default());
    writer.session("u t").unwrap();
    let mut exchange = Exchange::new(request("/", b""), 1);
    let mut response = http::Response::new(Bytes::new());
    *response.status_mut() = http::StatusCode::from_u16(599).unwrap();
    response.headers_mut().insert("content-length", 0.into());
    exchange = exchange.with_response(response, 2);
    writer.exchange(&exchange).unwrap();
    let trace = Trace::parse(writer.finish()).unwrap();
    assert!(trace.sessions[0].exchanges[0].same_content(&exchange));
}

#[test]
fn misuse_is_an_error() {
    let mut writer = Writer::new(WriteConfig::default());
    assert_eq!(
        writer.request(1, &request("/", b""), &[]).unwrap_err(),
        Error::NoSessionStarted
    );
    assert_eq!(
        writer.session("a\nb").unwrap_err(),
        Error::SessionHeaderLineEnd
    );
    writer.session("u t").unwrap();
    let response = http::Response::new(Bytes::new());
    assert_eq!(
        writer.response(1, &response, &[]).unwrap_err(),
        Error::ResponseWithoutRequest
    );
    writer
        .request(
            1,
            &http::Request::head("/").body(Bytes::new()).unwrap(),
            &[],
        )
        .unwrap();
    let with_body = http::Response::new(Bytes::from_static(b"x"));
    assert_eq!(
        writer.response(1, &with_body, &[]).unwrap_err(),
        Error::BodyNotAllowed
    );
    let mut interim = http::Response::new(());
    *interim.status_mut() = http::StatusCode::PROCESSING;
    writer.interim(2, &interim).unwrap();
    let mut h09 = http::Response::new(Bytes::new());
    *h09.version_mut() = http::Version::HTTP_09;
    assert_eq!(
        writer.response(3, &h09, &[]).unwrap_err(),
        Error::UnsupportedVersion
    );
}

#[test]
fn a_session_after_a_partial_line_is_still_found() {
    let mut writer = Writer::new(WriteConfig::default());
    writer.session("one t").unwrap();
    writer
        .request(1, &request("/", b"no line end"), &[])
        .unwrap();
    writer.session("two t").unwrap();
    writer.request(2, &request("/b", b""), &[]).unwrap();
    let trace = Trace::parse(writer.finish()).unwrap();
    assert_eq!(trace.sessions.len(), 2);
    assert_eq!(
        &trace.sessions[0].exchanges[0].request.body()[..],
        b"no line end"
    );
    assert_eq!(trace.sessions[1].exchanges[0].request.uri(), "/b");
}

#[test]
fn interim_and_chunked_round_trip_through_exchange() {
    let mut request = request("/cal/", b"<x/>");
    request
        .headers_mut()
        .insert("transfer-encoding", "chunked".parse().unwrap());
    let mut exchange = Exchange::new(request, 10);
    exchange.request_chunks = vec![0, 2];
    exchange
        .request_trailers
        .insert("x-t", "1".parse().unwrap());
    let mut processing = http::Response::new(());
    *processing.status_mut() = http::StatusCode::PROCESSING;
    exchange.interim.push(Interim::new(processing, 11));
    let mut response = http::Response::new(Bytes::from_static(b"done"));
    *response.status_mut() = http::StatusCode::MULTI_STATUS;
    response.headers_mut().insert("content-length", 4.into());
    exchange = exchange.with_response(response, 12);
    exchange.response_chunks = vec![1];
    for line_ending in [LineEnding::CrLf, LineEnding::Lf] {
        let mut config = WriteConfig::default();
        config.line_ending = line_ending;
        let mut writer = Writer::new(config);
        writer.session("u t").unwrap();
        writer.exchange(&exchange).unwrap();
        let trace = Trace::parse(writer.finish()).unwrap();
        assert!(
            trace.sessions[0].exchanges[0].same_content(&exchange),
            "{line_ending:?}"
        );
    }
}

#[test]
fn http2_messages_are_recorded_in_http11_form() {
    let mut writer = Writer::new(WriteConfig::default());
    writer.session("u t").unwrap();
    let mut request = http::Request::new(Bytes::new());
    *request.version_mut() = http::Version::HTTP_2;
    *request.uri_mut() = "/dav/".parse().unwrap();
    let mut exchange = Exchange::new(request, 1);
    let mut response = http::Response::new(Bytes::from_static(b"<ok/>"));
    *response.version_mut() = http::Version::HTTP_2;
    exchange = exchange.with_response(response, 2);
    writer.exchange(&exchange).unwrap();
    let trace = Trace::parse(writer.finish()).unwrap();
    let read = &trace.sessions[0].exchanges[0];
    assert_eq!(read.request.version(), http::Version::HTTP_11);
    let response = read.response.as_ref().unwrap();
    assert_eq!(response.version(), http::Version::HTTP_11);
    assert_eq!(&response.body()[..], b"<ok/>");
}
