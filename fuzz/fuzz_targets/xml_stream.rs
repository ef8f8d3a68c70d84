//! Streamed decoding with arbitrary splits equals decoding in one chunk, and agrees with
//! whole decoding whenever that succeeds.

#![no_main]

use arbitrary::Arbitrary;
use dav_xml::{Error, Multistatus, StreamDecoder};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    cuts: Vec<u16>,
    body: Vec<u8>,
}

fn stream<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Result<Multistatus, Error> {
    let mut decoder = StreamDecoder::new();
    let mut responses = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk)?;
        while let Some(response) = decoder.poll() {
            responses.push(response);
        }
    }
    let mut rest = decoder.finish()?;
    responses.append(&mut rest.responses);
    rest.responses = responses;
    Ok(rest)
}

fuzz_target!(|input: Input| {
    let body = &input.body[..];
    let mut cuts: Vec<usize> = input
        .cuts
        .iter()
        .map(|c| usize::from(*c) % (body.len() + 1))
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut chunks = Vec::new();
    let mut last = 0;
    for cut in cuts {
        chunks.push(&body[last..cut]);
        last = cut;
    }
    chunks.push(&body[last..]);
    let one = stream([body]);
    let split = stream(chunks);
    assert_eq!(one, split);
    if let Ok(whole) = Multistatus::decode(body) {
        assert_eq!(one, Ok(whole));
    }
});
