//! One contender of the recurrence bench on one of its rules, a fixed number of rounds: a
//! workload for `valgrind --tool=callgrind`, whose instruction counts compare contenders on a
//! loaded machine where wall time does not.
//!
//! `cargo run --release -p caldav-benches --example recur_peers -- RULE CONTENDER [ROUNDS]`,
//! RULE one of the bench's rules (`daily_10y`, `weekly_mo_we_fr`, `monthly_last_fr`,
//! `monthly_last_workday`, `yearly_feb29`, `hourly_1y`), CONTENDER one of `ical-parse`,
//! `rrule`, `calcard`, `ical-rs`, or `none` (the setup alone, to subtract).

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

// Only part of the shared module is used here.
#[allow(dead_code)]
#[path = "../benches/recur/peers.rs"]
mod peers;

fn main() {
    let mut args = std::env::args().skip(1);
    let rule = args.next().unwrap_or_else(|| "weekly_mo_we_fr".to_owned());
    let contender = args.next().unwrap_or_else(|| "ical-parse".to_owned());
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(20);
    let Some(case) = peers::cases().into_iter().find(|c| c.name == rule) else {
        eprintln!("unknown rule {rule:?}");
        std::process::exit(2);
    };
    let prepared = peers::Prepared::new(&case);
    if contender == "none" {
        return;
    }
    let mut total = 0;
    for _ in 0..rounds {
        match prepared.run(&contender) {
            Some(n) => total += n,
            None => {
                eprintln!("unknown contender {contender:?}");
                std::process::exit(2);
            }
        }
    }
    println!(
        "{rule} {contender}: {} instances per round, {rounds} rounds",
        total / rounds.max(1)
    );
}
