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

/// Namespaces that decoding maps onto `'static` strings, so that their names cost no allocation
/// (the last two: Cyrus' privileges and Apple's bulk-requests, in every Cyrus PROPFIND answer).
const KNOWN: [&str; 7] = [
    DAV,
    CALDAV,
    CARDDAV,
    CALENDARSERVER,
    APPLE_ICAL,
    "http://cyrusimap.org/ns/",
    "http://me.com/_namespace/",
];

/// An expanded XML name: namespace URI and local name.
///
/// An empty namespace means "no namespace" (an unprefixed name with no default namespace in
/// scope). Equality, ordering and hashing look at the namespace and local name only; the
/// prefix a document used is not part of the name. [`Display`](fmt::Display) writes Clark
/// notation, `{DAV:}href`, or just the local name when there is no namespace.
#[derive(Eq, PartialOrd, Ord)]
pub struct QName {
    namespace: Cow<'static, str>,
    local: Cow<'static, str>,
}

// By hand, with the same meaning as the derived one (both parts equal as strings): decoding
// compares names for every element, and the local name, compared first, differs most often.
impl PartialEq for QName {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        same(&self.local, &other.local) && same(&self.namespace, &other.namespace)
    }
}

// By hand because `eq` is: what the derived hash does.
impl std::hash::Hash for QName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.namespace.hash(state);
        self.local.hash(state);
    }
}

// By hand: the derived clone calls `Cow::clone`, which is not inlined, twice per name, and
// decoding clones a name for every element.
impl Clone for QName {
    #[inline]
    fn clone(&self) -> Self {
        Self {
            namespace: clone_cow(&self.namespace),
            local: clone_cow(&self.local),
        }
    }
}

