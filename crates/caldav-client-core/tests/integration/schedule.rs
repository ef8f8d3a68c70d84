//! Scheduling machines (RFC 6638) against a small scheduling server model and against answers
//! recorded from Cyrus 3.6.

use std::collections::BTreeMap;

use bytes::Bytes;
use caldav_client_core::schedule::{
    FreeBusyConfig, FreeBusyMachine, FreeBusyOutcome, FreeBusyRequest, InboxConfig, InboxItem,
    InboxMachine, ReplyConfig, ReplyMachine, ReplyOutcome, ScheduleWrite, ScheduleWriteConfig,
    ScheduleWriteMachine, ScheduleWriteOutcome, invitation,
};
use caldav_client_core::{Error, Machine};
use caldav_model::filter::{TimeRange, parse_utc};
use caldav_model::freebusy::{FbType, FreeBusyBuilder};
use caldav_model::itip::{Method, PartStat};
use caldav_model::query::EvalOptions;
use dav_xml::{Element, QName};
use proptest::prelude::*;
use test_support::{Driven, drive_with};

const BOB_CAL: &str = "/dav/calendars/user/bob/Default/";
const BOB_INBOX: &str = "/dav/calendars/user/bob/Inbox/";
const BOB: &str = "mailto:bob@example.test";

fn base() -> http::Uri {
    "http://127.0.0.1:8008/".parse().unwrap()
}

fn t(s: &str) -> jiff::Timestamp {
    parse_utc(s).unwrap()
}

fn invite(uid: &str, partstat: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20261124T120000Z\r\nDTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z\r\n\
         SUMMARY:Planning\r\nX-KEEP-ME;X-P=1:kept\r\nORGANIZER:mailto:alice@example.test\r\n\
         ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.test\r\n\
         ATTENDEE;RSVP=TRUE;PARTSTAT={partstat}:{BOB}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn request_message(uid: &str) -> String {
    invite(uid, "NEEDS-ACTION").replace(
        "PRODID:-//t//EN\r\n",
        "PRODID:-//t//EN\r\nMETHOD:REQUEST\r\n",
    )
}

/// A request as the model saw it: method, path, headers.
type Seen = (String, String, Vec<(String, String)>);

#[derive(Clone)]
struct Stored {
    data: String,
    etag: u32,
    tag: u32,
}

/// A scheduling server as RFC 6638 describes it, small enough to read: objects with ETag and
/// Schedule-Tag, If-Schedule-Tag-Match, calendar-query on UID, calendar-multiget, PROPFIND.
#[derive(Default)]
struct Model {
    objects: BTreeMap<String, Stored>,
    /// Bumps the Schedule-Tag of every object just before the next `n` PUTs are judged (a
    /// server that changes tags behind the client's back, QUIRKS #19).
    churn: usize,
    /// Answers multiget with 403.
    no_multiget: bool,
    /// Leaves these paths out of multiget answers.
    multiget_omits: Vec<String>,
    requests: Vec<Seen>,
    counter: u32,
}

fn response(
    status: u16,
    headers: &[(&str, String)],
    body: impl Into<Bytes>,
) -> http::Response<Bytes> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(body.into()).unwrap()
}

fn quote(n: u32) -> String {
    format!("\"{n}\"")
}

impl Model {
    fn put(&mut self, path: &str, data: &str) {
        self.counter += 1;
        self.objects.insert(
            path.into(),
            Stored {
                data: data.into(),
                etag: self.counter,
                tag: self.counter,
            },
        );
    }

