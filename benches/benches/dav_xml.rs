//! Multistatus decoding throughput: `dav-xml` (whole and streamed) against roxmltree,
//! quick-xml's serde deserializer and libdav's calendar-multiget response parser, on the same
//! bytes in the same run, plus the floor: a bare quick-xml `Reader` event loop.
//!
//! `dav-xml owned` is `Multistatus::decode_owned`, which takes the body by value: its copy of
//! the input is made in criterion's setup, outside the timing.
//!
//! Every contender extracts the same things: each response's href, status, getetag and
//! calendar-data. Inputs: a generated 10,000-response calendar-multiget answer (about 20 MB)
//! with the calendar data in CDATA, the same with it entity-escaped (`&#13;` for each CR),
//! and every multistatus body of the seed trace.
//! Run with `cargo xtask bench dav_xml`; ratios are printed at the end.

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use caldav_benches::xml::{self, Escaping};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use dav_xml::{Multistatus, QName, StreamDecoder};
use libdav::requests::DavRequest;
use serde::Deserialize;
use std::hint::black_box;
use std::time::Duration;

/// What an extractor found: responses, etags, bytes of calendar data.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
struct Found {
    responses: usize,
    etags: usize,
    data_bytes: usize,
}

type Outcome = Result<Found, String>;

fn add_dav_xml_response(found: &mut Found, r: &dav_xml::Response) {
    found.responses += 1;
    black_box((r.href(), r.status, r.prop_status(&QName::DAV_GETETAG)));
    if let Some(etag) = r.prop(&QName::DAV_GETETAG) {
        found.etags += usize::from(!etag.text().is_empty());
    }
    if let Some(data) = r.prop(&QName::CALDAV_CALENDAR_DATA) {
        found.data_bytes += data.text().len();
    }
}

fn dav_xml_whole(body: &[u8]) -> Outcome {
    let multistatus = Multistatus::decode(body).map_err(|e| e.to_string())?;
    let mut found = Found::default();
    for r in &multistatus.responses {
        add_dav_xml_response(&mut found, r);
    }
    Ok(found)
}

/// `Multistatus::decode_owned`: the body taken by value, as a client that holds the response
/// body can hand it over. The copy each iteration needs is made in criterion's setup, outside
/// the timing (`iter_batched`); dropping the result (and with it the body) is timed, as every
/// other contender's drop is.
fn dav_xml_owned(body: Vec<u8>) -> Outcome {
    let multistatus = Multistatus::decode_owned(body).map_err(|e| e.to_string())?;
    let mut found = Found::default();
    for r in &multistatus.responses {
        add_dav_xml_response(&mut found, r);
    }
    Ok(found)
}

/// The size of the pieces a socket typically hands over.
const CHUNK: usize = 64 * 1024;

fn dav_xml_stream(body: &[u8]) -> Outcome {
    let mut decoder = StreamDecoder::new();
    let mut found = Found::default();
    for chunk in body.chunks(CHUNK) {
        decoder.feed(chunk).map_err(|e| e.to_string())?;
        while let Some(r) = decoder.poll() {
            add_dav_xml_response(&mut found, &r);
        }
    }
    for r in &decoder.finish().map_err(|e| e.to_string())?.responses {
        add_dav_xml_response(&mut found, r);
    }
    Ok(found)
}

/// A UTF-8 check and a bare quick-xml event loop (no namespaces, no unescaping, no
/// allocation): what any quick-xml-based decoder must at least do.
fn floor(body: &[u8]) -> Outcome {
    use quick_xml::events::Event;
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut found = Found::default();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(start) if start.local_name().into_inner() == "response" => {
                found.responses += 1;
            }
            Event::Eof => return Ok(found),
            other => {
                black_box(other);
            }
        }
    }
}

fn roxmltree(body: &[u8]) -> Outcome {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let doc = roxmltree::Document::parse(text).map_err(|e| e.to_string())?;
    let mut found = Found::default();
    let is = |n: &roxmltree::Node, ns: &str, local: &str| {
        n.is_element() && n.tag_name().name() == local && n.tag_name().namespace() == Some(ns)
    };
    for response in doc.descendants().filter(|n| is(n, "DAV:", "response")) {
        found.responses += 1;
        for n in response.descendants() {
            if is(&n, "DAV:", "href") || is(&n, "DAV:", "status") {
                black_box(n.text());
            } else if is(&n, "DAV:", "getetag") {
                found.etags += usize::from(n.text().is_some_and(|t| !t.is_empty()));
            } else if is(&n, dav_xml::name::CALDAV, "calendar-data") {
                found.data_bytes += n.text().map_or(0, str::len);
            }
        }
    }
    Ok(found)
}

/// A serde model of a multistatus, as a quick-xml user would write it. quick-xml matches
/// element names without their prefix.
#[derive(Deserialize)]
struct SerdeMultistatus {
    #[serde(rename = "response", default)]
    responses: Vec<SerdeResponse>,
}

#[derive(Deserialize)]
struct SerdeResponse {
    #[serde(default)]
    href: Vec<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    propstat: Vec<SerdePropstat>,
}

#[derive(Deserialize)]
struct SerdePropstat {
    prop: SerdeProp,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize)]
