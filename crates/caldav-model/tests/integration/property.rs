//! Every response property of the seed trace decodes to its typed value.

use caldav_model::property::{Principal, Property, PropertySet, Value, names};
use dav_xml::{Element, Multistatus, QName};

use crate::seed::trace_messages;

/// The multistatus answers to PROPFIND and REPORT requests (PROPPATCH answers list empty
/// property elements that carry only a status).
fn answers() -> Vec<(String, Multistatus)> {
    let messages = trace_messages();
    messages
        .windows(2)
        .filter(|w| w[0].request && !w[0].start.starts_with("PROPPATCH"))
        .map(|w| {
            (
                w[0].start.clone(),
                Multistatus::decode(w[1].body.as_bytes()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_seed_property_decodes_to_a_typed_value() {
    let mut seen = 0;
    for (request, multistatus) in answers() {
        for response in &multistatus.responses {
            for propstat in &response.propstats {
                if propstat.status != Some(http::StatusCode::OK) {
                    continue;
                }
                for element in &propstat.props {
                    let prop = Property::decode(element)
                        .unwrap_or_else(|e| panic!("{request}: {}: {e}", element.name));
                    assert!(
                        !matches!(prop.value, Value::Xml(_)),
                        "{request}: {} has no typed form",
                        element.name
                    );
                    let again = Property::decode(&prop.encode()).unwrap();
                    assert_eq!(again, prop, "{request}: {} round trip", element.name);
                    seen += 1;
                }
            }
        }
    }
    assert!(seen > 60, "only {seen} properties seen");
}

pub(crate) fn depth1_listing() -> Multistatus {
    answers()
        .into_iter()
        .find(|(req, ms)| {
            req.starts_with("PROPFIND /calendars/user/ken/ ") && ms.responses.len() == 4
        })
        .unwrap()
        .1
}

fn props_of(ms: &Multistatus, href: &str) -> PropertySet {
    PropertySet::from_response(
        ms.responses
            .iter()
            .find(|r| r.href().map(|h| h.as_str()) == Some(href))
            .unwrap(),
    )
}

#[test]
fn seed_test_calendar_has_its_typed_values() {
    let ms = depth1_listing();
    let test = props_of(&ms, "/calendars/user/ken/b77929e-54c-1438801751723-942343/");
    assert_eq!(test.displayname(), Some("test"));
    assert_eq!(test.calendar_description(), Some("testing 1,2,3"));
    assert_eq!(test.ctag().unwrap().0, "1438801752-8");
    assert_eq!(test.sync_token().unwrap().0, "data:,1438801752-8");
    assert_eq!(
        test.supported_components().unwrap(),
        ["VEVENT", "VTODO", "VPOLL"]
    );
    assert!(test.is_collection() && test.is_calendar());
    assert!(
        test.resource_type()
            .contains(&QName::new("http://calendarserver.org/ns/", "shared-owner"))
    );
    assert_eq!(test.owner().unwrap().as_str(), "/principals/user/ken/");
    assert_eq!(
        test.add_member().unwrap().as_str(),
        "/calendars/user/ken/b77929e-54c-1438801751723-942343/?action=add-member"
    );
    let sharees = test.sharees();
    assert_eq!(sharees.len(), 1);
    assert_eq!(sharees[0].href.as_str(), "mailto:anyone@internal");
    assert_eq!(
        sharees[0].status.as_ref().unwrap().local(),
        "invite-noresponse"
    );
    assert_eq!(sharees[0].access.as_ref().unwrap().local(), "read");
    assert_eq!(test.privileges().len(), 15);
    assert!(
        test.privileges()
            .iter()
            .any(|p| p.is("urn:ietf:params:xml:ns:caldav", "read-free-busy"))
    );
    let reports: Vec<&str> = test.supported_reports().iter().map(QName::local).collect();
    assert_eq!(
        reports,
        [
            "expand-property",
            "acl-principal-prop-set",
            "sync-collection",
            "calendar-query",
            "calendar-multiget",
            "free-busy-query"
        ]
    );
    let Some(Value::Names(modes)) = test.get(&names::ALLOWED_SHARING_MODES) else {
        panic!()
    };
    assert_eq!(modes[0].local(), "can-be-shared");
    let Some(Value::BulkRequests(bulk)) = test.get(&names::BULK_REQUESTS) else {
        panic!()
    };
    assert_eq!(bulk.modes[0].name.local(), "simple");
    assert_eq!(bulk.modes[0].limits.len(), 2);

    let home = props_of(&ms, "/calendars/user/ken/");
    assert_eq!(home.displayname(), Some("#calendars"));
    assert!(home.is_collection() && !home.is_calendar());
    assert!(home.sharees().is_empty());

    let default = props_of(&ms, "/calendars/user/ken/Default/");
    assert_eq!(default.ctag().unwrap().0, "1436370616-382");
    assert_eq!(default.supported_components().unwrap().len(), 5);
}

#[test]
fn seed_principal_properties_decode() {
    // The CalConnect page's principal PROPFIND answer (before the trace).
    let seed = crate::seed::SEED;
    let start = seed.find("<A:multistatus xmlns:A=\"DAV:\" xmlns:B=\"urn:ietf:params:xml:ns:caldav\" xmlns:C=\"http://calendarserver.org/ns/\">\n  <A:response>\n    <A:href>/principals/user/ken/").unwrap();
    let end = start + seed[start..].find("</A:multistatus>").unwrap() + "</A:multistatus>".len();
    let ms = Multistatus::decode(&seed.as_bytes()[start..end]).unwrap();
    let p = PropertySet::from_response(&ms.responses[0]);
    assert_eq!(p.calendar_home_set()[0].as_str(), "/calendars/user/ken/");
    assert_eq!(
        p.calendar_user_address_set()[0].as_str(),
        "mailto:ken@example.com"
    );
    assert_eq!(
        p.current_user_principal(),
        Some(&Principal::Href(dav_xml::Href::new(
            "/principals/user/ken/"
        )))
    );
    assert_eq!(p.principal_url().unwrap().as_str(), "/principals/user/ken/");
    assert_eq!(
        p.principal_collection_set()[0].as_str(),
        "/principals/user/"
    );
    assert_eq!(
        p.schedule_inbox_url().unwrap().as_str(),
        "/calendars/user/ken/Inbox/"
    );
    assert_eq!(
        p.schedule_outbox_url().unwrap().as_str(),
        "/calendars/user/ken/Outbox/"
    );
    assert_eq!(
        p.notification_url().unwrap().as_str(),
        "/notifications/user/ken/"
    );
    assert_eq!(p.supported_reports().len(), 3);
}

#[test]
fn seed_multiget_404_propstat_means_absent() {
    // The calendar-multiget answer: one 200 and one 404 propstat per response.
    let (_, ms) = answers()
        .into_iter()
        .find(|(_, ms)| ms.responses.iter().any(|r| r.propstats.len() == 2))
        .unwrap();
    let first = PropertySet::from_response(&ms.responses[0]);
    assert!(
        first
            .calendar_data()
            .unwrap()
            .starts_with("BEGIN:VCALENDAR\n")
    );
    assert!(first.etag().unwrap().0.starts_with('"'));
    assert!(first.schedule_tag().is_none());
    assert!(first.is_absent(&names::SCHEDULE_TAG));
    assert!(first.is_absent(&names::CREATED_BY));
    assert!(first.failure(&names::SCHEDULE_TAG).is_none());
}

#[test]
fn seed_proppatch_values_decode() {
    let messages = trace_messages();
    let color = messages
        .iter()
        .find(|m| m.start.starts_with("PROPPATCH") && m.body.contains("calendar-color"))
        .unwrap();
    let update = Element::decode(color.body.as_bytes()).unwrap();
    let prop = update
        .elements()
        .next()
        .unwrap()
        .elements()
        .next()
        .unwrap()
        .elements()
        .next()
        .unwrap();
    let decoded = Property::decode(prop).unwrap();
    let Value::Color(c) = &decoded.value else {
        panic!()
    };
    assert_eq!(c.value, "#FB0055FF");
    assert_eq!(c.symbolic.as_deref(), Some("red"));

    let tz = messages
        .iter()
        .find(|m| m.start.starts_with("PROPPATCH") && m.body.contains("calendar-timezone"))
        .unwrap();
    let update = Element::decode(tz.body.as_bytes()).unwrap();
    let prop = update
        .elements()
        .next()
        .unwrap()
        .elements()
        .next()
        .unwrap()
        .elements()
        .next()
        .unwrap();
    let Value::Text(text) = Property::decode(prop).unwrap().value else {
        panic!()
    };
    // `&#13;` survives XML line-end normalisation as a CR.
    assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
}
