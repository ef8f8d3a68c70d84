//! Multistatus decoding against peers, in the same run, on the same bytes.
//!
//! Input: a generated calendar-multiget answer of 10,000 responses, each with an href, a
//! getetag and calendar data (about 19 MB), in two variants: calendar data in CDATA, and
//! entity-escaped with `&#13;` before each LF as SabreDAV and Nextcloud send it; plus every
//! multistatus body of the seed trace, concatenated run by run.
//!
//! Each contender extracts the same things (hrefs, status lines, etags, calendar data) and
//! returns their total length:
//!
//! - `floor`: UTF-8 check plus a bare quick-xml `Reader` event loop (no namespaces, no
//!   unescaping, no allocation): what any quick-xml-based decoder must at least do;
//! - `roxmltree`: parse into roxmltree's DOM, then walk it;
//! - `quick_xml_serde`: quick-xml's serde deserializer into structs (prefix-dependent!);
//! - `dav_xml_whole`: [`Multistatus::decode`];
//! - `dav_xml_stream`: [`StreamDecoder`] fed 64 KiB chunks (memory bounded by one response).
//!
//! Run with `cargo bench -p caldav-benches --bench dav_xml`; criterion prints throughput.

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dav_xml::{Multistatus, QName, StreamDecoder};
use quick_xml::events::Event;
use serde::Deserialize;

const RESPONSES: usize = 10_000;

fn calendar(i: usize) -> String {
    let mut ics = String::new();
    ics.push_str("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//bench//EN\nBEGIN:VEVENT\n");
    let _ = write!(ics, "UID:event-{i}@example.com\nDTSTAMP:20250101T000000Z\n");
    let _ = write!(
        ics,
        "DTSTART:2025{:02}{:02}T090000Z\nDTEND:2025{:02}{:02}T100000Z\n",
        i % 12 + 1,
        i % 28 + 1,
        i % 12 + 1,
        i % 28 + 1
    );
    ics.push_str("SUMMARY:Weekly planning meeting with the whole team & guests\n");
    ics.push_str("DESCRIPTION:Agenda: review <open> items\\, plan next steps\\, assign owners.\\n Bring notes.\n");
    ics.push_str("LOCATION:Room 4\\, Building B\nORGANIZER;CN=Alice:mailto:alice@example.com\n");
    for a in 0..6 {
        let _ = writeln!(
            ics,
            "ATTENDEE;CN=Person {a};PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:p{a}@example.com"
        );
    }
    ics.push_str(
        "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nDESCRIPTION:Reminder\nEND:VALARM\n",
    );
    ics.push_str("END:VEVENT\nEND:VCALENDAR\n");
    ics
}

/// A calendar-multiget answer; `escaped` writes the data as SabreDAV does (`&#13;` + LF).
fn multiget(escaped: bool) -> Vec<u8> {
    let mut out = String::with_capacity(20 << 20);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:cal=\"urn:ietf:params:xml:ns:caldav\">\n");
    for i in 0..RESPONSES {
        let _ = write!(
            out,
            " <d:response>\n  <d:href>/remote.php/dav/calendars/user/personal/event-{i}.ics</d:href>\n  <d:propstat>\n   <d:prop>\n    <d:getetag>&quot;{i:08x}&quot;</d:getetag>\n    <cal:calendar-data>"
        );
        let ics = calendar(i);
        if escaped {
            for ch in ics.chars() {
                match ch {
                    '\n' => out.push_str("&#13;\n"),
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    c => out.push(c),
                }
            }
        } else {
            out.push_str("<![CDATA[");
            out.push_str(&ics.replace('\n', "\r\n"));
            out.push_str("]]>");
        }
        out.push_str("</cal:calendar-data>\n   </d:prop>\n   <d:status>HTTP/1.1 200 OK</d:status>\n  </d:propstat>\n </d:response>\n");
    }
    out.push_str("</d:multistatus>\n");
    out.into_bytes()
}

fn seed_bodies() -> Vec<Vec<u8>> {
    caldav_trace::seed::exchanges()
        .unwrap()
        .into_iter()
        .filter_map(|e| e.response)
        .filter(|r| r.status() == 207)
        .map(|r| r.body().to_vec())
        .collect()
}

fn floor(body: &[u8]) -> usize {
    let text = std::str::from_utf8(body).unwrap();
    let mut reader = quick_xml::Reader::from_str(text);
    let mut n = 0;
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Text(t) => n += t.len(),
            Event::CData(t) => n += t.len(),
            _ => n += 1,
        }
    }
    n
}

