//! The examples of RFC 5545 §3.4, §3.6 and §4 and of RFC 7986 (`tests/fixtures/rfc`, see its
//! README): each parses strictly, reads typed, and round-trips.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::value::{DateOrDateTime, PeriodEnd};
use ical_parse::{Calendar, ErrorKind, ParseOptions, Trigger, parse_strict, parse_with};

macro_rules! fixture {
    ($name:literal) => {
        ($name, include_str!(concat!("../fixtures/rfc/", $name)))
    };
}

/// The §3.6 examples: single components.
const COMPONENTS: &[(&str, &str)] = &[
    fixture!("5545-3.6.1-a-meeting.ics"),
    fixture!("5545-3.6.1-b-reminder.ics"),
    fixture!("5545-3.6.1-c-anniversary.ics"),
    fixture!("5545-3.6.1-d-multi-day.ics"),
    fixture!("5545-3.6.2-a-todo.ics"),
    fixture!("5545-3.6.2-b-todo-completed.ics"),
    fixture!("5545-3.6.3-journal.ics"),
    fixture!("5545-3.6.4-a-request.ics"),
    fixture!("5545-3.6.4-b-reply.ics"),
    fixture!("5545-3.6.4-c-publish.ics"),
    fixture!("5545-3.6.5-a-new-york-history.ics"),
    fixture!("5545-3.6.5-b-new-york-dtstart-only.ics"),
    fixture!("5545-3.6.5-c-new-york-rrule.ics"),
    fixture!("5545-3.6.5-d-fictitious-end.ics"),
    fixture!("5545-3.6.5-e-fictitious-two-rules.ics"),
    fixture!("5545-3.6.6-a-audio.ics"),
    fixture!("5545-3.6.6-b-display.ics"),
    fixture!("5545-3.6.6-c-email.ics"),
];

/// The whole iCalendar objects of §3.4, §4 and RFC 7986.
const OBJECTS: &[(&str, &str)] = &[
    fixture!("5545-3.4-simple.ics"),
    fixture!("5545-4-a-conference.ics"),
    fixture!("5545-4-b-group-meeting.ics"),
    fixture!("5545-4-c-mime.ics"),
    fixture!("5545-4-d-todo.ics"),
    fixture!("5545-4-e-journal.ics"),
    fixture!("5545-4-f-freebusy.ics"),
    fixture!("7986-5-6-properties.ics"),
];

fn wrap(component: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{component}END:VCALENDAR\r\n")
}

fn wrapped(name: &str) -> Calendar<'static> {
    parse_strict(&wrap(object(name))).unwrap().into_owned()
}

fn object(name: &str) -> &'static str {
    OBJECTS
        .iter()
        .chain(COMPONENTS)
        .find(|(n, _)| *n == name)
        .unwrap()
        .1
}

/// RFC examples that break the RFC's own grammar: strict parsing rejects them at the given
/// line and column, lenient parsing reports each deviation (the count given) and keeps the
/// value.
const ERRATA: &[(&str, u32, u32, usize, &str)] = &[
    (
        "5545-4-d-todo.ics",
        15,
        9,
        1,
        "TRIGGER:19980403T120000Z is an absolute trigger without VALUE=DATE-TIME, which \
         §3.8.6.3 requires (the default type is DURATION)",
    ),
    (
        "5545-4-f-freebusy.ics",
        4,
        1,
        2,
        "the VFREEBUSY has neither DTSTAMP nor UID, which §3.6.4 makes REQUIRED (a published \
         free/busy object without METHOD)",
    ),
];

