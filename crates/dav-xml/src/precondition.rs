//! `DAV:error` bodies: precondition and postcondition codes (RFC 4918 §16, RFC 6578 §3.2 and
//! §6.3, RFC 4791 §5.3.2.1 and §9, RFC 3744 §7.1.1, RFC 5689 §3).
//!
//! ```text
//! <!ELEMENT error ANY >
//! ```
//!
//! A server answers a failed request (403, 409, 412, 507...) with a `DAV:error` body naming the
//! condition that failed. Known conditions become [`Condition`] variants; any other child is
//! kept as [`Condition::Other`].

use crate::element::{Element, ElementBudget, Scope, build, utf8};
use crate::error::Error;
use crate::href::Href;
use crate::limits::Limits;
use crate::name::{CALDAV, DAV, QName};

/// A decoded `DAV:error` element.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[must_use]
#[non_exhaustive]
pub struct DavError {
    /// The conditions, in document order.
    pub conditions: Vec<Condition>,
}

/// One pre- or postcondition code.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// `DAV:lock-token-matches-request-uri` (RFC 4918 §16).
    LockTokenMatchesRequestUri,
    /// `DAV:lock-token-submitted` with the locked resources (RFC 4918 §16).
    LockTokenSubmitted(Vec<Href>),
    /// `DAV:no-conflicting-lock` with the conflicting locks' roots (RFC 4918 §16).
    NoConflictingLock(Vec<Href>),
    /// `DAV:no-external-entities` (RFC 4918 §16).
    NoExternalEntities,
    /// `DAV:preserved-live-properties` (RFC 4918 §16).
    PreservedLiveProperties,
    /// `DAV:propfind-finite-depth` (RFC 4918 §16).
    PropfindFiniteDepth,
    /// `DAV:cannot-modify-protected-property` (RFC 4918 §16).
    CannotModifyProtectedProperty,
    /// `DAV:need-privileges` (RFC 3744 §7.1.1), its content kept as sent.
    NeedPrivileges(Element),
    /// `DAV:valid-resourcetype` (RFC 5689 §3): an extended MKCOL asked for an unsupported type.
    ValidResourcetype,
    /// `DAV:resource-must-be-null` (RFC 4791 §5.3.1.1): MKCALENDAR on an existing resource.
    ResourceMustBeNull,
    /// `DAV:valid-sync-token` (RFC 6578 §3.2): the token is invalid or expired; resync fully.
    ValidSyncToken,
    /// `DAV:number-of-matches-within-limits` (RFC 6578 §6.3, RFC 4918 §16): results truncated.
    NumberOfMatchesWithinLimits,
    /// `CALDAV:supported-calendar-data` (RFC 4791 §5.3.2.1).
    SupportedCalendarData,
    /// `CALDAV:valid-calendar-data` (RFC 4791 §5.3.2.1).
    ValidCalendarData,
    /// `CALDAV:valid-calendar-object-resource` (RFC 4791 §5.3.2.1).
    ValidCalendarObjectResource,
    /// `CALDAV:supported-calendar-component` (RFC 4791 §5.3.2.1).
    SupportedCalendarComponent,
    /// `CALDAV:no-uid-conflict` with the href of the resource already using the UID
    /// (RFC 4791 §5.3.2.1).
    NoUidConflict(Option<Href>),
    /// `CALDAV:calendar-collection-location-ok` (RFC 4791 §5.3.2.1).
    CalendarCollectionLocationOk,
    /// `CALDAV:max-resource-size` (RFC 4791 §5.3.2.1).
    MaxResourceSize,
    /// `CALDAV:min-date-time` (RFC 4791 §5.3.2.1).
    MinDateTime,
    /// `CALDAV:max-date-time` (RFC 4791 §5.3.2.1).
    MaxDateTime,
    /// `CALDAV:max-instances` (RFC 4791 §5.3.2.1).
    MaxInstances,
    /// `CALDAV:max-attendees-per-instance` (RFC 4791 §5.3.2.1).
    MaxAttendeesPerInstance,
    /// `CALDAV:supported-filter` (RFC 4791 §7.8), its content kept as sent.
    SupportedFilter(Element),
    /// `CALDAV:valid-filter` (RFC 4791 §7.8).
    ValidFilter,
    /// `CALDAV:supported-collation` (RFC 4791 §7.5.1).
    SupportedCollation,
    /// `CALDAV:initialize-calendar-collection` (RFC 4791 §5.3.1.1, a postcondition).
    InitializeCalendarCollection,
    /// Any other condition (vendor codes, later RFCs), kept as sent.
    Other(Element),
}

