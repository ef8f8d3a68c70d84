//! libical's RFC 7529 vectors (`fixtures/corpora/libical/icalrecur_test_rscale.txt`): every
//! `RSCALE=GREGORIAN` case, with `SKIP`. Other scales (Chinese, Hebrew, ...) are not expanded
//! by this crate: those cases are listed as skipped.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::recur_vectors::parse_ical_datetime;
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
