//! The sync ladder, branch by branch, against the in-memory server's knobs.

use std::collections::BTreeMap;

use caldav_client_core::sync::{
    ChangeSet, InitialFetch, SyncConfig, SyncMachine, SyncMethod, SyncOutcome, SyncState,
};
use caldav_client_core::{Machine, Output, QuirkProfile};
use test_support::{Driven, Server, ServerQuirks, drive, drive_with};

const CAL: &str = "/calendars/alice/default/";

pub(crate) fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:{summary}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// The ladder's tests fetch by listing and multigets; the first sync in one answer has its own
/// tests (`inline.rs`).
fn config(quirks: QuirkProfile) -> SyncConfig {
    let mut config = SyncConfig::new("http://cal.example/".parse().unwrap(), vec![CAL.into()])
        .with_quirks(quirks);
    config.initial_fetch = InitialFetch::Multiget;
    config
}

fn run(server: &mut Server, state: SyncState, quirks: QuirkProfile) -> (ChangeSet, SyncState) {
    let mut machine = SyncMachine::new(config(quirks), state);
    let outcome: SyncOutcome = drive(&mut machine, server).unwrap();
    let changes = outcome.calendars[0].result.clone().unwrap();
    (changes, machine.into_state())
}

/// The local etags equal the server's, name by name.
fn assert_in_step(server: &Server, state: &SyncState) {
    let local: BTreeMap<String, String> = state.calendars[CAL]
        .items
        .iter()
        .map(|(k, v)| (k.strip_prefix(CAL).unwrap().to_owned(), v.etag.clone()))
        .collect();
    let remote: BTreeMap<String, String> = server
        .objects(CAL)
        .into_iter()
        .map(|(k, v)| (percent_encode(&k), v.etag))
        .collect();
    assert_eq!(local, remote);
}

fn percent_encode(name: &str) -> String {
    dav_xml::href::encode_path(name).into_string()
}

