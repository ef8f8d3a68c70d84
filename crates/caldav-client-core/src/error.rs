//! Errors, split by blame (STYLE.md): caller misuse ([`UsageError`]), a server that misbehaved,
//! the transport, and named outcomes a caller branches on.

use dav_xml::Condition;

use crate::machine::RequestId;

/// What went wrong in a machine's flow.
///
/// Named outcomes (`Unauthorized`, `NotFound`, `Precondition`) are what callers branch on; the
/// rest say who is to blame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server wants credentials (401). Retry with credentials for `realm`.
    #[error("unauthorized")]
    Unauthorized {
        /// The realm of the first `WWW-Authenticate` challenge, if any.
        realm: Option<String>,
    },
    /// The resource does not exist (404 or 410). Check the href; re-run discovery.
    #[error("not found: {href}")]
    NotFound {
        /// The request URL.
        href: String,
    },
    /// The server refused the request with a status and, where it sent one, a `DAV:error`
    /// body naming the failed pre- or postcondition (RFC 4918 §16, RFC 4791 §5.3.2.1).
    #[error("precondition failed ({status}) on {href}")]
    Precondition {
        /// The request URL.
        href: String,
        /// The HTTP status (403, 409, 412, 415, 507...).
        status: u16,
        /// The conditions of the `DAV:error` body, empty when there was none.
        conditions: Vec<Condition>,
    },
    /// An answer this flow cannot use (a status it did not expect). `retry_after` carries the
    /// server's `Retry-After` for 429 and 503 so that the driver can back off.
    #[error("unexpected status {status} on {href}")]
    Status {
        /// The request URL.
        href: String,
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header as sent.
        retry_after: Option<String>,
    },
    /// The server sent something that breaks the protocol (an unparsable body, a reply that
    /// contradicts itself). Report it; a retry will likely fail the same way.
    #[error("server misbehaved: {what}")]
    ServerMisbehaved {
        /// What it did.
        what: String,
    },
    /// The driver reported that a request could not be carried out.
    #[error("transport failed: {message}")]
    Transport {
        /// The driver's description.
        message: String,
    },
    /// A bound on untrusted input or on a loop was reached; see the machine's limits.
    #[error("limit exceeded: {what}")]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
    },
    /// A URL or href could not be turned into a request URI.
    #[error("invalid url: {url}")]
    InvalidUrl {
        /// The offending text.
        url: String,
    },
    /// Calendar data given by the caller is unusable (for example, a create without a UID).
    #[error("invalid calendar data: {reason}")]
    InvalidData {
        /// Why.
        reason: String,
    },
}

/// Misuse of a machine by its driver: never the server's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// The id names no request in flight (unknown, or already answered).
    #[error("unknown request id {0:?}")]
    UnknownId(RequestId),
    /// The machine already returned `Done`.
    #[error("machine is done")]
    Done,
}
