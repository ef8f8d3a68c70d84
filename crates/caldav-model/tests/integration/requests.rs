//! Every request body of the seed trace is produced by a builder, equal as an XML tree
//! (names, attributes, text; prefixes may differ).

use caldav_model::filter::{CompFilter, Filter, TimeRange, parse_utc};
use caldav_model::property::{Color, Property, Value, names};
use caldav_model::report::{
    CalendarData, CalendarMultiget, CalendarQuery, PropItem, PropRequest, property_update,
};
use dav_xml::request::PropFind;
use dav_xml::{Element, Href, QName};

use crate::seed::{SEED, trace_messages};

const NEW_YORK: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//Mac OS X 10.12.6//EN\r\n\
CALSCALE:GREGORIAN\r\nBEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nBEGIN:DAYLIGHT\r\n\
TZOFFSETFROM:-0500\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nDTSTART:20070311T020000\r\n\
TZNAME:EDT\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\n\
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nDTSTART:20071104T020000\r\nTZNAME:EST\r\n\
TZOFFSETTO:-0500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n";

fn cs(local: &'static str) -> QName {
    QName::new("http://calendarserver.org/ns/", local)
}

fn propfind(names: Vec<QName>) -> Element {
    PropFind::Prop(names).to_element()
}

/// Every body the seed's client sends, as builder calls.
fn built() -> Vec<(&'static str, Element)> {
    let range =
        TimeRange::new(parse_utc("20170919T010101Z"), parse_utc("20171010T010101Z")).unwrap();
    let event_query = |props: Vec<QName>| {
        CalendarQuery::new(Filter::component(
            CompFilter::new("VEVENT").time_range(range),
        ))
        .props(PropRequest::names(props))
        .to_element()
    };
    let todo_query = |props: Vec<QName>| {
        CalendarQuery::new(Filter::component(CompFilter::new("VTODO")))
            .props(PropRequest::names(props))
            .to_element()
    };
    let depth1 = vec![
        names::ADD_MEMBER,
        names::ALLOWED_SHARING_MODES,
        names::AUTOPROVISIONED,
        names::BULK_REQUESTS,
        names::CALENDAR_ALARM,
        names::CALENDAR_COLOR,
        names::CALENDAR_DESCRIPTION,
        names::CALENDAR_FREE_BUSY_SET,
        names::CALENDAR_ORDER,
        names::CALENDAR_TIMEZONE,
        names::CURRENT_USER_PRIVILEGE_SET,
        names::DEFAULT_ALARM_VEVENT_DATE,
        names::DEFAULT_ALARM_VEVENT_DATETIME,
        names::DISPLAYNAME,
        names::GETCTAG,
        names::INVITE,
        names::LANGUAGE_CODE,
        names::LOCATION_CODE,
        names::OWNER,
        names::PRE_PUBLISH_URL,
        names::PUBLISH_URL,
        names::PUSH_TRANSPORTS,
        names::PUSHKEY,
        names::QUOTA_AVAILABLE_BYTES,
        names::QUOTA_USED_BYTES,
        names::REFRESHRATE,
        names::RESOURCE_ID,
        names::RESOURCETYPE,
        names::SCHEDULE_CALENDAR_TRANSP,
        names::SCHEDULE_DEFAULT_CALENDAR_URL,
        names::SOURCE,
        names::SUBSCRIBED_STRIP_ALARMS,
        names::SUBSCRIBED_STRIP_ATTACHMENTS,
        names::SUBSCRIBED_STRIP_TODOS,
        names::SUPPORTED_CALENDAR_COMPONENT_SET,
        names::SUPPORTED_CALENDAR_COMPONENT_SETS,
        names::SUPPORTED_REPORT_SET,
        names::SYNC_TOKEN,
    ];
    let multiget_hrefs = [
        "b7f368f2-f24b-4c19-b2b7-8620de68a3a4.ics",
        "bar.ics",
        "85b2eee6-9f0a-4508-bf40-d730fd92e475.ics",
        "5dd30e69-e584-4949-8a54-95d49bd54730.ics",
        "foo.ics",
    ]
    .map(|name| Href::new(format!("/calendars/user/ken/Default/{name}")));
    vec![
        ("availability", propfind(vec![names::CALENDAR_AVAILABILITY])),
        ("depth1 listing", propfind(depth1)),
        (
            "ctag and token",
            propfind(vec![names::GETCTAG, names::SYNC_TOKEN]),
        ),
        ("checksum", propfind(vec![names::CHECKSUM_VERSIONS])),
        (
            "etags",
            propfind(vec![names::GETCONTENTTYPE, names::GETETAG]),
        ),
        (
            "notifications",
            propfind(vec![names::GETETAG, names::NOTIFICATIONTYPE]),
        ),
        (
            "page: principal lookup",
            propfind(vec![
                names::CURRENT_USER_PRINCIPAL,
                names::PRINCIPAL_URL,
                names::RESOURCETYPE,
            ]),
        ),
        (
            "page: principal properties",
            propfind(vec![
                names::CALENDAR_HOME_SET,
                names::CALENDAR_USER_ADDRESS_SET,
                names::CURRENT_USER_PRINCIPAL,
                names::DISPLAYNAME,
                names::DROPBOX_HOME_URL,
                names::EMAIL_ADDRESS_SET,
                names::NOTIFICATION_URL,
                names::PRINCIPAL_COLLECTION_SET,
                names::PRINCIPAL_URL,
                names::RESOURCE_ID,
                names::SCHEDULE_INBOX_URL,
                names::SCHEDULE_OUTBOX_URL,
                names::SUPPORTED_REPORT_SET,
            ]),
        ),
        (
            "order 1",
            property_update(
                &[Property::new(names::CALENDAR_ORDER, Value::Order(1))],
                &[],
            )
            .to_element(),
        ),
        (
            "order 2",
            property_update(
                &[Property::new(names::CALENDAR_ORDER, Value::Order(2))],
                &[],
            )
            .to_element(),
        ),
        (
            "color",
            property_update(
                &[Property::new(
                    names::CALENDAR_COLOR,
                    Value::Color(Color {
                        value: "#FB0055FF".into(),
                        symbolic: Some("red".into()),
                    }),
                )],
                &[],
            )
            .to_element(),
        ),
        (
            "timezone",
            property_update(
                &[Property::new(
                    names::CALENDAR_TIMEZONE,
                    Value::Text(NEW_YORK.into()),
                )],
                &[],
            )
            .to_element(),
        ),
        (
            "events",
            event_query(vec![names::GETETAG, names::GETCONTENTTYPE]),
        ),
        (
            "todos",
            todo_query(vec![names::GETETAG, names::GETCONTENTTYPE]),
        ),
        (
            "todos, other order",
            todo_query(vec![names::GETCONTENTTYPE, names::GETETAG]),
        ),
        (
            "multiget",
            CalendarMultiget::new(
                PropRequest::Prop(vec![
                    PropItem::Name(names::GETETAG),
                    PropItem::CalendarData(CalendarData::new()),
                    PropItem::Name(names::SCHEDULE_TAG),
                    PropItem::Name(cs("created-by")),
                    PropItem::Name(cs("updated-by")),
                ]),
                multiget_hrefs,
            )
            .to_element(),
        ),
    ]
}

