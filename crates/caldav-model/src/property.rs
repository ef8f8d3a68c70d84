//! Typed WebDAV and CalDAV properties: names as constants, values decoded from and encoded to
//! `dav-xml` element trees.
//!
//! | Source | Properties |
//! |---|---|
//! | RFC 4918 §15 | resourcetype, displayname, getetag, getcontenttype, getlastmodified |
//! | RFC 3744 §4-5 | owner, current-user-privilege-set, principal-URL, principal-collection-set |
//! | RFC 5397 §3 | current-user-principal |
//! | RFC 3253 §3.1.5 | supported-report-set |
//! | RFC 5995 §3.2 | add-member |
//! | RFC 5842 §3.1 | resource-id |
//! | RFC 6578 §4 | sync-token |
//! | RFC 4331 §3-4 | quota-available-bytes, quota-used-bytes |
//! | RFC 4791 §5.2, §6.2 | calendar-home-set, calendar-description, calendar-timezone, supported-calendar-component-set, supported-calendar-data, max-resource-size, min/max-date-time, max-instances, max-attendees-per-instance, calendar-data |
//! | RFC 6638 §2, §9 | calendar-user-address-set, schedule-inbox-URL, schedule-outbox-URL, schedule-default-calendar-URL, schedule-calendar-transp, schedule-tag |
//! | RFC 7809 §5 | timezone-service-set, calendar-timezone-id |
//! | RFC 4791 errata / draft-daboo-valarm-extensions | default-alarm-vevent-date, default-alarm-vevent-datetime |
//! | CalendarServer, Apple | getctag, invite, allowed-sharing-modes, notification-URL, email-address-set, pushkey, push-transports, source, subscribed-strip-*, calendar-color, calendar-order, refreshrate, and the rest of the seed's PROPFIND list |
//!
//! Decoding never fails on an unknown property: [`Property::decode`] keeps its element tree
//! in [`Value::Xml`]. A known property whose content does not fit its type is an
//! [`Error::Property`]; [`PropertySet`] keeps such a property as its tree too, so nothing a
//! server sent is lost.

use dav_xml::name::{CALDAV, CALENDARSERVER, DAV};
use dav_xml::{Element, Href, PropStat, QName, Response};
use jiff::Timestamp;

use crate::Error;
use crate::filter::{format_utc, parse_utc};

/// The Apple "me.com" namespace of `bulk-requests`.
pub const ME_COM: &str = "http://me.com/_namespace/";

/// Property names, by namespace and local name.
pub mod names {
    use super::ME_COM;
    use dav_xml::QName;
    use dav_xml::name::{APPLE_ICAL, CALDAV, CALENDARSERVER, DAV};

