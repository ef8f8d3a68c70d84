//! Decodes every multistatus body of the seed trace (25 real answers of a Cyrus server to
//! Apple's CalendarAgent, 30 KB in all), each on its own, a number of times: the small-document
//! workload of the benchmark's `seed_bodies` group, to profile with
//! `valgrind --tool=callgrind` (instruction counts stay comparable on a loaded machine).
//!
//! `cargo run --release -p dav-xml --example seed_count -- [whole|owned|stream|floor]
//! [REPEAT] [multiget]` (`owned`: `Multistatus::decode_owned` of copies made before the run;
//! `floor`: the benchmark's floor, a UTF-8 check and a bare quick-xml event loop; `multiget`:
//! only the bodies with calendar data, the benchmark's `seed_multiget`). Only the decoding runs
//! inside `seed_count::run`, so
//! `valgrind --tool=callgrind --toggle-collect='seed_count::run*'` counts it alone (reading
//! the trace is left out).

#![allow(clippy::unwrap_used)]

use dav_xml::{Multistatus, QName, Response, StreamDecoder};

/// Responses, etags and calendar-data bytes found.
type Found = (usize, usize, usize);

fn add(found: &mut Found, r: &Response) {
    found.0 += 1;
    std::hint::black_box((r.href(), r.status, r.prop_status(&QName::DAV_GETETAG)));
    if let Some(etag) = r.prop(&QName::DAV_GETETAG) {
        found.1 += usize::from(!etag.text().is_empty());
    }
    if let Some(data) = r.prop(&QName::CALDAV_CALENDAR_DATA) {
        found.2 += data.text().len();
    }
}

fn whole(found: &mut Found, body: &[u8]) {
    for r in &Multistatus::decode(body).unwrap().responses {
        add(found, r);
    }
}

fn owned(found: &mut Found, body: Vec<u8>) {
    for r in &Multistatus::decode_owned(body).unwrap().responses {
        add(found, r);
    }
}

fn stream(found: &mut Found, body: &[u8]) {
    let mut decoder = StreamDecoder::new();
    for chunk in body.chunks(64 * 1024) {
        decoder.feed(chunk).unwrap();
        while let Some(r) = decoder.poll() {
            add(found, &r);
        }
    }
    for r in &decoder.finish().unwrap().responses {
        add(found, r);
    }
}

fn floor(found: &mut Found, body: &[u8]) {
    use quick_xml::events::Event;
    let text = std::str::from_utf8(body).unwrap();
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(start) if start.local_name().into_inner() == "response" => found.0 += 1,
            Event::Eof => return,
            other => {
                std::hint::black_box(other);
            }
        }
    }
}

/// Every body `repeat` times; `copies` holds the owned decode's inputs, made beforehand.
#[inline(never)]
fn run(mode: &str, bodies: &[Vec<u8>], copies: Vec<Vec<u8>>, repeat: usize) -> Found {
    let mut found = Found::default();
    if mode == "owned" {
        for body in copies {
            owned(&mut found, body);
        }
        return found;
    }
    for _ in 0..repeat {
        for body in bodies {
            match mode {
                "stream" => stream(&mut found, body),
                "floor" => floor(&mut found, body),
                _ => whole(&mut found, body),
            }
        }
    }
    found
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "whole".to_owned());
    let repeat: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
    let multiget_only = args.next().as_deref() == Some("multiget");
    let bodies: Vec<Vec<u8>> = caldav_trace::seed::exchanges()
        .unwrap()
        .into_iter()
        .filter_map(|exchange| exchange.response)
        .filter(|response| response.status() == http::StatusCode::MULTI_STATUS)
        .map(|response| response.into_body().to_vec())
        .filter(|body| {
            let mut found = Found::default();
            !multiget_only || {
                whole(&mut found, body);
                found.2 > 0
            }
        })
        .collect();
    let copies = if mode == "owned" {
        (0..repeat).flat_map(|_| bodies.iter().cloned()).collect()
    } else {
        Vec::new()
    };
    let found = run(&mode, &bodies, copies, repeat);
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    println!(
        "{} bodies, {bytes} bytes, {repeat} times: {} responses, {} etags, {} bytes of \
         calendar data ({mode})",
        bodies.len(),
        found.0,
        found.1,
        found.2
    );
}
