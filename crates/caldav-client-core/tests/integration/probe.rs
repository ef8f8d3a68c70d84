//! The probe against the in-memory server with its quirk knobs, and against scripted answers
//! that imitate what `SERVERS.md` measured; cleanup on every failure path.

use bytes::Bytes;
use caldav_client_core::probe::{ProbeConfig, ProbeMachine, ProbeReport};
use caldav_client_core::{InvalidSyncToken, Machine, Output, TransportFailure, WellKnown};
use http::Method;
use test_support::{Server, ServerQuirks, drive};

const CAL: &str = "/calendars/alice/default/";
const SCRATCH: &str = "/calendars/alice/probe-test/";

fn probe() -> ProbeMachine {
    ProbeMachine::new(ProbeConfig::new(
        "http://cal.example/".parse().unwrap(),
        "/calendars/alice/".into(),
        "probe-test",
    ))
}

fn probe_server(quirks: ServerQuirks) -> (ProbeReport, Server) {
    let mut server = Server::new().with_quirks(quirks);
    let before = server.calendars();
    let report = drive(&mut probe(), &mut server).unwrap();
    assert_eq!(server.calendars(), before, "{report:#?}");
    assert!(server.objects(CAL).is_empty());
    assert!(report.leftovers.is_empty(), "{report:#?}");
    (report, server)
}

/// Runs the probe, answering each request with `answer` (which may fail it).
fn run(
    mut answer: impl FnMut(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportFailure>,
) -> (ProbeReport, Vec<(Method, String)>) {
    let mut machine = probe();
    let mut sent = Vec::new();
    for _ in 0..200 {
        match machine.poll() {
            Output::Http { id, request } => {
                sent.push((request.method().clone(), request.uri().path().to_owned()));
                machine.handle_answer(id, answer(request)).unwrap();
            }
            Output::Done(report) => return (report.unwrap(), sent),
            Output::Wait => panic!("the probe waits with nothing in flight"),
            _ => panic!("unexpected output"),
        }
    }
    panic!("the probe did not end");
}

#[test]
fn a_standard_server_keeps_the_defaults_it_can_check() {
    let (report, server) = probe_server(ServerQuirks::default());
    let profile = &report.profile;
    assert!(report.scratch_created);
    assert_eq!(report.calendar.as_ref().unwrap().as_str(), SCRATCH);
    assert!(profile.sync_collection && !profile.empty_sync_token_rejected);
    assert_eq!(profile.invalid_sync_token, InvalidSyncToken::Forbidden);
    assert!(profile.if_none_match && profile.trust_put_etag && !profile.put_etag_missing);
    assert!(!profile.rewrites_data && !profile.trailing_crlf_stripped);
    assert!(!profile.duplicate_uid_accepted);
    assert!(!profile.multiget_404_on_missing_href && !profile.multiget_omits_missing);
    assert!(profile.dav_header_at_root);
    assert_eq!(profile.delete_ok_statuses, [204]);
    assert_eq!(profile.well_known, WellKnown::Missing);
    // The model has no calendar-query: refused both ways is not "comp-filter required".
    assert!(!profile.comp_filter_required);
    // Every experiment of the table ran, in order, and the last request deleted the calendar.
    let names: Vec<&str> = report.experiments.iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "well-known",
            "root-options",
            "mkcalendar",
            "calendar-options",
            "put-new",
            "read-back",
            "put-again",
            "duplicate-uid",
            "sync-empty-token",
            "sync-bad-token",
            "multiget-missing",
            "multiget-data",
            "query-bare",
            "query-vevent",
            "delete",
            "cleanup",
        ]
    );
    let (method, path) = server.log.last().unwrap();
    assert_eq!((method.as_str(), path.as_str()), ("DELETE", SCRATCH));
    let read_back = report.experiment("read-back").unwrap();
    assert!(
        read_back.observed.contains("bytes equal: true"),
        "{read_back:?}"
    );
}

#[test]
fn sabre_like_answers_give_sabres_profile() {
    let (report, _) = probe_server(ServerQuirks {
        sync_collection: false,
        multiget_404_whole: true,
        ..ServerQuirks::default()
    });
    let profile = &report.profile;
    assert!(!profile.sync_collection);
    assert!(profile.multiget_404_on_missing_href);
    assert_eq!(
        report.experiment("sync-bad-token").unwrap().concluded,
        "skipped: no sync-collection"
    );
}

