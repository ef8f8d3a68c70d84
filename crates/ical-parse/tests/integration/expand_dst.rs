//! Instances through DST changes, overrides, RDATE periods, windows and caps.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::expand::{ExpandOptions, Length, Override, RDate, Recurrence, When, expand};
use ical_parse::recur::Recur;
use ical_parse::tz::Zone;
use jiff::civil::{DateTime, date};

fn zoned(zone: &str, local: DateTime) -> When {
    When::Zoned {
        local,
        zone: Zone::iana(zone).unwrap(),
    }
}

fn starts(rec: &Recurrence, overrides: &[Override], options: &ExpandOptions) -> Vec<String> {
    expand(rec, overrides, options)
        .map(|i| i.start.to_string())
        .collect()
}

fn rule(dtstart: When, length: Length, rrule: &str) -> Recurrence {
    let mut rec = Recurrence::new(dtstart, length);
    rec.rrules.push(Recur::parse(rrule).unwrap());
    rec
}

#[test]
fn hourly_through_spring_forward_has_no_duplicate() {
    let rec = rule(
        zoned("America/New_York", date(2024, 3, 10).at(0, 0, 0, 0)),
        Length::seconds(1800),
        "FREQ=HOURLY;COUNT=5",
    );
    let got: Vec<_> = expand(&rec, &[], &ExpandOptions::default()).collect();
    let shown: Vec<String> = got
        .iter()
        .map(|i| format!("{} {}", i.start, i.recurrence_id))
        .collect();
    // 02:00 does not exist; moved forward by the gap it is 03:00 EDT, which the rule also
    // produces: the set keeps the instance whose local time exists.
    assert_eq!(
        shown,
        [
            "2024-03-10T00:00:00-05:00 20240310T000000",
            "2024-03-10T01:00:00-05:00 20240310T010000",
            "2024-03-10T03:00:00-04:00 20240310T030000",
            "2024-03-10T04:00:00-04:00 20240310T040000",
        ]
    );
    assert_eq!(got[2].end.to_string(), "2024-03-10T03:30:00-04:00");
}

#[test]
fn half_hourly_through_spring_forward_is_sorted_and_unique() {
    let rec = rule(
        zoned("America/New_York", date(2024, 3, 10).at(1, 0, 0, 0)),
        Length::default(),
        "FREQ=MINUTELY;INTERVAL=30;COUNT=8",
    );
    assert_eq!(
        starts(&rec, &[], &ExpandOptions::default()),
        [
            "2024-03-10T01:00:00-05:00",
            "2024-03-10T01:30:00-05:00",
            "2024-03-10T03:00:00-04:00",
            "2024-03-10T03:30:00-04:00",
            "2024-03-10T04:00:00-04:00",
            "2024-03-10T04:30:00-04:00",
        ]
    );
}

#[test]
fn daily_in_the_gap_moves_forward_by_the_gap() {
    let rec = rule(
        zoned("Europe/Berlin", date(2024, 3, 30).at(2, 30, 0, 0)),
        Length::seconds(3600),
        "FREQ=DAILY;COUNT=3",
    );
    let got: Vec<_> = expand(&rec, &[], &ExpandOptions::default()).collect();
    assert_eq!(got[1].start.to_string(), "2024-03-31T03:30:00+02:00");
    assert_eq!(got[1].end.to_string(), "2024-03-31T04:30:00+02:00");
    assert_eq!(got[1].recurrence_id.to_string(), "20240331T023000");
    assert_eq!(got[2].start.to_string(), "2024-04-01T02:30:00+02:00");
}

#[test]
fn ambiguous_time_takes_the_first_occurrence() {
    let rec = rule(
        zoned("America/New_York", date(2024, 11, 2).at(1, 30, 0, 0)),
        Length::default(),
        "FREQ=DAILY;COUNT=3",
    );
    assert_eq!(
        starts(&rec, &[], &ExpandOptions::default()),
        [
            "2024-11-02T01:30:00-04:00",
            "2024-11-03T01:30:00-04:00",
            "2024-11-04T01:30:00-05:00"
        ]
    );
    let hourly = rule(
        zoned("America/New_York", date(2024, 11, 3).at(0, 0, 0, 0)),
        Length::default(),
        "FREQ=HOURLY;COUNT=3",
    );
    assert_eq!(
        starts(&hourly, &[], &ExpandOptions::default()),
        [
            "2024-11-03T00:00:00-04:00",
            "2024-11-03T01:00:00-04:00",
            "2024-11-03T02:00:00-05:00"
        ]
    );
}

