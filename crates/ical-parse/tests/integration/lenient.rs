//! Each deviation real producers send: lenient parsing forgives it with a positioned warning
//! and loses nothing; strict parsing rejects it with line, column and what was expected.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::{ErrorKind, Limit, Limits, ParseOptions, parse_bytes_with};

const HEAD: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n";
const TAIL: &str = "END:VCALENDAR\r\n";

fn event(body: &str) -> String {
    format!("{HEAD}BEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20240101T000000Z\r\n{body}END:VEVENT\r\n{TAIL}")
}

/// `SUMMARY:café` folded between the two bytes of `é`.
fn split_utf8() -> Vec<u8> {
    let text = event("SUMMARY:caf\u{e9}\r\n");
    let mut bytes = Vec::new();
    for chunk in text.split("\u{e9}") {
        if !bytes.is_empty() {
            bytes.extend_from_slice(b"\xC3\r\n \xA9");
        }
        bytes.extend_from_slice(chunk.as_bytes());
    }
    bytes
}

/// (case, input, line, column, kind): strict fails there, lenient warns there.
fn cases() -> Vec<(&'static str, Vec<u8>, u32, u32, ErrorKind)> {
    vec![
        (
            "bare LF",
            event("").replace("\r\n", "\n").into_bytes(),
            1,
            16,
            ErrorKind::BareLf,
        ),
        (
            "fold inside a UTF-8 sequence",
            split_utf8(),
            8,
            2,
            ErrorKind::FoldInsideUtf8,
        ),
        (
            "byte order mark",
            format!("\u{feff}{}", event("")).into_bytes(),
            1,
            1,
            ErrorKind::ByteOrderMark,
        ),
        (
            "blank line",
            event("\r\n").into_bytes(),
            7,
            1,
            ErrorKind::BlankLine,
        ),
        (
            "trailing whitespace after a component name",
            event("").replace("END:VEVENT", "END:VEVENT  ").into_bytes(),
            7,
            5,
            ErrorKind::Whitespace("a component name"),
        ),
        (
            "whitespace around ; and =",
            event("DTSTART ;TZID = Europe/Paris:20240101T100000\r\n").into_bytes(),
            7,
            8,
            ErrorKind::Whitespace("a name"),
        ),
        (
            "Apple's NAME=value line",
            event("X-APPLE-RADIUS=49.91307046514149\r\n").into_bytes(),
            7,
            15,
            ErrorKind::UnreadableLine,
        ),
        (
            "bare VEVENT",
            b"BEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\n".to_vec(),
            1,
            7,
            ErrorKind::OutsideCalendar("VEVENT".into()),
        ),
        (
            "missing VERSION",
            format!("BEGIN:VCALENDAR\r\nPRODID:x\r\n{TAIL}").into_bytes(),
            1,
            1,
            ErrorKind::MissingProperty {
                component: "VCALENDAR".into(),
                property: "VERSION",
            },
        ),
        (
            "UTC DTSTART with TZID",
            event("DTSTART;TZID=Europe/Paris:20240101T100000Z\r\n").into_bytes(),
            7,
            27,
            ErrorKind::UtcWithTzid,
        ),
        (
            "truncated file",
            event("")
                .replace("END:VEVENT\r\nEND:VCALENDAR\r\n", "")
                .into_bytes(),
            4,
            1,
            ErrorKind::MissingEnd("VEVENT".into()),
        ),
        (
            "invalid DATE-TIME",
            event("DTSTART:2024-01-01\r\n").into_bytes(),
            7,
            9,
            ErrorKind::InvalidValue {
                value_type: ical_parse::value::ValueType::DateTime,
                reason: "expected YYYYMMDDTHHMMSS[Z]",
            },
        ),
        (
            "invalid TEXT escape",
            event("SUMMARY:a\\:b\r\n").into_bytes(),
            7,
            10,
            ErrorKind::Expected(r"an escape \\ \; \, or \n"),
        ),
        (
            "VEVENT without DTSTAMP (§3.6.1)",
            event("")
                .replace("DTSTAMP:20240101T000000Z\r\n", "")
                .into_bytes(),
            4,
            1,
            missing("VEVENT", "DTSTAMP"),
        ),
        (
            "VTODO without UID (§3.6.2)",
            format!("{HEAD}BEGIN:VTODO\r\nDTSTAMP:20240101T000000Z\r\nEND:VTODO\r\n{TAIL}")
                .into_bytes(),
            4,
            1,
            missing("VTODO", "UID"),
        ),
        (
            "VJOURNAL without DTSTAMP (§3.6.3)",
            format!("{HEAD}BEGIN:VJOURNAL\r\nUID:j\r\nEND:VJOURNAL\r\n{TAIL}").into_bytes(),
            4,
            1,
            missing("VJOURNAL", "DTSTAMP"),
        ),
        (
            "VFREEBUSY without UID (§3.6.4)",
            format!("{HEAD}BEGIN:VFREEBUSY\r\nDTSTAMP:20240101T000000Z\r\nEND:VFREEBUSY\r\n{TAIL}")
                .into_bytes(),
            4,
            1,
            missing("VFREEBUSY", "UID"),
        ),
        (
            "second SUMMARY",
            event("SUMMARY:a\r\nLOCATION:x\r\nSUMMARY:b\r\n").into_bytes(),
            9,
            1,
            ErrorKind::DuplicateProperty {
                component: "VEVENT".into(),
                property: "SUMMARY".into(),
            },
        ),
        (
            "second UID",
            event("UID:2\r\n").into_bytes(),
            7,
            1,
            ErrorKind::DuplicateProperty {
                component: "VEVENT".into(),
                property: "UID".into(),
            },
        ),
        (
            "second VERSION",
            format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nVERSION:2.0\r\nPRODID:x\r\n{TAIL}")
                .into_bytes(),
            3,
            1,
            ErrorKind::DuplicateProperty {
                component: "VCALENDAR".into(),
                property: "VERSION".into(),
            },
        ),
        (
            "DTEND and DURATION (§3.6.1)",
            event("DTSTART:20240101T100000Z\r\nDTEND:20240101T110000Z\r\nDURATION:PT1H\r\n")
                .into_bytes(),
            9,
            1,
            ErrorKind::ExclusiveProperties {
                component: "VEVENT".into(),
                first: "DTEND",
                second: "DURATION",
            },
        ),
        (
            "VALARM without TRIGGER (§3.6.6)",
            event("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nEND:VALARM\r\n").into_bytes(),
            7,
            1,
            missing("VALARM", "TRIGGER"),
        ),
        (
            "VALARM with DURATION but no REPEAT (§3.6.6)",
            event(
                "BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT5M\r\nDURATION:PT1M\r\n\
                 END:VALARM\r\n",
            )
            .into_bytes(),
            7,
            1,
            missing("VALARM", "REPEAT"),
        ),
        (
            "DISPLAY VALARM without DESCRIPTION (§3.6.6 dispprop)",
            event("BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n").into_bytes(),
            7,
            1,
            missing("VALARM", "DESCRIPTION"),
        ),
        (
            "DISPLAY VALARM with a second DESCRIPTION (§3.6.6 dispprop)",
            event(
                "BEGIN:VALARM\r\naction:display\r\nTRIGGER:-PT5M\r\nDESCRIPTION:a\r\n\
                 DESCRIPTION:b\r\nEND:VALARM\r\n",
            )
            .into_bytes(),
            11,
            1,
            ErrorKind::DuplicateProperty {
                component: "VALARM".into(),
                property: "DESCRIPTION".into(),
            },
        ),
        (
            "EMAIL VALARM without SUMMARY (§3.6.6 emailprop)",
            event(
                "BEGIN:VALARM\r\nACTION:EMAIL\r\nTRIGGER:-PT5M\r\nDESCRIPTION:d\r\n\
                 ATTENDEE:mailto:a@example.com\r\nEND:VALARM\r\n",
            )
            .into_bytes(),
            7,
            1,
            missing("VALARM", "SUMMARY"),
        ),
        (
            "EMAIL VALARM without ATTENDEE (§3.6.6 emailprop)",
            event(
                "BEGIN:VALARM\r\nTRIGGER:-PT5M\r\nDESCRIPTION:d\r\nSUMMARY:s\r\n\
                 ACTION:EMAIL\r\nEND:VALARM\r\n",
            )
            .into_bytes(),
            7,
            1,
            missing("VALARM", "ATTENDEE"),
        ),
        (
            "AUDIO VALARM with a second ATTACH (§3.6.6 audioprop)",
            event(
                "BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT5M\r\n\
                 ATTACH:https://example.com/a.aud\r\nATTACH:https://example.com/b.aud\r\n\
                 END:VALARM\r\n",
            )
            .into_bytes(),
            11,
            1,
            ErrorKind::DuplicateProperty {
                component: "VALARM".into(),
                property: "ATTACH".into(),
            },
        ),
        (
            "VAVAILABILITY without UID (RFC 7953 §3.1)",
            format!(
                "{HEAD}BEGIN:VAVAILABILITY\r\nDTSTAMP:20240101T000000Z\r\nEND:VAVAILABILITY\r\n{TAIL}"
            )
            .into_bytes(),
            4,
            1,
            missing("VAVAILABILITY", "UID"),
        ),
        (
            "VAVAILABILITY with DURATION but no DTSTART (RFC 7953 §3.1)",
            format!(
                "{HEAD}BEGIN:VAVAILABILITY\r\nUID:a\r\nDTSTAMP:20240101T000000Z\r\n\
                 DURATION:P7D\r\nEND:VAVAILABILITY\r\n{TAIL}"
            )
            .into_bytes(),
            4,
            1,
            missing("VAVAILABILITY", "DTSTART"),
        ),
        (
            "VAVAILABILITY with a second BUSYTYPE (RFC 7953 §3.1)",
            format!(
                "{HEAD}BEGIN:VAVAILABILITY\r\nUID:a\r\nDTSTAMP:20240101T000000Z\r\n\
                 BUSYTYPE:BUSY\r\nBUSYTYPE:BUSY-UNAVAILABLE\r\nEND:VAVAILABILITY\r\n{TAIL}"
            )
            .into_bytes(),
            8,
            1,
            ErrorKind::DuplicateProperty {
                component: "VAVAILABILITY".into(),
                property: "BUSYTYPE".into(),
            },
        ),
        (
            "AVAILABLE without DTSTART (RFC 7953 §3.1.1)",
            format!(
                "{HEAD}BEGIN:VAVAILABILITY\r\nUID:a\r\nDTSTAMP:20240101T000000Z\r\n\
                 BEGIN:AVAILABLE\r\nUID:b\r\nDTSTAMP:20240101T000000Z\r\n\
                 DTEND:20240101T170000Z\r\nEND:AVAILABLE\r\nEND:VAVAILABILITY\r\n{TAIL}"
            )
            .into_bytes(),
            7,
            1,
            missing("AVAILABLE", "DTSTART"),
        ),
        (
            "AVAILABLE with DTEND and DURATION (RFC 7953 §3.1.1)",
            format!(
                "{HEAD}BEGIN:VAVAILABILITY\r\nUID:a\r\nDTSTAMP:20240101T000000Z\r\n\
                 BEGIN:AVAILABLE\r\nUID:b\r\nDTSTAMP:20240101T000000Z\r\n\
                 DTSTART:20240101T090000Z\r\nDTEND:20240101T170000Z\r\nDURATION:PT8H\r\n\
                 END:AVAILABLE\r\nEND:VAVAILABILITY\r\n{TAIL}"
            )
            .into_bytes(),
            12,
            1,
            ErrorKind::ExclusiveProperties {
                component: "AVAILABLE".into(),
                first: "DTEND",
                second: "DURATION",
            },
        ),
        (
            "VTIMEZONE without STANDARD or DAYLIGHT (§3.6.5)",
            format!("{HEAD}BEGIN:VTIMEZONE\r\nTZID:X\r\nEND:VTIMEZONE\r\n{TAIL}").into_bytes(),
            4,
            1,
            ErrorKind::MissingComponent {
                component: "VTIMEZONE".into(),
                expected: "STANDARD or DAYLIGHT",
            },
        ),
        (
            "STANDARD without TZOFFSETFROM (§3.6.5)",
            format!(
                "{HEAD}BEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:STANDARD\r\n\
                 DTSTART:19700101T000000\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n\
                 END:VTIMEZONE\r\n{TAIL}"
            )
            .into_bytes(),
            6,
            1,
            missing("STANDARD", "TZOFFSETFROM"),
        ),
    ]
}

