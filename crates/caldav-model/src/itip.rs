//! iTIP messages (RFC 5546) and the scheduling parameters of RFC 6638 §7.
//!
//! An iTIP message is an iCalendar object whose `METHOD` says what it asks: PUBLISH, REQUEST,
//! REPLY, ADD, CANCEL, REFRESH, COUNTER or DECLINECOUNTER (RFC 5546 §1.4). [`ItipMessage`]
//! reads one from the `ical-parse` model and checks it against the restriction tables of RFC
//! 5546 §3.2 (VEVENT) and §3.4 (VTODO); each broken rule is a [`Violation`] that names its
//! section and [`Rule`]. The builders make the messages a client sends itself: a REPLY for one
//! attendee ([`ItipMessage::reply`]) and a CANCEL of an event or of some attendees
//! ([`ItipMessage::cancel`]).
//!
//! ```text
//! RFC 5546 §3.2.2 (REQUEST, VEVENT), the rows this module checks:
//! ATTENDEE   1+        DTSTAMP   1        DTSTART   1        ORGANIZER   1
//! SEQUENCE   0 or 1    SUMMARY   1        UID       1        REQUEST-STATUS  0
//! ```
//!
//! The tables are encoded as counts: "1" (exactly one), "1+", "0 or 1" and "0" (must not be
//! present). Rows whose only content is prose ("MUST echo the original SEQUENCE") need the
//! original object and are not checked; VFREEBUSY (§3.3) and VJOURNAL (§3.5) messages get the
//! general checks only (METHOD present, one kind of component, one UID).
//!
//! The attendee side of RFC 6638 lives here too: [`attendees`] reads PARTSTAT,
//! SCHEDULE-AGENT and SCHEDULE-STATUS per attendee; [`set_partstat`],
//! [`set_schedule_agent`] and [`set_schedule_force_send`] rewrite them in a stored object
//! without touching anything else (unknown properties and parameters are kept).

use std::borrow::Cow;
use std::fmt;

use ical_parse::{Calendar, Component, Parameter, Property};
use jiff::Timestamp;

use crate::Error;
use crate::filter::format_utc;

/// An iTIP method (RFC 5546 §1.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// Post an object with no reply expected.
    Publish,
    /// Invite, reschedule, or ask for free-busy time.
    Request,
    /// An attendee's answer.
    Reply,
    /// Add instances to a recurring object.
    Add,
    /// Cancel an object or remove attendees.
    Cancel,
    /// An attendee asks for the latest version.
    Refresh,
    /// An attendee proposes a change.
    Counter,
    /// The organizer refuses a counter-proposal.
    DeclineCounter,
    /// An x-name or IANA method, kept as sent (uppercase).
    Other(String),
}

impl Method {
    /// Reads a METHOD value (case-insensitive).
    #[must_use]
    pub fn parse(value: &str) -> Method {
        match value.trim().to_ascii_uppercase().as_str() {
            "PUBLISH" => Method::Publish,
            "REQUEST" => Method::Request,
            "REPLY" => Method::Reply,
            "ADD" => Method::Add,
            "CANCEL" => Method::Cancel,
            "REFRESH" => Method::Refresh,
            "COUNTER" => Method::Counter,
            "DECLINECOUNTER" => Method::DeclineCounter,
            other => Method::Other(other.to_owned()),
        }
    }

    /// The value as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Request => "REQUEST",
            Method::Reply => "REPLY",
            Method::Add => "ADD",
            Method::Cancel => "CANCEL",
            Method::Refresh => "REFRESH",
            Method::Counter => "COUNTER",
            Method::DeclineCounter => "DECLINECOUNTER",
            Method::Other(name) => name,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An attendee's participation status (RFC 5545 §3.2.12).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PartStat {
    /// `NEEDS-ACTION`, the default.
    NeedsAction,
    /// `ACCEPTED`.
    Accepted,
    /// `DECLINED`.
    Declined,
    /// `TENTATIVE`.
    Tentative,
    /// `DELEGATED`.
    Delegated,
    /// `COMPLETED` (VTODO).
    Completed,
    /// `IN-PROCESS` (VTODO).
    InProcess,
    /// An x-name or IANA token, kept as sent (uppercase).
    Other(String),
}

impl PartStat {
    /// Reads a PARTSTAT value (case-insensitive).
    #[must_use]
    pub fn parse(value: &str) -> PartStat {
        match value.trim().to_ascii_uppercase().as_str() {
            "NEEDS-ACTION" => PartStat::NeedsAction,
            "ACCEPTED" => PartStat::Accepted,
            "DECLINED" => PartStat::Declined,
            "TENTATIVE" => PartStat::Tentative,
            "DELEGATED" => PartStat::Delegated,
            "COMPLETED" => PartStat::Completed,
            "IN-PROCESS" => PartStat::InProcess,
            other => PartStat::Other(other.to_owned()),
        }
    }

    /// The value as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            PartStat::NeedsAction => "NEEDS-ACTION",
            PartStat::Accepted => "ACCEPTED",
            PartStat::Declined => "DECLINED",
            PartStat::Tentative => "TENTATIVE",
            PartStat::Delegated => "DELEGATED",
            PartStat::Completed => "COMPLETED",
            PartStat::InProcess => "IN-PROCESS",
            PartStat::Other(name) => name,
        }
    }
}

impl fmt::Display for PartStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who delivers scheduling messages for an attendee (RFC 6638 §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScheduleAgent {
    /// `SERVER`, the default: the server delivers.
    Server,
    /// `CLIENT`: the client delivers; the server does not.
    Client,
    /// `NONE`: nobody delivers.
    None,
    /// An x-name or IANA token, kept as sent (uppercase).
    Other(String),
}

impl ScheduleAgent {
    /// Reads a SCHEDULE-AGENT value (case-insensitive).
    #[must_use]
    pub fn parse(value: &str) -> ScheduleAgent {
        match value.trim().to_ascii_uppercase().as_str() {
            "SERVER" => ScheduleAgent::Server,
            "CLIENT" => ScheduleAgent::Client,
            "NONE" => ScheduleAgent::None,
            other => ScheduleAgent::Other(other.to_owned()),
        }
    }

    /// The value as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            ScheduleAgent::Server => "SERVER",
            ScheduleAgent::Client => "CLIENT",
            ScheduleAgent::None => "NONE",
            ScheduleAgent::Other(name) => name,
        }
    }
}

