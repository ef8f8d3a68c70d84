//! iCalendar parse throughput: `ical-parse` against `calcard`, `ical` (ical-rs by Peltoche),
//! `icalendar` (its nom parser) and `ical-rs` (Pimalaya, parse and decode), on the same bytes
//! in the same run, plus the floor that only finds and unfolds lines.
//!
//! Inputs: a generated 10,000-event calendar (CRLF, about 11 MB) and the seed trace's five
//! calendar objects (LF line ends, as they come out of XML), parsed one at a time.
//! Run with `cargo xtask bench ical_parse`; ratios are printed at the end.

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use caldav_benches::ics::{self, Eol};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::BufReader;
use std::time::Duration;

/// The number of VEVENTs (top-level or nested) a parser found, or why it failed.
type Outcome = Result<usize, String>;

fn ours(text: &str) -> Outcome {
    let calendar = ical_parse::parse(text).map_err(|e| e.to_string())?;
    Ok(calendar.events().count())
}

fn ours_strict(text: &str) -> Outcome {
    let calendar = ical_parse::parse_strict(text).map_err(|e| e.to_string())?;
    Ok(calendar.events().count())
}

fn calcard(text: &str) -> Outcome {
    let mut parser = calcard::Parser::new(text);
    let mut events = 0;
    loop {
        match parser.entry() {
            calcard::Entry::ICalendar(cal) => {
                events += cal
                    .components
                    .iter()
                    .filter(|c| {
                        c.component_type == calcard::icalendar::ICalendarComponentType::VEvent
                    })
                    .count();
            }
            calcard::Entry::Eof => return Ok(events),
            other => return Err(format!("{other:?}")),
        }
    }
}

fn ical_peltoche(text: &str) -> Outcome {
    let parser = ical::IcalParser::new(BufReader::new(text.as_bytes()));
    let mut events = 0;
    for calendar in parser {
        events += calendar.map_err(|e| e.to_string())?.events.len();
    }
    Ok(events)
}

fn icalendar(text: &str) -> Outcome {
    let unfolded = icalendar::parser::unfold(text);
    let calendar = icalendar::parser::read_calendar(&unfolded)?;
    Ok(calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .count())
}

fn ical_rs(text: &str) -> Outcome {
    use pimalaya_ical::tree::cst::IcalCst;
    let mut events = 0;
    for cst in IcalCst::parse_many(text) {
        let cst = cst.map_err(|e| e.to_string())?;
        let decoded = cst.decode();
        events += decoded
            .components
            .iter()
            .filter(|c| &*c.name == "VEVENT")
            .count();
    }
    Ok(events)
}

fn floor(text: &str) -> Outcome {
    let mut events = 0;
    ics::unfold_lines(text.as_bytes(), |head, value| {
        if head == b"BEGIN" && value == b"VEVENT" {
            events += 1;
        }
    });
    Ok(events)
}

type Parser = fn(&str) -> Outcome;

const PARSERS: &[(&str, Parser)] = &[
    ("ical-parse", ours),
    ("ical-parse strict", ours_strict),
    ("calcard", calcard),
    ("ical", ical_peltoche),
    ("icalendar", icalendar),
    ("ical-rs (Pimalaya)", ical_rs),
    ("floor", floor),
];

fn bench_group(c: &mut Criterion, name: &str, inputs: &[String]) {
    let bytes: usize = inputs.iter().map(String::len).sum();
    let expected: Vec<usize> = inputs.iter().map(|t| floor(t).unwrap()).collect();
    let mut group = c.benchmark_group(format!("ical_parse/{name}"));
    group.throughput(Throughput::Bytes(bytes as u64));
    if bytes > 1 << 20 {
        // Each iteration takes a good part of a second: sample flat, not in a linear ramp.
        group.sampling_mode(SamplingMode::Flat);
    }
    for (parser, parse) in PARSERS {
        // A parser that cannot read an input is reported and left out of the group: the time
        // it takes to fail is no throughput. One that loses events is reported and timed.
        let mut failures = Vec::new();
        for (i, (input, want)) in inputs.iter().zip(&expected).enumerate() {
            match parse(input) {
                Ok(got) if got == *want => {}
                Ok(got) => println!("note: {parser} on {name}[{i}]: {got} VEVENTs of {want}"),
                Err(e) => failures.push((i, e.chars().take(200).collect::<String>())),
            }
        }
        if let Some((i, first)) = failures.first() {
            println!(
                "note: {parser} fails on {} of {} inputs of ical_parse/{name} (first, [{i}]: \
                 {first}); left out of the group",
                failures.len(),
                inputs.len()
            );
            continue;
        }
        group.bench_function(*parser, |b| {
            b.iter(|| {
                for input in inputs {
                    let _ = black_box(parse(black_box(input)));
                }
            })
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let events = caldav_benches::scale(10_000);
    let calendar = ics::calendar(events, Eol::CrLf);
    println!(
        "input calendar_10k: {} bytes, {events} VEVENTs",
        calendar.len()
    );
    bench_group(c, "calendar_10k", &[calendar]);

    let seed = ics::seed_calendar_objects().unwrap();
    let bytes: usize = seed.iter().map(String::len).sum();
    println!("input seed_events: {} objects, {bytes} bytes", seed.len());
    bench_group(c, "seed_events", &seed);
}

criterion_group! {
    name = ical_parse;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(ical_parse);
