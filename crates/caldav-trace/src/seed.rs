//! The project's seed trace, for tests across the workspace.
//!
//! The seed file is the CalConnect page "Bootstrapping a CalDAV client" followed, inside a
//! Markdown code fence, by a real Cyrus telemetry log of Apple CalendarAgent
//! (`Mac+OS+X/10.12.6 CalendarAgent/386`) talking to Cyrus: one session of 25 exchanges
//! (PROPFIND, PROPPATCH and REPORT). This module exists so that tests of every crate reach the
//! seed the same way; it is not meant for production use.
//!
//! # Example
//!
//! Every body of the seed is XML; here each is taken in the pieces the sockets delivered, as
//! a streaming decoder's test would feed them:
//!
//! ```
//! for exchange in caldav_trace::seed::exchanges()? {
//!     let response = exchange.response_pieces();
//!     for pieces in [exchange.request_pieces(), response] {
//!         let whole: Vec<u8> = pieces.concat();
//!         assert!(whole.starts_with(b"<?xml version=\"1.0\""));
//!     }
//! }
//! # Ok::<(), caldav_trace::Error>(())
//! ```
//!
//! What the copy preserves: no CR survives (every line end is LF) and 22 bodies are shorter
//! than their Content-Length; see the [crate docs](crate#what-a-log-preserves-and-the-seed).

use crate::{Error, Exchange, Trace};

/// The whole seed file: the Markdown page, then the log in a code fence.
///
/// Parse [`log`] rather than this: [`Trace::parse`] skips the page before the log (keeping it
/// as the preamble), but the closing fence after the log is data of the last chunk, and the
/// last response, being 4 bytes short of its Content-Length, would take ``\n``` `` into its body.
pub const SEED: &str = include_str!("../../../fixtures/seed/000_4100585a271ce1c6.txt");

/// The log alone: from the session header line to the end of the last chunk marker.
///
/// The Markdown page before the log and the code fence after it are cut off. The log's last
/// chunk (`>1506412268>`, an empty write 32 seconds after the last response) is followed in
/// the file by a line end and the closing fence; the line end is taken to belong to the
/// fence, since Markdown needs the fence on a line of its own, so the chunk is empty.
#[must_use]
pub fn log() -> &'static str {
    let start = crate::log::first_header(SEED.as_bytes()).unwrap_or(0);
    let body = SEED.get(start..).unwrap_or_default();
    match body.rfind("\n```") {
        Some(end) => body.get(..end).unwrap_or(body),
        None => body,
    }
}

/// The seed's log, parsed with the default configuration.
///
/// # Errors
///
/// None in practice: the crate's tests parse the seed. The `Result` is there because library
/// code here never panics.
pub fn trace() -> Result<Trace, Error> {
    Trace::parse(log())
}

/// The seed's exchanges, in order.
///
/// # Errors
///
/// As [`trace`].
pub fn exchanges() -> Result<Vec<Exchange>, Error> {
    trace().map(Trace::into_exchanges)
}
