//! Property tests: `parse -> write -> parse` is the identity, writing is idempotent, and the
//! written form is canonical (every physical line at most 75 octets, CRLF, valid UTF-8 pieces).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::{
    Calendar, Component, ErrorKind, FOLD_AT, Parameter, ParseOptions, Property, parse_with,
};
use proptest::prelude::*;
use std::borrow::Cow;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("SUMMARY".to_owned()),
        Just("DESCRIPTION".to_owned()),
        Just("DTSTART".to_owned()),
        Just("ATTENDEE".to_owned()),
        Just("RRULE".to_owned()),
        Just("CATEGORIES".to_owned()),
        "X-[A-Z0-9-]{1,12}",
        "[A-Z][A-Z0-9-]{0,10}",
    ]
    .prop_filter("not BEGIN/END", |n| n != "BEGIN" && n != "END")
}

/// Any text without line breaks or other control characters.
fn value() -> impl Strategy<Value = String> {
    "[^\\x00-\\x1F\\x7F]{0,120}"
}

/// Parameter values may hold line breaks and quotes (RFC 6868 encodes them).
fn param_value() -> impl Strategy<Value = String> {
    "([^\\x00-\\x1F\\x7F]|\\n){0,30}"
}

fn parameter() -> impl Strategy<Value = Parameter<'static>> {
    (
        "(X-)?[A-Z][A-Z0-9-]{0,8}",
        prop::collection::vec(param_value(), 1..3),
    )
        .prop_map(|(n, vs)| Parameter::with_values(n, vs.into_iter().map(Cow::Owned).collect()))
}

fn property() -> impl Strategy<Value = Property<'static>> {
    prop_oneof![
        8 => (name(), prop::collection::vec(parameter(), 0..3), value()).prop_map(|(n, ps, v)| {
            let mut p = Property::new(n, v);
            p.params = ps.into();
            p
        }),
        1 => "[A-Z-]{1,10}=[0-9.a-z ]{0,12}".prop_map(Property::raw),
    ]
}

fn component(depth: u32) -> BoxedStrategy<Component<'static>> {
    let leaf = (
        prop_oneof![
            Just("VEVENT".to_owned()),
            Just("VALARM".to_owned()),
            "X-[A-Z]{1,6}"
        ],
        prop::collection::vec(property(), 0..6),
    )
        .prop_map(|(n, ps)| {
            let mut c = Component::new(n);
            c.properties = ps;
            c
        });
    if depth == 0 {
        return leaf.boxed();
    }
    (leaf, prop::collection::vec(component(depth - 1), 0..3))
        .prop_map(|(mut c, children)| {
            c.components = children;
            c
        })
        .boxed()
}

fn calendar() -> impl Strategy<Value = Calendar<'static>> {
    prop::collection::vec(component(2), 0..3).prop_map(|children| {
        let mut vcalendar = Component::new("VCALENDAR")
            .with_property(Property::new("VERSION", "2.0"))
            .with_property(Property::new("PRODID", "-//test//EN"));
        vcalendar.components = children;
        let mut calendar = Calendar::new();
        calendar.components.push(vcalendar);
        calendar
    })
}

/// RFC 5545 §3.6.1 and §3.6.6: properties that MUST NOT occur more than once.
const VEVENT_ONCE: &[&str] = &[
    "DTSTAMP",
    "UID",
    "DTSTART",
    "CLASS",
    "CREATED",
    "DESCRIPTION",
    "GEO",
    "LAST-MODIFIED",
    "LOCATION",
    "ORGANIZER",
    "PRIORITY",
    "SEQUENCE",
    "STATUS",
    "SUMMARY",
    "TRANSP",
    "URL",
    "RECURRENCE-ID",
    "DTEND",
    "DURATION",
    "COLOR",
];
const VALARM_ONCE: &[&str] = &["ACTION", "TRIGGER", "DURATION", "REPEAT"];