#[test]
fn examples_with_errata_fail_strictly_at_the_mistake() {
    for (name, line, column, warnings, _why) in ERRATA {
        let text = object(name);
        let e = parse_strict(text).unwrap_err();
        assert_eq!((e.line, e.column), (*line, *column), "{name}: {e}");
        let parsed = parse_with(text, &ParseOptions::lenient()).unwrap();
        assert_eq!(parsed.warnings.len(), *warnings, "{name}");
        assert_eq!(
            (parsed.warnings[0].line, parsed.warnings[0].column),
            (*line, *column)
        );
        crate::corpora::round_trips(&parsed.calendar, name);
    }
    let freebusy = parse_strict(object("5545-4-f-freebusy.ics")).unwrap_err();
    assert_eq!(
        freebusy.kind,
        ErrorKind::MissingProperty {
            component: "VFREEBUSY".into(),
            property: "DTSTAMP"
        }
    );
    assert_eq!(
        freebusy.to_string(),
        "line 4, column 1: VFREEBUSY without DTSTAMP"
    );
    let todo = ical_parse::parse(object("5545-4-d-todo.ics")).unwrap();
    let alarm = todo.todos().next().unwrap().alarms().next().unwrap();
    assert!(matches!(
        alarm.trigger().unwrap(),
        Some(Trigger::Absolute(_))
    ));
}