/// What a server is asked to send although it would not (RFC 6638 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForceSend {
    /// `REQUEST`: send the organizer's request again.
    Request,
    /// `REPLY`: send the attendee's reply again.
    Reply,
}

impl ForceSend {
    /// The value as written.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ForceSend::Request => "REQUEST",
            ForceSend::Reply => "REPLY",
        }
    }
}

/// One rule of RFC 5546 an iTIP message breaks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// The object has no VCALENDAR.
    NoCalendar,
    /// More than one VCALENDAR in one message.
    SeveralCalendars,
    /// The VCALENDAR has no METHOD property (RFC 5546 §1.4: every iTIP message has one).
    MissingMethod,
    /// The VCALENDAR has several METHOD properties.
    SeveralMethods,
    /// No component of the kind the method is about.
    NoComponent,
    /// The method allows exactly one component and there are more.
    TooManyComponents {
        /// How many there are.
        count: usize,
    },
    /// A component of another kind where the table says "0" (a VTODO in a VEVENT REQUEST).
    ForbiddenComponent {
        /// Its name.
        component: String,
    },
    /// A property the table marks "1" or "1+" is absent.
    MissingProperty {
        /// Its name.
        property: &'static str,
    },
    /// A property the table marks "1" or "0 or 1" appears more than once.
    TooManyProperties {
        /// Its name.
        property: &'static str,
        /// How often it appears.
        count: usize,
    },
    /// A property the table marks "0" is present.
    ForbiddenProperty {
        /// Its name.
        property: &'static str,
    },
    /// DTEND (or DUE) and DURATION together.
    EndAndDuration,
    /// The components of one message name different UIDs.
    UidMismatch {
        /// The first UID.
        expected: String,
        /// The differing one.
        found: String,
    },
    /// ADD: SEQUENCE "MUST be greater than 0".
    SequenceNotPositive,
    /// SEQUENCE is not an integer.
    InvalidSequence,
    /// CANCEL: STATUS, if present, "MUST be set to CANCELLED".
    StatusNotCancelled {
        /// The value found.
        found: String,
    },
    /// VALARM is not allowed in this method.
    ForbiddenAlarm,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::NoCalendar => f.write_str("no VCALENDAR"),
            Rule::SeveralCalendars => f.write_str("more than one VCALENDAR"),
            Rule::MissingMethod => f.write_str("no METHOD"),
            Rule::SeveralMethods => f.write_str("more than one METHOD"),
            Rule::NoComponent => f.write_str("no component"),
            Rule::TooManyComponents { count } => write!(f, "{count} components, 1 allowed"),
            Rule::ForbiddenComponent { component } => write!(f, "{component} not allowed"),
            Rule::MissingProperty { property } => write!(f, "{property} required"),
            Rule::TooManyProperties { property, count } => {
                write!(f, "{property} {count} times, at most once allowed")
            }
            Rule::ForbiddenProperty { property } => write!(f, "{property} not allowed"),
            Rule::EndAndDuration => f.write_str("end and DURATION together"),
            Rule::UidMismatch { expected, found } => {
                write!(f, "UID {found:?} differs from {expected:?}")
            }
            Rule::SequenceNotPositive => f.write_str("SEQUENCE must be greater than 0"),
            Rule::InvalidSequence => f.write_str("SEQUENCE is not an integer"),
            Rule::StatusNotCancelled { found } => {
                write!(f, "STATUS {found:?}, CANCELLED required")
            }
            Rule::ForbiddenAlarm => f.write_str("VALARM not allowed"),
        }
    }
}

/// A broken rule, where it was found and which section of RFC 5546 states it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Violation {
    /// The section, e.g. `"3.2.2"` (REQUEST for VEVENT).
    pub section: &'static str,
    /// The component it concerns (`VCALENDAR`, `VEVENT`...).
    pub component: String,
    /// The 1-based line of that component's `BEGIN` (0 when built in code).
    pub line: u32,
    /// The rule.
    pub rule: Rule,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rfc 5546 §{}: {} at line {}: {}",
            self.section, self.component, self.line, self.rule
        )
    }
}

/// How often a property may appear, as RFC 5546's tables write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    /// "1".
    One,
    /// "1+".
    OneOrMore,
    /// "0 or 1".
    ZeroOrOne,
    /// "0".
    Absent,
}

use Presence::{Absent, One, OneOrMore, ZeroOrOne};

/// One restriction table: a method applied to one kind of component.
struct Table {
    section: &'static str,
    /// Whether the table says "1" for the component itself (ADD, REFRESH, COUNTER...).
    single: bool,
    /// Whether VALARM is "0".
    no_alarm: bool,
    rows: Rows,
}

/// Table rows: a property name and its presence.
type Rows = &'static [(&'static str, Presence)];

/// Properties REFRESH marks "0": an attendee asks, it does not describe.
const REFRESH_ABSENT: &[(&str, Presence)] = &[
    ("ATTACH", Absent),
    ("CATEGORIES", Absent),
    ("CLASS", Absent),
    ("CONTACT", Absent),
    ("CREATED", Absent),
    ("DESCRIPTION", Absent),
    ("DTEND", Absent),
    ("DTSTART", Absent),
    ("DUE", Absent),
    ("DURATION", Absent),
    ("EXDATE", Absent),
    ("GEO", Absent),
    ("LAST-MODIFIED", Absent),
    ("LOCATION", Absent),
    ("PRIORITY", Absent),
    ("RDATE", Absent),
    ("RELATED-TO", Absent),
    ("REQUEST-STATUS", Absent),
    ("RESOURCES", Absent),
    ("RRULE", Absent),
    ("SEQUENCE", Absent),
    ("STATUS", Absent),
    ("SUMMARY", Absent),
    ("TRANSP", Absent),
    ("URL", Absent),
];

