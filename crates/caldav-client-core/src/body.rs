//! Request bodies: PROPFIND (RFC 4918 §9.1), PROPPATCH (§9.2), MKCALENDAR (RFC 4791 §5.3.1),
//! calendar-multiget (RFC 4791 §7.9) and sync-collection (RFC 6578 §3.2).
//!
//! Bodies are built from [`PropName`] lists and caller values; every value is escaped. Names are
//! written with one fixed prefix per namespace, declared on the root element.

use bytes::Bytes;
use dav_xml::QName;
use dav_xml::name::{APPLE_ICAL, CALDAV, CALENDARSERVER, DAV};

/// Namespaces declared on every root element, with their prefixes.
const NAMESPACES: [(&str, &str); 4] = [
    ("A", DAV),
    ("B", CALDAV),
    ("C", CALENDARSERVER),
    ("D", APPLE_ICAL),
];

/// A property name in one of the four namespaces the bodies declare.
pub(crate) type PropName = (&'static str, &'static str);

fn prefix(namespace: &str) -> &'static str {
    NAMESPACES
        .iter()
        .find(|(_, ns)| *ns == namespace)
        .map_or("A", |(p, _)| p)
}

/// Escapes text for element content and attribute values (XML 1.0 §2.4).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

fn open_root(out: &mut String, prefix: &str, local: &str) {
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
    out.push_str(prefix);
    out.push(':');
    out.push_str(local);
    for (p, ns) in NAMESPACES {
        out.push_str(" xmlns:");
        out.push_str(p);
        out.push_str("=\"");
        out.push_str(ns);
        out.push('"');
    }
    out.push('>');
}

fn empty(out: &mut String, (namespace, local): PropName) {
    out.push('<');
    out.push_str(prefix(namespace));
    out.push(':');
    out.push_str(local);
    out.push_str("/>");
}

fn prop_list(out: &mut String, props: &[PropName]) {
    out.push_str("<A:prop>");
    for prop in props {
        empty(out, *prop);
    }
    out.push_str("</A:prop>");
}

/// `<A:propfind><A:prop>...</A:prop></A:propfind>`.
pub(crate) fn propfind(props: &[PropName]) -> Bytes {
    let mut out = String::new();
    open_root(&mut out, "A", "propfind");
    prop_list(&mut out, props);
    out.push_str("</A:propfind>");
    Bytes::from(out)
}

/// A `CALDAV:calendar-multiget` for the given path-absolute hrefs.
pub(crate) fn multiget(props: &[PropName], hrefs: &[String]) -> Bytes {
    let mut out = String::new();
    open_root(&mut out, "B", "calendar-multiget");
    prop_list(&mut out, props);
    for href in hrefs {
        out.push_str("<A:href>");
        out.push_str(&escape(href));
        out.push_str("</A:href>");
    }
    out.push_str("</B:calendar-multiget>");
    Bytes::from(out)
}

/// A `DAV:sync-collection` report, level 1 (RFC 6578 §6.1); an empty token asks for the
/// initial listing.
pub(crate) fn sync_collection(token: &str, props: &[PropName]) -> Bytes {
    let mut out = String::new();
    open_root(&mut out, "A", "sync-collection");
    if token.is_empty() {
        out.push_str("<A:sync-token/>");
    } else {
        out.push_str("<A:sync-token>");
        out.push_str(&escape(token));
        out.push_str("</A:sync-token>");
    }
    out.push_str("<A:sync-level>1</A:sync-level>");
    prop_list(&mut out, props);
    out.push_str("</A:sync-collection>");
    Bytes::from(out)
}

/// One property value to set: a name and either text or a list of child names
/// (for `supported-calendar-component-set`, `comp` elements with a `name` attribute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SetValue {
    Text(String),
    Components(Vec<String>),
}

fn set_props(out: &mut String, props: &[(PropName, SetValue)]) {
    out.push_str("<A:prop>");
    for ((namespace, local), value) in props {
        let p = prefix(namespace);
        match value {
            SetValue::Text(text) => {
                out.push_str(&format!("<{p}:{local}>{}</{p}:{local}>", escape(text)));
            }
            SetValue::Components(names) => {
                out.push_str(&format!("<{p}:{local}>"));
                for name in names {
                    out.push_str(&format!("<B:comp name=\"{}\"/>", escape(name)));
                }
                out.push_str(&format!("</{p}:{local}>"));
            }
        }
    }
    out.push_str("</A:prop>");
}

/// A `DAV:propertyupdate` with one `set` and one `remove` (RFC 4918 §14.19).
pub(crate) fn propertyupdate(set: &[(PropName, SetValue)], remove: &[PropName]) -> Bytes {
    let mut out = String::new();
    open_root(&mut out, "A", "propertyupdate");
    if !set.is_empty() {
        out.push_str("<A:set>");
        set_props(&mut out, set);
        out.push_str("</A:set>");
    }
    if !remove.is_empty() {
        out.push_str("<A:remove>");
        prop_list(&mut out, remove);
        out.push_str("</A:remove>");
    }
    out.push_str("</A:propertyupdate>");
    Bytes::from(out)
}

/// A `CALDAV:mkcalendar` body (RFC 4791 §9.3); empty when there is nothing to set.
pub(crate) fn mkcalendar(set: &[(PropName, SetValue)]) -> Bytes {
    if set.is_empty() {
        return Bytes::new();
    }
    let mut out = String::new();
    open_root(&mut out, "B", "mkcalendar");
    out.push_str("<A:set>");
    set_props(&mut out, set);
    out.push_str("</A:set></B:mkcalendar>");
    Bytes::from(out)
}

/// The [`QName`] of a [`PropName`].
pub(crate) fn qname((namespace, local): PropName) -> QName {
    QName::from_static(namespace, local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dav_xml::Element;

    #[test]
    fn multiget_decodes_with_escaped_hrefs() {
        let body = multiget(
            &[(DAV, "getetag"), (CALDAV, "calendar-data")],
            &["/cal/a&b<c>.ics".to_owned()],
        );
        let root = Element::decode(&body).unwrap();
        assert_eq!(root.name, QName::caldav("calendar-multiget"));
        let href = root.child(&QName::DAV_HREF).unwrap();
        assert_eq!(href.text(), "/cal/a&b<c>.ics");
        let prop = root.child(&QName::DAV_PROP).unwrap();
        assert!(prop.child(&QName::CALDAV_CALENDAR_DATA).is_some());
    }

    #[test]
    fn sync_collection_token_round_trips() {
        let body = sync_collection("data:,1\"&2", &[(DAV, "getetag")]);
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
            &[
                ((APPLE_ICAL, "calendar-order"), SetValue::Text("3".into())),
                (
                    (CALDAV, "supported-calendar-component-set"),
                    SetValue::Components(vec!["VEVENT".into()]),
                ),
            ],
            &[(CALDAV, "calendar-timezone")],
        );
        let root = Element::decode(&body).unwrap();
        let set = root.child(&QName::DAV_SET).unwrap();
        let prop = set.child(&QName::DAV_PROP).unwrap();
        assert_eq!(
            prop.child(&QName::new(APPLE_ICAL, "calendar-order"))
                .unwrap()
                .text(),
            "3"
        );
        assert!(root.child(&QName::DAV_REMOVE).is_some());
        assert!(mkcalendar(&[]).is_empty());
    }
}