#[test]
fn every_example_parses_strictly_and_round_trips() {
    for (name, text) in OBJECTS {
        if ERRATA.iter().any(|(n, ..)| n == name) {
            continue;
        }
        let calendar = parse_strict(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        crate::corpora::round_trips(&calendar, name);
    }
    for (name, text) in COMPONENTS {
        let wrapped = wrap(text);
        let calendar = parse_strict(&wrapped).unwrap_or_else(|e| panic!("{name}: {e}"));
        crate::corpora::round_trips(&calendar, name);
        // Bare, as printed: strict wants a VCALENDAR, lenient says so and keeps the component.
        let e = parse_strict(text).unwrap_err();
        assert_eq!(
            (e.line, e.kind.clone()),
            (1, ErrorKind::OutsideCalendar(bare_name(text)))
        );
        let parsed = parse_with(text, &ParseOptions::lenient()).unwrap();
        assert_eq!(parsed.warnings.len(), 1, "{name}: {:?}", parsed.warnings);
        assert_eq!(
            parsed.calendar.components,
            calendar.components[0].components
        );
    }
}

fn bare_name(text: &str) -> String {
    text.lines()
        .next()
        .unwrap()
        .trim_start_matches("BEGIN:")
        .to_owned()
}

#[test]
fn unfolded_examples_are_reproduced_byte_for_byte() {
    for name in [
        "5545-3.4-simple.ics",
        "5545-4-f-freebusy.ics",
        "5545-4-b-group-meeting.ics",
    ] {
        let text = object(name);
        // The free/busy example lacks DTSTAMP and UID (see ERRATA): read it leniently.
        let calendar = parse_with(text, &ParseOptions::lenient()).unwrap().calendar;
        if text.lines().all(|l| !l.starts_with(' ')) {
            assert_eq!(calendar.write(), text, "{name}");
        } else {
            // Folded as printed (not at 75 octets): the same content, refolded.
            assert_eq!(parse_strict(&calendar.write()).unwrap(), calendar, "{name}");
        }
    }
}

#[test]
fn typed_views_read_the_examples() {
    let conference = parse_strict(object("5545-4-a-conference.ics")).unwrap();
    let event = conference.events().next().unwrap();
    assert_eq!(
        event.description().unwrap(),
        "Networld+Interop Conference and Exhibit\nAtlanta World Congress Center\nAtlanta, Georgia"
    );
    assert_eq!(event.categories(), ["CONFERENCE"]);

    let meeting = parse_strict(object("5545-4-b-group-meeting.ics")).unwrap();
    let event = meeting.events().next().unwrap();
    let start = event.dtstart().unwrap().unwrap();
    assert_eq!(start.tzid, Some("America/New_York"));
    let vcal = meeting.vcalendars().next().unwrap();
    let zone = vcal.timezone("America/New_York").unwrap();
    assert_eq!(zone.rules().count(), 2);
    assert_eq!(
        event.attendees().next().unwrap().raw_value,
        "mailto:employee-A@example.com"
    );

    let anniversary = wrapped("5545-3.6.1-c-anniversary.ics");
    let event = anniversary.events().next().unwrap();
    assert!(event.dtstart().unwrap().unwrap().value.is_date());
    assert_eq!(event.rrule().unwrap().unwrap().to_string(), "FREQ=YEARLY");
    assert_eq!(
        event.categories(),
        ["ANNIVERSARY", "PERSONAL", "SPECIAL OCCASION"]
    );
    // A DATE start without DTEND lasts one day (§3.6.1).
    let end = event.end().unwrap().unwrap();
    assert_eq!(end.to_string(), "19971103");

    let todo = wrapped("5545-3.6.2-a-todo.ics");
    assert!(
        todo.todos()
            .next()
            .unwrap()
            .due()
            .unwrap()
            .unwrap()
            .value
            .is_date()
    );

    let reply = wrapped("5545-3.6.4-b-reply.ics");
    let fb = ical_parse::VFreeBusy::new(&reply.components[0].components[0]).unwrap();
    let periods = fb.periods().unwrap();
    assert_eq!(periods.len(), 3);
    assert!(
        periods
            .iter()
            .all(|(p, t)| matches!(p.end, PeriodEnd::Duration(_)) && *t == "BUSY")
    );

    let history = wrapped("5545-3.6.5-a-new-york-history.ics");
    let zone = history.timezones().next().unwrap();
    let rules: Vec<_> = zone.rules().collect();
    assert_eq!(rules.len(), 7);
    assert_eq!(
        rules[2]
            .0
            .property("RDATE")
            .unwrap()
            .date_times()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        rules[0].offset_from().unwrap().unwrap().to_string(),
        "-0500"
    );

    let audio = wrapped("5545-3.6.6-a-audio.ics");
    let alarm = ical_parse::VAlarm::new(&audio.components[0].components[0]).unwrap();
    assert!(
        matches!(alarm.trigger().unwrap(), Some(Trigger::Absolute(DateOrDateTime::DateTime(t))) if t.utc)
    );
    assert_eq!(alarm.repeat().unwrap(), 4);
    let email = wrapped("5545-3.6.6-c-email.ics");
    let alarm = ical_parse::VAlarm::new(&email.components[0].components[0]).unwrap();
    let Some(Trigger::Relative { offset, from_end }) = alarm.trigger().unwrap() else {
        panic!("relative trigger expected")
    };
    assert!(from_end);
    assert_eq!(offset.signed_seconds(), -2 * 86_400);

    let rfc7986 = parse_strict(object("7986-5-6-properties.ics")).unwrap();
    let vcal = rfc7986.vcalendars().next().unwrap();
    assert_eq!(vcal.name().as_deref(), Some("Company Vacation Days"));
    assert_eq!(vcal.color().as_deref(), Some("turquoise"));
    let refresh = vcal.0.property("REFRESH-INTERVAL").unwrap();
    assert_eq!(refresh.duration().unwrap().signed_seconds(), 7 * 86_400);
    let event = rfc7986.events().next().unwrap();
    let conference: Vec<_> = event.0.properties_named("CONFERENCE").collect();
    assert_eq!(conference.len(), 7);
    assert_eq!(
        conference[0].param("FEATURE").unwrap().values,
        ["PHONE", "MODERATOR"]
    );
    assert_eq!(
        conference[0].param_value("LABEL"),
        Some("Moderator dial-in")
    );
    assert_eq!(conference[0].raw_value, "tel:+1-412-555-0123,,,654321");
}

#[test]
fn rfc7986_label_example_as_printed_breaks_the_grammar() {
    let text = include_str!("../fixtures/rfc/7986-6.4-label-erratum.ics");
    let e = parse_strict(text).unwrap_err();
    assert_eq!((e.line, e.column), (9, 2), "{e}");
    let parsed = parse_with(text, &ParseOptions::lenient()).unwrap();
    assert_eq!(parsed.warnings[0].kind, ErrorKind::UnreadableLine);
    let event = parsed.calendar.events().next().unwrap();
    let raw = event.0.properties.iter().find(|p| p.is_raw()).unwrap();
    assert!(
        raw.raw_value
            .starts_with("CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=")
    );
    let written = parsed.calendar.write();
    let again: Calendar<'_> = ical_parse::parse(&written).unwrap();
    assert_eq!(again, parsed.calendar);
}
