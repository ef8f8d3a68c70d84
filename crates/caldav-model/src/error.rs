//! The crate's one error type.

/// Everything that can go wrong while turning CalDAV words into typed values.
///
/// Each variant says who is to blame: a server that sent something malformed (`Header`,
/// `Property`), or an input that is larger than the configured [`Limits`](crate::Limits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `DAV:` or `Allow:` header value is not a valid token list.
    ///
    /// The server misbehaved; the caller may treat the header as absent.
    #[error("invalid {header} header at byte {offset}")]
    Header {
        /// The header name, lowercase.
        header: &'static str,
        /// Byte offset into the offending header line.
        offset: usize,
    },
    /// A known property's content does not fit its type.
    ///
    /// The server misbehaved; [`PropertySet`](crate::property::PropertySet) keeps the
    /// element tree instead.
    #[error("invalid {name} property: {reason}")]
    Property {
        /// The property name in Clark notation.
        name: String,
        /// What was expected.
        reason: &'static str,
    },
    /// A request body (a calendar-query a server received) is not what RFC 4791 allows.
    ///
    /// The client misbehaved; a server answers 400 or the matching precondition.
    #[error("invalid {element}: {reason}")]
    InvalidRequest {
        /// The offending element in Clark notation.
        element: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// The XML itself is malformed or exceeds a `dav-xml` limit.
    #[error(transparent)]
    Xml(#[from] dav_xml::Error),
    /// An input holds more items than the configured limit allows.
    ///
    /// Raise the limit in [`Limits`](crate::Limits) if the input is trusted.
    #[error("too many {what} (limit {limit})")]
    LimitExceeded {
        /// What was counted.
        what: &'static str,
        /// The limit in force.
        limit: usize,
    },
    /// An iCalendar text could not be parsed (line and column inside).
    #[error(transparent)]
    ICalendar(#[from] ical_parse::Error),
    /// A calendar is not a valid iTIP message (RFC 5546 §3): every broken rule, each naming
    /// its section.
    ///
    /// The sender misbehaved; an attendee's client ignores such a message.
    #[error("invalid itip message: {}", .violations.first().map(ToString::to_string).unwrap_or_default())]
    Itip {
        /// The broken rules, in document order (never empty).
        violations: Vec<crate::itip::Violation>,
    },
    /// The address is not an attendee of the object, so it cannot reply or be removed.
    #[error("not an attendee: {address}")]
    NotAttendee {
        /// The calendar user address asked for.
        address: String,
    },
}
