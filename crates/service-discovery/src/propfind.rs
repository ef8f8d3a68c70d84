//! The PROPFIND that confirms a context URL (RFC 4918 §9.1, RFC 5397 §3, RFC 6764 §6 step 4).
//!
//! ```text
//! PROPFIND /calendars HTTP/1.1
//! Depth: 0
//! Prefer: return=minimal
//!
//! <A:propfind xmlns:A="DAV:"><A:prop>
//!   <A:current-user-principal/> <A:principal-URL/> <A:resourcetype/>
//! </A:prop></A:propfind>
//! ```
//!
//! The body and the reading of the 207 answer live here, apart from the machine, because they
//! are the only XML the machine touches.

use bytes::Bytes;

/// What a 207 answer says about the user's principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PrincipalAnswer {
    /// A `DAV:current-user-principal` with this href, as sent.
    Principal(String),
    /// `DAV:current-user-principal` holding `DAV:unauthenticated` (RFC 5397 §3).
    Unauthenticated,
    /// No principal at all.
    Missing,
}

/// The PROPFIND body.
pub(crate) fn request_body() -> Bytes {
    Bytes::from_static(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<A:propfind xmlns:A=\"DAV:\">\n  <A:prop>\n    <A:current-user-principal/>\n    \
<A:principal-URL/>\n    <A:resourcetype/>\n  </A:prop>\n</A:propfind>\n",
    )
}

/// Reads the principal out of a 207 body.
pub(crate) fn read_principal(body: &[u8]) -> Result<PrincipalAnswer, String> {
    let _ = body;
    Err("multistatus decoding is not wired in yet".to_owned())
}
