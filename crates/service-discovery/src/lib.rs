//! CalDAV service discovery (RFC 6764) as a sans-IO state machine.
//!
//! From what a user types — `ken@example.com`, `example.com` or a URL — to the CalDAV context
//! URL and the user's principal, without touching a socket: the [`DiscoveryMachine`] says which
//! DNS lookup ([`Output::Dns`]) or HTTP request ([`Output::Http`]) to make next, and the caller
//! hands the answers back. It never blocks, sleeps, reads a clock, draws random numbers of its
//! own, or panics.
//!
//! **Feed once, then drain**: after creating the machine and after every `handle_*` call, call
//! [`DiscoveryMachine::poll`] until it returns [`Output::Wait`] or [`Output::Done`].
//!
//! # What it does
//!
//! | Step | Source |
//! |---|---|
//! | `_caldavs._tcp` SRV, then `_caldav._tcp` when plain http is allowed | RFC 6764 §3, §6 |
//! | targets by priority, then weight, with the caller's seed | RFC 2782 |
//! | a `.` target means "not offered" | RFC 2782 |
//! | TXT `path=` at the service name gives the context path | RFC 6764 §4 |
//! | `/.well-known/caldav` on each target, then on the domain; `/` after each | RFC 6764 §5, RFC 8615 |
//! | a URL input is tried first, then its origin's well-known URI and `/` | |
//! | 301/302/303/307/308 followed with a hop limit and loop detection, never https to http, cross-origin hops reported | RFC 9110 §15.4 |
//! | `.well-known` PROPFIND failing with 4xx retried with GET (servers that redirect only GET) | QUIRKS.md #1 |
//! | 401 stops with the realm; the caller attaches credentials and resumes, or skips | RFC 9110 §11.6.1 |
//! | 404, 405, 5xx and transport failures move on to the next candidate | |
//! | a PROPFIND Depth: 0 for `DAV:current-user-principal` confirms the context | RFC 5397, RFC 4918 §9.1 |
//! | a 207 without a principal is kept as a last resort unless credentials were attached | QUIRKS.md #2, #31 |
//! | the principal href keeps the request's scheme and port on the same host | QUIRKS.md #28 |
//! | every step is recorded in a trail with its verdict | |
//!
//! # Example
//!
//! A run against canned answers: no SRV records, and a server whose well-known URI redirects
//! to `/dav/`.
//!
//! ```
//! use bytes::Bytes;
//! use service_discovery::{DiscoveryMachine, DiscoveryOptions, DnsAnswer, Output};
//!
//! let mut machine = DiscoveryMachine::new("ken@example.com", DiscoveryOptions::default());
//! let discovered = loop {
//!     match machine.poll() {
//!         Output::Dns { id, query } => {
//!             // A real caller asks its resolver about `query.name`.
//!             machine.handle_dns(id, DnsAnswer::NxDomain).unwrap();
//!         }
//!         Output::Http { id, request } => {
//!             let response = match request.uri().path() {
//!                 "/.well-known/caldav" => http::Response::builder()
//!                     .status(301)
//!                     .header("location", "/dav/")
//!                     .body(Bytes::new()),
//!                 "/dav/" => http::Response::builder().status(207).body(Bytes::from_static(
//!                     br#"<multistatus xmlns="DAV:"><response><href>/dav/</href>
//!                         <propstat><prop><current-user-principal>
//!                           <href>/dav/principals/ken/</href>
//!                         </current-user-principal></prop>
//!                         <status>HTTP/1.1 200 OK</status></propstat>
//!                       </response></multistatus>"#,
//!                 )),
//!                 _ => http::Response::builder().status(404).body(Bytes::new()),
//!             }
//!             .unwrap();
//!             machine.handle_response(id, response).unwrap();
//!         }
//!         Output::Wait => unreachable!("one request at a time, always answered above"),
//!         Output::Done(result) => break result.unwrap(),
//!         _ => unreachable!(),
//!     }
//! };
//! assert_eq!(discovered.context, "https://example.com/dav/");
//! assert_eq!(discovered.principal.unwrap(), "https://example.com/dav/principals/ken/");
//! for attempt in &discovered.trail {
//!     println!("{attempt}");
//! }
//! ```
//!
//! # Limits
//!
//! [`DiscoveryOptions`] bounds everything a server or resolver controls: SRV records and TXT
//! strings considered, redirects per candidate, requests in all, the 207 body and header sizes.
//! Exceeding the request budget ends the run with [`Error::TooManyRequests`]; the others rule
//! the answer out and are recorded in the trail.
//!
//! Not done here: internationalised domain names (pass the A-label form), parallel requests (one
//! is in flight at a time), address lookups (the caller's HTTP stack resolves host names), and
//! authentication itself (the caller adds `Authorization`).