    macro_rules! name {
        ($( $(#[$doc:meta])* $konst:ident = $ns:ident, $local:literal; )*) => {
            $( $(#[$doc])* pub const $konst: QName = QName::from_static($ns, $local); )*
        };
    }

    name! {
        /// `DAV:resourcetype` (RFC 4918 §15.9).
        RESOURCETYPE = DAV, "resourcetype";
        /// `DAV:displayname` (RFC 4918 §15.2).
        DISPLAYNAME = DAV, "displayname";
        /// `DAV:getetag` (RFC 4918 §15.6).
        GETETAG = DAV, "getetag";
        /// `DAV:getcontenttype` (RFC 4918 §15.5).
        GETCONTENTTYPE = DAV, "getcontenttype";
        /// `DAV:getlastmodified` (RFC 4918 §15.7).
        GETLASTMODIFIED = DAV, "getlastmodified";
        /// `DAV:current-user-principal` (RFC 5397 §3).
        CURRENT_USER_PRINCIPAL = DAV, "current-user-principal";
        /// `DAV:principal-URL` (RFC 3744 §4.2).
        PRINCIPAL_URL = DAV, "principal-URL";
        /// `DAV:principal-collection-set` (RFC 3744 §5.8).
        PRINCIPAL_COLLECTION_SET = DAV, "principal-collection-set";
        /// `DAV:owner` (RFC 3744 §5.1).
        OWNER = DAV, "owner";
        /// `DAV:current-user-privilege-set` (RFC 3744 §5.4).
        CURRENT_USER_PRIVILEGE_SET = DAV, "current-user-privilege-set";
        /// `DAV:supported-report-set` (RFC 3253 §3.1.5).
        SUPPORTED_REPORT_SET = DAV, "supported-report-set";
        /// `DAV:add-member` (RFC 5995 §3.2.1).
        ADD_MEMBER = DAV, "add-member";
        /// `DAV:resource-id` (RFC 5842 §3.1).
        RESOURCE_ID = DAV, "resource-id";
        /// `DAV:sync-token` (RFC 6578 §4).
        SYNC_TOKEN = DAV, "sync-token";
        /// `DAV:quota-available-bytes` (RFC 4331 §3).
        QUOTA_AVAILABLE_BYTES = DAV, "quota-available-bytes";
        /// `DAV:quota-used-bytes` (RFC 4331 §4).
        QUOTA_USED_BYTES = DAV, "quota-used-bytes";
        /// `CALDAV:calendar-home-set` (RFC 4791 §6.2.1).
        CALENDAR_HOME_SET = CALDAV, "calendar-home-set";
        /// `CALDAV:calendar-description` (RFC 4791 §5.2.1).
        CALENDAR_DESCRIPTION = CALDAV, "calendar-description";
        /// `CALDAV:calendar-timezone` (RFC 4791 §5.2.2).
        CALENDAR_TIMEZONE = CALDAV, "calendar-timezone";
        /// `CALDAV:supported-calendar-component-set` (RFC 4791 §5.2.3).
        SUPPORTED_CALENDAR_COMPONENT_SET = CALDAV, "supported-calendar-component-set";
        /// `CALDAV:supported-calendar-component-sets` (CalendarServer's list of allowed sets).
        SUPPORTED_CALENDAR_COMPONENT_SETS = CALDAV, "supported-calendar-component-sets";
        /// `CALDAV:supported-calendar-data` (RFC 4791 §5.2.4).
        SUPPORTED_CALENDAR_DATA = CALDAV, "supported-calendar-data";
        /// `CALDAV:max-resource-size` (RFC 4791 §5.2.5).
        MAX_RESOURCE_SIZE = CALDAV, "max-resource-size";
        /// `CALDAV:min-date-time` (RFC 4791 §5.2.6).
        MIN_DATE_TIME = CALDAV, "min-date-time";
        /// `CALDAV:max-date-time` (RFC 4791 §5.2.7).
        MAX_DATE_TIME = CALDAV, "max-date-time";
        /// `CALDAV:max-instances` (RFC 4791 §5.2.8).
        MAX_INSTANCES = CALDAV, "max-instances";
        /// `CALDAV:max-attendees-per-instance` (RFC 4791 §5.2.9).
        MAX_ATTENDEES_PER_INSTANCE = CALDAV, "max-attendees-per-instance";
        /// `CALDAV:calendar-data` (RFC 4791 §9.6), as returned in a report.
        CALENDAR_DATA = CALDAV, "calendar-data";
        /// `CALDAV:calendar-user-address-set` (RFC 6638 §2.4.1).
        CALENDAR_USER_ADDRESS_SET = CALDAV, "calendar-user-address-set";
        /// `CALDAV:schedule-inbox-URL` (RFC 6638 §2.2.1).
        SCHEDULE_INBOX_URL = CALDAV, "schedule-inbox-URL";
        /// `CALDAV:schedule-outbox-URL` (RFC 6638 §2.1.1).
        SCHEDULE_OUTBOX_URL = CALDAV, "schedule-outbox-URL";
        /// `CALDAV:schedule-default-calendar-URL` (RFC 6638 §9.2).
        SCHEDULE_DEFAULT_CALENDAR_URL = CALDAV, "schedule-default-calendar-URL";
        /// `CALDAV:schedule-calendar-transp` (RFC 6638 §9.1).
        SCHEDULE_CALENDAR_TRANSP = CALDAV, "schedule-calendar-transp";
        /// `CALDAV:schedule-tag` (RFC 6638 §3.2.10).
        SCHEDULE_TAG = CALDAV, "schedule-tag";
        /// `CALDAV:timezone-service-set` (RFC 7809 §5.1).
        TIMEZONE_SERVICE_SET = CALDAV, "timezone-service-set";
        /// `CALDAV:calendar-timezone-id` (RFC 7809 §5.2).
        CALENDAR_TIMEZONE_ID = CALDAV, "calendar-timezone-id";
        /// `CALDAV:default-alarm-vevent-date` (draft-daboo-valarm-extensions §9).
        DEFAULT_ALARM_VEVENT_DATE = CALDAV, "default-alarm-vevent-date";
        /// `CALDAV:default-alarm-vevent-datetime` (draft-daboo-valarm-extensions §9).
        DEFAULT_ALARM_VEVENT_DATETIME = CALDAV, "default-alarm-vevent-datetime";
        /// `CALDAV:calendar-free-busy-set` (early RFC 6638 drafts; sent by Apple clients).
        CALENDAR_FREE_BUSY_SET = CALDAV, "calendar-free-busy-set";
        /// `CALDAV:calendar-alarm` (Apple clients).
        CALENDAR_ALARM = CALDAV, "calendar-alarm";
        /// `CS:getctag`: the collection's change tag.
        GETCTAG = CALENDARSERVER, "getctag";
        /// `CS:invite`: the sharees of a shared collection.
        INVITE = CALENDARSERVER, "invite";
        /// `CS:allowed-sharing-modes`.
        ALLOWED_SHARING_MODES = CALENDARSERVER, "allowed-sharing-modes";
        /// `CS:notification-URL`.
        NOTIFICATION_URL = CALENDARSERVER, "notification-URL";
        /// `CS:email-address-set`.
        EMAIL_ADDRESS_SET = CALENDARSERVER, "email-address-set";
        /// `CS:pushkey`.
        PUSHKEY = CALENDARSERVER, "pushkey";
        /// `CS:push-transports`.
        PUSH_TRANSPORTS = CALENDARSERVER, "push-transports";
        /// `CS:source`: the URL a subscribed calendar is fetched from.
        SOURCE = CALENDARSERVER, "source";
        /// `CS:subscribed-strip-alarms`.
        SUBSCRIBED_STRIP_ALARMS = CALENDARSERVER, "subscribed-strip-alarms";
        /// `CS:subscribed-strip-attachments`.
        SUBSCRIBED_STRIP_ATTACHMENTS = CALENDARSERVER, "subscribed-strip-attachments";
        /// `CS:subscribed-strip-todos`.
        SUBSCRIBED_STRIP_TODOS = CALENDARSERVER, "subscribed-strip-todos";
        /// `CS:publish-url`.
        PUBLISH_URL = CALENDARSERVER, "publish-url";
        /// `CS:pre-publish-url`.
        PRE_PUBLISH_URL = CALENDARSERVER, "pre-publish-url";
        /// `CS:dropbox-home-URL`.
        DROPBOX_HOME_URL = CALENDARSERVER, "dropbox-home-URL";
        /// `CS:calendar-availability`.
        CALENDAR_AVAILABILITY = CALENDARSERVER, "calendar-availability";
        /// `CS:checksum-versions`.
        CHECKSUM_VERSIONS = CALENDARSERVER, "checksum-versions";
        /// `CS:created-by`.
        CREATED_BY = CALENDARSERVER, "created-by";
        /// `CS:updated-by`.
        UPDATED_BY = CALENDARSERVER, "updated-by";
        /// `CS:notificationtype`.
        NOTIFICATIONTYPE = CALENDARSERVER, "notificationtype";
        /// `ICAL:calendar-color`.
        CALENDAR_COLOR = APPLE_ICAL, "calendar-color";
        /// `ICAL:calendar-order`.
        CALENDAR_ORDER = APPLE_ICAL, "calendar-order";
        /// `ICAL:refreshrate`.
        REFRESHRATE = APPLE_ICAL, "refreshrate";
        /// `ICAL:autoprovisioned`.
        AUTOPROVISIONED = APPLE_ICAL, "autoprovisioned";
        /// `ICAL:language-code`.
        LANGUAGE_CODE = APPLE_ICAL, "language-code";
        /// `ICAL:location-code`.
        LOCATION_CODE = APPLE_ICAL, "location-code";
        /// `ME:bulk-requests`.
        BULK_REQUESTS = ME_COM, "bulk-requests";
    }
}

/// An entity tag as the server sent it, quotes and `W/` included (RFC 9110 §8.8.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Etag(pub String);

/// A CalendarServer collection tag (`CS:getctag`): opaque, compared for equality only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ctag(pub String);

/// A sync token (RFC 6578 §4): an opaque URI, compared for equality only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyncToken(pub String);

/// `DAV:current-user-principal`'s value (RFC 5397 §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Principal {
    /// The authenticated user's principal.
    Href(Href),
    /// `DAV:unauthenticated`: the request was not authenticated.
    Unauthenticated,
}

/// `CALDAV:schedule-calendar-transp` (RFC 6638 §9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transp {
    /// Events count for free-busy.
    Opaque,
    /// Events do not count for free-busy.
    Transparent,
}

/// One media type of `CALDAV:supported-calendar-data` (RFC 4791 §5.2.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaType {
    /// `content-type`, default `text/calendar`.
    pub content_type: String,
    /// `version`, default `2.0`.
    pub version: String,
}

/// One sharee in `CS:invite`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sharee {
    /// The sharee's address, usually `mailto:`.
    pub href: Href,
    /// `CS:common-name`, if sent.
    pub common_name: Option<String>,
    /// The invitation state element (`invite-noresponse`, `invite-accepted`,
    /// `invite-declined`, `invite-invalid`).
    pub status: Option<QName>,
    /// The access granted (`read`, `read-write`), from inside `CS:access`.
    pub access: Option<QName>,
}

