//! Property tests of the expansion: sorted, no duplicates, COUNT respected, every instance
//! satisfies its rule, and a window's result equals the filtered full expansion.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::expand::{ExpandOptions, Instance, Length, Recurrence, RecurrenceId, When, expand};
use ical_parse::recur::Recur;
use ical_parse::tz::Zone;
use jiff::Timestamp;
use jiff::civil::{DateTime, Weekday, date};
use proptest::prelude::*;

const ZONES: [&str; 5] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Pacific/Apia",
];

fn join<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

prop_compose! {
    /// Rules with the parts an independent check can verify: plain BYDAY, BYMONTH,
    /// BYMONTHDAY, BYHOUR, BYMINUTE.
    fn simple_rule()(
        freq in prop::sample::select(vec!["HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]),
        interval in 1u32..4,
        count in prop::option::of(1u32..40),
        by_day in prop::collection::vec(prop::sample::select(vec!["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), 0..3),
        by_month in prop::collection::vec(1u8..=12, 0..3),
        by_month_day in prop::collection::vec(prop_oneof![1i8..=31, -31i8..=-1], 0..3),
        by_hour in prop::collection::vec(0u8..24, 0..3),
        by_minute in prop::collection::vec(prop::sample::select(vec![0u8, 15, 30, 45]), 0..2),
    ) -> String {
        let mut r = format!("FREQ={freq};INTERVAL={}", if freq == "HOURLY" { interval * 5 } else { interval });
        if let Some(c) = count { r += &format!(";COUNT={c}"); }
        if !by_day.is_empty() { r += &format!(";BYDAY={}", by_day.join(",")); }
        if !by_month.is_empty() { r += &format!(";BYMONTH={}", join(&by_month)); }
        if !by_month_day.is_empty() && freq != "WEEKLY" { r += &format!(";BYMONTHDAY={}", join(&by_month_day)); }
        if !by_hour.is_empty() { r += &format!(";BYHOUR={}", join(&by_hour)); }
        if !by_minute.is_empty() { r += &format!(";BYMINUTE={}", join(&by_minute)); }
        r
    }
}

fn start() -> impl Strategy<Value = DateTime> {
    (
        1995i16..2030,
        1i8..=12,
        1i8..=28,
        0i8..24,
        prop::sample::select(vec![0i8, 15, 30]),
    )
        .prop_map(|(y, m, d, h, mi)| date(y, m, d).at(h, mi, 0, 0))
}

/// Whether a local date-time satisfies the rule's plain parts (independent of the iterator).
fn satisfies(rule: &Recur, dt: DateTime) -> bool {
    let dim = dt.date().days_in_month();
    let day_ok = rule.by_month_day.is_empty()
        || rule
            .by_month_day
            .iter()
            .any(|&n| n == dt.day() || n == dt.day() - dim - 1);
    let weekday_ok =
        rule.by_day.is_empty() || rule.by_day.iter().any(|w| w.weekday == dt.weekday());
    let month_ok = rule.by_month.is_empty()
        || rule
            .by_month
            .iter()
            .any(|m| i8::try_from(m.month).unwrap() == dt.month());
    let hour_ok = rule.by_hour.is_empty()
        || rule
            .by_hour
            .iter()
            .any(|&h| i8::try_from(h).unwrap() == dt.hour());
    let minute_ok = rule.by_minute.is_empty()
        || rule
            .by_minute
            .iter()
            .any(|&m| i8::try_from(m).unwrap() == dt.minute());
    day_ok && weekday_ok && month_ok && hour_ok && minute_ok
}

fn rid_local(i: &Instance) -> DateTime {
    match i.recurrence_id {
        RecurrenceId::Local(dt) | RecurrenceId::Utc(dt) => dt,
        RecurrenceId::Date(d) => d.at(0, 0, 0, 0),
        _ => unreachable!(),
    }
}

fn overlaps(i: &Instance, from: i64, to: i64) -> bool {
    i.start_key < to
        && if i.end_key > i.start_key {
            i.end_key > from
        } else {
            i.start_key >= from
        }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn expansion_invariants(
        rule_text in simple_rule(),
        dtstart in start(),
        zone in prop::sample::select(ZONES.to_vec()),
        from_days in 0i64..700,
        span_days in 1i64..200,
        minutes in 0i64..600,
    ) {
        let rule = Recur::parse(&rule_text).unwrap();
        let when = When::Zoned { local: dtstart, zone: Zone::iana(zone).unwrap() };
        let mut rec = Recurrence::new(when, Length::seconds(minutes * 60));
        rec.rrules.push(rule.clone());
        let first = expand(&rec, &[], &ExpandOptions::default()).next().unwrap();
        let to = first.start_key + (from_days + span_days + 30) * 86_400;
        let mut full_options = ExpandOptions::default();
        full_options.to = Some(Timestamp::from_second(to).unwrap());
        full_options.max_instances = 200_000;
        let full: Vec<Instance> = expand(&rec, &[], &full_options).collect();

        for pair in full.windows(2) {
            prop_assert!(pair[0].start_key < pair[1].start_key, "sorted, unique: {:?}", pair);
        }
        if let Some(c) = rule.count {
            prop_assert!(full.len() <= c as usize);
        }
        for i in full.iter().skip(1) {
            prop_assert!(satisfies(&rule, rid_local(i)), "{} {}", rule_text, rid_local(i));
        }
        prop_assert_eq!(rid_local(&full[0]), dtstart);

        let from = first.start_key + from_days * 86_400 + minutes * 7;
        let window_to = from + span_days * 86_400;
        let mut window = ExpandOptions::default();
        window.from = Some(Timestamp::from_second(from).unwrap());
        window.to = Some(Timestamp::from_second(window_to).unwrap());
        window.max_instances = 200_000;
        let windowed: Vec<Instance> = expand(&rec, &[], &window).collect();
        let filtered: Vec<Instance> = full.iter().copied().filter(|i| overlaps(i, from, window_to)).collect();
        prop_assert_eq!(windowed, filtered);
    }

    #[test]
    fn weekday_names_round_trip(n in 0i8..7) {
        let w = Weekday::from_monday_zero_offset(n).unwrap();
        let rule = Recur::parse(&format!("FREQ=WEEKLY;BYDAY={}", ical_parse::recur::weekday_name(w))).unwrap();
        prop_assert_eq!(rule.by_day[0].weekday, w);
    }
}