mod address;
pub mod dns;
mod machine;
mod propfind;
pub mod trail;
mod uri;

pub use address::Address;
pub use dns::{DnsAnswer, DnsFailure, DnsQuery, RecordKind, ServiceTarget, SrvRecord, TxtRecord};
pub use machine::{
    Discovered, DiscoveryMachine, DiscoveryOptions, Output, RequestId, TransportFailure,
    WELL_KNOWN_CALDAV,
};
pub use trail::{Acceptance, Attempt, Hop, RedirectRefusal, Rejection, Target, Verdict};

/// Everything that ends a discovery run without a context URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not an email address, domain or http(s) URL. Ask the user again.
    #[error("invalid address at byte {offset}: {reason}")]
    InvalidAddress {
        /// Byte offset in the input where the problem is.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The input is an `http://` URL and plain http is not allowed. Ask the user, then set
    /// [`DiscoveryOptions::allow_plain_http`].
    #[error("plain http not allowed for {url}")]
    PlainHttpNotAllowed {
        /// The URL given.
        url: http::Uri,
    },
    /// Credentials are needed at `url`. Attach them and call
    /// [`DiscoveryMachine::resume_with_credentials`], or call
    /// [`DiscoveryMachine::skip_unauthorized`] to try the next candidate.
    #[error("credentials needed for realm {}", realm.as_deref().unwrap_or("(none given)"))]
    Unauthorized {
        /// The URL that answered 401 (boxed to keep `Error` small).
        url: Box<http::Uri>,
        /// The realm of the first challenge that names one.
        realm: Option<String>,
        /// The `WWW-Authenticate` values, for the caller to pick a scheme.
        challenges: Vec<String>,
    },
    /// The domain's SRV records say it does not offer CalDAV (target `.`).
    #[error("{domain} does not offer caldav")]
    ServiceNotOffered {
        /// The domain searched.
        domain: String,
    },
    /// No candidate confirmed a context URL; the trail says why each was rejected.
    #[error("no caldav service found ({attempts} attempts)")]
    NotFound {
        /// How many attempts the trail holds.
        attempts: usize,
    },
    /// The run used [`DiscoveryOptions::max_requests`] without an answer.
    #[error("gave up after {limit} requests")]
    TooManyRequests {
        /// The budget.
        limit: usize,
    },
    /// The caller misused the machine.
    #[error(transparent)]
    Usage(#[from] UsageError),
}

/// Caller misuse of a [`DiscoveryMachine`]; the machine is unchanged when one is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// No request with this id is waiting for an answer.
    #[error("no request {id} is waiting for an answer")]
    UnknownId {
        /// The id given.
        id: RequestId,
    },
    /// A DNS answer for an HTTP request, an HTTP response for a lookup, or a record type the
    /// query did not ask for.
    #[error("the answer does not fit request {id}")]
    AnswerDoesNotFit {
        /// The id given.
        id: RequestId,
    },
    /// The run is over.
    #[error("the run is over; no answer for {id} is expected")]
    Finished {
        /// The id given.
        id: RequestId,
    },
    /// A resume or skip when the machine has not stopped on a 401.
    #[error("the machine is not waiting for credentials")]
    NotPausedForCredentials,
}