/// `ME:bulk-requests`: limits of Apple's bulk-change extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BulkRequests {
    /// The bulk modes offered (`simple`, `crud`).
    pub modes: Vec<BulkMode>,
}

/// One mode of `ME:bulk-requests` with its limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BulkMode {
    /// The mode element's name, e.g. `ME:simple`.
    pub name: QName,
    /// Its limit elements (`max-resources`, `max-bytes`) with their values, if any.
    pub limits: Vec<(QName, Option<u64>)>,
}

/// One `CS:transport` of `CS:push-transports` (Apple push, XMPP).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PushTransport {
    /// The `type` attribute, e.g. `APSD`.
    pub kind: Option<String>,
    /// `CS:subscription-url`'s href: where to subscribe.
    pub subscription_url: Option<Href>,
    /// Every other child (`apsbundleid`, `env`, `xmpp-server`, ...) with its text.
    pub settings: Vec<(QName, String)>,
}

/// `ICAL:calendar-color`: a `#RRGGBBAA` text, optionally with Apple's `symbolic-color`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Color {
    /// The color text as sent, e.g. `#FB0055FF`.
    pub value: String,
    /// The `symbolic-color` attribute, e.g. `red`.
    pub symbolic: Option<String>,
}

/// A typed property value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Value {
    /// Plain text (displayname, getcontenttype, calendar-description, calendar-timezone, ...).
    Text(String),
    /// An empty element whose presence is the value (`CS:subscribed-strip-*`).
    Empty,
    /// `DAV:getetag`.
    Etag(Etag),
    /// `CS:getctag`.
    Ctag(Ctag),
    /// `DAV:sync-token`.
    SyncToken(SyncToken),
    /// One `DAV:href` (principal-URL, schedule-inbox-URL, add-member, ...).
    Href(Href),
    /// `DAV:owner`: a principal, or none.
    Owner(Option<Href>),
    /// Several `DAV:href`s (calendar-home-set, principal-collection-set, ...).
    Hrefs(Vec<Href>),
    /// `DAV:current-user-principal`.
    Principal(Principal),
    /// A non-negative integer (quota, max-resource-size, max-instances, ...).
    Integer(u64),
    /// A signed integer (`ICAL:calendar-order`).
    Order(i64),
    /// A UTC date-time (min-date-time, max-date-time).
    DateTime(Timestamp),
    /// `DAV:resourcetype`: the names of its child elements (`collection`, `calendar`, ...).
    ResourceType(Vec<QName>),
    /// `DAV:supported-report-set`: the report names.
    Reports(Vec<QName>),
    /// `DAV:current-user-privilege-set`: the privilege names.
    Privileges(Vec<QName>),
    /// The names of child elements (`CS:allowed-sharing-modes`).
    Names(Vec<QName>),
    /// `CALDAV:supported-calendar-component-set(s)`: component names, e.g. `VEVENT`.
    Components(Vec<String>),
    /// `CALDAV:supported-calendar-data`.
    MediaTypes(Vec<MediaType>),
    /// `CALDAV:schedule-calendar-transp`.
    Transp(Transp),
    /// `CS:email-address-set`: the addresses.
    Emails(Vec<String>),
    /// `CS:invite`: the sharees.
    Invite(Vec<Sharee>),
    /// `ME:bulk-requests`.
    BulkRequests(BulkRequests),
    /// `CS:push-transports`.
    PushTransports(Vec<PushTransport>),
    /// `ICAL:calendar-color`.
    Color(Color),
    /// A property this crate does not type (or one whose content did not fit its type):
    /// the whole element, kept for round trips.
    Xml(Element),
}

/// How a known property's value is shaped.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Empty,
    Etag,
    Ctag,
    SyncToken,
    Href,
    Owner,
    Hrefs,
    Principal,
    Integer,
    Order,
    DateTime,
    ResourceType,
    Reports,
    Privileges,
    Names,
    Components,
    MediaTypes,
    Transp,
    Emails,
    Invite,
    BulkRequests,
    PushTransports,
    Color,
}