fn missing(component: &str, property: &'static str) -> ErrorKind {
    ErrorKind::MissingProperty {
        component: component.into(),
        property,
    }
}

#[test]
fn strict_rejects_each_deviation_at_its_position() {
    for (case, input, line, column, kind) in cases() {
        let e = parse_bytes_with(&input, &ParseOptions::strict()).unwrap_err();
        assert_eq!((e.line, e.column), (line, column), "{case}: {e}");
        // Strict names the same deviation, or what its grammar expected there instead.
        assert!(
            e.kind == kind || matches!(e.kind, ErrorKind::Expected(_)),
            "{case}: {e}"
        );
    }
}

#[test]
fn lenient_forgives_each_deviation_reports_it_and_round_trips() {
    for (case, input, line, column, kind) in cases() {
        let parsed = parse_bytes_with(&input, &ParseOptions::lenient()).unwrap();
        assert!(
            parsed
                .warnings
                .iter()
                .any(|w| (w.line, w.column, &w.kind) == (line, column, &kind)),
            "{case}: {:?}",
            parsed.warnings
        );
        crate::corpora::round_trips(&parsed.calendar, case);
    }
}

#[test]
fn lenient_reads_what_it_forgave() {
    let bytes = split_utf8();
    let parsed = parse_bytes_with(&bytes, &ParseOptions::lenient()).unwrap();
    assert_eq!(
        parsed.calendar.events().next().unwrap().summary().unwrap(),
        "café"
    );

    let text = event("DTSTART ;TZID = Europe/Paris:20240101T100000\r\n");
    let parsed = parse_bytes_with(text.as_bytes(), &ParseOptions::lenient()).unwrap();
    let start = parsed
        .calendar
        .events()
        .next()
        .unwrap()
        .dtstart()
        .unwrap()
        .unwrap();
    assert_eq!(start.tzid, Some("Europe/Paris"));

    // A raw line is kept and written back where it was.
    let text = event("X-APPLE-RADIUS=49.9\r\n");
    let parsed = parse_bytes_with(text.as_bytes(), &ParseOptions::lenient()).unwrap();
    assert!(
        parsed
            .calendar
            .write()
            .contains("\r\nX-APPLE-RADIUS=49.9\r\n")
    );
}

