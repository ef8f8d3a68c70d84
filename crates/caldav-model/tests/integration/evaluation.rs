//! Filter evaluation beyond the RFC's examples: all-day events, floating times, exceptions,
//! journals, repeating alarms and recurring to-dos.

use caldav_model::filter::{CompFilter, Filter, PropFilter, TextMatch, TimeRange, parse_utc};
use caldav_model::query::EvalOptions;
use ical_parse::tz::Zone;

fn calendar(body: &str) -> ical_parse::Calendar<'static> {
    let text = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n{body}END:VCALENDAR\r\n")
        .replace('\n', "\r\n")
        .replace("\r\r\n", "\r\n");
    ical_parse::parse_strict(&text).unwrap().into_owned()
}

fn range(start: &str, end: &str) -> TimeRange {
    TimeRange::new(parse_utc(start), parse_utc(end)).unwrap()
}

fn in_range(kind: &str, cal: &ical_parse::Calendar<'_>, start: &str, end: &str) -> bool {
    Filter::component(CompFilter::new(kind).time_range(range(start, end)))
        .matches(cal, &EvalOptions::default())
}

#[test]
fn all_day_event_lasts_one_day_without_dtend() {
    let cal = calendar(
        "BEGIN:VEVENT\nUID:a\nDTSTAMP:20240101T000000Z\nDTSTART;VALUE=DATE:20240105\nEND:VEVENT\n",
    );
    assert!(in_range(
        "VEVENT",
        &cal,
        "20240105T230000Z",
        "20240106T000000Z"
    ));
    assert!(!in_range(
        "VEVENT",
        &cal,
        "20240106T000000Z",
        "20240107T000000Z"
    ));
    assert!(!in_range(
        "VEVENT",
        &cal,
        "20240104T000000Z",
        "20240105T000000Z"
    ));
}

#[test]
fn floating_times_follow_the_floating_zone() {
    let cal = calendar(
        "BEGIN:VEVENT\nUID:a\nDTSTAMP:20240101T000000Z\nDTSTART:20240105T090000\nDURATION:PT1H\nEND:VEVENT\n",
    );
    let f = Filter::component(
        CompFilter::new("VEVENT").time_range(range("20240105T090000Z", "20240105T100000Z")),
    );
    assert!(f.matches(&cal, &EvalOptions::default()));
    let mut in_tokyo = EvalOptions::default();
    in_tokyo.floating_zone = Zone::iana("Asia/Tokyo");
    // 09:00 in Tokyo is 00:00 UTC.
    assert!(!f.matches(&cal, &in_tokyo));
    let early = Filter::component(
        CompFilter::new("VEVENT").time_range(range("20240105T000000Z", "20240105T010000Z")),
    );
    assert!(early.matches(&cal, &in_tokyo));
}

#[test]
fn exdate_removes_an_instance_and_far_instances_are_found() {
    let cal = calendar(
        "BEGIN:VEVENT\nUID:a\nDTSTAMP:20240101T000000Z\nDTSTART:20240101T100000Z\nDURATION:PT1H\n\
         RRULE:FREQ=DAILY\nEXDATE:20240103T100000Z\nEND:VEVENT\n",
    );
    assert!(in_range(
        "VEVENT",
        &cal,
        "20240102T100000Z",
        "20240102T103000Z"
    ));
    assert!(!in_range(
        "VEVENT",
        &cal,
        "20240103T100000Z",
        "20240103T103000Z"
    ));
    // An endless rule far from DTSTART: the window, not the instance cap, decides.
    assert!(in_range(
        "VEVENT",
        &cal,
        "20990601T103000Z",
        "20990601T104000Z"
    ));
    assert!(!in_range(
        "VEVENT",
        &cal,
        "20990601T110000Z",
        "20990601T120000Z"
    ));
}

