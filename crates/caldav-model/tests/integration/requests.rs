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

mod rfc_examples {
    //! Report bodies from the RFCs that define them, built and compared as trees.

    use caldav_model::property::{SyncToken, names};
    use caldav_model::report::{
        ExpandItem, ExpandProperty, PrincipalPropertySearch, PropRequest, SyncCollection, SyncLevel,
    };
    use dav_xml::{Element, QName};

    fn tree(xml: &str) -> Element {
        Element::decode(xml.as_bytes()).unwrap()
    }

    #[test]
    fn rfc6578_sync_collection() {
        // RFC 6578 §3.8 (initial sync: empty token) and §3.9 (a limited follow-up).
        let initial = SyncCollection::new(None, PropRequest::names([names::GETETAG]));
        assert_eq!(
            initial.to_element(),
            tree(
                r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>
                   <D:prop><D:getetag/></D:prop></D:sync-collection>"#
            )
        );
        let mut next = SyncCollection::new(
            Some(SyncToken("http://example.com/ns/sync/1233".into())),
            PropRequest::names([names::GETETAG]),
        );
        next.limit = Some(100);
        next.level = SyncLevel::Infinite;
        assert_eq!(
            next.to_element(),
            tree(
                r#"<D:sync-collection xmlns:D="DAV:">
                     <D:sync-token>http://example.com/ns/sync/1233</D:sync-token>
                     <D:sync-level>infinite</D:sync-level>
                     <D:limit><D:nresults>100</D:nresults></D:limit>
                     <D:prop><D:getetag/></D:prop>
                   </D:sync-collection>"#
            )
        );
    }

    #[test]
    fn rfc3253_expand_property() {
        let body = ExpandProperty {
            items: vec![
                ExpandItem::new(QName::new("DAV:", "version-history")).child(
                    ExpandItem::new(QName::new("DAV:", "version-set"))
                        .child(ExpandItem::new(QName::new("DAV:", "creator-displayname")))
                        .child(ExpandItem::new(QName::new("DAV:", "activity-set"))),
                ),
            ],
        };
        assert_eq!(
            body.to_element(),
            tree(
                r#"<D:expand-property xmlns:D="DAV:">
                     <D:property name="version-history">
                       <D:property name="version-set">
                         <D:property name="creator-displayname"/>
                         <D:property name="activity-set"/>
                       </D:property>
                     </D:property>
                   </D:expand-property>"#
            )
        );
        // CalendarServer's proxy lookup names a property outside DAV:.
        let proxy = ExpandProperty {
            items: vec![
                ExpandItem::new(QName::new(
                    "http://calendarserver.org/ns/",
                    "calendar-proxy-write-for",
                ))
                .child(ExpandItem::new(names::DISPLAYNAME)),
            ],
        };
        assert_eq!(
            proxy.to_element(),
            tree(
                r#"<D:expand-property xmlns:D="DAV:">
                     <D:property name="calendar-proxy-write-for"
                                 namespace="http://calendarserver.org/ns/">
                       <D:property name="displayname"/>
                     </D:property>
                   </D:expand-property>"#
            )
        );
    }

    #[test]
    fn rfc3744_principal_property_search() {
        let b = "http://www.example.com/ns/";
        let body = PrincipalPropertySearch {
            searches: vec![
                (vec![names::DISPLAYNAME], "doE".into()),
                (vec![QName::new(b, "title")], "Sales".into()),
            ],
            any_of: false,
            props: vec![
                names::DISPLAYNAME,
                QName::new(b, "department"),
                QName::new(b, "phone"),
                QName::new(b, "office"),
                QName::new(b, "salary"),
            ],
            apply_to_principal_collection_set: false,
        };
        assert_eq!(
            body.to_element(),
            tree(
                r#"<D:principal-property-search xmlns:D="DAV:">
                     <D:property-search>
                       <D:prop><D:displayname/></D:prop>
                       <D:match>doE</D:match>
                     </D:property-search>
                     <D:property-search>
                       <D:prop xmlns:B="http://www.example.com/ns/"><B:title/></D:prop>
                       <D:match>Sales</D:match>
                     </D:property-search>
                     <D:prop xmlns:B="http://www.example.com/ns/">
                       <D:displayname/><B:department/><B:phone/><B:office/><B:salary/>
                     </D:prop>
                   </D:principal-property-search>"#
            )
        );
        let mut any = body.clone();
        any.any_of = true;
        any.apply_to_principal_collection_set = true;
        let e = any.to_element();
        assert_eq!(e.attribute(&QName::new("", "test")), Some("anyof"));
        assert_eq!(
            e.elements().last().unwrap().name,
            QName::new("DAV:", "apply-to-principal-collection-set")
        );
    }

    #[test]
    fn rfc4791_free_busy_and_mkcalendar() {
        use caldav_model::filter::{TimeRange, parse_utc};
        use caldav_model::property::{Property, Value};
        use caldav_model::report::{FreeBusyQuery, mkcalendar};
        let range =
            TimeRange::new(parse_utc("20060104T140000Z"), parse_utc("20060105T220000Z")).unwrap();
        assert_eq!(
            FreeBusyQuery { range }.to_element(),
            tree(
                r#"<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">
                     <C:time-range start="20060104T140000Z" end="20060105T220000Z"/>
                   </C:free-busy-query>"#
            )
        );
        // RFC 4791 §5.3.1.2, without the VTIMEZONE text.
        let body = mkcalendar(&[
            Property::new(names::DISPLAYNAME, Value::Text("Lisa's Events".into())),
            Property::new(
                names::CALENDAR_DESCRIPTION,
                Value::Text("Calendar restricted to events.".into()),
            ),
            Property::new(
                names::SUPPORTED_CALENDAR_COMPONENT_SET,
                Value::Components(vec!["VEVENT".into()]),
            ),
        ]);
        assert_eq!(
            body.to_element(),
            tree(
                r#"<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
                     <D:set><D:prop>
                       <D:displayname>Lisa's Events</D:displayname>
                       <C:calendar-description>Calendar restricted to events.</C:calendar-description>
                       <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
                     </D:prop></D:set>
                   </C:mkcalendar>"#
            )
        );
    }
}
