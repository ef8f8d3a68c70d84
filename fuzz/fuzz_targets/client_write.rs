//! The write machine on arbitrary answers, for each kind of write: it ends with an outcome or
//! an error, never a panic or an endless loop.
#![no_main]

use caldav_client_core::QuirkProfile;
use caldav_client_core::write::{WriteConfig, WriteMachine, WriteRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let event = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u@x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let request = match flags % 5 {
        0 => WriteRequest::Create {
            collection: "/cal/".into(),
            data: event.into(),
        },
        1 => WriteRequest::Update {
            href: "/cal/u.ics".into(),
            etag: "\"1\"".into(),
            data: event.into(),
        },
        2 => WriteRequest::Delete {
            href: "/cal/u.ics".into(),
            etag: "\"1\"".into(),
        },
        3 => WriteRequest::MkCalendar {
            href: "/cal/new/".into(),
            properties: Vec::new(),
        },
        _ => WriteRequest::PropPatch {
            href: "/cal/".into(),
            set: Vec::new(),
            remove: Vec::new(),
        },
    };
    let mut quirks = QuirkProfile::default();
    quirks.trust_put_etag = flags & 8 == 0;
    quirks.if_none_match = flags & 16 == 0;
    let config =
        WriteConfig::new("https://cal.example/".parse().unwrap(), request).with_quirks(quirks);
    let mut machine = WriteMachine::new(config);
    let _ = test_support::fuzz::drive_bytes(&mut machine, rest);
});
