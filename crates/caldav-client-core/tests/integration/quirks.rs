//! Each quirk-profile field a machine reads, against canned answers: with the field at its
//! default the machine does one thing, with the field set it does what the server needs.

use bytes::Bytes;
use caldav_client_core::bootstrap::{BootstrapConfig, BootstrapMachine};
use caldav_client_core::sync::{InitialFetch, SyncConfig, SyncMachine, SyncMethod, SyncState};
use caldav_client_core::write::{WriteConfig, WriteMachine, WriteOutcome, WriteRequest};
use caldav_client_core::{Error, InvalidSyncToken, QuirkProfile};
use caldav_model::filter::Filter;
use caldav_model::report::CalendarQuery;
use http::Method;
use test_support::{Driven, Server, ServerQuirks, drive, drive_with};

use crate::sync::event;

const CAL: &str = "/calendars/alice/default/";

fn with(set: impl FnOnce(&mut QuirkProfile)) -> QuirkProfile {
    let mut quirks = QuirkProfile::default();
    set(&mut quirks);
    quirks
}

fn base() -> http::Uri {
    "http://cal.example/".parse().unwrap()
}

fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Bytes> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Bytes::from(body.to_owned())).unwrap()
}

fn is_sync_report(request: &http::Request<Bytes>) -> bool {
    request.method().as_str() == "REPORT"
        && String::from_utf8_lossy(request.body()).contains("sync-collection")
}

/// A synced state, then a server that no longer knows the token and answers a token it does
/// not know with a bare `status` (no `DAV:error` body).
fn sync_after_bare_refusal(status: u16, quirks: QuirkProfile) -> Result<SyncMethod, Error> {
    let mut server = Server::new();
    server.put(CAL, "a.ics", &event("a", "a"));
    let mut first = SyncMachine::new(
        SyncConfig::new(base(), vec![CAL.into()]),
        SyncState::default(),
    );
    let _ = drive(&mut first, &mut server).unwrap();
    let state = first.into_state();
    server.expire_tokens(CAL);
    let mut machine = SyncMachine::new(
        SyncConfig::new(base(), vec![CAL.into()]).with_quirks(quirks),
        state,
    );
    let outcome = match drive_with(&mut machine, 100, |request| {
        let response = server.handle(request.clone());
        if is_sync_report(&request) && response.status().is_client_error() {
            answer(status, &[], "")
        } else {
            response
        }
    }) {
        Driven::Done(outcome) => outcome.unwrap(),
        Driven::Interrupted => panic!("sync did not settle"),
    };
    let result = outcome.calendars[0].result.clone();
    result.map(|changes| changes.method)
}

#[test]
fn invalid_sync_token_status_is_recognised_without_a_body() {
    // Default: a bare 412 is not the RFC 6578 precondition, so the calendar fails.
    let error = sync_after_bare_refusal(412, QuirkProfile::default()).unwrap_err();
    assert!(matches!(error, Error::Precondition { status: 412, .. }));
    // The profile says this server answers a bad token with 412: a full resync.
    let quirks = with(|q| q.invalid_sync_token = InvalidSyncToken::PreconditionFailed);
    assert_eq!(
        sync_after_bare_refusal(412, quirks).unwrap(),
        SyncMethod::FullResync
    );
    // A 409 is not what that server sends for a bad token: still an error.
    let quirks = with(|q| q.invalid_sync_token = InvalidSyncToken::PreconditionFailed);
    assert!(sync_after_bare_refusal(409, quirks).is_err());
}

