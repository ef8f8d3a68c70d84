//! Telemetry-log reader: any input, small limits, both framing policies; what parses is
//! written back and read again.

#![no_main]

use caldav_trace::{Framing, ParseConfig, Trace, WriteConfig, Writer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (flags, input) = data.split_first().map_or((0, data), |(f, rest)| (*f, rest));
    let mut config = ParseConfig::default();
    config.max_head_size = 4096;
    config.max_headers = 32;
    config.max_body_size = 1 << 16;
    if flags & 1 == 1 {
        config.framing = Framing::Declared;
    }
    let mut log = Vec::with_capacity(input.len() + 32);
    if flags & 2 == 2 {
        // Start inside a session so the fuzzer reaches the HTTP layer quickly.
        log.extend_from_slice(b"---------- fuzz Tue Sep 26 03:50:28 2017\n\n");
    }
    log.extend_from_slice(input);
    let Ok(trace) = Trace::parse_with(&log, config) else {
        return;
    };
    for exchange in trace.exchanges() {
        let len = exchange.request.body().len();
        assert!(exchange.request_chunks.iter().all(|&o| o < len));
        assert!(exchange.request_chunks.windows(2).all(|w| w[0] < w[1]));
        if let Some(response) = &exchange.response {
            let len = response.body().len();
            assert!(exchange.response_chunks.iter().all(|&o| o < len));
            assert!(exchange.response_chunks.windows(2).all(|w| w[0] < w[1]));
        }
    }
    if let Ok(written) = Writer::write_trace(&trace, WriteConfig::default()) {
        let _ = Trace::parse_with(&written, config);
    }
});
