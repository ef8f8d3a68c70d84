//! Sans-IO CalDAV client machines: bootstrap, calendar listing, sync and conditional writes.
//!
//! | Module | Machine | What |
//! |---|---|---|
//! | [`bootstrap`] | [`bootstrap::BootstrapMachine`] | context URL to principal, homes, capabilities |
//! | [`listing`] | [`listing::ListingMachine`] | calendar homes to typed collections |
//! | [`sync`] | [`sync::SyncMachine`] | many calendars up to date, by the DESIGN.md ladder |
//! | [`write`](mod@write) | [`write::WriteMachine`] | create, update, delete, MKCALENDAR, PROPPATCH |
//! | [`probe`] | [`probe::ProbeMachine`] | harmless experiments that conclude a [`QuirkProfile`] |
//! | [`schedule`] | [`schedule::ReplyMachine`] and others | RFC 6638 scheduling, inbox, free-busy |
//! | [`quirks`] | | server differences as plain data |
//!
//! Each flow is a state machine that says *what request to make next*; the caller owns every
//! socket, clock and file. Requests and answers are `http::Request<Bytes>` and
//! `http::Response<Bytes>`, matched by [`RequestId`], so several requests can be in flight.
//!
//! **Feed once, then drain**: after each input (`handle_response` or `handle_failure`), call
//! `poll` until it returns [`Output::Wait`] or [`Output::Done`].
//!
//! # Example
//!
//! A whole sync against canned answers (a real driver sends each request over HTTP):
//!
//! ```
//! use bytes::Bytes;
//! use caldav_client_core::sync::{SyncConfig, SyncMachine, SyncState};
//! use caldav_client_core::{Machine, Output};
//!
//! let config = SyncConfig::new("https://cal.example/".parse().unwrap(), vec!["/cal/".into()]);
//! let mut machine = SyncMachine::new(config, SyncState::default());
//! let outcome = loop {
//!     match machine.poll() {
//!         Output::Http { id, request } => {
//!             let root = dav_xml::Element::decode(request.body()).unwrap();
//!             let body = if root.name.local() == "sync-collection" {
//!                 r#"<multistatus xmlns="DAV:"><response><href>/cal/a.ics</href><propstat>
//!                    <prop><getetag>"1"</getetag></prop><status>HTTP/1.1 200 OK</status>
//!                    </propstat></response><sync-token>t1</sync-token></multistatus>"#
//!             } else {
//!                 r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
//!                    <response><href>/cal/a.ics</href><propstat><prop><getetag>"1"</getetag>
//!                    <C:calendar-data>BEGIN:VCALENDAR&#13;
//! END:VCALENDAR&#13;
//! </C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>
//!                    </multistatus>"#
//!             };
//!             let response = http::Response::builder()
//!                 .status(207)
//!                 .body(Bytes::from(body))
//!                 .unwrap();
//!             machine.handle_response(id, response).unwrap();
//!         }
//!         Output::Wait => unreachable!("one request at a time here"),
//!         Output::Done(outcome) => break outcome.unwrap(),
//!         _ => unreachable!(),
//!     }
//! };
//! let changes = outcome.calendars[0].result.as_ref().unwrap();
//! assert_eq!(changes.added.len(), 1);
//! assert_eq!(machine.state().calendars["/cal/"].sync_token.as_deref(), Some("t1"));
//! ```
//!
//! # Limits
//!
//! Every loop is bounded: sync-collection pages ([`sync::SyncConfig::max_pages`]), members per
//! calendar, multiget re-asks, requests in flight. XML answers are decoded with `dav-xml`'s
//! limits. Nothing panics on any answer; a server that misbehaves yields
//! [`Error::ServerMisbehaved`].

mod body;
pub mod bootstrap;
mod error;
pub mod listing;
mod machine;
pub mod probe;
pub mod quirks;
pub mod schedule;
pub mod sync;
pub mod write;

pub use error::{Error, UsageError};
pub use machine::{Machine, Output, RequestId, ResponseLimit, TransportFailure};
pub use quirks::{InvalidSyncToken, QuirkProfile, WellKnown};