macro_rules! table {
    ($section:literal, single: $single:literal, no_alarm: $alarm:literal, [$($name:literal => $p:ident),* $(,)?]) => {
        Table {
            section: $section,
            single: $single,
            no_alarm: $alarm,
            rows: {
                const ROWS: &[(&str, Presence)] = &[$(($name, $p)),*];
                ROWS
            },
        }
    };
}

/// The table for `method` on components named `kind`; `None` when RFC 5546 has none this
/// module encodes.
fn table(method: &Method, kind: &str) -> Option<(Table, Option<Rows>)> {
    let event = kind == "VEVENT";
    if !event && kind != "VTODO" {
        return None;
    }
    let t = match (method, event) {
        (Method::Publish, true) => table!("3.2.1", single: false, no_alarm: false, [
            "DTSTAMP" => One, "DTSTART" => One, "ORGANIZER" => One, "SUMMARY" => One,
            "UID" => One, "RECURRENCE-ID" => ZeroOrOne, "SEQUENCE" => ZeroOrOne,
            "ATTENDEE" => Absent, "REQUEST-STATUS" => Absent,
        ]),
        (Method::Request, true) => table!("3.2.2", single: false, no_alarm: false, [
            "ATTENDEE" => OneOrMore, "DTSTAMP" => One, "DTSTART" => One, "ORGANIZER" => One,
            "SEQUENCE" => ZeroOrOne, "SUMMARY" => One, "UID" => One,
            "RECURRENCE-ID" => ZeroOrOne, "REQUEST-STATUS" => Absent,
        ]),
        (Method::Reply, true) => table!("3.2.3", single: false, no_alarm: true, [
            "ATTENDEE" => One, "DTSTAMP" => One, "ORGANIZER" => One,
            "RECURRENCE-ID" => ZeroOrOne, "UID" => One, "SEQUENCE" => ZeroOrOne,
        ]),
        (Method::Add, true) => table!("3.2.4", single: true, no_alarm: false, [
            "DTSTAMP" => One, "DTSTART" => One, "ORGANIZER" => One, "SEQUENCE" => One,
            "SUMMARY" => One, "UID" => One, "RECURRENCE-ID" => Absent,
            "REQUEST-STATUS" => Absent,
        ]),
        (Method::Cancel, true) => table!("3.2.5", single: false, no_alarm: true, [
            "DTSTAMP" => One, "ORGANIZER" => One, "SEQUENCE" => One, "UID" => One,
            "RECURRENCE-ID" => ZeroOrOne, "STATUS" => ZeroOrOne, "REQUEST-STATUS" => Absent,
        ]),
        (Method::Refresh, true) => table!("3.2.6", single: true, no_alarm: true, [
            "ATTENDEE" => One, "DTSTAMP" => One, "ORGANIZER" => One, "UID" => One,
            "RECURRENCE-ID" => ZeroOrOne, "COMMENT" => ZeroOrOne,
        ]),
        (Method::Counter, true) => table!("3.2.7", single: true, no_alarm: false, [
            "DTSTAMP" => One, "DTSTART" => One, "ORGANIZER" => One, "SEQUENCE" => ZeroOrOne,
            "SUMMARY" => One, "UID" => One, "RECURRENCE-ID" => ZeroOrOne,
        ]),
        (Method::DeclineCounter, true) => table!("3.2.8", single: true, no_alarm: true, [
            "DTSTAMP" => One, "ORGANIZER" => One, "UID" => One, "SEQUENCE" => ZeroOrOne,
            "RECURRENCE-ID" => ZeroOrOne,
        ]),
        (Method::Publish, false) => table!("3.4.1", single: false, no_alarm: false, [
            "DTSTAMP" => One, "ORGANIZER" => One, "SEQUENCE" => ZeroOrOne, "SUMMARY" => One,
            "UID" => One, "ATTENDEE" => Absent, "REQUEST-STATUS" => Absent,
        ]),
        (Method::Request, false) => table!("3.4.2", single: false, no_alarm: false, [
            "ATTENDEE" => OneOrMore, "DTSTAMP" => One, "ORGANIZER" => One,
            "SEQUENCE" => ZeroOrOne, "SUMMARY" => One, "UID" => One,
            "REQUEST-STATUS" => Absent,
        ]),
        (Method::Reply, false) => table!("3.4.3", single: false, no_alarm: true, [
            "ATTENDEE" => OneOrMore, "DTSTAMP" => One, "ORGANIZER" => One, "UID" => One,
            "SEQUENCE" => ZeroOrOne, "RECURRENCE-ID" => ZeroOrOne,
        ]),
        (Method::Add, false) => table!("3.4.4", single: true, no_alarm: false, [
            "DTSTAMP" => One, "ORGANIZER" => One, "SEQUENCE" => One, "SUMMARY" => One,
            "UID" => One, "RECURRENCE-ID" => Absent, "REQUEST-STATUS" => Absent,
        ]),
        (Method::Cancel, false) => table!("3.4.5", single: false, no_alarm: true, [
            "DTSTAMP" => One, "ORGANIZER" => One, "SEQUENCE" => One, "UID" => One,
            "RECURRENCE-ID" => ZeroOrOne, "STATUS" => ZeroOrOne, "REQUEST-STATUS" => Absent,
        ]),
        (Method::Refresh, false) => table!("3.4.6", single: true, no_alarm: true, [
            "ATTENDEE" => One, "DTSTAMP" => One, "ORGANIZER" => One, "UID" => One,
            "RECURRENCE-ID" => ZeroOrOne,
        ]),
        (Method::Counter, false) => table!("3.4.7", single: true, no_alarm: false, [
            "DTSTAMP" => One, "ORGANIZER" => One, "SEQUENCE" => ZeroOrOne, "SUMMARY" => One,
            "UID" => One, "RECURRENCE-ID" => ZeroOrOne,
        ]),
        (Method::DeclineCounter, false) => table!("3.4.8", single: true, no_alarm: true, [
            "DTSTAMP" => One, "ORGANIZER" => One, "UID" => One, "SEQUENCE" => ZeroOrOne,
            "RECURRENCE-ID" => ZeroOrOne,
        ]),
        (Method::Other(_), _) => return None,
    };
    let extra = matches!(method, Method::Refresh).then_some(REFRESH_ABSENT);
    Some((t, extra))
}