#[test]
fn occurrence_errors_name_component_and_property() {
    let text = event("").replace("DTSTAMP:20240101T000000Z\r\n", "");
    let e = parse_bytes_with(text.as_bytes(), &ParseOptions::strict()).unwrap_err();
    assert_eq!(e.to_string(), "line 4, column 1: VEVENT without DTSTAMP");
    let text = event("SUMMARY:a\r\nSUMMARY:b\r\n");
    let e = parse_bytes_with(text.as_bytes(), &ParseOptions::strict()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 8, column 1: SUMMARY more than once in VEVENT"
    );
    // Lenient: one warning each, everything kept.
    let text = event("SUMMARY:a\r\nSUMMARY:b\r\nSUMMARY:c\r\n").replace("UID:1\r\n", "");
    let parsed = parse_bytes_with(text.as_bytes(), &ParseOptions::lenient()).unwrap();
    let found: Vec<_> = parsed.warnings.iter().map(|w| w.line).collect();
    assert_eq!(found, [7, 8, 4]);
    assert_eq!(parsed.calendar.write(), text);
    // Properties that may repeat, and X- names, do not count.
    let text = event("ATTENDEE:mailto:a@x\r\nATTENDEE:mailto:b@x\r\nX-A:1\r\nX-A:2\r\n");
    assert!(ical_parse::parse_strict(&text).is_ok());
}