    fn multistatus(entries: &[(String, Option<&Stored>, bool)]) -> String {
        let mut out =
            String::from(r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">"#);
        for (path, stored, with_data) in entries {
            out.push_str(&format!("<response><href>{path}</href><propstat><prop>"));
            match stored {
                Some(s) => {
                    out.push_str(&format!("<getetag>{}</getetag>", quote(s.etag)));
                    if *with_data {
                        let escaped = s.data.replace('&', "&amp;").replace('<', "&lt;");
                        out.push_str(&format!("<C:calendar-data>{escaped}</C:calendar-data>"));
                    }
                    out.push_str("<resourcetype/>");
                }
                None => out.push_str("<resourcetype><collection/></resourcetype>"),
            }
            out.push_str("</prop><status>HTTP/1.1 200 OK</status></propstat></response>");
        }
        out.push_str("</multistatus>");
        out
    }

    fn handle(&mut self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        let path = request.uri().path().to_owned();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        self.requests
            .push((request.method().to_string(), path.clone(), headers));
        let body = std::str::from_utf8(request.body()).unwrap().to_owned();
        match request.method().as_str() {
            "GET" => match self.objects.get(&path) {
                Some(s) => response(
                    200,
                    &[("ETag", quote(s.etag)), ("Schedule-Tag", quote(s.tag))],
                    s.data.clone(),
                ),
                None => response(404, &[], ""),
            },
            "PUT" => {
                if self.churn > 0 {
                    self.churn -= 1;
                    for stored in self.objects.values_mut() {
                        stored.tag += 100;
                    }
                }
                let current = self.objects.get(&path);
                let header = |name: &str| request.headers().get(name).map(|v| v.to_str().unwrap());
                let refused = match current {
                    Some(s) => {
                        header("if-none-match").is_some()
                            || header("if-schedule-tag-match").is_some_and(|t| t != quote(s.tag))
                            || header("if-match").is_some_and(|t| t != quote(s.etag))
                    }
                    None => {
                        header("if-match").is_some() || header("if-schedule-tag-match").is_some()
                    }
                };
                if refused {
                    return response(412, &[], "");
                }
                let created = current.is_none();
                // The server files SCHEDULE-STATUS on attendee lines it delivered to.
                let stored = body.replace(
                    &format!("PARTSTAT=NEEDS-ACTION:{BOB}"),
                    &format!("PARTSTAT=NEEDS-ACTION;SCHEDULE-STATUS=1.2:{BOB}"),
                );
                self.put(&path, &stored);
                let s = &self.objects[&path];
                response(
                    if created { 201 } else { 204 },
                    &[("ETag", quote(s.etag)), ("Schedule-Tag", quote(s.tag))],
                    "",
                )
            }
            "DELETE" => match self.objects.remove(&path) {
                Some(_) => response(204, &[], ""),
                None => response(404, &[], ""),
            },
            "PROPFIND" => {
                let mut entries = vec![(path.clone(), None, false)];
                for (p, s) in &self.objects {
                    if p.starts_with(&path) && p != &path {
                        entries.push((p.clone(), Some(s), false));
                    }
                }
                response(207, &[], Self::multistatus(&entries))
            }
            "REPORT" => {
                let root = Element::decode(body.as_bytes()).unwrap();
                if root.name.local() == "calendar-multiget" {
                    if self.no_multiget {
                        return response(403, &[], "");
                    }
                    let entries: Vec<_> = root
                        .children_named(&QName::DAV_HREF)
                        .map(|h| h.text().into_owned())
                        .filter(|h| !self.multiget_omits.contains(h))
                        .filter_map(|h| self.objects.get(&h).map(|s| (h.clone(), Some(s), true)))
                        .collect();
                    return response(207, &[], Self::multistatus(&entries));
                }
                // calendar-query: the UID's text-match, by substring as RFC 4791 §9.7.5 says.
                let text = body
                    .split("text-match")
                    .nth(1)
                    .and_then(|s| s.split('>').nth(1))
                    .and_then(|s| s.split('<').next())
                    .unwrap()
                    .to_owned();
                let entries: Vec<_> = self
                    .objects
                    .iter()
                    .filter(|(p, s)| {
                        p.starts_with(&path)
                            && s.data
                                .lines()
                                .any(|l| l.strip_prefix("UID:").is_some_and(|u| u.contains(&text)))
                    })
                    .map(|(p, s)| (p.clone(), Some(s), false))
                    .collect();
                response(207, &[], Self::multistatus(&entries))
            }
            _ => response(405, &[], ""),
        }
    }
}

fn run<M: Machine>(machine: &mut M, model: &mut Model) -> Result<M::Outcome, Error> {
    match drive_with(machine, 50, |request| model.handle(request)) {
        Driven::Done(result) => result,
        Driven::Interrupted => panic!("machine did not settle"),
    }
}

fn header_of<'a>(request: &'a Seen, name: &str) -> Option<&'a str> {
    request
        .2
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn organizer_create_reads_back_schedule_status_and_tag() {
    let mut model = Model::default();
    let mut machine = ScheduleWriteMachine::new(ScheduleWriteConfig::new(
        base(),
        ScheduleWrite::Create {
            collection: "/dav/calendars/user/alice/Default".into(),
            data: invite("u-1", "NEEDS-ACTION"),
        },
    ));
    let ScheduleWriteOutcome::Written { created, object } = run(&mut machine, &mut model).unwrap()
    else {
        panic!("not written")
    };
    assert!(created);
    assert_eq!(
        object.href.as_str(),
        "/dav/calendars/user/alice/Default/u-1.ics"
    );
    assert_eq!(object.schedule_tag.as_deref(), Some("\"1\""));
    let bob = object
        .attendees()
        .into_iter()
        .find(|a| a.address == BOB)
        .unwrap();
    assert_eq!(bob.schedule_status, ["1.2"]);
    assert_eq!(header_of(&model.requests[0], "if-none-match"), Some("*"));
    assert_eq!(model.requests[1].0, "GET");

    // An update on a stale Schedule-Tag is a conflict that carries the server's version.
    let mut machine = ScheduleWriteMachine::new(ScheduleWriteConfig::new(
        base(),
        ScheduleWrite::Update {
            href: object.href.clone(),
            schedule_tag: Some("\"0\"".into()),
            etag: None,
            data: invite("u-1", "NEEDS-ACTION").replace("Planning", "Moved"),
        },
    ));
    let ScheduleWriteOutcome::Conflict { server, .. } = run(&mut machine, &mut model).unwrap()
    else {
        panic!("no conflict")
    };
    assert_eq!(server.unwrap().schedule_tag.as_deref(), Some("\"1\""));

    let mut machine = ScheduleWriteMachine::new(ScheduleWriteConfig::new(
        base(),
        ScheduleWrite::Delete {
            href: object.href.clone(),
            schedule_tag: object.schedule_tag.clone(),
            etag: object.etag.clone(),
        },
    ));
    assert!(matches!(
        run(&mut machine, &mut model).unwrap(),
        ScheduleWriteOutcome::Deleted { .. }
    ));
    assert_eq!(
        header_of(model.requests.last().unwrap(), "if-schedule-tag-match"),
        Some("\"1\"")
    );
    assert!(model.objects.is_empty());
}

