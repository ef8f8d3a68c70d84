//! iTIP on arbitrary calendars: validation against the RFC 5546 §3 tables, the REPLY and
//! CANCEL builders, the RFC 6638 attendee rewrites, and the free-busy decoders of a server's
//! answer. Any input ends with a value or an error, never a panic.
#![no_main]

use caldav_model::filter::TimeRange;
use caldav_model::freebusy::{ScheduleResponse, busy_periods};
use caldav_model::itip::{self, ForceSend, ItipMessage, PartStat, ScheduleAgent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ScheduleResponse::decode(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let start = "2026-01-01T00:00:00Z".parse().unwrap();
    let end = "2026-01-03T00:00:00Z".parse().unwrap();
    if let Some(range) = TimeRange::new(Some(start), Some(end)) {
        let _ = busy_periods(text, range);
    }
    let Ok(parsed) = ical_parse::parse_with(text, &ical_parse::ParseOptions::lenient()) else {
        return;
    };
    let mut calendar = parsed.calendar;
    let _ = itip::validate(&calendar);
    let list = itip::attendees(&calendar);
    let address = list
        .first()
        .map_or("mailto:a@x", |a| a.address.as_str())
        .to_owned();
    let _ = itip::reply(&calendar, &address, &PartStat::Accepted, start);
    let _ = itip::cancel(&calendar, None, start);
    let _ = itip::cancel(&calendar, Some(&[address.as_str()]), start);
    if let Ok(message) = ItipMessage::from_calendar(calendar.clone()) {
        let _ = message.write();
    }
    itip::set_partstat(&mut calendar, &address, &PartStat::Tentative);
    itip::set_schedule_agent(&mut calendar, None, &ScheduleAgent::Client);
    itip::set_schedule_force_send(&mut calendar, &address, ForceSend::Request);
    let written = calendar.write();
    // What the rewrites produce is still iCalendar.
    assert!(ical_parse::parse_with(&written, &ical_parse::ParseOptions::lenient()).is_ok());
});
