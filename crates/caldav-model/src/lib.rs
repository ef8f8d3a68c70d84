//! CalDAV vocabulary: what the words of RFC 4791 and its companions mean, as typed values.
//!
//! This crate sits between the codecs (`dav-xml`, `ical-parse`) and the client machines. It is
//! sans-IO: no sockets, no clock, no files; values in, values out.
//!
//! | Module | What | RFCs |
//! |---|---|---|
//! | [`capabilities`] | `DAV:`/`Allow:` headers and supported reports as one set | 4918 §10.1, 4791 §5.1 |
//! | [`collation`] | text-match under i;octet, i;ascii-casemap, i;unicode-casemap | 4791 §7.5, 4790, 5051 |
//! | [`filter`] | the calendar-query filter tree and time ranges | 4791 §9.7, §9.9 |
//! | [`property`] | typed properties: names, decode, encode | 4918, 3744, 4791, 6578, 6638, ... |
//! | [`query`] | filter and time-range evaluation, busy time of objects | 4791 §9.7, §9.9, §7.10 |
//! | [`report`] | PROPFIND, PROPPATCH, MKCALENDAR and report request bodies | 4918 §9, 4791 §7, 6578 §3 |
//! | [`freebusy`] | busy periods coalesced into a VFREEBUSY; schedule-response | 4791 §7.10, 6638 §10.2 |
//! | [`itip`] | iTIP messages, their §3 restriction tables, REPLY/CANCEL builders | 5546, 6638 §7 |
//!
//! # Example
//!
//! A client asks what a server can do, lists a calendar's properties, builds a query, and
//! (offline) evaluates the same filter on data it holds:
//!
//! ```
//! use caldav_model::capabilities::Capabilities;
//! use caldav_model::filter::{parse_utc, CompFilter, Filter, TimeRange};
//! use caldav_model::property::{names, PropertySet};
//! use caldav_model::query::EvalOptions;
//! use caldav_model::report::{CalendarQuery, PropRequest};
//!
//! // OPTIONS: several DAV: lines become one set.
//! let mut headers = http::HeaderMap::new();
//! headers.append("DAV", "1, 2, 3, access-control".parse().unwrap());
//! headers.append("DAV", "calendar-access, calendar-auto-schedule".parse().unwrap());
//! let caps = Capabilities::from_headers(&headers)?;
//! assert!(caps.calendar_access() && caps.calendar_auto_schedule());
//!
//! // PROPFIND answer: typed properties; a 404 propstat means "absent".
//! let body = br#"<A:multistatus xmlns:A="DAV:" xmlns:B="urn:ietf:params:xml:ns:caldav"
//!     xmlns:C="http://calendarserver.org/ns/"><A:response><A:href>/cal/work/</A:href>
//!   <A:propstat><A:prop><A:displayname>Work</A:displayname><C:getctag>7</C:getctag>
//!     <A:resourcetype><A:collection/><B:calendar/></A:resourcetype></A:prop>
//!     <A:status>HTTP/1.1 200 OK</A:status></A:propstat></A:response></A:multistatus>"#;
//! let multistatus = dav_xml::Multistatus::decode(body)?;
//! let props = PropertySet::from_response(&multistatus.responses[0]);
//! assert!(props.is_calendar());
//! assert_eq!(props.ctag().map(|c| c.0.as_str()), Some("7"));
//!
//! // REPORT body: a calendar-query for this week's events.
//! let week = TimeRange::new(parse_utc("20240101T000000Z"), parse_utc("20240108T000000Z")).unwrap();
//! let filter = Filter::component(CompFilter::new("VEVENT").time_range(week));
//! let query = CalendarQuery::new(filter.clone()).props(PropRequest::names([names::GETETAG]));
//! let xml: String = query.encode();
//! assert!(xml.contains("20240108T000000Z"));
//!
//! // The same filter, evaluated offline (RFC 4791 §9.7, §9.9).
//! let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n\
//!            DTSTAMP:20240101T000000Z\r\nDTSTART:20231225T090000Z\r\nDURATION:PT1H\r\n\
//!            RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
//! let calendar = ical_parse::parse_strict(ics).unwrap();
//! assert!(filter.matches(&calendar, &EvalOptions::default()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limits
//!
//! Header parsing is bounded by [`Limits`] (exceeding it is an [`Error::LimitExceeded`]);
//! XML is bounded by `dav-xml`'s limits, iCalendar by `ical-parse`'s; evaluation expands at
//! most [`query::EvalOptions::max_instances`] instances per recurring component, only within
//! the queried range, and at most [`query::EvalOptions::max_alarm_repeats`] alarm repeats.
//! Nothing here panics or allocates without bound on any input (two fuzz targets,
//! `model_props` and `model_query`, check it).
//!
//! # What is not here (yet)
//!
//! - Property values are owned (`String`), not borrowed from the XML: `dav-xml`'s tree is
//!   owned already, so borrowing would save little.
//! - VAVAILABILITY (RFC 7953) does not contribute to free-busy time.
//! - `i;unicode-casemap` folds case with Rust's full case mappings before NFKD; RFC 5051
//!   specifies titlecase mappings, which differ for a handful of digraph characters.

pub mod capabilities;
pub mod collation;
mod error;
pub mod filter;
pub mod freebusy;
pub mod itip;
mod overlap;
pub mod property;
pub mod query;
pub mod report;

pub use error::Error;

/// Bounds on untrusted input. The defaults are generous for any real server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most tokens read from all `DAV:` and `Allow:` header lines together.
    pub max_header_tokens: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_header_tokens: 1024,
        }
    }
}