#[test]
fn nominal_days_keep_local_time_across_dst() {
    let rec = rule(
        zoned("America/New_York", date(2024, 3, 9).at(12, 0, 0, 0)),
        Length::days(1),
        "FREQ=DAILY;COUNT=1",
    );
    let i = expand(&rec, &[], &ExpandOptions::default()).next().unwrap();
    assert_eq!(i.end.to_string(), "2024-03-10T12:00:00-04:00");
    assert_eq!(i.end_key - i.start_key, 23 * 3600);
}

#[test]
fn all_day_events_stay_dates() {
    let rec = rule(
        When::Date(date(2024, 2, 27)),
        Length::days(1),
        "FREQ=DAILY;UNTIL=20240301",
    );
    let got: Vec<String> = expand(&rec, &[], &ExpandOptions::default())
        .map(|i| format!("{}/{} {}", i.start, i.end, i.recurrence_id))
        .collect();
    assert_eq!(
        got,
        [
            "2024-02-27/2024-02-28 20240227",
            "2024-02-28/2024-02-29 20240228",
            "2024-02-29/2024-03-01 20240229",
            "2024-03-01/2024-03-02 20240301",
        ]
    );
}

#[test]
fn floating_stays_floating_and_utc_stays_utc() {
    let rec = rule(
        When::Floating(date(2024, 1, 1).at(9, 0, 0, 0)),
        Length::seconds(60),
        "FREQ=WEEKLY;COUNT=2",
    );
    assert_eq!(
        starts(&rec, &[], &ExpandOptions::default()),
        ["2024-01-01T09:00:00", "2024-01-08T09:00:00"]
    );
    let rec = rule(
        When::Utc(date(2024, 1, 1).at(9, 0, 0, 0)),
        Length::seconds(60),
        "FREQ=WEEKLY;COUNT=2",
    );
    let got: Vec<_> = expand(&rec, &[], &ExpandOptions::default()).collect();
    assert_eq!(got[1].start.to_string(), "2024-01-08T09:00:00Z");
    assert_eq!(got[1].recurrence_id.to_string(), "20240108T090000Z");
}

#[test]
fn overrides_replace_move_and_add_instances() {
    let ny = |d: DateTime| zoned("America/New_York", d);
    let rec = rule(
        ny(date(2024, 1, 1).at(9, 0, 0, 0)),
        Length::seconds(3600),
        "FREQ=DAILY;COUNT=5",
    );
    let overrides = [
        // Moved later the same day.
        Override::new(
            ny(date(2024, 1, 2).at(9, 0, 0, 0)),
            ny(date(2024, 1, 2).at(14, 0, 0, 0)),
            Length::seconds(1800),
            0,
        ),
        // Moved out of the window, before everything.
        Override::new(
            ny(date(2024, 1, 4).at(9, 0, 0, 0)),
            ny(date(2023, 12, 1).at(9, 0, 0, 0)),
            Length::seconds(3600),
            1,
        ),
        // Its RECURRENCE-ID matches no instance: still an instance.
        Override::new(
            ny(date(2024, 1, 3).at(10, 0, 0, 0)),
            ny(date(2024, 1, 3).at(10, 0, 0, 0)),
            Length::seconds(3600),
            2,
        ),
    ];
    let all: Vec<String> = expand(&rec, &overrides, &ExpandOptions::default())
        .map(|i| format!("{} {} {:?}", i.start, i.recurrence_id, i.override_index))
        .collect();
    assert_eq!(
        all,
        [
            "2023-12-01T09:00:00-05:00 20240104T090000 Some(1)",
            "2024-01-01T09:00:00-05:00 20240101T090000 None",
            "2024-01-02T14:00:00-05:00 20240102T090000 Some(0)",
            "2024-01-03T09:00:00-05:00 20240103T090000 None",
            "2024-01-03T10:00:00-05:00 20240103T100000 Some(2)",
            "2024-01-05T09:00:00-05:00 20240105T090000 None",
        ]
    );
    let mut window = ExpandOptions::default();
    window.from = Some("2024-01-02T12:00:00Z".parse().unwrap());
    window.to = Some("2024-01-03T14:30:00Z".parse().unwrap());
    assert_eq!(
        starts(&rec, &overrides, &window),
        ["2024-01-02T14:00:00-05:00", "2024-01-03T09:00:00-05:00"]
    );
}

