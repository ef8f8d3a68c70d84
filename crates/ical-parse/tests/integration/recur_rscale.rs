//! libical's RFC 7529 vectors (`fixtures/corpora/libical/icalrecur_test_rscale.txt`): every
//! `RSCALE=GREGORIAN` case, with `SKIP`. Other scales (Chinese, Hebrew, ...) are not expanded
//! by this crate: they are reported as `UnsupportedScale`, by the iterator and by the
//! expansion of a calendar, and never expanded as Gregorian.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::recur_vectors::parse_ical_datetime;
use ical_parse::expand::calendar::{objects, resolver_for};
use ical_parse::expand::{ExpandOptions, ExpandWarning};
use ical_parse::recur::{Recur, RecurIter};

const RSCALE: &str = include_str!("../../../../fixtures/corpora/libical/icalrecur_test_rscale.txt");

#[test]
fn libical_rscale_gregorian_cases() {
    let mut ran = 0;
    let mut skipped = 0;
    for block in RSCALE.split("\n\n") {
        let line = |name: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::to_owned)
        };
        let (Some(rule), Some(start), Some(instances)) =
            (line("RRULE:"), line("DTSTART:"), line("INSTANCES:"))
        else {
            continue;
        };
        let rule = Recur::parse(&rule).unwrap();
        if !rule.is_gregorian() {
            // libical: "UNIMPLEMENTED"; here a typed error, or DTSTART alone and the reason.
            assert!(instances.contains("UNIMPLEMENTED"), "{block}");
            let dtstart = parse_ical_datetime(&start).unwrap();
            let err = RecurIter::try_new(&rule, dtstart).unwrap_err();
            assert_eq!(err.scale, "RUSSIAN");
            let mut it = RecurIter::new(&rule, dtstart);
            assert_eq!(it.unsupported_scale(), Some(&err));
            assert_eq!(it.by_ref().count(), 1);
            skipped += 1;
            continue;
        }
        let suffix = if start.ends_with('Z') { "Z" } else { "" };
        let is_date = start.len() == 8;
        let show = |d: jiff::civil::DateTime| {
            if is_date {
                d.strftime("%Y%m%d").to_string()
            } else {
                format!("{}{suffix}", d.strftime("%Y%m%dT%H%M%S"))
            }
        };
        let dtstart = parse_ical_datetime(&start).unwrap();
        let expected: Vec<&str> = instances.split(',').collect();
        let mut it = RecurIter::new(&rule, dtstart);
        if is_date {
            it = it.dates_only();
        }
        let got: Vec<String> = it.take(expected.len() + 5).map(show).collect();
        // DTSTART 20150201 is no instance of its rule: we yield it first (RFC 5545 §3.8.5.3)
        // where libical leaves it out; the rest must agree.
        let got: Vec<&str> = got.iter().map(String::as_str).collect();
        let first = show(dtstart);
        if got.first() != expected.first() && got.first() == Some(&first.as_str()) {
            assert_eq!(got[1..], expected[..expected.len() - 1], "{block}");
        } else {
            assert_eq!(got, expected, "{block}");
        }
        ran += 1;
    }
    assert_eq!((ran, skipped), (13, 1));
}

const HEBREW: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\n\
UID:purim\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20240324\r\n\
RRULE:RSCALE=HEBREW;FREQ=YEARLY;BYMONTH=6L;BYMONTHDAY=14;SKIP=FORWARD;COUNT=5\r\n\
EXRULE:RSCALE=CHINESE;FREQ=YEARLY;COUNT=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

#[test]
fn non_gregorian_scale_is_a_warning_of_the_expansion_not_gregorian_dates() {
    let calendar = ical_parse::parse(HEBREW).unwrap();
    let resolver = resolver_for(&calendar).unwrap();
    let objects = objects(&calendar, &resolver).unwrap();
    let expansion = objects[0].expand(&ExpandOptions::default());
    let warnings: Vec<(&str, bool)> = expansion
        .warnings()
        .iter()
        .map(|w| match w {
            ExpandWarning::UnsupportedScale { scale, exrule } => (scale.scale.as_str(), *exrule),
            other => panic!("unexpected warning {other:?}"),
        })
        .collect();
    assert_eq!(warnings, [("HEBREW", false), ("CHINESE", true)]);
    assert_eq!(
        expansion.warnings()[0].to_string(),
        "RRULE not expanded: unsupported calendar scale \"HEBREW\""
    );
    // DTSTART alone: no Gregorian 14th of a month that does not exist in that scale.
    let starts: Vec<String> = expansion.map(|i| i.start.to_string()).collect();
    assert_eq!(starts, ["2024-03-24"]);
}

#[test]
fn gregorian_scale_has_no_warning() {
    let text = HEBREW
        .replace(
            "RSCALE=HEBREW;FREQ=YEARLY;BYMONTH=6L;BYMONTHDAY=14",
            "RSCALE=GREGORIAN;FREQ=YEARLY",
        )
        .replace("EXRULE:RSCALE=CHINESE;FREQ=YEARLY;COUNT=2\r\n", "");
    let calendar = ical_parse::parse(&text).unwrap();
    let resolver = resolver_for(&calendar).unwrap();
    let objects = objects(&calendar, &resolver).unwrap();
    let expansion = objects[0].expand(&ExpandOptions::default());
    assert!(expansion.warnings().is_empty());
    assert_eq!(expansion.count(), 5);
}