#[test]
fn full_listing_on_invalid_token_means_tokens_are_not_used() {
    let mut server = Server::new();
    server.put(CAL, "a.ics", &event("a", "a"));
    let mut first = SyncMachine::new(
        SyncConfig::new(base(), vec![CAL.into()]),
        SyncState::default(),
    );
    let _ = drive(&mut first, &mut server).unwrap();
    let state = first.into_state();
    assert!(state.calendars[CAL].sync_token.is_some());
    server.delete(CAL, "a.ics");
    server.log.clear();
    let quirks = with(|q| q.invalid_sync_token = InvalidSyncToken::FullListing);
    let mut machine = SyncMachine::new(
        SyncConfig::new(base(), vec![CAL.into()]).with_quirks(quirks),
        state,
    );
    let outcome = drive(&mut machine, &mut server).unwrap();
    let changes = outcome.calendars[0].result.clone().unwrap();
    assert_eq!(changes.method, SyncMethod::EtagListing);
    assert_eq!(changes.deleted.len(), 1);
    assert!(server.log.iter().all(|(m, _)| m.as_str() != "REPORT"));
}

#[test]
fn multiget_omissions_are_checked_with_get() {
    let server_quirks = ServerQuirks {
        multiget_drop_last: 1,
        ..ServerQuirks::default()
    };
    for (omits, gets) in [(false, 0), (true, 1)] {
        let mut server = Server::new().with_quirks(server_quirks.clone());
        for name in ["a", "b"] {
            server.put(CAL, &format!("{name}.ics"), &event(name, name));
        }
        let quirks = with(|q| q.multiget_omits_missing = omits);
        let mut config = SyncConfig::new(base(), vec![CAL.into()]).with_quirks(quirks);
        config.initial_fetch = InitialFetch::Multiget;
        let mut machine = SyncMachine::new(config, SyncState::default());
        let outcome = drive(&mut machine, &mut server).unwrap();
        let changes = outcome.calendars[0].result.clone().unwrap();
        assert_eq!(changes.added.len(), 2, "omits_missing = {omits}");
        let get_count = server.log.iter().filter(|(m, _)| m == Method::GET).count();
        assert_eq!(get_count, gets, "omits_missing = {omits}");
    }
}

fn delete_answered(status: u16, quirks: QuirkProfile) -> Result<WriteOutcome, Error> {
    let mut machine = WriteMachine::new(
        WriteConfig::new(
            base(),
            WriteRequest::Delete {
                href: "/calendars/alice/default/a.ics".into(),
                etag: "\"1\"".into(),
            },
        )
        .with_quirks(quirks),
    );
    match drive_with(&mut machine, 10, |_| answer(status, &[], "")) {
        Driven::Done(result) => result,
        Driven::Interrupted => panic!("write did not settle"),
    }
}

#[test]
fn delete_success_statuses_come_from_the_profile() {
    assert!(matches!(
        delete_answered(200, QuirkProfile::default()),
        Ok(WriteOutcome::Deleted { .. })
    ));
    assert!(matches!(
        delete_answered(204, QuirkProfile::default()),
        Ok(WriteOutcome::Deleted { .. })
    ));
    // A 207 names failures, a 202 says "not yet": neither is a deletion to rely on.
    assert!(matches!(
        delete_answered(207, QuirkProfile::default()),
        Err(Error::Status { status: 207, .. })
    ));
    assert!(delete_answered(202, QuirkProfile::default()).is_err());
    let strict = with(|q| q.delete_ok_statuses = vec![204]);
    assert!(delete_answered(200, strict).is_err());
}

#[test]
fn put_etag_missing_fetches_the_etag_even_when_a_header_came() {
    for (missing, requests) in [(false, 1), (true, 2)] {
        let quirks = with(|q| q.put_etag_missing = missing);
        let mut machine = WriteMachine::new(
            WriteConfig::new(
                base(),
                WriteRequest::Create {
                    collection: CAL.into(),
                    data: event("x", "x"),
                },
            )
            .with_quirks(quirks),
        );
        let mut seen = Vec::new();
        let outcome = match drive_with(&mut machine, 10, |request| {
            seen.push(request.method().clone());
            if request.method() == Method::PUT {
                answer(201, &[("ETag", "\"from-put\"")], "")
            } else {
                answer(
                    207,
                    &[],
                    "<multistatus xmlns=\"DAV:\"><response><href>/calendars/alice/default/x.ics\
                     </href><propstat><prop><getetag>\"stored\"</getetag></prop>\
                     <status>HTTP/1.1 200 OK</status></propstat></response></multistatus>",
                )
            }
        }) {
            Driven::Done(outcome) => outcome.unwrap(),
            Driven::Interrupted => panic!("write did not settle"),
        };
        assert_eq!(seen.len(), requests);
        let WriteOutcome::Created { etag, .. } = outcome else {
            panic!("{outcome:?}")
        };
        let want = if missing {
            "\"stored\""
        } else {
            "\"from-put\""
        };
        assert_eq!(etag.as_deref(), Some(want));
    }
}