#[test]
fn this_and_future_moves_the_rest() {
    let ny = |d: DateTime| zoned("America/New_York", d);
    let rec = rule(
        ny(date(2024, 1, 1).at(9, 0, 0, 0)),
        Length::seconds(3600),
        "FREQ=DAILY;COUNT=4",
    );
    let mut o = Override::new(
        ny(date(2024, 1, 2).at(9, 0, 0, 0)),
        ny(date(2024, 1, 2).at(11, 0, 0, 0)),
        Length::seconds(600),
        7,
    );
    o.this_and_future = true;
    let got: Vec<String> = expand(&rec, &[o], &ExpandOptions::default())
        .map(|i| format!("{}-{} {:?}", i.start, i.end, i.override_index))
        .collect();
    assert_eq!(
        got,
        [
            "2024-01-01T09:00:00-05:00-2024-01-01T10:00:00-05:00 None",
            "2024-01-02T11:00:00-05:00-2024-01-02T11:10:00-05:00 Some(7)",
            "2024-01-03T11:00:00-05:00-2024-01-03T11:10:00-05:00 Some(7)",
            "2024-01-04T11:00:00-05:00-2024-01-04T11:10:00-05:00 Some(7)",
        ]
    );
}

#[test]
fn rdate_periods_exdates_and_exrules() {
    let ny = |d: DateTime| zoned("America/New_York", d);
    let mut rec = rule(
        ny(date(2024, 1, 1).at(9, 0, 0, 0)),
        Length::seconds(3600),
        "FREQ=DAILY;COUNT=4",
    );
    rec.rdates.push(RDate::Period {
        start: When::Utc(date(2024, 1, 10).at(20, 0, 0, 0)),
        length: Length::seconds(7200),
    });
    rec.exdates
        .push(When::Utc(date(2024, 1, 2).at(14, 0, 0, 0)));
    rec.exrules
        .push(Recur::parse("FREQ=DAILY;INTERVAL=3").unwrap());
    let got: Vec<String> = expand(&rec, &[], &ExpandOptions::default())
        .map(|i| format!("{}/{}", i.start, i.end))
        .collect();
    // Jan 1 and Jan 4 fall to the EXRULE (every 3rd day from DTSTART), Jan 2 to the EXDATE.
    assert_eq!(
        got,
        [
            "2024-01-03T09:00:00-05:00/2024-01-03T10:00:00-05:00",
            "2024-01-10T15:00:00-05:00/2024-01-10T17:00:00-05:00",
        ]
    );
}

#[test]
fn far_window_and_cap() {
    let rec = rule(
        zoned("Europe/Berlin", date(2000, 1, 1).at(8, 0, 0, 0)),
        Length::seconds(3600),
        "FREQ=DAILY",
    );
    let mut options = ExpandOptions::default();
    options.from = Some("2100-06-01T00:00:00Z".parse().unwrap());
    options.max_instances = 3;
    let mut it = expand(&rec, &[], &options);
    let got: Vec<String> = it.by_ref().map(|i| i.start.to_string()).collect();
    assert_eq!(
        got,
        [
            "2100-06-01T08:00:00+02:00",
            "2100-06-02T08:00:00+02:00",
            "2100-06-03T08:00:00+02:00"
        ]
    );
    assert!(it.truncated());
}

#[test]
fn impossible_rule_ends_with_dtstart_only() {
    let rec = rule(
        zoned("Europe/Berlin", date(2000, 1, 1).at(8, 0, 0, 0)),
        Length::default(),
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
    );
    assert_eq!(
        starts(&rec, &[], &ExpandOptions::default()),
        ["2000-01-01T08:00:00+01:00"]
    );
}

/// Regression (fuzz, expand_small): a THISANDFUTURE override that moves later instances
/// before earlier ones used to break the start order.
#[test]
fn this_and_future_moving_instances_earlier_keeps_start_order() {
    let ny = |d: DateTime| zoned("America/New_York", d);
    let rec = rule(
        ny(date(2024, 1, 1).at(9, 0, 0, 0)),
        Length::seconds(600),
        "FREQ=DAILY;COUNT=4",
    );
    let mut o = Override::new(
        ny(date(2024, 1, 3).at(9, 0, 0, 0)),
        ny(date(2024, 1, 1).at(12, 0, 0, 0)),
        Length::seconds(600),
        0,
    );
    o.this_and_future = true;
    assert_eq!(
        starts(&rec, &[o], &ExpandOptions::default()),
        [
            "2024-01-01T09:00:00-05:00",
            "2024-01-01T12:00:00-05:00",
            "2024-01-02T09:00:00-05:00",
            "2024-01-02T12:00:00-05:00",
        ]
    );
}
