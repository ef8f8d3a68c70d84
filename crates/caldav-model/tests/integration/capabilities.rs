//! Capabilities from the seed's OPTIONS answer (five `DAV:` lines and one `Allow:` line).

use caldav_model::capabilities::{Capabilities, DavClass};
use http::Method;

use crate::seed::options_answer_headers;

#[test]
fn seed_options_answer_becomes_one_capability_set() {
    let headers = options_answer_headers();
    assert_eq!(headers.get_all("dav").iter().count(), 5);
    let caps = Capabilities::from_headers(&headers).unwrap();

    assert_eq!(caps.dav_level(), Some(3));
    assert!(caps.access_control());
    assert!(caps.extended_mkcol());
    assert!(caps.resource_sharing());
    assert!(caps.calendar_access());
    assert!(caps.calendar_auto_schedule());
    assert!(caps.calendar_managed_attachments());
    assert!(!caps.calendar_no_timezone());
    assert!(caps.has(&DavClass::CalendarServerSharing));
    assert!(caps.has(&DavClass::CalendarAvailability));
    assert!(caps.has(&DavClass::Addressbook));
    // Tokens this crate does not name survive as strings.
    assert!(caps.has(&DavClass::Other("calendar-query-extended".into())));
    assert!(caps.has_token("inbox-availability"));
    assert_eq!(caps.classes().len(), 14);

    let report = Method::from_bytes(b"REPORT").unwrap();
    let propfind = Method::from_bytes(b"PROPFIND").unwrap();
    assert!(caps.allow_known());
    for method in [Method::OPTIONS, Method::GET, Method::HEAD, propfind, report] {
        assert!(caps.allows(&method), "{method}");
    }
    assert!(caps.allows(&Method::from_bytes(b"COPY").unwrap()));
    assert!(!caps.allows(&Method::PUT));
    assert!(!caps.allows(&Method::DELETE));
    assert_eq!(caps.methods().len(), 6);
}

#[test]
fn seed_reports_complete_the_capability_set() {
    let mut caps = Capabilities::from_headers(&options_answer_headers()).unwrap();
    assert!(!caps.sync_collection());
    let listing = crate::property::depth1_listing();
    let test = listing
        .responses
        .iter()
        .find(|r| r.href().unwrap().as_str().contains("b77929e"))
        .unwrap();
    caps.add_reports_from(&caldav_model::property::PropertySet::from_response(test));
    assert!(caps.sync_collection());
    assert!(caps.supports_report("urn:ietf:params:xml:ns:caldav", "calendar-multiget"));
    assert!(caps.supports_report("urn:ietf:params:xml:ns:caldav", "free-busy-query"));
    assert!(!caps.supports_report("DAV:", "principal-property-search"));
    assert_eq!(caps.reports().len(), 6);
}
