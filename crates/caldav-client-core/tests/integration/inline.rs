//! A calendar's first sync in one `sync-collection` answer carrying the data
//! (`InitialFetch::Inline`), and each way it falls back to the listing and multigets, with
//! canned answers.

use bytes::Bytes;
use caldav_client_core::sync::{
    InitialFetch, SyncConfig, SyncMachine, SyncMethod, SyncOutcome, SyncState,
};
use caldav_client_core::{Machine, Output, ResponseLimit, TransportFailure};
use dav_xml::{Element, QName};
use test_support::{Driven, Server, drive, drive_with};

use crate::sync::event;

const CAL: &str = "/cal/";

fn config() -> SyncConfig {
    SyncConfig::new("http://cal.example/".parse().unwrap(), vec![CAL.into()])
}

fn answer(status: u16, body: String) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .body(Bytes::from(body))
        .unwrap()
}

/// What a request is, as the canned server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `sync-collection` asking for `calendar-data`.
    Inline,
    /// `sync-collection` asking for etags only.
    Listing,
    /// A Depth:1 PROPFIND.
    Propfind,
    /// `calendar-multiget` of these hrefs.
    Multiget(Vec<String>),
}

fn kind(request: &http::Request<Bytes>) -> Kind {
    let root = Element::decode(request.body()).unwrap();
    if root.name == QName::dav("sync-collection") {
        let data = std::str::from_utf8(request.body())
            .unwrap()
            .contains("calendar-data");
        assert!(
            request.body().windows(10).any(|w| w == b"sync-token"),
            "a sync-collection names its token"
        );
        if data { Kind::Inline } else { Kind::Listing }
    } else if root.name == QName::caldav("calendar-multiget") {
        Kind::Multiget(
            root.children_named(&QName::DAV_HREF)
                .map(|h| h.text().into_owned())
                .collect(),
        )
    } else {
        assert_eq!(request.method().as_str(), "PROPFIND");
        Kind::Propfind
    }
}

