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
//! | [`freebusy`] | busy periods coalesced into a VFREEBUSY | 4791 §7.10 |
//!
//! # Example
//!
//! ```
//! use caldav_model::capabilities::Capabilities;
//!
//! let mut headers = http::HeaderMap::new();
//! headers.append("DAV", "1, 2, 3, access-control, calendar-access".parse().unwrap());
//! let caps = Capabilities::from_headers(&headers)?;
//! assert!(caps.calendar_access() && caps.access_control());
//! # Ok::<(), caldav_model::Error>(())
//! ```
//!
//! # Limits
//!
//! Every untrusted input is bounded by [`Limits`]; exceeding a limit is an
//! [`Error::LimitExceeded`], never a panic or an unbounded allocation.

pub mod capabilities;
pub mod collation;
mod error;
pub mod filter;
pub mod freebusy;
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
