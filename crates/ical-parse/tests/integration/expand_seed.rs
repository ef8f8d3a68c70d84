//! The seed trace's `foo.ics` (COUNT=5 with an RDATE PERIOD and an override moved to 14:00) and
//! `bar.ics` (all-day DAILY with UNTIL and three overrides, one with two alarms), extracted
//! from the multiget response of `fixtures/seed/000_4100585a271ce1c6.txt` and expanded.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::expand::ExpandOptions;
use ical_parse::expand::calendar::{objects, resolver_for};
use ical_parse::{ParseOptions, parse_with};

const SEED: &str = include_str!("../../../../fixtures/seed/000_4100585a271ce1c6.txt");

/// The trace without its `<TIME<`/`>TIME>` chunk markers (which can stand mid-line).
fn unmarked() -> String {
    let mut out = String::new();
    let mut rest = SEED;
    while let Some(pos) = rest.find(['<', '>']) {
        let (head, tail) = rest.split_at(pos);
        out.push_str(head);
        let mark = &tail[..1];
        let digits = tail[1..].bytes().take_while(u8::is_ascii_digit).count();
        if digits >= 9 && tail[1 + digits..].starts_with(mark) {
            rest = &tail[digits + 2..];
        } else {
            out.push_str(mark);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The calendar-data of the multiget response for `href`: the `<A:response>` that names the
/// href and carries calendar data.
fn calendar_data(href: &str) -> String {
    let trace = unmarked();
    let open = "<B:calendar-data><![CDATA[";
    for response in trace.split("<A:response>").skip(1) {
        let response = response.split("</A:response>").next().unwrap();
        if !response.contains(&format!("<A:href>{href}</A:href>")) {
            continue;
        }
        if let Some(start) = response.find(open) {
            let body = &response[start + open.len()..];
            return body[..body.find("]]></B:calendar-data>").unwrap()].to_owned();
        }
    }
    panic!("no calendar-data for {href}");
}

fn expand_all(text: &str) -> Vec<String> {
    let parsed = parse_with(text, &ParseOptions::lenient()).unwrap();
    let resolver = resolver_for(&parsed.calendar).unwrap();
    let objects = objects(&parsed.calendar, &resolver).unwrap();
    assert_eq!(objects.len(), 1);
    let object = &objects[0];
    object
        .expand(&ExpandOptions::default())
        .map(|i| {
            let alarms = i.override_index.map_or(0, |k| {
                object.overrides[k].components_named("VALARM").count()
            });
            format!(
                "{} {} {} {:?} {alarms}",
                i.recurrence_id, i.start, i.end, i.override_index
            )
        })
        .collect()
}

#[test]
fn seed_foo_ics() {
    let got = expand_all(&calendar_data("/calendars/user/ken/Default/foo.ics"));
    assert_eq!(
        got,
        [
            "20060102T120000 2006-01-02T12:00:00-05:00 2006-01-02T13:00:00-05:00 None 0",
            "20060102T150000 2006-01-02T15:00:00-05:00 2006-01-02T17:00:00-05:00 None 0",
            "20060103T120000 2006-01-03T12:00:00-05:00 2006-01-03T13:00:00-05:00 None 0",
            "20060104T120000 2006-01-04T14:00:00-05:00 2006-01-04T15:00:00-05:00 Some(0) 0",
            "20060105T120000 2006-01-05T12:00:00-05:00 2006-01-05T13:00:00-05:00 None 0",
            "20060106T120000 2006-01-06T12:00:00-05:00 2006-01-06T13:00:00-05:00 None 0",
        ]
    );
}

#[test]
fn seed_bar_ics() {
    let got = expand_all(&calendar_data("/calendars/user/ken/Default/bar.ics"));
    assert_eq!(
        got,
        [
            "20120507 2012-05-07 2012-05-08 None 0",
            "20120508 2012-05-08 2012-05-09 None 0",
            "20120509 2012-05-09 2012-05-10 Some(2) 1",
            "20120510 2012-05-10 2012-05-11 Some(0) 1",
            "20120511 2012-05-11 2012-05-12 None 0",
            "20120512 2012-05-12 2012-05-13 Some(1) 2",
        ]
    );
}