#[test]
fn token_refusals_and_write_habits_are_found() {
    let (report, _) = probe_server(ServerQuirks {
        invalid_token_status: 412,
        if_none_match: false,
        put_etag: false,
        multiget_omit_missing: true,
        ..ServerQuirks::default()
    });
    let profile = &report.profile;
    assert_eq!(
        profile.invalid_sync_token,
        InvalidSyncToken::PreconditionFailed
    );
    assert!(!profile.if_none_match);
    assert!(profile.put_etag_missing);
    assert!(profile.multiget_omits_missing);

    let (report, _) = probe_server(ServerQuirks {
        reject_empty_token: true,
        ..ServerQuirks::default()
    });
    assert!(report.profile.sync_collection && report.profile.empty_sync_token_rejected);
    assert_eq!(
        report.profile.invalid_sync_token,
        InvalidSyncToken::Forbidden
    );
}

/// The in-memory server, with some answers rewritten the way a real server answers.
fn scripted(
    rewrite: impl Fn(&http::Request<Bytes>, http::Response<Bytes>) -> http::Response<Bytes>,
) -> (ProbeReport, Server) {
    let mut server = Server::new();
    let before = server.calendars();
    let (report, _) = run(|request| {
        let response = server.handle(request.clone());
        Ok(rewrite(&request, response))
    });
    assert_eq!(server.calendars(), before, "{report:#?}");
    assert!(server.objects(CAL).is_empty(), "{report:#?}");
    (report, server)
}

fn with_status(mut response: http::Response<Bytes>, status: u16) -> http::Response<Bytes> {
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    response
}

#[test]
fn radicale_like_delete_200_and_redirecting_well_known() {
    let (report, _) = scripted(|request, response| match request.method().as_str() {
        "DELETE" if request.uri().path().ends_with(".ics") => with_status(response, 200),
        "GET" if request.uri().path() == "/.well-known/caldav" => http::Response::builder()
            .status(301)
            .header("Location", "/")
            .body(Bytes::new())
            .unwrap(),
        _ => response,
    });
    assert_eq!(report.profile.delete_ok_statuses, [200, 204]);
    assert_eq!(report.profile.well_known, WellKnown::Redirect);
}

