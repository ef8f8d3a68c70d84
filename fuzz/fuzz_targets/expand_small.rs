//! Expansion of arbitrary rules with a small cap: never panics or hangs, and what comes out is
//! sorted without duplicates.
#![no_main]

use arbitrary::Arbitrary;
use ical_parse::expand::{ExpandOptions, Length, Override, RDate, Recurrence, When, expand};
use ical_parse::recur::{Recur, RecurIter, RecurLimits};
use ical_parse::tz::Zone;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    rule: &'a str,
    exrule: Option<&'a str>,
    start: i64,
    zone: u8,
    length: i32,
    rdate: Option<i64>,
    exdate: Option<i64>,
    moved: Option<(i64, i32)>,
    from: Option<i32>,
    span: u16,
}

const ZONES: [&str; 5] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Pacific/Apia",
];

fn civil(secs: i64) -> jiff::civil::DateTime {
    // Keep inside jiff's range: years 1900..2100 map most inputs somewhere valid.
    let secs = secs.rem_euclid(200 * 366 * 86_400);
    jiff::civil::date(1900, 1, 1)
        .at(0, 0, 0, 0)
        .checked_add(jiff::SignedDuration::from_secs(secs))
        .unwrap_or_default()
}

fuzz_target!(|input: Input<'_>| {
    // A FREQ up front so that most inputs reach the expansion.
    const FREQS: [&str; 7] = [
        "SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY",
    ];
    let text = format!(
        "FREQ={};{}",
        FREQS[usize::from(input.zone >> 4) % 7],
        input.rule
    );
    let Ok(rule) = Recur::parse(&text) else {
        return;
    };
    let mut limits = RecurLimits::default();
    limits.max_empty_periods = 20_000;
    let start = civil(input.start);
    let _ = RecurIter::with_limits(&rule, start, limits)
        .take(64)
        .count();

    let zone = Zone::iana(ZONES[usize::from(input.zone) % ZONES.len()]).expect("bundled zone");
    let when = |dt| match input.zone % 7 {
        5 => When::Floating(dt),
        6 => When::Date(dt.date()),
        _ => When::Zoned {
            local: dt,
            zone: zone.clone(),
        },
    };
    let mut rec = Recurrence::new(
        when(start),
        Length::seconds(i64::from(input.length % 100_000)),
    );
    rec.rrules.push(rule);
    if let Some(ex) = input.exrule.and_then(|e| Recur::parse(e).ok()) {
        rec.exrules.push(ex);
    }
    if let Some(r) = input.rdate {
        rec.rdates.push(RDate::At(when(civil(r))));
    }
    if let Some(e) = input.exdate {
        rec.exdates.push(when(civil(e)));
    }
    let overrides: Vec<Override> = input
        .moved
        .map(|(rid, shift)| {
            let mut o = Override::new(
                when(civil(rid)),
                when(civil(rid + i64::from(shift))),
                Length::seconds(60),
                0,
            );
            o.this_and_future = shift % 2 == 0;
            o
        })
        .into_iter()
        .collect();
    let mut options = ExpandOptions::default();
    options.max_instances = 64;
    options.recur_limits = limits;
    options.max_scanned = 100_000;
    options.max_buffered = 1_000;
    if let Some(from) = input.from {
        let from = jiff::Timestamp::from_second(i64::from(from)).unwrap_or_default();
        options.from = Some(from);
        options.to = from
            .checked_add(jiff::SignedDuration::from_secs(
                i64::from(input.span) * 3600,
            ))
            .ok();
    }
    let got: Vec<_> = expand(&rec, &overrides, &options).collect();
    assert!(got.len() <= 64);
    for pair in got.windows(2) {
        assert!(pair[0].start_key <= pair[1].start_key, "{pair:?}");
    }
});
