//! iTIP (RFC 5546): the §4 examples validate, the builders reproduce them, and every required
//! row of the §3 tables is enforced (`fixtures/rfc5546/`).

use caldav_model::Error;
use caldav_model::itip::{
    ItipMessage, Method, PartStat, Rule, ScheduleAgent, attendees, set_partstat,
    set_schedule_agent, validate,
};
use ical_parse::{Calendar, ParseOptions};
use jiff::Timestamp;
use proptest::prelude::*;

const PUBLISH: &str = include_str!("../fixtures/rfc5546/publish_4.1.1.ics");
const REQUEST: &str = include_str!("../fixtures/rfc5546/request_4.2.1.ics");
const REPLY: &str = include_str!("../fixtures/rfc5546/reply_4.2.2.ics");
const REFRESH: &str = include_str!("../fixtures/rfc5546/refresh_4.2.6.ics");
const COUNTER: &str = include_str!("../fixtures/rfc5546/counter_4.2.7.ics");
const DECLINECOUNTER: &str = include_str!("../fixtures/rfc5546/declinecounter_4.2.8.ics");
const CANCEL: &str = include_str!("../fixtures/rfc5546/cancel_4.2.9.ics");
const ADD: &str = include_str!("../fixtures/rfc5546/add_4.3.2.ics");
const TODO_REQUEST: &str = include_str!("../fixtures/rfc5546/request_vtodo_4.4.1.ics");

fn cal(text: &str) -> Calendar<'_> {
    ical_parse::parse_with(text, &ParseOptions::lenient())
        .unwrap()
        .calendar
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn rfc_examples_validate_with_their_method() {
    for (text, method) in [
        (PUBLISH, Method::Publish),
        (REQUEST, Method::Request),
        (REPLY, Method::Reply),
        (REFRESH, Method::Refresh),
        (COUNTER, Method::Counter),
        (DECLINECOUNTER, Method::DeclineCounter),
        (CANCEL, Method::Cancel),
        (ADD, Method::Add),
        (TODO_REQUEST, Method::Request),
    ] {
        let message = ItipMessage::parse(text).unwrap_or_else(|e| panic!("{method}: {e}"));
        assert_eq!(message.method(), &method);
        assert_eq!(message.organizer(), Some("mailto:a@example.com"));
    }
}

#[test]
fn reply_builder_matches_the_rfc_reply() {
    let request = ItipMessage::parse(REQUEST).unwrap();
    let built = request
        .reply(
            "mailto:b@example.com",
            &PartStat::Accepted,
            at("1997-06-12T19:00:00Z"),
        )
        .unwrap();
    let rfc = ItipMessage::parse(REPLY).unwrap();
    assert_eq!(built.uid(), rfc.uid());
    assert_eq!(built.organizer(), rfc.organizer());
    let (ours, theirs) = (attendees(built.calendar()), attendees(rfc.calendar()));
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].address, theirs[0].address);
    assert_eq!(ours[0].partstat, theirs[0].partstat);
    let ours = built.components().next().unwrap();
    let theirs = rfc.components().next().unwrap();
    for name in ["UID", "SEQUENCE", "DTSTAMP", "ORGANIZER"] {
        assert_eq!(ours.property(name), theirs.property(name), "{name}");
    }
}

#[test]
fn cancel_builder_matches_the_rfc_cancel() {
    let request = ItipMessage::parse(REQUEST).unwrap();
    let built = request.cancel(None, at("1997-06-13T19:00:00Z")).unwrap();
    let rfc = ItipMessage::parse(CANCEL).unwrap();
    let ours = built.components().next().unwrap();
    let theirs = rfc.components().next().unwrap();
    for name in ["UID", "SEQUENCE", "STATUS", "DTSTAMP", "ORGANIZER"] {
        assert_eq!(ours.property(name), theirs.property(name), "{name}");
    }
    let addresses =
        |c: &Calendar<'_>| -> Vec<String> { attendees(c).into_iter().map(|a| a.address).collect() };
    assert_eq!(addresses(built.calendar()), addresses(rfc.calendar()));
}

