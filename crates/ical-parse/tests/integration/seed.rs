//! The calendar objects of the seed trace (`fixtures/seed/000_4100585a271ce1c6.txt`): the five
//! `calendar-data` bodies of the multiget response and the VTIMEZONE of the two
//! `calendar-timezone` PROPPATCH requests, extracted here from the trace as it was recorded.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::value::DateOrDateTime;
use ical_parse::{ErrorKind, ParseOptions, parse_strict, parse_with};

const SEED: &str = include_str!("../../../../fixtures/seed/000_4100585a271ce1c6.txt");

/// The trace with its `<TIME<` / `>TIME>` chunk markers removed. A marker can stand in the
/// middle of a line where a new read of the socket began; the chunks of one direction are one
/// byte stream, and the bodies read here each lie within one direction.
fn without_markers(trace: &str) -> String {
    let mut out = String::with_capacity(trace.len());
    let bytes = trace.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'<' || c == b'>' {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits >= 9 && bytes.get(i + 1 + digits) == Some(&c) {
                i += digits + 2;
                continue;
            }
        }
        let ch = trace[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Every text between `open` and `close`, in order.
fn between<'t>(text: &'t str, open: &str, close: &str) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let body = &rest[start + open.len()..];
        let end = body.find(close).expect("unclosed element");
        out.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    out
}

/// The five `calendar-data` CDATA bodies of the multiget response.
fn calendar_data() -> Vec<String> {
    let trace = without_markers(SEED);
    between(
        &trace,
        "<B:calendar-data><![CDATA[",
        "]]></B:calendar-data>",
    )
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// The `calendar-timezone` values of the PROPPATCH requests, XML character references decoded
/// (their CRs arrive as `&#13;`).
fn calendar_timezones() -> Vec<String> {
    let trace = without_markers(SEED);
    between(
        &trace,
        r#"<B:calendar-timezone xmlns:B="urn:ietf:params:xml:ns:caldav">"#,
        "</B:calendar-timezone>",
    )
    .into_iter()
    .map(|s| {
        s.replace("&#13;", "\r")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    })
    .collect()
}

#[test]
fn markers_are_stripped_mid_line() {
    let data = calendar_data();
    assert!(data.iter().all(|d| !d.contains(">1506")));
    assert!(data[1].contains("\nATTENDEE;RSVP=TRUE;CN=test0@;"));
}

#[test]
fn multiget_objects_parse_leniently_with_only_lf_reported() {
    let data = calendar_data();
    assert_eq!(data.len(), 5);
    let mut uids = Vec::new();
    for body in &data {
        let parsed = parse_with(body, &ParseOptions::lenient()).unwrap();
        let kinds: Vec<_> = parsed.warnings.iter().map(|w| &w.kind).collect();
        // XML end-of-line handling turned CRLF into LF: the one deviation, reported once.
        assert_eq!(kinds, [&ErrorKind::BareLf], "{body}");
        for event in parsed.calendar.events() {
            uids.push(event.uid().unwrap().into_owned());
        }
        crate::corpora::round_trips(&parsed.calendar, "seed calendar-data");
        // With CRLF restored, the strict grammar accepts each object.
        let crlf = body.replace('\n', "\r\n");
        assert_eq!(parse_strict(&crlf).unwrap(), parsed.calendar);
    }
    assert_eq!(
        uids,
        [
            "b7f368f2-f24b-4c19-b2b7-8620de68a3a4",
            "D4FC86B4-D501-4DDC-A94B-3237ACF5F278",
            "D4FC86B4-D501-4DDC-A94B-3237ACF5F278",
            "D4FC86B4-D501-4DDC-A94B-3237ACF5F278",
            "D4FC86B4-D501-4DDC-A94B-3237ACF5F278",
            "85b2eee6-9f0a-4508-bf40-d730fd92e475",
            "5dd30e69-e584-4949-8a54-95d49bd54730",
            "x100959BC664CA650E933C892C@example.com",
            "x100959BC664CA650E933C892C@example.com",
        ]
    );
}

#[test]
fn apple_recurring_all_day_event_reads_typed() {
    let data = calendar_data();
    let calendar = ical_parse::parse(&data[1]).unwrap();
    let events: Vec<_> = calendar.events().collect();
    let master = events[0];
    let rule = master.rrule().unwrap().unwrap();
    assert_eq!(rule.to_string(), "FREQ=DAILY;UNTIL=20120512");
    assert!(master.dtstart().unwrap().unwrap().value.is_date());
    assert_eq!(master.sequence().unwrap(), 9);
    assert_eq!(master.attendees().count(), 3);
    assert_eq!(master.alarms().count(), 1);
    let overrides: Vec<_> = events[1..]
        .iter()
        .map(|e| e.recurrence_id().unwrap().unwrap().value)
        .collect();
    assert_eq!(overrides.len(), 3);
    assert!(overrides.iter().all(DateOrDateTime::is_date));
    // The attendee line the trace split with a marker reads whole.
    let split = events[3].attendees().next().unwrap();
    assert_eq!(split.param_value("CN"), Some("test0@"));
    assert!(split.raw_value.starts_with("mailto:"));
}

#[test]
fn proppatch_timezone_parses_strictly() {
    let zones = calendar_timezones();
    assert_eq!(zones.len(), 2);
    for zone in &zones {
        // `&#13;` restored, the value has CRLF line ends and is strictly valid.
        let calendar = parse_strict(zone).unwrap();
        let vtimezone = calendar.timezones().next().unwrap();
        assert_eq!(vtimezone.tzid().as_deref(), Some("America/New_York"));
        let rules: Vec<_> = vtimezone.rules().collect();
        assert_eq!(rules.len(), 2);
        assert!(rules[0].is_daylight());
        assert_eq!(rules[0].offset_to().unwrap().unwrap().seconds, -4 * 3600);
        assert_eq!(
            rules[1].rrules().unwrap()[0].to_string(),
            "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11"
        );
        assert_eq!(
            calendar.write(),
            *zone,
            "canonical input is reproduced byte for byte"
        );
    }
}
