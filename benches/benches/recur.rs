//! Recurrence expansion against the `rrule` crate, in the same run, on the same rules, all with
//! `TZID=Europe/Berlin` (zone conversion included), plus a floor: a civil date + 1 day then
//! the zone conversion, which no expander can beat by much.
//!
//! Throughput is instances per second. Run with `cargo bench -p caldav-benches --bench recur`.

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ical_parse::expand::{ExpandOptions, Length, Recurrence, When, expand};
use ical_parse::recur::Recur;
use ical_parse::tz::Zone;
use jiff::civil::{DateTime, date};
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

fn theirs(set: &rrule::RRuleSet) -> usize {
    set.clone().all(u16::MAX).dates.len()
}

fn bench(c: &mut Criterion) {
    let berlin = Zone::iana("Europe/Berlin").unwrap();
    for case in cases() {
        let mut rec = Recurrence::new(
            When::Zoned {
                local: case.start,
                zone: berlin.clone(),
            },
            Length::seconds(3600),
        );
        rec.rrules.push(Recur::parse(case.rule).unwrap());
        let n = ours(&rec);
        let text = format!(
            "DTSTART;TZID=Europe/Berlin:{}\nRRULE:{}",
            case.start.strftime("%Y%m%dT%H%M%S"),
            case.rule
        );
        let set: rrule::RRuleSet = text.parse().unwrap();
        // `rrule` repeats an instance on a spring-forward day (hourly rules); otherwise the
        // counts agree.
        assert!(
            theirs(&set).abs_diff(n) <= 1,
            "{}: same instance count",
            case.name
        );
        let mut group = c.benchmark_group(format!("recur/{}", case.name));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function("ical-parse", |b| b.iter(|| ours(black_box(&rec))));
        group.bench_function("rrule", |b| b.iter(|| theirs(black_box(&set))));
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

    // A far window: the year 2100 of a daily rule from 2000, first instance only.
    let mut rec = Recurrence::new(
        When::Zoned {
            local: date(2000, 1, 1).at(9, 0, 0, 0),
            zone: berlin,
        },
        Length::seconds(3600),
    );
    rec.rrules.push(Recur::parse("FREQ=DAILY").unwrap());
    let mut options = ExpandOptions::default();
    options.from = Some("2100-01-01T00:00:00Z".parse().unwrap());
    options.to = Some("2101-01-01T00:00:00Z".parse().unwrap());
    options.max_instances = 1;
    let mut group = c.benchmark_group("recur/far_window_2100");
    group.bench_function("ical-parse", |b| {
        b.iter(|| {
            expand(black_box(&rec), &[], &options)
                .next()
                .map(|i| i.start_key)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
