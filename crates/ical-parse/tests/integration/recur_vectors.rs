//! Conformance ports for single rules: python-dateutil's suite and libical's regression file
//! (`fixtures/corpora`, see its MANIFEST), run through [`RecurIter`].
//!
//! Rule sets (RDATE/EXDATE/EXRULE) and zone-aware cases of the dateutil file run in
//! `expand_vectors.rs`.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::recur::{Recur, RecurIter};
use jiff::civil::DateTime;
use serde_json::Value;

const DATEUTIL: &str = include_str!("../../../../fixtures/corpora/rrule-vectors.json");
const LIBICAL: &str = include_str!("../../../../fixtures/corpora/libical/icalrecur-vectors.json");

/// Parses `DTSTART:19970902T090000` (floating only; zone-aware lines return `None`).
pub(crate) fn floating_dtstart(line: &str) -> Option<DateTime> {
    let value = line.strip_prefix("DTSTART:")?;
    parse_ical_datetime(value)
}

/// `19970902T090000` or `19970902` (as midnight).
pub(crate) fn parse_ical_datetime(value: &str) -> Option<DateTime> {
    let n = |r: std::ops::Range<usize>| value.get(r)?.parse::<i16>().ok();
    let date = jiff::civil::Date::new(n(0..4)?, n(4..6)? as i8, n(6..8)? as i8).ok()?;
    if value.len() == 8 {
        return Some(date.at(0, 0, 0, 0));
    }
    Some(date.at(n(9..11)? as i8, n(11..13)? as i8, n(13..15)? as i8, 0))
}