#[test]
fn create_without_uid_is_invalid_data() {
    let mut machine = ScheduleWriteMachine::new(ScheduleWriteConfig::new(
        base(),
        ScheduleWrite::Create {
            collection: "/cal/".into(),
            data: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into(),
        },
    ));
    assert!(matches!(
        run(&mut machine, &mut Model::default()),
        Err(Error::InvalidData { .. })
    ));
}

fn inbox(model: &mut Model) -> Vec<InboxItem> {
    let mut machine = InboxMachine::new(InboxConfig::new(base(), BOB_INBOX.into()));
    run(&mut machine, model).unwrap()
}

#[test]
fn inbox_lists_messages_by_multiget_and_fetches_what_it_left_out() {
    let mut model = Model::default();
    let a = format!("{BOB_INBOX}a.ics");
    let b = format!("{BOB_INBOX}b.ics");
    model.put(&a, &request_message("u-a"));
    model.put(&b, &request_message("u-b"));
    model.put(&format!("{BOB_CAL}u-a.ics"), &invite("u-a", "NEEDS-ACTION"));
    let items = inbox(&mut model);
    assert_eq!(items.len(), 2);
    let seen = items[0].invitation(&[BOB.into()]).unwrap();
    assert_eq!(seen.method, Some(Method::Request));
    assert_eq!(seen.component.as_deref(), Some("VEVENT"));
    assert_eq!(seen.uid.as_deref(), Some("u-a"));
    assert_eq!(seen.summary.as_deref(), Some("Planning"));
    assert_eq!(seen.organizer.as_deref(), Some("mailto:alice@example.test"));
    assert_eq!(seen.start.as_deref(), Some("20261210T100000Z"));
    assert_eq!(seen.partstat, Some(PartStat::NeedsAction));
    assert_eq!(model.requests.iter().filter(|r| r.0 == "GET").count(), 0);

    model.multiget_omits = vec![b.clone()];
    let items = inbox(&mut model);
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].href.as_str(), b);
    assert_eq!(model.requests.iter().filter(|r| r.0 == "GET").count(), 1);

    model.no_multiget = true;
    assert_eq!(inbox(&mut model).len(), 2);
    assert_eq!(model.requests.iter().filter(|r| r.0 == "GET").count(), 3);

    let mut empty = Model::default();
    assert!(inbox(&mut empty).is_empty());
}