#[test]
fn this_and_future_override_moves_later_instances() {
    let cal = calendar(
        "BEGIN:VEVENT\nUID:a\nDTSTAMP:20240101T000000Z\nDTSTART:20240101T100000Z\nDURATION:PT1H\n\
         RRULE:FREQ=DAILY;COUNT=5\nSUMMARY:early\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:a\nDTSTAMP:20240101T000000Z\nRECURRENCE-ID;RANGE=THISANDFUTURE:20240103T100000Z\n\
         DTSTART:20240103T150000Z\nDURATION:PT1H\nSUMMARY:late\nEND:VEVENT\n",
    );
    assert!(in_range(
        "VEVENT",
        &cal,
        "20240102T100000Z",
        "20240102T103000Z"
    ));
    assert!(!in_range(
        "VEVENT",
        &cal,
        "20240104T100000Z",
        "20240104T103000Z"
    ));
    assert!(in_range(
        "VEVENT",
        &cal,
        "20240104T150000Z",
        "20240104T153000Z"
    ));
    // The moved instances belong to the override: its SUMMARY is what a prop-filter sees.
    let late = Filter::component(
        CompFilter::new("VEVENT")
            .time_range(range("20240104T150000Z", "20240104T153000Z"))
            .prop(PropFilter::new("SUMMARY").text_match(TextMatch::new("late"))),
    );
    assert!(late.matches(&cal, &EvalOptions::default()));
}

#[test]
fn journal_needs_a_dtstart() {
    let dated = calendar(
        "BEGIN:VJOURNAL\nUID:a\nDTSTAMP:20240101T000000Z\nDTSTART;VALUE=DATE:20240105\nEND:VJOURNAL\n",
    );
    assert!(in_range(
        "VJOURNAL",
        &dated,
        "20240105T120000Z",
        "20240105T130000Z"
    ));
    assert!(!in_range(
        "VJOURNAL",
        &dated,
        "20240106T000000Z",
        "20240107T000000Z"
    ));
    let undated = calendar("BEGIN:VJOURNAL\nUID:b\nDTSTAMP:20240101T000000Z\nEND:VJOURNAL\n");
    assert!(!in_range(
        "VJOURNAL",
        &undated,
        "19000101T000000Z",
        "29000101T000000Z"
    ));
    assert!(
        Filter::component(CompFilter::new("VJOURNAL")).matches(&undated, &EvalOptions::default())
    );
}

#[test]
fn repeating_alarm_fires_in_range() {
    let cal = calendar(
        "BEGIN:VEVENT\nUID:a\nDTSTAMP:20240101T000000Z\nDTSTART:20240105T100000Z\nDURATION:PT1H\n\
         BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:x\nTRIGGER:-PT30M\nREPEAT:2\nDURATION:PT10M\nEND:VALARM\n\
         END:VEVENT\n",
    );
    let alarm = |s, e| {
        Filter::component(
            CompFilter::new("VEVENT").comp(CompFilter::new("VALARM").time_range(range(s, e))),
        )
        .matches(&cal, &EvalOptions::default())
    };
    assert!(alarm("20240105T093000Z", "20240105T093100Z"));
    assert!(
        alarm("20240105T094000Z", "20240105T094100Z"),
        "first repeat"
    );
    assert!(
        alarm("20240105T095000Z", "20240105T095100Z"),
        "second repeat"
    );
    assert!(!alarm("20240105T095100Z", "20240105T100000Z"));
}

#[test]
fn recurring_todo_uses_its_due_per_instance() {
    let cal = calendar(
        "BEGIN:VTODO\nUID:t\nDTSTAMP:20240101T000000Z\nDTSTART:20240101T090000Z\nDUE:20240101T170000Z\n\
         RRULE:FREQ=WEEKLY;COUNT=3\nEND:VTODO\n",
    );
    assert!(in_range(
        "VTODO",
        &cal,
        "20240108T160000Z",
        "20240108T163000Z"
    ));
    assert!(!in_range(
        "VTODO",
        &cal,
        "20240108T180000Z",
        "20240108T190000Z"
    ));
    assert!(
        !in_range("VTODO", &cal, "20240122T080000Z", "20240122T190000Z"),
        "COUNT=3"
    );
}

#[test]
fn time_range_on_other_components_never_matches() {
    let cal = calendar(
        "BEGIN:VEVENT\nUID:a\nDTSTAMP:20240101T000000Z\nDTSTART:20240105T100000Z\nEND:VEVENT\n",
    );
    assert!(
        !Filter {
            root: CompFilter::new("VCALENDAR")
                .time_range(range("19000101T000000Z", "29000101T000000Z")),
        }
        .matches(&cal, &EvalOptions::default())
    );
}
