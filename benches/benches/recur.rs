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
//!   much without caching the zone's offset (daily rule only).
//!
//! Before measuring, every peer's instances (count, first and last instant) are compared with
//! ours and each divergence is printed with the instances around it: a peer that gets a rule
//! wrong is still measured, and said to be wrong, never silently dropped.
//!
//! Throughput is instances per second (ours). Run with
//! `cargo bench -p caldav-benches --bench recur`; for instruction counts of one contender on
//! one rule, see `examples/recur_peers.rs`.

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

#[path = "recur/peers.rs"]
mod peers;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ical_parse::expand::{ExpandOptions, Length, Recurrence, When, expand};
use ical_parse::recur::Recur;
use ical_parse::tz::Zone;
use jiff::civil::date;
use peers::{CONTENDERS, Prepared, cases};
use std::hint::black_box;

/// An instant as Berlin local time with its offset.
fn show(unix: Option<&i64>) -> String {
    unix.and_then(|&u| jiff::Timestamp::from_second(u).ok())
        .map_or_else(
            || "none".to_owned(),
            |t| {
                t.in_tz("Europe/Berlin")
                    .unwrap()
                    .strftime("%FT%T%:z")
                    .to_string()
            },
        )
}

fn around(v: &[i64], at: usize) -> String {
    let lo = at.saturating_sub(2);
    let hi = (at + 3).min(v.len());
    let shown: Vec<String> = v[lo.min(hi)..hi].iter().map(|u| show(Some(u))).collect();
    format!("#{lo}.. [{}]", shown.join(", "))
}

/// Print where a peer's instances differ from ours (count, first, last, the first difference
/// with its neighbours).
fn compare(case: &str, peer: &str, want: &[i64], got: &[i64]) {
    if want == got {
        eprintln!("recur/{case}: {peer} agrees ({} instances)", want.len());
        return;
    }
    let at = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    eprintln!(
        "recur/{case}: DIVERGENCE {peer}: {} instances (ours {}), first {} (ours {}), last {} \
         (ours {}); first difference: {peer} {}, ours {}",
        got.len(),
        want.len(),
        show(got.first()),
        show(want.first()),
        show(got.last()),
        show(want.last()),
        around(got, at),
        around(want, at),
    );
}

fn bench(c: &mut Criterion) {
    for case in cases() {
        let prepared = Prepared::new(&case);
        let [(_, want), peers @ ..] = prepared.instants();
        for (peer, got) in &peers {
            compare(case.name, peer, &want, got);
        }
        let mut group = c.benchmark_group(format!("recur/{}", case.name));
        group.throughput(Throughput::Elements(want.len() as u64));
        for contender in CONTENDERS {
            group.bench_function(contender, |b| {
                b.iter(|| black_box(&prepared).run(contender))
            });
        }
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
            zone: Zone::iana("Europe/Berlin").unwrap(),
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