/// The section of RFC 5546 that states the general rules for `method`.
fn general_section(method: &Method, kind: &str) -> &'static str {
    table(method, kind).map_or("1.4", |(t, _)| t.section)
}

/// The components a message is about: everything in the VCALENDAR but VTIMEZONE.
fn scheduling_components<'c, 'a>(vcal: &'c Component<'a>) -> Vec<&'c Component<'a>> {
    vcal.components
        .iter()
        .filter(|c| !c.is("VTIMEZONE"))
        .collect()
}

/// Every RFC 5546 rule `calendar` breaks, in document order; empty when it is a valid iTIP
/// message.
///
/// # Example
///
/// ```
/// use caldav_model::itip::{validate, Rule};
///
/// let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n\
///             UID:1\r\nDTSTAMP:20240101T000000Z\r\nORGANIZER:mailto:a@example.com\r\n\
///             END:VEVENT\r\nEND:VCALENDAR\r\n";
/// let calendar = ical_parse::parse_strict(text).unwrap();
/// let violations = validate(&calendar);
/// assert_eq!(violations.len(), 1);
/// assert_eq!(violations[0].section, "3.2.3");
/// assert_eq!(violations[0].rule, Rule::MissingProperty { property: "ATTENDEE" });
/// ```
#[must_use]
pub fn validate(calendar: &Calendar<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    let vcals: Vec<&Component<'_>> = calendar
        .components
        .iter()
        .filter(|c| c.is("VCALENDAR"))
        .collect();
    let Some(vcal) = vcals.first() else {
        out.push(Violation {
            section: "1.4",
            component: "VCALENDAR".into(),
            line: 0,
            rule: Rule::NoCalendar,
        });
        return out;
    };
    let at = |section: &'static str, c: &Component<'_>, rule: Rule| Violation {
        section,
        component: c.name.to_string(),
        line: c.line,
        rule,
    };
    if vcals.len() > 1 {
        out.push(at("1.4", vcal, Rule::SeveralCalendars));
    }
    let methods: Vec<&Property<'_>> = vcal.properties_named("METHOD").collect();
    let method = match methods.as_slice() {
        [] => {
            out.push(at("1.4", vcal, Rule::MissingMethod));
            return out;
        }
        [one] => Method::parse(&one.raw_value),
        [first, ..] => {
            out.push(at("1.4", vcal, Rule::SeveralMethods));
            Method::parse(&first.raw_value)
        }
    };
    let components = scheduling_components(vcal);
    let Some(first) = components.first() else {
        out.push(at(
            general_section(&method, "VEVENT"),
            vcal,
            Rule::NoComponent,
        ));
        return out;
    };
    let kind = first.name.to_string();
    let section = general_section(&method, &kind);
    let mut uid: Option<String> = None;
    let mut count = 0usize;
    for component in &components {
        if component.name != kind {
            out.push(at(
                section,
                component,
                Rule::ForbiddenComponent {
                    component: component.name.to_string(),
                },
            ));
            continue;
        }
        count += 1;
        if let Some(found) = component
            .property("UID")
            .map(|p| p.raw_value.trim().to_owned())
        {
            match &uid {
                None => uid = Some(found),
                Some(expected) if *expected != found && method != Method::Publish => {
                    out.push(at(
                        section,
                        component,
                        Rule::UidMismatch {
                            expected: expected.clone(),
                            found,
                        },
                    ));
                }
                Some(_) => {}
            }
        }
        check_component(&method, component, &mut out);
    }
    if let Some((t, _)) = table(&method, &kind)
        && t.single
        && count > 1
    {
        out.push(at(t.section, vcal, Rule::TooManyComponents { count }));
    }
    out
}

/// The table rows and the per-method rules for one component.
fn check_component(method: &Method, c: &Component<'_>, out: &mut Vec<Violation>) {
    let Some((t, extra)) = table(method, &c.name) else {
        return;
    };
    let mut push = |rule: Rule| {
        out.push(Violation {
            section: t.section,
            component: c.name.to_string(),
            line: c.line,
            rule,
        });
    };
    for &(property, presence) in t.rows.iter().chain(extra.unwrap_or_default()) {
        let count = c.properties_named(property).count();
        match (presence, count) {
            (One | OneOrMore, 0) => push(Rule::MissingProperty { property }),
            (One | ZeroOrOne, n) if n > 1 => push(Rule::TooManyProperties { property, count: n }),
            (Absent, n) if n > 0 => push(Rule::ForbiddenProperty { property }),
            _ => {}
        }
    }
    let end = if c.is("VTODO") { "DUE" } else { "DTEND" };
    if c.property(end).is_some() && c.property("DURATION").is_some() {
        push(Rule::EndAndDuration);
    }
    if let Some(sequence) = c.property("SEQUENCE") {
        match sequence.raw_value.trim().parse::<i64>() {
            Err(_) => push(Rule::InvalidSequence),
            Ok(n) if n <= 0 && *method == Method::Add => push(Rule::SequenceNotPositive),
            Ok(_) => {}
        }
    }
    if *method == Method::Cancel
        && let Some(status) = c.property("STATUS")
        && !status.raw_value.trim().eq_ignore_ascii_case("CANCELLED")
    {
        push(Rule::StatusNotCancelled {
            found: status.raw_value.trim().to_owned(),
        });
    }
    if t.no_alarm && c.components.iter().any(|s| s.is("VALARM")) {
        push(Rule::ForbiddenAlarm);
    }
}

