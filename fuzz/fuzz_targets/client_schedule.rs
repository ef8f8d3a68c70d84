//! The scheduling machines (RFC 6638) on arbitrary answers: organizer write, inbox listing,
//! reply, free-busy by outbox POST and by free-busy-query. Each ends with an outcome or an
//! error, never a panic or an endless loop.
#![no_main]

use caldav_client_core::schedule::{
    FreeBusyConfig, FreeBusyMachine, FreeBusyRequest, InboxConfig, InboxMachine, ReplyConfig,
    ReplyMachine, ScheduleWrite, ScheduleWriteConfig, ScheduleWriteMachine,
};
use caldav_model::itip::PartStat;
use libfuzzer_sys::fuzz_target;
use test_support::fuzz::drive_bytes;

const EVENT: &str = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u@x\r\n\
                     ORGANIZER:mailto:a@x\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:b@x\r\n\
                     END:VEVENT\r\nEND:VCALENDAR\r\n";

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let base: http::Uri = "https://cal.example/".parse().unwrap();
    let start = "2026-01-01T00:00:00Z".parse().unwrap();
    let end = "2026-01-02T00:00:00Z".parse().unwrap();
    let tag = (flags & 8 == 0).then(|| "\"s\"".to_owned());
    let _ = match flags % 6 {
        0 => drive_bytes(
            &mut ScheduleWriteMachine::new(ScheduleWriteConfig::new(
                base,
                ScheduleWrite::Create {
                    collection: "/cal/".into(),
                    data: EVENT.into(),
                },
            )),
            rest,
        )
        .map(|_| ()),
        1 => drive_bytes(
            &mut ScheduleWriteMachine::new(ScheduleWriteConfig::new(
                base,
                ScheduleWrite::Update {
                    href: "/cal/u.ics".into(),
                    schedule_tag: tag,
                    etag: Some("\"e\"".into()),
                    data: EVENT.into(),
                },
            )),
            rest,
        )
        .map(|_| ()),
        2 => drive_bytes(
            &mut InboxMachine::new(InboxConfig::new(base, "/inbox/".into())),
            rest,
        )
        .map(|_| ()),
        3 => {
            let mut config = ReplyConfig::new(
                base,
                vec!["/cal/".into(), "/other/".into()],
                "u@x",
                vec!["mailto:b@x".into()],
                PartStat::Accepted,
            );
            if flags & 16 == 0 {
                config = config.with_invitation(EVENT);
            }
            drive_bytes(&mut ReplyMachine::new(config), rest).map(|_| ())
        }
        4 => drive_bytes(
            &mut FreeBusyMachine::new(FreeBusyConfig::new(
                base,
                FreeBusyRequest::Outbox {
                    outbox: "/outbox/".into(),
                    organizer: "mailto:a@x".into(),
                    attendees: vec!["mailto:b@x".into(), "mailto:c@x".into()],
                    uid: "fb".into(),
                    dtstamp: start,
                },
                start,
                end,
            )),
            rest,
        )
        .map(|_| ()),
        _ => drive_bytes(
            &mut FreeBusyMachine::new(FreeBusyConfig::new(
                base,
                FreeBusyRequest::Query {
                    calendar: "/cal/".into(),
                },
                start,
                end,
            )),
            rest,
        )
        .map(|_| ()),
    };
});