impl DavError {
    /// Decodes a `DAV:error` response body with default [`Limits`].
    ///
    /// # Errors
    ///
    /// [`Error`] with a byte offset for malformed XML, or [`Error::UnexpectedDocument`] when the
    /// root is not `DAV:error`.
    ///
    /// # Example
    ///
    /// ```
    /// use dav_xml::{Condition, DavError};
    /// let body = br#"<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>"#;
    /// assert!(DavError::decode(body)?.has(&Condition::ValidSyncToken));
    /// # Ok::<(), dav_xml::Error>(())
    /// ```
    pub fn decode(input: &[u8]) -> Result<Self, Error> {
        Self::decode_with(input, &Limits::default())
    }

    /// Decodes a `DAV:error` body with the given limits.
    ///
    /// # Errors
    ///
    /// As [`DavError::decode`].
    pub fn decode_with(input: &[u8], limits: &Limits) -> Result<Self, Error> {
        let root = build(
            utf8(input)?,
            &mut Scope::default(),
            limits,
            ElementBudget::new(limits),
        )?;
        if root.name != QName::DAV_ERROR {
            return Err(Error::UnexpectedDocument {
                offset: 0,
                expected: "{DAV:}error",
                found: root.name.to_string(),
            });
        }
        Ok(Self::from_element(root))
    }

    /// Interprets an already decoded `DAV:error` element.
    pub fn from_element(element: Element) -> Self {
        let conditions = element.children.into_iter().filter_map(|node| match node {
            crate::element::Node::Element(e) => Some(Condition::from_element(e)),
            _ => None,
        });
        Self {
            conditions: conditions.collect(),
        }
    }

    /// Whether a condition equal to `condition` is present (for conditions with content, any
    /// content matches the same kind).
    #[must_use]
    pub fn has(&self, condition: &Condition) -> bool {
        self.conditions.iter().any(|c| {
            std::mem::discriminant(c) == std::mem::discriminant(condition)
                && match (c, condition) {
                    (Condition::Other(a), Condition::Other(b)) => a.name == b.name,
                    _ => true,
                }
        })
    }
}

fn hrefs(element: &Element) -> Vec<Href> {
    element
        .children_named(&QName::DAV_HREF)
        .map(|h| Href::new(h.text().trim()))
        .collect()
}

impl Condition {
    /// The condition's element name (`{DAV:}valid-sync-token`...).
    #[must_use]
    pub fn name(&self) -> QName {
        let dav = |local: &'static str| QName::from_static(DAV, local);
        let caldav = |local: &'static str| QName::from_static(CALDAV, local);
        match self {
            Self::LockTokenMatchesRequestUri => dav("lock-token-matches-request-uri"),
            Self::LockTokenSubmitted(_) => dav("lock-token-submitted"),
            Self::NoConflictingLock(_) => dav("no-conflicting-lock"),
            Self::NoExternalEntities => dav("no-external-entities"),
            Self::PreservedLiveProperties => dav("preserved-live-properties"),
            Self::PropfindFiniteDepth => dav("propfind-finite-depth"),
            Self::CannotModifyProtectedProperty => dav("cannot-modify-protected-property"),
            Self::NeedPrivileges(_) => dav("need-privileges"),
            Self::ValidResourcetype => dav("valid-resourcetype"),
            Self::ResourceMustBeNull => dav("resource-must-be-null"),
            Self::ValidSyncToken => dav("valid-sync-token"),
            Self::NumberOfMatchesWithinLimits => dav("number-of-matches-within-limits"),
            Self::SupportedCalendarData => caldav("supported-calendar-data"),
            Self::ValidCalendarData => caldav("valid-calendar-data"),
            Self::ValidCalendarObjectResource => caldav("valid-calendar-object-resource"),
            Self::SupportedCalendarComponent => caldav("supported-calendar-component"),
            Self::NoUidConflict(_) => caldav("no-uid-conflict"),
            Self::CalendarCollectionLocationOk => caldav("calendar-collection-location-ok"),
            Self::MaxResourceSize => caldav("max-resource-size"),
            Self::MinDateTime => caldav("min-date-time"),
            Self::MaxDateTime => caldav("max-date-time"),
            Self::MaxInstances => caldav("max-instances"),
            Self::MaxAttendeesPerInstance => caldav("max-attendees-per-instance"),
            Self::SupportedFilter(_) => caldav("supported-filter"),
            Self::ValidFilter => caldav("valid-filter"),
            Self::SupportedCollation => caldav("supported-collation"),
            Self::InitializeCalendarCollection => caldav("initialize-calendar-collection"),
            Self::Other(element) => element.name.clone(),
        }
    }

