//! RFC 5545 iCalendar: lex, parse, typed values, write; recurrence and time zones.
//!
//! A fast, lossless parser and writer for iCalendar (RFC 5545, with RFC 7986 properties,
//! RFC 6868 parameter escaping and RFC 7953 availability), sans-IO: it turns text into a
//! model and back, and never touches a file, a socket or a clock.
//!
//! - **Lossless**: unknown components, IANA and X- properties and parameters are kept in
//!   order and written back; values are kept as read (typed views parse them on demand), so
//!   `parse -> write -> parse` is the identity and canonical input is reproduced byte for byte.
//! - **Borrowing**: the model borrows from the input (`Cow<'a, str>`); only folded lines and
//!   RFC 6868-escaped parameter values are copied. A canonical line's parameters are kept as
//!   the text they were read from and decoded the first time they are looked at as a slice
//!   ([`Parameters`]). [`Calendar::into_owned`] detaches it.
//! - **Strict or lenient** ([`Mode`]): strict follows RFC 5545's grammar, including how often
//!   §3.6 lets each property occur (UID and DTSTAMP exactly once in VEVENT, VTODO, VJOURNAL
//!   and VFREEBUSY, PRODID and VERSION in VCALENDAR, no second SUMMARY, what each VALARM
//!   ACTION needs, the VAVAILABILITY and AVAILABLE rules of RFC 7953, ...); names are
//!   case-insensitive (§3.1), so `begin:vevent` is legal and written back in uppercase.
//!   Lenient accepts what real servers and clients send (LF line ends, a BOM, folds inside
//!   UTF-8 sequences, blank lines, whitespace around names, bare components, missing or
//!   repeated properties, a UTC time with a TZID) and reports each deviation as a [`Warning`]
//!   with line and column. A line it cannot read is kept as a raw line
//!   ([`Property::is_raw`]), never dropped.
//! - **Bounded** ([`Limits`]): input size, line length, nesting depth, properties per
//!   component, components, parameters per property. Exceeding one is an [`Error`].
//!
//! # Example
//!
//! ```
//! use ical_parse::{ParseOptions, value::DateOrDateTime};
//!
//! // CalDAV bodies come out of XML with LF line ends: the lenient default takes them.
//! let text = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Example//EN\nBEGIN:VEVENT\n\
//!             UID:42@example.com\nDTSTAMP:20240101T000000Z\n\
//!             DTSTART;TZID=Europe/Berlin:20240105T090000\nDURATION:PT1H\n\
//!             RRULE:FREQ=WEEKLY;COUNT=4\nSUMMARY:Planning\\, weekly\nEND:VEVENT\nEND:VCALENDAR\n";
//! let parsed = ical_parse::parse_with(text, &ParseOptions::lenient()).unwrap();
//! assert_eq!(parsed.warnings.len(), 1); // bare LF line ends, reported once
//!
//! let event = parsed.calendar.events().next().unwrap();
//! assert_eq!(event.uid().as_deref(), Some("42@example.com"));
//! assert_eq!(event.summary().as_deref(), Some("Planning, weekly"));
//! let start = event.dtstart().unwrap().unwrap();
//! assert_eq!(start.tzid, Some("Europe/Berlin"));
//! assert!(matches!(start.value, DateOrDateTime::DateTime(t) if !t.utc));
//! assert_eq!(event.rrule().unwrap().unwrap().count, Some(4));
//!
//! // The writer produces the canonical form: CRLF, folded at 75 octets.
//! let canonical = parsed.calendar.write();
//! assert_eq!(ical_parse::parse_strict(&canonical).unwrap(), parsed.calendar);
//! ```
//!
//! # Modules
//!
//! | module | what |
//! |---|---|
//! | [`component`] | the component tree and typed views (`VEvent`, `VTodo`, `VTimeZone`, ...) |
//! | [`property`] | properties, parameters, typed accessors |
//! | [`value`] | the value types of §3.3 |
//! | [`recur`] | RECUR values and their iteration |
//! | [`jcal`] | jCal (RFC 7265), the JSON form of the same model |
//! | [`expand`], [`tz`] | recurrence expansion, time zones |

pub mod component;
mod contentline;
pub mod error;
pub mod expand;
pub mod jcal;
mod name;
mod occurrence;
mod parse;
pub mod property;
pub mod recur;
pub mod tz;
pub mod value;
mod write;

pub use component::{
    Available, Calendar, Component, RDate, Trigger, TzRule, VAlarm, VAvailability, VCalendar,
    VEvent, VFreeBusy, VJournal, VTimeZone, VTodo,
};
pub use error::{Error, ErrorKind, Limit, Warning};
pub use parse::{
    Limits, Mode, ParseOptions, Parsed, parse, parse_bytes_with, parse_strict, parse_with,
};
pub use property::{Parameter, ParameterValues, Parameters, Property};
pub use write::FOLD_AT;