/// Runs a rule: every instance when the rule ends by itself, else as many as expected.
fn expand(rule: &Recur, start: DateTime, expected: usize) -> Vec<String> {
    let it = RecurIter::new(rule, start);
    let take = if rule.count.is_some() || rule.until.is_some() {
        expected + 1000
    } else {
        expected
    };
    it.take(take).map(|d| d.to_string()).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Where dateutil's reading differs from ours, by case id.
const DATEUTIL_DIVERGENCES: &[(&str, &str)] = &[(
    "RRuleTest.testYearlyByWeekNo",
    "YEARLY;BYWEEKNO without BYDAY: we take DTSTART's weekday (§3.3.10: what the rule leaves \
     out comes from DTSTART, as for BYMONTH alone; libical agrees), dateutil every day of the \
     week; the case is also unsynchronized, so RFC-undefined",
)];

#[test]
fn dateutil_single_rules() {
    let doc: Value = serde_json::from_str(DATEUTIL).unwrap();
    let mut ran = 0;
    let mut skipped: Vec<(String, &str)> = Vec::new();
    let mut failures = Vec::new();
    for case in doc["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        // The MANIFEST's flags: a DTSTART that is not an instance of its rule makes the set
        // RFC-undefined; BYEASTER, BYWEEKDAY and parts RFC 5545 forbids for the FREQ are not
        // RFC 5545.
        if case["rfc5545_invalid"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            skipped.push((id.to_owned(), "rule not valid RFC 5545 (rfc5545_invalid)"));
            continue;
        }
        let unsynchronized = case["dtstart_synchronized"] == Value::Bool(false);
        if unsynchronized {
            // RFC 5545 calls the set undefined; it is still run below the way RFC-style
            // engines read it (DTSTART first and counted, then dateutil's instances), but not
            // counted as a conformance case.
            skipped.push((
                id.to_owned(),
                "dtstart not synchronized: RFC 5545 undefined",
            ));
        }
        let kind = case["kind"].as_str().unwrap();
        if !matches!(kind, "rrule" | "rrule(exec)" | "rrulestr") {
            continue; // rule sets: expand_vectors.rs
        }
        let start = match case["dtstart_line"].as_str() {
            Some(line) => floating_dtstart(line),
            None => case["dtstart"].as_str().and_then(|s| s.parse().ok()),
        };
        let Some(start) = start.filter(|_| case["tzid"].is_null()) else {
            continue; // zone-aware: expand_vectors.rs
        };
        let Some(rule_text) = case["rrule"].as_str() else {
            continue; // an rrulestr input that holds a set: expand_vectors.rs
        };
        let rule = Recur::parse(rule_text).unwrap();
        let expected = strings(&case["expected"]);
        let got = expand(&rule, start, expected.len());
        ran += usize::from(!unsynchronized);
        let counted = rule.count.is_some() || rule.until.is_none();
        if compare(&start.to_string(), &got, &expected, counted) == Outcome::Fail {
            eprintln!("{id} {rule_text}: got {got:?}\nwant {expected:?}");
            failures.push(id.to_owned());
        }
    }
    let known: Vec<&str> = DATEUTIL_DIVERGENCES.iter().map(|(id, _)| *id).collect();
    assert_eq!(failures, known);
    assert!(ran >= 50, "ran {ran}");
    assert!(skipped.len() >= 190, "skipped {}", skipped.len());
}

/// How a vector case compares with our expansion.
#[derive(Debug, PartialEq)]
enum Outcome {
    Pass,
    /// DTSTART is not an instance of the rule (RFC 5545 calls the set undefined): we yield it
    /// first and count it, as §3.8.5.3 says; the rest equals the expected list.
    PassUnsynchronized,
    Fail,
}

fn compare(start: &str, got: &[String], expected: &[String], counted: bool) -> Outcome {
    if got == expected {
        return Outcome::Pass;
    }
    if got.first().map(String::as_str) == Some(start) && !expected.iter().any(|e| e == start) {
        let rest = got.get(1..).unwrap_or_default();
        let want = if counted {
            expected
                .get(..expected.len().saturating_sub(1))
                .unwrap_or_default()
        } else {
            expected
        };
        if rest == want {
            return Outcome::PassUnsynchronized;
        }
    }
    Outcome::Fail
}

/// Where libical's reading differs from RFC 5545 as dateutil reads it, by case id.
const LIBICAL_DIVERGENCES: &[(&str, &str)] = &[
    (
        "libical#77",
        "YEARLY;BYMONTHDAY without BYMONTH: RFC 5545 expands to every month, libical keeps \
         DTSTART's month",
    ),
    ("libical#78", "as libical#77, with negative BYMONTHDAY"),
    (
        "libical#80",
        "libical marks this case unimplemented (its INSTANCES line is a marker)",
    ),
    (
        "libical#143",
        "YEARLY;BYWEEKNO;INTERVAL: libical steps ISO week-numbering years, RFC 5545 periods \
         are calendar years (DTSTART 2010-01-02 lies in week 53 of 2009)",
    ),
    ("libical#144", "as libical#143"),
    (
        "libical#146",
        "as libical#143 (DTSTART 2024-12-31 lies in week 1 of 2025)",
    ),
];

#[test]
fn libical_regression_vectors() {
    let doc: Value = serde_json::from_str(LIBICAL).unwrap();
    let mut failures = Vec::new();
    let mut unsynchronized = 0;
    for case in doc["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let rule_text = case["rrule"].as_str().unwrap();
        let line = case["dtstart_line"].as_str().unwrap();
        let is_date = line.len() == "DTSTART:19970902".len();
        let start = floating_dtstart(line).unwrap();
        let rule = Recur::parse(rule_text).unwrap();
        let expected = strings(&case["expected"]);
        let mut it = RecurIter::new(&rule, start);
        if is_date {
            it = it.dates_only();
        }
        if let Some(at) = case["start_at"].as_str().and_then(parse_ical_datetime) {
            it.skip_to(at);
        }
        let open = case["open_ended"].as_bool().unwrap();
        let show = |d: DateTime| {
            if is_date {
                d.date().to_string()
            } else {
                d.to_string()
            }
        };
        let got: Vec<String> = it
            .take(if open {
                expected.len()
            } else {
                expected.len() + 1000
            })
            .map(show)
            .collect();
        match compare(&show(start), &got, &expected, rule.count.is_some() || open) {
            Outcome::Pass => {}
            Outcome::PassUnsynchronized => unsynchronized += 1,
            Outcome::Fail => {
                eprintln!(
                    "{id} {rule_text} {line} {:?}\n got {got:?}\nwant {expected:?}",
                    case["comment"]
                );
                failures.push(id.to_owned());
            }
        }
    }
    let known: Vec<String> = LIBICAL_DIVERGENCES
        .iter()
        .map(|(id, _)| (*id).to_owned())
        .collect();
    assert_eq!(failures, known);
    assert!(unsynchronized < 20, "{unsynchronized}");
}