/// A valid iTIP message: a calendar with its METHOD, checked against RFC 5546 §3.
///
/// # Example
///
/// A REPLY built from a REQUEST, for one attendee:
///
/// ```
/// use caldav_model::itip::{ItipMessage, Method, PartStat};
///
/// let request = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\n\
///                BEGIN:VEVENT\r\nUID:42@example.com\r\nDTSTAMP:20240101T000000Z\r\n\
///                DTSTART:20240105T090000Z\r\nSUMMARY:Planning\r\n\
///                ORGANIZER:mailto:a@example.com\r\nATTENDEE;RSVP=TRUE:mailto:b@example.com\r\n\
///                END:VEVENT\r\nEND:VCALENDAR\r\n";
/// let request = ItipMessage::parse(request)?;
/// assert_eq!(request.method(), &Method::Request);
/// let now = "2024-01-02T00:00:00Z".parse().unwrap();
/// let reply = request.reply("mailto:B@example.com", &PartStat::Accepted, now)?;
/// assert_eq!(reply.method(), &Method::Reply);
/// assert!(reply.write().contains("ATTENDEE;PARTSTAT=ACCEPTED:mailto:b@example.com\r\n"));
/// # Ok::<(), caldav_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItipMessage<'a> {
    method: Method,
    calendar: Calendar<'a>,
}

/// The product identifier of messages built here.
const PRODID: &str = "-//caldav-model//iTIP//EN";

impl<'a> ItipMessage<'a> {
    /// Reads and validates a message (lenient iCalendar parsing: CalDAV bodies often have LF
    /// line ends).
    ///
    /// # Errors
    ///
    /// [`Error::ICalendar`] when the text is not iCalendar, [`Error::Itip`] with every broken
    /// rule when it is not a valid iTIP message.
    pub fn parse(text: &'a str) -> Result<ItipMessage<'a>, Error> {
        let parsed = ical_parse::parse_with(text, &ical_parse::ParseOptions::lenient())?;
        ItipMessage::from_calendar(parsed.calendar)
    }

    /// Validates a parsed calendar as an iTIP message.
    ///
    /// # Errors
    ///
    /// [`Error::Itip`] with every broken rule.
    pub fn from_calendar(calendar: Calendar<'a>) -> Result<ItipMessage<'a>, Error> {
        let violations = validate(&calendar);
        if !violations.is_empty() {
            return Err(Error::Itip { violations });
        }
        let method = vcalendar(&calendar)
            .and_then(|v| v.property("METHOD"))
            .map_or(Method::Other(String::new()), |p| {
                Method::parse(&p.raw_value)
            });
        Ok(ItipMessage { method, calendar })
    }

    /// The method.
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The calendar, METHOD included.
    #[must_use]
    pub fn calendar(&self) -> &Calendar<'a> {
        &self.calendar
    }

    /// The calendar, METHOD included.
    #[must_use]
    pub fn into_calendar(self) -> Calendar<'a> {
        self.calendar
    }

    /// The UID all components share.
    #[must_use]
    pub fn uid(&self) -> Option<Cow<'_, str>> {
        self.components().find_map(|c| c.text("UID"))
    }

    /// The organizer's calendar user address.
    #[must_use]
    pub fn organizer(&self) -> Option<&str> {
        self.components()
            .find_map(|c| c.property("ORGANIZER"))
            .map(|p| p.raw_value.trim())
    }

    /// The scheduling components (everything but VTIMEZONE).
    pub fn components(&self) -> impl Iterator<Item = &Component<'a>> {
        self.calendar.objects().filter(|c| !c.is("VTIMEZONE"))
    }

    /// The canonical text (CRLF, folded).
    #[must_use]
    pub fn write(&self) -> String {
        self.calendar.write()
    }

    /// The message with everything it borrows copied.
    #[must_use]
    pub fn into_owned(self) -> ItipMessage<'static> {
        ItipMessage {
            method: self.method,
            calendar: self.calendar.into_owned(),
        }
    }

    /// `calendar` (a stored object or a message) as a message of `method`: METHOD set,
    /// everything else kept.
    ///
    /// # Errors
    ///
    /// [`Error::Itip`] when the result breaks a rule of `method`'s table (a REQUEST without
    /// ATTENDEE, a PUBLISH with one...).
    pub fn with_method(calendar: Calendar<'a>, method: Method) -> Result<ItipMessage<'a>, Error> {
        let mut calendar = calendar;
        for vcal in calendar.components.iter_mut().filter(|c| c.is("VCALENDAR")) {
            vcal.properties.retain(|p| !p.is("METHOD"));
            let at = vcal
                .properties
                .iter()
                .position(|p| !(p.is("VERSION") || p.is("PRODID") || p.is("CALSCALE")))
                .unwrap_or(vcal.properties.len());
            vcal.properties.insert(
                at,
                Property::new("METHOD", Cow::Owned(method.as_str().to_owned())),
            );
        }
        ItipMessage::from_calendar(calendar)
    }

    /// The REPLY of attendee `address` with `partstat` to this message (or to a stored copy of
    /// the organizer's object): for every component, UID, RECURRENCE-ID, SEQUENCE, DTSTART,
    /// ORGANIZER and the attendee's own ATTENDEE line with PARTSTAT set (RSVP dropped), stamped
    /// `dtstamp` (RFC 5546 §3.2.3, §3.4.3). VTIMEZONEs are copied for the times kept.
    ///
    /// # Errors
    ///
    /// [`Error::NotAttendee`] when `address` is not an attendee of any component;
    /// [`Error::Itip`] when the source lacks what a REPLY needs (ORGANIZER, UID).
    pub fn reply(
        &self,
        address: &str,
        partstat: &PartStat,
        dtstamp: Timestamp,
    ) -> Result<ItipMessage<'static>, Error> {
        reply(&self.calendar, address, partstat, dtstamp)
    }

    /// The CANCEL of this object (RFC 5546 §3.2.5): for the whole event when `removed` is
    /// `None` (STATUS:CANCELLED, every attendee), or telling only the attendees in `removed`
    /// that they are no longer invited. SEQUENCE is the source's plus one.
    ///
    /// # Errors
    ///
    /// [`Error::NotAttendee`] when an address in `removed` is not an attendee;
    /// [`Error::Itip`] when the source lacks what a CANCEL needs (ORGANIZER, UID).
    pub fn cancel(
        &self,
        removed: Option<&[&str]>,
        dtstamp: Timestamp,
    ) -> Result<ItipMessage<'static>, Error> {
        cancel(&self.calendar, removed, dtstamp)
    }
}

