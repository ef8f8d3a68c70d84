//! Recurrence expansion against its peers, in the same run, on the same rules, all with
//! `TZID=Europe/Berlin` and the zone conversion included wherever a peer offers one:
//!
//! - `rrule` 0.14: `RRuleSet::all`, instants through chrono-tz;
//! - calcard 0.3 (Stalwart): `ICalendar::expand_dates` on the parsed event, instants through
//!   chrono-tz (the IANA name; no VTIMEZONE in its input);
//! - ical-rs 0.6 (Pimalaya): `IcalRecurExpand` is civil; `in_zone` drops instances in a gap,
//!   and `IcalTzTransitions::resolve` gives each one its offset from the calendar's own
//!   VTIMEZONE (the usual Europe/Berlin definition, since the crate bundles no database
//!   without its `tzdb` feature);
//! - a floor: a civil date + 1 day, then the zone conversion, which no expander can beat by
//!   much (daily rule only).
//!
//! Before measuring, every peer's instances (count, first and last instant) are compared with
//! ours and each divergence is printed: a peer that gets a rule wrong is still measured, and
//! said to be wrong, never silently dropped.
//!
//! Throughput is instances per second (ours). Run with
//! `cargo bench -p caldav-benches --bench recur`.

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ical_parse::expand::{ExpandOptions, Length, Recurrence, When, expand};
use ical_parse::recur::Recur;
use ical_parse::tz::Zone;
use jiff::civil::{DateTime, date};
use pimalaya_ical::recur::expand::IcalRecurExpand;
use pimalaya_ical::recur::{IcalRecurDateTime, IcalRecurRule};
use pimalaya_ical::tz::{IcalTz, IcalTzTransitions};
use std::hint::black_box;

struct Case {
    name: &'static str,
    start: DateTime,
    rule: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "daily_10y",
            start: date(2000, 1, 3).at(9, 0, 0, 0),
            rule: "FREQ=DAILY;COUNT=3653",
        },
        Case {
            name: "weekly_mo_we_fr",
            start: date(2000, 1, 3).at(9, 0, 0, 0),
            rule: "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=1565",
        },
        Case {
            name: "monthly_last_fr",
            start: date(2000, 1, 28).at(9, 0, 0, 0),
            rule: "FREQ=MONTHLY;BYDAY=-1FR;COUNT=120",
        },
        Case {
            name: "monthly_last_workday",
            start: date(2000, 1, 31).at(9, 0, 0, 0),
            rule: "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=120",
        },
        Case {
            name: "yearly_feb29",
            start: date(2000, 2, 29).at(9, 0, 0, 0),
            rule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=25",
        },
        Case {
            name: "hourly_1y",
            start: date(2000, 1, 3).at(0, 30, 0, 0),
            rule: "FREQ=HOURLY;COUNT=8784",
        },
    ]
}

/// The Europe/Berlin VTIMEZONE calendars carry (the EU rule, in force since 1996).
const BERLIN_VTIMEZONE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n\
BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n\
DTSTART:19810329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n\
DTSTART:19961027T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\nEND:VCALENDAR\r\n";

fn ours(rec: &Recurrence) -> usize {
    let mut options = ExpandOptions::default();
    options.max_instances = 100_000;
    let mut n = 0;
    for i in expand(rec, &[], &options) {
        black_box(i.start_key);
        n += 1;
    }
    n
}

fn ours_instants(rec: &Recurrence) -> Vec<i64> {
    let mut options = ExpandOptions::default();
    options.max_instances = 100_000;
    expand(rec, &[], &options).map(|i| i.start_key).collect()
}

fn rrule_all(set: &rrule::RRuleSet) -> Vec<i64> {
    set.clone()
        .all(u16::MAX)
        .dates
        .iter()
        .map(|d| d.timestamp())
        .collect()
}

fn rrule_count(set: &rrule::RRuleSet) -> usize {
    let dates = set.clone().all(u16::MAX).dates;
    for d in &dates {
        black_box(d.timestamp());
    }
    dates.len()
}

fn calcard_all(cal: &calcard::icalendar::ICalendar) -> Vec<i64> {
    cal.expand_dates(calcard::common::timezone::Tz::Floating, 100_000)
        .events
        .iter()
        .map(|e| e.start.timestamp())
        .collect()
}

fn calcard_count(cal: &calcard::icalendar::ICalendar) -> usize {
    let expanded = cal.expand_dates(calcard::common::timezone::Tz::Floating, 100_000);
    for e in &expanded.events {
        black_box(e.start.timestamp());
    }
    expanded.events.len()
}

/// ical-rs: civil instances, gaps dropped by `in_zone`, each converted with the VTIMEZONE.
struct IcalRs {
    rule: IcalRecurRule,
    start: IcalRecurDateTime,
    zone: IcalTz,
}

impl IcalRs {
    fn for_each(&self, mut f: impl FnMut(i64)) -> usize {
        let mut offsets = IcalTzTransitions::of_zone(self.zone.clone());
        let mut n = 0;
        for local in IcalRecurExpand::new(self.rule.clone(), self.start).in_zone(self.zone.clone())
        {
            if let Some(unix) = offsets.resolve(local).instant(local) {
                f(unix);
                n += 1;
            }
        }
        n
    }
}

fn ical_rs_zone() -> IcalTz {
    let cst = pimalaya_ical::tree::cst::IcalCst::parse(BERLIN_VTIMEZONE).unwrap();
    IcalTz::of_calendar(&cst.decode(), "Europe/Berlin").unwrap()
}