#[test]
fn inbox_limit_is_an_error() {
    let mut model = Model::default();
    for i in 0..3 {
        model.put(&format!("{BOB_INBOX}{i}.ics"), &request_message("u"));
    }
    let mut config = InboxConfig::new(base(), BOB_INBOX.into());
    config.max_items = 2;
    let mut machine = InboxMachine::new(config);
    assert!(matches!(
        run(&mut machine, &mut model),
        Err(Error::LimitExceeded { .. })
    ));
}

fn reply(model: &mut Model, uid: &str, partstat: PartStat) -> Result<ReplyOutcome, Error> {
    let config = ReplyConfig::new(
        base(),
        vec!["/dav/calendars/user/bob/Other/".into(), BOB_CAL.into()],
        uid,
        vec!["mailto:bob@other.test".into(), BOB.into()],
        partstat,
    );
    run(&mut ReplyMachine::new(config), model)
}

#[test]
fn reply_rewrites_only_our_partstat_with_schedule_tag_match() {
    let mut model = Model::default();
    let copy = format!("{BOB_CAL}u-2.ics");
    model.put(&copy, &invite("u-2", "NEEDS-ACTION"));
    let ReplyOutcome::Replied {
        href,
        created,
        schedule_tag,
        ..
    } = reply(&mut model, "u-2", PartStat::Accepted).unwrap()
    else {
        panic!("no reply")
    };
    assert_eq!(href.as_str(), copy);
    assert!(!created);
    assert_eq!(schedule_tag.as_deref(), Some("\"2\""));
    let put = model.requests.iter().find(|r| r.0 == "PUT").unwrap();
    assert_eq!(header_of(put, "if-schedule-tag-match"), Some("\"1\""));
    let data = &model.objects[&copy].data;
    assert!(data.contains("PARTSTAT=ACCEPTED:mailto:bob@example.test"));
    assert!(!data.contains("RSVP"));
    assert!(data.contains("ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.test"));
    assert!(data.contains("X-KEEP-ME;X-P=1:kept"));
    assert!(data.contains("SUMMARY:Planning"));
}

#[test]
fn reply_tolerates_one_schedule_tag_change_then_reports_a_conflict() {
    // QUIRKS #19: the tag changes between our GET and our PUT once: refetch, retry, done.
    let mut model = Model::default();
    let copy = format!("{BOB_CAL}u-3.ics");
    model.put(&copy, &invite("u-3", "NEEDS-ACTION"));
    model.churn = 1;
    assert!(matches!(
        reply(&mut model, "u-3", PartStat::Tentative).unwrap(),
        ReplyOutcome::Replied { .. }
    ));
    assert_eq!(model.requests.iter().filter(|r| r.0 == "PUT").count(), 2);
    assert!(
        model.objects[&copy]
            .data
            .contains("PARTSTAT=TENTATIVE:mailto:bob")
    );

    // Twice: a conflict, and the copy is left as it was.
    let mut model = Model::default();
    model.put(&copy, &invite("u-3", "NEEDS-ACTION"));
    model.churn = 2;
    assert!(matches!(
        reply(&mut model, "u-3", PartStat::Declined).unwrap(),
        ReplyOutcome::Conflict { .. }
    ));
    assert!(model.objects[&copy].data.contains("PARTSTAT=NEEDS-ACTION"));
}

