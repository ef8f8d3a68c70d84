//! Peak memory of `dav-xml`'s streaming decoder on the generated 10,000-response multistatus.
//!
//! The document is generated response by response and handed over in 64 KiB pieces, as a
//! socket would, so it is never held whole: what the process' peak resident set grows by
//! while decoding is the decoder's own footprint. The peak is read from `VmHWM` in
//! `/proc/self/status` (Linux) after each phase:
//!
//! 1. generate the whole stream without decoding it (the baseline);
//! 2. generate it again and stream it through `StreamDecoder`;
//! 3. for comparison, build the document whole and decode it with `Multistatus::decode`
//!    (with a second argument `owned`: hand it to `Multistatus::decode_owned` instead).
//!
//! Run with `cargo run --release -p caldav-benches --example stream_peak -- [cdata|escaped]
//! [owned]`.

#![allow(clippy::unwrap_used)]

use caldav_benches::xml::{self, Escaping};
use dav_xml::{Multistatus, QName, StreamDecoder};

const RESPONSES: usize = 10_000;
const PIECE: usize = 64 * 1024;

/// The peak resident set so far, in KiB, or 0 where `/proc` is not there.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Generates the document in pieces of about `PIECE` bytes and hands each to `sink`.
fn generate(escaping: Escaping, mut sink: impl FnMut(&[u8])) -> usize {
    let mut piece = Vec::with_capacity(PIECE + 4096);
    let mut total = 0;
    piece.extend_from_slice(xml::HEAD.as_bytes());
    for i in 0..RESPONSES {
        xml::write_response(&mut piece, i, escaping);
        if piece.len() >= PIECE {
            total += piece.len();
            sink(&piece);
            piece.clear();
        }
    }
    piece.extend_from_slice(xml::TAIL.as_bytes());
    total += piece.len();
    sink(&piece);
    total
}

fn main() {
    let escaping = match std::env::args().nth(1).as_deref() {
        Some("escaped") => Escaping::Entities,
        _ => Escaping::Cdata,
    };
    let owned = std::env::args().nth(2).as_deref() == Some("owned");
    let start = peak_kib();

    let mut checksum = 0usize;
    let bytes = generate(escaping, |piece| checksum += piece.len());
    let baseline = peak_kib();

    let mut decoder = StreamDecoder::new();
    let mut responses = 0;
    let mut data_bytes = 0;
    generate(escaping, |piece| {
        decoder.feed(piece).unwrap();
        while let Some(r) = decoder.poll() {
            responses += 1;
            data_bytes += r
                .prop(&QName::CALDAV_CALENDAR_DATA)
                .map_or(0, |d| d.text().len());
        }
    });
    responses += decoder.finish().unwrap().responses.len();
    assert_eq!(responses, RESPONSES);
    let streamed = peak_kib();

    let whole = xml::multistatus(RESPONSES, escaping);
    let decoded = if owned {
        Multistatus::decode_owned(whole).unwrap()
    } else {
        Multistatus::decode(&whole).unwrap()
    };
    assert_eq!(decoded.responses.len(), RESPONSES);
    let whole_peak = peak_kib();

    println!(
        "stream_peak {escaping:?}: document {bytes} bytes ({checksum} generated), \
         {responses} responses, {data_bytes} bytes of calendar data"
    );
    println!("  peak RSS at start:                 {start} KiB");
    println!("  after generating only (baseline):  {baseline} KiB");
    println!(
        "  after streaming through dav-xml:   {streamed} KiB (+{} KiB over the baseline)",
        streamed.saturating_sub(baseline)
    );
    println!(
        "  after Multistatus::{} whole: {whole_peak} KiB (+{} KiB over the baseline)",
        if owned { "decode_owned" } else { "decode" },
        whole_peak.saturating_sub(baseline)
    );
}
