//! Decodes a generated calendar-multiget answer once and prints what it found: a small, fixed
//! workload to profile with `valgrind --tool=callgrind` (instruction counts), which stay
//! comparable on a loaded machine where wall time does not.
//!
//! The document has the shape of the benchmark's (`benches/src/xml.rs`): one `<response>` per
//! resource with an href, a `getetag` and about 2 KB of `calendar-data`, in CDATA with raw CRLF
//! or as escaped text with `&#13;` for each CR.
//!
//! `cargo run --release -p dav-xml --example decode_count -- [RESPONSES] [cdata|escaped|lf]
//! [whole|owned|stream|floor] [REPEAT]` (`owned`: `Multistatus::decode_owned` of a copy of
//! the document made before each run; `lf`: the CDATA document with LF line ends). Only the decoding runs inside `decode_count::run`, so
//! `valgrind --tool=callgrind --toggle-collect='decode_count::run*'` counts it alone; `floor` is
//! the benchmark's floor (a UTF-8 check and a bare quick-xml event loop).

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;

use dav_xml::{Multistatus, QName, Response, StreamDecoder};

/// Appends resource `i`'s calendar data (CRLF line ends), about 2 KB.
fn calendar(out: &mut String, i: usize) {
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//caldav-rs//perf//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "BEGIN:VTIMEZONE".to_owned(),
        "TZID:Europe/Berlin".to_owned(),
        "BEGIN:DAYLIGHT".to_owned(),
        "TZOFFSETFROM:+0100".to_owned(),
        "TZOFFSETTO:+0200".to_owned(),
        "TZNAME:CEST".to_owned(),
        "DTSTART:19700329T020000".to_owned(),
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU".to_owned(),
        "END:DAYLIGHT".to_owned(),
        "BEGIN:STANDARD".to_owned(),
        "TZOFFSETFROM:+0200".to_owned(),
        "TZOFFSETTO:+0100".to_owned(),
        "TZNAME:CET".to_owned(),
        "DTSTART:19701025T030000".to_owned(),
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU".to_owned(),
        "END:STANDARD".to_owned(),
        "END:VTIMEZONE".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{i:08}-4f6c-perf@example.com"),
        "DTSTAMP:20250101T090000Z".to_owned(),
        "CREATED:20241215T101500Z".to_owned(),
        format!("DTSTART;TZID=Europe/Berlin:202503{:02}T100000", i % 28 + 1),
        format!("DTEND;TZID=Europe/Berlin:202503{:02}T110000", i % 28 + 1),
        format!("SUMMARY:Budget review\\, planning #{i}"),
        "DESCRIPTION:Agenda: review the budget\\, the plan and the next steps\\; bring notes \
         & numbers. Review the budget again <if> time allows."
            .to_owned(),
        format!("LOCATION:Room {}\\, Building {}", i % 40, i % 7),
        format!(
            "ORGANIZER;CN=\"Organizer {}\":mailto:organizer{}@example.com",
            i % 50,
            i % 50
        ),
        format!(
            "ATTENDEE;CN=\"Attendee {i}, Team\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;\
             RSVP=TRUE:mailto:attendee{i}@example.com"
        ),
        "ATTENDEE;CN=\"Attendee B\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:\
         mailto:b@example.com"
            .to_owned(),
        "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10".to_owned(),
        "CATEGORIES:Work,Planning".to_owned(),
        "SEQUENCE:1".to_owned(),
        "STATUS:CONFIRMED".to_owned(),
        "TRANSP:OPAQUE".to_owned(),
        "BEGIN:VALARM".to_owned(),
        "ACTION:DISPLAY".to_owned(),
        "TRIGGER:-PT15M".to_owned(),
        "DESCRIPTION:Reminder".to_owned(),
        "END:VALARM".to_owned(),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    for line in lines {
        out.push_str(&line);
        out.push_str("\r\n");
    }
}