/// The first VCALENDAR.
fn vcalendar<'c, 'a>(calendar: &'c Calendar<'a>) -> Option<&'c Component<'a>> {
    calendar.components.iter().find(|c| c.is("VCALENDAR"))
}

/// Whether two calendar user addresses name the same user: `mailto:` compares without case
/// (RFC 6638 §3.2.1 leaves the comparison to the server; addresses differ in case in practice),
/// other URIs exactly after trimming.
#[must_use]
pub fn same_address(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    fn mailto(s: &str) -> Option<&str> {
        s.get(..7)
            .filter(|p| p.eq_ignore_ascii_case("mailto:"))
            .and_then(|_| s.get(7..))
    }
    match (mailto(a), mailto(b)) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// A new message skeleton: VCALENDAR with VERSION, PRODID, METHOD, the source's VTIMEZONEs.
fn skeleton(source: &Calendar<'_>, method: &Method) -> Component<'static> {
    let mut vcal = Component::new("VCALENDAR")
        .with_property(Property::new("VERSION", "2.0"))
        .with_property(Property::new("PRODID", PRODID))
        .with_property(Property::new(
            "METHOD",
            Cow::Owned(method.as_str().to_owned()),
        ));
    if let Some(src) = vcalendar(source) {
        for tz in src.components.iter().filter(|c| c.is("VTIMEZONE")) {
            vcal = vcal.with_component(tz.clone().into_owned());
        }
    }
    vcal
}

fn copy(from: &Component<'_>, to: &mut Component<'static>, names: &[&str]) {
    for name in names {
        for p in from.properties_named(name) {
            to.properties.push(p.clone().into_owned());
        }
    }
}

fn set_param(property: &mut Property<'_>, name: &str, value: &str) {
    let param = Parameter::new(name.to_owned(), value.to_owned());
    match property.params.iter_mut().find(|p| p.name == name) {
        Some(existing) => *existing = param.into_owned(),
        None => property.params.push(param.into_owned()),
    }
}

fn remove_param(property: &mut Property<'_>, name: &str) {
    property.params.retain(|p| p.name != name);
}

fn dtstamp_property(at: Timestamp) -> Property<'static> {
    Property::new("DTSTAMP", Cow::Owned(format_utc(at)))
}

fn source_components<'c, 'a>(source: &'c Calendar<'a>) -> Vec<&'c Component<'a>> {
    source
        .objects()
        .filter(|c| c.is("VEVENT") || c.is("VTODO"))
        .collect()
}

/// A REPLY of `address` with `partstat` to `source` (an invitation, or the attendee's stored
/// copy of it). See [`ItipMessage::reply`].
///
/// # Errors
///
/// As [`ItipMessage::reply`].
pub fn reply(
    source: &Calendar<'_>,
    address: &str,
    partstat: &PartStat,
    dtstamp: Timestamp,
) -> Result<ItipMessage<'static>, Error> {
    let mut vcal = skeleton(source, &Method::Reply);
    let mut found = false;
    for c in source_components(source) {
        let Some(attendee) = c
            .properties_named("ATTENDEE")
            .find(|p| same_address(&p.raw_value, address))
        else {
            continue;
        };
        found = true;
        let mut out = Component::new(c.name.to_string());
        copy(
            c,
            &mut out,
            &["UID", "RECURRENCE-ID", "SEQUENCE", "DTSTART"],
        );
        out.properties.push(dtstamp_property(dtstamp));
        copy(c, &mut out, &["ORGANIZER"]);
        let mut attendee = attendee.clone().into_owned();
        set_param(&mut attendee, "PARTSTAT", partstat.as_str());
        remove_param(&mut attendee, "RSVP");
        remove_param(&mut attendee, "SCHEDULE-STATUS");
        remove_param(&mut attendee, "SCHEDULE-FORCE-SEND");
        out.properties.push(attendee);
        vcal = vcal.with_component(out);
    }
    if !found {
        return Err(Error::NotAttendee {
            address: address.to_owned(),
        });
    }
    let mut calendar = Calendar::new();
    calendar.components.push(vcal);
    ItipMessage::from_calendar(calendar)
}