    /// Interprets one child of `DAV:error`.
    #[must_use]
    pub fn from_element(element: Element) -> Self {
        let local = element.name.local();
        match element.name.namespace() {
            DAV => match local {
                "lock-token-matches-request-uri" => Self::LockTokenMatchesRequestUri,
                "lock-token-submitted" => Self::LockTokenSubmitted(hrefs(&element)),
                "no-conflicting-lock" => Self::NoConflictingLock(hrefs(&element)),
                "no-external-entities" => Self::NoExternalEntities,
                "preserved-live-properties" => Self::PreservedLiveProperties,
                "propfind-finite-depth" => Self::PropfindFiniteDepth,
                "cannot-modify-protected-property" => Self::CannotModifyProtectedProperty,
                "need-privileges" => Self::NeedPrivileges(element),
                "valid-resourcetype" => Self::ValidResourcetype,
                "resource-must-be-null" => Self::ResourceMustBeNull,
                "valid-sync-token" => Self::ValidSyncToken,
                "number-of-matches-within-limits" => Self::NumberOfMatchesWithinLimits,
                _ => Self::Other(element),
            },
            CALDAV => match local {
                "supported-calendar-data" => Self::SupportedCalendarData,
                "valid-calendar-data" => Self::ValidCalendarData,
                "valid-calendar-object-resource" => Self::ValidCalendarObjectResource,
                "supported-calendar-component" => Self::SupportedCalendarComponent,
                "no-uid-conflict" => Self::NoUidConflict(hrefs(&element).into_iter().next()),
                "calendar-collection-location-ok" => Self::CalendarCollectionLocationOk,
                "max-resource-size" => Self::MaxResourceSize,
                "min-date-time" => Self::MinDateTime,
                "max-date-time" => Self::MaxDateTime,
                "max-instances" => Self::MaxInstances,
                "max-attendees-per-instance" => Self::MaxAttendeesPerInstance,
                "supported-filter" => Self::SupportedFilter(element),
                "valid-filter" => Self::ValidFilter,
                "supported-collation" => Self::SupportedCollation,
                "initialize-calendar-collection" => Self::InitializeCalendarCollection,
                _ => Self::Other(element),
            },
            _ => Self::Other(element),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_uid_conflict_keeps_its_href() {
        let body = br#"<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
            <C:no-uid-conflict><D:href>/cal/other.ics</D:href></C:no-uid-conflict></D:error>"#;
        let error = DavError::decode(body).unwrap();
        assert_eq!(
            error.conditions,
            vec![Condition::NoUidConflict(Some(Href::new("/cal/other.ics")))]
        );
        assert!(error.has(&Condition::NoUidConflict(None)));
        assert!(!error.has(&Condition::ValidSyncToken));
    }

    #[test]
    fn unknown_conditions_are_kept() {
        let body = br#"<error xmlns="DAV:"><x:quota xmlns:x="urn:x">9</x:quota><valid-sync-token/></error>"#;
        let error = DavError::decode(body).unwrap();
        assert!(
            matches!(&error.conditions[0], Condition::Other(e) if e.name.is("urn:x", "quota") && e.text() == "9")
        );
        assert_eq!(error.conditions[1], Condition::ValidSyncToken);
    }

    #[test]
    fn names_round_trip_through_from_element() {
        for local in [
            "valid-sync-token",
            "lock-token-submitted",
            "need-privileges",
            "resource-must-be-null",
        ] {
            let condition = Condition::from_element(Element::new(QName::dav(local)));
            assert_eq!(condition.name(), QName::dav(local));
            assert!(!matches!(condition, Condition::Other(_)));
        }
        for local in [
            "no-uid-conflict",
            "supported-filter",
            "max-instances",
            "valid-calendar-data",
        ] {
            let condition = Condition::from_element(Element::new(QName::caldav(local)));
            assert_eq!(condition.name(), QName::caldav(local));
            assert!(!matches!(condition, Condition::Other(_)));
        }
    }

    #[test]
    fn not_an_error_body() {
        assert!(matches!(
            DavError::decode(b"<multistatus xmlns='DAV:'/>"),
            Err(Error::UnexpectedDocument { .. })
        ));
    }
}