#[test]
fn cyrus_like_root_without_dav_and_html_well_known() {
    let (report, _) = scripted(|request, response| match request.method().as_str() {
        "OPTIONS" if request.uri().path() == "/" => http::Response::builder()
            .status(200)
            .header("Allow", "OPTIONS, GET, HEAD")
            .body(Bytes::new())
            .unwrap(),
        "GET" if request.uri().path() == "/.well-known/caldav" => http::Response::builder()
            .status(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(Bytes::from_static(b"<html><body>login</body></html>"))
            .unwrap(),
        _ => response,
    });
    assert!(!report.profile.dav_header_at_root);
    assert_eq!(report.profile.well_known, WellKnown::Html);
}

#[test]
fn stored_data_rewrites_are_told_apart() {
    // Only the final CRLF gone.
    let (report, _) = scripted(|request, response| {
        if request.method() == Method::GET && request.uri().path().ends_with("-a.ics") {
            let body = String::from_utf8_lossy(response.body())
                .trim_end()
                .to_owned();
            let (parts, _) = response.into_parts();
            http::Response::from_parts(parts, Bytes::from(body))
        } else {
            response
        }
    });
    assert!(report.profile.trailing_crlf_stripped);
    assert!(!report.profile.rewrites_data);
    // Reordered lines and a new ETag on read.
    let (report, _) = scripted(|request, response| {
        if request.method() == Method::GET && request.uri().path().ends_with("-a.ics") {
            let text = String::from_utf8_lossy(response.body()).into_owned();
            let mut lines: Vec<&str> = text.split_inclusive("\r\n").collect();
            lines.swap(1, 2);
            let (mut parts, _) = response.into_parts();
            parts
                .headers
                .insert("ETag", http::HeaderValue::from_static("\"other\""));
            http::Response::from_parts(parts, Bytes::from(lines.concat()))
        } else {
            response
        }
    });
    assert!(report.profile.rewrites_data && !report.profile.trailing_crlf_stripped);
    assert!(!report.profile.trust_put_etag);
}

/// The probe with the calendar-data of every REPORT answer rewritten: the `&#13;` before a
/// line end replaced by `cr`, the final line end by `end`.
fn report_line_ends(cr: &'static str, end: &'static str) -> ProbeReport {
    let (report, _) = scripted(move |request, response| {
        if request.method().as_str() == "REPORT" && response.status() == 207 {
            let body = String::from_utf8_lossy(response.body())
                .replace(
                    "END:VCALENDAR&#13;\n</C:calendar-data>",
                    &format!("END:VCALENDAR{end}</C:calendar-data>"),
                )
                .replace("&#13;\n", &format!("{cr}\n"));
            let (parts, _) = response.into_parts();
            http::Response::from_parts(parts, Bytes::from(body))
        } else {
            response
        }
    });
    report
}

#[test]
fn calendar_data_stripped_in_reports_only_is_found() {
    // GET keeps the final CRLF; calendar-data in a REPORT comes with bare LFs (SabreDAV 1.8)
    // or without the final line end.
    for (cr, end) in [("", "\n"), ("&#13;", "")] {
        let report = report_line_ends(cr, end);
        assert!(report.profile.trailing_crlf_stripped, "{report:#?}");
        assert!(!report.profile.rewrites_data);
        let read_back = report.experiment("read-back").unwrap();
        assert!(
            read_back.observed.contains("final CRLF kept: true"),
            "{read_back:?}"
        );
        let data = report.experiment("multiget-data").unwrap();
        assert!(data.observed.contains("final CRLF kept: false"), "{data:?}");
    }
    // A raw CRLF on the wire (Radicale) reads as LF after XML parsing, but it was kept.
    let report = report_line_ends("\r", "\r\n");
    assert!(!report.profile.trailing_crlf_stripped, "{report:#?}");
}

#[test]
fn duplicate_uids_accepted_and_bare_queries_refused() {
    let (report, _) = scripted(|request, response| {
        let body = String::from_utf8_lossy(request.body()).into_owned();
        if request.method() == Method::PUT && request.uri().path().ends_with("-b.ics") {
            // Accept the duplicate without storing it (the model refuses it).
            http::Response::builder()
                .status(201)
                .body(Bytes::new())
                .unwrap()
        } else if body.contains("calendar-query") {
            let status = if body.contains("VEVENT") { 207 } else { 403 };
            http::Response::builder()
                .status(status)
                .body(Bytes::from_static(b"<multistatus xmlns=\"DAV:\"/>"))
                .unwrap()
        } else {
            response
        }
    });
    assert!(report.profile.duplicate_uid_accepted);
    assert!(report.profile.comp_filter_required);
    // The duplicate was deleted too.
    let deletes = report
        .experiments
        .iter()
        .filter(|e| e.name == "delete")
        .count();
    assert_eq!(deletes, 2);
}

#[test]
fn mkcalendar_refused_uses_an_existing_calendar_with_unique_names() {
    let mut server = Server::new();
    let before = server.calendars();
    let (report, _) = run(|request| {
        if request.method().as_str() == "MKCALENDAR" {
            return Ok(http::Response::builder()
                .status(403)
                .body(Bytes::new())
                .unwrap());
        }
        Ok(server.handle(request))
    });
    assert_eq!(server.calendars(), before);
    assert!(server.objects(CAL).is_empty());
    assert!(!report.scratch_created);
    assert_eq!(report.calendar.as_ref().unwrap().as_str(), CAL);
    assert!(report.experiment("find-calendar").is_some());
    // Its resources were named after the scratch name, and the calendar itself was kept.
    assert!(
        server
            .log
            .iter()
            .filter(|(m, _)| m == Method::PUT)
            .all(|(_, p)| p.starts_with("/calendars/alice/default/probe-test-"))
    );
    assert!(server.has_calendar(CAL));
    assert!(report.leftovers.is_empty());
}

/// Whatever request fails (lost before or after the server acted on it), the probe ends,
/// and what it made is gone or named as left behind.
#[test]
fn every_failure_path_ends_with_cleanup() {
    let (_, clean) = run(|request| Ok(Server::new().handle(request)));
    for fail_at in 0..clean.len() + 2 {
        for after in [false, true] {
            let mut server = Server::new();
            let before = server.calendars();
            let mut count = 0;
            let (report, sent) = run(|request| {
                count += 1;
                if count - 1 == fail_at {
                    if after {
                        let _ = server.handle(request);
                    }
                    return Err(TransportFailure::new("connection reset"));
                }
                Ok(server.handle(request))
            });
            let left: Vec<String> = report
                .leftovers
                .iter()
                .map(|h| h.as_str().to_owned())
                .collect();
            let calendars_clean = server.calendars() == before;
            assert!(
                calendars_clean || left.iter().any(|h| h == SCRATCH),
                "fail_at {fail_at} after {after}: {report:#?}"
            );
            assert!(server.objects(CAL).is_empty());
            // The last request is always the scratch calendar's DELETE.
            let (method, path) = sent.last().unwrap();
            assert_eq!(
                (method.as_str(), path.as_str()),
                ("DELETE", SCRATCH),
                "fail_at {fail_at} after {after}"
            );
        }
    }
}
