//! The seed trace, read end to end.

use caldav_trace::{Direction, Note, Side, seed};

/// The request lines of the log, found by a plain text scan independent of the parser.
fn request_lines() -> Vec<(String, String)> {
    seed::log()
        .split("<1506412")
        .filter_map(|piece| {
            let line = piece.get(4..)?.lines().next()?;
            let mut words = line.split(' ');
            let method = words.next()?;
            let target = words.next()?;
            (words.next() == Some("HTTP/1.1")).then(|| (method.to_owned(), target.to_owned()))
        })
        .collect()
}

#[test]
fn seed_log_is_cut_from_the_page() {
    let log = seed::log();
    assert!(log.starts_with("---------- ken Tue Sep 26 03:50:28 2017\n\n<1506412228<PROPFIND"));
    assert!(log.ends_with("</A:multistatus>\n>1506412268>"));
    assert!(seed::SEED.contains(log));
}

#[test]
fn seed_has_one_session_of_25_exchanges() {
    let trace = seed::trace().unwrap();
    assert_eq!(trace.sessions.len(), 1);
    let session = &trace.sessions[0];
    assert_eq!(session.header, "ken Tue Sep 26 03:50:28 2017");
    assert_eq!(session.chunks.len(), 81);
    assert_eq!(session.exchanges.len(), 25);
    assert!(session.client_rest.is_empty());
    assert!(session.server_rest.is_empty());
    // The last chunk is an empty server write, 32 seconds after the last response.
    let last = session.chunks.last().unwrap();
    assert_eq!(
        (last.direction, last.time, last.data.len()),
        (Direction::ServerToClient, 1_506_412_268, 0)
    );
}

#[test]
fn seed_methods_and_urls_in_order() {
    let exchanges = seed::exchanges().unwrap();
    let parsed: Vec<(String, String)> = exchanges
        .iter()
        .map(|e| (e.request.method().to_string(), e.request.uri().to_string()))
        .collect();
    let scanned = request_lines();
    assert_eq!(scanned.len(), 25);
    assert_eq!(parsed, scanned);
    let methods: Vec<&str> = parsed.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(methods.iter().filter(|m| **m == "PROPFIND").count(), 14);
    assert_eq!(methods.iter().filter(|m| **m == "PROPPATCH").count(), 6);
    assert_eq!(methods.iter().filter(|m| **m == "REPORT").count(), 4 + 1);
    assert_eq!(
        parsed[0],
        ("PROPFIND".into(), "/calendars/user/ken/Inbox/".into())
    );
    assert_eq!(
        parsed[20],
        ("REPORT".into(), "/calendars/user/ken/Default/".into())
    );
    assert_eq!(
        parsed[24],
        ("PROPFIND".into(), "/notifications/user/ken/".into())
    );
}

#[test]
fn seed_statuses_and_times() {
    let exchanges = seed::exchanges().unwrap();
    for e in &exchanges {
        let response = e.response.as_ref().unwrap();
        assert_eq!(response.status(), 207);
        assert_eq!(response.version(), http::Version::HTTP_11);
        assert!(e.interim.is_empty());
        assert!(e.response_time.unwrap() >= e.request_time);
    }
    assert_eq!(exchanges[0].request_time, 1_506_412_228);
    assert_eq!(exchanges[20].response_time, Some(1_506_412_236));
}

#[test]
fn seed_depth_prefer_brief_headers() {
    let exchanges = seed::exchanges().unwrap();
    let depths: Vec<Option<&str>> = exchanges
        .iter()
        .map(|e| {
            e.request
                .headers()
                .get("depth")
                .map(|v| v.to_str().unwrap())
        })
        .collect();
    let expected_depths: Vec<Option<&str>> = seed::log()
        .split("<1506412")
        .filter(|piece| {
            piece
                .get(4..)
                .is_some_and(|p| p.lines().next().is_some_and(|l| l.ends_with("HTTP/1.1")))
        })
        .map(|piece| {
            let head = piece.split("\n\n").next().unwrap();
            head.lines().find_map(|l| l.strip_prefix("Depth: "))
        })
        .collect();
    assert_eq!(depths, expected_depths);
    assert_eq!(depths.iter().filter(|d| **d == Some("1")).count(), 9);
    assert_eq!(depths.iter().filter(|d| **d == Some("0")).count(), 9);

    let first = &exchanges[0].request;
    assert_eq!(first.headers()["prefer"], "return=minimal");
    assert_eq!(first.headers()["brief"], "t");
    let prefer = exchanges
        .iter()
        .filter(|e| e.request.headers().contains_key("prefer"))
        .count();
    let brief = exchanges
        .iter()
        .filter(|e| e.request.headers().contains_key("brief"))
        .count();
    let log = seed::log();
    assert_eq!(prefer, log.matches("\nPrefer: return=minimal\n").count());
    assert_eq!(brief, log.matches("\nBrief: t\n").count());
    assert_eq!((prefer, brief), (18, 18));
    let applied = exchanges
        .iter()
        .filter(|e| {
            e.response
                .as_ref()
                .unwrap()
                .headers()
                .get("preference-applied")
                .is_some_and(|v| v == "return=minimal")
        })
        .count();
    assert_eq!(
        applied,
        log.matches("\nPreference-Applied: return=minimal\n")
            .count()
    );
    assert_eq!(applied, 18);
}