#[test]
fn a_conflict_with_the_same_object_rewritten_is_recognised_when_the_server_rewrites() {
    let sent = event("x", "x");
    // The server's copy: the same lines, reordered and without the final CRLF.
    let mut lines: Vec<&str> = sent.trim_end().split("\r\n").collect();
    lines.swap(1, 2);
    let stored = lines.join("\r\n");
    for (rewrites, same) in [(false, false), (true, true)] {
        let quirks = with(|q| q.rewrites_data = rewrites);
        let mut machine = WriteMachine::new(
            WriteConfig::new(
                base(),
                WriteRequest::Create {
                    collection: CAL.into(),
                    data: sent.clone(),
                },
            )
            .with_quirks(quirks),
        );
        let outcome = match drive_with(&mut machine, 10, |request| {
            if request.method() == Method::PUT {
                answer(412, &[], "")
            } else {
                answer(200, &[("ETag", "\"s\"")], &stored)
            }
        }) {
            Driven::Done(outcome) => outcome.unwrap(),
            Driven::Interrupted => panic!("write did not settle"),
        };
        let WriteOutcome::Conflict(conflict) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(conflict.same_as_local, same);
        assert_eq!(conflict.server_etag.as_deref(), Some("\"s\""));
    }
}

#[test]
fn without_dav_at_root_bootstrap_asks_the_calendar_home_for_capabilities() {
    for (at_root, options_path) in [(true, "/principals/alice/"), (false, "/calendars/alice/")] {
        let mut server = Server::new();
        let mut config = BootstrapConfig::new("http://cal.example/".parse().unwrap());
        config.quirks.dav_header_at_root = at_root;
        let mut machine = BootstrapMachine::new(config);
        let account = drive(&mut machine, &mut server).unwrap();
        assert!(account.capabilities.calendar_access());
        let options: Vec<&String> = server
            .log
            .iter()
            .filter(|(m, _)| m == Method::OPTIONS)
            .map(|(_, p)| p)
            .collect();
        assert_eq!(options, [options_path], "dav_header_at_root = {at_root}");
    }
}

#[test]
fn comp_filter_required_splits_a_bare_query_into_one_per_component() {
    let quirks = with(|q| q.comp_filter_required = true);
    let filters = quirks.query_filters(&Filter::any());
    let names: Vec<&str> = filters
        .iter()
        .map(|f| f.root.comps[0].name.as_str())
        .collect();
    assert_eq!(names, ["VEVENT", "VTODO", "VJOURNAL"]);
    for filter in filters {
        let body = CalendarQuery::new(filter).to_element().encode();
        assert!(body.matches("comp-filter").count() >= 2);
    }
    // A filter that already names a component is sent as it is.
    let event = Filter::component(caldav_model::filter::CompFilter::new("VEVENT"));
    assert_eq!(quirks.query_filters(&event), vec![event]);
}

#[test]
fn profiles_without_the_new_fields_still_load() {
    let old = r#"{"sync_collection": false, "ctag": true, "multiget_batch_size": 50,
                  "if_none_match": true, "trust_put_etag": false, "prefer_minimal": true}"#;
    let profile: QuirkProfile = serde_json::from_str(old).unwrap();
    assert!(!profile.sync_collection && !profile.trust_put_etag);
    assert_eq!(profile.invalid_sync_token, InvalidSyncToken::ValidSyncToken);
    assert_eq!(profile.delete_ok_statuses, [200, 204]);
    assert!(profile.dav_header_at_root && !profile.http2_unreliable);
}