fn document(responses: usize, escaped: bool) -> Vec<u8> {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\" \
         xmlns:cal=\"urn:ietf:params:xml:ns:caldav\">\n",
    );
    let mut data = String::new();
    for i in 0..responses {
        let etag = format!(
            "\"{:016x}\"",
            (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        );
        let _ = write!(
            out,
            "  <d:response>\n    <d:href>/calendars/user/ken/Default/{i:08}-4f6c-perf.ics</d:href>\n    \
             <d:propstat>\n      <d:prop>\n        <d:getetag>{}</d:getetag>\n        \
             <cal:calendar-data>",
            if escaped {
                etag.replace('"', "&quot;")
            } else {
                etag
            }
        );
        data.clear();
        calendar(&mut data, i);
        if escaped {
            for c in data.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '\r' => out.push_str("&#13;"),
                    other => out.push(other),
                }
            }
        } else {
            out.push_str("<![CDATA[");
            out.push_str(&data);
            out.push_str("]]>");
        }
        out.push_str(
            "</cal:calendar-data>\n      </d:prop>\n      <d:status>HTTP/1.1 200 OK</d:status>\n    \
             </d:propstat>\n  </d:response>\n",
        );
    }
    out.push_str("</d:multistatus>\n");
    out.into_bytes()
}

/// Responses, etags and calendar-data bytes found.
type Found = (usize, usize, usize);

fn add(found: &mut Found, r: &Response) {
    found.0 += 1;
    std::hint::black_box((r.href(), r.status));
    if let Some(etag) = r.prop(&QName::DAV_GETETAG) {
        found.1 += usize::from(!etag.text().is_empty());
    }
    if let Some(data) = r.prop(&QName::CALDAV_CALENDAR_DATA) {
        found.2 += data.text().len();
    }
}

#[inline(never)]
fn run_whole(body: &[u8]) -> Found {
    let mut found = Found::default();
    for r in &Multistatus::decode(body).unwrap().responses {
        add(&mut found, r);
    }
    found
}

/// `Multistatus::decode_owned`: the body's copy is made by the caller, outside this function.
#[inline(never)]
fn run_owned(body: Vec<u8>) -> Found {
    let mut found = Found::default();
    for r in &Multistatus::decode_owned(body).unwrap().responses {
        add(&mut found, r);
    }
    found
}

#[inline(never)]
fn run_stream(body: &[u8]) -> Found {
    let mut found = Found::default();
    let mut decoder = StreamDecoder::new();
    for chunk in body.chunks(64 * 1024) {
        decoder.feed(chunk).unwrap();
        while let Some(r) = decoder.poll() {
            add(&mut found, &r);
        }
    }
    for r in &decoder.finish().unwrap().responses {
        add(&mut found, r);
    }
    found
}

#[inline(never)]
fn run_floor(body: &[u8]) -> Found {
    use quick_xml::events::Event;
    let text = std::str::from_utf8(body).unwrap();
    let mut reader = quick_xml::Reader::from_str(text);
    let mut found = Found::default();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(start) if start.local_name().into_inner() == "response" => found.0 += 1,
            Event::Eof => return found,
            other => {
                std::hint::black_box(other);
            }
        }
    }
}

// An example, not the protocol crate: the repetitions are timed.
#[allow(clippy::disallowed_methods)]
fn main() {
    let mut args = std::env::args().skip(1);
    let responses = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000);
    let variant = args.next();
    let escaped = variant.as_deref() == Some("escaped");
    // `lf`: the CDATA document with LF line ends, nothing to normalise.
    let lf = variant.as_deref() == Some("lf");
    let mode = args.next().unwrap_or_else(|| "whole".to_owned());
    // Repetitions, for a rough wall-time look on a quiet machine (instruction counts decide).
    let repeat: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let mut body = document(responses, escaped);
    if lf {
        body.retain(|&b| b != b'\r');
    }
    let mut times = Vec::with_capacity(repeat);
    let mut found = Found::default();
    for _ in 0..repeat.max(1) {
        // The owned decode takes its own copy, made before the clock starts.
        let copy = (mode == "owned").then(|| body.clone());
        let start = std::time::Instant::now();
        found = match (mode.as_str(), copy) {
            ("owned", Some(copy)) => run_owned(copy),
            ("stream", _) => run_stream(&body),
            ("floor", _) => run_floor(&body),
            _ => run_whole(&body),
        };
        times.push(start.elapsed());
    }
    times.sort();
    if repeat > 1 {
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        println!("median of {repeat} runs: {median:?}");
    }
    println!(
        "{} bytes, {} responses, {} etags, {} bytes of calendar data ({mode})",
        body.len(),
        found.0,
        found.1,
        found.2
    );
}