fn names(items: &[caldav_client_core::sync::Item]) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .map(|i| i.href.as_str().rsplit('/').next().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

fn seeded(quirks: ServerQuirks) -> Server {
    let mut server = Server::new().with_quirks(quirks);
    for name in ["a", "b", "c"] {
        server.put(CAL, &format!("{name}.ics"), &event(name, name));
    }
    server
}

#[test]
fn initial_then_incremental_sync_collection() {
    let mut server = seeded(ServerQuirks::default());
    let (changes, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
    assert_eq!(changes.method, SyncMethod::SyncCollection);
    assert_eq!(names(&changes.added), ["a.ics", "b.ics", "c.ics"]);
    assert!(changes.added[0].data.contains("BEGIN:VEVENT"));
    assert_in_step(&server, &state);
    assert!(state.calendars[CAL].sync_token.is_some());

    server.put(CAL, "b.ics", &event("b", "b2"));
    server.put(CAL, "d.ics", &event("d", "d"));
    server.delete(CAL, "a.ics");
    server.log.clear();
    let (changes, state) = run(&mut server, state, QuirkProfile::default());
    assert_eq!(changes.method, SyncMethod::SyncCollection);
    assert_eq!(names(&changes.added), ["d.ics"]);
    assert_eq!(names(&changes.changed), ["b.ics"]);
    assert!(changes.changed[0].data.contains("SUMMARY:b2"));
    assert_eq!(changes.deleted.len(), 1);
    assert!(changes.deleted[0].as_str().ends_with("/a.ics"));
    assert_in_step(&server, &state);
    // One sync-collection, one multiget.
    assert_eq!(server.log.len(), 2);
}

#[test]
fn invalid_token_falls_back_to_full_resync_for_each_status() {
    for status in [403, 409, 412, 500] {
        let mut server = seeded(ServerQuirks {
            invalid_token_status: status,
            ..ServerQuirks::default()
        });
        let (_, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
        server.delete(CAL, "c.ics");
        server.put(CAL, "a.ics", &event("a", "a2"));
        server.expire_tokens(CAL);
        let (changes, state) = run(&mut server, state, QuirkProfile::default());
        assert_eq!(changes.method, SyncMethod::FullResync, "status {status}");
        assert_eq!(names(&changes.changed), ["a.ics"], "status {status}");
        assert!(changes.added.is_empty(), "status {status}");
        assert_eq!(changes.deleted.len(), 1, "status {status}");
        assert_in_step(&server, &state);
    }
}

#[test]
fn truncated_results_continue_with_507() {
    let mut server = Server::new().with_quirks(ServerQuirks {
        sync_page_size: Some(2),
        ..ServerQuirks::default()
    });
    for i in 0..7 {
        server.put(CAL, &format!("{i}.ics"), &event(&i.to_string(), "x"));
    }
    let (changes, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
    assert_eq!(changes.added.len(), 7);
    assert_in_step(&server, &state);
    let reports = server
        .log
        .iter()
        .filter(|(m, _)| m.as_str() == "REPORT")
        .count();
    // Four sync pages (2+2+2+1) and one multiget.
    assert_eq!(reports, 5);
}

#[test]
fn server_without_sync_collection_uses_ctag_then_etags() {
    let mut server = seeded(ServerQuirks {
        sync_collection: false,
        ..ServerQuirks::default()
    });
    let (changes, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
    assert_eq!(changes.method, SyncMethod::EtagListing);
    assert_eq!(changes.added.len(), 3);
    assert!(state.calendars[CAL].ctag.is_some());
    assert_in_step(&server, &state);

    server.log.clear();
    let (changes, state) = run(&mut server, state, QuirkProfile::default());
    assert_eq!(changes.method, SyncMethod::CtagUnchanged);
    assert!(changes.added.is_empty() && changes.changed.is_empty() && changes.deleted.is_empty());
    // The refused sync-collection is not asked again: the state holds no token, only a ctag.
    assert_eq!(server.log.len(), 1);

    server.delete(CAL, "b.ics");
    let (changes, state) = run(&mut server, state, QuirkProfile::default());
    assert_eq!(changes.method, SyncMethod::EtagListing);
    assert_eq!(changes.deleted.len(), 1);
    assert_in_step(&server, &state);
}

#[test]
fn server_without_ctag_lists_etags_every_time() {
    let mut server = seeded(ServerQuirks {
        sync_collection: false,
        ctag: false,
        ..ServerQuirks::default()
    });
    let quirks = QuirkProfile::default();
    let (_, state) = run(&mut server, SyncState::default(), quirks.clone());
    server.put(CAL, "c.ics", &event("c", "c2"));
    let (changes, state) = run(&mut server, state, quirks);
    assert_eq!(changes.method, SyncMethod::EtagListing);
    assert_eq!(names(&changes.changed), ["c.ics"]);
    assert_in_step(&server, &state);
}

#[test]
fn empty_token_refused_takes_the_token_from_the_listing() {
    let mut server = seeded(ServerQuirks {
        reject_empty_token: true,
        ..ServerQuirks::default()
    });
    let (changes, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
    assert_eq!(changes.method, SyncMethod::EtagListing);
    assert!(state.calendars[CAL].sync_token.is_some());
    server.put(CAL, "e.ics", &event("e", "e"));
    let (changes, state) = run(&mut server, state, QuirkProfile::default());
    assert_eq!(changes.method, SyncMethod::SyncCollection);
    assert_eq!(names(&changes.added), ["e.ics"]);
    assert_in_step(&server, &state);
}

#[test]
fn absolute_and_differently_encoded_hrefs_are_one_item() {
    for quirks in [
        ServerQuirks {
            absolute_hrefs: Some("http://cal.example".into()),
            ..ServerQuirks::default()
        },
        ServerQuirks {
            encode_all: true,
            ..ServerQuirks::default()
        },
    ] {
        let mut server = Server::new().with_quirks(quirks);
        server.put(CAL, "ken@example.com.ics", &event("k", "k"));
        server.put(CAL, "with space.ics", &event("s", "s"));
        let (changes, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
        assert_eq!(changes.added.len(), 2);
        assert!(changes.missing.is_empty());
        assert_in_step(&server, &state);
        server.put(CAL, "with space.ics", &event("s", "s2"));
        let (changes, state) = run(&mut server, state, QuirkProfile::default());
        assert_eq!(changes.changed.len(), 1);
        assert!(changes.added.is_empty());
        assert_in_step(&server, &state);
    }
}

#[test]
fn multiget_gaps_are_asked_again() {
    let mut server = seeded(ServerQuirks {
        multiget_drop_last: 1,
        ..ServerQuirks::default()
    });
    let (changes, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
    assert_eq!(changes.added.len(), 3);
    assert!(changes.missing.is_empty());
    assert_in_step(&server, &state);
}

#[test]
fn multiget_gaps_beyond_the_rounds_are_reported_and_the_token_kept() {
    let mut server = seeded(ServerQuirks {
        multiget_drop_last: 10,
        ..ServerQuirks::default()
    });
    let (changes, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
    assert_eq!(changes.added.len(), 2);
    assert_eq!(changes.missing.len(), 1);
    assert_eq!(state.calendars[CAL].sync_token, None);
    // The next sync, with a server that behaves again, completes the calendar.
    server.quirks.multiget_drop_last = 0;
    let (changes, state) = run(&mut server, state, QuirkProfile::default());
    assert_eq!(changes.added.len(), 1);
    assert_in_step(&server, &state);
}

#[test]
fn duplicate_responses_are_merged() {
    let mut server = seeded(ServerQuirks {
        duplicate_responses: true,
        ..ServerQuirks::default()
    });
    let (changes, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
    assert_eq!(names(&changes.added), ["a.ics", "b.ics", "c.ics"]);
    assert_in_step(&server, &state);
}

#[test]
fn refused_multiget_falls_back_to_get() {
    let mut server = seeded(ServerQuirks {
        multiget: false,
        ..ServerQuirks::default()
    });
    let (changes, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
    assert_eq!(changes.added.len(), 3);
    assert_in_step(&server, &state);
    assert_eq!(server.log.iter().filter(|(m, _)| m == "GET").count(), 3);
}

#[test]
fn get_only_profile_never_sends_multiget() {
    let mut server = seeded(ServerQuirks::default());
    let mut quirks = QuirkProfile::default();
    quirks.multiget = false;
    let (changes, _) = run(&mut server, SyncState::default(), quirks);
    assert_eq!(changes.added.len(), 3);
    assert_eq!(server.log.iter().filter(|(m, _)| m == "REPORT").count(), 1);
}

#[test]
fn item_deleted_between_listing_and_fetch_is_not_added() {
    for whole_404 in [false, true] {
        let mut server = seeded(ServerQuirks {
            multiget_404_whole: whole_404,
            ..ServerQuirks::default()
        });
        let mut machine = SyncMachine::new(config(QuirkProfile::default()), SyncState::default());
        let mut listed = false;
        let driven = drive_with(&mut machine, 100, |request| {
            let response = server.handle(request);
            if !listed {
                listed = true;
                server.delete(CAL, "b.ics");
            }
            response
        });
        let Driven::Done(Ok(outcome)) = driven else {
            panic!("sync did not finish");
        };
        let changes = outcome.calendars[0].result.clone().unwrap();
        assert_eq!(
            names(&changes.added),
            ["a.ics", "c.ics"],
            "whole 404: {whole_404}"
        );
        assert!(changes.missing.is_empty());
        assert_in_step(&server, machine.state());
    }
}

#[test]
fn several_calendars_share_the_requests_in_flight() {
    let mut server = Server::new();
    let calendars: Vec<String> = (0..5).map(|i| format!("/calendars/alice/c{i}/")).collect();
    for (i, calendar) in calendars.iter().enumerate() {
        server.add_calendar(calendar, "c");
        server.put(calendar, "x.ics", &event(&format!("x{i}"), "x"));
    }
    let config = SyncConfig::new(
        "http://cal.example/".parse().unwrap(),
        calendars.iter().map(|c| c.as_str().into()).collect(),
    );
    let mut machine = SyncMachine::new(config, SyncState::default());
    let mut burst = 0;
    while let Output::Http { .. } = machine.poll() {
        burst += 1;
    }
    assert_eq!(
        burst, 4,
        "max_in_flight requests go out before the first answer"
    );
    let mut machine = SyncMachine::new(
        SyncConfig::new(
            "http://cal.example/".parse().unwrap(),
            calendars.iter().map(|c| c.as_str().into()).collect(),
        ),
        SyncState::default(),
    );
    let outcome = drive(&mut machine, &mut server).unwrap();
    assert_eq!(outcome.calendars.len(), 5);
    for calendar in &outcome.calendars {
        assert_eq!(calendar.result.as_ref().unwrap().added.len(), 1);
    }
    assert_eq!(machine.state().calendars.len(), 5);
}

#[test]
fn missing_calendar_fails_alone() {
    let mut server = seeded(ServerQuirks::default());
    let config = SyncConfig::new(
        "http://cal.example/".parse().unwrap(),
        vec![CAL.into(), "/calendars/alice/nope/".into()],
    );
    let mut machine = SyncMachine::new(config, SyncState::default());
    let outcome = drive(&mut machine, &mut server).unwrap();
    assert_eq!(outcome.calendars[0].result.as_ref().unwrap().added.len(), 3);
    assert!(matches!(
        outcome.calendars[1].result,
        Err(caldav_client_core::Error::NotFound { .. })
    ));
    assert_eq!(machine.state().calendars.len(), 1);
}

#[test]
fn usage_errors_for_unknown_ids_and_after_done() {
    let mut server = seeded(ServerQuirks::default());
    let mut machine = SyncMachine::new(config(QuirkProfile::default()), SyncState::default());
    let Output::Http { id, request } = machine.poll() else {
        panic!()
    };
    let response = server.handle(request);
    machine.handle_response(id, response.clone()).unwrap();
    assert!(machine.handle_response(id, response.clone()).is_err());
    let _ = drive(&mut machine, &mut server).unwrap();
    assert!(machine.handle_response(id, response).is_err());
}

#[test]
fn interrupted_sync_restarted_from_persisted_state_ends_the_same() {
    let mut server = seeded(ServerQuirks {
        sync_page_size: Some(1),
        ..ServerQuirks::default()
    });
    let (_, base) = run(&mut server, SyncState::default(), QuirkProfile::default());
    server.put(CAL, "a.ics", &event("a", "a2"));
    server.delete(CAL, "b.ics");
    server.put(CAL, "z.ics", &event("z", "z"));
    let (_, uninterrupted) = run(&mut server.clone(), base.clone(), QuirkProfile::default());
    for budget in 0..8 {
        let mut machine = SyncMachine::new(config(QuirkProfile::default()), base.clone());
        let mut copy = server.clone();
        let driven = drive_with(&mut machine, budget, |r| copy.handle(r));
        // What a caller persists after an interruption is whatever `state()` says.
        let persisted = machine.state().clone();
        if matches!(driven, Driven::Interrupted) {
            assert_eq!(persisted, base);
        }
        let (_, resumed) = run(&mut copy, persisted, QuirkProfile::default());
        assert_eq!(
            resumed.calendars[CAL].items,
            uninterrupted.calendars[CAL].items
        );
        assert_in_step(&copy, &resumed);
    }
}

#[test]
fn state_round_trips_through_json() {
    let mut server = seeded(ServerQuirks::default());
    let (_, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
    let json = serde_json::to_string(&state).unwrap();
    let back: SyncState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
}

#[test]
fn relative_hrefs_and_hrefs_differing_in_encoding_match() {
    let mut machine = SyncMachine::new(
        SyncConfig::new(
            "https://cal.example/".parse().unwrap(),
            vec!["/cal/".into()],
        ),
        SyncState::default(),
    );
    let driven = drive_with(&mut machine, 10, |request| {
        let root = dav_xml::Element::decode(request.body()).unwrap();
        let body = if root.name.local() == "sync-collection" {
            // Relative hrefs, one of them percent-encoded.
            r#"<multistatus xmlns="DAV:"><response><href>a.ics</href><propstat><prop>
               <getetag>"1"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>
               <response><href>b%20c%40d.ics</href><propstat><prop><getetag>"2"</getetag></prop>
               <status>HTTP/1.1 200 OK</status></propstat></response>
               <sync-token>t1</sync-token></multistatus>"#
        } else {
            // The same objects, one absolute, one decoded.
            r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
               <response><href>https://cal.example/cal/a.ics</href><propstat><prop>
               <getetag>"1"</getetag><C:calendar-data>A</C:calendar-data></prop>
               <status>HTTP/1.1 200 OK</status></propstat></response>
               <response><href>/cal/b c@d.ics</href><propstat><prop><getetag>"2"</getetag>
               <C:calendar-data>B</C:calendar-data></prop><status>HTTP/1.1 200 OK</status>
               </propstat></response></multistatus>"#
        };
        http::Response::builder()
            .status(207)
            .body(bytes::Bytes::from(body))
            .unwrap()
    });
    let Driven::Done(Ok(outcome)) = driven else {
        panic!("sync failed")
    };
    let changes = outcome.calendars[0].result.as_ref().unwrap();
    assert_eq!(changes.added.len(), 2);
    assert!(changes.missing.is_empty());
    let keys: Vec<&String> = machine.state().calendars["/cal/"].items.keys().collect();
    assert_eq!(keys, ["/cal/a.ics", "/cal/b%20c@d.ics"]);
}

#[test]
fn multiget_batches_of_one_calendar_are_in_flight_together() {
    let mut server = Server::new();
    for i in 0..6 {
        server.put(CAL, &format!("{i}.ics"), &event(&i.to_string(), "x"));
    }
    let mut quirks = QuirkProfile::default();
    quirks.multiget_batch_size = 2;
    let mut machine = SyncMachine::new(config(quirks), SyncState::default());
    let Output::Http { id, request } = machine.poll() else {
        panic!()
    };
    assert!(matches!(machine.poll(), Output::Wait));
    machine.handle_response(id, server.handle(request)).unwrap();
    let mut batches = Vec::new();
    while let Output::Http { id, request } = machine.poll() {
        batches.push((id, request));
    }
    assert_eq!(batches.len(), 3);
    // Answered in reverse order: ids, not order, match answers to requests.
    for (id, request) in batches.into_iter().rev() {
        machine.handle_response(id, server.handle(request)).unwrap();
    }
    let Output::Done(Ok(outcome)) = machine.poll() else {
        panic!("not done")
    };
    assert_eq!(outcome.calendars[0].result.as_ref().unwrap().added.len(), 6);
}

#[test]
fn interim_102_is_waited_past() {
    let mut server = seeded(ServerQuirks::default());
    let mut machine = SyncMachine::new(config(QuirkProfile::default()), SyncState::default());
    let Output::Http { id, request } = machine.poll() else {
        panic!()
    };
    let processing = http::Response::builder()
        .status(102)
        .body(bytes::Bytes::new())
        .unwrap();
    machine.handle_response(id, processing).unwrap();
    assert!(matches!(machine.poll(), Output::Wait));
    machine.handle_response(id, server.handle(request)).unwrap();
    let outcome = drive(&mut machine, &mut server).unwrap();
    assert_eq!(outcome.calendars[0].result.as_ref().unwrap().added.len(), 3);
}

#[test]
fn rate_limited_incremental_sync_keeps_the_state_and_says_when() {
    let mut server = seeded(ServerQuirks::default());
    let (_, state) = run(&mut server, SyncState::default(), QuirkProfile::default());
    let mut machine = SyncMachine::new(config(QuirkProfile::default()), state.clone());
    let driven = drive_with(&mut machine, 10, |_| {
        http::Response::builder()
            .status(503)
            .header("Retry-After", "120")
            .body(bytes::Bytes::new())
            .unwrap()
    });
    let Driven::Done(Ok(outcome)) = driven else {
        panic!("machine failed")
    };
    assert!(matches!(
        &outcome.calendars[0].result,
        Err(caldav_client_core::Error::Status { status: 503, retry_after: Some(after), .. })
            if after == "120"
    ));
    assert_eq!(machine.state(), &state);
}

/// A checkpointed item the resumed listing no longer names is gone, even from a server whose
/// token history forgets objects created and deleted after the token.
#[test]
fn a_checkpointed_item_the_resumed_listing_forgets_is_deleted() {
    use caldav_client_core::sync::{CalendarState, ItemState, Resume};

    let mut calendar = CalendarState::default();
    calendar.href = CAL.into();
    calendar.sync_token = Some("t1".into());
    let mut item = ItemState::default();
    item.href = format!("{CAL}new.ics");
    item.etag = "\"1\"".into();
    calendar.items.insert(format!("{CAL}new.ics"), item.clone());
    item.href = format!("{CAL}old.ics");
    calendar.items.insert(format!("{CAL}old.ics"), item);
    let mut resume = Resume::default();
    resume.touched.insert(format!("{CAL}new.ics"));
    calendar.resume = Some(resume);
    let mut state = SyncState::default();
    state.calendars.insert(CAL.into(), calendar);

    let mut machine = SyncMachine::new(config(QuirkProfile::default()).with_checkpoints(), state);
    let Output::Http { id, request } = machine.poll() else {
        panic!("expected a request")
    };
    assert!(String::from_utf8_lossy(request.body()).contains("t1"));
    let body = "<multistatus xmlns=\"DAV:\"><sync-token>t2</sync-token></multistatus>";
    let response = http::Response::builder()
        .status(207)
        .body(bytes::Bytes::from(body))
        .unwrap();
    machine.handle_response(id, response).unwrap();
    let Output::Done(Ok(outcome)) = machine.poll() else {
        panic!("expected the end")
    };
    let changes = outcome.calendars[0].result.clone().unwrap();
    let deleted: Vec<&str> = changes.deleted.iter().map(|h| h.as_str()).collect();
    assert_eq!(deleted, [format!("{CAL}new.ics")]);
    let calendar = &machine.state().calendars[CAL];
    assert_eq!(calendar.sync_token.as_deref(), Some("t2"));
    assert!(calendar.resume.is_none());
    assert_eq!(calendar.items.len(), 1, "old.ics was untouched and stays");
}

/// Without checkpoints the state is only committed at the end, and nothing is handed out.
#[test]
fn checkpoints_are_off_by_default() {
    let mut server = Server::new();
    server.put(CAL, "a.ics", &event("a", "x"));
    let mut machine = SyncMachine::new(config(QuirkProfile::default()), SyncState::default());
    let _ = drive(&mut machine, &mut server).unwrap();
    assert!(machine.poll_checkpoint().is_none());

    let mut machine = SyncMachine::new(
        config(QuirkProfile::default()).with_checkpoints(),
        SyncState::default(),
    );
    let _ = drive(&mut machine, &mut server).unwrap();
    let checkpoint = machine.poll_checkpoint().unwrap();
    assert_eq!(checkpoint.items.len(), 1);
    assert_eq!(checkpoint.calendar.as_str(), CAL);
    // Drained after the end: the final state stays complete.
    assert!(machine.state().calendars[CAL].resume.is_none());
}
