//! Access to the project's seed document.

/// The seed: a CalConnect page followed by a Cyrus telemetry trace.
pub(crate) const SEED: &str = include_str!("../../../../fixtures/seed/000_4100585a271ce1c6.txt");

/// The header lines of the OPTIONS answer quoted on the seed's CalConnect page.
pub(crate) fn options_answer_headers() -> http::HeaderMap {
    let start = SEED.find("OPTIONS /principals/user/ken/").unwrap();
    let rest = &SEED[start..];
    let answer = &rest[rest.find("HTTP/1.1 200 OK").unwrap()..];
    let mut map = http::HeaderMap::new();
    for line in answer.lines().skip(1).take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap();
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    map
}

/// One HTTP message of the seed's telemetry trace, as the tests here look at it.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// `true` for client to server.
    pub(crate) request: bool,
    /// The start line, e.g. `PROPFIND /calendars/user/ken/ HTTP/1.1` or `HTTP/1.1 207`.
    pub(crate) start: String,
    /// The body.
    pub(crate) body: String,
}

/// The seed trace's messages in order, read by `caldav-trace`.
pub(crate) fn trace_messages() -> Vec<Message> {
    let mut out = Vec::new();
    for exchange in caldav_trace::seed::exchanges().unwrap() {
        let request = &exchange.request;
        out.push(Message {
            request: true,
            start: format!("{} {} HTTP/1.1", request.method(), request.uri()),
            body: String::from_utf8(request.body().to_vec()).unwrap(),
        });
        if let Some(response) = &exchange.response {
            out.push(Message {
                request: false,
                start: format!("HTTP/1.1 {}", response.status().as_u16()),
                body: String::from_utf8(response.body().to_vec()).unwrap(),
            });
        }
    }
    out
}

#[test]
fn trace_reader_finds_every_exchange() {
    let messages = trace_messages();
    let requests = messages.iter().filter(|m| m.request).count();
    let responses = messages.len() - requests;
    assert_eq!(
        requests,
        25,
        "{:#?}",
        messages.iter().map(|m| &m.start).collect::<Vec<_>>()
    );
    assert_eq!(responses, 25);
    for m in &messages {
        if !m.body.is_empty() {
            assert!(m.body.trim_start().starts_with("<?xml"), "{}", m.start);
            dav_xml::Element::decode(m.body.as_bytes()).unwrap();
        }
    }
}