fn show(unix: Option<&i64>) -> String {
    unix.and_then(|&u| jiff::Timestamp::from_second(u).ok())
        .map_or_else(|| "none".to_owned(), |t| t.to_string())
}

/// Print where a peer's instances differ from ours (count, first, last, first difference).
fn compare(case: &str, peer: &str, want: &[i64], got: &[i64]) {
    if want == got {
        eprintln!("recur/{case}: {peer} agrees ({} instances)", want.len());
        return;
    }
    let first_diff = want.iter().zip(got).position(|(a, b)| a != b);
    eprintln!(
        "recur/{case}: DIVERGENCE {peer}: {} instances (ours {}), first {} (ours {}), last {} \
         (ours {}), first difference at #{}: {} (ours {})",
        got.len(),
        want.len(),
        show(got.first()),
        show(want.first()),
        show(got.last()),
        show(want.last()),
        first_diff.map_or(want.len().min(got.len()), |i| i),
        show(first_diff.and_then(|i| got.get(i))),
        show(first_diff.and_then(|i| want.get(i))),
    );
}

fn bench(c: &mut Criterion) {
    let berlin = Zone::iana("Europe/Berlin").unwrap();
    let ical_rs_berlin = ical_rs_zone();
    for case in cases() {
        let mut rec = Recurrence::new(
            When::Zoned {
                local: case.start,
                zone: berlin.clone(),
            },
            Length::seconds(3600),
        );
        rec.rrules.push(Recur::parse(case.rule).unwrap());
        let want = ours_instants(&rec);
        let dtstart = case.start.strftime("%Y%m%dT%H%M%S").to_string();

        let set: rrule::RRuleSet =
            format!("DTSTART;TZID=Europe/Berlin:{dtstart}\nRRULE:{}", case.rule)
                .parse()
                .unwrap();
        compare(case.name, "rrule", &want, &rrule_all(&set));

        let ics = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\n\
             UID:recur-bench\r\nDTSTAMP:20000101T000000Z\r\n\
             DTSTART;TZID=Europe/Berlin:{dtstart}\r\nDURATION:PT1H\r\nRRULE:{}\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n",
            case.rule
        );
        let cal = calcard::icalendar::ICalendar::parse(&ics).unwrap();
        compare(case.name, "calcard", &want, &calcard_all(&cal));

        let s = case.start;
        let ical_rs = IcalRs {
            rule: IcalRecurRule::parse(case.rule).unwrap(),
            start: IcalRecurDateTime {
                year: i32::from(s.year()),
                month: s.month().unsigned_abs(),
                day: s.day().unsigned_abs(),
                hour: s.hour().unsigned_abs(),
                minute: s.minute().unsigned_abs(),
                second: s.second().unsigned_abs(),
            },
            zone: ical_rs_berlin.clone(),
        };
        let mut theirs = Vec::new();
        ical_rs.for_each(|u| theirs.push(u));
        compare(case.name, "ical-rs", &want, &theirs);

        let mut group = c.benchmark_group(format!("recur/{}", case.name));
        group.throughput(Throughput::Elements(want.len() as u64));
        group.bench_function("ical-parse", |b| b.iter(|| ours(black_box(&rec))));
        group.bench_function("rrule", |b| b.iter(|| rrule_count(black_box(&set))));
        group.bench_function("calcard", |b| b.iter(|| calcard_count(black_box(&cal))));
        group.bench_function("ical-rs", |b| {
            b.iter(|| {
                black_box(&ical_rs).for_each(|u| {
                    black_box(u);
                })
            })
        });
        group.finish();
    }

    // The floor: civil + 1 day, then the zone conversion, per instance.
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let mut group = c.benchmark_group("recur/daily_10y");
    group.throughput(Throughput::Elements(3653));
    group.bench_function("floor", |b| {
        b.iter(|| {
            let mut d = date(2000, 1, 3);
            let mut sum = 0i64;
            for _ in 0..3653 {
                let ts = tz
                    .to_ambiguous_timestamp(d.at(9, 0, 0, 0))
                    .compatible()
                    .unwrap();
                sum += ts.as_second();
                d = d.tomorrow().unwrap();
            }
            black_box(sum)
        })
    });
    group.finish();

    // A far window of a daily rule from 2000: the first instance of the year 2100, and of the
    // year 9000; equal times mean the skip to the window is O(1) in its distance.
    let mut rec = Recurrence::new(
        When::Zoned {
            local: date(2000, 1, 1).at(9, 0, 0, 0),
            zone: berlin,
        },
        Length::seconds(3600),
    );
    rec.rrules.push(Recur::parse("FREQ=DAILY").unwrap());
    let mut group = c.benchmark_group("recur/far_window");
    for year in [2100, 9000] {
        let mut options = ExpandOptions::default();
        options.from = Some(format!("{year}-01-01T00:00:00Z").parse().unwrap());
        options.to = Some(format!("{}-01-01T00:00:00Z", year + 1).parse().unwrap());
        options.max_instances = 1;
        let first = expand(&rec, &[], &options).next().map(|i| i.start);
        eprintln!("recur/far_window: first instance of {year}: {first:?}");
        assert!(first.is_some(), "a daily rule has an instance in {year}");
        group.bench_function(format!("ical-parse {year}"), |b| {
            b.iter(|| {
                expand(black_box(&rec), &[], &options)
                    .next()
                    .map(|i| i.start_key)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