#[test]
fn each_required_row_is_enforced_with_its_section() {
    for (text, section, required) in [
        (
            PUBLISH,
            "3.2.1",
            &["DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"][..],
        ),
        (
            REQUEST,
            "3.2.2",
            &[
                "ATTENDEE",
                "DTSTAMP",
                "DTSTART",
                "ORGANIZER",
                "SUMMARY",
                "UID",
            ],
        ),
        (REPLY, "3.2.3", &["ATTENDEE", "DTSTAMP", "ORGANIZER", "UID"]),
        (
            ADD,
            "3.2.4",
            &[
                "DTSTAMP",
                "DTSTART",
                "ORGANIZER",
                "SEQUENCE",
                "SUMMARY",
                "UID",
            ],
        ),
        (
            CANCEL,
            "3.2.5",
            &["DTSTAMP", "ORGANIZER", "SEQUENCE", "UID"],
        ),
        (
            REFRESH,
            "3.2.6",
            &["ATTENDEE", "DTSTAMP", "ORGANIZER", "UID"],
        ),
        (
            COUNTER,
            "3.2.7",
            &["DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"],
        ),
        (DECLINECOUNTER, "3.2.8", &["DTSTAMP", "ORGANIZER", "UID"]),
        (
            TODO_REQUEST,
            "3.4.2",
            &["ATTENDEE", "DTSTAMP", "ORGANIZER", "SUMMARY", "UID"],
        ),
    ] {
        for property in required {
            let mut calendar = cal(text);
            let c = calendar.components[0].components.get_mut(0).unwrap();
            c.properties.retain(|p| !p.is(property));
            let violations = validate(&calendar);
            assert!(
                violations
                    .iter()
                    .any(|v| v.section == section && v.rule == Rule::MissingProperty { property }),
                "{section} without {property}: {violations:?}"
            );
            assert!(matches!(
                ItipMessage::from_calendar(calendar),
                Err(Error::Itip { .. })
            ));
        }
    }
}

#[test]
fn forbidden_rows_and_special_rules() {
    let with = |text: &str, line: &str| -> Vec<Rule> {
        let text = text.replacen("END:VEVENT", &format!("{line}\r\nEND:VEVENT"), 1);
        validate(&cal(&text)).into_iter().map(|v| v.rule).collect()
    };
    assert_eq!(
        with(PUBLISH, "ATTENDEE:mailto:b@example.com"),
        [Rule::ForbiddenProperty {
            property: "ATTENDEE"
        }]
    );
    assert_eq!(
        with(REQUEST, "REQUEST-STATUS:2.0;Success"),
        [Rule::ForbiddenProperty {
            property: "REQUEST-STATUS"
        }]
    );
    assert_eq!(
        with(REPLY, "ATTENDEE:mailto:c@example.com"),
        [Rule::TooManyProperties {
            property: "ATTENDEE",
            count: 2
        }]
    );
    assert_eq!(
        with(REFRESH, "SUMMARY:x"),
        [Rule::ForbiddenProperty {
            property: "SUMMARY"
        }]
    );
    assert_eq!(
        with(
            CANCEL.replace("STATUS:CANCELLED\r\n", "").as_str(),
            "STATUS:CONFIRMED"
        ),
        [Rule::StatusNotCancelled {
            found: "CONFIRMED".into()
        }]
    );
    assert_eq!(with(REQUEST, "DURATION:PT1H"), [Rule::EndAndDuration]);
    assert_eq!(
        with(
            REPLY,
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM"
        ),
        [Rule::ForbiddenAlarm]
    );
    let add = ADD.replace("SEQUENCE:2", "SEQUENCE:0");
    assert_eq!(
        validate(&cal(&add))
            .into_iter()
            .map(|v| v.rule)
            .collect::<Vec<_>>(),
        [Rule::SequenceNotPositive]
    );
    let event = REFRESH
        .get(REFRESH.find("BEGIN:VEVENT").unwrap()..REFRESH.find("END:VCALENDAR").unwrap())
        .unwrap();
    let two = REFRESH.replace("END:VCALENDAR", &format!("{event}END:VCALENDAR"));
    assert!(
        validate(&cal(&two))
            .iter()
            .any(|v| v.rule == Rule::TooManyComponents { count: 2 })
    );
}