/// Whether two names (or prefixes) are the same: a name of up to 32 bytes is compared as two
/// overlapping words, or pairs of them, inline; names are compared for every element (its end
/// tag, its namespace prefix, the vocabulary), and a call to `memcmp` costs more than that.
#[inline]
pub(crate) fn same(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same`] on bytes.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    fn ends<const N: usize>(a: &[u8], b: &[u8]) -> Option<bool> {
        Some(
            a.first_chunk::<N>()? == b.first_chunk::<N>()?
                && a.last_chunk::<N>()? == b.last_chunk::<N>()?,
        )
    }
    let found = match a.len() {
        0..4 => Some(a.iter().zip(b).all(|(x, y)| x == y)),
        4..8 => ends::<4>(a, b),
        8..=16 => ends::<8>(a, b),
        17..=32 => ends::<16>(a, b),
        _ => None,
    };
    found.unwrap_or_else(|| a == b)
}

/// A copy of a name's part: two words for a `'static` one, inline.
// The `Cow` itself is the point: whether the part is borrowed decides how it is copied.
#[allow(clippy::ptr_arg)]
#[inline]
pub(crate) fn clone_cow(part: &Cow<'static, str>) -> Cow<'static, str> {
    match part {
        Cow::Borrowed(part) => Cow::Borrowed(part),
        Cow::Owned(part) => Cow::Owned(part.clone()),
    }
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

/// Local names of the vocabulary servers answer with (RFC 4918, 3253, 3744, 4331, 4791, 5397,
/// 5842, 5995, 6352, 6578, 6638, and the CalendarServer, Apple and Cyrus extensions):
/// decoding maps them onto `'static` strings, so that their names cost no allocation. Any other
/// name is decoded all the same, into a string of its own. Sorted, to show there is no
/// duplicate.
const LOCAL_NAMES: [&str; 208] = [
    "abstract",
    "ace",
    "acl",
    "acl-principal-prop-set",
    "acl-restrictions",
    "activelock",
    "add-member",
    "add-resource",
    "address-data",
    "addressbook",
    "addressbook-description",
    "addressbook-home-set",
    "admin",
    "all",
    "allcomp",
    "allowed-sharing-modes",
    "allprop",
    "alternate-URI-set",
    "authenticated",
    "autoprovisioned",
    "bind",
    "bulk-requests",
    "calendar",
    "calendar-alarm",
    "calendar-availability",
    "calendar-color",
    "calendar-data",
    "calendar-description",
    "calendar-free-busy-set",
    "calendar-home-set",
    "calendar-multiget",
    "calendar-order",
    "calendar-proxy-read",
    "calendar-proxy-read-for",
    "calendar-proxy-write",
    "calendar-proxy-write-for",
    "calendar-query",
    "calendar-timezone",
    "calendar-user-address-set",
    "calendar-user-type",
    "can-be-published",
    "can-be-shared",
    "checksum-versions",
    "collection",
    "comp",
    "comp-filter",
    "created-by",
    "creationdate",
    "current-user-principal",
    "current-user-privilege-set",
    "default-alarm-vevent-date",
    "default-alarm-vevent-datetime",
    "deny",
    "deny-before-grant",
    "depth",
    "description",
    "displayname",
    "dropbox-home-URL",
    "dtstamp",
    "email-address-set",
    "error",
    "exclusive",
    "expand",
    "expand-property",
    "filter",
    "first-name",
    "free-busy-query",
    "getcontentlanguage",
    "getcontentlength",
    "getcontenttype",
    "getctag",
    "getetag",
    "getlastmodified",
    "grant",
    "grant-only",
    "group",
    "group-member-set",
    "group-membership",
    "href",
    "include",
    "inherited",
    "inherited-acl-set",
    "invert",
    "invite",
    "invite-noresponse",
    "is-not-defined",
    "language-code",
    "last-name",
    "limit",
    "limit-freebusy-set",
    "limit-recurrence-set",
    "location",
    "location-code",
    "lockdiscovery",
    "lockentry",
    "lockinfo",
    "lockroot",
    "lockscope",
    "locktoken",
    "locktype",
    "make-collection",
    "max-attendees-per-instance",
    "max-bytes",
    "max-date-time",
    "max-instances",
    "max-resource-size",
    "max-resources",
    "min-date-time",
    "mkcalendar",
    "mkcalendar-response",
    "mkcol",
    "mkcol-response",
    "multistatus",
    "notification",
    "notification-URL",
    "notifications",
    "notificationtype",
    "nresults",
    "opaque",
    "owner",
    "param-filter",
    "parent-set",
    "pre-publish-url",
    "principal",
    "principal-URL",
    "principal-collection-set",
    "principal-match",
    "principal-property-search",
    "principal-search-property-set",
    "privilege",
    "prop",
    "prop-filter",
    "property",
    "propertyupdate",
    "propfind",
    "propname",
    "propstat",
    "protected",
    "publish-url",
    "push-transports",
    "pushkey",
    "quota-available-bytes",
    "quota-used-bytes",
    "read",
    "read-acl",
    "read-current-user-privilege-set",
    "read-free-busy",
    "recipient",
    "refreshrate",
    "remove",
    "remove-collection",
    "remove-resource",
    "report",
    "request-status",
    "required-principal",
    "resource-id",
    "resourcetype",
    "response",
    "responsedescription",
    "schedule-calendar-transp",
    "schedule-default-calendar-URL",
    "schedule-deliver",
    "schedule-inbox",
    "schedule-inbox-URL",
    "schedule-outbox",
    "schedule-outbox-URL",
    "schedule-response",
    "schedule-send",
    "schedule-tag",
    "self",
    "set",
    "shared",
    "shared-owner",
    "simple",
    "source",
    "status",
    "subscribed-strip-alarms",
    "subscribed-strip-attachments",
    "subscribed-strip-todos",
    "supported-address-data",
    "supported-calendar-component-set",
    "supported-calendar-component-sets",
    "supported-calendar-data",
    "supported-method-set",
    "supported-privilege",
    "supported-privilege-set",
    "supported-report",
    "supported-report-set",
    "supportedlock",
    "sync-collection",
    "sync-level",
    "sync-token",
    "text-match",
    "time-range",
    "timeout",
    "timezone",
    "transparent",
    "unauthenticated",
    "unbind",
    "unlock",
    "updated-by",
    "user",
    "write",
    "write-acl",
    "write-content",
    "write-properties",
    "write-properties-collection",
    "write-properties-resource",
];

/// Slots of [`LOCAL_TABLE`], a power of two about five times the names: probes stay short.
const LOCAL_SLOTS: usize = 1024;

/// An open-addressing table of [`LOCAL_NAMES`], built at compile time: one past the index of
/// the name in each slot, 0 for an empty slot. A small document names a dozen elements once or
/// twice each, so looking a name up must cost little even the first time.
static LOCAL_TABLE: [u8; LOCAL_SLOTS] = local_table();

/// The first slot to probe for a local name: its length and three of its bytes, mixed (a
/// whole-name hash would cost more than the comparison it saves).
const fn local_slot(name: &[u8]) -> usize {
    let mut key = name.len() as u32;
    if let Some((&first, rest)) = name.split_first() {
        key ^= (first as u32) << 8;
        if let Some((&last, rest)) = rest.split_last() {
            key ^= (last as u32) << 16;
            if let Some((&before, _)) = rest.split_last() {
                key ^= (before as u32) << 24;
            }
        }
    }
    (key.wrapping_mul(0x85EB_CA6B) >> 22) as usize % LOCAL_SLOTS
}

// Evaluated at compile time (a `static`'s initialiser): an index out of bounds would be a
// compile error, never a panic.
#[allow(clippy::indexing_slicing)]
const fn local_table() -> [u8; LOCAL_SLOTS] {
    assert!(LOCAL_NAMES.len() < u8::MAX as usize);
    let mut table = [0u8; LOCAL_SLOTS];
    let mut i = 0;
    while i < LOCAL_NAMES.len() {
        let mut slot = local_slot(LOCAL_NAMES[i].as_bytes());
        while table[slot] != 0 {
            slot = (slot + 1) % LOCAL_SLOTS;
        }
        table[slot] = (i + 1) as u8;
        i += 1;
    }
    table
}

/// The `'static` copy of a local name of the known vocabulary.
pub(crate) fn intern_local(local: &str) -> Option<&'static str> {
    let mut slot = local_slot(local.as_bytes());
    // The table is never full, so an empty slot ends every probe; the bound is for show.
    for _ in 0..LOCAL_SLOTS {
        let index = usize::from(*LOCAL_TABLE.get(slot)?).checked_sub(1)?;
        let name = LOCAL_NAMES.get(index)?;
        if same(name, local) {
            return Some(name);
        }
        slot = (slot + 1) % LOCAL_SLOTS;
    }
    None
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
    fn every_local_name_of_the_vocabulary_is_found_in_few_probes() {
        assert!(
            LOCAL_NAMES
                .windows(2)
                .all(|w| w[0].as_bytes() < w[1].as_bytes())
        );
        for name in LOCAL_NAMES {
            assert_eq!(intern_local(name), Some(name));
            let mut slot = local_slot(name.as_bytes());
            let mut probes = 1;
            while LOCAL_NAMES[usize::from(LOCAL_TABLE[slot]) - 1] != name {
                slot = (slot + 1) % LOCAL_SLOTS;
                probes += 1;
            }
            assert!(probes <= 4, "{name}: {probes} probes");
        }
        for name in ["x-unknown", "", "a", "hrefs", "propstat2", "calendar-dat"] {
            assert_eq!(intern_local(name), None, "{name}");
        }
    }

    #[test]
    fn names_of_every_length_compare_like_strings() {
        let long = "abcdefghijklmnopqrstuvwxyz0123456789-_";
        for len in 0..long.len() {
            let a = &long[..len];
            assert!(same(a, a), "{a}");
            assert!(!same(a, &long[..len + 1]), "{a}");
            for at in 0..len {
                let mut b = a.as_bytes().to_vec();
                b[at] = b'.';
                assert!(!same(a, std::str::from_utf8(&b).unwrap()), "{a} {at}");
            }
        }
    }

    #[test]
    fn names_compare_and_hash_by_their_strings() {
        use std::hash::{BuildHasher, RandomState};
        let hasher = RandomState::new();
        let pairs = [
            (
                QName::new(String::from("urn:x"), String::from("a-b")),
                QName::new("urn:x", "a-b"),
                true,
            ),
            (
                QName::new(String::from("DAV:"), String::from("href")),
                QName::DAV_HREF,
                true,
            ),
            (QName::new("urn:x", "a"), QName::new("urn:y", "a"), false),
            (QName::new("", "href"), QName::DAV_HREF, false),
            (QName::dav("hre"), QName::DAV_HREF, false),
        ];
        for (a, b, equal) in pairs {
            assert_eq!(a == b, equal, "{a} {b}");
            assert_eq!(a.cmp(&b).is_eq(), equal, "{a} {b}");
            if equal {
                assert_eq!(hasher.hash_one(&a), hasher.hash_one(&b));
            }
        }
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
