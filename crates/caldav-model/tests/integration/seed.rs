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

/// One HTTP message of the seed's telemetry trace.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// `true` for client to server.
    pub(crate) request: bool,
    /// The start line, e.g. `PROPFIND /calendars/user/ken/ HTTP/1.1`.
    pub(crate) start: String,
    /// Header lines as (name, value).
    #[allow(dead_code)] // kept for tests that look at Depth and Content-Type
    pub(crate) headers: Vec<(String, String)>,
    /// The body.
    pub(crate) body: String,
}

/// Splits the trace part of the seed into HTTP messages. The trace format puts a marker
/// `<UNIXTIME<` or `>UNIXTIME>` wherever a new read of the socket began, even mid-line;
/// consecutive chunks in one direction are one byte stream.
///
/// This small reader exists for these tests only; `caldav-trace` is the project's reader.
pub(crate) fn trace_messages() -> Vec<Message> {
    let trace = &SEED[SEED.find("\n---------- ").unwrap()..];
    let trace = &trace[trace.find('\n').unwrap() + 1..];
    let trace = &trace[trace.find('\n').unwrap() + 1..];
    let trace = &trace[..trace.rfind("\n```").unwrap()];
    let bytes = trace.as_bytes();
    // Cut into (direction, text) chunks at markers.
    let mut streams: Vec<(bool, String)> = Vec::new();
    let mut i = 0;
    let mut current: Option<bool> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if (b == b'<' || b == b'>') && i + 12 <= bytes.len() {
            let digits = &bytes[i + 1..i + 11];
            if digits.iter().all(u8::is_ascii_digit) && bytes[i + 11] == b {
                let dir = b == b'<';
                if current != Some(dir) {
                    streams.push((dir, String::new()));
                    current = Some(dir);
                }
                i += 12;
                continue;
            }
        }
        let ch = trace[i..].chars().next().unwrap();
        if let Some(last) = streams.last_mut() {
            last.1.push(ch);
        }
        i += ch.len_utf8();
    }
    // In this trace every direction change starts a new message, so a stream is one message
    // (its Content-Length counts the CRs that the copy in the seed lost).
    streams
        .into_iter()
        .map(|(request, text)| {
            let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
            let mut lines = head.lines();
            let start = lines.next().unwrap().trim().to_owned();
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .collect();
            Message {
                request,
                start,
                headers,
                body: body.trim().to_owned(),
            }
        })
        .collect()
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
            assert!(m.body.starts_with("<?xml"), "{}", m.start);
            dav_xml::Element::decode(m.body.as_bytes()).unwrap();
        }
    }
}