fn kind_of(name: &QName) -> Option<Kind> {
    use names::*;
    const TABLE: &[(QName, Kind)] = &[
        (RESOURCETYPE, Kind::ResourceType),
        (DISPLAYNAME, Kind::Text),
        (GETETAG, Kind::Etag),
        (GETCONTENTTYPE, Kind::Text),
        (GETLASTMODIFIED, Kind::Text),
        (CURRENT_USER_PRINCIPAL, Kind::Principal),
        (PRINCIPAL_URL, Kind::Href),
        (PRINCIPAL_COLLECTION_SET, Kind::Hrefs),
        (OWNER, Kind::Owner),
        (CURRENT_USER_PRIVILEGE_SET, Kind::Privileges),
        (SUPPORTED_REPORT_SET, Kind::Reports),
        (ADD_MEMBER, Kind::Href),
        (RESOURCE_ID, Kind::Href),
        (SYNC_TOKEN, Kind::SyncToken),
        (QUOTA_AVAILABLE_BYTES, Kind::Integer),
        (QUOTA_USED_BYTES, Kind::Integer),
        (CALENDAR_HOME_SET, Kind::Hrefs),
        (CALENDAR_DESCRIPTION, Kind::Text),
        (CALENDAR_TIMEZONE, Kind::Text),
        (SUPPORTED_CALENDAR_COMPONENT_SET, Kind::Components),
        (SUPPORTED_CALENDAR_COMPONENT_SETS, Kind::Components),
        (SUPPORTED_CALENDAR_DATA, Kind::MediaTypes),
        (MAX_RESOURCE_SIZE, Kind::Integer),
        (MIN_DATE_TIME, Kind::DateTime),
        (MAX_DATE_TIME, Kind::DateTime),
        (MAX_INSTANCES, Kind::Integer),
        (MAX_ATTENDEES_PER_INSTANCE, Kind::Integer),
        (CALENDAR_DATA, Kind::Text),
        (CALENDAR_USER_ADDRESS_SET, Kind::Hrefs),
        (SCHEDULE_INBOX_URL, Kind::Href),
        (SCHEDULE_OUTBOX_URL, Kind::Href),
        (SCHEDULE_DEFAULT_CALENDAR_URL, Kind::Href),
        (SCHEDULE_CALENDAR_TRANSP, Kind::Transp),
        (SCHEDULE_TAG, Kind::Text),
        (TIMEZONE_SERVICE_SET, Kind::Hrefs),
        (CALENDAR_TIMEZONE_ID, Kind::Text),
        (DEFAULT_ALARM_VEVENT_DATE, Kind::Text),
        (DEFAULT_ALARM_VEVENT_DATETIME, Kind::Text),
        (CALENDAR_FREE_BUSY_SET, Kind::Hrefs),
        (GETCTAG, Kind::Ctag),
        (INVITE, Kind::Invite),
        (ALLOWED_SHARING_MODES, Kind::Names),
        (NOTIFICATION_URL, Kind::Href),
        (EMAIL_ADDRESS_SET, Kind::Emails),
        (PUSHKEY, Kind::Text),
        (PUSH_TRANSPORTS, Kind::PushTransports),
        (SOURCE, Kind::Href),
        (SUBSCRIBED_STRIP_ALARMS, Kind::Empty),
        (SUBSCRIBED_STRIP_ATTACHMENTS, Kind::Empty),
        (SUBSCRIBED_STRIP_TODOS, Kind::Empty),
        (PUBLISH_URL, Kind::Href),
        (PRE_PUBLISH_URL, Kind::Href),
        (DROPBOX_HOME_URL, Kind::Href),
        (CALENDAR_AVAILABILITY, Kind::Text),
        (CREATED_BY, Kind::Names),
        (UPDATED_BY, Kind::Names),
        (NOTIFICATIONTYPE, Kind::Names),
        (CALENDAR_COLOR, Kind::Color),
        (CALENDAR_ORDER, Kind::Order),
        (REFRESHRATE, Kind::Text),
        (AUTOPROVISIONED, Kind::Text),
        (LANGUAGE_CODE, Kind::Text),
        (LOCATION_CODE, Kind::Text),
        (BULK_REQUESTS, Kind::BulkRequests),
    ];
    TABLE.iter().find(|(n, _)| n == name).map(|(_, kind)| *kind)
}

/// One property: its name and typed value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Property {
    /// The property's qualified name.
    pub name: QName,
    /// Its value.
    pub value: Value,
}

const HREF: QName = QName::from_static(DAV, "href");
const UNAUTHENTICATED: QName = QName::from_static(DAV, "unauthenticated");
const SUPPORTED_REPORT: QName = QName::from_static(DAV, "supported-report");
const REPORT: QName = QName::from_static(DAV, "report");
const PRIVILEGE: QName = QName::from_static(DAV, "privilege");
const COMP: QName = QName::from_static(CALDAV, "comp");
const OPAQUE: QName = QName::from_static(CALDAV, "opaque");
const TRANSPARENT: QName = QName::from_static(CALDAV, "transparent");
const EMAIL_ADDRESS: QName = QName::from_static(CALENDARSERVER, "email-address");
const USER: QName = QName::from_static(CALENDARSERVER, "user");
const COMMON_NAME: QName = QName::from_static(CALENDARSERVER, "common-name");
const ACCESS: QName = QName::from_static(CALENDARSERVER, "access");
const TRANSPORT: QName = QName::from_static(CALENDARSERVER, "transport");
const SUBSCRIPTION_URL: QName = QName::from_static(CALENDARSERVER, "subscription-url");
const TYPE_ATTR: QName = QName::from_static("", "type");
const SYMBOLIC_COLOR: QName = QName::from_static("", "symbolic-color");
const NAME_ATTR: QName = QName::from_static("", "name");
const CONTENT_TYPE_ATTR: QName = QName::from_static("", "content-type");
const VERSION_ATTR: QName = QName::from_static("", "version");

impl Property {
    /// A property from its name and value.
    #[must_use]
    pub fn new(name: QName, value: Value) -> Self {
        Self { name, value }
    }