/// A CANCEL of `source` (the organizer's object). See [`ItipMessage::cancel`].
///
/// # Errors
///
/// As [`ItipMessage::cancel`].
pub fn cancel(
    source: &Calendar<'_>,
    removed: Option<&[&str]>,
    dtstamp: Timestamp,
) -> Result<ItipMessage<'static>, Error> {
    let mut vcal = skeleton(source, &Method::Cancel);
    let components = source_components(source);
    if let Some(removed) = removed {
        for address in removed {
            let known = components.iter().any(|c| {
                c.properties_named("ATTENDEE")
                    .any(|p| same_address(&p.raw_value, address))
            });
            if !known {
                return Err(Error::NotAttendee {
                    address: (*address).to_owned(),
                });
            }
        }
    }
    for c in components {
        let mut out = Component::new(c.name.to_string());
        copy(c, &mut out, &["UID", "RECURRENCE-ID", "DTSTART"]);
        let sequence = c
            .property("SEQUENCE")
            .and_then(|p| p.raw_value.trim().parse::<i64>().ok())
            .unwrap_or(0);
        out.properties.push(Property::new(
            "SEQUENCE",
            Cow::Owned(sequence.saturating_add(1).to_string()),
        ));
        out.properties.push(dtstamp_property(dtstamp));
        copy(c, &mut out, &["ORGANIZER", "SUMMARY"]);
        for attendee in c.properties_named("ATTENDEE") {
            let keep = removed
                .is_none_or(|list| list.iter().any(|a| same_address(&attendee.raw_value, a)));
            if keep {
                let mut attendee = attendee.clone().into_owned();
                remove_param(&mut attendee, "SCHEDULE-STATUS");
                out.properties.push(attendee);
            }
        }
        if removed.is_none() {
            out.properties.push(Property::new("STATUS", "CANCELLED"));
        }
        vcal = vcal.with_component(out);
    }
    let mut calendar = Calendar::new();
    calendar.components.push(vcal);
    ItipMessage::from_calendar(calendar)
}

/// One ATTENDEE as scheduling sees it (RFC 5545 §3.8.4.1, RFC 6638 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attendee {
    /// The calendar user address.
    pub address: String,
    /// `CN`, if any.
    pub common_name: Option<String>,
    /// `PARTSTAT` (NEEDS-ACTION when absent).
    pub partstat: PartStat,
    /// `RSVP=TRUE`.
    pub rsvp: bool,
    /// `SCHEDULE-AGENT` (SERVER when absent).
    pub schedule_agent: ScheduleAgent,
    /// `SCHEDULE-STATUS` codes the server wrote back (RFC 6638 §7.3), e.g. `1.2`.
    pub schedule_status: Vec<String>,
}

/// The attendees of the first VEVENT or VTODO (the master, or the first instance).
///
/// # Example
///
/// ```
/// use caldav_model::itip::{attendees, PartStat};
///
/// let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n\
///             DTSTAMP:20240101T000000Z\r\n\
///             ATTENDEE;PARTSTAT=ACCEPTED;SCHEDULE-STATUS=1.2:mailto:b@example.com\r\n\
///             END:VEVENT\r\nEND:VCALENDAR\r\n";
/// let calendar = ical_parse::parse_strict(text).unwrap();
/// let list = attendees(&calendar);
/// assert_eq!(list[0].partstat, PartStat::Accepted);
/// assert_eq!(list[0].schedule_status, ["1.2"]);
/// ```
#[must_use]
pub fn attendees(calendar: &Calendar<'_>) -> Vec<Attendee> {
    let Some(c) = source_components(calendar).into_iter().next() else {
        return Vec::new();
    };
    c.properties_named("ATTENDEE")
        .map(|p| Attendee {
            address: p.raw_value.trim().to_owned(),
            common_name: p.param_value("CN").map(str::to_owned),
            partstat: p
                .param_value("PARTSTAT")
                .map_or(PartStat::NeedsAction, PartStat::parse),
            rsvp: p
                .param_value("RSVP")
                .is_some_and(|v| v.eq_ignore_ascii_case("TRUE")),
            schedule_agent: p
                .param_value("SCHEDULE-AGENT")
                .map_or(ScheduleAgent::Server, ScheduleAgent::parse),
            schedule_status: p
                .param("SCHEDULE-STATUS")
                .map(|s| s.values.iter().map(|v| v.to_string()).collect())
                .unwrap_or_default(),
        })
        .collect()
}

/// Applies `change` to every ATTENDEE of `address` in every VEVENT and VTODO; returns how many
/// were changed.
fn for_attendee(
    calendar: &mut Calendar<'_>,
    address: Option<&str>,
    mut change: impl FnMut(&mut Property<'_>),
) -> usize {
    let mut changed = 0;
    for top in &mut calendar.components {
        let inner: &mut Vec<Component<'_>> = if top.is("VCALENDAR") {
            &mut top.components
        } else {
            continue;
        };
        for c in inner.iter_mut().filter(|c| c.is("VEVENT") || c.is("VTODO")) {
            for p in c.properties.iter_mut().filter(|p| p.is("ATTENDEE")) {
                if address.is_none_or(|a| same_address(&p.raw_value, a)) {
                    change(p);
                    changed += 1;
                }
            }
        }
    }
    changed
}

/// Sets the PARTSTAT of attendee `address` in a stored object (the attendee's copy of an
/// invitation, RFC 6638 §3.2.2.1: an attendee changes only its own participation), dropping
/// RSVP and the server's SCHEDULE-STATUS. Returns how many ATTENDEE lines changed (0: not an
/// attendee).
pub fn set_partstat(calendar: &mut Calendar<'_>, address: &str, partstat: &PartStat) -> usize {
    for_attendee(calendar, Some(address), |p| {
        set_param(p, "PARTSTAT", partstat.as_str());
        remove_param(p, "RSVP");
        remove_param(p, "SCHEDULE-STATUS");
    })
}

/// Sets SCHEDULE-AGENT on attendee `address` (every attendee when `None`); `Server` removes
/// the parameter, since it is the default (RFC 6638 §7.1). Returns how many lines changed.
pub fn set_schedule_agent(
    calendar: &mut Calendar<'_>,
    address: Option<&str>,
    agent: &ScheduleAgent,
) -> usize {
    for_attendee(calendar, address, |p| match agent {
        ScheduleAgent::Server => remove_param(p, "SCHEDULE-AGENT"),
        other => set_param(p, "SCHEDULE-AGENT", other.as_str()),
    })
}

