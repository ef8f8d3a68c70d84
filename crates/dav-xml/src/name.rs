//! Qualified names: a namespace URI plus a local name (Namespaces in XML 1.0 §3, RFC 4918 §21).
//!
//! Decoding never looks at prefixes: `<A:href xmlns:A="DAV:">`, `<d:href xmlns:d="DAV:">` and
//! `<href xmlns="DAV:">` are all [`QName::DAV_HREF`].

use std::borrow::Cow;
use std::fmt;

/// The WebDAV namespace, `DAV:` (RFC 4918 §21).
pub const DAV: &str = "DAV:";
/// The CalDAV namespace (RFC 4791 §4).
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
/// The CardDAV namespace (RFC 6352 §3).
pub const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
/// The Apple Calendar Server namespace (`getctag`, sharing, push).
pub const CALENDARSERVER: &str = "http://calendarserver.org/ns/";
/// Apple's iCal namespace (`calendar-color`, `calendar-order`).
pub const APPLE_ICAL: &str = "http://apple.com/ns/ical/";

/// Namespaces that decoding maps onto `'static` strings, so that their names cost no allocation.
const KNOWN: [&str; 5] = [DAV, CALDAV, CARDDAV, CALENDARSERVER, APPLE_ICAL];

/// An expanded XML name: namespace URI and local name.
///
/// An empty namespace means "no namespace" (an unprefixed name with no default namespace in
/// scope). Equality, ordering and hashing look at the namespace and local name only; the
/// prefix a document used is not part of the name. [`Display`](fmt::Display) writes Clark
/// notation, `{DAV:}href`, or just the local name when there is no namespace.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QName {
    namespace: Cow<'static, str>,
    local: Cow<'static, str>,
}

