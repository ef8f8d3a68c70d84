//! Arbitrary calendar-query bodies, decoded as a server would and evaluated against RFC 4791's
//! example calendars: no panic, no hang, and a decoded query encodes back to itself.
#![no_main]

use caldav_model::query::EvalOptions;
use caldav_model::report::CalendarQuery;
use libfuzzer_sys::fuzz_target;

const DATA: [&str; 4] = [
    include_str!("../../crates/caldav-model/tests/fixtures/rfc4791/abcd2.ics"),
    include_str!("../../crates/caldav-model/tests/fixtures/rfc4791/abcd3.ics"),
    include_str!("../../crates/caldav-model/tests/fixtures/rfc4791/abcd5.ics"),
    include_str!("../../crates/caldav-model/tests/fixtures/rfc4791/abcd8.ics"),
];

fuzz_target!(|data: &[u8]| {
    let Ok(query) = CalendarQuery::decode(data) else {
        return;
    };
    let again = CalendarQuery::decode(query.encode().as_bytes()).expect("re-encoded query decodes");
    assert_eq!(again, query);
    let options = EvalOptions::default();
    for text in DATA {
        if let Ok(calendar) = ical_parse::parse(text) {
            let _ = query.filter.matches(&calendar, &options);
        }
    }
});
