//! WebDAV XML (RFC 4918) for CalDAV: qualified names, element trees, multistatus decoding
//! (whole or streamed), `DAV:error` conditions, and request-body encoding.
//!
//! This crate is sans-IO: it turns bytes into values and values into bytes, and never touches a
//! socket, a clock or a file. It has its own small tokenizer (a text run, references included,
//! is one token decoded in one pass), parses attributes with quick-xml and does its own
//! namespace resolution, so decoding never depends on prefixes. The multistatus envelope
//! (response, propstat, prop) is decoded straight into [`Response`] and [`PropStat`]; only
//! property values become element trees.
//!
//! # Example
//!
//! ```
//! use dav_xml::{Multistatus, QName};
//!
//! let body = br#"<?xml version="1.0" encoding="utf-8"?>
//! <A:multistatus xmlns:A="DAV:" xmlns:B="urn:ietf:params:xml:ns:caldav">
//!   <A:response>
//!     <A:href>/calendars/user/ken/Default/e1.ics</A:href>
//!     <A:propstat>
//!       <A:prop>
//!         <A:getetag>"abc"</A:getetag>
//!         <B:calendar-data><![CDATA[BEGIN:VCALENDAR
//! END:VCALENDAR
//! ]]></B:calendar-data>
//!       </A:prop>
//!       <A:status>HTTP/1.1 200 OK</A:status>
//!     </A:propstat>
//!   </A:response>
//! </A:multistatus>"#;
//!
//! let multistatus = Multistatus::decode(body)?;
//! for response in &multistatus.responses {
//!     let etag = response.prop(&QName::DAV_GETETAG).map(|e| e.text());
//!     assert_eq!(etag.as_deref(), Some("\"abc\""));
//!     let data = response.prop(&QName::CALDAV_CALENDAR_DATA).unwrap().text();
//!     assert!(data.starts_with("BEGIN:VCALENDAR\n"));
//! }
//! # Ok::<(), dav_xml::Error>(())
//! ```
//!
//! # What is here
//!
//! | Need | Use |
//! |---|---|
//! | A whole multistatus body (RFC 4918 §13, RFC 6578 sync-token) | [`Multistatus::decode`] |
//! | The same from a body you own (`Vec<u8>`, `Bytes`): line ends normalised in place, text shared with the body, no copy of calendar data | [`Multistatus::decode_owned`] |
//! | The same, chunk by chunk as it arrives, one response at a time | [`StreamDecoder`] |
//! | A `DAV:error` body with typed preconditions | [`DavError::decode`] |
//! | Any XML as a namespace-resolved tree, and back | [`Element::decode`], [`Element::encode`] |
//! | PROPFIND, PROPPATCH, extended MKCOL, MKCALENDAR bodies | [`PropFind`], [`PropertyUpdate`], [`MkCol`], [`MkCalendar`] |
//! | Hrefs kept as sent, compared canonically, resolved against the request URL | [`Href`] |
//!
//! # Limits and hostile input
//!
//! No DTD is accepted (so no entity declarations, no external entities, no expansion bombs);
//! only the five predefined entities and character references are resolved. Nesting depth,
//! element count, attributes per element and text size are bounded by [`Limits`], with safe
//! defaults. Exceeding a limit, malformed XML and non-UTF-8 input are [`Error`] values carrying
//! a byte offset; nothing panics.
//!
//! # Line ends in calendar data
//!
//! XML end-of-line normalisation applies everywhere, CDATA included: `CRLF` becomes `LF`, and
//! only an escaped `&#13;` survives as `CR`. The iCalendar parser therefore receives `LF` line
//! ends from most servers; see [`element`] for the details.

pub mod element;
mod error;
pub mod href;
mod lexer;
mod limits;
mod list;
pub mod multistatus;
pub mod name;
pub mod precondition;
pub mod request;
pub mod stream;
mod text;
mod writer;

pub use element::{Attribute, Element, Node, Text};
pub use error::{Error, LimitKind};
pub use href::Href;
pub use limits::Limits;
pub use list::OneOrMany;
pub use multistatus::{Multistatus, PropStat, Response};
pub use name::QName;
pub use precondition::{Condition, DavError};
pub use request::{MkCalendar, MkCol, PropFind, PropertyOperation, PropertyUpdate};
pub use stream::StreamDecoder;