macro_rules! names {
    ($( $(#[$doc:meta])* $konst:ident = $ns:ident, $local:literal; )*) => {
        impl QName {
            $( $(#[$doc])* pub const $konst: QName = QName::from_static($ns, $local); )*
        }
    };
}

names! {
    /// `DAV:multistatus` (RFC 4918 §14.16).
    DAV_MULTISTATUS = DAV, "multistatus";
    /// `DAV:response` (RFC 4918 §14.24).
    DAV_RESPONSE = DAV, "response";
    /// `DAV:href` (RFC 4918 §14.7).
    DAV_HREF = DAV, "href";
    /// `DAV:status` (RFC 4918 §14.28).
    DAV_STATUS = DAV, "status";
    /// `DAV:propstat` (RFC 4918 §14.22).
    DAV_PROPSTAT = DAV, "propstat";
    /// `DAV:prop` (RFC 4918 §14.18).
    DAV_PROP = DAV, "prop";
    /// `DAV:error` (RFC 4918 §14.5).
    DAV_ERROR = DAV, "error";
    /// `DAV:responsedescription` (RFC 4918 §14.25).
    DAV_RESPONSEDESCRIPTION = DAV, "responsedescription";
    /// `DAV:location` (RFC 4918 §14.9).
    DAV_LOCATION = DAV, "location";
    /// `DAV:sync-token` (RFC 6578 §6.2).
    DAV_SYNC_TOKEN = DAV, "sync-token";
    /// `DAV:propfind` (RFC 4918 §14.20).
    DAV_PROPFIND = DAV, "propfind";
    /// `DAV:allprop` (RFC 4918 §14.1).
    DAV_ALLPROP = DAV, "allprop";
    /// `DAV:propname` (RFC 4918 §14.21).
    DAV_PROPNAME = DAV, "propname";
    /// `DAV:include` (RFC 4918 §14.8).
    DAV_INCLUDE = DAV, "include";
    /// `DAV:propertyupdate` (RFC 4918 §14.19).
    DAV_PROPERTYUPDATE = DAV, "propertyupdate";
    /// `DAV:set` (RFC 4918 §14.26).
    DAV_SET = DAV, "set";
    /// `DAV:remove` (RFC 4918 §14.23).
    DAV_REMOVE = DAV, "remove";
    /// `DAV:mkcol` (RFC 5689 §5.1).
    DAV_MKCOL = DAV, "mkcol";
    /// `DAV:getetag` (RFC 4918 §15.6).
    DAV_GETETAG = DAV, "getetag";
    /// `DAV:displayname` (RFC 4918 §15.2).
    DAV_DISPLAYNAME = DAV, "displayname";
    /// `DAV:resourcetype` (RFC 4918 §15.9).
    DAV_RESOURCETYPE = DAV, "resourcetype";
    /// `DAV:collection` (RFC 4918 §14.3).
    DAV_COLLECTION = DAV, "collection";
    /// `DAV:current-user-principal` (RFC 5397 §3).
    DAV_CURRENT_USER_PRINCIPAL = DAV, "current-user-principal";
    /// `CALDAV:mkcalendar` (RFC 4791 §9.3).
    CALDAV_MKCALENDAR = CALDAV, "mkcalendar";
    /// `CALDAV:calendar-data` (RFC 4791 §9.6).
    CALDAV_CALENDAR_DATA = CALDAV, "calendar-data";
    /// `CALDAV:calendar-home-set` (RFC 4791 §6.2.1).
    CALDAV_CALENDAR_HOME_SET = CALDAV, "calendar-home-set";
}

impl QName {
    /// A name from static strings, usable in `const` items.
    #[must_use]
    pub const fn from_static(namespace: &'static str, local: &'static str) -> Self {
        Self {
            namespace: Cow::Borrowed(namespace),
            local: Cow::Borrowed(local),
        }
    }

    /// Whether both parts are static, so that a clone copies two pointers.
    pub(crate) fn is_static(&self) -> bool {
        matches!(
            (&self.namespace, &self.local),
            (Cow::Borrowed(_), Cow::Borrowed(_))
        )
    }

    /// A name from any strings. Well-known namespaces are stored without allocating.
    #[must_use]
    pub fn new(
        namespace: impl Into<Cow<'static, str>>,
        local: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            namespace: intern(namespace.into()),
            local: local.into(),
        }
    }

    /// A name in the `DAV:` namespace.
    #[must_use]
    pub fn dav(local: impl Into<Cow<'static, str>>) -> Self {
        Self {
            namespace: Cow::Borrowed(DAV),
            local: local.into(),
        }
    }

    /// A name in the CalDAV namespace.
    #[must_use]
    pub fn caldav(local: impl Into<Cow<'static, str>>) -> Self {
        Self {
            namespace: Cow::Borrowed(CALDAV),
            local: local.into(),
        }
    }

    /// The namespace URI; empty for a name in no namespace.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The local name.
    #[must_use]
    pub fn local(&self) -> &str {
        &self.local
    }

    /// Whether this is `namespace` + `local`; no allocation.
    #[must_use]
    pub fn is(&self, namespace: &str, local: &str) -> bool {
        self.local == local && self.namespace == namespace
    }

    /// Parses Clark notation, `{namespace}local` or a bare `local`.
    ///
    /// Returns `None` when a `{` is not closed or the local name is empty.
    #[must_use]
    pub fn from_clark(clark: &str) -> Option<Self> {
        match clark.strip_prefix('{') {
            Some(rest) => {
                let (ns, local) = rest.split_once('}')?;
                (!local.is_empty()).then(|| Self::new(ns.to_owned(), local.to_owned()))
            }
            None => (!clark.is_empty()).then(|| Self::new("", clark.to_owned())),
        }
    }
}

/// Maps a known namespace onto its `'static` string.
pub(crate) fn intern(namespace: Cow<'static, str>) -> Cow<'static, str> {
    match namespace {
        Cow::Borrowed(_) => namespace,
        Cow::Owned(s) => intern_str(&s).map_or(Cow::Owned(s), Cow::Borrowed),
    }
}

/// The `'static` copy of a known namespace.
pub(crate) fn intern_str(namespace: &str) -> Option<&'static str> {
    KNOWN.iter().copied().find(|known| *known == namespace)
}

impl fmt::Display for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.local)
        } else {
            write!(f, "{{{}}}{}", self.namespace, self.local)
        }
    }
}

impl fmt::Debug for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clark_round_trip() {
        for name in [
            QName::DAV_HREF,
            QName::new("", "x"),
            QName::new("urn:x", "a-b"),
        ] {
            assert_eq!(QName::from_clark(&name.to_string()), Some(name));
        }
        assert_eq!(QName::DAV_HREF.to_string(), "{DAV:}href");
        assert_eq!(QName::from_clark("{DAV:"), None);
        assert_eq!(QName::from_clark("{DAV:}"), None);
    }

    #[test]
    fn known_namespaces_are_interned() {
        let name = QName::new(String::from("DAV:"), String::from("href"));
        assert!(matches!(name.namespace, Cow::Borrowed(_)));
        assert_eq!(name, QName::DAV_HREF);
        assert!(name.is(DAV, "href"));
        assert!(!name.is(CALDAV, "href"));
    }
}