#[test]
fn attendee_copy_accepts_and_keeps_everything_else() {
    let stored = REQUEST.replace("METHOD:REQUEST\r\n", "");
    let mut calendar = cal(&stored).into_owned();
    assert_eq!(
        set_partstat(&mut calendar, "mailto:c@example.com", &PartStat::Declined),
        1
    );
    let list = attendees(&calendar);
    assert_eq!(list[2].partstat, PartStat::Declined);
    assert!(!list[2].rsvp);
    assert_eq!(list[1].partstat, PartStat::NeedsAction);
    // Only the PARTSTAT line differs.
    let before: Vec<&str> = stored.lines().collect();
    let written = calendar.write();
    let after: Vec<&str> = written.lines().collect();
    assert_eq!(before.len(), after.len());
    let changed: Vec<_> = before.iter().zip(&after).filter(|(a, b)| a != b).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(
        set_partstat(
            &mut calendar,
            "mailto:nobody@example.com",
            &PartStat::Accepted
        ),
        0
    );
}

fn partstat() -> impl Strategy<Value = PartStat> {
    prop_oneof![
        Just(PartStat::Accepted),
        Just(PartStat::Declined),
        Just(PartStat::Tentative),
        Just(PartStat::Delegated),
        "X-[A-Z]{1,8}".prop_map(|s| PartStat::parse(&s)),
    ]
}

proptest! {
    /// Whatever the attendee and answer, the REPLY built is valid, survives write -> parse,
    /// and carries that answer.
    #[test]
    fn built_replies_validate_and_round_trip(who in 1usize..4, answer in partstat(), secs in 0i64..4_000_000_000) {
        let request = ItipMessage::parse(REQUEST).unwrap();
        let address = attendees(request.calendar())[who].address.clone();
        let reply = request.reply(&address, &answer, Timestamp::from_second(secs).unwrap()).unwrap();
        let text = reply.write();
        let again = ItipMessage::parse(&text).unwrap();
        prop_assert_eq!(again.method(), &Method::Reply);
        let list = attendees(again.calendar());
        prop_assert_eq!(list.len(), 1);
        prop_assert_eq!(&list[0].partstat, &answer);
        prop_assert_eq!(&list[0].address, &address);
    }

    /// Dropping any subset of a REQUEST's properties yields exactly one MissingProperty per
    /// dropped required row.
    #[test]
    fn missing_rows_are_each_reported(mask in proptest::collection::vec(any::<bool>(), 14)) {
        let mut calendar = cal(REQUEST);
        let c = calendar.components[0].components.get_mut(0).unwrap();
        let names: Vec<String> = c.properties.iter().map(|p| p.name.to_string()).collect();
        let mut keep = mask.iter().copied().chain(std::iter::repeat(true));
        c.properties.retain(|_| keep.next().unwrap_or(true));
        let left: Vec<String> = c.properties.iter().map(|p| p.name.to_string()).collect();
        let mut expected: Vec<&str> = ["ATTENDEE", "DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"]
            .into_iter()
            .filter(|n| names.iter().any(|m| m == n) && !left.iter().any(|m| m == n))
            .collect();
        expected.sort_unstable();
        let mut found: Vec<&str> = validate(&calendar)
            .into_iter()
            .filter_map(|v| match v.rule { Rule::MissingProperty { property } => Some(property), _ => None })
            .collect();
        found.sort_unstable();
        prop_assert_eq!(found, expected);
    }

    /// SCHEDULE-AGENT set on everyone reads back from every attendee.
    #[test]
    fn schedule_agent_round_trips(client in any::<bool>()) {
        let mut calendar = cal(REQUEST).into_owned();
        let agent = if client { ScheduleAgent::Client } else { ScheduleAgent::None };
        prop_assert_eq!(set_schedule_agent(&mut calendar, None, &agent), 4);
        let text = calendar.write();
        let again = cal(&text);
        prop_assert!(attendees(&again).iter().all(|a| a.schedule_agent == agent));
    }
}