#[test]
fn seed_depth1_propfind_response_body_and_chunks() {
    let exchanges = seed::exchanges().unwrap();
    let e = &exchanges[1];
    assert_eq!(e.request.method(), "PROPFIND");
    assert_eq!(e.request.headers()["depth"], "1");
    let response = e.response.as_ref().unwrap();
    assert_eq!(response.headers()["content-length"], "12893");

    // The same bytes, cut from the file by text search: after the head, up to the next client
    // marker, with the server's mid-body markers removed.
    let log = seed::log();
    let head_end =
        log.find("Content-Length: 12893\n\n").unwrap() + "Content-Length: 12893\n\n".len();
    let end = head_end + log[head_end..].find("<1506412230<").unwrap();
    let expected = log[head_end..end].replace(">1506412228>", "");
    assert_eq!(response.body().len(), 12_855);
    assert_eq!(&response.body()[..], expected.as_bytes());
    assert!(
        response
            .body()
            .starts_with(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<A:multistatus")
    );
    assert!(response.body().ends_with(b"</A:multistatus>\n\n\n"));

    // Three more socket writes began mid-body, one of them mid-word.
    assert_eq!(e.response_chunks.len(), 3);
    let body = response.body();
    assert!(body[e.response_chunks[0]..].starts_with(b" </A:privilege>"));
    assert!(body[e.response_chunks[1]..].starts_with(b"urce/>"));
    assert!(body[e.response_chunks[2]..].starts_with(b"cipals/user/ken/</A:href>"));
    // The request body was a socket read of its own.
    assert_eq!(e.request_chunks, [0]);
    assert_eq!(e.request.body().len(), 2217);
}

#[test]
fn seed_multiget_response_body_with_cdata() {
    let exchanges = seed::exchanges().unwrap();
    let e = &exchanges[20];
    assert_eq!(e.request.method(), "REPORT");
    assert!(
        e.request
            .body()
            .starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<B:calendar-multiget")
    );
    let response = e.response.as_ref().unwrap();
    assert_eq!(response.headers()["content-length"], "8204");
    assert_eq!(response.headers()["cache-control"], "no-transform");
    let body = response.body();
    assert_eq!(body.len(), 8001);
    let text = std::str::from_utf8(body).unwrap();
    assert_eq!(
        text.matches("<B:calendar-data><![CDATA[BEGIN:VCALENDAR")
            .count(),
        5
    );
    assert_eq!(text.matches("]]></B:calendar-data>").count(), 5);
    assert!(text.ends_with("</A:multistatus>\n"));
    assert_eq!(e.response_chunks.len(), 2);
    assert!(body[e.response_chunks[0]..].starts_with(b"TTENDEE;RSVP=TRUE;CN=test0@;"));
    assert!(body[e.response_chunks[1]..].starts_with(b"</A:status>\n"));
    // The chunk boundary falls inside a CDATA section, mid-property-name.
    assert_eq!(&body[e.response_chunks[0] - 1..e.response_chunks[0]], b"A");
}

#[test]
fn seed_calendar_timezone_proppatch_keeps_escaped_cr() {
    let exchanges = seed::exchanges().unwrap();
    let proppatch: Vec<_> = exchanges
        .iter()
        .filter(|e| e.request.method() == "PROPPATCH" && e.request.body().len() == 748)
        .collect();
    assert_eq!(proppatch.len(), 2);
    for e in proppatch {
        let body = std::str::from_utf8(e.request.body()).unwrap();
        assert!(body.contains("calendar-timezone"));
        assert!(body.contains("BEGIN:VTIMEZONE&#13;\n"));
        assert_eq!(body.matches("&#13;").count(), 22);
    }
}

#[test]
fn seed_short_bodies_are_noted_not_hidden() {
    let exchanges = seed::exchanges().unwrap();
    let notes: Vec<&Note> = exchanges.iter().flat_map(|e| e.notes.iter()).collect();
    assert_eq!(notes.len(), 22);
    for e in &exchanges {
        for note in &e.notes {
            let Note::ShortBody {
                side,
                declared,
                recorded,
                ..
            } = note
            else {
                panic!("unexpected note {note:?}")
            };
            let (headers, body_len) = match side {
                Side::Request => (e.request.headers(), e.request.body().len()),
                Side::Response => {
                    let r = e.response.as_ref().unwrap();
                    (r.headers(), r.body().len())
                }
                _ => unreachable!(),
            };
            assert_eq!(
                headers["content-length"]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap(),
                *declared
            );
            assert_eq!(body_len as u64, *recorded);
            assert!(recorded < declared);
        }
    }
    // The multiget request is 20 bytes short of its Content-Length.
    assert!(exchanges[20].notes.contains(&Note::ShortBody {
        side: Side::Request,
        offset: exchanges[20].request_offset,
        declared: 813,
        recorded: 793
    }));
}

#[test]
fn seed_offsets_point_into_the_log() {
    let trace = seed::trace().unwrap();
    let log = seed::log();
    for e in trace.exchanges() {
        let at = &log[e.request_offset..];
        assert!(at.starts_with(&format!(
            "{} {} HTTP/1.1\n",
            e.request.method(),
            e.request.uri()
        )));
        assert!(log[e.response_offset.unwrap()..].starts_with("HTTP/1.1 207 Multi-Status\n"));
    }
}

#[test]
fn seed_without_cutting_the_page_still_parses() {
    let whole = caldav_trace::Trace::parse(seed::SEED).unwrap();
    assert!(whole.preamble.starts_with(b"---\nlayout: "));
    assert_eq!(whole.sessions[0].exchanges.len(), 25);
    // As documented on `SEED`: the closing fence joins the last, short, response body.
    let last = whole.sessions[0].exchanges[24].response.as_ref().unwrap();
    assert!(last.body().ends_with(b"</A:multistatus>\n\n```"));
    assert_eq!(last.body().len(), 365);
}

/// The text between `open` and the next `close`, for each occurrence of `open` in `text`.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    text.split(open)
        .skip(1)
        .map(|rest| &rest[..rest.find(close).unwrap()])
        .collect()
}