#[test]
fn legal_variants_pass_strictly() {
    // Names are case-insensitive (§3.1): lowercase names, parameter names and component
    // names are legal, pass silently in both modes, and are written back in uppercase.
    let text = event("dtstart;tzid=Europe/Paris:20240101T100000\r\n")
        .replace("UID:1", "uid:1")
        .replace("BEGIN:VEVENT", "begin:vevent")
        .replace("END:VEVENT", "End:vEvent");
    for options in [ParseOptions::strict(), ParseOptions::lenient()] {
        let parsed = parse_bytes_with(text.as_bytes(), &options).unwrap();
        assert_eq!(parsed.warnings, []);
        let written = parsed.calendar.write();
        assert_eq!(
            written,
            event("DTSTART;TZID=Europe/Paris:20240101T100000\r\n")
        );
        let vevent = parsed.calendar.events().next().unwrap();
        assert_eq!(vevent.uid().as_deref(), Some("1"));
        assert_eq!(
            vevent.component().property("DTSTART").unwrap().tzid(),
            Some("Europe/Paris")
        );
    }
    // Several VCALENDARs make one stream (§3.4), X- and unregistered names, empty values.
    let text = format!(
        "{}{}",
        event("X-ANYTHING;X-P=1:\r\nFUTURE-PROP;NEWPARAM=x:\r\nSUMMARY:\r\n"),
        event("")
    );
    let calendar = ical_parse::parse_strict(&text).unwrap();
    assert_eq!(calendar.vcalendars().count(), 2);
    assert_eq!(calendar.write(), text);
}

