//! The `ical_parse` bench's own inputs as a fixed workload for instruction counts and
//! profiles, which a loaded machine does not move as it moves criterion's wall clock.
//!
//! Each round runs in `round` (kept out of line), so that callgrind can count exactly it:
//!
//! - `parse`: one `ical_parse::parse` of the generated calendar (`EVENTS`, default 1,000
//!   events), counting its VEVENTs and dropping it, as the bench's contender does;
//! - `floor`: the bench's floor over the same calendar (`ics::unfold_lines`);
//! - `seed`: the seed trace's five calendar objects parsed one at a time, 1,000 times;
//! - `seed-floor`: the floor over them, 1,000 times.
//!
//! ```text
//! cargo build --release -p caldav-benches --example ical_count
//! valgrind --tool=callgrind --toggle-collect='ical_count::round' \
//!     target/release/examples/ical_count parse [EVENTS] [ROUNDS]
//! ```
//!
//! Without valgrind it prints the wall time of a round, the fastest of `ROUNDS` (default 1).

#![allow(clippy::unwrap_used)]

use caldav_benches::ics::{self, Eol};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// One round of `mode` over `calendar` or `seed`: the number of VEVENTs found (BEGIN lines
/// for the floor), so that nothing is optimised away.
#[inline(never)]
fn round(mode: &str, calendar: &str, seed: &[String]) -> usize {
    let mut found = 0;
    let mut floor = |text: &str| {
        ics::unfold_lines(text.as_bytes(), |head, _| {
            if head == b"BEGIN" {
                found += 1;
            }
        });
    };
    match mode {
        "floor" => floor(calendar),
        "seed-floor" => (0..1000).for_each(|_| seed.iter().for_each(|s| floor(s))),
        "seed" => {
            for _ in 0..1000 {
                for object in seed {
                    found += ical_parse::parse(black_box(object))
                        .unwrap()
                        .events()
                        .count();
                }
            }
        }
        _ => {
            found += ical_parse::parse(black_box(calendar))
                .unwrap()
                .events()
                .count()
        }
    }
    found
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "parse".to_owned());
    let events = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let calendar = ics::calendar(events, Eol::CrLf);
    let seed = ics::seed_calendar_objects().unwrap();
    let mut fastest = Duration::MAX;
    let mut found = 0;
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        found = round(&mode, &calendar, &seed);
        fastest = fastest.min(start.elapsed());
    }
    let bytes = if mode.starts_with("seed") {
        seed.iter().map(String::len).sum::<usize>()
    } else {
        calendar.len()
    };
    println!("{mode}: {bytes} bytes, {found} found, fastest round {fastest:?}");
}
