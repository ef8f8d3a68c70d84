//! Request bodies, all built by `caldav-model` and encoded by `dav-xml`: PROPFIND
//! (RFC 4918 §9.1), PROPPATCH (§9.2), MKCALENDAR (RFC 4791 §5.3.1), calendar-multiget
//! (RFC 4791 §7.9) and sync-collection (RFC 6578 §3.2).

use bytes::Bytes;
use caldav_model::property::{Property, SyncToken, names};
use caldav_model::report::{self, CalendarMultiget, PropRequest, SyncCollection};
use dav_xml::request::PropFind;
use dav_xml::{Href, QName};

/// A PROPFIND body asking for `props`.
pub(crate) fn propfind(props: &[QName]) -> Bytes {
    Bytes::from(PropFind::Prop(props.to_vec()).encode())
}

/// A calendar-multiget of path-absolute `hrefs` for their etag and data.
pub(crate) fn multiget(hrefs: &[String]) -> Bytes {
    let hrefs = hrefs.iter().map(|h| Href::new(h.as_str()));
    let body = CalendarMultiget::new(
        PropRequest::names([names::GETETAG, names::CALENDAR_DATA]),
        hrefs,
    );
    Bytes::from(body.to_element().encode())
}

/// A sync-collection at level 1 from `token` (empty: the initial sync) for `props`.
pub(crate) fn sync_collection(token: &str, props: &[QName]) -> Bytes {
    let token = (!token.is_empty()).then(|| SyncToken(token.to_owned()));
    let body = SyncCollection::new(token, PropRequest::names(props.iter().cloned()));
    Bytes::from(body.to_element().encode())
}

/// A PROPPATCH body.
pub(crate) fn propertyupdate(set: &[Property], remove: &[QName]) -> Bytes {
    Bytes::from(report::property_update(set, remove).encode())
}

/// A MKCALENDAR body; empty when there is nothing to set (RFC 4791 §5.3.1 allows no body).
pub(crate) fn mkcalendar(set: &[Property]) -> Bytes {
    if set.is_empty() {
        return Bytes::new();
    }
    Bytes::from(report::mkcalendar(set).encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use caldav_model::property::Value;
    use dav_xml::Element;

    #[test]
    fn multiget_decodes_with_escaped_hrefs() {
        let body = multiget(&["/cal/a&b<c>.ics".to_owned()]);
        let root = Element::decode(&body).unwrap();
        assert_eq!(root.name, QName::caldav("calendar-multiget"));
        let href = root.child(&QName::DAV_HREF).unwrap();
        assert_eq!(href.text(), "/cal/a&b<c>.ics");
        let prop = root.child(&QName::DAV_PROP).unwrap();
        assert!(prop.child(&QName::CALDAV_CALENDAR_DATA).is_some());
    }

    #[test]
    fn sync_collection_token_round_trips() {
        let body = sync_collection("data:,1\"&2", &[names::GETETAG]);
        let root = Element::decode(&body).unwrap();
        assert_eq!(
            root.child(&QName::DAV_SYNC_TOKEN).unwrap().text(),
            "data:,1\"&2"
        );
        let initial = Element::decode(&sync_collection("", &[])).unwrap();
        assert_eq!(initial.child(&QName::DAV_SYNC_TOKEN).unwrap().text(), "");
    }

    #[test]
    fn propertyupdate_sets_and_removes() {
        let body = propertyupdate(
            &[Property::new(names::CALENDAR_ORDER, Value::Order(3))],
            &[names::CALENDAR_TIMEZONE],
        );
        let root = Element::decode(&body).unwrap();
        let set = root.child(&QName::DAV_SET).unwrap();
        let prop = set.child(&QName::DAV_PROP).unwrap();
        assert_eq!(prop.child(&names::CALENDAR_ORDER).unwrap().text(), "3");
        assert!(root.child(&QName::DAV_REMOVE).is_some());
        assert!(mkcalendar(&[]).is_empty());
    }
}