/// The request bodies of the seed: the trace's, and the two on the CalConnect page.
fn seed_bodies() -> Vec<(String, Element)> {
    let mut bodies: Vec<(String, Element)> = trace_messages()
        .into_iter()
        .filter(|m| m.request && !m.body.is_empty())
        .map(|m| (m.start, Element::decode(m.body.as_bytes()).unwrap()))
        .collect();
    let page = &SEED[..SEED.find("\n---------- ").unwrap()];
    for (i, _) in page.match_indices("<A:propfind") {
        let end = i + page[i..].find("</A:propfind>").unwrap() + "</A:propfind>".len();
        bodies.push((
            "page PROPFIND".into(),
            Element::decode(&page.as_bytes()[i..end]).unwrap(),
        ));
    }
    bodies
}

#[test]
fn every_seed_request_body_comes_from_a_builder() {
    let built = built();
    let bodies = seed_bodies();
    assert_eq!(bodies.len(), 27);
    let mut used = vec![false; built.len()];
    for (start, body) in &bodies {
        let found = built.iter().position(|(_, b)| b == body);
        let Some(i) = found else {
            panic!("no builder produces the body of {start}: {body:#?}")
        };
        used[i] = true;
    }
    for ((what, _), used) in built.iter().zip(used) {
        assert!(used, "builder case {what} matches no seed body");
    }
}

#[test]
fn built_bodies_survive_encoding() {
    // Written with dav-xml's own prefixes, each body decodes back to the same tree.
    for (what, body) in built() {
        let text = body.encode();
        assert_eq!(
            Element::decode(text.as_bytes()).unwrap(),
            body,
            "{what}: {text}"
        );
    }
}

#[test]
fn a_changed_builder_no_longer_matches() {
    // Guards the comparison itself: one attribute differs, the trees differ.
    let bodies = seed_bodies();
    let other =
        TimeRange::new(parse_utc("20170919T010102Z"), parse_utc("20171010T010101Z")).unwrap();
    let query = CalendarQuery::new(Filter::component(
        CompFilter::new("VEVENT").time_range(other),
    ))
    .props(PropRequest::names([names::GETETAG, names::GETCONTENTTYPE]))
    .to_element();
    assert!(bodies.iter().all(|(_, b)| *b != query));
}