    /// Decodes one property element (a child of `DAV:prop`).
    ///
    /// # Errors
    ///
    /// [`Error::Property`] when a known property's content does not fit its type (a
    /// `getctag` with child elements, a `quota-used-bytes` that is not a number, ...).
    /// Unknown properties never fail: they decode to [`Value::Xml`].
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_model::property::{names, Property, Value};
    /// let xml = br#"<C:getctag xmlns:C="http://calendarserver.org/ns/">1438801752-8</C:getctag>"#;
    /// let element = dav_xml::Element::decode(xml).unwrap();
    /// let prop = Property::decode(&element).unwrap();
    /// assert_eq!(prop.name, names::GETCTAG);
    /// assert!(matches!(prop.value, Value::Ctag(ref c) if c.0 == "1438801752-8"));
    /// assert_eq!(Property::decode(&prop.encode()).unwrap(), prop);
    /// ```
    pub fn decode(element: &Element) -> Result<Self, Error> {
        let Some(kind) = kind_of(&element.name) else {
            return Ok(Self::new(element.name.clone(), Value::Xml(element.clone())));
        };
        let bad = |reason: &'static str| Error::Property {
            name: element.name.to_string(),
            reason,
        };
        let text = || -> Result<String, Error> {
            if element.is_text_only() {
                Ok(element.text().into_owned())
            } else {
                Err(bad("expected text"))
            }
        };
        // A list whose children are not what its type holds (CalendarServer nests whole sets
        // in supported-calendar-component-sets, for instance) would lose them when typed.
        let expected: Option<&QName> = match kind {
            Kind::Href | Kind::Owner | Kind::Hrefs => Some(&HREF),
            Kind::Reports => Some(&SUPPORTED_REPORT),
            Kind::Privileges => Some(&PRIVILEGE),
            Kind::Components => Some(&COMP),
            Kind::MediaTypes => Some(&names::CALENDAR_DATA),
            Kind::Emails => Some(&EMAIL_ADDRESS),
            Kind::Invite => Some(&USER),
            Kind::PushTransports => Some(&TRANSPORT),
            _ => None,
        };
        if let Some(expected) = expected
            && element.elements().any(|child| child.name != *expected)
        {
            return Err(bad("unexpected child element"));
        }
        let value = match kind {
            Kind::Text => Value::Text(text()?),
            Kind::Empty => Value::Empty,
            Kind::Etag => Value::Etag(Etag(text()?.trim().to_owned())),
            Kind::Ctag => Value::Ctag(Ctag(text()?.trim().to_owned())),
            Kind::SyncToken => Value::SyncToken(SyncToken(text()?.trim().to_owned())),
            Kind::Href => Value::Href(
                hrefs(element)
                    .into_iter()
                    .next()
                    .ok_or_else(|| bad("expected an href"))?,
            ),
            Kind::Owner => Value::Owner(hrefs(element).into_iter().next()),
            Kind::Hrefs => Value::Hrefs(hrefs(element)),
            Kind::Principal => {
                if element.child(&UNAUTHENTICATED).is_some() {
                    Value::Principal(Principal::Unauthenticated)
                } else {
                    Value::Principal(Principal::Href(
                        hrefs(element)
                            .into_iter()
                            .next()
                            .ok_or_else(|| bad("expected an href"))?,
                    ))
                }
            }
            Kind::Integer => Value::Integer(
                text()?
                    .trim()
                    .parse()
                    .map_err(|_| bad("expected a non-negative integer"))?,
            ),
            Kind::Order => Value::Order(
                text()?
                    .trim()
                    .parse()
                    .map_err(|_| bad("expected an integer"))?,
            ),
            Kind::DateTime => Value::DateTime(
                parse_utc(text()?.trim()).ok_or_else(|| bad("expected a utc date-time"))?,
            ),
            Kind::ResourceType => {
                Value::ResourceType(element.elements().map(|e| e.name.clone()).collect())
            }
            Kind::Names => Value::Names(element.elements().map(|e| e.name.clone()).collect()),
            Kind::Reports => Value::Reports(
                element
                    .children_named(&SUPPORTED_REPORT)
                    .filter_map(|s| s.child(&REPORT))
                    .filter_map(|r| r.elements().next())
                    .map(|e| e.name.clone())
                    .collect(),
            ),
            Kind::Privileges => Value::Privileges(
                element
                    .children_named(&PRIVILEGE)
                    .filter_map(|p| p.elements().next())
                    .map(|e| e.name.clone())
                    .collect(),
            ),
            Kind::Components => Value::Components(
                element
                    .children_named(&COMP)
                    .map(|c| {
                        c.attribute(&NAME_ATTR)
                            .map(str::to_owned)
                            .ok_or_else(|| bad("comp without a name"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Kind::MediaTypes => Value::MediaTypes(
                element
                    .children_named(&names::CALENDAR_DATA)
                    .map(|c| MediaType {
                        content_type: c
                            .attribute(&CONTENT_TYPE_ATTR)
                            .unwrap_or("text/calendar")
                            .to_owned(),
                        version: c.attribute(&VERSION_ATTR).unwrap_or("2.0").to_owned(),
                    })
                    .collect(),
            ),
            Kind::Transp => {
                if element.child(&OPAQUE).is_some() {
                    Value::Transp(Transp::Opaque)
                } else if element.child(&TRANSPARENT).is_some() {
                    Value::Transp(Transp::Transparent)
                } else {
                    return Err(bad("expected opaque or transparent"));
                }
            }
            Kind::Emails => Value::Emails(
                element
                    .children_named(&EMAIL_ADDRESS)
                    .map(|e| e.text().trim().to_owned())
                    .collect(),
            ),
            Kind::Invite => Value::Invite(
                element
                    .children_named(&USER)
                    .map(|user| {
                        Ok(Sharee {
                            href: hrefs(user)
                                .into_iter()
                                .next()
                                .ok_or_else(|| bad("sharee without an href"))?,
                            common_name: user.child(&COMMON_NAME).map(|c| c.text().into_owned()),
                            status: user
                                .elements()
                                .find(|e| {
                                    e.name.namespace() == CALENDARSERVER
                                        && e.name.local().starts_with("invite-")
                                })
                                .map(|e| e.name.clone()),
                            access: user
                                .child(&ACCESS)
                                .and_then(|a| a.elements().next())
                                .map(|e| e.name.clone()),
                        })
                    })
                    .collect::<Result<_, Error>>()?,
            ),
            Kind::BulkRequests => Value::BulkRequests(BulkRequests {
                modes: element
                    .elements()
                    .map(|mode| BulkMode {
                        name: mode.name.clone(),
                        limits: mode
                            .elements()
                            .map(|l| (l.name.clone(), l.text().trim().parse().ok()))
                            .collect(),
                    })
                    .collect(),
            }),
            Kind::PushTransports => Value::PushTransports(
                element
                    .children_named(&TRANSPORT)
                    .map(|t| PushTransport {
                        kind: t.attribute(&TYPE_ATTR).map(str::to_owned),
                        subscription_url: t
                            .child(&SUBSCRIPTION_URL)
                            .and_then(|u| hrefs(u).into_iter().next()),
                        settings: t
                            .elements()
                            .filter(|c| c.name != SUBSCRIPTION_URL)
                            .map(|c| (c.name.clone(), c.text().trim().to_owned()))
                            .collect(),
                    })
                    .collect(),
            ),
            Kind::Color => Value::Color(Color {
                value: text()?.trim().to_owned(),
                symbolic: element.attribute(&SYMBOLIC_COLOR).map(str::to_owned),
            }),
        };
        Ok(Self::new(element.name.clone(), value))
    }

    /// Encodes the property as an element, ready for a PROPPATCH `DAV:set` (or, for
    /// [`Property::empty`], a PROPFIND `DAV:prop` or `DAV:remove`).
    #[must_use]
    pub fn encode(&self) -> Element {
        let mut e = Element::new(self.name.clone());
        let href = |h: &Href| Element::new(HREF).with_text(h.as_str());
        match &self.value {
            Value::Text(t) => e = e.with_text(t.clone()),
            Value::Empty => {}
            Value::Etag(t) => e = e.with_text(t.0.clone()),
            Value::Ctag(t) => e = e.with_text(t.0.clone()),
            Value::SyncToken(t) => e = e.with_text(t.0.clone()),
            Value::Href(h) | Value::Principal(Principal::Href(h)) => e = e.with_child(href(h)),
            Value::Principal(Principal::Unauthenticated) => {
                e = e.with_child(Element::new(UNAUTHENTICATED));
            }
            Value::Owner(h) => {
                if let Some(h) = h {
                    e = e.with_child(href(h));
                }
            }
            Value::Hrefs(hs) => {
                for h in hs {
                    e = e.with_child(href(h));
                }
            }
            Value::Integer(n) => e = e.with_text(n.to_string()),
            Value::Order(n) => e = e.with_text(n.to_string()),
            Value::DateTime(t) => e = e.with_text(format_utc(*t)),
            Value::ResourceType(ns) | Value::Names(ns) => {
                for n in ns {
                    e = e.with_child(Element::new(n.clone()));
                }
            }
            Value::Reports(ns) => {
                for n in ns {
                    e = e.with_child(
                        Element::new(SUPPORTED_REPORT)
                            .with_child(Element::new(REPORT).with_child(Element::new(n.clone()))),
                    );
                }
            }
            Value::Privileges(ns) => {
                for n in ns {
                    e = e.with_child(Element::new(PRIVILEGE).with_child(Element::new(n.clone())));
                }
            }
            Value::Components(cs) => {
                for c in cs {
                    e = e.with_child(Element::new(COMP).with_attribute(NAME_ATTR, c.clone()));
                }
            }
            Value::MediaTypes(ms) => {
                for m in ms {
                    e = e.with_child(
                        Element::new(names::CALENDAR_DATA)
                            .with_attribute(CONTENT_TYPE_ATTR, m.content_type.clone())
                            .with_attribute(VERSION_ATTR, m.version.clone()),
                    );
                }
            }
            Value::Transp(t) => {
                e = e.with_child(Element::new(match t {
                    Transp::Opaque => OPAQUE,
                    Transp::Transparent => TRANSPARENT,
                }));
            }
            Value::Emails(list) => {
                for a in list {
                    e = e.with_child(Element::new(EMAIL_ADDRESS).with_text(a.clone()));
                }
            }
            Value::Invite(sharees) => {
                for s in sharees {
                    let mut user = Element::new(USER).with_child(href(&s.href));
                    if let Some(cn) = &s.common_name {
                        user = user.with_child(Element::new(COMMON_NAME).with_text(cn.clone()));
                    }
                    if let Some(status) = &s.status {
                        user = user.with_child(Element::new(status.clone()));
                    }
                    if let Some(access) = &s.access {
                        user = user.with_child(
                            Element::new(ACCESS).with_child(Element::new(access.clone())),
                        );
                    }
                    e = e.with_child(user);
                }
            }
            Value::BulkRequests(b) => {
                for mode in &b.modes {
                    let mut m = Element::new(mode.name.clone());
                    for (name, n) in &mode.limits {
                        let mut l = Element::new(name.clone());
                        if let Some(n) = n {
                            l = l.with_text(n.to_string());
                        }
                        m = m.with_child(l);
                    }
                    e = e.with_child(m);
                }
            }
            Value::PushTransports(transports) => {
                for t in transports {
                    let mut te = Element::new(TRANSPORT);
                    if let Some(kind) = &t.kind {
                        te = te.with_attribute(TYPE_ATTR, kind.clone());
                    }
                    if let Some(url) = &t.subscription_url {
                        te = te.with_child(Element::new(SUBSCRIPTION_URL).with_child(href(url)));
                    }
                    for (name, value) in &t.settings {
                        te = te.with_child(Element::new(name.clone()).with_text(value.clone()));
                    }
                    e = e.with_child(te);
                }
            }
            Value::Color(c) => {
                if let Some(s) = &c.symbolic {
                    e = e.with_attribute(SYMBOLIC_COLOR, s.clone());
                }
                e = e.with_text(c.value.clone());
            }
            Value::Xml(tree) => e = tree.clone(),
        }
        e
    }

    /// The bare element for a property name: what a PROPFIND `DAV:prop` or a PROPPATCH
    /// `DAV:remove` lists.
    #[must_use]
    pub fn empty(name: QName) -> Element {
        Element::new(name)
    }
}

/// The properties of one resource, from the propstats of its `DAV:response`: what a client
/// machine reads.
///
/// A property under a 200 propstat is decoded (a malformed one is kept as [`Value::Xml`]); a
/// property under a 404 propstat is *absent*, not an error (RFC 4918 §9.1); any other status
/// (403, 424, 507, ...) is recorded per property.
///
/// # Example
///
/// ```
/// use caldav_model::property::{names, PropertySet};
/// let body = br#"<D:multistatus xmlns:D="DAV:" xmlns:C="http://calendarserver.org/ns/">
///   <D:response><D:href>/cal/work/</D:href>
///     <D:propstat><D:prop><D:displayname>Work</D:displayname><C:getctag>42</C:getctag></D:prop>
///       <D:status>HTTP/1.1 200 OK</D:status></D:propstat>
///     <D:propstat><D:prop><D:sync-token/></D:prop>
///       <D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>
///   </D:response></D:multistatus>"#;
/// let multistatus = dav_xml::Multistatus::decode(body).unwrap();
/// let set = PropertySet::from_response(&multistatus.responses[0]);
/// assert_eq!(set.displayname(), Some("Work"));
/// assert_eq!(set.ctag().map(|c| c.0.as_str()), Some("42"));
/// assert!(set.sync_token().is_none() && set.is_absent(&names::SYNC_TOKEN));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertySet {
    found: Vec<Property>,
    absent: Vec<QName>,
    failed: Vec<(QName, http::StatusCode)>,
}

impl PropertySet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The properties of one `DAV:response`, from all its propstats.
    #[must_use]
    pub fn from_response(response: &Response) -> Self {
        let mut set = Self::new();
        for propstat in &response.propstats {
            set.add_propstat(propstat);
        }
        set
    }

    /// Adds the properties of one propstat. A propstat without a status is read as 200:
    /// its values are there, and dropping them would lose data.
    pub fn add_propstat(&mut self, propstat: &PropStat) {
        let status = propstat.status.unwrap_or(http::StatusCode::OK);
        for element in &propstat.props {
            if status.is_success() {
                let property = Property::decode(element).unwrap_or_else(|_| {
                    Property::new(element.name.clone(), Value::Xml(element.clone()))
                });
                self.insert(property);
            } else if status == http::StatusCode::NOT_FOUND {
                self.absent.push(element.name.clone());
            } else {
                self.failed.push((element.name.clone(), status));
            }
        }
    }

    /// Adds or replaces a property.
    pub fn insert(&mut self, property: Property) {
        match self.found.iter_mut().find(|p| p.name == property.name) {
            Some(slot) => *slot = property,
            None => self.found.push(property),
        }
    }

    /// The value of a property, if the server returned it.
    #[must_use]
    pub fn get(&self, name: &QName) -> Option<&Value> {
        self.found
            .iter()
            .find(|p| p.name == *name)
            .map(|p| &p.value)
    }

    /// Every property returned, in document order.
    pub fn iter(&self) -> impl Iterator<Item = &Property> {
        self.found.iter()
    }

    /// Whether the server said the property does not exist (404 propstat).
    #[must_use]
    pub fn is_absent(&self, name: &QName) -> bool {
        self.absent.contains(name)
    }

    /// The status of a property the server refused to return (neither 2xx nor 404).
    #[must_use]
    pub fn failure(&self, name: &QName) -> Option<http::StatusCode> {
        self.failed.iter().find(|(n, _)| n == name).map(|(_, s)| *s)
    }

    fn text(&self, name: &QName) -> Option<&str> {
        match self.get(name)? {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    fn href(&self, name: &QName) -> Option<&Href> {
        match self.get(name)? {
            Value::Href(h) => Some(h),
            _ => None,
        }
    }

    fn hrefs(&self, name: &QName) -> &[Href] {
        match self.get(name) {
            Some(Value::Hrefs(h)) => h,
            _ => &[],
        }
    }

    fn integer(&self, name: &QName) -> Option<u64> {
        match self.get(name)? {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// `DAV:displayname`.
    #[must_use]
    pub fn displayname(&self) -> Option<&str> {
        self.text(&names::DISPLAYNAME)
    }

    /// `DAV:resourcetype`'s child names (empty when not returned).
    #[must_use]
    pub fn resource_type(&self) -> &[QName] {
        match self.get(&names::RESOURCETYPE) {
            Some(Value::ResourceType(t)) => t,
            _ => &[],
        }
    }

    /// Whether `DAV:resourcetype` holds `DAV:collection`.
    #[must_use]
    pub fn is_collection(&self) -> bool {
        self.resource_type().iter().any(|n| n.is(DAV, "collection"))
    }

    /// Whether `DAV:resourcetype` holds `CALDAV:calendar` (RFC 4791 §4.2).
    #[must_use]
    pub fn is_calendar(&self) -> bool {
        self.resource_type()
            .iter()
            .any(|n| n.is(CALDAV, "calendar"))
    }

    /// `DAV:getetag`.
    #[must_use]
    pub fn etag(&self) -> Option<&Etag> {
        match self.get(&names::GETETAG)? {
            Value::Etag(e) => Some(e),
            _ => None,
        }
    }

    /// `CS:getctag`.
    #[must_use]
    pub fn ctag(&self) -> Option<&Ctag> {
        match self.get(&names::GETCTAG)? {
            Value::Ctag(c) => Some(c),
            _ => None,
        }
    }

    /// `DAV:sync-token`.
    #[must_use]
    pub fn sync_token(&self) -> Option<&SyncToken> {
        match self.get(&names::SYNC_TOKEN)? {
            Value::SyncToken(t) => Some(t),
            _ => None,
        }
    }

    /// `DAV:getcontenttype`.
    #[must_use]
    pub fn content_type(&self) -> Option<&str> {
        self.text(&names::GETCONTENTTYPE)
    }

    /// `DAV:current-user-principal`.
    #[must_use]
    pub fn current_user_principal(&self) -> Option<&Principal> {
        match self.get(&names::CURRENT_USER_PRINCIPAL)? {
            Value::Principal(p) => Some(p),
            _ => None,
        }
    }

    /// `DAV:principal-URL`.
    #[must_use]
    pub fn principal_url(&self) -> Option<&Href> {
        self.href(&names::PRINCIPAL_URL)
    }

    /// `DAV:owner`'s href.
    #[must_use]
    pub fn owner(&self) -> Option<&Href> {
        match self.get(&names::OWNER)? {
            Value::Owner(h) => h.as_ref(),
            _ => None,
        }
    }

    /// `DAV:add-member` (RFC 5995): where to POST new members.
    #[must_use]
    pub fn add_member(&self) -> Option<&Href> {
        self.href(&names::ADD_MEMBER)
    }

    /// `CALDAV:calendar-home-set` (several hrefs are allowed, QUIRKS.md #29).
    #[must_use]
    pub fn calendar_home_set(&self) -> &[Href] {
        self.hrefs(&names::CALENDAR_HOME_SET)
    }

    /// `CALDAV:calendar-user-address-set`.
    #[must_use]
    pub fn calendar_user_address_set(&self) -> &[Href] {
        self.hrefs(&names::CALENDAR_USER_ADDRESS_SET)
    }

    /// `DAV:principal-collection-set`.
    #[must_use]
    pub fn principal_collection_set(&self) -> &[Href] {
        self.hrefs(&names::PRINCIPAL_COLLECTION_SET)
    }

    /// `CALDAV:schedule-inbox-URL`.
    #[must_use]
    pub fn schedule_inbox_url(&self) -> Option<&Href> {
        self.href(&names::SCHEDULE_INBOX_URL)
    }

    /// `CALDAV:schedule-outbox-URL`.
    #[must_use]
    pub fn schedule_outbox_url(&self) -> Option<&Href> {
        self.href(&names::SCHEDULE_OUTBOX_URL)
    }

    /// `CS:notification-URL`.
    #[must_use]
    pub fn notification_url(&self) -> Option<&Href> {
        self.href(&names::NOTIFICATION_URL)
    }

    /// `CALDAV:supported-calendar-component-set`; `None` when not returned, which RFC 4791
    /// §5.2.3 says means "any component".
    #[must_use]
    pub fn supported_components(&self) -> Option<&[String]> {
        match self.get(&names::SUPPORTED_CALENDAR_COMPONENT_SET)? {
            Value::Components(c) => Some(c),
            _ => None,
        }
    }

    /// `DAV:supported-report-set`'s report names (empty when not returned).
    #[must_use]
    pub fn supported_reports(&self) -> &[QName] {
        match self.get(&names::SUPPORTED_REPORT_SET) {
            Some(Value::Reports(r)) => r,
            _ => &[],
        }
    }

    /// `DAV:current-user-privilege-set`'s privilege names (empty when not returned).
    #[must_use]
    pub fn privileges(&self) -> &[QName] {
        match self.get(&names::CURRENT_USER_PRIVILEGE_SET) {
            Some(Value::Privileges(p)) => p,
            _ => &[],
        }
    }

    /// `CALDAV:calendar-description`.
    #[must_use]
    pub fn calendar_description(&self) -> Option<&str> {
        self.text(&names::CALENDAR_DESCRIPTION)
    }

    /// `CALDAV:calendar-timezone`: a VCALENDAR holding one VTIMEZONE.
    #[must_use]
    pub fn calendar_timezone(&self) -> Option<&str> {
        self.text(&names::CALENDAR_TIMEZONE)
    }

    /// `ICAL:calendar-color`.
    #[must_use]
    pub fn calendar_color(&self) -> Option<&Color> {
        match self.get(&names::CALENDAR_COLOR)? {
            Value::Color(c) => Some(c),
            _ => None,
        }
    }

    /// `ICAL:calendar-order`.
    #[must_use]
    pub fn calendar_order(&self) -> Option<i64> {
        match self.get(&names::CALENDAR_ORDER)? {
            Value::Order(n) => Some(*n),
            _ => None,
        }
    }

    /// `CALDAV:calendar-data` (from a calendar-query or calendar-multiget answer).
    #[must_use]
    pub fn calendar_data(&self) -> Option<&str> {
        self.text(&names::CALENDAR_DATA)
    }

    /// `CALDAV:schedule-tag`.
    #[must_use]
    pub fn schedule_tag(&self) -> Option<&str> {
        self.text(&names::SCHEDULE_TAG)
    }

    /// `CALDAV:max-resource-size`.
    #[must_use]
    pub fn max_resource_size(&self) -> Option<u64> {
        self.integer(&names::MAX_RESOURCE_SIZE)
    }

    /// `CS:invite`'s sharees (empty when not shared or not returned).
    #[must_use]
    pub fn sharees(&self) -> &[Sharee] {
        match self.get(&names::INVITE) {
            Some(Value::Invite(s)) => s,
            _ => &[],
        }
    }
}

/// The hrefs directly inside an element, trimmed.
fn hrefs(element: &Element) -> Vec<Href> {
    element
        .children_named(&HREF)
        .map(|h| Href::new(h.text().trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(xml: &str) -> Property {
        Property::decode(&Element::decode(xml.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn unknown_property_keeps_its_tree() {
        let xml = r#"<X:thing xmlns:X="urn:x" a="1"><X:inner>t</X:inner></X:thing>"#;
        let prop = decode(xml);
        let Value::Xml(tree) = &prop.value else {
            panic!("{prop:?}")
        };
        assert_eq!(
            tree.child(&QName::new("urn:x", "inner")).unwrap().text(),
            "t"
        );
        assert_eq!(Property::decode(&prop.encode()).unwrap(), prop);
    }

    #[test]
    fn malformed_known_property_is_an_error() {
        let e = Element::decode(br#"<D:quota-used-bytes xmlns:D="DAV:">lots</D:quota-used-bytes>"#)
            .unwrap();
        assert!(matches!(Property::decode(&e), Err(Error::Property { .. })));
        let e = Element::decode(br#"<D:principal-URL xmlns:D="DAV:"/>"#).unwrap();
        assert!(Property::decode(&e).is_err());
    }

    #[test]
    fn nested_component_sets_are_kept_as_a_tree() {
        // CalendarServer's form: whole sets inside the plural property.
        let xml = br#"<C:supported-calendar-component-sets xmlns:C="urn:ietf:params:xml:ns:caldav">
            <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
            <C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set>
          </C:supported-calendar-component-sets>"#;
        let element = Element::decode(xml).unwrap();
        assert!(Property::decode(&element).is_err());
        let body = format!(
            r#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>/c/</D:href><D:propstat><D:prop>{}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"#,
            std::str::from_utf8(xml).unwrap()
        );
        let ms = dav_xml::Multistatus::decode(body.as_bytes()).unwrap();
        let set = PropertySet::from_response(&ms.responses[0]);
        assert_eq!(
            set.get(&names::SUPPORTED_CALENDAR_COMPONENT_SETS),
            Some(&Value::Xml(element))
        );
    }

    #[test]
    fn push_transports_decode() {
        let p = decode(
            r#"<C:push-transports xmlns:C="http://calendarserver.org/ns/" xmlns:D="DAV:">
                 <C:transport type="APSD">
                   <C:subscription-url><D:href>https://p.example.com/apns</D:href></C:subscription-url>
                   <C:apsbundleid>com.apple.calendar.XServer</C:apsbundleid>
                   <C:env>PRODUCTION</C:env>
                 </C:transport>
               </C:push-transports>"#,
        );
        let Value::PushTransports(t) = &p.value else {
            panic!("{p:?}")
        };
        assert_eq!(t[0].kind.as_deref(), Some("APSD"));
        assert_eq!(
            t[0].subscription_url.as_ref().unwrap().as_str(),
            "https://p.example.com/apns"
        );
        assert_eq!(t[0].settings.len(), 2);
        assert_eq!(t[0].settings[1].1, "PRODUCTION");
        assert_eq!(Property::decode(&p.encode()).unwrap(), p);
    }

    #[test]
    fn principal_and_transp() {
        let p = decode(
            r#"<D:current-user-principal xmlns:D="DAV:"><D:unauthenticated/></D:current-user-principal>"#,
        );
        assert_eq!(p.value, Value::Principal(Principal::Unauthenticated));
        let t = decode(
            r#"<C:schedule-calendar-transp xmlns:C="urn:ietf:params:xml:ns:caldav"><C:transparent/></C:schedule-calendar-transp>"#,
        );
        assert_eq!(t.value, Value::Transp(Transp::Transparent));
    }
}