#[test]
fn seed_multiget_yields_the_five_calendar_objects() {
    let exchanges = seed::exchanges().unwrap();
    let multiget = exchanges
        .iter()
        .find(|e| {
            e.request
                .body()
                .windows(20)
                .any(|w| w == b"<B:calendar-multiget")
        })
        .unwrap();
    let asked = between(
        std::str::from_utf8(multiget.request.body()).unwrap(),
        "<A:href xmlns:A=\"DAV:\">",
        "</A:href>",
    );
    assert_eq!(asked.len(), 5);

    let body = std::str::from_utf8(multiget.response.as_ref().unwrap().body()).unwrap();
    let responses = between(body, "<A:response>", "</A:response>");
    assert_eq!(responses.len(), 5);
    let mut answered = Vec::new();
    for response in responses {
        let href = between(response, "<A:href>", "</A:href>")[0];
        let etag = between(response, "<A:getetag>", "</A:getetag>")[0];
        let ics = between(
            response,
            "<B:calendar-data><![CDATA[",
            "]]></B:calendar-data>",
        )[0];
        assert!(etag.starts_with('"') && etag.ends_with('"'));
        assert!(ics.starts_with("BEGIN:VCALENDAR\n"), "{href}");
        assert!(ics.ends_with("END:VCALENDAR\n"), "{href}");
        assert_eq!(ics.matches("BEGIN:VCALENDAR").count(), 1);
        // The copy lost its CRs: iCalendar's CRLF line ends arrive as LF.
        assert!(!ics.contains('\r'));
        let uid = ics.lines().find_map(|l| l.strip_prefix("UID:")).unwrap();
        assert!(!uid.is_empty());
        assert!(ics.contains("BEGIN:VEVENT"));
        answered.push(href);
    }
    let mut asked_sorted = asked.clone();
    asked_sorted.sort_unstable();
    answered.sort_unstable();
    assert_eq!(answered, asked_sorted);
}

#[test]
fn seed_pieces_rejoin_to_the_bodies() {
    for e in seed::exchanges().unwrap() {
        let request: Vec<u8> = e.request_pieces().concat();
        assert_eq!(&request[..], &e.request.body()[..]);
        let response: Vec<u8> = e.response_pieces().concat();
        assert_eq!(&response[..], &e.response.as_ref().unwrap().body()[..]);
        assert_eq!(e.response_pieces().len(), e.response_chunks.len() + 1);
    }
    let exchanges = seed::exchanges().unwrap();
    assert_eq!(exchanges[1].response_pieces().len(), 4);
}