struct SerdeProp {
    #[serde(default)]
    getetag: Option<String>,
    #[serde(rename = "calendar-data", default)]
    calendar_data: Option<String>,
}

fn quick_xml_serde(body: &[u8]) -> Outcome {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let ms: SerdeMultistatus = quick_xml::de::from_str(text).map_err(|e| e.to_string())?;
    let mut found = Found::default();
    for r in &ms.responses {
        found.responses += 1;
        black_box((&r.href, &r.status));
        for p in &r.propstat {
            black_box(&p.status);
            found.etags += usize::from(p.prop.getetag.as_ref().is_some_and(|e| !e.is_empty()));
            found.data_bytes += p.prop.calendar_data.as_ref().map_or(0, String::len);
        }
    }
    Ok(found)
}

fn libdav(body: &[u8]) -> Outcome {
    let (parts, ()) = http::Response::builder()
        .status(207)
        .body(())
        .unwrap()
        .into_parts();
    let request = libdav::caldav::GetCalendarResources::new("/calendars/user/ken/Default/");
    let response = request
        .parse_response(&parts, body)
        .map_err(|e| e.to_string())?;
    let mut found = Found::default();
    for r in &response.resources {
        found.responses += 1;
        black_box(&r.href);
        if let Ok(content) = &r.content {
            found.etags += usize::from(!content.etag.is_empty());
            found.data_bytes += content.data.len();
        }
    }
    Ok(found)
}

type Extractor = fn(&[u8]) -> Outcome;

const EXTRACTORS: &[(&str, Extractor)] = &[
    ("dav-xml", dav_xml_whole),
    ("dav-xml stream", dav_xml_stream),
    ("roxmltree", roxmltree),
    ("quick-xml serde", quick_xml_serde),
    ("libdav", libdav),
    ("floor", floor),
];

fn bench_group(c: &mut Criterion, name: &str, bodies: &[Vec<u8>]) {
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let reference: Vec<Found> = bodies.iter().map(|b| dav_xml_whole(b).unwrap()).collect();
    let mut group = c.benchmark_group(format!("dav_xml/{name}"));
    group.throughput(Throughput::Bytes(bytes as u64));
    if bytes > 1 << 20 {
        // Each iteration takes a good part of a second: sample flat, not in a linear ramp.
        group.sampling_mode(SamplingMode::Flat);
    }
    for (i, (body, want)) in bodies.iter().zip(&reference).enumerate() {
        let got = dav_xml_owned(body.clone());
        if got.as_ref() != Ok(want) {
            println!("note: dav-xml owned on {name}[{i}]: {got:?}, dav-xml {want:?}");
        }
    }
    group.bench_function("dav-xml owned", |b| {
        b.iter_batched(
            || bodies.to_vec(),
            |copies| {
                for body in copies {
                    let _ = black_box(dav_xml_owned(black_box(body)));
                }
            },
            BatchSize::PerIteration,
        )
    });
    for (extractor, extract) in EXTRACTORS {
        // A contender that cannot read an input is reported and left out of the group: the
        // time it takes to fail is no throughput. One that reads differently is reported.
        let mut failures = Vec::new();
        for (i, (body, want)) in bodies.iter().zip(&reference).enumerate() {
            match extract(body) {
                Ok(got) if *extractor == "floor" && got.responses == want.responses => {}
                Ok(got) if got == *want => {}
                Ok(got) => println!("note: {extractor} on {name}[{i}]: {got:?}, dav-xml {want:?}"),
                Err(e) => failures.push((i, e.chars().take(200).collect::<String>())),
            }
        }
        if let Some((i, first)) = failures.first() {
            println!(
                "note: {extractor} fails on {} of {} inputs of dav_xml/{name} (first, [{i}]: \
                 {first}); left out of the group",
                failures.len(),
                bodies.len()
            );
            continue;
        }
        group.bench_function(*extractor, |b| {
            b.iter(|| {
                for body in bodies {
                    let _ = black_box(extract(black_box(body)));
                }
            })
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    for (name, escaping) in [
        ("multiget_10k_cdata", Escaping::Cdata),
        ("multiget_10k_escaped", Escaping::Entities),
    ] {
        let responses = caldav_benches::scale(10_000);
        let body = xml::multistatus(responses, escaping);
        println!("input {name}: {} bytes, {responses} responses", body.len());
        bench_group(c, name, &[body]);
    }
    let seed = xml::seed_multistatus_bodies().unwrap();
    let bytes: usize = seed.iter().map(Vec::len).sum();
    println!(
        "input seed_bodies: {} multistatus bodies, {bytes} bytes",
        seed.len()
    );
    bench_group(c, "seed_bodies", &seed);
    // The one calendar-multiget answer of the seed: what libdav's parser is for.
    let multiget: Vec<Vec<u8>> = seed
        .into_iter()
        .filter(|body| dav_xml_whole(body).is_ok_and(|f| f.data_bytes > 0))
        .collect();
    let bytes: usize = multiget.iter().map(Vec::len).sum();
    println!(
        "input seed_multiget: {} bodies, {bytes} bytes",
        multiget.len()
    );
    bench_group(c, "seed_multiget", &multiget);
}

criterion_group! {
    name = dav_xml;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(dav_xml);