/// Sets SCHEDULE-FORCE-SEND on attendee `address` (RFC 6638 §7.2): the server sends the
/// message although nothing changed. Returns how many lines changed.
pub fn set_schedule_force_send(
    calendar: &mut Calendar<'_>,
    address: &str,
    force: ForceSend,
) -> usize {
    for_attendee(calendar, Some(address), |p| {
        set_param(p, "SCHEDULE-FORCE-SEND", force.as_str());
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(text: &str) -> Calendar<'_> {
        ical_parse::parse_with(text, &ical_parse::ParseOptions::lenient())
            .unwrap()
            .calendar
    }

    const REQUEST: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\n\
        BEGIN:VEVENT\r\nUID:u1\r\nSEQUENCE:2\r\nDTSTAMP:20240101T000000Z\r\n\
        DTSTART:20240105T090000Z\r\nDTEND:20240105T100000Z\r\nSUMMARY:S\r\n\
        ORGANIZER:mailto:a@x.test\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:a@x.test\r\n\
        ATTENDEE;RSVP=TRUE;SCHEDULE-STATUS=1.2:mailto:b@x.test\r\n\
        ATTENDEE:mailto:c@x.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn now() -> Timestamp {
        "2024-01-02T03:04:05Z".parse().unwrap()
    }

    #[test]
    fn request_is_valid() {
        assert_eq!(validate(&cal(REQUEST)), Vec::new());
    }

    #[test]
    fn missing_method_is_named() {
        let text = REQUEST.replace("METHOD:REQUEST\r\n", "");
        let v = validate(&cal(&text));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rule, Rule::MissingMethod);
    }

    #[test]
    fn mixed_components_and_uids_are_named() {
        let text = REQUEST.replace(
            "END:VCALENDAR",
            "BEGIN:VTODO\r\nUID:u1\r\nEND:VTODO\r\nEND:VCALENDAR",
        );
        let v = validate(&cal(&text));
        assert!(v.iter().any(|v| v.rule
            == Rule::ForbiddenComponent {
                component: "VTODO".into()
            }));
        let two = REQUEST.replace(
            "END:VCALENDAR",
            "BEGIN:VEVENT\r\nUID:u2\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240105T090000Z\r\n\
             SUMMARY:S\r\nORGANIZER:mailto:a@x.test\r\nATTENDEE:mailto:b@x.test\r\n\
             RECURRENCE-ID:20240105T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR",
        );
        let v = validate(&cal(&two));
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(matches!(v[0].rule, Rule::UidMismatch { .. }));
    }

    #[test]
    fn reply_keeps_only_the_attendee() {
        let message = ItipMessage::parse(REQUEST).unwrap();
        let reply = message
            .reply("MAILTO:B@x.test", &PartStat::Tentative, now())
            .unwrap();
        let list = attendees(reply.calendar());
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].partstat, PartStat::Tentative);
        assert!(!list[0].rsvp);
        assert!(list[0].schedule_status.is_empty());
        let text = reply.write();
        assert!(text.contains("SEQUENCE:2\r\n"));
        assert!(text.contains("DTSTAMP:20240102T030405Z\r\n"));
        assert!(!text.contains("SUMMARY"));
        assert_eq!(
            message.reply("mailto:z@x.test", &PartStat::Accepted, now()),
            Err(Error::NotAttendee {
                address: "mailto:z@x.test".into()
            })
        );
    }

    #[test]
    fn cancel_of_some_attendees_keeps_the_event() {
        let message = ItipMessage::parse(REQUEST).unwrap();
        let cancel = message.cancel(Some(&["mailto:c@x.test"]), now()).unwrap();
        let text = cancel.write();
        assert!(text.contains("SEQUENCE:3\r\n"));
        assert!(!text.contains("STATUS:CANCELLED"));
        assert_eq!(attendees(cancel.calendar()).len(), 1);
        let all = message.cancel(None, now()).unwrap();
        assert!(all.write().contains("STATUS:CANCELLED\r\n"));
        assert_eq!(attendees(all.calendar()).len(), 3);
    }

    #[test]
    fn partstat_rewrite_touches_only_the_attendee() {
        let mut calendar = cal(REQUEST).into_owned();
        assert_eq!(
            set_partstat(&mut calendar, "mailto:b@x.test", &PartStat::Accepted),
            1
        );
        let list = attendees(&calendar);
        assert_eq!(list[0].partstat, PartStat::Accepted);
        assert_eq!(list[1].partstat, PartStat::Accepted);
        assert_eq!(list[2].partstat, PartStat::NeedsAction);
        assert_eq!(
            set_schedule_agent(&mut calendar, None, &ScheduleAgent::Client),
            3
        );
        assert!(
            attendees(&calendar)
                .iter()
                .all(|a| a.schedule_agent == ScheduleAgent::Client)
        );
        set_schedule_agent(
            &mut calendar,
            Some("mailto:c@x.test"),
            &ScheduleAgent::Server,
        );
        assert_eq!(
            attendees(&calendar)[2].schedule_agent,
            ScheduleAgent::Server
        );
        set_schedule_force_send(&mut calendar, "mailto:c@x.test", ForceSend::Request);
        assert!(
            calendar
                .write()
                .contains("ATTENDEE;SCHEDULE-FORCE-SEND=REQUEST:mailto:c@x.test")
        );
    }

    #[test]
    fn with_method_places_method_after_prodid() {
        let text = REQUEST.replace("METHOD:REQUEST\r\n", "");
        let message = ItipMessage::with_method(cal(&text), Method::Request).unwrap();
        assert!(
            message
                .write()
                .starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\n")
        );
        let publish = ItipMessage::with_method(cal(&text), Method::Publish);
        assert!(matches!(publish, Err(Error::Itip { .. })));
    }

    #[test]
    fn same_address_rules() {
        assert!(same_address("mailto:A@X.test", " MAILTO:a@x.test"));
        assert!(!same_address("https://x/a", "https://x/A"));
        assert!(!same_address("mailto:a@x", "a@x"));
    }
}