/// A multistatus of members `0..count` (`/cal/N.ics`, etag `"eN"`), those for which `with_data`
/// holds carrying their calendar data; `tail` goes before the closing tag.
fn members(count: usize, with_data: impl Fn(usize) -> bool, tail: &str) -> String {
    let mut body =
        String::from(r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">"#);
    for i in 0..count {
        let data = if with_data(i) {
            format!(
                "<C:calendar-data>{}</C:calendar-data>",
                event(&i.to_string(), "x")
            )
        } else {
            String::new()
        };
        body.push_str(&format!(
            "<response><href>/cal/{i}.ics</href><propstat><prop><getetag>\"e{i}\"</getetag>\
             {data}</prop><status>HTTP/1.1 200 OK</status></propstat></response>"
        ));
    }
    body.push_str(tail);
    body.push_str("</multistatus>");
    body
}

/// Answers every multiget with the hrefs it asks for.
fn multiget_answer(hrefs: &[String]) -> http::Response<Bytes> {
    let mut body =
        String::from(r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">"#);
    for href in hrefs {
        let i = href
            .trim_start_matches("/cal/")
            .trim_end_matches(".ics")
            .to_owned();
        body.push_str(&format!(
            "<response><href>{href}</href><propstat><prop><getetag>\"e{i}\"</getetag>\
             <C:calendar-data>{}</C:calendar-data></prop><status>HTTP/1.1 200 OK</status>\
             </propstat></response>",
            event(&i, "x")
        ));
    }
    body.push_str("</multistatus>");
    answer(207, body)
}

const TOKEN: &str = "<sync-token>http://cal.example/sync/7</sync-token>";

/// Runs a first sync of a calendar of `count` members against `inline` (the answer to the
/// one-answer request); the plain listing and multigets are answered as a good server would.
/// Returns the outcome and the kinds of requests made, in order.
fn first_sync(
    config: SyncConfig,
    count: usize,
    inline: impl Fn() -> http::Response<Bytes>,
) -> (SyncOutcome, Vec<Kind>, SyncMachine) {
    let mut machine = SyncMachine::new(config, SyncState::default());
    let mut kinds = Vec::new();
    let driven = drive_with(&mut machine, 100, |request| {
        let k = kind(&request);
        kinds.push(k.clone());
        match k {
            Kind::Inline => inline(),
            Kind::Listing => answer(207, members(count, |_| false, TOKEN)),
            Kind::Propfind => answer(
                207,
                members(
                    count,
                    |_| false,
                    "<response><href>/cal/</href><propstat><prop>\
                     <getctag xmlns=\"http://calendarserver.org/ns/\">c1</getctag>\
                     </prop><status>HTTP/1.1 200 OK</status></propstat></response>",
                ),
            ),
            Kind::Multiget(hrefs) => multiget_answer(&hrefs),
        }
    });
    let Driven::Done(Ok(outcome)) = driven else {
        panic!("the sync did not finish")
    };
    (outcome, kinds, machine)
}

fn added(outcome: &SyncOutcome) -> usize {
    let changes = outcome.calendars[0].result.as_ref().unwrap();
    assert!(changes.missing.is_empty(), "{:?}", changes.missing);
    changes.added.len()
}

fn multigets(kinds: &[Kind]) -> Vec<usize> {
    kinds
        .iter()
        .filter_map(|k| match k {
            Kind::Multiget(h) => Some(h.len()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_first_sync_is_one_answer_with_the_data() {
    let (outcome, kinds, machine) =
        first_sync(config(), 5, || answer(207, members(5, |_| true, TOKEN)));
    assert_eq!(kinds, [Kind::Inline]);
    assert_eq!(added(&outcome), 5);
    let changes = outcome.calendars[0].result.as_ref().unwrap();
    assert_eq!(changes.method, SyncMethod::SyncCollection);
    assert!(
        changes
            .added
            .iter()
            .all(|i| i.data.contains("BEGIN:VEVENT"))
    );
    let state = &machine.state().calendars[CAL];
    assert_eq!(
        state.sync_token.as_deref(),
        Some("http://cal.example/sync/7")
    );
    assert_eq!(state.items["/cal/3.ics"].etag, "\"e3\"");
}

#[test]
fn the_multiget_choice_lists_first() {
    let mut config = config();
    config.initial_fetch = InitialFetch::Multiget;
    let (outcome, kinds, _) = first_sync(config, 5, || panic!("no one-answer request"));
    assert_eq!(kinds[0], Kind::Listing);
    assert_eq!(multigets(&kinds), [5]);
    assert_eq!(added(&outcome), 5);
}

#[test]
fn refused_sync_collection_falls_back_to_the_etag_ladder() {
    for status in [403, 501] {
        let (outcome, kinds, machine) = first_sync(config(), 4, || answer(status, String::new()));
        assert_eq!(kinds[..2], [Kind::Inline, Kind::Propfind], "{status}");
        assert_eq!(multigets(&kinds), [4], "{status}");
        assert_eq!(added(&outcome), 4, "{status}");
        let changes = outcome.calendars[0].result.as_ref().unwrap();
        assert_eq!(changes.method, SyncMethod::EtagListing);
        assert_eq!(machine.state().calendars[CAL].ctag.as_deref(), Some("c1"));
    }
}

#[test]
fn insufficient_storage_falls_back_to_the_listing() {
    let (outcome, kinds, _) = first_sync(config(), 4, || answer(507, String::new()));
    assert_eq!(kinds[..2], [Kind::Inline, Kind::Listing]);
    assert_eq!(multigets(&kinds), [4]);
    assert_eq!(added(&outcome), 4);
}

#[test]
fn a_truncated_answer_falls_back_to_the_listing() {
    let truncated = "<response><href>/cal/</href><status>HTTP/1.1 507 Insufficient Storage\
                     </status></response>"
        .to_owned()
        + TOKEN;
    let (outcome, kinds, machine) = first_sync(config(), 6, || {
        answer(207, members(3, |_| true, &truncated))
    });
    assert_eq!(kinds[..2], [Kind::Inline, Kind::Listing]);
    // Nothing of the truncated answer is kept: the listing's members are all fetched.
    assert_eq!(multigets(&kinds), [6]);
    assert_eq!(added(&outcome), 6);
    assert_eq!(machine.state().calendars[CAL].items.len(), 6);
}

#[test]
fn members_without_data_are_fetched_by_multiget() {
    // Some servers (Xandikos) list the members but send no calendar-data in a sync-collection.
    let (outcome, kinds, _) = first_sync(config(), 5, || {
        answer(207, members(5, |i| i % 2 == 0, TOKEN))
    });
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert_eq!(
        kinds[1],
        Kind::Multiget(vec!["/cal/1.ics".into(), "/cal/3.ics".into()])
    );
    assert_eq!(added(&outcome), 5);
    let (outcome, kinds, _) = first_sync(config(), 3, || answer(207, members(3, |_| false, TOKEN)));
    assert_eq!(kinds[0], Kind::Inline);
    assert_eq!(multigets(&kinds), [3]);
    assert_eq!(added(&outcome), 3);
}

#[test]
fn data_refused_in_its_propstat_is_fetched_by_multiget() {
    let body = r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
        <response><href>/cal/0.ics</href>
          <propstat><prop><getetag>"e0"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat>
          <propstat><prop><C:calendar-data/></prop><status>HTTP/1.1 404 Not Found</status></propstat>
        </response><sync-token>t1</sync-token></multistatus>"#;
    let (outcome, kinds, _) = first_sync(config(), 1, || answer(207, body.to_owned()));
    assert_eq!(
        kinds,
        [Kind::Inline, Kind::Multiget(vec!["/cal/0.ics".into()])]
    );
    assert_eq!(added(&outcome), 1);
}

#[test]
fn an_answer_without_a_token_falls_back_to_the_listing() {
    let (outcome, kinds, _) = first_sync(config(), 2, || answer(207, members(2, |_| true, "")));
    assert_eq!(kinds[..2], [Kind::Inline, Kind::Listing]);
    assert_eq!(added(&outcome), 2);
}

#[test]
fn an_unreadable_answer_falls_back_to_the_listing() {
    let (outcome, kinds, _) = first_sync(config(), 2, || answer(207, "<multistatus".into()));
    assert_eq!(kinds[..2], [Kind::Inline, Kind::Listing]);
    assert_eq!(added(&outcome), 2);
}

#[test]
fn an_answer_over_the_size_limit_is_dropped() {
    let mut config = config();
    let body = members(20, |_| true, TOKEN);
    config.max_inline_bytes = u64::try_from(body.len()).unwrap() - 1;
    let (outcome, kinds, _) = first_sync(config.clone(), 20, || answer(207, body.clone()));
    assert_eq!(kinds[..2], [Kind::Inline, Kind::Listing]);
    assert_eq!(multigets(&kinds), [20]);
    assert_eq!(added(&outcome), 20);
    // At the limit it is used.
    config.max_inline_bytes += 1;
    let (_, kinds, _) = first_sync(config, 20, || answer(207, body.clone()));
    assert_eq!(kinds, [Kind::Inline]);
}

#[test]
fn the_one_answer_carries_the_size_limit_for_the_driver() {
    let mut config = config();
    config.max_inline_bytes = 12_345;
    let mut machine = SyncMachine::new(config, SyncState::default());
    let Output::Http { id, request } = machine.poll() else {
        panic!()
    };
    assert_eq!(kind(&request), Kind::Inline);
    assert_eq!(
        request.extensions().get::<ResponseLimit>(),
        Some(&ResponseLimit(12_345))
    );
    // The fallback's listing and multigets are not limited by it.
    machine
        .handle_failure(id, TransportFailure::new("body too large"))
        .unwrap();
    let Output::Http { request, .. } = machine.poll() else {
        panic!()
    };
    assert_eq!(kind(&request), Kind::Listing);
    assert_eq!(request.extensions().get::<ResponseLimit>(), None);
}

#[test]
fn a_transport_failure_of_the_one_answer_falls_back_to_the_listing() {
    let mut machine = SyncMachine::new(config(), SyncState::default());
    let Output::Http { id, request } = machine.poll() else {
        panic!()
    };
    assert_eq!(kind(&request), Kind::Inline);
    machine
        .handle_failure(id, TransportFailure::new("body too large"))
        .unwrap();
    let mut server = Server::new();
    server.add_calendar(CAL, "cal");
    for i in 0..3 {
        server.put(CAL, &format!("{i}.ics"), &event(&i.to_string(), "x"));
    }
    let Output::Http { id, request } = machine.poll() else {
        panic!()
    };
    assert_eq!(kind(&request), Kind::Listing);
    machine.handle_response(id, server.handle(request)).unwrap();
    let outcome = drive(&mut machine, &mut server).unwrap();
    assert_eq!(added(&outcome), 3);
}

#[test]
fn a_failure_after_the_fallback_is_reported() {
    let mut machine = SyncMachine::new(config(), SyncState::default());
    for _ in 0..2 {
        let Output::Http { id, .. } = machine.poll() else {
            panic!()
        };
        machine
            .handle_failure(id, TransportFailure::new("connection refused"))
            .unwrap();
    }
    let Output::Done(Ok(outcome)) = machine.poll() else {
        panic!("done after the listing failed too")
    };
    assert!(outcome.calendars[0].result.is_err());
}

#[test]
fn the_one_answer_is_one_checkpoint() {
    let mut config = config().with_checkpoints();
    assert_eq!(config.initial_fetch, InitialFetch::Multiget);
    config.initial_fetch = InitialFetch::Inline;
    let (_, kinds, mut machine) =
        first_sync(config, 4, || answer(207, members(4, |_| true, TOKEN)));
    assert_eq!(kinds, [Kind::Inline]);
    let checkpoint = machine.poll_checkpoint().unwrap();
    assert_eq!(checkpoint.items.len(), 4);
    assert!(machine.poll_checkpoint().is_none());
}

/// A first sync with checkpoints and the one answer, by batches of `batch`, against the
/// in-memory server holding `count` events: the machine after that one answer, not yet polled.
fn inline_answered(count: usize, batch: usize) -> (Server, SyncMachine) {
    let mut server = Server::new();
    server.add_calendar(CAL, "cal");
    for i in 0..count {
        server.put(CAL, &format!("{i}.ics"), &event(&i.to_string(), "x"));
    }
    let mut quirks = caldav_client_core::QuirkProfile::default();
    quirks.multiget_batch_size = batch;
    let mut config = config().with_checkpoints().with_quirks(quirks);
    config.initial_fetch = InitialFetch::Inline;
    let mut machine = SyncMachine::new(config, SyncState::default());
    let Output::Http { id, request } = machine.poll() else {
        panic!("a first request")
    };
    assert_eq!(kind(&request), Kind::Inline);
    machine.handle_response(id, server.handle(request)).unwrap();
    (server, machine)
}

#[test]
fn the_one_answer_is_handed_out_in_pieces_of_a_batch() {
    let (_, mut machine) = inline_answered(5, 2);
    assert_eq!(machine.pending_checkpoints(), 3);
    let mut sizes = Vec::new();
    let mut claimed = Vec::new();
    while let Some(checkpoint) = machine.poll_checkpoint() {
        sizes.push(checkpoint.items.len());
        // Before the machine is polled to its end, its state claims what was handed out,
        // as unfinished progress of a first sync, and no token yet.
        let calendar = &machine.state().calendars[CAL];
        assert!(calendar.resume.as_ref().unwrap().initial);
        assert!(calendar.sync_token.is_none());
        claimed.push(calendar.items.len());
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(claimed, [2, 4, 5]);
    assert_eq!(machine.pending_checkpoints(), 0);
    let Output::Done(Ok(outcome)) = machine.poll() else {
        panic!("done after the one answer")
    };
    assert_eq!(added(&outcome), 5);
    let calendar = &machine.state().calendars[CAL];
    assert!(calendar.resume.is_none());
    assert!(calendar.sync_token.is_some());
    assert_eq!(calendar.items.len(), 5);
}

#[test]
fn a_first_sync_cut_off_after_a_piece_of_the_one_answer_fetches_only_the_rest() {
    let (mut server, mut machine) = inline_answered(5, 2);
    // Two pieces written and saved, then the run is killed.
    assert_eq!(machine.poll_checkpoint().unwrap().items.len(), 2);
    assert_eq!(machine.poll_checkpoint().unwrap().items.len(), 2);
    let state = machine.state().clone();
    assert_eq!(state.calendars[CAL].items.len(), 4);
    let mut restarted = SyncMachine::new(config().with_checkpoints(), state);
    let mut asked = Vec::new();
    let driven = drive_with(&mut restarted, 100, |request| {
        asked.push(kind(&request));
        server.handle(request)
    });
    let Driven::Done(Ok(outcome)) = driven else {
        panic!("the restarted sync did not finish")
    };
    while restarted.poll_checkpoint().is_some() {}
    assert_eq!(asked.len(), 2, "a listing and one multiget: {asked:?}");
    assert_eq!(asked[0], Kind::Listing);
    let Kind::Multiget(hrefs) = &asked[1] else {
        panic!("a multiget of the rest: {asked:?}")
    };
    assert_eq!(hrefs.len(), 1, "only the item no piece claimed: {hrefs:?}");
    assert_eq!(outcome.calendars[0].result.as_ref().unwrap().added.len(), 1);
    assert_eq!(restarted.state().calendars[CAL].items.len(), 5);
}

#[test]
fn a_resumed_first_sync_lists_and_skips_what_it_holds() {
    // A first sync cut off after a checkpoint: the restart must not fetch everything again.
    let mut server = Server::new();
    server.add_calendar(CAL, "cal");
    for i in 0..4 {
        server.put(CAL, &format!("{i}.ics"), &event(&i.to_string(), "x"));
    }
    let mut quirks = caldav_client_core::QuirkProfile::default();
    quirks.multiget_batch_size = 2;
    let mut cut = config().with_checkpoints().with_quirks(quirks);
    cut.initial_fetch = InitialFetch::Multiget;
    let mut first = SyncMachine::new(cut, SyncState::default());
    // The listing and the first multiget of two, then the run is cut off.
    let driven = drive_with(&mut first, 2, |request| server.handle(request));
    assert!(matches!(driven, Driven::Interrupted));
    while first.poll_checkpoint().is_some() {}
    let state = first.into_state();
    assert!(state.calendars[CAL].resume.is_some());
    assert_eq!(state.calendars[CAL].items.len(), 2);
    let mut machine = SyncMachine::new(config(), state);
    let before = server.log.len();
    let outcome = drive(&mut machine, &mut server).unwrap();
    let asked: Vec<String> = server.log[before..]
        .iter()
        .map(|(m, _)| m.to_string())
        .collect();
    assert_eq!(asked, ["REPORT", "REPORT"], "a listing, then one multiget");
    assert_eq!(outcome.calendars[0].result.as_ref().unwrap().added.len(), 2);
}

#[test]
fn the_in_memory_server_is_synced_in_one_request() {
    let mut server = Server::new();
    server.add_calendar(CAL, "cal");
    for i in 0..30 {
        server.put(CAL, &format!("{i}.ics"), &event(&i.to_string(), "x"));
    }
    let mut machine = SyncMachine::new(config(), SyncState::default());
    let outcome = drive(&mut machine, &mut server).unwrap();
    assert_eq!(added(&outcome), 30);
    let requests = server.log.len();
    // Either the server answers with the data (one request) or it lists without it (then one
    // multiget): never more.
    assert!(requests <= 2, "{:?}", server.log);
    // And the next sync is incremental from the token the one answer gave.
    server.put(CAL, "new.ics", &event("new", "x"));
    let mut again = SyncMachine::new(config(), machine.into_state());
    let outcome = drive(&mut again, &mut server).unwrap();
    let changes = outcome.calendars[0].result.as_ref().unwrap();
    assert_eq!(changes.added.len(), 1);
    assert_eq!(changes.method, SyncMethod::SyncCollection);
}