fn ours_whole(body: &[u8]) -> usize {
    let ms = Multistatus::decode(body).unwrap();
    ms.responses.iter().map(extract).sum()
}

fn extract(r: &dav_xml::Response) -> usize {
    let mut n = r.hrefs.iter().map(|h| h.as_str().len()).sum::<usize>();
    for p in &r.propstats {
        n += usize::from(p.status.map_or(0, |s| s.as_u16()));
        for prop in &p.props {
            if prop.name == QName::DAV_GETETAG || prop.name == QName::CALDAV_CALENDAR_DATA {
                n += prop.text().len();
            }
        }
    }
    n
}

fn ours_stream(body: &[u8]) -> usize {
    let mut decoder = StreamDecoder::new();
    let mut n = 0;
    for chunk in body.chunks(64 * 1024) {
        decoder.feed(chunk).unwrap();
        while let Some(r) = decoder.poll() {
            n += extract(&r);
        }
    }
    n + decoder
        .finish()
        .unwrap()
        .responses
        .iter()
        .map(extract)
        .sum::<usize>()
}

fn roxml(body: &[u8]) -> usize {
    let text = std::str::from_utf8(body).unwrap();
    let doc = roxmltree::Document::parse(text).unwrap();
    let mut n = 0;
    for response in doc
        .descendants()
        .filter(|e| e.has_tag_name(("DAV:", "response")))
    {
        for node in response.descendants() {
            let name = node.tag_name();
            match (name.namespace(), name.name()) {
                (Some("DAV:"), "href" | "getetag" | "status")
                | (Some("urn:ietf:params:xml:ns:caldav"), "calendar-data") => {
                    n += node.text().map_or(0, str::len);
                }
                _ => {}
            }
        }
    }
    n
}

#[derive(Deserialize)]
struct SMultistatus {
    #[serde(rename = "response", default)]
    responses: Vec<SResponse>,
}

#[derive(Deserialize)]
struct SResponse {
    href: Vec<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    propstat: Vec<SPropStat>,
}

#[derive(Deserialize)]
struct SPropStat {
    prop: SProp,
    status: String,
}

#[derive(Deserialize)]
struct SProp {
    #[serde(default)]
    getetag: Option<String>,
    #[serde(rename = "calendar-data", default)]
    calendar_data: Option<String>,
}

fn serde(body: &[u8]) -> usize {
    let text = std::str::from_utf8(body).unwrap();
    let ms: SMultistatus = quick_xml::de::from_str(text).unwrap();
    let mut n = 0;
    for r in &ms.responses {
        n += r.href.iter().map(String::len).sum::<usize>()
            + r.status.as_ref().map_or(0, String::len);
        for p in &r.propstat {
            n += p.status.len();
            n += p.prop.getetag.as_ref().map_or(0, String::len);
            n += p.prop.calendar_data.as_ref().map_or(0, String::len);
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let inputs = [("cdata", multiget(false)), ("escaped", multiget(true))];
    for (name, body) in &inputs {
        let mut group = c.benchmark_group(format!("dav_xml/multiget_{name}"));
        group.sample_size(10);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("floor", |b| b.iter(|| floor(black_box(body))));
        group.bench_function("dav_xml_whole", |b| b.iter(|| ours_whole(black_box(body))));
        group.bench_function("dav_xml_stream", |b| {
            b.iter(|| ours_stream(black_box(body)))
        });
        group.bench_function("roxmltree", |b| b.iter(|| roxml(black_box(body))));
        group.bench_function("quick_xml_serde", |b| b.iter(|| serde(black_box(body))));
        group.finish();
    }
    let seed = seed_bodies();
    let total: usize = seed.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("dav_xml/seed");
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("floor", |b| {
        b.iter(|| seed.iter().map(|s| floor(black_box(s))).sum::<usize>())
    });
    group.bench_function("dav_xml_whole", |b| {
        b.iter(|| seed.iter().map(|s| ours_whole(black_box(s))).sum::<usize>())
    });
    group.bench_function("dav_xml_stream", |b| {
        b.iter(|| {
            seed.iter()
                .map(|s| ours_stream(black_box(s)))
                .sum::<usize>()
        })
    });
    group.bench_function("roxmltree", |b| {
        b.iter(|| seed.iter().map(|s| roxml(black_box(s))).sum::<usize>())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