#[test]
fn limits_stop_the_parse_with_an_error() {
    let text = event("SUMMARY:x\r\nSUMMARY:y\r\n");
    let mut limits = Limits::default();
    limits.max_properties_per_component = 3;
    let e = parse_bytes_with(
        text.as_bytes(),
        &ParseOptions::lenient().with_limits(limits),
    )
    .unwrap_err();
    assert_eq!(
        (e.line, e.kind),
        (8, ErrorKind::LimitExceeded(Limit::PropertiesPerComponent))
    );
    let mut limits = Limits::default();
    limits.max_line_bytes = 20;
    let e = parse_bytes_with(
        text.as_bytes(),
        &ParseOptions::lenient().with_limits(limits),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::LimitExceeded(Limit::LineBytes));
    let mut limits = Limits::default();
    limits.max_components = 1;
    let e = parse_bytes_with(
        text.as_bytes(),
        &ParseOptions::lenient().with_limits(limits),
    )
    .unwrap_err();
    assert_eq!(
        (e.line, e.kind),
        (4, ErrorKind::LimitExceeded(Limit::Components))
    );
    let deep = "BEGIN:X\r\n".repeat(100);
    let e = parse_bytes_with(deep.as_bytes(), &ParseOptions::lenient()).unwrap_err();
    assert_eq!(
        (e.line, e.kind),
        (17, ErrorKind::LimitExceeded(Limit::Depth))
    );
}

/// RFC 5545 §3.6.6 and RFC 7953 §3.1: what each alarm action and an availability needs, and
/// no more: complete alarms of each action, an X- action, and an availability with its
/// AVAILABLE periods pass strict parsing.
#[test]
fn strict_accepts_complete_alarms_and_availability() {
    let alarms = event(
        "BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n\
         BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT5M\r\nATTACH:https://example.com/a\r\n\
         DURATION:PT1M\r\nREPEAT:2\r\nEND:VALARM\r\n\
         BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nDESCRIPTION:d\r\nEND:VALARM\r\n\
         BEGIN:VALARM\r\nACTION:EMAIL\r\nTRIGGER:-PT5M\r\nDESCRIPTION:d\r\nSUMMARY:s\r\n\
         ATTENDEE:mailto:a@example.com\r\nATTENDEE:mailto:b@example.com\r\n\
         ATTACH:https://example.com/1\r\nATTACH:https://example.com/2\r\nEND:VALARM\r\n\
         BEGIN:VALARM\r\nACTION:X-SPEAK\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n",
    );
    let parsed = parse_bytes_with(alarms.as_bytes(), &ParseOptions::strict()).unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let availability = format!(
        "{HEAD}BEGIN:VAVAILABILITY\r\nUID:a\r\nDTSTAMP:20240101T000000Z\r\n\
         DTSTART:20240101T000000Z\r\nDURATION:P30D\r\nBUSYTYPE:BUSY\r\nCOMMENT:1\r\nCOMMENT:2\r\n\
         BEGIN:AVAILABLE\r\nUID:b\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T090000Z\r\n\
         DTEND:20240101T170000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\n\
         EXDATE:20240102T090000Z\r\nEXDATE:20240103T090000Z\r\nEND:AVAILABLE\r\n\
         BEGIN:AVAILABLE\r\nUID:c\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240106T090000Z\r\n\
         END:AVAILABLE\r\nEND:VAVAILABILITY\r\n{TAIL}"
    );
    let parsed = parse_bytes_with(availability.as_bytes(), &ParseOptions::strict()).unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}
