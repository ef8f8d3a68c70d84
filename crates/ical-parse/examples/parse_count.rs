//! Parses a generated calendar once and prints its size and event count: a small, fixed
//! workload to profile with `valgrind --tool=callgrind` (instruction counts and allocation
//! calls), which stay comparable on a loaded machine where wall time does not.
//!
//! `cargo run --release -p ical-parse --example parse_count -- [EVENTS] [floor|strict]`;
//! `floor` runs the line floor instead (memchr line ends, copying only folded lines, splitting
//! at the first `:`), to compare with `valgrind --toggle-collect='parse_count::floor'`;
//! `strict` parses with `parse_strict` (the generated events are conformant).
//!
//! Instructions per byte: `valgrind --tool=callgrind` and the inclusive count of
//! `ical_parse::parse::parse_input` (or `parse_count::floor`) over the printed byte count.
//! Allocations per event: valgrind's "total heap usage" of a parse run minus that of a
//! `floor` run (which allocates what generating the input does, plus one buffer).

use std::fmt::Write as _;

/// Folds a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 sequence.
fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

fn calendar(events: usize) -> String {
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//perf//EN\r\n");
    for i in 0..events {
        let mut lines = vec![
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{i:08}-perf@example.com"),
            "DTSTAMP:20240101T090000Z".to_owned(),
            format!(
                "DTSTART;TZID=Europe/Berlin:2024{:02}{:02}T100000",
                i % 12 + 1,
                i % 28 + 1
            ),
            format!(
                "DTEND;TZID=Europe/Berlin:2024{:02}{:02}T110000",
                i % 12 + 1,
                i % 28 + 1
            ),
            format!("SUMMARY:Budget review {i}"),
            format!(
                "DESCRIPTION:Agenda\\nReview the budget\\, the Größe of item {i} and the next \
                 steps\\; bring notes. Review the budget\\, the Größe of item {i} again."
            ),
            "ORGANIZER;CN=\"Doe, Jane\":mailto:jane@example.com".to_owned(),
        ];
        for a in 0..3 {
            lines.push(format!(
                "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;\
                 RSVP=TRUE;CN=\"Person {a}, Team\":mailto:person{a}@example.com"
            ));
        }
        if i % 5 != 0 {
            lines.push("RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10".to_owned());
        }
        lines.extend(
            [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "DESCRIPTION:Reminder",
                "TRIGGER:-PT15M",
            ]
            .map(str::to_owned),
        );
        lines.push("END:VALARM".to_owned());
        lines.push("END:VEVENT".to_owned());
        for line in &lines {
            push_folded(&mut out, line);
        }
    }
    let _ = write!(out, "END:VCALENDAR\r\n");
    out
}

/// Counts BEGIN:VEVENT lines the cheapest way a parser could still see every property.
#[inline(never)]
#[allow(clippy::indexing_slicing)] // a measuring tool, not library code; its input is generated
fn floor(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut events = 0;
    let mut pos = 0;
    let mut folded = Vec::new();
    while pos < bytes.len() {
        let mut end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let mut line: &[u8] = &bytes[pos..end];
        if bytes.get(end + 1) == Some(&b' ') {
            folded.clear();
            folded.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
            while bytes.get(end + 1) == Some(&b' ') {
                let start = end + 2;
                end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
                let part = &bytes[start..end];
                folded.extend_from_slice(part.strip_suffix(b"\r").unwrap_or(part));
            }
            line = &folded;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(colon) = memchr::memchr(b':', line)
            && &line[..colon] == b"BEGIN"
            && &line[colon + 1..] == b"VEVENT"
        {
            events += 1;
        }
        pos = end + 1;
    }
    events
}

fn main() {
    let mut args = std::env::args().skip(1);
    let events = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let text = calendar(events);
    let parse = match args.next().as_deref() {
        Some("floor") => {
            println!("{} bytes, {} events (floor)", text.len(), floor(&text));
            return;
        }
        Some("strict") => ical_parse::parse_strict,
        _ => ical_parse::parse,
    };
    match parse(&text) {
        Ok(cal) => println!("{} bytes, {} events", text.len(), cal.events().count()),
        Err(e) => println!("error: {e}"),
    }
}