#[test]
fn reply_without_a_copy_files_one_from_the_invitation() {
    let mut model = Model::default();
    let config = ReplyConfig::new(
        base(),
        vec![BOB_CAL.into()],
        "u-4",
        vec![BOB.into()],
        PartStat::Declined,
    )
    .with_invitation(request_message("u-4"));
    let ReplyOutcome::Replied { href, created, .. } =
        run(&mut ReplyMachine::new(config), &mut model).unwrap()
    else {
        panic!("no reply")
    };
    assert!(created);
    let data = &model.objects[href.as_str()].data;
    assert!(!data.contains("METHOD"));
    assert!(data.contains("PARTSTAT=DECLINED:mailto:bob@example.test"));
    assert_eq!(
        header_of(model.requests.last().unwrap(), "if-none-match"),
        Some("*")
    );

    // Without an invitation there is nothing to answer.
    assert!(matches!(
        reply(&mut Model::default(), "u-5", PartStat::Accepted),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn reply_skips_objects_whose_uid_only_contains_the_one_answered() {
    // The UID query is a substring match: `u-7` also finds `u-70`, in either calendar.
    let mut model = Model::default();
    let other = "/dav/calendars/user/bob/Other/";
    model.put(&format!("{other}a.ics"), &invite("u-70", "NEEDS-ACTION"));
    model.put(&format!("{BOB_CAL}a.ics"), &invite("xu-7", "NEEDS-ACTION"));
    model.put(&format!("{BOB_CAL}z.ics"), &invite("u-7", "NEEDS-ACTION"));
    let ReplyOutcome::Replied { href, .. } = reply(&mut model, "u-7", PartStat::Accepted).unwrap()
    else {
        panic!("no reply")
    };
    assert_eq!(href.as_str(), format!("{BOB_CAL}z.ics"));
    assert!(
        model.objects[&format!("{BOB_CAL}z.ics")]
            .data
            .contains("PARTSTAT=ACCEPTED:mailto:bob")
    );
    for untouched in [format!("{other}a.ics"), format!("{BOB_CAL}a.ics")] {
        assert!(
            model.objects[&untouched]
                .data
                .contains("PARTSTAT=NEEDS-ACTION"),
            "{untouched}"
        );
    }
}

#[test]
fn reply_by_a_non_attendee_is_invalid_data() {
    let mut model = Model::default();
    model.put(
        &format!("{BOB_CAL}u-6.ics"),
        &invite("u-6", "NEEDS-ACTION").replace(BOB, "mailto:carol@example.test"),
    );
    assert!(matches!(
        reply(&mut model, "u-6", PartStat::Accepted),
        Err(Error::InvalidData { .. })
    ));
    assert!(!model.requests.iter().any(|r| r.0 == "PUT"));
}

/// Cyrus 3.6.1's answer to an outbox POST for bob, alice and an unknown user (recorded).
const CYRUS_SCHEDULE_RESPONSE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<C:schedule-response xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:D="DAV:"><C:response><C:recipient><D:href>mailto:bob@example.test</D:href></C:recipient><C:request-status>2.0;Success</C:request-status><C:calendar-data content-type="text/calendar" version="2.0"><![CDATA[BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//CyrusIMAP.org/Cyrus 3.6.1-Debian-3.6.1-4+deb12u5//EN
METHOD:REPLY
BEGIN:VFREEBUSY
DTSTAMP:20261124T142338Z
DTSTART:20261210T000000Z
DTEND:20261211T000000Z
UID:fb-sched-1
ORGANIZER:mailto:alice@example.test
ATTENDEE:mailto:bob@example.test
FREEBUSY:20261210T100000Z/20261210T110000Z
END:VFREEBUSY
END:VCALENDAR
]]></C:calendar-data></C:response><C:response><C:recipient><D:href>mailto:nobody@example.test</D:href></C:recipient><C:request-status>5.1;Service unavailable</C:request-status></C:response></C:schedule-response>"#;

#[test]
fn outbox_post_is_read_per_recipient_and_agrees_with_the_local_computation() {
    let mut machine = FreeBusyMachine::new(FreeBusyConfig::new(
        base(),
        FreeBusyRequest::Outbox {
            outbox: "/dav/calendars/user/alice/Outbox/".into(),
            organizer: "mailto:alice@example.test".into(),
            attendees: vec![BOB.into(), "mailto:nobody@example.test".into()],
            uid: "fb-sched-1".into(),
            dtstamp: t("20261124T142338Z"),
        },
        t("20261210T000000Z"),
        t("20261211T000000Z"),
    ));
    let mut sent = None;
    let Driven::Done(result) = drive_with(&mut machine, 1, |request| {
        sent = Some(request);
        response(200, &[], CYRUS_SCHEDULE_RESPONSE)
    }) else {
        panic!("not done")
    };
    let request = sent.unwrap();
    assert_eq!(request.method(), "POST");
    assert!(
        request.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let body = std::str::from_utf8(request.body()).unwrap();
    assert!(body.contains("METHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\n"));
    assert!(body.contains("ATTENDEE:mailto:nobody@example.test\r\n"));
    let FreeBusyOutcome::Recipients(recipients) = result.unwrap() else {
        panic!("not per recipient")
    };
    assert_eq!(recipients.len(), 2);
    assert!(recipients[0].is_success());
    assert!(!recipients[1].is_success());
    assert!(recipients[1].periods.is_empty());

    // The same event, computed here, gives the same busy time.
    let range = TimeRange::new(Some(t("20261210T000000Z")), Some(t("20261211T000000Z"))).unwrap();
    let text = invite("u-fb", "ACCEPTED");
    let event = ical_parse::parse_strict(&text).unwrap();
    let mut local = FreeBusyBuilder::new(range);
    local.add_calendar(&event, &EvalOptions::default());
    assert_eq!(recipients[0].periods, local.periods());
    assert_eq!(recipients[0].periods[0].fb_type, FbType::Busy);
}

#[test]
fn free_busy_query_and_its_failures() {
    let config = |calendar: &str| {
        FreeBusyConfig::new(
            base(),
            FreeBusyRequest::Query {
                calendar: calendar.into(),
            },
            t("20261210T000000Z"),
            t("20261211T000000Z"),
        )
    };
    let answer = "BEGIN:VCALENDAR\r\nBEGIN:VFREEBUSY\r\nFREEBUSY;FBTYPE=BUSY-TENTATIVE:20261210T090000Z/PT2H\r\n\
                  FREEBUSY:20261209T230000Z/20261210T010000Z\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n";
    let mut machine = FreeBusyMachine::new(config(BOB_CAL));
    let Driven::Done(result) = drive_with(&mut machine, 1, |request| {
        assert_eq!(request.headers()["depth"], "1");
        assert!(
            std::str::from_utf8(request.body())
                .unwrap()
                .contains("free-busy-query")
        );
        response(200, &[], answer)
    }) else {
        panic!()
    };
    let FreeBusyOutcome::Calendar(periods) = result.unwrap() else {
        panic!()
    };
    assert_eq!(periods.len(), 2);
    assert_eq!(periods[0].start, t("20261210T000000Z"), "cut to the range");
    assert_eq!(periods[1].fb_type, FbType::BusyTentative);

    let mut machine = FreeBusyMachine::new(config(BOB_CAL));
    let Driven::Done(result) = drive_with(&mut machine, 1, |_| response(403, &[], "")) else {
        panic!()
    };
    assert!(matches!(
        result,
        Err(Error::Precondition { status: 403, .. })
    ));

    let backwards = FreeBusyConfig::new(
        base(),
        FreeBusyRequest::Query {
            calendar: BOB_CAL.into(),
        },
        t("20261211T000000Z"),
        t("20261210T000000Z"),
    );
    assert!(matches!(
        run(&mut FreeBusyMachine::new(backwards), &mut Model::default()),
        Err(Error::InvalidData { .. })
    ));
}

#[test]
fn invitation_of_text_without_components_says_nothing() {
    let seen = invitation("not a calendar", &[BOB.into()]).unwrap();
    assert_eq!(seen.method, None);
    assert_eq!(seen.uid, None);
    assert_eq!(seen.partstat, None);
}

fn statuses() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(
        prop::sample::select(vec![200u16, 201, 204, 207, 401, 403, 404, 412, 500]),
        0..12,
    )
}

proptest! {
    /// Whatever statuses come back, every machine ends with `Done`
    /// within a few requests and never panics.
    #[test]
    fn machines_settle_on_any_status_sequence(codes in statuses()) {
        let mut codes = codes.into_iter();
        let mut answer = |_request: http::Request<Bytes>| {
            let code = codes.next().unwrap_or(500);
            let body = if code == 207 {
                Model::multistatus(&[(format!("{BOB_CAL}x.ics"), Some(&Stored { data: invite("u", "NEEDS-ACTION"), etag: 1, tag: 1 }), true)])
            } else {
                invite("u", "NEEDS-ACTION")
            };
            response(code, &[("Schedule-Tag", "\"1\"".into())], body)
        };
        let config = ReplyConfig::new(base(), vec![BOB_CAL.into()], "u", vec![BOB.into()], PartStat::Accepted)
            .with_invitation(request_message("u"));
        let ok = matches!(drive_with(&mut ReplyMachine::new(config), 30, &mut answer), Driven::Done(_));
        prop_assert!(ok);
        let inbox = InboxConfig::new(base(), BOB_INBOX.into());
        let ok = matches!(drive_with(&mut InboxMachine::new(inbox), 30, &mut answer), Driven::Done(_));
        prop_assert!(ok);
        let write = ScheduleWriteConfig::new(base(), ScheduleWrite::Create { collection: BOB_CAL.into(), data: invite("u", "NEEDS-ACTION") });
        let ok = matches!(drive_with(&mut ScheduleWriteMachine::new(write), 30, &mut answer), Driven::Done(_));
        prop_assert!(ok);
    }

    /// A reply changes our PARTSTAT and nothing else: every other line survives.
    #[test]
    fn reply_changes_only_our_line(summary in "[A-Za-z0-9 ]{1,40}", partstat in prop::sample::select(vec![PartStat::Accepted, PartStat::Declined, PartStat::Tentative])) {
        let mut model = Model::default();
        let copy = format!("{BOB_CAL}u-p.ics");
        let original = invite("u-p", "NEEDS-ACTION").replace("Planning", summary.trim());
        model.put(&copy, &original);
        let ok = matches!(reply(&mut model, "u-p", partstat.clone()), Ok(ReplyOutcome::Replied { .. }));
        prop_assert!(ok);
        let after = ical_parse::parse_strict(&model.objects[&copy].data).unwrap();
        let before = ical_parse::parse_strict(&original).unwrap();
        let lines = |c: &ical_parse::Calendar<'_>| -> Vec<String> {
            c.write().lines().filter(|l| !l.contains("bob@")).map(str::to_owned).collect()
        };
        prop_assert_eq!(lines(&after), lines(&before));
        let seen = invitation(&model.objects[&copy].data, &[BOB.into()]).unwrap();
        prop_assert_eq!(seen.partstat, Some(partstat));
    }
}

/// A conversation recorded from Cyrus, as a replaying server.
fn recorded(log: &[u8]) -> test_support::replay::Replay {
    let exchanges = caldav_trace::Trace::parse(log)
        .unwrap()
        .into_exchanges()
        .into_iter()
        .filter_map(|e| e.response.map(|response| (e.request, response)))
        .collect();
    test_support::replay::Replay::new(exchanges)
}

fn replay<M: Machine>(log: &[u8], machine: &mut M) -> M::Outcome {
    let mut server = recorded(log);
    let Driven::Done(result) = drive_with(machine, 20, |request| server.handle(request)) else {
        panic!("machine did not settle")
    };
    assert!(server.synthesized.is_empty(), "{:?}", server.synthesized);
    result.unwrap()
}

#[test]
fn cyrus_recordings_replay_through_the_scheduling_machines() {
    let dir = "/dav/calendars/user/";
    let invite = include_bytes!("../fixtures/cyrus-schedule/invite.log");
    let data = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:sched-replay-1\r\n\
                END:VEVENT\r\nEND:VCALENDAR\r\n";
    let mut write = ScheduleWriteMachine::new(ScheduleWriteConfig::new(
        base(),
        ScheduleWrite::Create {
            collection: format!("{dir}alice/Default/").into(),
            data: data.into(),
        },
    ));
    let ScheduleWriteOutcome::Written { object, .. } = replay(invite, &mut write) else {
        panic!("not written")
    };
    assert_eq!(
        object.schedule_tag.as_deref(),
        Some("\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"")
    );
    let bob = object
        .attendees()
        .into_iter()
        .find(|a| a.address == BOB)
        .unwrap();
    assert_eq!(bob.schedule_status, ["1.2"]);

    let inbox = include_bytes!("../fixtures/cyrus-schedule/inbox.log");
    let mut machine =
        InboxMachine::new(InboxConfig::new(base(), format!("{dir}bob/Inbox/").into()));
    let items = replay(inbox, &mut machine);
    let seen: Vec<_> = items
        .iter()
        .map(|i| i.invitation(&[BOB.into()]).unwrap())
        .filter(|s| s.uid.as_deref() == Some("sched-replay-1"))
        .collect();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, Some(Method::Request));
    assert_eq!(seen[0].summary.as_deref(), Some("Replay planning"));
    assert_eq!(seen[0].partstat, Some(PartStat::NeedsAction));

    let reply_log = include_bytes!("../fixtures/cyrus-schedule/reply.log");
    let config = ReplyConfig::new(
        base(),
        vec![format!("{dir}bob/Default/").into()],
        "sched-replay-1",
        vec![BOB.into()],
        PartStat::Accepted,
    );
    let ReplyOutcome::Replied { href, created, .. } =
        replay(reply_log, &mut ReplyMachine::new(config))
    else {
        panic!("no reply")
    };
    assert_eq!(
        href.as_str(),
        format!("{dir}bob/Default/sched-replay-1.ics")
    );
    assert!(!created);

    let freebusy = include_bytes!("../fixtures/cyrus-schedule/freebusy.log");
    let mut machine = FreeBusyMachine::new(FreeBusyConfig::new(
        base(),
        FreeBusyRequest::Outbox {
            outbox: format!("{dir}alice/Outbox/").into(),
            organizer: "mailto:alice@example.test".into(),
            attendees: vec![BOB.into(), "mailto:nobody@example.test".into()],
            uid: "fb".into(),
            dtstamp: t("20261124T150000Z"),
        },
        t("20270601T000000Z"),
        t("20270602T000000Z"),
    ));
    let FreeBusyOutcome::Recipients(recipients) = replay(freebusy, &mut machine) else {
        panic!("not per recipient")
    };
    assert_eq!(recipients.len(), 2);
    assert_eq!(recipients[0].periods.len(), 1);
    assert_eq!(recipients[0].periods[0].start, t("20270601T100000Z"));
    assert_eq!(recipients[1].request_status, "5.1;Service unavailable");
}
