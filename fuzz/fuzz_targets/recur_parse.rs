//! RRULE values: parsing never panics, and what parses writes back to an equal rule.
#![no_main]

use ical_parse::recur::Recur;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rule) = Recur::parse(text) {
        let written = rule.to_string();
        let again = Recur::parse(&written).expect("canonical form parses");
        assert_eq!(again, rule, "{written}");
    }
});
