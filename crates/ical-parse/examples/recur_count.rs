//! Expands one of the recurrence benchmark's rules (all with `TZID=Europe/Berlin`) a fixed
//! number of times and prints the instance count: a small, fixed workload to profile with
//! `valgrind --tool=callgrind` (instruction counts stay comparable on a loaded machine where
//! wall time does not).
//!
//! `cargo run --release -p ical-parse --example recur_count -- RULE [ROUNDS]`, RULE one of
//! `daily`, `weekly`, `last_fr`, `last_workday`, `feb29`, `hourly`, `far` (the first instance
//! of the year 2100 of a daily rule from 2000). Divide the instructions of
//! `recur_count::expand_once` by the rounds and the instances for a cost per instance.

use ical_parse::expand::{ExpandOptions, Length, Recurrence, When, expand};
use ical_parse::recur::Recur;
use ical_parse::tz::Zone;
use jiff::civil::{DateTime, date};
use std::hint::black_box;

fn case(name: &str) -> Option<(DateTime, &'static str)> {
    Some(match name {
        "daily" => (date(2000, 1, 3).at(9, 0, 0, 0), "FREQ=DAILY;COUNT=3653"),
        "weekly" => (
            date(2000, 1, 3).at(9, 0, 0, 0),
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=1565",
        ),
        "last_fr" => (
            date(2000, 1, 28).at(9, 0, 0, 0),
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=120",
        ),
        "last_workday" => (
            date(2000, 1, 31).at(9, 0, 0, 0),
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=120",
        ),
        "feb29" => (
            date(2000, 2, 29).at(9, 0, 0, 0),
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=25",
        ),
        "hourly" => (date(2000, 1, 3).at(0, 30, 0, 0), "FREQ=HOURLY;COUNT=8784"),
        "far" => (date(2000, 1, 1).at(9, 0, 0, 0), "FREQ=DAILY"),
        _ => return None,
    })
}

#[inline(never)]
fn expand_once(rec: &Recurrence, options: &ExpandOptions) -> usize {
    let mut n = 0;
    for i in expand(rec, &[], options) {
        black_box(i.start_key);
        n += 1;
    }
    n
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "weekly".to_owned());
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(100);
    let Some((start, rule)) = case(&name) else {
        eprintln!("unknown rule {name:?}");
        std::process::exit(2);
    };
    let Some(zone) = Zone::iana("Europe/Berlin") else {
        eprintln!("no Europe/Berlin in the bundled database");
        std::process::exit(1);
    };
    let mut rec = Recurrence::new(When::Zoned { local: start, zone }, Length::seconds(3600));
    match Recur::parse(rule) {
        Ok(r) => rec.rrules.push(r),
        Err(e) => {
            eprintln!("{rule}: {e}");
            std::process::exit(1);
        }
    }
    let mut options = ExpandOptions::default();
    options.max_instances = 100_000;
    if name == "far" {
        options.from = "2100-01-01T00:00:00Z".parse().ok();
        options.to = "2101-01-01T00:00:00Z".parse().ok();
        options.max_instances = 1;
    }
    let mut total = 0;
    for _ in 0..rounds {
        total += expand_once(black_box(&rec), &options);
    }
    println!(
        "{name}: {rule}: {} instances per round",
        total / rounds.max(1)
    );
}
