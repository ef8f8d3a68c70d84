//! `ical_parse`: bytes -> parse (strict and lenient) -> if Ok, write -> parse again must
//! succeed and give the same model, and writing again must give the same text. jCal too:
//! to_json -> from_json -> to_json is stable. `parse` and `parse_strict` (which collect no
//! warnings and take quicker ways for it) must give what `parse_with` gives.

#![no_main]

use ical_parse::{ParseOptions, jcal, parse, parse_bytes_with, parse_strict, parse_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let calendar = |o| parse_with(text, &o).map(|p| p.calendar);
        assert_eq!(parse(text), calendar(ParseOptions::lenient()), "parse");
        assert_eq!(
            parse_strict(text),
            calendar(ParseOptions::strict()),
            "parse_strict"
        );
    }
    for options in [ParseOptions::strict(), ParseOptions::lenient()] {
        let Ok(parsed) = parse_bytes_with(data, &options) else {
            continue;
        };
        let written = parsed.calendar.write();
        let again = parse_with(&written, &options).expect("written form must parse");
        assert_eq!(
            again.calendar, parsed.calendar,
            "parse -> write -> parse differs"
        );
        assert_eq!(again.calendar.write(), written, "writing is not idempotent");
        let json = jcal::to_json(&parsed.calendar);
        let back = jcal::from_json(&json).expect("our jCal must read back");
        assert_eq!(jcal::to_json(&back), json, "jCal does not round-trip");
    }
});