/// Second and later occurrences of once-only properties in `component` and below.
fn repeats(component: &Component<'_>) -> usize {
    let once = match component.name.as_ref() {
        "VEVENT" => VEVENT_ONCE,
        "VALARM" => VALARM_ONCE,
        _ => &[],
    };
    let here: usize = once
        .iter()
        .map(|n| component.properties_named(n).count().saturating_sub(1))
        .sum();
    here + component.components.iter().map(repeats).sum::<usize>()
}

proptest! {
    #[test]
    fn each_repeated_once_only_property_is_one_warning(calendar in calendar()) {
        let written = calendar.write();
        let parsed = parse_with(&written, &ParseOptions::lenient()).unwrap();
        let warned = parsed
            .warnings
            .iter()
            .filter(|w| matches!(w.kind, ErrorKind::DuplicateProperty { .. }))
            .count();
        let expected: usize = calendar.components.iter().map(repeats).sum();
        prop_assert_eq!(warned, expected);
        if expected > 0 {
            prop_assert!(parse_with(&written, &ParseOptions::strict()).is_err());
        }
    }

    #[test]
    fn parse_write_parse_is_identity(calendar in calendar()) {
        let written = calendar.write();
        let parsed = parse_with(&written, &ParseOptions::lenient()).unwrap();
        prop_assert_eq!(&parsed.calendar, &calendar);
        prop_assert_eq!(parsed.calendar.write(), written.clone());
        for line in written.split_terminator("\r\n") {
            prop_assert!(line.len() <= FOLD_AT, "line of {} octets", line.len());
        }
        prop_assert!(!written.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn lenient_parse_never_panics_and_round_trips(text in "(BEGIN:VCALENDAR\r?\n)?([A-Za-z;=:\"^\\\\, \t-]{0,20}\r?\n){0,12}") {
        if let Ok(parsed) = parse_with(&text, &ParseOptions::lenient()) {
            let written = parsed.calendar.write();
            let again = parse_with(&written, &ParseOptions::lenient()).unwrap();
            prop_assert_eq!(again.calendar, parsed.calendar);
        }
        let _ = parse_with(&text, &ParseOptions::strict());
    }
}

/// A fold at any byte of a line (and several folds) reads as the unfolded line: the parts a
/// fold does not cut borrow from the input, the others are copied, and the model is the same.
#[test]
fn a_fold_anywhere_reads_as_the_unfolded_line() {
    let lines = [
        r#"ATTENDEE;CUTYPE=INDIVIDUAL;CN="Doe, Jane";X-A=b:mailto:jane@example.com"#,
        r"DESCRIPTION:Agenda\nBudget\, Größe\; notes",
        "DTSTART;TZID=Europe/Berlin:20240105T090000",
    ];
    for line in lines {
        let plain = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n\
             DTSTAMP:20240101T000000Z\r\n{line}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let expected = parse_with(&plain, &ParseOptions::strict()).unwrap();
        let cuts: Vec<usize> = (1..line.len())
            .filter(|&i| line.is_char_boundary(i))
            .collect();
        for (n, &cut) in cuts.iter().enumerate() {
            // One fold at `cut`, and a second one further on with a tab.
            let second = cuts.get(n + 7).copied();
            let mut folded = format!("{}\r\n {}", &line[..cut], &line[cut..]);
            if let Some(second) = second {
                folded = format!(
                    "{}\r\n {}\r\n\t{}",
                    &line[..cut],
                    &line[cut..second],
                    &line[second..]
                );
            }
            let text = plain.replace(line, &folded);
            let parsed = parse_with(&text, &ParseOptions::strict()).unwrap();
            assert_eq!(parsed.calendar, expected.calendar, "{folded:?}");
            assert_eq!(parsed.warnings, expected.warnings, "{folded:?}");
            let lf = text.replace("\r\n", "\n");
            let lenient = parse_with(&lf, &ParseOptions::lenient()).unwrap();
            assert_eq!(lenient.calendar, expected.calendar, "{folded:?}");
        }
    }
}
